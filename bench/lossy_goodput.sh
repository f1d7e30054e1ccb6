#!/bin/bash
# bench/lossy_goodput.sh: goodput of corehttpd and nginx over impaired links,
# side by side, as a markdown table.
#
# For each impairment (none, 5% loss, 1% duplication, 0.5% corruption, 25%
# reordering, 10 ms delay) both servers serve the same 10 MB file
# (www/files/big.bin) to curl, RUNS times each, the servers taking turns run
# by run; the table gives the median goodput, the min-max spread and the
# ratio corehttpd/nginx of the medians.
#
# Each case runs once per congestion control named by -k (default
# cubic,bbr: Linux's and Debian's default, and the model-based one some
# hosts make theirs; a host's default is no fixed point to compare with),
# both servers running the same one: corehttpd by [tcp] congestion_control,
# nginx by the default of its namespace. A netns may only pick one the host
# allows (net.ipv4.tcp_allowed_congestion_control), so the script appends
# the ones it needs there and puts the list back at exit.
#
# corehttpd's status page is read after every download: the table under
# the goodputs gives, per case, the segments sent again and shown spurious
# (D-SACK) against the segments sent, and in how many runs a retransmission
# timeout fired (at the minimum RTO, and in all), beside nginx's segments
# sent, sent again and D-SACKed from its namespace's kernel counters; each
# run's own counts go to the progress lines. Last, the delay and reordering
# rows against their bound, computed from the same run's clean-link figure
# (see bound below).
#
# Topology (addresses from 198.18.0.0/15 only; client 198.18.0.1, server
# 198.18.0.2 on both paths):
#   corehttpd: namespace A, corehttpd on a DPDK net_tap port, curl on the
#              TAP's kernel side in A (as in tests/integration).
#   nginx:     namespace C (curl) and namespace S (nginx, kernel TCP) joined
#              by a veth pair with checksum, TSO, GSO and GRO offloads off,
#              so that a rule acts on one wire frame and a corrupted frame
#              is caught by the receiver's checksum, as on the TAP.
# Both servers run on core 0 (corehttpd: [cores] list = 0; nginx: one
# worker pinned to CPU 0), curl on core 1. Each side's kernel receive path
# runs on its own core, as on two machines: RPS steers what the client's
# interface (the TAP, or nbc) receives to core 1 and what nginx's veth end
# receives to core 0. Without it the kernel runs the receiver's side of a
# virtual link in the sender's system call, and curl's whole TCP receive
# path ran on the server core (half of corehttpd's core in a profile of the
# clean case; nginx paid the same on its core). LOSSY_RPS=0: without it, as
# before. LOSSY_PACING=no runs corehttpd with [tcp] pacing = no.
#
# Impairment: loss, duplication and corruption are the same nftables netdev
# rules on the client's interface (the TAP in A, the veth end in C): the
# ingress hook acts on frames to the client, the egress hook on frames to
# the server (see tests/integration/lib.sh for why loss towards the server
# forwards into a sink instead of dropping). Delay and reordering come from
# dpio's impairment stage (dpdk/; this kernel has no netem), put on the
# client's interface (corehttpd's TAP, or nbc) by bench/impair_relay.sh:
# one relay per server, on core 0, each frame through the stage once each
# way, the same for both; the relay adds about 0.1 ms to the round trip.
# LOSSY_STAGE=server puts corehttpd's side of those rows in its own port's
# stage instead ([dpdk] impair_*: no relay, no added round trip).
#
# Usage: bench/lossy_goodput.sh [-n RUNS] [-b CORE-HTTPD-BINARY] [-c CASES]
#                               [-k KERNEL-CCS]
#   RUNS  default 5; CASES: a comma list of none,loss,dup,corrupt,relay,reorder,
#   delay (default all); KERNEL-CCS: a comma list of congestion controls
#   (default cubic,bbr; reno runs corehttpd's newreno; one the kernel lacks
#   is left out with a note). Needs root, nginx, nft, curl, ethtool, taskset,
#   and the relay built beside the server (build/bench/impair_relay;
#   LOSSY_RELAY_BIN: another).
#   Prints progress on stderr and the table on stdout.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=5
bin=$repo/build/server/corehttpd
relay_bin=${LOSSY_RELAY_BIN:-}
cases=none,loss,dup,corrupt,relay,reorder,delay
kccs=cubic,bbr
while getopts n:b:c:k:h opt; do
    case $opt in
    n) runs=$OPTARG ;;
    b) bin=$OPTARG ;;
    c) cases=$OPTARG ;;
    k) kccs=$OPTARG ;;
    *)
        sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
