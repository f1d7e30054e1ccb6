/**
 * @file tcp_tw.c
 * TIME_WAIT as compact entries (RFC 9293 3.6.1), apart from sockets.
 *
 * A connection entering TIME_WAIT gives its socket back at once and leaves
 * behind an entry of a few tens of bytes: the 4-tuple, the sequence numbers
 * and the timestamp state needed to re-acknowledge a retransmitted FIN, to
 * judge a new SYN (RFC 6191) and to apply PAWS. Every entry lives 2*MSL, so
 * the entries sit in a FIFO ring in order of expiry: expiring is popping
 * from the head, no timer is armed per entry, and when the ring is full the
 * oldest entry is recycled (as Linux does past tcp_max_tw_buckets). Lookup
 * is a hash of chains threaded through the ring; an entry removed before
 * its time (reused by a SYN, reset, restarted by a FIN seen again) is
 * unlinked and left as a hole that the head skips. The ring has twice as
 * many slots as entries may live, so holes do not push live entries out.
 */
#include <string.h>

#include "ts_priv.h"

struct tcp_tw {
    uint32_t laddr;
    uint32_t raddr;
    uint16_t rport;
    uint16_t lport;
    uint32_t snd_nxt;
    uint32_t rcv_nxt;
    uint32_t rcv_wnd; /* the window last advertised, bytes */
    uint32_t ts_recent;
    uint32_t hnext; /* slot + 1 of the next entry in the chain; 0: end */
    uint8_t rcv_wscale;
    uint8_t ts_ok;
    uint8_t live; /* 0: a hole left by an entry removed before its time */
    uint64_t expire_us;
};

struct tcp_tw_table {
    struct tcp_tw *ring;
    uint32_t cap;  /* slots: twice max_time_wait */
    uint32_t max;  /* live entries at most */
    uint32_t head; /* slot of the oldest entry */
    uint32_t n;    /* entries and holes in the ring, from head */
    uint32_t live;
    uint32_t *buckets; /* slot + 1 of the first entry; 0: empty (calloc'ed
                          pages stay untouched until used) */
    uint32_t mask;
};

static uint32_t tw_hash(const struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                        uint16_t rport, uint16_t lport)
{
    /* a domain of its own in the PRF's input: tcp_isn() hashes the same
     * 4-tuple, and an ISN must not tell a peer its bucket */
    return (uint32_t)ts_siphash(ctx->p.isn_key, (uint64_t)raddr << 32 | laddr,
                                (uint64_t)0x74775f68u << 32 | (uint32_t)rport << 16 |
                                    lport);
}

int tcp_tw_init(struct ts_ctx *ctx)
{
    if (ctx->p.max_time_wait == 0)
        return 0;
    uint32_t cap = 2 * ctx->p.max_time_wait;
    struct tcp_tw_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    uint32_t nb = 1;
    while (nb < cap)
        nb <<= 1;
    /* calloc of a large block maps zero pages lazily: the table costs what
     * the entries in use touch, not what max_time_wait allows */
    t->ring = calloc(cap, sizeof(*t->ring));
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (t->ring == NULL || t->buckets == NULL) {
        free(t->ring);
        free(t->buckets);
        free(t);
        return -1;
    }
    t->cap = cap;
    t->max = ctx->p.max_time_wait;
    t->mask = nb - 1;
    ctx->tw = t;
    return 0;
}

void tcp_tw_fini(struct ts_ctx *ctx)
{
    struct tcp_tw_table *t = ctx->tw;
    if (t == NULL)
        return;
    free(t->ring);
    free(t->buckets);
    free(t);
    ctx->tw = NULL;
}

static uint32_t *tw_bucket(const struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                           uint16_t rport, uint16_t lport)
{
    struct tcp_tw_table *t = ctx->tw;
    return &t->buckets[tw_hash(ctx, laddr, raddr, rport, lport) & t->mask];
}

/* Unlinks the live entry in @p slot from its chain and makes it a hole. */
static void tw_unlink(struct ts_ctx *ctx, uint32_t slot)
{
    struct tcp_tw_table *t = ctx->tw;
    struct tcp_tw *e = &t->ring[slot];
    uint32_t *p = tw_bucket(ctx, e->laddr, e->raddr, e->rport, e->lport);
    while (*p != 0 && *p != slot + 1)
        p = &t->ring[*p - 1].hnext;
    TS_ASSERT(*p == slot + 1);
    *p = e->hnext;
    e->live = 0;
    t->live--;
}

