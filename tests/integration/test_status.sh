#!/bin/bash
# The status page ([http] status_path, status_allow = 198.18.0.0/24):
#  - plain `key: value` lines whose counters follow the traffic exactly:
#    between two pages, 5 files and 2 missing paths requested on their own
#    connections make accepted grow by 8 (those 7 and the second page's
#    own), requests_2xx by 6 (the 5 and the first page), requests_4xx by 2;
#  - ?format=prometheus: Content-Type text/plain; version=0.0.4, parsed by
#    `promtool check metrics` with no problem reported, the same counters;
#  - two pages in a row on one keep-alive connection, and HEAD;
#  - a client outside status_allow (198.18.1.1, routed through the
#    gateway) gets 404 there, while it is served files;
#  - a SIGHUP whose file changes status_path and widens status_allow: the
#    log says they wait for the next start; a keep-alive connection that
#    asked for the page before the reload gets it again after (its settings
#    rebuilt from the new site keep the worker's page hook); the page stays
#    at its path, its counters go on from where they were, 198.18.1.1 still
#    gets 404 and the new path is nothing special.
. "$(dirname "$0")/lib.sh"
lib_init status "$@"
need_cmd promtool
cfg_write "status_allow = 198.18.0.0/24"
srv_start

page=""
val() { printf '%s\n' "$page" | sed -n "s/^$1: //p" | head -n 1; }

hdr=$TMPD/hdr
page=$(curl_ns -D "$hdr" "$(url /server-status)") || page=""
assert_match "plain page: 200" '^HTTP/1.1 200 ' "$(head -n 1 "$hdr")"
assert_match "plain page: text/plain" '^Content-Type: text/plain; charset=utf-8' "$(grep -i '^Content-Type' "$hdr" | tr -d '\r')"
assert_eq "plain page: one core" 1 "$(val cores)"
assert_no_match "plain page: every line is key: value" '^[^:]*$' "$page"
a0=$(val accepted)
ok0=$(val requests_2xx)
nf0=$(val requests_4xx)
rx0=$(val core0.rx_packets)
tx0=$(val core0.tx_bytes)
say "first page: accepted $a0, 2xx $ok0, 4xx $nf0, rx packets $rx0, tx bytes $tx0"

for _ in 1 2 3 4 5; do
    curl_ns -o /dev/null "$(url /index.html)" || fail "GET /index.html"
done
for p in /missing-1 /missing-2; do
    code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url "$p")") || code=curl-failed
    assert_eq "GET $p" 404 "$code"
done

page=$(curl_ns "$(url /server-status)") || page=""
say "second page: accepted $(val accepted), 2xx $(val requests_2xx), 4xx $(val requests_4xx)"
assert_eq "accepted grew by the 7 requests and this page's connection" $((a0 + 8)) "$(val accepted)"
assert_eq "requests_2xx grew by the 5 files and the first page" $((ok0 + 6)) "$(val requests_2xx)"
assert_eq "requests_4xx grew by the 2 missing paths" $((nf0 + 2)) "$(val requests_4xx)"
assert_ge "rx_packets grew (at least 3 per connection)" $((rx0 + 24)) "$(val core0.rx_packets)"
size=$(stat -c %s "$WWW/index.html")
assert_ge "tx_bytes grew by at least 5 bodies" $((tx0 + 5 * size)) "$(val core0.tx_bytes)"
assert_eq "no flow on another core" 0 "$(val flow_other_core)"
# memory follows use: of the connections held, only this page's holds
# request state (the others' went back when they went idle or closed)
assert_eq "request states in use: only the asking connection's" 1 "$(val http_request_states_in_use)"
assert_ge "memory_rss_bytes shown" 1 "$(val memory_rss_bytes)"
assert_ge "dpdk_heap_in_use_bytes shown" 1 "$(val dpdk_heap_in_use_bytes)"
copied=$(val tx_payload_bytes_copied)
referenced=$(val tx_payload_bytes_referenced)
assert_ge "payload bytes counted (copied or referenced)" $((5 * size)) \
    $((${copied:-0} + ${referenced:-0}))

# ---- Prometheus
prom=$TMPD/metrics.prom
curl_ns -D "$hdr" -o "$prom" "$(url '/server-status?format=prometheus')" || fail "prometheus page"
assert_match "prometheus: Content-Type text/plain; version=0.0.4" \
    '^Content-Type: text/plain; version=0.0.4' "$(grep -i '^Content-Type' "$hdr" | tr -d '\r')"
if lint=$(promtool check metrics <"$prom" 2>&1) && [ -z "$lint" ]; then
    ok "promtool check metrics: no problem ($(grep -vc '^#' "$prom") samples)"
else
    fail "promtool check metrics: $lint"
