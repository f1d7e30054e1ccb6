/**
 * @file mime.h
 * File extension to media type, built once per (re)load from the system's
 * table (/etc/mime.types: Debian's media-types package) and the config's
 * overrides, then read-only. Text types get "; charset=utf-8".
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

struct mime_map;

/** An override: extension (no dot) and media type. */
struct mime_override {
    const char *ext;
    const char *type;
};

/**
 * Builds the map. Precedence: @p over, then the file at @p path (NULL or ""
 * for none), then corehttpd's built-in table (cache_mime_for()). Returns
 * NULL with a reason in @p err when the file cannot be read or a line or an
 * override is malformed.
 */
struct mime_map *mime_map_load(const char *path, const struct mime_override *over,
                               size_t n_over, char *err, size_t errlen);
void mime_map_free(struct mime_map *m);

/** The type of a file name by its extension (case-insensitive); NULL when
 *  neither the overrides nor the file know it. */
const char *mime_map_find(const struct mime_map *m, const char *name);

/** Entries in the map (overrides and file). */
size_t mime_map_count(const struct mime_map *m);

#endif
