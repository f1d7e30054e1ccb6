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
 * Zero copy: when the port sends chained frames, a segment is a header
 * mbuf (Ethernet, IP, TCP and the copied bytes: response headers, small
 * bodies) followed by external-buffer mbufs that point into the
 * application's bytes (the file cache in DPDK memory), one per piece of a
 * reference. Each reference that has gone out this way has a hold (struct
 * ts_xhold: the mbufs' shared info, its refcount one per mbuf plus one for
 * the reference itself); the reference's owner is released only when the
 * reference is acknowledged and the last mbuf pointing at it is freed,
 * wherever that happens (a NIC's tx completion, a drop). Memory that is not
 * the device's (RTE_BAD_IOVA) and pieces too small to be worth an mbuf are
 * copied. Copied and referenced bytes are counted apart.
 *
 * tcp_output() sends as much as min(cwnd, snd_wnd) allows in MSS-sized
 * segments (RFC 5681, RFC 9293 3.8.6.2.1 sender SWS avoidance), then the FIN
 * once all data is out, else a pure ACK when one is owed; control segments
 * (SYN-ACK, ACK, RST) are built by tcp_send_ctl() and tcp_send_rst_reply().
 */
#include <string.h>

#include "ts_priv.h"
#include "ts_csum.h"

#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TS 8

static uint8_t *opt_ts(struct ts_ctx *ctx, const struct ts_sock *s, uint8_t *o)
{
    uint32_t val = rte_cpu_to_be_32(tcp_ts_now(ctx));
    uint32_t ecr = rte_cpu_to_be_32(s->ts_recent);
    o[0] = TCPOPT_TS;
    o[1] = 10;
    memcpy(o + 2, &val, 4);
    memcpy(o + 6, &ecr, 4);
    return o + 10;
}

/* SACK blocks for what sits out of order (RFC 2018 4): the block holding
 * the latest segment first, then the others, as many as fit. */
static uint8_t *opt_sack_block(uint8_t *o, uint32_t start, uint32_t end)
{
    uint32_t a = rte_cpu_to_be_32(start);
    uint32_t b = rte_cpu_to_be_32(end);
    memcpy(o, &a, 4);
    memcpy(o + 4, &b, 4);
    return o + 8;
}

/* A D-SACK block (RFC 2883 4), when a duplicate arrived, goes first. */
static uint8_t *opt_sack(const struct ts_sock *s, uint8_t *o, unsigned room)
{
    unsigned max = (room - 4) / 8;
    bool dsack = s->tflags & TF_DSACK;
    unsigned n = RTE_MIN((unsigned)s->n_ooo + dsack, max);
    if (n == 0)
        return o;
    *o++ = TCPOPT_NOP;
    *o++ = TCPOPT_NOP;
    *o++ = TCPOPT_SACK;
    *o++ = (uint8_t)(2 + 8 * n);
    unsigned k = 0;
    if (dsack) {
        o = opt_sack_block(o, s->dsack_start, s->dsack_end);
        k++;
    }
    if (k < n && s->n_ooo) {
        o = opt_sack_block(o, s->ooo[s->ooo_last].start, s->ooo[s->ooo_last].end);
        k++;
    }
    for (unsigned i = 0; i < s->n_ooo && k < n; i++)
        if (i != s->ooo_last) {
            o = opt_sack_block(o, s->ooo[i].start, s->ooo[i].end);
            k++;
        }
    return o;
}

/* Writes the options of a segment carrying @p len bytes into @p o (40 bytes
 * of room); returns their length, a multiple of 4. A SYN offers what we
 * support and the peer asked for (RFC 7323 1.3, RFC 2018 2); other segments
 * carry timestamps when agreed and SACK blocks when data is out of order, as
 * many as fit beside the payload: options and data together stay within the
 * peer's MSS (RFC 9293 3.7.1), which the segment size budgets timestamps in. */
static uint32_t tcp_options(struct ts_ctx *ctx, const struct ts_sock *s, uint8_t flags,
                            uint32_t len, uint8_t *o)
{
    uint8_t *p = o;
    if (flags & RTE_TCP_SYN_FLAG) {
        uint16_t mss = (uint16_t)(ctx->p.mtu - 40);
        *p++ = TCPOPT_MSS;
        *p++ = 4;
        *p++ = (uint8_t)(mss >> 8);
        *p++ = (uint8_t)mss;
        if (s->tflags & TF_SACK_OK) {
            if (!(s->tflags & TF_TS_OK)) {
                *p++ = TCPOPT_NOP;
                *p++ = TCPOPT_NOP;
            }
            *p++ = TCPOPT_SACK_PERM;
            *p++ = 2;
        } else if (s->tflags & TF_TS_OK) {
            *p++ = TCPOPT_NOP;
            *p++ = TCPOPT_NOP;
        }
        if (s->tflags & TF_TS_OK)
            p = opt_ts(ctx, s, p);
        if (s->tflags & TF_WS_OK) {
            *p++ = TCPOPT_NOP;
            *p++ = TCPOPT_WSCALE;
            *p++ = 3;
            *p++ = s->rcv_wscale;
        }
        return (uint32_t)(p - o);
    }
    if (s->tflags & TF_TS_OK) {
        *p++ = TCPOPT_NOP;
        *p++ = TCPOPT_NOP;
        p = opt_ts(ctx, s, p);
    }
    unsigned used = (unsigned)(p - o);
    unsigned room = 40 - used;
    if (len)
        room = RTE_MIN(room, s->mss > len + used ? s->mss - len - used : 0u);
    if ((s->tflags & TF_SACK_OK) && (flags & RTE_TCP_ACK_FLAG) &&
        !(flags & RTE_TCP_RST_FLAG) && room >= 12)
        p = opt_sack(s, p, room);
    return (uint32_t)(p - o);
}

/* True when the options built by tcp_options hold a SACK option. */
static bool has_sack(const uint8_t *o, uint32_t len)
{
    for (uint32_t i = 0; i < len;) {
        if (o[i] == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (o[i] == TCPOPT_SACK)
            return true;
        if (i + 1 >= len || o[i + 1] < 2)
            return false;
        i += o[i + 1];
    }
    return false;
}

/* ----------------------------------------------------------- zero copy */

#define TS_ZC_MIN 512u        /* smaller pieces are copied: cheaper than an mbuf */
#define TS_TX_MAX_SEGS 8u     /* mbufs a frame may chain (NICs' common minimum) */
#define TS_XPOOL_MBUFS 16383u /* external-buffer mbufs per context */
#define TS_XHOLDS 8191u       /* references with frames in flight per context */

struct ts_xhold {
    struct rte_mbuf_ext_shared_info shinfo;
    struct ts_ref_owner owner;
    struct rte_mempool *pool;
};

int tcp_zc_init(struct ts_ctx *ctx)
{
    static _Atomic unsigned seq;
    if (!(ctx->p.offloads & TS_OFF_TX_MULTISEG))
        return 0;
    unsigned n = atomic_fetch_add(&seq, 1);
    int socket = ctx->p.pool->socket_id;
    char name[RTE_MEMPOOL_NAMESIZE];
    snprintf(name, sizeof(name), "tsx%u", n);
    ctx->xpool = rte_pktmbuf_pool_create(name, TS_XPOOL_MBUFS, 256, 0, 0, socket);
    snprintf(name, sizeof(name), "tsh%u", n);
    ctx->hpool = rte_mempool_create(name, TS_XHOLDS, sizeof(struct ts_xhold), 256, 0,
                                    NULL, NULL, NULL, NULL, socket, 0);
    if (ctx->xpool == NULL || ctx->hpool == NULL) {
        tcp_zc_fini(ctx);
        return -1;
    }
    return 0;
}

void tcp_zc_fini(struct ts_ctx *ctx)
{
    /* frames still pointing at holds (a port not yet stopped) keep the
     * pools: leaked at exit rather than freed under them */
    if (ctx->hpool && rte_mempool_in_use_count(ctx->hpool) != 0)
        return;
    rte_mempool_free(ctx->xpool);
    rte_mempool_free(ctx->hpool);
    ctx->xpool = NULL;
    ctx->hpool = NULL;
}

/* The last mbuf pointing at a reference's bytes is gone, and so is the
 * reference: its owner may have the bytes back. */
static void xhold_free(void *addr, void *opaque)
{
    (void)addr;
    struct ts_xhold *xh = opaque;
    if (xh->owner.release)
        xh->owner.release(xh->owner.arg);
    rte_mempool_put(xh->pool, xh);
}

void tcp_sref_release(struct ts_ctx *ctx, struct ts_sref *r)
{
    (void)ctx;
    if (r->xh) {
        if (rte_mbuf_ext_refcnt_update(&r->xh->shinfo, -1) == 0)
            xhold_free(NULL, r->xh);
        r->xh = NULL;
        return;
    }
    if (r->owner.release)
        r->owner.release(r->owner.arg);
}

/* The device address of @p p when frames may point at it: DPDK memory
 * with IOVA as VA; else RTE_BAD_IOVA (copied). Physical-address mode is
 * copied too: a reference may span pages that are not contiguous. */
static rte_iova_t ref_iova(const uint8_t *p)
{
    if (rte_eal_iova_mode() != RTE_IOVA_VA || rte_mem_virt2memseg_list(p) == NULL)
        return RTE_BAD_IOVA;
    return (rte_iova_t)(uintptr_t)p;
}

/* An mbuf pointing at @p n bytes of @p r from @p off, or NULL (then copy). */
static struct rte_mbuf *ext_mbuf(struct ts_ctx *ctx, struct ts_sref *r, uint32_t off,
                                 uint32_t n)
{
    if (r->xh == NULL) {
        void *obj;
        if (rte_mempool_get(ctx->hpool, &obj) != 0)
            return NULL;
        struct ts_xhold *xh = obj;
        xh->shinfo.free_cb = xhold_free;
        xh->shinfo.fcb_opaque = xh;
        rte_mbuf_ext_refcnt_set(&xh->shinfo, 1); /* the reference's own */
        xh->owner = r->owner;
        xh->pool = ctx->hpool;
        r->owner.release = NULL; /* the hold releases it now */
        r->xh = xh;
    }
    if (rte_mbuf_ext_refcnt_read(&r->xh->shinfo) >= UINT16_MAX - 1)
        return NULL; /* 16-bit refcount: this piece is copied */
    struct rte_mbuf *x = rte_pktmbuf_alloc(ctx->xpool);
    if (x == NULL)
        return NULL;
    /* a plain increment: DPDK's is a locked add once frames are in flight
     * (a fifth of tcp_emit's own time at 1 MB responses). Only this stack
     * thread touches the count: it builds the frames, and its queue's
     * tx_burst frees them (the driver's atomic decrement is then no race) */
    rte_mbuf_ext_refcnt_set(&r->xh->shinfo,
                            (uint16_t)(rte_mbuf_ext_refcnt_read(&r->xh->shinfo) + 1));
    rte_pktmbuf_attach_extbuf(x, (void *)(uintptr_t)(r->p + off), r->iova + off,
                              (uint16_t)n, &r->xh->shinfo);
    x->data_len = (uint16_t)n;
    x->pkt_len = n;
    return x;
}

static void chain_append(struct rte_mbuf *m, struct rte_mbuf **tail, struct rte_mbuf *x)
{
    (*tail)->next = x;
    *tail = x;
    m->nb_segs++;
    m->pkt_len += x->data_len;
}

/* Copies @p n bytes to the end of the chain, in a new mbuf when the last
 * one has no room (or points at a reference). */
static bool chain_copy(struct ts_ctx *ctx, struct rte_mbuf *m, struct rte_mbuf **tail,
                       const uint8_t *src, uint32_t n)
{
    if (RTE_MBUF_HAS_EXTBUF(*tail) || rte_pktmbuf_tailroom(*tail) < n) {
        struct rte_mbuf *d = ts_alloc(ctx);
        if (d == NULL)
            return false;
        chain_append(m, tail, d);
    }
    memcpy(rte_pktmbuf_append(m, (uint16_t)n), src, n);
    ctx->st.tx_bytes_copied += n;
    return true;
}

/* Puts @p len bytes of the send queue from sequence @p seq after what @p m
 * holds: copied, or by reference. Every mbuf but the last ends at an even
 * offset of the TCP segment, so that checksums summed a piece at a time
 * need no byte swapping (some drivers' software offload gets that wrong:
 * DPDK 22.11's net_tap). When @p psum is not NULL, adds the payload's
 * ones'-complement sum to it, from the references' precomputed checksums
 * where they have them. False when out of mbufs. */
static bool snd_payload(struct ts_ctx *ctx, struct ts_sock *s, struct rte_mbuf *m,
                        uint32_t seq, uint32_t len, uint32_t *psum)
{
    struct rte_mbuf *tail = m;
    uint32_t done = 0; /* payload bytes placed; the TCP header is even */
    uint32_t off = seq - s->snd_una + s->una_off;
    for (uint32_t i = 0; len > 0;) {
        struct ts_sref *r = ts_sring_peek(&s->bufs->refs, i);
        TS_ASSERT(r != NULL && i < s->refs_seen);
        if (off >= r->len) {
            off -= r->len;
            i++;
            continue;
        }
        const uint8_t *start = r->p + off;
        uint32_t done0 = done;
        uint32_t n = RTE_MIN(len, r->len - off);
        struct rte_mbuf *x = NULL;
        if (r->iova != RTE_BAD_IOVA && n >= TS_ZC_MIN &&
            m->nb_segs < TS_TX_MAX_SEGS - 2) {
            if (done & 1) { /* one byte copied first: the reference starts even */
                if (!chain_copy(ctx, m, &tail, r->p + off, 1))
                    return false;
                off++, len--, n--, done++;
            }
            if (n < len)
                n &= ~1u; /* ends even, unless it ends the segment */
            x = ext_mbuf(ctx, r, off, n);
        }
        if (x) {
            chain_append(m, &tail, x);
            ctx->st.tx_bytes_ref += n;
        } else if (!chain_copy(ctx, m, &tail, r->p + off, n)) {
            return false;
        }
        off += n;
        len -= n;
        done += n;
        if (psum) { /* a piece at an odd offset of the segment: bytes swapped */
            uint16_t part = ts_csum_range(r->csum, start, done - done0);
            *psum += (done0 & 1) ? rte_bswap16(part) : part;
        }
    }
    return true;
}

void tcp_snd_collect(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->bufs == NULL)
        return;
    struct ts_sref *r;
    while ((r = ts_sring_peek(&s->bufs->refs, s->refs_seen)) != NULL) {
        if (ctx->xpool && !r->copied)
            r->iova = ref_iova(r->p);
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
        tcp_sref_release(ctx, r);
        ts_sring_pop(&b->refs, 1);
        s->refs_seen--;
        s->una_off = 0;
    }
}

/* Builds and sends one segment of @p s: flags, seq, options for a SYN,
 * payload gathered from the send queue. */
static void tcp_emit(struct ts_ctx *ctx, struct ts_sock *s, uint8_t flags, uint32_t seq,
                     uint32_t len)
{
    /* every segment that takes sequence space is recorded, sent or not
     * (an mbuf shortage is a loss like any other) */
    if (tcp_rack_on(s) && (len || (flags & RTE_TCP_FIN_FLAG)) &&
        !(flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)))
        tcp_rec_sent(ctx, s, seq, seq + len + !!(flags & RTE_TCP_FIN_FLAG));
    struct rte_mbuf *m = ts_alloc(ctx);
    if (m == NULL)
        return; /* the retransmission timer recovers */
    uint8_t opts[40];
    uint32_t optlen = tcp_options(ctx, s, flags, len, opts);
    uint32_t hlen = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
                    sizeof(struct rte_tcp_hdr) + optlen;
    uint8_t *base = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)hlen);
    TS_ASSERT(base != NULL);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(base + RTE_ETHER_HDR_LEN);
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    memcpy(th + 1, opts, optlen);
    bool sw_cksum = !(ctx->p.offloads & TS_OFF_TX_TCP_CKSUM);
    uint32_t sum = 0; /* of the payload, when the checksum is ours to make */
    if (len) {
        if (!snd_payload(ctx, s, m, seq, len, sw_cksum ? &sum : NULL)) {
            rte_pktmbuf_free(m);
            return; /* the retransmission timer recovers */
        }
    }

    /* the window of a SYN is never scaled (RFC 7323 2.2); the right edge
     * never moves left (RFC 9293 3.8.6.2.2) */
    bool syn = flags & RTE_TCP_SYN_FLAG;
    uint32_t shift = syn ? 0 : s->rcv_wscale;
    /* a reset for no connection (no buffers) offers no window */
    bool bare_rst = (flags & RTE_TCP_RST_FLAG) && s->bufs == NULL;
    uint32_t space = bare_rst ? 0 : tcp_rcv_window(ctx, s);
    bool keep_edge = !syn && SEQ_LT(s->rcv_nxt + space, s->rcv_adv);
    if (keep_edge)
        space = s->rcv_adv - s->rcv_nxt;
    uint32_t win = space >> shift;
    if (keep_edge && (win << shift) < space)
        win++; /* round up rather than pull the edge back */
    if (win > 65535)
        win = 65535;
    if (syn || SEQ_GT(s->rcv_nxt + (win << shift), s->rcv_adv))
        s->rcv_adv = s->rcv_nxt + (win << shift);
    /* the header's 16-bit words as stored (network order): the checksum is
     * summed from them, not read back (see ts_csum_word32) */
    uint16_t sport = rte_cpu_to_be_16(s->lport), dport = rte_cpu_to_be_16(s->rport);
    uint32_t seq_be = rte_cpu_to_be_32(seq);
    uint32_t ack_be = rte_cpu_to_be_32((flags & RTE_TCP_ACK_FLAG) ? s->rcv_nxt : 0);
    uint8_t doff = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
    uint16_t win_be = rte_cpu_to_be_16((uint16_t)win);
    th->src_port = sport;
    th->dst_port = dport;
    th->sent_seq = seq_be;
    th->recv_ack = ack_be;
    th->data_off = doff;
    th->tcp_flags = flags;
    th->rx_win = win_be;
    th->cksum = 0;
    th->tcp_urp = 0;
    uint16_t l4 = (uint16_t)(sizeof(*th) + optlen + len);
    ts_ipv4_fill(ctx, m, s->laddr, s->raddr, IPPROTO_TCP, l4);
    m->l4_len = (uint8_t)(sizeof(*th) + optlen);
    if (!sw_cksum) {
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
        th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    } else {
        /* the pseudo-header, the header and options (even length), then the
         * payload's sum, which is already in */
        sum += ts_csum_word32(rte_cpu_to_be_32(s->laddr)) +
               ts_csum_word32(rte_cpu_to_be_32(s->raddr)) +
               rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16(l4);
        sum += (uint32_t)sport + dport + ts_csum_word32(seq_be) + ts_csum_word32(ack_be) +
               rte_cpu_to_be_16((uint16_t)(doff << 8 | flags)) + win_be;
        sum += rte_raw_cksum(opts, optlen);
        th->cksum = (uint16_t)~ts_csum_fold(sum);
    }
    if ((s->tflags & TF_DSACK) && !(flags & RTE_TCP_SYN_FLAG) && has_sack(opts, optlen)) {
        s->tflags &= ~TF_DSACK; /* reported once (RFC 2883 4) */
        ctx->st.tcp_dsack_tx++;
    }
    if (flags & RTE_TCP_ACK_FLAG) {
        s->tflags &= ~TF_ACKNOW;
        s->last_ack_sent = s->rcv_nxt;
        if (ts_timer_armed(&s->t_delack))
            ts_timer_cancel(ctx, &s->t_delack);
    }
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
    tmp.laddr = rte_be_to_cpu_32(ip->dst_addr);
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

