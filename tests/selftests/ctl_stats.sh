#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# `sipalgctl stats` and `sipalgctl flows`:
# - the counters of wan0, of lan1 and of the namespace equal exactly the
#   traffic sent through each (every counter, not only the non-zero ones),
#   /proc/net/sipalg_stats agrees, and --reset zeroes an interface's or all;
# - during a call (sipp, lan -> wan) `flows` lists it with its six media
#   pinholes (audio and video the phone offered, audio the callee answered:
#   RTP and RTCP each), in text and JSON; after the BYE they are gone.
#
#   lan  192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
#   lan2 10.0.2.2    -- lan1 [   ]
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3 jq sipp

test_cleanup() {
	peers_stop
	lan2_cleanup
}

ktap_header 8
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
lan2_setup || ktap_diag "lan2 setup failed"
udp_sink_start wan 203.0.113.2 5060 wansink || ktap_diag "no sink on wan"
udp_sink_start lan2 10.0.2.2 5060 lan2sink || ktap_diag "no sink on lan2"
if ! ctl rtr enable wan0 || ! ctl rtr enable lan1; then
	ktap_diag "cannot enable sipalg on wan0 and lan1"
fi
klog_mark "ctl_stats"

# expect_counters NS IFACE|- NAME=VALUE...: every counter is as listed, or 0.
expect_counters() {
	local ns=$1 iface=$2 want got kv
	shift 2
	if [ "$iface" = - ]; then got=$(counters "$ns"); else got=$(counters "$ns" "$iface"); fi
	want=$(awk '{ print $1, 0 }' <<<"$got")
	for kv in "$@"; do
		grep -q "^${kv%=*} " <<<"$want" || { echo "no counter ${kv%=*}"; return 1; }
		# shellcheck disable=SC2001 # a line anchored in a multi-line string
		want=$(sed "s/^${kv%=*} 0\$/${kv%=*} ${kv#*=}/" <<<"$want")
	done
	if [ "$got" != "$want" ]; then
		# (no process substitution: the VM has no /dev/fd)
		echo "$want" >"$SELFTEST_TMP/want.ctr"
		echo "$got" >"$SELFTEST_TMP/got.ctr"
		echo "counters of ${iface/#-/the namespace}, want / got:"
		diff "$SELFTEST_TMP/want.ctr" "$SELFTEST_TMP/got.ctr"
		return 1
	fi
	echo "counters of ${iface/#-/the namespace}: $(grep -v ' 0$' <<<"$got" | tr '\n' ' ')"
}

send_all() { # NS SRC DST SINK PORT:FILE...
	local ns=$1 src=$2 dst=$3 sink=$4 pf
	shift 4
	for pf in "$@"; do
		deliver "$ns" "$src" "${pf%%:*}" "$dst" 5060 "$SELFTEST_TMP/${pf#*:}" "$sink" >/dev/null ||
			return 1
	done
}

wan0_exact() {
	sip_invite 192.168.1.2 5060 203.0.113.2 6000 >"$SELFTEST_TMP/w1"
	sip_invite 192.168.1.2 5062 203.0.113.2 6002 >"$SELFTEST_TMP/w2"
	sip_invite 192.168.1.2 5064 203.0.113.2 6004 >"$SELFTEST_TMP/w3"
	sip_options 192.168.1.2 5066 203.0.113.2 >"$SELFTEST_TMP/w4"
	sip_bad_via 192.168.1.2 5068 203.0.113.2 >"$SELFTEST_TMP/w5"
	send_all lan 192.168.1.2 203.0.113.2 wansink 5060:w1 5062:w2 5064:w3 5066:w4 5068:w5 ||
		return 1
	echo "sent through wan0: 3 INVITEs with SDP, 1 OPTIONS, 1 with a bad Via"
	expect_counters rtr wan0 messages-seen=5 messages-parsed=4 messages-rewritten=4 \
		expectations-created=6 malformed-bad-via=1
}
ktap_check "wan0's counters equal the 5 messages sent through it, every counter" wan0_exact

lan1_exact() {
	sip_invite 192.168.1.2 5070 10.0.2.2 6010 >"$SELFTEST_TMP/l1"
	sip_invite 192.168.1.2 5072 10.0.2.2 6012 >"$SELFTEST_TMP/l2"
	send_all lan 192.168.1.2 10.0.2.2 lan2sink 5070:l1 5072:l2 || return 1
	echo "sent through lan1: 2 INVITEs with SDP"
	expect_counters rtr lan1 messages-seen=2 messages-parsed=2 messages-rewritten=2 \
		expectations-created=4 &&
		expect_counters rtr wan0 messages-seen=5 messages-parsed=4 messages-rewritten=4 \
			expectations-created=6 malformed-bad-via=1
}
ktap_check "lan1's counters equal its 2 messages; wan0's did not move" lan1_exact

