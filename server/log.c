/**
 * @file log.c
 * The log thread and its rings (see log.h). The thread turns round every
 * ring, formats what is there into one buffer and write()s it when it is
 * nearly full or the turn ends; with nothing to do it sleeps LOG_IDLE_NS.
 * Reopen and reconfigure requests are flags it acts on between turns, so
 * the files change only on its thread; the error log is shared with the
 * other threads under a mutex (never taken by a worker).
 */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF (256 * 1024)
/* The thread sleeps this long after a turn unless a turn found some ring
 * at least half full (falling behind): lines then go out in batches, a
 * write(2) every few ms at most, and the thread takes little of a core that
 * it shares with a stack or a worker. A ring holds LOG_RING_RECS lines, so
 * a core can hand over LOG_RING_RECS / 2 lines per sleep without a drop
 * (about 500,000 lines/s). */
#define LOG_IDLE_NS 2000000L /* 2 ms */
#define LOG_PATH_MAX 4096

struct logger {
    struct log_ring *rings;
    unsigned n;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_bool reopen;
    atomic_bool reconf;
    pthread_mutex_t mu; /* pending, level and error_fd */
    struct {
        char access_path[LOG_PATH_MAX];
        char error_path[LOG_PATH_MAX];
        enum log_format format;
        enum log_level level;
        bool set;
    } pending; /* from log_reconfigure(), taken by the log thread */
    /* the files in use: the log thread's (the creator's before it runs) */
    char access_path[LOG_PATH_MAX];
    char error_path[LOG_PATH_MAX];
    enum log_format format;
    enum log_level level;
    int access_fd;      /* -1: off */
    int error_fd;       /* 2: stderr */
    bool access_failed; /* told once */
    atomic_uint_fast64_t written;
    atomic_uint_fast64_t lost; /* formatted but not written (no file, write error) */
    char *buf;
};

static const char *const log_levels[] = {"error", "warn", "info"};

static int log_open(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
}

void log_vmsg(struct logger *lg, enum log_level level, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d/%02d/%02d %02d:%02d:%02d [%s] corehttpd: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     log_levels[level]);
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + ((size_t)m < sizeof line - (size_t)n - 1
                                  ? (size_t)m
                                  : sizeof line - (size_t)n - 2);
    line[len++] = '\n';
    if (!lg) {
        ssize_t w = write(2, line, len);
        (void)w;
        return;
    }
    pthread_mutex_lock(&lg->mu);
    if (level <= lg->level) {
        ssize_t w = write(lg->error_fd, line, len);
        (void)w;
    }
    pthread_mutex_unlock(&lg->mu);
}

void log_msg(struct logger *lg, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lg, level, fmt, ap);
    va_end(ap);
}

/* ---- records and lines ---- */

static uint16_t clip_copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n > cap)
        n = cap;
    if (n)
        memcpy(dst, src, n);
    return (uint16_t)n;
}

void log_rec_fill(struct log_rec *rec, const struct http_req_info *in, uint32_t peer_ip,
                  int status, uint64_t bytes)
{
    rec->t_s = in->date_s;
    rec->peer_ip = peer_ip;
    rec->status = (uint16_t)status;
    rec->major = (uint8_t)in->major;
    rec->minor = (uint8_t)in->minor;
    rec->bytes = bytes;
    size_t ml = in->method ? strnlen(in->method, sizeof rec->method - 1) : 0;
    memcpy(rec->method, in->method ? in->method : "", ml);
    rec->method[ml] = '\0';
    rec->target_len =
        clip_copy(rec->target, sizeof rec->target, in->target, in->target_len);
    rec->host_len = clip_copy(rec->host, sizeof rec->host, in->host, in->host_len);
    rec->referer_len =
        clip_copy(rec->referer, sizeof rec->referer, in->referer, in->referer_len);
    rec->ua_len = clip_copy(rec->ua, sizeof rec->ua, in->ua, in->ua_len);
}

struct obuf {
    char *p;
    size_t len, cap;
};

