#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# What an interface's settings do to the flows it assigns:
# - mode pinhole changes no byte, and the media still flows through the
#   pinhole; switching to rewrite applies to the next message of that flow;
# - malformed drop on wan0 drops a malformed message, malformed pass on
#   lan1 forwards the same message unchanged (per interface);
# - disable leaves new flows alone, while a flow assigned before keeps the
#   ALG with the settings it started with;
# - disable --flush detaches the ALG and the pinholes of the flows the
#   interface assigned: the flow goes on, untouched.
#
#   lan  192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
#   lan2 10.0.2.2    -- lan1 [   ]
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3 jq

test_cleanup() {
	peers_stop
	lan2_cleanup
}

ktap_header 9
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
# The sinks never answer: the calls' flows stay unreplied, and an unreplied
# flow (30 s by default) takes its pinholes with it when it expires, sooner
# than the checks after it end on a slow kernel.
rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 ||
	ktap_diag "cannot set rtr's UDP timeout"
lan2_setup || ktap_diag "lan2 setup failed"
udp_sink_start wan 203.0.113.2 5060 wansink || ktap_diag "no sink on wan"
udp_sink_start lan2 10.0.2.2 5060 lan2sink || ktap_diag "no sink on lan2"
klog_mark "ctl_modes"

# sent PORT NAME: lan's message from PORT to wan, kept as $SELFTEST_TMP/NAME
inv() { # FROM_PORT MEDIA CSEQ NAME
	sip_invite 192.168.1.2 "$1" 203.0.113.2 "$2" "$3" >"$SELFTEST_TMP/$4"
}

pinhole_mode_no_byte() {
	local rx
	ctl rtr enable wan0 mode pinhole || return 1
	inv 5060 6000 1 call1.sip
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/call1.sip" wansink) || return 1
	echo "arrived from $(cat "$rx.from")"
	[ "$(cut -d' ' -f1 "$rx.from")" = 203.0.113.1 ] || { echo "not NATed: void"; return 1; }
	bytes_equal "$SELFTEST_TMP/call1.sip" "$rx" || return 1
	echo "byte for byte what the phone sent"
	echo "wan0: unchanged-pinhole-mode $(counter rtr wan0 unchanged-pinhole-mode)," \
		"messages-rewritten $(counter rtr wan0 messages-rewritten)"
	[ "$(counter rtr wan0 unchanged-pinhole-mode)" = 1 ] &&
		[ "$(counter rtr wan0 messages-rewritten)" = 0 ]
}
ktap_check "mode pinhole: a NATed INVITE leaves wan0 byte for byte, counted" pinhole_mode_no_byte

pinhole_media_flows() {
	local pinholes
	pinholes=$(ctl rtr flows -j | jq -c '[.[] | select(.src == "192.168.1.2" and .sport == 5060)
		| .pinholes[] | select(.class == "media") | [.dst, .dport, .to, .to_port]]')
	echo "pinholes of the call: $pinholes"
	[ "$pinholes" = '[["203.0.113.1",6000,"192.168.1.2",6000],["203.0.113.1",6001,"192.168.1.2",6001]]' ] ||
		[ "$pinholes" = '[["203.0.113.1",6001,"192.168.1.2",6001],["203.0.113.1",6000,"192.168.1.2",6000]]' ] ||
		return 1
	udp_sink_start lan 192.168.1.2 6000 rtp || return 1
	echo "RTP from wan" >"$SELFTEST_TMP/rtp.bin"
	deliver wan 203.0.113.2 40000 203.0.113.1 6000 "$SELFTEST_TMP/rtp.bin" rtp >/dev/null || return 1
	echo "RTP from wan to 203.0.113.1:6000 reached the phone's 6000"
}
ktap_check_here "mode pinhole: the media pinhole is open and RTP reaches the phone" pinhole_media_flows

live_mode_change() {
	local rx
	ctl rtr enable wan0 mode rewrite || return 1
	ctl rtr show wan0
	inv 5060 6000 2 call1-reinvite.sip
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/call1-reinvite.sip" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/call1-reinvite.sip" 192.168.1.2:5060 || return 1
	echo "the re-INVITE on the same flow is rewritten"
}
ktap_check "switched to mode rewrite: the next message of the same flow is rewritten" live_mode_change