namespace_sum() {
	expect_counters rtr - messages-seen=7 messages-parsed=6 messages-rewritten=6 \
		expectations-created=10 malformed-bad-via=1 || return 1
	rtr sort /proc/net/sipalg_stats >"$SELFTEST_TMP/proc"
	counters rtr >"$SELFTEST_TMP/stats"
	bytes_equal "$SELFTEST_TMP/stats" "$SELFTEST_TMP/proc" && echo "/proc/net/sipalg_stats agrees"
}
ktap_check "the namespace's counters are the sum, /proc/net/sipalg_stats agrees" namespace_sum

reset_one() {
	ctl rtr stats --reset wan0 || return 1
	expect_counters rtr wan0 &&
		expect_counters rtr lan1 messages-seen=2 messages-parsed=2 messages-rewritten=2 \
			expectations-created=4 &&
		expect_counters rtr - messages-seen=7 messages-parsed=6 messages-rewritten=6 \
			expectations-created=10 malformed-bad-via=1
}
ktap_check "stats --reset wan0 zeroes wan0 only" reset_one

reset_all() {
	local nonzero
	ctl rtr stats --reset || return 1
	expect_counters rtr wan0 && expect_counters rtr lan1 && expect_counters rtr - || return 1
	nonzero=$(rtr grep -v ' 0$' /proc/net/sipalg_stats)
	[ -z "$nonzero" ] || { echo "/proc/net/sipalg_stats: $nonzero"; return 1; }
	# Counting goes on from zero.
	sip_invite 192.168.1.2 5074 203.0.113.2 6014 >"$SELFTEST_TMP/w6"
	send_all lan 192.168.1.2 203.0.113.2 wansink 5074:w6 &&
		expect_counters rtr wan0 messages-seen=1 messages-parsed=1 messages-rewritten=1 \
			expectations-created=2
}
ktap_check "stats --reset zeroes the namespace and every interface; counting goes on" reset_all

# ------------------------------------------------------------- a live call

# audio + video offered by the phone (NATed: to 192.168.1.2), audio
# answered by the callee (not NATed): RTP and RTCP each.
call_pinholes() {
	ctl rtr flows -j | jq -c '[.[] | select(.src == "192.168.1.2" and .sport == 5060
		and .dst == "203.0.113.2" and .dport == 5060) | .pinholes[]
		| [.class, .dst, .dport, .to, .to_port]] | sort'
}

pinholes_are() {
	[ "$(call_pinholes)" = "$1" ]
}

WANT_PINHOLES='[["media","203.0.113.1",9998,"192.168.1.2",9998],["media","203.0.113.1",9999,"192.168.1.2",9999],["media","203.0.113.1",16002,"192.168.1.2",16002],["media","203.0.113.1",16003,"192.168.1.2",16003],["media","203.0.113.2",20000,null,null],["media","203.0.113.2",20001,null,null]]'

rtr conntrack -F 2>/dev/null
udp_sink_stop

live_call_listed() {
	sipp_start callee wan -sf "$PEERS_DIR/call_uas.xml" -i 203.0.113.2 -p 5060 \
		-m 1 -timeout "$(slow 60)"
	wait_for 300 listens wan udp 5060 ||
		{ echo "the callee does not listen"; return 1; }
	sipp_start phone lan -sf "$PEERS_DIR/call_uac.xml" -i 192.168.1.2 -p 5060 \
		-m 1 -d "$(slow 8000)" -timeout "$(slow 60)" 203.0.113.2:5060
	if ! wait_for 300 pinholes_are "$WANT_PINHOLES"; then
		echo "flows -j: $(ctl rtr flows -j | jq -c .)"
		return 1
	fi
	[ ! -e "$SELFTEST_TMP/phone/bye" ] || { echo "the call ended before the check"; return 1; }
	ctl rtr flows >"$SELFTEST_TMP/flows.txt" || return 1
	cat "$SELFTEST_TMP/flows.txt"
	grep -q '^udp 192\.168\.1\.2:5060 -> 203\.0\.113\.2:5060 snat 203\.0\.113\.1:5060 timeout [0-9]' \
		"$SELFTEST_TMP/flows.txt" &&
		grep -q '^  pinhole media udp any -> 203\.0\.113\.1:9998 to 192\.168\.1\.2:9998 timeout [0-9]' \
			"$SELFTEST_TMP/flows.txt" &&
		grep -q '^  pinhole media udp any -> 203\.0\.113\.2:20000 timeout [0-9]' \
			"$SELFTEST_TMP/flows.txt" &&
		[ "$(grep -c '^  pinhole ' "$SELFTEST_TMP/flows.txt")" = 6 ]
}
ktap_check_here "flows lists the live call and its 6 pinholes (JSON and text)" live_call_listed

call_over() {
	sipp_wait phone && sipp_wait callee || return 1
	wait_for 50 pinholes_are "[]" || { ctl rtr flows; return 1; }
	echo "after the BYE: $(ctl rtr flows | tr '\n' ';')"
}
ktap_check_here "the call ends (both sipp exit 0); its pinholes are gone from flows" call_over

ktap_check_klog

ktap_finish
