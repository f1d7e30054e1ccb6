#!/bin/bash
# bench/tls_testssl.sh [BUILD-DIR]: testssl.sh (Debian's package) against
# corehttpd's HTTPS port with the default [tls] settings, in a namespace of
# its own (tests/integration/lib.sh: net_tap, 198.18.0.2), with a test PKI
# (an ECDSA P-256 certificate and its chain, from lib.sh's tls_pki) and,
# with TESTSSL_RSA=1, an RSA 2048 one instead (to see the RSA and DHE
# suites). Prints testssl's report, then a summary: the findings by
# severity, every HIGH or CRITICAL one (there must be none: exit 1
# otherwise), the protocols and cipher categories it graded.
#
# Slow (a few minutes: testssl makes hundreds of connections), so it is not a
# timed test; TESTSSL_ARGS adds testssl options (e.g. --fast). The JSON
# report is kept in TESTSSL_OUT (default: BUILD-DIR/test-artifacts).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
. "$repo/tests/integration/lib.sh"
lib_init testssl "$build/server/corehttpd" "$repo"
need_cmd testssl openssl jq
NAME=www.example.test
export TLS_PKI_DAYS=400 # testssl rates a certificate that expires within 30 days HIGH
tls_pki "$TMPD/pki"
if [ "${TESTSSL_RSA:-0}" = 1 ]; then
    openssl req -new -newkey rsa:2048 -nodes -keyout "$TMPD/pki/www.key" -subj "/CN=$NAME" \
        -out "$TMPD/pki/www.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$NAME" >"$TMPD/pki/www.ext"
    printf 'authorityInfoAccess=OCSP;URI:http://198.18.0.1/ocsp\n' >>"$TMPD/pki/www.ext"
    openssl x509 -req -in "$TMPD/pki/www.csr" -CA "$TMPD/pki/int.pem" -CAkey "$TMPD/pki/int.key" \
        -CAcreateserial -days 400 -extfile "$TMPD/pki/www.ext" -out "$TMPD/pki/www.crt" 2>/dev/null
    cat "$TMPD/pki/www.crt" "$TMPD/pki/int.pem" >"$TMPD/pki/www.pem"
else
    mk_leaf "$NAME" "$TMPD/pki/www"
fi
tls_ocsp "$TMPD/pki/www" "$TMPD/pki/www.ocsp"
# the headers a site would set (testssl's security_headers finding)
cfg_write "header.Strict-Transport-Security = max-age=63072000
header.X-Content-Type-Options = nosniff
header.X-Frame-Options = DENY
header.Content-Security-Policy = default-src 'self'
[tls]
listen = 443
certificate = $TMPD/pki/www.pem
key = $TMPD/pki/www.key
ocsp_response = $TMPD/pki/www.ocsp"
srv_start
OUT=${TESTSSL_OUT:-$build/test-artifacts}
mkdir -p "$OUT"
JSON=$OUT/testssl-$([ "${TESTSSL_RSA:-0}" = 1 ] && echo rsa || echo ecdsa).json
rm -f "$JSON"
# --ip: no name lookup; the CA file: the chain is checked against our root
set +e
# shellcheck disable=SC2086 # TESTSSL_ARGS: options, split on purpose
nsx timeout 900 testssl --quiet --color 0 --warnings off --openssl-timeout 10 \
    --ip "$SRV_IP" --add-ca "$TMPD/pki/ca.pem" --jsonfile "$JSON" ${TESTSSL_ARGS:-} \
    "https://$NAME/"
rc=$?
set -e
say "testssl exit $rc, JSON report $JSON"
[ -s "$JSON" ] || die "testssl wrote no report"
echo "---- summary"
echo "findings by severity:"
jq -r '.[].severity' "$JSON" | sort | uniq -c
echo "protocols:"
jq -r '.[] | select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3)$")) | "  \(.id): \(.finding)"' "$JSON"
echo "cipher categories:"
jq -r '.[] | select(.id | test("^cipherlist_")) | "  \(.id): \(.finding) (\(.severity))"' "$JSON"
jq -r '.[] | select(.id | test("^(overall_grade|final_score|grade_cap_reason)")) | "  \(.id): \(.finding)"' "$JSON"
high=$(jq -r '.[] | select(.severity == "HIGH" or .severity == "CRITICAL") | "\(.severity) \(.id): \(.finding)"' "$JSON")
if [ -n "$high" ]; then
    fail "testssl reports HIGH or CRITICAL findings:"
    printf '%s\n' "$high" >&2
else
    ok "testssl: no HIGH or CRITICAL finding"
fi
lib_finish
