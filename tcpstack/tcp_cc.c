/**
 * @file tcp_cc.c
 * Congestion control: NewReno (RFC 5681 3.1 growth in its byte-counting
 * form, RFC 6582 reduction) and CUBIC (RFC 9438 section 4); BBR's loss
 * events are passed on to tcp_bbr.c.
 *
 * Data enters as events from the TCP input and timer code (an ACK of new
 * data, a loss, the end of recovery, a timeout), each with the bytes in
 * flight and, where the algorithm needs them, the smoothed RTT and the
 * caller's clock. It leaves as cwnd and ssthresh in struct tcp_cc; nothing
 * else is read or written, so every function is a pure step on that struct.
 *
 * Windows are bytes in the struct. CUBIC's formulas are written in segments
 * (RFC 9438 4.1.2), so they divide by the MSS, evaluate in double precision
 * and multiply back. Times are microseconds in, seconds in the formulas.
 */
#include "tcp_cc.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* RFC 9438 4.1.1: beta_cubic = 0.7 and C = 0.4, the values it says SHOULD
 * be used; alpha_cubic (4.3) makes the Reno-friendly AIMD(alpha, beta)
 * average the same window as Reno's AIMD(1, 0.5). */
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
#define CUBIC_BETA ((double)CUBIC_BETA_NUM / CUBIC_BETA_DEN)
#define CUBIC_C 0.4
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))
/* Fast convergence (4.7): W_max = cwnd * (1 + beta_cubic) / 2 = cwnd * 17/20 */
#define CUBIC_FC_NUM (CUBIC_BETA_DEN + CUBIC_BETA_NUM)
#define CUBIC_FC_DEN (2 * CUBIC_BETA_DEN)

#define US_PER_S 1e6

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* A window computed in double back to bytes: truncated, never wrapped. */
static uint32_t bytes_of(double w)
{
    if (!(w > 0.0))
        return 0;
    if (w >= (double)UINT32_MAX)
        return UINT32_MAX;
    return (uint32_t)w;
}

void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss,
                 uint32_t init_cwnd)
{
    memset(cc, 0, sizeof(*cc));
    cc->algo = (uint8_t)algo;
    cc->mss = mss;
    cc->cwnd = init_cwnd;
    cc->ssthresh = UINT32_MAX;
    if (algo == TCP_CC_BBR) {
        tcp_bbr_init(cc);
        return;
    }
    cc->hs_state = TCP_HS_SS;
    cc->hs_last_min_us = UINT32_MAX;
    cc->hs_cur_min_us = UINT32_MAX;
    cc->hs_css_base_us = UINT32_MAX;
}

/* RFC 9406 4.3 constants */
#define HS_MIN_RTT_THRESH_US 4000u
#define HS_MAX_RTT_THRESH_US 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_GROWTH_DIVISOR 4u
#define HS_CSS_ROUNDS 5u
/* segments slow start may grow by per ACK: RFC 9406's L without pacing,
 * kept when paced (pacing is optional) */
#define HS_L 8u

static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