done
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -n "$relay_bin" ] || relay_bin=$(dirname "$(dirname "$bin")")/bench/impair_relay
"$repo/packaging/install-deps.sh" bench
"$repo/packaging/gen-site-data.sh"

HOST_IP=198.18.0.1
SRV_IP=198.18.0.2
big=$repo/www/files/big.bin
size=10485760
STATUS_PORTS=61000-61999 # above Linux's ephemeral range (net.ipv4.ip_local_port_range)
tag=$$
nsa=chb-a-$tag
nsc=chb-c-$tag
nss=chb-s-$tag
tap=cbt$tag
prefix=chb-$tag
tmp=$(mktemp -d /tmp/chb-lossy.XXXXXX)
srv_pid=""
nginx_pid=""
relays="" # NS:IFACE:PID of the relays running
cc_allowed_was="" # the host's allowed list before we appended to it
backlog_was=""    # net.core.netdev_max_backlog before we raised it

log() {
    printf '[lossy_goodput] %s\n' "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

cleanup() {
    set +e
    [ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    for x in $relays; do
        IFS=: read -r ns ifc pid <<<"$x"
        "$repo/bench/impair_relay.sh" stop "$ns" "$ifc" "$pid"
    done
    for ns in "$nsa" "$nsc" "$nss"; do
        ip netns list | grep -q "^$ns\b" && ip netns del "$ns"
    done
    rm -rf "/var/run/dpdk/$prefix" "/var/run/dpdk/$prefix"-r*
    [ -z "$cc_allowed_was" ] ||
        sysctl -qw net.ipv4.tcp_allowed_congestion_control="$cc_allowed_was"
    [ -z "$backlog_was" ] || sysctl -qw net.core.netdev_max_backlog="$backlog_was"
    case $tmp in /tmp/chb-lossy.*) rm -rf "$tmp" ;; esac
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (namespaces, DPDK TAP)"
for c in nginx nft curl ethtool taskset ip; do
    command -v "$c" >/dev/null 2>&1 || die "needs $c (apt-get install nginx-light nftables curl ethtool)"
done
[ -x "$bin" ] || die "$bin is not executable (build first, or -b PATH)"
[ -x "$relay_bin" ] || die "$relay_bin is not executable (build first, or LOSSY_RELAY_BIN)"
[ -f "$big" ] || die "$big missing: run packaging/gen-site-data.sh"

# The kernel congestion controls nginx runs with: each must be built in or
# loadable, and allowed to a network namespace other than the host's.
cc_list=()
IFS=, read -r -a want_ccs <<<"$kccs"
for cc in "${want_ccs[@]}"; do
    case " $(sysctl -n net.ipv4.tcp_available_congestion_control) " in
    *" $cc "*) ;;
    *) modprobe -q "tcp_$cc" 2>/dev/null || true ;;
    esac
    case " $(sysctl -n net.ipv4.tcp_available_congestion_control) " in
    *" $cc "*) cc_list+=("$cc") ;;
    *) log "note: this kernel has no congestion control '$cc': its nginx column is left out" ;;
    esac
done
[ ${#cc_list[@]} -gt 0 ] || die "none of the congestion controls '$kccs' is available"
allowed=$(sysctl -n net.ipv4.tcp_allowed_congestion_control)
add=""
for cc in "${cc_list[@]}"; do
    case " $allowed " in *" $cc "*) ;; *) add="$add $cc" ;; esac
