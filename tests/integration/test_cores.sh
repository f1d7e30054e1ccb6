#!/bin/bash
# Every core: `[cores] list = 0,1` on a net_tap port with two queues. DPDK
# makes a multi-queue TAP (one queue per core) and the kernel picks a queue
# per flow; each queue's stack thread runs on its own lcore with its worker.
# Checks:
#  - the port came up with 2 queues, the kernel picking them;
#  - idle, the server (2 pairs, all threads) uses under 2% of one CPU over
#    10 s (utime + stime from /proc/PID/stat);
#  - `ab -n 20000 -c 400` completes with no failure and only 2xx;
#  - the status page shows that both cores accepted connections (the kernel
#    spread the flows), that together they accepted every request, and that
#    no segment of a flow reached a core other than the flow's own
#    (flow_other_core 0, the shared flow map's count); pages served by
#    either core's worker name both cores.
# Prints: RESULT cores idle_cpu_pct=... core0_accepted=... core1_accepted=...
. "$(dirname "$0")/lib.sh"
lib_init cores "$@"
need_cmd ab timeout awk
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (has $(nproc))"
cfg_write "status_allow = 198.18.0.0/24"
sed -i 's/^list = 0$/list = 0,1/' "$CFG"
grep -qx 'list = 0,1' "$CFG" || die "could not set [cores] list = 0,1 in $CFG"
srv_start
# The kernel queues frames for each TAP queue in a ring of txqueuelen
# (1000) and drops what does not fit; with ab and both pairs sharing the
# machine's two CPUs, a stack thread kept off its CPU for a few ms lets
# 400 connections overflow it, and the drops cost RTOs and, rarely, a
# connection that outlives ab's 20 s timeout. A NIC has rings of its own:
# give the TAP room like one.
nsx ip link set dev "$TAP" txqueuelen 10000

assert_match "the port has 2 queues, the kernel picking one per flow" \
    '2 queues \(kernel-picks-queue\)' "$(grep -m1 '^dpio: port' "$LOG")"
workers=$(grep -l '^chttpd-w' /proc/"$SRV_PID"/task/*/comm 2>/dev/null | wc -l)
assert_eq "two worker threads" 2 "$workers"

# ---- idle: under 2% of one CPU over 10 s
cpu_ticks() { # utime + stime of the whole process (every thread), in clock ticks
    sed 's/^.*) //' "/proc/$SRV_PID/stat" | awk '{ print $12 + $13 }'
}
sleep 1 # the readiness probe's connection has closed
t0=$(date +%s%N)
c0=$(cpu_ticks)
sleep 10
c1=$(cpu_ticks)
t1=$(date +%s%N)
hz=$(getconf CLK_TCK)
idle_pct=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" \
    'BEGIN { printf "%.2f", c / hz / (ns / 1e9) * 100 }')
say "idle: $((c1 - c0)) ticks of CPU in $(((t1 - t0) / 1000000)) ms: ${idle_pct}% of one CPU"
if awk -v p="$idle_pct" 'BEGIN { exit !(p < 2) }'; then
    ok "idle server with 2 pairs under 2% of one CPU (${idle_pct}%)"
else
    fail "idle server with 2 pairs uses ${idle_pct}% of one CPU (limit 2%)"
fi

# ---- load from many flows
N=20000
C=400
say "ab -n $N -c $C $(url /index.html)"
out=$(nsx timeout 180 ab -q -r -s 20 -n "$N" -c "$C" "$(url /index.html)" 2>&1) || true
complete=$(printf '%s\n' "$out" | sed -n 's/^Complete requests: *\([0-9]*\).*/\1/p')
failed=$(printf '%s\n' "$out" | sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p')
rps=$(printf '%s\n' "$out" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
[ -n "$complete" ] || printf '%s\n' "$out" | tail -n 20 >&2
assert_eq "ab: Complete requests" "$N" "$complete"
assert_eq "ab: Failed requests" 0 "$failed"
assert_no_match "ab: no Non-2xx responses" 'Non-2xx responses' "$out"
assert_no_match "ab: no socket errors" 'apr_socket|apr_poll|Connection reset|timed out' "$out"

tap_drops=$(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")
say "ab: ${rps:-?} requests/s; frames the kernel dropped on the TAP's queues: $tap_drops"

# ---- what each core did
page=$(curl_ns "$(url /server-status)") || page=""
val() { printf '%s\n' "$page" | sed -n "s/^$1: //p" | head -n 1; }
a0=$(val 'core0\.accepted')
a1=$(val 'core1\.accepted')
say "accepted: core 0 ${a0:-?}, core 1 ${a1:-?}; requests 2xx: $(val requests_2xx)"
if [ -z "$a0" ] || [ -z "$a1" ]; then
    say "status page ($(printf '%s' "$page" | wc -c) bytes):"
    printf '%s\n' "$page" | grep -E '^(cores|steering|accepted|core[0-9]+\.accepted):' >&2
fi
assert_ge "core 0 accepted connections" 1 "$a0"
assert_ge "core 1 accepted connections" 1 "$a1"
assert_ge "the two cores accepted every ab connection" "$N" "$(val accepted)"
assert_ge "2xx responses counted for every ab request" "$N" "$(val requests_2xx)"
assert_eq "no flow seen on two cores (flow_other_core)" 0 "$(val flow_other_core)"
# Whichever core's worker answers (the kernel picks the queue of each
# connection), the page names both cores: 8 pages on their own connections.
whole=0
for _ in 1 2 3 4 5 6 7 8; do
    p=$(curl_ns "$(url /server-status)") || p=""
    if printf '%s\n' "$p" | grep -q '^core0\.accepted: [1-9]' &&
        printf '%s\n' "$p" | grep -q '^core1\.accepted: [1-9]'; then
        whole=$((whole + 1))
    fi
done
assert_eq "8 pages, from either core's worker, each show both cores" 8 "$whole"
echo "RESULT cores idle_cpu_pct=$idle_pct core0_accepted=${a0:-0} core1_accepted=${a1:-0} rps=${rps:-0}"

lib_finish
