#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What conntrack(8) does not print, read from ctnetlink (ha_failover.sh).

  ct_nl.py ct      each flow: protocol, ports, status bits, and its TCP
                   sequence adjustment (CTA_SEQ_ADJ_*) when it has one
  ct_nl.py expect  each expectation: port, class, its function's name
                   (CTA_EXPECT_FN) and where its NAT delivers (CTA_EXPECT_NAT)
  ct_nl.py create SRC DST SPORT DPORT PUBLIC PORT PRIVATE HELPER
                   create, as conntrackd's commit does, an expectation of
                   class 1 on the UDP flow SRC:SPORT -> DST:DPORT for
                   PUBLIC:PORT, delivered to PRIVATE:PORT by the function
                   named HELPER; prints the kernel's answer
"""
import os
import socket
import struct
import sys

NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2


def attrs(buf):
    out = {}
    while len(buf) >= 4:
        alen, atype = struct.unpack_from("HH", buf)
        if alen < 4:
            break
        out[atype & 0x3fff] = buf[4:alen]
        buf = buf[(alen + 3) & ~3:]
    return out


def dump(msgtype):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    req = struct.pack("IHHII", 20, msgtype, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.send(req + struct.pack("BBH", socket.AF_INET, 0, 0))
    while True:
        data = s.recv(65536)
        while data:
            mlen, mtype = struct.unpack_from("IH", data)
            if mtype in (NLMSG_DONE, NLMSG_ERROR):
                return
            yield attrs(data[20:mlen])
            data = data[(mlen + 3) & ~3:]


def ports(tuple_attr):
    proto = attrs(attrs(tuple_attr).get(2, b""))
    num = proto.get(1, b"\0")[0]
    sport = struct.unpack(">H", proto[2])[0] if 2 in proto else 0
    dport = struct.unpack(">H", proto[3])[0] if 3 in proto else 0
    return num, sport, dport


def addr(tuple_attr):
    ip = attrs(attrs(tuple_attr).get(1, b""))
    return socket.inet_ntoa(ip[1]) if 1 in ip else "?"


def seqadj(a):
    s = attrs(a)
    return "pos=%d before=%d after=%d" % tuple(
        struct.unpack(">i", s.get(k, b"\0\0\0\0"))[0] for k in (1, 2, 3))


def nla(atype, payload, nested=False):
    hdr = struct.pack("HH", 4 + len(payload), atype | (0x8000 if nested else 0))
    return hdr + payload + b"\0" * (-len(payload) % 4)


def tuple_attr(atype, src, dst, sport, dport):
    ip = nla(1, socket.inet_aton(src)) + nla(2, socket.inet_aton(dst))
    proto = (nla(1, bytes([17])) + nla(2, struct.pack(">H", sport)) +
             nla(3, struct.pack(">H", dport)))
    return nla(atype, nla(1, ip, True) + nla(2, proto, True), True)


def create(src, dst, sport, dport, public, port, private, helper):
    name = helper.encode() + b"\0"
    body = (tuple_attr(1, src, dst, int(sport), int(dport)) +
            tuple_attr(2, "0.0.0.0", public, 0, int(port)) +
            tuple_attr(3, "0.0.0.0", "255.255.255.255", 0, 0xffff) +
            nla(4, struct.pack(">I", 60)) + nla(9, struct.pack(">I", 1)) +
            nla(6, name) +
            nla(10, nla(1, struct.pack(">I", 1)) +
                tuple_attr(2, private, "0.0.0.0", int(port), 0), True) +
            nla(11, name))
    msg = struct.pack("BBH", socket.AF_INET, 0, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    s.send(struct.pack("IHHII", 16 + len(msg), 2 << 8,
                       1 | 4 | 0x400 | 0x200, 1, 0) + msg)
    err = struct.unpack_from("i", s.recv(65536), 16)[0]
    print("create: %s" % (os.strerror(-err) if err else "ok"))


def main():
    if sys.argv[1] == "create":
        create(*sys.argv[2:10])
        return
    if sys.argv[1] == "ct":
        for ct in dump((1 << 8) | 1):
            num, sport, dport = ports(ct[1])
            status = struct.unpack(">I", ct[3])[0] if 3 in ct else 0
            line = "proto=%d sport=%d dport=%d status=%#x" % (
                num, sport, dport, status)
            for k, name in ((15, "seqadj-orig"), (16, "seqadj-reply")):
                if k in ct:
                    line += " %s(%s)" % (name, seqadj(ct[k]))
            print(line)
        return
    for exp in dump((2 << 8) | 1):
        _, _, dport = ports(exp[2])
        line = "dport=%d class=%d fn=%s" % (
            dport, struct.unpack(">I", exp[9])[0] if 9 in exp else -1,
            exp[11].rstrip(b"\0").decode() if 11 in exp else "none")
        if 10 in exp:
            nat = attrs(exp[10])
            _, sport, _ = ports(nat[2]) if 2 in nat else (0, 0, 0)
            line += " nat-to=%s:%d" % (addr(nat[2]) if 2 in nat else "?", sport)
        else:
            line += " nat=none"
        print(line)


if __name__ == "__main__":
    main()