done
if [ -n "$add" ]; then
    cc_allowed_was=$allowed
    sysctl -qw net.ipv4.tcp_allowed_congestion_control="$allowed$add"
fi

# RPS queues the frames a CPU is to receive in its backlog, at most
# net.core.netdev_max_backlog of them (1,000 by default), and drops the
# rest: a relay that releases a held burst at once overflowed curl's, and
# a download lost hundreds of segments to the rig, not to its case. Raised
# for the run (the relay's TAP queues 20,000 frames), put back at exit; the
# frames the backlogs still dropped are logged per case (softnet_stat).
backlog_was=$(sysctl -n net.core.netdev_max_backlog)
sysctl -qw net.core.netdev_max_backlog=65536

# backlog_drops: frames the CPUs' receive backlogs dropped since boot.
backlog_drops() {
    local n=0 l
    while read -r _ l _; do n=$((n + 16#$l)); done </proc/net/softnet_stat
    echo "$n"
}

# ------------------------------------------------------------ the impairments
# rule_to_client CASE / rule_to_server CASE: the nft statement after
# `meta l4proto tcp` on the client's interface (empty: none). $dup and $sink
# are devices of the client's namespace.
rule_to_client() {
    case $1 in
    loss) echo 'numgen random mod 100 < 5 counter drop' ;;
    dup) echo 'numgen random mod 100 < 1 counter dup to "cdupa"' ;;
    corrupt) echo 'numgen random mod 1000 < 5 counter tcp checksum set tcp checksum ^ 0x5a5a' ;;
    esac
}
rule_to_server() { # CASE CLIENT-IFACE
    case $1 in
    loss) echo 'numgen random mod 100 < 5 counter fwd to "csinka"' ;;
    dup) echo "numgen random mod 100 < 1 counter dup to \"$2\"" ;;
    corrupt) echo 'numgen random mod 1000 < 5 counter tcp checksum set tcp checksum ^ 0x5a5a' ;;
    esac
}
# stage CASE: the settings of dpio's impairment stage for the case, as
# "delay_ms reorder_pct reorder_gap_ms seed"; nothing when it has none.
stage() {
    case $1 in
    relay) echo 0 0 5 1 ;;
    reorder) echo 0 25 5 1 ;;
    delay) echo 10 0 5 1 ;;
    esac
}
# impair_ini CASE: the [dpdk] keys of corehttpd's own stage (LOSSY_STAGE=server).
impair_ini() {
    local d r g s
    [ "${LOSSY_STAGE:-relay}" = server ] || return 0
    read -r d r g s <<<"$(stage "$1")"
    [ -n "$d" ] || return 0
    printf 'impair_delay_ms = %s\nimpair_reorder_pct = %s\nimpair_reorder_gap_ms = %s\nimpair_seed = %s\n' \
        "$d" "$r" "$g" "$s"
}
describe() {
    case $1 in
    none) echo "none" ;;
    relay) echo "none, through the dpdk stage holding nothing" ;;
    loss) echo "loss 5% each way (nft)" ;;
    dup) echo "duplication 1% each way (nft)" ;;
    corrupt) echo "corruption 0.5% each way (nft, bad TCP checksum)" ;;
    reorder) echo "reordering 25% by +5 ms each way (dpdk stage)" ;;
    delay) echo "delay 10 ms each way (dpdk stage)" ;;
    *) die "unknown case $1" ;;
    esac
}

# client_side NS IFACE: the helper devices of the client's namespace: a sink
# for loss towards the server and a veth wearing IFACE's MAC through which
# copies towards the client come in (dup to IFACE on ingress would send them
# back to the server).
client_side() {
    local ns=$1 ifc=$2
    ip -n "$ns" link add csinka type veth peer name csinkb
    ip -n "$ns" link add cdupa type veth peer name cdupb
    ip -n "$ns" link set cdupb address "$(ip netns exec "$ns" cat "/sys/class/net/$ifc/address")"
    for d in csinka csinkb cdupa cdupb; do ip -n "$ns" link set "$d" up; done
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.cdupb.rp_filter=0
    # one wire frame per skb at the egress hook
    ip -n "$ns" link set dev "$ifc" gso_max_segs 1
    rx_on_cpu "$ns" "$ifc" 1
}

