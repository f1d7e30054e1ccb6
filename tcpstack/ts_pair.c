/**
 * @file ts_pair.c
 * The baton between a stack thread and its worker (see ts_pair.h). State is
 * one word, `turn`: the thread whose value it holds runs, the other waits on
 * the futex. Every shared ring is published before the turn changes hands,
 * and the futex is a full barrier, so each side sees the other's writes.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ts_pair.h"
#include "ts_priv.h"

#define TURN_STACK 0u
#define TURN_WORKER 1u
#define TURN_GONE 2u /* the worker has left; the stack runs alone */

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Gives the turn to @p to and waits until it comes back to @p me. */
static void hand_over(struct ts_ctx *ctx, uint32_t me, uint32_t to)
{
    atomic_store_explicit(&ctx->turn, to, memory_order_seq_cst);
    futex_wake(&ctx->turn);
    for (;;) {
        uint32_t t = atomic_load_explicit(&ctx->turn, memory_order_acquire);
        if (t == me || t == TURN_GONE)
            return;
        futex_wait(&ctx->turn, t);
    }
}

void ts_pair_enable(struct ts_ctx *ctx)
{
    ctx->threaded = true;
    atomic_store(&ctx->turn, TURN_STACK);
    atomic_store(&ctx->worker_wake, 1); /* the worker's first turn */
    atomic_store(&ctx->worker_deadline, 0);
}

bool ts_pair_worker_due(struct ts_ctx *ctx, uint64_t now_us)
{
    if (atomic_load_explicit(&ctx->turn, memory_order_acquire) == TURN_GONE)
        return false;
    if (atomic_load_explicit(&ctx->stop, memory_order_relaxed) ||
        atomic_load_explicit(&ctx->worker_wake, memory_order_acquire) ||
        atomic_load_explicit(&ctx->ev_overflow, memory_order_acquire))
        return true;
    if (ts_sring_count(&ctx->evq) != 0)
        return true;
    return now_us >= atomic_load_explicit(&ctx->worker_deadline, memory_order_relaxed);
}

void ts_pair_run_worker(struct ts_ctx *ctx)
{
    atomic_store_explicit(&ctx->worker_wake, 0, memory_order_relaxed);
    hand_over(ctx, TURN_STACK, TURN_WORKER);
}

uint64_t ts_pair_worker_deadline(const struct ts_ctx *ctx)
{
    if (atomic_load_explicit(&ctx->turn, memory_order_acquire) == TURN_GONE)
        return UINT64_MAX;
    return atomic_load_explicit(&ctx->worker_deadline, memory_order_relaxed);
}

void ts_pair_worker_begin(struct ts_ctx *ctx)
{
    for (;;) {
        uint32_t t = atomic_load_explicit(&ctx->turn, memory_order_acquire);
        if (t == TURN_WORKER)
            return;
        futex_wait(&ctx->turn, t);
    }
}

void ts_pair_worker_end(struct ts_ctx *ctx)
{
    atomic_store_explicit(&ctx->turn, TURN_GONE, memory_order_seq_cst);
    futex_wake(&ctx->turn);
}

void ts_pair_worker_park(struct ts_ctx *ctx, uint64_t deadline_us)
{
    atomic_store_explicit(&ctx->worker_deadline, deadline_us, memory_order_relaxed);
    hand_over(ctx, TURN_WORKER, TURN_STACK);
}

void ts_pair_sync_wait(struct ts_ctx *ctx, _Atomic int *done)
{
    while (!atomic_load_explicit(done, memory_order_acquire)) {
        if (!ctx->threaded) {
            ts_cmds_run(ctx);
            continue;
        }
        ts_pair_worker_park(ctx, UINT64_MAX);
    }
}

void ts_ctx_stop(struct ts_ctx *ctx)
{
    atomic_store_explicit(&ctx->stop, 1, memory_order_release);
}

bool ts_ctx_stopping(const struct ts_ctx *ctx)
{
    return atomic_load_explicit(&ctx->stop, memory_order_acquire) != 0;
}
