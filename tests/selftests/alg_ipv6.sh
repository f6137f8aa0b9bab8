#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# SIP over IPv6 through rtr, which runs a stateful firewall: forwarded
# traffic is accepted when established or related, or new from lan to wan;
# everything else is counted and dropped.
#
# 1. No NAT66, no helper: a call from the phone [fd00:1::2]:5060 to a peer
#    on wan works, but RTP the peer sends to the phone's announced
#    [fd00:1::2]:16000 is dropped by the firewall.
# 2. No NAT66, sipalg on UDP 5060: the same call; every SIP datagram
#    arrives byte for byte as it was sent (nothing is translated, nothing
#    rewritten), and RTP from wan to [fd00:1::2]:16000 passes through the
#    media pinhole; after the BYE a new RTP flow is dropped again.
# 3. NAT66 (masquerade on wan0, and an empty dstnat chain as every
#    translating router has: the kernel applies a pinhole's DNAT only where
#    a NAT hook runs at prerouting), sipalg: the phone's [fd00:1::2]:5060 in the
#    Via and Contact and fd00:1::2 in c=IN IP6 become rtr's
#    [2001:db8:1::1]:5060 and 2001:db8:1::1; every datagram is `sipalgctl
#    rewrite --internal [fd00:1::2]:5060 --external [2001:db8:1::1]:5060`
#    of what was sent (--reply for what comes back), and RTP sent to
#    [2001:db8:1::1]:<the m= port as it arrived> reaches the phone.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp python3

PHONE=fd00:1::2
PEER=2001:db8:1::2
PUBLIC=2001:db8:1::1
AUDIO=16000

test_cleanup() {
	peers_stop
}


fw_dropped() {
	rtr nft list counter inet filter dropped | awk '$1 == "packets" { print $2 }'
}

# No NAT66: masquerade IPv4 only.  The firewall.
setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || { echo "topology setup failed"; return 1; }
	# Without NAT66 wan routes the phone's prefix to rtr.
	ip -n wan -6 route add fd00:1::/64 via 2001:db8:1::1 || return 1
	rtr nft -f - <<-'EOF'
		flush chain inet nat postrouting
		add rule inet nat postrouting meta nfproto ipv4 oifname "wan0" masquerade
		table inet filter {
			counter dropped { }
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				iifname "lan0" oifname "wan0" ct state new accept
				counter name "dropped" drop
			}
		}
	EOF
}

wan_listening() {
	wan ss -Huln "sport = :5060" | grep -q .
}

# call6 NAME RTP_DST: a call from the phone to the peer on wan; once it is
# established the peer sends one RTP datagram from [PEER]:40000 to
# [RTP_DST]:<the m= port of the INVITE as it arrived at wan>, and after the
# BYE one more from [PEER]:40002 (a new flow).  Sets RTP_IN and RTP_AFTER
# to the number of datagrams the phone's media port received by then.
call6() {
	local rc=0
	RTP_IN=0 RTP_AFTER=0
	call6_run "$@" || rc=1
	udp_sink_stop
	capture_stop
	return "$rc"
}

call6_run() {
	local name=$1 dst=$2 port
	capture_start rtr lan0 "$name-lan0" "udp port 5060" &&
		capture_start rtr wan0 "$name-wan0" "udp" || return 1
	udp_sink_start lan "$PHONE" "$AUDIO" "$name-rtp" || return 1
	sipp_start "$name-callee" wan -sf "$PEERS_DIR/callee.xml" -key audio 20000 \
		-i "$PEER" -p 5060 -m 1 -timeout "$(slow 30)" -timeout_error
	wait_for 100 wan_listening || { echo "the callee's sipp is not listening"; return 1; }
	sipp_start "$name-caller" lan -sf "$PEERS_DIR/caller.xml" -s callee \
		-key audio "$AUDIO" -i "$PHONE" -p 5060 -m 1 -d "$(slow 6000)" \
		-timeout "$(slow 30)" -timeout_error "[$PEER]:5060"
	wait_for 150 test -e "$SELFTEST_TMP/$name-caller/established" ||
		{ echo "the call was not established"; sipp_wait "$name-caller"; return 1; }
	# The callee's log, not the capture: tshark takes seconds in the VM.
	port=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' \
		"$SELFTEST_TMP/$name-callee/messages.log" | head -n1)
	echo "the INVITE arrived at wan with m=audio ${port:-?}"
	[ -n "$port" ] || port=$AUDIO
	echo rtp-during-call | udp_send wan "$PEER" 40000 "$dst" "$port"
	wait_for 20 test "$(udp_sink_count "$name-rtp")" -gt 0
	RTP_IN=$(udp_sink_count "$name-rtp")
	echo "rtr during the call: expectations:"
	sipalg_expect_list
	echo "rtr conntracks:"
	rtr conntrack -L -f ipv6 2>/dev/null
	echo "firewall drops: $(fw_dropped)"
	sipp_wait "$name-caller" || return 1
	sipp_wait "$name-callee" || return 1
	echo rtp-after-bye | udp_send wan "$PEER" 40002 "$dst" "$port"
	sleep 1
	RTP_AFTER=$(udp_sink_count "$name-rtp")
	echo "RTP datagrams at the phone's [$PHONE]:$AUDIO: $RTP_IN during the call, $RTP_AFTER after the BYE"
}

ktap_header 10
sipalg_unload
klog_mark "SIP over IPv6"

ktap_check_here "topology: IPv6 not translated, stateful firewall on rtr" setup

# -------------------------------------------- 1. no helper at all

