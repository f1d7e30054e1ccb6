/**
 * @file control.c
 * The control thread (see control.h). A reload:
 *  1. reads the ini file again into a fresh struct cfg; an error keeps the
 *     running site and says why;
 *  2. keeps what cannot change while running (every section but [http],
 *     and [http] listen: the port, the cores, the stack; [http] status_path
 *     and status_allow: each worker's status page hook and buffers are made
 *     at start-up and read the start-up configuration) and says so when the
 *     file changed them;
 *  3. builds the new site (MIME map, cache, headers, error pages) while
 *     the old one serves; a failure keeps the old one;
 *  4. swaps the live pointer. Workers move a connection to the new site
 *     when it begins its next request, so a response under way ends on the
 *     old site's bytes;
 *  5. retires the old site: it is freed once every worker has gone once
 *     round its loop since the swap (so none is between reading the old
 *     pointer and taking its reference) and its count is 0 (no connection
 *     and no queued body refers to it).
 * Struct cfg keeps the [http] fields last, from `listen` on: step 2
 * compares and copies the bytes before it.
 */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "tls.h"

#define CONTROL_TICK_NS 100000000L /* 100 ms */

static void control_log(const struct control *ctl, enum log_level level, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

static void control_log(const struct control *ctl, enum log_level level, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(ctl->logger, level, fmt, ap);
    va_end(ap);
}

/* The signals the control thread takes (and every other thread blocks). */
static void control_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
}

