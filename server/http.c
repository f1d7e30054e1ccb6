/**
 * @file http.c
 * HTTP/1.1 for one connection: bytes enter through http_conn_feed(), which
 * drives http-parser; its callbacks collect the request target and the few
 * headers a static server needs (Host, If-None-Match, If-Modified-Since) into
 * fixed buffers of struct http_conn, and on_message_complete answers the
 * request and pauses the parser, so one feed call yields at most one
 * response and the caller feeds the remaining bytes (pipelining) afterwards.
 * Responses leave as a header written into struct http_response and a body
 * pointing into the cache or at a static error page. Nothing allocates.
 *
 * http-parser behaviours this file relies on (2.9.4, checked against the
 * Debian library):
 * - Pausing from on_message_complete makes http_parser_execute() return the
 *   count up to and including the message's last byte, with errno
 *   HPE_PAUSED; the next call must unpause first (a paused or failed parser
 *   returns 0 without reading).
 * - Pausing from on_headers_complete would return *before* the final LF, so
 *   answers decided there (all of which close the connection) instead return
 *   1 ("skip body") and are sent from on_message_complete; the body, if any,
 *   is left unread.
 * - Pausing from on_body at the last body byte returns before that byte;
 *   only done for 413, which closes.
 * - Chunked trailers call on_header_field/on_header_value again after
 *   on_headers_complete; they are ignored.
 * - Non-strict builds accept a space inside a header name ("Host : x");
 *   RFC 9112 5.1 requires a 400, so the field callback checks for it.
 * - The first byte of a header value is not checked for control characters
 *   ("A: \x01" passes), so the value callback checks every byte.
 * - A length of 0 means EOF to http_parser_execute(); never passed.
 * - Debian builds it non-strict, so after a message that
 *   http_should_keep_alive() rejects the parser would read on; we answer
 *   those with Connection: close and feed nothing more.
 * - "HTTP/2.0" parses (one-digit versions) and is answered 505 here;
 *   "HTTP/1.10" is a parse error (400).
 */
#include "http.h"
#include "textbuf.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Status lines and static pages                                       */

#define HTTP_PAGE(line)                                                                  \
    "<html>\r\n<head><title>" line "</title></head>\r\n<body>\r\n<center><h1>" line      \
    "</h1></center>\r\n<hr><center>corehttpd</center>\r\n</body>\r\n</html>\r\n"

struct http_status_line {
    int code;
    const char *line; /* "404 Not Found" */
    const char *page; /* NULL: no body */
    size_t page_len;
};

