#!/bin/bash
# bench/compare.sh: corehttpd, nginx and lighttpd side by side on this machine;
# writes a Markdown table and PNG charts to bench/results/<date>-<commit>/.
#
# What runs (the server on core 1, the client on core 0, every server on the
# same files and connection counts):
#   memif     corehttpd on DPDK net_memif (shared memory, no kernel), driven
#             by bench/loadgen (our own stack) through bench/memif.sh, with
#             --trust-link: it takes the frames as checksummed, as the
#             kernel's loopback does for wrk (summing every byte made the
#             load generator, not the server, the limit with 64 KB files);
#   tap       corehttpd on a DPDK net_tap port in a network namespace, driven
#             by wrk on the TAP's kernel side (198.18.0.1 -> 198.18.0.2);
#   nginx     Debian's nginx-light on the kernel stack over loopback
#             (127.0.0.1:8080 in a namespace of its own), driven by wrk;
#   lighttpd  Debian's lighttpd, likewise (127.0.0.1:8081).
# nginx and lighttpd run from config files in a temp dir as this script's own
# processes, tuned as their docs advise for static files (sendfile,
# open_file_cache / stat cache, no access log, reuseport where there is one,
# one worker pinned to the server core). corehttpd's pair shares its one core
# ([cores] list = 1).
#
# Points: files of 1 KB, 64 KB and 1 MB (made in a temp site), keep-alive and
# `Connection: close`, 64 and 1,000 connections. Each point runs RUNS times,
# the servers taking turns; the table gives the median and the min-max of
# requests/s, connections/s, Gbit/s (response bytes, headers and bodies),
# p50/p99/p99.9 latency and server CPU per request (utime + stime of the
# server's processes over the run, /proc/PID/stat; for memif over the load
# generator's whole life, start-up included).
#
# Then the mTCP paper's seed experiment: `ab -n 200000 -c 10000` for the 1 KB
# file against corehttpd over the TAP and against nginx in the same namespace
# set-up (ab in the TAP's namespace; nginx in the server namespace on a veth
# address, 198.18.1.2), RUNS times each: requests/s, failed requests, ab's
# percentiles, and the server's CPU while idle for 5 s after the load.
#
# Last (not with --quick), a `perf record -g` profile of core 1 (cpu-clock)
# for every point where corehttpd's median requests/s is behind its goal
# (nginx's, or for 1 KB the ratio to nginx issue 9 sets: memif 3x keep-alive
# and 5x close, TAP 2x): the top symbols and their cost per request in
# profile-*.txt; for a TAP point also core 1 by what it did and the ceiling,
# the median requests/s over the share of the TAP's own I/O: what they would
# be if everything else took no time.
#
# Usage: sudo bench/compare.sh [--quick] [-n RUNS] [-d SECONDS] [-o DIR]
#   --quick   a smoke run: 1 run of 2 s per point, the 1 KB file only, 64
#             connections, ab -n 20000 -c 1000, 1 s of idle, no profiles;
#             the folder's name ends in -quick (options after it still apply)
#   -n RUNS   runs per point (BENCH_RUNS, default 3)
#   -d SECS   seconds per run (BENCH_SECS, default 5)
#   -o DIR    where the run's folder goes (BENCH_OUT, default bench/results)
# More environment: BENCH_TARGETS (memif,tap,nginx,lighttpd), BENCH_FILES
# (1k,64k,1m), BENCH_MODES (keepalive,close), BENCH_CONNS (64,1000),
# BENCH_AB_N (200000), BENCH_AB_C (10000), BENCH_IDLE_SECS (5: the idle
# measure after each ab run), BENCH_PROFILE (1; 0: none; all: every
# corehttpd point, also those ahead of nginx),
# COREHTTPD_BIN, LOADGEN_BIN, BENCH_KEEP=1 (keep the temp dir).
#
# Needs root (namespaces, DPDK), a Release build in build/ (the script builds
# one if there is none) and the `bench` packages (installed by
# packaging/install-deps.sh bench, which it runs). Addresses: 198.18.0.0/15
# only. Everything it starts is stopped by pid and its namespaces deleted by
# name, also on failure or Ctrl-C. Progress goes to stderr; the path of the
# results folder is the last line on stdout.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-5}
out_base=${BENCH_OUT:-$repo/bench/results}
targets=${BENCH_TARGETS:-memif,tap,nginx,lighttpd}
files=${BENCH_FILES:-1k,64k,1m}
modes=${BENCH_MODES:-keepalive,close}
conns_list=${BENCH_CONNS:-64,1000}
ab_n=${BENCH_AB_N:-200000}
ab_c=${BENCH_AB_C:-10000}
profile=${BENCH_PROFILE:-1}
idle_secs=${BENCH_IDLE_SECS:-5}
quick=0

usage() {
    sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick)
        quick=1
        runs=1
        secs=2
        files=1k
        conns_list=64
        ab_n=20000
        ab_c=1000
        profile=0
        idle_secs=1
        ;;
    -n)
        runs=$2
        shift
        ;;
    -d)
        secs=$2
        shift
        ;;
    -o)
        out_base=$2
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "compare.sh: unknown argument '$1' (--help)" >&2
        exit 2
        ;;
    esac
    shift
done
for v in "$runs" "$secs" "$ab_n" "$ab_c" "$idle_secs"; do
    case $v in '' | *[!0-9]* | 0)
        echo "compare.sh: runs, seconds and ab counts are positive integers (got '$v')" >&2
        exit 2
        ;;
    esac
done

SRV_CORE=1
CLI_CORE=0
HOST_IP=198.18.0.1 # the TAP's kernel side (wrk, ab)
SRV_IP=198.18.0.2  # corehttpd on the TAP
VETH_C=198.18.1.1  # the client namespace's end of the veth
VETH_S=198.18.1.2  # nginx for ab, in the server namespace
NGINX_PORT=8080
LIGHTTPD_PORT=8081
srv_bin=${COREHTTPD_BIN:-$repo/build/server/corehttpd}
lg_bin=${LOADGEN_BIN:-$repo/build/bench/loadgen}
lua=$repo/bench/wrk-stats.lua

tag=$$
nsc=chcmp-c-$tag # client side: corehttpd's TAP, wrk and ab for it
nss=chcmp-s-$tag # nginx and lighttpd: loopback, and the veth for ab
tap=cmpt$tag
prefix=chcmp-$tag
tmp=""
tap_pid=""
nginx_pid=""
lighttpd_pid=""
bg_pids=""

