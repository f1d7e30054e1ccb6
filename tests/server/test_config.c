/**
 * @file test_config.c
 * cfg_load() against ini files written to /tmp: every key parsed, every
 * error class reported as "FILE:LINE: [section] key: reason", and the two
 * shipped files (config/demo.ini, config/corehttpd.ini) valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "ts.h"

/* Lines 1-4 of most test files: the two required keys. */
#define REQUIRED "[dpdk]\nport = net_tap0\n[net]\naddress = 198.18.0.2/24\n"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (c) << 8 | (d))

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Writes @p text to a new /tmp file, loads it over the defaults into @p c,
 * removes it. @p path receives its name. */
static int load_text(const char *text, struct cfg *c, char *err, size_t errlen,
                     char path[64])
{
    snprintf(path, 64, "/tmp/corehttpd-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, text);
    cfg_defaults(c);
    int rc = cfg_load(c, path, err, errlen);
    unlink(path);
    return rc;
}

static void load_ok(const char *text, struct cfg *c)
{
    char err[512] = "", path[64];
    int rc = load_text(text, c, err, sizeof err, path);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
}

/* The load fails with exactly "<tmp file>" + @p suffix. */
static void load_fails(const char *text, const char *suffix)
{
    struct cfg c;
    char err[512] = "", path[64], want[640];
    assert_int_equal(load_text(text, &c, err, sizeof err, path), -1);
    snprintf(want, sizeof want, "%s%s", path, suffix);
    assert_string_equal(err, want);
}

/* REQUIRED followed by @p tail fails with @p suffix. */
static void tail_fails(const char *tail, const char *suffix)
{
    char text[1024];
    snprintf(text, sizeof text, "%s%s", REQUIRED, tail);
    load_fails(text, suffix);
}

static const char *source_dir(void)
{
    const char *d = getenv("COREHTTPD_SOURCE_DIR");
    if (!d)
        fail_msg("COREHTTPD_SOURCE_DIR is not set");
    return d;
}

static void test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    assert_string_equal(c.port, "");
    assert_true(c.hugepages);
    assert_int_equal(c.memory_mb, 512);
    assert_string_equal(c.eal_args, "");
    assert_int_equal(c.impair_delay_ms, 0);
    assert_int_equal(c.impair_reorder_pct, 0);
    assert_int_equal(c.impair_reorder_gap_ms, 5);
    assert_int_equal(c.impair_seed, 1);
    assert_int_equal(c.impair_dirs, CFG_IMPAIR_RX | CFG_IMPAIR_TX);
    assert_int_equal(c.ip, 0);
    assert_int_equal(c.netmask, 0xffffff00u);
    assert_int_equal(c.gateway, 0);
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(c.n_cores, 1);
    assert_int_equal(c.cores[0], 0);
    assert_int_equal(c.max_flows, 65536);
    assert_int_equal(c.max_conns, 8192);
    assert_int_equal(c.rcvbuf, 16384);
    assert_int_equal(c.sndbuf, 262144);
    assert_int_equal(c.msl_ms, 30000);
    assert_int_equal(c.listen, 80);
    assert_string_equal(c.root, "/var/www/html");
    assert_string_equal(c.index, "index.html");
    assert_true(c.keepalive);
    assert_int_equal(c.keepalive_requests, 1000);
    assert_int_equal(c.max_request_bytes, 8192);
    assert_string_equal(c.server_name, "corehttpd/" COREHTTPD_VERSION);
}

static void test_minimal_file_keeps_defaults(void **state)
{
    (void)state;
    struct cfg c, d;
    load_ok(REQUIRED, &c);
    cfg_defaults(&d);
    snprintf(d.port, sizeof d.port, "net_tap0");
    d.ip = IP(198, 18, 0, 2);
    memcpy(d.path, c.path, sizeof d.path); /* the file's name, for messages */
    assert_memory_equal(&c, &d, sizeof c);
}

static void test_tls(void **state)
{
    (void)state;
    struct cfg c;
    char text[2048];
    snprintf(
        text, sizeof text,
        "%s[tls]\nlisten = 443\ncertificate = /etc/x.pem\nkey = /etc/x.key\n"
        "protocols = TLSv1.3\nciphers = intermediate\nticket_key_rotation_s = 60\n"
        "[http]\nredirect_https = yes\n"
        "[vhost a]\nhosts = a.test\nroot = /tmp\ncertificate = a.pem\nkey = /a.key\n",
        REQUIRED);
    load_ok(text, &c);
    assert_int_equal(c.tls_listen, 443);
    assert_string_equal(c.tls_cert, "/etc/x.pem");
    assert_int_equal(c.tls_line[CFG_TLS_LINE_CERT], 7);
    assert_int_equal(c.tls_line[CFG_TLS_LINE_KEY], 8);
    assert_int_equal(c.tls_protocols, CFG_TLS13);
    assert_non_null(strstr(c.tls_ciphers, "ECDHE-RSA-AES128-GCM-SHA256:"));
    assert_int_equal(c.tls_ticket_rotate_s, 60);
    assert_true(c.redirect_https);
    assert_string_equal(c.vhost[0].cert, "/tmp/a.pem"); /* relative to the ini */
    assert_int_equal(c.vhost[0].key_line, 18);

    tail_fails("[tls]\ncertificate = /x.pem\n",
               ":6: [tls] certificate: needs [tls] listen (the HTTPS port)");
    tail_fails("[tls]\nlisten = 443\nkey = /x.key\n",
               ":6: [tls] certificate: missing required key");
    tail_fails("[tls]\nlisten = 80\ncertificate = /x\nkey = /y\n",
               ":6: [tls] listen: 80 is also [http] listen");
    tail_fails(
        "[tls]\nprotocols = TLSv1.2 TLSv1.1\n",
        ":6: [tls] protocols: TLSv1.1 is not supported (deprecated, RFC 8996): use "
        "TLSv1.2 and TLSv1.3");
    tail_fails(
        "[tls]\nprotocols = TLSv1.4\n",
        ":6: [tls] protocols: 'TLSv1.4' is not a protocol (use TLSv1.2 and TLSv1.3)");
    tail_fails("[http]\nredirect_https = yes\n",
               ":6: [http] redirect_https: needs [tls] listen (the HTTPS port)");
    tail_fails("[tls]\nlisten = 443\ncertificate = /x\nkey = /y\n"
               "[vhost a]\nhosts = a\nroot = /tmp\ncertificate = /a.pem\n",
               ":12: [vhost a] key: missing (certificate is set)");
    /* an empty path is no certificate (found by fuzz_config) */
    tail_fails("[tls]\nlisten = 443\ncertificate =\nkey = /y\n",
               ":7: [tls] certificate: empty (HTTPS needs a PEM file)");
    tail_fails("[tls]\nlisten = 443\ncertificate = /x\nkey =\n",
               ":8: [tls] key: empty (HTTPS needs a PEM file)");
    tail_fails("[tls]\nlisten = 443\ncertificate = /x\nkey = /y\n"
               "[vhost a]\nhosts = a\nroot = /tmp\ncertificate = /a.pem\nkey =\n",
               ":13: [vhost a] key: empty value");
}

