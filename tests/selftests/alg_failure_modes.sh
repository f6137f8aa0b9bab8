#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# docs/design.md section 1, end to end: the failures of today's SIP ALGs, each
# as an exact message sent from the phone (lan 192.168.1.2:5060) through
# rtr (masquerade, sipalg on UDP 5060) to wan 203.0.113.2:5060, or back.
# What arrives is compared byte for byte with `sipalgctl rewrite` and with
# an expectation written here:
# - the private address in Call-ID, From (display name, tag), User-Agent,
#   Subject, a Via and a Contact parameter, o=, s= and an a= line is left
#   alone; only Via sent-by, Contact host and c= change; every ';' stays;
# - received= and rport= written by the server reach the phone as written;
# - SDP with ICE candidates is not rewritten, and its media still flows
#   (pinhole on the public address, same port);
# - malformed messages pass unchanged (malformed=pass), are dropped
#   (malformed=drop), and the counters and the kernel log name the reason
#   (a CRLF before a datagram's start line too);
#   an ICMP error about the flow is not taken for a malformed message.
# Last, a diagnostic: the same messages through the in-tree helper.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack socat python3

MALFORMED=/sys/module/sipalg/parameters/malformed
MSG=$SELFTEST_TMP/msg

test_cleanup() {
	peers_stop
	[ ! -w "$MALFORMED" ] || echo pass >"$MALFORMED"
	rtr nft delete table inet helpers 2>/dev/null
	modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
}

ktap_header 11
sipalg_unload
modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
rtr_ct_helper sipalg udp 5060 || ktap_diag "no ct helper on rtr"
klog_mark "failure modes"
mkdir -p "$MSG"

# ------------------------------------------------------------- messages

crlf() {
	printf '%s\r\n' "$@"
}

# sdp LINE...: an SDP body (CRLF lines) into $MSG/.body
sdp() {
	crlf "$@" >"$MSG/.body"
}

# message NAME [CONTENT_LENGTH] < header lines: the lines, Content-Length
# (that of $MSG/.body unless given), the empty line, the body.
message() {
	local name=$1 cl=${2:-$(wc -c <"$MSG/.body")} line
	while IFS= read -r line; do
		crlf "$line"
	done >"$MSG/$name"
	crlf "Content-Length: $cl" "" >>"$MSG/$name"
	cat "$MSG/.body" >>"$MSG/$name"
}

# The private address where only Via sent-by, the Contact host and c= may
# change, with the ';' of empty and valued parameters around.
sdp "v=0" "o=alice 100 200 IN IP4 192.168.1.2" "s=192.168.1.2" \
	"c=IN IP4 192.168.1.2" "t=0 0" "m=audio 16000 RTP/AVP 0 101" \
	"a=rtpmap:101 telephone-event/8000" "a=fmtp:101 0-15" \
	"a=x-addr:192.168.1.2:16000"
message private <<'EOF'
INVITE sip:bob@203.0.113.2 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK-fm-1;x-orig=192.168.1.2
Max-Forwards: 70
From: "Alice 192.168.1.2" <sip:alice@192.168.1.2>;tag=192.168.1.2-77;x=1
To: <sip:bob@203.0.113.2>;x-a;x-b=2
Call-ID: 192.168.1.2-5060-f00d@192.168.1.2
CSeq: 1 INVITE
Contact: "Alice" <sip:alice@192.168.1.2:5060;transport=udp;ob>;expires=600;q=0.5;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00005e000002>"
User-Agent: Phone/2.0 (192.168.1.2; 192.168.1.2:5060)
Subject: call from 192.168.1.2;;;
Content-Type: application/sdp
EOF

# ICE: c= and the host candidates carry the private address; the SDP
# must arrive as it was sent.
sdp "v=0" "o=- 300 300 IN IP4 192.168.1.2" "s=-" "c=IN IP4 192.168.1.2" \
	"t=0 0" "a=ice-ufrag:8hhY" "a=ice-pwd:asd88fgpdd777uzjYhagZg" \
	"m=audio 17000 RTP/AVP 0" \
	"a=candidate:1 1 UDP 2130706431 192.168.1.2 17000 typ host" \
	"a=candidate:1 2 UDP 2130706430 192.168.1.2 17001 typ host" \
	"a=candidate:2 1 UDP 1694498815 203.0.113.1 17000 typ srflx raddr 192.168.1.2 rport 17000"