# rx_on_cpu NS IFACE CPU: the kernel's receive processing of IFACE's frames
# on CPU (RPS), whichever CPU wrote them.
rx_on_cpu() {
    [ "${LOSSY_RPS:-1}" = 1 ] || return 0
    ip netns exec "$1" sh -c "printf '%x' $((1 << $3)) >/sys/class/net/$2/queues/rx-0/rps_cpus" ||
        die "cannot set RPS on $2 (a kernel without CONFIG_RPS?)"
}

# rules_load NS IFACE CASE / rules_clear NS: the case's rules act on every
# TCP frame but those of the status page's fetches (status, from client ports
# STATUS_PORTS): they are the measurement, not the load, and a timeout of
# theirs would count in the next download's (a lone last segment lost waits
# for the RTO, RFC 8985 7.2).
rules_load() {
    local ns=$1 ifc=$2 to_c to_s
    to_c=$(rule_to_client "$3")
    to_s=$(rule_to_server "$3" "$ifc")
    [ -n "$to_c$to_s" ] || return 0
    {
        echo 'table netdev impair {'
        [ -z "$to_c" ] || printf '  chain to_client {\n    type filter hook ingress device "%s" priority 0;\n    meta l4proto tcp tcp dport != %s %s\n  }\n' "$ifc" "$STATUS_PORTS" "$to_c"
        [ -z "$to_s" ] || printf '  chain to_server {\n    type filter hook egress device "%s" priority 0;\n    meta l4proto tcp tcp sport != %s %s\n  }\n' "$ifc" "$STATUS_PORTS" "$to_s"
        echo '}'
    } >"$tmp/rules.nft"
    ip netns exec "$ns" nft -f "$tmp/rules.nft"
}
rules_clear() {
    ip netns exec "$1" nft delete table netdev impair 2>/dev/null || true
}
# rules_hits NS: "to client N, to server M" frames the rules acted on.
rules_hits() {
    local c s
    c=$(ip netns exec "$1" nft list chain netdev impair to_client 2>/dev/null | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    s=$(ip netns exec "$1" nft list chain netdev impair to_server 2>/dev/null | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    printf 'to client %s, to server %s' "${c:--}" "${s:--}"
}
# tcp_counter NS NAME: a Tcp: counter of /proc/net/snmp in NS.
tcp_counter() {
    # shellcheck disable=SC2016 # an awk program
    ip netns exec "$1" awk -v want="$2" '$1 == "Tcp:" {
        if ($2 ~ /^[0-9-]/) { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }
        else for (i = 2; i <= NF; i++) n[i] = $i }' /proc/net/snmp
}

# tcpext_counter NS NAME: a TcpExt counter of namespace NS (/proc/net/netstat).
tcpext_counter() {
    # shellcheck disable=SC2016 # an awk program
    ip netns exec "$1" awk -v want="$2" '$1 == "TcpExt:" {
        if ($2 ~ /^[0-9-]/) { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }
        else for (i = 2; i <= NF; i++) n[i] = $i }' /proc/net/netstat
}

# ------------------------------------------------------------ the servers
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
    ip netns exec "$nsc" ethtool -K nbc rx off tx off tso off gso off gro off >/dev/null
    ip netns exec "$nss" ethtool -K nbs rx off tx off tso off gso off gro off >/dev/null
    client_side "$nsc" nbc
    rx_on_cpu "$nss" nbs 0
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
    tcp_nopush on;
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

# corehttpd_up CASE CC: namespace A, the server with the case's impair_* keys
# and the congestion control CC (the kernel's name; reno is newreno).
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
$(impair_ini "$1")

