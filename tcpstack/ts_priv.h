/**
 * @file ts_priv.h
 * Internals of the stack shared by its source files: the per-core context,
 * the socket (TCP control block grouped by role), the timer wheel, and the
 * layer entry points. Not part of the contract; see ts.h and ts_socket.h.
 */
#ifndef TS_PRIV_H
#define TS_PRIV_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_cc.h"
#include "tcp_sack.h"
#include "ts.h"
#include "ts_ring.h"
#include "ts_socket.h"
#include "ts_wheel.h"

/* Invariants: a broken one is a bug in the stack, never a peer's doing. */
#define TS_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "tcpstack: %s:%d: %s: assertion '%s' failed\n", __FILE__,    \
                    __LINE__, __func__, #cond);                                          \
            abort();                                                                     \
        }                                                                                \
    } while (0)

#define TS_BURST 64
#define TS_SYN_SHED_SLOTS 4096 /* SYNs shed and remembered (power of 2) */
#define TS_SYN_SHED_AFTER 256  /* bursts in a row over the SYN budget before shedding */
#define TS_HDR_ROOM (RTE_ETHER_HDR_LEN + 20 + 60)

/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4). */
#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

/* ------------------------------------------------------------------ timers */

/* Timers of the context's wheel (ts_wheel.h); they fire tcp_timer_fire. */
static inline void ts_timer_arm(struct ts_ctx *ctx, struct ts_timer *t,
                                uint64_t expire_us);
static inline void ts_timer_cancel(struct ts_ctx *ctx, struct ts_timer *t);

/* ------------------------------------------------------------------ sockets */

enum tcp_state {
    TCPS_CLOSED,
    TCPS_LISTEN,
    TCPS_SYN_SENT,
    TCPS_SYN_RCVD,
    TCPS_ESTABLISHED,
    TCPS_FIN_WAIT_1,
    TCPS_FIN_WAIT_2,
    TCPS_CLOSE_WAIT,
    TCPS_CLOSING,
    TCPS_LAST_ACK,
    TCPS_TIME_WAIT,
};

enum ts_kind { TS_KIND_FREE, TS_KIND_TCP, TS_KIND_EPOLL };

#define TCP_OOO_MAX 8  /* out-of-order ranges held per connection */
#define TCP_SACK_MAX 4 /* SACK blocks an option holds (RFC 2018 3) */

/* A reference in a socket's send queue. */
struct ts_xhold;
struct ts_sref {
    const uint8_t *p;
    uint32_t len;
    uint32_t copied; /* 1: p points into the copy ring; advance it on ack */
    struct ts_ref_owner owner;
    const struct ts_csum_map *csum; /* from the owner; NULL: sum the bytes */
    rte_iova_t iova;                /* of p, for frames that point at it; RTE_BAD_IOVA:
                                       not device memory, copy (set by the stack) */
    struct ts_xhold *xh;            /* once frames point at the bytes: their hold */
};

/* A segment sent and not yet acknowledged (RFC 8985 3.2: RACK's per-segment
 * state). Records cover [snd_una, snd_max) in sequence order; a FIN counts
 * one. A retransmission updates the send time of the records it covers. */
struct tcp_txseg {
    uint32_t start, end;
    uint32_t xmit_us; /* last (re)transmission, low 32 bits of the clock */
    uint32_t flags;   /* TXS_* */
    /* the connection's delivery state when it was (re)sent, for BBR's
     * rate samples (draft-cheng-iccrg-delivery-rate-estimation 3.2: P.*) */
    uint32_t delivered, delivered_us, first_sent_us;
};
#define TXS_SACKED (1u << 0)
#define TXS_LOST (1u << 1)         /* marked lost, by RACK or a timeout */
#define TXS_RETRANS (1u << 2)      /* a retransmission of it is outstanding */
#define TXS_EVER_RETRANS (1u << 3) /* sent more than once: ambiguous RTT */
#define TXS_APP_LIMITED (1u << 4)  /* sent while the sender was application-limited */

#define TCP_RXT_HIST 256 /* a power of two, at most 256 (rxt_hist_next) */

/* Loss recovery state of a connection that moves data (tcp_rack.c): the
 * segments in flight, RACK, the undo of spurious recoveries, PRR. It lives
 * with the buffers, so an idle connection costs none of it. */