static void oput(struct obuf *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        n = o->cap - o->len;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void oputs(struct obuf *o, const char *s)
{
    oput(o, s, strlen(s));
}

static void oputf(struct obuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void oputf(struct obuf *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        oput(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* As nginx: '"', '\' and bytes outside printable ASCII as \xXX. */
static void oput_clf(struct obuf *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            oput(o, e, 4);
        } else {
            oput(o, s + i, 1);
        }
    }
}

/* RFC 8259 string contents; bytes >= 0x80 as \u00XX, so the line is ASCII
 * and valid JSON whatever the client sent. */
static void oput_json(struct obuf *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            oput(o, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            oput(o, e, 6);
        } else {
            oput(o, s + i, 1);
        }
    }
}

size_t log_format_line(const struct log_rec *r, enum log_format f, char *out, size_t cap)
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct obuf o = {out, 0, cap > 0 ? cap - 1 : 0};
    char ip[16];
    struct tm tm;
    time_t t = (time_t)r->t_s;
    gmtime_r(&t, &tm);
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", r->peer_ip >> 24, (r->peer_ip >> 16) & 255,
             (r->peer_ip >> 8) & 255, r->peer_ip & 255);

    if (f == LOG_COMBINED) {
        oputf(&o, "%s - - [%02d/%.3s/%04d:%02d:%02d:%02d +0000] \"", ip, tm.tm_mday,
              mon + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (r->method[0]) {
            oputs(&o, r->method);
            oputs(&o, " ");
            oput_clf(&o, r->target, r->target_len);
            oputf(&o, " HTTP/%u.%u", r->major, r->minor);
        } else {
            oputs(&o, "-");
        }
        oputf(&o, "\" %u %llu \"", r->status, (unsigned long long)r->bytes);
        if (r->referer_len)
            oput_clf(&o, r->referer, r->referer_len);
        else
            oputs(&o, "-");
        oputs(&o, "\" \"");
        if (r->ua_len)
            oput_clf(&o, r->ua, r->ua_len);
        else
            oputs(&o, "-");
        oputs(&o, "\"");
    } else {
        oputf(&o, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\",\"remote_addr\":\"%s\"",
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
              tm.tm_sec, ip);
        oputs(&o, ",\"method\":\"");
        oputs(&o, r->method);
        oputs(&o, "\",\"uri\":\"");
        oput_json(&o, r->target, r->target_len);
        if (r->method[0])
            oputf(&o, "\",\"protocol\":\"HTTP/%u.%u", r->major, r->minor);
        else
            oputs(&o, "\",\"protocol\":\"");
        oputf(&o, "\",\"status\":%u,\"bytes\":%llu,\"host\":\"", r->status,
              (unsigned long long)r->bytes);
        oput_json(&o, r->host, r->host_len);
        oputs(&o, "\",\"referer\":\"");
        oput_json(&o, r->referer, r->referer_len);
        oputs(&o, "\",\"user_agent\":\"");
        oput_json(&o, r->ua, r->ua_len);
        oputs(&o, "\"}");
    }
    out[o.len++] = '\n';
    return o.len;
}

/* ---- the thread ---- */

static void log_write_all(struct logger *lg, const char *p, size_t n, uint64_t lines)
{
    if (lg->access_fd < 0) {
        atomic_fetch_add(&lg->lost, lines);
        return;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(lg->access_fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!lg->access_failed)
                log_msg(lg, LOG_ERROR, "access log %s: write failed: %s; lines are lost",
                        lg->access_path, strerror(errno));
            lg->access_failed = true;
            atomic_fetch_add(&lg->lost, lines);
            return;
        }
        off += (size_t)w;
    }
    lg->access_failed = false;
    atomic_fetch_add(&lg->written, lines);
}

/* Opens the files of the current conf (the thread's own, or at creation). */
static int log_open_files(struct logger *lg, char *err, size_t errlen)
{
    int afd = -1, efd = 2;
    if (lg->access_path[0]) {
        afd = log_open(lg->access_path);
        if (afd < 0) {
            snprintf(err, errlen, "access log %s: cannot open: %s", lg->access_path,
                     strerror(errno));
            return -1;
        }
    }
    if (lg->error_path[0]) {
        efd = log_open(lg->error_path);
        if (efd < 0) {
            snprintf(err, errlen, "error log %s: cannot open: %s", lg->error_path,
                     strerror(errno));
            if (afd >= 0)
                close(afd);
            return -1;
        }
    }
    if (lg->access_fd >= 0)
        close(lg->access_fd);
    lg->access_fd = afd;
    pthread_mutex_lock(&lg->mu);
    if (lg->error_fd != 2)
        close(lg->error_fd);
    lg->error_fd = efd;
    pthread_mutex_unlock(&lg->mu);
    return 0;
}

static void log_reopen_now(struct logger *lg)
{
    char err[LOG_PATH_MAX + 128];
    pthread_mutex_lock(&lg->mu);
    if (lg->pending.set) {
        memcpy(lg->access_path, lg->pending.access_path, sizeof lg->access_path);
        memcpy(lg->error_path, lg->pending.error_path, sizeof lg->error_path);
        lg->format = lg->pending.format;
        lg->level = lg->pending.level;
        lg->pending.set = false;
    }
    pthread_mutex_unlock(&lg->mu);
    if (log_open_files(lg, err, sizeof err) < 0) {
        /* keep what is open: a file that cannot be opened again is better
         * written where it was than lost */
        log_msg(lg, LOG_ERROR, "%s; keeping the files already open", err);
        return;
    }
    log_msg(lg, LOG_INFO, "logs reopened%s%s", lg->access_path[0] ? ": access log " : "",
            lg->access_path);
}

