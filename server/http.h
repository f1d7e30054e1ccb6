/**
 * @file http.h
 * HTTP/1.1 request handling for one connection, independent of any socket:
 * bytes go in with http_conn_feed(); response bytes come out as a list of
 * pieces (a small copied header and a body by reference into the cache) that
 * the worker writes to the socket. Parsing is resumable: a request may be
 * split at any byte. Pipelined requests are answered in order.
 *
 * Built on http-parser. Methods: GET, HEAD and OPTIONS are served; the
 * other methods of RFC 9110 (and PATCH) get 405 with Allow; any other
 * well-formed method token gets 501. Status codes: 200, 301 (directory
 * without slash), 304 (If-None-Match / If-Modified-Since), 400 (malformed),
 * 404, 405, 413 (request body over max_body_bytes), 414 (request-target
 * over max_uri_bytes), 431 (request line + headers over max_request_bytes),
 * 501, 503 (the status page has no buffer free), 505 (not HTTP/1.x).
 * After a 4xx caused by a malformed or oversized request (400, 413, 414,
 * 431), a 501 and a 505 the connection is closed once the response is sent.
 * No allocation: every buffer lives in struct http_conn or struct
 * http_response, error pages are static strings.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "cache.h"

#define HTTP_HDR_MAX 2048 /* response header bytes, extra headers included */
/** Largest request-target the connection can hold (max_uri_bytes is at
 *  most this); longer is 414. */
#define HTTP_URL_MAX 2048
/** Default largest request body (Content-Length or chunked total) that is
 *  read and discarded; a larger one is 413 and the connection closes
 *  (nginx's client_max_body_size default). */
#define HTTP_BODY_MAX (1024 * 1024)
/** Timeouts used by the worker when the settings give 0. */
#define HTTP_KEEPALIVE_TIMEOUT_MS 30000
#define HTTP_HEADER_TIMEOUT_MS 10000
#define HTTP_SEND_TIMEOUT_MS 60000
/** max_request_bytes used when the settings give 0. */
#define HTTP_REQUEST_BYTES_DEFAULT 8192

/** A page made on request (the status page, server/status.h), in a buffer
 *  its maker lends until the response is written: the worker copies the body
 *  into the socket (ts_write), then gives @p slot back. */
struct http_page {
    const char *ctype; /**< Content-Type */
    const uint8_t *body;
    size_t len;
    void *slot; /**< the buffer's handle, for status_page_release() */
};

/** A custom error page: the body of @p code responses is the file at
 *  @p path in the cache (with its Content-Type) instead of the built-in. */
struct http_error_page {
    int code;
    const char *path;
};

/** A virtual host: the requests whose Host (or absolute-form authority)
 *  is one of @p names are answered from its cache, with its headers after
 *  the settings' own. */
struct http_vhost {
    const char *names; /**< blank-separated, lower-case, no port */
    const struct cache *cache;
    const char *headers; /**< "Name: value\r\n" lines */
    size_t headers_len;
};

struct http_settings {
    const struct cache *cache;
    const char *server_name; /**< Server header; NULL or "" omits it */
    bool keepalive;
    /** responses per connection; the last one says Connection: close.
     *  0 means no limit. */
    unsigned keepalive_requests;
    /** request line + headers; 0 means HTTP_REQUEST_BYTES_DEFAULT */
    unsigned max_request_bytes;
    /** request-target; 0 (or more than HTTP_URL_MAX) means HTTP_URL_MAX */
    unsigned max_uri_bytes;
    /** request body read and discarded; 0 means HTTP_BODY_MAX */
    uint64_t max_body_bytes;
    /** for the worker: idle time between requests before a connection is
     *  closed, and time a request may take to arrive whole; 0 means the
     *  HTTP_*_TIMEOUT_MS default */
    unsigned keepalive_timeout_ms;
    unsigned header_timeout_ms;
    /** for the worker: time a response may wait, blocked, between two
     *  writes that make progress before the connection is closed; 0 means
     *  HTTP_SEND_TIMEOUT_MS */
    unsigned send_timeout_ms;
    /** for the worker: connections one client address may hold on this
     *  core; a new one past it is closed at once. 0: no limit */
    unsigned max_conns_per_ip;
    /** serve "x.gz" for "x" to clients accepting gzip, with
     *  Content-Encoding: gzip; both forms say Vary: Accept-Encoding */
    bool gzip_static;
    /** for the worker: hand each response to the access log */
    bool access_log;
    /** extra response headers, each "Name: value\r\n", on every response */
    const char *headers;
    size_t headers_len;
    const struct http_error_page *error_pages;
    size_t n_error_pages;
    /** virtual hosts; a request naming none of them is the default host's
     *  (cache and headers above) */
    const struct http_vhost *vhosts;
    size_t n_vhosts;
    /** current wall-clock seconds, supplied by the caller (no syscalls here) */
    int64_t (*wall_s)(void);
    /** The status page: a GET or HEAD of exactly this path (decoded and
     *  normalised) is offered to status_page() before the cache; NULL or ""
     *  for none. status_page() fills @p page for a client at @p peer_ip (host
     *  order) and returns 0; -ENOENT when that client may not see it (the
     *  request then goes on as for any path: 404 unless a file has that
     *  name); -EBUSY when no buffer is free (503). */
    const char *status_path;
    int (*status_page)(void *arg, uint32_t peer_ip, const char *query, size_t query_len,
                       struct http_page *page);
    void *status_arg;
    /** Non-zero: every request but the status page's is answered with a 301
     *  to https://HOST[:port]/target on this port ([http] redirect_https;
     *  the worker clears it on TLS connections). */
    uint16_t redirect_https_port;
};