#define HTTP_ST(code, reason)                                                            \
    {                                                                                    \
        code, #code " " reason, HTTP_PAGE(#code " " reason),                             \
            sizeof(HTTP_PAGE(#code " " reason)) - 1                                      \
    }

/* Reason phrases of RFC 9110 section 15. */
static const struct http_status_line http_statuses[] = {
    {200, "200 OK", NULL, 0},
    {206, "206 Partial Content", NULL, 0},
    HTTP_ST(301, "Moved Permanently"),
    {304, "304 Not Modified", NULL, 0},
    HTTP_ST(400, "Bad Request"),
    HTTP_ST(404, "Not Found"),
    HTTP_ST(405, "Method Not Allowed"),
    HTTP_ST(408, "Request Timeout"),
    HTTP_ST(413, "Content Too Large"),
    HTTP_ST(412, "Precondition Failed"),
    HTTP_ST(414, "URI Too Long"),
    HTTP_ST(416, "Range Not Satisfiable"),
    HTTP_ST(431, "Request Header Fields Too Large"),
    HTTP_ST(500, "Internal Server Error"),
    HTTP_ST(501, "Not Implemented"),
    HTTP_ST(503, "Service Unavailable"),
    HTTP_ST(505, "HTTP Version Not Supported"),
};

static const struct http_status_line *http_status_get(int code)
{
    size_t n = sizeof http_statuses / sizeof http_statuses[0];
    for (size_t i = 0; i < n; i++)
        if (http_statuses[i].code == code)
            return &http_statuses[i];
    return http_status_get(500);
}

/* Answers to a request we could not parse or would not read: the framing
 * of what follows is unknown or unwanted, so the connection closes. */
static bool http_status_closes(int code)
{
    return code == 400 || code == 408 || code == 413 || code == 414 || code == 431 ||
           code == 500 || code == 501 || code == 505;
}

/* ------------------------------------------------------------------ */
/* Dates (RFC 9110 5.6.7), proleptic Gregorian, by H. Hinnant's algorithms */

static const char http_wday[] = "SunMonTueWedThuFriSat";
static const char http_month[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void http_date(int64_t wall_s, char out[30])
{
    /* The format has a 4-digit year: clamp to 1970..9999. */
    if (wall_s < 0)
        wall_s = 0;
    if (wall_s > INT64_C(253402300799))
        wall_s = INT64_C(253402300799);
    int64_t days = wall_s / 86400, secs = wall_s % 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned wd = (unsigned)((days + 4) % 7); /* 1970-01-01 was a Thursday */

    memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", 30);
    memcpy(out, http_wday + 3 * wd, 3);
    put2(out + 5, d);
    memcpy(out + 8, http_month + 3 * (m - 1), 3);
    put2(out + 12, (unsigned)(y / 100));
    put2(out + 14, (unsigned)(y % 100));
    put2(out + 17, (unsigned)(secs / 3600));
    put2(out + 20, (unsigned)(secs / 60 % 60));
    put2(out + 23, (unsigned)(secs % 60));
}

static int parse_digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int parse_month(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (memcmp(s, http_month + 3 * i, 3) == 0)
            return i + 1;
    return -1;
}

/* "HH:MM:SS" into seconds of the day, or -1. */
static int parse_clock(const char *s)
{
    if (s[2] != ':' || s[5] != ':')
        return -1;
    int h = parse_digits(s, 2), mi = parse_digits(s + 3, 2), se = parse_digits(s + 6, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return -1;
    return h * 3600 + mi * 60 + se;
}

int http_date_parse(const char *s, size_t len, int64_t *out)
{
    int d, mon, y, clock;

    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    const char *comma = memchr(s, ',', len);
    if (comma && comma - s == 3 && len == 29) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        const char *p = comma + 1;
        if (p[0] != ' ' || p[3] != ' ' || p[7] != ' ' || p[12] != ' ' || p[21] != ' ' ||
            memcmp(p + 22, "GMT", 3) != 0)
            return -1;
        d = parse_digits(p + 1, 2);
        mon = parse_month(p + 4);
        y = parse_digits(p + 8, 4);
        clock = parse_clock(p + 13);
    } else if (comma && comma - s >= 6 && comma - s <= 9 &&
               len - (size_t)(comma - s) == 24) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        const char *p = comma + 1;
        if (p[0] != ' ' || p[3] != '-' || p[7] != '-' || p[10] != ' ' || p[19] != ' ' ||
            memcmp(p + 20, "GMT", 3) != 0)
            return -1;
        d = parse_digits(p + 1, 2);
        mon = parse_month(p + 4);
        y = parse_digits(p + 8, 2);
        if (y >= 0) /* RFC 9110 5.6.7: a two-digit year is within 50 years */
            y += y < 70 ? 2000 : 1900;
        clock = parse_clock(p + 11);
    } else if (!comma && len == 24) {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
            return -1;
        mon = parse_month(s + 4);
        d = s[8] == ' ' ? parse_digits(s + 9, 1) : parse_digits(s + 8, 2);
        clock = parse_clock(s + 11);
        y = parse_digits(s + 20, 4);
    } else {
        return -1;
    }
    if (d < 1 || d > 31 || mon < 0 || y < 0 || clock < 0)
        return -1;
    *out = days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 + clock;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Request target: origin-form or absolute-form to a normalised path   */

struct http_target {
    const char *authority; /* absolute-form only, else NULL */
    size_t authority_len;
    size_t path_len;   /* path in the caller's buffer */
    const char *query; /* raw, after '?'; NULL when absent */
    size_t query_len;
};

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 3629: strict UTF-8, no overlong forms, no surrogates, at most
 * U+10FFFF. An overlong "." or "/" (C0 AE, C0 AF, E0 80 AE) would otherwise
 * be a way around the dot-segment check for anything that decodes later. */
static bool http_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false; /* 80..C1 (C0, C1: overlong), F5..FF */
        }
        if (n - i < len)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

/*
 * Writes the decoded path of @p url into path[HTTP_URL_MAX + 1] with "//"
 * collapsed and "." and ".." resolved (RFC 3986 5.2.4); a ".." above the
 * root, a bad %-escape, %00, a backslash (raw or escaped) or invalid UTF-8
 * is an error (-1, answered 400), as in nginx.
 * Decoding comes first, so "%2e%2e" is a ".." and "%2f" a separator: the
 * result is exactly the file name the cache is asked for.
 */
static int http_target_parse(const char *url, size_t len, char *path,
                             struct http_target *t)
{
    const char *p = url, *end = url + len;

    if (len == 0)
        return -1;
    t->authority = NULL;
    t->authority_len = 0;
    if (*p != '/') {
        /* absolute-form (RFC 9112 3.2.2): the path after the authority */
        size_t skip;
        if (len > 7 && strncasecmp(p, "http://", 7) == 0)
            skip = 7;
        else if (len > 8 && strncasecmp(p, "https://", 8) == 0)
            skip = 8;
        else
            return -1;
        p += skip;
        const char *host = p;
        while (p < end && *p != '/' && *p != '?' && *p != '#')
            p++;
        if (p == host)
            return -1;
        t->authority = host;
        t->authority_len = (size_t)(p - host);
    }
    const char *pe = p;
    while (pe < end && *pe != '?' && *pe != '#')
        pe++;
    t->query = NULL;
    t->query_len = 0;
    if (pe < end && *pe == '?') {
        const char *qe = pe + 1;
        while (qe < end && *qe != '#')
            qe++;
        t->query = pe + 1;
        t->query_len = (size_t)(qe - (pe + 1));
    }

    /* Decode behind a leading '/' (an empty absolute-form path is "/"). */
    size_t n = 0;
    path[n++] = '/';
    while (p < pe) {
        char c = *p++;
        if (c == '%') {
            int hi = pe - p >= 2 ? unhex(p[0]) : -1, lo = hi >= 0 ? unhex(p[1]) : -1;
            if (lo < 0 || (hi | lo) == 0)
                return -1;
            c = (char)(hi << 4 | lo);
            p += 2;
        }
        if (c == '\\')
            return -1; /* a separator elsewhere: never part of a name here */
        path[n++] = c;
    }
    if (!http_utf8_valid(path, n))
        return -1; /* overlong forms ("%c0%ae") and other invalid UTF-8 */

    /* Remove dot segments in place: the write index never passes the read
     * index, and path[0] is '/' in both. */
    size_t o = 1, i = 0;
    for (;;) {
        while (i < n && path[i] == '/')
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && path[i] != '/')
            i++;
        size_t seg = i - s;
        if (seg == 1 && path[s] == '.')
            continue;
        if (seg == 2 && path[s] == '.' && path[s + 1] == '.') {
            if (o == 1)
                return -1; /* above the root */
            o--;
            while (path[o - 1] != '/')
                o--;
            continue;
        }
        memmove(path + o, path + s, seg);
        o += seg;
        if (i < n)
            path[o++] = '/';
    }
    t->path_len = o;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Conditional requests (RFC 9110 13.1.2, 13.1.3, 13.2.2)              */

/* Weak (If-None-Match) or strong (If-Match, RFC 9110 8.8.3.2: neither
 * tag weak) comparison of each entity-tag in a list against ours; "*"
 * matches any current representation. An unparsable list matches nothing:
 * for If-None-Match that only costs a full response, for If-Match it is a
 * 412, as it should be for a precondition the server cannot check. */
static bool http_etag_match(const char *v, size_t n, const char *etag, bool strong)
{
    if (strong && etag[0] == 'W')
        return false;
    if (etag[0] == 'W' && etag[1] == '/')
        etag += 2;
    size_t tl = strlen(etag);
    size_t i = 0;

    while (i < n) {
        if (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
            i++;
            continue;
        }
        if (v[i] == '*')
            return true;
        bool weak = v[i] == 'W' && i + 1 < n && v[i + 1] == '/';
        if (weak)
            i += 2;
        if (i >= n || v[i] != '"')
            return false;
        size_t s = i++;
        while (i < n && v[i] != '"')
            i++;
        if (i >= n)
            return false;
        i++;
        if (i - s == tl && memcmp(v + s, etag, tl) == 0 && !(strong && weak))
            return true;
    }
    return false;
}

/* If-None-Match wins when present; If-Modified-Since is used only without
 * it and only when it is one valid date (RFC 9110 13.1.3). Equal or later
 * than the file's mtime is not modified (as nginx's "before"). */
static bool http_not_modified(const struct http_conn *hc, const struct cache_file *cf)
{
    if (hc->inm_seen)
        return !hc->inm_long && http_etag_match(hc->inm, hc->inm_len, cf->etag, false);
    if (hc->ims_seen && !hc->ims_bad) {
        int64_t t;
        if (http_date_parse(hc->ims, hc->ims_len, &t) == 0 && t >= (int64_t)cf->mtime)
            return true;
    }
    return false;
}

/* RFC 9110 13.2.2, steps 1 to 4, for GET and HEAD: 412 when If-Match (or,
 * without it, If-Unmodified-Since) fails, 304 when If-None-Match (or, without
 * it, If-Modified-Since) says the client has it, else 0. An invalid
 * If-Unmodified-Since date is ignored (13.1.4). */
static int http_preconditions(const struct http_conn *hc, const struct cache_file *cf)
{
    if (hc->im_seen) {
        if (hc->im_long || !http_etag_match(hc->im, hc->im_len, cf->etag, true))
            return 412;
    } else if (hc->ius_seen && !hc->ius_bad) {
        int64_t t;
        if (http_date_parse(hc->ius, hc->ius_len, &t) == 0 && (int64_t)cf->mtime > t)
            return 412;
    }
    return http_not_modified(hc, cf) ? 304 : 0;
}

/* If-Range (RFC 9110 13.1.5): the range applies only when the validator is
 * our strong ETag or exactly our Last-Modified date. */
static bool http_if_range_holds(const struct http_conn *hc, const struct cache_file *cf)
{
    if (!hc->ifr_seen)
        return true;
    if (hc->ifr_bad || hc->ifr_len == 0)
        return false;
    /* an entity tag ("..." or W/"..."), else a date: "Wed, ..." starts
     * with a W too */
    if (hc->ifr[0] == '"' ||
        (hc->ifr_len > 1 && hc->ifr[0] == 'W' && hc->ifr[1] == '/')) {
        size_t tl = strlen(cf->etag);
        return cf->etag[0] == '"' && hc->ifr_len == tl &&
               memcmp(hc->ifr, cf->etag, tl) == 0;
    }
    int64_t t;
    return http_date_parse(hc->ifr, hc->ifr_len, &t) == 0 && t == (int64_t)cf->mtime;
}

static const char *skip_ows(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Decimal digits at *pp; a value past 2^64 saturates (still a valid range:
 * it only means "to the end"). */
static int scan_u64(const char **pp, const char *e, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    if (p == e || *p < '0' || *p > '9')
        return -1;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *pp = p;
    *out = v;
    return 0;
}

int http_range_parse(const char *v, size_t n, uint64_t size, struct http_range *out,
                     unsigned max)
{
    const char *p = v, *e = v + n;
    unsigned listed = 0, k = 0;

    p = skip_ows(p, e);
    if (e - p < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return -1; /* another unit, or none: ignored */
    p += 6;
    for (;;) {
        p = skip_ows(p, e);
        if (p < e && *p == ',') { /* empty list elements are allowed (5.6.1) */
            p++;
            continue;
        }
        if (p == e)
            break;
        uint64_t first = 0, last = 0;
        bool suffix = false, open = false;
        if (*p == '-') {
            p++;
            if (scan_u64(&p, e, &last) < 0)
                return -1;
            suffix = true;
        } else {
            if (scan_u64(&p, e, &first) < 0 || p == e || *p != '-')
                return -1;
            p++;
            if (p < e && *p >= '0' && *p <= '9') {
                scan_u64(&p, e, &last);
                if (last < first)
                    return -1; /* invalid range-spec: the field is ignored */
            } else {
                open = true;
            }
        }
        p = skip_ows(p, e);
        if (p < e && *p != ',')
            return -1;
        if (++listed > max)
            return -1;
        if (suffix) { /* the last N bytes */
            if (last == 0 || size == 0)
                continue;
            first = last >= size ? 0 : size - last;
            last = size - 1;
        } else {
            if (first >= size)
                continue; /* unsatisfiable: dropped */
            if (open || last >= size)
                last = size - 1;
        }
        out[k].first = first;
        out[k].last = last;
        k++;
    }
    return listed == 0 ? -1 : (int)k;
}

/* A qvalue (RFC 9110 12.4.2) is above 0 when any of its digits is not 0;
 * one that does not parse counts as 1, as if absent. */
static bool qvalue_positive(const char *p, const char *e)
{
    if (p == e || (*p != '0' && *p != '1'))
        return true;
    for (; p < e; p++)
        if (*p >= '1' && *p <= '9')
            return true;
    return false;
}

bool http_accepts_gzip(const char *v, size_t n)
{
    const char *p = v, *e = v + n;
    int gzip = -1, star = -1; /* -1 not named, 0 refused, 1 accepted */

    while (p < e) {
        const char *end = memchr(p, ',', (size_t)(e - p));
        if (!end)
            end = e;
        const char *t = skip_ows(p, end);
        const char *te = t;
        while (te < end && *te != ';' && *te != ' ' && *te != '\t')
            te++;
        bool q = true;
        for (const char *s = te; s < end; s++) {
            if (*s != ';')
                continue;
            const char *a = skip_ows(s + 1, end);
            if (end - a >= 2 && (a[0] == 'q' || a[0] == 'Q') && a[1] == '=') {
                const char *qe = a + 2;
                while (qe < end && *qe != ';' && *qe != ' ' && *qe != '\t')
                    qe++;
                q = qvalue_positive(a + 2, qe);
            }
        }
        size_t tl = (size_t)(te - t);
        if ((tl == 4 && strncasecmp(t, "gzip", 4) == 0) ||
            (tl == 6 && strncasecmp(t, "x-gzip", 6) == 0))
            gzip = gzip == 1 ? 1 : q;
        else if (tl == 1 && *t == '*')
            star = q;
        p = end + 1;
    }
    return gzip >= 0 ? gzip == 1 : star == 1;
}

/* ------------------------------------------------------------------ */
/* Response header                                                     */

/* Bytes a Location may carry unescaped: unreserved, sub-delims, ':' '@'
 * and '/' (RFC 3986 3.3); in the query also '?' and '%' (already escaped
 * by the client). Everything else, CR and LF included, is %XX. */
static bool loc_plain(unsigned char c, bool query)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c != 0 && strchr("-._~!$&'()*+,;=:@/", c))
        return true;
    return query && (c == '?' || c == '%');
}

static void put_escaped(struct textbuf *b, const char *s, size_t n, bool query)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (loc_plain(c, query)) {
            tb_put(b, s + i, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            tb_put(b, e, 3);
        }
    }
}

/* What a response needs beyond its status. */
struct http_reply {
    const struct cache_file *cf; /* 200, 206, 304, 412, 416 */
    const char *loc;             /* 301: the decoded directory path */
    size_t loc_len;
    const char *https_host; /* 301 to https: the host (loc: the whole path) */
    size_t https_host_len;
    uint16_t https_port;
    const struct http_target *target;
    const struct http_range *ranges; /* 206 */
    unsigned n_ranges;
    char boundary[24]; /* 206 with several ranges */
    uint64_t multipart_len;
    const char *mime; /* of the representation (the .gz twin's is its base's) */
    bool gzip;        /* cf is the precompressed twin */
    bool vary;        /* a twin exists: the answer depends on Accept-Encoding */
    int64_t max_age;  /* Cache-Control / Expires, -1 for none */
    const struct cache_file *page; /* a custom error page */
    bool bare; /* without the extra headers of the config (a fallback) */
    /* 200 of a generated page (the status page), instead of cf */
    const struct http_page *gen;
};

static void put_range(struct textbuf *b, uint64_t first, uint64_t last, uint64_t size)
{
    tb_str(b, "bytes ");
    tb_u64(b, first);
    tb_str(b, "-");
    tb_u64(b, last);
    tb_str(b, "/");
    tb_u64(b, size);
}

static void http_put_head(struct textbuf *b, const struct http_conn *hc,
                          const struct http_status_line *st, const struct http_reply *rp,
                          bool keep)
{
    const char *name = hc->set->server_name;
    const struct cache_file *cf = rp->cf;

    tb_str(b, "HTTP/1.1 ");
    tb_str(b, st->line);
    tb_str(b, "\r\n");
    if (name && *name) {
        tb_str(b, "Server: ");
        tb_put(b, name, strnlen(name, 64));
        tb_str(b, "\r\n");
    }
    tb_str(b, "Date: ");
    tb_put(b, hc->date, 29);
    tb_str(b, "\r\n");
    if (st->code == 200 && rp->gen) {
        tb_str(b, "Content-Type: ");
        tb_str(b, rp->gen->ctype);
        tb_str(b, "\r\nContent-Length: ");
        tb_u64(b, rp->gen->len);
        tb_str(b, "\r\nCache-Control: no-store\r\n");
    } else if (st->code == 200 && !cf) {
        tb_str(b, "Content-Length: 0\r\n"); /* OPTIONS */
    } else if (st->code == 200 || (st->code == 206 && rp->n_ranges == 1)) {
        uint64_t len = cf->size;
        tb_str(b, "Content-Type: ");
        tb_str(b, rp->mime);
        if (st->code == 206) {
            len = rp->ranges[0].last - rp->ranges[0].first + 1;
            tb_str(b, "\r\nContent-Range: ");
            put_range(b, rp->ranges[0].first, rp->ranges[0].last, cf->size);
        }
        tb_str(b, "\r\nContent-Length: ");
        tb_u64(b, len);
        tb_str(b, "\r\n");
    } else if (st->code == 206) {
        tb_str(b, "Content-Type: multipart/byteranges; boundary=");
        tb_str(b, rp->boundary);
        tb_str(b, "\r\nContent-Length: ");
        tb_u64(b, rp->multipart_len);
        tb_str(b, "\r\n");
    } else if (st->page && rp->page) {
        tb_str(b, "Content-Type: ");
        tb_str(b, rp->page->mime);
        tb_str(b, "\r\nContent-Length: ");
        tb_u64(b, rp->page->size);
        tb_str(b, "\r\n");
    } else if (st->page) {
        tb_str(b, "Content-Type: text/html\r\nContent-Length: ");
        tb_u64(b, st->page_len);
        tb_str(b, "\r\n");
    }
    bool rep = (st->code == 200 || st->code == 206 || st->code == 304) && cf;
    if (rep && rp->gzip && st->code != 304)
        tb_str(b, "Content-Encoding: gzip\r\n");
    if (rep && rp->vary)
        tb_str(b, "Vary: Accept-Encoding\r\n");
    if (rep && rp->max_age >= 0) {
        char exp[30];
        http_date(hc->date_s + rp->max_age, exp);
        tb_str(b, "Cache-Control: max-age=");
        tb_u64(b, (uint64_t)rp->max_age);
        tb_str(b, "\r\nExpires: ");
        tb_put(b, exp, 29);
        tb_str(b, "\r\n");
    }
    if (st->code == 416) {
        tb_str(b, "Content-Range: bytes */"); /* RFC 9110 15.5.17 */
        tb_u64(b, cf->size);
        tb_str(b, "\r\n");
    }
    if ((st->code == 200 || st->code == 206 || st->code == 304) && cf) {
        tb_str(b, "Last-Modified: ");
        tb_str(b, cf->last_modified);
        tb_str(b, "\r\n");
    }
    if (st->code == 301 && rp->https_host) {
        tb_str(b, "Location: https://");
        tb_put(b, rp->https_host, rp->https_host_len);
        if (rp->https_port != 443) {
            tb_str(b, ":");
            tb_u64(b, rp->https_port);
        }
        put_escaped(b, rp->loc, rp->loc_len, false);
        if (rp->target->query && rp->target->query_len) {
            tb_str(b, "?");
            put_escaped(b, rp->target->query, rp->target->query_len, true);
        }
        tb_str(b, "\r\n");
    } else if (st->code == 301) {
        tb_str(b, "Location: ");
        put_escaped(b, rp->loc, rp->loc_len, false);
        tb_str(b, "/");
        if (rp->target->query && rp->target->query_len) {
            tb_str(b, "?");
            put_escaped(b, rp->target->query, rp->target->query_len, true);
        }
        tb_str(b, "\r\n");
    }
    tb_str(b, keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    if ((st->code == 200 || st->code == 206 || st->code == 304) && cf) {
        tb_str(b, "ETag: ");
        tb_str(b, cf->etag);
        tb_str(b, "\r\n");
    }
    if ((st->code == 200 || st->code == 206) && cf)
        tb_str(b, "Accept-Ranges: bytes\r\n");
    if (st->code == 405 || (st->code == 200 && !cf && !rp->gen))
        tb_str(b, "Allow: GET, HEAD, OPTIONS\r\n");
    if (hc->set->headers_len && !rp->bare)
        tb_put(b, hc->set->headers, hc->set->headers_len);
    if (hc->vh && hc->vh->headers_len && !rp->bare)
        tb_put(b, hc->vh->headers, hc->vh->headers_len);
    tb_str(b, "\r\n");
}

/* The method is known once the request-target has begun, or once the
 * parser failed past the method token (in the target, say, before any of
 * it was handed over): a HEAD gets no body whichever byte was wrong and
 * wherever the request was split. */
static bool http_method_known(const struct http_conn *hc)
{
    return hc->url_len > 0 || hc->url_too_long || hc->method_known;
}

static bool http_is_head(const struct http_conn *hc)
{
    return http_method_known(hc) && hc->parser.method == HTTP_HEAD;
}

static void piece_add(struct http_response *r, const void *p, size_t len, bool ref,
                      const struct ts_csum_map *csum)
{
    if (len == 0)
        return;
    r->piece[r->n_pieces++] = (struct http_piece){(const uint8_t *)p, len, ref, csum};
}

/* A multipart/byteranges body (RFC 9110 14.6): the part headers are written
 * into r->parts and copied, the ranges go by reference. Returns -1 when the
 * part headers do not fit (the caller then sends the whole file). */
static int http_multipart(struct http_response *r, struct http_reply *rp)
{
    const struct cache_file *cf = rp->cf;
    struct textbuf b = {r->parts, 0, sizeof r->parts, false};
    uint64_t total = 0;

    r->n_pieces = 0;
    for (unsigned i = 0; i < rp->n_ranges; i++) {
        size_t start = b.len;
        tb_str(&b, i ? "\r\n--" : "--");
        tb_str(&b, rp->boundary);
        tb_str(&b, "\r\nContent-Type: ");
        tb_str(&b, rp->mime);
        tb_str(&b, "\r\nContent-Range: ");
        put_range(&b, rp->ranges[i].first, rp->ranges[i].last, cf->size);
        tb_str(&b, "\r\n\r\n");
        if (b.full)
            return -1;
        uint64_t len = rp->ranges[i].last - rp->ranges[i].first + 1;
        piece_add(r, r->parts + start, b.len - start, false, NULL);
        piece_add(r, cf->data + rp->ranges[i].first, len, true, &cf->csum);
        total += b.len - start + len;
    }
    size_t start = b.len;
    tb_str(&b, "\r\n--");
    tb_str(&b, rp->boundary);
    tb_str(&b, "--\r\n");
    if (b.full)
        return -1;
    piece_add(r, r->parts + start, b.len - start, false, NULL);
    rp->multipart_len = total + (b.len - start);
    return 0;
}

/* A boundary that differs per response; it cannot occur in a part's data by
 * chance in any way that matters, since every part is framed by its
 * Content-Range. */
static void http_boundary(const struct http_conn *hc, const struct cache_file *cf,
                          char out[24])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)hc->requests;
    for (const char *p = cf->etag; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    memcpy(out, "chttpd-", 7);
    for (int i = 0; i < 16; i++)
        out[7 + i] = hex[(h >> (60 - 4 * i)) & 15];
    out[23] = '\0';
}

/* Writes the answer to the current request into hc->out. */
static void http_respond(struct http_conn *hc, int code, const struct http_reply *rp_in)
{
    struct http_response *r = hc->out;
    const struct http_settings *set = hc->set;
    unsigned limit = set->keepalive_requests;
    static const struct http_reply none;
    struct http_reply rp = rp_in ? *rp_in : none;

    bool keep = set->keepalive && !http_status_closes(code) && hc->headers_done &&
                http_should_keep_alive(&hc->parser) &&
                !(limit && hc->requests + 1 >= limit) &&
                hc->parser.method != HTTP_CONNECT; /* a tunnel would follow */

    int64_t now = set->wall_s ? set->wall_s() : 0;
    if (now != hc->date_s) {
        http_date(now, hc->date);
        hc->date_s = now;
    }

    if (!rp.mime && rp.cf)
        rp.mime = rp.cf->mime;
    if (!rp_in)
        rp.max_age = -1;
    const struct cache *cache = hc->vh ? hc->vh->cache : set->cache;
    for (size_t i = 0; i < set->n_error_pages && cache; i++) {
        const struct http_error_page *ep = &set->error_pages[i];
        if (ep->code == code) {
            rp.page = cache_lookup(cache, ep->path, strlen(ep->path), NULL);
            break;
        }
    }

    r->n_pieces = 0;
    if (code == 206 && rp.n_ranges > 1) {
        http_boundary(hc, rp.cf, rp.boundary);
        if (http_multipart(r, &rp) < 0) {
            code = 200; /* too many part headers to hold: the whole file */
            r->n_pieces = 0;
        }
    }

    const struct http_status_line *st = http_status_get(code);
    struct textbuf b = {r->hdr, 0, sizeof r->hdr, false};
    http_put_head(&b, hc, st, &rp, keep);
    if (b.full) {
        /* A 301 to a long directory name: the URI is too long to redirect
         * to. Anything else (extra headers from the config that leave no
         * room) is told as 500, without those headers. */
        st = http_status_get(code == 301 ? 414 : 500);
        keep = false;
        b = (struct textbuf){r->hdr, 0, sizeof r->hdr, false};
        rp = none;
        rp.max_age = -1;
        rp.bare = true;
        http_put_head(&b, hc, st, &rp, keep);
        r->n_pieces = 0;
    }

    r->hdr_len = b.len;
    r->status = st->code;
    r->close_after = !keep;
    r->body = NULL;
    r->body_len = 0;
    r->page_slot = NULL;
    if (http_is_head(hc)) {
        r->n_pieces = 0;
    } else if (st->code == 206 && rp.n_ranges > 1) {
        r->body_len = rp.multipart_len;
    } else if (st->code == 200 && rp.gen) {
        /* lent only until written: copied, never referenced */
        r->body = rp.gen->body;
        r->body_len = rp.gen->len;
        piece_add(r, r->body, r->body_len, false, NULL);
    } else {
        const struct ts_csum_map *csum = NULL;
        if (st->code == 200 && rp.cf) {
            r->body = rp.cf->data;
            r->body_len = rp.cf->size;
            csum = &rp.cf->csum;
        } else if (st->code == 206) {
            r->body = rp.cf->data + rp.ranges[0].first;
            r->body_len = rp.ranges[0].last - rp.ranges[0].first + 1;
            csum = &rp.cf->csum;
        } else if (st->page && rp.page && st->code == code) {
            r->body = rp.page->data;
            r->body_len = rp.page->size;
            csum = &rp.page->csum;
        } else if (st->page) {
            r->body = (const uint8_t *)st->page;
            r->body_len = st->page_len;
        }
        piece_add(r, r->body, r->body_len, true, csum);
    }
    hc->produced = true;
}

/* What a method gets: 0 when served, else the status (RFC 9110 9.1: 405
 * for a method the server knows but the target does not allow, 501 for one
 * it does not implement at all). */
static int http_method_status(enum http_method m)
{
    switch (m) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_OPTIONS:
        return 0;
    case HTTP_POST:
    case HTTP_PUT:
    case HTTP_DELETE:
    case HTTP_CONNECT:
    case HTTP_TRACE:
    case HTTP_PATCH: /* RFC 5789 */
        return 405;
    default: /* WebDAV, UPnP and the like */
        return 501;
    }
}

