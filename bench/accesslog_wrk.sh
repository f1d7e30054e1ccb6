#!/bin/bash
# bench/accesslog_wrk.sh: what the access log costs at full speed.
#
# corehttpd serves the demo site on core 0 ([cores] list = 0) on a DPDK
# net_tap port in a namespace of its own (tests/integration/lib.sh sets it
# up: 198.18.0.2, the kernel side 198.18.0.1); wrk runs inside that
# namespace pinned to core 1, keep-alive, RUNS rounds of one SECS-second run
# per case, a fresh server each run, the cases alternating (access log off,
# then on: combined format, a file in the test's temp dir) so that the
# machine's load falls on both alike. Prints each run, then a markdown table:
# median requests/s (min-max), and for the "on" server the requests it
# served against the lines its log thread wrote and dropped (from its exit
# report) and the lines in the file.
#
# Usage: sudo bench/accesslog_wrk.sh [-n RUNS] [-d SECS] [-c CONNS] [-p PATH]
#        [-b CORE-HTTPD-BINARY]     (defaults 5, 8, 32, /index.html, build/)
# A measurement, not a test: the figures depend on the machine's load.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=5 secs=8 conns=32 path=/index.html bin=$repo/build/server/corehttpd
while getopts n:d:c:p:b: o; do
    case $o in
    n) runs=$OPTARG ;;
    d) secs=$OPTARG ;;
    c) conns=$OPTARG ;;
    p) path=$OPTARG ;;
    b) bin=$OPTARG ;;
    *) exit 2 ;;
    esac
done
. "$repo/tests/integration/lib.sh"
lib_init alogbench "$bin" "$repo"
need_cmd wrk taskset
ALOG=$TMPD/access.log

# one_run off|on ROUND: a fresh server, one wrk run, stopped; appends
# "case rps" to $TMPD/rates; for "on", adds the exit report's requests,
# lines written and dropped to $TMPD/counts
one_run() {
    if [ "$1" = on ]; then cfg_write "access_log = $ALOG"; else cfg_write ""; fi
    srv_start
    out=$(nsx taskset -c 1 wrk -t 1 -c "$conns" -d "${secs}s" --timeout 10s "$(url "$path")" 2>&1)
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *//p')
    errs=$(printf '%s\n' "$out" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ' ')
    say "log $1, round $2: $rps requests/s ${errs:+($errs)}"
    echo "$1 $rps" >>"$TMPD/rates"
    srv_stop
    if [ "$1" = on ]; then
        echo "$(grep -E '^core [0-9]+: ' "$LOG" | grep -oE 'requests [0-9]+' | awk '{ n += $2 } END { print n + 0 }') $(sed -n 's/^access log: \([0-9]*\) lines written, \([0-9]*\) dropped.*/\1 \2/p' "$LOG")" >>"$TMPD/counts"
    fi
}

for i in $(seq "$runs"); do
    one_run off "$i"
    one_run on "$i"
done

stats() { # CASE: median (min-max) of its rates
    awk -v c="$1" '$1 == c { print $2 }' "$TMPD/rates" | sort -g | awk '
        { v[++n] = $1 } END {
        m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        printf "%.0f (%.0f-%.0f)", m, v[1], v[n] }'
}
read -r served written dropped < <(awk '{ s += $1; w += $2; d += $3 } END { print s, w, d }' "$TMPD/counts")
echo
echo "wrk -t 1 -c $conns -d ${secs}s $path, $runs rounds (off, on), corehttpd on core 0, wrk on core 1 (net_tap)"
echo
echo "| access log | requests/s, median (min-max) |"
echo "|---|---|"
echo "| off | $(stats off) |"
echo "| on (combined, file) | $(stats on) |"
echo
echo "log on, all rounds: $served requests served, $written lines written, $dropped dropped, $(wc -l <"$ALOG") lines in the file"
lib_finish
