/**
 * @file test_tcp.c
 * TCP through the socket API, sans-IO: passive open, data both ways with
 * exact sequence and acknowledgement numbers, segmentation to the MSS,
 * retransmission on timeout, both orders of FIN, RST handling, and that
 * every socket and buffer is given back.
 */
#include <errno.h>

#include <rte_malloc.h>

#include "harness.h"
#include "ts_csum.h"
#include "ts_priv.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

static void setup(struct th *h, struct th_conn *c)
{
    th_init(h, NULL);
    th_peer_arp(h);
    c->lfd = th_listen(h);
    th_open(h, c, TH_PEER_PORT);
}

/* The peer sends @p data, less than a full segment: the stack delays its
 * ACK (RFC 5681 4.2) and acknowledges all of it when the timer fires. */
static void peer_sends(struct th *h, struct th_conn *c, const char *data)
{
    uint32_t n = (uint32_t)strlen(data);
    th_tcp(h, TH_PEER_PORT, TH_PORT, ACK | PSH, c->snd_nxt, c->rcv_nxt, 65535, data, n);
    c->snd_nxt += n;
    assert_int_equal(h->nout, 0);
    th_advance(h, 39 * 1000);
    assert_int_equal(h->nout, 0);
    th_advance(h, 1000); /* delack_ms = 40 */
    assert_int_equal(h->nout, 1);
    struct th_seg s = th_out_tcp(h, 0);
    assert_int_equal(s.flags, ACK);
    assert_int_equal(s.ack, c->snd_nxt);
    assert_int_equal(s.seq, c->rcv_nxt);
    th_clear(h);
}

static void assert_all_freed(struct th *h)
{
    struct ts_stats st = th_stats(h);
    assert_int_equal(st.socks_in_use, 1); /* the listener */
    assert_int_equal(st.bufs_in_use, 0);
}

static void syn_ack_carries_mss(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    th_listen(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, SYN, 5000, 0, 65535, NULL, 0);
    assert_int_equal(h.nout, 1);
    struct th_seg s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, SYN | ACK);
    assert_int_equal(s.ack, 5001);
    assert_int_equal(s.mss, 1460);
    assert_int_equal(s.sport, TH_PORT);
    assert_int_equal(s.dport, TH_PEER_PORT);
    assert_true(s.win > 0);
    th_fini(&h);
}

static void isn_differs_per_connection(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    th_listen(&h);
    th_tcp(&h, 40001, TH_PORT, SYN, 5000, 0, 65535, NULL, 0);
    th_tcp(&h, 40002, TH_PORT, SYN, 5000, 0, 65535, NULL, 0);
    assert_int_equal(h.nout, 2);
    assert_int_not_equal(th_out_tcp(&h, 0).seq, th_out_tcp(&h, 1).seq);
    th_fini(&h);
}

/* A reader that promises to take bytes unread (ts_read_unread_ahead, as the
 * load generator does with a body it only counts): those still to come are
 * acknowledged and counted but not copied into the receive buffer, the
 * promise ends exactly where it said, and the buffers stay attached while
 * promised bytes are still to come. */
static void unread_ahead_bytes_are_not_copied(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    struct ts_sock *s = &h.ctx->socks[c.fd];
    char buf[64];
    peer_sends(&h, &c, "HEAD");
    assert_int_equal(ts_read(h.ctx, c.fd, buf, 2), 2);
    assert_memory_equal(buf, "HE", 2);
    /* "AD" already there, and the next five bytes */
    assert_int_equal(ts_read_unread_ahead(h.ctx, c.fd, 7), 0);
    assert_int_equal(ts_read(h.ctx, c.fd, NULL, 2), 2);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    assert_non_null(s->bufs); /* not idle: five promised bytes to come */
    struct ts_bring *rx = &s->bufs->rx;
    uint8_t *ring = ts_bring_buf(rx);
    memset(ring, 'z', ts_bring_mask(rx) + 1);
    peer_sends(&h, &c, "12345XY");
    assert_memory_equal(ring + 4, "zzzzzXY", 7); /* ring index 4 on: not copied */
    assert_int_equal(ts_read(h.ctx, c.fd, NULL, 5), 5);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "XY", 2);
    /* the promise is spent: the next bytes are copied */
    peer_sends(&h, &c, "ok");
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "ok", 2);
    assert_int_equal(ts_read_unread_ahead(h.ctx, c.fd, (size_t)1 << 30), -1);
    assert_int_equal(errno, EINVAL);
    th_fini(&h);
}

static void data_both_ways_then_peer_closes_first(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    peer_sends(&h, &c, "GET / HTTP/1.1\r\n\r\n");
    char buf[64];
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 18);
    assert_memory_equal(buf, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    /* a read into NULL consumes without a copy, no more than asked */
    peer_sends(&h, &c, "0123456789");
    assert_int_equal(ts_read(h.ctx, c.fd, NULL, 4), 4);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "456789", 6);

    assert_int_equal(ts_write(h.ctx, c.fd, "hello", 5), 5);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    struct th_seg s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, ACK | PSH);
    assert_int_equal(s.seq, c.rcv_nxt);
    assert_int_equal(s.ack, c.snd_nxt);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "hello", 5);
    c.rcv_nxt += 5;
    th_clear(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(h.nout, 0);

    /* the peer closes: EOF for the reader, then our FIN on close */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, FIN | ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    c.snd_nxt++;
    assert_int_equal(h.nout, 1);
    s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, ACK);
    assert_int_equal(s.ack, c.snd_nxt);
    th_clear(&h);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 0);
    assert_int_equal(ts_close(h.ctx, c.fd), 0);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, FIN | ACK);
    assert_int_equal(s.seq, c.rcv_nxt);
    th_clear(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + 1, 65535, NULL, 0);
    assert_int_equal(h.nout, 0);
    assert_all_freed(&h); /* LAST_ACK -> CLOSED: no TIME_WAIT on this side */
    th_fini(&h);
}