fi
accepted_prom=$(sed -n 's/^corehttpd_connections_accepted_total{core="0"} //p' "$prom")
assert_eq "prometheus: accepted counts this page's connection too" $(($(val accepted) + 1)) "$accepted_prom"
assert_match "prometheus: requests by class with a core label" \
    '^corehttpd_requests_total\{core="0",class="4xx"\} [0-9]+$' "$(cat "$prom")"
assert_match "prometheus: drops by reason" \
    '^corehttpd_rx_dropped_total\{core="0",reason="bad_checksum"\} [0-9]+$' "$(cat "$prom")"
assert_match "prometheus: retransmissions by kind" \
    '^corehttpd_retransmissions_total\{core="0",kind="tail_probe"\} [0-9]+$' "$(cat "$prom")"
mbufs=$(sed -n 's/^corehttpd_mbufs_in_use{core="0"} //p' "$prom")
cap=$(sed -n 's/^corehttpd_mbufs_capacity{core="0"} //p' "$prom")
assert_ge "prometheus: mbufs in use counted" 1 "$mbufs"
assert_ge "prometheus: mbufs in use within the pool" "$mbufs" "$cap"

# ---- two pages on one connection (the first page's buffer comes back), HEAD
both=$(curl_ns "$(url '/server-status?format=prometheus')" "$(url /server-status)") || both=""
assert_eq "two pages on one keep-alive connection: both whole" 2 \
    "$(printf '%s\n' "$both" | grep -cE '^(version: |corehttpd_info\{)')"
res=$(curl_ns -I -o /dev/null -w '%{http_code} %{size_download}' "$(url /server-status)") || res=""
assert_eq "HEAD: 200, no body" "200 0" "$res"

# ---- a client outside status_allow
ip -n "$NS" addr add 198.18.1.1/24 dev "$TAP"
code=$(curl_ns --interface 198.18.1.1 -o /dev/null -w '%{http_code}' "$(url /index.html)") || code=curl-failed
assert_eq "outside status_allow: files are served (198.18.1.1 via the gateway)" 200 "$code"
code=$(curl_ns --interface 198.18.1.1 -o /dev/null -w '%{http_code}' "$(url /server-status)") || code=curl-failed
assert_eq "outside status_allow: 404 for the status page" 404 "$code"
code=$(curl_ns --interface 198.18.1.1 -o /dev/null -w '%{http_code}' "$(url '/server-status?format=prometheus')") || code=curl-failed
assert_eq "outside status_allow: 404 for the Prometheus page" 404 "$code"

# ---- SIGHUP: the page survives a reload; status_path and status_allow stay
page=$(curl_ns "$(url /server-status)") || page=""
a1=$(val accepted)
cat >"$TMPD/keepalive.py" <<'PYEOF'
import os, re, socket, sys, time
ip, port, go1, go2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((ip, port), timeout=10)
buf = b""
def get():
    global buf
    s.sendall(b"GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n")
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return "closed", b""
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            return "short", b""
        buf += d
    body, buf = buf[:n], buf[n:]
    return head.split(b" ")[1].decode(), body
st, body = get()
print("first=%s accepted_line=%d" % (st, body.count(b"\naccepted: ")))
sys.stdout.flush()
open(go1, "w").close()
end = time.time() + 20
while not os.path.exists(go2) and time.time() < end:
    time.sleep(0.05)
st, body = get()
print("second=%s accepted_line=%d" % (st, body.count(b"\naccepted: ")))
PYEOF
nsx "$PY" "$TMPD/keepalive.py" "$SRV_IP" "$SRV_PORT" "$TMPD/go1" "$TMPD/go2" >"$TMPD/keepalive.out" 2>&1 &
kpid=$!
wait_until 10 "the keep-alive client's first page" test -e "$TMPD/go1"
cfg_write "status_allow = 198.18.0.0/23
status_path = /other-status"
kill -HUP "$SRV_PID"
wait_until 10 "the reload" grep -q 'reloaded .*: serving' "$LOG"
touch "$TMPD/go2"
wait "$kpid" || true
ka=$(tr '\n' ' ' <"$TMPD/keepalive.out")
assert_match "keep-alive connection: the page before the reload" 'first=200 accepted_line=1' "$ka"
assert_match "keep-alive connection: the page again after the reload" 'second=200 accepted_line=1' "$ka"
assert_match "reload: the log says status_path and status_allow wait for the next start" \
    'reload: .*status_path, status_allow\); they take effect at the next start' "$(cat "$LOG")"
page=$(curl_ns "$(url /server-status)") || page=""
assert_eq "after the reload: the page at its start-up path, accepted going on (+2)" \
    $((a1 + 2)) "$(val accepted)"
code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /other-status)") || code=curl-failed
assert_eq "after the reload: the new status_path is not the page" 404 "$code"
code=$(curl_ns --interface 198.18.1.1 -o /dev/null -w '%{http_code}' "$(url /server-status)") || code=curl-failed
assert_eq "after the reload: 198.18.1.1 still outside status_allow" 404 "$code"

lib_finish
