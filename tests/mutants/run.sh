#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/mutants/run.sh [--baseline | --applies] [NAME...]
#
# The mutation harness: evidence that each selftest fails when the
# behaviour it claims is broken.  tests/mutants/NAME.patch is a small patch
# (p1, against HEAD) that breaks one behaviour; its header lines, before
# the diff, say which:
#
#   Breaks: <the behaviour, one line>
#   Killed-by: tests/selftests/<test>.sh
#   Kernel: debug          (optional) a memory or locking bug only the
#                          debug kernel (scripts/debug-kernel) detects: the
#                          selftest runs there (make debug; scripts/vm
#                          --kernel debug), and then once on the stock
#                          kernel too, whose verdict is printed as a comment
#
# or, for a behaviour no VM test can see (e.g. big-endian only), a check
# that runs on the host in the mutant's tree, with its arguments:
#   Killed-by: tests/arch/run.sh mips
#
# For each mutant (default: all, in name order): HEAD is exported into a
# fresh directory (`git archive`: the working tree may hold someone else's
# uncommitted edits and is never used), the patch is applied, everything is
# built (make all) and the selftest runs in the VM of that directory
# (scripts/vm loads the sipalg.ko of the repository it sits in).  The
# mutant is killed when the selftest exits non-zero or prints a "not ok"
# line.  One VM at a time.
#
# --baseline   instead, run each selftest the chosen mutants name once on
#              unpatched HEAD: every one must pass, or a kill proves nothing
# --applies    instead, check in seconds, without a VM, that each mutant
#              has its header lines, names a test that exists and applies
#              to the working tree as it is (make check runs this, so that
#              a change to the code cannot leave a mutant behind unnoticed)
#
# KTAP on stdout; the logs of each run in build/mutants/logs/NAME.{build,vm}.log.
# Exit status 1 if a mutant survived, did not apply or did not build (or,
# with --baseline, a selftest failed on HEAD).
#
# Environment: MUTANTS_TMPDIR, where the exported trees go (default
# build/mutants in the repository; anywhere scripts/vm --check accepts);
# MUTANTS_VM_TIMEOUT (default 900 s).
set -u

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(git -C "$here" rev-parse --show-toplevel) || exit 2
mutdir=$repo/tests/mutants
work=${MUTANTS_TMPDIR:-$repo/build/mutants}
logs=$repo/build/mutants/logs
vm_timeout=${MUTANTS_VM_TIMEOUT:-900}

baseline=0
applies=0
case ${1:-} in
--baseline) baseline=1 && shift ;;
--applies) applies=1 && shift ;;
esac
case ${1:-} in
-h | --help)
	sed -n '4,/^set -u$/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
-*)
	echo "usage: $0 [--baseline | --applies] [NAME...]" >&2
	exit 2
	;;
esac

