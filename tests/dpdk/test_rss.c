/**
 * @file test_rss.c
 * The RSS key dpio gives a port: with it, the Toeplitz hash of an IPv4/TCP
 * 4-tuple (rte_softrss, the NIC's function in software) equals that of the
 * reversed tuple, for the key lengths NICs use; with the usual default key
 * it does not, so the check can tell the difference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_thash.h>

#include "dpio.h"

static uint32_t hash(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport,
                     uint16_t dport)
{
    uint32_t t[3] = {src, dst, (uint32_t)sport << 16 | dport};
    return rte_softrss(t, 3, key);
}

/* xorshift: tuples spread over the whole space, the same on every run */
static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void symmetric_key_hashes_both_directions_alike(void **state)
{
    (void)state;
    static const size_t lens[] = {40, 52};
    uint8_t key[DPIO_RSS_KEY_MAX];
    uint32_t seed = 2463534242u;

    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        dpio_rss_symmetric_key(key, lens[l]);
        for (int i = 0; i < 10000; i++) {
            uint32_t a = next(&seed), b = next(&seed), p = next(&seed);
            uint16_t sp = (uint16_t)p, dp = (uint16_t)(p >> 16);
            assert_int_equal(hash(key, a, b, sp, dp), hash(key, b, a, dp, sp));
        }
    }
}

static void default_key_is_not_symmetric(void **state)
{
    (void)state;
    /* the Microsoft RSS verification key most drivers default to */
    static const uint8_t ms[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
                                   0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
                                   0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
                                   0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
                                   0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
    unsigned differ = 0;
    uint32_t seed = 88172645u;

    for (int i = 0; i < 1000; i++) {
        uint32_t a = next(&seed), b = next(&seed), p = next(&seed);
        uint16_t sp = (uint16_t)p, dp = (uint16_t)(p >> 16);
        differ += hash(ms, a, b, sp, dp) != hash(ms, b, a, dp, sp);
    }
    assert_true(differ > 900);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symmetric_key_hashes_both_directions_alike),
        cmocka_unit_test(default_key_is_not_symmetric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
