/**
 * @file ts_gro.c
 * Receive coalescing (the idea of Linux's GRO): within one input burst, a
 * run of back-to-back data segments of one flow, each starting where the
 * one before ended and alike in everything else (addresses, ports, ACK,
 * window, options, TTL and TOS), is handed to TCP as one segment. Its
 * frames are chained behind the first, their headers cut off, and the
 * first's IP length grown to cover them. TCP then checks, acknowledges and
 * stores the run once instead of once per frame; the bytes it receives are
 * the same.
 *
 * Only what TCP would take in its common case joins a run: an unfragmented
 * IPv4 datagram without options, to our MAC, whose IP and TCP checksums are
 * good (checked here, by the port or in software; the run then carries the
 * port's "checksum good" marks, as its sums no longer cover it), with ACK
 * and perhaps PSH set and nothing else, and with data. A PSH ends a run.
 * Anything else passes through untouched, to be judged by the layers.
 */
#include "ts_priv.h"

/* Longest run, in payload bytes: its IP length (a 20-byte header, TCP's
 * of up to 60) must fit 16 bits. */
#define GRO_MAX_PAYLOAD (UINT16_MAX - 20 - 60)

struct gro_run {
    struct rte_mbuf *head; /* the first frame, which carries the run's headers */
    struct rte_mbuf *tail; /* the last mbuf of its chain */
    struct rte_ipv4_hdr *ip;
    struct rte_tcp_hdr *th;
    uint32_t next_seq; /* where a frame that joins must start */
    uint32_t payload;  /* bytes of data in the run */
};

/* Where the addresses and ports of an IPv4 datagram without options
 * carrying TCP lie in the frame, and how long a frame must be to hold them. */
#define GRO_TUPLE_OFF (RTE_ETHER_HDR_LEN + offsetof(struct rte_ipv4_hdr, src_addr))
#define GRO_TUPLE_END (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 4)

/* A glance before any check: @p a and @p b may be of one flow (the same
 * bytes where its addresses and ports would lie). Frames without a
 * neighbour of their own flow are passed on untouched, so that a burst of
 * many flows costs a comparison per frame. */
static bool gro_same_tuple(const struct rte_mbuf *a, const struct rte_mbuf *b)
{
    if (rte_pktmbuf_data_len(a) < GRO_TUPLE_END ||
        rte_pktmbuf_data_len(b) < GRO_TUPLE_END)
        return false;
    const uint8_t *x = rte_pktmbuf_mtod_offset(a, const uint8_t *, GRO_TUPLE_OFF);
    const uint8_t *y = rte_pktmbuf_mtod_offset(b, const uint8_t *, GRO_TUPLE_OFF);
    return memcmp(x, y, GRO_TUPLE_END - GRO_TUPLE_OFF) == 0;
}

/* A frame that may join or start a run: its headers, their length and its
 * payload; false for anything else. */
