/**
 * @file test_sack.c
 * The SACK scoreboard (tcp_sack.h): merging RFC 2018 blocks, forgetting
 * what snd_una passes, bogus blocks, a full scoreboard, coverage of a
 * span, sequence
 * wraparound, and the RFC 6675 routines IsLost, SetPipe and NextSeg
 * (rules 1 to 4) with the HighRxt/RescueRxt bookkeeping.
 *
 * Pure functions: no EAL, no harness. Expected values are worked out in the
 * comments from RFC 6675's definitions, in its terms: HighACK is the highest
 * cumulatively acknowledged octet (snd_una - 1), HighData the highest octet
 * sent (snd_max - 1), HighRxt the highest retransmitted octet, DupThresh 3.
 * IsLost(S): DupThresh discontiguous SACKed ranges above S, or more than
 * (DupThresh - 1) * SMSS SACKed octets above S. SetPipe: for each unSACKed
 * octet S1 from HighACK + 1 to HighData, (a) +1 if not IsLost(S1), (b) +1
 * if S1 <= HighRxt.
 *
 * The recovery scenarios use ten 1000-byte segments S1..S10 with
 * Sk = [B + 1000(k-1), B + 1000k), SMSS 1000, and run twice: at B = 1000 and
 * at B = WRAP, where the flight straddles 2^32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tcp_sack.h"

#define MSS 1000u
#define WRAP 0xFFFFEE6Cu /* 2^32 - 4500: S5 = [2^32 - 500, 500) */

/* Start of segment k (1-based) of the ten-segment flight at base b. */
#define SEG(b, k) ((uint32_t)((b) + 1000u * ((k)-1u)))

#define BLOCKS(...) ((const struct tcp_sack_block[]){__VA_ARGS__})
#define NBLOCKS(...) (sizeof(BLOCKS(__VA_ARGS__)) / sizeof(struct tcp_sack_block))
/* tcp_sb_update with the blocks of one ACK written inline. */
#define SACK(sb, una, max, ...)                                                          \
    tcp_sb_update((sb), (una), (max), BLOCKS(__VA_ARGS__), NBLOCKS(__VA_ARGS__))
/* The scoreboard holds exactly these ranges, in this order. */
#define EXPECT_RANGES(sb, ...)                                                           \
    expect_ranges((sb), BLOCKS(__VA_ARGS__), NBLOCKS(__VA_ARGS__))

/* Runs a test taking a base once low in sequence space, once across 2^32. */
#define AT_BOTH_BASES(fn)                                                                \
    static void fn##_low(void **state)                                                   \
    {                                                                                    \
        (void)state;                                                                     \
        fn(1000u);                                                                       \
    }                                                                                    \
    static void fn##_wrap(void **state)                                                  \
    {                                                                                    \
        (void)state;                                                                     \
        fn(WRAP);                                                                        \
    }

static void expect_ranges(const struct tcp_scoreboard *sb,
                          const struct tcp_sack_block *want, unsigned n)
{
    assert_int_equal(sb->n, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(sb->blk[i].start, want[i].start);
        assert_int_equal(sb->blk[i].end, want[i].end);
    }
}

/* NextSeg must answer exactly [seq, seq + len). */
static void expect_next(struct tcp_scoreboard *sb, uint32_t una, uint32_t nxt,
                        uint32_t data_end, uint32_t seq, uint32_t len)
{
    uint32_t s = 0, l = 0;
    assert_true(tcp_sb_next_seg(sb, una, nxt, data_end, MSS, &s, &l));
    assert_int_equal(s, seq);
    assert_int_equal(l, len);
}

static void expect_nothing_next(struct tcp_scoreboard *sb, uint32_t una, uint32_t nxt,
                                uint32_t data_end)
{
    uint32_t s = 0, l = 0;
    assert_false(tcp_sb_next_seg(sb, una, nxt, data_end, MSS, &s, &l));
}

/* ------------------------------------------------------------ the ranges */

