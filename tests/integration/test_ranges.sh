#!/bin/bash
# Ranges (RFC 9110 14) and preconditions (13) with curl and raw sockets:
# single, suffix and open ranges byte for byte (in the 10 MB file too),
# several ranges as multipart/byteranges parsed part by part, 416 with
# Content-Range: bytes */len, If-Range, 412 for If-Match and
# If-Unmodified-Since, 304 for If-None-Match and If-Modified-Since.
. "$(dirname "$0")/lib.sh"
lib_init ranges "$@"
need_cmd curl sha256sum
big=$WWW/files/big.bin
[ -f "$big" ] || die "$big missing: run packaging/gen-site-data.sh"
srv_start

hdrs=$TMPD/hdrs
out=$TMPD/out
want=$TMPD/want
hdr() { sed -n "s/^$1:[[:space:]]*//Ip" "$2" | tr -d '\r' | head -n 1; }

# range_case WHAT FILE RANGE FIRST COUNT: curl -r RANGE gives 206 and the
# COUNT bytes at FIRST.
range_case() {
    local what=$1 f=$2 r=$3 first=$4 count=$5 size code
    size=$(stat -c %s "$WWW/$f")
    rm -f "$out" "$hdrs"
    code=$(curl_ns --max-time 60 -r "$r" -D "$hdrs" -o "$out" -w '%{http_code}' "$(url "/$f")") || code="curl failed"
    assert_eq "$what: 206" 206 "$code"
    assert_eq "$what: Content-Range" "bytes $first-$((first + count - 1))/$size" "$(hdr content-range "$hdrs")"
    assert_eq "$what: Content-Length" "$count" "$(hdr content-length "$hdrs")"
    tail -c +$((first + 1)) "$WWW/$f" | head -c "$count" >"$want"
    assert_same_file "$what: the bytes" "$want" "$out"
}

size=$(stat -c %s "$WWW/index.html")
range_case "first 100 bytes of index.html" index.html 0-99 0 100
range_case "suffix -50 of index.html" index.html -50 $((size - 50)) 50
range_case "open 1000- of index.html" index.html 1000- 1000 $((size - 1000))
range_case "past the end, clipped" index.html "$((size - 10))-999999" $((size - 10)) 10
range_case "one byte in the middle" style.css 7-7 7 1
range_case "8 MB of the 10 MB file" files/big.bin 1048576-9437183 1048576 8388608
range_case "last byte of the 10 MB file" files/big.bin -1 $((10485760 - 1)) 1

