/**
 * @file ts_pair.h
 * The pair of threads that share one core: the stack thread and its worker
 * pass the core like a baton. The stack thread runs a batch (rx, protocol
 * work, timers, tx), publishes events and, when the worker has something to
 * do, hands it the core and sleeps until the worker's epoll_wait finds
 * nothing and hands it back. Neither thread spins while the other has work.
 * The hand-over is a futex: the thread that gives the turn wakes the other
 * only if it may be asleep in the kernel, so a batch (the turn there and
 * back) costs two context switches and two futex calls (four when the woken
 * thread does not run at once), never any per packet.
 */
#ifndef TS_PAIR_H
#define TS_PAIR_H

#include <stdbool.h>
#include <stdint.h>

struct ts_ctx;

/** Switches the context to two-thread mode. Call before either thread runs. */
void ts_pair_enable(struct ts_ctx *ctx);

/* Stack thread. */
/** True when the worker has events to handle, a finished call to collect,
 *  a timeout that expired, or the context is stopping. */
bool ts_pair_worker_due(struct ts_ctx *ctx, uint64_t now_us);
/** Hands the core to the worker; returns once the worker hands it back (or
 *  has exited). */
void ts_pair_run_worker(struct ts_ctx *ctx);
/** When the parked worker wants to run again without an event
 *  (its epoll_wait timeout), UINT64_MAX when never. */
uint64_t ts_pair_worker_deadline(const struct ts_ctx *ctx);

/* Worker thread. */
/** Waits for the first turn. */
void ts_pair_worker_begin(struct ts_ctx *ctx);
/** Hands the core back for good (the worker is leaving). */
void ts_pair_worker_end(struct ts_ctx *ctx);

/* Either thread. */
/** Asks the pair to stop: the worker's epoll_wait returns 0 from now on. */
void ts_ctx_stop(struct ts_ctx *ctx);
bool ts_ctx_stopping(const struct ts_ctx *ctx);

#endif
