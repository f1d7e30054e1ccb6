/**
 * @file tcp_in.c
 * The TCP receive path: tcp_input -> (no flow: tcp_listen_input | a SYN
 * cookie) -> tcp_deliver (a ts_gro run whole, or segment by segment) ->
 * tcp_syn_rcvd_input | tcp_syn_sent_input | tcp_process.
 *
 * Validation and demultiplexing come first (length, checksum, flow lookup);
 * a segment of no flow opens a connection on a listener or is answered with
 * a RST. A segment of a synchronized connection is then processed in the
 * order of RFC 9293 section 3.10.7.4: sequence check, RST, SYN, ACK (send
 * window, congestion control, RTT), data, FIN. It leaves through one of the
 * labelled exits: drop (free), or done after queueing the ACK it owes.
 */
#include <string.h>

#include "tcp_sack.h"
#include "ts_priv.h"

#define TCP_DEFAULT_MSS 536      /* RFC 9293 3.7.1: when the peer sends none */
#define TCP_MIN_MSS 64           /* Linux's floor (48 bytes) plus room for options */
#define TCP_INIT_RTO_US 1000000u /* RFC 6298 2.1 */

/* A segment being processed: a local, never file state. */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 9293 3.1 option list; unknown options are skipped by their length.
 * Returns false for a malformed list (a length under 2, which would loop,
 * or one that runs past the header): RFC 1122 4.2.2.5 asks that an illegal
 * length be handled without harm; the segment is dropped. */
static bool parse_options(const uint8_t *opt, uint32_t len, struct tcp_seg *seg)
{
    uint32_t i = 0;
    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == 0) /* end of options */
            break;
        if (kind == 1) { /* no-op */
            i++;
            continue;
        }
        if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
            return false;
        uint8_t olen = opt[i + 1];
        const uint8_t *v = opt + i + 2;
        switch (kind) {
        case 2:
            if (olen == 4)
                seg->mss = (uint16_t)(v[0] << 8 | v[1]);
            break;
        case 3:
            if (olen == 3) /* RFC 7323 2.3: larger than 14 is taken as 14 */
                seg->wscale = (int8_t)RTE_MIN(v[0], 14);
            break;
        case 4:
            if (olen == 2)
                seg->sack_ok = true;
            break;
        case 5:
            if (olen >= 10 && (olen - 2) % 8 == 0) {
                for (uint32_t k = 0; k < (olen - 2u) / 8 && seg->nsack < TCP_SACK_MAX;
                     k++) {
                    seg->sack[seg->nsack].start = get32(v + 8 * k);
                    seg->sack[seg->nsack].end = get32(v + 8 * k + 4);
                    seg->nsack++;
                }
            }
            break;
        case 8:
            if (olen == 10) {
                seg->has_ts = true;
                seg->tsval = get32(v);
                seg->tsecr = get32(v + 4);
            }
            break;
        default:
            break;
        }
        i += olen;
    }
    return true;
}

/* RFC 6298 2.2-2.4, with the clock granularity G taken as 1 ms. */
static void rtt_sample(struct ts_ctx *ctx, struct ts_sock *s, uint32_t r)
{
    if (s->srtt_us == 0) {
        s->srtt_us = r;
        s->rttvar_us = r / 2;
    } else {
        uint32_t d = s->srtt_us > r ? s->srtt_us - r : r - s->srtt_us;
        s->rttvar_us = (3 * s->rttvar_us + d) / 4;
        s->srtt_us = (7 * s->srtt_us + r) / 8;
    }
    uint64_t rto = s->srtt_us + RTE_MAX(1000u, 4 * s->rttvar_us);
    rto = RTE_MAX(rto, (uint64_t)ctx->p.rto_min_ms * 1000);
    rto = RTE_MIN(rto, (uint64_t)ctx->p.rto_max_ms * 1000);
    s->rto_us = (uint32_t)rto;
}

static void ack_now(struct ts_ctx *ctx, struct ts_sock *s)
{
    s->tflags |= TF_ACKNOW;
    ts_sock_want_output(ctx, s);
}

/* RFC 7323 4.3: remember the timestamp to echo, from an in-sequence
 * segment that is not older than the last one remembered. */
static void ts_recent_update(struct ts_ctx *ctx, struct ts_sock *s,
                             const struct tcp_seg *seg)
{
    if ((s->tflags & TF_TS_OK) && seg->has_ts && SEQ_GEQ(seg->tsval, s->ts_recent) &&
        SEQ_LEQ(seg->seq, s->last_ack_sent)) {
        s->ts_recent = seg->tsval;
        s->ts_recent_us = ctx->now;
    }
}

/* RFC 5961 7: challenge ACKs are rate-limited per context so that they
 * cannot be used to amplify or to probe. */
#define TCP_CHALLENGE_PER_S 1000u

static void challenge_ack(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (ctx->now - ctx->chal_epoch_us >= 1000000) {
        ctx->chal_epoch_us = ctx->now;
        ctx->chal_count = 0;
    }
    if (ctx->chal_count >= TCP_CHALLENGE_PER_S)
        return;
    ctx->chal_count++;
    ctx->st.tcp_challenge_acks++;
    ack_now(ctx, s);
}

/* ---------------------------------------------------------- passive open */

/* Agrees on options from the peer's SYN (RFC 7323 1.3, RFC 2018 2: each is
 * used only when both sides offer it) and sizes the connection from it. */
static void tcp_syn_options(struct ts_ctx *ctx, struct ts_sock *s,
                            const struct tcp_seg *seg)
{
    s->tflags &= ~(TF_WS_OK | TF_TS_OK | TF_SACK_OK);
    s->rcv_adv = s->rcv_nxt; /* the window's right edge starts from the peer's ISN */
    s->snd_wscale = 0;
    s->rcv_wscale = 0;
    if (ctx->p.opt_wscale && seg->wscale >= 0) {
        s->tflags |= TF_WS_OK;
        s->snd_wscale = (uint8_t)seg->wscale;
        s->rcv_wscale = ctx->rcv_wscale;
    }
    if (ctx->p.opt_timestamps && seg->has_ts) {
        s->tflags |= TF_TS_OK;
        s->ts_recent = seg->tsval;
        s->ts_recent_us = ctx->now;
    }
    if (ctx->p.opt_sack && seg->sack_ok)
        s->tflags |= TF_SACK_OK;
    /* a tiny MSS would leave no payload beside the options (and a peer
     * could make us send a byte per segment): taken as TCP_MIN_MSS */
    uint32_t mss = seg->mss ? RTE_MAX(seg->mss, (uint32_t)TCP_MIN_MSS) : TCP_DEFAULT_MSS;
    s->mss = (uint16_t)RTE_MIN(mss, tcp_mss_max(ctx));
    /* BBR samples the delivery rate from the SACK records: without SACK,
     * the connection runs CUBIC */
    enum tcp_cc_algo algo = (enum tcp_cc_algo)ctx->p.cc_algo;
    if (algo == TCP_CC_BBR && !(s->tflags & TF_SACK_OK))
        algo = TCP_CC_CUBIC;
    tcp_cc_init(&s->cc, algo, tcp_seg_size(s), TCP_INIT_CWND_SEGS * tcp_seg_size(s));
}

