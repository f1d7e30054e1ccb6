/**
 * @file test_addrs.c
 * A context that owns a range of local addresses (ts_params ip + ip_count,
 * as the load generator uses to look like many clients): ARP answers for
 * each of them and for nothing past the range, IPv4 input takes them,
 * passive connections answer from the address the peer chose, active
 * opens take their source round-robin or from bind, and the flow table
 * tells apart connections that differ only in the local address. The
 * flow table's hash is keyed per context. ICMP echo answers from the
 * address pinged.
 */
#include <errno.h>

#include "harness.h"
#include "ts_priv.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define PSH RTE_TCP_PSH_FLAG

#define N_ADDRS 4

static void four_addresses(struct ts_params *p)
{
    p->ip_count = N_ADDRS;
}

static void arp_answers_for_every_local_address(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, four_addresses);
    for (uint32_t i = 0; i < N_ADDRS; i++) {
        th_inject(&h, th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP + i));
        assert_int_equal(h.nout, 1);
        struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h.out[0], struct rte_ether_hdr *);
        struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);
        assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
        assert_memory_equal(&a->arp_data.arp_sha, &th_us_mac, 6);
        /* the reply speaks for the address asked about */
        assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_sip), TH_US_IP + i);
        assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_tip), TH_PEER_IP);
        th_clear(&h);
    }
    /* one past the range, and one below it, are another host's */
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP + N_ADDRS));
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP - 1));
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_not_for_us, 2);
    assert_int_equal(th_stats(&h).arp_replies_tx, N_ADDRS);
    th_fini(&h);
}

/* An echo request to a second address is answered from that address. */
static void echo_reply_from_the_address_pinged(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, four_addresses);
    th_peer_arp(&h);
    struct rte_mbuf *m = th_echo_request(&h, 7, 1, "ping");
    struct rte_ipv4_hdr *ip = th_ip_of(m);
    ip->dst_addr = rte_cpu_to_be_32(TH_US_IP + 3);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    th_inject(&h, m);
    assert_int_equal(h.nout, 1);
    ip = th_ip_of(h.out[0]);
    assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
    assert_int_equal(rte_be_to_cpu_32(ip->src_addr), TH_US_IP + 3);
    assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), TH_PEER_IP);
    assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
    th_fini(&h);
}

/* The handshake of the peer's port @p sport to our address @p dst, port 80;
 * returns the accepted fd and the SYN-ACK's sequence number. */
static int open_to(struct th *h, int lfd, uint32_t dst, uint16_t sport, uint32_t *iss)
{
    th_inject(h, th_tcp_frame_to(h, dst, sport, TH_PORT, SYN, TH_PEER_ISS, 0, 65535, NULL,
                                 0, 1460));
    assert_int_equal(h->nout, 1);
    struct th_seg sa = th_out_tcp(h, 0);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(sa.src, dst); /* answered from the address the peer chose */
    assert_int_equal(sa.dst, TH_PEER_IP);
    th_clear(h);
    *iss = sa.seq;
    th_inject(h, th_tcp_frame_to(h, dst, sport, TH_PORT, ACK, TH_PEER_ISS + 1, sa.seq + 1,
                                 65535, NULL, 0, 0));
    assert_int_equal(h->nout, 0);
    uint32_t peer = 0;
    uint16_t port = 0;
    int fd = ts_accept(h->ctx, lfd, &peer, &port);
    assert_true(fd > 0);
    assert_int_equal(peer, TH_PEER_IP);
    assert_int_equal(port, sport);
    return fd;
}

/* Two connections with the same ports and peer, to two of our addresses:
 * two flows, each with its own data and its own source address. */
