/**
 * @file ts_ipv4.c
 * IPv4 (RFC 791, RFC 1122 3.2.1): validates what arrives (version, header
 * and total length, checksum, destination, source, fragments), trims link padding,
 * and hands ICMP and TCP to their layers; fills the header of what leaves.
 * Every dropped datagram is counted under a reason.
 */
#include "ts_csum.h"
#include "ts_priv.h"

void ts_ipv4_input(struct ts_ctx *ctx, struct rte_mbuf *m)
{
    uint32_t l2 = RTE_ETHER_HDR_LEN;
    if (rte_pktmbuf_data_len(m) < l2 + sizeof(struct rte_ipv4_hdr)) {
        ctx->st.rx_bad_ip++;
        goto drop;
    }
    struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
    uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || total < ihl ||
        l2 + ihl > rte_pktmbuf_data_len(m) || l2 + total > rte_pktmbuf_pkt_len(m)) {
        ctx->st.rx_bad_ip++;
        goto drop;
    }
    uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
        (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, ihl) != 0xffff)) {
        ctx->st.rx_bad_cksum++;
        goto drop;
    }
    if (!ts_addr_local(ctx, rte_be_to_cpu_32(ip->dst_addr))) {
        ctx->st.rx_not_for_us += m->nb_segs; /* a ts_gro run: a frame per mbuf */
        goto drop;
    }
    /* A source no host can have (RFC 1122 3.2.1.3, RFC 6890): "this
     * network" 0/8, loopback 127/8, multicast and reserved 224/3 (broadcast
     * included), our subnet's broadcast, or one of our own addresses. Such
     * a peer could only be spoofed, and 0.0.0.0 means "no address" to the
     * layers above. */
    uint32_t src = rte_be_to_cpu_32(ip->src_addr);
    uint32_t host = ~ctx->p.netmask;
    if ((src >> 24) == 0 || (src >> 24) == 127 || (src >> 29) == 7 ||
        (host != 0 && (src & ctx->p.netmask) == (ctx->p.ip & ctx->p.netmask) &&
         (src & host) == host) ||
        ts_addr_local(ctx, src)) {
        ctx->st.rx_bad_ip += m->nb_segs;
        goto drop;
    }
    /* No reassembly: a server's peers send small requests; fragments are
     * counted and dropped (MF set or a non-zero offset). */
    if (rte_be_to_cpu_16(ip->fragment_offset) &
        (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
        ctx->st.rx_fragments++;
        goto drop;
    }
    /* Ethernet pads short frames: keep exactly the datagram. A chain
     * (ts_gro) was cut to size; only TCP takes one. */
    rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - (l2 + total)));
    if (m->nb_segs > 1 && ip->next_proto_id != IPPROTO_TCP) {
        ctx->st.rx_unsupported++;
        goto drop;
    }

    switch (ip->next_proto_id) {
    case IPPROTO_ICMP:
        ts_icmp_input(ctx, m, ip);
        return;
    case IPPROTO_TCP:
        tcp_input(ctx, m, ip);
        return;
    default:
        ctx->st.rx_unsupported++;
        break;
    }
drop:
    rte_pktmbuf_free(m);
}

void ts_ipv4_fill(struct ts_ctx *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst,
                  uint8_t proto, uint16_t l4_len)
{
    struct rte_ipv4_hdr *ip =
        rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
    /* the 16-bit words as stored (network order), for the checksum */
    uint16_t vhl_tos = rte_cpu_to_be_16(RTE_IPV4_VHL_DEF << 8);
    uint16_t len = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
    uint16_t frag = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    uint16_t ttl_proto = rte_cpu_to_be_16((uint16_t)(64 << 8 | proto));
    uint32_t sa = rte_cpu_to_be_32(src), da = rte_cpu_to_be_32(dst);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = len;
    ip->packet_id = 0;
    ip->fragment_offset = frag;
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    ip->src_addr = sa;
    ip->dst_addr = da;
    m->l2_len = RTE_ETHER_HDR_LEN;
    m->l3_len = sizeof(*ip);
    if (ctx->p.offloads & TS_OFF_TX_IPV4_CKSUM) {
        ip->hdr_checksum = 0;
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    } else {
        uint32_t sum = (uint32_t)vhl_tos + len + frag + ttl_proto + ts_csum_word32(sa) +
                       ts_csum_word32(da);
        ip->hdr_checksum = (uint16_t)~ts_csum_fold(sum);
    }
}
