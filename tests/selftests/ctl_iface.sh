#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# sipalg per interface: `sipalgctl enable wan0` on rtr, and nothing else.
# A flow whose first packet leaves (or enters) through wan0 gets the ALG;
# the same traffic between the two LAN-side interfaces (lan0 -> lan1, also
# masqueraded, so a wrongly attached ALG would rewrite it) is not touched.
#
#   lan  192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
#   lan2 10.0.2.2    -- lan1 [   ]
#
# Also: only ports= flows; IPv6; TCP rewrites (lengths change) on a flow
# assigned as it leaves, with and without source NAT after it; every -j
# output is JSON, -j before the command too; the nftables `ct helper` path
# still works beside it.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat python3 jq

test_cleanup() {
	peers_stop
	stop_bg "${tcp_pid:-}"
	lan2_cleanup
}

ktap_header 12
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
# The sinks never answer: a check reads the helper of an unreplied flow,
# which lives 30 s by default, less than a check takes on a slow kernel.
rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 ||
	ktap_diag "cannot set rtr's UDP timeout"
lan2_setup || ktap_diag "lan2 setup failed"
klog_mark "ctl_iface"

enabled_on_wan0_only() {
	ctl rtr enable wan0 || return 1
	local got
	got=$(ctl rtr show -j | jq -c .) || return 1
	echo "show -j: $got"
	[ "$got" = "$(jq -nc --argjson w "$(rtr cat /sys/class/net/wan0/ifindex)" \
		'[{ifname: "wan0", ifindex: $w, configured: true, enabled: true,
		   mode: "rewrite", malformed: "pass", rate: 50, burst: 100,
		   calls: 256, over_limit: "pass"}]')" ]
}
ktap_check "enable wan0: show lists wan0 only, enabled, rewrite, pass" enabled_on_wan0_only

udp_sink_start wan 203.0.113.2 5060 wansink || ktap_diag "no sink on wan"
udp_sink_start lan2 10.0.2.2 5060 lan2sink || ktap_diag "no sink on lan2"

sip_invite 192.168.1.2 5060 203.0.113.2 6000 >"$SELFTEST_TMP/to-wan.sip"
sip_invite 192.168.1.2 5062 10.0.2.2 6002 >"$SELFTEST_TMP/to-lan2.sip"

through_wan_rewritten() {
	local rx
	rx=$(deliver lan 192.168.1.2 5060 203.0.113.2 5060 "$SELFTEST_TMP/to-wan.sip" wansink) || return 1
	echo "arrived on wan from $(cat "$rx.from")"
	rewritten_as "$rx" "$SELFTEST_TMP/to-wan.sip" 192.168.1.2:5060 || return 1
	echo "it is sipalgctl rewrite of what the phone sent"
	local helper
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5060)
	echo "its conntrack on rtr: helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check "a call leaving through wan0 gets helper=sipalg and is rewritten" through_wan_rewritten

lan_to_lan_untouched() {
	local rx before after helper
	before=$(counter rtr - messages-seen)
	rx=$(deliver lan 192.168.1.2 5062 10.0.2.2 5060 "$SELFTEST_TMP/to-lan2.sip" lan2sink) || return 1
	echo "arrived on lan2 from $(cat "$rx.from") (masqueraded by rtr)"
	[ "$(cut -d' ' -f1 "$rx.from")" = 10.0.2.1 ] || { echo "not NATed: the check would be void"; return 1; }
	bytes_equal "$SELFTEST_TMP/to-lan2.sip" "$rx" || return 1
	echo "byte for byte what lan sent"
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5062)
	echo "its conntrack on rtr: helper=${helper:-none}"
	[ -z "$helper" ] || return 1
	after=$(counter rtr - messages-seen)
	echo "messages-seen on rtr: $before before, $after after"
	[ "$before" = "$after" ]
}
ktap_check "the same INVITE lan0 -> lan1 (NATed, sipalg not enabled there) is not touched" lan_to_lan_untouched

entering_wan_assigned() {
	local helper
	sip_options 203.0.113.2 5099 203.0.113.1 |
		udp_send wan 203.0.113.2 5099 203.0.113.1 5060 || return 1
	wait_for 30 has_conntrack rtr -p udp --orig-src 203.0.113.2 --sport 5099
	rtr conntrack -L -p udp --orig-src 203.0.113.2 --sport 5099 2>/dev/null
	helper=$(ct_helper_of rtr -p udp --orig-src 203.0.113.2 --sport 5099)
	[ "$helper" = sipalg ]
}
ktap_check "a flow entering through wan0 (to rtr's 5060) gets helper=sipalg" entering_wan_assigned

