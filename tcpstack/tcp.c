/**
 * @file tcp.c
 * TCP connection life: socket and buffer allocation, the flow table, initial
 * sequence numbers, state changes, abort and TIME_WAIT, and the moment a
 * socket is freed (when both the worker and TCP are done with it).
 *
 * The receive path is in tcp_in.c, the send path in tcp_out.c, timers in
 * tcp_timer.c, the application calls in ts_socket.c.
 */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "ts_priv.h"

/* ------------------------------------------------------------ sockets */

struct ts_sock *ts_sock_alloc(struct ts_ctx *ctx, uint8_t kind)
{
    struct ts_sock *s;
    if (ctx->free_head >= 0) {
        s = &ctx->socks[ctx->free_head];
        ctx->free_head = s->hnext;
    } else if (ctx->socks_hwm < ctx->nsocks) {
        s = &ctx->socks[ctx->socks_hwm++];
    } else {
        return NULL;
    }
    ctx->nfree--;
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->state = TCPS_CLOSED;
    s->hnext = -1;
    s->listener = -1;
    s->ev_next = -1;
    s->out_next = -1;
    return s;
}

void ts_sock_free(struct ts_ctx *ctx, struct ts_sock *s)
{
    TS_ASSERT(!(s->tflags & (TF_EV_QUEUED | TF_OUT_QUEUED)));
    if (s->tflags & TF_ORPHAN)
        ctx->n_orphans--;
    tcp_peer_save(ctx, s);
    tcp_cancel_timers(ctx, s);
    if (s->tflags & TF_HASHED)
        ts_flow_remove(ctx, s);
    if (s->bufs)
        ts_sock_release_bufs(ctx, s);
    if (s->acceptq) {
        free(s->acceptq->slots);
        free(s->acceptq);
    }
    s->kind = TS_KIND_FREE;
    s->hnext = ctx->free_head;
    ctx->free_head = ts_fd(ctx, s);
    ctx->nfree++;
}

static void rcvbuf_grow(struct ts_ctx *ctx, struct ts_sock *s, bool again);

int ts_sock_attach_bufs(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct ts_bufs *b;
    if (ctx->bufs_free >= 0) {
        b = &ctx->bufs[ctx->bufs_free];
        ctx->bufs_free = b->next_free;
    } else if (ctx->bufs_hwm < ctx->p.max_bufs) {
        b = &ctx->bufs[ctx->bufs_hwm];
        uint8_t *mem = ctx->buf_mem + ctx->bufs_per * ctx->bufs_hwm++;
        b->rx_home = mem;
        b->sndcopy.buf = mem + ctx->p.rcvbuf;
        b->sndcopy.mask = ctx->p.snd_copybuf - 1;
        b->refs.slots = mem + ctx->p.rcvbuf + ctx->p.snd_copybuf;
        b->refs.elt = sizeof(struct ts_sref);
        b->rec.seg = (struct tcp_txseg *)(b->refs.slots +
                                          TS_REFS_PER_SOCK * sizeof(struct ts_sref));
        b->rec.mask = tcp_rec_slots(RTE_MAX(ctx->p.sndbuf, ctx->p.sndbuf_max)) - 1;
        b->rec.live = (uint64_t *)(b->rec.seg + b->rec.mask + 1);
    } else {
        return -ENOBUFS;
    }
    ctx->bufs_used++;
    ts_bring_init(&b->rx, b->rx_home, ctx->p.rcvbuf);
    b->rx_big = -1;
    b->rx_want = 0;
    s->bufs = b;
    /* a window advertised from a grown ring before the buffers went back
     * (idle) still stands (its edge never moves left): a grown ring again */
    uint32_t edge = s->rcv_adv - s->rcv_nxt;
    if (ctx->p.rcvbuf_max > ctx->p.rcvbuf && edge > ctx->p.rcvbuf &&
        edge <= ctx->p.rcvbuf_max) {
        b->rx_want = ctx->p.rcvbuf;
        while (b->rx_want < edge)
            b->rx_want <<= 1;
        rcvbuf_grow(ctx, s, true);
    }
    ts_bring_init(&b->sndcopy, b->sndcopy.buf, b->sndcopy.mask + 1);
    ts_sring_init(&b->refs, b->refs.slots, TS_REFS_PER_SOCK, sizeof(struct ts_sref));
    tcp_sb_reset(&b->sb);
    struct tcp_txseg *seg = b->rec.seg;
    uint64_t *live = b->rec.live;
    uint32_t mask = b->rec.mask;
    memset(&b->rec, 0, offsetof(struct tcp_rec, rxt_hist)); /* see rxt_hist_n */
    b->rec.seg = seg;
    b->rec.live = live;
    b->rec.mask = mask;
    memset(live, 0, (mask + 1) / 8);
    b->rec.fack = s->snd_una;
    if ((s->tflags & TF_FIN_SENT) && SEQ_LT(s->snd_una, s->snd_max)) {
        /* a FIN sent while the connection held no buffers (nothing else
         * is ever in flight then) has a record too, so that RACK and the
         * recovery output send it again; when it left is not known, so no
         * RTT sample is taken from it */
        b->rec.seg[0] = (struct tcp_txseg){.start = s->snd_una,
                                           .end = s->snd_max,
                                           .xmit_us = (uint32_t)ctx->now,
                                           .flags = TXS_EVER_RETRANS};
        b->rec.n = 1;
        live[0] = 1;
    }
    s->bufs = b;
    return 0;
}

