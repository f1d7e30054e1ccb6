/**
 * @file errmsg.h
 * The error message of a call that reports into a caller's buffer: written
 * when the caller gave one (@p err non-NULL, @p errlen non-zero).
 */
#ifndef ERRMSG_H
#define ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void errmsg(char *err, size_t errlen,
                                                                const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
