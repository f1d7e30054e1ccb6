/**
 * @file tcp_rack.c
 * Loss recovery of a SACK connection: RACK-TLP (RFC 8985), D-SACK (RFC
 * 2883) with the undo of spurious recoveries and timeouts (RFC 3708
 * detection, RFC 4015 response), and Proportional Rate Reduction (RFC 6937).
 *
 * Data enters as events: every segment sent (tcp_rec_sent, from tcp_emit),
 * every ACK (tcp_rack_ack after the scoreboard has taken its SACK blocks,
 * tcp_rec_dsack for a D-SACK block), the RACK timer and the retransmission
 * timeout. It leaves as marks on the records of the segments in flight
 * (SACKed, lost, retransmitted), which the recovery output of tcp_out.c
 * reads (tcp_rec_next_lost, tcp_rec_pipe), and as cwnd (PRR, undo).
 *
 * The records sit in a ring in the connection's buffer set, in sequence
 * order, one per segment sent; a retransmission updates the send time of
 * the records it covers instead of adding one. Counters of SACKed, lost and
 * retransmitted bytes make the pipe O(1). The per-ACK work is O(1) on a
 * clean path: the records are walked only while something is SACKed or
 * retransmitted.
 */
#include <string.h>

#include "ts_priv.h"

#define RACK_REO_MULT_MAX 255

_Static_assert(TCP_RXT_HIST <= 256 && (TCP_RXT_HIST & (TCP_RXT_HIST - 1)) == 0,
               "rxt_hist_next (uint8_t) wraps at a multiple of TCP_RXT_HIST");

uint32_t tcp_rec_slots(uint32_t sndbuf)
{
    /* one record per KB in flight: full-sized segments use 70% of them; a
     * sender of smaller segments waits for ACKs when they run out
     * (tcp_rec_full). 112 KB of address space for a 4 MB buffer; the ring
     * starts again from its first record whenever the flight is all
     * acknowledged, so the pages a connection commits follow the largest
     * flight it had, not the bytes it ever sent. */
    uint32_t want = sndbuf / 1024 < 64 ? 64 : sndbuf / 1024;
    uint32_t p = 1;
    while (p < want)
        p <<= 1;
    return p;
}

size_t tcp_rec_bytes(uint32_t sndbuf)
{
    uint32_t slots = tcp_rec_slots(sndbuf); /* a multiple of 64: whole words */
    return (size_t)slots * sizeof(struct tcp_txseg) + slots / 8;
}

static inline struct tcp_txseg *rec_at(const struct tcp_rec *r, uint32_t i)
{
    return &r->seg[(r->head + i) & r->mask];
}

/* The live bit of the record @p i places from the head (r->live). */
static inline void live_set(struct tcp_rec *r, uint32_t i)
{
    uint32_t slot = (r->head + i) & r->mask;
    r->live[slot / 64] |= 1ull << (slot % 64);
}

static inline void live_clear(struct tcp_rec *r, uint32_t i)
{
    uint32_t slot = (r->head + i) & r->mask;
    r->live[slot / 64] &= ~(1ull << (slot % 64));
}

/* Index of the first record from @p i on that is not SACKed (r->n when
 * none). The ring is a whole number of words, so no word spans its wrap;
 * a bit found past the flight's end is a record at its start (r->n). */
static uint32_t rec_next_live(const struct tcp_rec *r, uint32_t i)
{
    while (i < r->n) {
        uint32_t slot = (r->head + i) & r->mask;
        uint64_t bits = r->live[slot / 64] >> (slot % 64);
        if (bits)
            return RTE_MIN(i + (uint32_t)__builtin_ctzll(bits), r->n);
        i += 64 - slot % 64;
    }
    return r->n;
}

/* Every record live again: the peer's SACKs are forgotten (reneging). */
static void live_all(struct tcp_rec *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        live_set(r, i);
}

