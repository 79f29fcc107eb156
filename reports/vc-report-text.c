/*
 * vc-report-text.c -- the human-readable report.
 */
#include <string.h>

#include "vc-report-private.h"

#define VC_TEXT_INDENT "      " /* reason and trace lines sit under the ID column */

static const char *
verdict_colour(VcVerdict v)
{
    switch (vc_report_verdict(v)) {
    case VC_PASS:
        return "\033[32m";
    case VC_FAIL:
        return "\033[1;31m";
    case VC_WARN:
        return "\033[33m";
    case VC_SKIP:
        return "\033[36m";
    case VC_ERROR:
    default:
        return "\033[1;35m";
    }
}

static void
append_padded(GString *s, const char *text, glong width)
{
    glong len = g_utf8_strlen(text, -1);

    g_string_append(s, text);
    for (glong i = len; i < width; i++) {
        g_string_append_c(s, ' ');
    }
}

static void
append_result(GString *s, const VcResult *r, glong id_width, bool color, bool show_profile,
              bool show_ring)
{
    VcVerdict v = vc_report_verdict(r->verdict);
    const char *name = vc_verdict_name(v);
    g_autofree char *id = vc_report_one_line(r->id, false);
    g_autofree char *summary = vc_report_one_line(r->summary, false);

    if (color) {
        g_string_append_printf(s, "%s%s\033[0m", verdict_colour(v), name);
        append_padded(s, "", 5 - (glong)strlen(name));
    } else {
        append_padded(s, name, 5);
    }
    g_string_append_c(s, ' ');
    append_padded(s, id, id_width);
    g_string_append(s, "  ");
    append_padded(s, vc_level_name(r->level), 6);
    g_string_append(s, "  ");
    g_string_append(s, summary);
    if ((show_profile && r->profile) || (show_ring && r->ring)) {
        g_autofree char *profile = vc_report_one_line(show_profile ? r->profile : NULL, false);
        g_autofree char *ring = vc_report_one_line(show_ring ? r->ring : NULL, false);

        g_string_append_printf(s, "  [%s%s%s]", show_profile ? profile : "",
                               show_profile && show_ring ? " " : "", show_ring ? ring : "");
    }
    g_string_append_c(s, '\n');

    /* For PASS the reason only says what was observed: keep the list short. */
    if (v != VC_PASS && r->reason && *r->reason) {
        g_autofree char *reason = vc_report_one_line(r->reason, false);

        g_string_append_printf(s, VC_TEXT_INDENT "%s\n", reason);
    }
    if (r->trace && *r->trace) {
        g_autofree char *trace = vc_report_one_line(r->trace, false);

        g_string_append_printf(s, VC_TEXT_INDENT "trace: %s\n", trace);
    }
}

void
vc_report_text(FILE *out, const VcRunInfo *run, const VcResult *results, guint n, bool color)
{
    g_autoptr(GString) s = g_string_new(NULL);
    VcReportTotals t;
    glong id_width = 11; /* strlen("VU-RING-005") */

    g_return_if_fail(out != NULL);
    g_return_if_fail(results != NULL || n == 0);

    for (guint i = 0; i < n; i++) {
        g_autofree char *id = vc_report_one_line(results[i].id, false);

        id_width = MAX(id_width, MIN(g_utf8_strlen(id, -1), 40));
    }
    /* A matrix lists each check once per profile and ring layout: say which. */
    bool show_profile = false, show_ring = false;
    for (guint i = 1; i < n; i++) {
        show_profile |= g_strcmp0(results[i].profile, results[0].profile) != 0;
        show_ring |= g_strcmp0(results[i].ring, results[0].ring) != 0;
    }
    for (guint i = 0; i < n; i++) {
        append_result(s, &results[i], id_width, color, show_profile, show_ring);
    }

    vc_report_count(results, n, &t);
    g_string_append_printf(s, "%schecks: %u  pass: %u  fail: %u  warn: %u  skip: %u  error: %u\n",
                           n ? "\n" : "", t.checks, t.pass, t.fail, t.warn, t.skip, t.error);
    if (run) {
        if (run->backend) {
            g_autofree char *backend = vc_report_one_line(run->backend, false);

            g_string_append_printf(s, "backend: %s\n", backend);
        }
        if (run->tool_version) {
            g_autofree char *version = vc_report_one_line(run->tool_version, false);

            g_string_append_printf(s, "vhost-conform %s  ", version);
        }
        if (run->started) {
            g_autofree char *started = vc_report_one_line(run->started, false);

            g_string_append_printf(s, "started: %s  ", started);
        }
        g_string_append(s, "time: ");
        vc_report_append_seconds(s, run->seconds);
        g_string_append_printf(s, " s  exit code: %d\n", run->exit_code);
    }
    fwrite(s->str, 1, s->len, out);
    fflush(out);
}
