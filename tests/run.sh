#!/bin/bash
# tests/run.sh: everything CI runs, on a clean clone, as root.
#
#   1. installs the Debian packages (packaging/install-deps.sh build test
#      package sanitize bench; bench: nginx, lighttpd, wrk and gnuplot for
#      test_compare)
#   2. generates the site's large files (packaging/gen-site-data.sh)
#   3. builds build/ (Release) and build-asan/ (Debug, ASan + UBSan)
#   4. ctest on build/: unit and integration tests
#   5. ctest on build-asan/: unit tests
#   6. the ASan server through every integration test ($ASAN_ITESTS)
#   7. the fuzzers (tests/fuzz/run.sh $FUZZ_SECONDS): builds build-fuzz/
#      (clang, libFuzzer, ASan + UBSan), replays every regression input,
#      fuzzes each harness $FUZZ_SECONDS seconds
#   8. builds build-tsan/ (clang, ThreadSanitizer) and runs its server under
#      load (tests/tsan/test_load.sh) and through integration tests ($TSAN_ITESTS)
#   9. the Debian package (tests/packaging/test_deb.sh): build it with
#      dpkg-buildpackage, lintian, install it system-wide, serve, upgrade,
#      remove and purge it (leaving nothing behind)
#
# Every step runs even when an earlier one failed (except what needs a build
# that failed), then a summary with timings is printed. Exits non-zero if
# anything failed.
#
# Environment: JOBS (build parallelism, default: number of CPUs),
# ASAN_ITESTS (default: every tests/integration/test_*.sh),
# FUZZ_SECONDS (fuzzing time per harness, default 45),
# TSAN_ITESTS (integration tests also run against the TSan server, default
# "test_pipeline test_badrequests test_bigfile").
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run.sh: run as root (sudo tests/run.sh): the integration tests make network namespaces and DPDK TAP devices" >&2
    exit 1
fi

JOBS=${JOBS:-$(nproc)}
ASAN_ITESTS=${ASAN_ITESTS:-$(cd tests/integration && ls test_*.sh | sed 's/\.sh$//' | tr '\n' ' ')}
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
TSAN_ITESTS=${TSAN_ITESTS:-test_pipeline test_badrequests test_bigfile}
export CTEST_OUTPUT_ON_FAILURE=1

summary=""
passed=0
failed=0
skipped=0
t_start=$(date +%s%N)

ms_since() {
    echo $((($(date +%s%N) - $1) / 1000000))
}

