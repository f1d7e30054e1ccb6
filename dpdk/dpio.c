/**
 * @file dpio.c
 * The I/O engine behind dpio.h: EAL start-up, port and queue set-up, burst
 * rx/tx, rx-interrupt idle sleep and the clock.
 *
 * Start-up (main thread, once): dpio_eal_init() turns the settings into an EAL
 * argument vector; dpio_port_open() finds the port, picks the offloads it
 * advertises, creates one mbuf pool per queue on the port's NUMA node, sets up
 * one rx/tx queue pair per core, starts the port and waits for the link.
 *
 * Data path (one stack thread per queue): frames enter through
 * dpio_rx_burst(), which first drains the small rx stash that
 * dpio_queue_sleep() may have filled while checking for pending frames, then
 * the port. Frames leave through a 1,024-entry tx ring per queue, sent a
 * burst at a time and on dpio_tx_flush(); what the port's own ring has no
 * room for waits there for a later send (the stack holds its output back
 * meanwhile, see dpio_tx_backlog()), and only what overflows it is freed and
 * counted, never leaked.
 *
 * Idle: dpio_queue_sleep() arms the queue's rx interrupt (registered lazily in
 * the calling thread's own epoll instance, as RTE_EPOLL_PER_THREAD is per
 * thread), re-checks the queue to close the race with a frame that arrived
 * just before arming (examples/l3fwd-power does the same), and waits in
 * rte_epoll_wait, whose timeout counts whole milliseconds; a timerfd in the
 * same epoll instance ends the sleep at the microsecond it was asked for
 * (the stack's next timer). Ports without rx interrupts get a short
 * nanosleep instead.
 *
 * Impairment (a test facility, see struct dpio_impair): per queue and
 * direction a holding queue sits between the port and the stack. Each frame
 * gets a release time, now + delay or now + delay + gap; since both offsets
 * are constant and the clock is monotonic, each of the two kinds is already
 * in release order, so the holding queue is two fixed rings ("lanes", no
 * heap, no malloc after start-up) and release is a merge of their heads.
 * When the stage is off, the queue's hold pointers are NULL and the data
 * path pays one branch per call.
 */
#define _GNU_SOURCE /* vasprintf */

#include "dpio.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pci.h>

#define DPIO_TX_RING 1024u       /* frames a queue holds that the port has not taken */
#define DPIO_TX_BURST 32u        /* frames buffered before a send */
#define DPIO_RX_STASH 32         /* frames taken while checking before sleep */
#define DPIO_RING_DEFAULT 1024   /* descriptors when the driver has no hint */
#define DPIO_MBUFS_DEFAULT 8191  /* 2^13 - 1: the mempool's best size */
#define DPIO_MBUF_CACHE 256      /* per-lcore mempool cache */
#define DPIO_BURST_SLACK 512     /* mbufs in flight in the stack per queue */
#define DPIO_SLEEP_CAP_US 100000 /* longest single sleep */
#define DPIO_POLL_SLEEP_US 1000  /* sleep slice without rx interrupts */
#define DPIO_POLL_GRACE_US 500   /* ... and how long to poll after a frame first */
#define DPIO_TX_WAIT_US 20       /* nap while frames wait for the port's ring */
#define DPIO_TX_STUCK_US 10000   /* a port that takes nothing this long: drop its head */
#define DPIO_LINK_WAIT_MS 3000   /* how long start-up waits for link up */
#define DPIO_LINK_POLL_MS 100
#define DPIO_CLOCK_SHIFT 44 /* fixed-point shift of the TSC multiplier */
/* frames per lane of a holding queue (power of 2): a 20 ms round trip at the
 * send buffer's 4 MB default needs ~2,900 on time */
#define DPIO_HOLD_LANE 8192

/* One lane of a holding queue: a ring of frames in release-time order.
 * head and tail run freely; tail - head frames are held. */
struct dpio_hold_lane {
    uint32_t head;
    uint32_t tail;
    struct {
        uint64_t due_us;
        struct rte_mbuf *m;
    } slot[DPIO_HOLD_LANE];
};

/* The impairment stage of one direction of one queue. Counters are written by
 * the owner only and read by the stats reader: relaxed atomics. */
struct dpio_hold {
    uint64_t rng;        /* xorshift64* state, never 0 */
    uint64_t late_below; /* a frame goes late when 32 random bits < this */
    uint32_t delay_us;
    uint32_t gap_us;
    uint64_t held;                 /* frames taken in */
    uint64_t late;                 /* of those, held the extra gap */
    uint64_t released;             /* frames handed on */
    uint64_t overflow;             /* frames dropped on a full lane */
    struct dpio_hold_lane lane[2]; /* 0: on time, 1: late */
};

/* Everything one stack thread touches on its queue; the owner is the only
 * writer, so no field needs a lock. tx_dropped is also read by the stats
 * reader, hence relaxed atomics on it. */
struct dpio_queue {
    uint16_t port_id;
    uint16_t qid;
    uint32_t tx_head; /* tx_ring[tx_head..tx_tail): frames waiting (free-running) */
    uint32_t tx_tail;
    uint64_t tx_stuck_since; /* when the port last took nothing; 0: it did */
    uint16_t rx_pos;         /* next frame to hand out of rx_stash */
    uint16_t rx_n;           /* frames in rx_stash */
    bool rx_intr;            /* sleep on the rx interrupt (else short sleeps) */
    bool rx_intr_reg;        /* registered in the owner thread's epoll instance */
    bool rx_seen; /* frames came since the last sleep (ports without rx intr) */
    uint16_t tx_chain_group; /* the driver places frames N at a time unchecked (0: no) */
    bool tx_demote; /* frames are read on another core or by a device (dpio_tx_demote) */
    uint64_t awake_until; /* no sleep before this (ports without rx intr) */
    uint64_t tx_dropped;
    struct dpio_hold *hold_rx; /* impairment stage, NULL when off */
    struct dpio_hold *hold_tx;
    struct rte_mbuf *tx_ring[DPIO_TX_RING];
    struct rte_mbuf *rx_stash[DPIO_RX_STASH];
    /* cold */
    struct rte_mempool *pool;
    unsigned lcore;
    int wake_fd;                    /* timerfd ending a sleep on time (-1: none) */
    struct rte_epoll_event wake_ev; /* wake_fd's entry in the owner's epoll instance */
} __rte_cache_aligned;

struct dpio_port {
    uint16_t port_id;
    char name[RTE_ETH_NAME_MAX_LEN];
    struct rte_ether_addr mac;
    uint32_t offloads;
    uint16_t mtu;
    unsigned n_queues;
    unsigned mbufs_per_queue; /* from the settings; 0: sized from the rings */
    unsigned hold_mbufs;      /* frames the impairment stage may hold per queue */
    bool configured;          /* ethdev configure was called: close on failure */
    /* how flows are spread over the queues, and our RSS key */
    enum dpio_rss rss;
    uint8_t rss_key[DPIO_RSS_KEY_MAX];
    struct dpio_queue *queues[DPIO_MAX_QUEUES];
};

/* Clock state: written once by dpio_eal_init(), read-only afterwards. */
static uint64_t dpio_tsc_mult;      /* us = tsc * mult >> DPIO_CLOCK_SHIFT */
static int64_t dpio_wall_offset_us; /* realtime - monotonic, at start-up */
/* The EAL argument vector stays allocated for the life of the process: the
 * EAL may keep pointers into it. */
static char **dpio_eal_argv;

static void dpio_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dpio_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- EAL ------------------------------------------------------------- */

/* Whether the driver's tx is a system call in which the kernel reads each
 * frame on this very core (a TAP, an AF_PACKET socket): then the frame's
 * lines are best left in this core's caches. */
static bool dpio_tx_read_here(const struct rte_eth_dev_info *info)
{
    static const char *const here[] = {"net_tap", "net_af_packet"};

    for (size_t i = 0; info->driver_name != NULL && i < RTE_DIM(here); i++)
        if (strcmp(info->driver_name, here[i]) == 0)
            return true;
    return false;
}

/* A net_memif client in zero-copy mode: its frames are read in place. */
static bool dpio_memif_zc(const char *port)
{
    return strncmp(port, "net_memif", 9) == 0 && strstr(port, ",zero-copy=yes") != NULL;
}

static bool dpio_port_is_vdev(const char *port)
{
    return strncmp(port, "net_", 4) == 0;
}