[net]
address = $SRV_IP/24
gateway = $HOST_IP

[cores]
list = 0

[tcp]
congestion_control = $([ "$2" = reno ] && echo newreno || echo "$2")
pacing = ${LOSSY_PACING:-yes}

[http]
listen = 80
root = $repo/www
status_allow = $HOST_IP
EOF
    ip netns exec "$nsa" "$bin" -c "$tmp/corehttpd.ini" </dev/null >"$tmp/corehttpd.log" 2>&1 &
    srv_pid=$!
    for _ in $(seq 300); do
        ip -n "$nsa" link show "$tap" >/dev/null 2>&1 && break
        sleep 0.1
    done
    ip -n "$nsa" addr add "$HOST_IP/24" dev "$tap"
    ip -n "$nsa" link set "$tap" up
    client_side "$nsa" "$tap"
    wait_http "$nsa" corehttpd
}

corehttpd_down() {
    kill -TERM "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || log "corehttpd exited non-zero (log: $(tail -n 3 "$tmp/corehttpd.log" | tr '\n' ' '))"
    srv_pid=""
    grep -E '^(core|port)' "$tmp/corehttpd.log" | sed 's/^/[lossy_goodput]   corehttpd /' >&2 || true
    ip netns del "$nsa"
    rm -rf "/var/run/dpdk/$prefix"
}

# relay_up NS IFACE CASE: the client's path in NS through dpio's stage, by
# bench/impair_relay.sh (see the top), the relay on core 0 and its TAP's
# receive processing on core 1, as the client interface's.
relay_up() {
    local d r g s pid
    read -r d r g s <<<"$(stage "$3")"
    pid=$(RELAY_BIN=$relay_bin RELAY_RPS_CPU=$([ "${LOSSY_RPS:-1}" = 1 ] && echo 1) \
        "$repo/bench/impair_relay.sh" start "$1" "$2" "$tmp/relay-$2.log" --core 0 \
        --delay-ms "$d" --reorder-pct "$r" --reorder-gap-ms "$g" --seed "$s" \
        --eal-args "--file-prefix=$prefix-r$2") || die "impair_relay.sh failed on $2 in $1"
    relays="$relays $1:$2:$pid"
    wait_http "$1" "the server through impair_relay"
}

# relay_down: every relay stopped, its rules and TAP gone, its counters logged.
relay_down() {
    local x ns ifc pid
    for x in $relays; do
        IFS=: read -r ns ifc pid <<<"$x"
        "$repo/bench/impair_relay.sh" stop "$ns" "$ifc" "$pid" || log "impair_relay $pid did not stop"
        grep -h '^impair_relay: port' "$tmp/relay-$ifc.log" | sed 's/^/[lossy_goodput]   /' >&2 || true
    done
    relays=""
    rm -rf "/var/run/dpdk/$prefix"-r*
}

wait_http() { # NS WHAT
    for _ in $(seq 300); do
        ip netns exec "$1" curl -s --noproxy '*' --max-time 1 -o /dev/null "http://$SRV_IP/" && return 0
        sleep 0.1
    done
    die "$2 does not answer on $SRV_IP:80"
}

# fetch NS: one download of the 10 MB file from core 1; prints the goodput
# in Mbit/s, or "fail".
fetch() {
    local res code got secs
    res=$(ip netns exec "$1" taskset -c 1 curl -s --noproxy '*' --max-time 120 -o /dev/null \
        -w '%{http_code} %{size_download} %{time_total}' "http://$SRV_IP/files/big.bin") || true
    read -r code got secs <<<"$res"
    if [ "${code:-}" = 200 ] && [ "${got:-}" = "$size" ]; then
        awk -v b="$got" -v t="$secs" 'BEGIN { printf "%.1f\n", b * 8 / t / 1e6 }'
    else
        echo fail
    fi
}

