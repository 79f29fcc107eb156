/*
 * channel.c -- the back-end channel and in-band notifications.
 * vhost-user.rst "Back-end communication", "Back-end message types",
 * VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS; SPEC-FACTS 7.3 and 7.16.
 */
#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8

/* Every back-end channel message recorded on @fe from observation @from on. */
typedef bool (*ObsJudge)(VcCtx *ctx, const VcFrontend *fe, const VcObs *o);

static unsigned
judge_channel(VcCtx *ctx, const VcFrontend *fe, guint from, ObsJudge judge)
{
    unsigned n = 0;

    for (guint i = from; i < vc_fe_obs_count(fe); i++) {
        const VcObs *o = vc_fe_obs(fe, i);
        if (o->kind != VC_OBS_BACKEND_MSG && o->kind != VC_OBS_BACKEND_FAULT) {
            continue;
        }
        n++;
        if (!judge(ctx, fe, o)) {
            break;
        }
    }
    return n;
}

/* A session whose daemon is asked for a host-side change (a resize) during traffic. */
static VcTraffic *
session_with_event(VcCtx *ctx, const VcFeConfig *cfg)
{
    VcTraffic *t = vc_chk_open(ctx, cfg, N);

    if (!t) {
        return NULL;
    }
    vc_chk_round(ctx, t, N);
    if (!vc_ctx_host_event(ctx)) {
        vc_traffic_free(t);
        return NULL;
    }
    vc_chk_round(ctx, t, N);
    vc_fe_service(t->fe, vc_chk_quiet_ms());
    return t;
}

static VcVerdict
no_requests_on_main_socket(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = session_with_event(ctx, NULL);
    g_autofree VcMsg *stray = g_new0(VcMsg, 1);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* Anything on the main socket now is unsolicited; a back-end request there is forbidden. */
    if (!vc_fe_expect_silence(t->fe, vc_chk_quiet_ms(), stray)) {
        vc_ctx_violation(ctx, "the daemon sent request %u (%s as a back-end request) flags 0x%x "
                         "on the main socket", stray->hdr.request,
                         vc_msg_short_name(VC_CHAN_BACKEND, stray->hdr.request),
                         stray->hdr.flags);
        return vc_ctx_done(ctx);
    }
    for (guint i = 0; i < vc_fe_obs_count(t->fe); i++) {
        const VcObs *o = vc_fe_obs(t->fe, i);
        if (o->kind == VC_OBS_UNSOLICITED || (o->kind == VC_OBS_REPLY_FAULT &&
                                              (o->flags & VHOST_USER_REPLY_MASK) == 0)) {
            vc_ctx_violation(ctx, "on the main socket: %s", o->text);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "after a host-side change, only replies came on the main socket");
    return vc_ctx_done(ctx);
}

static bool
judge_no_fds(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    return vc_expect(ctx, o->nfds == 0, "back-end channel %s carried %u fd(s) without "
                     "BACKEND_SEND_FD negotiated", o->text, o->nfds);
}

static VcVerdict
no_fds_without_send_fd(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned n;

    cfg.pfeatures_mask |= VC_PF(BACKEND_SEND_FD);
    t = session_with_event(ctx, &cfg);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    n = judge_channel(ctx, t->fe, 0, judge_no_fds);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u back-end message(s), none with an fd", n);
    }
    return vc_ctx_done(ctx);
}

static bool
judge_at_most_8(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    return vc_expect(ctx, o->nfds <= VHOST_USER_BACKEND_MAX_FDS,
                     "back-end channel %s carried %u fds (at most 8)", o->text, o->nfds);
}

static VcVerdict
at_most_eight_fds(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = session_with_event(ctx, NULL);
    unsigned n;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD)) {
        return vc_ctx_skip(ctx, "BACKEND_SEND_FD was not negotiated");
    }
    n = judge_channel(ctx, t->fe, 0, judge_at_most_8);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u back-end message(s), at most 8 fds each", n);
    }
    return vc_ctx_done(ctx);
}

