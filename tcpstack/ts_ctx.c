/**
 * @file ts_ctx.c
 * The per-core stack context: creation (every allocation the context will
 * ever make happens here), the Ethernet layer that demultiplexes received
 * frames, the output batch, and ts_poll(), which runs timers, the worker's
 * commands, deferred TCP output and event publication, in that order.
 */
#include <string.h>
#include <sys/mman.h>

#include <rte_malloc.h>

#include "ts_priv.h"

void ts_params_default(struct ts_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mtu = 1500;
    p->max_flows = 65536;
    p->max_bufs = 4096;
    p->rcvbuf = 16384;
    p->rcvbuf_max = 0; /* fixed unless asked */
    p->rcvbuf_grown = 32;
    p->sndbuf = 262144;
    p->sndbuf_max = 4194304;
    p->snd_copybuf = 8192;
    p->msl_ms = 30000;
    p->max_time_wait = 262144;
    p->fin_timeout_ms = 60000;
    p->max_orphans = 65536;
    p->orphan_retries = 8;
    p->rto_min_ms = 200;
    p->rto_max_ms = 60000;
    p->syn_retries = 5;
    p->data_retries = 12;
    p->opt_wscale = true;
    p->opt_timestamps = true;
    p->opt_sack = true;
    p->gro = true;
    p->delack_ms = 40;
    p->keepalive_ms = 0;
    p->keepalive_intvl_ms = 75000;
    p->keepalive_probes = 9;
    p->cc_algo = TCP_CC_CUBIC;
    p->syncookies = true;
    p->syn_budget = 16;
}

