#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, inside the VM (make demo runs it with scripts/vm).  A phone
# behind a NAT router registers with a registrar, places a call with media,
# and is called back after the router's UDP mapping would have expired:
# first with sipalg enabled on the router's WAN interface, then with no
# ALG, then with the kernel's own nf_conntrack_sip/nf_nat_sip.  Exit 0 only
# if every sipalg step worked.
#
#   lan: phone 192.168.1.2 -- rtr: NAT 203.0.113.1 -- wan: kamailio (registrar)
#                                                        and a far end, 203.0.113.2
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/../tests/selftests/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp kamailio kamcmd python3 git

PHONE=192.168.1.2
PUBLIC=203.0.113.1
FAR=203.0.113.2
UDP_TIMEOUT=10 UDP_STREAM_TIMEOUT=20 WAIT=25
declare -A RESULT=()
failed=0
RTP_PID=

# shellcheck disable=SC2317 # called by lib.sh's exit trap
test_cleanup() {
	rtp_stop
	peers_stop
}

say() {
	printf '%s\n' "$*"
}

step() {
	printf '  * %s\n' "$*"
}

# result SCENARIO KEY VALUE: remembered for the summary table.
result() {
	RESULT[$1,$2]=$3
}

# must SCENARIO DESC CONDITION...: a sipalg step that has to work.
must() {
	local scenario=$1 desc=$2
	shift 2
	"$@" && return 0
	[ "$scenario" = sipalg ] || return 1
	say "    !! sipalg: $desc did not work"
	failed=1
	return 1
}

# The words rtr changed between two copies of one message, one line each:
# [-as sent-]{+as received+}.
show_changes() {
	local title=$1 a=$SELFTEST_TMP/a b=$SELFTEST_TMP/b changes
	tr -d '\r' <"$2" >"$a"
	tr -d '\r' <"$3" >"$b"
	changes=$(git diff --no-index --no-color --word-diff=plain \
		--word-diff-regex='[^][ :;,<>@="/]+|[][ :;,<>@="/]' "$a" "$b" |
		tail -n +6 | grep -E '\[-|\{\+')
	say "    $title"
	if [ -z "$changes" ]; then
		say "      (not a byte changed)"
	else
		# shellcheck disable=SC2001 # indents every line
		sed 's/^/      /' <<<"$changes"
	fi
}

# The payload of the first datagram of capture NAME that starts with TEXT.
first_datagram() {
	local name=$1 text=$2 dir=$SELFTEST_TMP/$1.$RANDOM f n
	shift 2
	n=$(capture_payloads "$name" "$dir" "$@")
	for f in $(seq "$n"); do
		if head -c "${#text}" "$dir/$f" | grep -qF "$text"; then
			echo "$dir/$f"
			return 0
		fi
	done
	return 1
}

setup() {
	local scenario=$1
	topo_setup || return 1
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$UDP_TIMEOUT \
		net.netfilter.nf_conntrack_udp_timeout_stream=$UDP_STREAM_TIMEOUT
	case $scenario in
	sipalg)
		say "    \$ sipalgctl enable wan0"
		rtr "$REPO/userspace/sipalgctl" enable wan0 || return 1
		;;
	in-tree)
		modprobe nf_nat_sip || return 1
		# The far end listens on 5080: both ports, as for sipalg.
		rtr_ct_helper sip udp 5060 5080 || return 1
		;;
	esac
	capture_start rtr lan0 "lan-$scenario" udp &&
		capture_start rtr wan0 "wan-$scenario" udp &&
		kamailio_start
}

register() {
	local s=$1 contact
	sipp_start "register-$s" lan -sf "$PEERS_DIR/phone_register.xml" \
		-i "$PHONE" -p 5060 -m 1 -timeout 20 "$FAR:5060"
	sipp_wait "register-$s" >/dev/null || return 1
	REGISTERED_AT=$SECONDS
	contact=$(kamailio_contacts | head -n 1)
	step "the phone registered; the registrar stored Contact ${contact:-?}"
	case $contact in
	*"$PUBLIC"*) result "$s" register public ;;
	*) result "$s" register private ;;
	esac
	must "$s" "REGISTER's Contact rewritten to the public address" \
		grep -q "$PUBLIC" <<<"$contact"
}

