/*
 * vhost-conform.c -- the command line: run the checks against a back end,
 * list the catalog, or run a subcommand (bench).
 */
#include <errno.h>
#include <signal.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "bench-baseline.h"
#include "vc-bench.h"
#include "vc-error.h"
#include "vc-recipe.h"
#include "vc-runner.h"
#include "vc-trace-cli.h"
#include "vc-trace.h"

#define EXIT_USAGE 2

typedef struct Cli {
    char *backend_cmd;
    char *socket;
    char *listen;
    gboolean use_fd;
    char *device;
    char *profile;
    char *ring;
    char *timeout;
    char *start_timeout;
    char *format;
    char *junit;
    char *json;
    char *html;
    gboolean list;
    char **only;
    char **skip;
    gboolean verbose;
    gboolean version;
    char *ring_size;
    char *trace;
    gboolean trace_datapath;
    char *host_event;
    char *baseline;
    char *max_regress;
} Cli;

typedef struct Stream {
    const char *format;
    bool tty;
    guint done;
} Stream;

/*
 * Parses "2", "2s", "1.5", "500ms" into milliseconds. Returns -1 when the
 * text is not a positive duration.
 */
static int
parse_ms(const char *s)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = g_ascii_strtod(s, &end);
    if (errno || end == s || v <= 0) {
        return -1;
    }
    if (g_str_equal(end, "ms")) {
        return v > 3600000 ? -1 : (int)v;
    }
    if (*end == '\0' || g_str_equal(end, "s")) {
        return v > 3600 ? -1 : (int)(v * 1000);
    }
    return -1;
}

