/**
 * @file fuzz_http.c
 * libFuzzer harness: request bytes into the HTTP connection handler
 * (http_conn_feed) over a small in-memory site.
 *
 * Input: settings:u8 split:u8[3] then the bytes a client sends.
 *   settings bit 0     keep-alive
 *            bits 1-2  keepalive_requests: 0 (no limit), 1, 2, 100
 *            bits 3-4  max_request_bytes: 0 (the default), 64, 512, 8192
 *            bit 5     no Server header
 *   split    seeds the points where the bytes are cut into the pieces that
 *            arrive one after the other (a piece is 1 byte to 2^k bytes long,
 *            k also from the seed), as a client's segments would.
 *
 * The bytes go through two connections: one fed everything at once, the
 * other fed piece by piece, each answering pipelined requests in order (the
 * rest fed again after every response) until a response closes the
 * connection. Checked: every response is well formed (a status line with the
 * status it reports, header lines ended by CRLF with no bare CR, LF or NUL,
 * the blank line, a body inside the cache or empty, Content-Length matching
 * the body on GET), consumed counts stay within what was fed, and the two
 * connections answer exactly the same: the parser is resumable at any byte.
 */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cache.h"
#include "http.h"

#define FH_NOW 1700000000  /* Tue, 14 Nov 2023 22:13:20 GMT */
#define FH_MTIME 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define FH_MAX_RESP 256    /* responses compared per input */
#define FH_MIN(a, b) ((a) < (b) ? (a) : (b))

static struct cache *fh_cache;

static int64_t fh_wall(void)
{
    return FH_NOW;
}

static void fh_die(const char *what)
{
    fprintf(stderr, "fuzz_http: invariant broken: %s\n", what);
    abort();
}

/* ------------------------------------------------------------ the site */

static void fh_put(const char *root, const char *rel, const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (body == NULL) {
        if (mkdir(path, 0755) != 0)
            fh_die("cannot make the site");
        return;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(body, 1, strlen(body), f) != strlen(body) || fclose(f) != 0)
        fh_die("cannot make the site");
    struct timeval tv[2] = {{FH_MTIME, 0}, {FH_MTIME, 0}};
    utimes(path, tv);
}

static int fh_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A few files and directories, loaded into the cache, then removed from
 * the disk: the cache holds everything in memory. */
static void fh_site(void)
{
    char root[64] = "/tmp/corehttpd-fuzz-http-XXXXXX", err[256];
    if (mkdtemp(root) == NULL)
        fh_die("mkdtemp");
    fh_put(root, "index.html", "<!doctype html><h1>home</h1>\n");
    fh_put(root, "a.txt", "hello\n");
    fh_put(root, "empty.txt", "");
    fh_put(root, "sp ace.txt", "space\n");
    fh_put(root, "docs", NULL);
    fh_put(root, "docs/index.html", "docs\n");
    fh_put(root, "docs/style.css", "h1{color:red}\n");
    fh_put(root, "docs/img.png", "\x89PNG\r\n");
    fh_put(root, "nodx", NULL);
    fh_put(root, "nodx/f.js", "f()\n");
    fh_cache = cache_build(root, "index.html", NULL, NULL, err, sizeof err);
    nftw(root, fh_rm, 8, FTW_DEPTH | FTW_PHYS);
    if (fh_cache == NULL) {
        fprintf(stderr, "fuzz_http: cache_build: %s\n", err);
        abort();
    }
}

/* ------------------------------------------------------------ checks */

struct fh_resp {
    int status;
    bool close_after;
    size_t hdr_len;
    const uint8_t *body;
    size_t body_len;
    uint64_t hdr_hash;
    bool head; /* the request began with "HEAD " */
};

static bool fh_body_ok(const uint8_t *body, size_t len)
{
    for (size_t i = 0; i < cache_count(fh_cache); i++) {
        const struct cache_file *f = cache_at(fh_cache, i);
        if (body >= f->data && body + len <= f->data + f->size)
            return true;
    }
    return false;
}

static void fh_check(const struct http_response *r, bool head)
{
    if (r->hdr_len < 19 || r->hdr_len > HTTP_HDR_MAX)
        fh_die("response header length");
    const char *h = r->hdr;
    char code[4];
    snprintf(code, sizeof code, "%03d", r->status);
    if (memcmp(h, "HTTP/1.1 ", 9) != 0 || memcmp(h + 9, code, 3) != 0 || h[12] != ' ')
        fh_die("status line does not carry the status");
    if (memcmp(h + r->hdr_len - 4, "\r\n\r\n", 4) != 0)
        fh_die("header not ended by a blank line");
    for (size_t i = 0; i + 2 < r->hdr_len; i++) {
        if (h[i] == '\0')
            fh_die("NUL in the response header");
        if (h[i] == '\r' && h[i + 1] != '\n')
            fh_die("bare CR in the response header");
        if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
            fh_die("bare LF in the response header");
    }
    /* a multipart/byteranges body has no single body: its parts' pieces
     * add up to its length (struct http_response) */
    size_t in_pieces = 0;
    for (unsigned i = 0; i < r->n_pieces; i++)
        in_pieces += r->piece[i].len;
    if (r->body_len && r->body == NULL && !(r->status == 206 && in_pieces == r->body_len))
        fh_die("a body length without a body");
    if (r->status == 200 && r->body_len && !fh_body_ok(r->body, r->body_len))
        fh_die("a 200 body outside the cache");
    /* a HEAD whose request line was read (a malformed line's method is not
     * trusted); the answer to HEAD has GET's Content-Length, no body */
    bool parsed = r->status == 200 || r->status == 301 || r->status == 304 ||
                  r->status == 404 || r->status == 505;
    const char *cl = memmem(h, r->hdr_len, "\r\nContent-Length: ", 18);
    if (cl && !head) {
        unsigned long n = strtoul(cl + 18, NULL, 10);
        if (n != r->body_len)
            fh_die("Content-Length is not the body's length");
    }
    if (head && parsed && r->body_len != 0)
        fh_die("a body in the answer to HEAD");
}

