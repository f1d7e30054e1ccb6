/**
 * @file tcp_sack.c
 * The sender's SACK scoreboard and the RFC 6675 section 4 routines asked of
 * it: IsLost, SetPipe, NextSeg, with the HighRxt/RescueRxt bookkeeping of
 * section 5.
 *
 * Data enters through tcp_sb_update (the SACK blocks of every ACK, RFC 2018
 * section 3) and tcp_sb_sent (every retransmission); it leaves as answers.
 * Like RFC 6675 section 3 suggests, the scoreboard holds ranges, not octets:
 * at most TCP_SB_MAX sorted, disjoint, non-adjacent SACKed ranges inside
 * [snd_una, snd_max). Everything is O(TCP_SB_MAX), on the caller's struct.
 *
 * One fact carries SetPipe and NextSeg: IsLost(S) looks only at what is
 * SACKed above S, which is the same for every octet of one hole (a maximal
 * unSACKed run) and shrinks as S grows. So IsLost is constant across a hole
 * and non-increasing in S; both routines work hole by hole and stay exact to
 * the RFC's per-octet definitions.
 *
 * RFC 6675 names the highest octet of a thing (HighACK, HighRxt, RescueRxt);
 * this file keeps one past it, like TCP's own snd_una: high_rxt is HighRxt +
 * 1, rescue_rxt RescueRxt + 1, and "HighACK > RescueRxt" reads
 * snd_una > rescue_rxt. All comparisons are modulo 2^32.
 */
#include <string.h>

#include "tcp_sack.h"

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_gt(a, b) ? a : b;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}

void tcp_sb_reset(struct tcp_scoreboard *sb)
{
    memset(sb, 0, sizeof(*sb));
}

void tcp_sb_recovery_begin(struct tcp_scoreboard *sb)
{
    sb->rescue_valid = false;
}

/* HighRxt + 1 as the routines use it: snd_una until the recovery has
 * retransmitted something (RFC 6675 5 step 3.1 sets HighRxt = HighACK),
 * never below snd_una (acknowledged octets are nobody's concern). */
static uint32_t rxt_mark(const struct tcp_scoreboard *sb, uint32_t snd_una)
{
    if (!sb->rescue_valid)
        return snd_una;
    return seq_max(sb->high_rxt, snd_una);
}

/* The end of the highest SACKed range, or snd_una when none lies above it. */
static uint32_t sacked_top(const struct tcp_scoreboard *sb, uint32_t snd_una)
{
    if (sb->n == 0)
        return snd_una;
    return seq_max(sb->blk[sb->n - 1].end, snd_una);
}

/* ------------------------------------------------------------------ holes */

/* Walks the holes (maximal unSACKed runs) of [lo, limit) in order. */
struct sb_holes {
    const struct tcp_scoreboard *sb;
    unsigned i; /* next range to pass */
    uint32_t lo;
    uint32_t limit;
};

static struct sb_holes holes_of(const struct tcp_scoreboard *sb, uint32_t lo,
                                uint32_t limit)
{
    return (struct sb_holes){.sb = sb, .i = 0, .lo = lo, .limit = limit};
}

static bool holes_next(struct sb_holes *h, uint32_t *start, uint32_t *end)
{
    while (seq_lt(h->lo, h->limit)) {
        uint32_t a = h->lo;
        uint32_t b = h->limit;
        if (h->i < h->sb->n) {
            const struct tcp_sack_block *r = &h->sb->blk[h->i++];
            b = seq_min(r->start, h->limit);
            h->lo = seq_max(a, r->end);
        } else {
            h->lo = h->limit;
        }
        if (seq_lt(a, b)) {
            *start = a;
            *end = b;
            return true;
        }
    }
    return false;
}

/* ----------------------------------------------------------------- update */

/* Drops what snd_una has passed and clips the range it splits. */
static void forget_below(struct tcp_scoreboard *sb, uint32_t snd_una)
{
    unsigned k = 0;
    while (k < sb->n && seq_leq(sb->blk[k].end, snd_una))
        k++;
    if (k > 0) {
        memmove(&sb->blk[0], &sb->blk[k], (sb->n - k) * sizeof(sb->blk[0]));
        sb->n = (uint8_t)(sb->n - k);
    }
    if (sb->n > 0 && seq_lt(sb->blk[0].start, snd_una))
        sb->blk[0].start = snd_una;
}

/* Whether block @p b is worth recording, RFC 2018 section 4 read from the
 * sender's side: the receiver reports what it holds past its cumulative
 * ACK, so an empty or inverted block is malformed, one ending at or below
 * snd_una tells nothing new (a D-SACK, RFC 2883, or a stale ACK), one
 * straddling snd_una is malformed too (a receiver holding the bytes at the
 * ACK would acknowledge them; as Linux, it is not believed, else the
 * segment at snd_una would look SACKed and the ACK like reneging), and one
 * ending beyond snd_max claims bytes never sent: bogus, so none of it is
 * believed. */