static int dpio_check_cores(const struct dpio_settings *s, char *err, size_t errlen)
{
    if (s->n_cores == 0 || s->cores == NULL) {
        dpio_errf(err, errlen, "no cores configured");
        return -EINVAL;
    }
    if (s->n_cores > DPIO_MAX_QUEUES) {
        dpio_errf(err, errlen, "%u cores configured, at most %d supported", s->n_cores,
                  DPIO_MAX_QUEUES);
        return -EINVAL;
    }
    for (unsigned i = 0; i < s->n_cores; i++) {
        if (s->cores[i] >= RTE_MAX_LCORE) {
            dpio_errf(err, errlen, "core %u out of range (DPDK supports 0..%d)",
                      s->cores[i], RTE_MAX_LCORE - 1);
            return -EINVAL;
        }
        for (unsigned j = 0; j < i; j++) {
            if (s->cores[j] == s->cores[i]) {
                dpio_errf(err, errlen, "core %u listed twice", s->cores[i]);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static int dpio_argv_push(char **argv, int *argc, int cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int dpio_argv_push(char **argv, int *argc, int cap, const char *fmt, ...)
{
    va_list ap;
    char *arg;
    int ret;

    if (*argc >= cap)
        return -E2BIG;
    va_start(ap, fmt);
    ret = vasprintf(&arg, fmt, ap);
    va_end(ap);
    if (ret < 0)
        return -ENOMEM;
    argv[(*argc)++] = arg;
    return 0;
}

/* net_tap's "rx trigger" (DPDK 22.11): each queue fd is put in O_ASYNC mode
 * with the first free real-time signal above SIGRTMIN, whose handler bumps a
 * global counter; rx_burst returns 0 without reading while the counter has
 * not moved since its last empty burst. The signal goes to the process, so
 * to any thread: a stack thread woken by the rx interrupt can burst before
 * the handler ran in another thread, see nothing, and go back to sleep with
 * the frame unread (seen here: with the loop in a second thread, 32 of 200
 * pings stalled up to the full 100 ms sleep). It also costs one signal per
 * received frame, and a program that blocks signals in its threads would
 * never receive at all. The PMD turns the trigger off when no real-time
 * signal is free, so dpio holds every free one (SIG_IGN) while the PMD opens
 * its queues: at probe time inside rte_eal_init() and at queue set-up. Empty
 * bursts then cost one read() each, and wake-ups are exact.
 *
 * The PMD reports the refusal it was handed at ERR level; the guard's log
 * filter drops exactly those two messages and passes everything else on. */
struct dpio_tap_guard {
    uint64_t held; /* bit i: SIGRTMIN + i set to SIG_IGN by us */
    FILE *filter;
    FILE *prev;
};

static ssize_t dpio_log_filter(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    if (memmem(buf, size, "All rt-signals are in use", 25) == NULL &&
        memmem(buf, size, "No Rx trigger signal available", 30) == NULL)
        fwrite(buf, 1, size, stderr);
    return (ssize_t)size;
}

static void dpio_tap_guard_on(struct dpio_tap_guard *g, bool tap)
{
    cookie_io_functions_t io = {.write = dpio_log_filter};

    memset(g, 0, sizeof(*g));
    if (!tap)
        return;
    for (int sig = SIGRTMIN + 1; sig < SIGRTMAX && sig - SIGRTMIN < 64; sig++) {
        struct sigaction sa;

        if (sigaction(sig, NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
            continue; /* the application's: the PMD skips it as well */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) == 0)
            g->held |= UINT64_C(1) << (sig - SIGRTMIN);
    }
    g->prev = rte_log_get_stream();
    g->filter = fopencookie(NULL, "w", io);
    if (g->filter != NULL) {
        setvbuf(g->filter, NULL, _IOLBF, 0);
        rte_openlog_stream(g->filter);
    }
}

static void dpio_tap_guard_off(struct dpio_tap_guard *g)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 64; i++) {
        if (g->held & (UINT64_C(1) << i))
            sigaction(SIGRTMIN + i, &sa, NULL);
    }
    if (g->filter != NULL) {
        /* stderr was the stand-in for "no stream set": go back to the EAL's. */
        rte_openlog_stream(g->prev == stderr ? NULL : g->prev);
        fclose(g->filter);
    }
    memset(g, 0, sizeof(*g));
}

static void dpio_clock_init(void)
{
    uint64_t hz = rte_get_tsc_hz();
    struct timespec ts;

    if (hz == 0)
        return;
    dpio_tsc_mult = (uint64_t)(((unsigned __int128)1000000 << DPIO_CLOCK_SHIFT) / hz);
    clock_gettime(CLOCK_REALTIME, &ts);
    dpio_wall_offset_us =
        (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - (int64_t)dpio_now_us();
}

int dpio_eal_init(const struct dpio_settings *s, char *err, size_t errlen)
{
    const char *extra = s->eal_args != NULL ? s->eal_args : "";
    char *extra_copy = NULL, *tok, *save;
    char cores[RTE_MAX_LCORE * 4];
    struct dpio_tap_guard guard;
    size_t off = 0;
    int argc = 0, cap, ret;
    char **argv, **eal_argv;

    if (s->port == NULL || s->port[0] == '\0') {
        dpio_errf(err, errlen, "no port configured");
        return -EINVAL;
    }
    if (dpio_memif_zc(s->port) && s->hugepages) {
        /* DPDK 22.11's net_memif maps, as its zero-copy region, the memory
         * present when it connects, and takes every frame for the first
         * memory list: all of it, allocated up front, in one list. */
        dpio_errf(err, errlen,
                  "%s: net_memif zero-copy needs [dpdk] hugepages = no (its region is "
                  "the memory present at connect time, in one list)",
                  s->port);
        return -EINVAL;
    }
    if (dpio_eal_argv != NULL) {
        dpio_errf(err, errlen, "EAL already initialised");
        return -EALREADY;
    }
    ret = dpio_check_cores(s, err, errlen);
    if (ret < 0)
        return ret;
    for (unsigned i = 0; i < s->n_cores; i++)
        off += (size_t)snprintf(cores + off, sizeof(cores) - off, "%s%u", i ? "," : "",
                                s->cores[i]);

    /* Fixed arguments (at most 12) plus one slot per blank-separated word. */
    cap = 13 + (int)strlen(extra) / 2 + 1;
    argv = calloc((size_t)cap + 1, sizeof(*argv));
    if (argv == NULL) {
        dpio_errf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ret = dpio_argv_push(argv, &argc, cap, "%s", s->prog ? s->prog : "corehttpd");
    ret = ret ?: dpio_argv_push(argv, &argc, cap, "-l");
    ret = ret ?: dpio_argv_push(argv, &argc, cap, "%s", cores);
    /* The EAL's default main lcore is the lowest id, not the first listed. */
    ret = ret ?: dpio_argv_push(argv, &argc, cap, "--main-lcore");
    ret = ret ?: dpio_argv_push(argv, &argc, cap, "%u", s->cores[0]);
    if (!s->hugepages)
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "--no-huge");
    if (s->memory_mb > 0) {
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "-m");
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "%u", s->memory_mb);
    }
    if (dpio_memif_zc(s->port)) /* checked above; implied by --no-huge, asked anyway */
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "--single-file-segments");
    if (strncmp(s->port, "net_memif", 9) == 0 && strstr(s->port, ",mac=") == NULL) {
        /* Both ends of a memif pair would pick random MACs: give each its
         * own, fixed by role and interface id, so the two hosts differ
         * and captures read the same on every run. */
        const char *id = strstr(s->port, ",id=");
        unsigned role = strstr(s->port, ",role=client") != NULL;
        unsigned n = id != NULL ? (unsigned)strtoul(id + 4, NULL, 10) : 0;
        ret =
            ret
                ?: dpio_argv_push(argv, &argc, cap, "--vdev=%s,mac=02:c0:72:6d:%02x:%02x",
                                  s->port, role, n & 0xff);
    } else if (dpio_port_is_vdev(s->port)) {
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "--vdev=%s", s->port);
    } else {
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "-a");
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "%s", s->port);
    }
    /* Ours goes before the user's words, so theirs would win anyway. */
    if (strstr(extra, "--log-level") == NULL)
        ret = ret ?: dpio_argv_push(argv, &argc, cap, "--log-level=notice");
    if (ret == 0 && (extra_copy = strdup(extra)) == NULL)
        ret = -ENOMEM;
    if (ret == 0) {
        for (tok = strtok_r(extra_copy, " \t\r\n", &save); tok != NULL && ret == 0;
             tok = strtok_r(NULL, " \t\r\n", &save))
            ret = dpio_argv_push(argv, &argc, cap, "%s", tok);
    }
    free(extra_copy);
    if (ret < 0) {
        for (int i = 0; i < argc; i++)
            free(argv[i]);
        free(argv);
        dpio_errf(err, errlen, "cannot build EAL arguments: %s", strerror(-ret));
        return ret;
    }
    argv[argc] = NULL;
    dpio_eal_argv = argv;

    /* rte_eal_init() permutes argv; hand it a copy of the pointer array so
     * that the error message below still shows the arguments in order. */
    eal_argv = calloc((size_t)argc + 1, sizeof(*eal_argv));
    if (eal_argv == NULL) {
        dpio_errf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(eal_argv, argv, (size_t)argc * sizeof(*argv));
    dpio_tap_guard_on(&guard, strncmp(s->port, "net_tap", 7) == 0);
    ret = rte_eal_init(argc, eal_argv);
    dpio_tap_guard_off(&guard);
    if (ret < 0) {
        int e = rte_errno;
        char line[512];

        off = 0;
        for (int i = 0; i < argc && off < sizeof(line); i++)
            off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", i ? " " : "",
                                    argv[i]);
        dpio_errf(err, errlen, "rte_eal_init failed (%s): %s", line, rte_strerror(e));
        free(eal_argv);
        return e > 0 ? -e : -EINVAL;
    }
    free(eal_argv);
    dpio_clock_init();
    return 0;
}

