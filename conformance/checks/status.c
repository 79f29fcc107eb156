/*
 * status.c -- device status, resets and the back-end channel handshake.
 * vhost-user.rst SET_STATUS, GET_STATUS, RESET_DEVICE, SET_BACKEND_REQ_FD;
 * SPEC-FACTS 7.16 and 7.19.
 */
#include <linux/virtio_config.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8

static VcVerdict
status_round_trip(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    static const VcStep feat[] = {VC_STEP_SET_FEATURES, VC_STEP_END};
    const uint8_t want = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                         VIRTIO_CONFIG_S_FEATURES_OK;
    uint8_t st = 0;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
        return vc_ctx_skip(ctx, "STATUS was not negotiated");
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, feat, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_set_status(fe, want, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_get_status(fe, &st, VC_ERR(ctx)));
    /* A device may refuse the features by clearing FEATURES_OK; anything else must stick. */
    if (!vc_expect(ctx, st == want || st == (want & ~VIRTIO_CONFIG_S_FEATURES_OK),
                   "GET_STATUS answered 0x%x after SET_STATUS 0x%x", st, want)) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_status(fe, want | VIRTIO_CONFIG_S_DRIVER_OK, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_get_status(fe, &st, VC_ERR(ctx)));
    vc_expect(ctx, st & VIRTIO_CONFIG_S_DRIVER_OK, "GET_STATUS answered 0x%x after SET_STATUS "
              "with DRIVER_OK", st);
    VC_TRY(ctx, vc_fe_set_status(fe, 0, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_get_status(fe, &st, VC_ERR(ctx)));
    vc_expect(ctx, st == 0, "GET_STATUS answered 0x%x after SET_STATUS 0", st);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "status 0x%x, then DRIVER_OK, then 0 read back as written", want);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
reset_disables_rings(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    g_autoptr(GString) what = g_string_new(NULL);
    uint16_t used;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_RESET_DEVICE)) {
        return vc_ctx_skip(ctx, "RESET_DEVICE was not negotiated");
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work before the reset");
    }
    VC_TRY(ctx, vc_fe_simple(t->fe, VHOST_USER_RESET_DEVICE, 0, true, NULL, VC_ERR(ctx)));
    used = vc_vq_used_idx(t->vq);
    vc_traffic_post(t, N);
    vc_vq_kick(t->vq);
    if (!vc_chk_quiet(ctx, t, used, what) && !vc_ctx_failed(ctx)) {
        vc_ctx_violation(ctx, "after RESET_DEVICE, a kick with new buffers: %s", what->str);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "after RESET_DEVICE the ring did nothing on a kick");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
reset_restores_initial_state(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    static const VcStep again[] = {VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK,
                                   VC_STEP_SET_VRING_CALL, VC_STEP_MEM, VC_STEP_END};
    static const VcStep driver_ok[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};
    VcFrontend *fe;
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_RESET_DEVICE)) {
        return vc_ctx_skip(ctx, "RESET_DEVICE was not negotiated");
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work before the reset");
    }
    VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_RESET_DEVICE, 0, true, NULL, VC_ERR(ctx)));
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
        uint8_t st = 0xff;
        VC_TRY(ctx, vc_fe_get_status(fe, &st, VC_ERR(ctx)));
        if (!vc_expect(ctx, st == 0, "GET_STATUS answered 0x%x after RESET_DEVICE, want 0", st)) {
            return vc_ctx_done(ctx);
        }
    }
    /* Start again on the same connection, without SET_OWNER: ownership survives a reset. */
    VC_TRY(ctx, vc_fe_run_steps(fe, again, VC_ERR(ctx)));
    if (!vc_chk_restart_ring(ctx, t, vc_chk_base_at(t->vq, 0))) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, driver_ok, VC_ERR(ctx)));
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "after RESET_DEVICE and a new start without SET_OWNER, %u of %u "
              "requests completed", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "status 0 after reset; restarted without SET_OWNER and ran");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
