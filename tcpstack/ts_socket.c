/**
 * @file ts_socket.c
 * The socket calls of ts_socket.h (worker side) and the commands they leave
 * for the stack thread (stack side, ts_cmds_run).
 *
 * Data calls touch only single-producer/single-consumer structures: read
 * drains the receive ring, write fills the copy ring and the reference ring
 * and leaves one KICK per socket (deduplicated by the socket's kick flag).
 * Control calls (socket, bind, listen, epoll_create) are commands the stack
 * thread carries out while the worker waits; close and shutdown are
 * commands the worker does not wait for.
 */
#include <string.h>

#include "ts_pair.h"
#include "ts_priv.h"

/* ------------------------------------------------------ stack side */

static int cmd_bind(struct ts_ctx *ctx, struct ts_sock *s, uint32_t ip, uint16_t port)
{
    if (s->kind != TS_KIND_TCP || s->state != TCPS_CLOSED || s->lport != 0 ||
        s->laddr != 0)
        return -EINVAL;
    if (ip != 0 && !ts_addr_local(ctx, ip))
        return -EADDRNOTAVAIL;
    /* port 0 only with an address: the source of a later connect, whose
     * port connect picks (no ephemeral ports for passive sockets) */
    if (port == 0 && ip == 0)
        return -EINVAL;
    if (port != 0 && ctx->listeners[port] >= 0)
        return -EADDRINUSE;
    s->laddr = ip;
    s->lport = port;
    return 0;
}

static int cmd_listen(struct ts_ctx *ctx, struct ts_sock *s, int backlog)
{
    if (s->kind != TS_KIND_TCP || s->lport == 0)
        return -EINVAL;
    if (s->state == TCPS_LISTEN)
        return 0;
    if (s->state != TCPS_CLOSED || ctx->listeners[s->lport] >= 0)
        return -EADDRINUSE;
    uint32_t max = ctx->nsocks / 2;
    uint32_t b = backlog <= 0 ? 128u : (uint32_t)backlog;
    if (b > max)
        b = max;
    uint32_t n = 1;
    while (n < b)
        n <<= 1;
    s->acceptq = calloc(1, sizeof(*s->acceptq));
    void *slots = calloc(n, sizeof(int32_t));
    if (s->acceptq == NULL || slots == NULL) {
        free(slots);
        free(s->acceptq);
        s->acceptq = NULL;
        return -ENOMEM;
    }
    ts_sring_init(s->acceptq, slots, n, sizeof(int32_t));
    s->backlog = b;
    tcp_set_state(ctx, s, TCPS_LISTEN);
    ctx->listeners[s->lport] = ts_fd(ctx, s);
    ts_sflags_set(s, TS_SF_LISTENING);
    return 0;
}

/* The worker is done writing: the FIN follows the queued data. */
static void cmd_fin(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->tflags & TF_FIN_PENDING)
        return;
    if (s->state != TCPS_ESTABLISHED && s->state != TCPS_CLOSE_WAIT)
        return;
    tcp_snd_collect(ctx, s);
    s->tflags |= TF_FIN_PENDING;
    ts_sock_want_output(ctx, s);
}

/* A connection of a closing listener that nobody will accept: reset
 * (RFC 9293 3.10.4) and freed. */
static void abort_child(struct ts_ctx *ctx, struct ts_sock *c)
{
    ctx->st.tcp_rst_tx++;
    tcp_send_ctl(ctx, c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, c->snd_nxt);
    tcp_drop(ctx, c, ECONNABORTED);
    c->tflags |= TF_APP_CLOSED;
    ts_sock_maybe_free(ctx, c);
}

