/**
 * @file test_cc.c
 * Congestion control as pure functions on a virtual clock: NewReno's slow
 * start, byte-counting congestion avoidance, halving, recovery exit and
 * timeout; CUBIC's window against W_cubic(t) of RFC 9438, its concave and
 * convex regions, the Reno-friendly region, fast convergence, the 1.5*cwnd
 * bound and the timeout rule; the application-limited rule and names;
 * HyStart++ (RFC 9406): its exit, conservative slow start, its return to
 * slow start and its thresholds; BBR (tcp_bbr.h) on a modelled path: the
 * bandwidth and RTT it finds, its window, a loss that leaves the window,
 * the timeout, PROBE_RTT, application-limited samples.
 *
 * Expected values come from the RFC formulas written out here, in the RFC's
 * own units (segments, seconds), not from the implementation's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "tcp_cc.h"

/* RFC 9438 4.1.1 */
#define C_CUBIC 0.4
#define BETA_CUBIC 0.7
#define ALPHA_CUBIC (3.0 * (1.0 - BETA_CUBIC) / (1.0 + BETA_CUBIC))

#define MSS 1000u /* CUBIC tests: round numbers of segments */
#define SEG(n) ((uint32_t)(n)*MSS)
#define RMSS 1460u    /* NewReno tests: a realistic Ethernet MSS */
#define T0 1000000ull /* the virtual clock starts at 1 s */
#define MS 1000ull

/* RFC 9438 4.2 Figure 1, segments and seconds */
static double w_cubic(double t, double k, double w_max)
{
    return C_CUBIC * pow(t - k, 3) + w_max;
}

/* RFC 9438 4.2 Figure 2, segments and seconds */
static double k_of(double w_max, double cwnd_epoch)
{
    return cbrt((w_max - cwnd_epoch) / C_CUBIC);
}

static double segs(uint32_t bytes)
{
    return (double)bytes / MSS;
}

/* One RTT of a sender that keeps its window full: the window present at the
 * start is acknowledged one MSS at a time, ACKs evenly spaced from the
 * start of the round, each reporting flight = cwnd. */
static void one_rtt(struct tcp_cc *cc, uint64_t *now, uint32_t rtt_us)
{
    uint32_t window = cc->cwnd;
    uint32_t n = (window + MSS - 1) / MSS;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t acked = i + 1 < n ? MSS : window - (n - 1) * MSS;
        tcp_cc_on_ack(cc, acked, cc->cwnd, rtt_us, *now + (uint64_t)rtt_us * i / n);
    }
    *now += rtt_us;
}

/* ---- common ---------------------------------------------------------- */

static void init_state(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, RMSS, 10 * RMSS);
    assert_int_equal(cc.algo, TCP_CC_CUBIC);
    assert_int_equal(cc.mss, RMSS);
    assert_int_equal(cc.cwnd, 10 * RMSS);
    assert_int_equal(cc.ssthresh, UINT32_MAX);
    assert_int_equal(cc.bytes_acked, 0);
    assert_int_equal(cc.w_max, 0);
    assert_int_equal(cc.w_last_max, 0);
    assert_int_equal(cc.epoch_start_us, 0);
    assert_int_equal(cc.cwnd_prior, 0);

    tcp_cc_init(&cc, TCP_CC_NEWRENO, 536, 4 * 536);
    assert_int_equal(cc.algo, TCP_CC_NEWRENO);
    assert_int_equal(cc.mss, 536);
    assert_int_equal(cc.cwnd, 4 * 536);
    assert_int_equal(cc.ssthresh, UINT32_MAX);
}

static void name_parse_round_trip(void **state)
{
    (void)state;
    assert_string_equal(tcp_cc_name(TCP_CC_NEWRENO), "newreno");
    assert_string_equal(tcp_cc_name(TCP_CC_CUBIC), "cubic");
    assert_string_equal(tcp_cc_name(TCP_CC_BBR), "bbr");
    assert_int_equal(tcp_cc_parse("bbr"), TCP_CC_BBR);
    assert_int_equal(tcp_cc_parse(tcp_cc_name(TCP_CC_NEWRENO)), TCP_CC_NEWRENO);
    assert_int_equal(tcp_cc_parse(tcp_cc_name(TCP_CC_CUBIC)), TCP_CC_CUBIC);
    assert_int_equal(tcp_cc_parse("reno"), -1);
    assert_int_equal(tcp_cc_parse("cubicx"), -1);
    assert_int_equal(tcp_cc_parse(""), -1);
    assert_int_equal(tcp_cc_parse(NULL), -1);
}

/* RFC 5681 3.1 (2): cwnd += min(N, SMSS) per ACK while cwnd < ssthresh;
 * RFC 9438 4.10: CUBIC uses the same slow start. */
