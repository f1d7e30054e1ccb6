#!/bin/bash
# Reordering link: the server's own impairment stage (dpdk/, [dpdk]
# impair_reorder_pct = 25) holds a quarter of the frames it receives and
# sends 5 ms longer than the rest, so later frames overtake them. 10 MB
# intact within 30 s (curl --max-time), no connection left open, clean stop.
. "$(dirname "$0")/lib.sh"
lib_init lreord "$@"
need_cmd curl ss sha256sum
long_site
cfg_write "[dpdk]
impair_reorder_pct = 25
impair_reorder_gap_ms = 5
impair_seed = 1"
srv_start
assert_match "the impairment stage announced itself" \
    'IMPAIRMENT ON .* 25% of them 5 ms more' "$(grep -m1 IMPAIRMENT "$LOG")"

ofo=$(ns_tcp_counter TCPOFOQueue)
lossy_case "" "" "25% reordered by 5 ms each way (dpdk stage)" 30 300
assert_ge "the client queued out-of-order segments (TCPOFOQueue)" 1 \
    "$(($(ns_tcp_counter TCPOFOQueue) - ofo))"
assert_ge "the stage held frames late on receive" 1 "$(port_report_value impair_rx_late)"
assert_ge "the stage held frames late on send" 1 "$(port_report_value impair_tx_late)"
assert_eq "the stage never overflowed on receive" 0 "$(port_report_value impair_rx_overflow)"
assert_eq "the stage never overflowed on send" 0 "$(port_report_value impair_tx_overflow)"

lib_finish
