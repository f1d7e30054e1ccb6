#!/bin/bash
# bench/synflood.sh: how long a new client waits during a SYN flood,
# corehttpd against nginx on kernel TCP, as a markdown table.
#
# For each flood rate both servers take the same flood for SECONDS while one
# curl fetches /index.html ten times a second (`--rate 10/s`), each fetch
# on a new connection (Connection: close) and bounded by --max-time 3; the
# table gives the probes that failed and the p50/p99/max of curl's
# time_total. The flood is tests/integration/synflood.c: bare SYNs from
# random addresses of 198.18.0.0/15 (never the two hosts of the test),
# random ports and sequence numbers, written with a packet socket to the
# client's interface at the given rate. hping3 --flood reaches about
# 400,000 frames/s on this VM (one sendto per frame), so the default rates
# are a quarter of that and all of it.
#
# Topology (addresses from 198.18.0.0/15 only; client 198.18.0.1, server
# 198.18.0.2 on both paths):
#   corehttpd: namespace A, corehttpd on a DPDK net_tap port ([cores]
#              list = 0, the defaults otherwise), curl and the flood on the
#              TAP's kernel side in A (as in tests/integration).
#   nginx:     namespace C (curl, the flood) and namespace S (nginx, one
#              worker on CPU 0, kernel TCP with its defaults: SYN cookies on)
#              joined by a veth pair; S routes through 198.18.0.1 as
#              corehttpd does, so both answer the spoofed sources alike.
# The flood and curl run on CPU 1.
#
# Usage: bench/synflood.sh [-r RATES] [-d SECONDS] [-b CORE-HTTPD-BINARY]
#   RATES: comma list of frames/s (default 100000,400000); SECONDS default
#   20. Needs root, nginx, curl, cc, taskset. Progress on stderr, the table
#   on stdout.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
rates=100000,400000
secs=20
bin=$repo/build/server/corehttpd
while getopts r:d:b:h opt; do
    case $opt in
    r) rates=$OPTARG ;;
    d) secs=$OPTARG ;;
    b) bin=$OPTARG ;;
    *)
        sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
done
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac

HOST_IP=198.18.0.1
SRV_IP=198.18.0.2
tag=$$
nsa=chs-a-$tag
nsc=chs-c-$tag
nss=chs-s-$tag
tap=cst$tag
prefix=chs-$tag
tmp=$(mktemp -d /tmp/chs-synflood.XXXXXX)
srv_pid=""
nginx_pid=""

log() {
    printf '[synflood] %s\n' "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

cleanup() {
    set +e
    [ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    for ns in "$nsa" "$nsc" "$nss"; do
        ip netns list | grep -q "^$ns\b" && ip netns del "$ns"
    done
    rm -rf "/var/run/dpdk/$prefix"
    case $tmp in /tmp/chs-synflood.*) rm -rf "$tmp" ;; esac
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (namespaces, DPDK TAP)"
for c in nginx curl cc taskset ip; do
    command -v "$c" >/dev/null 2>&1 || die "needs $c"
done
[ -x "$bin" ] || die "$bin is not executable (build first, or -b PATH)"
cc -O2 -o "$tmp/synflood" "$repo/tests/integration/synflood.c" || die "cannot build synflood.c"

wait_http() { # NS WHAT
    for _ in $(seq 100); do
        ip netns exec "$1" curl -s --noproxy '*' --max-time 1 -o /dev/null "http://$SRV_IP/" &&
            return 0
        sleep 0.1
    done
    die "$2 does not answer"
}

corehttpd_up() {
    ip netns add "$nsa"
    ip -n "$nsa" link set lo up
    ip netns exec "$nsa" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    cat >"$tmp/corehttpd.ini" <<EOF
[dpdk]
port = net_tap0,iface=$tap
hugepages = no
memory_mb = 512
eal_args = --file-prefix=$prefix --no-pci

[net]
address = $SRV_IP/24
gateway = $HOST_IP

[cores]
list = 0

[http]
root = $repo/www
status_allow = $HOST_IP
EOF
    ip netns exec "$nsa" "$bin" -c "$tmp/corehttpd.ini" </dev/null >"$tmp/corehttpd.log" 2>&1 &
    srv_pid=$!
    for _ in $(seq 100); do
        ip -n "$nsa" link show "$tap" >/dev/null 2>&1 && break
        sleep 0.1
    done
    ip -n "$nsa" addr add "$HOST_IP/24" dev "$tap"
    ip -n "$nsa" link set "$tap" up
    wait_http "$nsa" corehttpd
}

nginx_up() {
    ip netns add "$nsc"
    ip netns add "$nss"
    for ns in "$nsc" "$nss"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    done
    ip -n "$nsc" link add nbc type veth peer name nbs netns "$nss"
    ip -n "$nsc" addr add "$HOST_IP/24" dev nbc
    ip -n "$nss" addr add "$SRV_IP/24" dev nbs
    ip -n "$nsc" link set nbc up
    ip -n "$nss" link set nbs up
    ip -n "$nss" route add default via "$HOST_IP"
    mkdir -p "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
worker_cpu_affinity 01;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 30;
    default_type application/octet-stream;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen $SRV_IP:80;
        root $repo/www;
    }
}
EOF
    ip netns exec "$nss" nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" </dev/null \
        >"$tmp/nginx/out.log" 2>&1 &
    nginx_pid=$!
    wait_http "$nsc" nginx
}

