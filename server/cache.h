/**
 * @file cache.h
 * The in-memory site: every regular file under the root, read once at
 * start-up into one allocation, with its MIME type, size, ETag and
 * Last-Modified. Read-only after cache_build(); any thread may look up.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ts_csum.h"

/** Longest URL path of a file (and longest path cache_lookup() matches);
 *  a file under the root with a longer path fails cache_build(). */
#define CACHE_PATH_MAX 1024

/** Index file names tried for a directory, in order. */
#define CACHE_INDEX_MAX 8

struct cache_file {
    const char *path; /**< "/dir/name.ext", the URL path it answers */
    const uint8_t *data;
    size_t size;
    const char *mime; /**< e.g. "text/html; charset=utf-8" */
    time_t mtime;
    char etag[48];          /**< "\"<size hex>-<mtime hex>\"" */
    char last_modified[32]; /**< IMF-fixdate */
    /** "path.gz" when it is in the cache too (the precompressed twin) */
    const struct cache_file *gz;
    /** Cache-Control max-age from the expires rules; -1 when none applies */
    int64_t max_age;
    /** precomputed checksums of the body (an empty map for small bodies),
     *  for segments sent by reference on ports without checksum offload */
    struct ts_csum_map csum;
};

/** An expires rule: @p match is a URL path prefix ("/static/") or a file
 *  extension ("css" or ".css", case-insensitive); the longest matching
 *  prefix wins, then the extension. */
struct cache_expires {
    const char *match;
    uint32_t secs;
};

struct mime_map;

struct cache;

/** How a cache is built. Zero-initialised means the defaults. */
struct cache_opts {
    /** blank-separated index file names tried in order; NULL: index.html */
    const char *index;
    /** serve names starting with '.' (hidden by default; ".well-known" is
     *  always served, RFC 8615) */
    bool serve_dotfiles;
    /** allocator of the file bodies (rte_malloc in the server so bodies can
     *  be DMA'd); NULL for both means malloc/free */
    void *(*alloc)(size_t);
    void (*release)(void *);
    /** extension -> type; NULL (or unknown extensions) fall back to
     *  cache_mime_for(). The files' types point into it: it must outlive
     *  the cache. */
    const struct mime_map *mime;
    const struct cache_expires *expires;
    size_t n_expires;
};

/** Loads every regular file under @p root. Symlinks are followed only when
 *  what they point to is inside the root (decided here, once: a link to a
 *  file or folder outside is not served). Returns NULL and writes a reason
 *  to @p err. */
struct cache *cache_build_opts(const char *root, const struct cache_opts *o, char *err,
                               size_t errlen);
/** cache_build_opts() with the default options but @p index, @p alloc and
 *  @p release. */
struct cache *cache_build(const char *root, const char *index, void *(*alloc)(size_t),
                          void (*release)(void *), char *err, size_t errlen);
void cache_free(struct cache *c);

/** Looks up a decoded, normalised URL path ("/", "/a/b.html"). A directory
 *  path ("/" or "/docs/" or "/docs") yields its first index file that
 *  exists; for "/docs"
 *  (no slash) *is_dir_redirect is set to 1 and the index file is returned so
 *  the caller may redirect. NULL when absent. */
const struct cache_file *cache_lookup(const struct cache *c, const char *path, size_t len,
                                      int *is_dir_redirect);

size_t cache_count(const struct cache *c);
size_t cache_bytes(const struct cache *c);
const struct cache_file *cache_at(const struct cache *c, size_t i);

/** MIME type for a file name by its extension; "application/octet-stream"
 *  when unknown. */
const char *cache_mime_for(const char *name);

#endif