static void we_close_first_time_wait(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    assert_int_equal(ts_write(h.ctx, c.fd, "bye", 3), 3);
    assert_int_equal(ts_close(h.ctx, c.fd), 0);
    th_advance(&h, 0);
    /* data and FIN in one segment */
    assert_int_equal(h.nout, 1);
    struct th_seg s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, ACK | PSH | FIN);
    assert_int_equal(s.len, 3);
    th_clear(&h);
    c.rcv_nxt += 4;
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, FIN | ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    c.snd_nxt++;
    assert_int_equal(h.nout, 1);
    s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, ACK);
    assert_int_equal(s.ack, c.snd_nxt);
    th_clear(&h);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.socks_in_use, 1); /* the listener: TIME_WAIT is ... */
    assert_int_equal(st.tw_in_use, 1);    /* ... a compact entry apart ... */
    assert_int_equal(st.bufs_in_use, 0);  /* ... with no buffers */
    /* a retransmitted FIN in TIME_WAIT is acknowledged again */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, FIN | ACK, c.snd_nxt - 1, c.rcv_nxt, 65535, NULL,
           0);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    th_advance(&h, 2000 * 1000 + 1000); /* 2*MSL with MSL = 1 s */
    assert_all_freed(&h);
    th_fini(&h);
}

static void simultaneous_close_goes_through_closing(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    assert_int_equal(ts_close(h.ctx, c.fd), 0);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).flags, FIN | ACK);
    th_clear(&h);
    /* the peer's FIN crosses ours: it does not acknowledge our FIN */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, FIN | ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    c.snd_nxt++;
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + 1, 65535, NULL, 0);
    assert_int_equal(th_stats(&h).bufs_in_use, 0); /* TIME_WAIT */
    th_advance(&h, 2001 * 1000);
    assert_all_freed(&h);
    th_fini(&h);
}

static void segments_to_mss_and_window(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    th_init(&h, NULL);
    th_peer_arp(&h);
    c.lfd = th_listen(&h);
    /* the peer announces MSS 1000 */
    th_inject(&h, th_tcp_frame(&h, TH_PEER_PORT, TH_PORT, SYN, TH_PEER_ISS, 0, 3000, NULL,
                               0, 1000));
    struct th_seg sa = th_out_tcp(&h, 0);
    th_clear(&h);
    c.snd_nxt = TH_PEER_ISS + 1;
    c.rcv_nxt = sa.seq + 1;
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 3000, NULL, 0);
    c.fd = ts_accept(h.ctx, c.lfd, NULL, NULL);
    assert_true(c.fd > 0);
    static uint8_t body[5000];
    for (unsigned i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7);
    assert_int_equal(ts_write_ref(h.ctx, c.fd, body, sizeof(body), NULL), 5000);
    th_advance(&h, 0);
    /* window 3000, MSS 1000: exactly three full segments */
    assert_int_equal(h.nout, 3);
    for (unsigned i = 0; i < 3; i++) {
        struct th_seg s = th_out_tcp(&h, i);
        assert_int_equal(s.seq, c.rcv_nxt + 1000 * i);
        assert_int_equal(s.len, 1000);
        assert_memory_equal(s.data, body + 1000 * i, 1000);
    }
    th_clear(&h);
    /* acknowledging 2000 opens room for two more: the rest of the body */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + 2000, 3000, NULL, 0);
    assert_int_equal(h.nout, 2);
    assert_int_equal(th_out_tcp(&h, 0).seq, c.rcv_nxt + 3000);
    assert_int_equal(th_out_tcp(&h, 1).seq, c.rcv_nxt + 4000);
    assert_memory_equal(th_out_tcp(&h, 1).data, body + 4000, 1000);
    th_fini(&h);
}

/* Slow start grows cwnd on every ACK of a receive burst: the stack sends
 * nothing between the frames of one ts_input() call, so the flight the later
 * ACKs find is drained by the earlier ones; had that flight been the measure
 * of a cwnd-limited sender, growth would stop halfway (14 segments, not 20). */
static void slow_start_grows_on_every_ack_of_a_burst(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    static uint8_t body[100000];
    assert_int_equal(ts_write_ref(h.ctx, c.fd, body, sizeof(body), NULL), sizeof(body));
    th_advance(&h, 0);
    assert_int_equal(h.nout, 10); /* RFC 6928's initial window */
    uint32_t mss = th_out_tcp(&h, 0).len;
    th_clear(&h);
    struct rte_mbuf *acks[5];
    for (unsigned i = 0; i < 5; i++)
        acks[i] = th_tcp_frame(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt,
                               c.rcv_nxt + 2 * mss * (i + 1), 65535, NULL, 0, 0);
    ts_input(h.ctx, acks, 5, h.now);
    ts_poll(h.ctx, h.now);
    /* HyStart++'s slow start: cwnd += what each ACK acknowledged (L = 8),
     * 10 + 10 segments, all of them free once the flight is acknowledged */
    assert_int_equal(h.nout, 20);
    assert_int_equal(th_out_tcp(&h, 0).seq, c.rcv_nxt + 10 * mss);
    th_fini(&h);
}

