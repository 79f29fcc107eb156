/*
 * vring-base.c -- SET_VRING_BASE / GET_VRING_BASE and index arithmetic.
 * vhost-user.rst SET_VRING_BASE, GET_VRING_BASE, "Ring states"; virtio 1.x
 * 2.7.6 (free-running 16-bit indices), 2.8.1 (packed ring wrap counters);
 * SPEC-FACTS 2.2 and 7.6.
 */
#include <linux/virtio_config.h>

#include "vc-chk.h"
#include "vc-msg-table.h"

#define N 8

/*
 * Index expectations come from the driver's bookkeeping: once every chain
 * made available was used, the used index stands where the driver's avail
 * index does and vc_vq_base() is what GET_VRING_BASE must answer. That holds
 * for both layouts (a split ring counts chains, a packed one descriptor slots
 * with wrap counters), so no check does 16-bit arithmetic of its own.
 */

/* What a GET_VRING_BASE answer should have been, in words, for a message. */
static const char *
base_meaning(const VcVq *vq)
{
    return vq->packed ? "next avail and next used index, each with its wrap counter"
                      : "the next avail index in bits 0-15, 0 above";
}

static VcVerdict
set_base_is_start(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    unsigned got;
    uint16_t start, used;

    /* Both rings start at 7: avail entries 7..9 (packed: from slot 7 on) are the first consumed. */
    cfg.start_idx = 7;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    start = vc_chk_idx_at(t->vq, 7);
    got = vc_chk_round(ctx, t, 3);
    used = vc_vq_used_idx(t->vq);
    vc_expect(ctx, got == 3 && used == t->vq->avail_idx && vc_traffic_bad_ids(t) == 0,
              "SET_VRING_BASE %s with 3 requests made available from index %s: %u completed, "
              "used index %s (want %s), %u bad used ids",
              vc_chk_base_str(t->vq, vc_chk_base_at(t->vq, 7)).s, vc_chk_idx_str(t->vq, start).s,
              got, vc_chk_idx_str(t->vq, used).s, vc_chk_idx_str(t->vq, t->vq->avail_idx).s,
              vc_traffic_bad_ids(t));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "consumption started at avail index %s; used index went %s -> %s",
                    vc_chk_idx_str(t->vq, start).s, vc_chk_idx_str(t->vq, start).s,
                    vc_chk_idx_str(t->vq, used).s);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
get_base_is_next_avail(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    uint32_t base, want;
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
    /* Split: 113 in bits 0-15, 0 above. Packed (SPEC-FACTS 2.2): avail and used halves. */
    want = vc_vq_base(t->vq);
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    vc_expect(ctx, base == want, "GET_VRING_BASE answered %s after 13 requests from base %s; "
              "want %s (%s)", vc_chk_base_str(t->vq, base).s,
              vc_chk_base_str(t->vq, vc_chk_base_at(t->vq, 100)).s,
              vc_chk_base_str(t->vq, want).s, base_meaning(t->vq));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "base %s + 13 requests -> GET_VRING_BASE %s",
                    vc_chk_base_str(t->vq, vc_chk_base_at(t->vq, 100)).s,
                    vc_chk_base_str(t->vq, base).s);
    }
    return vc_ctx_done(ctx);
}

/*
 * Rounds of N requests until @slots ring slots went by (split: chains,
 * packed: descriptors). Returns: the round that fell short (1-based), 0 when
 * all completed; *@got holds what it completed.
 */
static unsigned
run_slots(VcCtx *ctx, VcTraffic *t, unsigned slots, unsigned *got)
{
    unsigned done = 0;

    for (unsigned round = 1; done < slots; round++) {
        uint16_t before = t->vq->avail_idx;
        *got = vc_chk_round(ctx, t, N);
        if (*got != N || vc_traffic_bad_ids(t)) {
            return round;
        }
        done += vc_chk_idx_dist(t->vq, before, t->vq->avail_idx);
    }
    return 0;
}

/* The four fields of a packed base that differ from @want, in words ("" when none). */
static GString *
packed_fields_wrong(uint32_t base, uint32_t want)
{
    static const struct {
        uint32_t mask;
        const char *name;
    } fields[] = {
        {0x00007fffu, "the avail index"},
        {0x00008000u, "the avail wrap counter"},
        {0x7fff0000u, "the used index"},
        {0x80000000u, "the used wrap counter"},
    };
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < G_N_ELEMENTS(fields); i++) {
        if ((base ^ want) & fields[i].mask) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", fields[i].name);
        }
    }
    return s;
}

