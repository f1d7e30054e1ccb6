/**
 * @file ts.h
 * The user-space TCP/IP stack, per-core context: Ethernet, ARP, IPv4, ICMP,
 * TCP. The stack is driven, not driving: the stack thread hands it received
 * frames and the current time, and it sends through the output function it
 * was given. The same code runs on a NIC, on a virtual device and inside a
 * unit test with a virtual clock and an in-memory wire.
 *
 * Threads: everything in this header is called by the context's stack thread
 * only (or, in tests, by the single test thread). The application side is in
 * ts_socket.h.
 */
#ifndef TS_H
#define TS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/** Output: the stack hands over ownership of @p n frames. */
typedef void (*ts_output_fn)(void *arg, struct rte_mbuf **pkts, uint16_t n);

/* Offloads the stack may use (same bits as dpio's DPIO_OFF_*). */
#define TS_OFF_TX_IPV4_CKSUM (1u << 0)
#define TS_OFF_TX_TCP_CKSUM (1u << 1)
#define TS_OFF_RX_IPV4_CKSUM (1u << 2)
#define TS_OFF_RX_TCP_CKSUM (1u << 3)
#define TS_OFF_TX_MULTISEG (1u << 4) /* chained frames: body bytes by reference */

struct ts_arp_table;
struct ts_flowmap;

struct ts_params {
    uint32_t ip;       /**< our (first) address, host byte order */
    uint32_t ip_count; /**< we own ip .. ip + ip_count - 1 (IPv4 input, ARP,
                            bind, connect's source); 0 counts as 1. ARP
                            requests and the subnet test use ip. */
    uint32_t netmask;  /**< host byte order */
    uint32_t gateway;  /**< host byte order; 0: none */
    struct rte_ether_addr mac;
    uint16_t mtu;
    uint32_t offloads; /**< TS_OFF_* */

    unsigned max_flows;      /**< sockets of this context (TIME_WAIT is apart) */
    unsigned max_bufs;       /**< connections holding buffers at once */
    uint32_t rcvbuf;         /**< bytes per connection, at first */
    uint32_t rcvbuf_max;     /**< the receive buffer grows to twice what the
                                application reads per round trip (Linux's
                                model) up to this; at or below rcvbuf: fixed */
    uint32_t rcvbuf_grown;   /**< connections of this context that may hold a
                                grown receive buffer at once (their memory,
                                rcvbuf_max each, is the budget) */
    uint32_t sndbuf;         /**< bytes per connection (copied + referenced), at first */
    uint32_t sndbuf_max;     /**< the send buffer grows with cwnd up to this
                                (Linux's autotuning: twice the window); at or
                                below sndbuf: no growth */
    uint32_t snd_copybuf;    /**< bytes of copied send data per connection */
    uint32_t msl_ms;         /**< TIME_WAIT lasts 2*MSL */
    uint32_t max_time_wait;  /**< TIME_WAIT entries; the oldest is recycled
                                when full; 0: no TIME_WAIT */
    uint32_t fin_timeout_ms; /**< an orphan in FIN_WAIT_2 is reclaimed after this */
    uint32_t max_orphans;    /**< connections closed by the application and not
                                yet finished; past it a close resets */
    uint32_t orphan_retries; /**< retransmissions (and unanswered or zero-window
                                probes) before an orphan is given up */
    uint32_t rto_min_ms;
    uint32_t rto_max_ms;
    uint32_t syn_retries;
    uint32_t data_retries;
    uint32_t isn_key[4];   /**< secret for initial sequence numbers (RFC 6528) */
    bool opt_wscale;       /**< RFC 7323 window scaling */
    bool opt_timestamps;   /**< RFC 7323 timestamps and PAWS */
    bool opt_sack;         /**< RFC 2018 selective acknowledgements */
    uint32_t delack_ms;    /**< delayed ACK timer; 0: acknowledge at once */
    uint32_t keepalive_ms; /**< idle time before probing; 0: off */
    uint32_t keepalive_intvl_ms;
    uint32_t keepalive_probes;
    uint8_t cc_algo; /**< enum tcp_cc_algo */
    /** Pacing of new data: NewReno and CUBIC at the rate Linux's fq gives
     *  a connection (twice cwnd per RTT in slow start, 1.2 times after),
     *  but per the least RTT seen; BBR at its model's rate. In bursts of at
     *  most 1 ms of the rate (TS_PACE_BURST_US; two segments at least).
     *  Default false here (the sans-IO tests see every burst); corehttpd's
     *  [tcp] pacing turns it on. */
    bool pacing;
    bool syncookies; /**< RFC 4987 SYN cookies when a listener's backlog is full */
    /** Receive coalescing (ts_gro.c): a run of back-to-back in-order data
     *  segments of one flow within an input burst goes to TCP as one
     *  segment, checked, stored and acknowledged once. Default true. */
    bool gro;
    uint16_t syn_budget; /**< SYNs answered per ts_input() burst once 256
                            bursts in a row have held more (a queue backed
                            up with SYNs); the rest are shed (a SYN shed
                            once is answered when it comes again); 0: no
                            budget. Default 16. */

