/**
 * @file synflood.c
 * A SYN flood for the tests (tests/integration/test_synflood.sh and
 * bench/synflood.sh): bare SYNs (an MSS option, as a real stack sends) from
 * random source addresses inside a given block, random source ports and
 * sequence numbers, written as whole Ethernet frames to a packet socket on
 * one interface, at a given rate, for a given time. hping3's --rand-source
 * draws from all of IPv4; the tests must keep every address inside
 * 198.18.0.0/15, hence this sender. It refuses a block outside it.
 *
 * Usage: synflood IFACE DST-MAC DST-IP DST-PORT SRC-CIDR PPS SECONDS [SEED]
 *   PPS 0: as fast as the socket takes them. Prints "synflood: sent=N" at
 *   the end. Needs CAP_NET_RAW (run it inside the test's namespace).
 *
 * Built by the test itself (cc -O2), so it needs no place in the build.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN (14 + 20 + 24) /* Ethernet, IPv4, TCP with MSS */
#define BATCH 64

static uint64_t rng_state;

static uint32_t rng(void)
{
    /* xorshift64*: enough for addresses, ports and sequence numbers */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* One SYN from @p src:@p sport with sequence @p seq. */
static void build(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
                  uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq)
{
    memset(f, 0, FRAME_LEN);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 24);
    put16(ip + 4, (uint16_t)rng());
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    uint8_t *th = ip + 20;
    put16(th, sport);
    put16(th + 2, dport);
    put32(th + 4, seq);
    th[12] = 6 << 4; /* 24 bytes: the header and an MSS option */
    th[13] = 0x02;   /* SYN */
    put16(th + 14, 64240);
    th[20] = 2;
    th[21] = 4;
    put16(th + 22, 1460);
    uint32_t sum = csum_add(0, ip + 12, 8); /* pseudo-header */
    sum += 6 + 24;
    put16(th + 16, csum_fold(csum_add(sum, th, 24)));
}

/* Never a network or broadcast address, nor one of the test's own hosts
 * (.1 and .2 of the destination's /24). */
static int src_ok(uint32_t src, uint32_t dst)
{
    uint32_t low = src & 0xff;
    if (low == 0 || low == 255)
        return 0;
    return (src & 0xffffff00u) != (dst & 0xffffff00u) || low > 2;
}

static int parse_mac(const char *s, uint8_t *mac)
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: synflood IFACE DST-MAC DST-IP DST-PORT SRC-CIDR PPS "
                        "SECONDS [SEED]\n");
        return 2;
    }
    uint8_t dmac[6], smac[6];
    struct in_addr dst_in, net_in;
    char net[32];
    snprintf(net, sizeof(net), "%s", argv[5]);
    char *slash = strchr(net, '/');
    int prefix = slash ? atoi(slash + 1) : 32;
    if (slash)
        *slash = 0;
    if (parse_mac(argv[2], dmac) != 0 || inet_pton(AF_INET, argv[3], &dst_in) != 1 ||
        inet_pton(AF_INET, net, &net_in) != 1 || prefix < 15 || prefix > 32) {
        fprintf(stderr, "synflood: bad MAC, address or block (a /15 or longer)\n");
        return 2;
    }
    uint32_t base = ntohl(net_in.s_addr), span = prefix == 32 ? 1 : 1u << (32 - prefix);
    base &= ~(span - 1);
    /* RFC 2544's benchmarking block, and nothing else */
    if ((base & 0xfffe0000u) != 0xc6120000u) {
        fprintf(stderr, "synflood: %s is outside 198.18.0.0/15\n", argv[5]);
        return 2;
    }
    uint32_t dst = ntohl(dst_in.s_addr);
    uint16_t dport = (uint16_t)atoi(argv[4]);
    double pps = atof(argv[6]);
    double secs = atof(argv[7]);
    rng_state = argc > 8 ? strtoull(argv[8], NULL, 0) : (uint64_t)now_ns();
    if (rng_state == 0)
        rng_state = 1;

    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
    if (fd < 0) {
        perror("synflood: socket");
        return 1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
        perror("synflood: SIOCGIFHWADDR");
        return 1;
    }
    memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_IP),
                              .sll_ifindex = (int)if_nametoindex(argv[1]),
                              .sll_halen = 6};
    memcpy(sll.sll_addr, dmac, 6);
    if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        perror("synflood: bind");
        return 1;
    }

    static uint8_t frames[BATCH][FRAME_LEN];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = frames[i];
        iov[i].iov_len = FRAME_LEN;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), sent = 0, dropped = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end)
            break;
        if (pps > 0) {
            /* the frames due by now; sleep a little when ahead */
            uint64_t due = (uint64_t)((double)(t - t0) * pps / 1e9);
            if (sent + dropped >= due) {
                struct timespec d = {0, 200000};
                nanosleep(&d, NULL);
                continue;
            }
        }
        for (int i = 0; i < BATCH; i++) {
            uint32_t src;
            do
                src = base + rng() % span;
            while (span > 4 && !src_ok(src, dst));
            build(frames[i], dmac, smac, src, dst, (uint16_t)(1024 + rng() % 64000),
                  dport, rng());
        }
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n < 0) {
            if (errno != ENOBUFS && errno != EAGAIN) {
                perror("synflood: sendmmsg");
                return 1;
            }
            dropped += BATCH;
            continue;
        }
        sent += (uint64_t)n;
        dropped += (uint64_t)(BATCH - n);
    }
    double el = (double)(now_ns() - t0) / 1e9;
    printf("synflood: sent=%llu refused=%llu seconds=%.1f pps=%.0f\n",
           (unsigned long long)sent, (unsigned long long)dropped, el, (double)sent / el);
    close(fd);
    return 0;
}
