#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317
#
# Pinholes belong to their call, not to the signalling flow: a SIP trunk
# carries 20 concurrent calls over ONE flow, each with media; the calls end
# with BYE in random order (the seed is printed), and after each BYE the
# router's pinholes are exactly those of the calls still up (the RTP and
# RTCP of each offer and answer; calls 0 and 1 offer the same media port,
# so they share its pinholes, which stay until both ended), a datagram
# through the answer pinhole of
# the next remaining call that had no media yet (while there is one)
# reaches the far end and comes back, and after the
# last BYE no pinhole is left.  Both ways (tests/selftests/peers/
# trunk_calls.py does the calls and the per-step checks):
#   - a trunk on wan (203.0.113.2:5060) calls a PBX on lan behind a port
#     forward (203.0.113.1:5060 -> 192.168.1.2:5060, as alg_dnat_pbx.sh);
#   - the PBX calls the trunk, its flow masqueraded.
# sipalg is loaded with max_flow_pinholes=100: 20 calls hold 80 pinholes on
# the flow (the default cap is 64).  The same calls through the in-tree
# nf_conntrack_sip/nf_nat_sip are run last and their outcome printed as a
# comment: it keeps the pinholes per flow (4 audio ones at most), so a
# BYE takes every call's.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack python3 jq

CALLS=20
SEED=${TRUNK_CALLS_SEED:-$RANDOM}
UAS_PID=

test_cleanup() {
	stop_bg "$UAS_PID"
	UAS_PID=
}

# setup HELPER [MODULE_ARGS...]: the port-forwarded PBX, HELPER on UDP 5060
setup() {
	local helper=$1
	shift
	test_cleanup
	topo_cleanup
	sipalg_unload
	if [ "$helper" = sipalg ]; then
		sipalg_load "$@" || { echo "sipalg does not load with $*"; return 1; }
	else
		if ! modprobe nf_conntrack_sip || ! modprobe nf_nat_sip; then
			echo "no in-tree SIP helper"
			return 1
		fi
	fi
	topo_setup && rtr_dnat_pbx && rtr_ct_helper "$helper" udp 5060
}

uas_listening() { # NS
	ip netns exec "$1" ss -Huln "sport = :5060" | grep -q .
}

# calls NAME UAS_NS UAS_IP UAC_NS UAC_IP PEER_IP PUBLIC_IP MEDIA_WAIT [N [keep]]
calls() {
	local name=$1 uas_ns=$2 uas_ip=$3 uac_ns=$4 out=$SELFTEST_TMP/$1.out rc=0 t0=$SECONDS
	shift 4
	ip netns exec "$uas_ns" python3 "$PEERS_DIR/trunk_calls.py" uas "$uas_ip" 20000 &
	UAS_PID=$!
	wait_for 100 uas_listening "$uas_ns" || { echo "the uas does not listen"; return 1; }
	ip netns exec "$uac_ns" python3 "$PEERS_DIR/trunk_calls.py" uac "$1" "$2" "$3" \
		"${5:-$CALLS}" 30000 "$SEED" "$4" ${6:+"$6"} >"$out" 2>&1 || rc=$?
	echo "exit $rc" >>"$out"
	echo "$name $((SECONDS - t0)) s" >>"$SELFTEST_TMP/times"
	test_cleanup
	signalling_flows >"$SELFTEST_TMP/$name.flows"
	return 0
}

signalling_flows() {
	rtr conntrack -L -p udp --orig-port-dst 5060 2>/dev/null | grep -c .
}

# step NAME: what the calls showed, and whether all went as they should
steps() {
	local out=$SELFTEST_TMP/$1.out
	sed 's/^/  /' "$out"
	echo "signalling flows on rtr: $(cat "$SELFTEST_TMP/$1.flows")"
	grep -qx "up $CALLS" "$out" &&
		[ "$(grep -c '^bye [0-9]* pinholes ok' "$out")" = "$CALLS" ] &&
		[ "$(grep -c '^media [0-9]* ok$' "$out")" -gt 0 ] &&
		! grep -q '^media [0-9]* lost$' "$out" &&
		grep -q '^left 0 ' "$out" && grep -qx 'exit 0' "$out" &&
		[ "$(cat "$SELFTEST_TMP/$1.flows")" = 1 ]
}

ktap_header 6
klog_mark "alg_trunk_calls"
ktap_diag "BYE order seed $SEED (TRUNK_CALLS_SEED=$SEED repeats it)"

