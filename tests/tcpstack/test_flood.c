/**
 * @file test_flood.c
 * The receive burst under a SYN flood (ts_ctx.c): a burst's established
 * traffic is taken before its SYNs; once more than TS_SYN_SHED_AFTER
 * bursts in a row have held more than syn_budget SYNs, at most syn_budget
 * of a burst are answered, the rest are shed and counted, and a shed SYN
 * that comes again (a real client retransmitting) is answered. And the
 * mbuf pool running dry: what cannot be sent is counted (tx_nombuf), the
 * stack goes on, and once mbufs return its timers send it all.
 */
#include "harness.h"
#include "ts_priv.h"

#define NSYN 40

/* A burst: a data segment of an open connection last, @p gap bytes past
 * its next sequence number (0: in order), after NSYN SYNs from ports
 * @p base.. of the peer. */
static unsigned burst_gap(struct th *h, struct th_conn *c, struct rte_mbuf **pkts,
                          uint16_t base, uint32_t gap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NSYN; i++)
        pkts[n++] = th_tcp_frame(h, (uint16_t)(base + i), TH_PORT, RTE_TCP_SYN_FLAG,
                                 7000 + i, 0, 65535, NULL, 0, 1460);
    pkts[n++] = th_tcp_frame(h, TH_PEER_PORT, TH_PORT, RTE_TCP_ACK_FLAG, c->snd_nxt + gap,
                             c->rcv_nxt, 65535, "GET", 3, 0);
    return n;
}

static unsigned burst(struct th *h, struct th_conn *c, struct rte_mbuf **pkts,
                      uint16_t base)
{
    return burst_gap(h, c, pkts, base, 0);
}

/* A context with one established connection, its peer's address known. */
static void open_one(struct th *h, struct th_conn *c)
{
    th_init(h, NULL);
    th_peer_arp(h);
    *c = (struct th_conn){.lfd = th_listen(h)};
    th_open(h, c, TH_PEER_PORT);
}

static void established_first_and_syn_budget(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    open_one(&h, &c);

    struct rte_mbuf *pkts[NSYN + 1];
    char buf[8];
    /* a queue backed up for a moment: every SYN answered */
    for (unsigned b = 0; b < TS_SYN_SHED_AFTER; b++) {
        unsigned n = burst(&h, &c, pkts, (uint16_t)(1024 + b * NSYN));
        ts_input(h.ctx, pkts, (uint16_t)n, h.now);
        ts_poll(h.ctx, h.now);
        assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof buf), 3);
        c.snd_nxt += 3;
        assert_int_equal(th_stats(&h).rx_syn_shed, 0);
        unsigned synacks = 0;
        for (unsigned i = 0; i < h.nout; i++)
            if (th_out_tcp(&h, i).flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
                synacks++;
        assert_int_equal(synacks, NSYN);
        th_clear(&h);
    }
    /* and for good: SYNs past the budget shed */
    unsigned n = burst(&h, &c, pkts, 20000);
    ts_input(h.ctx, pkts, (uint16_t)n, h.now);
    ts_poll(h.ctx, h.now);
    /* the data went in before any SYN was looked at */
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof buf), 3);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.rx_syn_shed, NSYN - 16);
    unsigned synacks = 0;
    for (unsigned i = 0; i < h.nout; i++) {
        struct th_seg s = th_out_tcp(&h, i);
        if (s.flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
            /* the first 16 SYNs of the burst, in order */
            assert_int_equal(s.dport, 20000 + synacks);
            synacks++;
        }
    }
    assert_int_equal(synacks, 16);
    th_clear(&h);

    /* the same SYNs again (retransmissions): the shed ones are answered
     * now, past the budget; the others are duplicates of half-open
     * connections or cookies, answered as before */
    c.snd_nxt += 3;
    n = burst(&h, &c, pkts, 20000);
    ts_input(h.ctx, pkts, (uint16_t)n, h.now);
    ts_poll(h.ctx, h.now);
    st = th_stats(&h);
    assert_int_equal(st.rx_syn_shed_retried, NSYN - 16);
    assert_int_equal(st.rx_syn_shed, NSYN - 16);
    synacks = 0;
    for (unsigned i = 0; i < h.nout; i++)
        if (th_out_tcp(&h, i).flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
            synacks++;
    assert_int_equal(synacks, NSYN);
    th_clear(&h);
    ts_close(h.ctx, c.fd);
    ts_close(h.ctx, c.lfd);
    th_fini(&h);
}

static void no_budget(struct ts_params *p)
{
    p->syn_budget = 0;
}

