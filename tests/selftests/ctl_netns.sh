#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# Settings belong to a network namespace and to an interface:
# - two routers (rtr and rtr2, each with a "wan0") keep separate settings
#   and counters;
# - an interface deleted and created again (same name, new ifindex) starts
#   disabled, and its new flows are left alone;
# - an interface moved to another namespace is disabled in both;
# - a namespace deleted with interfaces enabled, and the module unloaded
#   with interfaces enabled and flows assigned, leave a clean kernel log.
#
#   lan 192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
#                           [rtr2] wan0 (dummy)
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3 jq

test_cleanup() {
	peers_stop
	ip netns del rtr2 2>/dev/null
	return 0
}

ktap_header 7
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
if ! ip netns add rtr2 || ! ip -n rtr2 link add wan0 type dummy; then
	ktap_diag "no rtr2"
fi
udp_sink_start wan 203.0.113.2 5060 wansink || ktap_diag "no sink on wan"
klog_mark "ctl_netns"

settings() { # NS: "name enabled mode malformed" per configured interface
	ctl "$1" show -j | jq -r '.[] | "\(.ifname) \(.enabled) \(.mode) \(.malformed)"'
}

separate_settings() {
	ctl rtr enable wan0 && ctl rtr2 enable wan0 mode pinhole malformed drop || return 1
	echo "rtr: $(settings rtr); rtr2: $(settings rtr2)"
	[ "$(settings rtr)" = "wan0 true rewrite pass" ] &&
		[ "$(settings rtr2)" = "wan0 true pinhole drop" ] || return 1
	ctl rtr2 disable wan0 || return 1
	echo "rtr2's wan0 disabled: rtr: $(settings rtr); rtr2: $(settings rtr2)"
	[ "$(settings rtr)" = "wan0 true rewrite pass" ] && [ -z "$(settings rtr2)" ]
}
ktap_check "two namespaces, one interface name: separate settings" separate_settings

separate_counters() {
	local rx
	ctl rtr2 enable wan0 || return 1
	sip_invite 192.168.1.2 5060 203.0.113.2 6000 >"$SELFTEST_TMP/inv1"
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/inv1" wansink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/inv1" 192.168.1.2:5060 >/dev/null || return 1
	echo "rtr: messages-seen $(counter rtr - messages-seen) (wan0 $(counter rtr wan0 messages-seen));" \
		"rtr2: messages-seen $(counter rtr2 - messages-seen) (wan0 $(counter rtr2 wan0 messages-seen))"
	[ "$(counter rtr - messages-seen)" = 1 ] && [ "$(counter rtr wan0 messages-seen)" = 1 ] &&
		[ "$(counter rtr2 - messages-seen)" = 0 ] && [ "$(counter rtr2 wan0 messages-seen)" = 0 ]
}
ktap_check "a call through rtr counts in rtr only" separate_counters

recreated_starts_disabled() {
	local before after rx helper
	before=$(rtr cat /sys/class/net/wan0/ifindex)
	ip -n rtr link del wan0 || return 1
	echo "wan0 deleted: rtr show -j: $(ctl rtr show -j | jq -c .)"
	[ "$(ctl rtr show -j)" = "[]" ] || return 1
	udp_sink_stop wansink
	ip link add eth0 netns wan type veth peer name wan0 netns rtr || return 1
	ip -n wan addr add 203.0.113.2/24 dev eth0 && ip -n wan link set eth0 up &&
		ip -n rtr addr add 203.0.113.1/24 dev wan0 && ip -n rtr link set wan0 up || return 1
	after=$(rtr cat /sys/class/net/wan0/ifindex)
	echo "wan0 created again: ifindex $before -> $after: $(ctl rtr show wan0)"
	[ "$(ctl rtr show wan0)" = "wan0: off" ] || return 1
	udp_sink_start wan 203.0.113.2 5060 wansink || return 1
	sip_invite 192.168.1.2 5064 203.0.113.2 6004 >"$SELFTEST_TMP/inv2"
	rx=$(deliver lan 192.168.1.2 5064 203.0.113.2 5060 "$SELFTEST_TMP/inv2" wansink) || return 1
	bytes_equal "$SELFTEST_TMP/inv2" "$rx" || return 1
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5064)
	echo "a new call through it from $(cat "$rx.from"): unchanged, helper=${helper:-none}"
	[ -z "$helper" ]
}
ktap_check_here "wan0 deleted and created again: starts disabled, its new flows left alone" \
	recreated_starts_disabled

moved_interface() {
	ip -n rtr link add mv0 type dummy && ctl rtr enable mv0 || return 1
	ip -n rtr link set mv0 netns rtr2 || return 1
	echo "mv0 moved to rtr2: rtr: $(ctl rtr show -j | jq -c .); rtr2: $(ctl rtr2 show mv0)"
	[ "$(ctl rtr show -j)" = "[]" ] && [ "$(ctl rtr2 show mv0)" = "mv0: off" ]
}
ktap_check "an interface moved to another namespace is disabled in both" moved_interface

namespace_deleted() {
	ctl rtr2 enable mv0 mode pinhole || return 1
	ctl rtr enable wan0 || return 1
	ip netns del rtr2 || return 1
	sleep 1
	echo "rtr2 deleted with wan0 and mv0 enabled; rtr: $(ctl rtr show -j | jq -c .)"
	[ "$(settings rtr)" = "wan0 true rewrite pass" ]
}
ktap_check "a namespace deleted with interfaces enabled; the others keep theirs" namespace_deleted

unload_with_flows() {
	local rx helpers
	sip_invite 192.168.1.2 5066 203.0.113.2 6006 >"$SELFTEST_TMP/inv3"
	rx=$(deliver lan 192.168.1.2 5066 203.0.113.2 5060 "$SELFTEST_TMP/inv3" wansink) || return 1
	[ "$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5066)" = sipalg ] || return 1
	echo "a flow with helper=sipalg, pinholes: $(rtr conntrack -L expect 2>/dev/null | wc -l)"
	sipalg_unload || return 1
	helpers=$(ct_helper_of rtr)
	echo "unloaded; helpers left on rtr's conntracks: ${helpers:-none}"
	[ -z "$helpers" ] || return 1
	sipalg_load || return 1
	echo "loaded again: $(ctl rtr show -j)"
	[ "$(ctl rtr show -j)" = "[]" ]
}
ktap_check "the module unloads with interfaces enabled and flows assigned, and loads again" \
	unload_with_flows

sleep 1	# namespace cleanup is asynchronous
ktap_check_klog

ktap_finish
