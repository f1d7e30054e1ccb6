/**
 * @file core.h
 * The pairs of threads, one per configured core: builds each core's stack
 * context on its port queue, runs the stack thread loop (rx burst, protocol
 * work, timers, tx flush, then the worker's turn, idle sleep on the rx
 * interrupt) and starts the HTTP worker pinned to the same CPU.
 */
#ifndef CORE_H
#define CORE_H

#include <stdio.h>

#include "cache.h"
#include "config.h"
#include "dpio.h"
#include "log.h"
#include "site.h"

struct cores;

/** The copy ring every connection of a core gets ([tls] sndbuf_copied while
 *  TLS is on, never less than the stack's default @p stack_default). */
uint32_t cores_snd_copybuf(const struct cfg *cfg, uint32_t stack_default);

/** Creates every core's context and worker; nothing runs yet. */
struct tls_tickets;
struct rte_mempool;
/** @p tickets: the TLS ticket keys ([tls]), or NULL without TLS;
 *  @p tls_records: each core's TLS record buffers (NULL entries: none). */
struct cores *cores_create(const struct cfg *cfg, struct dpio_port *port,
                           struct site_live *live, struct logger *logger,
                           struct tls_tickets *tickets, struct rte_mempool **tls_records,
                           char *err, size_t errlen);
/** Runs every pair until cores_stop(); the calling thread (the EAL main
 *  lcore) is the first core's stack thread. @p on_ready runs once, on that
 *  thread, when the first worker listens. Returns 0, or -1 when a worker
 *  failed to start (its reason in err). */
int cores_run(struct cores *cs, void (*on_ready)(void), char *err, size_t errlen);
/** Async-signal-safe: asks every pair to stop. */
void cores_stop(void);
/** Graceful stop (any thread): the workers stop accepting and close their
 *  connections once the responses under way are queued; each core stops
 *  when its connections are gone and their data acknowledged, or after
 *  @p timeout_ms. cores_run() then returns. */
void cores_drain(struct cores *cs, unsigned timeout_ms);
/** Each worker's loop counter (see struct worker's epoch), for a grace
 *  period; returns the number of cores written. */
size_t cores_worker_epochs(const struct cores *cs, uint64_t *out, size_t max);
/** Writes the stack and worker counters of every core. */
void cores_report(const struct cores *cs, FILE *out);
void cores_destroy(struct cores *cs);

#endif
