/**
 * @file test_http.c
 * HTTP/1.1 request handling against a real cache built from a temporary
 * site: every status code, the keep-alive matrix, pipelining, conditional
 * requests, URL decoding and normalisation, request bodies, and resumable
 * parsing (each request split at every byte and fed one byte at a time must
 * give the same responses as when fed whole). The clock is a variable.
 */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "http.h"

#define T_MTIME 784111777  /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T_NOW 1700000000   /* Tue, 14 Nov 2023 22:13:20 GMT */
#define LONG_DIR_CHARS 250 /* a '%' directory name: 3x when escaped */
#define EVIL_DIR "evil\r\nSet-Cookie: a=b"

static int64_t test_now = T_NOW;
static struct cache *test_cache;
static char test_root[64];

static int64_t test_wall(void)
{
    return test_now;
}

static struct http_settings test_set(void)
{
    struct http_settings s = {
        .cache = test_cache,
        .server_name = "corehttpd/test",
        .keepalive = true,
        .keepalive_requests = 100,
        .max_request_bytes = 8192,
        .wall_s = test_wall,
    };
    return s;
}

/* ------------------------------------------------------------------ */
/* The site                                                            */

static void put_file_at(const char *rel, const char *body, time_t mtime)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", test_root, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(body, 1, strlen(body), f), strlen(body));
    assert_int_equal(fclose(f), 0);
    struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
    assert_int_equal(utimes(path, tv), 0);
}

static void put_file(const char *rel, const char *body)
{
    put_file_at(rel, body, T_MTIME);
}

static void put_dir(const char *rel)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", test_root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static char long_dir[LONG_DIR_CHARS + 1];

static int site_setup(void **state)
{
    (void)state;
    char err[256], rel[1024];

    snprintf(test_root, sizeof test_root, "/tmp/corehttpd-test-http-XXXXXX");
    assert_non_null(mkdtemp(test_root));
    put_file("index.html", "<h1>home</h1>\n");
    put_file("a.txt", "hello\n");
    put_file("d.txt", "0123456789abcdefghij");
    /* modified on a Wednesday: its Last-Modified starts with a W */
    put_file_at("wed.txt", "0123456789", T_MTIME + 3 * 86400);
    put_file("g.css", "plain{}\n");
    put_file("g.css.gz", "GZIPPED");
    put_file("oops.html", "<p>custom 404</p>\n");
    put_file("sp ace.txt", "space\n");
    put_file("empty.txt", "");
    put_dir("docs");
    put_file("docs/index.html", "docs\n");
    put_file("docs/x.css", "x{}\n");
    put_dir("dir one");
    put_file("dir one/index.html", "one\n");
    put_dir("nodx");
    put_file("nodx/f.txt", "f\n");
    put_dir(EVIL_DIR);
    put_file(EVIL_DIR "/index.html", "evil\n");
    memset(long_dir, '%', LONG_DIR_CHARS);
    put_dir(long_dir);
    snprintf(rel, sizeof rel, "%s/%s", long_dir, long_dir);
    put_dir(rel);
    snprintf(rel, sizeof rel, "%s/%s/index.html", long_dir, long_dir);
    put_file(rel, "deep\n");

    test_cache = cache_build(test_root, "index.html", NULL, NULL, err, sizeof err);
    if (!test_cache)
        fail_msg("cache_build: %s", err);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int site_teardown(void **state)
{
    (void)state;
    cache_free(test_cache);
    nftw(test_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static const struct cache_file *file(const char *path)
{
    int redirect;
    const struct cache_file *cf = cache_lookup(test_cache, path, strlen(path), &redirect);
    assert_non_null(cf);
    return cf;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Value of header @p name in @p r into buf, or NULL when absent. */
static const char *hdr(const struct http_response *r, const char *name, char *buf,
                       size_t cap)
{
    char key[64];
    int kl = snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *end = r->hdr + r->hdr_len;
    for (const char *p = r->hdr; p + kl <= end; p++) {
        if (memcmp(p, key, (size_t)kl) != 0)
            continue;
        const char *v = p + kl, *e = v;
        while (e + 1 < end && !(e[0] == '\r' && e[1] == '\n'))
            e++;
        size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
        memcpy(buf, v, n);
        buf[n] = 0;
        return buf;
    }
    return NULL;
}

static void assert_hdr(const struct http_response *r, const char *name, const char *want)
{
    char buf[4096];
    const char *v = hdr(r, name, buf, sizeof buf);
    if (!want) {
        if (v)
            fail_msg("unexpected %s: %s", name, v);
        return;
    }
    if (!v)
        fail_msg("no %s header in:\n%.*s", name, (int)r->hdr_len, r->hdr);
    assert_string_equal(v, want);
}

static void assert_body(const struct http_response *r, const char *want)
{
    assert_int_equal(r->body_len, strlen(want));
    if (r->body_len)
        assert_memory_equal(r->body, want, r->body_len);
}

static void assert_same(const struct http_response *a, const struct http_response *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->hdr_len, b->hdr_len);
    assert_memory_equal(a->hdr, b->hdr, a->hdr_len);
    assert_ptr_equal(a->body, b->body);
    assert_int_equal(a->body_len, b->body_len);
    assert_int_equal(a->close_after, b->close_after);
}

/* One request on a fresh connection, fed whole: must be answered and
 * consume exactly its bytes. */
static void ask_with(const struct http_settings *set, const char *req,
                     struct http_response *r)
{
    struct http_conn hc;
    size_t used;
    http_conn_init(&hc, set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, r),
                     HTTP_OK);
    assert_int_equal(used, strlen(req));
    assert_false(http_conn_partial(&hc));
    if (r->close_after)
        assert_int_equal(http_conn_feed(&hc, (const uint8_t *)"x", 1, &used, r),
                         HTTP_ERROR);
}

static void ask(const char *req, struct http_response *r)
{
    struct http_settings set = test_set();
    ask_with(&set, req, r);
}

/* Status of GET @p target over HTTP/1.1. */
static int get_status(const char *target, struct http_response *r)
{
    char req[4096];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    ask(req, r);
    return r->status;
}

#define RUN_MAX 8

struct run {
    int n;
    struct http_response r[RUN_MAX];
    size_t used; /* bytes consumed in all */
};

/*
 * Feeds @p data the way a worker with a receive buffer does: the bytes
 * arrive in pieces ending at cuts[0..ncuts) (then at len); whatever a feed
 * did not consume is fed again with the next piece. Every HTTP_AGAIN must
 * have consumed all it was given. Stops at a close_after response.
 */
static void drive(const struct http_settings *set, const char *data, size_t len,
                  const size_t *cuts, size_t ncuts, struct run *out)
{
    struct http_conn hc;
    size_t pos = 0;

    http_conn_init(&hc, set);
    out->n = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        while (pos < end) {
            size_t used;
            struct http_response *r = &out->r[out->n];
            enum http_rc rc =
                http_conn_feed(&hc, (const uint8_t *)data + pos, end - pos, &used, r);
            pos += used;
            if (rc == HTTP_AGAIN) {
                assert_int_equal(pos, end);
                break;
            }
            assert_int_equal(rc, HTTP_OK);
            assert_true(out->n < RUN_MAX - 1);
            out->n++;
            if (r->close_after) {
                out->used = pos;
                return;
            }
        }
    }
    out->used = pos;
}

static void assert_same_run(const struct run *a, const struct run *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->used, b->used);
    for (int i = 0; i < a->n; i++)
        assert_same(&a->r[i], &b->r[i]);
}

/* Split at every offset, then one byte at a time: same answers as whole. */
static void check_resumable(const struct http_settings *set, const char *data, size_t len)
{
    static struct run whole, part; /* big: keep them off the stack */
    drive(set, data, len, NULL, 0, &whole);
    assert_true(whole.n > 0);
    for (size_t k = 1; k < len; k++) {
        drive(set, data, len, &k, 1, &part);
        assert_same_run(&whole, &part);
    }
    size_t *cuts = malloc(len * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t k = 0; k < len; k++)
        cuts[k] = k + 1;
    drive(set, data, len, cuts, len, &part);
    assert_same_run(&whole, &part);
    free(cuts);
}

/* ------------------------------------------------------------------ */
/* 200 and HEAD                                                        */