static void slow_start_to_ssthresh(enum tcp_cc_algo algo)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, algo, RMSS, 10 * RMSS);
    /* the first slow start is HyStart++'s: an ACK adds what it
     * acknowledges, up to L = 8 SMSS (RFC 9406 4.2), so a delayed ACK of two
     * segments adds two */
    tcp_cc_on_ack(&cc, 2 * RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 12 * RMSS);
    tcp_cc_on_ack(&cc, 20 * RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 20 * RMSS);
    /* a short ACK adds what it acknowledges */
    tcp_cc_on_ack(&cc, 500, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 20 * RMSS + 500);

    /* after a timeout, from 1 SMSS up to ssthresh = 32/2 segments, one SMSS
     * per ACK at most (RFC 5681 3.1) */
    tcp_cc_init(&cc, algo, RMSS, 10 * RMSS);
    tcp_cc_on_rto(&cc, 32 * RMSS, T0);
    uint32_t ssthresh = algo == TCP_CC_CUBIC ? 32 * RMSS * 7 / 10 : 16 * RMSS;
    assert_int_equal(cc.ssthresh, ssthresh);
    assert_int_equal(cc.cwnd, RMSS);
    uint32_t expect = RMSS;
    while (expect < ssthresh) {
        tcp_cc_on_ack(&cc, RMSS, cc.cwnd, 0, T0);
        expect += RMSS;
        assert_int_equal(cc.cwnd, expect);
    }
    /* at ssthresh: congestion avoidance, no longer one SMSS per ACK */
    tcp_cc_on_ack(&cc, RMSS, cc.cwnd, 0, T0);
    assert_in_range(cc.cwnd, expect, expect + RMSS - 1);
}

static void newreno_slow_start(void **state)
{
    (void)state;
    slow_start_to_ssthresh(TCP_CC_NEWRENO);
}

static void cubic_slow_start(void **state)
{
    (void)state;
    slow_start_to_ssthresh(TCP_CC_CUBIC);
}

/* cwnd grows only when flight >= cwnd/2 */
static void application_limited_no_growth(void **state)
{
    (void)state;
    struct tcp_cc cc;
    /* slow start */
    tcp_cc_init(&cc, TCP_CC_NEWRENO, RMSS, 10 * RMSS);
    tcp_cc_on_ack(&cc, RMSS, 5 * RMSS - 1, 0, T0);
    assert_int_equal(cc.cwnd, 10 * RMSS);
    tcp_cc_on_ack(&cc, RMSS, 5 * RMSS, 0, T0);
    assert_int_equal(cc.cwnd, 11 * RMSS);

    /* NewReno congestion avoidance: nothing counted either */
    tcp_cc_on_loss(&cc, 20 * RMSS, T0);
    assert_int_equal(cc.cwnd, 10 * RMSS);
    for (int i = 0; i < 30; i++)
        tcp_cc_on_ack(&cc, RMSS, 4 * RMSS, 0, T0);
    assert_int_equal(cc.cwnd, 10 * RMSS);
    assert_int_equal(cc.bytes_acked, 0);

    /* CUBIC: no growth however long, and the idle time is not in t */
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(100));
    tcp_cc_on_loss(&cc, SEG(100), T0);
    tcp_cc_on_ack(&cc, MSS, cc.cwnd, 100 * MS, T0);
    assert_int_equal(cc.epoch_start_us, T0);
    uint32_t before = cc.cwnd;
    for (uint64_t t = 1; t <= 20; t++)
        tcp_cc_on_ack(&cc, MSS, cc.cwnd / 2 - 1, 100 * MS, T0 + t * 1000 * MS);
    assert_int_equal(cc.cwnd, before);
    assert_int_equal(cc.epoch_start_us, 0);
    /* sending again: a new epoch from here towards the same W_max */
    uint64_t resume = T0 + 21000 * MS;
    tcp_cc_on_ack(&cc, MSS, cc.cwnd, 100 * MS, resume);
    assert_int_equal(cc.epoch_start_us, resume);
    assert_int_equal(cc.w_max, SEG(100));
    assert_true(fabs(cc.k_s - k_of(100.0, segs(before))) < 1e-9);
    /* 20 s later the curve would be far above W_max; it is still below */
    assert_true(cc.cwnd < SEG(100));
}

/* ---- NewReno ---------------------------------------------------------- */

/* RFC 5681 3.1 byte counting: +1 SMSS each time cwnd bytes are acked */
static void newreno_avoidance_one_mss_per_window(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, RMSS, 30 * RMSS);
    tcp_cc_on_loss(&cc, 30 * RMSS, T0);
    assert_int_equal(cc.cwnd, 15 * RMSS);
    assert_int_equal(cc.ssthresh, 15 * RMSS);

    for (int i = 0; i < 14; i++) {
        tcp_cc_on_ack(&cc, RMSS, cc.cwnd, 0, T0);
        assert_int_equal(cc.cwnd, 15 * RMSS);
    }
    tcp_cc_on_ack(&cc, RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 16 * RMSS);
    assert_int_equal(cc.bytes_acked, 0);

    /* delayed ACKs of two segments: the remainder carries over */
    for (int i = 0; i < 7; i++)
        tcp_cc_on_ack(&cc, 2 * RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 16 * RMSS);
    tcp_cc_on_ack(&cc, 2 * RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 17 * RMSS);
    assert_int_equal(cc.bytes_acked, 0);
    tcp_cc_on_ack(&cc, 2 * RMSS, cc.cwnd, 0, T0);
    for (int i = 0; i < 8; i++)
        tcp_cc_on_ack(&cc, 2 * RMSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, 18 * RMSS);
    assert_int_equal(cc.bytes_acked, RMSS);

    /* from a fresh reduction (nothing carried), ten windows acknowledged
     * byte for byte: ten more SMSS */
    tcp_cc_on_loss(&cc, 36 * RMSS, T0);
    assert_int_equal(cc.cwnd, 18 * RMSS);
    assert_int_equal(cc.bytes_acked, 0);
    for (uint32_t w = 18; w < 28; w++) {
        uint32_t left = cc.cwnd;
        while (left > 0) {
            uint32_t a = left < RMSS ? left : RMSS;
            tcp_cc_on_ack(&cc, a, cc.cwnd, 0, T0);
            left -= a;
        }
        assert_int_equal(cc.cwnd, (w + 1) * RMSS);
    }
}