static int32_t tw_find(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                       uint16_t lport)
{
    struct tcp_tw_table *t = ctx->tw;
    for (uint32_t i = *tw_bucket(ctx, laddr, raddr, rport, lport); i != 0;) {
        struct tcp_tw *e = &t->ring[i - 1];
        if (e->raddr == raddr && e->rport == rport && e->lport == lport &&
            e->laddr == laddr)
            return (int32_t)(i - 1);
        i = e->hnext;
    }
    return -1;
}

/* Drops the oldest slot of the ring (an entry or a hole). */
static void tw_pop(struct ts_ctx *ctx)
{
    struct tcp_tw_table *t = ctx->tw;
    if (t->ring[t->head].live)
        tw_unlink(ctx, t->head);
    t->head = t->head + 1 == t->cap ? 0 : t->head + 1;
    t->n--;
}

/* Appends an entry that lives 2*MSL from now; recycles the oldest when the
 * ring is full. */
static struct tcp_tw *tw_push(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                              uint16_t rport, uint16_t lport)
{
    struct tcp_tw_table *t = ctx->tw;
    /* full: the oldest live entry goes (and the holes before it) */
    while (t->live == t->max || t->n == t->cap) {
        if (t->ring[t->head].live)
            ctx->st.tcp_tw_recycled++;
        tw_pop(ctx);
    }
    uint32_t slot = t->head + t->n;
    if (slot >= t->cap)
        slot -= t->cap;
    t->n++;
    struct tcp_tw *e = &t->ring[slot];
    memset(e, 0, sizeof(*e));
    e->laddr = laddr;
    e->raddr = raddr;
    e->rport = rport;
    e->lport = lport;
    e->live = 1;
    e->expire_us = ctx->now + 2ull * ctx->p.msl_ms * 1000;
    uint32_t *b = tw_bucket(ctx, laddr, raddr, rport, lport);
    e->hnext = *b;
    *b = slot + 1;
    t->live++;
    return e;
}

/* The ACK a TIME_WAIT entry sends: built on a socket of the moment that
 * holds only what tcp_send_ctl reads. */
static void tw_send_ack(struct ts_ctx *ctx, const struct tcp_tw *e)
{
    struct ts_sock tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.kind = TS_KIND_TCP;
    tmp.state = TCPS_TIME_WAIT;
    tmp.laddr = e->laddr;
    tmp.raddr = e->raddr;
    tmp.rport = e->rport;
    tmp.lport = e->lport;
    tmp.rcv_nxt = e->rcv_nxt;
    tmp.rcv_adv = e->rcv_nxt + e->rcv_wnd;
    tmp.rcv_wscale = e->rcv_wscale;
    tmp.ts_recent = e->ts_recent;
    if (e->ts_ok)
        tmp.tflags |= TF_TS_OK;
    tcp_send_ctl(ctx, &tmp, RTE_TCP_ACK_FLAG, e->snd_nxt);
}

void tcp_tw_enter(struct ts_ctx *ctx, struct ts_sock *s)
{
    /* an ACK the state change still owes goes out now: the socket is left
     * behind */
    if (s->tflags & TF_ACKNOW)
        tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_nxt);
    tcp_cancel_timers(ctx, s);
    if (s->tflags & TF_HASHED)
        ts_flow_remove(ctx, s);
    if (ctx->tw) {
        struct tcp_tw *e = tw_push(ctx, s->laddr, s->raddr, s->rport, s->lport);
        e->snd_nxt = s->snd_max;
        e->rcv_nxt = s->rcv_nxt;
        e->rcv_wnd = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
        e->rcv_wscale = s->rcv_wscale;
        e->ts_ok = (s->tflags & TF_TS_OK) != 0;
        e->ts_recent = s->ts_recent;
    }
    ctx->st.tcp_time_wait++;
    tcp_set_state(ctx, s, TCPS_CLOSED);
    ts_sflags_set(s, TS_SF_WRDONE | TS_SF_RDCLOSED);
    ts_sock_event(ctx, s, TS_EPOLLHUP);
}