/* Index of the first record that ends after @p seq (r->n when none). */
static uint32_t rec_find(const struct tcp_rec *r, uint32_t seq)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (SEQ_GT(rec_at(r, mid)->end, seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Times are the low 32 bits of the microsecond clock: compared by
 * difference, good for 35 minutes, far longer than a segment is in flight. */
static inline int32_t tdiff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* RFC 8985 6.2 RACK_sent_after: t1/seq1 was sent after t2/seq2. */
static bool sent_after(uint32_t t1, uint32_t seq1, uint32_t t2, uint32_t seq2)
{
    return tdiff(t1, t2) > 0 || (t1 == t2 && SEQ_GT(seq1, seq2));
}

/* Takes a record's bytes out of the counters its marks count it in. */
static void rec_uncount(struct tcp_rec *r, const struct tcp_txseg *g, uint32_t len)
{
    if (g->flags & TXS_SACKED)
        r->sacked -= len;
    if (g->flags & TXS_LOST)
        r->lost -= len;
    if (g->flags & TXS_RETRANS)
        r->retrans -= len;
}

/* The retransmission record @p j places back from the newest. */
static struct tcp_rxt *rxt_newest(struct tcp_rec *r, unsigned j)
{
    return &r->rxt_hist[(uint8_t)(r->rxt_hist_next - 1 - j) % TCP_RXT_HIST];
}

bool tcp_rec_full(const struct ts_sock *s)
{
    return tcp_rack_on(s) && s->bufs->rec.n > s->bufs->rec.mask;
}

/* Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation),
 * for BBR only: a record (re)sent takes the connection's delivery state
 * (3.2), and the newest record an ACK delivers makes its sample (3.3). */
static void rate_sent(const struct ts_sock *s, struct tcp_txseg *g)
{
    const struct tcp_bbr *b = &s->cc.bbr;
    if (s->cc.algo != TCP_CC_BBR)
        return;
    g->delivered = b->delivered;
    g->delivered_us = b->delivered_us;
    g->first_sent_us = b->first_sent_us;
    if (b->app_limited)
        g->flags |= TXS_APP_LIMITED;
    else
        g->flags &= ~TXS_APP_LIMITED;
}

/* Bytes delivered: counted, and the application-limited mark goes once
 * what was in flight when it was set has arrived. Alone, for the middle of
 * a record (a partial cumulative ACK): no sample until it is all there. */
static void rate_deliver_part(struct ts_sock *s, uint32_t len, uint32_t now)
{
    struct tcp_bbr *b = &s->cc.bbr;
    if (s->cc.algo != TCP_CC_BBR)
        return;
    b->delivered += len;
    b->delivered_us = now;
    if (b->app_limited && SEQ_GT(b->delivered, b->app_limited))
        b->app_limited = 0;
}

static void rate_deliver(struct ts_sock *s, const struct tcp_txseg *g, uint32_t len,
                         uint32_t now)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (s->cc.algo != TCP_CC_BBR)
        return;
    rate_deliver_part(s, len, now);
    if (r->rs_have && !sent_after(g->xmit_us, g->end, r->rs_xmit_us, r->rs_end))
        return;
    r->rs_have = true;
    r->rs_app_limited = g->flags & TXS_APP_LIMITED;
    r->rs_prior_delivered = g->delivered;
    r->rs_prior_us = g->delivered_us;
    r->rs_send_elapsed = g->xmit_us - g->first_sent_us;
    r->rs_xmit_us = g->xmit_us;
    r->rs_end = g->end;
    s->cc.bbr.first_sent_us = g->xmit_us;
}

static uint32_t reo_wnd(const struct ts_sock *s);

void tcp_rate_sample(const struct ts_sock *s, struct tcp_rate_sample *rs, uint32_t acked)
{
    const struct tcp_bbr *b = &s->cc.bbr;
    const struct tcp_rec *r = &s->bufs->rec;
    memset(rs, 0, sizeof(*rs));
    rs->delivered_total = b->delivered;
    rs->acked = acked;
    rs->rtt_us = r->ack_rtt_us;
    if (s->tflags & TF_REORDER) /* the path's, the queue left out (reo_learn) */
        rs->reo_us = RTE_MIN(s->reo_late_us, s->rto_us / 2);
    if (!r->rs_have)
        return;
    rs->have = true;
    rs->prior_delivered = r->rs_prior_delivered;
    rs->app_limited = r->rs_app_limited;
    /* the slower of the send and the ACK rates over the interval: neither
     * a burst sent at line rate nor ACKs bunched on the way back inflate it */
    uint32_t ack_elapsed = b->delivered_us - r->rs_prior_us;
    uint32_t interval = RTE_MAX(r->rs_send_elapsed, ack_elapsed);
    if (interval == 0 || interval < s->min_rtt_us)
        return; /* shorter than a round trip can be: no rate */
    rs->delivered = b->delivered - r->rs_prior_delivered;
    rs->interval_us = interval;
}

void tcp_rate_app_limited(struct ts_sock *s)
{
    if (s->cc.algo != TCP_CC_BBR || !tcp_rack_on(s))
        return;
    uint32_t mark = s->cc.bbr.delivered + tcp_rec_pipe(s);
    s->cc.bbr.app_limited = mark ? mark : 1;
}

void tcp_rec_sent(struct ts_ctx *ctx, struct ts_sock *s, uint32_t seq, uint32_t end)
{
    struct tcp_rec *r = &s->bufs->rec;
    uint32_t now = (uint32_t)ctx->now;
    /* the part below snd_max is sent again */
    uint32_t old_end = SEQ_LT(end, s->snd_max) ? end : s->snd_max;
    uint32_t k = 0, first = r->n; /* new data only: no record to search */
    if (SEQ_LT(seq, old_end)) {
        first = rec_find(r, seq);
        k = r->rxt_hist_next++ % TCP_RXT_HIST;
        if (r->rxt_hist_n < TCP_RXT_HIST)
            r->rxt_hist_n++;
        r->rxt_hist[k].start = seq;
        r->rxt_hist[k].end = old_end;
        r->rxt_hist[k].prev_us = first < r->n ? rec_at(r, first)->xmit_us : now;
        r->rxt_hist[k].sent_us = now;
        r->rxt_hist[k].undo_ep = r->undo_ep;
        r->rxt_hist[k].undo_n = 0;
        r->rxt_hist[k].probe = r->probe_tx;
        r->rxt_hist[k].series = r->tlp_series;
        r->rxt_hist[k].dsacked = false;
        r->rxt_hist[k].timer = (s->tflags & TF_LOSS) || s->rexmt_shift > 0;
    }
    for (uint32_t i = first; i < r->n; i++) {
        struct tcp_txseg *g = rec_at(r, i);
        if (!SEQ_LT(g->start, old_end))
            break;
        if (g->flags & TXS_SACKED)
            continue;
        if (SEQ_LT(g->start, seq)) {
            /* sent again from its middle on: its start was not, so it
             * keeps its time, but an ACK of it is ambiguous now */
            g->flags |= TXS_EVER_RETRANS;
            continue;
        }
        g->xmit_us = now;
        rate_sent(s, g);
        if (!(g->flags & TXS_RETRANS))
            r->retrans += g->end - g->start;
        g->flags |= TXS_RETRANS | TXS_EVER_RETRANS;
        if (r->undo_on) {
            r->undo_retrans++;
            r->rxt_hist[k].undo_n++;
            if (!r->undo_tsval_set) {
                r->undo_tsval_set = true;
                r->undo_tsval = tcp_ts_now(ctx);
            }
        }
    }
    if (!SEQ_GT(end, s->snd_max))
        return;
    if (s->snd_una == s->snd_max && s->cc.algo == TCP_CC_BBR) {
        /* nothing in flight: a rate interval starts now (rate draft 3.2),
         * and BBR restarts from idle */
        s->cc.bbr.first_sent_us = now;
        s->cc.bbr.delivered_us = now;
        tcp_bbr_on_restart(&s->cc, ctx->now);
    }
    uint32_t start = SEQ_GT(seq, s->snd_max) ? seq : s->snd_max;
    if (r->n > r->mask) {
        /* no room (the sender gates new data on it; a probe may still
         * come): the newest plain record grows, which only delays the
         * detection of a loss among its bytes */
        struct tcp_txseg *last = rec_at(r, r->n - 1);
        if ((last->flags & ~TXS_APP_LIMITED) == 0 && last->end == start) {
            last->end = end;
            last->xmit_us = now;
        }
        return;
    }
    live_set(r, r->n);
    struct tcp_txseg *g = rec_at(r, r->n++);
    g->start = start;
    g->end = end;
    g->xmit_us = now;
    g->flags = 0;
    rate_sent(s, g);
}

/* How late @p since_sent is past @p base, and an eighth more. */
static uint32_t late_past(uint32_t since_sent, uint32_t base)
{
    uint32_t late = since_sent > base ? since_sent - base : 0;
    return late + late / 8;
}

/* The round trip of a segment delivered on time now: the newest sent's,
 * never below the minimum. */
static uint32_t fresh_rtt(const struct ts_sock *s)
{
    return RTE_MAX(s->min_rtt_us, s->bufs->rec.fresh_rtt_us);
}

/* A segment the network held back arrived @p since_sent after it left: a
 * reordering window of that less a minimum RTT (and an eighth more) would
 * have waited for it. Kept while the window's widening lasts (step 4's
 * persistence). Past SRTT, where RFC 8985 caps the window: RACK.min_RTT / 4
 * steps of one per round trip cannot reach a reordering that lasts
 * hundreds of minimum RTTs (a LAN path with a slow lane).
 * That measure holds the queue's delay too, which RACK's deadline has
 * already (RACK.rtt): an error on the safe side for loss detection, but
 * not for BBR's reordering allowance, which would grow the queue and with
 * it the next measure. Its own measure (reo_late_us, all it takes) is how
 * late the segment came against one delivered on time now (the newest
 * sent). */
static void reo_learn(struct ts_sock *s, uint32_t since_sent)
{
    uint32_t late = late_past(since_sent, s->min_rtt_us);
    if (late > 0)
        s->tflags |= TF_REO_LEARNED;
    if (late > s->reo_extent_us) {
        s->reo_extent_us = late;
        s->reo_wnd_persist = RACK_REO_PERSIST;
    }
    late = late_past(since_sent, fresh_rtt(s));
    if (late > s->reo_late_us)
        s->reo_late_us = late;
}

/* RFC 8985 6.2 steps 2 and 3 for a segment the ACK delivered. */
static void rack_deliver(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_txseg *g,
                         const struct tcp_seg *seg)
{
    struct tcp_rec *r = &s->bufs->rec;
    uint32_t now = (uint32_t)ctx->now;
    uint32_t rtt = now - g->xmit_us;
    if (g->flags & TXS_EVER_RETRANS) {
        /* the ACK may be for an earlier transmission: the echoed timestamp
         * tells, or an RTT below the minimum does */
        uint32_t sent_tick = (uint32_t)((ctx->now - rtt) / TCP_TS_TICK_US);
        if ((s->tflags & TF_TS_OK) && seg->has_ts && seg->tsecr != 0 &&
            SEQ_LT(seg->tsecr, sent_tick))
            return;
        if (rtt < s->min_rtt_us)
            return;
    } else {
        if (s->min_rtt_us == 0 || rtt < s->min_rtt_us)
            s->min_rtt_us = rtt ? rtt : 1;
        r->ack_rtt_us = rtt ? rtt : 1;
        /* a segment delivered after one sent later was held back by the
         * network, not by a queue that delays all in turn: its RTT is
         * the reordering's, which is not the queue growth HyStart++
         * looks for (on a path that holds a quarter of the segments back
         * by 5 ms, most rounds' cumulative ACKs time only late ones) */
        if (!SEQ_LT(g->end, r->fack))
            r->hs_rtt_us = r->ack_rtt_us;
    }
    r->rack_rtt_us = rtt;
    if (!r->rack_valid || sent_after(g->xmit_us, g->end, r->rack_xmit_us, r->rack_end)) {
        r->rack_valid = true;
        r->rack_xmit_us = g->xmit_us;
        r->rack_end = g->end;
        r->fresh_rtt_us = rtt;
    }
    /* step 3: a segment delivered below one delivered before, that was
     * never sent twice, was reordered by the network; how late it came
     * is a reordering window that would have waited for it */
    if (SEQ_GT(g->end, r->fack)) {
        r->fack = g->end;
    } else if (SEQ_LT(g->end, r->fack) && !(g->flags & TXS_EVER_RETRANS)) {
        s->tflags |= TF_REORDER;
        reo_learn(s, rtt);
    }
}

/* RFC 2018 8: an ACK that moves snd_una up to a segment the receiver had
 * SACKed, and no further, says the receiver dropped data it reported (a
 * receiver may; ours keeps TCP_OOO_MAX ranges and forgets the highest past
 * that). Left SACKed, that segment would not be sent again before two
 * timeouts (the first keeps the SACKs). As Linux does on reneging, the
 * earlier SACKs are forgotten, this ACK's own blocks stand, and the segment
 * at snd_una is lost. */
static void rec_check_renege(struct ts_sock *s, const struct tcp_seg *seg)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (r->n == 0 || !(rec_at(r, 0)->flags & TXS_SACKED) ||
        rec_at(r, 0)->start != s->snd_una)
        return;
    tcp_sb_reset(&s->bufs->sb);
    tcp_sb_update(&s->bufs->sb, s->snd_una, s->snd_max, seg->sack, seg->nsack);
    for (uint32_t i = 0; i < r->n; i++)
        rec_at(r, i)->flags &= ~TXS_SACKED;
    live_all(r);
    r->sacked = 0;
    r->sacked_segs = 0;
    struct tcp_txseg *g = rec_at(r, 0);
    g->flags |= TXS_LOST;
    r->lost += g->end - g->start;
}

