/**
 * @file core.c
 * One pair per core (see core.h). The stack thread loop reads like the
 * design: rx burst -> ts_input -> ts_poll (timers, the worker's commands,
 * output, events) -> tx flush -> the worker's turn if it has work -> idle
 * sleep when nothing happened. The worker is a plain pthread pinned to the
 * CPU of its stack thread's lcore; the two pass the core like a baton.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include "core.h"
#include "ts.h"
#include "ts_pair.h"
#include "worker.h"

#define CORE_BURST 32
#define CORE_IDLE_SLEEP_US                                                               \
    100000u /* longest idle sleep: stop requests wait this long                          \
             */

struct core {
    struct ts_ctx *ctx;
    struct dpio_queue *q;
    struct worker w;
    pthread_t thread;
    bool started;
    bool ready; /* the worker is listening */
    void (*on_ready)(void);
    unsigned cpu;
} __rte_cache_aligned;

struct cores {
    const struct cfg *cfg;
    struct ts_arp_table *arp;
    unsigned n;
    struct core c[CFG_MAX_CORES];
};

static volatile sig_atomic_t stop_requested;
/* graceful stop: set by cores_drain(), read by every stack thread */
static atomic_bool drain_on;
static atomic_uint_fast64_t drain_deadline_us;

void cores_stop(void)
{
    stop_requested = 1;
}

void cores_drain(struct cores *cs, unsigned timeout_ms)
{
    atomic_store(&drain_deadline_us, dpio_now_us() + (uint64_t)timeout_ms * 1000);
    for (unsigned i = 0; i < cs->n; i++)
        atomic_store_explicit(&cs->c[i].w.drain, true, memory_order_release);
    atomic_store_explicit(&drain_on, true, memory_order_release);
}

/* A draining core may stop once its worker has closed every connection and
 * the stack holds no more data of theirs (acknowledged, or given up), or
 * at the deadline. */
static bool core_drained(struct core *c, uint64_t now)
{
    if (!atomic_load_explicit(&drain_on, memory_order_acquire))
        return false;
    if (now >= atomic_load(&drain_deadline_us))
        return true;
    if (!atomic_load_explicit(&c->w.drained, memory_order_acquire))
        return false;
    struct ts_stats st;
    ts_ctx_stats(c->ctx, &st);
    return st.bufs_in_use == 0;
}

size_t cores_worker_epochs(const struct cores *cs, uint64_t *out, size_t max)
{
    size_t n = cs->n < max ? cs->n : max;
    for (size_t i = 0; i < n; i++)
        out[i] = atomic_load_explicit(&cs->c[i].w.epoch, memory_order_acquire);
    return n;
}