static void merges_overlapping_and_adjacent(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b + 1000, max = b + 11000;

    /* two adjacent blocks in one ACK become one range of 2000 new octets */
    assert_int_equal(SACK(&sb, una, max, {b + 3000, b + 4000}, {b + 4000, b + 5000}),
                     2000);
    EXPECT_RANGES(&sb, {b + 3000, b + 5000});
    /* overlapping on the right: only [b+5000, b+6000) is new */
    assert_int_equal(SACK(&sb, una, max, {b + 4500, b + 6000}), 1000);
    EXPECT_RANGES(&sb, {b + 3000, b + 6000});
    /* overlapping on the left: [b+2000, b+3000) is new */
    assert_int_equal(SACK(&sb, una, max, {b + 2000, b + 3500}), 1000);
    EXPECT_RANGES(&sb, {b + 2000, b + 6000});
    /* contained: nothing new (no new SACK information, RFC 6675 2) */
    assert_int_equal(SACK(&sb, una, max, {b + 2500, b + 5500}), 0);
    EXPECT_RANGES(&sb, {b + 2000, b + 6000});
    /* one octet touching the end merges too */
    assert_int_equal(SACK(&sb, una, max, {b + 6000, b + 6001}), 1);
    EXPECT_RANGES(&sb, {b + 2000, b + 6001});
    assert_true(tcp_sb_is_sacked(&sb, b + 2000));
    assert_true(tcp_sb_is_sacked(&sb, b + 6000));
    assert_false(tcp_sb_is_sacked(&sb, b + 1999));
    assert_false(tcp_sb_is_sacked(&sb, b + 6001));
    assert_int_equal(tcp_sb_high_sacked(&sb, una), b + 6001);
}
AT_BOTH_BASES(merges_overlapping_and_adjacent)

static void sorts_blocks_arriving_out_of_order(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b, max = b + 10000;

    /* the receiver lists the most recent block first (RFC 2018 4) */
    assert_int_equal(SACK(&sb, una, max, {b + 7000, b + 8000}, {b + 5000, b + 6000},
                          {b + 3000, b + 4000}),
                     3000);
    EXPECT_RANGES(&sb, {b + 3000, b + 4000}, {b + 5000, b + 6000}, {b + 7000, b + 8000});
    /* the two holes fill: everything joins, 2000 new octets */
    assert_int_equal(SACK(&sb, una, max, {b + 6000, b + 7000}, {b + 4000, b + 5000}),
                     2000);
    EXPECT_RANGES(&sb, {b + 3000, b + 8000});
    /* blocks of one ACK overlapping each other: their union [b+8000,
     * b+9500) is 1500 new octets, not 1000 + 1000 */
    assert_int_equal(SACK(&sb, una, max, {b + 8500, b + 9500}, {b + 8000, b + 9000}),
                     1500);
    EXPECT_RANGES(&sb, {b + 3000, b + 9500});
}
AT_BOTH_BASES(sorts_blocks_arriving_out_of_order)

static void forgets_below_rising_snd_una(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t max = b + 10000;

    SACK(&sb, b, max, {b + 2000, b + 3000}, {b + 5000, b + 6000});
    /* snd_una splits the first range: its lower part goes */
    assert_int_equal(tcp_sb_update(&sb, b + 2500, max, NULL, 0), 0);
    EXPECT_RANGES(&sb, {b + 2500, b + 3000}, {b + 5000, b + 6000});
    assert_false(tcp_sb_is_sacked(&sb, b + 2499));
    assert_true(tcp_sb_is_sacked(&sb, b + 2500));
    /* snd_una beyond the first range: it goes whole */
    tcp_sb_update(&sb, b + 5500, max, NULL, 0);
    EXPECT_RANGES(&sb, {b + 5500, b + 6000});
    assert_int_equal(tcp_sb_high_sacked(&sb, b + 5500), b + 6000);
    /* everything acknowledged: nothing SACKed, high_sacked is snd_una */
    tcp_sb_update(&sb, b + 6000, max, NULL, 0);
    assert_int_equal(sb.n, 0);
    assert_int_equal(tcp_sb_high_sacked(&sb, b + 6000), b + 6000);
    /* a block straddling snd_una is malformed (a receiver holding the
     * bytes at snd_una would acknowledge them): none of it is believed */
    assert_int_equal(SACK(&sb, b + 6000, max, {b + 5800, b + 6500}), 0);
    assert_int_equal(sb.n, 0);
}
AT_BOTH_BASES(forgets_below_rising_snd_una)