/* GET_VRING_BASE on a quiescent packed ring, judged field by field. Returns: false when not. */
static bool
packed_base_right(VcCtx *ctx, VcTraffic *t, const char *when, uint32_t *base)
{
    uint32_t want = vc_vq_base(t->vq);
    g_autoptr(GString) wrong = NULL;

    if (!vc_ctx_try(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), base, VC_ERR(ctx)))) {
        return false;
    }
    wrong = packed_fields_wrong(*base, want);
    return vc_expect(ctx, wrong->len == 0, "%s, GET_VRING_BASE answered %s; want %s: %s wrong",
                     when, vc_chk_base_str(t->vq, *base).s, vc_chk_base_str(t->vq, want).s,
                     wrong->str);
}

static VcVerdict
packed_base_round_trip(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = NULL;
    uint32_t base, base2;
    unsigned short_round, got = 0, num;

    /* SPEC-FACTS 7.6 VU-VB-03: the rule is about the packed layout of the base. */
    vc_require(ctx, ctx->base.packed, "needs a packed ring: --ring packed");
    t = vc_chk_open(ctx, NULL, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!t->vq->packed) {
        return vc_ctx_error(ctx, "VIRTIO_F_RING_PACKED was negotiated but the ring is split");
    }
    num = t->vq->num;
    /* A lap and a half: both wrap counters are 0 and the positions are mid-ring. */
    short_round = run_slots(ctx, t, num + num / 2, &got);
    if (short_round) {
        return vc_ctx_skip(ctx, "inconclusive: before any stop, round %u completed %u of %u "
                           "(driver at %s, used index %s): the ring did not wrap (VIO-RING-003)",
                           short_round, got, N, vc_chk_idx_str(t->vq, t->vq->avail_idx).s,
                           vc_chk_idx_str(t->vq, vc_vq_used_idx(t->vq)).s);
    }
    if (!packed_base_right(ctx, t, "after the ring wrapped once", &base)) {
        return vc_ctx_done(ctx);
    }
    /* QEMU's restart from the saved value: SET_VRING_BASE must restore all four fields. */
    if (!vc_chk_restart_ring(ctx, t, base)) {
        return vc_ctx_done(ctx);
    }
    short_round = run_slots(ctx, t, num, &got);
    if (short_round) {
        vc_ctx_violation(ctx, "after SET_VRING_BASE %s, round %u completed %u of %u with %u bad "
                         "used ids (driver at %s, used index %s)", vc_chk_base_str(t->vq, base).s,
                         short_round, got, N, vc_traffic_bad_ids(t),
                         vc_chk_idx_str(t->vq, t->vq->avail_idx).s,
                         vc_chk_idx_str(t->vq, vc_vq_used_idx(t->vq)).s);
        return vc_ctx_done(ctx);
    }
    if (vc_traffic_verify(t)) {
        vc_ctx_violation(ctx, "after SET_VRING_BASE %s, %s", vc_chk_base_str(t->vq, base).s,
                         vc_traffic_verify(t));
        return vc_ctx_done(ctx);
    }
    if (!packed_base_right(ctx, t, "after the restart and another wrap", &base2)) {
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "wrapped, GET_VRING_BASE %s; restarted from it, wrapped again: %s",
                vc_chk_base_str(t->vq, base).s, vc_chk_base_str(t->vq, base2).s);
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
    /* Every fetched chain completed: the next avail index is the used one. */
    if (!vc_expect(ctx, (uint16_t)base == used,
                   "GET_VRING_BASE answered %s but the used index was %s when the reply came: "
                   "%u fetched %s not completed first", vc_chk_base_str(t->vq, base).s,
                   vc_chk_idx_str(t->vq, used).s, vc_chk_idx_dist(t->vq, used, (uint16_t)base),
                   t->vq->packed ? "descriptor slot(s) were" : "request(s) were")) {
        return vc_ctx_done(ctx);
    }
    /* SPEC-FACTS 2.2: a packed answer also says where the used index is, in bits 16-31. */
    if (!vc_expect(ctx, !t->vq->packed || (uint16_t)(base >> 16) == used,
                   "GET_VRING_BASE answered %s but the used index was %s when the reply came",
                   vc_chk_base_str(t->vq, base).s, vc_chk_idx_str(t->vq, used).s)) {
        return vc_ctx_done(ctx);
    }
    if (!vc_chk_quiet(ctx, t, used, what) && !vc_ctx_failed(ctx)) {
        vc_ctx_violation(ctx, "after the GET_VRING_BASE reply %s", what->str);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "at the reply, used index == returned base (%s), and nothing moved after",
                    vc_chk_idx_str(t->vq, used).s);
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
    if (!vc_expect(ctx, b1 == b2, "a second GET_VRING_BASE answered %s, the first %s: stopping "
                   "reset the ring", vc_chk_base_str(t->vq, b2).s,
                   vc_chk_base_str(t->vq, b1).s)) {
        return vc_ctx_done(ctx);
    }
    /* QEMU's restart: the whole ring set-up again from the saved base. */
    if (!vc_chk_restart_ring(ctx, t, b1)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, 4);
    vc_expect(ctx, got == 4 && vc_vq_used_idx(t->vq) == t->vq->avail_idx,
              "after restarting from base %s: %u of 4 completed, used index %s (want %s)",
              vc_chk_base_str(t->vq, b1).s, got, vc_chk_idx_str(t->vq, vc_vq_used_idx(t->vq)).s,
              vc_chk_idx_str(t->vq, t->vq->avail_idx).s);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "GET_VRING_BASE twice = %s; resumed from it and completed 4 more",
                    vc_chk_base_str(t->vq, b1).s);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
