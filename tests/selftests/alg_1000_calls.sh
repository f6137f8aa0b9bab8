#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# 1000 calls set up and torn down through the ALG: sipp's built-in uac on
# lan calls its built-in uas on wan (INVITE with SDP, 180, 200 with SDP,
# ACK, BYE, 200), 50 calls/s, all over the one masqueraded signalling flow.
# Every call completes; every message is seen, parsed and rewritten; every
# expectation created (the media pinholes of each offer and answer) is
# removed again; rtr is left with no expectation and no conntrack but the
# signalling flow; the module unloads; the kernel log stays clean.
#
# sipp retransmits nothing (-nr) and gets 4 MiB socket buffers: a TCG VM
# shared with other work schedules sipp late, and its uas aborts a call on
# a retransmitted INVITE that arrives while it waits for the ACK, or on a
# datagram dropped at a full socket buffer, for reasons that are not the
# router's.  Without retransmissions the counts are exact: 6 messages and
# 4 expectations (RTP and RTCP of the offer and of the answer) a call.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft conntrack sipp

CALLS=${ALG_CALLS:-1000}
RATE=${ALG_CALLS_RATE:-50}

test_cleanup() {
	peers_stop
	[ -z "${RMEM_MAX:-}" ] || sysctl -qw net.core.rmem_max="$RMEM_MAX" \
		net.core.wmem_max="$WMEM_MAX"
}

sipalg_expectations() {
	rtr cat /proc/net/nf_conntrack_expect 2>/dev/null | grep -c ' sipalg/'
}

wan_listening() {
	wan ss -Huln "sport = :5060" | grep -q '203\.0\.113\.2:5060'
}

ktap_header 4
sipalg_unload
klog_mark "$CALLS calls"

setup() {
	RMEM_MAX=$(sysctl -n net.core.rmem_max)
	WMEM_MAX=$(sysctl -n net.core.wmem_max)
	sysctl -qw net.core.rmem_max=4194304 net.core.wmem_max=4194304 || return 1
	# one host places every call: the limits per source off; as many call
	# records on the flow as sipp may have calls open (-l 200): on a loaded
	# host calls overlap more than the default 64 allows
	sipalg_load limit_rate=0 limit_calls=0 max_flow_dialogs=200 || return 1
	topo_setup || return 1
	rtr_ct_helper sipalg udp 5060 || return 1
	BASE_CT=$(rtr conntrack -C)
	echo "baseline: $BASE_CT conntracks, $(sipalg_expectations) expectations"
}

calls() {
	setup || return 1
	sipp_start uas wan -sn uas -i 203.0.113.2 -p 5060 -buff_size 4194304 \
		-nr -timeout 280
	wait_for 100 wan_listening || { echo "the callee's sipp is not listening"; return 1; }
	START=$SECONDS
	sipp_start uac lan -sn uac -i 192.168.1.2 -p 5060 -m "$CALLS" -r "$RATE" \
		-l 200 -buff_size 4194304 -nr -timeout 240 -timeout_error 203.0.113.2:5060
	sipp_wait uac || return 1
	echo "$CALLS calls in $((SECONDS - START)) s"
	grep -E 'Successful call|Failed call' "$SELFTEST_TMP/uac/sipp.out" | tail -n 2
	grep -A 10 'Messages  Retrans' "$SELFTEST_TMP/uac/sipp.out" | tail -n 11
	grep -Eq "Successful call .*\| +$CALLS *\$" "$SELFTEST_TMP/uac/sipp.out"
}
ktap_check_here "$CALLS calls at $RATE/s through rtr: sipp completes every one" calls
ktap_diag "$(grep -E 'Successful call' "$SELFTEST_TMP/uac/sipp.out" 2>/dev/null | tail -n 1 | tr -s ' ')"

baseline() {
	local c ct exp
	for c in messages-seen messages-parsed messages-rewritten \
		expectations-created expectations-renewed expectations-removed \
		expectations-failed; do
		echo "$c $(sipalg_stat "$c")"
	done
	ct=$(rtr conntrack -C)
	exp=$(rtr cat /proc/net/nf_conntrack_expect | wc -l)
	echo "rtr: $ct conntracks (baseline $BASE_CT), $exp expectations"
	rtr conntrack -L 2>/dev/null | head -n 5
	[ "$exp" = 0 ] && [ "$ct" -le $((BASE_CT + 1)) ] &&
		[ "$(sipalg_stat messages-seen)" = $((CALLS * 6)) ] &&
		[ "$(sipalg_stat messages-parsed)" = $((CALLS * 6)) ] &&
		[ "$(sipalg_stat messages-rewritten)" = $((CALLS * 6)) ] &&
		[ $(($(sipalg_stat expectations-created) +
			$(sipalg_stat expectations-renewed))) = $((CALLS * 4)) ] &&
		[ "$(sipalg_stat expectations-removed)" = \
			"$(sipalg_stat expectations-created)" ] &&
		[ "$(sipalg_stat expectations-failed)" = 0 ]
}
# Each INVITE and 200 OK asks for 2 pinholes (RTP, RTCP).  sipp offers the
# same media port in every call, so a call set up while the previous one
# is still up finds its pinholes open already: they are renewed, not
# created again.
ktap_check "after $CALLS calls: $((CALLS * 6)) messages parsed and rewritten, $((CALLS * 4)) pinholes asked for (created or renewed), all created removed, none left, conntracks at baseline + the SIP flow" \
	baseline

unload() {
	peers_stop
	topo_cleanup
	sipalg_unload && ! sipalg_loaded
}
ktap_check_here "namespaces removed, module unloads" unload

ktap_check_klog

ktap_finish
