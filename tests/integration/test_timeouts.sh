#!/bin/bash
# Connection limits from [http]: keepalive_requests (the last response says
# Connection: close), keepalive_timeout_ms (an idle connection is closed,
# not before), header_timeout_ms (a client dribbling a request gets a 408
# and is closed; one that says nothing is closed silently), pipelined
# requests answered in order; a client that half-closes after its request
# and reads slowly gets its whole body without the worker spinning while it
# waits, then is closed at once; send_timeout_ms (a client that reads
# nothing is closed once its blocked response has made no progress for
# that long, not before); the server serves on afterwards.
. "$(dirname "$0")/lib.sh"
lib_init timeout "$@"
need_cmd curl
cfg_write "keepalive_requests = 3
keepalive_timeout_ms = 1000
header_timeout_ms = 1500
send_timeout_ms = 5000
status_allow = 198.18.0.0/24"
srv_start

sha() { sha256sum <"$WWW/$1" | cut -d' ' -f1; }
req='GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n'

# ---- keepalive_requests = 3: four pipelined, three answered in order
out=$(raw_http --responses 4 --send "GET /index.html HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n${req}GET /about.html HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n${req}")
assert_eq "keepalive_requests 3: three responses" 3 "$(kv "$out" count)"
assert_eq "pipelined in order" "$(sha index.html) $(sha style.css) $(sha about.html)" \
    "$(kv "$out" r1.body_sha256) $(kv "$out" r2.body_sha256) $(kv "$out" r3.body_sha256)"
assert_match "the first two keep the connection" '^[Kk]eep-[Aa]live [Kk]eep-[Aa]live$' \
    "$(kv "$out" r1.h.connection) $(kv "$out" r2.h.connection)"
assert_eq "the third says Connection: close" close "$(kv "$out" r3.h.connection)"
assert_eq "then the server closes" 1 "$(kv "$out" closed)"

# ---- keepalive_timeout_ms = 1000
out=$(raw_http --close-wait 0.4 --send "$req")
assert_eq "idle 0.4 s (timeout 1 s): still open" "200 0" "$(kv "$out" r1.status) $(kv "$out" closed)"
t0=$(date +%s%N)
out=$(raw_http --close-wait 4 --send "$req")
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "idle: closed by the server" "200 1" "$(kv "$out" r1.status) $(kv "$out" closed)"
assert_match "idle: closed after about 1 s (${ms} ms)" '^(9[0-9][0-9]|1[0-9]{3}|2[0-4][0-9]{2})$' "$ms"

# ---- header_timeout_ms = 1500: a slow sender, one byte every 0.3 s (the
# whole request would take 15 s); the time is that of the server's answer
res=$(nsx "$PY" - "$SRV_IP" "$SRV_PORT" <<'PYEOF'
import select, socket, sys, time
req = b"GET /index.html HTTP/1.1\r\nHost: t\r\nUser-Agent: slow\r\n\r\n"
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
t0, got = time.monotonic(), b""
for i in range(len(req)):
    try:
        s.send(req[i:i + 1])
    except OSError:
        pass
    if select.select([s], [], [], 0.3)[0]:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        break
print(int((time.monotonic() - t0) * 1000), got.split(b"\r\n")[0].decode(),
      b"Connection: close" in got)
PYEOF
) || res="python failed"
assert_match "slowloris: 408 with Connection: close, then closed" ' HTTP/1.1 408 Request Timeout True$' "$res"
ms=${res%% *}
assert_match "slowloris: cut off after about 1.5 s, not at the end of its 15 s (${ms} ms)" \
    '^(1[4-9][0-9]{2}|2[0-9]{3})$' "$ms"
# the same after a first request on the connection: the next one is timed
out=$(raw_http --responses 2 --chunk 40 --delay 0.8 --close-wait 3 --timeout 8 \
    --send "${req}GET /index.html HTTP/1.1\\r\\nHost: t\\r\\nX-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\r\\nX-B: b\\r\\n\\r\\n")
assert_eq "second request dribbled: 200 then 408" "200 408" "$(kv "$out" r1.status) $(kv "$out" r2.status)"