static void ignores_bogus_blocks(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b + 1000, max = b + 5000;

    assert_int_equal(SACK(&sb, una, max, {b + 3000, b + 2000}), 0); /* inverted */
    assert_int_equal(SACK(&sb, una, max, {b + 3000, b + 3000}), 0); /* empty */
    /* entirely below snd_una: a D-SACK (RFC 2883) or a stale ACK */
    assert_int_equal(SACK(&sb, una, max, {b + 500, b + 1000}), 0);
    /* ends beyond snd_max: bytes never sent, none of it is believed */
    assert_int_equal(SACK(&sb, una, max, {b + 4500, b + 5001}), 0);
    assert_int_equal(SACK(&sb, una, max, {b + 6000, b + 7000}), 0);
    /* 2^31 octets long: no window is that large, it reads as inverted */
    assert_int_equal(SACK(&sb, una, max, {b + 2000, b + 2000 + 0x80000000u}), 0);
    assert_int_equal(sb.n, 0);
    assert_false(tcp_sb_is_sacked(&sb, b + 4500));

    /* the good block of an ACK is taken, the bogus ones beside it are not;
     * a block may end exactly at snd_max */
    assert_int_equal(SACK(&sb, una, max, {b + 3000, b + 2000}, {b + 4000, b + 5000},
                          {b + 4500, b + 5001}),
                     1000);
    EXPECT_RANGES(&sb, {b + 4000, b + 5000});
    /* partly below snd_una: malformed, not taken (a block starting at
     * snd_una is) */
    assert_int_equal(SACK(&sb, una, max, {b + 800, b + 1200}), 0);
    assert_int_equal(SACK(&sb, una, max, {b + 1000, b + 1200}), 200);
    EXPECT_RANGES(&sb, {b + 1000, b + 1200}, {b + 4000, b + 5000});
}
AT_BOTH_BASES(ignores_bogus_blocks)

static void full_scoreboard_keeps_ranges_nearest_snd_una(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b, max = b + 100000;

    /* 32 ranges of 100 octets: [b+1000+200k, b+1100+200k), k = 0..31 */
    for (uint32_t k = 0; k < TCP_SB_MAX; k++) {
        uint32_t s = b + 1000 + 200 * k;
        assert_int_equal(SACK(&sb, una, max, {s, s + 100}), 100);
    }
    assert_int_equal(sb.n, TCP_SB_MAX);
    assert_int_equal(tcp_sb_high_sacked(&sb, una), b + 7300);

    /* a 33rd range above all: it is the highest, so it is what is dropped */
    assert_int_equal(SACK(&sb, una, max, {b + 7400, b + 7500}), 0);
    assert_int_equal(sb.n, TCP_SB_MAX);
    assert_false(tcp_sb_is_sacked(&sb, b + 7400));

    /* a 33rd range below all: kept, the highest (k = 31) goes */
    assert_int_equal(SACK(&sb, una, max, {b + 100, b + 200}), 100);
    assert_int_equal(sb.n, TCP_SB_MAX);
    assert_int_equal(sb.blk[0].start, b + 100);
    assert_int_equal(sb.blk[TCP_SB_MAX - 1].start, b + 7000); /* k = 30 */
    assert_false(tcp_sb_is_sacked(&sb, b + 7200));

    /* one ACK, most recent first: [b+7200, b+7300) above everything, then
     * [b+1100, b+1200) joining k = 0 and k = 1. Together they leave 32
     * ranges, so both are kept whatever order they come in. */
    assert_int_equal(SACK(&sb, una, max, {b + 7200, b + 7300}, {b + 1100, b + 1200}),
                     200);
    assert_int_equal(sb.n, TCP_SB_MAX);
    assert_true(tcp_sb_is_sacked(&sb, b + 7200));
    assert_int_equal(sb.blk[1].start, b + 1000);
    assert_int_equal(sb.blk[1].end, b + 1300);
}
AT_BOTH_BASES(full_scoreboard_keeps_ranges_nearest_snd_una)

/* tcp_sb_covers: a span inside one range, not one that crosses a hole or
 * only touches a range; tcp_sb_block_usable: the blocks tcp_sb_update
 * takes, as the sender marks its records from them. */
