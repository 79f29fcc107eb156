/*
 * ring.c -- ring states: stopped, started but disabled, started and enabled.
 * vhost-user.rst "Ring states"; SPEC-FACTS 7.4.
 *
 * Every "nothing may happen" observation follows a GET_FEATURES round trip
 * (the daemon has handled every earlier message) and a quiet period; every
 * negative result is then confirmed by making the ring work, so that a
 * daemon that simply never processes anything is not mistaken for one that
 * obeys the rule (such a run is reported as inconclusive, a SKIP).
 */
#include <unistd.h>

#include "vc-chk.h"
#include "vc-msg-table.h"

#define N 8

/* After a quiet negative phase: the ring must work once allowed, or the check proves nothing. */
static bool
confirm_works(VcCtx *ctx, VcTraffic *t, unsigned want, bool kick, const char *after)
{
    unsigned got;

    if (kick) {
        vc_vq_kick(t->vq);
    }
    got = vc_traffic_wait(t, want, vc_ctx_wait_ms(ctx));
    if (got < want) {
        vc_ctx_skip(ctx, "inconclusive: the ring did not work even %s (%u of %u completed)", after,
                    got, want);
        return false;
    }
    return true;
}

static VcVerdict
stopped_ring_untouched(VcCtx *ctx)
{
    VcStartPlan plan = {.prepost = N};
    g_autoptr(VcTraffic) t = NULL;
    g_autoptr(GString) what = g_string_new(NULL);
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

    if (!fe || !vc_chk_start(ctx, fe, &plan, N, &t)) {
        return vc_ctx_done(ctx);
    }
    /* Buffers were available before SET_VRING_KICK; nobody has kicked yet. */
    if (!vc_chk_quiet(ctx, t, vc_chk_idx_at(t->vq, fe->cfg.start_idx), what)) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_violation(ctx, "before any kick (the ring is stopped) %s", what->str);
        }
        return vc_ctx_done(ctx);
    }
    if (confirm_works(ctx, t, N, true, "after a kick")) {
        vc_ctx_note(ctx, "nothing happened before the first kick; %u requests completed after it",
                    N);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
enable_remembered_while_stopped(VcCtx *ctx)
{
    VcStartPlan plan = {.enable_before_kick = true};
    g_autoptr(VcTraffic) t = NULL;
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    unsigned got;

    if (!fe || !vc_chk_start(ctx, fe, &plan, N, &t)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "SET_VRING_ENABLE 1 sent before SET_VRING_KICK was forgotten: "
              "%u of %u requests completed after a kick", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "an enable sent while the ring was stopped applied when it started");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
disabled_ring_no_side_effects(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    g_autoptr(GString) what = g_string_new(NULL);
    uint16_t used;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the enabled ring did not complete %u requests", N);
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(t->fe, vc_chk_queue(t), false, VC_ERR(ctx)));
    /* Without an ack only a round trip says the disable was taken before the kick below. */
    if (!vc_ctx_settle(ctx, t->fe, 0)) {
        return vc_ctx_done(ctx);
    }
    used = vc_vq_used_idx(t->vq);
    vc_traffic_post(t, N);
    vc_vq_publish(t->vq);
    vc_vq_kick(t->vq);
    if (!vc_chk_quiet(ctx, t, used, what)) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_violation(ctx, "with the started ring disabled, %s (a disabled ring is "
                             "processed without side effects: no used entries, no data)",
                             what->str);
        }
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(t->fe, vc_chk_queue(t), true, VC_ERR(ctx)));
    if (confirm_works(ctx, t, N, true, "after SET_VRING_ENABLE 1")) {
        vc_ctx_note(ctx, "disabled: no buffer filled, used index still; re-enabled: %u completed",
                    N);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
enabled_ring_processed(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned round = 0; round < 5; round++) {
        unsigned got = vc_chk_round(ctx, t, N);
        if (got != N) {
            vc_ctx_violation(ctx, "round %u: %u of %u requests completed on a started, enabled "
                             "ring", round + 1, got, N);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "5 rounds of %u requests completed", N);
    return vc_ctx_done(ctx);
}

static VcVerdict
ring_begins_disabled(VcCtx *ctx)
{
    VcStartPlan plan = {.skip_enable = true};
    g_autoptr(VcTraffic) t = NULL;
    g_autoptr(GString) what = g_string_new(NULL);
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

    if (!fe || !vc_chk_start(ctx, fe, &plan, N, &t)) {
        return vc_ctx_done(ctx);
    }
    vc_traffic_post(t, N);
    vc_vq_publish(t->vq);
    vc_vq_kick(t->vq);
    if (!vc_chk_quiet(ctx, t, vc_chk_idx_at(t->vq, fe->cfg.start_idx), what)) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_violation(ctx, "with PROTOCOL_FEATURES negotiated and no SET_VRING_ENABLE, %s",
                             what->str);
        }
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(fe, vc_chk_queue(t), true, VC_ERR(ctx)));
    if (confirm_works(ctx, t, N, true, "after SET_VRING_ENABLE 1")) {
        vc_ctx_note(ctx, "kicked but not enabled: nothing; enabled: %u completed", N);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
kick_starts_ring(VcCtx *ctx)
{
    const unsigned n = 16;
    VcStartPlan plan = {.prepost = n};
    g_autoptr(VcTraffic) t = NULL;
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    unsigned got;

    if (!fe || !vc_chk_start(ctx, fe, &plan, n, &t)) {
        return vc_ctx_done(ctx);
    }
    /* One kick for everything that was already available. */
    vc_vq_kick(t->vq);
    got = vc_traffic_wait(t, n, vc_ctx_wait_ms(ctx));
    vc_expect(ctx, got == n, "one kick after %u requests were made available: %u completed", n,
              got);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "one kick consumed all %u prefilled requests", n);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
get_vring_base_stops(VcCtx *ctx)
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
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    vc_traffic_reap(t);
    vc_vq_take_call(t->vq);
    used = vc_vq_used_idx(t->vq);
    vc_traffic_post(t, N);
    vc_vq_publish(t->vq);
    vc_vq_kick(t->vq);
    if (!vc_chk_quiet(ctx, t, used, what)) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_violation(ctx, "after GET_VRING_BASE (ring stopped), a kick with new buffers: "
                             "%s", what->str);
        }
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, vc_vq_take_call(t->vq) == 0, "after GET_VRING_BASE the daemon signalled the "
              "call notifier");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "after GET_VRING_BASE a kick with %u new buffers changed nothing", N);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
