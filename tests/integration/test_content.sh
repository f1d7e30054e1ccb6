#!/bin/bash
# What a response carries besides the bytes, with curl: media types from
# /etc/mime.types (charset=utf-8 on text) and an override from the config,
# gzip_static (the .gz twin with Content-Encoding: gzip, Vary on both
# forms, curl --compressed gets the original back), Cache-Control and
# Expires per extension and path prefix, a custom 404 page, extra headers.
. "$(dirname "$0")/lib.sh"
lib_init content "$@"
need_cmd curl sha256sum gzip
[ -r /etc/mime.types ] || die "/etc/mime.types missing (Debian's media-types: packaging/install-deps.sh build)"

SITE_ROOT=$TMPD/site
mkdir -p "$SITE_ROOT"
cp -a "$WWW/." "$SITE_ROOT/"
gzip -9 -k -n "$SITE_ROOT/style.css"
gzip -9 -k -n "$SITE_ROOT/index.html"
printf '# Notes\n\nplain text\n' >"$SITE_ROOT/notes.md"
printf '<!doctype html><title>gone</title><p>Not here.</p>\n' >"$SITE_ROOT/404.html"
cfg_write "gzip_static = on
mime.md = text/x-markdown
expires.css = 7d
expires.png = 1h
expires./docs/ = 60
error_page.404 = /404.html
header.X-Content-Type-Options = nosniff
header.Content-Security-Policy = default-src 'self'; img-src *"
srv_start

hdrs=$TMPD/hdrs
out=$TMPD/out
hdr() { sed -n "s/^$1:[[:space:]]*//Ip" "$2" | tr -d '\r' | head -n 1; }
get() { # PATH [CURL-ARGS...]: status; headers in $hdrs, body in $out
    local p=$1
    shift
    rm -f "$hdrs" "$out"
    curl_ns -D "$hdrs" -o "$out" -w '%{http_code}' "$@" "$(url "$p")" || echo "curl failed"
}

# ---- media types
for pair in "index.html text/html; charset=utf-8" "style.css text/css; charset=utf-8" \
    "img/logo.png image/png" "favicon.svg image/svg+xml" \
    "files/README.txt text/plain; charset=utf-8" "files/big.bin application/octet-stream" \
    "notes.md text/x-markdown; charset=utf-8"; do
    f=${pair%% *}
    want=${pair#* }
    [ -f "$SITE_ROOT/$f" ] || continue
    get "/$f" --head >/dev/null
    assert_eq "Content-Type of /$f" "$want" "$(hdr content-type "$hdrs")"
done

# ---- gzip_static
assert_eq "style.css gzip: 200" 200 "$(get /style.css -H 'Accept-Encoding: gzip')"
assert_same_file "style.css gzip: the bytes of style.css.gz" "$SITE_ROOT/style.css.gz" "$out"
assert_eq "style.css gzip: Content-Encoding" gzip "$(hdr content-encoding "$hdrs")"
assert_eq "style.css gzip: Vary" Accept-Encoding "$(hdr vary "$hdrs")"
assert_eq "style.css gzip: Content-Type of the CSS" "text/css; charset=utf-8" "$(hdr content-type "$hdrs")"
assert_eq "style.css gzip: Content-Length" "$(stat -c %s "$SITE_ROOT/style.css.gz")" "$(hdr content-length "$hdrs")"
gz_etag=$(hdr etag "$hdrs")
assert_eq "style.css plain: 200" 200 "$(get /style.css)"
assert_same_file "style.css plain: the bytes of style.css" "$SITE_ROOT/style.css" "$out"
assert_eq "style.css plain: no Content-Encoding" "" "$(hdr content-encoding "$hdrs")"
assert_eq "style.css plain: Vary too" Accept-Encoding "$(hdr vary "$hdrs")"
assert_ne "the two forms have different ETags" "$gz_etag" "$(hdr etag "$hdrs")"
assert_eq "curl --compressed: 200" 200 "$(get /index.html --compressed)"
assert_same_file "curl --compressed: index.html decoded" "$SITE_ROOT/index.html" "$out"
assert_eq "curl --compressed: it was gzip on the wire" gzip "$(hdr content-encoding "$hdrs")"
assert_eq "gzip;q=0: 200" 200 "$(get /style.css -H 'Accept-Encoding: gzip;q=0, br')"
assert_same_file "gzip;q=0: the plain bytes" "$SITE_ROOT/style.css" "$out"
assert_eq "no twin: 200" 200 "$(get /about.html -H 'Accept-Encoding: gzip')"
assert_eq "no twin: no Vary" "" "$(hdr vary "$hdrs")"
assert_eq "no twin: no Content-Encoding" "" "$(hdr content-encoding "$hdrs")"

# ---- Cache-Control and Expires
get /style.css >/dev/null
assert_eq "style.css: Cache-Control (expires.css = 7d)" "max-age=604800" "$(hdr cache-control "$hdrs")"
exp=$(date -u -d "$(hdr expires "$hdrs")" +%s 2>/dev/null || echo 0)
now=$(date -u -d "$(hdr date "$hdrs")" +%s 2>/dev/null || echo 0)
assert_eq "style.css: Expires is Date + 7 days" 604800 "$((exp - now))"
get /img/logo.png >/dev/null
assert_eq "logo.png: Cache-Control (expires.png = 1h)" "max-age=3600" "$(hdr cache-control "$hdrs")"
get /docs/ >/dev/null
assert_eq "/docs/: Cache-Control (expires./docs/ = 60)" "max-age=60" "$(hdr cache-control "$hdrs")"
get /index.html >/dev/null
assert_eq "index.html: no Cache-Control" "" "$(hdr cache-control "$hdrs")"
etag=$(hdr etag "$hdrs")
assert_eq "304 for style.css" 304 "$(get /style.css -H "If-None-Match: $(curl_ns -sI "$(url /style.css)" | sed -n 's/^[Ee][Tt]ag: //p' | tr -d '\r')")"
assert_eq "304 keeps Cache-Control" "max-age=604800" "$(hdr cache-control "$hdrs")"
assert_eq "304 keeps Vary" Accept-Encoding "$(hdr vary "$hdrs")"

# ---- custom 404, extra headers on every response
assert_eq "missing file: 404" 404 "$(get /no/such/page)"
assert_same_file "404: the custom page" "$SITE_ROOT/404.html" "$out"
assert_eq "404: its Content-Type" "text/html; charset=utf-8" "$(hdr content-type "$hdrs")"
assert_eq "404: extra header" nosniff "$(hdr x-content-type-options "$hdrs")"
assert_eq "405: status" 405 "$(get /index.html -X POST)"
assert_match "405: the built-in page" '405 Method Not Allowed' "$(cat "$out")"
assert_eq "405: extra header" nosniff "$(hdr x-content-type-options "$hdrs")"
get /index.html >/dev/null
assert_eq "200: X-Content-Type-Options" nosniff "$(hdr x-content-type-options "$hdrs")"
assert_eq "200: Content-Security-Policy with its ';'" "default-src 'self'; img-src *" \
    "$(hdr content-security-policy "$hdrs")"
assert_eq "index.html: still the same ETag" "$etag" "$(hdr etag "$hdrs")"

lib_finish
