/**
 * @file dpio_pair.h
 * Runs one tcpstack pair (a stack thread and its worker thread, ts_pair.h)
 * on a dpio queue: fills the port's part of the stack context's parameters,
 * starts the worker pinned to the queue's CPU, and runs the stack thread's
 * loop, which reads like the design: rx burst -> ts_input -> ts_poll
 * (timers, the worker's commands, output, events) -> tx flush -> the
 * worker's turn if it has work -> idle sleep (rx interrupt, or short sleeps
 * on ports without one) until the next timer or frame.
 *
 * Used by corehttpd (server/core.c, one pair per configured core), which
 * brings the worker. The load generator (bench/loadgen.c) takes only
 * dpio_pair_params(): it runs its stack and client in one thread.
 */
#ifndef DPIO_PAIR_H
#define DPIO_PAIR_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "dpio.h"
#include "ts.h"

struct dpio_pair {
    /* set by the caller before dpio_pair_start() */
    struct ts_ctx *ctx;
    struct dpio_queue *q;
    unsigned cpu;                 /**< the worker runs pinned here */
    const char *name;             /**< worker thread name prefix (<= 10 chars) */
    void *(*worker_main)(void *); /**< the worker's body (pthread signature) */
    void *worker_arg;
    /** Runs on the stack thread after each of the worker's turns; may be
     *  NULL. The place to look at what the worker published (readiness,
     *  a start-up error). */
    void (*after_turn)(void *arg);
    void *after_arg;
    /** Once non-zero, the loop stops the pair (ts_ctx_stop) and returns
     *  when the worker has left. Async-signal-safe to set. */
    const _Atomic int *stop; /* set by a signal handler: atomic, not volatile */
    /** Asked each turn of the loop, on the stack thread, when not NULL:
     *  true stops the pair as *stop does (a server that has drained). */
    bool (*stop_when)(void *arg, uint64_t now_us);
    void *stop_arg;
    /** Never idle-sleep: poll the port all the time (a load generator on a
     *  core of its own; the server sleeps when idle). */
    bool busy_poll;
    /* the pair's own */
    pthread_t thread;
    bool started;
};

/** Fills the port's part of @p p: MAC, MTU, the checksum offloads the port
 *  has, the queue's mbuf pool and output function. */
void dpio_pair_params(const struct dpio_port *port, struct dpio_queue *q,
                      struct ts_params *p);

/** Switches the context to two-thread mode and starts the worker, pinned to
 *  pr->cpu. 0, or -1 with the reason in @p err. */
int dpio_pair_start(struct dpio_pair *pr, char *err, size_t errlen);

/** The stack thread's loop (lcore_function_t signature, arg: the pair):
 *  run it on the lcore of the pair's queue. Returns 0 once stopped. */
int dpio_pair_stack_loop(void *arg);

/** Waits for the worker thread to exit (after the loop returned). */
void dpio_pair_join(struct dpio_pair *pr);

#endif
