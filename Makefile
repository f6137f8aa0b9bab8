# SPDX-License-Identifier: GPL-2.0
#
# make              sipalg.ko (against KDIR) and the sipalgctl tool
# make W=1          the same with the kernel's extra warnings (must stay clean)
# make check        every test layer; the selftests run in one QEMU VM per
#                   kernel, one after the other: every kernel series
#                   installed with headers (scripts/kver --all: Debian 12's
#                   6.1 and 6.12), each with its own build in build/kernel/
#                   (module-in); then,
#                   when the debug kernel is built (scripts/debug-kernel),
#                   the selftests of DEBUG_CHECK_SELFTESTS on it (else, or
#                   with CHECK_DEBUG=0, a KTAP SKIP that says why)
# make debug        sipalg.ko for the debug kernel (scripts/debug-kernel,
#                   which must have been run once), in build/debug
# make check-debug  make debug, then every selftest on the debug kernel,
#                   alg_hostile.sh too; any KASAN, KFENCE, kmemleak,
#                   lockdep, RCU or UBSAN report fails it
# make check-failover
#                   only the failover selftest (two routers synced by
#                   conntrackd, ha_failover.sh; make check runs it too)
# make check-hostile
#                   hostile traffic through the router (alg_hostile.sh, which
#                   make check runs with its fixed seed) with a new random
#                   seed, or SEED=N
# make arm64        sipalg.ko for the arm64 guest's Debian 6.12 kernel (cross-
#                   built against its headers in the root scripts/arm64-root
#                   builds and caches) and a static arm64 sipalgctl (tests/arch)
# make check-arm64  the ALG selftests (REGISTER, UDP call, TCP, IPv6) in the
#                   arm64 guest (scripts/vm --arch arm64); not part of make
#                   check (22 minutes here; README, "Tests")
# make demo         builds, boots the VM router and shows a call crossing the NAT
#                   with sipalg, with no ALG and with the in-tree helper
# make bench        the core's parser benchmark (tests/bench), then datagrams/s
#                   forwarded through the VM router with sipalg, the in-tree
#                   helper and none (tests/bench/forward), then how they
#                   scale: memory per registration and per call, messages/s
#                   with 10 and 10,000 live flows (tests/bench/scaling.png)
# make mutants      the mutation harness (tests/mutants/run.sh): each patch in
#                   tests/mutants/ breaks one behaviour, is built from HEAD
#                   and must make its selftest fail in the VM; slow (a build
#                   and a VM per mutant), so not part of make check;
#                   MUTANTS="NAME..." runs only those
# make install      the module into /lib/modules/$(KVER)/updates (depmod),
#                   sipalgctl, its man page and bash completion (DESTDIR, PREFIX;
#                   KVER=<debug kernel> MODULE_KO=build/debug/sipalg.ko)
# make uninstall
# make clean
#
# KDIR defaults to the newest /lib/modules/<ver>/build that has a matching
# /boot/vmlinuz-<ver> (the kernel scripts/vm boots).  On a gateway:
#   make KDIR=/lib/modules/$(uname -r)/build
# The module's sources are listed in Kbuild (every kmod/*.c and kmod/core/*.c).

KVER ?= $(shell scripts/kver)
KDIR ?= /lib/modules/$(KVER)/build

# Debian's headers ship no vmlinux, so modules get no BTF; say so once here
# instead of letting every build print "Skipping BTF generation".
ifeq ($(wildcard $(KDIR)/vmlinux),)
KBUILD_NO_BTF := CONFIG_DEBUG_INFO_BTF_MODULES=
endif

# How long make check lets the selftest VM run (seconds), and one selftest
# in it; the debug kernel is several times slower.
CHECK_VM_TIMEOUT ?= 3600
CHECK_DEBUG_VM_TIMEOUT ?= 10800
CHECK_DEBUG_TEST_TIMEOUT ?= 2400
CHECK_DEBUG ?= 1
# make check's share of the debug kernel (every selftest there takes over
# two hours, make check-debug): hostile traffic through the router, every
# corpus message and 80 mutations over UDP and TCP, IPv4 and IPv6, and
# malformed netlink requests, in several minutes.
DEBUG_CHECK_SELFTESTS ?= alg_hostile.sh
# make check-debug's: every selftest make check runs.
DEBUG_ALL_SELFTESTS = $(sort $(notdir $(shell find tests/selftests -maxdepth 1 \
	-name '*.sh' ! -name run_all.sh -perm -u+x)))
CHECK_LOGS := build/check
# The kernels make check runs the selftests on (default: the newest of each
# series, `scripts/kver --all`, asked only after scripts/deps has installed
# them: make expands a recipe before it runs any of its lines).
CHECK_KVERS ?=
# sipalg's sources, copied into DEBUG_BUILD for the debug kernel's build
# and into KERNEL_BUILDS/<series> for make check's kernels (module-in).
DEBUG_BUILD := build/debug
KERNEL_BUILDS := build/kernel

