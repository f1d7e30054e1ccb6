/**
 * @file test_loadgen.c
 * The load generator's parts that can be wrong without a network: the
 * latency histogram (bucket bounds, percentiles, merge) and the parsers
 * (addresses, URLs, and responses split at every byte offset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lg_hist.h"
#include "lg_parse.h"

/* ---------------------------------------------------------------- histogram */

static void hist_buckets_cover_values_within_1_6_percent(void **state)
{
    (void)state;
    uint32_t prev = 0;
    for (uint64_t v = 0; v < (1ull << 22); v += 1 + v / 97) {
        uint32_t i = lg_hist_index(v);
        assert_true(i < LG_HIST_BUCKETS);
        assert_true(i >= prev); /* monotonic */
        prev = i;
        assert_true(lg_hist_lowest(i) <= v);
        assert_true(v <= lg_hist_highest(i));
        /* the bucket is narrow: exact below 128, else 1/64 of the value */
        uint64_t width = lg_hist_highest(i) - lg_hist_lowest(i);
        if (v < 128)
            assert_int_equal(width, 0);
        else
            assert_true(width * 64 <= lg_hist_lowest(i));
    }
    /* buckets tile the line: each starts right after the previous one */
    for (uint32_t i = 1; i < LG_HIST_BUCKETS; i++)
        assert_int_equal(lg_hist_lowest(i), lg_hist_highest(i - 1) + 1);
    assert_int_equal(lg_hist_index(UINT64_MAX), LG_HIST_BUCKETS - 1);
}

static void hist_percentiles(void **state)
{
    (void)state;
    static struct lg_hist h, h2;
    lg_hist_init(&h);
    assert_int_equal(lg_hist_percentile(&h, 50), 0);
    /* 1..1000 us, once each */
    for (uint64_t v = 1; v <= 1000; v++)
        lg_hist_record(&h, v);
    assert_int_equal(h.count, 1000);
    assert_int_equal(h.max, 1000);
    uint64_t p50 = lg_hist_percentile(&h, 50);
    uint64_t p99 = lg_hist_percentile(&h, 99);
    assert_true(p50 >= 500 && p50 <= 500 + 500 / 64);
    assert_true(p99 >= 990 && p99 <= 990 + 990 / 64);
    assert_int_equal(lg_hist_percentile(&h, 100), 1000);
    assert_int_equal(lg_hist_percentile(&h, 0), 1);
    /* a few slow ones move p99, not p50 */
    lg_hist_init(&h2);
    for (int i = 0; i < 980; i++)
        lg_hist_record(&h2, 50);
    for (int i = 0; i < 20; i++)
        lg_hist_record(&h2, 200000);
    assert_int_equal(lg_hist_percentile(&h2, 50), 50);
    uint64_t slow = lg_hist_percentile(&h2, 99);
    assert_true(slow >= 200000 && slow <= 200000 + 200000 / 64);
    lg_hist_merge(&h, &h2);
    assert_int_equal(h.count, 2000);
    assert_int_equal(h.max, 200000);
}

/* ---------------------------------------------------------------- addresses */

static void parses_addresses_and_blocks(void **state)
{
    (void)state;
    uint32_t ip, first, count;
    assert_int_equal(lg_ipv4_parse("198.18.0.2", &ip), 0);
    assert_int_equal(ip, 0xc6120002u);
    const char *bad[] = {"198.18.0", "198.18.0.256", "198.18.0.2.1", "a.b.c.d",
                         "",         "1.2.3.4 ",     "01234.1.1.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(lg_ipv4_parse(bad[i], &ip), -1);

    assert_int_equal(lg_cidr_parse("198.19.0.0/16", &first, &count), 0);
    assert_int_equal(first, 0xc6130001u); /* no network address */
    assert_int_equal(count, 65534);       /* nor broadcast */
    assert_int_equal(lg_cidr_parse("198.18.1.77/24", &first, &count), 0);
    assert_int_equal(first, 0xc6120101u);
    assert_int_equal(count, 254);
    assert_int_equal(lg_cidr_parse("198.18.1.6/31", &first, &count), 0);
    assert_int_equal(first, 0xc6120106u);
    assert_int_equal(count, 2);
    assert_int_equal(lg_cidr_parse("198.18.1.6", &first, &count), 0);
    assert_int_equal(first, 0xc6120106u);
    assert_int_equal(count, 1);
    assert_int_equal(lg_cidr_parse("198.18.1.0/33", &first, &count), -1);
    assert_int_equal(lg_cidr_parse("198.18.1.0/", &first, &count), -1);
    assert_int_equal(lg_cidr_parse("198.18.1.0/2x", &first, &count), -1);
}

static void parses_urls(void **state)
{
    (void)state;
    struct lg_url u;
    char err[128];
    assert_int_equal(lg_url_parse("/index.html", &u, err, sizeof(err)), 0);
    assert_false(u.has_host);
    assert_string_equal(u.path, "/index.html");
    assert_int_equal(lg_url_parse("http://198.18.0.2/a/b?x=1", &u, err, sizeof(err)), 0);
    assert_true(u.has_host);
    assert_int_equal(u.ip, 0xc6120002u);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.host, "198.18.0.2");
    assert_string_equal(u.path, "/a/b?x=1");
    assert_int_equal(lg_url_parse("http://198.18.0.2:8080", &u, err, sizeof(err)), 0);
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.host, "198.18.0.2:8080");
    assert_string_equal(u.path, "/");
    const char *bad[] = {"index.html",
                         "http://example.com/",
                         "http://198.18.0.2:0/",
                         "http://198.18.0.2:99999/",
                         "http:///x",
                         "/a b",
                         "https://1.2.3.4/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(lg_url_parse(bad[i], &u, err, sizeof(err)), -1);
        assert_true(err[0] != '\0'); /* a reason is given */
    }
    char req[256];
    int n = lg_request_build(req, sizeof(req), "/x", "198.18.0.2", true);
    assert_int_equal(n, (int)strlen(req));
    assert_non_null(strstr(req, "GET /x HTTP/1.1\r\nHost: 198.18.0.2\r\n"));
    assert_non_null(strstr(req, "Connection: close\r\n\r\n"));
    n = lg_request_build(req, sizeof(req), "/x", "h", false);
    assert_null(strstr(req, "Connection"));
    assert_int_equal(memcmp(req + n - 4, "\r\n\r\n", 4), 0);
    assert_int_equal(lg_request_build(req, 10, "/x", "h", false), -1);
}

