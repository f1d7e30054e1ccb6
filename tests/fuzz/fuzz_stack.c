/**
 * @file fuzz_stack.c
 * libFuzzer harness: Ethernet frames into the stack's receive path
 * (ts_input) of a context that already holds deep state.
 *
 * Before the input runs, a scripted peer (198.18.0.1, the segment builders of
 * tests/tcpstack/harness.h) has driven the context to hold a listener, a
 * half-open connection, established connections with data in flight both
 * ways, connections in FIN_WAIT_1, FIN_WAIT_2, CLOSING, CLOSE_WAIT and
 * LAST_ACK, TIME_WAIT entries, and active opens in SYN_SENT and ESTABLISHED;
 * some negotiated every option (MSS, SACK, timestamps, window scale), one MSS
 * and SACK, some only MSS. The set-up checks that each state was reached.
 *
 * The input is a list of records, each one frame:
 *
 *   ctl:u8  act:u8  len:u16be  frame[len]
 *
 * ctl asks the harness to fix up the frame before it is handed over, so that
 * the fuzzer reaches flows without guessing addresses, sequence numbers or
 * checksums (ctl = 0: the frame goes in exactly as given):
 *   bit 0  IPv4 total length = frame length - 14, then the header checksum
 *   bit 1  TCP checksum
 *   bit 2  Ethernet and IPv4 addresses: peer -> us
 *   bit 3  relative to connection K: its ports, and seq, ack and SACK
 *          block edges taken as offsets from the flow's RCV.NXT and SND.UNA
 *          (from where the set-up left it when the flow has no socket)
 *   bits 4-7  K, the connection (0..15; see fz_setup); 15 is a spread of
 *          256 new peer ports (its port + the low byte of the frame's)
 * act picks what happens after the frame:
 *   bits 0-2  the virtual clock advances 0, 1, 10, 40, 200 ms, 1, 5 or 60 s
 *   bits 3-5  an application call on connection K: none, read, write,
 *             write_ref, shutdown(wr), close, accept, connect
 *   bit 7     none of that yet: the frame waits to go in one burst with the
 *             next (up to 64 frames), where runs of segments are coalesced
 * After every burst the stack is polled and the application's epoll drained.
 * At the end the clock runs 4 minutes on (every timer: retransmissions give
 * up, TIME_WAIT ends), the context is destroyed and the invariants checked:
 * every mbuf back in the pool, every send reference released exactly once,
 * every frame the stack sent well formed with correct checksums, and the
 * socket, buffer, orphan and TIME_WAIT counts within their limits.
 *
 * A fresh context per input keeps every run independent, so a crash replays
 * from its input alone. Set-up and teardown are nearly all of an input's
 * cost: an empty input takes 1.6 ms on the test machine, as long as the
 * largest corpus entry (README.md, "Fuzzing and sanitizers"); a reused context
 * would be faster but make a crash depend on the inputs before it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "ts_priv.h"

#define FZ_CONNS 16
#define FZ_PEER_PORT0 40001
#define FZ_ACTIVE_PORT 8080

/* What a passive connection's peer offers in its SYN. */
#define FZ_OPT_MSS 0  /* MSS only */
#define FZ_OPT_ALL 1  /* MSS, SACK, timestamps, window scale 7 */
#define FZ_OPT_SACK 2 /* MSS and SACK (as Windows: no timestamps) */

struct fz_conn {
    uint16_t port;     /* peer's port */
    uint16_t our_port; /* ours: 80, or an ephemeral one for active opens */
    int fd;            /* the application's descriptor, 0 when closed */
    uint32_t peer_nxt; /* next sequence number the peer sends */
    uint32_t our_nxt;  /* highest sequence number the stack sent + 1 */
    bool our_seen;     /* our_nxt known */
    uint8_t opts;      /* FZ_OPT_*: what its SYN offered */
};

struct fz {
    struct th h;  /* first: the output's argument */
    bool capture; /* set-up: keep frames for the script; else check and free */
    int lfd, epfd;
    struct fz_conn c[FZ_CONNS];
    unsigned nconn;
    uint64_t refs_out; /* write_ref calls not yet released */
    uint32_t ts_val;
};

static uint8_t fz_data[65536]; /* what writes send */

