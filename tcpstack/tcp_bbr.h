/**
 * @file tcp_bbr.h
 * BBR congestion control (version 1, as described by Cardwell et al.,
 * "BBR: Congestion-Based Congestion Control", ACM Queue 2016, and
 * draft-cardwell-iccrg-bbr-congestion-control-00), in the form this stack
 * runs it: paced at one rate per phase (tcp_out.c: 2.89 times the
 * bandwidth in STARTUP, 1.25 times after, when [tcp] pacing is on), with
 * no gain cycle.
 *
 * BBR models the path instead of reacting to loss: the bottleneck
 * bandwidth (the largest delivery rate of the last 10 round trips) and the
 * round-trip propagation time (the least RTT of the last 10 s). cwnd is a
 * multiple of their product (the BDP); a random loss does not shrink it, so
 * a lossy path keeps its window where loss-based algorithms (CUBIC, Reno)
 * fall to a few segments and wait on timers.
 *
 * Data enters as one delivery-rate sample per ACK (struct tcp_rate_sample,
 * draft-cheng-iccrg-delivery-rate-estimation, taken by the loss-recovery
 * records in tcp_rack.c) and as the loss events of the generic code
 * (recovery entered and ended, a timeout); it leaves as cwnd in struct
 * tcp_cc. Pure functions of their inputs, time an argument.
 *
 * Without a gain cycle (and with pacing off), the phases whose only lever
 * is the pacing gain act on cwnd instead: DRAIN lowers the target to one BDP until the
 * queue startup built is gone; PROBE_BW keeps cwnd at twice the BDP (cwnd_gain 2), which
 * is what lets a faster path show itself, and has no gain cycle.
 * PROBE_RTT (cwnd 4 segments for 200 ms and a round trip, once the minimum
 * RTT is 10 s old) keeps the RTT estimate true on a path whose queue
 * never empties. Once the pipe is full, cwnd also holds what the receiver's
 * ACKs bunch up beyond the model's rate (the ACK aggregation of Linux's BBR
 * since 4.20, at most 100 ms of the rate): a receiver that acknowledges a
 * burst at a time would otherwise leave the window empty between its ACKs.
 * On a path that reorders, cwnd also holds the rate times the reordering
 * window loss recovery waits for a late segment (RACK's, which D-SACKs
 * widen to what the path showed; at most 100 ms of the rate): a late
 * segment stays in the pipe that much longer than the minimum RTT, and
 * without the allowance the late ones fill the window and the rate falls
 * with it. Linux's BBR gets its rate back on such a path by taking them
 * for lost and sending them again (a third of its segments through 25%
 * reordering by 5 ms). A connection without SACK has no records to sample
 * from and runs CUBIC instead.
 */
#ifndef TCP_BBR_H
#define TCP_BBR_H

#include <stdbool.h>
#include <stdint.h>

/* One ACK's delivery-rate sample. */
struct tcp_rate_sample {
    uint32_t delivered_total; /* C.delivered after this ACK: bytes, wrapping */
    uint32_t prior_delivered; /* C.delivered when the newest segment it
                               * delivered was sent (valid with have) */
    uint32_t delivered;       /* bytes delivered over interval_us; 0: no rate */
    uint32_t interval_us;
    uint32_t acked;  /* bytes newly acknowledged or SACKed by this ACK */
    uint32_t rtt_us; /* RTT of a segment sent once; 0: none */
    uint32_t reo_us; /* how late past the round trip of segments on time a
                      * late one comes (the queue left out: tcp_rack.c,
                      * reo_learn), once the path has shown reordering */
    bool have;       /* the ACK delivered a segment */
    bool app_limited;
};

enum tcp_bbr_mode {
    TCP_BBR_STARTUP = 0,
    TCP_BBR_DRAIN,
    TCP_BBR_PROBE_BW,
    TCP_BBR_PROBE_RTT
};

#define TCP_BBR_BW_SLOTS 3

