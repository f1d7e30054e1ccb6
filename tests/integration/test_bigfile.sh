#!/bin/bash
# The 10 MiB file, three times one after the other and four times at once,
# each byte for byte (bounded: curl --max-time 60); the port took no
# transmit checksum offload (net_tap's is a software loop); the status page
# then shows the bodies went out by reference, next to nothing copied.
. "$(dirname "$0")/lib.sh"
lib_init bigfile "$@"
need_cmd curl sha256sum
big=$WWW/files/big.bin
[ -f "$big" ] || die "$big missing: run packaging/gen-site-data.sh"
cfg_write "status_allow = 198.18.0.0/24"
srv_start

# status KEY: a total of the plain status page
status() { curl_ns "$(url /server-status)" | sed -n "s/^$1: //p" | head -n 1; }
ref0=$(status tx_payload_bytes_referenced)
copied0=$(status tx_payload_bytes_copied)

want=$(sha256sum <"$big" | cut -d' ' -f1)
size=$(stat -c %s "$big")

# fetch N: downloads big.bin to $TMPD/big.N; prints "<status> <speed B/s>".
fetch() {
    curl_ns --max-time 60 -o "$TMPD/big.$1" -w '%{http_code} %{speed_download}' \
        "$(url /files/big.bin)" 2>"$TMPD/big.$1.err" || echo "curl exit $?: $(cat "$TMPD/big.$1.err")"
}

check() { # N WHAT RESULT
    local got
    assert_match "$2: status 200" '^200 ' "$3"
    got=$(sha256sum <"$TMPD/big.$1" 2>/dev/null | cut -d' ' -f1)
    assert_eq "$2: sha256 of $size bytes" "$want" "$got"
    say "$2: $(printf '%s' "$3" | awk '{ printf "%.1f MB/s", $2 / 1e6 }')"
    rm -f "$TMPD/big.$1"
}

for i in 1 2 3; do
    check "$i" "sequential download $i" "$(fetch "$i")"
done

pids=""
for i in 4 5 6 7; do
    fetch "$i" >"$TMPD/res.$i" &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || true
done
for i in 4 5 6 7; do
    check "$i" "parallel download $((i - 3)) of 4" "$(cat "$TMPD/res.$i")"
done

# net_tap's transmit checksum "offload" is a loop in the driver: the stack
# sums the frames itself there (dpio_pick_offloads), and the kernel on
# the TAP's far side checks every segment, so the downloads above check
# those sums too.
assert_no_match "net_tap port: no transmit checksum offload taken" 'tx-(ipv4|tcp)-cksum' \
    "$(grep -m1 '^dpio: port' "$LOG")"

ref=$(($(status tx_payload_bytes_referenced) - ${ref0:-0}))
copied=$(($(status tx_payload_bytes_copied) - ${copied0:-0}))
say "status page: $ref body bytes by reference, $copied copied"
assert_ge "status page: bytes sent >= 7 x $size" $((7 * size)) $((ref + copied))
assert_ge "status page: by reference >= 99% of 7 x $size" $((7 * size / 100 * 99)) "$ref"
assert_ge "status page: bytes copied under 1% of those by reference" $((copied * 100)) "$ref"

lib_finish