static void fz_die(const char *what)
{
    fprintf(stderr, "fuzz_stack: invariant broken: %s\n", what);
    abort();
}

/* ------------------------------------------------------------ output */

/* Every frame the stack sends must be one a real peer would accept. */
static void fz_check_frame(struct rte_mbuf *m)
{
    if (rte_pktmbuf_pkt_len(m) < sizeof(struct rte_ether_hdr))
        fz_die("runt frame sent");
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    uint16_t type = rte_be_to_cpu_16(eh->ether_type);
    if (type == RTE_ETHER_TYPE_ARP)
        return;
    if (type != RTE_ETHER_TYPE_IPV4)
        fz_die("frame of an unknown ethertype sent");
    if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(struct rte_ipv4_hdr))
        fz_die("IPv4 header not in the first segment");
    struct rte_ipv4_hdr *ip = th_ip_of(m);
    uint16_t tot = rte_be_to_cpu_16(ip->total_length);
    if (ip->version_ihl != RTE_IPV4_VHL_DEF)
        fz_die("IPv4 header with options or a bad version sent");
    if (rte_raw_cksum(ip, sizeof(*ip)) != 0xffff)
        fz_die("bad IPv4 header checksum sent");
    if ((uint32_t)tot + sizeof(*eh) > rte_pktmbuf_pkt_len(m))
        fz_die("IPv4 total length beyond the frame");
    if (tot > 1500) {
        const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)(ip + 1);
        fprintf(stderr,
                "fuzz_stack: %u-byte datagram, protocol %u, TCP header %u bytes\n", tot,
                ip->next_proto_id, (t->data_off >> 4) * 4u);
        fz_die("IPv4 datagram over the MTU");
    }
    if (ip->next_proto_id == IPPROTO_TCP) {
        if (rte_pktmbuf_data_len(m) <
            sizeof(*eh) + sizeof(*ip) + sizeof(struct rte_tcp_hdr))
            fz_die("TCP header not in the first segment");
        struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
        uint32_t doff = (t->data_off >> 4) * 4u;
        if (doff < sizeof(*t) || doff + sizeof(*ip) > tot)
            fz_die("bad TCP data offset sent");
        if (rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, sizeof(*eh) + sizeof(*ip)) != 0)
            fz_die("bad TCP checksum sent");
    }
}

static void fz_output(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
    struct fz *f = arg;
    for (uint16_t i = 0; i < n; i++) {
        fz_check_frame(pkts[i]);
        if (f->capture && f->h.nout < TH_OUT_MAX)
            f->h.out[f->h.nout++] = pkts[i];
        else
            rte_pktmbuf_free(pkts[i]);
    }
}

/* Learns the stack's sequence numbers from the captured frames. */
static void fz_learn(struct fz *f)
{
    for (unsigned i = 0; i < f->h.nout; i++) {
        struct rte_ether_hdr *eh = rte_pktmbuf_mtod(f->h.out[i], struct rte_ether_hdr *);
        if (rte_be_to_cpu_16(eh->ether_type) != RTE_ETHER_TYPE_IPV4 ||
            th_ip_of(f->h.out[i])->next_proto_id != IPPROTO_TCP)
            continue;
        struct th_seg s = th_out_tcp(&f->h, i);
        uint32_t end = s.seq + s.len + !!(s.flags & RTE_TCP_SYN_FLAG) +
                       !!(s.flags & RTE_TCP_FIN_FLAG);
        for (unsigned k = 0; k < f->nconn; k++) {
            struct fz_conn *c = &f->c[k];
            if (c->port != s.dport)
                continue;
            if (s.flags & RTE_TCP_SYN_FLAG) {
                c->our_nxt = end;
                c->our_port = s.sport;
                c->our_seen = true;
            } else if (!c->our_seen || (int32_t)(end - c->our_nxt) > 0) {
                c->our_nxt = end;
                c->our_seen = true;
            }
        }
    }
    th_clear(&f->h);
}

/* ------------------------------------------------------------ set-up */

/* A segment from the peer to connection @p c, with every option on a SYN of
 * an options connection and a timestamp on its later segments. */