/* A segment marked lost and still unsent outside recovery (the state a
 * recovery leaves when it ends while a loss it found past its recovery
 * point waits behind PRR) starts the next recovery with the next ACK and
 * goes at once: outside recovery only data from snd_nxt on is sent, and it
 * would have waited for the RTO. The marks are set by hand here; on the
 * lossy TAP path the state came up about once per 10 MB at 5% loss. */
static void lost_segment_left_after_recovery_is_resent(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    struct ts_sock *s = &h.ctx->socks[c.fd];
    s->tflags |= TF_SACK_OK; /* records and RACK, as if SACK were agreed */
    static uint8_t body[40000];
    assert_int_equal(ts_write_ref(h.ctx, c.fd, body, sizeof(body), NULL), sizeof(body));
    th_advance(&h, 0);
    assert_int_equal(h.nout, 10);
    uint32_t mss = th_out_tcp(&h, 0).len;
    th_clear(&h);
    struct tcp_rec *r = &s->bufs->rec;
    assert_int_equal(r->n, 10);
    struct tcp_txseg *g = &r->seg[(r->head + 4) & r->mask];
    g->flags |= TXS_LOST;
    r->lost += g->end - g->start;
    uint64_t fast = th_stats(&h).tcp_fast_retransmits;
    th_advance(&h, 1000);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + 2 * mss, 65535, NULL,
           0);
    assert_true(h.nout >= 1);
    assert_int_equal(th_out_tcp(&h, 0).seq, c.rcv_nxt + 4 * mss);
    assert_int_equal(th_stats(&h).tcp_fast_retransmits, fast + 1);
    th_fini(&h);
}

static void retransmits_on_timeout_with_backoff(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    assert_int_equal(ts_write(h.ctx, c.fd, "data", 4), 4);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    th_clear(&h);
    th_advance(&h, 150 * 1000); /* before the RTO */
    assert_int_equal(h.nout, 0);
    th_advance(&h, 1000 * 1000); /* the RTO is at most 1 s after one sample */
    assert_int_equal(h.nout, 1);
    struct th_seg s = th_out_tcp(&h, 0);
    assert_int_equal(s.seq, c.rcv_nxt);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.data, "data", 4);
    th_clear(&h);
    /* backoff: the next one comes later than the first did */
    th_advance(&h, 300 * 1000);
    assert_int_equal(h.nout, 0);
    assert_true(th_stats(&h).tcp_retransmits >= 1);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + 4, 65535, NULL, 0);
    th_advance(&h, 10 * 1000 * 1000);
    assert_int_equal(h.nout, 0); /* acknowledged: the timer is off */
    th_fini(&h);
}

static void syn_ack_retransmitted_then_given_up(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    th_listen(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, SYN, 5000, 0, 65535, NULL, 0);
    th_clear(&h);
    unsigned synacks = 0;
    for (int i = 0; i < 200; i++) {
        th_advance(&h, 1000 * 1000);
        for (unsigned k = 0; k < h.nout; k++)
            if (th_out_tcp(&h, k).flags == (SYN | ACK))
                synacks++;
        th_clear(&h);
    }
    assert_int_equal(synacks, 5); /* syn_retries */
    assert_all_freed(&h);
    th_fini(&h);
}

static void rst_for_unknown_flow(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    /* an ACK for no connection: RST with seq = its ack */
    th_tcp(&h, 40000, 81, ACK, 100, 777, 65535, NULL, 0);
    assert_int_equal(h.nout, 1);
    struct th_seg s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, RST);
    assert_int_equal(s.seq, 777);
    th_clear(&h);
    /* a SYN to a closed port: RST|ACK acknowledging it */
    th_tcp(&h, 40000, 81, SYN, 100, 0, 65535, NULL, 0);
    s = th_out_tcp(&h, 0);
    assert_int_equal(s.flags, RST | ACK);
    assert_int_equal(s.ack, 101);
    th_clear(&h);
    /* never a RST for a RST */
    th_tcp(&h, 40000, 81, RST, 100, 0, 0, NULL, 0);
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_no_flow, 3);
    th_fini(&h);
}

static void rst_in_window_resets_connection(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    /* off by one: a challenge ACK, the connection survives (RFC 5961) */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, RST, c.snd_nxt + 1, 0, 0, NULL, 0);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).flags, ACK);
    th_clear(&h);
    char buf[8];
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    /* exact: reset */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, RST, c.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(h.nout, 0);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(ts_write(h.ctx, c.fd, "x", 1), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(ts_close(h.ctx, c.fd), 0);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 0);
    assert_all_freed(&h);
    th_fini(&h);
}

static void out_of_window_and_duplicate_data(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    peer_sends(&h, &c, "abc");
    /* the same bytes again: a duplicate ACK, nothing delivered twice */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt - 3, c.rcv_nxt, 65535, "abc", 3);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    /* a segment beyond a gap: held, not delivered; the ACK asks for the gap */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt + 10, c.rcv_nxt, 65535, "zz", 2);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    /* far outside the window: dropped with an ACK */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt + 100000, c.rcv_nxt, 65535, "zz", 2);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    char buf[16];
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1);
    th_fini(&h);
}

