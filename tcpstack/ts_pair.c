/**
 * @file ts_pair.c
 * The baton between a stack thread and its worker (see ts_pair.h). State is
 * one word, `turn`: the thread whose value it holds runs, the other waits on
 * the futex. Every shared ring is published before the turn changes hands,
 * and the turn's store and load order them, so each side sees the other's
 * writes.
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

/* Waits until the turn is @p me's (or the worker has gone). A waiter marks
 * itself asleep before it looks at the turn a last time, and a thread that
 * gives the turn looks at the mark after it has stored the turn (both
 * sequentially consistent): either the giver sees the mark and wakes, or the
 * waiter sees the new turn and does not sleep. */
static void wait_turn(struct ts_ctx *ctx, uint32_t me)
{
    for (;;) {
        uint32_t t = atomic_load_explicit(&ctx->turn, memory_order_acquire);
        if (t == me || t == TURN_GONE)
            return;
        atomic_store_explicit(&ctx->asleep[me], 1, memory_order_seq_cst);
        if (atomic_load_explicit(&ctx->turn, memory_order_seq_cst) == t)
            futex_wait(&ctx->turn, t);
        atomic_store_explicit(&ctx->asleep[me], 0, memory_order_relaxed);
    }
}

/* Gives the turn to @p to (or TURN_GONE), waking it only if it may sleep in
 * the kernel. On one core the thread woken often runs at once, inside the
 * giver's wake; when it hands the turn back the giver is runnable, not
 * asleep, and that second wake, a system call for nothing, is skipped. */
static void give_turn(struct ts_ctx *ctx, uint32_t to)
{
    atomic_store_explicit(&ctx->turn, to, memory_order_seq_cst);
    if (to == TURN_GONE || atomic_load_explicit(&ctx->asleep[to], memory_order_seq_cst))
        futex_wake(&ctx->turn);
}

/* Gives the turn to @p to and waits until it comes back to @p me. */
static void hand_over(struct ts_ctx *ctx, uint32_t me, uint32_t to)
{
    give_turn(ctx, to);
    wait_turn(ctx, me);
}

void ts_pair_enable(struct ts_ctx *ctx)
{
    ctx->threaded = true;
    atomic_store(&ctx->turn, TURN_STACK);
    atomic_store(&ctx->asleep[TURN_STACK], 0);
    atomic_store(&ctx->asleep[TURN_WORKER], 0);
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
    wait_turn(ctx, TURN_WORKER);
}

void ts_pair_worker_end(struct ts_ctx *ctx)
{
    give_turn(ctx, TURN_GONE);
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
