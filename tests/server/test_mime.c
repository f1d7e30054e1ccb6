/**
 * @file test_mime.c
 * The MIME map: a mime.types file written to /tmp (comments, blank lines,
 * several extensions per type, an extension listed twice), overrides that
 * win over it, charset=utf-8 on text types only, case-insensitive lookups,
 * errors; and Debian's /etc/mime.types when it is installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"

static char path[64];

static void write_types(const char *text)
{
    snprintf(path, sizeof path, "/tmp/corehttpd-mime-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_file_and_overrides(void **state)
{
    (void)state;
    char err[256];
    write_types("# a comment\n"
                "\n"
                "text/html\t\t\thtml htm\n"
                "text/css css # trailing comment\n"
                "application/json json\n"
                "image/vnd.microsoft.icon ico\n"
                "text/markdown md markdown\n"
                "application/x-first dup\n"
                "application/x-second dup\n"
                "application/octet-stream\n");
    static const struct mime_override over[] = {
        {"md", "text/x-web-markdown"},
        {".wasm", "application/wasm"},
        {"JSON", "application/ld+json"},
    };
    struct mime_map *m = mime_map_load(path, over, 3, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    static const char *const cases[][2] = {
        {"/a/index.html", "text/html; charset=utf-8"},
        {"x.HTM", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"d.json", "application/ld+json"},     /* override wins */
        {"f.ico", "image/vnd.microsoft.icon"}, /* no charset: not text */
        {"r.md", "text/x-web-markdown; charset=utf-8"},
        {"r.markdown", "text/markdown; charset=utf-8"},
        {"m.wasm", "application/wasm"},
        {"t.dup", "application/x-first"}, /* the first listing wins */
        {"a.tar.gz", NULL},
        {".profile", NULL},
        {"noext", NULL},
        {"dir.d/file", NULL},
        {"trailing.", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = mime_map_find(m, cases[i][0]);
        if (cases[i][1] == NULL) {
            if (t)
                fail_msg("%s: %s, want none", cases[i][0], t);
        } else if (!t || strcmp(t, cases[i][1]) != 0) {
            fail_msg("%s: %s, want %s", cases[i][0], t ? t : "(none)", cases[i][1]);
        }
    }
    assert_int_equal(mime_map_count(m), 9); /* 3 overrides, 6 more from the file */
    mime_map_free(m);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(
        mime_map_load("/tmp/corehttpd-no-such-mime.types", NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    write_types("text/html html\nnot-a-type x\n");
    assert_null(mime_map_load(path, NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, ":2: 'not-a-type' is not a media type"));
    unlink(path);
    static const struct mime_override bad_ext[] = {{"a/b", "text/plain"}};
    assert_null(mime_map_load(NULL, bad_ext, 1, err, sizeof err));
    static const struct mime_override bad_type[] = {{"x", "text plain"}};
    assert_null(mime_map_load(NULL, bad_type, 1, err, sizeof err));
    /* no file at all: overrides only */
    static const struct mime_override one[] = {{"x", "text/x-x"}};
    struct mime_map *m = mime_map_load("", one, 1, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(mime_map_find(m, "a.x"), "text/x-x; charset=utf-8");
    assert_null(mime_map_find(m, "a.html"));
    mime_map_free(m);
}

/* Debian's media-types: the types the site's files get on a real system. */
static void test_system_table(void **state)
{
    (void)state;
    char err[256];
    if (access("/etc/mime.types", R_OK) != 0)
        skip();
    struct mime_map *m = mime_map_load("/etc/mime.types", NULL, 0, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_true(mime_map_count(m) > 500);
    assert_string_equal(mime_map_find(m, "index.html"), "text/html; charset=utf-8");
    assert_string_equal(mime_map_find(m, "style.css"), "text/css; charset=utf-8");
    assert_string_equal(mime_map_find(m, "app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(mime_map_find(m, "logo.png"), "image/png");
    assert_string_equal(mime_map_find(m, "favicon.svg"), "image/svg+xml");
    assert_string_equal(mime_map_find(m, "data.json"), "application/json");
    mime_map_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_and_overrides),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_system_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