static void test_full_file(void **state)
{
    (void)state;
    struct cfg c;
    load_ok("# every key\n"
            "[dpdk]\n"
            "port = 0000:03:00.0\n"
            "hugepages = off\n"
            "memory_mb = 2048\n"
            "eal_args = --file-prefix=x --log-level=8\n"
            "\n"
            "[net]\n"
            "address = 10.1.2.3/16\n"
            "gateway = 10.1.0.1\n"
            "mtu = 9000\n"
            "[cores]\n"
            "list = 3,1-2\n"
            "[tcp]\n"
            "max_flows = 1024\n"
            "max_conns = 512\n"
            "rcvbuf = 65536\n"
            "sndbuf = 1048576\n"
            "msl_ms = 1000\n"
            "[http]\n"
            "listen = 8080\n"
            "root = /srv/site-that-does-not-exist\n"
            "index = default.htm index.htm\n"
            "keepalive = false\n"
            "keepalive_requests = 50\n"
            "max_request_bytes = 16384\n"
            "server_name = test server/1.0\n",
            &c);
    assert_string_equal(c.port, "0000:03:00.0");
    assert_false(c.hugepages);
    assert_int_equal(c.memory_mb, 2048);
    assert_string_equal(c.eal_args, "--file-prefix=x --log-level=8");
    assert_int_equal(c.ip, IP(10, 1, 2, 3));
    assert_int_equal(c.netmask, 0xffff0000u);
    assert_int_equal(c.gateway, IP(10, 1, 0, 1));
    assert_int_equal(c.mtu, 9000);
    assert_int_equal(c.n_cores, 3);
    assert_int_equal(c.cores[0], 1);
    assert_int_equal(c.cores[1], 2);
    assert_int_equal(c.cores[2], 3);
    assert_int_equal(c.max_flows, 1024);
    assert_int_equal(c.max_conns, 512);
    assert_int_equal(c.rcvbuf, 65536);
    assert_int_equal(c.sndbuf, 1048576);
    assert_int_equal(c.msl_ms, 1000);
    assert_int_equal(c.listen, 8080);
    assert_string_equal(c.root, "/srv/site-that-does-not-exist");
    assert_string_equal(c.index, "default.htm index.htm");
    assert_false(c.keepalive);
    assert_int_equal(c.keepalive_requests, 50);
    assert_int_equal(c.max_request_bytes, 16384);
    assert_string_equal(c.server_name, "test server/1.0");
}

