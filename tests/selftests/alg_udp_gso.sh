#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# Aggregated UDP: several datagrams in one packet.  The phone
# (192.168.1.200, so that a rewrite changes lengths) sends two OPTIONS of
# the same length in one sendmsg() with UDP_SEGMENT: one GSO packet, which
# veth hands to rtr whole; rtr forwards it (masquerade, sipalg by
# nftables) and it is cut back into two datagrams on its way out.  Were
# the first message rewritten in place, the cut would shift the second.
# So: both datagrams reach wan byte for byte as sent, the aggregate is
# counted in unchanged-aggregated, and a single datagram after it on the
# same flow is rewritten as usual.  About 15 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3

PHONE_IP=192.168.1.200

test_cleanup() {
	peers_stop
}

ktap_header 4
sipalg_unload
klog_mark "alg_udp_gso"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup && ip -n lan addr add "$PHONE_IP/24" dev eth0 &&
		rtr_ct_helper sipalg udp 5060 &&
		udp_sink_start wan 203.0.113.2 5060 wansink
}
ktap_check_here "topology, phone at $PHONE_IP, sipalg on UDP 5060" setup

# Sends FILE... from PHONE_IP:5060 in one sendmsg(), UDP_SEGMENT the
# length of the first.
GSO_PY='
import socket, sys
SOL_UDP, UDP_SEGMENT = 17, 103
msgs = [open(f, "rb").read() for f in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5060))
s.setsockopt(SOL_UDP, UDP_SEGMENT, len(msgs[0]))
s.sendto(b"".join(msgs), ("203.0.113.2", 5060))
'

two_in_one() {
	local d=$SELFTEST_TMP
	sip_options "$PHONE_IP" 5060 203.0.113.2 | sed 's/Call-ID: [^@]*/Call-ID: gso-1/' >"$d/m1"
	sed 's/gso-1/gso-2/' "$d/m1" >"$d/m2"
	lan python3 -c "$GSO_PY" "$PHONE_IP" "$d/m1" "$d/m2" || return 1
	wait_for 100 sink_has_more wansink 1 || { echo "$(udp_sink_count wansink) datagrams arrived"; return 1; }
	sleep 0.5
	echo "$(udp_sink_count wansink) datagrams arrived; unchanged-aggregated" \
		"$(sipalg_stat unchanged-aggregated), messages-rewritten $(sipalg_stat messages-rewritten)"
	[ "$(udp_sink_count wansink)" = 2 ] &&
		bytes_equal "$d/m1" "$d/wansink/1" && bytes_equal "$d/m2" "$d/wansink/2" &&
		[ "$(sipalg_stat unchanged-aggregated)" = 1 ] &&
		[ "$(sipalg_stat messages-rewritten)" = 0 ]
}
ktap_check "two OPTIONS in one GSO packet: both arrive as sent, counted in unchanged-aggregated" two_in_one

single_after() {
	local rx
	sip_options "$PHONE_IP" 5060 203.0.113.2 >"$SELFTEST_TMP/m3"
	rx=$(deliver lan "$PHONE_IP" 5060 203.0.113.2 5060 "$SELFTEST_TMP/m3" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/m3" "$PHONE_IP:5060" &&
		[ "$(sipalg_stat messages-rewritten)" = 1 ]
}
ktap_check "a single datagram after it on the same flow is rewritten" single_after

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