# ---- a connection that says nothing: closed without a word
t0=$(date +%s%N)
out=$(raw_http --close-wait 8 --timeout 8 --send '')
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "silent client: no response, closed" "0 1 0" "$(kv "$out" count) $(kv "$out" closed) $(kv "$out" trailing)"
assert_match "silent client: after about 1.5 s (${ms} ms)" '^(1[4-9][0-9]{2}|[23][0-9]{3})$' "$ms"

# ---- a client that half-closes after its request and reads slowly: the
# worker waits for room without spinning (EPOLLRDHUP, level-triggered, is
# not asked for while it waits), the whole body comes, and the end of the
# client's stream is then read: the server closes at once, not at
# keepalive_timeout_ms
HC=$TMPD/halfclose.out
nsx "$PY" - "$SRV_IP" "$(url /files/big.bin)" >"$HC" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect((sys.argv[1], 80))
path = "/" + sys.argv[2].split("/", 3)[3]
s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
s.shutdown(socket.SHUT_WR)
print("sent", flush=True)
time.sleep(3.5)  # the server's send buffer fills; it waits for room
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(65536)
head, body = got.split(b"\r\n\r\n", 1)
want = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
n = len(body)
while n < want:
    d = s.recv(1 << 20)
    if not d:
        break
    n += len(d)
t = time.monotonic()
try:
    eof = s.recv(1) == b""
except socket.timeout:
    eof = False
print("body=%d want=%d eof=%s eof_ms=%d" % (n, want, eof, (time.monotonic() - t) * 1000), flush=True)
PYEOF
HCPID=$!
wait_until 10 "the half-closing client's request" grep -q '^sent' "$HC"
sleep 0.5
cpu_ticks() { sed 's/^.*) //' "/proc/$SRV_PID/stat" | awk '{ print $12 + $13 }'; }
c0=$(cpu_ticks)
t0=$(date +%s%N)
sleep 2
c1=$(cpu_ticks)
t1=$(date +%s%N)
pct=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v ns="$((t1 - t0))" \
    'BEGIN { printf "%.0f", c / hz / (ns / 1e9) * 100 }')
wait "$HCPID" || true
r=$(tail -n 1 "$HC")
say "half-closed client: server CPU ${pct}% of one CPU while blocked; $r"
if [ "$pct" -lt 25 ]; then
    ok "blocked on a half-closed client: the worker does not spin (${pct}% of one CPU)"
else
    fail "blocked on a half-closed client: the server used ${pct}% of one CPU (limit 25%)"
fi
assert_match "half-closed client: the whole body" '^body=([0-9]+) want=\1 ' "$r"
assert_match "half-closed client: then closed at once (the FIN read, not the keep-alive timeout)" \
    'eof=True eof_ms=([0-9]|[1-9][0-9]|[1-4][0-9][0-9])$' "$r"

# ---- send_timeout_ms = 5000: a client that asks for the 10 MB file and
# reads nothing; its response blocks on a full send buffer
page=""
val() { printf '%s\n' "$page" | sed -n "s/^$1: //p" | head -n 1; }
status_page() { page=$(curl_ns "$(url /server-status)") || page=""; }
status_page
to0=$(val timeouts)
NR=$TMPD/noread.out
nsx "$PY" - "$SRV_IP" >"$NR" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((sys.argv[1], 80))
s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
print("sent", flush=True)
time.sleep(12)
PYEOF
NRPID=$!
wait_until 10 "the non-reading client's request" grep -q '^sent' "$NR"
sleep 2.5
status_page
assert_eq "reads nothing, blocked 2.5 s (send timeout 5 s): not closed yet" "$to0" "$(val timeouts)"
assert_eq "... it is still open (and the status request)" 2 "$(val http_connections_open)"
sleep 5
status_page
assert_eq "blocked 7.5 s: closed by the send timeout" "$((to0 + 1))" "$(val timeouts)"
assert_eq "... and gone (only the status request open)" 1 "$(val http_connections_open)"
kill "$NRPID" 2>/dev/null || true
wait "$NRPID" 2>/dev/null || true

code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /)") || code="curl failed"
assert_eq "still serving" 200 "$code"
srv_stop
assert_ge "the exit report counts the timeouts" 3 "$(srv_report_value timeouts)"
lib_finish
