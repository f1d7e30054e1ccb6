/**
 * @file tls.c
 * HTTPS over the user-space stack (see tls.h): the contexts built from the
 * config, the ticket keys, and a worker's connections.
 *
 * Data path: the worker hands tls_conn_write() plaintext straight from the
 * file cache (or its header); OpenSSL encrypts it (AES-GCM on AES-NI, or
 * ChaCha20-Poly1305) into its record buffer, and our BIO copies the record
 * into a record buffer of the core's pool (DPDK memory) queued by reference
 * (ts_write_ref: the frames point into it until it is acknowledged), or,
 * with none free, into the socket's send buffer (ts_write). Incoming
 * records are read from the socket by the BIO (ts_read) and decrypted into
 * the worker's input buffer. OpenSSL's own buffers are released while a
 * connection is idle (SSL_MODE_RELEASE_BUFFERS), so an idle connection
 * keeps only its SSL object, its session and its cipher states.
 *
 * Sessions: no server-side cache; resumption is by session ticket
 * (stateless: the session encrypted under the ticket key) for TLS 1.3 and
 * 1.2. Tickets are sealed with AES-256-CBC + HMAC-SHA256 under the current
 * key and accepted under the current and the previous one, so a ticket
 * lives one to two rotation periods (its session's timeout is two).
 */
#include "tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <rte_mempool.h>

#include "ts_socket.h"

#define TLS_MAX_CERTS (1 + CFG_MAX_VHOSTS)

_Static_assert(TLS_RECORD == SSL3_RT_MAX_PLAIN_LENGTH &&
                   TLS_RECORD_WIRE == SSL3_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH +
                                          SSL3_RT_MAX_ENCRYPTED_OVERHEAD,
               "TLS_RECORD_WIRE holds the largest record OpenSSL writes");

/* ---- contexts ---- */

/* One certificate of the set, parsed once: the certificates are shared by
 * every core's context (read-only: OpenSSL counts references), the key is
 * copied into each (tls_ctx_new). */
struct tls_cert {
    X509 *leaf;
    STACK_OF(X509) * chain;
    EVP_PKEY *key;
    const char *names; /* the vhost's hosts, blank-separated; NULL: default */
};

/* One core's contexts: [0] the default certificate, then the vhosts'. */
struct tls_core {
    SSL_CTX *ctx[TLS_MAX_CERTS];
    const struct tls_site *site;
};

struct tls_site {
    unsigned n_certs, n_cores;
    struct tls_cert cert[TLS_MAX_CERTS];
    char names[TLS_MAX_CERTS][256];
    unsigned char *ocsp; /* DER, stapled to every handshake that asks */
    long ocsp_len;
    struct tls_core core[];
};

/* "INI:LINE: [section] key: PATH: reason" */
__attribute__((format(printf, 7, 8))) static void
tls_err(char *err, size_t errlen, const struct cfg *cfg, int line, const char *key,
        const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    char lib[256] = "";
    if (e)
        ERR_error_string_n(e, lib, sizeof lib);
    ERR_clear_error();
    snprintf(err, errlen, "%s:%d: %s: %s%s%s%s%s", cfg->path[0] ? cfg->path : "config",
             line, key, path ? path : "", path ? ": " : "", why, e ? " (" : "", lib);
    if (e && strlen(err) + 2 < errlen)
        strcat(err, ")");
}

