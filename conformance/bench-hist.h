/*
 * bench-hist.h -- the bench's latency histogram and its clock.
 *
 * A log-linear histogram (as HdrHistogram lays it out): values below 16 get
 * a bucket each, and every power of two above is cut into 16 equal
 * sub-buckets, so that any recorded value is known to within 1/16 (6.25 %)
 * of itself. The buckets are a fixed array inside the struct: recording is
 * a count-leading-zeros, a shift and an increment, and never allocates.
 *
 * Values are clock ticks (vc_bench_ticks()); vc_bench_ns_per_tick() turns
 * them into nanoseconds when results are reported, so that the datapath
 * never multiplies.
 */
#ifndef VC_BENCH_HIST_H
#define VC_BENCH_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#define VC_HIST_SUB_BITS 4u
#define VC_HIST_SUB      (1u << VC_HIST_SUB_BITS)
#define VC_HIST_BUCKETS  ((64u - VC_HIST_SUB_BITS + 1u) * VC_HIST_SUB)

/** VcHist: counts per bucket, plus the exact count, sum and maximum. */
typedef struct VcHist {
    uint64_t count;
    uint64_t sum;
    uint64_t max;
    uint64_t b[VC_HIST_BUCKETS];
} VcHist;

/**
 * vc_hist_bucket:
 * Returns: the bucket @v falls in (0..VC_HIST_BUCKETS-1).
 */
static inline unsigned
vc_hist_bucket(uint64_t v)
{
    /* Branch-free: below 32 the shift is 0 and the bucket is the value itself. */
    unsigned shift = (63u - (unsigned)__builtin_clzll(v | VC_HIST_SUB)) - VC_HIST_SUB_BITS;

    return (shift << VC_HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/** vc_hist_add: records @v once. No allocation, no branch but the maximum. */
static inline void
vc_hist_add(VcHist *h, uint64_t v)
{
    h->b[vc_hist_bucket(v)]++;
    h->count++;
    h->sum += v;
    if (G_UNLIKELY(v > h->max)) {
        h->max = v;
    }
}

/** vc_hist_reset: forgets everything recorded. */
void vc_hist_reset(VcHist *h);

/** vc_hist_merge: adds every count of @from into @into. */
void vc_hist_merge(VcHist *into, const VcHist *from);

/**
 * vc_hist_bucket_low:
 * Returns: the smallest value bucket @b holds; vc_hist_bucket_width() gives
 * how many consecutive values it holds.
 */
uint64_t vc_hist_bucket_low(unsigned b);
uint64_t vc_hist_bucket_width(unsigned b);

/**
 * vc_hist_percentile:
 * @p: percentile, 0 < @p <= 100 (50, 99, 99.9)
 *
 * Returns: a value at or above which no more than (100 - @p) % of the
 * recorded values lie, to the histogram's precision: the middle of the
 * bucket that holds the value of rank ceil(@p % of count), never above the
 * exact maximum. 0 when nothing was recorded.
 */
uint64_t vc_hist_percentile(const VcHist *h, double p);

/** vc_hist_mean: Returns: the exact mean, 0 when empty. */
double vc_hist_mean(const VcHist *h);

/**
 * vc_bench_ticks:
 * Returns: a monotonic tick count: the TSC on x86-64 (invariant on the
 * machines this runs on: constant_tsc, nonstop_tsc), CLOCK_MONOTONIC
 * nanoseconds elsewhere.
 */
static inline uint64_t
vc_bench_ticks(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return (uint64_t)g_get_monotonic_time() * 1000u;
#endif
}

/**
 * vc_bench_ns_per_tick:
 * Returns: nanoseconds per tick, measured once against CLOCK_MONOTONIC over
 * about 20 ms on the first call.
 */
double vc_bench_ns_per_tick(void);

/** vc_bench_ticks_per_s: Returns: 1e9 / vc_bench_ns_per_tick(). */
double vc_bench_ticks_per_s(void);

#endif /* VC_BENCH_HIST_H */
