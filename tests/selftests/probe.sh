#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# sipalgctl probe and sipalgctl reflect: a phone on lan probes a reflector
# on wan through rtr, and the verdict must name what rtr really does:
#   (a) plain masquerade: no ALG (exit 0), the registrar sees the NAT; an
#       INVITE back from the reflector's SIP port gets in, from its other
#       port it does not
#   (b) the kernel's nf_conntrack_sip + nf_nat_sip: harmful (exit 6), naming
#       SDP o= and From, which it rewrites; --local on rtr says so; the
#       INVITE back gets in from the SIP port only: the expectation the
#       helper opens for a registered Contact stays inactive until a 2xx to
#       the REGISTER lists it, and the reflector's reply is no such 2xx
#   (c) sipalg, rewrite mode: an ALG that does no harm (exit 5): only Via,
#       Contact, c=, m= changed; the registrar does not see the NAT; the
#       INVITE back gets in from the SIP port only
#   (d) sipalg, pinhole mode: no rewrite (exit 0); the INVITE as in (c)
#   (e) a deliberately broken ALG (peers/broken_alg.py: replaces the private
#       address everywhere, loses a ';', rewrites the way back): harmful,
#       each harm named; the INVITE back gets in from the SIP port only
#   (f) rtr's UDP conntrack timeouts at 20 s: the measured mapping lifetime
#       is within 3 s of it, inbound packets refresh it, the port is kept
# and the reflector's hardening: no valid token, no answer; replies at most
# 512 bytes over the request; a flood from one source is rate limited while
# another source is still answered; a second --port is served too.  And
# what a user gets wrong: no --token is a usage error (exit 2); a wrong
# token or a port another program holds cannot test (exit 1, the reason
# printed).  About 4 minutes in the VM (253 s on 6.1, 261 s on 6.12 at load
# average 4-8, 2026-12-06).
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack python3 jq

TOKEN=selftest-secret
REFLECTOR=203.0.113.2
RELAY_PID=
REFLECT_PID=

test_cleanup() {
	stop_bg "$RELAY_PID"
	stop_bg "$REFLECT_PID"
	topo_cleanup
	sipalg_unload
	modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
}

# probe NAME [--human]: the phone probes the reflector (JSON in NAME.json,
# exit status in NAME.rc); with --human first without -j (in NAME.txt).
probe() {
	local name=$1 start=$SECONDS
	: >"$SELFTEST_TMP/$name.txt"
	if [ "${2:-}" = --human ]; then
		rtr conntrack -F 2>/dev/null
		lan "$REPO/userspace/sipalgctl" probe "$REFLECTOR" --token "$TOKEN" --max-wait 0 \
			>"$SELFTEST_TMP/$name.txt" 2>&1
	fi
	rtr conntrack -F 2>/dev/null
	lan "$REPO/userspace/sipalgctl" probe "$REFLECTOR" --token "$TOKEN" --max-wait 0 \
		-j >"$SELFTEST_TMP/$name.json"
	echo $? >"$SELFTEST_TMP/$name.rc"
	ktap_diag "probe $name: exit status $(cat "$SELFTEST_TMP/$name.rc"), in $((SECONDS - start)) s," \
		"incoming_invite $(jq -c .incoming_invite "$SELFTEST_TMP/$name.json")"
	[ ! -s "$SELFTEST_TMP/$name.txt" ] || ktap_diag <"$SELFTEST_TMP/$name.txt"
}

# verdict NAME RC: the exit status
verdict() {
	[ "$(cat "$SELFTEST_TMP/$1.rc")" = "$2" ] ||
		{ echo "exit status $(cat "$SELFTEST_TMP/$1.rc"), want $2"; return 1; }
}

# jq_true NAME FILTER: the filter holds on NAME.json
jq_true() {
	jq -e "$2" "$SELFTEST_TMP/$1.json" >/dev/null ||
		{ echo "not true: $2"; jq -c '.changes[] | [.message, .transport, .field, .kind]' \
			"$SELFTEST_TMP/$1.json" | head -40; return 1; }
}

# the harmful fields of NAME's changes, one per line, sorted
harms() {
	jq -r '[.changes[] | select(.harmful) | .field + " " + .kind] | unique[]' "$SELFTEST_TMP/$1.json"
}

ktap_header 26
sipalg_unload
modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
topo_setup || ktap_diag "topology setup failed"

