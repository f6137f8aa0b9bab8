#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# sipalg.ko loads and unloads 20 times in a row; after every load its
# conntrack helper "sipalg" resolves for UDP and TCP, IPv4 and IPv6; the
# module logs nothing of its own and the kernel log stays clean; nftables
# loads the module on demand through its nfct-helper-sipalg alias.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod nft

ROUNDS=20

# An nftables ct helper object only resolves when the helper is registered
# for that protocol and family.
helper_resolves() {
	nft -f - <<-'EOT' && nft delete table inet sipalg_probe
		table inet sipalg_probe {
			ct helper udp4 { type "sipalg" protocol udp; l3proto ip; }
			ct helper udp6 { type "sipalg" protocol udp; l3proto ip6; }
			ct helper tcp4 { type "sipalg" protocol tcp; l3proto ip; }
			ct helper tcp6 { type "sipalg" protocol tcp; l3proto ip6; }
		}
	EOT
}

test_cleanup() {
	nft delete table inet sipalg_probe 2>/dev/null
}

ktap_header 6
sipalg_unload
klog_mark "load/unload $ROUNDS times"

# Each kind of failure is reported once, in the first round it happens.
said=
say_once() {
	case " $said " in *" $1 "*) return ;; esac
	said="$said $1"
	ktap_diag "round $2: $3"
}

loaded=0 resolved=0 unloaded=0
for i in $(seq "$ROUNDS"); do
	if ! err=$(sipalg_load 2>&1) || ! sipalg_loaded; then
		say_once load "$i" "load failed: $err"
		continue
	fi
	loaded=$((loaded + 1))
	if err=$(helper_resolves 2>&1); then
		resolved=$((resolved + 1))
	else
		say_once resolve "$i" "helper sipalg does not resolve: $err"
	fi
	if sipalg_unload && ! sipalg_loaded; then
		unloaded=$((unloaded + 1))
	else
		say_once unload "$i" "unload failed"
	fi
done

ktap_check "sipalg.ko loaded $loaded/$ROUNDS times" test "$loaded" -eq "$ROUNDS"
ktap_check "helper sipalg resolved for udp+tcp, ip+ip6 after $resolved/$ROUNDS loads" \
	test "$resolved" -eq "$ROUNDS"
ktap_check "sipalg.ko unloaded $unloaded/$ROUNDS times" test "$unloaded" -eq "$ROUNDS"

log=$(klog_since_mark)
own=$(grep 'sipalg' <<<"$log" | grep -vE 'taints kernel|tainting kernel|selftest ')
ktap_check "the module logged nothing of its own" test -z "$own"
[ -z "$own" ] || ktap_diag <<<"$own"
bad=$(klog_bad "$log")
ktap_check "kernel log clean over $ROUNDS rounds" test -z "$bad"
[ -z "$bad" ] || ktap_diag <<<"$bad"

# The module is not loaded; asking nftables for the helper loads it.
sipalg_unload
helper_resolves >/dev/null 2>&1
ktap_check "nftables loads sipalg on demand (alias nfct-helper-sipalg)" sipalg_loaded

ktap_finish
