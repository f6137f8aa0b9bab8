# SPDX-License-Identifier: GPL-2.0
"""SIP messages and the router's pinholes, for the python peers
(call_keep.py, trunk_calls.py): just enough SIP to drive calls through
the router, built the way phones and trunks write it."""
import re
import subprocess


def header(msg, name):
    m = re.search(rb"^" + name.encode() + rb"[ \t]*:[ \t]*(.*?)\r?$", msg,
                  re.I | re.M)
    return m.group(1).decode() if m else ""


def sdp(ip, port, sess, name="-"):
    body = ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=%s\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            % (sess, ip, name, ip, port))
    return body.encode()


def message(start, hdrs, body=b""):
    lines = [start] + hdrs
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(req, code, reason, extra=(), body=b"", cseq=None):
    hdrs = ["Via: " + v.decode() for v in
            re.findall(rb"^Via[ \t]*:[ \t]*(.*?)\r?$", req, re.I | re.M)]
    to = header(req, "To")
    if ";tag=" not in to:
        to += ";tag=uas"
    hdrs += ["From: " + header(req, "From"), "To: " + to,
             "Call-ID: " + header(req, "Call-ID"),
             "CSeq: " + (cseq or header(req, "CSeq"))] + list(extra)
    return message("SIP/2.0 %d %s" % (code, reason), hdrs, body)


def router(*args):
    return subprocess.run(["ip", "netns", "exec", "rtr", "conntrack", "-L"]
                          + list(args), capture_output=True,
                          text=True).stdout


def pinholes():
    got = set()
    for line in router("expect").splitlines():
        dst = re.search(r"\bdst=(\S+)", line)
        dport = re.search(r"\bdport=(\d+)", line)
        if dst and dport:
            got.add("%s:%s" % (dst.group(1), dport.group(1)))
    return got
