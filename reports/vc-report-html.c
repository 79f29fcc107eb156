/*
 * vc-report-html.c -- one self-contained HTML page: the run, the totals,
 * and a table of every result (FAIL and WARN first, each with its reason,
 * spec section and trace frame). No script and no external resource: it
 * opens from a CI artifact store as it is. Every string from a result is
 * escaped; a daemon's reason cannot inject markup.
 */
#include <string.h>

#include "vc-report-private.h"

static void
append_html(GString *s, const char *text)
{
    g_autofree char *valid = vc_report_valid_utf8(text);
    g_autofree char *esc = g_markup_escape_text(valid, -1);

    g_string_append(s, esc);
}

static const char *
verdict_class(VcVerdict v)
{
    switch (v) {
    case VC_PASS:
        return "pass";
    case VC_FAIL:
        return "fail";
    case VC_WARN:
        return "warn";
    case VC_SKIP:
        return "skip";
    default:
        return "error";
    }
}

/* FAIL, ERROR, WARN, then SKIP and PASS: what needs reading first. */
static int
rank(VcVerdict v)
{
    switch (vc_report_verdict(v)) {
    case VC_FAIL:
        return 0;
    case VC_ERROR:
        return 1;
    case VC_WARN:
        return 2;
    case VC_SKIP:
        return 3;
    default:
        return 4;
    }
}

static void
append_row(GString *s, const VcResult *r)
{
    VcVerdict v = vc_report_verdict(r->verdict);

    g_string_append_printf(s, "<tr class=\"%s\"><td class=\"v\">%s</td><td>", verdict_class(v),
                           vc_verdict_name(v));
    append_html(s, r->id);
    g_string_append(s, "</td><td>");
    g_string_append(s, vc_level_name(r->level));
    g_string_append(s, "</td><td>");
    append_html(s, r->summary);
    if (r->reason && *r->reason) {
        g_string_append(s, "<div class=\"why\">");
        append_html(s, r->reason);
        g_string_append(s, "</div>");
    }
    g_string_append(s, "</td><td>");
    append_html(s, r->spec);
    g_string_append(s, "</td><td>");
    append_html(s, r->profile);
    if (r->ring) {
        g_string_append(s, " ");
        append_html(s, r->ring);
    }
    g_string_append(s, "</td><td>");
    append_html(s, r->trace);
    g_string_append(s, "</td></tr>\n");
}

bool
vc_report_html(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
               GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    VcReportTotals t;

    g_return_val_if_fail(path != NULL, false);
    g_return_val_if_fail(results != NULL || n == 0, false);

    vc_report_count(results, n, &t);
    g_string_append(s, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<title>vhost-conform: ");
    append_html(s, run ? run->backend : "");
    g_string_append(s,
        "</title>\n<style>\n"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}\n"
        "td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;"
        "vertical-align:top}\n"
        "td.v{font-weight:bold;font-family:monospace}.why{color:#444;font-size:90%}\n"
        "tr.fail td.v{color:#b00}tr.error td.v{color:#a0a}tr.warn td.v{color:#b60}\n"
        "tr.skip td.v{color:#777}tr.pass td.v{color:#080}.tot span{margin-right:1.5em}\n"
        "</style></head><body>\n<h1>vhost-conform</h1>\n<p>");
    append_html(s, run ? run->backend : "");
    g_string_append(s, "<br>");
    append_html(s, run ? run->tool_version : "");
    g_string_append(s, ", started ");
    append_html(s, run ? run->started : "");
    g_string_append(s, ", ");
    vc_report_append_seconds(s, run ? run->seconds : 0);
    g_string_append_printf(s, " s, exit code %d</p>\n",
                           run ? run->exit_code : vc_report_exit_code(results, n));
    g_string_append_printf(s,
                           "<p class=\"tot\"><span>checks: %u</span><span>pass: %u</span>"
                           "<span>fail: %u</span><span>warn: %u</span><span>skip: %u</span>"
                           "<span>error: %u</span></p>\n",
                           t.checks, t.pass, t.fail, t.warn, t.skip, t.error);
    g_string_append(s, "<table><tr><th>verdict</th><th>rule</th><th>level</th><th>summary "
                       "and reason</th><th>spec</th><th>front end</th><th>trace</th></tr>\n");
    /* A stable order: by verdict rank, then as run. */
    for (int k = 0; k <= 4; k++) {
        for (guint i = 0; i < n; i++) {
            if (rank(results[i].verdict) == k) {
                append_row(s, &results[i]);
            }
        }
    }
    g_string_append(s, "</table>\n</body></html>\n");
    return vc_report_write_file(path, "HTML report", s, error);
}
