/**
 * @file tcp_timer.c
 * What TCP does when a timer fires.
 *
 * The timers themselves are in ts_wheel.c.
 *
 * Retransmission follows RFC 6298 (exponential backoff of the RTO, go back to
 * snd_una, RFC 5681 section 3.1 on the congestion window); the SYN-ACK
 * timer gives up after syn_retries; TIME_WAIT ends after 2*MSL.
 */
#include "ts_priv.h"

#define TS_TX_WAIT_RECHECK_US 20 /* output waiting for the device: look again */

uint64_t ts_next_deadline(const struct ts_ctx *ctx)
{
    uint64_t t = RTE_MIN(ts_wheel_next(&ctx->wheel), tcp_tw_next_deadline(ctx));
    if (ctx->out_head >= 0)
        t = RTE_MIN(t, ctx->now + TS_TX_WAIT_RECHECK_US);
    return t;
}

/* --------------------------------------------------------------- TCP */

/* A timeout of a SACK connection (RFC 8985 6.3): everything not SACKed is
 * lost; the loss window slow-starts while the recovery output sends the
 * lost segments again in order. The episode may still prove spurious
 * (RFC 4015, tcp_rec_check_ts). */
static void rack_timeout(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (!(s->tflags & TF_IN_RECOVERY))
        tcp_rec_episode(ctx, s);
    if (s->rexmt_shift == 1)
        tcp_cc_on_rto(&s->cc, s->snd_max - s->snd_una, ctx->now);
    else
        s->cc.cwnd = s->cc.mss;
    s->dupacks = 0;
    /* a second timeout in a row forgets SACK, in case the receiver
     * reneged (RFC 2018 8) */
    bool renege = s->rexmt_shift >= 2;
    if (renege)
        tcp_sb_reset(&s->bufs->sb);
    tcp_rec_mark_all_lost(ctx, s, renege);
    s->recover = s->snd_max;
    s->snd_nxt = s->snd_max;
    s->tflags |= TF_IN_RECOVERY | TF_LOSS;
    tcp_output(ctx, s);
}

static void rexmt_timeout(struct ts_ctx *ctx, struct ts_sock *s)
{
    bool opening = s->state == TCPS_SYN_RCVD || s->state == TCPS_SYN_SENT;
    /* a shut window's probe is counted with the timeouts, but not as one
     * at the minimum RTO: it answers a lost window update, not a lost
     * segment */
    bool window_probe = !opening && s->snd_wnd == 0;
    ctx->st.tcp_timeouts++;
    if (window_probe)
        ctx->st.tcp_window_probes++;
    else if (s->rto_us <= ctx->p.rto_min_ms * 1000u)
        ctx->st.tcp_timeouts_min_rto++;
    if (++s->rexmt_shift > tcp_retries(ctx, s)) {
        if (s->tflags & TF_ORPHAN)
            ctx->st.tcp_orphan_drops++;
        tcp_drop(ctx, s, ETIMEDOUT);
        ts_sock_maybe_free(ctx, s);
        return;
    }
    /* RFC 6298 5.5: back off the timer */
    uint64_t rto = (uint64_t)s->rto_us << 1;
    if (rto > (uint64_t)ctx->p.rto_max_ms * 1000)
        rto = (uint64_t)ctx->p.rto_max_ms * 1000;
    s->rto_us = (uint32_t)rto;
    /* Karn: no RTT sample from a retransmitted segment */
    s->tflags &= ~TF_RTT_TIMING;
    if (s->bufs) /* the timeout's reduction answers a probe out too */
        s->bufs->rec.tlp_on = false;
    if (opening) {
        ctx->st.tcp_retransmits++;
        uint8_t flags = RTE_TCP_SYN_FLAG;
        if (s->state == TCPS_SYN_RCVD)
            flags |= RTE_TCP_ACK_FLAG;
        tcp_send_ctl(ctx, s, flags, s->iss);
        tcp_arm_rto(ctx, s);
        return;
    }
    if (tcp_rack_on(s) && s->snd_una != s->snd_max && s->snd_wnd > 0) {
        rack_timeout(ctx, s);
        return;
    }
    if (s->snd_wnd == 0) {
        /* a zero window probe (RFC 9293 3.8.6.1): the receiver is full, the
         * network is not; no congestion response, so the window update
         * finds the sender where the window closed (Linux's probe timer
         * leaves cwnd alone too); it ends a recovery and its loss window
         * all the same (TF_LOSS would grow cwnd twice per ACK from here) */
        if (s->cc.algo == TCP_CC_BBR && (s->tflags & TF_IN_RECOVERY))
            tcp_bbr_on_recovery_end(&s->cc, false, 0);
        s->tflags &= ~(TF_IN_RECOVERY | TF_LOSS);
        s->dupacks = 0;
        s->snd_nxt = s->snd_una;
        s->tflags |= TF_FORCE1;
        tcp_output(ctx, s);
        return;
    }
    /* RFC 5681 (4): the loss window; the algorithm sets ssthresh on the
     * first timeout only (a segment timing out again keeps ssthresh) */
    if (s->rexmt_shift == 1)
        tcp_cc_on_rto(&s->cc, s->snd_max - s->snd_una, ctx->now);
    else
        s->cc.cwnd = s->cc.mss;
    s->dupacks = 0;
    /* out of recovery, and out of the loss window of an earlier timeout
     * too (TF_LOSS would grow cwnd twice per ACK from here on) */
    s->tflags &= ~(TF_IN_RECOVERY | TF_LOSS);
    /* go back N, skipping what the peer SACKed (RFC 6675 5.1); a second
     * timeout in a row forgets SACK, in case the receiver reneged (RFC
     * 2018 8) */
    if (s->bufs && s->rexmt_shift >= 2)
        tcp_sb_reset(&s->bufs->sb);
    /* go back to the oldest unacknowledged byte (or FIN) */
    s->snd_nxt = s->snd_una;
    if (s->snd_wnd == 0)
        s->tflags |= TF_FORCE1;
    tcp_output(ctx, s);
}

