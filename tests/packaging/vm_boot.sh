#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# How scripts/vm treats a guest that dies.  A guest that dies while
# booting, before it starts the command (here: the kernel is told to run
# an init that does not exist, and panics), has run none of this project's
# code: scripts/vm boots it once more, saying so, and then reports the
# crash (exit status 3).  A guest that dies after it started the command
# (here: the command crashes the kernel) is never run again: the command
# ran once, and the crash is reported.  A qemu that cannot start (here: a
# memory size it refuses) is not started again: scripts/vm reports the
# failed VM (exit status 125).  Runs on the host, three short VM boots;
# KTAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/packaging/ktap.sh
source tests/packaging/ktap.sh

# check NAME WANT_RC WANT_BOOTS WANT_PANICS WANT_RUNS: scripts/vm's exit
# status (rc), the times it started the guest, the guest's kernel panics
# and how many times the command ran (it prints "command ran")
check() {
	local boots panics runs
	boots=$((1 + $(grep -c '^vm: the guest died before it started the command' "$tmp/vm.out")))
	panics=$(grep -c 'Kernel panic' "$tmp/vm.out")
	runs=$(grep -cx 'command ran' "$tmp/vm.out")
	if [ "$rc" = "$2" ] && [ "$boots" = "$3" ] && [ "$panics" = "$4" ] &&
		[ "$runs" = "$5" ]; then
		ok "$1"
	else
		not_ok "$1 (exit $rc, $boots boots, $panics panics, $runs runs, want $2, $3, $4, $5)" \
			"$tmp/vm.out"
	fi
}

echo "KTAP version 1"
echo "1..3"

VM_APPEND="rdinit=/nonexistent" scripts/vm --timeout 120 -- echo "command ran" >"$tmp/vm.out" 2>&1
rc=$?
check "a guest that dies while booting is booted once more, then its crash reported" 3 2 2 0

scripts/vm --timeout 120 -- sh -c 'echo "command ran"; echo c >/proc/sysrq-trigger; sleep 60' \
	>"$tmp/vm.out" 2>&1
rc=$?
check "a guest that dies after it started the command is not run again" 3 1 1 1

VM_MEM=nonsense scripts/vm --timeout 120 -- echo "command ran" >"$tmp/vm.out" 2>&1
rc=$?
check "a qemu that cannot start is not started again: the VM failed (125)" 125 1 0 0
[ $failed = 0 ]
