/**
 * @file cache.c
 * The in-memory site. cache_build() walks the root once (openat/fdopendir,
 * so no path is ever resolved twice), reads each regular file into one body
 * allocation from the caller's allocator, sorts the files by URL path and
 * indexes them in an open-addressing hash table (FNV-1a, linear probing,
 * load factor <= 1/2). After that nothing changes: lookups from any thread
 * only read.
 *
 * What is served: every regular file under the root (refusing ".." is the
 * caller's normalisation). Names starting with '.' (".git", ".htpasswd")
 * are left out unless serve_dotfiles is set, ".well-known" excepted (RFC
 * 8615). Symlinks are followed only when their target, resolved with
 * realpath(), is inside the root; a link to a directory also not when that
 * directory is one of its own ancestors (a loop). So no URL can ever reach
 * a file outside the root: the decision is taken here, once, and lookups
 * only find what this walk loaded.
 * FIFOs, sockets, devices and dangling links are not files and are skipped.
 * Anything else that goes wrong (an unreadable file, a path too long) fails
 * the build with a message naming the file.
 */
#include "cache.h"
#include "errmsg.h"
#include "http.h"
#include "mime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_DEPTH_MAX 64 /* nested directories below the root */

struct cache_slot {
    uint64_t hash;
    uint32_t len;   /* path length */
    uint32_t index; /* into files[], plus one; 0 marks an empty slot */
};

struct cache {
    struct cache_file *files; /* sorted by path */
    size_t n_files;
    size_t cap_files;
    size_t bytes;
    struct cache_slot *slots;
    size_t mask; /* slot count - 1, a power of two minus one */
    char index[CACHE_INDEX_MAX][256];
    size_t index_len[CACHE_INDEX_MAX];
    unsigned n_index;
    bool dotfiles;
    const struct mime_map *mime;
    const struct cache_expires *expires;
    size_t n_expires;
    void *(*alloc)(size_t);
    void (*release)(void *);
};

/* The body of every empty file: never allocated, never released. */
static const uint8_t cache_empty_body[1];

struct cache_walk {
    struct cache *c;
    char fs[PATH_MAX]; /* filesystem path of the current entry, for messages */
    size_t fs_len;
    char url[CACHE_PATH_MAX + 1]; /* its URL path */
    size_t url_len;
    char root_real[PATH_MAX];
    size_t root_real_len;
    struct {
        dev_t dev;
        ino_t ino;
    } chain[CACHE_DEPTH_MAX + 1]; /* the directories being walked, root first */
    int depth;
    char *err;
    size_t errlen;
};

/* ---- MIME ---- */

static const struct {
    const char *ext;
    const char *mime;
} cache_mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"}, /* RFC 9239 */
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"}, /* RFC 8259: no charset parameter */
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"}, /* RFC 7303 */
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"avif", "image/avif"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"wasm", "application/wasm"},
    {"bin", "application/octet-stream"},
};

const char *cache_mime_for(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');

    /* ".profile" is a dot file without an extension */
    if (dot && dot != base && dot[1] != '\0') {
        for (size_t i = 0; i < sizeof cache_mime_types / sizeof cache_mime_types[0]; i++)
            if (strcasecmp(dot + 1, cache_mime_types[i].ext) == 0)
                return cache_mime_types[i].mime;
    }
    return "application/octet-stream";
}

/* ---- hash table ---- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* Finds the file whose path is a, then b, then d, concatenated: lookups of
 * "dir/" + index need no copy. */
static const struct cache_file *cache_find(const struct cache *c, const char *a,
                                           size_t alen, const char *b, size_t blen,
                                           const char *d, size_t dlen)
{
    size_t len = alen + blen + dlen;
    if (len > CACHE_PATH_MAX || c->n_files == 0)
        return NULL;
    uint64_t h = fnv1a(fnv1a(fnv1a(FNV_OFFSET, a, alen), b, blen), d, dlen);

    for (size_t i = h & c->mask;; i = (i + 1) & c->mask) {
        const struct cache_slot *s = &c->slots[i];
        if (s->index == 0)
            return NULL;
        if (s->hash != h || s->len != len)
            continue;
        const struct cache_file *f = &c->files[s->index - 1];
        if (memcmp(f->path, a, alen) == 0 && memcmp(f->path + alen, b, blen) == 0 &&
            memcmp(f->path + alen + blen, d, dlen) == 0)
            return f;
    }
}

