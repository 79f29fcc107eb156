/*
 * bench-result.c -- bench results: ids, text, JSON in and out, SVG.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "bench-result.h"

static const char *const notify_names[] = {
    [VC_BENCH_EVENTFD] = "eventfd",
    [VC_BENCH_EVENT_IDX] = "event-idx",
    [VC_BENCH_POLL] = "poll",
};

const char *
vc_bench_notify_name(VcBenchNotify n)
{
    return (unsigned)n < G_N_ELEMENTS(notify_names) ? notify_names[n] : "?";
}

bool
vc_bench_notify_parse(const char *s, VcBenchNotify *out)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(notify_names); i++) {
        if (g_strcmp0(s, notify_names[i]) == 0) {
            *out = (VcBenchNotify)i;
            return true;
        }
    }
    return false;
}

char *
vc_bench_case_id(const VcBenchCase *c)
{
    return g_strdup_printf("%s %s %s ring=%u batch=%u depth=%u size=%u notify=%s queues=%u mem=%s",
                           c->device, c->op, c->packed ? "packed" : "split", c->ring_size,
                           c->batch, c->depth, c->size, vc_bench_notify_name(c->notify),
                           c->queues, c->hugepages ? "hugepages" : "memfd");
}

const char *
vc_bench_unit(const char *device)
{
    if (g_strcmp0(device, "net") == 0) {
        return "pps";
    }
    if (g_strcmp0(device, "blk") == 0) {
        return "IOPS";
    }
    return "req/s";
}

VcBenchResult *
vc_bench_result_new(const VcBenchCase *c, const char *backend)
{
    VcBenchResult *r = g_new0(VcBenchResult, 1);

    r->c = *c;
    r->id = vc_bench_case_id(c);
    r->backend = g_strdup(backend);
    return r;
}

void
vc_bench_result_free(VcBenchResult *r)
{
    if (!r) {
        return;
    }
    g_free(r->id);
    g_free(r->backend);
    g_free(r->error);
    g_free(r->anchor);
    g_free(r);
}

VcBenchReport *
vc_bench_report_new(const char *command)
{
    VcBenchReport *rep = g_new0(VcBenchReport, 1);

    rep->command = g_strdup(command);
    rep->results = g_ptr_array_new_with_free_func((GDestroyNotify)vc_bench_result_free);
    return rep;
}

void
vc_bench_report_free(VcBenchReport *rep)
{
    if (!rep) {
        return;
    }
    g_free(rep->version);
    g_free(rep->started);
    g_free(rep->host);
    g_free(rep->command);
    g_ptr_array_unref(rep->results);
    g_free(rep);
}

/* "12.34 M" style: the rate with three significant digits and an SI prefix. */
static void
fmt_rate(char *buf, size_t n, double v)
{
    if (v >= 1e6) {
        g_snprintf(buf, n, "%.3g M", v / 1e6);
    } else if (v >= 1e3) {
        g_snprintf(buf, n, "%.3g k", v / 1e3);
    } else {
        g_snprintf(buf, n, "%.3g ", v);
    }
}

static double
mbytes_per_s(const VcBenchResult *r)
{
    return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e6 : 0;
}

void
vc_bench_print_result(FILE *out, const VcBenchResult *r)
{
    char rate[32], anchor[32], cmp[32];
    const char *unit = vc_bench_unit(r->c.device);

    if (r->error) {
        fprintf(out, "%-96s  ERROR: %s\n", r->id, r->error);
        return;
    }
    fmt_rate(rate, sizeof(rate), r->rate);
    fprintf(out, "%-96s  %8s%s", r->id, rate, unit);
    if (g_str_equal(r->c.device, "net")) {
        fprintf(out, "  %6.2f Gbit/s", mbytes_per_s(r) * 8 / 1e3);
    } else {
        fprintf(out, "  %8.1f MB/s", mbytes_per_s(r));
    }
    if (r->has_latency) {
        fprintf(out, "  lat p50 %.0f p99 %.0f p99.9 %.0f ns", r->p50_ns, r->p99_ns, r->p999_ns);
    }
    fprintf(out, "  kicks %.2f calls %.2f /1000", r->kicks_per_1k, r->calls_per_1k);
    fprintf(out, "  front end busy %.0f %%", r->frontend_busy * 100);
    if (r->preempted) {
        fprintf(out, "  preempted %" G_GUINT64_FORMAT, r->preempted);
    }
    if (r->backend_rate > 0) {
        fmt_rate(cmp, sizeof(cmp), r->backend_rate);
        fprintf(out, "  (back end counted %s%s)", cmp, unit);
    }
    if (r->instr_per_req > 0) {
        fprintf(out, "  %.1f instructions/request", r->instr_per_req);
    }
    fprintf(out, "\n");
    if (r->anchor) {
        fmt_rate(anchor, sizeof(anchor), r->anchor_rate);
        fmt_rate(cmp, sizeof(cmp), r->compared);
        fprintf(out, "%-96s  %8s%s  vhost-conform %s%s  ratio %.2fx (median of %u paired rounds)\n",
                r->anchor, anchor, unit, cmp, unit, r->ratio, r->rounds);
    }
}

