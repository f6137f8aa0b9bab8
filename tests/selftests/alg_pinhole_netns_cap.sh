#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check_here:
# shellcheck disable=SC2317
#
# max_netns_expectations caps the pinholes of one network namespace, not
# of all together: two routers in two namespaces, each with sipalg on its
# WAN interface, the module loaded with max_netns_expectations=2.
#
#   lan 192.168.1.2 -- lan0 [rtr] wan0 203.0.113.1 -- wan 203.0.113.2
#   lan 192.168.2.2 -- lan3 [rtr2] wan3 198.51.100.1 -- wan 198.51.100.2
#
# - rtr2's phone sends two INVITEs: the first gets its 2 pinholes (RTP and
#   RTCP), the second none (rtr2 counts expectations-refused-netns-cap 2,
#   expectations-failed 1) and still passes rewritten;
# - rtr's phone then calls: its INVITE gets both pinholes, rtr counts no
#   refusal: rtr2's full namespace does not take rtr's share;
# - the parameter is in modinfo with its default, and raised at run time
#   rtr2's next INVITE gets its pinholes.
# About 90 s in the VM (6.12, loaded host).
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe modinfo nft conntrack socat jq

rtr2() { ip netns exec rtr2 "$@"; }

rtr2_cleanup() {
	ip netns exec rtr2 nft flush ruleset 2>/dev/null
	ip netns del rtr2 2>/dev/null
	return 0
}

test_cleanup() {
	peers_stop
	rtr2_cleanup
}

# A second router between lan (a second address) and wan (another subnet).
rtr2_setup() {
	rtr2_cleanup
	ip netns add rtr2 || return 1
	ip link add eth1 netns lan type veth peer name lan3 netns rtr2 || return 1
	ip link add eth1 netns wan type veth peer name wan3 netns rtr2 || return 1
	ip -n rtr2 link set lo up
	ip -n lan addr add 192.168.2.2/24 dev eth1
	ip -n lan link set eth1 up
	ip -n lan route add 198.51.100.0/24 via 192.168.2.1
	ip -n wan addr add 198.51.100.2/24 dev eth1
	ip -n wan link set eth1 up
	ip -n rtr2 addr add 192.168.2.1/24 dev lan3
	ip -n rtr2 addr add 198.51.100.1/24 dev wan3
	ip -n rtr2 link set lan3 up
	ip -n rtr2 link set wan3 up
	rtr2 sysctl -qw net.ipv4.ip_forward=1 || return 1
	rtr2 nft -f - <<-'EOF2'
		table inet nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan3" masquerade
			}
		}
	EOF2
}

# pinholes NS: the number of expectations in NS
pinholes() {
	ip netns exec "$1" conntrack -L expect 2>/dev/null | grep -c 'dport='
}

# invite NS FROM TO PUBLIC PORT SINK: an INVITE from FROM:PORT (audio at
# 6000 + PORT - 5060) to TO:5060, delivered to SINK rewritten (its Via
# names the router's PUBLIC address)
invite() {
	local ns=$1 from=$2 to=$3 public=$4 port=$5 sink=$6 rx
	sip_invite "$from" "$port" "$to" $((6000 + port - 5060)) >"$SELFTEST_TMP/inv-$ns-$port"
	rx=$(deliver lan "$from" "$port" "$to" 5060 "$SELFTEST_TMP/inv-$ns-$port" "$sink") ||
		return 1
	grep -q "^Via: SIP/2.0/UDP $public:$port;" "$rx" ||
		{ echo "the INVITE from $from:$port arrived unrewritten"; return 1; }
}

# counts NS: the pinhole counters of NS, netlink and /proc agreeing
# shellcheck disable=SC2016 # an awk program
counts() {
	local ns=$1 name v proc
	for name in expectations-created expectations-failed \
		expectations-refused-netns-cap; do
		v=$(counter "$ns" - "$name")
		proc=$(ip netns exec "$ns" awk -v n="$name" '$1 == n { print $2 }' \
			/proc/net/sipalg_stats)
		[ "$v" = "$proc" ] || echo "($name: netlink $v, /proc $proc)"
		printf '%s %s ' "$name" "$v"
	done
	echo
}

ktap_header 4
klog_mark "alg_pinhole_netns_cap"

setup() {
	peers_stop
	topo_cleanup
	sipalg_unload
	sipalg_load max_netns_expectations=2 || return 1
	topo_setup && rtr2_setup || return 1
	# The INVITEs go unanswered: their flows, and with them their
	# pinholes, must outlive the test however slow the VM (30 s default).
	rtr sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 &&
		rtr2 sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 &&
		ctl rtr enable wan0 && ctl rtr2 enable wan3 &&
		udp_sink_start wan 203.0.113.2 5060 wansink &&
		udp_sink_start wan 198.51.100.2 5060 wansink2
}

full_namespace() {
	setup || return 1
	invite rtr2 192.168.2.2 198.51.100.2 198.51.100.1 5060 wansink2 || return 1
	invite rtr2 192.168.2.2 198.51.100.2 198.51.100.1 5062 wansink2 || return 1
	echo "rtr2: $(pinholes rtr2) pinholes; $(counts rtr2)"
	[ "$(pinholes rtr2)" = 2 ] &&
		[ "$(counts rtr2)" = "expectations-created 2 expectations-failed 1 expectations-refused-netns-cap 2 " ]
}
ktap_check_here "max_netns_expectations=2: rtr2's second INVITE gets no pinhole (refused-netns-cap 2, failed 1) and passes rewritten" full_namespace

other_namespace() {
	invite rtr 192.168.1.2 203.0.113.2 203.0.113.1 5060 wansink || return 1
	echo "rtr: $(pinholes rtr) pinholes; $(counts rtr)"
	echo "rtr2: $(pinholes rtr2) pinholes; $(counts rtr2)"
	[ "$(pinholes rtr)" = 2 ] &&
		[ "$(counts rtr)" = "expectations-created 2 expectations-failed 0 expectations-refused-netns-cap 0 " ] &&
		[ "$(counts rtr2)" = "expectations-created 2 expectations-failed 1 expectations-refused-netns-cap 2 " ]
}
ktap_check_here "rtr's INVITE still gets its 2 pinholes while rtr2 is at its cap; rtr counts no refusal" other_namespace

raised() {
	local param=/sys/module/sipalg/parameters/max_netns_expectations
	modinfo -p sipalg | grep -F "max_netns_expectations:" | grep -F "(default 1024)" ||
		{ echo "modinfo: $(modinfo -p sipalg)"; return 1; }
	[ "$(pinholes rtr2)" = 2 ] || { echo "rtr2 holds $(pinholes rtr2) pinholes"; return 1; }
	echo 4 >"$param" || return 1
	invite rtr2 192.168.2.2 198.51.100.2 198.51.100.1 5064 wansink2 || return 1
	echo "rtr2: $(pinholes rtr2) pinholes; $(counts rtr2)"
	[ "$(cat "$param")" = 4 ] && [ "$(pinholes rtr2)" = 4 ] &&
		[ "$(counts rtr2)" = "expectations-created 4 expectations-failed 1 expectations-refused-netns-cap 2 " ]
}
ktap_check_here "modinfo gives the default 1024; raised to 4 at run time, rtr2's next INVITE gets its 2 pinholes" raised

peers_stop
topo_cleanup
rtr2_cleanup
sipalg_unload
ktap_check_klog
ktap_finish