static void covers_and_usable_blocks(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b, max = b + 10000;
    SACK(&sb, una, max, {b + 1000, b + 3000}, {b + 4000, b + 5000});
    assert_true(tcp_sb_covers(&sb, b + 1000, b + 3000));
    assert_true(tcp_sb_covers(&sb, b + 1500, b + 2500));
    assert_true(tcp_sb_covers(&sb, b + 4000, b + 5000));
    assert_false(tcp_sb_covers(&sb, b + 2500, b + 4500)); /* across the hole */
    assert_false(tcp_sb_covers(&sb, b + 500, b + 1500));  /* starts below */
    assert_false(tcp_sb_covers(&sb, b + 4500, b + 5500)); /* ends beyond */
    assert_false(tcp_sb_covers(&sb, b + 3000, b + 4000)); /* the hole */
    assert_false(tcp_sb_covers(&sb, b + 6000, b + 7000));

    uint32_t s = 0, e = 0;
    const struct tcp_sack_block ok = {b + 2000, b + 3000};
    assert_true(tcp_sb_block_usable(&ok, una, max, &s, &e));
    assert_int_equal(s, b + 2000);
    assert_int_equal(e, b + 3000);
    const struct tcp_sack_block bad[] = {
        {b + 3000, b + 2000},  /* inverted */
        {b + 2000, b + 2000},  /* empty */
        {b - 1000, b},         /* a D-SACK below snd_una */
        {b - 500, b + 500},    /* straddling snd_una */
        {b + 9500, b + 10001}, /* beyond snd_max */
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_false(tcp_sb_block_usable(&bad[k], una, max, &s, &e));
}
AT_BOTH_BASES(covers_and_usable_blocks)

static void handles_sequence_wraparound(void **state)
{
    (void)state;
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = 0xFFFFF000u, max = 0x00001000u; /* 8192 octets in flight */

    /* a block across 2^32: 0x800 octets below it, 0x400 above */
    assert_int_equal(SACK(&sb, una, max, {0xFFFFF800u, 0x00000400u}), 0xC00);
    assert_true(tcp_sb_is_sacked(&sb, 0xFFFFFFFFu));
    assert_true(tcp_sb_is_sacked(&sb, 0));
    assert_true(tcp_sb_is_sacked(&sb, 0x3FF));
    assert_false(tcp_sb_is_sacked(&sb, 0x400));
    assert_false(tcp_sb_is_sacked(&sb, 0xFFFFF7FFu));
    assert_int_equal(tcp_sb_high_sacked(&sb, una), 0x400);
    /* adjacent above zero: merges */
    assert_int_equal(SACK(&sb, una, max, {0x400, 0x800}), 0x400);
    EXPECT_RANGES(&sb, {0xFFFFF800u, 0x800});
    /* beyond snd_max, even though 0x1001 < 0xFFFFF000 as plain integers */
    assert_int_equal(SACK(&sb, una, max, {0x800, 0x1001}), 0);
    /* below snd_una, even though 0xFFFFE000 > 0x1000 as plain integers */
    assert_int_equal(SACK(&sb, una, max, {0xFFFFE000u, 0xFFFFF000u}), 0);
    assert_int_equal(SACK(&sb, una, max, {0xC00, 0x1000}), 0x400);
    EXPECT_RANGES(&sb, {0xFFFFF800u, 0x800}, {0xC00, 0x1000});

    /* IsLost(0xFFFFF000), SMSS 1000: 2 ranges above (< 3), but 0x1000 +
     * 0x400 = 5120 octets > 2000: lost. IsLost(0x900): 1 range, 1024 octets:
     * not lost. */
    assert_true(tcp_sb_is_lost(&sb, 0xFFFFF000u, 1000));
    assert_false(tcp_sb_is_lost(&sb, 0x900, 1000));
    /* SetPipe, nothing retransmitted: hole [0xFFFFF000, 0xFFFFF800) is lost,
     * 0 + 0; hole [0x800, 0xC00) is not, +1024; nothing unSACKed above. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, 1000), 1024);

    /* snd_una crosses zero: the first range is clipped */
    tcp_sb_update(&sb, 0x100, max, NULL, 0);
    EXPECT_RANGES(&sb, {0x100, 0x800}, {0xC00, 0x1000});
    assert_int_equal(tcp_sb_high_sacked(&sb, 0x100), 0x1000);
}

/* ---------------------------------------------------------------- IsLost */

static void is_lost_by_discontiguous_ranges(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    SACK(&sb, b, b + 10000, {b + 2000, b + 2100}, {b + 3000, b + 3100},
         {b + 4000, b + 4100});

    /* 3 discontiguous ranges above, only 300 octets: lost by DupThresh */
    assert_true(tcp_sb_is_lost(&sb, b + 1000, MSS));
    assert_true(tcp_sb_is_lost(&sb, b, MSS));
    /* above b+2500: 2 ranges, 200 octets: not lost */
    assert_false(tcp_sb_is_lost(&sb, b + 2500, MSS));
    /* nothing above the last range */
    assert_false(tcp_sb_is_lost(&sb, b + 4100, MSS));
}
AT_BOTH_BASES(is_lost_by_discontiguous_ranges)

static void is_lost_by_sacked_bytes(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    /* exactly (DupThresh - 1) * SMSS = 2000 octets above: not "more than" */
    SACK(&sb, b, b + 10000, {b + 2000, b + 4000});
    assert_false(tcp_sb_is_lost(&sb, b + 1000, MSS));
    /* one more octet: 2001 > 2000, lost with a single range */
    SACK(&sb, b, b + 10000, {b + 4000, b + 4001});
    assert_true(tcp_sb_is_lost(&sb, b + 1000, MSS));
    assert_true(tcp_sb_is_lost(&sb, b + 1999, MSS));
    /* with SMSS 1001 the bar is 2002 octets */
    assert_false(tcp_sb_is_lost(&sb, b + 1000, 1001));

    /* octets of two ranges add up: 1000 + 1001 = 2001 above b+1000; above
     * b+3000 only the second range's 1001 */
    tcp_sb_reset(&sb);
    SACK(&sb, b, b + 10000, {b + 2000, b + 3000}, {b + 3500, b + 4501});
    assert_true(tcp_sb_is_lost(&sb, b + 1000, MSS));
    assert_false(tcp_sb_is_lost(&sb, b + 3000, MSS));
}
AT_BOTH_BASES(is_lost_by_sacked_bytes)

/* ------------------------------------------------- SetPipe and NextSeg */

/* S3 and S5 lost, S1 and S2 acknowledged, S4 and S6..S10 SACKed. */
static void two_losses_in_ten_segments(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    uint32_t una = SEG(b, 3);        /* HighACK = end of S2 */
    const uint32_t max = SEG(b, 11); /* HighData = last octet of S10 */
    assert_int_equal(SACK(&sb, una, max, {SEG(b, 6), SEG(b, 11)}, {SEG(b, 4), SEG(b, 5)}),
                     6000);
    tcp_sb_recovery_begin(&sb);

    /* IsLost(S3): 2 ranges above (< 3), 1000 + 5000 = 6000 octets > 2000:
     * lost. IsLost(S5): 1 range, 5000 octets: lost. */
    assert_true(tcp_sb_is_lost(&sb, SEG(b, 3), MSS));
    assert_true(tcp_sb_is_lost(&sb, SEG(b, 5), MSS));
    /* SetPipe with HighRxt = HighACK: S3 and S5 are lost (a: 0) and not
     * retransmitted (b: 0). Everything else is SACKed. pipe = 0. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 0);

    /* NextSeg rule 1: the smallest unSACKed octet above HighRxt, below the
     * highest SACKed octet, that IsLost: S3's first. One SMSS: all of S3.
     * Rule 1 comes before rule 2, so queued new data changes nothing. */
    expect_next(&sb, una, max, max + 5000, SEG(b, 3), 1000);
    expect_next(&sb, una, max, max, SEG(b, 3), 1000);
    tcp_sb_sent(&sb, SEG(b, 3), 1000);
    /* HighRxt = last octet of S3. SetPipe: S3 (a) 0, (b) +1000; S5 0 + 0. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 1000);

    /* rule 1 again: above HighRxt now, so S5, not S3 a second time */
    expect_next(&sb, una, max, max, SEG(b, 5), 1000);
    tcp_sb_sent(&sb, SEG(b, 5), 1000);
    /* S3 (b) +1000, S5 (b) +1000 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 2000);

    /* rule 2 when the application has more: one segment of new data, here
     * only 500 octets are queued */
    expect_next(&sb, una, max, max + 500, max, 500);
    /* nothing new: rules 1 and 3 find no unSACKed octet above HighRxt (end
     * of S5) below the highest SACKed one; rule 4 needs HighACK (end of
     * S2) > RescueRxt (end of S3, step 4.3): not yet. */
    expect_nothing_next(&sb, una, max, max);

    /* S3's retransmission arrives: the cumulative ACK jumps S4 (held) */
    una = SEG(b, 5);
    assert_int_equal(SACK(&sb, una, max, {SEG(b, 6), SEG(b, 11)}), 0);
    /* S5: lost (5000 SACKed octets above), (a) 0, (b) +1000 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 1000);

    /* rule 4: HighACK (end of S4) > RescueRxt (end of S3), rules 1 to 3
     * fail: one segment holding the highest outstanding unSACKed octet, the
     * last of S5: all of S5. RescueRxt becomes RecoveryPoint; HighRxt stays. */
    expect_next(&sb, una, max, max, SEG(b, 5), 1000);
    tcp_sb_sent(&sb, SEG(b, 5), 1000);
    assert_int_equal(sb.high_rxt, SEG(b, 6));
    /* once per recovery: HighACK is not above RecoveryPoint */
    expect_nothing_next(&sb, una, max, max);
}
AT_BOTH_BASES(two_losses_in_ten_segments)

/* S3 lost, S4 and S5 SACKed, S6..S10 still in flight. */
static void pipe_counts_a_hole_until_it_is_lost(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = SEG(b, 3), max = SEG(b, 11);
    SACK(&sb, una, max, {SEG(b, 4), SEG(b, 6)});
    tcp_sb_recovery_begin(&sb);

    /* IsLost(S3): 1 range, 2000 octets, not more than 2000: not lost.
     * S6..S10: nothing SACKed above: not lost.
     * SetPipe: S3 (a) +1000; S6..S10 (a) +5000; (b) nothing yet. */
    assert_false(tcp_sb_is_lost(&sb, SEG(b, 3), MSS));
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 6000);

    /* rule 1: the candidate S3 is not lost. Rule 2 comes before rule 3. */
    expect_next(&sb, una, max, max + 5000, max, 1000);
    /* no new data: rule 3, the lowest unSACKed octet above HighRxt below the
     * highest SACKed one, without IsLost: S3 */
    expect_next(&sb, una, max, max, SEG(b, 3), 1000);
    tcp_sb_sent(&sb, SEG(b, 3), 1000);
    /* retransmitted without being lost, S3 counts twice: (a) +1000 and
     * (b) +1000; S6..S10 +5000. pipe = 7000. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 7000);

    /* S6 SACKed: 3000 octets above S3 now, S3 is lost: (a) 0, (b) +1000;
     * S7..S10 not lost +4000. pipe = 5000. */
    assert_int_equal(SACK(&sb, una, max, {SEG(b, 4), SEG(b, 7)}), 1000);
    assert_true(tcp_sb_is_lost(&sb, SEG(b, 3), MSS));
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 5000);
    /* nothing unSACKed above HighRxt (end of S3) below the highest SACKed
     * octet, no new data, HighACK not above RescueRxt (end of S3) */
    expect_nothing_next(&sb, una, max, max);
}
AT_BOTH_BASES(pipe_counts_a_hole_until_it_is_lost)

