#!/bin/bash
# ApacheBench: 20000 requests from 200 concurrent clients, once with a new
# connection per request and once with keep-alive. Every request must succeed
# with a 2xx. Prints a grep-able line per run:
#   RESULT ab rps=<requests per second> keepalive=<0|1>
# (a smoke figure on a TAP; real numbers come from bench/).
. "$(dirname "$0")/lib.sh"
lib_init ab "$@"
need_cmd ab timeout
srv_start

N=20000
C=200

run_ab() { # KEEPALIVE(0|1)
    local ka=$1 flag="" out rps complete failed kareq
    [ "$ka" = 1 ] && flag=-k
    say "ab -n $N -c $C $flag $(url /index.html)"
    # -s: per-request timeout; -r: report socket errors, do not stop at them.
    out=$(nsx timeout 120 ab -q -r -s 20 -n "$N" -c "$C" $flag "$(url /index.html)" 2>&1) || true
    complete=$(printf '%s\n' "$out" | sed -n 's/^Complete requests: *\([0-9]*\).*/\1/p')
    failed=$(printf '%s\n' "$out" | sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p')
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
    if [ -z "$complete" ]; then
        printf '%s\n' "$out" | tail -n 20 >&2
    fi
    assert_eq "ab keepalive=$ka: Complete requests" "$N" "$complete"
    assert_eq "ab keepalive=$ka: Failed requests" 0 "$failed"
    assert_no_match "ab keepalive=$ka: no Non-2xx responses" 'Non-2xx responses' "$out"
    assert_no_match "ab keepalive=$ka: no socket errors" 'apr_socket|apr_poll|Connection reset|timed out' "$out"
    if [ "$ka" = 1 ]; then
        # ab counts a request as kept alive only when the response said
        # "Connection: keep-alive"; the server may close a connection after
        # [http] keepalive_requests, so allow a few.
        kareq=$(printf '%s\n' "$out" | sed -n 's/^Keep-Alive requests: *\([0-9]*\).*/\1/p')
        assert_ge "ab -k: Keep-Alive requests >= 90% of $N" $((N * 9 / 10)) "$kareq"
    fi
    echo "RESULT ab rps=${rps:-0} keepalive=$ka"
}

run_ab 0
run_ab 1

code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /index.html)") || code="curl failed"
assert_eq "server still answers after ab" 200 "$code"

lib_finish
