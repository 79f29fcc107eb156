/*
 * suspend.c -- the suspended device: every ring stopped with GET_VRING_BASE.
 * vhost-user.rst "Suspended device state"; SPEC-FACTS 7.5.
 */
#include <string.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8

/* Traffic, then GET_VRING_BASE on every ring that was set up. */
static VcTraffic *
suspended(VcCtx *ctx, const VcFeConfig *cfg)
{
    VcTraffic *t = vc_chk_open(ctx, cfg, N);

    if (!t) {
        return NULL;
    }
    if (vc_chk_round(ctx, t, N) != N) {
        vc_ctx_skip(ctx, "inconclusive: the ring did not complete %u requests", N);
        vc_traffic_free(t);
        return NULL;
    }
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        if (t->fe->q[q].vq && !vc_ctx_try(ctx, vc_fe_get_vring_base(t->fe, q, NULL,
                                                                    VC_ERR(ctx)))) {
            vc_traffic_free(t);
            return NULL;
        }
    }
    vc_traffic_reap(t);
    return t;
}

/* A copy of every memfd, to compare after the quiet period. */
static GPtrArray *
snapshot(VcGmem *gm)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

    for (unsigned i = 0; i < gm->n_memfds; i++) {
        g_ptr_array_add(a, g_memdup2(gm->memfds[i].base, gm->memfds[i].size));
    }
    return a;
}

static VcVerdict
no_writes_while_suspended(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = suspended(ctx, NULL);
    g_autoptr(GPtrArray) before = NULL;
    VcGmem *gm;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    gm = t->fe->gm;
    /* Kicks must not wake a stopped ring either; the copy is taken after our own writes. */
    vc_traffic_post(t, N);
    vc_vq_kick(t->vq);
    before = snapshot(gm);
    if (!vc_ctx_settle(ctx, t->fe, 2 * vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < gm->n_memfds; i++) {
        const uint8_t *old = before->pdata[i];
        for (uint64_t off = 0; off < gm->memfds[i].size; off++) {
            if (old[off] != gm->memfds[i].base[off]) {
                uint64_t gpa = vc_gmem_memfd_to_gpa(gm, i, off);
                vc_ctx_violation(ctx, "with every ring stopped, guest memory changed: memfd %u "
                                 "offset 0x%" G_GINT64_MODIFIER "x (gpa 0x%" G_GINT64_MODIFIER
                                 "x)", i, off, gpa);
                return vc_ctx_done(ctx);
            }
        }
    }
    vc_ctx_note(ctx, "every memfd byte unchanged for %d ms after the last GET_VRING_BASE",
                2 * vc_chk_quiet_ms());
    return vc_ctx_done(ctx);
}

static VcVerdict
no_calls_while_suspended(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = suspended(ctx, NULL);
    unsigned calls = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        while (t->fe->q[q].vq && vc_vq_take_call(t->fe->q[q].vq) > 0) {
        }
    }
    if (!vc_ctx_settle(ctx, t->fe, 2 * vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        while (t->fe->q[q].vq && vc_vq_take_call(t->fe->q[q].vq) > 0) {
            calls++;
        }
        calls += (unsigned)t->fe->inband_calls[q];
    }
    vc_expect(ctx, calls == 0, "with every ring stopped the daemon signalled %u call(s)", calls);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "no call for %d ms after the last GET_VRING_BASE", 2 * vc_chk_quiet_ms());
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
no_channel_while_suspended(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = NULL;
    guint before;

    t = suspended(ctx, NULL);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->fe->bch) {
        return vc_ctx_skip(ctx, "no back-end channel was set up");
    }
    before = vc_fe_obs_count(t->fe);
    if (!vc_ctx_settle(ctx, t->fe, 2 * vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    for (guint i = before; i < vc_fe_obs_count(t->fe); i++) {
        const VcObs *o = vc_fe_obs(t->fe, i);
        if (o->kind == VC_OBS_BACKEND_MSG || o->kind == VC_OBS_BACKEND_FAULT) {
            vc_ctx_violation(ctx, "with every ring stopped the daemon sent %s on the back-end "
                             "channel", o->text);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "the back-end channel stayed silent while suspended");
    return vc_ctx_done(ctx);
}

static VcVerdict
answers_while_suspended(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = suspended(ctx, NULL);
    VcFrontend *fe;
    uint32_t base;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_get_features(fe, NULL, VC_ERR(ctx)) ||
        (vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES) &&
         !vc_fe_get_protocol_features(fe, NULL, VC_ERR(ctx))) ||
        !vc_fe_get_vring_base(fe, vc_chk_queue(t), &base, VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "while suspended: %s", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
        uint8_t st;
        if (!vc_fe_get_status(fe, &st, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_STATUS while suspended: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG) && fe->cfg.config_len) {
        uint8_t cfgspace[VHOST_USER_MAX_CONFIG_SIZE];
        uint32_t got;
        if (!vc_fe_get_config(fe, 0, fe->cfg.config_len, cfgspace, &got, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "GET_CONFIG while suspended: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "GET_FEATURES, GET_PROTOCOL_FEATURES, GET_VRING_BASE (and GET_STATUS, "
                "GET_CONFIG where offered) answered while suspended");
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-SUSP-01", "vhost-user.rst#suspended-device-state", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "with every ring stopped, nothing in guest memory is written", "touch-used-after-stop",
     no_writes_while_suspended},
    {"VU-SUSP-02", "vhost-user.rst#suspended-device-state", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "with every ring stopped, no call notifier is written", "call-after-stop",
     no_calls_while_suspended},
    {"VU-SUSP-03", "vhost-user.rst#suspended-device-state", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH,
     "with every ring stopped, nothing is sent on the back-end channel",
     "blk:channel-while-suspended", no_channel_while_suspended},
    {"VU-SUSP-04", "vhost-user.rst#suspended-device-state", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "with every ring stopped, front-end messages are still answered", "mute-while-suspended",
     answers_while_suspended},
};

const VcCheckArea vc_area_suspend = {"suspend", checks, G_N_ELEMENTS(checks)};