uint32_t tcp_rack_ack(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg)
{
    struct tcp_rec *r = &s->bufs->rec;
    uint32_t now = (uint32_t)ctx->now;
    r->ack_rtt_us = 0;
    r->hs_rtt_us = 0;
    r->ack_sacked = 0;
    r->rs_have = false;
    if (SEQ_LT(r->fack, s->snd_una) && r->n == 0)
        r->fack = s->snd_una;
    /* cumulatively acknowledged */
    bool moved = r->n > 0 && SEQ_LT(rec_at(r, 0)->start, s->snd_una);
    while (r->n > 0 && SEQ_LEQ(rec_at(r, 0)->end, s->snd_una)) {
        struct tcp_txseg *g = rec_at(r, 0);
        if (g->flags & TXS_SACKED) {
            r->sacked_segs--;
            r->ack_sacked += g->end - g->start;
        } else {
            rate_deliver(s, g, g->end - g->start, now);
            rack_deliver(ctx, s, g, seg);
        }
        rec_uncount(r, g, g->end - g->start);
        live_clear(r, 0);
        r->head = (r->head + 1) & r->mask;
        r->n--;
    }
    if (r->n == 0)
        r->head = 0;
    if (r->n > 0 && SEQ_LT(rec_at(r, 0)->start, s->snd_una)) {
        struct tcp_txseg *g = rec_at(r, 0);
        if (!(g->flags & TXS_SACKED))
            rate_deliver_part(s, s->snd_una - g->start, now);
        rec_uncount(r, g, s->snd_una - g->start);
        g->start = s->snd_una;
    }
    if (moved)
        rec_check_renege(s, seg);
    /* newly SACKed: the records this ACK's blocks reach that are covered
     * whole, by a block or by the scoreboard's union of them (a record
     * SACKed in parts by two ACKs). Marking from the blocks, not from the
     * scoreboard's ranges, keeps what a full scoreboard drops (its highest
     * ranges: on a reordering path, the newest data) and walks only the
     * records still live in the reported ranges, not all that were
     * SACKed before */
    uint32_t newly = 0;
    const struct tcp_scoreboard *sb = &s->bufs->sb;
    /* lowest block first, as the ranges were: the receiver lists the most
     * recent first, and a record delivered after one above it would look
     * reordered (step 3), with the older RTT as RACK's */
    struct tcp_sack_block blk[TCP_SACK_MAX];
    unsigned nb = 0;
    for (unsigned k = 0; k < seg->nsack && nb < TCP_SACK_MAX; k++) {
        uint32_t bs, be;
        if (!tcp_sb_block_usable(&seg->sack[k], s->snd_una, s->snd_max, &bs, &be))
            continue;
        unsigned j = nb++;
        for (; j > 0 && SEQ_GT(blk[j - 1].start, bs); j--)
            blk[j] = blk[j - 1];
        blk[j] = (struct tcp_sack_block){bs, be};
    }
    for (unsigned k = 0; k < nb; k++) {
        uint32_t bs = blk[k].start, be = blk[k].end;
        for (uint32_t i = rec_next_live(r, rec_find(r, bs)); i < r->n;
             i = rec_next_live(r, i + 1)) {
            struct tcp_txseg *g = rec_at(r, i);
            if (!SEQ_LT(g->start, be))
                break;
            if ((SEQ_LT(g->start, bs) || SEQ_GT(g->end, be)) &&
                !tcp_sb_covers(sb, g->start, g->end))
                continue;
            uint32_t len = g->end - g->start;
            rate_deliver(s, g, len, now);
            rec_uncount(r, g, len);
            g->flags = (g->flags & TXS_EVER_RETRANS) | TXS_SACKED;
            live_clear(r, i);
            r->sacked += len;
            r->sacked_segs++;
            newly += len;
            rack_deliver(ctx, s, g, seg);
        }
    }
    return newly;
}

