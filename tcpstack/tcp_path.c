/**
 * @file tcp_path.c
 * What a connection learned of its path, for the next connection to the
 * same peer (RFC 9040 temporal sharing, as Linux's tcp_metrics keeps a
 * peer's reordering): the reordering RACK measured (reo_learn). A path that
 * holds segments back by milliseconds shows it only once a late segment
 * arrives; until then every connection to it sends the late ones again
 * (at 25% reordering by 5 ms, a hundred or more per 10 MB). A browser's
 * next connections, and a client's next download, start knowing.
 *
 * One direct-mapped table per context, by peer address under the flow
 * secret: fixed memory, touched once when a connection opens and once when
 * its socket is freed, never per segment. An entry lasts an hour after the
 * last connection that measured the reordering (Linux's
 * TCP_METRICS_TIMEOUT), and goes as soon as a connection that started with
 * it saw its window fall back (RACK_REO_PERSIST recoveries without
 * reordering).
 */
#include "ts_priv.h"

#define TCP_PATH_TTL_S 3600u

static struct tcp_path *path_slot(struct ts_ctx *ctx, uint32_t raddr)
{
    uint32_t h = (raddr ^ ctx->flow_key) * 0x9e3779b1u;
    return &ctx->paths[h >> (32 - TCP_PATH_BITS)];
}

static uint32_t now_s(const struct ts_ctx *ctx)
{
    return (uint32_t)(ctx->now / 1000000);
}

void tcp_path_recall(struct ts_ctx *ctx, struct ts_sock *s)
{
    const struct tcp_path *p = path_slot(ctx, s->raddr);
    if (p->raddr != s->raddr || p->reo_extent_us == 0 ||
        now_s(ctx) - p->stamp_s > TCP_PATH_TTL_S)
        return;
    s->tflags |= TF_REORDER | TF_REO_RECALLED;
    s->reo_extent_us = p->reo_extent_us;
    s->reo_late_us = p->reo_late_us;
    s->reo_wnd_persist = RACK_REO_PERSIST;
    ctx->st.tcp_path_reorder_recalled++;
}

void tcp_path_remember(struct ts_ctx *ctx, const struct ts_sock *s)
{
    struct tcp_path *p = path_slot(ctx, s->raddr);
    if ((s->tflags & TF_REO_LEARNED) && s->reo_extent_us > 0) {
        p->raddr = s->raddr;
        p->reo_extent_us = s->reo_extent_us;
        p->reo_late_us = s->reo_late_us;
        p->stamp_s = now_s(ctx);
    } else if ((s->tflags & TF_REO_RECALLED) && s->reo_extent_us == 0 &&
               p->raddr == s->raddr) {
        p->reo_extent_us = 0; /* the window fell back: the path stopped */
    }
}
