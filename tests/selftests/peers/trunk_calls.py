#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Many calls over one SIP flow (alg_trunk_calls.sh): a trunk and a PBX.

  trunk_calls.py uas IP MEDIA_BASE
  trunk_calls.py uac IP PEER_IP PUBLIC_IP CALLS MEDIA_BASE SEED MEDIA_WAIT [keep]

uas answers on IP:5060: an INVITE with 200 and SDP offering audio at
IP:MEDIA_BASE+2k (k counts the calls it answered, a retransmission gets
the same answer), a BYE or anything else with 200; an ACK gets nothing.
Every datagram that reaches one of its media ports is sent back to where
it came from.

uac sends, from IP:5060 to PEER_IP:5060, CALLS INVITEs (call i offers
audio at IP:MEDIA_BASE+2i, but without keep call 1 the same as call 0:
they share its pinholes) each on its own Call-ID, and acknowledges each
200.  Then it ends the calls with BYE in an order drawn from SEED, and
after each BYE's 200:
  - lists the router's pinholes (`ip netns exec rtr conntrack -L expect`),
    as "dst:dport", and compares them with those of the calls still up:
    the RTP and RTCP of each offer, at PUBLIC_IP (the uac's address as the
    router's other side sees it) and the offered ports, and of each answer,
    at its c= address and m= port as the 200 arrived;
  - sends one datagram from the media port of the next call still up that
    has not had media yet to its answer's c=:m= and waits up to
    MEDIA_WAIT seconds for it to come back (that call's answer RTP pinhole
    is then used up: it is no longer expected).
One line per step on stdout:
  up N                         N calls were answered
  bye I pinholes ok|differ: missing=... extra=...
  media I ok|lost
  left N                       pinholes left after the last BYE
With keep, the calls stay up: uac prints "up N" and "pinholes N" (the
router's count) and exits, 0 if every call was answered.
The exit status is 0 when every call was answered, every list was as
expected, every media datagram came back and no pinhole was left.
"""
import random
import re
import select
import socket
import sys
import time

from sipmsg import header, message, pinholes, response, sdp

SIP_PORT = 5060


def uas(ip, base):
    sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sig.bind((ip, SIP_PORT))
    calls = {}
    media = []
    while True:
        ready, _, _ = select.select([sig] + media, [], [])
        for s in ready:
            data, src = s.recvfrom(65535)
            if s is not sig:
                s.sendto(data, src)
                continue
            if data.startswith(b"SIP/2.0") or not data.strip():
                continue
            method = data.split(b" ", 1)[0]
            if method == b"ACK":
                continue
            body, extra = b"", []
            if method == b"INVITE":
                cid = header(data, "Call-ID")
                if cid not in calls:
                    port = base + 2 * len(calls)
                    m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    m.bind((ip, port))
                    media.append(m)
                    calls[cid] = port
                body = sdp(ip, calls[cid], calls[cid])
                extra = ["Contact: <sip:pbx@%s:%d>" % (ip, SIP_PORT)]
            sig.sendto(response(data, 200, "OK", extra, body), src)


class Uac:
    def __init__(self, ip, peer, public):
        self.ip, self.peer, self.public = ip, (peer, SIP_PORT), public
        self.sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sig.bind((ip, SIP_PORT))
        self.branch = 0

    def request(self, method, call, cseq, body=b""):
        self.branch += 1
        hdrs = ["Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-%d;rport"
                % (self.ip, SIP_PORT, call["i"], self.branch),
                "Max-Forwards: 70",
                "From: <sip:trunk@%s>;tag=t%d" % (self.ip, call["i"]),
                "To: " + call.get("to", "<sip:pbx@%s>" % self.peer[0]),
                "Call-ID: " + call["id"], "CSeq: %d %s" % (cseq, method),
                "Contact: <sip:trunk@%s:%d>" % (self.ip, SIP_PORT)]
        return message("%s sip:pbx@%s:%d SIP/2.0"
                       % (method, self.peer[0], SIP_PORT), hdrs, body)

    def transact(self, msg, call, cseq):
        """Send until the final response to CSeq cseq of call arrives."""
        want = "%d " % cseq
        for _ in range(5):
            self.sig.sendto(msg, self.peer)
            end = time.monotonic() + 3
            while time.monotonic() < end:
                r, _, _ = select.select([self.sig], [], [],
                                        end - time.monotonic())
                if not r:
                    break
                data, _ = self.sig.recvfrom(65535)
                if (data.startswith(b"SIP/2.0 2") and
                        header(data, "Call-ID") == call["id"] and
                        header(data, "CSeq").startswith(want)):
                    return data
        return None


def uac(ip, peer, public, n, base, seed, media_wait, keep):
    u = Uac(ip, peer, public)
    calls = []
    media = {}
    for i in range(n):
        call = {"i": i, "id": "trunk-%d-%08x@%s" % (i, seed, ip),
                "port": base + 2 * (0 if i == 1 and not keep else i)}
        ok = u.transact(u.request("INVITE", call, 1,
                                  sdp(ip, call["port"], i + 1)), call, 1)
        if not ok:
            break
        call["to"] = header(ok, "To")
        body = ok.split(b"\r\n\r\n", 1)[1].decode(errors="replace")
        c = re.search(r"^c=IN IP4 (\S+)", body, re.M)
        m = re.search(r"^m=audio (\d+)", body, re.M)
        call["answer"] = (c.group(1), int(m.group(1))) if c and m else None
        u.sig.sendto(u.request("ACK", call, 1), u.peer)
        if call["port"] not in media:
            ms = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            ms.bind((ip, call["port"]))
            media[call["port"]] = ms
        call["media"] = media[call["port"]]
        call["used"] = False
        calls.append(call)
    print("up %d" % len(calls), flush=True)
    good = len(calls) == n
    if keep:
        print("pinholes %d" % len(pinholes()), flush=True)
        return 0 if good else 1
    order = list(range(len(calls)))
    random.Random(seed).shuffle(order)
    up = {c["i"]: c for c in calls}
    for i in order:
        call = up.pop(i)
        if not u.transact(u.request("BYE", call, 2), call, 2):
            print("bye %d no 200" % i, flush=True)
            good = False
            continue
        want = set()
        for c in up.values():
            want |= {"%s:%d" % (public, c["port"]),
                     "%s:%d" % (public, c["port"] + 1)}
            if c["answer"]:
                a, p = c["answer"]
                if not c["used"]:
                    want.add("%s:%d" % (a, p))
                want.add("%s:%d" % (a, p + 1))
        got = pinholes()
        if got == want:
            print("bye %d pinholes ok (%d)" % (i, len(got)), flush=True)
        else:
            good = False
            print("bye %d pinholes differ: %d expected, %d listed, missing=%s "
                  "extra=%s" % (i, len(want), len(got),
                                ",".join(sorted(want - got)[:6]),
                                ",".join(sorted(got - want)[:6])), flush=True)
        nxt = [c for c in up.values() if not c["used"] and c["answer"]]
        if nxt:
            c = nxt[0]
            c["used"] = True
            c["media"].sendto(b"rtp-%d" % c["i"], c["answer"])
            r, _, _ = select.select([c["media"]], [], [], media_wait)
            ok = bool(r) and c["media"].recv(2048) == b"rtp-%d" % c["i"]
            print("media %d %s" % (c["i"], "ok" if ok else "lost"), flush=True)
            good = good and ok
    left = pinholes()
    print("left %d %s" % (len(left), ",".join(sorted(left)[:6])), flush=True)
    return 0 if good and not left else 1


def main():
    if sys.argv[1] == "uas":
        uas(sys.argv[2], int(sys.argv[3]))
        return 0
    ip, peer, public, n, base, seed, wait = sys.argv[2:9]
    return uac(ip, peer, public, int(n), int(base), int(seed), float(wait),
               sys.argv[9:] == ["keep"])


if __name__ == "__main__":
    sys.exit(main())