# ---- several ranges: multipart/byteranges, each part checked
rm -f "$out" "$hdrs"
code=$(curl_ns -r 0-9,100-199,-30 -D "$hdrs" -o "$out" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "three ranges: 206" 206 "$code"
ct=$(hdr content-type "$hdrs")
assert_match "three ranges: multipart/byteranges" '^multipart/byteranges; boundary=' "$ct"
assert_eq "three ranges: Content-Length is the body's" "$(stat -c %s "$out")" "$(hdr content-length "$hdrs")"
res=$("$PY" - "$out" "${ct#*boundary=}" "$WWW/index.html" <<'EOF'
import sys
body, bnd, orig = open(sys.argv[1], "rb").read(), sys.argv[2].encode(), open(sys.argv[3], "rb").read()
parts = body.split(b"--" + bnd)
assert parts[0] == b"", "preamble"
assert parts[-1] == b"--\r\n", "closing delimiter"
seen = []
for p in parts[1:-1]:
    head, _, data = p[2:].partition(b"\r\n\r\n")
    data = data[:-2] if data.endswith(b"\r\n") else data
    h = dict(l.split(b": ", 1) for l in head.split(b"\r\n"))
    rng, total = h[b"Content-Range"].split(b" ")[1].split(b"/")
    a, b = map(int, rng.split(b"-"))
    assert int(total) == len(orig), "total"
    assert data == orig[a:b + 1], "data of %d-%d" % (a, b)
    assert h[b"Content-Type"].startswith(b"text/html"), "part type"
    seen.append("%d-%d" % (a, b))
print(" ".join(seen))
EOF
) || res="parse failed: $res"
assert_eq "three ranges: parts and their bytes" "0-9 100-199 $((size - 30))-$((size - 1))" "$res"

# ---- 416
rm -f "$hdrs"
code=$(curl_ns -r "$size-" -D "$hdrs" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "range from the end: 416" 416 "$code"
assert_eq "416: Content-Range bytes */len" "bytes */$size" "$(hdr content-range "$hdrs")"
o=$(raw_http --responses 2 --send "GET /index.html HTTP/1.1\\r\\nHost: t\\r\\nRange: bytes=$size-$((size + 5))\\r\\n\\r\\nGET /style.css HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
assert_eq "416 keeps the connection: the next request answered" "416 200" "$(kv "$o" r1.status) $(kv "$o" r2.status)"

# ---- ignored Range: bad syntax, HEAD
code=$(curl_ns -H 'Range: bytes=9-1' -o "$out" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "invalid range: 200 with the whole file" 200 "$code"
assert_same_file "invalid range: whole file" "$WWW/index.html" "$out"
o=$(raw_http --methods HEAD --send 'HEAD /index.html HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n')
assert_eq "HEAD with Range: 200, full length" "200 $size" "$(kv "$o" r1.status) $(kv "$o" r1.h.content-length)"
assert_eq "200 says Accept-Ranges: bytes" bytes "$(kv "$o" r1.h.accept-ranges)"

# ---- If-Range
curl_ns --head -D "$hdrs" -o /dev/null "$(url /index.html)" || true
etag=$(hdr etag "$hdrs")
lm=$(hdr last-modified "$hdrs")
code=$(curl_ns -r 0-9 -H "If-Range: $etag" -o "$out" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Range with the ETag: 206" 206 "$code"
code=$(curl_ns -r 0-9 -H 'If-Range: "stale"' -o "$out" -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Range with another ETag: 200" 200 "$code"
assert_same_file "If-Range with another ETag: whole file" "$WWW/index.html" "$out"
code=$(curl_ns -r 0-9 -H "If-Range: $lm" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Range with Last-Modified: 206" 206 "$code"
code=$(curl_ns -r 0-9 -H "If-Range: Thu, 01 Jan 1970 00:00:00 GMT" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Range with another date: 200" 200 "$code"

# ---- preconditions
code=$(curl_ns -H "If-Match: $etag" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Match with the ETag: 200" 200 "$code"
code=$(curl_ns -H 'If-Match: "stale"' -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Match with another ETag: 412" 412 "$code"
code=$(curl_ns -H 'If-Match: *' -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Match: *: 200" 200 "$code"
code=$(curl_ns -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Unmodified-Since before the mtime: 412" 412 "$code"
code=$(curl_ns -H "If-Unmodified-Since: $lm" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Unmodified-Since at the mtime: 200" 200 "$code"
code=$(curl_ns -H "If-None-Match: \"x\", $etag" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-None-Match listing the ETag: 304" 304 "$code"
code=$(curl_ns -H "If-None-Match: W/$etag" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-None-Match with the weak form (weak comparison): 304" 304 "$code"
code=$(curl_ns -H "If-Modified-Since: $lm" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Modified-Since at the mtime: 304" 304 "$code"
code=$(curl_ns -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT" -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "If-Modified-Since before the mtime: 200" 200 "$code"
o=$(raw_http --send "GET /index.html HTTP/1.1\\r\\nHost: t\\r\\nIf-None-Match: $etag\\r\\nConnection: close\\r\\n\\r\\n")
assert_eq "304 carries the ETag" "$etag" "$(kv "$o" r1.h.etag)"
assert_eq "304 has no body" 0 "$(kv "$o" r1.body_len)"

lib_finish
