/**
 * @file status.c
 * The status page (see status.h): the metric table, the collection of each
 * core's values, and the two renderings. A request enters through
 * status_page() on a worker thread; the page leaves in one of that worker's
 * buffers, lent to the response until status_page_release().
 */
#include "status.h"
#include "textbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "ts.h"

#define STATUS_SLOTS 4 /* pages one worker can have in flight at once */
#define STATUS_CTYPE_PLAIN "text/plain; charset=utf-8"
#define STATUS_CTYPE_PROM "text/plain; version=0.0.4; charset=utf-8"

/* One value of a core. Entries of one Prometheus family are adjacent: the
 * family's HELP and TYPE lines come once, before its first entry. */
struct status_def {
    const char *plain;  /* key of the plain page */
    const char *family; /* Prometheus name after "corehttpd_" */
    const char *label;  /* a second label (`kind="fast"`), or NULL */
    const char *help;   /* the family's HELP text */
    bool gauge;         /* else a counter (its family ends in _total) */
};

static const struct status_def status_defs[ST_N] = {
    [ST_ACCEPTED] = {"accepted", "connections_accepted_total", NULL,
                     "Connections the HTTP worker accepted.", false},
    [ST_REFUSED] = {"refused", "connections_refused_total", NULL,
                    "Accepted connections closed at once: no connection slot free.",
                    false},
    [ST_PASSIVE] = {"tcp_passive_opens", "tcp_passive_opens_total", NULL,
                    "SYNs that opened a connection.", false},
    [ST_ESTABLISHED] = {"tcp_established", "tcp_established_total", NULL,
                        "Handshakes completed.", false},
    [ST_TW_ENTERED] = {"time_wait_entered", "time_wait_entered_total", NULL,
                       "Connections that entered TIME-WAIT.", false},
    [ST_REQ_1XX] = {"requests_1xx", "requests_total", "class=\"1xx\"",
                    "Responses written, by status class.", false},
    [ST_REQ_2XX] = {"requests_2xx", "requests_total", "class=\"2xx\"", NULL, false},
    [ST_REQ_3XX] = {"requests_3xx", "requests_total", "class=\"3xx\"", NULL, false},
    [ST_REQ_4XX] = {"requests_4xx", "requests_total", "class=\"4xx\"", NULL, false},
    [ST_REQ_5XX] = {"requests_5xx", "requests_total", "class=\"5xx\"", NULL, false},
    [ST_RX_PACKETS] = {"rx_packets", "rx_packets_total", NULL,
                       "Frames the stack received.", false},
    [ST_TX_PACKETS] = {"tx_packets", "tx_packets_total", NULL, "Frames the stack sent.",
                       false},
    [ST_RX_BYTES] = {"rx_bytes", "rx_bytes_total", NULL,
                     "Bytes of the frames received, Ethernet header included.", false},
    [ST_TX_BYTES] = {"tx_bytes", "tx_bytes_total", NULL,
                     "Bytes of the frames sent, Ethernet header included.", false},
    [ST_RX_COALESCED] = {"rx_coalesced", "rx_coalesced_total", NULL,
                         "Received segments taken with the one before them, in "
                         "order, as one (receive coalescing).",
                         false},
    [ST_DROP_BAD_ETH] = {"rx_drop_bad_eth", "rx_dropped_total", "reason=\"bad_eth\"",
                         "Received frames dropped, by reason.", false},
    [ST_DROP_BAD_IP] = {"rx_drop_bad_ip", "rx_dropped_total", "reason=\"bad_ip\"", NULL,
                        false},
    [ST_DROP_NOT_FOR_US] = {"rx_drop_not_for_us", "rx_dropped_total",
                            "reason=\"not_for_us\"", NULL, false},
    [ST_DROP_BAD_CKSUM] = {"rx_drop_bad_checksum", "rx_dropped_total",
                           "reason=\"bad_checksum\"", NULL, false},
    [ST_DROP_BAD_TCP] = {"rx_drop_bad_tcp", "rx_dropped_total", "reason=\"bad_tcp\"",
                         NULL, false},
    [ST_DROP_NO_FLOW] = {"rx_drop_no_flow", "rx_dropped_total", "reason=\"no_flow\"",
                         NULL, false},
    [ST_DROP_UNSUPPORTED] = {"rx_drop_unsupported", "rx_dropped_total",
                             "reason=\"unsupported\"", NULL, false},
    [ST_DROP_PAWS] = {"rx_drop_paws", "rx_dropped_total", "reason=\"paws\"", NULL, false},
    [ST_DROP_NO_MEMORY] = {"rx_drop_no_memory", "rx_dropped_total",
                           "reason=\"no_memory\"", NULL, false},
    [ST_DROP_ARP_PENDING] = {"rx_drop_arp_pending", "rx_dropped_total",
                             "reason=\"arp_pending\"", NULL, false},
    [ST_DROP_FRAGMENT] = {"rx_drop_fragment", "rx_dropped_total", "reason=\"fragment\"",
                          NULL, false},
    [ST_DROP_BAD_OPTIONS] = {"rx_drop_bad_tcp_options", "rx_dropped_total",
                             "reason=\"bad_tcp_options\"", NULL, false},
    [ST_DROP_OUT_OF_WINDOW] = {"rx_drop_out_of_window", "rx_dropped_total",
                               "reason=\"out_of_window\"", NULL, false},
    [ST_DROP_SYN_BUDGET] = {"rx_drop_syn_budget", "rx_dropped_total",
                            "reason=\"syn_budget\"", NULL, false},
    [ST_TXDROP_NO_MBUF] = {"tx_drop_no_mbuf", "tx_dropped_total", "reason=\"no_mbuf\"",
                           "Frames not sent, by reason.", false},
    [ST_TX_BACKLOG_WAITS] = {"tx_backlog_waits", "tx_backlog_waits_total", NULL,
                             "Polls whose output waited for the port to take the "
                             "frames queued for it (back-pressure instead of drops).",
                             false},
    [ST_PACING_WAITS] = {"tcp_pacing_waits", "tcp_pacing_waits_total", NULL,
                         "Sends held back by pacing until a timer let the next "
                         "burst go ([tcp] pacing).",
                         false},
    [ST_TXDROP_PORT] = {"tx_drop_port_refused", "tx_dropped_total",
                        "reason=\"port_refused\"", NULL, false},
    [ST_RXT_FAST] = {"retransmit_fast", "retransmissions_total", "kind=\"fast\"",
                     "Loss recoveries started, by kind: fast retransmit, tail loss "
                     "probe, retransmission timeout.",
                     false},
    [ST_RXT_TAIL_PROBE] = {"retransmit_tail_probe", "retransmissions_total",
                           "kind=\"tail_probe\"", NULL, false},
    [ST_RXT_TIMEOUT] = {"retransmit_timeout", "retransmissions_total", "kind=\"timeout\"",
                        NULL, false},
    [ST_RXT_SEGMENTS] = {"retransmitted_segments", "retransmitted_segments_total", NULL,
                         "Segments sent again, of every kind.", false},
    [ST_RXT_TIMEOUT_MIN_RTO] = {"retransmit_timeout_min_rto",
                                "retransmission_timeouts_min_rto_total", NULL,
                                "Retransmission timeouts that waited only the minimum "
                                "RTO.",
                                false},
    [ST_RXT_WINDOW_PROBE] = {"retransmit_timeout_window_probe",
                             "retransmission_timeouts_window_probe_total", NULL,
                             "Retransmission timeouts that found the peer's window "
                             "shut and probed it.",
                             false},
    [ST_LOSS_RACK] = {"loss_rack", "segments_lost_total", "found_by=\"rack\"",
                      "Segments found lost, by how: RACK by time (RFC 8985), or a "
                      "retransmission found lost again.",
                      false},
    [ST_LOSS_REXMIT_LOST] = {"loss_retransmission_lost", "segments_lost_total",
                             "found_by=\"retransmission_lost\"", NULL, false},
    [ST_TLP_RECOVERIES] = {"tail_probe_recoveries", "tail_probe_recoveries_total", NULL,
                           "Tail loss probes that repaired a loss (RFC 8985 7.4).",
                           false},
    [ST_SPURIOUS_REXMITS] = {"spurious_retransmissions", "spurious_retransmissions_total",
                             NULL, "Retransmissions a D-SACK showed needless (RFC 3708).",
                             false},
    [ST_REO_SEEDED] = {"reordering_from_peer", "reordering_from_peer_total", NULL,
                       "Connections that started with the reordering window an "
                       "earlier connection to the same address measured.",
                       false},
    [ST_DSACK_RX] = {"dsack_received", "dsack_blocks_total", "dir=\"received\"",
                     "D-SACK blocks (RFC 2883), received and sent.", false},
    [ST_DSACK_TX] = {"dsack_sent", "dsack_blocks_total", "dir=\"sent\"", NULL, false},
    [ST_UNDO_RECOVERY] = {"undo_fast_recovery", "undo_total", "kind=\"fast_recovery\"",
                          "Loss recoveries undone as spurious, by kind (RFC 3708, "
                          "RFC 4015).",
                          false},
    [ST_UNDO_TIMEOUT] = {"undo_timeout", "undo_total", "kind=\"timeout\"", NULL, false},
    [ST_HYSTART_EXITS] = {"hystart_exits", "hystart_exits_total", NULL,
                          "Slow starts ended by HyStart++ (RFC 9406).", false},
    [ST_PAWS_LATE_ACKS] =
        {"paws_late_acks", "paws_late_acks_total", NULL,
         "Pure ACKs older than TS.Recent but only overtaken, taken for their "
         "SACK blocks instead of dropped by PAWS.",
         false},
    [ST_PAYLOAD_REF] = {"tx_payload_bytes_referenced", "tx_payload_bytes_total",
                        "how=\"referenced\"",
                        "TCP payload bytes put in segments, by reference into the file "
                        "cache or copied.",
                        false},
    [ST_PAYLOAD_COPIED] = {"tx_payload_bytes_copied", "tx_payload_bytes_total",
                           "how=\"copied\"", NULL, false},
    [ST_FLOW_OTHER_CORE] = {"flow_other_core", "flow_other_core_segments_total", NULL,
                            "Segments (not SYNs) that found no connection on this core "
                            "while another core holds their 4-tuple: a flow seen on two "
                            "cores.",
                            false},
    [ST_RST_SENT] = {"tcp_resets_sent", "tcp_resets_sent_total", NULL, "Resets sent.",
                     false},
    [ST_SYNCOOKIES_SENT] = {"tcp_syncookies_sent", "tcp_syncookies_sent_total", NULL,
                            "SYN cookies sent (backlog or sockets full).", false},
    [ST_ACCEPT_OVERFLOW] = {"tcp_accept_overflow", "tcp_accept_overflows_total", NULL,
                            "Handshakes dropped: the accept queue was full.", false},
    [ST_NOMEM_RESETS] = {"tcp_no_memory_resets", "tcp_no_memory_resets_total", NULL,
                         "Handshakes reset: no connection buffers left.", false},
    [ST_TLS_HS_FULL] = {"tls_handshakes_full", "tls_handshakes_total", "kind=\"full\"",
                        "TLS handshakes completed, full or resumed (session ticket).",
                        false},
    [ST_TLS_HS_RESUMED] = {"tls_handshakes_resumed", "tls_handshakes_total",
                           "kind=\"resumed\"", NULL, false},
    [ST_TLS_V13] = {"tls_version_1_3", "tls_version_handshakes_total",
                    "version=\"TLSv1.3\"", "TLS handshakes completed, by version.",
                    false},
    [ST_TLS_V12] = {"tls_version_1_2", "tls_version_handshakes_total",
                    "version=\"TLSv1.2\"", NULL, false},
    [ST_TLS_FAIL_PROTOCOL] = {"tls_fail_protocol", "tls_handshake_failures_total",
                              "reason=\"protocol\"",
                              "TLS handshakes failed, by reason: protocol version, no "
                              "common cipher or group, plain HTTP to the TLS port, ALPN "
                              "without http/1.1, an alert from the client, closed by the "
                              "client, timeout, anything else.",
                              false},
    [ST_TLS_FAIL_CIPHER] = {"tls_fail_cipher", "tls_handshake_failures_total",
                            "reason=\"cipher\"", NULL, false},
    [ST_TLS_FAIL_HTTP] = {"tls_fail_plain_http", "tls_handshake_failures_total",
                          "reason=\"plain_http\"", NULL, false},
    [ST_TLS_FAIL_ALPN] = {"tls_fail_alpn", "tls_handshake_failures_total",
                          "reason=\"alpn\"", NULL, false},
    [ST_TLS_FAIL_ALERT] = {"tls_fail_client_alert", "tls_handshake_failures_total",
                           "reason=\"client_alert\"", NULL, false},
    [ST_TLS_FAIL_CLOSED] = {"tls_fail_closed", "tls_handshake_failures_total",
                            "reason=\"closed\"", NULL, false},
    [ST_TLS_FAIL_TIMEOUT] = {"tls_fail_timeout", "tls_handshake_failures_total",
                             "reason=\"timeout\"", NULL, false},
    [ST_TLS_FAIL_MALFORMED] = {"tls_fail_other", "tls_handshake_failures_total",
                               "reason=\"other\"", NULL, false},
    [ST_TLS_TICKET_ROTATIONS] = {"tls_ticket_key_rotations",
                                 "tls_ticket_key_rotations_total", NULL,
                                 "Session ticket keys this core has taken up.", false},
    [ST_TLS_RECORDS_REF] =
        {"tls_records_referenced", "tls_records_total", "how=\"referenced\"",
         "TLS records handed to the stack: by reference from a record "
         "buffer, or copied into the socket (no buffer free, or no room "
         "for the whole record).",
         false},
    [ST_TLS_RECORDS_COPIED] = {"tls_records_copied", "tls_records_total",
                               "how=\"copied\"", NULL, false},
    [ST_OPEN] = {"sockets_open", "sockets_open", NULL,
                 "Sockets in use: connections in every state but TIME-WAIT, and the "
                 "listener.",
                 true},
    [ST_TIME_WAIT] = {"time_wait", "time_wait_entries", NULL,
                      "Connections in TIME-WAIT (compact entries).", true},
    [ST_ORPHANS] = {"orphans", "orphan_connections", NULL,
                    "Connections closed by the server and still finishing.", true},
    [ST_BUFS_IN_USE] = {"conn_buffers_in_use", "connection_buffers_in_use", NULL,
                        "Connections holding receive and send buffers.", true},
    [ST_BUFS_MAX] = {"conn_buffers_max", "connection_buffers_max", NULL,
                     "Connection buffer sets of the core ([tcp] max_conns).", true},
    [ST_SOCKS_MAX] = {"sockets_max", "sockets_max", NULL,
                      "Sockets of the core ([tcp] max_flows).", true},
    [ST_MBUFS_IN_USE] = {"mbufs_in_use", "mbufs_in_use", NULL,
                         "Packet buffers of the core's pool in use.", true},
    [ST_MBUFS_TOTAL] = {"mbufs_total", "mbufs_capacity", NULL,
                        "Packet buffers in the core's pool.", true},
    [ST_HTTP_OPEN] = {"http_connections_open", "http_connections_open", NULL,
                      "Connections the HTTP worker holds.", true},
    [ST_HTTP_STATES] = {"http_request_states_in_use", "http_request_states_in_use", NULL,
                        "Connections reading a request or writing a response, holding "
                        "an input buffer and parse state (idle ones hold none).",
                        true},
    [ST_TLS_OPEN] =
        {"tls_connections_open", "tls_connections_open", NULL,
         "TLS connections the HTTP worker holds (handshaking or established).", true},
    [ST_SYN_SHED_RETRIED] = {"tcp_syn_shed_retried", "tcp_syn_shed_retried_total", NULL,
                             "SYNs shed once (past a burst's budget) and answered when "
                             "they came again.",
                             false},
    [ST_HTTP_TIMEOUTS] = {"timeouts", "connections_timed_out_total", NULL,
                          "Connections closed by the header timeout (a request too slow "
                          "to arrive, 408 when part of it came) or the keep-alive "
                          "timeout.",
                          false},
    [ST_CONNS_PER_IP_REFUSED] = {"refused_per_ip", "connections_refused_per_ip_total",
                                 NULL,
                                 "Connections closed at once: their address held "
                                 "[http] max_conns_per_ip already.",
                                 false},
    [ST_SLOW_SHED] = {"slow_shed", "connections_slow_shed_total", NULL,
                      "Connections still reading their request, the longest waiting "
                      "first, closed to make room for a new one when the worker was "
                      "full.",
                      false},
};

