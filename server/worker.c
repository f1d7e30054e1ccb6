/**
 * @file worker.c
 * The HTTP worker: one epoll loop over the listening socket and the
 * connections of its core. Each connection is a small state machine:
 * read into its input buffer, feed http.c, write the response (the header
 * copied, the body by reference into the cache), and go on with the next
 * pipelined request once the response is queued. A connection that cannot
 * write waits for EPOLLOUT; an idle keep-alive connection is closed after
 * WORKER_IDLE_US. All connection memory is allocated at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpio.h"
#include "ts_pair.h"
#include "ts_socket.h"
#include "worker.h"

#define WORKER_EVENTS 256
#define WORKER_IN_BYTES 8192
#define WORKER_IDLE_US (30ull * 1000 * 1000) /* keep-alive idle timeout */
#define WORKER_SWEEP_US (1000ull * 1000)

struct conn {
    int fd;
    int32_t next_free;
    bool busy;     /* a response is being written */
    bool want_out; /* registered for EPOLLOUT */
    uint64_t last_us;
    size_t in_len;
    size_t hdr_off;
    unsigned piece;   /* body piece being written */
    size_t piece_off; /* bytes of it written */
    struct http_response resp;
    struct http_conn hc;
    uint8_t in[WORKER_IN_BYTES];
};

struct wstate {
    struct worker *w;
    struct ts_ctx *ctx;
    int ep;
    struct conn *conns;
    uint32_t nconns;
    int32_t free_head;
    uint64_t last_sweep;
};

static struct conn *conn_get(struct wstate *ws, int fd)
{
    if (ws->free_head < 0)
        return NULL;
    struct conn *c = &ws->conns[ws->free_head];
    ws->free_head = c->next_free;
    c->fd = fd;
    c->busy = false;
    c->want_out = false;
    c->in_len = 0;
    c->last_us = dpio_now_us();
    http_conn_init(&c->hc, &ws->w->http);
    return c;
}

static void conn_close(struct wstate *ws, struct conn *c)
{
    ts_close(ws->ctx, c->fd); /* graceful: queued bytes still go out */
    c->fd = -1;
    c->next_free = ws->free_head;
    ws->free_head = (int32_t)(c - ws->conns);
}

/* A connection whose response is blocked waits for EPOLLOUT only: reading
 * more requests before the answers can leave would only spin. */
static void conn_want_out(struct wstate *ws, struct conn *c, bool on)
{
    if (c->want_out == on)
        return;
    struct ts_epoll_event ev = {
        .events = TS_EPOLLRDHUP | (on ? TS_EPOLLOUT : TS_EPOLLIN),
        .data = (uint64_t)(c - ws->conns),
    };
    ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = on;
}

/* Writes what is left of the current response. Returns 1 when all of it is
 * queued, 0 when the socket is full, -1 when the connection failed. */
static int conn_send(struct wstate *ws, struct conn *c)
{
    struct http_response *r = &c->resp;
    while (c->hdr_off < r->hdr_len) {
        ssize_t n =
            ts_write(ws->ctx, c->fd, r->hdr + c->hdr_off, r->hdr_len - c->hdr_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->hdr_off += (size_t)n;
    }
    while (c->piece < r->n_pieces) {
        const struct http_piece *pc = &r->piece[c->piece];
        ssize_t n;
        if (pc->ref) /* the cache outlives every connection: no release callback */
            n = ts_write_ref(ws->ctx, c->fd, pc->p + c->piece_off, pc->len - c->piece_off,
                             NULL);
        else /* a multipart part header, held in the response */
            n = ts_write(ws->ctx, c->fd, pc->p + c->piece_off, pc->len - c->piece_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->piece_off += (size_t)n;
        if (c->piece_off == pc->len) {
            c->piece++;
            c->piece_off = 0;
        }
    }
    return 1;
}

/* Runs the connection as far as it can go without waiting. */
static void conn_run(struct wstate *ws, struct conn *c)
{
    c->last_us = dpio_now_us();
    for (;;) {
        if (c->busy) {
            int rc = conn_send(ws, c);
            if (rc < 0) {
                conn_close(ws, c);
                return;
            }
            if (rc == 0) {
                conn_want_out(ws, c, true);
                return;
            }
            c->busy = false;
            conn_want_out(ws, c, false);
            ws->w->requests++;
            if (c->resp.close_after) {
                conn_close(ws, c);
                return;
            }
        }
        if (c->in_len > 0) {
            size_t used = 0;
            enum http_rc rc = http_conn_feed(&c->hc, c->in, c->in_len, &used, &c->resp);
            if (rc == HTTP_ERROR) {
                conn_close(ws, c);
                return;
            }
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            if (rc == HTTP_OK) {
                c->busy = true;
                c->hdr_off = 0;
                c->piece = 0;
                c->piece_off = 0;
                continue;
            }
        }
        ssize_t n = ts_read(ws->ctx, c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return;
        conn_close(ws, c); /* end of stream or reset */
        return;
    }
}

static void accept_all(struct wstate *ws)
{
    for (;;) {
        int fd = ts_accept(ws->ctx, ws->w->listen_fd, NULL, NULL);
        if (fd < 0)
            return;
        ws->w->accepted++;
        struct conn *c = conn_get(ws, fd);
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

/* Closes keep-alive connections that have been idle too long. */
static void sweep_idle(struct wstate *ws)
{
    uint64_t now = dpio_now_us();
    if (now - ws->last_sweep < WORKER_SWEEP_US)
        return;
    ws->last_sweep = now;
    for (uint32_t i = 0; i < ws->nconns; i++) {
        struct conn *c = &ws->conns[i];
        if (c->fd >= 0 && !c->busy && now - c->last_us > WORKER_IDLE_US)
            conn_close(ws, c);
    }
}

static int worker_setup(struct wstate *ws)
{
    struct worker *w = ws->w;
    ws->nconns = w->cfg->max_conns;
    ws->conns = calloc(ws->nconns, sizeof(*ws->conns));
    if (ws->conns == NULL)
        return ENOMEM;
    ws->free_head = -1;
    for (uint32_t i = ws->nconns; i-- > 0;) {
        ws->conns[i].fd = -1;
        ws->conns[i].next_free = ws->free_head;
        ws->free_head = (int32_t)i;
    }
    w->listen_fd = ts_socket(ws->ctx);
    if (w->listen_fd < 0 || ts_bind(ws->ctx, w->listen_fd, 0, w->cfg->listen) != 0 ||
        ts_listen(ws->ctx, w->listen_fd, (int)w->cfg->backlog) != 0)
        return errno;
    ws->ep = ts_epoll_create(ws->ctx);
    if (ws->ep < 0)
        return errno;
    struct ts_epoll_event ev = {.events = TS_EPOLLIN, .data = UINT64_MAX};
    if (ts_epoll_ctl(ws->ctx, ws->ep, TS_EPOLL_CTL_ADD, w->listen_fd, &ev) != 0)
        return errno;
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
        while (!ts_ctx_stopping(w->ctx)) {
            int n = ts_epoll_wait(w->ctx, ws.ep, evs, WORKER_EVENTS, 1000);
            for (int i = 0; i < n; i++) {
                if (evs[i].data == UINT64_MAX) {
                    accept_all(&ws);
                    continue;
                }
                struct conn *c = &ws.conns[evs[i].data];
                if (c->fd >= 0)
                    conn_run(&ws, c);
            }
            sweep_idle(&ws);
        }
    }
    ts_pair_worker_end(w->ctx);
    free(ws.conns);
    return NULL;
}
