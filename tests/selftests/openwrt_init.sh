#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The stand-ins below are called by the sourced init script and read their
# values through eval, which shellcheck cannot follow:
# shellcheck disable=SC2317,SC2034,SC2119
#
# The OpenWrt procd init script (scripts/openwrt/sipalg/files/sipalg.init)
# applies /etc/config/sipalg with the real sipalgctl to the real module.
# The OpenWrt SDK cannot be had here, so only what OpenWrt's shell library
# provides is stood in for: config_load/config_get/config_get_bool/
# config_foreach (a reader of the UCI file format), network_get_device
# (a table: logical network -> device) and logger.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe ip

files=$REPO/scripts/openwrt/sipalg/files
root=$SELFTEST_TMP/root

# --- stand-ins for /lib/functions.sh and /lib/functions/network.sh ------
# UCI: "config TYPE 'NAME'" starts a section, "option KEY 'VALUE'" sets
# an option (quotes optional); comments and blank lines are ignored.
config_load() {
	local line kw a b name n=0
	UCI_SECTIONS=()
	declare -gA UCI_VALUES=()
	while read -r line; do
		line=${line%%#*}
		read -r kw a b <<<"$line"
		a=${a//\'/} b=${b//\'/}
		case $kw in
		config)
			n=$((n + 1))
			name=${b:-cfg$n}
			UCI_SECTIONS+=("$a:$name")
			;;
		option) UCI_VALUES[$name.$a]=$b ;;
		esac
	done <"$UCI_CONFIG_DIR/$1"
}
config_get() {
	local var=$1 cfg=$2 opt=$3 def=${4:-}
	eval "$var=\${UCI_VALUES[\$cfg.\$opt]-\$def}"
}
config_get_bool() {
	local _v
	config_get _v "$2" "$3" "${4:-0}"
	case $_v in 1 | on | true | yes | enabled) _v=1 ;; *) _v=0 ;; esac
	eval "$1=\$_v"
}
config_foreach() {
	local fn=$1 type=$2 s
	for s in "${UCI_SECTIONS[@]}"; do
		[ "${s%%:*}" = "$type" ] && "$fn" "${s#*:}"
	done
}
logger() {
	echo "logger $*" >>"$SELFTEST_TMP/syslog"
}
mkdir -p "$root/lib/functions"
cat >"$root/lib/functions/network.sh" <<'NET'
network_get_device() {
	case $2 in
	wan) eval "$1=wan0" ;;
	lan) eval "$1=lan0" ;;
	*) eval "$1=" ;;
	esac
}
NET
export IPKG_INSTROOT=$root UCI_CONFIG_DIR=$SELFTEST_TMP/config
mkdir -p "$UCI_CONFIG_DIR"

# The init script as procd's rc.common would run it: sourced.
# shellcheck source=scripts/openwrt/sipalg/files/sipalg.init
. "$files/sipalg.init"
# The real sipalgctl, run in the router's namespace.
SIPALGCTL=$SELFTEST_TMP/sipalgctl
printf '#!/bin/sh\nexec ip netns exec rtr %s "$@"\n' "$REPO/userspace/sipalgctl" >"$SIPALGCTL"
chmod +x "$SIPALGCTL"

# iface_is DEV "enabled mode malformed" (from sipalgctl show -j)
iface_is() {
	local got
	got=$(rtr "$REPO/userspace/sipalgctl" show -j "$1" |
		jq -r '.[0] | "\(.enabled) \(.mode) \(.malformed)"')
	echo "$1: $got"
	[ "$got" = "$2" ]
}

ktap_header 6
sipalg_load || ktap_diag "sipalg does not load"
topo_setup || ktap_diag "topology setup failed"

cp "$files/sipalg.config" "$UCI_CONFIG_DIR/sipalg"
start_service
ktap_check "shipped config: network wan -> wan0 enabled, rewrite, pass" \
	iface_is wan0 "true rewrite pass"

cat >"$UCI_CONFIG_DIR/sipalg" <<'CFG'
config interface 'wan'
	option network 'wan'
	option enabled '0'

config interface 'pbx'
	option device 'lan0'
	option network 'wan'
	option mode 'pinhole'
	option malformed 'drop'

config interface 'vpn'
	option network 'vpn'
CFG
start_service
ktap_check "enabled 0 disables wan0" iface_is wan0 "false null null"
ktap_check "device wins over network; mode pinhole, malformed drop on lan0" \
	iface_is lan0 "true pinhole drop"
ktap_check "a network without a device is logged and skipped" \
	grep -q "section 'vpn': no device" "$SELFTEST_TMP/syslog"

cat >"$UCI_CONFIG_DIR/sipalg" <<'CFG'
config interface 'wan'
	option network 'wan'
	option mode 'bogus'
CFG
start_service
ktap_check "a bad mode is refused by sipalgctl, logged, and changes nothing" \
	bash -c "grep -q \"section 'wan': cannot enable wan0\" '$SELFTEST_TMP/syslog' &&
		 $(declare -f iface_is); REPO='$REPO'; rtr() { ip netns exec rtr \"\$@\"; };
		 iface_is wan0 'false null null'"

cp "$files/sipalg.config" "$UCI_CONFIG_DIR/sipalg"
start_service
stop_service
ktap_check "stop disables what the config enabled" iface_is wan0 "false null null"
ktap_finish
