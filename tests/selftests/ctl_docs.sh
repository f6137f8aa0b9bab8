#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check functions run through ktap_check:
# shellcheck disable=SC2317,SC2119
#
# sipalgctl's documentation and shell integration, measured against the
# program itself: the man page renders without warnings and documents every
# subcommand `sipalgctl --help` lists, every module parameter `modinfo`
# lists, every exit status and -j before the command; the bash completion
# offers the subcommands (the read ones after -j), interfaces and keywords;
# every subcommand has --help; the YAML spec of the netlink family agrees
# with the uapi header.  Needs no module.
# shellcheck source=tests/selftests/lib.sh
source "$(dirname "$0")/lib.sh"
require man groff modinfo python3

CTL=$REPO/userspace/sipalgctl
MAN=$REPO/userspace/sipalgctl.8
COMPLETION=$REPO/userspace/completion/sipalgctl.bash

ktap_header 7

# The subcommands, as `sipalgctl --help` lists them.
# (No process substitution: the VM has no /dev/fd.)
mapfile -t SUBCOMMANDS <<<"$("$CTL" --help |
	awk '/^Commands:/ { on = 1; next } on && NF { print $1 } on && !NF { exit }')"
ktap_diag "subcommands: ${SUBCOMMANDS[*]}"

man_renders() {
	MANWIDTH=80 MANPAGER=cat man -l "$MAN" >"$SELFTEST_TMP/man.txt" 2>"$SELFTEST_TMP/man.err" ||
		{ cat "$SELFTEST_TMP/man.err"; return 1; }
	head -n 4 "$SELFTEST_TMP/man.txt"
	echo "... $(wc -l <"$SELFTEST_TMP/man.txt") lines"
	grep -q '^NAME' "$SELFTEST_TMP/man.txt" && grep -q '^EXIT STATUS' "$SELFTEST_TMP/man.txt"
}
ktap_check "man -l userspace/sipalgctl.8 renders (MANWIDTH=80)" man_renders

man_no_warnings() {
	local w
	w=$(MANWIDTH=80 MANPAGER=cat man --warnings -l "$MAN" 2>&1 >/dev/null)
	w+=$(groff -ww -z -man "$MAN" 2>&1)
	[ -z "$w" ] || { echo "$w"; return 1; }
	echo "man --warnings and groff -ww: nothing"
}
ktap_check "the man page has no warnings (man --warnings, groff -ww)" man_no_warnings

man_documents_all() {
	local sub p missing=
	MANWIDTH=200 MANPAGER=cat man -l "$MAN" 2>/dev/null | sed 's/‐/-/g' >"$SELFTEST_TMP/man.wide"
	for sub in "${SUBCOMMANDS[@]}"; do
		grep -q "^ *sipalgctl $sub\b" "$SELFTEST_TMP/man.wide" &&
			grep -Eq "^ {7}$sub( |$)" "$SELFTEST_TMP/man.wide" || missing+=" command:$sub"
	done
	for p in $(modinfo -F parm "$SIPALG_KO" | cut -d: -f1); do
		grep -q "^ *$p=" "$SELFTEST_TMP/man.wide" || missing+=" parameter:$p"
	done
	for p in 0 1 2 3 4; do
		sed -n '/^EXIT STATUS/,/^[A-Z]/p' "$SELFTEST_TMP/man.wide" | grep -Eq "^ {7}$p( |$)" ||
			missing+=" exit:$p"
	done
	# -j/--json before the command: in the synopsis and under OPTIONS
	grep -q '^ *sipalgctl \[-j|--json\] ' "$SELFTEST_TMP/man.wide" &&
		sed -n '/^OPTIONS/,/^COMMANDS/p' "$SELFTEST_TMP/man.wide" | grep -q 'sipalgctl -j show' ||
		missing+=" option:-j-before-the-command"
	[ -z "$missing" ] || { echo "not documented:$missing"; return 1; }
	echo "every subcommand (synopsis and COMMANDS), module parameter ($(modinfo -F parm "$SIPALG_KO" |
		cut -d: -f1 | tr '\n' ' ')), exit status 0-4 and -j before the command"
}
ktap_check "the man page documents every subcommand, module parameter, exit status and -j before the command" \
	man_documents_all

