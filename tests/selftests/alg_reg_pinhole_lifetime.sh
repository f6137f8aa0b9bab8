#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# The registrar's signalling pinhole lives as long as the registration and
# serves every new flow from the registrar.  The phone (192.168.1.2:5060)
# registers through rtr (masquerade, sipalg by nftables) and the registrar
# (a UDP socket on wan, then a 200 OK sent from its port) grants 7200 s: the pinhole for the
# registrar's requests to the phone's public Contact expires in over 3600 s
# (the policy's initial timeout).  Then two INVITEs from the registrar on
# two new flows (source ports 5070 and 5072) both reach the phone; a second
# REGISTER granting 600 s sets the pinhole to 600 s.  With no room left for
# pinholes (max_expectations=0), a third REGISTER still passes and is
# tracked, and its refused pinhole is counted (expectations-failed).  About
# 20 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3

test_cleanup() {
	peers_stop
}

ktap_header 6
sipalg_unload
klog_mark "alg_reg_pinhole_lifetime"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup && rtr_ct_helper sipalg udp 5060
}
ktap_check "topology, sipalg on UDP 5060" setup

# register CSEQ EXPIRES: the phone's REGISTER; the registrar's 200 OK
# grants EXPIRES to the Contact as it arrived (the public one).
register() {
	local cseq=$1 secs=$2 rx contact tracked
	udp_sink_start wan 203.0.113.2 5060 registrar || return 1
	printf '%s\r\n' "REGISTER sip:203.0.113.2 SIP/2.0" \
		"Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK-reg-$cseq;rport" \
		"Max-Forwards: 70" "From: <sip:phone@203.0.113.2>;tag=reg" \
		"To: <sip:phone@203.0.113.2>" "Call-ID: reg-lifetime@example.com" \
		"CSeq: $cseq REGISTER" "Contact: <sip:phone@192.168.1.2:5060>" \
		"Expires: $secs" "Content-Length: 0" "" >"$SELFTEST_TMP/reg$cseq"
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/reg$cseq" registrar) ||
		return 1
	udp_sink_stop registrar
	contact=$(sed -n 's/^Contact: <\(.*\)>\r$/\1/p' "$rx")
	echo "the registrar got Contact $contact"
	[ "$contact" = sip:phone@203.0.113.1:5060 ] || return 1
	{
		printf '%s\r\n' "SIP/2.0 200 OK"
		grep -a -e '^Via:' -e '^From:' -e '^To:' -e '^Call-ID:' -e '^CSeq:' "$rx"
		printf '%s\r\n' "Contact: <$contact>;expires=$secs" "Content-Length: 0" ""
	} >"$SELFTEST_TMP/ok$cseq"
	tracked=$(sipalg_stat registrations-tracked)
	udp_send wan 203.0.113.2 5060 203.0.113.1 5060 <"$SELFTEST_TMP/ok$cseq" || return 1
	wait_for 100 tracked_more "$tracked" || { echo "the 200 OK was not tracked"; return 1; }
}

tracked_more() {
	[ "$(sipalg_stat registrations-tracked)" -gt "$1" ]
}

# The seconds left of the signalling pinhole (to 203.0.113.1:5060).
pinhole_left() {
	rtr conntrack -L expect 2>/dev/null |
		awk '/dport=5060 / && /src=203\.0\.113\.2 / { print $1; exit }'
}

granted_7200() {
	local left
	register 1 7200 || return 1
	left=$(pinhole_left)
	echo "the registrar's pinhole expires in ${left:-(none)} s"
	[ -n "$left" ] && [ "$left" -gt 3600 ] && [ "$left" -le 7200 ]
}
ktap_check_here "a registration for 7200 s: the registrar's pinhole expires in over 3600 s" granted_7200

# invite PORT: an INVITE from the registrar's PORT to the phone's public
# Contact reaches the phone.
invite() {
	local rx
	printf '%s\r\n' "INVITE sip:phone@203.0.113.1:5060 SIP/2.0" \
		"Via: SIP/2.0/UDP 203.0.113.2:$1;branch=z9hG4bK-in-$1" \
		"Max-Forwards: 70" "From: <sip:caller@203.0.113.2>;tag=$1" \
		"To: <sip:phone@203.0.113.2>" "Call-ID: in-$1@203.0.113.2" \
		"CSeq: 1 INVITE" "Contact: <sip:caller@203.0.113.2:$1>" \
		"Content-Length: 0" "" >"$SELFTEST_TMP/in$1"
	rx=$(deliver wan 203.0.113.2 "$1" 203.0.113.1 5060 "$SELFTEST_TMP/in$1" phone) || return 1
	echo "the INVITE from port $1 reached the phone from $(cat "$rx.from")"
}

two_flows() {
	udp_sink_start lan 192.168.1.2 5060 phone || return 1
	invite 5070 && invite 5072
}
ktap_check_here "INVITEs from the registrar on two new flows both reach the phone" two_flows

renewed_600() {
	local left
	udp_sink_stop phone
	register 2 600 || return 1
	left=$(pinhole_left)
	echo "after a REGISTER granting 600 s: the pinhole expires in ${left:-(none)} s"
	[ -n "$left" ] && [ "$left" -le 600 ] && [ "$left" -gt 500 ]
}
ktap_check_here "a REGISTER granting 600 s sets the pinhole to 600 s" renewed_600

refused_counted() {
	local failed left was cap=/sys/module/sipalg/parameters/max_expectations
	failed=$(sipalg_stat expectations-failed)
	was=$(cat "$cap")
	echo 0 >"$cap" || return 1
	register 3 600 || { echo "$was" >"$cap"; return 1; }
	echo "$was" >"$cap"
	left=$(pinhole_left)
	echo "expectations-failed $failed -> $(sipalg_stat expectations-failed)," \
		"pinhole ${left:-(none)}"
	[ "$(sipalg_stat expectations-failed)" = $((failed + 1)) ] && [ -z "$left" ]
}
ktap_check_here "max_expectations=0: a REGISTER passes and is tracked, its refused pinhole counted (expectations-failed +1)" refused_counted

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