no_alg() {
	local before after
	before=$(fw_dropped)
	call6 plain "$PHONE" || return 1
	after=$(fw_dropped)
	echo "firewall drops: $before before the call, $after after"
	[ "$RTP_IN" = 0 ] && [ "$after" -ge $((before + 2)) ]
}
ktap_check_here "no helper: the call works, the peer's RTP to [$PHONE]:$AUDIO is dropped by the firewall" \
	no_alg

# ----------------------------------------- 2. sipalg, no NAT66

with_alg() {
	rtr_ct_helper sipalg udp 5060 || return 1
	rtr conntrack -F 2>/dev/null
	BEFORE_UNCHANGED=$(sipalg_stat unchanged-not-translated)
	call6 v6 "$PHONE" || return 1
	[ "$RTP_IN" = 1 ]
}
ktap_check_here "sipalg: the call works, the peer's RTP to [$PHONE]:$AUDIO passes the pinhole" with_alg

after_bye() {
	echo "the phone's media port received $RTP_IN datagram(s) during the call, $RTP_AFTER by the end"
	sipalg_expect_list
	[ "$RTP_AFTER" = 1 ] && [ -z "$(sipalg_expect_list)" ]
}
ktap_check "sipalg: after the BYE no pinhole is left, a new RTP flow is dropped" after_bye

# Every datagram, both ways, arrives as it was sent.
unchanged() {
	local dir n m i bad=0 sel
	for dir in out in; do
		if [ "$dir" = out ]; then
			sel="src=$PHONE sport=5060"
		else
			sel="dst=$PHONE dport=5060"
		fi
		# shellcheck disable=SC2086 # two selectors
		n=$(capture_payloads v6-lan0 "$SELFTEST_TMP/v6-lan-$dir" $sel)
		# shellcheck disable=SC2086
		m=$(capture_payloads v6-wan0 "$SELFTEST_TMP/v6-wan-$dir" $sel)
		echo "$dir: $n datagrams on lan0, $m on wan0"
		[ "$n" -gt 0 ] && [ "$n" = "$m" ] || return 1
		for i in $(seq "$n"); do
			bytes_equal "$SELFTEST_TMP/v6-lan-$dir/$i" "$SELFTEST_TMP/v6-wan-$dir/$i" || bad=1
		done
	done
	grep -a -e '^Via' -e '^Contact' -e '^c=' "$SELFTEST_TMP/v6-wan-out/1"
	return "$bad"
}
ktap_check "sipalg without NAT66: every SIP datagram arrives byte for byte as sent" unchanged

untranslated_counted() {
	local now rewritten
	now=$(sipalg_stat unchanged-not-translated)
	rewritten=$(sipalg_stat messages-rewritten)
	echo "unchanged-not-translated $BEFORE_UNCHANGED -> $now, messages-rewritten $rewritten"
	[ "$now" -ge $((BEFORE_UNCHANGED + 6)) ] && [ "$rewritten" = 0 ]
}
ktap_check "counters: the call's messages counted as not translated, none rewritten" \
	untranslated_counted

# ------------------------------------------- 3. sipalg with NAT66

nat66() {
	# A router that translates has a dstnat chain (empty here); without
	# one the kernel runs no NAT at prerouting and a pinhole's DNAT to
	# the phone is never applied (the same holds for the in-tree helper).
	rtr nft -f - <<-'EOF' || return 1
		flush chain inet nat postrouting
		add rule inet nat postrouting oifname "wan0" masquerade
		add chain inet nat prerouting { type nat hook prerouting priority dstnat; }
	EOF
	rtr conntrack -F 2>/dev/null
	call6 nat66 "$PUBLIC" || return 1
	[ "$RTP_IN" = 1 ] && [ "$RTP_AFTER" = 1 ]
}
ktap_check_here "NAT66: the call works, RTP to [$PUBLIC]:<m= port> reaches the phone, none after the BYE" \
	nat66

public=$(capture_fields nat66-wan0 'sip.Method == "INVITE"' ipv6.src udp.srcport |
	head -n1 | awk '{ print "[" $1 "]:" $2 }')
ktap_diag "the phone [$PHONE]:5060 is ${public:-nowhere} on wan"

nat66_oracle() {
	local port
	port=$(capture_fields nat66-wan0 'sip.Method == "INVITE"' sdp.media.port | head -n1)
	[ "$public" = "[$PUBLIC]:5060" ] || { echo "masquerade chose $public"; return 1; }
	sip_flow_compare nat66-lan0 nat66-wan0 "[$PHONE]:5060" "$public" \
		--media-port "$AUDIO=${port:-$AUDIO}" || return 1
	grep -a -e '^Via' -e '^Contact' -e '^c=' -e '^m=' "$SELFTEST_TMP/wan-out/1"
	[ "$(datagrams_changed)" -gt 0 ]
}
ktap_check "NAT66: every datagram as sipalgctl rewrite --internal [$PHONE]:5060 --external [$PUBLIC]:5060 [--reply]" \
	nat66_oracle

nat66_spans() {
	local inv=$SELFTEST_TMP/wan-out/1
	head -n1 "$inv" | grep -q '^INVITE ' || { echo "wan-out/1 is no INVITE"; return 1; }
	grep -aq "^Via: SIP/2.0/UDP \[$PUBLIC\]:5060;" "$inv" &&
		grep -aq "^Contact: <sip:caller@\[$PUBLIC\]:5060;" "$inv" &&
		grep -aq "^c=IN IP6 $PUBLIC"$'\r$' "$inv" &&
		grep -aq "^o=caller .* IN IP6 $PHONE"$'\r$' "$inv" &&
		! grep -aq "^Via: .*\[$PHONE\]" "$inv"
}
ktap_check "NAT66: the INVITE at wan has [$PUBLIC]:5060 in Via and Contact, c=IN IP6 $PUBLIC, o= untouched" \
	nat66_spans

ktap_check_klog

ktap_finish
