/**
 * @file log.h
 * The access log and the error log. Workers never touch a file: each
 * core's worker puts a fixed-size record per response into its own
 * single-producer/single-consumer ring (no lock, no syscall, no wait); when
 * the ring is full the record is counted as dropped. One log thread drains
 * every ring, formats the lines (combined log format, or JSON lines) and
 * writes them in batches. SIGUSR1 (through the control thread) makes it
 * reopen both files, for logrotate. The error log (levels error, warn,
 * info) is written directly by the threads that are not workers.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

#define LOG_RING_RECS 2048 /* per core, a power of two */

enum log_format { LOG_COMBINED, LOG_JSON };
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO };

/** One response, as a worker hands it over. */
struct log_rec {
    int64_t t_s;      /**< wall-clock second */
    uint32_t peer_ip; /**< host order */
    uint16_t status;
    uint8_t major, minor;
    uint64_t bytes;  /**< body bytes sent */
    char method[16]; /**< "" when the request line did not parse */
    uint16_t target_len, host_len, referer_len, ua_len;
    char target[512];
    char host[128];
    char referer[192];
    char ua[192];
};

struct log_ring {
    _Alignas(64) atomic_uint head; /* written by the worker */
    _Alignas(64) atomic_uint tail; /* written by the log thread */
    _Alignas(64) atomic_uint_fast64_t dropped;
    struct log_rec rec[LOG_RING_RECS];
};

/** A free slot of @p r, or NULL (the line is counted as dropped). */
static inline struct log_rec *log_ring_claim(struct log_ring *r)
{
    unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h - t >= LOG_RING_RECS) {
        atomic_store_explicit(&r->dropped,
                              atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return NULL;
    }
    return &r->rec[h & (LOG_RING_RECS - 1)];
}

/** Publishes the slot log_ring_claim() gave. */
static inline void log_ring_commit(struct log_ring *r)
{
    unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/** Fills @p rec from what http.c says of the request just answered. */
void log_rec_fill(struct log_rec *rec, const struct http_req_info *in, uint32_t peer_ip,
                  int status, uint64_t bytes);

struct logger;

struct log_conf {
    const char *access_path; /**< "" or NULL: no access log */
    enum log_format format;
    const char *error_path; /**< "" or NULL: stderr */
    enum log_level level;
};

/** Opens the files and allocates @p n_rings rings. NULL with a reason in
 *  @p err (naming the file) when a file cannot be opened. */
struct logger *log_create(unsigned n_rings, const struct log_conf *conf, char *err,
                          size_t errlen);
struct log_ring *log_ring_of(struct logger *lg, unsigned i);
/** Starts the log thread, on the @p n_cpus CPUs of @p cpus when there are
 *  some (those that run no stack/worker pair, so that it never takes a
 *  turn from them): 0 or an errno. */
int log_start(struct logger *lg, const unsigned *cpus, unsigned n_cpus);
/** Writes what the rings still hold, stops the thread. */
void log_stop(struct logger *lg);
void log_destroy(struct logger *lg);

/** Asks the log thread to reopen both files (async-signal-safe). */
void log_reopen(struct logger *lg);
/** New paths, format and level (a reload): opened by the log thread before
 *  its next write; an access log that cannot be opened is logged as an
 *  error and lines are counted as dropped until a later reopen works. */
void log_reconfigure(struct logger *lg, const struct log_conf *conf);

/** Lines written to the access log and dropped (rings full, or no file). */
void log_counts(struct logger *lg, uint64_t *written, uint64_t *dropped);

/** An error-log line "YYYY/MM/DD HH:MM:SS [level] corehttpd: message" when
 *  @p level passes the configured one; @p lg may be NULL (stderr). Not for
 *  workers. */
void log_msg(struct logger *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(struct logger *lg, enum log_level level, const char *fmt, va_list ap);

/** Formats one record as a line (with its '\n') into @p out; returns its
 *  length (cut to @p cap). Exposed for the unit tests. */
size_t log_format_line(const struct log_rec *rec, enum log_format f, char *out,
                       size_t cap);

#endif
