#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# SIP over TCP: a segment that continues a message is not a malformed
# message.  The phone (192.168.1.200, so that every rewrite changes the
# length of the stream) writes, with TCP no-delay, three segments over one
# connection through rtr (masquerade, sipalg by nftables):
#   1. an INVITE's header section and the first half of its SDP,
#   2. the rest of the SDP, then a complete OPTIONS,
#   3. an INFO.
# The INVITE spans two segments: it passes unchanged and is counted in
# unchanged-spans-segments; segment 2 is recognised as its continuation,
# never dropped nor counted malformed, and the OPTIONS after it and the
# INFO are rewritten.  Run with malformed=drop, then again with pass, on a
# new connection each: what the peer receives is the INVITE as sent and
# `sipalgctl rewrite --tcp` of the OPTIONS and of the INFO; the peer's
# three answers reach the phone restored.  About 30 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack python3

PHONE_IP=192.168.1.200
TCP_PEER=$PEERS_DIR/sip_tcp_peer.py
SERVER_PID=

test_cleanup() {
	stop_bg "$SERVER_PID"
}

ktap_header 5
sipalg_unload
klog_mark "alg_tcp_continuation"

ktap_check "topology, phone at $PHONE_IP, sipalg on TCP 5060, malformed=drop" \
	tcp_phone_setup "$PHONE_IP"

# request METHOD PORT [SDP]: a request from the phone's PORT, with an SDP
# offer (audio and video, on the phone's address) when SDP is given.
request() {
	local method=$1 port=$2 body=
	local me="$PHONE_IP:$port"
	if [ -n "${3:-}" ]; then
		printf -v body '%s\r\n' "v=0" "o=phone 1 1 IN IP4 $PHONE_IP" "s=-" \
			"c=IN IP4 $PHONE_IP" "t=0 0" \
			"m=audio 16000 RTP/AVP 0 8 101" "a=rtpmap:0 PCMU/8000" \
			"a=rtpmap:8 PCMA/8000" "a=rtpmap:101 telephone-event/8000" \
			"a=fmtp:101 0-15" "a=sendrecv" \
			"m=video 16002 RTP/AVP 96" "a=rtpmap:96 H264/90000" \
			"a=fmtp:96 profile-level-id=42e01f;packetization-mode=1"
	fi
	printf '%s\r\n' "$method sip:peer@203.0.113.2 SIP/2.0" \
		"Via: SIP/2.0/TCP $me;branch=z9hG4bK-$method-$port;rport" \
		"Max-Forwards: 70" \
		"From: <sip:phone@example.com>;tag=$port" \
		"To: <sip:peer@example.com>" \
		"Call-ID: cont-$method-$port@example.com" \
		"CSeq: 1 $method" \
		"Contact: <sip:phone@$me;transport=tcp>" \
		${3:+"Content-Type: application/sdp"} \
		"Content-Length: ${#body}" ""
	printf '%s' "$body"
}

# exchange PORT: the three writes from the phone's PORT; files in
# $SELFTEST_TMP/PORT.
exchange() {
	local port=$1 d=$SELFTEST_TMP/$1 half rc=0
	mkdir -p "$d"
	request INVITE "$port" sdp >"$d/invite"
	request OPTIONS "$port" >"$d/options"
	request INFO "$port" >"$d/info"
	half=$(($(wc -c <"$d/invite") - 120))
	head -c "$half" "$d/invite" >"$d/w1"
	{ tail -c +$((half + 1)) "$d/invite"; cat "$d/options"; } >"$d/w2"
	cp "$d/info" "$d/w3"
	wan python3 "$TCP_PEER" server 203.0.113.2 5060 "$d" &
	SERVER_PID=$!
	wait_for 100 test -e "$d/.listening" || { echo "the peer is not listening"; return 1; }
	lan python3 "$TCP_PEER" client "$PHONE_IP" "$port" 203.0.113.2 5060 "$d" \
		"$d/w1" "$d/w2" "$d/w3" || rc=1
	wait "$SERVER_PID" || rc=1
	SERVER_PID=
	return "$rc"
}

# arrived_as_wanted PORT: the peer received the INVITE as sent, the OPTIONS
# and the INFO rewritten.
arrived_as_wanted() {
	local port=$1 d=$SELFTEST_TMP/$1 public m
	public=$(rtr conntrack -L -p tcp --orig-src "$PHONE_IP" --sport "$port" 2>/dev/null |
		sed -n 's/.*dst=203\.0\.113\.1 sport=5060 dport=\([0-9]*\).*/\1/p' | head -n1)
	[ -n "$public" ] || { echo "no conntrack for $PHONE_IP:$port"; return 1; }
	echo "the phone's $PHONE_IP:$port is 203.0.113.1:$public"
	cp "$d/invite" "$d/want"
	for m in options info; do
		"$REPO/userspace/sipalgctl" rewrite --tcp --internal "$PHONE_IP:$port" \
			--external "203.0.113.1:$public" "$d/$m" >"$d/$m.want" || return 1
		cmp -s "$d/$m" "$d/$m.want" && { echo "$m: the oracle changes nothing"; return 1; }
		cat "$d/$m.want" >>"$d/want"
	done
	bytes_equal "$d/want" "$d/server.rx" || return 1
	grep -c '^SIP/2.0 200 OK' "$d/client.rx" | grep -qx 3 ||
		{ echo "the phone did not get 3 answers"; return 1; }
	grep -a '^Via' "$d/client.rx" | grep -v "$PHONE_IP:$port;" &&
		{ echo "an answer's Via was not restored"; return 1; }
	return 0
}

counters_say() { # SPANS
	local c bad=0 malformed
	for c in messages-seen messages-rewritten messages-dropped unchanged-spans-segments; do
		echo "$c $(sipalg_stat "$c")"
	done
	# shellcheck disable=SC2016 # an awk program
	malformed=$(rtr awk '/^malformed-/ && $2 != 0' /proc/net/sipalg_stats)
	[ -z "$malformed" ] || { echo "$malformed"; bad=1; }
	[ "$(sipalg_stat messages-dropped)" = 0 ] &&
		[ "$(sipalg_stat unchanged-spans-segments)" = "$1" ] || bad=1
	return "$bad"
}

drop_mode() {
	exchange 5062 && arrived_as_wanted 5062 && counters_say 1
}
ktap_check_here "malformed=drop: the INVITE across two segments passes as sent, its continuation is not dropped, the OPTIONS after it and the INFO are rewritten" \
	drop_mode

pass_mode() {
	echo pass >/sys/module/sipalg/parameters/malformed || return 1
	exchange 5064 && arrived_as_wanted 5064 && counters_say 2
}
ktap_check_here "malformed=pass: the same on a new connection" pass_mode

counted() {
	# 3 requests and 3 answers per connection; the INVITEs span segments.
	[ "$(sipalg_stat messages-seen)" = 12 ] &&
		[ "$(sipalg_stat messages-rewritten)" = 10 ]
}
ktap_check "counters: 12 messages seen, 10 rewritten, 2 spanning segments, none malformed" counted

test_cleanup
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
