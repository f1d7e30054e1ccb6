/**
 * @file tcp_bbr.c
 * BBR v1 without a pacing gain cycle (see tcp_bbr.h for the model and what
 * the missing cycle changes).
 */
#include "tcp_bbr.h"

#include <string.h>

#include "tcp_cc.h"

#define BBR_UNIT 1000u            /* gains in thousandths */
#define BBR_HIGH_GAIN 2885u       /* 2/ln 2: startup doubles the rate per round */
#define BBR_CWND_GAIN 2000u       /* PROBE_BW: twice the BDP */
#define BBR_BW_ROUNDS 10u         /* the bandwidth filter's window */
#define BBR_MIN_RTT_WIN_MS 10000u /* the minimum RTT's */
#define BBR_PROBE_RTT_MS 200u     /* PROBE_RTT's stay at 4 segments */
#define BBR_MIN_CWND_SEGS 4u      /* never less in flight */
#define BBR_QUANTA_SEGS 3u        /* headroom for delayed and stretched ACKs */
#define BBR_FULL_BW_ROUNDS 3u     /* rounds without 25% growth end startup */
#define BBR_INIT_CWND_SEGS 10u    /* before the model has a BDP */
#define BBR_EXTRA_ACKED_ROUNDS 5u /* each of the aggregation filter's two windows */
#define BBR_ALLOWANCE_MAX_US                                                             \
    100000u /* aggregation and reordering allowances: at most this much of the rate */

uint32_t tcp_bbr_max_bw(const struct tcp_bbr *b)
{
    return b->bw[0];
}

void tcp_bbr_init(struct tcp_cc *cc)
{
    memset(&cc->bbr, 0, sizeof(cc->bbr));
    cc->bbr.min_rtt_us = UINT32_MAX;
    cc->bbr.mode = TCP_BBR_STARTUP;
}

static void bw_reset(struct tcp_bbr *b, uint32_t round, uint32_t v)
{
    for (unsigned i = 0; i < TCP_BBR_BW_SLOTS; i++) {
        b->bw[i] = v;
        b->bw_round[i] = round;
    }
}

/* The largest rate of the last BBR_BW_ROUNDS rounds, kept in three slots
 * (K. Nichols' windowed running maximum): slot 0 holds the best sample,
 * slot 1 the best one taken after it, slot 2 the best after that, so when
 * the best ages out of the window the next best is already known. A slot
 * that has stood unchallenged for a quarter (slot 1) or half (slot 2) of the
 * window takes a newer sample, so the candidates stay spread over it. */
static void bw_update(struct tcp_bbr *b, uint32_t round, uint32_t v)
{
    if (v >= b->bw[0] || round - b->bw_round[2] > BBR_BW_ROUNDS) {
        bw_reset(b, round, v); /* a new best, or nothing left in the window */
        return;
    }
    if (v >= b->bw[1]) {
        b->bw[1] = b->bw[2] = v;
        b->bw_round[1] = b->bw_round[2] = round;
    } else if (v >= b->bw[2]) {
        b->bw[2] = v;
        b->bw_round[2] = round;
    }
    uint32_t age = round - b->bw_round[0];
    if (age > BBR_BW_ROUNDS) {
        /* the best has aged out: the others move up, the sample last */
        for (unsigned k = 0; k < 2 && round - b->bw_round[0] > BBR_BW_ROUNDS; k++) {
            b->bw[0] = b->bw[1];
            b->bw_round[0] = b->bw_round[1];
            b->bw[1] = b->bw[2];
            b->bw_round[1] = b->bw_round[2];
            b->bw[2] = v;
            b->bw_round[2] = round;
        }
    } else if (b->bw_round[1] == b->bw_round[0] && age > BBR_BW_ROUNDS / 4) {
        b->bw[1] = b->bw[2] = v;
        b->bw_round[1] = b->bw_round[2] = round;
    } else if (b->bw_round[2] == b->bw_round[1] && age > BBR_BW_ROUNDS / 2) {
        b->bw[2] = v;
        b->bw_round[2] = round;
    }
}

/* gain/1000 times the BDP, plus the reordering allowance and headroom; the
 * initial window while the model has no bandwidth or RTT yet. */
static uint32_t target_cwnd(const struct tcp_cc *cc, uint32_t gain)
{
    const struct tcp_bbr *b = &cc->bbr;
    if (b->bw[0] == 0 || b->min_rtt_us == UINT32_MAX)
        return BBR_INIT_CWND_SEGS * cc->mss;
    uint64_t bdp = (uint64_t)b->bw[0] * b->min_rtt_us / 1000u;
    /* a late segment is in flight for the reordering window beyond the RTT */
    uint32_t reo_us = b->reo_us < BBR_ALLOWANCE_MAX_US ? b->reo_us : BBR_ALLOWANCE_MAX_US;
    uint64_t reo = (uint64_t)b->bw[0] * reo_us / 1000u;
    uint64_t w = bdp * gain / BBR_UNIT + reo + (uint64_t)BBR_QUANTA_SEGS * cc->mss;
    return w > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)w;
}