static void passive_opens_on_two_local_addresses(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, four_addresses);
    th_peer_arp(&h);
    int lfd = th_listen(&h);
    uint32_t iss1, iss2;
    int fd1 = open_to(&h, lfd, TH_US_IP + 2, TH_PEER_PORT, &iss1);
    int fd2 = open_to(&h, lfd, TH_US_IP, TH_PEER_PORT, &iss2);
    assert_int_not_equal(fd1, fd2);
    assert_int_not_equal(iss1, iss2); /* the ISN covers the local address */
    assert_int_equal(th_stats(&h).tcp_established, 2);

    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP + 2, TH_PEER_PORT, TH_PORT, ACK | PSH,
                                  TH_PEER_ISS + 1, iss1 + 1, 65535, "one", 3, 0));
    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP, TH_PEER_PORT, TH_PORT, ACK | PSH,
                                  TH_PEER_ISS + 1, iss2 + 1, 65535, "second", 6, 0));
    char buf[16];
    assert_int_equal(ts_read(h.ctx, fd1, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(ts_read(h.ctx, fd2, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "second", 6);
    th_clear(&h);

    assert_int_equal(ts_write(h.ctx, fd1, "a", 1), 1);
    assert_int_equal(ts_write(h.ctx, fd2, "bb", 2), 2);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 2);
    for (unsigned i = 0; i < 2; i++) {
        struct th_seg s = th_out_tcp(&h, i);
        if (s.len == 1) {
            assert_int_equal(s.src, TH_US_IP + 2);
            assert_int_equal(s.seq, iss1 + 1);
        } else {
            assert_int_equal(s.len, 2);
            assert_int_equal(s.src, TH_US_IP);
            assert_int_equal(s.seq, iss2 + 1);
        }
    }
    th_clear(&h);

    /* a SYN past the range is not ours; a bare ACK to an address of ours
     * with no flow is answered with a reset from that address */
    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP + N_ADDRS, 1234, TH_PORT, SYN, 1, 0, 65535,
                                  NULL, 0, 1460));
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_not_for_us, 1);
    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP + 3, TH_PEER_PORT, TH_PORT, ACK,
                                  TH_PEER_ISS + 1, iss1 + 1, 65535, NULL, 0, 0));
    assert_int_equal(h.nout, 1);
    struct th_seg r = th_out_tcp(&h, 0);
    assert_int_equal(r.flags, RTE_TCP_RST_FLAG);
    assert_int_equal(r.src, TH_US_IP + 3);
    th_fini(&h);
}

/* A listener bound to one address does not take SYNs to another. */
static void listener_bound_to_one_address(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, four_addresses);
    th_peer_arp(&h);
    int lfd = ts_socket(h.ctx);
    assert_int_equal(ts_bind(h.ctx, lfd, TH_US_IP + 1, TH_PORT), 0);
    assert_int_equal(ts_listen(h.ctx, lfd, 16), 0);
    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP, 1234, TH_PORT, SYN, 1, 0, 65535, NULL, 0,
                                  1460));
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).flags, RTE_TCP_RST_FLAG | ACK);
    th_clear(&h);
    uint32_t iss;
    int fd = open_to(&h, lfd, TH_US_IP + 1, 1234, &iss);
    assert_true(fd > 0);
    th_fini(&h);
}

static struct th_seg connect_syn(struct th *h, int fd, uint16_t rport)
{
    assert_int_equal(ts_connect(h->ctx, fd, TH_PEER_IP, rport), -1);
    assert_int_equal(errno, EINPROGRESS);
    th_advance(h, 0);
    assert_int_equal(h->nout, 1);
    struct th_seg syn = th_out_tcp(h, 0);
    assert_int_equal(syn.flags, SYN);
    th_clear(h);
    return syn;
}

/* Unbound sockets take the addresses in turn; a socket bound to an
 * address (port 0) connects from it with an ephemeral port; the same
 * local port may serve two local addresses towards one peer. */