/* RFC 5681 (4) and RFC 6582: ssthresh = max(FlightSize/2, 2*SMSS), and
 * this module sets cwnd = ssthresh (RFC 6675 5 step 4.2) */
static void newreno_loss_halves_flight(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, RMSS, 40 * RMSS);
    tcp_cc_on_loss(&cc, 30 * RMSS + 500, T0);
    assert_int_equal(cc.ssthresh, (30 * RMSS + 500) / 2);
    assert_int_equal(cc.cwnd, cc.ssthresh);

    tcp_cc_init(&cc, TCP_CC_NEWRENO, RMSS, 40 * RMSS);
    tcp_cc_on_loss(&cc, RMSS, T0);
    assert_int_equal(cc.ssthresh, 2 * RMSS);
    assert_int_equal(cc.cwnd, 2 * RMSS);
}

/* RFC 6582 3.2 step 3 option 1: cwnd = min(ssthresh, max(flight, SMSS) + SMSS) */
static void recovery_exit(enum tcp_cc_algo algo)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, algo, RMSS, 40 * RMSS);
    tcp_cc_on_loss(&cc, 40 * RMSS, T0);
    uint32_t ssthresh = algo == TCP_CC_CUBIC ? 28 * RMSS : 20 * RMSS;
    assert_int_equal(cc.ssthresh, ssthresh);

    tcp_cc_on_recovery_exit(&cc, 5000);
    assert_int_equal(cc.cwnd, 5000 + RMSS);
    tcp_cc_on_recovery_exit(&cc, 0);
    assert_int_equal(cc.cwnd, 2 * RMSS);
    tcp_cc_on_recovery_exit(&cc, 100);
    assert_int_equal(cc.cwnd, 2 * RMSS);
    tcp_cc_on_recovery_exit(&cc, ssthresh - RMSS);
    assert_int_equal(cc.cwnd, ssthresh);
    tcp_cc_on_recovery_exit(&cc, 39 * RMSS);
    assert_int_equal(cc.cwnd, ssthresh);
    assert_int_equal(cc.ssthresh, ssthresh);
}

static void newreno_recovery_exit(void **state)
{
    (void)state;
    recovery_exit(TCP_CC_NEWRENO);
}

static void cubic_recovery_exit(void **state)
{
    (void)state;
    recovery_exit(TCP_CC_CUBIC);
}

/* RFC 5681 (4) and 3.1: ssthresh from the flight, cwnd = LW = 1 SMSS */
static void newreno_rto(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, RMSS, 40 * RMSS);
    tcp_cc_on_rto(&cc, 20000, T0);
    assert_int_equal(cc.ssthresh, 10000);
    assert_int_equal(cc.cwnd, RMSS);
    tcp_cc_on_rto(&cc, 1000, T0);
    assert_int_equal(cc.ssthresh, 2 * RMSS);
    assert_int_equal(cc.cwnd, RMSS);
}

/* ---- CUBIC ------------------------------------------------------------ */

/* The same loss, the same flight: NewReno keeps 1/2, CUBIC 0.7 */
static void algorithms_differ_after_loss(void **state)
{
    (void)state;
    struct tcp_cc reno, cubic;
    tcp_cc_init(&reno, TCP_CC_NEWRENO, MSS, SEG(100));
    tcp_cc_init(&cubic, TCP_CC_CUBIC, MSS, SEG(100));
    tcp_cc_on_loss(&reno, SEG(100), T0);
    tcp_cc_on_loss(&cubic, SEG(100), T0);
    assert_int_equal(reno.cwnd, SEG(100) / 2);
    assert_int_equal(reno.ssthresh, SEG(100) / 2);
    assert_int_equal(cubic.cwnd, (uint32_t)(SEG(100) * BETA_CUBIC));
    assert_int_equal(cubic.ssthresh, (uint32_t)(SEG(100) * BETA_CUBIC));
    /* RFC 9438 4.6: cwnd_prior and W_max remember the window before */
    assert_int_equal(cubic.cwnd_prior, SEG(100));
    assert_int_equal(cubic.w_max, SEG(100));
    assert_int_equal(cubic.epoch_start_us, 0);
    /* and the floor of 2 SMSS */
    tcp_cc_init(&cubic, TCP_CC_CUBIC, MSS, SEG(2));
    tcp_cc_on_loss(&cubic, SEG(2), T0);
    assert_int_equal(cubic.ssthresh, SEG(2));
    assert_int_equal(cubic.cwnd, SEG(2));
}

/* After a loss at W_max = 1000 segments, with a 100 ms RTT (far from the
 * Reno-friendly region), cwnd follows W_cubic(t) = C(t-K)^3 + W_max:
 * 0.7*W_max at t = 0, concave up to W_max at t = K, convex beyond. */
