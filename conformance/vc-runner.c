/*
 * vc-runner.c -- the check loop and the daemon's lifetime.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "vc-error.h"
#include "vc-devices.h"
#include "vc-traffic.h"
#include "vc-runner.h"

typedef struct Runner {
    const VcRunOptions *opts;
    VcLaunchSpec spec;       /* opts->launch with defaults */
    VcDaemon *daemon;        /* current instance, may be NULL */
    GError *start_error;     /* why the daemon could not be started */
    GPtrArray *extra;        /* VcDaemon * launched by the current check */
    bool fd_used;            /* FD mode: the connection of this instance was handed out */
    bool source_probed;      /* traffic_source_missing() asked the daemon */
    char *no_source;         /* and why generic traffic cannot complete, or NULL */
} Runner;

static bool
daemon_start(Runner *r, GError **error)
{
    g_clear_pointer(&r->daemon, vc_daemon_free);
    g_clear_error(&r->start_error);
    r->fd_used = false;
    r->daemon = vc_daemon_start(&r->spec, &r->start_error);
    if (!r->daemon) {
        if (error) {
            *error = g_error_copy(r->start_error);
        }
        return false;
    }
    return true;
}

/* --- VcRunnerOps --------------------------------------------------------------------------- */

static int
op_connect(void *opaque, GError **error)
{
    Runner *r = opaque;
    int timeout = MAX(r->opts->launch.start_timeout_ms, 5000);
    int fd;

    if (!r->daemon || (vc_daemon_has_process(r->daemon) && !vc_daemon_alive(r->daemon)) ||
        (r->spec.mode == VC_LAUNCH_FD && r->fd_used)) {
        /* Some daemons exit after a front end disconnects (virtiofsd): start another. */
        if (!daemon_start(r, error)) {
            return -1;
        }
    }
    r->fd_used = r->spec.mode == VC_LAUNCH_FD;
    fd = vc_daemon_connect(r->daemon, timeout, error);
    if (fd < 0 && r->spec.mode != VC_LAUNCH_FD && vc_daemon_has_process(r->daemon) &&
        vc_daemon_wait_exit(r->daemon, 0) && !vc_daemon_crashed(r->daemon)) {
        /* It was still ending after the previous front end left (virtiofsd): start another. */
        g_clear_error(error);
        if (!daemon_start(r, error)) {
            return -1;
        }
        fd = vc_daemon_connect(r->daemon, timeout, error);
    }
    return fd;
}

static VcDaemon *
op_daemon(void *opaque)
{
    return ((Runner *)opaque)->daemon;
}

static bool
op_restart(void *opaque, GError **error)
{
    Runner *r = opaque;

    if (r->spec.mode == VC_LAUNCH_CONNECT) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "the daemon was not started by vhost-conform and cannot be restarted");
        return false;
    }
    return daemon_start(r, error);
}

static VcDaemon *
op_launch(void *opaque, VcLaunchMode mode, char *const *extra_args, GError **error)
{
    Runner *r = opaque;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    VcLaunchSpec spec = r->spec;
    VcDaemon *d;

    if (r->spec.mode != VC_LAUNCH_SOCKET_PATH && r->spec.mode != VC_LAUNCH_FD &&
        !(r->spec.program && r->spec.mode != VC_LAUNCH_CONNECT)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "needs a program started with the back-end program conventions (--backend)");
        return NULL;
    }
    for (char *const *a = r->spec.args; a && *a; a++) {
        g_ptr_array_add(args, *a);
    }
    for (char *const *a = extra_args; a && *a; a++) {
        g_ptr_array_add(args, *a);
    }
    g_ptr_array_add(args, NULL);
    spec.mode = mode;
    spec.args = (char *const *)args->pdata;
    d = vc_daemon_start(&spec, error);
    if (d) {
        g_ptr_array_add(r->extra, d);
    }
    return d;
}

static const VcRunnerOps runner_ops = {
    .connect = op_connect,
    .daemon = op_daemon,
    .launch = op_launch,
    .restart = op_restart,
};

