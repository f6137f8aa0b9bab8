#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Phones retransmitting INVITEs with SDP as fast as they can
(alg_unload_traffic.sh).

  invite_blast.py LOCAL_IP FIRST_PORT FLOWS DEST_IP DEST_PORT FIRST_MEDIA

FLOWS signalling flows, from LOCAL_IP:FIRST_PORT + i to DEST_IP:DEST_PORT,
each the retransmissions of one INVITE offering audio on FIRST_MEDIA + 2 i,
sent round robin without pause until killed.  Every one of these flows
keeps asking for its pinholes many times a second: whenever the router
has just removed them (as the conntrack core does when the helper is
unregistered) the next INVITE on the flow opens them again.  Nothing
answers: the datagrams need only pass the router.
"""
import socket
import sys


def invite(ip, port, dest, dport, media, n):
    sdp = (f"v=0\r\no=phone{n} 1 1 IN IP4 {ip}\r\ns=-\r\n"
           f"c=IN IP4 {ip}\r\nt=0 0\r\n"
           f"m=audio {media} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    return (f"INVITE sip:bob@{dest}:{dport} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bKblast{n};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:phone{n}@{ip}>;tag=blast{n}\r\n"
            f"To: <sip:bob@{dest}:{dport}>\r\n"
            f"Call-ID: blast{n}@{ip}\r\n"
            "CSeq: 1 INVITE\r\n"
            f"Contact: <sip:phone{n}@{ip}:{port}>\r\n"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}").encode()


def main():
    ip, port, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dest, dport, media = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    phones = []
    for n in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, port + n))
        phones.append((s, invite(ip, port + n, dest, dport, media + 2 * n, n)))
    while True:
        for s, msg in phones:
            try:
                s.sendto(msg, (dest, dport))
            except OSError:
                pass    # a full queue: the next round sends again


if __name__ == "__main__":
    main()