struct tcp_rec {
    struct tcp_txseg *seg; /* ring of mask + 1 records */
    /* a bit per slot of seg, set while it holds a record not SACKed: the
     * walks over the flight (RACK's, the next loss's) skip what the peer
     * holds 64 records a word, where on a reordering path nearly all the
     * flight is SACKed and every ACK walked it record by record */
    uint64_t *live;
    uint32_t mask, head, n;
    uint32_t sacked, lost, retrans; /* bytes of the records so marked */
    uint32_t sacked_segs;
    /* RACK (RFC 8985 6.1) */
    bool rack_valid;
    uint32_t rack_xmit_us; /* RACK.xmit_ts */
    uint32_t rack_end;     /* RACK.end_seq */
    uint32_t rack_rtt_us;  /* RACK.rtt */
    uint32_t fresh_rtt_us; /* the RTT of the segment that set rack_xmit_us */
    uint32_t ack_rtt_us;   /* this ACK's sample from a segment sent once; 0: none */
    uint32_t hs_rtt_us;    /* the same, of a segment no later one overtook: HyStart++'s */
    uint32_t ack_sacked;   /* bytes this ACK acknowledged that were SACKed before */
    uint32_t fack;         /* RACK.fack: highest delivered end */
    bool dsack_round_on;
    uint32_t dsack_round; /* RACK.dsack_round */
    /* tail loss probe episode (RFC 8985 7.4) */
    uint32_t tlp_end; /* 0 with !tlp_on */
    bool tlp_on, tlp_retrans;
    uint8_t tlp_series; /* counts the series of probes (each since new data was ACKed) */
    /* undo of a spurious recovery or timeout (RFC 3708, RFC 4015) */
    bool undo_on;
    uint32_t undo_marker; /* snd_una when the episode began */
    int32_t undo_retrans; /* retransmissions not yet shown spurious by D-SACK */
    uint32_t undo_ep;     /* the episode's number (tcp_rec_episode) */
    uint32_t undo_end_us; /* its recovery ended (low 32 bits of the clock) */
    uint32_t undo_tsval;  /* TSval of the episode's first retransmission */
    bool undo_tsval_set;
    struct tcp_cc cc_prior;
    /* the episodes before, while their D-SACKs may still come
     * (tcp_rec_episode): when they and the current one prove spurious,
     * undo goes back to before them; when only the current one does,
     * they become the current episode again */
    bool prev_on;
    int32_t prev_retrans;
    uint32_t prev_ep, prev_marker;
    struct tcp_cc prev_prior;
    bool probe_tx; /* what is sent now is a tail loss probe (tlp_fire) */
    /* PRR (RFC 6937) */
    uint32_t prr_delivered, prr_out, recover_fs;
    /* this ACK's delivery-rate sample (BBR): the newest segment delivered */
    bool rs_have, rs_app_limited;
    uint32_t rs_prior_delivered, rs_prior_us, rs_send_elapsed;
    uint32_t rs_xmit_us, rs_end;
    uint8_t rxt_hist_next; /* where the next retransmission goes in rxt_hist */
    uint16_t rxt_hist_n;   /* entries of this connection's, at most TCP_RXT_HIST */
    /* the latest retransmissions, to tell a D-SACK of one (spurious) from
     * one of a duplicate the network made, and to learn from it how late
     * the original was. Enough for the retransmissions of the 5 ms or so
     * before the first D-SACK of a reordering path comes back at a few
     * Gbit/s (64 were not: the D-SACKs found none, so the window never
     * learned the path's reordering and every late segment was sent
     * again). Last in the struct: the buffers' attach clears what is
     * before it, and rxt_hist_n says how many entries are this
     * connection's */
    struct tcp_rxt {
        uint32_t start, end;
        uint32_t prev_us; /* when the copy before this retransmission left */
        uint32_t sent_us; /* when this retransmission left */
        uint32_t undo_ep; /* the episode it counted in ... */
        uint32_t undo_n;  /* ... for this many of undo_retrans, until a D-SACK */
        bool probe;       /* a tail loss probe's ... */
        uint8_t series;   /* ... of this series (tlp_series) */
        bool dsacked;     /* a D-SACK showed it needless */
        bool timer;       /* sent while the retransmission timer's backoff
                           * stood: after a timeout, or a shut window's probe */
    } rxt_hist[TCP_RXT_HIST];
};

/* Buffers of a connection that moves data; released at TIME_WAIT/close. */
struct ts_bufs {
    struct ts_bring rx;       /* stack -> worker: received bytes */
    struct ts_bring sndcopy;  /* worker -> stack: copied send bytes */
    struct ts_sring refs;     /* worker -> stack: struct ts_sref */
    struct tcp_scoreboard sb; /* what the peer SACKed of our data */
    struct tcp_rec rec;       /* segments in flight, RACK, undo, PRR */
    int32_t next_free;
    /* receive buffer autotuning (Linux's dynamic right-sizing) */
    uint8_t *rx_home; /* the set's own receive ring (rcvbuf bytes) */
    int32_t rx_big;   /* the grown ring held (ctx->rbig_*), -1: none */
    uint32_t rx_want; /* a size waiting for the ring to be empty */
};

#define TS_REFS_PER_SOCK 64u

/* Shared flags (stack writes, worker reads): what the worker can observe. */
#define TS_SF_CONNECTED (1u << 0) /* handshake done */
#define TS_SF_RDCLOSED (1u << 1)  /* FIN received: no more data after the ring */
#define TS_SF_RESET (1u << 2)     /* reset or timed out; so_error says which */
#define TS_SF_LISTENING (1u << 3)
#define TS_SF_WRDONE (1u << 4) /* our FIN is acknowledged / nothing more sendable */

