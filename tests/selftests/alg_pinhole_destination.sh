#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# A pinhole leads only to the side that sent the SDP (README, Security):
# its address in the signalling conntrack, or for the masqueraded phone
# its internal address.  A c= naming anything else opens nothing and is
# counted (expectations-refused-destination).
#
#   lan 192.168.1.2   -- lan0 [rtr] wan0 203.0.113.1   -- wan 203.0.113.2
#       fd00:1::2             fd00:1::1 / 2001:db8:1::1     2001:db8:1::2
#                                                           203.0.113.3, 2001:db8:1::3
#                                                           (a third party)
#
# rtr masquerades IPv4 and routes IPv6.  It is a firewall: input and forward drop what is not established or
# related (LAN to WAN is allowed); ICMP is let in.  One SIP flow per
# family, phone:5070 -> peer:5060, assigned to sipalg by nftables; each
# side in turn sends an INVITE whose SDP names one address (c=) and one
# port (m=), and rtr's expectations are read after each:
# - IPv4: the phone's own c= and the peer's own c= open pinholes; the
#   phone naming the router (LAN or WAN address) or another LAN host, and
#   the peer naming the router, the phone or the router's LAN address, open
#   none.  With the peer's c= the router's WAN address and m= 161, a third
#   party's datagram to 203.0.113.1:161 does not reach a socket on rtr.
# - IPv6 (no NAT): the same; the peer naming a LAN host (fd00:1::2) opens
#   nothing and the third party's datagram to it is dropped by rtr.
# Every refused c= is counted once.  About 40 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack socat python3

test_cleanup() {
	peers_stop
}

ktap_header 7
sipalg_unload
klog_mark "alg_pinhole_destination"

setup() {
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || return 1
	ip -n wan addr add 203.0.113.3/24 dev eth0 &&
		ip -n wan addr add 2001:db8:1::3/64 dev eth0 nodad &&
		ip -n wan -6 route add fd00:1::/64 via 2001:db8:1::1 || return 1
	rtr_ct_helper sipalg udp 5060 || return 1
	# IPv6 is routed, not translated.
	rtr nft flush chain inet nat postrouting &&
		rtr nft add rule inet nat postrouting oifname wan0 meta nfproto ipv4 masquerade ||
		return 1
	# ICMP and ICMPv6 by number: a protocol's name needs /etc/protocols
	# (package netbase), which a minimal Debian root does not have.
	rtr nft -f - <<-'EOF'
		table inet filter {
			chain input {
				type filter hook input priority filter; policy drop;
				ct state established,related accept
				iif lo accept
				meta l4proto { 1, 58 } accept
			}
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				iifname "lan0" accept
				meta l4proto { 1, 58 } accept
			}
		}
	EOF
}
ktap_check_here "topology, rtr firewalled, sipalg on UDP 5060 by nftables" setup

# sdp_invite FROM_HOST C_ADDR M_PORT: an INVITE whose SDP names C_ADDR:M_PORT.
sdp_invite() {
	local from=$1 c=$2 port=$3 ip=IP4 host=$1 body
	case $c in *:*) ip=IP6 ;; esac
	case $from in *:*) host="[$from]" ;; esac
	printf -v body '%s\r\n' "v=0" "o=- 1 1 IN $ip $c" "s=-" "c=IN $ip $c" \
		"t=0 0" "m=audio $port RTP/AVP 0" "a=rtpmap:0 PCMU/8000"
	printf '%s\r\n' "INVITE sip:bob@example.com SIP/2.0" \
		"Via: SIP/2.0/UDP $host:5070;branch=z9hG4bK-$port;rport" \
		"Max-Forwards: 70" "From: <sip:alice@example.com>;tag=$port" \
		"To: <sip:bob@example.com>" "Call-ID: dest-$port@example.com" \
		"CSeq: 1 INVITE" "Contact: <sip:alice@$host:5070>" \
		"Content-Type: application/sdp" "Content-Length: ${#body}" ""
	printf '%s' "$body"
}

seen_more() { # N: messages-seen on rtr is above N
	[ "$(sipalg_stat messages-seen)" -gt "$1" ]
}

# send NS SRC SPORT DST DPORT C_ADDR M_PORT: the INVITE, once rtr has seen it.
send() {
	local seen
	seen=$(sipalg_stat messages-seen)
	sdp_invite "$2" "$6" "$7" | udp_send "$1" "$2" "$3" "$4" "$5" || return 1
	wait_for 100 seen_more "$seen" || { echo "rtr did not see the INVITE"; return 1; }
}