/* RFC 9293 3.8.4 / RFC 1122 4.2.3.6: after keepalive_ms of silence, probe
 * with a segment the peer must acknowledge (SEG.SEQ = SND.NXT - 1, no
 * data); give up after keepalive_probes unanswered probes. */
static void keepalive_timeout(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (ctx->p.keepalive_ms == 0 || s->state != TCPS_ESTABLISHED)
        return;
    uint64_t idle = ctx->now - s->last_rx_us;
    uint64_t limit = (uint64_t)ctx->p.keepalive_ms * 1000;
    if (s->keep_probes == 0 && idle < limit) {
        ts_timer_arm(ctx, &s->t_keep, s->last_rx_us + limit);
        return;
    }
    if (s->keep_probes >= ctx->p.keepalive_probes) {
        ctx->st.tcp_keepalive_drops++;
        tcp_drop(ctx, s, ETIMEDOUT);
        return;
    }
    s->keep_probes++;
    tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_una - 1);
    ts_timer_arm(ctx, &s->t_keep, ctx->now + (uint64_t)ctx->p.keepalive_intvl_ms * 1000);
}

/* a floor under 2 * SRTT: on a LAN, where SRTT is tens of microseconds, a
 * receiver that ACKs a batch at a time (its softirq, or its process,
 * scheduled late) is not probed for it (Linux adds two jiffies to 2 * SRTT) */
#define TLP_MIN_US 1000u
#define TLP_WC_DELACK_US 200000u /* RFC 8985 7.2 WCDelAckT */

void tcp_arm_rto(struct ts_ctx *ctx, struct ts_sock *s)
{
    s->tflags &= ~TF_TLP_ARMED;
    ts_timer_arm(ctx, &s->t_rexmt, ctx->now + s->rto_us);
}

