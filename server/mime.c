/**
 * @file mime.c
 * The extension -> media type map. mime_map_load() reads the overrides and
 * the mime.types file ("type/subtype ext ext ...", '#' comments) into one
 * array of (extension, type) pairs, lower-cased, sorted by extension with
 * the overrides first, duplicates dropped; lookups are a binary search.
 * Built off the hot path (start-up, reload); never changed afterwards.
 */
#include "mime.h"
#include "errmsg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mime_entry {
    char *ext;
    char *type;
    unsigned prio; /* 0 override, 1 file */
    size_t seq;    /* order seen, for a stable sort */
};

struct mime_map {
    struct mime_entry *e;
    size_t n, cap;
};

/* "type/subtype" with RFC 9110 token characters, optionally parameters. */
static bool mime_type_valid(const char *t)
{
    const char *slash = strchr(t, '/');
    if (!slash || slash == t || slash[1] == '\0')
        return false;
    for (const char *p = t; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    for (const char *p = t; *p && *p != ';'; p++)
        if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~/", *p)))
            return false;
    return true;
}

static bool mime_ext_valid(const char *x, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)x[i]) || strchr("-_+.~", x[i])))
            return false;
    return true;
}

static int mime_add(struct mime_map *m, const char *ext, size_t ext_len, const char *type,
                    size_t type_len, unsigned prio)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        struct mime_entry *e = realloc(m->e, cap * sizeof *e);
        if (!e)
            return -1;
        m->e = e;
        m->cap = cap;
    }
    /* text types are UTF-8 unless the type says otherwise */
    bool charset = type_len > 5 && strncasecmp(type, "text/", 5) == 0 &&
                   !memchr(type, ';', type_len);
    const char *suffix = charset ? "; charset=utf-8" : "";
    size_t sl = strlen(suffix);
    char *x = malloc(ext_len + 1), *t = malloc(type_len + sl + 1);
    if (!x || !t) {
        free(x);
        free(t);
        return -1;
    }
    for (size_t i = 0; i < ext_len; i++)
        x[i] = (char)tolower((unsigned char)ext[i]);
    x[ext_len] = '\0';
    memcpy(t, type, type_len);
    memcpy(t + type_len, suffix, sl + 1);
    m->e[m->n] = (struct mime_entry){x, t, prio, m->n};
    m->n++;
    return 0;
}

static int mime_load_file(struct mime_map *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        errmsg(err, errlen, "mime types %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *type = strtok_r(line, " \t\r\n", &save);
        if (!type)
            continue;
        if (!mime_type_valid(type)) {
            errmsg(err, errlen, "mime types %s:%d: '%s' is not a media type", path,
                   lineno, type);
            rc = -1;
            break;
        }
        for (char *x; (x = strtok_r(NULL, " \t\r\n", &save)) != NULL;) {
            if (!mime_ext_valid(x, strlen(x)))
                continue; /* not an extension we could match: skip */
            if (mime_add(m, x, strlen(x), type, strlen(type), 1) < 0) {
                errmsg(err, errlen, "mime types %s: out of memory", path);
                rc = -1;
                break;
            }
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        errmsg(err, errlen, "mime types %s: cannot read: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static int mime_cmp(const void *a, const void *b)
{
    const struct mime_entry *x = a, *y = b;
    int c = strcmp(x->ext, y->ext);
    if (c)
        return c;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct mime_map *mime_map_load(const char *path, const struct mime_override *over,
                               size_t n_over, char *err, size_t errlen)
{
    struct mime_map *m = calloc(1, sizeof *m);
    if (!m) {
        errmsg(err, errlen, "mime types: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n_over; i++) {
        const char *x = over[i].ext;
        if (x[0] == '.')
            x++;
        if (!mime_ext_valid(x, strlen(x))) {
            errmsg(err, errlen, "mime type override: '%s' is not a file extension",
                   over[i].ext);
            goto fail;
        }
        if (!mime_type_valid(over[i].type)) {
            errmsg(err, errlen, "mime type override for %s: '%s' is not a media type", x,
                   over[i].type);
            goto fail;
        }
        if (mime_add(m, x, strlen(x), over[i].type, strlen(over[i].type), 0) < 0) {
            errmsg(err, errlen, "mime types: out of memory");
            goto fail;
        }
    }
    if (path && *path && mime_load_file(m, path, err, errlen) < 0)
        goto fail;
    if (m->n > 1)
        qsort(m->e, m->n, sizeof *m->e, mime_cmp);
    size_t k = 0; /* keep the first of each extension */
    for (size_t i = 0; i < m->n; i++) {
        if (k > 0 && strcmp(m->e[k - 1].ext, m->e[i].ext) == 0) {
            free(m->e[i].ext);
            free(m->e[i].type);
            continue;
        }
        m->e[k++] = m->e[i];
    }
    m->n = k;
    return m;
fail:
    mime_map_free(m);
    return NULL;
}

void mime_map_free(struct mime_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].ext);
        free(m->e[i].type);
    }
    free(m->e);
    free(m);
}

const char *mime_map_find(const struct mime_map *m, const char *name)
{
    if (!m || m->n == 0)
        return NULL;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || dot[1] == '\0')
        return NULL; /* ".profile" is a dot file without an extension */
    char ext[33];
    size_t n = strlen(dot + 1);
    if (n >= sizeof ext)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ext, m->e[mid].ext);
        if (c == 0)
            return m->e[mid].type;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t mime_map_count(const struct mime_map *m)
{
    return m ? m->n : 0;
}
