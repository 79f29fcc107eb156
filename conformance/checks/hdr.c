/*
 * hdr.c -- framing rules: reply flags, request ids, sizes, segmentation.
 * vhost-user.rst "Header", "Communication"; SPEC-FACTS 2.1 and 7.1.
 */
#include <errno.h>

#include "vc-chk.h"
#include "vc-error.h"

/*
 * A complete QEMU-order session: realize, start, traffic, stop. Errors do
 * not end the check: the observation checks judge every reply that came,
 * and note how far the session got.
 */
static unsigned
observed_session(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_connect(ctx, NULL);
    g_autoptr(VcTraffic) t = NULL;
    g_autoptr(GError) err = NULL;
    bool ok;

    if (!fe) {
        return 0;
    }
    ok = vc_fe_init(fe, &err) && vc_fe_start(fe, &err);
    if (ok && vc_traffic_ops(ctx->device)) {
        t = vc_traffic_new(fe, G_MAXUINT, 4, &err);
        if (t) {
            vc_traffic_post(t, 4);
            vc_vq_notify(t->vq);
            vc_traffic_wait(t, 4, vc_ctx_wait_ms(ctx));
        }
    }
    if (ok) {
        ok = vc_fe_stop(fe, &err);
    }
    if (!ok && err) {
        vc_ctx_note(ctx, "the session ended early (%s)", err->message);
    }
    return (unsigned)(fe->conn->n_recv + (fe->bch ? fe->bch->n_recv : 0));
}