bool tcp_cc_hystart(struct tcp_cc *cc, uint32_t ack, uint32_t snd_nxt, uint32_t rtt_us)
{
    if (cc->algo == TCP_CC_BBR || cc->hs_state == TCP_HS_OFF || cc->cwnd >= cc->ssthresh)
        return false;
    /* a round ends when the data sent at its start is acknowledged */
    if (cc->hs_window_end == 0 || seq_diff(ack, cc->hs_window_end) >= 0) {
        if (cc->hs_window_end != 0) {
            cc->hs_last_min_us = cc->hs_cur_min_us;
            if (cc->hs_state == TCP_HS_CSS && ++cc->hs_css_rounds >= HS_CSS_ROUNDS) {
                /* enough conservative rounds: congestion avoidance */
                cc->ssthresh = cc->cwnd;
                cc->hs_state = TCP_HS_OFF;
                return false;
            }
        }
        cc->hs_window_end = snd_nxt ? snd_nxt : 1;
        cc->hs_cur_min_us = UINT32_MAX;
        cc->hs_samples = 0;
    }
    if (rtt_us == 0)
        return false;
    if (rtt_us < cc->hs_cur_min_us)
        cc->hs_cur_min_us = rtt_us;
    if (cc->hs_samples < UINT8_MAX)
        cc->hs_samples++;
    if (cc->hs_samples < HS_N_RTT_SAMPLE || cc->hs_cur_min_us == UINT32_MAX)
        return false;
    if (cc->hs_state == TCP_HS_CSS) {
        /* the RTT came back down: the rise was noise, slow start again */
        if (cc->hs_cur_min_us < cc->hs_css_base_us) {
            cc->hs_css_base_us = UINT32_MAX;
            cc->hs_state = TCP_HS_SS;
        }
        return false;
    }
    if (cc->hs_last_min_us == UINT32_MAX)
        return false;
    uint32_t thresh = cc->hs_last_min_us / HS_MIN_RTT_DIVISOR;
    if (thresh < HS_MIN_RTT_THRESH_US)
        thresh = HS_MIN_RTT_THRESH_US;
    if (thresh > HS_MAX_RTT_THRESH_US)
        thresh = HS_MAX_RTT_THRESH_US;
    if ((uint64_t)cc->hs_cur_min_us < (uint64_t)cc->hs_last_min_us + thresh)
        return false;
    /* the queue is building: conservative slow start (RFC 9406 4.2) */
    cc->hs_css_base_us = cc->hs_cur_min_us;
    cc->hs_state = TCP_HS_CSS;
    cc->hs_css_rounds = 0;
    return true;
}

/* RFC 5681 3.1, byte counting: once the bytes acknowledged in congestion
 * avoidance reach cwnd, cwnd grows by one SMSS, about one per RTT. */
static void newreno_avoid(struct tcp_cc *cc, uint32_t acked)
{
    cc->bytes_acked = add_sat(cc->bytes_acked, acked);
    if (cc->bytes_acked >= cc->cwnd) {
        cc->bytes_acked -= cc->cwnd;
        cc->cwnd = add_sat(cc->cwnd, cc->mss);
    }
}

/* RFC 9438 4.2 Figure 1, in bytes: W_cubic(t) = C*(t-K)^3 + W_max with
 * W_max and the result in segments, t and K in seconds. */
static double cubic_w(const struct tcp_cc *cc, double t_s)
{
    double d = t_s - cc->k_s;
    return (CUBIC_C * d * d * d + (double)cc->w_max / cc->mss) * cc->mss;
}

/* A congestion avoidance stage begins (RFC 9438 4.2): t_epoch is now,
 * cwnd_epoch the current cwnd, W_est starts there (4.3). After a loss the
 * curve climbs back to W_max in K = cbrt((W_max - cwnd_epoch)/C) seconds;
 * K is negative when the stage starts above W_max (only after an
 * application-limited restart), which keeps the curve through cwnd_epoch.
 * With no W_max to return to, out of the first slow start (4.10) or after
 * a timeout (4.8), W_max is cwnd_epoch and K is 0. */
static void cubic_epoch_start(struct tcp_cc *cc, uint64_t now_us)
{
    /* 0 means "no epoch"; a clock that starts at 0 loses one microsecond */
    cc->epoch_start_us = now_us ? now_us : 1;
    if (cc->w_max == 0) {
        cc->w_max = cc->cwnd;
        cc->w_last_max = cc->cwnd;
        cc->k_s = 0.0;
    } else {
        double gap_segs = ((double)cc->w_max - cc->cwnd) / cc->mss;
        cc->k_s = cbrt(gap_segs / CUBIC_C);
    }
    cc->w_est = cc->cwnd;
    cc->bytes_acked = 0;
}

