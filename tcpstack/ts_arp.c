/**
 * @file ts_arp.c
 * ARP (RFC 826) for IPv4 over Ethernet: answers requests for our addresses,
 * learns from requests and replies addressed to us, resolves next hops, and
 * holds a few frames per context while a resolution is under way. An entry
 * past its lifetime is used for a few seconds more while it is asked for
 * again, so a neighbour that answers never loses a frame to the refresh.
 *
 * A flood from spoofed on-link addresses (whose SYN-ACKs need an ARP
 * answer that never comes) must not starve a real neighbour of the few
 * pending slots: when they are full, the oldest held frame and the oldest
 * request give way to the new ones, so a real neighbour's request goes out
 * and is answered long before the flood pushes it out in turn.
 *
 * The table is shared by every core's context and is read-mostly. Each
 * entry is a seqlock: a writer makes the sequence odd with a compare-and-swap,
 * writes, and makes it even again; a reader retries while it sees an odd or
 * changed sequence. So readers never wait and always see whole entries.
 */
#include <string.h>

#include <rte_arp.h>

#include "ts_priv.h"

struct ts_arp_entry {
    _Atomic uint32_t seq;
    uint32_t ip; /* 0: empty slot */
    struct rte_ether_addr mac;
    uint64_t updated_us;
};

struct ts_arp_table {
    uint32_t mask;
    uint64_t ttl_us;
    struct ts_arp_entry *e;
};

#define ARP_PENDING 32        /* frames held per context */
#define ARP_RETRY_US 1000000u /* between requests for one address */
#define ARP_TRIES 3
/* An entry past its lifetime stays in use this long while it is asked for
 * again (Linux's STALE and PROBE states): a neighbour that answers is never
 * unreachable for a moment, where holding every frame until the answer came
 * dropped thousands under load (32 held, the rest dropped, then timeouts). */
#define ARP_STALE_US ((uint64_t)ARP_TRIES * ARP_RETRY_US)

enum arp_state {
    ARP_NONE,  /* unknown, or stale for longer than ARP_STALE_US */
    ARP_FRESH, /* within its lifetime */
    ARP_STALE, /* past it: used while a request asks again */
};

struct ts_arp_pending {
    struct rte_mbuf *m[ARP_PENDING];
    uint32_t dst[ARP_PENDING];
    uint32_t req_ip[ARP_PENDING]; /* addresses being asked for */
    uint64_t req_us[ARP_PENDING];
    uint8_t req_tries[ARP_PENDING];
    uint32_t n;
    uint32_t nreq; /* addresses being asked for (non-zero req_ip) */
};

struct ts_arp_table *ts_arp_table_create(unsigned entries, uint32_t ttl_ms)
{
    uint32_t n = 1;
    while (n < entries * 2u)
        n <<= 1;
    struct ts_arp_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->e = calloc(n, sizeof(*t->e));
    if (t->e == NULL) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->ttl_us = (uint64_t)ttl_ms * 1000;
    return t;
}

void ts_arp_table_destroy(struct ts_arp_table *t)
{
    if (t) {
        free(t->e);
        free(t);
    }
}

static uint32_t arp_hash(uint32_t ip)
{
    return (ip * 2654435761u) >> 7;
}

/* Reads the entry for @p ip into @p mac. */
static enum arp_state arp_lookup(struct ts_arp_table *t, uint32_t ip, uint64_t now,
                                 struct rte_ether_addr *mac)
{
    for (uint32_t i = 0, h = arp_hash(ip); i <= t->mask; i++) {
        struct ts_arp_entry *e = &t->e[(h + i) & t->mask];
        uint32_t s1, eip;
        uint64_t upd;
        do {
            s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
            eip = e->ip;
            *mac = e->mac;
            upd = e->updated_us;
            atomic_thread_fence(memory_order_acquire);
        } while ((s1 & 1) || s1 != atomic_load_explicit(&e->seq, memory_order_relaxed));
        if (eip == 0)
            return ARP_NONE;
        if (eip == ip) {
            uint64_t age = now - upd;
            return age < t->ttl_us                  ? ARP_FRESH
                   : age < t->ttl_us + ARP_STALE_US ? ARP_STALE
                                                    : ARP_NONE;
        }
    }
    return ARP_NONE;
}

