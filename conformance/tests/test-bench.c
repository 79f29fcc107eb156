/*
 * test-bench.c -- the parts of `vhost-conform bench` that can be checked
 * without a clock: the histogram and its percentiles, option parsing and
 * case expansion, baseline comparison (bench and conformance verdicts),
 * JSON and SVG output, dpdk-testpmd statistics, and the batched ring calls
 * the bench drives (vc_vq_add_bufs(), vc_vq_pop_many()) against an in-test
 * device. Nothing here is timed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-glib/json-glib.h>

#include "bench-baseline.h"
#include "bench-engine.h"
#include "bench-hist.h"
#include "bench-opts.h"
#include "bench-result.h"
#include "vc-gmem.h"
#include "vc-report.h"
#include "vc-vq.h"

/* --- Histogram ---------------------------------------------------------------------------- */

START_TEST(hist_buckets_hold_their_values)
{
    static const uint64_t v[] = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 100, 1000, 4095, 4096,
                                 123456789, 1ull << 40, (1ull << 63) + 12345, UINT64_MAX};
    unsigned prev = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(v); i++) {
        unsigned b = vc_hist_bucket(v[i]);
        uint64_t lo = vc_hist_bucket_low(b), w = vc_hist_bucket_width(b);
        ck_assert_uint_lt(b, VC_HIST_BUCKETS);
        ck_assert_uint_ge(v[i], lo);
        ck_assert_msg(v[i] - lo < w, "%" G_GUINT64_FORMAT " beyond bucket %u", v[i], b);
        /* Precision: a bucket is at most 1/16 of its values wide. */
        ck_assert_uint_le(w, MAX(lo / 16, 1));
        ck_assert_uint_ge(b, prev);
        prev = b;
    }
    /* Every bucket starts where the previous one ends. */
    for (unsigned b = 1; b < VC_HIST_BUCKETS; b++) {
        ck_assert_uint_eq(vc_hist_bucket_low(b - 1) + vc_hist_bucket_width(b - 1),
                          vc_hist_bucket_low(b));
        ck_assert_uint_eq(vc_hist_bucket(vc_hist_bucket_low(b)), b);
    }
}
END_TEST

START_TEST(hist_percentiles)
{
    g_autofree VcHist *h = g_new0(VcHist, 1);
    g_autofree VcHist *m = g_new0(VcHist, 1);

    ck_assert_uint_eq(vc_hist_percentile(h, 50), 0);
    for (uint64_t v = 1; v <= 10000; v++) {
        vc_hist_add(h, v);
    }
    ck_assert_uint_eq(h->count, 10000);
    ck_assert_uint_eq(h->max, 10000);
    ck_assert(vc_hist_mean(h) == 5000.5);
    /* Within the bucket precision (1/16) of the exact rank. */
    ck_assert_uint_ge(vc_hist_percentile(h, 50), 5000 - 5000 / 16);
    ck_assert_uint_le(vc_hist_percentile(h, 50), 5000 + 5000 / 16);
    ck_assert_uint_ge(vc_hist_percentile(h, 99), 9900 - 9900 / 16);
    ck_assert_uint_le(vc_hist_percentile(h, 99), 10000);
    ck_assert_uint_ge(vc_hist_percentile(h, 99.9), 9990 - 9990 / 16);
    ck_assert_uint_le(vc_hist_percentile(h, 99.9), 10000);
    ck_assert_uint_eq(vc_hist_percentile(h, 100), 10000);
    /* A tail: 999 fast values and one slow one put p99.9 in the fast ones, p100 at the slow. */
    vc_hist_reset(h);
    for (int i = 0; i < 999; i++) {
        vc_hist_add(h, 7);
    }
    vc_hist_add(h, 1000000);
    ck_assert_uint_eq(vc_hist_percentile(h, 50), 7);
    ck_assert_uint_eq(vc_hist_percentile(h, 99.9), 7);
    ck_assert_uint_ge(vc_hist_percentile(h, 99.95), vc_hist_bucket_low(vc_hist_bucket(1000000)));
    ck_assert_uint_le(vc_hist_percentile(h, 99.95), 1000000);
    vc_hist_merge(m, h);
    vc_hist_merge(m, h);
    ck_assert_uint_eq(m->count, 2000);
    ck_assert_uint_eq(m->max, 1000000);
    ck_assert_uint_eq(vc_hist_percentile(m, 50), 7);
}
END_TEST