log() {
    printf '[compare %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

# stop_pid PID: TERM, up to 10 s, then KILL; reaps it.
stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    set +e
    for p in $bg_pids; do stop_pid "$p"; done
    stop_pid "$tap_pid"
    stop_pid "$nginx_pid"
    stop_pid "$lighttpd_pid"
    for ns in "$nsc" "$nss"; do
        if ip netns list | grep -q "^$ns\b"; then
            # clients a failed run left in our own namespaces
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
            ip netns del "$ns"
        fi
    done
    rm -rf "/var/run/dpdk/$prefix"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept $tmp"
    else
        case $tmp in /tmp/chcmp.*) rm -rf "$tmp" ;; esac
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ set-up
[ "$(id -u)" = 0 ] || die "run as root (namespaces, DPDK)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU $SRV_CORE, client on CPU $CLI_CORE)"
"$repo/packaging/install-deps.sh" bench >&2
for c in nginx lighttpd wrk ab gnuplot taskset ip perf; do
    command -v "$c" >/dev/null 2>&1 || die "needs $c (packaging/install-deps.sh bench)"
done
if [ ! -x "$srv_bin" ] || [ ! -x "$lg_bin" ]; then
    log "building Release in $repo/build"
    cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$repo/build" -j"$(nproc)" >&2
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[^=]*=//p' "$(dirname "$(dirname "$srv_bin")")/CMakeCache.txt" 2>/dev/null || true)
[ "$build_type" = Release ] || log "warning: $srv_bin is a '${build_type:-unknown}' build, not Release"
# wrk -c 1000 and ab -c 10000 need the descriptors
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)
[ "$nofile" -ge 12000 ] || log "warning: only $nofile file descriptors: ab -c $ab_c may fail"

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit=$commit-dirty
stamp=$(date -u +%Y-%m-%dT%H%MZ)
name=$stamp-$commit
[ "$quick" = 0 ] || name=$name-quick
out=$out_base/$name
mkdir -p "$out"
tmp=$(mktemp -d /tmp/chcmp.XXXXXX)
raw=$out/raw.tsv
printf 'target\tfile\tmode\tconns\trun\trps\tcps\tgbps\tp50_us\tp99_us\tp999_us\tcpu_us_per_req\terrors\trequests\n' >"$raw"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "results in $out; $runs run(s) of ${secs}s per point; targets $targets; load average $load_start"

