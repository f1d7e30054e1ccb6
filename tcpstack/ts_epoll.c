/**
 * @file ts_epoll.c
 * epoll for the worker, in the way Linux does it: the stack thread posts
 * (fd, events) notices to the context's event ring; epoll_wait moves the
 * registered ones onto a ready list, then asks each listed socket for its
 * readiness now (ts_sock_poll). A level-triggered socket stays listed while
 * it is ready; an edge-triggered one leaves the list once reported. If the
 * event ring ever overflows, every registered socket is listed again.
 *
 * One epoll instance per context: a worker needs no more.
 */
#include "ts_pair.h"
#include "ts_priv.h"

uint32_t ts_sock_poll(struct ts_ctx *ctx, struct ts_sock *s)
{
    (void)ctx;
    uint32_t sf = ts_sflags(s);
    if (sf & TS_SF_LISTENING)
        return ts_sring_count(s->acceptq) ? TS_EPOLLIN : 0;
    uint32_t m = 0;
    if (s->bufs && ts_bring_used(&s->bufs->rx) > 0)
        m |= TS_EPOLLIN;
    if (sf & TS_SF_RDCLOSED)
        m |= TS_EPOLLIN | TS_EPOLLRDHUP;
    if (sf & TS_SF_RESET)
        m |= TS_EPOLLERR | TS_EPOLLHUP;
    else if ((sf & TS_SF_CONNECTED) && !(s->aflags & AF_SHUT_WR) && ts_writable(ctx, s))
        m |= TS_EPOLLOUT;
    if ((sf & TS_SF_RDCLOSED) && (sf & TS_SF_WRDONE))
        m |= TS_EPOLLHUP;
    return m;
}

static void ready_unlink(struct ts_ctx *ctx, int32_t fd)
{
    struct ts_epitem *e = &ctx->epi[fd];
    if (!e->ready)
        return;
    if (e->rprev >= 0)
        ctx->epi[e->rprev].rnext = e->rnext;
    else
        ctx->ep.ready_head = e->rnext;
    if (e->rnext >= 0)
        ctx->epi[e->rnext].rprev = e->rprev;
    else
        ctx->ep.ready_tail = e->rprev;
    e->ready = 0;
}

static void ready_append(struct ts_ctx *ctx, int32_t fd)
{
    struct ts_epitem *e = &ctx->epi[fd];
    if (e->ready)
        return;
    e->ready = 1;
    e->rnext = -1;
    e->rprev = ctx->ep.ready_tail;
    if (ctx->ep.ready_tail >= 0)
        ctx->epi[ctx->ep.ready_tail].rnext = fd;
    else
        ctx->ep.ready_head = fd;
    ctx->ep.ready_tail = fd;
}

void ts_epoll_forget(struct ts_ctx *ctx, int32_t fd)
{
    ready_unlink(ctx, fd);
    ctx->epi[fd].ep_fd = 0;
}

int ts_epoll_create(struct ts_ctx *ctx)
{
    if (ctx->ep.fd >= 0) {
        errno = EMFILE;
        return -1;
    }
    int fd = ts_open_fd(ctx, TS_CMD_EPOLL);
    if (fd >= 0)
        ctx->ep.fd = fd;
    return fd;
}