/* --- Options and cases -------------------------------------------------------------------- */

static bool
parse(VcBenchOpts *o, GError **error, ...)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    char **argv;
    int argc;
    va_list ap;
    bool ok;

    g_ptr_array_add(a, "bench");
    va_start(ap, error);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        g_ptr_array_add(a, (char *)s);
    }
    va_end(ap);
    g_ptr_array_add(a, NULL);
    argc = (int)a->len - 1;
    argv = (char **)a->pdata;
    ok = vc_bench_opts_parse(&argc, &argv, o, error);
    return ok;
}

START_TEST(opts_matrix)
{
    VcBenchOpts o;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) cases = NULL;
    const VcBenchCase *c;

    ck_assert(parse(&o, &err, "--backend", "/bin/daemon", "--null", "--", "--ring", "both",
                    "--ring-size", "256,1024", "--batch", "1,32", "--notify", "all",
                    "--queues", "1,2", "--size", "64,1518", "--cpu", "-1", NULL));
    ck_assert_str_eq(o.program, "/bin/daemon");
    ck_assert_str_eq(o.dargs->pdata[0], "--null");
    ck_assert_ptr_null(o.dargs->pdata[1]);
    cases = vc_bench_cases(&o, "net", &err);
    ck_assert_ptr_nonnull(cases);
    /* one op (loop), 2 layouts, 2 ring sizes, 2 batches, 2 sizes, 3 modes, 2 queue counts */
    ck_assert_uint_eq(cases->len, 2 * 2 * 2 * 2 * 3 * 2);
    c = &g_array_index(cases, VcBenchCase, 0);
    ck_assert_str_eq(c->op, "loop");
    ck_assert(!c->packed);
    ck_assert_uint_eq(c->depth, c->ring_size);
    ck_assert_int_eq(c->cpu, -1);
    vc_bench_opts_clear(&o);

    /* blk: both operations at four depths by default; depth stays within the ring. */
    ck_assert(parse(&o, &err, "--backend", "qemu-storage-daemon", "--", "--ring-size", "64", NULL));
    g_array_unref(cases);
    cases = vc_bench_cases(&o, "blk", &err);
    ck_assert_ptr_nonnull(cases);
    ck_assert_uint_eq(cases->len, 2 * 3);  /* depth 128 does not fit a ring of 64 */
    ck_assert_uint_eq(g_array_index(cases, VcBenchCase, 0).size, 4096);
    ck_assert_str_eq(g_array_index(cases, VcBenchCase, 0).op, "randread");
    vc_bench_opts_clear(&o);

    /* The old spelling --notify both is eventfd and poll; --req-size is --size. */
    ck_assert(parse(&o, &err, "--backend", "x", "--", "--notify", "both", "--req-size", "128",
                    "--duration", "500ms", "--warmup", "0", NULL));
    ck_assert_uint_eq(o.notify->len, 2);
    ck_assert_int_eq(g_array_index(o.notify, VcBenchNotify, 1), VC_BENCH_POLL);
    ck_assert_uint_eq(g_array_index(o.sizes, unsigned, 0), 128);
    ck_assert_int_eq(o.duration_ms, 500);
    ck_assert_int_eq(o.warmup_ms, 0);
    vc_bench_opts_clear(&o);

    ck_assert_str_eq(vc_bench_default_ops("net", "dpdk-testpmd", false), "tx");
    ck_assert_str_eq(vc_bench_default_ops("net", "dpdk-testpmd-txonly", false), "rx");
    ck_assert_str_eq(vc_bench_default_ops("net", NULL, true), "tx,rx");
}
END_TEST

static const char *const bad_args[][6] = {
    {"--ring-size", "300", NULL},
    {"--ring-size", "0", NULL},
    {"--batch", "x", NULL},
    {"--notify", "sometimes", NULL},
    {"--ring", "round", NULL},
    {"--duration", "-1", NULL},
    {"--duration", "5 minutes", NULL},
    {"--max-regress", "150", NULL},
    {"--vs", "qemu", NULL},
    {"--rounds", "0", NULL},
    {"--device", "gpu", NULL},
    {"--cpu", "4096", NULL},
    {"stray", NULL},
};

