/*
 * vc-trace-cli.c -- command lines of `trace`, `record` and `replay`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vc-recipe.h"
#include "vc-record.h"
#include "vc-replay.h"
#include "vc-trace-cli.h"
#include "vc-trace-show.h"

/* "2", "2s", "1.5", "500ms" -> milliseconds; -1 when not a positive duration. */
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
        return v > 86400000 ? -1 : (int)v;
    }
    if (*end == '\0' || g_str_equal(end, "s")) {
        return v > 86400 ? -1 : (int)(v * 1000);
    }
    return -1;
}

static bool
parse_durations(const char *const *texts, int *const *out, const char *prog)
{
    for (unsigned i = 0; texts[i] || out[i]; i++) {
        if (texts[i] && (*out[i] = parse_ms(texts[i])) < 0) {
            g_printerr("%s: a duration is a positive number of seconds, or of ms with the "
                       "suffix 'ms' (got '%s')\n", prog, texts[i]);
            return false;
        }
    }
    return true;
}

/* --- trace show / stats ------------------------------------------------------ */

int
vc_trace_main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("show|stats FILE.pcap");
    g_autoptr(GError) err = NULL;
    VcTraceShowOptions so = {0};
    gint64 frame = 0;
    gboolean relative = FALSE, utc = FALSE, hex = FALSE;
    GOptionEntry entries[] = {
        {"relative", 'r', 0, G_OPTION_ARG_NONE, &relative,
         "show: seconds since frame 1 instead of the time of day", NULL},
        {"utc", 'u', 0, G_OPTION_ARG_NONE, &utc, "show: time of day in UTC", NULL},
        {"frame", 'f', 0, G_OPTION_ARG_INT64, &frame, "show: only frame N", "N"},
        {"hex", 'x', 0, G_OPTION_ARG_NONE, &hex, "show: also dump every record in hex", NULL},
        {NULL},
    };
    bool ok;

    g_option_context_set_summary(oc,
        "show: decode a vhost-user trace as tcpdump -v would (one line per record, a second\n"
        "line with the decoded payload). stats: messages by request, bytes, fds, latency.\n\n"
        "Exit status: 0 the whole trace was read, 2 bad command line or bad trace.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vhost-conform trace: %s\n", err->message);
        return VC_EXIT_USAGE;
    }
    if (argc != 3 || (!g_str_equal(argv[1], "show") && !g_str_equal(argv[1], "stats"))) {
        g_printerr("vhost-conform trace: usage: vhost-conform trace show|stats FILE.pcap "
                   "(see --help)\n");
        return VC_EXIT_USAGE;
    }
    if (frame < 0) {
        g_printerr("vhost-conform trace: --frame takes a frame number (1 is the first)\n");
        return VC_EXIT_USAGE;
    }
    so.relative = relative;
    so.utc = utc;
    so.hex = hex;
    so.frame = (uint64_t)frame;
    if (g_str_equal(argv[1], "show")) {
        ok = vc_trace_show(argv[2], stdout, &so, &err);
    } else {
        ok = vc_trace_stats(argv[2], stdout, &err);
    }
    fflush(stdout);
    if (!ok) {
        g_printerr("vhost-conform trace: %s\n", err->message);
        return VC_EXIT_USAGE;
    }
    return 0;
}

/* --- record ------------------------------------------------------------------- */

