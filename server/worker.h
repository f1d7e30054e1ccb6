/**
 * @file worker.h
 * The HTTP worker of one core: it owns the listening socket and the
 * connections of its stack context, reads requests, and answers them from
 * the file cache (response header copied, body sent by reference).
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "http.h"

struct ts_ctx;

struct worker {
    struct ts_ctx *ctx;
    const struct cfg *cfg;
    struct http_settings http;
    unsigned core;
    /* filled by the worker */
    int listen_fd;
    int error; /* errno of a failed start-up, 0 when serving */
    uint64_t requests;
    uint64_t accepted;
    uint64_t refused;  /* connections closed for lack of a slot */
    uint64_t timeouts; /* connections closed by the header or keep-alive timeout */
};

/** Thread body (pthread signature): runs until the context stops. */
void *worker_main(void *arg);

#endif