/* RFC 7661's pipeACK in the form of Linux's tcp_cwnd_validate(): the
 * largest flight of the last window, which congestion control takes to
 * tell a cwnd-limited sender from an application-limited one. The flight an
 * ACK finds is no measure: the ACKs before it in the same burst have drained
 * it, with no output in between to fill it again, and slow start growing on
 * every ACK of a burst then stalled at about 1.4x per round trip. */
static void note_flight(struct ts_sock *s)
{
    uint32_t flight = s->snd_max - s->snd_una;
    if (flight > s->max_flight || SEQ_GEQ(s->snd_una, s->max_flight_seq)) {
        s->max_flight = flight;
        s->max_flight_seq = s->snd_max;
    }
}

/* The device has TS_TX_BACKLOG_HIGH frames to take: @p s sends on at a
 * later poll, queued behind the sockets already waiting, rather than
 * overflow the device's queue (a dropped frame costs a recovery, a wait
 * costs nothing). Checked before every segment, so one socket with a large
 * window cannot fill the queue alone. */
static bool tx_wait(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (!ts_tx_backlogged(ctx))
        return false;
    ctx->st.tx_backlog_waits++;
    ts_sock_want_output(ctx, s);
    return true;
}

/* Pacing (ts_params pacing): the rate, bytes per second; 0 (not paced)
 * when off or before the first RTT sample.
 * NewReno and CUBIC: Linux's rate under fq (tcp_update_pacing_rate), 200%
 * of cwnd per round trip in slow start, 120% after, but per the least RTT
 * seen (RACK.min_RTT; the smoothed one without SACK) where Linux takes the
 * smoothed RTT: the window is spread over the path's own round trip, and a
 * queue (a loaded client, a thousand connections on one port) slows no
 * connection further. Per the smoothed RTT, 1,000 connections over the TAP
 * were served about half as fast as unpaced.
 * BBR: its model's rate, as Linux's BBR sets it: 2.89 (2/ln 2) times the
 * bottleneck bandwidth in STARTUP, else 1.25 times it (PROBE_BW's probing
 * gain: without the gain cycle, cwnd at twice the BDP bounds the queue this
 * builds), and 2.89 times cwnd per RTT before the first bandwidth sample. */