names=()
if [ $# -gt 0 ]; then
	for n in "$@"; do
		n=${n##*/}
		names+=("${n%.patch}")
	done
else
	for f in "$mutdir"/*.patch; do
		[ -e "$f" ] || continue
		n=${f##*/}
		names+=("${n%.patch}")
	done
fi
if [ ${#names[@]} = 0 ]; then
	echo "no mutants in $mutdir" >&2
	exit 2
fi

mkdir -p "$work" "$logs" || exit 2
tmp=
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
	tmp=
}
trap cleanup EXIT
trap 'echo "# interrupted" >&2; exit 130' INT TERM HUP

# header FILE KEY: the value of the first "KEY: value" line before the diff.
header() {
	sed -n "/^\(diff \|--- \)/q; s/^$2: *//p" "$1" | head -n1
}

# --applies: the working tree is only read (patch --dry-run).
if [ $applies = 1 ]; then
	echo "TAP version 13"
	echo "1..${#names[@]}"
	status=0
	k=0
	for n in "${names[@]}"; do
		k=$((k + 1))
		p=$mutdir/$n.patch
		t=$(header "$p" Killed-by)
		why=
		if [ -z "$t" ] || [ -z "$(header "$p" Breaks)" ]; then
			why="no Breaks: or Killed-by: line"
		elif [ ! -f "$repo/${t%% *}" ]; then
			why="its test ${t%% *} does not exist"
		elif ! err=$(patch -d "$repo" -p1 --dry-run --fuzz=0 --forward --batch <"$p" 2>&1); then
			printf '%s\n' "$err" | sed 's/^/# /'
			why="it no longer applies"
		fi
		if [ -n "$why" ]; then
			echo "not ok $k - mutant $n: $why"
			status=1
		else
			echo "ok $k - mutant $n applies"
		fi
	done
	exit "$status"
fi

# export_head: a fresh tree of HEAD in $tmp.
export_head() {
	cleanup
	tmp=$(mktemp -d "$work/tree.XXXXXX") || return 1
	case $tmp in
	*[[:space:]]*)
		echo "the work directory must not contain white space: $tmp"
		return 1
		;;
	esac
	git -C "$repo" archive HEAD | tar -x -C "$tmp"
}

# build NAME [KERNEL]: make all in $tmp (and make debug for the debug
# kernel), quietly; the log's tail on failure.
build() {
	local targets=(all)
	[ "${2:-}" != debug ] || targets+=(debug)
	if ! make -C "$tmp" --no-print-directory "${targets[@]}" >"$logs/$1.build.log" 2>&1; then
		tail -n 25 "$logs/$1.build.log"
		return 1
	fi
}

# run_test NAME TEST [KERNEL]: the selftest in the VM of $tmp (on the debug
# kernel with KERNEL debug, given three times the time); any other check
# runs on the host, in $tmp.  Sets RC and NOTOK (the names of the failing
# checks, " | "-separated: names hold ";").
run_test() {
	local log=$logs/$1.vm.log vm=(--timeout "$vm_timeout") cmd
	[ "${3:-}" != debug ] || vm=(--timeout $((3 * vm_timeout)) --kernel debug)
	read -ra cmd <<<"$2"
	case $2 in
	tests/selftests/*)
		(cd "$tmp" && ./scripts/vm "${vm[@]}" -- "${cmd[@]}") >"$log" 2>&1 ;;
	*) (cd "$tmp" && timeout "$vm_timeout" "./${cmd[0]}" "${cmd[@]:1}") >"$log" 2>&1 ;;
	esac
	RC=$?
	NOTOK=$(sed -n 's/^not ok [0-9]* - //p' "$log" | tr -d '\r' |
		awk 'NR > 1 { printf " | " } { printf "%s", $0 }')
}

# why RC: what a non-zero status of scripts/vm means.
why() {
	case $1 in
	3) echo "kernel log dirty, exit 3" ;;
	124) echo "timed out after $vm_timeout s" ;;
	125) echo "the VM failed" ;;
	*) echo "exit $1" ;;
	esac
}

echo "TAP version 13"
if [ $baseline = 1 ]; then
	tests=()
	for n in "${names[@]}"; do
		t=$(header "$mutdir/$n.patch" Killed-by)
		[ -n "$t" ] || { echo "# $n.patch: no Killed-by line" >&2; continue; }
		case " ${tests[*]} " in *" $t "*) ;; *) tests+=("$t") ;; esac
	done
	echo "1..${#tests[@]}"
	status=0
	if ! export_head >"$logs/baseline.export.log" 2>&1 || ! err=$(build baseline); then
		echo "# HEAD does not export or build:"
		cat "$logs/baseline.export.log" - <<<"${err:-}" | sed 's/^/# /'
		exit 1
	fi
	k=0
	for t in "${tests[@]}"; do
		k=$((k + 1))
		start=$SECONDS
		b=${t%% *}
		b=${b##*/}
		run_test "baseline-${b%.sh}" "$t"
		if [ "$RC" = 0 ] && [ -z "$NOTOK" ]; then
			echo "ok $k - HEAD passes $t ($((SECONDS - start)) s)"
		else
			echo "not ok $k - HEAD fails $t ($(why "$RC")${NOTOK:+; not ok: $NOTOK})"
			status=1
		fi
	done
	exit "$status"
fi

echo "1..${#names[@]}"
status=0
k=0
for n in "${names[@]}"; do
	k=$((k + 1))
	p=$mutdir/$n.patch
	if [ ! -f "$p" ]; then
		echo "not ok $k - $n: no $p"
		status=1
		continue
	fi
	t=$(header "$p" Killed-by)
	breaks=$(header "$p" Breaks)
	kernel=$(header "$p" Kernel)
	if [ -z "$t" ] || [ -z "$breaks" ]; then
		echo "not ok $k - $n: the patch has no Breaks: or Killed-by: line"
		status=1
		continue
	fi
	echo "# $n: breaks: $breaks"
	start=$SECONDS
	if ! export_head >"$logs/$n.export.log" 2>&1; then
		sed 's/^/# /' "$logs/$n.export.log"
		echo "not ok $k - $n: HEAD could not be exported"
		status=1
		continue
	fi
	if [ ! -x "$tmp/${t%% *}" ]; then
		echo "not ok $k - $n: ${t%% *} is not an executable test at HEAD"
		status=1
		continue
	fi
	if ! err=$(patch -d "$tmp" -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch <"$p" 2>&1); then
		printf '%s\n' "$err" | sed 's/^/# /'
		echo "not ok $k - $n: the patch no longer applies to HEAD ($(git -C "$repo" rev-parse --short HEAD))"
		status=1
		continue
	fi
	if ! err=$(build "$n" "$kernel"); then
		printf '%s\n' "$err" | sed 's/^/# /'
		echo "not ok $k - $n: the mutant does not build (build/mutants/logs/$n.build.log)"
		status=1
		continue
	fi
	if [ "$kernel" = debug ]; then
		run_test "$n-stock" "$t"
		if [ "$RC" != 0 ] || [ -n "$NOTOK" ]; then
			echo "# $n: on the stock kernel: killed too ($(why "$RC"))"
		else
			echo "# $n: on the stock kernel: survived (every check passed, kernel log clean)"
		fi
	fi
	run_test "$n" "$t" "$kernel"
	secs=$((SECONDS - start))
	if [ "$RC" = 125 ]; then
		tail -n 15 "$logs/$n.vm.log" | sed 's/^/# /'
		echo "not ok $k - $n: the VM failed, nothing was tested ($secs s)"
		status=1
	elif [ "$RC" != 0 ] || [ -n "$NOTOK" ]; then
		echo "ok $k - $n killed by $t (not ok: ${NOTOK:-none}; $(why "$RC"); $secs s)"
	else
		echo "not ok $k - $n survived $t ($secs s)"
		status=1
	fi
	cleanup
done
exit "$status"
