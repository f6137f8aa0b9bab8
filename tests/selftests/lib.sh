# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/selftests/lib.sh: sourced by every selftest (bash, run as root in
# the VM: scripts/vm -- tests/selftests/NAME.sh).
#
# KTAP (kselftest conventions; exit 0 pass, 1 fail, 4 skip):
#   ktap_header N              "TAP version 13" and the plan "1..N"
#   ktap_ok DESC / ktap_fail DESC / ktap_skip DESC REASON
#   ktap_check DESC CMD...     ok when CMD succeeds; its output becomes
#                              "# " diagnostics when it fails
#   ktap_diag TEXT...          "# TEXT" (stdin when no TEXT)
#   ktap_skip_all REASON       "1..0 # SKIP REASON", exit 4
#   ktap_finish                exit with the kselftest status
#
# The standard network (docs/design.md section 5), one namespace per host:
#
#   lan (phone)             rtr (router, masquerade)             wan (registrar/peer)
#   eth0 192.168.1.2/24 --- lan0 192.168.1.1/24
#        fd00:1::2/64            fd00:1::1/64
#                                wan0 203.0.113.1/24 --------------- eth0 203.0.113.2/24
#                                     2001:db8:1::1/64                    2001:db8:1::2/64
#
#   topo_setup / topo_cleanup  build / remove it (topo_cleanup is safe to
#                              call twice; put it in the EXIT trap)
#   lan|rtr|wan CMD...         run CMD in that namespace
#
# The module:
#   sipalg_load [PARAM=VALUE...]   modprobe sipalg (the freshly built one)
#   sipalg_unload                  rmmod sipalg, retrying while busy
#   sipalg_loaded                  true when loaded
#   rtr_dnat_pbx               on rtr: UDP 5060 of 203.0.113.1 forwarded to
#                              the PBX at 192.168.1.2:5060
#   rtr_ct_helper TYPE PROTO PORT...  on rtr: an nftables `ct helper` object
#                              of TYPE ("sipalg", or "sip" for the in-tree
#                              helper) assigned to new PROTO flows to PORT
#   ct_helper_of NS ARGS...    the helper= of the conntrack entries that
#                              `conntrack -L ARGS` lists in NS
#
# Traffic and captures:
#   sip_options FROM_IP FROM_PORT TO_IP    a SIP OPTIONS request (CRLF)
#   udp_send NS SRC_IP SRC_PORT DST_IP DST_PORT   send stdin as one datagram
#   capture_start NS IFACE NAME [BPF]      dumpcap on IFACE into $SELFTEST_TMP/NAME.pcapng
#   capture_stop                           stop every capture started
#   capture_fields NAME DISPLAY_FILTER FIELD...   tshark -T fields on it
#
# Cleanup: lib.sh traps EXIT with selftest_cleanup: the test's own
# test_cleanup function (if it defines one), captures, the namespaces,
# sipalg unloaded, $SELFTEST_TMP (a fresh directory for the test's files)
# removed.
#
# The kernel log:
#   klog_mark TEXT             write a mark into the kernel log
#   klog_since_mark            the kernel log after the last mark
#   klog_bad [TEXT]            lines of TEXT (default: the whole kernel log)
#                              that break docs/design.md invariant 6
#   ktap_check_klog [DESC]     a check (default "kernel log clean") that the
#                              log since the last mark has none; they become
#                              its diagnostics

set -u

SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SELFTEST_DIR/../.." && pwd -P)
# scripts/vm says which build to load (build/debug/sipalg.ko on the debug
# kernel)
SIPALG_KO=${SIPALG_KO:-$REPO/sipalg.ko}
SELFTEST_NAME=$(basename "$0")
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SELFTEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/selftest.XXXXXX")
KLOG_MARK=

# Timing: the debug kernel (scripts/debug-kernel; its release names
# sipalg-debug) runs a selftest about ten times slower in the emulated VM
# (KASAN, lockdep, kmemleak).  A selftest scales what it waits for by
# SELFTEST_SLOW (the length of a call its checks run in, a peer's
# -timeout; wait_for does so itself), never what it asserts:
#   slow N                     N times SELFTEST_SLOW
# 1 on a stock kernel; the environment's SELFTEST_SLOW wins.
case $(uname -r) in
*sipalg-debug*) : "${SELFTEST_SLOW:=10}" ;;
*) : "${SELFTEST_SLOW:=1}" ;;
esac
export SELFTEST_SLOW
slow() { echo $(($1 * SELFTEST_SLOW)); }

