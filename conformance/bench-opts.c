/*
 * bench-opts.c -- bench command line and case expansion.
 */
#include <string.h>
#include <unistd.h>

#include "bench-opts.h"

void
vc_bench_opts_clear(VcBenchOpts *o)
{
    g_free(o->program);
    if (o->dargs) {
        g_ptr_array_unref(o->dargs);
    }
    g_free(o->device);
    g_strfreev(o->ops);
    for (GArray **a = (GArray *[]){o->ring_sizes, o->batches, o->depths, o->sizes, o->queues,
                                   o->notify, NULL}; *a; a++) {
        g_array_unref(*a);
    }
    g_free(o->json);
    g_free(o->svg);
    g_free(o->vs);
    g_free(o->baseline);
    memset(o, 0, sizeof(*o));
}

static bool
usage(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool
usage(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, msg);
    return false;
}

/* "256,1024" -> [256, 1024], each within [lo, hi]; "all" is not a number. */
static bool
parse_list(const char *name, const char *text, unsigned lo, unsigned hi, bool pow2, GArray *out,
           GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    g_array_set_size(out, 0);
    for (char **p = parts; *p; p++) {
        guint64 v;
        g_strstrip(*p);
        if (!g_ascii_string_to_unsigned(*p, 10, lo, hi, &v, NULL) || (pow2 && (v & (v - 1)))) {
            return usage(error, "--%s: '%s' is not %s from %u to %u", name, *p,
                         pow2 ? "a power of two" : "a number", lo, hi);
        }
        g_array_append_vals(out, &(unsigned){(unsigned)v}, 1);
    }
    if (out->len == 0) {
        return usage(error, "--%s: empty list", name);
    }
    return true;
}

/* Seconds ("3", "0.5", "500ms") into milliseconds within (0, max_s]. */
static bool
parse_seconds(const char *name, const char *text, double max_s, bool zero_ok, int *out,
              GError **error)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);

    if (end && g_str_equal(end, "ms")) {
        v /= 1000;
    } else if (!end || (*end && !g_str_equal(end, "s"))) {
        v = -1;
    }
    if (!(v > 0 || (zero_ok && v == 0)) || v > max_s) {
        return usage(error, "--%s: '%s' is not a duration from %s to %g s", name, text,
                     zero_ok ? "0" : "0.001", max_s);
    }
    *out = (int)(v * 1000 + 0.5);
    return true;
}

/* "--backend PROGRAM ARGS... [--]": the daemon's words leave argv. */
static bool
take_backend(int *argc, char **argv, VcBenchOpts *o, GError **error)
{
    int out = 1, i = 1;

    while (i < *argc) {
        const char *a = argv[i];
        if (g_str_equal(a, "--backend") || g_str_has_prefix(a, "--backend=")) {
            if (o->program) {
                return usage(error, "--backend given twice");
            }
            if (a[9] == '=') {
                o->program = g_strdup(a + 10);
                i++;
            } else if (i + 1 < *argc) {
                o->program = g_strdup(argv[i + 1]);
                i += 2;
            } else {
                return usage(error, "--backend needs a program or a recipe name");
            }
            while (i < *argc && !g_str_equal(argv[i], "--")) {
                g_ptr_array_add(o->dargs, g_strdup(argv[i++]));
            }
            if (i < *argc) {
                i++;
            }
            continue;
        }
        argv[out++] = argv[i++];
    }
    *argc = out;
    argv[out] = NULL;
    return true;
}

