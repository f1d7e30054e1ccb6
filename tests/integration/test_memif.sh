#!/bin/bash
# test_memif: a short smoke run of bench/memif.sh, corehttpd and the load
# generator (bench/loadgen, on our own stack) face to face over DPDK
# net_memif, each on a core of its own: keep-alive over two URLs, a new
# connection per request from several source addresses, held connections,
# and a missing file counted as an error. No kernel interface and no
# namespace is involved (memif is shared memory); the addresses stay in
# 198.18.0.0/15 all the same.
#
# Figures are kept low so that a loaded 2-core machine passes: what is
# asserted is correctness (no error, everything answered), not speed.
. "$(dirname "$0")/lib.sh"
lib_init memif "$@"

LG=${LOADGEN_BIN:-$(dirname "$BIN")/../bench/loadgen}
[ -x "$LG" ] || die "load generator $LG is not built"
export COREHTTPD_BIN=$BIN LOADGEN_BIN=$LG
# A TIME_WAIT socket still holds a whole flow slot: room for a few seconds
# of closed connections from several addresses.
export MEMIF_MAX_FLOWS=262144

# run NAME ARGS...: bench/memif.sh ARGS; its output in $TMPD/NAME.out, the
# machine-readable last line of the load generator in $OUT.
run() {
    local name=$1
    shift
    LOG=$TMPD/$name.out
    say "bench/memif.sh $*"
    if ! "$ROOT/bench/memif.sh" -q "$@" >"$LOG" 2>&1; then
        fail "$name: bench/memif.sh exited non-zero"
    fi
    OUT=$(grep '^loadgen: requests=' "$LOG" | tail -n 1)
    say "$name: $OUT"
}

field() { # KEY: its value in $OUT
    printf '%s\n' "$OUT" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

run keepalive -c 16 -d 3 /index.html /about.html
assert_match "keepalive: the last line" '^loadgen: requests=[0-9]+ errors=[0-9]+ rps=[0-9]+ conn_per_s=[0-9]+ gbit_s=[0-9.]+ p50_us=[0-9]+ p99_us=[0-9]+ open=[0-9]+$' "$OUT"
assert_eq "keepalive: no errors" 0 "$(field errors)"
assert_ge "keepalive: requests answered" 1000 "$(field requests)"
assert_ge "keepalive: a latency measured" 1 "$(field p99_us)"
assert_ge "keepalive: connections open at the end" 1 "$(field open)"
assert_match "keepalive: the server served them" 'http: accepted [1-9][0-9]*, requests [1-9]' "$(cat "$LOG")"

run close -c 8 -d 3 --close --src 198.18.1.0/29 /index.html
assert_eq "close: no errors" 0 "$(field errors)"
assert_ge "close: requests answered" 100 "$(field requests)"
assert_ge "close: connections per second" 20 "$(field conn_per_s)"
assert_contains "close: from 6 source addresses" "198.18.1.1..198.18.1.6 (6 addresses)" "$(cat "$LOG")"

run hold -c 300 -d 3 --hold --src 198.19.0.0/28 /index.html
assert_eq "hold: no errors" 0 "$(field errors)"
assert_eq "hold: one request per connection" 300 "$(field requests)"
assert_eq "hold: every connection still open" 300 "$(field open)"

# Zero copy (bench/memif.sh's default): the load generator reads the
# server's frames in place, a header mbuf chained to mbufs that point into
# the file cache. Its checksums are checked here (no --trust-link): a frame
# read from the wrong place or freed too early fails them, and chained
# frames in one burst crashed DPDK 22.11's driver before dpio split them.
[ -f "$ROOT/www/files/big.bin" ] || die "www/files/big.bin missing: run packaging/gen-site-data.sh"
run big -c 32 -d 4 /files/big.bin
assert_contains "big: corehttpd is the zero-copy client" "corehttpd's port net_memif0,role=client,zero-copy=yes," "$(cat "$LOG")"
assert_eq "big: no errors" 0 "$(field errors)"
# (32 downloads share the link: under ASan each takes about 2 s)
assert_ge "big: 10 MB responses answered" 1 "$(field requests)"
assert_contains "big: no frame failed its checksum" "rx dropped: bad checksum 0," "$(cat "$LOG")"
assert_match "big: bodies sent by reference" 'by reference [1-9][0-9]{7,}' "$(cat "$LOG")"

# the copying layout: corehttpd the memif server, the driver copying frames
MEMIF_ZEROCOPY=0 run copy -c 4 -d 2 /files/big.bin /index.html
assert_eq "copy: no errors" 0 "$(field errors)"
assert_ge "copy: requests answered" 4 "$(field requests)"
assert_contains "copy: corehttpd is the memif server" "corehttpd's port net_memif0,role=server," "$(cat "$LOG")"

# a missing file is a non-2xx answer: counted, so the tally above means something
run missing -c 2 -d 1 /no-such-file.html
assert_ge "missing: 404s counted as errors" 1 "$(field errors)"
assert_eq "missing: no request counted as answered" 0 "$(field requests)"

lib_finish
