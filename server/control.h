/**
 * @file control.h
 * The control thread: it takes the process's signals (blocked in every
 * other thread) and does what is slow off the data path. SIGHUP reloads
 * the configuration and the site; SIGTERM and SIGINT stop gracefully (a
 * second one stops at once); SIGUSR1 reopens the logs (logrotate). It also
 * frees the sites that reloads retired once nothing refers to them.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "site.h"

#define CONTROL_RETIRED_MAX 16

struct control {
    /* set by the caller */
    const char *path;       /**< the ini file, read again on SIGHUP */
    const struct cfg *boot; /**< the configuration the process started with */
    struct site_live *live;
    struct cores *cores;
    void *(*alloc)(size_t); /**< file body allocator of new sites */
    void (*release)(void *);
    int64_t (*wall_s)(void);
    struct logger *logger;       /**< error log, SIGUSR1 reopen; may be NULL */
    struct tls_tickets *tickets; /**< rotated here on their timer; NULL: no TLS */
    /* the control thread's own */
    struct cfg *http_cfg; /**< the [http] part in force (the rest is boot's) */
    pthread_t thread;
    atomic_bool quit;
    bool draining;
    struct {
        struct site *site;
        uint64_t epochs[CFG_MAX_CORES];
    } retired[CONTROL_RETIRED_MAX];
    unsigned n_retired;
    uint64_t reloads, reload_failures;
};

/** The signals the control thread takes; block them in the calling thread
 *  before any other thread is created, so that every thread inherits it. */
void control_block_signals(void);

/** Starts the thread; 0 or an errno. */
int control_start(struct control *ctl);
/** Stops and joins it. */
void control_stop(struct control *ctl);
/** Frees the retired sites whatever their count: call it once the cores
 *  are destroyed (their stacks release body references). The live site
 *  stays the caller's. */
void control_destroy(struct control *ctl);

/** SIGHUP's work, callable directly (tests): 0 when the new site is live,
 *  -1 with the reason logged when the running one stays. */
int control_reload(struct control *ctl);

#endif