static void test_get_200_headers(void **state)
{
    (void)state;
    struct http_response r;
    const struct cache_file *cf = file("/index.html");
    char want[1024];

    ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    snprintf(want, sizeof want,
             "HTTP/1.1 200 OK\r\n"
             "Server: corehttpd/test\r\n"
             "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
             "Content-Type: %s\r\n"
             "Content-Length: 14\r\n"
             "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
             "Connection: keep-alive\r\n"
             "ETag: %s\r\n"
             "Accept-Ranges: bytes\r\n"
             "\r\n",
             cf->mime, cf->etag);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.hdr_len, strlen(want));
    assert_memory_equal(r.hdr, want, r.hdr_len);
    assert_ptr_equal(r.body, cf->data);
    assert_body(&r, "<h1>home</h1>\n");
    assert_false(r.close_after);
}

static void test_head_no_body(void **state)
{
    (void)state;
    struct http_response get, head;

    ask("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &get);
    ask("HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &head);
    assert_int_equal(head.status, 200);
    assert_int_equal(head.body_len, 0);
    assert_hdr(&head, "Content-Length", "6");
    assert_int_equal(get.hdr_len, head.hdr_len);
    assert_memory_equal(get.hdr, head.hdr, get.hdr_len);

    ask("HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n", &head);
    assert_int_equal(head.status, 404);
    assert_int_equal(head.body_len, 0);
    assert_non_null(hdr(&head, "Content-Length", (char[16]){0}, 16));

    /* a HEAD answered 400 has no body wherever the bad byte is: in the
     * target (before any of it reached the URL callback), after it, or in
     * a header; the GET of the same bytes has one */
    static const char *const bad[] = {
        "HEAD /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n",
        "HEAD /ab HTTP/1.1\x01\r\nHost: t\r\n\r\n",
        "HEAD /ab HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n",
    };
    struct http_settings set = test_set();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char get[128];
        snprintf(get, sizeof get, "GET %s", bad[i] + 5);
        const char *req[2] = {bad[i], get};
        for (int k = 0; k < 2; k++) {
            struct http_conn hc;
            size_t used;
            http_conn_init(&hc, &set);
            assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req[k], strlen(req[k]),
                                            &used, &head),
                             HTTP_OK);
            assert_int_equal(head.status, 400);
            if (k == 0)
                assert_int_equal(head.n_pieces, 0);
            else
                assert_true(head.n_pieces > 0);
        }
    }
}

static void test_empty_file_and_server_name(void **state)
{
    (void)state;
    struct http_response r;
    struct http_settings set = test_set();

    ask("GET /empty.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_hdr(&r, "Content-Length", "0");
    assert_int_equal(r.body_len, 0);

    set.server_name = NULL;
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_hdr(&r, "Server", NULL);
    assert_hdr(&r, "Date", "Tue, 14 Nov 2023 22:13:20 GMT");
}

static void test_date_follows_clock(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_conn hc;
    struct http_response r;
    size_t used;
    const char *req = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";

    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_OK);
    assert_hdr(&r, "Date", "Tue, 14 Nov 2023 22:13:20 GMT");
    test_now = T_NOW + 61;
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_OK);
    assert_hdr(&r, "Date", "Tue, 14 Nov 2023 22:14:21 GMT");
    test_now = T_NOW;
}

/* ------------------------------------------------------------------ */
/* Error statuses                                                      */

static void test_404(void **state)
{
    (void)state;
    struct http_response r;

    assert_int_equal(get_status("/nope.html", &r), 404);
    assert_false(r.close_after);
    assert_hdr(&r, "Content-Type", "text/html");
    assert_hdr(&r, "Connection", "keep-alive");
    assert_true(r.body_len > 0);
    assert_non_null(strstr((const char *)r.body, "404 Not Found"));
    char cl[16];
    snprintf(cl, sizeof cl, "%zu", r.body_len);
    assert_hdr(&r, "Content-Length", cl);
    assert_int_equal(memcmp(r.hdr, "HTTP/1.1 404 Not Found\r\n", 24), 0);

    assert_int_equal(get_status("/A.TXT", &r), 404); /* case matters */
    assert_int_equal(get_status("/nodx/", &r), 404); /* no index, no listing */
    assert_int_equal(get_status("/nodx", &r), 404);
    assert_int_equal(get_status("/docs/x.css/", &r), 404); /* a file is no directory */
    assert_int_equal(get_status("/nodx/f.txt", &r), 200);
}

static void test_405(void **state)
{
    (void)state;
    struct http_response r;
    static const char *const reqs[] = {
        "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
        "PUT /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        "DELETE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "TRACE / HTTP/1.1\r\nHost: t\r\n\r\n",
        "PATCH /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
        "POST /none HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        ask(reqs[i], &r);
        assert_int_equal(r.status, 405);
        assert_hdr(&r, "Allow", "GET, HEAD, OPTIONS");
        assert_false(r.close_after);
        assert_true(r.body_len > 0);
    }
    /* CONNECT would be followed by tunnel bytes: answer and close. */
    ask("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_true(r.close_after);
}

static void test_400(void **state)
{
    (void)state;
    struct http_response r;
    static const char *const reqs[] = {
        "GET / HTTP/1.1\r\n\r\n",                       /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* two */
        "GET / HTTP/1.1\r\nHost : t\r\n\r\n",           /* space before ':' */
        "GET / HTTP/1.1\r\nHost: t\r\nX Y: z\r\n\r\n",  /* space in a name */
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nA: \x01\r\n\r\n",
        "GET foo HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET http:///a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / http/1.1\r\nHost: t\r\n\r\n",
        "FOO / HTTP/1.1 \r\nHost: t\r\n\r\n", /* unknown method, bad line */
        "FOO  / HTTP/1.1\r\nHost: t\r\n\r\n",
        "FOO / HTTP/1\r\nHost: t\r\n\r\n",
        "FOO /\x01 HTTP/1.1\r\nHost: t\r\n\r\n",
        "FO(O / HTTP/1.1\r\nHost: t\r\n\r\n",
        " / HTTP/1.1\r\nHost: t\r\n\r\n",
        "GETX/ HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.10\r\nHost: t\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* TLS hello */
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct http_settings set = test_set();
        struct http_conn hc;
        size_t used;
        http_conn_init(&hc, &set);
        assert_int_equal(
            http_conn_feed(&hc, (const uint8_t *)reqs[i], strlen(reqs[i]), &used, &r),
            HTTP_OK);
        if (r.status != 400)
            fail_msg("request %zu: status %d", i, r.status);
        assert_true(r.close_after);
        assert_hdr(&r, "Connection", "close");
        assert_true(used <= strlen(reqs[i]));
        assert_int_equal(http_conn_feed(&hc, (const uint8_t *)"GET", 3, &used, &r),
                         HTTP_ERROR);
        assert_int_equal(used, 0);
    }
}

/* Methods nobody implements here: 501 when the request line is well
 * formed, whatever http-parser knows of them. */
static void test_501(void **state)
{
    (void)state;
    struct http_response r;
    static const char *const reqs[] = {
        "FOO / HTTP/1.1\r\nHost: t\r\n\r\n",
        "get / HTTP/1.1\r\nHost: t\r\n\r\n", /* methods are case-sensitive */
        "GETX /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "BREW /pot HTTP/1.0\n\n",
        "\r\nX-Y.Z~ * HTTP/1.1\r\n",
        "PROPFIND / HTTP/1.1\r\nHost: t\r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\nHost: t\r\n\r\n",
        "MKCOL /new HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct http_settings set = test_set();
        struct http_conn hc;
        size_t used;
        http_conn_init(&hc, &set);
        enum http_rc rc =
            http_conn_feed(&hc, (const uint8_t *)reqs[i], strlen(reqs[i]), &used, &r);
        if (rc != HTTP_OK || r.status != 501)
            fail_msg("request %zu: rc %d status %d", i, rc, r.status);
        assert_true(r.close_after);
        assert_hdr(&r, "Connection", "close");
        assert_true(r.body_len > 0);
        check_resumable(&set, reqs[i], strlen(reqs[i]));
    }
    /* an endless unknown request line is 414 at the header limit */
    struct http_settings set = test_set();
    set.max_request_bytes = 600;
    char big[1000];
    memcpy(big, "FOO /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    struct http_conn hc;
    size_t used;
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)big, sizeof big, &used, &r),
                     HTTP_OK);
    assert_int_equal(r.status, 414);
    assert_int_equal(used, 600);
}

