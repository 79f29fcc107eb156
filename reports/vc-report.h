/*
 * vc-report.h -- formatting a list of check results: text, TAP 13, JUnit
 * XML and JSON. reports/ only formats; it runs nothing and decides nothing.
 */
#ifndef VC_REPORT_H
#define VC_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

/** VcVerdict: outcome of one check. */
typedef enum VcVerdict {
    VC_PASS,
    VC_FAIL,     /* a MUST rule was broken */
    VC_WARN,     /* a SHOULD rule was broken */
    VC_SKIP,     /* the check does not apply (feature not offered, no driver...) */
    VC_ERROR,    /* the harness or the environment failed: no verdict on the daemon */
} VcVerdict;

/** VcLevel: the strength of the rule a check enforces. */
typedef enum VcLevel {
    VC_MUST,
    VC_SHOULD,
    VC_MAY,
} VcLevel;

/** VcResult: one check's result, as the runner collected it. Strings are owned. */
typedef struct VcResult {
    char *id;            /* "VU-RING-005" */
    char *spec;          /* "vhost-user.rst#ring-states" */
    VcLevel level;
    char *summary;       /* one line from the catalog */
    VcVerdict verdict;
    char *reason;        /* one line: why (for PASS: what was observed) */
    char *trace;         /* "FILE.pcap#frame=N" or NULL */
    char *profile;       /* front-end profile used, or NULL */
    char *ring;          /* ring layout ("split", "packed"), or NULL */
    double seconds;      /* wall time of the check */
} VcResult;

/** VcRunInfo: what the whole run was about. Strings are borrowed. */
typedef struct VcRunInfo {
    const char *backend;     /* command line or socket path */
    const char *tool_version;
    const char *started;     /* ISO 8601 UTC */
    double seconds;          /* total wall time */
    int exit_code;
} VcRunInfo;

/** vc_verdict_name: Returns: "PASS", "FAIL", "WARN", "SKIP" or "ERROR". */
const char *vc_verdict_name(VcVerdict v);

/** vc_level_name: Returns: "MUST", "SHOULD" or "MAY". */
const char *vc_level_name(VcLevel l);

/** vc_result_clear: frees the strings of @r. */
void vc_result_clear(VcResult *r);

/**
 * vc_report_exit_code:
 * Returns: 0 when nothing FAILed (WARN is not a failure), 1 on any FAIL,
 * 99 on any ERROR without a FAIL, 77 when every result is SKIP (or there
 * are none).
 */
int vc_report_exit_code(const VcResult *results, guint n);

/**
 * vc_report_text:
 * Human-readable report: one line per check (verdict, ID, summary, reason),
 * then totals. @color adds ANSI colours.
 */
void vc_report_text(FILE *out, const VcRunInfo *run, const VcResult *results, guint n,
                    bool color);

/**
 * vc_report_tap_begin / vc_report_tap_result / vc_report_tap_end:
 * TAP 13 streamed as checks finish: "TAP version 13" and the plan, one
 * "ok"/"not ok" line per result with a YAML block (spec, level, message,
 * trace) for FAIL, WARN and ERROR, "# SKIP" directives for SKIP and
 * "# TODO"-free WARN lines marked "ok ... # WARN".
 */
void vc_report_tap_begin(FILE *out, guint planned);
void vc_report_tap_result(FILE *out, guint number, const VcResult *r);
void vc_report_tap_end(FILE *out, const VcResult *results, guint n);

/**
 * vc_report_junit:
 * Writes JUnit XML (one testsuite "vhost-conform", one testcase per check,
 * classname = rule area, failure/skipped/error elements).
 * Returns: true on success, else sets @error.
 */
bool vc_report_junit(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
                     GError **error);

/**
 * vc_report_html:
 * @path: file to write (replaced atomically)
 * @run: (nullable): the run's description
 * @results: (array length=n): the results
 * @n: how many
 * @error: set when the file cannot be written
 *
 * Writes one self-contained HTML page (no script, no external resource):
 * the run, the totals and every result, FAIL, ERROR and WARN first, with
 * reason, spec section, profile, ring layout and trace frame. Every string
 * is escaped.
 *
 * Returns: true on success.
 */
bool vc_report_html(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
                    GError **error);

/**
 * vc_report_json:
 * Writes a JSON document: {"tool", "version", "backend", "started",
 * "seconds", "exit_code", "totals": {...}, "results": [{"id", "spec",
 * "level", "summary", "verdict", "reason", "trace", "profile", "seconds"}]}.
 * Returns: true on success, else sets @error.
 */
bool vc_report_json(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
                    GError **error);

#endif /* VC_REPORT_H */
