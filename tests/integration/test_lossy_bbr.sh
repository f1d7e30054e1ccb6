#!/bin/bash
# BBR on a lossy link ([tcp] congestion_control = bbr): the 10 MB file
# through 5% loss each way (the nftables rules of test_lossy_loss), intact
# within 60 s (curl --max-time), every connection closed, a clean stop; the
# server really ran BBR (its readiness line names it) and repaired losses.
. "$(dirname "$0")/lib.sh"
lib_init lbbr "$@"
need_cmd curl nft ss sha256sum
long_site
cfg_write "[tcp]
congestion_control = bbr"
srv_start
assert_match "the server runs BBR (its readiness line)" 'congestion control bbr$' "$(grep -m1 'corehttpd: serving' "$LOG")"

sink=$(sink_dev)
lossy_case 'numgen random mod 100 < 5 counter drop' \
    "numgen random mod 100 < 5 counter fwd to \"$sink\"" "BBR, 5% loss each way" 60 600
assert_ge "server retransmitted" 1 "$(srv_report_value retransmits)"

lib_finish