static void test_options(void **state)
{
    (void)state;
    struct http_response r;
    static const char *const ok[] = {
        "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
        "OPTIONS /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "OPTIONS /docs/ HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ask(ok[i], &r);
        assert_int_equal(r.status, 200);
        assert_hdr(&r, "Allow", "GET, HEAD, OPTIONS");
        assert_hdr(&r, "Content-Length", "0");
        assert_hdr(&r, "Content-Type", NULL);
        assert_int_equal(r.body_len, 0);
        assert_false(r.close_after);
    }
    ask("OPTIONS /none HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
}

/* [http] max_uri_bytes and max_body_bytes */
static void test_limits_settings(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_response r;
    char req[512];

    set.max_uri_bytes = 16;
    ask_with(&set, "GET /0123456789abcde HTTP/1.1\r\nHost: t\r\n\r\n", &r); /* 16 */
    assert_int_equal(r.status, 404);
    ask_with(&set, "GET /0123456789abcdef HTTP/1.1\r\nHost: t\r\n\r\n", &r); /* 17 */
    assert_int_equal(r.status, 414);
    assert_true(r.close_after);

    set = test_set();
    set.max_body_bytes = 10;
    ask_with(&set,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789",
             &r);
    assert_int_equal(r.status, 200);
    assert_body(&r, "hello\n");
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n", &r);
    assert_int_equal(r.status, 413);
    snprintf(req, sizeof req,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n");
    struct http_conn hc;
    size_t used;
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_OK);
    assert_int_equal(r.status, 413);
    assert_true(r.close_after);
    /* a body on HEAD is read and skipped as well */
    ask_with(&set, "HEAD /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd",
             &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
}

/* The worker's header timeout: a request half-read gets a 408 that closes. */
static void test_408(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_conn hc;
    struct http_response r;
    size_t used;
    static const char part[] = "GET /a.txt HTTP/1.1\r\nHo";
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_requests(&hc), 0);
    assert_int_equal(
        http_conn_feed(&hc, (const uint8_t *)part, sizeof part - 1, &used, &r),
        HTTP_AGAIN);
    assert_true(http_conn_partial(&hc));
    http_conn_timeout(&hc, &r);
    assert_int_equal(r.status, 408);
    assert_true(r.close_after);
    assert_hdr(&r, "Connection", "close");
    assert_true(r.body_len > 0);
    assert_int_equal(http_conn_requests(&hc), 1);
    assert_false(http_conn_partial(&hc));
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)"x", 1, &used, &r), HTTP_ERROR);
}

/* Virtual hosts: Host (port, case and a trailing dot ignored) or the
 * absolute-form authority picks the cache and adds its headers. */
static void test_vhosts(void **state)
{
    (void)state;
    char err[256], vroot[64];
    snprintf(vroot, sizeof vroot, "/tmp/corehttpd-test-vhost-XXXXXX");
    assert_non_null(mkdtemp(vroot));
    char p[128];
    snprintf(p, sizeof p, "%s/index.html", vroot);
    FILE *f = fopen(p, "w");
    fputs("blog home\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/only-blog.txt", vroot);
    f = fopen(p, "w");
    fputs("blog file\n", f);
    fclose(f);
    struct cache *vc = cache_build(vroot, NULL, NULL, NULL, err, sizeof err);
    assert_non_null(vc);
    static const char vh_headers[] = "X-Site: blog\r\n";
    struct http_vhost vh = {"blog.example.org www.blog.example.org", vc, vh_headers,
                            sizeof vh_headers - 1};
    struct http_settings set = test_set();
    set.vhosts = &vh;
    set.n_vhosts = 1;
    struct http_response r;

    static const char *const blog[] = {
        "GET / HTTP/1.1\r\nHost: blog.example.org\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: BLOG.Example.ORG:8080\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: www.blog.example.org.\r\n\r\n",
        "GET http://blog.example.org/ HTTP/1.1\r\nHost: other\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof blog / sizeof blog[0]; i++) {
        ask_with(&set, blog[i], &r);
        assert_int_equal(r.status, 200);
        assert_body(&r, "blog home\n");
        assert_hdr(&r, "X-Site", "blog");
    }
    static const char *const dflt[] = {
        "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: blog.example.org.evil\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET http://t/ HTTP/1.1\r\nHost: blog.example.org\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof dflt / sizeof dflt[0]; i++) {
        ask_with(&set, dflt[i], &r);
        assert_int_equal(r.status, 200);
        assert_body(&r, "<h1>home</h1>\n");
        assert_hdr(&r, "X-Site", NULL);
    }
    ask_with(&set, "GET /only-blog.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: blog.example.org\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    assert_hdr(&r, "X-Site", "blog"); /* errors carry the host's headers too */
    ask_with(&set, "POST / HTTP/1.1\r\nHost: blog.example.org\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_hdr(&r, "X-Site", "blog");
    /* pipelined requests for two hosts on one connection */
    static const char two[] =
        "GET /only-blog.txt HTTP/1.1\r\nHost: blog.example.org\r\n\r\n"
        "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    static struct run run;
    drive(&set, two, sizeof two - 1, NULL, 0, &run);
    assert_int_equal(run.n, 2);
    assert_body(&run.r[0], "blog file\n");
    assert_body(&run.r[1], "hello\n");
    check_resumable(&set, two, sizeof two - 1);
    cache_free(vc);
    snprintf(p, sizeof p, "%s/index.html", vroot);
    unlink(p);
    snprintf(p, sizeof p, "%s/only-blog.txt", vroot);
    unlink(p);
    rmdir(vroot);
}

/* Extra headers that leave no room: a 500 without them, a whole header. */
static void test_headers_overflow(void **state)
{
    (void)state;
    static char pad[1901];
    memcpy(pad, "X-Pad: ", 7);
    memset(pad + 7, 'p', 1891);
    memcpy(pad + 1898, "\r\n", 3);
    struct http_settings set = test_set();
    set.headers = pad;
    set.headers_len = 1900;
    struct http_response r;
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 500);
    assert_true(r.close_after);
    assert_hdr(&r, "X-Pad", NULL);
    assert_true(r.hdr_len > 4);
    assert_memory_equal(r.hdr + r.hdr_len - 4, "\r\n\r\n", 4);
    set.headers_len = 900; /* fits */
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(memmem(r.hdr, r.hdr_len, "X-Pad: ppp", 10));
}

static void test_505(void **state)
{
    (void)state;
    struct http_response r;

    ask("GET / HTTP/2.0\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 505);
    assert_true(r.close_after);
    assert_int_equal(memcmp(r.hdr, "HTTP/1.1 505 HTTP Version Not Supported\r\n", 41), 0);
    ask("GET / HTTP/3.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 505);
    ask("GET / HTTP/0.9\r\n\r\n", &r);
    assert_int_equal(r.status, 505);
    ask("GET /\r\n\r\n", &r); /* HTTP/0.9 request line */
    assert_int_equal(r.status, 505);
    /* a minor version above ours is still HTTP/1.1 (RFC 9110 2.5) */
    ask("GET /a.txt HTTP/1.7\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_false(r.close_after);
    /* the HTTP/2 preface: a method http-parser does not know, version 2 */
    struct http_settings set = test_set();
    struct http_conn hc;
    size_t used;
    static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)pri, sizeof pri - 1, &used, &r),
                     HTTP_OK);
    assert_int_equal(r.status, 505);
    assert_true(r.close_after);
}

static void test_414(void **state)
{
    (void)state;
    struct http_response r;
    char req[HTTP_URL_MAX + 64];
    struct http_settings set = test_set();

    /* longer than the URL buffer, within max_request_bytes */
    int n = snprintf(req, sizeof req, "GET /");
    memset(req + n, 'a', HTTP_URL_MAX);
    snprintf(req + n + HTTP_URL_MAX, sizeof req - (size_t)n - HTTP_URL_MAX,
             " HTTP/1.1\r\nHost: t\r\n\r\n");
    ask(req, &r);
    assert_int_equal(r.status, 414);
    assert_true(r.close_after);

    /* exactly the buffer is fine */
    req[4 + HTTP_URL_MAX] = ' ';
    memcpy(req + 4 + HTTP_URL_MAX + 1, "HTTP/1.1\r\nHost: t\r\n\r\n", 22);
    ask(req, &r);
    assert_int_equal(r.status, 404);

    /* a request line over max_request_bytes is a URI too long, not 431 */
    set.max_request_bytes = 100;
    struct http_conn hc;
    size_t used;
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, 300, &used, &r), HTTP_OK);
    assert_int_equal(r.status, 414);
    assert_int_equal(used, 100);
    assert_true(r.close_after);
}

