/**
 * @file test_tls.c
 * tls.c without a network: the contexts built from a config (and the
 * errors that name the file), a server SSL of ours against an OpenSSL
 * client over a memory BIO pair: the handshake, ALPN, resumption by ticket
 * across key rotations, and what an idle connection keeps in memory
 * (OpenSSL's allocations counted through CRYPTO_set_mem_functions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/params.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "test_cert.h"
#include "tls.h"

/* ---- OpenSSL's memory, counted: what the server side holds ---- */

struct mhdr {
    size_t size;
    int server;
    int pad;
};
static size_t g_server_live; /* bytes allocated on the server's side, live */
static int g_server;         /* set around the server's calls */

static void *m_alloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    struct mhdr *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    h->server = g_server;
    if (g_server)
        g_server_live += n;
    return h + 1;
}

static void m_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (!p)
        return;
    struct mhdr *h = (struct mhdr *)p - 1;
    if (h->server)
        g_server_live -= h->size;
    free(h);
}

static void *m_realloc(void *p, size_t n, const char *file, int line)
{
    if (!p)
        return m_alloc(n, file, line);
    struct mhdr *h = (struct mhdr *)p - 1;
    void *q = m_alloc(n, file, line);
    if (q) {
        memcpy(q, p, h->size < n ? h->size : n);
        m_free(p, file, line);
    }
    return q;
}

/* ---- a test PKI ---- */

static char g_dir[64];