/* The virtual host a request names (RFC 9112 3.2: the absolute-form's
 * authority, else Host), without port or trailing dot, case-insensitive;
 * NULL for the default host. */
static const struct http_vhost *http_vhost_of(const struct http_conn *hc, const char *a,
                                              size_t n)
{
    const struct http_settings *set = hc->set;
    if (set->n_vhosts == 0)
        return NULL;
    if (!a) {
        a = hc->host;
        n = hc->host_len;
    }
    while (n && (a[0] == ' ' || a[0] == '\t'))
        a++, n--;
    size_t h = 0;
    while (h < n && a[h] != ':' && a[h] != ' ' && a[h] != '\t')
        h++;
    if (h > 1 && a[h - 1] == '.')
        h--;
    if (h == 0)
        return NULL;
    for (size_t i = 0; i < set->n_vhosts; i++) {
        for (const char *p = set->vhosts[i].names; *p;) {
            size_t m = strcspn(p, " ");
            if (m == h && strncasecmp(p, a, h) == 0)
                return &set->vhosts[i];
            p += m + (p[m] == ' ');
        }
    }
    return NULL;
}

/* The status page, when the request is a GET or HEAD of its path and the
 * client may see it. Returns false to go on as for any other path. */
static bool http_serve_status(struct http_conn *hc, const char *path,
                              const struct http_target *t)
{
    const struct http_settings *set = hc->set;
    struct http_page page;

    if (!set->status_page || !set->status_path ||
        (hc->parser.method != HTTP_GET && hc->parser.method != HTTP_HEAD) ||
        strlen(set->status_path) != t->path_len ||
        memcmp(set->status_path, path, t->path_len) != 0)
        return false;
    int rc =
        set->status_page(set->status_arg, hc->peer_ip, t->query, t->query_len, &page);
    if (rc == -ENOENT)
        return false;
    if (rc < 0) {
        http_respond(hc, 503, NULL);
        return true;
    }
    struct http_reply rp = {.gen = &page, .max_age = -1};
    http_respond(hc, 200, &rp);
    hc->out->page_slot = page.slot; /* given back once written, whatever was sent */
    return true;
}

