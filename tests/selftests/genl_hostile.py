#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed requests to the sipalg generic netlink family, raw.

  genl_hostile.py malformed      (with CAP_NET_ADMIN)
  genl_hostile.py unprivileged   (without it: capsh --drop=cap_net_admin)

Run in rtr's namespace with sipalg enabled on wan0 (alg_hostile.sh).  Each
request must be refused (a negative errno) and leave the interface table
and the counters as they were (dumped before and after each); `malformed`
requests must also carry an extended-ACK message.  `unprivileged` sends
every command that changes something, well formed: each is refused with
EPERM (the genetlink core checks GENL_UNS_ADMIN_PERM before the module
sees the request, and gives no message), and the reading ones still work.
Prints one line per request; exit status 1 if any was not refused.
"""
import socket
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from genl_raw import Genl, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, attr  # noqa: E402

# kmod/uapi/linux/sipalg_genl.h
IFACE_SET, IFACE_DEL, IFACE_GET, STATS_GET, STATS_RESET = 1, 2, 3, 4, 5
A_IFINDEX, A_IFNAME, A_ENABLED, A_MODE, A_MALFORMED = 2, 3, 4, 5, 6
A_FLUSH, A_STATS, A_FLUSHED_FLOWS = 7, 8, 9
EPERM = 1


def u8(t, v):
    return attr(t, struct.pack("B", v))


def u16(t, v):
    return attr(t, struct.pack("H", v))


def u32(t, v):
    return attr(t, struct.pack("I", v))


def u64(t, v):
    return attr(t, struct.pack("Q", v))


def malformed_requests(wan0, lan0):
    """(what, command, attributes): each must be refused."""
    ifx = u32(A_IFINDEX, wan0)
    return [
        ("IFINDEX as u8", IFACE_SET, u8(A_IFINDEX, wan0)),
        ("IFINDEX as u16", IFACE_SET, u16(A_IFINDEX, wan0)),
        ("IFINDEX as u64", IFACE_SET, u64(A_IFINDEX, wan0)),
        ("IFINDEX empty", IFACE_SET, attr(A_IFINDEX, b"")),
        ("IFINDEX as a string", IFACE_SET, attr(A_IFINDEX, b"wan0\0")),
        ("MODE as u32", IFACE_SET, ifx + u32(A_MODE, 1)),
        ("MODE empty", IFACE_SET, ifx + attr(A_MODE, b"")),
        ("ENABLED as u16", IFACE_SET, ifx + u16(A_ENABLED, 0)),
        ("MALFORMED as u32", IFACE_SET, ifx + u32(A_MALFORMED, 1)),
        ("FLUSH flag with a payload", IFACE_DEL, ifx + u32(A_FLUSH, 1)),
        ("SET without IFINDEX", IFACE_SET, u8(A_MODE, 1)),
        ("SET with no attribute", IFACE_SET, b""),
        ("DEL without IFINDEX", IFACE_DEL, attr(A_FLUSH, b"")),
        ("GET without IFINDEX (not a dump)", IFACE_GET, b""),
        ("IFINDEX twice, two interfaces", IFACE_SET, ifx + u32(A_IFINDEX, lan0)),
        ("MODE twice", IFACE_SET, ifx + u8(A_MODE, 1) + u8(A_MODE, 0)),
        ("MALFORMED twice", IFACE_SET, ifx + u8(A_MALFORMED, 1) + u8(A_MALFORMED, 1)),
        ("DEL with IFINDEX twice", IFACE_DEL, ifx + u32(A_IFINDEX, lan0)),
        ("unknown ifindex", IFACE_SET, u32(A_IFINDEX, 99999)),
        ("ifindex 0", IFACE_SET, u32(A_IFINDEX, 0)),
        ("ifindex -1", IFACE_SET, u32(A_IFINDEX, 0xFFFFFFFF)),
        ("DEL unknown ifindex", IFACE_DEL, u32(A_IFINDEX, 99999)),
        ("DEL ifindex 0 with FLUSH", IFACE_DEL, u32(A_IFINDEX, 0) + attr(A_FLUSH, b"")),
        ("DEL unknown ifindex with FLUSH", IFACE_DEL, u32(A_IFINDEX, 99999) + attr(A_FLUSH, b"")),
        ("DEL an interface not configured", IFACE_DEL, u32(A_IFINDEX, lan0)),
        ("GET unknown ifindex", IFACE_GET, u32(A_IFINDEX, 99999)),
        ("STATS_GET unknown ifindex", STATS_GET, u32(A_IFINDEX, 99999)),
        ("STATS_RESET unknown ifindex", STATS_RESET, u32(A_IFINDEX, 99999)),
        ("STATS_RESET ifindex 0", STATS_RESET, u32(A_IFINDEX, 0)),
        ("MODE 2", IFACE_SET, ifx + u8(A_MODE, 2)),
        ("MODE 255", IFACE_SET, ifx + u8(A_MODE, 255)),
        ("MALFORMED 2", IFACE_SET, ifx + u8(A_MALFORMED, 2)),
        ("ENABLED 2", IFACE_SET, ifx + u8(A_ENABLED, 2)),
        ("a valid MODE, then MALFORMED out of range", IFACE_SET,
         ifx + u8(A_MODE, 1) + u8(A_MALFORMED, 7)),
        ("a reply-only attribute (IFNAME)", IFACE_SET, ifx + attr(A_IFNAME, b"wan0\0")),
        ("a reply-only attribute (STATS)", STATS_RESET, attr(A_STATS, b"")),
        ("a reply-only attribute (FLUSHED_FLOWS)", IFACE_DEL, ifx + u32(A_FLUSHED_FLOWS, 1)),
        ("an attribute type past the last", IFACE_SET, ifx + u8(200, 1)),
        ("attribute type 0", IFACE_SET, ifx + u8(0, 1)),
        ("an attribute longer than the message", IFACE_SET,
         struct.pack("HH", 64, A_IFINDEX) + struct.pack("I", wan0)),
        ("an attribute shorter than its header", IFACE_SET, ifx + struct.pack("HH", 2, A_MODE)),
    ]


def unprivileged_requests(wan0, lan0):
    ifx = u32(A_IFINDEX, wan0)
    return [
        ("IFACE_SET of a configured interface", IFACE_SET, ifx + u8(A_MODE, 1)),
        ("IFACE_SET of a new interface", IFACE_SET, u32(A_IFINDEX, lan0)),
        ("IFACE_SET disabling", IFACE_SET, ifx + u8(A_ENABLED, 0)),
        ("IFACE_DEL", IFACE_DEL, ifx),
        ("IFACE_DEL with FLUSH", IFACE_DEL, ifx + attr(A_FLUSH, b"")),
        ("STATS_RESET", STATS_RESET, b""),
        ("STATS_RESET of an interface", STATS_RESET, ifx),
    ]


def state(g, fam, wan0):
    """The interface table and the counters (namespace's and wan0's)."""
    out = []
    for cmd, payload, flags in ((IFACE_GET, b"", NLM_F_DUMP),
                                (STATS_GET, b"", 0),
                                (STATS_GET, u32(A_IFINDEX, wan0), 0)):
        r = g.request(fam, cmd, payload, NLM_F_REQUEST | NLM_F_ACK | flags)
        if r["error"]:
            raise RuntimeError("cannot read the state: %s" % r)
        out.append(sorted(sorted(x["raw"].items()) for x in r["replies"]))
    return out


def main(argv):
    privileged = argv[1:] == ["malformed"]
    if not privileged and argv[1:] != ["unprivileged"]:
        print(__doc__, file=sys.stderr)
        return 2
    wan0, lan0 = socket.if_nametoindex("wan0"), socket.if_nametoindex("lan0")
    g = Genl()
    fam = g.family("sipalg")
    if fam is None:
        print("family sipalg not found")
        return 1
    reqs = (malformed_requests if privileged else unprivileged_requests)(wan0, lan0)
    bad = 0
    before = state(g, fam, wan0)
    for what, cmd, payload in reqs:
        try:
            r = g.request(fam, cmd, payload, NLM_F_REQUEST | NLM_F_ACK)
        except socket.timeout:
            r = {"error": "timeout", "extack": None}
        after = state(g, fam, wan0)
        problems = []
        if not isinstance(r["error"], int) or r["error"] >= 0:
            problems.append("accepted")
        if privileged and not r.get("extack"):
            problems.append("no extack message")
        if not privileged and r["error"] != -EPERM:
            problems.append("not EPERM")
        if after != before:
            problems.append("the state changed")
            before = after
        print("%s: cmd %d: error %s, extack %r%s" % (
            what, cmd, r["error"], r.get("extack"),
            ": " + ", ".join(problems) if problems else ""))
        bad += bool(problems)
    if not privileged:
        for cmd, payload, flags in ((IFACE_GET, u32(A_IFINDEX, wan0), 0),
                                    (IFACE_GET, b"", NLM_F_DUMP), (STATS_GET, b"", 0)):
            r = g.request(fam, cmd, payload, NLM_F_REQUEST | NLM_F_ACK | flags)
            print("reading, cmd %d%s: error %d, %d replies" % (
                cmd, " (dump)" if flags else "", r["error"], len(r["replies"])))
            bad += r["error"] != 0 or not r["replies"]
    print("%d requests, %d not refused as they must be" % (len(reqs), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