/* An encrypted key is refused, never asked for: OpenSSL's default would
 * prompt on the terminal, and a service has none. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int tls_load_cert(struct tls_cert *tc, const struct cfg *cfg, const char *cert,
                         int cert_line, const char *certkey, const char *keyf,
                         int key_line, const char *keykey, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(cert, "r");
    if (!b) {
        tls_err(err, errlen, cfg, cert_line, certkey, cert, "cannot read: %s",
                strerror(errno ? errno : EIO));
        return -1;
    }
    tc->leaf = PEM_read_bio_X509_AUX(b, NULL, tls_no_passphrase, NULL);
    if (!tc->leaf) {
        BIO_free(b);
        tls_err(err, errlen, cfg, cert_line, certkey, cert,
                "no certificate in it (PEM expected)");
        return -1;
    }
    tc->chain = sk_X509_new_null();
    if (!tc->chain) {
        BIO_free(b);
        tls_err(err, errlen, cfg, cert_line, certkey, cert, "out of memory");
        return -1;
    }
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, tls_no_passphrase, NULL)) != NULL) {
        if (sk_X509_push(tc->chain, x) <= 0) {
            X509_free(x);
            BIO_free(b);
            tls_err(err, errlen, cfg, cert_line, certkey, cert, "out of memory");
            return -1;
        }
    }
    /* the end of the file is the expected way out of the loop */
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
        ERR_clear_error();
    BIO_free(b);
    if (ERR_peek_error()) {
        tls_err(err, errlen, cfg, cert_line, certkey, cert,
                "a certificate of the chain does not parse");
        return -1;
    }
    b = BIO_new_file(keyf, "r");
    if (!b) {
        tls_err(err, errlen, cfg, key_line, keykey, keyf, "cannot read: %s",
                strerror(errno ? errno : EIO));
        return -1;
    }
    tc->key = PEM_read_bio_PrivateKey(b, NULL, tls_no_passphrase, NULL);
    BIO_free(b);
    if (!tc->key) {
        tls_err(err, errlen, cfg, key_line, keykey, keyf,
                "no private key in it (PEM expected, without a passphrase)");
        return -1;
    }
    if (X509_check_private_key(tc->leaf, tc->key) != 1) {
        tls_err(err, errlen, cfg, key_line, keykey, keyf,
                "does not match the certificate %s", cert);
        return -1;
    }
    return 0;
}

/* SNI (RFC 6066 3): a name of a virtual host with a certificate switches
 * the handshake to that certificate's context; anything else (no name, an
 * unknown one) keeps the default certificate. */
static int tls_sni_cb(SSL *s, int *al, void *arg)
{
    (void)al;
    const struct tls_core *core = arg;
    const struct tls_site *t = core->site;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    if (!name)
        return SSL_TLSEXT_ERR_NOACK;
    size_t len = strlen(name);
    if (len > 1 && name[len - 1] == '.')
        len--;
    for (unsigned i = 1; i < t->n_certs; i++) {
        for (const char *p = t->cert[i].names; *p;) {
            size_t m = strcspn(p, " ");
            if (m == len && strncasecmp(p, name, len) == 0) {
                SSL_set_SSL_CTX(s, core->ctx[i]);
                return SSL_TLSEXT_ERR_OK;
            }
            p += m + (p[m] == ' ');
        }
    }
    return SSL_TLSEXT_ERR_OK;
}

/* ALPN (RFC 7301): http/1.1, the only protocol spoken; a client offering
 * ALPN without it gets no_application_protocol. */
static int tls_alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)s;
    (void)arg;
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* OCSP stapling (RFC 6066 8): the response read from [tls] ocsp_response,
 * a copy per handshake that asks (OpenSSL frees it). The response is about
 * the [tls] certificate only: a handshake that SNI moved to a virtual
 * host's certificate gets none (the callback runs once the certificate is
 * chosen), as a response for another certificate would fail the client's
 * check, or worse, mislead it. */
static int tls_status_cb(SSL *s, void *arg)
{
    const struct tls_site *t = arg;
    if (!t->ocsp || SSL_get_certificate(s) != t->cert[0].leaf)
        return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_memdup(t->ocsp, (size_t)t->ocsp_len);
    if (!copy)
        return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(s, copy, t->ocsp_len);
    return SSL_TLSEXT_ERR_OK;
}

static int tls_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc);