/** Most ranges of one request served; a request with more is answered
 *  with the whole file (RFC 9110 14.2 lets a server ignore Range). */
#define HTTP_RANGES_MAX 8
#define HTTP_PARTS_MAX 1536 /* multipart/byteranges part headers */

/** A byte range, both ends included. */
struct http_range {
    uint64_t first, last;
};

/** A piece of a response body: copied (part headers of a multipart body,
 *  held in the response; a generated page's body, lent until written) or
 *  sent by reference (the cache's bytes). */
struct http_piece {
    const uint8_t *p;
    size_t len;
    bool ref;
    /** a cached file's checksums when p points into its body, else NULL */
    const struct ts_csum_map *csum;
};

/** One response ready to write: hdr[0..hdr_len) then the pieces in order.
 *  body/body_len describe a single-piece body (whole file, one range, an
 *  error page); a multipart body has body NULL and body_len its total. */
struct http_response {
    char hdr[HTTP_HDR_MAX];
    size_t hdr_len;
    const uint8_t *body; /**< into the cache (or a static error page) */
    size_t body_len;
    struct http_piece piece[2 * HTTP_RANGES_MAX + 1];
    unsigned n_pieces;
    char parts[HTTP_PARTS_MAX];
    bool close_after; /**< close the connection once this is sent */
    int status;
    /** Non-NULL: the body is a struct http_page's, to be copied (not
     *  referenced) and its slot given back once the response is written. */
    void *page_slot;
};

enum http_rc { HTTP_OK = 0, HTTP_AGAIN = 1, HTTP_ERROR = -1 };

/** Per-connection state. Private to http.c: callers only allocate it and
 *  pass it to the functions below. */
struct http_conn {
    http_parser parser; /* parser.data points back here */
    const struct http_settings *set;
    struct http_response *out; /* the response of the current feed call */

    /* connection */
    uint32_t peer_ip;  /* host order; the caller sets it after http_conn_init */
    unsigned requests; /* responses produced so far */
    bool produced;     /* a response was written during this feed call */
    bool closed;       /* a close_after response was produced */
    int64_t date_s;    /* second that date[] shows */
    char date[30];