other_port_not_assigned() {
	local entry
	sip_options 192.168.1.2 5070 203.0.113.2 |
		udp_send lan 192.168.1.2 5070 203.0.113.2 5070 || return 1
	wait_for 30 has_conntrack rtr -p udp --orig-src 192.168.1.2 --sport 5070
	entry=$(rtr conntrack -L -p udp --orig-src 192.168.1.2 --sport 5070 2>/dev/null)
	echo "conntrack on rtr: ${entry:-none}"
	[ -n "$entry" ] && ! grep -q 'helper=' <<<"$entry"
}
ktap_check "a flow to port 5070 (not in ports=) through wan0 gets no helper" other_port_not_assigned

# inet nat masquerades IPv6 too (NAT66): the same rewrite.
ipv6_assigned() {
	local rx helper
	udp_sink_start wan 2001:db8:1::2 5060 wan6sink || return 1
	sip_options fd00:1::2 5060 2001:db8:1::2 >"$SELFTEST_TMP/v6.sip"
	rx=$(deliver lan fd00:1::2 5060 2001:db8:1::2 5060 "$SELFTEST_TMP/v6.sip" wan6sink) || return 1
	echo "arrived on wan from $(cat "$rx.from")"
	rewritten_as "$rx" "$SELFTEST_TMP/v6.sip" "[fd00:1::2]:5060" || return 1
	helper=$(ct_helper_of rtr -f ipv6 -p udp --orig-src fd00:1::2 --sport 5060)
	echo "rewritten; its conntrack on rtr: helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check_here "IPv6 (NAT66) leaving through wan0: helper=sipalg, rewritten" ipv6_assigned

# TCP: 10.0.2.2 is 3 bytes shorter than 203.0.113.1, so every rewrite
# changes the length and the flow's sequence numbers must be adjusted.
tcp_leaving_rewritten() {
	local dir=$SELFTEST_TMP/tcp port
	mkdir -p "$dir"
	sip_invite 10.0.2.2 5060 203.0.113.2 7000 1 >"$dir/1.sip"
	sip_invite 10.0.2.2 5060 203.0.113.2 7000 2 >"$dir/2.sip"
	wan timeout "$(slow 40)" python3 "$SELFTEST_DIR/peers/sip_tcp_peer.py" server 203.0.113.2 5060 "$dir" &
	tcp_pid=$!
	wait_for 300 listens wan tcp 5060 || { echo "wan does not listen"; return 1; }
	lan2 python3 "$SELFTEST_DIR/peers/sip_tcp_peer.py" client 10.0.2.2 5060 203.0.113.2 5060 \
		"$dir" "$dir/1.sip" "$dir/2.sip" || { echo "the client failed"; return 1; }
	wait "$tcp_pid"
	tcp_pid=
	port=$(rtr conntrack -L -p tcp --orig-src 10.0.2.2 --sport 5060 2>/dev/null |
		sed -n 's/.*dst=203\.0\.113\.1 sport=5060 dport=\([0-9]*\).*/\1/p')
	echo "NATed to 203.0.113.1:${port:-?}"
	[ -n "$port" ] || return 1
	cat "$dir/1.sip" "$dir/2.sip" >"$dir/sent"
	"$REPO/userspace/sipalgctl" rewrite --tcp --internal 10.0.2.2:5060 \
		--external "203.0.113.1:$port" "$dir/sent" >"$dir/want" || return 1
	cmp -s "$dir/sent" "$dir/want" && { echo "nothing to rewrite: void"; return 1; }
	bytes_equal "$dir/want" "$dir/server.rx" || return 1
	echo "wan received both requests as sipalgctl rewrite --tcp of them ($(wc -c <"$dir/sent") -> $(wc -c <"$dir/server.rx") bytes)"
	cat "$dir"/server.tx.* >"$dir/answers"
	"$REPO/userspace/sipalgctl" rewrite --tcp --reply --internal 10.0.2.2:5060 \
		--external "203.0.113.1:$port" "$dir/answers" >"$dir/answers.want" || return 1
	bytes_equal "$dir/answers.want" "$dir/client.rx" || return 1
	echo "lan2 received both answers as sipalgctl rewrite --reply of them"
	[ "$(ct_helper_of rtr -p tcp --orig-src 10.0.2.2 --sport 5060)" = sipalg ]
}
ktap_check_here "TCP lan1 -> wan0: both requests and answers rewritten, the stream intact" tcp_leaving_rewritten

# A flow destination-NATed in PRE_ROUTING (before any helper: to another
# server, 203.0.113.2:5080) that leaves through wan0 without source NAT:
# only the ALG's own seqadj extension lets the server's longer answer
# through rewritten.
tcp_dnat_then_leaving() {
	local dir=$SELFTEST_TMP/dnat
	mkdir -p "$dir"
	rtr nft -f - <<-'EOF' || { echo "no DNAT rule"; return 1; }
		table ip portfwd {
			chain pre {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr 198.51.100.10 tcp dport 5060 dnat to 203.0.113.2:5080
			}
		}
	EOF
	rtr nft insert rule inet nat postrouting ip saddr 10.0.2.2 tcp sport 5062 accept ||
		{ echo "no SNAT exception"; return 1; }
	wan ip route add 10.0.2.0/24 via 203.0.113.1 || { echo "no route on wan"; return 1; }
	printf '%s\r\n' "SIP/2.0 200 OK" \
		"Via: SIP/2.0/TCP 10.0.2.2:5062;branch=z9hG4bK-dnat" \
		"From: <sip:alice@10.0.2.2>;tag=1" "To: <sip:bob@198.51.100.10>;tag=2" \
		"Call-ID: dnat@10.0.2.2" "CSeq: 1 OPTIONS" \
		"Contact: <sip:bob@203.0.113.2:5080;transport=tcp>" \
		"Content-Length: 0" "" >"$dir/answer"
	wan timeout "$(slow 30)" socat -u "OPEN:$dir/answer" \
		TCP4-LISTEN:5080,bind=203.0.113.2,reuseaddr &
	tcp_pid=$!
	wait_for 300 listens wan tcp 5080 || { echo "wan does not listen"; return 1; }
	lan2 timeout "$(slow 20)" socat -u TCP4:198.51.100.10:5060,bind=10.0.2.2:5062,connect-timeout=10 \
		"OPEN:$dir/rx,creat" || { echo "no connection"; return 1; }
	wait "$tcp_pid"
	tcp_pid=
	rtr conntrack -L -p tcp --orig-src 10.0.2.2 --sport 5062 2>/dev/null
	"$REPO/userspace/sipalgctl" rewrite --internal 203.0.113.2:5080 \
		--external 198.51.100.10:5060 "$dir/answer" >"$dir/want" || return 1
	cmp -s "$dir/answer" "$dir/want" && { echo "nothing to rewrite: void"; return 1; }
	bytes_equal "$dir/want" "$dir/rx" || return 1
	echo "lan2 got the answer with Contact 198.51.100.10 ($(wc -c <"$dir/answer") -> $(wc -c <"$dir/rx") bytes)"
}
ktap_check_here "TCP DNATed before leaving wan0, no SNAT: the server's answer is rewritten" tcp_dnat_then_leaving

json_outputs() {
	local cmd bad=0
	for cmd in "show -j" "show -j wan0" "show -j lan0" "stats -j" "stats -j wan0" "flows -j"; do
		# shellcheck disable=SC2086 # the words of cmd
		if ctl rtr $cmd | jq -e 'type == "array" or type == "object"' >/dev/null; then
			echo "sipalgctl $cmd: JSON"
		else
			echo "sipalgctl $cmd: not JSON"
			bad=1
		fi
	done
	if "$REPO/userspace/sipalgctl" parse -j "$SELFTEST_TMP/to-wan.sip" | jq -e . >/dev/null; then
		echo "sipalgctl parse -j: JSON"
	else
		bad=1
	fi
	return "$bad"
}
ktap_check "every -j output parses as JSON (jq)" json_outputs

# -j/--json before the command, as `ip -j` takes it: the same JSON as
# after it (numbers aside: counters and timeouts move between two calls;
# a flow may also end between them, so up to three tries each).
json_before_command() {
	local cmd before after try bad=0
	local no_numbers='walk(if type == "number" then 0 else . end)'
	for cmd in "show" "show wan0" "stats" "stats wan0" "flows"; do
		for try in 1 2 3; do
			# shellcheck disable=SC2086 # the words of cmd
			before=$(ctl rtr -j $cmd | jq -cS "$no_numbers")
			# shellcheck disable=SC2086
			after=$(ctl rtr $cmd --json | jq -cS "$no_numbers")
			[ -z "$before" ] || [ "$before" != "$after" ] || break
		done
		if [ -n "$before" ] && [ "$before" = "$after" ]; then
			echo "sipalgctl -j $cmd = $cmd --json (try $try): ${before:0:100}"
		else
			echo "sipalgctl -j $cmd: '$before', $cmd --json: '$after'"
			bad=1
		fi
	done
	return "$bad"
}
ktap_check "sipalgctl -j COMMAND gives the same JSON as COMMAND --json (show, stats, flows)" json_before_command

nft_ct_helper_beside() {
	local rx helper
	rtr_ct_helper sipalg udp 5060 || return 1
	sip_invite 192.168.1.2 5066 10.0.2.2 6006 >"$SELFTEST_TMP/nft.sip"
	rx=$(deliver lan 192.168.1.2 5066 10.0.2.2 5060 "$SELFTEST_TMP/nft.sip" lan2sink) || return 1
	rewritten_as "$rx" "$SELFTEST_TMP/nft.sip" 192.168.1.2:5066 || return 1
	helper=$(ct_helper_of rtr -p udp --orig-src 192.168.1.2 --sport 5066)
	echo "lan0 -> lan1 with the nft rule: rewritten, helper=${helper:-none}"
	[ "$helper" = sipalg ]
}
ktap_check "an nftables ct helper object still assigns sipalg beside the interfaces" nft_ct_helper_beside

ktap_check_klog

ktap_finish