static int cache_index_files(struct cache *c, char *err, size_t errlen)
{
    size_t n = 16;
    while (n < 2 * c->n_files)
        n *= 2;
    c->slots = calloc(n, sizeof *c->slots);
    if (!c->slots) {
        errmsg(err, errlen, "cache: out of memory for %zu slots", n);
        return -1;
    }
    c->mask = n - 1;
    for (size_t k = 0; k < c->n_files; k++) {
        const char *p = c->files[k].path;
        size_t len = strlen(p);
        uint64_t h = fnv1a(FNV_OFFSET, p, len);
        size_t i = h & c->mask;
        while (c->slots[i].index != 0)
            i = (i + 1) & c->mask;
        c->slots[i] = (struct cache_slot){h, (uint32_t)len, (uint32_t)(k + 1)};
    }
    return 0;
}

/* ---- metadata ---- */

/* ---- the walk ---- */

__attribute__((format(printf, 2, 3))) static int walk_fail(struct cache_walk *w,
                                                           const char *fmt, ...)
{
    if (w->err && w->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, w->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The expires rule for a URL path: the longest matching prefix, else the
 * extension; -1 when none. */
static int64_t cache_max_age(const struct cache *c, const char *path)
{
    int64_t age = -1;
    size_t best = 0;
    for (size_t i = 0; i < c->n_expires; i++) {
        const char *m = c->expires[i].match;
        size_t n = strlen(m);
        if (m[0] == '/' && n > best && strncmp(path, m, n) == 0) {
            best = n;
            age = c->expires[i].secs;
        }
    }
    if (best)
        return age;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return -1;
    for (size_t i = 0; i < c->n_expires; i++) {
        const char *m = c->expires[i].match;
        if (m[0] == '/')
            continue;
        if (m[0] == '.')
            m++;
        if (strcasecmp(m, dot + 1) == 0)
            return c->expires[i].secs;
    }
    return -1;
}

/* Links every "x.gz" to "x" when both are there. */
static void cache_link_gz(struct cache *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        struct cache_file *gz = &c->files[i];
        size_t n = strlen(gz->path);
        if (n < 5 || strcmp(gz->path + n - 3, ".gz") != 0)
            continue;
        const struct cache_file *base = cache_find(c, gz->path, n - 3, "", 0, "", 0);
        if (base)
            ((struct cache_file *)base)->gz = gz;
    }
}

static int cache_add(struct cache_walk *w, const uint8_t *data, const struct stat *st)
{
    struct cache *c = w->c;

    if (c->n_files == c->cap_files) {
        size_t cap = c->cap_files ? 2 * c->cap_files : 64;
        if (cap >= UINT32_MAX) /* slots hold 32-bit indexes */
            return -1;
        struct cache_file *files = realloc(c->files, cap * sizeof *files);
        if (!files)
            return -1;
        c->files = files;
        c->cap_files = cap;
    }
    char *path = strdup(w->url);
    if (!path)
        return -1;
    /* checksums of the body for ports that cannot make them (small bodies
     * are summed as fast as looked up) */
    size_t size = (size_t)st->st_size;
    uint16_t *sums = NULL;
    if (size >= 2 * TS_CSUM_BLOCK) {
        sums = malloc(ts_csum_map_entries(size) * sizeof *sums);
        if (!sums) {
            free(path);
            return -1;
        }
    }

    struct cache_file *f = &c->files[c->n_files++];
    memset(f, 0, sizeof *f);
    if (sums)
        ts_csum_map_init(&f->csum, data, size, sums);
    f->path = path;
    f->data = data;
    f->size = (size_t)st->st_size;
    f->mime = mime_map_find(c->mime, path);
    if (!f->mime)
        f->mime = cache_mime_for(path);
    f->max_age = cache_max_age(c, path);
    f->mtime = st->st_mtim.tv_sec;
    snprintf(f->etag, sizeof f->etag, "\"%zx-%llx\"", f->size,
             (unsigned long long)f->mtime);
    http_date((int64_t)f->mtime, f->last_modified); /* IMF-fixdate */
    c->bytes += f->size;
    return 0;
}

static int walk_file(struct cache_walk *w, int dfd, const char *name)
{
    struct cache *c = w->c;
    struct stat st;
    uint8_t *body = NULL;

    /* O_NONBLOCK: a FIFO swapped in since the stat must not hang start-up */
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return walk_fail(w, "cache: %s: cannot open: %s", w->fs, strerror(errno));
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return walk_fail(w, "cache: %s: cannot stat: %s", w->fs, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }

    size_t size = (size_t)st.st_size;
    if (size > 0) {
        body = c->alloc(size);
        if (!body) {
            close(fd);
            return walk_fail(w, "cache: %s: cannot allocate %zu bytes", w->fs, size);
        }
        size_t got = 0;
        while (got < size) {
            ssize_t r = read(fd, body + got, size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                int e = r < 0 ? errno : 0;
                close(fd);
                c->release(body);
                if (e)
                    return walk_fail(w, "cache: %s: cannot read: %s", w->fs, strerror(e));
                return walk_fail(w, "cache: %s: file shrank while being read", w->fs);
            }
            got += (size_t)r;
        }
    }
    close(fd);

    if (cache_add(w, size > 0 ? body : cache_empty_body, &st) < 0) {
        if (body)
            c->release(body);
        return walk_fail(w, "cache: %s: out of memory", w->fs);
    }
    return 0;
}

/* A symlinked directory is followed only into the root's own tree. */
static bool walk_inside_root(struct cache_walk *w)
{
    char real[PATH_MAX];
    if (!realpath(w->fs, real))
        return false;
    size_t n = w->root_real_len;
    if (n == 1) /* the root is "/" */
        return true;
    return strncmp(real, w->root_real, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

static int walk_dir(struct cache_walk *w, int fd);

static int walk_entry(struct cache_walk *w, int dfd, const char *name)
{
    struct stat st;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return walk_fail(w, "cache: %s: cannot stat: %s", w->fs, strerror(errno));
    bool link = S_ISLNK(st.st_mode);
    if (link && fstatat(dfd, name, &st, 0) < 0)
        return 0; /* dangling link: not a file */

    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return 0;
    if (link && !walk_inside_root(w))
        return 0; /* resolves outside the root: never served */
    if (S_ISREG(st.st_mode))
        return walk_file(w, dfd, name);

    for (int i = 0; i <= w->depth; i++)
        if (w->chain[i].dev == st.st_dev && w->chain[i].ino == st.st_ino)
            return 0; /* a link to an ancestor: following it never ends */
    if (w->depth == CACHE_DEPTH_MAX)
        return walk_fail(w, "cache: %s: more than %d directory levels", w->fs,
                         CACHE_DEPTH_MAX);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return walk_fail(w, "cache: %s: cannot open: %s", w->fs, strerror(errno));
    w->depth++;
    w->chain[w->depth].dev = st.st_dev;
    w->chain[w->depth].ino = st.st_ino;
    int rc = walk_dir(w, fd);
    w->depth--;
    return rc;
}

/* Walks the directory open on @p fd (which it closes); w->fs and w->url name
 * it. */
static int walk_dir(struct cache_walk *w, int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return walk_fail(w, "cache: %s: cannot read: %s", w->fs, strerror(e));
    }

    const struct dirent *de;
    int rc = 0;
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (name[0] == '.' && !w->c->dotfiles && strcmp(name, ".well-known") != 0)
            continue;
        size_t len = strlen(name);
        size_t fs_len = w->fs_len, url_len = w->url_len;

        if (fs_len + 1 + len >= sizeof w->fs) {
            rc = walk_fail(w, "cache: %.*s/%s: path longer than %d bytes", (int)fs_len,
                           w->fs, name, PATH_MAX - 1);
            break;
        }
        w->fs[fs_len] = '/';
        memcpy(w->fs + fs_len + 1, name, len + 1);
        w->fs_len = fs_len + 1 + len;
        if (url_len + 1 + len > CACHE_PATH_MAX) {
            rc = walk_fail(w, "cache: %s: URL path longer than %d bytes", w->fs,
                           CACHE_PATH_MAX);
            break;
        }
        w->url[url_len] = '/';
        memcpy(w->url + url_len + 1, name, len + 1);
        w->url_len = url_len + 1 + len;

        rc = walk_entry(w, dirfd(d), name);

        w->fs_len = fs_len;
        w->fs[fs_len] = '\0';
        w->url_len = url_len;
        w->url[url_len] = '\0';
        if (rc < 0)
            break;
    }
    if (rc == 0 && errno != 0)
        rc = walk_fail(w, "cache: %s: cannot read: %s", w->fs, strerror(errno));
    closedir(d);
    return rc;
}

static int cache_cmp_path(const void *a, const void *b)
{
    const struct cache_file *x = a, *y = b;
    return strcmp(x->path, y->path);
}

/* ---- public ---- */

/* Splits the blank-separated index list into c->index[]. */
static int cache_set_index(struct cache *c, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t n = strcspn(p, " \t");
        if (c->n_index == CACHE_INDEX_MAX) {
            errmsg(err, errlen, "cache: more than %d index names in '%s'",
                   CACHE_INDEX_MAX, list);
            return -1;
        }
        if (n >= sizeof c->index[0] || memchr(p, '/', n) || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.')) {
            errmsg(err, errlen, "cache: index '%.*s' is not a plain file name", (int)n,
                   p);
            return -1;
        }
        memcpy(c->index[c->n_index], p, n);
        c->index[c->n_index][n] = '\0';
        c->index_len[c->n_index++] = n;
        p += n;
    }
    if (c->n_index == 0) {
        errmsg(err, errlen, "cache: index '%s' names no file", list);
        return -1;
    }
    return 0;
}

