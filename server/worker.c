/**
 * @file worker.c
 * The HTTP worker: one epoll loop over the listening socket and the
 * connections of its core. Each connection is a small state machine:
 * read into its input buffer, feed http.c, write the response (the header
 * copied, the body by reference into the cache), and go on with the next
 * pipelined request once the response is queued. A connection that cannot
 * write waits for EPOLLOUT. All connection memory is allocated at start-up.
 *
 * Timeouts ([http] keepalive_timeout_ms, header_timeout_ms, send_timeout_ms):
 * a connection sits on one of three lists, each in deadline order because
 * every entry of a list got the same timeout when it was appended:
 * - header: a request has begun (or the connection is new) and must be
 *   complete within header_timeout_ms of its first byte (of the accept);
 *   more bytes do not extend it, so a client dribbling a byte now and then
 *   (slowloris) is closed, with a 408 when part of a request came;
 * - idle: between requests, closed after keepalive_timeout_ms;
 * - send: a response blocked on a full send buffer, closed when no write
 *   has made progress for send_timeout_ms (a client that stops reading but
 *   keeps acknowledging a zero window would otherwise hold its slot for
 *   ever; one that reads slowly is never cut).
 * Checking a timeout costs a look at the three heads; nothing walks the
 * connections.
 *
 * Reload: a connection holds a reference to the site it answers from and
 * moves to the live one when it begins a new request; every body reference
 * it queues holds one too, released by the stack once acknowledged. So a
 * request in flight ends on the site it began with, and an old site is
 * freed (by the control thread) only when nothing refers to it.
 *
 * The status page: each connection answers from its own copy of its site's
 * settings, completed with this worker's status page hook and buffers
 * (worker.h), which a site built by a reload cannot know of. A page's
 * buffer is lent to the response: its body is copied into the socket and
 * the buffer given back once the response is written or the connection is
 * gone.
 *
 * Drain (graceful stop): the listening socket is closed, connections
 * waiting for a request are closed, the others once their response is
 * queued; then w->drained is set.
 *
 * Hostile clients: a table of open connections by client address (open
 * addressing, sized for max_conns) lets a new connection past [http]
 * max_conns_per_ip be closed at once. When every slot is taken (max_conns),
 * a new connection takes the slot of the one that has waited longest for
 * its request (the head of the header list, if it has waited at least
 * WORKER_SHED_MIN_MS), else of the longest idle one: a slowloris holding
 * every slot is shed oldest first while new clients are served.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dpio.h"
#include "status.h"
#include "tls.h"
#include "ts_pair.h"
#include "ts_socket.h"
#include "worker.h"

#define WORKER_EVENTS 256
#define WORKER_IN_BYTES 8192
#define WORKER_WAIT_MAX_MS 1000
#define WORKER_SHED_MIN_MS 1000 /* a reader younger than this is never shed */

enum { TL_NONE, TL_HEADER, TL_IDLE, TL_SEND, TL_N };

/* What a connection holds only while it reads a request or writes a
 * response. */
struct conn_io {
    int32_t next_free;
    /* site->http with this worker's status page hook: what hc points at */
    struct http_settings set;
    size_t in_len;
    size_t hdr_off;
    unsigned piece;   /* body piece being written */
    size_t piece_off; /* bytes of it written */
    struct http_response resp;
    struct http_conn hc;
    uint8_t in[WORKER_IN_BYTES];
};

struct conn {
    int fd;
    int32_t next_free;
    bool busy;     /* a response is being written */
    bool want_out; /* registered for EPOLLOUT */
    uint8_t tlist; /* TL_*: the timeout list it is on */
    int32_t tprev, tnext;
    int32_t tls; /* its TLS slot (tls.h), -1 for plain HTTP */
    uint64_t deadline_us;
    struct site *site; /* held: what io->hc answers from */
    uint32_t peer_ip;
    unsigned requests;  /* answered so far (kept while io is let go) */
    struct conn_io *io; /* NULL while idle */
};

struct tlist {
    int32_t head, tail; /* -1 when empty */
};

/* Open connections of one client address; ip 0: an empty slot. */
struct ipcount {
    uint32_t ip;
    uint32_t n;
};

