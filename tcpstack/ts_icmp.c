/**
 * @file ts_icmp.c
 * ICMP (RFC 792): echo requests are answered in place, turning the received
 * frame into the reply (RFC 1122 3.2.2.6: same identifier, sequence and
 * data). Other ICMP messages are counted and dropped.
 */
#include <rte_icmp.h>

#include "ts_priv.h"

void ts_icmp_input(struct ts_ctx *ctx, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
    uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    uint32_t len = rte_be_to_cpu_16(ip->total_length) - ihl;
    struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
    if (len < sizeof(*ic) || rte_raw_cksum(ic, len) != 0xffff) {
        ctx->st.rx_bad_cksum++;
        goto drop;
    }
    if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
        ctx->st.rx_unsupported++;
        goto drop;
    }
    ctx->st.icmp_echo_rx++;
    uint32_t src = rte_be_to_cpu_32(ip->src_addr);
    /* Options of the request are not echoed: move the ICMP message up
     * behind a plain 20-byte header. */
    if (ihl != sizeof(*ip)) {
        memmove((uint8_t *)ip + sizeof(*ip), ic, len);
        ic = (struct rte_icmp_hdr *)((uint8_t *)ip + sizeof(*ip));
        rte_pktmbuf_trim(m, ihl - sizeof(*ip));
    }
    ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    ic->icmp_cksum = 0;
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
    m->ol_flags = 0;
    ts_ipv4_fill(ctx, m, rte_be_to_cpu_32(ip->dst_addr), src, IPPROTO_ICMP,
                 (uint16_t)len);
    ts_arp_output(ctx, m, src);
    return;
drop:
    rte_pktmbuf_free(m);
}
