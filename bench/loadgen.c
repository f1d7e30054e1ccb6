/**
 * @file loadgen.c
 * The load generator: an HTTP/1.1 client built on our own stack (tcpstack)
 * and I/O engine (dpio), run in one thread pinned to one core: the stack
 * and the client take turns (lg_run), with none of the hand-overs of
 * corehttpd's thread pair, so that the server sets the pace.
 *
 * The client keeps -c connections busy (closed loop, as wrk does): on each,
 * it sends a GET for the next URL, reads the response (Content-Length
 * counted to the byte) and sends the next; with --close, every request goes
 * on a new connection (`Connection: close`, the server closes, we close
 * after its FIN). With --hold it opens -c connections, sends one request on
 * each, reads the answer and keeps them idle to the end. Connections take
 * their source address in turn from --src, so one client looks like many.
 *
 * Data enters through ts_read into one scratch buffer and leaves as
 * requests prebuilt at start-up and written by reference. Per request there
 * is no allocation and no system call; latencies go to a fixed-size
 * histogram (lg_hist.h). A second thread, asleep but once a second, prints
 * progress to stderr from the client's counters.
 *
 * Addresses: the stack owns one contiguous range of addresses (ts_params ip
 * + ip_count). It spans --ip (our interface address, the one the server's
 * gateway or ARP names) and the --src block, so that the server can route
 * every source through one gateway (us) with a single ARP entry.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_random.h>

#include "dpio.h"
#include "dpio_pair.h"
#include "lg_hist.h"
#include "lg_parse.h"
#include "ts.h"
#include "ts_socket.h"

#define LG_MAX_URLS 64
#define LG_EVENTS 256
/* Bytes read at a time before a body's length is known: the headers and
 * little more, as every byte read after them is a copy that counting the
 * body can do without (the rest is taken unread, conn_read). */
#define LG_SCRATCH 2048
#define LG_REQ_MAX 768
/* bytes of a body promised unread per call (ts_read_unread_ahead) */
#define LG_UNREAD_MAX (256u << 20)
#define LG_SWEEP_US 100000u /* how often deadlines are checked */
#define LG_BURST 32
#define LG_IDLE_SLEEP_US 1000u /* --no-busy-poll: at most this long asleep */
/* The clock starts at the server's first handshake: until then one connect
 * at a time, tried again every second, for at most 30 s (a server started
 * after us, as the memif client role must be, is not measured coming up). */
#define LG_WAIT_SERVER_US 30000000u
#define LG_WAIT_CONNECT_US 1000000u /* a connect not answered: a new one */
#define LG_WAIT_RETRY_US 100000u    /* after a refused or failed connect */

/* ------------------------------------------------------------ settings */

struct lg_opts {
    unsigned conns;
    unsigned duration_s;
    bool close;
    bool hold;
    bool busy_poll;
    bool quiet;
    unsigned timeout_ms;
    unsigned max_pending;
    const char *port;
    unsigned core;
    uint32_t ip, netmask, gateway;
    uint32_t src_first, src_count; /* the source block */
    uint32_t server_ip;
    uint16_t server_port;
    bool have_server;
    const char *eal_args;
    unsigned memory_mb;
    bool hugepages;
    bool trust_link; /* frames are taken as checksummed */
    uint32_t rcvbuf;
    struct lg_url urls[LG_MAX_URLS];
    unsigned n_urls;
};

/* ------------------------------------------------------------ state */

enum lg_cstate {
    C_FREE,       /* no socket */
    C_CONNECTING, /* SYN sent */
    C_SENDING,    /* request partly written */
    C_READING,    /* waiting for (the rest of) the response */
    C_DRAINING,   /* response done, waiting for the server's FIN */
    C_HELD,       /* --hold: answered, kept idle */
};

struct lg_conn {
    int fd;
    uint8_t state;
    bool want_out; /* registered for EPOLLOUT */
    uint16_t url;
    uint32_t laddr;
    uint32_t req_off; /* bytes of the request written */
    uint64_t t_start; /* connect or request start, for latency and timeouts */
    uint64_t retry_us;
    uint32_t on_conn; /* requests answered on this connection */
    struct lg_resp resp;
};

/* Counters written by the client, read by the progress thread. */
struct lg_counters {
    _Atomic uint64_t requests; /* complete 2xx responses */
    _Atomic uint64_t connects; /* handshakes completed */
    _Atomic uint64_t bytes;    /* response bytes read */
    _Atomic uint64_t err_connect, err_reset, err_timeout, err_status, err_short,
        err_closed, err_proto;
    _Atomic uint64_t open; /* established connections (held ones in --hold) */
};