static uint64_t pace_rate(const struct ts_ctx *ctx, const struct ts_sock *s)
{
    if (!ctx->p.pacing || s->srtt_us == 0)
        return 0;
    unsigned pct;
    if (s->cc.algo == TCP_CC_BBR) {
        bool startup = s->cc.bbr.mode == TCP_BBR_STARTUP;
        uint64_t bw = tcp_bbr_max_bw(&s->cc.bbr); /* bytes per ms */
        if (bw)
            return bw * 1000 * (startup ? 289 : 125) / 100;
        pct = 289;
    } else {
        pct = s->cc.cwnd < s->cc.ssthresh ? 200 : 120;
    }
    uint32_t rtt = s->min_rtt_us ? s->min_rtt_us : s->srtt_us;
    return (uint64_t)s->cc.cwnd * pct * 10000 / rtt;
}

/* True when @p s has sent what its pacing @p rate (pace_rate) allows until
 * TS_PACE_BURST_US from now (or two segments' worth, when that is longer):
 * t_pace resumes the output once the next burst may go. */
static bool pace_wait(struct ts_ctx *ctx, struct ts_sock *s, uint64_t rate)
{
    /* the common case first, without a division: within the 1 ms burst */
    if (rate == 0 || s->pace_next_us <= ctx->now + TS_PACE_BURST_US)
        return false;
    uint64_t burst_us = RTE_MAX((uint64_t)TS_PACE_BURST_US,
                                2 * (uint64_t)tcp_seg_size(s) * 1000000 / rate);
    if (s->pace_next_us <= ctx->now + burst_us)
        return false;
    ctx->st.tcp_pacing_waits++;
    if (!ts_timer_armed(&s->t_pace))
        ts_timer_arm(ctx, &s->t_pace, s->pace_next_us - burst_us);
    return true;
}

