/**
 * @file test_log.c
 * The access log: records filled from a request http.c answered, lines in
 * the combined format and in JSON (escaping of quotes, backslashes,
 * control and non-ASCII bytes), the ring (a full ring drops and counts,
 * never blocks), and the log thread end to end: every line written to the
 * file in order, SIGUSR1's reopen moving to a new file after a rename (as
 * logrotate does), a reconfigure to JSON, counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define T_NOW 1700000000 /* Tue, 14 Nov 2023 22:13:20 GMT */

static void rec_of(struct log_rec *r, const char *method, const char *target,
                   const char *referer, const char *ua, int status, uint64_t bytes)
{
    struct http_req_info in = {
        .method = method,
        .target = target,
        .target_len = strlen(target),
        .major = 1,
        .minor = 1,
        .host = "example.org",
        .host_len = 11,
        .referer = referer,
        .referer_len = strlen(referer),
        .ua = ua,
        .ua_len = strlen(ua),
        .date_s = T_NOW,
    };
    log_rec_fill(r, &in, 0xc6120001u, status, bytes);
}

static void test_lines(void **state)
{
    (void)state;
    static struct log_rec r;
    char line[4096];
    size_t n;

    rec_of(&r, "GET", "/index.html?a=1", "http://198.18.0.2/", "curl/7.88.1", 200, 2516);
    n = log_format_line(&r, LOG_COMBINED, line, sizeof line);
    line[n] = '\0';
    assert_string_equal(line,
                        "198.18.0.1 - - [14/Nov/2023:22:13:20 +0000] \"GET "
                        "/index.html?a=1 HTTP/1.1\" 200 2516 \"http://198.18.0.2/\" "
                        "\"curl/7.88.1\"\n");
    n = log_format_line(&r, LOG_JSON, line, sizeof line);
    line[n] = '\0';
    assert_string_equal(
        line, "{\"time\":\"2023-11-14T22:13:20Z\",\"remote_addr\":\"198.18.0.1\","
              "\"method\":\"GET\",\"uri\":\"/index.html?a=1\",\"protocol\":"
              "\"HTTP/1.1\",\"status\":200,\"bytes\":2516,\"host\":"
              "\"example.org\",\"referer\":\"http://198.18.0.2/\","
              "\"user_agent\":\"curl/7.88.1\"}\n");

    /* escaping; empty fields are "-" in the combined format */
    rec_of(&r, "GET", "/a\"b\\c\x01\xc3\xa9", "", "x\"y", 404, 0);
    n = log_format_line(&r, LOG_COMBINED, line, sizeof line);
    line[n] = '\0';
    assert_string_equal(line, "198.18.0.1 - - [14/Nov/2023:22:13:20 +0000] \"GET "
                              "/a\\x22b\\x5Cc\\x01\\xC3\\xA9 HTTP/1.1\" 404 0 \"-\" "
                              "\"x\\x22y\"\n");
    n = log_format_line(&r, LOG_JSON, line, sizeof line);
    line[n] = '\0';
    assert_non_null(strstr(line, "\"uri\":\"/a\\\"b\\\\c\\u0001\\u00c3\\u00a9\""));
    assert_non_null(strstr(line, "\"user_agent\":\"x\\\"y\""));

    /* a request line that did not parse */
    rec_of(&r, NULL, "", "", "", 400, 150);
    n = log_format_line(&r, LOG_COMBINED, line, sizeof line);
    line[n] = '\0';
    assert_string_equal(line, "198.18.0.1 - - [14/Nov/2023:22:13:20 +0000] \"-\" 400 150 "
                              "\"-\" \"-\"\n");

    /* long fields are cut to the record, the line still ends in '\n' */
    static char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    rec_of(&r, "GET", big, big, big, 200, 1);
    assert_int_equal(r.target_len, sizeof r.target);
    n = log_format_line(&r, LOG_JSON, line, 200);
    assert_int_equal(n, 200);
    assert_int_equal(line[199], '\n');
}