/* RFC 8985 6.2 step 4's window: none before any reordering was seen once
 * recovery is under way or DupThresh segments are SACKed; else a quarter
 * of the minimum RTT times the multiplier D-SACKs raised, at most SRTT, or
 * the reordering measured, if longer. */
static uint32_t reo_wnd(const struct ts_sock *s)
{
    if (!(s->tflags & TF_REORDER)) {
        if (s->tflags & TF_IN_RECOVERY)
            return 0;
        if (s->bufs->rec.sacked_segs >= TCP_DUPTHRESH)
            return 0;
    }
    uint64_t w = (uint64_t)s->min_rtt_us * RTE_MAX(s->reo_wnd_mult, (uint8_t)1) / 4;
    if (s->srtt_us && w > s->srtt_us)
        w = s->srtt_us;
    /* the reordering measured (reo_learn), while it lasts; never beyond
     * half the RTO, which must stay the slower way to find a loss */
    uint32_t extent = RTE_MIN(s->reo_extent_us, s->rto_us / 2);
    if (extent > w)
        w = extent;
    return (uint32_t)w;
}

uint32_t tcp_rack_detect(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (!r->rack_valid || r->n == 0)
        return 0;
    uint32_t now = (uint32_t)ctx->now;
    int64_t reo = reo_wnd(s);
    int64_t timeout = 0;
    uint32_t newly = 0;
    for (uint32_t i = rec_next_live(r, 0); i < r->n; i = rec_next_live(r, i + 1)) {
        struct tcp_txseg *g = rec_at(r, i);
        bool before = sent_after(r->rack_xmit_us, r->rack_end, g->xmit_us, g->end);
        if (!before && !(g->flags & TXS_EVER_RETRANS)) {
            /* new data leaves in sequence order and a retransmission only
             * makes a record's time later: past a record sent once, and
             * not before RACK.xmit_ts, no record was (on a reordering path
             * most of the flight: it was all walked on every ACK) */
            break;
        }
        if ((g->flags & (TXS_LOST | TXS_RETRANS)) == TXS_LOST)
            continue; /* lost and waiting for its retransmission */
        if (!before)
            continue;
        int64_t remaining = (int64_t)tdiff(g->xmit_us, now) + r->rack_rtt_us + reo;
        if (remaining > 0) {
            if (remaining > timeout)
                timeout = remaining;
            continue;
        }
        uint32_t len = g->end - g->start;
        if (g->flags & TXS_RETRANS) { /* the retransmission is lost too */
            r->retrans -= len;
            ctx->st.tcp_lost_retransmits++;
        }
        if (!(g->flags & TXS_LOST))
            r->lost += len;
        g->flags = (g->flags & ~TXS_RETRANS) | TXS_LOST;
        ctx->st.tcp_rack_losses++;
        newly += len;
    }
    if (timeout > 0)
        ts_timer_arm(ctx, &s->t_reo, ctx->now + (uint64_t)timeout);
    else if (ts_timer_armed(&s->t_reo))
        ts_timer_cancel(ctx, &s->t_reo);
    return newly;
}

