/*
 * vc-report.c -- names, exit code and the helpers every writer shares.
 */
#include <math.h>
#include <string.h>

#include "vc-report-private.h"

const char *
vc_verdict_name(VcVerdict v)
{
    switch (vc_report_verdict(v)) {
    case VC_PASS:
        return "PASS";
    case VC_FAIL:
        return "FAIL";
    case VC_WARN:
        return "WARN";
    case VC_SKIP:
        return "SKIP";
    case VC_ERROR:
    default:
        return "ERROR";
    }
}

const char *
vc_level_name(VcLevel l)
{
    switch (l) {
    case VC_MUST:
        return "MUST";
    case VC_SHOULD:
        return "SHOULD";
    case VC_MAY:
        return "MAY";
    default:
        return "UNKNOWN";
    }
}

void
vc_result_clear(VcResult *r)
{
    if (!r) {
        return;
    }
    g_clear_pointer(&r->id, g_free);
    g_clear_pointer(&r->spec, g_free);
    g_clear_pointer(&r->summary, g_free);
    g_clear_pointer(&r->reason, g_free);
    g_clear_pointer(&r->trace, g_free);
    g_clear_pointer(&r->profile, g_free);
    g_clear_pointer(&r->ring, g_free);
}

VcVerdict
vc_report_verdict(VcVerdict v)
{
    switch (v) {
    case VC_PASS:
    case VC_FAIL:
    case VC_WARN:
    case VC_SKIP:
    case VC_ERROR:
        return v;
    default:
        return VC_ERROR;
    }
}

void
vc_report_count(const VcResult *results, guint n, VcReportTotals *totals)
{
    memset(totals, 0, sizeof(*totals));
    if (!results) {
        return;
    }
    totals->checks = n;
    for (guint i = 0; i < n; i++) {
        switch (vc_report_verdict(results[i].verdict)) {
        case VC_PASS:
            totals->pass++;
            break;
        case VC_FAIL:
            totals->fail++;
            break;
        case VC_WARN:
            totals->warn++;
            break;
        case VC_SKIP:
            totals->skip++;
            break;
        case VC_ERROR:
        default:
            totals->error++;
            break;
        }
    }
}

int
vc_report_exit_code(const VcResult *results, guint n)
{
    VcReportTotals t;

    /* A length without an array is a runner bug: that is meson's ERROR. */
    g_return_val_if_fail(results != NULL || n == 0, 99);

    vc_report_count(results, n, &t);
    if (t.fail) {
        return 1;
    }
    if (t.error) {
        return 99;
    }
    if (t.skip == t.checks) {
        return 77;
    }
    return 0;
}

char *
vc_report_valid_utf8(const char *s)
{
    return g_utf8_make_valid(s ? s : "", -1);
}

char *
vc_report_one_line(const char *s, bool no_hash)
{
    g_autofree char *valid = vc_report_valid_utf8(s);
    GString *out = g_string_sized_new(strlen(valid));

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
            g_string_append_c(out, ' ');
        } else if (no_hash && c == '#') {
            g_string_append_unichar(out, 0xff03); /* FULLWIDTH NUMBER SIGN */
        } else {
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
    }
    return g_string_free(out, FALSE);
}

char *
vc_report_area(const char *id)
{
    const char *first, *last;
    g_autofree char *mid = NULL;

    if (!id || !*id) {
        return g_strdup("unknown");
    }
    first = strchr(id, '-');
    last = strrchr(id, '-');
    if (!first || first == last) {
        return vc_report_valid_utf8(id);
    }
    if (last == first + 1) {
        return g_strdup("unknown");
    }
    mid = g_strndup(first + 1, last - first - 1);
    return vc_report_valid_utf8(mid);
}

void
vc_report_append_seconds(GString *s, double seconds)
{
    /* %.3f of DBL_MAX needs 313 characters; G_ASCII_DTOSTR_BUF_SIZE alone would truncate. */
    char buf[G_ASCII_DTOSTR_BUF_SIZE + 320];

    if (!isfinite(seconds)) {
        seconds = 0;
    }
    g_string_append(s, g_ascii_formatd(buf, sizeof(buf), "%.3f", seconds));
}

bool
vc_report_write_file(const char *path, const char *what, const GString *contents, GError **error)
{
    g_autoptr(GError) local = NULL;

    g_return_val_if_fail(path != NULL, false);

    /* g_file_set_contents() writes a temporary file and renames it over @path. */
    if (!g_file_set_contents(path, contents->str, contents->len, &local)) {
        g_autofree char *display = g_filename_display_name(path);

        g_set_error(error, local->domain, local->code, "cannot write %s %s: %s", what, display,
                    local->message);
        return false;
    }
    return true;
}