/* --- Registry and selection ------------------------------------------------------------------ */

const VcCheck *
vc_registry_find(const char *id)
{
    unsigned n;
    const VcCheckArea *const *areas = vc_registry_areas(&n);

    for (unsigned a = 0; a < n; a++) {
        for (size_t i = 0; i < areas[a]->n; i++) {
            if (g_ascii_strcasecmp(areas[a]->checks[i].id, id) == 0) {
                return &areas[a]->checks[i];
            }
        }
    }
    return NULL;
}

static bool
id_matches(const char *id, const char *pat)
{
    size_t n = strlen(pat);

    /* An exact ID, or a prefix ending at a '-' boundary ("VU-RING" matches "VU-RING-001"). */
    return g_ascii_strcasecmp(id, pat) == 0 ||
           (g_ascii_strncasecmp(id, pat, n) == 0 && (id[n] == '-' || pat[n - 1] == '-'));
}

static bool
any_match(const char *id, char **pats)
{
    for (char **p = pats; p && *p; p++) {
        if (**p && id_matches(id, *p)) {
            return true;
        }
    }
    return false;
}

static bool
validate_patterns(char **pats, const char *opt, GError **error)
{
    unsigned n;
    const VcCheckArea *const *areas = vc_registry_areas(&n);

    for (char **p = pats; p && *p; p++) {
        bool found = false;
        if (!**p) {
            continue;
        }
        for (unsigned a = 0; a < n && !found; a++) {
            for (size_t i = 0; i < areas[a]->n && !found; i++) {
                found = id_matches(areas[a]->checks[i].id, *p);
            }
        }
        if (!found) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: no check has the ID '%s' (see --list)", opt, *p);
            return false;
        }
    }
    return true;
}

GPtrArray *
vc_runner_select(char **only, char **skip, GError **error)
{
    unsigned n;
    const VcCheckArea *const *areas = vc_registry_areas(&n);
    g_autoptr(GPtrArray) out = g_ptr_array_new();

    if (!validate_patterns(only, "--only", error) || !validate_patterns(skip, "--skip", error)) {
        return NULL;
    }
    for (unsigned a = 0; a < n; a++) {
        for (size_t i = 0; i < areas[a]->n; i++) {
            const VcCheck *c = &areas[a]->checks[i];
            if ((only && *only && !any_match(c->id, only)) || any_match(c->id, skip)) {
                continue;
            }
            g_ptr_array_add(out, (gpointer)c);
        }
    }
    return g_steal_pointer(&out);
}

char *
vc_runner_device_from_capabilities(const char *json)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root;
    JsonObject *o;

    if (!json || !json_parser_load_from_data(p, json, -1, NULL)) {
        return NULL;
    }
    root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return NULL;
    }
    o = json_node_get_object(root);
    if (!json_object_has_member(o, "type") ||
        json_node_get_value_type(json_object_get_member(o, "type")) != G_TYPE_STRING) {
        return NULL;
    }
    return g_strdup(json_object_get_string_member(o, "type"));
}

/* --- The loop ------------------------------------------------------------------------------- */

static bool
device_has_datapath(const char *device)
{
    return vc_traffic_ops(device) != NULL;
}

/*
 * Generic datapath checks drive requests a device completes on its own. A
 * net receive buffer completes only when the back end has traffic for the
 * guest, and some never have (dpdk-testpmd in rxonly mode): for traffic that
 * needs_source, whether anything arrives at all is asked once per run, and
 * when nothing does those checks SKIP rather than read silence as a fault.
 * Returns: the reason to skip, or NULL (also when the question could not be
 * asked: the checks then find out for themselves).
 */