uint32_t tcp_rec_pipe(const struct ts_sock *s)
{
    const struct tcp_rec *r = &s->bufs->rec;
    uint32_t out = s->snd_max - s->snd_una;
    uint32_t gone = r->sacked + r->lost;
    return (out > gone ? out - gone : 0) + r->retrans;
}

bool tcp_rec_next_lost(const struct ts_sock *s, uint32_t *seq, uint32_t *len)
{
    const struct tcp_rec *r = &s->bufs->rec;
    if (r->lost == 0)
        return false;
    for (uint32_t i = rec_next_live(r, 0); i < r->n; i = rec_next_live(r, i + 1)) {
        const struct tcp_txseg *g = rec_at(r, i);
        if ((g->flags & (TXS_LOST | TXS_RETRANS)) == TXS_LOST) {
            *seq = g->start;
            *len = g->end - g->start;
            return true;
        }
    }
    return false;
}

bool tcp_rec_probe(const struct ts_sock *s, uint32_t *seq, uint32_t *len)
{
    const struct tcp_rec *r = &s->bufs->rec;
    if (r->n == 0)
        return false;
    const struct tcp_txseg *g = rec_at(r, r->n - 1);
    if ((s->tflags & TF_IN_RECOVERY) || (g->flags & TXS_SACKED))
        return tcp_rec_first_unsacked(s, seq, len);
    *seq = g->start;
    *len = g->end - g->start;
    return true;
}

bool tcp_rec_first_unsacked(const struct ts_sock *s, uint32_t *seq, uint32_t *len)
{
    const struct tcp_rec *r = &s->bufs->rec;
    uint32_t i = rec_next_live(r, 0);
    if (i == r->n)
        return false;
    const struct tcp_txseg *g = rec_at(r, i);
    *seq = g->start;
    *len = g->end - g->start;
    return true;
}

void tcp_rec_mark_all_lost(struct ts_ctx *ctx, struct ts_sock *s, bool renege)
{
    (void)ctx;
    struct tcp_rec *r = &s->bufs->rec;
    if (renege) {
        r->sacked = 0;
        r->sacked_segs = 0;
        live_all(r);
    }
    for (uint32_t i = 0; i < r->n; i++) {
        struct tcp_txseg *g = rec_at(r, i);
        if (renege)
            g->flags &= ~TXS_SACKED;
        if (g->flags & TXS_SACKED)
            continue;
        uint32_t len = g->end - g->start;
        if (g->flags & TXS_RETRANS)
            r->retrans -= len;
        if (!(g->flags & TXS_LOST))
            r->lost += len;
        g->flags = (g->flags & ~TXS_RETRANS) | TXS_LOST;
    }
}