static void acks_every_second_full_segment(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    static uint8_t seg[1460];
    memset(seg, 'x', sizeof(seg));
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, seg, 1460);
    c.snd_nxt += 1460;
    assert_int_equal(h.nout, 0); /* one full segment: delayed */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, seg, 1460);
    c.snd_nxt += 1460;
    assert_int_equal(h.nout, 1); /* the second: at once */
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    th_advance(&h, 100 * 1000);
    assert_int_equal(h.nout, 0); /* and the timer was cancelled */
    th_fini(&h);
}

static void reassembles_out_of_order(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    setup(&h, &c);
    /* "abc" "def" "ghi" arrive as ghi, def, abc */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt + 6, c.rcv_nxt, 65535, "ghi", 3);
    assert_int_equal(h.nout, 1); /* duplicate ACK at once */
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt + 3, c.rcv_nxt, 65535, "def", 3);
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt);
    th_clear(&h);
    char buf[16];
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), -1); /* nothing in order */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt, 65535, "abc", 3);
    assert_int_equal(h.nout, 1); /* the gap filled: ACK at once, for all nine */
    assert_int_equal(th_out_tcp(&h, 0).ack, c.snd_nxt + 9);
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 9);
    assert_memory_equal(buf, "abcdefghi", 9);
    th_fini(&h);
}

static void backlog_full_answers_with_cookie(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    int lfd = ts_socket(h.ctx);
    assert_int_equal(ts_bind(h.ctx, lfd, 0, TH_PORT), 0);
    assert_int_equal(ts_listen(h.ctx, lfd, 1), 0);
    /* the first SYN takes the only backlog place */
    th_tcp(&h, 40001, TH_PORT, SYN, 100, 0, 65535, NULL, 0);
    th_clear(&h);
    struct ts_stats st = th_stats(&h);
    /* the second is answered statelessly */
    th_tcp(&h, 40002, TH_PORT, SYN, 5000, 0, 65535, NULL, 0);
    assert_int_equal(h.nout, 1);
    struct th_seg sa = th_out_tcp(&h, 0);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(sa.ack, 5001);
    assert_true(sa.win > 0);
    th_clear(&h);
    assert_int_equal(th_stats(&h).socks_in_use, st.socks_in_use); /* no state kept */
    assert_int_equal(th_stats(&h).tcp_syncookies_sent, 1);
    /* a forged cookie is refused with a RST */
    th_tcp(&h, 40002, TH_PORT, ACK, 5001, sa.seq + 2, 65535, NULL, 0);
    assert_int_equal(th_out_tcp(&h, 0).flags, RST);
    th_clear(&h);
    assert_int_equal(th_stats(&h).tcp_syncookies_bad, 1);
    /* the real one, carrying a request, opens the connection */
    th_tcp(&h, 40002, TH_PORT, ACK | PSH, 5001, sa.seq + 1, 65535, "GET", 3);
    assert_int_equal(th_stats(&h).tcp_syncookies_ok, 1);
    int fd1 = ts_accept(h.ctx, lfd, NULL, NULL);
    int fd2 = ts_accept(h.ctx, lfd, NULL, NULL);
    /* the half-open connection completes later; the cookie one is queued */
    assert_true(fd1 > 0);
    assert_int_equal(fd2, -1);
    char buf[8];
    assert_int_equal(ts_read(h.ctx, fd1, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "GET", 3);
    th_fini(&h);
}

static void active_open_and_refusal(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    int fd = ts_socket(h.ctx);
    assert_int_equal(ts_connect(h.ctx, fd, TH_PEER_IP, 8080), -1);
    assert_int_equal(errno, EINPROGRESS);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    struct th_seg syn = th_out_tcp(&h, 0);
    assert_int_equal(syn.flags, SYN);
    assert_int_equal(syn.dport, 8080);
    assert_true(syn.sport >= 32768 && syn.sport <= 60999);
    assert_int_equal(syn.mss, 1460);
    th_clear(&h);
    char buf[8];
    assert_int_equal(ts_write(h.ctx, fd, "x", 1), -1);
    assert_int_equal(errno, ENOTCONN);
    th_inject(&h, th_tcp_frame(&h, 8080, syn.sport, SYN | ACK, 7000, syn.seq + 1, 65535,
                               NULL, 0, 1400));
    assert_int_equal(h.nout, 1);
    struct th_seg a = th_out_tcp(&h, 0);
    assert_int_equal(a.flags, ACK);
    assert_int_equal(a.seq, syn.seq + 1);
    assert_int_equal(a.ack, 7001);
    th_clear(&h);
    assert_int_equal(ts_write(h.ctx, fd, "hello", 5), 5);
    th_advance(&h, 0);
    assert_int_equal(th_out_tcp(&h, 0).len, 5);
    th_clear(&h);

    /* a second connection to a closed port is refused */
    int fd2 = ts_socket(h.ctx);
    assert_int_equal(ts_connect(h.ctx, fd2, TH_PEER_IP, 8081), -1);
    th_advance(&h, 0);
    struct th_seg syn2 = th_out_tcp(&h, 0);
    assert_int_not_equal(syn2.sport, syn.sport);
    th_clear(&h);
    th_tcp(&h, 8081, syn2.sport, RST | ACK, 0, syn2.seq + 1, 0, NULL, 0);
    assert_int_equal(ts_read(h.ctx, fd2, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    th_fini(&h);
}

static void simultaneous_open(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    int fd = ts_socket(h.ctx);
    assert_int_equal(ts_bind(h.ctx, fd, 0, 5555), 0);
    assert_int_equal(ts_connect(h.ctx, fd, TH_PEER_IP, 6666), -1);
    th_advance(&h, 0);
    struct th_seg syn = th_out_tcp(&h, 0);
    assert_int_equal(syn.sport, 5555);
    th_clear(&h);
    /* the peer's SYN crosses ours (RFC 9293 figure 8) */
    th_inject(&h, th_tcp_frame(&h, 6666, 5555, SYN, 9000, 0, 65535, NULL, 0, 1460));
    assert_int_equal(h.nout, 1);
    struct th_seg sa = th_out_tcp(&h, 0);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(sa.seq, syn.seq); /* the same ISN again */
    assert_int_equal(sa.ack, 9001);
    th_clear(&h);
    /* the peer's SYN-ACK for our SYN completes it */
    th_inject(&h, th_tcp_frame(&h, 6666, 5555, SYN | ACK, 9000, syn.seq + 1, 65535, NULL,
                               0, 1460));
    assert_int_equal(ts_write(h.ctx, fd, "ok", 2), 2);
    th_advance(&h, 0);
    bool data = false;
    for (unsigned i = 0; i < h.nout; i++)
        if (th_out_tcp(&h, i).len == 2)
            data = true;
    assert_true(data);
    th_fini(&h);
}

static void epoll_reports_readiness(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    th_init(&h, NULL);
    th_peer_arp(&h);
    c.lfd = th_listen(&h);
    int ep = ts_epoll_create(h.ctx);
    assert_true(ep > 0);
    struct ts_epoll_event ev = {.events = TS_EPOLLIN, .data = 1};
    assert_int_equal(ts_epoll_ctl(h.ctx, ep, TS_EPOLL_CTL_ADD, c.lfd, &ev), 0);
    struct ts_epoll_event out[4];
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 0);
    th_open(&h, &c, TH_PEER_PORT); /* accepts inside */
    ev = (struct ts_epoll_event){.events = TS_EPOLLIN | TS_EPOLLRDHUP, .data = 2};
    assert_int_equal(ts_epoll_ctl(h.ctx, ep, TS_EPOLL_CTL_ADD, c.fd, &ev), 0);
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 0); /* nothing to read */
    peer_sends(&h, &c, "hi");
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 1);
    assert_int_equal(out[0].data, 2);
    assert_int_equal(out[0].events, TS_EPOLLIN);
    /* level-triggered: still readable until read */
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 1);
    char buf[4];
    assert_int_equal(ts_read(h.ctx, c.fd, buf, sizeof(buf)), 2);
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 0);
    /* FIN: readable (EOF) with RDHUP */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, FIN | ACK, c.snd_nxt, c.rcv_nxt, 65535, NULL, 0);
    th_clear(&h);
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 1);
    assert_int_equal(out[0].events, TS_EPOLLIN | TS_EPOLLRDHUP);
    th_fini(&h);
}

