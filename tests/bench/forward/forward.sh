#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/forward/forward.sh: datagrams per second forwarded through
# the router of the selftests' topology (lan -> rtr with masquerade -> wan),
# run in the VM by `make -C tests/bench/forward run` (or `make bench`).
#
# sipblast (sendmmsg) pushes COUNT copies of one datagram from the phone's
# 192.168.1.2:5060 to 203.0.113.2 and sipblast (recvmmsg) counts them on
# wan: the rate is what arrived over the time from the first datagram sent
# to the last one received.
# Per round, alternating, on a fresh conntrack table each time:
#   SIP (to 5060): an INVITE with SDP and a REGISTER, through rtr with
#     no helper, with sipalg, with the in-tree nf_conntrack_sip+nf_nat_sip
#     (nftables ct helper objects "sipalg" / "sip" on UDP 5060);
#   non-SIP UDP (200 bytes, 9000 -> 9000) with sipalg loaded and enabled
#     on rtr's lan0 and wan0 (`sipalgctl enable`: its hooks look at every
#     new flow there), and with sipalg not loaded.
# Prints each run, then per case the median rate and the median (and range)
# of its per-round ratio to the baseline measured next to it (no helper;
# sipalg not loaded): pairing within a round cancels most of the noise a
# TCG VM on a shared host shows between rounds.
#
# Environment: BENCH_ROUNDS (default 15), BENCH_COUNT (datagrams per run,
# default 10000), BENCH_SIPALG_PARAMS (sipalg's module parameters, default
# "limit_rate=0 limit_calls=0": the limits per source off, so that each
# message, all from one host, does its full work).  The figures of a TCG
# VM are only comparable within one run, and only as medians: other work
# on the host shows up in single runs.
# shellcheck source=tests/selftests/lib.sh disable=SC2119
source "$(dirname "$0")/../../selftests/lib.sh"
# shellcheck source=tests/bench/forward/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft conntrack

ROUNDS=${BENCH_ROUNDS:-15}
COUNT=${BENCH_COUNT:-10000}
read -ra PARAMS <<<"${BENCH_SIPALG_PARAMS-limit_rate=0 limit_calls=0}"

# ------------------------------------------------------- payloads