static void fz_send(struct fz *f, struct fz_conn *c, uint8_t flags, const void *data,
                    uint32_t len)
{
    uint8_t opt[40];
    uint32_t ol = 0;
    bool syn = flags & RTE_TCP_SYN_FLAG;
    if (syn) {
        opt[ol++] = 2, opt[ol++] = 4, opt[ol++] = 1460 >> 8, opt[ol++] = 1460 & 0xff;
        if (c->opts != FZ_OPT_MSS) {
            /* SACK permitted, window scale 7 */
            static const uint8_t more[8] = {1, 1, 4, 2, 1, 3, 3, 7};
            uint32_t n = c->opts == FZ_OPT_ALL ? 8 : 4;
            memcpy(opt + ol, more, n);
            ol += n;
        }
    }
    if (c->opts == FZ_OPT_ALL) {
        uint32_t val = rte_cpu_to_be_32(++f->ts_val), ecr = 0;
        opt[ol++] = 1, opt[ol++] = 1, opt[ol++] = 8, opt[ol++] = 10;
        memcpy(opt + ol, &val, 4), memcpy(opt + ol + 4, &ecr, 4);
        ol += 8;
    }
    struct rte_tcp_hdr *t;
    struct rte_mbuf *m = th_ipv4(&f->h, TH_PEER_IP, TH_US_IP, IPPROTO_TCP,
                                 sizeof(*t) + ol + len, (void **)&t);
    t->src_port = rte_cpu_to_be_16(c->port);
    t->dst_port = rte_cpu_to_be_16(c->our_port);
    t->sent_seq = rte_cpu_to_be_32(c->peer_nxt);
    t->recv_ack = rte_cpu_to_be_32((flags & RTE_TCP_ACK_FLAG) ? c->our_nxt : 0);
    t->data_off = (uint8_t)(((sizeof(*t) + ol) / 4) << 4);
    t->tcp_flags = flags;
    t->rx_win = rte_cpu_to_be_16(c->opts == FZ_OPT_ALL ? 512 : 65535); /* 64 KB */
    memcpy(t + 1, opt, ol);
    if (len)
        memcpy((uint8_t *)(t + 1) + ol, data, len);
    t->cksum = rte_ipv4_udptcp_cksum(th_ip_of(m), t);
    c->peer_nxt += len + syn + !!(flags & RTE_TCP_FIN_FLAG);
    th_inject(&f->h, m);
    fz_learn(f);
}

static struct fz_conn *fz_new(struct fz *f, uint8_t opts)
{
    struct fz_conn *c = &f->c[f->nconn];
    *c = (struct fz_conn){
        .port = (uint16_t)(FZ_PEER_PORT0 + f->nconn),
        .our_port = TH_PORT,
        .peer_nxt = 1000u + 100000u * f->nconn,
        .opts = opts,
    };
    f->nconn++;
    return c;
}

/* Passive open: SYN, SYN-ACK, ACK, accept(). */
static struct fz_conn *fz_open(struct fz *f, uint8_t opts)
{
    struct fz_conn *c = fz_new(f, opts);
    fz_send(f, c, RTE_TCP_SYN_FLAG, NULL, 0);
    fz_send(f, c, RTE_TCP_ACK_FLAG, NULL, 0);
    c->fd = ts_accept(f->h.ctx, f->lfd, NULL, NULL);
    if (c->fd <= 0)
        fz_die("set-up: accept failed");
    struct ts_epoll_event ev = {.events = TS_EPOLLIN | TS_EPOLLOUT | TS_EPOLLRDHUP,
                                .data = (uint64_t)c->fd};
    ts_epoll_ctl(f->h.ctx, f->epfd, TS_EPOLL_CTL_ADD, c->fd, &ev);
    return c;
}

static void fz_close(struct fz *f, struct fz_conn *c)
{
    ts_close(f->h.ctx, c->fd);
    c->fd = 0;
    th_advance(&f->h, 0);
    fz_learn(f);
}

static const char fz_req[] = "GET /index.html HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n";

static void fz_ref_release(void *arg)
{
    struct fz *f = arg;
    if (f->refs_out == 0)
        fz_die("a send reference released twice");
    f->refs_out--;
}

