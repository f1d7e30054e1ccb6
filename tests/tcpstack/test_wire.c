/**
 * @file test_wire.c
 * Two stacks, a client and a server, joined by an in-memory wire that
 * drops, duplicates, delays and reorders frames from a seeded generator, so
 * every run is the same run. The client fetches a body with a small
 * request; the test checks every byte arrives in order, the transfer ends
 * within a bound of virtual time, both sides close, and nothing leaks
 * (sockets, buffers, mbufs). Each case runs with SACK on and off and with
 * both congestion controls.
 */
#include <errno.h>

#include "harness.h"

#define W_MAX 4096
#define W_TICK_US 100
#define C_IP 0xc612000au /* 198.18.0.10 */
#define S_IP 0xc6120014u /* 198.18.0.20 */

struct impair {
    unsigned loss_pct, dup_pct, reorder_pct;
    uint64_t delay_us, reorder_extra_us;
};

struct wire;

struct end {
    struct wire *w;
    int side; /* 0 client, 1 server */
    struct ts_ctx *ctx;
    struct ts_arp_table *arp;
};

struct wire {
    struct rte_mempool *pool;
    struct impair imp;
    uint64_t rng;
    uint64_t now;
    struct end e[2];
    struct rte_mbuf *m[W_MAX];
    uint64_t due[W_MAX];
    int to[W_MAX];
    unsigned n;
    struct rte_mbuf *burst[2][W_MAX]; /* what a tick delivers, per side */
    uint64_t sent, dropped, duplicated;
};

static uint32_t rnd(struct wire *w)
{
    w->rng ^= w->rng << 13; /* xorshift64 */
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t)(w->rng >> 11);
}

static void wire_put(struct wire *w, int to, struct rte_mbuf *m, uint64_t extra)
{
    assert_true(w->n < W_MAX);
    w->m[w->n] = m;
    w->due[w->n] = w->now + w->imp.delay_us + extra;
    w->to[w->n] = to;
    w->n++;
}

static void wire_output(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
    struct end *e = arg;
    struct wire *w = e->w;
    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        w->sent++;
        if (rnd(w) % 100 < w->imp.loss_pct) {
            w->dropped++;
            rte_pktmbuf_free(m);
            continue;
        }
        uint64_t extra = rnd(w) % 100 < w->imp.reorder_pct ? w->imp.reorder_extra_us : 0;
        if (rnd(w) % 100 < w->imp.dup_pct) {
            struct rte_mbuf *d = rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
            assert_non_null(d);
            w->duplicated++;
            wire_put(w, !e->side, d, extra + W_TICK_US);
        }
        wire_put(w, !e->side, m, extra);
    }
}

static void end_init(struct wire *w, int side, bool sack, uint8_t cc)
{
    struct end *e = &w->e[side];
    e->w = w;
    e->side = side;
    e->arp = ts_arp_table_create(16, 60000);
    struct ts_params p;
    ts_params_default(&p);
    p.ip = side ? S_IP : C_IP;
    p.netmask = 0xffffff00u;
    p.mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 1, (uint8_t)side}};
    p.max_flows = 64;
    p.max_bufs = 16;
    p.rcvbuf = 65536;
    p.rcvbuf_max = 1 << 20;
    p.sndbuf = 1 << 20;
    p.msl_ms = 500;
    p.opt_sack = sack;
    p.cc_algo = cc;
    p.isn_key[0] = 7 + side;
    p.pool = w->pool;
    p.output = wire_output;
    p.output_arg = e;
    p.arp = e->arp;
    e->ctx = ts_ctx_create(&p);
    assert_non_null(e->ctx);
}

/* Moves the clock one tick: deliver what is due, in one burst per side in
 * the wire's order (as a port's receive burst: the stack coalesces runs of
 * in-order segments in it), let both stacks work. */
static void wire_tick(struct wire *w)
{
    w->now += W_TICK_US;
    unsigned k = 0, nb[2] = {0, 0};
    for (unsigned i = 0; i < w->n; i++) {
        if (w->due[i] <= w->now) {
            w->burst[w->to[i]][nb[w->to[i]]++] = w->m[i];
        } else {
            w->m[k] = w->m[i];
            w->due[k] = w->due[i];
            w->to[k] = w->to[i];
            k++;
        }
    }
    w->n = k;
    for (int side = 0; side < 2; side++)
        ts_input(w->e[side].ctx, w->burst[side], (uint16_t)nb[side], w->now);
    ts_poll(w->e[0].ctx, w->now);
    ts_poll(w->e[1].ctx, w->now);
}

static uint8_t body[2 << 20];