static void cubic_follows_w_cubic(void **state)
{
    (void)state;
    const double w_max = 1000.0;
    const double k = cbrt(w_max * (1.0 - BETA_CUBIC) / C_CUBIC); /* 4.2 eq. 2 */
    const uint32_t rtt = 100 * MS;
    /* The per-ACK rule aims one RTT ahead and lags about one RTT behind;
     * what is left is of the order of W''(t)*RTT^2 = 6*C*|t-K|*RTT^2, at
     * most 0.22 segments here (|t-K| <= K). Allow half a segment. */
    const double tol = 0.5;

    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(1000));
    tcp_cc_on_loss(&cc, SEG(1000), T0);
    assert_int_equal(cc.cwnd, SEG(700));
    assert_true(fabs(w_cubic(0.0, k, w_max) - segs(cc.cwnd)) < 1e-9);

    uint64_t now = T0;
    uint64_t epoch = now; /* the first ACK of the first round */
    one_rtt(&cc, &now, rtt);
    assert_int_equal(cc.epoch_start_us, epoch);
    assert_int_equal(cc.w_max, SEG(1000));
    assert_true(fabs(cc.k_s - k) < 1e-9);
    assert_true(fabs(cc.k_s - k_of(w_max, 700.0)) < 1e-9);

    const double checkpoints[] = {k / 2, k, 1.5 * k, 2 * k};
    double at[4];
    uint32_t prev = cc.cwnd;
    for (int i = 0; i < 4; i++) {
        while ((double)(now - epoch) / 1e6 < checkpoints[i]) {
            one_rtt(&cc, &now, rtt);
            assert_true(cc.cwnd >= prev); /* an ACK never shrinks cwnd */
            /* 4.2: never more than 1.5x in an RTT */
            assert_true(cc.cwnd <= prev + prev / 2);
            prev = cc.cwnd;
        }
        double t = (double)(now - epoch) / 1e6;
        at[i] = segs(cc.cwnd);
        assert_true(fabs(at[i] - w_cubic(t, k, w_max)) < tol);
        /* CUBIC region, not Reno-friendly: W_est stays below */
        assert_true(cc.w_est < cc.cwnd);
    }
    /* t = K: back at W_max (the curve is flat there, so the checkpoint's
     * landing up to one RTT late costs nothing); t = 2K: W_max + C*K^3 =
     * W_max + 300, where one RTT late is up to 3*C*K^2*RTT ~ 10 segments */
    assert_true(fabs(at[1] - w_max) < tol);
    assert_true(fabs(at[3] - 1300.0) < tol + 10.0);
    /* concave before K (300 - 37.5 then 37.5 segments), convex after */
    double first = at[0] - 700.0, second = at[1] - at[0];
    double third = at[2] - at[1], fourth = at[3] - at[2];
    assert_true(first > 5 * second);
    assert_true(fourth > 5 * third);
}

/* Small window, short RTT: W_cubic grows slowly in RTTs, the Reno estimate
 * W_est = W_est + alpha_cubic * segments_acked / cwnd (4.3 Figure 4) is
 * above it, and cwnd follows W_est: alpha_cubic = 3*0.3/1.7 ~ 0.53 segments
 * per RTT until W_est reaches cwnd_prior, then 1 per RTT like Reno. */
static void cubic_reno_friendly_region(void **state)
{
    (void)state;
    const double w_max = 20.0, prior = 20.0;
    const double k = k_of(w_max, 14.0);
    const uint32_t rtt = 10 * MS;

    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(20));
    tcp_cc_on_loss(&cc, SEG(20), T0);
    assert_int_equal(cc.cwnd, SEG(14));

    /* the reference: Figure 4 applied to the same ACKs, in segments */
    double ref_cwnd = 14.0, ref_west = 14.0;
    uint64_t now = T0, epoch = T0;
    double growth[30];
    for (int r = 0; r < 30; r++) {
        double start = ref_cwnd;
        uint32_t window = cc.cwnd;
        uint32_t n = (window + MSS - 1) / MSS;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t acked = i + 1 < n ? MSS : window - (n - 1) * MSS;
            uint64_t at = now + (uint64_t)rtt * i / n;
            tcp_cc_on_ack(&cc, acked, cc.cwnd, rtt, at);

            double alpha = ref_west >= prior ? 1.0 : ALPHA_CUBIC;
            ref_west += alpha * segs(acked) / ref_cwnd;
            double t = (double)(at - epoch) / 1e6;
            assert_true(w_cubic(t, k, w_max) < ref_west); /* Reno-friendly */
            ref_cwnd = ref_west;
            assert_true(fabs(segs(cc.cwnd) - ref_cwnd) < 0.005);
        }
        now += rtt;
        growth[r] = ref_cwnd - start;
    }
    /* ~alpha_cubic per RTT at first, 1 per RTT once past cwnd_prior */
    assert_true(fabs(growth[0] - ALPHA_CUBIC) < 0.05);
    assert_true(fabs(growth[29] - 1.0) < 0.05);
    /* after 30 RTTs the cubic curve alone would still be below 16 */
    assert_true(w_cubic(0.3, k, w_max) < 16.0);
    assert_true(segs(cc.cwnd) > 30.0);
}

/* 4.7: a loss before the previous W_max was reached lowers W_max to
 * cwnd*(1+beta)/2; a loss beyond it sets W_max = cwnd */