    struct rte_mempool *pool; /**< mbufs for frames we build (a running
                                   context holds up to 31 ahead, see ts_idle) */
    ts_output_fn output;
    void *output_arg;
    /** Frames given to output that the device has not taken yet (called
     *  with output_arg), or NULL. While they reach TS_TX_BACKLOG_HIGH, the
     *  sockets' queued output waits for the device to drain: a full device
     *  ring delays segments instead of dropping them (the idea of Linux's
     *  TCP Small Queues, at the port). */
    unsigned (*tx_backlog)(const void *arg);
    struct ts_arp_table *arp; /**< shared by all contexts; see ts_arp_table_create */
    unsigned core_id;         /**< for logs and stats; the flow map's index */
    /** Shared by the contexts of one port (ts_flowmap_create), or NULL: the
     *  check that counts tcp_flow_other_core. */
    struct ts_flowmap *flowmap;
};

/** Output held back while this many frames wait for the device (checked
 *  before every segment); a burst of control segments and probes may come
 *  on top, so the output function's queue must hold more (dpio's holds
 *  1,024). */
#define TS_TX_BACKLOG_HIGH 256u

/** Pacing (ts_params pacing): the longest burst, in microseconds of the
 *  pacing rate: a paced connection sends what 1 ms of its rate allows at
 *  once (the value measured when the timer wheel and the idle sleep ran in
 *  1 ms steps; both now end within microseconds of a deadline). */
#define TS_PACE_BURST_US 1000u

/** Fills @p p with the defaults for everything but addresses, pool, output. */
void ts_params_default(struct ts_params *p);

struct ts_arp_table *ts_arp_table_create(unsigned entries, uint32_t ttl_ms);
void ts_arp_table_destroy(struct ts_arp_table *t);

/** The flow map of the contexts of one port: per context a counting filter
 *  (two hashes into 2^16 16-bit counters, keyed by @p seed) of the 4-tuples
 *  it holds a socket for. Each context writes only its own row (when it
 *  hashes or unhashes a flow) and reads the others' rows, without locks, on
 *  a segment that found no flow here and is not a SYN: when another context
 *  holds that 4-tuple, the flow is being seen on two cores and
 *  tcp_flow_other_core counts it. False positives need both counters of a
 *  stray segment's tuple set by other flows: about (2 * flows / 65536)^2.
 *  NULL and errno on failure. */
struct ts_flowmap *ts_flowmap_create(unsigned n_contexts, uint64_t seed);
void ts_flowmap_destroy(struct ts_flowmap *m);

struct ts_ctx;

/** Allocates everything the context will ever need (sockets, buffers,
 *  timers). Returns NULL and sets errno on failure. */
struct ts_ctx *ts_ctx_create(const struct ts_params *p);
void ts_ctx_destroy(struct ts_ctx *ctx);

/** Processes a burst of received frames; takes ownership of them. */
void ts_input(struct ts_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint64_t now_us);

/** Runs what is due: expired timers, the application's pending requests
 *  (sends, closes, reads that open the window), delayed ACKs, queued output,
 *  event publication. Call after every input burst and when idle. */
void ts_poll(struct ts_ctx *ctx, uint64_t now_us);

/** Absolute time (us) of the next timer, UINT64_MAX when none is armed;
 *  soon (tens of us) while output waits for the device to drain. */
uint64_t ts_next_deadline(const struct ts_ctx *ctx);

/** The thread is about to sleep: gives back to the pool the mbufs taken
 *  ahead to build frames in. A running context holds up to 31 of them
 *  between calls; one whose loop calls this before sleeping holds none
 *  while it sleeps. */
void ts_idle(struct ts_ctx *ctx);

