/**
 * @file fuzz_config.c
 * libFuzzer harness: ini text into the config loader (cfg_load).
 *
 * The input is written to a memfd and loaded over the defaults through its
 * /proc/self/fd path, as `corehttpd -t -c FILE` would load a file. Checked:
 * the load either succeeds with every value inside its documented range and
 * every string terminated, or fails with a message that starts with the file's
 * name (FILE:LINE: [section] key: reason, or FILE: reason), fits the buffer
 * and is terminated.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static int fc_fd = -1;
static char fc_path[64];

static void fc_die(const char *what)
{
    fprintf(stderr, "fuzz_config: invariant broken: %s\n", what);
    abort();
}

#define FC_TERMINATED(s) (memchr((s), '\0', sizeof(s)) != NULL)

static void fc_check(const struct cfg *c)
{
    if (!FC_TERMINATED(c->port) || !FC_TERMINATED(c->eal_args) ||
        !FC_TERMINATED(c->root) || !FC_TERMINATED(c->index) ||
        !FC_TERMINATED(c->server_name) || !FC_TERMINATED(c->tls_cert) ||
        !FC_TERMINATED(c->tls_key) || !FC_TERMINATED(c->tls_ciphers) ||
        !FC_TERMINATED(c->tls_ciphersuites) || !FC_TERMINATED(c->tls_groups) ||
        !FC_TERMINATED(c->tls_ocsp))
        fc_die("a string value is not terminated");
    if (c->tls_protocols == 0 || (c->tls_protocols & ~(CFG_TLS12 | CFG_TLS13)))
        fc_die("[tls] protocols bits");
    if (c->tls_listen && (c->tls_listen == c->listen || !c->tls_cert[0]))
        fc_die("[tls] listen without its certificate, or on [http] listen");
    if (c->n_cores == 0 || c->n_cores > CFG_MAX_CORES)
        fc_die("core count");
    if (c->mtu < 68 || c->mtu > 9000)
        fc_die("mtu out of 68..9000");
    if (c->impair_delay_ms > 1000 || c->impair_reorder_pct > 100 ||
        c->impair_reorder_gap_ms < 1 || c->impair_reorder_gap_ms > 1000)
        fc_die("an impairment value out of range");
    if (c->impair_dirs & ~(CFG_IMPAIR_RX | CFG_IMPAIR_TX))
        fc_die("impair_direction bits");
    if (c->rto_min_ms > c->rto_max_ms)
        fc_die("rto_min_ms over rto_max_ms");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fc_fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
    if (fc_fd < 0)
        fc_die("memfd_create");
    snprintf(fc_path, sizeof fc_path, "/proc/self/fd/%d", fc_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cfg c;
    char err[512];
    if (ftruncate(fc_fd, 0) != 0 || pwrite(fc_fd, data, size, 0) != (ssize_t)size)
        fc_die("cannot write the memfd");
    cfg_defaults(&c);
    memset(err, 0x5a, sizeof err);
    int rc = cfg_load(&c, fc_path, err, sizeof err);
    if (rc == 0) {
        fc_check(&c);
        return 0;
    }
    if (rc != -1)
        fc_die("cfg_load returned neither 0 nor -1");
    if (memchr(err, '\0', sizeof err) == NULL)
        fc_die("error message not terminated");
    if (strncmp(err, fc_path, strlen(fc_path)) != 0 || err[strlen(fc_path)] != ':')
        fc_die("error message does not start with FILE:");
    return 0;
}
