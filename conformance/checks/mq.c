/*
 * mq.c -- multiple queue support. vhost-user.rst "Multiple queue support",
 * GET_QUEUE_NUM; SPEC-FACTS 7.8.
 */
#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

static VcVerdict
queue_num_positive(VcCtx *ctx)
{
    static const VcStep negotiate[] = {VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES,
                                       VC_STEP_SET_PROTOCOL_FEATURES, VC_STEP_END};
    VcFrontend *fe = vc_ctx_connect(ctx, NULL);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* Not the profile's realize: that one refuses a count below what it wants before we judge. */
    VC_TRY(ctx, vc_fe_run_steps(fe, negotiate, VC_ERR(ctx)));
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
        return vc_ctx_skip(ctx, "MQ was not negotiated");
    }
    VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &fe->queue_num,
                             VC_ERR(ctx)));
    vc_expect(ctx, fe->queue_num >= 1, "GET_QUEUE_NUM answered %" G_GUINT64_FORMAT
              ", want at least 1", fe->queue_num);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "GET_QUEUE_NUM = %" G_GUINT64_FORMAT, fe->queue_num);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
queue_indexes(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    g_autoptr(GError) err = NULL;
    g_autofree char *how = NULL;
    unsigned n, bad;
    uint64_t rings;
    bool acked;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
        return vc_ctx_skip(ctx, "MQ was not negotiated");
    }
    if (fe->queue_num == 0) {
        /* This profile does not ask during realize: ask. */
        VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &fe->queue_num,
                                 VC_ERR(ctx)));
    }
    /*
     * vhost-user net counts queue pairs: QEMU's net/vhost-user.c compares the
     * answer with its queues= (pairs) and DPDK answers VHOST_MAX_QUEUE_PAIRS.
     */
    rings = fe->queue_num * (g_strcmp0(ctx->device, "net") == 0 ? 2 : 1);
    /* Every ring below the count can be configured (up to the 256 the fd messages address). */
    n = (unsigned)MIN(rings, (uint64_t)VC_FE_MAX_QUEUES);
    for (unsigned q = 0; q < n; q++) {
        if (!vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, q, fe->cfg.ring_size, true, NULL,
                               VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "SET_VRING_NUM for ring %u (GET_QUEUE_NUM %" G_GUINT64_FORMAT
                             "): %s", q, fe->queue_num, ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
    }
    if (rings > VC_FE_MAX_QUEUES) {
        vc_ctx_note(ctx, "rings 0..%u configured; GET_QUEUE_NUM %" G_GUINT64_FORMAT " reaches "
                    "beyond what the ring messages address", n - 1, fe->queue_num);
        return vc_ctx_done(ctx);
    }
    /* One past the end must be refused, never crash the daemon. */
    bad = n;
    acked = vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, bad, fe->cfg.ring_size, true, NULL,
                              &err);
    if (vc_ctx_daemon_dead(ctx, 300, &how)) {
        vc_ctx_violation(ctx, "SET_VRING_NUM for ring %u, beyond GET_QUEUE_NUM: the daemon %s",
                         bad, how);
        return vc_ctx_done(ctx);
    }
    if (acked && vc_chk_has_reply_ack(fe)) {
        vc_ctx_violation(ctx, "SET_VRING_NUM for ring %u, beyond GET_QUEUE_NUM %" G_GUINT64_FORMAT
                         ", was acked 0", bad, fe->queue_num);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "rings 0..%u configured; ring %u refused (%s)", n - 1, bad,
                err ? err->message : "no ack requested");
    return vc_ctx_done(ctx);
}

static VcVerdict
queues_enabled_independently(VcCtx *ctx)
{
    g_autoptr(VcTraffic) b = NULL;
    g_autoptr(VcTraffic) a = vc_chk_open_two(ctx, 8, &b);
    g_autoptr(GString) what = g_string_new(NULL);
    VcFrontend *fe;
    unsigned qa, qb, got;
    uint16_t used;

    if (!a) {
        return vc_ctx_done(ctx);
    }
    if (!b) {
        return vc_ctx_skip(ctx, "needs a second ring with traffic (multiqueue device)");
    }
    fe = a->fe;
    qa = vc_chk_queue(a);
    qb = vc_chk_queue(b);
    if (!vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES)) {
        return vc_ctx_skip(ctx, "rings cannot be disabled without PROTOCOL_FEATURES");
    }
    if (vc_chk_round(ctx, a, 8) != 8 || vc_chk_round(ctx, b, 8) != 8) {
        return vc_ctx_skip(ctx, "inconclusive: the rings did not both work");
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(fe, qb, false, VC_ERR(ctx)));
    if (!vc_ctx_settle(ctx, fe, 0)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, a, 8);
    if (!vc_expect(ctx, got == 8, "disabling ring %u stopped ring %u too (%u of 8 completed)", qb,
                   qa, got)) {
        return vc_ctx_done(ctx);
    }
    used = vc_vq_used_idx(b->vq);
    vc_traffic_post(b, 8);
    vc_vq_kick(b->vq);
    if (!vc_chk_quiet(ctx, b, used, what)) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_violation(ctx, "disabled ring %u: %s", qb, what->str);
        }
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(fe, qb, true, VC_ERR(ctx)));
    got = vc_traffic_wait(b, 8, vc_ctx_wait_ms(ctx));
    vc_expect(ctx, got == 8, "re-enabled ring %u completed %u of 8", qb, got);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "ring %u disabled and re-enabled while ring %u ran", qb, qa);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-MQ-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(MQ), 0,
     "GET_QUEUE_NUM answers a u64 of at least 1", "queue-num-zero", queue_num_positive},
    {"VU-MQ-02", "vhost-user.rst#multiple-queue-support", VC_MUST, VC_F_PROTO, VC_PF(MQ), 0,
     "every ring below GET_QUEUE_NUM can be set up; one beyond it is refused without harm",
     "crash-on-bad-index", queue_indexes},
    {"VU-MQ-03", "vhost-user.rst#multiple-queue-support", VC_MUST, VC_F_PROTO, VC_PF(MQ),
     VC_CHECK_DATAPATH, "each ring is enabled and disabled on its own while others run",
     "blk:enable-applies-to-all", queues_enabled_independently},
};

const VcCheckArea vc_area_mq = {"mq", checks, G_N_ELEMENTS(checks)};
