#!/bin/bash
# Requests a browser would not send, over raw sockets (rawhttp.py): garbage,
# a request dribbled out in tiny pieces, pipelining, methods other than GET
# and HEAD, paths that try to leave the root, oversized requests. After each
# bad one the server must go on serving new connections.
. "$(dirname "$0")/lib.sh"
lib_init badreq "$@"
need_cmd curl
srv_start

sha() { sha256sum <"$WWW/$1" | cut -d' ' -f1; }

# still_serving WHAT: a fresh connection gets index.html.
still_serving() {
    local out
    out=$(raw_http --send 'GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    if [ "$(kv "$out" r1.status)" = 200 ] && [ "$(kv "$out" r1.body_sha256)" = "$(sha index.html)" ]; then
        ok "still serving after $1"
    else
        fail "not serving after $1: $(printf '%s' "$out" | tr '\n' ' ' | head -c 300)"
    fi
}

# ---- garbage: 400, then the connection closes
out=$(raw_http --send 'this is not http\r\n\r\n')
assert_eq "garbage request line: 400" 400 "$(kv "$out" r1.status)"
assert_eq "garbage request line: connection closed after the 400" 1 "$(kv "$out" closed)"
still_serving "a garbage request line"

out=$(raw_http --send 'GET / HTTP/1.1\r\nHost: t\r\nno colon in this header\r\n\r\n')
assert_eq "malformed header line: 400" 400 "$(kv "$out" r1.status)"
still_serving "a malformed header"

# The start of a TLS ClientHello: a 400 or a plain close are both fine, as
# long as nothing else comes back and the server lives on.
out=$(raw_http --send '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02\x03\r\n\r\n')
st=$(kv "$out" r1.status)
if [ "$st" = 400 ] || [ "$(kv "$out" count) $(kv "$out" trailing)" = "0 0" ]; then
    ok "TLS bytes: a 400 or nothing"
else
    fail "TLS bytes: expected a 400 or nothing, got: $(printf '%s' "$out" | tr '\n' ' ' | head -c 300)"
fi
assert_eq "TLS bytes: connection closed" 1 "$(kv "$out" closed)"
still_serving "TLS bytes"

# ---- a request in 1- and 3-byte pieces with 20 ms between them
for n in 1 3; do
    out=$(raw_http --chunk "$n" --delay 0.02 \
        --send 'GET /index.html HTTP/1.1\r\nHost: t\r\nUser-Agent: slow\r\nConnection: close\r\n\r\n')
    assert_eq "request sent $n byte(s) at a time: 200" 200 "$(kv "$out" r1.status)"
    assert_eq "request sent $n byte(s) at a time: body" "$(sha index.html)" "$(kv "$out" r1.body_sha256)"
done

# ---- pipelining: three requests in one write, answered in order
out=$(raw_http --responses 3 \
    --send 'GET /style.css HTTP/1.1\r\nHost: t\r\n\r\nGET /index.html HTTP/1.1\r\nHost: t\r\n\r\nGET /img/logo.png HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
assert_eq "pipelined: three responses" 3 "$(kv "$out" count)"
assert_eq "pipelined: 1st is style.css" "200 $(sha style.css)" "$(kv "$out" r1.status) $(kv "$out" r1.body_sha256)"
assert_eq "pipelined: 2nd is index.html" "200 $(sha index.html)" "$(kv "$out" r2.status) $(kv "$out" r2.body_sha256)"
assert_eq "pipelined: 3rd is img/logo.png" "200 $(sha img/logo.png)" "$(kv "$out" r3.status) $(kv "$out" r3.body_sha256)"
assert_eq "pipelined: nothing after the third" 0 "$(kv "$out" trailing)"

# A pipeline whose second request is missing: the first is answered.
out=$(raw_http --responses 2 \
    --send 'GET /index.html HTTP/1.1\r\nHost: t\r\n\r\nGET /no-such-file HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
assert_eq "pipelined 200 then 404" "200 404" "$(kv "$out" r1.status) $(kv "$out" r2.status)"

# ---- methods other than GET and HEAD
for m in POST PUT DELETE; do
    out=$(raw_http --send "$m /index.html HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\na=b")
    assert_eq "$m: 405" 405 "$(kv "$out" r1.status)"
    assert_match "$m: Allow lists GET and HEAD" 'GET.*HEAD|HEAD.*GET' "$(kv "$out" r1.h.allow)"
done
code=$(curl_ns -o /dev/null -w '%{http_code}' -d 'a=b' "$(url /index.html)") || code="curl failed"
assert_eq "curl POST: 405" 405 "$code"
still_serving "POST, PUT and DELETE"

# ---- paths that try to leave the root: never a file from outside
for p in '/../../../../etc/passwd' '/files/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd'; do
    out=$(raw_http --send "GET $p HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
    st=$(kv "$out" r1.status)
    assert_match "GET $p: 400, 403 or 404" '^(400|403|404)$' "$st"
done
still_serving "path traversal attempts"

# ---- limits
out=$(raw_http --repeat-url 4000 --send 'GET /LONGURL HTTP/1.1\r\nHost: t\r\n\r\n')
assert_eq "4000-byte URI: 414" 414 "$(kv "$out" r1.status)"
out=$(raw_http --pad-header 16000 --send 'GET / HTTP/1.1\r\nHost: t\r\nPADHDR\r\n')
assert_match "16 KB of headers: 431 or 413" '^(431|413)$' "$(kv "$out" r1.status)"
out=$(raw_http --send 'GET / HTTP/2.0\r\nHost: t\r\n\r\n')
assert_eq "HTTP/2.0 request line: 505" 505 "$(kv "$out" r1.status)"
still_serving "oversized requests"

# ---- a client that connects and says nothing, or half a request, then goes
out=$(raw_http --close-wait 0.2 --timeout 0.5 --send '')
out=$(raw_http --close-wait 0.2 --timeout 0.5 --send 'GET /index.html HTTP/1.1\r\nHo')
still_serving "clients that left early"

if srv_alive; then ok "server process alive at the end"; else fail "server process died"; fi
code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /)") || code="curl failed"
assert_eq "curl still works at the end" 200 "$code"

lib_finish