struct status_slot {
    bool busy;
    char *buf;
};

struct status_worker {
    const struct status_src *src;
    size_t cap;        /* bytes of each slot's buffer */
    uint64_t *samples; /* src->n * ST_N */
    unsigned cpu[CFG_MAX_CORES];
    struct status_slot slot[STATUS_SLOTS];
};

/* ---- output buffer ---- */

/* A label value: backslash, double quote and line feed escaped (the text
 * format's rules). */
static void sb_label_value(struct textbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            tb_put(b, "\\", 1);
        if (*s == '\n')
            tb_str(b, "\\n");
        else
            tb_put(b, s, 1);
    }
}

/* ---- rendering ---- */

size_t status_page_bytes(unsigned n_cores)
{
    /* fixed lines and HELP/TYPE pairs, then per core and value a plain line
     * (~70 bytes) or a Prometheus sample (~130): 256 covers either */
    return 4096 + (size_t)ST_N * 512 + (size_t)n_cores * ST_N * 256;
}

static void render_plain(struct textbuf *b, const struct status_meta *m,
                         const uint64_t *v)
{
    tb_str(b, "version: ");
    tb_str(b, m->version);
    tb_str(b, "\nuptime_seconds: ");
    tb_u64(b, m->uptime_s);
    tb_str(b, "\ncores: ");
    tb_u64(b, m->n);
    tb_str(b, "\nmemory_rss_bytes: ");
    tb_u64(b, m->rss_bytes);
    tb_str(b, "\ndpdk_heap_in_use_bytes: ");
    tb_u64(b, m->dpdk_heap_bytes);
    if (m->steering) {
        tb_str(b, "\nsteering: ");
        tb_str(b, m->steering);
    }
    tb_str(b, "\n");
    /* totals over the cores, then each core's own */
    for (unsigned k = 0; k < ST_N; k++) {
        uint64_t sum = 0;
        for (unsigned c = 0; c < m->n; c++)
            sum += v[(size_t)c * ST_N + k];
        tb_str(b, status_defs[k].plain);
        tb_str(b, ": ");
        tb_u64(b, sum);
        tb_str(b, "\n");
    }
    for (unsigned c = 0; c < m->n; c++) {
        for (unsigned k = 0; k < ST_N; k++) {
            tb_str(b, "core");
            tb_u64(b, m->cpu[c]);
            tb_str(b, ".");
            tb_str(b, status_defs[k].plain);
            tb_str(b, ": ");
            tb_u64(b, v[(size_t)c * ST_N + k]);
            tb_str(b, "\n");
        }
    }
}

