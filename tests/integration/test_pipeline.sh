#!/bin/bash
# Deep pipelining: a client writes hundreds of requests at once, more than
# fit in a connection's send queue as answers. Every one must be answered,
# in order, and the server must keep serving others meanwhile: a worker
# whose answers are blocked stops reading until they can leave, and the
# stack thread always gets the core to send them.
. "$(dirname "$0")/lib.sh"
lib_init pipe "$@"
cfg_write ""
srv_start

for n in 191 1000; do
    reqs=$(for _ in $(seq "$n"); do printf 'GET /files/edge/1.bin HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n'; done)
    out=$(raw_http --send "$reqs" --responses "$n" --timeout 20 --close-wait 0)
    assert_eq "$n pipelined requests in one write: responses" "$n" "$(kv "$out" count)"
    out=$(raw_http --send 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' --timeout 5)
    assert_eq "another client served after $n pipelined requests" 1 "$(kv "$out" count)"
done

lib_finish
