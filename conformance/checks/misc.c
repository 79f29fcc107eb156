/*
 * misc.c -- shared objects and the net-specific requests. vhost-user.rst
 * GET_SHARED_OBJECT, SEND_RARP, NET_SET_MTU; SPEC-FACTS 7.20 and 7.21.
 */
#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

static VcVerdict
unknown_shared_object(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe;
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);

    /* QEMU 7.2 does not know SHARED_OBJECT (bit 18): negotiate it as QEMU 10 does. */
    cfg.profile = vc_profile_find("qemu-10");
    fe = vc_ctx_open(ctx, &cfg, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_SHARED_OBJECT)) {
        return vc_ctx_skip(ctx, "SHARED_OBJECT was not negotiated");
    }
    vc_msg_init(req, VHOST_USER_GET_SHARED_OBJECT, 0);
    for (unsigned i = 0; i < 16; i++) {
        req->payload.object.uuid[i] = (uint8_t)g_random_int();
    }
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "GET_SHARED_OBJECT for an unknown UUID: %s", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    if (!vc_expect(ctx, reply->nfds == 0, "GET_SHARED_OBJECT for a UUID nobody exported came "
                   "back with an fd")) {
        vc_msg_close_fds(reply);
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_get_features(fe, NULL, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "after GET_SHARED_OBJECT for an unknown UUID: %s",
                         ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "an unknown UUID got a reply without an fd; the connection stayed");
    return vc_ctx_done(ctx);
}

static VcVerdict
mtu_validated(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    static const uint64_t bad[] = {0, 67, 70000};
    g_autoptr(GError) err = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_NET_MTU) || !vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "NET_MTU and REPLY_ACK are not both negotiated");
    }
    /* vhost-user.rst NET_SET_MTU: the ack is 0 for a valid MTU, non-zero otherwise. */
    if (!vc_fe_simple(fe, VHOST_USER_NET_SET_MTU, 1500, true, NULL, &err)) {
        vc_ctx_violation(ctx, "NET_SET_MTU 1500: %s", err->message);
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        if (vc_fe_simple(fe, VHOST_USER_NET_SET_MTU, bad[i], true, NULL, &err)) {
            vc_ctx_violation(ctx, "NET_SET_MTU %" G_GUINT64_FORMAT " (not a valid MTU) was acked 0",
                             bad[i]);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "1500 acked 0; 0, 67 and 70000 refused");
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-SO-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(SHARED_OBJECT), 0,
     "GET_SHARED_OBJECT for an unknown UUID is answered without an fd, no disconnect",
     "shared-object-close", unknown_shared_object},
    {"VU-NET-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(NET_MTU) | VC_PF(REPLY_ACK), 0,
     "NET_SET_MTU acks 0 for a valid MTU and non-zero for an invalid one", "net:mtu-accept-any",
     mtu_validated},
};

const VcCheckArea vc_area_misc = {"misc", checks, G_N_ELEMENTS(checks)};