static void cubic_fast_convergence(void **state)
{
    (void)state;
    const uint32_t rtt = 100 * MS;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(100));
    tcp_cc_on_loss(&cc, SEG(100), T0);
    assert_int_equal(cc.w_max, SEG(100));

    /* half way to K = cbrt(75) ~ 4.2 s */
    uint64_t now = T0;
    for (int r = 0; r < 21; r++)
        one_rtt(&cc, &now, rtt);
    uint32_t c1 = cc.cwnd;
    assert_true(c1 > SEG(90) && c1 < SEG(100));

    tcp_cc_on_loss(&cc, c1, now);
    double w_max = segs(c1) * (1.0 + BETA_CUBIC) / 2.0;
    assert_true(fabs(segs(cc.w_max) - w_max) <= 0.001);
    assert_true(fabs(segs(cc.ssthresh) - segs(c1) * BETA_CUBIC) <= 0.001);
    assert_int_equal(cc.cwnd, cc.ssthresh);
    assert_int_equal(cc.cwnd_prior, c1);
    /* the next curve climbs to the lower plateau, so K is shorter */
    one_rtt(&cc, &now, rtt);
    double k = k_of(w_max, segs(c1) * BETA_CUBIC);
    assert_true(fabs(cc.k_s - k) < 1e-3);
    assert_true(cc.k_s < cbrt(segs(c1) * (1.0 - BETA_CUBIC) / C_CUBIC));

    /* now grow past that W_max, then lose: no extra reduction */
    uint32_t plateau = cc.w_max;
    while (cc.cwnd <= plateau + SEG(5))
        one_rtt(&cc, &now, rtt);
    uint32_t c2 = cc.cwnd;
    tcp_cc_on_loss(&cc, c2, now);
    assert_int_equal(cc.w_max, c2);
    assert_int_equal(cc.ssthresh, (uint32_t)((uint64_t)c2 * 7 / 10));
}

/* 4.2: the target is at most 1.5*cwnd, however far the curve has gone */
static void cubic_target_capped_at_one_and_a_half(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(20));
    tcp_cc_on_loss(&cc, SEG(20), T0);
    tcp_cc_on_ack(&cc, MSS, cc.cwnd, 100 * MS, T0);
    /* 10 s on, W_cubic(10 s + RTT) is ~190 segments, cwnd ~14 */
    uint32_t c = cc.cwnd;
    assert_true(w_cubic(10.1, cc.k_s, 20.0) > 1.5 * segs(c));
    tcp_cc_on_ack(&cc, c, c, 100 * MS, T0 + 10000 * MS);
    assert_int_equal(cc.cwnd, (uint32_t)floor(1.5 * c));
}

/* 4.8: ssthresh from beta_cubic, cwnd = 1 SMSS, and the first congestion
 * avoidance stage after it has K = 0 and W_max = cwnd at its start */
static void cubic_rto(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(100));
    tcp_cc_on_loss(&cc, SEG(100), T0);
    tcp_cc_on_rto(&cc, SEG(70), T0 + 500 * MS);
    assert_int_equal(cc.cwnd, MSS);
    assert_int_equal(cc.ssthresh, SEG(49));
    assert_int_equal(cc.epoch_start_us, 0);

    uint64_t now = T0 + 600 * MS;
    while (cc.cwnd < cc.ssthresh)
        tcp_cc_on_ack(&cc, MSS, cc.cwnd, 100 * MS, now);
    assert_int_equal(cc.cwnd, SEG(49));
    assert_int_equal(cc.epoch_start_us, 0);
    now += 100 * MS;
    tcp_cc_on_ack(&cc, MSS, cc.cwnd, 100 * MS, now);
    assert_int_equal(cc.epoch_start_us, now);
    assert_true(cc.k_s == 0.0);
    assert_int_equal(cc.w_max, SEG(49));
    assert_int_equal(cc.w_last_max, SEG(49));
    /* convex from the start: W_cubic(t) = C*t^3 + cwnd_epoch */
    assert_true(cc.cwnd > SEG(49));

    /* flight 1 SMSS: ssthresh floor */
    tcp_cc_on_rto(&cc, MSS, now);
    assert_int_equal(cc.ssthresh, SEG(2));
    assert_int_equal(cc.cwnd, MSS);
}

/* ------------------------------------------------------------ HyStart++ */

/* One round of RTT samples: the first ACK at or past the round's end
 * starts it (window_end = snd_nxt then), the others stay inside it. */
static bool hs_round(struct tcp_cc *cc, uint32_t *ack, uint32_t *nxt, unsigned samples,
                     uint32_t rtt_us, unsigned *exit_at)
{
    bool exited = false;
    uint32_t start = *nxt;
    *nxt += samples * MSS;
    for (unsigned i = 0; i < samples; i++) {
        *ack = i == 0 ? start : *ack + 1;
        if (tcp_cc_hystart(cc, *ack, *nxt, rtt_us) && !exited) {
            exited = true;
            *exit_at = i + 1;
        }
    }
    return exited;
}

/* RFC 9406 4.2: RttThresh = max(4 ms, min(lastRoundMinRTT / 8, 16 ms));
 * leaving slow start takes N_RTT_SAMPLE (8) samples of a round whose
 * minimum is at least lastRoundMinRTT + RttThresh; conservative slow start
 * grows a quarter as fast, and after CSS_ROUNDS (5) rounds ssthresh = cwnd. */