static const char *
traffic_source_missing(Runner *r, const VcCtx *ctx)
{
    const VcTrafficOps *ops = vc_traffic_ops(ctx->device);
    g_autoptr(GError) err = NULL;
    g_autoptr(VcFrontend) fe = NULL;
    g_autoptr(VcTraffic) t = NULL;
    VcFeConfig cfg = ctx->base;
    int ms = MAX(cfg.timeout_ms, VC_FE_DEFAULT_TIMEOUT_MS);
    int fd;

    if (!ops || !ops->needs_source || r->source_probed) {
        return r->no_source;
    }
    r->source_probed = true;
    fd = op_connect(r, &err);
    if (fd < 0) {
        return NULL;
    }
    fe = vc_fe_new(fd, &cfg);
    if (!vc_fe_init(fe, &err) || !vc_fe_start(fe, &err)) {
        return NULL;
    }
    t = vc_traffic_new(fe, G_MAXUINT, 4, &err);
    if (!t) {
        return NULL;
    }
    vc_traffic_post(t, 4);
    vc_vq_notify(t->vq);
    if (vc_traffic_wait(t, 1, ms) == 0) {
        r->no_source = g_strdup_printf("the daemon delivered nothing to %s requests within %d ms "
                                       "(no traffic for the guest): generic datapath checks need "
                                       "a back end that has some (a loopback, "
                                       "dpdk-testpmd-txonly)", ctx->device, ms);
    }
    return r->no_source;
}

/*
 * After a check: is the daemon still serving? A hang is blamed on the check
 * that just ran; a daemon that exits cleanly after a disconnect is normal
 * (virtiofsd, vhost-user-gpu) and is simply started again when needed.
 */
static void
probe_after(Runner *r, VcCtx *ctx)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VcFrontend) fe = NULL;
    VcFeConfig cfg = ctx->base;
    int fd;

    if (!r->daemon || r->spec.mode == VC_LAUNCH_FD || r->spec.mode == VC_LAUNCH_LISTEN ||
        (vc_daemon_has_process(r->daemon) && !vc_daemon_alive(r->daemon))) {
        return;
    }
    fd = vc_daemon_connect(r->daemon, 1000, &err);
    if (fd < 0) {
        if (vc_daemon_has_process(r->daemon) && !vc_daemon_wait_exit(r->daemon, 1000)) {
            /* Alive but not accepting: start a new one for the next check. */
            daemon_start(r, NULL);
        }
        return;
    }
    fe = vc_fe_new(fd, &cfg);
    if (!vc_fe_get_features(fe, NULL, &err)) {
        if (g_error_matches(err, VC_SIM_ERROR, VC_ERROR_TIMEOUT) && vc_daemon_alive(r->daemon)) {
            if (!ctx->violated && !ctx->errored) {
                vc_ctx_violation(ctx, "after this check the daemon no longer answers a new "
                                 "connection (GET_FEATURES timed out)");
            }
            if (r->spec.mode != VC_LAUNCH_CONNECT) {
                daemon_start(r, NULL);
            }
        }
    }
}

static void
check_crash(Runner *r, VcCtx *ctx)
{
    g_autofree char *how = NULL;

    if (!r->daemon || !vc_daemon_has_process(r->daemon)) {
        return;
    }
    /* Give a dying daemon a moment to be reaped so the crash is seen here, not later. */
    vc_daemon_wait_exit(r->daemon, 20);
    if (!vc_daemon_crashed(r->daemon)) {
        return;
    }
    how = vc_daemon_exit_text(r->daemon);
    if (ctx->violated) {
        if (!strstr(ctx->reason->str, "the daemon was killed")) {
            g_string_append_printf(ctx->reason, " (the daemon %s)", how);
        }
    } else {
        ctx->errored = false;
        g_string_truncate(ctx->reason, 0);
        vc_ctx_violation(ctx, "the daemon %s during this check", how);
    }
    daemon_start(r, NULL);
}

