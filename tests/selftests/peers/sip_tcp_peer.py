#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""SIP over one TCP connection with control over what goes in one write.

  sip_tcp_peer.py server ADDR PORT DIR
      Accepts one connection.  Answers every request with a 200 OK that
      copies its From, To, Call-ID and CSeq as they arrived, and its top
      Via with the sent-by replaced by the connection's peer address:port
      (so that every answer carries the address a router must restore,
      whatever became of the request); the answers to requests that
      arrived in one read go out in one write.
      Stops at EOF.  Writes DIR/server.rx (every byte received) and
      DIR/server.tx.N (each write).

  sip_tcp_peer.py client LOCAL_ADDR LOCAL_PORT ADDR PORT DIR FILE...
      Connects from LOCAL_ADDR:LOCAL_PORT.  Each FILE is one write (TCP
      no-delay, so one segment when it fits); after each write it waits
      for as many complete responses as the write held messages.  Writes
      DIR/client.rx (every byte received).

A message is complete when its header and its Content-Length of body have
arrived.  Every socket operation times out after 60 s (a loaded VM is slow) (exit status 1).
"""
import os
import re
import socket
import sys

TIMEOUT = 60
CL = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*$",
                re.I | re.M)


def split_messages(buf):
    """Complete messages at the start of buf, and the rest."""
    msgs = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return msgs, buf
        m = CL.search(buf[:end + 2])
        total = end + 4 + (int(m.group(1)) if m else 0)
        if len(buf) < total:
            return msgs, buf
        msgs.append(buf[:total])
        buf = buf[total:]


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def header(msg, names):
    for line in msg.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name in names:
            return line
    raise ValueError("no %s header" % names[0].decode())


VIA = re.compile(rb"^((?:via|v)[ \t]*:[ \t]*SIP/2\.0/[A-Za-z]+[ \t]+)[^;]*(.*)$",
                 re.I)


def answer(req, contact, peer):
    lines = [b"SIP/2.0 200 OK"]
    m = VIA.match(header(req, (b"via", b"v")))
    if not m:
        raise ValueError("unexpected Via")
    lines.append(m.group(1) + peer + m.group(2))
    for names in ((b"from", b"f"), (b"to", b"t"), (b"call-id", b"i"),
                  (b"cseq",)):
        lines.append(header(req, names))
    lines.append(b"Contact: <sip:peer@" + contact + b";transport=tcp>")
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def server(addr, port, d):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    open(os.path.join(d, ".listening"), "w").close()
    ls.settimeout(TIMEOUT)
    s, src = ls.accept()
    s.settimeout(TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    host = (b"[%s]:%d" if ":" in addr else b"%s:%d") % (addr.encode(), port)
    peer = (b"[%s]:%d" if ":" in src[0] else b"%s:%d") % (src[0].encode(),
                                                           src[1])
    rx, pending, writes = b"", b"", 0
    while True:
        data = s.recv(65536)
        if not data:
            break
        rx += data
        msgs, pending = split_messages(pending + data)
        out = b"".join(answer(m, host, peer) for m in msgs
                       if not m.startswith(b"SIP/2.0 "))
        if out:
            writes += 1
            with open(os.path.join(d, "server.tx.%d" % writes), "wb") as f:
                f.write(out)
            s.sendall(out)
    with open(os.path.join(d, "server.rx"), "wb") as f:
        f.write(rx)
    s.close()


def client(laddr, lport, addr, port, d, files):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(TIMEOUT)
    s.bind((laddr, lport))
    s.connect((addr, port))
    rx, pending = b"", b""
    try:
        for name in files:
            with open(name, "rb") as f:
                out = f.read()
            want = len(split_messages(out)[0])
            s.sendall(out)
            got = 0
            while got < want:
                data = s.recv(65536)
                if not data:
                    raise EOFError("connection closed by the server")
                rx += data
                msgs, pending = split_messages(pending + data)
                got += len(msgs)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    finally:
        with open(os.path.join(d, "client.rx"), "wb") as f:
            f.write(rx)
        s.close()


def main(argv):
    try:
        if argv[1] == "server":
            server(argv[2], int(argv[3]), argv[4])
        elif argv[1] == "client":
            client(argv[2], int(argv[3]), argv[4], int(argv[5]), argv[6],
                   argv[7:])
        else:
            raise ValueError("server or client")
    except (OSError, ValueError, EOFError) as e:
        print("sip_tcp_peer %s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