static uint32_t pow2_at_least(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

struct ts_ctx *ts_ctx_create(const struct ts_params *p)
{
    if (p->pool == NULL || p->output == NULL || p->max_flows < 2 || p->max_bufs < 1 ||
        p->rcvbuf < 1024 || p->snd_copybuf < 1024 || p->mtu < 68 ||
        (uint64_t)p->ip + (p->ip_count ? p->ip_count : 1) > UINT32_MAX + 1ull) {
        errno = EINVAL;
        return NULL;
    }
    struct ts_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return NULL;
    ctx->p = *p;
    if (rte_pktmbuf_data_room_size(p->pool) >=
            RTE_PKTMBUF_HEADROOM + 2 * RTE_CACHE_LINE_SIZE &&
        !(rte_pktmbuf_priv_flags(p->pool) & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF))
        ctx->hdr_off = (uint32_t)(sizeof(struct rte_mbuf) +
                                  rte_pktmbuf_priv_size(p->pool) + RTE_PKTMBUF_HEADROOM);
    if (ctx->p.ip_count == 0)
        ctx->p.ip_count = 1;
    /* the flow table's secret: one per context and boot, from the ISN key */
    ctx->flow_key = (uint32_t)ts_siphash(p->isn_key, 0x666c6f77u, p->core_id);
    ctx->p.rcvbuf = pow2_at_least(p->rcvbuf);
    ctx->p.snd_copybuf = pow2_at_least(p->snd_copybuf);
    if (!p->opt_wscale && ctx->p.rcvbuf > 65536) /* 16-bit windows */
        ctx->p.rcvbuf = 65536;
    /* grown receive buffers: powers of two up to rcvbuf_max, from a pool of
     * rcvbuf_grown of them (address space; pages committed as used) */
    if (ctx->p.rcvbuf_max <= ctx->p.rcvbuf || ctx->p.rcvbuf_grown == 0 || !p->opt_wscale)
        ctx->p.rcvbuf_max = ctx->p.rcvbuf;
    else
        ctx->p.rcvbuf_max = pow2_at_least(ctx->p.rcvbuf_max);
    /* RFC 7323 2.3: the smallest shift that lets the window cover the
     * largest receive buffer */
    while (ctx->rcv_wscale < 14 && (ctx->p.rcvbuf_max >> ctx->rcv_wscale) > 65535)
        ctx->rcv_wscale++;
    ctx->arp = p->arp;

    ctx->nsocks = p->max_flows;
    ctx->socks = calloc(ctx->nsocks, sizeof(*ctx->socks));
    ctx->flow_mask = pow2_at_least(p->max_flows) - 1;
    ctx->flow_buckets = malloc(sizeof(int32_t) * (ctx->flow_mask + 1));
    ctx->listeners = malloc(sizeof(int32_t) * 65536);
    ctx->epi = calloc(ctx->nsocks, sizeof(*ctx->epi));
    ctx->bufs = calloc(p->max_bufs, sizeof(*ctx->bufs));
    size_t per = (size_t)ctx->p.rcvbuf + ctx->p.snd_copybuf +
                 TS_REFS_PER_SOCK * sizeof(struct ts_sref) +
                 tcp_rec_bytes(RTE_MAX(ctx->p.sndbuf, ctx->p.sndbuf_max));
    /* address space only: pages are committed as buffer sets are first
     * used (MAP_NORESERVE: a limit of a million connections is not refused
     * for the memory it would take if all were busy at once) */
    ctx->buf_mem_len = (size_t)p->max_bufs * per;
    ctx->buf_mem = mmap(NULL, ctx->buf_mem_len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ctx->buf_mem == MAP_FAILED)
        ctx->buf_mem = NULL;
    int big = tcp_rcvbig_init(ctx);
    /* at most one kick and one close per socket can be queued at once */
    size_t ring_n = pow2_at_least(2 * (p->max_flows < 4096 ? 4096 : p->max_flows));
    void *cmd_slots = calloc(ring_n, sizeof(struct ts_cmd));
    void *ev_slots = calloc(ring_n, sizeof(struct ts_evt));
    if (!ctx->socks || !ctx->epi || !ctx->flow_buckets || !ctx->listeners || !ctx->bufs ||
        !ctx->buf_mem || big != 0 || !cmd_slots || !ev_slots ||
        ts_arp_ctx_init(ctx) != 0 || tcp_tw_init(ctx) != 0 || tcp_peer_init(ctx) != 0 ||
        tcp_zc_init(ctx) != 0) {
        free(cmd_slots);
        free(ev_slots);
        ts_ctx_destroy(ctx);
        errno = ENOMEM;
        return NULL;
    }
    ts_sring_init(&ctx->cmdq, cmd_slots, ring_n, sizeof(struct ts_cmd));
    ts_sring_init(&ctx->evq, ev_slots, ring_n, sizeof(struct ts_evt));

    memset(ctx->flow_buckets, 0xff, sizeof(int32_t) * (ctx->flow_mask + 1));
    memset(ctx->listeners, 0xff, sizeof(int32_t) * 65536);
    /* Sockets and buffer sets are handed out from a high-water mark, then
     * recycled through free lists (last freed, first reused): nothing is
     * touched here, so a context costs the memory of the most connections
     * it has held at once, not of what the limits allow. fd 0 stays unused
     * so that a zeroed field never names a socket. */
    ctx->free_head = -1;
    ctx->socks_hwm = 1;
    ctx->nfree = ctx->nsocks - 1;
    ctx->bufs_free = -1;
    ctx->bufs_hwm = 0;
    ctx->bufs_per = per;
    ctx->ev_head = -1;
    ctx->out_head = -1;
    ctx->out_tail = -1;
    ctx->ep.fd = -1;
    ctx->ep.ready_head = -1;
    ctx->ep.ready_tail = -1;
    atomic_store(&ctx->worker_deadline, UINT64_MAX);
    return ctx;
}

void ts_ctx_destroy(struct ts_ctx *ctx)
{
    if (ctx == NULL)
        return;
    for (uint32_t i = 0; ctx->socks && i < ctx->socks_hwm; i++) {
        struct ts_sock *s = &ctx->socks[i];
        if (s->kind == TS_KIND_FREE)
            continue;
        if (s->bufs)
            ts_sock_release_bufs(ctx, s);
        if (s->acceptq) {
            free(s->acceptq->slots);
            free(s->acceptq);
        }
    }
    for (uint16_t i = 0; i < ctx->ntx; i++)
        rte_pktmbuf_free(ctx->txq[i]);
    ts_idle(ctx);
    ts_arp_ctx_fini(ctx);
    tcp_tw_fini(ctx);
    tcp_peer_fini(ctx);
    tcp_zc_fini(ctx);
    free(ctx->cmdq.slots);
    free(ctx->evq.slots);
    free(ctx->socks);
    free(ctx->epi);
    free(ctx->flow_buckets);
    free(ctx->listeners);
    free(ctx->bufs);
    if (ctx->buf_mem)
        munmap(ctx->buf_mem, ctx->buf_mem_len);
    tcp_rcvbig_fini(ctx);
    free(ctx);
}

#define TS_TXSTASH_AHEAD 4 /* mbufs prefetched ahead of the one handed out */

static inline void prefetch_for_write(const char *p)
{
#if defined(RTE_ARCH_X86)
    /* what GCC emits for __builtin_prefetch(p, 1, 3) only with -mprfchw;
     * CPUs without PREFETCHW run it as a NOP */
    __asm__ volatile("prefetchw %0" : : "m"(*p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/* An mbuf's two lines and the first two of its data room, where the
 * headers go (hdr_off 0: a data room too small for them, not prefetched).
 * A frame's mbuf was last read by the device (or, over shared memory, by the
 * core across) a ring's turn ago; building the frame would otherwise wait
 * for each of those lines in turn. */
static void tx_prefetch(const struct ts_ctx *ctx, const struct rte_mbuf *m)
{
    const char *c = (const char *)m;
    prefetch_for_write(c);
    prefetch_for_write(c + RTE_CACHE_LINE_SIZE);
    if (ctx->hdr_off) {
        prefetch_for_write(c + ctx->hdr_off);
        prefetch_for_write(c + ctx->hdr_off + RTE_CACHE_LINE_SIZE);
    }
}

void ts_idle(struct ts_ctx *ctx)
{
    if (ctx->stash_i < ctx->nstash)
        rte_mempool_put_bulk(ctx->p.pool, (void **)&ctx->stash[ctx->stash_i],
                             ctx->nstash - ctx->stash_i);
    ctx->nstash = ctx->stash_i = 0;
}

struct rte_mbuf *ts_alloc(struct ts_ctx *ctx)
{
    if (ctx->stash_i == ctx->nstash) {
        /* fewer than a batch left: one at a time until the next ts_poll
         * (not a failed bulk get before each) */
        if (ctx->stash_dry ||
            rte_mempool_get_bulk(ctx->p.pool, (void **)ctx->stash, TS_TXSTASH) != 0) {
            ctx->stash_dry = true;
            struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->p.pool);
            if (m == NULL)
                ctx->st.tx_nombuf++;
            return m;
        }
        ctx->nstash = TS_TXSTASH;
        ctx->stash_i = 0;
        for (unsigned i = 0; i < TS_TXSTASH_AHEAD; i++)
            tx_prefetch(ctx, ctx->stash[i]);
    }
    if (ctx->stash_i + TS_TXSTASH_AHEAD < ctx->nstash)
        tx_prefetch(ctx, ctx->stash[ctx->stash_i + TS_TXSTASH_AHEAD]);
    struct rte_mbuf *m = ctx->stash[ctx->stash_i++];
    __rte_mbuf_raw_sanity_check(m); /* what rte_pktmbuf_alloc does after the get */
    rte_pktmbuf_reset(m);
    return m;
}

void ts_emit_flush(struct ts_ctx *ctx)
{
    if (ctx->ntx == 0)
        return;
    ctx->st.tx_frames += ctx->ntx;
    for (uint16_t i = 0; i < ctx->ntx; i++)
        ctx->st.tx_bytes += rte_pktmbuf_pkt_len(ctx->txq[i]);
    ctx->p.output(ctx->p.output_arg, ctx->txq, ctx->ntx);
    ctx->ntx = 0;
}

void ts_emit(struct ts_ctx *ctx, struct rte_mbuf *m)
{
    if (ctx->ntx == TS_BURST)
        ts_emit_flush(ctx);
    ctx->txq[ctx->ntx++] = m;
}

static void ts_frame_input(struct ts_ctx *ctx, struct rte_mbuf *m)
{
    ctx->st.rx_frames++;
    ctx->st.rx_bytes += rte_pktmbuf_pkt_len(m);
    if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
        ctx->st.rx_bad_eth++;
        rte_pktmbuf_free(m);
        return;
    }
    const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    bool to_us = rte_is_same_ether_addr(&eh->dst_addr, &ctx->p.mac) ||
                 rte_is_broadcast_ether_addr(&eh->dst_addr);
    if (!to_us) {
        ctx->st.rx_not_for_us++;
        rte_pktmbuf_free(m);
        return;
    }
    switch (rte_be_to_cpu_16(eh->ether_type)) {
    case RTE_ETHER_TYPE_ARP:
        ts_arp_input(ctx, m);
        break;
    case RTE_ETHER_TYPE_IPV4:
        ts_ipv4_input(ctx, m);
        break;
    default:
        ctx->st.rx_unsupported++;
        rte_pktmbuf_free(m);
        break;
    }
}

/* A glance, before any validation, at whether @p m looks like a TCP SYN
 * without ACK (a connection request): its TCP header, or NULL. The real
 * checks come later, in the layers. */
static const struct rte_tcp_hdr *syn_peek(const struct rte_mbuf *m)
{
    uint32_t len = rte_pktmbuf_data_len(m);
    if (len <
        RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))
        return NULL;
    const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
    if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
        ip->next_proto_id != IPPROTO_TCP)
        return NULL;
    uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    if (ihl < sizeof(*ip) || RTE_ETHER_HDR_LEN + ihl + sizeof(struct rte_tcp_hdr) > len)
        return NULL;
    const struct rte_tcp_hdr *th =
        (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
    if ((th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
        RTE_TCP_SYN_FLAG)
        return NULL;
    return th;
}

/* A SYN past the burst's budget is shed, unless the same SYN (4-tuple and
 * sequence number: a retransmission) was shed before, so that a real
 * client, which sends its SYN again, is answered the second time while a
 * flood of spoofed SYNs, which never repeat, is not. The table remembers
 * keyed hashes, so a flood cannot aim at a client's entry. */
static bool syn_shed(struct ts_ctx *ctx, const struct rte_mbuf *m,
                     const struct rte_tcp_hdr *th)
{
    const struct rte_ipv4_hdr *ip =
        rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
    uint64_t m0 = (uint64_t)ip->src_addr << 32 | th->sent_seq;
    uint64_t m1 = (uint64_t)th->src_port << 16 | th->dst_port;
    uint32_t h = (uint32_t)ts_siphash(ctx->p.isn_key, m0, m1 ^ 0x73796e0000000000ull);
    h |= 1; /* 0 marks an empty slot */
    uint32_t *slot = &ctx->syn_shed[(h >> 1) & (TS_SYN_SHED_SLOTS - 1)];
    if (*slot == h) {
        *slot = 0;
        ctx->st.rx_syn_shed_retried++;
        return false;
    }
    *slot = h;
    ctx->st.rx_syn_shed++;
    return true;
}

/* A burst is taken in two passes: first every frame but connection
 * requests (segments of established flows, ARP, ICMP), then the SYNs. A
 * flood of SYNs thus does not delay the traffic of connections already
 * made. Bursts holding more SYNs than syn_budget mean the receive queue is
 * backed up with them; when TS_SYN_SHED_AFTER such bursts come in a row
 * (the core has fallen behind for good, not for a moment: a queue that
 * would overflow anyway), the SYNs past the budget are shed, so that the
 * work their answers would cost goes to draining the queue, where the
 * segments of established flows wait too. */
void ts_input(struct ts_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint64_t now_us)
{
    struct rte_mbuf *syns[TS_BURST], *rest[TS_BURST];
    const struct rte_tcp_hdr *ths[TS_BURST];
    ctx->now = now_us;
    while (n > 0) {
        uint16_t chunk = n < TS_BURST ? n : TS_BURST, nsyn = 0, nrest = 0;
        for (uint16_t i = 0; i < chunk; i++) {
            const struct rte_tcp_hdr *th = syn_peek(pkts[i]);
            if (th) {
                syns[nsyn] = pkts[i];
                ths[nsyn++] = th;
            } else {
                rest[nrest++] = pkts[i];
            }
        }
        if (ctx->p.gro)
            nrest = ts_gro(ctx, rest, nrest);
        for (uint16_t i = 0; i < nrest; i++)
            ts_frame_input(ctx, rest[i]);
        if (ctx->p.syn_budget && nsyn > ctx->p.syn_budget)
            ctx->syn_over++;
        else
            ctx->syn_over = 0;
        bool shed = ctx->syn_over > TS_SYN_SHED_AFTER;
        for (uint16_t i = 0; i < nsyn; i++) {
            if (shed && i >= ctx->p.syn_budget && syn_shed(ctx, syns[i], ths[i])) {
                ctx->st.rx_frames++;
                ctx->st.rx_bytes += rte_pktmbuf_pkt_len(syns[i]);
                rte_pktmbuf_free(syns[i]);
                continue;
            }
            ts_frame_input(ctx, syns[i]);
        }
        pkts += chunk;
        n = (uint16_t)(n - chunk);
    }
}

void ts_poll(struct ts_ctx *ctx, uint64_t now_us)
{
    ctx->now = now_us;
    ctx->stash_dry = false; /* ts_alloc may take a whole batch again */
    atomic_store_explicit(&ctx->now_pub, now_us, memory_order_relaxed);
    ts_wheel_run(&ctx->wheel, now_us, tcp_timer_fire, ctx);
    tcp_tw_expire(ctx, now_us);
    ts_arp_tick(ctx);
    ts_cmds_run(ctx);
    /* deferred output: each socket touched in this batch sends once, while
     * the device keeps up; the rest stay queued for a later poll */
    while (ctx->out_head >= 0) {
        if (ts_tx_backlogged(ctx)) {
            ctx->st.tx_backlog_waits++;
            break;
        }
        struct ts_sock *s = &ctx->socks[ctx->out_head];
        ctx->out_head = s->out_next;
        if (ctx->out_head < 0)
            ctx->out_tail = -1;
        s->tflags &= ~TF_OUT_QUEUED;
        tcp_output(ctx, s);
        tcp_bufs_maybe_release(ctx, s);
        ts_sock_maybe_free(ctx, s);
    }
    ts_events_publish(ctx);
    ts_emit_flush(ctx);
}

bool ts_tx_backlogged(const struct ts_ctx *ctx)
{
    return ctx->p.tx_backlog &&
           ctx->p.tx_backlog(ctx->p.output_arg) + ctx->ntx >= TS_TX_BACKLOG_HIGH;
}

void ts_sock_want_output(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->tflags & TF_OUT_QUEUED)
        return;
    /* first in, first out: output that waited for the device goes before
     * sockets queued after it, so none waits for long */
    s->tflags |= TF_OUT_QUEUED;
    s->out_next = -1;
    if (ctx->out_tail >= 0)
        ctx->socks[ctx->out_tail].out_next = ts_fd(ctx, s);
    else
        ctx->out_head = ts_fd(ctx, s);
    ctx->out_tail = ts_fd(ctx, s);
}

void ts_ctx_stats(const struct ts_ctx *ctx, struct ts_stats *st)
{
    *st = ctx->st;
    st->socks_in_use = ctx->nsocks - 1 - ctx->nfree;
    st->bufs_in_use = ctx->bufs_used;
    st->rcvbuf_grown_in_use = ctx->rbig_used;
    st->tw_in_use = tcp_tw_count(ctx);
    st->orphans_in_use = ctx->n_orphans;
}
