#!/bin/bash
# Every file of the site, byte for byte, by GET; HEAD headers without a body;
# 404, index files, directory redirect, conditional GET; keep-alive, HTTP/1.0
# and Connection: close.
. "$(dirname "$0")/lib.sh"
lib_init files "$@"
need_cmd curl sha256sum
[ -f "$WWW/files/big.bin" ] || die "$WWW/files/big.bin missing: run packaging/gen-site-data.sh"
srv_start

# hdr NAME FILE: the value of header NAME in a curl -D dump ("" if absent).
hdr() {
    sed -n "s/^$1:[[:space:]]*//Ip" "$2" | tr -d '\r' | head -n 1
}

# status_of FILE: the status code in a curl -D dump (of the last response).
status_of() {
    grep -E '^HTTP/' "$1" | tail -n 1 | cut -d' ' -f2
}

# mime_re NAME: what the Content-Type of NAME must start with.
mime_re() {
    case $1 in
    *.html) echo '^text/html' ;;
    *.css) echo '^text/css' ;;
    *.png) echo '^image/png$' ;;
    *.svg) echo '^image/svg\+xml' ;;
    *.txt) echo '^text/plain' ;;
    *.bin) echo '^application/octet-stream$' ;;
    *) echo '.' ;;
    esac
}

body=$TMPD/body
hdrs=$TMPD/hdrs

