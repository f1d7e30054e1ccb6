/**
 * @file config.c
 * Reads the ini file into struct cfg.
 *
 * inih tokenises; this file hands it the lines through its own reader and
 * checks every value through a table of keys. The reader is what makes the
 * error messages exact:
 *  - it counts lines, so the handler knows the line of the key it is given
 *    (Debian builds inih without INI_HANDLER_LINENO);
 *  - it rejects a line longer than inih's buffer, which inih would otherwise
 *    split into two lines silently;
 *  - it checks a section name on its own line, so "[sectn]" with no keys
 *    under it is still reported (inih calls no handler for a section);
 *  - it strips indentation, so inih never takes an indented key for the
 *    multi-line continuation of the key above it.
 * Debian's inih strips inline comments that start with ';' after whitespace
 * ("mtu = 1500 ; comment"); '#' and ';' start a comment at line start.
 *
 * The file is parsed into a copy: @p c changes only if the whole file is
 * valid, so nothing starts half-configured.
 */
#include "config.h"
#include "tcp_cc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#ifndef COREHTTPD_VERSION
#define COREHTTPD_VERSION "0"
#endif

#define CFG_CORE_ID_MAX 1024 /* core ids are 0..1023 (CPU_SETSIZE) */

struct cfg_key;

struct cfg_ctx {
    struct cfg *c;          /* the copy being filled */
    const char *path;       /* as the caller named it, for messages */
    char dir[CFG_PATH_MAX]; /* absolute folder of the ini file */
    FILE *f;
    char *line;
    size_t line_cap;
    int lineno;
    int *key_line; /* per entry of cfg_keys: line that set it, 0 if unset */
    bool failed;
    int fail_line;
    char *err;
    size_t errlen;
};

/* A value parser: 0, or -1 with a reason in why. */
typedef int (*cfg_parse_fn)(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                            char *why, size_t whylen);

struct cfg_key {
    const char *section;
    const char *name;
    cfg_parse_fn parse;
    size_t off; /* field in struct cfg */
    size_t size;
    unsigned long min, max; /* numbers only */
    bool allow_empty;       /* strings only */
};

static const char *const cfg_sections[] = {"dpdk", "net", "cores", "tcp", "http", "tls"};

/* ---- values ---- */

static int set_uint_field(struct cfg *c, const struct cfg_key *k, unsigned long v)
{
    char *p = (char *)c + k->off;
    switch (k->size) {
    case sizeof(uint16_t): {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, sizeof x);
        return 0;
    }
    case sizeof(uint32_t): {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
        return 0;
    }
    default:
        return -1;
    }
}

/* Strict unsigned decimal: digits only (no sign, blanks, hex), in range. */
static int parse_number(const char *v, unsigned long min, unsigned long max,
                        unsigned long *out, char *why, size_t whylen)
{
    if (*v == '\0') {
        snprintf(why, whylen, "empty value (expected %lu..%lu)", min, max);
        return -1;
    }
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            snprintf(why, whylen, "'%s' is not a number (expected %lu..%lu)", v, min,
                     max);
            return -1;
        }
    }
    errno = 0;
    unsigned long long x = strtoull(v, NULL, 10);
    if (errno == ERANGE || x < min || x > max) {
        snprintf(why, whylen, "%s is out of range %lu..%lu", v, min, max);
        return -1;
    }
    *out = (unsigned long)x;
    return 0;
}

static int parse_uint(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    unsigned long n;
    if (parse_number(v, k->min, k->max, &n, why, whylen) < 0)
        return -1;
    return set_uint_field(x->c, k, n);
}

static int parse_bool(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    bool *field = (bool *)((char *)x->c + k->off);

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *field = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *field = false;
            return 0;
        }
    }
    snprintf(why, whylen, "'%s' is not a boolean (use yes/no, true/false, on/off, 1/0)",
             v);
    return -1;
}

/* [tcp] congestion_control: a name tcpstack knows. */
static int parse_cc(struct cfg_ctx *x, const struct cfg_key *k, const char *v, char *why,
                    size_t whylen)
{
    (void)k;
    int algo = tcp_cc_parse(v);
    if (algo < 0) {
        snprintf(why, whylen,
                 "'%s' is not a congestion control (use newreno, cubic or bbr)", v);
        return -1;
    }
    x->c->cc_algo = (uint8_t)algo;
    return 0;
}

/* [dpdk] impair_direction: both, rx (what the server receives) or tx. */
static int parse_impair_dir(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                            char *why, size_t whylen)
{
    (void)k;
    if (strcmp(v, "both") == 0)
        x->c->impair_dirs = CFG_IMPAIR_RX | CFG_IMPAIR_TX;
    else if (strcmp(v, "rx") == 0)
        x->c->impair_dirs = CFG_IMPAIR_RX;
    else if (strcmp(v, "tx") == 0)
        x->c->impair_dirs = CFG_IMPAIR_TX;
    else {
        snprintf(why, whylen, "'%s' is not a direction (use both, rx or tx)", v);
        return -1;
    }
    return 0;
}

/* A string field: fits, optionally non-empty. */
static int parse_text(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    size_t len = strlen(v);
    if (len == 0 && !k->allow_empty) {
        snprintf(why, whylen, "empty value");
        return -1;
    }
    if (len >= k->size) {
        snprintf(why, whylen, "longer than %zu bytes", k->size - 1);
        return -1;
    }
    memcpy((char *)x->c + k->off, v, len + 1);
    return 0;
}

/* One EAL argument (PCI address or vdev spec): no blanks inside. */
static int parse_port(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    for (const char *p = v; *p; p++) {
        if (!isgraph((unsigned char)*p)) {
            snprintf(why, whylen, "'%s' contains blanks or control characters", v);
            return -1;
        }
    }
    return parse_text(x, k, v, why, whylen);
}

/* A header value: printable ASCII. */
static int parse_header_text(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                             char *why, size_t whylen)
{
    for (const char *p = v; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            snprintf(why, whylen, "only printable ASCII is allowed");
            return -1;
        }
    }
    return parse_text(x, k, v, why, whylen);
}

/* Blank-separated plain file names (no '/', not "." or ".."), at most 8. */
static int index_list_ok(const char *v, char *why, size_t whylen)
{
    unsigned n = 0;
    for (const char *p = v;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, " \t");
        if (memchr(p, '/', len) || (len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.')) {
            snprintf(why, whylen, "'%.*s' is not a plain file name", (int)len, p);
            return -1;
        }
        if (++n > 8) {
            snprintf(why, whylen, "more than 8 names");
            return -1;
        }
        p += len;
    }
    if (n == 0) {
        snprintf(why, whylen, "empty value");
        return -1;
    }
    return 0;
}

static int parse_index_list(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                            char *why, size_t whylen)
{
    if (index_list_ok(v, why, whylen) < 0)
        return -1;
    return parse_text(x, k, v, why, whylen);
}

/* Strict dotted quad: four decimal octets, no leading zeros (inet_aton would
 * read "010" as octal). Returns the end of the address or NULL. */
static const char *scan_ipv4(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return NULL;
        if (!isdigit((unsigned char)s[0]))
            return NULL;
        unsigned octet = 0;
        int digits = 0;
        while (isdigit((unsigned char)*s) && digits < 4) {
            octet = octet * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (digits > 3 || octet > 255 || (digits > 1 && s[-digits] == '0'))
            return NULL;
        ip = ip << 8 | octet;
    }
    *out = ip;
    return s;
}