/* A session whose calls travel in band: no call fd on the traffic ring. */
static VcTraffic *
inband_session(VcCtx *ctx, bool negotiate)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcTraffic *t;

    cfg.call = VC_NOTIFY_NONE;
    if (!negotiate) {
        cfg.pfeatures_mask |= VC_PF(INBAND_NOTIFICATIONS);
    }
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return NULL;
    }
    if (negotiate && !vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)) {
        vc_ctx_skip(ctx, "INBAND_NOTIFICATIONS was not negotiated");
        vc_traffic_free(t);
        return NULL;
    }
    for (int round = 0; round < 2; round++) {
        vc_chk_round(ctx, t, N);
    }
    vc_fe_service(t->fe, vc_chk_quiet_ms());
    return t;
}

static bool
judge_call_num_zero(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    if (o->request != VHOST_USER_BACKEND_VRING_CALL && o->request != VHOST_USER_BACKEND_VRING_ERR) {
        return true;
    }
    /* state.index is the low half of the first 8 bytes, state.num the high half. */
    return vc_expect(ctx, (o->u64 >> 32) == 0, "%s has num = %u; it is reserved and must be 0",
                     o->text, (unsigned)(o->u64 >> 32));
}

static VcVerdict
inband_num_zero(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = inband_session(ctx, true);
    unsigned n;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    unsigned q;

    n = judge_channel(ctx, t->fe, 0, judge_call_num_zero);
    q = vc_chk_queue(t);
    if (!ctx->violated && t->fe->inband_calls[q] == 0) {
        return vc_ctx_skip(ctx, "inconclusive: no BACKEND_VRING_CALL came (%u channel messages)",
                           n);
    }
    /* The error notifier in band too: no err fd, then a descriptor outside guest memory. */
    if (!ctx->violated) {
        g_autofree VcMsg *req = g_new(VcMsg, 1);
        int64_t until;

        vc_msg_init(req, VHOST_USER_SET_VRING_ERR, vc_fe_want_ack(t->fe));
        req->payload.u64 = q | VHOST_USER_VRING_NOFD_MASK;
        vc_msg_set_size(VC_CHAN_MAIN, req);
        VC_TRY(ctx, vc_fe_request(t->fe, req, NULL, VC_ERR(ctx)));
        vc_traffic_poison_next(t, 0x7e0000000000ull);
        vc_traffic_post(t, 1);
        vc_vq_notify(t->vq);
        until = g_get_monotonic_time() + (int64_t)vc_ctx_wait_ms(ctx) * 1000;
        while (t->fe->inband_errs[q] == 0 && g_get_monotonic_time() < until) {
            vc_fe_service(t->fe, 20);
        }
        judge_channel(ctx, t->fe, 0, judge_call_num_zero);
    }
    vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " in-band calls and %" G_GUINT64_FORMAT " in-band "
                "errors, num 0 in each", t->fe->inband_calls[q], t->fe->inband_errs[q]);
    return vc_ctx_done(ctx);
}

static bool
judge_no_inband(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    return vc_expect(ctx, o->request != VHOST_USER_BACKEND_VRING_CALL &&
                              o->request != VHOST_USER_BACKEND_VRING_ERR,
                     "%s sent without INBAND_NOTIFICATIONS negotiated", o->text);
}

static VcVerdict
inband_only_when_negotiated(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = inband_session(ctx, false);
    unsigned n;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->fe->bch) {
        return vc_ctx_skip(ctx, "no back-end channel was set up");
    }
    n = judge_channel(ctx, t->fe, 0, judge_no_inband);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "no call fd, no INBAND_NOTIFICATIONS: %u channel messages, no "
                    "BACKEND_VRING_CALL", n);
    }
    return vc_ctx_done(ctx);
}

static bool
judge_no_shared_object(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    return vc_expect(ctx, o->request < VHOST_USER_BACKEND_SHARED_OBJECT_ADD ||
                              o->request > VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP,
                     "%s sent without SHARED_OBJECT negotiated", o->text);
}

static VcVerdict
shared_object_only_when_negotiated(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned n;

    cfg.pfeatures_mask |= VC_PF(SHARED_OBJECT);
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->fe->bch) {
        return vc_ctx_skip(ctx, "no back-end channel was set up");
    }
    vc_chk_round(ctx, t, N);
    vc_fe_service(t->fe, vc_chk_quiet_ms());
    n = judge_channel(ctx, t->fe, 0, judge_no_shared_object);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u channel messages, none about shared objects", n);
    }
    return vc_ctx_done(ctx);
}