/* A request of exactly @p len bytes, padded in an X-Pad header. */
static void sized_request(char *buf, size_t len)
{
    const char *head = "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Pad: ";
    size_t hl = strlen(head);
    memcpy(buf, head, hl);
    memset(buf + hl, 'p', len - hl - 4);
    memcpy(buf + len - 4, "\r\n\r\n", 5);
}

static void test_431(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_response r;
    struct http_conn hc;
    char req[9000];
    size_t used;

    set.max_request_bytes = 128;
    sized_request(req, 128);
    ask_with(&set, req, &r);
    assert_int_equal(r.status, 200);

    sized_request(req, 129);
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, 129, &used, &r), HTTP_OK);
    assert_int_equal(r.status, 431);
    assert_true(r.close_after);
    assert_int_equal(used, 128);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req + used, 1, &used, &r),
                     HTTP_ERROR);

    /* the same, one byte at a time */
    http_conn_init(&hc, &set);
    for (size_t i = 0; i < 128; i++) {
        enum http_rc rc = http_conn_feed(&hc, (const uint8_t *)req + i, 1, &used, &r);
        if (i < 127) {
            assert_int_equal(rc, HTTP_AGAIN);
            assert_int_equal(used, 1);
            assert_true(http_conn_partial(&hc));
        } else {
            assert_int_equal(rc, HTTP_OK);
            assert_int_equal(r.status, 431);
        }
    }

    /* 0 means the default limit */
    set.max_request_bytes = 0;
    sized_request(req, HTTP_REQUEST_BYTES_DEFAULT);
    ask_with(&set, req, &r);
    assert_int_equal(r.status, 200);
    sized_request(req, HTTP_REQUEST_BYTES_DEFAULT + 1);
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_OK);
    assert_int_equal(r.status, 431);
}

static void test_413(void **state)
{
    (void)state;
    struct http_response r;
    char req[256];

    snprintf(req, sizeof req,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
             HTTP_BODY_MAX + 1);
    ask(req, &r); /* answered at the end of the headers, body unread */
    assert_int_equal(r.status, 413);
    assert_true(r.close_after);

    /* chunked: told once the body passes the limit */
    int hl =
        snprintf(req, sizeof req,
                 "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "%x\r\n",
                 HTTP_BODY_MAX + 10);
    size_t len = (size_t)hl + HTTP_BODY_MAX + 10;
    char *big = malloc(len);
    assert_non_null(big);
    memcpy(big, req, (size_t)hl);
    memset(big + hl, 'b', HTTP_BODY_MAX + 10);
    struct http_settings set = test_set();
    struct http_conn hc;
    size_t used;
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)big, len, &used, &r), HTTP_OK);
    assert_int_equal(r.status, 413);
    assert_true(r.close_after);
    assert_true(used <= len);
    free(big);

    /* at the limit, the body is read and skipped */
    snprintf(req, sizeof req,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
             HTTP_BODY_MAX);
    len = strlen(req) + HTTP_BODY_MAX;
    big = malloc(len);
    assert_non_null(big);
    memcpy(big, req, strlen(req));
    memset(big + strlen(req), 'b', HTTP_BODY_MAX);
    http_conn_init(&hc, &set);
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)big, len, &used, &r), HTTP_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(used, len);
    free(big);
}

/* ------------------------------------------------------------------ */
/* Ranges (RFC 9110 14) and preconditions (13.1, 13.2)                 */

static void test_range_parse(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        uint64_t size;
        int n;
        struct http_range r[3];
    } cases[] = {
        {"bytes=0-0", 20, 1, {{0, 0}}},
        {"bytes=0-9", 20, 1, {{0, 9}}},
        {"bytes=5-", 20, 1, {{5, 19}}},
        {"bytes=-5", 20, 1, {{15, 19}}},
        {"bytes=-25", 20, 1, {{0, 19}}},
        {"bytes=10-99", 20, 1, {{10, 19}}},
        {"bytes=19-19", 20, 1, {{19, 19}}},
        {"BYTES=1-2", 20, 1, {{1, 2}}},
        {" bytes=1-2 ", 20, 1, {{1, 2}}},
        {"bytes=0-1,3-4", 20, 2, {{0, 1}, {3, 4}}},
        {"bytes=0-1, -2 ,5-", 20, 3, {{0, 1}, {18, 19}, {5, 19}}},
        {"bytes=,0-1,,", 20, 1, {{0, 1}}},
        {"bytes=20-30,0-0", 20, 1, {{0, 0}}}, /* the unsatisfiable one dropped */
        {"bytes=0-99999999999999999999999", 20, 1, {{0, 19}}},
        {"bytes=20-", 20, 0, {{0, 0}}},
        {"bytes=20-30", 20, 0, {{0, 0}}},
        {"bytes=-0", 20, 0, {{0, 0}}},
        {"bytes=0-", 0, 0, {{0, 0}}},
        {"bytes=-1", 0, 0, {{0, 0}}},
        {"bytes=5-4", 20, -1, {{0, 0}}},
        {"bytes=", 20, -1, {{0, 0}}},
        {"bytes=a-b", 20, -1, {{0, 0}}},
        {"bytes=1", 20, -1, {{0, 0}}},
        {"bytes=-", 20, -1, {{0, 0}}},
        {"bytes=1-2-3", 20, -1, {{0, 0}}},
        {"bytes=1 -2", 20, -1, {{0, 0}}},
        {"bytes 1-2", 20, -1, {{0, 0}}},
        {"items=1-2", 20, -1, {{0, 0}}},
        {"", 20, -1, {{0, 0}}},
        {"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8", 20, -1, {{0, 0}}}, /* > max */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_range out[HTTP_RANGES_MAX];
        int n = http_range_parse(cases[i].v, strlen(cases[i].v), cases[i].size, out,
                                 HTTP_RANGES_MAX);
        if (n != cases[i].n)
            fail_msg("'%s': %d ranges, want %d", cases[i].v, n, cases[i].n);
        for (int k = 0; k < n; k++)
            if (out[k].first != cases[i].r[k].first || out[k].last != cases[i].r[k].last)
                fail_msg("'%s' range %d: %lu-%lu", cases[i].v, k,
                         (unsigned long)out[k].first, (unsigned long)out[k].last);
    }
}

static void get_range(const char *range, const char *extra, struct http_response *r)
{
    char req[512];
    snprintf(req, sizeof req, "GET /d.txt HTTP/1.1\r\nHost: t\r\nRange: %s\r\n%s\r\n",
             range, extra ? extra : "");
    ask(req, r);
}

/* The body a response would put on the wire, pieces joined. */
static size_t wire_body(const struct http_response *r, char *out, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < r->n_pieces; i++) {
        assert_true(n + r->piece[i].len <= cap);
        memcpy(out + n, r->piece[i].p, r->piece[i].len);
        n += r->piece[i].len;
    }
    return n;
}

