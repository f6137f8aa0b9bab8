#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# The kernel under attack: hostile SIP through the real router path.
#
# Every message of tests/corpus/ (inputs and expected outputs), of the
# fuzzers' crash reproducers and of the RFC 4475/5118 torture corpus, and
# HOSTILE_MUTANTS seeded mutations of them (truncated, bytes flipped, NUL
# and bare CR inserted, a header of up to 60 KiB, a huge Content-Length, a
# body grown to 64 KiB so the datagram crosses rtr in IP fragments), are
# sent through rtr (sipalg enabled on wan0) from the phone to the peer and
# back, over UDP and TCP, IPv4 and IPv6, in each mode (rewrite, pinhole)
# and malformed action (pass, drop).  hostile_traffic.py sends them and
# checks what arrives against `sipalgctl rewrite`, the same parser and
# planner offline, and rtr's counters against what was sent.  The phone is
# 192.168.1.2:5060 and [2001:db8:0:1::2]:5060 and rtr translates it to
# 203.0.113.100 and 2001:db8:ffff::1: the addresses the corpus writes, so
# that its messages are rewritten.
#
# Then the sipalg generic netlink family under malformed requests
# (genl_hostile.py); last, the kernel log stays clean.
#
# The seed is printed.  SEED=N replays a run; without it the seed is
# 31337, so that make check is the same run every time (a seed that once
# found a module defect); SEED=random draws a new one (make check-hostile
# does, to explore).  HOSTILE_MUTANTS (default 80) is the number of
# mutations; HOSTILE_FILES, when not 0 (the default: every file), sends a
# seeded sample of that many of the corpora's files.  The same on the
# debug kernel: the messages are the point there, and it only takes
# longer (several minutes instead of one).
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require modprobe nft conntrack python3 capsh

# The RFC 4475/5118 torture messages.
TORTURE_DIR=${TORTURE_DIR:-$REPO/tests/corpus/rfc}
SEED=${SEED:-31337}
[ "$SEED" != random ] || SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
: "${HOSTILE_MUTANTS:=80}" "${HOSTILE_FILES:=0}"
SEEDS=("$REPO/tests/corpus" "$REPO/tests/fuzz/crashes" "$TORTURE_DIR")
# HOSTILE_RUNS: an extended regular expression; only the runs
# ("TRANSPORT FAMILY MODE MALFORMED", e.g. "tcp 6 rewrite drop") it matches.
RUNS=()
RESULTS=0
for transport in udp tcp; do
	for family in 4 6; do
		for mode in rewrite pinhole; do
			for malformed in pass drop; do
				r="$transport $family $mode $malformed"
				grep -qE "${HOSTILE_RUNS:-.}" <<<"$r" || continue
				RUNS+=("$r")
				# UDP: bytes, counters; TCP: each way, counters.
				if [ "$transport" = udp ]; then
					RESULTS=$((RESULTS + 2))
				else
					RESULTS=$((RESULTS + 3))
				fi
			done
		done
	done
done

ktap_header $((1 + RESULTS + 2 + 1))
sipalg_unload
klog_mark "hostile"
ktap_diag "SEED=$SEED HOSTILE_MUTANTS=$HOSTILE_MUTANTS HOSTILE_FILES=$HOSTILE_FILES (set them to replay)"

setup() {
	local d
	for d in "${SEEDS[@]}"; do
		[ -d "$d" ] || { echo "no corpus at $d"; return 1; }
	done
	sipalg_load || { echo "sipalg does not load"; return 1; }
	topo_setup || { echo "topology setup failed"; return 1; }
	ip -n lan addr add 2001:db8:0:1::2/64 dev eth0 nodad || return 1
	ip -n rtr addr add 2001:db8:0:1::1/64 dev lan0 nodad || return 1
	ip -n rtr addr add 203.0.113.100/24 dev wan0 || return 1
	ip -n rtr addr add 2001:db8:ffff::1/128 dev wan0 nodad || return 1
	ip -n wan route add 2001:db8:ffff::1/128 via 2001:db8:1::1 || return 1
	# Before lib.sh's masquerade: the corpus's public addresses.
	rtr nft -f - <<-'EOF' || return 1
		table inet hostile {
			chain postrouting {
				type nat hook postrouting priority srcnat - 1; policy accept;
				oifname "wan0" ip saddr 192.168.1.2 snat ip to 203.0.113.100
				oifname "wan0" ip6 saddr 2001:db8:0:1::2 snat ip6 to 2001:db8:ffff::1
			}
		}
	EOF
	rtr "$REPO/userspace/sipalgctl" enable wan0
}
ktap_check_here "router with sipalg on wan0, the phone at the corpus's addresses" setup

# hostile_traffic.py's results as KTAP lines.
runs=$(printf '%s\n' "${RUNS[@]}" | tr ' ' : | paste -sd,)
python3 "$SELFTEST_DIR/hostile_traffic.py" "$SEED" "$HOSTILE_MUTANTS" "$HOSTILE_FILES" "$runs" "${SEEDS[@]}" \
	>"$SELFTEST_TMP/runs.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok "*) ktap_ok "${line#ok }" ;;
	"not ok "*) ktap_fail "${line#not ok }" ;;
	"# "*) ktap_diag "${line#\# }" ;;
	*) ktap_diag "$line" ;;
	esac
done <"$SELFTEST_TMP/runs.out"
ktap_diag "in all: $(awk '/^# sent / { n += $7 } END { print n + 0 }' "$SELFTEST_TMP/runs.out") messages sent"

# ------------------------------------------- the generic netlink family

genl() {
	rtr python3 "$SELFTEST_DIR/genl_hostile.py" "$@"
}
ktap_check "netlink: malformed requests are refused with an extack message and change nothing" \
	genl malformed
ktap_check "netlink: without CAP_NET_ADMIN every change is refused and changes nothing" \
	rtr capsh --drop=cap_net_admin -- -c "python3 $SELFTEST_DIR/genl_hostile.py unprivileged"

ktap_check_klog

ktap_finish
