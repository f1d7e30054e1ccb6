/**
 * @file test_flowmap.c
 * Two stack contexts sharing a flow map, as two cores of one port do: a
 * segment of a connection that core A holds, arriving at core B, is counted
 * by B as a flow seen on two cores; SYNs, segments of flows nobody holds and
 * segments of a flow A has closed are not. The map itself: a row follows
 * its context's flow table through thousands of opens and closes.
 */
#include "harness.h"

#define ACK RTE_TCP_ACK_FLAG
#define RST RTE_TCP_RST_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define PSH RTE_TCP_PSH_FLAG

static struct ts_flowmap *test_map;

static void on_core(struct th *h, unsigned core)
{
    struct ts_params p;
    th_params(&p);
    p.core_id = core;
    p.flowmap = test_map;
    th_start(h, &p);
    th_peer_arp(h);
}

static void flow_on_another_core_is_counted(void **state)
{
    (void)state;
    struct th a, b;
    struct th_conn c;

    test_map = ts_flowmap_create(2, 12345);
    assert_non_null(test_map);
    on_core(&a, 0);
    on_core(&b, 1);
    c.lfd = th_listen(&a);
    th_listen(&b);
    th_open(&a, &c, TH_PEER_PORT);

    /* the flow's next segment lands on B: no flow there, A holds it */
    th_tcp(&b, TH_PEER_PORT, TH_PORT, ACK | PSH, c.snd_nxt, c.rcv_nxt, 65535, "GET", 3);
    assert_int_equal(th_stats(&b).tcp_flow_other_core, 1);
    assert_int_equal(th_stats(&b).rx_no_flow, 1);
    assert_int_equal(th_stats(&a).tcp_flow_other_core, 0);
    th_clear(&b); /* B's reset to the stray segment */

    /* a new flow's SYN on B is not a split flow, nor is a stray segment of
     * a 4-tuple nobody holds */
    th_tcp(&b, TH_PEER_PORT + 1, TH_PORT, SYN, 7000, 0, 65535, NULL, 0);
    th_tcp(&b, TH_PEER_PORT + 2, TH_PORT, ACK, 7000, 1, 65535, NULL, 0);
    assert_int_equal(th_stats(&b).tcp_flow_other_core, 1);
    th_clear(&b);

    /* A's own segments of the flow are A's: nothing counted there */
    th_tcp(&a, TH_PEER_PORT, TH_PORT, ACK | PSH, c.snd_nxt, c.rcv_nxt, 65535, "GET", 3);
    assert_int_equal(th_stats(&a).tcp_flow_other_core, 0);
    th_clear(&a);
    c.snd_nxt += 3;

    /* the peer resets the flow: once A has let go of it, a late segment
     * on B is an ordinary stray */
    th_tcp(&a, TH_PEER_PORT, TH_PORT, RST, c.snd_nxt, 0, 0, NULL, 0);
    th_clear(&a);
    assert_int_equal(ts_close(a.ctx, c.fd), 0);
    th_advance(&a, 0);
    th_clear(&a);
    th_tcp(&b, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(th_stats(&b).tcp_flow_other_core, 1);
    th_clear(&b);

    th_fini(&b);
    th_fini(&a);
    ts_flowmap_destroy(test_map);
}

/* Thousands of flows opened and closed on A leave its row empty: a stray
 * segment of each of them on B afterwards counts nothing. While they are
 * open, each one's stray on B counts once. */
static void row_follows_the_flow_table(void **state)
{
    (void)state;
    enum { N = 200 };
    struct th a, b;
    struct th_conn c[N];

    test_map = ts_flowmap_create(2, 99);
    assert_non_null(test_map);
    on_core(&a, 0);
    on_core(&b, 1);
    int lfd = th_listen(&a);
    for (unsigned round = 0; round < 10; round++) {
        for (unsigned i = 0; i < N; i++) {
            c[i].lfd = lfd;
            th_open(&a, &c[i], (uint16_t)(20000 + round * N + i));
        }
        uint64_t before = th_stats(&b).tcp_flow_other_core;
        for (unsigned i = 0; i < N; i++) {
            th_tcp(&b, (uint16_t)(20000 + round * N + i), TH_PORT, ACK, c[i].snd_nxt,
                   c[i].rcv_nxt, 65535, NULL, 0);
            th_clear(&b);
        }
        assert_int_equal(th_stats(&b).tcp_flow_other_core - before, N);
        for (unsigned i = 0; i < N; i++) {
            th_tcp(&a, (uint16_t)(20000 + round * N + i), TH_PORT, RST, c[i].snd_nxt, 0,
                   0, NULL, 0);
            assert_int_equal(ts_close(a.ctx, c[i].fd), 0);
        }
        th_advance(&a, 0);
        th_clear(&a);
        before = th_stats(&b).tcp_flow_other_core;
        for (unsigned i = 0; i < N; i++) {
            th_tcp(&b, (uint16_t)(20000 + round * N + i), TH_PORT, ACK, c[i].snd_nxt,
                   c[i].rcv_nxt, 65535, NULL, 0);
            th_clear(&b);
        }
        assert_int_equal(th_stats(&b).tcp_flow_other_core, before);
    }
    th_fini(&b);
    th_fini(&a);
    ts_flowmap_destroy(test_map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flow_on_another_core_is_counted),
        cmocka_unit_test(row_follows_the_flow_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
