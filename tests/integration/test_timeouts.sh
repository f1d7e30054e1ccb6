#!/bin/bash
# Connection limits from [http]: keepalive_requests (the last response says
# Connection: close), keepalive_timeout_ms (an idle connection is closed,
# not before), header_timeout_ms (a client dribbling a request gets a 408
# and is closed; one that says nothing is closed silently), pipelined
# requests answered in order; the server serves on afterwards.
. "$(dirname "$0")/lib.sh"
lib_init timeout "$@"
need_cmd curl
cfg_write "keepalive_requests = 3
keepalive_timeout_ms = 1000
header_timeout_ms = 1500"
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

code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /)") || code="curl failed"
assert_eq "still serving" 200 "$code"
srv_stop
assert_ge "the exit report counts the timeouts" 3 "$(srv_report_value timeouts)"
lib_finish
