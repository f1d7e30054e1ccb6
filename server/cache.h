/**
 * @file cache.h
 * The in-memory site: every regular file under the root, read once at
 * start-up into one allocation, with its MIME type, size, ETag and
 * Last-Modified. Read-only after cache_build(); any thread may look up.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/** Longest URL path of a file (and longest path cache_lookup() matches);
 *  a file under the root with a longer path fails cache_build(). */
#define CACHE_PATH_MAX 1024

struct cache_file {
    const char *path; /**< "/dir/name.ext", the URL path it answers */
    const uint8_t *data;
    size_t size;
    const char *mime; /**< e.g. "text/html; charset=utf-8" */
    time_t mtime;
    char etag[48];          /**< "\"<size hex>-<mtime hex>\"" */
    char last_modified[32]; /**< IMF-fixdate */
};

struct cache;

/** Loads every regular file under @p root (symlinks to files followed, not
 *  to directories outside root). @p alloc / @p release allocate the file
 *  bodies (rte_malloc in the server so bodies can be DMA'd; malloc in tests);
 *  NULL means malloc/free. Returns NULL and writes a reason to @p err. */
struct cache *cache_build(const char *root, const char *index, void *(*alloc)(size_t),
                          void (*release)(void *), char *err, size_t errlen);
void cache_free(struct cache *c);

/** Looks up a decoded, normalised URL path ("/", "/a/b.html"). A directory
 *  path ("/" or "/docs/" or "/docs") yields its index file; for "/docs"
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
