/*
 * vc-report-tap.c -- TAP 13 on a stream, written as checks finish.
 *
 * The reader that matters is meson's TAPParser (protocol: 'tap'): it knows
 * only the SKIP and TODO directives and cuts a description at the first '#',
 * so descriptions never contain '#', WARN text follows a '#' as a plain
 * comment, and everything a daemon said goes into a double-quoted YAML
 * scalar that can hold no line break.
 */
#include "vc-report-private.h"

/* YAML 1.2 "Double-Quoted Style": escape what is not c-printable, and '"' and '\'. */
static void
append_yaml_string(GString *s, const char *value)
{
    g_autofree char *valid = NULL;

    if (!value) {
        g_string_append_c(s, '~');
        return;
    }
    valid = vc_report_valid_utf8(value);
    g_string_append_c(s, '"');
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        switch (c) {
        case '"':
            g_string_append(s, "\\\"");
            break;
        case '\\':
            g_string_append(s, "\\\\");
            break;
        case '\n':
            g_string_append(s, "\\n");
            break;
        case '\r':
            g_string_append(s, "\\r");
            break;
        case '\t':
            g_string_append(s, "\\t");
            break;
        default:
            if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
                g_string_append_printf(s, "\\x%02X", c);
            } else if (c == 0x2028 || c == 0x2029 || c == 0xfeff || c == 0xfffe || c == 0xffff) {
                g_string_append_printf(s, "\\u%04X", c);
            } else {
                g_string_append_len(s, p, g_utf8_next_char(p) - p);
            }
            break;
        }
    }
    g_string_append_c(s, '"');
}

void
vc_report_tap_begin(FILE *out, guint planned)
{
    g_return_if_fail(out != NULL);

    fprintf(out, "TAP version 13\n1..%u\n", planned);
    fflush(out);
}

void
vc_report_tap_result(FILE *out, guint number, const VcResult *r)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *id = NULL;
    g_autofree char *summary = NULL;
    g_autofree char *reason = NULL;
    VcVerdict v;

    g_return_if_fail(out != NULL);
    g_return_if_fail(r != NULL);

    v = vc_report_verdict(r->verdict);
    id = vc_report_one_line(r->id, true);
    summary = vc_report_one_line(r->summary, true);
    reason = vc_report_one_line(r->reason, false);

    g_string_append_printf(s, "%s %u - %s", v == VC_FAIL || v == VC_ERROR ? "not ok" : "ok", number,
                           id);
    if (*summary) {
        g_string_append_printf(s, " %s", summary);
    }
    if (v == VC_SKIP) {
        g_string_append(s, " # SKIP");
    } else if (v == VC_WARN) {
        /* Not a directive for meson: the SHOULD violation stays an "ok". */
        g_string_append(s, " # WARN");
    }
    if ((v == VC_SKIP || v == VC_WARN) && *reason) {
        g_string_append_printf(s, " %s", reason);
    }
    g_string_append_c(s, '\n');

    if (v == VC_FAIL || v == VC_WARN || v == VC_ERROR) {
        g_string_append(s, "  ---\n  spec: ");
        append_yaml_string(s, r->spec);
        g_string_append_printf(s,
                               "\n  level: %s\n  verdict: %s\n  message: ", vc_level_name(r->level),
                               vc_verdict_name(v));
        append_yaml_string(s, r->reason);
        g_string_append_c(s, '\n');
        if (r->trace) {
            g_string_append(s, "  trace: ");
            append_yaml_string(s, r->trace);
            g_string_append_c(s, '\n');
        }
        if (r->profile) {
            g_string_append(s, "  profile: ");
            append_yaml_string(s, r->profile);
            g_string_append_c(s, '\n');
        }
        if (r->ring) {
            g_string_append(s, "  ring: ");
            append_yaml_string(s, r->ring);
            g_string_append_c(s, '\n');
        }
        g_string_append(s, "  ...\n");
    }
    fwrite(s->str, 1, s->len, out);
    fflush(out);
}

void
vc_report_tap_end(FILE *out, const VcResult *results, guint n)
{
    VcReportTotals t;

    g_return_if_fail(out != NULL);
    g_return_if_fail(results != NULL || n == 0);

    vc_report_count(results, n, &t);
    fprintf(out, "# checks: %u  pass: %u  fail: %u  warn: %u  skip: %u  error: %u\n", t.checks,
            t.pass, t.fail, t.warn, t.skip, t.error);
    fflush(out);
}
