/**
 * @file test_arp.c
 * ARP: answering requests for our address, ignoring others, resolving a
 * peer before sending to it (frames held meanwhile, released by the reply,
 * dropped after the last unanswered request), a stale entry used while it
 * is asked for again, and bad ARP frames.
 */
#include "harness.h"

static struct rte_arp_hdr *out_arp(struct th *h, unsigned i)
{
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h->out[i], struct rte_ether_hdr *);
    assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_ARP);
    return (struct rte_arp_hdr *)(eh + 1);
}

static void answers_request_for_us(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP));
    assert_int_equal(h.nout, 1);
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h.out[0], struct rte_ether_hdr *);
    assert_memory_equal(&eh->dst_addr, &th_peer_mac, 6);
    assert_memory_equal(&eh->src_addr, &th_us_mac, 6);
    struct rte_arp_hdr *a = out_arp(&h, 0);
    assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
    assert_memory_equal(&a->arp_data.arp_sha, &th_us_mac, 6);
    assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_sip), TH_US_IP);
    assert_memory_equal(&a->arp_data.arp_tha, &th_peer_mac, 6);
    assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_tip), TH_PEER_IP);
    assert_int_equal(th_stats(&h).arp_replies_tx, 1);
    th_fini(&h);
}

static void ignores_request_for_another_host(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_OTHER_IP));
    assert_int_equal(h.nout, 0);
    assert_int_equal(th_stats(&h).rx_not_for_us, 1);
    th_fini(&h);
}

static void drops_malformed_arp(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    struct rte_mbuf *m = th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP);
    rte_pktmbuf_trim(m, 10); /* cut into the ARP body */
    th_inject(&h, m);
    m = th_arp(&h, RTE_ARP_OP_REQUEST, TH_PEER_IP, TH_US_IP);
    rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14)->arp_plen = 16; /* not IPv4 */
    th_inject(&h, m);
    assert_int_equal(h.nout, 0);
    struct ts_stats st = th_stats(&h);
    assert_int_equal(st.rx_bad_eth, 1);
    assert_int_equal(st.rx_unsupported, 1);
    th_fini(&h);
}

/* Sending to an unresolved peer: a reply to a ping we cannot address yet. */
static void resolves_then_releases_held_frame(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_inject(&h, th_echo_request(&h, 1, 1, "12345678"));
    /* the echo reply waits; an ARP request goes out instead */
    assert_int_equal(h.nout, 1);
    struct rte_arp_hdr *a = out_arp(&h, 0);
    assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REQUEST);
    assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_tip), TH_PEER_IP);
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h.out[0], struct rte_ether_hdr *);
    assert_true(rte_is_broadcast_ether_addr(&eh->dst_addr));
    th_clear(&h);
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REPLY, TH_PEER_IP, TH_US_IP));
    assert_int_equal(h.nout, 1); /* the held echo reply */
    eh = rte_pktmbuf_mtod(h.out[0], struct rte_ether_hdr *);
    assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
    assert_memory_equal(&eh->dst_addr, &th_peer_mac, 6);
    th_fini(&h);
}

static void gives_up_after_three_requests(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_inject(&h, th_echo_request(&h, 1, 1, ""));
    assert_int_equal(h.nout, 1);
    th_clear(&h);
    th_advance(&h, 500000); /* not yet time to ask again */
    assert_int_equal(h.nout, 0);
    th_advance(&h, 600000);
    assert_int_equal(h.nout, 1); /* second request */
    th_advance(&h, 1100000);
    assert_int_equal(h.nout, 2); /* third */
    th_advance(&h, 1100000);
    assert_int_equal(h.nout, 2); /* no fourth: the held frame is dropped */
    assert_int_equal(th_stats(&h).arp_pending_drops, 1);
    assert_int_equal(th_stats(&h).arp_requests_tx, 3);
    th_fini(&h);
}

/* The frame that went out at @p i: ARP or IPv4, to @p mac. */
static bool out_is(struct th *h, unsigned i, uint16_t type,
                   const struct rte_ether_addr *mac)
{
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h->out[i], struct rte_ether_hdr *);
    return rte_be_to_cpu_16(eh->ether_type) == type &&
           (mac ? rte_is_same_ether_addr(&eh->dst_addr, mac)
                : rte_is_broadcast_ether_addr(&eh->dst_addr));
}

/* Past its 60 s lifetime an entry is still used while it is asked for again
 * (frames go at once, nothing is held or dropped); answered, it is fresh
 * again and nothing more is asked. */
