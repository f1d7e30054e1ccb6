/**
 * @file lg_parse.h
 * What the load generator parses: its URLs and source-address blocks from
 * the command line, and the server's HTTP/1.1 responses as they arrive, in
 * pieces of any size. The response parser is resumable with a few dozen
 * bytes of state per connection and no buffer: it keeps only the start of
 * the current header line, enough for the status line, Content-Length and
 * Connection.
 */
#ifndef LG_PARSE_H
#define LG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** "A.B.C.D" to a host-order address; -1 when malformed. */
int lg_ipv4_parse(const char *s, uint32_t *ip);

/** "A.B.C.D/N" (N 0..32, default 32): the usable host addresses, in host
 *  order: for N <= 30 without the network and broadcast addresses, for 31
 *  and 32 all of them. -1 when malformed. */
int lg_cidr_parse(const char *s, uint32_t *first, uint32_t *count);

struct lg_url {
    bool has_host;  /**< false: a path alone */
    uint32_t ip;    /**< with a host */
    uint16_t port;  /**< with a host; 80 when not given */
    char host[64];  /**< as written, for the Host header */
    char path[512]; /**< from the first '/'; "/" when empty */
};

/** A path ("/index.html") or "http://A.B.C.D[:PORT][/path]" (the host must
 *  be an IPv4 address: no resolver). -1 with a reason in @p err. */
int lg_url_parse(const char *s, struct lg_url *u, char *err, size_t errlen);

/** Writes a GET request for @p path; `Connection: close` when @p close.
 *  Returns its length, or -1 when @p len is too small. */
int lg_request_build(char *buf, size_t len, const char *path, const char *host,
                     bool close);

#define LG_RESP_LINE 48       /* bytes kept of each header line */
#define LG_RESP_MAX_HDR 16384 /* a longer header is an error */

enum lg_resp_rc { LG_RESP_MORE, LG_RESP_DONE, LG_RESP_ERROR };

struct lg_resp {
    uint8_t state;
    uint8_t line_len;
    bool has_len;
    bool close; /**< the server will close after this response */
    uint16_t status;
    uint32_t hdr_bytes;
    uint64_t body_len;
    uint64_t body_left;
    char line[LG_RESP_LINE];
};

void lg_resp_init(struct lg_resp *r);
/** Feeds @p n bytes of the stream. MORE: all consumed, the response goes
 *  on; DONE: the response ended after *used bytes (what follows belongs to
 *  the next one); ERROR: not a response we can frame (a bad status line, no
 *  Content-Length, chunked coding, an oversized header). */
enum lg_resp_rc lg_resp_feed(struct lg_resp *r, const uint8_t *p, size_t n, size_t *used);
/** True once the status line and headers are in (the body may be going). */
bool lg_resp_in_body(const struct lg_resp *r);
/** Bytes of the body still to come, once the headers are in; else 0. The
 *  body's bytes are only counted: lg_resp_feed() takes @p p NULL for up to
 *  this many. */
uint64_t lg_resp_body_left(const struct lg_resp *r);

#endif