static void hystart_exit_css_rounds(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, SEG(10));
    uint32_t ack = 0, nxt = 1;
    unsigned at = 0;
    /* round 1 at 50 ms: lastRoundMinRTT; RttThresh = 6.25 ms */
    assert_false(hs_round(&cc, &ack, &nxt, 10, 50000, &at));
    /* 56.249 ms: below the threshold, slow start goes on */
    assert_false(hs_round(&cc, &ack, &nxt, 10, 56249, &at));
    /* that round's minimum (56.249) is the next baseline: + 7.031 ms */
    assert_true(hs_round(&cc, &ack, &nxt, 10, 63280, &at));
    assert_int_equal(at, 8); /* on the eighth sample, not before */
    assert_int_equal(cc.hs_state, TCP_HS_CSS);
    assert_int_equal(cc.ssthresh, UINT32_MAX);
    /* a quarter of the growth: four segments acknowledged, one grown */
    uint32_t cwnd = cc.cwnd;
    for (int i = 0; i < 4; i++)
        tcp_cc_on_ack(&cc, MSS, cc.cwnd, 0, T0);
    assert_int_equal(cc.cwnd, cwnd + MSS);
    /* the CSS round that began above, then four more: congestion avoidance */
    for (int r = 0; r < 4; r++) {
        assert_false(hs_round(&cc, &ack, &nxt, 10, 64000, &at));
        assert_int_equal(cc.hs_state, TCP_HS_CSS);
    }
    assert_false(hs_round(&cc, &ack, &nxt, 10, 64000, &at));
    assert_int_equal(cc.hs_state, TCP_HS_OFF);
    assert_int_equal(cc.ssthresh, cc.cwnd);
}

/* In CSS, a round whose minimum falls below the baseline was a spurious
 * exit: slow start again. The thresholds are clamped to 4..16 ms. */
static void hystart_css_back_and_clamps(void **state)
{
    (void)state;
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, SEG(10));
    uint32_t ack = 0, nxt = 1;
    unsigned at = 0;
    /* 200 ms: 200/8 = 25 ms is clamped to 16 ms */
    assert_false(hs_round(&cc, &ack, &nxt, 10, 200000, &at));
    assert_false(hs_round(&cc, &ack, &nxt, 10, 215999, &at));
    assert_false(hs_round(&cc, &ack, &nxt, 10, 231998, &at));
    assert_true(hs_round(&cc, &ack, &nxt, 10, 231999 + 16000, &at));
    assert_int_equal(cc.hs_state, TCP_HS_CSS);
    /* back below the baseline: slow start again */
    assert_false(hs_round(&cc, &ack, &nxt, 10, 231998, &at));
    assert_int_equal(cc.hs_state, TCP_HS_SS);
    /* 10 ms: 10/8 is clamped up to 4 ms */
    tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, SEG(10));
    ack = 0, nxt = 1;
    assert_false(hs_round(&cc, &ack, &nxt, 10, 10000, &at));
    assert_false(hs_round(&cc, &ack, &nxt, 10, 13999, &at));
    assert_true(hs_round(&cc, &ack, &nxt, 10, 13999 + 4000, &at));
    /* fewer than eight samples in a round decide nothing */
    tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, SEG(10));
    ack = 0, nxt = 1;
    assert_false(hs_round(&cc, &ack, &nxt, 10, 10000, &at));
    assert_false(hs_round(&cc, &ack, &nxt, 7, 50000, &at));
    /* a loss ends it for good */
    tcp_cc_on_loss(&cc, SEG(10), T0);
    assert_false(hs_round(&cc, &ack, &nxt, 10, 90000, &at));
    assert_int_equal(cc.hs_state, TCP_HS_OFF);
}

/* ---- BBR -------------------------------------------------------------- */

#define BBR_RTT 10000u /* us */
#define BBR_RATE 1000u /* the path: bytes per ms (8 Mbit/s) ... */
#define BDP SEG(10)    /* ... so one round trip holds 10 segments */

/* One round trip of a path that delivers at most BBR_RATE: what cwnd lets
 * out, capped by the path, comes back in 10 evenly spaced ACKs, each with
 * the round's rate sample (the bytes of a round trip over a round trip)
 * and an RTT sample of @p rtt_sample. Segments sent while the connection's
 * application-limited mark stood carry it, and the mark goes once what was
 * in flight then is delivered, as tcp_rack.c keeps them. */
static void bbr_round_reo(struct tcp_cc *cc, uint64_t *now, uint32_t *total,
                          uint32_t rtt_sample, bool app_limited, uint32_t reo_us)
{
    uint32_t cap = BBR_RATE * BBR_RTT / 1000u;
    uint32_t deliver = cc->cwnd < cap ? cc->cwnd : cap;
    uint32_t chunk = deliver / 10;
    uint32_t prior = *total;
    app_limited |= cc->bbr.app_limited != 0;
    if (cc->bbr.app_limited && *total + deliver > cc->bbr.app_limited)
        cc->bbr.app_limited = 0;
    for (unsigned i = 0; i < 10; i++) {
        *total += chunk;
        struct tcp_rate_sample rs = {.delivered_total = *total,
                                     .prior_delivered = prior,
                                     .delivered = deliver,
                                     .interval_us = BBR_RTT,
                                     .acked = chunk,
                                     .rtt_us = rtt_sample,
                                     .reo_us = reo_us,
                                     .have = true,
                                     .app_limited = app_limited};
        tcp_bbr_on_ack(cc, &rs, deliver - (i + 1) * chunk,
                       *now + (uint64_t)BBR_RTT * (i + 1) / 10);
    }
    *now += BBR_RTT;
}

