#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# An incoming call long after the router's UDP mapping would have expired.
#
# The phone on lan registers with kamailio on wan (Expires 300) through
# rtr; rtr's UDP conntrack timeouts are cut to 10 s (unreplied) and 20 s
# (replied).  30 s after the 200 OK a caller on wan calls the phone through
# kamailio, which sends the INVITE to the registered Contact from its own
# socket: the registration's flow, in its reply direction.  The INVITE
# reaches the phone only if rtr still has that flow's conntrack.
#
# With sipalg the 2xx to the REGISTER keeps the conntrack for the granted
# expiry: the call must complete.  A control flow without a helper, set up
# with the registration, must be gone by then (the wait is long enough).
#
# The same scenario runs with the in-tree nf_conntrack_sip/nf_nat_sip, and
# its outcome is a result of its own.  Observed on Linux 6.1: the in-tree
# helper keeps the phone reachable as well, because nf_conntrack_sip
# refreshes every SIP conntrack it helps to its sip_timeout parameter
# (default 3600 s) on every packet, registration or not; the test asserts
# that observed outcome and says why.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp kamailio kamcmd python3

PHONE_IP=192.168.1.2
WAIT=30			# seconds between the 200 OK and the INVITE

INTREE_LOADED=0

test_cleanup() {
	peers_stop
	[ "$INTREE_LOADED" = 1 ] || return 0
	# The namespaces (and the ct helper objects holding the modules) go
	# away asynchronously.
	topo_cleanup
	wait_for 50 modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
}


ktap_header 9
sipalg_unload
klog_mark "incoming call after the UDP timeout"

# scenario HELPER: a fresh topology, HELPER ("sipalg" or "sip") assigned
# to UDP 5060 on rtr, short UDP timeouts, the registrar.
scenario() {
	topo_setup || { echo "topology setup failed"; return 1; }
	rtr_ct_helper "$1" udp 5060 || return 1
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=10 \
		net.netfilter.nf_conntrack_udp_timeout_stream=20 || return 1
	capture_start rtr wan0 "wan0-$1" "udp" || return 1
	kamailio_start
}

# The phone registers; a control flow 192.168.1.2:5062 <-> 203.0.113.2:5062
# (no helper: not 5060) is set up and replied at the same moment.
register() {
	sipp_start "register-$1" lan -sf "$PEERS_DIR/phone_register.xml" \
		-i "$PHONE_IP" -p 5060 -m 1 -timeout 30 203.0.113.2:5060
	sipp_wait "register-$1" || return 1
	REGISTERED_AT=$SECONDS
	echo control | udp_send lan "$PHONE_IP" 5062 203.0.113.2 5062 &&
		echo control | udp_send wan 203.0.113.2 5062 203.0.113.1 5062 ||
		return 1
}

# What kamailio stored and what rtr holds for the phone's flow.
registered() {
	ktap_diag "kamailio's location table: $(kamailio_contacts | tr '\n' ' ')"
	ktap_diag "rtr: $(sip_ct)"
}

# conntrack on rtr of the phone's flow to the registrar, and of the control.
sip_ct() {
	rtr conntrack -L -p udp --orig-src "$PHONE_IP" --orig-port-src 5060 \
		--orig-dst 203.0.113.2 --orig-port-dst 5060 2>/dev/null
}
control_ct() {
	rtr conntrack -L -p udp --orig-port-src 5062 2>/dev/null
}

wait_past_timeouts() {
	local left=$((REGISTERED_AT + WAIT - SECONDS))
	[ "$left" -le 0 ] || sleep "$left"
}

# After the wait: the control conntrack is gone (the timeouts did expire).
control_expired() {
	local ctl
	ctl=$(control_ct)
	echo "control flow after ${WAIT} s: ${ctl:-expired}"
	echo "phone's signalling flow: $(sip_ct)"
	[ -z "$ctl" ]
}

phone_listening() {
	lan ss -Huln "sport = :5060" | grep -q "$PHONE_IP:5060"
}

