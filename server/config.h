/**
 * @file config.h
 * corehttpd's configuration: one ini file read with inih into a read-only
 * struct. Every key has a default (documented in config/corehttpd.ini); an
 * unknown section or key, a bad value or an unreadable file is an error that
 * names the file, the line and the key, and nothing starts.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_CORES 64
#define CFG_PATH_MAX 4096
#define CFG_STATUS_ALLOW_MAX 32 /* networks in [http] status_allow */

/* [dpdk] impair_direction, seen from the server (same bits as dpio.h) */
#define CFG_IMPAIR_RX 1u /* frames it receives */
#define CFG_IMPAIR_TX 2u /* frames it sends */

/* The keys of a family ("header.X-Frame-Options", "mime.md", ...): a tail
 * and a value, checked when read. */
#define CFG_MAX_RULES 32
#define CFG_MAX_ERROR_PAGES 16
#define CFG_HEADERS_MAX 1024 /* extra response header bytes in all */

struct cfg_rule {
    char key[64]; /**< the part after the dot */
    char value[192];
};

struct cfg_expires {
    char match[64]; /**< "/prefix" or an extension (no dot) */
    uint32_t secs;
};

/* [vhost NAME] sections */
#define CFG_MAX_VHOSTS 16
#define CFG_VHOST_HEADERS 16

/* [tls] protocols */
#define CFG_TLS12 1u
#define CFG_TLS13 2u
/* the lines of the [tls] keys whose files or lists are checked when the
 * contexts are built (tls.c), for its messages */
enum {
    CFG_TLS_LINE_CERT,
    CFG_TLS_LINE_KEY,
    CFG_TLS_LINE_CIPHERS,
    CFG_TLS_LINE_SUITES,
    CFG_TLS_LINE_GROUPS,
    CFG_TLS_LINE_OCSP,
    CFG_TLS_LINES
};

struct cfg_vhost {
    char name[64];
    int line;        /**< of its [vhost NAME] line */
    char hosts[256]; /**< blank-separated host names, lower-case */
    char root[CFG_PATH_MAX];
    char index[256];                           /**< "" : [http] index */
    struct cfg_rule header[CFG_VHOST_HEADERS]; /**< header.NAME, after [http]'s */
    unsigned n_header;
    bool has_hosts, has_root;
    char cert[CFG_PATH_MAX]; /**< certificate for these names (SNI); "" none */
    char key[CFG_PATH_MAX];
    int cert_line, key_line;
};

struct cfg {
    /* [dpdk] */
    char port[512];      /**< PCI address or vdev spec */
    bool hugepages;      /**< default yes */
    unsigned memory_mb;  /**< default 512 */
    char eal_args[1024]; /**< default "" */
    /* impairment stage, a test facility (dpio.h, struct dpio_impair); off
     * while impair_delay_ms and impair_reorder_pct are 0 */
    uint32_t impair_delay_ms;       /**< 0..1000, default 0 */
    uint32_t impair_reorder_pct;    /**< 0..100, default 0 */
    uint32_t impair_reorder_gap_ms; /**< 1..1000, default 5 */
    uint32_t impair_seed;           /**< default 1 */
    uint8_t impair_dirs;            /**< CFG_IMPAIR_*, default both */

    /* [net] */
    uint32_t ip;      /**< host byte order, from address = A.B.C.D/N */
    uint32_t netmask; /**< host byte order, from the /N (default /24) */
    uint32_t gateway; /**< host byte order, 0 when unset */
    uint16_t mtu;     /**< 68..9000, default 1500 */

    /* [cores] */
    unsigned cores[CFG_MAX_CORES]; /**< list = 0,2-3 style */
    unsigned n_cores;

    /* [tcp] */
    unsigned max_flows;      /**< per core, default 65536 */
    unsigned max_conns;      /**< open connections per core, default 8192 */
    uint32_t rcvbuf;         /**< default 16384 */
    uint32_t rcvbuf_max;     /**< receive autotuning's bound, default 1048576 */
    uint32_t rcvbuf_grown;   /**< grown receive buffers per core, default 32 */
    uint32_t sndbuf;         /**< default 262144 */
    uint32_t sndbuf_max;     /**< autotuning's bound, default 4194304 */
    uint32_t msl_ms;         /**< default 30000 */
    uint32_t max_time_wait;  /**< TIME_WAIT entries per core, default 262144 */
    uint32_t fin_timeout_ms; /**< orphans in FIN_WAIT_2, default 60000 */
    uint32_t max_orphans;    /**< per core, default 65536 */
    uint32_t orphan_retries; /**< default 8 */
    uint8_t cc_algo;         /**< enum tcp_cc_algo, default cubic */
    bool window_scaling;     /**< RFC 7323, default yes */
    bool timestamps;         /**< RFC 7323, default yes */
    bool sack;               /**< RFC 2018, default yes */
    bool pacing;             /**< new data paced at Linux's fq rate, default yes */
    bool syncookies;         /**< RFC 4987 when the SYN backlog is full, default yes */
    unsigned backlog;        /**< listen backlog per core, default 4096 */
    unsigned syn_budget;     /**< SYNs answered per burst when behind, default 16 */
    uint32_t delayed_ack_ms; /**< default 40; 0 acknowledges at once */
    uint32_t rto_min_ms;     /**< default 200 */
    uint32_t rto_max_ms;     /**< default 60000 */
    uint32_t syn_retries;    /**< default 5 */
    uint32_t data_retries;   /**< default 12 */
    uint32_t keepalive_ms;   /**< idle before probing, default 0 (off) */
    uint32_t keepalive_interval_ms; /**< default 75000 */
    uint32_t keepalive_probes;      /**< default 9 */