START_TEST(opts_rejects)
{
    VcBenchOpts o;
    g_autoptr(GError) err = NULL;
    const char *const *a = bad_args[_i];

    ck_assert(!parse(&o, &err, "--backend", "x", "--", a[0], a[1], a[2], NULL));
    ck_assert_ptr_nonnull(err);
    ck_assert(err->message[0] != '\0');
    vc_bench_opts_clear(&o);
}
END_TEST

START_TEST(opts_case_errors)
{
    VcBenchOpts o;
    g_autoptr(GError) err = NULL;

    /* No daemon and no --vs. */
    ck_assert(!parse(&o, &err, "--ring-size", "64", NULL));
    vc_bench_opts_clear(&o);
    g_clear_error(&err);
    ck_assert(parse(&o, &err, "--backend", "x", "--", "--depth", "512", NULL));
    ck_assert_ptr_null(vc_bench_cases(&o, "rng", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "above --ring-size"));
    vc_bench_opts_clear(&o);
    g_clear_error(&err);
    ck_assert(parse(&o, &err, "--backend", "x", "--", "--op", "randread", NULL));
    ck_assert_ptr_null(vc_bench_cases(&o, "net", &err));
    vc_bench_opts_clear(&o);
    g_clear_error(&err);
    ck_assert(parse(&o, &err, "--backend", "x", "--", "--size", "1000", NULL));
    ck_assert_ptr_null(vc_bench_cases(&o, "blk", &err));
    vc_bench_opts_clear(&o);
}
END_TEST

/* --- Results, JSON, SVG, baseline --------------------------------------------------------- */

static VcBenchResult *
result(const char *device, const char *op, unsigned batch, double rate)
{
    VcBenchCase c = {.device = device, .op = op, .ring_size = 256, .batch = batch, .depth = 256,
                     .size = 64, .queues = 1, .notify = VC_BENCH_POLL, .cpu = 0};
    VcBenchResult *r = vc_bench_result_new(&c, "vhost-user-rng-ref <null> & \"quoted\"");

    r->rate = rate;
    r->seconds = 2;
    r->requests = (uint64_t)(rate * 2);
    r->bytes = r->requests * 64;
    return r;
}

static VcBenchReport *
report(void)
{
    VcBenchReport *rep = vc_bench_report_new("vhost-conform bench --backend <x> & y");
    VcBenchResult *a = result("rng", "read", 32, 1e7), *b = result("net", "tx", 32, 5e6);

    rep->version = g_strdup("0.1.0");
    rep->started = g_strdup("2024-01-01T00:00:00Z");
    rep->host = g_strdup("2 CPUs, test");
    a->has_latency = true;
    a->p50_ns = 1000;
    a->p99_ns = 5000;
    a->p999_ns = 9000;
    a->instr_per_req = 111.25;
    b->anchor = g_strdup("dpdk virtio_user");
    b->anchor_rate = 6e6;
    b->compared = 5.5e6;
    b->ratio = 5.5 / 6;
    b->rounds = 2;
    b->ours_round[0] = 5.4e6;
    b->anchor_round[0] = 6.1e6;
    g_ptr_array_add(rep->results, a);
    g_ptr_array_add(rep->results, b);
    g_ptr_array_add(rep->results, result("blk", "randread", 1, 0));
    ((VcBenchResult *)g_ptr_array_index(rep->results, 2))->error = g_strdup("no <daemon>");
    return rep;
}

START_TEST(json_round_trip)
{
    g_autoptr(VcBenchReport) rep = report();
    g_autoptr(VcBenchReport) back = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *text = vc_bench_report_to_json(rep);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "test-bench-XXXXXX.json", NULL);
    const VcBenchResult *a, *b;
    JsonObject *first;
    int fd = g_mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(json_parser_load_from_data(p, text, -1, &err));
    first = json_array_get_object_element(
        json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "results"), 0);
    ck_assert_str_eq(json_object_get_string_member(first, "unit"), "req/s");
    ck_assert(json_object_get_double_member(
                  json_object_get_object_member(first, "latency_ns"), "p99.9") == 9000);
    ck_assert(vc_bench_report_write_json(rep, path, &err));
    back = vc_bench_report_load(path, &err);
    unlink(path);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back->results->len, 3);
    a = g_ptr_array_index(back->results, 0);
    b = g_ptr_array_index(back->results, 1);
    ck_assert_str_eq(a->id, ((VcBenchResult *)g_ptr_array_index(rep->results, 0))->id);
    ck_assert(a->rate == 1e7);
    ck_assert(a->has_latency && a->p99_ns == 5000);
    ck_assert(a->instr_per_req > 111.15 && a->instr_per_req < 111.35);
    ck_assert_str_eq(b->anchor, "dpdk virtio_user");
    ck_assert(b->anchor_rate == 6e6);
    ck_assert_str_eq(((VcBenchResult *)g_ptr_array_index(back->results, 2))->error,
                     "no <daemon>");
    ck_assert_str_eq(back->command, rep->command);
}
END_TEST