static void active_opens_round_robin_and_bound(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, four_addresses);
    th_peer_arp(&h);
    for (uint32_t i = 0; i < N_ADDRS + 1; i++) {
        int fd = ts_socket(h.ctx);
        struct th_seg syn = connect_syn(&h, fd, 8080);
        assert_int_equal(syn.src, TH_US_IP + i % N_ADDRS);
        assert_true(syn.sport >= 32768 && syn.sport <= 60999);
    }

    int fd = ts_socket(h.ctx);
    assert_int_equal(ts_bind(h.ctx, fd, TH_US_IP + N_ADDRS, 0), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    assert_int_equal(ts_bind(h.ctx, fd, 0, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ts_bind(h.ctx, fd, TH_US_IP + 3, 0), 0);
    assert_int_equal(ts_bind(h.ctx, fd, TH_US_IP + 2, 0), -1); /* bound already */
    struct th_seg syn = connect_syn(&h, fd, 9090);
    assert_int_equal(syn.src, TH_US_IP + 3);
    /* the SYN-ACK to that address completes that connection */
    th_inject(&h, th_tcp_frame_to(&h, TH_US_IP + 3, 9090, syn.sport, SYN | ACK, 500,
                                  syn.seq + 1, 65535, NULL, 0, 1460));
    assert_int_equal(h.nout, 1);
    struct th_seg a = th_out_tcp(&h, 0);
    assert_int_equal(a.flags, ACK);
    assert_int_equal(a.src, TH_US_IP + 3);
    assert_int_equal(a.ack, 501);
    th_clear(&h);
    assert_int_equal(ts_write(h.ctx, fd, "x", 1), 1);
    th_advance(&h, 0);
    assert_int_equal(h.nout, 1);
    assert_int_equal(th_out_tcp(&h, 0).src, TH_US_IP + 3);
    th_clear(&h);

    /* one local port, two local addresses, one peer: two flows */
    int a1 = ts_socket(h.ctx), a2 = ts_socket(h.ctx), a3 = ts_socket(h.ctx);
    assert_int_equal(ts_bind(h.ctx, a1, TH_US_IP, 5555), 0);
    assert_int_equal(ts_bind(h.ctx, a2, TH_US_IP + 1, 5555), 0);
    assert_int_equal(ts_bind(h.ctx, a3, TH_US_IP, 5555), 0);
    assert_int_equal(connect_syn(&h, a1, 7070).src, TH_US_IP);
    assert_int_equal(connect_syn(&h, a2, 7070).src, TH_US_IP + 1);
    assert_int_equal(ts_connect(h.ctx, a3, TH_PEER_IP, 7070), -1);
    assert_int_equal(errno, EADDRINUSE);
    th_fini(&h);
}

/* Flow lookup keys on all of laddr, raddr, rport, lport; the bucket of a
 * 4-tuple depends on the context's secret; chains stay short with the
 * table full of tuples that differ only in the peer's port. */
static void flow_table_keys_on_laddr_and_secret(void **state)
{
    (void)state;
    struct th h[2];
    for (int k = 0; k < 2; k++) {
        struct ts_params p;
        th_params(&p);
        p.max_flows = 4096;
        p.isn_key[1] = (uint32_t)k * 0x9e3779b9u + 7;
        th_start(&h[k], &p);
    }
    struct ts_ctx *ctx = h[0].ctx;
    struct ts_sock *s1 = ts_sock_alloc(ctx, TS_KIND_TCP);
    struct ts_sock *s2 = ts_sock_alloc(ctx, TS_KIND_TCP);
    *s1 = (struct ts_sock){.kind = TS_KIND_TCP,
                           .laddr = TH_US_IP,
                           .raddr = TH_PEER_IP,
                           .rport = 1000,
                           .lport = 80,
                           .hnext = -1,
                           .listener = -1};
    *s2 = *s1;
    s2->laddr = TH_US_IP + 1;
    ts_flow_insert(ctx, s1);
    ts_flow_insert(ctx, s2);
    assert_ptr_equal(ts_flow_lookup(ctx, TH_US_IP, TH_PEER_IP, 1000, 80), s1);
    assert_ptr_equal(ts_flow_lookup(ctx, TH_US_IP + 1, TH_PEER_IP, 1000, 80), s2);
    assert_null(ts_flow_lookup(ctx, TH_US_IP + 2, TH_PEER_IP, 1000, 80));
    ts_flow_remove(ctx, s1);
    assert_null(ts_flow_lookup(ctx, TH_US_IP, TH_PEER_IP, 1000, 80));
    assert_ptr_equal(ts_flow_lookup(ctx, TH_US_IP + 1, TH_PEER_IP, 1000, 80), s2);
    ts_flow_remove(ctx, s2);
    ts_sock_free(ctx, s1);
    ts_sock_free(ctx, s2);

    /* 3000 flows in each context: same tuples, different secrets */
    enum { N = 3000 };
    static int32_t bucket[2][N];
    for (int k = 0; k < 2; k++) {
        struct ts_ctx *c = h[k].ctx;
        for (uint32_t i = 0; i < N; i++) {
            struct ts_sock *s = ts_sock_alloc(c, TS_KIND_TCP);
            assert_non_null(s);
            s->laddr = TH_US_IP;
            s->raddr = TH_PEER_IP;
            s->rport = (uint16_t)(1024 + i);
            s->lport = 80;
            ts_flow_insert(c, s);
        }
        uint32_t longest = 0;
        for (uint32_t b = 0; b <= c->flow_mask; b++) {
            uint32_t len = 0;
            for (int32_t i = c->flow_buckets[b]; i >= 0; i = c->socks[i].hnext) {
                bucket[k][c->socks[i].rport - 1024] = (int32_t)b;
                len++;
            }
            longest = len > longest ? len : longest;
        }
        assert_true(longest <= 10); /* 3000 in 4096 buckets: a handful at most */
        for (uint32_t i = 0; i < N; i++) {
            struct ts_sock *s =
                ts_flow_lookup(c, TH_US_IP, TH_PEER_IP, (uint16_t)(1024 + i), 80);
            assert_non_null(s);
            ts_flow_remove(c, s);
            ts_sock_free(c, s);
        }
    }
    uint32_t same = 0;
    for (uint32_t i = 0; i < N; i++)
        same += bucket[0][i] == bucket[1][i];
    assert_true(same < N / 50); /* unrelated placements: ~N/4096 by chance */
    th_fini(&h[0]);
    th_fini(&h[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arp_answers_for_every_local_address),
        cmocka_unit_test(echo_reply_from_the_address_pinged),
        cmocka_unit_test(passive_opens_on_two_local_addresses),
        cmocka_unit_test(listener_bound_to_one_address),
        cmocka_unit_test(active_opens_round_robin_and_bound),
        cmocka_unit_test(flow_table_keys_on_laddr_and_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
