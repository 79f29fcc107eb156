/*
 * bench-baseline.h -- regression gating for CI: a run compared with a
 * stored JSON result. A bench run regresses when a case measured in the
 * baseline now runs slower than the tolerance allows (or costs more
 * instructions per request, or fell further behind its anchor); a
 * conformance run regresses when a check that PASSed in the baseline no
 * longer does. Cases or checks missing from either side are listed but are
 * not regressions (a run may measure a subset).
 */
#ifndef VC_BENCH_BASELINE_H
#define VC_BENCH_BASELINE_H

#include <glib.h>

#include "bench-result.h"
#include "vc-report.h"

/**
 * vc_bench_compare:
 * @base: the stored run
 * @cur: this run
 * @max_regress_pct: tolerance in percent (0..100)
 * @out: one line per finding is appended ("REGRESSION ...", "ok ...",
 *       "missing ...", "new ...")
 *
 * For every case of @base that has a figure and is also in @cur (matched by
 * id): a regression when @cur could not be measured, when its rate is below
 * base rate * (1 - @max_regress_pct / 100), when both were measured against
 * an anchor and its ratio fell by more than the tolerance, or when both
 * counted instructions and the count grew by more than the tolerance.
 *
 * Returns: the number of regressions.
 */
unsigned vc_bench_compare(const VcBenchReport *base, const VcBenchReport *cur,
                          double max_regress_pct, GString *out);

/**
 * vc_baseline_verdicts:
 * @path: a JSON report of an earlier conformance run (vhost-conform --json)
 * @results: this run's results, @n of them
 * @out: one line per finding is appended
 * @error: set when @path cannot be read or is not a conformance report
 *
 * Matches results by (id, profile, ring). Every check that PASSed in the
 * baseline and has another verdict now is a regression.
 *
 * Returns: the number of regressions, or -1 with @error set.
 */
int vc_baseline_verdicts(const char *path, const VcResult *results, guint n, GString *out,
                         GError **error);

/**
 * vc_baseline_kind:
 * Returns: "bench" or "conformance" for a JSON report either command
 * wrote, NULL with @error for anything else.
 */
const char *vc_baseline_kind(const char *path, GError **error);

#endif /* VC_BENCH_BASELINE_H */