static void test_ring(void **state)
{
    (void)state;
    char err[256];
    struct log_conf conf = {0};
    struct logger *lg = log_create(2, &conf, err, sizeof err);
    assert_non_null(lg);
    struct log_ring *r = log_ring_of(lg, 1);
    assert_non_null(r);
    assert_null(log_ring_of(lg, 2));
    for (int i = 0; i < LOG_RING_RECS; i++) {
        struct log_rec *rec = log_ring_claim(r);
        assert_non_null(rec);
        rec_of(rec, "GET", "/", "", "", 200, (uint64_t)i);
        log_ring_commit(r);
    }
    assert_null(log_ring_claim(r)); /* full: dropped, counted */
    assert_null(log_ring_claim(r));
    uint64_t written, dropped;
    log_counts(lg, &written, &dropped);
    assert_int_equal(dropped, 2);
    assert_int_equal(written, 0);
    /* no access log file: the thread drains the ring and counts them lost */
    assert_int_equal(log_start(lg, NULL, 0), 0);
    log_stop(lg);
    log_counts(lg, &written, &dropped);
    assert_int_equal(written, 0);
    assert_int_equal(dropped, 2 + LOG_RING_RECS);
    assert_non_null(log_ring_claim(r)); /* room again */
    log_destroy(lg);
}

static size_t count_lines(const char *path, char *first, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (n == 0 && first)
            snprintf(first, cap, "%s", line);
        n++;
    }
    fclose(f);
    return n;
}

static void push(struct log_ring *r, int n, int first)
{
    for (int i = 0; i < n; i++) {
        /* the test waits for room (a worker would drop the line instead) */
        while (atomic_load(&r->head) - atomic_load(&r->tail) >= LOG_RING_RECS) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        struct log_rec *rec = log_ring_claim(r);
        assert_non_null(rec);
        char t[32];
        snprintf(t, sizeof t, "/n%d", first + i);
        rec_of(rec, "GET", t, "", "t", 200, 1);
        log_ring_commit(r);
    }
}

static void test_thread_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/corehttpd-log-XXXXXX", path[128], rotated[128], elog[128];
    char err[256], first[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/access.log", dir);
    snprintf(rotated, sizeof rotated, "%s/access.log.1", dir);
    snprintf(elog, sizeof elog, "%s/error.log", dir);
    struct log_conf conf = {.access_path = path, .error_path = elog, .level = LOG_INFO};
    struct logger *lg = log_create(2, &conf, err, sizeof err);
    if (!lg)
        fail_msg("%s", err);
    assert_int_equal(log_start(lg, NULL, 0), 0);
    push(log_ring_of(lg, 0), 3000, 0);
    push(log_ring_of(lg, 1), 1000, 3000);
    for (int i = 0; i < 2000 && count_lines(path, NULL, 0) < 4000; i++)
        usleep(1000);
    assert_int_equal(count_lines(path, first, sizeof first), 4000);
    assert_non_null(strstr(first, "\"GET /n0 HTTP/1.1\" 200 1 \"-\" \"t\""));

    /* logrotate: rename, then SIGUSR1 (log_reopen): new lines in a new file */
    assert_int_equal(rename(path, rotated), 0);
    log_reopen(lg);
    for (int i = 0; i < 2000 && access(path, F_OK) != 0; i++)
        usleep(1000);
    push(log_ring_of(lg, 0), 10, 5000);
    for (int i = 0; i < 2000 && count_lines(path, NULL, 0) < 10; i++)
        usleep(1000);
    assert_int_equal(count_lines(rotated, NULL, 0), 4000);
    assert_int_equal(count_lines(path, first, sizeof first), 10);
    assert_non_null(strstr(first, "/n5000"));

    /* a reload to JSON */
    conf.format = LOG_JSON;
    log_reconfigure(lg, &conf);
    usleep(50000);
    push(log_ring_of(lg, 1), 1, 9000);
    log_stop(lg);
    uint64_t written, dropped;
    log_counts(lg, &written, &dropped);
    assert_int_equal(written, 4011);
    assert_int_equal(dropped, 0);
    assert_int_equal(count_lines(path, NULL, 0), 11);
    FILE *f = fopen(path, "r");
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, f))
        snprintf(last, sizeof last, "%s", line);
    fclose(f);
    assert_int_equal(strncmp(last, "{\"time\":", 8), 0);
    assert_non_null(strstr(last, "\"uri\":\"/n9000\""));
    log_msg(lg, LOG_WARN, "a %s", "warning");
    log_destroy(lg);
    assert_true(count_lines(elog, NULL, 0) >= 2); /* "logs reopened" and the warning */

    /* a file that cannot be opened names it */
    struct log_conf bad = {.access_path = "/nonexistent-dir/access.log"};
    assert_null(log_create(1, &bad, err, sizeof err));
    assert_string_equal(
        err, "access log /nonexistent-dir/access.log: cannot open: No such file "
             "or directory");
    unlink(path);
    unlink(rotated);
    unlink(elog);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_thread_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
