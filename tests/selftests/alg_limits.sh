#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317
#
# Limits per source address (kmod/sipalg_limit.c), set on rtr's lan0 with
# `sipalgctl set`: a sipp flood of 20 new calls (an INVITE with SDP each)
# from one lan host (192.168.1.2) with rate 1/s burst 5: exactly the first
# 5 get their pinholes (RTP and RTCP: 10), the 15 others pass without
# (limited-rate 15; the flood takes well under the second a token takes to
# come back), one kernel log line names the host; another phone
# (192.168.1.3) still gets its call's pinholes (each later step's host,
# .4 to .8, is judged by its own bucket from its first message: the
# one-bucket-per-namespace mutant fails there, whatever the VM's speed).  over-limit drop: of a
# sipp flood of 8 INVITEs from 192.168.1.4 exactly 5 reach wan; over TCP
# (192.168.1.7) all pass, 2 of 7 counted.  burst 1: of 3 answers to
# REGISTERs of 192.168.1.8, 2 are over the limit.  calls 3 (rate off): of 6
# new calls from 192.168.1.5, 3 get pinholes (limited-calls 3), and a
# retransmission of one of those 3 is not refused.  max_netns_sources=0: a
# new source (192.168.1.6) is not tracked (limit-untracked 1) and its call
# gets its pinholes.  Last, rtr is deleted with source records in it and
# the module unloaded: the slab cache must be empty (a record left behind
# makes kmem_cache_destroy() warn).
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack python3 jq sipp socat

WAN=203.0.113.2

test_cleanup() {
	udp_sink_stop
}

setup() {
	topo_cleanup
	sipalg_unload
	sipalg_load || return 1
	topo_setup || return 1
	local ip
	for ip in 3 4 5 6 7 8; do
		ip -n lan addr add "192.168.1.$ip/24" dev eth0 || return 1
	done
	udp_sink_start wan "$WAN" 5060 wan || return 1
	ctl rtr enable lan0 && ctl rtr set lan0 rate 1 burst 5 calls 0 || return 1
	ctl rtr show lan0
	ctl rtr show lan0 | grep -qx 'lan0: enabled mode rewrite malformed pass rate 1 burst 5 calls 0 over-limit pass'
}

# ctr NAME: the namespace's counter
ctr() { sipalg_stat "$1"; }

# invite SRC_IP SRC_PORT MEDIA_PORT: one new call (Call-ID call-PORT@IP)
invite() {
	sip_invite "$1" "$2" "$WAN" "$3" | udp_send lan "$1" "$2" "$WAN" 5060
}

# settle NAME VALUE: wait until counter NAME reaches VALUE
settle() {
	wait_for 100 test "$(ctr "$1")" -ge "$2" 2>/dev/null
	[ "$(ctr "$1")" = "$2" ] || { echo "$1 is $(ctr "$1"), want $2"; return 1; }
}

flood() {
	local created limited log
	created=$(ctr expectations-created)
	limited=$(ctr limited-rate)
	klog_mark "alg_limits flood"
	sipp_start flood lan -sf "$PEERS_DIR/flood_uac.xml" -i 192.168.1.2 -p 5060 \
		"$WAN:5060" -m 20 -r 1000 -rp 1000 -mp 30000 -nr
	sipp_wait flood || return 1
	settle limited-rate $((limited + 15)) || return 1
	log=$(klog_since_mark | grep -c 'sipalg: over the rate limit: 192.168.1.2 gets no new pinholes')
	echo "expectations-created +$(($(ctr expectations-created) - created))," \
		"limited-rate +$(($(ctr limited-rate) - limited)), log lines $log," \
		"lan0 limited-rate $(counter rtr lan0 limited-rate)"
	[ "$(ctr expectations-created)" = $((created + 10)) ] && [ "$log" = 1 ] &&
		[ "$(counter rtr lan0 limited-rate)" = 15 ]
}

other_phone() {
	local created limited
	created=$(ctr expectations-created)
	limited=$(ctr limited-rate)
	invite 192.168.1.3 5062 40000
	settle expectations-created $((created + 2)) || return 1
	[ "$(ctr limited-rate)" = "$limited" ] || { echo "limited-rate moved"; return 1; }
	sipalg_expect_list | grep -c 'dport=40000'
	sipalg_expect_list | grep -q 'dport=40000'
}

drop() {
	local limited base
	ctl rtr set lan0 over-limit drop || return 1
	ctl rtr show lan0 | grep -q 'over-limit drop$' || return 1
	limited=$(ctr limited-rate)
	base=$(udp_sink_count wan)
	sipp_start drop lan -sf "$PEERS_DIR/flood_uac.xml" -i 192.168.1.4 -p 5060 \
		"$WAN:5060" -m 8 -r 1000 -rp 1000 -mp 32000 -nr
	sipp_wait drop || return 1
	settle limited-rate $((limited + 3)) || return 1
	# a message that asks for no pinhole is never limited: it marks the end
	sip_options 192.168.1.4 5061 "$WAN" | udp_send lan 192.168.1.4 5061 "$WAN" 5060
	wait_for 100 sink_has_more wan $((base + 5)) || return 1
	echo "reached wan: $(($(udp_sink_count wan) - base)) of 9"
	[ "$(udp_sink_count wan)" = $((base + 6)) ]
}