# stat NS KEY: a value of corehttpd's status page ("-" for nginx).
stat() {
    [ "$1" = "$nsa" ] || {
        echo -
        return
    }
    ip netns exec "$1" curl -s --noproxy '*' "http://$SRV_IP/server-status" |
        sed -n "s/^$2: //p"
}

# run NS IFACE RATE: the flood and the probes side by side; prints
# "sent probes failed over1s p50 p99 max rx shed" (ms; rx: frames the
# server received, shed: SYNs it shed; corehttpd only).
run() {
    local ns=$1 ifc=$2 rate=$3 mac n args=() out=$tmp/probes fpid rx0 shed0
    ip netns exec "$ns" curl -s --noproxy '*' -o /dev/null "http://$SRV_IP/"
    rx0=$(stat "$ns" rx_packets)
    shed0=$(stat "$ns" rx_drop_syn_budget)
    mac=$(ip -n "$ns" neigh show "$SRV_IP" dev "$ifc" | awk '{ print $3 }')
    [ -n "$mac" ] || die "no neighbour entry for $SRV_IP in $ns"
    ip netns exec "$ns" taskset -c 1 "$tmp/synflood" "$ifc" "$mac" "$SRV_IP" 80 \
        198.18.0.0/15 "$rate" "$secs" >"$tmp/flood.out" 2>&1 &
    fpid=$!
    sleep 1
    n=$(((secs - 2) * 10))
    for _ in $(seq "$n"); do
        args+=(-o /dev/null "http://$SRV_IP/index.html")
    done
    ip netns exec "$ns" taskset -c 1 curl -s --noproxy '*' --max-time 3 --rate 10/s \
        -H 'Connection: close' -w '%{http_code} %{time_total}\n' "${args[@]}" >"$out" 2>/dev/null || true
    wait "$fpid"
    local sent failed over rx=- shed=-
    sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$tmp/flood.out")
    failed=$(grep -vc '^200 ' "$out" || true)
    over=$(awk '$2 >= 1 { n++ } END { print n + 0 }' "$out")
    if [ "$rx0" != - ]; then
        rx=$(($(stat "$ns" rx_packets) - rx0))
        shed=$(($(stat "$ns" rx_drop_syn_budget) - shed0))
    fi
    awk '{ print $2 * 1000 }' "$out" | sort -n | awk -v sent="$sent" -v n="$n" -v f="$failed" \
        -v s="$secs" -v o="$over" -v rx="$rx" -v shed="$shed" '
        { v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.5); i99 = int(NR * 0.99 + 0.5)
            if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
            printf "%d %d %d %d %.1f %.1f %.1f %s %s %d\n", sent / s, n, f, o, v[i50], v[i99],
                v[NR], rx, shed, sent }'
}

log "corehttpd $bin; nginx $(nginx -v 2>&1 | sed 's/.*: //'); ${secs}s per flood; kernel $(uname -r)"
corehttpd_up
nginx_up
rows=""
for rate in ${rates//,/ }; do
    read -r c_pps c_n c_f c_o c_50 c_99 c_max c_rx c_shed c_sent < <(run "$nsa" "$tap" "$rate")
    log "rate $rate: corehttpd sent $c_pps/s, $c_f of $c_n failed, $c_o over 1 s, p50 $c_50 p99 $c_99 max $c_max ms; received $c_rx of $c_sent frames, shed $c_shed SYNs"
    read -r n_pps n_n n_f n_o n_50 n_99 n_max _ _ _ < <(run "$nsc" nbc "$rate")
    log "rate $rate: nginx sent $n_pps/s, $n_f of $n_n failed, $n_o over 1 s, p50 $n_50 p99 $n_99 max $n_max ms"
    rows+="| $rate | corehttpd, DPDK net_tap | $c_pps | $c_f of $c_n | $c_o | $c_50 | $c_99 | $c_max | $c_rx of $c_sent, $c_shed shed |"$'\n'
    rows+="| $rate | nginx, kernel TCP, veth | $n_pps | $n_f of $n_n | $n_o | $n_50 | $n_99 | $n_max | |"$'\n'
done
kill -TERM "$srv_pid"
wait "$srv_pid" || true
srv_pid=""
grep -m1 '^core 0' "$tmp/corehttpd.log" | grep -oE 'syncookies [0-9/]+|syn budget [0-9]+ \(answered when repeated [0-9]+\)' | tr '\n' ' ' >&2
echo >&2
printf '\nSYN flood of %s s from random sources in 198.18.0.0/15; curl --rate 10/s, a new connection per fetch, --max-time 3; times in ms (curl time_total).\n\n' "$secs"
printf '| flood rate asked, frames/s | server | flood sent, frames/s | probes failed | probes over 1 s | p50 ms | p99 ms | max ms | frames the server received of those sent; SYNs it shed (corehttpd) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
printf '%s' "$rows"
