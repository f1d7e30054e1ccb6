#!/bin/bash
# HTTPS ([tls], server/tls.c) with real clients: a root CA and an
# intermediate made here with openssl, a certificate for www.example.test
# (the default) and one for the virtual host other.example.test (SNI), the
# demo site on 443 next to the plain port 80.
# - every file of the site byte for byte with curl --cacert (the root only:
#   the server must send the chain), over TLS 1.3 and with --tls-max 1.2;
#   ALPN http/1.1; pipelining; a client sending its handshake and request a
#   byte per segment; the OCSP response of the file stapled (to the default
#   certificate only, not to a virtual host's); the
#   records sent by reference from the record buffers (the exit report);
# - SNI: other.example.test gets its certificate, an unknown name and no
#   name the default one;
# - TLS 1.0 and 1.1 refused (protocol_version), plain HTTP to 443 told so in
#   plain text, ALPN without http/1.1 refused;
# - [http] redirect_https: 301 to the https URL on port 80;
# - session resumption by ticket (openssl s_client -sess_out/-sess_in) on
#   TLS 1.3 and 1.2; the ticket keys rotate (every 2 s here): a ticket two
#   rotations old is not accepted, a fresh one is; a client that goes
#   silent in its handshake is closed at header_timeout_ms;
# - SIGHUP with a broken certificate keeps the old one (and -t names the
#   file), with a new good one serves it;
# - the status page counts the handshakes, versions and failures by reason;
# - headless Chromium loads the site over https with the CA trusted (NSS
#   database), no certificate error.
. "$(dirname "$0")/lib.sh"
lib_init tls "$@"
need_cmd openssl curl
NAME=www.example.test
OTHER=other.example.test
PKI=$TMPD/pki
mkdir -p "$PKI"

# ---- the PKI (lib.sh: root, intermediate, leaves with full chains)
tls_pki "$PKI"
mk_leaf "$NAME" "$PKI/www"
mk_leaf "$OTHER" "$PKI/other"
mk_leaf "$NAME" "$PKI/www2" # a second certificate for the same name (reload)
tls_ocsp "$PKI/www" "$PKI/www.ocsp"
cp "$PKI/www.pem" "$PKI/live.pem"
cp "$PKI/www.key" "$PKI/live.key"

ALOG=$TMPD/access.log
cfg_write "redirect_https = yes
header_timeout_ms = 3000
status_allow = $HOST_IP
access_log = $ALOG

[tls]
listen = 443
certificate = $PKI/live.pem
key = $PKI/live.key
ticket_key_rotation_s = 2
ocsp_response = $PKI/www.ocsp

[vhost other]
hosts = $OTHER
root = $WWW
certificate = $PKI/other.pem
key = $PKI/other.key"
srv_start
assert_match "readiness line names the https port" "and https on $SRV_IP:443" "$(grep -m1 'corehttpd: serving' "$LOG")"

RES=(--resolve "$NAME:443:$SRV_IP" --resolve "$OTHER:443:$SRV_IP")
curl_tls() { curl_ns --cacert "$PKI/ca.pem" "${RES[@]}" "$@"; }
status() { curl_ns "$(url /server-status)"; }
stat_value() { printf '%s\n' "$STATUS" | sed -n "s/^$1: //p" | head -n 1; }

# ---- every file, byte for byte, TLS 1.3 then TLS 1.2 (one connection each)
mapfile -t FILES < <(cd "$WWW" && find . -type f ! -name '.*' | sed 's|^\./|/|' | sort)
for proto in 1.3 1.2; do
    args=()
    out=$TMPD/get$proto
    mkdir -p "$out"
    i=0
    for f in "${FILES[@]}"; do
        args+=(-o "$out/$i" "https://$NAME$f")
        i=$((i + 1))
    done
    if [ "$proto" = 1.3 ]; then popt=(--tlsv1.3); else popt=(--tlsv1.2 --tls-max 1.2); fi
    codes=$(curl_tls "${popt[@]}" --max-time 60 -w '%{http_code} %{ssl_verify_result}\n' "${args[@]}" 2>"$TMPD/curl$proto.err") ||
        fail "curl over TLS $proto exit $?: $(head -c 300 "$TMPD/curl$proto.err")"
    assert_eq "TLS $proto: ${#FILES[@]} responses 200, certificate verified" \
        "${#FILES[@]}" "$(printf '%s\n' "$codes" | grep -c '^200 0$')"
    bad=0
    i=0
    for f in "${FILES[@]}"; do
        cmp -s "$WWW$f" "$out/$i" || {
            bad=$((bad + 1))
            say "TLS $proto: $f differs"
        }
        i=$((i + 1))
    done
    assert_eq "TLS $proto: every file of the site byte for byte (${#FILES[@]} files, $(du -sb "$WWW" | cut -f1) bytes)" 0 "$bad"
    rm -rf "$out"
