#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Talks to `sipalgctl reflect` the way an attacker or a careless client
# would, with the wire format written from its description in
# userspace/probe_wire.h (HMAC-SHA256 from Python's own library, so the
# reflector's hand-written SHA-256 is checked against another one):
#
#   reflect_client.py SERVER PORT TOKEN CHECK
#     tokens   a request with no header, one with a wrong token and one with
#              a valid token: only the last is answered
#     sizes    valid requests of 200 to 16000 bytes over UDP and TCP: each
#              reply is at most 512 bytes longer than its request; a
#              request over 16384 bytes and a callback over 600 s are not
#              answered
#     flood    N valid requests as fast as possible from one source: the
#              replies are at most the burst plus the rate over the time
# Prints what it measured; exit status 1 when the check fails.
import hashlib
import hmac
import os
import socket
import sys
import time

OVERHEAD = 512
BURST, RATE = 60, 20

server, port, token, check = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]


def header(key, callbacks="-"):
    nonce = os.urandom(16).hex()
    mac = hmac.new(key, ("sipalg-probe/1 %s %s" % (nonce, callbacks)).encode(),
                   hashlib.sha256).hexdigest()
    return "X-Sipalg-Probe: 1 %s %s %s\r\n" % (nonce, callbacks, mac)


def request(size, hdr):
    head = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n"
            "From: <sip:c@192.0.2.9>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: c@192.0.2.9\r\n"
            "CSeq: 1 OPTIONS\r\n%s" % (server, server, hdr))
    pad = max(0, size - len(head) - 40)
    msg = head + "X-Pad: %s\r\nContent-Length: 0\r\n\r\n" % ("p" * pad)
    return msg.encode()


def udp_ask(msg, wait=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.sendto(msg, (server, port))
    try:
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def tcp_ask(msg, wait=2.0):
    s = socket.create_connection((server, port), timeout=wait)
    s.sendall(msg)
    got = b""
    try:
        while True:
            part = s.recv(65535)
            if not part:
                break
            got += part
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return got
    except socket.timeout:
        pass
    finally:
        s.close()
    return got or None


def tokens():
    ok = True
    for name, hdr, want in (("no header", "", False),
                            ("wrong token", header(b"not-the-token"), False),
                            ("valid token", header(token), True)):
        got = udp_ask(request(300, hdr))
        print("%s: %s" % (name, "answered (%d bytes)" % len(got) if got else "no answer"))
        ok &= (got is not None) == want
    return ok


def sizes():
    ok = True
    for size in (200, 1400, 4000, 16000):
        for tp, ask in (("UDP", udp_ask), ("TCP", tcp_ask)):
            msg = request(size, header(token))
            got = ask(msg)
            if got is None:
                print("%s %d bytes: no answer" % (tp, len(msg)))
                ok = False
                continue
            print("%s request %d bytes, reply %d bytes (%+d)" %
                  (tp, len(msg), len(got), len(got) - len(msg)))
            ok &= len(got) <= len(msg) + OVERHEAD
    for what, msg in (("a request of 17000 bytes", request(17000, header(token))),
                      ("a callback after 600001 ms", request(300, header(token, "600001")))):
        got = udp_ask(msg)
        print("%s: %s" % (what, "answered" if got else "no answer"))
        ok &= got is None
    return ok


def flood(n=int(sys.argv[5]) if len(sys.argv) > 5 else 400):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, port))
    s.setblocking(False)
    start = time.monotonic()
    replies = 0
    for _ in range(n):
        s.send(request(200, header(token)))
        try:
            while s.recv(65535):
                replies += 1
        except BlockingIOError:
            pass
    sent_for = time.monotonic() - start
    s.settimeout(1.0)
    try:
        while s.recv(65535):
            replies += 1
    except (socket.timeout, BlockingIOError):
        pass
    # the reflector may still be reading the last requests during the final wait
    allowed = BURST + RATE * (time.monotonic() - start) + 1
    print("%d requests in %.2f s: %d replies (at most %.0f allowed)" %
          (n, sent_for, replies, allowed))
    return 0 < replies <= allowed


sys.exit(0 if {"tokens": tokens, "sizes": sizes, "flood": flood}[check]() else 1)