static void fz_setup(struct fz *f)
{
    struct ts_params p;
    th_params(&p);
    p.max_flows = 64;
    p.max_bufs = 24;
    p.rcvbuf = 16384;
    p.sndbuf = 32768;
    p.snd_copybuf = 16384;
    p.max_time_wait = 8;
    p.max_orphans = 8;
    p.keepalive_ms = 30000;
    p.keepalive_intvl_ms = 1000;
    p.keepalive_probes = 3;
    p.fin_timeout_ms = 20000;
    p.pool = f->h.pool;
    p.output = fz_output;
    p.output_arg = f;
    p.arp = f->h.arp;
    f->h.ctx = ts_ctx_create(&p);
    if (f->h.ctx == NULL)
        fz_die("set-up: ts_ctx_create failed");
    f->h.now = 1000000;
    f->capture = true;
    ts_poll(f->h.ctx, f->h.now);
    th_peer_arp(&f->h);

    f->lfd = ts_socket(f->h.ctx);
    if (f->lfd <= 0 || ts_bind(f->h.ctx, f->lfd, 0, TH_PORT) != 0 ||
        ts_listen(f->h.ctx, f->lfd, 4) != 0)
        fz_die("set-up: listen failed");
    f->epfd = ts_epoll_create(f->h.ctx);
    struct ts_epoll_event lev = {.events = TS_EPOLLIN, .data = (uint64_t)f->lfd};
    ts_epoll_ctl(f->h.ctx, f->epfd, TS_EPOLL_CTL_ADD, f->lfd, &lev);

    /* 0, 1: ESTABLISHED, a request unread and a response partly acked; 0
     * with every option, 1 with SACK but no timestamps */
    for (int i = 0; i < 2; i++) {
        struct fz_conn *c = fz_open(f, i == 0 ? FZ_OPT_ALL : FZ_OPT_SACK);
        fz_send(f, c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, fz_req, sizeof fz_req - 1);
        if (ts_write(f->h.ctx, c->fd, fz_data, 6000) <= 0)
            fz_die("set-up: write failed");
        th_advance(&f->h, 0);
        fz_learn(f);
        uint32_t all = c->our_nxt;
        c->our_nxt = all - 2000; /* the peer acknowledges all but 2000 bytes */
        fz_send(f, c, RTE_TCP_ACK_FLAG, NULL, 0);
        if ((int32_t)(all - c->our_nxt) > 0)
            c->our_nxt = all;
    }
    /* 2: ESTABLISHED, idle */
    fz_open(f, FZ_OPT_ALL);
    /* 3: CLOSE_WAIT */
    struct fz_conn *c = fz_open(f, FZ_OPT_ALL);
    fz_send(f, c, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
    /* 4: LAST_ACK */
    c = fz_open(f, FZ_OPT_MSS);
    fz_send(f, c, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
    fz_close(f, c);
    /* 5: FIN_WAIT_1 (an orphan): our FIN not acknowledged */
    c = fz_open(f, FZ_OPT_ALL);
    fz_close(f, c);
    /* 6: FIN_WAIT_2 (an orphan) */
    c = fz_open(f, FZ_OPT_MSS);
    fz_close(f, c);
    fz_send(f, c, RTE_TCP_ACK_FLAG, NULL, 0);
    /* 7: CLOSING: the peer's FIN crosses ours */
    c = fz_open(f, FZ_OPT_ALL);
    uint32_t before_fin = c->our_nxt;
    fz_close(f, c);
    uint32_t our_fin_end = c->our_nxt;
    c->our_nxt = before_fin;
    fz_send(f, c, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
    c->our_nxt = our_fin_end;
    /* 8, 9: TIME_WAIT (we closed first; one with timestamps, one without) */
    for (int i = 0; i < 2; i++) {
        c = fz_open(f, i == 0 ? FZ_OPT_ALL : FZ_OPT_MSS);
        fz_close(f, c);
        fz_send(f, c, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
    }
    /* 10: SYN_RCVD, half-open */
    c = fz_new(f, FZ_OPT_ALL);
    fz_send(f, c, RTE_TCP_SYN_FLAG, NULL, 0);
    /* 11: ESTABLISHED with data out of order held in the receive buffer */
    c = fz_open(f, FZ_OPT_ALL);
    c->peer_nxt += 500;
    fz_send(f, c, RTE_TCP_ACK_FLAG, fz_req, sizeof fz_req - 1);
    c->peer_nxt -= 500 + (uint32_t)(sizeof fz_req - 1);
    /* 12: active open, SYN_SENT */
    c = fz_new(f, FZ_OPT_MSS);
    c->port = FZ_ACTIVE_PORT;
    c->fd = ts_socket(f->h.ctx);
    if (ts_connect(f->h.ctx, c->fd, TH_PEER_IP, FZ_ACTIVE_PORT) != -1 ||
        errno != EINPROGRESS)
        fz_die("set-up: connect failed");
    th_advance(&f->h, 0);
    fz_learn(f);
    /* 13: active open, ESTABLISHED */
    c = fz_new(f, FZ_OPT_ALL);
    c->port = FZ_ACTIVE_PORT + 1;
    c->fd = ts_socket(f->h.ctx);
    if (ts_connect(f->h.ctx, c->fd, TH_PEER_IP, c->port) != -1 || errno != EINPROGRESS)
        fz_die("set-up: connect failed");
    th_advance(&f->h, 0);
    fz_learn(f);
    fz_send(f, c, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
    /* 14, 15: ports with no flow (a new SYN, a stray segment); 15 spreads
     * over 256 ports in the frames (fz_fixup) */
    fz_new(f, FZ_OPT_ALL);
    fz_new(f, FZ_OPT_MSS);

    /* Every state the fuzzer is to start from is there. */
    unsigned n[TCPS_TIME_WAIT + 1] = {0};
    for (uint32_t i = 0; i < f->h.ctx->nsocks; i++)
        if (f->h.ctx->socks[i].kind == TS_KIND_TCP)
            n[f->h.ctx->socks[i].state]++;
    struct ts_stats st;
    ts_ctx_stats(f->h.ctx, &st);
    if (n[TCPS_LISTEN] != 1 || n[TCPS_SYN_RCVD] != 1 || n[TCPS_SYN_SENT] != 1 ||
        n[TCPS_ESTABLISHED] != 5 || n[TCPS_CLOSE_WAIT] != 1 || n[TCPS_LAST_ACK] != 1 ||
        n[TCPS_FIN_WAIT_1] != 1 || n[TCPS_FIN_WAIT_2] != 1 || n[TCPS_CLOSING] != 1 ||
        st.tw_in_use != 2) {
        fprintf(stderr,
                "listen %u syn_rcvd %u syn_sent %u est %u close_wait %u last_ack %u "
                "fin_wait_1 %u fin_wait_2 %u closing %u time_wait %u\n",
                n[TCPS_LISTEN], n[TCPS_SYN_RCVD], n[TCPS_SYN_SENT], n[TCPS_ESTABLISHED],
                n[TCPS_CLOSE_WAIT], n[TCPS_LAST_ACK], n[TCPS_FIN_WAIT_1],
                n[TCPS_FIN_WAIT_2], n[TCPS_CLOSING], st.tw_in_use);
        fz_die("set-up: the context is not in the planned states");
    }
    f->capture = false;
}

/* ------------------------------------------------------------ the input */

/* The socket of a flow from the peer's @p rport to our @p lport, if any. */
static const struct ts_sock *fz_sock_of(struct fz *f, uint16_t rport, uint16_t lport)
{
    const struct ts_ctx *ctx = f->h.ctx;
    for (uint32_t i = 0; i < ctx->nsocks; i++) {
        const struct ts_sock *s = &ctx->socks[i];
        if (s->kind == TS_KIND_TCP && s->state != TCPS_LISTEN && s->rport == rport &&
            s->lport == lport)
            return s;
    }
    return NULL;
}

static void fz_fixup(struct fz *f, uint8_t ctl, uint8_t *b, size_t len)
{
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)b;
    size_t l3 = sizeof(*eh);
    if (len < l3)
        return;
    if (ctl & 4) {
        eh->dst_addr = th_us_mac;
        eh->src_addr = th_peer_mac;
        eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    }
    if (len < l3 + sizeof(struct rte_ipv4_hdr) ||
        eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
        return;
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + l3);
    if (ctl & 4) {
        ip->src_addr = rte_cpu_to_be_32(TH_PEER_IP);
        ip->dst_addr = rte_cpu_to_be_32(TH_US_IP);
    }
    size_t ihl = (ip->version_ihl & 0xf) * 4u;
    if (ctl & 1) {
        ip->total_length = rte_cpu_to_be_16((uint16_t)(len - l3));
        ip->hdr_checksum = 0;
        if (ihl >= sizeof(*ip) && l3 + ihl <= len)
            ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
    }
    if (ihl < sizeof(*ip) || l3 + ihl + sizeof(struct rte_tcp_hdr) > len ||
        ip->next_proto_id != IPPROTO_TCP)
        return;
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);
    if (ctl & 8) {
        const struct fz_conn *c = &f->c[ctl >> 4];
        /* connection 15 spreads over 256 peer ports (its port + the low
         * byte of the frame's): new flows, enough to fill the backlog */
        uint16_t rport = c->port;
        if ((ctl >> 4) == FZ_CONNS - 1)
            rport = (uint16_t)(rport + (rte_be_to_cpu_16(t->src_port) & 0xff));
        /* offsets from where the flow is now (RCV.NXT, SND.UNA), or, with
         * no socket (TIME_WAIT, no flow), from where the set-up left it */
        const struct ts_sock *so = fz_sock_of(f, rport, c->our_port);
        uint32_t seq0 = so ? so->rcv_nxt : c->peer_nxt;
        uint32_t ack0 = so ? so->snd_una : c->our_nxt;
        t->src_port = rte_cpu_to_be_16(rport);
        t->dst_port = rte_cpu_to_be_16(c->our_port);
        t->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(t->sent_seq) + seq0);
        t->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(t->recv_ack) + ack0);
        /* SACK block edges too, from SND.UNA */
        size_t doff = (t->data_off >> 4) * 4u;
        uint8_t *o = (uint8_t *)(t + 1), *end = (uint8_t *)t + doff;
        if (doff < sizeof(*t) || (uint8_t *)t + doff > b + len)
            end = o;
        while (o < end && *o != 0) {
            if (*o == 1) {
                o++;
                continue;
            }
            if (o + 2 > end || o[1] < 2 || o + o[1] > end)
                break;
            if (o[0] == 5)
                for (uint8_t *e = o + 2; e + 4 <= o + o[1]; e += 4) {
                    uint32_t v;
                    memcpy(&v, e, 4);
                    v = rte_cpu_to_be_32(rte_be_to_cpu_32(v) + ack0);
                    memcpy(e, &v, 4);
                }
            o += o[1];
        }
    }
    if (ctl & 2) {
        /* over what the IPv4 header says the segment is, as a receiver does */
        size_t tot = rte_be_to_cpu_16(ip->total_length);
        if (tot < ihl + sizeof(*t) || l3 + tot > len)
            return;
        t->cksum = 0;
        uint32_t sum = rte_ipv4_phdr_cksum(ip, 0);
        sum += rte_raw_cksum(t, tot - ihl);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        uint16_t ck = (uint16_t)~sum;
        t->cksum = ck == 0 ? 0xffff : ck;
    }
}

static void fz_app(struct fz *f, uint8_t op, struct fz_conn *c)
{
    struct ts_ctx *ctx = f->h.ctx;
    static uint8_t buf[32768];
    switch (op) {
    case 1:
        ts_read(ctx, c->fd, buf, sizeof buf);
        break;
    case 2:
        ts_write(ctx, c->fd, fz_data, 3000);
        break;
    case 3: {
        struct ts_ref_owner o = {.release = fz_ref_release, .arg = f};
        f->refs_out++;
        if (ts_write_ref(ctx, c->fd, fz_data, sizeof fz_data, &o) <= 0)
            f->refs_out--; /* refused: the owner is not kept */
        break;
    }
    case 4:
        ts_shutdown(ctx, c->fd, TS_SHUT_WR);
        break;
    case 5:
        if (c->fd > 0 && ts_close(ctx, c->fd) == 0)
            c->fd = 0;
        break;
    case 6: {
        int fd = ts_accept(ctx, f->lfd, NULL, NULL);
        if (fd > 0 && c->fd <= 0)
            c->fd = fd;
        else if (fd > 0)
            ts_close(ctx, fd);
        break;
    }
    case 7:
        if (c->fd <= 0) {
            c->fd = ts_socket(ctx);
            if (c->fd > 0)
                ts_connect(ctx, c->fd, TH_PEER_IP, c->port);
        }
        break;
    default:
        break;
    }
}

static void fz_check_limits(struct fz *f)
{
    struct ts_stats st;
    ts_ctx_stats(f->h.ctx, &st);
    const struct ts_params *p = &f->h.ctx->p;
    if (st.socks_in_use > p->max_flows)
        fz_die("more sockets than max_flows");
    if (st.bufs_in_use > p->max_bufs)
        fz_die("more buffer sets than max_bufs");
    if (st.tw_in_use > p->max_time_wait)
        fz_die("more TIME_WAIT entries than max_time_wait");
    if (st.orphans_in_use > p->max_orphans)
        fz_die("more orphans than max_orphans");
}

static void fz_drain_events(struct fz *f)
{
    struct ts_epoll_event ev[32];
    while (ts_epoll_wait(f->h.ctx, f->epfd, ev, 32, 0) == 32)
        ;
}

static const uint64_t fz_steps_us[8] = {0,      1000,    10000,   40000,
                                        200000, 1000000, 5000000, 60000000};

static void fz_run(struct fz *f, const uint8_t *data, size_t size)
{
    unsigned frames = 0, nb = 0;
    struct rte_mbuf *burst[64];
    while (size >= 4 && frames < 64) {
        uint8_t ctl = data[0], act = data[1];
        size_t len = (size_t)data[2] << 8 | data[3];
        data += 4, size -= 4;
        if (len > size)
            len = size;
        if (len > RTE_MBUF_DEFAULT_DATAROOM)
            len = RTE_MBUF_DEFAULT_DATAROOM;
        struct rte_mbuf *m = rte_pktmbuf_alloc(f->h.pool);
        if (m == NULL)
            fz_die("the pool ran dry: frames are leaking");
        uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
        memcpy(b, data, len);
        data += len, size -= len;
        fz_fixup(f, ctl, b, len);
        burst[nb++] = m;
        frames++;
        if ((act & 0x80) && size >= 4 && frames < 64)
            continue;
        ts_input(f->h.ctx, burst, (uint16_t)nb, f->h.now);
        nb = 0;
        struct fz_conn *c = &f->c[ctl >> 4];
        fz_app(f, (act >> 3) & 7, c);
        f->h.now += fz_steps_us[act & 7];
        ts_poll(f->h.ctx, f->h.now);
        fz_drain_events(f);
        fz_check_limits(f);
    }
    /* Let the timers run 4 minutes on, from deadline to deadline:
     * retransmissions give up, TIME_WAIT ends. */
    uint64_t end = f->h.now + 240000000;
    for (int i = 0; i < 4096; i++) {
        uint64_t d = ts_next_deadline(f->h.ctx);
        if (d > end)
            break;
        f->h.now = d > f->h.now ? d : f->h.now;
        ts_poll(f->h.ctx, f->h.now);
        if (i % 16 == 0)
            fz_drain_events(f);
    }
    f->h.now = end;
    ts_poll(f->h.ctx, f->h.now);
    fz_drain_events(f);
    fz_check_limits(f);
}

static struct fz fz_world;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("CMOCKA_TEST_ABORT", "1", 1); /* a failed set-up check aborts */
    for (size_t i = 0; i < sizeof fz_data; i++)
        fz_data[i] = (uint8_t)('a' + i % 26);
    fz_world.h.pool = th_pool();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz *f = &fz_world;
    struct rte_mempool *pool = f->h.pool;
    memset(f, 0, sizeof(*f));
    f->h.pool = pool;
    f->h.arp = ts_arp_table_create(64, 60000);
    fz_setup(f);
    fz_run(f, data, size);
    ts_ctx_destroy(f->h.ctx);
    ts_arp_table_destroy(f->h.arp);
    if (f->refs_out != 0)
        fz_die("a send reference was never released");
    if (rte_mempool_in_use_count(pool) != 0)
        fz_die("mbufs leaked: not all back in the pool after ts_ctx_destroy");
    return 0;
}