# Same list as scripts/vm-guest.
KLOG_BAD_PATTERN='WARNING:|BUG|Oops|general protection|KASAN|UBSAN|refcount_t|suspected memory leak|memory leak detector disabled|locking correctness validator|unregister_netdevice: waiting'

# ---------------------------------------------------------------- KTAP

KTAP_PLAN=0
KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_header() {
	KTAP_PLAN=$1
	echo "TAP version 13"
	echo "1..$KTAP_PLAN"
}

ktap_diag() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | sed 's/^/# /'
	else
		sed 's/^/# /'
	fi
}

ktap_ok() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N - $*"
}

ktap_fail() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N - $*"
}

ktap_skip() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N - $1 # SKIP $2"
}

# ktap_check DESC CMD...
ktap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ktap_ok "$desc"
	else
		[ -z "$out" ] || ktap_diag <<<"$out"
		ktap_fail "$desc"
	fi
}

ktap_skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit 4
}

ktap_finish() {
	if [ "$KTAP_N" -ne "$KTAP_PLAN" ]; then
		ktap_diag "planned $KTAP_PLAN tests, ran $KTAP_N"
		KTAP_FAIL=$((KTAP_FAIL + 1))
	fi
	ktap_diag "$SELFTEST_NAME: pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP"
	[ "$KTAP_FAIL" -eq 0 ] || exit 1
	[ "$KTAP_PASS" -gt 0 ] || [ "$KTAP_SKIP" -eq 0 ] || exit 4
	exit 0
}

# Skip the whole test unless it can run: in the VM (it loads modules and
# makes namespaces named lan, rtr, wan; SELFTEST_ALLOW_HOST=1 runs it
# anyway), as root, with the tools and the module.
SELFTEST_ACTIVE=0
require() {
	local tool
	[ "$(hostname)" = sipalg-vm ] || [ "${SELFTEST_ALLOW_HOST:-0}" = 1 ] ||
		ktap_skip_all "runs in the VM: scripts/vm -- tests/selftests/$SELFTEST_NAME"
	[ "$(id -u)" -eq 0 ] || ktap_skip_all "needs root"
	for tool in "$@"; do
		command -v "$tool" >/dev/null || ktap_skip_all "$tool is not installed (scripts/deps)"
	done
	[ -f "$SIPALG_KO" ] || ktap_skip_all "sipalg.ko is not built (make)"
	SELFTEST_ACTIVE=1
}

# ---------------------------------------------------------- kernel log

# Userspace writes to /dev/kmsg are rate limited by default; marks must
# never be dropped.
klog_mark() {
	[ "$(cat /proc/sys/kernel/printk_devkmsg 2>/dev/null)" = on ] ||
		echo on >/proc/sys/kernel/printk_devkmsg
	KLOG_MARK="selftest $SELFTEST_NAME mark $$.$RANDOM: $*"
	echo "$KLOG_MARK" >/dev/kmsg
}

klog_since_mark() {
	dmesg | awk -v mark="$KLOG_MARK" 'found { print } index($0, mark) { found = 1 }'
}