/* A hole of 1.5 segments: [b, b+1500) lost, [b+1500, b+5000) SACKed,
 * [b+5000, b+6000) in flight. */
static void rule1_stops_at_the_end_of_the_hole(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t una = b, max = b + 6000;
    SACK(&sb, una, max, {b + 1500, b + 5000});
    tcp_sb_recovery_begin(&sb);

    /* IsLost(b): 1 range, 3500 octets > 2000: lost */
    expect_next(&sb, una, max, max, b, 1000);
    tcp_sb_sent(&sb, b, 1000);
    /* the next lost octet above HighRxt is b+1000; one SMSS would reach
     * into the SACKed range at b+1500, so 500 octets */
    expect_next(&sb, una, max, max, b + 1000, 500);
    tcp_sb_sent(&sb, b + 1000, 500);
    /* SetPipe: hole [b, b+1500) lost (a) 0, all <= HighRxt (b) +1500;
     * [b+5000, b+6000) not lost (a) +1000. pipe = 2500. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 2500);
    /* rules 1 and 3 have nothing left; the tail is above the highest SACK;
     * HighACK (b-1) is not above RescueRxt (b+999): nothing */
    expect_nothing_next(&sb, una, max, max);
}
AT_BOTH_BASES(rule1_stops_at_the_end_of_the_hole)

