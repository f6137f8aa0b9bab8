#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# A call over UDP through rtr (masquerade, sipalg on UDP 5060): the phone on
# lan (sipp) calls a sipp UAS on wan: INVITE with SDP (audio, video), 180,
# 200 OK with SDP, ACK, a pause, BYE, 200.
#
# Before the call another INVITE (from lan port 5070) takes the public
# audio port the phone will announce, 9998, so that the phone's audio
# pinhole gets another public port and m= and Content-Length must really be
# rewritten.  Then:
# - every datagram is, byte for byte, `sipalgctl rewrite [--reply]` of
#   what entered rtr; the INVITE also matches an edit made by hand;
# - during the call RTP and RTCP from wan to the public m= port and port+1
#   reach the phone's private 9998 and 9999;
# - the video pinholes (never used) are live before the BYE, gone after it,
#   and a datagram to them no longer reaches the phone;
# - the counters agree.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack socat dumpcap tshark xxd sipp python3

test_cleanup() {
	peers_stop
}

PHONE=192.168.1.2:5060
# the call's length: the media checks happen in it (10 s was too short
# once, on a host loaded by three VMs; they took 38 s on the debug kernel).
# At most 120 s: the call's unused pinholes live 180 s (the media
# expectation timeout), and expired ones are not counted removed.
PAUSE_MS=$(slow 20000)
[ "$PAUSE_MS" -le 120000 ] || PAUSE_MS=120000

ktap_header 12
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
rtr_ct_helper sipalg udp 5060 || ktap_diag "no ct helper on rtr"
# The other call below is never answered; its conntrack, and with it its
# pinholes, would be gone after the default 30 s, which a loaded VM may
# take to start the peers.
rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
klog_mark "a call through the ALG"

# ------------------------------------------------- the port taken before