# complete WORD...: what the completion offers for the last word.
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sipalgctl; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMPLETION" "$@"
}

completion_offers() {
	local got want
	got=$(complete_words sipalgctl "" | tr '\n' ' ')
	want=$(printf '%s\n' "${SUBCOMMANDS[@]}" -j --json --help --version | sort | tr '\n' ' ')
	echo "sipalgctl <TAB>: $got"
	[ "$got" = "$want" ] || { echo "want: $want"; return 1; }
	got=$(complete_words sipalgctl st | tr '\n' ' ')
	echo "sipalgctl st<TAB>: $got"
	[ "$got" = "stats " ] || return 1
	got=$(complete_words sipalgctl -j "" | tr '\n' ' ')
	echo "sipalgctl -j <TAB>: $got"
	[ "$got" = "flows parse probe show stats " ] || return 1
	got=$(complete_words sipalgctl --json show "" | tr '\n' ' ')
	echo "sipalgctl --json show <TAB>: $got"
	grep -qw lo <<<"$got" || return 1
	got=$(complete_words sipalgctl enable "" | tr '\n' ' ')
	echo "sipalgctl enable <TAB>: $got"
	grep -qw lo <<<"$got" || return 1
	got=$(complete_words sipalgctl enable lo "" | tr '\n' ' ')
	echo "sipalgctl enable lo <TAB>: $got"
	[ "$got" = "burst calls malformed mode over-limit rate " ] || return 1
	got=$(complete_words sipalgctl enable lo mode "" | tr '\n' ' ')
	echo "sipalgctl enable lo mode <TAB>: $got"
	[ "$got" = "pinhole rewrite " ] || return 1
	got=$(complete_words sipalgctl set lo over-limit "" | tr '\n' ' ')
	echo "sipalgctl set lo over-limit <TAB>: $got"
	[ "$got" = "drop pass " ] || return 1
	got=$(complete_words sipalgctl set lo rate "" | tr '\n' ' ')
	echo "sipalgctl set lo rate <TAB>: $got"
	[ -z "${got// /}" ] || return 1
	got=$(complete_words sipalgctl disable lo --f | tr '\n' ' ')
	echo "sipalgctl disable lo --f<TAB>: $got"
	[ "$got" = "--flush " ] || return 1
	got=$(complete_words sipalgctl stats --r | tr '\n' ' ')
	echo "sipalgctl stats --r<TAB>: $got"
	[ "$got" = "--reset " ]
}
ktap_check "bash completion offers the subcommands, interfaces, keywords and options" \
	completion_offers

help_everywhere() {
	local sub bad=0 out
	for sub in "${SUBCOMMANDS[@]}"; do
		if out=$("$CTL" "$sub" --help) && grep -q "^Usage: sipalgctl $sub" <<<"$out"; then
			echo "$sub --help: $(head -n1 <<<"$out")"
		else
			echo "$sub --help: no usage or exit status not 0"
			bad=1
		fi
	done
	out=$("$CTL" --version)
	echo "--version: $out"
	grep -Eq '^sipalgctl [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out" || bad=1
	"$CTL" frobnicate 2>/dev/null
	[ $? = 2 ] || { echo "an unknown command does not exit 2"; bad=1; }
	return "$bad"
}
ktap_check "every subcommand has --help (exit 0, usage); --version; unknown command exits 2" \
	help_everywhere

ktap_check "the YAML spec (kmod/uapi/sipalg.yaml) agrees with the uapi header" \
	python3 "$SELFTEST_DIR/uapi_spec_check.py" "$REPO"

openwrt_init_calls() {
	# What scripts/openwrt's init script runs must be valid sipalgctl usage.
	local init=$REPO/scripts/openwrt/sipalg/files/sipalg.init
	[ -f "$init" ] || { echo "no $init"; return 0; }
	# shellcheck disable=SC2016 # the script's text, not this shell's variables
	grep -o '"\$SIPALGCTL" [a-z]*' "$init" | sort -u
	# shellcheck disable=SC2016
	grep -q '"$SIPALGCTL" enable "$device" mode "$mode" malformed "$malformed"' "$init" &&
		grep -q '"$SIPALGCTL" disable "$device"' "$init"
}
ktap_check "the OpenWrt init script calls enable/disable as documented" openwrt_init_calls

ktap_finish