/* Judges every recorded fault that has one of @bits. */
static VcVerdict
judge_faults(VcCtx *ctx, unsigned bits, const char *rule)
{
    unsigned seen = observed_session(ctx);
    VcFrontend *fe = ctx->fe;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    for (guint i = 0; i < vc_fe_obs_count(fe); i++) {
        const VcObs *o = vc_fe_obs(fe, i);
        if ((o->kind == VC_OBS_REPLY_FAULT || o->kind == VC_OBS_BACKEND_FAULT) &&
            (o->faults & bits)) {
            vc_ctx_violation(ctx, "%s%s", o->kind == VC_OBS_BACKEND_FAULT ? "back-end channel: "
                                                                          : "", o->text);
        }
    }
    if (seen == 0 && !ctx->violated) {
        return vc_ctx_skip(ctx, "the daemon sent no message to judge");
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u messages from the daemon %s", seen, rule);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
reply_bit(VcCtx *ctx)
{
    return judge_faults(ctx, VC_MSG_FAULT_REPLY_BIT, "all had the REPLY bit where due");
}

static VcVerdict
version_bits(VcCtx *ctx)
{
    return judge_faults(ctx, VC_MSG_FAULT_VERSION, "all had version 1");
}

static VcVerdict
no_extra_flags(VcCtx *ctx)
{
    return judge_faults(ctx, VC_MSG_FAULT_FLAGS, "had no NEED_REPLY or undefined flag bits");
}

static VcVerdict
reply_id_and_size(VcCtx *ctx)
{
    return judge_faults(ctx, VC_MSG_FAULT_REQUEST | VC_MSG_FAULT_SIZE | VC_MSG_FAULT_FIELD |
                                 VC_MSG_FAULT_FDS | VC_MSG_FAULT_UNKNOWN,
                        "named the request they answer, with its exact size and fds");
}

/* True when the connection still answers: a GET_FEATURES round trip. */
static bool
still_open(VcFrontend *fe)
{
    g_autoptr(GError) err = NULL;

    return vc_fe_get_features(fe, NULL, &err);
}

static VcVerdict
no_close_on_unusual(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    g_autoptr(GError) err = NULL;
    uint64_t all;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* vhost-user.rst "Communication": legal but unusual traffic is no reason to disconnect. */
    if (!still_open(fe) || !still_open(fe)) {
        vc_ctx_violation(ctx, "the daemon closed the connection after a repeated GET_FEATURES");
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_set_vring_num(fe, 0, &err) && !g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK)) {
        vc_ctx_violation(ctx, "SET_VRING_NUM before any memory table: %s", err->message);
        return vc_ctx_done(ctx);
    }
    g_clear_error(&err);
    if (!still_open(fe)) {
        vc_ctx_violation(ctx, "the daemon closed the connection after SET_VRING_NUM arrived "
                         "before any memory table");
        return vc_ctx_done(ctx);
    }
    all = vc_fe_negotiate_features(fe);
    if (!vc_fe_set_features(fe, all & ((1ull << VHOST_USER_F_PROTOCOL_FEATURES) |
                                       (1ull << 32)), &err) ||
        !vc_fe_set_features(fe, all, &err) || !still_open(fe)) {
        vc_ctx_violation(ctx, "the daemon closed the connection after a SET_FEATURES with "
                         "fewer bits followed by the full set%s%s", err ? ": " : "",
                         err ? err->message : "");
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "repeated GET_FEATURES, early SET_VRING_NUM and a shrinking SET_FEATURES "
                "kept the connection open");
    return vc_ctx_done(ctx);
}

static VcVerdict
payload_in_later_segment(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    static const VcStep before[] = {VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK,
                                    VC_STEP_SET_VRING_CALL, VC_STEP_END};
    static const VcStep driver_ok[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autoptr(VcTraffic) t = NULL;
    unsigned n = 0;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, before, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_setup_memory(fe, VC_ERR(ctx)));
    /* SET_MEM_TABLE: the header and the fds first, the regions 50 ms later. */
    vc_msg_init(req, VHOST_USER_SET_MEM_TABLE, vc_fe_want_ack(fe));
    for (unsigned i = 0; i < fe->gm->n_regions; i++) {
        vc_gmem_region_desc(fe->gm, i, &req->payload.memory.regions[i]);
        req->fds[i] = vc_gmem_region_fd(fe->gm, i);
        fe->region_published[i] = true;
    }
    req->payload.memory.nregions = req->nfds = fe->gm->n_regions;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request_split(fe, req, sizeof(VhostUserHeader), 50, NULL, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "SET_MEM_TABLE whose payload came 50 ms after its header: %s",
                         ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    for (unsigned q = 0; q < fe->num_queues; q++) {
        VC_TRY(ctx, vc_fe_setup_vring(fe, q, true, VC_ERR(ctx)));
        if (vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES)) {
            VC_TRY(ctx, vc_fe_set_vring_enable(fe, q, true, VC_ERR(ctx)));
        }
    }
    /* QEMU ends every start with DRIVER_OK when STATUS is negotiated; DPDK waits for it. */
    VC_TRY(ctx, vc_fe_run_steps(fe, driver_ok, VC_ERR(ctx)));
    if (vc_traffic_ops(ctx->device)) {
        t = vc_traffic_new(fe, G_MAXUINT, 4, VC_ERR(ctx));
        VC_TRY(ctx, t != NULL);
        n = vc_chk_round(ctx, t, 4);
        if (n == 0 && t->ops->needs_source) {
            return vc_ctx_skip(ctx, "inconclusive: nothing completed, and %s requests complete "
                               "only when the back end has traffic for the guest", ctx->device);
        }
        vc_expect(ctx, n == 4, "after a SET_MEM_TABLE sent in two segments, %u of 4 requests "
                  "completed: the table did not take effect", n);
    } else if (!vc_ctx_settle(ctx, fe, 0)) {
        return vc_ctx_done(ctx);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a SET_MEM_TABLE split after its header took effect%s",
                    t ? " (4 requests completed through it)" : "");
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-HDR-01", "vhost-user.rst#header", VC_MUST, 0, 0, 0,
     "every reply has the REPLY bit set", "reply-bit-clear", reply_bit},
    {"VU-HDR-02", "vhost-user.rst#header", VC_MUST, 0, 0, 0,
     "every message from the back end carries version 1", "reply-version-2", version_bits},
    {"VU-HDR-03", "vhost-user.rst#header", VC_MUST, 0, 0, 0,
     "replies leave NEED_REPLY and undefined flag bits clear (flags == 0x5)", "reply-extra-flags",
     no_extra_flags},
    {"VU-HDR-04", "vhost-user.rst#communication", VC_MUST, 0, 0, 0,
     "a reply names the request it answers and has that reply's exact size and fds",
     "reply-wrong-size", reply_id_and_size},
    {"VU-HDR-05", "vhost-user.rst#communication", VC_SHOULD, 0, 0, 0,
     "legal but unusual traffic does not make the back end disconnect", "close-on-early-vring",
     no_close_on_unusual},
    {"VU-HDR-06", "vhost-user.rst#communication", VC_MUST, 0, 0, 0,
     "a message whose payload arrives in a later segment is still handled", "needs-whole-message",
     payload_in_later_segment},
};

const VcCheckArea vc_area_hdr = {"hdr", checks, G_N_ELEMENTS(checks)};
