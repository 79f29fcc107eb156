/*
 * vc-ctx.c -- verdict bookkeeping and connection helpers for checks.
 */
#include <errno.h>

#include "vc-check.h"
#include "vc-error.h"

static void
set_reason(VcCtx *ctx, const char *fmt, va_list ap)
{
    if (ctx->reason->len == 0) {
        g_string_vprintf(ctx->reason, fmt, ap);
    }
}

bool
vc_ctx_violation(VcCtx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!ctx->violated) {
        /* A violation outranks an earlier skip reason. */
        g_string_truncate(ctx->reason, 0);
        if (ctx->trace_frame) {
            ctx->violation_frame = ctx->trace_frame(ctx->tap_opaque);
        }
    }
    set_reason(ctx, fmt, ap);
    va_end(ap);
    ctx->violated = true;
    ctx->n_violations++;
    return false;
}

VcVerdict
vc_ctx_skip(VcCtx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (!ctx->violated && !ctx->errored) {
        va_start(ap, fmt);
        set_reason(ctx, fmt, ap);
        va_end(ap);
        ctx->skipped = true;
    }
    return vc_ctx_done(ctx);
}

VcVerdict
vc_ctx_error(VcCtx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!ctx->errored) {
        g_string_truncate(ctx->reason, 0);
    }
    set_reason(ctx, fmt, ap);
    va_end(ap);
    ctx->errored = true;
    return VC_ERROR;
}

void
vc_ctx_note(VcCtx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->note->len) {
        g_string_append(ctx->note, "; ");
    }
    va_start(ap, fmt);
    g_string_append_vprintf(ctx->note, fmt, ap);
    va_end(ap);
}

VcVerdict
vc_ctx_done(VcCtx *ctx)
{
    if (ctx->errored) {
        return VC_ERROR;
    }
    if (ctx->violated) {
        return ctx->check->level == VC_MUST ? VC_FAIL : VC_WARN;
    }
    if (ctx->skipped) {
        return VC_SKIP;
    }
    return VC_PASS;
}

bool
vc_ctx_daemon_dead(VcCtx *ctx, int wait_ms, char **how)
{
    VcDaemon *d = ctx->ops->daemon(ctx->runner);

    if (!d || !vc_daemon_has_process(d)) {
        return false;
    }
    if (!vc_daemon_wait_exit(d, wait_ms)) {
        return false;
    }
    if (how) {
        *how = vc_daemon_exit_text(d);
    }
    return true;
}

