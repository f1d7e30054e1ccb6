#!/bin/bash
# Crafted frames (tests/integration/crafted.py, scapy) against a live
# download: truncated headers, bad lengths, bad checksums, TCP option lists
# that loop or run past the header, IP fragments, and on the download's own
# connection guessed RST, SYN and data, old overlapping data, segments past
# the window, and in-window RST/SYN and blind ACKs that call for a challenge
# ACK (RFC 5961). Each is dropped and counted under its reason on the status
# page (at least as many as were sent), nothing else is disturbed: the
# download ends byte-exact and the server serves on.
. "$(dirname "$0")/lib.sh"
lib_init crafted "$@"
need_cmd curl ss
big=$WWW/files/big.bin
[ -f "$big" ] || die "$big missing: run packaging/gen-site-data.sh"
cfg_write "status_allow = 198.18.0.1"
srv_start

page=""
val() { printf '%s\n' "$page" | sed -n "s/^$1: //p" | head -n 1; }
status_page() { page=$(curl_ns "$(url /server-status)") || page=""; }
reasons="rx_drop_bad_ip rx_drop_bad_checksum rx_drop_fragment rx_drop_bad_tcp
         rx_drop_bad_tcp_options rx_drop_out_of_window tcp_challenge_acks"
declare -A before
status_page
for r in $reasons; do
    before[$r]=$(val "$r")
done
# tcp_challenge_acks is no line of the page: read it from the exit report
mac=$(nsx ip neigh show "$SRV_IP" dev "$TAP" | awk '{ print $3 }')
[ -n "$mac" ] || die "no neighbour entry for $SRV_IP"

# a download slow enough to be live while the frames go: 10 MB read at
# about 1.3 MB/s through a 64 KB receive buffer, so that its frames keep
# flowing (curl --limit-rate lets the kernel's buffer fill and the wire go
# quiet for seconds)
nsx "$PY" - "$SRV_IP" "$SRV_PORT" "$TMPD/big.out" >"$TMPD/big.res" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(30)
s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
    time.sleep(0.05)
head, _, body = data.partition(b"\r\n\r\n")
open(sys.argv[3], "wb").write(body)
print(head.split(b" ")[1].decode())
PYEOF
dl=$!
port=""
for _ in $(seq 50); do
    port=$(nsx ss -tnH state established dst "$SRV_IP:$SRV_PORT" | awk '{ print $3 }' |
        sed -n 's/.*:\([0-9]*\)$/\1/p' | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || die "the download's connection did not show up"
say "the download: port $port"
sleep 1
out=$(nsx "$PY" "$LIB_DIR/crafted.py" "$TAP" "$mac" "$SRV_IP" "$HOST_IP" "$port" 2>&1) ||
    fail "crafted.py failed: $out"
say "crafted.py: $(printf '%s' "$out" | tr '\n' ' ')"
assert_eq "the connection still sent after the last frame" 1 "$(kv "$out" alive_after)"
wait "$dl" || true
assert_eq "the download under attack: 200" 200 "$(cat "$TMPD/big.res")"
assert_same_file "the download under attack: byte-exact" "$big" "$TMPD/big.out"

status_page
for r in bad_ip bad_checksum fragment bad_tcp bad_tcp_options out_of_window; do
    n=$(kv "$out" "$r")
    [ -n "$n" ] || {
        fail "crafted.py said nothing of $r"
        continue
    }
    got=$(($(val "rx_drop_$r") - ${before[rx_drop_$r]}))
    assert_ge "$r: $n sent, $got counted (rx_drop_$r)" "$n" "$got"
done
code=$(curl_ns -o /dev/null -w '%{http_code}' "$(url /index.html)") || code=failed
assert_eq "still serving" 200 "$code"
srv_stop
assert_ge "challenge ACKs for the in-window RST, SYN and blind ACK" \
    "$(kv "$out" challenge)" "$(srv_report_value 'challenge acks')"
assert_eq "no connection reset by the frames" 0 "$(srv_report_value 'rst out')"
lib_finish
