/**
 * @file core.c
 * One pair per core (see core.h), each run by dpdk/dpio_pair.c: the stack
 * thread's loop on the core's lcore, the HTTP worker a plain pthread pinned
 * to the same CPU; the two pass the core like a baton. This file builds the
 * contexts from the config, watches the workers' start-up, stops a core
 * once it has drained (cores_drain()) and reports.
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
#include "dpio_pair.h"
#include "status.h"
#include "ts.h"
#include "worker.h"

struct core {
    struct ts_ctx *ctx;
    struct dpio_pair pair;
    struct worker w;
    struct status_worker *status; /* the worker's status page buffers */
    bool ready;                   /* the worker is listening */
    void (*on_ready)(void);
    unsigned cpu;           /* the lcore (= CPU with -l) of its queue */
    bool launched;          /* its stack loop runs on a worker lcore */
    _Atomic bool loop_done; /* ... and has returned */
} __rte_cache_aligned;

struct cores {
    const struct cfg *cfg;
    struct ts_arp_table *arp;
    struct ts_flowmap *flowmap; /* which core holds which flow, for the status page */
    struct status_src status;   /* what the status page reads, for every worker */
    unsigned n;
    struct core c[CFG_MAX_CORES];
};

/* Set from a signal handler on the main thread, read by every stack thread:
 * an atomic (lock-free, so async-signal-safe), not a volatile, which would be
 * a data race between threads. */
static _Atomic int stop_requested;
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

/* On its stack thread, each turn of the loop (dpio_pair's stop_when): a
 * draining core may stop once its worker has closed every connection and
 * the stack holds no more data of theirs (acknowledged, or given up), or
 * at the deadline. */