done
v=$(curl_tls -v -o /dev/null "https://$NAME/" 2>&1)
assert_match "ALPN: http/1.1 accepted" "ALPN.*server accepted.*http/1.1" "$v"
assert_match "TLS 1.3 by default" "SSL connection using TLSv1.3" "$v"
v=$(curl_tls -v --tls-max 1.2 -o /dev/null "https://$NAME/" 2>&1)
assert_match "TLS 1.2: an ECDHE AEAD suite of the intermediate profile" \
    "SSL connection using TLSv1.2 / ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)" "$v"

# pipelining: three requests in one record, three answers in order
r=$(printf 'GET /files/edge/1459.bin HTTP/1.1\r\nHost: %s\r\n\r\nGET /files/edge/65537.bin HTTP/1.1\r\nHost: %s\r\n\r\nGET /style.css HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
    "$NAME" "$NAME" "$NAME" | nsx timeout 10 openssl s_client -connect "$SRV_IP:443" \
    -servername "$NAME" -quiet -ign_eof 2>/dev/null | grep -a '^Content-Length' | tr -d '\r' | tr '\n' ' ')
assert_eq "pipelining over TLS: three answers in order" \
    "Content-Length: 1459 Content-Length: 65537 Content-Length: $(stat -c %s "$WWW/style.css") " "$r"

# the handshake and the request split at every byte (a segment per byte)
r=$(nsx "$PY" "$LIB_DIR/tls_bytewise.py" "$SRV_IP" 443 "$NAME" "$PKI/ca.pem" /style.css 2>&1 || true)
assert_match "a byte per segment: the handshake completes, TLS 1.3" "^version=TLSv1.3" "$r"
assert_match "a byte per segment: the request is answered whole" \
    "status=200.body_bytes=$(stat -c %s "$WWW/style.css")" "$(printf '%s' "$r" | tr '\n' '.')"
say "byte-wise client: $(printf '%s' "$r" | tr '\n' ' ')"

# OCSP stapling from the file
r=$(nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -servername "$NAME" -status </dev/null 2>&1 || true)
assert_match "OCSP stapling: the response from ocsp_response is stapled" "OCSP Response Status: successful" "$r"
assert_match "OCSP stapling: it says the certificate is good" "Cert Status: good" "$r"
# the response is the [tls] certificate's: a virtual host's gets none
r=$(nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -servername "$OTHER" -status </dev/null 2>&1 || true)
assert_match "OCSP stapling: SNI $OTHER (its own certificate) gets no response" "OCSP response: no response sent" "$r"

# ---- SNI
subject() { # SERVERNAME|-  -> the subject CN the server shows
    local sn=()
    [ "$1" = - ] || sn=(-servername "$1")
    nsx timeout 10 openssl s_client -connect "$SRV_IP:443" "${sn[@]}" </dev/null 2>/dev/null |
        sed -n 's/^subject=.*CN *= *//p' | head -n 1
}
assert_eq "SNI $OTHER: its own certificate" "$OTHER" "$(subject "$OTHER")"
assert_eq "SNI $NAME: the default certificate" "$NAME" "$(subject "$NAME")"
assert_eq "SNI nosuch.example.test: the default certificate" "$NAME" "$(subject nosuch.example.test)"
assert_eq "no SNI: the default certificate" "$NAME" "$(subject -)"
assert_eq "curl https://$OTHER/ verifies (vhost certificate) and gets the site" 200 \
    "$(curl_tls -o /dev/null -w '%{http_code}' "https://$OTHER/")"

# ---- what is refused, and how
for old in tls1 tls1_1; do
    r=$(nsx timeout 10 openssl s_client -connect "$SRV_IP:443" "-$old" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1 || true)
    assert_match "-$old refused with a protocol_version alert" "alert protocol version|unsupported protocol|no protocols available" "$r"
