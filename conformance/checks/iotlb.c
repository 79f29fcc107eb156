/*
 * iotlb.c -- a back end behind a virtual IOMMU: IOVAs in rings and
 * descriptors, translated through the IOTLB the front end fills on request.
 * vhost-user.rst "IOMMU support", "Memory access", IOTLB_MSG,
 * BACKEND_IOTLB_MSG; SPEC-FACTS 7.9 (VU-MEM-03), 7.16 (VU-BCH-10), 7.17.
 *
 * The front end's IOVA of a guest-physical address is gpa + iova_offset
 * (0x100000000000), so an address used without translation matches neither
 * a guest-physical nor a user address of the memory table.
 */
#include <string.h>

#include <linux/virtio_config.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8
#define F_IOMMU (1ull << VIRTIO_F_ACCESS_PLATFORM)
#define PF_IOTLB (VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK))

/* A started device behind the IOMMU, with an empty IOTLB. */
static VcTraffic *
iommu_open(VcCtx *ctx, unsigned nreq)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcTraffic *t;

    cfg.iommu = true;
    t = vc_chk_open(ctx, &cfg, nreq);
    if (t && !vc_fe_has_feature(t->fe, VIRTIO_F_ACCESS_PLATFORM)) {
        vc_ctx_skip(ctx, "the %s profile does not negotiate VIRTIO_F_ACCESS_PLATFORM",
                    t->fe->profile->name);
        vc_traffic_free(t);
        return NULL;
    }
    return t;
}

/* One round of @n requests; a shortfall or a malformed completion is a violation. */
static bool
round_ok(VcCtx *ctx, VcTraffic *t, unsigned n, const char *when)
{
    unsigned got = vc_chk_round(ctx, t, n);
    const char *bad = vc_traffic_verify(t);

    if (got != n) {
        return vc_ctx_violation(ctx, "%s: %u of %u requests completed (IOTLB misses %" G_GUINT64_FORMAT
                                ", updates sent %" G_GUINT64_FORMAT ")", when, got, n,
                                t->fe->iotlb_misses, t->fe->iotlb_updates);
    }
    if (bad) {
        return vc_ctx_violation(ctx, "%s: %s", when, bad);
    }
    return true;
}

static bool
no_stray(VcCtx *ctx, VcTraffic *t)
{
    g_autoptr(GString) what = g_string_new(NULL);

    if (vc_chk_stray(t, NULL, 0, what)) {
        return vc_ctx_violation(ctx, "a write outside the buffers handed to the device: %s",
                                what->str);
    }
    return true;
}

