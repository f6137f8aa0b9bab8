# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/bench/forward/lib.sh: sourced by the VM benchmarks (forward.sh,
# scale.sh), after tests/selftests/lib.sh (the network and the module).
#
#   helper none|sipalg|sip     what rtr assigns to UDP 5060: nothing,
#                              sipalg, the in-tree nf_conntrack_sip
#   flush                      rtr's conntrack and expectation tables emptied
#   blast_rate FILE SPORT DPORT   COUNT copies of FILE sent by sipblast from
#                              the phone's 192.168.1.2:SPORT to
#                              203.0.113.2:DPORT and counted on wan; prints
#                              "RATE ARRIVED": datagrams/s from the first
#                              sent to the last received, and how many came
#   median, spread             of the numbers on stdin: the median, "lo-hi"
#
# BLAST is sipblast; COUNT must be set by the benchmark.

BLAST=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/build/sipblast
[ -x "$BLAST" ] || { echo "no $BLAST: make -C tests/bench/forward" >&2; exit 1; }

test_cleanup() {
	rtr nft delete table inet helpers 2>/dev/null
	modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
}

helper() {
	rtr nft delete table inet helpers 2>/dev/null
	[ "$1" = none ] || rtr_ct_helper "$1" udp 5060 || exit 1
}

flush() {
	rtr conntrack -F >/dev/null 2>&1
	rtr conntrack -F expect >/dev/null 2>&1
}

blast_rate() {
	local file=$1 sport=$2 dport=$3 dir=$SELFTEST_TMP pid
	rm -f "$dir/ready"
	wan "$BLAST" recv 203.0.113.2 "$dport" "$COUNT" 1000 "$dir/ready" >"$dir/recv" &
	pid=$!
	wait_for 100 test -e "$dir/ready" || { echo "0 0"; return; }
	lan "$BLAST" send 192.168.1.2 "$sport" 203.0.113.2 "$dport" "$file" "$COUNT" >"$dir/send"
	wait "$pid"
	# sent N start T0 end T1 / received N bytes B first T1 last T2
	awk 'FNR == 1 && $1 == "sent" { t0 = $4 }
		$1 == "received" { n = $2; t2 = $8 }
		END { printf "%d %d\n", (n && t2 > t0) ? n / (t2 - t0) : 0, n }' \
		"$dir/send" "$dir/recv"
}

median() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

spread() {
	tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'
}
