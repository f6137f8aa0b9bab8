#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that kmod/uapi/sipalg.yaml and kmod/uapi/linux/sipalg_genl.h say
the same: every name the spec defines has the spec's value in the header
(compiled and run with the C compiler).  Prints the mismatches; exit 1 on
any.  Usage: uapi_spec_check.py REPO"""
import os
import subprocess
import sys
import tempfile

import yaml


def c_name(s):
    return s.upper().replace("-", "_")


def checks(spec):
    out = []  # (C expression, expected value)
    out.append(("SIPALG_GENL_VERSION", spec.get("version", 1)))
    for d in spec.get("definitions", []):
        if d["type"] == "const":
            out.append((c_name(spec["name"] + "-" + d["name"]), d["value"]))
        elif d["type"] == "enum":
            prefix = d.get("name-prefix", spec["name"] + "-" + d["name"] + "-")
            v = d.get("value-start", 0)
            for e in d["entries"]:
                e = e if isinstance(e, dict) else {"name": e}
                v = e.get("value", v)
                out.append((c_name(prefix + e["name"]), v))
                v += 1
            if d.get("render-max"):
                out.append((c_name(prefix + "max"), v - 1))
    for s in spec["attribute-sets"]:
        v = 0
        for a in s["attributes"]:
            v = a.get("value", v)
            out.append((c_name(s["name-prefix"] + a["name"]), v))
            v += 1
        if "attr-max-name" in s:
            out.append((c_name(s["attr-max-name"]), v - 1))
        if "attr-cnt-name" in s:
            out.append((c_name(s["attr-cnt-name"]), v))
    ops = spec["operations"]
    v = 1
    for o in ops["list"]:
        v = o.get("value", v)
        out.append((c_name(ops["name-prefix"] + o["name"]), v))
        v += 1
    return out


def main(repo):
    spec = yaml.safe_load(open(os.path.join(repo, "kmod/uapi/sipalg.yaml")))
    lines = ['#include <stdio.h>', '#include <string.h>',
             '#include <linux/sipalg_genl.h>', 'int main(void)', '{',
             '\tint bad = 0;',
             f'\tif (strcmp(SIPALG_GENL_NAME, "{spec["name"]}")) {{ puts("SIPALG_GENL_NAME"); bad = 1; }}']
    for name, value in checks(spec):
        lines.append(f'\tif ((long)({name}) != {value}L) {{ printf("{name} is %ld, the spec says {value}\\n", (long)({name})); bad = 1; }}')
    lines += ['\treturn bad;', '}']
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "c.c"), os.path.join(tmp, "c")
        open(src, "w").write("\n".join(lines) + "\n")
        cc = subprocess.run(["cc", "-I", os.path.join(repo, "kmod/uapi"), "-o", exe, src],
                            capture_output=True, text=True)
        if cc.returncode:
            # an unknown name is a compile error: the header lacks it
            print(cc.stderr)
            return 1
        r = subprocess.run([exe])
        if r.returncode == 0:
            print(f"{len(checks(spec))} names agree")
        return r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
