#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# A PBX on lan behind a port forward: rtr DNATs UDP 5060 on its public
# 203.0.113.1 to the PBX at 192.168.1.2:5060.  A SIP trunk on wan
# (203.0.113.2:5060) calls the PBX at 203.0.113.1.
#
# The trunk's requests travel in the original direction of the DNAT flow,
# towards the translated party; the PBX's answers travel in the reply
# direction, from it, and are the ones with the private address in them.
# sipalg must translate by the flow's tuples, not by who sent first:
# the PBX's 180/200 leave wan0 with Contact and SDP c= = 203.0.113.1 and the
# m= port of the media pinhole; every datagram the PBX sent is `sipalgctl
# rewrite --internal 192.168.1.2:5060 --external 203.0.113.1:5060` of it,
# every one it received is `... --reply` of what the trunk sent; and the
# trunk's RTP to 203.0.113.1:<that port> reaches the PBX's 192.168.1.2:20000.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp python3

PBX=192.168.1.2:5060
PUBLIC=203.0.113.1:5060
AUDIO=20000

test_cleanup() {
	peers_stop
}


setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || { echo "topology setup failed"; return 1; }
	rtr_dnat_pbx || return 1
	rtr_ct_helper sipalg udp 5060 &&
		capture_start rtr lan0 lan0 "udp port 5060" &&
		capture_start rtr wan0 wan0 "udp"
}

pbx_listening() {
	lan ss -Huln "sport = :5060" | grep -q .
}

# The trunk calls; once the call is up it sends RTP from its announced
# 203.0.113.2:30000 to the m= port of the PBX's 200 OK as it arrived at wan.
# The call lasts 6 s (times SELFTEST_SLOW): the RTP must cross before the BYE.
call() {
	local rc=0
	RTP_IN=0 MEDIA_PORT=$AUDIO
	call_run || rc=1
	udp_sink_stop
	capture_stop
	return "$rc"
}

call_run() {
	local port
	udp_sink_start lan 192.168.1.2 "$AUDIO" rtp || return 1
	sipp_start pbx lan -sf "$PEERS_DIR/callee.xml" -key audio "$AUDIO" \
		-i 192.168.1.2 -p 5060 -m 1 -timeout "$(slow 30)" -timeout_error
	wait_for 100 pbx_listening || { echo "the PBX's sipp is not listening"; return 1; }
	sipp_start trunk wan -sf "$PEERS_DIR/caller.xml" -s pbx -key audio 30000 \
		-i 203.0.113.2 -p 5060 -m 1 -d "$(slow 6000)" -timeout "$(slow 30)" -timeout_error \
		203.0.113.1:5060
	wait_for 150 test -e "$SELFTEST_TMP/trunk/established" ||
		{ echo "the call was not established"; sipp_wait trunk; return 1; }
	# The trunk's log, not the capture: tshark takes seconds in the VM.
	port=$(awk '/^SIP\/2\.0 200 / { ok = 1 } /^-----/ { ok = 0 }
		ok && /^m=audio / { print $2; exit }' "$SELFTEST_TMP/trunk/messages.log")
	echo "the PBX's 200 OK arrived at wan with m=audio ${port:-?}"
	MEDIA_PORT=${port:-$AUDIO}
	echo rtp-from-trunk | udp_send wan 203.0.113.2 30000 203.0.113.1 "$MEDIA_PORT"
	wait_for 20 test "$(udp_sink_count rtp)" -gt 0
	RTP_IN=$(udp_sink_count rtp)
	sipp_wait trunk || return 1
	sipp_wait pbx || return 1
	sleep 0.5
}

ktap_header 7
sipalg_unload
klog_mark "port-forwarded PBX"

ktap_check_here "topology: rtr forwards UDP 5060 of 203.0.113.1 to the PBX $PBX, sipalg on UDP 5060" setup
ktap_check_here "the trunk on wan calls the PBX at 203.0.113.1: sipp completes the call on both sides" call

flow() {
	rtr conntrack -L -p udp --orig-port-dst 5060 2>/dev/null
	sip_flow_compare lan0 wan0 "$PBX" "$PUBLIC" --media-port "$AUDIO=$MEDIA_PORT" &&
		[ "$(datagrams_changed)" -gt 0 ]
}
ktap_check "PBX->trunk: sipalgctl rewrite --internal $PBX --external $PUBLIC; trunk->PBX: the same with --reply" \
	flow

# The 200 OK to the INVITE as it left wan0, read without the oracle.
answer_public() {
	local f ok=
	for f in "$SELFTEST_TMP"/wan-out/*; do
		case ${f##*/} in '' | *[!0-9]*) continue ;; esac
		if head -n1 "$f" | grep -q '^SIP/2.0 200 ' && grep -aq '^CSeq: 1 INVITE' "$f"; then
			ok=$f
			break
		fi
	done
	[ -n "$ok" ] || { echo "no 200 OK to the INVITE left wan0"; return 1; }
	grep -a -e '^Via' -e '^Contact' -e '^c=' -e '^m=' -e '^o=' "$ok"
	grep -aq '^Contact: <sip:callee@203\.0\.113\.1:5060;' "$ok" &&
		grep -aq $'^c=IN IP4 203\\.0\\.113\\.1\r$' "$ok" &&
		grep -aq "^m=audio $MEDIA_PORT RTP/AVP 0" "$ok" &&
		grep -aq $'^o=callee .* IN IP4 192\\.168\\.1\\.2\r$' "$ok" &&
		grep -aq '^Via: SIP/2.0/UDP 203\.0\.113\.2:5060;' "$ok"
}
ktap_check "the PBX's 200 OK at wan: Contact and c= 203.0.113.1, m= the pinhole port; Via and o= untouched" \
	answer_public

rtp_reaches_pbx() {
	echo "RTP datagrams at the PBX's 192.168.1.2:$AUDIO: $RTP_IN"
	[ "$RTP_IN" = 1 ]
}
ktap_check "the trunk's RTP to 203.0.113.1:<m= port> reaches the PBX at 192.168.1.2:$AUDIO" \
	rtp_reaches_pbx

counters() {
	local c
	for c in messages-seen messages-parsed messages-rewritten \
		unchanged-nothing-to-rewrite expectations-created expectations-removed; do
		echo "$c $(sipalg_stat "$c")"
	done
	[ "$(sipalg_stat messages-rewritten)" = "$(datagrams_changed)" ] &&
		[ "$(sipalg_stat messages-seen)" = "$(sipalg_stat messages-parsed)" ] &&
		[ -z "$(sipalg_expect_list)" ]
}
ktap_check "counters: every changed datagram counted as rewritten; no pinhole left after the BYE" \
	counters

ktap_check_klog

ktap_finish
