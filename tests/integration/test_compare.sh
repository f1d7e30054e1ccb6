#!/bin/bash
# test_compare: a smoke run of bench/compare.sh --quick (1 s per point, the
# 1 KB file, 64 connections, ab -n 20000 -c 1000): corehttpd over net_memif
# and over the TAP, nginx and lighttpd over loopback, into a temp folder.
# What is asserted is that the comparison runs end to end and reports
# every server: a number in each cell of the requests table, no failed run,
# no error, ab's rows with 0 failed requests, both charts as PNG files, the
# machine's description; and that bad arguments are refused. No figure is
# compared with another (speed is for bench/, never a timed test). The script
# makes and deletes its own namespaces; this test checks none is left.
. "$(dirname "$0")/lib.sh"
lib_init compare "$@"

LG=${LOADGEN_BIN:-$(dirname "$BIN")/../bench/loadgen}
[ -x "$LG" ] || die "load generator $LG is not built"
export COREHTTPD_BIN=$BIN LOADGEN_BIN=$LG
CMP=$ROOT/bench/compare.sh

out=$("$CMP" -n 0 2>&1) && rc=0 || rc=$?
assert_eq "-n 0 is refused (exit 2)" 2 "$rc"
assert_contains "-n 0: the message says why" "positive integers" "$out"
out=$("$CMP" --bogus 2>&1) && rc=0 || rc=$?
assert_eq "an unknown argument is refused (exit 2)" 2 "$rc"

say "bench/compare.sh --quick -d 1 -o $TMPD/results"
"$CMP" --quick -d 1 -o "$TMPD/results" >"$TMPD/compare.out" 2>"$TMPD/compare.err" && rc=0 || rc=$?
assert_eq "compare.sh --quick exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    /' "$TMPD/compare.err" | tail -n 30 >&2
dir=$(tail -n 1 "$TMPD/compare.out")
assert_match "the results folder is <date>-<commit>-quick under -o" \
    "^$TMPD/results/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{4}Z-[0-9a-f]+(-dirty)?-quick\$" "$dir"
md=$dir/README.md
[ -f "$md" ] || die "no report at $md"
report=$(cat "$md")

assert_match "the machine: CPU model, CPUs, kernel" \
    "^- Machine: .+, [0-9]+ CPUs, [0-9]+ GB, Linux $(uname -r | sed 's/[.+]/\\&/g');" "$report"
for row in "1 KB | keep-alive | 64" "1 KB | close | 64"; do
    line=$(grep -F "| $row |" "$md" | head -n 1)
    # four servers, then four ratios: every cell a number
    assert_match "requests table, $row: a figure for each server and each ratio" \
        '^\| [^|]+\| [^|]+\| [^|]+\|( [0-9.]+ k \|){4}( [0-9]+\.[0-9]{2} \|){4}$' "$line"
done
for t in "corehttpd, DPDK net_memif (loadgen)" "corehttpd, DPDK net_tap (wrk)" \
    "nginx, kernel loopback (wrk)" "lighttpd, kernel loopback (wrk)"; do
    sect=$(awk -v h="### $t" '$0 == h { on = 1; next } /^#/ { on = 0 } on && /^\| 1 KB/' "$md")
    assert_eq "$t: two rows" 2 "$(printf '%s\n' "$sect" | grep -c .)"
    # the last cell is the error count: 0 and no failed run
    assert_no_match "$t: no error, no failed run" '\| ([1-9][0-9]*|[0-9]+ \([0-9]+ failed runs\)) \|$' "$sect"
    assert_no_match "$t: no empty measure" '\| - \| [^|]+\|$|\| - \| - \|' "$(printf '%s\n' "$sect" | cut -d'|' -f5-)"
done
for t in "corehttpd, DPDK net_tap" "nginx, kernel, veth"; do
    assert_match "ab: $t, a rate and 0 failed requests" "^\| $t \| [0-9.]+ k \| 0 \| 0 \|" \
        "$(grep -F "| $t |" "$md")"
done
assert_eq "raw.tsv: one line per run (8) and the header" 9 "$(wc -l <"$dir/raw.tsv")"
for png in rps-1k p99 cpu; do
    assert_eq "$png.png is a PNG" "89504e470d0a1a0a" "$(head -c 8 "$dir/$png.png" | od -An -tx1 | tr -d ' \n')"
    assert_contains "the report shows $png.png" "($png.png)" "$report"
done
ns=$(sed -n 's/.*namespaces \(chcmp-c-[0-9]*\) and \(chcmp-s-[0-9]*\).*/\1 \2/p' "$TMPD/compare.err")
assert_match "the run named its namespaces" '^chcmp-c-[0-9]+ chcmp-s-[0-9]+$' "$ns"
for n in $ns; do
    assert_eq "namespace $n deleted" "" "$(ip netns list | grep -E "^$n( |\$)" || true)"
done
lib_finish
