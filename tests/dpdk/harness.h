/**
 * @file harness.h
 * What the dpio tests share: a port with one queue on core 0, opened
 * through the EAL as the server opens its own. Include after cmocka.h.
 */
#ifndef DPDK_TEST_HARNESS_H
#define DPDK_TEST_HARNESS_H

#include "dpio.h"

/** Starts the EAL for @p prog and opens @p port (a DPDK device argument)
 *  with one queue on core 0; @p mbufs_per_queue 0 sizes the pool from the
 *  rings. Fails the test with dpio's message on error. */
static inline struct dpio_port *test_port_open(const char *prog, const char *port,
                                               unsigned mbufs_per_queue)
{
    static const unsigned cores[1] = {0};
    struct dpio_settings s = {
        .prog = prog,
        .port = port,
        .memory_mb = 256,
        .eal_args = "--no-pci --no-shconf --log-level=error",
        .cores = cores,
        .n_cores = 1,
        .mtu = 1500,
        .mbufs_per_queue = mbufs_per_queue,
    };
    char err[256];
    if (dpio_eal_init(&s, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct dpio_port *p = dpio_port_open(&s, err, sizeof err);
    if (p == NULL)
        fail_msg("%s", err);
    return p;
}

/** A group teardown: closes the port its setup left in @p state. */
static inline int test_port_teardown(void **state)
{
    dpio_port_close(*state);
    return 0;
}

#endif
