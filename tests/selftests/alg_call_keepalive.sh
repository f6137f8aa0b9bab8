#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317
#
# A call's signalling flow outlives the UDP timeouts, and a failed re-INVITE
# leaves its call's pinholes (tests/selftests/peers/call_keep.py does the
# calls; a phone on lan calls a trunk on wan, masqueraded, no REGISTER).
# rtr's UDP conntrack timeouts are cut to 3 s (unreplied) and 5 s
# (replied).
#   - A confirmed call (200 to its INVITE) sends a re-INVITE with the same
#     media that gets 488, and one with new media (the next ports) that is
#     CANCELled after its 180: the call's 4 pinholes stay listed each time
#     (and the new offer's are removed).  The same re-INVITE with new media
#     rejected with 488 leaves the old offer's 2 pinholes and the answer's
#     2, the new offer's are removed; then a datagram from the
#     trunk to the (old) offer's RTP pinhole reaches the phone.  The same
#     re-INVITE answered 200 removes the old offer's pinholes, the new ones
#     are listed, and the trunk's datagram to the new RTP port reaches the
#     phone.  A new call CANCELled after its 180 loses its pinholes.
#   - After the 200 to an INVITE, the flow's conntrack timeout is
#     call_timeout (3600 s by default); after 8 s without a packet the
#     trunk's BYE reaches the phone and its 200 comes back.
#   - With call_timeout=10 (set at run time, on a new flow), a re-INVITE
#     answered 200 halfway through a call raises the deadline: the flow's
#     timeout after it is 8-10 s, not the 6 s left of the first 200's, and
#     the trunk's BYE 8 s later (12 s after the call's 200) reaches the
#     phone.
#   - With call_timeout=0 (set at run time) the same flow expires and the
#     BYE is lost: the wait was longer than the UDP timeouts.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack python3

PHONE=192.168.1.2
TRUNK=203.0.113.2
PUBLIC=203.0.113.1
WAIT=8			# seconds of silence, longer than both UDP timeouts
REFRESH_TIMEOUT=10	# WAIT < it < WAIT * 3/2: only the re-INVITE's 200 keeps the flow
UAS_PID=

test_cleanup() {
	stop_bg "$UAS_PID"
	UAS_PID=
}

setup() {
	topo_setup || return 1
	sipalg_load || { echo "sipalg does not load"; return 1; }
	rtr_ct_helper sipalg udp 5060 || return 1
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3 \
		net.netfilter.nf_conntrack_udp_timeout_stream=5 || return 1
	mkdir -p "$SELFTEST_TMP/orders"
	wan python3 "$PEERS_DIR/call_keep.py" uas "$TRUNK" 20000 "$SELFTEST_TMP/orders" &
	UAS_PID=$!
	wait_for 100 trunk_listening || { echo "the trunk does not listen"; return 1; }
}

trunk_listening() {
	wan ss -Huln "sport = :5060" | grep -q .
}

# phone NAME STEP...: the phone's calls, their lines in $SELFTEST_TMP/NAME.out
phone() {
	local name=$1 out=$SELFTEST_TMP/$1.out
	shift
	lan python3 "$PEERS_DIR/call_keep.py" uac "$PHONE" "$TRUNK" "$PUBLIC" 30000 \
		"$SELFTEST_TMP/orders" "$WAIT" "$@" >"$out" 2>&1
	echo "exit $?" >>"$out"
	sed 's/^/  /' "$out"
}

has() { # NAME LINE
	grep -qx "$2" "$SELFTEST_TMP/$1.out"
}

ktap_header 10
sipalg_unload
klog_mark "alg_call_keepalive"
ktap_check_here "topology, sipalg on UDP 5060, UDP timeouts 3/5 s, the trunk on wan" setup
phone calls reinvite cancel keep >/dev/null

reinvite() {
	sed -n '/^up confirmed/,/^media/p' "$SELFTEST_TMP/calls.out"
	has calls 'pinholes 4 of 4' && has calls 'reject 488 pinholes 4 of 4' &&
		has calls 'cancelled 487 pinholes 4 of 4 new offer 0 of 2' &&
		has calls 'media ok'
}
ktap_check "a confirmed call's re-INVITE rejected (488), or with new media CANCELled: its 4 pinholes stay (the new offer's are removed), the trunk's RTP reaches the phone" \
	reinvite

