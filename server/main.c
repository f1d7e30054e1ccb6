/**
 * @file main.c
 * corehttpd's command line: `-c FILE` runs the server, `-t` checks the
 * configuration and exits, `--version`, `--help`. Start-up order: config,
 * EAL, port, file cache (in DPDK memory, so bodies can be sent by
 * reference), one pair of threads per core; SIGINT/SIGTERM stop it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "cache.h"
#include "config.h"
#include "core.h"
#include "dpio.h"
#include "site.h"

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
static const struct site *g_site;

static void on_signal(int sig)
{
    (void)sig;
    cores_stop();
}

static void *cache_alloc(size_t n)
{
    return rte_malloc("corehttpd_cache", n, 64);
}

static void on_ready(void)
{
    char ip[INET_ADDRSTRLEN];
    struct in_addr a = {.s_addr = htonl(g_cfg.ip)};
    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    printf("corehttpd: serving %s (%zu files, %zu bytes) on %s:%u\n", g_cfg.root,
           cache_count(g_site->cache), cache_bytes(g_site->cache), ip, g_cfg.listen);
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
    if (dpio_eal_init(&ds, err, sizeof(err)) != 0) {
        fprintf(stderr, "corehttpd: %s\n", err);
        return 1;
    }
    int rc = 1;
    struct site *site = NULL;
    struct cores *cs = NULL;
    struct dpio_port *port = dpio_port_open(&ds, err, sizeof(err));
    if (port == NULL)
        goto out;
    site = site_build(&g_cfg, cache_alloc, rte_free, dpio_wall_s, err, sizeof(err));
    if (site == NULL)
        goto out;
    g_site = site;
    cs = cores_create(&g_cfg, port, site, err, sizeof(err));
    if (cs == NULL)
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cores_run(cs, on_ready, err, sizeof(err)) == 0)
        rc = 0;
    cores_report(cs, stderr);
    char stats[512];
    if (dpio_port_stats(port, stats, sizeof(stats)) >= 0)
        fprintf(stderr, "port: %s\n", stats);
out:
    if (rc != 0)
        fprintf(stderr, "corehttpd: %s\n", err);
    cores_destroy(cs);
    site_free(site);
    if (port)
        dpio_port_close(port);
    rte_eal_cleanup();
    if (rc == 0)
        fprintf(stderr, "corehttpd: stopped\n");
    return rc;
}