klog_bad() {
	if [ $# -gt 0 ]; then
		grep -E "$KLOG_BAD_PATTERN" <<<"$1" || true
	else
		dmesg | grep -E "$KLOG_BAD_PATTERN" || true
	fi
}

# shellcheck disable=SC2120 # most tests take the default description
ktap_check_klog() {
	local bad
	bad=$(klog_bad "$(klog_since_mark)")
	[ -z "$bad" ] || ktap_diag <<<"$bad"
	ktap_check "${1:-kernel log clean}" test -z "$bad"
}

# ------------------------------------------------------------- module

sipalg_loaded() {
	[ -d /sys/module/sipalg ]
}

# scripts/vm makes `modprobe sipalg` load the repository's sipalg.ko;
# elsewhere fall back to insmod (its dependencies first).
sipalg_load() {
	if [ "$(modinfo -n sipalg 2>/dev/null)" != "" ] &&
		[ "$(readlink -f "$(modinfo -n sipalg)")" = "$SIPALG_KO" ]; then
		modprobe sipalg "$@"
	else
		modprobe nf_conntrack && insmod "$SIPALG_KO" "$@"
	fi
}

# nftables frees a `ct helper` object (and its module reference) from a
# work queue after the transaction, so rmmod may briefly see it busy.
sipalg_unload() {

	sipalg_loaded || return 0
	for _ in $(seq 50); do
		rmmod sipalg 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod sipalg
}

# ------------------------------------------------------------ network

lan() { ip netns exec lan "$@"; }
rtr() { ip netns exec rtr "$@"; }
wan() { ip netns exec wan "$@"; }

topo_setup() {
	topo_cleanup
	ip netns add lan && ip netns add rtr && ip netns add wan || return 1
	ip link add eth0 netns lan type veth peer name lan0 netns rtr || return 1
	ip link add eth0 netns wan type veth peer name wan0 netns rtr || return 1

	local ns
	for ns in lan rtr wan; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
			net.ipv6.conf.default.accept_ra=0
	done

	ip -n lan addr add 192.168.1.2/24 dev eth0
	ip -n lan addr add fd00:1::2/64 dev eth0 nodad
	ip -n lan link set eth0 up
	ip -n lan route add default via 192.168.1.1
	ip -n lan -6 route add default via fd00:1::1

	ip -n rtr addr add 192.168.1.1/24 dev lan0
	ip -n rtr addr add fd00:1::1/64 dev lan0 nodad
	ip -n rtr addr add 203.0.113.1/24 dev wan0
	ip -n rtr addr add 2001:db8:1::1/64 dev wan0 nodad
	ip -n rtr link set lan0 up
	ip -n rtr link set wan0 up
	rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1

	ip -n wan addr add 203.0.113.2/24 dev eth0
	ip -n wan addr add 2001:db8:1::2/64 dev eth0 nodad
	ip -n wan link set eth0 up

	rtr nft -f - <<-'EOF' || return 1
		table inet nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan0" masquerade
			}
		}
	EOF
}

topo_cleanup() {
	capture_stop
	local ns
	for ns in lan rtr wan; do
		# nft tables first: their `ct helper` objects hold the module.
		ip netns exec "$ns" nft flush ruleset 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# rtr_ct_helper TYPE PROTO PORT...
# The object is named TYPE-PROTO, in table inet helpers.
rtr_ct_helper() {
	local type=$1 proto=$2 ports
	shift 2
	ports=$(echo "$*" | tr ' ' ',')
	rtr nft -f - <<-EOF
		table inet helpers {
			ct helper $type-$proto {
				type "$type" protocol $proto
				l3proto inet
			}
			chain prerouting {
				type filter hook prerouting priority filter; policy accept;
				$proto dport { $ports } ct helper set "$type-$proto"
			}
		}
	EOF
}

# rtr_dnat_pbx: a PBX on lan behind a port forward: rtr DNATs UDP 5060 of
# its public 203.0.113.1 to 192.168.1.2:5060 (a trunk on wan calls it).
rtr_dnat_pbx() {
	rtr nft -f - <<-'EOF'
		table ip pbx {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				iifname "wan0" ip daddr 203.0.113.1 udp dport 5060 dnat to 192.168.1.2:5060
			}
		}
	EOF
}

# tcp_phone_setup IP: sipalg loaded with malformed=drop, the standard
# network with the phone also at IP, sipalg assigned to TCP 5060 on rtr
# (the TCP segment tests).
tcp_phone_setup() {
	sipalg_load malformed=drop || { echo "sipalg does not load"; return 1; }
	topo_setup || return 1
	ip -n lan addr add "$1/24" dev eth0 || return 1
	rtr_ct_helper sipalg tcp 5060
}

# ct_helper_of NS CONNTRACK_LIST_ARGS...
ct_helper_of() {
	local ns=$1
	shift
	ip netns exec "$ns" conntrack -L "$@" 2>/dev/null |
		grep -o 'helper=[^ ]*' | sed 's/^helper=//'
}

# ------------------------------------------------------------ traffic