static bool gro_candidate(const struct ts_ctx *ctx, struct rte_mbuf *m,
                          struct rte_ipv4_hdr **ipp, struct rte_tcp_hdr **thp,
                          uint32_t *hlen, uint32_t *plen)
{
    const uint32_t l2 = RTE_ETHER_HDR_LEN;
    uint32_t len = rte_pktmbuf_data_len(m);
    if (m->nb_segs != 1 ||
        len < l2 + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))
        return false;
    const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
    if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
        ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_TCP ||
        !rte_is_same_ether_addr(&eh->dst_addr, &ctx->p.mac))
        return false;
    uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if (total < sizeof(*ip) + sizeof(struct rte_tcp_hdr) || l2 + total > len ||
        (rte_be_to_cpu_16(ip->fragment_offset) &
         (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
        return false;
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    uint32_t doff = (th->data_off >> 4) * 4u;
    if ((th->tcp_flags & ~RTE_TCP_PSH_FLAG) != RTE_TCP_ACK_FLAG || doff < sizeof(*th) ||
        sizeof(*ip) + doff >= total)
        return false;
    uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    uint64_t l4ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (ipck == RTE_MBUF_F_RX_IP_CKSUM_BAD || l4ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
        (ipck != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
         rte_raw_cksum(ip, sizeof(*ip)) != 0xffff) ||
        (l4ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
         rte_ipv4_udptcp_cksum_verify(ip, th) != 0))
        return false;
    /* checked: the layers need not check again, and the run's sums will
     * not cover it */
    m->ol_flags =
        (m->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
        RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    *ipp = ip;
    *thp = th;
    *hlen = l2 + sizeof(*ip) + doff;
    *plen = total - sizeof(*ip) - doff;
    return true;
}

/* True when the segment at @p ip / @p th, of @p r's flow (its addresses and
 * ports were compared by gro_same_tuple), continues the run's data. */
static bool gro_joins(const struct gro_run *r, const struct rte_ipv4_hdr *ip,
                      const struct rte_tcp_hdr *th, uint32_t plen)
{
    const struct rte_ipv4_hdr *rip = r->ip;
    const struct rte_tcp_hdr *rth = r->th;
    if (ip->time_to_live != rip->time_to_live ||
        ip->type_of_service != rip->type_of_service || th->recv_ack != rth->recv_ack ||
        th->rx_win != rth->rx_win || th->data_off != rth->data_off ||
        (rth->tcp_flags & RTE_TCP_PSH_FLAG) ||
        rte_be_to_cpu_32(th->sent_seq) != r->next_seq ||
        r->payload + plen > GRO_MAX_PAYLOAD)
        return false;
    uint32_t optlen = (th->data_off >> 4) * 4u - sizeof(*th);
    return memcmp(th + 1, rth + 1, optlen) == 0; /* timestamps included */
}

/* Chains @p m's payload behind the run. */
static void gro_append(struct ts_ctx *ctx, struct gro_run *r, struct rte_mbuf *m,
                       const struct rte_tcp_hdr *th, uint32_t hlen, uint32_t plen)
{
    if (r->head->nb_segs == 1) { /* the first frame loses its link padding */
        uint16_t frame =
            (uint16_t)(RTE_ETHER_HDR_LEN + rte_be_to_cpu_16(r->ip->total_length));
        ctx->st.rx_bytes += rte_pktmbuf_data_len(r->head) - frame;
        rte_pktmbuf_data_len(r->head) = frame;
        rte_pktmbuf_pkt_len(r->head) = frame;
    }
    /* counted here but for the payload, which the run's frame counts */
    ctx->st.rx_frames++;
    ctx->st.rx_bytes += rte_pktmbuf_pkt_len(m) - plen;
    ctx->st.rx_gro_merged++;
    rte_pktmbuf_adj(m, (uint16_t)hlen);
    rte_pktmbuf_data_len(m) = (uint16_t)plen; /* without link padding */
    rte_pktmbuf_pkt_len(m) = plen;
    r->tail->next = m;
    r->tail = m;
    r->head->nb_segs++;
    r->head->pkt_len += plen;
    r->payload += plen;
    r->next_seq += plen;
    r->ip->total_length =
        rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(r->ip->total_length) + plen));
    r->th->tcp_flags |= th->tcp_flags & RTE_TCP_PSH_FLAG;
}

uint16_t ts_gro(struct ts_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
    struct gro_run r = {0};
    uint16_t out = 0;
    bool same_as_prev = false; /* the frame before has this one's tuple */
    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        struct rte_ipv4_hdr *ip;
        struct rte_tcp_hdr *th;
        uint32_t hlen, plen;
        /* r.head set: the frame before is in the run, so of its flow */
        bool may_join = r.head != NULL && same_as_prev;
        bool may_lead = i + 1 < n && gro_same_tuple(m, pkts[i + 1]);
        same_as_prev = may_lead;
        if ((!may_join && !may_lead) || !gro_candidate(ctx, m, &ip, &th, &hlen, &plen)) {
            r.head = NULL;
            pkts[out++] = m;
            continue;
        }
        if (may_join && gro_joins(&r, ip, th, plen)) {
            gro_append(ctx, &r, m, th, hlen, plen);
            continue;
        }
        r = (struct gro_run){.head = m,
                             .tail = m,
                             .ip = ip,
                             .th = th,
                             .next_seq = rte_be_to_cpu_32(th->sent_seq) + plen,
                             .payload = plen};
        pkts[out++] = m;
    }
    return out;
}
