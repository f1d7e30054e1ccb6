#!/bin/bash
# Methods and status codes over the wire (GET, HEAD, OPTIONS; 405 with
# Allow; 501; 505; 400; 414, 431 and 413 from the [http] limits; a body on
# GET read and skipped), and the site's edges: 50 path-traversal payloads
# that must never reach a file outside the root (a symlink to it included),
# dot files hidden, .well-known served, the index list, 301 for a folder.
. "$(dirname "$0")/lib.sh"
lib_init methods "$@"
need_cmd curl sha256sum

# The site: www/ plus a secret next to it (outside the root), a symlink to
# that secret, dot files, a folder whose index is the second name of the list.
SITE_ROOT=$TMPD/site
mkdir -p "$SITE_ROOT"
cp -a "$WWW/." "$SITE_ROOT/"
secret="the secret outside the root $$"
printf '%s\n' "$secret" >"$TMPD/secret.txt"
ln -s ../secret.txt "$SITE_ROOT/leak.txt"
ln -s "$TMPD" "$SITE_ROOT/updir"
printf 'user:hash\n' >"$SITE_ROOT/.htpasswd"
mkdir -p "$SITE_ROOT/.git" "$SITE_ROOT/.well-known" "$SITE_ROOT/alt"
printf '[core]\n' >"$SITE_ROOT/.git/config"
printf 'Contact: mailto:a@example.com\n' >"$SITE_ROOT/.well-known/security.txt"
printf '<p>alt</p>\n' >"$SITE_ROOT/alt/default.htm"
cfg_write "max_uri_bytes = 256
max_request_bytes = 2048
max_body_bytes = 1000"
sed -i 's/^index = index.html$/index = default.htm index.html/' "$CFG"
srv_start

sha() { sha256sum <"$SITE_ROOT/$1" | cut -d' ' -f1; }

# ---- GET, HEAD, OPTIONS
out=$(raw_http --send 'OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n')
assert_eq "OPTIONS *: 200" 200 "$(kv "$out" r1.status)"
assert_eq "OPTIONS *: Allow" "GET, HEAD, OPTIONS" "$(kv "$out" r1.h.allow)"
assert_eq "OPTIONS *: Content-Length 0" 0 "$(kv "$out" r1.h.content-length)"
assert_eq "OPTIONS *: keeps the connection" 0 "$(kv "$out" closed)"
res=$(curl_ns -X OPTIONS -D - -o /dev/null "$(url /index.html)" | tr -d '\r') || res="curl failed"
assert_match "curl OPTIONS /index.html: 200" '^HTTP/1.1 200' "$res"
assert_match "curl OPTIONS /index.html: Allow" 'Allow: GET, HEAD, OPTIONS' "$res"
code=$(curl_ns -X OPTIONS -o /dev/null -w '%{http_code}' "$(url /none.html)") || code="curl failed"
assert_eq "OPTIONS /none.html: 404" 404 "$code"