# sip_options FROM_IP FROM_PORT TO_IP: a complete OPTIONS request.
sip_options() {
	local from=$1 port=$2 to=$3 host
	host=$from
	case $from in *:*) host="[$from]" ;; esac
	case $to in *:*) to="[$to]" ;; esac
	printf '%s\r\n' \
		"OPTIONS sip:$to SIP/2.0" \
		"Via: SIP/2.0/UDP $host:$port;branch=z9hG4bK-$$-$RANDOM;rport" \
		"Max-Forwards: 70" \
		"From: <sip:phone@$host>;tag=$RANDOM" \
		"To: <sip:$to>" \
		"Call-ID: $$-$RANDOM@$host" \
		"CSeq: 1 OPTIONS" \
		"Contact: <sip:phone@$host:$port>" \
		"Content-Length: 0" \
		""
}

# udp_send NS SRC_IP SRC_PORT DST_IP DST_PORT < payload
udp_send() {
	local ns=$1 sip=$2 sport=$3 dip=$4 dport=$5 v=4
	case $dip in *:*) v=6 sip="[$sip]" dip="[$dip]" ;; esac
	ip netns exec "$ns" socat -u - "UDP$v-SENDTO:$dip:$dport,bind=$sip:$sport"
}

CAPTURE_PIDS=()

# capture_start NS IFACE NAME [BPF]: returns once dumpcap is capturing.
capture_start() {
	local ns=$1 ifc=$2 name=$3 bpf=${4:-}
	local file=$SELFTEST_TMP/$name.pcapng err=$SELFTEST_TMP/$name.dumpcap
	rm -f "$file" "$err"
	ip netns exec "$ns" dumpcap -q -i "$ifc" ${bpf:+-f "$bpf"} -w "$file" 2>"$err" &
	CAPTURE_PIDS+=($!)
	for _ in $(seq 100); do
		grep -q '^Capturing on' "$err" 2>/dev/null && return 0
		kill -0 "${CAPTURE_PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$err" >&2
	return 1
}

capture_stop() {
	local pid
	for pid in "${CAPTURE_PIDS[@]+"${CAPTURE_PIDS[@]}"}"; do
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	CAPTURE_PIDS=()
}

# capture_fields NAME DISPLAY_FILTER FIELD...: one line per packet.
capture_fields() {
	local name=$1 filter=$2 f args=()
	shift 2
	for f in "$@"; do
		args+=(-e "$f")
	done
	tshark -r "$SELFTEST_TMP/$name.pcapng" -Y "$filter" -T fields "${args[@]}" 2>/dev/null
}

# ------------------------------------------------------------ cleanup

selftest_cleanup() {
	if [ "$SELFTEST_ACTIVE" = 1 ]; then
		if declare -F test_cleanup >/dev/null; then
			test_cleanup
		fi
		topo_cleanup
		sipalg_unload 2>/dev/null
	fi
	rm -rf "$SELFTEST_TMP"
}
trap selftest_cleanup EXIT