/* [http] key families: header.NAME, mime.EXT, expires.MATCH, error_page.CODE */
static void test_key_families(void **state)
{
    (void)state;
    static struct cfg c;
    load_ok(REQUIRED "[http]\n"
                     "mime_types =\n"
                     "gzip_static = on\n"
                     "header.Strict-Transport-Security = max-age=63072000\n"
                     "header.Content-Security-Policy = default-src 'self'; img-src *\n"
                     "mime.md = text/markdown\n"
                     "mime.WASM = application/wasm\n"
                     "expires.css = 7d\n"
                     "expires..js = 12h\n"
                     "expires./static/ = 3600\n"
                     "expires.png = 30m\n"
                     "error_page.404 = /errors/404.html\n"
                     "error_page.500 = /50x.html\n",
            &c);
    assert_string_equal(c.mime_types, "");
    assert_true(c.gzip_static);
    assert_int_equal(c.n_header, 2);
    assert_string_equal(c.header[0].key, "Strict-Transport-Security");
    assert_string_equal(c.header[0].value, "max-age=63072000");
    assert_string_equal(c.header[1].value, "default-src 'self'; img-src *");
    assert_int_equal(c.n_mime, 2);
    assert_string_equal(c.mime[1].key, "WASM");
    assert_string_equal(c.mime[1].value, "application/wasm");
    assert_int_equal(c.n_expires, 4);
    assert_string_equal(c.expires[0].match, "css");
    assert_int_equal(c.expires[0].secs, 7 * 86400);
    assert_string_equal(c.expires[1].match, "js");
    assert_int_equal(c.expires[1].secs, 12 * 3600);
    assert_string_equal(c.expires[2].match, "/static/");
    assert_int_equal(c.expires[2].secs, 3600);
    assert_int_equal(c.expires[3].secs, 1800);
    assert_int_equal(c.n_error_page, 2);
    assert_string_equal(c.error_page[0].key, "404");
    assert_string_equal(c.error_page[0].value, "/errors/404.html");

    load_ok(REQUIRED "[http]\naccess_log = /var/log/a.log\naccess_log_format = json\n"
                     "error_log = e.log\nerror_log_level = warn\n",
            &c);
    assert_string_equal(c.access_log, "/var/log/a.log");
    assert_int_equal(c.access_log_format, 1);
    assert_non_null(strstr(c.error_log, "/e.log"));
    assert_int_equal(c.error_log_level, 1);
    load_ok(REQUIRED "[http]\nmime_types = types.txt\n", &c);
    assert_non_null(strstr(c.mime_types, "/types.txt"));
    assert_int_equal(c.mime_types[0], '/');

    tail_fails("[http]\nheader.X Y = z\n",
               ":6: [http] header.X Y: 'X Y' is not a header name");
    tail_fails("[http]\nheader.Content-Length = 5\n",
               ":6: [http] header.Content-Length: Content-Length is written by corehttpd "
               "itself");
    tail_fails("[http]\nheader.X-A = \n", ":6: [http] header.X-A: empty value");
    tail_fails("[http]\nheader.X-A = 1\nheader.x-a = 2\n",
               ":7: [http] header.x-a: duplicate key");
    tail_fails("[http]\nmime.a/b = text/plain\n",
               ":6: [http] mime.a/b: 'a/b' is not a file extension");
    tail_fails("[http]\nmime.md = markdown\n",
               ":6: [http] mime.md: 'markdown' is not a media type");
    tail_fails(
        "[http]\nexpires.css = forever\n",
        ":6: [http] expires.css: 'forever' is not a duration (seconds, or N with s, "
        "m, h, d; at most 10 years)");
    tail_fails("[http]\nexpires.css = 4000d\n",
               ":6: [http] expires.css: '4000d' is not a duration (seconds, or N with s, "
               "m, h, d; at most 10 years)");
    tail_fails("[http]\nexpires.css = 1d\nexpires..css = 2d\n",
               ":7: [http] expires..css: duplicate key");
    tail_fails("[http]\nexpires.a b = 1d\n",
               ":6: [http] expires.a b: 'a b' is neither a path prefix (/...) nor an "
               "extension");
    tail_fails("[http]\nerror_page.200 = /x.html\n",
               ":6: [http] error_page.200: '200' is not a status corehttpd sends with a "
               "page (400 404 405 412 413 414 416 431 500 501 505)");
    tail_fails("[http]\nerror_page.404 = x.html\n",
               ":6: [http] error_page.404: 'x.html' is not a URL path under the root");
    tail_fails("[http]\naccess_log_format = clf\n",
               ":6: [http] access_log_format: 'clf' is not one of combined, json");
    tail_fails("[http]\nerror_log_level = debug\n",
               ":6: [http] error_log_level: 'debug' is not one of error, warn, info");
    tail_fails("[http]\ngzip_static = sometimes\n",
               ":6: [http] gzip_static: 'sometimes' is not a boolean (use yes/no, "
               "true/false, on/off, 1/0)");
    tail_fails("[tcp]\nheader.X-A = 1\n", ":6: [tcp] header.X-A: unknown key");
    tail_fails("[http]\nfoo.bar = 1\n", ":6: [http] foo.bar: unknown key");
}

/* [vhost NAME] sections */
static void test_vhosts(void **state)
{
    (void)state;
    static struct cfg c;
    load_ok(REQUIRED "[http]\nroot = /srv/default\n"
                     "[vhost blog]\n"
                     "hosts = Blog.Example.org www.blog.example.org.\n"
                     "root = /srv/blog\n"
                     "header.X-Site = blog\n"
                     "[vhost shop-2]\n"
                     "hosts = shop.example.org 198.18.0.2\n"
                     "root = shop\n"
                     "index = home.html index.html\n",
            &c);
    assert_int_equal(c.n_vhosts, 2);
    assert_string_equal(c.vhost[0].name, "blog");
    assert_string_equal(c.vhost[0].hosts, "blog.example.org www.blog.example.org");
    assert_string_equal(c.vhost[0].root, "/srv/blog");
    assert_int_equal(c.vhost[0].n_header, 1);
    assert_string_equal(c.vhost[0].header[0].key, "X-Site");
    assert_string_equal(c.vhost[0].index, "");
    assert_string_equal(c.vhost[1].name, "shop-2");
    assert_string_equal(c.vhost[1].index, "home.html index.html");
    assert_non_null(strstr(c.vhost[1].root, "/shop"));
    assert_int_equal(c.vhost[1].root[0], '/');

    tail_fails("[vhost a]\nroot = /x\n", ":5: [vhost a] hosts: missing required key");
    tail_fails("[vhost a]\nhosts = a.org\n", ":5: [vhost a] root: missing required key");
    tail_fails("[vhost a]\nhosts = a.org\nroot = /x\n[vhost a]\n",
               ":8: [vhost a]: duplicate section (first on line 5)");
    tail_fails("[vhost a]\nhosts = a.org\nroot = /x\n[vhost b]\nhosts = b.org "
               "A.org\nroot = /y\n",
               ":8: [vhost b] hosts: a.org is also a host of [vhost a]");
    tail_fails("[vhost a]\nhosts = a_b.org\n",
               ":6: [vhost a] hosts: 'a_b.org' is not a host name");
    tail_fails("[vhost a]\nhosts =\n", ":6: [vhost a] hosts: empty value");
    tail_fails("[vhost a]\nlisten = 80\n", ":6: [vhost a] listen: unknown key");
    tail_fails("[vhost a]\nheader.Date = x\n",
               ":6: [vhost a] header.Date: Date is written by corehttpd itself");
    tail_fails("[vhost a]\nindex = a/b\n",
               ":6: [vhost a] index: 'a/b' is not a plain file name");
    tail_fails("[vhost a b]\n", ":5: [vhost a b]: unknown section");
    tail_fails("[vhost]\n", ":5: [vhost]: unknown section");
}

static void test_unknown_key(void **state)
{
    (void)state;
    tail_fails("[http]\nlisten = 8080\nlisen = 80\n", ":7: [http] lisen: unknown key");
    /* a key of another section */
    tail_fails("[tcp]\nmtu = 1500\n", ":6: [tcp] mtu: unknown key");
    /* names are case-sensitive */
    tail_fails("[http]\nListen = 80\n", ":6: [http] Listen: unknown key");
}