int ts_epoll_ctl(struct ts_ctx *ctx, int epfd, int op, int fd, struct ts_epoll_event *ev)
{
    if (epfd != ctx->ep.fd || epfd < 0 || fd <= 0 || (uint32_t)fd >= ctx->nsocks ||
        !(ctx->socks[fd].aflags & AF_OPEN) || ctx->socks[fd].kind != TS_KIND_TCP) {
        errno = EBADF;
        return -1;
    }
    struct ts_epitem *e = &ctx->epi[fd];
    switch (op) {
    case TS_EPOLL_CTL_ADD:
        if (e->ep_fd > 0) {
            errno = EEXIST;
            return -1;
        }
        break;
    case TS_EPOLL_CTL_MOD:
    case TS_EPOLL_CTL_DEL:
        if (e->ep_fd != epfd) {
            errno = ENOENT;
            return -1;
        }
        if (op == TS_EPOLL_CTL_DEL) {
            ts_epoll_forget(ctx, fd);
            return 0;
        }
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    if (ev == NULL) {
        errno = EFAULT;
        return -1;
    }
    e->ep_fd = epfd;
    e->events = ev->events;
    e->data = ev->data;
    /* like Linux: a socket that is ready already is reported at once */
    ready_append(ctx, fd);
    return 0;
}

/* Moves the stack's notices onto the ready list. */
static void drain_notices(struct ts_ctx *ctx, int epfd)
{
    struct ts_evt *ev;
    uint32_t n = 0;
    while ((ev = ts_sring_peek(&ctx->evq, n)) != NULL) {
        int32_t fd = ev->fd;
        if ((ctx->socks[fd].aflags & AF_OPEN) && ctx->epi[fd].ep_fd == epfd)
            ready_append(ctx, fd);
        n++;
    }
    ts_sring_pop(&ctx->evq, n);
    if (atomic_exchange_explicit(&ctx->ev_overflow, 0, memory_order_acq_rel)) {
        for (uint32_t fd = 1; fd < ctx->nsocks; fd++)
            if ((ctx->socks[fd].aflags & AF_OPEN) && ctx->epi[fd].ep_fd == epfd)
                ready_append(ctx, (int32_t)fd);
    }
}

static int collect(struct ts_ctx *ctx, struct ts_epoll_event *events, int maxevents)
{
    int n = 0;
    int32_t fd = ctx->ep.ready_head;
    int32_t stop = ctx->ep.ready_tail; /* re-listed sockets go after it */
    while (fd >= 0 && n < maxevents) {
        struct ts_epitem *e = &ctx->epi[fd];
        int32_t next = e->rnext;
        bool last = fd == stop;
        uint32_t want = (e->events & ~TS_EPOLLET) | TS_EPOLLERR | TS_EPOLLHUP;
        uint32_t m = ts_sock_poll(ctx, &ctx->socks[fd]) & want;
        ready_unlink(ctx, fd);
        if (m) {
            events[n].events = m;
            events[n].data = e->data;
            n++;
            if (!(e->events & TS_EPOLLET))
                ready_append(ctx, fd); /* level-triggered: look again next time */
        }
        if (last)
            break;
        fd = next;
    }
    return n;
}

int ts_epoll_wait(struct ts_ctx *ctx, int epfd, struct ts_epoll_event *events,
                  int maxevents, int timeout_ms)
{
    if (epfd != ctx->ep.fd || epfd < 0) {
        errno = EBADF;
        return -1;
    }
    if (maxevents <= 0) {
        errno = EINVAL;
        return -1;
    }
    uint64_t deadline = UINT64_MAX;
    if (timeout_ms >= 0)
        deadline = atomic_load_explicit(&ctx->now_pub, memory_order_relaxed) +
                   (uint64_t)timeout_ms * 1000;
    /* The baton: one hand-over each way per batch, none for nothing. With
     * more work ready, what the worker queued since its last call (sends,
     * closes) still goes out first, in a turn of the stack that hands the
     * core straight back; so does every TS_EPOLL_MAX_BUSY-th call, so that
     * a worker with endless work cannot starve its stack. With nothing
     * ready the worker parks until an event or its timeout: that single
     * hand-over also carries what it queued, and the stack does not wake
     * it again for nothing. */
    for (;;) {
        if (ts_ctx_stopping(ctx))
            return 0;
        drain_notices(ctx, epfd);
        int n = collect(ctx, events, maxevents);
        if (n > 0 || timeout_ms == 0 || !ctx->threaded) {
            if (ctx->threaded && (ts_sring_count(&ctx->cmdq) != 0 ||
                                  ++ctx->ep.busy_calls >= TS_EPOLL_MAX_BUSY)) {
                ctx->ep.busy_calls = 0;
                ts_pair_worker_park(ctx, 0);
            }
            return n;
        }
        if (atomic_load_explicit(&ctx->now_pub, memory_order_relaxed) >= deadline)
            return 0;
        ctx->ep.busy_calls = 0;
        ts_pair_worker_park(ctx, deadline);
    }
}
