#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/arch/run.sh [ARCH...]
#
# The core on the architectures routers run: mips (big-endian, 32-bit),
# mipsel, armhf and arm64 (default: all four).  For each, the core's unit
# tests, the offline sipalgctl and the replay tool are cross-built
# statically (tests/arch/Makefile) and run under qemu-user:
#   - the core's unit tests (tests/unit/test_core.c) over tests/corpus and
#     the RFC torture corpus;
#   - the CLI tests (tests/unit/cli_test.sh) with that sipalgctl;
#   - `sipalgctl parse`, `parse -j` and `rewrite` on every message of both
#     corpora: stdout, stderr and exit status byte-identical to the x86-64
#     build's;
#   - replay (tests/arch/replay.c) of the fuzzers' corpora (tests/fuzz:
#     crashes/, and build/seeds and build/corpus-* when the fuzz layer made
#     them) and both corpora: verdicts, offsets, descriptions, plans and
#     output bytes identical to the x86-64 build's.
# A missing cross compiler or qemu-user is a "# SKIP" naming the Debian
# package to install.
#
# KTAP on stdout, one line per architecture and check; exit 1 if any failed.
# Environment: TORTURE, the RFC 4475/5118 corpus (default ../shared/corpus
# next to the repository, as tests/unit).
set -u

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
corpus=$repo/tests/corpus
torture=${TORTURE:-$repo/../shared/corpus}
out=$here/build

# name, target triplet (compiler prefix), qemu-user binary
table="mips mips-linux-gnu qemu-mips-static
mipsel mipsel-linux-gnu qemu-mipsel-static
armhf arm-linux-gnueabihf qemu-arm-static
arm64 aarch64-linux-gnu qemu-aarch64-static"

