#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/plot-scale.sh SCALE_OUTPUT PNG
#
# Draws the medians of tests/bench/forward/scale.sh (its "scale" lines:
# helper, slab bytes per registration, per call, messages/s with 10 flows
# and with many) into PNG: memory per registration and per call on the
# left, messages/s with 10 and with many live flows on the right, for no
# helper, sipalg and the in-tree helper.  Needs gnuplot (scripts/deps bench).
set -euo pipefail

[ $# = 2 ] || { echo "usage: tests/bench/plot-scale.sh SCALE_OUTPUT PNG" >&2; exit 2; }
in=$1 png=$2
command -v gnuplot >/dev/null || { echo "plot-scale: no gnuplot: run scripts/deps bench" >&2; exit 1; }
data=$(mktemp)
trap 'rm -f "$data"' EXIT
awk '$1 == "scale" { print $2, $3, $4, $5, $6 }' "$in" >"$data"
[ "$(wc -l <"$data")" = 3 ] || { echo "plot-scale: no medians (scale lines) in $in" >&2; exit 1; }
phones=$(sed -n 's/^# scaling benchmark: .*; \([0-9]*\) phones.*/\1/p' "$in")
calls=$(sed -n 's/.* phones registering, \([0-9]*\) calls.*/\1/p' "$in")
kernel=$(sed -n 's/^# kernel \([^,]*\),.*/\1/p' "$in")

gnuplot <<EOF
set terminal pngcairo size 1100,450 font ",10"
set output "$png"
set multiplot layout 1,2 title "sipalg scaling on one router (kernel $kernel, TCG VM): medians of scale.sh"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key below
set yrange [0:*]
set title "router slab memory ($phones registrations, $calls calls with media)"
set ylabel "bytes"
plot "$data" using 2:xtic(1) title "per registration", '' using 3 title "per call"
set title "one phone's REGISTERs forwarded"
set ylabel "messages/s"
plot "$data" using 4:xtic(1) title "10 live flows", '' using 5 title "$phones live flows"
unset multiplot
EOF
echo "plot-scale: $png"
