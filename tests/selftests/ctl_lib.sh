# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/selftests/ctl_lib.sh: sourced by the ctl_*.sh selftests (sipalgctl
# and the per-interface control plane) after lib.sh.
#
#   ctl NS ARGS...                 sipalgctl ARGS in namespace NS
#   lan2 CMD...                    CMD in namespace lan2
#   lan2_setup                     a second LAN-side network on rtr, also
#                                  masqueraded (so that an ALG wrongly
#                                  attached there would rewrite):
#
#       lan2 (phone 2)          rtr
#       eth0 10.0.2.2/24 ------ lan1 10.0.2.1/24   (masquerade out of lan1)
#
#   sip_invite FROM_IP FROM_PORT TO_IP MEDIA_PORT [CSEQ]
#                                  an INVITE with SDP (audio at MEDIA_PORT
#                                  on FROM_IP), CRLF line ends
#   sip_bad_via FROM_IP FROM_PORT TO_IP
#                                  an OPTIONS whose Via port is 70000: the
#                                  module's reason "bad-via"
#   deliver NS SRC SPORT DST DPORT FILE SINK
#                                  send FILE as one datagram and wait (10 s)
#                                  for the next one at udp_sink SINK; prints
#                                  a copy of what arrived (with FILE.from:
#                                  "addr port" it came from)
#   listens NS tcp|udp PORT        a socket listens on PORT in NS
#   has_conntrack NS ARGS...       `conntrack -L ARGS` lists something
#   not_delivered NS SRC SPORT DST DPORT FILE SINK
#                                  true when nothing reaches SINK in 2 s
#   rewritten_as RX FILE INTERNAL  RX is `sipalgctl rewrite` of FILE sent
#                                  from INTERNAL (addr:port, [addr]:port),
#                                  NATed to where RX says it came from
#   counters NS [IFACE]            `sipalgctl stats -j` as sorted
#                                  "name value" lines
#   counter NS IFACE|- NAME        one counter ("-": the namespace's)

lan2() { ip netns exec lan2 "$@"; }

ctl() {
	local ns=$1
	shift
	ip netns exec "$ns" "$REPO/userspace/sipalgctl" "$@"
}

lan2_setup() {
	ip netns add lan2 || return 1
	ip link add eth0 netns lan2 type veth peer name lan1 netns rtr || return 1
	ip -n lan2 link set lo up
	ip -n lan2 addr add 10.0.2.2/24 dev eth0
	ip -n lan2 link set eth0 up
	ip -n lan2 route add default via 10.0.2.1
	ip -n rtr addr add 10.0.2.1/24 dev lan1
	ip -n rtr link set lan1 up
	rtr nft add rule inet nat postrouting oifname lan1 masquerade
}

lan2_cleanup() {
	ip netns exec lan2 nft flush ruleset 2>/dev/null
	ip netns del lan2 2>/dev/null
	return 0
}

# sip_invite FROM PORT TO AUDIO_PORT [CSEQ [VIDEO_PORT]]
sip_invite() {
	local from=$1 port=$2 to=$3 media=$4 cseq=${5:-1} video=${6:-} body
	body=$(printf '%s\r\n' "v=0" "o=- 1 $cseq IN IP4 $from" "s=-" \
		"c=IN IP4 $from" "t=0 0" "m=audio $media RTP/AVP 0" \
		"a=rtpmap:0 PCMU/8000"
		[ -z "$video" ] || printf '%s\r\n' "m=video $video RTP/AVP 96" \
			"a=rtpmap:96 H264/90000"
		echo .)
	body=${body%.}
	printf '%s\r\n' "INVITE sip:bob@$to SIP/2.0" \
		"Via: SIP/2.0/UDP $from:$port;branch=z9hG4bK-$port-$cseq;rport" \
		"Max-Forwards: 70" "From: <sip:alice@$from>;tag=$port" \
		"To: <sip:bob@$to>" "Call-ID: call-$port@$from" \
		"CSeq: $cseq INVITE" "Contact: <sip:alice@$from:$port>" \
		"Content-Type: application/sdp" "Content-Length: ${#body}" ""
	printf '%s' "$body"
}

sip_bad_via() {
	local from=$1 port=$2 to=$3
	printf '%s\r\n' "OPTIONS sip:$to SIP/2.0" \
		"Via: SIP/2.0/UDP $from:70000;branch=z9hG4bK-bad;rport" \
		"Max-Forwards: 70" "From: <sip:alice@$from>;tag=bad" \
		"To: <sip:$to>" "Call-ID: bad-$port@$from" "CSeq: 1 OPTIONS" \
		"Contact: <sip:alice@$from:$port>" "Content-Length: 0" ""
}

# (wait_for runs its command again each time: no $(...) in its arguments.)
sink_has_more() { # SINK N
	[ "$(udp_sink_count "$1")" -gt "$2" ]
}

listens() { # NS tcp|udp PORT
	ip netns exec "$1" ss -Hln "--$2" "sport = :$3" | grep -q .
}

has_conntrack() { # NS CONNTRACK_LIST_ARGS...
	local ns=$1
	shift
	[ -n "$(ip netns exec "$ns" conntrack -L "$@" 2>/dev/null)" ]
}

deliver() {
	local ns=$1 src=$2 sport=$3 dst=$4 dport=$5 file=$6 sink=$7 n
	n=$(udp_sink_count "$sink")
	udp_send "$ns" "$src" "$sport" "$dst" "$dport" <"$file" || return 1
	if ! wait_for 100 sink_has_more "$sink" "$n"; then
		echo "nothing from $src:$sport reached $sink" >&2
		return 1
	fi
	# Out of the sink's directory: files made next to it (bytes_equal
	# writes FILE.shown) would count as datagrams.
	n=$((n + 1))
	mkdir -p "$SELFTEST_TMP/got"
	cp "$SELFTEST_TMP/$sink/$n" "$SELFTEST_TMP/got/$sink.$n" &&
		cp "$SELFTEST_TMP/$sink/$n.from" "$SELFTEST_TMP/got/$sink.$n.from" || return 1
	echo "$SELFTEST_TMP/got/$sink.$n"
}

not_delivered() {
	local ns=$1 src=$2 sport=$3 dst=$4 dport=$5 file=$6 sink=$7 n
	n=$(udp_sink_count "$sink")
	udp_send "$ns" "$src" "$sport" "$dst" "$dport" <"$file" || return 1
	sleep 2
	if [ "$(udp_sink_count "$sink")" -ne "$n" ]; then
		echo "a datagram from $src:$sport reached $sink"
		return 1
	fi
}

rewritten_as() {
	local rx=$1 file=$2 internal=$3 from addr port
	read -r addr port <"$rx.from"
	case $addr in *:*) from="[$addr]:$port" ;; *) from=$addr:$port ;; esac
	"$REPO/userspace/sipalgctl" rewrite --internal "$internal" \
		--external "$from" "$file" >"$rx.want" || return 1
	if cmp -s "$file" "$rx.want"; then
		echo "sipalgctl rewrite changes nothing in $file: the check would be void"
		return 1
	fi
	bytes_equal "$rx.want" "$rx"
}

counters() {
	local ns=$1
	shift
	ctl "$ns" stats -j "$@" | jq -r '.counters | to_entries[] | "\(.key) \(.value)"' | sort
}

counter() {
	local ns=$1 iface=$2 name=$3
	if [ "$iface" = - ]; then
		ctl "$ns" stats -j | jq -r --arg n "$name" '.counters[$n]'
	else
		ctl "$ns" stats -j "$iface" | jq -r --arg n "$name" '.counters[$n]'
	fi
}