void ts_sock_release_bufs(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct ts_bufs *b = s->bufs;
    /* references still queued are owned by us until released */
    struct ts_sref *r;
    while ((r = ts_sring_peek(&b->refs, 0)) != NULL) {
        tcp_sref_release(ctx, r);
        ts_sring_pop(&b->refs, 1);
    }
    if (b->rx_big >= 0) { /* the grown ring goes back to the pool */
        ctx->rbig_next[b->rx_big] = ctx->rbig_free;
        ctx->rbig_free = b->rx_big;
        ctx->rbig_used--;
        b->rx_big = -1;
    }
    b->next_free = ctx->bufs_free;
    ctx->bufs_free = (int32_t)(b - ctx->bufs);
    ctx->bufs_used--;
    s->bufs = NULL;
}

/* ------------------------------------------- receive buffer autotuning */

int tcp_rcvbig_init(struct ts_ctx *ctx)
{
    ctx->rbig_free = -1;
    if (ctx->p.rcvbuf_max <= ctx->p.rcvbuf)
        return 0;
    size_t len = (size_t)ctx->p.rcvbuf_grown * ctx->p.rcvbuf_max;
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ctx->rbig_next = malloc(sizeof(int32_t) * ctx->p.rcvbuf_grown);
    if (mem == MAP_FAILED || ctx->rbig_next == NULL) {
        if (mem != MAP_FAILED)
            munmap(mem, len);
        free(ctx->rbig_next);
        ctx->rbig_next = NULL;
        return -1;
    }
    ctx->rbig_mem = mem;
    for (uint32_t i = ctx->p.rcvbuf_grown; i-- > 0;) {
        ctx->rbig_next[i] = ctx->rbig_free;
        ctx->rbig_free = (int32_t)i;
    }
    return 0;
}

void tcp_rcvbig_fini(struct ts_ctx *ctx)
{
    if (ctx->rbig_mem)
        munmap(ctx->rbig_mem, (size_t)ctx->p.rcvbuf_grown * ctx->p.rcvbuf_max);
    free(ctx->rbig_next);
    ctx->rbig_mem = NULL;
    ctx->rbig_next = NULL;
}

/* Moves the (empty) receive ring to rx_want bytes: the connection's grown
 * ring, taken from the pool the first time. */
static void rcvbuf_grow(struct ts_ctx *ctx, struct ts_sock *s, bool again)
{
    struct ts_bufs *b = s->bufs;
    if (ts_bring_used(&b->rx) != 0 || s->n_ooo != 0 || (s->tflags & TF_FIN_OOO))
        return; /* only an empty ring moves: the worker reads it meanwhile */
    if (b->rx_big < 0) {
        if (ctx->rbig_free < 0)
            return; /* the budget is spent: the ring stays as it is */
        b->rx_big = ctx->rbig_free;
        ctx->rbig_free = ctx->rbig_next[b->rx_big];
        ctx->rbig_used++;
    }
    ts_bring_move(&b->rx, ctx->rbig_mem + (size_t)b->rx_big * ctx->p.rcvbuf_max,
                  b->rx_want);
    b->rx_want = 0;
    if (!again)
        ctx->st.tcp_rcvbuf_grows++;
}

