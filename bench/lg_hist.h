/**
 * @file lg_hist.h
 * Latency histogram of the load generator, in the spirit of HdrHistogram:
 * log-linear buckets (every power of two split into 64 linear steps, so a
 * recorded value is kept to within 1/64, about 1.6%), exact below 128 us,
 * up to 2^40 us. Fixed memory (one array of counters, no allocation after
 * lg_hist_init), recording is a few instructions: fit for every request.
 * Values are microseconds.
 */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define LG_HIST_SUB_BITS 6 /* 64 linear steps per power of two */
#define LG_HIST_MAX_BITS 40
#define LG_HIST_BUCKETS                                                                  \
    ((1u << (LG_HIST_SUB_BITS + 1)) +                                                    \
     (LG_HIST_MAX_BITS - LG_HIST_SUB_BITS - 1) * (1u << LG_HIST_SUB_BITS))

struct lg_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t n[LG_HIST_BUCKETS];
};

void lg_hist_init(struct lg_hist *h);
void lg_hist_record(struct lg_hist *h, uint64_t v);
/** Adds every count of @p src to @p dst. */
void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src);
/** The value at percentile @p p (0..100): the highest value equivalent to
 *  the bucket that holds it, never above the largest value recorded; 0 when
 *  empty. */
uint64_t lg_hist_percentile(const struct lg_hist *h, double p);
/** The bucket index of @p v and the range of values it holds (for tests). */
uint32_t lg_hist_index(uint64_t v);
uint64_t lg_hist_lowest(uint32_t idx);
uint64_t lg_hist_highest(uint32_t idx);

#endif
