#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# The ports= module parameter: a comma list of 1 to 8 distinct ports in
# 1..65535 (default 5060).  An invalid list refuses to load (-EINVAL) with
# exactly one kernel log line that names the offending value; a valid one
# loads and reads back from sysfs.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe rmmod

# value given to ports=, the text the log line must quote
BAD=(
	"70000|\"70000\""
	"65536|\"65536\""
	"0|\"0\""
	"abc|\"abc\""
	"-1|\"-1\""
	"5060;5061|\"5060;5061\""
	"5060,,5061|\"\""
	"|ports=\"\""
	"5060,5061,5060|port 5060 is listed twice"
	"1,2,3,4,5,6,7,8,9|\"9\""
)
GOOD=("5060,5061" "1,65535" "5060,5061,5062,5063,5064,5065,5066,5067")

ktap_header $((${#BAD[@]} + ${#GOOD[@]} + 1))
sipalg_unload

# refused VALUE QUOTE: load fails with EINVAL, nothing stays loaded, and the
# module's log is one line that contains QUOTE.
refused() {
	local value=$1 quote=$2 err log lines
	sipalg_unload
	klog_mark "ports=$value"
	if err=$(sipalg_load "ports=$value" 2>&1); then
		echo "loaded with ports=$value (sysfs: $(cat /sys/module/sipalg/parameters/ports))"
		sipalg_unload
		return 1
	fi
	if sipalg_loaded; then
		echo "sipalg is loaded after a failed load"
		return 1
	fi
	grep -q 'Invalid argument' <<<"$err" || {
		echo "load failed, but not with EINVAL: $err"
		return 1
	}
	log=$(klog_since_mark | grep 'sipalg' | grep -vE 'taints kernel|tainting kernel|selftest ')
	lines=$(grep -c . <<<"$log")
	echo "kernel log: $log"
	[ "$lines" -eq 1 ] || { echo "expected 1 line, got $lines"; return 1; }
	grep -qF "$quote" <<<"$log" || { echo "the line does not name $quote"; return 1; }
}

for entry in "${BAD[@]}"; do
	value=${entry%%|*}
	quote=${entry#*|}
	ktap_check "ports=$value refused with one log line naming $quote" refused "$value" "$quote"
done

# accepted VALUE: loads, sysfs shows VALUE, unloads.
accepted() {
	local value=$1 err shown
	sipalg_unload
	err=$(sipalg_load ${value:+"ports=$value"} 2>&1) || { echo "$err"; return 1; }
	shown=$(cat /sys/module/sipalg/parameters/ports)
	sipalg_unload || return 1
	[ "$shown" = "${value:-5060}" ] || { echo "sysfs shows ports=$shown"; return 1; }
}

for value in "${GOOD[@]}"; do
	ktap_check "ports=$value loads" accepted "$value"
done
ktap_check "ports defaults to 5060" accepted ""

ktap_finish