void tcp_rcvbuf_autotune(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg)
{
    struct ts_bufs *b = s->bufs;
    if (b == NULL || ctx->p.rcvbuf_max <= ctx->p.rcvbuf)
        return;
    /* the receiver's RTT: what the peer's data echoes of our timestamps
     * (Linux's tcp_rcv_rtt_measure_ts), else the sender's SRTT; below two
     * ticks the echo cannot tell, and SRTT stands for it, at least 1 ms
     * (Linux's floor for a timestamp's measure) */
    if (seg && seg->len && (s->tflags & TF_TS_OK) && seg->has_ts && seg->tsecr != 0) {
        uint32_t ticks = tcp_ts_now(ctx) - seg->tsecr;
        if (ticks < 10000000 / TCP_TS_TICK_US) {
            uint32_t r = ticks >= 2 ? ticks * TCP_TS_TICK_US : RTE_MAX(s->srtt_us, 1000u);
            s->rcv_rtt_us = s->rcv_rtt_us ? (7 * s->rcv_rtt_us + r) / 8 : r;
        }
    }
    uint32_t rtt = s->rcv_rtt_us ? s->rcv_rtt_us : s->srtt_us;
    if (rtt == 0)
        return;
    uint32_t now = (uint32_t)ctx->now;
    if (s->rcv_epoch_us == 0) {
        s->rcv_epoch_us = now ? now : 1;
        s->rcv_epoch_seq = s->rcv_nxt;
    } else if (now - s->rcv_epoch_us >= rtt) {
        /* Linux's dynamic right-sizing: room for twice what came in the
         * last round trip, so the sender can keep growing */
        uint64_t need = 2ull * (s->rcv_nxt - s->rcv_epoch_seq);
        uint32_t size = ts_bring_mask(&b->rx) + 1;
        if (need > size && size < ctx->p.rcvbuf_max) {
            uint32_t want = size;
            while (want < need && want < ctx->p.rcvbuf_max)
                want <<= 1;
            if (want > b->rx_want)
                b->rx_want = want;
        }
        s->rcv_epoch_us = now ? now : 1;
        s->rcv_epoch_seq = s->rcv_nxt;
    }
    if (b->rx_want > ts_bring_mask(&b->rx) + 1)
        rcvbuf_grow(ctx, s, false);
}

void tcp_bufs_maybe_release(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct ts_bufs *b = s->bufs;
    if (b == NULL || s->kind != TS_KIND_TCP || s->state == TCPS_SYN_SENT ||
        s->state == TCPS_CLOSED)
        return;
    /* idle: nothing to read, nothing unacknowledged or queued to send,
     * nothing held out of order, no bytes still to come that the reader
     * has promised to take unread (the promise lives in the ring) */
    if (ts_bring_used(&b->rx) != 0 || ts_sring_count(&b->refs) != 0 || s->n_ooo != 0 ||
        s->snd_una != s->snd_max || (s->tflags & (TF_IN_RECOVERY | TF_FIN_OOO)) ||
        ts_bring_unread_ahead(&b->rx) != 0)
        return;
    TS_ASSERT(s->refs_seen == 0 && s->una_off == 0);
    /* the D-SACKs that may show the last recovery spurious come after its
     * end: its undo state is kept a while (two round trips, the RACK
     * timer's job), then the buffers go */
    if (b->rec.undo_on) {
        if (!ts_timer_armed(&s->t_reo))
            ts_timer_arm(ctx, &s->t_reo,
                         ctx->now +
                             RTE_MAX(2ull * s->srtt_us, (uint64_t)TCP_UNDO_HOLD_US));
        return;
    }
    ts_sock_release_bufs(ctx, s);
    ctx->st.tcp_bufs_idle_releases++;
}

