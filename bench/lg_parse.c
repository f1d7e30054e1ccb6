/**
 * @file lg_parse.c
 * The load generator's parsers (see lg_parse.h). The response parser is a
 * small state machine over the bytes as they come: status line, header
 * lines, body counted down from Content-Length.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lg_parse.h"

int lg_ipv4_parse(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        unsigned long part = 0;
        int digits = 0;
        while (isdigit((unsigned char)*s) && digits < 4) {
            part = part * 10 + (unsigned long)(*s++ - '0');
            digits++;
        }
        if (part > 255 || digits > 3)
            return -1;
        v = v << 8 | (uint32_t)part;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    if (*s != '\0')
        return -1;
    *ip = v;
    return 0;
}

int lg_cidr_parse(const char *s, uint32_t *first, uint32_t *count)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    uint32_t ip;
    if (lg_ipv4_parse(buf, &ip) != 0)
        return -1;
    unsigned prefix = 32;
    if (slash) {
        char *end;
        if (!isdigit((unsigned char)slash[1]))
            return -1;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || p > 32)
            return -1;
        prefix = (unsigned)p;
    }
    uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
    uint64_t size = 1ull << (32 - prefix);
    uint32_t net = ip & mask;
    if (prefix <= 30) { /* leave out the network and broadcast addresses */
        *first = net + 1;
        *count = (uint32_t)(size - 2);
    } else {
        *first = net;
        *count = (uint32_t)size;
    }
    return 0;
}

int lg_url_parse(const char *s, struct lg_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    const char *path = s;
    if (strncmp(s, "http://", 7) == 0) {
        const char *h = s + 7;
        size_t hl = strcspn(h, "/");
        if (hl == 0 || hl >= sizeof(u->host)) {
            snprintf(err, errlen, "%s: bad host", s);
            return -1;
        }
        memcpy(u->host, h, hl);
        u->host[hl] = '\0';
        char addr[64];
        memcpy(addr, h, hl);
        addr[hl] = '\0';
        u->port = 80;
        char *colon = strchr(addr, ':');
        if (colon) {
            char *end;
            unsigned long p = strtoul(colon + 1, &end, 10);
            if (*end != '\0' || p == 0 || p > 65535 || colon[1] == '\0') {
                snprintf(err, errlen, "%s: bad port", s);
                return -1;
            }
            u->port = (uint16_t)p;
            *colon = '\0';
        }
        if (lg_ipv4_parse(addr, &u->ip) != 0) {
            snprintf(err, errlen, "%s: the host must be an IPv4 address (no resolver)",
                     s);
            return -1;
        }
        u->has_host = true;
        path = h + hl;
        if (*path == '\0')
            path = "/";
    } else if (s[0] != '/') {
        snprintf(err, errlen, "%s: give a path (/index.html) or http://A.B.C.D/path", s);
        return -1;
    }
    size_t pl = strlen(path);
    if (pl >= sizeof(u->path)) {
        snprintf(err, errlen, "%s: path too long", s);
        return -1;
    }
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f) {
            snprintf(err, errlen, "%s: blanks or control characters in the path", s);
            return -1;
        }
    memcpy(u->path, path, pl + 1);
    return 0;
}

int lg_request_build(char *buf, size_t len, const char *path, const char *host,
                     bool close)
{
    int n =
        snprintf(buf, len,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: corehttpd-loadgen\r\n%s\r\n",
                 path, host, close ? "Connection: close\r\n" : "");
    return n < 0 || (size_t)n >= len ? -1 : n;
}

enum { ST_STATUS, ST_HEADER, ST_BODY, ST_DONE };

void lg_resp_init(struct lg_resp *r)
{
    memset(r, 0, sizeof(*r));
}

bool lg_resp_in_body(const struct lg_resp *r)
{
    return r->state == ST_BODY;
}

/* Case-insensitive "name:" at the start of the line; returns the value
 * after blanks, or NULL. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0)
        return NULL;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

static bool status_line(struct lg_resp *r)
{
    const char *l = r->line;
    /* "HTTP/1.x SSS" */
    if (r->line_len < 12 || strncmp(l, "HTTP/1.", 7) != 0 ||
        !isdigit((unsigned char)l[7]) || l[8] != ' ' || !isdigit((unsigned char)l[9]) ||
        !isdigit((unsigned char)l[10]) || !isdigit((unsigned char)l[11]))
        return false;
    r->status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
    r->close = l[7] == '0'; /* HTTP/1.0 closes unless it says keep-alive */
    return true;
}

/* One header line (the first LG_RESP_LINE - 1 bytes of it, without CRLF). */
static bool header_line(struct lg_resp *r)
{
    const char *v;
    if ((v = header_value(r->line, "content-length:")) != NULL) {
        char *end;
        if (!isdigit((unsigned char)*v))
            return false;
        unsigned long long n = strtoull(v, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0' || (r->has_len && n != r->body_len))
            return false;
        r->has_len = true;
        r->body_len = n;
    } else if ((v = header_value(r->line, "connection:")) != NULL) {
        if (strcasestr(v, "close"))
            r->close = true;
        else if (strcasestr(v, "keep-alive"))
            r->close = false;
    } else if (header_value(r->line, "transfer-encoding:") != NULL) {
        return false; /* chunked coding: not framed by us */
    }
    return true;
}

/* The header has ended: how long is the body? */
static bool headers_done(struct lg_resp *r)
{
    bool no_body = r->status < 200 || r->status == 204 || r->status == 304;
    if (no_body) {
        r->body_len = 0;
    } else if (!r->has_len) {
        return false;
    }
    r->body_left = r->body_len;
    r->state = r->body_left ? ST_BODY : ST_DONE;
    return true;
}

uint64_t lg_resp_body_left(const struct lg_resp *r)
{
    return r->state == ST_BODY ? r->body_left : 0;
}

enum lg_resp_rc lg_resp_feed(struct lg_resp *r, const uint8_t *p, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n) {
        if (r->state == ST_BODY) {
            size_t take = n - i < r->body_left ? n - i : (size_t)r->body_left;
            i += take;
            r->body_left -= take;
            if (r->body_left == 0)
                r->state = ST_DONE;
        } else if (r->state == ST_DONE) {
            break;
        } else {
            uint8_t c = p[i++];
            if (++r->hdr_bytes > LG_RESP_MAX_HDR) {
                *used = i;
                return LG_RESP_ERROR;
            }
            if (c != '\n') {
                if (c != '\r' && r->line_len < LG_RESP_LINE - 1)
                    r->line[r->line_len++] = (char)c;
                continue;
            }
            r->line[r->line_len] = '\0';
            bool ok;
            if (r->state == ST_STATUS) {
                ok = status_line(r);
                r->state = ST_HEADER;
            } else if (r->line_len == 0) {
                ok = headers_done(r);
            } else {
                ok = header_line(r);
            }
            r->line_len = 0;
            if (!ok) {
                *used = i;
                return LG_RESP_ERROR;
            }
        }
    }
    *used = i;
    return r->state == ST_DONE ? LG_RESP_DONE : LG_RESP_MORE;
}
