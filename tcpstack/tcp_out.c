/**
 * @file tcp_out.c
 * The send path: turns the worker's send queue into segments.
 *
 * The send queue is a ring of references (struct ts_sref) that the worker
 * fills: copied bytes point into the socket's copy ring, bodies point into
 * the file cache. Sequence number snd_una maps to byte una_off of the oldest
 * reference; a segment's payload is gathered from the references at its
 * offset, so a retransmission reads the same bytes again.
 *
 * tcp_output() sends as much as min(cwnd, snd_wnd) allows in MSS-sized
 * segments (RFC 5681, RFC 9293 3.8.6.2.1 sender SWS avoidance), then the FIN
 * once all data is out, else a pure ACK when one is owed; control segments
 * (SYN-ACK, ACK, RST) are built by tcp_send_ctl() and tcp_send_rst_reply().
 */
#include <string.h>

#include "ts_priv.h"

#define TCP_OPT_MSS 2
#define TCPOLEN_MSS 4

void tcp_snd_collect(struct ts_ctx *ctx, struct ts_sock *s)
{
    (void)ctx;
    if (s->bufs == NULL)
        return;
    struct ts_sref *r;
    while ((r = ts_sring_peek(&s->bufs->refs, s->refs_seen)) != NULL) {
        s->snd_end += r->len;
        s->refs_seen++;
    }
}

void tcp_snd_release(struct ts_ctx *ctx, struct ts_sock *s, uint32_t n)
{
    (void)ctx;
    struct ts_bufs *b = s->bufs;
    if (b == NULL || n == 0)
        return;
    atomic_fetch_add_explicit(&s->acked_total, n, memory_order_release);
    while (n > 0) {
        struct ts_sref *r = ts_sring_peek(&b->refs, 0);
        TS_ASSERT(r != NULL && s->refs_seen > 0);
        uint32_t left = r->len - s->una_off;
        if (n < left) {
            s->una_off += n;
            if (r->copied)
                ts_bring_skip(&b->sndcopy, n);
            return;
        }
        n -= left;
        if (r->copied)
            ts_bring_skip(&b->sndcopy, left);
        if (r->owner.release)
            r->owner.release(r->owner.arg);
        ts_sring_pop(&b->refs, 1);
        s->refs_seen--;
        s->una_off = 0;
    }
}

/* Copies @p len bytes of the send queue starting at sequence @p seq. */
static void snd_gather(struct ts_sock *s, uint32_t seq, uint8_t *dst, uint32_t len)
{
    uint32_t off = seq - s->snd_una + s->una_off;
    for (uint32_t i = 0; len > 0; i++) {
        struct ts_sref *r = ts_sring_peek(&s->bufs->refs, i);
        TS_ASSERT(r != NULL && i < s->refs_seen);
        if (off >= r->len) {
            off -= r->len;
            continue;
        }
        uint32_t n = RTE_MIN(len, r->len - off);
        memcpy(dst, r->p + off, n);
        dst += n;
        len -= n;
        off = 0;
    }
}

/* Builds and sends one segment of @p s: flags, seq, options for a SYN,
 * payload gathered from the send queue. */
static void tcp_emit(struct ts_ctx *ctx, struct ts_sock *s, uint8_t flags, uint32_t seq,
                     uint32_t len)
{
    struct rte_mbuf *m = ts_alloc(ctx);
    if (m == NULL)
        return; /* the retransmission timer recovers */
    uint32_t optlen = (flags & RTE_TCP_SYN_FLAG) ? TCPOLEN_MSS : 0;
    uint32_t hlen = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
                    sizeof(struct rte_tcp_hdr) + optlen;
    uint8_t *base = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hlen + len));
    TS_ASSERT(base != NULL);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(base + RTE_ETHER_HDR_LEN);
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    uint8_t *opt = (uint8_t *)(th + 1);
    if (optlen) {
        /* RFC 9293 3.7.1: announce what we can receive */
        uint16_t mss = (uint16_t)(ctx->p.mtu - 40);
        opt[0] = TCP_OPT_MSS;
        opt[1] = TCPOLEN_MSS;
        opt[2] = (uint8_t)(mss >> 8);
        opt[3] = (uint8_t)mss;
    }
    if (len)
        snd_gather(s, seq, base + hlen, len);

    uint32_t win = tcp_rcv_window(s);
    s->rcv_adv = s->rcv_nxt + win;
    th->src_port = rte_cpu_to_be_16(s->lport);
    th->dst_port = rte_cpu_to_be_16(s->rport);
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = rte_cpu_to_be_32((flags & RTE_TCP_ACK_FLAG) ? s->rcv_nxt : 0);
    th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
    th->tcp_flags = flags;
    th->rx_win = rte_cpu_to_be_16((uint16_t)win);
    th->cksum = 0;
    th->tcp_urp = 0;
    uint16_t l4 = (uint16_t)(sizeof(*th) + optlen + len);
    ts_ipv4_fill(ctx, m, s->raddr, IPPROTO_TCP, l4);
    m->l4_len = (uint8_t)(sizeof(*th) + optlen);
    if (ctx->p.offloads & TS_OFF_TX_TCP_CKSUM) {
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
        th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    } else {
        th->cksum = rte_ipv4_udptcp_cksum(ip, th);
    }
    if (flags & RTE_TCP_ACK_FLAG)
        s->tflags &= ~TF_ACKNOW;
    ts_arp_output(ctx, m, s->raddr);
}

void tcp_send_ctl(struct ts_ctx *ctx, struct ts_sock *s, uint8_t flags, uint32_t seq)
{
    tcp_emit(ctx, s, flags, seq, 0);
}