/* RFC 9438 4.3 to 4.5, once per ACK in congestion avoidance. */
static void cubic_avoid(struct tcp_cc *cc, uint32_t acked, uint32_t srtt_us,
                        uint64_t now_us)
{
    if (cc->epoch_start_us == 0)
        cubic_epoch_start(cc, now_us);
    double cwnd = cc->cwnd;
    double t = now_us > cc->epoch_start_us
                   ? (double)(now_us - cc->epoch_start_us) / US_PER_S
                   : 0.0;

    /* 4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd; alpha_cubic
     * becomes 1 once W_est reaches cwnd_prior, Reno's own rate. */
    double alpha = cc->w_est >= cc->cwnd_prior ? 1.0 : CUBIC_ALPHA;
    cc->w_est += alpha * (double)acked * cc->mss / cwnd;
    if (cubic_w(cc, t) < cc->w_est) {
        /* Reno-friendly region: cwnd follows W_est; an ACK never shrinks it */
        cc->cwnd = max_u32(cc->cwnd, bytes_of(cc->w_est));
        cc->bytes_acked = 0;
        return;
    }

    /* 4.2: the target is W_cubic one RTT ahead, kept between cwnd (growth
     * never negative) and 1.5*cwnd (never faster than slow start). 4.4 and
     * 4.5: concave and convex regions alike, cwnd grows by
     * (target - cwnd)/cwnd per segment acknowledged, i.e. by
     * (target - cwnd) * acked / cwnd bytes. Near the plateau that is a
     * fraction of a byte per ACK, so the acked bytes not yet turned into a
     * whole byte of growth wait in bytes_acked; truncating instead would
     * leave cwnd a steady cwnd/SMSS bytes short of the curve. */
    double target = cubic_w(cc, t + (double)srtt_us / US_PER_S);
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    if (target <= cwnd)
        return;
    cc->bytes_acked = add_sat(cc->bytes_acked, acked);
    double grow = (target - cwnd) * cc->bytes_acked / cwnd;
    uint32_t whole = bytes_of(grow);
    if (whole == 0)
        return;
    cc->cwnd = add_sat(cc->cwnd, whole);
    cc->bytes_acked = bytes_of((grow - whole) * cwnd / (target - cwnd));
}

void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight, uint32_t srtt_us,
                   uint64_t now_us)
{
    if (acked == 0 || cc->algo == TCP_CC_BBR) /* BBR: tcp_bbr_on_ack() */
        return;
    if (flight < cc->cwnd / 2) {
        /* Application-limited: no growth, and (RFC 9438 4.2) the time spent
         * so does not count in t: the next growth starts a new epoch from
         * the cwnd reached, towards the same W_max. */
        cc->epoch_start_us = 0;
        return;
    }
    if (cc->cwnd < cc->ssthresh) {
        /* RFC 5681 3.1 (2); RFC 9438 4.10 keeps standard slow start;
         * HyStart++'s conservative slow start grows a quarter as fast,
         * the fraction kept in bytes_acked */
        uint32_t grow = min_u32(acked, cc->mss);
        if (cc->hs_state != TCP_HS_OFF) /* RFC 9406 4.2: L = 8 (HS_L) */
            grow = min_u32(acked, HS_L * cc->mss);
        if (cc->hs_state == TCP_HS_CSS) {
            cc->bytes_acked = add_sat(cc->bytes_acked, grow);
            grow = cc->bytes_acked / HS_CSS_GROWTH_DIVISOR;
            cc->bytes_acked -= grow * HS_CSS_GROWTH_DIVISOR;
        }
        cc->cwnd = add_sat(cc->cwnd, grow);
        return;
    }
    if (cc->algo == TCP_CC_CUBIC)
        cubic_avoid(cc, acked, srtt_us, now_us);
    else
        newreno_avoid(cc, acked);
}

/* RFC 9438 4.6 and 4.7 on a loss: remember cwnd_prior, lower W_max further
 * when the loss came before the last W_max was reached (the flow is giving
 * way to another), then ssthresh = cwnd * beta_cubic, at least 2 SMSS.
 * 4.6 allows cwnd in place of flight_size, which is what the contract asks. */
