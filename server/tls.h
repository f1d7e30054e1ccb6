/**
 * @file tls.h
 * HTTPS: TLS 1.3 and 1.2 with OpenSSL 3 over the user-space stack.
 *
 * Three parts, each with its own thread:
 * - the contexts (struct tls_site), built from [tls] and the [vhost NAME]
 *   certificates off the hot path (start-up, SIGHUP) as part of a site:
 *   one SSL_CTX per core and certificate, so a worker never shares a
 *   context (and its locks and counters) with another core; the
 *   certificates are parsed once and shared read-only, each core's
 *   contexts sign with their own copy of the private key (OpenSSL locks a
 *   key while it signs);
 * - the session ticket keys (struct tls_tickets): the control thread makes
 *   a new random key every [tls] ticket_key_rotation_s and publishes it;
 *   each worker picks it up on its next loop turn (its own rotation, no
 *   lock: one atomic load per turn). Every core holds the same keys, so a
 *   ticket issued on one core resumes on any other;
 * - a worker's connections (struct tls_worker): an SSL object per
 *   connection over a BIO of our own that reads and writes the stack's
 *   socket (ts_read, ts_write). Nothing blocks: a call that cannot go on
 *   returns TLS_WANT_READ or TLS_WANT_WRITE (the stack said EAGAIN) and is
 *   called again when epoll reports the socket ready, from the byte where
 *   it stopped, as the HTTP parser is.
 */
#ifndef TLS_H
#define TLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct ts_ctx;
struct tls_site;

/* ---- contexts (control thread, main) ---- */

/** Reads the certificates and keys of @p cfg ([tls] and [vhost NAME]) and
 *  builds @p n_cores sets of contexts. NULL with the reason in @p err
 *  ("FILE:LINE: [tls] certificate: PATH: reason"). */
struct tls_site *tls_site_build(const struct cfg *cfg, unsigned n_cores, char *err,
                                size_t errlen);
/** Contexts still used by connections stay alive until their last
 *  connection is gone (OpenSSL counts their references). */
void tls_site_free(struct tls_site *t);
/** Certificates in the set (the default one and the virtual hosts'). */
unsigned tls_site_certs(const struct tls_site *t);
/** The default certificate's context of @p core (tests drive it over
 *  memory BIOs; SSL_set_app_data() must then name a struct tls_worker). */
struct ssl_ctx_st *tls_site_ctx(const struct tls_site *t, unsigned core);
/** `corehttpd -t`: loads everything as a start would and frees it. */
int tls_check(const struct cfg *cfg, char *err, size_t errlen);

/* ---- ticket keys ---- */

struct tls_ticket_key {
    uint8_t name[16];
    uint8_t aes[32];  /**< AES-256-CBC */
    uint8_t hmac[32]; /**< HMAC-SHA256 */
};

#define TLS_TICKET_SLOTS 4

/** The keys published by the control thread: slot[gen % TLS_TICKET_SLOTS]
 *  is the newest. A slot is written again TLS_TICKET_SLOTS rotations after
 *  it was published; workers copy the newest within a loop turn. */
struct tls_tickets {
    _Atomic uint64_t gen;
    struct tls_ticket_key slot[TLS_TICKET_SLOTS];
    uint64_t rotate_us;
    uint64_t next_us; /* control thread's */
};

/** A store with its first key; NULL when the random source fails. */
struct tls_tickets *tls_tickets_create(uint32_t rotate_s);
void tls_tickets_free(struct tls_tickets *tk);
/** Control thread, every tick: publishes a new key once a rotation period
 *  has passed since the first tick or the last rotation (@p now_us on any
 *  monotonic clock, the same each call). Returns true when it did. */
bool tls_tickets_tick(struct tls_tickets *tk, uint64_t now_us);

/* ---- a worker's connections ---- */

/** Handshake failures, by reason. */
enum tls_fail {
    TLS_FAIL_PROTOCOL,  /**< a version we do not speak (TLS 1.1 and older, SSL) */
    TLS_FAIL_CIPHER,    /**< no cipher suite or group in common */
    TLS_FAIL_HTTP,      /**< plain HTTP sent to the TLS port */
    TLS_FAIL_ALPN,      /**< ALPN offered without http/1.1 */
    TLS_FAIL_ALERT,     /**< the client sent an alert (e.g. it does not trust us) */
    TLS_FAIL_CLOSED,    /**< the client closed or reset the connection */
    TLS_FAIL_TIMEOUT,   /**< not done within [http] header_timeout_ms */
    TLS_FAIL_MALFORMED, /**< anything else the TLS library refused */
    TLS_FAIL_N
};

