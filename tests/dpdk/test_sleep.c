/**
 * @file test_sleep.c
 * dpio_queue_sleep() on a port with rx interrupts (DPDK's net_tap, its TAP
 * in a network namespace of the test's own, with no address and IPv6 off,
 * so that nothing arrives): a sleep ends when it was asked to, to well
 * under a millisecond, and never before. epoll's timeout counts whole
 * milliseconds: without the queue's timerfd every sleep of 1.3 ms ran 2 ms
 * or more, which held the stack's timers (a tail loss probe due 1 ms after
 * the last ACK) up to a millisecond late.
 */
#define _GNU_SOURCE /* unshare */

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "dpio.h"
#include "harness.h"

#define SLEEP_US 1300u
#define N_SLEEPS 21u

static struct dpio_port *port;
static struct dpio_queue *q;

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int setup(void **state)
{
    /* the TAP lives and dies with this namespace, which dies with us */
    if (unshare(CLONE_NEWNET) != 0)
        fail_msg("unshare(CLONE_NEWNET): %s (the test needs root)", strerror(errno));
    /* no router solicitations or DAD probes out of the TAP: the port must
     * stay silent for the sleeps to run their course */
    if (write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") != 0)
        fail_msg("cannot turn IPv6 off in the test namespace: %s", strerror(errno));
    static char portarg[64];
    snprintf(portarg, sizeof portarg, "net_tap0,iface=dps%u", (unsigned)getpid());
    port = test_port_open("test_sleep", portarg, 0);
    q = dpio_port_queue(port, 0);
    *state = port; /* for test_port_teardown */
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A sleep of 1.3 ms with nothing arriving: never shorter; the median under
 * 1.8 ms, where rounding up to whole milliseconds makes it 2 ms or more. */
static void sleep_ends_on_time(void **state)
{
    (void)state;
    assert_true(dpio_port_offloads(port) & DPIO_OFF_RX_INTR);
    uint64_t took[N_SLEEPS];
    for (unsigned i = 0; i < N_SLEEPS; i++) {
        struct rte_mbuf *pkts[32];
        uint16_t n = dpio_rx_burst(q, pkts, 32);
        rte_pktmbuf_free_bulk(pkts, n);
        assert_int_equal(n, 0); /* a frame would end a sleep early */
        uint64_t t0 = dpio_now_us();
        dpio_queue_sleep(q, SLEEP_US);
        took[i] = dpio_now_us() - t0;
    }
    qsort(took, N_SLEEPS, sizeof took[0], cmp_u64);
    print_message("sleeps of %u us took %lu (min) %lu (median) %lu (max) us\n", SLEEP_US,
                  (unsigned long)took[0], (unsigned long)took[N_SLEEPS / 2],
                  (unsigned long)took[N_SLEEPS - 1]);
    assert_true(took[0] >= SLEEP_US - 10); /* the two clocks' rounding */
    assert_true(took[N_SLEEPS / 2] < 1800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleep_ends_on_time),
    };
    return cmocka_run_group_tests(tests, setup, test_port_teardown);
}