static SSL_CTX *tls_ctx_new(const struct cfg *cfg, struct tls_site *t, unsigned i,
                            struct tls_core *core, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_err(err, errlen, cfg, 0, "[tls]", NULL, "cannot make a TLS context");
        return NULL;
    }
    const struct tls_cert *c = &t->cert[i];
    const char *what = "[tls] certificate";
    /* The key is this core's own copy: OpenSSL 3.0 takes the key's locks
     * (RSA blinding, the provider's key data) while it signs, so a key
     * shared by every core's context would be a lock taken across cores on
     * every full handshake. The certificates are only read: shared. */
    EVP_PKEY *key = EVP_PKEY_dup(c->key);
    if (!key) {
        tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_KEY], "[tls] key", NULL,
                "cannot copy the private key for core %u", (unsigned)(core - t->core));
        goto fail;
    }
    int used = SSL_CTX_use_cert_and_key(ctx, c->leaf, key, c->chain, 1);
    EVP_PKEY_free(key); /* the context holds its reference */
    if (used != 1) {
        tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_CERT], what, NULL,
                "OpenSSL refused the certificate and key");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, cfg->tls_protocols & CFG_TLS12 ? TLS1_2_VERSION
                                                                      : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, cfg->tls_protocols & CFG_TLS13 ? TLS1_3_VERSION
                                                                      : TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1) {
        tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_CIPHERS], "[tls] ciphers",
                NULL, "'%s': no cipher OpenSSL knows", cfg->tls_ciphers);
        goto fail;
    }
    if (SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites) != 1) {
        tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_SUITES],
                "[tls] ciphersuites", NULL, "'%s': not TLS 1.3 suites OpenSSL knows",
                cfg->tls_ciphersuites);
        goto fail;
    }
    if (SSL_CTX_set1_groups_list(ctx, cfg->tls_groups) != 1) {
        tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_GROUPS], "[tls] groups",
                NULL, "'%s': not groups OpenSSL knows", cfg->tls_groups);
        goto fail;
    }
    SSL_CTX_set_dh_auto(ctx, 1); /* RFC 7919 groups for the DHE suites */
    /* no renegotiation (a client-triggered CPU cost), no compression
     * (CRIME) */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* Our order (AES-GCM first), except that a client putting ChaCha20
     * first (a phone without AES instructions) gets it; Mozilla's profile
     * leaves the order to the client, which is as safe since every suite
     * is strong, but scanners flag it */
    if (cfg->tls_server_order)
        SSL_CTX_set_options(ctx,
                            SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"corehttpd", 9);
    if (cfg->tls_tickets) {
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);
        /* a ticket opens while its key is the current or the previous
         * one: at most two periods (the lifetime hint clients get) */
        SSL_CTX_set_timeout(ctx, 2 * (long)cfg->tls_ticket_rotate_s);
        SSL_CTX_set_num_tickets(ctx, 1);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, tls_sni_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, core);
    SSL_CTX_set_tlsext_status_cb(ctx, tls_status_cb);
    SSL_CTX_set_tlsext_status_arg(ctx, t);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void tls_site_free(struct tls_site *t)
{
    if (!t)
        return;
    for (unsigned k = 0; k < t->n_cores; k++)
        for (unsigned i = 0; i < TLS_MAX_CERTS; i++)
            SSL_CTX_free(t->core[k].ctx[i]);
    for (unsigned i = 0; i < TLS_MAX_CERTS; i++) {
        X509_free(t->cert[i].leaf);
        sk_X509_pop_free(t->cert[i].chain, X509_free);
        EVP_PKEY_free(t->cert[i].key);
    }
    OPENSSL_free(t->ocsp);
    free(t);
}

unsigned tls_site_certs(const struct tls_site *t)
{
    return t ? t->n_certs : 0;
}