/* [http] redirect_https: 301 to the same host and target over https. The
 * host is the request's authority or Host without its port; a request
 * naming no usable host gets a 400 (there is nowhere to send it). */
static void http_redirect_https(struct http_conn *hc, const char *path,
                                const struct http_target *t)
{
    const char *a = t->authority ? t->authority : hc->host;
    size_t n = t->authority ? t->authority_len : hc->host_len;
    while (n && (a[0] == ' ' || a[0] == '\t'))
        a++, n--;
    size_t h = 0;
    while (h < n && a[h] != ':' && a[h] != ' ' && a[h] != '\t')
        h++;
    bool ok = h > 0;
    for (size_t i = 0; ok && i < h; i++)
        ok = isalnum((unsigned char)a[i]) || a[i] == '-' || a[i] == '.';
    if (!ok) {
        http_respond(hc, 400, NULL);
        return;
    }
    struct http_reply rp = {.loc = path,
                            .loc_len = t->path_len,
                            .target = t,
                            .https_host = a,
                            .https_host_len = h,
                            .https_port = hc->set->redirect_https_port};
    http_respond(hc, 301, &rp);
}

/* A complete, well-formed HTTP/1.x request: find what to send. */
static void http_serve(struct http_conn *hc)
{
    char path[HTTP_URL_MAX + 1];
    struct http_target t;
    int redirect = 0;
    enum http_method m = (enum http_method)hc->parser.method;

    hc->vh = http_vhost_of(hc, NULL, 0); /* by Host, for every answer */
    int code = http_method_status(m);
    if (code) {
        http_respond(hc, code, NULL);
        return;
    }
    if (m == HTTP_OPTIONS && hc->url_len == 1 && hc->url[0] == '*') {
        http_respond(hc, 200, NULL); /* the server as a whole (RFC 9110 9.3.7) */
        return;
    }
    if (http_target_parse(hc->url, hc->url_len, path, &t) < 0) {
        http_respond(hc, 400, NULL);
        return;
    }
    if (t.authority) /* an absolute-form target names the host itself */
        hc->vh = http_vhost_of(hc, t.authority, t.authority_len);
    if (http_serve_status(hc, path, &t))
        return;
    if (hc->set->redirect_https_port) {
        http_redirect_https(hc, path, &t);
        return;
    }
    const struct cache *cache = hc->vh ? hc->vh->cache : hc->set->cache;
    const struct cache_file *cf =
        cache ? cache_lookup(cache, path, t.path_len, &redirect) : NULL;
    if (!cf) {
        http_respond(hc, 404, NULL);
    } else if (redirect) {
        struct http_reply rp = {.loc = path, .loc_len = t.path_len, .target = &t};
        http_respond(hc, 301, &rp);
    } else if (m == HTTP_OPTIONS) {
        http_respond(hc, 200, NULL);
    } else {
        struct http_reply rp = {.cf = cf, .mime = cf->mime, .max_age = cf->max_age};
        if (hc->set->gzip_static && cf->gz) {
            rp.vary = true;
            if (!hc->ae_long && http_accepts_gzip(hc->ae, hc->ae_len)) {
                rp.cf = cf = cf->gz; /* same type and caching, gzip-encoded */
                rp.gzip = true;
            }
        }
        int code = http_preconditions(hc, cf);
        if (code == 0 && m == HTTP_GET && hc->range_seen && !hc->range_bad &&
            http_if_range_holds(hc, cf)) {
            /* RFC 9110 14.2: only GET has ranges; HEAD and a bad or
             * oversized field get the whole representation */
            struct http_range ranges[HTTP_RANGES_MAX];
            int n = http_range_parse(hc->range, hc->range_len, cf->size, ranges,
                                     HTTP_RANGES_MAX);
            if (n == 0) {
                code = 416;
            } else if (n > 0) {
                code = 206;
                rp.ranges = ranges;
                rp.n_ranges = (unsigned)n;
            }
            http_respond(hc, code ? code : 200, &rp);
            return;
        }
        http_respond(hc, code ? code : 200, &rp);
    }
}

