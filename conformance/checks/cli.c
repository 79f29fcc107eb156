/*
 * cli.c -- back-end program conventions, checked by launching the program.
 * vhost-user.rst "Backend program conventions"; SPEC-FACTS 7.22.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "vc-chk.h"
#include "vc-error.h"

/* vhost-user.json VHostUserBackendType. */
static const char *const backend_types[] = {
    "9p", "balloon", "block", "caif", "console", "crypto", "gpu", "input", "net", "rng",
    "rpmsg", "rproc-serial", "scsi", "vsock", "fs", NULL,
};

/*
 * A launch that failed: SKIP when the run cannot launch, ERROR when the
 * program could not even be executed, otherwise the daemon's doing.
 * Returns: true when the verdict is set.
 */
static bool
launch_failed_not_daemon(VcCtx *ctx)
{
    if (g_error_matches(ctx->err, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED)) {
        vc_ctx_skip(ctx, "%s", ctx->err->message);
    } else if (ctx->err->domain == G_SPAWN_ERROR) {
        vc_ctx_error(ctx, "cannot execute the program: %s", ctx->err->message);
    } else {
        return false;
    }
    g_clear_error(VC_ERR(ctx));
    return true;
}

/* Connects to @d and runs GET_FEATURES; @peer (optional) gets the serving process's pid. */
static bool
answers_as(VcCtx *ctx, VcDaemon *d, GString *why, pid_t *peer)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VcFrontend) fe = NULL;
    VcFeConfig cfg = vc_ctx_config(ctx);
    int fd = vc_daemon_connect(d, 3000, &err);

    if (fd < 0) {
        g_string_assign(why, err->message);
        return false;
    }
    if (peer) {
        struct ucred cred = {0};
        socklen_t len = sizeof(cred);
        *peer = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
    }
    fe = vc_fe_new(fd, &cfg);
    if (!vc_fe_get_features(fe, NULL, &err)) {
        g_string_assign(why, err->message);
        return false;
    }
    return true;
}

static bool
answers(VcCtx *ctx, VcDaemon *d, GString *why)
{
    return answers_as(ctx, d, why, NULL);
}

static VcVerdict
socket_path_supported(VcCtx *ctx)
{
    g_autoptr(GString) why = g_string_new(NULL);
    VcDaemon *d = vc_ctx_launch(ctx, VC_LAUNCH_SOCKET_PATH, NULL);

    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        vc_ctx_violation(ctx, "started with --socket-path=PATH: %s", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, answers(ctx, d, why), "started with --socket-path=PATH, it does not answer "
              "there: %s", why->str);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "listened and answered on %s", vc_daemon_socket_path(d));
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
fd_supported(VcCtx *ctx)
{
    g_autoptr(GString) why = g_string_new(NULL);
    VcDaemon *d = vc_ctx_launch(ctx, VC_LAUNCH_FD, NULL);

    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        return vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    if (!answers(ctx, d, why)) {
        g_autofree char *how = vc_daemon_wait_exit(d, 200) ? vc_daemon_exit_text(d)
                                                           : g_strdup("still runs");
        g_autofree char *tail = vc_daemon_log_tail(d, 2);
        g_autoptr(GString) why2 = g_string_new(NULL);
        VcDaemon *l;

        /*
         * vhost-user.rst says "the vhost-user socket as file descriptor FDNUM" without saying
         * connected or listening; libvirt hands virtiofsd a listening one. Either is the rule.
         */
        g_clear_error(VC_ERR(ctx));
        l = vc_ctx_launch(ctx, VC_LAUNCH_FD_LISTEN, NULL);
        if (l && answers(ctx, l, why2)) {
            vc_ctx_note(ctx, "serves a listening socket given with --fd (libvirt's way with "
                        "virtiofsd), not a connected one (%s)", why->str);
            return vc_ctx_done(ctx);
        }
        g_clear_error(VC_ERR(ctx));
        vc_ctx_violation(ctx, "started with --fd=3 on a connected socket: %s (it %s%s%s); on a "
                         "listening one: %s", why->str, how, *tail ? ": " : "", tail,
                         why2->len ? why2->str : "could not be started");
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "served the inherited connected socket given with --fd");
    return vc_ctx_done(ctx);
}