static void test_unknown_section(void **state)
{
    (void)state;
    /* reported at the header even when no key follows it */
    tail_fails("[sectn]\n", ":5: [sectn]: unknown section");
    tail_fails("\n[http]\nlisten = 80\n[sectn]\nfoo = 1\n",
               ":8: [sectn]: unknown section");
    tail_fails("[HTTP]\n", ":5: [HTTP]: unknown section");
    tail_fails("[ http ]\n", ":5: [ http ]: unknown section");
}

static void test_bools(void **state)
{
    (void)state;
    static const char *const yes[] = {"yes", "YES", "true", "True", "on", "1"};
    static const char *const no[] = {"no", "No", "false", "FALSE", "off", "0"};
    char text[256];
    struct cfg c;

    for (size_t i = 0; i < 6; i++) {
        snprintf(text, sizeof text, REQUIRED "[http]\nkeepalive = %s\n", no[i]);
        load_ok(text, &c);
        assert_false(c.keepalive);
        snprintf(text, sizeof text, REQUIRED "[http]\nkeepalive = %s\n", yes[i]);
        load_ok(text, &c);
        assert_true(c.keepalive);
    }
    load_fails("[dpdk]\nport = x\nhugepages = maybe\n[net]\naddress = 198.18.0.2\n",
               ":3: [dpdk] hugepages: 'maybe' is not a boolean "
               "(use yes/no, true/false, on/off, 1/0)");
    tail_fails("[http]\nkeepalive = yes please\n",
               ":6: [http] keepalive: 'yes please' is not a boolean "
               "(use yes/no, true/false, on/off, 1/0)");
    tail_fails("[http]\nkeepalive =\n", ":6: [http] keepalive: '' is not a boolean "
                                        "(use yes/no, true/false, on/off, 1/0)");
}

static void test_addresses(void **state)
{
    (void)state;
    struct cfg c;

    load_ok("[dpdk]\nport=x\n[net]\naddress = 198.18.0.2\n", &c);
    assert_int_equal(c.ip, IP(198, 18, 0, 2));
    assert_int_equal(c.netmask, 0xffffff00u);
    load_ok("[dpdk]\nport=x\n[net]\naddress = 10.0.0.1/8\n", &c);
    assert_int_equal(c.ip, IP(10, 0, 0, 1));
    assert_int_equal(c.netmask, 0xff000000u);
    load_ok("[dpdk]\nport=x\n[net]\naddress = 172.16.5.4/12\n", &c);
    assert_int_equal(c.netmask, 0xfff00000u);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *value, *reason;
    } bad[] = {
        {"300.1.1.1/24", "'300.1.1.1/24' is not an IPv4 address A.B.C.D[/N]"},
        {"1.2.3/24", "'1.2.3/24' is not an IPv4 address A.B.C.D[/N]"},
        {"1.2.3.4.5", "'1.2.3.4.5' is not an IPv4 address A.B.C.D[/N]"},
        {"010.1.1.1", "'010.1.1.1' is not an IPv4 address A.B.C.D[/N]"},
        {"1.2.3.4/24x", "prefix length in '1.2.3.4/24x' must be 1..32"},
        {"1.2.3.4/33", "prefix length in '1.2.3.4/33' must be 1..32"},
        {"1.2.3.4/0", "prefix length in '1.2.3.4/0' must be 1..32"},
        {"1.2.3.4/", "prefix length in '1.2.3.4/' must be 1..32"},
        {"1.2.3.4/-8", "prefix length in '1.2.3.4/-8' must be 1..32"},
        {"-1.2.3.4", "'-1.2.3.4' is not an IPv4 address A.B.C.D[/N]"},
        {"host.example", "'host.example' is not an IPv4 address A.B.C.D[/N]"},
        {"", "'' is not an IPv4 address A.B.C.D[/N]"},
        {"0.0.0.0/24", "0.0.0.0 is not a unicast host address"},
        {"127.0.0.1/8", "127.0.0.1 is not a unicast host address"},
        {"224.0.0.1/24", "224.0.0.1 is not a unicast host address"},
        {"255.255.255.255/32", "255.255.255.255 is not a unicast host address"},
        {"198.18.0.0/24", "198.18.0.0 is the network address of /24"},
        {"198.18.0.255", "198.18.0.255 is the broadcast address of /24"},
    };
    char text[256], suffix[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "[dpdk]\nport = x\n[net]\naddress = %s\n",
                 bad[i].value);
        snprintf(suffix, sizeof suffix, ":4: [net] address: %s", bad[i].reason);
        load_fails(text, suffix);
    }
    /* /31 and /32 have no network or broadcast address */
    struct cfg c;
    load_ok("[dpdk]\nport = x\n[net]\naddress = 198.18.0.0/31\n", &c);
    assert_int_equal(c.netmask, 0xfffffffeu);
    load_ok("[dpdk]\nport = x\n[net]\naddress = 198.18.0.255/32\n", &c);
    assert_int_equal(c.netmask, 0xffffffffu);
}

static void test_gateway(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "gateway =\n", &c);
    assert_int_equal(c.gateway, 0);
    load_ok(REQUIRED "gateway = 198.18.0.254\n", &c);
    assert_int_equal(c.gateway, IP(198, 18, 0, 254));
    tail_fails("gateway = 198.18.1.1\n", ":5: [net] gateway: 198.18.1.1 is not in "
                                         "198.18.0.0/24");
    tail_fails("gateway = 198.18.0.2\n",
               ":5: [net] gateway: 198.18.0.2 is this host's own address");
    tail_fails("gateway = 198.18.0.1/24\n",
               ":5: [net] gateway: '198.18.0.1/24' is not an IPv4 address A.B.C.D");
    /* the subnet check uses the address even when it comes later */
    load_ok("[dpdk]\nport = x\n[net]\ngateway = 10.9.0.1\naddress = 10.9.8.7/16\n", &c);
    assert_int_equal(c.gateway, IP(10, 9, 0, 1));
}

