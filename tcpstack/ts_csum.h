/**
 * @file ts_csum.h
 * Precomputed Internet checksums (RFC 1071) of a read-only region, such as
 * a cached file: the ones'-complement sum of every prefix that ends on a
 * TS_CSUM_BLOCK boundary. The sum of any range is then two table lookups
 * plus at most 2 x (TS_CSUM_BLOCK - 1) bytes summed, instead of every byte:
 * what a port without checksum offload saves on each segment it sends by
 * reference. The table costs 2 bytes per block (3% of the region).
 *
 * Sums are 16-bit ones'-complement values as rte_raw_cksum() returns them
 * (host byte order). Ones'-complement arithmetic has two zeros (0 and
 * 0xffff); sums here may differ from rte_raw_cksum() only in which zero
 * they use, which a checksum does not see. Pure: no state besides the map.
 */
#ifndef TS_CSUM_H
#define TS_CSUM_H

#include <stddef.h>
#include <stdint.h>

#define TS_CSUM_BLOCK 64u

struct ts_csum_map {
    const uint8_t *base;
    size_t len;
    const uint16_t *prefix; /**< prefix[i]: sum of base[0, i * TS_CSUM_BLOCK) */
};

/** The sum of the two 16-bit words of @p v as it is stored in memory (in
 *  either byte order), in rte_raw_cksum()'s terms: a header's checksum is
 *  then made from the values written, not read back from the frame. Read
 *  back, it waited for the header's stores to reach the cache, which on a
 *  line a device had just read in place (zero copy) means fetching it back
 *  first: about a fifth of the stack thread's time at 1 MB responses over
 *  net_memif. */
static inline uint32_t ts_csum_word32(uint32_t v)
{
    return (v >> 16) + (v & 0xffff);
}

/** @p sum (of 16-bit words) folded to 16 bits, ones'-complement. */
static inline uint16_t ts_csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/** Entries of the table for a region of @p len bytes. */
static inline size_t ts_csum_map_entries(size_t len)
{
    return len / TS_CSUM_BLOCK + 1;
}

/** Fills @p table (ts_csum_map_entries(len) entries) with the prefix sums of
 *  @p base[0, len) and points @p m at both. One pass over the bytes. */
void ts_csum_map_init(struct ts_csum_map *m, const void *base, size_t len,
                      uint16_t *table);

/** The sum of @p n bytes at @p p, as rte_raw_cksum(p, n) would give it (p
 *  taken to start a 16-bit word). Bytes outside @p m (or m NULL) are summed
 *  directly. */
uint16_t ts_csum_range(const struct ts_csum_map *m, const void *p, size_t n);

#endif
