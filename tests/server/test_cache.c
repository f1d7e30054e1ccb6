/**
 * @file test_cache.c
 * cache_build() over a site written to /tmp: nested folders, index files at
 * the top and below, an empty file, a binary file, dot files, symlinks (to a
 * file, to a folder inside, to a folder outside, to an ancestor, dangling)
 * and a FIFO. Checks lookups, byte-exact bodies, MIME types, directory
 * handling, counts, ETag and Last-Modified, the allocator hooks and errors.
 */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

#define BIG_SIZE (200 * 1024 + 7)

struct site_file {
    const char *path; /* URL path, also the file's path under the root */
    const char *mime;
    uint8_t *data;
    size_t size;
};

static char root[64];    /* the site */
static char outside[64]; /* a folder a symlink points to */
static uint8_t binary[1024];
static uint8_t big[BIG_SIZE];

#define TEXT(s) (uint8_t *)(s), sizeof(s) - 1

static struct site_file site[] = {
    {"/index.html", "text/html; charset=utf-8", TEXT("<!doctype html><p>root</p>\n")},
    {"/style.css", "text/css; charset=utf-8", TEXT("body { margin: 0 }\n")},
    {"/app.mjs", "text/javascript; charset=utf-8", TEXT("export const a = 1;\n")},
    {"/empty.txt", "text/plain; charset=utf-8", NULL, 0},
    {"/img/logo.png", "image/png", binary, sizeof binary},
    {"/big.bin", "application/octet-stream", big, sizeof big},
    {"/docs/index.html", "text/html; charset=utf-8", TEXT("<p>docs</p>\n")},
    {"/docs/guide.txt", "text/plain; charset=utf-8", TEXT("read me\n")},
    {"/docs/deep/nested/more/data.json", "application/json", TEXT("{\"a\":[1,2]}\n")},
    {"/noindex/file.wasm", "application/wasm", TEXT("\0asm\1\0\0\0")},
    {"/.hidden", "application/octet-stream", TEXT("a dot file, served on request\n")},
    {"/.git/config", "application/octet-stream", TEXT("[core]\n")},
    {"/.well-known/security.txt", "text/plain; charset=utf-8", TEXT("Contact: x\n")},
    {"/UPPER.HTML", "text/html; charset=utf-8", TEXT("<P>LOUD</P>\n")},
    {"/noext", "application/octet-stream", TEXT("no extension\n")},
    {"/a b%20c.txt", "text/plain; charset=utf-8", TEXT("blank and percent\n")},
};
#define N_SITE (sizeof site / sizeof site[0])

/* Files reached through symlinks: URL path and the file it shows. */
static const struct {
    const char *path, *same_as;
} linked[] = {
    {"/link-to-style.css", "/style.css"},
    {"/docs-alias/index.html", "/docs/index.html"},
    {"/docs-alias/guide.txt", "/docs/guide.txt"},
    {"/docs-alias/deep/nested/more/data.json", "/docs/deep/nested/more/data.json"},
};
#define N_LINKED (sizeof linked / sizeof linked[0])

static void put(const char *dir, const char *rel, const uint8_t *data, size_t size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", dir, rel);
    /* make the parent folders */
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", path, strerror(errno));
        *p = '/';
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (size > 0)
        assert_int_equal(write(fd, data, size), (ssize_t)size);
    assert_int_equal(close(fd), 0);
}