static void cmd_close(struct ts_ctx *ctx, struct ts_sock *s)
{
    s->tflags |= TF_APP_CLOSED;
    if (s->kind == TS_KIND_EPOLL) {
        ts_sock_free(ctx, s);
        return;
    }
    if (s->state == TCPS_LISTEN) {
        ctx->listeners[s->lport] = -1;
        /* connections nobody will accept are reset (RFC 9293 3.10.4) */
        int32_t *fdp;
        while ((fdp = ts_sring_peek(s->acceptq, 0)) != NULL) {
            struct ts_sock *c = &ctx->socks[*fdp];
            ts_sring_pop(s->acceptq, 1);
            abort_child(ctx, c);
        }
        /* and so are the handshakes under way, which would queue themselves
         * on the freed listener once completed: found by their listener
         * (listeners close at a stop or a reload, not per connection) */
        int32_t lfd = ts_fd(ctx, s);
        for (uint32_t i = 1; i < ctx->socks_hwm && s->n_pending > 0; i++) {
            struct ts_sock *c = &ctx->socks[i];
            if (c->kind != TS_KIND_TCP || c->listener != lfd ||
                (c->tflags & TF_ACCEPT_QUEUED))
                continue;
            s->n_pending--;
            c->listener = -1;
            if (c->state == TCPS_SYN_RCVD) {
                abort_child(ctx, c);
            } else { /* closed already, its free waiting for its event */
                c->tflags |= TF_APP_CLOSED;
                ts_sock_maybe_free(ctx, c);
            }
        }
        tcp_set_state(ctx, s, TCPS_CLOSED);
    } else if (s->bufs) {
        /* unread data is dropped; what was written still goes out */
        ts_bring_skip(&s->bufs->rx, ts_bring_used(&s->bufs->rx));
    }
    cmd_fin(ctx, s);
    tcp_orphan(ctx, s);
    ts_sock_maybe_free(ctx, s);
}

static void cmd_kick(struct ts_ctx *ctx, struct ts_sock *s)
{
    atomic_store_explicit(&s->kick, 0, memory_order_release);
    if (s->kind != TS_KIND_TCP || s->bufs == NULL)
        return;
    tcp_snd_collect(ctx, s);
    tcp_rcvbuf_autotune(ctx, s, NULL); /* the read may have emptied the ring */
    /* window update once the reader has freed a useful amount (RFC 9293
     * 3.8.6.2.2: receiver SWS avoidance) */
    uint32_t edge = s->rcv_nxt + tcp_rcv_window(ctx, s);
    uint32_t step = RTE_MIN((ctx->p.rcvbuf / 2), (uint32_t)s->mss);
    if (SEQ_GEQ(edge, s->rcv_adv + step) && s->state != TCPS_SYN_RCVD)
        s->tflags |= TF_ACKNOW;
    ts_sock_want_output(ctx, s);
}

void ts_cmds_run(struct ts_ctx *ctx)
{
    struct ts_cmd *c;
    while ((c = ts_sring_peek(&ctx->cmdq, 0)) != NULL) {
        struct ts_sock *s =
            (c->fd > 0 && (uint32_t)c->fd < ctx->nsocks) ? &ctx->socks[c->fd] : NULL;
        int r = 0;
        switch (c->op) {
        case TS_CMD_KICK:
            cmd_kick(ctx, s);
            break;
        case TS_CMD_SOCKET:
        case TS_CMD_EPOLL:
            s = ts_sock_alloc(ctx, c->op == TS_CMD_SOCKET ? TS_KIND_TCP : TS_KIND_EPOLL);
            r = s ? ts_fd(ctx, s) : -ENFILE;
            break;
        case TS_CMD_BIND:
            r = cmd_bind(ctx, s, c->ip, c->port);
            break;
        case TS_CMD_LISTEN:
            r = cmd_listen(ctx, s, c->arg);
            break;
        case TS_CMD_CONNECT:
            r = tcp_connect(ctx, s, c->ip, c->port);
            break;
        case TS_CMD_SHUTDOWN:
            if (s->kind == TS_KIND_TCP && c->arg != TS_SHUT_RD)
                cmd_fin(ctx, s);
            break;
        case TS_CMD_CLOSE:
            cmd_close(ctx, s);
            break;
        default:
            TS_ASSERT(!"unknown command");
        }
        if (c->done) {
            *c->result = r;
            atomic_store_explicit(c->done, 1, memory_order_release);
            atomic_store_explicit(&ctx->worker_wake, 1, memory_order_release);
        }
        ts_sring_pop(&ctx->cmdq, 1);
    }
}

/* ----------------------------------------------------- worker side */

static struct ts_cmd *cmd_slot(struct ts_ctx *ctx)
{
    struct ts_cmd *c;
    while ((c = ts_sring_slot(&ctx->cmdq)) == NULL) {
        if (ctx->threaded)
            ts_pair_worker_park(ctx, 0); /* let the stack drain it */
        else
            ts_cmds_run(ctx);
    }
    memset(c, 0, sizeof(*c));
    return c;
}

static void cmd_post(struct ts_ctx *ctx, uint8_t op, int32_t fd, int32_t arg)
{
    struct ts_cmd *c = cmd_slot(ctx);
    c->op = op;
    c->fd = fd;
    c->arg = arg;
    ts_sring_push(&ctx->cmdq);
}