static void test_mtu(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "mtu = 68\n", &c);
    assert_int_equal(c.mtu, 68);
    load_ok(REQUIRED "mtu = 9000\n", &c);
    assert_int_equal(c.mtu, 9000);
    tail_fails("mtu = 67\n", ":5: [net] mtu: 67 is out of range 68..9000");
    tail_fails("mtu = 9001\n", ":5: [net] mtu: 9001 is out of range 68..9000");
    tail_fails("mtu = 1500x\n", ":5: [net] mtu: '1500x' is not a number (expected "
                                "68..9000)");
    tail_fails("mtu = -1\n", ":5: [net] mtu: '-1' is not a number (expected 68..9000)");
    tail_fails("mtu = +1500\n", ":5: [net] mtu: '+1500' is not a number (expected "
                                "68..9000)");
    tail_fails("mtu = 0x5dc\n", ":5: [net] mtu: '0x5dc' is not a number (expected "
                                "68..9000)");
    tail_fails("mtu = 1 500\n", ":5: [net] mtu: '1 500' is not a number (expected "
                                "68..9000)");
    tail_fails("mtu = 99999999999999999999999\n",
               ":5: [net] mtu: 99999999999999999999999 is out of range 68..9000");
    tail_fails("mtu =\n", ":5: [net] mtu: empty value (expected 68..9000)");
}

static void test_numbers(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "[http]\nlisten = 65535\nmax_request_bytes = 512\n", &c);
    assert_int_equal(c.listen, 65535);
    assert_int_equal(c.max_request_bytes, 512);
    load_ok(REQUIRED "[http]\nlisten = 1\nmax_request_bytes = 1048576\n", &c);
    assert_int_equal(c.listen, 1);
    assert_int_equal(c.max_request_bytes, 1048576);

    tail_fails("[http]\nlisten = 0\n", ":6: [http] listen: 0 is out of range 1..65535");
    tail_fails("[http]\nlisten = 65536\n",
               ":6: [http] listen: 65536 is out of range 1..65535");
    tail_fails("[http]\nmax_request_bytes = 511\n",
               ":6: [http] max_request_bytes: 511 is out of range 512..1048576");
    tail_fails("[http]\nmax_request_bytes = 1048577\n",
               ":6: [http] max_request_bytes: 1048577 is out of range 512..1048576");
    tail_fails("[http]\nkeepalive_requests = 0\n",
               ":6: [http] keepalive_requests: 0 is out of range 1..1000000");
    tail_fails("[dpdk]\nmemory_mb = 4294967296\n",
               ":6: [dpdk] memory_mb: 4294967296 is out of range 16..1048576");
    tail_fails("[tcp]\nrcvbuf = 512\n", ":6: [tcp] rcvbuf: 512 is out of range "
                                        "1024..67108864");
    tail_fails("[tcp]\nsndbuf = 1k\n", ":6: [tcp] sndbuf: '1k' is not a number "
                                       "(expected 1024..67108864)");
    tail_fails("[tcp]\nmsl_ms = 0\n", ":6: [tcp] msl_ms: 0 is out of range 1..120000");
    tail_fails("[tcp]\nmax_flows = 8\n",
               ":6: [tcp] max_flows: 8 is out of range 16..16777216");
}

static void test_impairment(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "[dpdk]\nimpair_delay_ms = 1000\nimpair_reorder_pct = 100\n"
                     "impair_reorder_gap_ms = 1\nimpair_seed = 4294967295\n"
                     "impair_direction = rx\n",
            &c);
    assert_int_equal(c.impair_delay_ms, 1000);
    assert_int_equal(c.impair_reorder_pct, 100);
    assert_int_equal(c.impair_reorder_gap_ms, 1);
    assert_int_equal(c.impair_seed, 4294967295u);
    assert_int_equal(c.impair_dirs, CFG_IMPAIR_RX);
    load_ok(REQUIRED "[dpdk]\nimpair_delay_ms = 0\nimpair_reorder_pct = 0\n"
                     "impair_reorder_gap_ms = 1000\nimpair_seed = 0\n"
                     "impair_direction = tx\n",
            &c);
    assert_int_equal(c.impair_delay_ms, 0);
    assert_int_equal(c.impair_reorder_pct, 0);
    assert_int_equal(c.impair_reorder_gap_ms, 1000);
    assert_int_equal(c.impair_seed, 0);
    assert_int_equal(c.impair_dirs, CFG_IMPAIR_TX);
    load_ok(REQUIRED "[dpdk]\nimpair_direction = both\n", &c);
    assert_int_equal(c.impair_dirs, CFG_IMPAIR_RX | CFG_IMPAIR_TX);

    tail_fails("[dpdk]\nimpair_delay_ms = 1001\n",
               ":6: [dpdk] impair_delay_ms: 1001 is out of range 0..1000");
    tail_fails("[dpdk]\nimpair_delay_ms = 10ms\n",
               ":6: [dpdk] impair_delay_ms: '10ms' is not a number (expected 0..1000)");
    tail_fails("[dpdk]\nimpair_reorder_pct = 101\n",
               ":6: [dpdk] impair_reorder_pct: 101 is out of range 0..100");
    tail_fails("[dpdk]\nimpair_reorder_gap_ms = 0\n",
               ":6: [dpdk] impair_reorder_gap_ms: 0 is out of range 1..1000");
    tail_fails("[dpdk]\nimpair_reorder_gap_ms = 1001\n",
               ":6: [dpdk] impair_reorder_gap_ms: 1001 is out of range 1..1000");
    tail_fails("[dpdk]\nimpair_seed = 4294967296\n",
               ":6: [dpdk] impair_seed: 4294967296 is out of range 0..4294967295");
    tail_fails(
        "[dpdk]\nimpair_direction = in\n",
        ":6: [dpdk] impair_direction: 'in' is not a direction (use both, rx or tx)");
    tail_fails("[dpdk]\nimpair_direction =\n",
               ":6: [dpdk] impair_direction: '' is not a direction (use both, rx or tx)");
    /* [dpdk] keys only */
    tail_fails("[net]\nimpair_delay_ms = 10\n", ":6: [net] impair_delay_ms: unknown key");
}

static void test_flows_cover_conns(void **state)
{
    (void)state;
    tail_fails("[tcp]\nmax_conns = 100000\n",
               ":6: [tcp] max_conns: 100000 is more than max_flows (65536)");
    /* lowering only max_flows blames the key that was written */
    tail_fails("[tcp]\nmax_flows = 1024\n",
               ":6: [tcp] max_flows: 1024 is less than max_conns (8192)");
}

