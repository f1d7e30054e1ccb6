/**
 * @file test_gro.c
 * Receive coalescing (ts_gro.c): a burst's run of in-order data segments of
 * one flow is taken as one segment, with the same bytes, counters and ACK
 * as segment by segment; what must not join a run (another flow, another
 * window, a segment after a PSH, a bad checksum) does not; and a run that
 * does not continue the stream in order is taken segment by segment, each
 * out-of-order segment answered by its own duplicate ACK. Each frame's link
 * padding is cut off.
 */
#include "harness.h"
#include "ts_priv.h"

#define SEG 1000u
#define NSEG 7

static uint8_t text[NSEG * SEG];

/* Segment @p i of the peer's stream on @p c, with @p flags and @p win. */
static struct rte_mbuf *seg_frame(struct th *h, const struct th_conn *c, unsigned i,
                                  uint8_t flags, uint16_t win)
{
    return th_tcp_frame(h, TH_PEER_PORT, TH_PORT, flags, c->snd_nxt + i * SEG, c->rcv_nxt,
                        win, text + i * SEG, SEG, 0);
}

static void burst(struct th *h, struct rte_mbuf **pkts, unsigned n)
{
    ts_input(h->ctx, pkts, (uint16_t)n, h->now);
    th_run(h);
}

/* A context (tuned by @p tune) with one connection open; returns its
 * counters at that point. */
static struct ts_stats setup(struct th *h, struct th_conn *c,
                             void (*tune)(struct ts_params *))
{
    for (unsigned i = 0; i < sizeof(text); i++)
        text[i] = (uint8_t)(i * 7 + i / 251);
    th_connected(h, c, tune);
    return th_stats(h);
}

/* The application reads exactly the @p n bytes @p want on @p fd. */
static void reads(struct th *h, int fd, const void *want, size_t n)
{
    uint8_t buf[NSEG * SEG + 1];
    assert_int_equal(ts_read(h->ctx, fd, buf, sizeof(buf)), n);
    assert_memory_equal(buf, want, n);
}

static void no_gro(struct ts_params *p)
{
    p->gro = false;
}

/* Four in-order segments in one burst: the bytes, the frame and byte
 * counts, and the one ACK are those of four segments; with gro on, three
 * were taken as part of the first. */
static void run_as_segments(bool gro)
{
    struct th h;
    struct th_conn c;
    struct ts_stats before = setup(&h, &c, gro ? NULL : no_gro);
    struct rte_mbuf *pkts[4];
    uint64_t bytes = 0;
    for (unsigned i = 0; i < 4; i++) {
        pkts[i] = seg_frame(&h, &c, i, RTE_TCP_ACK_FLAG | (i == 3 ? RTE_TCP_PSH_FLAG : 0),
                            65535);
        bytes += rte_pktmbuf_pkt_len(pkts[i]);
    }
    burst(&h, pkts, 4);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.rx_gro_merged - before.rx_gro_merged, gro ? 3 : 0);
    assert_int_equal(st.rx_frames - before.rx_frames, 4);
    assert_int_equal(st.rx_bytes - before.rx_bytes, bytes);
    reads(&h, c.fd, text, 4 * SEG);
    assert_int_equal(h.nout, 1);
    struct th_seg a = th_out_tcp(&h, 0);
    assert_int_equal(a.flags, RTE_TCP_ACK_FLAG);
    assert_int_equal(a.ack, c.snd_nxt + 4 * SEG);
    th_fini(&h);
}

static void in_order_run_is_one_segment(void **state)
{
    (void)state;
    run_as_segments(true);
}

static void without_gro_each_segment_alone(void **state)
{
    (void)state;
    run_as_segments(false);
}

/* A burst of: segments 0 and 1 (a run), segment 2 with another window (a
 * run of its own, as its window is news), segment 3 with PSH (joins 2),
 * segment 4 (after a PSH: a new run), a segment of another connection,
 * segment 5 with a bad checksum (dropped and counted), segment 6 alone. */