/* @p len bytes left: the time they take at the pacing @p rate is added to
 * what the connection has sent (from now, if it had fallen behind: idle
 * time earns no burst). */
static void pace_sent(struct ts_ctx *ctx, struct ts_sock *s, uint64_t rate, uint32_t len)
{
    if (rate == 0)
        return;
    s->pace_next_us = RTE_MAX(s->pace_next_us, ctx->now) + (uint64_t)len * 1000000 / rate;
}

/* Loss recovery with SACK: while cwnd (which PRR sets, RFC 6937) leaves
 * room beside the pipe, what RACK marked lost goes first, in sequence
 * order, then new data (RFC 8985 6.2 and RFC 6675 5 (C) with the marks for
 * IsLost). A tail with nothing marked is left to the probe timer. */
static void tcp_output_recovery(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct tcp_rec *r = &s->bufs->rec;
    uint32_t segsz = tcp_seg_size(s);
    bool sent = false;
    /* a tail loss probe in recovery: one new segment past cwnd, whose SACK
     * shows RACK which retransmissions were lost again */
    bool probe = s->tflags & TF_TLP_NEW;
    bool una_rexmit = false;
    s->tflags &= ~TF_TLP_NEW;
    for (unsigned guard = 0; guard < TS_BURST; guard++) {
        uint32_t pipe = tcp_rec_pipe(s);
        uint32_t seq, len;
        bool rexmit = !probe && tcp_rec_next_lost(s, &seq, &len);
        if (!rexmit) {
            /* new data only as far as the peer's window reaches */
            uint32_t data_end = s->snd_end;
            if (SEQ_LT(s->snd_una + s->snd_wnd, data_end))
                data_end = s->snd_una + s->snd_wnd;
            if (!SEQ_LT(s->snd_max, data_end) || tcp_rec_full(s))
                break;
            seq = s->snd_max;
            len = RTE_MIN(data_end - seq, segsz);
        }
        if (!probe && (s->cc.cwnd < pipe + RTE_MIN(len, segsz) || tx_wait(ctx, s)))
            break;
        uint8_t flags = RTE_TCP_ACK_FLAG;
        uint32_t data = len;
        /* the FIN occupies the sequence number after the data */
        if (rexmit && (s->tflags & TF_FIN_SENT) && seq + len == s->snd_end + 1) {
            data = len - 1;
            flags |= RTE_TCP_FIN_FLAG;
        }
        if (data > segsz) { /* a record grown for want of room */
            data = segsz;
            flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
        }
        if (!rexmit && seq + data == s->snd_end)
            flags |= RTE_TCP_PSH_FLAG;
        tcp_emit(ctx, s, flags, seq, data);
        uint32_t took = data + !!(flags & RTE_TCP_FIN_FLAG);
        r->prr_out += took;
        sent = true;
        if (rexmit) {
            ctx->st.tcp_retransmits++;
            una_rexmit |= seq == s->snd_una;
        } else {
            s->snd_max = seq + took;
            s->snd_nxt = s->snd_max;
        }
        if (probe)
            break;
    }
    if (!sent && (s->tflags & TF_ACKNOW))
        tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_max);
    if (sent)
        note_flight(s);
    /* the timer restarts with the oldest segment's repair (as RFC 6298 5.3
     * would on its ACK), once the flight it covers is known: a probe or the
     * RTO after it; new data alone may bring a probe forward */
    if (una_rexmit && !probe)
        tcp_arm_rexmt(ctx, s);
    else if (sent && !probe)
        tcp_sent_new_data(ctx, s);
    if (!ts_timer_armed(&s->t_rexmt))
        tcp_arm_rto(ctx, s);
}