struct tls_site *tls_site_build(const struct cfg *cfg, unsigned n_cores, char *err,
                                size_t errlen)
{
    struct tls_site *t = calloc(1, sizeof *t + n_cores * sizeof t->core[0]);
    if (!t) {
        snprintf(err, errlen, "[tls]: out of memory");
        return NULL;
    }
    ERR_clear_error();
    t->n_cores = n_cores;
    if (tls_load_cert(&t->cert[0], cfg, cfg->tls_cert, cfg->tls_line[CFG_TLS_LINE_CERT],
                      "[tls] certificate", cfg->tls_key, cfg->tls_line[CFG_TLS_LINE_KEY],
                      "[tls] key", err, errlen) < 0)
        goto fail;
    t->n_certs = 1;
    for (unsigned i = 0; i < cfg->n_vhosts; i++) {
        const struct cfg_vhost *v = &cfg->vhost[i];
        if (!v->cert[0])
            continue;
        char ck[96], kk[96];
        snprintf(ck, sizeof ck, "[vhost %s] certificate", v->name);
        snprintf(kk, sizeof kk, "[vhost %s] key", v->name);
        struct tls_cert *c = &t->cert[t->n_certs];
        if (tls_load_cert(c, cfg, v->cert, v->cert_line, ck, v->key, v->key_line, kk, err,
                          errlen) < 0)
            goto fail;
        snprintf(t->names[t->n_certs], sizeof t->names[0], "%s", v->hosts);
        c->names = t->names[t->n_certs];
        t->n_certs++;
    }
    if (cfg->tls_ocsp[0]) {
        BIO *b = BIO_new_file(cfg->tls_ocsp, "rb");
        if (!b) {
            tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_OCSP],
                    "[tls] ocsp_response", cfg->tls_ocsp, "cannot read: %s",
                    strerror(errno ? errno : EIO));
            goto fail;
        }
        OCSP_RESPONSE *r = d2i_OCSP_RESPONSE_bio(b, NULL);
        BIO_free(b);
        if (!r) {
            tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_OCSP],
                    "[tls] ocsp_response", cfg->tls_ocsp,
                    "not an OCSP response (DER expected)");
            goto fail;
        }
        int n = i2d_OCSP_RESPONSE(r, &t->ocsp);
        OCSP_RESPONSE_free(r);
        if (n <= 0) {
            tls_err(err, errlen, cfg, cfg->tls_line[CFG_TLS_LINE_OCSP],
                    "[tls] ocsp_response", cfg->tls_ocsp, "cannot encode it again");
            goto fail;
        }
        t->ocsp_len = n;
    }
    for (unsigned k = 0; k < n_cores; k++) {
        t->core[k].site = t;
        for (unsigned i = 0; i < t->n_certs; i++) {
            t->core[k].ctx[i] = tls_ctx_new(cfg, t, i, &t->core[k], err, errlen);
            if (!t->core[k].ctx[i])
                goto fail;
        }
    }
    return t;
fail:
    tls_site_free(t);
    return NULL;
}

SSL_CTX *tls_site_ctx(const struct tls_site *t, unsigned core)
{
    return core < t->n_cores ? t->core[core].ctx[0] : NULL;
}

int tls_check(const struct cfg *cfg, char *err, size_t errlen)
{
    if (cfg->tls_listen == 0)
        return 0;
    struct tls_site *t = tls_site_build(cfg, 1, err, errlen);
    int rc = t ? 0 : -1;
    tls_site_free(t);
    return rc;
}

/* ---- ticket keys ---- */

static int tls_key_fill(struct tls_ticket_key *k)
{
    return RAND_bytes(k->name, sizeof k->name) == 1 &&
                   RAND_priv_bytes(k->aes, sizeof k->aes) == 1 &&
                   RAND_priv_bytes(k->hmac, sizeof k->hmac) == 1
               ? 0
               : -1;
}

struct tls_tickets *tls_tickets_create(uint32_t rotate_s)
{
    struct tls_tickets *tk = calloc(1, sizeof *tk);
    if (!tk)
        return NULL;
    tk->rotate_us = (uint64_t)rotate_s * 1000000;
    tk->next_us = 0; /* the first tick starts the period */
    if (tls_key_fill(&tk->slot[1]) < 0) {
        free(tk);
        return NULL;
    }
    atomic_init(&tk->gen, 1);
    return tk;
}

