/**
 * @file test_status.c
 * The status page without a server: the [http] status_path and status_allow
 * keys (cfg_load on /tmp files), the access check, the query's format, both
 * renderings of a page from given values (every line where it belongs, one
 * HELP and TYPE per Prometheus family, the size bound for 64 cores), and the
 * route through http.c (200 with the page, 404 to a client not allowed, 503
 * without a free buffer, HEAD).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "status.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (c) << 8 | (d))
#define REQUIRED "[dpdk]\nport = net_tap0\n[net]\naddress = 198.18.0.2/24\n[http]\n"

/* Loads REQUIRED + @p tail over the defaults; the error (if any) is left in
 * @p err without the file name. */
static int load(const char *tail, struct cfg *c, char *err, size_t errlen)
{
    char path[64] = "/tmp/corehttpd-status-XXXXXX", full[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "%s%s\n", REQUIRED, tail);
    assert_int_equal(fclose(f), 0);
    cfg_defaults(c);
    int rc = cfg_load(c, path, full, sizeof full);
    unlink(path);
    if (rc != 0) {
        size_t n = strlen(path);
        assert_int_equal(strncmp(full, path, n), 0);
        snprintf(err, errlen, "%s", full + n);
    }
    return rc;
}

static void test_keys_defaults(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    assert_string_equal(c.status_path, "/server-status");
    assert_int_equal(c.n_status_allow, 0);
    assert_false(status_allowed(&c, IP(198, 18, 0, 1)));
    assert_false(status_allowed(&c, IP(127, 0, 0, 1)));
}

static void test_keys_parse(void **state)
{
    (void)state;
    struct cfg c;
    char err[512];
    assert_int_equal(load("status_allow = 198.18.0.0/24, 10.1.2.3 ,0.0.0.0/0\n"
                          "status_path = /a/b.c-d_e~f",
                          &c, err, sizeof err),
                     0);
    assert_string_equal(c.status_path, "/a/b.c-d_e~f");
    assert_int_equal(c.n_status_allow, 3);
    assert_int_equal(c.status_allow[0].net, IP(198, 18, 0, 0));
    assert_int_equal(c.status_allow[0].mask, 0xffffff00u);
    assert_int_equal(c.status_allow[1].net, IP(10, 1, 2, 3));
    assert_int_equal(c.status_allow[1].mask, 0xffffffffu);
    assert_int_equal(c.status_allow[2].mask, 0);

    assert_int_equal(load("status_allow = 198.18.0.0/24, 10.1.2.3", &c, err, sizeof err),
                     0);
    assert_true(status_allowed(&c, IP(198, 18, 0, 1)));
    assert_true(status_allowed(&c, IP(198, 18, 0, 255)));
    assert_false(status_allowed(&c, IP(198, 18, 1, 1)));
    assert_true(status_allowed(&c, IP(10, 1, 2, 3)));
    assert_false(status_allowed(&c, IP(10, 1, 2, 4)));

    assert_int_equal(load("status_path =\nstatus_allow =", &c, err, sizeof err), 0);
    assert_string_equal(c.status_path, "");
    assert_int_equal(c.n_status_allow, 0);
}

static void test_keys_errors(void **state)
{
    (void)state;
    static const char *const bad_allow[] = {
        "198.18.0.1/24", "1.2.3.4/33",       "1.2.3",    "a.b.c.d", "1.2.3.4,",
        "1.2.3.4/",      "1.2.3.4 5.6.7.8x", "01.2.3.4",
    };
    static const char *const bad_path[] = {
        "server-status", "/",    "/a//b", "/a/../b", "/a/./b",
        "/a/.",          "/a?b", "/a b",  "/a%20b",  "/a/",
    };
    struct cfg c;
    char tail[128], err[512];
    for (size_t i = 0; i < sizeof bad_allow / sizeof bad_allow[0]; i++) {
        snprintf(tail, sizeof tail, "status_allow = %s", bad_allow[i]);
        if (load(tail, &c, err, sizeof err) == 0)
            fail_msg("status_allow = %s was taken", bad_allow[i]);
        if (strncmp(err, ":6: [http] status_allow: ", 25) != 0)
            fail_msg("status_allow = %s: %s", bad_allow[i], err);
    }
    for (size_t i = 0; i < sizeof bad_path / sizeof bad_path[0]; i++) {
        snprintf(tail, sizeof tail, "status_path = %s", bad_path[i]);
        if (load(tail, &c, err, sizeof err) == 0)
            fail_msg("status_path = %s was taken", bad_path[i]);
        if (strncmp(err, ":6: [http] status_path: ", 24) != 0)
            fail_msg("status_path = %s: %s", bad_path[i], err);
    }
}