# The site: the same three files for every server.
site=$tmp/site
mkdir -p "$site"
chmod 755 "$tmp" "$site"
head -c 1024 /dev/urandom >"$site/1k.bin"
head -c 65536 /dev/urandom >"$site/64k.bin"
head -c 1048576 /dev/urandom >"$site/1m.bin"
printf '<!doctype html><title>bench</title>\n' >"$site/index.html"
chmod 644 "$site"/*
file_bytes() {
    case $1 in 1k) echo 1024 ;; 64k) echo 65536 ;; 1m) echo 1048576 ;; *) die "unknown file $1 (1k, 64k, 1m)" ;; esac
}
for f in ${files//,/ }; do file_bytes "$f" >/dev/null; done

# Namespaces: nsc holds corehttpd's TAP and the clients for it; nss holds
# nginx and lighttpd (loopback for wrk, the veth for ab). Both: lo up, no
# IPv6, backlogs and ports for 10,000 connections at once.
ns_make() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    ip netns exec "$1" sysctl -qw net.core.somaxconn=65535 \
        net.ipv4.tcp_max_syn_backlog=65535 net.ipv4.ip_local_port_range="1024 65535" \
        net.ipv4.tcp_tw_reuse=1
}
log "namespaces $nsc and $nss"
ns_make "$nsc"
ns_make "$nss"
ip -n "$nsc" link add cmpa type veth peer name cmpb netns "$nss"
ip -n "$nsc" addr add "$VETH_C/24" dev cmpa
ip -n "$nss" addr add "$VETH_S/24" dev cmpb
ip -n "$nsc" link set cmpa up
ip -n "$nss" link set cmpb up

# cpu_ticks PID...: utime + stime of the processes (all their threads).
cpu_ticks() {
    local p t=0 v
    for p in "$@"; do
        v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
clk_tck=$(getconf CLK_TCK)

# wait_http NS URL WHAT
wait_http() {
    for _ in $(seq 300); do
        ip netns exec "$1" curl -s --noproxy '*' --max-time 1 -o /dev/null "$2" && return 0
        sleep 0.1
    done
    die "$3 does not answer at $2"
}

# ------------------------------------------------------------ the servers
tap_up() {
    cat >"$tmp/corehttpd.ini" <<EOF
[dpdk]
port = net_tap0,iface=$tap
hugepages = no
memory_mb = 1024
eal_args = --file-prefix=$prefix --no-pci

[net]
address = $SRV_IP/24
gateway = $HOST_IP

[cores]
list = $SRV_CORE

[tcp]
max_conns = 20000
backlog = 16384
pacing = ${BENCH_PACING:-yes}

[http]
listen = 80
root = $site
index = index.html
EOF
    ip netns exec "$nsc" "$srv_bin" -c "$tmp/corehttpd.ini" </dev/null >"$tmp/corehttpd.log" 2>&1 &
    tap_pid=$!
    for _ in $(seq 300); do
        ip -n "$nsc" link show "$tap" >/dev/null 2>&1 && break
        kill -0 "$tap_pid" 2>/dev/null || die "corehttpd did not start: $(tail -n 5 "$tmp/corehttpd.log")"
        sleep 0.1
    done
    ip -n "$nsc" addr add "$HOST_IP/24" dev "$tap"
    # The kernel's queue towards the TAP (what a NIC's rx ring is to a real
    # port) must hold ab's opening burst: at 10,000 it dropped some 18,000
    # frames of `ab -c 10000` (SYNs retried after 1 s: a p99 of 1.5 s).
    ip -n "$nsc" link set "$tap" txqueuelen 100000
    ip -n "$nsc" link set "$tap" up
    wait_http "$nsc" "http://$SRV_IP/1k.bin" "corehttpd (TAP)"
}

nginx_up() {
    local d=$tmp/nginx
    mkdir -p "$d"
    # nginx's docs for static files: sendfile, tcp_nopush, open_file_cache,
    # no access log; one worker on the server core, reuseport listeners.
    cat >"$d/nginx.conf" <<EOF
user root;
worker_processes 1;
worker_cpu_affinity $(printf '1%0*d' "$SRV_CORE" 0);
worker_rlimit_nofile $nofile;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections $((nofile - 100));
    use epoll;
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_errors on;
    keepalive_timeout 30s;
    default_type application/octet-stream;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT reuseport backlog=16384;
        listen $VETH_S:80 reuseport backlog=16384;
        root $site;
    }
}
EOF
    ip netns exec "$nss" taskset -c "$SRV_CORE" nginx -c "$d/nginx.conf" -p "$d" </dev/null \
        >"$d/out.log" 2>&1 &
    nginx_pid=$!
    wait_http "$nss" "http://127.0.0.1:$NGINX_PORT/1k.bin" nginx
}

lighttpd_up() {
    local d=$tmp/lighttpd
    mkdir -p "$d"
    # lighttpd's performance docs: sendfile, the stat cache, no access log
    # (mod_accesslog not loaded), epoll. It has no reuseport option; one
    # process (max-worker 0) pinned to the server core.
    cat >"$d/lighttpd.conf" <<EOF
server.document-root = "$site"
server.bind = "127.0.0.1"
server.port = $LIGHTTPD_PORT
server.errorlog = "$d/error.log"
server.event-handler = "linux-sysepoll"
server.network-backend = "sendfile"
server.stat-cache-engine = "inotify"
server.max-worker = 0
server.max-fds = $nofile
server.max-connections = $((nofile / 2 - 100))
server.listen-backlog = 16384
server.max-keep-alive-idle = 30
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", "" => "application/octet-stream" )
EOF
    ip netns exec "$nss" taskset -c "$SRV_CORE" lighttpd -D -f "$d/lighttpd.conf" </dev/null \
        >"$d/out.log" 2>&1 &
    lighttpd_pid=$!
    wait_http "$nss" "http://127.0.0.1:$LIGHTTPD_PORT/1k.bin" lighttpd
}

# pids_of TARGET: the server's processes whose CPU is counted.
pids_of() {
    case $1 in
    tap) echo "$tap_pid" ;;
    nginx) echo "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')" ;;
    lighttpd) echo "$lighttpd_pid" ;;
    esac
}

# ------------------------------------------------------------ one run
# kv LINE KEY: the value of KEY=VALUE among LINE's words ("0" when absent).
kv() {
    local w
    for w in $1; do
        case $w in "$2="*)
            echo "${w#*=}"
            return 0
            ;;
        esac
    done
    echo 0
}

# record TARGET FILE MODE CONNS RUN RPS CPS GBPS P50 P99 P999 CPU_US ERRORS REQUESTS
record() {
    local IFS=$'\t'
    printf '%s\n' "$*" >>"$raw"
}

# run_wrk TARGET FILE MODE CONNS RUN [PROFILE-FILE]: one wrk run on the
# client core; with PROFILE-FILE, perf records core 1 in the middle of it.
run_wrk() {
    local t=$1 f=$2 mode=$3 c=$4 r=$5 pf=${6:-} ns url pids t0 t1 o line
    local -a hdr=()
    case $t in
    tap)
        ns=$nsc
        url=http://$SRV_IP/$f.bin
        ;;
    nginx)
        ns=$nss
        url=http://127.0.0.1:$NGINX_PORT/$f.bin
        ;;
    lighttpd)
        ns=$nss
        url=http://127.0.0.1:$LIGHTTPD_PORT/$f.bin
        ;;
    esac
    [ "$mode" = close ] && hdr=(-H 'Connection: close')
    pids=$(pids_of "$t")
    o=$tmp/wrk.out
    # shellcheck disable=SC2086 # a list of pids
    t0=$(cpu_ticks $pids)
    ip netns exec "$ns" taskset -c "$CLI_CORE" wrk -t1 -c "$c" -d "${secs}s" --timeout 10s \
        -s "$lua" "${hdr[@]}" "$url" >"$o" 2>&1 &
    local wpid=$!
    bg_pids="$wpid"
    [ -z "$pf" ] || perf_window "$pf"
    wait "$wpid" || true
    bg_pids=""
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    line=$(grep '^wrkstat ' "$o" || true)
    if [ -z "$line" ]; then
        log "  $t $f $mode c=$c run $r: wrk failed: $(tail -n 3 "$o" | tr '\n' ' ')"
        record "$t" "$f" "$mode" "$c" "$r" fail - - - - - - - 0
        return 0
    fi
    local requests dus bytes errs rps cps gbps cpu
    requests=$(kv "$line" requests)
    dus=$(kv "$line" duration_us)
    bytes=$(kv "$line" bytes)
    errs=$(($(kv "$line" err_connect) + $(kv "$line" err_read) + $(kv "$line" err_write) +
        $(kv "$line" err_status) + $(kv "$line" err_timeout)))
    rps=$(awk -v n="$requests" -v d="$dus" 'BEGIN { printf "%.0f", n * 1e6 / d }')
    cps=-
    [ "$mode" = close ] && cps=$rps
    gbps=$(awk -v b="$bytes" -v d="$dus" 'BEGIN { printf "%.3f", b * 8e-3 / d }')
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    record "$t" "$f" "$mode" "$c" "$r" "$rps" "$cps" "$gbps" "$(kv "$line" p50_us)" "$(kv "$line" p99_us)" \
        "$(kv "$line" p999_us)" "$cpu" "$errs" "$requests"
    local p99_us
    p99_us=$(kv "$line" p99_us)
    log "  $t $f $mode c=$c run $r: $rps req/s, $gbps Gbit/s, p99 $p99_us us, cpu $cpu us/req, errors $errs"
    PROFILED_RPS=$rps
}

# run_memif FILE MODE CONNS RUN [PROFILE-FILE]: one bench/memif.sh run.
run_memif() {
    local f=$1 mode=$2 c=$3 r=$4 pf=${5:-} o=$tmp/memif.out e=$tmp/memif.err line
    local -a args=(-c "$c" -d "$secs" --trust-link)
    [ "$mode" = close ] && args+=(--close)
    [ -n "$pf" ] || args+=(-q)
    MEMIF_ROOT=$site MEMIF_MAX_CONNS=20000 COREHTTPD_BIN=$srv_bin LOADGEN_BIN=$lg_bin \
        MEMIF_SERVER_CORE=$SRV_CORE MEMIF_LOADGEN_CORE=$CLI_CORE \
        "$repo/bench/memif.sh" "${args[@]}" "/$f.bin" >"$o" 2>"$e" &
    local mpid=$!
    bg_pids="$mpid"
    if [ -n "$pf" ]; then
        # the load starts with the load generator's first progress line
        for _ in $(seq 300); do
            grep -q '^loadgen: 1s ' "$e" && break
            kill -0 "$mpid" 2>/dev/null || break
            sleep 0.1
        done
        perf_window "$pf"
    fi
    wait "$mpid" || true
    bg_pids=""
    line=$(grep '^loadgen: requests=' "$o" | tail -n 1 || true)
    if [ -z "$line" ]; then
        log "  memif $f $mode c=$c run $r: failed: $(tail -n 3 "$e" | tr '\n' ' ')"
        record memif "$f" "$mode" "$c" "$r" fail - - - - - - - 0
        return 0
    fi
    local requests rps gbps p99 p999 cpu_ms cpu errs cps=-
    requests=$(kv "$line" requests)
    rps=$(kv "$line" rps)
    gbps=$(kv "$line" gbit_s)
    p99=$(kv "$line" p99_us)
    errs=$(kv "$line" errors)
    p999=$(sed -n 's/.* p99\.9 \([0-9]*\) .*/\1/p' "$o" | tail -n 1)
    cpu_ms=$(sed -n 's/.* cpu_ms=\([0-9]*\).*/\1/p' "$e" | tail -n 1)
    cpu=$(awk -v ms="${cpu_ms:-0}" -v n="$requests" 'BEGIN { printf "%.2f", n ? ms * 1e3 / n : 0 }')
    [ "$mode" = close ] && cps=$(kv "$line" conn_per_s)
    record memif "$f" "$mode" "$c" "$r" "$rps" "$cps" "$gbps" "$(kv "$line" p50_us)" "$p99" "${p999:--}" \
        "$cpu" "$errs" "$requests"
    log "  memif $f $mode c=$c run $r: $rps req/s, $gbps Gbit/s, p99 $p99 us, cpu $cpu us/req, errors $errs"
    PROFILED_RPS=$rps
}

