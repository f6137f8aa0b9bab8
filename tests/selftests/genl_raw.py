#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one raw request to the sipalg generic netlink family, bypassing
sipalgctl's own checks, and print the kernel's answer as one JSON object:

  {"error": 0 or -errno, "extack": "msg" or null, "bad_attr": true/false,
   "missing_attr": N or null, "replies": [{"cmd": N, "attrs": {TYPE: value}}]}

Usage: genl_raw.py CMD [TYPE:KIND=VALUE ...] [--dump]
  CMD   a number (enum sipalg_cmd)
  KIND  u8, u32, flag (no =VALUE), str
Attribute values in replies are printed as strings when they look like one
(printable, NUL-terminated), else as integers when they are 1, 2, 4 or 8
bytes long, else as hex; nests are not decoded (hex).  Used by ctl_netlink.sh to send what the CLI never sends.
"""
import json
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
SOL_NETLINK, NETLINK_EXT_ACK, NETLINK_CAP_ACK = 270, 11, 10
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_MISS_TYPE = 1, 2, 5


def attr(atype, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, atype) + payload + b"\0" * ((4 - n % 4) % 4)


def attrs(buf):
    out, off = [], 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("HH", buf, off)
        if n < 4:
            break
        out.append((t & 0x3FFF, buf[off + 4:off + n]))
        off += (n + 3) & ~3
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.settimeout(20)
        self.seq = 0

    def request(self, family, cmd, payload, flags):
        self.seq += 1
        body = struct.pack("BBH", cmd, 1, 0) + payload
        msg = struct.pack("IHHII", 16 + len(body), family, flags, self.seq, 0) + body
        self.s.send(msg)
        replies, result = [], None
        while result is None:
            data = self.s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                n, typ, fl, _seq, _pid = struct.unpack_from("IHHII", data, off)
                msg = data[off:off + n]
                off += (n + 3) & ~3
                if typ == NLMSG_DONE:
                    result = {"error": 0}
                elif typ == NLMSG_ERROR:
                    err = struct.unpack_from("i", msg, 16)[0]
                    result = {"error": err, "extack": None, "bad_attr": False,
                              "missing_attr": None}
                    if fl & NLM_F_ACK_TLVS:
                        # CAP_ACK: the echoed request is only its header
                        inner = struct.unpack_from("I", msg, 20)[0]
                        tlv = 16 + 4 + (16 if fl & 0x100 else inner)
                        for t, v in attrs(msg[tlv:]):
                            if t == NLMSGERR_ATTR_MSG:
                                result["extack"] = v.rstrip(b"\0").decode()
                            elif t == NLMSGERR_ATTR_OFFS:
                                result["bad_attr"] = True
                            elif t == NLMSGERR_ATTR_MISS_TYPE:
                                result["missing_attr"] = struct.unpack("I", v)[0]
                else:
                    replies.append({"cmd": msg[16], "raw": dict(attrs(msg[20:]))})
        result["replies"] = replies
        return result

    def family(self, name):
        r = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                         attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"),
                         NLM_F_REQUEST | NLM_F_ACK)
        if r["error"]:
            return None
        # By type, not by look: an id such as 0x41 would pass for "A\0".
        return struct.unpack("H", r["replies"][0]["raw"][CTRL_ATTR_FAMILY_ID][:2])[0]


def decode(v):
    if len(v) >= 2 and v.endswith(b"\0") and all(32 < c < 127 for c in v[:-1]):
        return v[:-1].decode()
    if len(v) in (1, 2, 4, 8):
        return int.from_bytes(v, sys.byteorder)
    return v.hex()


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    g = Genl()
    fam = g.family("sipalg")
    if fam is None:
        print(json.dumps({"error": -2, "extack": "family sipalg not found"}))
        return 1
    flags = NLM_F_REQUEST | NLM_F_ACK
    payload = b""
    for a in argv[2:]:
        if a == "--dump":
            flags |= NLM_F_DUMP
            continue
        spec, _, val = a.partition("=")
        t, _, kind = spec.partition(":")
        t = int(t)
        if kind == "u8":
            payload += attr(t, struct.pack("B", int(val)))
        elif kind == "u32":
            payload += attr(t, struct.pack("I", int(val)))
        elif kind == "flag":
            payload += attr(t, b"")
        elif kind == "str":
            payload += attr(t, val.encode() + b"\0")
        else:
            print(f"bad attribute {a}", file=sys.stderr)
            return 2
    try:
        r = g.request(fam, int(argv[1]), payload, flags)
    except socket.timeout:
        print(json.dumps({"error": "timeout", "extack": None}))
        return 1
    for reply in r["replies"]:
        reply["attrs"] = {t: decode(v) for t, v in reply.pop("raw").items()}
    print(json.dumps(r))
    return 0 if r["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