void ts_sock_maybe_free(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->kind != TS_KIND_TCP || (s->tflags & (TF_EV_QUEUED | TF_OUT_QUEUED)))
        return;
    bool app_done = (s->tflags & TF_APP_CLOSED) ||
                    (s->listener >= 0 && !(s->tflags & TF_ACCEPT_QUEUED));
    if (!app_done)
        return;
    if (s->state == TCPS_CLOSED || s->state == TCPS_LISTEN) {
        if (s->listener >= 0 && !(s->tflags & TF_ACCEPT_QUEUED)) {
            struct ts_sock *l = &ctx->socks[s->listener];
            if (l->n_pending)
                l->n_pending--;
        }
        ts_sock_free(ctx, s);
        return;
    }
}

/* --------------------------------------------------------- flow table */

/* Bob Jenkins' lookup3 final mix of the 4-tuple under the context's secret,
 * as Linux's inet_ehashfn does with jhash: a peer that does not know the
 * secret cannot tell which 4-tuples share a bucket, so it cannot aim many
 * at one, and chains stay short (O(1) lookups) up to max_flows. */
#define ROL32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

static uint32_t flow_hash(const struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                          uint16_t rport, uint16_t lport)
{
    uint32_t a = laddr + ctx->flow_key;
    uint32_t b = raddr + ctx->flow_key;
    uint32_t c = ((uint32_t)rport << 16 | lport) + ctx->flow_key + 0xdeadbeefu;
    c ^= b;
    c -= ROL32(b, 14);
    a ^= c;
    a -= ROL32(c, 11);
    b ^= a;
    b -= ROL32(a, 25);
    c ^= b;
    c -= ROL32(b, 16);
    a ^= c;
    a -= ROL32(c, 4);
    b ^= a;
    b -= ROL32(a, 14);
    c ^= b;
    c -= ROL32(b, 24);
    return c;
}

struct ts_sock *ts_flow_lookup(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                               uint16_t rport, uint16_t lport)
{
    int32_t i =
        ctx->flow_buckets[flow_hash(ctx, laddr, raddr, rport, lport) & ctx->flow_mask];
    while (i >= 0) {
        struct ts_sock *s = &ctx->socks[i];
        if (s->raddr == raddr && s->rport == rport && s->lport == lport &&
            s->laddr == laddr)
            return s;
        i = s->hnext;
    }
    return NULL;
}

void ts_flow_insert(struct ts_ctx *ctx, struct ts_sock *s)
{
    int32_t *b =
        &ctx->flow_buckets[flow_hash(ctx, s->laddr, s->raddr, s->rport, s->lport) &
                           ctx->flow_mask];
    s->hnext = *b;
    *b = ts_fd(ctx, s);
    s->tflags |= TF_HASHED;
    if (ctx->p.flowmap)
        ts_flowmap_update(ctx->p.flowmap, ctx->p.core_id, s, true);
}

void ts_flow_remove(struct ts_ctx *ctx, struct ts_sock *s)
{
    int32_t *p =
        &ctx->flow_buckets[flow_hash(ctx, s->laddr, s->raddr, s->rport, s->lport) &
                           ctx->flow_mask];
    int32_t me = ts_fd(ctx, s);
    while (*p >= 0) {
        if (*p == me) {
            *p = s->hnext;
            s->hnext = -1;
            s->tflags &= ~TF_HASHED;
            if (ctx->p.flowmap)
                ts_flowmap_update(ctx->p.flowmap, ctx->p.core_id, s, false);
            return;
        }
        p = &ctx->socks[*p].hnext;
    }
    TS_ASSERT(!"hashed socket missing from its bucket");
}

/* ----------------------------------------- initial sequence numbers */

