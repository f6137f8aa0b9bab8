#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A phone whose steps the test chooses (ha_failover.sh): a SIP user agent
on one socket, driven one command at a time through a FIFO.

  ha_phone.py udp|tcp LOCAL_IP LOCAL_PORT SERVER_IP SERVER_PORT FIFO [TX]
  ha_phone.py tcp-peer IP PORT RX

Commands, one per line written to FIFO; each prints one result line on
stdout, "#N VERB STATUS [media=IP:PORT]" (N counts commands from 1,
STATUS is the final response's code, or "timeout"):

  register EXPIRES     REGISTER sip:phone@SERVER_IP, Contact at
                       LOCAL_IP:LOCAL_PORT, to SERVER_IP:SERVER_PORT
  invite URI PORT      INVITE URI (sent to the URI's host:port) with SDP
                       offering audio at LOCAL_IP:PORT (RTCP at PORT+1);
                       media= is the answer's c= address and m= port; the
                       2xx is acknowledged
  reinvite PORT        the same dialog, the offer moved to PORT
  bye                  ends the dialog
  ping IP PORT         one CRLF keep-alive to IP:PORT (UDP), STATUS "sent":
                       opens the flow before the first request on it

While a dialog set up over UDP lasts, the phone sends a CRLF keep-alive
(RFC 5626 3.5.1) on its flow every 2 s, as phones do to keep a NAT
binding: the routers' UDP timeouts in the test are short.

Requests that come in (the registrar forwarding a call) are answered: an
INVITE with 200 and SDP (audio at LOCAL_PORT + 1000), a BYE or anything
else with 200; each prints "incoming METHOD".  An ACK gets nothing.

UDP requests are retransmitted every second until a final response (8
tries).  Over TCP the socket connects from LOCAL_IP:LOCAL_PORT to the
server at start; a request waits 10 s for its final response and no ACK
is sent (the TCP peer answers every request).  With TX, every message
sent is also appended to the file TX, one after the other.

tcp-peer is the far end over TCP: it accepts one connection on IP:PORT,
appends every byte it receives to the file RX as it comes, and answers
each request with a 200 OK that copies its Via, From, To, Call-ID and CSeq
as they arrived (the Via carries the address the router wrote, which it
must restore on the way back).  It never times out: the test kills it.
"""
import os
import random
import re
import socket
import sys
import threading
import time

CL = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", re.I | re.M)


def header(msg, name):
    m = re.search(rb"^" + name.encode() + rb"[ \t]*:[ \t]*(.*?)\r?$", msg,
                  re.I | re.M)
    return m.group(1).decode() if m else ""


def headers(msg, name):
    return [h.decode() for h in
            re.findall(rb"^" + name.encode() + rb"[ \t]*:[ \t]*(.*?)\r?$",
                       msg, re.I | re.M)]


def sdp_media(msg):
    body = msg.split(b"\r\n\r\n", 1)[1].decode(errors="replace")
    c = re.search(r"^c=IN IP4 (\S+)", body, re.M)
    m = re.search(r"^m=audio (\d+)", body, re.M)
    return "%s:%s" % (c.group(1) if c else "?", m.group(1) if m else "?")


class Phone:
    def __init__(self, transport, ip, port, server, server_port, tx):
        self.transport, self.ip, self.port = transport, ip, port
        self.server = (server, server_port)
        self.tx = tx
        self.tag = "%08x" % random.getrandbits(32)
        self.reg_callid = self.new_id()
        self.reg_cseq = 0
        self.dialog = None
        self.responses = {}
        self.cond = threading.Condition()
        fam = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
        self.sock = socket.socket(socket.AF_INET, fam)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        if transport == "tcp":
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(10)
            self.sock.connect(self.server)
            self.sock.settimeout(None)
        threading.Thread(target=self.receive, daemon=True).start()
        threading.Thread(target=self.keepalive, daemon=True).start()

    def keepalive(self):
        while True:
            time.sleep(2)
            d = self.dialog
            if self.transport == "udp" and d and d.get("up"):
                self.send(b"\r\n\r\n", d["dest"])

    def new_id(self):
        return "%016x@%s" % (random.getrandbits(64), self.ip)

    def send(self, data, to):
        if self.tx:
            with open(self.tx, "ab") as f:
                f.write(data)
        if self.transport == "tcp":
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, to)

    def messages(self):
        """Complete messages as they arrive, with where they came from."""
        if self.transport == "udp":
            while True:
                yield self.sock.recvfrom(65535)
        buf = b""
        while True:
            data = self.sock.recv(65535)
            if not data:
                return
            buf += data
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                m = CL.search(buf[:end])
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(buf) < total:
                    break
                yield buf[:total], self.server
                buf = buf[total:]

    def receive(self):
        for msg, src in self.messages():
            if msg.startswith(b"SIP/2.0 "):
                code = int(msg.split(b" ", 2)[1])
                key = (header(msg, "Call-ID"), header(msg, "CSeq"))
                with self.cond:
                    if code >= 200 and key not in self.responses:
                        self.responses[key] = msg
                        self.cond.notify_all()
            elif msg.strip():
                self.incoming(msg, src)

    def incoming(self, msg, src):
        method = msg.split(b" ", 1)[0].decode(errors="replace")
        print("incoming %s" % method, flush=True)
        if method == "ACK":
            return
        body = b""
        if method == "INVITE":
            body = self.sdp(self.port + 1000)
        lines = ["SIP/2.0 200 OK"]
        lines += ["Via: " + v for v in headers(msg, "Via")]
        lines += ["Record-Route: " + r for r in headers(msg, "Record-Route")]
        to = header(msg, "To")
        if ";tag=" not in to:
            to += ";tag=" + self.tag
        lines += ["From: " + header(msg, "From"), "To: " + to,
                  "Call-ID: " + header(msg, "Call-ID"),
                  "CSeq: " + header(msg, "CSeq"),
                  "Contact: <sip:phone@%s:%d>" % (self.ip, self.port)]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body, src)

    def sdp(self, port):
        return ("v=0\r\no=phone 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
                "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                % (self.ip, self.ip, port)).encode()

    def request(self, method, uri, callid, cseq, to, extra=(), body=b""):
        lines = ["%s %s SIP/2.0" % (method, uri),
                 "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%08x;rport"
                 % (self.transport.upper(), self.ip, self.port,
                    random.getrandbits(32)),
                 "Max-Forwards: 70",
                 "From: <sip:phone@%s>;tag=%s" % (self.server[0], self.tag),
                 "To: " + to, "Call-ID: " + callid,
                 "CSeq: %d %s" % (cseq, method),
                 "Contact: <sip:phone@%s:%d>" % (self.ip, self.port)]
        lines += list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def transaction(self, data, callid, cseq, method, dest):
        """Send to dest; the final response, or None."""
        key = (callid, "%d %s" % (cseq, method))
        tries = 1 if self.transport == "tcp" else 8
        wait = 10 if self.transport == "tcp" else 1
        for _ in range(tries):
            self.send(data, dest)
            deadline = time.monotonic() + wait
            with self.cond:
                while key not in self.responses:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                if key in self.responses:
                    return self.responses[key]
        return None

    def register(self, expires):
        self.reg_cseq += 1
        uri = "sip:%s" % self.server[0]
        data = self.request("REGISTER", uri, self.reg_callid, self.reg_cseq,
                            "<sip:phone@%s>" % self.server[0],
                            ["Expires: %d" % int(expires)])
        return self.transaction(data, self.reg_callid, self.reg_cseq,
                                "REGISTER", self.server)

    def invite(self, uri, port):
        if self.dialog is None:
            host, _, dport = uri.split("@", 1)[1].partition(":")
            self.dialog = {"uri": uri, "callid": self.new_id(), "cseq": 0,
                           "to": "<%s>" % uri,
                           "dest": (host, int(dport or 5060))}
        d = self.dialog
        d["cseq"] += 1
        data = self.request("INVITE", d["uri"], d["callid"], d["cseq"],
                            d["to"], body=self.sdp(int(port)))
        resp = self.transaction(data, d["callid"], d["cseq"], "INVITE",
                                d["dest"])
        if resp is None:
            return None
        to = header(resp, "To")
        if ";tag=" in to:
            d["to"] = to
        if self.transport == "udp" and resp.split(b" ")[1].startswith(b"2"):
            d["up"] = True
            self.send(self.request("ACK", d["uri"], d["callid"], d["cseq"],
                                   d["to"]), d["dest"])
        return resp

    def bye(self):
        d = self.dialog
        d["cseq"] += 1
        d["up"] = False
        data = self.request("BYE", d["uri"], d["callid"], d["cseq"], d["to"])
        return self.transaction(data, d["callid"], d["cseq"], "BYE",
                                d["dest"])


def run(phone, verb, args):
    if verb == "register":
        resp = phone.register(args[0])
    elif verb == "invite":
        resp = phone.invite(args[0], args[1])
    elif verb == "reinvite":
        resp = phone.invite(None, args[0])
    elif verb == "bye":
        resp = phone.bye()
    elif verb == "ping":
        phone.send(b"\r\n\r\n", (args[0], int(args[1])))
        return "sent"
    else:
        return "unknown"
    if resp is None:
        return "timeout"
    status = resp.split(b" ", 2)[1].decode()
    if verb in ("invite", "reinvite") and b"\r\n\r\nv=" in resp:
        status += " media=" + sdp_media(resp)
    return status


def tcp_peer(ip, port, rx):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(1)
    print("ready", flush=True)
    s, _ = ls.accept()
    buf = b""
    while True:
        data = s.recv(65535)
        if not data:
            return
        with open(rx, "ab") as f:
            f.write(data)
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            m = CL.search(buf[:end])
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) < total:
                break
            msg, buf = buf[:total], buf[total:]
            lines = ["SIP/2.0 200 OK"]
            lines += ["Via: " + v for v in headers(msg, "Via")]
            lines += ["%s: %s" % (h, header(msg, h))
                      for h in ("From", "To", "Call-ID", "CSeq")]
            lines.append("Content-Length: 0")
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


def main():
    if sys.argv[1] == "tcp-peer":
        tcp_peer(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    transport, ip, port, server, server_port, fifo = sys.argv[1:7]
    tx = sys.argv[7] if len(sys.argv) > 7 else None
    phone = Phone(transport, ip, int(port), server, int(server_port), tx)
    print("ready", flush=True)
    n = 0
    while True:
        with open(fifo) as f:
            for line in f:
                words = line.split()
                if not words:
                    continue
                if words[0] == "quit":
                    return
                n += 1
                print("#%d %s %s" % (n, words[0], run(phone, words[0],
                                                      words[1:])),
                      flush=True)


if __name__ == "__main__":
    main()