/* ------------------------------------------------------------------ */
/* http-parser callbacks                                               */

enum {
    HDR_OTHER,
    HDR_HOST,
    HDR_INM,
    HDR_IMS,
    HDR_IM,
    HDR_IUS,
    HDR_RANGE,
    HDR_IFR,
    HDR_AE,
    HDR_REFERER,
    HDR_UA
};

/* states of http_rl_scan() */
enum http_rl { RL_OFF, RL_METHOD0, RL_METHOD, RL_TARGET0, RL_TARGET, RL_VERSION, RL_CR };

static int on_message_begin(http_parser *p)
{
    struct http_conn *hc = p->data;
    hc->in_message = true;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_conn *hc = p->data;
    size_t max = hc->set->max_uri_bytes;
    if (max == 0 || max > sizeof hc->url)
        max = sizeof hc->url;
    if (hc->url_too_long || len > max - hc->url_len) {
        hc->url_too_long = true;
        return 0;
    }
    memcpy(hc->url + hc->url_len, at, len);
    hc->url_len += len;
    return 0;
}

static int http_hdr_kind(const struct http_conn *hc)
{
    static const struct {
        const char *name;
        int kind;
    } known[] = {
        {"host", HDR_HOST},
        {"if-none-match", HDR_INM},
        {"if-modified-since", HDR_IMS},
        {"if-match", HDR_IM},
        {"if-unmodified-since", HDR_IUS},
        {"range", HDR_RANGE},
        {"if-range", HDR_IFR},
        {"accept-encoding", HDR_AE},
        {"referer", HDR_REFERER},
        {"user-agent", HDR_UA},
    };
    if (hc->field_long)
        return HDR_OTHER;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == hc->field_len &&
            memcmp(known[i].name, hc->field, hc->field_len) == 0)
            return known[i].kind;
    return HDR_OTHER;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_conn *hc = p->data;
    if (hc->headers_done)
        return 0; /* a chunked trailer */
    hc->line_done = true;
    if (hc->in_value) {
        hc->in_value = false;
        hc->field_len = 0;
        hc->field_long = false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = at[i];
        if (c == ' ' || c == '\t')
            hc->bad_header = true; /* RFC 9112 5.1: no space before ':' */
        if (hc->field_len == sizeof hc->field) {
            hc->field_long = true;
            continue;
        }
        hc->field[hc->field_len++] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
    }
    return 0;
}