/* SipHash-2-4 of the connection's 4-tuple under the context's secret:
 * RFC 6528's F(), so that sequence numbers of distinct connections
 * cannot be predicted from one another. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                         \
    do {                                                                                 \
        v0 += v1;                                                                        \
        v1 = ROTL(v1, 13);                                                               \
        v1 ^= v0;                                                                        \
        v0 = ROTL(v0, 32);                                                               \
        v2 += v3;                                                                        \
        v3 = ROTL(v3, 16);                                                               \
        v3 ^= v2;                                                                        \
        v0 += v3;                                                                        \
        v3 = ROTL(v3, 21);                                                               \
        v3 ^= v0;                                                                        \
        v2 += v1;                                                                        \
        v1 = ROTL(v1, 17);                                                               \
        v1 ^= v2;                                                                        \
        v2 = ROTL(v2, 32);                                                               \
    } while (0)

uint64_t ts_siphash(const uint32_t key[4], uint64_t m0, uint64_t m1)
{
    uint64_t k0 = (uint64_t)key[0] | (uint64_t)key[1] << 32;
    uint64_t k1 = (uint64_t)key[2] | (uint64_t)key[3] << 32;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    uint64_t msg[3] = {m0, m1, (uint64_t)16 << 56};
    for (int i = 0; i < 3; i++) {
        v3 ^= msg[i];
        SIPROUND;
        SIPROUND;
        v0 ^= msg[i];
    }
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp_isn(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                 uint16_t lport)
{
    uint64_t m0 = (uint64_t)raddr << 32 | laddr;
    uint64_t m1 = (uint64_t)rport << 16 | lport;
    /* M: a clock ticking every 4 microseconds (RFC 6528 section 3) */
    return (uint32_t)ts_siphash(ctx->p.isn_key, m0, m1) + (uint32_t)(ctx->now / 4);
}

/* ----------------------------------------------------------- state */

void tcp_set_state(struct ts_ctx *ctx, struct ts_sock *s, enum tcp_state st)
{
    (void)ctx;
    s->state = (uint8_t)st;
}

uint32_t tcp_rcv_window(const struct ts_ctx *ctx, const struct ts_sock *s)
{
    /* without buffers (half-open, or idle) the whole buffer is on offer:
     * it is taken from the pool when data arrives */
    uint32_t w = s->bufs ? ts_bring_free(&s->bufs->rx) : ctx->p.rcvbuf;
    uint32_t max = 65535u << s->rcv_wscale;
    return w > max ? max : w;
}

uint32_t tcp_mss_max(const struct ts_ctx *ctx)
{
    uint32_t room =
        rte_pktmbuf_data_room_size(ctx->p.pool) - RTE_PKTMBUF_HEADROOM - TS_HDR_ROOM;
    return RTE_MIN((uint32_t)ctx->p.mtu - 40, room);
}

uint32_t tcp_seg_size(const struct ts_sock *s)
{
    /* never 0: callers divide by it (the MSS is at least TCP_MIN_MSS once
     * agreed; before, a socket's MSS may still be 0) */
    uint32_t opt = (s->tflags & TF_TS_OK) ? 12u : 0u;
    return s->mss > opt ? s->mss - opt : 1u;
}

void tcp_cancel_timers(struct ts_ctx *ctx, struct ts_sock *s)
{
    ts_timer_cancel(ctx, &s->t_rexmt);
    ts_timer_cancel(ctx, &s->t_delack);
    ts_timer_cancel(ctx, &s->t_keep);
    ts_timer_cancel(ctx, &s->t_reo);
    ts_timer_cancel(ctx, &s->t_pace);
}

void tcp_drop(struct ts_ctx *ctx, struct ts_sock *s, int err)
{
    tcp_cancel_timers(ctx, s);
    atomic_store_explicit(&s->so_error, err, memory_order_relaxed);
    ts_sflags_set(s, TS_SF_RESET | TS_SF_RDCLOSED | TS_SF_WRDONE);
    tcp_set_state(ctx, s, TCPS_CLOSED);
    if (s->tflags & TF_HASHED)
        ts_flow_remove(ctx, s);
    ts_sock_event(ctx, s, TS_EPOLLERR | TS_EPOLLHUP | TS_EPOLLIN | TS_EPOLLRDHUP);
}

void tcp_enter_time_wait(struct ts_ctx *ctx, struct ts_sock *s)
{
    tcp_tw_enter(ctx, s);
}

/* ----------------------------------------------------------- orphans */

void tcp_orphan(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->kind != TS_KIND_TCP || s->state == TCPS_CLOSED || s->state == TCPS_LISTEN ||
        (s->tflags & TF_ORPHAN))
        return;
    if (ctx->n_orphans >= ctx->p.max_orphans) {
        /* as Linux does with too many orphans: reset rather than hold */
        ctx->st.tcp_orphan_overflow++;
        ctx->st.tcp_rst_tx++;
        tcp_send_ctl(ctx, s, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, s->snd_nxt);
        tcp_drop(ctx, s, ECONNABORTED);
        return;
    }
    s->tflags |= TF_ORPHAN;
    ctx->n_orphans++;
    if (s->state == TCPS_FIN_WAIT_2)
        tcp_fin_wait_2(ctx, s);
}