/* A connection from a SYN: identity, sequence spaces, options, flow. */
static struct ts_sock *tcp_passive_new(struct ts_ctx *ctx, struct ts_sock *l,
                                       uint32_t laddr, uint32_t raddr, uint16_t rport,
                                       const struct tcp_seg *syn, uint32_t iss)
{
    /* a half-open connection holds no buffers: they come with the
     * handshake's end (tcp_established) */
    struct ts_sock *s = ts_sock_alloc(ctx, TS_KIND_TCP);
    if (s == NULL)
        return NULL;
    s->laddr = laddr;
    s->raddr = raddr;
    s->rport = rport;
    s->lport = l->lport;
    s->listener = ts_fd(ctx, l);
    s->irs = syn->seq;
    s->rcv_nxt = syn->seq + 1;
    s->last_ack_sent = s->rcv_nxt; /* what our SYN-ACK (or cookie) acknowledges */
    s->iss = iss;
    s->snd_una = iss;
    s->snd_nxt = iss + 1;
    s->snd_max = iss + 1;
    s->snd_end = iss + 1;
    s->snd_wnd = syn->wnd; /* a SYN's window is never scaled */
    s->snd_wl1 = syn->seq;
    s->snd_wl2 = iss;
    s->last_rx_us = ctx->now;
    s->rto_us = TCP_INIT_RTO_US;
    tcp_syn_options(ctx, s, syn);
    ts_flow_insert(ctx, s);
    ctx->st.tcp_passive++;
    return s;
}

static void tcp_listen_input(struct ts_ctx *ctx, struct ts_sock *l,
                             const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
                             const struct tcp_seg *seg)
{
    uint32_t laddr = rte_be_to_cpu_32(ip->dst_addr);
    uint32_t raddr = rte_be_to_cpu_32(ip->src_addr);
    uint16_t rport = rte_be_to_cpu_16(th->src_port);
    /* RFC 4987 3.6: a full backlog answers with a cookie, not state; so
     * does a context out of sockets, so that no setting of the limits lets
     * a flood of SYNs deny service */
    if (l->n_pending + ts_sring_count(l->acceptq) >= l->backlog || ctx->nfree == 0) {
        if (ctx->p.syncookies) {
            tcp_cookie_synack(ctx, l, laddr, raddr, rport, seg->seq, seg->mss,
                              seg->wscale, seg->sack_ok, seg->has_ts, seg->tsval);
            return;
        }
        ctx->st.tcp_accept_overflow++;
        return; /* the peer retransmits its SYN */
    }
    struct ts_sock *s = tcp_passive_new(ctx, l, laddr, raddr, rport, seg,
                                        tcp_isn(ctx, laddr, raddr, rport, l->lport));
    if (s == NULL) {
        ctx->st.tcp_accept_overflow++;
        return;
    }
    tcp_set_state(ctx, s, TCPS_SYN_RCVD);
    l->n_pending++;
    s->tflags |= TF_RTT_TIMING;
    s->rtt_seq = s->iss;
    s->rtt_start_us = ctx->now;
    tcp_send_ctl(ctx, s, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, s->iss);
    tcp_arm_rto(ctx, s);
}

/* The handshake is complete: a passive connection goes to its listener's
 * accept queue, an active one tells its owner it may write. */
static bool tcp_established(struct ts_ctx *ctx, struct ts_sock *s,
                            const struct tcp_seg *seg)
{
    /* connection memory is taken when data moves; a handshake that finds
     * none left is refused (reset) rather than left to stall */
    if (s->bufs == NULL && ctx->bufs_used == ctx->p.max_bufs) {
        ctx->st.tcp_nobufs_resets++;
        ctx->st.tcp_rst_tx++;
        tcp_send_ctl(ctx, s, RTE_TCP_RST_FLAG, seg->ack);
        tcp_drop(ctx, s, ENOBUFS);
        return false;
    }
    s->snd_una = seg->ack;
    /* the window of a SYN-ACK is not scaled (RFC 7323 2.2) */
    uint32_t shift = (seg->flags & RTE_TCP_SYN_FLAG) ? 0 : s->snd_wscale;
    s->snd_wnd = (uint32_t)seg->wnd << shift;
    s->max_snd_wnd = s->snd_wnd;
    s->snd_wl1 = seg->seq;
    s->snd_wl2 = seg->ack;
    s->rexmt_shift = 0;
    ts_timer_cancel(ctx, &s->t_rexmt);
    if (s->tflags & TF_RTT_TIMING) {
        s->tflags &= ~TF_RTT_TIMING;
        rtt_sample(ctx, s, (uint32_t)(ctx->now - s->rtt_start_us));
    } else {
        /* RFC 6298 5.7: after a lost SYN or SYN-ACK start data with 3 s */
        s->rto_us = RTE_MAX(s->rto_us, 3 * TCP_INIT_RTO_US);
    }
    tcp_set_state(ctx, s, TCPS_ESTABLISHED);
    ctx->st.tcp_established++;
    tcp_peer_seed(ctx, s);
    if (ctx->p.keepalive_ms)
        ts_timer_arm(ctx, &s->t_keep, ctx->now + (uint64_t)ctx->p.keepalive_ms * 1000);
    ts_sflags_set(s, TS_SF_CONNECTED);
    if (s->listener < 0) {
        ts_sock_event(ctx, s, TS_EPOLLOUT);
        return true;
    }
    struct ts_sock *l = &ctx->socks[s->listener];
    int32_t *slot = ts_sring_slot(l->acceptq);
    TS_ASSERT(slot != NULL); /* the backlog check at SYN time keeps room */
    *slot = ts_fd(ctx, s);
    ts_sring_push(l->acceptq);
    l->n_pending--;
    s->tflags |= TF_ACCEPT_QUEUED;
    ts_sock_event(ctx, l, TS_EPOLLIN);
    return true;
}

/* An ACK for no flow that may return a SYN cookie (RFC 4987 3.6). */
static struct ts_sock *tcp_cookie_accept(struct ts_ctx *ctx, struct ts_sock *l,
                                         uint32_t laddr, uint32_t raddr, uint16_t rport,
                                         const struct tcp_seg *seg)
{
    struct tcp_seg syn = {.seq = seg->seq - 1, .wscale = -1};
    bool ts;
    if (!tcp_cookie_check(ctx, laddr, raddr, rport, l->lport, syn.seq, seg->ack - 1,
                          &syn.mss, &syn.wscale, &syn.sack_ok, &ts)) {
        ctx->st.tcp_syncookies_bad++;
        return NULL;
    }
    if (ts_sring_slot(l->acceptq) == NULL) {
        ctx->st.tcp_accept_overflow++;
        return NULL; /* still full: the peer's data will be retransmitted */
    }
    syn.has_ts = ts && seg->has_ts;
    syn.tsval = seg->tsval;
    syn.wnd = seg->wnd;
    struct ts_sock *s = tcp_passive_new(ctx, l, laddr, raddr, rport, &syn, seg->ack - 1);
    if (s == NULL) {
        ctx->st.tcp_accept_overflow++;
        return NULL;
    }
    ctx->st.tcp_syncookies_ok++;
    tcp_set_state(ctx, s, TCPS_SYN_RCVD);
    l->n_pending++;
    return s;
}

/* ------------------------------------------------- synchronized states */