int
vc_record_main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("--listen SOCK --upstream SOCK2 -o FILE.pcap");
    g_autoptr(GError) err = NULL;
    g_autofree char *listen = NULL, *upstream = NULL, *output = NULL;
    g_autofree char *accept_t = NULL, *connect_t = NULL, *idle_t = NULL, *io_t = NULL;
    gint sessions = 1;
    gboolean verbose = FALSE;
    GOptionEntry entries[] = {
        {"listen", 0, 0, G_OPTION_ARG_FILENAME, &listen,
         "Socket the front end (QEMU) connects to", "SOCK"},
        {"upstream", 0, 0, G_OPTION_ARG_FILENAME, &upstream,
         "Socket of the daemon, which must be listening", "SOCK2"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The trace to write", "FILE.pcap"},
        {"sessions", 0, 0, G_OPTION_ARG_INT, &sessions,
         "Front-end connections to serve one after another, 0 until SIGINT/SIGTERM (default 1)",
         "N"},
        {"accept-timeout", 0, 0, G_OPTION_ARG_STRING, &accept_t,
         "How long to wait for each front end (default 60s)", "DURATION"},
        {"connect-timeout", 0, 0, G_OPTION_ARG_STRING, &connect_t,
         "How long the daemon may take to accept (default 5s)", "DURATION"},
        {"idle-timeout", 0, 0, G_OPTION_ARG_STRING, &idle_t,
         "End a session after this long without a message (default 600s)", "DURATION"},
        {"timeout", 0, 0, G_OPTION_ARG_STRING, &io_t,
         "Deadline of each send and of the rest of a message (default 5s)", "DURATION"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Session events on stderr", NULL},
        {NULL},
    };
    VcRecordOptions ro = {0};
    guint64 frames = 0;

    g_option_context_set_summary(oc,
        "A man in the middle between a vhost-user front end and a daemon: forwards every\n"
        "message with its fds in both directions, also on the back-end channel, and records\n"
        "each one to FILE.pcap (flushed per record).\n\n"
        "Exit status: 0 sessions recorded, 2 bad command line, 99 harness error.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vhost-conform record: %s\n", err->message);
        return VC_EXIT_USAGE;
    }
    if (argc > 1) {
        g_printerr("vhost-conform record: unexpected argument '%s'\n", argv[1]);
        return VC_EXIT_USAGE;
    }
    if (!listen || !upstream || !output) {
        g_printerr("vhost-conform record: --listen, --upstream and -o are required\n");
        return VC_EXIT_USAGE;
    }
    if (sessions < 0) {
        g_printerr("vhost-conform record: --sessions must be 0 or more\n");
        return VC_EXIT_USAGE;
    }
    if (!parse_durations((const char *const[]){accept_t, connect_t, idle_t, io_t, NULL},
                         (int *const[]){&ro.accept_timeout_ms, &ro.connect_timeout_ms,
                                        &ro.idle_timeout_ms, &ro.io_timeout_ms, NULL},
                         "vhost-conform record")) {
        return VC_EXIT_USAGE;
    }
    ro.listen_path = listen;
    ro.upstream_path = upstream;
    ro.output = output;
    ro.sessions = (unsigned)sessions;
    ro.verbose = verbose;
    if (!vc_record_run(&ro, &frames, &err)) {
        g_printerr("vhost-conform record: %s\n", err->message);
        return VC_EXIT_HARNESS;
    }
    if (verbose) {
        g_printerr("vhost-conform record: %" G_GUINT64_FORMAT " frames in %s\n", frames, output);
    }
    return 0;
}

/* --- replay ------------------------------------------------------------------- */