static void test_206(void **state)
{
    (void)state;
    struct http_response r;
    const struct cache_file *cf = file("/d.txt");
    char body[2048], want[2048];

    get_range("bytes=2-5", NULL, &r);
    assert_int_equal(r.status, 206);
    assert_hdr(&r, "Content-Range", "bytes 2-5/20");
    assert_hdr(&r, "Content-Length", "4");
    assert_hdr(&r, "Accept-Ranges", "bytes");
    assert_hdr(&r, "ETag", cf->etag);
    assert_ptr_equal(r.body, cf->data + 2); /* by reference into the cache */
    assert_body(&r, "2345");
    assert_int_equal(r.n_pieces, 1);
    assert_true(r.piece[0].ref);
    assert_false(r.close_after);

    get_range("bytes=-3", NULL, &r);
    assert_hdr(&r, "Content-Range", "bytes 17-19/20");
    assert_body(&r, "hij");
    get_range("bytes=15-", NULL, &r);
    assert_hdr(&r, "Content-Range", "bytes 15-19/20");
    assert_body(&r, "fghij");
    get_range("bytes=18-100", NULL, &r);
    assert_body(&r, "ij");

    /* several: multipart/byteranges, part headers copied, data by reference */
    get_range("bytes=0-1,-2", NULL, &r);
    assert_int_equal(r.status, 206);
    char ct[128];
    assert_non_null(hdr(&r, "Content-Type", ct, sizeof ct));
    const char *bnd = strstr(ct, "boundary=");
    assert_int_equal(strncmp(ct, "multipart/byteranges; boundary=", 31), 0);
    assert_non_null(bnd);
    bnd += 9;
    assert_hdr(&r, "Content-Range", NULL);
    size_t n = wire_body(&r, body, sizeof body);
    int wl = snprintf(want, sizeof want,
                      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Range: bytes 0-1/20\r\n\r\n01\r\n"
                      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Range: bytes 18-19/20\r\n\r\nij\r\n--%s--\r\n",
                      bnd, bnd, bnd);
    assert_int_equal(n, (size_t)wl);
    assert_memory_equal(body, want, n);
    assert_int_equal(r.body_len, n);
    char cl[32];
    snprintf(cl, sizeof cl, "%zu", n);
    assert_hdr(&r, "Content-Length", cl);
    assert_int_equal(r.n_pieces, 5);
    assert_true(r.piece[1].ref && r.piece[3].ref);
    assert_ptr_equal(r.piece[1].p, cf->data);
    assert_ptr_equal(r.piece[3].p, cf->data + 18);
    assert_false(r.piece[0].ref || r.piece[2].ref || r.piece[4].ref);

    /* one satisfiable among several: a plain 206 */
    get_range("bytes=50-60,3-3", NULL, &r);
    assert_int_equal(r.status, 206);
    assert_hdr(&r, "Content-Range", "bytes 3-3/20");
    assert_body(&r, "3");

    /* none satisfiable: 416 with the length */
    get_range("bytes=20-", NULL, &r);
    assert_int_equal(r.status, 416);
    assert_hdr(&r, "Content-Range", "bytes */20");
    assert_false(r.close_after);

    /* ignored: bad syntax, another unit, too many, two fields, HEAD */
    static const char *const ignored[] = {"bytes=5-1", "lines=1-2", "bytes=x",
                                          "bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        get_range(ignored[i], NULL, &r);
        assert_int_equal(r.status, 200);
        assert_body(&r, "0123456789abcdefghij");
    }
    get_range("bytes=0-1", "Range: bytes=2-3\r\n", &r);
    assert_int_equal(r.status, 200);
    ask("HEAD /d.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_hdr(&r, "Content-Length", "20");
    assert_int_equal(r.n_pieces, 0);

    /* If-Range: the strong ETag or the exact date keeps the range */
    char extra[256];
    snprintf(extra, sizeof extra, "If-Range: %s\r\n", cf->etag);
    get_range("bytes=0-1", extra, &r);
    assert_int_equal(r.status, 206);
    get_range("bytes=0-1", "If-Range: \"other\"\r\n", &r);
    assert_int_equal(r.status, 200);
    snprintf(extra, sizeof extra, "If-Range: W/%s\r\n", cf->etag);
    get_range("bytes=0-1", extra, &r);
    assert_int_equal(r.status, 200);
    get_range("bytes=0-1", "If-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n", &r);
    assert_int_equal(r.status, 206);
    get_range("bytes=0-1", "If-Range: Sun, 06 Nov 1994 08:49:38 GMT\r\n", &r);
    assert_int_equal(r.status, 200);
    get_range("bytes=0-1", "If-Range: garbage\r\n", &r);
    assert_int_equal(r.status, 200);
    /* a date that starts with a W is a date, not a weak entity tag */
    ask("GET /wed.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\n"
        "If-Range: Wed, 09 Nov 1994 08:49:37 GMT\r\n\r\n",
        &r);
    assert_int_equal(r.status, 206);
    assert_hdr(&r, "Last-Modified", "Wed, 09 Nov 1994 08:49:37 GMT");

    /* a range request split at every byte gives the same answer */
    static const char req[] =
        "GET /d.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=1-2,4-\r\n\r\n"
        "GET /d.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=-1\r\n\r\n";
    struct http_settings set = test_set();
    check_resumable(&set, req, sizeof req - 1);
}

static void test_412(void **state)
{
    (void)state;
    struct http_response r;
    const struct cache_file *cf = file("/a.txt");
    char req[512];

    static const char *const fail412[] = {
        "If-Match: \"nope\"",
        "If-Match: W/\"nope\", \"x\"",
        "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT",
        "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT",
    };
    for (size_t i = 0; i < sizeof fail412 / sizeof fail412[0]; i++) {
        snprintf(req, sizeof req, "GET /a.txt HTTP/1.1\r\nHost: t\r\n%s\r\n\r\n",
                 fail412[i]);
        ask(req, &r);
        if (r.status != 412)
            fail_msg("%s: %d", fail412[i], r.status);
        assert_false(r.close_after);
        assert_true(r.body_len > 0);
    }
    /* a weak tag never matches If-Match (strong comparison) */
    snprintf(req, sizeof req, "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: W/%s\r\n\r\n",
             cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 412);

    const char *pass[] = {
        "If-Match: *",
        NULL, /* our tag, filled below */
        "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
        "If-Unmodified-Since: Tue, 14 Nov 2023 22:13:20 GMT",
        "If-Unmodified-Since: not a date", /* invalid: ignored */
    };
    char mine[128];
    snprintf(mine, sizeof mine, "If-Match: \"x\", %s", cf->etag);
    pass[1] = mine;
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        snprintf(req, sizeof req, "GET /a.txt HTTP/1.1\r\nHost: t\r\n%s\r\n\r\n",
                 pass[i]);
        ask(req, &r);
        if (r.status != 200)
            fail_msg("%s: %d", pass[i], r.status);
    }
    /* If-Match wins over If-Unmodified-Since; a 412 comes before a 304 */
    snprintf(req, sizeof req,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: %s\r\n"
             "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
             cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 200);
    snprintf(
        req, sizeof req,
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"no\"\r\nIf-None-Match: %s\r\n\r\n",
        cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 412);
    /* a precondition that holds, then a range */
    snprintf(req, sizeof req,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: %s\r\nRange: bytes=0-0\r\n\r\n",
             cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 206);
    assert_body(&r, "h");
    /* and 304 wins over a range */
    snprintf(
        req, sizeof req,
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\nRange: bytes=0-0\r\n\r\n",
        cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 304);
}

/* ------------------------------------------------------------------ */
/* Content: gzip twins, Cache-Control, extra headers, error pages      */