/* RFC 8985 7.2: with SACK, an RTT sample, data in flight and fewer than
 * TCP_TLP_MAX probes out, a probe timeout of 2 * SRTT (a lone segment may
 * also wait for a delayed ACK), the same for the second probe and doubled
 * for each one after it (as QUIC's PTO backs off); 0 when no probe
 * applies. RFC 8985 sends one probe: on the lossy TAP path of
 * bench/lossy_goodput.sh the answers to a probe fail to come about once
 * per 10 MB (5% ACK loss, and ACKs that reach the stack only once it sends
 * again), and each later probe, still far before the RTO, saves a 200 ms
 * timeout and the loss window that follows it. Unlike RFC 8985, a probe
 * may go in recovery too, once per ACK that makes progress: when the
 * retransmissions in flight are lost again and PRR holds everything else
 * back, nothing sent later would be SACKed to show RACK the loss, and only
 * the RTO (its 200 ms floor is thousands of round trips on a LAN) would
 * end the wait. */
static uint64_t tlp_timeout(const struct ts_sock *s)
{
    uint32_t flight = s->snd_max - s->snd_una;
    /* our data or FIN outstanding: a response's tail after close() too */
    bool data_state = s->state == TCPS_ESTABLISHED || s->state == TCPS_CLOSE_WAIT ||
                      s->state == TCPS_FIN_WAIT_1 || s->state == TCPS_CLOSING ||
                      s->state == TCPS_LAST_ACK;
    if (!(s->tflags & TF_SACK_OK) || s->srtt_us == 0 || flight == 0 || !data_state ||
        (s->tflags & TF_TLP_SENT) || s->rexmt_shift != 0 ||
        ((s->tflags & TF_IN_RECOVERY) && s->bufs == NULL))
        return 0;
    uint64_t pto = RTE_MAX(2ull * s->srtt_us, (uint64_t)TLP_MIN_US);
    /* a lone segment may wait for a delayed ACK; a lone FIN does not: it is
     * acknowledged at once (RFC 9293 3.10.7.4, eighth check) */
    bool fin_only = (s->tflags & TF_FIN_SENT) && flight == 1;
    if (flight <= tcp_seg_size(s) && !fin_only)
        pto += TLP_WC_DELACK_US;
    /* the first probe goes when the RTO would at the latest (RFC 8985
     * 7.2: PTO is cut to the RTO's expiry), so that a lone segment's loss
     * (2 * SRTT and WCDelAckT against a 200 ms RTO) is a probe, not a
     * timeout and its loss window; each further one only before it */
    if (s->tlp_count == 0)
        return RTE_MIN(pto, (uint64_t)s->rto_us);
    /* the second probe, a segment the receiver has if only ACKs were lost,
     * is answered at once (RFC 5681 4.2), where the first, new data in
     * order, may wait for the receiver's delayed-ACK timer: it goes one PTO
     * after the first; each later one waits twice as long as the one before
     * (1, 1, 2, 4 and 8 PTOs: the five span 16, as four doubling from the
     * first spanned 15, for a receiver that answers nothing for a while) */
    pto <<= s->tlp_count - 1;
    return pto < s->rto_us ? pto : 0;
}

void tcp_arm_rexmt(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint64_t pto = tlp_timeout(s);
    if (pto == 0) {
        tcp_arm_rto(ctx, s);
        return;
    }
    s->tflags |= TF_TLP_ARMED;
    ts_timer_arm(ctx, &s->t_rexmt, ctx->now + pto);
}

void tcp_sent_new_data(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (!ts_timer_armed(&s->t_rexmt)) {
        tcp_arm_rexmt(ctx, s);
        return;
    }
    /* the timer was set while the flight was one segment (an RTO, or a
     * probe that waits for a delayed ACK): more segments now make an
     * earlier probe the right timer */
    uint64_t pto = tlp_timeout(s);
    if (pto && ctx->now + pto < s->t_rexmt.expire_us) {
        s->tflags |= TF_TLP_ARMED;
        ts_timer_arm(ctx, &s->t_rexmt, ctx->now + pto);
    }
}

/* RFC 8985 7.3: the probe is one new segment if the window lets it out,
 * else the last segment again; either way its ACK (with SACK blocks)
 * starts fast recovery instead of a timeout. */