ktap_check_here "sipalg (max_flow_pinholes=100) on UDP 5060, rtr forwards 203.0.113.1:5060 to the PBX" \
	setup sipalg max_flow_pinholes=100

inbound() {
	calls inbound lan 192.168.1.2 wan 203.0.113.2 203.0.113.1 203.0.113.2 "$(slow 5)"
	steps inbound
}
ktap_check "trunk -> PBX, $CALLS calls on one flow: after each BYE exactly the other calls' pinholes, their media passes, none left" \
	inbound

outbound() {
	rtr conntrack -F 2>/dev/null
	rtr conntrack -F expect 2>/dev/null
	calls outbound wan 203.0.113.2 lan 192.168.1.2 203.0.113.2 203.0.113.1 "$(slow 5)"
	steps outbound
}
ktap_check "PBX -> trunk (masqueraded), $CALLS calls on one flow: the same" outbound

counters() {
	local c
	for c in expectations-created expectations-removed expectations-failed \
		expectations-renewed; do
		echo "$c $(sipalg_stat "$c")"
	done
	[ "$(sipalg_stat expectations-failed)" = 0 ]
}
ktap_check "no pinhole refused (expectations-failed 0)" counters

# max_flow_dialogs=2 (set at run time): of three calls on the flow, the
# first two get their 4 pinholes each, the third's offer and answer get
# none (expectations-failed 2) and pass; `sipalgctl flows` lists the 8
# pinholes grouped by call, each call's 4 together, marked with a hash of
# its Call-ID (never the Call-ID).  The calls stay up: their records are
# freed when rtr is deleted (the in-tree run next), or the slab cache's
# destruction on unload reports them in the kernel log.
dialog_cap() {
	local failed calls
	failed=$(sipalg_stat expectations-failed)
	echo 2 >/sys/module/sipalg/parameters/max_flow_dialogs || return 1
	calls cap wan 203.0.113.2 lan 192.168.1.2 203.0.113.2 203.0.113.1 1 3 keep
	cat "$SELFTEST_TMP/cap.out"
	echo "expectations-failed $failed -> $(sipalg_stat expectations-failed)"
	ctl rtr flows | tee "$SELFTEST_TMP/flows.txt"
	# each pinhole's call, in the order listed: 4 of one, then 4 of another
	calls=$(ctl rtr flows -j | jq -r '.[] | .pinholes[] | .call' | uniq -c |
		awk '{ print $1 }' | tr '\n' ' ')
	echo "pinholes per call, as listed: $calls"
	grep -qx 'up 3' "$SELFTEST_TMP/cap.out" &&
		grep -qx 'pinholes 8' "$SELFTEST_TMP/cap.out" &&
		[ "$(sipalg_stat expectations-failed)" = "$((failed + 2))" ] &&
		[ "$calls" = "4 4 " ] &&
		[ "$(grep -c '^  pinhole media .* call [0-9a-f]\{8\}$' "$SELFTEST_TMP/flows.txt")" = 8 ] &&
		! grep -q 'trunk-' "$SELFTEST_TMP/flows.txt"
}
ktap_check "max_flow_dialogs=2: a third call on the flow gets no pinhole (expectations-failed +2) and is answered; flows groups the 8 pinholes by call" \
	dialog_cap

# The in-tree helper, for comparison: printed, not checked.
in_tree() {
	local out=$SELFTEST_TMP/intree.out
	setup sip >/dev/null 2>&1 || { ktap_diag "in-tree helper: not available"; return 0; }
	calls intree lan 192.168.1.2 wan 203.0.113.2 203.0.113.1 203.0.113.2 0.3 >/dev/null 2>&1
	ktap_diag "in-tree nf_conntrack_sip, trunk -> PBX, $CALLS calls on one flow:" \
		"$(grep -c '^bye [0-9]* pinholes ok' "$out") of $CALLS BYEs left the other calls' pinholes as they were;" \
		"media passed for $(grep -c '^media [0-9]* ok$' "$out") of $(grep -c '^media ' "$out") calls tried after a BYE;" \
		"$(grep '^up ' "$out" || echo 'up ?') answered"
	grep '^bye ' "$out" | head -3 | ktap_diag
	topo_cleanup
	rmmod nf_nat_sip nf_conntrack_sip 2>/dev/null
	return 0
}
in_tree
ktap_diag "the calls took: $(paste -sd, "$SELFTEST_TMP/times") (selftest: $SECONDS s)"

ktap_check_klog

ktap_finish