static void test_core_lists(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "[cores]\nlist = 0\n", &c);
    assert_int_equal(c.n_cores, 1);
    assert_int_equal(c.cores[0], 0);
    load_ok(REQUIRED "[cores]\nlist = 0,2\n", &c);
    assert_int_equal(c.n_cores, 2);
    assert_int_equal(c.cores[1], 2);
    load_ok(REQUIRED "[cores]\nlist = 1-3\n", &c);
    assert_int_equal(c.n_cores, 3);
    assert_int_equal(c.cores[0], 1);
    assert_int_equal(c.cores[2], 3);
    /* duplicates merged, sorted, blanks around items allowed */
    load_ok(REQUIRED "[cores]\nlist = 5, 2-4,3 , 2,5-5\n", &c);
    assert_int_equal(c.n_cores, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(c.cores[i], 2 + i);
    load_ok(REQUIRED "[cores]\nlist = 1023\n", &c);
    assert_int_equal(c.cores[0], 1023);
    load_ok(REQUIRED "[cores]\nlist = 0-63\n", &c);
    assert_int_equal(c.n_cores, CFG_MAX_CORES);

    static const struct {
        const char *value, *reason;
    } bad[] = {
        {"", "empty core list"},
        {"a", "'a' is not a core list like 0,2-3"},
        {"1-", "'1-' is not a core list like 0,2-3"},
        {"-1", "'-1' is not a core list like 0,2-3"},
        {"1,,2", "'1,,2' is not a core list like 0,2-3"},
        {"1,", "'1,' is not a core list like 0,2-3"},
        {"1 2", "'1 2' is not a core list like 0,2-3"},
        {"1-2-3", "'1-2-3' is not a core list like 0,2-3"},
        {"0x1", "'0x1' is not a core list like 0,2-3"},
        {"3-1", "range 3-1 is reversed"},
        {"1024", "core numbers must be 0..1023 in '1024'"},
        {"0-1024", "core numbers must be 0..1023 in '0-1024'"},
        {"99999999999999999999999", "core numbers must be 0..1023 in "
                                    "'99999999999999999999999'"},
        {"0-64", "more than 64 cores"},
    };
    char text[256], suffix[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, REQUIRED "[cores]\nlist = %s\n", bad[i].value);
        snprintf(suffix, sizeof suffix, ":6: [cores] list: %s", bad[i].reason);
        load_fails(text, suffix);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    cfg_defaults(&c);
    assert_int_equal(cfg_load(&c, "/tmp/corehttpd-no-such-dir/demo.ini", err, sizeof err),
                     -1);
    assert_string_equal(err,
                        "/tmp/corehttpd-no-such-dir/demo.ini: cannot open: No such file "
                        "or directory");
    assert_int_equal(cfg_load(&c, "/tmp", err, sizeof err), -1);
    assert_string_equal(err, "/tmp: cannot open: Is a directory");
}

static void test_missing_required(void **state)
{
    (void)state;
    load_fails("[net]\naddress = 198.18.0.2/24\n", ": [dpdk] port: missing required key");
    load_fails("[dpdk]\nport = x\n", ": [net] address: missing required key");
    load_fails("", ": [dpdk] port: missing required key");
    load_fails("[dpdk]\nport =\n[net]\naddress = 198.18.0.2\n",
               ":2: [dpdk] port: empty value");
    load_fails("[dpdk]\nport = net_tap0, iface=x\n[net]\naddress = 198.18.0.2\n",
               ":2: [dpdk] port: 'net_tap0, iface=x' contains blanks or control "
               "characters");
}

static void test_inline_comments(void **state)
{
    (void)state;
    struct cfg c;
    load_ok("; a comment\n"
            "# another\n"
            "[dpdk] ; the EAL\n"
            "port = net_tap0,iface=t0   ; a vdev\n"
            "hugepages = no\t; tab before the comment\n"
            "eal_args = --a --b ; two args\n"
            "[net]\n"
            "address = 198.18.0.2/24 ; host\n"
            "mtu = 1400 ;; two semicolons\n"
            "[cores] ; pairs\n"
            "list = 0-1 ; two\n",
            &c);
    assert_string_equal(c.port, "net_tap0,iface=t0");
    assert_false(c.hugepages);
    assert_string_equal(c.eal_args, "--a --b");
    assert_int_equal(c.ip, IP(198, 18, 0, 2));
    assert_int_equal(c.mtu, 1400);
    assert_int_equal(c.n_cores, 2);
}

static void test_inline_comment_needs_blank(void **state)
{
    (void)state;
    tail_fails("mtu = 1400;x\n",
               ":5: [net] mtu: '1400;x' is not a number (expected 68..9000)");
    /* '#' starts a comment only at the start of a line */
    tail_fails("mtu = 1400 # x\n",
               ":5: [net] mtu: '1400 # x' is not a number (expected 68..9000)");
}

static void test_empty_values(void **state)
{
    (void)state;
    struct cfg c;
    load_ok(REQUIRED "gateway =\n[dpdk]\neal_args =\n", &c);
    assert_string_equal(c.eal_args, "");
    assert_int_equal(c.gateway, 0);
    load_ok(REQUIRED "[dpdk]\neal_args = ; nothing\n", &c);
    assert_string_equal(c.eal_args, "");
    tail_fails("[http]\nroot =\n", ":6: [http] root: empty value");
    tail_fails("[http]\nindex =\n", ":6: [http] index: empty value");
    tail_fails("[http]\nserver_name =\n", ":6: [http] server_name: empty value");
    tail_fails("[http]\nlisten =\n",
               ":6: [http] listen: empty value (expected 1..65535)");
}