static bool seq_acceptable(const struct ts_ctx *ctx, const struct ts_sock *s,
                           const struct tcp_seg *seg)
{
    uint32_t wnd = tcp_rcv_window(ctx, s);
    uint32_t seglen =
        seg->len + !!(seg->flags & RTE_TCP_SYN_FLAG) + !!(seg->flags & RTE_TCP_FIN_FLAG);
    uint32_t end = s->rcv_nxt + wnd;
    if (seglen == 0) {
        if (wnd == 0)
            return seg->seq == s->rcv_nxt;
        return SEQ_LEQ(s->rcv_nxt, seg->seq) && SEQ_LT(seg->seq, end);
    }
    if (wnd == 0)
        return false;
    uint32_t last = seg->seq + seglen - 1;
    return (SEQ_LEQ(s->rcv_nxt, seg->seq) && SEQ_LT(seg->seq, end)) ||
           (SEQ_LEQ(s->rcv_nxt, last) && SEQ_LT(last, end));
}

/* Send buffer autotuning, Linux's model (tcp_sndbuf_expand): room for
 * twice the congestion window, so that a window's worth waits queued
 * behind the window in flight, up to sndbuf_max; with SACK, plus what the
 * peer holds beyond a hole (SACKed, not yet cumulatively acknowledged, as
 * Linux counts the reordering degree: max(cwnd, reordering + 1) segments).
 * Through reordering the cumulative ACK lags the late segments and that
 * data stays in the buffer meanwhile; without its room, a buffer of twice
 * cwnd filled with it, held the flight, and so cwnd, where they were. The
 * bytes are the application's (references into the file cache, and the
 * small copy ring): growing costs no buffer memory, only the records of a
 * larger flight. True when the buffer grew. */
static bool tcp_snd_autotune(const struct ts_ctx *ctx, struct ts_sock *s)
{
    if (ctx->p.sndbuf_max <= ctx->p.sndbuf)
        return false;
    uint32_t cur = atomic_load_explicit(&s->snd_limit, memory_order_relaxed);
    if (cur == 0)
        cur = ctx->p.sndbuf;
    uint64_t want = 2ull * s->cc.cwnd;
    if (tcp_rack_on(s))
        want += s->bufs->rec.sacked;
    if (want <= cur || cur >= ctx->p.sndbuf_max)
        return false;
    if (want > ctx->p.sndbuf_max)
        want = ctx->p.sndbuf_max;
    atomic_store_explicit(&s->snd_limit, (uint32_t)want, memory_order_relaxed);
    return true;
}

/* A data state in which a loss can be repaired. */
static bool can_recover(const struct ts_sock *s)
{
    return s->state == TCPS_ESTABLISHED || s->state == TCPS_CLOSE_WAIT ||
           s->state == TCPS_FIN_WAIT_1 || s->state == TCPS_CLOSING ||
           s->state == TCPS_LAST_ACK;
}

void tcp_enter_recovery(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t flight = s->snd_max - s->snd_una;
    uint32_t segsz = tcp_seg_size(s);
    /* loss: enter recovery (RFC 6675 5 step 4, RFC 6582 3.2 step 2) */
    s->recover = s->snd_max;
    s->tflags &= ~(TF_RTT_TIMING | TF_LOSS);
    ctx->st.tcp_fast_retransmits++;
    if (tcp_rack_on(s)) {
        /* RFC 6937 3: PRR paces what goes out until the recovery ends;
         * what the ACKs showed lost goes first (tcp_output) */
        struct tcp_rec *r = &s->bufs->rec;
        if (!(s->tflags & TF_IN_RECOVERY))
            tcp_rec_episode(ctx, s);
        s->tflags |= TF_IN_RECOVERY;
        tcp_cc_on_loss(&s->cc, flight, ctx->now);
        r->tlp_on = false; /* this reduction answers a probe out too */
        r->prr_delivered = 0;
        r->prr_out = 0;
        r->recover_fs = flight;
        ts_sock_want_output(ctx, s);
        return;
    }
    s->tflags |= TF_IN_RECOVERY;
    tcp_cc_on_loss(&s->cc, flight, ctx->now);
    ctx->st.tcp_retransmits++;
    tcp_rexmit_una(ctx, s);
    tcp_cc_on_fast_retransmit(&s->cc, segsz);
}

/* RFC 2883 4: the first SACK block reports a duplicate when it lies at or
 * below the ACK, or inside the second block. Sanity as for any block: it
 * must lie within what was sent, and not so far below snd_una that no
 * window ever held it. */
static bool dsack_block(const struct ts_sock *s, const struct tcp_seg *seg)
{
    if (seg->nsack == 0)
        return false;
    const struct tcp_sack_block *d = &seg->sack[0];
    if (!SEQ_LT(d->start, d->end) || SEQ_GT(d->end, s->snd_max) ||
        SEQ_LT(d->start, s->snd_una - RTE_MAX(s->max_snd_wnd, 65535u)))
        return false;
    if (SEQ_LEQ(d->end, seg->ack))
        return true;
    return seg->nsack >= 2 && SEQ_GEQ(d->start, seg->sack[1].start) &&
           SEQ_LEQ(d->end, seg->sack[1].end);
}

/* What RACK (RFC 8985 6.2) makes of an ACK once its cumulative and
 * selective parts are taken: the reordering window, the tail loss probe's
 * episode, the losses found by time, recovery and PRR. */
static void tcp_rack_input(struct ts_ctx *ctx, struct ts_sock *s,
                           const struct tcp_seg *seg, uint32_t prev_una,
                           uint32_t delivered, bool dsack)
{
    struct tcp_rec *r = &s->bufs->rec;
    if (dsack)
        tcp_rec_dsack(ctx, s, seg->sack[0].start, seg->sack[0].end,
                      s->snd_una - prev_una);
    tcp_tlp_ack(ctx, s, seg, s->snd_una != prev_una);
    uint32_t lost = 0;
    if (r->sacked_segs > 0 || r->retrans > 0) {
        lost = tcp_rack_detect(ctx, s);
    } else if (s->snd_una == s->snd_max && r->undo_on) {
        /* idle with the undo state kept: t_reo is the undo hold, armed
         * from the ACK that ended the flight (tcp_bufs_maybe_release, at
         * the deferred output it asked for); a later ACK leaves it */
        if (s->snd_una != prev_una && ts_timer_armed(&s->t_reo))
            ts_timer_cancel(ctx, &s->t_reo);
    } else if (ts_timer_armed(&s->t_reo)) {
        ts_timer_cancel(ctx, &s->t_reo);
    }
    /* a loss found now starts a recovery; so does one found before that
     * is still waiting for its retransmission when the ACK that ended the
     * last recovery came (a segment sent during it, past its recovery
     * point): outside recovery only what lies from snd_nxt on goes out,
     * and that segment, below it, would wait for the RTO */
    uint32_t lseq, llen;
    if (!(s->tflags & TF_IN_RECOVERY) && can_recover(s) &&
        (lost || (tcp_rec_next_lost(s, &lseq, &llen) && SEQ_LT(lseq, s->snd_nxt))))
        tcp_enter_recovery(ctx, s);
    if (lost)
        ts_sock_want_output(ctx, s);
    if (s->cc.algo == TCP_CC_BBR) {
        /* BBR sets cwnd from its model on every ACK, in recovery too */
        struct tcp_rate_sample rs;
        tcp_rate_sample(s, &rs, delivered);
        tcp_bbr_on_ack(&s->cc, &rs, tcp_rec_pipe(s), ctx->now);
    }
    tcp_prr_ack(ctx, s, delivered);
}