static void test_accepts_gzip(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        bool yes;
    } cases[] = {
        {"gzip", true},
        {"GZIP", true},
        {"x-gzip", true},
        {"deflate, gzip;q=0.5", true},
        {"gzip;q=1.0, br", true},
        {"gzip ; q=0.001", true},
        {"*", true},
        {"*;q=0.1", true},
        {"br, *", true},
        {"", false},
        {"br", false},
        {"gzip;q=0", false},
        {"gzip;q=0.000", false},
        {"gzip;Q=0.0, *", false}, /* named and refused: the star does not bring it back */
        {"*;q=0", false},
        {"identity", false},
        {"gzipx", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (http_accepts_gzip(cases[i].v, strlen(cases[i].v)) != cases[i].yes)
            fail_msg("'%s': want %d", cases[i].v, cases[i].yes);
}

static void test_gzip_static(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_response r;
    const struct cache_file *plain = file("/g.css"), *gz = file("/g.css.gz");
    assert_ptr_equal(plain->gz, gz);
    assert_null(file("/a.txt")->gz);

    set.gzip_static = true;
    ask_with(&set, "GET /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n",
             &r);
    assert_int_equal(r.status, 200);
    assert_body(&r, "GZIPPED");
    assert_hdr(&r, "Content-Encoding", "gzip");
    assert_hdr(&r, "Content-Type", plain->mime); /* the type of what it encodes */
    assert_hdr(&r, "Vary", "Accept-Encoding");
    assert_hdr(&r, "ETag", gz->etag); /* another representation, another tag */

    ask_with(&set, "GET /g.css HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_body(&r, "plain{}\n");
    assert_hdr(&r, "Content-Encoding", NULL);
    assert_hdr(&r, "Vary", "Accept-Encoding"); /* both forms carry Vary */
    ask_with(&set, "GET /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0\r\n\r\n",
             &r);
    assert_body(&r, "plain{}\n");

    /* a range applies to the gzip bytes; HEAD tells the gzip length */
    ask_with(&set,
             "GET /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nRange: "
             "bytes=0-1\r\n\r\n",
             &r);
    assert_int_equal(r.status, 206);
    assert_body(&r, "GZ");
    assert_hdr(&r, "Content-Range", "bytes 0-1/7");
    assert_hdr(&r, "Content-Encoding", "gzip");
    ask_with(&set, "HEAD /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n",
             &r);
    assert_hdr(&r, "Content-Length", "7");
    assert_int_equal(r.body_len, 0);
    /* 304 against the gzip tag keeps Vary, drops the encoding */
    char req[256];
    snprintf(req, sizeof req,
             "GET /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nIf-None-Match: "
             "%s\r\n\r\n",
             gz->etag);
    ask_with(&set, req, &r);
    assert_int_equal(r.status, 304);
    assert_hdr(&r, "Vary", "Accept-Encoding");
    /* no twin: no Vary; gzip_static off: never the twin */
    ask_with(&set, "GET /a.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n", &r);
    assert_hdr(&r, "Vary", NULL);
    set.gzip_static = false;
    ask_with(&set, "GET /g.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n", &r);
    assert_body(&r, "plain{}\n");
    assert_hdr(&r, "Vary", NULL);
    /* the twin itself is a file like any other */
    ask_with(&set, "GET /g.css.gz HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_body(&r, "GZIPPED");
    assert_hdr(&r, "Content-Type", "application/gzip");
}

static void test_expires_headers_pages(void **state)
{
    (void)state;
    char err[256];
    static const struct cache_expires rules[] = {
        {"css", 3600},
        {".TXT", 60},
        {"/docs/", 86400},
        {"/docs/x", 7},
    };
    struct cache_opts o = {.expires = rules, .n_expires = 4};
    struct cache *c = cache_build_opts(test_root, &o, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(cache_lookup(c, "/g.css", 6, NULL)->max_age, 3600);
    assert_int_equal(cache_lookup(c, "/a.txt", 6, NULL)->max_age, 60);
    assert_int_equal(cache_lookup(c, "/docs/index.html", 16, NULL)->max_age, 86400);
    assert_int_equal(cache_lookup(c, "/docs/x.css", 11, NULL)->max_age, 7); /* longest */
    assert_int_equal(cache_lookup(c, "/index.html", 11, NULL)->max_age, -1);

    static const char extra[] = "Strict-Transport-Security: max-age=63072000\r\n"
                                "X-Frame-Options: DENY\r\n";
    static const struct http_error_page pages[] = {{404, "/oops.html"}};
    struct http_settings set = test_set();
    set.cache = c;
    set.headers = extra;
    set.headers_len = sizeof extra - 1;
    set.error_pages = pages;
    set.n_error_pages = 1;
    struct http_response r;

    ask_with(&set, "GET /g.css HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_hdr(&r, "Cache-Control", "max-age=3600");
    assert_hdr(&r, "Expires", "Tue, 14 Nov 2023 23:13:20 GMT"); /* T_NOW + 1 h */
    assert_hdr(&r, "Strict-Transport-Security", "max-age=63072000");
    assert_hdr(&r, "X-Frame-Options", "DENY");
    ask_with(&set, "GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_hdr(&r, "Cache-Control", NULL);
    assert_hdr(&r, "Expires", NULL);

    /* the custom 404 page, with its own type; other errors keep theirs */
    ask_with(&set, "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    assert_body(&r, "<p>custom 404</p>\n");
    assert_hdr(&r, "Content-Type", "text/html; charset=utf-8");
    assert_hdr(&r, "Content-Length", "18");
    assert_hdr(&r, "X-Frame-Options", "DENY"); /* on errors too */
    assert_false(r.close_after);
    ask_with(&set, "HEAD /nothing HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_hdr(&r, "Content-Length", "18");
    assert_int_equal(r.body_len, 0);
    ask_with(&set, "POST / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_hdr(&r, "Content-Type", "text/html");
    assert_non_null(strstr((const char *)r.body, "405 Method Not Allowed"));
    cache_free(c);
}

/* ------------------------------------------------------------------ */
/* URL decoding and normalisation                                      */

static void test_url_paths(void **state)
{
    (void)state;
    static const struct {
        const char *target;
        int status;
        const char *body;
    } cases[] = {
        {"/a.txt", 200, "hello\n"},
        {"/sp%20ace.txt", 200, "space\n"},
        {"/%61.txt", 200, "hello\n"},
        {"/%61%2E%74%78%74", 200, "hello\n"},
        {"/docs/./x.css", 200, "x{}\n"},
        {"//docs//x.css", 200, "x{}\n"},
        {"/docs/../a.txt", 200, "hello\n"},
        {"/docs/sub/../x.css", 200, "x{}\n"},
        {"/docs/%2e%2e/a.txt", 200, "hello\n"},
        {"/docs%2fx.css", 200, "x{}\n"},
        {"/docs/.", 200, "docs\n"},
        {"/docs/./", 200, "docs\n"},
        {"/docs/..", 200, "<h1>home</h1>\n"},
        {"/docs/x.css/..", 200, "docs\n"},
        {"/./a.txt", 200, "hello\n"},
        {"/a.txt?x=1&y=../../", 200, "hello\n"},
        {"/a.txt?", 200, "hello\n"},
        {"/a.txt#frag", 200, "hello\n"},
        {"/a.txt...", 404, NULL},
        {"/dir%20one/", 200, "one\n"},
        {"http://example.com/a.txt", 200, "hello\n"},
        {"HTTP://EXAMPLE.COM:8080/a.txt?q", 200, "hello\n"},
        {"https://example.com/docs/x.css", 200, "x{}\n"},
        {"http://example.com", 200, "<h1>home</h1>\n"},
        {"http://example.com?q=1", 200, "<h1>home</h1>\n"},
        {"/..", 400, NULL},
        {"/../a.txt", 400, NULL},
        {"/%2e%2e/a.txt", 400, NULL},
        {"/%2E%2E", 400, NULL},
        {"/./../a.txt", 400, NULL},
        {"/docs/../../a.txt", 400, NULL},
        {"/a/b/../../../x", 400, NULL},
        {"/..%2fa.txt", 400, NULL},
        {"/%zz", 400, NULL},
        {"/%4", 400, NULL},
        {"/%", 400, NULL},
        {"/a%2", 400, NULL},
        {"/%00", 400, NULL},
        {"/a%00.txt", 400, NULL},
        {"/%g1", 400, NULL},
        {"ftp://example.com/a.txt", 400, NULL},
        {"/docs\\x.css", 400, NULL},
        {"/docs%5cx.css", 400, NULL},
        {"/..%5c..%5ca.txt", 400, NULL},
        {"/%c0%ae%c0%ae/a.txt", 400, NULL}, /* overlong "." */
        {"/%c0%afa.txt", 400, NULL},        /* overlong "/" */
        {"/%e0%80%ae%e0%80%ae/a.txt", 400, NULL},
        {"/%c1%9c", 400, NULL},
        {"/%ed%a0%80", 400, NULL}, /* a surrogate */
        {"/%f4%90%80%80", 400, NULL},
        {"/%ff", 400, NULL},
        {"/%c3", 400, NULL},
        {"/%c3%a9.txt", 404, NULL}, /* valid UTF-8, no such file */
        {"/%25", 404, NULL},
        {"/%2e%2e%2f%2e%2e%2fa.txt", 400, NULL},
        {"/docs/%2e%2e%2f%2e%2e%2fa.txt", 400, NULL},
        {"/docs/..%2f..%2f..%2fa.txt", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_response r;
        int st = get_status(cases[i].target, &r);
        if (st != cases[i].status)
            fail_msg("%s: status %d, want %d", cases[i].target, st, cases[i].status);
        if (cases[i].body)
            assert_body(&r, cases[i].body);
        assert_int_equal(r.close_after, st == 400);
    }
}

static void test_301(void **state)
{
    (void)state;
    static const struct {
        const char *target;
        const char *location;
    } cases[] = {
        {"/docs", "/docs/"},
        {"/docs?a=1&b=%20", "/docs/?a=1&b=%20"},
        {"/dir%20one", "/dir%20one/"},
        {"/docs/../docs", "/docs/"},
        {"//docs", "/docs/"},
        {"http://example.com/docs", "/docs/"},
        /* decoded CR LF must not split the header */
        {"/evil%0D%0ASet-Cookie:%20a=b", "/evil%0D%0ASet-Cookie:%20a=b/"},
        {"/docs?\x80\t", "/docs/?%80%09"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_response r;
        if (get_status(cases[i].target, &r) != 301)
            fail_msg("%s: status %d", cases[i].target, r.status);
        assert_hdr(&r, "Location", cases[i].location);
        assert_hdr(&r, "Set-Cookie", NULL);
        assert_false(r.close_after);
        assert_true(r.body_len > 0);
    }

    /* Too long to redirect to within HTTP_HDR_MAX (here with 900 bytes of
     * extra headers from the config): 414. */
    char target[2 * (3 * LONG_DIR_CHARS + 1) + 2], *p = target;
    for (int d = 0; d < 2; d++) {
        *p++ = '/';
        for (int i = 0; i < LONG_DIR_CHARS; i++)
            p += sprintf(p, "%%25");
    }
    static char pad[901];
    memcpy(pad, "X-Pad: ", 7);
    memset(pad + 7, 'p', 891);
    memcpy(pad + 898, "\r\n", 3);
    struct http_settings set = test_set();
    set.headers = pad;
    set.headers_len = 900;
    struct http_response r;
    char req[2 * sizeof target];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    ask_with(&set, req, &r);
    assert_int_equal(r.status, 414);
    assert_true(r.close_after);
    assert_true(strlen(target) + 1 < sizeof target);
    assert_int_equal(get_status(target, &r), 301); /* fits without them */
    strcat(target, "/");
    assert_int_equal(get_status(target, &r), 200);
    assert_body(&r, "deep\n");
}

/* ------------------------------------------------------------------ */
/* Conditional requests                                                */

static void test_304(void **state)
{
    (void)state;
    const struct cache_file *cf = file("/a.txt");
    char h[512];
    static const struct {
        const char *fmt; /* %s: the file's ETag */
        int status;
    } cases[] = {
        {"If-None-Match: %s\r\n", 304},
        {"If-None-Match: *\r\n", 304},
        {"If-None-Match: \"x\", %s\r\n", 304},
        {"If-None-Match: \"x\",%s,\"y\"\r\n", 304},
        {"If-None-Match: W/%s\r\n", 304},
        {"If-None-Match: \"x\"\r\nIf-None-Match: %s\r\n", 304},
        {"If-None-Match: \"x\"\r\n", 200},
        {"If-None-Match: %.5s\r\n", 200},     /* cut: unterminated */
        {"If-None-Match: nope, %s\r\n", 200}, /* unquoted: invalid list */
        {"If-None-Match: \"x\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
         200}, /* If-None-Match wins */
        {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 304},
        {"If-Modified-Since: Mon, 07 Nov 1994 00:00:00 GMT\r\n", 304},
        {"If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200},
        {"If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", 304},
        {"If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", 304},
        {"If-Modified-Since: yesterday\r\n", 200},
        {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
         "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
         200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[1024];
        struct http_response r;
        snprintf(h, sizeof h, cases[i].fmt, cf->etag);
        snprintf(req, sizeof req, "GET /a.txt HTTP/1.1\r\nHost: t\r\n%s\r\n", h);
        ask(req, &r);
        if (r.status != cases[i].status)
            fail_msg("%s: status %d", h, r.status);
        assert_false(r.close_after);
        if (r.status == 304) {
            assert_int_equal(r.body_len, 0);
            assert_hdr(&r, "ETag", cf->etag);
            assert_hdr(&r, "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
            assert_hdr(&r, "Content-Length", NULL);
            assert_hdr(&r, "Content-Type", NULL);
            assert_hdr(&r, "Date", "Tue, 14 Nov 2023 22:13:20 GMT");
            assert_hdr(&r, "Connection", "keep-alive");
        }
    }
    /* HEAD too; and a missing file stays 404 */
    struct http_response r;
    char req[512];
    snprintf(req, sizeof req,
             "HEAD /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n\r\n", cf->etag);
    ask(req, &r);
    assert_int_equal(r.status, 304);
    ask("GET /nope HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
}

/* ------------------------------------------------------------------ */
/* Keep-alive                                                          */

static void test_keepalive_matrix(void **state)
{
    (void)state;
    static const struct {
        const char *version;
        const char *conn; /* Connection header line or "" */
        bool close;
    } cases[] = {
        {"HTTP/1.1", "", false},
        {"HTTP/1.1", "Connection: close\r\n", true},
        {"HTTP/1.1", "Connection: Close\r\n", true},
        {"HTTP/1.1", "Connection: keep-alive\r\n", false},
        {"HTTP/1.1", "Connection: te, close\r\n", true},
        {"HTTP/1.0", "", true},
        {"HTTP/1.0", "Connection: close\r\n", true},
        {"HTTP/1.0", "Connection: keep-alive\r\n", false},
        {"HTTP/1.0", "Connection: Keep-Alive\r\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int ka = 0; ka < 2; ka++) {
            struct http_settings set = test_set();
            struct http_response r;
            char req[256];
            set.keepalive = ka;
            snprintf(req, sizeof req, "GET /a.txt %s\r\nHost: t\r\n%s\r\n",
                     cases[i].version, cases[i].conn);
            ask_with(&set, req, &r);
            bool close = cases[i].close || !ka;
            assert_int_equal(r.status, 200);
            if (r.close_after != close)
                fail_msg("%s %s keepalive=%d", cases[i].version, cases[i].conn, ka);
            assert_hdr(&r, "Connection", close ? "close" : "keep-alive");
        }
    }
}

static void test_keepalive_requests(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_conn hc;
    struct http_response r;
    size_t used;
    const char *req = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";

    set.keepalive_requests = 3;
    http_conn_init(&hc, &set);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(
            http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r), HTTP_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.close_after, i == 3);
        assert_hdr(&r, "Connection", i == 3 ? "close" : "keep-alive");
    }
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_ERROR);

    set.keepalive_requests = 0; /* no limit */
    http_conn_init(&hc, &set);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(
            http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r), HTTP_OK);
        assert_false(r.close_after);
    }
}

/* ------------------------------------------------------------------ */
/* Pipelining and bodies                                               */

static void test_pipeline(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_conn hc;
    struct http_response r;
    const char *reqs[] = {
        "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "HEAD /docs/x.css HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    const int want[] = {200, 200, 404};
    char buf[512] = "";
    size_t used, pos = 0, len;

    for (int i = 0; i < 3; i++)
        strcat(buf, reqs[i]);
    len = strlen(buf);
    http_conn_init(&hc, &set);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            http_conn_feed(&hc, (const uint8_t *)buf + pos, len - pos, &used, &r),
            HTTP_OK);
        assert_int_equal(used, strlen(reqs[i]));
        assert_int_equal(r.status, want[i]);
        assert_false(r.close_after);
        pos += used;
    }
    assert_int_equal(pos, len);
    assert_non_null(strstr((const char *)r.body, "404 Not Found"));
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)buf, 0, &used, &r), HTTP_AGAIN);
    assert_int_equal(used, 0);
    assert_false(http_conn_partial(&hc));
}

static void test_pipeline_close_stops(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct run run;
    const char *buf = "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      "GET /docs/x.css HTTP/1.1\r\nHost: t\r\n\r\n";
    drive(&set, buf, strlen(buf), NULL, 0, &run);
    assert_int_equal(run.n, 1);
    assert_true(run.r[0].close_after);
    assert_int_equal(run.used,
                     strlen(buf) - strlen("GET /docs/x.css HTTP/1.1\r\nHost: t\r\n\r\n"));
}

static void test_body_skipped(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct run run;
    const char *buf =
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
        "GET /docs/x.css HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nGET /\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\nIf-None-Match: *\r\n\r\n"
        "POST /docs/ HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nGET "
        "\r\nGET /docs/ HTTP/1.1\r\nHost: t\r\n\r\n";

    drive(&set, buf, strlen(buf), NULL, 0, &run);
    assert_int_equal(run.n, 4);
    assert_int_equal(run.used, strlen(buf));
    assert_int_equal(run.r[0].status, 200);
    assert_body(&run.r[0], "hello\n");
    assert_int_equal(run.r[1].status, 200); /* the trailer's If-None-Match is ignored */
    assert_body(&run.r[1], "x{}\n");
    assert_int_equal(run.r[2].status, 405);
    assert_int_equal(run.r[3].status, 200); /* a CRLF between requests is allowed */
    assert_body(&run.r[3], "docs\n");
}

static void test_upgrade_ignored(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct run run;
    const char *buf = "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                      "Upgrade: websocket\r\n\r\n"
                      "GET /docs/x.css HTTP/1.1\r\nHost: t\r\n\r\n";
    drive(&set, buf, strlen(buf), NULL, 0, &run);
    assert_int_equal(run.n, 2);
    assert_int_equal(run.r[0].status, 200);
    assert_int_equal(run.r[1].status, 200);
    assert_body(&run.r[1], "x{}\n");
}

static void test_partial(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_conn hc;
    struct http_response r;
    size_t used;

    http_conn_init(&hc, &set);
    assert_false(http_conn_partial(&hc));
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)"\r\n", 2, &used, &r),
                     HTTP_AGAIN);
    assert_false(http_conn_partial(&hc));
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)"GET / HT", 8, &used, &r),
                     HTTP_AGAIN);
    assert_int_equal(used, 8);
    assert_true(http_conn_partial(&hc));
    assert_int_equal(
        http_conn_feed(&hc, (const uint8_t *)"TP/1.1\r\nHost: t\r\n\r\n", 19, &used, &r),
        HTTP_OK);
    assert_int_equal(r.status, 200);
    assert_false(http_conn_partial(&hc));
    /* in a body */
    const char *req = "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nab";
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_AGAIN);
    assert_true(http_conn_partial(&hc));
}

