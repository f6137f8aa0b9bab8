#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# The registration keep-alive keeps only live flows.  The phone registers
# over TCP (Expires 3600) with kamailio on wan, through rtr (masquerade,
# sipalg by nftables): while the connection is open its conntrack is kept
# for the registration (over 3000 s left); then the phone closes the
# connection and kamailio closes its side: the conntrack goes with the TCP
# timeouts (TIME_WAIT, 120 s at most), not the registration's hour.  The
# same for a connection the phone resets.  About 30 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack kamailio python3

test_cleanup() {
	peers_stop
}

ktap_header 5
sipalg_unload
klog_mark "alg_reg_tcp_close"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup && rtr_ct_helper sipalg tcp 5060 && kamailio_start
}
ktap_check_here "topology, sipalg on TCP 5060, kamailio on wan" setup

# A REGISTER over TCP from PORT, its 200 OK, a pause with the connection
# open (the test looks at the conntrack: it writes DIR/.registered and
# waits for DIR/.go), then a close (or a reset, with "reset").
PHONE_PY='
import os, socket, struct, sys, time
port, d, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.settimeout(20)
s.bind(("192.168.1.2", port))
s.connect(("203.0.113.2", 5060))
me = "192.168.1.2:%d" % port
req = ("REGISTER sip:203.0.113.2 SIP/2.0\r\n"
       "Via: SIP/2.0/TCP %s;branch=z9hG4bK-reg-%d;rport\r\n"
       "Max-Forwards: 70\r\n"
       "From: <sip:phone%d@203.0.113.2>;tag=%d\r\n"
       "To: <sip:phone%d@203.0.113.2>\r\n"
       "Call-ID: reg-tcp-%d@example.com\r\n"
       "CSeq: 1 REGISTER\r\n"
       "Contact: <sip:phone@%s;transport=tcp>\r\n"
       "Expires: 3600\r\n"
       "Content-Length: 0\r\n\r\n") % (me, port, port, port, port, port, me)
s.sendall(req.encode())
rx = b""
while b"\r\n\r\n" not in rx:
    data = s.recv(4096)
    if not data:
        sys.exit("closed before the answer")
    rx += data
print(rx.split(b"\r\n")[0].decode())
open(d + "/.registered", "w").close()
while not os.path.exists(d + "/.go"):
    time.sleep(0.1)
if how == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
else:
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
'

# ct_timeout PORT: state and seconds left of the phone's TCP conntrack.
ct_timeout() {
	rtr conntrack -L -p tcp --orig-src 192.168.1.2 --sport "$1" 2>/dev/null |
		awk '{ print $4, $3; exit }'
}

# register_then_close PORT close|reset
register_then_close() {
	local port=$1 how=$2 d=$SELFTEST_TMP/$1 pid live closed rc=0
	mkdir -p "$d"
	lan python3 -c "$PHONE_PY" "$port" "$d" "$how" &
	pid=$!
	wait_for 200 test -e "$d/.registered" || { echo "no answer to the REGISTER"; stop_bg "$pid"; return 1; }
	sleep 0.5
	live=$(ct_timeout "$port")
	echo "registered, connection open: ${live:-no conntrack}"
	touch "$d/.go"
	wait "$pid" || rc=1
	sleep 1
	closed=$(ct_timeout "$port")
	echo "after the $how: ${closed:-no conntrack}"
	[ "$rc" = 0 ] && [ "${live#* }" -gt 3000 ] || return 1
	# A reset conntrack may already be gone; a closed one is in TIME_WAIT.
	[ -z "$closed" ] && [ "$how" = reset ] && return 0
	[ "${closed#* }" -le 120 ]
}

closed() {
	register_then_close 5070 close
}
ktap_check "registered over TCP (Expires 3600): kept alive while open, TCP timeouts once closed" closed

reset() {
	register_then_close 5072 reset
}
ktap_check "the same with a reset: not kept for the registration" reset

tracked() {
	echo "registrations-tracked $(sipalg_stat registrations-tracked)"
	[ "$(sipalg_stat registrations-tracked)" = 2 ]
}
ktap_check "both registrations were tracked" tracked

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
