#!/bin/bash
# HTTPS on two cores (`[cores] list = 0,1`, a two-queue TAP: the kernel
# picks a queue per flow): the ticket keys the control thread publishes are
# every core's, so a session saved from a connection on one core resumes on
# whichever core the next connection lands on. 40 connections (TLS 1.3 and
# 1.2) offer one saved session each time; every one must be resumed, and
# the status page must show resumptions on both cores. Then a new key: the
# log says it was published, both cores count a rotation, and the saved
# TLS 1.2 session still resumes (under the previous key).
. "$(dirname "$0")/lib.sh"
lib_init tlscores "$@"
need_cmd openssl
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (has $(nproc))"
NAME=www.example.test
tls_pki "$TMPD/pki"
mk_leaf "$NAME" "$TMPD/pki/www"
cfg_write "status_allow = $HOST_IP
[tls]
listen = 443
certificate = $TMPD/pki/www.pem
key = $TMPD/pki/www.key
ticket_key_rotation_s = 8"
sed -i 's/^list = 0$/list = 0,1/' "$CFG"
srv_start
nsx ip link set dev "$TAP" txqueuelen 10000
assert_match "the port has 2 queues" '2 queues' "$(grep -m1 '^dpio: port' "$LOG")"

status() { curl_ns "$(url /server-status)"; }
core_value() { # CORE-INDEX KEY: the value of the n-th core's line
    printf '%s\n' "$STATUS" | grep -E "^core[0-9]+\.$2: " | sed -n "$(($1 + 1))p" | sed 's/.*: //'
}
s_get() { tls_get "$NAME" "$@"; } # SESS-OUT SESS-IN [opts]

reused=0
for p in tls1_3 tls1_2; do
    s_get "$TMPD/s_$p" "" "-$p" >/dev/null
    for _ in $(seq 20); do
        s_get "$TMPD/x" "$TMPD/s_$p" "-$p" | grep -q '^Reused, TLSv1' && reused=$((reused + 1))
    done
done
assert_eq "40 connections offering a saved session: all resumed" 40 "$reused"
STATUS=$(status)
r0=$(core_value 0 tls_handshakes_resumed)
r1=$(core_value 1 tls_handshakes_resumed)
say "resumed on the first core $r0, on the second $r1; full $(core_value 0 tls_handshakes_full) and $(core_value 1 tls_handshakes_full)"
assert_ge "the first core resumed sessions" 1 "$r0"
assert_ge "the second core resumed sessions" 1 "$r1"
assert_eq "no handshake failed" 0 "$(printf '%s\n' "$STATUS" | sed -n 's/^tls_fail_\(protocol\|cipher\|other\|client_alert\): //p' | awk '{ n += $1 } END { print n + 0 }')"

# ---- a new key, taken up by both cores
wait_until 20 "a new ticket key" grep -q 'TLS: new session ticket key published' "$LOG" || true
sleep 1.5 # each worker takes it up within a loop turn (at most 1 s idle)
STATUS=$(status)
assert_ge "the first core took up the new key" 1 "$(core_value 0 tls_ticket_key_rotations)"
assert_ge "the second core took up the new key" 1 "$(core_value 1 tls_ticket_key_rotations)"
assert_match "the TLS 1.2 session still resumes under the previous key" "^Reused, TLSv1\.2" \
    "$(s_get "$TMPD/y" "$TMPD/s_tls1_2" -tls1_2)"
lib_finish