static void
svg_start(GMarkupParseContext *c, const char *name, const char **an, const char **av,
          gpointer data, GError **error)
{
    unsigned *rects = data;

    *rects += g_str_equal(name, "rect");
}

START_TEST(svg_well_formed)
{
    g_autoptr(VcBenchReport) rep = report();
    g_autofree char *svg = vc_bench_report_to_svg(rep);
    GMarkupParser parser = {.start_element = svg_start};
    g_autoptr(GError) err = NULL;
    unsigned rects = 0;
    GMarkupParseContext *c = g_markup_parse_context_new(&parser, 0, &rects, NULL);

    ck_assert_msg(g_markup_parse_context_parse(c, svg, -1, &err) &&
                  g_markup_parse_context_end_parse(c, &err), "%s", err ? err->message : "");
    g_markup_parse_context_free(c);
    /* The background, one bar per result and one for the anchor. */
    ck_assert_uint_eq(rects, 1 + 3 + 1);
    ck_assert_ptr_nonnull(strstr(svg, "&lt;x&gt; &amp; y"));
    ck_assert_ptr_nonnull(strstr(svg, "ratio 0.92x"));
}
END_TEST

START_TEST(compare_bench)
{
    g_autoptr(VcBenchReport) base = report();
    g_autoptr(VcBenchReport) cur = report();
    g_autoptr(GString) out = g_string_new(NULL);
    VcBenchResult *a = g_ptr_array_index(cur->results, 0), *b = g_ptr_array_index(cur->results, 1);

    /* Identical runs: nothing regressed; the errored case of the baseline is not compared. */
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 0);
    ck_assert_ptr_null(strstr(out->str, "REGRESSION"));
    /* 9 % slower is within 10 %, 11 % is not. */
    a->rate = 0.91e7;
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 0);
    a->rate = 0.89e7;
    g_string_truncate(out, 0);
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 1);
    ck_assert_ptr_nonnull(strstr(out->str, "REGRESSION rng read"));
    ck_assert_uint_eq(vc_bench_compare(base, cur, 20, out), 0);
    /* Faster is never a regression. */
    a->rate = 5e7;
    ck_assert_uint_eq(vc_bench_compare(base, cur, 0, out), 0);
    /* More instructions per request, a worse ratio to the anchor, a case that failed. */
    a->instr_per_req = 150;
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 1);
    a->instr_per_req = 0;   /* not counted this time: not compared */
    b->ratio = 0.5;
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 1);
    b->ratio = 0.92;
    b->error = g_strdup("dpdk-testpmd exited");
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 1);
    /* A case missing from this run is listed, not counted. */
    g_ptr_array_remove_index(cur->results, 1);
    g_string_truncate(out, 0);
    ck_assert_uint_eq(vc_bench_compare(base, cur, 10, out), 0);
    ck_assert_ptr_nonnull(strstr(out->str, "missing    net tx"));
}
END_TEST

static VcResult
check_result(const char *id, VcVerdict v, const char *ring)
{
    return (VcResult){.id = (char *)id, .spec = (char *)"vhost-user.rst", .level = VC_MUST,
                      .summary = (char *)"a rule", .verdict = v, .reason = (char *)"why",
                      .profile = (char *)"qemu-7.2", .ring = (char *)ring};
}