/* ------------------------------------------------------------------ */
/* Resumable parsing                                                   */

static void test_split_every_byte(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    const struct cache_file *cf = file("/a.txt");
    char inm[256];
    snprintf(inm, sizeof inm,
             "GET /a.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: curl/7.88.1\r\n"
             "Accept: */*\r\nIf-None-Match: \"zz\", %s\r\n\r\n",
             cf->etag);
    const char *reqs[] = {
        "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        inm,
        "GET /a.txt HTTP/1.1\r\nHost: t\r\n"
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
        "GET /docs?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /sp%20ace.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /docs/./../docs/x.css HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET http://example.com/a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n",
        "\r\nGET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\n\r\n",
        "GET /a.txt HTTP/1.1\nHost: t\n\n", /* bare LF */
        "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;e=v\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
        /* answered at the end too, with close */
        "GET /../a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : t\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n",
        /* pipelines */
        "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nHEAD /docs/ HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /docs HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nxy"
        "GET /docs/x.css HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "1\r\nz\r\n0\r\n\r\nGET /empty.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        check_resumable(&set, reqs[i], strlen(reqs[i]));
}

/* Errors found mid-request are answered when the bad byte arrives, however
 * the bytes are split. */
static void test_split_errors(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    const char *reqs[] = {
        "GET / HTTP/1.1\r\nHost: t\r\nA: \x01\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        check_resumable(&set, reqs[i], strlen(reqs[i]));

    set.max_request_bytes = 64;
    char big[200];
    sized_request(big, sizeof big - 1);
    check_resumable(&set, big, strlen(big));
}

/* ------------------------------------------------------------------ */
/* Dates                                                               */

static void test_http_date(void **state)
{
    (void)state;
    char out[30];
    static const struct {
        int64_t t;
        const char *s;
    } cases[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {1700000000, "Tue, 14 Nov 2023 22:13:20 GMT"},
        {4107542399, "Sun, 28 Feb 2100 23:59:59 GMT"},
        {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {-5, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_date(cases[i].t, out);
        assert_string_equal(out, cases[i].s);
    }

    /* against the C library, and back through the parser */
    for (int64_t t = 0; t < INT64_C(253402300799); t += 86400 * 13 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        char want[64];
        int64_t back;
        gmtime_r(&tt, &tm);
        strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        http_date(t, out);
        assert_string_equal(out, want);
        assert_int_equal(http_date_parse(out, 29, &back), 0);
        assert_int_equal(back, t);
    }
}

static void test_http_date_parse(void **state)
{
    (void)state;
    int64_t t;
    static const char *const good[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",      "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",           "Sun Nov 06 08:49:37 1994",
        "  Sun, 06 Nov 1994 08:49:37 GMT \t",
    };
    static const char *const bad[] = {
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nvv 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov  6 08:49:37 94",
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        t = 0;
        if (http_date_parse(good[i], strlen(good[i]), &t) != 0)
            fail_msg("rejected: %s", good[i]);
        assert_int_equal(t, 784111777);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (http_date_parse(bad[i], strlen(bad[i]), &t) == 0)
            fail_msg("accepted: %s", bad[i]);
    /* two-digit years: 00-69 are 20xx */
    assert_int_equal(http_date_parse("Friday, 01-Jan-38 00:00:00 GMT", 30, &t), 0);
    assert_int_equal(t, INT64_C(2145916800));
}

/* [http] redirect_https: every request to the same host and target over
 * https, the port shown unless 443; no usable host is a 400. */
static void test_redirect_https(void **state)
{
    (void)state;
    struct http_settings set = test_set();
    struct http_response r;
    set.redirect_https_port = 443;
    ask_with(&set,
             "GET /docs/a%20b.html?x=1&y HTTP/1.1\r\nHost: WWW.Example.test:80\r\n\r\n",
             &r);
    assert_int_equal(r.status, 301);
    assert_hdr(&r, "Location", "https://WWW.Example.test/docs/a%20b.html?x=1&y");
    assert_false(r.close_after);
    ask_with(&set, "GET http://h.test:8080/x HTTP/1.1\r\nHost: other.test\r\n\r\n", &r);
    assert_hdr(&r, "Location", "https://h.test/x");
    set.redirect_https_port = 8443;
    ask_with(&set, "HEAD /index.html HTTP/1.1\r\nHost: h.test\r\n\r\n", &r);
    assert_int_equal(r.status, 301);
    assert_hdr(&r, "Location", "https://h.test:8443/index.html");
    ask_with(&set, "GET / HTTP/1.0\r\n\r\n", &r); /* no Host at all */
    assert_int_equal(r.status, 400);
    ask_with(&set, "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", &r);
    assert_int_equal(r.status, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_200_headers),
        cmocka_unit_test(test_head_no_body),
        cmocka_unit_test(test_empty_file_and_server_name),
        cmocka_unit_test(test_date_follows_clock),
        cmocka_unit_test(test_404),
        cmocka_unit_test(test_405),
        cmocka_unit_test(test_400),
        cmocka_unit_test(test_501),
        cmocka_unit_test(test_408),
        cmocka_unit_test(test_headers_overflow),
        cmocka_unit_test(test_vhosts),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_limits_settings),
        cmocka_unit_test(test_505),
        cmocka_unit_test(test_414),
        cmocka_unit_test(test_431),
        cmocka_unit_test(test_413),
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_206),
        cmocka_unit_test(test_412),
        cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_gzip_static),
        cmocka_unit_test(test_expires_headers_pages),
        cmocka_unit_test(test_url_paths),
        cmocka_unit_test(test_301),
        cmocka_unit_test(test_304),
        cmocka_unit_test(test_keepalive_matrix),
        cmocka_unit_test(test_keepalive_requests),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipeline_close_stops),
        cmocka_unit_test(test_body_skipped),
        cmocka_unit_test(test_upgrade_ignored),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_split_every_byte),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_http_date_parse),
        cmocka_unit_test(test_redirect_https),
    };
    return cmocka_run_group_tests(tests, site_setup, site_teardown);
}