/* Stack-private flags. */
#define TF_ACKNOW (1u << 0)
#define TF_FIN_PENDING (1u << 1) /* the application is done writing */
#define TF_FIN_SENT (1u << 2)
#define TF_APP_CLOSED (1u << 3)    /* the worker closed its fd */
#define TF_EV_QUEUED (1u << 4)     /* on the context's event list */
#define TF_RTT_TIMING (1u << 5)    /* rtt_seq is being timed */
#define TF_HASHED (1u << 6)        /* in the flow table */
#define TF_ACCEPT_QUEUED (1u << 7) /* handed to the listener's accept ring */
#define TF_OUT_QUEUED (1u << 8)    /* on the context's output list */
#define TF_IN_RECOVERY (1u << 9)
#define TF_FORCE1 (1u << 10)    /* send one byte into a zero window */
#define TF_WS_OK (1u << 11)     /* window scaling agreed (RFC 7323 2) */
#define TF_TS_OK (1u << 12)     /* timestamps agreed (RFC 7323 3) */
#define TF_SACK_OK (1u << 13)   /* SACK permitted both ways (RFC 2018) */
#define TF_FIN_OOO (1u << 14)   /* a FIN arrived beyond a gap: rcv_fin_seq */
#define TF_TLP_ARMED (1u << 15) /* t_rexmt is a probe timeout (RFC 8985 7) */
#define TF_TLP_SENT                                                                      \
    (1u << 16) /* TCP_TLP_MAX probes out; no other until an ACK of new data */
#define TF_TLP_NEW (1u << 17)     /* the probe may send one new segment past cwnd */
#define TF_LOSS (1u << 18)        /* TF_IN_RECOVERY after a timeout (RFC 8985 6.3) */
#define TF_ORPHAN (1u << 19)      /* closed by the application, counted in n_orphans */
#define TF_REORDER (1u << 20)     /* RACK.reordering_seen */
#define TF_DSACK (1u << 21)       /* a D-SACK block to send: dsack_start, dsack_end */
#define TF_REO_SEEDED (1u << 22)  /* reo_extent_us came from the peer table */
#define TF_REO_LEARNED (1u << 23) /* this connection measured reordering */

/* Worker-private flags. */
#define AF_OPEN (1u << 0)
#define AF_SHUT_WR (1u << 1)

struct ts_sock {
    /* --- identity and state: first cache line, read on every segment --- */
    uint32_t raddr; /* host byte order */
    uint32_t laddr; /* ours, one of the context's addresses; 0: unbound */
    uint16_t rport;
    uint16_t lport;
    uint8_t kind;    /* enum ts_kind */
    uint8_t state;   /* enum tcp_state */
    uint16_t mss;    /* send MSS */
    int32_t hnext;   /* flow table chain */
    uint32_t tflags; /* TF_* */

    /* --- send sequence space (RFC 9293 3.3.1) --- */
    uint32_t iss;
    uint32_t snd_una;
    uint32_t snd_nxt;
    uint32_t snd_max; /* highest sequence sent + 1 */
    uint32_t snd_end; /* end of the data the worker has queued */
    uint32_t snd_wnd;
    uint32_t snd_wl1;
    uint32_t snd_wl2;
    uint32_t una_off;   /* bytes of the oldest send reference already acked */
    uint32_t refs_seen; /* send references counted into snd_end */

    /* --- receive sequence space --- */
    uint32_t irs;
    uint32_t rcv_nxt;
    _Atomic uint32_t rcv_adv; /* right edge last advertised */

    /* --- congestion control and retransmission (RFC 6298) --- */
    struct tcp_cc cc;
    uint32_t recover;        /* RFC 6582 / RFC 6675 RecoveryPoint */
    uint32_t min_rtt_us;     /* RACK.min_RTT; 0: none yet */
    uint32_t reo_extent_us;  /* reordering measured by D-SACKs and late
                              * arrivals (0: none); lasts as the multiplier */
    uint32_t reo_late_us;    /* the same less the queue (reo_learn): BBR's */
    uint8_t reo_wnd_mult;    /* RACK.reo_wnd_mult (RFC 8985 6.2 step 4) */
    uint8_t reo_wnd_persist; /* recoveries before it falls back to 1 */
    uint8_t dupacks;
    uint8_t rexmt_shift; /* consecutive timeouts */
    uint32_t srtt_us;    /* 0: no sample yet */
    uint32_t rttvar_us;
    uint32_t rto_us;
    uint32_t rtt_seq;
    uint64_t rtt_start_us;
    uint32_t max_flight;     /* the largest flight of the last window ... */
    uint32_t max_flight_seq; /* ... which ends when this is acknowledged */

    /* --- timers --- */
    struct ts_timer t_rexmt; /* SYN-ACK, data retransmission, window probe */
    struct ts_timer t_delack;
    struct ts_timer t_keep; /* keep-alive; in FIN_WAIT_2 an orphan's timeout */
    struct ts_timer t_reo;  /* RACK's reordering timer (RFC 8985 6.2 step 5) */
    struct ts_timer t_pace; /* pacing: output resumes (ts_params pacing) */
    uint64_t pace_next_us;  /* pacing: when the bytes sent so far are paid for */
    uint64_t last_rx_us;    /* for keep-alive */
    uint8_t keep_probes;
    uint8_t tlp_count; /* tail loss probes since the last ACK of new data */

    /* --- options (RFC 7323, RFC 2018) --- */
    uint8_t snd_wscale; /* the peer's shift */
    uint8_t rcv_wscale; /* ours; 0 unless agreed */
    uint32_t max_snd_wnd;
    uint32_t ts_recent; /* RFC 7323 TS.Recent */
    uint64_t ts_recent_us;
    uint32_t last_ack_sent;

