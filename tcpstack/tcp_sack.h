/**
 * @file tcp_sack.h
 * The sender's SACK scoreboard (RFC 2018 blocks, RFC 6675 loss recovery):
 * which bytes above snd_una the peer has selectively acknowledged, and the
 * RFC 6675 questions asked of it: IsLost, SetPipe, NextSeg.
 *
 * Pure data structure, no I/O: tcp_in.c feeds it the SACK blocks of every
 * ACK and asks it which segment to send next during recovery. All
 * sequence numbers are absolute 32-bit TCP sequence numbers compared
 * modulo 2^32.
 */
#ifndef TCP_SACK_H
#define TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_SB_MAX 32   /* distinct SACKed ranges remembered */
#define TCP_DUPTHRESH 3 /* RFC 6675 DupThresh */

struct tcp_sack_block {
    uint32_t start; /* first SACKed byte */
    uint32_t end;   /* one past the last */
};

struct tcp_scoreboard {
    struct tcp_sack_block blk[TCP_SB_MAX]; /* sorted by start, disjoint, not adjacent */
    uint8_t n;
    uint32_t high_rxt;   /* RFC 6675 HighRxt: highest retransmitted seq + 1 */
    uint32_t rescue_rxt; /* RFC 6675 RescueRxt + 1 */
    /* false until the recovery's first retransmission (RFC 6675 5 step 4.3):
     * meanwhile HighRxt is taken as HighACK and RescueRxt as undefined */
    bool rescue_valid;
};

/** Forgets all SACK information and retransmission bookkeeping. */
void tcp_sb_reset(struct tcp_scoreboard *sb);

/** Entering loss recovery (RFC 6675 5 step 4): HighRxt and RescueRxt are
 *  per recovery, the SACKed ranges are kept. Nothing counts as retransmitted
 *  (HighRxt = HighACK, as step 3.1 also wants) and RescueRxt is undefined
 *  until the first tcp_sb_sent. */
void tcp_sb_recovery_begin(struct tcp_scoreboard *sb);

/** Merges @p n blocks from one ACK. Blocks that are empty, inverted, end at
 *  or below snd_una or end beyond snd_max are ignored (RFC 2018 and RFC
 *  5961-style sanity: a block must lie inside what was sent); a block
 *  straddling snd_una is clipped to it; everything below snd_una is
 *  forgotten. When full, the ranges nearest snd_una are kept (they matter
 *  most for recovery) and the highest are dropped. Returns the number of newly
 *  SACKed bytes (0 when the ACK added nothing: useful for DupAck counting,
 *  RFC 6675 section 2 "duplicate acknowledgment"). */
uint32_t tcp_sb_update(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                       const struct tcp_sack_block *blocks, unsigned n);

/** Whether the scoreboard should take block @p b of an ACK (what
 *  tcp_sb_update applies to each): not empty, not inverted, inside
 *  [snd_una, snd_max) (one straddling snd_una is not believed, as in
 *  Linux). True with [@p start, @p end) set to it. */
bool tcp_sb_block_usable(const struct tcp_sack_block *b, uint32_t snd_una,
                         uint32_t snd_max, uint32_t *start, uint32_t *end);

/** True when [@p start, @p end) lies inside one SACKed range. */
bool tcp_sb_covers(const struct tcp_scoreboard *sb, uint32_t start, uint32_t end);

/** True when byte @p seq is SACKed. */
bool tcp_sb_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq);

/** Highest SACKed sequence + 1 (RFC 6675 HighACK's SACK analogue), or
 *  @p snd_una when nothing is SACKed. */
uint32_t tcp_sb_high_sacked(const struct tcp_scoreboard *sb, uint32_t snd_una);

/** RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq,
 *  or at least (DupThresh - 1) * SMSS + 1 SACKed bytes above it. */
bool tcp_sb_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t mss);

/** RFC 6675 SetPipe(): bytes believed in flight in [snd_una, snd_max):
 *  for each not-SACKed byte, counts once if not lost and once more if it
 *  was retransmitted (below high_rxt). Exact per octet: IsLost is the same
 *  for every octet of a hole, so it is summed hole by hole. */
uint32_t tcp_sb_pipe(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                     uint32_t mss);

/**
 * RFC 6675 NextSeg(): the next range to send during recovery.
 * @p snd_nxt is the next new byte, @p data_end the end of what the
 * application has queued and the peer's window allows (new data exists when
 * snd_nxt < data_end), @p cwnd
 * and @p pipe gate nothing here (the caller checks cwnd - pipe >= 1 SMSS).
 * Rules: (1) the lowest not-SACKed, not yet retransmitted (>= high_rxt)
 * byte that IsLost, up to mss bytes and not into a SACKed range; (2) else
 * new data from snd_nxt; (3) else the lowest not-SACKed byte above
 * high_rxt below the highest SACK (no IsLost needed); (4) else the rescue
 * retransmission (RFC 6675 4, rule 4) once per recovery: choosing it sets
 * RescueRxt.
 * Returns true with @p seq and @p len set, false when nothing may be sent.
 * The caller updates high_rxt (tcp_sb_sent) after sending a retransmission.
 */
bool tcp_sb_next_seg(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
                     uint32_t data_end, uint32_t mss, uint32_t *seq, uint32_t *len);

/** Records a retransmission of [seq, seq+len): high_rxt moves past it
 *  (RFC 6675 5 step C.2). The first one of a recovery also sets RescueRxt
 *  (step 4.3). A rescue (rule 4) may be passed here too: it starts at or
 *  above the end of the highest SACKed range, where rules 1 and 3 never go,
 *  or ends at or below high_rxt, so it leaves high_rxt alone as C.2 wants. */
void tcp_sb_sent(struct tcp_scoreboard *sb, uint32_t seq, uint32_t len);

#endif
