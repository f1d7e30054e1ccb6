/**
 * @file main.c
 * corehttpd's command line: `-c FILE` runs the server, `-t` checks the
 * configuration and exits, `--version`, `--help`. Start-up order: config,
 * EAL, port, the site (its file cache in DPDK memory, so bodies can be
 * sent by reference), one pair of threads per core, the control thread
 * that takes the signals (SIGHUP reloads, SIGTERM/SIGINT stop gracefully,
 * SIGUSR1 reopens the logs).
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "cache.h"
#include "config.h"
#include "core.h"
#include "dpio.h"
#include "site.h"
#include "tcp_cc.h"
#include "control.h"
#include "log.h"
#include "tls.h"

static const char usage[] =
    "Usage: corehttpd [-t] -c FILE\n"
    "       corehttpd --version | --help\n"
    "\n"
    "A static-file web server on DPDK with its own user-space TCP/IP stack.\n"
    "\n"
    "  -c, --config FILE  the configuration (ini) file\n"
    "  -t, --test         check the configuration and exit (0 when valid)\n"
    "  -v, --version      print the version and exit\n"
    "  -h, --help         print this help and exit\n";

static struct cfg g_cfg;
static size_t g_files, g_bytes, g_vhosts; /* of the site at start-up */

static void *cache_alloc(size_t n)
{
    return rte_malloc("corehttpd_cache", n, 64);
}