/* RFC 6191 2: with timestamps on both connections a SYN whose TSval is
 * newer than the old connection's last one is safe whatever its sequence
 * number, and one with an equal TSval is when its sequence number lies
 * beyond the old one's; without timestamps the sequence number decides
 * (RFC 1122 4.2.2.13). */
static bool tw_reusable(const struct tcp_tw *e, const struct tcp_seg *seg)
{
    if (e->ts_ok && seg->has_ts)
        return SEQ_GT(seg->tsval, e->ts_recent) ||
               (seg->tsval == e->ts_recent && SEQ_GT(seg->seq, e->rcv_nxt));
    return SEQ_GT(seg->seq, e->rcv_nxt);
}

bool tcp_tw_input(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                  uint16_t lport, const struct tcp_seg *seg)
{
    if (ctx->tw == NULL || ctx->tw->live == 0)
        return false;
    int32_t slot = tw_find(ctx, laddr, raddr, rport, lport);
    if (slot < 0)
        return false;
    struct tcp_tw *e = &ctx->tw->ring[slot];
    uint8_t ctl = seg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG);
    /* a new SYN beyond the old connection may take the pair over */
    if (ctl == RTE_TCP_SYN_FLAG && !(seg->flags & RTE_TCP_FIN_FLAG) &&
        tw_reusable(e, seg)) {
        tw_unlink(ctx, (uint32_t)slot);
        ctx->st.tcp_tw_reused++;
        return false;
    }
    /* RFC 7323 5.3 PAWS: an old duplicate gets an ACK and nothing else */
    if (e->ts_ok && seg->has_ts && !(seg->flags & RTE_TCP_RST_FLAG) &&
        SEQ_LT(seg->tsval, e->ts_recent)) {
        ctx->st.rx_paws_drops += seg->segs;
        tw_send_ack(ctx, e);
        return true;
    }
    if (seg->flags & RTE_TCP_RST_FLAG) {
        /* an exact reset ends TIME_WAIT early (RFC 9293 3.10.7.4) */
        if (seg->seq == e->rcv_nxt)
            tw_unlink(ctx, (uint32_t)slot);
        return true;
    }
    /* a retransmitted FIN: our ACK was lost; acknowledge it again and
     * restart 2*MSL (RFC 9293 3.10.7.4) */
    if ((seg->flags & RTE_TCP_FIN_FLAG) && seg->seq + seg->len + 1 == e->rcv_nxt) {
        struct tcp_tw old = *e;
        tw_unlink(ctx, (uint32_t)slot);
        struct tcp_tw *n = tw_push(ctx, laddr, raddr, rport, lport);
        uint32_t hnext = n->hnext;
        uint64_t expire = n->expire_us;
        *n = old;
        n->hnext = hnext;
        n->expire_us = expire;
        n->live = 1;
        if (n->ts_ok && seg->has_ts)
            n->ts_recent = seg->tsval;
        tw_send_ack(ctx, n);
        return true;
    }
    /* anything else (data, a SYN that may not reuse the pair) is answered
     * with an ACK of the old connection; a bare ACK needs no answer */
    if (seg->len > 0 || (seg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ||
        seg->seq != e->rcv_nxt)
        tw_send_ack(ctx, e);
    return true;
}

void tcp_tw_expire(struct ts_ctx *ctx, uint64_t now)
{
    struct tcp_tw_table *t = ctx->tw;
    if (t == NULL)
        return;
    while (t->n > 0) {
        struct tcp_tw *e = &t->ring[t->head];
        if (e->live && e->expire_us > now)
            break;
        tw_pop(ctx);
    }
}

uint64_t tcp_tw_next_deadline(const struct ts_ctx *ctx)
{
    const struct tcp_tw_table *t = ctx->tw;
    if (t == NULL || t->live == 0)
        return UINT64_MAX;
    /* holes at the head are dropped by the next expiry run; the first live
     * entry is the earliest (entries are in order of expiry) */
    uint32_t slot = t->head;
    for (uint32_t k = 0; k < t->n; k++) {
        if (t->ring[slot].live)
            return t->ring[slot].expire_us;
        slot = slot + 1 == t->cap ? 0 : slot + 1;
    }
    return UINT64_MAX;
}

uint32_t tcp_tw_count(const struct ts_ctx *ctx)
{
    return ctx->tw ? ctx->tw->live : 0;
}
