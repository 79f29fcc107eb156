/*
 * vring-base.c -- SET_VRING_BASE / GET_VRING_BASE and index arithmetic.
 * vhost-user.rst SET_VRING_BASE, GET_VRING_BASE, "Ring states"; virtio 1.x
 * 2.7.6 (free-running 16-bit indices); SPEC-FACTS 7.6.
 */
#include "vc-chk.h"

#define N 8

static VcVerdict
set_base_is_start(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;
    uint16_t used;

    /* Both rings start at 7: avail entries 7..9 are the first to consume. */
    cfg.start_idx = 7;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, 3);
    used = vc_vq_used_idx(t->vq);
    vc_expect(ctx, got == 3 && used == 10 && vc_traffic_bad_ids(t) == 0,
              "SET_VRING_BASE 7 with 3 requests at avail 7..9: %u completed, used index %u "
              "(want 10), %u bad used ids", got, used, vc_traffic_bad_ids(t));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "consumption started at avail index 7; used index went 7 -> 10");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
get_base_is_next_avail(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    uint32_t base;
    unsigned got;

    cfg.start_idx = 100;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, 8);
    got += vc_chk_round(ctx, t, 5);
    if (got != 13) {
        return vc_ctx_skip(ctx, "inconclusive: only %u of 13 requests completed", got);
    }
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    vc_expect(ctx, base == 113, "GET_VRING_BASE answered %u (0x%x) after 13 requests from base "
              "100; want 113 in the low 16 bits and 0 above", base, base);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "base 100 + 13 requests -> GET_VRING_BASE 113");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_done_before_reply(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    g_autoptr(GString) what = g_string_new(NULL);
    uint32_t base;
    uint16_t used;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not complete %u requests", N);
    }
    vc_traffic_post(t, N);
    vc_vq_kick(t->vq);
    /* Let the daemon fetch the chains, then stop the ring while they may still be in flight. */
    g_usleep(50 * 1000);
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    used = vc_vq_used_idx(t->vq);
    vc_traffic_reap(t);
    if (!vc_expect(ctx, (uint16_t)base == used,
                   "GET_VRING_BASE answered %u but the used index was %u when the reply came: "
                   "%d fetched request(s) were not completed first", base & 0xffff, used,
                   (int)(uint16_t)(base - used))) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_quiet(ctx, t, used, what) && !vc_ctx_failed(ctx)) {
        vc_ctx_violation(ctx, "after the GET_VRING_BASE reply %s", what->str);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "at the reply, used index == returned base (%u), and nothing moved after",
                    used);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
stop_does_not_reset(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    uint32_t b1, b2;
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, 5) != 5) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not complete 5 requests");
    }
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &b1, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &b2, VC_ERR(ctx)));
    if (!vc_expect(ctx, b1 == b2, "a second GET_VRING_BASE answered %u, the first %u: stopping "
                   "reset the ring", b2, b1)) {
        return vc_ctx_done(ctx);
    }
    /* QEMU's restart: the whole ring set-up again from the saved base. */
    if (!vc_chk_restart_ring(ctx, t, (uint16_t)b1)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, 4);
    vc_expect(ctx, got == 4 && vc_vq_used_idx(t->vq) == (uint16_t)(b1 + 4),
              "after restarting from base %u: %u of 4 completed, used index %u", b1, got,
              vc_vq_used_idx(t->vq));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "GET_VRING_BASE twice = %u; resumed from it and completed 4 more", b1);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
index_wrap(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    uint32_t base;
    unsigned got = 0;

    cfg.start_idx = 65530;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned round = 0; round < 3; round++) {
        unsigned n = vc_chk_round(ctx, t, N);
        got += n;
        if (n != N) {
            vc_ctx_violation(ctx, "starting at index 65530, round %u completed %u of %u (indices "
                             "must wrap from 65535 to 0)", round + 1, n, N);
            return vc_ctx_done(ctx);
        }
    }
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    vc_expect(ctx, base == (uint16_t)(65530 + got), "after wrapping, GET_VRING_BASE answered %u, "
              "want %u", base, (uint16_t)(65530 + got));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "24 requests across the 65535 -> 0 wrap; base %u", base);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-VB-01", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "SET_VRING_BASE sets the first avail index consumed; used index comes from guest memory",
     "ignore-set-base", set_base_is_start},
    {"VU-VB-02", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "GET_VRING_BASE answers the next avail index to process, bits 16..31 zero",
     "get-base-zero", get_base_is_next_avail},
    {"VU-VB-04", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "every fetched request is completed before GET_VRING_BASE is answered",
     "reply-before-drain", inflight_done_before_reply},
    {"VU-VB-06", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "stopping does not reset the ring: the base repeats and the ring resumes from it",
     "get-base-resets", stop_does_not_reset},
    {"VIO-RING-003", "virtio-v1.2#split-virtqueue-available-ring", VC_MUST, 0, 0,
     VC_CHECK_DATAPATH, "ring indices are free-running and wrap from 65535 to 0", "no-wrap",
     index_wrap},
};

const VcCheckArea vc_area_vring_base = {"vring-base", checks, G_N_ELEMENTS(checks)};