static void format_ipv4(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
             ip & 0xff);
}

/* A host may use neither 0.0.0.0/8, loopback, nor 224.0.0.0/3 (multicast,
 * reserved, broadcast). */
static bool ipv4_is_unicast_host(uint32_t ip)
{
    uint32_t first = ip >> 24;
    return first != 0 && first != 127 && first < 224;
}

static uint32_t prefix_mask(unsigned n)
{
    return n == 0 ? 0 : ~0u << (32 - n);
}

static int parse_address(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                         char *why, size_t whylen)
{
    (void)k;
    uint32_t ip;
    unsigned long prefix = 24;
    char a[16];
    const char *end = scan_ipv4(v, &ip);

    if (end && *end == '/') {
        const char *p = end + 1;
        if (*p == '\0' || strlen(p) > 2 ||
            parse_number(p, 1, 32, &prefix, why, whylen) < 0) {
            snprintf(why, whylen, "prefix length in '%s' must be 1..32", v);
            return -1;
        }
        end = p + strlen(p);
    }
    if (!end || *end != '\0') {
        snprintf(why, whylen, "'%s' is not an IPv4 address A.B.C.D[/N]", v);
        return -1;
    }
    format_ipv4(ip, a);
    if (!ipv4_is_unicast_host(ip)) {
        snprintf(why, whylen, "%s is not a unicast host address", a);
        return -1;
    }
    uint32_t mask = prefix_mask((unsigned)prefix);
    if (prefix <= 30 && (ip & ~mask) == 0) {
        snprintf(why, whylen, "%s is the network address of /%lu", a, prefix);
        return -1;
    }
    if (prefix <= 30 && (ip & ~mask) == ~mask) {
        snprintf(why, whylen, "%s is the broadcast address of /%lu", a, prefix);
        return -1;
    }
    x->c->ip = ip;
    x->c->netmask = mask;
    return 0;
}

/* Empty means no gateway (on-link peers only). */
static int parse_gateway(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                         char *why, size_t whylen)
{
    (void)k;
    uint32_t ip;
    char a[16];

    if (*v == '\0') {
        x->c->gateway = 0;
        return 0;
    }
    const char *end = scan_ipv4(v, &ip);
    if (!end || *end != '\0') {
        snprintf(why, whylen, "'%s' is not an IPv4 address A.B.C.D", v);
        return -1;
    }
    format_ipv4(ip, a);
    if (!ipv4_is_unicast_host(ip)) {
        snprintf(why, whylen, "%s is not a unicast host address", a);
        return -1;
    }
    x->c->gateway = ip;
    return 0;
}

/* "0", "0,2", "1-3", "0, 4-5": sorted ascending, duplicates merged. */
static int parse_cores(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                       char *why, size_t whylen)
{
    (void)k;
    bool used[CFG_CORE_ID_MAX] = {false};
    const char *p = v;

    if (*v == '\0') {
        snprintf(why, whylen, "empty core list");
        return -1;
    }
    for (;;) {
        unsigned long lo, hi;
        char *end;

        while (*p == ' ' || *p == '\t')
            p++;
        if (!isdigit((unsigned char)*p))
            goto bad;
        errno = 0;
        lo = strtoul(p, &end, 10);
        hi = lo;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            hi = strtoul(p, &end, 10);
            p = end;
        }
        if (errno == ERANGE || lo >= CFG_CORE_ID_MAX || hi >= CFG_CORE_ID_MAX) {
            snprintf(why, whylen, "core numbers must be 0..%d in '%s'",
                     CFG_CORE_ID_MAX - 1, v);
            return -1;
        }
        if (hi < lo) {
            snprintf(why, whylen, "range %lu-%lu is reversed", lo, hi);
            return -1;
        }
        for (unsigned long i = lo; i <= hi; i++)
            used[i] = true;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            goto bad;
    }

    unsigned n = 0;
    for (unsigned i = 0; i < CFG_CORE_ID_MAX; i++) {
        if (!used[i])
            continue;
        if (n == CFG_MAX_CORES) {
            snprintf(why, whylen, "more than %d cores", CFG_MAX_CORES);
            return -1;
        }
        x->c->cores[n++] = i;
    }
    x->c->n_cores = n;
    return 0;
bad:
    snprintf(why, whylen, "'%s' is not a core list like 0,2-3", v);
    return -1;
}

/* Relative to the ini file's folder; stored resolved when it exists (the
 * cache reports a missing root when it is built). */
static int resolve_dir(struct cfg_ctx *x, const char *v, char *out, size_t cap, char *why,
                       size_t whylen);

static int parse_root(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    (void)k;
    return resolve_dir(x, v, x->c->root, sizeof x->c->root, why, whylen);
}

/* A folder relative to the ini file's, stored resolved when it exists. */
static int resolve_dir(struct cfg_ctx *x, const char *v, char *out, size_t cap, char *why,
                       size_t whylen)
{
    char joined[CFG_PATH_MAX];
    char resolved[PATH_MAX];
    int n;

    if (*v == '\0') {
        snprintf(why, whylen, "empty value");
        return -1;
    }
    if (v[0] == '/')
        n = snprintf(joined, sizeof joined, "%s", v);
    else
        n = snprintf(joined, sizeof joined, "%s/%s", x->dir, v);
    if (n < 0 || (size_t)n >= sizeof joined) {
        snprintf(why, whylen, "path longer than %d bytes", CFG_PATH_MAX - 1);
        return -1;
    }
    if (realpath(joined, resolved) && strlen(resolved) < cap)
        snprintf(out, cap, "%s", resolved);
    else
        snprintf(out, cap, "%s", joined);
    return 0;
}

/* ---- [http] status page ---- */

/* A path as the request's target normalises to: '/' then segments of
 * unreserved characters, none empty, "." or ".."; not "/" itself. */
static int parse_status_path(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                             char *why, size_t whylen)
{
    (void)k;
    size_t n = strlen(v);
    bool ok = n == 0 || (v[0] == '/' && n > 1 && n < sizeof x->c->status_path);

    for (size_t i = 0, seg = 1; ok && i < n; i++) {
        char c = v[i];
        if (c == '/') {
            ok = i == 0 || (i + 1 < n && v[i - 1] != '/');
            seg = i + 1;
            continue;
        }
        ok = isalnum((unsigned char)c) || strchr("-._~", c) != NULL;
        if (ok && c == '.' && (i + 1 == n || v[i + 1] == '/'))
            ok = !(i == seg || (i == seg + 1 && v[seg] == '.'));
    }
    if (!ok) {
        snprintf(why, whylen,
                 "'%s' is not a path like /server-status (letters, digits, - . _ ~ "
                 "between single slashes, no . or .. segment, under %zu bytes), nor "
                 "empty",
                 v, sizeof x->c->status_path);
        return -1;
    }
    memcpy(x->c->status_path, v, n + 1);
    return 0;
}

/* "198.18.0.0/24, 10.1.2.3": networks (a bare address is a /32); empty is
 * nobody. Host bits set under the prefix are an error, as they usually mean
 * a typo in the prefix. */