/* Duplicate ACKs that start recovery: DupThresh, or fewer when so few
 * segments are outstanding, with nothing new to send, that three could
 * never come back (RFC 5827 early retransmit: oseg - 1). */
static uint32_t dup_threshold(const struct ts_sock *s, uint32_t flight, uint32_t segsz)
{
    if (SEQ_LT(s->snd_nxt, s->snd_end) && s->snd_wnd > flight)
        return TCP_DUPTHRESH; /* new data will bring more ACKs */
    uint32_t oseg = (flight + segsz - 1) / segsz;
    if (oseg >= TCP_DUPTHRESH + 1)
        return TCP_DUPTHRESH;
    return oseg > 1 ? oseg - 1 : 1;
}

/* Once reordering has been seen, cwnd grows with every byte delivered,
 * SACKed or acknowledged, as Linux's tcp_may_raise_cwnd: on a path that
 * holds some segments back by many round trips the cumulative ACK stalls
 * and then jumps, and growth by the jumps alone (at most L segments each,
 * RFC 3465) left slow start one doubling per reordering delay. */
static bool reordering_growth(const struct ts_sock *s)
{
    return (s->tflags & (TF_REORDER | TF_IN_RECOVERY)) == TF_REORDER && tcp_rack_on(s);
}

/* An ACK's RTT sample for HyStart++ (outside recovery; 0: none). */
static void hystart_sample(struct ts_ctx *ctx, struct ts_sock *s, uint32_t ack,
                           uint32_t rtt_us)
{
    if (!(s->tflags & TF_IN_RECOVERY) && tcp_cc_hystart(&s->cc, ack, s->snd_max, rtt_us))
        ctx->st.tcp_hystart_exits++;
}

/* The ACK field (RFC 9293 3.10.7.4, fifth check). Returns false when the
 * connection is gone and processing must stop. */