/* S2 and S10 lost, S1 acknowledged, S3..S9 SACKed, no new data. */
static void rescue_retransmission_once_per_recovery(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    uint32_t una = SEG(b, 2);
    uint32_t max = SEG(b, 11);
    SACK(&sb, una, max, {SEG(b, 3), SEG(b, 10)});
    tcp_sb_recovery_begin(&sb);

    /* IsLost(S2): 7000 octets above: lost. IsLost(S10): nothing above. */
    assert_false(tcp_sb_is_lost(&sb, SEG(b, 10), MSS));
    /* SetPipe: S2 0 + 0, S10 (a) +1000 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 1000);
    expect_next(&sb, una, max, max, SEG(b, 2), 1000);
    tcp_sb_sent(&sb, SEG(b, 2), 1000); /* HighRxt = RescueRxt = end of S2 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 2000);
    /* S10 lies above the highest SACKed octet: not for rules 1 and 3. Rule
     * 4 waits for HighACK (end of S1) > RescueRxt (end of S2): no premature
     * rescue. */
    expect_nothing_next(&sb, una, max, max);

    /* S2's retransmission arrives: cumulative ACK to the end of S9 */
    una = SEG(b, 10);
    tcp_sb_update(&sb, una, max, NULL, 0);
    /* SetPipe: S10 not lost (a) +1000, above HighRxt (b) 0 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 1000);
    /* rule 4: HighACK (end of S9) > RescueRxt (end of S2): the segment
     * holding the highest outstanding unSACKed octet, S10 */
    expect_next(&sb, una, max, max, SEG(b, 10), 1000);
    tcp_sb_sent(&sb, SEG(b, 10), 1000);
    /* HighRxt MUST NOT move for a rescue: S10 still (a) +1000, (b) 0 */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 1000);
    /* RescueRxt = RecoveryPoint (end of S10): no second rescue */
    expect_nothing_next(&sb, una, max, max);

    /* The next recovery: S11..S13 sent, S11 lost, S12 SACKed, S13 in flight.
     * una = start of S11 after the rescue was acknowledged. */
    una = SEG(b, 11);
    max = SEG(b, 14);
    SACK(&sb, una, max, {SEG(b, 12), SEG(b, 13)});
    tcp_sb_recovery_begin(&sb);
    /* S11: 1 range, 1000 octets: not lost; rule 3 takes it */
    expect_next(&sb, una, max, max, SEG(b, 11), 1000);
    tcp_sb_sent(&sb, SEG(b, 11), 1000); /* HighRxt = RescueRxt = end of S11 */
    expect_nothing_next(&sb, una, max, max);
    /* S11 arrives: ACK to the end of S12; HighACK > RescueRxt, and this
     * recovery has its own rescue: S13 */
    una = SEG(b, 13);
    tcp_sb_update(&sb, una, max, NULL, 0);
    expect_next(&sb, una, max, max, SEG(b, 13), 1000);
}
AT_BOTH_BASES(rescue_retransmission_once_per_recovery)