static void transfer(const struct impair *imp, uint64_t seed, bool sack, uint8_t cc,
                     size_t len, uint64_t bound_s, uint64_t max_timeouts)
{
    struct wire *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->pool = th_pool();
    w->imp = *imp;
    w->rng = seed;
    w->now = 1000000;
    end_init(w, 0, sack, cc);
    end_init(w, 1, sack, cc);
    struct ts_ctx *cs = w->e[0].ctx, *ss = w->e[1].ctx;
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 131 + (i >> 9));

    /* both clocks read the wire's time before the first call (a SYN armed
     * at time 0 would fire at once and cost the data its first RTT sample) */
    ts_poll(cs, w->now);
    ts_poll(ss, w->now);
    int lfd = ts_socket(ss);
    assert_int_equal(ts_bind(ss, lfd, 0, 80), 0);
    assert_int_equal(ts_listen(ss, lfd, 8), 0);
    int cfd = ts_socket(cs);
    assert_int_equal(ts_connect(cs, cfd, S_IP, 80), -1);
    assert_int_equal(errno, EINPROGRESS);

    int sfd = -1;
    size_t queued = 0, got = 0;
    bool requested = false, client_closed = false, server_closed = false;
    uint8_t *rx = malloc(len);
    assert_non_null(rx);
    uint64_t start = w->now, deadline = w->now + bound_s * 1000000;
    while (!(client_closed && server_closed) && w->now < deadline) {
        wire_tick(w);
        if (sfd < 0)
            sfd = ts_accept(ss, lfd, NULL, NULL);
        if (!requested && ts_write(cs, cfd, "GET", 3) == 3)
            requested = true;
        if (sfd > 0 && !server_closed) {
            char req[8];
            ssize_t r = ts_read(ss, sfd, req, sizeof(req));
            if (r > 0 || queued > 0) {
                while (queued < len) {
                    ssize_t n = ts_write_ref(ss, sfd, body + queued, len - queued, NULL);
                    if (n <= 0)
                        break;
                    queued += (size_t)n;
                }
                if (queued == len) {
                    assert_int_equal(ts_close(ss, sfd), 0); /* FIN after the body */
                    server_closed = true;
                }
            }
        }
        if (requested && !client_closed) {
            for (;;) {
                ssize_t n = ts_read(cs, cfd, rx + got, len - got);
                if (n > 0) {
                    got += (size_t)n;
                    continue;
                }
                if (n == 0) { /* EOF: all of it, in order */
                    assert_int_equal(got, len);
                    assert_memory_equal(rx, body, len);
                    assert_int_equal(ts_close(cs, cfd), 0);
                    client_closed = true;
                } else {
                    assert_int_equal(errno, EAGAIN);
                }
                break;
            }
        }
    }
    if (!(client_closed && server_closed))
        fail_msg("transfer of %zu bytes not done in %lu s: got %zu, queued %zu (sent %lu,"
                 " dropped %lu)",
                 len, (unsigned long)bound_s, got, queued, (unsigned long)w->sent,
                 (unsigned long)w->dropped);
    uint64_t took_ms = (w->now - start) / 1000;
    /* closing: both sides reach CLOSED (TIME_WAIT is 2 * 500 ms here) */
    for (int i = 0; i < 30000 && w->n > 0; i++)
        wire_tick(w);
    for (int i = 0; i < 15000; i++)
        wire_tick(w);
    struct ts_stats c, s;
    ts_ctx_stats(cs, &c);
    ts_ctx_stats(ss, &s);
    print_message(
        "    %zu bytes in %lu ms virtual, %lu frames, %lu dropped, %lu duplicated, "
        "server retransmits %lu (fast %lu, timeouts %lu, probes %lu, rack losses %lu, "
        "spurious %lu, undo %lu/%lu, hystart %lu)\n",
        len, (unsigned long)took_ms, (unsigned long)w->sent, (unsigned long)w->dropped,
        (unsigned long)w->duplicated, (unsigned long)s.tcp_retransmits,
        (unsigned long)s.tcp_fast_retransmits, (unsigned long)s.tcp_timeouts,
        (unsigned long)s.tcp_tlp_probes, (unsigned long)s.tcp_rack_losses,
        (unsigned long)s.tcp_spurious_rexmits, (unsigned long)s.tcp_undo_recovery,
        (unsigned long)s.tcp_undo_rto, (unsigned long)s.tcp_hystart_exits);
    if (imp->loss_pct == 0 && imp->dup_pct == 0 && imp->reorder_pct == 0)
        assert_int_equal(s.tcp_retransmits, 0); /* nothing spurious on a clean wire */
    /* a window update the wire lost is found by the probe of a shut
     * window (RFC 9293 3.8.6.1), a timer of its own kind: not counted */
    uint64_t rtos = s.tcp_timeouts - s.tcp_window_probes;
    if (rtos > max_timeouts)
        fail_msg("%lu retransmission timeouts, at most %lu expected", (unsigned long)rtos,
                 (unsigned long)max_timeouts);
    assert_int_equal(c.socks_in_use, 0);
    assert_int_equal(s.socks_in_use, 1); /* the listener */
    assert_int_equal(c.bufs_in_use, 0);
    assert_int_equal(s.bufs_in_use, 0);
    free(rx);
    for (unsigned i = 0; i < w->n; i++)
        rte_pktmbuf_free(w->m[i]);
    for (int i = 0; i < 2; i++) {
        ts_ctx_destroy(w->e[i].ctx);
        ts_arp_table_destroy(w->e[i].arp);
    }
    free(w);
    assert_int_equal(rte_mempool_in_use_count(th_pool()), 0);
}

