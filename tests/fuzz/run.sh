#!/bin/bash
# tests/fuzz/run.sh: builds the libFuzzer harnesses (build-fuzz/, clang,
# ASan + UBSan) and runs each: first its regression inputs
# (tests/fuzz/regressions/<harness>/, every one must pass), then SECONDS of
# fuzzing from its seed corpus (tests/fuzz/corpus/<harness>/) plus the
# corpus grown by earlier runs (build-fuzz/fuzz/corpus/<harness>/, not
# committed). Fails on any crash, leak, timeout or sanitizer report; the
# input that caused it is left in build-fuzz/fuzz/artifacts/ (commit it under
# tests/fuzz/regressions/<harness>/ once the bug is fixed).
#
# Usage: tests/fuzz/run.sh [SECONDS] [-jobs N] [HARNESS...]
#   SECONDS   fuzzing time per harness (default 45; tests/run.sh passes
#             $FUZZ_SECONDS); 0 replays the regressions and seeds only
#   -jobs N   N fuzzing processes per harness (libFuzzer -jobs/-workers),
#             for long runs: tests/fuzz/run.sh 3600 -jobs 2
#   HARNESS   fuzz_stack fuzz_http fuzz_config fuzz_pktscript (default: all)
# Prints one line per harness:
#   RESULT fuzz NAME execs=N exec_per_s=N cov=N ft=N corpus=N seconds=N
# Environment: JOBS (build parallelism, default: number of CPUs),
# FUZZ_NO_BUILD=1 (use build-fuzz/ as it is).
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1

seconds=45
jobs=1
harnesses=""
while [ $# -gt 0 ]; do
    case $1 in
    -jobs)
        jobs=$2
        shift
        ;;
    [0-9]*) seconds=$1 ;;
    fuzz_*) harnesses="$harnesses $1" ;;
    -h | --help)
        sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"
        exit 0
        ;;
    *)
        echo "tests/fuzz/run.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done
[ -n "$harnesses" ] || harnesses="fuzz_stack fuzz_http fuzz_config fuzz_pktscript"

bdir=$repo/build-fuzz
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$bdir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCOREHTTPD_FUZZ=ON >/dev/null &&
        cmake --build "$bdir" --target fuzz_all -j "${JOBS:-$(nproc)}" || {
        echo "tests/fuzz/run.sh: the build of $bdir failed" >&2
        exit 1
    }
fi

work=$bdir/fuzz
mkdir -p "$work/artifacts" "$work/logs"
# Every sanitizer report is fatal; leaks are checked after every input that
# mallocs more than it frees, and at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rc=0
for h in $harnesses; do
    bin=$bdir/tests/fuzz/$h
    if [ ! -x "$bin" ]; then
        echo "tests/fuzz/run.sh: no $bin" >&2
        rc=1
        continue
    fi
    seeds=$repo/tests/fuzz/corpus/$h
    regs=$repo/tests/fuzz/regressions/$h
    corpus=$work/corpus/$h
    log=$work/logs/$h.log
    mkdir -p "$corpus"
    common=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
            "-artifact_prefix=$work/artifacts/$h-")

    # 1. every regression input, each run once
    if [ -d "$regs" ] && [ -n "$(ls -A "$regs")" ]; then
        if ! "$bin" "${common[@]}" "$regs"/* >"$log.regressions" 2>&1; then
            echo "FAIL $h: a regression input fails again; see $log.regressions" >&2
            tail -n 30 "$log.regressions" >&2
            rc=1
            continue
        fi
        echo "$h: $(ls "$regs" | wc -l) regression inputs pass"
    fi

    # 2. fuzzing (with 0 seconds: the seeds run once)
    if [ "$seconds" = 0 ]; then
        args=(-runs=0)
    else
        args=(-max_total_time="$seconds")
    fi
    t0=$(date +%s)
    if [ "$jobs" -gt 1 ]; then
        rm -f "$work"/logs/"$h"-job*.log
        (cd "$work/logs" && "$bin" "${common[@]}" "${args[@]}" -jobs="$jobs" -workers="$jobs" \
            "$corpus" "$seeds" >"$log" 2>&1)
        status=$?
        # each job logs to fuzz-N.log in the working directory
        for f in "$work"/logs/fuzz-*.log; do
            [ -e "$f" ] && mv "$f" "$work/logs/$h-job${f##*fuzz-}"
        done
        stats=$(cat "$work"/logs/"$h"-job*.log 2>/dev/null)
    else
        "$bin" "${common[@]}" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1
        status=$?
        stats=$(cat "$log")
    fi
    secs=$(($(date +%s) - t0))
    if [ "$status" != 0 ] || grep -qE '^SUMMARY: |runtime error:|invariant broken' <<<"$stats"; then
        echo "FAIL $h: the fuzzer found a crash, leak or sanitizer report; see $log" >&2
        grep -hE 'invariant broken|runtime error|^SUMMARY|ERROR: |Test unit written' \
            "$log" "$work"/logs/"$h"-job*.log 2>/dev/null | head -n 20 >&2
        rc=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' <<<"$stats" | awk '{s+=$1} END {print s+0}')
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' <<<"$stats" | awk '{s+=$1} END {print s+0}')
    last=$(grep -E '^#[0-9]+.*(DONE|INITED)' <<<"$stats" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    echo "RESULT fuzz $h execs=$execs exec_per_s=$eps cov=${cov:-?} ft=${ft:-?}" \
        "corpus=$(ls "$corpus" | wc -l) seconds=$secs jobs=$jobs"
done
exit "$rc"
