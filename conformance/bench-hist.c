/*
 * bench-hist.c -- latency histogram and tick calibration.
 */
#include <string.h>
#include <time.h>

#include "bench-hist.h"

void
vc_hist_reset(VcHist *h)
{
    memset(h, 0, sizeof(*h));
}

void
vc_hist_merge(VcHist *into, const VcHist *from)
{
    for (unsigned i = 0; i < VC_HIST_BUCKETS; i++) {
        into->b[i] += from->b[i];
    }
    into->count += from->count;
    into->sum += from->sum;
    into->max = MAX(into->max, from->max);
}

uint64_t
vc_hist_bucket_low(unsigned b)
{
    unsigned shift;

    if (b < VC_HIST_SUB) {
        return b;
    }
    shift = (b >> VC_HIST_SUB_BITS) - 1u;
    return (uint64_t)(VC_HIST_SUB + (b & (VC_HIST_SUB - 1u))) << shift;
}

uint64_t
vc_hist_bucket_width(unsigned b)
{
    return b < VC_HIST_SUB ? 1 : 1ull << ((b >> VC_HIST_SUB_BITS) - 1u);
}

uint64_t
vc_hist_percentile(const VcHist *h, double p)
{
    uint64_t rank, seen = 0;

    if (h->count == 0 || !(p > 0)) {
        return 0;
    }
    if (p >= 100) {
        return h->max;
    }
    {
        /* ceil() without libm: the rank of the p-th percentile, 1-based. */
        double x = p / 100.0 * (double)h->count;
        rank = (uint64_t)x;
        /* 99.9 % of 1000 is 999, whatever rounding the product went through. */
        rank += (double)rank < x * (1 - 1e-12);
    }
    rank = CLAMP(rank, 1, h->count);
    for (unsigned i = 0; i < VC_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t mid = vc_hist_bucket_low(i) + vc_hist_bucket_width(i) / 2;
            return MIN(mid, h->max);
        }
    }
    return h->max;
}

double
vc_hist_mean(const VcHist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0;
}

static double ns_per_tick;

double
vc_bench_ns_per_tick(void)
{
    struct timespec a, b, pause = {0, 20 * 1000 * 1000};
    uint64_t ta, tb;

    if (ns_per_tick > 0) {
        return ns_per_tick;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    ta = vc_bench_ticks();
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    tb = vc_bench_ticks();
    ns_per_tick = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
                  (double)(tb - ta ? tb - ta : 1);
    return ns_per_tick;
}

double
vc_bench_ticks_per_s(void)
{
    return 1e9 / vc_bench_ns_per_tick();
}
