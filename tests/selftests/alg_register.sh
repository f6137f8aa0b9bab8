#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# A phone on lan registers with kamailio on wan through rtr (masquerade,
# sipalg assigned to UDP 5060).  The REGISTER arrives with the router's
# public address:port in the Via sent-by and the Contact, and every other
# byte as the phone wrote it (the private address also appears in the
# display name, From tag, Call-ID, User-Agent and a Contact parameter, where
# it must stay); the 200 OK reaches the phone with its own Via sent-by
# back.  Byte for byte: what left wan0 equals `sipalgctl rewrite` of what
# entered lan0, and the other way round with --reply.  The registrar's
# location table holds the public Contact.
#
# Another host on lan (192.168.1.3) talks to the registrar from port 5060
# first, so that rtr's masquerade gives the phone another public port: the
# port is rewritten too, not only the address.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack dumpcap tshark xxd sipp kamailio kamcmd python3

test_cleanup() {
	peers_stop
}

PHONE=192.168.1.2:5060

ktap_header 11
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
rtr_ct_helper sipalg udp 5060 || ktap_diag "no ct helper on rtr"
klog_mark "REGISTER through the ALG"

ktap_check_here "kamailio runs on wan as registrar" kamailio_start

# The holder's mapping must outlive a slow VM's start of the phone's sipp
# (the UDP timeout is 30 s): 300 s here.
other_host_first() {
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300 || return 1
	ip -n lan addr add 192.168.1.3/24 dev eth0 || return 1
	sip_options 192.168.1.3 5060 203.0.113.2 |
		udp_send lan 192.168.1.3 5060 203.0.113.2 5060 || return 1
	wait_for 30 eval "rtr conntrack -L -p udp --orig-src 192.168.1.3 2>/dev/null |
		grep -q 'dport=5060 '"
	rtr conntrack -L -p udp --orig-src 192.168.1.3 2>/dev/null
	sleep 0.5 # its 200 OK
}
ktap_check "another lan host (192.168.1.3:5060) holds the public port 5060" other_host_first

rewritten0=$(sipalg_stat messages-rewritten)

register() {
	capture_start rtr lan0 lan0 "udp port 5060" &&
		capture_start rtr wan0 wan0 "udp port 5060" || return 1
	sipp_start phone lan -sf "$PEERS_DIR/register.xml" -i 192.168.1.2 -p 5060 \
		-m 1 -timeout "$(slow 30)" 203.0.113.2:5060
	sipp_wait phone || return 1
	sleep 0.5
	capture_stop
}
ktap_check_here "the phone registers through rtr (sipp gets the 200 OK)" register

# The phone's public side as rtr's masquerade chose it.
# The phone's public side as rtr's masquerade chose it: where its REGISTER
# came from (the hex of "REGISTER ").
public=$(capture_udp wan0 | awk '$5 ~ /^52454749535445522/ { print $1 ":" $2; exit }')

public_port() {
	echo "the phone $PHONE is ${public:-nowhere} on wan"
	[ "${public%:*}" = 203.0.113.1 ] && [ "${public#*:}" != 5060 ]
}
ktap_check "the phone's REGISTER leaves rtr from 203.0.113.1, another port than 5060" public_port

ktap_check "REGISTER and 200 OK, byte for byte as sipalgctl rewrite [--reply]" \
	sip_flow_compare lan0 wan0 "$PHONE" "$public"

# The same without the oracle: the lan copy with the two allowed spans
# edited by hand must be the wan copy.  (The addresses have the same
# length, so Content-Length is not concerned.)
register_by_hand() {
	local sent=$SELFTEST_TMP/lan-out/1 got=$SELFTEST_TMP/wan-out/1
	head -n1 "$sent" | grep -q '^REGISTER ' || { echo "lan-out/1 is no REGISTER"; return 1; }
	sed -e "2s/^Via: SIP\/2.0\/UDP $PHONE;/Via: SIP\/2.0\/UDP $public;/" \
		-e "s/^Contact: <sip:phone@$PHONE>;/Contact: <sip:phone@$public>;/" \
		"$sent" >"$SELFTEST_TMP/register.want"
	cmp -s "$sent" "$SELFTEST_TMP/register.want" && { echo "the edit by hand did nothing"; return 1; }
	grep -a -e '^Via:' -e '^Contact:' -e '^From:' -e '^Call-ID:' -e '^User-Agent:' "$got"
	bytes_equal "$SELFTEST_TMP/register.want" "$got"
}
ktap_check "REGISTER at wan: Via sent-by and Contact = $public, nothing else changed" \
	register_by_hand

