/**
 * @file dpio.h
 * The I/O engine: EAL start-up from the server's settings, one port with one
 * rx/tx queue pair per configured core, an mbuf pool on the port's NUMA node,
 * burst rx/tx with a per-queue tx buffer, offload discovery, rx-interrupt idle
 * sleep, the clock, and an optional impairment stage (a test facility that
 * delays and reorders frames; off by default).
 *
 * Data enters as mbuf bursts from dpio_rx_burst() and leaves through
 * dpio_tx_enqueue()/dpio_tx_flush(). Only this module calls ethdev or reads a
 * clock; tcpstack/ is handed the results.
 *
 * Threading: dpio_eal_init() and dpio_port_open() run once on the main thread
 * before any pair starts. A dpio_queue is then owned by one stack thread; no
 * queue function may be called from two threads.
 *
 * Errors: constructors return NULL, other calls 0 or a negative errno; the
 * reason is written to the caller's err buffer where one is taken.
 */
#ifndef DPIO_H
#define DPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define DPIO_MAX_QUEUES 16
#define DPIO_RSS_KEY_MAX 64 /* longest RSS key dpio writes (i40e: 52 bytes) */

/** How the port spreads flows over its queues (dpio_port_rss()). */
enum dpio_rss {
    DPIO_RSS_NONE,       /**< one queue, or a port without RSS: queue 0 */
    DPIO_RSS_SYMMETRIC,  /**< hardware RSS, symmetric Toeplitz key of ours */
    DPIO_RSS_DRIVER_KEY, /**< hardware RSS, the driver's key (it took none of ours) */
    DPIO_RSS_KERNEL,     /**< multi-queue net_tap: the kernel picks the queue */
};

/** What the port can do for us; each flag is only set when the port has it. */
#define DPIO_OFF_TX_IPV4_CKSUM (1u << 0)
#define DPIO_OFF_TX_TCP_CKSUM (1u << 1)
#define DPIO_OFF_RX_IPV4_CKSUM (1u << 2)
#define DPIO_OFF_RX_TCP_CKSUM (1u << 3)
#define DPIO_OFF_TX_MULTISEG (1u << 4)
#define DPIO_OFF_TX_TSO (1u << 5)
#define DPIO_OFF_RX_INTR (1u << 6)

/** Directions the impairment stage applies to, seen from the server. */
#define DPIO_IMPAIR_RX (1u << 0) /**< frames the port receives */
#define DPIO_IMPAIR_TX (1u << 1) /**< frames the stack sends */

/** The impairment stage: a TEST FACILITY, off unless delay_ms or reorder_pct
 *  is non-zero. Every frame of an impaired direction is held delay_ms; a
 *  reorder_pct share of them (drawn from a xorshift generator per queue and
 *  direction, seeded from seed, so the n-th frame's fate is the same on every
 *  run) is held reorder_gap_ms longer, so later frames overtake it. Frames
 *  are released in release-time order, to the stack by dpio_rx_burst() and
 *  to the port by dpio_tx_flush(), at the earliest when due and at most ~1 ms
 *  late (dpio_queue_sleep() wakes up for them). The holding queue per
 *  direction is bounded (8192 frames on time plus 8192 late, per queue): a
 *  frame that finds it full is dropped and counted as overflow, like a link
 *  buffer's tail drop. Frames still held at dpio_port_close() are freed. */
struct dpio_impair {
    unsigned delay_ms;       /**< 0..1000 */
    unsigned reorder_pct;    /**< 0..100 */
    unsigned reorder_gap_ms; /**< extra hold of a reordered frame, 1..1000 */
    uint64_t seed;
    unsigned dirs; /**< DPIO_IMPAIR_RX | DPIO_IMPAIR_TX; 0 means both */
};

struct dpio_settings {
    const char *prog;      /**< argv[0] for the EAL */
    const char *port;      /**< PCI address ("0000:03:00.0") or vdev spec
                                ("net_tap0,iface=x,..."): vdev when it starts
                                with "net_" */
    bool hugepages;        /**< false: EAL runs with --no-huge */
    unsigned memory_mb;    /**< EAL -m */
    const char *eal_args;  /**< extra EAL arguments, split on blanks; may be "" */
    const unsigned *cores; /**< CPU ids; one queue pair per entry */
    unsigned n_cores;
    uint16_t mtu;
    unsigned mbufs_per_queue;  /**< 0: a default that covers rings and bursts */
    struct dpio_impair impair; /**< all zero: no impairment (the default) */
};

struct dpio_port;
struct dpio_queue;

/** Builds the EAL argument vector from @p s and runs rte_eal_init():
 *  `-l <cores> --main-lcore <first core>`, `--no-huge`, `-m`, `--vdev=<port>`
 *  or `-a <port>`, `--log-level=notice` unless eal_args has a --log-level,
 *  then eal_args. A net_memif port without a `mac=` devarg gets
 *  02:c0:72:6d:RR:II (RR: 00 server, 01 client; II: its id), so the two
 *  ends of a pair are distinct hosts (the PMD would pick random ones). Once per process.
 * For a net_tap port the PMD's signal-based rx trigger is kept off (it loses wake-ups
 * when the stack runs in a thread other than the main one; see dpio.c). */
int dpio_eal_init(const struct dpio_settings *s, char *err, size_t errlen);

