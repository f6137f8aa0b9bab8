#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317
#
# The pinhole caps, module parameters:
# - max_expectations (all namespaces): an INVITE whose two pinholes would
#   pass it gets none, is counted in expectations-failed and still passes,
#   rewritten; raised at run time, the next INVITE gets its pinholes;
# - max_flow_pinholes (per signalling flow): an offer of audio and video
#   on a flow that may hold 2 gets the audio's RTP and RTCP only; no
#   pinhole is closed to make room;
# - only live pinholes count against max_flow_pinholes: one withdrawn (its
#   RTCP port was taken, so its RTP is closed again and the next ports are
#   tried) is dead but still counted by the conntrack core until its GC
#   comes, up to a minute later;
# - a max_flow_pinholes out of 2..255 refuses to load, saying why.
#
#   lan 192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft conntrack socat jq

test_cleanup() {
	peers_stop
}

ktap_header 6
klog_mark "alg_pinhole_caps"

# setup MODULE_ARGS...: a fresh router with sipalg on wan0 and a sink on wan
setup() {
	peers_stop
	topo_cleanup
	sipalg_unload
	sipalg_load "$@" || { echo "sipalg does not load with $*"; return 1; }
	# The sink never answers: each INVITE's flow stays unreplied, and an
	# unreplied flow (30 s by default) takes its pinholes with it when it
	# expires, before the last check on a slow (debug) kernel.
	topo_setup && ctl rtr enable wan0 &&
		rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 &&
		udp_sink_start wan 203.0.113.2 5060 wansink
}

# pinholes_now: the expectations on rtr, one "dport=" each (the expected
# port, the first on the line: the mask and the master follow), sorted
pinholes_now() {
	rtr conntrack -L expect 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^dport=/) { print $i; break } }' |
		sort
}

# invite PORT AUDIO [VIDEO]: one INVITE from the phone's PORT, delivered to
# wan rewritten (its Via names the router)
invite() {
	local rx
	sip_invite 192.168.1.2 "$1" 203.0.113.2 "$2" 1 "${3:-}" >"$SELFTEST_TMP/inv$1"
	rx=$(deliver lan 192.168.1.2 "$1" 203.0.113.2 5060 "$SELFTEST_TMP/inv$1" wansink) ||
		return 1
	grep -q "^Via: SIP/2.0/UDP 203.0.113.1:$1;" "$rx" ||
		{ echo "the INVITE from port $1 arrived unrewritten"; return 1; }
}

global_cap() {
	setup max_expectations=3 || return 1
	invite 5060 6000 || return 1
	[ "$(pinholes_now | wc -l)" = 2 ] || { pinholes_now; return 1; }
	invite 5062 6002 || return 1
	echo "pinholes with max_expectations=3: $(pinholes_now | tr '\n' ' ')"
	[ "$(pinholes_now | wc -l)" = 2 ] &&
		[ "$(counter rtr - expectations-created)" = 2 ] &&
		[ "$(counter rtr - expectations-failed)" = 1 ]
}
ktap_check_here "max_expectations=3: the second INVITE's 2 pinholes are refused (expectations-failed 1), it passes rewritten" global_cap

raised_cap() {
	echo 4 >/sys/module/sipalg/parameters/max_expectations || return 1
	invite 5064 6004 || return 1
	echo "pinholes with max_expectations=4: $(pinholes_now | tr '\n' ' ')"
	[ "$(pinholes_now | wc -l)" = 4 ] &&
		[ "$(counter rtr - expectations-created)" = 4 ]
}
ktap_check_here "raised to 4 at run time: the next INVITE gets its 2 pinholes" raised_cap

flow_cap() {
	setup max_flow_pinholes=2 || return 1
	[ "$(cat /sys/module/sipalg/parameters/max_flow_pinholes)" = 2 ] || return 1
	invite 5060 6000 7000 || return 1
	echo "pinholes: $(pinholes_now | tr '\n' ' ')"
	[ "$(pinholes_now | tr '\n' ' ')" = "dport=6000 dport=6001 " ] &&
		[ "$(counter rtr - expectations-created)" = 2 ] &&
		[ "$(counter rtr - expectations-failed)" = 1 ]
}
ktap_check_here "max_flow_pinholes=2: audio and video offered, the audio's RTP and RTCP opened, video refused" flow_cap

# withdrawn_trial PHONE_PORT MEDIA: another call (PHONE_PORT+2) holds
# MEDIA+1 and MEDIA+2; an INVITE from PHONE_PORT offers audio on MEDIA
# (RTP opens, RTCP on MEDIA+1 is taken: RTP withdrawn, dead; MEDIA+2 is
# taken; MEDIA+4 and MEDIA+5 open) and video on MEDIA+1000, on a flow that
# may hold 4 live pinholes: 2 for the audio, 2 for the video.  (Each trial
# has its own ports: by chance the core may unlink a dead pinhole early,
# when a later one lands in its hash bucket.)
withdrawn_trial() {
	local port=$1 media=$2
	invite $((port + 2)) $((media + 1)) &&
		invite "$port" "$media" $((media + 1000))
}

# trial_pinholes MEDIA: the pinholes now open on MEDIA's ports (MEDIA+1 up
# to MEDIA+1001), sorted
trial_pinholes() {
	pinholes_now | awk -F= -v m="$1" '$2 > m && $2 <= m + 1001'
}

# Each trial is checked right after it: a pinhole lives 180 s, which the
# three trials together can take on a slow (debug) kernel.
withdrawn_not_counted() {
	local want got m port=5060 bad=0
	setup max_flow_pinholes=4 || return 1
	for m in 6000 8000 12000; do
		withdrawn_trial "$port" "$m" || return 1
		port=$((port + 4))
		want=$(for d in 1 2 4 5 1000 1001; do echo "dport=$((m + d))"; done | sort)
		got=$(trial_pinholes "$m")
		echo "trial $m: pinholes $(echo "$got" | tr '\n' ' ')"
		[ "$got" = "$want" ] || bad=1
	done
	echo "expectations-failed $(counter rtr - expectations-failed)"
	[ "$bad" = 0 ] && [ "$(counter rtr - expectations-failed)" = 0 ]
}
ktap_check_here "max_flow_pinholes=4: a withdrawn pinhole does not count, audio (moved past a taken RTCP port) and video both opened, 3 times" withdrawn_not_counted

bad_param() {
	peers_stop
	topo_cleanup
	sipalg_unload || return 1
	if sipalg_load max_flow_pinholes=1 2>/dev/null; then
		echo "max_flow_pinholes=1 loaded"
		return 1
	fi
	klog_since_mark | grep -F "invalid max_flow_pinholes=1: give 2..255"
}
ktap_check_here "max_flow_pinholes=1 refuses to load, the kernel log says why" bad_param

peers_stop
topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