done
r=$(curl_ns -s "http://$SRV_IP:443/" -D - 2>&1 || true)
assert_match "plain HTTP to 443: a plain-text 400" "^HTTP/1.1 400" "$r"
assert_contains "plain HTTP to 443: says to use https" "use an https:// URL" "$r"
b=$(curl_ns -s "http://$SRV_IP:443/" -o "$TMPD/plain.body" -w '%{size_download}' 2>&1 || true)
assert_eq "plain HTTP to 443: the body is its Content-Length" \
    "$(grep -i '^Content-Length' <<<"$r" | tr -dc 0-9)" "$b"
r=$(nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -alpn h2 </dev/null 2>&1 || true)
assert_match "ALPN h2 only: no_application_protocol" "no application protocol|alert number 120" "$r"
h=$(curl_ns -s -o /dev/null -D - -H "Host: $NAME" "$(url '/docs/index.html?a=1')" | tr -d '\r')
assert_match "redirect_https: 301 on port 80" "^HTTP/1.1 301" "$h"
assert_match "redirect_https: Location is the https URL" "Location: https://$NAME/docs/index.html\?a=1" "$h"

# ---- resumption and ticket keys
s_get() { tls_get "$NAME" "$@"; } # SESS-OUT SESS-IN [opts]
for p in tls1_3 tls1_2; do
    s_get "$TMPD/s_$p" "" "-$p" >/dev/null
    r=$(s_get "$TMPD/s2_$p" "$TMPD/s_$p" "-$p")
    assert_match "$p: a saved session resumes (Reused)" "^Reused, TLSv1\.[23]" "$r"
    assert_match "$p: and the response comes" "HTTP/1.1 200 OK" "$r"
done
# meanwhile, a client that begins a handshake record and goes silent: closed
# at header_timeout_ms (3 s), counted as a handshake timeout
nsx "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 443), timeout=20)
s.sendall(b"\x16\x03\x01\x00\x50")
t = time.time()
d = s.recv(100)
print("closed_after=%.1f bytes=%d" % (time.time() - t, len(d)))' "$SRV_IP" >"$TMPD/silent.out" 2>&1 &
SILENT=$!
STATUS=$(status)
rot0=$(stat_value tls_ticket_key_rotations)
s_get "$TMPD/s_old" "" -tls1_3 >/dev/null
wait_until 40 "two ticket key rotations" sh -c \
    "[ \$(ip netns exec $NS curl -s --max-time 2 $(url /server-status) | sed -n 's/^tls_ticket_key_rotations: //p') -ge $((rot0 + 3)) ]"
r=$(s_get "$TMPD/s_new" "$TMPD/s_old" -tls1_3)
assert_match "a ticket two rotations old is refused (full handshake)" "^New, TLSv1\.3" "$r"
s_get "$TMPD/s_fresh" "" -tls1_3 >/dev/null
r=$(s_get "$TMPD/s_fresh2" "$TMPD/s_fresh" -tls1_3)
assert_match "a fresh ticket under the new key resumes" "^Reused, TLSv1\.3" "$r"

wait "$SILENT" || true
r=$(cat "$TMPD/silent.out")
assert_match "a silent handshake: closed, nothing sent" "bytes=0" "$r"
# (3 s; the bound allows for a loaded machine: without the timeout the
# client would give up at 20 s)
assert_match "a silent handshake: closed at header_timeout_ms (3 s), not before" \
    "closed_after=([3-9]|1[01]|2\.[5-9])\.?[0-9]* " "$r "
STATUS=$(status)
assert_ge "status: the silent handshake counted as a timeout" 1 "$(stat_value tls_fail_timeout)"

# ---- reload: a broken certificate keeps the old one, a good one replaces it
fp() { nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -servername "$NAME" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null; }
fp_old=$(fp)
assert_eq "before reload: the certificate served is live.pem" "$(openssl x509 -in "$PKI/live.pem" -noout -fingerprint -sha256)" "$fp_old"
echo "not a certificate" >"$PKI/live.pem"
r=$("$BIN" -t -c "$CFG" 2>&1 || true)
assert_match "-t with a broken certificate names the file and the key" "$CFG:[0-9]+: \[tls\] certificate: $PKI/live.pem: no certificate" "$r"
kill -HUP "$SRV_PID"
wait_until 10 "the reload to be refused" grep -q 'reload: .*\[tls\] certificate: .*live.pem.*keeping the running' "$LOG"
assert_eq "broken certificate: the old one is still served" "$fp_old" "$(fp)"
assert_eq "broken certificate: https still answers 200" 200 "$(curl_tls -o /dev/null -w '%{http_code}' "https://$NAME/")"
cp "$PKI/www2.pem" "$PKI/live.pem"
cp "$PKI/www2.key" "$PKI/live.key"
kill -HUP "$SRV_PID"
wait_until 10 "the reload to succeed" grep -q 'reloaded .*TLS certificate' "$LOG"
assert_eq "good certificate: the new one is served" "$(openssl x509 -in "$PKI/www2.pem" -noout -fingerprint -sha256)" "$(fp)"
assert_eq "new certificate: curl verifies it, 200" 200 "$(curl_tls -o /dev/null -w '%{http_code}' "https://$NAME/")"

