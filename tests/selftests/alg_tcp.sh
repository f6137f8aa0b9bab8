#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# SIP over TCP through NAT, with rewrites that change lengths.
#
# The phone uses a second LAN address, 192.168.1.200 (13 characters; the
# router's public 203.0.113.1 has 11), so every rewrite changes the length
# of the segment and rtr must adjust the TCP sequence numbers of both
# directions (seqadj) for the rest of the connection.
#
# 1. A call, INVITE/180/200/ACK/BYE/200, sipp on both sides over one TCP
#    connection (the phone sends from port 5060, the port it writes in
#    Via and Contact): both ends complete it; every segment the phone sent
#    left wan0 as `sipalgctl rewrite --tcp` of it and every segment for the
#    phone reached lan0 as `sipalgctl rewrite --tcp --reply` of it; neither
#    side of rtr shows a retransmission, a duplicate ACK or an ACK of
#    unseen data.
# 2. Two messages in one segment, each way: the phone writes an OPTIONS and
#    an INVITE with SDP in one write; the peer answers both in one write
#    (each answer's Via sent-by is the connection's public address:port,
#    which rtr must restore); then one more request and its answer after
#    the length changes.  What arrives on each side is the concatenation
#    of `sipalgctl rewrite` of each message.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp python3

PHONE_IP=192.168.1.200
TCP_PEER=$PEERS_DIR/sip_tcp_peer.py
declare -A PEER_PIDS=()

test_cleanup() {
	local p
	for p in "${PEER_PIDS[@]}"; do
		stop_bg "$p"
	done
	peers_stop
}


# tcp_segments CAPTURE FILTER DIR: the payload of each TCP segment that
# FILTER selects, into DIR/1, DIR/2, ...; prints the count.
tcp_segments() {
	local name=$1 filter=$2 dir=$3
	rm -rf "$dir"
	mkdir -p "$dir"
	capture_fields "$name" "$filter && tcp.len > 0" tcp.payload | {
		n=0
		while read -r hex; do
			n=$((n + 1))
			xxd -r -p <<<"$hex" >"$dir/$n"
		done
		echo "$n"
	}
}

# segments_as_oracle SENT_DIR GOT_DIR N REWRITE_ARGS...: segment i of GOT
# is `sipalgctl rewrite --tcp ARGS` of segment i of SENT, for every i.
segments_as_oracle() {
	local sent=$1 got=$2 n=$3 i bad=0
	shift 3
	for i in $(seq "$n"); do
		sipalgctl rewrite --tcp "$@" "$sent/$i" >"$sent/$i.want" || bad=1
		if bytes_equal "$sent/$i.want" "$got/$i"; then
			echo "segment $i: $(wc -c <"$sent/$i") -> $(wc -c <"$got/$i") bytes:" \
				"$(grep -ac $'^[A-Z].* SIP/2.0\r$\|^SIP/2.0 ' "$sent/$i") message(s)," \
				"$(head -n1 "$sent/$i" | tr -d '\r')"
		else
			bad=1
		fi
	done
	return "$bad"
}

# A TCP capture without retransmissions, duplicate ACKs, lost segments,
# out-of-order data, ACKs of unseen segments or zero windows.  The close
# is left out: on a slow VM a FIN may be sent again before the peer's ACK
# (answered by a D-SACK duplicate ACK); neither carries data the ALG
# touched, and a wrong sequence adjustment shows on the data and its ACKs.
stream_clean() {
	local name=$1 flags
	flags=$(capture_fields "$name" \
		'tcp.analysis.flags && !tcp.analysis.window_update &&
		 !(tcp.len == 0 && tcp.flags.fin == 1) &&
		 !(tcp.len == 0 && tcp.analysis.duplicate_ack && tcp.options.sack_le)' \
		frame.number ip.src tcp.srcport ip.dst tcp.dstport _ws.expert.message |
		head -n 20)
	[ -z "$flags" ] && return 0
	echo "$name: tshark's TCP analysis flags:"
	echo "$flags"
	return 1
}

ktap_header 10
sipalg_unload
klog_mark "SIP over TCP"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || { echo "topology setup failed"; return 1; }
	ip -n lan addr add "$PHONE_IP/24" dev eth0 || return 1
	rtr_ct_helper sipalg tcp 5060 || return 1
	capture_start rtr lan0 lan0 "tcp port 5060" &&
		capture_start rtr wan0 wan0 "tcp port 5060"
}
ktap_check_here "topology, phone at $PHONE_IP, sipalg on TCP 5060" setup

# ------------------------------------------------------- the call

wan_listening() {
	wan ss -Htln "sport = :5060" | grep -q .
}

