/*
 * reply-ack.c -- VHOST_USER_PROTOCOL_F_REPLY_ACK. vhost-user.rst "REPLY_ACK"
 * and "Communication"; SPEC-FACTS 2.4 and 7.15.
 */
#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

static VcVerdict
every_need_reply_answered(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_connect(ctx, NULL);
    g_autoptr(VcTraffic) t = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* NEED_REPLY on every ack-type request of a whole session, not only where QEMU sets it. */
    fe->ack_all = true;
    if (!vc_ctx_handshake(ctx, fe)) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated");
    }
    /* Realize's SET_OWNER already carried NEED_REPLY; SET_PROTOCOL_FEATURES now can too. */
    VC_TRY(ctx, vc_fe_set_protocol_features(fe, fe->pfeatures, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_start(fe, VC_ERR(ctx)));
    if (vc_traffic_ops(ctx->device)) {
        t = vc_traffic_new(fe, G_MAXUINT, 4, VC_ERR(ctx));
        VC_TRY(ctx, t != NULL);
        vc_chk_round(ctx, t, 4);
    }
    VC_TRY(ctx, vc_fe_stop(fe, VC_ERR(ctx)));
    vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " requests with NEED_REPLY, all answered",
                fe->conn->n_sent);
    return vc_ctx_done(ctx);
}

/* Sends @req with NEED_REPLY and says whether it was refused. */
static bool
refused(VcFrontend *fe, VcMsg *req, GString *how)
{
    g_autoptr(GError) err = NULL;

    req->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
    if (vc_fe_request(fe, req, NULL, &err)) {
        return false;
    }
    g_string_assign(how, err->message);
    return g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK) ||
           g_error_matches(err, VC_SIM_ERROR, VC_ERROR_CLOSED);
}

static VcVerdict
failure_acked_non_zero(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    static const VcStep mem[] = {VC_STEP_SET_FEATURES, VC_STEP_MEM, VC_STEP_END};
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autoptr(GString) how = g_string_new(NULL);
    static const uint32_t bad_nums[] = {0, 65536};

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated");
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, mem, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_create_queue(fe, 0, VC_ERR(ctx)));
    for (unsigned i = 0; i < G_N_ELEMENTS(bad_nums); i++) {
        vc_msg_init(req, VHOST_USER_SET_VRING_NUM, 0);
        req->payload.state.index = 0;
        req->payload.state.num = bad_nums[i];
        vc_msg_set_size(VC_CHAN_MAIN, req);
        if (!refused(fe, req, how)) {
            vc_ctx_violation(ctx, "SET_VRING_NUM with num %u (not a ring size) was acked 0%s%s",
                             bad_nums[i], how->len ? ": " : "", how->str);
            return vc_ctx_done(ctx);
        }
    }
    vc_msg_init(req, VHOST_USER_SET_VRING_ADDR, 0);
    vc_vq_addr(fe->q[0].vq, &req->payload.addr);
    /* A descriptor table far outside every region. */
    req->payload.addr.desc_user_addr = 0x10000000000ull;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!refused(fe, req, how)) {
        vc_ctx_violation(ctx, "SET_VRING_ADDR with a descriptor table outside guest memory was "
                         "acked 0%s%s", how->len ? ": " : "", how->str);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "SET_VRING_NUM 0 and 65536 and an unmapped SET_VRING_ADDR were refused");
    return vc_ctx_done(ctx);
}

static VcVerdict
exactly_one_reply(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    g_autofree VcMsg *stray = g_new0(VcMsg, 1);
    static const uint32_t asks[] = {VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES,
                                    VHOST_USER_GET_QUEUE_NUM};

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(asks); i++) {
        if (asks[i] == VHOST_USER_GET_QUEUE_NUM && !vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
            continue;
        }
        /* The ack flag makes no difference to a request that always answers. */
        VC_TRY(ctx, vc_fe_simple(fe, asks[i], 0, true, NULL, VC_ERR(ctx)));
        if (!vc_fe_expect_silence(fe, vc_chk_quiet_ms(), stray)) {
            vc_ctx_violation(ctx, "%s with NEED_REPLY got a second message: request %u flags 0x%x "
                             "size %u", vc_msg_short_name(VC_CHAN_MAIN, asks[i]),
                             stray->hdr.request, stray->hdr.flags, stray->hdr.size);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "GET_* requests with NEED_REPLY got one reply each");
    return vc_ctx_done(ctx);
}

static VcVerdict
no_ack_without_negotiation(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe;
    g_autofree VcMsg *stray = g_new0(VcMsg, 1);

    /* Do not negotiate REPLY_ACK, then set NEED_REPLY anyway. */
    cfg.pfeatures_mask |= VC_PF(REPLY_ACK);
    fe = vc_ctx_open(ctx, &cfg, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, 0, fe->cfg.ring_size, false, NULL,
                                  VC_ERR(ctx)));
    {
        g_autofree VcMsg *req = g_new(VcMsg, 1);
        vc_msg_init(req, VHOST_USER_SET_VRING_BASE, VHOST_USER_NEED_REPLY_MASK);
        req->payload.state.index = 0;
        req->payload.state.num = 0;
        vc_msg_set_size(VC_CHAN_MAIN, req);
        VC_TRY(ctx, vc_fe_request(fe, req, NULL, VC_ERR(ctx)));
    }
    if (!vc_fe_expect_silence(fe, vc_chk_quiet_ms(), stray)) {
        vc_ctx_violation(ctx, "without REPLY_ACK negotiated, SET_VRING_BASE with NEED_REPLY was "
                         "answered (request %u flags 0x%x size %u): QEMU would read it as the "
                         "reply to its next request", stray->hdr.request, stray->hdr.flags,
                         stray->hdr.size);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "no unsolicited ack");
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-RA-01", "vhost-user.rst#reply-ack", VC_MUST, VC_F_PROTO, VC_PF(REPLY_ACK), 0,
     "with REPLY_ACK every request carrying NEED_REPLY is answered", "no-ack-set-owner",
     every_need_reply_answered},
    {"VU-RA-02", "vhost-user.rst#reply-ack", VC_SHOULD, VC_F_PROTO, VC_PF(REPLY_ACK), 0,
     "a request that fails is acked with a non-zero u64", "ack-always-zero",
     failure_acked_non_zero},
    {"VU-RA-03", "vhost-user.rst#reply-ack", VC_MUST, VC_F_PROTO, VC_PF(REPLY_ACK), 0,
     "a request that always answers gets exactly one reply, NEED_REPLY or not", "double-reply",
     exactly_one_reply},
    {"VU-RA-04", "vhost-user.rst#communication", VC_SHOULD, 0, 0, 0,
     "without REPLY_ACK negotiated no ack is sent for requests that have no reply",
     "ack-without-negotiation", no_ack_without_negotiation},
};

const VcCheckArea vc_area_reply_ack = {"reply-ack", checks, G_N_ELEMENTS(checks)};