# perf_window FILE: perf records core 1 (cpu-clock, call graphs) for the
# middle of a run: secs - 2 seconds, perf itself on the client core.
perf_window() {
    local w=$((secs > 4 ? secs - 2 : 2))
    sleep 1
    taskset -c "$CLI_CORE" perf record -q -C "$SRV_CORE" -g -F 999 -e cpu-clock -o "$1" \
        -- sleep "$w" >/dev/null 2>&1 || log "  perf record failed"
}

run_point() { # TARGET FILE MODE CONNS RUN [PROFILE-FILE]
    if [ "$1" = memif ]; then
        run_memif "${@:2}"
    else
        run_wrk "$@"
    fi
}

# ------------------------------------------------------------ the matrix
has_target() {
    case ",$targets," in *",$1,"*) return 0 ;; *) return 1 ;; esac
}
has_target tap && tap_up
has_target nginx && nginx_up
has_target lighttpd && lighttpd_up
log "servers up: corehttpd (TAP) ${tap_pid:--}, nginx ${nginx_pid:--} ($(nginx -v 2>&1 | sed 's/.*: //')), lighttpd ${lighttpd_pid:--} ($(lighttpd -v | sed -n '1s/ .*//p'))"

for f in ${files//,/ }; do
    for mode in ${modes//,/ }; do
        for c in ${conns_list//,/ }; do
            log "point: $f $mode $c connections"
            for r in $(seq "$runs"); do
                for t in ${targets//,/ }; do
                    run_point "$t" "$f" "$mode" "$c" "$r"
                done
            done
        done
    done
done

# ------------------------------------------------------------ ab (mTCP seed)
ab_tsv=$out/ab.tsv
printf 'target\trun\trps\tfailed\tnon2xx\tcomplete\tp50_ms\tp90_ms\tp99_ms\tp100_ms\tcpu_us_per_req\tidle_cpu_pct\n' >"$ab_tsv"
# run_ab TARGET RUN: ab from the client namespace on the client core.
run_ab() {
    local t=$1 r=$2 url pids t0 t1 o=$tmp/ab.out
    case $t in
    tap) url=http://$SRV_IP/1k.bin ;;
    nginx) url=http://$VETH_S/1k.bin ;;
    esac
    pids=$(pids_of "$t")
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    ip netns exec "$nsc" taskset -c "$CLI_CORE" timeout 300 ab -q -r -s 30 -n "$ab_n" -c "$ab_c" "$url" \
        >"$o" 2>&1 || true
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    # idle: the server's CPU over idle_secs with no load, 1 s after it
    local i0 i1
    sleep 1
    # shellcheck disable=SC2086
    i0=$(cpu_ticks $pids)
    sleep "$idle_secs"
    # shellcheck disable=SC2086
    i1=$(cpu_ticks $pids)
    awk -v t="$t" -v r="$r" -v cpu=$((t1 - t0)) -v idle=$((i1 - i0)) -v hz="$clk_tck" -v is="$idle_secs" '
        /^Complete requests:/ { done = $3 }
        /^Failed requests:/ { failed = $3 }
        /^Non-2xx responses:/ { non2xx = $3 }
        /^Requests per second:/ { rps = $4 }
        /^ *50% / { p50 = $2 } /^ *90% / { p90 = $2 } /^ *99% / { p99 = $2 } /^ *100% / { p100 = $2 }
        END {
            if (rps == "") { printf "%s\t%s\tfail\t-\t-\t-\t-\t-\t-\t-\t-\t-\n", t, r; exit }
            printf "%s\t%s\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.2f\t%.1f\n", t, r, rps, failed, non2xx, done,
                p50, p90, p99, p100, done ? cpu * 1e6 / hz / done : 0, idle * 100 / hz / is
        }' "$o" >>"$ab_tsv"
    log "  ab $t run $r: $(tail -n 1 "$ab_tsv" | cut -f3-)"
    [ "$(tail -n 1 "$ab_tsv" | cut -f3)" != fail ] || log "  ab output: $(tail -n 5 "$o" | tr '\n' ' ')"
}
if has_target tap && has_target nginx; then
    log "ab -n $ab_n -c $ab_c (the mTCP paper's seed), corehttpd over the TAP and nginx over the veth"
    for r in $(seq "$runs"); do
        run_ab tap "$r"
        run_ab nginx "$r"
    done
fi

# ------------------------------------------------------------ aggregation
# agg TARGET FILE MODE CONNS COLUMN: "median min max" over the runs ("- - -"
# when none).
agg() {
    awk -F'\t' -v t="$1" -v f="$2" -v m="$3" -v c="$4" -v col="$5" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
        $1 == t && $2 == f && $3 == m && $4 == c && $k != "-" && $k != "fail" { v[n++] = $k + 0 }
        END {
            if (n == 0) { print "- - -"; exit }
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
            med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
            print med, v[0], v[n - 1]
        }' "$raw"
}
# agg_ab TARGET COLUMN: the same over ab.tsv.
agg_ab() {
    awk -F'\t' -v t="$1" -v col="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
        $1 == t && $k != "-" && $3 != "fail" { v[n++] = $k + 0 }
        END {
            if (n == 0) { print "- - -"; exit }
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
            med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
            print med, v[0], v[n - 1]
        }' "$ab_tsv"
}
# fmt KIND MED MIN MAX: a cell. KIND: k (thousands), g (Gbit/s), i (integer),
# d (two decimals).
fmt() {
    awk -v k="$1" -v a="$2" -v b="$3" -v c="$4" -v runs="$runs" 'function f(x) {
            if (k == "k") return sprintf("%.1f k", x / 1000)
            if (k == "g") return sprintf("%.2f", x)
            if (k == "d") return sprintf("%.2f", x)
            return sprintf("%d", x)
        }
        BEGIN {
            if (a == "-") { print "-"; exit }
            s = f(a)
            if (runs > 1) { s = s " (" f(b) "-" f(c) ")"; sub(/ k-/, "-", s) }
            print s
        }'
}
ratio() { # A B: A / B, two decimals, "-" when either is missing
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'
}
med() { # TARGET FILE MODE CONNS COLUMN: the median alone
    agg "$@" | cut -d' ' -f1
}
label() { # FILE MODE CONNS
    local fl
    case $1 in 1k) fl="1 KB" ;; 64k) fl="64 KB" ;; 1m) fl="1 MB" ;; esac
    printf '%s | %s | %s' "$fl" "$([ "$2" = close ] && echo close || echo keep-alive)" "$3"
}
tname() {
    case $1 in
    memif) echo "corehttpd, DPDK net_memif (loadgen)" ;;
    tap) echo "corehttpd, DPDK net_tap (wrk)" ;;
    nginx) echo "nginx, kernel loopback (wrk)" ;;
    lighttpd) echo "lighttpd, kernel loopback (wrk)" ;;
    esac
}
goal_of() { # TARGET FILE MODE: issue 9's ratio to nginx for the point (rps;
    # with `Connection: close` requests are connections); 1 where it sets none
    case $1:$2:$3 in
    memif:1k:keepalive) echo 3 ;;
    memif:1k:close) echo 5 ;;
    tap:1k:*) echo 2 ;;
    *) echo 1 ;;
    esac
}

