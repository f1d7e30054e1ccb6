/**
 * @file test_pktscripts.c
 * Packet scripts, in the spirit of packetdrill: each tests/tcpstack/scripts/
 * *.pkt file is one CMocka test that injects segments into one stack context
 * at virtual times and states the exact segments the stack must send back,
 * with the application's calls in between. With no argument every script
 * runs; with a path, only that one (for debugging).
 *
 * THE FORMAT
 *
 *   // comment (also: a line starting with #)
 *   %param NAME VALUE     a struct ts_params field, before the first event:
 *                         delack_ms opt_wscale opt_timestamps opt_sack rcvbuf
 *                         rcvbuf_max rcvbuf_grown sndbuf sndbuf_max snd_copybuf msl_ms
 * rto_min_ms rto_max_ms syn_retries data_retries keepalive_ms keepalive_intvl_ms
 * keepalive_probes cc_algo (newreno|cubic|number) syncookies mtu max_bufs max_time_wait
 * fin_timeout_ms max_orphans orphan_retries %tolerance_ms N       how far a segment's
 * send time may be from its line's time (default 2) %peer_isn N           the peer's
 * initial sequence number (default 1000000)
 *
 * Every other line is an event that starts with a time in seconds: "1.250"
 * is absolute (the script's clock starts at 0; the stack's reads 1 s more,
 * so its TSval, in 10 ms ticks, is 100 + script ms / 10), "+0.010" is
 * relative to the
 * previous line. Moving to a line's time advances the stack's clock in 1 ms
 * steps, calling ts_poll() at each, so timers fire at their millisecond.
 *
 *   < FLAGS SEQ:END(LEN) [ack N] win W [<options>]
 *       The peer (198.18.0.1:40000) sends a segment to port 80 (after a
 *       connect: from the connect's port to the port the stack chose). FLAGS
 *       from S F R P U E W and . (ACK), e.g. S  .  P.  F.  R  R.
 *       SEQ is relative to the peer's ISN; ack N is relative to the stack's
 *       ISS, learned from the last SYN or SYN-ACK it sent (0 before any).
 *       Payload byte at relative sequence number q is a fixed function of q
 *       (the peer's pattern). W is the raw 16-bit window field.
 *   > FLAGS SEQ:END(LEN) [ack N] [win W|*] [<options>|<...>]
 *       The oldest segment the stack has sent and the script has not yet
 *       matched must be exactly this: flags, SEQ (relative to the stack's
 *       ISS), length, ack (relative to the peer's ISN), raw window field
 *       (unless * or absent) and options in order (unless <...>; no <...>
 *       part at all means no options). Its payload must be what the
 *       application wrote at those offsets. It must have been sent within
 *       the tolerance of the line's time.
 *   Options: mss N | sackOK | TS val V ecr E | nop | eol | wscale N |
 *       sack A:B [C:D ...]. V or E may be * (outbound: any; inbound ecr *:
 *       the stack's last TSval). SACK edges are relative to the ISS of the
 *       side whose data they cover (inbound: the stack's; outbound: the
 *       peer's).
 *
 *   Application calls, each followed by ts_poll() at the same time:
 *     listen PORT [backlog N]         socket, bind, listen
 *     connect [PORT] [= RET [ERRNO]]  active open to the peer (default
 *                                     = -1 EINPROGRESS)
 *     accept [= RET [ERRNO]]          no "=": must return a connection
 *     read N = RET [ERRNO]            RET bytes must be the peer's pattern at
 *                                     the next unread offset; = 0 is EOF
 *     write N = RET [ERRNO]           writes the application's pattern
 *     write_ref N = RET [ERRNO]       the same by reference; every reference
 *                                     must be released by the end
 *     shutdown rd|wr|rdwr [= RET [ERRNO]]
 *     close [listener] [= RET [ERRNO]]
 *     stat FIELD = VALUE              a struct ts_stats field
 *     rec FIELD = VALUE               a field of the connection's send
 *                                     records (struct tcp_rec: head n
 *                                     sacked lost retrans sacked_segs);
 *                                     the connection must hold buffers
 *     sock FIELD = VALUE              a field of the connection's socket
 *                                     (struct ts_sock: min_rtt_us
 *                                     reo_extent_us reo_late_us; BBR's
 *                                     latest reordering allowance
 *                                     bbr_reo_us)
 *     peer_port N                     from here on the peer talks from port
 *                                     N: another connection (its segments'
 *                                     relative numbers start again)
 *   ERRNO is a name: EAGAIN ECONNRESET EPIPE ENOTCONN ETIMEDOUT ...; calls
 *   without "=" must return 0.
 *
 * Before any line that is not an outbound segment, and at the end (after a
 * final 10 ms), every segment the stack sent must have been matched. ARP
 * requests for the peer are answered at once and are not segments.
 *
 * A failure names script:line, what was expected and what was seen, both
 * in the script's syntax.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>

#include "harness.h"
#include "pktscript.h"
#include "tcp_cc.h"
#include "ts_priv.h"

#define PS_BASE_US 1000000    /* the stack's clock at script time 0 (th_start) */
#define PS_QMAX 1024          /* sent frames waiting to be matched */
#define PS_BUF_MAX (1u << 21) /* bytes of application data per direction */
#define PS_MSG_MAX 2048
#define PS_SEG_STR 512
#define PS_SALT_PEER 0x5au
#define PS_SALT_APP 0xc3u

struct ps_frame {
    struct rte_mbuf *m;
    int64_t t_us; /* script time it was sent */
};

struct ps_run {
    const char *path;
    FILE *f;
    int line;
    struct ts_params p; /* until the first event: %param goes here */
    bool started;
    struct th h;

    int64_t t_line;  /* script time of the last event line */
    int64_t t_clock; /* script time the stack's clock reads */
    int64_t tol_us;

