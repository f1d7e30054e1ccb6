/**
 * @file impair_relay.c
 * The impairment relay: one DPDK port (a net_tap device) whose every
 * received frame is sent back out of it unchanged, after dpio's impairment
 * stage held it (delay, seeded reordering). It puts the stage that
 * corehttpd's own port runs ([dpdk] impair_*) on a kernel path: the script
 * around it (bench/lossy_goodput.sh) steers the frames between two
 * kernel hosts through the TAP with nftables and forwards what comes back
 * to the host it is addressed to, so nginx on kernel TCP meets the same
 * delay and reordering, from the same code, as corehttpd.
 *
 * Each frame passes the stage once (rx direction), so a relay between a
 * client and a server impairs each way once, as corehttpd's stage does with
 * its rx and tx. One thread on one core; it sleeps on the TAP's rx
 * interrupt until a frame comes or a held one is due (dpio_queue_sleep).
 * SIGINT or SIGTERM stops it; it prints the port's counters (frames held,
 * held late, released, dropped on overflow) on its way out.
 *
 *   impair_relay --port net_tap0,iface=NAME [--core N] [--delay-ms N]
 *                [--reorder-pct N] [--reorder-gap-ms N] [--seed N]
 *                [--eal-args "..."]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpio.h"

#define RELAY_BURST 32
#define RELAY_SLEEP_US 100000u /* longest nap: a stop waits at most this */

static volatile sig_atomic_t relay_stop;

static void on_signal(int sig)
{
    (void)sig;
    relay_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: impair_relay --port net_tap0,iface=NAME [--core N] "
               "[--delay-ms N] [--reorder-pct N] [--reorder-gap-ms N] [--seed N] "
               "[--eal-args \"...\"]\n");
}

/* A whole decimal number in [0, max], or -1. */
static long long relay_num(const char *s, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    return v;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"port", required_argument, NULL, 'p'},
        {"core", required_argument, NULL, 'c'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"reorder-pct", required_argument, NULL, 'r'},
        {"reorder-gap-ms", required_argument, NULL, 'g'},
        {"seed", required_argument, NULL, 's'},
        {"eal-args", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *port_spec = NULL, *eal_args = "";
    struct dpio_impair im = {.reorder_gap_ms = 5, .seed = 1, .dirs = DPIO_IMPAIR_RX};
    unsigned core = 0;
    int opt, li = 0;

    while ((opt = getopt_long(argc, argv, "h", lo, &li)) != -1) {
        long long v = 0;
        if (opt != 'p' && opt != 'e' && opt != 'h' && opt != '?' &&
            (v = relay_num(optarg, opt == 's' ? INT64_MAX : 100000)) < 0) {
            fprintf(stderr, "impair_relay: --%s: not a number in range: %s\n",
                    lo[li].name, optarg);
            return 2;
        }
        switch (opt) {
        case 'p':
            port_spec = optarg;
            break;
        case 'e':
            eal_args = optarg;
            break;
        case 'c':
            core = (unsigned)v;
            break;
        case 'd':
            im.delay_ms = (unsigned)v;
            break;
        case 'r':
            im.reorder_pct = (unsigned)v;
            break;
        case 'g':
            im.reorder_gap_ms = (unsigned)v;
            break;
        case 's':
            im.seed = (uint64_t)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (port_spec == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }

    char eal[1024], err[256];
    snprintf(eal, sizeof(eal), "%s%s--no-pci", eal_args, *eal_args ? " " : "");
    if (strstr(eal_args, "--file-prefix") == NULL)
        snprintf(eal + strlen(eal), sizeof(eal) - strlen(eal),
                 " --file-prefix=impair-relay-%d", (int)getpid());
    unsigned cores[1] = {core};
    struct dpio_settings ds = {
        .prog = "impair_relay",
        .port = port_spec,
        .memory_mb = 256,
        .eal_args = eal,
        .cores = cores,
        .n_cores = 1,
        .mtu = 1500,
        .impair = im,
    };
    if (dpio_eal_init(&ds, err, sizeof(err)) != 0) {
        fprintf(stderr, "impair_relay: %s\n", err);
        return 1;
    }
    struct dpio_port *port = dpio_port_open(&ds, err, sizeof(err));
    if (port == NULL) {
        fprintf(stderr, "impair_relay: %s\n", err);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("impair_relay: relaying on %s\n", port_spec);
    fflush(stdout);

    struct dpio_queue *q = dpio_port_queue(port, 0);
    struct rte_mbuf *pkts[RELAY_BURST];
    while (!relay_stop) {
        uint16_t n = dpio_rx_burst(q, pkts, RELAY_BURST);
        if (n)
            dpio_tx_enqueue(q, pkts, n);
        dpio_tx_flush(q);
        if (n == 0)
            dpio_queue_sleep(q, RELAY_SLEEP_US);
    }

    char stats[512];
    if (dpio_port_stats(port, stats, sizeof(stats)) == 0)
        printf("impair_relay: %s\n", stats);
    dpio_port_close(port);
    return 0;
}