call() {
	sipp_start callee wan -sf "$PEERS_DIR/callee.xml" -t t1 -key audio 20000 \
		-i 203.0.113.2 -p 5060 -m 1 -timeout "$(slow 30)" -timeout_error
	wait_for 100 wan_listening || { echo "the callee's sipp is not listening"; return 1; }
	sipp_start caller lan -sf "$PEERS_DIR/caller.xml" -t t1 -s callee \
		-key audio 16000 -i "$PHONE_IP" -p 5060 -m 1 -d 1000 \
		-timeout "$(slow 30)" -timeout_error 203.0.113.2:5060
	sipp_wait caller || return 1
	sipp_wait callee || return 1
	grep -a -A1 'message received' "$SELFTEST_TMP/caller/messages.log" |
		grep -a '^SIP/2.0' | sed 's/^/the phone received: /'
	sleep 0.5
	capture_stop
}
ktap_check_here "a call over TCP (INVITE/180/200/ACK/BYE/200): sipp completes it on both sides" call

# The phone's TCP connection as rtr's masquerade chose it.
public=$(capture_fields wan0 'tcp.flags.syn == 1 && tcp.flags.ack == 0' \
	ip.src tcp.srcport | head -n1 | tr '\t' ':')
ktap_diag "the phone $PHONE_IP:5060 is ${public:-nowhere} on wan"

phone_to_wan() {
	local n m lan_bytes wan_bytes
	n=$(tcp_segments lan0 "ip.src == $PHONE_IP && tcp.srcport == 5060" "$SELFTEST_TMP/c-lan-out")
	m=$(tcp_segments wan0 "ip.src == ${public%:*} && tcp.srcport == ${public#*:}" "$SELFTEST_TMP/c-wan-out")
	echo "the phone sent $n data segments on lan0, $m left wan0"
	[ "$n" -gt 0 ] && [ "$n" = "$m" ] || return 1
	segments_as_oracle "$SELFTEST_TMP/c-lan-out" "$SELFTEST_TMP/c-wan-out" "$n" \
		--internal "$PHONE_IP:5060" --external "$public" || return 1
	lan_bytes=$(cat "$SELFTEST_TMP"/c-lan-out/[0-9] "$SELFTEST_TMP"/c-lan-out/[0-9][0-9] 2>/dev/null | wc -c)
	wan_bytes=$(cat "$SELFTEST_TMP"/c-wan-out/[0-9] "$SELFTEST_TMP"/c-wan-out/[0-9][0-9] 2>/dev/null | wc -c)
	echo "stream phone->wan: $lan_bytes bytes on lan0, $wan_bytes on wan0"
	[ "$lan_bytes" != "$wan_bytes" ]
}
ktap_check "phone->wan: each segment as sipalgctl rewrite --tcp, stream length changed" \
	phone_to_wan

wan_to_phone() {
	local n m
	n=$(tcp_segments wan0 "ip.dst == ${public%:*} && tcp.dstport == ${public#*:}" "$SELFTEST_TMP/c-wan-in")
	m=$(tcp_segments lan0 "ip.dst == $PHONE_IP && tcp.dstport == 5060" "$SELFTEST_TMP/c-lan-in")
	echo "$n data segments for the phone reached wan0, $m left lan0"
	[ "$n" -gt 0 ] && [ "$n" = "$m" ] || return 1
	segments_as_oracle "$SELFTEST_TMP/c-wan-in" "$SELFTEST_TMP/c-lan-in" "$n" \
		--reply --internal "$PHONE_IP:5060" --external "$public"
}
ktap_check "wan->phone: each segment as sipalgctl rewrite --tcp --reply" wan_to_phone

streams_clean() {
	local bad=0
	stream_clean lan0 || bad=1
	stream_clean wan0 || bad=1
	return "$bad"
}
ktap_check "the call's TCP stream is clean on lan0 and wan0 (no retransmission, no bad ACK)" \
	streams_clean

# ------------------------------------ two messages in one segment

# sip_request METHOD PORT [SDP_PORT]: a request from the phone's PORT, with
# an SDP offer at SDP_PORT if given.
sip_request() {
	local method=$1 port=$2 sdp_port=${3:-} body=
	local me="$PHONE_IP:$port"
	if [ -n "$sdp_port" ]; then
		printf -v body '%s\r\n' "v=0" "o=phone 1 1 IN IP4 $PHONE_IP" "s=-" \
			"c=IN IP4 $PHONE_IP" "t=0 0" "m=audio $sdp_port RTP/AVP 0" \
			"a=rtpmap:0 PCMU/8000"
	fi
	printf '%s\r\n' "$method sip:peer@203.0.113.2 SIP/2.0" \
		"Via: SIP/2.0/TCP $me;branch=z9hG4bK-$method-$RANDOM;rport" \
		"Max-Forwards: 70" \
		"From: <sip:phone@$PHONE_IP>;tag=$PHONE_IP" \
		"To: <sip:peer@203.0.113.2>" \
		"Call-ID: tcp-$method@$PHONE_IP" \
		"CSeq: 1 $method" \
		"Contact: <sip:phone@$me;transport=tcp>" \
		${sdp_port:+"Content-Type: application/sdp"} \
		"Content-Length: ${#body}" ""
	printf '%s' "$body"
}