/* The same, on a path that has shown no reordering. */
static void bbr_round(struct tcp_cc *cc, uint64_t *now, uint32_t *total,
                      uint32_t rtt_sample, bool app_limited)
{
    bbr_round_reo(cc, now, total, rtt_sample, app_limited, 0);
}

/* Startup doubles cwnd per round until three rounds bring no 25% more
 * rate; drain; then cwnd settles at twice the BDP plus three segments of
 * headroom plus the ACKs' aggregation (one ACK's worth here). */
static void bbr_reach_probe_bw(struct tcp_cc *cc, uint64_t *now, uint32_t *total)
{
    tcp_cc_init(cc, TCP_CC_BBR, MSS, SEG(10));
    for (int r = 0; r < 12; r++)
        bbr_round(cc, now, total, BBR_RTT, false);
}

static void bbr_finds_the_path(void **state)
{
    (void)state;
    struct tcp_cc cc;
    uint64_t now = T0;
    uint32_t total = 0;
    tcp_cc_init(&cc, TCP_CC_BBR, MSS, SEG(10));
    assert_int_equal(cc.bbr.mode, TCP_BBR_STARTUP);
    bbr_round(&cc, &now, &total, BBR_RTT, false);
    assert_int_equal(cc.cwnd, SEG(20)); /* startup: cwnd += what was delivered */
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), BBR_RATE);
    assert_int_equal(cc.bbr.min_rtt_us, BBR_RTT);
    bbr_reach_probe_bw(&cc, &now, &total);
    assert_true(cc.bbr.full_bw_reached);
    assert_int_equal(cc.bbr.mode, TCP_BBR_PROBE_BW);
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), BBR_RATE);
    assert_in_range(cc.cwnd, 2 * BDP + SEG(3), 2 * BDP + SEG(4));
}

/* Once the path has shown reordering, cwnd also holds the rate times the
 * reordering window RACK waits for a late segment: here half a round trip
 * more, half a BDP; it goes when the window does. */
static void bbr_reordering_allowance(void **state)
{
    (void)state;
    struct tcp_cc cc;
    uint64_t now = T0;
    uint32_t total = 0;
    bbr_reach_probe_bw(&cc, &now, &total);
    uint32_t plain = cc.cwnd;
    for (int r = 0; r < 3; r++)
        bbr_round_reo(&cc, &now, &total, BBR_RTT, false, BBR_RTT / 2);
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), BBR_RATE);
    assert_int_equal(cc.cwnd, plain + BDP / 2);
    bbr_round(&cc, &now, &total, BBR_RTT, false);
    assert_int_equal(cc.cwnd, plain);
    /* at most 100 ms of the rate, whatever the window (cwnd grows by what
     * is delivered, a BDP a round) */
    for (int r = 0; r < 12; r++)
        bbr_round_reo(&cc, &now, &total, BBR_RTT, false, 10000000u);
    assert_int_equal(cc.cwnd, plain + BBR_RATE * 100u);
}

/* A loss: one round of packet conservation (cwnd = what is in flight plus
 * what the ACK delivered), then, at the recovery's end, the window from
 * before; CUBIC instead keeps 0.7 of it. */
static void bbr_loss_keeps_the_window(void **state)
{
    (void)state;
    struct tcp_cc cc, cubic;
    uint64_t now = T0;
    uint32_t total = 0;
    bbr_reach_probe_bw(&cc, &now, &total);
    uint32_t before = cc.cwnd;
    tcp_cc_on_loss(&cc, before, now);
    struct tcp_rate_sample rs = {.delivered_total = total + MSS,
                                 .prior_delivered = total - BDP / 2,
                                 .acked = MSS,
                                 .have = true};
    tcp_bbr_on_ack(&cc, &rs, SEG(5), now);
    assert_int_equal(cc.cwnd, SEG(6));
    tcp_cc_on_recovery_end(&cc, false);
    assert_int_equal(cc.cwnd, before);

    tcp_cc_init(&cubic, TCP_CC_CUBIC, MSS, before);
    tcp_cc_on_loss(&cubic, before, now);
    tcp_cc_on_recovery_end(&cubic, false);
    assert_int_equal(cubic.cwnd, before * 7 / 10);
}

/* A timeout: one segment, at least 4 on the next ACK, growing by what is
 * delivered; the loss window's end does not bring back the window from
 * before at once (no pacing: it would leave as a burst), the ACKs grow it
 * back; an undo takes it back as far as the flight plus an initial window. */
static void bbr_timeout(void **state)
{
    (void)state;
    struct tcp_cc cc;
    uint64_t now = T0;
    uint32_t total = 0;
    bbr_reach_probe_bw(&cc, &now, &total);
    tcp_cc_on_rto(&cc, cc.cwnd, now);
    assert_int_equal(cc.cwnd, MSS);
    struct tcp_rate_sample rs = {.delivered_total = total + MSS,
                                 .prior_delivered = total,
                                 .acked = MSS,
                                 .have = true};
    tcp_bbr_on_ack(&cc, &rs, 0, now);
    assert_int_equal(cc.cwnd, SEG(4));
    rs.delivered_total += SEG(2);
    rs.acked = SEG(2);
    tcp_bbr_on_ack(&cc, &rs, 0, now);
    assert_int_equal(cc.cwnd, SEG(6));
    tcp_cc_on_recovery_end(&cc, true);
    assert_int_equal(cc.cwnd, SEG(6));
    rs.delivered_total += SEG(6);
    rs.acked = SEG(6);
    tcp_bbr_on_ack(&cc, &rs, 0, now);
    assert_int_equal(cc.cwnd, SEG(12));

    tcp_cc_on_rto(&cc, cc.cwnd, now); /* from 12 segments */
    tcp_bbr_on_recovery_end(&cc, true, SEG(10));
    assert_int_equal(cc.cwnd, SEG(10)); /* the undo's burst bound */
    tcp_cc_on_rto(&cc, cc.cwnd, now);   /* from 10 */
    tcp_bbr_on_recovery_end(&cc, true, SEG(100));
    assert_int_equal(cc.cwnd, SEG(10)); /* never past the window from before */
}

