/**
 * @file tcp_syncookie.c
 * SYN cookies (RFC 4987 3.6): when a listener's backlog is full, the SYN-ACK
 * carries the connection's state in its initial sequence number instead of
 * the stack keeping it; the peer's ACK returns it (ack - 1) and the
 * connection is created then.
 *
 * Cookie layout, most significant bit first:
 *   3 bits  time counter (64 s periods; the current and previous accepted)
 *   3 bits  MSS index into cookie_mss[]
 *   4 bits  window scale the peer offered (15: none)
 *   1 bit   SACK permitted
 *   1 bit   timestamps offered
 *  20 bits  keyed SipHash of the 4-tuple, the peer's ISN and the 12 bits
 *           above, so that none of them can be forged.
 * Window scale and SACK survive (unlike a cookie that encodes only the
 * MSS); the cost is a 20-bit MAC, which a blind attacker must guess per
 * (4-tuple, ISN) inside a 128 s window.
 */
#include <string.h>

#include "ts_priv.h"

#define COOKIE_PERIOD_US (64ull * 1000 * 1000)

static const uint16_t cookie_mss[8] = {536, 1220, 1300, 1360, 1400, 1440, 1460, 8960};

static uint32_t cookie_period(const struct ts_ctx *ctx)
{
    return (uint32_t)(ctx->now / COOKIE_PERIOD_US) & 7;
}

static uint32_t cookie_mac(const struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr,
                           uint16_t rport, uint16_t lport, uint32_t irs, uint32_t hdr12)
{
    uint32_t key[4];
    memcpy(key, ctx->p.isn_key, sizeof(key));
    key[0] ^= 0x636f6f6bu; /* a key of its own, derived from the ISN secret, */
    key[3] ^= laddr;       /* and one per local address */
    uint64_t m0 = (uint64_t)raddr << 32 | hdr12;
    uint64_t m1 = (uint64_t)rport << 48 | (uint64_t)lport << 32 | irs;
    return (uint32_t)ts_siphash(key, m0, m1) & 0xfffff;
}

void tcp_cookie_synack(struct ts_ctx *ctx, struct ts_sock *l, uint32_t laddr,
                       uint32_t raddr, uint16_t rport, uint32_t irs, uint16_t mss,
                       int8_t wscale, bool sack_ok, bool has_ts, uint32_t tsval)
{
    uint32_t mi = 0;
    uint16_t want = mss ? mss : 536;
    for (uint32_t i = 0; i < 8; i++)
        if (cookie_mss[i] <= want && cookie_mss[i] <= tcp_mss_max(ctx))
            mi = i;
    bool ws = ctx->p.opt_wscale && wscale >= 0;
    bool sack = ctx->p.opt_sack && sack_ok;
    bool ts = ctx->p.opt_timestamps && has_ts;
    uint32_t hdr12 = cookie_period(ctx) << 9 | mi << 6 |
                     (ws ? (uint32_t)wscale : 15u) << 2 | (uint32_t)sack << 1 |
                     (uint32_t)ts;
    uint32_t cookie =
        hdr12 << 20 | cookie_mac(ctx, laddr, raddr, rport, l->lport, irs, hdr12);

    /* a stand-in socket that exists only to build the SYN-ACK */
    struct ts_sock tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.laddr = laddr;
    tmp.raddr = raddr;
    tmp.rport = rport;
    tmp.lport = l->lport;
    tmp.rcv_nxt = irs + 1;
    tmp.mss = cookie_mss[mi];
    if (ws) {
        tmp.tflags |= TF_WS_OK;
        tmp.rcv_wscale = ctx->rcv_wscale;
    }
    if (sack)
        tmp.tflags |= TF_SACK_OK;
    if (ts) {
        tmp.tflags |= TF_TS_OK;
        tmp.ts_recent = tsval;
    }
    ctx->st.tcp_syncookies_sent++;
    tcp_send_ctl(ctx, &tmp, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, cookie);
}

bool tcp_cookie_check(struct ts_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                      uint16_t lport, uint32_t irs, uint32_t cookie, uint16_t *mss,
                      int8_t *wscale, bool *sack_ok, bool *has_ts)
{
    uint32_t hdr12 = cookie >> 20;
    uint32_t t = hdr12 >> 9;
    uint32_t now = cookie_period(ctx);
    if (t != now && t != ((now - 1) & 7))
        return false;
    if ((cookie & 0xfffff) != cookie_mac(ctx, laddr, raddr, rport, lport, irs, hdr12))
        return false;
    *mss = cookie_mss[(hdr12 >> 6) & 7];
    uint32_t ws = (hdr12 >> 2) & 15;
    *wscale = ws == 15 ? -1 : (int8_t)ws;
    *sack_ok = (hdr12 >> 1) & 1;
    *has_ts = hdr12 & 1;
    return true;
}
