/*
 * vc-bench.c -- `vhost-conform bench`: the command. Parses the options
 * (bench-opts.c), works out the daemon to start for each case, measures
 * every case (bench-engine.c; side by side with DPDK's virtio_user in
 * bench-dpdk.c; instructions per request in bench-callgrind.c), prints,
 * writes JSON and SVG (bench-result.c) and gates against a baseline
 * (bench-baseline.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "bench-baseline.h"
#include "bench-engine.h"
#include "bench-opts.h"
#include "bench-result.h"
#include "vc-bench.h"
#include "vc-recipe.h"

#define EXIT_REGRESSION 1
#define EXIT_USAGE      2
#define EXIT_SKIP       77
#define EXIT_ERROR      99

/* The device type a conventions-following daemon announces (--print-capabilities). */
static char *
device_of(const char *program)
{
    char *argv[] = {(char *)program, "--print-capabilities", NULL};
    g_autofree char *out = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    int status = -1;

    if (!vc_run_capture(argv, 5000, &out, &status, NULL) || status != 0 || !out ||
        !json_parser_load_from_data(p, out, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        return NULL;
    }
    return g_strdup(json_object_get_string_member_with_default(
        json_node_get_object(json_parser_get_root(p)), "type", NULL));
}

static char *
host_text(void)
{
    g_autofree char *info = NULL;
    g_autofree char *model = NULL;
    const char *m;

    if (g_file_get_contents("/proc/cpuinfo", &info, NULL, NULL) &&
        (m = strstr(info, "model name")) != NULL && (m = strchr(m, ':')) != NULL) {
        model = g_strndup(m + 2, strcspn(m + 2, "\n"));
    }
    return g_strdup_printf("%ld CPUs, %s", sysconf(_SC_NPROCESSORS_ONLN),
                           model ? model : "unknown CPU");
}

/* Where the case's daemon comes from. */
typedef struct Source {
    VcRecipe *recipe;         /* a recipe name, or NULL */
    bool testpmd;             /* a dpdk-testpmd recipe: the bench builds its command */
    char *command;            /* that command, per case */
} Source;

static void
target_for(const VcBenchOpts *o, Source *src, const VcBenchCase *c, VcBenchTarget *t)
{
    memset(t, 0, sizeof(*t));
    t->label = o->program;
    t->cpu = o->backend_cpu;
    if (src->testpmd) {
        bool txonly = g_str_has_suffix(src->recipe->name, "txonly");
        g_free(src->command);
        src->command = vc_bench_testpmd_vhost_command(txonly ? "txonly" : "rxonly", c->size,
                                                      o->backend_cpu < 0 ? 1 : o->backend_cpu,
                                                      c->hugepages, c->queues);
        vc_recipe_spec(src->recipe, &t->spec);
        t->spec.command = src->command;
        t->cpu = -1;
        t->stats = txonly ? VC_BENCH_STATS_TX_PPS : VC_BENCH_STATS_RX_PPS;
    } else if (src->recipe) {
        vc_recipe_spec(src->recipe, &t->spec);
    } else {
        t->spec.mode = VC_LAUNCH_SOCKET_PATH;
        t->spec.program = o->program;
        t->spec.args = (char *const *)o->dargs->pdata;
    }
}

/* The arguments that make a child bench measure exactly @c (for callgrind). */
static GPtrArray *
child_args(const VcBenchOpts *o, const VcBenchCase *c)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    const char *program = o->program;

    if (o->vs) {
        program = g_str_equal(c->op, "rx") ? "dpdk-testpmd-txonly" : "dpdk-testpmd";
    }
    g_ptr_array_add(a, g_strdup("--backend"));
    g_ptr_array_add(a, g_strdup(program));
    for (guint i = 0; !o->vs && o->dargs->pdata[i]; i++) {
        g_ptr_array_add(a, g_strdup(o->dargs->pdata[i]));
    }
    g_ptr_array_add(a, g_strdup("--"));
    g_ptr_array_add(a, g_strdup_printf("--device=%s", c->device));
    g_ptr_array_add(a, g_strdup_printf("--op=%s", c->op));
    g_ptr_array_add(a, g_strdup_printf("--ring=%s", c->packed ? "packed" : "split"));
    g_ptr_array_add(a, g_strdup_printf("--ring-size=%u", c->ring_size));
    g_ptr_array_add(a, g_strdup_printf("--batch=%u", c->batch));
    g_ptr_array_add(a, g_strdup_printf("--depth=%u", c->depth));
    g_ptr_array_add(a, g_strdup_printf("--size=%u", c->size));
    g_ptr_array_add(a, g_strdup_printf("--notify=%s", vc_bench_notify_name(c->notify)));
    g_ptr_array_add(a, g_strdup_printf("--queues=%u", c->queues));
    g_ptr_array_add(a, g_strdup_printf("--cpu=%d", c->cpu));
    g_ptr_array_add(a, g_strdup_printf("--backend-cpu=%d", o->backend_cpu));
    /* Under valgrind the harness is slow: the daemon must not be taken for stalled. */
    g_ptr_array_add(a, g_strdup_printf("--timeout=%d", MAX(o->timeout_ms / 1000, 30)));
    if (c->hugepages) {
        g_ptr_array_add(a, g_strdup("--hugepages"));
    }
    g_ptr_array_add(a, NULL);
    return a;
}