# tap_shares PERF-DATA: the TAP's profiled samples by what they were, one
# "what share" line each (share in %): `tap_io` the TAP's system calls and
# driver (every sample under readv or writev, net_tap's code, the kernel's
# TCP for wrk that a writev runs), `handover` the pair passing the core (the
# futex and the context switches in it; the hot path takes no lock),
# `sleep` the stack thread's idle sleeps (epoll_wait, timerfd), `worker` the
# rest of the worker threads, `stack` the rest of corehttpd's threads (the
# stack thread; the control and log threads' share is small), `other` what
# else ran on the core, idle included.
tap_shares() {
    perf script -i "$1" -F comm,ip,sym,dso 2>/dev/null | awk '
        function flush() {
            if (!insample) return
            if (comm != "corehttpd" && comm !~ /^chttpd-/) c = "other"
            else if (io) c = "tap_io"
            else if (ho) c = "handover"
            else if (zz) c = "sleep"
            else if (comm ~ /^chttpd-w/) c = "worker"
            else c = "stack"
            n[c]++; total++; insample = io = ho = zz = 0
        }
        /^[^\t]/ { flush(); comm = $1; insample = 1; next }
        /^\t/ {
            if ($0 ~ /[ \t](__GI___)?(readv|writev) |tun_chr_|librte_net_tap/) io = 1
            if ($0 ~ /futex|[ \t]syscall /) ho = 1
            if ($0 ~ /do_epoll_wait|timerfd/) zz = 1
        }
        END {
            flush()
            if (!total) exit 1
            split("tap_io handover sleep stack worker other", order, " ")
            for (i = 1; i <= 6; i++) printf "%s %.2f\n", order[i], 100 * n[order[i]] / total
        }'
}

