#!/bin/bash
# Duplicating link: 1% of TCP frames sent twice in each direction. To the
# server: `dup to` the TAP on its egress hook. To the client: `dup to` a
# veth whose peer wears the TAP's kernel-side MAC (lib.sh,
# dup_to_client_dev), since a copy sent out of the TAP would go back to the
# server. 10 MB intact within 30 s (curl --max-time), no connection left
# open, clean stop.
. "$(dirname "$0")/lib.sh"
lib_init ldup "$@"
need_cmd curl nft ss sha256sum
long_site
cfg_write ""
srv_start

dev=$(dup_to_client_dev)
before=$(ns_tcp_counter InSegs)
lossy_case "numgen random mod 100 < 1 counter dup to \"$dev\"" \
    "numgen random mod 100 < 1 counter dup to \"$TAP\"" "1% duplicated each way" 30 300
assert_ge "frames copied to the server" 1 "$IMPAIRED_TO_SERVER"
assert_ge "frames copied to the client" 1 "$IMPAIRED_TO_CLIENT"
say "client: $(($(ns_tcp_counter InSegs) - before)) segments in, $(ns_tcp_counter TCPDSACKOldSent) D-SACKs sent for duplicates"

lib_finish