static int parse_status_allow(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                              char *why, size_t whylen)
{
    (void)k;
    struct cfg *c = x->c;
    const char *p = v;

    c->n_status_allow = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p) {
        uint32_t ip;
        unsigned long prefix = 32;
        const char *end = scan_ipv4(p, &ip);
        char a[16];

        if (end && *end == '/') {
            char num[4] = {0};
            size_t len = strspn(end + 1, "0123456789");
            if (len == 0 || len > 2) {
                end = NULL;
            } else {
                memcpy(num, end + 1, len);
                if (parse_number(num, 0, 32, &prefix, why, whylen) < 0)
                    end = NULL;
                else
                    end += 1 + len;
            }
        }
        if (!end || (*end != '\0' && *end != ',' && *end != ' ' && *end != '\t')) {
            snprintf(why, whylen, "'%s': expected a list of A.B.C.D[/N], comma-separated",
                     v);
            return -1;
        }
        uint32_t mask = prefix_mask((unsigned)prefix);
        if (ip & ~mask) {
            format_ipv4(ip, a);
            snprintf(why, whylen, "%s/%lu has host bits set", a, prefix);
            return -1;
        }
        if (c->n_status_allow == CFG_STATUS_ALLOW_MAX) {
            snprintf(why, whylen, "more than %d networks", CFG_STATUS_ALLOW_MAX);
            return -1;
        }
        c->status_allow[c->n_status_allow].net = ip;
        c->status_allow[c->n_status_allow].mask = mask;
        c->n_status_allow++;
        p = end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0') {
                snprintf(why, whylen, "'%s' ends with a comma", v);
                return -1;
            }
        }
    }
    return 0;
}

/* [http] mime_types: a file path (relative to the ini's folder), or empty. */
static int parse_path_or_empty(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                               char *why, size_t whylen)
{
    char *field = (char *)x->c + k->off;
    int n;
    if (*v == '\0' || v[0] == '/')
        n = snprintf(field, k->size, "%s", v);
    else
        n = snprintf(field, k->size, "%s/%s", x->dir, v);
    if (n < 0 || (size_t)n >= k->size) {
        snprintf(why, whylen, "path longer than %zu bytes", k->size - 1);
        return -1;
    }
    return 0;
}

/* A word of a list, stored as its index in a uint8_t field. */
static int parse_word(const char *v, const char *const *words, size_t n, uint8_t *out,
                      char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, words[i]) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    int len = snprintf(why, whylen, "'%s' is not one of", v);
    for (size_t i = 0; i < n && len > 0 && (size_t)len < whylen; i++)
        len += snprintf(why + len, whylen - (size_t)len, "%s %s", i ? "," : "", words[i]);
    return -1;
}

static int parse_log_format(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                            char *why, size_t whylen)
{
    static const char *const words[] = {"combined", "json"};
    (void)k;
    return parse_word(v, words, 2, &x->c->access_log_format, why, whylen);
}

static int parse_log_level(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                           char *why, size_t whylen)
{
    static const char *const words[] = {"error", "warn", "info"};
    (void)k;
    return parse_word(v, words, 3, &x->c->error_log_level, why, whylen);
}

/* [tls] protocols: TLSv1.2 and/or TLSv1.3, blank-separated; older ones
 * are refused by name (they are deprecated, RFC 8996). */
static int parse_tls_protocols(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                               char *why, size_t whylen)
{
    (void)k;
    uint8_t bits = 0;
    for (const char *p = v;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " \t");
        if (n == 7 && strncmp(p, "TLSv1.2", n) == 0) {
            bits |= CFG_TLS12;
        } else if (n == 7 && strncmp(p, "TLSv1.3", n) == 0) {
            bits |= CFG_TLS13;
        } else if ((n == 5 && strncmp(p, "TLSv1", n) == 0) ||
                   (n == 7 && strncmp(p, "TLSv1.1", n) == 0) ||
                   (n == 7 && strncmp(p, "TLSv1.0", n) == 0) ||
                   (n == 5 && strncmp(p, "SSLv3", n) == 0) ||
                   (n == 5 && strncmp(p, "SSLv2", n) == 0)) {
            snprintf(why, whylen,
                     "%.*s is not supported (deprecated, RFC 8996): use "
                     "TLSv1.2 and TLSv1.3",
                     (int)n, p);
            return -1;
        } else {
            snprintf(why, whylen, "'%.*s' is not a protocol (use TLSv1.2 and TLSv1.3)",
                     (int)n, p);
            return -1;
        }
        p += n;
    }
    if (bits == 0) {
        snprintf(why, whylen, "empty value (use TLSv1.2 and TLSv1.3)");
        return -1;
    }
    x->c->tls_protocols = bits;
    return 0;
}

/* Mozilla's "intermediate" TLS 1.2 suites (server side TLS, version 5.7):
 * [tls] ciphers' default, also by the name "intermediate" (the list is
 * longer than an ini line may be). */
#define CFG_TLS_INTERMEDIATE                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                         \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                         \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                         \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

/* An OpenSSL list (ciphers, groups): printable, no blanks; OpenSSL itself
 * checks the names when the contexts are built. */
static int parse_tls_list(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                          char *why, size_t whylen)
{
    if (k->off == offsetof(struct cfg, tls_ciphers) && strcmp(v, "intermediate") == 0)
        v = CFG_TLS_INTERMEDIATE;
    for (const char *p = v; *p; p++) {
        if (*p <= 0x20 || *p > 0x7e) {
            snprintf(why, whylen, "'%s': a list separated by ':' without blanks", v);
            return -1;
        }
    }
    return parse_text(x, k, v, why, whylen);
}

#define FIELD(f) offsetof(struct cfg, f), sizeof(((struct cfg *)0)->f)

