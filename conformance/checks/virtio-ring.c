/*
 * virtio-ring.c -- split-ring rules of the virtio spec that a vhost-user
 * back end must follow as the device: notification suppression and
 * indirect descriptors. virtio 1.x 2.7.7 (indirect descriptors) and 2.7.10
 * (used buffer notification suppression).
 */
#include "vc-chk.h"
#include "vc-msg-table.h"

#define N 8

/* Completes @n requests by polling the used ring (calls are not waited for). */
static unsigned
poll_round(VcCtx *ctx, VcTraffic *t, unsigned n)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + vc_ctx_wait_ms(ctx);
    unsigned posted = vc_traffic_post(t, n), got = 0;

    vc_vq_notify(t->vq);
    while (got < posted && g_get_monotonic_time() / 1000 < deadline) {
        got += vc_traffic_reap(t);
        if (got < posted) {
            g_usleep(500);
        }
    }
    return got;
}

static VcVerdict
no_interrupt_respected(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;

    cfg.event_idx = false;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (t->vq->call_fd < 0) {
        return vc_ctx_skip(ctx, "no call fd");
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work");
    }
    /* avail->flags = VRING_AVAIL_F_NO_INTERRUPT: the device should not call. */
    vc_vq_enable_calls(t->vq, false);
    if (!vc_ctx_settle(ctx, t->fe, 20)) {
        return vc_ctx_done(ctx);
    }
    vc_vq_take_call(t->vq);
    got = poll_round(ctx, t, N);
    if (got != N) {
        return vc_ctx_skip(ctx, "inconclusive: %u of %u completed with calls suppressed", got, N);
    }
    if (!vc_ctx_settle(ctx, t->fe, vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, vc_vq_take_call(t->vq) == 0, "the device signalled the call notifier although "
              "%s", t->vq->packed ? "the driver area flags were VRING_PACKED_EVENT_FLAG_DISABLE"
                                  : "avail->flags had VRING_AVAIL_F_NO_INTERRUPT");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "no call with NO_INTERRUPT set");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
used_event_respected(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;
    uint16_t ev;

    cfg.event_idx = true;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!(t->vq->flags & VC_VQ_EVENT_IDX) || t->vq->call_fd < 0) {
        return vc_ctx_skip(ctx, "EVENT_IDX was not negotiated or no call fd");
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work");
    }
    /*
     * used_event far ahead: none of the next completions crosses it. A packed ring's off_wrap
     * is a position with its wrap counter and can be at most a lap ahead: half a ring it is.
     */
    ev = vc_chk_idx_add(t->vq, t->vq->last_used, t->vq->packed ? t->vq->num / 2u : 1000u);
    vc_vq_set_used_event(t->vq, ev);
    if (!vc_ctx_settle(ctx, t->fe, 20)) {
        return vc_ctx_done(ctx);
    }
    vc_vq_take_call(t->vq);
    got = poll_round(ctx, t, N);
    if (got != N) {
        return vc_ctx_skip(ctx, "inconclusive: %u of %u completed with used_event ahead", got, N);
    }
    if (!vc_ctx_settle(ctx, t->fe, vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, vc_vq_take_call(t->vq) == 0, "with EVENT_IDX the device signalled although no "
              "completion crossed used_event (%s)", vc_chk_idx_str(t->vq, ev).s);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "no call while used_event was ahead");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
indirect_chains(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    g_autoptr(GString) what = g_string_new(NULL);
    const char *bad;
    unsigned got;

    cfg.indirect = true;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!vc_traffic_set_indirect(t, true)) {
        return vc_ctx_skip(ctx, "INDIRECT_DESC was not negotiated");
    }
    got = vc_chk_round(ctx, t, N);
    if (!vc_expect(ctx, got == N, "%u of %u chains in indirect tables completed", got, N)) {
        return vc_ctx_done(ctx);
    }
    bad = vc_traffic_verify(t);
    if (bad) {
        vc_ctx_violation(ctx, "with indirect chains, %s", bad);
        return vc_ctx_done(ctx);
    }
    if (vc_chk_stray(t, NULL, 0, what)) {
        vc_ctx_violation(ctx, "with indirect chains, %s", what->str);
        return vc_ctx_done(ctx);
    }
    /* The indirect tables are device-readable: they must be as the driver wrote them. */
    for (unsigned i = 0; i < t->vq->num * t->vq->indirect_max; i++) {
        /* Split rings keep their tables in indirect, packed rings in pindirect. */
        uint16_t flags = t->vq->indirect    ? t->vq->indirect[i].flags
                         : t->vq->pindirect ? t->vq->pindirect[i].flags : 0;
        if (flags & ~(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE)) {
            vc_ctx_violation(ctx, "indirect table entry %u was overwritten", i);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "%u chains in indirect tables were completed correctly", N);
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VIO-RING-001", "virtio-v1.2#used-buffer-notification-suppression", VC_SHOULD, 0, 0,
     VC_CHECK_DATAPATH, "no call while avail->flags has NO_INTERRUPT (without EVENT_IDX)",
     "ignore-no-interrupt", no_interrupt_respected},
    {"VIO-RING-002", "virtio-v1.2#used-buffer-notification-suppression", VC_SHOULD,
     VC_F(29), 0, VC_CHECK_DATAPATH, "with EVENT_IDX no call unless used_event is crossed",
     "ignore-used-event", used_event_respected},
    {"VIO-RING-004", "virtio-v1.2#indirect-descriptors", VC_MUST, VC_F(28), 0, VC_CHECK_DATAPATH,
     "chains in indirect descriptor tables are followed, not written over", "indirect-as-direct",
     indirect_chains},
};

const VcCheckArea vc_area_virtio_ring = {"virtio-ring", checks, G_N_ELEMENTS(checks)};
