/*
 * bench-baseline.c -- comparing a run with a stored one.
 */
#include <json-glib/json-glib.h>

#include "bench-baseline.h"

static const VcBenchResult *
find_result(const VcBenchReport *rep, const char *id)
{
    for (guint i = 0; i < rep->results->len; i++) {
        const VcBenchResult *r = g_ptr_array_index(rep->results, i);
        if (g_strcmp0(r->id, id) == 0) {
            return r;
        }
    }
    return NULL;
}

unsigned
vc_bench_compare(const VcBenchReport *base, const VcBenchReport *cur, double max_regress_pct,
                 GString *out)
{
    double keep = 1.0 - max_regress_pct / 100.0, grow = 1.0 + max_regress_pct / 100.0;
    unsigned bad = 0;

    for (guint i = 0; i < base->results->len; i++) {
        const VcBenchResult *b = g_ptr_array_index(base->results, i);
        const VcBenchResult *c = find_result(cur, b->id);
        const char *unit = vc_bench_unit(b->c.device);
        unsigned before = bad;

        if (b->error || b->rate <= 0) {
            continue;
        }
        if (!c) {
            g_string_append_printf(out, "missing    %s: not measured in this run\n", b->id);
            continue;
        }
        if (c->error) {
            g_string_append_printf(out, "REGRESSION %s: could not be measured (%s)\n", b->id,
                                   c->error);
            bad++;
            continue;
        }
        if (c->rate < b->rate * keep) {
            g_string_append_printf(out, "REGRESSION %s: %.0f %s, baseline %.0f (%+.1f %%, "
                                   "tolerance %.1f %%)\n", b->id, c->rate, unit, b->rate,
                                   (c->rate / b->rate - 1) * 100, max_regress_pct);
            bad++;
        }
        if (b->anchor && c->anchor && b->ratio > 0 && c->ratio < b->ratio * keep) {
            g_string_append_printf(out, "REGRESSION %s: %.2fx of %s, baseline %.2fx\n", b->id,
                                   c->ratio, c->anchor, b->ratio);
            bad++;
        }
        if (b->instr_per_req > 0 && c->instr_per_req > 0 &&
            c->instr_per_req > b->instr_per_req * grow) {
            g_string_append_printf(out, "REGRESSION %s: %.1f instructions per request, baseline "
                                   "%.1f\n", b->id, c->instr_per_req, b->instr_per_req);
            bad++;
        }
        if (bad == before) {
            g_string_append_printf(out, "ok         %s: %.0f %s, baseline %.0f (%+.1f %%)\n",
                                   b->id, c->rate, unit, b->rate, (c->rate / b->rate - 1) * 100);
        }
    }
    for (guint i = 0; i < cur->results->len; i++) {
        const VcBenchResult *c = g_ptr_array_index(cur->results, i);
        if (!find_result(base, c->id)) {
            g_string_append_printf(out, "new        %s: not in the baseline\n", c->id);
        }
    }
    return bad;
}

static char *
verdict_key(const char *id, const char *profile, const char *ring)
{
    return g_strdup_printf("%s|%s|%s", id, profile ? profile : "", ring ? ring : "");
}

static const char *
member_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING) {
        return NULL;
    }
    return json_node_get_string(n);
}

const char *
vc_baseline_kind(const char *path, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    const char *tool;

    if (!json_parser_load_from_file(p, path, error)) {
        return NULL;
    }
    if (JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        tool = member_str(json_node_get_object(json_parser_get_root(p)), "tool");
        if (g_strcmp0(tool, "vhost-conform bench") == 0) {
            return "bench";
        }
        if (g_strcmp0(tool, "vhost-conform") == 0) {
            return "conformance";
        }
    }
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s: not a JSON report of vhost-conform or vhost-conform bench", path);
    return NULL;
}

int
vc_baseline_verdicts(const char *path, const VcResult *results, guint n, GString *out,
                     GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GHashTable) now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonObject *root;
    JsonArray *base;
    int bad = 0;

    if (!json_parser_load_from_file(p, path, error)) {
        return -1;
    }
    if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)) ||
        g_strcmp0(member_str(json_node_get_object(json_parser_get_root(p)), "tool"),
                  "vhost-conform") != 0 ||
        !json_object_has_member(json_node_get_object(json_parser_get_root(p)), "results") ||
        !JSON_NODE_HOLDS_ARRAY(json_object_get_member(json_node_get_object(
            json_parser_get_root(p)), "results"))) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: not a vhost-conform JSON report (--json FILE)", path);
        return -1;
    }
    root = json_node_get_object(json_parser_get_root(p));
    base = json_object_get_array_member(root, "results");
    for (guint i = 0; i < n; i++) {
        g_hash_table_insert(now, verdict_key(results[i].id, results[i].profile, results[i].ring),
                            (gpointer)&results[i]);
    }
    for (guint i = 0; i < json_array_get_length(base); i++) {
        JsonNode *e = json_array_get_element(base, i);
        JsonObject *o;
        const VcResult *r;
        g_autofree char *key = NULL;
        const char *id;

        if (!JSON_NODE_HOLDS_OBJECT(e)) {
            continue;
        }
        o = json_node_get_object(e);
        id = member_str(o, "id");
        if (!id || g_strcmp0(member_str(o, "verdict"), "PASS") != 0) {
            continue;
        }
        key = verdict_key(id, member_str(o, "profile"), member_str(o, "ring"));
        r = g_hash_table_lookup(now, key);
        if (!r) {
            g_string_append_printf(out, "missing    %s (%s, %s): PASS in the baseline, not run "
                                   "now\n", id, member_str(o, "profile") ?: "-",
                                   member_str(o, "ring") ?: "-");
        } else if (r->verdict != VC_PASS) {
            g_string_append_printf(out, "REGRESSION %s (%s, %s): PASS in the baseline, %s now: "
                                   "%s\n", id, r->profile ?: "-", r->ring ?: "-",
                                   vc_verdict_name(r->verdict), r->reason ?: "");
            bad++;
        }
    }
    return bad;
}