    /* --- receive reassembly: out-of-order ranges already in the rx ring
     * past its head, sorted by start --- */
    uint32_t rcv_fin_seq;
    uint32_t dsack_start, dsack_end; /* a duplicate to report (RFC 2883) */
    /* receive buffer autotuning (tcp_rcvbuf_autotune); kept while idle
     * connections give their buffers back between reads */
    uint32_t rcv_rtt_us;    /* the receiver's RTT estimate */
    uint32_t rcv_epoch_us;  /* this measurement round began (low 32 bits) ... */
    uint32_t rcv_epoch_seq; /* ... at this rcv_nxt */
    uint8_t n_ooo;
    uint8_t ooo_last; /* range holding the latest segment (first SACK block) */
    struct {
        uint32_t start, end;
    } ooo[TCP_OOO_MAX];

    /* --- listener / accept --- */
    int32_t listener;         /* for a passive open: the listening socket */
    uint32_t backlog;         /* listener: max queued + half-open */
    uint32_t n_pending;       /* listener: half-open + queued, not yet accepted */
    struct ts_sring *acceptq; /* listener: int32 fds, stack -> worker */

    /* --- events (stack side) --- */
    uint32_t ev_pending;
    int32_t ev_next;
    int32_t out_next;

    /* --- shared with the worker --- */
    struct ts_bufs *bufs;
    _Atomic uint32_t sflags; /* TS_SF_* */
    _Atomic int so_error;
    _Atomic uint64_t acked_total; /* bytes of send data acknowledged */
    _Atomic uint32_t kick;        /* worker asks the stack to look at this socket */
    _Atomic uint32_t snd_limit;   /* send buffer now (autotuned); 0: sndbuf */

    /* --- worker side (set when the worker takes the fd) --- */
    uint64_t written_total __rte_cache_aligned;
    uint32_t aflags; /* AF_* */
} __rte_cache_aligned;

/* The worker's epoll registration of a socket. Kept apart from the socket,
 * which the stack clears when it reuses an fd, so that the worker's ready
 * list never sees a write from the other thread. */
struct ts_epitem {
    int32_t ep_fd; /* 0 (never an fd): not registered, so zeroed memory is */
    uint32_t events;
    uint64_t data;
    int32_t rprev, rnext; /* ready list */
    uint8_t ready;
};

/* ------------------------------------------------------------------ rings */

enum ts_cmd_op {
    TS_CMD_KICK = 1, /* new send data or read progress on fd */
    TS_CMD_SOCKET,
    TS_CMD_EPOLL,
    TS_CMD_BIND,
    TS_CMD_LISTEN,
    TS_CMD_CONNECT,
    TS_CMD_SHUTDOWN,
    TS_CMD_CLOSE,
};

struct ts_cmd {
    uint8_t op;
    int32_t fd;
    int32_t arg;
    uint32_t ip;
    uint16_t port;
    _Atomic int *done; /* sync calls: set to 1 when result is written */
    int *result;       /* >= 0 or -errno */
};

struct ts_evt {
    int32_t fd;
    uint32_t events;
};

#define TS_EPOLL_MAX_BUSY 8 /* epoll_wait calls before the stack must run */

struct ts_epoll {
    int32_t fd;          /* -1: none */
    uint32_t busy_calls; /* calls since the worker last handed over the core */
    int32_t ready_head;  /* worker-owned ready list */
    int32_t ready_tail;
};

/* ------------------------------------------------------------------ context */

/* Frames are built in mbufs taken from the port's pool TS_TXSTASH at a time
 * and handed out one by one, each a few ahead prefetched for writing (see
 * ts_alloc). */
#define TS_TXSTASH 32

struct ts_ctx {
    struct ts_params p;
    uint64_t now;
    struct ts_stats st;

    /* frames waiting for the output function */
    struct rte_mbuf *txq[TS_BURST];
    uint16_t ntx;
    /* mbufs taken from the pool, not yet built into: stash[stash_i..nstash) */
    struct rte_mbuf *stash[TS_TXSTASH];
    uint16_t nstash, stash_i;
    bool stash_dry;   /* a bulk get failed: one at a time until ts_poll */
    uint32_t hdr_off; /* from an mbuf to where its headers go; 0: not prefetched */

    /* sockets */
    struct ts_sock *socks;
    uint32_t nsocks;
    int32_t free_head;  /* freed sockets, chained by hnext */
    uint32_t socks_hwm; /* sockets below this have been used */
    uint32_t nfree;
    int32_t *flow_buckets;
    uint32_t flow_mask;
    int32_t *listeners; /* by local port, -1 when none */

    /* buffer sets */
    struct ts_bufs *bufs;
    uint8_t *buf_mem; /* mmap'ed, buf_mem_len bytes */
    size_t buf_mem_len;
    int32_t bufs_free; /* freed buffer sets, chained by next_free */
    uint32_t bufs_hwm; /* buffer sets below this have been used */
    uint32_t bufs_used;
    size_t bufs_per; /* bytes of buf_mem per set */

    uint32_t n_orphans; /* sockets with TF_ORPHAN */

    /* grown receive buffers (tcp_rcvbuf_autotune): rcvbuf_grown rings of
     * rcvbuf_max bytes, mmap'ed, taken and given back by index */
    uint8_t *rbig_mem;
    int32_t *rbig_next; /* free list links */
    int32_t rbig_free;
    uint32_t rbig_used;

    /* zero-copy send (tcp_out.c): mbufs with no data room that point into
     * the application's bytes, and the holds that keep those bytes alive
     * until the last such mbuf is freed; NULL when the port takes no chains */
    struct rte_mempool *xpool;
    struct rte_mempool *hpool;