static void test_format_of(void **state)
{
    (void)state;
    assert_int_equal(status_format_of(NULL, 0), STATUS_PLAIN);
    assert_int_equal(status_format_of("format=prometheus", 17), STATUS_PROMETHEUS);
    assert_int_equal(status_format_of("a=1&format=prometheus&b", 23), STATUS_PROMETHEUS);
    assert_int_equal(status_format_of("format=prometheusx", 18), STATUS_PLAIN);
    assert_int_equal(status_format_of("format=prometheus", 16), STATUS_PLAIN);
    assert_int_equal(status_format_of("xformat=prometheus", 18), STATUS_PLAIN);
    assert_int_equal(status_format_of("format=plain", 12), STATUS_PLAIN);
}

/* Two cores (CPUs 3 and 5): core i's metric k is 1000 * (i + 1) + k. */
static uint64_t vals[2 * ST_N];
static const unsigned cpus[2] = {3, 5};

static struct status_meta meta2(void)
{
    for (unsigned c = 0; c < 2; c++)
        for (unsigned k = 0; k < ST_N; k++)
            vals[c * ST_N + k] = 1000 * (c + 1) + k;
    return (struct status_meta){.version = "corehttpd/9\"x\\",
                                .steering = "kernel",
                                .uptime_s = 77,
                                .n = 2,
                                .cpu = cpus,
                                .rss_bytes = 123456,
                                .dpdk_heap_bytes = 654321};
}

