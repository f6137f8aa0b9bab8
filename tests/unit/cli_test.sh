#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sipalgctl parse/rewrite as an operator uses them: exit codes, byte-exact
# stdout of rewrite, valid JSON from parse -j (checked with jq).
#   cli_test.sh SIPALGCTL CORPUS_DIR
# KTAP on stdout; exit 1 if any test failed.
set -u
CTL=$1
CORPUS=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "# $2"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # desc, then a command that must succeed
	local d=$1; shift
	if "$@" >"$TMP/check.out" 2>&1; then ok "$d"; else not_ok "$d" "$(head -c 300 "$TMP/check.out")"; fi
}

have_jq=1
command -v jq >/dev/null || have_jq=0

# The offline-only build (userspace NETLINK=0, tests/arch) has no set or
# enable: their checks are not planned for it.
limit_checks=10
"$CTL" set --help >/dev/null 2>&1 || limit_checks=0

rows=$(grep -v '^#' "$CORPUS/cases.tsv" | grep -c .)
echo "KTAP version 1"
echo "1..$((rows * 2 + 20 + limit_checks))"

# every corpus case through `rewrite` (stdout byte for byte, exit code) ...
while IFS=$'\t' read -r name file args verdict off expect _; do
	case $name in '#'*|'') continue ;; esac
	want_rc=1; [ "$verdict" = ok ] && want_rc=0
	# shellcheck disable=SC2086
	"$CTL" rewrite $args "$CORPUS/$file" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$expect" = "=" ]; then want="$CORPUS/$file"; else want="$CORPUS/$expect"; fi
	if [ $rc -ne $want_rc ]; then
		not_ok "cli rewrite $name" "exit $rc, want $want_rc: $(head -c 200 "$TMP/err")"
	elif ! cmp -s "$TMP/out" "$want"; then
		not_ok "cli rewrite $name" "stdout differs from $want"
	elif [ $rc -ne 0 ] && ! grep -q "malformed: $verdict at offset $off " "$TMP/err"; then
		not_ok "cli rewrite $name" "stderr: $(cat "$TMP/err")"
	else
		ok "cli rewrite $name"
	fi
done <"$CORPUS/cases.tsv"

# ... and through `parse -j` (valid JSON, verdict, exit code)
while IFS=$'\t' read -r name file args verdict off expect _; do
	case $name in '#'*|'') continue ;; esac
	if [ $have_jq = 0 ]; then skip "cli parse -j $name" "jq not installed"; continue; fi
	tcp=; case $args in *--tcp*) tcp=--tcp ;; esac
	want_rc=1; [ "$verdict" = ok ] && want_rc=0
	"$CTL" parse -j $tcp "$CORPUS/$file" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -ne $want_rc ]; then
		not_ok "cli parse -j $name" "exit $rc, want $want_rc"
	elif ! jq -e . "$TMP/out" >/dev/null 2>&1; then
		not_ok "cli parse -j $name" "invalid JSON"
	elif [ "$verdict" != ok ] && [ -z "$tcp" ] &&
	     [ "$(jq -r '.reason + " " + (.offset|tostring)' "$TMP/out")" != "$verdict $off" ]; then
		not_ok "cli parse -j $name" "JSON verdict $(jq -c . "$TMP/out" | head -c 200)"
	else
		ok "cli parse -j $name"
	fi
done <"$CORPUS/cases.tsv"

# usage and conventions
S="--internal 192.168.1.2 --external 203.0.113.100"
check "no arguments exits 2" bash -c "'$CTL'; [ \$? -eq 2 ]"
check "unknown command exits 2" bash -c "'$CTL' frobnicate; [ \$? -eq 2 ]"
check "--version" bash -c "'$CTL' --version | grep -q '^sipalgctl [0-9]'"
check "--help lists parse and rewrite" bash -c "'$CTL' --help | grep -q rewrite"
# -j/--json before the command, as ip -j: the same JSON as after it
check "parse -j before the command: the same bytes as after it" bash -c \
	"'$CTL' -j parse '$CORPUS/invite_sdp.sip' >'$TMP/before' && '$CTL' parse -j '$CORPUS/invite_sdp.sip' >'$TMP/after' && jq -e .verdict '$TMP/before' >/dev/null && cmp -s '$TMP/before' '$TMP/after'"
