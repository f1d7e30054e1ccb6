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
};

static inline void ts_bring_init(struct ts_bring *r, uint8_t *buf, uint32_t size)
{
    r->buf = buf;
    r->mask = size - 1;
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
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

/** Producer: copies up to @p len bytes in, returns how many. */
static inline uint32_t ts_bring_put(struct ts_bring *r, const void *src, uint32_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t mask = ts_bring_mask(r);
    uint8_t *buf = ts_bring_buf(r);
    uint32_t room = mask + 1 - (head - tail);
    if (len > room)
        len = room;
    uint32_t off = head & mask;
    uint32_t first = mask + 1 - off;
    if (first > len)
        first = len;
    memcpy(buf + off, src, first);
    memcpy(buf, (const uint8_t *)src + first, len - first);
    atomic_store_explicit(&r->head, head + len, memory_order_release);
    return len;
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
    atomic_store_explicit(&r->tail, tail + len, memory_order_release);
    return len;
}

/** Producer: writes @p len bytes @p off bytes past the head without
 *  publishing them (out-of-order data waiting for a gap to fill). The
 *  caller keeps off + len within ts_bring_free(). */
static inline void ts_bring_write_at(struct ts_bring *r, uint32_t off, const void *src,
                                     uint32_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t mask = ts_bring_mask(r);
    uint8_t *buf = ts_bring_buf(r);
    uint32_t pos = (head + off) & mask;
    uint32_t first = mask + 1 - pos;
    if (first > len)
        first = len;
    memcpy(buf + pos, src, first);
    memcpy(buf, (const uint8_t *)src + first, len - first);
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
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + len, memory_order_release);
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