static bool tcp_ack_input(struct ts_ctx *ctx, struct ts_sock *s,
                          const struct tcp_seg *seg)
{
    if (SEQ_GT(seg->ack, s->snd_max)) {
        ack_now(ctx, s); /* acks something not yet sent */
        return false;
    }
    bool sack = tcp_rack_on(s);
    if (sack) { /* this ACK's samples, if tcp_rack_ack() takes any */
        s->bufs->rec.rs_have = false;
        s->bufs->rec.ack_rtt_us = 0;
        s->bufs->rec.hs_rtt_us = 0;
    }
    uint32_t flight = s->snd_max - s->snd_una;
    uint32_t segsz = tcp_seg_size(s);
    uint32_t prev_una = s->snd_una;
    uint32_t delivered = 0; /* bytes newly acknowledged or SACKed (RFC 6937) */
    bool undone = false;    /* this ACK showed the episode spurious */
    bool dsack = sack && dsack_block(s, seg);
    /* what congestion control weighs against cwnd: the flight of the last
     * window at its largest (note_flight in tcp_out.c) */
    uint32_t cc_flight = RTE_MAX(flight, s->max_flight);
    if (SEQ_GT(seg->ack, s->snd_una)) {
        uint32_t acked = seg->ack - s->snd_una;
        delivered = acked;
        bool fin_acked = (s->tflags & TF_FIN_SENT) && seg->ack == s->snd_end + 1;
        tcp_snd_release(ctx, s, acked - fin_acked);
        s->snd_una = seg->ack;
        if (SEQ_LT(s->snd_nxt, s->snd_una))
            s->snd_nxt = s->snd_una;
        if (sack) {
            tcp_sb_update(&s->bufs->sb, s->snd_una, s->snd_max, seg->sack, seg->nsack);
            /* RFC 6937 DeliveredData: what snd_una passed, less what was
             * SACKed before (delivered then), plus what is SACKed now */
            delivered += tcp_rack_ack(ctx, s, seg);
            delivered -= RTE_MIN(delivered, s->bufs->rec.ack_sacked);
            undone = tcp_rec_check_ts(ctx, s, seg, prev_una);
        }
        uint32_t hs_rtt = 0; /* for HyStart++: the best sample of this ACK */
        if (sack && s->bufs->rec.ack_rtt_us) {
            /* a segment sent once, timed to the microsecond (RFC 8985's
             * per-segment clock; a timestamp counts 10 ms ticks) */
            if ((s->tflags & TF_RTT_TIMING) && SEQ_GT(seg->ack, s->rtt_seq))
                s->tflags &= ~TF_RTT_TIMING;
            rtt_sample(ctx, s, s->bufs->rec.ack_rtt_us);
        } else if ((s->tflags & TF_RTT_TIMING) && SEQ_GT(seg->ack, s->rtt_seq)) {
            s->tflags &= ~TF_RTT_TIMING;
            hs_rtt = (uint32_t)(ctx->now - s->rtt_start_us);
            rtt_sample(ctx, s, hs_rtt);
        } else if ((s->tflags & TF_TS_OK) && seg->has_ts && seg->tsecr != 0) {
            /* RFC 7323 4.1: the echoed timestamp times every ACK that
             * advances the window, retransmissions included; to within a
             * tick, so only a round trip of two ticks or more is taken
             * (shorter ones, quantized, would swamp SRTT) */
            uint32_t ticks = tcp_ts_now(ctx) - seg->tsecr;
            if (ticks >= 2 && ticks < 60000000 / TCP_TS_TICK_US)
                rtt_sample(ctx, s, ticks * TCP_TS_TICK_US);
        }
        /* HyStart++ takes per-segment samples (RACK's, of the newest segment
         * the ACK delivers, sent once and overtaken by none sent after it):
         * an echoed timestamp times the oldest segment the ACK covers,
         * delayed ACK and hole fills included, in 10 ms ticks, and would
         * end slow start for nothing */
        if (sack)
            hs_rtt = s->bufs->rec.hs_rtt_us;
        hystart_sample(ctx, s, seg->ack, hs_rtt);
        if (s->tflags & TF_LOSS) {
            /* after a timeout the window slow-starts (RFC 5681 3.1) while
             * the segments marked lost are sent again; the ACK that ends
             * it counts too */
            tcp_cc_on_ack(&s->cc, acked, cc_flight, s->srtt_us, ctx->now);
        }
        if ((s->tflags & TF_LOSS) && SEQ_LT(seg->ack, s->recover)) {
            /* still repairing */
        } else if (s->tflags & TF_IN_RECOVERY) {
            if (SEQ_GEQ(seg->ack, s->recover)) {
                /* a full ACK ends recovery (RFC 6582 3.2 step 3, RFC 6675 5);
                 * after PRR, cwnd is ssthresh (RFC 6937 3) */
                bool loss = s->tflags & TF_LOSS;
                s->tflags &= ~(TF_IN_RECOVERY | TF_LOSS);
                if (sack)
                    s->bufs->rec.undo_end_us = (uint32_t)ctx->now;
                if (!sack)
                    tcp_cc_on_recovery_exit(&s->cc, s->snd_max - s->snd_una);
                else
                    tcp_cc_on_recovery_end(&s->cc, loss);
                if (s->reo_wnd_persist && --s->reo_wnd_persist == 0) {
                    s->reo_wnd_mult = 1;
                    s->reo_extent_us = 0;
                    s->reo_late_us = 0;
                }
            } else if (!sack) {
                /* RFC 6582 3.2 step 5: a partial ACK retransmits the next
                 * hole and deflates the window by what it acknowledged */
                ctx->st.tcp_retransmits++;
                tcp_rexmit_una(ctx, s);
                tcp_cc_on_partial_ack(&s->cc, acked, segsz);
            }
            /* with SACK, tcp_output's recovery loop fills the holes */
        } else if (!undone) { /* an undo has set cwnd for this ACK */
            tcp_cc_on_ack(&s->cc, reordering_growth(s) ? delivered : acked, cc_flight,
                          s->srtt_us, ctx->now);
        }
        s->dupacks = 0;
        s->rexmt_shift = 0;
        s->tflags &= ~TF_TLP_SENT;
        s->tlp_count = 0;
        if (!sack) /* with SACK once this ACK's SACK blocks are counted, below */
            tcp_snd_autotune(ctx, s);
        if (s->snd_una == s->snd_max)
            ts_timer_cancel(ctx, &s->t_rexmt);
        else
            tcp_arm_rexmt(ctx, s);
        if (acked > (uint32_t)fin_acked)
            ts_sock_write_space(ctx, s);
        ts_sock_want_output(ctx, s);

        if (fin_acked) {
            switch (s->state) {
            case TCPS_FIN_WAIT_1:
                tcp_set_state(ctx, s, TCPS_FIN_WAIT_2);
                ts_sflags_set(s, TS_SF_WRDONE);
                tcp_fin_wait_2(ctx, s);
                break;
            case TCPS_CLOSING:
                tcp_enter_time_wait(ctx, s);
                return false;
            case TCPS_LAST_ACK:
                tcp_set_state(ctx, s, TCPS_CLOSED);
                ts_timer_cancel(ctx, &s->t_rexmt);
                ts_flow_remove(ctx, s);
                ts_sflags_set(s, TS_SF_WRDONE);
                ts_sock_event(ctx, s, TS_EPOLLHUP);
                return false;
            default:
                break;
            }
        }
    } else if (seg->ack == s->snd_una && s->snd_max != s->snd_una && seg->wnd != 0) {
        /* (a zero window answers a window probe: no sign of loss) */
        /* a duplicate ACK: with SACK one that SACKs new data (RFC 6675 2),
         * without it RFC 5681 section 2's definition */
        bool dup;
        if (sack) {
            tcp_sb_update(&s->bufs->sb, s->snd_una, s->snd_max, seg->sack, seg->nsack);
            delivered = tcp_rack_ack(ctx, s, seg);
            dup = delivered > 0;
        } else
            dup = seg->len == 0 && !(seg->flags & RTE_TCP_FIN_FLAG) &&
                  ((uint32_t)seg->wnd << s->snd_wscale) == s->snd_wnd;
        /* HyStart++ takes the RTT samples of SACKed segments too (as
         * Linux's pkts_acked): through reordering, those of cumulative
         * ACKs are mostly of the late segments that fill holes */
        if (sack)
            hystart_sample(ctx, s, seg->ack, s->bufs->rec.hs_rtt_us);
        if (dup && reordering_growth(s))
            tcp_cc_on_ack(&s->cc, delivered, cc_flight, s->srtt_us, ctx->now);
        if (dup && (s->tflags & TF_IN_RECOVERY)) {
            if (!sack)
                tcp_cc_on_dupack(&s->cc, segsz);
            ts_sock_want_output(ctx, s);
        } else if (dup && (sack || ++s->dupacks < dup_threshold(s, flight, segsz))) {
            /* limited transmit (RFC 3042); with SACK, RACK decides what
             * is lost, by time, not by counting (RFC 8985 6.2) */
            if (sack && s->dupacks < UINT8_MAX)
                s->dupacks++;
            ts_sock_want_output(ctx, s);
        } else if (dup) {
            tcp_enter_recovery(ctx, s);
        }
    }
    if (sack) {
        tcp_rack_input(ctx, s, seg, prev_una, undone ? 0 : delivered,
                       dsack); /* an undo set cwnd */
        /* with this ACK's SACK blocks counted (a buffer grown is room to write) */
        if (tcp_snd_autotune(ctx, s))
            ts_sock_write_space(ctx, s);
    }
    /* send window update (RFC 9293 3.10.7.4, SND.WL1/WL2 rule) */
    if (!seg->late && (SEQ_LT(s->snd_wl1, seg->seq) ||
                       (s->snd_wl1 == seg->seq && SEQ_LEQ(s->snd_wl2, seg->ack)))) {
        uint32_t wnd = (uint32_t)seg->wnd << s->snd_wscale;
        if (wnd > s->snd_wnd)
            ts_sock_want_output(ctx, s);
        /* a zero window reopened by an update that does not take the probe
         * byte: that byte was refused, send from it again at once (left in
         * flight, it would hold a full segment back until the next probe) */
        if (s->snd_wnd == 0 && wnd > 0 && seg->ack == s->snd_una &&
            SEQ_GT(s->snd_nxt, s->snd_una))
            s->snd_nxt = s->snd_una;
        s->snd_wnd = wnd;
        if (wnd > s->max_snd_wnd)
            s->max_snd_wnd = wnd;
        s->snd_wl1 = seg->seq;
        s->snd_wl2 = seg->ack;
    }
    /* an answered zero-window probe is no failure: probing goes on for as
     * long as the peer answers (RFC 1122 4.2.2.17), but not for an orphan,
     * which nobody waits for: its probes count as retransmissions (as
     * Linux bounds them by tcp_orphan_retries) */
    if (s->snd_wnd == 0 && seg->ack == s->snd_una && SEQ_LT(s->snd_una, s->snd_end) &&
        !(s->tflags & TF_ORPHAN))
        s->rexmt_shift = 0;
    return true;
}

/* Records [start, end) as held out of order, merging neighbours. */
static void ooo_insert(struct ts_sock *s, uint32_t start, uint32_t end)
{
    unsigned i = 0;
    while (i < s->n_ooo && SEQ_LT(s->ooo[i].end, start))
        i++;
    /* i: first range that ends at or after start; merge all it touches */
    unsigned j = i;
    while (j < s->n_ooo && SEQ_LEQ(s->ooo[j].start, end)) {
        if (SEQ_LT(s->ooo[j].start, start))
            start = s->ooo[j].start;
        if (SEQ_GT(s->ooo[j].end, end))
            end = s->ooo[j].end;
        j++;
    }
    if (j == i && s->n_ooo == TCP_OOO_MAX) {
        /* full: keep the ranges nearest rcv_nxt, forget the highest; the
         * data stays in the ring but is not acknowledged, so it returns */
        if (i == s->n_ooo)
            return;
        s->n_ooo--;
    }
    unsigned removed = j - i;
    if (removed != 1)
        memmove(&s->ooo[i + 1], &s->ooo[j], (s->n_ooo - j) * sizeof(s->ooo[0]));
    s->n_ooo = (uint8_t)(s->n_ooo - removed + 1);
    s->ooo[i].start = start;
    s->ooo[i].end = end;
    s->ooo_last = (uint8_t)i;
}

