#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# sipalg and the kernel's own SIP helper (nf_conntrack_sip + nf_nat_sip)
# are loaded at the same time, on the same port 5060, in either order; each
# flow gets the helper its nftables rule names.  (6.1 refuses a second
# helper on the same family/protocol/port even under another name; sipalg
# registers for NFPROTO_UNSPEC to stay clear of the in-tree ones.)
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft conntrack socat

test_cleanup() {
	topo_cleanup
	sipalg_unload
	modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
}

intree_loaded() {
	[ -d /sys/module/nf_conntrack_sip ] && [ -d /sys/module/nf_nat_sip ]
}

# flow_gets_helper PORT HELPER: a SIP datagram lan:PORT -> wan:PORT makes a
# conntrack entry on rtr whose helper is HELPER.
flow_gets_helper() {
	local port=$1 want=$2 got
	sip_options 192.168.1.2 "$port" 203.0.113.2 |
		udp_send lan 192.168.1.2 "$port" 203.0.113.2 "$port" || return 1
	wait_for 20 test -n "$(ct_helper_of rtr -p udp --dport "$port")"
	got=$(ct_helper_of rtr -p udp --dport "$port")
	echo "conntrack on rtr: helper=${got:-none}, want $want"
	[ "$got" = "$want" ]
}

ktap_header 8
sipalg_unload
modprobe -r nf_nat_sip nf_conntrack_sip 2>/dev/null
klog_mark "beside nf_conntrack_sip"

ktap_check "in-tree nf_conntrack_sip and nf_nat_sip load" \
	modprobe -a nf_conntrack_sip nf_nat_sip
ktap_check "sipalg loads beside them" sipalg_load

topo_setup || ktap_diag "topology setup failed"
ktap_check "ct helper objects of type \"sip\" and \"sipalg\" in one table" \
	eval 'rtr_ct_helper sip udp 5060 && rtr_ct_helper sipalg udp 5080'
ktap_check "a flow to 5060 gets the in-tree helper (helper=sip)" flow_gets_helper 5060 sip
ktap_check "a flow to 5080 gets sipalg (helper=sipalg)" flow_gets_helper 5080 sipalg

# The nftables objects hold the modules; drop them, then unload sipalg.
rtr nft delete table inet helpers
unload_keeps_intree() {
	sipalg_unload || return 1
	! sipalg_loaded || { echo "sipalg still loaded"; return 1; }
	intree_loaded || { echo "the in-tree helper went away"; return 1; }
	rtr_ct_helper sip udp 5062 && flow_gets_helper 5062 sip
}
ktap_check "sipalg unloads; the in-tree helper stays and still works" unload_keeps_intree

rtr nft delete table inet helpers 2>/dev/null
reverse_order() {
	modprobe -r nf_nat_sip nf_conntrack_sip || return 1
	sipalg_load || return 1
	modprobe -a nf_conntrack_sip nf_nat_sip || return 1
	intree_loaded && sipalg_loaded
}
ktap_check "the in-tree helper loads after sipalg (reverse order)" reverse_order

log=$(klog_since_mark)
bad=$(klog_bad "$log")
[ -z "$bad" ] || ktap_diag <<<"$bad"
ktap_check "kernel log clean" test -z "$bad"

ktap_finish