/* Moves @p nxt past SACKed ranges. Returns the new position; *sacked gets
 * the SACKed bytes in [una, position), *hole_end the start of the next
 * SACKed range above it (unchanged when there is none). */
static uint32_t sack_skip(const struct tcp_scoreboard *sb, uint32_t nxt, uint32_t una,
                          uint32_t *sacked, uint32_t *hole_end)
{
    for (unsigned i = 0; i < sb->n; i++) {
        const struct tcp_sack_block *b = &sb->blk[i];
        if (SEQ_LEQ(b->end, nxt)) {
            *sacked += b->end - (SEQ_GT(b->start, una) ? b->start : una);
            continue;
        }
        if (SEQ_LEQ(b->start, nxt)) {
            *sacked += b->end - (SEQ_GT(b->start, una) ? b->start : una);
            nxt = b->end;
            continue;
        }
        *hole_end = b->start;
        break;
    }
    return nxt;
}

/* True when cwnd is weighed against the pipe outside recovery too: with
 * SACK, the segments the peer has not SACKed (RFC 6675 pipe, as Linux's
 * tcp_packets_in_flight counts at all times), unless resending from
 * snd_nxt after a timeout. On a reordering path the segments SACKed past a
 * late one have left the network; counting them held the sender to one
 * window per reordering delay. */