START_TEST(compare_verdicts)
{
    VcResult base[] = {
        check_result("VU-RING-001", VC_PASS, "split"),
        check_result("VU-RING-001", VC_PASS, "packed"),
        check_result("VU-MEM-002", VC_FAIL, "split"),
        check_result("VU-MQ-001", VC_SKIP, "split"),
        check_result("VU-NEG-003", VC_PASS, "split"),
    };
    VcResult now[] = {
        check_result("VU-RING-001", VC_PASS, "split"),
        check_result("VU-RING-001", VC_WARN, "packed"),
        check_result("VU-MEM-002", VC_PASS, "split"),
        check_result("VU-MQ-001", VC_FAIL, "split"),
    };
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "test-verdicts-XXXXXX.json", NULL);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    VcRunInfo info = {.backend = "x", .tool_version = "0", .started = "now"};
    int fd = g_mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(vc_report_json(path, &info, base, G_N_ELEMENTS(base), &err));
    ck_assert_str_eq(vc_baseline_kind(path, &err), "conformance");
    /* PASS -> WARN on the packed ring is the one regression; FAIL -> PASS, SKIP -> FAIL are
     * not (the latter fails the run by itself); VU-NEG-003 was not run. */
    ck_assert_int_eq(vc_baseline_verdicts(path, now, G_N_ELEMENTS(now), out, &err), 1);
    ck_assert_ptr_nonnull(strstr(out->str, "REGRESSION VU-RING-001 (qemu-7.2, packed)"));
    ck_assert_ptr_nonnull(strstr(out->str, "missing    VU-NEG-003"));
    ck_assert_int_eq(vc_baseline_verdicts(path, base, G_N_ELEMENTS(base), out, &err), 0);
    g_file_set_contents(path, "{\"tool\": \"vhost-conform bench\", \"results\": []}", -1, NULL);
    ck_assert_str_eq(vc_baseline_kind(path, &err), "bench");
    ck_assert_int_eq(vc_baseline_verdicts(path, now, 1, out, &err), -1);
    g_clear_error(&err);
    g_file_set_contents(path, "not json", -1, NULL);
    ck_assert_ptr_null(vc_baseline_kind(path, &err));
    unlink(path);
}
END_TEST

/* --- dpdk-testpmd statistics ----------------------------------------------------------------- */

START_TEST(testpmd_stats)
{
    static const char log[] =
        "  Throughput (since last show)\n  Rx-pps:            0          Rx-bps:            0\n"
        "  Tx-pps:            0          Tx-bps:            0\n"
        "  Rx-pps:      1200000          Rx-bps:    770144392\n  Tx-pps:  5\n"
        "  Rx-pps:      3400000\n  Rx-pps:      3500000\n  Rx-pps:      3300000\n"
        "  Rx-pps:      3450000\n  Rx-pps:       900000\n  Rx-pps:            0\n";
    g_autoptr(GArray) rx = vc_bench_testpmd_samples(log, VC_BENCH_STATS_RX_PPS);
    g_autoptr(GArray) tx = vc_bench_testpmd_samples(log, VC_BENCH_STATS_TX_PPS);
    g_autoptr(GArray) none = vc_bench_testpmd_samples(NULL, VC_BENCH_STATS_RX_PPS);
    g_autofree char *cmd = vc_bench_testpmd_vhost_command("txonly", 1518, 1, false, 1);

    ck_assert_uint_eq(rx->len, 8);
    ck_assert_uint_eq(tx->len, 2);
    ck_assert_uint_eq(none->len, 0);
    /* The partial first and last seconds are dropped: median of 3.4, 3.5, 3.3, 3.45 M. */
    ck_assert(vc_bench_steady_median(rx) == 3425000);
    ck_assert(vc_bench_steady_median(tx) == 5);
    ck_assert(vc_bench_steady_median(none) == 0);
    ck_assert_ptr_nonnull(strstr(cmd, "--lcores 0@1,1@1 --no-huge"));
    ck_assert_ptr_nonnull(strstr(cmd, "--forward-mode=txonly --txpkts=1518"));
    ck_assert_ptr_nonnull(strstr(cmd, "iface={socket},queues=1"));
}
END_TEST

/* --- Batched ring calls against an in-test device ------------------------------------------- */

typedef struct Buf {
    VcSg sg;                 /* first: the buffer is its own token */
    unsigned id;
} Buf;