static const struct impair clean = {.delay_us = 1000};
static const struct impair lossy = {.loss_pct = 5, .delay_us = 2000};
static const struct impair dupl = {.dup_pct = 3, .delay_us = 1000};
static const struct impair reorder = {
    .reorder_pct = 25, .delay_us = 1000, .reorder_extra_us = 3000};
static const struct impair all = {.loss_pct = 3,
                                  .dup_pct = 2,
                                  .reorder_pct = 10,
                                  .delay_us = 5000,
                                  .reorder_extra_us = 4000};

#define CASE(name, imp, sack, cc, len, bound, rtos)                                      \
    static void name(void **state)                                                       \
    {                                                                                    \
        (void)state;                                                                     \
        for (uint64_t seed = 1; seed <= 3; seed++)                                       \
            transfer(&imp, seed * 0x9e3779b97f4a7c15ull, sack, cc, len, bound, rtos);    \
    }

/* Bounds: virtual seconds for the transfer, and for the SACK cases the
 * server's retransmission timeouts (RACK and the probes leave few). The
 * SACK cases take 0.7-3.8 s at 5% loss, under 0.25 s through reordering,
 * where RFC 6675 alone with a 200 ms RTO floor took up to 4.4 s and 0.85 s. */
CASE(clean_cubic_sack, clean, true, TCP_CC_CUBIC, 2 << 20, 1, 0)
CASE(loss_cubic_sack, lossy, true, TCP_CC_CUBIC, 1 << 20, 4, 2)
CASE(loss_newreno_nosack, lossy, false, TCP_CC_NEWRENO, 1 << 20, 45, UINT64_MAX)
CASE(loss_newreno_sack, lossy, true, TCP_CC_NEWRENO, 1 << 20, 6, 5)
CASE(duplicates, dupl, true, TCP_CC_CUBIC, 1 << 20, 1, 0)
CASE(reordering_sack, reorder, true, TCP_CC_CUBIC, 1 << 20, 1, 0)
CASE(reordering_nosack, reorder, false, TCP_CC_NEWRENO, 1 << 20, 2, 0)
CASE(everything, all, true, TCP_CC_CUBIC, 1 << 20, 4, 2)
/* BBR keeps its window through random loss: 1 MB at 5% loss in about
 * 0.1 s where CUBIC takes 0.8-1.7 s (one seed loses its SYN and waits the
 * 1 s initial RTO). A retransmission of the last segments lost too leaves
 * nothing sent after it for RACK to go by, and the probe is spent: one RTO
 * is allowed (seeds 1 to 24 had one in 2 of them at 5% loss and 4 with
 * everything, with the 1 ms TSval tick; 4 and 2 with the 10 ms one, seed 2
 * among them in both). Through
 * reordering it leaves more segments out of order than the receiver's
 * TCP_OOO_MAX ranges hold: reneging, found and repaired at once
 * (rec_check_renege; 4 to 6 timeouts a transfer without). */
CASE(clean_bbr, clean, true, TCP_CC_BBR, 2 << 20, 1, 0)
CASE(loss_bbr, lossy, true, TCP_CC_BBR, 1 << 20, 2, 1)
CASE(reordering_bbr, reorder, true, TCP_CC_BBR, 1 << 20, 1, 1)
CASE(everything_bbr, all, true, TCP_CC_BBR, 1 << 20, 2, 1)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_cubic_sack),    cmocka_unit_test(loss_cubic_sack),
        cmocka_unit_test(loss_newreno_nosack), cmocka_unit_test(loss_newreno_sack),
        cmocka_unit_test(duplicates),          cmocka_unit_test(reordering_sack),
        cmocka_unit_test(reordering_nosack),   cmocka_unit_test(everything),
        cmocka_unit_test(clean_bbr),           cmocka_unit_test(loss_bbr),
        cmocka_unit_test(reordering_bbr),      cmocka_unit_test(everything_bbr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
