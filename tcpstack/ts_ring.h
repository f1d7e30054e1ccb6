/**
 * @file ts_ring.h
 * Single-producer/single-consumer rings shared by a stack thread and its
 * worker: a byte ring (socket receive and copied-send data) and a slot ring
 * of fixed-size records (commands, events, accepted sockets, send
 * references). Indices run free and wrap; sizes are powers of two. The
 * producer publishes with a release store of head, the consumer with a
 * release store of tail, each reads the other's index with acquire.
 */
#ifndef TS_RING_H
#define TS_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct ts_bring {
    uint8_t *buf;
    uint32_t mask;
    _Atomic uint32_t head; /* written by the producer */
    _Atomic uint32_t tail; /* written by the consumer */
    /* written by the consumer: the bytes the producer places below this
     * index are ones the consumer has promised to take unread
     * (ts_bring_drop_ahead), so they are not copied in */
    _Atomic uint32_t drop_end;
};

static inline void ts_bring_init(struct ts_bring *r, uint8_t *buf, uint32_t size)
{
    r->buf = buf;
    r->mask = size - 1;
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&r->drop_end, 0, memory_order_relaxed);
}

/* buf and mask of a byte ring: relaxed atomics, as the producer may move
 * an empty ring to a larger buffer (ts_bring_move, receive buffer
 * autotuning); a consumer that sees the new head (acquire) sees the new
 * buffer, stored before it. */
static inline uint32_t ts_bring_mask(const struct ts_bring *r)
{
    return __atomic_load_n(&r->mask, __ATOMIC_RELAXED);
}

static inline uint8_t *ts_bring_buf(const struct ts_bring *r)
{
    return __atomic_load_n(&r->buf, __ATOMIC_RELAXED);
}

/** Producer, the ring empty (the consumer has taken everything, nothing is
 *  written past the head): the ring goes on in @p buf of @p size bytes (a
 *  power of two). */
static inline void ts_bring_move(struct ts_bring *r, uint8_t *buf, uint32_t size)
{
    __atomic_store_n(&r->buf, buf, __ATOMIC_RELAXED);
    __atomic_store_n(&r->mask, size - 1, __ATOMIC_RELAXED);
}

static inline uint32_t ts_bring_used(const struct ts_bring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

static inline uint32_t ts_bring_free(const struct ts_bring *r)
{
    return ts_bring_mask(r) + 1 - ts_bring_used(r);
}

/* Producer: copies @p len bytes to ring index @p at, less those the
 * consumer will take unread (a stale drop_end only copies more). */
static inline void bring_copy_in(struct ts_bring *r, uint32_t at, const uint8_t *src,
                                 uint32_t len)
{
    uint32_t mask = ts_bring_mask(r);
    uint8_t *buf = ts_bring_buf(r);
    int32_t unread =
        (int32_t)(atomic_load_explicit(&r->drop_end, memory_order_relaxed) - at);
    if (unread > 0) {
        uint32_t n = (uint32_t)unread < len ? (uint32_t)unread : len;
        at += n, src += n, len -= n;
    }
    uint32_t off = at & mask;
    uint32_t first = mask + 1 - off;
    if (first > len)
        first = len;
    memcpy(buf + off, src, first);
    memcpy(buf, src + first, len - first);
}

/** Producer: copies up to @p len bytes in, returns how many. */
static inline uint32_t ts_bring_put(struct ts_bring *r, const void *src, uint32_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t room = ts_bring_mask(r) + 1 - (head - tail);
    if (len > room)
        len = room;
    bring_copy_in(r, head, src, len);
    atomic_store_explicit(&r->head, head + len, memory_order_release);
    return len;
}

/* Consumer: moves tail to @p tail. drop_end, once passed, is inert, but
 * indices wrap: it is brought up to tail before it falls 2^30 behind, so
 * that it never looks ahead of an index within a ring's size of tail. */
static inline void bring_consume(struct ts_bring *r, uint32_t tail)
{
    uint32_t drop = atomic_load_explicit(&r->drop_end, memory_order_relaxed);
    if ((int32_t)(drop - tail) < -(1 << 30))
        atomic_store_explicit(&r->drop_end, tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail, memory_order_release);
}

/** Consumer: copies up to @p len bytes out, returns how many; @p dst NULL
 *  consumes them without a copy. */
static inline uint32_t ts_bring_get(struct ts_bring *r, void *dst, uint32_t len)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t mask = ts_bring_mask(r);
    const uint8_t *buf = ts_bring_buf(r);
    if (len > head - tail)
        len = head - tail;
    uint32_t off = tail & mask;
    uint32_t first = mask + 1 - off;
    if (first > len)
        first = len;
    if (dst != NULL) {
        memcpy(dst, buf + off, first);
        memcpy((uint8_t *)dst + first, buf, len - first);
    }
    bring_consume(r, tail + len);
    return len;
}

