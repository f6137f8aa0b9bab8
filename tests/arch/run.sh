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
#     output bytes identical to the x86-64 build's;
#   - for arm64, armhf and mips: sipalg.ko cross-built with W=1 and no
#     warning against the kernel tree scripts/arch-kernel prepares (once
#     per machine, cached outside the checkout), and modinfo and
#     the ELF header of the module show that tree's vermagic and the
#     architecture.
# A missing cross compiler or qemu-user is a "# SKIP" naming the Debian
# package to install.
#
# KTAP on stdout, one line per architecture and check; exit 1 if any failed.
# The RFC 4475/5118 torture corpus is tests/corpus/rfc (as for tests/unit).
set -u

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
corpus=$repo/tests/corpus
torture=$corpus/rfc
out=$here/build

# name, target triplet (compiler prefix), qemu-user binary, the ELF header
# of its module (readelf -h: Machine, Data; "-": the module is not built)
table="mips mips-linux-gnu qemu-mips-static MIPS_R3000,big_endian
mipsel mipsel-linux-gnu qemu-mipsel-static -
armhf arm-linux-gnueabihf qemu-arm-static ARM,little_endian
arm64 aarch64-linux-gnu qemu-aarch64-static AArch64,little_endian"

arches=("$@")
[ ${#arches[@]} -gt 0 ] || mapfile -t arches < <(cut -d' ' -f1 <<<"$table")
CHECKS=4
modules=0
for a in "${arches[@]}"; do
	grep -q "^$a .* -\$" <<<"$table" || modules=$((modules + 1))
done

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

# module_check ARCH ELF: sipalg.ko for ARCH, against scripts/arch-kernel's
# tree; ELF is "Machine,Data" as in the table.
module_check() {
	local a=$1 elf=$2 line kdir karch kcross dir=$out/$1/module release vermagic h
	local desc="arch $a: sipalg.ko cross-built (W=1)"
	mkdir -p "$out/$a"
	if ! line=$("$repo/scripts/arch-kernel" "$a" 2>"$out/$a/arch-kernel.log"); then
		not_ok "$desc" "scripts/arch-kernel $a failed: $(tail -n 20 "$out/$a/arch-kernel.log")"
		return
	fi
	read -r kdir karch kcross <<<"$line"
	if ! "$repo/scripts/cross-module" "$karch" "$kcross" "$kdir" "$dir" >"$out/$a/module.log" 2>&1; then
		not_ok "$desc" "$(tail -n 30 "$out/$a/module.log")"
		return
	fi
	if grep -qiE 'warning|error' "$out/$a/module.log"; then
		not_ok "$desc without warnings" "$(grep -iE -A3 'warning|error' "$out/$a/module.log" | head -n 40)"
		return
	fi
	release=$(cat "$kdir/include/config/kernel.release")
	vermagic=$(modinfo -F vermagic "$dir/sipalg.ko")
	# "Data: 2's complement, big endian", "Machine: MIPS R3000", as A_B
	h=$(LC_ALL=C readelf -h "$dir/sipalg.ko" |
		awk -F': +' '$1 ~ /Machine|Data/ { gsub(/ /, "_", $2); printf "%s ", $2 }')
	if [ "${vermagic%% *}" != "$release" ]; then
		not_ok "$desc" "vermagic \"$vermagic\", the tree is $release"
	elif [[ $h != *"${elf%,*}"* || $h != *"${elf#*,}"* ]]; then
		not_ok "$desc" "ELF header: $h; want ${elf/,/ }"
	else
		ok "$desc without warnings: vermagic \"$vermagic\"; ELF $h"
	fi
}

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
echo "1..$((${#arches[@]} * CHECKS + modules + 1))"
if [ ${#torture_dirs[@]} -gt 0 ]; then
	ok "arch: RFC torture corpus at $torture"
else
	not_ok "arch: RFC torture corpus" "not found at $torture"
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
	read -r _ triplet qemu elf < <(grep "^$a " <<<"$table")
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
		[ "$elf" = - ] || skip "arch $a: sipalg.ko" "no cross toolchain; install: ${missing}"
		continue
	fi
	bin=$out/$a
	if ! err=$(make -C "$here" --no-print-directory -s NAME="$a" CROSS="$triplet-" 2>&1); then
		for c in "unit tests" "cli tests" "sipalgctl output" "fuzz corpora replay"; do
			not_ok "arch $a: $c" "build failed: $err"
		done
		[ "$elf" = - ] || module_check "$a" "$elf"
		continue
	fi

	if log=$("$qemu" "$bin/test_core" "$corpus" 2>&1); then
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
	[ "$elf" = - ] || module_check "$a" "$elf"
done

echo "# arch: $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