static void cubic_reduce(struct tcp_cc *cc)
{
    cc->cwnd_prior = cc->cwnd;
    if (cc->cwnd < cc->w_last_max)
        cc->w_last_max = (uint32_t)((uint64_t)cc->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN);
    else
        cc->w_last_max = cc->cwnd;
    cc->w_max = cc->w_last_max;
    uint32_t beta_cwnd = (uint32_t)((uint64_t)cc->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
    cc->ssthresh = max_u32(beta_cwnd, 2 * cc->mss);
    cc->epoch_start_us = 0;
}

void tcp_cc_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now_us)
{
    if (cc->algo == TCP_CC_BBR) {
        tcp_bbr_on_loss(cc);
        return;
    }
    cc->hs_state = TCP_HS_OFF; /* RFC 9406 4.2: a loss ends slow start */
    /* The epoch starts at the first ACK after the loss, not at the loss. */
    (void)now_us;
    if (cc->algo == TCP_CC_CUBIC)
        cubic_reduce(cc);
    else
        cc->ssthresh = max_u32(flight / 2, 2 * cc->mss); /* RFC 5681 (4) */
    cc->cwnd = cc->ssthresh;
    cc->bytes_acked = 0;
}

void tcp_cc_on_fast_retransmit(struct tcp_cc *cc, uint32_t segsz)
{
    if (cc->algo != TCP_CC_BBR)
        cc->cwnd = add_sat(cc->ssthresh, 3 * segsz);
}

void tcp_cc_on_dupack(struct tcp_cc *cc, uint32_t segsz)
{
    if (cc->algo != TCP_CC_BBR)
        cc->cwnd = add_sat(cc->cwnd, segsz);
}

void tcp_cc_on_partial_ack(struct tcp_cc *cc, uint32_t acked, uint32_t segsz)
{
    if (cc->algo == TCP_CC_BBR)
        return;
    cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
    if (acked >= segsz)
        cc->cwnd += segsz;
    if (cc->cwnd < segsz)
        cc->cwnd = segsz;
}

void tcp_cc_on_recovery_end(struct tcp_cc *cc, bool loss)
{
    if (cc->algo == TCP_CC_BBR)
        tcp_bbr_on_recovery_end(cc, false, 0);
    else if (!loss)
        cc->cwnd = cc->ssthresh;
}

void tcp_cc_on_recovery_exit(struct tcp_cc *cc, uint32_t flight)
{
    if (cc->algo == TCP_CC_BBR) {
        tcp_bbr_on_recovery_end(cc, false, 0);
        return;
    }
    /* RFC 6582 3.2 step 3, option 1 */
    cc->cwnd = min_u32(cc->ssthresh, add_sat(max_u32(flight, cc->mss), cc->mss));
    cc->bytes_acked = 0;
}

void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t flight, uint64_t now_us)
{
    if (cc->algo == TCP_CC_BBR) {
        tcp_bbr_on_rto(cc);
        return;
    }
    cc->hs_state = TCP_HS_OFF;
    (void)now_us;
    if (cc->algo == TCP_CC_CUBIC) {
        /* RFC 9438 4.8: Reno's loss window but 4.6's ssthresh, from the
         * flight (cwnd may be the recovery's). The next congestion
         * avoidance stage starts a fresh curve: w_max 0 says "K = 0 and
         * W_max = cwnd_epoch"; w_last_max stays for fast convergence. */
        cc->cwnd_prior = cc->cwnd;
        uint32_t beta_flight =
            (uint32_t)((uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
        cc->ssthresh = max_u32(beta_flight, 2 * cc->mss);
        cc->w_max = 0;
        cc->epoch_start_us = 0;
    } else {
        cc->ssthresh = max_u32(flight / 2, 2 * cc->mss); /* RFC 5681 (4) */
    }
    cc->cwnd = cc->mss; /* RFC 5681 3.1: the loss window, 1 SMSS */
    cc->bytes_acked = 0;
}

const char *tcp_cc_name(enum tcp_cc_algo algo)
{
    switch (algo) {
    case TCP_CC_NEWRENO:
        return "newreno";
    case TCP_CC_CUBIC:
        return "cubic";
    case TCP_CC_BBR:
        return "bbr";
    }
    return "unknown";
}

int tcp_cc_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "newreno") == 0)
        return TCP_CC_NEWRENO;
    if (strcmp(name, "cubic") == 0)
        return TCP_CC_CUBIC;
    if (strcmp(name, "bbr") == 0)
        return TCP_CC_BBR;
    return -1;
}
