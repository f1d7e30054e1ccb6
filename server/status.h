/**
 * @file status.h
 * The status page ([http] status_path, default /server-status): per core the
 * counters of its stack, its worker and its port queue, as plain
 * `key: value` lines, or in the Prometheus text format (version 0.0.4) with
 * `?format=prometheus`. Only clients in [http] status_allow see it; to anyone
 * else the path is like any other (404 unless a file has that name).
 *
 * Data enters on a worker thread, through http.c's status_page hook: the
 * worker reads every core's counters, renders the page into one of its own
 * page buffers (allocated at start-up: nothing is allocated per request) and
 * lends it to the response until the response is written
 * (status_page_release()).
 *
 * Reading other cores' counters: each counter has one writer (its core's
 * stack thread, or its worker) and is read here without locks or a
 * snapshot protocol. The fields are naturally aligned 64-bit (or 32-bit)
 * words, and on x86-64 an aligned load of such a word is single-copy
 * atomic, so a value is never torn; what a page shows is each counter at
 * some moment of the render, not all counters at one instant (a few events
 * may land between two reads). The worker's own counters are read with
 * relaxed atomic loads; the stack's through ts_ctx_stats(), a plain copy of
 * aligned words.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dpio.h"
#include "http.h"
#include "worker.h"

struct ts_ctx;

/** What one core's counters are read from. */
struct status_core {
    const struct ts_ctx *ctx;
    const struct worker *w;
    const struct dpio_queue *q;
    unsigned cpu; /**< the `core` label */
};

/** Every core, read-only once the server runs. */
struct status_src {
    const struct cfg *cfg;
    const char *steering; /**< how flows reach the queues (dpio_port_rss()) */
    uint64_t start_us;    /**< dpio_now_us() at start-up */
    unsigned n;
    struct status_core core[CFG_MAX_CORES];
};

/** The values of one core, in the order of the page's metric table. */
enum status_metric {
    ST_ACCEPTED,
    ST_REFUSED,
    ST_PASSIVE,
    ST_ESTABLISHED,
    ST_TW_ENTERED,
    ST_REQ_1XX,
    ST_REQ_2XX,
    ST_REQ_3XX,
    ST_REQ_4XX,
    ST_REQ_5XX,
    ST_RX_PACKETS,
    ST_TX_PACKETS,
    ST_RX_BYTES,
    ST_TX_BYTES,
    ST_RX_COALESCED,
    ST_DROP_BAD_ETH,
    ST_DROP_BAD_IP,
    ST_DROP_NOT_FOR_US,
    ST_DROP_BAD_CKSUM,
    ST_DROP_BAD_TCP,
    ST_DROP_NO_FLOW,
    ST_DROP_UNSUPPORTED,
    ST_DROP_PAWS,
    ST_DROP_NO_MEMORY,
    ST_DROP_ARP_PENDING,
    ST_DROP_FRAGMENT,
    ST_DROP_BAD_OPTIONS,
    ST_DROP_OUT_OF_WINDOW,
    ST_DROP_SYN_BUDGET,
    ST_TXDROP_NO_MBUF,
    ST_TXDROP_PORT,
    ST_TX_BACKLOG_WAITS,
    ST_PACING_WAITS,
    ST_RXT_FAST,
    ST_RXT_TAIL_PROBE,
    ST_RXT_TIMEOUT,
    ST_RXT_SEGMENTS,
    ST_RXT_TIMEOUT_MIN_RTO,
    ST_RXT_WINDOW_PROBE,
    ST_LOSS_RACK,
    ST_LOSS_REXMIT_LOST,
    ST_TLP_RECOVERIES,
    ST_SPURIOUS_REXMITS,
    ST_REO_SEEDED,
    ST_DSACK_RX,
    ST_DSACK_TX,
    ST_UNDO_RECOVERY,
    ST_UNDO_TIMEOUT,
    ST_HYSTART_EXITS,
    ST_PAWS_LATE_ACKS,
    ST_PAYLOAD_REF,
    ST_PAYLOAD_COPIED,
    ST_FLOW_OTHER_CORE,
    ST_RST_SENT,
    ST_SYNCOOKIES_SENT,
    ST_ACCEPT_OVERFLOW,
    ST_NOMEM_RESETS,
    ST_TLS_HS_FULL,
    ST_TLS_HS_RESUMED,
    ST_TLS_V13,
    ST_TLS_V12,
    ST_TLS_FAIL_PROTOCOL,
    ST_TLS_FAIL_CIPHER,
    ST_TLS_FAIL_HTTP,
    ST_TLS_FAIL_ALPN,
    ST_TLS_FAIL_ALERT,
    ST_TLS_FAIL_CLOSED,
    ST_TLS_FAIL_TIMEOUT,
    ST_TLS_FAIL_MALFORMED,
    ST_TLS_TICKET_ROTATIONS,
    ST_TLS_RECORDS_REF,
    ST_TLS_RECORDS_COPIED,
    /* gauges */
    ST_OPEN,
    ST_TIME_WAIT,
    ST_ORPHANS,
    ST_BUFS_IN_USE,
    ST_BUFS_MAX,
    ST_SOCKS_MAX,
    ST_MBUFS_IN_USE,
    ST_MBUFS_TOTAL,
    ST_HTTP_OPEN,
    ST_HTTP_STATES,
    ST_TLS_OPEN,
    ST_SYN_SHED_RETRIED,
    ST_HTTP_TIMEOUTS,
    ST_CONNS_PER_IP_REFUSED,
    ST_SLOW_SHED,
    ST_N
};

enum status_format { STATUS_PLAIN, STATUS_PROMETHEUS };

/** What the page says besides the cores' values. */
struct status_meta {
    const char *version;  /**< e.g. corehttpd/0.1.0 */
    const char *steering; /**< may be NULL */
    uint64_t uptime_s;
    unsigned n;
    const unsigned *cpu;      /**< n `core` labels */
    uint64_t rss_bytes;       /**< the process's resident memory */
    uint64_t dpdk_heap_bytes; /**< allocated from DPDK's heaps (pools, cache) */
};

/** Bytes a page of @p n_cores needs at most (every value at UINT64_MAX). */
size_t status_page_bytes(unsigned n_cores);

/** Renders the page of @p m->n cores whose values are v[core * ST_N + metric]
 *  into @p buf. Returns its length, or -ENOSPC when @p cap is too small. */
long status_render(const struct status_meta *m, const uint64_t *v, enum status_format f,
                   char *buf, size_t cap);

/** `format=prometheus` among the &-separated query parameters: Prometheus;
 *  anything else: plain. */
enum status_format status_format_of(const char *query, size_t len);

/** True when @p ip (host order) is in [http] status_allow. */
bool status_allowed(const struct cfg *cfg, uint32_t ip);

/** A worker's page buffers and scratch values. */
struct status_worker;

/** Allocates one worker's page buffers (sized for src->n cores). NULL and
 *  errno on failure. */
struct status_worker *status_worker_create(const struct status_src *src);
void status_worker_destroy(struct status_worker *sw);

/** http_settings.status_page (arg: the worker's struct status_worker). */
int status_page(void *arg, uint32_t peer_ip, const char *query, size_t query_len,
                struct http_page *page);
/** Gives a page buffer back (struct http_page's slot): on its worker's
 *  thread, once the response is written or its connection is gone. */
void status_page_release(void *slot);

#endif