# stats VALUES...: "median min max" of the numbers among them (fail: skipped),
# "-" when there is none; then the count of failures.
stats() {
    printf '%s\n' "$@" | awk '
        $1 == "fail" { f++; next }
        { v[n++] = $1 }
        END {
            if (n == 0) { printf "- - - %d\n", f; exit }
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
            printf "%.1f %.1f %.1f %d\n", m, v[0], v[n - 1], f
        }'
}

# status NS: corehttpd's status page as "key: value" lines.
status() {
    ip netns exec "$1" curl -s --noproxy '*' --max-time 5 --local-port "$STATUS_PORTS" \
        "http://$SRV_IP/server-status" || true
}
# st KEY STATUS-TEXT: one counter of the page (0 when absent).
st() {
    local v
    v=$(printf '%s\n' "$2" | sed -n "s/^$1: //p")
    echo "${v:-0}"
}
# delta KEY: how far a counter moved from $before to $after (status texts).
delta() {
    echo $(($(st "$1" "$after") - $(st "$1" "$before")))
}
# ratio A B: A / B to two places; "-" when either is "-" or B is 0.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'
}
# pct A B: A as a percentage of B.
pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f%%", 100 * a / b }'
}

# round_ms CASE: "D H" for the rows held to a bound (see bounds below): D the
# time one round of slow start takes to come back; H what the handshake and
# the request add before it, so that round j arrives H + j x D after curl's
# SYN (one round trip of the path without the case's hold: on the delay row
# the first round arrives two round trips after the SYN); nothing for the
# other cases. The stage adds about 0.1 ms to the round trip of the TAP's
# 0.1 ms.
round_ms() {
    case $1 in
    delay) echo "20.2 20.2" ;; # 10 ms each way: D = H = the round trip
    reorder) echo "5 0.2" ;;   # the cumulative ACK lags a late segment by 5 ms
    esac
}

# bound C D H: the goodput in Mbit/s that slow start from IW 10 (segments of
# 1,448 bytes) allows for the 10 MB file on a path of C Mbit/s whose rounds
# take D ms: round j (window 10 x 2^(j-1)) arrives H + j x D ms after the
# SYN, until a window holds the path (C x D); from then the rest comes at C,
# its first byte one round after the last whole round. With C unbounded
# this is the delay row's 11 round trips (10 rounds carry 10 MB).
bound() {
    awk -v S="$size" -v C="$1" -v D="$2" -v H="$3" 'BEGIN {
        rate = C * 1e6 / 8 / 1000; fill = rate * D; left = S; w = 10; t = H
        while (1) {
            b = w * 1448
            if (b >= fill) { t += D + left / rate; break }
            if (left <= b) { t += D; break }
            left -= b; t += D; w *= 2
        }
        printf "%.0f\n", S * 8 / t / 1000
    }'
}