/* The device: consumes every available head and completes it with @len (or a bad @id). */
static unsigned
device_complete(VcVq *vq, uint16_t *last_avail, uint32_t len, int bad_id)
{
    uint16_t avail = le16toh(vq->avail->idx), used = le16toh(vq->used->idx);
    unsigned n = 0;

    for (; *last_avail != avail; (*last_avail)++, used++, n++) {
        uint16_t head = le16toh(vq->avail->ring[*last_avail & (vq->num - 1)]);
        ck_assert(!(le16toh(vq->desc[head].flags) & VRING_DESC_F_NEXT));
        vq->used->ring[used & (vq->num - 1)].id = htole32(bad_id >= 0 && n == 0 ? (uint32_t)bad_id
                                                                               : head);
        vq->used->ring[used & (vq->num - 1)].len = htole32(len);
    }
    __atomic_store_n(&vq->used->idx, htole16(used), __ATOMIC_RELEASE);
    return n;
}

START_TEST(vq_batched_calls)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VcVq) vq = NULL;
    Buf bufs[40];
    Buf *ptrs[40];
    void *tok[64];
    uint32_t lens[64];
    uint16_t last_avail = 0;
    bool seen[40] = {false};

    ck_assert_int_ge(vc_gmem_add_simple(gm, 0, 1 << 20, false), 0);
    vq = vc_vq_new_split(gm, 0, 32, 0, 0, &err);
    ck_assert_ptr_nonnull(vq);
    for (unsigned i = 0; i < G_N_ELEMENTS(bufs); i++) {
        ck_assert_ptr_nonnull(vc_gmem_alloc(gm, 128, 64, &bufs[i].sg.gpa));
        bufs[i].sg.len = 128;
        bufs[i].id = i;
        ptrs[i] = &bufs[i];
    }
    /* 40 chains into a ring of 32: the first 32 go in, in order, device-writable. */
    ck_assert_uint_eq(vc_vq_add_bufs(vq, (VcSg *const *)ptrs, 40, true), 32);
    ck_assert_uint_eq(vq->num_free, 0);
    ck_assert_uint_eq(vq->in_flight, 32);
    ck_assert_uint_eq(le16toh(vq->desc[le16toh(vq->avail->ring[0])].flags), VRING_DESC_F_WRITE);
    ck_assert_uint_eq(le64toh(vq->desc[le16toh(vq->avail->ring[5])].addr), bufs[5].sg.gpa);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), 0);
    vc_vq_publish(vq);
    ck_assert_uint_eq(device_complete(vq, &last_avail, 77, -1), 32);
    /* Reaped in two calls of at most 20, every buffer exactly once. */
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 20), 20);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok + 20, lens + 20, 20), 12);
    for (unsigned i = 0; i < 32; i++) {
        Buf *b = tok[i];
        ck_assert_uint_eq(lens[i], 77);
        ck_assert(!seen[b->id]);
        seen[b->id] = true;
    }
    ck_assert_uint_eq(vq->num_free, 32);
    ck_assert_uint_eq(vq->in_flight, 0);
    /* Device-readable now, and the one-at-a-time calls still agree with the batched ones. */
    ck_assert_uint_eq(vc_vq_add_bufs(vq, (VcSg *const *)ptrs + 32, 8, false), 8);
    ck_assert_uint_eq(le16toh(vq->desc[le16toh(vq->avail->ring[32 & 31])].flags), 0);
    vc_vq_publish(vq);
    device_complete(vq, &last_avail, 0, -1);
    {
        void *t;
        uint32_t l;
        ck_assert_int_eq(vc_vq_pop_used(vq, &t, &l, NULL), 1);
        ck_assert_ptr_eq(t, &bufs[32]);
    }
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), 7);
    /* A used id that is not in flight: -EPROTO, the entry consumed, the ring still usable. */
    ck_assert_uint_eq(vc_vq_add_bufs(vq, (VcSg *const *)ptrs, 3, true), 3);
    vc_vq_publish(vq);
    device_complete(vq, &last_avail, 1, 1000);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), -EPROTO);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), 2);
    ck_assert_uint_eq(vq->in_flight, 1);
}
END_TEST