/* In-order data reached rcv_nxt: publish the held ranges it joins. */
static uint32_t ooo_absorb(struct ts_sock *s)
{
    uint32_t extra = 0;
    while (s->n_ooo > 0 && SEQ_LEQ(s->ooo[0].start, s->rcv_nxt)) {
        if (SEQ_GT(s->ooo[0].end, s->rcv_nxt)) {
            extra += s->ooo[0].end - s->rcv_nxt;
            s->rcv_nxt = s->ooo[0].end;
        }
        memmove(&s->ooo[0], &s->ooo[1], (s->n_ooo - 1) * sizeof(s->ooo[0]));
        s->n_ooo--;
    }
    s->ooo_last = 0;
    return extra;
}

/* Drops the first @p skip (< len) bytes of @p seg's payload. */
static void seg_skip(struct tcp_seg *seg, uint32_t skip)
{
    seg->seq += skip;
    seg->len -= skip;
    while (skip >= seg->dlen) {
        skip -= seg->dlen;
        seg->data = rte_pktmbuf_mtod(seg->more, const uint8_t *);
        seg->dlen = rte_pktmbuf_data_len(seg->more);
        seg->more = seg->more->next;
    }
    seg->data += skip;
    seg->dlen -= skip;
}

/* Writes the first @p n bytes of @p seg's payload @p off bytes past the
 * ring's head, unpublished (ts_bring_write_at). */
static void seg_write_at(struct ts_bring *r, uint32_t off, const struct tcp_seg *seg,
                         uint32_t n)
{
    const uint8_t *p = seg->data;
    uint32_t plen = seg->dlen;
    const struct rte_mbuf *next = seg->more;
    for (;;) {
        uint32_t k = RTE_MIN(plen, n);
        ts_bring_write_at(r, off, p, k);
        off += k;
        n -= k;
        if (n == 0 || next == NULL)
            return;
        p = rte_pktmbuf_mtod(next, const uint8_t *);
        plen = rte_pktmbuf_data_len(next);
        next = next->next;
    }
}

/* Copies @p seg's payload into the ring as far as it has room; returns
 * the bytes taken (ts_bring_put). */
static uint32_t seg_put(struct ts_bring *r, const struct tcp_seg *seg)
{
    uint32_t n = RTE_MIN(seg->len, ts_bring_free(r));
    seg_write_at(r, 0, seg, n);
    ts_bring_publish(r, n);
    return n;
}

/* Data (RFC 9293 3.10.7.4, seventh check). In-order bytes go to the
 * receive ring; bytes beyond a gap are written into the ring at their
 * offset and remembered as a range (reported in SACK blocks) until the gap
 * fills. ACKs: at once for anything out of order or filling a gap (RFC
 * 5681 4.2), else every second full segment or when the delayed-ACK timer
 * fires. */
static void tcp_data_input(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    if (seg->len == 0)
        return;
    if (s->state != TCPS_ESTABLISHED && s->state != TCPS_FIN_WAIT_1 &&
        s->state != TCPS_FIN_WAIT_2)
        return;                         /* the peer has sent its FIN already: ignore */
    if (SEQ_LT(seg->seq, s->rcv_nxt)) { /* trim what we have */
        uint32_t skip = s->rcv_nxt - seg->seq;
        /* RFC 2883 4.1.1: report the duplicate bytes in a D-SACK block */
        tcp_dsack_note(s, seg->seq, skip >= seg->len ? seg->seq + seg->len : s->rcv_nxt);
        if (skip >= seg->len) {
            ack_now(ctx, s);
            return;
        }
        seg_skip(seg, skip);
    }
    bool reader = !(s->tflags & TF_APP_CLOSED);
    if (reader && s->bufs == NULL && ts_sock_attach_bufs(ctx, s) != 0) {
        /* no connection memory now: not taken, the peer sends it again */
        ctx->st.tcp_nobufs_drops += seg->segs;
        ack_now(ctx, s);
        return;
    }
    if (seg->seq != s->rcv_nxt) {
        uint32_t off = seg->seq - s->rcv_nxt;
        uint32_t room = reader ? ts_bring_free(&s->bufs->rx) : 0;
        /* RFC 2883 4.1.2: a duplicate of data held out of order */
        for (unsigned i = 0; i < s->n_ooo; i++)
            if (SEQ_GEQ(seg->seq, s->ooo[i].start) &&
                SEQ_LEQ(seg->seq + seg->len, s->ooo[i].end))
                tcp_dsack_note(s, seg->seq, seg->seq + seg->len);
        if (off < room) {
            uint32_t n = RTE_MIN(seg->len, room - off);
            seg_write_at(&s->bufs->rx, off, seg, n);
            ooo_insert(s, seg->seq, seg->seq + n);
        }
        /* one duplicate ACK per out-of-order segment, at once (RFC 5681
         * 4.2): the sender counts them, so they are not batched */
        tcp_send_ctl(ctx, s, RTE_TCP_ACK_FLAG, s->snd_nxt);
        return;
    }
    uint32_t n;
    bool filled = false;
    if (!reader) {
        n = seg->len; /* nobody will read it: acknowledge and discard */
        s->rcv_nxt += n;
    } else {
        tcp_rcvbuf_autotune(ctx, s, seg); /* may move the ring while empty */
        n = seg_put(&s->bufs->rx, seg);
        s->rcv_nxt += n;
        if (s->n_ooo) {
            uint32_t extra = ooo_absorb(s);
            ts_bring_publish(&s->bufs->rx, extra);
            filled = true;
        }
        if (n)
            ts_sock_event(ctx, s, TS_EPOLLIN);
    }
    if (filled || ctx->p.delack_ms == 0 || n < seg->len) {
        ack_now(ctx, s);
        return;
    }
    /* more than a full segment unacknowledged: ACK at once (RFC 5681 4.2
     * asks it for every second full segment; like Linux, a full segment and
     * a part is enough, or a sender whose tail probe (2 * SRTT) is shorter
     * than our delayed-ACK timer probes every response of 1.x segments) */
    if (s->rcv_nxt - s->last_ack_sent > tcp_seg_size(s)) {
        ack_now(ctx, s);
        return;
    }
    if (!ts_timer_armed(&s->t_delack))
        ts_timer_arm(ctx, &s->t_delack, ctx->now + (uint64_t)ctx->p.delack_ms * 1000);
}

