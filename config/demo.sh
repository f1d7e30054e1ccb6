#!/bin/bash
# config/demo.sh: build corehttpd and serve the demo site (www/) in a network
# namespace of its own, until Ctrl-C.
#
#   sudo config/demo.sh
#
# Steps: installs the build packages if missing, generates the site's large
# files, builds build/ (Release), makes a self-signed certificate for the
# server's address in build/demo-tls/ (kept while valid), makes the namespace
# corehttpd-demo (replacing one left by an earlier run), starts
# build/server/corehttpd inside it on config/demo.ini plus a [tls] section
# (HTTPS on 443 with that certificate; the run's config is written next to
# the certificate), gives the kernel side of its TAP 198.18.0.1/24, waits
# until the site answers over HTTP and HTTPS, then follows the server log.
# Ctrl-C (or SIGTERM) stops the server and deletes the namespace.
#
# Works from any directory. Environment: JOBS (build parallelism).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
ini=$repo/config/demo.ini
bin=$repo/build/server/corehttpd
ns=corehttpd-demo
host_ip=198.18.0.1/24

say() { printf 'demo.sh: %s\n' "$*"; }
die() {
    printf 'demo.sh: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 (DPDK's TAP device and the namespace need it)"
[ -f "$ini" ] || die "$ini not found"

# The TAP name and the server address come from demo.ini so the two never
# disagree: port = net_tap0,iface=NAME and address = A.B.C.D/N.
tap=$(sed -n 's/^[[:space:]]*port[[:space:]]*=.*iface=\([^,[:space:];]*\).*/\1/p' "$ini" | head -n 1)
srv_ip=$(sed -n 's/^[[:space:]]*address[[:space:]]*=[[:space:]]*\([0-9.]*\).*/\1/p' "$ini" | head -n 1)
port=$(sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$ini" | head -n 1)
prefix=$(sed -n 's/^[[:space:]]*eal_args[[:space:]]*=.*--file-prefix[= ]\([^[:space:];]*\).*/\1/p' "$ini" | head -n 1)
tap=${tap:-chttpd0}
srv_ip=${srv_ip:-198.18.0.2}
port=${port:-80}
site_url=http://$srv_ip/
[ "$port" = 80 ] || site_url=http://$srv_ip:$port/
case $srv_ip in
198.18.* | 198.19.*) ;;
*) die "demo.ini's address $srv_ip is outside 198.18.0.0/15; refusing" ;;
esac

# ---- build
"$repo/packaging/install-deps.sh" build demo
"$repo/packaging/gen-site-data.sh"
say "building $repo/build (Release)"
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" --target corehttpd -j "${JOBS:-$(nproc)}"
[ -x "$bin" ] || die "build produced no $bin"
"$bin" -t -c "$ini" || die "$ini does not pass corehttpd -t"

# ---- HTTPS: a self-signed certificate for the server's address, and the
# run's config: demo.ini with the site root made absolute and a [tls] section
tlsdir=$repo/build/demo-tls
cert=$tlsdir/cert.pem
key=$tlsdir/key.pem
run_ini=$tlsdir/demo.ini
mkdir -p "$tlsdir"
if ! openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1 ||
    ! openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$srv_ip\$"; then
    say "making a self-signed certificate for $srv_ip in $tlsdir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$key" -out "$cert" -days 30 -subj "/CN=corehttpd demo" \
        -addext "subjectAltName=IP:$srv_ip" 2>/dev/null || die "openssl could not make $cert"
    chmod 600 "$key"
fi
sed "s|^\([[:space:]]*root[[:space:]]*=[[:space:]]*\)\.\./|\1$repo/|" "$ini" >"$run_ini"
printf '\n[tls]\nlisten = 443\ncertificate = %s\nkey = %s\n' "$cert" "$key" >>"$run_ini"
"$bin" -t -c "$run_ini" || die "$run_ini does not pass corehttpd -t"

# ---- the namespace
srv_pid=""
tail_pid=""
logdir=""