/* Writes @p n bytes, sends them and has the peer acknowledge them all. */
static void write_acked(struct th *h, struct th_conn *c, const uint8_t *buf, size_t n)
{
    assert_int_equal(ts_write(h->ctx, c->fd, buf, n), (ssize_t)n);
    th_advance(h, 10);
    th_clear(h);
    c->rcv_nxt += (uint32_t)n;
    th_tcp(h, TH_PEER_PORT, TH_PORT, ACK, c->snd_nxt, c->rcv_nxt, 65535, NULL, 0);
    th_advance(h, 10);
}

/* An ACK posts EPOLLOUT only for a writer that waits for it, once the
 * socket is writable: each notice is a turn of the worker, and a response
 * being acknowledged segment by segment once took one per ACK. */
static void write_space_only_for_a_waiting_writer(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    th_connected(&h, &c, NULL);
    int ep = ts_epoll_create(h.ctx);
    assert_true(ep > 0);
    struct ts_epoll_event ev = {.events = TS_EPOLLIN | TS_EPOLLRDHUP, .data = 2};
    assert_int_equal(ts_epoll_ctl(h.ctx, ep, TS_EPOLL_CTL_ADD, c.fd, &ev), 0);
    struct ts_epoll_event out[4];
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 0);

    /* reading only: the ACK of a response posts nothing */
    static uint8_t body[3000];
    write_acked(&h, &c, body, sizeof body);
    assert_int_equal(ts_sring_count(&h.ctx->evq), 0);

    /* waiting to write: the ACK that makes room posts EPOLLOUT */
    ev.events = TS_EPOLLOUT;
    assert_int_equal(ts_epoll_ctl(h.ctx, ep, TS_EPOLL_CTL_MOD, c.fd, &ev), 0);
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 1); /* writable already */
    write_acked(&h, &c, body, sizeof body);
    assert_int_equal(ts_sring_count(&h.ctx->evq), 1);
    assert_int_equal(ts_epoll_wait(h.ctx, ep, out, 4, 0), 1);
    assert_int_equal(out[0].events, TS_EPOLLOUT);
    th_fini(&h);
}

/* ------------------------------------------------------------- zero copy */

static unsigned zc_released;

static void zc_release(void *arg)
{
    (void)arg;
    zc_released++;
}