static const struct cfg_key cfg_keys[] = {
    {"dpdk", "port", parse_port, FIELD(port), 0, 0, false},
    {"dpdk", "hugepages", parse_bool, FIELD(hugepages), 0, 0, false},
    {"dpdk", "memory_mb", parse_uint, FIELD(memory_mb), 16, 1048576, false},
    {"dpdk", "eal_args", parse_text, FIELD(eal_args), 0, 0, true},
    {"dpdk", "impair_delay_ms", parse_uint, FIELD(impair_delay_ms), 0, 1000, false},
    {"dpdk", "impair_reorder_pct", parse_uint, FIELD(impair_reorder_pct), 0, 100, false},
    {"dpdk", "impair_reorder_gap_ms", parse_uint, FIELD(impair_reorder_gap_ms), 1, 1000,
     false},
    {"dpdk", "impair_seed", parse_uint, FIELD(impair_seed), 0, 4294967295ul, false},
    {"dpdk", "impair_direction", parse_impair_dir, 0, 0, 0, 0, false},
    {"net", "address", parse_address, 0, 0, 0, 0, false},
    {"net", "gateway", parse_gateway, 0, 0, 0, 0, true},
    {"net", "mtu", parse_uint, FIELD(mtu), 68, 9000, false},
    {"cores", "list", parse_cores, 0, 0, 0, 0, false},
    {"tcp", "max_flows", parse_uint, FIELD(max_flows), 16, 16777216, false},
    {"tcp", "max_conns", parse_uint, FIELD(max_conns), 1, 16777216, false},
    {"tcp", "rcvbuf", parse_uint, FIELD(rcvbuf), 1024, 67108864, false},
    {"tcp", "rcvbuf_max", parse_uint, FIELD(rcvbuf_max), 0, 67108864, false},
    {"tcp", "rcvbuf_grown", parse_uint, FIELD(rcvbuf_grown), 0, 65536, false},
    {"tcp", "sndbuf", parse_uint, FIELD(sndbuf), 1024, 67108864, false},
    {"tcp", "sndbuf_max", parse_uint, FIELD(sndbuf_max), 0, 67108864, false},
    {"tcp", "msl_ms", parse_uint, FIELD(msl_ms), 1, 120000, false},
    {"tcp", "max_time_wait", parse_uint, FIELD(max_time_wait), 0, 16777216, false},
    {"tcp", "fin_timeout_ms", parse_uint, FIELD(fin_timeout_ms), 1000, 600000, false},
    {"tcp", "max_orphans", parse_uint, FIELD(max_orphans), 0, 16777216, false},
    {"tcp", "orphan_retries", parse_uint, FIELD(orphan_retries), 1, 30, false},
    {"tcp", "congestion_control", parse_cc, 0, 0, 0, 0, false},
    {"tcp", "window_scaling", parse_bool, FIELD(window_scaling), 0, 0, false},
    {"tcp", "timestamps", parse_bool, FIELD(timestamps), 0, 0, false},
    {"tcp", "sack", parse_bool, FIELD(sack), 0, 0, false},
    {"tcp", "pacing", parse_bool, FIELD(pacing), 0, 0, false},
    {"tcp", "syncookies", parse_bool, FIELD(syncookies), 0, 0, false},
    {"tcp", "backlog", parse_uint, FIELD(backlog), 1, 65535, false},
    {"tcp", "syn_budget", parse_uint, FIELD(syn_budget), 0, 64, false},
    {"tcp", "delayed_ack_ms", parse_uint, FIELD(delayed_ack_ms), 0, 500, false},
    {"tcp", "rto_min_ms", parse_uint, FIELD(rto_min_ms), 1, 60000, false},
    {"tcp", "rto_max_ms", parse_uint, FIELD(rto_max_ms), 100, 120000, false},
    {"tcp", "syn_retries", parse_uint, FIELD(syn_retries), 1, 10, false},
    {"tcp", "data_retries", parse_uint, FIELD(data_retries), 1, 30, false},
    {"tcp", "keepalive_ms", parse_uint, FIELD(keepalive_ms), 0, 86400000, false},
    {"tcp", "keepalive_interval_ms", parse_uint, FIELD(keepalive_interval_ms), 1000,
     3600000, false},
    {"tcp", "keepalive_probes", parse_uint, FIELD(keepalive_probes), 1, 100, false},
    {"http", "listen", parse_uint, FIELD(listen), 1, 65535, false},
    {"http", "root", parse_root, 0, 0, 0, 0, false},
    {"http", "index", parse_index_list, FIELD(index), 0, 0, false},
    {"http", "serve_dotfiles", parse_bool, FIELD(serve_dotfiles), 0, 0, false},
    {"http", "keepalive", parse_bool, FIELD(keepalive), 0, 0, false},
    {"http", "keepalive_requests", parse_uint, FIELD(keepalive_requests), 1, 1000000,
     false},
    {"http", "keepalive_timeout_ms", parse_uint, FIELD(keepalive_timeout_ms), 100,
     3600000, false},
    {"http", "header_timeout_ms", parse_uint, FIELD(header_timeout_ms), 100, 3600000,
     false},
    {"http", "send_timeout_ms", parse_uint, FIELD(send_timeout_ms), 100, 3600000, false},
    {"http", "max_conns_per_ip", parse_uint, FIELD(max_conns_per_ip), 0, 16777216, false},
    {"http", "shutdown_timeout_ms", parse_uint, FIELD(shutdown_timeout_ms), 0, 600000,
     false},
    {"http", "max_request_bytes", parse_uint, FIELD(max_request_bytes), 512, 1048576,
     false},
    {"http", "max_uri_bytes", parse_uint, FIELD(max_uri_bytes), 16, 2048, false},
    {"http", "max_body_bytes", parse_uint, FIELD(max_body_bytes), 1, 1073741824, false},
    {"http", "server_name", parse_header_text, FIELD(server_name), 0, 0, false},
    {"http", "mime_types", parse_path_or_empty, FIELD(mime_types), 0, 0, true},
    {"http", "gzip_static", parse_bool, FIELD(gzip_static), 0, 0, false},
    {"http", "access_log", parse_path_or_empty, FIELD(access_log), 0, 0, true},
    {"http", "access_log_format", parse_log_format, 0, 0, 0, 0, false},
    {"http", "error_log", parse_path_or_empty, FIELD(error_log), 0, 0, true},
    {"http", "error_log_level", parse_log_level, 0, 0, 0, 0, false},
    {"http", "status_path", parse_status_path, 0, 0, 0, 0, true},
    {"http", "status_allow", parse_status_allow, 0, 0, 0, 0, true},
    {"http", "redirect_https", parse_bool, FIELD(redirect_https), 0, 0, false},
    {"tls", "listen", parse_uint, FIELD(tls_listen), 1, 65535, false},
    {"tls", "certificate", parse_path_or_empty, FIELD(tls_cert), 0, 0, false},
    {"tls", "key", parse_path_or_empty, FIELD(tls_key), 0, 0, false},
    {"tls", "protocols", parse_tls_protocols, 0, 0, 0, 0, false},
    {"tls", "ciphers", parse_tls_list, FIELD(tls_ciphers), 0, 0, false},
    {"tls", "ciphersuites", parse_tls_list, FIELD(tls_ciphersuites), 0, 0, false},
    {"tls", "groups", parse_tls_list, FIELD(tls_groups), 0, 0, false},
    {"tls", "session_tickets", parse_bool, FIELD(tls_tickets), 0, 0, false},
    {"tls", "prefer_server_ciphers", parse_bool, FIELD(tls_server_order), 0, 0, false},
    {"tls", "ticket_key_rotation_s", parse_uint, FIELD(tls_ticket_rotate_s), 1, 604800,
     false},
    {"tls", "ocsp_response", parse_path_or_empty, FIELD(tls_ocsp), 0, 0, true},
    {"tls", "record_buffers", parse_uint, FIELD(tls_record_buffers), 0, 1048576, false},
    {"tls", "sndbuf_copied", parse_uint, FIELD(tls_sndbuf), 8192, 4194304, false},
};

#define CFG_N_KEYS (sizeof cfg_keys / sizeof cfg_keys[0])

