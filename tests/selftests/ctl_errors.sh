#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# Bad requests get a clear error, a non-zero exit status and change
# nothing (`sipalgctl show -j` on rtr is the same before and after):
# an unknown interface, a bad mode or malformed action, an interface that
# is not enabled, no CAP_NET_ADMIN (dropped with capsh; root of a child
# user namespace), values only a raw netlink client can send (the kernel's
# extack messages), a full interface table, the module not loaded.
# Exit statuses (sipalgctl(8)): 1 failed, 2 usage, 3 no module, 4 no
# permission.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/selftests/ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"
require modprobe nft capsh unshare python3 jq

CTL=$REPO/userspace/sipalgctl

test_cleanup() {
	ip netns del many 2>/dev/null
	return 0
}

ktap_header 10
sipalg_unload
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"
ctl rtr enable wan0 mode pinhole || ktap_diag "cannot enable wan0"
ctl rtr show -j >"$SELFTEST_TMP/before" || ktap_diag "no show -j"
klog_mark "ctl_errors"

unchanged() {
	ctl rtr show -j >"$SELFTEST_TMP/after" || return 1
	bytes_equal "$SELFTEST_TMP/before" "$SELFTEST_TMP/after"
}

# refused RC MESSAGE NS CMD...: CMD in NS exits RC, says MESSAGE on
# stderr, and rtr's settings are unchanged.
refused() {
	local rc=$1 msg=$2 ns=$3 got=0
	shift 3
	ip netns exec "$ns" "$@" >"$SELFTEST_TMP/out" 2>"$SELFTEST_TMP/err" || got=$?
	echo "${*##*/}: exit $got: $(cat "$SELFTEST_TMP/err")"
	[ "$got" = "$rc" ] || { echo "  exit status $got, not $rc"; return 1; }
	grep -qF -- "$msg" "$SELFTEST_TMP/err" || { echo "  no \"$msg\""; return 1; }
	unchanged
}

unknown_interface() {
	refused 1 "sipalgctl: interface 'nope0' does not exist" rtr "$CTL" enable nope0 &&
		refused 1 "sipalgctl: interface 'nope0' does not exist" rtr "$CTL" disable nope0 --flush &&
		refused 1 "sipalgctl: interface 'nope0' does not exist" rtr "$CTL" show nope0 &&
		refused 1 "sipalgctl: interface 'nope0' does not exist" rtr "$CTL" stats nope0 &&
		refused 1 "interface 'wan0' does not exist" lan "$CTL" enable wan0
}
ktap_check "an unknown interface: exit 1, \"interface 'nope0' does not exist\", no change" unknown_interface

bad_values() {
	refused 2 "sipalgctl: mode 'fast' is not valid: use rewrite or pinhole" rtr \
		"$CTL" enable wan0 mode fast &&
		refused 2 "sipalgctl: malformed 'maybe' is not valid: use pass or drop" rtr \
			"$CTL" enable wan0 mode rewrite malformed maybe &&
		refused 2 "sipalgctl: mode '' is not valid" rtr "$CTL" enable wan0 mode &&
		refused 2 "sipalgctl: enable: unknown argument 'speed'" rtr "$CTL" enable wan0 speed 3 &&
		refused 2 "Usage: sipalgctl disable" rtr "$CTL" disable wan0 --now &&
		refused 2 "Usage: sipalgctl enable" rtr "$CTL" enable
}
ktap_check "a bad mode or malformed action, a bad argument: exit 2, named, no change" bad_values

not_enabled() {
	refused 1 "sipalgctl: sipalg is not enabled on 'lan0'" rtr "$CTL" disable lan0 &&
		refused 1 "sipalgctl: sipalg is not enabled on 'lan0': it has no counters" rtr \
			"$CTL" stats lan0
}
ktap_check "disable or stats of an interface sipalg is not enabled on: exit 1, said" not_enabled

NOCAP=(capsh --drop=cap_net_admin --)

no_cap_net_admin() {
	local perm="sipalgctl: permission denied: needs CAP_NET_ADMIN"
	refused 4 "$perm" rtr "${NOCAP[@]}" -c "$CTL enable lan0" &&
		refused 4 "$perm" rtr "${NOCAP[@]}" -c "$CTL enable wan0 mode rewrite" &&
		refused 4 "$perm" rtr "${NOCAP[@]}" -c "$CTL disable wan0 --flush" &&
		refused 4 "$perm" rtr "${NOCAP[@]}" -c "$CTL stats --reset" &&
		refused 4 "$perm" rtr "${NOCAP[@]}" -c "$CTL flows" || return 1
	rtr "${NOCAP[@]}" -c "$CTL show && $CTL stats >/dev/null" || return 1
	echo "show and stats work without it"
}
ktap_check "without CAP_NET_ADMIN (capsh): exit 4, \"needs CAP_NET_ADMIN\", no change; reading works" \
	no_cap_net_admin