static bool
judge_call_need_reply(VcCtx *ctx, const VcFrontend *fe, const VcObs *o)
{
    if (o->request != VHOST_USER_BACKEND_VRING_CALL) {
        return true;
    }
    return vc_expect(ctx, o->flags & VHOST_USER_NEED_REPLY_MASK, "%s without NEED_REPLY: it "
                     "should block until handled", o->text);
}

static VcVerdict
inband_call_need_reply(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = inband_session(ctx, true);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    judge_channel(ctx, t->fe, 0, judge_call_need_reply);
    if (!ctx->violated && t->fe->inband_calls[vc_chk_queue(t)] == 0) {
        return vc_ctx_skip(ctx, "inconclusive: no BACKEND_VRING_CALL came");
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "every BACKEND_VRING_CALL asked for a reply");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
inband_without_channel_closes(VcCtx *ctx)
{
    static const VcStep negotiate[] = {VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES,
                                       VC_STEP_END};
    VcFrontend *fe = vc_ctx_connect(ctx, NULL);
    g_autoptr(GError) err = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, negotiate, VC_ERR(ctx)));
    if (!(fe->pfeatures_offered & VC_PF(INBAND_NOTIFICATIONS))) {
        return vc_ctx_skip(ctx, "the daemon does not offer INBAND_NOTIFICATIONS");
    }
    /* vhost-user.rst: INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK is an error. */
    VC_TRY(ctx, vc_fe_set_protocol_features(fe, VC_PF(INBAND_NOTIFICATIONS), VC_ERR(ctx)));
    if (vc_fe_get_features(fe, NULL, &err)) {
        vc_ctx_violation(ctx, "after SET_PROTOCOL_FEATURES with INBAND_NOTIFICATIONS but neither "
                         "BACKEND_REQ nor REPLY_ACK, the daemon kept the connection open");
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "the daemon closed the connection (%s)", err->message);
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-BCH-01", "vhost-user.rst#back-end-communication", VC_MUST, VC_F_PROTO, 0,
     VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "back-end requests never travel on the main socket", "blk:backend-req-on-main",
     no_requests_on_main_socket},
    {"VU-BCH-02", "vhost-user.rst#back-end-communication", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "back-end channel messages carry no fd without BACKEND_SEND_FD",
     "blk:channel-fd-without-send-fd", no_fds_without_send_fd},
    {"VU-BCH-03", "vhost-user.rst#back-end-communication", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ) | VC_PF(BACKEND_SEND_FD), VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "a back-end channel message carries at most 8 fds", "blk:channel-nine-fds",
     at_most_eight_fds},
    {"VU-BCH-05", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(INBAND_NOTIFICATIONS) | VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH,
     "BACKEND_VRING_CALL/ERR carry state.num 0", "inband-call-num-1", inband_num_zero},
    {"VU-BCH-07", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH,
     "BACKEND_VRING_CALL/ERR only with INBAND_NOTIFICATIONS negotiated",
     "inband-call-without-feature", inband_only_when_negotiated},
    {"VU-BCH-08", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO,
     VC_PF(BACKEND_REQ), VC_CHECK_DATAPATH,
     "BACKEND_SHARED_OBJECT_* only with SHARED_OBJECT negotiated", "shared-object-unsolicited",
     shared_object_only_when_negotiated},
    {"VU-BCH-09", "vhost-user.rst#vhost-user-protocol-f-inband-notifications", VC_SHOULD,
     VC_F_PROTO, VC_PF(INBAND_NOTIFICATIONS) | VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK),
     VC_CHECK_DATAPATH, "BACKEND_VRING_CALL asks for a reply (NEED_REPLY)",
     "inband-call-no-need-reply", inband_call_need_reply},
    {"VU-NEG-05", "vhost-user.rst#vhost-user-protocol-f-inband-notifications", VC_SHOULD,
     VC_F_PROTO, VC_PF(INBAND_NOTIFICATIONS), 0,
     "INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK closes the connection",
     "inband-no-close", inband_without_channel_closes},
};

const VcCheckArea vc_area_channel = {"channel", checks, G_N_ELEMENTS(checks)};