void control_block_signals(void)
{
    sigset_t set;
    control_sigset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int control_reload(struct control *ctl)
{
    char err[1024];
    size_t fixed = offsetof(struct cfg, listen);

    if (ctl->n_retired == CONTROL_RETIRED_MAX) {
        control_log(ctl, LOG_ERROR,
                    "reload: %d earlier sites are still in use; keeping the running one, "
                    "try again later",
                    CONTROL_RETIRED_MAX);
        ctl->reload_failures++;
        return -1;
    }
    struct cfg *nc = malloc(sizeof *nc);
    if (!nc) {
        control_log(ctl, LOG_ERROR,
                    "reload: out of memory; keeping the running configuration");
        ctl->reload_failures++;
        return -1;
    }
    cfg_defaults(nc);
    if (cfg_load(nc, ctl->path, err, sizeof err) != 0) {
        control_log(ctl, LOG_ERROR, "reload: %s; keeping the running configuration", err);
        free(nc);
        ctl->reload_failures++;
        return -1;
    }
    if (memcmp(nc, ctl->boot, fixed) != 0 || nc->listen != ctl->boot->listen ||
        nc->tls_listen != ctl->boot->tls_listen || !cfg_same_status(nc, ctl->boot))
        control_log(
            ctl, LOG_WARN,
            "reload: %s changes keys outside [http] and [tls] (or [tls] listen, "
            "record_buffers, sndbuf_copied, ticket_key_rotation_s, [http] listen, "
            "status_path, status_allow); they take effect at the next start",
            ctl->path);
    memcpy(nc, ctl->boot, fixed);
    nc->listen = ctl->boot->listen;
    nc->tls_listen = ctl->boot->tls_listen;
    cfg_copy_status(nc, ctl->boot);

    struct site *site =
        site_build(nc, ctl->alloc, ctl->release, ctl->wall_s, err, sizeof err);
    if (!site) {
        control_log(ctl, LOG_ERROR, "reload: %s; keeping the running site", err);
        free(nc);
        ctl->reload_failures++;
        return -1;
    }
    site_hold(site); /* the live slot's reference */
    struct site *old =
        atomic_exchange_explicit(&ctl->live->cur, site, memory_order_acq_rel);
    unsigned k = ctl->n_retired++;
    ctl->retired[k].site = old;
    cores_worker_epochs(ctl->cores, ctl->retired[k].epochs, CFG_MAX_CORES);
    site_release(old);
    free(ctl->http_cfg);
    ctl->http_cfg = nc;
    ctl->reloads++;
    struct log_conf lc;
    site_log_conf(nc, &lc);
    log_reconfigure(ctl->logger, &lc);
    char certs[48] = "";
    if (site->tls)
        snprintf(certs, sizeof certs, ", %u TLS certificate(s)",
                 tls_site_certs(site->tls));
    control_log(ctl, LOG_INFO, "reloaded %s: serving %s (%zu files, %zu bytes)%s",
                ctl->path, nc->root, cache_count(site->cache), cache_bytes(site->cache),
                certs);
    return 0;
}

/* Frees the retired sites that nothing can reach any more. */
static void control_collect(struct control *ctl)
{
    uint64_t now[CFG_MAX_CORES];
    size_t n = cores_worker_epochs(ctl->cores, now, CFG_MAX_CORES);
    for (unsigned i = 0; i < ctl->n_retired;) {
        bool passed = true;
        for (size_t k = 0; k < n; k++)
            passed = passed && now[k] != ctl->retired[i].epochs[k];
        struct site *s = ctl->retired[i].site;
        if (!passed || site_refs(s) != 0) {
            i++;
            continue;
        }
        site_free(s);
        ctl->retired[i] = ctl->retired[--ctl->n_retired];
        control_log(ctl, LOG_INFO,
                    "freed the site of an earlier reload (%u still in use)",
                    ctl->n_retired);
    }
}

static void *control_main(void *arg)
{
    struct control *ctl = arg;
    sigset_t set;
    control_sigset(&set);
    while (!atomic_load(&ctl->quit)) {
        struct timespec tick = {0, CONTROL_TICK_NS};
        int sig = sigtimedwait(&set, NULL, &tick);
        switch (sig) {
        case SIGHUP:
            control_log(ctl, LOG_INFO, "SIGHUP: reloading %s", ctl->path);
            control_reload(ctl);
            break;
        case SIGTERM:
        case SIGINT: {
            unsigned ms = ctl->http_cfg ? ctl->http_cfg->shutdown_timeout_ms
                                        : ctl->boot->shutdown_timeout_ms;
            if (ctl->draining || ms == 0) {
                control_log(ctl, LOG_INFO, "%s: stopping now",
                            sig == SIGINT ? "SIGINT" : "SIGTERM");
                cores_stop();
            } else {
                ctl->draining = true;
                /* drain first: once the line is in the log, no worker
                 * accepts a connection any more */
                cores_drain(ctl->cores, ms);
                control_log(ctl, LOG_INFO,
                            "%s: stopping: no new connections, finishing the responses "
                            "under way (at most %u ms)",
                            sig == SIGINT ? "SIGINT" : "SIGTERM", ms);
            }
            break;
        }
        case SIGUSR1:
            control_log(ctl, LOG_INFO, "SIGUSR1: reopening the logs");
            log_reopen(ctl->logger);
            break;
        default:
            break;
        }
        control_collect(ctl);
        if (ctl->tickets) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (tls_tickets_tick(ctl->tickets, (uint64_t)now.tv_sec * 1000000 +
                                                   (uint64_t)now.tv_nsec / 1000))
                control_log(ctl, LOG_INFO, "TLS: new session ticket key published");
        }
    }
    return NULL;
}

int control_start(struct control *ctl)
{
    atomic_init(&ctl->quit, false);
    ctl->http_cfg = NULL;
    ctl->n_retired = 0;
    ctl->draining = false;
    int rc = pthread_create(&ctl->thread, NULL, control_main, ctl);
    if (rc == 0)
        pthread_setname_np(ctl->thread, "chttpd-ctl");
    return rc;
}

void control_stop(struct control *ctl)
{
    atomic_store(&ctl->quit, true);
    pthread_join(ctl->thread, NULL);
}

void control_destroy(struct control *ctl)
{
    for (unsigned i = 0; i < ctl->n_retired; i++)
        site_free(ctl->retired[i].site);
    ctl->n_retired = 0;
    free(ctl->http_cfg);
    ctl->http_cfg = NULL;
}