/* --- JSON ------------------------------------------------------------------------------- */

/* round() without libm, for the magnitudes a bench reports. */
static double
round_to(double v, double unit)
{
    double x = v / unit;

    return (double)(int64_t)(x + (x < 0 ? -0.5 : 0.5)) * unit;
}

static void
add_str(JsonBuilder *b, const char *key, const char *v)
{
    json_builder_set_member_name(b, key);
    if (v) {
        json_builder_add_string_value(b, v);
    } else {
        json_builder_add_null_value(b);
    }
}

static void
add_num(JsonBuilder *b, const char *key, double v)
{
    json_builder_set_member_name(b, key);
    /* Three decimals are plenty and keep files diffable; JSON has no NaN. */
    json_builder_add_double_value(b, v == v && v < 1e15 && v > -1e15 ? round_to(v, 0.001) : 0);
}

static void
add_int(JsonBuilder *b, const char *key, int64_t v)
{
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, v);
}

static void
add_result(JsonBuilder *b, const VcBenchResult *r)
{
    json_builder_begin_object(b);
    add_str(b, "id", r->id);
    add_str(b, "device", r->c.device);
    add_str(b, "op", r->c.op);
    add_str(b, "ring", r->c.packed ? "packed" : "split");
    add_int(b, "ring_size", r->c.ring_size);
    add_int(b, "batch", r->c.batch);
    add_int(b, "depth", r->c.depth);
    add_int(b, "size", r->c.size);
    add_int(b, "queues", r->c.queues);
    add_str(b, "notify", vc_bench_notify_name(r->c.notify));
    add_str(b, "memory", r->c.hugepages ? "hugepages" : "memfd");
    add_int(b, "cpu", r->c.cpu);
    add_str(b, "backend", r->backend);
    add_str(b, "error", r->error);
    add_num(b, "seconds", r->seconds);
    add_int(b, "requests", (int64_t)r->requests);
    add_num(b, "rate", r->rate);
    add_str(b, "unit", vc_bench_unit(r->c.device));
    add_num(b, "mbytes_per_s", mbytes_per_s(r));
    add_num(b, "gbit_per_s", mbytes_per_s(r) * 8 / 1e3);
    add_num(b, "backend_rate", r->backend_rate);
    json_builder_set_member_name(b, "latency_ns");
    if (r->has_latency) {
        json_builder_begin_object(b);
        add_num(b, "p50", r->p50_ns);
        add_num(b, "p99", r->p99_ns);
        add_num(b, "p99.9", r->p999_ns);
        add_num(b, "mean", r->mean_ns);
        add_num(b, "max", r->max_ns);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    add_num(b, "kicks_per_1000", r->kicks_per_1k);
    add_num(b, "calls_per_1000", r->calls_per_1k);
    add_num(b, "frontend_busy", r->frontend_busy);
    add_int(b, "preempted", (int64_t)r->preempted);
    json_builder_set_member_name(b, "instructions_per_request");
    if (r->instr_per_req > 0) {
        json_builder_add_double_value(b, round_to(r->instr_per_req, 0.1));
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "anchor");
    if (r->anchor) {
        json_builder_begin_object(b);
        add_str(b, "name", r->anchor);
        add_num(b, "rate", r->anchor_rate);
        add_num(b, "compared", r->compared);
        add_num(b, "ratio", r->ratio);
        json_builder_set_member_name(b, "rounds");
        json_builder_begin_array(b);
        for (unsigned i = 0; i < r->rounds && i < G_N_ELEMENTS(r->ours_round); i++) {
            json_builder_begin_array(b);
            json_builder_add_double_value(b, round_to(r->ours_round[i], 1));
            json_builder_add_double_value(b, round_to(r->anchor_round[i], 1));
            json_builder_end_array(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
}

char *
vc_bench_report_to_json(const VcBenchReport *rep)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    add_str(b, "tool", "vhost-conform bench");
    add_str(b, "version", rep->version);
    add_str(b, "started", rep->started);
    add_str(b, "host", rep->host);
    add_str(b, "command", rep->command);
    json_builder_set_member_name(b, "results");
    json_builder_begin_array(b);
    for (guint i = 0; i < rep->results->len; i++) {
        add_result(b, g_ptr_array_index(rep->results, i));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

bool
vc_bench_report_write_json(const VcBenchReport *rep, const char *path, GError **error)
{
    g_autofree char *text = vc_bench_report_to_json(rep);

    return g_file_set_contents(path, text, -1, error);
}

static double
get_num(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE) {
        return 0;
    }
    return json_node_get_double(n);
}

static const char *
get_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING) {
        return NULL;
    }
    return json_node_get_string(n);
}

/* Device and op names as static strings, so that a loaded case looks like a measured one. */
static const char *
intern(const char *s)
{
    return s ? g_intern_string(s) : NULL;
}

VcBenchReport *
vc_bench_report_load(const char *path, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(VcBenchReport) rep = NULL;
    JsonObject *root;
    JsonArray *results;

    if (!json_parser_load_from_file(p, path, error)) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)) ||
        g_strcmp0(get_str(json_node_get_object(json_parser_get_root(p)), "tool"),
                  "vhost-conform bench") != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: not a vhost-conform bench report", path);
        return NULL;
    }
    root = json_node_get_object(json_parser_get_root(p));
    rep = vc_bench_report_new(get_str(root, "command"));
    rep->version = g_strdup(get_str(root, "version"));
    rep->started = g_strdup(get_str(root, "started"));
    rep->host = g_strdup(get_str(root, "host"));
    results = json_object_has_member(root, "results")
                  ? json_object_get_array_member(root, "results") : NULL;
    for (guint i = 0; results && i < json_array_get_length(results); i++) {
        JsonNode *n = json_array_get_element(results, i);
        JsonObject *o;
        JsonNode *lat, *anc;
        VcBenchResult *r;

        if (!JSON_NODE_HOLDS_OBJECT(n) || !get_str(json_node_get_object(n), "id")) {
            continue;
        }
        o = json_node_get_object(n);
        r = g_new0(VcBenchResult, 1);
        r->id = g_strdup(get_str(o, "id"));
        r->c.device = intern(get_str(o, "device"));
        r->c.op = intern(get_str(o, "op"));
        r->c.packed = g_strcmp0(get_str(o, "ring"), "packed") == 0;
        r->c.ring_size = (unsigned)get_num(o, "ring_size");
        r->c.batch = (unsigned)get_num(o, "batch");
        r->c.depth = (unsigned)get_num(o, "depth");
        r->c.size = (unsigned)get_num(o, "size");
        r->c.queues = (unsigned)get_num(o, "queues");
        vc_bench_notify_parse(get_str(o, "notify"), &r->c.notify);
        r->c.hugepages = g_strcmp0(get_str(o, "memory"), "hugepages") == 0;
        r->c.cpu = (int)get_num(o, "cpu");
        r->backend = g_strdup(get_str(o, "backend"));
        r->error = g_strdup(get_str(o, "error"));
        r->seconds = get_num(o, "seconds");
        r->requests = (uint64_t)get_num(o, "requests");
        r->rate = get_num(o, "rate");
        r->bytes = (uint64_t)(get_num(o, "mbytes_per_s") * 1e6 * r->seconds);
        r->backend_rate = get_num(o, "backend_rate");
        r->kicks_per_1k = get_num(o, "kicks_per_1000");
        r->calls_per_1k = get_num(o, "calls_per_1000");
        r->preempted = (uint64_t)get_num(o, "preempted");
        r->frontend_busy = get_num(o, "frontend_busy");
        r->instr_per_req = get_num(o, "instructions_per_request");
        lat = json_object_get_member(o, "latency_ns");
        if (lat && JSON_NODE_HOLDS_OBJECT(lat)) {
            JsonObject *l = json_node_get_object(lat);
            r->has_latency = true;
            r->p50_ns = get_num(l, "p50");
            r->p99_ns = get_num(l, "p99");
            r->p999_ns = get_num(l, "p99.9");
            r->mean_ns = get_num(l, "mean");
            r->max_ns = get_num(l, "max");
        }
        anc = json_object_get_member(o, "anchor");
        if (anc && JSON_NODE_HOLDS_OBJECT(anc)) {
            JsonObject *a = json_node_get_object(anc);
            r->anchor = g_strdup(get_str(a, "name") ? get_str(a, "name") : "anchor");
            r->anchor_rate = get_num(a, "rate");
            r->compared = get_num(a, "compared");
            r->ratio = get_num(a, "ratio");
        }
        g_ptr_array_add(rep->results, r);
    }
    return g_steal_pointer(&rep);
}

