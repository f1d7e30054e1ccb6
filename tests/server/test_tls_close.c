/**
 * @file test_tls_close.c
 * tls.c over a real stack socket (the tcpstack harness: a context with a
 * virtual clock, the peer's segments built by the test, the stack's frames
 * captured) against an OpenSSL client over memory BIOs: what goes on the
 * wire when a TLS connection is closed. close_notify is a record like any
 * other: it goes out whole or not at all, never a part of it followed by
 * the FIN (a client would see a truncated record, not the end of the
 * stream).
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
#include <openssl/ssl.h>

#include <rte_mempool.h>

#include "../tcpstack/harness.h"
#include "config.h"
#include "test_cert.h"
#include "tls.h"

#define SNDBUF 65536
#define COPYBUF 4096
/* TLS 1.3 with AES-128-GCM: header, content type, tag */
#define REC_OVERHEAD (5 + 1 + 16)
#define CLOSE_NOTIFY_LEN (REC_OVERHEAD + 2)

static char g_dir[64], g_cert[128], g_key[128];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/chttpd-tlsclose.XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_cert, sizeof g_cert, "%s/a.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/a.key", g_dir);
    test_cert_write("a.test", g_cert, g_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_cert);
    unlink(g_key);
    rmdir(g_dir);
    return 0;
}

static void tune(struct ts_params *p)
{
    p->sndbuf = SNDBUF;
    p->snd_copybuf = COPYBUF;
}

/* The test's connection: the stack's socket, our TLS slot on it, and the
 * client at the other end of the wire. */
struct wire {
    struct th h;
    struct th_conn c;
    struct tls_worker *tw;
    int32_t id;
    SSL *cli;
    BIO *cli_in, *cli_out; /* what the client reads, what it wrote */
    uint64_t from_server;  /* payload bytes the stack sent */
    bool fin;              /* the stack sent its FIN */
};

/* The stack's frames go to the client; nothing is acknowledged here. */
static void wire_pull(struct wire *w)
{
    ts_poll(w->h.ctx, w->h.now);
    for (unsigned i = 0; i < w->h.nout; i++) {
        struct th_seg s = th_out_tcp(&w->h, i);
        if (s.len > 0 && s.seq == w->c.rcv_nxt) {
            assert_int_equal(BIO_write(w->cli_in, s.data, (int)s.len), (int)s.len);
            w->c.rcv_nxt += s.len;
            w->from_server += s.len;
        }
        if ((s.flags & RTE_TCP_FIN_FLAG) && s.seq + s.len == w->c.rcv_nxt) {
            w->fin = true;
            w->c.rcv_nxt++;
        }
    }
    th_clear(&w->h);
}

/* What the client wrote goes to the stack, acknowledging all it got. */
static void wire_push(struct wire *w)
{
    uint8_t buf[1200];
    int n;
    do {
        n = BIO_read(w->cli_out, buf, sizeof buf);
        if (n < 0)
            n = 0;
        th_tcp(&w->h, TH_PEER_PORT, TH_PORT,
               RTE_TCP_ACK_FLAG | (n ? RTE_TCP_PSH_FLAG : 0), w->c.snd_nxt, w->c.rcv_nxt,
               65535, buf, (uint32_t)n);
        w->c.snd_nxt += (uint32_t)n;
    } while (n > 0);
}

static void wire_open(struct wire *w, struct tls_site *t, struct tls_stats *st,
                      struct rte_mempool *records, SSL_CTX *cctx)
{
    memset(w, 0, sizeof *w);
    th_init(&w->h, tune);
    th_peer_arp(&w->h);
    w->c.lfd = th_listen(&w->h);
    th_open(&w->h, &w->c, TH_PEER_PORT);
    w->tw = tls_worker_create(w->h.ctx, NULL, 4, st, records);
    assert_non_null(w->tw);
    tls_worker_sndbuf(w->tw, SNDBUF, COPYBUF);
    w->id = tls_conn_new(w->tw, t, 0, w->c.fd);
    assert_true(w->id >= 0);
    w->cli = SSL_new(cctx);
    w->cli_in = BIO_new(BIO_s_mem());
    w->cli_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(w->cli_in, -1);
    SSL_set_bio(w->cli, w->cli_in, w->cli_out);
    SSL_set_tlsext_host_name(w->cli, "a.test");
    SSL_set_connect_state(w->cli);
    int done = 0;
    for (int i = 0; i < 20 && !done; i++) {
        SSL_do_handshake(w->cli);
        wire_push(w);
        int rc = tls_conn_handshake(w->tw, w->id);
        assert_true(rc == 1 || rc == TLS_WANT_READ);
        wire_pull(w);
        done = rc == 1 && SSL_is_init_finished(w->cli);
    }
    assert_true(done);
    assert_true(tls_conn_established(w->tw, w->id));
    assert_int_equal(SSL_version(w->cli), TLS1_3_VERSION);
    wire_push(w); /* everything acknowledged: the copy ring is empty */
    th_clear(&w->h);
}

/* A response of @p n bytes, one record the client does not acknowledge yet,
 * read by the client; returns the stream's length before the close. */