static void test_strings(void **state)
{
    (void)state;
    tail_fails("[http]\nindex = a/b.html\n",
               ":6: [http] index: 'a/b.html' is not a plain file name");
    tail_fails("[http]\nindex = ..\n", ":6: [http] index: '..' is not a plain file name");
    tail_fails("[http]\nindex = a.html b/c.html\n",
               ":6: [http] index: 'b/c.html' is not a plain file name");
    tail_fails("[http]\nindex = a b c d e f g h i\n",
               ":6: [http] index: more than 8 names");
    tail_fails("[http]\nmax_uri_bytes = 4096\n",
               ":6: [http] max_uri_bytes: 4096 is out of range 16..2048");
    tail_fails("[http]\nmax_body_bytes = 0\n",
               ":6: [http] max_body_bytes: 0 is out of range 1..1073741824");
    tail_fails(
        "[http]\nserve_dotfiles = maybe\n",
        ":6: [http] serve_dotfiles: 'maybe' is not a boolean (use yes/no, true/false, "
        "on/off, 1/0)");
    tail_fails("[http]\nserver_name = a\tb\n",
               ":6: [http] server_name: only printable ASCII is allowed");
    tail_fails("[http]\nserver_name = "
               "0123456789012345678901234567890123456789012345678901234567890123\n",
               ":6: [http] server_name: longer than 63 bytes");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    tail_fails("[http]\nlisten = 80\n[net]\nmtu = 1500\n[http]\nlisten = 81\n",
               ":10: [http] listen: duplicate key (first set on line 6)");
}

static void test_syntax(void **state)
{
    (void)state;
    tail_fails("[http]\njust some words\n",
               ":6: expected 'key = value', '[section]' or a comment");
    tail_fails("[http\n", ":5: '[' without a closing ']'");
    tail_fails("[http] listen = 80\n", ":5: [http]: text after the section name");
    load_fails("port = x\n[dpdk]\n", ":1: port: key before the first [section]");
    /* "key: value" is inih's other spelling */
    struct cfg c;
    load_ok(REQUIRED "[http]\nlisten: 8080\n", &c);
    assert_int_equal(c.listen, 8080);
}

static void test_indented_and_crlf(void **state)
{
    (void)state;
    struct cfg c;
    /* indented keys are keys, not continuations of the line above */
    load_ok("\xEF\xBB\xBF[dpdk]\r\n"
            "    port = x\r\n"
            "\thugepages = no\r\n"
            "  [net]\r\n"
            "  address = 198.18.0.9\r\n"
            "    mtu = 1280\r\n",
            &c);
    assert_string_equal(c.port, "x");
    assert_false(c.hugepages);
    assert_int_equal(c.ip, IP(198, 18, 0, 9));
    assert_int_equal(c.mtu, 1280);
}

static void test_long_line(void **state)
{
    (void)state;
    char text[1024];
    char args[300];
    memset(args, 'a', sizeof args - 1);
    args[sizeof args - 1] = '\0';
    snprintf(text, sizeof text, REQUIRED "[dpdk]\neal_args = %s\n[http]\nlisten = 8\n",
             args);
    load_fails(text, ":6: line longer than 197 bytes");

    /* the longest accepted line */
    struct cfg c;
    args[197 - strlen("eal_args = ")] = '\0';
    snprintf(text, sizeof text, REQUIRED "[dpdk]\neal_args = %s\n[http]\nlisten = 8\n",
             args);
    load_ok(text, &c);
    assert_int_equal(strlen(c.eal_args), 197 - strlen("eal_args = "));
    assert_int_equal(c.listen, 8);
}

