/**
 * @file textbuf.h
 * A bounded text buffer for building responses and pages in place: appends
 * stop at the capacity and mark the buffer full instead of cutting a line,
 * so the caller checks once at the end. No allocation.
 */
#ifndef TEXTBUF_H
#define TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct textbuf {
    char *p;
    size_t len, cap;
    bool full; /**< an append did not fit: the text is incomplete */
};

static inline void tb_put(struct textbuf *b, const char *s, size_t n)
{
    if (b->full || n > b->cap - b->len) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void tb_str(struct textbuf *b, const char *s)
{
    tb_put(b, s, strlen(s));
}

/** Appends @p v in decimal. */
static inline void tb_u64(struct textbuf *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    tb_put(b, tmp + i, sizeof tmp - i);
}

#endif