no_protocol_features_enables(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;

    cfg.no_protocol_features = true;
    cfg.profile = vc_profile_find("qemu-legacy");
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_fe_has_feature(t->fe, VHOST_USER_F_PROTOCOL_FEATURES)) {
        return vc_ctx_error(ctx, "the front end acked PROTOCOL_FEATURES although told not to");
    }
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "SET_FEATURES without PROTOCOL_FEATURES must enable the rings: %u of "
              "%u requests completed with no SET_VRING_ENABLE", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "rings ran without SET_VRING_ENABLE when bit 30 was not acked");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
changes_while_running(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    VcFrontend *fe;
    unsigned q, got;
    int old = -1;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    q = vc_chk_queue(t);
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not complete %u requests", N);
    }
    /* vhost-user.rst "Ring states": some settings change while rings run. */
    VC_TRY(ctx, vc_fe_swap_call(fe, q, &old, VC_ERR(ctx)));
    if (old >= 0) {
        close(old);
    }
    if (!vc_ctx_settle(ctx, fe, 0)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    if (!vc_expect(ctx, got == N, "after a new SET_VRING_CALL on the running ring, %u of %u "
                   "requests completed", got, N)) {
        return vc_ctx_done(ctx);
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_LOG_SHMFD) &&
        (fe->features_offered & (1ull << VHOST_F_LOG_ALL))) {
        VC_TRY(ctx, vc_fe_set_log_base(fe, 0, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_set_logging(fe, true, true, VC_ERR(ctx)));
        got = vc_chk_round(ctx, t, N);
        VC_TRY(ctx, vc_fe_set_logging(fe, false, false, VC_ERR(ctx)));
        got += vc_chk_round(ctx, t, N);
        if (!vc_expect(ctx, got == 2 * N, "toggling LOG_ALL and the ring's log flag while it ran "
                       "stalled it (%u of %u completed)", got, 2 * N)) {
            return vc_ctx_done(ctx);
        }
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) && fe->profile->mem_slots &&
        !fe->cfg.no_mem_slots) {
        int r = vc_gmem_add_simple(fe->gm, 0x300000000ull, 0x100000, false);
        if (r < 0) {
            return vc_ctx_error(ctx, "guest memory: %s", g_strerror(-r));
        }
        VC_TRY(ctx, vc_fe_add_mem_reg(fe, (unsigned)r, VC_ERR(ctx)));
        VC_TRY(ctx, vc_traffic_relocate(t, (unsigned)r, VC_ERR(ctx)));
        if (!vc_ctx_settle(ctx, fe, 0)) {
            return vc_ctx_done(ctx);
        }
        got = vc_chk_round(ctx, t, N);
        if (!vc_expect(ctx, got == N, "after ADD_MEM_REG while the ring ran, %u of %u requests "
                       "in the new region completed", got, N)) {
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "the ring kept running across a call fd swap%s%s",
                vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_LOG_SHMFD) ? ", logging on and off"
                                                                          : "",
                vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)
                    ? " and a new memory region" : "");
    return vc_ctx_done(ctx);
}

