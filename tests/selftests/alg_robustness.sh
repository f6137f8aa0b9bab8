#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# The module under live state.
#
# 1. Unload with a call up and a registration held: media pinholes and the
#    registration's signalling pinhole are live expectations, the SIP flow
#    carries helper=sipalg and a registration keep-alive.  Once the nft ct
#    helper objects are gone, rmmod succeeds; no sipalg expectation and no
#    conntrack with helper=sipalg is left; the flows keep working (the
#    phone's SIP still gets through rtr); the module loads again.
# 2. Delete the network namespaces while they hold such state (conntracks
#    with the helper, expectations, nft ct helper objects): the namespaces
#    go away, the module's reference count returns to 0 and it unloads.
# (alg_1000_calls.sh: many calls in a row.)  The kernel log stays clean
# throughout.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft conntrack sipp kamailio kamcmd python3

test_cleanup() {
	peers_stop
}

sipalg_expectations() {
	rtr cat /proc/net/nf_conntrack_expect 2>/dev/null | grep -c ' sipalg/'
}

sipalg_conntracks() {
	ct_helper_of rtr | grep -c '^sipalg$'
}

callee_listening() {
	wan ss -Huln "sport = :5070" | grep -q .
}

# live_state NAME: a fresh topology with sipalg on UDP 5060, kamailio on
# wan; the phone registers (192.168.1.2:5060), then calls a sipp callee on
# wan at 203.0.113.2:5070 from 192.168.1.2:5062 and holds the call.
live_state() {
	local name=$1
	topo_setup || { echo "topology setup failed"; return 1; }
	rtr_ct_helper sipalg udp 5060 5070 || return 1
	kamailio_start || return 1
	sipp_start "$name-register" lan -sf "$PEERS_DIR/phone_register.xml" \
		-i 192.168.1.2 -p 5060 -m 1 -timeout "$(slow 30)" 203.0.113.2:5060
	sipp_wait "$name-register" || return 1
	sipp_start "$name-callee" wan -sf "$PEERS_DIR/callee.xml" -key audio 20000 \
		-i 203.0.113.2 -p 5070 -mp 6100 -m 1 -timeout "$(slow 120)"
	wait_for 100 callee_listening || { echo "the callee's sipp is not listening"; return 1; }
	sipp_start "$name-caller" lan -sf "$PEERS_DIR/caller.xml" -s callee \
		-key audio 16000 -i 192.168.1.2 -p 5062 -m 1 -d "$(slow 100000)" \
		-timeout "$(slow 120)" 203.0.113.2:5070
	wait_for 150 test -e "$SELFTEST_TMP/$name-caller/established" ||
		{ echo "the call was not established"; return 1; }
	LIVE="$(sipalg_expectations) sipalg expectations and $(sipalg_conntracks) conntracks with helper=sipalg on rtr"
	echo "$LIVE"
	rtr cat /proc/net/nf_conntrack_expect
	# RTP 16000/16001 of the phone, RTP 20000/20001 of the callee, the
	# registration's signalling pinhole.
	[ "$(sipalg_expectations)" -ge 5 ] && [ "$(sipalg_conntracks)" -ge 2 ]
}

ktap_header 6
sipalg_unload
klog_mark "robustness"

# ------------------------------------------ 1. unload with live state

sipalg_load || ktap_diag "sipalg does not load"
LIVE=
ktap_check_here "a registration and a call held through rtr: expectations and helped conntracks live" \
	live_state unload
ktap_diag "live: $LIVE"

unload_live() {
	rtr nft delete table inet helpers || return 1
	sipalg_unload || { echo "rmmod failed: refcnt $(cat /sys/module/sipalg/refcnt)"; return 1; }
	! sipalg_loaded || return 1
	echo "after rmmod: $(rtr cat /proc/net/nf_conntrack_expect | wc -l) expectations," \
		"helpers on rtr's conntracks: $(ct_helper_of rtr | sort | uniq -c | tr '\n' ' ')"
	rtr cat /proc/net/nf_conntrack_expect
	[ -z "$(rtr cat /proc/net/nf_conntrack_expect)" ] &&
		[ -z "$(ct_helper_of rtr)" ]
}
ktap_check_here "rmmod with the call up: succeeds, no expectation and no helper=sipalg left" unload_live

# The held flows still pass (unhelped): the phone registers again.
after_unload() {
	sipp_start unload-register2 lan -sf "$PEERS_DIR/phone_register.xml" \
		-i 192.168.1.2 -p 5060 -m 1 -timeout "$(slow 30)" 203.0.113.2:5060
	sipp_wait unload-register2 || return 1
	peers_stop
	topo_cleanup
	sipalg_load && sipalg_loaded
}
ktap_check_here "after rmmod the phone's flows still pass; the module loads again" after_unload

# ------------------------------------ 2. netns deletion with live state

LIVE=
ktap_check_here "again: a registration and a call held through rtr" live_state netns
ktap_diag "live: $LIVE"

netns_delete() {
	local refcnt
	echo "refcnt before: $(cat /sys/module/sipalg/refcnt)"
	# Processes pin a namespace; the state to delete is the kernel's.
	peers_stop
	ip netns del lan && ip netns del rtr && ip netns del wan || return 1
	wait_for 300 test "$(cat /sys/module/sipalg/refcnt)" = 0
	refcnt=$(cat /sys/module/sipalg/refcnt)
	echo "refcnt after the namespaces are deleted: $refcnt"
	[ "$refcnt" = 0 ] && sipalg_unload && ! sipalg_loaded
}
ktap_check_here "namespaces deleted with that state: module refcount back to 0, rmmod succeeds" netns_delete

ktap_check_klog "kernel log clean throughout"

ktap_finish