/* A packed device: uses every available descriptor in ring order (one-descriptor chains). */
static unsigned
packed_complete(VcVq *vq, uint16_t *pos, bool *wrap, uint32_t len)
{
    unsigned n = 0;
    uint16_t first = *pos;
    bool first_wrap = *wrap;

    for (;;) {
        struct vring_packed_desc *d = &vq->pdesc[*pos];
        uint16_t f = le16toh(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
        bool avail = !!(f & (1u << VRING_PACKED_DESC_F_AVAIL)), used =
            !!(f & (1u << VRING_PACKED_DESC_F_USED));

        if (avail != *wrap || used == *wrap) {
            break;
        }
        ck_assert(!(f & VRING_DESC_F_NEXT));
        d->len = htole32(len);
        if (n > 0) {
            d->flags = htole16(*wrap ? (1u << VRING_PACKED_DESC_F_AVAIL) |
                                           (1u << VRING_PACKED_DESC_F_USED) : 0);
        }
        n++;
        if (++*pos == vq->num) {
            *pos = 0;
            *wrap = !*wrap;
        }
    }
    if (n) {
        /* The first used descriptor last, as a device that batches does. */
        __atomic_store_n(&vq->pdesc[first].flags,
                         htole16(first_wrap ? (1u << VRING_PACKED_DESC_F_AVAIL) |
                                                  (1u << VRING_PACKED_DESC_F_USED) : 0),
                         __ATOMIC_RELEASE);
    }
    return n;
}

START_TEST(vq_batched_calls_packed)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VcVq) vq = NULL;
    Buf bufs[24];
    Buf *ptrs[24];
    void *tok[64];
    uint32_t lens[64];
    uint16_t pos = 0;
    bool wrap = true;
    unsigned total = 0;

    ck_assert_int_ge(vc_gmem_add_simple(gm, 0, 1 << 20, false), 0);
    vq = vc_vq_new_packed(gm, 0, 10, 0, 0, &err);
    ck_assert_ptr_nonnull(vq);
    for (unsigned i = 0; i < G_N_ELEMENTS(bufs); i++) {
        ck_assert_ptr_nonnull(vc_gmem_alloc(gm, 64, 64, &bufs[i].sg.gpa));
        bufs[i].sg.len = 64;
        bufs[i].id = i;
        ptrs[i] = &bufs[i];
    }
    /* A ring of 10 (not a power of two), laps wrapping: 7 at a time, three times over. */
    for (unsigned round = 0; round < 6; round++) {
        unsigned added = vc_vq_add_bufs(vq, (VcSg *const *)ptrs + (round * 7) % 17, 7,
                                        round % 2 == 0);
        ck_assert_uint_eq(added, 7);
        /* Hidden until published: the device sees nothing yet. */
        ck_assert_uint_eq(packed_complete(vq, &pos, &wrap, 9), 0);
        vc_vq_publish(vq);
        ck_assert_uint_eq(packed_complete(vq, &pos, &wrap, 9), 7);
        ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), 7);
        for (unsigned i = 0; i < 7; i++) {
            ck_assert_ptr_eq(tok[i], ptrs[(round * 7) % 17 + i]);
            ck_assert_uint_eq(lens[i], 9);
        }
        total += 7;
    }
    ck_assert_uint_eq(vq->in_flight, 0);
    ck_assert_uint_eq(vq->num_free, 10);
    /* More than the ring holds: 10 go in. */
    ck_assert_uint_eq(vc_vq_add_bufs(vq, (VcSg *const *)ptrs, 24, true), 10);
    vc_vq_publish(vq);
    ck_assert_uint_eq(packed_complete(vq, &pos, &wrap, 1), 10);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 4), 4);
    ck_assert_int_eq(vc_vq_pop_many(vq, tok, lens, 64), 6);
    ck_assert_uint_eq(total, 42);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("bench");
    TCase *tc = tcase_create("bench");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, hist_buckets_hold_their_values);
    tcase_add_test(tc, hist_percentiles);
    tcase_add_test(tc, opts_matrix);
    tcase_add_loop_test(tc, opts_rejects, 0, G_N_ELEMENTS(bad_args));
    tcase_add_test(tc, opts_case_errors);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, svg_well_formed);
    tcase_add_test(tc, compare_bench);
    tcase_add_test(tc, compare_verdicts);
    tcase_add_test(tc, testpmd_stats);
    tcase_add_test(tc, vq_batched_calls);
    tcase_add_test(tc, vq_batched_calls_packed);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
