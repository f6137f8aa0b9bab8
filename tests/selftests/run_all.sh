#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/selftests/run_all.sh [NAME.sh...]
#
# Runs every selftest (each executable tests/selftests/*.sh but this one),
# or the ones named (executable or not: make check's debug-kernel subset,
# make check-debug's every selftest and alg_hostile.sh), one after the
# other, and prints their KTAP as it comes.  What a test
# cannot say itself is added as a result line of its own: a test that
# failed without a "not ok" (crashed, timed out), a test that skipped as a
# whole, a test that left a process running (it is killed).  On a kernel
# with kmemleak (scripts/debug-kernel), sipalg is then unloaded and
# kmemleak must find nothing that leaked since the start.
# Last, the kernel log must be clean (docs/design.md invariant 6).
# Exit status 1 if any test failed.
#
# SELFTEST_TIMEOUT: seconds one test may take (default 600).
set -u
cd "$(dirname "$0")" || exit 1

pattern='WARNING:|BUG|Oops|general protection|KASAN|UBSAN|refcount_t|suspected memory leak|memory leak detector disabled|locking correctness validator|unregister_netdevice: waiting'
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

kmemleak=/sys/kernel/debug/kmemleak
[ -e "$kmemleak" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ -w "$kmemleak" ]; then
	# What the kernel leaked while booting is not ours: scan, and mark
	# every suspect found so far as seen.
	echo scan >"$kmemleak" && echo clear >"$kmemleak"
else
	kmemleak=
fi

if [ $# = 0 ]; then
	for t in *.sh; do
		[ "$t" = run_all.sh ] || [ ! -x "$t" ] || set -- "$@" "$t"
	done
fi
# left_running MARK: "PID ARGS" of each process whose environment holds
# SELFTEST_RUN=MARK: what a test started and did not stop, however far
# down (a background function's child) or away (a daemon) it went.
left_running() {
	local env pid
	for env in /proc/[0-9]*/environ; do
		grep -qzxF "SELFTEST_RUN=$1" "$env" 2>/dev/null || continue
		pid=${env#/proc/}
		pid=${pid%/environ}
		echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
}

for t in "$@"; do
	t=${t##*/}
	echo "# selftest: $t"
	start=$SECONDS
	mark=$t.$$.$start
	SELFTEST_RUN=$mark timeout -k 5 "${SELFTEST_TIMEOUT:-600}" bash "./$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "# selftest: $t: exit status $rc, $((SECONDS - start)) s"
	# A sender left running sends into the next test's namespaces, and
	# flips the next test's results.
	left=$(left_running "$mark")
	if [ -n "$left" ]; then
		printf '%s\n' "$left" | sed 's/^/# left running: /'
		echo "not ok 1 - $t stops every process it started"
		while read -r pid _; do
			kill -9 "$pid" 2>/dev/null
		done <<<"$left"
		status=1
	fi
	case $rc in
	0) ;;
	4)
		if ! grep -qE '^(not )?ok([ \t]|$)' "$out"; then
			reason=$(sed -n 's/^1\.\.0 # SKIP //p' "$out")
			echo "ok 1 - $t # SKIP ${reason:-skipped}"
		fi
		;;
	*)
		status=1
		grep -q '^not ok' "$out" ||
			echo "not ok 1 - $t exited with status $rc"
		;;
	esac
done

echo "# selftest: run_all.sh"
if [ -n "$kmemleak" ]; then
	# An object counts as a leak once it is 5 s old and unreferenced;
	# two scans, as kmemleak's documentation advises.
	unloaded=yes
	if grep -q '^sipalg ' /proc/modules && ! rmmod sipalg; then
		echo "# sipalg does not unload"
		unloaded=no
	fi
	sleep 6
	echo scan >"$kmemleak" && echo scan >"$kmemleak"
	leaks=$(cat "$kmemleak")
	if [ -z "$leaks" ] && [ $unloaded = yes ]; then
		echo "ok 1 - kmemleak: no leak after the selftests and unloading sipalg"
	else
		printf '%s\n' "$leaks" | head -n 200 | sed 's/^/# /'
		echo "not ok 1 - kmemleak: no leak after the selftests and unloading sipalg"
		status=1
	fi
fi
bad=$(dmesg | grep -E "$pattern")
if [ -z "$bad" ]; then
	echo "ok 1 - kernel log clean after all selftests"
else
	printf '%s\n' "$bad" | sed 's/^/# /'
	echo "not ok 1 - kernel log clean after all selftests"
	status=1
fi
exit $status
