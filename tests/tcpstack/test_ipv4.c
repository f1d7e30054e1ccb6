/**
 * @file test_ipv4.c
 * IPv4 validation (every bad datagram counted and dropped, nothing sent)
 * and ICMP echo (the reply mirrors identifier, sequence and data).
 */
#include "harness.h"

static void echo_reply_mirrors_request(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    th_inject(&h, th_echo_request(&h, 0x1234, 7, "corehttpd ping data"));
    assert_int_equal(h.nout, 1);
    struct rte_ipv4_hdr *ip = th_ip_of(h.out[0]);
    assert_int_equal(rte_be_to_cpu_32(ip->src_addr), TH_US_IP);
    assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), TH_PEER_IP);
    assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
    size_t len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip);
    struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
    assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
    assert_int_equal(rte_be_to_cpu_16(ic->icmp_ident), 0x1234);
    assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), 7);
    assert_int_equal(len, sizeof(*ic) + strlen("corehttpd ping data"));
    assert_memory_equal(ic + 1, "corehttpd ping data", strlen("corehttpd ping data"));
    assert_int_equal(rte_raw_cksum(ic, len), 0xffff);
    assert_int_equal(th_stats(&h).icmp_echo_rx, 1);
    th_fini(&h);
}

static void bad_icmp_checksum_dropped(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    struct rte_mbuf *m = th_echo_request(&h, 1, 1, "x");
    ((struct rte_icmp_hdr *)(th_ip_of(m) + 1))->icmp_cksum ^= 0x0101;
    th_inject(&h, m);
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_bad_cksum, 1);
    th_fini(&h);
}

/* Each case corrupts one field of an otherwise valid echo request. */
enum damage { BAD_VERSION, BAD_IHL, BAD_CKSUM, TOTLEN_TOO_LONG, NOT_FOR_US, FRAGMENT };

static void inject_damaged(struct th *h, enum damage d)
{
    struct rte_mbuf *m = th_echo_request(h, 1, 1, "payload");
    struct rte_ipv4_hdr *ip = th_ip_of(m);
    switch (d) {
    case BAD_VERSION:
        ip->version_ihl = 0x65;
        break;
    case BAD_IHL:
        ip->version_ihl = 0x44;
        break;
    case BAD_CKSUM:
        ip->hdr_checksum ^= 0x0100;
        return th_inject(h, m);
    case TOTLEN_TOO_LONG:
        ip->total_length = rte_cpu_to_be_16(1400);
        break;
    case NOT_FOR_US:
        ip->dst_addr = rte_cpu_to_be_32(TH_OTHER_IP);
        break;
    case FRAGMENT:
        ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
        break;
    }
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    th_inject(h, m);
}

static void invalid_datagrams_counted_and_dropped(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    inject_damaged(&h, BAD_VERSION);
    inject_damaged(&h, BAD_IHL);
    inject_damaged(&h, TOTLEN_TOO_LONG);
    assert_int_equal(th_stats(&h).rx_bad_ip, 3);
    inject_damaged(&h, BAD_CKSUM);
    assert_int_equal(th_stats(&h).rx_bad_cksum, 1);
    inject_damaged(&h, NOT_FOR_US);
    assert_int_equal(th_stats(&h).rx_not_for_us, 1);
    inject_damaged(&h, FRAGMENT);
    assert_int_equal(th_stats(&h).rx_fragments, 1);
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).icmp_echo_rx, 0);
    /* and the stack is still fine */
    th_inject(&h, th_echo_request(&h, 2, 2, "ok"));
    assert_int_equal(h.nout, 1);
    th_fini(&h);
}

static void ethernet_padding_trimmed(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    struct rte_mbuf *m = th_echo_request(&h, 3, 3, "ab");
    char *pad = rte_pktmbuf_append(m, 12); /* a short frame padded to 60 bytes */
    memset(pad, 0xee, 12);
    th_inject(&h, m);
    assert_int_equal(h.nout, 1);
    struct rte_ipv4_hdr *ip = th_ip_of(h.out[0]);
    assert_int_equal(rte_be_to_cpu_16(ip->total_length), sizeof(*ip) + 8 + 2);
    th_fini(&h);
}

static void foreign_mac_and_ethertype_dropped(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    struct rte_mbuf *m = th_echo_request(&h, 1, 1, "x");
    rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes[5] ^= 0x40;
    th_inject(&h, m);
    m = th_echo_request(&h, 1, 1, "x");
    rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type =
        rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
    th_inject(&h, m);
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_not_for_us, 1);
    assert_int_equal(th_stats(&h).rx_unsupported, 1);
    th_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_reply_mirrors_request),
        cmocka_unit_test(bad_icmp_checksum_dropped),
        cmocka_unit_test(invalid_datagrams_counted_and_dropped),
        cmocka_unit_test(ethernet_padding_trimmed),
        cmocka_unit_test(foreign_mac_and_ethertype_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