malformed_per_interface() {
	local rx
	ctl rtr enable wan0 malformed drop || return 1
	ctl rtr enable lan1 malformed pass || return 1
	ctl rtr show
	sip_bad_via 192.168.1.2 5064 203.0.113.2 >"$SELFTEST_TMP/bad.sip"
	not_delivered lan 192.168.1.2 5064 203.0.113.2 5060 "$SELFTEST_TMP/bad.sip" wansink || return 1
	echo "through wan0: dropped"
	rx=$(deliver lan 192.168.1.2 5064 10.0.2.2 5060 "$SELFTEST_TMP/bad.sip" lan2sink) || return 1
	bytes_equal "$SELFTEST_TMP/bad.sip" "$rx" || return 1
	echo "through lan1: passed byte for byte"
	echo "wan0: $(counters rtr wan0 | grep -E 'dropped|bad-via' | tr '\n' ' ')"
	echo "lan1: $(counters rtr lan1 | grep -E 'dropped|bad-via' | tr '\n' ' ')"
	[ "$(counter rtr wan0 messages-dropped)" = 1 ] &&
		[ "$(counter rtr wan0 malformed-bad-via)" = 1 ] &&
		[ "$(counter rtr lan1 messages-dropped)" = 0 ] &&
		[ "$(counter rtr lan1 malformed-bad-via)" = 1 ]
}
ktap_check "malformed drop on wan0 drops, malformed pass on lan1 forwards the same message" malformed_per_interface

drop_keeps_good() {
	local rx
	inv 5066 6006 1 call2.sip
	rx=$(deliver lan 192.168.1.2 5066 203.0.113.2 5060 "$SELFTEST_TMP/call2.sip" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/call2.sip" 192.168.1.2:5066
}
ktap_check "malformed drop: a well-formed INVITE through wan0 still arrives, rewritten" drop_keeps_good

disable_new_flows_alone() {
	local rx helper
	ctl rtr disable wan0 || return 1
	inv 5068 6008 1 call3.sip
	rx=$(deliver lan 192.168.1.2 5068 203.0.113.2 5060 "$SELFTEST_TMP/call3.sip" wansink) || return 1
	echo "arrived from $(cat "$rx.from")"
	bytes_equal "$SELFTEST_TMP/call3.sip" "$rx" || return 1
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5068)
	echo "unchanged; its conntrack: helper=${helper:-none}"
	[ -z "$helper" ]
}
ktap_check "disable wan0: a new flow through it is left alone" disable_new_flows_alone

# The flow of call2 was assigned while wan0 had rewrite + drop.
disabled_keeps_old_flows() {
	local rx
	inv 5066 6006 2 call2-reinvite.sip
	rx=$(deliver lan 192.168.1.2 5066 203.0.113.2 5060 "$SELFTEST_TMP/call2-reinvite.sip" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/call2-reinvite.sip" 192.168.1.2:5066 || return 1
	echo "its re-INVITE is rewritten"
	sip_bad_via 192.168.1.2 5066 203.0.113.2 >"$SELFTEST_TMP/bad2.sip"
	not_delivered lan 192.168.1.2 5066 203.0.113.2 5060 "$SELFTEST_TMP/bad2.sip" wansink || return 1
	echo "a malformed message on it is still dropped"
}
ktap_check "disable without --flush: a flow assigned before keeps the ALG and its settings" disabled_keeps_old_flows

flush_detaches() {
	local out rx helper
	rtr conntrack -F 2>/dev/null
	ctl rtr enable wan0 || return 1
	inv 5072 6010 1 call4.sip
	rx=$(deliver lan 192.168.1.2 5072 203.0.113.2 5060 "$SELFTEST_TMP/call4.sip" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/call4.sip" 192.168.1.2:5072 >/dev/null || return 1
	echo "before: $(ctl rtr flows | tr '\n' ';')"
	out=$(ctl rtr disable wan0 --flush) || return 1
	echo "disable --flush: $out"
	[ "$out" = "wan0: detached 1 flow, removed 2 pinholes" ] || return 1
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5072)
	echo "after: helper=${helper:-none}, flows: $(ctl rtr flows -j | jq -c .)," \
		"expectations: $(rtr conntrack -L expect 2>/dev/null | wc -l)"
	[ -z "$helper" ] && [ "$(ctl rtr flows -j | jq length)" = 0 ] &&
		[ "$(rtr conntrack -L expect 2>/dev/null | wc -l)" = 0 ] || return 1
	inv 5072 6010 2 call4-reinvite.sip
	rx=$(deliver lan 192.168.1.2 5072 203.0.113.2 5060 "$SELFTEST_TMP/call4-reinvite.sip" wansink) || return 1
	bytes_equal "$SELFTEST_TMP/call4-reinvite.sip" "$rx" || return 1
	echo "the flow goes on: its next message passes byte for byte"
}
ktap_check "disable --flush: the flow loses the ALG and its pinholes, goes on untouched" flush_detaches

ktap_check_klog

ktap_finish
