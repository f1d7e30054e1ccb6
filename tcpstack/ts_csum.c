/**
 * @file ts_csum.c
 * Range sums from prefix sums. With S(x) the sum of base[0, x), the sum of
 * [a, b) is S(b) - S(a) in ones'-complement arithmetic (addition modulo
 * 0xffff, where subtracting v is adding ~v). S(x) is the table's entry for
 * the block holding x plus the bytes of that block before x; blocks start
 * at even offsets, so those bytes keep the region's word alignment. The
 * result counts words from base; a range starting at an odd offset has its
 * bytes swapped to count words from its own start (RFC 1071 2(B)).
 */
#include "ts_csum.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

static inline uint16_t fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

void ts_csum_map_init(struct ts_csum_map *m, const void *base, size_t len,
                      uint16_t *table)
{
    const uint8_t *p = base;
    uint16_t sum = 0;
    size_t n = ts_csum_map_entries(len);
    table[0] = 0;
    for (size_t i = 1; i < n; i++) {
        sum = fold((uint32_t)sum +
                   rte_raw_cksum(p + (i - 1) * TS_CSUM_BLOCK, TS_CSUM_BLOCK));
        table[i] = sum;
    }
    m->base = p;
    m->len = len;
    m->prefix = table;
}

/* The sum of the @p n < TS_CSUM_BLOCK bytes at @p p (an even offset of the
 * region), as rte_raw_cksum() gives it: eight bytes at a time with the
 * carries added back, since 2^16 = 1 modulo 0xffff; the last bytes in a word
 * of their own, zero-padded. A general summing loop spends most of its time
 * getting into and out of its vector loop at these lengths. */
static uint16_t sum_short(const uint8_t *p, size_t n)
{
    uint64_t sum = 0, last = 0;

    for (; n >= sizeof(uint64_t); p += sizeof(uint64_t), n -= sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        sum += v;
        sum += sum < v;
    }
    for (size_t i = 0; i < n; i++)
        last |= (uint64_t)p[i] << (8 * i);
    last = rte_le_to_cpu_64(last);
    sum += last;
    sum += sum < last;
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return fold((uint32_t)sum);
}

/* S(x): the sum of base[0, x). */
static uint16_t prefix_sum(const struct ts_csum_map *m, size_t x)
{
    size_t blk = x / TS_CSUM_BLOCK;
    size_t rest = x % TS_CSUM_BLOCK;
    uint16_t sum = m->prefix[blk];
    if (rest)
        sum = fold((uint32_t)sum + sum_short(m->base + blk * TS_CSUM_BLOCK, rest));
    return sum;
}

uint16_t ts_csum_range(const struct ts_csum_map *m, const void *p, size_t n)
{
    const uint8_t *q = p;
    /* short ranges: summing is as cheap as two lookups */
    uintptr_t base = m ? (uintptr_t)m->base : 0;
    size_t a = (size_t)((uintptr_t)q - base);
    if (m == NULL || n < 2 * TS_CSUM_BLOCK || (uintptr_t)q < base || a > m->len ||
        n > m->len - a)
        return rte_raw_cksum(q, n);
    uint16_t sb = prefix_sum(m, a + n);
    uint16_t sa = prefix_sum(m, a);
    uint16_t sum = fold((uint32_t)sb + (uint16_t)~sa);
    return (a & 1) ? rte_bswap16(sum) : sum;
}