static VcVerdict
iova_translated(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = iommu_open(ctx, N);
    uint64_t size = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* The whole memory mapped up front, as an IOMMU with static mappings would: a back end
     * that never misses still works, one that does not translate cannot find anything. */
    for (unsigned i = 0; i < t->fe->gm->n_regions; i++) {
        const VcRegion *r = &t->fe->gm->regions[i];
        if (r->removed) {
            continue;
        }
        VC_TRY(ctx, vc_fe_iotlb_update(t->fe, r->gpa + t->fe->iova_offset, r->size,
                                       VC_ERR(ctx)));
        size += r->size;
    }
    if (round_ok(ctx, t, N, "with ACCESS_PLATFORM, IOVAs (gpa + 0x100000000000) in the rings and "
                 "descriptors and an IOTLB covering all memory") &&
        no_stray(ctx, t)) {
        vc_ctx_note(ctx, "%u requests through IOVAs; %" G_GUINT64_FORMAT " KiB mapped, %"
                    G_GUINT64_FORMAT " more misses", N, size / 1024, t->fe->iotlb_misses);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
iotlb_msg_answered(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = iommu_open(ctx, N);
    g_autoptr(GError) err = NULL;
    const VcRegion *r;
    struct vhost_iotlb_msg im = {0};
    uint64_t status = 0, top = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    r = &t->fe->gm->regions[0];
    /* A valid update: region 0, read-write, its user address. */
    im.type = VHOST_IOTLB_UPDATE;
    im.iova = r->gpa + t->fe->iova_offset;
    im.size = r->size;
    im.uaddr = r->uva;
    im.perm = VHOST_ACCESS_RW;
    if (!vc_fe_iotlb_raw(t->fe, &im, &status, &err)) {
        vc_ctx_violation(ctx, "IOTLB_MSG update of a valid range: %s", err->message);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, status == 0, "IOTLB_MSG update of a valid range (iova 0x%" G_GINT64_MODIFIER
              "x, region 0) answered %" G_GUINT64_FORMAT ", want 0", (guint64)im.iova, status);
    /* An invalidation of it. */
    im.type = VHOST_IOTLB_INVALIDATE;
    im.uaddr = 0;
    im.perm = 0;
    if (!vc_fe_iotlb_raw(t->fe, &im, &status, &err)) {
        vc_ctx_violation(ctx, "IOTLB_MSG invalidate: %s", err->message);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, status == 0, "IOTLB_MSG invalidate of a mapped range answered %"
              G_GUINT64_FORMAT ", want 0", status);
    /* An update whose user address is in no region of the memory table. */
    for (unsigned i = 0; i < t->fe->gm->n_regions; i++) {
        top = MAX(top, t->fe->gm->regions[i].uva + t->fe->gm->regions[i].size);
    }
    im.type = VHOST_IOTLB_UPDATE;
    im.iova = t->fe->iova_offset + 0x40000000000ull;
    im.size = 0x10000;
    im.uaddr = top + 0x100000000ull;
    im.perm = VHOST_ACCESS_RW;
    if (!vc_fe_iotlb_raw(t->fe, &im, &status, &err)) {
        vc_ctx_violation(ctx, "IOTLB_MSG update outside the memory table: %s", err->message);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, status != 0, "IOTLB_MSG update to user address 0x%" G_GINT64_MODIFIER
              "x, which no region covers, answered 0 (success)", (guint64)im.uaddr);
    /* Still usable afterwards: traffic through misses. */
    if (!vc_ctx_failed(ctx) && round_ok(ctx, t, N, "after the IOTLB_MSG exchange")) {
        vc_ctx_note(ctx, "update 0, invalidate 0, bad update %" G_GUINT64_FORMAT, status);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
miss_format(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = iommu_open(ctx, N);
    uint64_t lo, hi = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* Whether the requests complete is VU-IOTLB-03's; the format of the misses is this rule. */
    vc_chk_round(ctx, t, N);
    if (t->fe->iotlb_misses == 0 && t->fe->iotlb_access_fails == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no BACKEND_IOTLB_MSG "
                           "(VU-IOTLB-03 judges that)");
    }
    for (unsigned i = 0; i < t->fe->gm->n_regions; i++) {
        hi = MAX(hi, t->fe->gm->regions[i].gpa + t->fe->gm->regions[i].size);
    }
    lo = t->fe->iova_offset;
    hi += t->fe->iova_offset;
    vc_expect(ctx, t->fe->iotlb_bad_misses == 0,
              "%" G_GUINT64_FORMAT " BACKEND_IOTLB_MSG had a type other than 1 (miss) or 4 "
              "(access failure) or a perm other than 1, 2 or 3 (last: iova 0x%"
              G_GINT64_MODIFIER "x perm %u)", t->fe->iotlb_bad_misses, t->fe->iotlb_last_iova,
              t->fe->iotlb_last_perm);
    vc_expect(ctx, t->fe->iotlb_last_iova >= lo && t->fe->iotlb_last_iova < hi,
              "the last miss asked for iova 0x%" G_GINT64_MODIFIER "x, outside every IOVA the "
              "front end handed out (0x%" G_GINT64_MODIFIER "x..0x%" G_GINT64_MODIFIER "x)",
              t->fe->iotlb_last_iova, lo, hi);
    vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " misses, all type 1 with perm 1..3 inside the IOVA "
                "space", t->fe->iotlb_misses);
    return vc_ctx_done(ctx);
}

static VcVerdict
misses_drive_translation(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = iommu_open(ctx, N);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* Nothing is pre-populated: the rings themselves must be asked for. */
    if (round_ok(ctx, t, N, "with an empty IOTLB, answering misses only")) {
        vc_expect(ctx, t->fe->iotlb_misses > 0, "requests completed with an empty IOTLB and "
                  "no miss: the daemon did not translate IOVAs");
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " misses answered by %" G_GUINT64_FORMAT
                    " updates", t->fe->iotlb_misses, t->fe->iotlb_updates);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
invalidate_forgets(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = iommu_open(ctx, N);
    uint64_t before;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!round_ok(ctx, t, N, "first round through misses")) {
        return vc_ctx_done(ctx);
    }
    if (t->fe->iotlb_misses == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no miss (VU-IOTLB-03)");
    }
    /* Everything the front end ever mapped goes away. */
    VC_TRY(ctx, vc_fe_iotlb_invalidate(t->fe, t->fe->iova_offset, 1ull << 44, VC_ERR(ctx)));
    before = t->fe->iotlb_misses;
    if (round_ok(ctx, t, N, "after invalidating the whole IOVA space")) {
        vc_expect(ctx, t->fe->iotlb_misses > before, "after an acked invalidation of every "
                  "IOVA, %u more requests completed without a single new miss: the daemon "
                  "kept using invalidated translations", N);
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " new misses after the invalidation",
                    t->fe->iotlb_misses - before);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
iommu_needs_channel(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    uint64_t need = VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* QEMU refuses such a back end at realize (vhost_user_backend_init()). */
    if ((fe->pfeatures_offered & need) != need) {
        vc_ctx_violation(ctx, "VIRTIO_F_ACCESS_PLATFORM is offered without %s%s%s (protocol "
                         "features 0x%" G_GINT64_MODIFIER "x)",
                         fe->pfeatures_offered & VC_PF(BACKEND_REQ) ? "" : "BACKEND_REQ",
                         (fe->pfeatures_offered & need) == 0 ? " and " : "",
                         fe->pfeatures_offered & VC_PF(REPLY_ACK) ? "" : "REPLY_ACK",
                         fe->pfeatures_offered);
    } else {
        vc_ctx_note(ctx, "ACCESS_PLATFORM comes with BACKEND_REQ and REPLY_ACK");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
no_iotlb_without_iommu(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    unsigned n = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    vc_chk_round(ctx, t, N);
    if (!vc_ctx_settle(ctx, t->fe, vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    for (guint i = 0; i < t->fe->obs->len; i++) {
        const VcObs *o = &g_array_index(t->fe->obs, VcObs, i);
        if ((o->kind == VC_OBS_BACKEND_MSG || o->kind == VC_OBS_BACKEND_FAULT) &&
            o->request == VHOST_USER_BACKEND_IOTLB_MSG && n++ == 0) {
            vc_ctx_violation(ctx, "without ACCESS_PLATFORM negotiated the daemon sent %s",
                             o->text);
        }
    }
    if (n == 0) {
        vc_ctx_note(ctx, "no BACKEND_IOTLB_MSG without an IOMMU");
    }
    return vc_ctx_done(ctx);
}

static const VcCheck iotlb_checks[] = {
    {"VU-MEM-03", "vhost-user.rst#memory-access", VC_MUST, F_IOMMU, PF_IOTLB, VC_CHECK_DATAPATH,
     "with ACCESS_PLATFORM, ring and descriptor addresses are IOVAs translated through the IOTLB",
     "iotlb-ignored", iova_translated},
    {"VU-IOTLB-01", "vhost-user.rst#iommu-support", VC_MUST, F_IOMMU, PF_IOTLB,
     VC_CHECK_DATAPATH, "every IOTLB_MSG is answered: 0 on success, non-zero for a bad update",
     "iotlb-no-reply-invalidate", iotlb_msg_answered},
    {"VU-IOTLB-02", "vhost-user.rst#iommu-support", VC_MUST, F_IOMMU, PF_IOTLB,
     VC_CHECK_DATAPATH, "a miss is type 1 with iova and perm (1, 2 or 3) filled in",
     "iotlb-miss-no-perm", miss_format},
    {"VU-IOTLB-03", "vhost-user.rst#iommu-support", VC_MUST, F_IOMMU, PF_IOTLB,
     VC_CHECK_DATAPATH, "with an empty IOTLB the daemon asks with misses for all it needs",
     "iotlb-no-miss", misses_drive_translation},
    {"VU-IOTLB-04", "vhost-user.rst#iommu-support", VC_MUST, F_IOMMU, PF_IOTLB,
     VC_CHECK_DATAPATH, "after an acked invalidation the old translation is not used again",
     "iotlb-stale-after-invalidate", invalidate_forgets},
    {"VU-IOTLB-05", "vhost-user.rst#iommu-support", VC_MUST, F_IOMMU, 0, 0,
     "ACCESS_PLATFORM is offered only with BACKEND_REQ and REPLY_ACK (QEMU requires both)",
     "iommu-without-backend-req", iommu_needs_channel},
    {"VU-BCH-10", "vhost-user.rst#back-end-message-types", VC_SHOULD, 0, VC_PF(BACKEND_REQ),
     VC_CHECK_DATAPATH, "no BACKEND_IOTLB_MSG unless ACCESS_PLATFORM is negotiated",
     "iotlb-miss-without-iommu", no_iotlb_without_iommu},
};

const VcCheckArea vc_area_iotlb = {"iotlb", iotlb_checks, G_N_ELEMENTS(iotlb_checks)};
