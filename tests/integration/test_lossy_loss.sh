#!/bin/bash
# Lossy link: 5% of TCP frames lost in each direction (nftables netdev
# rules on the TAP: ingress = server -> client, dropped; egress = client ->
# server, forwarded into a sink device, since an egress drop is reported to
# the client's TCP, which would just send again, see lib.sh). The 10 MB file
# must arrive intact within 60 s (curl --max-time), every connection must
# close, and the server must stop cleanly.
. "$(dirname "$0")/lib.sh"
lib_init lloss "$@"
need_cmd curl nft ss sha256sum
long_site
cfg_write ""
srv_start

sink=$(sink_dev)
lossy_case 'numgen random mod 100 < 5 counter drop' \
    "numgen random mod 100 < 5 counter fwd to \"$sink\"" "5% loss each way" 60 600
assert_ge "server retransmitted" 1 "$(srv_report_value retransmits)"

lib_finish