# stop_bg PID: stop a command started in the background through lan, rtr
# or wan.  Those are functions, so $! is the subshell that runs them and
# the command is its child: killing only the subshell leaves the command
# running (a sender that went on sending into the next test's namespaces).
stop_bg() {
	[ -n "$1" ] || return 0
	pkill -TERM -P "$1" 2>/dev/null
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# wait_for TENTHS CMD...: retry CMD every 0.1 s for up to TENTHS tenths
# of a second (packets may still be in a softirq when the sender returns),
# times SELFTEST_SLOW.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$(slow "$n")"); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# ------------------------------------------- ALG end to end (alg_*.sh)
#
# Peers, captured SIP and the module's counters, for the tests that send
# real SIP through the router and compare bytes:
#   sipalgctl ARGS...              the repository's userspace/sipalgctl (its
#                                  `rewrite` is the byte-for-byte oracle)
#   sipalg_stat NAME               a counter of /proc/net/sipalg_stats on rtr
#   sipalg_expect_list             rtr's expectations, one per line
#   bytes_equal WANT GOT           cmp; on a difference, both shown
#                                  (cat -A) as a diff
#   capture_udp NAME               its UDP datagrams, "src sport dst dport
#                                  hex" per line
#   capture_payloads NAME DIR [src=A] [sport=P] [dst=A] [dport=P]
#                                  the UDP payloads of the datagrams that
#                                  match into DIR/1, DIR/2, ...; prints the
#                                  count
#   udp_sink_start NS IP PORT NAME receive datagrams into $SELFTEST_TMP/NAME/
#                                  1, 2, ... (and N.from: "addr port")
#   udp_sink_count NAME            datagrams received so far
#   udp_sink_stop [NAME]           stop that sink (default: every sink)
#   sipp_start NAME NS ARGS...     sipp in the background, in its own
#                                  directory $SELFTEST_TMP/NAME (the
#                                  scenario's files land there)
#   sipp_wait NAME                 its exit status; its errors when not 0
#   kamailio_start                 the registrar (peers/kamailio.cfg) on wan
#   kamailio_contacts              the Contact addresses in its location table
#   peers_stop                     stop every sink, sipp and kamailio
#                                  (call it from test_cleanup)
#   ktap_check_here DESC CMD...    ktap_check in this shell: for CMDs that
#                                  start peers or captures (ktap_check runs
#                                  CMD in a subshell, whose pids are lost)
#   sip_flow_compare, datagrams_changed: below

PEERS_DIR=$SELFTEST_DIR/peers

# ktap_check_here DESC CMD...: ktap_check, with CMD run in this shell, not
# in a subshell: it may start peers or captures that cleanup must find.
ktap_check_here() {
	local desc=$1 out=$SELFTEST_TMP/.check_here rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		ktap_ok "$desc"
	else
		[ ! -s "$out" ] || ktap_diag <"$out"
		ktap_fail "$desc"
	fi
}

sipalgctl() {
	"$REPO/userspace/sipalgctl" "$@"
}

# shellcheck disable=SC2016 # an awk program
sipalg_stat() {
	rtr awk -v name="$1" '$1 == name { print $2; found = 1 }
		END { if (!found) print "missing" }' /proc/net/sipalg_stats
}

sipalg_expect_list() {
	rtr cat /proc/net/nf_conntrack_expect
}

bytes_equal() {
	cmp -s "$1" "$2" && return 0
	echo "$(basename "$1") ($(wc -c <"$1") bytes) and $(basename "$2") ($(wc -c <"$2") bytes) differ:"
	# No process substitution: the VM has no /dev/fd.
	cat -A "$1" >"$1.shown" && cat -A "$2" >"$2.shown"
	diff "$1.shown" "$2.shown" | head -40
	return 1
}

# Every UDP datagram of capture NAME as "src sport dst dport hex", one
# tshark run per capture (tshark takes seconds to start in the VM).
capture_udp() {
	local f=$SELFTEST_TMP/$1.udp
	if [ ! -s "$f" ] || [ "$SELFTEST_TMP/$1.pcapng" -nt "$f" ]; then
		capture_fields "$1" udp ip.src ipv6.src udp.srcport ip.dst ipv6.dst \
			udp.dstport udp.payload |
			awk -F'\t' '{ print $1 $2, $3, $4 $5, $6, $7 }' >"$f"
	fi
	cat "$f"
}

capture_payloads() {
	local name=$1 dir=$2 hex n=0
	shift 2
	mkdir -p "$dir"
	capture_udp "$name" | awk -v sel="$*" '
		BEGIN { n = split(sel, w, " ")
			for (i = 1; i <= n; i++) { split(w[i], kv, "="); want[kv[1]] = kv[2] } }
		("src" in want && $1 != want["src"]) || ("sport" in want && $2 != want["sport"]) ||
		("dst" in want && $3 != want["dst"]) || ("dport" in want && $4 != want["dport"]) { next }
		{ print $5 }' >"$dir/.hex"
	while read -r hex; do
		n=$((n + 1))
		xxd -r -p <<<"$hex" >"$dir/$n"
	done <"$dir/.hex"
	echo "$n"
}

# One socket per sink: each datagram is written whole, then renamed into
# place, so that a file that exists is complete.
UDP_SINK_PY='
import os, socket, sys
ip, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind((ip, port))
open(d + "/.bound", "w").close()
n = 0
while True:
    data, src = s.recvfrom(65535)
    n += 1
    with open("%s/.%d" % (d, n), "wb") as f:
        f.write(data)
    with open("%s/%d.from" % (d, n), "w") as f:
        f.write("%s %d\n" % (src[0], src[1]))
    os.rename("%s/.%d" % (d, n), "%s/%d" % (d, n))
'
declare -A UDP_SINK_PIDS=()

udp_sink_start() {
	local ns=$1 ip=$2 port=$3 name=$4 dir=$SELFTEST_TMP/$4
	rm -rf "$dir"
	mkdir -p "$dir"
	ip netns exec "$ns" python3 -c "$UDP_SINK_PY" "$ip" "$port" "$dir" &
	UDP_SINK_PIDS[$name]=$!
	wait_for 100 test -e "$dir/.bound" 2>/dev/null ||
		{ echo "sink $name on $ns $ip:$port did not start"; return 1; }
}

udp_sink_count() {
	find "$SELFTEST_TMP/$1" -maxdepth 1 -regex '.*/[0-9]+' 2>/dev/null | wc -l
}

# shellcheck disable=SC2120 # the tests name the sink
udp_sink_stop() {
	local name names=("$@")
	[ $# -gt 0 ] || names=("${!UDP_SINK_PIDS[@]}")
	for name in "${names[@]}"; do
		if [ -z "$name" ] || [ -z "${UDP_SINK_PIDS[$name]:-}" ]; then
			continue
		fi
		kill "${UDP_SINK_PIDS[$name]}" 2>/dev/null
		wait "${UDP_SINK_PIDS[$name]}" 2>/dev/null
		unset "UDP_SINK_PIDS[$name]"
	done
}

declare -A SIPP_PIDS=()

sipp_start() {
	local name=$1 ns=$2 dir=$SELFTEST_TMP/$1
	shift 2
	mkdir -p "$dir"
	# sipp ends a run when it is itself scheduled late too often (its
	# watchdog: 500 ms, 3 s); on a slow kernel that is the VM, not the
	# router, so its thresholds are SELFTEST_SLOW times longer.
	(cd "$dir" && exec ip netns exec "$ns" sipp -nostdin -trace_err \
		-error_file errors.log -trace_msg -message_file messages.log \
		-watchdog_minor_threshold "$(slow 500)" \
		-watchdog_major_threshold "$(slow 3000)" \
		"$@" >sipp.out 2>&1) &
	SIPP_PIDS[$name]=$!
}

sipp_wait() {
	local name=$1 rc=0 dir=$SELFTEST_TMP/$1
	wait "${SIPP_PIDS[$name]}" || rc=$?
	unset "SIPP_PIDS[$name]"
	if [ "$rc" != 0 ]; then
		echo "sipp $name exited with status $rc"
		tail -n 20 "$dir/errors.log" "$dir/sipp.out" 2>/dev/null
	fi
	return "$rc"
}

KAMAILIO_PID=
KAMAILIO_RUN=

kamailio_start() {
	KAMAILIO_RUN=$SELFTEST_TMP/kamailio
	mkdir -p "$KAMAILIO_RUN"
	ip netns exec wan kamailio -f "$PEERS_DIR/kamailio.cfg" -DD -E \
		-Y "$KAMAILIO_RUN" -m 32 -M 4 >"$KAMAILIO_RUN/log" 2>&1 &
	KAMAILIO_PID=$!
	if ! wait_for 300 kamailio_ready; then
		echo "kamailio did not start:"
		tail -n 20 "$KAMAILIO_RUN/log"
		return 1
	fi
}

kamailio_ready() {
	test -S "$KAMAILIO_RUN/kamailio_ctl" &&
		wan ss -Huln 'sport = :5060' | grep -q '203\.0\.113\.2:5060'
}

kamailio_contacts() {
	kamcmd -s "unix:$KAMAILIO_RUN/kamailio_ctl" ul.dump |
		sed -n 's/^[[:space:]]*Address: //p'
}

kamailio_stop() {
	[ -n "$KAMAILIO_PID" ] || return 0
	kill "$KAMAILIO_PID" 2>/dev/null
	wait "$KAMAILIO_PID" 2>/dev/null
	KAMAILIO_PID=
}

# shellcheck disable=SC2119 # every sink
peers_stop() {
	local name
	udp_sink_stop
	for name in "${!SIPP_PIDS[@]}"; do
		kill "${SIPP_PIDS[$name]}" 2>/dev/null
		wait "${SIPP_PIDS[$name]}" 2>/dev/null
	done
	SIPP_PIDS=()
	kamailio_stop
}

# sip_flow_compare LAN_CAP WAN_CAP INTERNAL EXTERNAL [REWRITE_ARG...]
# One SIP flow through rtr, captured on lan0 (LAN_CAP) and wan0 (WAN_CAP);
# INTERNAL and EXTERNAL are the phone's addr:port before and after NAT
# ([addr]:port for IPv6).  Every datagram the phone sent must have left
# wan0 as `sipalgctl rewrite` of it, and every one that came back must have
# reached lan0 as `sipalgctl rewrite --reply` of it (REWRITE_ARGs, e.g.
# --media-port, are passed on).  The payloads stay in
# $SELFTEST_TMP/{lan-out,wan-out,wan-in,lan-in}/N; prints one line per
# datagram.
sip_flow_compare() {
	local lancap=$1 wancap=$2 int=$3 ext=$4 dir n m i bad=0
	shift 4
	local int_ip=${int%:*} int_port=${int##*:}
	local ext_ip=${ext%:*} ext_port=${ext##*:}
	case $int_ip in \[*) int_ip=${int_ip:1:-1} ext_ip=${ext_ip:1:-1} ;; esac
	for dir in lan-out wan-out wan-in lan-in; do
		rm -rf "${SELFTEST_TMP:?}/$dir"
	done
	n=$(capture_payloads "$lancap" "$SELFTEST_TMP/lan-out" src="$int_ip" sport="$int_port")
	m=$(capture_payloads "$wancap" "$SELFTEST_TMP/wan-out" src="$ext_ip" sport="$ext_port")
	if [ "$n" != "$m" ] || [ "$n" = 0 ]; then
		echo "the phone sent $n datagrams on lan0, $m left wan0"
		return 1
	fi
	for i in $(seq "$n"); do
		sipalgctl rewrite --internal "$int" --external "$ext" "$@" \
			"$SELFTEST_TMP/lan-out/$i" >"$SELFTEST_TMP/lan-out/$i.want" || bad=1
		if bytes_equal "$SELFTEST_TMP/lan-out/$i.want" "$SELFTEST_TMP/wan-out/$i"; then
			echo "out $i: $(head -n1 "$SELFTEST_TMP/lan-out/$i" | tr -d '\r'): as sipalgctl rewrite"
		else
			bad=1
		fi
	done
	n=$(capture_payloads "$wancap" "$SELFTEST_TMP/wan-in" dst="$ext_ip" dport="$ext_port")
	m=$(capture_payloads "$lancap" "$SELFTEST_TMP/lan-in" dst="$int_ip" dport="$int_port")
	if [ "$n" != "$m" ] || [ "$n" = 0 ]; then
		echo "$n datagrams for the phone reached wan0, $m left lan0"
		return 1
	fi
	for i in $(seq "$n"); do
		sipalgctl rewrite --reply --internal "$int" --external "$ext" "$@" \
			"$SELFTEST_TMP/wan-in/$i" >"$SELFTEST_TMP/wan-in/$i.want" || bad=1
		if bytes_equal "$SELFTEST_TMP/wan-in/$i.want" "$SELFTEST_TMP/lan-in/$i"; then
			echo "in $i: $(head -n1 "$SELFTEST_TMP/wan-in/$i" | tr -d '\r'): as sipalgctl rewrite --reply"
		else
			bad=1
		fi
	done
	return "$bad"
}

# datagrams_changed: after sip_flow_compare, how many datagrams rtr changed.
datagrams_changed() {
	local f n=0
	for f in "$SELFTEST_TMP"/lan-out/* "$SELFTEST_TMP"/wan-in/*; do
		case ${f##*/} in '' | *[!0-9]*) continue ;; esac
		case $f in
		*/lan-out/*) cmp -s "$f" "$SELFTEST_TMP/wan-out/${f##*/}" || n=$((n + 1)) ;;
		*) cmp -s "$f" "$SELFTEST_TMP/lan-in/${f##*/}" || n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}