static VcVerdict
socket_path_and_fd_exclusive(VcCtx *ctx)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "vc-both-XXXXXX", NULL);
    g_autofree char *opt = NULL;
    char *extra[2];
    VcDaemon *d;
    int status;

    /* A path that is ours and unused; the daemon should refuse before touching it. */
    g_free(opt);
    opt = g_strdup_printf("--socket-path=%s-%d.sock", path, (int)getpid());
    extra[0] = opt;
    extra[1] = NULL;
    d = vc_ctx_launch(ctx, VC_LAUNCH_FD, extra);
    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        return vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    if (!vc_daemon_wait_exit(d, 3000)) {
        vc_ctx_violation(ctx, "started with both --fd=3 and --socket-path, it still runs after "
                         "3 s (the options are mutually exclusive)");
    } else {
        status = vc_daemon_exit_status(d);
        vc_expect(ctx, status != 0, "started with both --fd=3 and --socket-path, it exited with "
                  "status 0");
        if (!ctx->violated) {
            g_autofree char *how = vc_daemon_exit_text(d);
            vc_ctx_note(ctx, "both options together: it %s", how);
        }
    }
    {
        g_autofree char *sock = g_strdup_printf("%s-%d.sock", path, (int)getpid());
        unlink(sock);
    }
    return vc_ctx_done(ctx);
}

static bool
validate_capabilities(VcCtx *ctx, const char *out)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root, *type;
    JsonObject *o;
    const char *t;

    if (!json_parser_load_from_data(p, out, -1, &err)) {
        g_autofree char *line = g_strndup(out, 80);
        g_strdelimit(line, "\n\r\t", ' ');
        return vc_ctx_violation(ctx, "--print-capabilities did not print JSON (%s): \"%s\"",
                                err->message, line);
    }
    root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return vc_ctx_violation(ctx, "--print-capabilities printed JSON that is not an object");
    }
    o = json_node_get_object(root);
    type = json_object_get_member(o, "type");
    if (!type || json_node_get_value_type(type) != G_TYPE_STRING) {
        return vc_ctx_violation(ctx, "--print-capabilities: no string member \"type\"");
    }
    t = json_node_get_string(type);
    if (!g_strv_contains(backend_types, t)) {
        return vc_ctx_violation(ctx, "--print-capabilities: type \"%s\" is not a "
                                "VHostUserBackendType of vhost-user.json", t);
    }
    if (json_object_has_member(o, "features")) {
        JsonNode *f = json_object_get_member(o, "features");
        if (!JSON_NODE_HOLDS_ARRAY(f)) {
            return vc_ctx_violation(ctx, "--print-capabilities: \"features\" is not an array");
        }
        JsonArray *a = json_node_get_array(f);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
                return vc_ctx_violation(ctx, "--print-capabilities: features[%u] is not a string",
                                        i);
            }
        }
    }
    return true;
}

