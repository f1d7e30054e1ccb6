/**
 * @file site.c
 * site_build(): the MIME map from [http] mime_types and the mime.* keys,
 * the cache of [http] root with the expires.* rules, the header.* keys
 * formatted once as "Name: value\r\n" lines, and the error_page.* paths,
 * each of which must be a file of the cache.
 */
#include "site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "log.h"
#include "mime.h"
#include "tls.h"

struct site *site_build(const struct cfg *cfg, void *(*alloc)(size_t),
                        void (*release)(void *), int64_t (*wall_s)(void), char *err,
                        size_t errlen)
{
    struct site *s = calloc(1, sizeof *s);
    struct mime_override over[CFG_MAX_RULES];
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (unsigned i = 0; i < cfg->n_mime; i++)
        over[i] = (struct mime_override){cfg->mime[i].key, cfg->mime[i].value};
    s->mime = mime_map_load(cfg->mime_types, over, cfg->n_mime, err, errlen);
    if (!s->mime)
        goto fail;

    for (unsigned i = 0; i < cfg->n_expires; i++)
        s->expires[i] =
            (struct cache_expires){cfg->expires[i].match, cfg->expires[i].secs};
    struct cache_opts co = {
        .index = cfg->index,
        .serve_dotfiles = cfg->serve_dotfiles,
        .alloc = alloc,
        .release = release,
        .mime = s->mime,
        .expires = s->expires,
        .n_expires = cfg->n_expires,
    };
    s->cache = cache_build_opts(cfg->root, &co, err, errlen);
    if (!s->cache)
        goto fail;

    for (unsigned i = 0; i < cfg->n_vhosts; i++) {
        const struct cfg_vhost *v = &cfg->vhost[i];
        char verr[1024];
        co.index = v->index[0] ? v->index : cfg->index;
        s->vcache[i] = cache_build_opts(v->root, &co, verr, sizeof verr);
        if (!s->vcache[i]) {
            snprintf(err, errlen, "[vhost %s] %s", v->name, verr);
            goto fail;
        }
        s->n_vhosts = i + 1;
        size_t vl = 0;
        for (unsigned k = 0; k < v->n_header; k++) {
            int n = snprintf(s->vheaders[i] + vl, sizeof s->vheaders[i] - vl,
                             "%s: %s\r\n", v->header[k].key, v->header[k].value);
            if (n < 0 || (size_t)n >= sizeof s->vheaders[i] - vl) {
                snprintf(err, errlen, "[vhost %s] header.%s: headers over %d bytes",
                         v->name, v->header[k].key, CFG_HEADERS_MAX);
                goto fail;
            }
            vl += (size_t)n;
        }
        snprintf(s->vnames[i], sizeof s->vnames[i], "%s", v->hosts);
        s->vhosts[i] =
            (struct http_vhost){s->vnames[i], s->vcache[i], s->vheaders[i], vl};
    }

    size_t hl = 0;
    for (unsigned i = 0; i < cfg->n_header; i++) {
        int n = snprintf(s->headers + hl, sizeof s->headers - hl, "%s: %s\r\n",
                         cfg->header[i].key, cfg->header[i].value);
        if (n < 0 || (size_t)n >= sizeof s->headers - hl) {
            snprintf(err, errlen, "[http] header.%s: extra headers over %d bytes",
                     cfg->header[i].key, CFG_HEADERS_MAX);
            goto fail;
        }
        hl += (size_t)n;
    }

    for (unsigned i = 0; i < cfg->n_error_page; i++) {
        const char *path = cfg->error_page[i].value;
        if (!cache_lookup(s->cache, path, strlen(path), NULL)) {
            snprintf(err, errlen, "[http] error_page.%s: %s is not a file of the site %s",
                     cfg->error_page[i].key, path, cfg->root);
            goto fail;
        }
        snprintf(s->page_paths[i], sizeof s->page_paths[i], "%s", path);
        s->pages[i] =
            (struct http_error_page){atoi(cfg->error_page[i].key), s->page_paths[i]};
    }

    if (cfg->tls_listen) {
        s->tls = tls_site_build(cfg, cfg->n_cores, err, errlen);
        if (!s->tls)
            goto fail;
    }

    atomic_init(&s->refs, 0);
    snprintf(s->server_name, sizeof s->server_name, "%s", cfg->server_name);
    snprintf(s->status_path, sizeof s->status_path, "%s", cfg->status_path);
    s->http = (struct http_settings){
        .cache = s->cache,
        .server_name = s->server_name,
        .keepalive = cfg->keepalive,
        .keepalive_requests = cfg->keepalive_requests,
        .keepalive_timeout_ms = cfg->keepalive_timeout_ms,
        .header_timeout_ms = cfg->header_timeout_ms,
        .send_timeout_ms = cfg->send_timeout_ms,
        .max_conns_per_ip = cfg->max_conns_per_ip,
        .max_request_bytes = cfg->max_request_bytes,
        .max_uri_bytes = cfg->max_uri_bytes,
        .max_body_bytes = cfg->max_body_bytes,
        .gzip_static = cfg->gzip_static,
        .access_log = cfg->access_log[0] != '\0',
        .headers = s->headers,
        .headers_len = hl,
        .error_pages = s->pages,
        .n_error_pages = cfg->n_error_page,
        .vhosts = s->vhosts,
        .n_vhosts = s->n_vhosts,
        .wall_s = wall_s,
        .status_path = s->status_path,
        .redirect_https_port = cfg->redirect_https ? cfg->tls_listen : 0,
    };
    return s;
fail:
    site_free(s);
    return NULL;
}

void site_free(struct site *s)
{
    if (!s)
        return;
    cache_free(s->cache);
    for (unsigned i = 0; i < s->n_vhosts; i++)
        cache_free(s->vcache[i]);
    mime_map_free(s->mime);
    tls_site_free(s->tls);
    free(s);
}

void site_log_conf(const struct cfg *cfg, struct log_conf *out)
{
    *out = (struct log_conf){
        .access_path = cfg->access_log,
        .format = cfg->access_log_format == 1 ? LOG_JSON : LOG_COMBINED,
        .error_path = cfg->error_log,
        .level = (enum log_level)cfg->error_log_level,
    };
}