/* Bytes the ACKs delivered beyond what the rate accounts for since the
 * epoch began; an epoch ends when the ACKs fall back to the rate. */
static void update_ack_aggregation(struct tcp_cc *cc, const struct tcp_rate_sample *rs,
                                   uint64_t now_us)
{
    struct tcp_bbr *b = &cc->bbr;
    if (b->bw[0] == 0 || rs->acked == 0)
        return;
    if (b->round_start && ++b->extra_acked_rounds >= BBR_EXTRA_ACKED_ROUNDS) {
        b->extra_acked_rounds = 0;
        b->extra_acked_idx ^= 1u;
        b->extra_acked[b->extra_acked_idx] = 0;
    }
    uint32_t now = (uint32_t)now_us;
    uint64_t expected = (uint64_t)b->bw[0] * (now - b->ack_epoch_us) / 1000u;
    if (b->ack_epoch_acked <= expected || b->ack_epoch_acked > UINT32_MAX / 2) {
        b->ack_epoch_acked = 0;
        b->ack_epoch_us = now;
        expected = 0;
    }
    b->ack_epoch_acked += rs->acked;
    uint64_t extra = b->ack_epoch_acked - expected;
    if (extra > cc->cwnd)
        extra = cc->cwnd;
    if (extra > b->extra_acked[b->extra_acked_idx])
        b->extra_acked[b->extra_acked_idx] = (uint32_t)extra;
}

static uint32_t aggregation_cwnd(const struct tcp_bbr *b)
{
    if (!b->full_bw_reached)
        return 0;
    uint32_t extra =
        b->extra_acked[0] > b->extra_acked[1] ? b->extra_acked[0] : b->extra_acked[1];
    uint64_t cap = (uint64_t)b->bw[0] * BBR_ALLOWANCE_MAX_US / 1000u;
    return extra < cap ? extra : (uint32_t)cap;
}

static uint32_t cwnd_gain(const struct tcp_bbr *b)
{
    switch (b->mode) {
    case TCP_BBR_STARTUP:
        return BBR_HIGH_GAIN;
    case TCP_BBR_PROBE_BW:
        return BBR_CWND_GAIN;
    default: /* DRAIN (the queue startup built goes), PROBE_RTT */
        return BBR_UNIT;
    }
}

static void save_cwnd(struct tcp_cc *cc)
{
    struct tcp_bbr *b = &cc->bbr;
    if (!b->in_loss && b->mode != TCP_BBR_PROBE_RTT)
        b->prior_cwnd = cc->cwnd;
    else if (cc->cwnd > b->prior_cwnd)
        b->prior_cwnd = cc->cwnd;
}

static void exit_probe_rtt(struct tcp_cc *cc, uint32_t now_ms)
{
    struct tcp_bbr *b = &cc->bbr;
    b->min_rtt_stamp_ms = now_ms;
    if (b->prior_cwnd > cc->cwnd)
        cc->cwnd = b->prior_cwnd;
    b->mode = b->full_bw_reached ? TCP_BBR_PROBE_BW : TCP_BBR_STARTUP;
}

static void update_min_rtt(struct tcp_cc *cc, const struct tcp_rate_sample *rs,
                           uint32_t inflight, uint64_t now_us)
{
    struct tcp_bbr *b = &cc->bbr;
    uint32_t now_ms = (uint32_t)(now_us / 1000u);
    bool expired =
        b->min_rtt_us != UINT32_MAX && now_ms - b->min_rtt_stamp_ms > BBR_MIN_RTT_WIN_MS;
    if (rs->rtt_us && (rs->rtt_us <= b->min_rtt_us || expired)) {
        b->min_rtt_us = rs->rtt_us;
        b->min_rtt_stamp_ms = now_ms;
    }
    if (expired && !b->idle_restart && b->mode != TCP_BBR_PROBE_RTT) {
        /* the estimate is 10 s old: drain the queue for a fresh one */
        save_cwnd(cc);
        b->mode = TCP_BBR_PROBE_RTT;
        b->probe_rtt_done_ms = 0;
    }
    if (rs->acked)
        b->idle_restart = false;
    if (b->mode != TCP_BBR_PROBE_RTT)
        return;
    /* what goes out at 4 segments shows the RTT, not the bandwidth: its
     * samples count as application-limited (they never lower the max) */
    b->app_limited = rs->delivered_total + inflight ? rs->delivered_total + inflight : 1;
    if (b->probe_rtt_done_ms == 0) {
        if (inflight <= BBR_MIN_CWND_SEGS * cc->mss) {
            b->probe_rtt_done_ms = (now_ms + BBR_PROBE_RTT_MS) | 1u; /* never 0 */
            b->probe_rtt_round_done = false;
            b->next_round_delivered = rs->delivered_total;
        }
        return;
    }
    if (b->round_start)
        b->probe_rtt_round_done = true;
    if (b->probe_rtt_round_done && (int32_t)(now_ms - b->probe_rtt_done_ms) >= 0)
        exit_probe_rtt(cc, now_ms);
}