static void on_ready(void)
{
    char ip[INET_ADDRSTRLEN];
    struct in_addr a = {.s_addr = htonl(g_cfg.ip)};
    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    printf("corehttpd: serving %s (%zu files, %zu bytes)", g_cfg.root, g_files, g_bytes);
    if (g_vhosts)
        printf(" and %zu virtual hosts", g_vhosts);
    printf(" on %s:%u", ip, g_cfg.listen);
    if (g_cfg.tls_listen)
        printf(" and https on %s:%u", ip, g_cfg.tls_listen);
    printf(", congestion control %s\n", tcp_cc_name((enum tcp_cc_algo)g_cfg.cc_algo));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL;
    bool test_only = false;
    int o;
    while ((o = getopt_long(argc, argv, "c:tvh", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            file = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'v':
            printf("corehttpd %s\n", COREHTTPD_VERSION);
            return 0;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (file == NULL || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }

    char err[1024];
    cfg_defaults(&g_cfg);
    if (cfg_load(&g_cfg, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "corehttpd: %s\n", err);
        return 1;
    }
    if (tls_check(&g_cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "corehttpd: %s\n", err);
        return 1;
    }
    if (test_only) {
        printf("corehttpd: the configuration file %s syntax is ok\n", file);
        return 0;
    }

    struct dpio_settings ds = {
        .prog = argv[0],
        .port = g_cfg.port,
        .hugepages = g_cfg.hugepages,
        .memory_mb = g_cfg.memory_mb,
        .eal_args = g_cfg.eal_args,
        .cores = g_cfg.cores,
        .n_cores = g_cfg.n_cores,
        .mtu = g_cfg.mtu,
        .impair =
            {
                .delay_ms = g_cfg.impair_delay_ms,
                .reorder_pct = g_cfg.impair_reorder_pct,
                .reorder_gap_ms = g_cfg.impair_reorder_gap_ms,
                .seed = g_cfg.impair_seed,
                .dirs = (g_cfg.impair_dirs & CFG_IMPAIR_RX ? DPIO_IMPAIR_RX : 0u) |
                        (g_cfg.impair_dirs & CFG_IMPAIR_TX ? DPIO_IMPAIR_TX : 0u),
            },
    };
    struct log_conf lc;
    site_log_conf(&g_cfg, &lc);
    struct logger *logger = log_create(g_cfg.n_cores, &lc, err, sizeof(err));
    if (!logger) {
        fprintf(stderr, "corehttpd: %s\n", err);
        return 1;
    }

    /* the log thread goes on the CPUs that run no pair, when there are some
     * (read before the EAL pins this thread to its main lcore) */
    static unsigned spare[CPU_SETSIZE];
    unsigned n_spare = 0;
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof(mine), &mine) == 0) {
        for (unsigned i = 0; i < g_cfg.n_cores; i++)
            if (g_cfg.cores[i] < CPU_SETSIZE)
                CPU_CLR(g_cfg.cores[i], &mine);
        for (unsigned cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &mine))
                spare[n_spare++] = cpu;
    }

    /* before the EAL's threads exist: every thread inherits the mask, and
     * only the control thread takes these signals */
    control_block_signals();
    signal(SIGPIPE, SIG_IGN);
    if (dpio_eal_init(&ds, err, sizeof(err)) != 0) {
        fprintf(stderr, "corehttpd: %s\n", err);
        log_destroy(logger);
        return 1;
    }
    int rc = 1;
    struct site *site = NULL;
    struct site_live live;
    struct cores *cs = NULL;
    struct tls_tickets *tickets = NULL;
    /* freed after the port: frames in its tx rings may point into them */
    struct rte_mempool *tls_records[CFG_MAX_CORES] = {NULL};
    struct control ctl = {
        .path = file,
        .boot = &g_cfg,
        .live = &live,
        .alloc = cache_alloc,
        .release = rte_free,
        .wall_s = dpio_wall_s,
        .logger = logger,
    };
    bool ctl_started = false;
    struct dpio_port *port = dpio_port_open(&ds, err, sizeof(err));
    if (port == NULL)
        goto out;
    site = site_build(&g_cfg, cache_alloc, rte_free, dpio_wall_s, err, sizeof(err));
    if (site == NULL)
        goto out;
    g_files = cache_count(site->cache);
    g_bytes = cache_bytes(site->cache);
    g_vhosts = site->n_vhosts;
    site_hold(site); /* the live slot's reference */
    atomic_init(&live.cur, site);
    if (g_cfg.tls_listen) {
        tickets = tls_tickets_create(g_cfg.tls_ticket_rotate_s);
        if (tickets == NULL) {
            snprintf(err, sizeof(err), "TLS: no random bytes for the ticket keys");
            goto out;
        }
        ctl.tickets = tickets;
        for (unsigned i = 0; i < g_cfg.n_cores && g_cfg.tls_record_buffers; i++) {
            char name[RTE_MEMPOOL_NAMESIZE];
            unsigned lcore = dpio_queue_lcore(dpio_port_queue(port, i));
            snprintf(name, sizeof(name), "chttpd_tlsrec%u", i);
            tls_records[i] = rte_mempool_create(
                name, g_cfg.tls_record_buffers, TLS_RECORD_WIRE, 0, 0, NULL, NULL, NULL,
                NULL, (int)rte_lcore_to_socket_id(lcore), 0);
            if (tls_records[i] == NULL) {
                snprintf(err, sizeof(err),
                         "[tls] record_buffers: cannot allocate %u buffers of %d bytes "
                         "for core %u (raise [dpdk] memory_mb): %s",
                         g_cfg.tls_record_buffers, TLS_RECORD_WIRE, lcore,
                         rte_strerror(rte_errno));
                goto out;
            }
        }
    }
    cs =
        cores_create(&g_cfg, port, &live, logger, tickets, tls_records, err, sizeof(err));
    if (cs == NULL)
        goto out;
    ctl.cores = cs;
    int e = control_start(&ctl);
    if (e != 0) {
        snprintf(err, sizeof(err), "cannot start the control thread: %s", strerror(e));
        goto out;
    }
    ctl_started = true;
    e = log_start(logger, spare, n_spare);
    if (e != 0) {
        snprintf(err, sizeof(err), "cannot start the log thread: %s", strerror(e));
        goto out;
    }

    if (cores_run(cs, on_ready, err, sizeof(err)) == 0)
        rc = 0;
    control_stop(&ctl);
    ctl_started = false;
    log_stop(logger); /* writes what the rings still hold */
    cores_report(cs, stderr);
    uint64_t written, dropped;
    log_counts(logger, &written, &dropped);
    if (g_cfg.access_log[0] || written || dropped)
        fprintf(stderr, "access log: %lu lines written, %lu dropped\n",
                (unsigned long)written, (unsigned long)dropped);
    char stats[512];
    if (dpio_port_stats(port, stats, sizeof(stats)) >= 0)
        fprintf(stderr, "port: %s\n", stats);
out:
    if (rc != 0)
        fprintf(stderr, "corehttpd: %s\n", err);
    if (ctl_started)
        control_stop(&ctl);
    cores_destroy(cs); /* the stacks release the body references they held */
    /* frames still in the port's tx rings may point into a site's cache and
     * release their reference when freed: close the port before the sites go */
    if (port)
        dpio_port_close(port);
    for (unsigned i = 0; i < CFG_MAX_CORES; i++)
        rte_mempool_free(tls_records[i]);
    control_destroy(&ctl);
    site_free(site ? atomic_load(&live.cur) : NULL);
    tls_tickets_free(tickets);
    rte_eal_cleanup();
    log_destroy(logger);
    if (rc == 0)
        fprintf(stderr, "corehttpd: stopped\n");
    return rc;
}