check "--json before a malformed parse: JSON verdict and exit 1" bash -c \
	"'$CTL' --json parse '$CORPUS/bare_lf.sip' >'$TMP/j'; [ \$? -eq 1 ] && [ \"\$(jq -r .verdict '$TMP/j')\" = malformed ]"
check "--help documents -j before the command" bash -c "'$CTL' --help | grep -q '^Usage: sipalgctl \\[-j|--json\\]'"
check "-j before a command that does not read (rewrite) exits 2 naming it" bash -c \
	"'$CTL' -j rewrite $S '$CORPUS/ack.sip' >'$TMP/o' 2>'$TMP/e'; [ \$? -eq 2 ] && [ ! -s '$TMP/o' ] && grep -q 'rewrite takes no -j' '$TMP/e'"
check "parse --help exits 0 with usage" bash -c "'$CTL' parse --help | grep -q 'Usage: sipalgctl parse'"
check "rewrite --help exits 0 with usage" bash -c "'$CTL' rewrite --help | grep -q 'Usage: sipalgctl rewrite'"
check "rewrite without --external exits 2" bash -c "'$CTL' rewrite --internal 192.168.1.2 '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "rewrite with a hostname address exits 2" bash -c "'$CTL' rewrite --internal pc.local --external 203.0.113.1 '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "rewrite with port 0 exits 2" bash -c "'$CTL' rewrite --internal 192.168.1.2:0 --external 203.0.113.1 '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "rewrite with mixed families exits 2" bash -c "'$CTL' rewrite --internal 192.168.1.2 --external [2001:db8::1] '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "bad --media-port exits 2" bash -c "'$CTL' rewrite $S --media-port 4000=70000 '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "bad --mode exits 2" bash -c "'$CTL' rewrite $S --mode nat '$CORPUS/ack.sip'; [ \$? -eq 2 ]"
check "missing file exits 2" bash -c "'$CTL' parse /nonexistent/x.sip; [ \$? -eq 2 ]"
check "stdin as -" bash -c "'$CTL' rewrite $S - <'$CORPUS/ack.sip' | cmp -s - '$CORPUS/expect/ack.out'"
check "parse human form names the top Via" bash -c "'$CTL' parse '$CORPUS/invite_sdp.sip' | grep -q 'via\[0\] UDP 192.168.1.2:5060'"
check "rewrite -v lists edits and pinholes on stderr only" bash -c \
	"'$CTL' rewrite -v $S --media-port 4000=40000 --media-port 4002=40002 '$CORPUS/invite_sdp.sip' 2>'$TMP/v' | cmp -s - '$CORPUS/expect/invite_sdp.out' && grep -q '^edit via' '$TMP/v' && grep -q '^pinhole rtp udp 192.168.1.2:4000' '$TMP/v'"

# the limit settings of enable and set: parsed before the module is asked,
# so a bad value exits 2 with its reason whether or not sipalg is loaded
usage2() { # ERRTEXT ARGS...: exit 2, ERRTEXT on stderr, nothing on stdout
	local want=$1; shift
	"$CTL" "$@" >"$TMP/o" 2>"$TMP/e"
	[ $? -eq 2 ] && [ ! -s "$TMP/o" ] && grep -qF -- "$want" "$TMP/e"
}
if [ "$limit_checks" != 0 ]; then
check "set: a rate that is not a number exits 2" usage2 "rate 'x' is not valid: give 0 to 1000000" set lo rate x
check "set: a rate over 1000000 exits 2" usage2 "rate '1000001' is not valid" set lo rate 1000001
check "set: a negative calls exits 2 (an unknown option)" usage2 "invalid option -- '1'" set lo calls -1
check "set: a burst with a unit exits 2" usage2 "burst '5k' is not valid" set lo burst 5k
check "set: a limit without its value exits 2" usage2 "burst '' is not valid" set lo rate 5 burst
check "set: over-limit other than pass or drop exits 2" usage2 "over-limit 'reject' is not valid: use pass or drop" set lo over-limit reject
check "enable takes the limits too" usage2 "calls 'many' is not valid" enable lo rate 10 calls many
check "set without a setting exits 2 with usage" usage2 "Usage: sipalgctl set IFACE SETTING VALUE" set lo
check "set: an unknown setting exits 2 naming it" usage2 "set: unknown argument 'speed'" set lo speed 5
check "set --help documents the limits and that TCP always passes" bash -c \
	"'$CTL' set --help | grep -q '^  rate N' && '$CTL' set --help | grep -q 'on TCP it always passes'"
fi

echo "# cli tests: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
