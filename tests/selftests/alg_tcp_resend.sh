#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# SIP over TCP: segments sent again never corrupt the rewritten stream.
# The NAT core places a segment by one correction point per direction
# (nf_conntrack_seqadj.c), so a segment sent again must leave rtr as its
# first copy did, or not add bytes the receiver holds already.  The phone
# (192.168.1.200, so that every rewrite changes the stream's length) writes
# through rtr (masquerade, sipalg by nftables, malformed=drop) an INVITE
# across two segments, the second ending with an OPTIONS; that segment is
# sent again as it was; an INFO, then the last two segments again joined in
# one; then two OPTIONS back to back (two rewrites in flight, which rtr
# takes one acknowledged at a time).  tcp_resend.py says the details; the
# peer must read every message once, as `sipalgctl rewrite --tcp` predicts.
# About 30 s in the VM.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft python3

PHONE_IP=192.168.1.200

ktap_header 3
sipalg_unload
klog_mark "alg_tcp_resend"

ktap_check "topology, phone at $PHONE_IP, sipalg on TCP 5060, malformed=drop" \
	tcp_phone_setup "$PHONE_IP"

resend() {
	python3 "$SELFTEST_DIR/tcp_resend.py" "$PHONE_IP" 5062 203.0.113.2 203.0.113.1
}
ktap_check "segments sent again and rewrites in flight: the peer reads each message once, rewritten as predicted" \
	resend

topo_cleanup
sipalg_unload
ktap_check_klog

ktap_finish