static void arp_update(struct ts_arp_table *t, uint32_t ip,
                       const struct rte_ether_addr *mac, uint64_t now)
{
    for (uint32_t i = 0, h = arp_hash(ip); i <= t->mask; i++) {
        struct ts_arp_entry *e = &t->e[(h + i) & t->mask];
        uint32_t s = atomic_load_explicit(&e->seq, memory_order_acquire);
        if (s & 1) { /* another core is writing this slot: let it win */
            return;
        }
        if (e->ip != 0 && e->ip != ip)
            continue;
        if (!atomic_compare_exchange_strong(&e->seq, &s, s + 1))
            return;
        e->ip = ip;
        e->mac = *mac;
        e->updated_us = now;
        atomic_store_explicit(&e->seq, s + 2, memory_order_release);
        return;
    }
}

int ts_arp_ctx_init(struct ts_ctx *ctx)
{
    ctx->arp_pend = calloc(1, sizeof(*ctx->arp_pend));
    return ctx->arp_pend ? 0 : -ENOMEM;
}

void ts_arp_ctx_fini(struct ts_ctx *ctx)
{
    if (ctx->arp_pend == NULL)
        return;
    for (uint32_t i = 0; i < ctx->arp_pend->n; i++)
        rte_pktmbuf_free(ctx->arp_pend->m[i]);
    free(ctx->arp_pend);
}

/* @p sip: ours, the address asked for in a reply. */
static void arp_send(struct ts_ctx *ctx, uint16_t op, uint32_t sip,
                     const struct rte_ether_addr *tha, uint32_t tip)
{
    struct rte_mbuf *m = ts_alloc(ctx);
    if (m == NULL)
        return;
    size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
    struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
    if (op == RTE_ARP_OP_REQUEST)
        memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
    else
        eh->dst_addr = *tha;
    eh->src_addr = ctx->p.mac;
    eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    ah->arp_hlen = RTE_ETHER_ADDR_LEN;
    ah->arp_plen = 4;
    ah->arp_opcode = rte_cpu_to_be_16(op);
    ah->arp_data.arp_sha = ctx->p.mac;
    ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
    if (op == RTE_ARP_OP_REQUEST)
        memset(&ah->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
    else
        ah->arp_data.arp_tha = *tha;
    ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
    if (op == RTE_ARP_OP_REQUEST)
        ctx->st.arp_requests_tx++;
    else
        ctx->st.arp_replies_tx++;
    ts_emit(ctx, m);
}

static void arp_send_frame(struct ts_ctx *ctx, struct rte_mbuf *m,
                           const struct rte_ether_addr *dmac)
{
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    eh->dst_addr = *dmac;
    eh->src_addr = ctx->p.mac;
    eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    ts_emit(ctx, m);
}

/* Sends the frames that waited for @p ip to @p mac, or drops them when
 * @p mac is NULL (the address did not answer), and ends the request. */
static void arp_pending_take(struct ts_ctx *ctx, uint32_t ip,
                             const struct rte_ether_addr *mac)
{
    struct ts_arp_pending *p = ctx->arp_pend;
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->dst[i] == ip) {
            if (mac) {
                arp_send_frame(ctx, p->m[i], mac);
            } else {
                ctx->st.arp_pending_drops++;
                rte_pktmbuf_free(p->m[i]);
            }
            continue;
        }
        p->m[k] = p->m[i];
        p->dst[k] = p->dst[i];
        k++;
    }
    p->n = k;
    for (uint32_t i = 0; i < ARP_PENDING; i++)
        if (p->req_ip[i] == ip) {
            p->req_ip[i] = 0;
            p->nreq--;
        }
}

