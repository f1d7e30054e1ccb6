#!/bin/bash
# Exhaustion, with small limits:
#  1. [tcp] max_flows = 64 (max_conns as many, so the sockets run out
#     first): 100 silent connections; those past the sockets are refused
#     cleanly (a SYN cookie answers, then a RST when the handshake's ACK
#     finds no socket; none hangs), one more is refused within 2 s while
#     they are held, and when they close, a new client is served at once
#     (within 1 s). The server's peak resident memory grows by less than
#     32 MB.
#  2. [http] max_conns_per_ip = 4: of 6 connections from one address, 4
#     are held and 2 closed at once; another address is served meanwhile;
#     when the 4 close, the first address is served again. The status page
#     counts the refusals (refused_per_ip).
. "$(dirname "$0")/lib.sh"
lib_init exhaust "$@"
need_cmd curl

page=""
val() { printf '%s\n' "$page" | sed -n "s/^$1: //p" | head -n 1; }
status_page() { page=$(curl_ns "$(url /server-status)") || page=""; }
hold() { nsx "$PY" "$LIB_DIR/holdconns.py" "$SRV_IP" "$SRV_PORT" "$@" 2>&1 || true; }
mem_kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$SRV_PID/status"; }

cfg_write "status_allow = 198.18.0.0/24
header_timeout_ms = 60000

[tcp]
max_flows = 64
max_conns = 64"
srv_start
rss0=$(mem_kb VmRSS)
out=$(hold 100)
say "100 connections, max_flows 64: $(printf '%s' "$out" | tr '\n' ' ')"
held=$(kv "$out" held)
assert_ge "sockets full: at least 60 held" 60 "$held"
assert_eq "past the sockets: the rest refused (reset), none left hanging" 100 \
    "$((held + $(kv "$out" refused) + $(kv "$out" connect_failed)))"
assert_ge "past the sockets: refused (reset after or during the handshake)" 30 \
    "$(($(kv "$out" refused) + $(kv "$out" connect_failed)))"
assert_eq "one more while they are held: refused" refused "$(kv "$out" extra)"
assert_match "one more: refused within 2 s ($(kv "$out" extra_ms) ms)" '^[0-9]{1,4}$' "$(kv "$out" extra_ms)"
assert_eq "once they close: served" 200 "$(kv "$out" after)"
assert_match "once they close: at once ($(kv "$out" after_ms) ms)" '^[0-9]{1,3}$' "$(kv "$out" after_ms)"
status_page
assert_ge "refused with cookies first" 30 "$(val tcp_syncookies_sent)"
assert_ge "then resets" 30 "$(val tcp_resets_sent)"
hwm=$(mem_kb VmHWM)
say "resident memory: ${rss0} kB at start, peak ${hwm} kB"
assert_ge "peak resident memory within 32 MB of the start's" "$hwm" $((rss0 + 32768))
srv_stop

rm -f "$CFG"
cfg_write "status_allow = 198.18.0.0/24
max_conns_per_ip = 4"
srv_start
nsx ip addr add 198.18.0.3/24 dev "$TAP"
nsx "$PY" "$LIB_DIR/holdconns.py" "$SRV_IP" "$SRV_PORT" 6 198.18.0.1 >"$TMPD/hold.out" 2>&1 &
hpid=$!
sleep 0.5
code=$(curl_ns --interface 198.18.0.3 -o /dev/null -w '%{http_code}' "$(url /)") || code=failed
assert_eq "another address is served meanwhile" 200 "$code"
wait "$hpid" || true
out=$(cat "$TMPD/hold.out")
say "6 connections from 198.18.0.1, max_conns_per_ip 4: $(printf '%s' "$out" | tr '\n' ' ')"
assert_eq "4 held" 4 "$(kv "$out" held)"
assert_eq "2 closed at once" 2 "$(kv "$out" refused)"
assert_eq "a 7th from the same address: closed" refused "$(kv "$out" extra)"
assert_eq "once the 4 close, the address is served again" 200 "$(kv "$out" after)"
page=$(curl_ns --interface 198.18.0.3 "$(url /server-status)") || page=""
assert_ge "refused_per_ip counts them" 3 "$(val refused_per_ip)"
lib_finish