static void tls_cfg(struct cfg *c, const char *cert, const char *key)
{
    cfg_defaults(c);
    c->tls_listen = 443;
    snprintf(c->path, sizeof c->path, "/etc/test.ini");
    snprintf(c->tls_cert, sizeof c->tls_cert, "%s", cert);
    snprintf(c->tls_key, sizeof c->tls_key, "%s", key);
    c->tls_line[CFG_TLS_LINE_CERT] = 11;
    c->tls_line[CFG_TLS_LINE_KEY] = 12;
    c->tls_line[CFG_TLS_LINE_CIPHERS] = 13;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/chttpd-tlsunit.XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    char c[128], k[128];
    snprintf(c, sizeof c, "%s/a.pem", g_dir);
    snprintf(k, sizeof k, "%s/a.key", g_dir);
    test_cert_write("a.test", c, k);
    snprintf(c, sizeof c, "%s/b.pem", g_dir);
    snprintf(k, sizeof k, "%s/b.key", g_dir);
    test_cert_write("b.test", c, k);
    snprintf(c, sizeof c, "%s/junk.pem", g_dir);
    FILE *f = fopen(c, "w");
    fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"a.pem", "a.key", "b.pem", "b.key", "junk.pem"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
    return 0;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

/* ---- contexts and their errors ---- */

static void build_fails(struct cfg *c, const char *want)
{
    char err[1024] = "";
    struct tls_site *t = tls_site_build(c, 2, err, sizeof err);
    if (t)
        tls_site_free(t);
    assert_null(t);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_load(void **state)
{
    (void)state;
    char cert[128], key[128], other[128], junk[128], err[1024];
    struct cfg c;
    path_of(cert, sizeof cert, "a.pem");
    path_of(key, sizeof key, "a.key");
    path_of(other, sizeof other, "b.key");
    path_of(junk, sizeof junk, "junk.pem");

    tls_cfg(&c, cert, key);
    struct tls_site *t = tls_site_build(&c, 2, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    assert_int_equal(tls_site_certs(t), 1);
    assert_non_null(tls_site_ctx(t, 1));
    assert_ptr_not_equal(tls_site_ctx(t, 0), tls_site_ctx(t, 1)); /* per core */
    /* each core signs with its own copy of the key (no lock shared across
     * cores), the same key */
    EVP_PKEY *k0 = SSL_CTX_get0_privatekey(tls_site_ctx(t, 0));
    EVP_PKEY *k1 = SSL_CTX_get0_privatekey(tls_site_ctx(t, 1));
    assert_non_null(k0);
    assert_non_null(k1);
    assert_ptr_not_equal(k0, k1);
    assert_int_equal(EVP_PKEY_eq(k0, k1), 1);
    tls_site_free(t);
    assert_int_equal(tls_check(&c, err, sizeof err), 0);

    tls_cfg(&c, "/nonexistent/x.pem", key);
    build_fails(&c,
                "/etc/test.ini:11: [tls] certificate: /nonexistent/x.pem: cannot read");
    tls_cfg(&c, junk, key);
    build_fails(&c, "/etc/test.ini:11: [tls] certificate: ");
    build_fails(&c, "junk.pem: no certificate in it (PEM expected)");
    tls_cfg(&c, cert, cert);
    build_fails(&c, "/etc/test.ini:12: [tls] key: ");
    build_fails(&c, "a.pem: no private key in it");
    tls_cfg(&c, cert, other);
    build_fails(&c, "b.key: does not match the certificate");
    /* an encrypted key is refused, not asked for */
    char enc[128];
    path_of(enc, sizeof enc, "enc.key");
    EVP_PKEY *k = EVP_EC_gen("P-256");
    FILE *f = fopen(enc, "w");
    assert_non_null(f);
    PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL,
                         NULL);
    fclose(f);
    EVP_PKEY_free(k);
    tls_cfg(&c, cert, enc);
    build_fails(&c, "enc.key: no private key in it (PEM expected, without a passphrase)");
    unlink(enc);
    tls_cfg(&c, cert, key);
    snprintf(c.tls_ciphers, sizeof c.tls_ciphers, "NO-SUCH-CIPHER");
    build_fails(&c, "/etc/test.ini:13: [tls] ciphers: 'NO-SUCH-CIPHER': no cipher");
    assert_int_equal(tls_check(&c, err, sizeof err), -1);
}

/* ---- handshakes over a memory BIO pair ---- */

struct pair {
    SSL *srv, *cli;
};

static void pair_open_sni(struct pair *p, SSL_CTX *sctx, SSL_CTX *cctx,
                          struct tls_worker *tw, SSL_SESSION *sess, const char *sni)
{
    BIO *bs, *bc;
    /* the pair's buffers stand for the sockets: not counted */
    assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
    g_server = 1;
    p->srv = SSL_new(sctx);
    SSL_set_bio(p->srv, bs, bs);
    SSL_set_app_data(p->srv, tw);
    SSL_set_accept_state(p->srv);
    g_server = 0;
    p->cli = SSL_new(cctx);
    SSL_set_bio(p->cli, bc, bc);
    SSL_set_tlsext_host_name(p->cli, sni);
    if (sess)
        SSL_set_session(p->cli, sess);
    SSL_set_connect_state(p->cli);
}

static void pair_open(struct pair *p, SSL_CTX *sctx, SSL_CTX *cctx, struct tls_worker *tw,
                      SSL_SESSION *sess)
{
    pair_open_sni(p, sctx, cctx, tw, sess, "a.test");
}

/* Runs both sides until the handshake is done (1) or fails (0). */
static int pair_handshake(struct pair *p)
{
    for (int i = 0; i < 20; i++) {
        int c = SSL_do_handshake(p->cli);
        g_server = 1;
        int s = SSL_do_handshake(p->srv);
        g_server = 0;
        if (c == 1 && s == 1)
            return 1;
        if ((c <= 0 && SSL_get_error(p->cli, c) == SSL_ERROR_SSL) ||
            (s <= 0 && SSL_get_error(p->srv, s) == SSL_ERROR_SSL))
            return 0;
    }
    return 0;
}

/* A request and its answer, so the client also reads the ticket. */
static void pair_exchange(struct pair *p)
{
    char buf[256];
    assert_int_equal(SSL_write(p->cli, "GET /", 5), 5);
    g_server = 1;
    int n = SSL_read(p->srv, buf, sizeof buf);
    g_server = 0;
    assert_int_equal(n, 5);
    g_server = 1;
    assert_int_equal(SSL_write(p->srv, "200 OK", 6), 6);
    n = SSL_read(p->srv, buf, sizeof buf); /* nothing: the read buffer is set up */
    g_server = 0;
    assert_true(n <= 0);
    assert_int_equal(SSL_read(p->cli, buf, sizeof buf), 6);
}

/* A clean close (an SSL freed without one marks its session not
 * resumable). */
static void pair_close(struct pair *p)
{
    SSL_shutdown(p->cli);
    g_server = 1;
    SSL_shutdown(p->srv);
    SSL_free(p->srv);
    g_server = 0;
    SSL_free(p->cli);
}

static SSL_CTX *client_ctx(const char *alpn, size_t alpn_len, int max_version)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
    if (alpn)
        SSL_CTX_set_alpn_protos(c, (const unsigned char *)alpn, (unsigned)alpn_len);
    if (max_version)
        SSL_CTX_set_max_proto_version(c, max_version);
    return c;
}

static void test_sessions(void **state)
{
    (void)state;
    char cert[128], key[128], err[1024];
    struct cfg c;
    path_of(cert, sizeof cert, "a.pem");
    path_of(key, sizeof key, "a.key");
    tls_cfg(&c, cert, key);
    g_server = 1;
    struct tls_site *t = tls_site_build(&c, 1, err, sizeof err);
    struct tls_tickets *tk = tls_tickets_create(60);
    struct tls_stats st = {0};
    struct tls_worker *tw = tls_worker_create(NULL, tk, 8, &st, NULL);
    g_server = 0;
    assert_non_null(t);
    assert_non_null(tw);
    SSL_CTX *sctx = tls_site_ctx(t, 0);

    for (int v = 0; v < 2; v++) {
        int ver = v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
        SSL_CTX *cctx = client_ctx("\x08http/1.1", 9, ver);
        struct pair p;
        /* a first connection fills OpenSSL's process-wide caches (fetched
         * algorithms, ...): the second one shows what a connection costs */
        pair_open(&p, sctx, cctx, tw, NULL);
        assert_int_equal(pair_handshake(&p), 1);
        pair_exchange(&p);
        pair_close(&p);
        size_t before = g_server_live;
        pair_open(&p, sctx, cctx, tw, NULL);
        assert_int_equal(pair_handshake(&p), 1);
        assert_int_equal(SSL_version(p.srv), ver);
        const unsigned char *sel;
        unsigned sel_len;
        SSL_get0_alpn_selected(p.cli, &sel, &sel_len);
        assert_int_equal(sel_len, 8);
        assert_memory_equal(sel, "http/1.1", 8);
        pair_exchange(&p);
        /* SSL_MODE_RELEASE_BUFFERS: the record buffers are gone once a
         * read finds nothing; what stays is the SSL object (7.6 KB in
         * OpenSSL 3.0), the session, the two AEAD states and small parts */
        size_t idle = g_server_live - before;
        print_message("idle %s connection: %zu bytes held by OpenSSL\n",
                      v == 0 ? "TLS 1.3" : "TLS 1.2", idle);
        assert_true(idle < 16384);
        SSL_SESSION *sess[3];
        sess[0] = SSL_get1_session(p.cli);
        pair_close(&p);
        /* TLS 1.3 tickets are single-use for OpenSSL's client: one each */
        for (int k = 1; k < 3; k++) {
            pair_open(&p, sctx, cctx, tw, NULL);
            assert_int_equal(pair_handshake(&p), 1);
            pair_exchange(&p);
            sess[k] = SSL_get1_session(p.cli);
            pair_close(&p);
        }
        for (int k = 0; k < 3; k++) {
            assert_non_null(sess[k]);
            assert_int_equal(SSL_SESSION_is_resumable(sess[k]), 1);
        }

        /* resumed under the current key */
        pair_open(&p, sctx, cctx, tw, sess[0]);
        assert_int_equal(pair_handshake(&p), 1);
        assert_int_equal(SSL_session_reused(p.srv), 1);
        pair_exchange(&p);
        pair_close(&p);

        /* one rotation: the previous key still opens a ticket */
        assert_false(tls_tickets_tick(tk, 1000)); /* the first tick starts the period */
        assert_false(tls_tickets_tick(tk, 1000 + 59000000ull));
        assert_true(tls_tickets_tick(tk, 1000 + 60000000ull));
        tls_worker_poll(tw);
        pair_open(&p, sctx, cctx, tw, sess[1]);
        assert_int_equal(pair_handshake(&p), 1);
        assert_int_equal(SSL_session_reused(p.srv), 1);
        pair_close(&p);

        /* two rotations: a full handshake, no error */
        assert_true(tls_tickets_tick(tk, 1000 + 2 * 60000000ull));
        tls_worker_poll(tw);
        pair_open(&p, sctx, cctx, tw, sess[2]);
        assert_int_equal(pair_handshake(&p), 1);
        assert_int_equal(SSL_session_reused(p.srv), 0);
        pair_close(&p);
        for (int k = 0; k < 3; k++)
            SSL_SESSION_free(sess[k]);
        SSL_CTX_free(cctx);
        tls_tickets_free(tk);
        tk = tls_tickets_create(60);
        tls_worker_free(tw);
        tw = tls_worker_create(NULL, tk, 8, &st, NULL);
    }
    assert_int_equal(st.ticket_rotations, 4); /* two per version */

    /* ALPN without http/1.1 */
    SSL_CTX *cctx = client_ctx("\x02h2", 3, 0);
    struct pair p;
    pair_open(&p, sctx, cctx, tw, NULL);
    assert_int_equal(pair_handshake(&p), 0);
    pair_close(&p);
    SSL_CTX_free(cctx);
    ERR_clear_error();

    tls_worker_free(tw);
    tls_tickets_free(tk);
    tls_site_free(t);
}

/* A server of the test's own that seals its tickets with an all-zero key
 * named by sixteen zero bytes: what a worker must never open. */
static int zero_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                          EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
{
    (void)s;
    static const unsigned char zero[32];
    if (!enc)
        return 0;
    memset(key_name, 0, 16);
    memset(iv, 0x5a, 16);
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, zero, iv) != 1)
        return -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_init(hctx, zero, sizeof zero, params) == 1 ? 1 : -1;
}