static void render_prom_head(struct textbuf *b, const char *family, const char *help,
                             const char *type)
{
    tb_str(b, "# HELP corehttpd_");
    tb_str(b, family);
    tb_str(b, " ");
    tb_str(b, help);
    tb_str(b, "\n# TYPE corehttpd_");
    tb_str(b, family);
    tb_str(b, " ");
    tb_str(b, type);
    tb_str(b, "\n");
}

static void render_prom(struct textbuf *b, const struct status_meta *m, const uint64_t *v)
{
    render_prom_head(b, "info", "The server's version and how flows reach its cores.",
                     "gauge");
    tb_str(b, "corehttpd_info{version=\"");
    sb_label_value(b, m->version);
    tb_str(b, "\",steering=\"");
    sb_label_value(b, m->steering ? m->steering : "");
    tb_str(b, "\"} 1\n");
    render_prom_head(b, "uptime_seconds", "Seconds since the server started.", "gauge");
    tb_str(b, "corehttpd_uptime_seconds ");
    tb_u64(b, m->uptime_s);
    tb_str(b, "\n");
    render_prom_head(b, "memory_rss_bytes", "The process's resident memory.", "gauge");
    tb_str(b, "corehttpd_memory_rss_bytes ");
    tb_u64(b, m->rss_bytes);
    tb_str(b, "\n");
    render_prom_head(b, "dpdk_heap_in_use_bytes",
                     "Bytes allocated from DPDK's heaps (packet pools, the file cache).",
                     "gauge");
    tb_str(b, "corehttpd_dpdk_heap_in_use_bytes ");
    tb_u64(b, m->dpdk_heap_bytes);
    tb_str(b, "\n");
    for (unsigned k = 0; k < ST_N; k++) {
        const struct status_def *d = &status_defs[k];
        if (k == 0 || strcmp(status_defs[k - 1].family, d->family) != 0)
            render_prom_head(b, d->family, d->help, d->gauge ? "gauge" : "counter");
        for (unsigned c = 0; c < m->n; c++) {
            tb_str(b, "corehttpd_");
            tb_str(b, d->family);
            tb_str(b, "{core=\"");
            tb_u64(b, m->cpu[c]);
            tb_str(b, "\"");
            if (d->label) {
                tb_str(b, ",");
                tb_str(b, d->label);
            }
            tb_str(b, "} ");
            tb_u64(b, v[(size_t)c * ST_N + k]);
            tb_str(b, "\n");
        }
    }
}