backend_req_fd_acked(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe;

    /* Realize already asks for the channel with NEED_REPLY; ask once more on its own. */
    fe = vc_ctx_connect(ctx, &cfg);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_ctx_handshake(ctx, fe)) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated: the ack cannot be observed");
    }
    if (!vc_fe_set_backend_req_fd(fe, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "SET_BACKEND_REQ_FD: %s", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "SET_BACKEND_REQ_FD acked 0");
    return vc_ctx_done(ctx);
}

static VcVerdict
reset_owner_keeps_state(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    unsigned q, got;
    uint32_t base;
    g_autoptr(GError) err = NULL;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    q = vc_chk_queue(t);
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work");
    }
    /* vhost-user.rst RESET_OWNER (deprecated): ignore it, or only disable the rings. */
    if (!vc_fe_simple(t->fe, VHOST_USER_RESET_OWNER, 0, true, NULL, &err) &&
        !g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK)) {
        vc_ctx_violation(ctx, "RESET_OWNER: %s", err->message);
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, q, &base, VC_ERR(ctx)));
    if (!vc_chk_restart_ring(ctx, t, base)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "after RESET_OWNER, enabling and kicking the ring again (no new "
              "handshake): %u of %u requests completed: features or memory were thrown away",
              got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "after RESET_OWNER the ring ran again with the old features and memory");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
status_zero_then_restart(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    static const VcStep again[] = {VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK,
                                   VC_STEP_SET_VRING_CALL, VC_STEP_MEM, VC_STEP_END};
    static const VcStep driver_ok[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};
    const unsigned rounds = 20;
    VcFrontend *fe;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
        return vc_ctx_skip(ctx, "STATUS was not negotiated");
    }
    for (unsigned i = 0; i < rounds; i++) {
        uint32_t base;
        unsigned got = vc_chk_round(ctx, t, 4);
        if (got != 4) {
            vc_ctx_violation(ctx, "start %u after SET_STATUS 0: %u of 4 requests completed", i,
                             got);
            return vc_ctx_done(ctx);
        }
        /* QEMU's stop: status 0, disable, GET_VRING_BASE; then a full start again. */
        VC_TRY(ctx, vc_fe_set_status(fe, 0, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_get_vring_base(fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_run_steps(fe, again, VC_ERR(ctx)));
        if (!vc_chk_restart_ring(ctx, t, base)) {
            return vc_ctx_done(ctx);
        }
        VC_TRY(ctx, vc_fe_run_steps(fe, driver_ok, VC_ERR(ctx)));
    }
    vc_ctx_note(ctx, "%u stop (SET_STATUS 0) and start cycles, each with traffic", rounds);
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-STS-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(STATUS),
     0, "GET_STATUS reflects the status set with SET_STATUS", "status-not-stored",
     status_round_trip},
    {"VU-RST-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(RESET_DEVICE), VC_CHECK_DATAPATH, "after RESET_DEVICE every ring is stopped and "
     "disabled", "reset-keeps-rings", reset_disables_rings},
    {"VU-RST-03", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(RESET_DEVICE), VC_CHECK_DATAPATH, "RESET_DEVICE returns the device to its initial "
     "state (status 0) and keeps the connection and ownership", "reset-keeps-status",
     reset_restores_initial_state},
    {"VU-RST-01", "vhost-user.rst#front-end-message-types", VC_SHOULD, 0, 0, VC_CHECK_DATAPATH,
     "RESET_OWNER keeps features and memory: the ring runs again without a new handshake",
     "reset-owner-drops-state", reset_owner_keeps_state},
    {"VU-STS-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(STATUS),
     VC_CHECK_DATAPATH, "after SET_STATUS 0 the device starts again, stop after stop",
     "status-zero-breaks", status_zero_then_restart},
    {"VU-BCH-04", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK), 0,
     "SET_BACKEND_REQ_FD is acked with 0 when it succeeds", "nack-backend-req",
     backend_req_fd_acked},
};

const VcCheckArea vc_area_status = {"status", checks, G_N_ELEMENTS(checks)};
