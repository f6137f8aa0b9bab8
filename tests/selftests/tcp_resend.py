#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Segments sent again through a rewriting router, on one TCP connection.

  tcp_resend.py PHONE PORT PEER PUBLIC

Run by alg_tcp_resend.sh in the VM: the phone (PHONE:PORT, in namespace
lan) writes to the peer (PEER:5060, in wan) through rtr, which masquerades
it to PUBLIC and rewrites with sipalg (every rewrite changes the stream's
length).  Each step is one write, one TCP segment (no-delay), and waits for
its acknowledgment unless it says otherwise:

  1. an INVITE's header section and the first half of its SDP;
  2. the rest of the SDP and an OPTIONS; then that segment again, as it
     was (a retransmission of the last segment, which begins inside a
     message);
  3. an INFO; then segments 2 and 3 again, joined in one (an older
     segment sent again with its successor, both acknowledged);
  4. an OPTIONS that the peer's namespace drops as it comes in (until it
     is sent again), and at once a MESSAGE: two rewrites in flight, the
     first of them to be sent again after the second.

The peer must read the INVITE as sent and every other message as
`sipalgctl rewrite --tcp` predicts, once each, and nothing else.  Prints
"ok DESC" / "not ok DESC" and "# diagnostics".
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_traffic import (SLOW, Frames, Oracle, first_difference,  # noqa: E402
                             sock_in, wait_acked)

# seconds for the stream (a segment dropped in step 4 comes again), times
# lib.sh's SELFTEST_SLOW
WAIT = 10 * SLOW


def request(method, me, n, sdp=False):
    body = b""
    if sdp:
        host = me.split(":")[0].encode()
        body = b"".join(line + b"\r\n" for line in (
            b"v=0", b"o=phone 1 1 IN IP4 " + host, b"s=-", b"c=IN IP4 " + host,
            b"t=0 0", b"m=audio 16000 RTP/AVP 0 8 101", b"a=rtpmap:0 PCMU/8000",
            b"a=rtpmap:8 PCMA/8000", b"a=rtpmap:101 telephone-event/8000",
            b"a=fmtp:101 0-15", b"a=sendrecv"))
    head = [b"%s sip:peer@203.0.113.2 SIP/2.0" % method,
            b"Via: SIP/2.0/TCP %s;branch=z9hG4bK-resend-%d;rport" % (me.encode(), n),
            b"Max-Forwards: 70", b"From: <sip:phone@example.com>;tag=%d" % n,
            b"To: <sip:peer@example.com>", b"Call-ID: resend-%d@example.com" % n,
            b"CSeq: %d %s" % (n, method), b"Contact: <sip:phone@%s;transport=tcp>" % me.encode()]
    if sdp:
        head.append(b"Content-Type: application/sdp")
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def wan_drops_options(on):
    """The peer's namespace drops every TCP segment that begins with an
    OPTIONS (on), or no more."""
    nft = ["ip", "netns", "exec", "wan", "nft"]
    if on:
        rules = ("add table inet resend\n"
                 "add chain inet resend in { type filter hook prerouting priority -300; }\n"
                 "add rule inet resend in tcp dport 5060 @ih,0,64 0x4f5054494f4e5320 drop\n")
        subprocess.run(nft + ["-f", "-"], input=rules.encode(), check=True)
    else:
        subprocess.run(nft + ["delete", "table", "inet", "resend"], check=True)


def main(argv):
    phone_ip, port, peer_ip, public_ip = argv[1], int(argv[2]), argv[3], argv[4]
    me = "%s:%d" % (phone_ip, port)
    listener = sock_in("wan", socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((peer_ip, 5060))
    listener.listen(1)
    listener.settimeout(WAIT)
    frames = Frames("lan", 4, port)
    phone = sock_in("lan", socket.AF_INET, socket.SOCK_STREAM)
    phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    phone.bind((phone_ip, port))
    phone.settimeout(WAIT)
    phone.connect((peer_ip, 5060))
    peer, public = listener.accept()
    if public[0] != public_ip:
        print("not ok the phone appears as %s, not %s" % (public[0], public_ip))
        return 1
    oracle = Oracle((phone_ip, port), public[:2], "rewrite")

    invite = request(b"INVITE", me, 1, sdp=True)
    msgs = [invite, request(b"OPTIONS", me, 2), request(b"INFO", me, 3),
            request(b"OPTIONS", me, 4), request(b"MESSAGE", me, 5)]
    half = len(invite) - 120
    writes = [invite[:half], invite[half:] + msgs[1], msgs[2], msgs[3], msgs[4]]
    want = invite
    for m in msgs[1:]:
        ok, out, reason = oracle.predict(m, tcp=True)
        if not ok or out == m:
            print("not ok the oracle does not rewrite %r: %s" % (m[:40], reason))
            return 1
        want += out

    frames.sent()
    sent = []
    for i, w in enumerate(writes):
        if i == 3:
            wan_drops_options(True)
        phone.sendall(w)
        if i == 3:
            continue    # step 4: the next one at once
        if i == 4:
            time.sleep(0.5)
            wan_drops_options(False)
        if not wait_acked(phone):
            print("# write %d was not acknowledged" % (i + 1))
        sent += frames.sent()
        if i == 1:
            frames.resend(sent[-1])
        elif i == 2:
            frames.resend(frames.rebuild(sent[-1], frames.payload(sent[-2]) +
                                         frames.payload(sent[-1]), frames.seq(sent[-2])))
    got = b""
    peer.settimeout(WAIT)
    while len(got) < len(want):
        try:
            data = peer.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            print("# the connection was reset (the stream went out of step)")
            break
        if not data:
            break
        got += data
    # Anything more (a resent segment's bytes taken twice) would come now.
    peer.settimeout(2 * SLOW)
    try:
        got += peer.recv(65536)
    except (socket.timeout, ConnectionResetError):
        pass
    ok = got == want
    if not ok:
        print("# " + first_difference(want, got))
    print("%s the peer reads each message once, the INVITE as sent, the others "
          "rewritten, after segments sent again and two rewrites in flight" % (
              "ok" if ok else "not ok"))
    for s in (phone, peer, listener):
        s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