void tls_tickets_free(struct tls_tickets *tk)
{
    if (tk)
        OPENSSL_cleanse(tk->slot, sizeof tk->slot);
    free(tk);
}

bool tls_tickets_tick(struct tls_tickets *tk, uint64_t now_us)
{
    if (!tk)
        return false;
    if (tk->next_us == 0)
        tk->next_us = now_us + tk->rotate_us;
    if (now_us < tk->next_us)
        return false;
    uint64_t g = atomic_load_explicit(&tk->gen, memory_order_relaxed) + 1;
    if (tls_key_fill(&tk->slot[g % TLS_TICKET_SLOTS]) < 0)
        return false; /* tried again next tick */
    atomic_store_explicit(&tk->gen, g, memory_order_release);
    tk->next_us = now_us + tk->rotate_us;
    return true;
}

/* ---- a worker's connections ---- */

/* A connection: its SSL object and what the BIO needs. */
struct tls_slot {
    SSL *ssl;
    struct tls_worker *tw;
    int fd;
    int32_t next_free;
    bool established;
    bool first_read; /* the BIO has read the first byte */
    bool plain_http;
    bool failed;  /* counted already */
    bool closing; /* close_notify: written whole or not at all */
};

struct tls_worker {
    struct ts_ctx *ctx;
    struct tls_stats *st;
    struct tls_tickets *pub;
    uint64_t gen;                    /* of cur; 0: none yet */
    struct tls_ticket_key cur, prev; /* keys of generations gen and gen - 1 */
    bool prev_valid;                 /* gen > 1: prev was published */
    BIO_METHOD *bio;
    EVP_CIPHER *aes; /* fetched once: no provider lookup per ticket */
    struct rte_mempool *records;
    /* the socket's send buffer less its copy ring (tls_worker_sndbuf()):
     * a copy of n bytes fits whole once ts_send_space() >= n + copy_slack */
    size_t copy_slack;
    struct tls_slot *slots;
    uint32_t n, hwm;
    int32_t free_head;
    uint8_t scratch[TLS_RECORD];
};

/* A record buffer goes back to its pool (on the stack thread, once the
 * stack is done with its bytes). */
static void tls_record_release(void *buf)
{
    rte_mempool_put(rte_mempool_from_obj(buf), buf);
}

/* The BIO over a stack socket: its data is the connection's slot (slots
 * never move). EAGAIN becomes a retry, which SSL_* report as WANT_READ or
 * WANT_WRITE; the end of the stream and errors end the connection.
 *
 * Writes: OpenSSL hands over a whole record (or what is left of one). When
 * the socket has room for all of it and a record buffer is free, the bytes
 * are copied into the buffer and queued by reference: the frames point into
 * it, so the ciphertext is copied once, not twice (into the socket's copy
 * ring, then into the frames). Otherwise they are copied into the socket. */
/* close_notify (tls_conn_close): nothing calls again to send the rest of
 * it, so it goes whole or not at all; a part of it followed by the FIN
 * would be a truncated record to the client, an error where a skipped
 * alert is only an end of stream. By reference in a record buffer when one
 * is free (ts_write_ref takes it whole once the send buffer has room), else
 * copied when the copy ring surely has room: its bytes are a part of the
 * unacknowledged ones, so it has at least ts_send_space() - copy_slack
 * free. */