struct lg {
    struct lg_opts o;
    struct ts_ctx *ctx;
    int ep;
    struct lg_conn *c;
    uint32_t *idle; /* FIFO ring of slots to open, oldest first */
    uint32_t idle_head, idle_n;
    uint32_t next_src;
    uint32_t pending; /* handshakes in progress (bounded by max_pending) */
    bool bind_src;    /* the source block is not the whole stack range */
    char req[LG_MAX_URLS][LG_REQ_MAX];
    uint32_t req_len[LG_MAX_URLS];
    uint32_t next_url;
    uint64_t t_begin, t_end, t_last_sweep;
    struct lg_hist hist;
    struct lg_counters k;
    uint8_t scratch[LG_SCRATCH];
    int error; /* a start-up failure of the client (errno) */
    /* until when the server's first handshake is awaited; 0: the clock runs */
    uint64_t wait_until;
    _Atomic int running;
};

static _Atomic int lg_stop; /* set by a signal handler, read by the threads */

static void on_signal(int sig)
{
    (void)sig;
    lg_stop = 1;
}

static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t errors_total(const struct lg_counters *k)
{
    return get(&k->err_connect) + get(&k->err_reset) + get(&k->err_timeout) +
           get(&k->err_status) + get(&k->err_short) + get(&k->err_closed) +
           get(&k->err_proto);
}

/* ------------------------------------------------------------ connections */

static void idle_push(struct lg *g, struct lg_conn *c)
{
    g->idle[(g->idle_head + g->idle_n) % g->o.conns] = (uint32_t)(c - g->c);
    g->idle_n++;
}