    /* [tls], the keys read at start-up only */
    uint32_t tls_sndbuf;          /**< copied send buffer per connection when TLS
                                       is on, default 8192 */
    uint32_t tls_ticket_rotate_s; /**< ticket key rotation, default 3600 */
    uint32_t tls_record_buffers;  /**< record buffers per core (DPDK memory),
                                       default 1024 */

    /* [http]: keep these fields last, from listen on (a reload compares
     * and keeps the bytes before listen, see control.c) */
    uint16_t listen;               /**< default 80 */
    char root[CFG_PATH_MAX];       /**< relative paths are relative to the ini's folder */
    char index[256];               /**< blank-separated names, default index.html */
    bool serve_dotfiles;           /**< default no */
    bool keepalive;                /**< default yes */
    unsigned keepalive_requests;   /**< per connection, default 1000 */
    uint32_t keepalive_timeout_ms; /**< idle between requests, default 30000 */
    uint32_t header_timeout_ms;    /**< a request must arrive within, default 10000 */
    uint32_t send_timeout_ms;      /**< a blocked response may wait, default 60000 */
    unsigned max_conns_per_ip;     /**< per core and client address; 0: no limit */
    uint32_t shutdown_timeout_ms;  /**< graceful stop at most, default 5000 */
    unsigned max_request_bytes;    /**< request line + headers, default 8192 */
    unsigned max_uri_bytes;        /**< request-target, default 2048 */
    uint32_t max_body_bytes;       /**< request body read and discarded, default 1 MiB */
    char server_name[64];          /**< Server header, default corehttpd/VERSION */
    char mime_types[CFG_PATH_MAX]; /**< default /etc/mime.types; "" for none */
    char access_log[CFG_PATH_MAX]; /**< default "": no access log */
    uint8_t access_log_format;     /**< 0 combined (default), 1 json (enum log_format) */
    char error_log[CFG_PATH_MAX];  /**< default "": stderr */
    uint8_t error_log_level; /**< 0 error, 1 warn, 2 info (default; enum log_level) */
    bool gzip_static;        /**< default no */
    struct cfg_rule mime[CFG_MAX_RULES]; /**< mime.EXT = type */
    unsigned n_mime;
    struct cfg_rule header[CFG_MAX_RULES]; /**< header.NAME = value */
    unsigned n_header;
    struct cfg_rule error_page[CFG_MAX_ERROR_PAGES]; /**< error_page.CODE = /path */
    unsigned n_error_page;
    struct cfg_expires expires[CFG_MAX_RULES]; /**< expires.EXT or expires./prefix */
    unsigned n_expires;
    /* [http] status page (server/status.h) */
    char status_path[256]; /**< default /server-status; "" turns the page off */
    struct {
        uint32_t net, mask;               /**< host byte order */
    } status_allow[CFG_STATUS_ALLOW_MAX]; /**< clients that may see it; default none */
    unsigned n_status_allow;
    /* [vhost NAME]: hosts named by the Host header, each with its own root
     * and headers; [http] root is the default host */
    struct cfg_vhost vhost[CFG_MAX_VHOSTS];
    unsigned n_vhosts;
    bool redirect_https; /**< [http] redirect_https: 301 to https, default no */

    /* [tls]: HTTPS (server/tls.h); listen is read at start-up only, the
     * rest again on SIGHUP */
    uint16_t tls_listen;         /**< 0 (default): no TLS */
    char tls_cert[CFG_PATH_MAX]; /**< PEM: the certificate, then its chain */
    char tls_key[CFG_PATH_MAX];  /**< PEM private key */
    uint8_t tls_protocols;       /**< CFG_TLS12 | CFG_TLS13 (default both) */
    char tls_ciphers[512];       /**< TLS 1.2 suites (OpenSSL list) */
    char tls_ciphersuites[256];  /**< TLS 1.3 suites */
    char tls_groups[128];        /**< key exchange groups */
    bool tls_tickets;            /**< session tickets, default yes */
    bool tls_server_order; /**< our cipher order (ChaCha20 for clients putting it first),
                              default yes */
    char tls_ocsp[CFG_PATH_MAX]; /**< DER OCSP response to staple; "" none */
    char path[CFG_PATH_MAX];     /**< the ini file, for messages */
    int tls_line[CFG_TLS_LINES]; /**< line of each key (CFG_TLS_LINE_*) */
};

/** True when @p a and @p b have the same [http] status_path and status_allow. */
bool cfg_same_status(const struct cfg *a, const struct cfg *b);
/** Copies [http] status_path and status_allow from @p from to @p to. */
void cfg_copy_status(struct cfg *to, const struct cfg *from);

/** Sets every default. */
void cfg_defaults(struct cfg *c);

/** Reads @p path over the defaults already in @p c. On error returns -1 and
 *  writes "FILE:LINE: [section] key: reason" (or "FILE: reason" when the file
 *  cannot be read) to @p err. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

#endif
