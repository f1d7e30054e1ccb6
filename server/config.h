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

struct cfg {
    /* [dpdk] */
    char port[512];         /**< PCI address or vdev spec */
    bool hugepages;         /**< default yes */
    unsigned memory_mb;     /**< default 512 */
    char eal_args[1024];    /**< default "" */

    /* [net] */
    uint32_t ip;            /**< host byte order, from address = A.B.C.D/N */
    uint32_t netmask;       /**< host byte order, from the /N (default /24) */
    uint32_t gateway;       /**< host byte order, 0 when unset */
    uint16_t mtu;           /**< 68..9000, default 1500 */

    /* [cores] */
    unsigned cores[CFG_MAX_CORES]; /**< list = 0,2-3 style */
    unsigned n_cores;

    /* [tcp] */
    unsigned max_flows;     /**< per core, default 65536 */
    unsigned max_conns;     /**< open connections per core, default 8192 */
    uint32_t rcvbuf;        /**< default 16384 */
    uint32_t sndbuf;        /**< default 262144 */
    uint32_t msl_ms;        /**< default 30000 */

    /* [http] */
    uint16_t listen;        /**< default 80 */
    char root[CFG_PATH_MAX];/**< relative paths are relative to the ini's folder */
    char index[256];        /**< default index.html */
    bool keepalive;         /**< default yes */
    unsigned keepalive_requests; /**< per connection, default 1000 */
    unsigned max_request_bytes;  /**< request line + headers, default 8192 */
    char server_name[64];   /**< Server header, default corehttpd/VERSION */
};

/** Sets every default. */
void cfg_defaults(struct cfg *c);

/** Reads @p path over the defaults already in @p c. On error returns -1 and
 *  writes "FILE:LINE: [section] key: reason" (or "FILE: reason" when the file
 *  cannot be read) to @p err. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

#endif