static void link_at(const char *target, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", root, rel);
    assert_int_equal(symlink(target, path), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_site(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof binary; i++)
        binary[i] = (uint8_t)i; /* every byte value, NULs included */
    for (size_t i = 0; i < sizeof big; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }

    snprintf(root, sizeof root, "/tmp/corehttpd-cache-XXXXXX");
    snprintf(outside, sizeof outside, "/tmp/corehttpd-outside-XXXXXX");
    if (!mkdtemp(root) || !mkdtemp(outside))
        return -1;
    for (size_t i = 0; i < N_SITE; i++)
        put(root, site[i].path, site[i].data, site[i].size);
    put(outside, "/secret.txt", TEXT("outside the root\n"));

    link_at("style.css", "/link-to-style.css");
    link_at("docs", "/docs-alias");  /* a folder inside: followed */
    link_at(outside, "/outside");    /* a folder outside: not followed */
    link_at(".", "/loop");           /* the root itself: a loop */
    link_at("..", "/docs/deep/up");  /* an ancestor: a loop */
    link_at("nowhere", "/dangling"); /* nothing */
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%s/secret.txt", outside);
    link_at(target, "/secret-link.txt");               /* a file outside: not served */
    link_at("../../../../../../../etc/passwd", "/pw"); /* relative, outside */

    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/pipe", root);
    if (mkfifo(fifo, 0644) < 0)
        return -1;
    return 0;
}

static int remove_site(void **state)
{
    (void)state;
    remove_tree(root);
    remove_tree(outside);
    return 0;
}

/* Dot files included: every file of site[] is there. */
static struct cache *build_ok(const char *dir)
{
    char err[512] = "";
    struct cache_opts o = {.index = "index.html", .serve_dotfiles = true};
    struct cache *c = cache_build_opts(dir, &o, err, sizeof err);
    if (!c)
        fail_msg("cache_build: %s", err);
    return c;
}

static const struct cache_file *lookup(const struct cache *c, const char *path,
                                       int *redirect)
{
    return cache_lookup(c, path, strlen(path), redirect);
}

static void test_counts(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    size_t bytes = 0;
    for (size_t i = 0; i < N_SITE; i++)
        bytes += site[i].size;
    for (size_t i = 0; i < N_LINKED; i++)
        bytes += lookup(c, linked[i].same_as, NULL)->size;
    assert_int_equal(cache_count(c), N_SITE + N_LINKED);
    assert_int_equal(cache_bytes(c), bytes);
    cache_free(c);
}

static void test_bodies_exact(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    for (size_t i = 0; i < N_SITE; i++) {
        int redirect = -1;
        const struct cache_file *f = lookup(c, site[i].path, &redirect);
        if (!f)
            fail_msg("%s not found", site[i].path);
        assert_int_equal(redirect, 0);
        assert_string_equal(f->path, site[i].path);
        assert_int_equal(f->size, site[i].size);
        assert_non_null(f->data);
        if (site[i].size > 0)
            assert_memory_equal(f->data, site[i].data, site[i].size);
    }
    for (size_t i = 0; i < N_LINKED; i++) {
        const struct cache_file *f = lookup(c, linked[i].path, NULL);
        const struct cache_file *g = lookup(c, linked[i].same_as, NULL);
        assert_non_null(f);
        assert_non_null(g);
        assert_int_equal(f->size, g->size);
        assert_memory_equal(f->data, g->data, f->size);
        assert_ptr_not_equal(f->data, g->data);
    }
    cache_free(c);
}

static void test_mime(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    for (size_t i = 0; i < N_SITE; i++)
        assert_string_equal(lookup(c, site[i].path, NULL)->mime, site[i].mime);
    cache_free(c);

    static const char *const table[][2] = {
        {"a.html", "text/html; charset=utf-8"},
        {"a.htm", "text/html; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.mjs", "text/javascript; charset=utf-8"},
        {"a.json", "application/json"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.xml", "application/xml"},
        {"a.svg", "image/svg+xml"},
        {"a.png", "image/png"},
        {"a.jpg", "image/jpeg"},
        {"a.jpeg", "image/jpeg"},
        {"a.gif", "image/gif"},
        {"a.webp", "image/webp"},
        {"a.ico", "image/x-icon"},
        {"a.avif", "image/avif"},
        {"a.woff", "font/woff"},
        {"a.woff2", "font/woff2"},
        {"a.ttf", "font/ttf"},
        {"a.otf", "font/otf"},
        {"a.pdf", "application/pdf"},
        {"a.zip", "application/zip"},
        {"a.gz", "application/gzip"},
        {"a.tar", "application/x-tar"},
        {"a.mp4", "video/mp4"},
        {"a.webm", "video/webm"},
        {"a.mp3", "audio/mpeg"},
        {"a.wasm", "application/wasm"},
        {"a.bin", "application/octet-stream"},
        {"/x/PHOTO.JPG", "image/jpeg"},
        {"site.tar.gz", "application/gzip"},
        {"/dir.d/README", "application/octet-stream"},
        {".profile", "application/octet-stream"},
        {"/x/.css", "application/octet-stream"},
        {"trailing.", "application/octet-stream"},
        {"a.unknown", "application/octet-stream"},
        {"a.html5", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        assert_string_equal(cache_mime_for(table[i][0]), table[i][1]);
}

static void test_directories(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    int redirect;

    const struct cache_file *f = lookup(c, "/", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    assert_int_equal(redirect, 0);

    f = lookup(c, "/docs/", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs/index.html");
    assert_int_equal(redirect, 0);

    /* without its slash: the index, flagged for a redirect */
    f = lookup(c, "/docs", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs/index.html");
    assert_int_equal(redirect, 1);
    f = lookup(c, "/docs-alias", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs-alias/index.html");
    assert_int_equal(redirect, 1);
    assert_non_null(lookup(c, "/docs", NULL)); /* the flag is optional */

    /* folders without an index */
    redirect = -1;
    assert_null(lookup(c, "/noindex/", &redirect));
    assert_int_equal(redirect, 0);
    redirect = -1;
    assert_null(lookup(c, "/noindex", &redirect));
    assert_int_equal(redirect, 0);
    assert_null(lookup(c, "/img/", NULL));
    assert_null(lookup(c, "/docs/deep", NULL));
    cache_free(c);
}

static void test_other_index_name(void **state)
{
    (void)state;
    char err[256];
    struct cache *c = cache_build(root, "guide.txt", NULL, NULL, err, sizeof err);
    assert_non_null(c);
    assert_null(lookup(c, "/", NULL));
    int redirect;
    const struct cache_file *f = lookup(c, "/docs", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs/guide.txt");
    assert_int_equal(redirect, 1);
    cache_free(c);
}

/* The defaults: names starting with '.' are left out, ".well-known" is
 * not; links resolving outside the root never load, whatever the mode. */
static void test_hidden_and_outside(void **state)
{
    (void)state;
    char err[512] = "";
    struct cache *c = cache_build(root, NULL, NULL, NULL, err, sizeof err);
    assert_non_null(c);
    assert_null(lookup(c, "/.hidden", NULL));
    assert_null(lookup(c, "/.git/config", NULL));
    assert_non_null(lookup(c, "/.well-known/security.txt", NULL));
    assert_non_null(lookup(c, "/index.html", NULL));
    assert_int_equal(cache_count(c), N_SITE + N_LINKED - 2);
    for (size_t i = 0; i < cache_count(c); i++) {
        const struct cache_file *f = cache_at(c, i);
        if (strncmp(f->path, "/.well-known/", 13) != 0 && strstr(f->path, "/."))
            fail_msg("%s: a dot file served by default", f->path);
    }
    struct cache *all = build_ok(root);
    static const char *const never[] = {"/secret-link.txt",    "/pw",
                                        "/outside/secret.txt", "/loop/index.html",
                                        "/dangling",           "/pipe"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        assert_null(lookup(c, never[i], NULL));
        assert_null(lookup(all, never[i], NULL));
    }
    cache_free(all);
    cache_free(c);
}

/* index = a list: the first name that exists in the folder wins. */
static void test_index_list(void **state)
{
    (void)state;
    char err[256];
    struct cache *c =
        cache_build(root, "nope.htm guide.txt  index.html", NULL, NULL, err, sizeof err);
    assert_non_null(c);
    int redirect;
    const struct cache_file *f = lookup(c, "/docs/", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs/guide.txt");
    f = lookup(c, "/", &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    f = lookup(c, "/docs", &redirect);
    assert_string_equal(f->path, "/docs/guide.txt");
    assert_int_equal(redirect, 1);
    cache_free(c);
    assert_null(cache_build(root, "a b c d e f g h i", NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "more than"));
    assert_null(cache_build(root, "index.html ..", NULL, NULL, err, sizeof err));
    assert_null(cache_build(root, "   ", NULL, NULL, err, sizeof err));
}

static void test_missing(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    int redirect = -1;
    assert_null(lookup(c, "/nope.html", &redirect));
    assert_int_equal(redirect, 0);
    assert_null(lookup(c, "", NULL));
    assert_null(cache_lookup(c, "/index.html", 0, NULL));
    assert_null(lookup(c, "index.html", NULL));   /* not absolute */
    assert_null(lookup(c, "/index.html/", NULL)); /* a file is not a folder */
    assert_null(lookup(c, "/docs//", NULL));
    assert_null(lookup(c, "/INDEX.HTML", NULL)); /* case matters */
    assert_null(lookup(c, "/pipe", NULL));       /* a FIFO is not a file */
    assert_null(lookup(c, "/dangling", NULL));
    assert_null(lookup(c, "/outside/secret.txt", NULL));
    assert_null(lookup(c, "/outside", NULL));
    assert_null(lookup(c, "/loop/index.html", NULL));
    assert_null(lookup(c, "/docs/deep/up/index.html", NULL));
    assert_null(cache_lookup(c, "/index.html\0x", 13, NULL));

    char longpath[CACHE_PATH_MAX + 64];
    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    assert_null(cache_lookup(c, longpath, sizeof longpath, NULL));
    cache_free(c);
}

static void test_lookup_by_length(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    const char *buf = "/style.css HTTP/1.1";
    const struct cache_file *f = cache_lookup(c, buf, strlen("/style.css"), NULL);
    assert_non_null(f);
    assert_string_equal(f->path, "/style.css");
    int redirect;
    f = cache_lookup(c, "/docs/guide.txt", strlen("/docs"), &redirect);
    assert_non_null(f);
    assert_string_equal(f->path, "/docs/index.html");
    assert_int_equal(redirect, 1);
    cache_free(c);
}

static void test_empty_file(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    const struct cache_file *f = lookup(c, "/empty.txt", NULL);
    char want[48];
    assert_non_null(f);
    assert_int_equal(f->size, 0);
    assert_non_null(f->data);
    snprintf(want, sizeof want, "\"0-%llx\"", (unsigned long long)f->mtime);
    assert_string_equal(f->etag, want);
    cache_free(c);
}

static void test_etag_and_date(void **state)
{
    (void)state;
    char path[PATH_MAX], want[48];
    /* RFC 9110's example date */
    struct timespec times[2] = {{784111777, 0}, {784111777, 0}};
    snprintf(path, sizeof path, "%s/style.css", root);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    times[0].tv_sec = times[1].tv_sec = 1700000000; /* Tue, 14 Nov 2023 22:13:20 */
    snprintf(path, sizeof path, "%s/img/logo.png", root);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);

    struct cache *c = build_ok(root);
    const struct cache_file *f = lookup(c, "/style.css", NULL);
    assert_int_equal(f->mtime, 784111777);
    assert_string_equal(f->last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
    snprintf(want, sizeof want, "\"%zx-2ebc98a1\"", f->size);
    assert_string_equal(f->etag, want);

    f = lookup(c, "/img/logo.png", NULL);
    assert_string_equal(f->last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_string_equal(f->etag, "\"400-6553f100\"");

    /* every file: "<size hex>-<mtime hex>" in quotes, matching stat */
    for (size_t i = 0; i < cache_count(c); i++) {
        struct stat st;
        f = cache_at(c, i);
        snprintf(path, sizeof path, "%s%s", root, f->path);
        assert_int_equal(stat(path, &st), 0);
        snprintf(want, sizeof want, "\"%llx-%llx\"", (unsigned long long)st.st_size,
                 (unsigned long long)st.st_mtim.tv_sec);
        assert_string_equal(f->etag, want);
        assert_int_equal(f->mtime, st.st_mtim.tv_sec);
        assert_int_equal(strlen(f->last_modified), 29);
        assert_string_equal(f->last_modified + 25, " GMT");
    }
    cache_free(c);
}

static void test_at_is_sorted(void **state)
{
    (void)state;
    struct cache *c = build_ok(root);
    for (size_t i = 0; i < cache_count(c); i++) {
        const struct cache_file *f = cache_at(c, i);
        assert_non_null(f);
        if (i > 0)
            assert_true(strcmp(cache_at(c, i - 1)->path, f->path) < 0);
        assert_ptr_equal(lookup(c, f->path, NULL), f);
    }
    assert_null(cache_at(c, cache_count(c)));
    cache_free(c);
}

static size_t n_alloc, n_release;

static void *counting_alloc(size_t size)
{
    n_alloc++;
    return malloc(size);
}

static void counting_release(void *p)
{
    n_release++;
    free(p);
}

static void test_allocator(void **state)
{
    (void)state;
    char err[256];
    n_alloc = n_release = 0;
    struct cache *c = cache_build(root, "index.html", counting_alloc, counting_release,
                                  err, sizeof err);
    assert_non_null(c);
    size_t non_empty = 0;
    for (size_t i = 0; i < cache_count(c); i++)
        non_empty += cache_at(c, i)->size > 0;
    assert_int_equal(n_alloc, non_empty); /* one per body; none for empty files */
    assert_int_equal(n_release, 0);
    cache_free(c);
    assert_int_equal(n_release, n_alloc);
    cache_free(NULL);
}

static void test_build_errors(void **state)
{
    (void)state;
    char err[512], want[600], path[128];

    assert_null(
        cache_build("/tmp/corehttpd-no-such-root", NULL, NULL, NULL, err, sizeof err));
    assert_string_equal(err, "cache: root /tmp/corehttpd-no-such-root: cannot open: No "
                             "such file or directory");

    snprintf(path, sizeof path, "%s/style.css", root);
    assert_null(cache_build(path, NULL, NULL, NULL, err, sizeof err));
    snprintf(want, sizeof want, "cache: root %s: cannot open: Not a directory", path);
    assert_string_equal(err, want);

    assert_null(cache_build(root, "a/index.html", NULL, NULL, err, sizeof err));
    assert_string_equal(err, "cache: index 'a/index.html' is not a plain file name");
    assert_null(cache_build(root, "", NULL, NULL, err, sizeof err));
    assert_null(cache_build(root, NULL, counting_alloc, NULL, err, sizeof err));
    assert_string_equal(err, "cache: give both alloc and release, or neither");
    assert_null(cache_build("", NULL, NULL, NULL, NULL, 0));
}

static void test_empty_root_and_slash(void **state)
{
    (void)state;
    char dir[64], slashed[80];
    snprintf(dir, sizeof dir, "/tmp/corehttpd-empty-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct cache *c = build_ok(dir);
    assert_int_equal(cache_count(c), 0);
    assert_int_equal(cache_bytes(c), 0);
    assert_null(lookup(c, "/", NULL));
    assert_null(lookup(c, "/x", NULL));
    cache_free(c);
    rmdir(dir);

    snprintf(slashed, sizeof slashed, "%s//", root);
    c = build_ok(slashed);
    assert_int_equal(cache_count(c), N_SITE + N_LINKED);
    assert_non_null(lookup(c, "/docs/guide.txt", NULL));
    cache_free(c);
}

static void test_path_limits(void **state)
{
    (void)state;
    char dir[64], rel[CACHE_PATH_MAX + 256], err[PATH_MAX + 128], want[PATH_MAX + 128];
    char seg[201];
    struct cache *c;

    /* a URL path of exactly CACHE_PATH_MAX bytes is fine, one more is not */
    snprintf(dir, sizeof dir, "/tmp/corehttpd-long-XXXXXX");
    assert_non_null(mkdtemp(dir));
    memset(seg, 'd', 200);
    seg[200] = '\0';
    snprintf(rel, sizeof rel, "/%s/%s/%s/%s/%s/", seg, seg, seg, seg, seg);
    size_t used = strlen(rel);
    size_t name_len = CACHE_PATH_MAX - used;
    memset(rel + used, 'f', name_len);
    rel[used + name_len] = '\0';
    put(dir, rel, TEXT("edge\n"));
    c = build_ok(dir);
    assert_int_equal(cache_count(c), 1);
    assert_int_equal(strlen(cache_at(c, 0)->path), CACHE_PATH_MAX);
    assert_non_null(lookup(c, rel, NULL));
    cache_free(c);

    rel[used + name_len] = 'g';
    rel[used + name_len + 1] = '\0';
    put(dir, rel, TEXT("one too long\n"));
    assert_null(cache_build(dir, NULL, NULL, NULL, err, sizeof err));
    snprintf(want, sizeof want, "cache: %s%s: URL path longer than %d bytes", dir, rel,
             CACHE_PATH_MAX);
    assert_string_equal(err, want);
    remove_tree(dir);

    /* nesting */
    snprintf(dir, sizeof dir, "/tmp/corehttpd-deep-XXXXXX");
    assert_non_null(mkdtemp(dir));
    rel[0] = '\0';
    for (int i = 0; i < 65; i++)
        strcat(rel, "/d");
    strcat(rel, "/f.txt");
    put(dir, rel, TEXT("deep\n"));
    assert_null(cache_build(dir, NULL, NULL, NULL, err, sizeof err));
    rel[2 * 65] = '\0';
    snprintf(want, sizeof want, "cache: %s%s: more than 64 directory levels", dir, rel);
    assert_string_equal(err, want);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_bodies_exact),
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_directories),
        cmocka_unit_test(test_other_index_name),
        cmocka_unit_test(test_hidden_and_outside),
        cmocka_unit_test(test_index_list),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_lookup_by_length),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_etag_and_date),
        cmocka_unit_test(test_at_is_sorted),
        cmocka_unit_test(test_allocator),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_empty_root_and_slash),
        cmocka_unit_test(test_path_limits),
    };
    return cmocka_run_group_tests(tests, make_site, remove_site);
}