static void test_failure_leaves_cfg_untouched(void **state)
{
    (void)state;
    struct cfg c, before;
    char err[256], path[64];
    snprintf(path, sizeof path, "/tmp/corehttpd-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, REQUIRED "mtu = 9000\n[http]\nlisten = 8080\nbogus = 1\n");
    cfg_defaults(&c);
    memcpy(&before, &c, sizeof c);
    assert_int_equal(cfg_load(&c, path, err, sizeof err), -1);
    assert_memory_equal(&c, &before, sizeof c);

    /* short and absent error buffers are safe */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(cfg_load(&c, path, small, sizeof small), -1);
    assert_int_equal(small[sizeof small - 1], '\0');
    assert_int_equal(cfg_load(&c, path, NULL, 0), -1);
    unlink(path);
}

static void test_root_relative_to_ini(void **state)
{
    (void)state;
    char dir[64], ini[128], www[128], want[PATH_MAX + 16], real[PATH_MAX];
    char err[512];
    struct cfg c;

    snprintf(dir, sizeof dir, "/tmp/corehttpd-cfgdir-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ini, sizeof ini, "%s/site.ini", dir);
    snprintf(www, sizeof www, "%s/www", dir);
    assert_int_equal(mkdir(www, 0755), 0);
    assert_non_null(realpath(dir, real));

    write_file(ini, REQUIRED "[http]\nroot = www\n");
    cfg_defaults(&c);
    assert_int_equal(cfg_load(&c, ini, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/www", real);
    assert_string_equal(c.root, want);

    /* resolved: "." and ".." are gone */
    write_file(ini, REQUIRED "[http]\nroot = ./www/../www/\n");
    assert_int_equal(cfg_load(&c, ini, err, sizeof err), 0);
    assert_string_equal(c.root, want);

    /* a root that does not exist (yet) is kept absolute, unresolved */
    write_file(ini, REQUIRED "[http]\nroot = later/site\n");
    assert_int_equal(cfg_load(&c, ini, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/later/site", real);
    assert_string_equal(c.root, want);

    /* from another working directory, through a relative ini path */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir("/tmp"), 0);
    snprintf(ini, sizeof ini, "%s/site.ini", dir + strlen("/tmp/"));
    write_file(ini, REQUIRED "[http]\nroot = www\n");
    assert_int_equal(cfg_load(&c, ini, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/www", real);
    assert_string_equal(c.root, want);
    assert_int_equal(chdir(cwd), 0);

    snprintf(ini, sizeof ini, "%s/site.ini", dir);
    unlink(ini);
    rmdir(www);
    rmdir(dir);
}

static void test_shipped_demo(void **state)
{
    (void)state;
    char path[PATH_MAX], want[PATH_MAX + 16], real[PATH_MAX], err[512];
    struct cfg c;

    snprintf(path, sizeof path, "%s/config/demo.ini", source_dir());
    cfg_defaults(&c);
    if (cfg_load(&c, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.port, "net_tap0,iface=chttpd0");
    assert_false(c.hugepages);
    assert_int_equal(c.memory_mb, 512);
    assert_string_equal(c.eal_args, "--file-prefix=corehttpd-demo --no-pci");
    assert_int_equal(c.ip, IP(198, 18, 0, 2));
    assert_int_equal(c.netmask, 0xffffff00u);
    assert_int_equal(c.gateway, IP(198, 18, 0, 1));
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(c.n_cores, 1);
    assert_int_equal(c.cores[0], 0);
    assert_int_equal(c.listen, 80);
    assert_string_equal(c.index, "index.html");

    snprintf(path, sizeof path, "%s/config", source_dir());
    assert_non_null(realpath(path, real));
    snprintf(want, sizeof want, "%s/../www", real);
    if (realpath(want, real))
        snprintf(want, sizeof want, "%s", real);
    assert_string_equal(c.root, want);
}

static void test_shipped_template(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "port",
        "hugepages",
        "memory_mb",
        "eal_args",
        "impair_delay_ms",
        "impair_reorder_pct",
        "impair_reorder_gap_ms",
        "impair_seed",
        "impair_direction",
        "address",
        "gateway",
        "mtu",
        "list",
        "max_flows",
        "max_conns",
        "rcvbuf",
        "rcvbuf_max",
        "rcvbuf_grown",
        "sndbuf",
        "sndbuf_max",
        "msl_ms",
        "listen",
        "root",
        "index",
        "keepalive",
        "keepalive_requests",
        "max_request_bytes",
        "serve_dotfiles",
        "keepalive_timeout_ms",
        "header_timeout_ms",
        "send_timeout_ms",
        "max_conns_per_ip",
        "syn_budget",
        "shutdown_timeout_ms",
        "mime_types",
        "gzip_static",
        "access_log",
        "access_log_format",
        "error_log",
        "error_log_level",
        "max_uri_bytes",
        "max_body_bytes",
        "server_name",
        "redirect_https",
        /* [tls]: "tls." + the key (listen is also a key of [http]) */
        "tls.listen",
        "tls.certificate",
        "tls.key",
        "tls.protocols",
        "tls.ciphers",
        "tls.ciphersuites",
        "tls.groups",
        "tls.session_tickets",
        "tls.prefer_server_ciphers",
        "tls.ticket_key_rotation_s",
        "tls.ocsp_response",
        "tls.record_buffers",
        "tls.sndbuf_copied",
    };
    char path[PATH_MAX], err[512], line[256];
    struct cfg c, d;

    snprintf(path, sizeof path, "%s/config/corehttpd.ini", source_dir());
    cfg_defaults(&c);
    if (cfg_load(&c, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(c.hugepages);
    assert_string_equal(c.port, "0000:03:00.0");

    /* apart from the placeholders, the template states the defaults */
    cfg_defaults(&d);
    memcpy(d.port, c.port, sizeof d.port);
    d.ip = c.ip;
    d.netmask = c.netmask;
    memcpy(d.root, c.root, sizeof d.root);
    memcpy(d.path, c.path, sizeof d.path);
    memcpy(d.tls_line, c.tls_line, sizeof d.tls_line);
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(strncmp(c.root, "/", 1), 0);

    /* and documents every key (server_name commented out: its default
     * carries the version) */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned seen[sizeof keys / sizeof keys[0]] = {0};
    bool in_tls = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '[')
            in_tls = strncmp(line, "[tls]", 5) == 0;
        const char *p = line[0] == ';' ? line + 1 : line;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *k = keys[i];
            if (in_tls != (strncmp(k, "tls.", 4) == 0))
                continue;
            size_t n = strlen(in_tls ? k + 4 : k);
            if (in_tls)
                k += 4;
            if (strncmp(p, k, n) == 0 && (p[n] == ' ' || p[n] == '='))
                seen[i]++;
        }
    }
    fclose(f);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (seen[i] != 1)
            fail_msg("key %s appears %u times in corehttpd.ini", keys[i], seen[i]);
}

/* [tls] sndbuf_copied sizes the copy ring of every connection of a core,
 * plain HTTP too (a context has one buffer set size: rcvbuf + copy ring +
 * references, ts_ctx.c). By default TLS leaves it at the stack's own, so a
 * plain connection's buffer set (what it commits while busy; an idle one
 * gives it back) is the same with TLS on as without; an operator may raise
 * it. */
static void test_tls_copy_ring(void **state)
{
    (void)state;
    struct ts_params p;
    ts_params_default(&p);
    struct cfg c;
    cfg_defaults(&c);
    uint32_t plain = cores_snd_copybuf(&c, p.snd_copybuf);
    assert_int_equal(plain, p.snd_copybuf);
    c.tls_listen = 443;
    uint32_t tls = cores_snd_copybuf(&c, p.snd_copybuf);
    if (tls != plain)
        fail_msg("TLS on with the default sndbuf_copied: a %u-byte copy ring per "
                 "connection, %u without TLS",
                 tls, plain);
    c.tls_sndbuf = 65536;
    assert_int_equal(cores_snd_copybuf(&c, p.snd_copybuf), 65536);
    c.tls_listen = 0;
    assert_int_equal(cores_snd_copybuf(&c, p.snd_copybuf), plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_minimal_file_keeps_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_key_families),
        cmocka_unit_test(test_vhosts),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_tls_copy_ring),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_gateway),
        cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_impairment),
        cmocka_unit_test(test_flows_cover_conns),
        cmocka_unit_test(test_core_lists),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_inline_comments),
        cmocka_unit_test(test_inline_comment_needs_blank),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_indented_and_crlf),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_failure_leaves_cfg_untouched),
        cmocka_unit_test(test_root_relative_to_ini),
        cmocka_unit_test(test_shipped_demo),
        cmocka_unit_test(test_shipped_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