/* A session the client got from @p sctx (a full handshake and an
 * exchange, so that the ticket is read). */
static SSL_SESSION *session_from(SSL_CTX *sctx, SSL_CTX *cctx, struct tls_worker *tw)
{
    struct pair p;
    pair_open(&p, sctx, cctx, tw, NULL);
    assert_int_equal(pair_handshake(&p), 1);
    pair_exchange(&p);
    SSL_SESSION *sess = SSL_get1_session(p.cli);
    pair_close(&p);
    assert_non_null(sess);
    assert_int_equal(SSL_SESSION_is_resumable(sess), 1);
    return sess;
}

/* 1 when @p sess resumes on @p sctx with worker @p tw, 0 for a full
 * handshake. */
static int resumes(SSL_CTX *sctx, SSL_CTX *cctx, struct tls_worker *tw, SSL_SESSION *sess)
{
    struct pair p;
    pair_open(&p, sctx, cctx, tw, sess);
    assert_int_equal(pair_handshake(&p), 1);
    int r = SSL_session_reused(p.srv);
    pair_close(&p);
    return r;
}

/* Ticket keys are the published generations g and g - 1, whatever a worker
 * saw before: a worker that missed a rotation opens what another core
 * sealed under g - 1, and a worker whose first look finds g > 1 has a real
 * g - 1 key, never an unset (all-zero) one. */