PREFIX ?= /usr
DESTDIR ?=
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates
# the module make install installs (build/debug/sipalg.ko for the debug kernel)
MODULE_KO ?= sipalg.ko

REWRITE_BATCH := tests/selftests/build/rewrite_batch

.PHONY: all module module-in userspace check check-arm64 arm64 check-failover check-hostile debug check-debug debug-layers demo bench mutants install uninstall clean help

all: module userspace $(REWRITE_BATCH)

module:
	@test -d "$(KDIR)" || { echo "no kernel build directory '$(KDIR)'; run scripts/deps or give KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_NO_BTF) modules

# userspace/ is built only once it exists.
userspace:
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace
endif

# sipalgctl rewrite's code for many messages in one process, for
# tests/selftests/alg_hostile.sh.
$(REWRITE_BATCH): tests/selftests/rewrite_batch.c userspace/rewrite.c userspace/rewrite.h \
		$(wildcard kmod/core/*.c kmod/core/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -Ikmod/core -Iuserspace -o $@ \
		tests/selftests/rewrite_batch.c userspace/rewrite.c $(sort $(wildcard kmod/core/*.c))

# Each layer's output goes to $(CHECK_LOGS)/<layer>.log; scripts/summary
# counts the KTAP result lines of all of them and prints the last line.
check:
	@scripts/vm --check
	@scripts/deps
	@rm -rf $(CHECK_LOGS)
	@scripts/run-layer build -- $(MAKE) --no-print-directory all
	@if [ -f tests/unit/Makefile ]; then \
		scripts/run-layer unit -- $(MAKE) --no-print-directory -C tests/unit run; fi
	@if [ -f tests/fuzz/Makefile ]; then \
		scripts/run-layer fuzz -- $(MAKE) --no-print-directory -C tests/fuzz smoke; fi
	@scripts/run-layer mutants -- tests/mutants/run.sh --applies
	@scripts/run-layer arch -- tests/arch/run.sh
	@scripts/run-layer --needs build packaging -- tests/packaging/dkms.sh
	@scripts/run-layer --needs build anywhere -- tests/packaging/checkout_anywhere.sh
	@scripts/run-layer --needs build vm-boot -- tests/packaging/vm_boot.sh
	@kvers="$(CHECK_KVERS)"; [ -n "$$kvers" ] || kvers=$$(scripts/kver --all); \
	for k in $$kvers; do \
		s=$$(echo "$$k" | cut -d. -f1,2); \
		scripts/run-layer build-$$s -- $(MAKE) --no-print-directory module-in \
			KVER=$$k MODULE_DIR=$(KERNEL_BUILDS)/$$s; \
		scripts/run-layer --needs build-$$s selftests-$$s -- \
			scripts/vm --module $(KERNEL_BUILDS)/$$s/sipalg.ko --timeout $(CHECK_VM_TIMEOUT) -- \
			tests/selftests/run_all.sh; \
	done
	@if [ "$(CHECK_DEBUG)" = 0 ]; then \
		scripts/run-layer selftests-debug -- sh -c \
			'echo "ok 1 - selftests on the debug kernel # SKIP left out by CHECK_DEBUG=0"'; \
	elif scripts/debug-kernel --dir >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory debug-layers \
			DEBUG_SELFTESTS="$(DEBUG_CHECK_SELFTESTS)"; \
	else \
		scripts/run-layer selftests-debug -- sh -c \
			'echo "ok 1 - selftests on the debug kernel # SKIP $$(scripts/debug-kernel --dir 2>&1)"'; \
	fi
	@scripts/summary $(CHECK_LOGS)

debug:
	@dir=$$(scripts/debug-kernel --dir) && \
	$(MAKE) --no-print-directory module-in MODULE_DIR=$(DEBUG_BUILD) KDIR="$$dir/build"

# sipalg.ko built in a copy of its sources in MODULE_DIR (Kbuild writes its
# objects next to the sources), so that builds for several kernels live side
# by side: make check's one per kernel, make debug's.
module-in:
	@test -n "$(MODULE_DIR)" || { echo "module-in needs MODULE_DIR=" >&2; exit 1; }
	@test -d "$(KDIR)" || { echo "no kernel build directory '$(KDIR)'; run scripts/deps or give KDIR=" >&2; exit 1; }
	@mkdir -p $(MODULE_DIR) && \
	find Kbuild kmod -name Kbuild -o -name '*.[ch]' | cpio --quiet -pdmu $(MODULE_DIR) && \
	find $(MODULE_DIR)/kmod -name '*.[ch]' | while read -r f; do \
		[ -e "$${f#$(MODULE_DIR)/}" ] || rm -f "$$f"; done
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODULE_DIR) $(KBUILD_NO_BTF) modules

check-debug:
	@scripts/deps
	@rm -rf $(CHECK_LOGS)
	@scripts/run-layer build -- $(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory debug-layers DEBUG_SELFTESTS="$(DEBUG_ALL_SELFTESTS)"
	@scripts/summary $(CHECK_LOGS)

# The debug kernel's layers, for make check and make check-debug: the
# selftests of DEBUG_SELFTESTS.
debug-layers:
	@scripts/run-layer build-debug -- $(MAKE) --no-print-directory debug
	@scripts/run-layer --needs build-debug selftests-debug -- \
		scripts/vm --kernel debug --timeout $(CHECK_DEBUG_VM_TIMEOUT) -- \
		env SELFTEST_TIMEOUT=$(CHECK_DEBUG_TEST_TIMEOUT) \
		tests/selftests/run_all.sh $(DEBUG_SELFTESTS)

# The arm64 router: the root (cached, built when absent), the module for
# its kernel, the selftests that carry a call through it.
ARM64_SELFTESTS ?= alg_register.sh alg_call_udp.sh alg_tcp.sh alg_ipv6.sh

# The root's kernel headers, seen from here (build/arm64/kdir): their
# Makefile includes the common headers by an absolute path, made one into
# the root; their build tools are arm64 programs, run by qemu-user with the
# root's libraries (QEMU_LD_PREFIX).
ARM64_KDIR := build/arm64/kdir

arm64:
	@root=$$(scripts/arm64-root) && kver=$$(ls "$$root/lib/modules") && \
	h=$$root/usr/src/linux-headers-$$kver && rm -rf $(ARM64_KDIR) && mkdir -p $(ARM64_KDIR) && \
	for f in .config .kernelvariables Module.symvers arch include scripts tools; do \
		ln -s "$$(readlink -f "$$h/$$f")" $(ARM64_KDIR)/$$f || exit 1; done && \
	sed "s|^include /|include $$root/|" "$$h/Makefile" >$(ARM64_KDIR)/Makefile && \
	QEMU_LD_PREFIX=$$root scripts/cross-module arm64 aarch64-linux-gnu- $(CURDIR)/$(ARM64_KDIR) \
		$(CURDIR)/build/arm64/module $(KBUILD_NO_BTF)
	@$(MAKE) --no-print-directory -C tests/arch NAME=arm64 CROSS=aarch64-linux-gnu-

check-arm64:
	@scripts/deps
	@rm -rf $(CHECK_LOGS)
	@scripts/run-layer build -- $(MAKE) --no-print-directory all arm64
	@scripts/run-layer --needs build selftests-arm64 -- \
		scripts/vm --arch arm64 --timeout $(CHECK_VM_TIMEOUT) -- \
		tests/selftests/run_all.sh $(ARM64_SELFTESTS)
	@scripts/summary $(CHECK_LOGS)

# The failover test alone (two routers synced by conntrackd; README,
# "Active/backup routers").
check-failover:
	@scripts/deps
	@$(MAKE) --no-print-directory -s all
	@scripts/vm --timeout 2400 -- bash tests/selftests/ha_failover.sh

# make check runs alg_hostile.sh with its fixed seed; this draws a new one.
check-hostile:
	@scripts/deps
	@$(MAKE) --no-print-directory -s all
	@scripts/vm --timeout 1800 -- env SEED=$${SEED:-random} tests/selftests/alg_hostile.sh

# One mutant at a time, each in a fresh export of HEAD (never this working
# tree); KTAP, logs in build/mutants/logs.
mutants:
	@scripts/deps
	@tests/mutants/run.sh $(MUTANTS)

# depmod -b also works for a staging root (DESTDIR) that has the kernel's
# own modules.* files; without them the staging root gets its own index.
# install uses what `make` built (as root on a gateway: make && make install).
install:
	@test -f $(MODULE_KO) -a -f userspace/sipalgctl || { echo "nothing built: run make first" >&2; exit 1; }
	install -D -m 0644 $(MODULE_KO) $(MODDIR)/sipalg.ko
	depmod -b "$(or $(DESTDIR),/)" $(KVER)
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

uninstall:
	rm -f $(MODDIR)/sipalg.ko
	depmod -b "$(or $(DESTDIR),/)" $(KVER)
	$(MAKE) -C userspace uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

demo:
	@scripts/vm --check
	@scripts/deps build demo
	@$(MAKE) --no-print-directory -s all
	@scripts/vm --timeout 600 -- scripts/demo-guest.sh

bench:
	@scripts/deps build demo bench
	@$(MAKE) --no-print-directory -s all
	$(MAKE) --no-print-directory -C tests/bench run
	$(MAKE) --no-print-directory -C tests/bench/forward run
	$(MAKE) --no-print-directory -C tests/bench/forward scale

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace clean
endif
	rm -rf build tests/selftests/build

help:
	@sed -n '3,/^$$/p' Makefile | sed 's/^# \{0,1\}//'