    uint32_t peer_isn;
    uint32_t iss; /* the stack's, from its last SYN */
    bool have_iss;
    uint16_t lport, rport; /* the stack's port, the peer's */
    uint32_t last_tsval;
    bool have_tsval;

    struct ps_frame q[PS_QMAX];
    unsigned qhead, qn;
    struct rte_mbuf *cur; /* the sent frame being checked */

    int lfd, fd;
    int64_t rd_next; /* relative peer sequence of the next byte read */
    int64_t wr_next; /* relative stack sequence of the next byte written */
    uint8_t *app;    /* app[q]: the application's byte at relative sequence q */
    uint8_t *iobuf;
    unsigned refs_out, refs_released;
};

/* The byte at relative sequence number @p q of one direction. */
static uint8_t ps_pattern(uint32_t q, uint8_t salt)
{
    return (uint8_t)((q * 2654435761u) >> 24) ^ salt;
}

static double ps_sec(int64_t us)
{
    return (double)us / 1e6;
}

__attribute__((format(printf, 2, 3), noreturn)) static void ps_fail(struct ps_run *r,
                                                                    const char *fmt, ...)
{
    char msg[PS_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("%s:%d: %s", r->path, r->line, msg);
    abort(); /* fail() jumps back into cmocka: never reached */
}

/* -------------------------------------------------------------- params */

/* A field of struct ts_params or struct ts_stats, by name. */
struct ps_field {
    const char *name;
    size_t off, size;
};

/* clang-format off */
#define PS_FIELD(type, f) {#f, offsetof(struct type, f), sizeof(((struct type *)0)->f)}

static const struct ps_field ps_params[] = {
    PS_FIELD(ts_params, mtu),
    PS_FIELD(ts_params, max_bufs),
    PS_FIELD(ts_params, rcvbuf),
    PS_FIELD(ts_params, rcvbuf_max),
    PS_FIELD(ts_params, rcvbuf_grown),
    PS_FIELD(ts_params, sndbuf),
    PS_FIELD(ts_params, sndbuf_max),
    PS_FIELD(ts_params, snd_copybuf),
    PS_FIELD(ts_params, msl_ms),
    PS_FIELD(ts_params, rto_min_ms),
    PS_FIELD(ts_params, rto_max_ms),
    PS_FIELD(ts_params, syn_retries),
    PS_FIELD(ts_params, data_retries),
    PS_FIELD(ts_params, opt_wscale),
    PS_FIELD(ts_params, opt_timestamps),
    PS_FIELD(ts_params, opt_sack),
    PS_FIELD(ts_params, delack_ms),
    PS_FIELD(ts_params, keepalive_ms),
    PS_FIELD(ts_params, keepalive_intvl_ms),
    PS_FIELD(ts_params, keepalive_probes),
    PS_FIELD(ts_params, cc_algo),
    PS_FIELD(ts_params, syncookies),
    PS_FIELD(ts_params, max_time_wait),
    PS_FIELD(ts_params, fin_timeout_ms),
    PS_FIELD(ts_params, max_orphans),
    PS_FIELD(ts_params, orphan_retries),
};

static const struct ps_field ps_stats[] = {
    PS_FIELD(ts_stats, rx_frames),
    PS_FIELD(ts_stats, tx_frames),
    PS_FIELD(ts_stats, rx_bad_eth),
    PS_FIELD(ts_stats, rx_bad_ip),
    PS_FIELD(ts_stats, rx_not_for_us),
    PS_FIELD(ts_stats, rx_bad_cksum),
    PS_FIELD(ts_stats, rx_bad_tcp),
    PS_FIELD(ts_stats, rx_no_flow),
    PS_FIELD(ts_stats, rx_unsupported),
    PS_FIELD(ts_stats, rx_fragments),
    PS_FIELD(ts_stats, rx_bad_tcp_options),
    PS_FIELD(ts_stats, rx_out_of_window),
    PS_FIELD(ts_stats, rx_syn_shed),
    PS_FIELD(ts_stats, rx_syn_shed_retried),
    PS_FIELD(ts_stats, arp_requests_rx),
    PS_FIELD(ts_stats, arp_replies_tx),
    PS_FIELD(ts_stats, arp_requests_tx),
    PS_FIELD(ts_stats, arp_pending_drops),
    PS_FIELD(ts_stats, icmp_echo_rx),
    PS_FIELD(ts_stats, tcp_active),
    PS_FIELD(ts_stats, tcp_passive),
    PS_FIELD(ts_stats, tcp_accept_overflow),
    PS_FIELD(ts_stats, tcp_retransmits),
    PS_FIELD(ts_stats, tcp_rst_tx),
    PS_FIELD(ts_stats, tcp_timeouts),
    PS_FIELD(ts_stats, tcp_established),
    PS_FIELD(ts_stats, rx_paws_drops),
    PS_FIELD(ts_stats, rx_paws_disordered),
    PS_FIELD(ts_stats, tcp_challenge_acks),
    PS_FIELD(ts_stats, tcp_keepalive_drops),
    PS_FIELD(ts_stats, tcp_fast_retransmits),
    PS_FIELD(ts_stats, tcp_tlp_probes),
    PS_FIELD(ts_stats, tcp_lost_retransmits),
    PS_FIELD(ts_stats, tcp_rack_losses),
    PS_FIELD(ts_stats, tcp_timeouts_min_rto),
    PS_FIELD(ts_stats, tcp_window_probes),
    PS_FIELD(ts_stats, tcp_dsack_rx),
    PS_FIELD(ts_stats, tcp_dsack_tx),
    PS_FIELD(ts_stats, tcp_spurious_rexmits),
    PS_FIELD(ts_stats, tcp_reo_seeded),
    PS_FIELD(ts_stats, tcp_undo_recovery),
    PS_FIELD(ts_stats, tcp_undo_rto),
    PS_FIELD(ts_stats, tcp_tlp_recoveries),
    PS_FIELD(ts_stats, tcp_hystart_exits),
    PS_FIELD(ts_stats, tcp_rcvbuf_grows),
    PS_FIELD(ts_stats, rcvbuf_grown_in_use),
    PS_FIELD(ts_stats, tcp_syncookies_sent),
    PS_FIELD(ts_stats, tcp_syncookies_ok),
    PS_FIELD(ts_stats, tcp_syncookies_bad),
    PS_FIELD(ts_stats, tx_nombuf),
    PS_FIELD(ts_stats, tcp_time_wait),
    PS_FIELD(ts_stats, tcp_tw_recycled),
    PS_FIELD(ts_stats, tcp_tw_reused),
    PS_FIELD(ts_stats, tw_in_use),
    PS_FIELD(ts_stats, tcp_nobufs_resets),
    PS_FIELD(ts_stats, tcp_nobufs_drops),
    PS_FIELD(ts_stats, tcp_nobufs_writes),
    PS_FIELD(ts_stats, tcp_bufs_idle_releases),
    PS_FIELD(ts_stats, tcp_orphan_fin_timeouts),
    PS_FIELD(ts_stats, tcp_orphan_drops),
    PS_FIELD(ts_stats, tcp_orphan_overflow),
    PS_FIELD(ts_stats, orphans_in_use),
    PS_FIELD(ts_stats, socks_in_use),
    PS_FIELD(ts_stats, bufs_in_use),
};

static const struct ps_field ps_rec[] = {
    PS_FIELD(tcp_rec, head),
    PS_FIELD(tcp_rec, n),
    PS_FIELD(tcp_rec, sacked),
    PS_FIELD(tcp_rec, lost),
    PS_FIELD(tcp_rec, retrans),
    PS_FIELD(tcp_rec, sacked_segs),
};

static const struct ps_field ps_sock[] = {
    PS_FIELD(ts_sock, min_rtt_us),
    PS_FIELD(ts_sock, reo_extent_us),
    PS_FIELD(ts_sock, reo_late_us),
    {"bbr_reo_us", offsetof(struct ts_sock, cc.bbr.reo_us), sizeof(uint32_t)},
    {"cwnd", offsetof(struct ts_sock, cc.cwnd), sizeof(uint32_t)},
};
/* clang-format on */

static const struct ps_field *ps_field_find(const struct ps_field *t, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

static uint64_t ps_field_get(const void *base, const struct ps_field *f)
{
    const uint8_t *p = (const uint8_t *)base + f->off;
    switch (f->size) {
    case 1:
        return *p;
    case 2:
        return *(const uint16_t *)p;
    case 4:
        return *(const uint32_t *)p;
    default:
        return *(const uint64_t *)p;
    }
}

static void ps_directive(struct ps_run *r, const struct ps_directive *d)
{
    int64_t v;
    if (strcmp(d->what, "tolerance_ms") == 0) {
        if (!ps_int(d->value, &v) || v < 0 || v > 10000)
            ps_fail(r, "bad tolerance '%s'", d->value);
        r->tol_us = v * 1000;
        return;
    }
    if (strcmp(d->what, "peer_isn") == 0) {
        if (!ps_int(d->value, &v) || v < 0 || v > UINT32_MAX)
            ps_fail(r, "bad ISN '%s'", d->value);
        r->peer_isn = (uint32_t)v;
        return;
    }
    if (strcmp(d->what, "param") != 0)
        ps_fail(r, "unknown directive '%%%s'", d->what);
    const struct ps_field *f =
        ps_field_find(ps_params, sizeof(ps_params) / sizeof(ps_params[0]), d->name);
    if (f == NULL)
        ps_fail(r, "unknown parameter '%s'", d->name);
    if (strcmp(d->name, "cc_algo") == 0 && strcmp(d->value, "newreno") == 0)
        v = TCP_CC_NEWRENO;
    else if (strcmp(d->name, "cc_algo") == 0 && strcmp(d->value, "cubic") == 0)
        v = TCP_CC_CUBIC;
    else if (!ps_int(d->value, &v) || v < 0 || (f->size < 8 && v >> (8 * f->size)))
        ps_fail(r, "%s: bad value '%s'", d->name, d->value);
    uint8_t *p = (uint8_t *)&r->p + f->off;
    switch (f->size) {
    case 1:
        *p = (uint8_t)v; /* bool fields included */
        break;
    case 2:
        *(uint16_t *)p = (uint16_t)v;
        break;
    default:
        *(uint32_t *)p = (uint32_t)v;
        break;
    }
}

/* ----------------------------------------------------- the stack's side */

/* A frame the stack sent, decoded; numbers absolute. */
struct ps_sent {
    const char *bad; /* non-NULL: not a TCP segment of ours, and why */
    uint8_t flags;
    uint32_t seq, ack, len;
    uint16_t win, sport, dport;
    uint8_t nopt;
    struct ps_opt opt[PS_OPT_MAX]; /* SACK edges absolute */
    const uint8_t *data;
};

static uint32_t ps_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every option in order, as sent (RFC 9293 3.1: kind, length, value). */
static const char *ps_decode_opts(const uint8_t *o, uint32_t n, struct ps_sent *s)
{
    for (uint32_t i = 0; i < n;) {
        if (s->nopt == PS_OPT_MAX)
            return "too many options";
        struct ps_opt *x = &s->opt[s->nopt++];
        memset(x, 0, sizeof(*x));
        x->kind = o[i];
        if (o[i] == PS_OPT_EOL)
            return NULL; /* the rest is padding */
        if (o[i] == PS_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
            return "malformed option list";
        uint8_t len = o[i + 1];
        const uint8_t *v = o + i + 2;
        switch (o[i]) {
        case PS_OPT_MSS:
            if (len != 4)
                return "bad MSS option length";
            x->v = (uint32_t)(v[0] << 8 | v[1]);
            break;
        case PS_OPT_WSCALE:
            if (len != 3)
                return "bad window scale option length";
            x->v = v[0];
            break;
        case PS_OPT_SACKOK:
            if (len != 2)
                return "bad SACK-permitted option length";
            break;
        case PS_OPT_TS:
            if (len != 10)
                return "bad timestamps option length";
            x->v = ps_get32(v);
            x->ecr = ps_get32(v + 4);
            break;
        case PS_OPT_SACK:
            if (len < 10 || (len - 2) % 8 != 0 || (len - 2) / 8 > PS_SACK_MAX)
                return "bad SACK option length";
            x->nsack = (uint8_t)((len - 2) / 8);
            for (unsigned k = 0; k < x->nsack; k++) {
                x->sack[k][0] = ps_get32(v + 8 * k);
                x->sack[k][1] = ps_get32(v + 8 * k + 4);
            }
            break;
        default:
            break;
        }
        i += len;
    }
    return NULL;
}

static void ps_decode(struct rte_mbuf *m, struct ps_sent *s)
{
    memset(s, 0, sizeof(*s));
    const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    if (rte_pktmbuf_data_len(m) <
            sizeof(*eh) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr) ||
        rte_be_to_cpu_16(eh->ether_type) != RTE_ETHER_TYPE_IPV4) {
        s->bad = "not an IPv4 frame";
        return;
    }
    if (!rte_is_same_ether_addr(&eh->dst_addr, &th_peer_mac) ||
        !rte_is_same_ether_addr(&eh->src_addr, &th_us_mac)) {
        s->bad = "wrong Ethernet addresses";
        return;
    }
    struct rte_ipv4_hdr *ip = th_ip_of(m);
    if (ip->next_proto_id != IPPROTO_TCP || ip->version_ihl != RTE_IPV4_VHL_DEF) {
        s->bad = "not a TCP datagram (or IP options)";
        return;
    }
    if (rte_be_to_cpu_32(ip->src_addr) != TH_US_IP ||
        rte_be_to_cpu_32(ip->dst_addr) != TH_PEER_IP) {
        s->bad = "wrong IP addresses";
        return;
    }
    uint32_t iplen = rte_be_to_cpu_16(ip->total_length);
    if (iplen + sizeof(*eh) > rte_pktmbuf_data_len(m) || iplen < sizeof(*ip) + 20) {
        s->bad = "bad IP length";
        return;
    }
    if (rte_raw_cksum(ip, sizeof(*ip)) != 0xffff) {
        s->bad = "bad IP checksum";
        return;
    }
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
    uint32_t doff = (t->data_off >> 4) * 4u;
    if (doff < sizeof(*t) || doff > iplen - sizeof(*ip)) {
        s->bad = "bad TCP data offset";
        return;
    }
    if (rte_ipv4_udptcp_cksum_verify(ip, t) != 0) {
        s->bad = "bad TCP checksum";
        return;
    }
    s->flags = t->tcp_flags;
    s->seq = rte_be_to_cpu_32(t->sent_seq);
    s->ack = rte_be_to_cpu_32(t->recv_ack);
    s->win = rte_be_to_cpu_16(t->rx_win);
    s->sport = rte_be_to_cpu_16(t->src_port);
    s->dport = rte_be_to_cpu_16(t->dst_port);
    s->len = iplen - (uint32_t)sizeof(*ip) - doff;
    s->data = (const uint8_t *)t + doff;
    s->bad = ps_decode_opts((const uint8_t *)(t + 1), doff - (uint32_t)sizeof(*t), s);
}

static int64_t ps_rel(uint32_t abs, uint32_t base)
{
    return (int32_t)(abs - base);
}

/* A sent segment in the script's relative terms. */
static void ps_sent_seg(const struct ps_run *r, const struct ps_sent *s, struct ps_seg *g)
{
    memset(g, 0, sizeof(*g));
    g->flags = s->flags;
    g->seq = ps_rel(s->seq, r->iss);
    g->len = s->len;
    g->has_ack = s->flags & RTE_TCP_ACK_FLAG;
    g->ack = g->has_ack ? ps_rel(s->ack, r->peer_isn) : 0;
    g->win = s->win;
    g->nopt = s->nopt;
    memcpy(g->opt, s->opt, sizeof(g->opt));
    for (unsigned i = 0; i < g->nopt; i++)
        for (unsigned k = 0; k < g->opt[i].nsack; k++)
            for (unsigned e = 0; e < 2; e++)
                g->opt[i].sack[k][e] =
                    ps_rel((uint32_t)g->opt[i].sack[k][e], r->peer_isn);
}

static bool ps_same32(int64_t a, int64_t b)
{
    return (uint32_t)a == (uint32_t)b;
}

/* Which field of @p got differs from what @p want states; NULL: none. */
static const char *ps_seg_diff(const struct ps_seg *want, const struct ps_seg *got)
{
    if (want->flags != got->flags)
        return "flags";
    if (!ps_same32(want->seq, got->seq))
        return "sequence number";
    if (want->len != got->len)
        return "length";
    if (want->has_ack && !ps_same32(want->ack, got->ack))
        return "acknowledgment number";
    if (!want->win_any && want->win != got->win)
        return "window";
    if (want->opts_any)
        return NULL;
    if (want->nopt != got->nopt)
        return "options";
    for (unsigned i = 0; i < want->nopt; i++) {
        const struct ps_opt *a = &want->opt[i], *b = &got->opt[i];
        if (a->kind != b->kind)
            return "options";
        switch (a->kind) {
        case PS_OPT_MSS:
        case PS_OPT_WSCALE:
            if (a->v != b->v)
                return "options";
            break;
        case PS_OPT_TS:
            if (!a->val_any && a->v != b->v)
                return "TS val";
            if (!a->ecr_any && a->ecr != b->ecr)
                return "TS ecr";
            break;
        case PS_OPT_SACK:
            if (a->nsack != b->nsack)
                return "SACK blocks";
            for (unsigned k = 0; k < a->nsack; k++)
                if (!ps_same32(a->sack[k][0], b->sack[k][0]) ||
                    !ps_same32(a->sack[k][1], b->sack[k][1]))
                    return "SACK blocks";
            break;
        default:
            break;
        }
    }
    return NULL;
}

/* A sent frame for a message: the segment in script syntax, or why not. */
static const char *ps_frame_str(const struct ps_run *r, struct rte_mbuf *m, char *out,
                                size_t n)
{
    struct ps_sent s;
    struct ps_seg g;
    ps_decode(m, &s);
    if (s.bad) {
        snprintf(out, n, "a frame that is not one of our segments (%s)", s.bad);
        return out;
    }
    ps_sent_seg(r, &s, &g);
    return ps_seg_str(&g, out, n);
}

/* ------------------------------------------------------------ the wire */

static void ps_queue(struct ps_run *r, struct rte_mbuf *m)
{
    if (r->qn == PS_QMAX) {
        rte_pktmbuf_free(m);
        ps_fail(r, "more than %d segments sent and not matched", PS_QMAX);
    }
    r->q[(r->qhead + r->qn++) % PS_QMAX] = (struct ps_frame){m, r->t_clock};
}

/* An ARP request for the peer: answered as the peer would, at once. */
static bool ps_is_arp_for_peer(struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    if (rte_be_to_cpu_16(eh->ether_type) != RTE_ETHER_TYPE_ARP)
        return false;
    const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);
    return rte_be_to_cpu_16(a->arp_opcode) == RTE_ARP_OP_REQUEST &&
           rte_be_to_cpu_32(a->arp_data.arp_tip) == TH_PEER_IP;
}

/* Moves what the stack sent into the queue, stamped with the time. */
static void ps_drain(struct ps_run *r)
{
    while (r->h.nout > 0) {
        struct rte_mbuf *batch[TH_OUT_MAX];
        unsigned n = r->h.nout;
        memcpy(batch, r->h.out, n * sizeof(batch[0]));
        r->h.nout = 0;
        for (unsigned i = 0; i < n; i++) {
            if (ps_is_arp_for_peer(batch[i])) {
                rte_pktmbuf_free(batch[i]);
                th_inject(&r->h, th_arp(&r->h, RTE_ARP_OP_REPLY, TH_PEER_IP, TH_US_IP));
            } else {
                ps_queue(r, batch[i]);
            }
        }
    }
}

static void ps_poll(struct ps_run *r)
{
    ts_poll(r->h.ctx, r->h.now);
    ps_drain(r);
}

/* Runs the stack's clock to script time @p t in steps of at most 1 ms. */
static void ps_advance(struct ps_run *r, int64_t t)
{
    while (r->t_clock < t) {
        int64_t next = (r->t_clock / 1000 + 1) * 1000;
        r->t_clock = next < t ? next : t;
        r->h.now = PS_BASE_US + (uint64_t)r->t_clock;
        ps_poll(r);
    }
}

/* Nothing sent that the script has not stated. */
static void ps_expect_quiet(struct ps_run *r, const char *when)
{
    if (r->qn == 0)
        return;
    char got[PS_SEG_STR];
    const struct ps_frame *f = &r->q[r->qhead];
    ps_fail(r, "unexpected segment %s at %.3f (%s)",
            ps_frame_str(r, f->m, got, sizeof(got)), ps_sec(f->t_us), when);
}

/* The next sent segment must be @p want, sent at about @p t. */
static void ps_expect_out(struct ps_run *r, const struct ps_seg *want, int64_t t)
{
    char ws[PS_SEG_STR], gs[PS_SEG_STR];
    ps_seg_str(want, ws, sizeof(ws));
    /* a segment may come up to the tolerance late */
    while (r->qn == 0 && r->t_clock < t + r->tol_us) {
        int64_t step = r->t_clock + 1000;
        ps_advance(r, step < t + r->tol_us ? step : t + r->tol_us);
    }
    if (r->qn == 0)
        ps_fail(r, "expected %s at %.3f: nothing sent by %.3f", ws, ps_sec(t),
                ps_sec(r->t_clock));
    struct ps_frame f = r->q[r->qhead];
    r->qhead = (r->qhead + 1) % PS_QMAX;
    r->qn--;
    r->cur = f.m; /* freed here, or by the teardown after a failure */
    struct ps_sent s;
    ps_decode(f.m, &s);
    if (s.bad)
        ps_fail(r,
                "expected %s at %.3f: sent at %.3f a frame that is not one of our "
                "segments (%s)",
                ws, ps_sec(t), ps_sec(f.t_us), s.bad);
    /* a SYN or SYN-ACK starts the stack's sequence space */
    if ((s.flags & RTE_TCP_SYN_FLAG) && (!r->have_iss || s.seq != r->iss)) {
        r->iss = s.seq;
        r->have_iss = true;
        r->wr_next = 1;
    }
    if (s.flags & RTE_TCP_SYN_FLAG)
        r->lport = s.sport;
    struct ps_seg got;
    ps_sent_seg(r, &s, &got);
    ps_seg_str(&got, gs, sizeof(gs));
    for (unsigned i = 0; i < s.nopt; i++) {
        if (s.opt[i].kind == PS_OPT_TS) {
            r->last_tsval = s.opt[i].v;
            r->have_tsval = true;
        }
    }
    int64_t late = f.t_us - t;
    if (late > r->tol_us || -late > r->tol_us)
        ps_fail(r, "expected %s at %.3f, sent at %.3f: %s", ws, ps_sec(t), ps_sec(f.t_us),
                gs);
    if (s.sport != r->lport || s.dport != r->rport)
        ps_fail(r, "expected %s: sent from port %u to %u (not %u to %u): %s", ws, s.sport,
                s.dport, r->lport, r->rport, gs);
    const char *diff = ps_seg_diff(want, &got);
    if (diff)
        ps_fail(r, "expected %s at %.3f\n      sent %s at %.3f: %s differs", ws,
                ps_sec(t), gs, ps_sec(f.t_us), diff);
    /* the payload: what the application wrote at these offsets */
    uint32_t q0 = (uint32_t)got.seq + !!(got.flags & RTE_TCP_SYN_FLAG);
    for (uint32_t k = 0; k < got.len; k++) {
        uint32_t q = q0 + k;
        if (q >= PS_BUF_MAX || (int64_t)q >= r->wr_next)
            ps_fail(r,
                    "%s: payload byte %u (relative sequence %u): the application "
                    "wrote nothing there",
                    gs, k, q);
        if (s.data[k] != r->app[q])
            ps_fail(r,
                    "%s: payload byte %u (relative sequence %u) is 0x%02x, the "
                    "application wrote 0x%02x",
                    gs, k, q, s.data[k], r->app[q]);
    }
    rte_pktmbuf_free(r->cur);
    r->cur = NULL;
}

/* --------------------------------------------------------- the peer */

static void ps_inject(struct ps_run *r, const struct ps_seg *seg)
{
    uint8_t opts[40 + 2 + 8 * PS_SACK_MAX]; /* room for one option too many */
    uint32_t n = 0;
    for (unsigned i = 0; i < seg->nopt; i++) {
        const struct ps_opt *o = &seg->opt[i];
        if (n > 40)
            ps_fail(r, "options longer than 40 bytes");
        switch (o->kind) {
        case PS_OPT_EOL:
        case PS_OPT_NOP:
            opts[n++] = o->kind;
            break;
        case PS_OPT_MSS:
            opts[n++] = PS_OPT_MSS;
            opts[n++] = 4;
            opts[n++] = (uint8_t)(o->v >> 8);
            opts[n++] = (uint8_t)o->v;
            break;
        case PS_OPT_WSCALE:
            opts[n++] = PS_OPT_WSCALE;
            opts[n++] = 3;
            opts[n++] = (uint8_t)o->v;
            break;
        case PS_OPT_SACKOK:
            opts[n++] = PS_OPT_SACKOK;
            opts[n++] = 2;
            break;
        case PS_OPT_TS: {
            if (o->val_any)
                ps_fail(r, "an inbound TS val is a number");
            if (o->ecr_any && !r->have_tsval)
                ps_fail(r, "TS ecr *: the stack has sent no TSval yet");
            uint32_t val = rte_cpu_to_be_32(o->v);
            uint32_t ecr = rte_cpu_to_be_32(o->ecr_any ? r->last_tsval : o->ecr);
            opts[n++] = PS_OPT_TS;
            opts[n++] = 10;
            memcpy(opts + n, &val, 4);
            memcpy(opts + n + 4, &ecr, 4);
            n += 8;
            break;
        }
        case PS_OPT_SACK:
            opts[n++] = PS_OPT_SACK;
            opts[n++] = (uint8_t)(2 + 8 * o->nsack);
            for (unsigned k = 0; k < o->nsack; k++) {
                for (unsigned e = 0; e < 2; e++) {
                    uint32_t v = rte_cpu_to_be_32(r->iss + (uint32_t)o->sack[k][e]);
                    memcpy(opts + n, &v, 4);
                    n += 4;
                }
            }
            break;
        default:
            ps_fail(r, "cannot send option kind %u", o->kind);
        }
    }
    uint32_t optlen = (n + 3) & ~3u; /* padded with zeros: EOL */
    if (optlen > 40)
        ps_fail(r, "options longer than 40 bytes");
    if (seg->len > r->p.mtu - 40u - optlen)
        ps_fail(r, "a segment of %u bytes does not fit the MTU", seg->len);
    struct rte_tcp_hdr *t;
    struct rte_mbuf *m = th_ipv4(&r->h, TH_PEER_IP, TH_US_IP, IPPROTO_TCP,
                                 sizeof(*t) + optlen + seg->len, (void **)&t);
    t->src_port = rte_cpu_to_be_16(r->rport);
    t->dst_port = rte_cpu_to_be_16(r->lport);
    t->sent_seq = rte_cpu_to_be_32(r->peer_isn + (uint32_t)seg->seq);
    t->recv_ack = rte_cpu_to_be_32(seg->has_ack ? r->iss + (uint32_t)seg->ack : 0);
    t->data_off = (uint8_t)(((sizeof(*t) + optlen) / 4) << 4);
    t->tcp_flags = seg->flags;
    t->rx_win = rte_cpu_to_be_16((uint16_t)seg->win);
    uint8_t *p = (uint8_t *)(t + 1);
    memcpy(p, opts, n);
    uint32_t q0 = (uint32_t)seg->seq + !!(seg->flags & RTE_TCP_SYN_FLAG);
    for (uint32_t k = 0; k < seg->len; k++)
        p[optlen + k] = ps_pattern(q0 + k, PS_SALT_PEER);
    t->cksum = rte_ipv4_udptcp_cksum(th_ip_of(m), t);
    if (seg->flags & RTE_TCP_SYN_FLAG)
        r->rd_next = seg->seq + 1;
    th_inject(&r->h, m);
    ps_drain(r);
}

/* ---------------------------------------------------- the application */

static void ps_ref_release(void *arg)
{
    struct ps_run *r = arg;
    r->refs_released++;
}

/* The call returned @p got (errno @p err): is it what the line says? */
static void ps_check_ret(struct ps_run *r, const struct ps_event *ev, const char *call,
                         long long got, int err)
{
    long long want = ev->has_ret ? ev->ret : 0;
    if (got == want && (want != -1 || err == ev->err))
        return;
    if (want == -1)
        ps_fail(r, "%s: expected -1 %s, got %lld%s%s", call, ps_errno_name(ev->err), got,
                got == -1 ? " " : "", got == -1 ? ps_errno_name(err) : "");
    ps_fail(r, "%s: expected %lld, got %lld%s%s", call, want, got, got == -1 ? " " : "",
            got == -1 ? ps_errno_name(err) : "");
}

static void ps_app(struct ps_run *r, const struct ps_event *ev)
{
    struct ts_ctx *ctx = r->h.ctx;
    uint32_t n = (uint32_t)ev->arg;
    long long ret;
    switch (ev->kind) {
    case PS_LISTEN:
        r->lfd = ts_socket(ctx);
        if (r->lfd <= 0 || ts_bind(ctx, r->lfd, 0, (uint16_t)ev->arg) != 0 ||
            ts_listen(ctx, r->lfd, (int)ev->backlog) != 0)
            ps_fail(r, "listen %lld: %s", (long long)ev->arg, ps_errno_name(errno));
        break;
    case PS_CONNECT: {
        r->fd = ts_socket(ctx);
        if (r->fd <= 0)
            ps_fail(r, "socket: %s", ps_errno_name(errno));
        if (ev->arg)
            r->rport = (uint16_t)ev->arg;
        ret = ts_connect(ctx, r->fd, TH_PEER_IP, r->rport);
        struct ps_event def = *ev;
        if (!def.has_ret) {
            def.has_ret = true;
            def.ret = -1;
            def.err = EINPROGRESS;
        }
        ps_check_ret(r, &def, "connect", ret, errno);
        break;
    }
    case PS_ACCEPT:
        ret = ts_accept(ctx, r->lfd, NULL, NULL);
        if (!ev->has_ret) {
            if (ret <= 0)
                ps_fail(r, "accept: no connection (%s)", ps_errno_name(errno));
        } else {
            ps_check_ret(r, ev, "accept", ret, errno);
        }
        if (ret > 0)
            r->fd = (int)ret;
        break;
    case PS_READ:
        ret = ts_read(ctx, r->fd, r->iobuf, n);
        ps_check_ret(r, ev, "read", ret, errno);
        for (long long k = 0; k < ret; k++) {
            uint8_t want = ps_pattern((uint32_t)(r->rd_next + k), PS_SALT_PEER);
            if (r->iobuf[k] != want)
                ps_fail(r,
                        "read: byte %lld (relative sequence %lld) is 0x%02x, the peer "
                        "sent 0x%02x",
                        k, (long long)(r->rd_next + k), r->iobuf[k], want);
        }
        if (ret > 0)
            r->rd_next += ret;
        break;
    case PS_WRITE:
    case PS_WRITE_REF:
        if (r->wr_next + n > PS_BUF_MAX)
            ps_fail(r, "more than %u bytes written", PS_BUF_MAX);
        if (ev->kind == PS_WRITE) {
            ret = ts_write(ctx, r->fd, r->app + r->wr_next, n);
        } else {
            struct ts_ref_owner owner = {.release = ps_ref_release, .arg = r};
            ret = ts_write_ref(ctx, r->fd, r->app + r->wr_next, n, &owner);
            if (ret > 0)
                r->refs_out++;
        }
        ps_check_ret(r, ev, ev->kind == PS_WRITE ? "write" : "write_ref", ret, errno);
        if (ret > 0)
            r->wr_next += ret;
        break;
    case PS_SHUTDOWN:
        ret = ts_shutdown(ctx, r->fd, (int)ev->arg);
        ps_check_ret(r, ev, "shutdown", ret, errno);
        break;
    case PS_CLOSE:
        ret = ts_close(ctx, ev->listener ? r->lfd : r->fd);
        ps_check_ret(r, ev, "close", ret, errno);
        break;
    case PS_PEER_PORT:
        /* another connection of the same peer: its ISS comes with its SYN */
        r->rport = (uint16_t)ev->arg;
        r->have_iss = false;
        break;
    case PS_STAT: {
        const struct ps_field *f =
            ps_field_find(ps_stats, sizeof(ps_stats) / sizeof(ps_stats[0]), ev->name);
        if (f == NULL)
            ps_fail(r, "unknown stat '%s'", ev->name);
        struct ts_stats st = th_stats(&r->h);
        uint64_t v = ps_field_get(&st, f);
        if (v != (uint64_t)ev->arg)
            ps_fail(r, "stat %s is %llu, expected %lld", ev->name, (unsigned long long)v,
                    (long long)ev->arg);
        break;
    }
    case PS_REC:
    case PS_SOCK: {
        /* the connection's socket, or its send records (in its buffers) */
        bool rec = ev->kind == PS_REC;
        const char *what = rec ? "rec" : "sock";
        const struct ps_field *f =
            rec ? ps_field_find(ps_rec, sizeof(ps_rec) / sizeof(ps_rec[0]), ev->name)
                : ps_field_find(ps_sock, sizeof(ps_sock) / sizeof(ps_sock[0]), ev->name);
        const struct ts_sock *s = r->fd > 0 ? &ctx->socks[r->fd] : NULL;
        const void *base = s;
        if (rec)
            base = s && s->bufs ? &s->bufs->rec : NULL;
        if (f == NULL)
            ps_fail(r, "unknown %s field '%s'", what, ev->name);
        if (base == NULL)
            ps_fail(r, "%s: no connection%s", what, rec ? " holding buffers" : "");
        uint64_t v = ps_field_get(base, f);
        if (v != (uint64_t)ev->arg)
            ps_fail(r, "%s %s is %llu, expected %lld", what, ev->name,
                    (unsigned long long)v, (long long)ev->arg);
        break;
    }
    default:
        ps_fail(r, "not an application call");
    }
    ps_poll(r);
}

/* ------------------------------------------------------------- runner */

static void ps_start(struct ps_run *r)
{
    th_start(&r->h, &r->p);
    r->started = true;
    th_peer_arp(&r->h);
}

static void ps_event(struct ps_run *r, const struct ps_event *ev)
{
    int64_t t = ev->relative ? r->t_line + ev->time_us : ev->time_us;
    if (t < r->t_line)
        ps_fail(r, "time %.3f is before the previous line's %.3f", ps_sec(t),
                ps_sec(r->t_line));
    r->t_line = t;
    ps_advance(r, t);
    if (ev->kind == PS_OUT) {
        ps_expect_out(r, &ev->seg, t);
        return;
    }
    ps_expect_quiet(r, "not stated before this line");
    if (ev->kind == PS_IN)
        ps_inject(r, &ev->seg);
    else
        ps_app(r, ev);
}

static void ps_script(void **state)
{
    struct ps_run *r = *state;
    char text[1024], err[PS_ERR_MAX];
    struct ps_line pl;
    r->f = fopen(r->path, "r");
    if (r->f == NULL)
        ps_fail(r, "cannot open: %s", strerror(errno));
    while (fgets(text, sizeof(text), r->f)) {
        r->line++;
        if (strchr(text, '\n') == NULL && !feof(r->f))
            ps_fail(r, "line longer than %zu characters", sizeof(text) - 2);
        if (!ps_parse_line(text, &pl, err))
            ps_fail(r, "%s", err);
        if (pl.kind == PS_LINE_DIRECTIVE) {
            if (r->started)
                ps_fail(r, "directives come before the first event");
            ps_directive(r, &pl.dir);
        } else if (pl.kind == PS_LINE_EVENT) {
            if (!r->started)
                ps_start(r);
            ps_event(r, &pl.ev);
        }
    }
    if (!r->started)
        ps_fail(r, "no events");
    ps_advance(r, r->t_line + 10000);
    ps_expect_quiet(r, "at the end of the script");
}

static int ps_setup(void **state)
{
    struct ps_run *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -1;
    r->path = *state;
    r->tol_us = 2000;
    r->peer_isn = 1000000;
    r->lport = TH_PORT;
    r->rport = TH_PEER_PORT;
    th_params(&r->p);
    r->app = malloc(PS_BUF_MAX);
    r->iobuf = malloc(PS_BUF_MAX);
    if (r->app == NULL || r->iobuf == NULL) {
        free(r->app);
        free(r->iobuf);
        free(r);
        return -1;
    }
    for (uint32_t q = 0; q < PS_BUF_MAX; q++)
        r->app[q] = ps_pattern(q, PS_SALT_APP);
    *state = r;
    return 0;
}

/* Runs after a failure too: frees everything, then checks for leaks. */
static int ps_teardown(void **state)
{
    struct ps_run *r = *state;
    for (; r->qn > 0; r->qn--, r->qhead = (r->qhead + 1) % PS_QMAX)
        rte_pktmbuf_free(r->q[r->qhead].m);
    rte_pktmbuf_free(r->cur);
    if (r->f)
        fclose(r->f);
    unsigned mbufs = 0;
    if (r->started) {
        th_clear(&r->h);
        ts_ctx_destroy(r->h.ctx);
        ts_arp_table_destroy(r->h.arp);
        mbufs = rte_mempool_in_use_count(r->h.pool);
    }
    unsigned refs_out = r->refs_out, refs_released = r->refs_released;
    free(r->app);
    free(r->iobuf);
    free(r);
    assert_int_equal(mbufs, 0);                /* every mbuf back in the pool */
    assert_int_equal(refs_released, refs_out); /* every reference released */
    return 0;
}

/* Where the scripts are: $COREHTTPD_SOURCE_DIR (set by ctest), else next to
 * this source file. */
static void ps_scripts_glob(char *out, size_t n)
{
    const char *src = getenv("COREHTTPD_SOURCE_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (src)
        snprintf(out, n, "%s/tests/tcpstack/scripts/*.pkt", src);
    else if (slash)
        snprintf(out, n, "%.*s/scripts/*.pkt", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(out, n, "scripts/*.pkt");
}

int main(int argc, char **argv)
{
    glob_t g = {0};
    char pattern[PATH_MAX];
    const char *one[1];
    const char **paths = one;
    size_t n = 1;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [script.pkt]\n", argv[0]);
        return 2;
    }
    if (argc == 2) {
        one[0] = argv[1];
    } else {
        ps_scripts_glob(pattern, sizeof(pattern));
        if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            fprintf(stderr, "no scripts match %s\n", pattern);
            globfree(&g);
            return 1;
        }
        paths = (const char **)g.gl_pathv;
        n = g.gl_pathc;
    }
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    if (tests == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(paths[i], '/');
        tests[i] = (struct CMUnitTest){
            .name = slash ? slash + 1 : paths[i],
            .test_func = ps_script,
            .setup_func = ps_setup,
            .teardown_func = ps_teardown,
            .initial_state = (void *)paths[i],
        };
    }
    int rc = _cmocka_run_group_tests("pktscripts", tests, n, NULL, NULL);
    free(tests);
    globfree(&g);
    return rc;
}
