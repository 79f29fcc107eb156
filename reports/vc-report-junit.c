/*
 * vc-report-junit.c -- JUnit XML, the dialect CI servers read (Jenkins,
 * GitLab): <testsuites><testsuite><testcase> with failure/error/skipped.
 */
#include "vc-report-private.h"

/*
 * XML 1.0 "Char" excludes most C0 controls, U+FFFE and U+FFFF, and not even
 * a character reference may name them, so they are dropped; DEL and C1 are
 * legal but "discouraged", and dropped too. In attributes, tab and line
 * breaks become references, or the parser's normalisation would turn them
 * into spaces. g_markup_escape_text() is not used: it writes &#x1; for
 * controls, which XML 1.0 parsers reject.
 */
static void
append_xml(GString *s, const char *value, bool attribute)
{
    g_autofree char *valid = vc_report_valid_utf8(value);

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        switch (c) {
        case '&':
            g_string_append(s, "&amp;");
            break;
        case '<':
            g_string_append(s, "&lt;");
            break;
        case '>':
            g_string_append(s, "&gt;");
            break;
        case '"':
            g_string_append(s, "&quot;");
            break;
        case '\'':
            g_string_append(s, "&apos;");
            break;
        case '\t':
        case '\n':
        case '\r':
            if (attribute || c == '\r') {
                g_string_append_printf(s, "&#%u;", c);
            } else {
                g_string_append_c(s, (char)c);
            }
            break;
        default:
            if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xfffe || c == 0xffff) {
                break;
            }
            g_string_append_len(s, p, g_utf8_next_char(p) - p);
            break;
        }
    }
}

static void
append_attr(GString *s, const char *name, const char *value)
{
    g_string_append_printf(s, " %s=\"", name);
    append_xml(s, value, true);
    g_string_append_c(s, '"');
}

static void
append_counts(GString *s, const VcReportTotals *t, double seconds)
{
    g_string_append_printf(s, " tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"",
                           t->checks, t->fail, t->error, t->skip);
    vc_report_append_seconds(s, seconds);
    g_string_append_c(s, '"');
}

static void
append_property(GString *s, const char *name, const char *value)
{
    if (!value) {
        return;
    }
    g_string_append(s, "      <property");
    append_attr(s, "name", name);
    append_attr(s, "value", value);
    g_string_append(s, "/>\n");
}

/* Body of <failure>/<error>: what a CI page shows when the case is opened. */
static void
append_details(GString *s, const VcResult *r)
{
    g_string_append(s, "spec: ");
    append_xml(s, r->spec, false);
    g_string_append_printf(s, "\nlevel: %s\nmessage: ", vc_level_name(r->level));
    append_xml(s, r->reason, false);
    if (r->trace) {
        g_string_append(s, "\ntrace: ");
        append_xml(s, r->trace, false);
    }
    if (r->profile) {
        g_string_append(s, "\nprofile: ");
        append_xml(s, r->profile, false);
    }
    if (r->ring) {
        g_string_append(s, "\nring: ");
        append_xml(s, r->ring, false);
    }
}

static void
append_testcase(GString *s, const VcResult *r)
{
    VcVerdict v = vc_report_verdict(r->verdict);
    g_autofree char *area = vc_report_area(r->id);
    g_autofree char *classname = g_strconcat("vhost-conform.", area, NULL);
    g_autofree char *name =
        g_strdup_printf("%s %s", r->id ? r->id : "", r->summary ? r->summary : "");

    g_string_append(s, "    <testcase");
    append_attr(s, "classname", classname);
    append_attr(s, "name", g_strstrip(name));
    g_string_append(s, " time=\"");
    vc_report_append_seconds(s, r->seconds);
    g_string_append(s, "\">\n");

    switch (v) {
    case VC_FAIL:
        g_string_append(s, "      <failure");
        append_attr(s, "message", r->reason);
        append_attr(s, "type", vc_level_name(r->level));
        g_string_append_c(s, '>');
        append_details(s, r);
        g_string_append(s, "</failure>\n");
        break;
    case VC_ERROR:
        g_string_append(s, "      <error");
        append_attr(s, "message", r->reason);
        append_attr(s, "type", "ERROR");
        g_string_append_c(s, '>');
        append_details(s, r);
        g_string_append(s, "</error>\n");
        break;
    case VC_SKIP:
        g_string_append(s, "      <skipped");
        append_attr(s, "message", r->reason);
        g_string_append(s, "/>\n");
        break;
    case VC_WARN:
    case VC_PASS:
    default:
        /* A SHOULD violation is not a failure: the case passes and says why it warned. */
        if (v == VC_WARN || (r->reason && *r->reason) || r->trace) {
            g_string_append(s, "      <system-out>");
            g_string_append(s, vc_verdict_name(v));
            g_string_append(s, ": ");
            append_xml(s, r->reason, false);
            if (r->trace) {
                g_string_append(s, "\ntrace: ");
                append_xml(s, r->trace, false);
            }
            g_string_append(s, "</system-out>\n");
        }
        break;
    }
    g_string_append(s, "    </testcase>\n");
}

bool
vc_report_junit(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
                GError **error)
{
    g_autoptr(GString) s = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_autofree char *exit_code = NULL;
    VcReportTotals t;
    double seconds = run ? run->seconds : 0;

    g_return_val_if_fail(path != NULL, false);
    g_return_val_if_fail(results != NULL || n == 0, false);

    vc_report_count(results, n, &t);
    exit_code = g_strdup_printf("%d", run ? run->exit_code : vc_report_exit_code(results, n));

    g_string_append(s, "<testsuites");
    append_attr(s, "name", "vhost-conform");
    append_counts(s, &t, seconds);
    g_string_append(s, ">\n  <testsuite");
    append_attr(s, "name", "vhost-conform");
    append_counts(s, &t, seconds);
    if (run && run->started) {
        append_attr(s, "timestamp", run->started);
    }
    g_string_append(s, ">\n    <properties>\n");
    append_property(s, "backend", run ? run->backend : NULL);
    append_property(s, "version", run ? run->tool_version : NULL);
    append_property(s, "exit_code", exit_code);
    g_string_append(s, "    </properties>\n");

    for (guint i = 0; i < n; i++) {
        append_testcase(s, &results[i]);
    }
    g_string_append(s, "  </testsuite>\n</testsuites>\n");

    return vc_report_write_file(path, "JUnit report", s, error);
}
