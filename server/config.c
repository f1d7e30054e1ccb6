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

static const char *const cfg_sections[] = {"dpdk", "net", "cores", "tcp", "http"};

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
        snprintf(why, whylen, "'%s' is not a congestion control (use newreno or cubic)",
                 v);
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

/* A plain file name inside a folder: no '/', not "." or "..". */
static int parse_file_name(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                           char *why, size_t whylen)
{
    if (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        snprintf(why, whylen, "'%s' is not a plain file name", v);
        return -1;
    }
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
static int parse_root(struct cfg_ctx *x, const struct cfg_key *k, const char *v,
                      char *why, size_t whylen)
{
    (void)k;
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
    if (realpath(joined, resolved) && strlen(resolved) < sizeof x->c->root)
        snprintf(x->c->root, sizeof x->c->root, "%s", resolved);
    else
        memcpy(x->c->root, joined, (size_t)n + 1);
    return 0;
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
    {"tcp", "sndbuf", parse_uint, FIELD(sndbuf), 1024, 67108864, false},
    {"tcp", "msl_ms", parse_uint, FIELD(msl_ms), 1, 120000, false},
    {"tcp", "max_time_wait", parse_uint, FIELD(max_time_wait), 0, 16777216, false},
    {"tcp", "fin_timeout_ms", parse_uint, FIELD(fin_timeout_ms), 1000, 600000, false},
    {"tcp", "max_orphans", parse_uint, FIELD(max_orphans), 0, 16777216, false},
    {"tcp", "orphan_retries", parse_uint, FIELD(orphan_retries), 1, 30, false},
    {"tcp", "congestion_control", parse_cc, 0, 0, 0, 0, false},
    {"tcp", "window_scaling", parse_bool, FIELD(window_scaling), 0, 0, false},
    {"tcp", "timestamps", parse_bool, FIELD(timestamps), 0, 0, false},
    {"tcp", "sack", parse_bool, FIELD(sack), 0, 0, false},
    {"tcp", "syncookies", parse_bool, FIELD(syncookies), 0, 0, false},
    {"tcp", "backlog", parse_uint, FIELD(backlog), 1, 65535, false},
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
    {"http", "index", parse_file_name, FIELD(index), 0, 0, false},
    {"http", "keepalive", parse_bool, FIELD(keepalive), 0, 0, false},
    {"http", "keepalive_requests", parse_uint, FIELD(keepalive_requests), 1, 1000000,
     false},
    {"http", "max_request_bytes", parse_uint, FIELD(max_request_bytes), 512, 1048576,
     false},
    {"http", "server_name", parse_header_text, FIELD(server_name), 0, 0, false},
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

static bool section_known(const char *name, size_t len)
{
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

/* One key = value: 0, or -1 with the error recorded. */
static int cfg_apply(struct cfg_ctx *x, const char *section, const char *name,
                     const char *value)
{
    char why[256] = "";

    if (section[0] == '\0')
        return fail(x, x->lineno, "%s: key before the first [section]", name);
    if (!section_known(section, strlen(section)))
        return fail(x, x->lineno, "[%s]: unknown section", section);
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
    c->sndbuf = 262144;
    c->msl_ms = 30000;
    c->max_time_wait = 262144;
    c->fin_timeout_ms = 60000;
    c->max_orphans = 65536;
    c->orphan_retries = 8;
    c->cc_algo = TCP_CC_CUBIC;
    c->window_scaling = true;
    c->timestamps = true;
    c->sack = true;
    c->syncookies = true;
    c->backlog = 4096;
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
    c->max_request_bytes = 8192;
    snprintf(c->server_name, sizeof c->server_name, "corehttpd/%s", COREHTTPD_VERSION);
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

    memcpy(c, x.c, sizeof *c);
    rc = 0;
out:
    if (x.f)
        fclose(x.f);
    free(x.line);
    free(x.c);
    return rc;
}