bool tcp_sb_block_usable(const struct tcp_sack_block *b, uint32_t snd_una,
                         uint32_t snd_max, uint32_t *start, uint32_t *end)
{
    if (!seq_lt(b->start, b->end))
        return false;
    if (seq_lt(b->start, snd_una) || seq_gt(b->end, snd_max))
        return false;
    *start = b->start;
    *end = b->end;
    return true;
}

/* Octets of [start, end) that range @p r already covers. */
static uint32_t overlap(const struct tcp_sack_block *r, uint32_t start, uint32_t end)
{
    uint32_t a = seq_max(r->start, start);
    uint32_t b = seq_min(r->end, end);
    return seq_lt(a, b) ? b - a : 0;
}

/* Records [start, end), merging every range it overlaps or touches.
 * Returns the octets it adds. With TCP_SB_MAX ranges already and none
 * merged, the highest range goes: the new one itself if it is the highest. */
static uint32_t sb_insert(struct tcp_scoreboard *sb, uint32_t start, uint32_t end)
{
    uint32_t added = end - start;
    unsigned i = 0;
    while (i < sb->n && seq_lt(sb->blk[i].end, start))
        i++;
    /* i: the first range ending at or after start; merge all it reaches */
    unsigned j = i;
    while (j < sb->n && seq_leq(sb->blk[j].start, end)) {
        added -= overlap(&sb->blk[j], start, end);
        j++;
    }
    if (j > i) {
        start = seq_min(start, sb->blk[i].start);
        end = seq_max(end, sb->blk[j - 1].end);
    }
    if (j == i && sb->n == TCP_SB_MAX) {
        if (i == sb->n)
            return 0;
        sb->n--;
    }
    unsigned merged = j - i;
    if (merged != 1)
        memmove(&sb->blk[i + 1], &sb->blk[j], (sb->n - j) * sizeof(sb->blk[0]));
    sb->n = (uint8_t)(sb->n - merged + 1);
    sb->blk[i].start = start;
    sb->blk[i].end = end;
    return added;
}

uint32_t tcp_sb_update(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                       const struct tcp_sack_block *blocks, unsigned n)
{
    forget_below(sb, snd_una);
    /* Keep the marks within reach of snd_una so that modular comparisons
     * stay meaningful however long the connection lives: a HighRxt below
     * snd_una means nothing outstanding was retransmitted, and once HighACK
     * has passed RescueRxt it stays passed. */
    if (sb->rescue_valid) {
        if (seq_lt(sb->high_rxt, snd_una))
            sb->high_rxt = snd_una;
        if (seq_gt(snd_una, sb->rescue_rxt))
            sb->rescue_rxt = snd_una - 1;
    }

    /* Blocks are taken lowest first (the receiver sends the most recent
     * first, RFC 2018 section 4). Then a full scoreboard keeps exactly the
     * TCP_SB_MAX lowest ranges of the union, and no octet is counted twice:
     * a range dropped for room is always above every block still to come. */
    uint32_t added = 0;
    uint64_t last = 0;
    bool any = false;
    for (;;) {
        uint64_t best = UINT64_MAX;
        uint32_t bs = 0, be = 0;
        for (unsigned k = 0; k < n; k++) {
            uint32_t s, e;
            if (!tcp_sb_block_usable(&blocks[k], snd_una, snd_max, &s, &e))
                continue;
            uint64_t key = (uint64_t)(s - snd_una) << 32 | k;
            if ((any && key <= last) || key >= best)
                continue;
            best = key;
            bs = s;
            be = e;
        }
        if (best == UINT64_MAX)
            break;
        last = best;
        any = true;
        added += sb_insert(sb, bs, be);
    }
    return added;
}

/* ---------------------------------------------------------------- queries */

bool tcp_sb_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq)
{
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_lt(seq, sb->blk[i].start))
            return false;
        if (seq_lt(seq, sb->blk[i].end))
            return true;
    }
    return false;
}

bool tcp_sb_covers(const struct tcp_scoreboard *sb, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_lt(start, sb->blk[i].start))
            return false;
        if (seq_lt(start, sb->blk[i].end))
            return seq_leq(end, sb->blk[i].end);
    }
    return false;
}

uint32_t tcp_sb_high_sacked(const struct tcp_scoreboard *sb, uint32_t snd_una)
{
    return sacked_top(sb, snd_una);
}

bool tcp_sb_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t mss)
{
    /* RFC 6675 4: "DupThresh discontiguous SACKed sequences have arrived
     * above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence
     * numbers greater than 'SeqNum' have been SACKed". Ranges are disjoint
     * and never adjacent, so each one is one discontiguous sequence. */
    const uint32_t above = seq + 1;
    unsigned ranges = 0;
    uint64_t bytes = 0;
    for (unsigned i = sb->n; i-- > 0;) {
        if (seq_leq(sb->blk[i].end, above))
            break;
        ranges++;
        bytes += sb->blk[i].end - seq_max(sb->blk[i].start, above);
    }
    return ranges >= TCP_DUPTHRESH || bytes > (uint64_t)(TCP_DUPTHRESH - 1) * mss;
}