# ------------------------------------------------------------ profiles
# For each point where a corehttpd path is behind its goal, one more run
# under perf; the top symbols with their share of core 1 and the cost per request
# that share is (the share of one second of core 1 over the run's req/s).
profiles=""
if [ "$profile" != 0 ] && has_target nginx; then
    if perf record -q -o "$tmp/probe.data" -e cpu-clock -g -- true >/dev/null 2>&1; then
        for f in ${files//,/ }; do
            for mode in ${modes//,/ }; do
                for c in ${conns_list//,/ }; do
                    n=$(med nginx "$f" "$mode" "$c" rps)
                    for t in memif tap; do
                        has_target "$t" || continue
                        m=$(med "$t" "$f" "$mode" "$c" rps)
                        if [ "$m" = - ] || [ "$n" = - ]; then continue; fi
                        g=$(goal_of "$t" "$f" "$mode")
                        [ "$profile" = all ] || awk -v a="$m" -v b="$n" -v g="$g" 'BEGIN { exit !(a < g * b) }' || continue
                        pf=$tmp/perf-$t-$f-$mode-$c.data
                        log "profile: $t $f $mode $c (median $m req/s against nginx's $n, goal ${g}x)"
                        PROFILED_RPS=""
                        run_point "$t" "$f" "$mode" "$c" profile "$pf"
                        # the profiled run is not one of the measured ones
                        sed -i '$d' "$raw"
                        if [ ! -s "$pf" ] || [ -z "$PROFILED_RPS" ]; then continue; fi
                        if [ "$PROFILED_RPS" = 0 ]; then
                            log "  no request completed in the profiled run: no cost per request"
                            continue
                        fi
                        txt=$out/profile-$t-$f-$mode-$c.txt
                        {
                            printf '# perf record -C %s -g -F 999 -e cpu-clock, %s, %s, %s, %s connections\n' \
                                "$SRV_CORE" "$(tname "$t")" "$f" "$mode" "$c"
                            printf '# the profiled run: %s requests/s (median of the measured runs %s, nginx %s)\n' \
                                "$PROFILED_RPS" "$m" "$n"
                            printf '# ns/req = share of core %s x 1 s / requests per second\n' "$SRV_CORE"
                            printf '#\n# self cost, top 25 (comm, object, symbol)\n'
                            printf '%8s %8s  %s\n' share ns/req 'comm  object  symbol'
                            perf report -i "$pf" --stdio --no-children -g none --sort comm,dso,sym \
                                --percent-limit 0.3 2>/dev/null | grep -E '^ +[0-9.]+%' | head -n 25 |
                                awk -v rps="$PROFILED_RPS" '{ p = $1; sub(/%/, "", p); $1 = "";
                                    printf "%7.2f%% %8.0f %s\n", p, p / 100 * 1e9 / rps, $0 }'
                            printf '#\n# with children (inclusive), top 20\n'
                            perf report -i "$pf" --stdio --children -g none --sort comm,sym \
                                --percent-limit 1 2>/dev/null | grep -E '^ +[0-9.]+%' | head -n 20 |
                                awk -v rps="$PROFILED_RPS" '{ p = $1; sub(/%/, "", p); $1 = ""; $2 = "";
                                    printf "%7.2f%% %8.0f %s\n", p, p / 100 * 1e9 / rps, $0 }'
                            # The ceiling scales the measured median by the TAP
                            # I/O's share (a fraction, which the host's speed moves
                            # far less than a rate from another run).
                            if [ "$t" = tap ] && tap_shares "$pf" >"$tmp/shares"; then
                                printf '#\n# core %s by what it did (share, ns/req of the profiled run); the ceiling:\n' "$SRV_CORE"
                                printf '# the median requests/s over the TAP I/O'"'"'s share, what they would be if\n'
                                printf '# everything but the TAP'"'"'s I/O took no time, and that against nginx'"'"'s median\n'
                                # the split and the ceiling to the profile; the
                                # report's row to $tmp/ceilings
                                awk -v rps="$PROFILED_RPS" -v m="$m" -v n="$n" -v pt="$(label "$f" "$mode" "$c")" \
                                    -v rows="$tmp/ceilings" '
                                    { s[$1] = $2; printf "%-9s %6.2f%% %8.0f\n", $1, $2, $2 / 100 * 1e9 / rps }
                                    END {
                                        if (s["tap_io"] <= 0 || n <= 0) exit
                                        c = m * 100 / s["tap_io"]
                                        printf "ceiling   %.0f req/s, %.2fx nginx\n", c, c / n
                                        printf "| %s | %.1f k | %.2f | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.1f k | %.2f |\n", pt, m / 1000, m / n,
                                            s["tap_io"], s["stack"], s["worker"], s["handover"], s["sleep"], c / 1000, c / n >>rows
                                    }' "$tmp/shares"
                            fi
                        } >"$txt"
                        profiles="$profiles $txt"
                    done
                done
            done
        done
    else
        log "perf cannot record here: no profiles"
    fi
fi

# ------------------------------------------------------------ servers down
stop_pid "$tap_pid"
tap_pid=""
stop_pid "$nginx_pid"
nginx_pid=""
stop_pid "$lighttpd_pid"
lighttpd_pid=""
if [ -s "$tmp/corehttpd.log" ]; then
    grep -E '^(core [0-9]+:|port:)' "$tmp/corehttpd.log" >"$out/corehttpd-tap-exit.txt" || true
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ the report
md=$out/README.md
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gb=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
{
    printf '# corehttpd, nginx and lighttpd side by side\n\n'
    printf 'Run %s of commit `%s` (corehttpd %s build) by `bench/compare.sh%s`.\n\n' \
        "$(date -u +'%Y-%m-%d %H:%M UTC')" "$commit" "${build_type:-unknown}" "$([ "$quick" = 1 ] && echo ' --quick')"
    printf -- '- Machine: %s, %s CPUs, %s GB, Linux %s; load average %s at the start, %s at the end.\n' \
        "$cpu_model" "$(nproc)" "$mem_gb" "$(uname -r)" "$load_start" "$load_end"
    printf -- '- Software: nginx %s (Debian nginx-light), lighttpd %s, wrk %s, ab %s, DPDK %s.\n' \
        "$(nginx -v 2>&1 | sed 's/.*nginx\///')" "$(lighttpd -v | sed -n '1{s/^lighttpd\///;s/ .*//;p}')" \
        "$(dpkg-query -W -f='${Version}' wrk 2>/dev/null)" \
        "$(ab -V | sed -n '1s/.*Version \([^ ]*\).*/\1/p')" "$(pkg-config --modversion libdpdk 2>/dev/null || echo ?)"
    printf -- '- Every server on CPU %s, every client on CPU %s; %s run(s) of %s s per point, the servers taking turns; cells are median (min-max).\n' \
        "$SRV_CORE" "$CLI_CORE" "$runs" "$secs"
    printf -- '- Files of 1 KB, 64 KB and 1 MB of random bytes; keep-alive (every server closes a connection after 1,000 requests, their common default) or `Connection: close` (a new connection per request).\n'
    printf -- '- corehttpd over net_memif is driven by `bench/loadgen` (our stack, one core); the other three by wrk (`-t1`, one core). Compare memif with the kernel loopback figures, and TAP with TAP: the TAP costs the kernel a system call per frame.\n\n'

    printf '## Requests per second\n\n'
    printf '| file | connection | conns |'
    for t in ${targets//,/ }; do printf ' %s |' "$(tname "$t")"; done
    has_target nginx && for t in memif tap; do has_target "$t" && printf ' %s/nginx |' "$t"; done
    has_target lighttpd && for t in memif tap; do has_target "$t" && printf ' %s/lighttpd |' "$t"; done
    printf '\n|---|---|---|'
    for t in ${targets//,/ }; do printf -- '---|'; done
    has_target nginx && for t in memif tap; do has_target "$t" && printf -- '---|'; done
    has_target lighttpd && for t in memif tap; do has_target "$t" && printf -- '---|'; done
    printf '\n'
    for f in ${files//,/ }; do
        for mode in ${modes//,/ }; do
            for c in ${conns_list//,/ }; do
                printf '| %s |' "$(label "$f" "$mode" "$c")"
                for t in ${targets//,/ }; do
                    # shellcheck disable=SC2046 # three words
                    printf ' %s |' "$(fmt k $(agg "$t" "$f" "$mode" "$c" rps))"
                done
                for base in nginx lighttpd; do
                    has_target "$base" || continue
                    for t in memif tap; do
                        has_target "$t" || continue
                        printf ' %s |' "$(ratio "$(med "$t" "$f" "$mode" "$c" rps)" "$(med "$base" "$f" "$mode" "$c" rps)")"
                    done
                done
                printf '\n'
            done
        done
    done
    printf '\nRatios are of the medians. With 64 KB and 1 MB files, requests/s and Gbit/s ratios differ only where the median of each comes from another run.\n\n'

    printf '## Every measure, per server\n\n'
    printf 'conn/s: connections opened per second (with `Connection: close`; for wrk, one per request). Gbit/s: response bytes (headers and bodies) as TCP payload. Latency: request sent to response complete, in microseconds (p99.9 from wrk-stats.lua, or the load generator'"'"'s histogram). CPU: the server'"'"'s user + system time per request, in microseconds.\n\n'
    for t in ${targets//,/ }; do
        printf '### %s\n\n' "$(tname "$t")"
        printf '| file | connection | conns | req/s | conn/s | Gbit/s | p50 us | p99 us | p99.9 us | CPU us/req | errors |\n'
        printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
        for f in ${files//,/ }; do
            for mode in ${modes//,/ }; do
                for c in ${conns_list//,/ }; do
                    # shellcheck disable=SC2046 # three words each
                    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$f" "$mode" "$c")" \
                        "$(fmt k $(agg "$t" "$f" "$mode" "$c" rps))" \
                        "$(fmt k $(agg "$t" "$f" "$mode" "$c" cps))" \
                        "$(fmt g $(agg "$t" "$f" "$mode" "$c" gbps))" \
                        "$(fmt i $(agg "$t" "$f" "$mode" "$c" p50_us))" \
                        "$(fmt i $(agg "$t" "$f" "$mode" "$c" p99_us))" \
                        "$(fmt i $(agg "$t" "$f" "$mode" "$c" p999_us))" \
                        "$(fmt d $(agg "$t" "$f" "$mode" "$c" cpu_us_per_req))" \
                        "$(awk -F'\t' -v t="$t" -v f="$f" -v m="$mode" -v c="$c" \
                            '$1 == t && $2 == f && $3 == m && $4 == c { if ($6 == "fail") x++; else e += $13 } END { printf "%d%s", e, x ? " (" x " failed runs)" : "" }' "$raw")"
                done
            done
        done
        printf '\n'
    done

    if [ "$(wc -l <"$ab_tsv")" -gt 1 ]; then
        printf '## `ab -n %s -c %s` (the mTCP paper'"'"'s seed experiment)\n\n' "$ab_n" "$ab_c"
        printf 'ab (HTTP/1.0, a connection per request) on CPU %s in the TAP'"'"'s namespace fetches the 1 KB file: from corehttpd over the TAP, and from nginx in the server namespace over a veth pair. Latency in ms (ab'"'"'s percentile table); idle: the server'"'"'s CPU over %s s after the load (from 1 s after it), in %% of one CPU.\n\n' "$CLI_CORE" "$idle_secs"
        printf '| server | req/s | failed | non-2xx | p50 ms | p90 ms | p99 ms | p100 ms | CPU us/req | idle CPU %% |\n'
        printf '|---|---|---|---|---|---|---|---|---|---|\n'
        for t in tap nginx; do
            # shellcheck disable=SC2046
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
                "$([ "$t" = tap ] && echo 'corehttpd, DPDK net_tap' || echo 'nginx, kernel, veth')" \
                "$(fmt k $(agg_ab "$t" rps))" "$(fmt i $(agg_ab "$t" failed))" "$(fmt i $(agg_ab "$t" non2xx))" \
                "$(fmt i $(agg_ab "$t" p50_ms))" "$(fmt i $(agg_ab "$t" p90_ms))" \
                "$(fmt i $(agg_ab "$t" p99_ms))" "$(fmt i $(agg_ab "$t" p100_ms))" \
                "$(fmt d $(agg_ab "$t" cpu_us_per_req))" "$(fmt d $(agg_ab "$t" idle_cpu_pct))"
        done
        printf '\n'
    fi

    # The numbers issue 9 asks for, from this run's medians.
    if has_target nginx; then
        printf '## Against the targets\n\n| target | this run | met |\n|---|---|---|\n'
        goal() { # WHAT RATIO MIN
            local ok=no
            [ "$2" = - ] && ok="not measured"
            [ "$2" != - ] && awk -v a="$2" -v b="$3" 'BEGIN { exit !(a >= b) }' && ok=yes
            printf '| %s | %s | %s |\n' "$1" "$2" "$ok"
        }
        for c in ${conns_list//,/ }; do
            for t in memif tap; do
                path=$([ "$t" = tap ] && echo TAP || echo memif)
                g=$(goal_of "$t" 1k keepalive)
                goal "1 KB keep-alive req/s, $c conns: $path >= ${g}x nginx" \
                    "$(ratio "$(med $t 1k keepalive "$c" rps)" "$(med nginx 1k keepalive "$c" rps)")" "$g"
                g=$(goal_of "$t" 1k close)
                goal "1 KB close conn/s, $c conns: $path >= ${g}x nginx" \
                    "$(ratio "$(med $t 1k close "$c" cps)" "$(med nginx 1k close "$c" cps)")" "$g"
            done
            for f in 64k 1m; do
                for mode in ${modes//,/ }; do
                    goal "$f $mode Gbit/s, $c conns: memif >= nginx" \
                        "$(ratio "$(med memif "$f" "$mode" "$c" gbps)" "$(med nginx "$f" "$mode" "$c" gbps)")" 1
                done
            done
        done | grep -v '| - | not measured |' || true
        if [ "$(wc -l <"$ab_tsv")" -gt 1 ]; then
            af=$(awk -F'\t' '$1 == "tap" { if ($3 == "fail") x++; else f += $4 + $5 } END { print (x ? "a run failed" : f + 0) }' "$ab_tsv")
            printf '| ab: 0 failed requests (corehttpd, all runs) | %s | %s |\n' "$af" "$([ "$af" = 0 ] && echo yes || echo no)"
            cp99=$(agg_ab tap p99_ms | cut -d' ' -f1)
            np99=$(agg_ab nginx p99_ms | cut -d' ' -f1)
            printf '| ab: p99 no worse than nginx'"'"'s | %s ms against %s ms | %s |\n' "$cp99" "$np99" \
                "$(awk -v a="$cp99" -v b="$np99" 'BEGIN { print (a != "-" && b != "-" && a <= b) ? "yes" : "no" }')"
        fi
        printf '\n'
    fi

    if [ -s "$tmp/ceilings" ]; then
        printf '## The TAP'"'"'s ceiling\n\n'
        printf 'Each TAP point behind its goal, profiled (`profile-tap-*.txt`): CPU %s by what it did, from each sample'"'"'s call chain. TAP I/O: the `readv` and `writev` of DPDK'"'"'s `net_tap` (a system call per frame) and what the kernel runs in them, the kernel'"'"'s TCP for wrk included; stack and worker: the rest of corehttpd'"'"'s two threads; hand-over: the pair passing the core (the futex and its context switches); sleep: the stack thread'"'"'s idle waits (epoll_wait, timerfd). The ceiling is the median requests/s over the TAP I/O'"'"'s share: what the TAP would carry if everything else on the core took no time (corehttpd'"'"'s own work, and other tasks and idle, not in the table).\n\n' "$SRV_CORE"
        printf '| file | connection | conns | median req/s | tap/nginx | TAP I/O | stack | worker | hand-over | sleep | ceiling req/s | ceiling/nginx |\n'
        printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
        cat "$tmp/ceilings"
        printf '\n'
    fi

    printf '## Charts\n\n'
} >"$md"

# ------------------------------------------------------------ charts
# chart NAME TITLE YLABEL COLUMN LOG POINTS...: a bar per server and point,
# the median with a min-max error bar.
chart() {
    local name=$1 title=$2 ylabel=$3 col=$4 logscale=$5 dat
    shift 5
    [ $# -gt 0 ] || return 0
    dat=$tmp/$name.dat
    : >"$dat"
    local p f mode c t
    for p in "$@"; do
        IFS=: read -r f mode c <<<"$p"
        printf '"%s %s %s"' "$f" "$([ "$mode" = close ] && echo close || echo k-a)" "$c" >>"$dat"
        for t in ${targets//,/ }; do
            # shellcheck disable=SC2046
            set -- $(agg "$t" "$f" "$mode" "$c" "$col")
            if [ "$1" = - ]; then printf ' ? ? ?' >>"$dat"; else printf ' %s %s %s' "$1" "$2" "$3" >>"$dat"; fi
        done
        printf '\n' >>"$dat"
    done
    {
        printf 'set terminal pngcairo noenhanced size 1100,560 font ",10"\n'
        printf 'set output "%s"\n' "$out/$name.png"
        printf 'set title "%s"\nset ylabel "%s"\n' "$title" "$ylabel"
        printf 'set datafile missing "?"\nset style data histogram\n'
        printf 'set style histogram errorbars gap 1 lw 1\nset style fill solid 0.7 border -1\n'
        printf 'set key outside bottom center horizontal\nset grid ytics\nset yrange [%s:*]\n' "$([ "$logscale" = 1 ] && echo 1 || echo 0)"
        [ "$logscale" = 1 ] && printf 'set logscale y\n'
        printf 'plot '
        local i=0
        for t in ${targets//,/ }; do
            [ $i = 0 ] || printf ', '
            printf '"%s" using %d:%d:%d%s title "%s"' "$dat" $((2 + 3 * i)) $((3 + 3 * i)) $((4 + 3 * i)) \
                "$([ $i = 0 ] && echo ':xtic(1)')" "$(tname "$t")"
            i=$((i + 1))
        done
        printf '\n'
    } >"$tmp/$name.gp"
    gnuplot "$tmp/$name.gp" 2>"$tmp/$name.gperr" || log "gnuplot failed for $name: $(head -n 3 "$tmp/$name.gperr")"
    [ -s "$out/$name.png" ] && printf '![%s](%s.png)\n\n' "$title" "$name" >>"$md"
}
pts_1k=()
pts_big=()
pts_all=()
for f in ${files//,/ }; do
    for mode in ${modes//,/ }; do
        for c in ${conns_list//,/ }; do
            pts_all+=("$f:$mode:$c")
            if [ "$f" = 1k ]; then pts_1k+=("$f:$mode:$c"); else pts_big+=("$f:$mode:$c"); fi
        done
    done
done
chart rps-1k "1 KB file: requests per second (median, min-max)" "requests/s" rps 0 "${pts_1k[@]}"
chart gbps-large "64 KB and 1 MB files: Gbit/s (median, min-max)" "Gbit/s" gbps 0 "${pts_big[@]}"
chart p99 "p99 latency (median, min-max; log scale)" "microseconds" p99_us 1 "${pts_all[@]}"
chart cpu "server CPU per request (median, min-max; log scale)" "microseconds of CPU" cpu_us_per_req 1 "${pts_all[@]}"

if [ -n "$profiles" ]; then
    {
        printf '## Profiles where corehttpd is behind its goal\n\n'
        for p in $profiles; do
            printf -- '- [%s](%s): top self costs: %s\n' "$(basename "$p" .txt)" "$(basename "$p")" \
                "$(grep -E '^ *[0-9.]+%' "$p" | head -n 5 | awk '{ printf "%s%s %s ns", (NR > 1 ? "; " : ""), $NF, $2 }')"
        done
        printf '\n'
    } >>"$md"
fi
{
    printf '## Reproduce\n\n```sh\nsudo bench/compare.sh            # BENCH_RUNS=%s BENCH_SECS=%s\n```\n\n' "$runs" "$secs"
    printf 'raw.tsv and ab.tsv hold every run.\n'
} >>"$md"

log "done: $md"
echo "$out"