struct cache *cache_build(const char *root, const char *index, void *(*alloc)(size_t),
                          void (*release)(void *), char *err, size_t errlen)
{
    struct cache_opts o = {.index = index, .alloc = alloc, .release = release};
    return cache_build_opts(root, &o, err, errlen);
}

struct cache *cache_build_opts(const char *root, const struct cache_opts *o, char *err,
                               size_t errlen)
{
    struct cache_walk *w = NULL;
    struct cache *c = NULL;
    struct stat st;
    static const struct cache_opts defaults;

    if (!o)
        o = &defaults;
    if (!root || root[0] == '\0') {
        errmsg(err, errlen, "cache: empty root path");
        return NULL;
    }
    if (!o->alloc != !o->release) {
        errmsg(err, errlen, "cache: give both alloc and release, or neither");
        return NULL;
    }

    c = calloc(1, sizeof *c);
    w = calloc(1, sizeof *w);
    if (!c || !w) {
        errmsg(err, errlen, "cache: out of memory");
        goto fail;
    }
    c->alloc = o->alloc ? o->alloc : malloc;
    c->release = o->release ? o->release : free;
    c->dotfiles = o->serve_dotfiles;
    c->mime = o->mime;
    c->expires = o->expires;
    c->n_expires = o->n_expires;
    if (cache_set_index(c, o->index ? o->index : "index.html", err, errlen) < 0)
        goto fail;
    w->c = c;
    w->err = err;
    w->errlen = errlen;

    size_t root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/')
        root_len--;
    if (root_len >= sizeof w->fs) {
        errmsg(err, errlen, "cache: root path longer than %d bytes", PATH_MAX - 1);
        goto fail;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        errmsg(err, errlen, "cache: root %s: cannot open: %s", root, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) < 0 || !realpath(root, w->root_real)) {
        errmsg(err, errlen, "cache: root %s: %s", root, strerror(errno));
        close(fd);
        goto fail;
    }
    w->root_real_len = strlen(w->root_real);
    /* the root "/" contributes no characters: its files are "/name" */
    w->fs_len = root_len == 1 && root[0] == '/' ? 0 : root_len;
    memcpy(w->fs, root, w->fs_len);
    w->fs[w->fs_len] = '\0';
    w->chain[0].dev = st.st_dev;
    w->chain[0].ino = st.st_ino;

    if (walk_dir(w, fd) < 0)
        goto fail;
    if (c->n_files > 0)
        qsort(c->files, c->n_files, sizeof *c->files, cache_cmp_path);
    if (cache_index_files(c, err, errlen) < 0)
        goto fail;
    cache_link_gz(c);
    c->mime = NULL; /* the caller's: not used after the build */
    c->expires = NULL;
    c->n_expires = 0;
    free(w);
    return c;

fail:
    free(w);
    cache_free(c);
    return NULL;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_files; i++) {
        if (c->files[i].size > 0)
            c->release((void *)c->files[i].data);
        free((void *)c->files[i].path);
        free((void *)c->files[i].csum.prefix);
    }
    free(c->files);
    free(c->slots);
    free(c);
}