/** A worker's counters (one writer: the worker; read by the status page). */
struct tls_stats {
    uint64_t hs_full, hs_resumed;
    uint64_t fail[TLS_FAIL_N];
    uint64_t tls12, tls13; /**< handshakes completed, by version */
    uint64_t ticket_rotations;
    /** records handed to the stack by reference (in a record buffer), and
     *  copied into the socket (no buffer free, or no room for the whole
     *  record) */
    uint64_t records_ref, records_copied;
    uint32_t open; /**< TLS connections held */
};

/** Returns of the I/O calls below besides a byte count. */
#define TLS_ERROR (-1)
#define TLS_WANT_READ (-2)
#define TLS_WANT_WRITE (-3)

/** Largest record payload (RFC 8446 5.1): the size of the write chunks. */
#define TLS_RECORD 16384
/** Room for a whole record on the wire: the header, the payload and
 *  OpenSSL's allowance for what encryption adds
 *  (SSL3_RT_MAX_ENCRYPTED_OVERHEAD: 256 + a MAC of up to 64 bytes, for a
 *  CBC suite's IV, padding and MAC; an AEAD adds 17 to 24). The size of a
 *  record buffer (16,709 bytes); tls.c checks it against OpenSSL's. */
#define TLS_RECORD_WIRE (5 + TLS_RECORD + 320)

struct tls_worker;

struct rte_mempool;
/** The worker's side: its BIO method, its ticket keys (copied from
 *  @p tickets), its pool of @p max_conns connection slots (address space,
 *  committed as used) and the counters it keeps in @p stats. @p records:
 *  buffers of TLS_RECORD_WIRE bytes in DPDK memory, or NULL: the BIO
 *  copies a record that OpenSSL made into one and queues it by reference
 *  (the stack's frames point into it; it goes back to the pool, from the
 *  stack thread, once acknowledged), else it copies the record into the
 *  socket. NULL on failure. */
struct tls_worker *tls_worker_create(struct ts_ctx *ctx, struct tls_tickets *tickets,
                                     uint32_t max_conns, struct tls_stats *stats,
                                     struct rte_mempool *records);
/** Frees the SSL objects of the connections still open, then the rest. */
void tls_worker_free(struct tls_worker *tw);
/** Each loop turn: picks up a newly published ticket key. */
void tls_worker_poll(struct tls_worker *tw);
/** The sizes of the worker's sockets: [tcp] sndbuf and the copy ring
 * (ts_params snd_copybuf, as configured). Without them close_notify goes
 * only by reference (it must go whole, and only then is room for it sure). */
void tls_worker_sndbuf(struct tls_worker *tw, size_t sndbuf, size_t copied);
/** A gather buffer of TLS_RECORD bytes for small writes. */
uint8_t *tls_worker_scratch(struct tls_worker *tw);

/** A connection accepted on the TLS port, on the contexts of @p t for
 *  @p core: its slot index, or -1 (no memory). */
int32_t tls_conn_new(struct tls_worker *tw, const struct tls_site *t, unsigned core,
                     int fd);
/** Sends close_notify when the connection is established and the socket
 *  has room for the whole record (else none: never a part of it), frees
 *  the SSL object and the slot. The caller closes the socket. */
void tls_conn_close(struct tls_worker *tw, int32_t id);
bool tls_conn_established(const struct tls_worker *tw, int32_t id);
/** Runs the handshake on: 1 when done (counted), TLS_WANT_*, or TLS_ERROR
 *  (counted by reason). */
int tls_conn_handshake(struct tls_worker *tw, int32_t id);
/** The client spoke plain HTTP to the TLS port (its first byte was a
 *  letter): the caller may answer it in plain text before closing. */
bool tls_conn_plain_http(const struct tls_worker *tw, int32_t id);
/** Records a handshake given up (timeout, drain). */
void tls_conn_fail(struct tls_worker *tw, int32_t id, enum tls_fail why);
/** Decrypted bytes, 0 at the end of the stream (close_notify or FIN), or
 *  TLS_WANT_* / TLS_ERROR. */
ssize_t tls_conn_read(struct tls_worker *tw, int32_t id, void *buf, size_t len);
/** Encrypts at most one record of @p buf into the socket: the bytes taken,
 *  or TLS_WANT_* / TLS_ERROR. After TLS_WANT_WRITE, call again with at
 *  least the same bytes (the record is already made and waits to go out). */
ssize_t tls_conn_write(struct tls_worker *tw, int32_t id, const void *buf, size_t len);

#endif