static void zc_tune(struct ts_params *p)
{
    p->offloads |= TS_OFF_TX_MULTISEG;
}

/* Output frame @p i as one buffer (however it is chained), its TCP
 * checksum checked; returns the payload length, copied to @p payload. */
static uint32_t zc_frame(struct th *h, unsigned i, uint8_t *payload, size_t room)
{
    static uint8_t flat[2048];
    struct rte_mbuf *m = h->out[i];
    assert_true(m->pkt_len <= sizeof(flat));
    const uint8_t *p = rte_pktmbuf_read(m, 0, m->pkt_len, flat);
    const struct rte_ipv4_hdr *ip = (const void *)(p + RTE_ETHER_HDR_LEN);
    const struct rte_tcp_hdr *t = (const void *)(ip + 1);
    assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, t), 0);
    /* every mbuf but the last ends at an even offset of the segment, for
     * checksum offloads that sum a piece at a time */
    uint32_t at = 0;
    for (const struct rte_mbuf *seg = m; seg->next; seg = seg->next) {
        at += seg->data_len;
        assert_int_equal((at - RTE_ETHER_HDR_LEN - sizeof(*ip)) % 2, 0);
    }
    uint32_t doff = (t->data_off >> 4) * 4u;
    uint32_t len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip) - doff;
    assert_true(len <= room);
    memcpy(payload, (const uint8_t *)t + doff, len);
    return len;
}

/* Does frame @p i chain an external buffer pointing into [base, base+n)? */
static bool zc_points_into(struct th *h, unsigned i, const uint8_t *base, uint32_t n)
{
    for (struct rte_mbuf *seg = h->out[i]; seg; seg = seg->next) {
        const uint8_t *a = rte_pktmbuf_mtod(seg, const uint8_t *);
        if (RTE_MBUF_HAS_EXTBUF(seg) && a >= base && a < base + n)
            return true;
    }
    return false;
}

/* A body in DPDK memory goes out by reference: frames chain external
 * buffers pointing into it (no copy), the header is copied, the bytes on
 * the wire are right, a retransmission points into it again, and its owner
 * is released only when it is acknowledged and no frame points at it.
 * With @p sums, the body comes with precomputed checksums (as a cached
 * file does): every frame's checksum, summed from them, must verify. */