static void test_ticket_generations(void **state)
{
    (void)state;
    char cert[128], key[128], err[1024];
    struct cfg c;
    path_of(cert, sizeof cert, "a.pem");
    path_of(key, sizeof key, "a.key");
    tls_cfg(&c, cert, key);
    struct tls_site *t = tls_site_build(&c, 2, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    struct tls_tickets *tk = tls_tickets_create(60);
    struct tls_stats sa = {0}, sb = {0};
    struct tls_worker *a = tls_worker_create(NULL, tk, 8, &sa, NULL);
    struct tls_worker *b = tls_worker_create(NULL, tk, 8, &sb, NULL);
    assert_non_null(a);
    assert_non_null(b);
    SSL_CTX *ca = tls_site_ctx(t, 0), *cb = tls_site_ctx(t, 1);

    uint64_t now = 1000;
    assert_false(tls_tickets_tick(tk, now)); /* the first tick starts the period */
    for (int v = 0; v < 2; v++) {
        SSL_CTX *cctx = client_ctx(NULL, 0, v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION);
        /* a new generation: core b takes it up and seals a ticket; core a
         * is busy and misses it */
        now += 60000000ull;
        assert_true(tls_tickets_tick(tk, now));
        tls_worker_poll(b);
        SSL_SESSION *sess = session_from(cb, cctx, b);
        /* the next one: a takes it up, two generations on from its own */
        now += 60000000ull;
        assert_true(tls_tickets_tick(tk, now));
        tls_worker_poll(a);
        tls_worker_poll(b);
        if (!resumes(ca, cctx, a, sess))
            fail_msg("TLS 1.%d: a ticket core b sealed under the previous key does not "
                     "resume on core a, which missed that key's rotation",
                     v == 0 ? 3 : 2);
        SSL_SESSION_free(sess);
        SSL_CTX_free(cctx);
    }
    assert_int_equal(sa.ticket_rotations, 2); /* a took up 3 and 5 */
    assert_int_equal(sb.ticket_rotations, 4);

    /* a worker starting at generation 5: a ticket sealed under an all-zero
     * key named by zeros is not opened (a full handshake) */
    struct tls_stats sc = {0};
    struct tls_worker *w = tls_worker_create(NULL, tk, 8, &sc, NULL);
    assert_non_null(w);
    SSL_CTX *forger = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate_file(forger, cert, SSL_FILETYPE_PEM), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(forger, key, SSL_FILETYPE_PEM), 1);
    SSL_CTX_set_session_id_context(forger, (const unsigned char *)"corehttpd", 9);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(forger, zero_ticket_cb);
    SSL_CTX_set_session_cache_mode(forger, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_alpn_select_cb(forger, NULL, NULL);
    for (int v = 0; v < 2; v++) {
        SSL_CTX *cctx = client_ctx(NULL, 0, v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION);
        SSL_SESSION *sess = session_from(forger, cctx, NULL);
        if (resumes(ca, cctx, w, sess))
            fail_msg("TLS 1.%d: a ticket under an all-zero key resumed", v == 0 ? 3 : 2);
        SSL_SESSION_free(sess);
        SSL_CTX_free(cctx);
    }
    assert_int_equal(sc.hs_resumed, 0);
    SSL_CTX_free(forger);
    ERR_clear_error();
    tls_worker_free(w);
    tls_worker_free(a);
    tls_worker_free(b);
    tls_tickets_free(tk);
    tls_site_free(t);
}

/* OCSP stapling: the response of [tls] ocsp_response belongs to the [tls]
 * certificate; a handshake that SNI moved to a virtual host's certificate
 * gets none, one naming the default (or no known) host gets it. */
static void test_ocsp_per_cert(void **state)
{
    (void)state;
    char cert[128], key[128], bcert[128], bkey[128], ocsp[128], err[1024];
    struct cfg c;
    path_of(cert, sizeof cert, "a.pem");
    path_of(key, sizeof key, "a.key");
    path_of(bcert, sizeof bcert, "b.pem");
    path_of(bkey, sizeof bkey, "b.key");
    path_of(ocsp, sizeof ocsp, "a.ocsp");
    /* any well-formed response will do: the server staples it as it is */
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
    assert_non_null(r);
    unsigned char *der = NULL;
    int der_len = i2d_OCSP_RESPONSE(r, &der);
    assert_true(der_len > 0);
    FILE *f = fopen(ocsp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(der, 1, (size_t)der_len, f), (size_t)der_len);
    fclose(f);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(r);

    tls_cfg(&c, cert, key);
    snprintf(c.tls_ocsp, sizeof c.tls_ocsp, "%s", ocsp);
    c.n_vhosts = 1;
    snprintf(c.vhost[0].name, sizeof c.vhost[0].name, "b");
    snprintf(c.vhost[0].hosts, sizeof c.vhost[0].hosts, "b.test");
    snprintf(c.vhost[0].cert, sizeof c.vhost[0].cert, "%s", bcert);
    snprintf(c.vhost[0].key, sizeof c.vhost[0].key, "%s", bkey);
    struct tls_site *t = tls_site_build(&c, 2, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    assert_int_equal(tls_site_certs(t), 2);
    struct tls_tickets *tk = tls_tickets_create(60);
    struct tls_stats st = {0};
    struct tls_worker *tw = tls_worker_create(NULL, tk, 8, &st, NULL);
    assert_non_null(tw);
    SSL_CTX *cctx = client_ctx(NULL, 0, 0);
    const struct {
        const char *sni, *cn;
        bool stapled;
    } cases[] = {{"a.test", "a.test", true},
                 {"b.test", "b.test", false},
                 {"B.TEST.", "b.test", false},
                 {"nosuch.test", "a.test", true}};
    for (unsigned core = 0; core < 2; core++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct pair p;
            pair_open_sni(&p, tls_site_ctx(t, core), cctx, tw, NULL, cases[i].sni);
            SSL_set_tlsext_status_type(p.cli, TLSEXT_STATUSTYPE_ocsp);
            assert_int_equal(pair_handshake(&p), 1);
            X509 *peer = SSL_get1_peer_certificate(p.cli);
            assert_non_null(peer);
            char cn[64] = "";
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn,
                                      sizeof cn);
            X509_free(peer);
            assert_string_equal(cn, cases[i].cn);
            const unsigned char *resp = NULL;
            long len = SSL_get_tlsext_status_ocsp_resp(p.cli, &resp);
            if (cases[i].stapled) {
                if (len != der_len)
                    fail_msg("SNI %s: stapled %ld bytes, expected the %d of the file",
                             cases[i].sni, len, der_len);
            } else if (len > 0 && resp != NULL) {
                fail_msg("SNI %s (certificate %s): stapled the [tls] certificate's "
                         "OCSP response (%ld bytes)",
                         cases[i].sni, cn, len);
            }
            pair_close(&p);
        }
    }
    SSL_CTX_free(cctx);
    tls_worker_free(tw);
    tls_tickets_free(tk);
    tls_site_free(t);
    unlink(ocsp);
}

int main(void)
{
    /* before OpenSSL allocates anything */
    CRYPTO_set_mem_functions(m_alloc, m_realloc, m_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_ticket_generations),
        cmocka_unit_test(test_ocsp_per_cert),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