static void
run_one(Runner *r, const VcCheck *c, const VcProfile *profile, bool packed, const char *device,
        VcResult *res)
{
    VcCtx ctx = {0};
    gint64 t0 = g_get_monotonic_time();
    const VcDeviceInfo *info = vc_device_info(device);
    const char *no_source;
    VcVerdict v;

    ctx.check = c;
    ctx.ops = &runner_ops;
    ctx.runner = r;
    ctx.base = r->opts->fe;
    ctx.base.profile = profile;
    ctx.base.device = device;
    ctx.base.packed = packed;
    if (info) {
        /* What QEMU's device model would set: rings, config space, the driver's features. */
        if (!ctx.base.num_queues) {
            ctx.base.num_queues = info->queues;
        }
        if (!ctx.base.config_len) {
            ctx.base.config_len = info->config_len;
        }
        ctx.base.driver_features |= info->driver_features;
    }
    ctx.device = device;
    if (r->spec.mode == VC_LAUNCH_SOCKET_PATH || r->spec.mode == VC_LAUNCH_FD) {
        ctx.program = r->spec.program;
        ctx.program_args = r->spec.args;
    }
    ctx.reason = g_string_new(NULL);
    ctx.note = g_string_new(NULL);
    ctx.tap = r->opts->tap;
    ctx.tap_opaque = r->opts->tap_opaque;
    ctx.vq_tap = r->opts->vq_tap;
    ctx.host_event_signal = r->opts->host_event_signal;
    ctx.trace_frame = r->opts->trace_frame;
    if (r->opts->trace_mark) {
        g_autofree char *mark = g_strdup_printf("%s begins: %s", c->id, c->summary);
        r->opts->trace_mark(r->opts->tap_opaque, mark);
    }

    if (c->device && g_strcmp0(c->device, device) != 0) {
        v = vc_ctx_skip(&ctx, "applies to %s devices only", c->device);
    } else if ((c->flags & VC_CHECK_DATAPATH) && !device_has_datapath(device)) {
        v = g_str_equal(device, "unknown")
                ? vc_ctx_skip(&ctx, "the device type is unknown: give --device TYPE")
                : vc_ctx_skip(&ctx, "no datapath driver for device type '%s' yet", device);
    } else if ((c->flags & VC_CHECK_DATAPATH) && !c->device &&
               (no_source = traffic_source_missing(r, &ctx))) {
        v = vc_ctx_skip(&ctx, "%s", no_source);
    } else if ((c->flags & VC_CHECK_LAUNCH) && r->spec.mode != VC_LAUNCH_SOCKET_PATH &&
               r->spec.mode != VC_LAUNCH_FD) {
        v = vc_ctx_skip(&ctx, "needs a program started by the back-end program conventions "
                        "(--backend PROGRAM)");
    } else if ((c->flags & VC_CHECK_PROCESS) &&
               (r->spec.mode == VC_LAUNCH_CONNECT ||
                (r->spec.mode == VC_LAUNCH_LISTEN && !r->spec.command))) {
        v = vc_ctx_skip(&ctx, "needs a daemon process started by vhost-conform");
    } else if (!(c->flags & VC_CHECK_LAUNCH) && !r->daemon && r->start_error) {
        /* Not retried for every check: a daemon that never listens would cost minutes. */
        v = vc_ctx_error(&ctx, "the daemon could not be started: %s", r->start_error->message);
    } else {
        if ((c->flags & VC_CHECK_FRESH) && r->spec.mode != VC_LAUNCH_CONNECT) {
            daemon_start(r, NULL);
        }
        v = c->run(&ctx);
        g_clear_pointer(&ctx.fe, vc_fe_free);
        if (!(c->flags & VC_CHECK_LAUNCH)) {
            check_crash(r, &ctx);
            probe_after(r, &ctx);
        }
        v = vc_ctx_done(&ctx);
    }
    g_ptr_array_set_size(r->extra, 0);
    g_clear_error(&ctx.err);

    res->id = g_strdup(c->id);
    res->spec = g_strdup(c->spec);
    res->level = c->level;
    res->summary = g_strdup(c->summary);
    res->verdict = v;
    if (ctx.reason->len) {
        res->reason = g_strdup(ctx.reason->str);
        if (ctx.n_violations > 1) {
            g_autofree char *old = res->reason;
            res->reason = g_strdup_printf("%s (and %u more)", old, ctx.n_violations - 1);
        }
    } else {
        res->reason = g_strdup(ctx.note->len ? ctx.note->str : "");
    }
    res->profile = g_strdup(ctx.base.profile ? ctx.base.profile->name
                                             : vc_profile_default()->name);
    res->ring = g_strdup(packed ? "packed" : "split");
    res->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (r->opts->trace_path && (v == VC_FAIL || v == VC_WARN) && ctx.violation_frame) {
        res->trace = g_strdup_printf("%s#frame=%" G_GUINT64_FORMAT, r->opts->trace_path,
                                     ctx.violation_frame);
    }
    if (r->opts->trace_mark) {
        g_autofree char *mark = g_strdup_printf("%s ends: %s", c->id, vc_verdict_name(v));
        r->opts->trace_mark(r->opts->tap_opaque, mark);
    }
    g_string_free(ctx.reason, TRUE);
    g_string_free(ctx.note, TRUE);
}