struct cores *cores_create(const struct cfg *cfg, struct dpio_port *port,
                           struct site_live *live, struct logger *logger, char *err,
                           size_t errlen)
{
    struct cores *cs = calloc(1, sizeof(*cs));
    if (cs == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cs->cfg = cfg;
    cs->n = cfg->n_cores;
    cs->arp = ts_arp_table_create(1024, 60000);
    if (cs->arp == NULL) {
        snprintf(err, errlen, "out of memory for the ARP table");
        free(cs);
        return NULL;
    }
    uint32_t key[4];
    for (int i = 0; i < 4; i++)
        key[i] = (uint32_t)rte_rand();
    uint32_t off = dpio_port_offloads(port);
    for (unsigned i = 0; i < cs->n; i++) {
        struct core *c = &cs->c[i];
        c->q = dpio_port_queue(port, i);
        c->cpu = cfg->cores[i];
        struct ts_params p;
        ts_params_default(&p);
        p.ip = cfg->ip;
        p.netmask = cfg->netmask;
        p.gateway = cfg->gateway;
        dpio_port_mac(port, &p.mac);
        p.mtu = dpio_port_mtu(port);
        p.offloads = off & (TS_OFF_TX_IPV4_CKSUM | TS_OFF_TX_TCP_CKSUM |
                            TS_OFF_RX_IPV4_CKSUM | TS_OFF_RX_TCP_CKSUM);
        p.max_flows = cfg->max_flows;
        p.max_bufs = cfg->max_conns;
        p.rcvbuf = cfg->rcvbuf;
        p.sndbuf = cfg->sndbuf;
        p.msl_ms = cfg->msl_ms;
        p.cc_algo = cfg->cc_algo;
        p.opt_wscale = cfg->window_scaling;
        p.opt_timestamps = cfg->timestamps;
        p.opt_sack = cfg->sack;
        p.syncookies = cfg->syncookies;
        p.delack_ms = cfg->delayed_ack_ms;
        p.rto_min_ms = cfg->rto_min_ms;
        p.rto_max_ms = cfg->rto_max_ms;
        p.syn_retries = cfg->syn_retries;
        p.data_retries = cfg->data_retries;
        p.keepalive_ms = cfg->keepalive_ms;
        p.keepalive_intvl_ms = cfg->keepalive_interval_ms;
        p.keepalive_probes = cfg->keepalive_probes;
        memcpy(p.isn_key, key, sizeof(key));
        p.pool = dpio_queue_pool(c->q);
        p.output = dpio_tx_output;
        p.output_arg = c->q;
        p.arp = cs->arp;
        p.core_id = i;
        c->ctx = ts_ctx_create(&p);
        if (c->ctx == NULL) {
            snprintf(err, errlen, "core %u: cannot create the stack context: %s", c->cpu,
                     strerror(errno));
            cores_destroy(cs);
            return NULL;
        }
        ts_pair_enable(c->ctx);
        c->w.ctx = c->ctx;
        c->w.cfg = cfg;
        c->w.core = i;
        c->w.listen_fd = -1;
        c->w.live = live;
        c->w.log = log_ring_of(logger, i);
        atomic_init(&c->w.drain, false);
        atomic_init(&c->w.drained, false);
        atomic_init(&c->w.epoch, 0);
    }
    return cs;
}

static int stack_loop(void *arg)
{
    struct core *c = arg;
    struct rte_mbuf *pkts[CORE_BURST];
    bool stopping = false;
    for (;;) {
        uint16_t n = dpio_rx_burst(c->q, pkts, CORE_BURST);
        uint64_t now = dpio_now_us();
        if (n)
            ts_input(c->ctx, pkts, n, now);
        ts_poll(c->ctx, now);
        dpio_tx_flush(c->q);
        if (!stopping && (stop_requested || core_drained(c, now))) {
            stopping = true;
            ts_ctx_stop(c->ctx);
        }
        if (ts_pair_worker_due(c->ctx, now)) {
            ts_pair_run_worker(c->ctx);
            if (c->w.error)
                cores_stop(); /* a worker that cannot serve stops the server */
            if (!c->ready && c->w.listen_fd >= 0 && c->w.error == 0) {
                c->ready = true;
                if (c->w.core == 0 && c->on_ready)
                    c->on_ready();
            }
            continue; /* the worker left commands: run them at once */
        }
        if (stopping)
            return 0; /* the worker has left (worker_due is false only then) */
        if (n == 0) {
            uint64_t until = ts_next_deadline(c->ctx);
            uint64_t wdl = ts_pair_worker_deadline(c->ctx);
            if (wdl < until)
                until = wdl;
            uint64_t t = until > now ? until - now : 0;
            if (t > 0)
                dpio_queue_sleep(c->q, t < CORE_IDLE_SLEEP_US ? t : CORE_IDLE_SLEEP_US);
        }
    }
}

static int start_worker(struct core *c, char *err, size_t errlen)
{
    pthread_attr_t attr;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(c->cpu, &set);
    pthread_attr_init(&attr);
    pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
    int rc = pthread_create(&c->thread, &attr, worker_main, &c->w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, errlen, "core %u: cannot start the worker: %s", c->cpu,
                 strerror(rc));
        return -1;
    }
    char name[16];
    snprintf(name, sizeof(name), "chttpd-w%u", c->cpu);
    pthread_setname_np(c->thread, name);
    c->started = true;
    return 0;
}