start_reflector() {
	wan "$REPO/userspace/sipalgctl" reflect --token "$TOKEN" --listen "$REFLECTOR" \
		--port 5060 --port 5062 2>"$SELFTEST_TMP/reflect.log" &
	REFLECT_PID=$!
	wait_for 50 eval "wan ss -Hlun 'sport = :5062' | grep -q ." || return 1
	wan ss -Hltun '( sport = :5060 or sport = :5062 )' | tee "$SELFTEST_TMP/listen"
	[ "$(grep -cE "$REFLECTOR\]?:506[02] " "$SELFTEST_TMP/listen")" = 4 ]
}
ktap_check_here "sipalgctl reflect --port 5060 --port 5062 listens on UDP and TCP of both on wan" start_reflector

# ------------------------------------------------- what a user gets wrong
# probe_fails EXIT TEXT ARGS...: the probe exits EXIT printing TEXT
probe_fails() {
	local want=$1 text=$2 rc=0
	shift 2
	"$@" >"$SELFTEST_TMP/fail.out" 2>&1 || rc=$?
	cat "$SELFTEST_TMP/fail.out"
	[ "$rc" = "$want" ] || { echo "exit status $rc, want $want"; return 1; }
	grep -qF -e "$text" "$SELFTEST_TMP/fail.out"
}
ktap_check "probe without --token: usage error (exit 2)" \
	probe_fails 2 "--token SECRET is required" lan "$REPO/userspace/sipalgctl" probe "$REFLECTOR"
ktap_check "probe with a wrong token: could not test (exit 1), the reflector did not answer" \
	probe_fails 1 "could not test: the reflector at $REFLECTOR:5060 did not answer" \
	lan "$REPO/userspace/sipalgctl" probe "$REFLECTOR" --token wrong --max-wait 0
ktap_check "probe from a port another program holds (the reflector's): could not test (exit 1)" \
	probe_fails 1 "could not test: cannot send from UDP port 5060: Address already in use (a softphone may hold it" \
	wan "$REPO/userspace/sipalgctl" probe "$REFLECTOR" --token "$TOKEN" --max-wait 0

# ------------------------------------------------------------ (a) plain NAT
probe plain --human
plain_ok() {
	verdict plain 0 &&
		jq_true plain '.alg_detected == false and .harmful == false and .changes == []' &&
		jq_true plain '.seen == "203.0.113.1:5060" and .registrar_sees_nat == true' &&
		jq_true plain '.registrar_checks.contact_private and .registrar_checks.via_address_differs'
}
ktap_check "(a) plain NAT: no ALG (exit 0), every message intact, the registrar sees the NAT" plain_ok
plain_invite() {
	jq_true plain '.incoming_invite == {"from_sip_port": true, "from_other_port": false}' &&
		grep -q "from the server's SIP port: arrived" "$SELFTEST_TMP/plain.txt" &&
		grep -q 'from another port of the server: blocked' "$SELFTEST_TMP/plain.txt"
}
ktap_check "(a) plain NAT: an INVITE with SDP back from the reflector's SIP port gets in, from its other port it is blocked" plain_invite

# ---------------------------------------------------- (b) the in-tree helper
modprobe -a nf_conntrack_sip nf_nat_sip || ktap_diag "in-tree helper does not load"
if ! rtr_ct_helper sip udp 5060 || ! rtr_ct_helper sip tcp 5060; then
	ktap_diag "no ct helper sip on rtr"
fi
probe intree --human
intree_ok() {
	verdict intree 6 && jq_true intree '.alg_detected and .harmful' &&
		harms intree | tee "$SELFTEST_TMP/intree.harms" &&
		grep -qx 'SDP o= rewritten' "$SELFTEST_TMP/intree.harms" &&
		grep -qx 'From rewritten' "$SELFTEST_TMP/intree.harms" &&
		grep -q 'From rewritten' "$SELFTEST_TMP/intree.txt" &&
		grep -q 'SDP o= rewritten' "$SELFTEST_TMP/intree.txt"
}
ktap_check "(b) nf_conntrack_sip + nf_nat_sip: harmful (exit 6), naming SDP o= and From rewritten" intree_ok
ktap_check "(b) nf_conntrack_sip: the INVITE gets in from the reflector's SIP port, not from its other port (the helper's expectation for the Contact is not active)" \
	jq_true intree '.incoming_invite == {"from_sip_port": true, "from_other_port": false}'

local_intree() {
	local rc=0
	rtr "$REPO/userspace/sipalgctl" probe --local || rc=$?
	[ "$rc" = 6 ] || { echo "exit status $rc, want 6"; return 1; }
	rtr "$REPO/userspace/sipalgctl" probe --local | grep -q 'nft delete table inet helpers'
}
ktap_check "(b) probe --local on rtr: harmful (exit 6), with the command that turns it off" local_intree
rtr nft delete table inet helpers
modprobe -r nf_nat_sip nf_conntrack_sip