static void budget_off_answers_all(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, no_budget);
    th_peer_arp(&h);
    struct th_conn c = {.lfd = th_listen(&h)};
    th_open(&h, &c, TH_PEER_PORT);
    struct rte_mbuf *pkts[NSYN + 1];
    unsigned n = 0;
    for (unsigned b = 0; b <= TS_SYN_SHED_AFTER; b++) {
        th_clear(&h);
        n = burst(&h, &c, pkts, (uint16_t)(20000 + b * NSYN));
        ts_input(h.ctx, pkts, (uint16_t)n, h.now);
        ts_poll(h.ctx, h.now);
    }
    assert_int_equal(th_stats(&h).rx_syn_shed, 0);
    unsigned synacks = 0;
    for (unsigned i = 0; i < h.nout; i++)
        if (th_out_tcp(&h, i).flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
            synacks++;
    assert_int_equal(synacks, NSYN);
    th_clear(&h);
    ts_close(h.ctx, c.fd);
    ts_close(h.ctx, c.lfd);
    th_fini(&h);
}

/* Takes every mbuf left in the pool into @p held (of the pool's size) from
 * index @p k on; returns the new count. */
static unsigned drain_pool(struct rte_mempool *pool, struct rte_mbuf **held, unsigned k)
{
    while ((held[k] = rte_pktmbuf_alloc(pool)) != NULL)
        k++;
    return k;
}

