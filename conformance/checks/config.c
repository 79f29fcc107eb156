/*
 * config.c -- the device config space over vhost-user. vhost-user.rst
 * GET_CONFIG, SET_CONFIG, BACKEND_CONFIG_CHANGE_MSG; SPEC-FACTS 7.14.
 */
#include <string.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

/* A connection with CONFIG negotiated (realize done); NULL with the verdict set. */
static VcFrontend *
with_config(VcCtx *ctx, VcFeConfig *cfg)
{
    VcFrontend *fe;

    if (!cfg->config_len) {
        /* The device model does not know a config space: read a little of it anyway. */
        cfg->config_len = 8;
    }
    fe = vc_ctx_open(ctx, cfg, false);
    if (fe && !vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG)) {
        vc_ctx_skip(ctx, "CONFIG was not negotiated");
        return NULL;
    }
    return fe;
}

static VcVerdict
reply_same_size(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = with_config(ctx, &cfg);
    uint8_t buf[VHOST_USER_MAX_CONFIG_SIZE];
    uint32_t sizes[3] = {1, 8, cfg.config_len};

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        uint32_t got;
        /* The front end treats any other size as a protocol error (VU-HDR-04 records it). */
        if (!vc_fe_get_config(fe, 0, sizes[i], buf, &got, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_CONFIG of %u bytes at offset 0: %s", sizes[i],
                             ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        if (!vc_expect(ctx, got == sizes[i], "GET_CONFIG of %u bytes at offset 0 answered %u "
                       "bytes", sizes[i], got)) {
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "GET_CONFIG of 1, 8 and %u bytes answered with exactly that many",
                cfg.config_len);
    return vc_ctx_done(ctx);
}

static VcVerdict
error_is_empty_payload(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = with_config(ctx, &cfg);
    uint32_t got = 1;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* Far past any config space: the only legal answer is an empty payload. */
    if (!vc_fe_get_config(fe, 4000, 256, NULL, &got, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "GET_CONFIG of 256 bytes at offset 4000: %s (an error is a reply "
                         "with an empty payload)", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    if (!vc_expect(ctx, got == 0, "GET_CONFIG of 256 bytes at offset 4000 was answered with data")) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_get_features(fe, NULL, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "after a failed GET_CONFIG the connection is unusable: %s",
                         ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "an impossible GET_CONFIG got an empty payload; the connection stayed");
    return vc_ctx_done(ctx);
}

static VcVerdict
offset_counts_from_zero(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = with_config(ctx, &cfg);
    uint8_t whole[8], part[4];
    uint32_t got, got2;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (cfg.config_len < 8) {
        return vc_ctx_skip(ctx, "the config space is shorter than 8 bytes");
    }
    /* QEMU counts the offset from the device-specific config space, starting at 0. */
    VC_TRY(ctx, vc_fe_get_config(fe, 0, 8, whole, &got, VC_ERR(ctx)));
    if (!vc_expect(ctx, got == 8, "GET_CONFIG at offset 0 was refused (is offset 0x100 expected? "
                   "QEMU sends 0 for the first byte)")) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_get_config(fe, 4, 4, part, &got2, VC_ERR(ctx)));
    vc_expect(ctx, got2 == 4 && memcmp(part, whole + 4, 4) == 0, "GET_CONFIG at offset 4 did not "
              "answer bytes 4..7 of the config space");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "offset 0 is the first byte; offset 4 agrees with it");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
set_config_flags_checked(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = with_config(ctx, &cfg);
    uint8_t cur[8];
    uint32_t got;
    g_autoptr(GError) err = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated: a refusal cannot be seen");
    }
    VC_TRY(ctx, vc_fe_get_config(fe, 0, MIN(cfg.config_len, 8u), cur, &got, VC_ERR(ctx)));
    /* The same bytes written back with a flags value the spec does not define. */
    if (vc_fe_set_config(fe, 0, got, 7, cur, &err)) {
        vc_ctx_violation(ctx, "SET_CONFIG with flags 7 (undefined) was acked 0");
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "SET_CONFIG with undefined flags refused (%s)", err->message);
    return vc_ctx_done(ctx);
}

static VcVerdict
read_only_not_writable(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = with_config(ctx, &cfg);
    uint8_t cap[8], want[8], after[8];
    uint32_t got;
    g_autoptr(GError) err = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_has_reply_ack(fe)) {
        return vc_ctx_skip(ctx, "REPLY_ACK was not negotiated: a refusal cannot be seen");
    }
    /* virtio-blk: capacity (bytes 0..7 of struct virtio_blk_config) is read-only. */
    VC_TRY(ctx, vc_fe_get_config(fe, 0, 8, cap, &got, VC_ERR(ctx)));
    memcpy(want, cap, 8);
    want[0] ^= 0x08;
    if (vc_fe_set_config(fe, 0, 8, VHOST_SET_CONFIG_TYPE_FRONTEND, want, &err)) {
        vc_ctx_violation(ctx, "SET_CONFIG (flags 0, the front end) writing the read-only capacity "
                         "was acked 0");
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_get_config(fe, 0, 8, after, &got, VC_ERR(ctx)));
    vc_expect(ctx, memcmp(after, cap, 8) == 0, "the refused SET_CONFIG changed the capacity");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a write of the read-only capacity was refused and changed nothing");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
config_change_only_with_config(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;

    /* BACKEND_REQ without CONFIG: a resize must not produce BACKEND_CONFIG_CHANGE_MSG. */
    cfg.pfeatures_mask |= VC_PF(CONFIG);
    t = vc_chk_open(ctx, &cfg, 4);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->fe->bch) {
        return vc_ctx_skip(ctx, "no back-end channel was set up");
    }
    vc_chk_round(ctx, t, 4);
    if (!vc_ctx_host_event(ctx)) {
        return vc_ctx_done(ctx);
    }
    vc_fe_service(t->fe, 2 * vc_chk_quiet_ms());
    vc_chk_round(ctx, t, 4);
    for (guint i = 0; i < vc_fe_obs_count(t->fe); i++) {
        const VcObs *o = vc_fe_obs(t->fe, i);
        if ((o->kind == VC_OBS_BACKEND_MSG || o->kind == VC_OBS_BACKEND_FAULT) &&
            o->request == VHOST_USER_BACKEND_CONFIG_CHANGE_MSG) {
            vc_ctx_violation(ctx, "BACKEND_CONFIG_CHANGE_MSG was sent although CONFIG was not "
                             "negotiated");
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "no config change message without CONFIG, after a host-side change");
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-CFG-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(CONFIG),
     0, "GET_CONFIG is answered with exactly the size asked", "blk:config-short-reply",
     reply_same_size},
    {"VU-CFG-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(CONFIG),
     0, "a GET_CONFIG that fails is answered with an empty payload, the connection kept",
     "blk:config-error-short", error_is_empty_payload},
    {"VU-CFG-03", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(CONFIG),
     0, "config offsets count from 0, the first byte of the device config space",
     "blk:config-offset-0x100", offset_counts_from_zero},
    {"VU-CFG-04", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(CONFIG) | VC_PF(REPLY_ACK), 0, "SET_CONFIG with undefined flags is refused",
     "blk:config-flags-ignored", set_config_flags_checked},
    {"VU-CFG-05", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(CONFIG) | VC_PF(REPLY_ACK), 0,
     "SET_CONFIG from the front end (flags 0) cannot change a read-only field",
     "blk:config-ro-writable", read_only_not_writable, "blk"},
    {"VU-CFG-06", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "BACKEND_CONFIG_CHANGE_MSG only with CONFIG negotiated",
     "blk:config-change-without-config", config_change_only_with_config},
};

const VcCheckArea vc_area_config = {"config", checks, G_N_ELEMENTS(checks)};
