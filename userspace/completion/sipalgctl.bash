# SPDX-License-Identifier: GPL-2.0
# bash completion for sipalgctl(8).  Self-contained: works without the
# bash-completion package (only COMP_WORDS, COMP_CWORD and compgen).
# The COMPREPLY=($(compgen ...)) idiom splits on purpose (words have no
# blanks):
# shellcheck disable=SC2207

_sipalgctl_ifaces() {
	local d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && printf '%s\n' "${d##*/}"
	done
}

_sipalgctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmds="enable set disable show stats flows parse rewrite probe reflect"
	local reads="show stats flows parse probe"
	local at=1 cmd i nargs=0 word

	# -j/--json may come before the command (as ip -j): then only the
	# read commands take it.
	while [ "$at" -lt "$COMP_CWORD" ] && [[ ${COMP_WORDS[at]} == -j || ${COMP_WORDS[at]} == --json ]]; do
		at=$((at + 1))
	done
	cmd=${COMP_WORDS[at]:-}

	COMPREPLY=()
	if [ "$COMP_CWORD" -eq "$at" ]; then
		if [ "$at" -gt 1 ]; then
			COMPREPLY=($(compgen -W "$reads" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds -j --json --help --version" -- "$cur"))
		fi
		return 0
	fi
	# Words before the cursor that are not options: the IFACE, keywords.
	for ((i = at + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		[ "${word#-}" = "$word" ] && nargs=$((nargs + 1))
	done

	case $cmd in
	enable | set)
		case $prev in
		mode) COMPREPLY=($(compgen -W "rewrite pinhole" -- "$cur")) ;;
		malformed | over-limit) COMPREPLY=($(compgen -W "pass drop" -- "$cur")) ;;
		rate | burst | calls) ;;	# a number
		*)
			if [ "$nargs" -eq 0 ]; then
				COMPREPLY=($(compgen -W "$(_sipalgctl_ifaces) --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "mode malformed rate burst calls over-limit" -- "$cur"))
			fi
			;;
		esac
		;;
	disable)
		if [ "$nargs" -eq 0 ]; then
			COMPREPLY=($(compgen -W "$(_sipalgctl_ifaces) --flush --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--flush" -- "$cur"))
		fi
		;;
	show)
		COMPREPLY=($(compgen -W "-j --json --help" -- "$cur"))
		[ "$nargs" -eq 0 ] && COMPREPLY+=($(compgen -W "$(_sipalgctl_ifaces)" -- "$cur"))
		;;
	stats)
		COMPREPLY=($(compgen -W "-j --json --reset --help" -- "$cur"))
		[ "$nargs" -eq 0 ] && COMPREPLY+=($(compgen -W "$(_sipalgctl_ifaces)" -- "$cur"))
		;;
	flows)
		COMPREPLY=($(compgen -W "-j --json --help" -- "$cur"))
		;;
	parse)
		COMPREPLY=($(compgen -W "-j --json --tcp --help" -- "$cur") $(compgen -f -- "$cur"))
		;;
	rewrite)
		case $prev in
		--mode) COMPREPLY=($(compgen -W "rewrite pinhole" -- "$cur")) ;;
		--internal | --external | --media-port) ;;
		*)
			COMPREPLY=($(compgen -W "--internal --external --reply --media-port --mode --tcp -v --verbose --help" -- "$cur") $(compgen -f -- "$cur"))
			;;
		esac
		;;
	probe)
		case $prev in
		--token | --local-port | --max-wait) ;;
		*) COMPREPLY=($(compgen -W "--token --local-port --max-wait --local -j --json --help" -- "$cur")) ;;
		esac
		;;
	reflect)
		case $prev in
		--token | --listen | --port) ;;
		*) COMPREPLY=($(compgen -W "--token --listen --port --help" -- "$cur")) ;;
		esac
		;;
	esac
	return 0
}

complete -F _sipalgctl sipalgctl
