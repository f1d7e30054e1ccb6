#!/bin/bash
# bench/memif.sh [loadgen args]: corehttpd and the load generator face to face
# over DPDK net_memif (shared memory, no kernel), each pinned to a core of its
# own, and the load generator's output. Run as root from a built tree
# (cmake -S . -B build && cmake --build build).
#
#   sudo bench/memif.sh -c 64 -d 10 /index.html
#   sudo bench/memif.sh -c 64 -d 10 --close --src 198.18.1.0/24 /index.html
#   sudo bench/memif.sh -c 5000 -d 20 --hold --src 198.19.0.0/24 /index.html
#
# URLs are paths on the server (198.18.0.2). The load generator is
# 198.18.0.254, the server's gateway; --src blocks must lie in 198.18.0.0/15
# above 198.18.0.2 (198.18.1.0/24, 198.19.0.0/16, ...).
#
# The script renders bench/memif-server.ini into a temp dir (memif socket
# file, DPDK --file-prefix of its own per side), starts build/bench/loadgen
# on core MEMIF_LOADGEN_CORE (0) as the memif server role, then
# build/server/corehttpd on core MEMIF_SERVER_CORE (1) as the memif client in
# zero-copy mode (MEMIF_ZEROCOPY=0: corehttpd first, as the memif server, the
# driver copying its frames), waits for the load generator (whose clock
# starts at the server's first handshake), prints its output, the server's
# memory (VmRSS, VmHWM) and its exit report,
# then stops the server by pid and cleans up (also on failure or Ctrl-C).
# The load generator's exit status is the script's.
#
# Environment: COREHTTPD_BIN, LOADGEN_BIN (other builds), MEMIF_SERVER_CORE,
# MEMIF_LOADGEN_CORE, MEMIF_MAX_CONNS (server [tcp] max_conns, 8192),
# MEMIF_MAX_FLOWS (max_flows, 65536), MEMIF_MEMORY_MB (server EAL memory, 1024),
# MEMIF_ROOT (the site the server serves, <repo>/www), MEMIF_KEEP=1 (keep the
# temp dir and logs), MEMIF_IDLE_SECS=N (after the load, the server's CPU over
# N idle seconds), MEMIF_KEEPALIVE_MS (server [http] keepalive_timeout_ms,
# 30000: a longer hold run needs more), MEMIF_ZEROCOPY=0 (the copying layout).
#
# The server's line at the end also gives the CPU time it used while the load
# generator ran (cpu_ms: utime + stime of all its threads, /proc/PID/stat).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRV_BIN=${COREHTTPD_BIN:-$ROOT/build/server/corehttpd}
LG_BIN=${LOADGEN_BIN:-$ROOT/build/bench/loadgen}
SRV_CORE=${MEMIF_SERVER_CORE:-1}
LG_CORE=${MEMIF_LOADGEN_CORE:-0}
SRV_IP=198.18.0.2
LG_IP=198.18.0.254/24

for b in "$SRV_BIN" "$LG_BIN"; do
    [ -x "$b" ] || { echo "memif.sh: $b is not built" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "memif.sh: run as root (DPDK)" >&2; exit 2; }

TMPD=$(mktemp -d /tmp/corehttpd-memif.XXXXXX)
PREFIX_S=chmemif-s-$$
PREFIX_C=chmemif-c-$$
SRV_PID=""
LG_PID=""

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ -n "$LG_PID" ] && kill -0 "$LG_PID" 2>/dev/null; then
        kill -TERM "$LG_PID" 2>/dev/null
        wait "$LG_PID" 2>/dev/null
    fi
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null
        for _ in $(seq 100); do
            kill -0 "$SRV_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    rm -rf "/var/run/dpdk/$PREFIX_S" "/var/run/dpdk/$PREFIX_C"
    if [ "${MEMIF_KEEP:-0}" = 1 ]; then
        echo "memif.sh: kept $TMPD" >&2
    else
        case $TMPD in /tmp/corehttpd-memif.*) rm -rf "$TMPD" ;; esac
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Zero copy (the default): corehttpd is the memif client in zero-copy mode,
# so the load generator (the server role) reads its frames where they lie,
# as a NIC would; the server role must be up first, so the load generator
# starts first and its clock waits for the server's first handshake.
# MEMIF_ZEROCOPY=0: corehttpd is the memif server and the driver copies
# every frame into the shared rings.
if [ "${MEMIF_ZEROCOPY:-1}" = 1 ]; then
    SRV_PORT="net_memif0,role=client,zero-copy=yes,id=0,socket=$TMPD/memif.sock"
    LG_PORT="net_memif0,role=server,id=0,socket=$TMPD/memif.sock"
else
    SRV_PORT="net_memif0,role=server,id=0,socket=$TMPD/memif.sock"
    LG_PORT="net_memif0,role=client,id=0,socket=$TMPD/memif.sock"