static bool has_line(const char *page, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = page; (p = strstr(p, line)) != NULL; p++)
        if ((p == page || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static unsigned count(const char *page, const char *s)
{
    unsigned n = 0;
    for (const char *p = page; (p = strstr(p, s)) != NULL; p++)
        n++;
    return n;
}

static void test_render_plain(void **state)
{
    (void)state;
    static char buf[1 << 16];
    struct status_meta m = meta2();
    long len = status_render(&m, vals, STATUS_PLAIN, buf, sizeof buf - 1);
    assert_true(len > 0);
    buf[len] = '\0';
    assert_true(has_line(buf, "uptime_seconds: 77"));
    assert_true(has_line(buf, "cores: 2"));
    assert_true(has_line(buf, "steering: kernel"));
    /* totals, then each core's own under its CPU number */
    assert_true(has_line(buf, "accepted: 3000"));
    assert_true(has_line(buf, "core3.accepted: 1000"));
    assert_true(has_line(buf, "core5.accepted: 2000"));
    char want[64];
    snprintf(want, sizeof want, "core5.flow_other_core: %u", 2000 + ST_FLOW_OTHER_CORE);
    assert_true(has_line(buf, want));
    snprintf(want, sizeof want, "core3.requests_2xx: %u", 1000 + ST_REQ_2XX);
    assert_true(has_line(buf, want));
    snprintf(want, sizeof want, "mbufs_in_use: %u", 3000 + 2 * ST_MBUFS_IN_USE);
    assert_true(has_line(buf, want));
    assert_true(has_line(buf, "memory_rss_bytes: 123456"));
    assert_true(has_line(buf, "dpdk_heap_in_use_bytes: 654321"));
    /* one line per total and per core value, plus 6 header lines */
    assert_int_equal(count(buf, "\n"), 6 + 3 * ST_N);
    for (const char *p = buf; *p; p = strchr(p, '\n') + 1)
        assert_non_null(strstr(p, ": ")); /* every line is key: value */
}

static void test_render_prometheus(void **state)
{
    (void)state;
    static char buf[1 << 16];
    struct status_meta m = meta2();
    long len = status_render(&m, vals, STATUS_PROMETHEUS, buf, sizeof buf - 1);
    assert_true(len > 0);
    buf[len] = '\0';
    assert_true(has_line(buf, "corehttpd_info{version=\"corehttpd/9\\\"x\\\\\","
                              "steering=\"kernel\"} 1"));
    assert_true(has_line(buf, "corehttpd_uptime_seconds 77"));
    assert_true(has_line(buf, "corehttpd_connections_accepted_total{core=\"3\"} 1000"));
    assert_true(has_line(buf, "corehttpd_connections_accepted_total{core=\"5\"} 2000"));
    char want[128];
    snprintf(want, sizeof want, "corehttpd_requests_total{core=\"5\",class=\"4xx\"} %u",
             2000 + ST_REQ_4XX);
    assert_true(has_line(buf, want));
    snprintf(want, sizeof want,
             "corehttpd_retransmissions_total{core=\"3\",kind=\"tail_probe\"} %u",
             1000 + ST_RXT_TAIL_PROBE);
    assert_true(has_line(buf, want));
    assert_int_equal(count(buf, "# TYPE corehttpd_requests_total counter\n"), 1);
    assert_int_equal(count(buf, "# HELP corehttpd_requests_total "), 1);
    assert_int_equal(count(buf, "# TYPE corehttpd_rx_dropped_total counter\n"), 1);
    assert_int_equal(count(buf, "# TYPE corehttpd_mbufs_in_use gauge\n"), 1);
    /* every counter's name ends in _total, every family has its HELP, and
     * each family's samples follow its TYPE line */
    char family[128] = "";
    bool counter = false;
    unsigned samples = 0, helps = 0, types = 0;
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        if (strncmp(p, "# HELP ", 7) == 0) {
            helps++;
        } else if (strncmp(p, "# TYPE ", 7) == 0) {
            types++;
            char type[16];
            assert_int_equal(sscanf(p + 7, "%127s %15s", family, type), 2);
            counter = strcmp(type, "counter") == 0;
            if (counter)
                assert_string_equal(family + strlen(family) - 6, "_total");
        } else {
            samples++;
            size_t n = strlen(family);
            assert_int_equal(strncmp(p, family, n), 0);
            assert_true(p[n] == '{' || p[n] == ' ');
        }
        *nl = '\n';
        p = nl + 1;
    }
    assert_int_equal(helps, types);
    assert_int_equal(samples, 4 + 2 * ST_N);
    (void)counter;
}

static void test_render_bound(void **state)
{
    (void)state;
    unsigned cpu[CFG_MAX_CORES];
    size_t cap = status_page_bytes(CFG_MAX_CORES);
    uint64_t *v = malloc(sizeof(*v) * CFG_MAX_CORES * ST_N);
    char *buf = malloc(cap);
    assert_non_null(v);
    assert_non_null(buf);
    for (unsigned i = 0; i < CFG_MAX_CORES * ST_N; i++)
        v[i] = UINT64_MAX;
    for (unsigned i = 0; i < CFG_MAX_CORES; i++)
        cpu[i] = 1000 + i;
    struct status_meta m = {.version = "corehttpd/0.1.0",
                            .steering = "rss symmetric-key",
                            .uptime_s = UINT64_MAX,
                            .n = CFG_MAX_CORES,
                            .cpu = cpu};
    long plain = status_render(&m, v, STATUS_PLAIN, buf, cap);
    long prom = status_render(&m, v, STATUS_PROMETHEUS, buf, cap);
    assert_true(plain > 0);
    assert_true(prom > 0);
    assert_int_equal(status_render(&m, v, STATUS_PROMETHEUS, buf, (size_t)prom - 1),
                     -ENOSPC);
    assert_int_equal(status_render(&m, v, STATUS_PROMETHEUS, buf, (size_t)prom), prom);
    free(v);
    free(buf);
}

/* ---- through http.c ---- */

static int fake_rc;
static uint32_t fake_peer;
static char fake_query[64];
static int fake_slot;
static const char fake_body[] = "accepted: 1\n";

static int fake_page(void *arg, uint32_t peer_ip, const char *query, size_t query_len,
                     struct http_page *page)
{
    (void)arg;
    fake_peer = peer_ip;
    snprintf(fake_query, sizeof fake_query, "%.*s", (int)query_len, query ? query : "");
    if (fake_rc != 0)
        return fake_rc;
    page->ctype = "text/plain; version=0.0.4";
    page->body = (const uint8_t *)fake_body;
    page->len = sizeof fake_body - 1;
    page->slot = &fake_slot;
    return 0;
}

static struct http_response *ask(const char *req, uint32_t peer)
{
    static struct http_settings set = {
        .status_path = "/server-status",
        .status_page = fake_page,
    };
    static struct http_conn hc;
    static struct http_response r;
    size_t used;
    http_conn_init(&hc, &set);
    hc.peer_ip = peer;
    assert_int_equal(http_conn_feed(&hc, (const uint8_t *)req, strlen(req), &used, &r),
                     HTTP_OK);
    r.hdr[r.hdr_len < sizeof r.hdr ? r.hdr_len : sizeof r.hdr - 1] = '\0';
    return &r;
}

static void test_http_route(void **state)
{
    (void)state;
    struct http_response *r;

    fake_rc = 0;
    r = ask("GET /server-status?format=prometheus HTTP/1.1\r\nHost: x\r\n\r\n",
            IP(198, 18, 0, 1));
    assert_int_equal(r->status, 200);
    assert_int_equal(fake_peer, IP(198, 18, 0, 1));
    assert_string_equal(fake_query, "format=prometheus");
    assert_non_null(strstr(r->hdr, "\r\nContent-Type: text/plain; version=0.0.4\r\n"));
    assert_non_null(strstr(r->hdr, "\r\nContent-Length: 12\r\n"));
    assert_non_null(strstr(r->hdr, "\r\nCache-Control: no-store\r\n"));
    assert_null(strstr(r->hdr, "ETag"));
    assert_ptr_equal(r->body, fake_body);
    assert_int_equal(r->body_len, 12);
    assert_ptr_equal(r->page_slot, &fake_slot);

    /* a normalised target reaches it too; HEAD gets the head, and the
     * buffer is still handed back through page_slot */
    r = ask("HEAD /x/../server-status HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 0);
    assert_ptr_equal(r->page_slot, &fake_slot);

    /* not this client: as if the path were nothing special */
    fake_rc = -ENOENT;
    r = ask("GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n", IP(203, 0, 113, 9));
    assert_int_equal(r->status, 404);
    assert_null(r->page_slot);

    /* no buffer free */
    fake_rc = -EBUSY;
    r = ask("GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    assert_int_equal(r->status, 503);
    assert_null(r->page_slot);

    /* other paths never ask */
    fake_rc = 0;
    fake_peer = 0;
    r = ask("GET /server-statusx HTTP/1.1\r\nHost: x\r\n\r\n", 7);
    assert_int_equal(r->status, 404);
    assert_int_equal(fake_peer, 0);
    r = ask("POST /server-status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 7);
    assert_int_equal(r->status, 405);
    assert_int_equal(fake_peer, 0);
}

/* A worker's page buffers: lent one per page, 503 (-EBUSY) when all are
 * out, back in use once returned; a client outside status_allow gets
 * -ENOENT and takes none. (No cores: the page holds its header lines.) */
static void test_page_buffers(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    assert_int_equal(load("status_allow = 198.18.0.0/24", &c, err, sizeof err), 0);
    struct status_src src = {.cfg = &c, .steering = "test", .n = 0};
    struct status_worker *sw = status_worker_create(&src);
    assert_non_null(sw);
    struct http_page pages[5];
    void *slots[4];

    assert_int_equal(status_page(sw, IP(203, 0, 113, 1), NULL, 0, &pages[0]), -ENOENT);
    for (int i = 0; i < 4; i++) {
        const char *q = i % 2 ? "format=prometheus" : NULL;
        assert_int_equal(
            status_page(sw, IP(198, 18, 0, 1), q, q ? strlen(q) : 0, &pages[i]), 0);
        slots[i] = pages[i].slot;
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(slots[i], slots[j]);
        assert_true(pages[i].len > 0);
    }
    assert_string_equal(pages[0].ctype, "text/plain; charset=utf-8");
    assert_string_equal(pages[1].ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(strncmp((const char *)pages[0].body, "version: corehttpd/", 19), 0);
    assert_int_equal(strncmp((const char *)pages[1].body, "# HELP corehttpd_info ", 22),
                     0);
    /* all four out: busy; the one given back is lent again */
    assert_int_equal(status_page(sw, IP(198, 18, 0, 1), NULL, 0, &pages[4]), -EBUSY);
    status_page_release(slots[2]);
    assert_int_equal(status_page(sw, IP(198, 18, 0, 1), NULL, 0, &pages[4]), 0);
    assert_ptr_equal(pages[4].slot, slots[2]);
    status_worker_destroy(sw);
}

static void test_template_documents_keys(void **state)
{
    (void)state;
    const char *dir = getenv("COREHTTPD_SOURCE_DIR");
    char path[4096], line[256];
    unsigned path_seen = 0, allow_seen = 0;
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/config/corehttpd.ini", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        path_seen += strcmp(line, "status_path = /server-status\n") == 0;
        allow_seen += strcmp(line, "status_allow =\n") == 0;
    }
    fclose(f);
    assert_int_equal(path_seen, 1);
    assert_int_equal(allow_seen, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_defaults),
        cmocka_unit_test(test_keys_parse),
        cmocka_unit_test(test_keys_errors),
        cmocka_unit_test(test_format_of),
        cmocka_unit_test(test_render_plain),
        cmocka_unit_test(test_render_prometheus),
        cmocka_unit_test(test_render_bound),
        cmocka_unit_test(test_http_route),
        cmocka_unit_test(test_page_buffers),
        cmocka_unit_test(test_template_documents_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