pid_running() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# ns_remove: stops what runs in the demo namespace (only an earlier demo
# puts anything there), then deletes it.
ns_remove() {
    local pids pid
    ip netns list | grep -q "^$ns\( \|$\)" || return 0
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # $pids is a list of numbers: split on purpose.
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 50); do
            [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    ip netns del "$ns"
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
    if [ -n "$srv_pid" ] && pid_running "$srv_pid"; then
        say "stopping corehttpd (pid $srv_pid)"
        kill -TERM "$srv_pid" 2>/dev/null
        for _ in $(seq 50); do
            pid_running "$srv_pid" || break
            sleep 0.1
        done
        pid_running "$srv_pid" && kill -KILL "$srv_pid" 2>/dev/null
    fi
    [ -n "$srv_pid" ] && wait "$srv_pid" 2>/dev/null
    ns_remove
    # DPDK's runtime files of the demo's own --file-prefix.
    [ -n "$prefix" ] && rm -rf "/var/run/dpdk/$prefix"
    say "namespace $ns deleted"
    [ -n "$logdir" ] && rm -rf "$logdir"
    exit "$rc"
}

if ip netns list | grep -q "^$ns\( \|$\)"; then
    say "replacing the namespace $ns left by an earlier run"
    ns_remove
fi

trap cleanup EXIT
trap 'exit 0' INT TERM
ip netns add "$ns"
# No IPv6: the kernel would otherwise send router solicitations and the like
# to addresses outside 198.18.0.0/15.
ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
    echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null || true
ip -n "$ns" link set lo up

# ---- the server
logdir=$(mktemp -d /tmp/corehttpd-demo.XXXXXX)
log=$logdir/corehttpd.log
say "starting $bin -c $run_ini in namespace $ns"
ip netns exec "$ns" "$bin" -c "$run_ini" </dev/null >"$log" 2>&1 &
srv_pid=$!

# wait_for SECONDS WHAT CMD...
wait_for() {
    local end=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ! pid_running "$srv_pid"; then
            cat "$log" >&2
            die "corehttpd exited while waiting for $what (its log is above)"
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            cat "$log" >&2
            die "gave up waiting for $what (the server log is above)"
        fi
        sleep 0.2
    done
}

wait_for 30 "the TAP $tap" ip -n "$ns" link show dev "$tap"
ip -n "$ns" addr add "$host_ip" dev "$tap"
ip -n "$ns" link set "$tap" up
wait_for 30 "$site_url to answer" \
    ip netns exec "$ns" curl -s --noproxy '*' --max-time 2 -o /dev/null "$site_url"
wait_for 30 "https://$srv_ip/ to answer" \
    ip netns exec "$ns" curl -sf --noproxy '*' --max-time 2 --cacert "$cert" -o /dev/null "https://$srv_ip/"

cat <<EOF

  corehttpd is serving $repo/www at $site_url and https://$srv_ip/
  inside the network namespace $ns (pid $srv_pid).

  Try, from another terminal:
    sudo ip netns exec $ns curl $site_url
    sudo ip netns exec $ns curl -I ${site_url}about.html
    sudo ip netns exec $ns curl -o /dev/null -w '%{speed_download} B/s\n' ${site_url}files/big.bin
    sudo ip netns exec $ns ab -n 10000 -c 50 ${site_url}index.html
    sudo ip netns exec $ns ping -c 3 $srv_ip
    sudo ip netns exec $ns curl ${site_url}server-status
    sudo ip netns exec $ns curl --cacert $cert https://$srv_ip/

  Press Ctrl-C to stop the server and delete the namespace.
  Server log (also in $log):

EOF

# Follow the log until the server exits. tail runs in the background and the
# shell waits for it, so that INT and TERM reach the trap at once.
tail -n +1 -f --pid="$srv_pid" "$log" &
tail_pid=$!
wait "$tail_pid" || true
tail_pid=""
rc=0
wait "$srv_pid" || rc=$?
srv_pid=""
die "corehttpd exited by itself (status $rc)"