two_in_one() {
	local d=$SELFTEST_TMP/two rc=0
	mkdir -p "$d"
	sip_request OPTIONS 5062 >"$d/m1"
	sip_request INVITE 5062 16010 >"$d/m2"
	sip_request INFO 5062 >"$d/m3"
	cat "$d/m1" "$d/m2" >"$d/write1"
	cp "$d/m3" "$d/write2"
	capture_start rtr lan0 two-lan0 "tcp port 5060" &&
		capture_start rtr wan0 two-wan0 "tcp port 5060" || return 1
	wan python3 "$TCP_PEER" server 203.0.113.2 5060 "$d" &
	PEER_PIDS[server]=$!
	wait_for 100 test -e "$d/.listening" || { echo "the TCP peer is not listening"; return 1; }
	lan python3 "$TCP_PEER" client "$PHONE_IP" 5062 203.0.113.2 5060 "$d" \
		"$d/write1" "$d/write2" || rc=1
	wait "${PEER_PIDS[server]}" || rc=1
	unset "PEER_PIDS[server]"
	sleep 0.5
	capture_stop
	return "$rc"
}
ktap_check_here "two messages in one write each way, then one more: the exchange completes" two_in_one

# The public side of the connection from 192.168.1.200:5062.
public2=$(capture_fields two-wan0 'tcp.flags.syn == 1 && tcp.flags.ack == 0' \
	ip.src tcp.srcport | head -n1 | tr '\t' ':')
ktap_diag "the phone's second connection $PHONE_IP:5062 is ${public2:-nowhere} on wan"

requests_each_rewritten() {
	local d=$SELFTEST_TMP/two i first
	first=$(capture_fields two-lan0 "ip.src == $PHONE_IP && tcp.len > 0" tcp.len | head -n1)
	echo "the phone's first data segment: ${first:-none} bytes; OPTIONS + INVITE: $(wc -c <"$d/write1")"
	[ "$first" = "$(wc -c <"$d/write1")" ] || { echo "the two messages did not travel in one segment"; return 1; }
	for i in 1 2 3; do
		sipalgctl rewrite --tcp --internal "$PHONE_IP:5062" --external "$public2" \
			"$d/m$i" >"$d/m$i.want" || return 1
		cmp -s "$d/m$i" "$d/m$i.want" && { echo "m$i: the oracle changes nothing"; return 1; }
	done
	cat "$d/m1.want" "$d/m2.want" "$d/m3.want" >"$d/server.want"
	grep -a -e '^Via' -e '^Contact' -e '^c=' -e '^Content-Length' "$d/server.rx"
	bytes_equal "$d/server.want" "$d/server.rx"
}
ktap_check "wan received the OPTIONS+INVITE segment and the INFO as sipalgctl rewrite of each" \
	requests_each_rewritten

responses_each_restored() {
	local d=$SELFTEST_TMP/two n i first
	first=$(capture_fields two-wan0 "ip.dst == ${public2%:*} && tcp.len > 0" tcp.len | head -n1)
	echo "the peer's first data segment: ${first:-none} bytes; its first write: $(wc -c <"$d/server.tx.1" 2>/dev/null)"
	[ -n "$first" ] && [ "$first" = "$(wc -c <"$d/server.tx.1")" ] || return 1
	# The peer's answers, one file each: r1, r2, ...
	cat "$d"/server.tx.* | python3 -B -c '
import sys
sys.path.insert(0, sys.argv[1])
from sip_tcp_peer import split_messages
for i, m in enumerate(split_messages(sys.stdin.buffer.read())[0], 1):
    open("%s/r%d" % (sys.argv[2], i), "wb").write(m)
print(i)' "$PEERS_DIR" "$d" >"$d/answers" || return 1
	n=$(cat "$d/answers")
	echo "the peer answered $n requests"
	[ "$n" = 3 ] || return 1
	: >"$d/client.want"
	for i in $(seq "$n"); do
		sipalgctl rewrite --tcp --reply --internal "$PHONE_IP:5062" \
			--external "$public2" "$d/r$i" >>"$d/client.want" || return 1
	done
	grep -a '^Via' "$d/client.rx"
	bytes_equal "$d/client.want" "$d/client.rx"
}
ktap_check "the phone received both answers of one segment and the third as sipalgctl rewrite --reply" \
	responses_each_restored

counters() {
	local c
	for c in messages-seen messages-parsed messages-rewritten \
		unchanged-spans-segments unchanged-mangle-failed; do
		echo "$c $(sipalg_stat "$c")"
	done
	# The call's 6 messages and the 3 requests and 3 answers of the second
	# connection: each carries the phone's address or the public one.
	stream_clean two-lan0 && stream_clean two-wan0 &&
		[ "$(sipalg_stat unchanged-spans-segments)" = 0 ] &&
		[ "$(sipalg_stat unchanged-mangle-failed)" = 0 ] &&
		[ "$(sipalg_stat messages-seen)" = 12 ] &&
		[ "$(sipalg_stat messages-parsed)" = 12 ] &&
		[ "$(sipalg_stat messages-rewritten)" = 12 ]
}
ktap_check "second connection clean; counters: 12 messages seen, parsed and rewritten, none spanning segments" \
	counters

ktap_check_klog

ktap_finish