/* ---- impairment stage (test facility) ------------------------------------ */

/* splitmix64: spreads a small seed over the whole state (xorshift must not
 * start at 0, and seeds 1 and 2 should not give related streams). */
static uint64_t dpio_mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* xorshift64* (Vigna 2016): fast and good enough to pick frames. */
static uint64_t dpio_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

static int dpio_impair_check(const struct dpio_impair *im, char *err, size_t errlen)
{
    if (im->delay_ms > 1000 || im->reorder_pct > 100 ||
        (im->reorder_pct > 0 && (im->reorder_gap_ms < 1 || im->reorder_gap_ms > 1000)) ||
        (im->dirs & ~(DPIO_IMPAIR_RX | DPIO_IMPAIR_TX)) != 0) {
        dpio_errf(err, errlen,
                  "impairment out of range: delay %u ms (0..1000), reorder %u%% "
                  "(0..100) by %u ms (1..1000)",
                  im->delay_ms, im->reorder_pct, im->reorder_gap_ms);
        return -EINVAL;
    }
    return 0;
}

static bool dpio_impair_on(const struct dpio_impair *im)
{
    return im->delay_ms > 0 || im->reorder_pct > 0;
}

/* @p dir is DPIO_IMPAIR_RX or _TX: each queue and direction draws its own
 * stream from the one seed. */
static struct dpio_hold *dpio_hold_create(const struct dpio_impair *im, unsigned qid,
                                          unsigned dir, int socket)
{
    struct dpio_hold *h;

    h = rte_zmalloc_socket("dpio_hold", sizeof(*h), RTE_CACHE_LINE_SIZE, socket);
    if (h == NULL)
        h = rte_zmalloc("dpio_hold", sizeof(*h), RTE_CACHE_LINE_SIZE);
    if (h == NULL)
        return NULL;
    h->rng = dpio_mix64(im->seed ^ dpio_mix64((uint64_t)qid << 8 | dir));
    if (h->rng == 0)
        h->rng = 1;
    h->late_below = (uint64_t)im->reorder_pct * (UINT64_C(1) << 32) / 100;
    h->delay_us = im->delay_ms * 1000;
    h->gap_us = im->reorder_gap_ms * 1000;
    return h;
}

static void dpio_hold_count(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* Takes @p m in; it is due at now + delay (+ gap when drawn late). */
static void dpio_hold_push(struct dpio_hold *h, struct rte_mbuf *m, uint64_t now)
{
    bool late = h->late_below != 0 && (dpio_rand(&h->rng) >> 32) < h->late_below;
    struct dpio_hold_lane *l = &h->lane[late];
    uint32_t i;

    if (l->tail - l->head == DPIO_HOLD_LANE) {
        rte_pktmbuf_free(m);
        dpio_hold_count(&h->overflow, 1);
        return;
    }
    i = l->tail++ & (DPIO_HOLD_LANE - 1);
    l->slot[i].m = m;
    l->slot[i].due_us = now + h->delay_us + (late ? h->gap_us : 0);
    dpio_hold_count(&h->held, 1);
    if (late)
        dpio_hold_count(&h->late, 1);
}

static uint64_t dpio_hold_lane_due(const struct dpio_hold_lane *l)
{
    if (l->head == l->tail)
        return UINT64_MAX;
    return l->slot[l->head & (DPIO_HOLD_LANE - 1)].due_us;
}

/* Release time of the next held frame; UINT64_MAX when none is held. */
static uint64_t dpio_hold_next_due(const struct dpio_hold *h)
{
    if (h == NULL)
        return UINT64_MAX;
    return RTE_MIN(dpio_hold_lane_due(&h->lane[0]), dpio_hold_lane_due(&h->lane[1]));
}

/* Hands out up to @p n frames due by @p now, earliest first (on a tie the
 * on-time lane first). */
static uint16_t dpio_hold_pop(struct dpio_hold *h, uint64_t now, struct rte_mbuf **out,
                              uint16_t n)
{
    uint16_t k = 0;

    while (k < n) {
        uint64_t d0 = dpio_hold_lane_due(&h->lane[0]);
        uint64_t d1 = dpio_hold_lane_due(&h->lane[1]);
        struct dpio_hold_lane *l = &h->lane[d1 < d0];

        if (RTE_MIN(d0, d1) > now)
            break;
        out[k++] = l->slot[l->head++ & (DPIO_HOLD_LANE - 1)].m;
    }
    if (k > 0)
        dpio_hold_count(&h->released, k);
    return k;
}

static void dpio_hold_free(struct dpio_hold *h)
{
    if (h == NULL)
        return;
    for (unsigned i = 0; i < RTE_DIM(h->lane); i++) {
        struct dpio_hold_lane *l = &h->lane[i];

        while (l->head != l->tail)
            rte_pktmbuf_free(l->slot[l->head++ & (DPIO_HOLD_LANE - 1)].m);
    }
    rte_free(h);
}

/* Sets up the holding queues of every queue and sizes the pools for them. */
static int dpio_impair_setup(struct dpio_port *p, const struct dpio_impair *im, char *err,
                             size_t errlen)
{
    unsigned dirs = im->dirs ? im->dirs : DPIO_IMPAIR_RX | DPIO_IMPAIR_TX;

    if (!dpio_impair_on(im))
        return 0;
    for (unsigned q = 0; q < p->n_queues; q++) {
        struct dpio_queue *dq = p->queues[q];
        int socket = (int)rte_lcore_to_socket_id(dq->lcore);

        if (dirs & DPIO_IMPAIR_RX)
            dq->hold_rx = dpio_hold_create(im, q, DPIO_IMPAIR_RX, socket);
        if (dirs & DPIO_IMPAIR_TX)
            dq->hold_tx = dpio_hold_create(im, q, DPIO_IMPAIR_TX, socket);
        if (((dirs & DPIO_IMPAIR_RX) && dq->hold_rx == NULL) ||
            ((dirs & DPIO_IMPAIR_TX) && dq->hold_tx == NULL)) {
            dpio_errf(err, errlen, "out of DPDK memory for the impairment stage");
            return -ENOMEM;
        }
    }
    p->hold_mbufs = 2 * DPIO_HOLD_LANE * (unsigned)__builtin_popcount(dirs);
    printf("dpio: port %s: IMPAIRMENT ON (test facility): %s%s%s frames held %u ms, "
           "%u%% of them %u ms more (reordered), seed %" PRIu64 "\n",
           p->name, dirs & DPIO_IMPAIR_RX ? "received" : "",
           dirs == (DPIO_IMPAIR_RX | DPIO_IMPAIR_TX) ? " and " : "",
           dirs & DPIO_IMPAIR_TX ? "sent" : "", im->delay_ms, im->reorder_pct,
           im->reorder_pct ? im->reorder_gap_ms : 0, im->seed);
    fflush(stdout);
    return 0;
}

/* ---- port set-up ------------------------------------------------------ */

/* The port name is the device name: the vdev or PCI spec up to its devargs. */
static int dpio_find_port(const char *spec, uint16_t *port_id, char *name, size_t len)
{
    struct rte_pci_addr addr;
    size_t n = strcspn(spec, ",");

    if (n == 0 || n >= len)
        return -EINVAL;
    memcpy(name, spec, n);
    name[n] = '\0';
    if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
        return 0;
    /* A short PCI address ("03:00.0") names the device "0000:03:00.0". */
    if (!dpio_port_is_vdev(name) && rte_pci_addr_parse(name, &addr) == 0) {
        rte_pci_device_name(&addr, name, len);
        if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
            return 0;
    }
    return -ENODEV;
}

/* The offloads to take: what the port offers, but on net_tap (@p tap) not
 * the transmit checksums. DPDK 22.11's net_tap only emulates them, summing
 * every frame two bytes an iteration in its tx path (10% of the server core
 * in a profile of a 100 MB download), slower than the stack's own sums (a
 * body's checksum comes from the site's precomputed prefix sums). */
static uint32_t dpio_pick_offloads(const struct rte_eth_dev_info *info,
                                   struct rte_eth_conf *conf, bool tap)
{
    static const uint64_t tap_emulated =
        RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    static const struct {
        uint64_t capa;
        uint32_t flag;
        bool tx;
    } table[] = {
        {RTE_ETH_TX_OFFLOAD_IPV4_CKSUM, DPIO_OFF_TX_IPV4_CKSUM, true},
        {RTE_ETH_TX_OFFLOAD_TCP_CKSUM, DPIO_OFF_TX_TCP_CKSUM, true},
        {RTE_ETH_TX_OFFLOAD_MULTI_SEGS, DPIO_OFF_TX_MULTISEG, true},
        {RTE_ETH_TX_OFFLOAD_TCP_TSO, DPIO_OFF_TX_TSO, true},
        {RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, DPIO_OFF_RX_IPV4_CKSUM, false},
        {RTE_ETH_RX_OFFLOAD_TCP_CKSUM, DPIO_OFF_RX_TCP_CKSUM, false},
    };
    uint32_t flags = 0;
    uint64_t tx_capa = info->tx_offload_capa & ~(tap ? tap_emulated : 0);

    for (size_t i = 0; i < RTE_DIM(table); i++) {
        uint64_t capa = table[i].tx ? tx_capa : info->rx_offload_capa;

        if ((capa & table[i].capa) == 0)
            continue;
        if (table[i].tx)
            conf->txmode.offloads |= table[i].capa;
        else
            conf->rxmode.offloads |= table[i].capa;
        flags |= table[i].flag;
    }
    return flags;
}

static const char *dpio_offload_names(uint32_t off, char *buf, size_t len)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } names[] = {
        {DPIO_OFF_TX_IPV4_CKSUM, "tx-ipv4-cksum"},
        {DPIO_OFF_TX_TCP_CKSUM, "tx-tcp-cksum"},
        {DPIO_OFF_RX_IPV4_CKSUM, "rx-ipv4-cksum"},
        {DPIO_OFF_RX_TCP_CKSUM, "rx-tcp-cksum"},
        {DPIO_OFF_TX_MULTISEG, "multi-seg"},
        {DPIO_OFF_TX_TSO, "tso"},
        {DPIO_OFF_RX_INTR, "rx-intr"},
    };
    size_t off_len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < RTE_DIM(names); i++) {
        if ((off & names[i].flag) && off_len < len)
            off_len += (size_t)snprintf(buf + off_len, len - off_len, "%s%s",
                                        off_len ? " " : "", names[i].name);
    }
    return buf[0] ? buf : "none";
}

