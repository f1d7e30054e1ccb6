/**
 * @file test_site.c
 * site_build() from a config over a site in /tmp: the MIME map and the
 * overrides reach the cached files, expires rules, the extra headers as
 * formatted lines, the error pages (a missing one is an error naming the
 * key), and a missing mime.types file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "site.h"

static char root[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    unlink(p);
}

static void base_cfg(struct cfg *c)
{
    cfg_defaults(c);
    snprintf(c->root, sizeof c->root, "%s", root);
    c->mime_types[0] = '\0';
}

static void test_site(void **state)
{
    (void)state;
    static struct cfg c;
    char err[512];
    snprintf(root, sizeof root, "/tmp/corehttpd-site-XXXXXX");
    assert_non_null(mkdtemp(root));
    put("index.html", "<p>hi</p>\n");
    put("notes.md", "# md\n");
    put("404.html", "<p>gone</p>\n");
    put("s.css", "a{}\n");

    base_cfg(&c);
    snprintf(c.mime[0].key, sizeof c.mime[0].key, "md");
    snprintf(c.mime[0].value, sizeof c.mime[0].value, "text/markdown");
    c.n_mime = 1;
    snprintf(c.header[0].key, sizeof c.header[0].key, "X-A");
    snprintf(c.header[0].value, sizeof c.header[0].value, "1");
    snprintf(c.header[1].key, sizeof c.header[1].key, "X-B");
    snprintf(c.header[1].value, sizeof c.header[1].value, "two words");
    c.n_header = 2;
    snprintf(c.expires[0].match, sizeof c.expires[0].match, "css");
    c.expires[0].secs = 99;
    c.n_expires = 1;
    snprintf(c.error_page[0].key, sizeof c.error_page[0].key, "404");
    snprintf(c.error_page[0].value, sizeof c.error_page[0].value, "/404.html");
    c.n_error_page = 1;
    c.gzip_static = true;

    struct site *s = site_build(&c, NULL, NULL, NULL, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_string_equal(cache_lookup(s->cache, "/notes.md", 9, NULL)->mime,
                        "text/markdown; charset=utf-8");
    assert_string_equal(cache_lookup(s->cache, "/index.html", 11, NULL)->mime,
                        "text/html; charset=utf-8"); /* the built-in table */
    assert_int_equal(cache_lookup(s->cache, "/s.css", 6, NULL)->max_age, 99);
    assert_int_equal(s->http.headers_len, strlen("X-A: 1\r\nX-B: two words\r\n"));
    assert_memory_equal(s->http.headers, "X-A: 1\r\nX-B: two words\r\n",
                        s->http.headers_len);
    assert_int_equal(s->http.n_error_pages, 1);
    assert_int_equal(s->http.error_pages[0].code, 404);
    assert_string_equal(s->http.error_pages[0].path, "/404.html");
    assert_true(s->http.gzip_static);
    assert_ptr_equal(s->http.cache, s->cache);
    assert_string_equal(s->http.server_name, c.server_name);
    assert_ptr_not_equal(s->http.server_name, c.server_name); /* its own copy */
    site_free(s);

    /* a virtual host with its own root, index and headers */
    char vdir[80];
    snprintf(vdir, sizeof vdir, "%s/vh", root);
    assert_int_equal(mkdir(vdir, 0755), 0);
    put("vh/home.htm", "vh\n");
    struct cfg_vhost *v = &c.vhost[0];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "one");
    snprintf(v->hosts, sizeof v->hosts, "a.example b.example");
    snprintf(v->root, sizeof v->root, "%s", vdir);
    snprintf(v->index, sizeof v->index, "home.htm");
    snprintf(v->header[0].key, sizeof v->header[0].key, "X-V");
    snprintf(v->header[0].value, sizeof v->header[0].value, "one");
    v->n_header = 1;
    c.n_vhosts = 1;
    s = site_build(&c, NULL, NULL, NULL, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_int_equal(s->http.n_vhosts, 1);
    assert_string_equal(s->http.vhosts[0].names, "a.example b.example");
    assert_int_equal(s->http.vhosts[0].headers_len, strlen("X-V: one\r\n"));
    assert_non_null(cache_lookup(s->http.vhosts[0].cache, "/", 1, NULL));
    assert_null(cache_lookup(s->http.vhosts[0].cache, "/index.html", 11, NULL));
    site_free(s);
    snprintf(v->root, sizeof v->root, "%s/none", root);
    assert_null(site_build(&c, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(strncmp(err, "[vhost one] cache: root ", 24), 0);
    c.n_vhosts = 0;
    rm("vh/home.htm");
    rmdir(vdir);

    /* an error page that is not a file of the site */
    rm("404.html");
    assert_null(site_build(&c, NULL, NULL, NULL, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want,
             "[http] error_page.404: /404.html is not a file of the site %s", root);
    assert_string_equal(err, want);

    /* a mime.types file that cannot be read */
    base_cfg(&c);
    snprintf(c.mime_types, sizeof c.mime_types, "/tmp/corehttpd-no-such.types");
    assert_null(site_build(&c, NULL, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "/tmp/corehttpd-no-such.types: cannot open"));

    rm("index.html");
    rm("notes.md");
    rm("s.css");
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_site)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
