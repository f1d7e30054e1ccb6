#!/bin/bash
# Corrupting link: 0.5% of TCP frames in each direction get a wrong TCP
# checksum (`tcp checksum set tcp checksum ^ 0x5a5a`). Each side must drop
# exactly those: the server counts them as "bad checksum", the client's
# kernel as InCsumErrors. (Mangling payload bytes instead, e.g. @th,256,32,
# is not detected on the client -> server direction: the kernel fills in
# the checksum after the egress hook, CHECKSUM_PARTIAL.) 10 MB intact within
# 30 s (curl --max-time), no connection left open, clean stop.
. "$(dirname "$0")/lib.sh"
lib_init lcorrupt "$@"
need_cmd curl nft ss sha256sum
long_site
cfg_write ""
srv_start

before=$(ns_tcp_counter InCsumErrors)
lossy_case 'numgen random mod 1000 < 5 counter tcp checksum set tcp checksum ^ 0x5a5a' \
    'numgen random mod 1000 < 5 counter tcp checksum set tcp checksum ^ 0x5a5a' \
    "0.5% corrupted each way" 30 300
assert_eq "the server dropped every corrupted frame as bad checksum" \
    "${IMPAIRED_TO_SERVER:-?}" "$(srv_report_value 'bad checksum')"
assert_eq "the client's kernel dropped every corrupted frame (InCsumErrors)" \
    "${IMPAIRED_TO_CLIENT:-?}" "$(($(ns_tcp_counter InCsumErrors) - before))"

lib_finish
