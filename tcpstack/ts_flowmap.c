/**
 * @file ts_flowmap.c
 * Which context holds which flow, approximately (see ts.h): a counting
 * filter per context, written by that context's stack thread only and read
 * by the others. A counter is 16 bits, aligned, and written with one relaxed
 * atomic store by its single writer, so a reader on another core sees either
 * the old or the new value, never a torn one; a reader racing with a flow's
 * birth or death may miss it or see it a moment longer, which only blurs a
 * counter that is meant to stay at 0.
 *
 * Cost: two counter updates when a flow is hashed or unhashed, and two
 * reads per other context on a segment that found no flow and is not a SYN
 * (rare: after a flow is gone, or a steering fault).
 */
#include <errno.h>
#include <stdlib.h>

#include "ts_priv.h"

#define FLOWMAP_BITS 16
#define FLOWMAP_SLOTS (1u << FLOWMAP_BITS)

struct ts_flowmap {
    unsigned n;
    uint64_t seed;
    uint16_t *cnt; /* n rows of FLOWMAP_SLOTS counters */
};

struct ts_flowmap *ts_flowmap_create(unsigned n_contexts, uint64_t seed)
{
    if (n_contexts == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct ts_flowmap *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->n = n_contexts;
    m->seed = seed;
    /* calloc: rows of idle cores cost no memory until touched */
    m->cnt = calloc((size_t)n_contexts * FLOWMAP_SLOTS, sizeof(*m->cnt));
    if (m->cnt == NULL) {
        free(m);
        errno = ENOMEM;
        return NULL;
    }
    return m;
}

void ts_flowmap_destroy(struct ts_flowmap *m)
{
    if (m == NULL)
        return;
    free(m->cnt);
    free(m);
}

static uint64_t flowmap_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* The two slots of a 4-tuple: the two halves of one 64-bit hash. */
static void flowmap_slots(const struct ts_flowmap *m, uint32_t laddr, uint32_t raddr,
                          uint16_t rport, uint16_t lport, uint32_t slot[2])
{
    uint64_t h = flowmap_mix(((uint64_t)laddr << 32 | raddr) ^ m->seed);
    h = flowmap_mix(h ^ ((uint64_t)rport << 16 | lport));
    slot[0] = (uint32_t)h & (FLOWMAP_SLOTS - 1);
    slot[1] = (uint32_t)(h >> 32) & (FLOWMAP_SLOTS - 1);
}

void ts_flowmap_update(struct ts_flowmap *m, unsigned ctx_id, const struct ts_sock *s,
                       bool add)
{
    if (ctx_id >= m->n)
        return;
    uint32_t slot[2];
    flowmap_slots(m, s->laddr, s->raddr, s->rport, s->lport, slot);
    uint16_t *row = m->cnt + (size_t)ctx_id * FLOWMAP_SLOTS;
    for (int i = 0; i < 2; i++) {
        uint16_t v = row[slot[i]];
        if (v == UINT16_MAX)
            continue; /* saturated: stays set */
        if (!add && v == 0)
            continue;
        __atomic_store_n(&row[slot[i]], (uint16_t)(add ? v + 1 : v - 1),
                         __ATOMIC_RELAXED);
    }
}

bool ts_flowmap_elsewhere(const struct ts_flowmap *m, unsigned ctx_id, uint32_t laddr,
                          uint32_t raddr, uint16_t rport, uint16_t lport)
{
    uint32_t slot[2];
    flowmap_slots(m, laddr, raddr, rport, lport, slot);
    for (unsigned c = 0; c < m->n; c++) {
        if (c == ctx_id)
            continue;
        const uint16_t *row = m->cnt + (size_t)c * FLOWMAP_SLOTS;
        if (__atomic_load_n(&row[slot[0]], __ATOMIC_RELAXED) != 0 &&
            __atomic_load_n(&row[slot[1]], __ATOMIC_RELAXED) != 0)
            return true;
    }
    return false;
}