/* "--backend PROGRAM ARGS... [--]": the daemon's words up to "--" are removed from argv. */
static bool
take_backend(int *argc, char **argv, char **program, GPtrArray *dargs)
{
    int out = 1, i = 1;

    while (i < *argc) {
        const char *a = argv[i];
        if (g_str_equal(a, "--backend") || g_str_has_prefix(a, "--backend=")) {
            if (*program) {
                g_printerr("vhost-conform replay: --backend given twice\n");
                return false;
            }
            if (a[9] == '=') {
                *program = g_strdup(a + 10);
                i++;
            } else if (i + 1 < *argc) {
                *program = g_strdup(argv[i + 1]);
                i += 2;
            } else {
                g_printerr("vhost-conform replay: --backend needs a program\n");
                return false;
            }
            while (i < *argc && !g_str_equal(argv[i], "--")) {
                g_ptr_array_add(dargs, g_strdup(argv[i++]));
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

int
vc_replay_main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new(
        "FILE.pcap --backend PROGRAM|RECIPE [ARGS...] [--] | --backend-cmd CMD | --socket PATH "
        "| --listen PATH");
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) dargs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VcRecipe) recipe = NULL;
    g_autofree char *program = NULL, *backend_cmd = NULL, *socket = NULL, *listen = NULL;
    g_autofree char *timeout = NULL, *settle = NULL, *start = NULL, *trace_out = NULL;
    gboolean use_fd = FALSE, verbose = FALSE;
    gint max_diffs = 0;
    GOptionEntry entries[] = {
        {"backend-cmd", 0, 0, G_OPTION_ARG_STRING, &backend_cmd,
         "Start a daemon from a command template; {socket} is replaced by the socket path",
         "'COMMAND {socket}'"},
        {"socket", 0, 0, G_OPTION_ARG_FILENAME, &socket, "Replay to a daemon listening on PATH",
         "PATH"},
        {"listen", 0, 0, G_OPTION_ARG_FILENAME, &listen,
         "Listen on PATH for a daemon that connects (with --backend-cmd to start it)", "PATH"},
        {"fd", 0, 0, G_OPTION_ARG_NONE, &use_fd,
         "Start the --backend program with --fd=N (one session only)", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_STRING, &timeout,
         "Deadline of every reply (default 2s)", "DURATION"},
        {"settle", 0, 0, G_OPTION_ARG_STRING, &settle,
         "Watch for stray messages before closing a session (default 100ms)", "DURATION"},
        {"start-timeout", 0, 0, G_OPTION_ARG_STRING, &start,
         "How long the daemon may take to listen (default 5s)", "DURATION"},
        {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_out, "Record the replay to FILE",
         "FILE.pcap"},
        {"max-diffs", 0, 0, G_OPTION_ARG_INT, &max_diffs,
         "Differences printed (default 50; all are counted)", "N"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "One line per message replayed", NULL},
        {NULL},
    };
    VcReplayOptions ro = {0};
    VcReplayStats st = {0};
    int modes, start_ms = 5000;

    if (!take_backend(&argc, argv, &program, dargs)) {
        return VC_EXIT_USAGE;
    }
    g_option_context_set_summary(oc,
        "Recreates the guest memory, eventfds and sockets a trace implies, sends its recorded\n"
        "front-end messages in order, answers the back-end channel as recorded, and compares\n"
        "every reply of the daemon with the recorded one (traces/FORMAT.md, \"Replay\").\n\n"
        "Exit status: 0 every reply as recorded, 1 a difference, 2 bad command line or bad\n"
        "trace, 99 harness or environment error.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vhost-conform replay: %s\n", err->message);
        return VC_EXIT_USAGE;
    }
    if (argc != 2) {
        g_printerr("vhost-conform replay: give exactly one trace file (see --help)\n");
        return VC_EXIT_USAGE;
    }
    modes = !!program + (!!backend_cmd && !listen) + !!socket + !!listen;
    if (modes != 1) {
        g_printerr("vhost-conform replay: give exactly one of --backend, --backend-cmd, --socket "
                   "or --listen\n");
        return VC_EXIT_USAGE;
    }
    if (max_diffs < 0) {
        g_printerr("vhost-conform replay: --max-diffs must be 0 or more\n");
        return VC_EXIT_USAGE;
    }
    if (!parse_durations((const char *const[]){timeout, settle, start, NULL},
                         (int *const[]){&ro.timeout_ms, &ro.settle_ms, &start_ms, NULL},
                         "vhost-conform replay")) {
        return VC_EXIT_USAGE;
    }
    if (program && (recipe = vc_recipe_find(program, &err)) != NULL) {
        /* A recipe name (backends/recipes): it says how to start the daemon. */
        g_autofree char *why = vc_recipe_check_host(recipe);
        if (why) {
            g_printerr("vhost-conform replay: %s\n", why);
            return VC_EXIT_HARNESS;
        }
        if (dargs->len) {
            g_printerr("vhost-conform replay: recipe %s takes no daemon arguments\n",
                       recipe->name);
            return VC_EXIT_USAGE;
        }
        vc_recipe_spec(recipe, &ro.launch);
    } else if (err) {
        g_printerr("vhost-conform replay: %s\n", err->message);
        return VC_EXIT_USAGE;
    } else if (program) {
        g_ptr_array_add(dargs, NULL);
        ro.launch.mode = use_fd ? VC_LAUNCH_FD : VC_LAUNCH_SOCKET_PATH;
        ro.launch.program = program;
        ro.launch.args = (char *const *)dargs->pdata;
    } else if (listen) {
        ro.launch.mode = VC_LAUNCH_LISTEN;
        ro.launch.socket_path = listen;
        ro.launch.command = backend_cmd;
    } else if (backend_cmd) {
        ro.launch.mode = VC_LAUNCH_COMMAND;
        ro.launch.command = backend_cmd;
    } else {
        ro.launch.mode = VC_LAUNCH_CONNECT;
        ro.launch.socket_path = socket;
    }
    if (start || !ro.launch.start_timeout_ms) {
        ro.launch.start_timeout_ms = start_ms;
    }
    ro.trace = argv[1];
    ro.trace_out = trace_out;
    ro.max_diffs = (unsigned)max_diffs;
    ro.verbose = verbose;
    vc_launch_install_cleanup();
    if (!vc_replay_run(&ro, stdout, &st, &err)) {
        fflush(stdout);
        g_printerr("vhost-conform replay: %s\n", err->message);
        /* The input trace's errors are VC_TRACE_ERROR; everything else is the harness's. */
        return err->domain == VC_TRACE_ERROR ? VC_EXIT_USAGE : VC_EXIT_HARNESS;
    }
    printf("replay: %u session%s, %u messages sent, %u compared, %u difference%s",
           st.sessions, st.sessions == 1 ? "" : "s", st.sent, st.compared, st.differences,
           st.differences == 1 ? "" : "s");
    if (st.skipped) {
        printf(", %u not sent after a session broke", st.skipped);
    }
    printf("\n");
    fflush(stdout);
    return st.differences ? VC_EXIT_DIFF : 0;
}