static bool pipe_counts(const struct ts_sock *s)
{
    return tcp_rack_on(s) && s->snd_nxt == s->snd_max;
}

/* What cwnd is weighed against: the pipe when it counts, else @p flight. */
static uint32_t cwnd_flight(const struct ts_sock *s, uint32_t flight)
{
    return pipe_counts(s) ? tcp_rec_pipe(s) : flight;
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
    if ((s->tflags & TF_IN_RECOVERY) && tcp_rack_on(s)) {
        tcp_output_recovery(ctx, s);
        return;
    }
    bool sent = false;
    bool force1 = s->tflags & TF_FORCE1;
    s->tflags &= ~TF_FORCE1;
    struct tcp_scoreboard *sb = (s->tflags & TF_SACK_OK) && s->bufs ? &s->bufs->sb : NULL;
    uint64_t pace = pace_rate(ctx, s); /* cwnd and the RTTs hold still in here */
    for (;;) {
        /* resending after a timeout: what the peer SACKed is not resent */
        uint32_t sacked = 0, hole_end = s->snd_end;
        if (sb && sb->n && SEQ_LT(s->snd_nxt, s->snd_max))
            s->snd_nxt = sack_skip(sb, s->snd_nxt, s->snd_una, &sacked, &hole_end);
        uint32_t avail = SEQ_LT(s->snd_nxt, s->snd_end) ? s->snd_end - s->snd_nxt : 0;
        if (avail == 0 || (s->snd_nxt == s->snd_max && tcp_rec_full(s)))
            break;
        /* RFC 3042 limited transmit: each of the first two duplicate ACKs
         * lets one new segment out, so a small window still gets three
         * (with SACK the pipe already leaves out what each one SACKed) */
        bool by_pipe = pipe_counts(s);
        uint32_t lt =
            (s->tflags & TF_IN_RECOVERY) || by_pipe ? 0 : RTE_MIN(s->dupacks, 2u);
        uint32_t cwnd = s->cc.cwnd + lt * tcp_seg_size(s);
        uint32_t flight = s->snd_nxt - s->snd_una - sacked;
        uint32_t pipe = cwnd_flight(s, flight);
        uint32_t edge = s->snd_una + s->snd_wnd;
        uint32_t usable = RTE_MIN(SEQ_LT(s->snd_nxt, edge) ? edge - s->snd_nxt : 0,
                                  cwnd > pipe ? cwnd - pipe : 0);
        bool probe = false; /* sent even while the device is backlogged */
        if (usable == 0 && force1 && flight == 0) {
            usable = 1; /* zero-window probe (RFC 9293 3.8.6.1) */
            probe = true;
        }
        if (usable < tcp_seg_size(s) && (s->tflags & TF_TLP_NEW) &&
            SEQ_LT(s->snd_nxt + tcp_seg_size(s), s->snd_una + s->snd_wnd + 1)) {
            usable = tcp_seg_size(s); /* the tail loss probe: one new segment */
            s->tflags &= ~TF_TLP_NEW;
            probe = true;
        }
        force1 = false;
        uint32_t segsz = tcp_seg_size(s);
        uint32_t len = RTE_MIN(RTE_MIN(avail, usable), segsz);
        if (SEQ_LT(hole_end, s->snd_nxt + len))
            len = hole_end - s->snd_nxt; /* stop at the next SACKed range */
        if (len == 0)
            break;
        /* sender SWS avoidance: no small segment while more is waiting and
         * something is in flight to bring a window update */
        if (len < segsz && len < avail && flight > 0)
            break;
        if (!probe && (pace_wait(ctx, s, pace) || tx_wait(ctx, s)))
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
        if (SEQ_LT(s->snd_nxt, s->snd_max))
            ctx->st.tcp_retransmits++;
        tcp_emit(ctx, s, flags, s->snd_nxt, len);
        pace_sent(ctx, s, pace, len);
        s->snd_nxt += len + fin;
        if (SEQ_GT(s->snd_nxt, s->snd_max))
            s->snd_max = s->snd_nxt;
        if (fin)
            s->tflags |= TF_FIN_SENT;
        sent = true;
    }
    /* FIN alone, once all data is out */
    if ((s->tflags & TF_FIN_PENDING) && s->snd_nxt == s->snd_end) {
        if (SEQ_LT(s->snd_nxt, s->snd_max))
            ctx->st.tcp_retransmits++;
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
    if (sent)
        note_flight(s);
    /* less than a segment left to send and cwnd to spare: the coming rate
     * samples measure the application (BBR) */
    if (s->snd_end - s->snd_max < tcp_seg_size(s) &&
        cwnd_flight(s, s->snd_max - s->snd_una) < s->cc.cwnd)
        tcp_rate_app_limited(s);
    /* RFC 6298 5.1: the timer runs while anything is outstanding; with data
     * waiting behind a zero window it drives the window probe */
    bool outstanding = s->snd_una != s->snd_max;
    bool blocked = SEQ_LT(s->snd_nxt, s->snd_end) && s->snd_wnd == 0;
    if (sent && outstanding)
        tcp_sent_new_data(ctx, s);
    else if ((outstanding || blocked) && !ts_timer_armed(&s->t_rexmt))
        tcp_arm_rexmt(ctx, s);
}

void tcp_rexmit_tail(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t seq, len;
    if (tcp_rack_on(s) && tcp_rec_probe(s, &seq, &len)) {
        /* the last segment as it was sent (RFC 8985 7.3), so that its SACK
         * covers a record whole; in recovery, or once the tail is SACKed
         * (a probe's ACK that came while the segments below it were still
         * missing; repeating it would draw only a D-SACK), the probe
         * repeats the oldest segment still missing, the likeliest lost */
        uint8_t flags = RTE_TCP_ACK_FLAG;
        if ((s->tflags & TF_FIN_SENT) && seq + len == s->snd_end + 1) {
            len--;
            flags |= RTE_TCP_FIN_FLAG;
        }
        ctx->st.tcp_retransmits++;
        tcp_emit(ctx, s, flags, seq, RTE_MIN(len, tcp_seg_size(s)));
        return;
    }
    bool fin = (s->tflags & TF_FIN_SENT) && s->snd_max == s->snd_end + 1;
    uint32_t data_end = fin ? s->snd_end : s->snd_max;
    len = RTE_MIN(data_end - s->snd_una, tcp_seg_size(s));
    uint8_t flags = RTE_TCP_ACK_FLAG | (fin ? RTE_TCP_FIN_FLAG : 0);
    if (len == 0 && !fin)
        return;
    ctx->st.tcp_retransmits++;
    tcp_emit(ctx, s, flags, data_end - len, len);
}

uint32_t tcp_rexmit_una(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t avail = SEQ_LT(s->snd_una, s->snd_end) ? s->snd_end - s->snd_una : 0;
    uint32_t len = RTE_MIN(avail, tcp_seg_size(s));
    uint8_t flags = RTE_TCP_ACK_FLAG;
    bool fin = (s->tflags & TF_FIN_SENT) && len == avail;
    if (fin)
        flags |= RTE_TCP_FIN_FLAG;
    if (len == 0 && !fin)
        return 0;
    tcp_emit(ctx, s, flags, s->snd_una, len);
    tcp_arm_rto(ctx, s);
    return len + fin;
}