    /* TIME_WAIT entries (tcp_tw.c) */
    struct tcp_tw_table *tw;
    /* what connections learned of their paths, by peer (tcp_peer.c) */
    struct tcp_peer *peers;

    /* timers */
    struct ts_wheel wheel;

    /* sockets with events to publish / output to run, this batch */
    int32_t ev_head;
    int32_t out_head; /* sockets with output to run, oldest first */
    int32_t out_tail;

    /* ARP */
    struct ts_arp_table *arp;
    struct ts_arp_pending *arp_pend;

    /* worker <-> stack */
    struct ts_sring cmdq; /* worker -> stack */
    struct ts_sring evq;  /* stack -> worker */
    _Atomic uint32_t ev_overflow;
    struct ts_epoll ep; /* one epoll instance per context */
    struct ts_epitem *epi;
    _Atomic uint64_t now_pub; /* the stack's clock, for the worker's timeouts */

    uint8_t rcv_wscale;     /* the shift we offer (RFC 7323 2.3) */
    uint16_t next_eport;    /* ephemeral port search position */
    uint32_t next_laddr;    /* connect's round-robin source address (index) */
    uint32_t flow_key;      /* flow hash secret, per context and boot */
    uint64_t chal_epoch_us; /* challenge ACK rate limit (RFC 5961 7) */
    uint32_t chal_count;
    uint32_t syn_shed[TS_SYN_SHED_SLOTS]; /* hashes of SYNs shed (ts_input) */
    uint32_t syn_over;                    /* bursts in a row over syn_budget */

    /* the pair (ts_pair.c) */
    bool threaded;
    _Atomic uint32_t turn;      /* 0: stack thread runs, 1: worker runs */
    _Atomic uint32_t asleep[2]; /* [who]: that thread may be in futex_wait */
    _Atomic uint32_t stop;
    _Atomic uint32_t worker_wake; /* a sync call finished */
    _Atomic uint64_t worker_deadline;
};

/* A received segment, parsed. */
struct tcp_seg {
    uint32_t seq;
    uint32_t ack;
    uint32_t len; /* payload bytes */
    uint16_t wnd; /* as received, unscaled */
    uint8_t flags;
    uint16_t mss;  /* 0: no MSS option */
    int8_t wscale; /* -1: no window scale option */
    bool sack_ok;  /* SACK-permitted */
    bool has_ts;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    struct tcp_sack_block sack[TCP_SACK_MAX];
    /* the payload: dlen bytes at data, then the data of each mbuf from
     * more on (a run ts_gro chained), len bytes in all */
    const uint8_t *data;
    uint32_t dlen;
    const struct rte_mbuf *more;
    uint16_t segs; /* frames received as this segment (a ts_gro run), for the counters */
    bool late;     /* failed PAWS, taken for its SACK blocks only (disordered_ack) */
};

static inline void ts_timer_arm(struct ts_ctx *ctx, struct ts_timer *t,
                                uint64_t expire_us)
{
    ts_wheel_arm(&ctx->wheel, t, expire_us, ctx->now);
}

static inline void ts_timer_cancel(struct ts_ctx *ctx, struct ts_timer *t)
{
    ts_wheel_cancel(&ctx->wheel, t);
}

/* ------------------------------------------------------------------ layers */

/** Queues a finished frame for the output function. */
void ts_emit(struct ts_ctx *ctx, struct rte_mbuf *m);
void ts_emit_flush(struct ts_ctx *ctx);
/** A reset mbuf of the port's pool to build a frame in, or NULL (counted). */
struct rte_mbuf *ts_alloc(struct ts_ctx *ctx);

void ts_arp_input(struct ts_ctx *ctx, struct rte_mbuf *m);
/** Fills in the Ethernet header of @p m (IPv4 frame) and emits it, or holds
 *  it while @p dst is resolved. */
void ts_arp_output(struct ts_ctx *ctx, struct rte_mbuf *m, uint32_t dst);
void ts_arp_tick(struct ts_ctx *ctx);
int ts_arp_ctx_init(struct ts_ctx *ctx);
void ts_arp_ctx_fini(struct ts_ctx *ctx);

void ts_ipv4_input(struct ts_ctx *ctx, struct rte_mbuf *m);

/* Receive coalescing (ts_gro.c): chains each run of in-order data segments
 * of one flow among @p pkts behind its first frame, which then stands for
 * the run; returns how many frames remain, in order, compacted in @p pkts. */