bool
vc_bench_opts_parse(int *argc, char ***argv, VcBenchOpts *o, GError **error)
{
    g_autoptr(GOptionContext) oc = NULL;
    g_autofree char *device = NULL, *op = NULL, *ring = NULL, *ring_size = NULL, *batch = NULL,
                    *depth = NULL, *size = NULL, *req_size = NULL, *notify = NULL,
                    *queues = NULL, *duration = NULL, *warmup = NULL, *timeout = NULL,
                    *max_regress = NULL;
    int cpu = -2, backend_cpu = -2, rounds = 3;
    gint64 instr_requests = 1000000, fixed = 0;
    gboolean huge = FALSE, count = FALSE, quiet = FALSE;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    GOptionEntry entries[] = {
        {"device", 0, 0, G_OPTION_ARG_STRING, &device,
         "rng, net, blk or fs (default: the recipe's, or the daemon's --print-capabilities)",
         "TYPE"},
        {"op", 0, 0, G_OPTION_ARG_STRING, &op,
         "net: tx, rx, loop; blk: randread, randwrite; rng and fs: read (a list)", "OP,..."},
        {"ring", 0, 0, G_OPTION_ARG_STRING, &ring, "split (default), packed or both",
         "LAYOUT"},
        {"ring-size", 0, 0, G_OPTION_ARG_STRING, &ring_size, "Ring sizes (default 256)",
         "N,..."},
        {"batch", 0, 0, G_OPTION_ARG_STRING, &batch,
         "At most this many requests made available per publish and kick, posted once "
         "that many are idle (default 32; blk and fs 1, to keep the depth full)", "N,..."},
        {"depth", 0, 0, G_OPTION_ARG_STRING, &depth,
         "Requests in flight per queue (default: the ring size; blk 1,8,32,128)", "N,..."},
        {"size", 0, 0, G_OPTION_ARG_STRING, &size,
         "Bytes per request: net frame (64), blk block (4096), fs read (4096), rng buffer (64)",
         "N,..."},
        {"req-size", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &req_size, NULL, NULL},
        {"notify", 0, 0, G_OPTION_ARG_STRING, &notify,
         "eventfd (kick and call eventfds), event-idx (with EVENT_IDX suppression), poll "
         "(no fds: both sides poll), all (default eventfd; with --vs dpdk poll, as virtio_user "
         "polls)", "MODE,..."},
        {"queues", 0, 0, G_OPTION_ARG_STRING, &queues,
         "Queues (net: queue pairs) driven round robin (default 1)", "N,..."},
        {"cpu", 0, 0, G_OPTION_ARG_INT, &cpu,
         "Pin the front end to CPU N (default 0 on a machine with 2 CPUs or more; -1: no)",
         "N"},
        {"backend-cpu", 0, 0, G_OPTION_ARG_INT, &backend_cpu,
         "Pin our reference daemons to CPU N (default 1 where there is one; -1: no; "
         "dpdk-testpmd places itself with --lcores)", "N"},
        {"hugepages", 0, 0, G_OPTION_ARG_NONE, &huge,
         "Guest memory on 2 MiB hugepages (they must be reserved)", NULL},
        {"duration", 0, 0, G_OPTION_ARG_STRING, &duration, "Measured seconds (default 3)", "S"},
        {"warmup", 0, 0, G_OPTION_ARG_STRING, &warmup, "Warm-up seconds (default 0.5)", "S"},
        {"timeout", 0, 0, G_OPTION_ARG_STRING, &timeout,
         "A daemon that completes nothing for this long has stalled (default 2)", "S"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o->json, "Write the results as JSON", "FILE"},
        {"svg", 0, 0, G_OPTION_ARG_FILENAME, &o->svg, "Draw the results as an SVG chart",
         "FILE"},
        {"vs", 0, 0, G_OPTION_ARG_STRING, &o->vs,
         "Measure DPDK's virtio_user front end side by side, against fresh copies of "
         "dpdk-testpmd (net only)", "dpdk"},
        {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "--vs: rounds per front end (default 3)",
         "N"},
        {"baseline", 0, 0, G_OPTION_ARG_FILENAME, &o->baseline,
         "Compare with a stored --json result; exit 1 on a regression", "FILE"},
        {"max-regress", 0, 0, G_OPTION_ARG_STRING, &max_regress,
         "Tolerance of --baseline in percent (default 10)", "PCT"},
        {"count-instructions", 0, 0, G_OPTION_ARG_NONE, &count,
         "Also count the front end's instructions per request (valgrind --tool=callgrind)",
         NULL},
        {"instr-requests", 0, 0, G_OPTION_ARG_INT64, &instr_requests,
         "Requests counted by --count-instructions (default 1000000)", "N"},
        {"fixed-requests", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &fixed, NULL, NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line", NULL},
        {NULL},
    };

    memset(o, 0, sizeof(*o));
    o->dargs = g_ptr_array_new_with_free_func(g_free);
    o->ring_sizes = g_array_new(FALSE, FALSE, sizeof(unsigned));
    o->batches = g_array_new(FALSE, FALSE, sizeof(unsigned));
    o->depths = g_array_new(FALSE, FALSE, sizeof(unsigned));
    o->sizes = g_array_new(FALSE, FALSE, sizeof(unsigned));
    o->queues = g_array_new(FALSE, FALSE, sizeof(unsigned));
    o->notify = g_array_new(FALSE, FALSE, sizeof(VcBenchNotify));
    o->warmup_ms = 500;
    o->duration_ms = 3000;
    o->timeout_ms = 2000;
    o->max_regress = 10;

    if (!take_backend(argc, *argv, o, error)) {
        return false;
    }
    g_ptr_array_add(o->dargs, NULL);
    oc = g_option_context_new("--backend PROGRAM|RECIPE [ARGS...] [--]");
    g_option_context_set_summary(oc,
        "Measures a daemon's datapath: requests (packets, I/Os) per second, MB/s or Gbit/s and\n"
        "latency percentiles, over a matrix of ring layouts, ring sizes, batch sizes, queue\n"
        "depths, request sizes, notification modes and queue counts. With --vs dpdk, DPDK's\n"
        "virtio_user front end is measured side by side against fresh copies of dpdk-testpmd.\n\n"
        "Exit status: 0 measured, 1 a regression against --baseline, 2 bad command line,\n"
        "77 this machine cannot run it (no hugepages, not root, daemon missing), 99 a case\n"
        "could not be measured.");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_option_context_set_help_enabled(oc, TRUE);
    if (!g_option_context_parse(oc, argc, argv, error)) {
        return false;
    }
    if (*argc > 1) {
        return usage(error, "unexpected argument '%s'", (*argv)[1]);
    }
    o->device = g_steal_pointer(&device);
    if (o->device && !g_strv_contains((const char *[]){"rng", "net", "blk", "fs", NULL},
                                      o->device)) {
        return usage(error, "--device must be rng, net, blk or fs");
    }
    if (op) {
        o->ops = g_strsplit(op, ",", -1);
    }
    o->ring_split = !ring || g_str_equal(ring, "split") || g_str_equal(ring, "both");
    o->ring_packed = ring && (g_str_equal(ring, "packed") || g_str_equal(ring, "both"));
    if (!o->ring_split && !o->ring_packed) {
        return usage(error, "--ring must be split, packed or both");
    }
    if (!parse_list("ring-size", ring_size ? ring_size : "256", 2, 32768, true, o->ring_sizes,
                    error) ||
        (batch && !parse_list("batch", batch, 1, 32768, false, o->batches, error)) ||
        (depth && !parse_list("depth", depth, 1, 32768, false, o->depths, error)) ||
        ((size || req_size) &&
         !parse_list("size", size ? size : req_size, 1, 65536, false, o->sizes, error)) ||
        !parse_list("queues", queues ? queues : "1", 1, 8, false, o->queues, error)) {
        return false;
    }
    {
        /* --vs dpdk: DPDK's virtio_user busy-polls and never asks for a call; so does poll. */
        g_auto(GStrv) modes = g_strsplit(notify ? notify : o->vs ? "poll" : "eventfd", ",", -1);
        for (char **m = modes; *m; m++) {
            VcBenchNotify n;
            if (g_str_equal(*m, "all") || g_str_equal(*m, "both")) {
                /* "both" is the old spelling: eventfd and poll. */
                for (int k = 0; k < 3; k++) {
                    if (g_str_equal(*m, "all") || k != VC_BENCH_EVENT_IDX) {
                        n = (VcBenchNotify)k;
                        g_array_append_val(o->notify, n);
                    }
                }
            } else if (vc_bench_notify_parse(*m, &n)) {
                g_array_append_val(o->notify, n);
            } else {
                return usage(error, "--notify: '%s' is not eventfd, event-idx, poll or all", *m);
            }
        }
    }
    if ((duration && !parse_seconds("duration", duration, 3600, false, &o->duration_ms, error)) ||
        (warmup && !parse_seconds("warmup", warmup, 600, true, &o->warmup_ms, error)) ||
        (timeout && !parse_seconds("timeout", timeout, 600, false, &o->timeout_ms, error))) {
        return false;
    }
    if (max_regress) {
        char *end = NULL;
        o->max_regress = g_ascii_strtod(max_regress, &end);
        if (!end || *end || !(o->max_regress >= 0 && o->max_regress <= 100)) {
            return usage(error, "--max-regress must be a percentage from 0 to 100");
        }
    }
    if (o->vs && !g_str_equal(o->vs, "dpdk")) {
        return usage(error, "--vs takes dpdk (DPDK's virtio_user front end)");
    }
    if (rounds < 1 || rounds > 16) {
        return usage(error, "--rounds must be 1 to 16");
    }
    o->rounds = (unsigned)rounds;
    if (instr_requests < 1000 || fixed < 0) {
        return usage(error, "--instr-requests must be at least 1000");
    }
    o->instr_requests = (uint64_t)instr_requests;
    o->fixed_requests = (uint64_t)fixed;
    o->count_instructions = count;
    o->hugepages = huge;
    o->quiet = quiet;
    if (cpu == -2) {
        cpu = ncpu >= 2 ? 0 : -1;
    }
    if (backend_cpu == -2) {
        backend_cpu = ncpu >= 2 ? 1 : -1;
    }
    if (cpu < -1 || cpu >= ncpu || backend_cpu < -1 || backend_cpu >= ncpu) {
        return usage(error, "--cpu and --backend-cpu take a CPU from 0 to %ld, or -1", ncpu - 1);
    }
    o->cpu = cpu;
    o->backend_cpu = backend_cpu;
    if (!o->program && !o->vs) {
        return usage(error, "--backend PROGRAM or recipe name is required (or --vs dpdk)");
    }
    if (o->vs && o->device && !g_str_equal(o->device, "net")) {
        return usage(error, "--vs dpdk measures net only");
    }
    return true;
}

const char *
vc_bench_default_ops(const char *device, const char *program, bool vs_dpdk)
{
    if (g_strcmp0(device, "net") == 0) {
        if (vs_dpdk) {
            return "tx,rx";
        }
        if (program && g_str_has_suffix(program, "dpdk-testpmd-txonly")) {
            return "rx";
        }
        if (program && g_str_has_suffix(program, "dpdk-testpmd")) {
            return "tx";
        }
        return "loop";
    }
    if (g_strcmp0(device, "blk") == 0) {
        return "randread,randwrite";
    }
    return "read";
}

static bool
op_valid(const char *device, const char *op)
{
    if (g_str_equal(device, "net")) {
        return g_str_equal(op, "tx") || g_str_equal(op, "rx") || g_str_equal(op, "loop");
    }
    if (g_str_equal(device, "blk")) {
        return g_str_equal(op, "randread") || g_str_equal(op, "randwrite");
    }
    return g_str_equal(op, "read");
}

GArray *
vc_bench_cases(const VcBenchOpts *o, const char *device, GError **error)
{
    g_autoptr(GArray) out = g_array_new(FALSE, TRUE, sizeof(VcBenchCase));
    g_auto(GStrv) default_ops = NULL;
    char **ops = o->ops;
    bool storage = g_str_equal(device, "blk") || g_str_equal(device, "fs");
    unsigned def_size = storage ? 4096 : 64, def_batch = storage ? 1 : 32;
    static const unsigned blk_depths[] = {1, 8, 32, 128};
    const bool layouts[2] = {o->ring_split, o->ring_packed};

    if (!ops) {
        default_ops = g_strsplit(vc_bench_default_ops(device, o->program, o->vs != NULL), ",", -1);
        ops = default_ops;
    }
    for (char **op = ops; *op; op++) {
        if (!op_valid(device, *op)) {
            usage(error, "--op: a %s device has no '%s'", device, *op);
            return NULL;
        }
    }
    for (char **op = ops; *op; op++)
    for (unsigned lay = 0; lay < 2; lay++)
    for (guint rs = 0; rs < o->ring_sizes->len; rs++)
    for (guint bt = 0; bt < MAX(o->batches->len, 1u); bt++)
    for (guint dp = 0; dp < MAX(o->depths->len, 1u); dp++)
    for (guint sz = 0; sz < MAX(o->sizes->len, 1u); sz++)
    for (guint nt = 0; nt < o->notify->len; nt++)
    for (guint qu = 0; qu < o->queues->len; qu++) {
        VcBenchCase c = {0};
        unsigned ndepth = o->depths->len ? 1 : g_str_equal(device, "blk") ? 4 : 1;

        if (!layouts[lay]) {
            continue;
        }
        for (unsigned k = 0; k < ndepth; k++) {
            c.device = g_intern_string(device);
            c.op = g_intern_string(*op);
            c.packed = lay == 1;
            c.ring_size = g_array_index(o->ring_sizes, unsigned, rs);
            c.batch = o->batches->len ? g_array_index(o->batches, unsigned, bt) : def_batch;
            c.depth = o->depths->len ? g_array_index(o->depths, unsigned, dp)
                      : g_str_equal(device, "blk") ? blk_depths[k] : c.ring_size;
            c.size = o->sizes->len ? g_array_index(o->sizes, unsigned, sz) : def_size;
            c.notify = g_array_index(o->notify, VcBenchNotify, nt);
            c.queues = g_array_index(o->queues, unsigned, qu);
            c.hugepages = o->hugepages;
            c.cpu = o->cpu;
            if (c.depth > c.ring_size) {
                if (o->depths->len) {
                    usage(error, "--depth %u is above --ring-size %u", c.depth, c.ring_size);
                    return NULL;
                }
                continue;
            }
            if (g_str_equal(device, "net") && (c.size < 60 || c.size > 9216)) {
                usage(error, "--size: a net frame is 60 to 9216 bytes");
                return NULL;
            }
            if (g_str_equal(device, "blk") && (c.size % 512 || c.size > 1048576)) {
                usage(error, "--size: a blk request is a multiple of 512 bytes, at most 1 MiB");
                return NULL;
            }
            if (g_str_equal(device, "fs") && c.queues != 1) {
                usage(error, "--queues: virtio-fs is measured on one request queue");
                return NULL;
            }
            g_array_append_val(out, c);
        }
    }
    if (out->len == 0) {
        usage(error, "no case to measure");
        return NULL;
    }
    return g_steal_pointer(&out);
}