void ts_arp_input(struct ts_ctx *ctx, struct rte_mbuf *m)
{
    size_t need = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
    if (rte_pktmbuf_data_len(m) < need) {
        ctx->st.rx_bad_eth++;
        goto drop;
    }
    struct rte_arp_hdr *ah =
        rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
    if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
        ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
        ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4) {
        ctx->st.rx_unsupported++;
        goto drop;
    }
    uint32_t sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
    uint32_t tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
    uint16_t op = rte_be_to_cpu_16(ah->arp_opcode);
    if (!ts_addr_local(ctx, tip)) {
        ctx->st.rx_not_for_us++;
        goto drop;
    }
    struct rte_ether_addr sha = ah->arp_data.arp_sha;
    /* RFC 826 merge: a sender that talks to us is worth remembering */
    if (sip != 0 && !rte_is_multicast_ether_addr(&sha)) {
        arp_update(ctx->arp, sip, &sha, ctx->now);
        arp_pending_take(ctx, sip, &sha);
    }
    if (op == RTE_ARP_OP_REQUEST) {
        ctx->st.arp_requests_rx++;
        arp_send(ctx, RTE_ARP_OP_REPLY, tip, &sha, sip);
    }
drop:
    rte_pktmbuf_free(m);
}

static uint32_t next_hop(const struct ts_ctx *ctx, uint32_t dst)
{
    if ((dst & ctx->p.netmask) == (ctx->p.ip & ctx->p.netmask))
        return dst;
    return ctx->p.gateway;
}

static void arp_request(struct ts_ctx *ctx, uint32_t hop)
{
    struct ts_arp_pending *p = ctx->arp_pend;
    int slot = -1, oldest = 0;
    for (int i = 0; i < ARP_PENDING; i++) {
        if (p->req_ip[i] == hop)
            return; /* already asking */
        if (p->req_ip[i] == 0 && slot < 0)
            slot = i;
        if (p->req_us[i] < p->req_us[oldest])
            oldest = i;
    }
    if (slot < 0) {
        /* every slot asks already: the oldest request gives way (its held
         * frames are dropped and counted), as a flood of addresses that
         * never answer would otherwise hold them all */
        arp_pending_take(ctx, p->req_ip[oldest], NULL);
        slot = oldest;
    }
    p->req_ip[slot] = hop;
    p->nreq++;
    p->req_us[slot] = ctx->now;
    p->req_tries[slot] = 1;
    arp_send(ctx, RTE_ARP_OP_REQUEST, ctx->p.ip, NULL, hop);
}

void ts_arp_output(struct ts_ctx *ctx, struct rte_mbuf *m, uint32_t dst)
{
    uint32_t hop = next_hop(ctx, dst);
    struct rte_ether_addr mac;
    if (hop == 0) {
        ctx->st.arp_pending_drops++;
        rte_pktmbuf_free(m);
        return;
    }
    enum arp_state st = arp_lookup(ctx->arp, hop, ctx->now, &mac);
    if (st != ARP_NONE) {
        if (st == ARP_STALE)
            arp_request(ctx, hop); /* once: the retries are the tick's */
        arp_send_frame(ctx, m, &mac);
        return;
    }
    struct ts_arp_pending *p = ctx->arp_pend;
    arp_request(ctx, hop);
    if (p->n == ARP_PENDING) {
        /* full: the oldest held frame gives way */
        ctx->st.arp_pending_drops++;
        rte_pktmbuf_free(p->m[0]);
        memmove(&p->m[0], &p->m[1], (ARP_PENDING - 1) * sizeof(p->m[0]));
        memmove(&p->dst[0], &p->dst[1], (ARP_PENDING - 1) * sizeof(p->dst[0]));
        p->n--;
    }
    p->m[p->n] = m;
    p->dst[p->n] = hop;
    p->n++;
}

void ts_arp_tick(struct ts_ctx *ctx)
{
    struct ts_arp_pending *p = ctx->arp_pend;
    if (p->nreq == 0) /* the usual case: runs on every poll */
        return;
    for (int i = 0; i < ARP_PENDING; i++) {
        uint32_t hop = p->req_ip[i];
        if (hop == 0)
            continue;
        struct rte_ether_addr mac;
        if (arp_lookup(ctx->arp, hop, ctx->now, &mac) == ARP_FRESH) {
            /* answered, or another core learnt it */
            arp_pending_take(ctx, hop, &mac);
            continue;
        }
        if (ctx->now - p->req_us[i] < ARP_RETRY_US)
            continue;
        if (p->req_tries[i] >= ARP_TRIES) {
            arp_pending_take(ctx, hop, NULL);
            continue;
        }
        p->req_tries[i]++;
        p->req_us[i] = ctx->now;
        arp_send(ctx, RTE_ARP_OP_REQUEST, ctx->p.ip, NULL, hop);
    }
}