const struct cache_file *cache_lookup(const struct cache *c, const char *path, size_t len,
                                      int *is_dir_redirect)
{
    if (is_dir_redirect)
        *is_dir_redirect = 0;
    if (!c || !path || len == 0 || path[0] != '/')
        return NULL;

    const struct cache_file *f;
    if (path[len - 1] == '/') {
        for (unsigned i = 0; i < c->n_index; i++)
            if ((f = cache_find(c, path, len, c->index[i], c->index_len[i], "", 0)))
                return f;
        return NULL;
    }
    f = cache_find(c, path, len, "", 0, "", 0);
    if (f)
        return f;
    /* "/docs": a directory named without its slash */
    for (unsigned i = 0; i < c->n_index; i++) {
        f = cache_find(c, path, len, "/", 1, c->index[i], c->index_len[i]);
        if (f) {
            if (is_dir_redirect)
                *is_dir_redirect = 1;
            return f;
        }
    }
    return NULL;
}

size_t cache_count(const struct cache *c)
{
    return c ? c->n_files : 0;
}

size_t cache_bytes(const struct cache *c)
{
    return c ? c->bytes : 0;
}

const struct cache_file *cache_at(const struct cache *c, size_t i)
{
    return c && i < c->n_files ? &c->files[i] : NULL;
}
