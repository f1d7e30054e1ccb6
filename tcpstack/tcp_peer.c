/**
 * @file tcp_peer.c
 * What a connection learned of its path, kept for the next connection to the
 * same peer address (as Linux's tcp_metrics and FreeBSD's host cache).
 *
 * Only the reordering measured (reo_learn in tcp_rack.c) is kept. A path
 * that holds segments back by more than a round trip makes every new
 * connection resend each late segment sent before the first D-SACK comes
 * back, since nothing earlier tells a late segment from a lost one (RFC 8985
 * 6.2: no reordering window before reordering was seen). A connection that
 * starts with the extent its predecessor measured waits for them instead.
 *
 * One small table per context, direct-mapped by a keyed hash of the
 * address, allocated at start: a new peer takes the slot over. An entry
 * holds for TCP_PEER_TTL_US after the last connection that measured
 * reordering itself; a connection that started from it and measured none
 * does not renew it, and one whose window fell back (reo_wnd_persist spent
 * with no reordering) clears it.
 */
#include <stdlib.h>

#include "ts_priv.h"

#define TCP_PEER_SLOTS 1024                    /* a power of two */
#define TCP_PEER_TTL_US (600ull * 1000 * 1000) /* 10 minutes */

struct tcp_peer {
    uint32_t raddr;         /* host byte order; 0: empty */
    uint32_t reo_extent_us; /* the reordering a connection measured */
    uint64_t stamp_us;      /* when it ended */
};

int tcp_peer_init(struct ts_ctx *ctx)
{
    ctx->peers = calloc(TCP_PEER_SLOTS, sizeof(*ctx->peers));
    return ctx->peers ? 0 : -1;
}

void tcp_peer_fini(struct ts_ctx *ctx)
{
    free(ctx->peers);
    ctx->peers = NULL;
}

static struct tcp_peer *peer_slot(const struct ts_ctx *ctx, uint32_t raddr)
{
    /* keyed, with a domain of its own: a peer cannot pick whose slot it
     * takes over (tcp_isn and the TIME_WAIT hash use the same key) */
    uint64_t h = ts_siphash(ctx->p.isn_key, raddr, (uint64_t)0x70656572u << 32);
    return &ctx->peers[h & (TCP_PEER_SLOTS - 1)];
}

void tcp_peer_seed(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (!(s->tflags & TF_SACK_OK))
        return; /* no RACK: nothing would use it */
    struct tcp_peer *e = peer_slot(ctx, s->raddr);
    if (e->raddr != s->raddr || e->reo_extent_us == 0)
        return;
    if (ctx->now - e->stamp_us > TCP_PEER_TTL_US) {
        e->raddr = 0;
        return;
    }
    s->tflags |= TF_REORDER | TF_REO_SEEDED;
    s->reo_extent_us = e->reo_extent_us;
    s->reo_wnd_persist = RACK_REO_PERSIST;
    ctx->st.tcp_reo_seeded++;
}

void tcp_peer_save(struct ts_ctx *ctx, const struct ts_sock *s)
{
    if (!(s->tflags & (TF_REO_SEEDED | TF_REO_LEARNED)))
        return;
    struct tcp_peer *e = peer_slot(ctx, s->raddr);
    if (s->reo_extent_us == 0) { /* the window fell back: none kept */
        if (e->raddr == s->raddr)
            e->raddr = 0;
        return;
    }
    if (!(s->tflags & TF_REO_LEARNED))
        return; /* taken from the entry and measured nothing: left to age */
    *e = (struct tcp_peer){
        .raddr = s->raddr, .reo_extent_us = s->reo_extent_us, .stamp_us = ctx->now};
}
