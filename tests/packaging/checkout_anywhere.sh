#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A checkout works wherever it is cloned.  A copy of this one (with what
# `make` built) under /tmp, where many people and CI systems clone and where
# the guest mounts a fresh tmpfs, boots in scripts/vm: the command runs in
# the copy and loads the copy's sipalg.ko, and the guest's /tmp is still
# its own.  A checkout the VM cannot serve (white space in its path) is
# refused by make demo and make check with one line naming the reason,
# before anything is built.  Runs on the host, one VM boot; KTAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
tmp=$(mktemp -d /tmp/sipalg-anywhere.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/packaging/ktap.sh
source tests/packaging/ktap.sh

# copy DIR: this checkout's files and build products, without build/
copy() {
	mkdir -p "$1"
	tar -C "$repo" --exclude=./.git --exclude=build -cf - . | tar -C "$1" -xf -
}

echo "KTAP version 1"
echo "1..3"

clone=$tmp/sipalg
copy "$clone"
echo "a host file beside the checkout" >"$tmp/beside"
# shellcheck disable=SC2016 # expanded in the guest
guest='echo "pwd $(pwd -P)"
echo "module $(modprobe sipalg && readlink -f "$(modinfo -n sipalg)")"
if [ -e "$1" ]; then echo "beside visible"; else echo "beside hidden"; fi
if touch /tmp/written; then echo "tmp writable"; fi'
"$clone/scripts/vm" --timeout 600 -- bash -c "$guest" guest "$tmp/beside" >"$tmp/vm.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qx "pwd $clone" "$tmp/vm.out" &&
	grep -qx "module $clone/sipalg.ko" "$tmp/vm.out"; then
	ok "scripts/vm in a checkout under /tmp runs the command there and loads its sipalg.ko"
else
	not_ok "scripts/vm in a checkout under /tmp runs the command there and loads its sipalg.ko (exit $rc)" "$tmp/vm.out"
fi
if grep -qx "beside hidden" "$tmp/vm.out" && grep -qx "tmp writable" "$tmp/vm.out"; then
	ok "the guest's /tmp is a fresh tmpfs: only the checkout is bound back into it"
else
	not_ok "the guest's /tmp is a fresh tmpfs: only the checkout is bound back into it" "$tmp/vm.out"
fi

spaced="$tmp/with space/sipalg"
mkdir -p "$spaced"
cp -r Makefile scripts "$spaced/"
refused=1
for target in demo check; do
	make -C "$spaced" --no-print-directory "$target" >"$tmp/make.out" 2>&1 && refused=0
	grep -q "^vm: the checkout's path must not contain white space" "$tmp/make.out" || refused=0
	[ "$(grep -c '^vm:' "$tmp/make.out")" = 1 ] || refused=0
done
if [ $refused = 1 ] && [ ! -e "$spaced/build" ] && [ ! -e "$spaced/sipalg.ko" ]; then
	ok "make demo and make check refuse a checkout with white space in its path in one line, building nothing"
else
	not_ok "make demo and make check refuse a checkout with white space in its path in one line, building nothing" "$tmp/make.out"
fi
[ $failed = 0 ]
