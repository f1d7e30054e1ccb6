#!/bin/bash
# The ThreadSanitizer server (build-tsan/, -DCOREHTTPD_TSAN=ON) under load:
# two stack + worker pairs (cores 0 and 1) passing the baton (tcpstack/
# ts_pair.c) and sharing the ARP table and the file cache, driven by ab
# with and without keep-alive, pipelined requests and concurrent downloads
# of the 10 MiB file. Passes when every request succeeds, the server exits 0
# on SIGTERM and its log holds no ThreadSanitizer report (TSan's exit code
# 66 also fails srv_stop). tests/tsan/suppressions.txt is passed to TSan.
#
# Usage: tests/tsan/test_load.sh build-tsan/server/corehttpd REPO
# (a step of tests/run.sh; not in ctest, which runs the Release server).
. "$(dirname "$0")/../integration/lib.sh"
lib_init tsan "$@"
need_cmd ab curl timeout
[ -f "$WWW/files/big.bin" ] || die "no $WWW/files/big.bin (packaging/gen-site-data.sh)"

# Reports go to the server log; all of them, and a non-zero exit at the end.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan/suppressions.txt"

cfg_write ""
sed -i 's/^list = 0$/list = 0,1/' "$CFG"
srv_start
assert_match "two pairs started" 'serving' "$(cat "$LOG")"

run_ab() { # KEEPALIVE(0|1) N C
    local flag="" out complete failed
    [ "$1" = 1 ] && flag=-k
    out=$(nsx timeout 300 ab -q -r -s 30 -n "$2" -c "$3" $flag "$(url /index.html)" 2>&1) || true
    complete=$(printf '%s\n' "$out" | sed -n 's/^Complete requests: *\([0-9]*\).*/\1/p')
    failed=$(printf '%s\n' "$out" | sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p')
    [ -n "$complete" ] || printf '%s\n' "$out" | tail -n 20 >&2
    assert_eq "ab -n $2 -c $3 keepalive=$1: complete" "$2" "$complete"
    assert_eq "ab -n $2 -c $3 keepalive=$1: failed" 0 "$failed"
    assert_no_match "ab keepalive=$1: no non-2xx" 'Non-2xx responses' "$out"
}

run_ab 0 5000 50
run_ab 1 20000 50

# Concurrent large downloads: the send path's references into the cache.
pids=""
for i in 1 2 3 4; do
    nsx curl -s --noproxy '*' --max-time 120 -o "$TMPD/big.$i" "$(url /files/big.bin)" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || true; done
for i in 1 2 3 4; do
    assert_same_file "big.bin download $i intact" "$WWW/files/big.bin" "$TMPD/big.$i"
done

# Pipelined requests on one connection, while ab runs with keep-alive.
nsx timeout 120 ab -q -r -s 30 -n 5000 -c 20 -k "$(url /about.html)" >/dev/null 2>&1 &
abpid=$!
reqs=$(for _ in $(seq 300); do printf 'GET /files/edge/1.bin HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n'; done)
out=$(raw_http --send "$reqs" --responses 300 --timeout 60 --close-wait 0)
wait "$abpid" || true
assert_eq "300 pipelined requests answered" 300 "$(kv "$out" count)"

code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "server still answers" 200 "$code"
reports=$(grep -c 'WARNING: ThreadSanitizer' "$LOG" || true)
assert_eq "no ThreadSanitizer report while serving" 0 "$reports"
lib_finish