# ---- 405 for the methods HTTP defines, with Allow; the connection lives on
for m in POST PUT DELETE PATCH TRACE; do
    out=$(raw_http --responses 2 --send "$m /index.html HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 3\\r\\n\\r\\nabcGET /style.css HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
    assert_eq "$m: 405" 405 "$(kv "$out" r1.status)"
    assert_eq "$m: Allow" "GET, HEAD, OPTIONS" "$(kv "$out" r1.h.allow)"
    assert_eq "$m: its body skipped, the next request answered" "200 $(sha style.css)" \
        "$(kv "$out" r2.status) $(kv "$out" r2.body_sha256)"
done

# ---- 501 for methods nobody implements here; 400 for a broken line
for m in FOO PROPFIND get BREW; do
    out=$(raw_http --send "$m /index.html HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
    assert_eq "$m: 501" 501 "$(kv "$out" r1.status)"
    assert_eq "$m: connection closed" 1 "$(kv "$out" closed)"
done
out=$(raw_http --send 'FOO /index.html HTTP/1.1 extra\r\nHost: t\r\n\r\n')
assert_eq "unknown method with a broken request line: 400" 400 "$(kv "$out" r1.status)"
out=$(raw_http --send 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
assert_eq "HTTP/2 preface: 505" 505 "$(kv "$out" r1.status)"
out=$(raw_http --send 'GET / HTTP/3.0\r\nHost: t\r\n\r\n')
assert_eq "HTTP/3.0: 505" 505 "$(kv "$out" r1.status)"
out=$(raw_http --send 'GET / HTTP/1.1\r\n\r\n')
assert_eq "HTTP/1.1 without Host: 400" 400 "$(kv "$out" r1.status)"

# ---- limits from [http]: max_uri_bytes 256, max_request_bytes 2048, max_body_bytes 1000
out=$(raw_http --repeat-url 254 --send 'GET /LONGURL HTTP/1.1\r\nHost: t\r\n\r\n')
assert_eq "target of 255 bytes (limit 256): 404" 404 "$(kv "$out" r1.status)"
out=$(raw_http --repeat-url 256 --send 'GET /LONGURL HTTP/1.1\r\nHost: t\r\n\r\n')
assert_eq "target of 257 bytes: 414" 414 "$(kv "$out" r1.status)"
out=$(raw_http --pad-header 1900 --send 'GET / HTTP/1.1\r\nHost: t\r\nPADHDR\r\n')
assert_eq "headers of ~1950 bytes (limit 2048): 200" 200 "$(kv "$out" r1.status)"
out=$(raw_http --pad-header 2100 --send 'GET / HTTP/1.1\r\nHost: t\r\nPADHDR\r\n')
assert_eq "headers over 2048 bytes: 431" 431 "$(kv "$out" r1.status)"
body=$(head -c 1000 /dev/zero | tr '\0' b)
out=$(raw_http --responses 2 --send "GET /style.css HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 1000\\r\\n\\r\\n${body}HEAD /style.css HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n" --methods GET,HEAD)
assert_eq "GET with a 1000-byte body: 200, body skipped" "200 $(sha style.css)" \
    "$(kv "$out" r1.status) $(kv "$out" r1.body_sha256)"
assert_eq "the HEAD after it: 200" 200 "$(kv "$out" r2.status)"
out=$(raw_http --send "GET /style.css HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 1001\\r\\n\\r\\n${body}b")
assert_eq "GET with a 1001-byte body: 413" 413 "$(kv "$out" r1.status)"
assert_eq "413: connection closed" 1 "$(kv "$out" closed)"
out=$(raw_http --send "GET /style.css HTTP/1.1\\r\\nHost: t\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3e8\\r\\n${body}\\r\\n1\\r\\nb\\r\\n0\\r\\n\\r\\n")
assert_eq "GET with a chunked body of 1001 bytes: 413" 413 "$(kv "$out" r1.status)"

# ---- traversal: 50 payloads, none may reach the secret (or /etc/passwd)
payloads=(
    '/../secret.txt' '/../../secret.txt' '/../../../../../../etc/passwd'
    '/%2e%2e/secret.txt' '/%2E%2E/secret.txt' '/%2e%2e%2fsecret.txt'
    '/..%2fsecret.txt' '/..%2Fsecret.txt' '/%2e%2e%2f%2e%2e%2fetc%2fpasswd'
    '/docs/../../secret.txt' '/docs/%2e%2e/%2e%2e/secret.txt' '/docs/..%2f..%2fsecret.txt'
    '/./../secret.txt' '/.%2e/secret.txt' '/%2e./secret.txt'
    '/..\secret.txt' '/..%5csecret.txt' '/..%5Csecret.txt' '/docs\..\..\secret.txt'
    '/%5c..%5c..%5csecret.txt' '/..%00/secret.txt' '/secret.txt%00.html'
    '/%00../secret.txt' '/%c0%ae%c0%ae/secret.txt' '/%c0%ae%c0%ae%c0%afsecret.txt'
    '/%e0%80%ae%e0%80%ae/secret.txt' '/%c1%9c..%c1%9csecret.txt' '/..%c0%afsecret.txt'
    '/%f0%80%80%ae%f0%80%80%ae/secret.txt' '/%252e%252e/secret.txt' '/..%252fsecret.txt'
    '/....//secret.txt' '/..../secret.txt' '/.../secret.txt'
    '/leak.txt' '/updir/secret.txt' '/updir' '/updir/'
    '//../secret.txt' '/docs//..//..//secret.txt' '/%2f..%2f..%2fsecret.txt'
    'http://t/../secret.txt' 'http://t/%2e%2e/secret.txt'
    '/.htpasswd' '/.git/config' '/%2ehtpasswd' '/docs/../.htpasswd'
    '/..;/secret.txt' '/%u002e%u002e/secret.txt' '/..%u2215secret.txt'
)
assert_ge "at least 30 traversal payloads" 30 "${#payloads[@]}"
reached=0
for p in "${payloads[@]}"; do
    # rawhttp.py unescapes \xNN and \\: send a backslash as \\\\.
    sendp=${p//\\/\\\\}
    out=$(raw_http --send "GET $sendp HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
    st=$(kv "$out" r1.status)
    case $st in
    400 | 404) ;;
    *)
        fail "GET $p: status '$st' (400 or 404 expected)"
        reached=$((reached + 1))
        ;;
    esac
    if printf '%s' "$out" | grep -q "r1.body_sha256=$(printf '%s\n' "$secret" | sha256sum | cut -d' ' -f1)"; then
        fail "GET $p: the secret outside the root was served"
        reached=$((reached + 1))
    fi
done
assert_eq "${#payloads[@]} traversal payloads: every one 400 or 404, none served the secret" 0 "$reached"
# curl --path-as-is sends the dots unchanged
for p in '/../secret.txt' '/docs/../../secret.txt' '/leak.txt'; do
    code=$(curl_ns --path-as-is -o "$TMPD/out" -w '%{http_code}' "$(url "$p")") || code="curl failed"
    assert_match "curl --path-as-is $p: 400 or 404" '^(400|404)$' "$code"
    assert_no_match "curl --path-as-is $p: not the secret" "$secret" "$(cat "$TMPD/out" 2>/dev/null)"
done

# ---- dot files, .well-known, index list, folder redirect
code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /.htpasswd)") || code="curl failed"
assert_eq "dot file /.htpasswd: 404" 404 "$code"
code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /.git/config)") || code="curl failed"
assert_eq "dot folder /.git/config: 404" 404 "$code"
code=$(curl_ns -o "$TMPD/out" -w '%{http_code}' "$(url /.well-known/security.txt)") || code="curl failed"
assert_eq "/.well-known/security.txt: 200" 200 "$code"
assert_same_file "/.well-known/security.txt: bytes" "$SITE_ROOT/.well-known/security.txt" "$TMPD/out"
code=$(curl_ns -o "$TMPD/out" -w '%{http_code}' "$(url /alt/)") || code="curl failed"
assert_eq "/alt/: 200 (index list, first name)" 200 "$code"
assert_same_file "/alt/: default.htm" "$SITE_ROOT/alt/default.htm" "$TMPD/out"
code=$(curl_ns -o "$TMPD/out" -w '%{http_code}' "$(url /)") || code="curl failed"
assert_same_file "/: index.html (second name of the list)" "$SITE_ROOT/index.html" "$TMPD/out"
res=$(curl_ns -o /dev/null -w '%{http_code} %{redirect_url}' "$(url '/alt?x=1')") || res="curl failed"
assert_match "/alt?x=1: 301 to /alt/?x=1" '^301 .*/alt/\?x=1$' "$res"

if srv_alive; then ok "server alive after every request"; else fail "server died"; fi
lib_finish
