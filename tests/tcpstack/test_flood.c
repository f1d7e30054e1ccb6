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

/* A burst: a data segment of an open connection last, after NSYN SYNs
 * from ports @p base.. of the peer. */
static unsigned burst(struct th *h, struct th_conn *c, struct rte_mbuf **pkts,
                      uint16_t base)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NSYN; i++)
        pkts[n++] = th_tcp_frame(h, (uint16_t)(base + i), TH_PORT, RTE_TCP_SYN_FLAG,
                                 7000 + i, 0, 65535, NULL, 0, 1460);
    pkts[n++] = th_tcp_frame(h, TH_PEER_PORT, TH_PORT, RTE_TCP_ACK_FLAG, c->snd_nxt,
                             c->rcv_nxt, 65535, "GET", 3, 0);
    return n;
}

static void established_first_and_syn_budget(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    struct th_conn c = {.lfd = th_listen(&h)};
    th_open(&h, &c, TH_PEER_PORT);

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
    th_init(&h, NULL);
    th_peer_arp(&h);
    struct th_conn c = {.lfd = th_listen(&h)};
    th_open(&h, &c, TH_PEER_PORT);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(established_first_and_syn_budget),
        cmocka_unit_test(budget_off_answers_all),
        cmocka_unit_test(pool_exhaustion_drops_and_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
