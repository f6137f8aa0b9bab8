# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# KTAP result lines for the host-side tests of tests/packaging, sourced:
# they count in n and failed.
n=0 failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

# not_ok DESCRIPTION LOG: the result line, then LOG's last lines as comments
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$2" | tail -20
}