static void append(char *buf, size_t cap, size_t *len, bool *overflow, const char *s,
                   size_t n)
{
    if (*overflow || n > cap - *len) {
        *overflow = true;
        return;
    }
    memcpy(buf + *len, s, n);
    *len += n;
}

/* Appends what fits; the rest is cut (a log field, not a decision). */
static void clip_append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n > cap - *len)
        n = cap - *len;
    memcpy(buf + *len, s, n);
    *len += n;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_conn *hc = p->data;
    if (hc->headers_done)
        return 0;
    if (!hc->in_value) {
        hc->in_value = true;
        hc->cur_hdr = http_hdr_kind(hc);
        switch (hc->cur_hdr) {
        case HDR_HOST:
            hc->host_count++;
            break;
        case HDR_INM: /* repeated fields join as one list (RFC 9110 5.3) */
            if (hc->inm_seen)
                append(hc->inm, sizeof hc->inm, &hc->inm_len, &hc->inm_long, ",", 1);
            hc->inm_seen = true;
            break;
        case HDR_IMS: /* a date is not a list: two are invalid, ignore */
            hc->ims_bad = hc->ims_seen;
            hc->ims_seen = true;
            break;
        case HDR_IM:
            if (hc->im_seen)
                append(hc->im, sizeof hc->im, &hc->im_len, &hc->im_long, ",", 1);
            hc->im_seen = true;
            break;
        case HDR_IUS:
            hc->ius_bad = hc->ius_seen;
            hc->ius_seen = true;
            break;
        case HDR_RANGE: /* two Range fields: ignore both (RFC 9110 5.3) */
            hc->range_bad = hc->range_seen;
            hc->range_seen = true;
            break;
        case HDR_IFR: /* two If-Range fields: the range is not used */
            hc->ifr_bad = hc->ifr_seen;
            hc->ifr_seen = true;
            break;
        case HDR_AE:
            if (hc->ae_len)
                append(hc->ae, sizeof hc->ae, &hc->ae_len, &hc->ae_long, ",", 1);
            break;
        }
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)at[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            hc->bad_header = true; /* RFC 9110 5.5; http-parser skips byte 1 */
    }
    if (hc->cur_hdr == HDR_INM)
        append(hc->inm, sizeof hc->inm, &hc->inm_len, &hc->inm_long, at, len);
    else if (hc->cur_hdr == HDR_IMS)
        append(hc->ims, sizeof hc->ims, &hc->ims_len, &hc->ims_bad, at, len);
    else if (hc->cur_hdr == HDR_IM)
        append(hc->im, sizeof hc->im, &hc->im_len, &hc->im_long, at, len);
    else if (hc->cur_hdr == HDR_IUS)
        append(hc->ius, sizeof hc->ius, &hc->ius_len, &hc->ius_bad, at, len);
    else if (hc->cur_hdr == HDR_RANGE)
        append(hc->range, sizeof hc->range, &hc->range_len, &hc->range_bad, at, len);
    else if (hc->cur_hdr == HDR_IFR)
        append(hc->ifr, sizeof hc->ifr, &hc->ifr_len, &hc->ifr_bad, at, len);
    else if (hc->cur_hdr == HDR_AE)
        append(hc->ae, sizeof hc->ae, &hc->ae_len, &hc->ae_long, at, len);
    else if (hc->cur_hdr == HDR_HOST)
        clip_append(hc->host, sizeof hc->host, &hc->host_len, at, len);
    else if (hc->cur_hdr == HDR_REFERER)
        clip_append(hc->referer, sizeof hc->referer, &hc->referer_len, at, len);
    else if (hc->cur_hdr == HDR_UA)
        clip_append(hc->ua, sizeof hc->ua, &hc->ua_len, at, len);
    return 0;
}