/* PROGRAM ARGS... EXTRA... --print-capabilities */
static char **
capabilities_argv(VcCtx *ctx, const char *extra)
{
    GPtrArray *a = g_ptr_array_new();

    g_ptr_array_add(a, (gpointer)ctx->program);
    for (char *const *p = ctx->program_args; p && *p; p++) {
        g_ptr_array_add(a, *p);
    }
    if (extra) {
        g_ptr_array_add(a, (gpointer)extra);
    }
    g_ptr_array_add(a, "--print-capabilities");
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

static VcVerdict
print_capabilities(VcCtx *ctx)
{
    g_autofree char *out = NULL;
    g_autofree char **argv = NULL;
    int status = -1;

    if (!ctx->program) {
        return vc_ctx_skip(ctx, "needs a program started by the back-end program conventions");
    }
    argv = capabilities_argv(ctx, NULL);
    if (!vc_run_capture(argv, 3000, &out, &status, VC_ERR(ctx))) {
        return vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    if (!vc_expect(ctx, status == 0, "--print-capabilities %s", status < 0
                   ? "did not exit within 3 s" : "exited with a non-zero status")) {
        return vc_ctx_done(ctx);
    }
    if (!validate_capabilities(ctx, out)) {
        return vc_ctx_done(ctx);
    }
    /* Other options must be ignored (vhost-user.rst says "should"): note it, do not judge. */
    g_free(argv);
    argv = capabilities_argv(ctx, "--vc-no-such-option");
    g_clear_pointer(&out, g_free);
    if (vc_run_capture(argv, 3000, &out, &status, NULL)) {
        vc_ctx_note(ctx, "valid JSON; with an unknown option too: %s",
                    status == 0 ? "still printed" : "refused (the spec says should ignore)");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
does_not_daemonize(VcCtx *ctx)
{
    VcDaemon *d = vc_ctx_launch(ctx, VC_LAUNCH_SOCKET_PATH, NULL);
    g_autoptr(GString) why = g_string_new(NULL);
    pid_t peer = 0;

    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        if (strstr(ctx->err->message, "exited with status 0")) {
            vc_ctx_violation(ctx, "the launched process exited with status 0 before serving: it "
                             "daemonized (%s)", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        return vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    if (!answers_as(ctx, d, why, &peer)) {
        return vc_ctx_skip(ctx, "inconclusive: it does not answer: %s", why->str);
    }
    /* The socket's peer credentials name the process that serves it. A daemon that exits
     * once its front end leaves (virtiofsd) is not one that daemonized. */
    if (peer > 0 && peer == (pid_t)vc_daemon_pid(d)) {
        vc_ctx_note(ctx, "the launched pid %d is the one serving", (int)peer);
        return vc_ctx_done(ctx);
    }
    if (vc_daemon_wait_exit(d, 200)) {
        g_autofree char *how = vc_daemon_exit_text(d);
        vc_ctx_violation(ctx, "the launched process %s while its socket is served by pid %d: "
                         "it daemonized", how, (int)peer);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "the launched process still runs (its socket is served by pid %d, a "
                "child of its own)", (int)peer);
    return vc_ctx_done(ctx);
}

static VcVerdict
sigterm_ends_it(VcCtx *ctx)
{
    VcDaemon *d = vc_ctx_launch(ctx, VC_LAUNCH_SOCKET_PATH, NULL);
    g_autoptr(GString) why = g_string_new(NULL);
    gint64 t0;
    bool clean;

    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        return vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    if (!answers(ctx, d, why)) {
        return vc_ctx_skip(ctx, "inconclusive: it does not answer: %s", why->str);
    }
    t0 = g_get_monotonic_time();
    vc_daemon_signal(d, SIGTERM);
    clean = vc_daemon_wait_exit(d, 3000);
    if (!clean) {
        vc_daemon_stop(d);
        vc_ctx_violation(ctx, "SIGTERM did not end it within 3 s (SIGKILL was needed)");
        return vc_ctx_done(ctx);
    }
    {
        g_autofree char *how = vc_daemon_exit_text(d);
        vc_ctx_note(ctx, "SIGTERM: it %s after %.0f ms", how,
                    (double)(g_get_monotonic_time() - t0) / 1000.0);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
bad_init_exits_early(VcCtx *ctx)
{
    g_autofree char *opt = g_strdup_printf("--socket-path=/nonexistent-vc-%d/sock", (int)getpid());
    char *extra[2] = {opt, NULL};
    VcDaemon *d;
    int status;

    /* The only socket option is one it cannot honour: its initialisation must fail. */
    d = vc_ctx_launch(ctx, VC_LAUNCH_BARE, extra);
    if (!d) {
        if (launch_failed_not_daemon(ctx)) {
            return vc_ctx_done(ctx);
        }
        /* It exited before creating its socket: what we want, when the status is not 0. */
        if (strstr(ctx->err->message, "exited with status 0")) {
            vc_ctx_violation(ctx, "with a socket path it cannot create, it exited with status 0");
        } else if (strstr(ctx->err->message, "exited with status")) {
            vc_ctx_note(ctx, "%s", ctx->err->message);
        } else {
            vc_ctx_violation(ctx, "with a socket path it cannot create: %s", ctx->err->message);
        }
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    if (!vc_daemon_wait_exit(d, 3000)) {
        vc_ctx_violation(ctx, "with a socket path it cannot create, it still runs after 3 s");
        return vc_ctx_done(ctx);
    }
    status = vc_daemon_exit_status(d);
    vc_expect(ctx, status != 0, "with a socket path it cannot create, it exited with status 0");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a failed initialisation ended it with status %d", status);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-CLI-01", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "--socket-path=PATH makes the program listen on PATH", "cli-no-socket-path",
     socket_path_supported},
    {"VU-CLI-02", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "--fd=FDNUM makes the program serve an inherited socket (connected, or listening)",
     "cli-no-fd",
     fd_supported},
    {"VU-CLI-03", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "--socket-path and --fd together are refused (non-zero exit)", "cli-accepts-both",
     socket_path_and_fd_exclusive},
    {"VU-CLI-04", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "--print-capabilities prints VHostUserBackendCapabilities JSON and exits 0",
     "cli-bad-capabilities", print_capabilities},
    {"VU-CLI-05", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "the program does not daemonize itself", "cli-daemonize", does_not_daemonize},
    {"VU-CLI-06", "vhost-user.rst#backend-program-conventions", VC_MUST, 0, 0, VC_CHECK_LAUNCH,
     "SIGTERM ends the program within a few seconds", "cli-ignore-sigterm", sigterm_ends_it},
    {"VU-CLI-07", "vhost-user.rst#backend-program-conventions", VC_SHOULD, 0, 0, VC_CHECK_LAUNCH,
     "a failed initialisation (socket path it cannot create) ends it early, non-zero",
     "cli-no-exit-on-bad-socket", bad_init_exits_early},
};

const VcCheckArea vc_area_cli = {"cli", checks, G_N_ELEMENTS(checks)};
