#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile SIP through the router, checked against the offline planner.

  hostile_traffic.py SEED MUTATIONS FILES RUNS SEEDDIR...

Run by alg_hostile.sh in the VM, in the standard network (lib.sh) with
sipalg enabled on rtr's wan0, once per run of RUNS (comma-separated
TRANSPORT:FAMILY:MODE:MALFORMED, e.g. tcp:6:rewrite:drop): over udp or
tcp, in MODE (rewrite, pinhole) and MALFORMED (pass, drop).  FAMILY 4: the phone is 192.168.1.2:5060, rtr translates it
to 203.0.113.100; FAMILY 6: [2001:db8:0:1::2]:5060 to 2001:db8:ffff::1 (the
addresses the corpus writes).  The peer is 203.0.113.2 / 2001:db8:1::2,
port 5060.  One process opens sockets in the lan and wan namespaces
(setns), so that nothing is spawned per message but the oracle.

The messages: every file of the SEEDDIRs (tests/corpus, the fuzzers'
seeds, the RFC 4475/5118 torture messages), or a seeded sample of FILES of
them when FILES is not 0, then MUTATIONS seeded mutations
of them (truncated, bytes flipped, NUL or bare CR inserted, a header of up
to 60 KiB, a huge Content-Length, a body grown to up to 64 KiB so the
datagram crosses rtr in IP fragments).  SEED makes them the same again.

udp: each message is one datagram, from lan to wan (the flow's original
direction) and then from wan back to the phone (its reply direction).
Each datagram must arrive as `sipalgctl rewrite` (with --reply, --mode)
predicts it, or not at all when MALFORMED is drop and the oracle calls it
malformed; rtr's counters must add up to what was sent.

tcp: the messages that frame cleanly in a stream, concatenated, are
written by the phone in segments cut at random offsets (several messages
in one segment, one message over several), each write acknowledged before
the next; some segments are sent again as they were (retransmissions) and
some again joined with their successor (overlapping).  Then the peer does
the same towards the phone.  What the receiving socket reads must be each
message as `sipalgctl rewrite --tcp` predicts it when it fits in one
segment, unchanged when it spans segments (issue 17: a segment that
continues a message is not malformed, is never dropped, and the messages
after it in the segment are handled).  With MALFORMED drop, a malformed
message then goes alone in a last segment: it, and its retransmissions,
never arrive where rtr knows a message begins there or where it begins with
a well-formed message (garbage after it); else it passes as the rest of the
message before.

