#!/bin/bash
# bench/impair_relay.sh: puts dpio's impairment stage on a kernel interface,
# through build/bench/impair_relay (see bench/impair_relay.c).
#
#   impair_relay.sh start NS IFACE LOG [RELAY-ARGS...]   prints the relay's pid
#   impair_relay.sh stop NS IFACE PID
#
# start runs the relay in network namespace NS on a TAP of its own (named
# IFACE with an "r" before it, cut to 15 characters), waits for its port,
# gives the TAP IFACE's MAC and steers every IPv4 frame of IFACE through it
# with nftables (table netdev relay_IFACE in NS): what the host sends leaves
# IFACE's egress for the relay and comes back out of IFACE; what it receives
# leaves IFACE's ingress for the relay and comes back into the host's stack
# on the relay's TAP (a mark keeps what comes back from going round again).
# Each frame meets the stage once, each way. Non-IPv4 frames (ARP) pass as
# before. RELAY-ARGS go to the relay (--core, --delay-ms, --reorder-pct,
# --reorder-gap-ms, --seed, --eal-args); its output goes to LOG.
#
# stop removes the rules, stops the relay by PID (SIGTERM: it prints its
# counters to LOG) and waits up to 10 s for it to go, its TAP with it; it
# says on stderr how many frames the kernel dropped for want of room in the
# relay's TAP queue (raised to 20,000 frames), which should be none.
#
# Environment: RELAY_BIN (default: build/bench/impair_relay of this tree),
# RELAY_RPS_CPU (the CPU that takes the TAP's receive processing, RPS; by
# default the kernel's choice).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RELAY_BIN=${RELAY_BIN:-$ROOT/build/bench/impair_relay}

die() {
    echo "impair_relay.sh: $*" >&2
    exit 1
}

[ $# -ge 3 ] || die "usage: impair_relay.sh start NS IFACE LOG [RELAY-ARGS...] | stop NS IFACE PID"
cmd=$1 ns=$2 ifc=$3
shift 3
rt=r$ifc
rt=${rt:0:15}
table=relay_${ifc//[^a-zA-Z0-9_]/_}

case $cmd in
start)
    [ $# -ge 1 ] || die "start needs a log file"
    log=$1
    shift
    [ -x "$RELAY_BIN" ] || die "$RELAY_BIN is not built"
    ip netns exec "$ns" "$RELAY_BIN" --port "net_tap0,iface=$rt" "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    # its port up: dpio gives the TAP's kernel side a MAC of its own then
    for _ in $(seq 300); do
        grep -q '^impair_relay: relaying' "$log" && break
        kill -0 "$pid" 2>/dev/null || die "the relay did not start: $(tail -n 3 "$log")"
        sleep 0.1
    done
    grep -q '^impair_relay: relaying' "$log" || {
        kill -TERM "$pid"
        die "the relay's port did not come up in 30 s"
    }
    ip -n "$ns" link set "$rt" address "$(ip netns exec "$ns" cat "/sys/class/net/$ifc/address")"
    # the kernel queues what it steers to the relay while the relay waits
    # for its core; it must not drop what the stage would have let through
    # (1,000 frames, the default, overflowed at a few Gbit/s of bursts)
    ip -n "$ns" link set "$rt" txqueuelen 20000
    ip -n "$ns" link set "$rt" up
    ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$rt.rp_filter=0"
    if [ -n "${RELAY_RPS_CPU:-}" ]; then
        ip netns exec "$ns" sh -c "printf '%x' $((1 << RELAY_RPS_CPU)) >/sys/class/net/$rt/queues/rx-0/rps_cpus"
    fi
    # what comes back: to the host (its own address on IFACE) or out again
    local_ip=$(ip -n "$ns" -4 -o addr show dev "$ifc" | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
    [ -n "$local_ip" ] || {
        kill -TERM "$pid"
        die "$ifc has no IPv4 address in $ns"
    }
    printf '%s\n' "table netdev $table {" \
        "  chain out { type filter hook egress device \"$ifc\" priority 0; meta mark != 0x2a meta protocol ip fwd to \"$rt\"; }" \
        "  chain in { type filter hook ingress device \"$ifc\" priority 0; meta protocol ip fwd to \"$rt\"; }" \
        "  chain back { type filter hook ingress device \"$rt\" priority 0; ip daddr $local_ip accept; meta protocol ip meta mark set 0x2a fwd to \"$ifc\"; drop; }" \
        '}' | ip netns exec "$ns" nft -f - || {
        kill -TERM "$pid"
        die "cannot load the steering rules"
    }
    echo "$pid"
    ;;
stop)
    [ $# -eq 1 ] || die "stop needs the relay's pid"
    pid=$1
    # frames the kernel could not queue for the relay (none expected)
    dropped=$(ip netns exec "$ns" cat "/sys/class/net/$rt/statistics/tx_dropped" 2>/dev/null || echo 0)
    [ "$dropped" = 0 ] || echo "impair_relay.sh: $rt dropped $dropped frames the relay did not take in time" >&2
    ip netns exec "$ns" nft delete table netdev "$table" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.1
    done
    die "the relay ($pid) did not stop in 10 s"
    ;;
*) die "unknown command $cmd" ;;
esac
