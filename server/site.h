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

#include <stddef.h>

#include "config.h"
#include "http.h"

struct site {
    struct http_settings http; /**< what workers use; points into this site */
    struct mime_map *mime;
    struct cache *cache;
    char server_name[64];
    char headers[CFG_HEADERS_MAX + 1];
    struct http_error_page pages[CFG_MAX_ERROR_PAGES];
    char page_paths[CFG_MAX_ERROR_PAGES][192];
    struct cache_expires expires[CFG_MAX_RULES];
};

/** Builds the site of @p cfg; @p alloc / @p release allocate the file bodies
 *  (NULL for malloc/free). NULL with a reason in @p err on failure. */
struct site *site_build(const struct cfg *cfg, void *(*alloc)(size_t),
                        void (*release)(void *), int64_t (*wall_s)(void), char *err,
                        size_t errlen);
void site_free(struct site *s);

#endif