void tcp_fin_wait_2(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->tflags & TF_ORPHAN)
        ts_timer_arm(ctx, &s->t_keep, ctx->now + (uint64_t)ctx->p.fin_timeout_ms * 1000);
}

uint32_t tcp_retries(const struct ts_ctx *ctx, const struct ts_sock *s)
{
    if (s->state == TCPS_SYN_RCVD || s->state == TCPS_SYN_SENT)
        return ctx->p.syn_retries;
    if (s->tflags & TF_ORPHAN)
        return RTE_MIN(ctx->p.data_retries, ctx->p.orphan_retries);
    return ctx->p.data_retries;
}

/* ------------------------------------------------------- active open */

#define EPHEMERAL_LO 32768u
#define EPHEMERAL_HI 60999u

/* A local port free for talking from laddr to raddr:rport (not listening,
 * no flow). */
static uint16_t ephemeral_port(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                               uint16_t rport)
{
    uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (uint32_t i = 0; i < span; i++) {
        uint16_t p = (uint16_t)(EPHEMERAL_LO + (ctx->next_eport + i) % span);
        if (ctx->listeners[p] < 0 &&
            ts_flow_lookup(ctx, laddr, raddr, rport, p) == NULL) {
            ctx->next_eport = (uint16_t)((ctx->next_eport + i + 1) % span);
            return p;
        }
    }
    return 0;
}

int tcp_connect(struct ts_ctx *ctx, struct ts_sock *s, uint32_t raddr, uint16_t rport)
{
    if (s->kind != TS_KIND_TCP)
        return -ENOTSOCK;
    if (s->state != TCPS_CLOSED)
        return s->state == TCPS_LISTEN ? -EINVAL : -EISCONN;
    if (raddr == 0 || rport == 0)
        return -EINVAL;
    /* the bound address, else the next of ours in turn */
    uint32_t laddr = s->laddr;
    if (laddr == 0) {
        laddr = ctx->p.ip + ctx->next_laddr;
        ctx->next_laddr = ctx->next_laddr + 1 < ctx->p.ip_count ? ctx->next_laddr + 1 : 0;
    }
    uint16_t lport = s->lport;
    if (lport == 0)
        lport = ephemeral_port(ctx, laddr, raddr, rport);
    else if (ts_flow_lookup(ctx, laddr, raddr, rport, lport))
        return -EADDRINUSE;
    if (lport == 0)
        return -EADDRNOTAVAIL;
    if (ts_sock_attach_bufs(ctx, s) != 0)
        return -ENOBUFS;
    s->laddr = laddr;
    s->raddr = raddr;
    s->rport = rport;
    s->lport = lport;
    s->iss = tcp_isn(ctx, laddr, raddr, rport, lport);
    s->snd_una = s->iss;
    s->snd_nxt = s->iss + 1;
    s->snd_max = s->iss + 1;
    s->snd_end = s->iss + 1;
    s->rto_us = 1000000; /* RFC 6298 2.1 */
    s->mss = (uint16_t)tcp_mss_max(ctx);
    /* offer every option we do; the SYN-ACK says which the peer takes */
    if (ctx->p.opt_wscale) {
        s->tflags |= TF_WS_OK;
        s->rcv_wscale = ctx->rcv_wscale;
    }
    if (ctx->p.opt_timestamps)
        s->tflags |= TF_TS_OK;
    if (ctx->p.opt_sack)
        s->tflags |= TF_SACK_OK;
    tcp_cc_init(&s->cc, (enum tcp_cc_algo)ctx->p.cc_algo, tcp_seg_size(s),
                10 * tcp_seg_size(s));
    tcp_set_state(ctx, s, TCPS_SYN_SENT);
    ts_flow_insert(ctx, s);
    ctx->st.tcp_active++;
    s->tflags |= TF_RTT_TIMING;
    s->rtt_seq = s->iss;
    s->rtt_start_us = ctx->now;
    s->last_rx_us = ctx->now;
    tcp_send_ctl(ctx, s, RTE_TCP_SYN_FLAG, s->iss);
    tcp_arm_rto(ctx, s);
    return 0;
}