index_wrap(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    uint32_t base, want;
    unsigned got = 0;

    /* 6 before 65536: split indices wrap to 0; a packed ring (num divides 65536) hits its end. */
    cfg.start_idx = 65530;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned round = 0; round < 3; round++) {
        unsigned n = vc_chk_round(ctx, t, N);
        got += n;
        if (n != N) {
            vc_ctx_violation(ctx, "starting at index %s, round %u completed %u of %u (%s)",
                             vc_chk_idx_str(t->vq, vc_chk_idx_at(t->vq, 65530)).s, round + 1, n,
                             N, t->vq->packed ? "positions must wrap to 0 at the ring end and "
                                                "the wrap counters flip"
                                              : "indices must wrap from 65535 to 0");
            return vc_ctx_done(ctx);
        }
    }
    want = vc_vq_base(t->vq);
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)));
    vc_expect(ctx, base == want, "after wrapping, GET_VRING_BASE answered %s, want %s",
              vc_chk_base_str(t->vq, base).s, vc_chk_base_str(t->vq, want).s);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u requests across the %s; base %s", got,
                    t->vq->packed ? "ring end" : "65535 -> 0 wrap",
                    vc_chk_base_str(t->vq, base).s);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-VB-01", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "SET_VRING_BASE sets the first avail index consumed; used index comes from guest memory "
     "(split) or the base (packed)", "ignore-set-base", set_base_is_start},
    {"VU-VB-02", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "GET_VRING_BASE answers the next avail index to process, bits 16..31 zero (split) or the "
     "used index (packed)", "get-base-zero", get_base_is_next_avail},
    {"VU-VB-03", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F(VIRTIO_F_RING_PACKED), 0,
     VC_CHECK_DATAPATH, "packed ring: GET_VRING_BASE holds both indices and wrap counters; "
     "SET_VRING_BASE restores all four", "packed-base-no-wrap", packed_base_round_trip},
    {"VU-VB-04", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "every fetched request is completed before GET_VRING_BASE is answered",
     "reply-before-drain", inflight_done_before_reply},
    {"VU-VB-06", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "stopping does not reset the ring: the base repeats and the ring resumes from it",
     "get-base-resets", stop_does_not_reset},
    {"VIO-RING-003", "virtio-v1.2#split-virtqueue-available-ring", VC_MUST, 0, 0,
     VC_CHECK_DATAPATH, "ring indices wrap: from 65535 to 0 (split), at the ring end flipping "
     "the wrap counters (packed)", "no-wrap", index_wrap},
};

const VcCheckArea vc_area_vring_base = {"vring-base", checks, G_N_ELEMENTS(checks)};
