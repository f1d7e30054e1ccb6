/**
 * @file test_wheel.c
 * The timer wheel against a model: thousands of timers armed, re-armed and
 * cancelled at random distances (a millisecond to beyond the wheel's reach)
 * while a virtual clock advances in random steps, small and large. Every
 * timer must fire exactly once per arming, in the first run at or after its
 * expiry tick, never before; a cancelled one never; and the wheel's next
 * deadline must never lie after the earliest armed expiry, nor in the past,
 * and be earlier only at a slot boundary (to move timers down).
 * Seeded and deterministic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ts_wheel.h"

#define N 3000

struct item {
    struct ts_timer t;
    uint64_t want_tick; /* 0: not armed in the model */
    unsigned fired;
};

struct run {
    struct ts_wheel w;
    struct item items[N];
    uint64_t now;
    uint64_t rng;
    unsigned fires;
};

static uint64_t rnd(struct run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

static uint64_t tick_of(uint64_t us)
{
    return (us + TS_TICK_US - 1) / TS_TICK_US;
}

/* A distance in microseconds: mostly short, some long, some beyond the
 * wheel's reach (28 min: up to 2 h, and 4.7 to 10 h). */
static uint64_t distance(struct run *r)
{
    switch (rnd(r) % 8) {
    case 0:
    case 1:
    case 2:
        return rnd(r) % 100000;
    case 3:
    case 4:
        return rnd(r) % 10000000;
    case 5:
        return rnd(r) % 600000000;
    case 6:
        return rnd(r) % 7200000000ull;
    default:
        return 17000000000ull + rnd(r) % 20000000000ull;
    }
}

static void arm(struct run *r, struct item *it)
{
    uint64_t exp = r->now + distance(r);
    ts_wheel_arm(&r->w, &it->t, exp, r->now);
    it->want_tick = tick_of(exp);
    /* due already: the next tick runs it */
    if (it->want_tick <= r->now / TS_TICK_US)
        it->want_tick = r->now / TS_TICK_US + 1;
}

static void on_fire(void *arg, struct ts_timer *t)
{
    struct run *r = arg;
    struct item *it = (struct item *)((char *)t - offsetof(struct item, t));
    uint64_t tick = r->now / TS_TICK_US;
    if (it->want_tick == 0)
        fail_msg("timer %td fired while not armed", it - r->items);
    if (it->want_tick > tick)
        fail_msg("timer %td fired at tick %lu, before its tick %lu", it - r->items,
                 (unsigned long)tick, (unsigned long)it->want_tick);
    it->want_tick = 0;
    it->fired++;
    r->fires++;
    /* a third re-arm themselves from the callback */
    if (rnd(r) % 3 == 0)
        arm(r, it);
}

static void check(struct run *r)
{
    uint64_t tick = r->now / TS_TICK_US;
    uint64_t earliest = UINT64_MAX;
    unsigned armed = 0;
    for (unsigned i = 0; i < N; i++) {
        struct item *it = &r->items[i];
        assert_int_equal(ts_timer_armed(&it->t), it->want_tick != 0);
        if (it->want_tick == 0)
            continue;
        armed++;
        if (it->want_tick <= tick)
            fail_msg("timer %u due at tick %lu still armed at tick %lu", i,
                     (unsigned long)it->want_tick, (unsigned long)tick);
        if (it->want_tick * TS_TICK_US < earliest)
            earliest = it->want_tick * TS_TICK_US;
    }
    assert_int_equal(r->w.armed, armed);
    uint64_t next = ts_wheel_next(&r->w);
    if (armed == 0) {
        assert_true(next == UINT64_MAX);
        return;
    }
    if (next > earliest)
        fail_msg("next deadline %lu after the earliest expiry %lu", (unsigned long)next,
                 (unsigned long)earliest);
    assert_true(next > tick * TS_TICK_US);
    /* earlier only to move an upper slot down, at a slot boundary */
    if (next != earliest)
        assert_int_equal((next / TS_TICK_US) % TS_WHEEL_SLOTS, 0);
}

static void wheel_matches_model(void **state)
{
    (void)state;
    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->rng = 0x9e3779b97f4a7c15ull;
    r->now = 5000000;
    for (unsigned i = 0; i < N; i++)
        if (rnd(r) % 2)
            arm(r, &r->items[i]);
    check(r);
    for (unsigned step = 0; step < 20000; step++) {
        /* change a few timers */
        for (unsigned k = rnd(r) % 8; k > 0; k--) {
            struct item *it = &r->items[rnd(r) % N];
            if (rnd(r) % 4 == 0) {
                ts_wheel_cancel(&r->w, &it->t);
                it->want_tick = 0;
            } else {
                arm(r, it);
            }
        }
        /* advance: mostly a little, sometimes to the next deadline,
         * sometimes far */
        uint64_t adv;
        switch (rnd(r) % 10) {
        case 0:
            adv = rnd(r) % 3600000000ull;
            break;
        case 1:
        case 2: {
            uint64_t next = ts_wheel_next(&r->w);
            adv = next == UINT64_MAX ? 1000 : next - r->now;
            break;
        }
        default:
            adv = rnd(r) % 20000;
        }
        r->now += adv;
        ts_wheel_run(&r->w, r->now, on_fire, r);
        check(r);
    }
    assert_true(r->fires > 10000);
    /* everything left fires by the end of time */
    r->now += 40000000000ull;
    ts_wheel_run(&r->w, r->now, on_fire, r);
    for (unsigned i = 0; i < N; i++)
        if (r->items[i].want_tick)
            ts_wheel_cancel(&r->w, &r->items[i].t);
    assert_int_equal(r->w.armed, 0);
    free(r);
}

/* An idle wheel catches up with the clock in one step, not tick by tick,
 * and a timer armed after a long idle fires on time. */
static void idle_then_arm(void **state)
{
    (void)state;
    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->rng = 42;
    r->now = 1000;
    ts_wheel_run(&r->w, r->now, on_fire, r);
    r->now += 86400ull * 1000000; /* a day later */
    struct item *it = &r->items[0];
    ts_wheel_arm(&r->w, &it->t, r->now + 200000, r->now);
    it->want_tick = tick_of(r->now + 200000);
    assert_true(ts_wheel_next(&r->w) <= r->now + 200000);
    r->now += 199000;
    ts_wheel_run(&r->w, r->now, on_fire, r);
    assert_int_equal(it->fired, 0);
    r->now += 1000;
    ts_wheel_run(&r->w, r->now, on_fire, r);
    assert_int_equal(it->fired, 1);
    free(r);
}

/* A slot emptied by cancels loses its bit at once (the bits name exactly
 * the slots with timers, so the next deadline is found without visiting
 * emptied slots): two timers share a slot; cancelling the head, then the
 * other, clears the bit only with the last; the other slot's stays. */
static void cancel_clears_empty_slots(void **state)
{
    (void)state;
    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->now = 1000;
    ts_wheel_run(&r->w, r->now, on_fire, r);
    struct ts_timer *a = &r->items[0].t, *b = &r->items[1].t, *c = &r->items[2].t;
    ts_wheel_arm(&r->w, a, r->now + 5 * TS_TICK_US, r->now);
    ts_wheel_arm(&r->w, b, r->now + 5 * TS_TICK_US, r->now);
    ts_wheel_arm(&r->w, c, r->now + 9 * TS_TICK_US, r->now);
    assert_int_equal(__builtin_popcountll(r->w.bits[0]), 2);
    ts_wheel_cancel(&r->w, b); /* the slot's head (armed last) */
    assert_int_equal(__builtin_popcountll(r->w.bits[0]), 2);
    ts_wheel_cancel(&r->w, a);
    assert_int_equal(__builtin_popcountll(r->w.bits[0]), 1);
    assert_int_equal(ts_wheel_next(&r->w), r->now + 9 * TS_TICK_US);
    ts_wheel_cancel(&r->w, c);
    assert_int_equal(r->w.bits[0], 0);
    assert_int_equal(ts_wheel_next(&r->w), UINT64_MAX);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wheel_matches_model),
        cmocka_unit_test(idle_then_arm),
        cmocka_unit_test(cancel_clears_empty_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