/* The minimum RTT expires after 10 s without a lower sample: PROBE_RTT
 * holds cwnd at 4 segments for 200 ms and a round trip, takes the RTT it
 * sees then, and returns to PROBE_BW with the window from before. */
static void bbr_probe_rtt(void **state)
{
    (void)state;
    struct tcp_cc cc;
    uint64_t now = T0;
    uint32_t total = 0;
    bbr_reach_probe_bw(&cc, &now, &total);
    uint32_t before = cc.cwnd;
    uint64_t start = now;
    while (cc.bbr.mode != TCP_BBR_PROBE_RTT && now - start < 11000000)
        bbr_round(&cc, &now, &total, BBR_RTT + 2000, false);
    assert_int_equal(cc.bbr.mode, TCP_BBR_PROBE_RTT);
    assert_in_range(now - start, 10000000, 10000000 + BBR_RTT);
    uint64_t probe = now;
    bbr_round(&cc, &now, &total, BBR_RTT + 2000, false);
    assert_int_equal(cc.cwnd, SEG(4));
    while (cc.bbr.mode == TCP_BBR_PROBE_RTT && now - probe < 1000000)
        bbr_round(&cc, &now, &total, BBR_RTT + 1000, false);
    assert_int_equal(cc.bbr.mode, TCP_BBR_PROBE_BW);
    assert_in_range(now - probe, 200000, 200000 + 2 * BBR_RTT);
    assert_int_equal(cc.bbr.min_rtt_us, BBR_RTT + 1000);
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr),
                     BBR_RATE); /* its samples were not the path's */
    assert_true(cc.cwnd >= before);
}

/* An application-limited sample never lowers the bandwidth: the sender
 * had less to send, the path was not slower. One that is higher counts. */
static void bbr_app_limited_samples(void **state)
{
    (void)state;
    struct tcp_cc cc;
    uint64_t now = T0;
    uint32_t total = 0;
    bbr_reach_probe_bw(&cc, &now, &total);
    struct tcp_rate_sample rs = {.delivered_total = total + MSS,
                                 .prior_delivered = total,
                                 .delivered = SEG(2),
                                 .interval_us = BBR_RTT,
                                 .acked = MSS,
                                 .have = true,
                                 .app_limited = true};
    for (int i = 0; i < 40; i++) { /* 40 rounds: past the filter's 10 */
        rs.delivered_total += MSS;
        rs.prior_delivered = rs.delivered_total - MSS;
        tcp_bbr_on_ack(&cc, &rs, 0, now += BBR_RTT);
    }
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), BBR_RATE);
    rs.delivered = SEG(20);
    tcp_bbr_on_ack(&cc, &rs, 0, now += BBR_RTT);
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), 2 * BBR_RATE);
    /* not application-limited, the path's rate ages out of the filter */
    rs.app_limited = false;
    rs.delivered = SEG(5);
    for (int i = 0; i < 12; i++) {
        rs.delivered_total += MSS;
        rs.prior_delivered = rs.delivered_total - MSS;
        tcp_bbr_on_ack(&cc, &rs, 0, now += BBR_RTT);
    }
    assert_int_equal(tcp_bbr_max_bw(&cc.bbr), BBR_RATE / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_state),
        cmocka_unit_test(name_parse_round_trip),
        cmocka_unit_test(newreno_slow_start),
        cmocka_unit_test(cubic_slow_start),
        cmocka_unit_test(application_limited_no_growth),
        cmocka_unit_test(hystart_exit_css_rounds),
        cmocka_unit_test(hystart_css_back_and_clamps),
        cmocka_unit_test(newreno_avoidance_one_mss_per_window),
        cmocka_unit_test(newreno_loss_halves_flight),
        cmocka_unit_test(newreno_recovery_exit),
        cmocka_unit_test(cubic_recovery_exit),
        cmocka_unit_test(newreno_rto),
        cmocka_unit_test(algorithms_differ_after_loss),
        cmocka_unit_test(cubic_follows_w_cubic),
        cmocka_unit_test(cubic_reno_friendly_region),
        cmocka_unit_test(cubic_fast_convergence),
        cmocka_unit_test(cubic_target_capped_at_one_and_a_half),
        cmocka_unit_test(cubic_rto),
        cmocka_unit_test(bbr_finds_the_path),
        cmocka_unit_test(bbr_reordering_allowance),
        cmocka_unit_test(bbr_loss_keeps_the_window),
        cmocka_unit_test(bbr_timeout),
        cmocka_unit_test(bbr_probe_rtt),
        cmocka_unit_test(bbr_app_limited_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
