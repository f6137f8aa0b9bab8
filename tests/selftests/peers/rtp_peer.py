#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One end of a call's media (ha_failover.sh).

  rtp_peer.py LOCAL_IP LOCAL_PORT DIR

Sends a 172-byte RTP packet (PCMU, 20 ms) every 20 ms from
LOCAL_IP:LOCAL_PORT to the address in the file DIR/dest ("IP PORT"),
re-read every 0.2 s, while it exists: the test points it where the other
side's SDP says, and moves it when a re-INVITE moves the media.  Counts
the packets received into DIR/rx (rewritten every 0.1 s).
"""
import os
import select
import socket
import struct
import sys
import time


def main():
    ip, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    rx = seq = 0
    dest = None
    next_send = next_dest = next_rx = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_dest:
            try:
                with open(os.path.join(d, "dest")) as f:
                    a, p = f.read().split()
                dest = (a, int(p))
            except (OSError, ValueError):
                dest = None
            next_dest = now + 0.2
        if now >= next_send:
            if dest:
                seq = (seq + 1) & 0xffff
                hdr = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, port)
                try:
                    s.sendto(hdr + b"\xff" * 160, dest)
                except OSError:
                    pass	# no route while the routers swap
            next_send = now + 0.02
        if now >= next_rx:
            with open(os.path.join(d, ".rx"), "w") as f:
                f.write("%d\n" % rx)
            os.rename(os.path.join(d, ".rx"), os.path.join(d, "rx"))
            next_rx = now + 0.1
        r, _, _ = select.select([s], [], [],
                                max(0, min(next_send, next_rx) - now))
        if r:
            s.recvfrom(2048)
            rx += 1


if __name__ == "__main__":
    main()