struct wstate {
    struct worker *w;
    struct ts_ctx *ctx;
    int ep;
    struct conn *conns;
    uint32_t nconns;
    int32_t free_head;
    uint32_t conns_hwm; /* conns below this have been used */
    struct conn_io *ios;
    int32_t ios_free;
    uint32_t ios_hwm;
    uint32_t ios_used;
    uint32_t open; /* connections in use */
    bool draining;
    struct tlist tl[TL_N];
    struct tls_worker *tls; /* NULL without [tls] */
    struct ipcount *ipc;    /* power-of-2 slots, at least twice nconns */
    uint32_t ipc_mask;
    size_t ipc_bytes;
};

#define WORKER_EV_LISTEN UINT64_MAX
#define WORKER_EV_LISTEN_TLS (UINT64_MAX - 1)

/* What a client that speaks plain HTTP to the TLS port is told. */
#define TLS_PLAIN_BODY "This port speaks HTTPS: use an https:// URL.\n"
static const char tls_plain_reply[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 45\r\nConnection: close\r\n\r\n" TLS_PLAIN_BODY;
_Static_assert(sizeof TLS_PLAIN_BODY - 1 == 45, "tls_plain_reply's Content-Length");

/* ---- connections by client address ---- */

static uint32_t ipc_home(const struct wstate *ws, uint32_t ip)
{
    uint32_t h = ip * 0x9e3779b1u;
    return (h ^ h >> 15) & ws->ipc_mask;
}

static uint32_t ipc_slot(const struct wstate *ws, uint32_t ip)
{
    uint32_t i = ipc_home(ws, ip);
    while (ws->ipc[i].ip != 0 && ws->ipc[i].ip != ip)
        i = (i + 1) & ws->ipc_mask;
    return i; /* ip's slot, or the empty one where it would go */
}

static uint32_t ipc_count(const struct wstate *ws, uint32_t ip)
{
    return ws->ipc[ipc_slot(ws, ip)].n;
}

static void ipc_inc(struct wstate *ws, uint32_t ip)
{
    struct ipcount *e = &ws->ipc[ipc_slot(ws, ip)];
    e->ip = ip;
    e->n++;
}

/* Linear probing with backward-shift deletion: no tombstones, so a lookup
 * stays short however many addresses came and went. */
static void ipc_dec(struct wstate *ws, uint32_t ip)
{
    uint32_t i = ipc_slot(ws, ip);
    if (ws->ipc[i].ip == 0 || --ws->ipc[i].n > 0)
        return;
    for (uint32_t j = (i + 1) & ws->ipc_mask; ws->ipc[j].ip != 0;
         j = (j + 1) & ws->ipc_mask) {
        uint32_t home = ipc_home(ws, ws->ipc[j].ip);
        /* j's entry may move to i when its home is not in (i, j] */
        if (((j - home) & ws->ipc_mask) >= ((j - i) & ws->ipc_mask)) {
            ws->ipc[i] = ws->ipc[j];
            i = j;
        }
    }
    ws->ipc[i] = (struct ipcount){0, 0};
}

/* ---- timeout lists ---- */

static void tl_remove(struct wstate *ws, struct conn *c)
{
    if (c->tlist == TL_NONE)
        return;
    struct tlist *l = &ws->tl[c->tlist];
    if (c->tprev >= 0)
        ws->conns[c->tprev].tnext = c->tnext;
    else
        l->head = c->tnext;
    if (c->tnext >= 0)
        ws->conns[c->tnext].tprev = c->tprev;
    else
        l->tail = c->tprev;
    c->tlist = TL_NONE;
}

/* Appends @p c to @p list with a deadline @p ms from now; the lists stay in
 * deadline order since a list's timeout is the same for all its entries. */
static void tl_append(struct wstate *ws, struct conn *c, uint8_t list, unsigned ms)
{
    tl_remove(ws, c);
    struct tlist *l = &ws->tl[list];
    int32_t i = (int32_t)(c - ws->conns);
    c->tlist = list;
    c->deadline_us = dpio_now_us() + (uint64_t)ms * 1000;
    c->tprev = l->tail;
    c->tnext = -1;
    if (l->tail >= 0)
        ws->conns[l->tail].tnext = i;
    else
        l->head = i;
    l->tail = i;
}

static unsigned header_ms(const struct conn *c)
{
    unsigned ms = c->site->http.header_timeout_ms;
    return ms ? ms : HTTP_HEADER_TIMEOUT_MS;
}

static unsigned send_ms(const struct conn *c)
{
    unsigned ms = c->site->http.send_timeout_ms;
    return ms ? ms : HTTP_SEND_TIMEOUT_MS;
}

static unsigned idle_ms(const struct conn *c)
{
    unsigned ms = c->site->http.keepalive_timeout_ms;
    return ms ? ms : HTTP_KEEPALIVE_TIMEOUT_MS;
}

/* Hands the response just produced to the access log (a copy into this
 * core's ring; a full ring counts the line as dropped, never waits). */
static void conn_log(struct wstate *ws, struct conn *c)
{
    if (!ws->w->log || !c->io->hc.set->access_log)
        return;
    struct log_rec *rec = log_ring_claim(ws->w->log);
    if (!rec)
        return;
    struct http_req_info info;
    http_conn_info(&c->io->hc, &info);
    log_rec_fill(rec, &info, c->peer_ip, c->io->resp.status, c->io->resp.body_len);
    log_ring_commit(ws->w->log);
}

/* Points the connection's settings at @p site's, with the status page
 * hook. */
static void conn_bind(struct wstate *ws, struct conn *c, struct site *site)
{
    c->site = site;
    if (c->io == NULL)
        return;
    c->io->set = site->http;
    c->io->set.status_page = ws->w->status_page;
    c->io->set.status_arg = ws->w->status_arg;
    if (c->tls >= 0)
        c->io->set.redirect_https_port = 0; /* already there */
}

/* A status page's buffer goes back once its response is written (or the
 * connection is gone). */
static void conn_page_done(struct conn *c)
{
    if (c->io != NULL && c->io->resp.page_slot != NULL) {
        status_page_release(c->io->resp.page_slot);
        c->io->resp.page_slot = NULL;
    }
}

/* Gives @p c its reading and writing state, resumed where the connection
 * is (the number of requests it has had); false when the pool is empty,
 * which max_conns sizing rules out. */
static bool conn_io_take(struct wstate *ws, struct conn *c)
{
    if (c->io != NULL)
        return true;
    struct conn_io *io;
    if (ws->ios_free >= 0) {
        io = &ws->ios[ws->ios_free];
        ws->ios_free = io->next_free;
    } else if (ws->ios_hwm < ws->nconns) {
        io = &ws->ios[ws->ios_hwm++];
    } else {
        return false;
    }
    ws->ios_used++;
    __atomic_store_n(&ws->w->states_in_use, ws->ios_used, __ATOMIC_RELAXED);
    c->io = io;
    io->in_len = 0;
    io->resp.page_slot = NULL;
    conn_bind(ws, c, c->site);
    http_conn_resume(&io->hc, &io->set, c->requests);
    io->hc.peer_ip = c->peer_ip;
    return true;
}

static void conn_io_put(struct wstate *ws, struct conn *c)
{
    struct conn_io *io = c->io;
    if (io == NULL)
        return;
    conn_page_done(c);
    c->requests = http_conn_requests(&io->hc);
    io->next_free = ws->ios_free;
    ws->ios_free = (int32_t)(io - ws->ios);
    ws->ios_used--;
    __atomic_store_n(&ws->w->states_in_use, ws->ios_used, __ATOMIC_RELAXED);
    c->io = NULL;
}

static struct conn *conn_get(struct wstate *ws, int fd, uint32_t peer, bool tls)
{
    struct conn *c;
    if (ws->free_head >= 0) {
        c = &ws->conns[ws->free_head];
        ws->free_head = c->next_free;
    } else if (ws->conns_hwm < ws->nconns) {
        c = &ws->conns[ws->conns_hwm++];
    } else {
        return NULL;
    }
    c->fd = fd;
    c->tls = -1;
    c->busy = false;
    c->want_out = false;
    c->tlist = TL_NONE;
    c->peer_ip = peer;
    c->requests = 0;
    c->io = NULL;
    c->site = site_live_get(ws->w->live);
    if (tls) {
        c->tls = tls_conn_new(ws->tls, c->site->tls, ws->w->core, fd);
        if (c->tls < 0) {
            site_release(c->site);
            c->next_free = ws->free_head;
            ws->free_head = (int32_t)(c - ws->conns);
            return NULL;
        }
    }
    ipc_inc(ws, peer); /* conn_close() takes it off */
    ws->open++;
    __atomic_store_n(&ws->w->open, ws->open, __ATOMIC_RELAXED);
    tl_append(ws, c, TL_HEADER, header_ms(c)); /* the first request */
    return c;
}

static void conn_close(struct wstate *ws, struct conn *c)
{
    tl_remove(ws, c);
    conn_io_put(ws, c);
    if (c->tls >= 0) {
        tls_conn_close(ws->tls, c->tls);
        c->tls = -1;
    }
    ts_close(ws->ctx, c->fd); /* graceful: queued bytes still go out */
    ipc_dec(ws, c->peer_ip);
    site_release(c->site);
    c->site = NULL;
    c->fd = -1;
    ws->open--;
    __atomic_store_n(&ws->w->open, ws->open, __ATOMIC_RELAXED);
    c->next_free = ws->free_head;
    ws->free_head = (int32_t)(c - ws->conns);
}

/* A connection whose response is blocked waits for EPOLLOUT only: reading
 * more requests before the answers can leave would only spin. So would
 * EPOLLRDHUP, level-triggered and set for good once the peer has sent its
 * FIN (a client may half-close after its request): it is asked for again
 * with EPOLLIN once the response is queued, and the end of the stream is
 * then read. A reset (EPOLLERR, EPOLLHUP) is reported either way. */
static void conn_want_out(struct wstate *ws, struct conn *c, bool on)
{
    if (c->want_out == on)
        return;
    struct ts_epoll_event ev = {
        .events = on ? TS_EPOLLOUT : TS_EPOLLIN | TS_EPOLLRDHUP,
        .data = (uint64_t)(c - ws->conns),
    };
    ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = on;
}

/* Moves the write position of the current response @p n bytes on. */
static void conn_advance(struct conn_io *io, size_t n)
{
    struct http_response *r = &io->resp;
    while (n > 0) {
        if (io->hdr_off < r->hdr_len) {
            size_t k = r->hdr_len - io->hdr_off < n ? r->hdr_len - io->hdr_off : n;
            io->hdr_off += k;
            n -= k;
            continue;
        }
        const struct http_piece *pc = &r->piece[io->piece];
        size_t k = pc->len - io->piece_off < n ? pc->len - io->piece_off : n;
        io->piece_off += k;
        n -= k;
        if (io->piece_off == pc->len) {
            io->piece++;
            io->piece_off = 0;
        }
    }
    while (io->hdr_off == r->hdr_len && io->piece < r->n_pieces &&
           io->piece_off == r->piece[io->piece].len) {
        io->piece++; /* empty pieces */
        io->piece_off = 0;
    }
}

/* Gathers up to TLS_RECORD bytes of the response from the write position
 * into @p buf; returns the count. */
static size_t conn_gather(const struct conn_io *io, uint8_t *buf)
{
    const struct http_response *r = &io->resp;
    size_t n = 0;
    if (io->hdr_off < r->hdr_len) {
        size_t k = r->hdr_len - io->hdr_off;
        k = k < TLS_RECORD ? k : TLS_RECORD;
        memcpy(buf, r->hdr + io->hdr_off, k);
        n = k;
    }
    for (unsigned i = io->piece; i < r->n_pieces && n < TLS_RECORD; i++) {
        size_t off = i == io->piece ? io->piece_off : 0;
        size_t k = r->piece[i].len - off;
        k = k < TLS_RECORD - n ? k : TLS_RECORD - n;
        memcpy(buf + n, r->piece[i].p + off, k);
        n += k;
    }
    return n;
}

/* The TLS form of conn_send(): the body is encrypted from the cache into
 * records (one record per call); SSL_write may have to read first (a
 * handshake message), then the connection waits for EPOLLIN. A position
 * with less than a record left in its piece (the header, a small body, a
 * body's tail) is gathered with what follows into one record, so a small
 * response is one record, not a record for its header and another for its
 * body. */
static int conn_send_tls(struct wstate *ws, struct conn *c)
{
    struct conn_io *io = c->io;
    struct http_response *r = &io->resp;
    while (io->hdr_off < r->hdr_len || io->piece < r->n_pieces) {
        const uint8_t *p;
        size_t n;
        if (io->hdr_off < r->hdr_len) {
            p = (const uint8_t *)r->hdr + io->hdr_off;
            n = r->hdr_len - io->hdr_off;
        } else {
            p = r->piece[io->piece].p + io->piece_off;
            n = r->piece[io->piece].len - io->piece_off;
        }
        if (n < TLS_RECORD) {
            p = tls_worker_scratch(ws->tls);
            n = conn_gather(io, tls_worker_scratch(ws->tls));
        }
        ssize_t k = tls_conn_write(ws->tls, c->tls, p, n);
        if (k == TLS_WANT_WRITE)
            return 0;
        if (k == TLS_WANT_READ)
            return 2;
        if (k <= 0)
            return -1;
        conn_advance(io, (size_t)k);
    }
    return 1;
}

/* Writes what is left of the current response. Returns 1 when all of it is
 * queued, 0 when the socket is full, 2 when TLS must read before it writes
 * on, -1 when the connection failed. */
static int conn_send(struct wstate *ws, struct conn *c)
{
    if (c->tls >= 0)
        return conn_send_tls(ws, c);
    struct conn_io *io = c->io;
    struct http_response *r = &io->resp;
    while (io->hdr_off < r->hdr_len) {
        ssize_t n =
            ts_write(ws->ctx, c->fd, r->hdr + io->hdr_off, r->hdr_len - io->hdr_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        io->hdr_off += (size_t)n;
    }
    while (io->piece < r->n_pieces) {
        const struct http_piece *pc = &r->piece[io->piece];
        ssize_t n;
        if (pc->ref) {
            /* the bytes belong to c->site: held until acknowledged */
            struct ts_ref_owner owner = {site_release, c->site, pc->csum};
            site_hold(c->site);
            n = ts_write_ref(ws->ctx, c->fd, pc->p + io->piece_off,
                             pc->len - io->piece_off, &owner);
            if (n < 0)
                site_release(c->site);
        } else /* a multipart part header, held in the response */
            n = ts_write(ws->ctx, c->fd, pc->p + io->piece_off, pc->len - io->piece_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        io->piece_off += (size_t)n;
        if (io->piece_off == pc->len) {
            io->piece++;
            io->piece_off = 0;
        }
    }
    return 1;
}

/* Between requests: a reloaded site takes over for the next one. */
static void conn_follow_reload(struct wstate *ws, struct conn *c)
{
    struct site *live = atomic_load_explicit(&ws->w->live->cur, memory_order_acquire);
    if (live == c->site)
        return;
    site_hold(live);
    site_release(c->site);
    conn_bind(ws, c, live);
    http_conn_rebind(&c->io->hc, &c->io->set);
}

/* The response is produced: write it from the start. */
static void conn_respond(struct wstate *ws, struct conn *c)
{
    conn_log(ws, c);
    c->busy = true;
    c->io->hdr_off = 0;
    c->io->piece = 0;
    c->io->piece_off = 0;
}

/* Reads request bytes: from the socket, or decrypted. -1 with EAGAIN when
 * nothing is there, TLS_WANT_WRITE when TLS must write before it reads. */
static ssize_t conn_recv(struct wstate *ws, struct conn *c, uint8_t *buf, size_t len)
{
    if (c->tls < 0)
        return ts_read(ws->ctx, c->fd, buf, len);
    ssize_t n = tls_conn_read(ws->tls, c->tls, buf, len);
    if (n == TLS_WANT_READ) {
        errno = EAGAIN;
        return -1;
    }
    if (n == TLS_ERROR) {
        errno = ECONNRESET;
        return -1;
    }
    return n;
}

/* Runs the connection as far as it can go without waiting. */
static void conn_run(struct wstate *ws, struct conn *c)
{
    if (c->tls >= 0 && !tls_conn_established(ws->tls, c->tls)) {
        int rc = tls_conn_handshake(ws->tls, c->tls);
        if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
            conn_want_out(ws, c, rc == TLS_WANT_WRITE);
            return; /* still on the header list: the handshake is timed */
        }
        if (rc != 1) {
            if (tls_conn_plain_http(ws->tls, c->tls))
                ts_write(ws->ctx, c->fd, tls_plain_reply, sizeof tls_plain_reply - 1);
            conn_close(ws, c);
            return;
        }
        conn_want_out(ws, c, false);
    }
    if (!conn_io_take(ws, c)) {
        conn_close(ws, c);
        return;
    }
    struct conn_io *io = c->io;
    for (;;) {
        if (c->busy) {
            size_t hdr_off = io->hdr_off, piece_off = io->piece_off;
            unsigned piece = io->piece;
            int rc = conn_send(ws, c);
            if (rc < 0) {
                conn_close(ws, c);
                return;
            }
            if (rc == 0 || rc == 2) {
                /* blocked: the send timeout runs from the last write that
                 * made progress */
                if (c->tlist != TL_SEND || io->hdr_off != hdr_off || io->piece != piece ||
                    io->piece_off != piece_off)
                    tl_append(ws, c, TL_SEND, send_ms(c));
                /* 2: waiting for EPOLLOUT, ready already, would spin */
                conn_want_out(ws, c, rc == 0);
                return;
            }
            tl_remove(ws, c);
            c->busy = false;
            conn_page_done(c);
            conn_want_out(ws, c, false);
            ws->w->requests++;
            ws->w->status_class[io->resp.status / 100 % 6]++;
            if (io->resp.close_after || ws->draining) {
                conn_close(ws, c);
                return;
            }
        }
        if (io->in_len > 0) {
            size_t used = 0;
            if (!http_conn_partial(&io->hc))
                conn_follow_reload(ws, c);
            enum http_rc rc =
                http_conn_feed(&io->hc, io->in, io->in_len, &used, &io->resp);
            if (rc == HTTP_ERROR) {
                conn_close(ws, c);
                return;
            }
            memmove(io->in, io->in + used, io->in_len - used);
            io->in_len -= used;
            if (rc == HTTP_OK) {
                conn_respond(ws, c);
                continue;
            }
        }
        ssize_t n = conn_recv(ws, c, io->in + io->in_len, sizeof(io->in) - io->in_len);
        if (n > 0) {
            io->in_len += (size_t)n;
            continue;
        }
        if (n == TLS_WANT_WRITE) { /* TLS: a record must leave first */
            conn_want_out(ws, c, true);
            return;
        }
        if (n < 0 && errno == EAGAIN) {
            if (c->tls >= 0)
                conn_want_out(ws, c, false);
            /* waiting for a request: its first byte starts the header
             * timeout, which more bytes do not extend */
            bool begun = io->in_len > 0 || http_conn_partial(&io->hc);
            bool partial = begun || http_conn_requests(&io->hc) == 0;
            if (partial && c->tlist != TL_HEADER)
                tl_append(ws, c, TL_HEADER, header_ms(c));
            else if (!partial && c->tlist != TL_IDLE)
                tl_append(ws, c, TL_IDLE, idle_ms(c));
            if (!begun)
                conn_io_put(ws, c); /* idle: its memory goes back */
            return;
        }
        conn_close(ws, c); /* end of stream or reset */
        return;
    }
}

/* Every slot is taken: closes the connection that has waited longest for
 * its request (if it has waited WORKER_SHED_MIN_MS), else the longest idle
 * one. False when neither exists (every connection is writing a response,
 * or the readers are all young). */
static bool shed_one(struct wstate *ws)
{
    uint64_t now = dpio_now_us();
    int32_t h = ws->tl[TL_HEADER].head;
    if (h >= 0) {
        struct conn *c = &ws->conns[h];
        uint64_t since = c->deadline_us - (uint64_t)header_ms(c) * 1000;
        if (now >= since + WORKER_SHED_MIN_MS * 1000ull) {
            ws->w->slow_shed++;
            conn_close(ws, c);
            return true;
        }
    }
    h = ws->tl[TL_IDLE].head;
    if (h >= 0) {
        ws->w->slow_shed++;
        conn_close(ws, &ws->conns[h]);
        return true;
    }
    return false;
}

static void accept_all(struct wstate *ws, int lfd, bool tls)
{
    for (;;) {
        uint32_t peer = 0;
        int fd = ts_accept(ws->ctx, lfd, &peer, NULL);
        if (fd < 0)
            return;
        ws->w->accepted++;
        /* read during the turn: the live site cannot be freed under it */
        const struct site *live =
            atomic_load_explicit(&ws->w->live->cur, memory_order_acquire);
        unsigned per_ip = live->http.max_conns_per_ip;
        if (per_ip && ipc_count(ws, peer) >= per_ip) {
            ws->w->refused_per_ip++;
            ts_close(ws->ctx, fd);
            continue;
        }
        struct conn *c = conn_get(ws, fd, peer, tls);
        if (c == NULL && shed_one(ws))
            c = conn_get(ws, fd, peer, tls);
        if (c == NULL) {
            ws->w->refused++;
            ts_close(ws->ctx, fd);
            continue;
        }
        struct ts_epoll_event ev = {.events = TS_EPOLLIN | TS_EPOLLRDHUP,
                                    .data = (uint64_t)(c - ws->conns)};
        if (ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_ADD, fd, &ev) != 0) {
            conn_close(ws, c);
            continue;
        }
        conn_run(ws, c); /* data may have come with the handshake */
    }
}

/* Acts on the timeouts that have passed: an idle connection, or one that
 * sent nothing, is closed; one in the middle of a request gets a 408 first.
 * Returns the ms until the next deadline (at most WORKER_WAIT_MAX_MS). */
static int expire_timeouts(struct wstate *ws)
{
    uint64_t now = dpio_now_us(), next = now + WORKER_WAIT_MAX_MS * 1000ull;
    for (int l = TL_HEADER; l < TL_N; l++) {
        while (ws->tl[l].head >= 0) {
            struct conn *c = &ws->conns[ws->tl[l].head];
            if (c->deadline_us > now) {
                if (c->deadline_us < next)
                    next = c->deadline_us;
                break;
            }
            tl_remove(ws, c);
            ws->w->timeouts++;
            if (c->tls >= 0)
                tls_conn_fail(ws->tls, c->tls, TLS_FAIL_TIMEOUT);
            if (l == TL_HEADER && c->io != NULL &&
                (c->io->in_len > 0 || http_conn_partial(&c->io->hc))) {
                http_conn_timeout(&c->io->hc, &c->io->resp);
                conn_respond(ws, c);
                conn_run(ws, c); /* sends the 408, then closes */
            } else {
                conn_close(ws, c);
            }
        }
    }
    return (int)((next - now + 999) / 1000);
}

/* Closes the listeners: connections waiting to be accepted are reset. */
static void worker_stop_accepting(struct wstate *ws)
{
    if (ws->w->listen_fd >= 0) {
        ts_close(ws->ctx, ws->w->listen_fd);
        ws->w->listen_fd = -1;
    }
    if (ws->w->tls_listen_fd >= 0) {
        ts_close(ws->ctx, ws->w->tls_listen_fd);
        ws->w->tls_listen_fd = -1;
    }
}

/* The first turn after cores_drain(), before it waits for events: stop
 * accepting, close every connection that is not in the middle of a request
 * or a response. */
static void worker_start_drain(struct wstate *ws)
{
    ws->draining = true;
    worker_stop_accepting(ws);
    while (ws->tl[TL_IDLE].head >= 0)
        conn_close(ws, &ws->conns[ws->tl[TL_IDLE].head]);
    for (int32_t i = ws->tl[TL_HEADER].head; i >= 0;) {
        struct conn *c = &ws->conns[i];
        i = c->tnext;
        if (c->io == NULL || (c->io->in_len == 0 && !http_conn_partial(&c->io->hc)))
            conn_close(ws, c); /* a new connection that has sent nothing */
    }
}

static int worker_setup(struct wstate *ws)
{
    struct worker *w = ws->w;
    ws->nconns = w->cfg->max_conns;
    /* address space only: pages are committed as slots are first used
     * (MAP_NORESERVE for the request states: a million connections are not
     * refused for the memory they would take if all were busy at once) */
    ws->conns = calloc(ws->nconns, sizeof(*ws->conns));
    ws->ios = mmap(NULL, ws->nconns * sizeof(*ws->ios), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ws->ios == MAP_FAILED)
        ws->ios = NULL;
    uint32_t slots = 16;
    while (slots < 2 * ws->nconns)
        slots <<= 1;
    ws->ipc_mask = slots - 1;
    ws->ipc_bytes = (size_t)slots * sizeof(*ws->ipc);
    ws->ipc = mmap(NULL, ws->ipc_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ws->ipc == MAP_FAILED)
        ws->ipc = NULL;
    if (ws->conns == NULL || ws->ios == NULL || ws->ipc == NULL)
        return ENOMEM;
    ws->free_head = -1;
    ws->ios_free = -1;
    for (int l = 0; l < TL_N; l++)
        ws->tl[l] = (struct tlist){-1, -1};
    w->listen_fd = ts_socket(ws->ctx);
    if (w->listen_fd < 0 || ts_bind(ws->ctx, w->listen_fd, 0, w->cfg->listen) != 0 ||
        ts_listen(ws->ctx, w->listen_fd, (int)w->cfg->backlog) != 0)
        return errno;
    ws->ep = ts_epoll_create(ws->ctx);
    if (ws->ep < 0)
        return errno;
    struct ts_epoll_event ev = {.events = TS_EPOLLIN, .data = WORKER_EV_LISTEN};
    if (ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_ADD, w->listen_fd, &ev) != 0)
        return errno;
    if (w->cfg->tls_listen) {
        ws->tls =
            tls_worker_create(ws->ctx, w->tickets, ws->nconns, &w->tls, w->tls_records);
        if (ws->tls == NULL)
            return ENOMEM;
        tls_worker_sndbuf(ws->tls, w->sndbuf, w->snd_copybuf);
        w->tls_listen_fd = ts_socket(ws->ctx);
        if (w->tls_listen_fd < 0 ||
            ts_bind(ws->ctx, w->tls_listen_fd, 0, w->cfg->tls_listen) != 0 ||
            ts_listen(ws->ctx, w->tls_listen_fd, (int)w->cfg->backlog) != 0)
            return errno;
        ev = (struct ts_epoll_event){.events = TS_EPOLLIN, .data = WORKER_EV_LISTEN_TLS};
        if (ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_ADD, w->tls_listen_fd, &ev) != 0)
            return errno;
    }
    return 0;
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct wstate ws = {.w = w, .ctx = w->ctx, .ep = -1};
    ts_pair_worker_begin(w->ctx);
    w->error = worker_setup(&ws);
    if (w->error == 0) {
        struct ts_epoll_event evs[WORKER_EVENTS];
        int wait_ms = WORKER_WAIT_MAX_MS;
        while (!ts_ctx_stopping(w->ctx)) {
            atomic_fetch_add_explicit(&w->epoch, 1, memory_order_release);
            if (!ws.draining && atomic_load_explicit(&w->drain, memory_order_acquire))
                worker_start_drain(&ws);
            if (ws.draining && ws.open == 0)
                atomic_store_explicit(&w->drained, true, memory_order_release);
            int n = ts_epoll_wait(w->ctx, ws.ep, evs, WORKER_EVENTS, wait_ms);
            atomic_fetch_add_explicit(&w->epoch, 1, memory_order_release);
            /* a drain asked for while this worker slept: the connection that
             * woke it is not accepted (the requests that came in are read
             * and answered; the drain proper starts on the next turn) */
            if (atomic_load_explicit(&w->drain, memory_order_acquire))
                worker_stop_accepting(&ws);
            if (ws.tls)
                tls_worker_poll(ws.tls); /* a new ticket key, if published */
            for (int i = 0; i < n; i++) {
                if (evs[i].data == WORKER_EV_LISTEN ||
                    evs[i].data == WORKER_EV_LISTEN_TLS) {
                    int lfd =
                        evs[i].data == WORKER_EV_LISTEN ? w->listen_fd : w->tls_listen_fd;
                    if (lfd >= 0)
                        accept_all(&ws, lfd, evs[i].data == WORKER_EV_LISTEN_TLS);
                    continue;
                }
                struct conn *c = &ws.conns[evs[i].data];
                if (c->fd > 0)
                    conn_run(&ws, c);
            }
            wait_ms = expire_timeouts(&ws);
        }
    }
    ts_pair_worker_end(w->ctx);
    tls_worker_free(ws.tls); /* the SSL objects of connections still open */
    free(ws.conns);
    if (ws.ios)
        munmap(ws.ios, ws.nconns * sizeof(*ws.ios));
    if (ws.ipc)
        munmap(ws.ipc, ws.ipc_bytes);
    return NULL;
}