# ------------------------------------------------------------ the run
log "corehttpd $bin; nginx $(nginx -v 2>&1 | sed 's/.*: //'); congestion controls ${cc_list[*]} (both servers); $runs runs per case; kernel $(uname -r)"
nginx_up
rows=""
counts=""
declare -A med_core=()
IFS=, read -r -a case_list <<<"$cases"
for c in "${case_list[@]}"; do
    what=$(describe "$c")
    log "case: $what"
    row="| $what"
    note=""
    for cc in "${cc_list[@]}"; do
        # both servers with the same algorithm, taking turns run by run
        ip netns exec "$nss" sysctl -qw net.ipv4.tcp_congestion_control="$cc"
        corehttpd_up "$c" "$cc"
        rules_load "$nsa" "$tap" "$c"
        case $c in
        relay | reorder | delay)
            [ "${LOSSY_STAGE:-relay}" = server ] || relay_up "$nsa" "$tap" "$c"
            relay_up "$nsc" nbc "$c"
            ;;
        *) rules_load "$nsc" nbc "$c" ;;
        esac
        core=()
        ngx=()
        retrans0=$(tcp_counter "$nss" RetransSegs)
        out0=$(tcp_counter "$nss" OutSegs)
        ndsack0=$(tcpext_counter "$nss" TCPDSACKRecvSegs)
        drops0=$(backlog_drops)
        paws_a0=$(tcpext_counter "$nsa" PAWSEstab) paws_c0=$(tcpext_counter "$nsc" PAWSEstab)
        before=$(status "$nsa")
        sent=0 again=0 spurious=0 dsacks=0 rto_runs=0 minrto_runs=0
        for r in $(seq "$runs"); do
            core+=("$(fetch "$nsa")")
            after=$(status "$nsa")
            run_again=$(delta retransmitted_segments) run_spur=$(delta spurious_retransmissions)
            run_undo=$(delta undo_fast_recovery) run_seeded=$(delta reordering_from_peer)
            run_hs=$(delta hystart_exits) run_tlp=$(delta tail_probe_recoveries)
            sent=$((sent + $(delta tx_packets)))
            again=$((again + run_again))
            spurious=$((spurious + run_spur))
            [ "$r" != 1 ] || first_spur=$run_spur
            dsacks=$((dsacks + $(delta dsack_received)))
            # a shut window's probe counts as a timeout on the status page
            wprobes=$(delta retransmit_timeout_window_probe)
            rto=$(($(delta retransmit_timeout) - wprobes))
            minrto=$(delta retransmit_timeout_min_rto)
            [ "$rto" = 0 ] || rto_runs=$((rto_runs + 1))
            [ "$minrto" = 0 ] || minrto_runs=$((minrto_runs + 1))
            before=$after
            ngx+=("$(fetch "$nsc")")
            log "  $cc run $r: corehttpd ${core[-1]} Mbit/s ($rto timeouts, $minrto at the minimum RTO, $wprobes window probes; $run_again sent again, $run_spur spurious, $run_undo recoveries undone, $run_tlp losses repaired by a probe, $run_hs slow starts ended by HyStart++, $run_seeded connections started with the reordering measured before), nginx ${ngx[-1]} Mbit/s"
        done
        nout=$(($(tcp_counter "$nss" OutSegs) - out0))
        nagain=$(($(tcp_counter "$nss" RetransSegs) - retrans0))
        ndsack=$(($(tcpext_counter "$nss" TCPDSACKRecvSegs) - ndsack0))
        log "  $cc: nft rules acted on: corehttpd path $(rules_hits "$nsa"); nginx path $(rules_hits "$nsc"); nginx retransmitted $nagain segments; receive backlogs dropped $(($(backlog_drops) - drops0)) frames; curl's kernel dropped by PAWS $(($(tcpext_counter "$nsa" PAWSEstab) - paws_a0)) segments from corehttpd, $(($(tcpext_counter "$nsc" PAWSEstab) - paws_c0)) from nginx"
        rules_clear "$nsa"
        rules_clear "$nsc"
        case $c in relay | reorder | delay) relay_down ;; esac
        corehttpd_down
        read -r cm cmin cmax cf <<<"$(stats "${core[@]}")"
        read -r nm nmin nmax nf <<<"$(stats "${ngx[@]}")"
        med_core["$c/$cc"]=$cm
        [ "$cf$nf" = 00 ] || note="$note (failed runs, $cc: corehttpd $cf, nginx $nf)"
        ratio=$(ratio "$cm" "$nm")
        row="$row | $cm ($cmin-$cmax) | $nm ($nmin-$nmax) | $ratio"
        counts="$counts| $what | $cc | $sent | $again ($(pct "$again" "$sent")) | $spurious ($(pct "$spurious" "$sent")) | $first_spur | $dsacks | $minrto_runs of $runs | $rto_runs of $runs | $nout | $nagain ($(pct "$nagain" "$nout")) | $ndsack ($(pct "$ndsack" "$nout")) |"$'\n'
    done
    rows="$rows$row |$note"$'\n'
done