static void by_reference(bool sums)
{
    struct th h;
    struct th_conn c;
    th_init(&h, zc_tune);
    th_peer_arp(&h);
    c.lfd = th_listen(&h);
    th_open(&h, &c, TH_PEER_PORT);
    const uint32_t n = 4000;
    uint8_t *body = rte_malloc(NULL, n, 0);
    assert_non_null(body);
    for (uint32_t i = 0; i < n; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n";
    const uint32_t hl = sizeof(hdr) - 1;
    zc_released = 0;
    struct ts_ref_owner own = {.release = zc_release};
    struct ts_csum_map map;
    uint16_t table[ts_csum_map_entries(4000)];
    if (sums) {
        ts_csum_map_init(&map, body, n, table);
        own.csum = &map;
    }
    assert_int_equal(ts_write(h.ctx, c.fd, hdr, hl), hl);
    assert_int_equal(ts_write_ref(h.ctx, c.fd, body, n, &own), n);
    th_advance(&h, 1000);
    assert_true(h.nout >= 3);
    static uint8_t got[8192];
    uint32_t total = 0;
    bool pointed = false;
    for (unsigned i = 0; i < h.nout; i++) {
        total += zc_frame(&h, i, got + total, sizeof(got) - total);
        pointed |= zc_points_into(&h, i, body, n);
    }
    assert_int_equal(total, hl + n);
    assert_memory_equal(got, hdr, hl);
    assert_memory_equal(got + hl, body, n);
    assert_true(pointed);
    struct ts_stats st = th_stats(&h);
    assert_true(st.tx_bytes_ref >= n - 2 * 512); /* pieces under 512 B are copied */
    assert_int_equal(st.tx_bytes_ref + st.tx_bytes_copied, hl + n);
    /* lost: the frames are gone, the timeout sends the first again, and it
     * points into the body too */
    unsigned first_out = h.nout;
    th_clear(&h);
    assert_int_equal(zc_released, 0); /* not acknowledged */
    th_advance(&h, 1100 * 1000);
    assert_true(h.nout >= 1 && first_out >= 1);
    assert_true(th_stats(&h).tcp_retransmits >= 1);
    assert_true(th_stats(&h).tx_bytes_ref > st.tx_bytes_ref);
    assert_true(zc_points_into(&h, 0, body, n));
    /* acknowledged while the NIC still holds a frame: not released yet */
    th_tcp(&h, TH_PEER_PORT, TH_PORT, ACK, c.snd_nxt, c.rcv_nxt + hl + n, 65535, NULL, 0);
    assert_int_equal(zc_released, 0);
    th_clear(&h); /* the last frame freed: released once */
    assert_int_equal(zc_released, 1);
    assert_int_equal(ts_close(h.ctx, c.fd), 0);
    th_advance(&h, 1000);
    th_clear(&h);
    th_fini(&h);
    rte_free(body);
}

static void body_by_reference(void **state)
{
    (void)state;
    by_reference(false);
}

static void body_by_reference_with_sums(void **state)
{
    (void)state;
    by_reference(true);
}

/* ------------------------------------------------------- back-pressure */

static unsigned fake_backlog; /* frames the "device" has not taken */

static unsigned fake_tx_backlog(const void *arg)
{
    (void)arg;
    return fake_backlog;
}

static void bp_tune(struct ts_params *p)
{
    p->tx_backlog = fake_tx_backlog;
}

/* While the device has TS_TX_BACKLOG_HIGH frames to take, a write's
 * segments wait in the send queue (nothing is emitted, so nothing can be
 * dropped), the stack asks to run again soon, and once the device drains
 * every byte goes out in order, as many frames a poll as it has room for. */
static void output_waits_for_the_device(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    th_init(&h, bp_tune);
    th_peer_arp(&h);
    c.lfd = th_listen(&h);
    fake_backlog = 0;
    th_open(&h, &c, TH_PEER_PORT);
    static uint8_t body[3000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13 + 1);

    fake_backlog = TS_TX_BACKLOG_HIGH;
    uint64_t waits = th_stats(&h).tx_backlog_waits;
    assert_int_equal(ts_write(h.ctx, c.fd, body, sizeof body), (ssize_t)sizeof body);
    th_advance(&h, 10);
    assert_int_equal(h.nout, 0);
    assert_true(th_stats(&h).tx_backlog_waits > waits);
    assert_true(ts_next_deadline(h.ctx) <= h.now + 1000);
    th_advance(&h, 500);
    assert_int_equal(h.nout, 0);

    /* room for one frame a poll: one segment each time */
    fake_backlog = TS_TX_BACKLOG_HIGH - 1;
    uint32_t got = 0;
    for (unsigned i = 0; i < 3; i++) {
        th_advance(&h, 10);
        assert_int_equal(h.nout, i + 1);
        struct th_seg sg = th_out_tcp(&h, i);
        assert_int_equal(sg.seq, c.rcv_nxt + got);
        assert_memory_equal(sg.data, body + got, sg.len);
        got += sg.len;
    }
    assert_int_equal(got, sizeof body);
    assert_int_equal(th_stats(&h).tcp_retransmits, 0);
    fake_backlog = 0;
    th_fini(&h);
}

/* Output that waited goes first: two connections write while the device is
 * backlogged; when there is room for one socket's output per poll, the one
 * that wrote first sends first, then the other (a stack of waiting sockets
 * would serve the newest first, and under steady load starve the oldest). */
static unsigned bp_seen_out; /* frames emitted, as if the device took none */

static unsigned counting_tx_backlog(const void *arg)
{
    const struct th *h = arg;
    return fake_backlog + h->nout - bp_seen_out;
}

static void bp_count_tune(struct ts_params *p)
{
    p->tx_backlog = counting_tx_backlog;
}

static void unpaced_tune(struct ts_params *p)
{
    p->snd_copybuf = 64 * 1024; /* room for more than the initial window */
}

static void pacing_tune(struct ts_params *p)
{
    unpaced_tune(p);
    p->pacing = true;
}

/* A connection whose handshake took @p rtt_us: the SYN-ACK's round trip is
 * its first RTT sample. */
static void open_after(struct th *h, struct th_conn *c, uint64_t rtt_us)
{
    th_peer_arp(h);
    c->lfd = th_listen(h);
    th_tcp(h, TH_PEER_PORT, TH_PORT, RTE_TCP_SYN_FLAG, TH_PEER_ISS, 0, 65535, NULL, 0);
    assert_int_equal(h->nout, 1);
    c->rcv_nxt = th_out_tcp(h, 0).seq + 1;
    c->snd_nxt = TH_PEER_ISS + 1;
    th_clear(h);
    h->now += rtt_us;
    th_tcp(h, TH_PEER_PORT, TH_PORT, RTE_TCP_ACK_FLAG, c->snd_nxt, c->rcv_nxt, 65535,
           NULL, 0);
    c->fd = ts_accept(h->ctx, c->lfd, NULL, NULL);
    assert_true(c->fd > 0);
}

/* Pacing: on a 20 ms round trip the initial window (10 segments) leaves at
 * twice cwnd per RTT, about one segment a millisecond in bursts of at most
 * 2 ms of the rate, a timer sending each next burst, instead of all at
 * once; without pacing (the default) it leaves at once. */
static void pacing_spreads_the_window(void **state)
{
    (void)state;
    static uint8_t body[64 * 1024];
    for (int paced = 0; paced < 2; paced++) {
        struct th h;
        struct th_conn c;
        th_init(&h, paced ? pacing_tune : unpaced_tune);
        open_after(&h, &c, 20000);
        uint64_t waits = th_stats(&h).tcp_pacing_waits;
        assert_int_equal(ts_write(h.ctx, c.fd, body, sizeof body), (ssize_t)sizeof body);
        th_advance(&h, 1);
        if (!paced) {
            assert_int_equal(h.nout, 10);
            assert_int_equal(th_stats(&h).tcp_pacing_waits, waits);
            th_fini(&h);
            continue;
        }
        /* 2 x 14,600 bytes per 20 ms: 1,460 bytes a millisecond; a burst
         * is two segments' time, so the first one holds 3 segments */
        assert_int_equal(h.nout, 3);
        assert_true(th_stats(&h).tcp_pacing_waits > waits);
        assert_true(ts_next_deadline(h.ctx) <= h.now + 2000);
        unsigned at5 = 0;
        for (unsigned ms = 1; ms <= 12; ms++) {
            th_advance(&h, 1000);
            assert_true(h.nout <= 3 + ms); /* never more than the rate */
            if (ms == 5)
                at5 = h.nout;
        }
        assert_true(at5 >= 6 && at5 <= 8);
        assert_int_equal(h.nout, 10); /* then the window is what holds it */
        uint32_t seq = c.rcv_nxt;
        for (unsigned i = 0; i < h.nout; i++) { /* in order, nothing twice */
            struct th_seg sg = th_out_tcp(&h, i);
            assert_int_equal(sg.seq, seq);
            seq += sg.len;
        }
        th_fini(&h);
    }
}

static void held_output_keeps_its_order(void **state)
{
    (void)state;
    struct th h;
    struct th_conn a, b;
    th_init(&h, bp_count_tune);
    th_peer_arp(&h);
    a.lfd = th_listen(&h);
    fake_backlog = 0;
    bp_seen_out = 0;
    th_open(&h, &a, TH_PEER_PORT);
    b.lfd = a.lfd;
    th_open(&h, &b, TH_PEER_PORT + 1);
    th_clear(&h);

    static const char msg[] = "hello";
    fake_backlog = TS_TX_BACKLOG_HIGH;
    assert_int_equal(ts_write(h.ctx, a.fd, msg, 5), 5);
    th_advance(&h, 10);
    assert_int_equal(ts_write(h.ctx, b.fd, msg, 5), 5);
    th_advance(&h, 10);
    assert_int_equal(h.nout, 0);

    /* room for one socket's output: the first to write goes first */
    fake_backlog = TS_TX_BACKLOG_HIGH - 1;
    th_advance(&h, 10);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).dport, TH_PEER_PORT);
    bp_seen_out = h.nout;
    th_advance(&h, 10);
    assert_int_equal(h.nout, 2);
    assert_int_equal(th_out_tcp(&h, 1).dport, TH_PEER_PORT + 1);
    fake_backlog = 0;
    th_fini(&h);
}

