/*
 * vc-report-json.c -- the JSON report (RFC 8259), keys in the order the
 * header documents so that reports diff cleanly between runs.
 */
#include "vc-report-private.h"

/* RFC 8259 section 7; U+2028/U+2029 escaped too so the text is also valid JavaScript. */
static void
append_json_string(GString *s, const char *value)
{
    g_autofree char *valid = NULL;

    if (!value) {
        g_string_append(s, "null");
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
        case '\b':
            g_string_append(s, "\\b");
            break;
        case '\f':
            g_string_append(s, "\\f");
            break;
        default:
            if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                g_string_append_printf(s, "\\u%04x", c);
            } else {
                g_string_append_len(s, p, g_utf8_next_char(p) - p);
            }
            break;
        }
    }
    g_string_append_c(s, '"');
}

static void
append_key(GString *s, const char *indent, const char *key)
{
    g_string_append_printf(s, "%s\"%s\": ", indent, key);
}

static void
append_result(GString *s, const VcResult *r)
{
    g_string_append(s, "    {\n");
    append_key(s, "      ", "id");
    append_json_string(s, r->id);
    g_string_append(s, ",\n");
    append_key(s, "      ", "spec");
    append_json_string(s, r->spec);
    g_string_append(s, ",\n");
    append_key(s, "      ", "level");
    append_json_string(s, vc_level_name(r->level));
    g_string_append(s, ",\n");
    append_key(s, "      ", "summary");
    append_json_string(s, r->summary);
    g_string_append(s, ",\n");
    append_key(s, "      ", "verdict");
    append_json_string(s, vc_verdict_name(r->verdict));
    g_string_append(s, ",\n");
    append_key(s, "      ", "reason");
    append_json_string(s, r->reason);
    g_string_append(s, ",\n");
    append_key(s, "      ", "trace");
    append_json_string(s, r->trace);
    g_string_append(s, ",\n");
    append_key(s, "      ", "profile");
    append_json_string(s, r->profile);
    g_string_append(s, ",\n");
    append_key(s, "      ", "ring");
    append_json_string(s, r->ring);
    g_string_append(s, ",\n");
    append_key(s, "      ", "seconds");
    vc_report_append_seconds(s, r->seconds);
    g_string_append(s, "\n    }");
}

bool
vc_report_json(const char *path, const VcRunInfo *run, const VcResult *results, guint n,
               GError **error)
{
    g_autoptr(GString) s = g_string_new("{\n");
    VcReportTotals t;

    g_return_val_if_fail(path != NULL, false);
    g_return_val_if_fail(results != NULL || n == 0, false);

    vc_report_count(results, n, &t);

    append_key(s, "  ", "tool");
    append_json_string(s, "vhost-conform");
    g_string_append(s, ",\n");
    append_key(s, "  ", "version");
    append_json_string(s, run ? run->tool_version : NULL);
    g_string_append(s, ",\n");
    append_key(s, "  ", "backend");
    append_json_string(s, run ? run->backend : NULL);
    g_string_append(s, ",\n");
    append_key(s, "  ", "started");
    append_json_string(s, run ? run->started : NULL);
    g_string_append(s, ",\n");
    append_key(s, "  ", "seconds");
    vc_report_append_seconds(s, run ? run->seconds : 0);
    g_string_append(s, ",\n");
    append_key(s, "  ", "exit_code");
    g_string_append_printf(s, "%d,\n", run ? run->exit_code : vc_report_exit_code(results, n));
    append_key(s, "  ", "totals");
    g_string_append_printf(s,
                           "{\n    \"checks\": %u,\n    \"pass\": %u,\n    \"fail\": %u,\n"
                           "    \"warn\": %u,\n    \"skip\": %u,\n    \"error\": %u\n  },\n",
                           t.checks, t.pass, t.fail, t.warn, t.skip, t.error);
    append_key(s, "  ", "results");
    if (n == 0) {
        g_string_append(s, "[]\n}\n");
    } else {
        g_string_append(s, "[\n");
        for (guint i = 0; i < n; i++) {
            append_result(s, &results[i]);
            g_string_append(s, i + 1 < n ? ",\n" : "\n");
        }
        g_string_append(s, "  ]\n}\n");
    }

    return vc_report_write_file(path, "JSON report", s, error);
}