# --------------------------------------------------------- (c) sipalg rewrite
sipalg_load || ktap_diag "sipalg does not load"
rtr "$REPO/userspace/sipalgctl" enable wan0 || ktap_diag "sipalgctl enable wan0 failed"
probe rewrite --human
rewrite_ok() {
	verdict rewrite 5 && jq_true rewrite '.alg_detected and (.harmful | not)' &&
		jq_true rewrite '[.changes[].field] | unique - ["Via", "Contact", "SDP c=", "SDP m=", "Content-Length"] == []' &&
		jq_true rewrite '[.changes[] | select(.message == "REGISTER" and .transport == "UDP") | .field] | unique == ["Contact", "Via"]' &&
		jq_true rewrite '[.changes[] | select(.transport == "TCP")] | length > 0' &&
		jq_true rewrite '.registrar_sees_nat == false' &&
		grep -q 'it will NOT see the NAT' "$SELFTEST_TMP/rewrite.txt"
}
ktap_check "(c) sipalg rewrite mode: an ALG that does no harm (exit 5), only Via, Contact, c=, m=; the registrar does not see the NAT" rewrite_ok
# The reflector answers the REGISTER with a 200 whose CSeq is OPTIONS, so
# sipalg sees no accepted registration and opens no signalling pinhole for
# the Contact: the INVITE from the reflector's SIP port comes back on the
# phone's own flow (sipalg helps it, and must not spoil it), the one from
# its other port is a new flow masquerade has no mapping for.
ktap_check "(c) sipalg rewrite mode: the INVITE gets in from the reflector's SIP port, not from its other port (no registration was granted)" \
	jq_true rewrite '.incoming_invite == {"from_sip_port": true, "from_other_port": false}'

local_sipalg() {
	local rc=0
	rtr "$REPO/userspace/sipalgctl" probe --local -j >"$SELFTEST_TMP/local.json" || rc=$?
	cat "$SELFTEST_TMP/local.json"
	[ "$rc" = 5 ] && jq -e '.findings[] | select(.turn_off == "sipalgctl disable wan0")' \
		"$SELFTEST_TMP/local.json" >/dev/null
}
ktap_check "(c) probe --local on rtr: an ALG that does no harm (exit 5), sipalgctl disable wan0" local_sipalg

# --------------------------------------------------------- (d) sipalg pinhole
rtr "$REPO/userspace/sipalgctl" enable wan0 mode pinhole
probe pinhole --human
pinhole_ok() {
	verdict pinhole 0 && jq_true pinhole '.changes == [] and .registrar_sees_nat'
}
ktap_check "(d) sipalg pinhole mode: no rewrite (exit 0)" pinhole_ok
# As in (c): no granted registration, so no pinhole for the other port.
ktap_check "(d) sipalg pinhole mode: the INVITE gets in from the reflector's SIP port, not from its other port" \
	jq_true pinhole '.incoming_invite == {"from_sip_port": true, "from_other_port": false}'
rtr "$REPO/userspace/sipalgctl" disable wan0 --flush >/dev/null

