/**
 * @file worker.h
 * The HTTP worker of one core: it owns the listening socket and the
 * connections of its stack context, reads requests, and answers them from
 * the file cache (response header copied, body sent by reference).
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "site.h"
#include "tls.h"

struct ts_ctx;

struct worker {
    struct ts_ctx *ctx;
    const struct cfg *cfg;
    struct site_live *live; /**< the site a new request is answered from */
    struct log_ring *log;   /**< this core's access-log ring; NULL: none */
    unsigned core;
    /** set by cores_drain(): stop accepting, close idle connections, close
     *  the others once their response is queued */
    atomic_bool drain;
    /** filled by the worker: every connection closed after a drain */
    atomic_bool drained;
    /** incremented by the worker each loop turn, outside any look at the
     *  live site: the control thread's grace period before freeing one */
    atomic_uint_fast64_t epoch;
    /** the status page (status.h), set by core.c; status_page NULL: none.
     *  Every connection's settings get these (a site knows only the path). */
    int (*status_page)(void *arg, uint32_t peer_ip, const char *query, size_t query_len,
                       struct http_page *page);
    void *status_arg;
    /** [tls]: the ticket keys the control thread publishes; NULL without
     *  TLS */
    struct tls_tickets *tickets;
    /** [tls] record_buffers of this core (tls.h); NULL: records are copied */
    struct rte_mempool *tls_records;
    /** the stack's send buffer and its copied part (ts_params sndbuf and
     *  snd_copybuf) */
    uint32_t sndbuf, snd_copybuf;
    /* filled by the worker */
    int listen_fd;
    int tls_listen_fd; /* -1 without TLS */
    struct tls_stats tls;
    int error; /* errno of a failed start-up, 0 when serving */
    uint64_t requests;
    uint64_t accepted;
    uint64_t refused;        /* connections closed for lack of a slot */
    uint64_t refused_per_ip; /* closed at once: [http] max_conns_per_ip reached */
    uint64_t slow_shed;      /* closed to make room: the longest waiting for a request */
    uint64_t timeouts;       /* connections closed by the header or keep-alive timeout */
    uint32_t open;           /* connections held */
    uint32_t states_in_use;  /* of them, reading a request or writing a response */
    /* responses written, by status / 100 (1..5) */
    uint64_t status_class[6];
};

/** Thread body (pthread signature): runs until the context stops. */
void *worker_main(void *arg);

#endif