/* S2, S4 and S10 lost, S1 acknowledged, S3 and S5..S9 SACKed. */
static void rescue_leaves_high_rxt_with_sack_left(uint32_t b)
{
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    uint32_t una = SEG(b, 2);
    const uint32_t max = SEG(b, 11);
    SACK(&sb, una, max, {SEG(b, 5), SEG(b, 10)}, {SEG(b, 3), SEG(b, 4)});
    tcp_sb_recovery_begin(&sb);

    /* IsLost(S2): 2 ranges, 6000 octets: lost. IsLost(S4): 1 range, 5000
     * octets: lost. */
    expect_next(&sb, una, max, max, SEG(b, 2), 1000);
    tcp_sb_sent(&sb, SEG(b, 2), 1000);
    expect_next(&sb, una, max, max, SEG(b, 4), 1000);
    tcp_sb_sent(&sb, SEG(b, 4), 1000); /* HighRxt = end of S4 */
    expect_nothing_next(&sb, una, max, max);

    /* S2 arrives: ACK to the end of S3, S5..S9 still SACKed */
    una = SEG(b, 4);
    SACK(&sb, una, max, {SEG(b, 5), SEG(b, 10)});
    /* rule 4: HighACK (end of S3) > RescueRxt (end of S2): S10 */
    expect_next(&sb, una, max, max, SEG(b, 10), 1000);
    tcp_sb_sent(&sb, SEG(b, 10), 1000);
    assert_int_equal(sb.high_rxt, SEG(b, 5)); /* still one past S4 */
    /* SetPipe: S4 lost (a) 0, (b) +1000; S10 not lost (a) +1000, above
     * HighRxt (b) 0. pipe = 2000. */
    assert_int_equal(tcp_sb_pipe(&sb, una, max, MSS), 2000);
}
AT_BOTH_BASES(rescue_leaves_high_rxt_with_sack_left)