arches=("$@")
[ ${#arches[@]} -gt 0 ] || mapfile -t arches < <(cut -d' ' -f1 <<<"$table")
CHECKS=4

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "not ok $n - $1"
	[ -z "${2:-}" ] || while IFS= read -r l; do echo "# $l"; done <<<"$2"
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# messages: the inputs of the CLI comparison and their torture subset
messages=("$corpus"/*.sip)
torture_dirs=()
if [ -d "$torture" ]; then
	for d in "$torture"/*/; do
		[ -n "$(find "$d" -maxdepth 1 -name '*.dat' -print -quit)" ] &&
			torture_dirs+=("${d%/}")
	done
	for d in "${torture_dirs[@]}"; do messages+=("$d"/*.dat); done
fi

# cli_outputs CTL DIR: what sipalgctl (a command line, word-split) prints
# for every message into DIR/<k>.{out,err,rc}: each corpus case's rewrite,
# then parse and parse -j of every message, and a rewrite of the torture
# messages with a fixed translation.
cli_outputs() {
	local ctl=$1 dir=$2 k=0 name file args _ m
	mkdir -p "$dir"
	run() {
		k=$((k + 1))
		# shellcheck disable=SC2086
		$ctl "$@" >"$dir/$k.out" 2>"$dir/$k.err"
		echo "$? $*" >"$dir/$k.rc"
	}
	while IFS=$'\t' read -r name file args _; do
		case $name in '#'* | '') continue ;; esac
		# shellcheck disable=SC2086
		run rewrite $args "$corpus/$file"
	done <"$corpus/cases.tsv"
	for m in "${messages[@]}"; do
		run parse "$m"
		run parse -j "$m"
		case $m in
		*.dat) run rewrite --internal 192.168.1.2 --external 203.0.113.100 "$m" ;;
		esac
	done
}

replay_dirs=("$corpus" "${torture_dirs[@]}")
for d in "$repo/tests/fuzz/crashes" "$repo"/tests/fuzz/build/seeds "$repo"/tests/fuzz/build/corpus-*; do
	[ -d "$d" ] && replay_dirs+=("$d")
done
n_inputs=$(find "${replay_dirs[@]}" -maxdepth 1 -type f ! -name '.*' | wc -l)

echo "KTAP version 1"
echo "1..$((${#arches[@]} * CHECKS + 1))"
if [ ${#torture_dirs[@]} -gt 0 ]; then
	ok "arch: RFC torture corpus at $torture"
else
	skip "arch: RFC torture corpus" "not found at $torture (TORTURE=)"
fi

# the reference: the same programs built for this machine
ref=$out/x86_64
if ! err=$(make -C "$here" --no-print-directory -s NAME=x86_64 2>&1); then
	not_ok "arch: x86-64 reference build" "$err"
	exit 1
fi
rm -rf "$ref/cli" && cli_outputs "$ref/sipalgctl" "$ref/cli"
"$ref/replay" "${replay_dirs[@]}" >"$ref/replay.txt"

for a in "${arches[@]}"; do
	read -r _ triplet qemu < <(grep "^$a " <<<"$table")
	if [ -z "${triplet:-}" ]; then
		not_ok "arch $a: unknown architecture (known: $(cut -d' ' -f1 <<<"$table" | xargs))"
		continue
	fi
	missing=
	command -v "$triplet-gcc" >/dev/null || missing="gcc-$triplet"
	if [ -z "$missing" ] && [ ! -f "$("$triplet-gcc" -print-file-name=libc.a)" ]; then
		missing="libc6-dev-$a-cross"
	fi
	command -v "$qemu" >/dev/null || missing="${missing:+$missing }qemu-user-static"
	if [ -n "$missing" ]; then
		for c in "unit tests" "cli tests" "sipalgctl output" "fuzz corpora replay"; do
			skip "arch $a: $c" "no cross toolchain; install: ${missing}"
		done
		continue
	fi
	bin=$out/$a
	if ! err=$(make -C "$here" --no-print-directory -s NAME="$a" CROSS="$triplet-" 2>&1); then
		for c in "unit tests" "cli tests" "sipalgctl output" "fuzz corpora replay"; do
			not_ok "arch $a: $c" "build failed: $err"
		done
		continue
	fi

	if log=$("$qemu" "$bin/test_core" "$corpus" "$torture" 2>&1); then
		ok "arch $a: core unit tests ($(grep -c '^ok' <<<"$log") passed)"
	else
		not_ok "arch $a: core unit tests" "$(grep -A1 '^not ok' <<<"$log" | head -n 40)"
	fi

	# cli_test.sh runs sipalgctl by path: a wrapper that runs it under qemu
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$qemu" "$bin/sipalgctl" >"$bin/sipalgctl-qemu"
	chmod +x "$bin/sipalgctl-qemu"
	if log=$("$repo/tests/unit/cli_test.sh" "$bin/sipalgctl-qemu" "$corpus" 2>&1); then
		ok "arch $a: cli tests ($(grep -c '^ok' <<<"$log") passed)"
	else
		not_ok "arch $a: cli tests" "$(grep -A1 '^not ok' <<<"$log" | head -n 40)"
	fi

	rm -rf "$bin/cli" && cli_outputs "$qemu $bin/sipalgctl" "$bin/cli"
	if diffs=$(diff -rq "$ref/cli" "$bin/cli" 2>&1); then
		ok "arch $a: sipalgctl parse/rewrite output identical to x86-64 ($(find "$bin/cli" -name '*.rc' | wc -l) runs, ${#messages[@]} messages)"
	else
		not_ok "arch $a: sipalgctl parse/rewrite output identical to x86-64" \
			"$(sed -n 's|.*/cli/\([0-9]*\)\..*|\1|p' <<<"$diffs" | sort -un | head -n 20 |
				while read -r k; do echo "differs: sipalgctl $(cut -d' ' -f2- "$bin/cli/$k.rc")"; done)"
	fi

	"$qemu" "$bin/replay" "${replay_dirs[@]}" >"$bin/replay.txt" 2>&1
	if cmp -s "$ref/replay.txt" "$bin/replay.txt"; then
		ok "arch $a: fuzz corpora replay identical to x86-64 ($n_inputs inputs)"
	else
		not_ok "arch $a: fuzz corpora replay identical to x86-64 ($n_inputs inputs)" \
			"$(diff "$ref/replay.txt" "$bin/replay.txt" | head -n 20)"
	fi
done

echo "# arch: $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