static VcVerdict
one_ring_reset_others_run(VcCtx *ctx)
{
    g_autoptr(VcTraffic) b = NULL;
    g_autoptr(VcTraffic) a = vc_chk_open_two(ctx, N, &b);
    VcFrontend *fe;
    unsigned qa, qb, got;
    uint32_t base;

    if (!a) {
        return vc_ctx_done(ctx);
    }
    if (!b) {
        return vc_ctx_skip(ctx, "needs a second ring with traffic (multiqueue device)");
    }
    fe = a->fe;
    qa = vc_chk_queue(a);
    qb = vc_chk_queue(b);
    if (vc_chk_round(ctx, a, N) != N || vc_chk_round(ctx, b, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the rings did not both work");
    }
    /* RING_RESET as QEMU does it: one ring stopped and set up again, the other untouched. */
    VC_TRY(ctx, vc_fe_get_vring_base(fe, qb, &base, VC_ERR(ctx)));
    got = vc_chk_round(ctx, a, N);
    if (!vc_expect(ctx, got == N, "while ring %u was stopped, ring %u completed %u of %u",
                   qb, qa, got, N)) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_restart_ring(ctx, b, base)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, b, N) + vc_chk_round(ctx, a, N);
    vc_expect(ctx, got == 2 * N, "after ring %u was restarted, %u of %u requests on both rings "
              "completed", qb, got, 2 * N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "ring %u stopped and restarted while ring %u kept running", qb, qa);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-RING-01", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a stopped ring (no kick yet) is not processed at all", "process-on-set-kick",
     stopped_ring_untouched},
    {"VU-RING-02", "vhost-user.rst#ring-states", VC_SHOULD, VC_F_PROTO, 0, VC_CHECK_DATAPATH,
     "an enable sent while the ring is stopped applies when it starts", "enable-reset-by-kick",
     enable_remembered_while_stopped},
    {"VU-RING-03", "vhost-user.rst#ring-states", VC_MUST, VC_F_PROTO, 0, VC_CHECK_DATAPATH,
     "a started but disabled ring is processed without side effects", "ignore-disable",
     disabled_ring_no_side_effects},
    {"VU-RING-04", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a started and enabled ring is processed normally, kick after kick",
     "stall-after-first-kick", enabled_ring_processed},
    {"VU-RING-05", "vhost-user.rst#ring-states", VC_MUST, VC_F_PROTO, 0, VC_CHECK_DATAPATH,
     "with PROTOCOL_FEATURES a ring begins disabled until SET_VRING_ENABLE 1", "start-enabled",
     ring_begins_disabled},
    {"VU-RING-06", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a kick starts the ring and everything already available is consumed", "one-per-kick",
     kick_starts_ring},
    {"VU-RING-07", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "GET_VRING_BASE stops the ring: later kicks do nothing", "run-after-get-base",
     get_vring_base_stops},
    {"VU-RING-08", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "without PROTOCOL_FEATURES negotiated, rings are enabled at once", "always-need-enable",
     no_protocol_features_enables},
    {"VU-RING-09", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "call fd, logging and memory can change while a ring runs, without a stall",
     "call-swap-stalls", changes_while_running},
    {"VU-RING-10", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "one ring can be stopped and restarted while the others keep running", "blk:stop-stops-all",
     one_ring_reset_others_run},
};

const VcCheckArea vc_area_ring = {"ring", checks, G_N_ELEMENTS(checks)};