/* --- SVG ---------------------------------------------------------------------------------- */

#define SVG_W        1100
#define SVG_LABEL_W  560
#define SVG_BAR_W    (SVG_W - SVG_LABEL_W - 150)
#define SVG_ROW_H    22
#define SVG_TOP      44

bool
vc_bench_report_write_svg(const VcBenchReport *rep, const char *path, GError **error)
{
    g_autofree char *text = vc_bench_report_to_svg(rep);

    return g_file_set_contents(path, text, -1, error);
}

static void
svg_bar(GString *s, double y, double value, double scale, const char *color, const char *label,
        const char *note)
{
    g_autofree char *l = g_markup_escape_text(label, -1);
    g_autofree char *t = g_markup_escape_text(note, -1);
    double w = scale > 0 ? value / scale * SVG_BAR_W : 0;

    g_string_append_printf(s, "  <text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                           SVG_LABEL_W - 8, y + 14, l);
    g_string_append_printf(s, "  <rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                           "fill=\"%s\"/>\n", SVG_LABEL_W, y + 3, MAX(w, 1.0), SVG_ROW_H - 6,
                           color);
    g_string_append_printf(s, "  <text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                           SVG_LABEL_W + MAX(w, 1.0) + 6, y + 14, t);
}

char *
vc_bench_report_to_svg(const VcBenchReport *rep)
{
    GString *s = g_string_new(NULL);
    double max = 0, y = SVG_TOP;
    unsigned rows = 0;
    g_autofree char *title = NULL;

    for (guint i = 0; i < rep->results->len; i++) {
        const VcBenchResult *r = g_ptr_array_index(rep->results, i);
        max = MAX(max, r->rate);
        max = MAX(max, r->anchor_rate);
        max = MAX(max, r->compared);
        rows += r->anchor ? 2 : 1;
    }
    title = g_markup_escape_text(rep->command ? rep->command : "vhost-conform bench", -1);
    g_string_append_printf(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                           "width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                           "font-size=\"12\">\n"
                           "  <rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                           "  <text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">"
                           "vhost-conform bench</text>\n"
                           "  <text x=\"8\" y=\"34\" fill=\"#555\">%s</text>\n",
                           SVG_W, SVG_TOP + (int)MAX(rows, 1u) * SVG_ROW_H + 12, title);
    for (guint i = 0; i < rep->results->len; i++) {
        const VcBenchResult *r = g_ptr_array_index(rep->results, i);
        const char *unit = vc_bench_unit(r->c.device);
        g_autofree char *note = NULL;

        if (r->error) {
            note = g_strdup_printf("error: %s", r->error);
        } else if (r->anchor) {
            note = g_strdup_printf("%.3g M%s", r->compared / 1e6, unit);
        } else {
            note = g_strdup_printf("%.3g M%s", r->rate / 1e6, unit);
        }
        svg_bar(s, y, r->error ? 0 : r->anchor ? r->compared : r->rate, max, "#3465a4", r->id,
                note);
        y += SVG_ROW_H;
        if (r->anchor) {
            g_autofree char *label = g_strdup_printf("%s (same case)", r->anchor);
            g_autofree char *anote = g_strdup_printf("%.3g M%s  ratio %.2fx",
                                                     r->anchor_rate / 1e6, unit, r->ratio);
            svg_bar(s, y, r->anchor_rate, max, "#cc0000", label, anote);
            y += SVG_ROW_H;
        }
    }
    g_string_append(s, "</svg>\n");
    return g_string_free(s, FALSE);
}