static char **
split_ids(char **lists)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new();

    for (char **l = lists; l && *l; l++) {
        g_auto(GStrv) parts = g_strsplit_set(*l, ", ", -1);
        for (char **p = parts; *p; p++) {
            if (**p) {
                g_ptr_array_add(out, g_strdup(*p));
            }
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void
list_catalog_json(void)
{
    unsigned n;
    const VcCheckArea *const *areas = vc_registry_areas(&n);
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_array(b);
    for (unsigned a = 0; a < n; a++) {
        for (size_t i = 0; i < areas[a]->n; i++) {
            const VcCheck *c = &areas[a]->checks[i];
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_string_value(b, c->id);
            json_builder_set_member_name(b, "area");
            json_builder_add_string_value(b, areas[a]->name);
            json_builder_set_member_name(b, "spec");
            json_builder_add_string_value(b, c->spec);
            json_builder_set_member_name(b, "level");
            json_builder_add_string_value(b, vc_level_name(c->level));
            json_builder_set_member_name(b, "needs_features");
            json_builder_add_int_value(b, (gint64)c->needs_features);
            json_builder_set_member_name(b, "needs_protocol_features");
            json_builder_add_int_value(b, (gint64)c->needs_pfeatures);
            json_builder_set_member_name(b, "datapath");
            json_builder_add_boolean_value(b, (c->flags & VC_CHECK_DATAPATH) != 0);
            json_builder_set_member_name(b, "launches_program");
            json_builder_add_boolean_value(b, (c->flags & VC_CHECK_LAUNCH) != 0);
            json_builder_set_member_name(b, "device");
            if (c->device) {
                json_builder_add_string_value(b, c->device);
            } else {
                json_builder_add_null_value(b);
            }
            json_builder_set_member_name(b, "mutant");
            json_builder_add_string_value(b, c->mutant);
            json_builder_set_member_name(b, "profile");
            if (c->profile) {
                json_builder_add_string_value(b, c->profile);
            } else {
                json_builder_add_null_value(b);
            }
            json_builder_set_member_name(b, "summary");
            json_builder_add_string_value(b, c->summary);
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

static void
list_catalog(const char *format)
{
    unsigned n, nu, total = 0, must = 0, should = 0, may = 0, vu = 0;
    const VcCheckArea *const *areas = vc_registry_areas(&n);
    bool md = g_strcmp0(format, "md") == 0;

    (void)vc_registry_unchecked(&nu);
    for (unsigned a = 0; a < n; a++) {
        for (size_t i = 0; i < areas[a]->n; i++) {
            total++;
            must += areas[a]->checks[i].level == VC_MUST;
            should += areas[a]->checks[i].level == VC_SHOULD;
            may += areas[a]->checks[i].level == VC_MAY;
            vu += g_str_has_prefix(areas[a]->checks[i].id, "VU-");
        }
    }
    if (md) {
        printf("# vhost-conform check catalog\n\n");
        printf("Generated by `vhost-conform --list --format md`; do not edit by hand "
               "(a test compares this file with the tables in conformance/checks/).\n\n");
        printf("%u checks: %u MUST (a violation is FAIL), %u SHOULD and %u MAY (a violation "
               "is WARN). %u check vhost-user rules (VU-*), the others virtio device rules "
               "(VIO-*); %u vhost-user rules are not checked, for the reasons listed at the "
               "end.\n\n"
               "Every check names the mutant of a reference daemon that breaks its rule: of "
               "`vhost-user-rng-ref`, or of the daemon its prefix names (`blk:`, `net:`, `fs:`, "
               "`gpu:`; without a prefix, the daemon of the check's device). The test suite runs "
               "each mutant and asserts that the check reports it.\n\n",
               total, must, should, may, vu, nu);
    }
    for (unsigned a = 0; a < n; a++) {
        if (md) {
            printf("## %s\n\n| ID | Level | Spec section | Needs | Proved by mutant | Summary |\n"
                   "|---|---|---|---|---|---|\n", areas[a]->name);
        }
        for (size_t i = 0; i < areas[a]->n; i++) {
            const VcCheck *c = &areas[a]->checks[i];
            g_autoptr(GString) needs = g_string_new(NULL);
            for (unsigned b = 0; b < 64; b++) {
                if (c->needs_features & (1ull << b)) {
                    if (vc_feature_name(b)) {
                        g_string_append_printf(needs, "%s%s", needs->len ? ", " : "",
                                               vc_feature_name(b));
                    } else {
                        g_string_append_printf(needs, "%sfeature bit %u", needs->len ? ", " : "",
                                               b);
                    }
                }
                if (c->needs_pfeatures & (1ull << b)) {
                    g_string_append_printf(needs, "%sF_%s", needs->len ? ", " : "",
                                           vc_pfeature_name(b) ? vc_pfeature_name(b) : "?");
                }
            }
            if (c->device) {
                g_string_append_printf(needs, "%s%s device", needs->len ? ", " : "", c->device);
            } else if (c->flags & VC_CHECK_DATAPATH) {
                g_string_append_printf(needs, "%sdatapath", needs->len ? ", " : "");
            }
            if (c->flags & VC_CHECK_LAUNCH) {
                g_string_append_printf(needs, "%s--backend PROGRAM", needs->len ? ", " : "");
            }
            if (c->flags & VC_CHECK_PROCESS) {
                g_string_append_printf(needs, "%sdaemon pid", needs->len ? ", " : "");
            }
            if (c->profile) {
                g_string_append_printf(needs, "%s--profile %s", needs->len ? ", " : "",
                                       c->profile);
            }
            if (md) {
                printf("| %s | %s | %s | %s | `%s` | %s |\n", c->id, vc_level_name(c->level),
                       c->spec, needs->len ? needs->str : "-", c->mutant ? c->mutant : "-",
                       c->summary);
            } else {
                printf("%-13s %-6s %-48s %s\n", c->id, vc_level_name(c->level), c->spec,
                       c->summary);
            }
        }
        if (md) {
            printf("\n");
        }
    }
    {
        const VcUnchecked *u = vc_registry_unchecked(&nu);

        if (md) {
            printf("## Rules not checked\n\n%u rules of the catalog have no check; each says "
                   "why.\n\n| ID | Spec section | Why |\n|---|---|---|\n", nu);
        } else {
            printf("\nNot checked:\n");
        }
        for (unsigned i = 0; i < nu; i++) {
            if (md) {
                printf("| %s | %s | %s |\n", u[i].id, u[i].spec, u[i].reason);
            } else {
                printf("%-13s %s\n", u[i].id, u[i].reason);
            }
        }
    }
}

static void
on_result(void *opaque, guint index, guint total, const VcResult *r)
{
    Stream *s = opaque;

    s->done++;
    if (g_str_equal(s->format, "tap")) {
        vc_report_tap_result(stdout, index + 1, r);
        fflush(stdout);
    } else if (s->tty) {
        fprintf(stderr, "\r\033[K[%u/%u] %s %s", index + 1, total, vc_verdict_name(r->verdict),
                r->id);
        if (index + 1 == total) {
            fprintf(stderr, "\r\033[K");
        }
    }
}

/*
 * "--backend PROGRAM ARGS... [--]": everything after the program up to "--"
 * belongs to the daemon. Removes those words from argv.
 */
static bool
take_backend(int *argc, char **argv, char **program, GPtrArray *dargs, GError **error)
{
    int out = 1, i = 1;

    while (i < *argc) {
        const char *a = argv[i];
        if (g_str_equal(a, "--backend") || g_str_has_prefix(a, "--backend=")) {
            if (*program) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "--backend given twice");
                return false;
            }
            if (a[9] == '=') {
                *program = g_strdup(a + 10);
                i++;
            } else if (i + 1 < *argc) {
                *program = g_strdup(argv[i + 1]);
                i += 2;
            } else {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--backend needs a program");
                return false;
            }
            while (i < *argc && !g_str_equal(argv[i], "--")) {
                g_ptr_array_add(dargs, g_strdup(argv[i++]));
            }
            if (i < *argc) {
                i++; /* the "--" */
            }
            continue;
        }
        argv[out++] = argv[i++];
    }
    *argc = out;
    argv[out] = NULL;
    return true;
}

static void
cli_clear(Cli *cli)
{
    g_free(cli->backend_cmd);
    g_free(cli->socket);
    g_free(cli->listen);
    g_free(cli->device);
    g_free(cli->profile);
    g_free(cli->ring);
    g_free(cli->timeout);
    g_free(cli->start_timeout);
    g_free(cli->format);
    g_free(cli->junit);
    g_free(cli->json);
    g_free(cli->html);
    g_free(cli->ring_size);
    g_free(cli->host_event);
    g_free(cli->baseline);
    g_free(cli->max_regress);
    g_free(cli->trace);
    g_strfreev(cli->only);
    g_strfreev(cli->skip);
    memset(cli, 0, sizeof(*cli));
}

static int
run_checks_with(Cli *cli, int argc, char **argv)
{
    g_autofree char *program = NULL;
    g_autoptr(VcRecipe) recipe = NULL;
    g_autoptr(GPtrArray) dargs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GOptionContext) oc = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) checks = NULL;
    g_autoptr(GArray) results = NULL;
    g_auto(GStrv) only = NULL, skip = NULL;
    VcRunOptions ro = {0};
    Stream stream = {0};
    GOptionEntry entries[] = {
        {"backend-cmd", 0, 0, G_OPTION_ARG_STRING, &cli->backend_cmd,
         "Start a daemon that does not follow the program conventions; {socket} is replaced by "
         "the socket path", "'COMMAND {socket}'"},
        {"socket", 0, 0, G_OPTION_ARG_FILENAME, &cli->socket,
         "Test a daemon already listening on PATH", "PATH"},
        {"listen", 0, 0, G_OPTION_ARG_FILENAME, &cli->listen,
         "Listen on PATH for a daemon that connects as a client (with --backend-cmd to start it)",
         "PATH"},
        {"fd", 0, 0, G_OPTION_ARG_NONE, &cli->use_fd,
         "Start the --backend program with --fd=N instead of --socket-path", NULL},
        {"device", 0, 0, G_OPTION_ARG_STRING, &cli->device,
         "Device type (default: from --print-capabilities)", "TYPE"},
        {"profile", 0, 0, G_OPTION_ARG_STRING, &cli->profile,
         "Front-end personality (default qemu-7.2; 'all' runs every check under each)",
         "NAME"},
        {"timeout", 0, 0, G_OPTION_ARG_STRING, &cli->timeout,
         "Deadline of every wait for the daemon (default 2s)", "DURATION"},
        {"start-timeout", 0, 0, G_OPTION_ARG_STRING, &cli->start_timeout,
         "How long the daemon may take to listen (default 5s)", "DURATION"},
        {"ring-size", 0, 0, G_OPTION_ARG_STRING, &cli->ring_size, "Ring size (default 256)", "N"},
        {"ring", 0, 0, G_OPTION_ARG_STRING, &cli->ring,
         "Virtqueue layout: split (default), packed (VIRTIO_F_RING_PACKED) or both (every "
         "check under each)", "split|packed|both"},
        {"host-event-signal", 0, 0, G_OPTION_ARG_STRING, &cli->host_event,
         "A signal that makes the daemon change its config host-side (our reference blk "
         "daemon: SIGUSR1); checks that need such an event are skipped without it", "SIG"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &cli->format,
         "Output on stdout: tap or text (default: text on a terminal, tap otherwise); with "
         "--list: text, md or json", "FORMAT"},
        {"junit", 0, 0, G_OPTION_ARG_FILENAME, &cli->junit, "Also write JUnit XML", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &cli->json, "Also write a JSON report", "FILE"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &cli->html, "Also write an HTML report", "FILE"},
        {"list", 0, 0, G_OPTION_ARG_NONE, &cli->list, "Print the check catalog and exit", NULL},
        {"only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli->only,
         "Run only these checks (IDs or prefixes such as VU-RING)", "ID,..."},
        {"skip", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli->skip, "Do not run these checks",
         "ID,..."},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cli->verbose, "Progress on stderr", NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &cli->version, "Print the version and exit", NULL},
        {"baseline", 0, 0, G_OPTION_ARG_FILENAME, &cli->baseline,
         "Compare with an earlier --json report: exit 1 when a check that PASSed there no "
         "longer does (for CI)", "FILE"},
        {"max-regress", 0, 0, G_OPTION_ARG_STRING, &cli->max_regress,
         "Accepted for symmetry with 'bench --baseline'; verdicts have no tolerance", "PCT"},
        {"trace", 0, 0, G_OPTION_ARG_FILENAME, &cli->trace,
         "Record every message of every check to a pcap file (traces/FORMAT.md)", "FILE.pcap"},
        {"trace-datapath", 0, 0, G_OPTION_ARG_NONE, &cli->trace_datapath,
         "With --trace, also record kicks, calls and descriptor chains (costs throughput)", NULL},
        {NULL},
    };
    g_autoptr(VcTrace) trace = NULL;
    int modes, timeout_ms = 2000, start_ms = 5000, code;
    gint64 t0;

    if (!take_backend(&argc, argv, &program, dargs, &err)) {
        g_printerr("vhost-conform: %s\n", err->message);
        return EXIT_USAGE;
    }
    oc = g_option_context_new("--backend PROGRAM [ARGS...] [--] | --backend-cmd CMD | --socket "
                              "PATH | --listen PATH");
    g_option_context_set_summary(oc,
        "Plays the QEMU front end of the vhost-user protocol against a back-end daemon and\n"
        "checks it rule by rule. Everything after --backend PROGRAM up to -- is passed to\n"
        "the daemon. Subcommands: bench, trace, record, replay (see 'vhost-conform bench\n"
        "--help' and so on).\n\n"
        "Exit status: 0 no FAIL, 1 a check FAILed, 77 every check was skipped,\n"
        "99 harness or environment error, 2 bad command line.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vhost-conform: %s\n", err->message);
        return EXIT_USAGE;
    }
    if (cli->version) {
        printf("vhost-conform %s\n", VC_VERSION);
        return 0;
    }
    if (argc > 1) {
        g_printerr("vhost-conform: unexpected argument '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    if (cli->list) {
        if (g_strcmp0(cli->format, "json") == 0) {
            list_catalog_json();
        } else if (cli->format && !g_str_equal(cli->format, "md") && !g_str_equal(cli->format, "text")) {
            g_printerr("vhost-conform: --list takes --format text, md or json\n");
            return EXIT_USAGE;
        } else {
            list_catalog(cli->format);
        }
        return 0;
    }
    if (cli->format && !g_str_equal(cli->format, "tap") && !g_str_equal(cli->format, "text")) {
        g_printerr("vhost-conform: --format must be tap or text\n");
        return EXIT_USAGE;
    }
    modes = !!program + (!!cli->backend_cmd && !cli->listen) + !!cli->socket + !!cli->listen;
    if (modes != 1) {
        g_printerr("vhost-conform: give exactly one of --backend, --backend-cmd, --socket or "
                   "--listen (see --help)\n");
        return EXIT_USAGE;
    }
    if ((cli->timeout && (timeout_ms = parse_ms(cli->timeout)) < 0) ||
        (cli->start_timeout && (start_ms = parse_ms(cli->start_timeout)) < 0)) {
        g_printerr("vhost-conform: a duration is a positive number of seconds, or of ms with "
                   "the suffix 'ms'\n");
        return EXIT_USAGE;
    }
    ro.fe.timeout_ms = timeout_ms;
    if (cli->ring_size) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(cli->ring_size, 10, 1, 32768, &v, NULL) || (v & (v - 1))) {
            g_printerr("vhost-conform: --ring-size must be a power of two from 1 to 32768\n");
            return EXIT_USAGE;
        }
        ro.fe.ring_size = (uint16_t)v;
    }
    if (!cli->ring || g_str_equal(cli->ring, "split")) {
        ro.rings = VC_RING_SPLIT;
    } else if (g_str_equal(cli->ring, "packed")) {
        ro.rings = VC_RING_PACKED;
    } else if (g_str_equal(cli->ring, "both")) {
        ro.rings = VC_RING_SPLIT | VC_RING_PACKED;
    } else {
        g_printerr("vhost-conform: --ring must be split, packed or both\n");
        return EXIT_USAGE;
    }
    if (g_strcmp0(cli->profile, "all") == 0) {
        ro.profiles = vc_profile_all(&ro.n_profiles);
    } else if (cli->profile) {
        ro.fe.profile = vc_profile_find(cli->profile);
        if (!ro.fe.profile) {
            unsigned np;
            const VcProfile *const *all = vc_profile_all(&np);
            g_autoptr(GString) names = g_string_new(NULL);
            for (unsigned i = 0; i < np; i++) {
                g_string_append_printf(names, "%s%s", i ? ", " : "", all[i]->name);
            }
            g_printerr("vhost-conform: unknown profile '%s' (known: %s)\n", cli->profile,
                       names->str);
            return EXIT_USAGE;
        }
    }
    if (cli->host_event) {
        static const struct { const char *name; int sig; } sigs[] = {
            {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGHUP", SIGHUP},
        };
        for (unsigned i = 0; i < G_N_ELEMENTS(sigs); i++) {
            if (g_ascii_strcasecmp(cli->host_event, sigs[i].name) == 0 ||
                g_ascii_strcasecmp(cli->host_event, sigs[i].name + 3) == 0) {
                ro.host_event_signal = sigs[i].sig;
            }
        }
        if (!ro.host_event_signal) {
            g_printerr("vhost-conform: --host-event-signal takes SIGUSR1, SIGUSR2 or SIGHUP\n");
            return EXIT_USAGE;
        }
    }
    only = split_ids(cli->only);
    skip = split_ids(cli->skip);
    checks = vc_runner_select(only, skip, &err);
    if (!checks) {
        g_printerr("vhost-conform: %s\n", err->message);
        return EXIT_USAGE;
    }
    if (program && (recipe = vc_recipe_find(program, &err)) != NULL) {
        /* A recipe name: everything about starting the daemon comes from it. */
        g_autofree char *why = vc_recipe_check_host(recipe);
        if (why) {
            g_printerr("vhost-conform: %s\n", why);
            return 99;
        }
        if (dargs->len) {
            g_printerr("vhost-conform: recipe %s takes no daemon arguments\n", recipe->name);
            return EXIT_USAGE;
        }
        vc_recipe_spec(recipe, &ro.launch);
        if (!cli->device) {
            ro.device = recipe->device;
        }
        if (recipe->queues) {
            ro.fe.num_queues = recipe->queues;
        }
    } else if (err) {
        g_printerr("vhost-conform: %s\n", err->message);
        return EXIT_USAGE;
    } else if (program) {
        g_ptr_array_add(dargs, NULL);
        ro.launch.mode = cli->use_fd ? VC_LAUNCH_FD : VC_LAUNCH_SOCKET_PATH;
        ro.launch.program = program;
        ro.launch.args = (char *const *)dargs->pdata;
    } else if (cli->listen) {
        ro.launch.mode = VC_LAUNCH_LISTEN;
        ro.launch.socket_path = cli->listen;
        ro.launch.command = cli->backend_cmd;
    } else if (cli->backend_cmd) {
        ro.launch.mode = VC_LAUNCH_COMMAND;
        ro.launch.command = cli->backend_cmd;
    } else {
        ro.launch.mode = VC_LAUNCH_CONNECT;
        ro.launch.socket_path = cli->socket;
    }
    if (!ro.launch.start_timeout_ms || cli->start_timeout) {
        ro.launch.start_timeout_ms = start_ms;
    }
    if (cli->device) {
        ro.device = cli->device;
    }
    ro.verbose = cli->verbose;
    if (cli->trace_datapath && !cli->trace) {
        g_printerr("vhost-conform: --trace-datapath needs --trace FILE\n");
        return EXIT_USAGE;
    }
    if (cli->trace) {
        trace = vc_trace_open(cli->trace, cli->trace_datapath ? VC_TRACE_OPEN_DATAPATH : 0, &err);
        if (!trace) {
            g_printerr("vhost-conform: %s\n", err->message);
            return 99;
        }
        ro.tap = vc_trace_conn_tap;
        ro.tap_opaque = trace;
        ro.vq_tap = cli->trace_datapath ? vc_trace_vq_tap : NULL;
        ro.trace_mark = vc_trace_mark_cb;
        ro.trace_frame = vc_trace_frame_cb;
        ro.trace_path = cli->trace;
    }

    stream.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    stream.format = cli->format ? cli->format : (isatty(STDOUT_FILENO) ? "text" : "tap");
    vc_launch_install_cleanup();
    if (g_str_equal(stream.format, "tap")) {
        vc_report_tap_begin(stdout, checks->len);
        fflush(stdout);
    }
    t0 = g_get_monotonic_time();
    {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *started = g_date_time_format_iso8601(now);
        /* dargs is NULL-terminated (len > 1 with arguments) only for a program, not a recipe. */
        g_autofree char *described =
            program && dargs->len > 1 ? g_strjoinv(" ", (char **)dargs->pdata) : NULL;
        g_autofree char *backend = program ? (described && *described
                                              ? g_strdup_printf("%s %s", program, described)
                                              : g_strdup(program))
                                           : g_strdup(cli->backend_cmd ? cli->backend_cmd
                                                      : cli->socket ? cli->socket : cli->listen);
        VcRunInfo info = {.backend = backend, .tool_version = VC_VERSION, .started = started};

        results = vc_runner_run(&ro, checks, on_result, &stream);
        info.seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
        code = vc_report_exit_code((VcResult *)results->data, results->len);
        info.exit_code = code;
        if (g_str_equal(stream.format, "tap")) {
            vc_report_tap_end(stdout, (VcResult *)results->data, results->len);
        } else {
            vc_report_text(stdout, &info, (VcResult *)results->data, results->len,
                           isatty(STDOUT_FILENO));
        }
        fflush(stdout);
        if (cli->junit && !vc_report_junit(cli->junit, &info, (VcResult *)results->data,
                                          results->len, &err)) {
            g_printerr("vhost-conform: %s\n", err->message);
            g_clear_error(&err);
            code = code ? code : 99;
        }
        if (cli->json && !vc_report_json(cli->json, &info, (VcResult *)results->data, results->len,
                                        &err)) {
            g_printerr("vhost-conform: %s\n", err->message);
            g_clear_error(&err);
            code = code ? code : 99;
        }
        if (cli->html && !vc_report_html(cli->html, &info, (VcResult *)results->data, results->len,
                                        &err)) {
            g_printerr("vhost-conform: %s\n", err->message);
            g_clear_error(&err);
            code = code ? code : 99;
        }
    }
    if (cli->baseline) {
        g_autoptr(GString) lines = g_string_new(NULL);
        int bad = vc_baseline_verdicts(cli->baseline, (VcResult *)results->data, results->len,
                                       lines, &err);
        if (bad < 0) {
            g_printerr("vhost-conform: --baseline: %s\n", err->message);
            g_clear_error(&err);
            code = code ? code : 99;
        } else {
            g_printerr("baseline %s:\n%s%d regression(s)\n", cli->baseline, lines->str, bad);
            code = bad && code != 1 ? 1 : code;
        }
    }
    if (trace && !vc_trace_close(g_steal_pointer(&trace), &err)) {
        g_printerr("vhost-conform: %s\n", err->message);
        g_clear_error(&err);
        code = code ? code : 99;
    }
    return code;
}

static int
run_checks(int argc, char **argv)
{
    Cli cli = {0};
    int code = run_checks_with(&cli, argc, argv);

    cli_clear(&cli);
    return code;
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc > 1 && g_str_equal(argv[1], "bench")) {
        vc_launch_install_cleanup();
        return vc_bench_main(argc - 1, argv + 1);
    }
    if (argc > 1 && g_str_equal(argv[1], "trace")) {
        return vc_trace_main(argc - 1, argv + 1);
    }
    if (argc > 1 && g_str_equal(argv[1], "record")) {
        return vc_record_main(argc - 1, argv + 1);
    }
    if (argc > 1 && g_str_equal(argv[1], "replay")) {
        return vc_replay_main(argc - 1, argv + 1);
    }
    return run_checks(argc, argv);
}
