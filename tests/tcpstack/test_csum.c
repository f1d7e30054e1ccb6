/**
 * @file test_csum.c
 * Precomputed range checksums against rte_raw_cksum() over the same bytes:
 * random regions and ranges (every alignment, both parities, lengths from
 * 0 to the whole region, ranges touching either end), compared modulo
 * 0xffff (the two ones'-complement zeros are one checksum). Also a range
 * outside the region, and a map of an empty region. The sums of values as
 * stored (ts_csum_word32, ts_csum_fold) against rte_raw_cksum() over the
 * stored bytes. Seeded, deterministic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>

#include "ts_csum.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void same_sum(uint16_t got, uint16_t want)
{
    assert_int_equal(got % 0xffff, want % 0xffff);
}

static void test_random_ranges(void **state)
{
    (void)state;
    for (int round = 0; round < 40; round++) {
        size_t len = 1 + rnd() % 20000;
        uint8_t *buf = malloc(len + 1);
        assert_non_null(buf);
        /* an odd base address too: the map counts from base, not memory */
        uint8_t *base = buf + (round & 1);
        for (size_t i = 0; i < len; i++)
            base[i] = (uint8_t)rnd();
        uint16_t *table = malloc(ts_csum_map_entries(len) * sizeof *table);
        assert_non_null(table);
        struct ts_csum_map m;
        ts_csum_map_init(&m, base, len, table);
        for (int k = 0; k < 2000; k++) {
            size_t a = rnd() % (len + 1);
            size_t n = rnd() % (len - a + 1);
            if (k % 10 == 0)
                a = 0; /* from the start */
            if (k % 10 == 1)
                n = len - a; /* to the end */
            same_sum(ts_csum_range(&m, base + a, n), rte_raw_cksum(base + a, n));
        }
        free(table);
        free(buf);
    }
}

static void test_outside_and_empty(void **state)
{
    (void)state;
    uint8_t a[1000], b[1000];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)rnd();
        b[i] = (uint8_t)rnd();
    }
    uint16_t table[ts_csum_map_entries(sizeof a)];
    struct ts_csum_map m;
    ts_csum_map_init(&m, a, sizeof a, table);
    same_sum(ts_csum_range(&m, b, sizeof b), rte_raw_cksum(b, sizeof b));
    same_sum(ts_csum_range(NULL, b + 3, 500), rte_raw_cksum(b + 3, 500));
    /* a range that runs past the end is summed directly, not read from the table */
    same_sum(ts_csum_range(&m, a + 500, 500), rte_raw_cksum(a + 500, 500));

    uint16_t one;
    ts_csum_map_init(&m, a, 0, &one);
    assert_int_equal(one, 0);
    same_sum(ts_csum_range(&m, a, 0), 0);
}

/* A checksum built from the map verifies: the sum of the data and its
 * complemented checksum is a ones'-complement zero. */
static void test_words_as_stored(void **state)
{
    (void)state;
    for (int round = 0; round < 1000; round++) {
        /* a few 32- and 16-bit fields, written by value as a header is */
        uint8_t buf[16];
        uint32_t a = (uint32_t)rnd(), b = (uint32_t)rnd();
        uint16_t c = (uint16_t)rnd(), d = (uint16_t)rnd();
        memcpy(buf, &a, 4);
        memcpy(buf + 4, &c, 2);
        memcpy(buf + 6, &b, 4);
        memcpy(buf + 10, &d, 2);
        uint32_t sum = ts_csum_word32(a) + c + ts_csum_word32(b) + d;
        same_sum(ts_csum_fold(sum), rte_raw_cksum(buf, 12));
    }
    /* the fold of a large sum: many carries */
    same_sum(ts_csum_fold(0xffffffffu), rte_raw_cksum("\xff\xff\xff\xff", 4));
    assert_int_equal(ts_csum_fold(0x1fffeu), 0xffff);
}

static void test_checksum_verifies(void **state)
{
    (void)state;
    uint8_t data[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)rnd();
    uint16_t table[ts_csum_map_entries(sizeof data)];
    struct ts_csum_map m;
    ts_csum_map_init(&m, data, sizeof data, table);
    for (size_t a = 0; a < 200; a += 7) {
        uint8_t seg[1500];
        size_t n = 1448;
        memcpy(seg, data + a, n);
        uint16_t ck = (uint16_t)~ts_csum_range(&m, data + a, n);
        seg[n] = 0;
        /* the checksum word appended at an even offset */
        memcpy(seg + n, &ck, 2);
        uint16_t total = rte_raw_cksum(seg, n + 2);
        assert_int_equal(total % 0xffff, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_ranges),
        cmocka_unit_test(test_outside_and_empty),
        cmocka_unit_test(test_checksum_verifies),
        cmocka_unit_test(test_words_as_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