# pinholes: "dst dport" of each expectation on rtr (the first dst= and
# dport= of a line are the expected tuple's).
pinholes() {
	{
		rtr conntrack -L expect -f ipv4
		rtr conntrack -L expect -f ipv6
	} 2>/dev/null | awk '{
		d = ""; p = ""
		for (i = 1; i <= NF; i++) {
			if (d == "" && $i ~ /^dst=/) d = substr($i, 5)
			if (p == "" && $i ~ /^dport=/) p = substr($i, 7)
		}
		print d, p }'
}

# case WHO C_ADDR M_PORT WANT: WHO (phone4, peer4, phone6, peer6) sends an
# SDP naming C_ADDR:M_PORT; WANT is the pinhole "dst dport" or "none".
case_() {
	local who=$1 c=$2 port=$3 want=$4 got
	case $who in
	phone4) send lan 192.168.1.2 5070 203.0.113.2 5060 "$c" "$port" ;;
	peer4) send wan 203.0.113.2 5060 203.0.113.1 5070 "$c" "$port" ;;
	phone6) send lan fd00:1::2 5070 2001:db8:1::2 5060 "$c" "$port" ;;
	peer6) send wan 2001:db8:1::2 5060 fd00:1::2 5070 "$c" "$port" ;;
	esac || return 1
	got=$(pinholes | awk -v p="$port" '$2 == p || $2 == p + 1' | sort | tr '\n' ' ')
	if [ "$want" = none ]; then
		echo "$who c=$c m=$port: ${got:-no pinhole}"
		[ -z "$got" ]
	else
		echo "$who c=$c m=$port: ${got:-no pinhole} (want $want and RTCP)"
		[ "$got" = "$want ${want% *} $((port + 1)) " ]
	fi
}

# third_party_reaches NS SINK_IP PORT SRC: a datagram from SRC on wan to
# SINK_IP:PORT (a socket in NS) arrives.
third_party_reaches() {
	local ns=$1 ip=$2 port=$3 src=$4 sent=0
	udp_sink_start "$ns" "$ip" "$port" "sink$port" || return 2
	echo "third party" | udp_send wan "$src" 40000 "$ip" "$port" && sent=1
	sleep 2
	local n
	n=$(udp_sink_count "sink$port")
	udp_sink_stop "sink$port"
	echo "a datagram from $src to $ip:$port: $n arrived"
	[ "$sent" = 1 ] && [ "$n" -gt 0 ]
}

ipv4_allowed() {
	case_ phone4 192.168.1.2 16000 "203.0.113.1 16000" &&
		case_ peer4 203.0.113.2 20000 "203.0.113.2 20000"
}
ktap_check "IPv4: the phone's own c= and the peer's own c= open pinholes" ipv4_allowed

ipv4_phone_refused() {
	local bad=0
	case_ phone4 192.168.1.1 16010 none || bad=1
	case_ phone4 203.0.113.1 16020 none || bad=1
	case_ phone4 192.168.1.3 16030 none || bad=1
	case_ phone4 203.0.113.3 16040 none || bad=1
	return "$bad"
}
ktap_check "IPv4: the phone naming the router, another LAN host or a third party opens nothing" \
	ipv4_phone_refused

ipv4_peer_refused() {
	local bad=0 rc
	case_ peer4 203.0.113.1 161 none || bad=1
	third_party_reaches rtr 203.0.113.1 161 203.0.113.3
	rc=$?
	[ "$rc" = 1 ] || bad=1
	case_ peer4 192.168.1.2 20010 none || bad=1
	case_ peer4 192.168.1.1 20020 none || bad=1
	case_ peer4 203.0.113.3 20030 none || bad=1
	return "$bad"
}
ktap_check_here "IPv4: the peer naming the router (161: a third party's datagram stays out), the phone or a third party opens nothing" \
	ipv4_peer_refused

ipv6() {
	local bad=0 rc
	case_ phone6 fd00:1::2 16100 "fd00:1::2 16100" || bad=1
	case_ peer6 2001:db8:1::2 20100 "2001:db8:1::2 20100" || bad=1
	case_ phone6 2001:db8:1::1 16110 none || bad=1
	case_ phone6 fd00:1::3 16120 none || bad=1
	case_ peer6 fd00:1::1 20120 none || bad=1
	case_ peer6 2001:db8:1::1 20130 none || bad=1
	case_ peer6 fd00:1::2 20110 none || bad=1
	third_party_reaches lan fd00:1::2 20110 2001:db8:1::3
	rc=$?
	[ "$rc" = 1 ] || bad=1
	return "$bad"
}
ktap_check_here "IPv6: own c= open pinholes; the router, another LAN host, the phone named by the peer (a third party's datagram to it stays out) open nothing" \
	ipv6

refused_counted() {
	local n
	n=$(sipalg_stat expectations-refused-destination)
	echo "expectations-refused-destination $n"
	[ "$n" = 13 ]
}
ktap_check "every refused c= counted: expectations-refused-destination 13" refused_counted

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