fmt_ms() {
    printf '%d.%01ds' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# step NAME CMD...: runs CMD, records PASS/FAIL and its time.
step() {
    local name=$1 t0 ms rc
    shift
    printf '\n=== %s\n=== $ %s\n' "$name" "$*"
    t0=$(date +%s%N)
    "$@"
    rc=$?
    ms=$(ms_since "$t0")
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        summary="$summary$(printf '  PASS  %8s  %s' "$(fmt_ms "$ms")" "$name")"$'\n'
    else
        failed=$((failed + 1))
        summary="$summary$(printf '  FAIL  %8s  %s (exit %d)' "$(fmt_ms "$ms")" "$name" "$rc")"$'\n'
    fi
    printf '=== %s: %s in %s\n' "$name" "$([ "$rc" = 0 ] && echo passed || echo FAILED)" "$(fmt_ms "$ms")"
    return "$rc"
}

skip() { # NAME REASON
    skipped=$((skipped + 1))
    summary="$summary$(printf '  SKIP  %8s  %s (%s)' - "$1" "$2")"$'\n'
    printf '\n=== %s: skipped (%s)\n' "$1" "$2"
}

build_tree() { # DIR CMAKE-ARGS...
    local dir=$1
    shift
    cmake -S . -B "$dir" "$@" && cmake --build "$dir" -j "$JOBS"
}

asan_itests() {
    local t rc=0
    # halt_on_error: the first report fails the run; leaks are reported at exit.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    for t in $ASAN_ITESTS; do
        echo "--- $t with build-asan/server/corehttpd"
        tests/integration/"$t".sh "$repo/build-asan/server/corehttpd" "$repo" || rc=1
    done
    return "$rc"
}

deps_ok=0
step "install dependencies" packaging/install-deps.sh build test package sanitize bench && deps_ok=1
step "generate site data" packaging/gen-site-data.sh

rel_ok=0
asan_ok=0
if [ "$deps_ok" = 1 ]; then
    step "build Release (build/)" build_tree build -DCMAKE_BUILD_TYPE=Release && rel_ok=1
    step "build ASan+UBSan (build-asan/)" build_tree build-asan \
        -DCMAKE_BUILD_TYPE=Debug -DCOREHTTPD_SANITIZE=ON && asan_ok=1
else
    skip "build Release (build/)" "dependencies missing"
    skip "build ASan+UBSan (build-asan/)" "dependencies missing"
fi

ctest_ran=0
if [ "$rel_ok" = 1 ]; then
    ctest_ran=1
    step "ctest build/ (unit + integration)" \
        ctest --test-dir build --output-on-failure --no-tests=error -j "$JOBS"
else
    skip "ctest build/ (unit + integration)" "no Release build"
fi
if [ "$asan_ok" = 1 ]; then
    step "ctest build-asan/ -L unit" \
        ctest --test-dir build-asan -L unit --output-on-failure --no-tests=error -j "$JOBS"
    step "ASan server: $ASAN_ITESTS" asan_itests
else
    skip "ctest build-asan/ -L unit" "no ASan build"
    skip "ASan server: $ASAN_ITESTS" "no ASan build"
fi

fuzz_log=$(mktemp /tmp/corehttpd-fuzz-results.XXXXXX)
fuzz_short() {
    tests/fuzz/run.sh "$FUZZ_SECONDS" | tee "$fuzz_log"
    return "${PIPESTATUS[0]}"
}

tsan_load() {
    local t rc=0
    cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCOREHTTPD_TSAN=ON &&
        cmake --build build-tsan --target corehttpd -j "$JOBS" || return 1
    tests/tsan/test_load.sh "$repo/build-tsan/server/corehttpd" "$repo" || rc=1
    # TSan's exit code 66 and any report in the log fail srv_stop.
    for t in $TSAN_ITESTS; do
        echo "--- $t with build-tsan/server/corehttpd"
        TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4 suppressions=$repo/tests/tsan/suppressions.txt" \
            tests/integration/"$t".sh "$repo/build-tsan/server/corehttpd" "$repo" || rc=1
    done
    return "$rc"
}

if [ "$deps_ok" = 1 ]; then
    step "fuzz: regressions and ${FUZZ_SECONDS}s per harness (build-fuzz/)" \
        fuzz_short
    step "TSan server: under load, $TSAN_ITESTS (build-tsan/)" tsan_load
else
    skip "fuzz: regressions and ${FUZZ_SECONDS}s per harness (build-fuzz/)" "dependencies missing"
    skip "TSan server: under load, $TSAN_ITESTS (build-tsan/)" "dependencies missing"
fi

if [ "$deps_ok" = 1 ]; then
    step "package: build, lintian, install, serve, upgrade, purge" tests/packaging/test_deb.sh "$repo"
else
    skip "package: build, lintian, install, serve, upgrade, purge" "dependencies missing"
fi

total_ms=$(ms_since "$t_start")
printf '\n=== summary (%s in all)\n%s' "$(fmt_ms "$total_ms")" "$summary"
if [ "$ctest_ran" = 1 ]; then
    grep -h '^RESULT ' build/Testing/Temporary/LastTest.log 2>/dev/null | sed 's/^/  /'
fi
grep -h '^RESULT fuzz ' "$fuzz_log" 2>/dev/null | sed 's/^/  /'
rm -f "$fuzz_log"
# A step is skipped only when one it needs failed, so the run has failed.
printf 'tests/run.sh: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" = 0 ] && [ "$skipped" = 0 ]