user_namespaces() {
	refused 4 "sipalgctl: permission denied: needs CAP_NET_ADMIN" rtr \
		unshare --user --map-root-user "$CTL" enable lan0 || return 1
	echo "root of a child user namespace cannot change rtr's settings"
	local own
	own=$(unshare --user --map-root-user --net sh -c "$CTL enable lo && $CTL show") || return 1
	echo "in a network namespace it owns: $own"
	[ "$own" = "lo: enabled mode rewrite malformed pass rate 50 burst 100 calls 256 over-limit pass" ]
}
# A chroot (scripts/vm runs the tests in one) may not create user namespaces.
if unshare --user --map-root-user true 2>/dev/null; then
	ktap_check "CAP_NET_ADMIN counts in the namespace's user namespace (unshare)" user_namespaces
else
	ktap_skip "CAP_NET_ADMIN counts in the namespace's user namespace (unshare)" \
		"cannot create a user namespace here (chroot)"
fi

# What the CLI never sends, straight to the family (genl_raw.py).
# Commands and attributes: kmod/uapi/linux/sipalg_genl.h.
IFACE_SET=1 IFACE_DEL=2 A_IFINDEX=2 A_ENABLED=4 A_MODE=5 A_MALFORMED=6 A_FLUSH=7

# raw WANT_ERRNO WANT_EXTACK ARGS...
raw() {
	local err=$1 msg=$2 out
	shift 2
	out=$(rtr python3 "$SELFTEST_DIR/genl_raw.py" "$@")
	echo "$* -> $out"
	[ "$(jq -r .error <<<"$out")" = "$err" ] && [ "$(jq -r .extack <<<"$out")" = "$msg" ] &&
		unchanged
}

kernel_refusals() {
	local wan0
	wan0=$(rtr cat /sys/class/net/wan0/ifindex)
	raw -22 "mode must be 0 (rewrite) or 1 (pinhole)" \
		"$IFACE_SET" "$A_IFINDEX":u32="$wan0" "$A_MODE":u8=7 &&
		raw -22 "malformed must be 0 (pass) or 1 (drop)" \
			"$IFACE_SET" "$A_IFINDEX":u32="$wan0" "$A_MODE":u8=0 "$A_MALFORMED":u8=9 &&
		raw -22 "enabled must be 0 or 1" "$IFACE_SET" "$A_IFINDEX":u32="$wan0" "$A_ENABLED":u8=2 &&
		raw -22 "missing SIPALG_A_IFINDEX: which interface" "$IFACE_SET" "$A_MODE":u8=0 &&
		raw -19 "no interface with this ifindex in the network namespace" \
			"$IFACE_SET" "$A_IFINDEX":u32=99999 &&
		raw -22 "Unsupported attribute" "$IFACE_SET" "$A_IFINDEX":u32="$wan0" "$A_FLUSH":flag &&
		raw -2 "sipalg is not configured on this interface" \
			"$IFACE_DEL" "$A_IFINDEX":u32="$(rtr cat /sys/class/net/lan0/ifindex)"
}
ktap_check "the kernel refuses bad values itself, each with its extack message, no change" \
	kernel_refusals

table_full() {
	local i
	ip netns add many || return 1
	for i in $(seq 257); do echo "link add d$i type dummy"; done >"$SELFTEST_TMP/batch"
	ip -n many -batch "$SELFTEST_TMP/batch" || return 1
	ip netns exec many sh -c "for i in \$(seq 256); do $CTL enable d\$i || exit 1; done" ||
		{ echo "could not enable 256"; return 1; }
	echo "256 interfaces enabled in namespace many"
	ip netns exec many "$CTL" enable d257 >/dev/null 2>"$SELFTEST_TMP/err"
	local rc=$?
	echo "the 257th: exit $rc: $(cat "$SELFTEST_TMP/err")"
	[ "$rc" = 1 ] && grep -q "cannot enable sipalg on 'd257': too many interfaces" "$SELFTEST_TMP/err" &&
		[ "$(ip netns exec many "$CTL" show -j | jq length)" = 256 ] &&
		[ "$(ip netns exec many "$CTL" show d257)" = "d257: off" ] &&
		unchanged
}
ktap_check "256 interfaces per namespace: the 257th is refused with the kernel's message" table_full

no_module() {
	ip netns del many
	sipalg_unload || return 1
	local msg="sipalgctl: the sipalg module is not loaded: modprobe sipalg" cmd rc
	for cmd in "show" "enable wan0" "disable wan0" "stats" "flows"; do
		# shellcheck disable=SC2086 # the words of cmd
		rtr "$CTL" $cmd >/dev/null 2>"$SELFTEST_TMP/err"
		rc=$?
		echo "$cmd: exit $rc: $(cat "$SELFTEST_TMP/err")"
		[ "$rc" = 3 ] && grep -qF "$msg" "$SELFTEST_TMP/err" || return 1
	done
}
ktap_check "the module not loaded: exit 3, \"modprobe sipalg\"" no_module

reload_starts_empty() {
	sipalg_load || return 1
	local got
	got=$(ctl rtr show -j)
	echo "after the reload: $got"
	[ "$got" = "[]" ]
}
ktap_check "loaded again, no interface is configured" reload_starts_empty

ktap_check_klog

ktap_finish
