#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# IFACE_DEL with FLUSH names a real interface.  The flows an nftables
# `ct helper` rule assigned carry no interface (ifindex 0), so a flush of
# ifindex 0 would detach every one of them.  A call's flow is assigned by
# nftables and its INVITE opens 2 pinholes; then raw requests (genl_raw.py,
# what sipalgctl never sends) IFACE_DEL FLUSH with ifindex 0 and with an
# ifindex no interface has are refused, each with its extack message, and
# the flow keeps helper=sipalg and both pinholes; a flush of wan0 (a real
# interface that assigned nothing) succeeds and flushes nothing.
# About 20 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3 jq

IFACE_DEL=2 A_IFINDEX=2 A_FLUSH=7 A_FLUSHED_FLOWS=9 A_FLUSHED_EXPECTATIONS=10

test_cleanup() {
	peers_stop
}

ktap_header 5
sipalg_unload
klog_mark "ctl_flush_ifindex"

call() {
	local rx
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup && rtr_ct_helper sipalg udp 5060 &&
		udp_sink_start wan 203.0.113.2 5060 wansink || return 1
	# The flow (never answered) must outlive a slow test.
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 || return 1
	sip_invite 192.168.1.2 5060 203.0.113.2 6000 >"$SELFTEST_TMP/invite"
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/invite" wansink) ||
		return 1
	grep -q '^Via: SIP/2.0/UDP 203.0.113.1:5060;' "$rx" || { echo "not rewritten"; return 1; }
	flow_intact
}

# flow_intact: the call's flow has helper=sipalg and 2 pinholes.
flow_intact() {
	local helper n
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5060)
	n=$(rtr cat /proc/net/nf_conntrack_expect | grep -c .)
	echo "the call's flow: helper=${helper:-none}, $n pinholes"
	[ "$helper" = sipalg ] && [ "$n" = 2 ]
}
ktap_check_here "a call's flow assigned by nftables, 2 pinholes" call

# raw WANT_ERRNO WANT_EXTACK ARGS...: genl_raw.py on rtr.
raw() {
	local err=$1 msg=$2 out
	shift 2
	out=$(rtr python3 "$SELFTEST_DIR/genl_raw.py" "$@")
	echo "$* -> $out"
	[ "$(jq -r .error <<<"$out")" = "$err" ] && [ "$(jq -r .extack <<<"$out")" = "$msg" ]
}

ifindex_zero() {
	raw -22 "ifindex must name an interface (1 or more)" \
		"$IFACE_DEL" "$A_IFINDEX":u32=0 "$A_FLUSH":flag && flow_intact
}
ktap_check "IFACE_DEL FLUSH ifindex 0: EINVAL, \"ifindex must name an interface (1 or more)\"; the flow keeps its helper and pinholes" \
	ifindex_zero

ifindex_unknown() {
	raw -19 "no interface with this ifindex in the network namespace" \
		"$IFACE_DEL" "$A_IFINDEX":u32=99999 "$A_FLUSH":flag && flow_intact
}
ktap_check "IFACE_DEL FLUSH of an ifindex no interface has: ENODEV with its message; nothing changes" \
	ifindex_unknown

real_interface() {
	local out
	out=$(rtr python3 "$SELFTEST_DIR/genl_raw.py" "$IFACE_DEL" \
		"$A_IFINDEX":u32="$(rtr cat /sys/class/net/wan0/ifindex)" "$A_FLUSH":flag)
	echo "flush wan0 -> $out"
	[ "$(jq -r .error <<<"$out")" = 0 ] &&
		[ "$(jq -r ".replies[0].attrs.\"$A_FLUSHED_FLOWS\"" <<<"$out")" = 0 ] &&
		[ "$(jq -r ".replies[0].attrs.\"$A_FLUSHED_EXPECTATIONS\"" <<<"$out")" = 0 ] &&
		flow_intact
}
ktap_check "IFACE_DEL FLUSH of wan0 (assigned nothing): succeeds, 0 flows and 0 pinholes flushed" \
	real_interface

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