struct tcp_bbr {
    /* connection-level delivery accounting (the rate draft's C.*), kept
     * here, with the socket, so that it survives the records' buffers
     * being given back while idle */
    uint32_t delivered;     /* C.delivered */
    uint32_t delivered_us;  /* C.delivered_time (low 32 bits of the clock) */
    uint32_t first_sent_us; /* C.first_sent_time */
    uint32_t app_limited;   /* C.app_limited: 0, or the delivered mark */
    /* the model: bandwidths in bytes per millisecond (4 GB/ms, 32 Tbit/s,
     * at most; 8 kbit/s steps) */
    uint32_t bw[TCP_BBR_BW_SLOTS]; /* windowed max filter of the rate */
    uint32_t bw_round[TCP_BBR_BW_SLOTS];
    uint32_t full_bw;           /* startup's plateau detector */
    uint32_t min_rtt_us;        /* UINT32_MAX: none yet */
    uint32_t min_rtt_stamp_ms;  /* when it was taken (low 32 bits) */
    uint32_t probe_rtt_done_ms; /* PROBE_RTT may end then; 0: not at 4 segments yet */
    uint32_t round_count;
    uint32_t next_round_delivered;
    uint32_t prior_cwnd; /* before a recovery, a timeout or PROBE_RTT */
    uint32_t reo_us;     /* the latest sample's reo_us */
    /* ACK aggregation: bytes ACKed beyond what the model's rate explains,
     * the largest of two windows of 5 rounds each */
    uint32_t extra_acked[2];
    uint32_t ack_epoch_us; /* this aggregation epoch began (low 32 bits) */
    uint32_t ack_epoch_acked;
    uint8_t extra_acked_idx;
    uint8_t extra_acked_rounds;
    uint8_t mode; /* enum tcp_bbr_mode */
    uint8_t full_bw_cnt;
    bool full_bw_reached;
    bool round_start;
    bool in_loss;        /* in recovery or a timeout's loss window */
    bool enter_recovery; /* the next ACK starts packet conservation */
    bool conservation;   /* packet conservation, for one round trip */
    bool probe_rtt_round_done;
    bool idle_restart; /* sending again after idle, nothing delivered since */
    bool after_rto;    /* the loss was a timeout's */
};

struct tcp_cc;

/** BBR's start: STARTUP, no model yet. */
void tcp_bbr_init(struct tcp_cc *cc);
/** Every ACK of a connection running BBR: the model takes @p rs, then cwnd
 *  is set from it. @p inflight: bytes in the network after the ACK (RFC
 *  6675's pipe). */
void tcp_bbr_on_ack(struct tcp_cc *cc, const struct tcp_rate_sample *rs,
                    uint32_t inflight, uint64_t now_us);
/** A loss recovery begins: cwnd is saved, and the next ACK sets it to what
 *  is in flight plus what it delivered (packet conservation for a round). */
void tcp_bbr_on_loss(struct tcp_cc *cc);
/** A retransmission timeout: cwnd saved, one segment; the ACKs grow it back
 *  towards the model's target. */
void tcp_bbr_on_rto(struct tcp_cc *cc);
/** A recovery or a timeout's loss window ended, or (@p undo) proved
 *  spurious: cwnd is at least what it was before (a random loss costs no
 *  window; an undo restarts startup's plateau detector too). After a
 *  timeout, whose loss window has drained the flight, at most @p burst
 *  (what is in flight plus an initial window): unpaced, the old window
 *  would leave at line rate; the ACKs grow it back. */
void tcp_bbr_on_recovery_end(struct tcp_cc *cc, bool undo, uint32_t burst);
/** Sending starts again with nothing in flight (after idle): the next ACKs
 *  refresh an expired minimum RTT instead of entering PROBE_RTT (the idle
 *  time drained the queue), and a PROBE_RTT whose time is up ends. */
void tcp_bbr_on_restart(struct tcp_cc *cc, uint64_t now_us);
/** The model's bottleneck bandwidth, bytes per millisecond (0: none yet). */
uint32_t tcp_bbr_max_bw(const struct tcp_bbr *b);

#endif