static void conn_watch(struct lg *g, struct lg_conn *c, bool out)
{
    if (c->want_out == out)
        return;
    struct ts_epoll_event ev = {
        .events = TS_EPOLLIN | TS_EPOLLRDHUP | (out ? TS_EPOLLOUT : 0),
        .data = (uint64_t)(c - g->c),
    };
    ts_epoll_ctl(g->ctx, g->ep, TS_EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* Ends the connection; @p err_counter (may be NULL) says why it counts as an
 * error. The slot is opened again by lg_open_more(). */
static void conn_end(struct lg *g, struct lg_conn *c, _Atomic uint64_t *err_counter)
{
    if (g->wait_until) { /* the server is not up yet: not an error, try again */
        err_counter = NULL;
        c->retry_us = dpio_now_us() + LG_WAIT_RETRY_US;
    }
    if (err_counter)
        bump(err_counter, 1);
    if (c->state == C_CONNECTING)
        g->pending--;
    if (c->state != C_CONNECTING)
        atomic_fetch_sub_explicit(&g->k.open, 1, memory_order_relaxed);
    ts_close(g->ctx, c->fd);
    c->fd = -1;
    c->state = C_FREE;
    if (!(g->o.hold && c->on_conn > 0)) /* a held connection is not replaced */
        idle_push(g, c);
}

static void conn_send(struct lg *g, struct lg_conn *c, uint64_t now)
{
    if (c->state != C_SENDING) {
        c->state = C_SENDING;
        c->req_off = 0;
        c->url = (uint16_t)g->next_url;
        g->next_url = g->next_url + 1 < g->o.n_urls ? g->next_url + 1 : 0;
        c->t_start = now;
        lg_resp_init(&c->resp);
    }
    const char *req = g->req[c->url];
    uint32_t len = g->req_len[c->url];
    while (c->req_off < len) {
        /* the prebuilt requests live as long as the program: no release */
        ssize_t n = ts_write_ref(g->ctx, c->fd, req + c->req_off, len - c->req_off, NULL);
        if (n < 0) {
            if (errno == EAGAIN) {
                conn_watch(g, c, true);
                return;
            }
            conn_end(g, c, &g->k.err_reset);
            return;
        }
        c->req_off += (uint32_t)n;
    }
    conn_watch(g, c, false);
    c->state = C_READING;
}

static void conn_connected(struct lg *g, struct lg_conn *c, uint64_t now)
{
    if (g->wait_until) { /* the server answers: the clock starts */
        g->wait_until = 0;
        g->t_begin = now;
        g->t_end = now + (uint64_t)g->o.duration_s * 1000000;
        atomic_store(&g->running, 1);
    }
    g->pending--;
    bump(&g->k.connects, 1);
    atomic_fetch_add_explicit(&g->k.open, 1, memory_order_relaxed);
    c->on_conn = 0;
    conn_send(g, c, now);
}

/* A whole response is in. */
static void conn_answered(struct lg *g, struct lg_conn *c, uint64_t now)
{
    struct lg_resp *r = &c->resp;
    c->on_conn++;
    lg_hist_record(&g->hist, now - c->t_start);
    if (r->status >= 200 && r->status < 300)
        bump(&g->k.requests, 1);
    else
        bump(&g->k.err_status, 1);
    if (g->o.hold) {
        c->state = C_HELD;
        return;
    }
    if (g->o.close || r->close) {
        c->state = C_DRAINING; /* the server closes: wait for its FIN */
        c->t_start = now;
        return;
    }
    conn_send(g, c, now);
}

/* Reads what is there and runs the response parser over it. The rest of a
 * body is consumed uncopied, as it is only counted (a copy of every byte
 * was a tenth of the load generator's core at 1 MB responses), and the
 * stack is told so, so that it does not copy the bytes still to come into
 * the receive buffer either (another tenth). */
static void conn_read(struct lg *g, struct lg_conn *c, uint64_t now)
{
    for (;;) {
        uint64_t body = c->state == C_READING ? lg_resp_body_left(&c->resp) : 0;
        uint8_t *buf = body ? NULL : g->scratch;
        if (body) /* each time: one call promises at most LG_UNREAD_MAX */
            ts_read_unread_ahead(g->ctx, c->fd,
                                 body < LG_UNREAD_MAX ? body : LG_UNREAD_MAX);
        ssize_t n = ts_read(g->ctx, c->fd, buf, body ? body : sizeof(g->scratch));
        if (n < 0) {
            if (errno == EAGAIN)
                return;
            conn_end(g, c, &g->k.err_reset);
            return;
        }
        if (n == 0) { /* the server closed */
            if (c->state == C_DRAINING) {
                conn_end(g, c, NULL);
            } else if (c->state == C_READING) {
                conn_end(g, c,
                         lg_resp_in_body(&c->resp) ? &g->k.err_short : &g->k.err_closed);
            } else {
                conn_end(g, c, &g->k.err_closed); /* a held or idle one */
            }
            return;
        }
        bump(&g->k.bytes, (uint64_t)n);
        if (c->state != C_READING) { /* nothing was asked */
            conn_end(g, c, &g->k.err_proto);
            return;
        }
        size_t used;
        enum lg_resp_rc rc = lg_resp_feed(&c->resp, buf, (size_t)n, &used);
        if (rc == LG_RESP_ERROR || (rc == LG_RESP_DONE && used != (size_t)n)) {
            conn_end(g, c, &g->k.err_proto);
            return;
        }
        if (rc == LG_RESP_DONE) {
            conn_answered(g, c, now);
            if (c->state == C_SENDING || c->state == C_FREE)
                return; /* the next request waits for EPOLLOUT, or failed */
        }
    }
}

static void conn_event(struct lg *g, struct lg_conn *c, uint32_t ev, uint64_t now)
{
    if (c->state == C_CONNECTING) {
        if (ev & (TS_EPOLLERR | TS_EPOLLHUP)) {
            conn_end(g, c, &g->k.err_connect);
            return;
        }
        if (ev & TS_EPOLLOUT)
            conn_connected(g, c, now);
        if (c->state == C_FREE)
            return;
    } else if (c->state == C_SENDING && (ev & TS_EPOLLOUT)) {
        conn_send(g, c, now);
        if (c->state == C_FREE)
            return;
    }
    if (ev & (TS_EPOLLIN | TS_EPOLLRDHUP | TS_EPOLLERR | TS_EPOLLHUP))
        conn_read(g, c, now);
}

/* Opens slot @p c: a socket from the next source address, SYN on its way. */
static void conn_open(struct lg *g, struct lg_conn *c, uint64_t now)
{
    int fd = ts_socket(g->ctx);
    if (fd < 0) {
        c->retry_us = now + 10000; /* out of sockets: try again shortly */
        bump(&g->k.err_connect, 1);
        idle_push(g, c);
        return;
    }
    c->fd = fd;
    c->laddr = g->o.src_first + g->next_src;
    g->next_src = g->next_src + 1 < g->o.src_count ? g->next_src + 1 : 0;
    if ((g->bind_src && ts_bind(g->ctx, fd, c->laddr, 0) != 0) ||
        (ts_connect(g->ctx, fd, g->o.server_ip, g->o.server_port) != 0 &&
         errno != EINPROGRESS)) {
        ts_close(g->ctx, fd);
        c->fd = -1;
        c->retry_us = now + 10000; /* no port free for this pair */
        bump(&g->k.err_connect, 1);
        idle_push(g, c);
        return;
    }
    struct ts_epoll_event ev = {.events = TS_EPOLLIN | TS_EPOLLOUT | TS_EPOLLRDHUP,
                                .data = (uint64_t)(c - g->c)};
    ts_epoll_ctl(g->ctx, g->ep, TS_EPOLL_CTL_ADD, fd, &ev);
    c->want_out = true;
    c->state = C_CONNECTING;
    c->t_start = now;
    c->on_conn = 0;
    g->pending++;
}

/* Keeps every slot busy, with at most max_pending handshakes in progress
 * (a burst of SYNs larger than the rings would only
 * be dropped and retransmitted a second later). Until the first handshake
 * completes, one at a time: the server's MAC is not known yet, and the
 * stack holds only a few frames while it asks. */
static void lg_open_more(struct lg *g, uint64_t now)
{
    uint32_t cap = get(&g->k.connects) ? g->o.max_pending : 1;
    while (g->idle_n > 0 && g->pending < cap) {
        struct lg_conn *c = &g->c[g->idle[g->idle_head]];
        if (now < c->retry_us)
            return; /* the oldest waits: so do the others (same delay) */
        g->idle_head = (g->idle_head + 1) % g->o.conns;
        g->idle_n--;
        conn_open(g, c, now);
    }
}

/* Requests or handshakes older than the timeout are errors. */
static void lg_sweep(struct lg *g, uint64_t now)
{
    uint64_t limit =
        g->wait_until ? LG_WAIT_CONNECT_US : (uint64_t)g->o.timeout_ms * 1000;
    for (uint32_t i = 0; i < g->o.conns; i++) {
        struct lg_conn *c = &g->c[i];
        if (c->state == C_FREE || c->state == C_HELD || now - c->t_start < limit)
            continue;
        conn_end(g, c, c->state == C_DRAINING ? NULL : &g->k.err_timeout);
    }
}

/* ------------------------------------------------------------ client */

static int lg_setup(struct lg *g)
{
    g->c = calloc(g->o.conns, sizeof(*g->c));
    g->idle = calloc(g->o.conns, sizeof(*g->idle));
    if (g->c == NULL || g->idle == NULL)
        return ENOMEM;
    for (uint32_t i = 0; i < g->o.conns; i++) {
        g->c[i].fd = -1;
        idle_push(g, &g->c[i]);
    }
    g->ep = ts_epoll_create(g->ctx);
    return g->ep < 0 ? errno : 0;
}

/* One turn of the client: open what may be opened, take the events that
 * are ready (without waiting: the stack runs between turns, in this
 * thread), check deadlines now and then. False once the run is over. */
static bool lg_turn(struct lg *g)
{
    struct ts_epoll_event evs[LG_EVENTS];
    uint64_t now = dpio_now_us();
    if (g->wait_until && now >= g->wait_until)
        g->error = ETIMEDOUT;
    if (g->error != 0 || lg_stop || (!g->wait_until && now >= g->t_end))
        return false;
    lg_open_more(g, now);
    int n = ts_epoll_wait(g->ctx, g->ep, evs, LG_EVENTS, 0);
    for (int i = 0; i < n; i++) {
        struct lg_conn *c = &g->c[evs[i].data];
        if (c->state != C_FREE)
            conn_event(g, c, evs[i].events, now);
    }
    if (now - g->t_last_sweep >= LG_SWEEP_US) {
        g->t_last_sweep = now;
        lg_sweep(g, now);
    }
    return true;
}

/* --trust-link: marks the frames' checksums good, as a NIC that checked
 * them would, so the stack does not sum every payload byte. For a link of
 * shared memory (memif), which cannot corrupt a frame; the kernel's
 * loopback, which the other servers are measured over, likewise neither
 * computes nor checks checksums. The server still computes its own. */
static void lg_trust(struct rte_mbuf **pkts, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        pkts[i]->ol_flags = (pkts[i]->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
                                                   RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
                            RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

/* The stack and the client take turns in one thread, on one core: rx burst
 * -> ts_input -> ts_poll -> the client's turn -> ts_poll (its commands,
 * output) -> tx flush. The load generator measures the server; as a pair
 * of threads (corehttpd's design) its hand-overs, two context switches a
 * turn and a round trip for every connect, took about half of its core,
 * and with Connection: close it, not the server, set the pace. */
static void lg_run(struct lg *g, struct dpio_queue *q)
{
    struct rte_mbuf *pkts[LG_BURST];
    g->error = lg_setup(g);
    uint64_t now = dpio_now_us();
    g->t_begin = g->t_end = now;
    g->wait_until = now + LG_WAIT_SERVER_US; /* the clock starts at the first handshake */
    for (;;) {
        uint16_t n = dpio_rx_burst(q, pkts, LG_BURST);
        now = dpio_now_us();
        if (n) {
            if (g->o.trust_link)
                lg_trust(pkts, n);
            ts_input(g->ctx, pkts, n, now);
        }
        ts_poll(g->ctx, now);
        if (!lg_turn(g))
            break;
        ts_poll(g->ctx, dpio_now_us());
        dpio_tx_flush(q);
        if (n == 0 && !g->o.busy_poll) {
            uint64_t until = ts_next_deadline(g->ctx);
            uint64_t t = until > now ? until - now : 0;
            if (t > 0) {
                ts_idle(g->ctx);
                dpio_queue_sleep(q, t < LG_IDLE_SLEEP_US ? t : LG_IDLE_SLEEP_US);
            }
        }
    }
    now = dpio_now_us();
    g->t_end = now < g->t_end ? now : g->t_end;
    atomic_store(&g->running, 0);
    lg_stop = 1; /* the progress thread stops */
    dpio_tx_flush(q);
}

/* ------------------------------------------------------------ progress */

static void *lg_progress(void *arg)
{
    struct lg *g = arg;
    uint64_t last_req = 0, last_conn = 0, last_bytes = 0;
    unsigned sec = 0;
    while (!atomic_load(&g->running) && !lg_stop)
        usleep(1000);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!lg_stop) {
        next.tv_sec++;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        if (lg_stop || !atomic_load(&g->running))
            break;
        uint64_t req = get(&g->k.requests), conn = get(&g->k.connects),
                 bytes = get(&g->k.bytes);
        fprintf(
            stderr,
            "loadgen: %us requests/s=%lu conn/s=%lu gbit/s=%.3f open=%lu errors=%lu\n",
            ++sec, req - last_req, conn - last_conn, (double)(bytes - last_bytes) * 8e-9,
            get(&g->k.open), errors_total(&g->k));
        last_req = req;
        last_conn = conn;
        last_bytes = bytes;
    }
    return NULL;
}

/* ------------------------------------------------------------ command line */

static void usage(FILE *f)
{
    fprintf(
        f, "usage: loadgen [-c CONNS] [-d SECONDS] [--close] [--src CIDR] [--hold] "
           "--port SPEC [options] URL...\n"
           "  -c, --connections N  connections kept busy (default 10)\n"
           "  -d, --duration S     seconds (default 10)\n"
           "      --close          Connection: close, a new connection per request\n"
           "      --hold           open N connections, one request each, keep them idle\n"
           "      --src CIDR       source addresses, taken in turn (default: --ip)\n"
           "  URL                  /path (to --server) or http://A.B.C.D[:PORT]/path; "
           "requests cycle over them\n"
           "      --port SPEC      DPDK port (a vdev spec such as "
           "net_memif0,role=client,socket=/run/x.sock) or PCI address\n"
           "      --core N         CPU to run on (default 0)\n"
           "      --ip A.B.C.D/N   our interface address (default 198.18.0.254/24)\n"
           "      --gateway A.B.C.D  router for an off-subnet server (default none)\n"
           "      --server A.B.C.D[:PORT]  the server (default: from the URLs)\n"
           "      --timeout MS     a connect or request not answered in this long is an "
           "error (default 5000)\n"
           "      --max-pending N  handshakes in progress at once "
           "(default 256)\n"
           "      --rcvbuf BYTES   receive buffer per connection (default 65536)\n"
           "      --eal ARGS       extra EAL arguments (e.g. --file-prefix=lg)\n"
           "      --memory-mb N    EAL memory (default 256)\n"
           "      --hugepages      run the EAL on hugepages (default: --no-huge)\n"
           "      --no-busy-poll   sleep when idle instead of polling the port\n"
           "      --trust-link     take frames as checksummed (a link of shared memory, "
           "like the kernel's loopback)\n"
           "  -q, --quiet          no progress lines\n"
           "The last line is: loadgen: requests=N errors=N rps=N conn_per_s=N gbit_s=N "
           "p50_us=N p99_us=N open=N\n");
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || end == s || *end != '\0' || x < lo || x > hi || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static int parse_args(int argc, char **argv, struct lg_opts *o)
{
    enum {
        O_CLOSE = 256,
        O_HOLD,
        O_SRC,
        O_PORT,
        O_CORE,
        O_IP,
        O_GW,
        O_SERVER,
        O_TIMEOUT,
        O_PENDING,
        O_RCVBUF,
        O_EAL,
        O_MEM,
        O_HUGE,
        O_NOBUSY,
        O_TRUST,
    };
    static const struct option opts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"close", no_argument, NULL, O_CLOSE},
        {"hold", no_argument, NULL, O_HOLD},
        {"src", required_argument, NULL, O_SRC},
        {"port", required_argument, NULL, O_PORT},
        {"core", required_argument, NULL, O_CORE},
        {"ip", required_argument, NULL, O_IP},
        {"gateway", required_argument, NULL, O_GW},
        {"server", required_argument, NULL, O_SERVER},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"max-pending", required_argument, NULL, O_PENDING},
        {"rcvbuf", required_argument, NULL, O_RCVBUF},
        {"eal", required_argument, NULL, O_EAL},
        {"memory-mb", required_argument, NULL, O_MEM},
        {"hugepages", no_argument, NULL, O_HUGE},
        {"no-busy-poll", no_argument, NULL, O_NOBUSY},
        {"trust-link", no_argument, NULL, O_TRUST},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->conns = 10;
    o->duration_s = 10;
    o->timeout_ms = 5000;
    o->max_pending = 256;
    o->busy_poll = true;
    o->memory_mb = 256;
    o->rcvbuf = 65536;
    o->eal_args = "";
    lg_ipv4_parse("198.18.0.254", &o->ip);
    o->netmask = 0xffffff00u;
    bool have_src = false;
    unsigned long v;
    int opt;
    char err[256];
    while ((opt = getopt_long(argc, argv, "c:d:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (parse_uint(optarg, 1, 10000000, &v) != 0)
                goto bad;
            o->conns = (unsigned)v;
            break;
        case 'd':
            if (parse_uint(optarg, 1, 86400, &v) != 0)
                goto bad;
            o->duration_s = (unsigned)v;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case O_CLOSE:
            o->close = true;
            break;
        case O_HOLD:
            o->hold = true;
            break;
        case O_SRC:
            if (lg_cidr_parse(optarg, &o->src_first, &o->src_count) != 0 ||
                o->src_count == 0)
                goto bad;
            have_src = true;
            break;
        case O_PORT:
            o->port = optarg;
            break;
        case O_CORE:
            if (parse_uint(optarg, 0, 1023, &v) != 0)
                goto bad;
            o->core = (unsigned)v;
            break;
        case O_IP: {
            char a[32];
            const char *slash = strchr(optarg, '/');
            size_t n = slash ? (size_t)(slash - optarg) : strlen(optarg);
            unsigned long pfx = 24;
            if (n >= sizeof(a))
                goto bad;
            memcpy(a, optarg, n);
            a[n] = '\0';
            if (lg_ipv4_parse(a, &o->ip) != 0 ||
                (slash && parse_uint(slash + 1, 1, 32, &pfx) != 0))
                goto bad;
            o->netmask = ~0u << (32 - pfx);
            break;
        }
        case O_GW:
            if (lg_ipv4_parse(optarg, &o->gateway) != 0)
                goto bad;
            break;
        case O_SERVER: {
            char a[32];
            const char *colon = strchr(optarg, ':');
            size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);
            o->server_port = 80;
            if (n >= sizeof(a))
                goto bad;
            memcpy(a, optarg, n);
            a[n] = '\0';
            if (lg_ipv4_parse(a, &o->server_ip) != 0 ||
                (colon && parse_uint(colon + 1, 1, 65535, &v) != 0))
                goto bad;
            if (colon)
                o->server_port = (uint16_t)v;
            o->have_server = true;
            break;
        }
        case O_TIMEOUT:
            if (parse_uint(optarg, 1, 3600000, &v) != 0)
                goto bad;
            o->timeout_ms = (unsigned)v;
            break;
        case O_PENDING:
            if (parse_uint(optarg, 1, 1000000, &v) != 0)
                goto bad;
            o->max_pending = (unsigned)v;
            break;
        case O_RCVBUF:
            if (parse_uint(optarg, 1024, 1 << 24, &v) != 0)
                goto bad;
            o->rcvbuf = (uint32_t)v;
            break;
        case O_EAL:
            o->eal_args = optarg;
            break;
        case O_MEM:
            if (parse_uint(optarg, 16, 1 << 20, &v) != 0)
                goto bad;
            o->memory_mb = (unsigned)v;
            break;
        case O_HUGE:
            o->hugepages = true;
            break;
        case O_NOBUSY:
            o->busy_poll = false;
            break;
        case O_TRUST:
            o->trust_link = true;
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "loadgen: no URL given\n");
        usage(stderr);
        return -1;
    }
    if (argc - optind > LG_MAX_URLS) {
        fprintf(stderr, "loadgen: at most %d URLs\n", LG_MAX_URLS);
        return -1;
    }
    for (int i = optind; i < argc; i++) {
        struct lg_url *u = &o->urls[o->n_urls++];
        if (lg_url_parse(argv[i], u, err, sizeof(err)) != 0) {
            fprintf(stderr, "loadgen: %s\n", err);
            return -1;
        }
        if (!u->has_host)
            continue;
        if (o->have_server && (u->ip != o->server_ip || u->port != o->server_port)) {
            fprintf(stderr, "loadgen: %s: every URL must name the same server\n",
                    argv[i]);
            return -1;
        }
        o->server_ip = u->ip;
        o->server_port = u->port;
        o->have_server = true;
    }
    if (!o->have_server) {
        fprintf(stderr, "loadgen: no server: give --server or an http:// URL\n");
        return -1;
    }
    if (o->port == NULL) {
        fprintf(stderr, "loadgen: no port: give --port (e.g. "
                        "net_memif0,role=client,socket=/run/x.sock)\n");
        return -1;
    }
    if (!have_src) {
        o->src_first = o->ip;
        o->src_count = 1;
    }
    return 0;
bad:
    fprintf(stderr, "loadgen: bad value for option: %s\n", optarg ? optarg : "?");
    return -1;
}

/* ------------------------------------------------------------ main */

static void fmt_ip(uint32_t ip, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
             ip & 255);
}

static void report(struct lg *g, FILE *out)
{
    const struct lg_counters *k = &g->k;
    double secs = (double)(g->t_end - g->t_begin) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    uint64_t req = get(&k->requests), err = errors_total(k);
    fprintf(out,
            "loadgen: %.2f s, %u connections%s%s, %u source address%s; "
            "errors: connect %lu, reset %lu, timeout %lu, status %lu, short %lu, "
            "closed %lu, protocol %lu; latency us: p50 %lu p90 %lu p99 %lu p99.9 %lu "
            "max %lu (%lu samples)\n",
            secs, g->o.conns, g->o.close ? ", close" : "", g->o.hold ? ", hold" : "",
            g->o.src_count, g->o.src_count == 1 ? "" : "es", get(&k->err_connect),
            get(&k->err_reset), get(&k->err_timeout), get(&k->err_status),
            get(&k->err_short), get(&k->err_closed), get(&k->err_proto),
            lg_hist_percentile(&g->hist, 50), lg_hist_percentile(&g->hist, 90),
            lg_hist_percentile(&g->hist, 99), lg_hist_percentile(&g->hist, 99.9),
            g->hist.max, g->hist.count);
    fprintf(out,
            "loadgen: requests=%lu errors=%lu rps=%.0f conn_per_s=%.0f gbit_s=%.3f "
            "p50_us=%lu p99_us=%lu open=%lu\n",
            req, err, (double)req / secs, (double)get(&k->connects) / secs,
            (double)get(&k->bytes) * 8e-9 / secs, lg_hist_percentile(&g->hist, 50),
            lg_hist_percentile(&g->hist, 99), get(&k->open));
}

int main(int argc, char **argv)
{
    static struct lg g; /* large (scratch buffer, histogram): not on the stack */
    char err[512];
    if (parse_args(argc, argv, &g.o) != 0)
        return 2;
    struct lg_opts *o = &g.o;
    for (unsigned i = 0; i < o->n_urls; i++) {
        char host[64];
        fmt_ip(o->server_ip, host, sizeof(host));
        if (o->server_port != 80)
            snprintf(host + strlen(host), sizeof(host) - strlen(host), ":%u",
                     o->server_port);
        int n = lg_request_build(g.req[i], LG_REQ_MAX, o->urls[i].path,
                                 o->urls[i].has_host ? o->urls[i].host : host, o->close);
        if (n < 0) {
            fprintf(stderr, "loadgen: %s: request too long\n", o->urls[i].path);
            return 2;
        }
        g.req_len[i] = (uint32_t)n;
    }

    /* The stack's range: from the lower of --ip and the block to the higher. */
    uint64_t lo = o->ip < o->src_first ? o->ip : o->src_first;
    uint64_t src_last = (uint64_t)o->src_first + o->src_count - 1;
    uint64_t hi = o->ip > src_last ? o->ip : src_last;
    if (o->server_ip >= lo && o->server_ip <= hi) {
        char a[16], b[16], s[16];
        fmt_ip((uint32_t)lo, a, sizeof(a));
        fmt_ip((uint32_t)hi, b, sizeof(b));
        fmt_ip(o->server_ip, s, sizeof(s));
        fprintf(stderr,
                "loadgen: our addresses %s..%s (--ip and --src) would include the "
                "server's %s\n",
                a, b, s);
        return 2;
    }
    if (hi - lo + 1 > (1u << 24)) {
        fprintf(stderr, "loadgen: --ip and --src span more than 2^24 addresses\n");
        return 2;
    }
    g.bind_src = !(o->src_first == lo && o->src_count == hi - lo + 1);

    char eal[1024];
    if (strstr(o->eal_args, "--file-prefix") == NULL)
        snprintf(eal, sizeof(eal), "%s --file-prefix=loadgen-%d --no-pci", o->eal_args,
                 (int)getpid());
    else
        snprintf(eal, sizeof(eal), "%s --no-pci", o->eal_args);
    unsigned cores[1] = {o->core};
    struct dpio_settings ds = {
        .prog = "loadgen",
        .port = o->port,
        .hugepages = o->hugepages,
        .memory_mb = o->memory_mb,
        .eal_args = eal,
        .cores = cores,
        .n_cores = 1,
        .mtu = 1500,
    };
    if (dpio_eal_init(&ds, err, sizeof(err)) != 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 1;
    }
    struct dpio_port *port = dpio_port_open(&ds, err, sizeof(err));
    if (port == NULL) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 1;
    }
    struct dpio_queue *q = dpio_port_queue(port, 0);
    /* One peer on a bench link that does not change: an entry that expired
     * mid-run would hold frames (and drop past a few dozen) while it is
     * asked for again. */
    struct ts_arp_table *arp = ts_arp_table_create(64, 3600u * 1000);

    struct ts_params p;
    ts_params_default(&p);
    p.ip = (uint32_t)lo;
    p.ip_count = (uint32_t)(hi - lo + 1);
    p.netmask = o->netmask;
    p.gateway = o->gateway;
    dpio_pair_params(port, q, &p);
    /* a connection in LAST_ACK still holds its socket: room for a second set */
    p.max_flows = 2 * o->conns + 1024;
    p.max_bufs = o->conns + 512;
    p.rcvbuf = o->rcvbuf;
    p.snd_copybuf = 1024; /* requests go by reference */
    for (int i = 0; i < 4; i++)
        p.isn_key[i] = (uint32_t)rte_rand();
    p.arp = arp;
    g.ctx = arp ? ts_ctx_create(&p) : NULL;
    if (g.ctx == NULL) {
        fprintf(stderr,
                "loadgen: cannot create the stack context for %u connections: %s\n",
                o->conns, strerror(errno ? errno : ENOMEM));
        dpio_port_close(port);
        return 1;
    }
    lg_hist_init(&g.hist);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char a[16], b[16], s[16];
    fmt_ip(o->src_first, a, sizeof(a));
    fmt_ip(o->src_first + o->src_count - 1, b, sizeof(b));
    fmt_ip(o->server_ip, s, sizeof(s));
    fprintf(stderr,
            "loadgen: %u connections%s%s to %s:%u for %u s from %s..%s (%u address%s), "
            "%u URL%s, core %u\n",
            o->conns, o->close ? " (close)" : "", o->hold ? " (hold)" : "", s,
            o->server_port, o->duration_s, a, b, o->src_count,
            o->src_count == 1 ? "" : "es", o->n_urls, o->n_urls == 1 ? "" : "s", o->core);
    pthread_t prog;
    bool have_prog = false;
    if (!o->quiet) {
        pthread_attr_t attr;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o->core, &set);
        pthread_attr_init(&attr);
        pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
        have_prog = pthread_create(&prog, &attr, lg_progress, &g) == 0;
        pthread_attr_destroy(&attr);
    }
    lg_run(&g, q);
    if (have_prog)
        pthread_join(prog, NULL);
    if (g.error) {
        if (g.error == ETIMEDOUT)
            fprintf(stderr, "loadgen: the server did not accept a connection in %u s\n",
                    LG_WAIT_SERVER_US / 1000000);
        else
            fprintf(stderr, "loadgen: the client could not start: %s\n",
                    strerror(g.error));
        return 1;
    }
    struct ts_stats st;
    ts_ctx_stats(g.ctx, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "loadgen: stack: rx %lu tx %lu frames (rx coalesced %lu), active opens %lu, "
            "retransmits %lu, "
            "timeouts %lu, rst out %lu, arp drops %lu, no mbuf %lu, tx dropped %lu; "
            "rx dropped: bad checksum %lu, no flow %lu, no memory %lu, paws %lu; "
            "max rss %ld kB\n",
            st.rx_frames, st.tx_frames, st.rx_gro_merged, st.tcp_active,
            st.tcp_retransmits, st.tcp_timeouts, st.tcp_rst_tx, st.arp_pending_drops,
            st.tx_nombuf, dpio_tx_dropped(q), st.rx_bad_cksum, st.rx_no_flow,
            st.tcp_nobufs_drops, st.rx_paws_drops, ru.ru_maxrss);
    fflush(stderr);
    report(&g, stdout);
    fflush(stdout);
    /* Open connections are left to the server's idle timeout: closing them
     * one by one would only keep it busy answering FINs. */
    ts_ctx_destroy(g.ctx);
    ts_arp_table_destroy(arp);
    dpio_port_close(port);
    free(g.c);
    free(g.idle);
    rte_eal_cleanup();
    return 0;
}
