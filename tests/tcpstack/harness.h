/**
 * @file harness.h
 * Sans-IO harness for tcpstack unit tests: one stack context driven by the
 * test with a virtual clock, its output captured instead of sent, and
 * builders for the frames a peer would send. A test reads like a
 * conversation on the wire: the peer sends, the test checks what the stack
 * answered.
 *
 * Header-only so every test file is one executable; the EAL runs in memory
 * without hugepages or PCI, only for mbufs and mempools.
 */
#ifndef TS_HARNESS_H
#define TS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "ts.h"
#include "tcp_cc.h"
#include "ts_socket.h"

#define TH_OUT_MAX 512
#define TH_US_IP 0xc6120002u    /* 198.18.0.2 */
#define TH_PEER_IP 0xc6120001u  /* 198.18.0.1 */
#define TH_OTHER_IP 0xc6120063u /* 198.18.0.99, unused on the wire */

static const struct rte_ether_addr th_us_mac = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr th_peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

struct th {
    struct ts_ctx *ctx;
    struct ts_arp_table *arp;
    struct rte_mempool *pool;
    uint64_t now;
    struct rte_mbuf *out[TH_OUT_MAX];
    unsigned nout;
};

/* A parsed TCP segment the stack sent. */
struct th_seg {
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t win;
    uint16_t mss; /* 0: no option */
    uint16_t sport, dport;
    uint32_t len;
    const uint8_t *data;
    uint32_t src, dst;
};

static inline struct rte_mempool *th_pool(void)
{
    static struct rte_mempool *pool;
    if (pool == NULL) {
        char *argv[] = {"tstest", "--no-huge", "--no-pci", "--no-shconf",       "-l",
                        "0",      "-m",        "128",      "--log-level=error", NULL};
        if (rte_eal_init(9, argv) < 0)
            fail_msg("rte_eal_init failed");
        pool = rte_pktmbuf_pool_create("th_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       SOCKET_ID_ANY);
        if (pool == NULL)
            fail_msg("cannot create the mbuf pool");
    }
    return pool;
}

static inline void th_output(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
    struct th *h = arg;
    for (uint16_t i = 0; i < n; i++) {
        assert_true(h->nout < TH_OUT_MAX);
        h->out[h->nout++] = pkts[i];
    }
}

static inline void th_clear(struct th *h)
{
    for (unsigned i = 0; i < h->nout; i++)
        rte_pktmbuf_free(h->out[i]);
    h->nout = 0;
}

/* The harness's parameters: the defaults with our addresses and small
 * tables. th_start() adds the pool, the output and the ARP table. */
static inline void th_params(struct ts_params *p)
{
    ts_params_default(p);
    p->ip = TH_US_IP;
    p->netmask = 0xffffff00u;
    p->gateway = TH_PEER_IP;
    p->mac = th_us_mac;
    p->max_flows = 256;
    p->max_bufs = 64;
    p->msl_ms = 1000;
    p->isn_key[0] = 42;
}

/* Runs what is due, then goes idle as the stack thread does before it
 * sleeps (between steps a context holds no mbufs of the pool). */
static inline void th_run(struct th *h)
{
    ts_poll(h->ctx, h->now);
    ts_idle(h->ctx);
}

/* Creates the context from @p p; the clock starts at 1 s. */
static inline void th_start(struct th *h, struct ts_params *p)
{
    memset(h, 0, sizeof(*h));
    h->pool = th_pool();
    h->arp = ts_arp_table_create(64, 60000);
    p->pool = h->pool;
    p->output = th_output;
    p->output_arg = h;
    p->arp = h->arp;
    h->ctx = ts_ctx_create(p);
    assert_non_null(h->ctx);
    h->now = 1000000;
    th_run(h);
}

/* Creates the context; @p tune may adjust the defaults before creation. */
static inline void th_init(struct th *h, void (*tune)(struct ts_params *))
{
    struct ts_params p;
    th_params(&p);
    if (tune)
        tune(&p);
    th_start(h, &p);
}

static inline void th_fini(struct th *h)
{
    th_clear(h);
    ts_ctx_destroy(h->ctx);
    ts_arp_table_destroy(h->arp);
    /* nothing leaked: every mbuf is back in the pool */
    assert_int_equal(rte_mempool_in_use_count(h->pool), 0);
}

/* Advances the virtual clock and runs what is due. */
static inline void th_advance(struct th *h, uint64_t us)
{
    h->now += us;
    th_run(h);
}

/* Hands one frame to the stack, then lets it do its batch work. */
static inline void th_inject(struct th *h, struct rte_mbuf *m)
{
    ts_input(h->ctx, &m, 1, h->now);
    th_run(h);
}

static inline struct rte_mbuf *th_frame(struct th *h, uint16_t type, size_t len,
                                        void **payload)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(h->pool);
    assert_non_null(m);
    struct rte_ether_hdr *eh =
        (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + len));
    assert_non_null(eh);
    eh->dst_addr = th_us_mac;
    eh->src_addr = th_peer_mac;
    eh->ether_type = rte_cpu_to_be_16(type);
    memset(eh + 1, 0, len);
    *payload = eh + 1;
    return m;
}

