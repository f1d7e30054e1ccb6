/**
 * @file lg_hist.c
 * The log-linear histogram of lg_hist.h. Index layout: values below 2^7
 * have one bucket each (0..127); above, a value whose highest set bit is b
 * (b >= 7) falls in group b - 7, whose 64 buckets split [2^b, 2^(b+1)) into
 * steps of 2^(b-6).
 */
#include <string.h>

#include "lg_hist.h"

#define LINEAR (1u << (LG_HIST_SUB_BITS + 1)) /* 128 exact buckets */
#define STEPS (1u << LG_HIST_SUB_BITS)        /* 64 buckets per group */

void lg_hist_init(struct lg_hist *h)
{
    memset(h, 0, sizeof(*h));
}

uint32_t lg_hist_index(uint64_t v)
{
    if (v < LINEAR)
        return (uint32_t)v;
    uint32_t b = 63u - (uint32_t)__builtin_clzll(v);
    if (b >= LG_HIST_MAX_BITS)
        return LG_HIST_BUCKETS - 1;
    uint32_t shift = b - LG_HIST_SUB_BITS;
    uint32_t step = (uint32_t)(v >> shift) - STEPS; /* 0..63 */
    return LINEAR + (b - (LG_HIST_SUB_BITS + 1)) * STEPS + step;
}

uint64_t lg_hist_lowest(uint32_t idx)
{
    if (idx < LINEAR)
        return idx;
    uint32_t g = (idx - LINEAR) / STEPS, step = (idx - LINEAR) % STEPS;
    uint32_t b = g + LG_HIST_SUB_BITS + 1;
    return (uint64_t)(STEPS + step) << (b - LG_HIST_SUB_BITS);
}

uint64_t lg_hist_highest(uint32_t idx)
{
    if (idx < LINEAR)
        return idx;
    uint32_t g = (idx - LINEAR) / STEPS;
    uint32_t b = g + LG_HIST_SUB_BITS + 1;
    return lg_hist_lowest(idx) + ((uint64_t)1 << (b - LG_HIST_SUB_BITS)) - 1;
}

void lg_hist_record(struct lg_hist *h, uint64_t v)
{
    h->n[lg_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src)
{
    for (uint32_t i = 0; i < LG_HIST_BUCKETS; i++)
        dst->n[i] += src->n[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t lg_hist_percentile(const struct lg_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p > 100)
        p = 100;
    /* the rank of the value asked for: at least the first one */
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= rank) {
            uint64_t v = lg_hist_highest(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}
