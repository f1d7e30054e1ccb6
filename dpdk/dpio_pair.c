/**
 * @file dpio_pair.c
 * A tcpstack pair on a dpio queue (see dpio_pair.h). Moved here from
 * corehttpd's core.c so that the server and the load generator run their
 * pairs with the same loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "dpio_pair.h"
#include "ts_pair.h"

#define DPIO_PAIR_BURST 32
/* longest idle sleep: a stop request waits at most this long */
#define DPIO_PAIR_IDLE_SLEEP_US 100000u

void dpio_pair_params(const struct dpio_port *port, struct dpio_queue *q,
                      struct ts_params *p)
{
    dpio_port_mac(port, &p->mac);
    p->mtu = dpio_port_mtu(port);
    p->offloads = dpio_port_offloads(port) &
                  (TS_OFF_TX_IPV4_CKSUM | TS_OFF_TX_TCP_CKSUM | TS_OFF_RX_IPV4_CKSUM |
                   TS_OFF_RX_TCP_CKSUM | TS_OFF_TX_MULTISEG);
    p->pool = dpio_queue_pool(q);
    p->output = dpio_tx_output;
    p->output_arg = q;
    p->tx_backlog = dpio_tx_backlog;
}

int dpio_pair_start(struct dpio_pair *pr, char *err, size_t errlen)
{
    pthread_attr_t attr;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pr->cpu, &set);
    ts_pair_enable(pr->ctx);
    pthread_attr_init(&attr);
    pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
    int rc = pthread_create(&pr->thread, &attr, pr->worker_main, pr->worker_arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, errlen, "core %u: cannot start the worker: %s", pr->cpu,
                 strerror(rc));
        return -1;
    }
    char name[16];
    snprintf(name, sizeof(name), "%.10s%u", pr->name ? pr->name : "w", pr->cpu);
    pthread_setname_np(pr->thread, name);
    pr->started = true;
    return 0;
}

int dpio_pair_stack_loop(void *arg)
{
    struct dpio_pair *pr = arg;
    struct rte_mbuf *pkts[DPIO_PAIR_BURST];
    bool stopping = false;
    for (;;) {
        uint16_t n = dpio_rx_burst(pr->q, pkts, DPIO_PAIR_BURST);
        uint64_t now = dpio_now_us();
        if (n)
            ts_input(pr->ctx, pkts, n, now);
        ts_poll(pr->ctx, now);
        dpio_tx_flush(pr->q);
        if (!stopping &&
            (*pr->stop || (pr->stop_when && pr->stop_when(pr->stop_arg, now)))) {
            stopping = true;
            ts_ctx_stop(pr->ctx);
        }
        if (ts_pair_worker_due(pr->ctx, now)) {
            ts_pair_run_worker(pr->ctx);
            if (pr->after_turn)
                pr->after_turn(pr->after_arg);
            continue; /* the worker left commands: run them at once */
        }
        if (stopping)
            return 0; /* the worker has left (worker_due is false only then) */
        if (n == 0 && !pr->busy_poll) {
            uint64_t until = ts_next_deadline(pr->ctx);
            uint64_t wdl = ts_pair_worker_deadline(pr->ctx);
            if (wdl < until)
                until = wdl;
            uint64_t t = until > now ? until - now : 0;
            if (t > 0) {
                ts_idle(pr->ctx);
                dpio_queue_sleep(
                    pr->q, t < DPIO_PAIR_IDLE_SLEEP_US ? t : DPIO_PAIR_IDLE_SLEEP_US);
            }
        }
    }
}

void dpio_pair_join(struct dpio_pair *pr)
{
    if (!pr->started)
        return;
    pthread_join(pr->thread, NULL);
    pr->started = false;
}