# ------------------------------------------------------------ (e) broken ALG
start_relay() {
	rtr nft -f - <<-EOF || return 1
		table ip broken_alg {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				iifname "lan0" udp dport 5060 redirect to :5060
			}
		}
	EOF
	rtr python3 "$PEERS_DIR/broken_alg.py" 192.168.1.2 203.0.113.1 "$REFLECTOR" 5060 \
		>"$SELFTEST_TMP/relay.log" 2>&1 &
	RELAY_PID=$!
	wait_for 50 grep -q relaying "$SELFTEST_TMP/relay.log"
}
ktap_check_here "a broken ALG relays UDP 5060 on rtr" start_relay
probe broken --human
broken_ok() {
	local want missing=
	verdict broken 6 || return 1
	harms broken >"$SELFTEST_TMP/broken.harms"
	cat "$SELFTEST_TMP/broken.harms"
	for want in 'message corrupted' 'Call-ID rewritten' 'From rewritten' 'SDP o= rewritten' \
		'SDP a=rtcp rewritten' 'Via rewritten' 'X-Sipalg-Seen reply-rewritten'; do
		grep -qx "$want" "$SELFTEST_TMP/broken.harms" || missing+=" [$want]"
	done
	[ -z "$missing" ] || { echo "harms not named:$missing"; return 1; }
	# the damage is named apart: Contact and c=, whose address alone
	# changed, are not called harmed
	jq_true broken '[.changes[] | select(.field == "Contact" or .field == "SDP c=") | select(.harmful)] == []' &&
		jq_true broken '[.changes[] | select(.field == "Contact") | .kind] | unique == ["address-rewritten"]' &&
		jq_true broken '[.changes[] | select(.field == "X-Sipalg-Seen") |
			(.sent | startswith("UDP 203.0.113.1:")) and (.received | startswith("UDP 192.168.1.2:"))] | unique == [true]' ||
		return 1
	# over TCP, which the relay does not touch, nothing changed
	jq_true broken '[.changes[] | select(.transport == "TCP")] == []'
}
ktap_check "(e) a broken ALG: harmful (exit 6), each harm named (Call-ID, From, o=, a=rtcp, Via, a lost ';', the reply rewritten), Contact's address change not among them" broken_ok
# The relay passes to the phone only what comes from the reflector's SIP
# address and port (rewriting the public address in it, which leaves the
# signed X-Sipalg-Callback intact), and takes anything else for the phone,
# relaying it on to the reflector.  The reflector sends the SIP port's
# INVITE first, so it reaches the phone; the other port's never does.
ktap_check "(e) a broken ALG: the INVITE gets in from the reflector's SIP port, not from its other port (the relay sends it back to the reflector)" \
	jq_true broken '.incoming_invite == {"from_sip_port": true, "from_other_port": false}'
stop_bg "$RELAY_PID"
RELAY_PID=
rtr nft delete table ip broken_alg

# ------------------------------------------------------ (f) mapping lifetime
rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=20 net.netfilter.nf_conntrack_udp_timeout_stream=20
rtr conntrack -F 2>/dev/null
lifetime_start=$SECONDS
lan "$REPO/userspace/sipalgctl" probe "$REFLECTOR" --token "$TOKEN" --max-wait 30 -j \
	>"$SELFTEST_TMP/lifetime.json"
echo $? >"$SELFTEST_TMP/lifetime.rc"
ktap_diag "probe with --max-wait 30: $((SECONDS - lifetime_start)) s:"
jq -c '{mapping_lifetime_s, mapping_lost_after_s, keepalive_s, inbound_refreshes,
	port_kept_after_expiry, other_port_gets_in}' "$SELFTEST_TMP/lifetime.json" | ktap_diag
lifetime_ok() {
	[ "$(cat "$SELFTEST_TMP/lifetime.rc")" = 0 ] || { echo "exit status $(cat "$SELFTEST_TMP/lifetime.rc")"; return 1; }
	jq_true lifetime '.mapping_lifetime_s >= 17 and .mapping_lifetime_s <= 23' &&
		jq_true lifetime '.keepalive_s > 0 and .keepalive_s < .mapping_lifetime_s'
}
ktap_check "(f) UDP timeouts of 20 s: the measured mapping lifetime is within 3 s of 20, a keep-alive interval below it" lifetime_ok
ktap_check "(f) inbound packets refresh the mapping; the public port is kept after expiry" \
	jq_true lifetime '.inbound_refreshes == true and .port_kept_after_expiry == true'
ktap_check "(f) an OPTIONS from another port of the reflector does not get in (masquerade filters)" \
	jq_true lifetime '.other_port_gets_in == false'

# ------------------------------------------------------------ the reflector
ktap_check "reflector: no header or a wrong token, no answer; a valid token, an answer" \
	lan python3 "$PEERS_DIR/reflect_client.py" "$REFLECTOR" 5060 "$TOKEN" tokens
ktap_check "reflector: replies at most 512 bytes longer than the request (UDP, TCP, 200-16000 bytes); oversized requests and delays not answered" \
	lan python3 "$PEERS_DIR/reflect_client.py" "$REFLECTOR" 5060 "$TOKEN" sizes
ktap_check "reflector: a flood of 400 requests from one source is rate limited" \
	lan python3 "$PEERS_DIR/reflect_client.py" "$REFLECTOR" 5060 "$TOKEN" flood 400
ktap_check "reflector: another source is still answered right after the flood" \
	wan python3 "$PEERS_DIR/reflect_client.py" "$REFLECTOR" 5060 "$TOKEN" tokens
ktap_check "reflector: its second port (5062) answers a valid token only" \
	lan python3 "$PEERS_DIR/reflect_client.py" "$REFLECTOR" 5062 "$TOKEN" tokens
ktap_check "reflector: still running after all of it" kill -0 "$REFLECT_PID"
ktap_diag "probe.sh: $SECONDS s"

ktap_finish