static void stale_entry_used_while_asked_again(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h); /* learnt from the request */
    th_inject(&h, th_echo_request(&h, 1, 1, ""));
    assert_int_equal(h.nout, 1); /* answered at once: the entry is known */
    assert_int_equal(th_stats(&h).arp_requests_tx, 0);
    th_clear(&h);
    th_advance(&h, 61000000); /* past the 60 s lifetime */
    th_inject(&h, th_echo_request(&h, 1, 2, ""));
    th_inject(&h, th_echo_request(&h, 1, 3, ""));
    assert_int_equal(h.nout, 3); /* the request, and both replies at once */
    assert_true(out_is(&h, 0, RTE_ETHER_TYPE_ARP, NULL));
    assert_true(out_is(&h, 1, RTE_ETHER_TYPE_IPV4, &th_peer_mac));
    assert_true(out_is(&h, 2, RTE_ETHER_TYPE_IPV4, &th_peer_mac));
    assert_int_equal(th_stats(&h).arp_requests_tx, 1);
    assert_int_equal(th_stats(&h).arp_pending_drops, 0);
    th_clear(&h);
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REPLY, TH_PEER_IP, TH_US_IP));
    th_advance(&h, 2000000); /* no retry: answered */
    th_inject(&h, th_echo_request(&h, 1, 4, ""));
    assert_int_equal(h.nout, 1);
    assert_true(out_is(&h, 0, RTE_ETHER_TYPE_IPV4, &th_peer_mac));
    assert_int_equal(th_stats(&h).arp_requests_tx, 1);
    th_fini(&h);
}

/* A stale entry nobody confirms is dropped once its requests are spent: a
 * frame then waits for an answer, as to an unknown address. */
static void unconfirmed_entry_expires(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    th_peer_arp(&h);
    th_advance(&h, 61000000);
    th_inject(&h, th_echo_request(&h, 1, 1, ""));
    assert_int_equal(h.nout, 2); /* asked again; the reply went */
    th_clear(&h);
    th_advance(&h, 1100000);
    th_advance(&h, 1100000);
    assert_int_equal(th_stats(&h).arp_requests_tx, 3);
    th_advance(&h, 1100000); /* 64.3 s: past lifetime and the 3 s of asking */
    th_clear(&h);
    th_inject(&h, th_echo_request(&h, 1, 2, ""));
    assert_int_equal(h.nout, 1); /* held: only a request goes out */
    assert_true(out_is(&h, 0, RTE_ETHER_TYPE_ARP, NULL));
    assert_int_equal(th_stats(&h).arp_requests_tx, 4);
    th_fini(&h);
}

/* An echo request from @p src (an on-link address nobody answers for). */
static struct rte_mbuf *echo_from(struct th *h, uint32_t src)
{
    struct rte_icmp_hdr *ic;
    struct rte_mbuf *m =
        th_ipv4(h, src, TH_US_IP, IPPROTO_ICMP, sizeof(*ic), (void **)&ic);
    ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic));
    return m;
}

/* A flood from spoofed on-link addresses fills every pending slot; a real
 * neighbour's frame still gets its request out and goes once answered. */
static void flood_of_unresolved_cannot_starve_a_neighbour(void **state)
{
    (void)state;
    struct th h;
    th_init(&h, NULL);
    for (uint32_t i = 0; i < 40; i++) {
        th_inject(&h, echo_from(&h, 0xc6120010u + i)); /* 198.18.0.16.. */
        th_advance(&h, 1000);
    }
    assert_int_equal(th_stats(&h).arp_requests_tx, 40);
    assert_int_equal(th_stats(&h).arp_pending_drops, 8);
    th_clear(&h);
    th_inject(&h, th_echo_request(&h, 7, 7, "real"));
    assert_int_equal(h.nout, 1);
    struct rte_arp_hdr *a = out_arp(&h, 0);
    assert_int_equal(rte_be_to_cpu_32(a->arp_data.arp_tip), TH_PEER_IP);
    th_clear(&h);
    th_inject(&h, th_arp(&h, RTE_ARP_OP_REPLY, TH_PEER_IP, TH_US_IP));
    assert_int_equal(h.nout, 1); /* the held echo reply */
    struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h.out[0], struct rte_ether_hdr *);
    assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
    assert_memory_equal(&eh->dst_addr, &th_peer_mac, 6);
    th_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_request_for_us),
        cmocka_unit_test(ignores_request_for_another_host),
        cmocka_unit_test(drops_malformed_arp),
        cmocka_unit_test(resolves_then_releases_held_frame),
        cmocka_unit_test(gives_up_after_three_requests),
        cmocka_unit_test(stale_entry_used_while_asked_again),
        cmocka_unit_test(unconfirmed_entry_expires),
        cmocka_unit_test(flood_of_unresolved_cannot_starve_a_neighbour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