static inline struct rte_mbuf *th_arp(struct th *h, uint16_t op, uint32_t sip,
                                      uint32_t tip)
{
    struct rte_arp_hdr *a;
    struct rte_mbuf *m = th_frame(h, RTE_ETHER_TYPE_ARP, sizeof(*a), (void **)&a);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(op);
    a->arp_data.arp_sha = th_peer_mac;
    a->arp_data.arp_sip = rte_cpu_to_be_32(sip);
    a->arp_data.arp_tha =
        op == RTE_ARP_OP_REPLY ? th_us_mac : (struct rte_ether_addr){{0}};
    a->arp_data.arp_tip = rte_cpu_to_be_32(tip);
    if (op == RTE_ARP_OP_REQUEST)
        memset(rte_pktmbuf_mtod(m, struct rte_ether_hdr *), 0xff, 6);
    return m;
}

/* An IPv4 datagram from the peer; the caller fills the payload. */
static inline struct rte_mbuf *th_ipv4(struct th *h, uint32_t src, uint32_t dst,
                                       uint8_t proto, size_t l4len, void **l4)
{
    struct rte_ipv4_hdr *ip;
    struct rte_mbuf *m =
        th_frame(h, RTE_ETHER_TYPE_IPV4, sizeof(*ip) + l4len, (void **)&ip);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4len));
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    ip->src_addr = rte_cpu_to_be_32(src);
    ip->dst_addr = rte_cpu_to_be_32(dst);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    *l4 = ip + 1;
    return m;
}

static inline struct rte_ipv4_hdr *th_ip_of(struct rte_mbuf *m)
{
    return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
                                   sizeof(struct rte_ether_hdr));
}

/* An ICMP echo request from the peer. */
static inline struct rte_mbuf *th_echo_request(struct th *h, uint16_t id, uint16_t seq,
                                               const char *data)
{
    size_t n = strlen(data);
    struct rte_icmp_hdr *ic;
    struct rte_mbuf *m =
        th_ipv4(h, TH_PEER_IP, TH_US_IP, IPPROTO_ICMP, sizeof(*ic) + n, (void **)&ic);
    ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    ic->icmp_ident = rte_cpu_to_be_16(id);
    ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
    memcpy(ic + 1, data, n);
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + n);
    return m;
}

/* Seeds the peer's MAC the way a real peer does: it asks for ours first. */
static inline void th_peer_arp(struct th *h)
{
    th_inject(h, th_arp(h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP));
    assert_int_equal(h->nout, 1);
    th_clear(h);
}

/* A TCP segment from the peer (198.18.0.1:sport -> dst:dport). */
static inline struct rte_mbuf *th_tcp_frame_to(struct th *h, uint32_t dst, uint16_t sport,
                                               uint16_t dport, uint8_t flags,
                                               uint32_t seq, uint32_t ack, uint16_t win,
                                               const void *data, uint32_t len,
                                               uint16_t mss)
{
    uint32_t optlen = mss ? 4 : 0;
    struct rte_tcp_hdr *th;
    struct rte_mbuf *m = th_ipv4(h, TH_PEER_IP, dst, IPPROTO_TCP,
                                 sizeof(*th) + optlen + len, (void **)&th);
    th->src_port = rte_cpu_to_be_16(sport);
    th->dst_port = rte_cpu_to_be_16(dport);
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = rte_cpu_to_be_32(ack);
    th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
    th->tcp_flags = flags;
    th->rx_win = rte_cpu_to_be_16(win);
    uint8_t *p = (uint8_t *)(th + 1);
    if (mss) {
        p[0] = 2;
        p[1] = 4;
        p[2] = (uint8_t)(mss >> 8);
        p[3] = (uint8_t)mss;
    }
    if (len)
        memcpy(p + optlen, data, len);
    th->cksum = rte_ipv4_udptcp_cksum(th_ip_of(m), th);
    return m;
}

/* A TCP segment from the peer (198.18.0.1:sport -> us:dport). */
static inline struct rte_mbuf *th_tcp_frame(struct th *h, uint16_t sport, uint16_t dport,
                                            uint8_t flags, uint32_t seq, uint32_t ack,
                                            uint16_t win, const void *data, uint32_t len,
                                            uint16_t mss)
{
    return th_tcp_frame_to(h, TH_US_IP, sport, dport, flags, seq, ack, win, data, len,
                           mss);
}