static ssize_t tls_sock_write_whole(struct tls_slot *s, const char *buf, size_t len)
{
    struct tls_worker *tw = s->tw;
    size_t space = ts_send_space(tw->ctx, s->fd);
    void *rec;
    ssize_t n = -1;
    errno = EAGAIN;
    if (space < len)
        return -1;
    if (tw->records && len <= TLS_RECORD_WIRE &&
        rte_mempool_get(tw->records, &rec) == 0) {
        memcpy(rec, buf, len);
        struct ts_ref_owner owner = {.release = tls_record_release, .arg = rec};
        n = ts_write_ref(tw->ctx, s->fd, rec, len, &owner);
        if (n < 0)
            rte_mempool_put(tw->records, rec);
        else
            tw->st->records_ref++;
    } else if (tw->copy_slack <= space - len) {
        n = ts_write(tw->ctx, s->fd, buf, len);
        if (n > 0)
            tw->st->records_copied++;
    }
    return n;
}

static int tls_sock_write(BIO *b, const char *buf, int len)
{
    struct tls_slot *s = BIO_get_data(b);
    struct tls_worker *tw = s->tw;
    BIO_clear_retry_flags(b);
    void *rec;
    ssize_t n;
    if (s->closing) {
        n = tls_sock_write_whole(s, buf, (size_t)len);
        if (n >= 0)
            return (int)n;
        if (errno == EAGAIN)
            BIO_set_retry_write(b);
        return -1;
    }
    if (tw->records && len >= 512 && (size_t)len <= TLS_RECORD_WIRE &&
        ts_send_space(tw->ctx, s->fd) >= (size_t)len &&
        rte_mempool_get(tw->records, &rec) == 0) {
        memcpy(rec, buf, (size_t)len);
        struct ts_ref_owner owner = {.release = tls_record_release, .arg = rec};
        n = ts_write_ref(tw->ctx, s->fd, rec, (size_t)len, &owner);
        if (n < 0)
            rte_mempool_put(tw->records, rec);
        else
            tw->st->records_ref++;
    } else {
        n = ts_write(tw->ctx, s->fd, buf, (size_t)len);
        if (n > 0)
            tw->st->records_copied++;
    }
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN)
        BIO_set_retry_write(b);
    return -1;
}

static int tls_sock_read(BIO *b, char *buf, int len)
{
    struct tls_slot *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = ts_read(s->tw->ctx, s->fd, buf, (size_t)len);
    if (n > 0) {
        if (!s->first_read) {
            /* a TLS connection starts with a handshake record (22); a
             * letter is an HTTP request line */
            s->first_read = true;
            s->plain_http = buf[0] >= 'A' && buf[0] <= 'Z';
        }
        return (int)n;
    }
    if (n == 0)
        return 0;
    if (errno == EAGAIN)
        BIO_set_retry_read(b);
    return -1;
}

static long tls_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int tls_sock_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* Session tickets (RFC 5077 format, RFC 8446 4.6.1): sealed under the
 * current key, opened under the current or the previous one (then renewed:
 * return 2). A ticket of an older key is not an error: a full handshake. */
static int tls_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
{
    struct tls_worker *tw = SSL_get_app_data(s);
    const struct tls_ticket_key *k;
    int rc = 1;
    if (!tw || tw->gen == 0)
        return enc ? -1 : 0;
    if (enc) {
        k = &tw->cur;
        if (RAND_bytes(iv, 16) != 1)
            return -1;
        memcpy(key_name, k->name, 16);
        if (EVP_EncryptInit_ex2(ctx, tw->aes, k->aes, iv, NULL) != 1)
            return -1;
    } else {
        if (memcmp(key_name, tw->cur.name, 16) == 0) {
            k = &tw->cur;
        } else if (tw->prev_valid && memcmp(key_name, tw->prev.name, 16) == 0) {
            k = &tw->prev;
            rc = 2;
        } else {
            return 0;
        }
        if (EVP_DecryptInit_ex2(ctx, tw->aes, k->aes, iv, NULL) != 1)
            return -1;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(hctx, k->hmac, sizeof k->hmac, params) != 1)
        return -1;
    return rc;
}