static uint64_t wire_respond(struct wire *w, size_t n)
{
    static uint8_t body[TLS_RECORD];
    memset(body, 'x', sizeof body);
    assert_true(n <= sizeof body);
    assert_int_equal(tls_conn_write(w->tw, w->id, body, n), (ssize_t)n);
    wire_pull(w);
    uint8_t got[TLS_RECORD];
    assert_int_equal(SSL_read(w->cli, got, sizeof got), (int)n);
    return w->from_server;
}

/* Small responses (records under 512 bytes: copied into the socket, never
 * put in a record buffer), unacknowledged, until the copy ring has @p room
 * bytes left; returns the stream's length. */
static uint64_t wire_fill(struct wire *w, size_t room)
{
    size_t left = COPYBUF - room;
    uint64_t end = w->from_server;
    while (left > 0) {
        size_t rec = left < 400 + REC_OVERHEAD ? left : 400 + REC_OVERHEAD;
        assert_true(rec > REC_OVERHEAD);
        end = wire_respond(w, rec - REC_OVERHEAD);
        left -= rec;
    }
    return end;
}

/* Closes as the worker does (tls_conn_close, then ts_close), lets the client
 * acknowledge all, and returns the bytes sent after the response. */
static uint64_t wire_close(struct wire *w, uint64_t before)
{
    tls_conn_close(w->tw, w->id);
    assert_int_equal(ts_close(w->h.ctx, w->c.fd), 0);
    for (int i = 0; i < 8 && !w->fin; i++) {
        wire_pull(w);
        wire_push(w);
        th_advance(&w->h, 1000);
    }
    wire_pull(w);
    assert_true(w->fin);
    return w->from_server - before;
}

static void wire_free(struct wire *w)
{
    /* the peer's FIN, acknowledging ours: the connection is done */
    th_tcp(&w->h, TH_PEER_PORT, TH_PORT, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG,
           w->c.snd_nxt, w->c.rcv_nxt, 65535, NULL, 0);
    th_clear(&w->h);
    SSL_free(w->cli);
    tls_worker_free(w->tw);
    ts_close(w->h.ctx, w->c.lfd);
    th_advance(&w->h, 10000000);
    th_fini(&w->h);
}

/* The client's view of the end of the stream: 1 for close_notify. */
static int client_saw_close_notify(struct wire *w)
{
    uint8_t b[64];
    int n = SSL_read(w->cli, b, sizeof b);
    int e = SSL_get_error(w->cli, n);
    ERR_clear_error();
    return n == 0 && e == SSL_ERROR_ZERO_RETURN;
}

static struct tls_site *site(void)
{
    struct cfg c;
    char err[1024];
    cfg_defaults(&c);
    c.tls_listen = 443;
    c.tls_tickets = false; /* no NewSessionTicket on the wire */
    snprintf(c.tls_cert, sizeof c.tls_cert, "%s", g_cert);
    snprintf(c.tls_key, sizeof c.tls_key, "%s", g_key);
    snprintf(c.tls_ciphersuites, sizeof c.tls_ciphersuites, "TLS_AES_128_GCM_SHA256");
    struct tls_site *t = tls_site_build(&c, 1, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    return t;
}

static void test_close_notify(void **state)
{
    (void)state;
    struct tls_site *t = site();
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    struct tls_stats st = {0};
    struct wire w;

    /* room in the socket: close_notify, whole, then the FIN */
    wire_open(&w, t, &st, NULL, cctx);
    uint64_t before = wire_respond(&w, 1000);
    assert_int_equal(wire_close(&w, before), CLOSE_NOTIFY_LEN);
    assert_true(client_saw_close_notify(&w));
    wire_free(&w);

    /* the copy ring holds all but 10 bytes (the response is not
     * acknowledged), the send buffer has room: the alert would be cut
     * after 10 bytes; it is not sent at all */
    wire_open(&w, t, &st, NULL, cctx);
    before = wire_fill(&w, 10);
    uint64_t after = wire_close(&w, before);
    if (after != 0)
        fail_msg("%llu bytes after the response: %s", (unsigned long long)after,
                 after < CLOSE_NOTIFY_LEN ? "a part of close_notify, then the FIN"
                                          : "more than close_notify");
    assert_false(client_saw_close_notify(&w));
    wire_free(&w);

    /* the same with a record buffer free: close_notify goes whole, by
     * reference */
    struct rte_mempool *records =
        rte_mempool_create("tls_close_records", 15, TLS_RECORD_WIRE, 0, 0, NULL, NULL,
                           NULL, NULL, SOCKET_ID_ANY, 0);
    assert_non_null(records);
    wire_open(&w, t, &st, records, cctx);
    before = wire_fill(&w, 10);
    assert_int_equal(wire_close(&w, before), CLOSE_NOTIFY_LEN);
    assert_true(client_saw_close_notify(&w));
    wire_free(&w);
    assert_int_equal(rte_mempool_in_use_count(records), 0);
    rte_mempool_free(records);

    SSL_CTX_free(cctx);
    tls_site_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_notify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