static void tcp_fin_input(struct ts_ctx *ctx, struct ts_sock *s, uint32_t fin_seq)
{
    if (fin_seq != s->rcv_nxt) {
        if (SEQ_GT(fin_seq, s->rcv_nxt)) { /* data before it is missing */
            s->tflags |= TF_FIN_OOO;
            s->rcv_fin_seq = fin_seq;
        }
        return;
    }
    s->tflags &= ~TF_FIN_OOO;
    if (s->state == TCPS_CLOSE_WAIT || s->state == TCPS_CLOSING ||
        s->state == TCPS_LAST_ACK)
        return;
    s->rcv_nxt++;
    ts_sflags_set(s, TS_SF_RDCLOSED);
    ts_sock_event(ctx, s, TS_EPOLLIN | TS_EPOLLRDHUP);
    ack_now(ctx, s);
    switch (s->state) {
    case TCPS_ESTABLISHED:
        tcp_set_state(ctx, s, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1: /* our FIN is not acknowledged yet */
        tcp_set_state(ctx, s, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_enter_time_wait(ctx, s);
        break;
    default:
        break;
    }
}

/* The segment text and its FIN, in that order (the FIN's sequence number is
 * taken before the data is trimmed); a FIN that came beyond a gap is taken
 * once the gap has filled. */
static void tcp_text_input(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    uint32_t fin_seq = seg->seq + seg->len;
    tcp_data_input(ctx, s, seg);
    if (seg->flags & RTE_TCP_FIN_FLAG)
        tcp_fin_input(ctx, s, fin_seq);
    else if ((s->tflags & TF_FIN_OOO) && s->rcv_fin_seq == s->rcv_nxt)
        tcp_fin_input(ctx, s, s->rcv_fin_seq);
}

/* A pure ACK that fails PAWS but was only overtaken: at rcv_nxt, moving
 * nothing (snd_una at most), older than TS.Recent by less than an RTO in
 * the peer's ticks (taken as milliseconds). Linux's tcp_disordered_ack,
 * widened to ACKs below snd_una and to other windows: a path that reorders
 * delays ACKs as well as data, and their D-SACKs are what shows a
 * recovery spurious. Such an ACK is taken for its SACK information only
 * (seg->late: its window, older than the one in force, is not); without
 * SACK it has none, and would count as a duplicate ACK. */
static bool disordered_ack(const struct ts_sock *s, const struct tcp_seg *seg)
{
    const uint8_t ctl =
        RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
    return (s->tflags & TF_SACK_OK) && (seg->flags & ctl) == RTE_TCP_ACK_FLAG &&
           seg->len == 0 && seg->seq == s->rcv_nxt && SEQ_LEQ(seg->ack, s->snd_una) &&
           s->ts_recent - seg->tsval <= s->rto_us / 1000;
}

static void tcp_process(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    s->last_rx_us = ctx->now;
    s->keep_probes = 0;
    /* RFC 7323 5.3 PAWS: a timestamp older than TS.Recent marks an old
     * duplicate (unless TS.Recent itself is older than 24 days) */
    if ((s->tflags & TF_TS_OK) && seg->has_ts && !(seg->flags & RTE_TCP_RST_FLAG) &&
        SEQ_LT(seg->tsval, s->ts_recent) &&
        ctx->now - s->ts_recent_us < 24ull * 86400 * 1000000) {
        if (!disordered_ack(s, seg)) {
            ctx->st.rx_paws_drops += seg->segs;
            ack_now(ctx, s);
            return;
        }
        ctx->st.rx_paws_disordered++;
        seg->late = true;
    }
    /* first: sequence number */
    if (!seq_acceptable(ctx, s, seg)) {
        ctx->st.rx_out_of_window += seg->segs;
        /* data all below rcv_nxt: a duplicate, reported (RFC 2883 4.1.1) */
        if (seg->len && SEQ_LEQ(seg->seq + seg->len, s->rcv_nxt) &&
            !(seg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)))
            tcp_dsack_note(s, seg->seq, seg->seq + seg->len);
        if (!(seg->flags & RTE_TCP_RST_FLAG))
            ack_now(ctx, s);
        return;
    }
    /* second: RST (RFC 5961 3.2: exact match resets, else challenge) */
    if (seg->flags & RTE_TCP_RST_FLAG) {
        if (seg->seq != s->rcv_nxt) {
            challenge_ack(ctx, s);
            return;
        }
        bool orderly = s->state == TCPS_CLOSING || s->state == TCPS_LAST_ACK ||
                       s->state == TCPS_TIME_WAIT;
        tcp_drop(ctx, s, orderly ? 0 : ECONNRESET);
        return;
    }
    /* fourth: SYN in a synchronized state (RFC 5961 4.2: challenge ACK) */
    if (seg->flags & RTE_TCP_SYN_FLAG) {
        challenge_ack(ctx, s);
        return;
    }
    ts_recent_update(ctx, s, seg);
    /* fifth: ACK */
    if (!(seg->flags & RTE_TCP_ACK_FLAG))
        return;
    /* RFC 5961 5.2: an ACK below what the peer could have seen is blind */
    if (SEQ_LT(seg->ack, s->snd_una - RTE_MAX(s->max_snd_wnd, 1u))) {
        challenge_ack(ctx, s);
        return;
    }
    if (!tcp_ack_input(ctx, s, seg))
        return;
    /* seventh: data; eighth: FIN */
    tcp_text_input(ctx, s, seg);
}

static void tcp_syn_rcvd_input(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    if (seg->flags & RTE_TCP_RST_FLAG) {
        if (seq_acceptable(ctx, s, seg)) {
            tcp_drop(ctx, s, ECONNREFUSED);
            ts_sock_maybe_free(ctx, s);
        }
        return;
    }
    if (seg->flags & RTE_TCP_SYN_FLAG) {
        if (seg->seq != s->irs) {
            challenge_ack(ctx, s);
        } else if ((seg->flags & RTE_TCP_ACK_FLAG) && seg->ack == s->iss + 1) {
            /* simultaneous open: the peer's SYN-ACK completes it */
            ts_recent_update(ctx, s, seg);
            if (tcp_established(ctx, s, seg))
                ack_now(ctx, s);
        } else { /* the peer missed our SYN-ACK */
            tcp_send_ctl(ctx, s, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, s->iss);
        }
        return;
    }
    if (!(seg->flags & RTE_TCP_ACK_FLAG))
        return;
    if (seg->ack != s->iss + 1) {
        /* RFC 9293 3.10.7.4: an unacceptable ACK in SYN-RECEIVED gets a RST */
        struct ts_sock tmp = *s;
        tmp.rcv_nxt = 0;
        ctx->st.tcp_rst_tx++;
        tcp_send_ctl(ctx, &tmp, RTE_TCP_RST_FLAG, seg->ack);
        return;
    }
    if (!seq_acceptable(ctx, s, seg)) {
        ack_now(ctx, s);
        return;
    }
    ts_recent_update(ctx, s, seg);
    if (tcp_established(ctx, s, seg))
        tcp_text_input(ctx, s, seg);
}

/* SYN-SENT (RFC 9293 3.10.7.3): the peer's SYN-ACK completes an active
 * open; a bare SYN means both sides opened at once (simultaneous open,
 * RFC 9293 3.5 figure 8): answer SYN-ACK and wait in SYN-RECEIVED. */
static void tcp_syn_sent_input(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    bool ack = seg->flags & RTE_TCP_ACK_FLAG;
    if (ack && (SEQ_LEQ(seg->ack, s->iss) || SEQ_GT(seg->ack, s->snd_max))) {
        if (!(seg->flags & RTE_TCP_RST_FLAG)) {
            struct ts_sock tmp = *s;
            tmp.tflags &= ~(TF_TS_OK | TF_SACK_OK);
            ctx->st.tcp_rst_tx++;
            tcp_send_ctl(ctx, &tmp, RTE_TCP_RST_FLAG, seg->ack);
        }
        return;
    }
    if (seg->flags & RTE_TCP_RST_FLAG) {
        if (ack) /* the peer refused */
            tcp_drop(ctx, s, ECONNREFUSED);
        return;
    }
    if (!(seg->flags & RTE_TCP_SYN_FLAG))
        return;
    s->irs = seg->seq;
    s->rcv_nxt = seg->seq + 1;
    tcp_syn_options(ctx, s, seg);
    s->last_rx_us = ctx->now;
    if (!ack) {
        tcp_set_state(ctx, s, TCPS_SYN_RCVD);
        s->snd_wnd = seg->wnd;
        s->snd_wl1 = seg->seq;
        s->tflags &= ~TF_RTT_TIMING; /* the SYN is sent twice now: no sample */
        tcp_send_ctl(ctx, s, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, s->iss);
        tcp_arm_rto(ctx, s);
        return;
    }
    if (!tcp_established(ctx, s, seg))
        return;
    ack_now(ctx, s);
    seg->seq++; /* past the SYN */
    tcp_text_input(ctx, s, seg);
}

/* One segment, to the input of the socket's state. */
static void tcp_segment(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    if (s->state == TCPS_SYN_RCVD)
        tcp_syn_rcvd_input(ctx, s, seg);
    else if (s->state == TCPS_SYN_SENT)
        tcp_syn_sent_input(ctx, s, seg);
    else
        tcp_process(ctx, s, seg);
}

/* A run ts_gro chained is taken whole only where it continues the stream
 * in order, with nothing held beyond a gap. Anything else (data beyond a
 * gap, a gap it fills, a duplicate, a handshake or closing state) is taken
 * segment by segment, as it came (a PSH only on the last): loss recovery
 * then sees the duplicate ACKs, SACK and D-SACK blocks each segment
 * causes, as the sender counts them. */
static void tcp_deliver(struct ts_ctx *ctx, struct ts_sock *s, struct tcp_seg *seg)
{
    if (seg->more == NULL ||
        (s->state == TCPS_ESTABLISHED && seg->seq == s->rcv_nxt && s->n_ooo == 0)) {
        tcp_segment(ctx, s, seg);
        return;
    }
    const struct tcp_seg run = *seg;
    const uint8_t *p = run.data;
    uint32_t plen = run.dlen, seq = run.seq, left = run.len;
    const struct rte_mbuf *next = run.more;
    for (;;) {
        uint32_t n = RTE_MIN(plen, left);
        if (n > 0) {
            struct tcp_seg one = run;
            one.seq = seq;
            one.data = p;
            one.len = one.dlen = n;
            one.more = NULL;
            one.segs = 1;
            if (n < left)
                one.flags &= (uint8_t)~RTE_TCP_PSH_FLAG;
            tcp_segment(ctx, s, &one);
            seq += n;
            left -= n;
        }
        if (left == 0 || next == NULL)
            return;
        if (s->state == TCPS_CLOSED) { /* alone, the rest would find no socket */
            for (; next != NULL; next = next->next)
                ctx->st.rx_no_flow++;
            return;
        }
        p = rte_pktmbuf_mtod(next, const uint8_t *);
        plen = rte_pktmbuf_data_len(next);
        next = next->next;
    }
}

void tcp_input(struct ts_ctx *ctx, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
    uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    uint32_t l4len = rte_be_to_cpu_16(ip->total_length) - ihl;
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);
    if (l4len < sizeof(*th)) {
        ctx->st.rx_bad_tcp += m->nb_segs;
        goto drop;
    }
    uint32_t doff = (th->data_off >> 4) * 4u;
    /* l3: bytes of the datagram in the first mbuf, the headers all in it */
    uint32_t l3 = rte_pktmbuf_data_len(m) -
                  (uint32_t)((uint8_t *)ip - rte_pktmbuf_mtod(m, uint8_t *));
    if (doff < sizeof(*th) || doff > l4len || ihl + doff > l3) {
        ctx->st.rx_bad_tcp += m->nb_segs;
        goto drop;
    }
    uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
        (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
         (m->nb_segs == 1
              ? rte_ipv4_udptcp_cksum_verify(ip, th)
              : rte_ipv4_udptcp_cksum_mbuf_verify(
                    m, ip, (uint16_t)((uint8_t *)th - rte_pktmbuf_mtod(m, uint8_t *)))) !=
             0)) {
        ctx->st.rx_bad_cksum += m->nb_segs;
        goto drop;
    }
    struct tcp_seg seg = {
        .seq = rte_be_to_cpu_32(th->sent_seq),
        .ack = rte_be_to_cpu_32(th->recv_ack),
        .len = l4len - doff,
        .wnd = rte_be_to_cpu_16(th->rx_win),
        .flags = th->tcp_flags,
        .wscale = -1,
        .data = (const uint8_t *)th + doff,
        .dlen = RTE_MIN(l4len, l3 - ihl) - doff,
        .more = m->next,
        .segs = m->nb_segs,
    };
    if (doff > sizeof(*th) &&
        !parse_options((const uint8_t *)(th + 1), doff - sizeof(*th), &seg)) {
        ctx->st.rx_bad_tcp_options += m->nb_segs;
        goto drop;
    }

    uint32_t laddr = rte_be_to_cpu_32(ip->dst_addr);
    uint32_t raddr = rte_be_to_cpu_32(ip->src_addr);
    uint16_t rport = rte_be_to_cpu_16(th->src_port);
    uint16_t lport = rte_be_to_cpu_16(th->dst_port);
    struct ts_sock *s = ts_flow_lookup(ctx, laddr, raddr, rport, lport);

    /* no socket: a TIME_WAIT entry may hold the pair (or give it up to a
     * new SYN, RFC 6191) */
    if (s == NULL && tcp_tw_input(ctx, laddr, raddr, rport, lport, &seg))
        goto drop;
    /* a segment of a flow that another core owns: RSS (or the TAP's queue
     * choice) split the flow; a SYN opens a new one and is not counted */
    if (s == NULL && ctx->p.flowmap && !(seg.flags & RTE_TCP_SYN_FLAG) &&
        ts_flowmap_elsewhere(ctx->p.flowmap, ctx->p.core_id, laddr, raddr, rport, lport))
        ctx->st.tcp_flow_other_core += seg.segs;
    if (s == NULL) {
        int32_t lfd = ctx->listeners[lport];
        if (lfd >= 0 && ctx->socks[lfd].laddr != 0 && ctx->socks[lfd].laddr != laddr)
            lfd = -1; /* bound to another of our addresses */
        uint8_t ctl =
            seg.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG);
        if (lfd >= 0 && ctl == RTE_TCP_SYN_FLAG && !(seg.flags & RTE_TCP_FIN_FLAG)) {
            tcp_listen_input(ctx, &ctx->socks[lfd], ip, th, &seg);
            goto drop;
        }
        if (lfd >= 0 && !(seg.flags & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG))) {
            /* RFC 9293 3.10.7.2: in LISTEN, anything but SYN, ACK or RST
             * is dropped without a word */
            ctx->st.rx_no_flow += seg.segs;
            goto drop;
        }
        if (lfd >= 0 && ctl == RTE_TCP_ACK_FLAG && ctx->p.syncookies) {
            s = tcp_cookie_accept(ctx, &ctx->socks[lfd], laddr, raddr, rport, &seg);
            if (s) {
                tcp_deliver(ctx, s, &seg);
                ts_sock_maybe_free(ctx, s);
                goto drop;
            }
        }
        ctx->st.rx_no_flow += seg.segs;
        if (!(seg.flags & RTE_TCP_RST_FLAG))
            tcp_send_rst_reply(ctx, ip, th, seg.len);
        goto drop;
    }
    tcp_deliver(ctx, s, &seg);
    ts_sock_maybe_free(ctx, s);
drop:
    rte_pktmbuf_free(m);
}