/* One socket cannot fill the device alone: with room for three frames
 * below the mark, a write of eight segments (all in the window) sends three,
 * then three more each time the device takes what it has, in order, and
 * none is dropped or sent twice. Checked per segment, not per socket: a
 * socket with a large window once sent its whole window into a full ring,
 * which dropped the overflow. */
static void one_socket_stops_at_the_mark(void **state)
{
    (void)state;
    struct th h;
    struct th_conn c;
    fake_backlog = 0;
    bp_seen_out = 0;
    th_connected(&h, &c, bp_count_tune);
    th_clear(&h);

    static uint8_t body[8000]; /* the initial window: 8 segments of 1024 */
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    fake_backlog = TS_TX_BACKLOG_HIGH - 3;
    uint64_t waits = th_stats(&h).tx_backlog_waits;
    assert_int_equal(ts_write(h.ctx, c.fd, body, sizeof body), (ssize_t)sizeof body);
    uint32_t got = 0;
    for (unsigned round = 0; round < 20 && got < sizeof body; round++) {
        th_advance(&h, 10);
        assert_true(h.nout - bp_seen_out <= 3);
        for (unsigned i = bp_seen_out; i < h.nout; i++) {
            struct th_seg sg = th_out_tcp(&h, i);
            assert_int_equal(sg.seq, c.rcv_nxt + got);
            assert_memory_equal(sg.data, body + got, sg.len);
            got += sg.len;
        }
        bp_seen_out = h.nout; /* the device takes them */
    }
    assert_int_equal(got, sizeof body);
    assert_true(h.nout >= 4);
    assert_true(th_stats(&h).tx_backlog_waits > waits);
    assert_int_equal(th_stats(&h).tcp_retransmits, 0);
    fake_backlog = 0;
    th_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syn_ack_carries_mss),
        cmocka_unit_test(isn_differs_per_connection),
        cmocka_unit_test(data_both_ways_then_peer_closes_first),
        cmocka_unit_test(unread_ahead_bytes_are_not_copied),
        cmocka_unit_test(we_close_first_time_wait),
        cmocka_unit_test(simultaneous_close_goes_through_closing),
        cmocka_unit_test(segments_to_mss_and_window),
        cmocka_unit_test(slow_start_grows_on_every_ack_of_a_burst),
        cmocka_unit_test(lost_segment_left_after_recovery_is_resent),
        cmocka_unit_test(retransmits_on_timeout_with_backoff),
        cmocka_unit_test(syn_ack_retransmitted_then_given_up),
        cmocka_unit_test(rst_for_unknown_flow),
        cmocka_unit_test(rst_in_window_resets_connection),
        cmocka_unit_test(out_of_window_and_duplicate_data),
        cmocka_unit_test(acks_every_second_full_segment),
        cmocka_unit_test(reassembles_out_of_order),
        cmocka_unit_test(backlog_full_answers_with_cookie),
        cmocka_unit_test(active_open_and_refusal),
        cmocka_unit_test(simultaneous_open),
        cmocka_unit_test(epoll_reports_readiness),
        cmocka_unit_test(body_by_reference),
        cmocka_unit_test(body_by_reference_with_sums),
        cmocka_unit_test(output_waits_for_the_device),
        cmocka_unit_test(held_output_keeps_its_order),
        cmocka_unit_test(pacing_spreads_the_window),
        cmocka_unit_test(one_socket_stops_at_the_mark),
        cmocka_unit_test(write_space_only_for_a_waiting_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
