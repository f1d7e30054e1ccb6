/**
 * @file test_txring.c
 * dpio's tx ring on a real DPDK port: net_ring, whose queue pair is one
 * rte_ring (what the port sends comes back on its receive side), and which
 * takes nothing once that ring is full, like a NIC whose tx ring is. Frames
 * carry a sequence number in their first bytes.
 *  - more frames than the port holds: the rest wait in dpio's ring
 *    (dpio_tx_backlog), none is dropped, and as the port drains every frame
 *    comes out once, in order;
 *  - past the port's room and dpio's ring, the excess is dropped and
 *    counted;
 *  - a port that takes nothing for 10 ms loses its oldest waiting frame
 *    (counted), so one frame a driver refuses cannot stop the queue, and
 *    not before;
 *  - settings dpio refuses before the EAL starts: a net_memif zero-copy
 *    port with hugepages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "dpio.h"
#include "harness.h"

static struct dpio_port *port;
static struct dpio_queue *q;
static uint32_t next_seq;

static int setup(void **state)
{
    port = test_port_open("test_txring", "net_ring0", 8191);
    q = dpio_port_queue(port, 0);
    *state = port; /* for test_port_teardown */
    return 0;
}

/* Sends @p n numbered frames through dpio. */
static void send_frames(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(dpio_queue_pool(q));
        assert_non_null(m);
        uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 64);
        assert_non_null(p);
        for (unsigned k = 0; k < 64; k++)
            p[k] = (uint8_t)(k < sizeof next_seq ? next_seq >> (8 * k) : 0);
        next_seq++;
        dpio_tx_enqueue(q, &m, 1);
    }
    dpio_tx_flush(q);
}

static uint32_t frame_seq(const struct rte_mbuf *m)
{
    const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Takes everything the port looped back; checks the numbers run from
 * *@p want on, skipping none, and returns how many came. */
static unsigned drain(uint32_t *want)
{
    unsigned got = 0;
    struct rte_mbuf *b[32];
    uint16_t n;
    while ((n = dpio_rx_burst(q, b, 32)) > 0) {
        for (uint16_t i = 0; i < n; i++) {
            uint32_t seq = frame_seq(b[i]);
            assert_int_equal(seq, *want);
            (*want)++;
        }
        rte_pktmbuf_free_bulk(b, n);
        got += n;
    }
    return got;
}

static void memif_zero_copy_needs_no_huge(void **state)
{
    (void)state;
    static const unsigned cores[1] = {0};
    struct dpio_settings s = {
        .prog = "test_txring",
        .port = "net_memif0,role=client,zero-copy=yes,socket=/tmp/x.sock",
        .hugepages = true,
        .cores = cores,
        .n_cores = 1,
        .mtu = 1500,
    };
    char err[256] = "";
    assert_int_not_equal(dpio_eal_init(&s, err, sizeof err), 0);
    assert_non_null(strstr(err, "zero-copy needs [dpdk] hugepages = no"));
    s.port = "net_memif0,role=client,socket=/tmp/x.sock"; /* copying: not this error */
    err[0] = '\0';
    assert_int_not_equal(dpio_eal_init(&s, err, sizeof err), 0); /* EAL already up */
    assert_null(strstr(err, "zero-copy"));
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {0, (long)ms * 1000000};
    nanosleep(&t, NULL);
}

static void waits_then_goes_out_in_order(void **state)
{
    (void)state;
    uint32_t want = next_seq;
    uint64_t dropped = dpio_tx_dropped(q);
    send_frames(1500);
    unsigned waiting = dpio_tx_backlog(q);
    assert_true(waiting > 0 && waiting < 1500); /* the port took some, not all */
    unsigned got = 0;
    for (int round = 0; round < 100 && got < 1500; round++) {
        got += drain(&want);
        dpio_tx_flush(q);
    }
    assert_int_equal(got, 1500);
    assert_int_equal(dpio_tx_backlog(q), 0);
    assert_int_equal(dpio_tx_dropped(q), dropped);
}

static void overflow_is_dropped_and_counted(void **state)
{
    (void)state;
    uint32_t want = next_seq;
    uint64_t dropped = dpio_tx_dropped(q);
    send_frames(4000); /* the port's ring, then dpio's 1,024, then too many */
    unsigned waiting = dpio_tx_backlog(q);
    assert_int_equal(waiting, 1024);
    uint64_t lost = dpio_tx_dropped(q) - dropped;
    assert_true(lost > 0);
    unsigned got = 0;
    for (int round = 0; round < 100 && dpio_tx_backlog(q) > 0; round++) {
        got += drain(&want);
        dpio_tx_flush(q);
    }
    got += drain(&want);
    assert_int_equal(got + lost, 4000); /* each frame sent once or counted */
}

static void a_stuck_head_is_dropped_after_10_ms(void **state)
{
    (void)state;
    uint64_t dropped = dpio_tx_dropped(q);
    uint32_t first = next_seq;
    send_frames(1500); /* the port full, the rest waiting */
    unsigned waiting = dpio_tx_backlog(q);
    assert_true(waiting > 0);
    dpio_tx_flush(q); /* takes nothing: the clock starts */
    sleep_ms(2);
    dpio_tx_flush(q);
    assert_int_equal(dpio_tx_dropped(q), dropped); /* not yet */
    assert_int_equal(dpio_tx_backlog(q), waiting);
    sleep_ms(12);
    dpio_tx_flush(q);
    assert_int_equal(dpio_tx_dropped(q), dropped + 1);
    assert_int_equal(dpio_tx_backlog(q), waiting - 1);
    /* the port drains: the rest comes out, the dropped frame missing */
    uint32_t want = first;
    unsigned got = 0;
    struct rte_mbuf *b[32];
    uint16_t n;
    uint32_t lost_seq = first + 1500 - waiting; /* the oldest that waited */
    for (int round = 0; round < 100 && got < 1499; round++) {
        while ((n = dpio_rx_burst(q, b, 32)) > 0) {
            for (uint16_t i = 0; i < n; i++) {
                uint32_t seq = frame_seq(b[i]);
                if (want == lost_seq)
                    want++;
                assert_int_equal(seq, want);
                want++;
            }
            rte_pktmbuf_free_bulk(b, n);
            got += n;
        }
        dpio_tx_flush(q);
    }
    assert_int_equal(got, 1499);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waits_then_goes_out_in_order),
        cmocka_unit_test(overflow_is_dropped_and_counted),
        cmocka_unit_test(a_stuck_head_is_dropped_after_10_ms),
        cmocka_unit_test(memif_zero_copy_needs_no_huge),
    };
    return cmocka_run_group_tests(tests, setup, test_port_teardown);
}
