/**
 * @file tcp_cc.h
 * Congestion control behind a small ops table: how cwnd and ssthresh grow
 * on ACKs and shrink on loss. The loss *detection* and recovery (duplicate
 * ACKs, SACK, RFC 6582 partial ACKs, RFC 6675 pipe) live in tcp_in.c; this
 * module only answers "what are cwnd and ssthresh now".
 *
 * Algorithms: NewReno (RFC 5681 growth, RFC 6582 reduction, beta 1/2) and
 * CUBIC (RFC 9438: beta 0.7, C 0.4, fast convergence, the Reno-friendly
 * region) and, for both, HyStart++ (RFC 9406) in slow start; and BBR
 * (tcp_bbr.h), which takes a delivery-rate sample on every ACK instead and
 * sets cwnd itself: for it the functions below only mark the loss events.
 * Pure functions of their inputs: time comes in as an argument, so tests
 * drive them with a virtual clock.
 */
#ifndef TCP_CC_H
#define TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_bbr.h"

enum tcp_cc_algo { TCP_CC_NEWRENO = 0, TCP_CC_CUBIC = 1, TCP_CC_BBR = 2 };

struct tcp_cc {
    uint8_t algo;      /* enum tcp_cc_algo */
    uint32_t mss;      /* sender MSS (SMSS) in bytes */
    uint32_t cwnd;     /* bytes */
    uint32_t ssthresh; /* bytes */
    /* bytes acked but not yet turned into window growth: NewReno's
     * RFC 5681 3.1 byte counting, and CUBIC's fractional growth */
    uint32_t bytes_acked;
    union {
        struct { /* NewReno and CUBIC */
            /* CUBIC state (RFC 9438 4): windows in bytes, times in microseconds */
            uint32_t w_max;
            uint32_t w_last_max;     /* for fast convergence (4.7) */
            uint64_t epoch_start_us; /* 0: no epoch yet (set on first ACK after loss) */
            double k_s;              /* K in seconds */
            double w_est;            /* Reno-friendly estimate (4.3), bytes */
            uint32_t cwnd_prior;     /* cwnd before the last reduction */
            /* HyStart++ (RFC 9406 4.2): per round of one window, the least RTT */
            uint8_t hs_state;      /* enum tcp_hs_state */
            uint8_t hs_css_rounds; /* rounds spent in conservative slow start */
            uint8_t hs_samples;    /* rttSampleCount */
            uint32_t hs_window_end;
            uint32_t hs_last_min_us; /* lastRoundMinRTT; UINT32_MAX: none */
            uint32_t hs_cur_min_us;  /* currentRoundMinRTT */
            uint32_t hs_css_base_us; /* cssBaselineMinRtt */
        };
        struct tcp_bbr bbr; /* BBR */
    };
};

enum tcp_hs_state {
    TCP_HS_OFF = 0, /* not started (no round yet) or done */
    TCP_HS_SS,      /* slow start, watching the RTT */
    TCP_HS_CSS,     /* conservative slow start */
};

/** Initial state: cwnd = @p init_cwnd bytes (RFC 6928: 10 segments),
 *  ssthresh "arbitrarily high" (RFC 5681 3.1). */
void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss,
                 uint32_t init_cwnd);

/** New data acknowledged outside loss recovery. @p acked bytes, @p flight the
 *  largest flight of the last window (RFC 7661's pipeACK; the bytes
 *  outstanding before this ACK when larger), @p srtt_us the smoothed RTT (0 when
 *  none yet). Slow start below ssthresh (cwnd += min(acked, L * SMSS), L = 8
 *  in HyStart++'s first slow start (RFC 9406), 1 after a loss), else the
 *  algorithm's congestion avoidance. cwnd never grows when flight < cwnd/2
 *  (application-limited: RFC 7661's idea, so an idle sender keeps no
 *  unearned window). */
void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight, uint32_t srtt_us,
                   uint64_t now_us);

/** HyStart++ (RFC 9406 4.2), on every ACK before tcp_cc_on_ack: @p ack and
 *  @p snd_nxt mark the rounds, @p rtt_us is the ACK's RTT sample (0: none).
 *  Returns true when it just ended slow start (entered conservative slow
 *  start), where cwnd then grows by a quarter as fast, and after
 *  CSS_ROUNDS rounds of it ssthresh becomes cwnd. */
bool tcp_cc_hystart(struct tcp_cc *cc, uint32_t ack, uint32_t snd_nxt, uint32_t rtt_us);

/** A loss detected by duplicate ACKs or SACK: entering fast recovery.
 *  Sets ssthresh (NewReno: max(flight/2, 2*SMSS); CUBIC: cwnd*beta, with
 *  w_max bookkeeping) and cwnd = ssthresh (RFC 6675 5 step 4.2; the recovery
 *  code inflates on its own). */
void tcp_cc_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now_us);

/** Recovery ended with a full ACK: RFC 6582 3.2 step 3 option 1:
 *  cwnd = min(ssthresh, max(flight, SMSS) + SMSS). */
void tcp_cc_on_recovery_exit(struct tcp_cc *cc, uint32_t flight);

/** RFC 6582 3.2 (the recovery of a connection without SACK records), in
 *  segments of @p segsz: step 2, after the fast retransmit, cwnd =
 *  ssthresh + 3 segments; step 4, each further duplicate ACK inflates it by
 *  one; step 5, a partial ACK deflates it by what it acknowledged, plus a
 *  segment back when that was a segment or more, never below one. BBR's
 *  cwnd is its model's: none of them touches it (a BBR connection has
 *  records but for a FIN sent without buffers). */
void tcp_cc_on_fast_retransmit(struct tcp_cc *cc, uint32_t segsz);
void tcp_cc_on_dupack(struct tcp_cc *cc, uint32_t segsz);
void tcp_cc_on_partial_ack(struct tcp_cc *cc, uint32_t acked, uint32_t segsz);

/** A SACK recovery ended (@p loss: a timeout's loss window): after PRR,
 *  cwnd is ssthresh (RFC 6937 3), after a loss window it stays where slow
 *  start took it; BBR returns to the cwnd it had before. */
void tcp_cc_on_recovery_end(struct tcp_cc *cc, bool loss);

/** Retransmission timeout (RFC 5681 3.1 eq. 4): ssthresh from the flight
 *  (CUBIC: its own reduction), cwnd = 1 SMSS (loss window). */
void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t flight, uint64_t now_us);

/** Name for logs and config: "newreno", "cubic" or "bbr". */
const char *tcp_cc_name(enum tcp_cc_algo algo);
/** Parses a name; -1 when unknown. */
int tcp_cc_parse(const char *name);

#endif