# ---- every file: GET bytes, HEAD headers
files=$(cd "$WWW" && find . -type f ! -name '*.tmp' | sed 's|^\./||' | LC_ALL=C sort)
say "$(printf '%s\n' "$files" | wc -l) files under $WWW"
for f in $files; do
    case $f in
    *[!A-Za-z0-9._/-]*) die "file name '$f' needs URL encoding; keep site names plain" ;;
    esac
    size=$(stat -c %s "$WWW/$f")
    rm -f "$body" "$hdrs"
    code=$(curl_ns --max-time 60 -o "$body" -w '%{http_code}' "$(url "/$f")") || code="curl failed"
    assert_eq "GET /$f: status" 200 "$code"
    assert_same_file "GET /$f: the file's $size bytes" "$WWW/$f" "$body"

    rm -f "$hdrs"
    curl_ns --head -D "$hdrs" -o /dev/null "$(url "/$f")" || true
    assert_eq "HEAD /$f: status" 200 "$(status_of "$hdrs")"
    assert_eq "HEAD /$f: Content-Length" "$size" "$(hdr content-length "$hdrs")"
    assert_match "HEAD /$f: Content-Type" "$(mime_re "$f")" "$(hdr content-type "$hdrs")"
    # (curl --head never reads a body.) Two HEADs on one connection: any body
    # after the first would be taken for the second's status line.
    out=$(raw_http --responses 2 --methods HEAD,HEAD \
        --send "HEAD /$f HTTP/1.1\\r\\nHost: t\\r\\n\\r\\nHEAD /$f HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
    assert_eq "HEAD /$f twice on one connection: two 200s and no body" \
        "2 200 200 0" "$(kv "$out" count) $(kv "$out" r1.status) $(kv "$out" r2.status) $(kv "$out" trailing)"
done

# ---- headers every response should have
curl_ns --head -D "$hdrs" -o /dev/null "$(url /index.html)" || true
assert_match "Date header is an IMF-fixdate" \
    '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' \
    "$(hdr date "$hdrs")"
etag=$(hdr etag "$hdrs")
last_mod=$(hdr last-modified "$hdrs")
assert_match "ETag header" '^(W/)?".+"$' "$etag"
assert_match "Last-Modified header" ' GMT$' "$last_mod"

# ---- HEAD has no body on the wire: a HEAD and a GET on one connection must
# parse as exactly two responses (a body after the HEAD would break the second).
out=$(raw_http --responses 2 --methods HEAD,GET \
    --send 'HEAD /index.html HTTP/1.1\r\nHost: t\r\n\r\nGET /style.css HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
assert_eq "HEAD then GET on one connection: HEAD status" 200 "$(kv "$out" r1.status)"
assert_eq "HEAD then GET on one connection: HEAD Content-Length" \
    "$(stat -c %s "$WWW/index.html")" "$(kv "$out" r1.h.content-length)"
assert_eq "HEAD then GET on one connection: GET status" 200 "$(kv "$out" r2.status)"
assert_eq "HEAD then GET on one connection: GET body is style.css" \
    "$(sha256sum <"$WWW/style.css" | cut -d' ' -f1)" "$(kv "$out" r2.body_sha256)"
assert_eq "HEAD then GET on one connection: nothing after" 0 "$(kv "$out" trailing)"

# ---- missing files
for p in /no-such-file.html /img/no-such.png /files/edge/3.bin; do
    code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url "$p")") || code="curl failed"
    assert_eq "GET $p: 404" 404 "$code"
done

# ---- index files, redirect, query strings, percent-encoding
code=$(curl_ns -o "$body" -w '%{http_code}' "$(url /)") || code="curl failed"
assert_eq "GET /: status" 200 "$code"
assert_same_file "GET /: the bytes of index.html" "$WWW/index.html" "$body"

code=$(curl_ns -o "$body" -w '%{http_code}' "$(url /docs/)") || code="curl failed"
assert_eq "GET /docs/: status" 200 "$code"
assert_same_file "GET /docs/: the bytes of docs/index.html" "$WWW/docs/index.html" "$body"

res=$(curl_ns -o /dev/null -w '%{http_code} %{redirect_url}' "$(url /docs)") || res="curl failed"
assert_match "GET /docs: 301 to /docs/" '^301 .*/docs/$' "$res"

code=$(curl_ns -o "$body" -w '%{http_code}' "$(url '/index.html?v=1&x=%20')") || code="curl failed"
assert_eq "GET /index.html?query: status" 200 "$code"
assert_same_file "GET /index.html?query: the bytes of index.html" "$WWW/index.html" "$body"

code=$(curl_ns -o "$body" -w '%{http_code}' "$(url /%69ndex.html)") || code="curl failed"
assert_eq "GET /%69ndex.html (percent-encoded): status" 200 "$code"
assert_same_file "GET /%69ndex.html: the bytes of index.html" "$WWW/index.html" "$body"

# ---- conditional GET
rm -f "$body"
code=$(curl_ns -o "$body" -w '%{http_code}' -H "If-None-Match: $etag" "$(url /index.html)") || code="curl failed"
assert_eq "If-None-Match with the ETag: 304" 304 "$code"
# curl creates the output file only when a body byte arrives.
assert_eq "304 has no body" 0 "$(stat -c %s "$body" 2>/dev/null || echo 0)"
code=$(curl_ns -o /dev/null -w '%{http_code}' -H 'If-None-Match: "not-it"' "$(url /index.html)") || code="curl failed"
assert_eq "If-None-Match with another ETag: 200" 200 "$code"
code=$(curl_ns -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $last_mod" "$(url /index.html)") || code="curl failed"
assert_eq "If-Modified-Since Last-Modified: 304" 304 "$code"

# ---- keep-alive: two URLs in one curl run share one connection
v=$(curl_ns -v -o /dev/null -o /dev/null "$(url /index.html)" "$(url /style.css)" 2>&1) || true
assert_match "keep-alive: curl re-used the connection" '[Rr]e-using existing connection' "$v"
assert_match "keep-alive: connection left open" 'left intact' "$v"
assert_eq "keep-alive: one TCP connection" 1 "$(printf '%s\n' "$v" | grep -c 'Connected to')"

# ---- HTTP/1.0
code=$(curl_ns -0 -o "$body" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "HTTP/1.0 GET: status" 200 "$code"
assert_same_file "HTTP/1.0 GET: bytes" "$WWW/index.html" "$body"
out=$(raw_http --send 'GET /style.css HTTP/1.0\r\n\r\n')
assert_eq "HTTP/1.0 without keep-alive: 200" 200 "$(kv "$out" r1.status)"
assert_eq "HTTP/1.0 without keep-alive: server closes" 1 "$(kv "$out" closed)"
# ab -k speaks exactly this: HTTP/1.0 asking for keep-alive.
out=$(raw_http --send 'GET /style.css HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')
assert_eq "HTTP/1.0 + Connection: Keep-Alive: 200" 200 "$(kv "$out" r1.status)"
assert_match "HTTP/1.0 + Connection: Keep-Alive: answered with Connection: keep-alive" \
    '^[Kk]eep-[Aa]live$' "$(kv "$out" r1.h.connection)"
assert_eq "HTTP/1.0 + Connection: Keep-Alive: connection stays open" 0 "$(kv "$out" closed)"

# ---- Connection: close
code=$(curl_ns -H 'Connection: close' -o "$body" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "Connection: close: status" 200 "$code"
assert_same_file "Connection: close: bytes" "$WWW/index.html" "$body"
out=$(raw_http --send 'GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
assert_match "Connection: close: response says Connection: close" '^[Cc]lose$' "$(kv "$out" r1.h.connection)"
assert_eq "Connection: close: server closes" 1 "$(kv "$out" closed)"
out=$(raw_http --send 'GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n')
assert_eq "HTTP/1.1 default: connection stays open" 0 "$(kv "$out" closed)"

lib_finish
