#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317
#
# `make install` on a gateway, played in the VM against the guest kernel:
# the host root (read-only here) gets a writable overlay, the install runs
# chrooted into it, and then plain `modprobe sipalg` loads the installed
# module; `make uninstall` takes everything away again.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe depmod make

root=$SELFTEST_TMP/root
repo=$(cd "$(dirname "$0")/../.." && pwd)
kver=$(uname -r)

test_cleanup() {
	in_root rmmod sipalg 2>/dev/null
	umount -R "$root" 2>/dev/null
}

in_root() {
	chroot "$root" "$@"
}

make_root() {
	mkdir -p "$SELFTEST_TMP/upper" "$SELFTEST_TMP/work" "$root" &&
		mount -t overlay overlay -o \
			"lowerdir=/,upperdir=$SELFTEST_TMP/upper,workdir=$SELFTEST_TMP/work" \
			"$root" &&
		mount -t proc proc "$root/proc" &&
		mount -t sysfs sys "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		mount -t tmpfs tmpfs "$root/tmp" &&
		repo_in_root &&
		kernel_in_root
}

# A checkout under /tmp is hidden by the root's own /tmp: bound back.
repo_in_root() {
	[ ! -d "$root$repo" ] || return 0
	mkdir -p "$root$repo" && mount --bind "$repo" "$root$repo"
}

# A kernel the host does not have installed (scripts/debug-kernel's) gets
# its /lib/modules/<ver> in the writable root as an installed kernel has:
# its modules and their lists.
kernel_in_root() {
	local dir=$root/lib/modules/$kver f
	[ ! -d "$dir" ] || return 0
	mkdir -p "$dir/kernel" &&
		mount --bind "/lib/modules/$kver/kernel" "$dir/kernel" || return 1
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "/lib/modules/$kver/$f" "$dir/" || return 1
	done
}

ktap_header 6
sipalg_unload
ktap_check "a writable root over the host's" make_root
ktap_check "make install (module, depmod, sipalgctl, man page)" \
	in_root make -C "$repo" --no-print-directory install KVER="$kver" MODULE_KO="$SIPALG_KO"
ktap_check "modprobe sipalg loads /lib/modules/$kver/updates/sipalg.ko" \
	bash -c "chroot '$root' modprobe sipalg &&
		 grep -q '^sipalg ' /proc/modules &&
		 chroot '$root' modinfo -n sipalg | grep -qx '/lib/modules/$kver/updates/sipalg.ko'"
completion=/usr/share/bash-completion/completions/sipalgctl
ktap_check "sipalgctl, its man page and its bash completion are installed" \
	bash -c "chroot '$root' sipalgctl --version &&
		 chroot '$root' man -w sipalgctl &&
		 test -f '$root$completion'"
rmmod sipalg 2>/dev/null
ktap_check "make uninstall" in_root make -C "$repo" --no-print-directory uninstall KVER="$kver"
ktap_check "after uninstall neither modprobe, the tool, man nor completion find sipalg" \
	bash -c "! chroot '$root' modprobe -n sipalg 2>/dev/null &&
		 ! chroot '$root' sh -c 'command -v sipalgctl' &&
		 ! chroot '$root' man -w sipalgctl 2>/dev/null &&
		 ! test -e '$root$completion'"
ktap_finish