sdp_invite() { # FROM_PORT AUDIO_PORT
	local body
	body=$(printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 192.168.1.2" "s=-" \
		"c=IN IP4 192.168.1.2" "t=0 0" "m=audio $2 RTP/AVP 0"; echo .)
	body=${body%.}
	printf '%s\r\n' "INVITE sip:other@203.0.113.2 SIP/2.0" \
		"Via: SIP/2.0/UDP 192.168.1.2:$1;branch=z9hG4bK-taker;rport" \
		"Max-Forwards: 70" "From: <sip:taker@192.168.1.2>;tag=1" \
		"To: <sip:other@203.0.113.2>" "Call-ID: taker@192.168.1.2" \
		"CSeq: 1 INVITE" "Contact: <sip:taker@192.168.1.2:$1>" \
		"Content-Type: application/sdp" "Content-Length: ${#body}" ""
	printf '%s' "$body"
}

has_expect() { # DST PORT
	sipalg_expect_list | grep -q "dst=$1 sport=0 dport=$2 "
}

take_port() {
	sdp_invite 5070 9998 | udp_send lan 192.168.1.2 5070 203.0.113.2 5060 || return 1
	wait_for 30 has_expect 203.0.113.1 9998 || { sipalg_expect_list; return 1; }
}
ktap_check "another call holds the public port 9998 (an expectation on rtr)" take_port

# ------------------------------------------------------------- the call

created0=$(sipalg_stat expectations-created)
removed0=$(sipalg_stat expectations-removed)
rewritten0=$(sipalg_stat messages-rewritten)

call() {
	local n
	capture_start rtr lan0 lan0 "udp port 5060" &&
		capture_start rtr wan0 wan0 "udp port 5060" || return 1
	for n in rtp:9998 rtcp:9999 vrtp:16002 vrtcp:16003; do
		udp_sink_start lan 192.168.1.2 "${n#*:}" "${n%:*}" || return 1
	done
	sipp_start callee wan -sf "$PEERS_DIR/call_uas.xml" -i 203.0.113.2 -p 5060 \
		-m 1 -timeout "$(slow 60)"
	wait_for 100 eval "wan ss -Huln 'sport = :5060' | grep -q ." ||
		{ echo "the callee does not listen"; return 1; }
	sipp_start phone lan -sf "$PEERS_DIR/call_uac.xml" -i 192.168.1.2 -p 5060 \
		-m 1 -d "$PAUSE_MS" -timeout "$(slow 60)" 203.0.113.2:5060
}
ktap_check_here "sipp calls from lan (phone) to wan (callee)" call

# The callee writes the audio and video ports of the offer it got.
wait_for 200 test -s "$SELFTEST_TMP/callee/offer_ports"
offer_seen=$SECONDS
read -r AUDIO VIDEO <"$SELFTEST_TMP/callee/offer_ports" 2>/dev/null
ktap_diag "the offer reached wan with m=audio ${AUDIO:-?} and m=video ${VIDEO:-?}"
AUDIO=${AUDIO:-0} VIDEO=${VIDEO:-0}

# Media the phone receives: rtp (9998), rtcp (9999), vrtp, vrtcp.
got() { # SINK PAYLOAD
	local f
	for f in "$SELFTEST_TMP/$1"/*; do
		case ${f##*/} in *[!0-9]*) continue ;; esac
		[ "$(cat "$f" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

media_in_call() {
	if [ "$AUDIO" = 0 ] || [ "$AUDIO" = 9998 ]; then
		echo "m=audio at wan is $AUDIO: the taken port 9998 was not replaced"
		return 1
	fi
	echo "rtp-$$" | udp_send wan 203.0.113.2 40000 203.0.113.1 "$AUDIO"
	echo "rtcp-$$" | udp_send wan 203.0.113.2 40001 203.0.113.1 $((AUDIO + 1))
	wait_for 30 got rtp "rtp-$$" && wait_for 30 got rtcp "rtcp-$$"
	local rc=$?
	echo "the phone got on 9998: $(cat "$SELFTEST_TMP"/rtp/*.from 2>/dev/null | tr '\n' ' ')" \
		"on 9999: $(cat "$SELFTEST_TMP"/rtcp/*.from 2>/dev/null | tr '\n' ' ')"
	return "$rc"
}
ktap_check "RTP to 203.0.113.1:$AUDIO and RTCP to :$((AUDIO + 1)) from wan reach the phone's 9998 and 9999" \
	media_in_call

video_pinholes_live() {
	local in_call=$SELFTEST_TMP/expect.in_call
	sipalg_expect_list >"$in_call"
	cat "$in_call"
	[ "$VIDEO" != 0 ] &&
		grep -q "dst=203.0.113.1 sport=0 dport=$VIDEO " "$in_call" &&
		grep -q "dst=203.0.113.1 sport=0 dport=$((VIDEO + 1)) " "$in_call"
}
ktap_check "during the call the video pinholes 203.0.113.1:$VIDEO and :$((VIDEO + 1)) are open" \
	video_pinholes_live

# The checks above must have run before the BYE.
ktap_diag "the media checks took $((SECONDS - offer_seen)) s of the ${PAUSE_MS} ms pause"
in_time() {
	[ ! -e "$SELFTEST_TMP/phone/bye" ] ||
		{ echo "the BYE went before the media checks were done: make PAUSE_MS longer"; return 1; }
}
ktap_check "the media checks ran during the call" in_time

call_done() {
	sipp_wait phone && sipp_wait callee || return 1
	sleep 0.5
	capture_stop
}
ktap_check_here "the call ends: ACK, BYE, 200 (both sipp exit 0)" call_done

ktap_check "every datagram byte for byte as sipalgctl rewrite [--reply] (--media-port 9998=$AUDIO 16002=$VIDEO)" \
	sip_flow_compare lan0 wan0 "$PHONE" 203.0.113.1:5060 \
	--media-port "9998=$AUDIO" --media-port "16002=$VIDEO"

# The INVITE once more, without the oracle: the allowed spans edited by hand.
invite_by_hand() {
	local sent=$SELFTEST_TMP/lan-out/1 got=$SELFTEST_TMP/wan-out/1 want=$SELFTEST_TMP/invite.want
	local cl body grow
	head -n1 "$sent" | grep -q '^INVITE ' || { echo "lan-out/1 is no INVITE"; return 1; }
	# sipp pads its Content-Length value with spaces.
	cl=$(sed -n 's/^Content-Length: *\([0-9]*\)\r$/\1/p' "$sent")
	grow=$((${#AUDIO} - 4 + ${#VIDEO} - 5))
	sed -e "2s/^Via: SIP\/2.0\/UDP $PHONE;/Via: SIP\/2.0\/UDP 203.0.113.1:5060;/" \
		-e "s/^Contact: <sip:alice@$PHONE>/Contact: <sip:alice@203.0.113.1:5060>/" \
		-e "s/^\(Content-Length: *\)$cl\r$/\1$((cl + grow))\r/" \
		-e "s/^c=IN IP4 192.168.1.2\r$/c=IN IP4 203.0.113.1\r/" \
		-e "s/^m=audio 9998 /m=audio $AUDIO /" \
		-e "s/^m=video 16002 /m=video $VIDEO /" "$sent" >"$want"
	grep -a -e '^Content-Length' -e '^[ocm]=' "$got"
	body=$(sed '1,/^\r$/d' "$got" | wc -c)
	echo "Content-Length at wan: $(sed -n 's/^Content-Length: //p' "$got" | tr -d '\r'), body $body bytes"
	bytes_equal "$want" "$got" &&
		grep -aq "^Content-Length: *$body"$'\r$' "$got" &&
		grep -aq '^o=alice 2890844526 2890844526 IN IP4 192\.168\.1\.2'$'\r$' "$got"
}
ktap_check "INVITE at wan: Via, Contact, c=, m= ports and Content-Length rewritten, o= and the rest not" \
	invite_by_hand

responses_restored() {
	local f n=0 bad=0
	for f in "$SELFTEST_TMP"/lan-in/*; do
		case ${f##*/} in *[!0-9]*) continue ;; esac
		n=$((n + 1))
		printf '%s: %s\n' "$(head -n1 "$f" | tr -d '\r')" "$(grep -a '^Via:' "$f" | tr -d '\r')"
		sed -n 2p "$f" | grep -q "^Via: SIP/2.0/UDP $PHONE;branch=" || bad=1
		[ "$(grep -ac '^Via:' "$f")" = 1 ] || bad=1
	done
	[ "$n" -ge 3 ] && [ "$bad" = 0 ]
}
ktap_check "every response reaches the phone with its own Via sent-by $PHONE" \
	responses_restored

closed_after_bye() {
	local p left
	sipalg_expect_list >"$SELFTEST_TMP/expect.after"
	left=$(for p in "$AUDIO" $((AUDIO + 1)) "$VIDEO" $((VIDEO + 1)); do
		grep "dst=203.0.113.1 sport=0 dport=$p " "$SELFTEST_TMP/expect.after"
	done; grep -e 'dst=203.0.113.2 sport=0 dport=2000[01] ' "$SELFTEST_TMP/expect.after")
	echo "expectations on rtr after the BYE:"
	cat "$SELFTEST_TMP/expect.after"
	[ -z "$left" ] || { echo "left of the call: $left"; return 1; }
	echo "vrtp-$$" | udp_send wan 203.0.113.2 40002 203.0.113.1 "$VIDEO"
	echo "vrtcp-$$" | udp_send wan 203.0.113.2 40003 203.0.113.1 $((VIDEO + 1))
	sleep 2
	if got vrtp "vrtp-$$" || got vrtcp "vrtcp-$$"; then
		echo "the phone still got video media after the BYE"
		return 1
	fi
}
ktap_check "after the BYE the call's pinholes are gone; video media no longer reaches the phone" \
	closed_after_bye

# Every expectation the call created was either taken by the audio media
# (2) or removed; every datagram rtr changed was counted.
counters() {
	local created removed rewritten changed
	created=$(($(sipalg_stat expectations-created) - created0))
	removed=$(($(sipalg_stat expectations-removed) - removed0))
	rewritten=$(($(sipalg_stat messages-rewritten) - rewritten0))
	changed=$(datagrams_changed)
	echo "in the call: expectations-created $created, expectations-removed $removed," \
		"messages-rewritten $rewritten, datagrams changed $changed"
	rtr grep -v ' 0$' /proc/net/sipalg_stats | tr '\n' ' '
	echo
	[ "$created" -ge 6 ] && [ $((created - removed)) = 2 ] &&
		[ "$rewritten" = "$changed" ] && [ "$changed" -ge 6 ]
}
ktap_check "counters: created = removed + the 2 used; rewritten = datagrams changed" counters

ktap_check_klog

ktap_finish
