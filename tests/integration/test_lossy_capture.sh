#!/bin/bash
# What the wire shows, captured with tcpdump on the TAP in the namespace
# (the taps see a frame to the client before the ingress rules drop it, and
# a frame to the server after the egress rules let it pass):
#  1. the server's SYN-ACK to the Linux client carries MSS, window scale,
#     timestamps (echoing the client's) and SACK-permitted;
#  2. server -> client loss: the Linux client's ACKs carry SACK blocks (SACK
#     is negotiated and the server is told what arrived);
#  3. client -> server loss: the server's own ACKs carry SACK blocks. Data
#     goes to the server only as requests, so the client pipelines 6 GETs,
#     each padded (X-Pad) to exactly one 1448-byte segment, the second one
#     for /index.html; a rule drops the first frame whose TCP payload starts
#     with "GET /ind" (into a sink device: an egress drop would be resent at
#     once; a byte quota lets the retransmission through). The
#     server then holds segments 3-6 beyond a hole and must report them in
#     its ACKs (RFC 2018). Deterministic; up to 3 rounds in case a round's
#     segments carry extra TCP options (the rule assumes a 32-byte header).
#     (Not many small requests: ~100+ small pipelined GETs handed to the
#     worker at once wedge the server today, which is not this test's topic.)
# Bounds: curl --max-time 60, rawhttp --timeout 20 per round.
. "$(dirname "$0")/lib.sh"
lib_init lcapture "$@"
need_cmd curl nft ss tcpdump sha256sum
cfg_write ""
srv_start

pcap=$TMPD/cap.pcap
# (ip netns exec execs tcpdump: $! is tcpdump's pid. --immediate-mode:
# without it libpcap hands frames over up to a second late.)
ip netns exec "$NS" tcpdump -i "$TAP" -nn -U --immediate-mode -s 160 -w "$pcap" \
    tcp port "$SRV_PORT" 2>"$TMPD/tcpdump.err" &
dump_pid=$!
wait_until 10 "tcpdump to listen" grep -q 'listening on' "$TMPD/tcpdump.err" || exit 1

# shown PCAP-FILTER: the capture so far as text, one TCP frame a line.
shown() {
    sleep 0.2
    tcpdump -r "$pcap" -nn -v "$1" 2>/dev/null | grep -E '^ +[0-9.]+ > ' || true
}

# 1. handshake options
curl_ns -o /dev/null "$(url /index.html)"
synack=$(shown "src host $SRV_IP and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)" | head -n 1)
say "SYN-ACK: $synack"
assert_match "SYN-ACK carries an MSS" 'mss [0-9]+' "$synack"
assert_match "SYN-ACK carries window scale" 'wscale [0-9]+' "$synack"
assert_match "SYN-ACK carries timestamps echoing the client's" 'TS val [0-9]+ ecr [1-9][0-9]*' "$synack"
assert_contains "SYN-ACK carries SACK-permitted" "sackOK" "$synack"

# 2. loss towards the client: its ACKs carry SACK blocks
net_impair 'numgen random mod 100 < 3 counter drop' ''
timed_fetch "10 MB, 3% loss towards the client" 60 /files/big.bin "$WWW/files/big.bin"
net_impair_clear
n=$(shown "src host $HOST_IP and tcp[tcpflags] & tcp-syn == 0" | grep -c 'sack [0-9]' || true)
assert_ge "the Linux client's ACKs carry SACK blocks" 1 "$n"
say "client ACKs with SACK blocks: $n, e.g. $(shown "src host $HOST_IP" | grep -m1 -o 'sack [0-9] {[^]]*')"

# 3. loss towards the server: the server's ACKs carry SACK blocks
# A request of exactly 1448 bytes (the client's MSS with timestamps) for $1.
padded_get() {
    local pad
    pad=$(printf '%*s' $((1448 - 35 - ${#1})) '' | tr ' ' p)
    printf 'GET %s HTTP/1.1\\r\\nHost: t\\r\\nX-Pad: %s\\r\\n\\r\\n' "$1" "$pad"
}
one=$(padded_get /files/edge/1.bin)
reqs=$one$(padded_get /index.html)$one$one$one$one
sink=$(sink_dev)
seen=0
for round in 1 2 3; do
    # "GET /ind" at TCP payload offset 0 (header of 32 bytes = bit 256)
    net_impair '' "@th,256,64 0x474554202f696e64 quota until 1600 bytes counter fwd to \"$sink\""
    out=$(raw_http --send "$reqs" --responses 6 --timeout 20 --close-wait 0)
    dropped=$(net_impair_count to_server)
    net_impair_clear
    assert_eq "round $round: 6 pipelined responses, the 2nd request's first copy dropped ($dropped dropped)" \
        6 "$(kv "$out" count)"
    seen=$(shown "src host $SRV_IP and tcp[tcpflags] & tcp-syn == 0" | grep -c 'sack [0-9]' || true)
    [ "$seen" -ge 1 ] && break
done
assert_ge "the server's ACKs carry SACK blocks" 1 "$seen"
say "server ACKs with SACK blocks: $seen, e.g. $(shown "src host $SRV_IP" | grep -m1 -o 'sack [0-9] {[^]]*')"

kill -INT "$dump_pid" 2>/dev/null || true
wait "$dump_pid" 2>/dev/null || true
assert_no_stuck_sockets 20
lib_finish
