#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A phone's calls to a trunk through the router (alg_call_keepalive.sh).

  call_keep.py uas IP MEDIA_BASE DIR
  call_keep.py uac IP PEER PUBLIC MEDIA_BASE DIR WAIT STEP...

uas, the trunk, answers on IP:5060: a new INVITE with 200 and SDP offering
audio at IP:MEDIA_BASE+2k (k counts the calls; Call-ID "cancel-..." gets
180 only), a re-INVITE whose SDP has "s=reject" with 488, one with "s=ring"
with 180 only, any other with 200 and the same answer; a CANCEL with 200
and 487 to the INVITE it cancels; a BYE or anything else with 200; an ACK
or a response gets nothing.  Its media sockets echo every datagram.  DIR
holds the uac's orders to it, as files: "bye" (a Call-ID): it sends that
call a BYE from IP:5060 to where the call's INVITE came from, and writes
"bye-ok" when the 200 comes back; "media" (a Call-ID and "IP PORT"): it
sends one datagram from that call's media port there.

uac, the phone on IP:5060, runs the STEPs in order, calling PEER:5060;
PUBLIC is its address as the trunk sees it.  One line per check on stdout:
  reinvite   a call is answered ("up confirmed"), its pinholes listed
             ("pinholes N of 4": the RTP and RTCP of the offer, at PUBLIC,
             and of the answer); a re-INVITE with the same media gets 488
             ("reject 488 pinholes N of 4"); one with new media (the
             next ports) is CANCELled after its 180 ("cancelled 487
             pinholes N of 4 new offer N of 2"), and gets 488 when sent
             again: "new offer 488 answer N of 2 old offer N of 2 new
             offer N of 2"; then the trunk sends a
             datagram to the (old) offer's RTP port at PUBLIC ("media
             ok|lost"); a re-INVITE with the new media is answered 200:
             "accepted 200 old offer N of 2 new offer N of 2", and the
             trunk sends a datagram to the new RTP port ("new media
             ok|lost")
  cancel     a new call is CANCELled after its 180: "cancel 487 pinholes
             N of 2" (its offer's, listed before the CANCEL), "cancelled
             call pinholes N" (listed after it)
  keep       a call is answered ("up keep"); "timeout N": the signalling
             flow's conntrack timeout on the router after the ACK; after
             WAIT seconds of silence "flow kept" or "flow expired", then
             the trunk sends the call a BYE: "bye reached the phone" (the
             phone answers 200) or "bye lost", and "bye answered" when
             the 200 came back to the trunk.
  refresh    a call is answered; WAIT/2 seconds later its re-INVITE (the
             same media) is answered 200: "refreshed 200 timeout N" (the
             flow's timeout after the ACK), then as keep after WAIT
             seconds of silence.
"""
import os
import re
import select
import socket
import sys
import time

from sipmsg import header, message, pinholes, response, router, sdp

SIP_PORT = 5060


def take(path):
    """The order in file path, removed, or None."""
    try:
        with open(path) as f:
            order = f.read().split()
        os.unlink(path)
        return order
    except FileNotFoundError:
        return None


class Uas:
    def __init__(self, ip, base, orders):
        self.ip, self.base, self.orders = ip, base, orders
        self.sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sig.bind((ip, SIP_PORT))
        self.calls = {}		# Call-ID: {port, media, src, invite}
        self.pending = {}	# Call-ID: the INVITE waiting for a CANCEL

    def call(self, cid):
        if cid not in self.calls:
            port = self.base + 2 * len(self.calls)
            m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            m.bind((self.ip, port))
            self.calls[cid] = {"port": port, "media": m}
        return self.calls[cid]

    def invite(self, data, src):
        cid = header(data, "Call-ID")
        reinvite = ";tag=" in header(data, "To")
        body = data.split(b"\r\n\r\n", 1)[1]
        if not reinvite:
            self.call(cid).update(src=src, invite=data)
        if cid.startswith("cancel-") or b"s=ring" in body:
            self.pending[cid] = data
            return response(data, 180, "Ringing")
        if b"s=reject" in body:
            return response(data, 488, "Not Acceptable Here")
        port = self.call(cid)["port"]
        return response(data, 200, "OK",
                        ["Contact: <sip:trunk@%s:%d>" % (self.ip, SIP_PORT)],
                        sdp(self.ip, port, port))

    def request(self, data, src):
        method = data.split(b" ", 1)[0]
        if method == b"ACK":
            return
        if method == b"INVITE":
            self.sig.sendto(self.invite(data, src), src)
            return
        if method == b"CANCEL":
            inv = self.pending.pop(header(data, "Call-ID"), None)
            self.sig.sendto(response(data, 200, "OK"), src)
            if inv:
                self.sig.sendto(response(inv, 487, "Request Terminated"),
                                src)
            return
        self.sig.sendto(response(data, 200, "OK"), src)

    def bye(self, cid):
        c = self.calls[cid]
        inv = c["invite"]
        uri = re.search(r"<([^>]*)>", header(inv, "Contact")).group(1)
        to = header(inv, "To") + ";tag=uas"
        hdrs = ["Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-bye-%s;rport"
                % (self.ip, SIP_PORT, cid),
                "Max-Forwards: 70", "From: " + to,
                "To: " + header(inv, "From"), "Call-ID: " + cid,
                "CSeq: 1 BYE"]
        self.sig.sendto(message("BYE %s SIP/2.0" % uri, hdrs), c["src"])

    def obey(self):
        order = take(os.path.join(self.orders, "bye"))
        if order:
            self.bye(order[0])
        order = take(os.path.join(self.orders, "media"))
        if order:
            cid, ip, port = order
            self.calls[cid]["media"].sendto(b"rtp", (ip, int(port)))

    def run(self):
        while True:
            socks = [self.sig] + [c["media"] for c in self.calls.values()]
            ready, _, _ = select.select(socks, [], [], 0.1)
            self.obey()
            for s in ready:
                data, src = s.recvfrom(65535)
                if s is not self.sig:
                    s.sendto(data, src)
                elif (data.startswith(b"SIP/2.0 200") and
                      header(data, "CSeq") == "1 BYE"):
                    open(os.path.join(self.orders, "bye-ok"), "w").close()
                elif not data.startswith(b"SIP/2.0") and data.strip():
                    self.request(data, src)


class Uac:
    def __init__(self, ip, peer, public, base, orders, wait):
        self.ip, self.peer, self.public = ip, (peer, SIP_PORT), public
        self.base, self.orders, self.wait = base, orders, wait
        self.sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sig.bind((ip, SIP_PORT))
        self.branch = 0
        self.n = 0

    def new_call(self, name):
        self.n += 1
        port = self.base + 20 * self.n
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.bind((self.ip, port))
        return {"id": "%s-%d@%s" % (name, os.getpid(), self.ip),
                "port": port, "media": m, "cseq": 0,
                "to": "<sip:trunk@%s>" % self.peer[0]}

    def request(self, method, call, body=b"", same_cseq=False,
                same_branch=False):
        if not same_cseq:
            call["cseq"] += 1
        if not same_branch:
            self.branch += 1
            call["branch"] = "z9hG4bK-%d" % self.branch
        hdrs = ["Via: SIP/2.0/UDP %s:%d;branch=%s;rport"
                % (self.ip, SIP_PORT, call["branch"]),
                "Max-Forwards: 70",
                "From: <sip:phone@%s>;tag=p" % self.ip, "To: " + call["to"],
                "Call-ID: " + call["id"],
                "CSeq: %d %s" % (call["cseq"], method),
                "Contact: <sip:phone@%s:%d>" % (self.ip, SIP_PORT)]
        return message("%s sip:trunk@%s:%d SIP/2.0"
                       % (method, self.peer[0], SIP_PORT), hdrs, body)

    def answer(self, call, method, final=True, timeout=3.0):
        """The first response (a final one when final) to call's method."""
        want = "%d %s" % (call["cseq"], method)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.sig], [], [],
                                    end - time.monotonic())
            if not r:
                return None
            data, _ = self.sig.recvfrom(65535)
            if (data.startswith(b"SIP/2.0 ") and
                    header(data, "Call-ID") == call["id"] and
                    header(data, "CSeq") == want and
                    (not final or int(data[8:11]) >= 200)):
                return data
        return None

    def invite(self, call, name="-", port=None, final=True):
        """Sends an INVITE (or re-INVITE), waits for its (final) answer."""
        msg = self.request("INVITE", call,
                           sdp(self.ip, port or call["port"],
                               call["cseq"] + 1, name))
        for _ in range(3):
            self.sig.sendto(msg, self.peer)
            ok = self.answer(call, "INVITE", final)
            if ok:
                return ok
        return None

    def ack(self, call, resp):
        """The ACK of a 2xx is a transaction of its own, an error's not."""
        ok = resp.startswith(b"SIP/2.0 2")
        if ok:
            call["to"] = header(resp, "To")
        self.sig.sendto(self.request("ACK", call, same_cseq=True,
                                     same_branch=not ok), self.peer)

    def up(self, name):
        call = self.new_call(name)
        ok = self.invite(call)
        if not ok or not ok.startswith(b"SIP/2.0 200"):
            print("up %s failed" % name, flush=True)
            return None
        body = ok.split(b"\r\n\r\n", 1)[1].decode(errors="replace")
        c = re.search(r"^c=IN IP4 (\S+)", body, re.M)
        m = re.search(r"^m=audio (\d+)", body, re.M)
        call["answer"] = (c.group(1), int(m.group(1)))
        self.ack(call, ok)
        print("up %s" % name, flush=True)
        return call

    def offer_ph(self, call, port=None):
        p = port or call["port"]
        return {"%s:%d" % (self.public, p), "%s:%d" % (self.public, p + 1)}

    def answer_ph(self, call):
        a, p = call["answer"]
        return {"%s:%d" % (a, p), "%s:%d" % (a, p + 1)}

    def listed(self, call):
        want = self.offer_ph(call) | self.answer_ph(call)
        return len(want & pinholes())

    def cancel(self, call, name="-", ringing=None, port=None):
        """An INVITE (offering port) CANCELled after its 180: the INVITE's
        final status.  ringing(), when given, is called between the 180
        and the CANCEL."""
        if not self.invite(call, name, port, final=False):
            return "no-180"
        if ringing:
            ringing()
        self.sig.sendto(self.request("CANCEL", call, same_cseq=True,
                                     same_branch=True), self.peer)
        final = self.answer(call, "INVITE")
        if final:
            self.ack(call, final)
        return final[8:11].decode() if final else "none"

    def step_reinvite(self):
        call = self.up("confirmed")
        if not call:
            return
        print("pinholes %d of 4" % self.listed(call), flush=True)
        r = self.invite(call, "reject")
        if r:
            self.ack(call, r)
        print("reject %s pinholes %d of 4" % (r[8:11].decode() if r else
                                              "none", self.listed(call)),
              flush=True)
        new = call["port"] + 2
        status = self.cancel(call, "ring", port=new)
        print("cancelled %s pinholes %d of 4 new offer %d of 2"
              % (status, self.listed(call),
                 len(self.offer_ph(call, new) & pinholes())), flush=True)
        r = self.invite(call, "reject", new)
        if r:
            self.ack(call, r)
        got = pinholes()
        print("new offer %s answer %d of 2 old offer %d of 2 new offer %d "
              "of 2" % (r[8:11].decode() if r else "none",
                        len(self.answer_ph(call) & got),
                        len(self.offer_ph(call) & got),
                        len(self.offer_ph(call, new) & got)), flush=True)
        print("media %s" % self.media_in(call, call["media"], call["port"]),
              flush=True)
        self.reoffer_accepted(call, new)

    def reoffer_accepted(self, call, new):
        """A re-INVITE with new media (port new) answered 200."""
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.bind((self.ip, new))
        r = self.invite(call, "accept", new)
        if r:
            self.ack(call, r)
        got = pinholes()
        print("accepted %s old offer %d of 2 new offer %d of 2"
              % (r[8:11].decode() if r else "none",
                 len(self.offer_ph(call) & got),
                 len(self.offer_ph(call, new) & got)), flush=True)
        print("new media %s" % self.media_in(call, m, new), flush=True)

    def media_in(self, call, sock, port):
        """The trunk sends call's media to PUBLIC:port: "ok" if it
        reaches sock, else "lost"."""
        self.order("media", call["id"], self.public, str(port))
        r, _, _ = select.select([sock], [], [], self.wait)
        return "ok" if r and sock.recv(2048) == b"rtp" else "lost"

    def step_cancel(self):
        call = self.new_call("cancel")
        before = []
        status = self.cancel(call, ringing=lambda: before.append(
            len(self.offer_ph(call) & pinholes())))
        print("cancel %s pinholes %s of 2" % (status, before[0] if before
                                               else "?"), flush=True)
        print("cancelled call pinholes %d"
              % len(self.offer_ph(call) & pinholes()), flush=True)

    def order(self, name, *words):
        path = os.path.join(self.orders, name)
        with open(path + ".tmp", "w") as f:
            f.write(" ".join(words))
        os.rename(path + ".tmp", path)

    def flow_timeout(self):
        out = router("-p", "udp", "--orig-src", self.ip, "--orig-port-src",
                     str(SIP_PORT), "--orig-port-dst", str(SIP_PORT))
        m = re.match(r"udp\s+17\s+(\d+)", out)
        return int(m.group(1)) if m else None

    def step_keep(self):
        call = self.up("keep")
        if not call:
            return
        time.sleep(0.2)		# the ACK has passed the router
        print("timeout %s" % self.flow_timeout(), flush=True)
        self.bye_after(call, self.wait)

    def step_refresh(self):
        call = self.up("refresh")
        if not call:
            return
        time.sleep(self.wait / 2)
        r = self.invite(call, "refresh")
        if r:
            self.ack(call, r)
        time.sleep(0.2)
        print("refreshed %s timeout %s" % (r[8:11].decode() if r else "none",
                                           self.flow_timeout()), flush=True)
        self.bye_after(call, self.wait)

    def bye_after(self, call, silence):
        """silence seconds later, the trunk's BYE to call."""
        time.sleep(silence)
        print("flow %s" % ("expired" if self.flow_timeout() is None else
                           "kept"), flush=True)
        self.order("bye", call["id"])
        r, _, _ = select.select([self.sig], [], [], 3)
        data = self.sig.recvfrom(65535)[0] if r else b""
        if not data.startswith(b"BYE ") or \
                header(data, "Call-ID") != call["id"]:
            print("bye lost", flush=True)
            return
        self.sig.sendto(response(data, 200, "OK"), self.peer)
        print("bye reached the phone", flush=True)
        ok = os.path.join(self.orders, "bye-ok")
        for _ in range(30):
            if os.path.exists(ok):
                print("bye answered", flush=True)
                return
            time.sleep(0.1)
        print("200 lost", flush=True)


def main():
    if sys.argv[1] == "uas":
        Uas(sys.argv[2], int(sys.argv[3]), sys.argv[4]).run()
        return 0
    ip, peer, public, base, orders, wait = sys.argv[2:8]
    u = Uac(ip, peer, public, int(base), orders, float(wait))
    for step in sys.argv[8:]:
        getattr(u, "step_" + step)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