static void tlp_fire(struct ts_ctx *ctx, struct ts_sock *s)
{
    s->tflags &= ~TF_TLP_ARMED;
    if (++s->tlp_count >= TCP_TLP_MAX)
        s->tflags |= TF_TLP_SENT;
    if (s->bufs && s->tlp_count == 1)
        s->bufs->rec.tlp_series++;
    ctx->st.tcp_tlp_probes++;
    tcp_snd_collect(ctx, s);
    uint32_t before = s->snd_max;
    if (s->bufs)
        s->bufs->rec.probe_tx = true;
    /* later probes resend the last segment (or the oldest missing once it
     * is SACKed: tcp_rec_probe) whatever is waiting: a receiver that has
     * it answers a duplicate at once (RFC 5681 4.2), where new data in
     * order may wait for its delayed-ACK timer (40 ms on Linux) when what
     * was lost were ACKs */
    if (SEQ_LT(s->snd_nxt, s->snd_end) && s->tlp_count == 1) {
        s->tflags |= TF_TLP_NEW;
        tcp_output(ctx, s);
        s->tflags &= ~TF_TLP_NEW;
    }
    bool retrans = s->snd_max == before;
    if (retrans)
        tcp_rexmit_tail(ctx, s);
    if (s->bufs) {
        s->bufs->rec.probe_tx = false;
        tcp_tlp_sent(s, retrans);
    }
    tcp_arm_rexmt(ctx, s); /* the second probe, or the RTO */
}

static bool can_recover(const struct ts_sock *s)
{
    return s->state == TCPS_ESTABLISHED || s->state == TCPS_CLOSE_WAIT ||
           s->state == TCPS_FIN_WAIT_1 || s->state == TCPS_CLOSING ||
           s->state == TCPS_LAST_ACK;
}

void tcp_timer_fire(void *arg, struct ts_timer *t)
{
    struct ts_ctx *ctx = arg;
    struct ts_sock *s;
    /* which timer of which socket */
    if ((uintptr_t)t >= (uintptr_t)ctx->socks &&
        (uintptr_t)t < (uintptr_t)(ctx->socks + ctx->nsocks)) {
        size_t idx = ((uintptr_t)t - (uintptr_t)ctx->socks) / sizeof(struct ts_sock);
        s = &ctx->socks[idx];
    } else {
        TS_ASSERT(!"timer outside the socket table");
        return;
    }
    if (t == &s->t_delack) {
        s->tflags |= TF_ACKNOW;
        tcp_output(ctx, s);
        return;
    }
    if (t == &s->t_pace) {
        tcp_output(ctx, s);
        return;
    }
    if (t == &s->t_reo) {
        /* RACK's reordering timer (RFC 8985 6.2 step 5): what was waiting
         * for its window may be lost now */
        if (tcp_rack_on(s) && can_recover(s) && tcp_rack_detect(ctx, s)) {
            if (!(s->tflags & TF_IN_RECOVERY))
                tcp_enter_recovery(ctx, s);
            tcp_prr_ack(ctx, s, 0);
            tcp_output(ctx, s);
        } else if (s->bufs && s->snd_una == s->snd_max && s->bufs->rec.undo_on) {
            /* idle since the last recovery: its undo is no longer awaited */
            s->bufs->rec.undo_on = false;
            s->bufs->rec.prev_on = false;
            tcp_bufs_maybe_release(ctx, s);
        }
        ts_sock_maybe_free(ctx, s);
        return;
    }
    if (t == &s->t_keep && s->state == TCPS_FIN_WAIT_2 && (s->tflags & TF_ORPHAN)) {
        /* an orphan whose peer never sends its FIN (Linux's tcp_fin_timeout) */
        ctx->st.tcp_orphan_fin_timeouts++;
        tcp_drop(ctx, s, ETIMEDOUT);
        ts_sock_maybe_free(ctx, s);
        return;
    }
    if (t == &s->t_keep) {
        keepalive_timeout(ctx, s);
        ts_sock_maybe_free(ctx, s);
        return;
    }
    if (s->tflags & TF_TLP_ARMED)
        tlp_fire(ctx, s);
    else
        rexmt_timeout(ctx, s);
    ts_sock_maybe_free(ctx, s);
}