static uint64_t http_body_max(const struct http_conn *hc)
{
    return hc->set->max_body_bytes ? hc->set->max_body_bytes : HTTP_BODY_MAX;
}

/* Decides the answers that do not need the body, all of which close; for
 * those the body is skipped (return 1) and on_message_complete follows at
 * once. */
static int on_headers_complete(http_parser *p)
{
    struct http_conn *hc = p->data;
    int code = 0;

    hc->headers_done = true;
    hc->line_done = true;
    if (p->http_major != 1)
        code = 505;
    else if (hc->url_too_long)
        code = 414;
    else if (hc->bad_header || hc->host_count > 1 ||
             (p->http_minor >= 1 && hc->host_count == 0))
        code = 400; /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
    else if ((p->flags & F_CONTENTLENGTH) && p->content_length > http_body_max(hc))
        code = 413;
    hc->early_status = code;
    return code ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_conn *hc = p->data;
    (void)at;
    hc->body_bytes += len;
    if (hc->body_bytes > http_body_max(hc)) { /* chunked: no length up front */
        http_respond(hc, 413, NULL);
        http_parser_pause(p, 1);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *hc = p->data;
    if (hc->early_status)
        http_respond(hc, hc->early_status, NULL);
    else
        http_serve(hc);
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings http_callbacks = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------ */
/* Connection                                                          */

static void http_request_reset(struct http_conn *hc)
{
    hc->req_bytes = 0;
    hc->body_bytes = 0;
    hc->in_message = false;
    hc->line_done = false;
    hc->headers_done = false;
    hc->url_too_long = false;
    hc->method_known = false;
    hc->in_value = false;
    hc->bad_header = false;
    hc->early_status = 0;
    hc->cur_hdr = HDR_OTHER;
    hc->host_count = 0;
    hc->url_len = 0;
    hc->field_len = 0;
    hc->field_long = false;
    hc->inm_len = 0;
    hc->inm_seen = false;
    hc->inm_long = false;
    hc->ims_len = 0;
    hc->ims_seen = false;
    hc->ims_bad = false;
    hc->im_len = 0;
    hc->im_seen = false;
    hc->im_long = false;
    hc->ius_len = 0;
    hc->ius_seen = false;
    hc->ius_bad = false;
    hc->range_len = 0;
    hc->range_seen = false;
    hc->range_bad = false;
    hc->ifr_len = 0;
    hc->ifr_seen = false;
    hc->ifr_bad = false;
    hc->ae_len = 0;
    hc->ae_long = false;
    hc->host_len = 0;
    hc->referer_len = 0;
    hc->ua_len = 0;
    hc->reset_pending = false;
    hc->vh = NULL;
    hc->rl_state = RL_OFF;
    hc->rl_ver = 0;
    hc->rl_v1 = false;
}

void http_conn_init(struct http_conn *hc, const struct http_settings *set)
{
    http_parser_init(&hc->parser, HTTP_REQUEST);
    hc->parser.data = hc;
    hc->set = set;
    hc->out = NULL;
    hc->peer_ip = 0;
    hc->requests = 0;
    hc->produced = false;
    hc->closed = false;
    hc->date_s = INT64_MIN;
    http_request_reset(hc);
}

/* A method token http-parser does not know ("FOO", "get", "GETX"): it fails
 * at the first byte that leaves its table, and the rest of the request line
 * is checked here, byte by byte (resumable): a well-formed
 * "token SP target SP HTTP/d.d CRLF" is 501 (RFC 9110 15.6.2), or 505 when
 * the version is not 1.x (the HTTP/2 preface "PRI * HTTP/2.0"), anything
 * else 400. The bytes before the failing one were method characters (or
 * the empty lines a request may start with). */

static bool http_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* Returns 501 or 400 once decided, 0 when every byte was used; *used is the
 * bytes read. */
static int http_rl_scan(struct http_conn *hc, const uint8_t *d, size_t n, size_t *used)
{
    static const char ver[] = "HTTP/d.d";
    size_t i = 0;
    int code = 0;

    while (i < n && !code) {
        unsigned char c = d[i++];
        switch (hc->rl_state) {
        case RL_METHOD0:
        case RL_METHOD:
            if (http_tchar(c))
                hc->rl_state = RL_METHOD;
            else if (c == ' ' && hc->rl_state == RL_METHOD)
                hc->rl_state = RL_TARGET0;
            else
                code = 400;
            break;
        case RL_TARGET0:
        case RL_TARGET:
            if (c > 0x20 && c < 0x7f)
                hc->rl_state = RL_TARGET;
            else if (c == ' ' && hc->rl_state == RL_TARGET) {
                hc->rl_state = RL_VERSION;
                hc->rl_ver = 0;
            } else
                code = 400;
            break;
        case RL_VERSION:
            if (ver[hc->rl_ver] == 'd' ? (c >= '0' && c <= '9') : c == ver[hc->rl_ver]) {
                if (hc->rl_ver == 5)
                    hc->rl_v1 = c == '1';
                if (++hc->rl_ver == sizeof ver - 1)
                    hc->rl_state = RL_CR;
            } else
                code = 400;
            break;
        case RL_CR:
            if (c == '\n')
                code = hc->rl_v1 ? 501 : 505;
            else if (c != '\r' || hc->rl_ver++ != sizeof ver - 1)
                code = 400; /* one CR, then LF */
            break;
        default:
            code = 400;
        }
    }
    *used = i;
    return code;
}

/* What a parse error says to the client. */
static int http_errno_status(enum http_errno e)
{
    return e == HPE_HEADER_OVERFLOW ? 431 : 400;
}

enum http_rc http_conn_feed(struct http_conn *hc, const uint8_t *data, size_t len,
                            size_t *consumed, struct http_response *resp)
{
    size_t limit = hc->set->max_request_bytes ? hc->set->max_request_bytes
                                              : HTTP_REQUEST_BYTES_DEFAULT;
    size_t off = 0;

    *consumed = 0;
    if (hc->closed)
        return HTTP_ERROR;
    if (hc->reset_pending)
        http_request_reset(hc);
    hc->out = resp;
    hc->produced = false;

    while (off < len) {
        if (hc->rl_state != RL_OFF) {
            size_t used, n = len - off;
            if (n > limit - hc->req_bytes)
                n = limit - hc->req_bytes;
            int code = http_rl_scan(hc, data + off, n, &used);
            off += used;
            hc->req_bytes += used;
            if (!code && hc->req_bytes >= limit)
                code = 414; /* the request line alone is too long */
            if (code)
                http_respond(hc, code, NULL);
            break;
        }

        /* Until the headers end, feed no more than the limit allows, so
         * that the parser stops exactly at it. */
        size_t n = len - off;
        if (!hc->headers_done && n > limit - hc->req_bytes)
            n = limit - hc->req_bytes;

        http_parser_pause(&hc->parser, 0);
        size_t got = http_parser_execute(&hc->parser, &http_callbacks,
                                         (const char *)data + off, n);
        off += got;
        if (!hc->headers_done)
            hc->req_bytes += got;
        if (hc->produced)
            break;

        enum http_errno e = HTTP_PARSER_ERRNO(&hc->parser);
        if (e == HPE_INVALID_METHOD && got < n) {
            hc->rl_state = hc->in_message ? RL_METHOD : RL_METHOD0;
            continue; /* the failing byte is scanned next */
        }
        if (e != HPE_OK || got < n) {
            /* only HPE_INVALID_METHOD stops the parser inside the method */
            if (e != HPE_OK && e != HPE_INVALID_METHOD && hc->in_message)
                hc->method_known = true;
            http_respond(hc, http_errno_status(e), NULL);
            break;
        }
        if (!hc->headers_done && hc->req_bytes >= limit) {
            /* Still in the request line: its URI is what is too long. */
            http_respond(hc, hc->line_done ? 431 : 414, NULL);
            break;
        }
    }
    *consumed = off;
    if (!hc->produced)
        return HTTP_AGAIN;

    hc->requests++;
    if (resp->close_after) {
        hc->closed = true;
    } else {
        hc->in_message = false; /* the rest waits for the access log */
        hc->reset_pending = true;
    }
    return HTTP_OK;
}

void http_conn_resume(struct http_conn *hc, const struct http_settings *set,
                      unsigned requests)
{
    http_conn_init(hc, set);
    hc->requests = requests;
}

void http_conn_rebind(struct http_conn *hc, const struct http_settings *set)
{
    hc->set = set;
}

void http_conn_timeout(struct http_conn *hc, struct http_response *resp)
{
    hc->out = resp;
    http_respond(hc, 408, NULL);
    hc->requests++;
    hc->closed = true;
}

void http_conn_info(const struct http_conn *hc, struct http_req_info *out)
{
    bool line = http_method_known(hc);
    *out = (struct http_req_info){
        .method = line ? http_method_str((enum http_method)hc->parser.method) : NULL,
        .target = hc->url,
        .target_len = hc->url_len,
        .major = hc->parser.http_major,
        .minor = hc->parser.http_minor,
        .host = hc->host,
        .host_len = hc->host_len,
        .referer = hc->referer,
        .referer_len = hc->referer_len,
        .ua = hc->ua,
        .ua_len = hc->ua_len,
        .date_s = hc->date_s,
    };
}

unsigned http_conn_requests(const struct http_conn *hc)
{
    return hc->requests;
}

bool http_conn_partial(const struct http_conn *hc)
{
    return !hc->closed && hc->in_message;
}