static int dpio_pools_create(struct dpio_port *p, int socket, uint16_t nb_rxd,
                             uint16_t nb_txd, char *err, size_t errlen)
{
    /* What one queue can hold at once: a full rx ring, a full tx ring, the
     * tx buffer, the rx stash, bursts in flight in the stack (with the 31
     * mbufs at most it takes ahead to build frames in), full holding
     * queues of the impairment stage, and the mempool caches of the lcores
     * that touch the pool. */
    unsigned need =
        nb_rxd + nb_txd + DPIO_TX_RING + DPIO_RX_STASH + DPIO_BURST_SLACK + p->hold_mbufs;
    unsigned frame = p->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN;
    unsigned room =
        RTE_MAX((unsigned)RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + frame);
    unsigned n, cache;

    if (room > UINT16_MAX) {
        dpio_errf(err, errlen, "MTU %u too large for one mbuf", p->mtu);
        return -ENOBUFS;
    }
    if (p->mbufs_per_queue != 0) {
        n = p->mbufs_per_queue;
        if (n < need) {
            dpio_errf(err, errlen,
                      "%u mbufs per queue is too few: rings and bursts need %u", n, need);
            return -ENOBUFS;
        }
    } else {
        n = DPIO_MBUFS_DEFAULT;
        while (n < need + 2 * DPIO_MBUF_CACHE)
            n = n * 2 + 1;
    }
    cache = RTE_MIN((unsigned)DPIO_MBUF_CACHE, n * 2 / 3);

    for (unsigned q = 0; q < p->n_queues; q++) {
        char name[RTE_MEMPOOL_NAMESIZE];
        struct rte_mempool *mp;

        snprintf(name, sizeof(name), "dpio_p%u_q%u", p->port_id, q);
        mp = rte_pktmbuf_pool_create(name, n, cache, 0, (uint16_t)room, socket);
        if (mp == NULL && socket != SOCKET_ID_ANY)
            mp =
                rte_pktmbuf_pool_create(name, n, cache, 0, (uint16_t)room, SOCKET_ID_ANY);
        if (mp == NULL) {
            dpio_errf(err, errlen,
                      "cannot create mbuf pool %s (%u mbufs of %u bytes): %s "
                      "(raise [dpdk] memory or lower mbufs per queue)",
                      name, n, room, rte_strerror(rte_errno));
            return -ENOBUFS;
        }
        p->queues[q]->pool = mp;
    }
    return 0;
}

/* Configures the queues and starts the port. Called a second time without
 * rx interrupts when the driver refuses them. */
static int dpio_port_setup(struct dpio_port *p, const struct rte_eth_dev_info *info,
                           const struct rte_eth_conf *conf, int socket, char *err,
                           size_t errlen)
{
    uint16_t nb_rxd = info->default_rxportconf.ring_size ?: DPIO_RING_DEFAULT;
    uint16_t nb_txd = info->default_txportconf.ring_size ?: DPIO_RING_DEFAULT;
    uint16_t pid = p->port_id, nq = (uint16_t)p->n_queues;
    int ret;

    ret = rte_eth_dev_configure(pid, nq, nq, conf);
    p->configured = true;
    if (ret < 0) {
        dpio_errf(err, errlen, "port %s: configure failed: %s", p->name,
                  rte_strerror(-ret));
        return ret;
    }
    ret = rte_eth_dev_set_mtu(pid, p->mtu);
    if (ret == -ENOTSUP && p->mtu == RTE_ETHER_MTU) {
        ret = 0; /* the driver cannot change it, but the default is what we want */
    } else if (ret < 0) {
        dpio_errf(err, errlen, "port %s: cannot set MTU %u: %s", p->name, p->mtu,
                  rte_strerror(-ret));
        return ret;
    }
    ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
    if (ret < 0) {
        dpio_errf(err, errlen, "port %s: ring sizes: %s", p->name, rte_strerror(-ret));
        return ret;
    }
    if (p->queues[0]->pool == NULL) {
        ret = dpio_pools_create(p, socket, nb_rxd, nb_txd, err, errlen);
        if (ret < 0)
            return ret;
    }
    for (uint16_t q = 0; q < nq; q++) {
        struct rte_eth_rxconf rxconf = info->default_rxconf;
        struct rte_eth_txconf txconf = info->default_txconf;

        rxconf.offloads = conf->rxmode.offloads;
        txconf.offloads = conf->txmode.offloads;
        ret = rte_eth_rx_queue_setup(pid, q, nb_rxd, (unsigned)socket, &rxconf,
                                     p->queues[q]->pool);
        if (ret < 0) {
            dpio_errf(err, errlen, "port %s: rx queue %u: %s", p->name, q,
                      rte_strerror(-ret));
            return ret;
        }
        ret = rte_eth_tx_queue_setup(pid, q, nb_txd, (unsigned)socket, &txconf);
        if (ret < 0) {
            dpio_errf(err, errlen, "port %s: tx queue %u: %s", p->name, q,
                      rte_strerror(-ret));
            return ret;
        }
    }
    ret = rte_eth_dev_start(pid);
    if (ret < 0) {
        dpio_errf(err, errlen, "port %s: start failed: %s", p->name, rte_strerror(-ret));
        return ret;
    }
    return 0;
}