Prints lines "ok DESC" / "not ok DESC" and "# diagnostics"; exit status 0
when all are ok.
"""
import ctypes
import fcntl
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SIPALGCTL = os.path.join(REPO, "userspace/sipalgctl")
REWRITE_BATCH = os.path.join(REPO, "tests/selftests/build/rewrite_batch")
NET = {
    4: {"phone": "192.168.1.2", "public": "203.0.113.100", "peer": "203.0.113.2",
        "af": socket.AF_INET},
    6: {"phone": "2001:db8:0:1::2", "public": "2001:db8:ffff::1",
        "peer": "2001:db8:1::2", "af": socket.AF_INET6},
}
PORT = 5060
MAX_DGRAM = 65507 - 40     # the IPv6 header's share taken too
SEGMENT_MAX = 1400         # below the MSS: one write is one segment
TCP_MESSAGES = 40          # per connection and direction
# Waits are lib.sh's SELFTEST_SLOW times longer (on the debug kernel).
SLOW = int(os.environ.get("SELFTEST_SLOW", "1"))
TIMEOUT = 5 * SLOW
CL = re.compile(rb"^(content-length|l)([ \t]*:[ \t]*)([0-9]+)", re.I | re.M)

# --------------------------------------------------------------- namespaces

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def netns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET):
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def sock_in(ns, *args):
    netns(ns)
    return socket.socket(*args)


def hostport(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


# ------------------------------------------------------------------ messages

def load_seeds(dirs):
    out = []
    for d in dirs:
        for root, _dirs, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".tsv", ".md")):
                    continue
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                if 0 < len(data) <= MAX_DGRAM:
                    out.append((os.path.relpath(os.path.join(root, f), d), data))
    out.sort()
    return out


def grow_body(rng, m):
    """The message with its body padded by SDP attribute lines to up to
    64 KiB and its Content-Length made to match: still well-formed when it
    was, and large enough to cross rtr in IP fragments."""
    head, sep, body = m.partition(b"\r\n\r\n")
    cl = CL.search(head)
    if not sep or not cl or int(cl.group(3)) != len(body):
        return None
    target = rng.randrange(2000, MAX_DGRAM - len(m) - 64)
    pad = b""
    while len(pad) < target:
        pad += b"a=x-hostile-pad:%s\r\n" % (b"p" * rng.randrange(10, 900))
    body += pad if not body or body.endswith(b"\n") else b"\r\n" + pad
    head = head[:cl.start(3)] + str(len(body)).encode() + head[cl.end(3):]
    return head + sep + body


def mutate(rng, m):
    kind = rng.choice(("truncate", "flip", "nul", "cr", "big-header",
                       "huge-content-length", "fragments"))
    if kind == "truncate":
        return kind, m[:rng.randrange(len(m))]
    if kind == "flip":
        b = bytearray(m)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    if kind in ("nul", "cr"):
        i = rng.randrange(len(m) + 1)
        return kind, m[:i] + (b"\0" if kind == "nul" else b"\r") + m[i:]
    if kind == "big-header":
        eol = m.find(b"\r\n")
        n = rng.randrange(1000, MAX_DGRAM - len(m) - 32)
        if eol < 0 or n <= 0:
            return kind, m
        return kind, m[:eol + 2] + b"X-Hostile: " + b"h" * n + b"\r\n" + m[eol + 2:]
    if kind == "huge-content-length":
        cl = CL.search(m)
        if not cl:
            return kind, m
        v = rng.choice((b"4294967296", b"18446744073709551617", b"65536",
                        b"999999999999999999999999", str(int(cl.group(3)) + 1).encode()))
        return kind, m[:cl.start(3)] + v + m[cl.end(3):]
    grown = grow_body(rng, m) if len(m) < MAX_DGRAM - 3000 else None
    return kind, grown if grown else m


def messages(seeds, n, files, rng):
    """The files of the corpora (FILES of them, a seeded sample, when FILES
    is not 0) and n mutations of them."""
    if 0 < files < len(seeds):
        seeds = sorted(rng.sample(seeds, files))
    seen = set()
    out = []
    for name, data in seeds:
        if data not in seen:
            seen.add(data)
            out.append(("seed " + name, data))
    for i in range(n):
        name, data = seeds[rng.randrange(len(seeds))]
        kind, data = mutate(rng, data)
        if data:
            out.append(("mutant %d (%s of %s)" % (i, kind, name), data))
    return out


# -------------------------------------------------------------------- oracle

class Oracle:
    """`sipalgctl rewrite`, the module's own parser and planner, offline.

    Starting a process per message costs most of a second in the emulated
    VM: rewrite_batch runs sipalgctl rewrite's code on every message in one
    process (and a sample is checked against sipalgctl itself).  The
    verdict does not depend on the flow's addresses, and a message that
    names neither of them (nor anything like them) is left as it is, so it
    runs once per message and transport, and again only for a message that
    names the address it would rewrite.  In pinhole mode nothing is
    rewritten."""

    cache = {}
    calls = 0
    checked = 0
    proc = None

    def __init__(self, phone, public, mode):
        self.internal, self.external = hostport(*phone), hostport(*public)
        self.names = {False: self.prefix(phone[0]), True: self.prefix(public[0])}
        self.mode = mode

    @staticmethod
    def prefix(addr):
        """Enough of addr to find it in any of its spellings."""
        return (addr.split(":")[0] + ":" if ":" in addr else
                ".".join(addr.split(".")[:2]) + ".").lower().encode()

    @classmethod
    def run(cls, data, internal, external, reply, tcp):
        key = (data, internal, external, reply, tcp)
        if key not in cls.cache:
            cls.calls += 1
            cls.cache[key] = cls.batch(data, internal, external, reply, tcp)
            ok, out, _reason = cls.cache[key]
            # The batch is sipalgctl rewrite's code; show it on a sample.
            if cls.checked < 8 and (not ok or out != data):
                cls.checked += 1
                want = cls.sipalgctl(data, internal, external, reply, tcp)
                if want != cls.cache[key]:
                    raise RuntimeError("rewrite_batch %r and sipalgctl rewrite %r disagree" % (
                        cls.cache[key][2], want[2]))
        return cls.cache[key]

    @classmethod
    def batch(cls, data, internal, external, reply, tcp):
        if cls.proc is None:
            cls.proc = subprocess.Popen([REWRITE_BATCH], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        flags = ("r" if reply else "") + ("t" if tcp else "") or "-"
        cls.proc.stdin.write(b"%s %s %s %d\n" % (internal.encode(), external.encode(),
                                                  flags.encode(), len(data)) + data)
        cls.proc.stdin.flush()
        status, reason, n = cls.proc.stdout.readline().split()
        if status not in (b"0", b"1"):
            raise RuntimeError("rewrite_batch: bad request %s %s" % (internal, external))
        out = cls.proc.stdout.read(int(n))
        return status == b"0", out, None if reason == b"-" else reason.decode()

    @staticmethod
    def sipalgctl(data, internal, external, reply, tcp):
        args = [SIPALGCTL, "rewrite", "--internal", internal, "--external", external]
        args += ["--reply"] if reply else []
        args += ["--tcp"] if tcp else []
        p = subprocess.run(args + ["-"], input=data, capture_output=True)
        if p.returncode not in (0, 1):
            raise RuntimeError("sipalgctl rewrite: %s" % p.stderr.decode(errors="replace"))
        m = re.search(rb"malformed: ([a-z-]+) at offset", p.stderr)
        return p.returncode == 0, p.stdout, m.group(1).decode() if m else None

    def predict(self, data, reply=False, tcp=False):
        """(well-formed, bytes the router sends, malformed reason or None)"""
        # The verdict, on addresses no message of the corpus writes.
        ok, out, reason = self.run(data, "100.64.255.1:5060", "100.64.255.2:5060", False, tcp)
        if self.names[reply] in data.lower():
            ok, out, reason = self.run(data, self.internal, self.external, reply, tcp)
        elif ok and out != data:
            raise RuntimeError("rewrite changed a message without the flow's addresses")
        return ok, data if self.mode == "pinhole" else out, reason


def keepalive(data):
    """What the module skips before counting a message (sipalg_help.c):
    CRLF keep-alives and STUN (first byte 0 or 1)."""
    rest = data.lstrip(b"\r\n")
    return not rest or rest[0] <= 1


def first_difference(want, got):
    n = min(len(want), len(got))
    i = next((i for i in range(n) if want[i] != got[i]), n)
    return "%d and %d bytes, first difference at %d: want %r got %r" % (
        len(want), len(got), i, want[max(0, i - 20):i + 30], got[max(0, i - 20):i + 30])


# ------------------------------------------------------------------ counters

def rtr_stats(*iface):
    p = subprocess.run(["ip", "netns", "exec", "rtr", SIPALGCTL, "stats", "-j"] + list(iface),
                       capture_output=True, check=True)
    return json.loads(p.stdout)["counters"]


def counted(want):
    """The namespace's counters checked against want, and wan0's (every
    flow here is wan0's) against the namespace's."""
    got = rtr_stats()
    bad = counters_diff(want, got)
    iface = rtr_stats("wan0")
    bad += ["wan0's %s is %d, the namespace's %d" % (k, iface.get(k, -1), v)
            for k, v in sorted(got.items()) if iface.get(k) != v]
    return got, bad


def stats_reset():
    subprocess.run(["ip", "netns", "exec", "rtr", SIPALGCTL, "stats", "--reset"],
                   check=True)


def counters_diff(want, got):
    """The counters of want that got disagrees with, and the identities
    every run must keep: seen = parsed + malformed + spans-segments,
    parsed = rewritten + the unchanged ones."""
    bad = ["%s: want %d, got %s" % (k, v, got.get(k)) for k, v in sorted(want.items())
           if got.get(k) != v]
    malformed = sum(v for k, v in got.items() if k.startswith("malformed-"))
    if got["messages-seen"] != got["messages-parsed"] + malformed + got["unchanged-spans-segments"]:
        bad.append("messages-seen %d != parsed %d + malformed %d + spans-segments %d" % (
            got["messages-seen"], got["messages-parsed"], malformed,
            got["unchanged-spans-segments"]))
    unchanged = sum(got[k] for k in ("unchanged-not-translated", "unchanged-pinhole-mode",
                                     "unchanged-nothing-to-rewrite",
                                     "unchanged-mangle-failed"))
    if got["messages-parsed"] != got["messages-rewritten"] + unchanged:
        bad.append("messages-parsed %d != rewritten %d + unchanged %d" % (
            got["messages-parsed"], got["messages-rewritten"], unchanged))
    return bad


def expected_counters(preds, mode, drop):
    """What rtr must count for datagrams whose oracle answers are preds."""
    want = {"messages-seen": 0, "messages-parsed": 0, "messages-rewritten": 0,
            "messages-dropped": 0}
    for data, (ok, out, reason) in preds:
        if keepalive(data):
            continue
        want["messages-seen"] += 1
        if ok:
            want["messages-parsed"] += 1
            want["messages-rewritten"] += out != data
        else:
            k = "malformed-" + reason
            want[k] = want.get(k, 0) + 1
            want["messages-dropped"] += drop
    if mode == "pinhole":
        want["messages-rewritten"] = 0
    return want


class Report:
    def __init__(self):
        self.failed = False

    def result(self, ok, desc, diags=()):
        for d in list(diags)[:12]:
            print("# " + d)
        print(("ok " if ok else "not ok ") + desc, flush=True)
        self.failed |= not ok


# ----------------------------------------------------------------------- udp

def udp_direction(src, dst, dst_addr, msgs, oracle, reply, drop):
    """Sends each message from src to dst_addr; returns the oracle's answers
    and the failures."""
    preds, bad, lost = [], [], 0
    for name, data in msgs:
        if lost >= 3:
            bad.append("gave up after 3 datagrams lost")
            break
        ok, out, reason = oracle.predict(data, reply=reply)
        preds.append((data, (ok, out, reason)))
        src.sendto(data, dst_addr)
        if keepalive(data):
            # Skipped by the module, forwarded as sent.
            out, ok = data, True
        if drop and not ok:
            continue
        try:
            got = dst.recv(70000)
        except socket.timeout:
            bad.append("%s: %s did not arrive" % (name, "predicted" if ok else "malformed (%s)" % reason))
            lost += 1
            continue
        if got != out:
            bad.append("%s (%s): %s" % (name, "ok" if ok else reason, first_difference(out, got)))
    # A datagram that should have been dropped would arrive before this one.
    marker = b"\r\n\r\n"
    src.sendto(marker, dst_addr)
    try:
        got = dst.recv(70000)
        if got != marker:
            bad.append("after the last message: an unexpected datagram: %r" % got[:80])
    except socket.timeout:
        bad.append("the final keep-alive did not arrive")
    return preds, bad


def run_udp(fam, mode, malformed, msgs, report):
    net = NET[fam]
    drop = malformed == "drop"
    lan = sock_in("lan", net["af"], socket.SOCK_DGRAM)
    wan = sock_in("wan", net["af"], socket.SOCK_DGRAM)
    for s, addr in ((lan, net["phone"]), (wan, net["peer"])):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.settimeout(TIMEOUT)
        s.bind((addr, PORT))
    # A keep-alive opens the flow (not counted): where did rtr put it?
    lan.sendto(b"\r\n", (net["peer"], PORT))
    _, public = wan.recvfrom(100)
    oracle = Oracle((net["phone"], PORT), public[:2], mode)
    what = "UDP IPv%d %s %s" % (fam, mode, malformed)
    stats_reset()
    preds, bad = udp_direction(lan, wan, (net["peer"], PORT), msgs, oracle, False, drop)
    preds2, bad2 = udp_direction(wan, lan, public[:2], msgs, oracle, True, drop)
    changed = sum(1 for d, (ok, out, _r) in preds + preds2 if ok and out != d)
    dropped = sum(1 for d, (ok, _o, _r) in preds + preds2 if drop and not ok and not keepalive(d))
    report.result(not bad and not bad2,
                  "%s: %d datagrams each way (%d predicted rewritten, %d dropped) arrive as "
                  "sipalgctl rewrite predicts" % (what, len(msgs), changed if mode == "rewrite" else 0,
                                                  dropped),
                  ["lan->wan " + b for b in bad] + ["wan->lan " + b for b in bad2])
    want = expected_counters(preds + preds2, mode, drop)
    _got, bad = counted(want)
    report.result(not bad, "%s: counters add up (%d seen, %d parsed, %d malformed)" % (
        what, want["messages-seen"], want["messages-parsed"],
        want["messages-seen"] - want["messages-parsed"]), bad)
    lan.close()
    wan.close()
    return len(msgs) * 2


# ----------------------------------------------------------------------- tcp

SIOCOUTQ = 0x5411
ETH_P_ALL = 3


def wait_acked(s):
    """Until every byte written on s is acknowledged."""
    end = time.monotonic() + TIMEOUT
    buf = bytearray(4)
    while time.monotonic() < end:
        fcntl.ioctl(s, SIOCOUTQ, buf)
        if struct.unpack("i", buf)[0] == 0:
            return True
        time.sleep(0.001)
    return False


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Frames:
    """The TCP data frames a namespace sends on eth0, to send them again."""

    def __init__(self, ns, fam, port):
        self.s = sock_in(ns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind(("eth0", 0))
        self.s.setblocking(False)
        self.fam, self.port = fam, port

    def split(self, frame):
        """(ip offset, tcp offset, payload offset) of an outgoing data
        segment from our port, or None."""
        ip = 14
        if self.fam == 4:
            if frame[12:14] != b"\x08\x00" or frame[ip + 9] != 6:
                return None
            tcp = ip + (frame[ip] & 15) * 4
        else:
            if frame[12:14] != b"\x86\xdd" or frame[ip + 6] != 6:
                return None
            tcp = ip + 40
        if struct.unpack_from("!H", frame, tcp)[0] != self.port:
            return None
        data = tcp + (frame[tcp + 12] >> 4) * 4
        return (ip, tcp, data) if len(frame) > data else None

    def sent(self):
        """The data segments sent since the last call."""
        out = []
        while True:
            try:
                frame, addr = self.s.recvfrom(70000)
            except BlockingIOError:
                return out
            if addr[2] == socket.PACKET_OUTGOING and self.split(frame):
                out.append(frame)

    def seq(self, frame):
        return struct.unpack_from("!I", frame, self.split(frame)[1] + 4)[0]

    def rebuild(self, frame, payload, seq=None):
        """frame with another payload (and sequence number seq), lengths
        and checksums made right.  Its header keeps frame's TCP timestamp:
        a segment with an older one than the receiver last saw would be
        dropped by the receiver (PAWS, RFC 7323), as no sender sends it."""
        ip, tcp, data = self.split(frame)
        hdr = bytearray(frame[:data])
        if seq is not None:
            struct.pack_into("!I", hdr, tcp + 4, seq)
        seg = bytes(hdr[tcp:]) + payload
        if self.fam == 4:
            struct.pack_into("!H", hdr, ip + 2, data - ip + len(payload))
            struct.pack_into("!H", hdr, ip + 10, 0)
            struct.pack_into("!H", hdr, ip + 10, csum(bytes(hdr[ip:tcp])))
            pseudo = bytes(hdr[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(seg))
        else:
            struct.pack_into("!H", hdr, ip + 4, len(seg))
            pseudo = bytes(hdr[ip + 8:ip + 40]) + struct.pack("!IxxxB", len(seg), 6)
        seg = bytearray(seg)
        struct.pack_into("!H", seg, 16, 0)
        struct.pack_into("!H", seg, 16, csum(pseudo + bytes(seg)))
        return bytes(hdr[:tcp]) + bytes(seg)

    def payload(self, frame):
        return frame[self.split(frame)[2]:]

    def resend(self, frame):
        self.s.send(frame)


def cut(rng, stream, bounds):
    """Segment lengths: mostly random offsets, sometimes at a message
    boundary, never more than SEGMENT_MAX."""
    out, pos = [], 0
    while pos < len(stream):
        n = rng.randrange(1, SEGMENT_MAX + 1)
        if rng.random() < 0.3:
            later = [b for b in bounds if pos < b <= pos + SEGMENT_MAX]
            if later:
                n = rng.choice(later) - pos
        n = min(n, len(stream) - pos)
        out.append(n)
        pos += n
    return out


def header_len(m):
    end = m.find(b"\r\n\r\n")
    return end + 4 if end >= 0 else len(m) + 1


def tcp_expected(msgs, seglens, oracle, reply):
    """What the receiver must read, and whether rtr knows where a message
    begins after the last one.  A message that lies in one segment is
    rewritten as the oracle says, if rtr knows where it begins; one that
    spans segments passes unchanged.  rtr knows where the first message
    begins, where one begins after a message it handled, and after one
    that spans segments if that one's header section was in its first
    segment (then its Content-Length gives its end); after a message whose
    header section was cut it knows again only when a segment begins with
    a message (issue 17: the continuation is never taken for a message)."""
    segs, pos = [], 0
    for n in seglens:
        segs.append((pos, pos + n))
        pos += n
    out, pos, cuts, known, i, rewritten = b"", 0, 0, True, 0, 0
    for data in msgs:
        end = pos + len(data)
        while segs[i][1] <= pos:
            i += 1
        a, b = segs[i]
        known |= a == pos
        inside = end <= b
        cuts += not inside
        want = oracle.predict(data, reply=reply, tcp=True)[1] if known and inside else data
        rewritten += want != data
        out += want
        if not inside:
            known = known and pos + header_len(data) <= b
        pos = end
    return out, cuts, known, rewritten


def begins_message(oracle, data):
    """Whether data, from its first byte (after any CR and LF), begins
    with a well-formed message: its header section and the body its
    Content-Length gives parse on their own.  rtr, unsure where a message
    begins, takes a segment for the rest of a message only when it does
    not (sipalg_stream.c): one that does begins a message again, and what
    follows that message in the segment is parsed as the next."""
    data = data.lstrip(b"\r\n")
    head = data.find(b"\r\n\r\n")
    cl = CL.search(data[:head]) if head >= 0 else None
    return bool(cl) and oracle.predict(data[:head + 4 + int(cl.group(3))], tcp=True)[0]


def tcp_direction(rng, wsock, rsock, frames, msgs, oracle, reply, tail):
    """Writes msgs in random segments on wsock (then tail, a malformed
    message, alone), sending some segments again as they were and some
    joined with their successor; returns (what rsock read, expected, the
    number of segments, of messages cut, of resent frames, whether the
    tail is dropped, the number of messages rewritten)."""
    stream = b"".join(msgs)
    bounds, pos = [], 0
    for m in msgs:
        pos += len(m)
        bounds.append(pos)
    seglens = cut(rng, stream, bounds)
    want, cuts, known, rewritten = tcp_expected(msgs, seglens, oracle, reply)
    # The malformed tail is dropped where rtr knows a message begins
    # there, or where it begins with a well-formed message (as the corpus's
    # Content-Length too short, garbage after it) that rtr takes for one.
    dropped = tail is not None and (known or begins_message(oracle, tail))
    if tail is not None and not dropped:
        # rtr cannot tell it from the rest of a message: it passes.
        want += tail
    frames.sent()
    pos, resent, prev = 0, 0, None
    for n in seglens:
        wsock.sendall(stream[pos:pos + n])
        pos += n
        if not wait_acked(wsock):
            break
        sent = frames.sent()
        if len(sent) == 1 and rng.random() < 0.1:
            frames.resend(sent[0])
            resent += 1
        if len(sent) == 1 and prev and rng.random() < 0.1 and \
                len(frames.payload(prev)) + len(frames.payload(sent[0])) <= SEGMENT_MAX:
            frames.resend(frames.rebuild(sent[0], frames.payload(prev) + frames.payload(sent[0]),
                                         frames.seq(prev)))
            resent += 1
        prev = sent[0] if len(sent) == 1 else None
    if tail is not None:
        wsock.sendall(tail)
    got = b""
    rsock.settimeout(TIMEOUT if tail is None else 2 * SLOW)
    while len(got) < len(want) + (len(tail) if dropped else 0):
        try:
            data = rsock.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        got += data
    return got, want, len(seglens), cuts, resent, dropped, rewritten


def run_tcp(fam, mode, malformed, msgs, rng, report):
    net = NET[fam]
    drop = malformed == "drop"
    listener = sock_in("wan", net["af"], socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((net["peer"], PORT))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    wan_frames = Frames("wan", fam, PORT)
    phone = sock_in("lan", net["af"], socket.SOCK_STREAM)
    lan_frames = Frames("lan", fam, PORT)
    phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # No TIME_WAIT: the next run connects from the same address and port.
    phone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    phone.bind((net["phone"], PORT))
    phone.settimeout(TIMEOUT)
    phone.connect((net["peer"], PORT))
    peer, public = listener.accept()
    peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    oracle = Oracle((net["phone"], PORT), public[:2], mode)
    what = "TCP IPv%d %s %s" % (fam, mode, malformed)

    # Up to TCP_MESSAGES that frame on their own in a stream, in a random
    # order; drop mode ends with a malformed one.
    framed, tail = [], None
    for _n, d in rng.sample(msgs, len(msgs)):
        if keepalive(d) or len(d) > SEGMENT_MAX * 8:
            continue
        ok, _o, reason = oracle.predict(d, tcp=True)
        if ok and len(framed) < TCP_MESSAGES and oracle.predict(d, reply=True, tcp=True)[0]:
            framed.append(d)
        elif not ok and tail is None and drop and len(d) <= SEGMENT_MAX and \
                reason not in ("incomplete", "body-truncated"):
            tail = d
        if len(framed) == TCP_MESSAGES and (tail is not None or not drop):
            break
    stats_reset()
    total, tail_dropped, rewrites = 0, False, 0
    for name, w, r, wf, reply in (("phone->wan", phone, peer, lan_frames, False),
                                  ("wan->phone", peer, phone, wan_frames, True)):
        got, want, nseg, cuts, resent, dropped, rewritten = tcp_direction(rng, w, r, wf, framed, oracle, reply,
                                                      tail if not reply else None)
        total += len(framed) + (tail is not None and not reply)
        tail_dropped |= dropped
        rewrites += rewritten
        diags = [] if got == want else [first_difference(want, got)]
        report.result(got == want,
                      "%s %s: %d messages in %d segments (%d cut across segments, %d resent or "
                      "overlapping)%s: the stream reads as predicted" % (
                          what, name, len(framed), nseg, cuts, resent,
                          "" if tail is None or reply else
                          ", then a malformed one alone, %s" % (
                              "dropped" if dropped else "passed as the rest of a message"),
                      ), diags)
    # Closed (RST): no retransmission changes the counters while they are read.
    for s in (phone, peer, listener):
        s.close()
    got, bad = counted({})
    # Old segments sent again may be rewritten again: at least.
    if got["messages-rewritten"] < rewrites or (mode == "pinhole" and got["messages-rewritten"]):
        bad.append("messages-rewritten %d in %s mode, %d predicted" % (
            got["messages-rewritten"], mode, rewrites))
    if drop and tail_dropped and not got["messages-dropped"]:
        bad.append("the malformed last segment was not counted as dropped")
    if not drop and got["messages-dropped"]:
        bad.append("messages-dropped %d in pass mode" % got["messages-dropped"])
    report.result(not bad, "%s: counters add up (%d seen, %d parsed, %d spanning segments)" % (
        what, got["messages-seen"], got["messages-parsed"], got["unchanged-spans-segments"]), bad)
    return total


def configure(mode, malformed):
    """wan0's settings for the run, and no flow or pinhole of the last."""
    rtr = ["ip", "netns", "exec", "rtr"]
    subprocess.run(rtr + [SIPALGCTL, "enable", "wan0", "mode", mode, "malformed", malformed],
                   check=True)
    for what in ([], ["expect"]):
        subprocess.run(rtr + ["conntrack", "-F"] + what, capture_output=True)


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    seed, n, files, runs = int(argv[1]), int(argv[2]), int(argv[3]), argv[4].split(",")
    msgs = messages(load_seeds(argv[5:]), n, files, random.Random(seed))
    print("# %d messages: %d files of the corpora, %d mutations (seed %d)" % (
        len(msgs), len(msgs) - n, n, seed))
    report = Report()
    for run in runs:
        transport, fam, mode, malformed = run.split(":")
        rng = random.Random("%d %s" % (seed, run))
        start, calls = time.monotonic(), Oracle.calls
        configure(mode, malformed)
        if transport == "udp":
            sent = run_udp(int(fam), mode, malformed, msgs, report)
        else:
            sent = run_tcp(int(fam), mode, malformed, msgs, rng, report)
        print("# sent %s IPv%s %s %s: %d messages (%d oracle runs, %.1f s)" % (
            transport.upper(), fam, mode, malformed, sent, Oracle.calls - calls,
            time.monotonic() - start), flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
