/*
 * notify.c -- kick, call and err notifiers. vhost-user.rst SET_VRING_KICK,
 * SET_VRING_CALL, SET_VRING_ERR, "Platform support"; virtio 1.x 2.7.10
 * (used buffer notification suppression); SPEC-FACTS 7.2 and 7.7.
 */
#include <poll.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"

#define N 8

static VcVerdict
kick_nofd_polls(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;

    cfg.kick = VC_NOTIFY_NONE;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* No kick fd: the daemon is told to poll; requests are only published. */
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "SET_VRING_KICK with the NOFD bit (poll the ring): %u of %u "
              "published requests completed", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "the daemon polled the avail ring");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
call_nofd_accepted(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;

    cfg.call = VC_NOTIFY_NONE;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "SET_VRING_CALL with the NOFD bit: %u of %u requests completed (the "
              "used ring must advance without a call fd)", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "used ring advanced with no call fd");
    }
    return vc_ctx_done(ctx);
}

/* Rounds where every completion must be followed by a call. */
static void
calls_follow_completions(VcCtx *ctx, bool event_idx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;

    cfg.event_idx = event_idx;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return;
    }
    if (event_idx && !(t->vq->flags & VC_VQ_EVENT_IDX)) {
        vc_ctx_note(ctx, "EVENT_IDX not offered");
        return;
    }
    for (unsigned round = 0; round < 4; round++) {
        unsigned want = round + 1, got = 0;
        int64_t deadline = g_get_monotonic_time() / 1000 + vc_ctx_wait_ms(ctx);

        vc_vq_take_call(t->vq);
        vc_vq_enable_calls(t->vq, true);
        vc_traffic_post(t, want);
        vc_vq_notify(t->vq);
        /* Reap only after a call: whatever sits in the used ring without one was not signalled. */
        while (got < want) {
            int64_t left = deadline - g_get_monotonic_time() / 1000;
            int r = vc_vq_wait_call(t->vq, (int)MAX(left, 0));
            if (r <= 0) {
                break;
            }
            got += vc_traffic_reap(t);
            /* Entries that landed between the reap and re-arming need no call of their own. */
            vc_vq_enable_calls(t->vq, true);
            got += vc_traffic_reap(t);
        }
        if (got < want) {
            uint16_t used = vc_vq_used_idx(t->vq);
            if (used != t->vq->last_used) {
                vc_ctx_violation(ctx, "%s: round %u: the used ring holds completions but no call "
                                 "came within %d ms", event_idx ? "with EVENT_IDX"
                                                                : "without EVENT_IDX",
                                 round + 1, vc_ctx_wait_ms(ctx));
            } else {
                vc_ctx_skip(ctx, "inconclusive: round %u completed nothing", round + 1);
            }
            return;
        }
    }
    vc_ctx_note(ctx, "%s: every batch was signalled", event_idx ? "EVENT_IDX" : "flags");
}

static VcVerdict
no_lost_calls(VcCtx *ctx)
{
    calls_follow_completions(ctx, false);
    if (!vc_ctx_failed(ctx)) {
        calls_follow_completions(ctx, true);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
kick_value_meaningless(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    static const uint64_t values[] = {2, 0x12345678, 7};

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (t->vq->kick_fd < 0) {
        return vc_ctx_skip(ctx, "no kick fd");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(values); i++) {
        unsigned posted = vc_traffic_post(t, 2), got;
        vc_vq_publish(t->vq);
        vc_vq_kick_value(t->vq, values[i]);
        got = vc_traffic_wait(t, posted, vc_ctx_wait_ms(ctx));
        if (got < posted) {
            vc_ctx_violation(ctx, "a kick written as the value %" G_GUINT64_FORMAT " was not "
                             "taken as a kick (%u of %u completed)", values[i], got, posted);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "kicks with values 2, 0x12345678 and 7 all worked");
    return vc_ctx_done(ctx);
}

static VcVerdict
pipe_notifiers(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned calls_before, got;

    cfg.kick = VC_NOTIFY_PIPE;
    cfg.call = VC_NOTIFY_PIPE;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    calls_before = (unsigned)t->vq->n_calls;
    for (unsigned round = 0; round < 3; round++) {
        got = vc_chk_round(ctx, t, N);
        if (got != N) {
            vc_ctx_violation(ctx, "with pipes for kick and call, round %u completed %u of %u",
                             round + 1, got, N);
            return vc_ctx_done(ctx);
        }
    }
    /* Calls not yet read are still in the pipe. */
    while (vc_vq_take_call(t->vq) > 0) {
    }
    vc_expect(ctx, t->vq->n_calls > calls_before, "with a pipe as call notifier no call was ever "
              "written");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "3 rounds with pipe notifiers; %" G_GUINT64_FORMAT " calls read",
                    t->vq->n_calls);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
err_fd_on_ring_error(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, 2);
    struct pollfd p;
    int r;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->fe->q[vc_chk_queue(t)].err_sent) {
        return vc_ctx_skip(ctx, "the %s profile sends no SET_VRING_ERR", t->fe->profile->name);
    }
    if (vc_chk_round(ctx, t, 1) != 1) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work");
    }
    /* A descriptor far outside every region. */
    vc_traffic_poison_next(t, 0x7e0000000000ull);
    vc_traffic_post(t, 1);
    vc_vq_kick(t->vq);
    p.fd = t->fe->q[vc_chk_queue(t)].err_ours;
    p.events = POLLIN;
    r = poll(&p, 1, vc_ctx_wait_ms(ctx));
    if (vc_ctx_daemon_dead(ctx, 100, NULL)) {
        vc_ctx_violation(ctx, "a descriptor outside guest memory killed the daemon");
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, r > 0 || t->fe->inband_errs[vc_chk_queue(t)] > 0, "a descriptor outside guest memory did "
              "not signal the err notifier within %d ms", vc_ctx_wait_ms(ctx));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "the err notifier was signalled");
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-KICK-01", "vhost-user.rst#front-end-message-types", VC_SHOULD, 0, 0, VC_CHECK_DATAPATH,
     "SET_VRING_KICK with NOFD makes the back end poll the avail ring", "no-kick-polling",
     kick_nofd_polls},
    {"VU-CALL-01", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "SET_VRING_CALL with NOFD is accepted and the used ring still advances", "needs-call-fd",
     call_nofd_accepted},
    {"VU-CALL-03", "virtio-v1.2#used-buffer-notification-suppression", VC_MUST, 0, 0,
     VC_CHECK_DATAPATH, "no completion is left unsignalled, with and without EVENT_IDX", "no-call",
     no_lost_calls},
    {"VU-NTF-01", "vhost-user.rst#platform-support", VC_SHOULD, 0, 0, VC_CHECK_DATAPATH,
     "the value written to a kick notifier carries no meaning", "kick-value-one",
     kick_value_meaningless},
    {"VU-NTF-02", "vhost-user.rst#platform-support", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "kick and call notifiers may be pipes instead of eventfds", "pipe-unsupported",
     pipe_notifiers},
    {"VU-ERR-01", "vhost-user.rst#front-end-message-types", VC_SHOULD, 0, 0, VC_CHECK_DATAPATH,
     "a ring error (descriptor outside guest memory) signals the err notifier", "no-err-signal",
     err_fd_on_ring_error},
};

const VcCheckArea vc_area_notify = {"notify", checks, G_N_ELEMENTS(checks)};