printf '\n10 MB download (www/files/big.bin), goodput in Mbit/s: median (min-max) of %s runs; ratio = corehttpd median / nginx median, both servers running the same congestion control.\n\n' "$runs"
head='| impairment |'
rule='|---|'
for cc in "${cc_list[@]}"; do
    head="$head corehttpd, $cc (DPDK net_tap) | nginx, $cc (kernel TCP, veth) | ratio |"
    rule="$rule---|---|---|"
done
printf '%s\n%s\n%s' "$head" "$rule" "$rows"
printf '\ncorehttpd'"'"'s counters over each case'"'"'s runs (status page): frames sent, segments sent again, retransmissions a D-SACK showed needless (matched against the latest 256 retransmissions of the connection: an undercount when more are outstanding), of those the first run'"'"'s (a server that has not yet served the client: the later connections start with the reordering measured by the ones before, tcpstack/tcp_peer.c), the D-SACK blocks received (each a segment that arrived twice: a needless retransmission, or a copy the network made), and the runs in which a retransmission timeout fired. Then nginx'"'"'s, from its namespace'"'"'s kernel counters over the same runs (Tcp OutSegs, RetransSegs, TcpExt TCPDSACKRecvSegs; they include the few requests that wait for the server to answer).\n\n'
printf '| impairment | congestion control | frames sent | sent again | spurious | spurious, first run | D-SACKs received | runs with a minimum-RTO timeout | runs with any timeout | nginx: segments sent | nginx: sent again | nginx: D-SACKed segments |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n%s' "$counts"
bounds=""
for c in "${case_list[@]}"; do
    dh=$(round_ms "$c")
    [ -n "$dh" ] || continue
    what=$(describe "$c")
    for cc in "${cc_list[@]}"; do
        clean=${med_core["relay/$cc"]:-}
        got=${med_core["$c/$cc"]:-}
        if [ -z "$clean" ] || [ "$clean" = - ]; then
            bounds="$bounds| $what | $cc | - (run the relay case too) | - | $got | - |"$'\n'
            continue
        fi
        # shellcheck disable=SC2086 # D and H as two arguments
        b=$(bound "$clean" $dh)
        bounds="$bounds| $what | $cc | $clean | $b | $got | $(ratio "$got" "$b") |"$'\n'
    done
done
if [ -n "$bounds" ]; then
    printf '\nThe delay and reordering rows against their bound: slow start from IW 10 (1,448-byte segments) doubling once a round, D ms, until a window holds the path, then the rest at the path'"'"'s rate C, the clean-link figure (the same algorithm'"'"'s median through the stage holding nothing, this run); round j arrives H + j x D ms after the SYN. Delay: D = H = 20.2 ms, the round trip. Reordering: D = 5 ms, by which the cumulative ACK lags a late segment; H = 0.2 ms.\n\n'
    printf '| impairment | congestion control | clean-link figure C, Mbit/s | bound, Mbit/s | corehttpd, Mbit/s | of the bound |\n|---|---|---|---|---|---|\n%s' "$bounds"
fi
if [ "${LOSSY_STAGE:-relay}" = server ]; then
    printf '\nDelay and reordering come from dpio'"'"'s impairment stage (this kernel has no netem): on corehttpd'"'"'s own port (LOSSY_STAGE=server), and for nginx on bench/impair_relay'"'"'s TAP, through which nftables steers every frame of the client'"'"'s veth once each way (about 0.1 ms more round trip than corehttpd'"'"'s path).\n'
else
    printf '\nDelay and reordering come from dpio'"'"'s impairment stage (this kernel has no netem), run by bench/impair_relay on a TAP in the client'"'"'s namespace, one relay per server, through which nftables steers every frame of the client'"'"'s interface once each way.\n'
fi
printf 'Both servers on core 0, curl on core 1, %s; machine %s, %s CPUs.\n' \
    "$([ "${LOSSY_RPS:-1}" = 1 ] && echo "each side's kernel receive path on its own core (RPS)" || echo "no RPS (LOSSY_RPS=0)")" "$(uname -r)" "$(nproc)"