static void reset_and_recovery_begin(void **state)
{
    (void)state;
    struct tcp_scoreboard sb;
    tcp_sb_reset(&sb);
    const uint32_t b = 0x7FFFFF00u; /* any base: reset must not assume one */
    assert_int_equal(sb.n, 0);
    assert_int_equal(tcp_sb_high_sacked(&sb, b), b);
    /* nothing SACKed, nothing lost, nothing retransmitted: every octet once */
    assert_int_equal(tcp_sb_pipe(&sb, b, b + 3000, MSS), 3000);
    /* with new data, rule 2 */
    expect_next(&sb, b, b + 3000, b + 4000, b + 3000, 1000);

    /* recovery_begin keeps the ranges and forgets HighRxt */
    SACK(&sb, b, b + 5000, {b + 1000, b + 5000});
    expect_next(&sb, b, b + 5000, b + 5000, b, 1000);
    tcp_sb_sent(&sb, b, 1000);
    assert_int_equal(tcp_sb_pipe(&sb, b, b + 5000, MSS), 1000); /* (b) only */
    tcp_sb_recovery_begin(&sb);
    EXPECT_RANGES(&sb, {b + 1000, b + 5000});
    assert_int_equal(tcp_sb_pipe(&sb, b, b + 5000, MSS), 0);
    expect_next(&sb, b, b + 5000, b + 5000, b, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merges_overlapping_and_adjacent_low),
        cmocka_unit_test(merges_overlapping_and_adjacent_wrap),
        cmocka_unit_test(sorts_blocks_arriving_out_of_order_low),
        cmocka_unit_test(sorts_blocks_arriving_out_of_order_wrap),
        cmocka_unit_test(forgets_below_rising_snd_una_low),
        cmocka_unit_test(forgets_below_rising_snd_una_wrap),
        cmocka_unit_test(ignores_bogus_blocks_low),
        cmocka_unit_test(ignores_bogus_blocks_wrap),
        cmocka_unit_test(full_scoreboard_keeps_ranges_nearest_snd_una_low),
        cmocka_unit_test(full_scoreboard_keeps_ranges_nearest_snd_una_wrap),
        cmocka_unit_test(covers_and_usable_blocks_low),
        cmocka_unit_test(covers_and_usable_blocks_wrap),
        cmocka_unit_test(handles_sequence_wraparound),
        cmocka_unit_test(is_lost_by_discontiguous_ranges_low),
        cmocka_unit_test(is_lost_by_discontiguous_ranges_wrap),
        cmocka_unit_test(is_lost_by_sacked_bytes_low),
        cmocka_unit_test(is_lost_by_sacked_bytes_wrap),
        cmocka_unit_test(two_losses_in_ten_segments_low),
        cmocka_unit_test(two_losses_in_ten_segments_wrap),
        cmocka_unit_test(pipe_counts_a_hole_until_it_is_lost_low),
        cmocka_unit_test(pipe_counts_a_hole_until_it_is_lost_wrap),
        cmocka_unit_test(rule1_stops_at_the_end_of_the_hole_low),
        cmocka_unit_test(rule1_stops_at_the_end_of_the_hole_wrap),
        cmocka_unit_test(rescue_retransmission_once_per_recovery_low),
        cmocka_unit_test(rescue_retransmission_once_per_recovery_wrap),
        cmocka_unit_test(rescue_leaves_high_rxt_with_sack_left_low),
        cmocka_unit_test(rescue_leaves_high_rxt_with_sack_left_wrap),
        cmocka_unit_test(reset_and_recovery_begin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