static void runs_break_where_they_must(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c, c2;
    setup(&h, &c, NULL);
    c2.lfd = c.lfd;
    th_open(&h, &c2, TH_PEER_PORT + 1);
    struct ts_stats before = th_stats(&h);
    struct rte_mbuf *pkts[8];
    unsigned n = 0;
    pkts[n++] = seg_frame(&h, &c, 0, RTE_TCP_ACK_FLAG, 65535);
    pkts[n++] = seg_frame(&h, &c, 1, RTE_TCP_ACK_FLAG, 65535);
    pkts[n++] = seg_frame(&h, &c, 2, RTE_TCP_ACK_FLAG, 65000);
    pkts[n++] = seg_frame(&h, &c, 3, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 65000);
    pkts[n++] = seg_frame(&h, &c, 4, RTE_TCP_ACK_FLAG, 65000);
    pkts[n++] = th_tcp_frame(&h, TH_PEER_PORT + 1, TH_PORT, RTE_TCP_ACK_FLAG, c2.snd_nxt,
                             c2.rcv_nxt, 65535, "other", 5, 0);
    struct rte_mbuf *bad = seg_frame(&h, &c, 5, RTE_TCP_ACK_FLAG, 65000);
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(th_ip_of(bad) + 1);
    t->cksum ^= 0x0101;
    pkts[n++] = bad;
    pkts[n++] = seg_frame(&h, &c, 6, RTE_TCP_ACK_FLAG, 65000); /* beyond the gap */
    burst(&h, pkts, n);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.rx_gro_merged - before.rx_gro_merged, 2); /* 1 to 0, 3 to 2 */
    assert_int_equal(st.rx_bad_cksum - before.rx_bad_cksum, 1);
    assert_int_equal(st.rx_frames - before.rx_frames, n);
    reads(&h, c.fd, text, 5 * SEG);
    reads(&h, c2.fd, "other", 5);
    th_fini(&h);
}

/* Segments 1 to 4 arrive in one burst with 0 missing: gro chains them, but
 * as they do not continue the stream they are taken one by one, each
 * answered at once by a duplicate ACK (the sender counts them). When 0
 * comes, all five are there, once. */
static void run_beyond_a_gap_is_taken_segment_by_segment(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    uint8_t buf[1];
    struct ts_stats before = setup(&h, &c, NULL);
    struct rte_mbuf *pkts[4];
    for (unsigned i = 0; i < 4; i++)
        pkts[i] = seg_frame(&h, &c, i + 1, RTE_TCP_ACK_FLAG, 65535);
    burst(&h, pkts, 4);
    assert_int_equal(th_stats(&h).rx_gro_merged - before.rx_gro_merged, 3);
    assert_int_equal(h.nout, 4);
    for (unsigned i = 0; i < 4; i++) {
        struct th_seg a = th_out_tcp(&h, i);
        assert_int_equal(a.len, 0);
        assert_int_equal(a.ack, c.snd_nxt);
    }
    th_clear(&h);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    struct rte_mbuf *first = seg_frame(&h, &c, 0, RTE_TCP_ACK_FLAG, 65535);
    burst(&h, &first, 1);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt + 5 * SEG);
    reads(&h, c.fd, text, 5 * SEG);
    th_fini(&h);
}

/* Three segments of two bytes, each frame padded by the link to 60 bytes:
 * the padding is cut off before the run is chained, and still counted in
 * the bytes received. */
static void padded_short_segments_join(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    struct ts_stats before = setup(&h, &c, NULL);
    struct rte_mbuf *pkts[3];
    uint64_t bytes = 0;
    for (unsigned i = 0; i < 3; i++) {
        char two[2] = {(char)('a' + i), (char)('a' + i)};
        pkts[i] = th_tcp_frame(&h, TH_PEER_PORT, TH_PORT, RTE_TCP_ACK_FLAG,
                               c.snd_nxt + 2 * i, c.rcv_nxt, 65535, two, 2, 0);
        uint16_t pad = (uint16_t)(60 - rte_pktmbuf_pkt_len(pkts[i]));
        memset(rte_pktmbuf_append(pkts[i], pad), 0xee, pad);
        bytes += rte_pktmbuf_pkt_len(pkts[i]);
    }
    burst(&h, pkts, 3);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.rx_gro_merged - before.rx_gro_merged, 2);
    assert_int_equal(st.rx_bytes - before.rx_bytes, bytes);
    reads(&h, c.fd, "aabbcc", 6);
    th_fini(&h);
}

/* A run whose first segment was received already (a retransmission that
 * overlaps): taken one by one, the duplicate dropped, the rest kept once. */
static void run_starting_with_a_duplicate(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c, NULL);
    struct rte_mbuf *first = seg_frame(&h, &c, 0, RTE_TCP_ACK_FLAG, 65535);
    burst(&h, &first, 1);
    th_clear(&h);
    struct rte_mbuf *pkts[3];
    for (unsigned i = 0; i < 3; i++)
        pkts[i] = seg_frame(&h, &c, i, RTE_TCP_ACK_FLAG, 65535);
    burst(&h, pkts, 3);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt + 3 * SEG);
    reads(&h, c.fd, text, 3 * SEG);
    th_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_run_is_one_segment),
        cmocka_unit_test(without_gro_each_segment_alone),
        cmocka_unit_test(runs_break_where_they_must),
        cmocka_unit_test(run_beyond_a_gap_is_taken_segment_by_segment),
        cmocka_unit_test(run_starting_with_a_duplicate),
        cmocka_unit_test(padded_short_segments_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