static int dpio_netdev_mac(const char *ifname, struct rte_ether_addr *mac, bool set)
{
    struct ifreq ifr;
    int fd, ret = 0;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (set) {
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
        if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0)
            ret = -errno;
    } else {
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
            ret = -errno;
        else
            memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
    }
    close(fd);
    return ret;
}

/* net_tap writes the port's address onto the kernel side of the TAP, both at
 * creation (random or mac= devarg) and on every default_mac_addr_set. Two
 * hosts with one MAC confuse both stacks, so: give the port its own locally
 * administered address (unless the user chose one with mac=), then put the
 * kernel side back on an address of its own. */
static void dpio_tap_split_mac(struct dpio_port *p, const struct rte_eth_dev_info *info,
                               const char *spec)
{
    struct rte_ether_addr kernel, now;
    char ifname[IF_NAMESIZE];
    int ret;

    if (info->if_index == 0 || if_indextoname(info->if_index, ifname) == NULL ||
        dpio_netdev_mac(ifname, &kernel, false) < 0) {
        fprintf(stderr, "dpio: port %s: cannot read the TAP's kernel-side MAC\n",
                p->name);
        return;
    }
    if (strstr(spec, ",mac=") == NULL) {
        unsigned pid = (unsigned)getpid();
        struct rte_ether_addr want = {
            {0x02, 0xc0, 0x72, (uint8_t)(pid >> 8), (uint8_t)pid, (uint8_t)p->port_id}};

        ret = rte_eth_dev_default_mac_addr_set(p->port_id, &want);
        if (ret < 0)
            fprintf(stderr, "dpio: port %s: cannot set MAC: %s\n", p->name,
                    rte_strerror(-ret));
    }
    rte_eth_macaddr_get(p->port_id, &p->mac);
    if (dpio_netdev_mac(ifname, &now, false) < 0 ||
        !rte_is_same_ether_addr(&now, &p->mac))
        return;
    if (rte_is_same_ether_addr(&kernel, &p->mac)) {
        /* Never had one of its own (mac= given): derive a neighbour. */
        kernel = p->mac;
        kernel.addr_bytes[0] = (uint8_t)((kernel.addr_bytes[0] | 0x02) & ~0x01);
        kernel.addr_bytes[5] ^= 0x80;
    }
    ret = dpio_netdev_mac(ifname, &kernel, true);
    if (ret < 0 || dpio_netdev_mac(ifname, &now, false) < 0 ||
        rte_is_same_ether_addr(&now, &p->mac))
        fprintf(stderr, "dpio: port %s: kernel side %s shares the port's MAC (%s)\n",
                p->name, ifname, ret < 0 ? strerror(-ret) : "unchanged");
}

/* Rx interrupts exist when the driver installed a vector for every queue.
 * The ethdev logs an error when it has none: silence it for the probe. */
static bool dpio_rx_intr_available(const struct dpio_port *p)
{
    uint32_t level = (uint32_t)rte_log_get_level((uint32_t)rte_eth_dev_logtype);
    bool ok = true;

    rte_log_set_level((uint32_t)rte_eth_dev_logtype, RTE_LOG_EMERG);
    for (unsigned q = 0; q < p->n_queues && ok; q++)
        ok = rte_eth_dev_rx_intr_ctl_q_get_fd(p->port_id, (uint16_t)q) >= 0;
    rte_log_set_level((uint32_t)rte_eth_dev_logtype, level);
    return ok;
}