fi
echo "memif.sh: corehttpd's port $SRV_PORT" >&2
sed -e "s|@PORT@|$SRV_PORT|" -e "s|@PREFIX@|$PREFIX_S|" \
    -e "s|@CORE@|$SRV_CORE|" -e "s|@ROOT@|${MEMIF_ROOT:-$ROOT/www}|" \
    -e "s|@MAX_CONNS@|${MEMIF_MAX_CONNS:-8192}|" \
    -e "s|@MAX_FLOWS@|${MEMIF_MAX_FLOWS:-65536}|" \
    -e "s|@MEMORY_MB@|${MEMIF_MEMORY_MB:-1024}|" \
    -e "s|@KEEPALIVE_MS@|${MEMIF_KEEPALIVE_MS:-30000}|" \
    "$ROOT/bench/memif-server.ini" >"$TMPD/server.ini"

start_loadgen() {
    "$LG_BIN" --port "$LG_PORT" --core "$LG_CORE" --ip "$LG_IP" --server "$SRV_IP" \
        --eal "--file-prefix=$PREFIX_C" "$@" >"$TMPD/loadgen.out" &
    LG_PID=$!
}

# start_server: corehttpd in the background, back once it serves
start_server() {
    "$SRV_BIN" -c "$TMPD/server.ini" >"$TMPD/server.log" 2>&1 &
    SRV_PID=$!
    # Ready once it prints "serving" (after its port waited for the link)
    for _ in $(seq 300); do
        grep -q '^corehttpd: serving' "$TMPD/server.log" && return 0
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            echo "memif.sh: the server did not start:" >&2
            cat "$TMPD/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "memif.sh: the server is not ready after 30 s:" >&2
    cat "$TMPD/server.log" >&2
    exit 1
}

vm() { # FIELD: the server's /proc status value in kB
    sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$SRV_PID/status"
}
# cpu_ticks: the server's utime + stime, all threads, in clock ticks
cpu_ticks() {
    sed 's/^.*) //' "/proc/$SRV_PID/stat" | awk '{ print $12 + $13 }'
}

if [ "${MEMIF_ZEROCOPY:-1}" = 1 ]; then
    start_loadgen "$@"
    for _ in $(seq 100); do # the memif server role's socket (abstract by default)
        grep -q "@$TMPD/memif.sock\$" /proc/net/unix && break
        kill -0 "$LG_PID" 2>/dev/null || break
        sleep 0.1
    done
    start_server
else
    start_server
    start_loadgen "$@"
fi
rss_idle=$(vm VmRSS)
cpu0=$(cpu_ticks)
set +e
wait "$LG_PID"
rc=$?
LG_PID=""
set -e
cat "$TMPD/loadgen.out"

if kill -0 "$SRV_PID" 2>/dev/null; then
    cpu_ms=$((($(cpu_ticks) - cpu0) * 1000 / $(getconf CLK_TCK)))
    rss=$(vm VmRSS)
    hwm=$(vm VmHWM)
    open=$(sed -n 's/^loadgen: requests=.* open=\([0-9]*\)$/\1/p' "$TMPD/loadgen.out")
    per=""
    if [ -n "$open" ] && [ "$open" -gt 0 ]; then
        per=" per_open_conn_bytes=$(((rss - rss_idle) * 1024 / open))"
    fi
    idle=""
    if [ "${MEMIF_IDLE_SECS:-0}" -gt 0 ]; then
        # the server's CPU once the load has gone: utime + stime over
        # MEMIF_IDLE_SECS, in percent of one core
        cpu() { awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat"; }
        c0=$(cpu)
        sleep "$MEMIF_IDLE_SECS"
        c1=$(cpu)
        idle=" idle_cpu_pct=$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
            -v s="$MEMIF_IDLE_SECS" 'BEGIN { printf "%.2f", d / hz / s * 100 }') over ${MEMIF_IDLE_SECS}s"
    fi
    kill -TERM "$SRV_PID"
    wait "$SRV_PID" || true
    SRV_PID=""
    grep -E '^(core [0-9]+:|port:)' "$TMPD/server.log" | sed 's/^/memif.sh: server: /' >&2
    # the server's resident memory: idle before the run, at its end, the
    # peak, and what each connection still open at the end added
    echo "memif.sh: server rss_idle_kb=$rss_idle rss_kb=$rss hwm_kb=$hwm$per cpu_ms=$cpu_ms$idle" >&2
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$TMPD/server.log"; then
        echo "memif.sh: sanitizer report in the server log:" >&2
        cat "$TMPD/server.log" >&2
        rc=1
    fi
else
    echo "memif.sh: the server died during the run:" >&2
    tail -n 50 "$TMPD/server.log" >&2
    [ "$rc" != 0 ] || rc=1
fi
exit "$rc"