static int key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < CFG_N_KEYS; i++)
        if (strcmp(cfg_keys[i].section, section) == 0 &&
            strcmp(cfg_keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* "vhost NAME": NAME of letters, digits, '-', '_', '.'. */
static bool vhost_section(const char *name, size_t len)
{
    if (len <= 6 || strncmp(name, "vhost ", 6) != 0 || len - 6 >= 64)
        return false;
    for (size_t i = 6; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
            return false;
    return true;
}

static struct cfg_vhost *vhost_find(struct cfg *c, const char *name, size_t len)
{
    for (unsigned i = 0; i < c->n_vhosts; i++)
        if (strlen(c->vhost[i].name) == len && memcmp(c->vhost[i].name, name, len) == 0)
            return &c->vhost[i];
    return NULL;
}

static bool section_known(const char *name, size_t len)
{
    if (vhost_section(name, len))
        return true;
    for (size_t i = 0; i < sizeof cfg_sections / sizeof cfg_sections[0]; i++)
        if (strlen(cfg_sections[i]) == len && memcmp(cfg_sections[i], name, len) == 0)
            return true;
    return false;
}

/* ---- errors ---- */

/* Records the first error as "FILE:LINE: message" ("FILE: message" when line
 * is 0); returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct cfg_ctx *x, int line,
                                                      const char *fmt, ...)
{
    if (x->failed)
        return -1;
    x->failed = true;
    x->fail_line = line;
    if (x->err && x->errlen > 0) {
        int n = line > 0 ? snprintf(x->err, x->errlen, "%s:%d: ", x->path, line)
                         : snprintf(x->err, x->errlen, "%s: ", x->path);
        if (n >= 0 && (size_t)n < x->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* ---- key families: header.NAME, mime.EXT, expires.MATCH, error_page.CODE ---- */

static bool cfg_tchar(char c)
{
    return isalnum((unsigned char)c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static bool cfg_ext_ok(const char *e)
{
    if (*e == '\0' || strlen(e) > 32)
        return false;
    for (; *e; e++)
        if (!isalnum((unsigned char)*e) && !strchr("-_+.~", *e))
            return false;
    return true;
}

/* Response headers corehttpd writes itself, or that frame the message. */
static bool header_reserved(const char *n)
{
    static const char *const reserved[] = {"content-length", "transfer-encoding",
                                           "connection",     "content-range",
                                           "content-type",   "content-encoding",
                                           "date",           "server",
                                           "etag",           "last-modified",
                                           "accept-ranges",  "location",
                                           "allow",          "vary",
                                           "keep-alive",     "upgrade"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(n, reserved[i]) == 0)
            return true;
    return false;
}

/* "3600", "30s", "15m", "12h", "7d": seconds, at most 10 years. */
static int parse_duration(const char *v, uint32_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned long long mul = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mul = 60, end++;
    else if (*end == 'h')
        mul = 3600, end++;
    else if (*end == 'd')
        mul = 86400, end++;
    if (*end != '\0' || errno == ERANGE || n > 315360000ull / mul)
        return -1;
    *out = (uint32_t)(n * mul);
    return 0;
}

static const int cfg_error_codes[] = {400, 404, 405, 412, 413, 414,
                                      416, 431, 500, 501, 505};

/* One key of a family: 0, 1 when @p name is not of a family, -1 on error. */
static int cfg_apply_family(struct cfg_ctx *x, const char *section, const char *name,
                            const char *value)
{
    struct cfg *c = x->c;
    const char *dot = strchr(name, '.');
    if (strcmp(section, "http") != 0 || !dot)
        return 1;
    size_t fl = (size_t)(dot - name);
    const char *tail = dot + 1;
    struct cfg_rule *rules = NULL;
    unsigned *count = NULL, max = CFG_MAX_RULES;

    if (fl == 6 && strncmp(name, "header", 6) == 0) {
        for (const char *p = tail; *p; p++)
            if (!cfg_tchar(*p))
                return fail(x, x->lineno, "[http] %s: '%s' is not a header name", name,
                            tail);
        if (*tail == '\0')
            return fail(x, x->lineno, "[http] %s: empty header name", name);
        if (header_reserved(tail))
            return fail(x, x->lineno, "[http] %s: %s is written by corehttpd itself",
                        name, tail);
        if (*value == '\0')
            return fail(x, x->lineno, "[http] %s: empty value", name);
        for (const char *p = value; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                return fail(x, x->lineno, "[http] %s: only printable ASCII is allowed",
                            name);
        size_t total = 0;
        for (unsigned i = 0; i < c->n_header; i++)
            total += strlen(c->header[i].key) + strlen(c->header[i].value) + 4;
        if (total + strlen(tail) + strlen(value) + 4 > CFG_HEADERS_MAX)
            return fail(x, x->lineno, "[http] %s: extra headers over %d bytes in all",
                        name, CFG_HEADERS_MAX);
        rules = c->header;
        count = &c->n_header;
    } else if (fl == 4 && strncmp(name, "mime", 4) == 0) {
        if (!cfg_ext_ok(tail))
            return fail(x, x->lineno, "[http] %s: '%s' is not a file extension", name,
                        tail);
        const char *sl = strchr(value, '/');
        bool ok = sl && sl != value && sl[1] != '\0';
        for (const char *p = value; ok && *p && *p != ';'; p++)
            ok = cfg_tchar(*p) || *p == '/';
        for (const char *p = value; ok && *p; p++)
            ok = *p >= 0x20 && *p <= 0x7e;
        if (!ok)
            return fail(x, x->lineno, "[http] %s: '%s' is not a media type", name, value);
        rules = c->mime;
        count = &c->n_mime;
    } else if (fl == 10 && strncmp(name, "error_page", 10) == 0) {
        int code = -1;
        for (size_t i = 0; i < sizeof cfg_error_codes / sizeof cfg_error_codes[0]; i++)
            if (strlen(tail) == 3 && atoi(tail) == cfg_error_codes[i] &&
                isdigit((unsigned char)tail[0]))
                code = cfg_error_codes[i];
        if (code < 0)
            return fail(x, x->lineno,
                        "[http] %s: '%s' is not a status corehttpd sends with a page "
                        "(400 404 405 412 413 414 416 431 500 501 505)",
                        name, tail);
        if (value[0] != '/')
            return fail(x, x->lineno, "[http] %s: '%s' is not a URL path under the root",
                        name, value);
        rules = c->error_page;
        count = &c->n_error_page;
        max = CFG_MAX_ERROR_PAGES;
    } else if (fl == 7 && strncmp(name, "expires", 7) == 0) {
        const char *m = tail[0] == '.' ? tail + 1 : tail;
        if (!(tail[0] == '/' ? strlen(tail) < sizeof c->expires[0].match : cfg_ext_ok(m)))
            return fail(
                x, x->lineno,
                "[http] %s: '%s' is neither a path prefix (/...) nor an extension", name,
                tail);
        uint32_t secs;
        if (parse_duration(value, &secs) < 0)
            return fail(x, x->lineno,
                        "[http] %s: '%s' is not a duration (seconds, or N with s, m, h, "
                        "d; at most 10 years)",
                        name, value);
        for (unsigned i = 0; i < c->n_expires; i++)
            if (strcasecmp(c->expires[i].match, m) == 0)
                return fail(x, x->lineno, "[http] %s: duplicate key", name);
        if (c->n_expires == CFG_MAX_RULES)
            return fail(x, x->lineno, "[http] %s: more than %d expires rules", name,
                        CFG_MAX_RULES);
        snprintf(c->expires[c->n_expires].match, sizeof c->expires[0].match, "%s", m);
        c->expires[c->n_expires++].secs = secs;
        return 0;
    } else {
        return 1;
    }

    for (unsigned i = 0; i < *count; i++)
        if (strcasecmp(rules[i].key, tail) == 0)
            return fail(x, x->lineno, "[http] %s: duplicate key", name);
    if (*count == max)
        return fail(x, x->lineno, "[http] %s: more than %u keys of this kind", name, max);
    if (strlen(tail) >= sizeof rules[0].key || strlen(value) >= sizeof rules[0].value)
        return fail(x, x->lineno, "[http] %s: name or value too long", name);
    snprintf(rules[*count].key, sizeof rules[0].key, "%s", tail);
    snprintf(rules[*count].value, sizeof rules[0].value, "%s", value);
    (*count)++;
    return 0;
}

/* ---- inih glue ---- */

/* inih's find_chars_or_comment: the first of @p chars, or of an inline ';'
 * comment that follows whitespace. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
    bool was_space = false;
    while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* Checks a line the way inih will read it; 0 when inih may have it. */
static int check_line(struct cfg_ctx *x, const char *s)
{
    if (*s == '\0' || *s == ';' || *s == '#')
        return 0;
    if (*s == '[') {
        const char *end = find_chars_or_comment(s + 1, "]");
        if (*end != ']')
            return fail(x, x->lineno, "'[' without a closing ']'");
        size_t len = (size_t)(end - s - 1);
        if (!section_known(s + 1, len))
            return fail(x, x->lineno, "[%.*s]: unknown section", (int)len, s + 1);
        if (vhost_section(s + 1, len)) {
            const char *name = s + 7;
            size_t nl = len - 6;
            struct cfg_vhost *v = vhost_find(x->c, name, nl);
            if (v)
                return fail(x, x->lineno, "[%.*s]: duplicate section (first on line %d)",
                            (int)len, s + 1, v->line);
            if (x->c->n_vhosts == CFG_MAX_VHOSTS)
                return fail(x, x->lineno, "[%.*s]: more than %d virtual hosts", (int)len,
                            s + 1, CFG_MAX_VHOSTS);
            v = &x->c->vhost[x->c->n_vhosts++];
            memset(v, 0, sizeof *v);
            memcpy(v->name, name, nl);
            v->line = x->lineno;
        }
        const char *rest = end + 1;
        while (isspace((unsigned char)*rest))
            rest++;
        if (*rest != '\0' && *rest != ';' && *rest != '#')
            return fail(x, x->lineno, "[%.*s]: text after the section name", (int)len,
                        s + 1);
        return 0;
    }
    const char *sep = find_chars_or_comment(s, "=:");
    if (*sep != '=' && *sep != ':')
        return fail(x, x->lineno, "expected 'key = value', '[section]' or a comment");
    return 0;
}

/* inih's fgets-style reader: one whole line per call, or NULL to stop. */
static char *cfg_read_line(char *str, int num, void *stream)
{
    struct cfg_ctx *x = stream;

    if (x->failed)
        return NULL;
    errno = 0;
    ssize_t n = getline(&x->line, &x->line_cap, x->f);
    if (n < 0) {
        if (ferror(x->f))
            fail(x, 0, "cannot read: %s", strerror(errno ? errno : EIO));
        return NULL;
    }
    x->lineno++;
    if (memchr(x->line, '\0', (size_t)n)) {
        fail(x, x->lineno, "NUL byte in line");
        return NULL;
    }

    char *s = x->line;
    if (x->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3; /* UTF-8 BOM */
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    size_t content = len;
    while (content > 0 && (s[content - 1] == '\n' || s[content - 1] == '\r'))
        content--;
    /* inih's buffer must hold the line plus "\n\0" */
    if (num < 3 || content > (size_t)num - 3) {
        fail(x, x->lineno, "line longer than %d bytes", num - 3);
        return NULL;
    }
    if (check_line(x, s) < 0)
        return NULL;
    /* the content and one newline: more CRs before it would overflow str */
    memcpy(str, s, content);
    if (len > content)
        str[content++] = '\n';
    str[content] = '\0';
    return str;
}

/* A host name as the Host header carries it: letters, digits, '-', '.',
 * or an IPv4 address; stored lower-case without a trailing dot. */
static bool host_name_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
            return false;
    return true;
}

/* A key of [vhost NAME]: hosts, root, index, header.NAME. */
static int cfg_apply_vhost(struct cfg_ctx *x, const char *section, const char *name,
                           const char *value)
{
    struct cfg_vhost *v = vhost_find(x->c, section + 6, strlen(section + 6));
    char why[256] = "";
    if (!v)
        return fail(x, x->lineno, "[%s]: unknown section", section);
    if (strcmp(name, "hosts") == 0) {
        if (v->has_hosts)
            return fail(x, x->lineno, "[%s] hosts: duplicate key", section);
        v->has_hosts = true;
        size_t o = 0;
        for (const char *p = value;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (!*p)
                break;
            size_t n = strcspn(p, " \t");
            size_t k = n;
            if (k > 1 && p[k - 1] == '.')
                k--;
            if (!host_name_ok(p, k))
                return fail(x, x->lineno, "[%s] hosts: '%.*s' is not a host name",
                            section, (int)n, p);
            if (o + k + 1 >= sizeof v->hosts)
                return fail(x, x->lineno, "[%s] hosts: longer than %zu bytes", section,
                            sizeof v->hosts - 1);
            if (o)
                v->hosts[o++] = ' ';
            for (size_t i = 0; i < k; i++)
                v->hosts[o++] = (char)tolower((unsigned char)p[i]);
            v->hosts[o] = '\0';
            p += n;
        }
        if (o == 0)
            return fail(x, x->lineno, "[%s] hosts: empty value", section);
        return 0;
    }
    if (strcmp(name, "root") == 0) {
        if (v->has_root)
            return fail(x, x->lineno, "[%s] root: duplicate key", section);
        v->has_root = true;
        if (resolve_dir(x, value, v->root, sizeof v->root, why, sizeof why) < 0)
            return fail(x, x->lineno, "[%s] root: %s", section, why);
        return 0;
    }
    if (strcmp(name, "index") == 0) {
        if (v->index[0])
            return fail(x, x->lineno, "[%s] index: duplicate key", section);
        if (index_list_ok(value, why, sizeof why) < 0)
            return fail(x, x->lineno, "[%s] index: %s", section, why);
        if (strlen(value) >= sizeof v->index)
            return fail(x, x->lineno, "[%s] index: longer than %zu bytes", section,
                        sizeof v->index - 1);
        snprintf(v->index, sizeof v->index, "%s", value);
        return 0;
    }
    if (strcmp(name, "certificate") == 0 || strcmp(name, "key") == 0) {
        bool cert = name[0] == 'c';
        char *field = cert ? v->cert : v->key;
        int *line = cert ? &v->cert_line : &v->key_line;
        if (*line)
            return fail(x, x->lineno, "[%s] %s: duplicate key (first set on line %d)",
                        section, name, *line);
        if (*value == '\0')
            return fail(x, x->lineno, "[%s] %s: empty value", section, name);
        int n = value[0] == '/' ? snprintf(field, CFG_PATH_MAX, "%s", value)
                                : snprintf(field, CFG_PATH_MAX, "%s/%s", x->dir, value);
        if (n < 0 || n >= CFG_PATH_MAX)
            return fail(x, x->lineno, "[%s] %s: path longer than %d bytes", section, name,
                        CFG_PATH_MAX - 1);
        *line = x->lineno;
        return 0;
    }
    if (strncmp(name, "header.", 7) == 0) {
        const char *tail = name + 7;
        bool ok = *tail != '\0';
        for (const char *p = tail; *p; p++)
            ok = ok && cfg_tchar(*p);
        if (!ok)
            return fail(x, x->lineno, "[%s] %s: '%s' is not a header name", section, name,
                        tail);
        if (header_reserved(tail))
            return fail(x, x->lineno, "[%s] %s: %s is written by corehttpd itself",
                        section, name, tail);
        if (*value == '\0')
            return fail(x, x->lineno, "[%s] %s: empty value", section, name);
        for (const char *p = value; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                return fail(x, x->lineno, "[%s] %s: only printable ASCII is allowed",
                            section, name);
        for (unsigned i = 0; i < v->n_header; i++)
            if (strcasecmp(v->header[i].key, tail) == 0)
                return fail(x, x->lineno, "[%s] %s: duplicate key", section, name);
        if (v->n_header == CFG_VHOST_HEADERS)
            return fail(x, x->lineno, "[%s] %s: more than %d headers", section, name,
                        CFG_VHOST_HEADERS);
        if (strlen(tail) >= sizeof v->header[0].key ||
            strlen(value) >= sizeof v->header[0].value)
            return fail(x, x->lineno, "[%s] %s: name or value too long", section, name);
        snprintf(v->header[v->n_header].key, sizeof v->header[0].key, "%s", tail);
        snprintf(v->header[v->n_header].value, sizeof v->header[0].value, "%s", value);
        v->n_header++;
        return 0;
    }
    return fail(x, x->lineno, "[%s] %s: unknown key", section, name);
}

/* One key = value: 0, or -1 with the error recorded. */
static int cfg_apply(struct cfg_ctx *x, const char *section, const char *name,
                     const char *value)
{
    char why[256] = "";

    if (section[0] == '\0')
        return fail(x, x->lineno, "%s: key before the first [section]", name);
    if (!section_known(section, strlen(section)))
        return fail(x, x->lineno, "[%s]: unknown section", section);
    if (strncmp(section, "vhost ", 6) == 0)
        return cfg_apply_vhost(x, section, name, value);
    int fam = cfg_apply_family(x, section, name, value);
    if (fam <= 0)
        return fam;
    int i = key_index(section, name);
    if (i < 0)
        return fail(x, x->lineno, "[%s] %s: unknown key", section, name);
    if (x->key_line[i])
        return fail(x, x->lineno, "[%s] %s: duplicate key (first set on line %d)",
                    section, name, x->key_line[i]);
    x->key_line[i] = x->lineno;
    if (cfg_keys[i].parse(x, &cfg_keys[i], value, why, sizeof why) < 0)
        return fail(x, x->lineno, "[%s] %s: %s", section, name,
                    why[0] ? why : "bad value");
    return 0;
}

/* inih's handler: nonzero means the pair was accepted. */
static int cfg_on_key(void *user, const char *section, const char *name,
                      const char *value)
{
    struct cfg_ctx *x = user;
    return !x->failed && cfg_apply(x, section, name, value) == 0;
}

/* [tls] and the virtual hosts' certificates: complete and consistent (the
 * files themselves are read by tls.c when the contexts are built). */
static int cfg_check_tls(struct cfg_ctx *x)
{
    struct cfg *c = x->c;
    static const char *const lined[CFG_TLS_LINES] = {
        [CFG_TLS_LINE_CERT] = "certificate", [CFG_TLS_LINE_KEY] = "key",
        [CFG_TLS_LINE_CIPHERS] = "ciphers",  [CFG_TLS_LINE_SUITES] = "ciphersuites",
        [CFG_TLS_LINE_GROUPS] = "groups",    [CFG_TLS_LINE_OCSP] = "ocsp_response",
    };
    for (int i = 0; i < CFG_TLS_LINES; i++)
        c->tls_line[i] = x->key_line[key_index("tls", lined[i])];
    int listen_line = x->key_line[key_index("tls", "listen")];
    int redirect_line = x->key_line[key_index("http", "redirect_https")];

    if (c->tls_listen == 0) {
        /* the other keys may stay at their values, as in the template */
        if (c->tls_line[CFG_TLS_LINE_CERT] || c->tls_line[CFG_TLS_LINE_KEY])
            return fail(x,
                        c->tls_line[CFG_TLS_LINE_CERT] ? c->tls_line[CFG_TLS_LINE_CERT]
                                                       : c->tls_line[CFG_TLS_LINE_KEY],
                        "[tls] %s: needs [tls] listen (the HTTPS port)",
                        c->tls_line[CFG_TLS_LINE_CERT] ? "certificate" : "key");
        for (unsigned i = 0; i < c->n_vhosts; i++)
            if (c->vhost[i].cert_line || c->vhost[i].key_line)
                return fail(
                    x,
                    c->vhost[i].cert_line ? c->vhost[i].cert_line : c->vhost[i].key_line,
                    "[vhost %s] %s: needs [tls] listen (the HTTPS port)",
                    c->vhost[i].name, c->vhost[i].cert_line ? "certificate" : "key");
        if (c->redirect_https)
            return fail(x, redirect_line,
                        "[http] redirect_https: needs [tls] listen (the HTTPS port)");
        return 0;
    }
    if (c->tls_listen == c->listen)
        return fail(x, listen_line, "[tls] listen: %u is also [http] listen",
                    c->tls_listen);
    if (!c->tls_line[CFG_TLS_LINE_CERT])
        return fail(x, listen_line, "[tls] certificate: missing required key");
    if (!c->tls_line[CFG_TLS_LINE_KEY])
        return fail(x, listen_line, "[tls] key: missing required key");
    if (!c->tls_cert[0] || !c->tls_key[0]) {
        bool cert = !c->tls_cert[0];
        return fail(x, c->tls_line[cert ? CFG_TLS_LINE_CERT : CFG_TLS_LINE_KEY],
                    "[tls] %s: empty (HTTPS needs a PEM file)",
                    cert ? "certificate" : "key");
    }
    for (unsigned i = 0; i < c->n_vhosts; i++) {
        const struct cfg_vhost *v = &c->vhost[i];
        if (v->cert_line && !v->key_line)
            return fail(x, v->cert_line, "[vhost %s] key: missing (certificate is set)",
                        v->name);
        if (v->key_line && !v->cert_line)
            return fail(x, v->key_line, "[vhost %s] certificate: missing (key is set)",
                        v->name);
    }
    return 0;
}

/* Rules that span keys, checked once the whole file is read. */
static int cfg_check(struct cfg_ctx *x)
{
    static const char *const required[][2] = {{"dpdk", "port"}, {"net", "address"}};
    const struct cfg *c = x->c;
    char a[16], n[16];

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        int k = key_index(required[i][0], required[i][1]);
        if (!x->key_line[k])
            return fail(x, 0, "[%s] %s: missing required key", required[i][0],
                        required[i][1]);
    }

    int gw_line = x->key_line[key_index("net", "gateway")];
    if (c->gateway != 0) {
        format_ipv4(c->gateway, a);
        format_ipv4(c->ip & c->netmask, n);
        if (c->gateway == c->ip)
            return fail(x, gw_line, "[net] gateway: %s is this host's own address", a);
        if ((c->gateway & c->netmask) != (c->ip & c->netmask))
            return fail(x, gw_line, "[net] gateway: %s is not in %s/%d", a, n,
                        __builtin_popcount(c->netmask));
    }

    for (unsigned i = 0; i < c->n_vhosts; i++) {
        const struct cfg_vhost *v = &c->vhost[i];
        if (!v->has_hosts)
            return fail(x, v->line, "[vhost %s] hosts: missing required key", v->name);
        if (!v->has_root)
            return fail(x, v->line, "[vhost %s] root: missing required key", v->name);
        /* a host name belongs to one virtual host */
        for (const char *p = v->hosts; *p;) {
            size_t n = strcspn(p, " ");
            for (unsigned j = 0; j < i; j++) {
                for (const char *q = c->vhost[j].hosts; *q;) {
                    size_t m = strcspn(q, " ");
                    if (m == n && memcmp(p, q, n) == 0)
                        return fail(x, v->line,
                                    "[vhost %s] hosts: %.*s is also a host of [vhost %s]",
                                    v->name, (int)n, p, c->vhost[j].name);
                    q += m + (q[m] == ' ');
                }
            }
            p += n + (p[n] == ' ');
        }
    }

    if (cfg_check_tls(x) < 0)
        return -1;

    if (c->max_conns > c->max_flows) {
        int conns_line = x->key_line[key_index("tcp", "max_conns")];
        int flows_line = x->key_line[key_index("tcp", "max_flows")];
        if (conns_line)
            return fail(x, conns_line, "[tcp] max_conns: %u is more than max_flows (%u)",
                        c->max_conns, c->max_flows);
        return fail(x, flows_line, "[tcp] max_flows: %u is less than max_conns (%u)",
                    c->max_flows, c->max_conns);
    }
    return 0;
}

/* The absolute folder of @p path, which has just been opened. */
static void cfg_dir_of(const char *path, char *out, size_t outlen)
{
    char dir[CFG_PATH_MAX];
    char resolved[PATH_MAX];
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (realpath(dir, resolved))
        snprintf(out, outlen, "%s", resolved);
    else
        snprintf(out, outlen, "%s", dir);
}

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    c->hugepages = true;
    c->memory_mb = 512;
    c->impair_reorder_gap_ms = 5;
    c->impair_seed = 1;
    c->impair_dirs = CFG_IMPAIR_RX | CFG_IMPAIR_TX;
    c->netmask = prefix_mask(24);
    c->mtu = 1500;
    c->cores[0] = 0;
    c->n_cores = 1;
    c->max_flows = 65536;
    c->max_conns = 8192;
    c->rcvbuf = 16384;
    c->rcvbuf_max = 1048576;
    c->rcvbuf_grown = 32;
    c->sndbuf = 262144;
    c->sndbuf_max = 4194304;
    c->msl_ms = 30000;
    c->max_time_wait = 262144;
    c->fin_timeout_ms = 60000;
    c->max_orphans = 65536;
    c->orphan_retries = 8;
    c->cc_algo = TCP_CC_CUBIC;
    c->window_scaling = true;
    c->timestamps = true;
    c->sack = true;
    c->pacing = true;
    c->syncookies = true;
    c->backlog = 4096;
    c->syn_budget = 16;
    c->delayed_ack_ms = 40;
    c->rto_min_ms = 200;
    c->rto_max_ms = 60000;
    c->syn_retries = 5;
    c->data_retries = 12;
    c->keepalive_ms = 0;
    c->keepalive_interval_ms = 75000;
    c->keepalive_probes = 9;
    c->listen = 80;
    snprintf(c->root, sizeof c->root, "/var/www/html");
    snprintf(c->index, sizeof c->index, "index.html");
    c->keepalive = true;
    c->keepalive_requests = 1000;
    c->keepalive_timeout_ms = 30000;
    c->send_timeout_ms = 60000;
    c->header_timeout_ms = 10000;
    c->shutdown_timeout_ms = 5000;
    c->max_request_bytes = 8192;
    c->max_uri_bytes = 2048;
    c->max_body_bytes = 1024 * 1024;
    snprintf(c->server_name, sizeof c->server_name, "corehttpd/%s", COREHTTPD_VERSION);
    snprintf(c->status_path, sizeof c->status_path, "/server-status");
    c->n_status_allow = 0; /* nobody: corehttpd has no loopback to trust */
    snprintf(c->mime_types, sizeof c->mime_types, "/etc/mime.types");
    c->error_log_level = 2; /* info */
    c->tls_sndbuf = 8192;
    c->tls_ticket_rotate_s = 3600;
    c->tls_record_buffers = 1024;
    c->tls_protocols = CFG_TLS12 | CFG_TLS13;
    /* Mozilla's "intermediate" profile (server side TLS, version 5.7) */
    snprintf(c->tls_ciphers, sizeof c->tls_ciphers, "%s", CFG_TLS_INTERMEDIATE);
    snprintf(c->tls_ciphersuites, sizeof c->tls_ciphersuites, "%s",
             "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
             "TLS_CHACHA20_POLY1305_SHA256");
    snprintf(c->tls_groups, sizeof c->tls_groups, "X25519:prime256v1:secp384r1");
    c->tls_tickets = true;
    c->tls_server_order = true;
}

bool cfg_same_status(const struct cfg *a, const struct cfg *b)
{
    return strcmp(a->status_path, b->status_path) == 0 &&
           a->n_status_allow == b->n_status_allow &&
           memcmp(a->status_allow, b->status_allow,
                  a->n_status_allow * sizeof a->status_allow[0]) == 0;
}

void cfg_copy_status(struct cfg *to, const struct cfg *from)
{
    memcpy(to->status_path, from->status_path, sizeof to->status_path);
    memcpy(to->status_allow, from->status_allow, sizeof to->status_allow);
    to->n_status_allow = from->n_status_allow;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
    int key_line[CFG_N_KEYS] = {0};
    struct cfg_ctx x = {
        .path = path,
        .key_line = key_line,
        .err = err,
        .errlen = errlen,
    };
    struct stat st;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    x.c = malloc(sizeof *x.c);
    if (!x.c) {
        fail(&x, 0, "cannot load: %s", strerror(ENOMEM));
        return -1;
    }
    memcpy(x.c, c, sizeof *c);

    x.f = fopen(path, "re");
    if (!x.f) {
        fail(&x, 0, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fstat(fileno(x.f), &st) < 0) {
        fail(&x, 0, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        fail(&x, 0, "cannot open: %s", strerror(EISDIR));
        goto out;
    }
    cfg_dir_of(path, x.dir, sizeof x.dir);

    int line = ini_parse_stream(cfg_read_line, &x, cfg_on_key, &x);
    if (line > 0 && (!x.failed || line < x.fail_line)) {
        /* inih saw a syntax error before anything of ours: unreachable while
         * check_line mirrors inih, kept so that a change in inih still fails */
        x.failed = false;
        fail(&x, line, "syntax error");
        goto out;
    }
    if (line < 0 && !x.failed)
        fail(&x, 0, "cannot load: %s", strerror(ENOMEM));
    if (x.failed || cfg_check(&x) < 0)
        goto out;

    snprintf(x.c->path, sizeof x.c->path, "%s", path);
    memcpy(c, x.c, sizeof *c);
    rc = 0;
out:
    if (x.f)
        fclose(x.f);
    free(x.line);
    free(x.c);
    return rc;
}