static void dpio_wait_link(struct dpio_port *p)
{
    struct rte_eth_link link;
    char offs[128], mac[RTE_ETHER_ADDR_FMT_SIZE], speed[16];

    memset(&link, 0, sizeof(link));
    for (int waited = 0;; waited += DPIO_LINK_POLL_MS) {
        if (rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
            link.link_status == RTE_ETH_LINK_UP)
            break;
        if (waited >= DPIO_LINK_WAIT_MS)
            break;
        nanosleep(&(struct timespec){0, DPIO_LINK_POLL_MS * 1000000L}, NULL);
    }
    rte_ether_format_addr(mac, sizeof(mac), &p->mac);
    if (link.link_speed == RTE_ETH_SPEED_NUM_NONE ||
        link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
        snprintf(speed, sizeof(speed), "?");
    else
        snprintf(speed, sizeof(speed), "%" PRIu32, link.link_speed);
    printf("dpio: port %s %s link %s %s Mbps, %u queues (%s), offloads: %s\n", p->name,
           mac, link.link_status == RTE_ETH_LINK_UP ? "up" : "down", speed, p->n_queues,
           dpio_port_rss(p), dpio_offload_names(p->offloads, offs, sizeof(offs)));
    fflush(stdout);
}

/* The largest MTU configure accepts: max_mtu, but also what fits in
 * max_rx_pktlen (net_tap leaves max_mtu at UINT16_MAX and caps frames at
 * 1522 bytes). Same overhead rule as the ethdev layer. */
static unsigned dpio_max_mtu(const struct rte_eth_dev_info *info)
{
    unsigned overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

    if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
        overhead = info->max_rx_pktlen - info->max_mtu;
    if (info->max_rx_pktlen <= overhead)
        return info->max_mtu;
    return RTE_MIN((unsigned)info->max_mtu, info->max_rx_pktlen - overhead);
}

void dpio_rss_symmetric_key(uint8_t *key, size_t len)
{
    for (size_t i = 0; i < len; i++)
        key[i] = i % 2 ? 0x5a : 0x6d;
}

/* Spreads flows over the queues where the port can: hardware RSS over the
 * IPv4/TCP 4-tuple with a symmetric key (a flow and its reverse hash alike,
 * so replies to our own connections come back to the opening queue), of the
 * length the port wants; the driver's key when it gives no length. net_tap
 * is left alone: its RSS is rte_flow with BPF, which needs a multiq qdisc
 * this kernel lacks, and the kernel already picks one queue per flow (the
 * flow's hash, then the queue that last sent on it). Any other port
 * without RSS sends everything to queue 0. */
static void dpio_rss_conf(struct dpio_port *p, const struct rte_eth_dev_info *info,
                          struct rte_eth_conf *conf, bool tap)
{
    uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info->flow_type_rss_offloads;

    p->rss = DPIO_RSS_NONE;
    if (p->n_queues < 2)
        return;
    if (tap) {
        p->rss = DPIO_RSS_KERNEL;
        return;
    }
    if (hf == 0) {
        fprintf(stderr,
                "dpio: port %s has no RSS: every flow arrives on queue 0, the "
                "other %u cores stay idle\n",
                p->name, p->n_queues - 1);
        return;
    }
    conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf->rx_adv_conf.rss_conf.rss_hf = hf;
    if (info->hash_key_size > 0 && info->hash_key_size <= sizeof(p->rss_key)) {
        dpio_rss_symmetric_key(p->rss_key, info->hash_key_size);
        conf->rx_adv_conf.rss_conf.rss_key = p->rss_key;
        conf->rx_adv_conf.rss_conf.rss_key_len = info->hash_key_size;
        p->rss = DPIO_RSS_SYMMETRIC;
    } else {
        conf->rx_adv_conf.rss_conf.rss_key = NULL;
        p->rss = DPIO_RSS_DRIVER_KEY;
    }
}

/* dpio_port_setup() with our RSS key when @p own_key, and once more with
 * the driver's when that fails: some drivers take RSS but not a key of
 * ours, and theirs spreads flows too, only not symmetrically. */
static int dpio_setup_keyed(struct dpio_port *p, const struct rte_eth_dev_info *info,
                            struct rte_eth_conf *conf, int socket, bool own_key,
                            char *err, size_t errlen)
{
    int ret;

    if (own_key) {
        conf->rx_adv_conf.rss_conf.rss_key = p->rss_key;
        conf->rx_adv_conf.rss_conf.rss_key_len = info->hash_key_size;
        p->rss = DPIO_RSS_SYMMETRIC;
    }
    ret = dpio_port_setup(p, info, conf, socket, err, errlen);
    if (ret < 0 && ret != -ENOBUFS && own_key) {
        fprintf(stderr, "dpio: %s; retrying with the driver's RSS key\n", err ? err : "");
        rte_eth_dev_stop(p->port_id);
        conf->rx_adv_conf.rss_conf.rss_key = NULL;
        conf->rx_adv_conf.rss_conf.rss_key_len = 0;
        p->rss = DPIO_RSS_DRIVER_KEY;
        ret = dpio_port_setup(p, info, conf, socket, err, errlen);
    }
    return ret;
}

const char *dpio_port_rss(const struct dpio_port *port)
{
    switch (port->rss) {
    case DPIO_RSS_SYMMETRIC:
        return "rss symmetric-key";
    case DPIO_RSS_DRIVER_KEY:
        return "rss driver-key";
    case DPIO_RSS_KERNEL:
        return "kernel-picks-queue";
    case DPIO_RSS_NONE:
        break;
    }
    return port->n_queues > 1 ? "none (all on queue 0)" : "single-queue";
}

static void dpio_port_free(struct dpio_port *p)
{
    for (unsigned q = 0; q < DPIO_MAX_QUEUES; q++) {
        if (p->queues[q] == NULL)
            continue;
        dpio_hold_free(p->queues[q]->hold_rx);
        dpio_hold_free(p->queues[q]->hold_tx);
        if (p->queues[q]->wake_fd >= 0)
            close(p->queues[q]->wake_fd);
        rte_mempool_free(p->queues[q]->pool);
        rte_free(p->queues[q]);
    }
    free(p);
}

struct dpio_port *dpio_port_open(const struct dpio_settings *s, char *err, size_t errlen)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    struct dpio_tap_guard guard;
    struct dpio_port *p;
    int socket, ret;
    bool tap, own_key;

    if (s->port == NULL) {
        dpio_errf(err, errlen, "no port configured");
        return NULL;
    }
    if (dpio_check_cores(s, err, errlen) < 0 ||
        dpio_impair_check(&s->impair, err, errlen) < 0)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        dpio_errf(err, errlen, "out of memory");
        return NULL;
    }
    if (dpio_find_port(s->port, &p->port_id, p->name, sizeof(p->name)) < 0) {
        dpio_errf(err, errlen, "port %s not found (%u ports probed by the EAL)", s->port,
                  rte_eth_dev_count_avail());
        goto fail;
    }
    ret = rte_eth_dev_info_get(p->port_id, &info);
    if (ret < 0) {
        dpio_errf(err, errlen, "port %s: device info: %s", p->name, rte_strerror(-ret));
        goto fail;
    }
    p->n_queues = s->n_cores;
    if (p->n_queues > info.max_rx_queues || p->n_queues > info.max_tx_queues) {
        dpio_errf(err, errlen,
                  "port %s: %u cores need %u queue pairs, it has %u rx/%u tx", p->name,
                  s->n_cores, p->n_queues, info.max_rx_queues, info.max_tx_queues);
        goto fail;
    }
    p->mtu = s->mtu ? s->mtu : RTE_ETHER_MTU;
    if (p->mtu < info.min_mtu || p->mtu > dpio_max_mtu(&info)) {
        dpio_errf(err, errlen, "port %s: MTU %u outside the port's range %u..%u", p->name,
                  p->mtu, info.min_mtu, dpio_max_mtu(&info));
        goto fail;
    }

    socket = rte_eth_dev_socket_id(p->port_id);
    for (unsigned q = 0; q < p->n_queues; q++) {
        unsigned lcore = s->cores[q];
        int qsock = (int)rte_lcore_to_socket_id(lcore);
        struct dpio_queue *dq;

        dq = rte_zmalloc_socket("dpio_queue", sizeof(*dq), RTE_CACHE_LINE_SIZE, qsock);
        if (dq == NULL)
            dq = rte_zmalloc("dpio_queue", sizeof(*dq), RTE_CACHE_LINE_SIZE);
        if (dq == NULL) {
            dpio_errf(err, errlen, "out of DPDK memory for queue state");
            goto fail;
        }
        dq->port_id = p->port_id;
        dq->qid = (uint16_t)q;
        dq->wake_fd = -1;
        dq->lcore = lcore;
        p->queues[q] = dq;
    }
    if (dpio_impair_setup(p, &s->impair, err, errlen) < 0)
        goto fail;

    memset(&conf, 0, sizeof(conf));
    conf.rxmode.mtu = p->mtu;
    tap = info.driver_name != NULL && strcmp(info.driver_name, "net_tap") == 0;
    p->offloads = dpio_pick_offloads(&info, &conf, tap);
    dpio_rss_conf(p, &info, &conf, tap);
    conf.intr_conf.rxq = 1;

    /* Drivers differ in where they refuse rx interrupts (configure, start);
     * on any failure try once more without them. Pools are sized from the
     * adjusted ring sizes, so dpio_port_setup() creates them on first use. */
    p->mbufs_per_queue = s->mbufs_per_queue;
    dpio_tap_guard_on(&guard, tap);
    own_key = p->rss == DPIO_RSS_SYMMETRIC;
    ret = dpio_setup_keyed(p, &info, &conf, socket, own_key, err, errlen);
    if (ret < 0 && ret != -ENOBUFS) { /* -ENOBUFS: our pools, not the driver */
        fprintf(stderr, "dpio: %s; retrying without rx interrupts\n", err ? err : "");
        rte_eth_dev_stop(p->port_id);
        conf.intr_conf.rxq = 0;
        ret = dpio_setup_keyed(p, &info, &conf, socket, own_key, err, errlen);
    }
    dpio_tap_guard_off(&guard);
    if (ret < 0)
        goto fail;

    if (conf.intr_conf.rxq && dpio_rx_intr_available(p))
        p->offloads |= DPIO_OFF_RX_INTR;
    for (unsigned q = 0; q < p->n_queues; q++) {
        p->queues[q]->rx_intr = (p->offloads & DPIO_OFF_RX_INTR) != 0;
        p->queues[q]->tx_chain_group = dpio_memif_zc(s->port) ? 4 : 0;
        p->queues[q]->tx_demote = !dpio_tx_read_here(&info);
    }

    rte_eth_macaddr_get(p->port_id, &p->mac);
    if (tap)
        dpio_tap_split_mac(p, &info, s->port);

    dpio_wait_link(p);
    return p;

fail:
    if (p->configured) {
        rte_eth_dev_stop(p->port_id);
        rte_eth_dev_close(p->port_id);
    }
    dpio_port_free(p);
    return NULL;
}

void dpio_port_close(struct dpio_port *port)
{
    if (port == NULL)
        return;
    for (unsigned q = 0; q < port->n_queues; q++) {
        struct dpio_queue *dq = port->queues[q];

        for (; dq->tx_head != dq->tx_tail; dq->tx_head++)
            rte_pktmbuf_free(dq->tx_ring[dq->tx_head % DPIO_TX_RING]);
        rte_pktmbuf_free_bulk(dq->rx_stash + dq->rx_pos,
                              (unsigned)(dq->rx_n - dq->rx_pos));
        dq->rx_pos = dq->rx_n = 0;
    }
    rte_eth_dev_stop(port->port_id);
    rte_eth_dev_close(port->port_id);
    dpio_port_free(port);
}

void dpio_port_mac(const struct dpio_port *port, struct rte_ether_addr *mac)
{
    *mac = port->mac;
}

uint32_t dpio_port_offloads(const struct dpio_port *port)
{
    return port->offloads;
}

uint16_t dpio_port_mtu(const struct dpio_port *port)
{
    return port->mtu;
}

unsigned dpio_port_queue_count(const struct dpio_port *port)
{
    return port->n_queues;
}

/* Appends " impair_rx_held=.. impair_rx_late=.. impair_rx_released=..
 * impair_rx_overflow=.." (tx: the same with tx) summed over the queues, when
 * that direction is impaired. Returns what snprintf returns. */
static int dpio_hold_stats(const struct dpio_port *port, bool tx, char *buf, size_t len)
{
    uint64_t sum[4] = {0};
    bool on = false;
    const char *d = tx ? "tx" : "rx";

    for (unsigned q = 0; q < port->n_queues; q++) {
        const struct dpio_hold *h =
            tx ? port->queues[q]->hold_tx : port->queues[q]->hold_rx;

        if (h == NULL)
            continue;
        on = true;
        sum[0] += __atomic_load_n(&h->held, __ATOMIC_RELAXED);
        sum[1] += __atomic_load_n(&h->late, __ATOMIC_RELAXED);
        sum[2] += __atomic_load_n(&h->released, __ATOMIC_RELAXED);
        sum[3] += __atomic_load_n(&h->overflow, __ATOMIC_RELAXED);
    }
    if (!on)
        return 0;
    return snprintf(buf, len,
                    " impair_%s_held=%" PRIu64 " impair_%s_late=%" PRIu64
                    " impair_%s_released=%" PRIu64 " impair_%s_overflow=%" PRIu64,
                    d, sum[0], d, sum[1], d, sum[2], d, sum[3]);
}