long status_render(const struct status_meta *m, const uint64_t *v, enum status_format f,
                   char *buf, size_t cap)
{
    struct textbuf b = {buf, 0, cap, false};
    if (f == STATUS_PROMETHEUS)
        render_prom(&b, m, v);
    else
        render_plain(&b, m, v);
    return b.full ? -ENOSPC : (long)b.len;
}

enum status_format status_format_of(const char *query, size_t len)
{
    static const char want[] = "format=prometheus";
    const char *p = query, *end = query ? query + len : NULL;

    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = (size_t)((amp ? amp : end) - p);
        if (n == sizeof want - 1 && memcmp(p, want, n) == 0)
            return STATUS_PROMETHEUS;
        p = amp ? amp + 1 : NULL;
    }
    return STATUS_PLAIN;
}

bool status_allowed(const struct cfg *cfg, uint32_t ip)
{
    for (unsigned i = 0; i < cfg->n_status_allow; i++)
        if ((ip & cfg->status_allow[i].mask) == cfg->status_allow[i].net)
            return true;
    return false;
}

/* The process's resident memory: a read of /proc/self/statm, a few
 * syscalls on the worker, only when someone asks for the page. */
static uint64_t rss_bytes(void)
{
    unsigned long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* ---- collection ---- */

static uint64_t rd64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void status_collect(const struct status_src *src, const struct status_core *sc,
                           uint64_t *v)
{
    struct ts_stats st;
    const struct worker *w = sc->w;
    struct rte_mempool *pool = dpio_queue_pool(sc->q);

    ts_ctx_stats(sc->ctx, &st);
    v[ST_ACCEPTED] = rd64(&w->accepted);
    v[ST_REFUSED] = rd64(&w->refused);
    v[ST_PASSIVE] = st.tcp_passive;
    v[ST_ESTABLISHED] = st.tcp_established;
    v[ST_TW_ENTERED] = st.tcp_time_wait;
    for (unsigned i = 1; i <= 5; i++)
        v[ST_REQ_1XX + i - 1] = rd64(&w->status_class[i]);
    v[ST_RX_PACKETS] = st.rx_frames;
    v[ST_TX_PACKETS] = st.tx_frames;
    v[ST_RX_BYTES] = st.rx_bytes;
    v[ST_TX_BYTES] = st.tx_bytes;
    v[ST_RX_COALESCED] = st.rx_gro_merged;
    v[ST_DROP_BAD_ETH] = st.rx_bad_eth;
    v[ST_DROP_BAD_IP] = st.rx_bad_ip;
    v[ST_DROP_NOT_FOR_US] = st.rx_not_for_us;
    v[ST_DROP_BAD_CKSUM] = st.rx_bad_cksum;
    v[ST_DROP_BAD_TCP] = st.rx_bad_tcp;
    v[ST_DROP_NO_FLOW] = st.rx_no_flow;
    v[ST_DROP_UNSUPPORTED] = st.rx_unsupported;
    v[ST_DROP_PAWS] = st.rx_paws_drops;
    v[ST_DROP_NO_MEMORY] = st.tcp_nobufs_drops;
    v[ST_DROP_ARP_PENDING] = st.arp_pending_drops;
    v[ST_DROP_FRAGMENT] = st.rx_fragments;
    v[ST_DROP_BAD_OPTIONS] = st.rx_bad_tcp_options;
    v[ST_DROP_OUT_OF_WINDOW] = st.rx_out_of_window;
    v[ST_DROP_SYN_BUDGET] = st.rx_syn_shed;
    v[ST_SYN_SHED_RETRIED] = st.rx_syn_shed_retried;
    v[ST_HTTP_TIMEOUTS] = rd64(&w->timeouts);
    v[ST_CONNS_PER_IP_REFUSED] = rd64(&w->refused_per_ip);
    v[ST_SLOW_SHED] = rd64(&w->slow_shed);
    v[ST_TXDROP_NO_MBUF] = st.tx_nombuf;
    v[ST_TXDROP_PORT] = dpio_tx_dropped(sc->q);
    v[ST_TX_BACKLOG_WAITS] = st.tx_backlog_waits;
    v[ST_PACING_WAITS] = st.tcp_pacing_waits;
    v[ST_RXT_FAST] = st.tcp_fast_retransmits;
    v[ST_RXT_TAIL_PROBE] = st.tcp_tlp_probes;
    v[ST_RXT_TIMEOUT] = st.tcp_timeouts;
    v[ST_RXT_SEGMENTS] = st.tcp_retransmits;
    v[ST_RXT_TIMEOUT_MIN_RTO] = st.tcp_timeouts_min_rto;
    v[ST_RXT_WINDOW_PROBE] = st.tcp_window_probes;
    v[ST_LOSS_RACK] = st.tcp_rack_losses;
    v[ST_LOSS_REXMIT_LOST] = st.tcp_lost_retransmits;
    v[ST_TLP_RECOVERIES] = st.tcp_tlp_recoveries;
    v[ST_SPURIOUS_REXMITS] = st.tcp_spurious_rexmits;
    v[ST_REO_SEEDED] = st.tcp_reo_seeded;
    v[ST_DSACK_RX] = st.tcp_dsack_rx;
    v[ST_DSACK_TX] = st.tcp_dsack_tx;
    v[ST_UNDO_RECOVERY] = st.tcp_undo_recovery;
    v[ST_UNDO_TIMEOUT] = st.tcp_undo_rto;
    v[ST_HYSTART_EXITS] = st.tcp_hystart_exits;
    v[ST_PAWS_LATE_ACKS] = st.rx_paws_disordered;
    v[ST_PAYLOAD_REF] = st.tx_bytes_ref;
    v[ST_PAYLOAD_COPIED] = st.tx_bytes_copied;
    v[ST_FLOW_OTHER_CORE] = st.tcp_flow_other_core;
    v[ST_RST_SENT] = st.tcp_rst_tx;
    v[ST_SYNCOOKIES_SENT] = st.tcp_syncookies_sent;
    v[ST_ACCEPT_OVERFLOW] = st.tcp_accept_overflow;
    v[ST_NOMEM_RESETS] = st.tcp_nobufs_resets;
    v[ST_OPEN] = st.socks_in_use;
    v[ST_TIME_WAIT] = st.tw_in_use;
    v[ST_ORPHANS] = st.orphans_in_use;
    v[ST_BUFS_IN_USE] = st.bufs_in_use;
    v[ST_BUFS_MAX] = src->cfg->max_conns;
    v[ST_SOCKS_MAX] = src->cfg->max_flows;
    v[ST_MBUFS_IN_USE] = pool ? rte_mempool_in_use_count(pool) : 0;
    v[ST_MBUFS_TOTAL] = pool ? pool->size : 0;
    v[ST_HTTP_OPEN] = __atomic_load_n(&w->open, __ATOMIC_RELAXED);
    v[ST_HTTP_STATES] = __atomic_load_n(&w->states_in_use, __ATOMIC_RELAXED);
    v[ST_TLS_HS_FULL] = rd64(&w->tls.hs_full);
    v[ST_TLS_HS_RESUMED] = rd64(&w->tls.hs_resumed);
    v[ST_TLS_V13] = rd64(&w->tls.tls13);
    v[ST_TLS_V12] = rd64(&w->tls.tls12);
    for (unsigned i = 0; i < TLS_FAIL_N; i++)
        v[ST_TLS_FAIL_PROTOCOL + i] = rd64(&w->tls.fail[i]);
    v[ST_TLS_TICKET_ROTATIONS] = rd64(&w->tls.ticket_rotations);
    v[ST_TLS_RECORDS_REF] = rd64(&w->tls.records_ref);
    v[ST_TLS_RECORDS_COPIED] = rd64(&w->tls.records_copied);
    v[ST_TLS_OPEN] = __atomic_load_n(&w->tls.open, __ATOMIC_RELAXED);
}

_Static_assert(ST_TLS_FAIL_MALFORMED - ST_TLS_FAIL_PROTOCOL == TLS_FAIL_MALFORMED &&
                   TLS_FAIL_N == TLS_FAIL_MALFORMED + 1,
               "the status page's TLS failure metrics follow enum tls_fail");

/* ---- the worker's side ---- */

struct status_worker *status_worker_create(const struct status_src *src)
{
    struct status_worker *sw = calloc(1, sizeof(*sw));
    if (sw == NULL)
        return NULL;
    sw->src = src;
    sw->cap = status_page_bytes(src->n);
    sw->samples = calloc((size_t)(src->n ? src->n : 1) * ST_N, sizeof(*sw->samples));
    bool ok = sw->samples != NULL;
    /* calloc: a buffer costs memory once a page is rendered into it */
    for (unsigned i = 0; ok && i < STATUS_SLOTS; i++)
        ok = (sw->slot[i].buf = calloc(1, sw->cap)) != NULL;
    if (!ok) {
        status_worker_destroy(sw);
        errno = ENOMEM;
        return NULL;
    }
    return sw;
}

void status_worker_destroy(struct status_worker *sw)
{
    if (sw == NULL)
        return;
    for (unsigned i = 0; i < STATUS_SLOTS; i++)
        free(sw->slot[i].buf);
    free(sw->samples);
    free(sw);
}

int status_page(void *arg, uint32_t peer_ip, const char *query, size_t query_len,
                struct http_page *page)
{
    struct status_worker *sw = arg;
    const struct status_src *src = sw->src;
    struct status_slot *slot = NULL;

    if (!status_allowed(src->cfg, peer_ip))
        return -ENOENT;
    for (unsigned i = 0; i < STATUS_SLOTS && slot == NULL; i++)
        if (!sw->slot[i].busy)
            slot = &sw->slot[i];
    if (slot == NULL)
        return -EBUSY;
    /* src is complete once the server runs (not yet when this worker's
     * buffers were made): read it now */
    for (unsigned c = 0; c < src->n; c++) {
        sw->cpu[c] = src->core[c].cpu;
        status_collect(src, &src->core[c], sw->samples + (size_t)c * ST_N);
    }
    enum status_format f = status_format_of(query, query_len);
    struct status_meta m = {
        .version = "corehttpd/" COREHTTPD_VERSION,
        .steering = src->steering,
        .uptime_s = (dpio_now_us() - src->start_us) / 1000000,
        .n = src->n,
        .cpu = sw->cpu,
        .rss_bytes = rss_bytes(),
        .dpdk_heap_bytes = dpio_heap_in_use(),
    };
    long len = status_render(&m, sw->samples, f, slot->buf, sw->cap);
    if (len < 0)
        return -EBUSY; /* status_page_bytes() is wrong: tested not to be */
    slot->busy = true;
    page->ctype = f == STATUS_PROMETHEUS ? STATUS_CTYPE_PROM : STATUS_CTYPE_PLAIN;
    page->body = (const uint8_t *)slot->buf;
    page->len = (size_t)len;
    page->slot = slot;
    return 0;
}

void status_page_release(void *slot)
{
    ((struct status_slot *)slot)->busy = false;
}