# The private address is kept, at every place but the two, at wan.
private_kept() {
	local got=$SELFTEST_TMP/wan-out/1 n_sent n_got
	n_sent=$(grep -a -o '192\.168\.1\.2' "$SELFTEST_TMP/lan-out/1" | wc -l)
	n_got=$(grep -a -o '192\.168\.1\.2' "$got" | wc -l)
	echo "the private address occurs $n_sent times in the REGISTER sent, $n_got times at wan"
	[ "$n_got" -eq $((n_sent - 2)) ] &&
		grep -aq '^Call-ID: [^ ]*@192\.168\.1\.2' "$got" &&
		grep -aq '^From: "phone at 192\.168\.1\.2" .*;tag=192\.168\.1\.2-' "$got" &&
		grep -aq '^User-Agent: selftest-phone/1\.0 (192\.168\.1\.2:5060)' "$got" &&
		grep -aq ';x-local="192\.168\.1\.2:5060"' "$got"
}
ktap_check "Call-ID, From tag, display name, User-Agent, Contact parameter keep the private address" \
	private_kept

reply_by_hand() {
	local sent=$SELFTEST_TMP/wan-in/1 got=$SELFTEST_TMP/lan-in/1
	head -n1 "$sent" | tr -d '\r'
	grep -a -e '^Via:' -e '^Contact:' "$sent" | sed 's/^/at wan: /'
	grep -a -e '^Via:' -e '^Contact:' "$got" | sed 's/^/at lan: /'
	head -n1 "$sent" | grep -q '^SIP/2.0 200 ' || return 1
	sed -e "2s/^Via: SIP\/2.0\/UDP $public;/Via: SIP\/2.0\/UDP $PHONE;/" \
		-e "s/^Contact: <sip:phone@$public>;/Contact: <sip:phone@$PHONE>;/" \
		"$sent" >"$SELFTEST_TMP/ok.want"
	cmp -s "$sent" "$SELFTEST_TMP/ok.want" && { echo "the edit by hand did nothing"; return 1; }
	bytes_equal "$SELFTEST_TMP/ok.want" "$got"
}
ktap_check "200 OK at lan: Via sent-by and Contact back to $PHONE, nothing else changed" \
	reply_by_hand

location() {
	local contacts
	contacts=$(kamailio_contacts)
	echo "kamailio location: ${contacts:-empty}"
	[ "$contacts" = "sip:phone@$public" ]
}
ktap_check "kamailio's location table holds sip:phone@$public" location

counters() {
	local rewritten tracked changed malformed
	rewritten=$(($(sipalg_stat messages-rewritten) - rewritten0))
	tracked=$(sipalg_stat registrations-tracked)
	changed=$(datagrams_changed)
	echo "messages-rewritten $rewritten ($changed datagrams changed), registrations-tracked $tracked"
	rtr grep -v " 0$" /proc/net/sipalg_stats | tr "\n" " "; echo
	# Nothing here is malformed; the ICMP port unreachable the other host
	# sends for the registrar's 200 OK is not SIP.
	# shellcheck disable=SC2016 # an awk program
	malformed=$(rtr awk '/^malformed-/ { n += $2 } END { print n + 0 }' /proc/net/sipalg_stats)
	echo "malformed, all reasons: $malformed"
	[ "$changed" -ge 2 ] && [ "$rewritten" = "$changed" ] && [ "$tracked" = 1 ] &&
		[ "$malformed" = 0 ]
}
ktap_check "counters: every changed datagram of the phone counted as rewritten, 1 registration tracked, none malformed" \
	counters

ktap_check_klog

ktap_finish