void tcp_rec_episode(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct tcp_rec *r = &s->bufs->rec;
    /* a recovery that starts while the one before may still prove
     * spurious, within a round trip of its end, joins it: undo then needs
     * all their retransmissions shown needless, and goes back to before
     * the first (reordering beyond the window makes such chains, each
     * cutting cwnd again) */
    uint32_t since = (uint32_t)ctx->now - r->undo_end_us;
    bool open = r->undo_on && r->undo_retrans > 0;
    if (open && since <= s->srtt_us)
        return;
    /* later, it becomes the episode before this one (with those before it
     * still unresolved, one chain), for as long as its D-SACKs may come (a
     * retransmission timeout): on a path that reorders by many round trips
     * they come after the next episodes have begun. This one's undo goes
     * back to before the chain if the chain was spurious too, else to
     * before this one; a real loss in the chain keeps that cut only */
    bool keep = open && since <= s->rto_us;
    if (keep && r->prev_on) {
        for (unsigned j = 0; j < r->rxt_hist_n; j++)
            if (rxt_newest(r, j)->undo_ep == r->undo_ep)
                rxt_newest(r, j)->undo_ep = r->prev_ep;
        r->prev_retrans += r->undo_retrans;
    } else if (keep) {
        r->prev_retrans = r->undo_retrans;
        r->prev_ep = r->undo_ep;
        r->prev_marker = r->undo_marker;
        r->prev_prior = r->cc_prior;
    }
    r->prev_on = keep;
    r->undo_on = true;
    r->undo_ep++;
    r->undo_marker = s->snd_una;
    r->undo_retrans = 0;
    r->undo_tsval_set = false;
    r->cc_prior = s->cc;
}

/* The end of an undo: the episode and its loss marks go. The episodes
 * before it, if they may still prove spurious, are the current episode
 * again (tcp_rec_episode). */
static void rec_undo_marks(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct tcp_rec *r = &s->bufs->rec;
    r->undo_on = false;
    if (s->tflags & TF_IN_RECOVERY) {
        s->tflags &= ~(TF_IN_RECOVERY | TF_LOSS);
        for (uint32_t i = 0; i < r->n; i++)
            rec_at(r, i)->flags &= ~TXS_LOST;
        r->lost = 0;
        s->rexmt_shift = 0;
    }
    if (r->prev_on) {
        r->prev_on = false;
        r->undo_on = true;
        r->undo_ep = r->prev_ep;
        r->undo_marker = r->prev_marker;
        r->undo_retrans = r->prev_retrans;
        r->undo_tsval_set = false;
        r->cc_prior = r->prev_prior;
    }
    ts_sock_want_output(ctx, s);
}

/* RFC 4015 3.2 / RFC 3708: the episode was spurious; the congestion state
 * returns to what it was before (cwnd never below what it is now), the
 * loss marks go. After a timeout, whose loss window has drained the
 * flight, the prior cwnd at once would be a line-rate burst: cwnd is
 * FlightSize + min(bytes_acked, IW) and slow start (ssthresh the prior
 * window) takes it back (RFC 4015 3.2 step 4). @p acked: bytes the ACK
 * acknowledged. */
static void rec_undo(struct ts_ctx *ctx, struct ts_sock *s, uint32_t acked)
{
    struct tcp_rec *r = &s->bufs->rec;
    /* the episode before was spurious too: back to before it */
    bool prev_spurious = r->prev_on && r->prev_retrans <= 0;
    if (prev_spurious) {
        r->cc_prior = r->prev_prior;
        r->prev_on = false;
    }
    /* after a timeout, the most cwnd may be at once */
    uint32_t iw = TCP_INIT_CWND_SEGS * tcp_seg_size(s);
    uint32_t burst = s->snd_max - s->snd_una + RTE_MIN(acked, iw);
    if (s->tflags & TF_LOSS)
        ctx->st.tcp_undo_rto++;
    else
        ctx->st.tcp_undo_recovery++;
    if (s->cc.algo == TCP_CC_BBR) {
        /* BBR's model stands (a spurious loss never touched it): cwnd
         * returns to where it was before the episode */
        tcp_bbr_on_recovery_end(&s->cc, true, burst);
        rec_undo_marks(ctx, s);
        return;
    }
    uint32_t cwnd = RTE_MAX(s->cc.cwnd, r->cc_prior.cwnd);
    uint32_t ssthresh = r->cc_prior.ssthresh;
    if ((s->tflags & TF_LOSS) && burst < cwnd) {
        ssthresh = RTE_MAX(ssthresh, r->cc_prior.cwnd);
        cwnd = RTE_MAX(s->cc.cwnd, burst);
    }
    s->cc = r->cc_prior;
    s->cc.cwnd = cwnd;
    s->cc.ssthresh = ssthresh;
    s->cc.epoch_start_us = 0; /* CUBIC's curve starts again from here */
    rec_undo_marks(ctx, s);
}

/* A probe sent since the last ACK of new data (a copy of the tail, or of
 * the oldest segment still missing once the tail was SACKed: tcp_rec_probe)
 * that no D-SACK has shown needless yet: one that may have repaired a loss. */
static bool probe_may_repair(const struct tcp_rec *r, const struct tcp_rxt *h)
{
    return h->probe && h->series == r->tlp_series && !h->dsacked &&
           SEQ_LT(h->start, h->end);
}

/* Every probe of the series has been shown needless by a D-SACK: together
 * they repaired nothing (RFC 8985 7.4.2); one probe's D-SACK says nothing
 * of another's. */