uint16_t ts_gro(struct ts_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
/** Writes the IPv4 header at l2 offset of @p m (payload of @p l4_len already
 *  in place after it) and, unless offloaded, its checksum. */
void ts_ipv4_fill(struct ts_ctx *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst,
                  uint8_t proto, uint16_t l4_len);
/** True when @p addr (host order) is one of the context's addresses. */
static inline bool ts_addr_local(const struct ts_ctx *ctx, uint32_t addr)
{
    return addr - ctx->p.ip < ctx->p.ip_count;
}
void ts_icmp_input(struct ts_ctx *ctx, struct rte_mbuf *m, struct rte_ipv4_hdr *ip);

void tcp_input(struct ts_ctx *ctx, struct rte_mbuf *m, struct rte_ipv4_hdr *ip);
void tcp_timer_fire(void *ctx, struct ts_timer *t);
/** Sends what the socket may send now: data, FIN, a pending ACK. */
void tcp_output(struct ts_ctx *ctx, struct ts_sock *s);
/** Arms t_rexmt as the retransmission timeout (RFC 6298). */
void tcp_arm_rto(struct ts_ctx *ctx, struct ts_sock *s);
/** Arms t_rexmt for what is outstanding: a tail loss probe (RFC 8985)
 *  when it applies, else the retransmission timeout. */
void tcp_arm_rexmt(struct ts_ctx *ctx, struct ts_sock *s);
/** After new data went out: arms t_rexmt if idle, or brings it forward to
 *  a tail loss probe that now applies. */
void tcp_sent_new_data(struct ts_ctx *ctx, struct ts_sock *s);
/** Retransmits the last segment sent (the tail loss probe's fallback). */
void tcp_rexmit_tail(struct ts_ctx *ctx, struct ts_sock *s);
/** Loss found: enters fast recovery and retransmits the first hole. */
void tcp_enter_recovery(struct ts_ctx *ctx, struct ts_sock *s);

/* loss recovery (tcp_rack.c): RACK-TLP (RFC 8985), D-SACK (RFC 2883) and
 * undo (RFC 3708, RFC 4015), PRR (RFC 6937) */
/** True when @p s detects losses with RACK: SACK agreed, buffers held. */
static inline bool tcp_rack_on(const struct ts_sock *s)
{
    return (s->tflags & TF_SACK_OK) && s->bufs != NULL;
}
/** Records the (re)transmission of [seq, end) at ctx->now. */
void tcp_rec_sent(struct ts_ctx *ctx, struct ts_sock *s, uint32_t seq, uint32_t end);
/** No room for another record: new data waits for an ACK. */
bool tcp_rec_full(const struct ts_sock *s);
/** RFC 8985 6.2 steps 1-3 for one ACK (snd_una and the scoreboard already
 *  moved): the records it delivers update RACK; returns the bytes newly
 *  SACKed. */
uint32_t tcp_rack_ack(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg);
/** RFC 8985 6.2 step 5: marks lost what RACK says is; arms the reordering
 *  timer for the rest. Returns the bytes newly marked lost. */
uint32_t tcp_rack_detect(struct ts_ctx *ctx, struct ts_sock *s);
/** Bytes in flight (RFC 6675 pipe from the marks). */
uint32_t tcp_rec_pipe(const struct ts_sock *s);
/** The first record lost and not retransmitted since: true with its range. */
bool tcp_rec_next_lost(const struct ts_sock *s, uint32_t *seq, uint32_t *len);
/** What a tail loss probe repeats: the last segment sent (RFC 8985 7.3), or
 *  in recovery or once that one is SACKed the lowest record not SACKed;
 *  true with its range. */
bool tcp_rec_probe(const struct ts_sock *s, uint32_t *seq, uint32_t *len);
/** The lowest record not SACKed: true with its range. */
bool tcp_rec_first_unsacked(const struct ts_sock *s, uint32_t *seq, uint32_t *len);
/** A timeout: every record not SACKed is lost (RFC 8985 6.3); @p renege
 *  forgets the SACKs too. */
void tcp_rec_mark_all_lost(struct ts_ctx *ctx, struct ts_sock *s, bool renege);
/** A D-SACK block in an ACK (RFC 2883 4): reordering window (RFC 8985 6.2
 *  step 4), spurious retransmissions, undo (RFC 3708). */
void tcp_rec_dsack(struct ts_ctx *ctx, struct ts_sock *s, uint32_t start, uint32_t end,
                   uint32_t acked);
/** A recovery episode begins: remember what undo restores. */
void tcp_rec_episode(struct ts_ctx *ctx, struct ts_sock *s);
/** Eifel detection (RFC 3522 via RFC 3708 4): an ACK of the first
 *  retransmitted byte echoing a timestamp older than the retransmission.
 *  True when it undid the episode (cwnd then counts this ACK). */
bool tcp_rec_check_ts(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg,
                      uint32_t prev_una);
/** PRR (RFC 6937 3): sets cwnd to pipe + sndcnt after an ACK in fast
 *  recovery that delivered @p delivered bytes. */
void tcp_prr_ack(struct ts_ctx *ctx, struct ts_sock *s, uint32_t delivered);
/** BBR's delivery-rate sample of the ACK tcp_rack_ack() just took (draft-
 *  cheng-iccrg-delivery-rate-estimation 3.3), @p acked bytes newly
 *  acknowledged or SACKed by it. */
void tcp_rate_sample(const struct ts_sock *s, struct tcp_rate_sample *rs, uint32_t acked);
/** The sender has less than a segment left to send and cwnd to spare: the
 *  rate samples until what is in flight now is delivered show the
 *  application, not the path (BBR). */
void tcp_rate_app_limited(struct ts_sock *s);
/** The tail loss probe's bookkeeping (RFC 8985 7.3, 7.4). */
void tcp_tlp_sent(struct ts_sock *s, bool retrans);
void tcp_tlp_ack(struct ts_ctx *ctx, struct ts_sock *s, const struct tcp_seg *seg,
                 bool una_moved);
#define TCP_TLP_MAX 5           /* probes before the RTO (RFC 8985 7: one) */
#define TCP_UNDO_HOLD_US 10000u /* least time an idle connection keeps its undo state */
#define TCP_INIT_CWND_SEGS 10   /* RFC 6928 */
/** Records a duplicate [start, end) to report in a D-SACK block. */
void tcp_dsack_note(struct ts_sock *s, uint32_t start, uint32_t end);
/** The pool of grown receive buffers: 0 or -1 (out of memory). */
int tcp_rcvbig_init(struct ts_ctx *ctx);
void tcp_rcvbig_fini(struct ts_ctx *ctx);
/** Receive buffer autotuning after in-order data or a read: measures the
 *  bytes received per round trip and grows the ring (when it is empty) to
 *  twice that, up to rcvbuf_max. */
void tcp_rcvbuf_autotune(struct ts_ctx *ctx, struct ts_sock *s,
                         const struct tcp_seg *seg);
/** Records per buffer set for a send buffer of @p sndbuf bytes. */
uint32_t tcp_rec_slots(uint32_t sndbuf);
/** Bytes of a buffer set that the records of a @p sndbuf send buffer take:
 *  the ring and its live bitmap. */
size_t tcp_rec_bytes(uint32_t sndbuf);
/** Retransmits one segment from snd_una (fast retransmit); returns the
 *  sequence space it covers. */
uint32_t tcp_rexmit_una(struct ts_ctx *ctx, struct ts_sock *s);
/** Bytes a maximum-size segment may carry here: MTU and mbuf room. */
uint32_t tcp_mss_max(const struct ts_ctx *ctx);
/** Starts an active open of @p s (TS_CMD_CONNECT): 0 or -errno. */
int tcp_connect(struct ts_ctx *ctx, struct ts_sock *s, uint32_t raddr, uint16_t rport);
/** SYN-ACK for a full backlog carrying a cookie instead of state. */
void tcp_cookie_synack(struct ts_ctx *ctx, struct ts_sock *l, uint32_t laddr,
                       uint32_t raddr, uint16_t rport, uint32_t irs, uint16_t mss,
                       int8_t wscale, bool sack_ok, bool has_ts, uint32_t tsval);
/** Checks the cookie an ACK returns (ack - 1); on success fills the
 *  connection's MSS and options agreed in the SYN. */
bool tcp_cookie_check(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                      uint16_t lport, uint32_t irs, uint32_t cookie, uint16_t *mss,
                      int8_t *wscale, bool *sack_ok, bool *has_ts);
uint64_t ts_siphash(const uint32_t key[4], uint64_t m0, uint64_t m1);
void tcp_send_ctl(struct ts_ctx *ctx, struct ts_sock *s, uint8_t flags, uint32_t seq);
void tcp_send_rst_reply(struct ts_ctx *ctx, const struct rte_ipv4_hdr *ip,
                        const struct rte_tcp_hdr *th, uint32_t payload_len);
/** Creates the zero-copy pools when the port sends chained frames. */
int tcp_zc_init(struct ts_ctx *ctx);
void tcp_zc_fini(struct ts_ctx *ctx);
/** Gives a send reference up (acknowledged, or the connection is gone): its
 *  owner is released now, or when the last frame pointing at it is freed. */
void tcp_sref_release(struct ts_ctx *ctx, struct ts_sref *r);
/** Picks up newly queued send references (worker -> stack). */
void tcp_snd_collect(struct ts_ctx *ctx, struct ts_sock *s);
/** Releases send references covered by an ACK of @p n bytes. */
void tcp_snd_release(struct ts_ctx *ctx, struct ts_sock *s, uint32_t n);

/* connection life (tcp.c) */
struct ts_sock *ts_sock_alloc(struct ts_ctx *ctx, uint8_t kind);
void ts_sock_free(struct ts_ctx *ctx, struct ts_sock *s);
int ts_sock_attach_bufs(struct ts_ctx *ctx, struct ts_sock *s);
void ts_sock_release_bufs(struct ts_ctx *ctx, struct ts_sock *s);
/** Gives an idle connection's buffers back to the pool (they are taken
 *  again when data arrives or the worker writes). The pool is touched by
 *  whichever thread of the pair holds the turn. */
void tcp_bufs_maybe_release(struct ts_ctx *ctx, struct ts_sock *s);
/** Frees the socket when both the worker and TCP are done with it. */
void ts_sock_maybe_free(struct ts_ctx *ctx, struct ts_sock *s);
struct ts_sock *ts_flow_lookup(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                               uint16_t rport, uint16_t lport);
void ts_flow_insert(struct ts_ctx *ctx, struct ts_sock *s);
void ts_flow_remove(struct ts_ctx *ctx, struct ts_sock *s);
/* ts_flowmap.c: a context's own row follows its flow table */
void ts_flowmap_update(struct ts_flowmap *m, unsigned ctx_id, const struct ts_sock *s,
                       bool add);
/** True when a context other than @p ctx_id seems to hold the 4-tuple. */
bool ts_flowmap_elsewhere(const struct ts_flowmap *m, unsigned ctx_id, uint32_t laddr,
                          uint32_t raddr, uint16_t rport, uint16_t lport);
uint32_t tcp_isn(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                 uint16_t lport);
void tcp_set_state(struct ts_ctx *ctx, struct ts_sock *s, enum tcp_state st);
void tcp_cancel_timers(struct ts_ctx *ctx, struct ts_sock *s);
/** Aborts: marks the socket reset with @p err, stops its timers. */
void tcp_drop(struct ts_ctx *ctx, struct ts_sock *s, int err);
/** Leaves a compact TIME_WAIT entry for @p s (tcp_tw.c) and closes the
 *  socket, which is freed once the worker is done with it too. */
void tcp_enter_time_wait(struct ts_ctx *ctx, struct ts_sock *s);
/** The application closed @p s: it becomes an orphan that TCP finishes
 *  alone (reset at once past max_orphans). */
void tcp_orphan(struct ts_ctx *ctx, struct ts_sock *s);
/** In FIN_WAIT_2, an orphan waits for the peer's FIN fin_timeout_ms at most. */
void tcp_fin_wait_2(struct ts_ctx *ctx, struct ts_sock *s);
/** Retransmissions (or window probes) allowed before @p s is given up. */
uint32_t tcp_retries(const struct ts_ctx *ctx, const struct ts_sock *s);

/* RFC 8985 6.2 step 4: recoveries a widened reordering window lasts */
#define RACK_REO_PERSIST 16

/* What the last connections to a peer learned of the path (tcp_peer.c) */
struct tcp_peer;
int tcp_peer_init(struct ts_ctx *ctx);
void tcp_peer_fini(struct ts_ctx *ctx);
/** A connection just established starts with the reordering a recent
 *  connection to the same address measured, if any. */
void tcp_peer_seed(struct ts_ctx *ctx, struct ts_sock *s);
/** A connection ends: what it measured is kept for the next one. */
void tcp_peer_save(struct ts_ctx *ctx, const struct ts_sock *s);

/* TIME_WAIT entries (tcp_tw.c) */
struct tcp_tw_table;
int tcp_tw_init(struct ts_ctx *ctx);
void tcp_tw_fini(struct ts_ctx *ctx);
void tcp_tw_enter(struct ts_ctx *ctx, struct ts_sock *s);
/** A segment for no socket: true when a TIME_WAIT entry took it; false
 *  when there is none (or a new SYN took the pair over). */
bool tcp_tw_input(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                  uint16_t lport, const struct tcp_seg *seg);
void tcp_tw_expire(struct ts_ctx *ctx, uint64_t now);
uint64_t tcp_tw_next_deadline(const struct ts_ctx *ctx);
uint32_t tcp_tw_count(const struct ts_ctx *ctx);
/** Bytes of payload per segment: the MSS less the options every segment
 *  carries (timestamps). */
uint32_t tcp_seg_size(const struct ts_sock *s);
/* The TSval clock (RFC 7323 5.4 allows 1 ms to 1 s a tick): 10 ms. A
 * receiver's PAWS (5.3) drops a segment whose TSval is more than one tick
 * older than the newest it took at its left edge; with Linux's 1 ms tick,
 * on a path that holds segments back by a few milliseconds, an original
 * arriving after a retransmission of an earlier hole (TSval a round trip
 * newer) was dropped as an old duplicate: a loss made of reordering, whose
 * retransmission no D-SACK could show spurious. One tick covers that
 * reordering. RTTs are timed per segment to the microsecond (RACK); an
 * echoed timestamp is their fallback. */
#define TCP_TS_TICK_US 10000u

static inline uint32_t tcp_ts_now(const struct ts_ctx *ctx)
{
    return (uint32_t)(ctx->now / TCP_TS_TICK_US);
}
uint32_t tcp_rcv_window(const struct ts_ctx *ctx, const struct ts_sock *s);

/* events and deferred output */
void ts_sock_event(struct ts_ctx *ctx, struct ts_sock *s, uint32_t events);
/* Acknowledged data freed send space: EPOLLOUT, only when the worker waits
 * for it and the socket is writable (Linux's sk_stream_write_space). Every
 * ACK of a response's body used to post one, and each notice is a turn of
 * the worker. The worker's registration is read in the stack's turn: the
 * pair never runs both at once. */
void ts_sock_write_space(struct ts_ctx *ctx, struct ts_sock *s);
void ts_sock_want_output(struct ts_ctx *ctx, struct ts_sock *s);
/* The device has TS_TX_BACKLOG_HIGH frames or more to take: output waits. */
bool ts_tx_backlogged(const struct ts_ctx *ctx);
void ts_events_publish(struct ts_ctx *ctx);
void ts_cmds_run(struct ts_ctx *ctx);

static inline int32_t ts_fd(const struct ts_ctx *ctx, const struct ts_sock *s)
{
    return (int32_t)(s - ctx->socks);
}

static inline uint32_t ts_sflags(const struct ts_sock *s)
{
    return atomic_load_explicit(&s->sflags, memory_order_acquire);
}

static inline void ts_sflags_set(struct ts_sock *s, uint32_t f)
{
    atomic_fetch_or_explicit(&s->sflags, f, memory_order_release);
}

/* worker side (ts_socket.c, ts_epoll.c) */
/** Opens a socket or epoll fd through the stack (TS_CMD_SOCKET/EPOLL). */
int ts_open_fd(struct ts_ctx *ctx, uint8_t op);
uint32_t ts_sock_poll(struct ts_ctx *ctx, struct ts_sock *s);
/** EPOLLOUT's test: a write would make real progress. */
bool ts_writable(struct ts_ctx *ctx, struct ts_sock *s);
void ts_epoll_forget(struct ts_ctx *ctx, int32_t fd);

/* pair (ts_pair.c) */
void ts_pair_worker_park(struct ts_ctx *ctx, uint64_t deadline_us);
void ts_pair_sync_wait(struct ts_ctx *ctx, _Atomic int *done);

#endif
