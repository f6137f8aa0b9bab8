#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# A deliberately broken SIP ALG, the kind routers ship: a UDP relay on the
# router (nftables redirects the LAN's UDP 5060 to it) that replaces the
# phone's private address with the public one everywhere in the message
# (Call-ID, From, o=, a=rtcp as well as Via, Contact, c=), loses the first
# ';' on the way out, and on the way back replaces the public address with
# the private one everywhere.
#
#   broken_alg.py PRIVATE PUBLIC SERVER_IP SERVER_PORT
import socket
import sys

private, public = sys.argv[1].encode(), sys.argv[2].encode()
server = (sys.argv[3], int(sys.argv[4]))

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", server[1]))
print("relaying", flush=True)
phone = None
while True:
    data, src = s.recvfrom(65535)
    if src == server:
        if phone:
            s.sendto(data.replace(public, private), phone)
    else:
        phone = src
        s.sendto(data.replace(private, public).replace(b";", b"", 1), server)