message ice <<'EOF'
INVITE sip:bob@203.0.113.2 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK-fm-ice;rport
Max-Forwards: 70
From: <sip:alice@192.168.1.2>;tag=ice-1
To: <sip:bob@203.0.113.2>
Call-ID: ice@192.168.1.2
CSeq: 1 INVITE
Contact: <sip:alice@192.168.1.2:5060>
Content-Type: application/sdp
EOF

# The server's answer to an OPTIONS, with what it saw of the phone:
# received= and rport= (RFC 3581) name the public side and must stay so.
: >"$MSG/.body"
message options <<'EOF'
OPTIONS sip:bob@203.0.113.2 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK-fm-opt
Max-Forwards: 70
From: <sip:alice@192.168.1.2>;tag=opt-1
To: <sip:bob@203.0.113.2>
Call-ID: opt@192.168.1.2
CSeq: 2 OPTIONS
Contact: <sip:alice@192.168.1.2:5060>
EOF
message options_ok <<'EOF'
SIP/2.0 200 OK
Via: SIP/2.0/UDP 203.0.113.1:5060;rport=5060;branch=z9hG4bK-fm-opt;received=203.0.113.1
From: <sip:alice@192.168.1.2>;tag=opt-1
To: <sip:bob@203.0.113.2>;tag=srv-1
Call-ID: opt@192.168.1.2
CSeq: 2 OPTIONS
Contact: <sip:bob@203.0.113.2:5060>
EOF

# Malformed: each has the private address in Via or Contact, so that any
# rewrite would show.
sdp "v=0" "o=- 5 5 IN IP4 192.168.1.2" "s=-" "c=IN IP4 192.168.1.2" \
	"t=0 0" "m=audio 18000 RTP/AVP 0"
