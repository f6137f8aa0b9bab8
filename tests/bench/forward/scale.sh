#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/forward/scale.sh: what sipalg costs the router as the work
# grows, next to the in-tree helper and to no helper, in the VM (run by
# `make -C tests/bench/forward scale`, part of `make bench`).
#
# On the selftests' router (lan -> rtr with masquerade -> wan), for each
# helper (none, sipalg, the in-tree nf_conntrack_sip + nf_nat_sip, assigned
# to UDP 5060 by an nftables ct helper rule), per round, alternating:
#   - 10 phones register (sipblast spray: one REGISTER from each of 10
#     source ports, answered 200 OK by sipblast answer on wan), then one
#     phone's REGISTER is blasted COUNT times: messages/s with 10 flows;
#   - the same with PHONES phones (default 10000): the router's slab memory
#     per registration (the live objects of the conntrack, expectation and
#     kmalloc caches in /proc/slabinfo, after minus before, over the phones
#     answered), and messages/s with PHONES live flows;
#   - CALLS calls (default 500) on top: an INVITE with SDP from each of
#     CALLS more phones, answered 200 OK, and one media datagram from wan
#     to the address and port the INVITE's SDP names as it arrived there
#     (through the pinhole where the helper opened one): slab per call.
# Prints each round, then per helper the medians, in lines starting with
# "scale" that tests/bench/plot-scale.sh turns into a picture.
#
# Boot the VM with slab_nomerge (the Makefile does), or the expectations'
# cache may be merged into one of another name and go uncounted.
# Environment: BENCH_PHONES (10000), BENCH_CALLS (500), BENCH_COUNT
# (datagrams per rate measurement, 10000), BENCH_SCALE_ROUNDS (3).
# sipalg is loaded with max_expectations and max_netns_expectations high
# enough for a pinhole per registration and two per call (the defaults,
# 4096 and 1024, are sized for a home router), and the kernel's
# nf_conntrack_max and nf_conntrack_expect_max are raised to hold every
# flow and pinhole (the VM's 1 GB gives 128 expectations: at that cap the
# in-tree helper drops the REGISTERs and INVITEs it cannot open a pinhole
# for; sipalg passes them without one).
# shellcheck source=tests/selftests/lib.sh disable=SC2119
source "$(dirname "$0")/../../selftests/lib.sh"
# shellcheck source=tests/bench/forward/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft conntrack

PHONES=${BENCH_PHONES:-10000}
CALLS=${BENCH_CALLS:-500}
COUNT=${BENCH_COUNT:-10000}
ROUNDS=${BENCH_SCALE_ROUNDS:-3}

# ------------------------------------------------------- payloads

# PPPPP is each phone's port, MMMMM its media port (sipblast spray).
D=$SELFTEST_TMP
printf '%s\r\n' "REGISTER sip:203.0.113.2 SIP/2.0" \
	"Via: SIP/2.0/UDP 192.168.1.2:PPPPP;branch=z9hG4bK-reg;rport" \
	"Max-Forwards: 70" \
	"From: <sip:PPPPP@example.com>;tag=456248" \
	"To: <sip:PPPPP@example.com>" \
	"Call-ID: PPPPP-843817637684230@192.168.1.2" \
	"CSeq: 1826 REGISTER" \
	"Contact: <sip:PPPPP@192.168.1.2:PPPPP>" \
	"Expires: 3600" \
	"Content-Length: 0" "" >"$D/register"