# tcp_peer NAME SRC_IP FILE...: sip_tcp_peer.py's server on wan answers
# each request (one write, one segment, each) of a client at SRC_IP:5070
tcp_peer() {
	local dir=$SELFTEST_TMP/$1 src=$2 pid rc=0
	shift 2
	mkdir -p "$dir"
	wan timeout "$(slow 90)" python3 "$PEERS_DIR/sip_tcp_peer.py" server "$WAN" 5060 "$dir" &
	pid=$!
	wait_for 100 test -e "$dir/.listening" || { echo "no tcp server"; return 1; }
	lan timeout "$(slow 90)" python3 "$PEERS_DIR/sip_tcp_peer.py" client "$src" 5070 \
		"$WAN" 5060 "$dir" "$@" || rc=1
	wait "$pid" || rc=1
	return "$rc"
}

# still over-limit drop, rate 1 burst 5: of 7 INVITEs on one TCP
# connection 2 are over the limit, and all 7 pass (each is answered)
tcp_passes() {
	local limited i files=()
	limited=$(ctr limited-rate)
	for i in $(seq 1 7); do
		sip_invite 192.168.1.7 $((9000 + i)) "$WAN" $((50000 + 2 * i)) \
			>"$SELFTEST_TMP/tcp_invite.$i"
		files+=("$SELFTEST_TMP/tcp_invite.$i")
	done
	tcp_peer tcp 192.168.1.7 "${files[@]}" || return 1
	echo "INVITEs the server got: $(grep -c '^INVITE sip:' "$SELFTEST_TMP/tcp/server.rx")," \
		"limited-rate +$(($(ctr limited-rate) - limited))"
	[ "$(grep -c '^INVITE sip:' "$SELFTEST_TMP/tcp/server.rx")" = 7 ] &&
		[ "$(ctr limited-rate)" = $((limited + 2)) ]
}

# register CSEQ: a REGISTER of 192.168.1.8 over TCP
register() {
	printf '%s\r\n' "REGISTER sip:$WAN SIP/2.0" \
		"Via: SIP/2.0/TCP 192.168.1.8:5070;branch=z9hG4bK-reg$1" \
		"Max-Forwards: 70" "From: <sip:p8@$WAN>;tag=p8" "To: <sip:p8@$WAN>" \
		"Call-ID: reg-p8@192.168.1.8" "CSeq: $1 REGISTER" \
		"Contact: <sip:p8@192.168.1.8:5070;transport=tcp>" "Expires: 60" \
		"Content-Length: 0" ""
}

# burst 1: of the registrar's 3 answers (200 OK) to a phone's REGISTERs,
# the first counts against the phone (the source the registration's
# pinhole leads to) and the next 2 are over its limit
register_limited() {
	local limited i files=()
	ctl rtr set lan0 burst 1 || return 1
	limited=$(ctr limited-rate)
	for i in 1 2 3; do
		register "$i" >"$SELFTEST_TMP/register.$i"
		files+=("$SELFTEST_TMP/register.$i")
	done
	tcp_peer reg 192.168.1.8 "${files[@]}" || return 1
	echo "limited-rate +$(($(ctr limited-rate) - limited))"
	[ "$(ctr limited-rate)" = $((limited + 2)) ]
}

calls_cap() {
	local created limited renewed i
	ctl rtr set lan0 rate 0 calls 3 over-limit pass || return 1
	created=$(ctr expectations-created)
	limited=$(ctr limited-calls)
	for i in $(seq 7001 7006); do
		invite 192.168.1.5 "$i" $((i * 2 + 30000))
	done
	settle limited-calls $((limited + 3)) || return 1
	settle expectations-created $((created + 6)) || return 1
	renewed=$(ctr expectations-renewed)
	invite 192.168.1.5 7001 44002	# call-7001 sent again: not a new call
	settle expectations-renewed $((renewed + 2)) || return 1
	[ "$(ctr limited-calls)" = $((limited + 3)) ]
}

untracked() {
	local created untracked
	echo 0 >/sys/module/sipalg/parameters/max_netns_sources || return 1
	created=$(ctr expectations-created)
	untracked=$(ctr limit-untracked)
	invite 192.168.1.6 8000 46000
	settle limit-untracked $((untracked + 1)) || return 1
	settle expectations-created $((created + 2))
}

# The namespace goes with its source records (those of .2 and .5 still
# held: .5's by its calls, .2's bucket not yet full), then the module.
netns_exit() {
	udp_sink_stop
	topo_cleanup
	sipalg_unload
}

ktap_header 9
ktap_check_here "sipalg on lan0, set rate 1 burst 5 calls 0: show prints them" setup
ktap_check_here "sipp flood of 20 INVITEs from 192.168.1.2: 5 get pinholes, 15 limited, one log line" flood
ktap_check_here "another phone's call still gets its pinholes" other_phone
ktap_check_here "over-limit drop: of 8 INVITEs from one host exactly 5 reach wan" drop
ktap_check_here "TCP, over-limit drop: an INVITE over the limit still passes" tcp_passes
ktap_check_here "burst 1: a registrar's 2xx to REGISTER counts against the phone" register_limited
ktap_check_here "calls 3: of 6 new calls 3 get pinholes, 3 limited; a retransmission is not" calls_cap
ktap_check_here "max_netns_sources=0: a new source is untracked, its call passes with pinholes" untracked
netns_exit
ktap_check_klog "rtr deleted, sipalg unloaded: kernel log clean (no source record left)"
ktap_finish