struct ts_stats {
    uint64_t rx_frames, tx_frames;
    uint64_t rx_bytes, tx_bytes; /* frame bytes, Ethernet header included */
    uint64_t tx_bytes_ref;       /* payload bytes sent by reference (no copy) */
    uint64_t
        tx_bytes_copied; /* payload bytes copied into frames (headers, small bodies) */
    uint64_t tcp_flow_other_core; /* non-SYN segments with no flow here whose
                                     4-tuple another context holds */
    uint64_t rx_bad_eth, rx_bad_ip, rx_not_for_us, rx_bad_cksum;
    uint64_t rx_bad_tcp, rx_no_flow, rx_unsupported;
    uint64_t rx_fragments;        /* IP fragments (no reassembly) */
    uint64_t rx_gro_merged;       /* segments taken as part of the one before (ts_gro) */
    uint64_t rx_bad_tcp_options;  /* malformed TCP option lists */
    uint64_t rx_out_of_window;    /* segments outside the receive window (acked) */
    uint64_t rx_syn_shed;         /* SYNs past a burst's budget, not answered */
    uint64_t rx_syn_shed_retried; /* SYNs shed before and answered when repeated */
    uint64_t arp_requests_rx, arp_replies_tx, arp_requests_tx, arp_pending_drops;
    uint64_t icmp_echo_rx;
    uint64_t tcp_active, tcp_passive, tcp_accept_overflow, tcp_retransmits;
    uint64_t tcp_rst_tx, tcp_timeouts, tcp_established;
    uint64_t rx_paws_drops, tcp_challenge_acks, tcp_keepalive_drops;
    uint64_t rx_paws_disordered; /* late pure ACKs PAWS let through for their SACKs */
    uint64_t tcp_tlp_probes, tcp_lost_retransmits;
    uint64_t tcp_rack_losses;      /* segments RACK marked lost (RFC 8985 6.2) */
    uint64_t tcp_timeouts_min_rto; /* timeouts that waited only the minimum RTO */
    uint64_t tcp_window_probes;    /* timeouts that found the peer's window shut */
    uint64_t tcp_dsack_rx;         /* D-SACK blocks received (RFC 2883) */
    uint64_t tcp_dsack_tx;         /* D-SACK blocks sent for duplicates received */
    uint64_t tcp_spurious_rexmits; /* retransmissions a D-SACK showed needless */
    uint64_t tcp_reo_seeded;       /* connections started with their peer's reordering */
    uint64_t tcp_undo_recovery;    /* fast recoveries undone as spurious (RFC 3708) */
    uint64_t tcp_undo_rto;         /* timeouts undone as spurious (RFC 4015) */
    uint64_t tcp_tlp_recoveries;   /* probes that repaired a tail loss (RFC 8985 7.4) */
    uint64_t tcp_hystart_exits;    /* slow starts left by HyStart++ (RFC 9406) */
    uint64_t tcp_rcvbuf_grows;     /* receive buffers grown by autotuning */
    uint32_t rcvbuf_grown_in_use;  /* grown receive buffers held now */
    uint64_t tcp_fast_retransmits, tcp_syncookies_sent, tcp_syncookies_ok,
        tcp_syncookies_bad;
    uint64_t tx_nombuf;
    uint64_t tx_backlog_waits;        /* polls whose output waited for the device */
    uint64_t tcp_pacing_waits;        /* sends held back by pacing (a timer resumes) */
    uint64_t tcp_time_wait;           /* connections that entered TIME_WAIT */
    uint64_t tcp_tw_recycled;         /* TIME_WAIT entries recycled before their time */
    uint64_t tcp_tw_reused;           /* TIME_WAIT pairs taken over by a new SYN */
    uint64_t tcp_nobufs_resets;       /* handshakes refused: no connection memory */
    uint64_t tcp_nobufs_drops;        /* segments not taken: no connection memory */
    uint64_t tcp_nobufs_writes;       /* writes refused (EAGAIN): no connection memory */
    uint64_t tcp_bufs_idle_releases;  /* buffers given back by idle connections */
    uint64_t tcp_orphan_fin_timeouts; /* orphans reclaimed in FIN_WAIT_2 */
    uint64_t tcp_orphan_drops;        /* orphans given up after orphan_retries */
    uint64_t tcp_orphan_overflow;     /* closes reset past max_orphans */
    uint32_t orphans_in_use;
    uint32_t tw_in_use;    /* TIME_WAIT entries */
    uint32_t socks_in_use; /* sockets of any state */
    uint32_t bufs_in_use;  /* connections holding buffers */
};
void ts_ctx_stats(const struct ts_ctx *ctx, struct ts_stats *st);

#endif
