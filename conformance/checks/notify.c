/*
 * notify.c -- kick, call and err notifiers. vhost-user.rst SET_VRING_KICK,
 * SET_VRING_CALL, SET_VRING_ERR, "Platform support"; virtio 1.x 2.7.10
 * (used buffer notification suppression); SPEC-FACTS 7.2 and 7.7.
 */
#include <dirent.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

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
    /*
     * With in-band notifications the front end may also tell a polling ring about new
     * buffers with VRING_KICK (vhost-user.rst VHOST_USER_VRING_KICK): still served.
     */
    if (!ctx->violated && vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)) {
        unsigned posted = vc_traffic_post(t, N);

        VC_TRY(ctx, vc_fe_vring_kick_inband(t->fe, vc_chk_queue(t), VC_ERR(ctx)));
        got = vc_traffic_wait(t, posted, vc_ctx_wait_ms(ctx));
        vc_expect(ctx, got == posted, "with the NOFD bit and in-band notifications, %u of %u "
                  "requests announced with VRING_KICK completed", got, posted);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "the daemon polled the avail ring%s",
                    vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)
                        ? " and took VRING_KICK messages" : "");
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

/* Counts fds of @pid whose link names @name (memfd probes). */
static int
fds_named(GPid pid, const char *name)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    DIR *dh = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!dh) {
        return -1;
    }
    while ((e = readdir(dh))) {
        char link[512];
        g_autofree char *path = g_strdup_printf("%s/%s", dir, e->d_name);
        ssize_t l = readlink(path, link, sizeof(link) - 1);
        if (l > 0) {
            link[l] = '\0';
            n += strstr(link, name) != NULL;
        }
    }
    closedir(dh);
    return n;
}

static VcVerdict
kick_fd_rules(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree char *name = NULL;
    g_autofree char *how = NULL;
    g_autoptr(GError) err = NULL;
    GPid pid = vc_ctx_daemon_pid(ctx);
    int probe, held;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* NOFD clear but no fd: refused or ignored, never a crash. */
    vc_msg_init(req, VHOST_USER_SET_VRING_KICK, vc_fe_want_ack(fe));
    req->payload.u64 = 0;
    req->hdr.size = 8;
    (void)vc_fe_request(fe, req, NULL, &err);
    if (vc_ctx_daemon_dead(ctx, 200, &how)) {
        vc_ctx_violation(ctx, "SET_VRING_KICK without its fd: the daemon %s", how);
        return vc_ctx_done(ctx);
    }
    if (!err && vc_chk_has_reply_ack(fe)) {
        vc_ctx_violation(ctx, "SET_VRING_KICK without the NOFD bit and without an fd was acked 0");
        return vc_ctx_done(ctx);
    }
    g_clear_error(&err);
    if (!pid) {
        vc_ctx_note(ctx, "a kick without its fd was refused; the stray-fd half needs the pid");
        return vc_ctx_done(ctx);
    }
    fe = vc_ctx_open(ctx, NULL, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* NOFD set and an fd anyway: the fd must be closed, as libvhost-user does. */
    name = g_strdup_printf("vc-kick-probe-%d-%u", (int)getpid(), g_random_int());
    probe = memfd_create(name, MFD_CLOEXEC);
    if (probe < 0) {
        return vc_ctx_error(ctx, "memfd_create: %s", g_strerror(errno));
    }
    vc_msg_init(req, VHOST_USER_SET_VRING_KICK, vc_fe_want_ack(fe));
    req->payload.u64 = VHOST_USER_VRING_NOFD_MASK;
    req->hdr.size = 8;
    req->fds[0] = probe;
    req->nfds = 1;
    (void)vc_fe_request(fe, req, NULL, &err);
    close(probe);
    if (!vc_ctx_settle(ctx, fe, 50)) {
        return vc_ctx_done(ctx);
    }
    held = fds_named(pid, name);
    vc_expect(ctx, held == 0, "SET_VRING_KICK with the NOFD bit and a stray fd: the daemon still "
              "holds that fd");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a kick without its fd was refused; a stray fd with NOFD was closed");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
eventfd_kick_with_inband(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)) {
        return vc_ctx_skip(ctx, "INBAND_NOTIFICATIONS was not negotiated");
    }
    /* A kick fd was given: eventfd kicks take priority over in-band ones. */
    got = vc_chk_round(ctx, t, N);
    got += vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == 2 * N, "with INBAND_NOTIFICATIONS negotiated and a kick eventfd, "
              "eventfd kicks completed %u of %u requests", got, 2 * N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "eventfd kicks worked with in-band notifications negotiated");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
new_call_fd_only(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    unsigned q, got, old_calls = 0, new_calls = 0;
    int old = -1;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    q = vc_chk_queue(t);
    if (t->vq->call_fd < 0) {
        return vc_ctx_skip(ctx, "no call fd");
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not work");
    }
    VC_TRY(ctx, vc_fe_swap_call(t->fe, q, &old, VC_ERR(ctx)));
    /* Drain what the old fd got before the ack; from now on it must stay silent. */
    for (uint64_t v; read(old, &v, sizeof(v)) == sizeof(v);) {
    }
    got = vc_chk_round(ctx, t, N);
    got += vc_chk_round(ctx, t, N);
    while (vc_vq_take_call(t->vq) > 0) {
    }
    new_calls = (unsigned)t->vq->n_calls;
    for (uint64_t v; read(old, &v, sizeof(v)) == sizeof(v);) {
        old_calls++;
    }
    close(old);
    if (!vc_expect(ctx, got == 2 * N, "after the call fd swap, %u of %u requests completed", got,
                   2 * N)) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, old_calls == 0, "after SET_VRING_CALL was acked, the old call fd was still "
              "signalled");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "only the new call fd was signalled after the swap (%u calls)",
                    new_calls);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-KICK-01", "vhost-user.rst#front-end-message-types", VC_SHOULD, 0, 0, VC_CHECK_DATAPATH,
     "SET_VRING_KICK with NOFD makes the back end poll the avail ring", "no-kick-polling",
     kick_nofd_polls},
    {"VU-KICK-02", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, 0,
     "SET_VRING_KICK without its fd is refused; a stray fd with NOFD is closed",
     "kick-nofd-fd-leak", kick_fd_rules},
    {"VU-KICK-03", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(INBAND_NOTIFICATIONS), VC_CHECK_DATAPATH,
     "with in-band notifications negotiated, a kick eventfd still takes priority",
     "inband-only-kicks", eventfd_kick_with_inband},
    {"VU-CALL-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(REPLY_ACK), VC_CHECK_DATAPATH,
     "after SET_VRING_CALL is acked, only the new call fd is signalled", "old-call-fd",
     new_call_fd_only},
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