int dpio_port_stats(const struct dpio_port *port, char *buf, size_t len)
{
    struct rte_eth_stats st;
    uint64_t dropped = 0;
    size_t used;
    int ret, n;

    ret = rte_eth_stats_get(port->port_id, &st);
    if (ret < 0)
        return ret;
    for (unsigned q = 0; q < port->n_queues; q++)
        dropped += dpio_tx_dropped(port->queues[q]);
    n = snprintf(buf, len,
                 "port %s: ipackets=%" PRIu64 " ibytes=%" PRIu64 " opackets=%" PRIu64
                 " obytes=%" PRIu64 " ierrors=%" PRIu64 " oerrors=%" PRIu64
                 " imissed=%" PRIu64 " rx_nombuf=%" PRIu64 " tx_dropped=%" PRIu64,
                 port->name, st.ipackets, st.ibytes, st.opackets, st.obytes, st.ierrors,
                 st.oerrors, st.imissed, st.rx_nombuf, dropped);
    for (int tx = 0; tx <= 1 && n >= 0; tx++) {
        used = RTE_MIN((size_t)n, len);
        ret = dpio_hold_stats(port, tx, buf + used, len - used);
        n = ret < 0 ? ret : n + ret;
    }
    if (n >= 0) {
        used = RTE_MIN((size_t)n, len);
        n += snprintf(buf + used, len - used, "\n");
    }
    if (n < 0)
        return -EINVAL;
    return (size_t)n < len ? 0 : -ENOSPC;
}

/* ---- queues ------------------------------------------------------------- */

struct dpio_queue *dpio_port_queue(struct dpio_port *port, unsigned qid)
{
    return qid < port->n_queues ? port->queues[qid] : NULL;
}

struct rte_mempool *dpio_queue_pool(const struct dpio_queue *q)
{
    return q->pool;
}

unsigned dpio_queue_lcore(const struct dpio_queue *q)
{
    return q->lcore;
}

/* The stash first, then the port. */
static inline uint16_t dpio_rx_port(struct dpio_queue *q, struct rte_mbuf **pkts,
                                    uint16_t n)
{
    uint16_t got = 0;

    if (unlikely(q->rx_pos < q->rx_n)) {
        got = RTE_MIN(n, (uint16_t)(q->rx_n - q->rx_pos));
        memcpy(pkts, q->rx_stash + q->rx_pos, got * sizeof(*pkts));
        q->rx_pos = (uint16_t)(q->rx_pos + got);
        if (got == n)
            return got;
    }
    return (uint16_t)(got + rte_eth_rx_burst(q->port_id, q->qid, pkts + got,
                                             (uint16_t)(n - got)));
}

/* Rx impairment: one burst from the port into the holding queue, then what
 * is due out of it. */
static uint16_t dpio_rx_burst_held(struct dpio_queue *q, struct rte_mbuf **pkts,
                                   uint16_t n)
{
    struct rte_mbuf *in[DPIO_RX_STASH];
    uint64_t now = dpio_now_us();
    uint16_t got = dpio_rx_port(q, in, DPIO_RX_STASH);

    for (uint16_t i = 0; i < got; i++)
        dpio_hold_push(q->hold_rx, in[i], now);
    return dpio_hold_pop(q->hold_rx, now, pkts, n);
}

uint16_t dpio_rx_burst(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
    uint16_t got;

    if (unlikely(q->hold_rx != NULL))
        got = dpio_rx_burst_held(q, pkts, n);
    else
        got = dpio_rx_port(q, pkts, n);
    if (got)
        q->rx_seen = true;
    return got;
}

static void dpio_count_drops(struct dpio_queue *q, unsigned n)
{
    __atomic_store_n(&q->tx_dropped, q->tx_dropped + n, __ATOMIC_RELAXED);
}

/* Lets the driver fix up offload metadata (e.g. pseudo-header checksums on
 * NICs that want them); a frame it rejects is dropped, the rest go on.
 * Returns how many of @p pkts remain, in order. */
static uint16_t dpio_tx_prepare(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
    uint16_t ok = 0;

    while (ok < n) {
        ok = (uint16_t)(ok + rte_eth_tx_prepare(q->port_id, q->qid, pkts + ok,
                                                (uint16_t)(n - ok)));
        if (ok < n) {
            rte_pktmbuf_free(pkts[ok]);
            dpio_count_drops(q, 1);
            n--;
            memmove(pkts + ok, pkts + ok + 1, (n - ok) * sizeof(pkts[0]));
        }
    }
    return n;
}

/* How many of @p n frames to pass in one burst so that no chained frame is
 * among those DPDK 22.11's net_memif places @p group at a time in zero-copy
 * mode. While more than four frames remain it places four at once, having
 * checked only that four slots are free, but a chained frame takes a slot
 * per mbuf: it overran its ring and freed mbufs still in use. It places
 * the burst's first frames in fours and the last one to four singly, each
 * checked: the chained frames must come after the leading whole fours of
 * single-mbuf frames. */
static uint16_t dpio_tx_chain_cut(struct rte_mbuf *const *pkts, uint16_t n,
                                  uint16_t group)
{
    uint16_t single = 0;

    while (single < n && pkts[single]->nb_segs == 1)
        single++;
    return (uint16_t)RTE_MIN(n, single - single % group + group);
}

/* Hands the port what it takes of the waiting frames, oldest first; the
 * rest wait for the next call (the port's ring is full: no busy wait). */
static void dpio_tx_send(struct dpio_queue *q)
{
    while (q->tx_head != q->tx_tail) {
        uint32_t at = q->tx_head % DPIO_TX_RING;
        uint16_t n = (uint16_t)RTE_MIN(q->tx_tail - q->tx_head, DPIO_TX_RING - at);
        if (q->tx_chain_group)
            n = dpio_tx_chain_cut(q->tx_ring + at, n, q->tx_chain_group);
        uint16_t k = rte_eth_tx_burst(q->port_id, q->qid, q->tx_ring + at, n);

        q->tx_head += k;
        if (k > 0) {
            q->tx_stuck_since = 0;
            continue; /* a driver may take fewer per call than it has room */
        }
        /* Nothing taken: the port's ring is full, or the driver refuses the
         * first frame outright (net_tap returns rather than dropping a frame
         * it cannot send). A head that has not moved for DPIO_TX_STUCK_US is
         * dropped and counted, so that one frame cannot stop the queue. */
        uint64_t now = dpio_now_us();
        if (q->tx_stuck_since == 0 || now - q->tx_stuck_since < DPIO_TX_STUCK_US) {
            if (q->tx_stuck_since == 0)
                q->tx_stuck_since = now;
            return;
        }
        rte_pktmbuf_free(q->tx_ring[at]);
        q->tx_head++;
        dpio_count_drops(q, 1);
        q->tx_stuck_since = now;
    }
}

/* Pushes the lines of the frame's first mbuf (its headers, and a small
 * payload copied in with them) from this core's caches to the shared one,
 * so that the reader of the port's ring (a device's DMA, or the process at
 * the other end of shared memory on another core) finds them there instead
 * of snooping them out of ours. The later mbufs of a chain point at data
 * nobody writes. CLDEMOTE is a hint, a no-op on CPUs without it. */
static inline void dpio_tx_demote(const struct rte_mbuf *m)
{
    uintptr_t line =
        rte_pktmbuf_mtod(m, uintptr_t) & ~(uintptr_t)(RTE_CACHE_LINE_SIZE - 1);
    uintptr_t end = rte_pktmbuf_mtod(m, uintptr_t) + m->data_len;

    for (; line < end; line += RTE_CACHE_LINE_SIZE)
        rte_cldemote((const void *)line);
}

/* Appends @p n prepared frames to the tx ring; when it is full, what the
 * port still does not take is dropped and counted. */