static bool core_drained(void *arg, uint64_t now)
{
    struct core *c = arg;
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

/* After each of a worker's turns, on its stack thread: a worker that
 * cannot serve stops the server; the first worker listening is "ready". */
static void after_worker_turn(void *arg)
{
    struct core *c = arg;
    if (c->w.error)
        cores_stop();
    if (!c->ready && c->w.listen_fd >= 0 && c->w.error == 0) {
        c->ready = true;
        if (c->w.core == 0 && c->on_ready)
            c->on_ready();
    }
}

/* TLS records go to the frames by reference from the record buffers; one
 * is copied into the socket when none is free (or it is under 512 bytes).
 * The copy ring is every connection's, plain ones too (the stack sizes one
 * buffer set for all): sndbuf_copied's default (8192) is the stack's own,
 * so TLS costs a plain connection nothing; more helps TLS only when the
 * record buffers run out. */
uint32_t cores_snd_copybuf(const struct cfg *cfg, uint32_t stack_default)
{
    if (cfg->tls_listen && cfg->tls_sndbuf > stack_default)
        return cfg->tls_sndbuf;
    return stack_default;
}

struct cores *cores_create(const struct cfg *cfg, struct dpio_port *port,
                           struct site_live *live, struct logger *logger,
                           struct tls_tickets *tickets, struct rte_mempool **tls_records,
                           char *err, size_t errlen)
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
    cs->flowmap = ts_flowmap_create(cs->n, rte_rand());
    if (cs->flowmap == NULL) {
        snprintf(err, errlen, "out of memory for the flow map");
        cores_destroy(cs);
        return NULL;
    }
    cs->status = (struct status_src){
        .cfg = cfg,
        .steering = dpio_port_rss(port),
        .start_us = dpio_now_us(),
        .n = cs->n,
    };
    uint32_t key[4];
    for (int i = 0; i < 4; i++)
        key[i] = (uint32_t)rte_rand();
    for (unsigned i = 0; i < cs->n; i++) {
        struct core *c = &cs->c[i];
        struct dpio_queue *q = dpio_port_queue(port, i);
        /* Everything of queue i runs where its lcore is: the stack thread
         * is launched on it and the worker pinned to it (with -l, lcore
         * ids are CPU ids). */
        c->cpu = dpio_queue_lcore(q);
        struct ts_params p;
        ts_params_default(&p);
        p.ip = cfg->ip;
        p.netmask = cfg->netmask;
        p.gateway = cfg->gateway;
        dpio_pair_params(port, q, &p);
        p.max_flows = cfg->max_flows;
        p.max_bufs = cfg->max_conns;
        p.rcvbuf = cfg->rcvbuf;
        p.rcvbuf_max = cfg->rcvbuf_max;
        p.rcvbuf_grown = cfg->rcvbuf_grown;
        p.sndbuf = cfg->sndbuf;
        p.snd_copybuf = cores_snd_copybuf(cfg, p.snd_copybuf);
        p.sndbuf_max = cfg->sndbuf_max;
        p.msl_ms = cfg->msl_ms;
        p.max_time_wait = cfg->max_time_wait;
        p.fin_timeout_ms = cfg->fin_timeout_ms;
        p.max_orphans = cfg->max_orphans;
        p.orphan_retries = cfg->orphan_retries;
        p.cc_algo = cfg->cc_algo;
        p.opt_wscale = cfg->window_scaling;
        p.opt_timestamps = cfg->timestamps;
        p.opt_sack = cfg->sack;
        p.pacing = cfg->pacing;
        p.syncookies = cfg->syncookies;
        p.syn_budget = (uint16_t)cfg->syn_budget;
        p.delack_ms = cfg->delayed_ack_ms;
        p.rto_min_ms = cfg->rto_min_ms;
        p.rto_max_ms = cfg->rto_max_ms;
        p.syn_retries = cfg->syn_retries;
        p.data_retries = cfg->data_retries;
        p.keepalive_ms = cfg->keepalive_ms;
        p.keepalive_intvl_ms = cfg->keepalive_interval_ms;
        p.keepalive_probes = cfg->keepalive_probes;
        memcpy(p.isn_key, key, sizeof(key));
        p.arp = cs->arp;
        p.core_id = i;
        p.flowmap = cs->flowmap;
        c->ctx = ts_ctx_create(&p);
        if (c->ctx == NULL) {
            snprintf(err, errlen, "core %u: cannot create the stack context: %s", c->cpu,
                     strerror(errno));
            cores_destroy(cs);
            return NULL;
        }
        c->w.ctx = c->ctx;
        c->w.cfg = cfg;
        c->w.core = i;
        c->w.listen_fd = -1;
        c->w.tls_listen_fd = -1;
        c->w.tickets = tickets;
        c->w.tls_records = tls_records ? tls_records[i] : NULL;
        c->w.sndbuf = p.sndbuf;
        c->w.snd_copybuf = p.snd_copybuf;
        c->w.live = live;
        c->w.log = log_ring_of(logger, i);
        atomic_init(&c->w.drain, false);
        atomic_init(&c->w.drained, false);
        atomic_init(&c->w.epoch, 0);
        cs->status.core[i] =
            (struct status_core){.ctx = c->ctx, .w = &c->w, .q = q, .cpu = c->cpu};
        if (cfg->status_path[0] != '\0') {
            c->status = status_worker_create(&cs->status);
            if (c->status == NULL) {
                snprintf(err, errlen, "core %u: out of memory for the status page",
                         c->cpu);
                cores_destroy(cs);
                return NULL;
            }
            /* the path comes with each site (site.c), the same as at
             * start-up across reloads (control.c) */
            c->w.status_page = status_page;
            c->w.status_arg = c->status;
        }
        c->pair = (struct dpio_pair){
            .ctx = c->ctx,
            .q = q,
            .cpu = c->cpu,
            .name = "chttpd-w",
            .worker_main = worker_main,
            .worker_arg = &c->w,
            .after_turn = after_worker_turn,
            .after_arg = c,
            .stop = &stop_requested,
            .stop_when = core_drained,
            .stop_arg = c,
        };
    }
    return cs;
}