# ---- Chromium, CA trusted through its NSS database
if command -v chromium >/dev/null && command -v certutil >/dev/null; then
    mkdir -p "$TMPD/home/.pki/nssdb" "$TMPD/chrome"
    certutil -N -d "sql:$TMPD/home/.pki/nssdb" --empty-password
    certutil -A -d "sql:$TMPD/home/.pki/nssdb" -n corehttpd-test-root -t "C,," -i "$PKI/ca.pem"
    ART=$(cd "$(dirname "$BIN")/.." && pwd)/test-artifacts
    mkdir -p "$ART"
    SHOT=$ART/browser-tls.png
    rm -f "$SHOT"
    set +e
    HOME=$TMPD/home timeout 90 ip netns exec "$NS" chromium --headless --no-sandbox \
        --disable-gpu --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-dev-shm-usage \
        --host-resolver-rules="MAP $NAME $SRV_IP" --user-data-dir="$TMPD/chrome" \
        --window-size=1280,900 --screenshot="$SHOT" "https://$NAME/" >"$TMPD/chrome.log" 2>&1
    rc=$?
    set -e
    assert_eq "chromium exited 0" 0 "$rc"
    assert_no_match "chromium: no certificate error" "ERR_CERT|net_error -2|handshake failed" "$(cat "$TMPD/chrome.log")"
    wait_until 5 "the image in the access log" grep -q '"GET /img/logo.png ' "$ALOG" || true
    ua='"Mozilla/[^"]*(Chrome|HeadlessChrome)/[^"]*"$'
    for p in / /style.css /img/logo.png; do
        line=$(grep -F "\"GET $p HTTP/1.1\"" "$ALOG" | grep -E "$ua" | tail -n 1)
        assert_match "Chromium fetched $p over https with 200" " 200 [0-9]+ " "$line"
    done
    assert_ge "screenshot: more than a blank page (bytes)" 20000 "$(stat -c %s "$SHOT" 2>/dev/null || echo 0)"
else
    fail "needs chromium and certutil (libnss3-tools): packaging/install-deps.sh test"
fi

# ---- the counters
STATUS=$(status)
say "$(printf '%s\n' "$STATUS" | grep -E '^tls_' | tr '\n' ' ')"
assert_ge "status: full handshakes" 10 "$(stat_value tls_handshakes_full)"
assert_ge "status: resumed handshakes" 3 "$(stat_value tls_handshakes_resumed)"
assert_ge "status: TLSv1.3 handshakes" 5 "$(stat_value tls_version_1_3)"
assert_ge "status: TLSv1.2 handshakes" 3 "$(stat_value tls_version_1_2)"
assert_ge "status: failures by protocol version (TLS 1.0, 1.1)" 2 "$(stat_value tls_fail_protocol)"
assert_ge "status: plain HTTP to the TLS port" 1 "$(stat_value tls_fail_plain_http)"
assert_ge "status: ALPN refused" 1 "$(stat_value tls_fail_alpn)"
assert_eq "status: no failure of another kind" 0 "$(stat_value tls_fail_other)"
P=$(curl_ns "$(url '/server-status?format=prometheus')")
assert_match "prometheus: tls_handshakes_total by kind" 'corehttpd_tls_handshakes_total\{core="0",kind="resumed"\} [1-9]' "$P"
assert_ge "status: records by reference from the record buffers" 1000 "$(stat_value tls_records_referenced)"

# ---- the ciphertext goes to the frames by reference (record buffers):
# the site went out twice over TLS, the 10 MB file included
srv_stop
ref=$(srv_report_value 'by reference')
copied=$(srv_report_value 'payload bytes copied')
say "payload bytes by reference $ref, copied $copied"
site=$(du -sb --apparent-size "$WWW" | cut -f1)
assert_ge "TLS records by reference: at least 90% of twice the site's $site bytes" $((site * 2 * 9 / 10)) "$ref"

lib_finish
