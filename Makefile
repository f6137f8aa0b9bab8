# SPDX-License-Identifier: GPL-2.0
#
# make              sipalg.ko (against KDIR) and the sipalgctl tool
# make W=1          the same with the kernel's extra warnings (must stay clean)
# make check        every test layer; the selftests run in one QEMU VM
# make demo         builds, boots the VM router and shows a call crossing the NAT
#                   with sipalg, with no ALG and with the in-tree helper
# make bench        the core's parser benchmark (tests/bench), then datagrams/s
#                   forwarded through the VM router with sipalg, the in-tree
#                   helper and none (tests/bench/forward)
# make mutants      the mutation harness (tests/mutants/run.sh): each patch in
#                   tests/mutants/ breaks one behaviour, is built from HEAD
#                   and must make its selftest fail in the VM; slow (a build
#                   and a VM per mutant), so not part of make check;
#                   MUTANTS="NAME..." runs only those
# make install      the module into /lib/modules/$(KVER)/updates (depmod),
#                   sipalgctl, its man page and bash completion (DESTDIR, PREFIX)
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

# How long make check lets the selftest VM run (seconds).
CHECK_VM_TIMEOUT ?= 3600
CHECK_LOGS := build/check

PREFIX ?= /usr
DESTDIR ?=
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates

REWRITE_BATCH := tests/selftests/build/rewrite_batch

.PHONY: all module userspace check demo bench mutants install uninstall clean help

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
	@scripts/deps
	@rm -rf $(CHECK_LOGS)
	@scripts/run-layer build -- $(MAKE) --no-print-directory all
	@if [ -f tests/unit/Makefile ]; then \
		scripts/run-layer unit -- $(MAKE) --no-print-directory -C tests/unit run; fi
	@if [ -f tests/fuzz/Makefile ]; then \
		scripts/run-layer fuzz -- $(MAKE) --no-print-directory -C tests/fuzz smoke; fi
	@scripts/run-layer --needs build packaging -- tests/packaging/dkms.sh
	@scripts/run-layer --needs build selftests -- \
		scripts/vm --timeout $(CHECK_VM_TIMEOUT) -- tests/selftests/run_all.sh
	@scripts/summary $(CHECK_LOGS)

# One mutant at a time, each in a fresh export of HEAD (never this working
# tree); KTAP, logs in build/mutants/logs.
mutants:
	@scripts/deps
	@tests/mutants/run.sh $(MUTANTS)

# depmod -b also works for a staging root (DESTDIR) that has the kernel's
# own modules.* files; without them the staging root gets its own index.
# install uses what `make` built (as root on a gateway: make && make install).
install:
	@test -f sipalg.ko -a -f userspace/sipalgctl || { echo "nothing built: run make first" >&2; exit 1; }
	install -D -m 0644 sipalg.ko $(MODDIR)/sipalg.ko
	depmod -b "$(or $(DESTDIR),/)" $(KVER)
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

uninstall:
	rm -f $(MODDIR)/sipalg.ko
	depmod -b "$(or $(DESTDIR),/)" $(KVER)
	$(MAKE) -C userspace uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

demo:
	@scripts/deps
	@$(MAKE) --no-print-directory -s all
	@scripts/vm --timeout 600 -- scripts/demo-guest.sh

bench:
	@scripts/deps
	@$(MAKE) --no-print-directory -s all
	$(MAKE) --no-print-directory -C tests/bench run
	$(MAKE) --no-print-directory -C tests/bench/forward run

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace clean
endif
	rm -rf build tests/selftests/build

help:
	@sed -n '3,/^$$/p' Makefile | sed 's/^# \{0,1\}//'
