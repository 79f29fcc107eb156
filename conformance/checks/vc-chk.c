/*
 * vc-chk.c -- shared building blocks of the checks.
 */
#include <string.h>

#include "vc-chk.h"
#include "vc-error.h"

int
vc_chk_quiet_ms(void)
{
    /* Long enough for a single-threaded daemon to react to a kick; longer under valgrind. */
    return g_getenv("VC_UNDER_VALGRIND") ? 500 : 150;
}

bool
vc_chk_has_reply_ack(const VcFrontend *fe)
{
    return vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK);
}

static bool
proto_acked(const VcFrontend *fe)
{
    return vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES);
}

bool
vc_chk_start(VcCtx *ctx, VcFrontend *fe, const VcStartPlan *plan, unsigned nreq, VcRngDrv **d)
{
    static const VcStartPlan qemu_order = {0};
    static const VcStep before_rings[] = {
        VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_SET_VRING_CALL, VC_STEP_MEM,
        VC_STEP_END,
    };
    static const VcStep after_rings[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};

    *d = NULL;
    if (!plan) {
        plan = &qemu_order;
    }
    if (!vc_ctx_try(ctx, vc_fe_run_steps(fe, before_rings, VC_ERR(ctx))) ||
        !vc_ctx_try(ctx, vc_fe_create_queue(fe, 0, VC_ERR(ctx)))) {
        return false;
    }
    *d = vc_rng_new(fe, 0, nreq, 64, 2, 0, true, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, *d != NULL)) {
        return false;
    }
    if (plan->prepost) {
        vc_rng_post(*d, plan->prepost);
    }
    if (!vc_ctx_try(ctx, vc_fe_set_vring_num(fe, 0, VC_ERR(ctx))) ||
        !vc_ctx_try(ctx, vc_fe_set_vring_base(fe, 0, fe->cfg.start_idx, VC_ERR(ctx))) ||
        !vc_ctx_try(ctx, vc_fe_set_vring_addr(fe, 0, VC_ERR(ctx)))) {
        return false;
    }
    if (plan->enable_before_kick && proto_acked(fe) &&
        !vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, 0, true, VC_ERR(ctx)))) {
        return false;
    }
    if (!plan->skip_kick_msg && !vc_ctx_try(ctx, vc_fe_set_vring_kick(fe, 0, VC_ERR(ctx)))) {
        return false;
    }
    if (!plan->skip_enable && !plan->enable_before_kick && proto_acked(fe) &&
        !vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, 0, true, VC_ERR(ctx)))) {
        return false;
    }
    return vc_ctx_try(ctx, vc_fe_run_steps(fe, after_rings, VC_ERR(ctx)));
}

VcRngDrv *
vc_chk_open_rng(VcCtx *ctx, const VcFeConfig *cfg, unsigned nreq, uint32_t seg_len, unsigned nseg)
{
    VcFrontend *fe = vc_ctx_open(ctx, cfg, true);
    VcRngDrv *d;

    if (!fe) {
        return NULL;
    }
    d = vc_rng_new(fe, 0, nreq, seg_len, nseg, 0, true, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, d != NULL)) {
        return NULL;
    }
    return d;
}

unsigned
vc_chk_round(VcCtx *ctx, VcRngDrv *d, unsigned n)
{
    unsigned posted = vc_rng_post(d, n);

    if (vc_vq_notify(d->vq) < 0) {
        vc_ctx_error(ctx, "kick: cannot write the kick notifier");
        return 0;
    }
    return vc_rng_wait(d, posted, vc_ctx_wait_ms(ctx));
}

unsigned
vc_chk_posted_written(VcRngDrv *d)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        const VcRngReq *r = &d->req[i];
        bool written = false;
        if (!r->posted) {
            continue;
        }
        for (unsigned s = 0; s < r->nseg && !written; s++) {
            uint64_t l = r->seg[s].len;
            const uint8_t *p = vc_gmem_to_hva(d->fe->gm, r->seg[s].gpa, &l);
            for (uint64_t k = 0; p && k < l; k++) {
                if (p[k] != VC_GMEM_GUARD) {
                    written = true;
                    break;
                }
            }
        }
        n += written;
    }
    return n;
}

bool
vc_chk_quiet(VcCtx *ctx, VcRngDrv *d, uint16_t used_before, GString *what)
{
    uint16_t used;
    unsigned written;

    if (!vc_ctx_settle(ctx, d->fe, vc_chk_quiet_ms())) {
        g_string_assign(what, "the barrier GET_FEATURES failed");
        return false;
    }
    used = vc_vq_used_idx(d->vq);
    written = vc_chk_posted_written(d);
    if (used != used_before) {
        g_string_printf(what, "the used index moved from %u to %u", used_before, used);
        return false;
    }
    if (written) {
        g_string_printf(what, "%u buffer(s) still in the avail ring were written", written);
        return false;
    }
    return true;
}

bool
vc_chk_stray(VcRngDrv *d, const VcRange *extra, unsigned n_extra, GString *what)
{
    g_autoptr(GArray) allowed = g_array_new(FALSE, FALSE, sizeof(VcRange));
    unsigned mf;
    uint64_t off, gpa;

    vc_rng_allowed_ranges(d, allowed);
    if (n_extra) {
        g_array_append_vals(allowed, extra, n_extra);
    }
    if (!vc_gmem_find_stray(d->fe->gm, (VcRange *)allowed->data, allowed->len, &mf, &off)) {
        return false;
    }
    gpa = vc_gmem_memfd_to_gpa(d->fe->gm, mf, off);
    if (gpa == UINT64_MAX) {
        g_string_printf(what, "memfd %u byte 0x%" G_GINT64_MODIFIER "x was written; it belongs to "
                        "no region (it lies outside every region's mmap_offset range)", mf, off);
    } else {
        g_string_printf(what, "guest byte 0x%" G_GINT64_MODIFIER "x (memfd %u offset 0x%"
                        G_GINT64_MODIFIER "x) was written; it is in no ring and no buffer",
                        gpa, mf, off);
    }
    return true;
}

bool
vc_chk_restart_ring(VcCtx *ctx, VcRngDrv *d, uint16_t base)
{
    VcFrontend *fe = d->fe;

    vc_vq_reset(d->vq, base);
    for (unsigned i = 0; i < d->n; i++) {
        d->req[i].posted = false;
    }
    return vc_ctx_try(ctx, vc_fe_set_vring_num(fe, 0, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_base(fe, 0, base, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_addr(fe, 0, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_kick(fe, 0, VC_ERR(ctx))) &&
           (!proto_acked(fe) ||
            vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, 0, true, VC_ERR(ctx))));
}