/* Drains every ring once; returns the records of the fullest ring. */
static uint64_t log_turn(struct logger *lg)
{
    size_t len = 0;
    uint64_t lines = 0, most = 0;
    for (unsigned i = 0; i < lg->n; i++) {
        struct log_ring *r = &lg->rings[i];
        unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (h - t > most)
            most = h - t;
        for (; t != h; t++) {
            if (LOG_BUF - len < 4096) {
                log_write_all(lg, lg->buf, len, lines);
                len = 0;
                lines = 0;
            }
            len += log_format_line(&r->rec[t & (LOG_RING_RECS - 1)], lg->format,
                                   lg->buf + len, 4096);
            lines++;
            /* the slot is free once formatted */
            atomic_store_explicit(&r->tail, t + 1, memory_order_release);
        }
    }
    if (len)
        log_write_all(lg, lg->buf, len, lines);
    return most;
}

static void *log_main(void *arg)
{
    struct logger *lg = arg;
    for (;;) {
        bool stopping = atomic_load(&lg->stop);
        /* both flags are cleared, whichever was set */
        bool reconf = atomic_exchange(&lg->reconf, false);
        bool reopen = atomic_exchange(&lg->reopen, false);
        if (reconf || reopen)
            log_reopen_now(lg);
        uint64_t most = log_turn(lg);
        if (most == 0 && stopping)
            break;
        if (most < LOG_RING_RECS / 2) {
            struct timespec ts = {0, LOG_IDLE_NS};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---- life ---- */

static void log_set_conf(struct logger *lg, const struct log_conf *conf)
{
    snprintf(lg->access_path, sizeof lg->access_path, "%s",
             conf->access_path ? conf->access_path : "");
    snprintf(lg->error_path, sizeof lg->error_path, "%s",
             conf->error_path ? conf->error_path : "");
    lg->format = conf->format;
    lg->level = conf->level;
}

struct logger *log_create(unsigned n_rings, const struct log_conf *conf, char *err,
                          size_t errlen)
{
    struct logger *lg = calloc(1, sizeof *lg);
    if (!lg) {
        snprintf(err, errlen, "out of memory for the logger");
        return NULL;
    }
    lg->n = n_rings;
    lg->access_fd = -1;
    lg->error_fd = 2;
    pthread_mutex_init(&lg->mu, NULL);
    lg->buf = malloc(LOG_BUF);
    lg->rings = aligned_alloc(64, sizeof *lg->rings * (n_rings ? n_rings : 1));
    if (!lg->buf || !lg->rings) {
        snprintf(err, errlen, "out of memory for the log rings");
        log_destroy(lg);
        return NULL;
    }
    for (unsigned i = 0; i < n_rings; i++) {
        atomic_init(&lg->rings[i].head, 0);
        atomic_init(&lg->rings[i].tail, 0);
        atomic_init(&lg->rings[i].dropped, 0);
    }
    log_set_conf(lg, conf);
    if (log_open_files(lg, err, errlen) < 0) {
        log_destroy(lg);
        return NULL;
    }
    return lg;
}

struct log_ring *log_ring_of(struct logger *lg, unsigned i)
{
    return lg && i < lg->n ? &lg->rings[i] : NULL;
}

int log_start(struct logger *lg, const unsigned *cpus, unsigned n_cpus)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (n_cpus) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (unsigned i = 0; i < n_cpus; i++)
            if (cpus[i] < CPU_SETSIZE)
                CPU_SET(cpus[i], &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    int rc = pthread_create(&lg->thread, &attr, log_main, lg);
    pthread_attr_destroy(&attr);
    if (rc == 0) {
        lg->started = true;
        pthread_setname_np(lg->thread, "chttpd-log");
    }
    return rc;
}

void log_stop(struct logger *lg)
{
    if (!lg || !lg->started)
        return;
    atomic_store(&lg->stop, true);
    pthread_join(lg->thread, NULL);
    lg->started = false;
}

void log_destroy(struct logger *lg)
{
    if (!lg)
        return;
    log_stop(lg);
    if (lg->access_fd >= 0)
        close(lg->access_fd);
    if (lg->error_fd != 2)
        close(lg->error_fd);
    pthread_mutex_destroy(&lg->mu);
    free(lg->rings);
    free(lg->buf);
    free(lg);
}

void log_reopen(struct logger *lg)
{
    if (lg)
        atomic_store(&lg->reopen, true);
}

void log_reconfigure(struct logger *lg, const struct log_conf *conf)
{
    if (!lg)
        return;
    pthread_mutex_lock(&lg->mu);
    snprintf(lg->pending.access_path, sizeof lg->pending.access_path, "%s",
             conf->access_path ? conf->access_path : "");
    snprintf(lg->pending.error_path, sizeof lg->pending.error_path, "%s",
             conf->error_path ? conf->error_path : "");
    lg->pending.format = conf->format;
    lg->pending.level = conf->level;
    lg->pending.set = true;
    pthread_mutex_unlock(&lg->mu);
    atomic_store(&lg->reconf, true);
}

void log_counts(struct logger *lg, uint64_t *written, uint64_t *dropped)
{
    uint64_t d = atomic_load(&lg->lost);
    for (unsigned i = 0; i < lg->n; i++)
        d += atomic_load(&lg->rings[i].dropped);
    *written = atomic_load(&lg->written);
    *dropped = d;
}