bool
vc_ctx_try(VcCtx *ctx, bool ok)
{
    g_autofree char *how = NULL;
    bool daemon_fault;

    if (ok) {
        g_clear_error(&ctx->err);
        return true;
    }
    if (!ctx->err) {
        vc_ctx_error(ctx, "a step failed without saying why (harness bug)");
        return false;
    }
    daemon_fault = vc_error_is_daemon_fault(ctx->err) ||
                   g_error_matches(ctx->err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                   g_error_matches(ctx->err, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
                   g_error_matches(ctx->err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    if (g_error_matches(ctx->err, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED)) {
        vc_ctx_skip(ctx, "%s", ctx->err->message);
    } else if (vc_ctx_daemon_dead(ctx, daemon_fault ? 200 : 0, &how)) {
        vc_ctx_violation(ctx, "setup: %s (the daemon %s)", ctx->err->message, how);
    } else if (daemon_fault) {
        vc_ctx_violation(ctx, "setup: %s", ctx->err->message);
    } else {
        vc_ctx_error(ctx, "%s", ctx->err->message);
    }
    g_clear_error(&ctx->err);
    return false;
}

VcFeConfig
vc_ctx_config(const VcCtx *ctx)
{
    return ctx->base;
}

VcFrontend *
vc_ctx_connect(VcCtx *ctx, const VcFeConfig *cfg)
{
    int fd;

    g_clear_pointer(&ctx->fe, vc_fe_free);
    fd = ctx->ops->connect(ctx->runner, &ctx->err);
    if (fd < 0) {
        vc_ctx_try(ctx, false);
        return NULL;
    }
    ctx->fe = vc_fe_new(fd, cfg ? cfg : &ctx->base);
    if (ctx->tap) {
        vc_fe_set_tap(ctx->fe, ctx->tap, ctx->tap_opaque);
    }
    if (ctx->vq_tap) {
        vc_fe_set_vq_tap(ctx->fe, ctx->vq_tap, ctx->tap_opaque);
    }
    return ctx->fe;
}

static GString *
bit_names(uint64_t bits, const char *(*name)(unsigned))
{
    GString *s = g_string_new(NULL);

    for (unsigned b = 0; b < 64; b++) {
        if (bits & (1ull << b)) {
            const char *n = name(b);
            if (n) {
                g_string_append_printf(s, "%s%s", s->len ? " " : "", n);
            } else {
                /* Bits 0..23 belong to the device type (virtio 1.x 2.2). */
                g_string_append_printf(s, "%s%s bit %u", s->len ? " " : "",
                                       b < 24 ? "device feature" : "feature", b);
            }
        }
    }
    return s;
}

bool
vc_ctx_handshake(VcCtx *ctx, VcFrontend *fe)
{
    uint64_t miss_f, miss_pf;

    if (!vc_ctx_try(ctx, vc_fe_init(fe, VC_ERR(ctx)))) {
        return false;
    }
    if (fe->cfg.packed && !(vc_fe_negotiate_features(fe) & (1ull << VIRTIO_F_RING_PACKED))) {
        vc_ctx_skip(ctx, (fe->features_offered & (1ull << VIRTIO_F_RING_PACKED))
                             ? "the %s profile does not negotiate VIRTIO_F_RING_PACKED"
                             : "packed-ring run: the daemon does not offer VIRTIO_F_RING_PACKED",
                    fe->profile->name);
        return false;
    }
    miss_f = ctx->check->needs_features & ~fe->features_offered;
    miss_pf = ctx->check->needs_pfeatures & ~fe->pfeatures_offered;
    /* A front end that never negotiates what the rule is about cannot exercise it. */
    if ((ctx->check->needs_features & ~fe->profile->features_mask) ||
        (ctx->check->needs_pfeatures & ~fe->profile->pfeatures_mask)) {
        vc_ctx_skip(ctx, "the %s profile does not negotiate what this check needs",
                    fe->profile->name);
        return false;
    }
    if (miss_f) {
        g_autoptr(GString) s = bit_names(miss_f, vc_feature_name);
        vc_ctx_skip(ctx, "the daemon does not offer %s", s->str);
        return false;
    }
    if (miss_pf) {
        g_autoptr(GString) s = bit_names(miss_pf, vc_pfeature_name);
        vc_ctx_skip(ctx, "the daemon does not offer protocol feature %s", s->str);
        return false;
    }
    return true;
}

VcFrontend *
vc_ctx_open(VcCtx *ctx, const VcFeConfig *cfg, bool start)
{
    VcFrontend *fe = vc_ctx_connect(ctx, cfg);

    if (!fe || !vc_ctx_handshake(ctx, fe)) {
        return NULL;
    }
    if (start && !vc_ctx_try(ctx, vc_fe_start(fe, VC_ERR(ctx)))) {
        return NULL;
    }
    return fe;
}

bool
vc_ctx_settle(VcCtx *ctx, VcFrontend *fe, int ms)
{
    if (!vc_ctx_try(ctx, vc_fe_get_features(fe, NULL, VC_ERR(ctx)))) {
        return false;
    }
    if (ms > 0) {
        vc_fe_service(fe, ms);
    }
    return true;
}

GPid
vc_ctx_daemon_pid(VcCtx *ctx)
{
    VcDaemon *d = ctx->ops->daemon(ctx->runner);

    return d ? vc_daemon_pid(d) : 0;
}

bool
vc_ctx_restart(VcCtx *ctx)
{
    g_clear_pointer(&ctx->fe, vc_fe_free);
    return vc_ctx_try(ctx, ctx->ops->restart(ctx->runner, VC_ERR(ctx)));
}

VcDaemon *
vc_ctx_launch(VcCtx *ctx, VcLaunchMode mode, char *const *extra_args)
{
    return ctx->ops->launch(ctx->runner, mode, extra_args, VC_ERR(ctx));
}

int
vc_ctx_wait_ms(const VcCtx *ctx)
{
    return ctx->base.timeout_ms > 0 ? ctx->base.timeout_ms : VC_FE_DEFAULT_TIMEOUT_MS;
}

bool
vc_ctx_host_event(VcCtx *ctx)
{
    VcDaemon *d = ctx->ops->daemon(ctx->runner);

    if (!ctx->host_event_signal) {
        vc_ctx_skip(ctx, "needs --host-event-signal (a signal that makes the daemon change its "
                    "config host-side)");
        return false;
    }
    if (!d || !vc_daemon_signal(d, ctx->host_event_signal)) {
        vc_ctx_skip(ctx, "the daemon is not a process vhost-conform started");
        return false;
    }
    return true;
}
