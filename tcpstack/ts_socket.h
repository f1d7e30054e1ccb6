/**
 * @file ts_socket.h
 * The application side of a stack context: BSD-style sockets and epoll.
 * Called by the context's worker thread (or by the test thread). Errors are
 * -1 with errno set, as the BSD calls do.
 *
 * The worker and the stack thread share only single-producer/single-consumer
 * rings and per-socket buffers: data calls (read, write, epoll_wait) never
 * wait for the stack; control calls (socket, bind, listen) are carried out by
 * the stack thread and wait for it.
 */
#ifndef TS_SOCKET_H
#define TS_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ts_ctx;

#define TS_EPOLLIN 0x001u
#define TS_EPOLLOUT 0x004u
#define TS_EPOLLERR 0x008u
#define TS_EPOLLHUP 0x010u
#define TS_EPOLLRDHUP 0x2000u
#define TS_EPOLLET (1u << 31)

#define TS_EPOLL_CTL_ADD 1
#define TS_EPOLL_CTL_DEL 2
#define TS_EPOLL_CTL_MOD 3

#define TS_SHUT_RD 0
#define TS_SHUT_WR 1
#define TS_SHUT_RDWR 2

struct ts_epoll_event {
    uint32_t events;
    uint64_t data;
};

struct ts_csum_map;

/** Reference-held send: the stack calls release(arg) once every byte of the
 *  reference is acknowledged or the connection is gone. @p csum, when not
 *  NULL, holds precomputed checksums of a region around the bytes (valid as
 *  long as the bytes): a port without checksum offload sums a segment from
 *  it instead of reading every byte. */
struct ts_ref_owner {
    void (*release)(void *arg);
    void *arg;
    const struct ts_csum_map *csum;
};

int ts_socket(struct ts_ctx *ctx);
/** @p ip in host byte order, 0 for any of ours. */
int ts_bind(struct ts_ctx *ctx, int fd, uint32_t ip, uint16_t port);
int ts_listen(struct ts_ctx *ctx, int fd, int backlog);
/** Active open, non-blocking: -1 with EINPROGRESS once the SYN is on its
 *  way; EPOLLOUT reports the connection, EPOLLERR a failure (read or write
 *  then return its errno: ECONNREFUSED, ETIMEDOUT). An unbound socket gets
 *  an ephemeral port. @p ip and @p port in host byte order. */
int ts_connect(struct ts_ctx *ctx, int fd, uint32_t ip, uint16_t port);
/** Non-blocking; EAGAIN when nothing is queued. Peer address in host order. */
int ts_accept(struct ts_ctx *ctx, int fd, uint32_t *peer_ip, uint16_t *peer_port);
/** Reads up to @p len bytes; 0 at the peer's FIN; EAGAIN when none are
 *  queued. @p buf NULL consumes them without a copy (Linux's MSG_TRUNC on a
 *  TCP socket): for a reader that only counts what arrives. */
ssize_t ts_read(struct ts_ctx *ctx, int fd, void *buf, size_t len);
/** Promises that the next @p len bytes of the stream will be taken unread
 *  (ts_read with @p buf NULL), as a reader that only counts a body of known
 *  length does: those still to arrive are acknowledged and counted as ever
 *  but not copied into the receive buffer. At most 512 MB a call; 0, or -1
 *  with errno. */
int ts_read_unread_ahead(struct ts_ctx *ctx, int fd, size_t len);
/** Copies @p len bytes into the send buffer; short count or EAGAIN when full;
 *  ENOBUFS when an idle connection finds the core's buffer pool empty. */
ssize_t ts_write(struct ts_ctx *ctx, int fd, const void *buf, size_t len);
/** Queues @p len bytes by reference (no copy). The bytes must stay valid and
 *  unchanged until @p owner->release runs (when owner is non-NULL it is called
 *  exactly once, for the whole accepted count). Short count or EAGAIN. */
ssize_t ts_write_ref(struct ts_ctx *ctx, int fd, const void *buf, size_t len,
                     const struct ts_ref_owner *owner);
/** Bytes that can be written now. */
size_t ts_send_space(struct ts_ctx *ctx, int fd);
int ts_shutdown(struct ts_ctx *ctx, int fd, int how);
/** Graceful close: queued data is still sent, then FIN. */
int ts_close(struct ts_ctx *ctx, int fd);

int ts_epoll_create(struct ts_ctx *ctx);
int ts_epoll_ctl(struct ts_ctx *ctx, int epfd, int op, int fd, struct ts_epoll_event *ev);
/** @p timeout_ms: 0 polls, -1 waits until an event or ts_ctx_stop(). Waiting
 *  hands the core back to the stack thread. Returns 0 once the context stops. */
int ts_epoll_wait(struct ts_ctx *ctx, int epfd, struct ts_epoll_event *events,
                  int maxevents, int timeout_ms);

#endif