static bool series_needless(struct tcp_rec *r)
{
    for (unsigned j = 0; j < r->rxt_hist_n; j++)
        if (probe_may_repair(r, rxt_newest(r, j)))
            return false;
    return true;
}

/* Segments of at most one MSS that [start, end) makes. */
static uint32_t segs_of(const struct ts_sock *s, uint32_t start, uint32_t end)
{
    uint32_t segsz = tcp_seg_size(s);
    return (end - start + segsz - 1) / segsz;
}

void tcp_rec_dsack(struct ts_ctx *ctx, struct ts_sock *s, uint32_t start, uint32_t end,
                   uint32_t acked)
{
    struct tcp_rec *r = &s->bufs->rec;
    ctx->st.tcp_dsack_rx++;
    /* a duplicate of a retransmission: that retransmission was not needed
     * (RFC 3708 3.2); when all of this episode's were so: undo. The latest
     * retransmission that covers the block is the one it reports; the one
     * it shows needless for undo is one this episode counted and no
     * D-SACK has shown so yet (a probe sent before the episode, or an ACK
     * the network duplicated, must not undo a real recovery) */
    struct tcp_rxt *x = NULL, *ux = NULL; /* the reported one, the one undo counts */
    struct tcp_rxt *nx = NULL;            /* the newest not shown needless before */
    for (unsigned j = 0; j < r->rxt_hist_n; j++) {
        struct tcp_rxt *h = rxt_newest(r, j);
        if (!SEQ_GEQ(start, h->start) || !SEQ_LEQ(end, h->end) ||
            !SEQ_LT(h->start, h->end))
            continue;
        if (x == NULL)
            x = h;
        if (nx == NULL && !h->dsacked)
            nx = h;
        if (h->undo_n > 0 &&
            (h->undo_ep == r->undo_ep || (r->prev_on && h->undo_ep == r->prev_ep))) {
            ux = h;
            break;
        }
    }
    /* RFC 8985 6.2 step 4: once per round trip, a D-SACK widens the
     * reordering window by another quarter of the minimum RTT; not one of
     * what a timer sent (a tail loss probe, as Linux; after a timeout): its
     * original may have waited only for ACKs the network lost */
    bool timed = x && (x->probe || x->timer);
    if (r->dsack_round_on && SEQ_GEQ(s->snd_una, r->dsack_round))
        r->dsack_round_on = false;
    if (!r->dsack_round_on && !timed) {
        r->dsack_round_on = true;
        r->dsack_round = s->snd_max;
        if (s->reo_wnd_mult < RACK_REO_MULT_MAX)
            s->reo_wnd_mult = (uint8_t)(RTE_MAX(s->reo_wnd_mult, (uint8_t)1) + 1);
        s->reo_wnd_persist = RACK_REO_PERSIST;
    }
    if (x == NULL)
        return; /* the network duplicated a segment */
    ctx->st.tcp_spurious_rexmits++;
    /* one copy more arrived than the network needed: the newest not counted
     * so before (two probes of the tail draw a D-SACK each); the probe's
     * episode reads the mark when its ACK comes (tcp_tlp_ack), whether
     * this D-SACK came in that ACK or in one before it */
    if (nx != NULL)
        nx->dsacked = true;
    /* a retransmission the receiver had already, that the ACKs sent it
     * for: its original was late, not lost. That is reordering seen,
     * whether or not a late original was ever SACKed below another (step
     * 3 cannot see it once it was sent again, and a path that reorders by
     * many round trips has most of them sent again before the first
     * arrives). Not one a timer sent: how late its original was is the
     * timer's, not the path's */
    if (!timed)
        s->tflags |= TF_REORDER;
    /* the copy sent before was late by about the time since it left, less
     * a round trip, when it arrived after this one: then its D-SACK comes
     * later than this one's round trip (a quarter more for the queue's
     * slack). One that comes within it is for this copy: the one before
     * had arrived, when is not known, and a lossy path looks the same
     * (more holes than an ACK has SACK blocks, the ACK that reported one
     * lost): learning the time waited from it would grow the window on
     * itself, each window waited the next one's measure */
    uint32_t rtt = fresh_rtt(s);
    if (!timed && (uint32_t)ctx->now - x->sent_us > rtt + rtt / 4)
        reo_learn(s, (uint32_t)ctx->now - x->prev_us);
    if (!r->undo_on || ux == NULL || SEQ_GT(end, s->snd_max))
        return;
    bool prev = ux->undo_ep != r->undo_ep;
    if (SEQ_LT(start, prev ? r->prev_marker : r->undo_marker))
        return;
    uint32_t n = RTE_MIN(segs_of(s, start, end), ux->undo_n);
    ux->undo_n -= n;
    if (prev) /* counted; it waits for the current one */
        r->prev_retrans -= (int32_t)n;
    else if ((r->undo_retrans -= (int32_t)n) <= 0)
        rec_undo(ctx, s, acked);
}

bool tcp_rec_check_ts(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg,
                      uint32_t prev_una)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (!r->undo_on || !r->undo_tsval_set || !(s->tflags & TF_IN_RECOVERY) ||
        !(s->tflags & TF_TS_OK) || !seg->has_ts || seg->tsecr == 0)
        return false;
    /* an ACK echoes the timestamp of the segment that filled the hole;
     * older than the episode's first retransmission, it was the original
     * (RFC 3522 2). After a timeout, the first ACK past the episode's
     * start tells (Eifel). In fast recovery only the ACK that ends it
     * does, as Linux's tcp_try_undo_recovery: an early hole's original
     * arriving late says nothing of the later holes */
    if (s->tflags & TF_LOSS) {
        if (SEQ_GT(prev_una, r->undo_marker) || !SEQ_GT(s->snd_una, r->undo_marker))
            return false;
    } else if (SEQ_LT(s->snd_una, s->recover)) {
        return false;
    }
    if (!SEQ_LT(seg->tsecr, r->undo_tsval))
        return false;
    rec_undo(ctx, s, s->snd_una - prev_una);
    return true;
}