static char *
detect_device(Runner *r)
{
    g_autofree char *out = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int status = -1;

    if (r->spec.mode != VC_LAUNCH_SOCKET_PATH && r->spec.mode != VC_LAUNCH_FD) {
        return NULL;
    }
    g_ptr_array_add(argv, (gpointer)r->spec.program);
    for (char *const *a = r->spec.args; a && *a; a++) {
        g_ptr_array_add(argv, *a);
    }
    g_ptr_array_add(argv, "--print-capabilities");
    g_ptr_array_add(argv, NULL);
    if (!vc_run_capture((char *const *)argv->pdata, 3000, &out, &status, NULL) || status != 0) {
        return NULL;
    }
    return vc_runner_device_from_capabilities(out);
}

static void
result_clear(gpointer p)
{
    vc_result_clear(p);
}

GArray *
vc_runner_run(const VcRunOptions *opts, GPtrArray *checks, VcResultCb cb, void *opaque)
{
    Runner r = {0};
    GArray *results = g_array_sized_new(FALSE, TRUE, sizeof(VcResult), checks->len);
    g_autofree char *detected = NULL;
    const char *device = opts->device;

    const VcProfile *one[1] = {opts->fe.profile ? opts->fe.profile : vc_profile_default()};
    const VcProfile *const *profiles = opts->n_profiles ? opts->profiles : one;
    unsigned n_profiles = opts->n_profiles ? opts->n_profiles : 1;
    unsigned rings = opts->rings ? opts->rings : VC_RING_SPLIT;
    bool layouts[2];
    unsigned n_layouts = 0, n_variants;

    g_array_set_clear_func(results, result_clear);
    r.opts = opts;
    r.spec = opts->launch;
    r.extra = g_ptr_array_new_with_free_func((GDestroyNotify)vc_daemon_free);
    if (!device) {
        detected = detect_device(&r);
        device = detected ? vc_device_canonical(detected) : "unknown";
    }
    if (opts->verbose) {
        g_printerr("vhost-conform: device type %s\n", device);
    }
    daemon_start(&r, NULL);
    if (!r.daemon && opts->verbose) {
        g_printerr("vhost-conform: %s\n", r.start_error->message);
    }
    for (guint ri = 0; ri < 2; ri++) {
        if (rings & (1u << ri)) {
            layouts[n_layouts++] = ri == 1;
        }
    }
    n_variants = n_profiles * n_layouts;
    for (guint i = 0; i < checks->len * n_variants; i++) {
        VcResult res = {0};
        guint v = i % n_variants;
        /* The matrix runs every check with every profile and layout: a daemon that only works
         * with one front end shows up as a check that passes under one profile only. */
        run_one(&r, checks->pdata[i / n_variants], profiles[v / n_layouts], layouts[v % n_layouts],
                device, &res);
        g_array_append_val(results, res);
        if (cb) {
            cb(opaque, i, checks->len * n_variants,
               &g_array_index(results, VcResult, results->len - 1));
        }
    }
    g_clear_pointer(&r.daemon, vc_daemon_free);
    g_ptr_array_unref(r.extra);
    g_free(r.no_source);
    g_clear_error(&r.start_error);
    return results;
}
