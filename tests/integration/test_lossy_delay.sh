#!/bin/bash
# Long link: the server's own impairment stage (dpdk/, [dpdk]
# impair_delay_ms = 10) holds every frame 10 ms on receive and on send, so
# the round trip grows by 20 ms. First ping shows that (and that an idle
# server wakes up for held frames in time: no round trip near the 100 ms
# idle sleep), then 10 MB intact within 30 s (curl --max-time), no
# connection left open, clean stop.
. "$(dirname "$0")/lib.sh"
lib_init ldelay "$@"
need_cmd curl ss sha256sum ping
long_site
# (The stage holds 8192 frames a direction: the 4 MB send buffer's ~2,900
# segments of a 20 ms window fit, so the link has no drop of its own.)
cfg_write "[dpdk]
impair_delay_ms = 10"
srv_start

# 20 pings 50 ms apart: the server idles between them.
rtt=$(nsx ping -n -q -c 20 -i 0.05 -W 2 "$SRV_IP" | sed -n 's|^rtt [^=]*= \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\1 \2 \3|p')
say "ping rtt min/avg/max: ${rtt:-none} ms"
read -r rmin _ rmax <<<"${rtt:-0 0 999}"
assert_ge "round trip at least 2 x 10 ms" 20 "${rmin%.*}"
# (the bound is far from the 100 ms sleep it guards against, and leaves a few
# ms for a loaded 2-core machine's scheduling: 25 ms failed there at times)
assert_match "no round trip beyond 40 ms (held frames released on time)" '^([0-3][0-9]|[0-9])$' "${rmax%.*}"

lossy_case "" "" "10 ms delay each way (dpdk stage)" 30 300
assert_eq "the stage never overflowed on receive" 0 "$(port_report_value impair_rx_overflow)"
assert_eq "the stage never overflowed on send" 0 "$(port_report_value impair_tx_overflow)"
assert_eq "every held frame was released on send" "$(port_report_value impair_tx_held)" \
    "$(port_report_value impair_tx_released)"

lib_finish