new_offer() {
	grep '^new offer' "$SELFTEST_TMP/calls.out"
	has calls 'new offer 488 answer 2 of 2 old offer 2 of 2 new offer 0 of 2' &&
		has calls 'media ok'
}
ktap_check "a re-INVITE with new media rejected (488): the old offer's 2 pinholes and the answer's 2 stay, the new offer's are removed, the trunk's RTP to the old port reaches the phone" \
	new_offer

accepted() {
	grep -E '^(accepted|new media)' "$SELFTEST_TMP/calls.out"
	has calls 'accepted 200 old offer 0 of 2 new offer 2 of 2' &&
		has calls 'new media ok'
}
ktap_check "a re-INVITE with new media accepted (200): the old offer's pinholes are removed, the new ones listed, the trunk's RTP to the new port reaches the phone" \
	accepted

cancel() {
	grep '^cancel' "$SELFTEST_TMP/calls.out"
	has calls 'cancel 487 pinholes 2 of 2' && has calls 'cancelled call pinholes 0'
}
ktap_check "a new call CANCELled after its 180: its pinholes are removed" cancel

kept() {
	sed -n '/^up keep/,$p' "$SELFTEST_TMP/calls.out"
	local t
	t=$(sed -n 's/^timeout \([0-9]*\)$/\1/p' "$SELFTEST_TMP/calls.out")
	[ "${t:-0}" -gt 3000 ] && has calls 'flow kept' &&
		has calls 'bye reached the phone' && has calls 'bye answered' &&
		has calls 'exit 0'
}
ktap_check "after the 200 the flow's timeout is call_timeout (3600 s); ${WAIT} s later the trunk's BYE reaches the phone and its 200 comes back" \
	kept

# A flow's deadline only moves later: a new flow (the flush), or the
# first calls' 3600 s would hold it.
refreshed() {
	echo "$REFRESH_TIMEOUT" >/sys/module/sipalg/parameters/call_timeout || return 1
	rtr conntrack -F 2>/dev/null
	phone refresh refresh
	local t
	t=$(sed -n 's/^refreshed 200 timeout \([0-9]*\)$/\1/p' "$SELFTEST_TMP/refresh.out")
	[ "${t:-0}" -gt $((REFRESH_TIMEOUT - 3)) ] && has refresh 'flow kept' &&
		has refresh 'bye reached the phone' && has refresh 'exit 0'
}
ktap_check "call_timeout=${REFRESH_TIMEOUT}: a re-INVITE's 200 halfway through the call raises the deadline; the BYE $((WAIT + WAIT / 2)) s after the call's 200 reaches the phone" \
	refreshed

expired() {
	echo 0 >/sys/module/sipalg/parameters/call_timeout || return 1
	rtr conntrack -F 2>/dev/null
	phone nokeep keep
	local t
	t=$(sed -n 's/^timeout \([0-9]*\)$/\1/p' "$SELFTEST_TMP/nokeep.out")
	[ "${t:-9999}" -le 5 ] && has nokeep 'flow expired' && has nokeep 'bye lost'
}
ktap_check "call_timeout=0: the flow keeps the UDP timeout, expires after ${WAIT} s and the BYE is lost" \
	expired

modinfo_says() {
	modinfo -F parm "$SIPALG_KO" | grep '^call_timeout:'
	modinfo -F parm "$SIPALG_KO" | grep -q '^call_timeout:.*kept alive.*0: off.*default 3600'
}
ktap_check "modinfo describes call_timeout" modinfo_says

ktap_diag "the phone's lines, with call_timeout=3600, ${REFRESH_TIMEOUT}, then 0:"
cat "$SELFTEST_TMP/calls.out" "$SELFTEST_TMP/refresh.out" "$SELFTEST_TMP/nokeep.out" | ktap_diag
test_cleanup
topo_cleanup
sipalg_unload
ktap_check_klog
ktap_diag "selftest: $SECONDS s"

ktap_finish