/** Finds the port named by s->port, configures s->n_cores rx/tx queue pairs
 *  with the offloads the port has, sets the MTU, creates the mbuf pools on the
 *  port's NUMA node, enables rx interrupts where the port supports them, starts
 *  it and waits (bounded, ~3 s) for link up, printing the link status on
 *  stdout. On net_tap without a `mac=` devarg the port gets its own locally
 *  administered MAC (02:c0:72:..), and the kernel side of the TAP keeps a
 *  different one, so that the two ends are distinct hosts. */
struct dpio_port *dpio_port_open(const struct dpio_settings *s, char *err, size_t errlen);
/** Stops and closes the port and frees its pools: every mbuf taken from them
 *  must be back (stack threads stopped, their queues and sockets drained). */
void dpio_port_close(struct dpio_port *port);

void dpio_port_mac(const struct dpio_port *port, struct rte_ether_addr *mac);
/** DPIO_OFF_* flags the port offers and that dpio enabled. */
uint32_t dpio_port_offloads(const struct dpio_port *port);
uint16_t dpio_port_mtu(const struct dpio_port *port);
unsigned dpio_port_queue_count(const struct dpio_port *port);
/** How flows are spread over the queues, as a short phrase for logs. */
const char *dpio_port_rss(const struct dpio_port *port);
/** Fills @p key with the symmetric Toeplitz key 0x6d5a repeated (Woo and
 *  Park, 2012): with a 16-bit period the hash of (src, dst, sport, dport)
 *  equals that of (dst, src, dport, sport). */
void dpio_rss_symmetric_key(uint8_t *key, size_t len);
/** Writes one line of port statistics to @p buf: the ethdev counters
 *  (ipackets, ibytes, opackets, obytes, ierrors, oerrors, imissed, rx_nombuf)
 *  and dpio's tx_dropped, as `key=value`; with the impairment stage on, also
 *  per impaired direction (rx, tx) the frames it held, of those the ones
 *  held late (reordered), released, and dropped on overflow:
 *  impair_rx_held= impair_rx_late= impair_rx_released= impair_rx_overflow=
 *  and the same for tx. -ENOSPC when @p len is too small. */
int dpio_port_stats(const struct dpio_port *port, char *buf, size_t len);

struct dpio_queue *dpio_port_queue(struct dpio_port *port, unsigned qid);
struct rte_mempool *dpio_queue_pool(const struct dpio_queue *q);
/** EAL lcore id that owns the queue (the lcore of the qid-th core). */
unsigned dpio_queue_lcore(const struct dpio_queue *q);

/** Receives up to @p n frames; frames that dpio_queue_sleep() took off the
 *  port while checking for pending input come first. With rx impairment,
 *  what the port delivered goes into the holding queue and what is due
 *  comes out. */
uint16_t dpio_rx_burst(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n);
/** Queues @p n mbufs for transmission, in order, and sends once a burst is
 *  queued. Takes ownership of all of them. Frames pass rte_eth_tx_prepare()
 *  first, so offload requests need only ol_flags and l2/l3/l4_len; the
 *  driver's own fix-ups (pseudo-header checksums on some NICs) are applied
 *  here, and a frame the driver rejects is dropped and counted. What the
 *  port's ring has no room for waits in the queue's tx ring (1,024 frames)
 *  for a later send: dropped and counted only when that is full too, or
 *  when the port has taken nothing for 10 ms (then its oldest frame goes,
 *  one per 10 ms: a frame a driver refuses forever cannot stop the queue).
 *  With tx impairment they go into the holding queue instead. */
void dpio_tx_enqueue(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n);
/** Hands the port what it takes of the waiting frames (never waits for
 *  room), with tx impairment first moving in the held frames that are due. */
void dpio_tx_flush(struct dpio_queue *q);
/** Frames queued that the port has not taken yet (@p q is a struct
 *  dpio_queue *: the tcpstack tx_backlog callback shape). Owner thread. */
unsigned dpio_tx_backlog(const void *q);
/** tcpstack output callback shape: arg is a struct dpio_queue *. */
void dpio_tx_output(void *arg, struct rte_mbuf **pkts, uint16_t n);

/** Idles the calling stack thread until a packet arrives on @p q or
 *  @p timeout_us passes (to the microsecond, by a timerfd beside the
 *  interrupt; to the next millisecond without one): rx interrupt where the
 *  port has it, else a short
 *  sleep (at most 1 ms per call), and on such a port (net_memif) none at
 *  all within 500 us of the last frame received: the caller polls on. Returns at
 *  once if packets are already waiting, and early on a signal. Flushes the tx
 *  ring first; while frames still wait there for the port, naps only 20 us. A
 *  single sleep is capped at 100 ms (UINT64_MAX is fine), and ends by the time
 *  the impairment stage's next held frame is due. The first call registers
 *  the queue's interrupt with the calling thread's own epoll instance: call
 *  it from the owning thread only. */
void dpio_queue_sleep(struct dpio_queue *q, uint64_t timeout_us);

/** Frames freed because the port refused them; may be read from any thread. */
uint64_t dpio_tx_dropped(const struct dpio_queue *q);

/** Monotonic microseconds (TSC based; CLOCK_MONOTONIC before dpio_eal_init). */
uint64_t dpio_now_us(void);

/** Bytes allocated from DPDK's heaps on every NUMA node (mbuf pools, the
 *  file cache); for reports, not the hot path. */
uint64_t dpio_heap_in_use(void);
/** Wall-clock seconds since the epoch, derived from dpio_now_us() and an
 *  offset taken at start-up (no syscall). */
int64_t dpio_wall_s(void);

#endif