static int cmd_call(struct ts_ctx *ctx, uint8_t op, int32_t fd, int32_t arg, uint32_t ip,
                    uint16_t port)
{
    _Atomic int done = 0;
    int result = 0;
    struct ts_cmd *c = cmd_slot(ctx);
    c->op = op;
    c->fd = fd;
    c->arg = arg;
    c->ip = ip;
    c->port = port;
    c->done = &done;
    c->result = &result;
    ts_sring_push(&ctx->cmdq);
    ts_pair_sync_wait(ctx, &done);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    return result;
}

static struct ts_sock *app_sock(struct ts_ctx *ctx, int fd, uint8_t kind)
{
    if (fd <= 0 || (uint32_t)fd >= ctx->nsocks)
        return NULL;
    struct ts_sock *s = &ctx->socks[fd];
    if (!(s->aflags & AF_OPEN) || s->kind != kind)
        return NULL;
    return s;
}

#define APP_SOCK(s, ctx, fd, kind)                                                       \
    struct ts_sock *s = app_sock(ctx, fd, kind);                                         \
    if (s == NULL) {                                                                     \
        errno = EBADF;                                                                   \
        return -1;                                                                       \
    }

static void kick(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (atomic_exchange_explicit(&s->kick, 1, memory_order_acq_rel) == 0)
        cmd_post(ctx, TS_CMD_KICK, ts_fd(ctx, s), 0);
}

int ts_open_fd(struct ts_ctx *ctx, uint8_t op)
{
    int fd = cmd_call(ctx, op, 0, 0, 0, 0);
    if (fd > 0) {
        ctx->socks[fd].aflags = AF_OPEN;
        ctx->socks[fd].written_total = 0;
    }
    return fd;
}

int ts_socket(struct ts_ctx *ctx)
{
    return ts_open_fd(ctx, TS_CMD_SOCKET);
}

int ts_bind(struct ts_ctx *ctx, int fd, uint32_t ip, uint16_t port)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    (void)s;
    return cmd_call(ctx, TS_CMD_BIND, fd, 0, ip, port);
}

int ts_listen(struct ts_ctx *ctx, int fd, int backlog)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    (void)s;
    return cmd_call(ctx, TS_CMD_LISTEN, fd, backlog, 0, 0);
}

int ts_connect(struct ts_ctx *ctx, int fd, uint32_t ip, uint16_t port)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    (void)s;
    if (cmd_call(ctx, TS_CMD_CONNECT, fd, 0, ip, port) < 0)
        return -1;
    errno = EINPROGRESS;
    return -1;
}

int ts_accept(struct ts_ctx *ctx, int fd, uint32_t *peer_ip, uint16_t *peer_port)
{
    APP_SOCK(l, ctx, fd, TS_KIND_TCP);
    if (!(ts_sflags(l) & TS_SF_LISTENING)) {
        errno = EINVAL;
        return -1;
    }
    int32_t *slot = ts_sring_peek(l->acceptq, 0);
    if (slot == NULL) {
        errno = EAGAIN;
        return -1;
    }
    int32_t cfd = *slot;
    ts_sring_pop(l->acceptq, 1);
    struct ts_sock *s = &ctx->socks[cfd];
    s->aflags = AF_OPEN;
    s->written_total = 0;
    if (peer_ip)
        *peer_ip = s->raddr;
    if (peer_port)
        *peer_port = s->rport;
    return cfd;
}

ssize_t ts_read(struct ts_ctx *ctx, int fd, void *buf, size_t len)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    /* flags first: data put before RDCLOSED was set is then seen below */
    uint32_t sf = ts_sflags(s);
    if (!(sf & (TS_SF_CONNECTED | TS_SF_RESET))) {
        errno = ENOTCONN;
        return -1;
    }
    /* an idle connection holds no buffers: nothing to read */
    if (s->bufs != NULL) {
        struct ts_bring *rx = &s->bufs->rx;
        uint32_t before = ts_bring_used(rx);
        uint32_t n = ts_bring_get(rx, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
        if (n > 0) {
            if (before >= (ts_bring_mask(rx) + 1) / 2)
                kick(ctx, s); /* the window may have been closing */
            return n;
        }
    }
    if (sf & TS_SF_RESET) {
        int err = atomic_load_explicit(&s->so_error, memory_order_relaxed);
        if (err == 0)
            return 0;
        errno = err;
        return -1;
    }
    if (sf & TS_SF_RDCLOSED)
        return 0;
    /* nothing left to read: an idle connection's buffers go back to the
     * pool now (the worker holds the turn, so the pool is its to touch),
     * not when the stack next looks at it; a client dribbling a request
     * (slowloris) then holds none between its bytes. Not while a kick is
     * pending: it may owe the peer a window update, which the stack works
     * out from the buffers (and then releases them itself). */
    if (s->bufs != NULL && atomic_load_explicit(&s->kick, memory_order_acquire) == 0)
        tcp_bufs_maybe_release(ctx, s);
    errno = EAGAIN;
    return -1;
}