static void set_cwnd(struct tcp_cc *cc, const struct tcp_rate_sample *rs,
                     uint32_t inflight)
{
    struct tcp_bbr *b = &cc->bbr;
    uint32_t min_cwnd = BBR_MIN_CWND_SEGS * cc->mss;
    uint32_t cwnd = cc->cwnd;
    if (b->enter_recovery) {
        /* packet conservation for a round: one segment out per one
         * delivered, no more, while the loss is repaired */
        b->enter_recovery = false;
        b->conservation = true;
        b->next_round_delivered = rs->delivered_total;
        cwnd = inflight + rs->acked;
    } else if (b->conservation) {
        if (inflight + rs->acked > cwnd)
            cwnd = inflight + rs->acked;
    } else {
        uint32_t target = target_cwnd(cc, cwnd_gain(b)) + aggregation_cwnd(b);
        if (b->full_bw_reached) {
            cwnd = cwnd + rs->acked < target ? cwnd + rs->acked : target;
        } else if (cwnd < target || rs->delivered_total < BBR_INIT_CWND_SEGS * cc->mss) {
            cwnd += rs->acked; /* startup: grows by what is delivered */
        }
    }
    if (cwnd < min_cwnd)
        cwnd = min_cwnd;
    if (b->mode == TCP_BBR_PROBE_RTT && cwnd > min_cwnd)
        cwnd = min_cwnd;
    cc->cwnd = cwnd;
}

void tcp_bbr_on_ack(struct tcp_cc *cc, const struct tcp_rate_sample *rs,
                    uint32_t inflight, uint64_t now_us)
{
    struct tcp_bbr *b = &cc->bbr;
    /* a round trip ends when a segment sent after it began is delivered */
    b->round_start = false;
    if (rs->have && (int32_t)(rs->prior_delivered - b->next_round_delivered) >= 0) {
        b->next_round_delivered = rs->delivered_total;
        b->round_count++;
        b->round_start = true;
        b->conservation = false;
    }
    /* an application-limited sample only counts when it raises the max:
     * it shows a rate the path can do, never one it cannot */
    bool app_limited = rs->app_limited || b->mode == TCP_BBR_PROBE_RTT;
    if (rs->delivered && rs->interval_us) {
        uint64_t bw = (uint64_t)rs->delivered * 1000u / rs->interval_us;
        uint32_t v = bw > UINT32_MAX ? UINT32_MAX : (uint32_t)bw;
        if (!app_limited || v >= b->bw[0])
            bw_update(b, b->round_count, v);
    }
    /* startup is over when three rounds in a row raised the rate by less
     * than a quarter: the pipe is full */
    if (!b->full_bw_reached && b->round_start && !app_limited) {
        if ((uint64_t)b->bw[0] * 4 >= (uint64_t)b->full_bw * 5) {
            b->full_bw = b->bw[0];
            b->full_bw_cnt = 0;
        } else if (++b->full_bw_cnt >= BBR_FULL_BW_ROUNDS) {
            b->full_bw_reached = true;
        }
    }
    if (b->mode == TCP_BBR_STARTUP && b->full_bw_reached)
        b->mode = TCP_BBR_DRAIN;
    if (b->mode == TCP_BBR_DRAIN && inflight <= target_cwnd(cc, BBR_UNIT))
        b->mode = TCP_BBR_PROBE_BW;
    b->reo_us = rs->reo_us;
    update_ack_aggregation(cc, rs, now_us);
    update_min_rtt(cc, rs, inflight, now_us);
    set_cwnd(cc, rs, inflight);
}

void tcp_bbr_on_loss(struct tcp_cc *cc)
{
    save_cwnd(cc);
    cc->bbr.in_loss = true;
    cc->bbr.enter_recovery = true;
}

void tcp_bbr_on_rto(struct tcp_cc *cc)
{
    struct tcp_bbr *b = &cc->bbr;
    save_cwnd(cc);
    b->in_loss = true;
    b->after_rto = true;
    b->enter_recovery = false;
    b->conservation = false;
    b->full_bw = 0;
    b->full_bw_cnt = 0;
    cc->cwnd = cc->mss; /* the ACKs of the resent segments grow it back */
}

void tcp_bbr_on_recovery_end(struct tcp_cc *cc, bool undo, uint32_t burst)
{
    struct tcp_bbr *b = &cc->bbr;
    uint32_t restore = b->prior_cwnd;
    if (b->after_rto && restore > burst)
        restore = burst;
    if ((b->in_loss || undo) && restore > cc->cwnd)
        cc->cwnd = restore;
    b->in_loss = false;
    b->after_rto = false;
    b->enter_recovery = false;
    b->conservation = false;
    if (undo) {
        b->full_bw = 0;
        b->full_bw_cnt = 0;
    }
}

void tcp_bbr_on_restart(struct tcp_cc *cc, uint64_t now_us)
{
    struct tcp_bbr *b = &cc->bbr;
    uint32_t now_ms = (uint32_t)(now_us / 1000u);
    b->idle_restart = true;
    if (b->mode == TCP_BBR_PROBE_RTT && b->probe_rtt_done_ms != 0 &&
        (int32_t)(now_ms - b->probe_rtt_done_ms) >= 0)
        exit_probe_rtt(cc, now_ms);
}
