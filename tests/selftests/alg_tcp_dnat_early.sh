#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# Every TCP flow sipalg assigns can be rewritten, even when destination
# NAT was set up before sipalg assigned its helper.  The NAT core adds the
# TCP sequence adjustment a length-changing rewrite needs only when it sets
# up a mapping for a conntrack that already has a helper.  Every nat chain
# (nftables at any priority, iptables) runs inside the NAT core's own hook,
# so on the way in sipalg's entering hook (NF_IP_PRI_NAT_DST - 1) is always
# first; but when sipalg is enabled only on the interface a flow LEAVES by,
# the port forward on the way in maps the flow before sipalg's leaving hook
# assigns it, and source NAT on the way out changes nothing.  That is this
# router: a PBX on the LAN (192.168.1.200:5060, so that its rewritten
# Contact changes length) reached through a port forward of rtr's
# 203.0.113.1:5060, with sipalg enabled on lan0 only.  A client on wan
# sends two requests over one TCP connection; the PBX's answers carry its
# private Contact, which rtr must rewrite to the public 203.0.113.1:5060:
# the client receives `sipalgctl rewrite --tcp` of each answer, and no
# rewrite is refused (unchanged-mangle-failed 0).  About 20 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack python3

PBX=192.168.1.200
TCP_PEER=$PEERS_DIR/sip_tcp_peer.py
SERVER_PID=

test_cleanup() {
	stop_bg "$SERVER_PID"
}

ktap_header 4
sipalg_unload
klog_mark "alg_tcp_dnat_early"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || return 1
	ip -n lan addr add "$PBX/24" dev eth0 || return 1
	rtr nft -f - <<-EOF || return 1
		table ip early {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				iifname "wan0" tcp dport 5060 dnat to $PBX:5060
			}
		}
	EOF
	ctl rtr enable lan0
}
ktap_check "topology, PBX $PBX behind a port forward, sipalg enabled on lan0 only" setup

# options N: a request from the client, as a file.
options() {
	printf '%s\r\n' "OPTIONS sip:pbx@203.0.113.1 SIP/2.0" \
		"Via: SIP/2.0/TCP 203.0.113.2:5070;branch=z9hG4bK-early-$1;rport" \
		"Max-Forwards: 70" "From: <sip:client@203.0.113.2>;tag=$1" \
		"To: <sip:pbx@203.0.113.1>" "Call-ID: early-$1@203.0.113.2" \
		"CSeq: $1 OPTIONS" "Contact: <sip:client@203.0.113.2:5070;transport=tcp>" \
		"Content-Length: 0" ""
}

exchange() {
	local d=$SELFTEST_TMP/x rc=0 helper
	mkdir -p "$d"
	options 1 >"$d/w1"
	options 2 >"$d/w2"
	lan python3 "$TCP_PEER" server "$PBX" 5060 "$d" &
	SERVER_PID=$!
	wait_for 100 test -e "$d/.listening" || { echo "the PBX is not listening"; return 1; }
	wan python3 "$TCP_PEER" client 203.0.113.2 5070 203.0.113.1 5060 "$d" \
		"$d/w1" "$d/w2" || rc=1
	wait "$SERVER_PID" || rc=1
	SERVER_PID=
	helper=$(ct_helper_of rtr -p tcp --orig-src 203.0.113.2 --sport 5070)
	echo "the connection's conntrack: helper=${helper:-none}"
	[ "$rc" = 0 ] && [ "$helper" = sipalg ]
}
ktap_check_here "a client on wan talks to the PBX through the port forward (helper=sipalg)" exchange

answers_rewritten() {
	local d=$SELFTEST_TMP/x f
	: >"$d/want"
	for f in "$d"/server.tx.*; do
		"$REPO/userspace/sipalgctl" rewrite --tcp --internal "$PBX:5060" \
			--external 203.0.113.1:5060 "$f" >>"$d/want" || return 1
	done
	grep -a '^Contact' "$d/client.rx"
	grep -q "$PBX" "$d/want" && { echo "the oracle left the PBX's address"; return 1; }
	bytes_equal "$d/want" "$d/client.rx" || return 1
	echo "unchanged-mangle-failed $(sipalg_stat unchanged-mangle-failed)," \
		"messages-rewritten $(sipalg_stat messages-rewritten)"
	[ "$(sipalg_stat unchanged-mangle-failed)" = 0 ] &&
		[ "$(sipalg_stat messages-rewritten)" = 2 ]
}
ktap_check "both answers reach the client with the PBX's Contact rewritten (sipalgctl rewrite --tcp), no rewrite refused" \
	answers_rewritten

test_cleanup
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
