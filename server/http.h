/**
 * @file http.h
 * HTTP/1.1 request handling for one connection, independent of any socket:
 * bytes go in with http_conn_feed(); response bytes come out as a list of
 * pieces (a small copied header and a body by reference into the cache) that
 * the worker writes to the socket. Parsing is resumable: a request may be
 * split at any byte. Pipelined requests are answered in order.
 *
 * Built on http-parser. Status codes: 200, 301 (directory without slash),
 * 304 (If-None-Match / If-Modified-Since), 400 (malformed), 404, 405 (not GET
 * or HEAD, with Allow), 413/431 (request too large), 414 (URI too long),
 * 505 (not HTTP/1.x). After a 4xx caused by a malformed request the
 * connection is closed once the response is sent.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "cache.h"

#define HTTP_HDR_MAX 1024 /* response header bytes */

struct http_settings {
    const struct cache *cache;
    const char *server_name;
    bool keepalive;
    unsigned keepalive_requests;
    unsigned max_request_bytes;
    /** current wall-clock seconds, supplied by the caller (no syscalls here) */
    int64_t (*wall_s)(void);
};

/** One response ready to write: hdr[0..hdr_len) then body[0..body_len). */
struct http_response {
    char hdr[HTTP_HDR_MAX];
    size_t hdr_len;
    const uint8_t *body;   /**< into the cache (or a static error page) */
    size_t body_len;
    bool close_after;      /**< close the connection once this is sent */
    int status;
};

enum http_rc { HTTP_OK = 0, HTTP_AGAIN = 1, HTTP_ERROR = -1 };

struct http_conn {
    http_parser parser;
    const struct http_settings *set;
    /* the request being parsed */
    char url[2048];
    size_t url_len;
    bool url_too_long;
    char hdr_field[64];
    size_t hdr_field_len;
    int cur_hdr; /* which header value is being collected */
    char if_none_match[128];
    size_t inm_len;
    char if_modified_since[64];
    size_t ims_len;
    size_t req_bytes;
    unsigned requests;
    bool done;       /* a response has been produced for this message */
    bool failed;     /* stop parsing: the connection closes after the response */
    struct http_response *out; /* where on_message_complete writes */
    bool produced;
};

void http_conn_init(struct http_conn *hc, const struct http_settings *set);

/**
 * Feeds bytes. Consumes up to the end of the first complete request and
 * writes its response to @p resp, returning HTTP_OK with *consumed set; the
 * caller sends the response and feeds the rest later (pipelining). Returns
 * HTTP_AGAIN when all bytes were consumed and more are needed. A malformed
 * request yields HTTP_OK with a 4xx response whose close_after is set.
 * Returns HTTP_ERROR only when fed after a close_after response.
 */
enum http_rc http_conn_feed(struct http_conn *hc, const uint8_t *data, size_t len,
                            size_t *consumed, struct http_response *resp);

/** Peer closed: true if a partial request was pending (nothing to answer). */
bool http_conn_partial(const struct http_conn *hc);

/** Formats an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into buf[30]. */
void http_date(int64_t wall_s, char out[30]);

#endif
