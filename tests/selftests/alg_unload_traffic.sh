#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# rmmod sipalg under traffic (issue 17, item 4).
#
# nf_conntrack_helper_unregister() removes the helper's expectations,
# then waits for RCU grace periods (nf_ct_iterate_destroy: net_ns_barrier,
# synchronize_net) and only then walks the conntrack table detaching the
# helper from its flows.  In that window a flow's packet still runs
# sipalg_help() and opens pinholes whose expectfn points into sipalg;
# unless the module removes them after unregistering its helpers, they
# outlive it, and the first datagram to one calls freed code
# (init_conntrack: "BUG: unable to handle page fault", a panic).
#
# To land in that window every time: sipalg is enabled on rtr's wan0 (an
# interface holds no module reference, so rmmod succeeds at once) and 64
# phones on lan (peers/invite_blast.py) each retransmit an INVITE with SDP
# on a signalling flow of their own, round robin as fast as they can: each
# flow asks for its two pinholes (RTP, RTCP) again many times a second, so
# the first INVITE after the purge reopens them.  New flows are of no use
# here (the interface hook that assigns them is gone first): the flows
# must exist before rmmod.  Then:
# - rmmod succeeds during the blast;
# - the blast did land in the window: expectations were created during
#   rmmod (rtr's expect_create counter grew; before rmmod every INVITE
#   only renewed its flow's pinholes), else nothing below was tested;
# - no expectation outlives the module: rtr's expectations created minus
#   those deleted (/proc/net/stat/nf_conntrack, counters that follow no
#   pointer) is 0 -- every expectation on rtr was sipalg's, and each one
#   left points into the freed module (its expectfn, and on 6.12 its
#   helper, which /proc/net/nf_conntrack_expect prints).  Without the
#   sweep this fails: in the runs so far the blast always left some;
# - datagrams from wan to every pinhole that was open just before rmmod,
#   then listing the expectations (/proc and ctnetlink), leave the kernel
#   log clean.  Without the sweep the first datagram panics the guest
#   (init_conntrack calls the freed expectfn), and the /proc listing alone
#   oopses on 6.12 (exp_seq_show prints the freed helper's name);
#   kernel.panic_on_oops is set for the test so that an oops ends the VM
#   at once (scripts/vm: exit status 3) instead of hanging it.
# About 30 s in the VM (1 to 2 minutes with the VM's boot on a loaded
# machine).
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe rmmod nft conntrack python3

PHONES=64
BLAST_PID=

PANIC_ON_OOPS=$(cat /proc/sys/kernel/panic_on_oops)

test_cleanup() {
	stop_bg "$BLAST_PID"
	echo "$PANIC_ON_OOPS" >/proc/sys/kernel/panic_on_oops
}

ktap_header 6
sipalg_unload
klog_mark "alg_unload_traffic"
echo 1 >/proc/sys/kernel/panic_on_oops

# The limits per source off: every INVITE of the blast asks for pinholes.
setup() {
	sipalg_load limit_rate=0 limit_calls=0 || { echo "sipalg does not load"; return 1; }
	topo_setup && ctl rtr enable wan0
}
ktap_check "topology, sipalg enabled on wan0" setup

# "dst dport" of each expectation on rtr, from the kernel's own listing.
pinholes() {
	rtr cat /proc/net/nf_conntrack_expect | awk '{
		d = ""; p = ""
		for (i = 1; i <= NF; i++) {
			if (d == "" && $i ~ /^dst=/) d = substr($i, 5)
			if (p == "" && $i ~ /^dport=/) p = substr($i, 7)
		}
		if (p != "") print d, p }'
}

# Up to 120 s for every phone's two pinholes (a loaded guest opens them in
# seconds); at once a failure if the phones are gone.
pinholes_opening() {
	local end=$((SECONDS + 120))
	until [ "$(pinholes | wc -l)" -ge $((2 * PHONES)) ]; do
		kill -0 "$BLAST_PID" 2>/dev/null || { echo "invite_blast.py exited"; return 1; }
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

# rtr's conntrack statistic COLUMN, summed over the CPUs (one line each,
# in hex, after a line naming the columns).
ct_stat() {
	rtr cat /proc/net/stat/nf_conntrack | {
		local -a col row
		local i c='' n=0
		read -ra col
		for i in "${!col[@]}"; do
			[ "${col[i]}" != "$1" ] || c=$i
		done
		[ -n "$c" ] || { echo "no column $1 in /proc/net/stat/nf_conntrack"; return 1; }
		while read -ra row; do
			n=$((n + 16#${row[c]}))
		done
		echo "$n"
	}
}

blast_and_unload() {
	lan python3 "$PEERS_DIR/invite_blast.py" 192.168.1.2 20000 "$PHONES" \
		203.0.113.2 5060 10000 &
	BLAST_PID=$!
	pinholes_opening ||
		{ echo "fewer than $((2 * PHONES)) pinholes after 120 s: $(pinholes | wc -l)"; return 1; }
	pinholes >"$SELFTEST_TMP/open"
	echo "$(wc -l <"$SELFTEST_TMP/open") pinholes open, $(sipalg_stat expectations-created) created so far; rmmod"
	ct_stat expect_create >"$SELFTEST_TMP/created" || return 1
	rmmod sipalg || return 1
	sipalg_loaded && { echo "sipalg is still loaded"; return 1; }
	stop_bg "$BLAST_PID"
	BLAST_PID=
}
ktap_check_here "rmmod sipalg while $PHONES phones retransmit INVITEs with SDP through rtr" \
	blast_and_unload

# Every phone's pinholes were open before rmmod, and each INVITE renewed
# them: only the purge makes the next INVITE create new ones.  None would
# mean that the blast missed the window, and the checks below prove
# nothing.
in_window() {
	local n
	n=$(ct_stat expect_create) || return 1
	n=$((n - $(cat "$SELFTEST_TMP/created")))
	echo "pinholes opened during rmmod: $n" | tee "$SELFTEST_TMP/window"
	[ "$n" -gt 0 ]
}
ktap_check "the phones opened pinholes while the helpers were unregistered" in_window
ktap_diag <"$SELFTEST_TMP/window"

none_left() {
	local c d
	c=$(ct_stat expect_create) && d=$(ct_stat expect_delete) || return 1
	echo "expectations after rmmod: $((c - d)) ($c created, $d deleted)"
	[ "$c" = "$d" ]
}
ktap_check "no expectation outlives the module" none_left

# One datagram from the callee to each public pinhole port.
RTP_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 30000))
n = 0
for line in sys.stdin:
    dst, port = line.split()
    if dst == "203.0.113.1":
        s.sendto(b"rtp", (dst, int(port)))
        n += 1
print(n)
'

rtp_to_pinholes() {
	local n
	n=$(wan python3 -c "$RTP_PY" <"$SELFTEST_TMP/open")
	echo "sent $n datagrams to the pinholes that were open before rmmod"
	sleep 1
	rtr cat /proc/net/nf_conntrack_expect >/dev/null
	rtr conntrack -L expect >/dev/null 2>&1
	[ "$n" -gt 0 ]
}
ktap_check "RTP to the pinholes, then the expectations listed" rtp_to_pinholes

ktap_check_klog

ktap_finish
