/**
 * @file test_pair.c
 * The baton between a stack thread and its worker (ts_pair.c): 20,000 turns
 * there and back, with both threads on one CPU (as in the server, where the
 * woken thread often runs inside the giver's wake) and on two (where a wake
 * can race a thread on its way to sleep). The two threads must never run at
 * once: each checks, and moves on, a counter that only the holder of the
 * turn touches; no wake-up may be lost: a watchdog fails the test when 1,000
 * turns take 10 s. Then the worker leaves and the stack's last turn returns.
 * Both threads' pinning is checked, so that one CPU is one CPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ts_pair.h"
#include "ts_priv.h" /* ts_pair_worker_park, the worker's side */

#define TURNS 20000

struct baton {
    struct ts_ctx *ctx;
    cpu_set_t cpus;
    unsigned long held; /* touched only by the thread holding the turn */
    unsigned long worker_bad;
    bool worker_pinned;
};

static void *worker(void *arg)
{
    struct baton *b = arg;
    b->worker_pinned =
        pthread_setaffinity_np(pthread_self(), sizeof(b->cpus), &b->cpus) == 0;
    ts_pair_worker_begin(b->ctx);
    for (unsigned long i = 0; i < TURNS; i++) {
        if (b->held != 2 * i + 1)
            b->worker_bad++;
        b->held++;
        ts_pair_worker_park(b->ctx, UINT64_MAX);
    }
    b->held++;
    ts_pair_worker_end(b->ctx);
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_pair: the turns stopped (a lost wake-up)\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    _exit(1);
}

static void pass_turns(bool one_cpu)
{
    struct th h;
    th_init(&h, NULL);
    struct baton b = {.ctx = h.ctx};
    CPU_ZERO(&b.cpus);
    if (one_cpu) {
        int cpu = sched_getcpu();
        assert_true(cpu >= 0);
        CPU_SET(cpu, &b.cpus);
    } else {
        for (int c = 0; c < CPU_SETSIZE; c++)
            CPU_SET(c, &b.cpus);
    }
    cpu_set_t old;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(old), &old), 0);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(b.cpus), &b.cpus), 0);

    ts_pair_enable(h.ctx);
    assert_true(ts_pair_worker_due(h.ctx, 0)); /* the worker's first turn */
    signal(SIGALRM, on_alarm);
    /* no assertion from here until the join: a failed one would leave the
     * worker waiting on a frame that is gone */
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &b) != 0)
        fail_msg("cannot start the worker");
    unsigned long stack_bad = 0;
    for (unsigned long i = 0; i <= TURNS; i++) {
        if (i % 1000 == 0)
            alarm(10); /* 1,000 turns take milliseconds; 10 s of none is a hang */
        if (b.held != 2 * i)
            stack_bad++;
        b.held++;
        ts_pair_run_worker(h.ctx);
    }
    pthread_join(t, NULL);
    alarm(0);
    assert_true(b.worker_pinned);
    assert_int_equal(stack_bad, 0);
    assert_int_equal(b.worker_bad, 0);
    assert_int_equal(b.held, 2 * TURNS + 2);
    /* the worker has gone: never due again, no deadline */
    assert_false(ts_pair_worker_due(h.ctx, UINT64_MAX));
    assert_true(ts_pair_worker_deadline(h.ctx) == UINT64_MAX);

    pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
    th_fini(&h);
}

static void test_one_cpu(void **state)
{
    (void)state;
    pass_turns(true);
}

static void test_any_cpu(void **state)
{
    (void)state;
    pass_turns(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_cpu),
        cmocka_unit_test(test_any_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
