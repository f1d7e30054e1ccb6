#!/bin/bash
# bench/tls_compare.sh [BUILD-DIR]: HTTPS, corehttpd against nginx with the
# same certificate, one core each, one run per point (indicative figures:
# this is a shared 2-CPU VM).
#
# - corehttpd on a DPDK net_tap port in a namespace (tests/integration/
#   lib.sh: 198.18.0.2), its pair on CPU $TLSB_SRV_CPU (1);
# - nginx (Debian's nginx-light) in the same namespace on the kernel's
#   loopback (127.0.0.1:8443), one worker on the same CPU, TLS 1.3 and 1.2,
#   session tickets on, no access log;
# - the client, wrk on CPU $TLSB_CLI_CPU (0), in the namespace: the TAP costs
#   the kernel a system call per frame where loopback does not, so the
#   corehttpd figures carry that cost (compare with bench/compare.sh's tap
#   and loopback figures for plain HTTP).
# Both serve the same certificate (an ECDSA P-256 leaf and its intermediate,
# lib.sh's tls_pki) and a 1 KB file. Points (TLSB_SECS seconds each, 5):
#   handshakes  wrk -t1 -c 32 with `Connection: close`: a new connection and
#               a TLS 1.3 handshake (X25519, ECDSA P-256) per request; wrk
#               offers its last session again, so about half of them are
#               resumed (corehttpd's status page prints the split);
#   keepalive   wrk -t1 -c 64 on keep-alive connections: 1 KB requests/s
#               (AES-128-GCM records).
# For each: requests/s, the server's CPU over the run (utime + stime from
# /proc, in % of one CPU) and CPU microseconds per request. Prints a
# Markdown table.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
. "$repo/tests/integration/lib.sh"
lib_init tlsbench "$build/server/corehttpd" "$repo"
need_cmd wrk nginx taskset openssl
SRV_CPU=${TLSB_SRV_CPU:-1}
CLI_CPU=${TLSB_CLI_CPU:-0}
SECS=${TLSB_SECS:-5}
NAME=www.example.test
tls_pki "$TMPD/pki"
mk_leaf "$NAME" "$TMPD/pki/www"
SITE_ROOT=$TMPD/site
mkdir -p "$SITE_ROOT"
head -c 1024 /dev/urandom >"$SITE_ROOT/1k.bin"
echo ok >"$SITE_ROOT/index.html"
cfg_write "status_allow = $HOST_IP
keepalive_requests = 1000
[tls]
listen = 443
certificate = $TMPD/pki/www.pem
key = $TMPD/pki/www.key"
sed -i "s/^list = 0$/list = $SRV_CPU/" "$CFG"
srv_start

ND=$TMPD/nginx
mkdir -p "$ND"
cat >"$ND/nginx.conf" <<EOF
user root;
worker_processes 1;
worker_cpu_affinity $(printf '1%0*d' "$SRV_CPU" 0);
daemon off;
pid $ND/nginx.pid;
error_log $ND/error.log warn;
events { worker_connections 4096; use epoll; }
http {
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 30s;
    keepalive_requests 1000;
    default_type application/octet-stream;
    client_body_temp_path $ND/body;
    proxy_temp_path $ND/proxy;
    fastcgi_temp_path $ND/fastcgi;
    uwsgi_temp_path $ND/uwsgi;
    scgi_temp_path $ND/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    ssl_session_cache off;
    server {
        listen 127.0.0.1:8443 ssl reuseport backlog=16384;
        ssl_certificate $TMPD/pki/www.pem;
        ssl_certificate_key $TMPD/pki/www.key;
        root $SITE_ROOT;
    }
}
EOF
# not through nsx (a function: its pid would be a subshell's): ip netns exec
# and taskset exec nginx, so $! is nginx's master
ip netns exec "$NS" taskset -c "$SRV_CPU" nginx -c "$ND/nginx.conf" -p "$ND" </dev/null \
    >"$ND/out.log" 2>&1 &
NGINX_PID=$!
wait_until 10 "nginx on 127.0.0.1:8443" nsx curl -sk -o /dev/null --max-time 2 https://127.0.0.1:8443/1k.bin ||
    die "nginx did not start: $(cat "$ND/out.log" "$ND/error.log" 2>/dev/null)"

cpu_ticks() { # PID...: utime + stime of the processes, in clock ticks
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$t"
}

hz=$(getconf CLK_TCK)
rows=""
# run NAME URL PIDS MODE: one wrk run, a table row.
run() {
    local name=$1 u=$2 pids=$3 mode=$4 args=(-t1 -c 64) t0 t1 out rps cpu_pct us
    [ "$mode" = keepalive ] || args=(-t1 -c 32 -H "Connection: close")
    # shellcheck disable=SC2086 # a list of pids
    t0=$(cpu_ticks $pids)
    out=$(nsx taskset -c "$CLI_CPU" wrk "${args[@]}" -d "${SECS}s" "$u" 2>&1)
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *//p')
    errs=$(printf '%s\n' "$out" | sed -n 's/^ *Socket errors: *//p')
    cpu_pct=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.0f", d / hz / s * 100 }')
    us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECS" -v r="${rps:-0}" 'BEGIN { printf "%.1f", r ? d / hz / (r * s) * 1e6 : 0 }')
    say "$name $mode: $rps req/s, server CPU $cpu_pct% (${us} us/request)${errs:+, socket errors: $errs}"
    rows="$rows| $mode | $name | ${rps:-?} | $cpu_pct | $us |"$'\n'
}

for mode in handshakes keepalive; do
    run "corehttpd (DPDK net_tap)" "https://$SRV_IP/1k.bin" "$SRV_PID" "$mode"
    # the status page: handshakes full and resumed so far
    st=$(curl_ns "$(url /server-status)")
    say "corehttpd status: $(printf '%s\n' "$st" | grep -E '^tls_(handshakes|version)' | tr '\n' ' ')"
    run "nginx $(nginx -v 2>&1 | sed 's/.*\///') (kernel loopback)" "https://127.0.0.1:8443/1k.bin" \
        "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" "$mode"
done
kill -TERM "$NGINX_PID" 2>/dev/null || true
wait "$NGINX_PID" 2>/dev/null || true

echo
echo "wrk -t1 ($((SECS))s per point; handshakes: -c 32 with Connection: close; keepalive: -c 64), server on CPU $SRV_CPU, wrk on CPU $CLI_CPU, $(nproc) CPUs, $(openssl version)"
echo
echo "| point | server | requests/s | server CPU % | CPU us/request |"
echo "|---|---|---|---|---|"
printf '%s' "$rows"
lib_finish