D=$SELFTEST_TMP
sdp=$(printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 192.168.1.2" "s=-" \
	"c=IN IP4 192.168.1.2" "t=0 0" "m=audio 6000 RTP/AVP 0 8 101" \
	"a=rtpmap:0 PCMU/8000" "a=rtpmap:8 PCMA/8000" \
	"a=rtpmap:101 telephone-event/8000" "a=sendrecv")
sdp="${sdp%$'\r'}"$'\r\n'
printf '%s\r\n' "INVITE sip:bob@203.0.113.2 SIP/2.0" \
	"Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK-bench;rport" \
	"Max-Forwards: 70" \
	"From: \"alice\" <sip:alice@example.com>;tag=1928301774" \
	"To: <sip:bob@203.0.113.2>" \
	"Call-ID: a84b4c76e66710@192.168.1.2" \
	"CSeq: 314159 INVITE" \
	"Contact: <sip:alice@192.168.1.2:5060>" \
	"User-Agent: bench-phone/1.0" \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS" \
	"Content-Type: application/sdp" \
	"Content-Length: ${#sdp}" "" >"$D/invite"
printf '%s' "$sdp" >>"$D/invite"
printf '%s\r\n' "REGISTER sip:203.0.113.2 SIP/2.0" \
	"Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK-reg;rport" \
	"Max-Forwards: 70" \
	"From: <sip:alice@example.com>;tag=456248" \
	"To: <sip:alice@example.com>" \
	"Call-ID: 843817637684230@192.168.1.2" \
	"CSeq: 1826 REGISTER" \
	"Contact: <sip:alice@192.168.1.2:5060>" \
	"Expires: 300" \
	"User-Agent: bench-phone/1.0" \
	"Content-Length: 0" "" >"$D/register"
head -c 200 /dev/zero | tr '\0' 'x' >"$D/udp"

# ------------------------------------------------------------ setup

topo_setup || { echo "topology setup failed" >&2; exit 1; }
sipalg_load "${PARAMS[@]}" || { echo "sipalg does not load" >&2; exit 1; }
modprobe nf_nat_sip || { echo "nf_nat_sip does not load" >&2; exit 1; }

# helper none|sipalg|sip: what is assigned to UDP 5060 on rtr.
# measure PAYLOAD DPORT: on a fresh conntrack table, the rate
# (datagrams/s) and the count.
measure() {
	local sport=5060
	[ "$2" = 5060 ] || sport=$2
	flush
	blast_rate "$D/$1" "$sport" "$2"
}

declare -A RATES=() RATIOS=()
record() {
	local case=$1 rate=$2 got=$3
	RATES[$case]="${RATES[$case]:-} $rate"
	LAST[$case]=$rate
	printf '  %-22s %9s datagrams/s (%s of %s arrived)\n' "$case" "$rate" "$got" "$COUNT"
}
declare -A LAST=()

# ratio CASE BASE: this round's rate of CASE over BASE's (measured next to
# it, so that a slow spell of the host affects both).
ratio() {
	RATIOS[$1]="${RATIOS[$1]:-} $(awk -v a="${LAST[$1]}" -v b="${LAST[$2]}" \
		'BEGIN { printf "%.3f", b ? a / b : 0 }')"
}

echo "# forwarding benchmark: $ROUNDS rounds of $COUNT datagrams per case"
echo "# sipalg loaded with: ${PARAMS[*]:-its defaults}"
echo "# kernel $(uname -r), $(nproc) CPUs; INVITE $(wc -c <"$D/invite") bytes, REGISTER $(wc -c <"$D/register") bytes"

# Warm up caches and the neighbour entries.
helper none
measure udp 9000 >/dev/null

for round in $(seq "$ROUNDS"); do
	echo "# round $round"
	# The order alternates from round to round.
	order="none sipalg sip"
	[ $((round % 2)) = 1 ] || order="sip sipalg none"
	for p in invite register; do
		for h in $order; do
			helper "$h"
			# shellcheck disable=SC2046
			record "$p/$h" $(measure "$p" 5060)
		done
		ratio "$p/sipalg" "$p/none"
		ratio "$p/sip" "$p/none"
	done
	[ "$round" != 1 ] ||
		echo "# sipalg counters after its first round: $(rtr cat /proc/net/sipalg_stats |
			awk '$2 != 0 { printf "%s %s, ", $1, $2 }')"
	# Non-SIP UDP: sipalg enabled on both interfaces, and not loaded.
	helper none
	order="enabled unloaded"
	[ $((round % 2)) = 1 ] || order="unloaded enabled"
	for c in $order; do
		if [ "$c" = enabled ]; then
			sipalg_load "${PARAMS[@]}" || exit 1
			rtr "$REPO/userspace/sipalgctl" enable lan0 >/dev/null &&
				rtr "$REPO/userspace/sipalgctl" enable wan0 >/dev/null || exit 1
		else
			sipalg_unload || { echo "sipalg does not unload" >&2; exit 1; }
		fi
		# shellcheck disable=SC2046
		record "udp/sipalg-$c" $(measure udp 9000)
		if [ "$c" = enabled ]; then
			rtr "$REPO/userspace/sipalgctl" disable lan0 >/dev/null
			rtr "$REPO/userspace/sipalgctl" disable wan0 >/dev/null
		fi
	done
	ratio udp/sipalg-enabled udp/sipalg-unloaded
	sipalg_load "${PARAMS[@]}" || exit 1
done

helper none

echo "# median datagrams/s; median (and range) of the per-round ratios to the"
echo "# baseline measured next to it"
for p in invite register; do
	for h in none sipalg sip; do
		m=$(median <<<"${RATES[$p/$h]}")
		if [ "$h" = none ]; then
			printf '%-9s %-16s %9s /s  baseline\n' "$p" "$h" "$m"
		else
			printf '%-9s %-16s %9s /s  %5.2f x  (%s)\n' "$p" "$h" "$m" \
				"$(median <<<"${RATIOS[$p/$h]}")" "$(spread <<<"${RATIOS[$p/$h]}")"
		fi
	done
done
printf '%-9s %-16s %9s /s  baseline\n' non-sip sipalg-unloaded \
	"$(median <<<"${RATES[udp/sipalg-unloaded]}")"
printf '%-9s %-16s %9s /s  %5.2f x  (%s)\n' non-sip sipalg-enabled \
	"$(median <<<"${RATES[udp/sipalg-enabled]}")" \
	"$(median <<<"${RATIOS[udp/sipalg-enabled]}")" "$(spread <<<"${RATIOS[udp/sipalg-enabled]}")"
