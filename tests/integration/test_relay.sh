#!/bin/bash
# bench/impair_relay.sh on the client's side of a clean server: dpio's
# impairment stage (10 ms each way, 25% of frames 5 ms more) put on the
# kernel's TAP by the relay, as bench/lossy_goodput.sh puts it in front of
# nginx. The round trip grows by 20 ms (ping), the 10 MB file arrives intact
# through it, the relay's counters show every frame held and released and a
# quarter of them late, and once it is stopped the round trip is short again
# and nothing is left of it (its TAP, its rules).
. "$(dirname "$0")/lib.sh"
lib_init relay "$@"
need_cmd curl ping nft sha256sum
relay_bin=$(dirname "$(dirname "$BIN")")/bench/impair_relay
[ -x "$relay_bin" ] || die "$relay_bin is not built"
srv_start

# ping RTT as "min max" in whole ms
rtt() {
    nsx ping -n -q -c 20 -i 0.05 -W 2 "$SRV_IP" |
        sed -n 's|^rtt [^=]*= \([0-9]*\)[0-9.]*/[0-9.]*/\([0-9]*\)[0-9.]*/.*|\1 \2|p'
}

read -r rmin rmax <<<"$(rtt)"
say "ping before the relay: min ${rmin:-?} max ${rmax:-?} ms"
assert_match "a short round trip without the relay" '^[0-4]$' "${rmax:-99}"

rlog=$TMPD/relay.log
rpid=$(RELAY_BIN=$relay_bin "$ROOT/bench/impair_relay.sh" start "$NS" "$TAP" "$rlog" \
    --core 0 --delay-ms 10 --reorder-pct 25 --reorder-gap-ms 5 --seed 1 \
    --eal-args "--file-prefix=$FILE_PREFIX-r") || die "impair_relay.sh start failed: $(tail -n 3 "$rlog")"
say "relay pid $rpid"

read -r rmin rmax <<<"$(rtt)"
say "ping through the relay: min ${rmin:-?} max ${rmax:-?} ms"
assert_ge "round trip at least 2 x 10 ms through the relay" 20 "${rmin:-0}"
assert_match "no round trip beyond 40 ms (held frames released on time)" '^([0-3][0-9]|[0-9])$' \
    "${rmax:-999}"

timed_fetch "10 MB through the relay" 30 /files/big.bin "$WWW/files/big.bin"

"$ROOT/bench/impair_relay.sh" stop "$NS" "$TAP" "$rpid" || fail "the relay did not stop"
rm -rf "/var/run/dpdk/$FILE_PREFIX-r"
line=$(sed -n 's/^impair_relay: port //p' "$rlog")
say "relay: $line"
stats=$(printf '%s\n' "$line" | tr ' ' '\n')
held=$(kv "$stats" impair_rx_held)
late=$(kv "$stats" impair_rx_late)
assert_ge "the relay held the download's frames" 7000 "${held:-0}"
assert_eq "every held frame was released" "$held" "$(kv "$stats" impair_rx_released)"
assert_eq "the stage never overflowed" 0 "$(kv "$stats" impair_rx_overflow)"
assert_match "about a quarter of them late (20-30%)" '^(2[0-9])$' "$((100 * ${late:-0} / ${held:-1}))"
assert_eq "the relay's TAP is gone" "" "$(ip -n "$NS" -o link show "r$TAP" 2>/dev/null)"
assert_eq "its rules are gone" "" "$(nsx nft list tables netdev 2>/dev/null | grep relay_)"

read -r rmin rmax <<<"$(rtt)"
say "ping after the relay: min ${rmin:-?} max ${rmax:-?} ms"
assert_match "a short round trip again" '^[0-4]$' "${rmax:-99}"

lib_finish