#define TS_UNREAD_AHEAD_MAX (512u << 20) /* under ts_bring_drop_ahead's 2^30 */

int ts_read_unread_ahead(struct ts_ctx *ctx, int fd, size_t len)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    if (len > TS_UNREAD_AHEAD_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* an idle connection holds no buffers: its next bytes are copied, which
     * only costs the copy */
    if (s->bufs != NULL)
        ts_bring_drop_ahead(&s->bufs->rx, (uint32_t)len);
    return 0;
}

/* 0 when the socket may be written, with its buffers attached (an idle
 * connection gives them back; a write takes them again: the worker holds
 * the turn, so the pool is its to touch); else the errno. */
static int write_check(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t sf = ts_sflags(s);
    if (sf & TS_SF_RESET) {
        int err = atomic_load_explicit(&s->so_error, memory_order_relaxed);
        return err ? err : EPIPE;
    }
    if (s->aflags & AF_SHUT_WR)
        return EPIPE;
    if (!(sf & TS_SF_CONNECTED))
        return ENOTCONN;
    /* no memory for the connection now: refused, not deferred (nothing
     * would wake a writer waiting for another connection to give some back) */
    if (s->bufs == NULL && ts_sock_attach_bufs(ctx, s) != 0) {
        ctx->st.tcp_nobufs_writes++;
        return ENOBUFS;
    }
    return 0;
}

/* The send buffer as the stack has grown it (tcp_snd_autotune). */
static uint32_t snd_limit(const struct ts_ctx *ctx, struct ts_sock *s)
{
    uint32_t l = atomic_load_explicit(&s->snd_limit, memory_order_relaxed);
    return l ? l : ctx->p.sndbuf;
}

static size_t send_space(struct ts_ctx *ctx, struct ts_sock *s)
{
    uint64_t acked = atomic_load_explicit(&s->acked_total, memory_order_acquire);
    uint64_t used = s->written_total - acked;
    uint32_t limit = snd_limit(ctx, s);
    if (used >= limit)
        return 0;
    return limit - used;
}

size_t ts_send_space(struct ts_ctx *ctx, int fd)
{
    struct ts_sock *s = app_sock(ctx, fd, TS_KIND_TCP);
    if (s == NULL || write_check(ctx, s) != 0)
        return 0;
    if (TS_REFS_PER_SOCK - ts_sring_count(&s->bufs->refs) < 1)
        return 0;
    return send_space(ctx, s);
}

/* Low-water marks for EPOLLOUT (as Linux's sk_stream_wspace rule): a
 * quarter of the send buffer and of the copy ring free, and room for a
 * copied header and a body reference. Writable means a write makes
 * progress, so a level-triggered worker never spins on EAGAIN. */
bool ts_writable(struct ts_ctx *ctx, struct ts_sock *s)
{
    if (s->bufs == NULL) /* idle: a write takes buffers from the pool */
        return ctx->bufs_used < ctx->p.max_bufs;
    if (ts_sring_count(&s->bufs->refs) + 3 > TS_REFS_PER_SOCK)
        return false;
    return send_space(ctx, s) >= snd_limit(ctx, s) / 4 &&
           ts_bring_free(&s->bufs->sndcopy) >= (s->bufs->sndcopy.mask + 1) / 4;
}

static void push_ref(struct ts_sock *s, const uint8_t *p, uint32_t len, uint32_t copied,
                     const struct ts_ref_owner *owner)
{
    struct ts_sref *r = ts_sring_slot(&s->bufs->refs);
    r->p = p;
    r->len = len;
    r->copied = copied;
    r->owner.release = owner ? owner->release : NULL;
    r->owner.arg = owner ? owner->arg : NULL;
    r->owner.csum = NULL;
    r->csum = owner ? owner->csum : NULL;
    r->iova = RTE_BAD_IOVA;
    r->xh = NULL;
    ts_sring_push(&s->bufs->refs);
}