void tcp_send_rst_reply(struct ts_ctx *ctx, const struct rte_ipv4_hdr *ip,
                        const struct rte_tcp_hdr *th, uint32_t payload_len)
{
    /* RFC 9293 3.10.7.1: no connection; answer anything but a RST */
    struct ts_sock tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.raddr = rte_be_to_cpu_32(ip->src_addr);
    tmp.rport = rte_be_to_cpu_16(th->src_port);
    tmp.lport = rte_be_to_cpu_16(th->dst_port);
    ctx->st.tcp_rst_tx++;
    if (th->tcp_flags & RTE_TCP_ACK_FLAG) {
        tcp_emit(ctx, &tmp, RTE_TCP_RST_FLAG, rte_be_to_cpu_32(th->recv_ack), 0);
        return;
    }
    uint32_t seglen = payload_len + !!(th->tcp_flags & RTE_TCP_SYN_FLAG) +
                      !!(th->tcp_flags & RTE_TCP_FIN_FLAG);
    tmp.rcv_nxt = rte_be_to_cpu_32(th->sent_seq) + seglen;
    tcp_emit(ctx, &tmp, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, 0);
}

static bool can_send_data(const struct ts_sock *s)
{
    switch (s->state) {
    case TCPS_ESTABLISHED:
    case TCPS_CLOSE_WAIT:
    case TCPS_FIN_WAIT_1:
    case TCPS_CLOSING:
    case TCPS_LAST_ACK:
        return true;
    default:
        return false;
    }
}

void tcp_output(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->kind != TS_KIND_TCP)
        return;
    if (!can_send_data(s)) {
        if ((s->tflags & TF_ACKNOW) && s->state != TCPS_CLOSED && s->state != TCPS_LISTEN)
            tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_nxt);
        return;
    }
    tcp_snd_collect(ctx, s);
    bool sent = false;
    bool force1 = s->tflags & TF_FORCE1;
    s->tflags &= ~TF_FORCE1;
    for (;;) {
        uint32_t avail = SEQ_LT(s->snd_nxt, s->snd_end) ? s->snd_end - s->snd_nxt : 0;
        if (avail == 0)
            break;
        uint32_t win = RTE_MIN(s->snd_wnd, s->cwnd);
        uint32_t flight = s->snd_nxt - s->snd_una;
        uint32_t usable = win > flight ? win - flight : 0;
        if (usable == 0 && force1 && flight == 0)
            usable = 1; /* zero-window probe (RFC 9293 3.8.6.1) */
        force1 = false;
        uint32_t len = RTE_MIN(RTE_MIN(avail, usable), s->mss);
        if (len == 0)
            break;
        /* sender SWS avoidance: no small segment while more is waiting and
         * something is in flight to bring a window update */
        if (len < s->mss && len < avail && flight > 0)
            break;
        uint8_t flags = RTE_TCP_ACK_FLAG;
        if (len == avail)
            flags |= RTE_TCP_PSH_FLAG;
        bool fin = (s->tflags & TF_FIN_PENDING) && len == avail;
        if (fin)
            flags |= RTE_TCP_FIN_FLAG;
        if (s->snd_nxt == s->snd_max && !(s->tflags & TF_RTT_TIMING)) {
            s->tflags |= TF_RTT_TIMING;
            s->rtt_seq = s->snd_nxt;
            s->rtt_start_us = ctx->now;
        }
        tcp_emit(ctx, s, flags, s->snd_nxt, len);
        s->snd_nxt += len + fin;
        if (SEQ_GT(s->snd_nxt, s->snd_max))
            s->snd_max = s->snd_nxt;
        if (fin)
            s->tflags |= TF_FIN_SENT;
        sent = true;
    }
    /* FIN alone, once all data is out */
    if ((s->tflags & TF_FIN_PENDING) && s->snd_nxt == s->snd_end) {
        tcp_send_ctl(ctx, s, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, s->snd_nxt);
        s->snd_nxt++;
        if (SEQ_GT(s->snd_nxt, s->snd_max))
            s->snd_max = s->snd_nxt;
        s->tflags |= TF_FIN_SENT;
        sent = true;
    }
    if (s->tflags & TF_FIN_SENT) {
        if (s->state == TCPS_ESTABLISHED)
            tcp_set_state(ctx, s, TCPS_FIN_WAIT_1);
        else if (s->state == TCPS_CLOSE_WAIT)
            tcp_set_state(ctx, s, TCPS_LAST_ACK);
    }
    if (!sent && (s->tflags & TF_ACKNOW))
        tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_nxt);
    /* RFC 6298 5.1: the timer runs while anything is outstanding; with data
     * waiting behind a zero window it drives the window probe */
    bool outstanding = s->snd_una != s->snd_max;
    bool blocked = SEQ_LT(s->snd_nxt, s->snd_end) && s->snd_wnd == 0;
    if ((outstanding || blocked) && !ts_timer_armed(&s->t_rexmt))
        ts_timer_arm(ctx, &s->t_rexmt, ctx->now + s->rto_us);
}

void tcp_rexmit_una(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t avail = SEQ_LT(s->snd_una, s->snd_end) ? s->snd_end - s->snd_una : 0;
    uint32_t len = RTE_MIN(avail, (uint32_t)s->mss);
    uint8_t flags = RTE_TCP_ACK_FLAG;
    bool fin = (s->tflags & TF_FIN_SENT) && len == avail;
    if (fin)
        flags |= RTE_TCP_FIN_FLAG;
    if (len == 0 && !fin)
        return;
    tcp_emit(ctx, s, flags, s->snd_una, len);
    ts_timer_arm(ctx, &s->t_rexmt, ctx->now + s->rto_us);
}