sed 's/PPPPP/5060/g' "$D/register" >"$D/register-5060"
sdp=$(printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 192.168.1.2" "s=-" \
	"c=IN IP4 192.168.1.2" "t=0 0" "m=audio MMMMM RTP/AVP 0 8" \
	"a=rtpmap:0 PCMU/8000" "a=sendrecv")
sdp="${sdp%$'\r'}"$'\r\n'
printf '%s\r\n' "INVITE sip:bob@203.0.113.2 SIP/2.0" \
	"Via: SIP/2.0/UDP 192.168.1.2:PPPPP;branch=z9hG4bK-call;rport" \
	"Max-Forwards: 70" \
	"From: <sip:PPPPP@example.com>;tag=1928301774" \
	"To: <sip:bob@203.0.113.2>" \
	"Call-ID: PPPPP-a84b4c76e66710@192.168.1.2" \
	"CSeq: 314159 INVITE" \
	"Contact: <sip:PPPPP@192.168.1.2:PPPPP>" \
	"Content-Type: application/sdp" \
	"Content-Length: ${#sdp}" "" >"$D/invite"
printf '%s' "$sdp" >>"$D/invite"

# ------------------------------------------------------------ setup

topo_setup || { echo "topology setup failed" >&2; exit 1; }
sipalg_load limit_rate=0 limit_calls=0 max_expectations=$((2 * (PHONES + 2 * CALLS))) \
	max_netns_expectations=$((2 * (PHONES + 2 * CALLS))) ||
	{ echo "sipalg does not load" >&2; exit 1; }
modprobe nf_nat_sip || { echo "nf_nat_sip does not load" >&2; exit 1; }
sysctl -qw net.netfilter.nf_conntrack_max=$((4 * (PHONES + 2 * CALLS))) \
	net.netfilter.nf_conntrack_expect_max=$((2 * (PHONES + 2 * CALLS)))
echo $((2 * (PHONES + 2 * CALLS))) >/sys/module/nf_conntrack/parameters/hashsize

# The bytes of the live objects of the slab caches a flow and a pinhole
# take memory from: conntracks, expectations, and kmalloc (the conntrack
# extensions, the helpers' data among them).  Counted after an RCU grace
# period (conntracks and sockets are freed after one).  Slab in
# /proc/meminfo would also count the free objects of partly used slabs,
# which the flush before each measurement leaves behind, and the sockets
# of the phones (sipblast's), which a router does not have.
slab_bytes() {
	sleep 1
	awk '$1 ~ /^(nf_conntrack|kmalloc-)/ { sum += $2 * $4 } END { printf "%d\n", sum }' /proc/slabinfo
}

# phones PAYLOAD PORT_BASE N: N phones send PAYLOAD to the registrar and
# callee on wan, which answers each; prints "ANSWERED MEDIA".
phones() {
	local pid
	rm -f "$D/ready"
	wan "$BLAST" answer 203.0.113.2 5060 7078 2000 "$D/ready" >"$D/answer" &
	pid=$!
	wait_for 100 test -e "$D/ready" || { echo "0 0"; return; }
	lan "$BLAST" spray 192.168.1.2 "$2" "$3" 203.0.113.2 5060 "$D/$1" 30000 >"$D/spray"
	wait "$pid"
	echo "$(awk '{ print $4 }' "$D/spray") $(awk '{ print $4 }' "$D/answer")"
}

# rate: messages/s of one phone's REGISTER blasted COUNT times through
# rtr, the median of three runs.
rate() {
	for _ in 1 2 3; do
		blast_rate "$D/register-5060" 5060 5060 | cut -d' ' -f1
	done | median
}

declare -A R10=() RMANY=() REG=() CALL=()

# round_of HELPER: one round's measurements, appended to the arrays.
round_of() {
	local h=$1 few many s0 s1 s2 reg call answered media
	helper "$h"
	flush
	read -r answered media <<<"$(phones register 10000 10)"
	few=$(rate)
	flush
	s0=$(slab_bytes)
	read -r answered media <<<"$(phones register 10000 "$PHONES")"
	s1=$(slab_bytes)
	reg=$(((s1 - s0) / (answered ? answered : 1)))
	local flows pinholes
	flows=$(rtr conntrack -C)
	pinholes=$(rtr conntrack -L expect 2>/dev/null | wc -l)
	many=$(rate)
	local canswered
	read -r canswered media <<<"$(phones invite $((10000 + PHONES)) "$CALLS")"
	s2=$(slab_bytes)
	call=$(((s2 - s1) / (canswered ? canswered : 1)))
	printf '  %-7s %8s msg/s with 10 flows, %8s with %s (%s of %s registered, %s flows, %s pinholes); %6s B/registration, %6s B/call (%s of %s answered, %s media sent, %s pinholes now)\n' \
		"$h" "$few" "$many" "$PHONES" "$answered" "$PHONES" "$flows" "$pinholes" \
		"$reg" "$call" "$canswered" "$CALLS" "$media" \
		"$(rtr conntrack -L expect 2>/dev/null | wc -l)"
	R10[$h]="${R10[$h]:-} $few"
	RMANY[$h]="${RMANY[$h]:-} $many"
	REG[$h]="${REG[$h]:-} $reg"
	CALL[$h]="${CALL[$h]:-} $call"
}

echo "# scaling benchmark: $ROUNDS rounds; $PHONES phones registering, $CALLS calls with media, $COUNT messages per rate"
echo "# kernel $(uname -r), $(nproc) CPUs"
for round in $(seq "$ROUNDS"); do
	echo "# round $round"
	order="none sipalg sip"
	[ $((round % 2)) = 1 ] || order="sip sipalg none"
	for h in $order; do
		round_of "$h"
	done
done
helper none
flush

echo "# medians: helper, slab bytes per registration, per call, messages/s with"
echo "# 10 flows, with $PHONES flows, and that rate over the 10-flow one"
for h in none sipalg sip; do
	few=$(median <<<"${R10[$h]}")
	many=$(median <<<"${RMANY[$h]}")
	printf 'scale %-7s %6s %6s %8s %8s %5.2f\n' "$h" "$(median <<<"${REG[$h]}")" \
		"$(median <<<"${CALL[$h]}")" "$few" "$many" \
		"$(awk -v a="$many" -v b="$few" 'BEGIN { print b ? a / b : 0 }')"
done