static void pool_exhaustion_drops_and_recovers(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    open_one(&h, &c);
    /* the frame a new client sends, built while there are mbufs */
    struct rte_mbuf *syn =
        th_tcp_frame(&h, 41000, TH_PORT, RTE_TCP_SYN_FLAG, 5000, 0, 65535, NULL, 0, 1460);
    struct rte_mbuf **held = calloc(h.pool->size + 1, sizeof(*held));
    assert_non_null(held);
    unsigned nheld = drain_pool(h.pool, held, 0);
    assert_true(nheld > 0);

    th_inject(&h, syn); /* its SYN-ACK finds no mbuf */
    /* (the SYN's own mbuf went back to the pool: keep it dry) */
    nheld = drain_pool(h.pool, held, nheld);
    assert_int_equal(ts_write(h.ctx, c.fd, "hello", 5), 5); /* nor this data */
    th_advance(&h, 10000);
    assert_int_equal(h.nout, 0);
    uint64_t nombuf = th_stats(&h).tx_nombuf;
    assert_true(nombuf >= 2);
    /* timers fire with the pool still dry: counted again, nothing breaks */
    for (int i = 0; i < 30; i++)
        th_advance(&h, 100000);
    assert_int_equal(h.nout, 0);
    assert_true(th_stats(&h).tx_nombuf > nombuf);

    /* memory returns: the retransmission timers send what was owed */
    for (unsigned i = 0; i < nheld; i++)
        rte_pktmbuf_free(held[i]);
    free(held);
    bool synack = false, data = false;
    for (int i = 0; i < 80 && !(synack && data); i++) {
        th_advance(&h, 100000);
        for (unsigned k = 0; k < h.nout; k++) {
            struct th_seg s = th_out_tcp(&h, k);
            if (s.dport == 41000 && s.flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
                synack = true;
            if (s.dport == TH_PEER_PORT && s.len == 5 && memcmp(s.data, "hello", 5) == 0)
                data = true;
        }
        th_clear(&h);
    }
    assert_true(synack);
    assert_true(data);
    ts_close(h.ctx, c.fd);
    ts_close(h.ctx, c.lfd);
    th_fini(&h);
}

/* Fewer mbufs left in the pool than the stack takes at once (ts_alloc takes
 * a batch of them ahead): its frames are still built, one mbuf at a time,
 * and none is counted missing. */
static void few_mbufs_left_still_sent(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    open_one(&h, &c);
    th_clear(&h);
    struct rte_mbuf **held = calloc(h.pool->size + 1, sizeof(*held));
    assert_non_null(held);
    unsigned nheld = drain_pool(h.pool, held, 0);
    assert_true(nheld > 8);
    for (unsigned i = 0; i < 8; i++) /* 8 left: three segments fit */
        rte_pktmbuf_free(held[--nheld]);
    uint64_t nombuf = th_stats(&h).tx_nombuf;
    static char body[3000];
    memset(body, 'x', sizeof(body));
    assert_int_equal(ts_write(h.ctx, c.fd, body, sizeof(body)), sizeof(body));
    th_advance(&h, 1000);
    uint32_t sent = 0;
    for (unsigned k = 0; k < h.nout; k++) {
        struct th_seg s = th_out_tcp(&h, k);
        if (s.dport == TH_PEER_PORT)
            sent += s.len;
    }
    assert_int_equal(sent, sizeof(body));
    assert_int_equal(th_stats(&h).tx_nombuf, nombuf);
    th_clear(&h);
    for (unsigned i = 0; i < nheld; i++)
        rte_pktmbuf_free(held[i]);
    free(held);
    ts_close(h.ctx, c.fd);
    ts_close(h.ctx, c.lfd);
    th_advance(&h, 100000000);
    th_clear(&h);
    th_fini(&h);
}

/* Closes @p fd (if >= 0) and the listener, lets every timer run out, and
 * checks that nothing leaked (th_fini). */
static void close_all(struct th *h, int fd, int lfd)
{
    th_clear(h);
    if (fd >= 0)
        ts_close(h->ctx, fd);
    ts_close(h->ctx, lfd);
    th_advance(h, 100000000);
    th_clear(h);
    th_fini(h);
}

/* The reader drains a buffer that was more than half full, then reads
 * again and finds nothing: the window update it owes the peer still goes
 * out (the read that finds nothing gives idle buffers back, but not before
 * the stack has worked out that update from them). */
static void window_update_after_drain(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    open_one(&h, &c);
    static char data[1000];
    memset(data, 'x', sizeof data);
    for (int i = 0; i < 17; i++) {
        th_tcp(&h, TH_PEER_PORT, TH_PORT, RTE_TCP_ACK_FLAG, c.snd_nxt, c.rcv_nxt, 65535,
               data, sizeof data);
        c.snd_nxt += sizeof data;
    }
    th_advance(&h, 300000);
    uint16_t lastwin = 0xffff;
    for (unsigned i = 0; i < h.nout; i++)
        lastwin = th_out_tcp(&h, i).win;
    assert_true(lastwin < 4096); /* the buffer is nearly full */
    th_clear(&h);
    char buf[32768];
    ssize_t n, total = 0;
    while ((n = ts_read(h.ctx, c.fd, buf, sizeof buf)) > 0)
        total += n;
    assert_true(total >= 15000); /* what the window let in */
    assert_int_equal(errno, EAGAIN);
    th_advance(&h, 1000);
    unsigned updates = 0;
    for (unsigned i = 0; i < h.nout; i++)
        if (th_out_tcp(&h, i).win > 4 * lastwin + 1)
            updates++;
    assert_int_equal(updates, 1);
    close_all(&h, c.fd, c.lfd);
}

/* SYNs from sources no host can have are dropped and counted, not
 * answered: 0.0.0.0, loopback, multicast, the limited and the subnet
 * broadcast, our own address. */
static void impossible_sources_dropped(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    int lfd = th_listen(&h);
    const uint32_t srcs[] = {
        0,       0x7f000001u, 0xe0000001u, 0xffffffffu, (TH_US_IP & 0xffffff00u) | 0xffu,
        TH_US_IP};
    uint64_t bad = th_stats(&h).rx_bad_ip;
    for (size_t k = 0; k < sizeof srcs / sizeof srcs[0]; k++) {
        struct rte_mbuf *m = th_tcp_frame(&h, (uint16_t)(5555 + k), TH_PORT,
                                          RTE_TCP_SYN_FLAG, 100, 0, 65535, NULL, 0, 1460);
        struct rte_ipv4_hdr *ip = th_ip_of(m);
        struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
        ip->src_addr = rte_cpu_to_be_32(srcs[k]);
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        t->cksum = 0;
        t->cksum = rte_ipv4_udptcp_cksum(ip, t);
        th_inject(&h, m);
        assert_int_equal(h.nout, 0);
    }
    assert_int_equal(th_stats(&h).rx_bad_ip, bad + sizeof srcs / sizeof srcs[0]);
    /* a real neighbour is still answered */
    th_tcp(&h, 6000, TH_PORT, RTE_TCP_SYN_FLAG, 100, 0, 65535, NULL, 0);
    assert_int_equal(h.nout, 1);
    close_all(&h, -1, lfd);
}

/* One burst of 40 SYNs then an out-of-order segment of an open
 * connection (answered at once with a duplicate ACK): that ACK leaves
 * before any SYN-ACK. */
static void established_ack_before_synacks(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    open_one(&h, &c);
    struct rte_mbuf *pkts[NSYN + 1];
    unsigned n = burst_gap(&h, &c, pkts, 2000, 10);
    ts_input(h.ctx, pkts, (uint16_t)n, h.now);
    ts_poll(h.ctx, h.now);
    assert_true(h.nout > 1);
    assert_int_equal(th_out_tcp(&h, 0).dport, TH_PEER_PORT);
    close_all(&h, c.fd, c.lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(established_first_and_syn_budget),
        cmocka_unit_test(budget_off_answers_all),
        cmocka_unit_test(pool_exhaustion_drops_and_recovers),
        cmocka_unit_test(few_mbufs_left_still_sent),
        cmocka_unit_test(window_update_after_drain),
        cmocka_unit_test(impossible_sources_dropped),
        cmocka_unit_test(established_ack_before_synacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