# The far end's RTP, started with the call: as soon as the far end has the
# INVITE it sends a packet every 0.2 s (for at most 60 s) where the SDP it
# received says.  Started after the call was up, a cold python3 in a slow
# VM could start after the phone had hung up and its pinholes were gone.
rtp_start() {
	ip netns exec wan python3 -c 'import re, socket, sys, time
end = time.time() + 60
while time.time() < end:
    try:
        sdp = open(sys.argv[1], errors="replace").read()
    except OSError:
        sdp = ""
    addr = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
    port = re.search(r"^m=audio (\d+)", sdp, re.M)
    if addr and port:
        break
    time.sleep(0.1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while addr and port and time.time() < end:
    try:
        s.sendto(b"\x80\x00RTP from the far end", (addr.group(1), int(port.group(1))))
    except OSError:
        pass
    time.sleep(0.2)' "$1" 2>/dev/null &
	RTP_PID=$!	# python3 itself (ip netns exec execs it), so rtp_stop ends it
}

rtp_stop() {
	[ -z "$RTP_PID" ] || { kill "$RTP_PID"; wait "$RTP_PID"; } 2>/dev/null
	RTP_PID=
}

# The phone calls the far end directly; during the call the far end sends
# RTP where the SDP it received says, and a sink on the phone counts it.
call() {
	local s=$1 sdp addr port got
	udp_sink_start lan "$PHONE" 20000 "rtp-$s" || return 1
	sipp_start "far-$s" wan -sf "$PEERS_DIR/callee.xml" -key audio 30000 \
		-i "$FAR" -p 5080 -m 1 -timeout 30
	rtp_start "$SELFTEST_TMP/far-$s/messages.log"
	sipp_start "call-$s" lan -sf "$PEERS_DIR/caller.xml" -s far \
		-key audio 20000 -i "$PHONE" -p 5060 -mp 6100 -m 1 -d 8000 \
		-timeout 30 "$FAR:5080"
	wait_for 150 test -e "$SELFTEST_TMP/call-$s/established" || {
		rtp_stop
		step "the call was not established"
		result "$s" call failed
		return 1
	}
	sdp=$(sed -n '/^INVITE /,/^a=/p' "$SELFTEST_TMP/far-$s/messages.log" | tr -d '\r')
	addr=$(sed -n 's/^c=IN IP4 //p' <<<"$sdp" | head -n 1)
	port=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' <<<"$sdp" | head -n 1)
	step "call established; the far end's SDP says media to $addr:$port"
	wait_for 20 test "$(udp_sink_count "rtp-$s")" -gt 0
	got=$(udp_sink_count "rtp-$s")
	step "RTP from the far end to $addr:$port (a packet every 0.2 s since the far end had the INVITE): $got reached the phone"
	if [ "$s" = sipalg ]; then
		say "    \$ sipalgctl flows     (during the call)"
		rtr "$REPO/userspace/sipalgctl" flows | sed 's/^/      /'
	fi
	if [ "$got" -gt 0 ]; then result "$s" media flows; else result "$s" media lost; fi
	sipp_wait "call-$s" >/dev/null
	sipp_wait "far-$s" >/dev/null
	rtp_stop
	must "$s" "media through the NAT" test "$got" -gt 0
}

# What rtr changed: the REGISTER and the INVITE on their way out, the 200
# OK to the INVITE on its way in.
changes() {
	local s=$1 out_l out_w in_w in_l
	capture_stop
	out_l=$(first_datagram "lan-$s" "REGISTER" src=$PHONE)
	out_w=$(first_datagram "wan-$s" "REGISTER" dst=$FAR)
	[ -z "$out_l" ] || [ -z "$out_w" ] ||
		show_changes "REGISTER, as the phone sent it -> as the registrar got it:" "$out_l" "$out_w"
	out_l=$(first_datagram "lan-$s" "INVITE" src=$PHONE)
	out_w=$(first_datagram "wan-$s" "INVITE" dport=5080)
	[ -z "$out_l" ] || [ -z "$out_w" ] ||
		show_changes "INVITE, phone -> far end:" "$out_l" "$out_w"
	in_w=$(first_datagram "wan-$s" "SIP/2.0 200" sport=5080)
	in_l=$(first_datagram "lan-$s" "SIP/2.0 200" dst=$PHONE sport=5080)
	[ -z "$in_w" ] || [ -z "$in_l" ] ||
		show_changes "200 OK to the INVITE, far end -> phone:" "$in_w" "$in_l"
}

incoming() {
	local s=$1 left reached=no
	left=$((REGISTERED_AT + WAIT - SECONDS))
	step "waiting ${WAIT} s after the registration: rtr's UDP mapping would have expired (timeouts shortened to ${UDP_TIMEOUT}/${UDP_STREAM_TIMEOUT} s for the demo)"
	[ "$left" -le 0 ] || sleep "$left"
	sipp_start "phone-$s" lan -sf "$PEERS_DIR/callee.xml" -key audio 20000 \
		-i "$PHONE" -p 5060 -m 1 -timeout 20
	wait_for 100 bash -c "ip netns exec lan ss -Huln 'sport = :5060' | grep -q ."
	sipp_start "caller-$s" wan -sf "$PEERS_DIR/caller.xml" -s phone \
		-key audio 30000 -i "$FAR" -p 5070 -mp 6100 -m 1 -d 500 \
		-timeout 15 "$FAR:5060"
	sipp_wait "caller-$s" >/dev/null
	grep -aq '^INVITE sip:phone@' "$SELFTEST_TMP/phone-$s/messages.log" 2>/dev/null &&
		reached=yes
	# A phone that was never called would wait for its timeout.
	[ "$reached" = yes ] && sipp_wait "phone-$s" >/dev/null
	step "someone calls the phone through the registrar: the INVITE reached the phone: $reached"
	if [ "$reached" = yes ]; then
		result "$s" incoming rings
	else
		result "$s" incoming lost
	fi
	must "$s" "incoming call after the mapping timeout" test "$reached" = yes
}

scenario() {
	local s=$1 title=$2
	say ""
	say "== $title"
	if ! setup "$s"; then
		say "    !! setup failed"
		[ "$s" != sipalg ] || failed=1
		return
	fi
	register "$s"
	call "$s"
	changes "$s"
	incoming "$s"
	if [ "$s" = sipalg ]; then
		say "    \$ sipalgctl stats"
		rtr "$REPO/userspace/sipalgctl" stats | grep -v ' 0$' | sed 's/^/      /'
	fi
	peers_stop
	topo_cleanup
}

say "sipalg demo: a phone behind a NAT router, three ways"
say "  lan: phone $PHONE -- rtr: masquerade to $PUBLIC on wan0 -- wan: registrar (kamailio) and far end (sipp), $FAR"
say "  changed words are shown as [-as sent-]{+as received+}"
sipalg_unload
# shellcheck disable=SC2119 # no module parameters
sipalg_load || { say "sipalg does not load"; exit 1; }
scenario sipalg "1/3  sipalg enabled on the router's WAN interface"
sipalg_unload
scenario none "2/3  no ALG on the router"
scenario in-tree "3/3  the kernel's own SIP helper (nf_conntrack_sip + nf_nat_sip)"

say ""
say "== side by side"
printf '  %-34s %-12s %-12s %-12s\n' "" sipalg "no ALG" "in-tree"
for row in "register:registrar sees the phone at" "media:call media to the phone" "incoming:call to the phone after ${WAIT} s"; do
	key=${row%%:*}
	printf '  %-34s %-12s %-12s %-12s\n' "${row#*:}" "${RESULT[sipalg,$key]:--}" \
		"${RESULT[none,$key]:--}" "${RESULT[in-tree,$key]:--}"
done
say ""
if [ "$failed" = 0 ]; then
	say "every sipalg step worked"
else
	say "some sipalg step failed (see !! above)"
fi
exit "$failed"