static uint64_t fh_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

/* ------------------------------------------------------------ one connection */

struct fh_run {
    struct fh_resp resp[FH_MAX_RESP];
    unsigned nresp;
    bool closed, partial;
};

/* Is the request being answered a HEAD? It starts where the last response's
 * request ended. */
static bool fh_is_head(const uint8_t *req, size_t len)
{
    while (len && (*req == '\r' || *req == '\n')) /* RFC 9112 2.2 */
        req++, len--;
    return len >= 5 && memcmp(req, "HEAD ", 5) == 0;
}

static struct http_conn fh_hc;
static struct http_response fh_out;

static void fh_connection(const struct http_settings *set, const uint8_t *data,
                          size_t size, uint32_t seed, unsigned maxlog, struct fh_run *run)
{
    memset(run, 0, sizeof(*run));
    http_conn_init(&fh_hc, set);
    size_t req_start = 0; /* where the request being answered began */
    size_t off = 0;
    while (off < size && !run->closed) {
        size_t piece = size - off;
        if (maxlog) {
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
            size_t lim = (size_t)1 << (seed % (maxlog + 1));
            piece = FH_MIN(piece, 1 + (seed >> 8) % lim);
        }
        size_t end = off + piece;
        while (off < end) {
            size_t used = 0;
            enum http_rc rc =
                http_conn_feed(&fh_hc, data + off, end - off, &used, &fh_out);
            if (used > end - off)
                fh_die("consumed more than was fed");
            off += used;
            if (rc == HTTP_AGAIN) {
                if (off != end)
                    fh_die("AGAIN without consuming everything");
                break;
            }
            if (rc != HTTP_OK)
                fh_die("ERROR before the connection was closed");
            bool head = fh_is_head(data + req_start, size - req_start);
            fh_check(&fh_out, head);
            req_start = off;
            if (run->nresp < FH_MAX_RESP) {
                struct fh_resp *r = &run->resp[run->nresp++];
                r->status = fh_out.status;
                r->close_after = fh_out.close_after;
                r->hdr_len = fh_out.hdr_len;
                r->body = fh_out.body;
                r->body_len = fh_out.body_len;
                r->hdr_hash = fh_hash(fh_out.hdr, fh_out.hdr_len);
                r->head = head;
            }
            if (fh_out.close_after) {
                run->closed = true;
                break;
            }
            if (used == 0)
                fh_die("a response without consuming a byte, and the connection open");
        }
    }
    if (run->closed) {
        size_t used = 0;
        if (http_conn_feed(&fh_hc, (const uint8_t *)"x", 1, &used, &fh_out) != HTTP_ERROR)
            fh_die("fed after a closing response, and not ERROR");
    } else {
        run->partial = http_conn_partial(&fh_hc);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fh_site();
    return 0;
}

static struct fh_run fh_whole, fh_split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    static const unsigned reqs[4] = {0, 1, 2, 100};
    static const unsigned maxb[4] = {0, 64, 512, 8192};
    uint8_t s = data[0];
    struct http_settings set = {
        .cache = fh_cache,
        .server_name = (s & 32) ? NULL : "corehttpd/fuzz",
        .keepalive = s & 1,
        .keepalive_requests = reqs[(s >> 1) & 3],
        .max_request_bytes = maxb[(s >> 3) & 3],
        .wall_s = fh_wall,
    };
    uint32_t seed = (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3] | 1u;
    unsigned maxlog = 1 + data[1] % 12;
    data += 4, size -= 4;

    fh_connection(&set, data, size, 0, 0, &fh_whole);
    fh_connection(&set, data, size, seed, maxlog, &fh_split);

    if (fh_whole.nresp != fh_split.nresp || fh_whole.closed != fh_split.closed ||
        fh_whole.partial != fh_split.partial) {
        fprintf(stderr, "whole: %u responses closed %d partial %d; split: %u, %d, %d\n",
                fh_whole.nresp, fh_whole.closed, fh_whole.partial, fh_split.nresp,
                fh_split.closed, fh_split.partial);
        fh_die("split requests answered differently from whole ones");
    }
    for (unsigned i = 0; i < fh_whole.nresp; i++) {
        const struct fh_resp *a = &fh_whole.resp[i], *b = &fh_split.resp[i];
        /* Known and harmless: a 400 to a HEAD whose request-target is
         * malformed carries the error page or not depending on whether the
         * target's first bytes reached http.c before the error (http_is_head
         * knows the method once the target has begun); the connection closes
         * either way. tests/fuzz/regressions/fuzz_http/head-400-body. */
        bool body_may_differ = a->status == 400 && a->head;
        if (a->status != b->status || a->close_after != b->close_after ||
            a->hdr_len != b->hdr_len || a->hdr_hash != b->hdr_hash ||
            (!body_may_differ && (a->body != b->body || a->body_len != b->body_len))) {
            fprintf(stderr, "response %u: whole %d (close %d), split %d (close %d)\n", i,
                    a->status, a->close_after, b->status, b->close_after);
            fh_die("split requests answered differently from whole ones");
        }
    }
    return 0;
}
