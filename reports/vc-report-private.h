/*
 * vc-report-private.h -- helpers shared by the report writers. Not installed,
 * not part of the API: only the reports/ sources include it.
 */
#ifndef VC_REPORT_PRIVATE_H
#define VC_REPORT_PRIVATE_H

#include "vc-report.h"

/**
 * VcReportTotals: how many results of each verdict a run produced.
 * @checks is the number of results; the five counters add up to it.
 */
typedef struct VcReportTotals {
    guint checks;
    guint pass;
    guint fail;
    guint warn;
    guint skip;
    guint error;
} VcReportTotals;

/**
 * vc_report_verdict:
 * @v: a verdict as found in a #VcResult
 *
 * Returns: @v, or %VC_ERROR when @v is not one of the five verdicts (a
 * corrupted result is a harness fault, never a pass).
 */
VcVerdict vc_report_verdict(VcVerdict v);

/**
 * vc_report_count:
 * @results: (array length=n) (nullable): the results
 * @n: number of results
 * @totals: (out): filled with the counts
 */
void vc_report_count(const VcResult *results, guint n, VcReportTotals *totals);

/**
 * vc_report_valid_utf8:
 * @s: (nullable): any bytes, NUL-terminated
 *
 * Returns: (transfer full): a valid UTF-8 copy of @s, invalid sequences
 * replaced with U+FFFD; "" for %NULL. Free with g_free().
 */
char *vc_report_valid_utf8(const char *s);

/**
 * vc_report_one_line:
 * @s: (nullable): any bytes, NUL-terminated
 * @no_hash: also replace '#' (TAP descriptions: meson reads a '#' there as
 *   the start of a directive, and it does not honour "\#")
 *
 * Makes @s safe for a single line of terminal or TAP output: valid UTF-8,
 * every control character (C0, DEL, C1, U+2028, U+2029) replaced with a
 * space, so neither a line break nor an escape sequence from a daemon can
 * reach the output.
 *
 * Returns: (transfer full): the cleaned copy; "" for %NULL.
 */
char *vc_report_one_line(const char *s, bool no_hash);

/**
 * vc_report_area:
 * @id: (nullable): a check ID such as "VU-RING-005"
 *
 * Returns: (transfer full): the part between the first and the last '-'
 * ("RING"), the whole ID when it has fewer than two dashes, or "unknown".
 */
char *vc_report_area(const char *id);

/**
 * vc_report_append_seconds:
 * @s: where to append
 * @seconds: a duration
 *
 * Appends @seconds with three decimals and a '.' whatever the locale;
 * "0.000" when @seconds is NaN or infinite.
 */
void vc_report_append_seconds(GString *s, double seconds);

/**
 * vc_report_write_file:
 * @path: destination
 * @what: what is written, for the error message ("JSON report")
 * @contents: the whole document
 * @error: return location for a #GError
 *
 * Writes @contents through a temporary file renamed over @path
 * (g_file_set_contents()), so a killed run never leaves half a report.
 *
 * Returns: true on success; else @error holds a one-line message naming
 * @path.
 */
bool vc_report_write_file(const char *path, const char *what, const GString *contents,
                          GError **error);

#endif /* VC_REPORT_PRIVATE_H */