static inline void th_tcp(struct th *h, uint16_t sport, uint16_t dport, uint8_t flags,
                          uint32_t seq, uint32_t ack, uint16_t win, const void *data,
                          uint32_t len)
{
    th_inject(h, th_tcp_frame(h, sport, dport, flags, seq, ack, win, data, len,
                              (flags & RTE_TCP_SYN_FLAG) ? 1460 : 0));
}

/* Parses output frame @p i as TCP, checking both checksums. */
static inline struct th_seg th_out_tcp(struct th *h, unsigned i)
{
    assert_true(i < h->nout);
    struct rte_mbuf *m = h->out[i];
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
    assert_memory_equal(&eh->dst_addr, &th_peer_mac, 6);
    assert_memory_equal(&eh->src_addr, &th_us_mac, 6);
    struct rte_ipv4_hdr *ip = th_ip_of(m);
    assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
    assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
    assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, t), 0);
    struct th_seg s = {
        .flags = t->tcp_flags,
        .seq = rte_be_to_cpu_32(t->sent_seq),
        .ack = rte_be_to_cpu_32(t->recv_ack),
        .win = rte_be_to_cpu_16(t->rx_win),
        .sport = rte_be_to_cpu_16(t->src_port),
        .dport = rte_be_to_cpu_16(t->dst_port),
        .src = rte_be_to_cpu_32(ip->src_addr),
        .dst = rte_be_to_cpu_32(ip->dst_addr),
    };
    uint32_t doff = (t->data_off >> 4) * 4u;
    const uint8_t *o = (const uint8_t *)(t + 1);
    for (uint32_t k = 0; k + 1 < doff - sizeof(*t);) {
        if (o[k] == 0)
            break;
        if (o[k] == 1) {
            k++;
            continue;
        }
        if (o[k] == 2)
            s.mss = (uint16_t)(o[k + 2] << 8 | o[k + 3]);
        k += o[k + 1];
    }
    s.len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip) - doff;
    s.data = (const uint8_t *)t + doff;
    return s;
}

static inline struct ts_stats th_stats(struct th *h)
{
    struct ts_stats st;
    ts_ctx_stats(h->ctx, &st);
    return st;
}

/* ------------------------------------------------ a passive connection */

#define TH_PORT 80
#define TH_PEER_PORT 40000
#define TH_PEER_ISS 1000u

struct th_conn {
    int lfd, fd;
    uint32_t iss;     /* the stack's initial sequence number */
    uint32_t snd_nxt; /* next byte the peer sends */
    uint32_t rcv_nxt; /* next byte the peer expects from the stack */
};

static inline int th_listen(struct th *h)
{
    int lfd = ts_socket(h->ctx);
    assert_true(lfd > 0);
    assert_int_equal(ts_bind(h->ctx, lfd, 0, TH_PORT), 0);
    assert_int_equal(ts_listen(h->ctx, lfd, 16), 0);
    return lfd;
}

/* Three-way handshake from the peer, then accept(). */
static inline void th_open(struct th *h, struct th_conn *c, uint16_t peer_port)
{
    th_tcp(h, peer_port, TH_PORT, RTE_TCP_SYN_FLAG, TH_PEER_ISS, 0, 65535, NULL, 0);
    assert_int_equal(h->nout, 1);
    struct th_seg sa = th_out_tcp(h, 0);
    assert_int_equal(sa.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    assert_int_equal(sa.ack, TH_PEER_ISS + 1);
    th_clear(h);
    c->iss = sa.seq;
    c->snd_nxt = TH_PEER_ISS + 1;
    c->rcv_nxt = sa.seq + 1;
    th_tcp(h, peer_port, TH_PORT, RTE_TCP_ACK_FLAG, c->snd_nxt, c->rcv_nxt, 65535, NULL,
           0);
    assert_int_equal(h->nout, 0); /* nothing to say to a pure ACK */
    c->fd = ts_accept(h->ctx, c->lfd, NULL, NULL);
    assert_true(c->fd > 0);
}

/* A context (tuned by @p tune) that knows the peer's MAC, listens, and has
 * accepted one connection from TH_PEER_PORT. */
static inline void th_connected(struct th *h, struct th_conn *c,
                                void (*tune)(struct ts_params *))
{
    th_init(h, tune);
    th_peer_arp(h);
    c->lfd = th_listen(h);
    th_open(h, c, TH_PEER_PORT);
}

#endif