# The caller on wan (203.0.113.2:5070) calls sip:phone@ kamailio; the phone
# answers with sipp's callee scenario on its registered socket.  Sets
# REACHED to yes when the INVITE arrived at the phone, CALL_RC to the
# caller's exit status.
incoming_call() {
	sipp_start "phone-$1" lan -sf "$PEERS_DIR/callee.xml" -key audio 20000 \
		-i "$PHONE_IP" -p 5060 -m 1 -timeout 40
	wait_for 100 phone_listening || { echo "the phone's sipp is not listening"; return 1; }
	sipp_start "caller-$1" wan -sf "$PEERS_DIR/caller.xml" -s phone \
		-key audio 30000 -i 203.0.113.2 -p 5070 -mp 6100 -m 1 -d 1000 \
		-timeout 20 -timeout_error 203.0.113.2:5060
	CALL_RC=0
	sipp_wait "caller-$1" || CALL_RC=$?
	if [ "$CALL_RC" = 0 ]; then
		sipp_wait "phone-$1" || CALL_RC=$?
	fi
	REACHED=no
	grep -aq '^INVITE sip:phone@' "$SELFTEST_TMP/phone-$1/messages.log" 2>/dev/null &&
		REACHED=yes
	echo "the INVITE reached the phone: $REACHED; caller's sipp: exit status $CALL_RC"
}

# The SIP seen on wan0, for the diagnostics.
ladder() {
	capture_stop
	capture_fields "wan0-$1" sip frame.time_relative ip.src udp.srcport \
		ip.dst udp.dstport sip.Request-Line sip.Status-Line |
		awk -F'\t' '{ printf "%6.2f %s:%s -> %s:%s %s%s\n", $1, $2, $3, $4, $5, $6, $7 }'
}

# ---------------------------------------------------------------- sipalg

sipalg_load || ktap_diag "sipalg does not load"
ktap_check_here "sipalg: topology, helper on UDP 5060, UDP timeouts 10/20 s, kamailio" \
	scenario sipalg
ktap_check_here "sipalg: the phone registers with kamailio (Expires 300) through rtr" \
	register sipalg
registered
wait_past_timeouts
ktap_check "sipalg: after ${WAIT} s the control flow's conntrack has expired" \
	control_expired

sipalg_call() {
	incoming_call sipalg
	[ "$REACHED" = yes ] && [ "$CALL_RC" = 0 ] && return 0
	ladder sipalg
	return 1
}
ktap_check_here "sipalg: ${WAIT} s later the registrar's INVITE reaches the phone, the call completes" \
	sipalg_call
ktap_diag "sipalg: registrations-tracked $(sipalg_stat registrations-tracked)," \
	"messages-rewritten $(sipalg_stat messages-rewritten)"
peers_stop
topo_cleanup
sipalg_unload

# ------------------------------------------------- in-tree nf_nat_sip

[ -d /sys/module/nf_conntrack_sip ] || INTREE_LOADED=1
modprobe nf_nat_sip || ktap_diag "nf_nat_sip does not load"
ktap_check_here "in-tree: topology, helper \"sip\" on UDP 5060, UDP timeouts 10/20 s, kamailio" \
	scenario sip

intree_register() {
	local helper
	register sip || return 1
	helper=$(ct_helper_of rtr -p udp --orig-port-dst 5060)
	echo "helper of the phone's flow: ${helper:-none}"
	[ "$helper" = sip ]
}
ktap_check_here "in-tree: the phone registers through rtr, flow helped by \"sip\"" \
	intree_register
registered
wait_past_timeouts
ktap_check "in-tree: after ${WAIT} s the control flow's conntrack has expired" \
	control_expired

# What the in-tree helper does is recorded, not wished for: its conntrack
# timeout for SIP flows is sip_timeout (nf_conntrack_sip parameter).
intree_call() {
	local timeout
	timeout=$(cat /sys/module/nf_conntrack_sip/parameters/sip_timeout 2>/dev/null)
	incoming_call sip
	echo "nf_conntrack_sip sip_timeout=${timeout:-?} s"
	[ "$REACHED" = yes ] && [ "$CALL_RC" = 0 ] && return 0
	ladder sip
	return 1
}
ktap_check_here "in-tree (observed): ${WAIT} s later the registrar's INVITE reaches the phone as well" \
	intree_call
ktap_diag "in-tree: INVITE reached the phone: $REACHED, caller's sipp exit status $CALL_RC;" \
	"nf_conntrack_sip refreshes every SIP conntrack it helps to sip_timeout" \
	"($(cat /sys/module/nf_conntrack_sip/parameters/sip_timeout 2>/dev/null) s) on every" \
	"packet, so the mapping outlives the UDP timeouts with or without a registration"
peers_stop
topo_cleanup

ktap_check_klog

ktap_finish
