/**
 * @file ts_wheel.h
 * A hierarchical timer wheel of 100 us ticks: four levels of 64 slots,
 * each level's slots 64 times wider than the one below (6.4 ms, 410 ms,
 * 26 s, 28 min of reach; a timer further out waits in the top level and is
 * placed again from there). The tick is what a LAN's round trips need: at
 * 20-50 us, a 1 ms tick held every probe and RACK timer up to 40 round
 * trips past its expiry. Arming, cancelling and finding the next deadline are
 * O(1): a timer is linked into one slot, and a bitmap per level says which
 * slots may hold timers; nothing ever walks the armed timers. Running the
 * wheel visits only the ticks that have timers due or that open a slot of
 * an upper level, whose timers then move down (at most three moves in a
 * timer's life). A timer fires at the first tick at or after its expiry.
 *
 * Times are absolute microseconds of the caller's clock. Intrusive: the
 * caller owns the struct ts_timer (inside its own objects) and finds its
 * object from the timer in the fire callback. Single-threaded.
 */
#ifndef TS_WHEEL_H
#define TS_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TS_TICK_US 100u /* a timer fires at most this late */
#define TS_WHEEL_LEVELS 4u
#define TS_WHEEL_BITS 6u /* 64 slots a level */
#define TS_WHEEL_SLOTS (1u << TS_WHEEL_BITS)

struct ts_timer {
    struct ts_timer *next;
    struct ts_timer **pprev; /* NULL when not armed */
    uint64_t expire_us;
};

struct ts_wheel {
    struct ts_timer *slots[TS_WHEEL_LEVELS][TS_WHEEL_SLOTS];
    uint64_t bits[TS_WHEEL_LEVELS]; /* the slots that hold timers */
    uint64_t tick;                  /* the last tick run */
    uint32_t armed;
};

typedef void (*ts_timer_fn)(void *arg, struct ts_timer *t);

/** Arms (or re-arms) @p t to fire at @p expire_us. @p now_us is the
 *  caller's clock, which an empty wheel catches up to first. */
void ts_wheel_arm(struct ts_wheel *w, struct ts_timer *t, uint64_t expire_us,
                  uint64_t now_us);
void ts_wheel_cancel(struct ts_wheel *w, struct ts_timer *t);
static inline bool ts_timer_armed(const struct ts_timer *t)
{
    return t->pprev != NULL;
}
/** Fires, in order of their ticks, every timer due by @p now_us. The
 *  callback may arm and cancel timers, including the one it was given. */
void ts_wheel_run(struct ts_wheel *w, uint64_t now_us, ts_timer_fn fire, void *arg);
/** When the wheel next needs to run (a timer's tick, or an upper slot to
 *  move down), in microseconds; UINT64_MAX when nothing is armed. */
uint64_t ts_wheel_next(const struct ts_wheel *w);

#endif