int cores_run(struct cores *cs, void (*on_ready)(void), char *err, size_t errlen)
{
    cs->c[0].on_ready = on_ready;
    for (unsigned i = 0; i < cs->n; i++)
        if (start_worker(&cs->c[i], err, errlen) != 0) {
            cores_stop();
            break;
        }
    /* the stack threads: core 0 on this (main) lcore, the others on theirs */
    unsigned i = 1;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore)
    {
        if (i < cs->n && cs->c[i].started)
            rte_eal_remote_launch(stack_loop, &cs->c[i], lcore);
        i++;
    }
    if (cs->c[0].started)
        stack_loop(&cs->c[0]);
    rte_eal_mp_wait_lcore();
    int rc = 0;
    for (unsigned k = 0; k < cs->n; k++) {
        struct core *c = &cs->c[k];
        if (!c->started)
            continue;
        pthread_join(c->thread, NULL);
        c->started = false;
        if (c->w.error && rc == 0) {
            snprintf(err, errlen, "core %u: the worker could not listen on port %u: %s",
                     c->cpu, cs->cfg->listen, strerror(c->w.error));
            rc = -1;
        }
    }
    return rc;
}

void cores_report(const struct cores *cs, FILE *out)
{
    for (unsigned i = 0; i < cs->n; i++) {
        const struct core *c = &cs->c[i];
        struct ts_stats st;
        ts_ctx_stats(c->ctx, &st);
        fprintf(out,
                "core %u: rx %lu tx %lu frames; dropped: bad eth %lu, bad ip %lu, "
                "bad checksum %lu, bad tcp %lu, not for us %lu, unsupported %lu, "
                "no flow %lu; arp: requests in %lu, replies out %lu, requests out %lu, "
                "pending drops %lu; icmp echo %lu; tcp: passive %lu, established %lu, "
                "accept overflow %lu, retransmits %lu, timeouts %lu, rst out %lu, "
                "fast retransmits %lu, tail probes %lu, lost retransmits %lu, "
                "paws drops %lu, challenge acks %lu, syncookies %lu/%lu/%lu, "
                "sockets %u, buffers %u; "
                "no mbuf %lu, tx dropped %lu; http: accepted %lu, requests %lu, "
                "refused %lu, timeouts %lu\n",
                c->cpu, st.rx_frames, st.tx_frames, st.rx_bad_eth, st.rx_bad_ip,
                st.rx_bad_cksum, st.rx_bad_tcp, st.rx_not_for_us, st.rx_unsupported,
                st.rx_no_flow, st.arp_requests_rx, st.arp_replies_tx, st.arp_requests_tx,
                st.arp_pending_drops, st.icmp_echo_rx, st.tcp_passive, st.tcp_established,
                st.tcp_accept_overflow, st.tcp_retransmits, st.tcp_timeouts,
                st.tcp_rst_tx, st.tcp_fast_retransmits, st.tcp_tlp_probes,
                st.tcp_lost_retransmits, st.rx_paws_drops, st.tcp_challenge_acks,
                st.tcp_syncookies_sent, st.tcp_syncookies_ok, st.tcp_syncookies_bad,
                st.socks_in_use, st.bufs_in_use, st.tx_nombuf, dpio_tx_dropped(c->q),
                c->w.accepted, c->w.requests, c->w.refused, c->w.timeouts);
    }
}

void cores_destroy(struct cores *cs)
{
    if (cs == NULL)
        return;
    for (unsigned i = 0; i < cs->n; i++)
        ts_ctx_destroy(cs->c[i].ctx);
    ts_arp_table_destroy(cs->arp);
    free(cs);
}