static int
bench(int argc, char **argv, VcBenchOpts *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) cases = NULL;
    g_autoptr(VcBenchReport) rep = NULL;
    g_autoptr(VcBenchReport) base = NULL;
    g_autofree char *device = NULL, *command = NULL, *self = NULL;
    Source src = {0};
    VcBenchEnv env = {0};
    unsigned failed = 0, regressions = 0;
    int code = 0;

    command = g_strjoinv(" ", argv);
    if (!vc_bench_opts_parse(&argc, &argv, o, &err)) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        return EXIT_USAGE;
    }
    if (o->baseline) {
        const char *kind = vc_baseline_kind(o->baseline, &err);
        if (!kind || !g_str_equal(kind, "bench")) {
            g_printerr("vhost-conform bench: --baseline: %s\n",
                       kind ? "a conformance report: give it to 'vhost-conform --baseline'"
                            : err->message);
            return EXIT_USAGE;
        }
        base = vc_bench_report_load(o->baseline, &err);
        if (!base) {
            g_printerr("vhost-conform bench: --baseline: %s\n", err->message);
            return EXIT_USAGE;
        }
    }
    if (o->program && !o->vs) {
        src.recipe = vc_recipe_find(o->program, &err);
        if (err) {
            g_printerr("vhost-conform bench: %s\n", err->message);
            return EXIT_USAGE;
        }
    }
    if (src.recipe) {
        g_autofree char *why = vc_recipe_check_host(src.recipe);
        if (why) {
            g_printerr("vhost-conform bench: %s\n", why);
            code = EXIT_SKIP;
            goto out;
        }
        if (o->dargs->len > 1) {
            g_printerr("vhost-conform bench: recipe %s takes no daemon arguments\n",
                       src.recipe->name);
            code = EXIT_USAGE;
            goto out;
        }
        src.testpmd = g_str_has_prefix(src.recipe->name, "dpdk-testpmd");
        device = g_strdup(o->device ? o->device : src.recipe->device);
    } else if (o->vs) {
        g_autofree char *tp = g_find_program_in_path("dpdk-testpmd");
        if (!tp || geteuid() != 0) {
            g_printerr("vhost-conform bench: --vs dpdk needs dpdk-testpmd (Debian package "
                       "dpdk) and root\n");
            code = EXIT_SKIP;
            goto out;
        }
        device = g_strdup("net");
    } else {
        device = o->device ? g_strdup(o->device) : device_of(o->program);
        if (!device) {
            g_printerr("vhost-conform bench: %s does not say what device it is "
                       "(--print-capabilities); give --device\n", o->program);
            code = EXIT_USAGE;
            goto out;
        }
        if (!g_strv_contains((const char *[]){"rng", "net", "blk", "fs", NULL}, device)) {
            g_printerr("vhost-conform bench: no bench for a %s device\n", device);
            code = EXIT_USAGE;
            goto out;
        }
    }
    cases = vc_bench_cases(o, device, &err);
    if (!cases) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        code = EXIT_USAGE;
        goto out;
    }
    if (o->hugepages) {
        /* Ours, plus DPDK's 512 MiB for each testpmd running at once. */
        uint64_t need = (128ull << 20) + (src.testpmd || o->vs ? 2 * (512ull << 20) : 0);
        g_autofree char *why = vc_bench_hugepages_check(need);
        if (why) {
            g_printerr("vhost-conform bench: %s\n", why);
            code = EXIT_SKIP;
            goto out;
        }
    }
    if (o->count_instructions) {
        self = g_file_read_link("/proc/self/exe", NULL);
    }
    env.warmup_ms = o->fixed_requests ? 0 : o->warmup_ms;
    env.duration_ms = o->duration_ms;
    env.timeout_ms = o->timeout_ms;
    env.fixed_requests = o->fixed_requests;
    env.progress = !o->quiet && isatty(STDERR_FILENO);
    env.settle_ms = 1300;

    rep = vc_bench_report_new(command);
    rep->version = g_strdup(VC_VERSION);
    {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        rep->started = g_date_time_format_iso8601(now);
    }
    rep->host = host_text();
    for (guint i = 0; i < cases->len; i++) {
        const VcBenchCase *c = &g_array_index(cases, VcBenchCase, i);
        VcBenchResult *r = vc_bench_result_new(c, o->vs ? "dpdk-testpmd" : o->program);
        bool ok;

        if (o->vs) {
            ok = vc_bench_vs_dpdk(&env, c, o->rounds, o->backend_cpu, r);
        } else {
            VcBenchTarget t;
            target_for(o, &src, c, &t);
            ok = vc_bench_run_case(&env, &t, c, r);
        }
        if (ok && o->count_instructions && self) {
            g_autoptr(GPtrArray) a = child_args(o, c);
            g_autoptr(GError) cerr = NULL;
            if (env.progress) {
                fprintf(stderr, "\r\033[Kcounting instructions under callgrind: %s", r->id);
            }
            if (!vc_bench_count_instructions(self, (char *const *)a->pdata, o->instr_requests,
                                             &r->instr_per_req, &cerr)) {
                g_printerr("\r\033[Kvhost-conform bench: --count-instructions: %s\n",
                           cerr->message);
                failed++;
            }
            if (env.progress) {
                fprintf(stderr, "\r\033[K");
            }
        }
        failed += !ok;
        vc_bench_print_result(stdout, r);
        fflush(stdout);
        g_ptr_array_add(rep->results, r);
    }
    if (o->json && !vc_bench_report_write_json(rep, o->json, &err)) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        g_clear_error(&err);
        failed++;
    }
    if (o->svg && !vc_bench_report_write_svg(rep, o->svg, &err)) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        g_clear_error(&err);
        failed++;
    }
    if (base) {
        g_autoptr(GString) lines = g_string_new(NULL);
        regressions = vc_bench_compare(base, rep, o->max_regress, lines);
        printf("baseline %s, tolerance %.1f %%:\n%s%u regression(s)\n", o->baseline,
               o->max_regress, lines->str, regressions);
    }
    code = regressions ? EXIT_REGRESSION : failed ? EXIT_ERROR : 0;
out:
    vc_recipe_free(src.recipe);
    g_free(src.command);
    return code;
}

int
vc_bench_main(int argc, char **argv)
{
    VcBenchOpts o = {0};
    int code = bench(argc, argv, &o);

    vc_bench_opts_clear(&o);
    return code;
}