body_len=$(wc -c <"$MSG/.body")
bad_invite() { # NAME VIA CONTENT_LENGTH [HEADER...]
	local name=$1 via=$2 cl=$3
	shift 3
	{
		printf '%s\n' "INVITE sip:bob@203.0.113.2 SIP/2.0" \
			"Via: SIP/2.0/UDP $via;branch=z9hG4bK-bad-$name;rport" \
			"Max-Forwards: 70" "From: <sip:alice@192.168.1.2>;tag=bad" \
			"To: <sip:bob@203.0.113.2>" "Call-ID: bad-$name@192.168.1.2" \
			"CSeq: 1 INVITE" "Contact: <sip:alice@192.168.1.2:5060>"
		[ $# -eq 0 ] || printf '%s\n' "$@"
		echo "Content-Type: application/sdp"
	} | message "$name" "$cl"
}
bad_invite truncated 192.168.1.2:5060 $((body_len + 20))
bad_invite cl_short 192.168.1.2:5060 $((body_len - 10))
bad_invite cl_twice 192.168.1.2:5060 "$body_len" "Content-Length: 0"
bad_invite via_port 192.168.1.2:70000 "$body_len"
bad_invite via_glued 192.168.1.2garbage:5060 "$body_len"
bad_invite no_colon 192.168.1.2:5060 "$body_len" "X-Garbage 192.168.1.2 no colon here"
# A datagram is one message: a CRLF before its start line (ignored on a
# stream only, RFC 3261 7.5) makes it malformed, as `sipalgctl rewrite`
# says, where a datagram of CRLFs alone is a keep-alive.
bad_invite crlf_first 192.168.1.2:5060 "$body_len"
{ crlf ""; cat "$MSG/crlf_first"; } >"$MSG/.crlf" && mv "$MSG/.crlf" "$MSG/crlf_first"
# name and the reason the module must count it with
MALFORMED_CASES="truncated:body-truncated cl_short:bad-sdp cl_twice:bad-content-length
via_port:bad-via via_glued:bad-via no_colon:bad-header crlf_first:bad-start-line"

# ------------------------------------------------------------- plumbing

# send NAME: the message from the phone; waits for it at wan's sink and
# stores what arrived as $MSG/NAME.got.  Fails if nothing arrives.
send() {
	local n=$(($(udp_sink_count wan) + 1))
	udp_send lan 192.168.1.2 5060 203.0.113.2 5060 <"$MSG/$1" || return 1
	if ! wait_for 30 test -e "$SELFTEST_TMP/wan/$n"; then
		echo "$1 did not reach wan"
		return 1
	fi
	cp "$SELFTEST_TMP/wan/$n" "$MSG/$1.got"
}

oracle() { # NAME [--reply]: what sipalg must make of the message
	sipalgctl rewrite --internal 192.168.1.2:5060 --external 203.0.113.1:5060 \
		"${@:2}" "$MSG/$1" >"$MSG/$1.oracle"
}

# by_hand NAME SED_SCRIPT: the message edited by the sed script, in $MSG/NAME.want
by_hand() {
	sed -e "$2" "$MSG/$1" >"$MSG/$1.want"
	! cmp -s "$MSG/$1" "$MSG/$1.want" || { echo "the edit by hand changes nothing"; return 1; }
}

udp_sink_start wan 203.0.113.2 5060 wan || ktap_diag "no receiver on wan"

# ------------------------------------------------- rewrite only the spans

private_addr_kept() {
	send private && oracle private || return 1
	bytes_equal "$MSG/private.oracle" "$MSG/private.got" || return 1
	by_hand private '2s/ 192\.168\.1\.2:5060;/ 203.0.113.1:5060;/
		s/^\(Contact: "Alice" <sip:alice@\)192\.168\.1\.2:/\1203.0.113.1:/
		s/^c=IN IP4 192\.168\.1\.2\r$/c=IN IP4 203.0.113.1\r/' || return 1
	bytes_equal "$MSG/private.want" "$MSG/private.got"
}
ktap_check "Call-ID, From, User-Agent, Subject, parameters, o=, s=, a= keep the private address" \
	private_addr_kept

semicolons() {
	local sent got
	sent=$(tr -cd ';' <"$MSG/private" | wc -c)
	got=$(tr -cd ';' <"$MSG/private.got" | wc -c)
	echo "';' sent $sent, arrived $got"
	grep -a -e '^Via' -e '^From' -e '^To' -e '^Contact' -e '^Subject' "$MSG/private.got"
	[ "$sent" = "$got" ] && [ "$sent" -ge 12 ] &&
		grep -aq '^Subject: call from 192\.168\.1\.2;;;'$'\r$' "$MSG/private.got" &&
		grep -aq ';x-orig=192\.168\.1\.2'$'\r$' "$MSG/private.got" &&
		grep -aq '^To: <sip:bob@203\.0\.113\.2>;x-a;x-b=2'$'\r$' "$MSG/private.got"
}
ktap_check "every ';' survives, in place" semicolons

# ------------------------------------------------------ received, rport

received_rport() {
	send options || return 1
	udp_sink_stop wan
	udp_sink_start lan 192.168.1.2 5060 phone || return 1
	udp_send wan 203.0.113.2 5060 203.0.113.1 5060 <"$MSG/options_ok" || return 1
	wait_for 30 test -e "$SELFTEST_TMP/phone/1" || { echo "the 200 OK did not reach the phone"; return 1; }
	cp "$SELFTEST_TMP/phone/1" "$MSG/options_ok.got"
	udp_sink_stop phone
	grep -a '^Via' "$MSG/options_ok.got"
	oracle options_ok --reply || return 1
	bytes_equal "$MSG/options_ok.oracle" "$MSG/options_ok.got" || return 1
	by_hand options_ok '2s/ 203\.0\.113\.1:5060;/ 192.168.1.2:5060;/' || return 1
	bytes_equal "$MSG/options_ok.want" "$MSG/options_ok.got" &&
		grep -aq ';rport=5060;branch=z9hG4bK-fm-opt;received=203\.0\.113\.1'$'\r$' "$MSG/options_ok.got"
}
ktap_check_here "received=203.0.113.1 and rport=5060 reach the phone as the server wrote them" \
	received_rport
udp_sink_start wan 203.0.113.2 5060 wan || ktap_diag "no receiver on wan"

# ----------------------------------------------------------------- ICE

ice_untouched() {
	send ice && oracle ice || return 1
	bytes_equal "$MSG/ice.oracle" "$MSG/ice.got" || return 1
	by_hand ice '2s/ 192\.168\.1\.2:5060;/ 203.0.113.1:5060;/
		s/^Contact: <sip:alice@192\.168\.1\.2:/Contact: <sip:alice@203.0.113.1:/' || return 1
	bytes_equal "$MSG/ice.want" "$MSG/ice.got"
}
ktap_check "ICE SDP arrives unchanged (only Via and Contact rewritten)" ice_untouched

ice_media() {
	udp_sink_start lan 192.168.1.2 17000 ice-rtp || return 1
	echo "ice-rtp-$$" | udp_send wan 203.0.113.2 41000 203.0.113.1 17000
	wait_for 30 test -e "$SELFTEST_TMP/ice-rtp/1" ||
		{ echo "nothing reached 192.168.1.2:17000"; sipalg_expect_list; return 1; }
	echo "the phone got \"$(cat "$SELFTEST_TMP/ice-rtp/1")\" from $(cat "$SELFTEST_TMP/ice-rtp/1.from")"
	[ "$(cat "$SELFTEST_TMP/ice-rtp/1")" = "ice-rtp-$$" ]
}
ktap_check_here "ICE media: RTP to 203.0.113.1:17000 reaches the phone's 17000 (pinhole, same port)" \
	ice_media
udp_sink_stop ice-rtp

# ----------------------------------------------------------- malformed

# Counters before, for the deltas.
for c in $MALFORMED_CASES; do
	r=${c#*:}
	declare "before_${r//-/_}=$(sipalg_stat "malformed-$r")"
done
dropped0=$(sipalg_stat messages-dropped)
rewritten0=$(sipalg_stat messages-rewritten)

malformed_pass() {
	local c name bad=0
	for c in $MALFORMED_CASES; do
		name=${c%%:*}
		send "$name" || { bad=1; continue; }
		if cmp -s "$MSG/$name" "$MSG/$name.got"; then
			echo "$name (${c#*:}): arrived unchanged"
		else
			bytes_equal "$MSG/$name" "$MSG/$name.got"
			bad=1
		fi
	done
	return "$bad"
}
ktap_check_here "malformed=pass: truncated body, Content-Length too short and twice, Via port 70000, glued Via host, header without colon, CRLF before the start line arrive byte for byte" \
	malformed_pass

klog_reason() {
	local log
	log=$(klog_since_mark | grep 'sipalg: ')
	echo "${log:-no sipalg line in the kernel log}"
	grep -q 'sipalg: passed unchanged a SIP message from 192\.168\.1\.2:5060: body-truncated at byte [0-9]' <<<"$log"
}
ktap_check "the kernel log names the reason and the offset" klog_reason

malformed_drop() {
	local c name n0 n
	n0=$(udp_sink_count wan)
	echo drop >"$MALFORMED" || return 1
	for c in $MALFORMED_CASES; do
		name=${c%%:*}
		udp_send lan 192.168.1.2 5060 203.0.113.2 5060 <"$MSG/$name" || return 1
	done
	# A well-formed message after them still passes: it is the last in.
	send options || return 1
	n=$(udp_sink_count wan)
	echo "wan got $((n - n0)) datagram(s), the last: $(head -n1 "$MSG/options.got" | tr -d '\r')"
	if [ "$n" != $((n0 + 1)) ] || ! head -n1 "$MSG/options.got" | grep -q '^OPTIONS '; then
		echo "a malformed message went through in drop mode"
		return 1
	fi
}
ktap_check_here "malformed=drop: the same seven are dropped, a well-formed OPTIONS after them passes" \
	malformed_drop

echo pass >"$MALFORMED"

malformed_counters() {
	local c r v b bad=0 dropped rewritten
	for c in $MALFORMED_CASES; do
		r=${c#*:}
		b=before_${r//-/_}
		v=$(sipalg_stat "malformed-$r")
		echo "malformed-$r: $((v - ${!b})) more"
	done | sort -u
	for r in body-truncated:2 bad-sdp:2 bad-content-length:2 bad-via:4 bad-header:2 \
		bad-start-line:2; do
		b=before_${r%:*}
		b=${b//-/_}
		v=$(sipalg_stat "malformed-${r%:*}")
		[ $((v - ${!b})) = "${r#*:}" ] || bad=1
	done
	dropped=$(($(sipalg_stat messages-dropped) - dropped0))
	rewritten=$(($(sipalg_stat messages-rewritten) - rewritten0))
	echo "messages-dropped: $dropped more, messages-rewritten: $rewritten more"
	[ "$bad" = 0 ] && [ "$dropped" = 7 ] && [ "$rewritten" = 1 ]
}
ktap_check "counters: each reason (pass + drop), 7 dropped, only the OPTIONS rewritten" \
	malformed_counters

# In drop mode: the phone has no socket on 5060 now, so the server's
# 200 OK makes it answer with an ICMP port unreachable, which belongs to
# the flow (RELATED) and travels in its original direction.  It carries
# the quoted packet, not SIP: not a malformed message, not dropped.
icmp_error() {
	local seen0 bad0 dropped0 bad dropped icmp
	seen0=$(sipalg_stat messages-seen)
	bad0=$(sipalg_stat malformed-bad-start-line)
	dropped0=$(sipalg_stat messages-dropped)
	echo drop >"$MALFORMED" || return 1
	capture_start rtr wan0 icmp icmp || return 1
	udp_sink_stop wan
	udp_send wan 203.0.113.2 5060 203.0.113.1 5060 <"$MSG/options_ok" || return 1
	sleep 2
	capture_stop
	echo pass >"$MALFORMED"
	udp_sink_start wan 203.0.113.2 5060 wan || return 1
	# The outer header's fields (the quoted one's follow a comma).
	icmp=$(capture_fields icmp icmp ip.src ip.dst icmp.type icmp.code |
		head -n1 | sed 's/,[^\t]*//g')
	bad=$(($(sipalg_stat malformed-bad-start-line) - bad0))
	dropped=$(($(sipalg_stat messages-dropped) - dropped0))
	echo "at wan0: ICMP ${icmp:-none} (src dst type code);" \
		"messages-seen +$(($(sipalg_stat messages-seen) - seen0))," \
		"malformed-bad-start-line +$bad, messages-dropped +$dropped"
	[ "$icmp" = "$(printf '203.0.113.1\t203.0.113.2\t3\t3')" ] &&
		[ "$bad" = 0 ] && [ "$dropped" = 0 ]
}
ktap_check_here "an ICMP port unreachable of the flow is no SIP message: passes, not counted malformed" \
	icmp_error
ktap_check_klog

# -------------------------------------------- the in-tree helper, for contrast

# shellcheck disable=SC2119 # every sink
intree() {
	udp_sink_stop
	rtr nft delete table inet helpers || return 1
	modprobe -a nf_conntrack_sip nf_nat_sip || return 1
	rtr_ct_helper sip udp 5060 || return 1
	rtr conntrack -F 2>/dev/null
	udp_sink_start wan 203.0.113.2 5060 wan || return 1
	if send private; then
		echo "in-tree helper: the lines of the first INVITE that differ from what the phone sent:"
		diff "$MSG/private" "$MSG/private.got" | grep -a '^>' | tr -d '\r' | sed 's/^> /    /'
	fi
	udp_sink_stop
	udp_sink_start lan 192.168.1.2 5060 phone || return 1
	udp_send wan 203.0.113.2 5060 203.0.113.1 5060 <"$MSG/options_ok"
	wait_for 30 test -e "$SELFTEST_TMP/phone/1" || return 0
	echo "in-tree helper, the server's 200 OK at the phone:"
	grep -a '^Via' "$SELFTEST_TMP/phone/1" | tr -d '\r' | sed 's/^/    /'
}
intree >"$SELFTEST_TMP/intree" 2>&1
ktap_diag <"$SELFTEST_TMP/intree"
peers_stop

ktap_finish