/* The stack loop of a core on a worker lcore. Its end is published with a
 * release store that cores_run() acquires once rte_eal_mp_wait_lcore() has
 * returned: that wait orders the lcore's last accesses before the main
 * thread's teardown already, but inside librte_eal, which ThreadSanitizer
 * does not see; this makes the order visible to it, at no cost. */
static int core_stack_loop(void *arg)
{
    struct core *c = arg;
    int rc = dpio_pair_stack_loop(&c->pair);
    atomic_store_explicit(&c->loop_done, true, memory_order_release);
    return rc;
}

int cores_run(struct cores *cs, void (*on_ready)(void), char *err, size_t errlen)
{
    cs->c[0].on_ready = on_ready;
    for (unsigned i = 0; i < cs->n; i++)
        if (dpio_pair_start(&cs->c[i].pair, err, errlen) != 0) {
            cores_stop();
            break;
        }
    /* the stack threads, each on its queue's lcore: core 0's is the main
     * lcore (dpio makes the first listed core the main one), this thread */
    for (unsigned i = 1; i < cs->n; i++) {
        if (!cs->c[i].pair.started)
            continue;
        cs->c[i].launched =
            rte_eal_remote_launch(core_stack_loop, &cs->c[i], cs->c[i].cpu) == 0;
        if (!cs->c[i].launched) {
            snprintf(err, errlen, "core %u: cannot launch its stack thread",
                     cs->c[i].cpu);
            cores_stop();
        }
    }
    if (cs->c[0].pair.started)
        dpio_pair_stack_loop(&cs->c[0].pair);
    rte_eal_mp_wait_lcore();
    for (unsigned k = 1; k < cs->n; k++)
        while (cs->c[k].launched &&
               !atomic_load_explicit(&cs->c[k].loop_done, memory_order_acquire))
            rte_pause(); /* never spins: the wait above saw the loop return */
    int rc = 0;
    for (unsigned k = 0; k < cs->n; k++) {
        struct core *c = &cs->c[k];
        if (!c->pair.started)
            continue;
        dpio_pair_join(&c->pair);
        if (c->w.error && rc == 0) {
            snprintf(err, errlen, "core %u: the worker could not listen on port %u%s: %s",
                     c->cpu, cs->cfg->listen,
                     cs->cfg->tls_listen ? " (or its TLS port)" : "",
                     strerror(c->w.error));
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
                "core %u: rx %lu tx %lu frames (rx coalesced %lu); dropped: bad eth %lu, "
                "bad ip %lu, "
                "bad checksum %lu, bad tcp %lu, not for us %lu, unsupported %lu, "
                "no flow %lu, fragments %lu, bad tcp options %lu, out of window %lu, "
                "syn budget %lu (answered when repeated %lu); arp: requests in %lu, "
                "replies out %lu, requests out %lu, "
                "pending drops %lu; icmp echo %lu; tcp: passive %lu, established %lu, "
                "accept overflow %lu, retransmits %lu, timeouts %lu, rst out %lu, "
                "fast retransmits %lu, tail probes %lu, lost retransmits %lu, "
                "rack losses %lu, rto-min expiries %lu, window probes %lu, "
                "spurious rexmits %lu, dsack in %lu out %lu, "
                "undo recovery %lu rto %lu, tlp recoveries %lu, hystart exits %lu, "
                "paws drops %lu (late ACKs taken %lu), challenge acks %lu, syncookies "
                "%lu/%lu/%lu, "
                "sockets %u, buffers %u, time-wait %u (entered %lu, recycled %lu), "
                "orphans %u (fin timeouts %lu, given up %lu, reset %lu), "
                "no-memory resets %lu, flow other core %lu; payload bytes copied %lu, "
                "by reference %lu; "
                "no mbuf %lu, tx dropped %lu; http: accepted %lu, requests %lu, "
                "refused %lu, refused per ip %lu, shed %lu, timeouts %lu, responses 1xx "
                "%lu 2xx %lu 3xx %lu "
                "4xx %lu 5xx %lu\n",
                c->cpu, st.rx_frames, st.tx_frames, st.rx_gro_merged, st.rx_bad_eth,
                st.rx_bad_ip, st.rx_bad_cksum, st.rx_bad_tcp, st.rx_not_for_us,
                st.rx_unsupported, st.rx_no_flow, st.rx_fragments, st.rx_bad_tcp_options,
                st.rx_out_of_window, st.rx_syn_shed, st.rx_syn_shed_retried,
                st.arp_requests_rx, st.arp_replies_tx, st.arp_requests_tx,
                st.arp_pending_drops, st.icmp_echo_rx, st.tcp_passive, st.tcp_established,
                st.tcp_accept_overflow, st.tcp_retransmits, st.tcp_timeouts,
                st.tcp_rst_tx, st.tcp_fast_retransmits, st.tcp_tlp_probes,
                st.tcp_lost_retransmits, st.tcp_rack_losses, st.tcp_timeouts_min_rto,
                st.tcp_window_probes, st.tcp_spurious_rexmits, st.tcp_dsack_rx,
                st.tcp_dsack_tx, st.tcp_undo_recovery, st.tcp_undo_rto,
                st.tcp_tlp_recoveries, st.tcp_hystart_exits, st.rx_paws_drops,
                st.rx_paws_disordered, st.tcp_challenge_acks, st.tcp_syncookies_sent,
                st.tcp_syncookies_ok, st.tcp_syncookies_bad, st.socks_in_use,
                st.bufs_in_use, st.tw_in_use, st.tcp_time_wait, st.tcp_tw_recycled,
                st.orphans_in_use, st.tcp_orphan_fin_timeouts, st.tcp_orphan_drops,
                st.tcp_orphan_overflow, st.tcp_nobufs_resets, st.tcp_flow_other_core,
                st.tx_bytes_copied, st.tx_bytes_ref, st.tx_nombuf,
                dpio_tx_dropped(c->pair.q), c->w.accepted, c->w.requests, c->w.refused,
                c->w.refused_per_ip, c->w.slow_shed, c->w.timeouts, c->w.status_class[1],
                c->w.status_class[2], c->w.status_class[3], c->w.status_class[4],
                c->w.status_class[5]);
        if (cs->cfg->tls_listen) {
            const struct tls_stats *t = &c->w.tls;
            fprintf(out,
                    "core %u tls: handshakes full %lu, resumed %lu; TLSv1.3 %lu, TLSv1.2 "
                    "%lu; failed: protocol %lu, cipher %lu, plain http %lu, alpn %lu, "
                    "alert %lu, closed %lu, timeout %lu, malformed %lu; ticket key "
                    "rotations %lu\n",
                    c->cpu, t->hs_full, t->hs_resumed, t->tls13, t->tls12,
                    t->fail[TLS_FAIL_PROTOCOL], t->fail[TLS_FAIL_CIPHER],
                    t->fail[TLS_FAIL_HTTP], t->fail[TLS_FAIL_ALPN],
                    t->fail[TLS_FAIL_ALERT], t->fail[TLS_FAIL_CLOSED],
                    t->fail[TLS_FAIL_TIMEOUT], t->fail[TLS_FAIL_MALFORMED],
                    t->ticket_rotations);
        }
    }
}

void cores_destroy(struct cores *cs)
{
    if (cs == NULL)
        return;
    for (unsigned i = 0; i < cs->n; i++) {
        ts_ctx_destroy(cs->c[i].ctx);
        status_worker_destroy(cs->c[i].status);
    }
    ts_arp_table_destroy(cs->arp);
    ts_flowmap_destroy(cs->flowmap);
    free(cs);
}
