/*
 * neg.c -- feature negotiation. vhost-user.rst "Feature negotiation",
 * "Protocol features", "Multiple queue support"; SPEC-FACTS 7.3.
 */
#include <errno.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

static VcVerdict
get_features_any_time(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    VcFrontend *fe;
    uint64_t first, again;

    /* The profile's realize already asked twice (before and after SET_OWNER). */
    fe = vc_ctx_open(ctx, &cfg, true);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    first = fe->features_offered;
    if (vc_traffic_ops(ctx->device)) {
        /* Start the ring for real: a kick and completed requests. */
        t = vc_traffic_new(fe, G_MAXUINT, 4, VC_ERR(ctx));
        VC_TRY(ctx, t != NULL);
        vc_chk_round(ctx, t, 4);
    }
    for (int i = 0; i < 2; i++) {
        if (!vc_fe_get_features(fe, &again, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_FEATURES after the device started: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        vc_expect(ctx, again == first, "GET_FEATURES answered 0x%" G_GINT64_MODIFIER "x after "
                  "start, 0x%" G_GINT64_MODIFIER "x before", again, first);
    }
    vc_ctx_note(ctx, "answered before SET_OWNER, after it and twice after the device started");
    return vc_ctx_done(ctx);
}

static VcVerdict
protocol_features_before_set_features(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_connect(ctx, NULL);
    uint64_t qn;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* QEMU's realize: protocol features, queue count, channel and owner, no SET_FEATURES. */
    if (!vc_ctx_handshake(ctx, fe)) {
        return vc_ctx_done(ctx);
    }
    if (fe->features_set) {
        return vc_ctx_error(ctx, "the profile sent SET_FEATURES during realize");
    }
    if (vc_chk_has_reply_ack(fe)) {
        /* REPLY_ACK in force before SET_FEATURES: a NEED_REPLY request must be acked now. */
        if (!vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, 0, fe->cfg.ring_size, true, NULL,
                               VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "REPLY_ACK set by SET_PROTOCOL_FEATURES was not in force before "
                             "SET_FEATURES: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        vc_ctx_note(ctx, "REPLY_ACK acked before SET_FEATURES");
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
        if (!vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &qn, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_QUEUE_NUM before SET_FEATURES: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        vc_ctx_note(ctx, "GET_QUEUE_NUM answered before SET_FEATURES");
    }
    if (!ctx->note->len) {
        vc_ctx_note(ctx, "GET/SET_PROTOCOL_FEATURES accepted before SET_FEATURES");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
get_protocol_features_always(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    uint64_t v;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* Realize asked once; ask after SET_PROTOCOL_FEATURES and once more. */
    for (int i = 0; i < 2; i++) {
        if (!vc_fe_get_protocol_features(fe, &v, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_PROTOCOL_FEATURES asked again: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "answered three times (0x%" G_GINT64_MODIFIER "x)", v);
    return vc_ctx_done(ctx);
}

static VcVerdict
offers_mq(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, fe->pfeatures_offered & VC_PF(MQ),
              "VHOST_USER_PROTOCOL_F_MQ is not offered (protocol features 0x%"
              G_GINT64_MODIFIER "x)", fe->pfeatures_offered);
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_base_needs_inflight(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    uint64_t pf;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    pf = fe->pfeatures_offered;
    vc_expect(ctx, !(pf & VC_PF(GET_VRING_BASE_INFLIGHT)) || (pf & VC_PF(INFLIGHT_SHMFD)),
              "GET_VRING_BASE_INFLIGHT (bit 20) is offered without INFLIGHT_SHMFD (bit 12)");
    return vc_ctx_done(ctx);
}

/* --- VU-NEG-07: every offered protocol feature is exercised once ---------------------------- */

static bool
exercise(VcCtx *ctx, VcFrontend *fe, unsigned bit, GString *done, GString *skipped)
{
    g_autoptr(GError) err = NULL;
    const char *name = vc_pfeature_name(bit);
    uint64_t v = 0;
    bool ok = true;

    switch (bit) {
    case VHOST_USER_PROTOCOL_F_MQ:
        ok = vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &v, &err);
        if (ok && v == 0) {
            return vc_ctx_violation(ctx, "MQ offered but GET_QUEUE_NUM answers 0");
        }
        break;
    case VHOST_USER_PROTOCOL_F_REPLY_ACK:
        ok = vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, 0, fe->cfg.ring_size, true, NULL,
                               &err);
        break;
    case VHOST_USER_PROTOCOL_F_BACKEND_REQ:
        ok = vc_fe_set_backend_req_fd(fe, &err);
        break;
    case VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS:
        ok = vc_fe_simple(fe, VHOST_USER_GET_MAX_MEM_SLOTS, 0, false, &v, &err);
        if (ok && v == 0) {
            return vc_ctx_violation(ctx, "CONFIGURE_MEM_SLOTS offered but GET_MAX_MEM_SLOTS "
                                    "answers 0");
        }
        break;
    case VHOST_USER_PROTOCOL_F_STATUS: {
        uint8_t st = 0;
        ok = vc_fe_set_status(fe, 0x3, &err) && vc_fe_get_status(fe, &st, &err);
        if (ok && st != 0x3) {
            return vc_ctx_violation(ctx, "STATUS offered but GET_STATUS answers 0x%x after "
                                    "SET_STATUS 0x3", st);
        }
        ok = ok && vc_fe_set_status(fe, 0, &err);
        break;
    }
    case VHOST_USER_PROTOCOL_F_CONFIG: {
        g_autofree VcMsg *req = g_new(VcMsg, 1);
        g_autofree VcMsg *reply = g_new(VcMsg, 1);
        uint32_t len = fe->cfg.config_len ? MIN(fe->cfg.config_len, 8u) : 4;
        vc_msg_init(req, VHOST_USER_GET_CONFIG, 0);
        req->payload.config.size = len;
        vc_msg_set_size(VC_CHAN_MAIN, req);
        ok = vc_fe_request(fe, req, reply, &err);
        if (ok && reply->hdr.size == 0) {
            return vc_ctx_violation(ctx, "CONFIG offered but GET_CONFIG of %u bytes at offset 0 "
                                    "answers with an empty payload (error)", len);
        }
        break;
    }
    case VHOST_USER_PROTOCOL_F_RESET_DEVICE:
        ok = vc_fe_simple(fe, VHOST_USER_RESET_DEVICE, 0, true, NULL, &err);
        break;
    default:
        g_string_append_printf(skipped, "%s%s", skipped->len ? " " : "", name ? name : "?");
        return true;
    }
    if (!ok) {
        return vc_ctx_violation(ctx, "%s offered but its request failed: %s", name,
                                err ? err->message : "?");
    }
    g_string_append_printf(done, "%s%s", done->len ? " " : "", name);
    return true;
}

static VcVerdict
offers_only_implemented(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(GString) done = g_string_new(NULL);
    g_autoptr(GString) skipped = g_string_new(NULL);
    VcFrontend *fe;

    /* Ack everything offered so that every gated request is legal. */
    cfg.pfeatures_mask = 0;
    if (!cfg.config_len) {
        cfg.config_len = 4;
    }
    fe = vc_ctx_open(ctx, &cfg, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    for (unsigned bit = 0; bit < 64; bit++) {
        if ((fe->pfeatures & (1ull << bit)) && !exercise(ctx, fe, bit, done, skipped)) {
            break;
        }
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "exercised: %s%s%s", done->len ? done->str : "none",
                    skipped->len ? "; offered, not exercised here: " : "",
                    skipped->len ? skipped->str : "");
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-NEG-01", "vhost-user.rst#communication", VC_MUST, 0, 0, 0,
     "GET_FEATURES is answered at any time: before SET_OWNER, repeatedly, after start",
     "get-features-once", get_features_any_time},
    {"VU-NEG-02", "vhost-user.rst#protocol-features", VC_MUST, VC_F_PROTO, 0, 0,
     "protocol features are in force before any SET_FEATURES (QEMU's realize order)",
     "pfeat-after-features", protocol_features_before_set_features},
    {"VU-NEG-03", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, 0, 0,
     "GET_PROTOCOL_FEATURES is always answered with a u64 when bit 30 is offered",
     "get-pfeat-once", get_protocol_features_always},
    {"VU-NEG-04", "vhost-user.rst#multiple-queue-support", VC_SHOULD, VC_F_PROTO, 0, 0,
     "back ends offer PROTOCOL_F_MQ even with a fixed queue count", "no-mq", offers_mq},
    {"VU-NEG-06", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, 0, 0,
     "GET_VRING_BASE_INFLIGHT is never offered without INFLIGHT_SHMFD", "offers-inflight-base",
     inflight_base_needs_inflight},
    {"VU-NEG-07", "vhost-user.rst#protocol-features", VC_MUST, VC_F_PROTO, 0, 0,
     "every offered protocol feature's requests work (offered means implemented)",
     "offers-config", offers_only_implemented},
};

const VcCheckArea vc_area_neg = {"neg", checks, G_N_ELEMENTS(checks)};
