#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS, as a gateway uses it: `dkms add` the source tree, `dkms build` and
# `dkms install` against the installed Debian kernel headers, then the
# module is where modprobe looks (updates/dkms) and is the one we built;
# `dkms remove` takes it away again.  Runs on the host (no module is
# loaded); KTAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1

kver=${KVER:-$(scripts/kver)}
name=sipalg
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
work=
# shellcheck source=tests/packaging/ktap.sh
source tests/packaging/ktap.sh

cleanup() {
	dkms remove "$name/$version" --all >/dev/null 2>&1
	rm -rf "/usr/src/$name-$version" ${work:+"$work"}
}

check() {
	local desc=$1
	shift
	if "$@" >"$work/out" 2>&1; then ok "$desc"; else not_ok "$desc" "$work/out"; fi
}

echo "TAP version 13"
if ! command -v dkms >/dev/null || [ ! -d "/lib/modules/$kver/build" ]; then
	echo "1..0 # SKIP dkms or the headers of $kver are not installed (scripts/deps)"
	exit 4
fi
echo "1..6"
# /usr/src/$name-$version, dkms's tree and /lib/modules are the machine's,
# not the checkout's: two runs at once (two checkouts, make check beside a
# mutant run) take turns, and the cleanup is armed only once it is ours.
exec 9>"/run/lock/$name-dkms.lock"
if ! flock -w 1800 9; then
	echo "Bail out! another dkms.sh has held /run/lock/$name-dkms.lock for 30 minutes"
	exit 1
fi
trap cleanup EXIT
# A leftover from an interrupted run would make `dkms add` refuse.
cleanup
work=$(mktemp -d)

# dkms add copies the tree; give it exactly what a release tarball holds.
mkdir -p "/usr/src/$name-$version"
cp -r dkms.conf Kbuild kmod "/usr/src/$name-$version/"
check "dkms add $name/$version" dkms add "$name/$version"
check "dkms build -k $kver" dkms build "$name/$version" -k "$kver"
check "dkms install -k $kver" dkms install "$name/$version" -k "$kver" --force
installed=$(find "/lib/modules/$kver/updates/dkms" -name "$name.ko*" 2>/dev/null | head -1)
check "the module is in /lib/modules/$kver/updates/dkms" test -n "$installed"
check "modinfo: it is sipalg, GPL, with its parameters" \
	bash -c "modinfo '$installed' | grep -q '^license: *GPL' &&
		 modinfo -F parm '$installed' | grep -q '^ports:'"
check "dkms remove leaves nothing installed" bash -c \
	"dkms remove '$name/$version' --all &&
	 ! find '/lib/modules/$kver/updates/dkms' -name '$name.ko*' 2>/dev/null | grep -q ."
exit $((failed > 0))
