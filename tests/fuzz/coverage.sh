#!/bin/bash
# tests/fuzz/coverage.sh: the source coverage the fuzzers' corpora reach.
# Builds the harnesses again with clang's source-based coverage
# (build-fuzz-cov/: -fprofile-instr-generate -fcoverage-mapping on top of
# COREHTTPD_FUZZ), runs each harness once over its seed corpus and the corpus
# earlier fuzzing runs grew (build-fuzz/fuzz/corpus/<harness>/), merges the
# profiles and prints llvm-cov's per-file report of the code under test
# (tcpstack/, server/, tests/tcpstack/pktscript.h), then one line per
# harness:
#   RESULT fuzzcov NAME lines=P% regions=P% functions=P% (of the files it exercises)
# Not a test step (no pass/fail); run it after a long fuzzing run.
#
# Usage: tests/fuzz/coverage.sh [HARNESS...]
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
harnesses=${*:-fuzz_stack fuzz_http fuzz_config fuzz_pktscript}
bdir=$repo/build-fuzz-cov
cmake -S . -B "$bdir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCOREHTTPD_FUZZ=ON "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate" >/dev/null &&
    cmake --build "$bdir" --target fuzz_all -j "${JOBS:-$(nproc)}" >/dev/null || exit 1

# the files each harness is about
declare -A files=(
    [fuzz_stack]="tcpstack/"
    [fuzz_http]="server/http.c server/cache.c"
    [fuzz_config]="server/config.c"
    [fuzz_pktscript]="tests/tcpstack/pktscript.h"
)
out=$bdir/cov
mkdir -p "$out"
for h in $harnesses; do
    rm -f "$out/$h".*.profraw
    dirs=("$repo/tests/fuzz/corpus/$h")
    [ -d "$repo/build-fuzz/fuzz/corpus/$h" ] && dirs+=("$repo/build-fuzz/fuzz/corpus/$h")
    LLVM_PROFILE_FILE="$out/$h.%p.profraw" "$bdir/tests/fuzz/$h" -runs=0 "${dirs[@]}" \
        >"$out/$h.log" 2>&1
    llvm-profdata merge -sparse "$out/$h".*.profraw -o "$out/$h.profdata" || continue
    srcs=()
    for f in ${files[$h]}; do
        srcs+=("$repo/$f")
    done
    echo "=== $h"
    llvm-cov report "$bdir/tests/fuzz/$h" -instr-profile="$out/$h.profdata" "${srcs[@]}" |
        tee "$out/$h.report"
    tot=$(grep '^TOTAL' "$out/$h.report")
    # TOTAL regions missed cover functions missed executed lines missed cover ...
    read -r _ _ _ rcov _ _ fcov _ _ lcov _ <<<"$tot"
    echo "RESULT fuzzcov $h lines=$lcov regions=$rcov functions=$fcov"
done
