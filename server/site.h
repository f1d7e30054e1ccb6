/**
 * @file site.h
 * What corehttpd serves, built from the configuration and the disk: the
 * MIME map, the file cache (with its expires rules and .gz twins), the
 * extra response headers and the custom error pages, and the HTTP settings
 * that point at them. Built off the hot path (start-up, reload), read-only
 * afterwards.
 */
#ifndef SITE_H
#define SITE_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "http.h"

struct site {
    struct http_settings http; /**< what workers use; points into this site */
    /** references: the live slot's, each connection's, each body reference
     *  queued in a TCP send queue (released by the stack thread once the
     *  bytes are acknowledged). A retired site is freed at 0. */
    atomic_long refs;
    struct mime_map *mime;
    struct cache *cache;
    char server_name[64];
    char status_path[256]; /**< [http] status_path (the hook is each worker's) */
    char headers[CFG_HEADERS_MAX + 1];
    struct http_error_page pages[CFG_MAX_ERROR_PAGES];
    char page_paths[CFG_MAX_ERROR_PAGES][192];
    struct cache_expires expires[CFG_MAX_RULES];
    /* [vhost NAME] sections */
    struct http_vhost vhosts[CFG_MAX_VHOSTS];
    struct cache *vcache[CFG_MAX_VHOSTS];
    char vnames[CFG_MAX_VHOSTS][256];
    char vheaders[CFG_MAX_VHOSTS][CFG_HEADERS_MAX + 1];
    unsigned n_vhosts;
    /** [tls]: per core, the contexts of the certificates (tls.h); NULL
     *  without TLS. Reloaded with the rest of the site. */
    struct tls_site *tls;
};

/** Builds the site of @p cfg; @p alloc / @p release allocate the file bodies
 *  (NULL for malloc/free). NULL with a reason in @p err on failure. */
struct site *site_build(const struct cfg *cfg, void *(*alloc)(size_t),
                        void (*release)(void *), int64_t (*wall_s)(void), char *err,
                        size_t errlen);
void site_free(struct site *s);

struct log_conf;
/** The logger's settings in @p cfg (paths point into it). */
void site_log_conf(const struct cfg *cfg, struct log_conf *out);

/** Takes a reference (any thread). */
static inline void site_hold(struct site *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

/** Drops a reference (any thread; the ts_ref_owner release signature).
 *  Never frees: the control thread frees retired sites at 0. */
static inline void site_release(void *s)
{
    atomic_fetch_sub_explicit(&((struct site *)s)->refs, 1, memory_order_release);
}

static inline long site_refs(struct site *s)
{
    return atomic_load_explicit(&s->refs, memory_order_acquire);
}

/** The site being served: the control thread swaps it on reload, workers
 *  read it when a connection starts a new request. */
struct site_live {
    _Atomic(struct site *) cur;
};

/** The live site with a reference taken for the caller. Only workers call
 *  this (the control thread's grace period counts on it, see control.c). */
static inline struct site *site_live_get(struct site_live *l)
{
    struct site *s = atomic_load_explicit(&l->cur, memory_order_acquire);
    site_hold(s);
    return s;
}

#endif
