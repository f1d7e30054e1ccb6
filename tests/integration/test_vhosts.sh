#!/bin/bash
# Virtual hosts from [vhost NAME] sections: curl --resolve-style Host
# headers pick each host's root and headers (byte for byte), a port, case
# and a trailing dot do not matter, an unknown or missing Host gets the
# default host ([http] root), an absolute-form target names its host, a
# keep-alive connection can ask two hosts, the access log records the
# Host; a SIGHUP that adds a virtual host takes effect.
. "$(dirname "$0")/lib.sh"
lib_init vhosts "$@"
need_cmd curl
for d in blog shop; do
    mkdir -p "$TMPD/$d/img"
    printf '<!doctype html><title>%s</title><p>%s home</p>\n' "$d" "$d" >"$TMPD/$d/index.html"
    head -c 5000 /dev/urandom >"$TMPD/$d/img/pic.bin"
done
printf 'shop home page\n' >"$TMPD/shop/home.htm"
ALOG=$TMPD/access.log
vhost_cfg="access_log = $ALOG
access_log_format = json
header.X-Common = all

[vhost blog]
hosts = blog.example.org www.blog.example.org
root = $TMPD/blog
header.X-Site = blog

[vhost shop]
hosts = shop.example.org
root = $TMPD/shop
index = home.htm index.html
header.X-Site = shop"
cfg_write "$vhost_cfg"
srv_start
assert_match "ready line counts the virtual hosts" 'and 2 virtual hosts on' "$(grep -m1 'corehttpd: serving' "$LOG")"

hdrs=$TMPD/hdrs
out=$TMPD/out
hdr() { sed -n "s/^$1:[[:space:]]*//Ip" "$2" | tr -d '\r' | head -n 1; }
get() { # HOST PATH: status, headers in $hdrs, body in $out
    rm -f "$hdrs" "$out"
    curl_ns -H "Host: $1" -D "$hdrs" -o "$out" -w '%{http_code}' "$(url "$2")" || echo "curl failed"
}

assert_eq "blog /: 200" 200 "$(get blog.example.org /)"
assert_same_file "blog /: blog's index" "$TMPD/blog/index.html" "$out"
assert_eq "blog: X-Site" blog "$(hdr x-site "$hdrs")"
assert_eq "blog: the common header too" all "$(hdr x-common "$hdrs")"
assert_eq "blog image: 200" 200 "$(get www.blog.example.org /img/pic.bin)"
assert_same_file "blog image: bytes" "$TMPD/blog/img/pic.bin" "$out"
assert_eq "shop / (index = home.htm first): 200" 200 "$(get shop.example.org /)"
assert_same_file "shop /: home.htm" "$TMPD/shop/home.htm" "$out"
assert_eq "shop: X-Site" shop "$(hdr x-site "$hdrs")"
assert_eq "shop image: 200" 200 "$(get SHOP.Example.Org:80 /img/pic.bin)"
assert_same_file "shop image (Host with case and port): bytes" "$TMPD/shop/img/pic.bin" "$out"
assert_eq "trailing dot: shop" 200 "$(get shop.example.org. /img/pic.bin)"
assert_same_file "trailing dot: shop's bytes" "$TMPD/shop/img/pic.bin" "$out"
assert_eq "unknown host: default host" 200 "$(get other.example.org /style.css)"
assert_same_file "unknown host: www/style.css" "$WWW/style.css" "$out"
assert_eq "unknown host: no X-Site" "" "$(hdr x-site "$hdrs")"
assert_eq "a file of the default host is not on blog" 404 "$(get blog.example.org /style.css)"
assert_eq "404 on blog carries blog's header" blog "$(hdr x-site "$hdrs")"
o=$(raw_http --send 'GET /index.html HTTP/1.0\r\n\r\n')
assert_eq "HTTP/1.0 without Host: the default host" "200 $(sha256sum <"$WWW/index.html" | cut -d' ' -f1)" "$(kv "$o" r1.status) $(kv "$o" r1.body_sha256)"
o=$(raw_http --send 'GET http://shop.example.org/home.htm HTTP/1.1\r\nHost: blog.example.org\r\nConnection: close\r\n\r\n')
assert_eq "absolute-form target names the host (RFC 9112 3.2.2)" "200 shop" "$(kv "$o" r1.status) $(kv "$o" r1.h.x-site)"
o=$(raw_http --responses 2 --send 'GET / HTTP/1.1\r\nHost: blog.example.org\r\n\r\nGET / HTTP/1.1\r\nHost: shop.example.org\r\nConnection: close\r\n\r\n')
assert_eq "two hosts on one connection" "blog shop" "$(kv "$o" r1.h.x-site) $(kv "$o" r2.h.x-site)"
assert_eq "two hosts on one connection: bytes" "$(sha256sum <"$TMPD/blog/index.html" | cut -d' ' -f1) $(sha256sum <"$TMPD/shop/home.htm" | cut -d' ' -f1)" "$(kv "$o" r1.body_sha256) $(kv "$o" r2.body_sha256)"
wait_until 5 "the access log" grep -q '"host":"shop.example.org"' "$ALOG"
assert_match "the access log records the Host" '"uri":"/img/pic.bin".*"host":"SHOP.Example.Org:80"' "$(cat "$ALOG")"

# ---- a reload adds a host
mkdir -p "$TMPD/new"
printf 'new host\n' >"$TMPD/new/index.html"
cfg_write "$vhost_cfg

[vhost new]
hosts = new.example.org
root = $TMPD/new"
assert_eq "before the reload: new.example.org is the default host" "" "$(get new.example.org / >/dev/null; hdr x-site "$hdrs")"
assert_same_file "before the reload: the default index" "$WWW/index.html" "$out"
kill -HUP "$SRV_PID"
wait_until 10 "the reload" grep -q 'reloaded' "$LOG"
assert_eq "after the reload: new.example.org: 200" 200 "$(get new.example.org /)"
assert_same_file "after the reload: its own index" "$TMPD/new/index.html" "$out"
assert_eq "after the reload: blog still there" blog "$(get blog.example.org / >/dev/null; hdr x-site "$hdrs")"
lib_finish