struct tls_worker *tls_worker_create(struct ts_ctx *ctx, struct tls_tickets *tickets,
                                     uint32_t max_conns, struct tls_stats *stats,
                                     struct rte_mempool *records)
{
    struct tls_worker *tw = calloc(1, sizeof *tw);
    if (!tw)
        return NULL;
    tw->ctx = ctx;
    tw->st = stats;
    tw->pub = tickets;
    tw->records = records;
    tw->n = max_conns;
    tw->copy_slack = SIZE_MAX; /* unknown: close_notify by reference only */
    tw->free_head = -1;
    tw->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                           "corehttpd stack socket");
    tw->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    /* address space: pages are committed as slots are first used */
    tw->slots = mmap(NULL, (size_t)max_conns * sizeof *tw->slots, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (tw->slots == MAP_FAILED)
        tw->slots = NULL;
    if (!tw->bio || !tw->aes || !tw->slots ||
        BIO_meth_set_write(tw->bio, tls_sock_write) != 1 ||
        BIO_meth_set_read(tw->bio, tls_sock_read) != 1 ||
        BIO_meth_set_ctrl(tw->bio, tls_sock_ctrl) != 1 ||
        BIO_meth_set_create(tw->bio, tls_sock_create) != 1) {
        tls_worker_free(tw);
        return NULL;
    }
    if (tw->pub)
        tls_worker_poll(tw);
    return tw;
}

void tls_worker_free(struct tls_worker *tw)
{
    if (!tw)
        return;
    if (tw->slots) {
        for (uint32_t i = 0; i < tw->hwm; i++)
            SSL_free(tw->slots[i].ssl); /* NULL when free */
        munmap(tw->slots, (size_t)tw->n * sizeof *tw->slots);
    }
    ERR_clear_error();
    BIO_meth_free(tw->bio);
    EVP_CIPHER_free(tw->aes);
    OPENSSL_cleanse(&tw->cur, sizeof tw->cur);
    OPENSSL_cleanse(&tw->prev, sizeof tw->prev);
    free(tw);
}

/* The keys of generations g and g - 1 as published, whatever this worker
 * saw before: a worker that missed a rotation (a long loop turn) still
 * opens the tickets other cores sealed under g - 1, and a worker that
 * starts after a rotation knows g - 1 too. Slot g - 1 is written again
 * when g + 3 is published (its bytes while gen is g + 2): a copy made while
 * gen moved that far may be torn, and is made again. */
void tls_worker_poll(struct tls_worker *tw)
{
    if (!tw->pub)
        return;
    uint64_t g = atomic_load_explicit(&tw->pub->gen, memory_order_acquire);
    if (g == tw->gen)
        return;
    for (;;) {
        tw->cur = tw->pub->slot[g % TLS_TICKET_SLOTS];
        tw->prev_valid = g > 1;
        if (tw->prev_valid)
            tw->prev = tw->pub->slot[(g - 1) % TLS_TICKET_SLOTS];
        atomic_thread_fence(memory_order_acquire);
        uint64_t now = atomic_load_explicit(&tw->pub->gen, memory_order_acquire);
        if (now < g + 2)
            break;
        g = now;
    }
    if (tw->gen != 0)
        tw->st->ticket_rotations++;
    tw->gen = g;
}

void tls_worker_sndbuf(struct tls_worker *tw, size_t sndbuf, size_t copied)
{
    tw->copy_slack = sndbuf > copied ? sndbuf - copied : 0;
}

uint8_t *tls_worker_scratch(struct tls_worker *tw)
{
    return tw->scratch;
}

int32_t tls_conn_new(struct tls_worker *tw, const struct tls_site *t, unsigned core,
                     int fd)
{
    int32_t id;
    if (!t || core >= t->n_cores)
        return -1;
    if (tw->free_head >= 0)
        id = tw->free_head;
    else if (tw->hwm < tw->n)
        id = (int32_t)tw->hwm;
    else
        return -1;
    struct tls_slot *s = &tw->slots[id];
    SSL *ssl = SSL_new(t->core[core].ctx[0]);
    BIO *b = ssl ? BIO_new(tw->bio) : NULL;
    if (!b) {
        SSL_free(ssl);
        ERR_clear_error();
        return -1;
    }
    if (id == tw->free_head)
        tw->free_head = s->next_free;
    else
        tw->hwm++;
    *s = (struct tls_slot){.ssl = ssl, .tw = tw, .fd = fd, .next_free = -1};
    BIO_set_data(b, s);
    SSL_set_bio(ssl, b, b);
    SSL_set_app_data(ssl, tw);
    SSL_set_accept_state(ssl);
    tw->st->open++;
    return id;
}