    /* the request being parsed (reset after each response) */
    size_t req_bytes; /* bytes fed before the end of the headers */
    uint64_t body_bytes;
    bool in_message; /* message begun, not yet answered */
    bool line_done;  /* request line finished (a header field began) */
    bool headers_done;
    bool url_too_long;
    bool method_known; /* the method token ended: parser.method is final */
    bool in_value;     /* last header callback was a value */
    bool bad_header;   /* a field name http-parser let through but RFC 9110 forbids */
    int early_status;  /* answer decided at end of headers, body skipped */
    int cur_hdr;       /* header whose value is being collected */
    unsigned host_count;
    char url[HTTP_URL_MAX];
    size_t url_len;
    char field[24]; /* lower-cased name of the current header */
    size_t field_len;
    bool field_long;
    char inm[256]; /* If-None-Match values, comma-joined */
    size_t inm_len;
    bool inm_seen, inm_long;
    char ims[40]; /* If-Modified-Since */
    size_t ims_len;
    bool ims_seen, ims_bad;
    char im[256]; /* If-Match values, comma-joined */
    size_t im_len;
    bool im_seen, im_long;
    char ius[40]; /* If-Unmodified-Since */
    size_t ius_len;
    bool ius_seen, ius_bad;
    char range[256]; /* Range */
    size_t range_len;
    bool range_seen, range_bad;
    char ifr[64]; /* If-Range */
    size_t ifr_len;
    bool ifr_seen, ifr_bad;
    char ae[128]; /* Accept-Encoding values, comma-joined */
    size_t ae_len;
    bool ae_long;
    /* for virtual hosts and the access log; truncated when longer */
    char host[128];
    size_t host_len;
    char referer[256];
    size_t referer_len;
    char ua[256];
    size_t ua_len;
    bool reset_pending; /* the answered request's fields stay until the next feed */
    const struct http_vhost *vh; /* the request's virtual host; NULL: default */
    /* a method http-parser does not know: the rest of the request line is
     * checked in http.c (enum http_rl) to tell 501 from 400 */
    uint8_t rl_state;
    uint8_t rl_ver; /* bytes of "HTTP/d.d" matched */
    bool rl_v1;     /* its major version is 1 */
};

void http_conn_init(struct http_conn *hc, const struct http_settings *set);

/**
 * Feeds bytes. Consumes up to the end of the first complete request and
 * writes its response to @p resp, returning HTTP_OK with *consumed set; the
 * caller sends the response and feeds the rest later (pipelining). Returns
 * HTTP_AGAIN when all bytes were consumed and more are needed. A malformed
 * request yields HTTP_OK with a 4xx response whose close_after is set (then
 * *consumed may stop short of the bad byte; the rest is not to be fed).
 * Returns HTTP_ERROR only when fed after a close_after response.
 */
enum http_rc http_conn_feed(struct http_conn *hc, const uint8_t *data, size_t len,
                            size_t *consumed, struct http_response *resp);

/** Starts @p hc again for a connection that has had @p requests responses
 *  (the worker let its parse state go while it sat idle between requests). */
void http_conn_resume(struct http_conn *hc, const struct http_settings *set,
                      unsigned requests);

/** Points the connection at other settings (a reloaded site); only
 *  between requests (http_conn_partial() false). */
void http_conn_rebind(struct http_conn *hc, const struct http_settings *set);

/** The request being read took too long: writes a 408 that closes the
 *  connection to @p resp (RFC 9110 15.5.9). */
void http_conn_timeout(struct http_conn *hc, struct http_response *resp);

/** Responses produced on the connection so far. */
unsigned http_conn_requests(const struct http_conn *hc);

/** The request just answered, for the access log: valid from the
 *  HTTP_OK of http_conn_feed() (or http_conn_timeout()) until the next
 *  feed. Strings are not NUL-terminated; a NULL method means the request
 *  line did not parse. */
struct http_req_info {
    const char *method;
    const char *target;
    size_t target_len;
    unsigned major, minor;
    const char *host, *referer, *ua;
    size_t host_len, referer_len, ua_len;
    int64_t date_s; /**< wall-clock second of the response */
};
void http_conn_info(const struct http_conn *hc, struct http_req_info *out);

/** Peer closed: true if a partial request was pending (nothing to answer). */
bool http_conn_partial(const struct http_conn *hc);

/**
 * Parses a Range value ("bytes=0-99, 200-, -50") against a representation
 * of @p size bytes (RFC 9110 14.1.2). Writes the satisfiable ranges, clipped
 * to the size, in the order given, to @p out. Returns their count (1 or
 * more); 0 when none is satisfiable (416); -1 when the field is to be
 * ignored (bad syntax, a unit other than bytes, more than @p max ranges).
 */
int http_range_parse(const char *v, size_t n, uint64_t size, struct http_range *out,
                     unsigned max);

/** True when an Accept-Encoding value accepts gzip (RFC 9110 12.5.3):
 *  "gzip" or "x-gzip" with a q above 0, or "*" with one when gzip is not
 *  named. */
bool http_accepts_gzip(const char *v, size_t n);

/** Formats an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into buf[30]
 *  (29 characters and a NUL). Pure arithmetic: no locale, no lock. */
void http_date(int64_t wall_s, char out[30]);

/** Parses an HTTP-date in any of the three forms of RFC 9110 5.6.7
 *  (IMF-fixdate, RFC 850, asctime). Returns 0 and the seconds, or -1. */
int http_date_parse(const char *s, size_t len, int64_t *out);

#endif