/** Consumer: promises that the next @p len bytes (at most 2^30) will be
 *  taken unread (ts_bring_get with @p dst NULL); the producer then does not
 *  copy in those still to come. A promise is never withdrawn. */
static inline void ts_bring_drop_ahead(struct ts_bring *r, uint32_t len)
{
    uint32_t end = atomic_load_explicit(&r->tail, memory_order_relaxed) + len;
    uint32_t drop = atomic_load_explicit(&r->drop_end, memory_order_relaxed);
    if ((int32_t)(end - drop) > 0)
        atomic_store_explicit(&r->drop_end, end, memory_order_relaxed);
}

/** Bytes promised to be taken unread that the consumer has not taken yet. */
static inline uint32_t ts_bring_unread_ahead(const struct ts_bring *r)
{
    int32_t n = (int32_t)(atomic_load_explicit(&r->drop_end, memory_order_relaxed) -
                          atomic_load_explicit(&r->tail, memory_order_relaxed));
    return n > 0 ? (uint32_t)n : 0;
}

/** Producer: writes @p len bytes @p off bytes past the head without
 *  publishing them (out-of-order data waiting for a gap to fill). The
 *  caller keeps off + len within ts_bring_free(). */
static inline void ts_bring_write_at(struct ts_bring *r, uint32_t off, const void *src,
                                     uint32_t len)
{
    bring_copy_in(r, atomic_load_explicit(&r->head, memory_order_relaxed) + off, src,
                  len);
}

/** Producer: publishes @p len bytes already written past the head. */
static inline void ts_bring_publish(struct ts_bring *r, uint32_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + len, memory_order_release);
}

/** Consumer: drops @p len bytes that were read in place. */
static inline void ts_bring_skip(struct ts_bring *r, uint32_t len)
{
    bring_consume(r, atomic_load_explicit(&r->tail, memory_order_relaxed) + len);
}

/* A ring of fixed-size records. */
struct ts_sring {
    uint8_t *slots;
    uint32_t mask;
    uint32_t elt;
    _Atomic uint32_t head;
    _Atomic uint32_t tail;
};

static inline void ts_sring_init(struct ts_sring *r, void *slots, uint32_t count,
                                 uint32_t elt)
{
    r->slots = slots;
    r->mask = count - 1;
    r->elt = elt;
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
}

static inline uint32_t ts_sring_count(const struct ts_sring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

/** Producer: the slot to fill next, NULL when full; publish with push. */
static inline void *ts_sring_slot(struct ts_sring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask)
        return NULL;
    return r->slots + (size_t)(head & r->mask) * r->elt;
}

static inline void ts_sring_push(struct ts_sring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/** Consumer: the i-th record not yet popped (0 = oldest), NULL past the end. */
static inline void *ts_sring_peek(struct ts_sring *r, uint32_t i)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head - tail <= i)
        return NULL;
    return r->slots + (size_t)((tail + i) & r->mask) * r->elt;
}

static inline void ts_sring_pop(struct ts_sring *r, uint32_t n)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}

#endif