static void dpio_tx_append(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        if (q->tx_tail - q->tx_head == DPIO_TX_RING) {
            dpio_tx_send(q);
            if (q->tx_tail - q->tx_head == DPIO_TX_RING) {
                rte_pktmbuf_free_bulk(pkts + i, (unsigned)(n - i));
                dpio_count_drops(q, (unsigned)(n - i));
                return;
            }
        }
        if (q->tx_demote)
            dpio_tx_demote(pkts[i]);
        q->tx_ring[q->tx_tail++ % DPIO_TX_RING] = pkts[i];
    }
    if (q->tx_tail - q->tx_head >= DPIO_TX_BURST)
        dpio_tx_send(q);
}

/* Tx impairment: moves the held frames that are due into the tx ring. */
static void dpio_tx_release(struct dpio_queue *q)
{
    uint64_t now = dpio_now_us();
    struct rte_mbuf *due[DPIO_TX_BURST];
    uint16_t n;

    while ((n = dpio_hold_pop(q->hold_tx, now, due, DPIO_TX_BURST)) > 0)
        dpio_tx_append(q, due, dpio_tx_prepare(q, due, n));
}

void dpio_tx_flush(struct dpio_queue *q)
{
    if (unlikely(q->hold_tx != NULL))
        dpio_tx_release(q);
    dpio_tx_send(q);
}

void dpio_tx_enqueue(struct dpio_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
    if (unlikely(q->hold_tx != NULL)) {
        uint64_t now = dpio_now_us();

        for (uint16_t i = 0; i < n; i++)
            dpio_hold_push(q->hold_tx, pkts[i], now);
        return;
    }
    dpio_tx_append(q, pkts, dpio_tx_prepare(q, pkts, n));
}

unsigned dpio_tx_backlog(const void *q)
{
    const struct dpio_queue *dq = q;
    return dq->tx_tail - dq->tx_head;
}

void dpio_tx_output(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
    dpio_tx_enqueue(arg, pkts, n);
}

uint64_t dpio_tx_dropped(const struct dpio_queue *q)
{
    return __atomic_load_n(&q->tx_dropped, __ATOMIC_RELAXED);
}

/* True when frames are waiting. Drivers that cannot count their ring are
 * asked by receiving into the stash, which dpio_rx_burst() hands out first. */
static bool dpio_rx_pending(struct dpio_queue *q)
{
    int count;

    if (q->rx_pos < q->rx_n)
        return true;
    count = rte_eth_rx_queue_count(q->port_id, q->qid);
    if (count >= 0)
        return count > 0;
    q->rx_pos = 0;
    q->rx_n = rte_eth_rx_burst(q->port_id, q->qid, q->rx_stash, DPIO_RX_STASH);
    return q->rx_n > 0;
}

/* Must run in the owning thread: RTE_EPOLL_PER_THREAD names the calling
 * thread's epoll instance. */
static void dpio_rx_intr_register(struct dpio_queue *q)
{
    int ret = rte_eth_dev_rx_intr_ctl_q(q->port_id, q->qid, RTE_EPOLL_PER_THREAD,
                                        RTE_INTR_EVENT_ADD, q);

    if (ret < 0) {
        fprintf(stderr,
                "dpio: queue %u: rx interrupt unavailable (%s), idling by short sleeps\n",
                q->qid, rte_strerror(-ret));
        q->rx_intr = false;
        return;
    }
    q->rx_intr_reg = true;
    /* epoll's timeout counts whole milliseconds: a sleep until a timer due
     * in 1.3 ms would end at 2 (a tail loss probe 2 * SRTT after the last
     * ACK, on a LAN, ~40 round trips late). A timerfd in the same epoll
     * instance ends it on time; without one the sleep rounds up, as before. */
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr,
                "dpio: queue %u: no timerfd (%s), idle sleeps end on the next ms\n",
                q->qid, strerror(errno));
        return;
    }
    q->wake_ev.epdata.event = EPOLLIN;
    if (rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, fd, &q->wake_ev) < 0) {
        fprintf(stderr,
                "dpio: queue %u: timerfd not in epoll, idle sleeps end on the next ms\n",
                q->qid);
        close(fd);
        return;
    }
    q->wake_fd = fd;
}

/* Arms the queue's timerfd, if it has one, @p us from now; setting it
 * also clears an expiry left from the last sleep, which would otherwise
 * end this one at once. A timerfd that cannot be set (and might stay
 * readable) is closed: sleeps then end on the next ms. */
static void dpio_wake_arm(struct dpio_queue *q, uint64_t us)
{
    if (q->wake_fd < 0)
        return;
    struct itimerspec its = {
        .it_value = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000},
    };
    if (timerfd_settime(q->wake_fd, 0, &its, NULL) != 0) {
        fprintf(stderr,
                "dpio: queue %u: timerfd_settime: %s, idle sleeps end on the next ms\n",
                q->qid, strerror(errno));
        close(q->wake_fd); /* also leaves the epoll instance */
        q->wake_fd = -1;
    }
}

void dpio_queue_sleep(struct dpio_queue *q, uint64_t timeout_us)
{
    if (timeout_us == 0)
        return;
    dpio_tx_flush(q);
    if (q->tx_head != q->tx_tail) {
        /* frames still wait for the port: look again soon, not after a
         * whole sleep (a full ring drains in microseconds) */
        nanosleep(&(struct timespec){0, DPIO_TX_WAIT_US * 1000}, NULL);
        return;
    }
    if (timeout_us > DPIO_SLEEP_CAP_US)
        timeout_us = DPIO_SLEEP_CAP_US;
    if (unlikely(q->hold_rx != NULL || q->hold_tx != NULL)) {
        /* Wake up for the next held frame (on time by the timerfd; without
         * one epoll rounds up to whole ms: at worst ~1 ms late). */
        uint64_t due =
            RTE_MIN(dpio_hold_next_due(q->hold_rx), dpio_hold_next_due(q->hold_tx));
        uint64_t now = dpio_now_us();

        if (due <= now)
            return;
        timeout_us = RTE_MIN(timeout_us, due - now);
    }
    if (q->rx_intr && !q->rx_intr_reg)
        dpio_rx_intr_register(q);

    if (q->rx_intr) {
        /* -ENOTSUP: the driver's event is always armed (net_tap: its fd). */
        int armed = rte_eth_dev_rx_intr_enable(q->port_id, q->qid);

        if (armed == 0 || armed == -ENOTSUP) {
            /* Re-check after arming: a frame that came in between the last
             * empty burst and the enable raised no event. */
            if (!dpio_rx_pending(q)) {
                struct rte_epoll_event ev[2]; /* the interrupt, the timerfd */
                int ms = (int)((timeout_us + 999) / 1000);

                /* the timerfd, where there is one, ends the sleep on time;
                 * epoll's own timeout, in whole ms, is the ceiling */
                dpio_wake_arm(q, timeout_us);

                /* Interruptible: a signal (shutdown, reload) ends the nap. */
                rte_epoll_wait_interruptible(RTE_EPOLL_PER_THREAD, ev, RTE_DIM(ev), ms);
            }
            if (armed == 0)
                rte_eth_dev_rx_intr_disable(q->port_id, q->qid);
            return;
        }
    }
    if (dpio_rx_pending(q))
        return;
    /* No interrupt to wake us: a sleep slice would delay the next frame of
     * a busy exchange by up to a slice (a closed loop of requests would run
     * at one batch per slice). Keep polling a short grace after the last
     * frame; only a port that has been quiet that long sleeps. */
    uint64_t now = dpio_now_us();

    if (q->rx_seen) {
        q->rx_seen = false;
        q->awake_until = now + DPIO_POLL_GRACE_US;
    }
    if (now < q->awake_until)
        return;
    timeout_us = RTE_MIN(timeout_us, (uint64_t)DPIO_POLL_SLEEP_US);
    nanosleep(&(struct timespec){0, (long)timeout_us * 1000}, NULL);
}

/* ---- clock -------------------------------------------------------------- */

uint64_t dpio_now_us(void)
{
    if (unlikely(dpio_tsc_mult == 0)) {
        /* Before dpio_eal_init(): no TSC rate yet. */
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
    }
    return (uint64_t)(((unsigned __int128)rte_get_tsc_cycles() * dpio_tsc_mult) >>
                      DPIO_CLOCK_SHIFT);
}

int64_t dpio_wall_s(void)
{
    return ((int64_t)dpio_now_us() + dpio_wall_offset_us) / 1000000;
}

uint64_t dpio_heap_in_use(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < rte_socket_count(); i++) {
        struct rte_malloc_socket_stats st;
        if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
            sum += st.heap_allocsz_bytes;
    }
    return sum;
}