void tcp_prr_ack(struct ts_ctx *ctx, struct ts_sock *s, uint32_t delivered)
{
    (void)ctx;
    /* BBR has its own packet conservation (tcp_bbr.c), not PRR */
    if ((s->tflags & (TF_IN_RECOVERY | TF_LOSS)) != TF_IN_RECOVERY ||
        s->cc.algo == TCP_CC_BBR)
        return;
    struct tcp_rec *r = &s->bufs->rec;
    uint32_t segsz = tcp_seg_size(s);
    r->prr_delivered += delivered;
    uint32_t pipe = tcp_rec_pipe(s);
    uint32_t ssthresh = s->cc.ssthresh;
    int64_t sndcnt;
    if (pipe > ssthresh) {
        /* proportional part: sndcnt = ceil(prr_delivered * ssthresh /
         * RecoverFS) - prr_out */
        uint64_t fs = r->recover_fs ? r->recover_fs : 1;
        sndcnt =
            (int64_t)(((uint64_t)r->prr_delivered * ssthresh + fs - 1) / fs) - r->prr_out;
    } else {
        /* slow start reduction bound (PRR-SSRB) */
        int64_t limit =
            RTE_MAX((int64_t)r->prr_delivered - r->prr_out, (int64_t)delivered) + segsz;
        sndcnt = RTE_MIN((int64_t)ssthresh - pipe, limit);
    }
    if (sndcnt < 0)
        sndcnt = 0;
    /* the fast retransmit goes at once (RFC 6937 3.1's note) */
    if (r->prr_out == 0 && sndcnt < segsz)
        sndcnt = segsz;
    s->cc.cwnd = pipe + (uint32_t)sndcnt;
}

void tcp_tlp_sent(struct ts_sock *s, bool retrans)
{
    struct tcp_rec *r = &s->bufs->rec;
    /* a probe sent in recovery has no loss response of its own: the
     * recovery has reduced cwnd already */
    r->tlp_on = !(s->tflags & TF_IN_RECOVERY);
    r->tlp_end = s->snd_max;
    r->tlp_retrans = retrans;
}

/* A probe's loss response is an episode of its own, undone as a
 * recovery's would be: its original may only have been late, and on a
 * path that reorders, the D-SACK that says so comes after the ACK that
 * looked like the probe's repair. The probes sent since the last ACK of
 * new data (up to TCP_TLP_MAX, copies of the tail or of the oldest segment
 * missing) that no D-SACK has shown needless yet are the episode's
 * retransmissions: all must prove needless, since one of them may have
 * repaired a real loss. One counted in the episode before (sent while
 * it awaited its D-SACKs) moves to this one; if it was the last that
 * episode waited for, an undo of this one goes back to before both.
 * With the probes' records gone, nothing could show the response
 * needless: no episode. */
static void tlp_episode(struct ts_ctx *ctx, struct ts_sock *s)
{
    struct tcp_rec *r = &s->bufs->rec;
    bool opened = false;
    for (unsigned j = 0; j < r->rxt_hist_n; j++) {
        struct tcp_rxt *h = rxt_newest(r, j);
        if (!probe_may_repair(r, h))
            continue;
        if (!opened) {
            opened = true;
            tcp_rec_episode(ctx, s);
            r->undo_end_us = (uint32_t)ctx->now;
        }
        if (h->undo_n > 0) {
            if (h->undo_ep == r->undo_ep)
                continue; /* this episode joined the one it counts in */
            if (r->prev_on && h->undo_ep == r->prev_ep)
                r->prev_retrans -= (int32_t)h->undo_n;
        }
        h->undo_ep = r->undo_ep;
        h->undo_n = segs_of(s, h->start, h->end);
        r->undo_retrans += (int32_t)h->undo_n;
        if (SEQ_LT(h->start, r->undo_marker))
            r->undo_marker = h->start;
    }
}

void tcp_tlp_ack(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg,
                 bool una_moved)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (!r->tlp_on || SEQ_LT(seg->ack, r->tlp_end))
        return;
    if (!r->tlp_retrans || series_needless(r)) {
        /* new data probed, or each probe and its original both arrived */
        r->tlp_on = false;
        return;
    }
    if (SEQ_GT(seg->ack, r->tlp_end)) {
        /* RFC 8985 7.4.2: the probe repaired a loss; the congestion
         * response a recovery would have made */
        r->tlp_on = false;
        ctx->st.tcp_tlp_recoveries++;
        if (s->cc.algo != TCP_CC_BBR) { /* BBR answers no single loss */
            tlp_episode(ctx, s);
            tcp_cc_on_loss(&s->cc, s->snd_max - s->snd_una, ctx->now);
        }
        return;
    }
    if (!una_moved && seg->nsack == 0)
        r->tlp_on = false; /* a duplicate ACK with no news: no loss seen */
}

void tcp_dsack_note(struct ts_sock *s, uint32_t start, uint32_t end)
{
    if (!(s->tflags & TF_SACK_OK) || !SEQ_LT(start, end))
        return;
    s->tflags |= TF_DSACK;
    s->dsack_start = start;
    s->dsack_end = end;
}