uint32_t tcp_sb_pipe(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                     uint32_t mss)
{
    /* RFC 6675 4 SetPipe(), for each unSACKed octet S1 in [HighACK+1,
     * HighData]: (a) +1 if not IsLost(S1); (b) +1 if S1 <= HighRxt. */
    const uint32_t rxt = rxt_mark(sb, snd_una);
    uint32_t pipe = 0;
    uint32_t a, b;
    struct sb_holes h = holes_of(sb, snd_una, snd_max);
    while (holes_next(&h, &a, &b)) {
        if (!tcp_sb_is_lost(sb, a, mss))
            pipe += b - a;
        if (seq_lt(a, rxt))
            pipe += seq_min(b, rxt) - a;
    }
    return pipe;
}

/* Rules 1 and 3 answer one segment of up to SMSS octets from the start of
 * hole [a, b), never reaching into the SACKed range that ends it. */
static bool take_hole(uint32_t a, uint32_t b, uint32_t mss, uint32_t *seq, uint32_t *len)
{
    *seq = a;
    *len = b - a > mss ? mss : b - a;
    return true;
}

bool tcp_sb_next_seg(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
                     uint32_t data_end, uint32_t mss, uint32_t *seq, uint32_t *len)
{
    if (mss == 0)
        return false;
    const uint32_t rxt = rxt_mark(sb, snd_una);

    /* Rules 1 and 3 share their candidate: the lowest unSACKed octet above
     * HighRxt (1.a) below the highest SACKed one (1.b). IsLost does not grow
     * with the sequence number, so when the candidate is not lost (1.c) no
     * later octet is, and rule 1 has nothing. */
    uint32_t a = 0, b = 0;
    struct sb_holes h = holes_of(sb, rxt, sacked_top(sb, snd_una));
    const bool cand = holes_next(&h, &a, &b);
    if (cand && tcp_sb_is_lost(sb, a, mss))
        return take_hole(a, b, mss, seq, len);
    /* Rule 2: new data, one segment from HighData + 1. */
    if (seq_lt(snd_nxt, data_end)) {
        *seq = snd_nxt;
        *len = seq_min(snd_nxt + mss, data_end) - snd_nxt;
        return true;
    }
    /* Rule 3: the candidate without the loss test. */
    if (cand)
        return take_hole(a, b, mss, seq, len);

    /* Rule 4: one rescue per recovery, when HighACK > RescueRxt or it is
     * undefined: one segment holding the highest outstanding unSACKed octet.
     * RescueRxt becomes RecoveryPoint; snd_nxt stands in for RecoveryPoint
     * + 1 (it can only be as high or higher), so no second rescue comes
     * before the recovery ends. HighRxt MUST NOT be updated. */
    if (sb->rescue_valid && !seq_gt(snd_una, sb->rescue_rxt))
        return false;
    bool found = false;
    uint32_t ta = 0, tb = 0;
    h = holes_of(sb, snd_una, snd_nxt);
    while (holes_next(&h, &ta, &tb))
        found = true;
    if (!found)
        return false;
    if (!sb->rescue_valid) {
        sb->high_rxt = snd_una;
        sb->rescue_valid = true;
    }
    sb->rescue_rxt = snd_nxt;
    *seq = tb - ta > mss ? tb - mss : ta;
    *len = tb - *seq;
    return true;
}

void tcp_sb_sent(struct tcp_scoreboard *sb, uint32_t seq, uint32_t len)
{
    if (len == 0)
        return;
    const uint32_t end = seq + len;
    if (!sb->rescue_valid) {
        /* RFC 6675 5 step 4.3: the recovery's first retransmission sets both
         * HighRxt and RescueRxt to its highest octet, which keeps a rescue
         * from going out before the first repair is acknowledged. It starts
         * at HighACK + 1 (step 4.3) or at the lowest hole (NextSeg rules 1
         * and 3 with nothing retransmitted yet): below it all is SACKed, so
         * seq serves as "nothing retransmitted" before the move below. */
        sb->rescue_valid = true;
        sb->rescue_rxt = end;
        sb->high_rxt = seq;
    }
    /* Step C.2: HighRxt moves to the end of a retransmission, unless rule 4
     * chose it. Rules 1 and 3 only pick octets below the highest SACKed one,
     * so a range starting at or above it can only be the rescue. */
    if (sb->n == 0 || seq_geq(seq, sb->blk[sb->n - 1].end))
        return;
    if (seq_gt(end, sb->high_rxt))
        sb->high_rxt = end;
}