void tls_conn_close(struct tls_worker *tw, int32_t id)
{
    struct tls_slot *s = &tw->slots[id];
    if (s->established) {
        s->closing = true;
        SSL_shutdown(s->ssl); /* close_notify, if the socket takes all of it */
    }
    SSL_free(s->ssl);
    ERR_clear_error();
    s->ssl = NULL;
    s->next_free = tw->free_head;
    tw->free_head = id;
    tw->st->open--;
}

bool tls_conn_established(const struct tls_worker *tw, int32_t id)
{
    return tw->slots[id].established;
}

bool tls_conn_plain_http(const struct tls_worker *tw, int32_t id)
{
    return tw->slots[id].plain_http;
}

void tls_conn_fail(struct tls_worker *tw, int32_t id, enum tls_fail why)
{
    struct tls_slot *s = &tw->slots[id];
    if (s->established || s->failed)
        return;
    s->failed = true;
    tw->st->fail[why]++;
}

/* Why a handshake failed, from OpenSSL's error queue (then emptied). */
static enum tls_fail tls_classify(const struct tls_slot *s, int sslerr)
{
    if (s->plain_http)
        return TLS_FAIL_HTTP;
    if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN)
        return TLS_FAIL_CLOSED;
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        return TLS_FAIL_CLOSED;
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return TLS_FAIL_MALFORMED;
    int r = ERR_GET_REASON(e);
    switch (r) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_UNKNOWN_PROTOCOL:
        return TLS_FAIL_PROTOCOL;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        return TLS_FAIL_CIPHER;
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return TLS_FAIL_ALPN;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
        return TLS_FAIL_HTTP;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return TLS_FAIL_CLOSED;
    default:
        return r >= SSL_AD_REASON_OFFSET ? TLS_FAIL_ALERT : TLS_FAIL_MALFORMED;
    }
}

int tls_conn_handshake(struct tls_worker *tw, int32_t id)
{
    struct tls_slot *s = &tw->slots[id];
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->established = true;
        if (SSL_session_reused(s->ssl))
            tw->st->hs_resumed++;
        else
            tw->st->hs_full++;
        if (SSL_version(s->ssl) == TLS1_3_VERSION)
            tw->st->tls13++;
        else
            tw->st->tls12++;
        return 1;
    }
    int e = SSL_get_error(s->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TLS_WANT_WRITE;
    tls_conn_fail(tw, id, tls_classify(s, e));
    ERR_clear_error();
    return TLS_ERROR;
}

/* What an SSL_read() or SSL_write() that returned @p n means for the
 * caller: bytes, 0 at the peer's close_notify (reads only), or TLS_WANT_*
 * / TLS_ERROR. */
static ssize_t io_result(SSL *ssl, int n, bool reading)
{
    if (n > 0)
        return n;
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
        return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        if (reading)
            return 0;
        break;
    default:
        break;
    }
    ERR_clear_error();
    return TLS_ERROR;
}

ssize_t tls_conn_read(struct tls_worker *tw, int32_t id, void *buf, size_t len)
{
    SSL *ssl = tw->slots[id].ssl;
    return io_result(ssl, SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len),
                     true);
}

ssize_t tls_conn_write(struct tls_worker *tw, int32_t id, const void *buf, size_t len)
{
    SSL *ssl = tw->slots[id].ssl;
    return io_result(ssl, SSL_write(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len),
                     false);
}
