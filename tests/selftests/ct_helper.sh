#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# An nftables `ct helper` object of type "sipalg" on the router attaches
# sipalg to SIP flows: UDP over IPv4 (masqueraded on the way out) and IPv6,
# and TCP; `conntrack -L` shows helper=sipalg on them and no helper on a
# flow the rule does not match.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack socat dumpcap tshark

test_cleanup() {
	stop_bg "${tcp_pid:-}"
}

ktap_header 7
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
# Nothing answers: a check reads the helper of an unreplied flow, which
# lives 30 s by default, less than reading the capture takes on a slow
# kernel.
rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 ||
	ktap_diag "cannot set rtr's UDP timeout"
klog_mark "ct helper"

ktap_check "ct helper object type \"sipalg\" protocol udp, l3proto inet" \
	rtr_ct_helper sipalg udp 5060

# IPv4: the datagram leaves rtr with rtr's address (masquerade) and its
# conntrack entry carries the helper.
udp4_flow() {
	local seen helper
	capture_start rtr wan0 wan0 "udp port 5060" || return 1
	sip_options 192.168.1.2 5060 203.0.113.2 |
		udp_send lan 192.168.1.2 5060 203.0.113.2 5060 || return 1
	wait_for 20 test -n "$(ct_helper_of rtr -p udp --orig-dst 203.0.113.2 --dport 5060)"
	sleep 0.5
	capture_stop
	seen=$(capture_fields wan0 'udp.dstport == 5060' ip.src ip.dst udp.srcport)
	echo "on rtr wan0: ${seen:-nothing}"
	[ "$seen" = "$(printf '203.0.113.1\t203.0.113.2\t5060')" ] || return 1
	helper=$(ct_helper_of rtr -p udp --orig-dst 203.0.113.2 --dport 5060)
	echo "conntrack on rtr: helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check "IPv4 UDP lan->wan:5060 leaves masqueraded with helper=sipalg" udp4_flow

udp6_flow() {
	local helper
	sip_options fd00:1::2 5060 2001:db8:1::2 |
		udp_send lan fd00:1::2 5060 2001:db8:1::2 5060 || return 1
	wait_for 20 test -n "$(ct_helper_of rtr -f ipv6 -p udp --dport 5060)"
	helper=$(ct_helper_of rtr -f ipv6 -p udp --dport 5060)
	echo "conntrack on rtr: helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check "IPv6 UDP lan->wan:5060 gets helper=sipalg" udp6_flow

unmatched_flow() {
	local entry
	sip_options 192.168.1.2 5070 203.0.113.2 |
		udp_send lan 192.168.1.2 5070 203.0.113.2 5070 || return 1
	wait_for 20 test -n "$(rtr conntrack -L -p udp --dport 5070 2>/dev/null)"
	entry=$(rtr conntrack -L -p udp --dport 5070 2>/dev/null)
	echo "conntrack on rtr: ${entry:-no entry}"
	[ -n "$entry" ] && ! grep -q 'helper=' <<<"$entry"
}
ktap_check "a UDP flow to 5070 (no rule) has no helper" unmatched_flow

ktap_check "ct helper object type \"sipalg\" protocol tcp, l3proto inet" \
	rtr_ct_helper sipalg tcp 5060

wan_listening() {
	wan ss -Htln 'sport = :5060' | grep -q .
}

tcp_flow() {
	local helper
	wan timeout "$(slow 30)" socat -u TCP4-LISTEN:5060,bind=203.0.113.2,reuseaddr \
		"OPEN:$SELFTEST_TMP/tcp.rx,creat" &
	tcp_pid=$!
	wait_for 30 wan_listening || return 1
	sip_options 192.168.1.2 5060 203.0.113.2 |
		lan socat -u - TCP4:203.0.113.2:5060,bind=192.168.1.2,connect-timeout=10 || return 1
	wait "$tcp_pid"
	tcp_pid=
	grep -q '^OPTIONS sip:203.0.113.2 SIP/2.0' "$SELFTEST_TMP/tcp.rx" ||
		{ echo "wan did not receive the request"; return 1; }
	helper=$(ct_helper_of rtr -p tcp --dport 5060)
	echo "conntrack on rtr: helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check "TCP lan->wan:5060 gets helper=sipalg" tcp_flow

ktap_check_klog

ktap_finish