/* ---------------------------------------------------------------- responses */

/* Feeds @p text split at @p cut (and the rest in one piece): the verdict
 * and the bytes consumed must not depend on where the split is. */
static enum lg_resp_rc feed_split(struct lg_resp *r, const char *text, size_t len,
                                  size_t cut, size_t *used_total)
{
    lg_resp_init(r);
    size_t used = 0;
    enum lg_resp_rc rc = lg_resp_feed(r, (const uint8_t *)text, cut, &used);
    *used_total = used;
    if (rc != LG_RESP_MORE)
        return rc;
    assert_int_equal(used, cut);
    rc = lg_resp_feed(r, (const uint8_t *)text + cut, len - cut, &used);
    *used_total += used;
    return rc;
}

static void response_split_at_every_byte(void **state)
{
    (void)state;
    const char ok[] = "HTTP/1.1 200 OK\r\nServer: corehttpd/0.1.0\r\n"
                      "Content-Type: text/html\r\ncontent-length:  11\r\n"
                      "Connection: keep-alive\r\n\r\nhello world";
    size_t len = sizeof(ok) - 1;
    struct lg_resp r;
    for (size_t cut = 0; cut <= len; cut++) {
        size_t used;
        assert_int_equal(feed_split(&r, ok, len, cut, &used), LG_RESP_DONE);
        assert_int_equal(used, len);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 11);
        assert_false(r.close);
    }
    /* the next response's bytes are left alone */
    char two[sizeof(ok) * 2];
    memcpy(two, ok, len);
    memcpy(two + len, ok, len);
    size_t used;
    lg_resp_init(&r);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)two, 2 * len, &used),
                     LG_RESP_DONE);
    assert_int_equal(used, len);

    /* a body cut short stays in the body */
    lg_resp_init(&r);
    assert_int_equal(lg_resp_body_left(&r), 0);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)ok, len - 3, &used), LG_RESP_MORE);
    assert_true(lg_resp_in_body(&r));
    /* the rest of a body is counted, not read: no bytes needed */
    assert_int_equal(lg_resp_body_left(&r), 3);
    assert_int_equal(lg_resp_feed(&r, NULL, 2, &used), LG_RESP_MORE);
    assert_int_equal(lg_resp_body_left(&r), 1);
    assert_int_equal(lg_resp_feed(&r, NULL, 1, &used), LG_RESP_DONE);
    assert_int_equal(used, 1);
    assert_int_equal(lg_resp_body_left(&r), 0);
}

static void response_close_status_and_errors(void **state)
{
    (void)state;
    struct lg_resp r;
    size_t used;
    const char *close = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
                        "Content-Length: 0\r\n\r\n";
    lg_resp_init(&r);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)close, strlen(close), &used),
                     LG_RESP_DONE);
    assert_int_equal(r.status, 404);
    assert_true(r.close);
    const char *h10 = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    lg_resp_init(&r);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)h10, strlen(h10), &used),
                     LG_RESP_DONE);
    assert_true(r.close); /* HTTP/1.0 without keep-alive */
    const char *nm = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
    lg_resp_init(&r);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)nm, strlen(nm), &used),
                     LG_RESP_DONE);
    assert_int_equal(r.body_len, 0);

    const char *bad[] = {
        "HTTX/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n", /* no length: cannot frame */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lg_resp_init(&r);
        assert_int_equal(lg_resp_feed(&r, (const uint8_t *)bad[i], strlen(bad[i]), &used),
                         LG_RESP_ERROR);
    }
    /* an endless header is cut off */
    static char big[LG_RESP_MAX_HDR + 100];
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', sizeof(big) - 20);
    lg_resp_init(&r);
    assert_int_equal(lg_resp_feed(&r, (const uint8_t *)big, sizeof(big), &used),
                     LG_RESP_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hist_buckets_cover_values_within_1_6_percent),
        cmocka_unit_test(hist_percentiles),
        cmocka_unit_test(parses_addresses_and_blocks),
        cmocka_unit_test(parses_urls),
        cmocka_unit_test(response_split_at_every_byte),
        cmocka_unit_test(response_close_status_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