ssize_t ts_write(struct ts_ctx *ctx, int fd, const void *buf, size_t len)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    int err = write_check(ctx, s);
    if (err) {
        errno = err;
        return -1;
    }
    struct ts_bring *cr = &s->bufs->sndcopy;
    size_t n = RTE_MIN(len, send_space(ctx, s));
    n = RTE_MIN(n, (size_t)ts_bring_free(cr));
    /* a copy that wraps the ring takes two references */
    if (TS_REFS_PER_SOCK - ts_sring_count(&s->bufs->refs) < 2)
        n = 0;
    if (n == 0) {
        errno = EAGAIN;
        return -1;
    }
    uint32_t head = atomic_load_explicit(&cr->head, memory_order_relaxed);
    uint32_t off = head & cr->mask;
    uint32_t first = RTE_MIN((uint32_t)n, cr->mask + 1 - off);
    ts_bring_put(cr, buf, (uint32_t)n);
    push_ref(s, cr->buf + off, first, 1, NULL);
    if (first < n)
        push_ref(s, cr->buf, (uint32_t)n - first, 1, NULL);
    s->written_total += n;
    kick(ctx, s);
    return (ssize_t)n;
}

ssize_t ts_write_ref(struct ts_ctx *ctx, int fd, const void *buf, size_t len,
                     const struct ts_ref_owner *owner)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    int err = write_check(ctx, s);
    if (err) {
        errno = err;
        return -1;
    }
    size_t n = RTE_MIN(len, send_space(ctx, s));
    n = RTE_MIN(n, (size_t)UINT32_MAX);
    if (ts_sring_count(&s->bufs->refs) >= TS_REFS_PER_SOCK)
        n = 0;
    if (n == 0) {
        errno = EAGAIN;
        return -1;
    }
    push_ref(s, buf, (uint32_t)n, 0, owner);
    s->written_total += n;
    kick(ctx, s);
    return (ssize_t)n;
}

int ts_shutdown(struct ts_ctx *ctx, int fd, int how)
{
    APP_SOCK(s, ctx, fd, TS_KIND_TCP);
    if (how != TS_SHUT_RD && how != TS_SHUT_WR && how != TS_SHUT_RDWR) {
        errno = EINVAL;
        return -1;
    }
    if (!(ts_sflags(s) & TS_SF_CONNECTED)) {
        errno = ENOTCONN;
        return -1;
    }
    if (how != TS_SHUT_RD && !(s->aflags & AF_SHUT_WR)) {
        s->aflags |= AF_SHUT_WR;
        cmd_post(ctx, TS_CMD_SHUTDOWN, fd, how);
    }
    return 0;
}

int ts_close(struct ts_ctx *ctx, int fd)
{
    struct ts_sock *s = NULL;
    if (fd > 0 && (uint32_t)fd < ctx->nsocks && (ctx->socks[fd].aflags & AF_OPEN))
        s = &ctx->socks[fd];
    if (s == NULL) {
        errno = EBADF;
        return -1;
    }
    ts_epoll_forget(ctx, fd);
    s->aflags = 0;
    cmd_post(ctx, TS_CMD_CLOSE, fd, 0);
    return 0;
}

/* ---------------------------------------------- events, stack side */

void ts_sock_event(struct ts_ctx *ctx, struct ts_sock *s, uint32_t events)
{
    s->ev_pending |= events;
    if (s->tflags & TF_EV_QUEUED)
        return;
    s->tflags |= TF_EV_QUEUED;
    s->ev_next = ctx->ev_head;
    ctx->ev_head = ts_fd(ctx, s);
}

void ts_sock_write_space(struct ts_ctx *ctx, struct ts_sock *s)
{
    const struct ts_epitem *e = &ctx->epi[ts_fd(ctx, s)];
    if (e->ep_fd > 0 && (e->events & TS_EPOLLOUT) && ts_writable(ctx, s))
        ts_sock_event(ctx, s, TS_EPOLLOUT);
}

void ts_events_publish(struct ts_ctx *ctx)
{
    while (ctx->ev_head >= 0) {
        struct ts_sock *s = &ctx->socks[ctx->ev_head];
        ctx->ev_head = s->ev_next;
        s->tflags &= ~TF_EV_QUEUED;
        struct ts_evt *e = ts_sring_slot(&ctx->evq);
        if (e == NULL) {
            atomic_store_explicit(&ctx->ev_overflow, 1, memory_order_release);
        } else {
            e->fd = ts_fd(ctx, s);
            e->events = s->ev_pending;
            ts_sring_push(&ctx->evq);
        }
        s->ev_pending = 0;
        ts_sock_maybe_free(ctx, s);
    }
}
