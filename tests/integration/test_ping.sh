#!/bin/bash
# ICMP echo and ARP: the stack answers pings of the usual size and of a full
# 1500-byte frame, and shows the kernel a MAC address of its own.
. "$(dirname "$0")/lib.sh"
lib_init ping "$@"
need_cmd ping
srv_start

out=$(nsx ping -c 5 -i 0.2 -W 2 "$SRV_IP" 2>&1) || true
say "$(printf '%s\n' "$out" | grep -E 'packets transmitted|rtt')"
assert_match "ping -c 5: 5 replies" '(^|[^0-9])5 received' "$out"
assert_no_match "ping -c 5: no duplicates or errors" 'duplicates|errors' "$out"

# 1472 bytes of payload + 8 ICMP + 20 IP = 1500: a full-MTU frame, DF set.
out=$(nsx ping -c 3 -i 0.2 -W 2 -s 1472 -M "do" "$SRV_IP" 2>&1) || true
assert_match "ping -s 1472 -M do (1500-byte packets): 3 replies" '(^|[^0-9])3 received' "$out"

# The kernel learnt the server's MAC by ARP; it must differ from the TAP's own
# (DPDK's net_tap gives both ends the same MAC unless told otherwise).
srv_mac=$(ip -n "$NS" neigh show "$SRV_IP" dev "$TAP" | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
tap_mac=$(ip -n "$NS" link show dev "$TAP" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
assert_match "ARP: the kernel has a MAC for $SRV_IP" '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' "$srv_mac"
assert_ne "ARP: the server's MAC ($srv_mac) differs from the TAP's ($tap_mac)" "$tap_mac" "$srv_mac"

lib_finish
