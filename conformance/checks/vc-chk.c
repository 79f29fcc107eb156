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

static VcTraffic *
new_traffic(VcCtx *ctx, VcFrontend *fe, unsigned nreq)
{
    VcTraffic *t = vc_traffic_new(fe, G_MAXUINT, nreq, VC_ERR(ctx));

    if (!vc_ctx_try(ctx, t != NULL)) {
        return NULL;
    }
    return t;
}

bool
vc_chk_start(VcCtx *ctx, VcFrontend *fe, const VcStartPlan *plan, unsigned nreq, VcTraffic **t)
{
    static const VcStartPlan qemu_order = {0};
    static const VcStep before_rings[] = {
        VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_SET_VRING_CALL, VC_STEP_MEM,
        VC_STEP_END,
    };
    static const VcStep after_rings[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};
    unsigned tq;

    *t = NULL;
    if (!plan) {
        plan = &qemu_order;
    }
    if (!vc_ctx_try(ctx, vc_fe_run_steps(fe, before_rings, VC_ERR(ctx)))) {
        return false;
    }
    for (unsigned q = 0; q < fe->num_queues; q++) {
        if (!vc_ctx_try(ctx, vc_fe_create_queue(fe, q, VC_ERR(ctx)))) {
            return false;
        }
    }
    *t = new_traffic(ctx, fe, nreq);
    if (!*t) {
        return false;
    }
    tq = vc_chk_queue(*t);
    if (plan->prepost) {
        vc_traffic_post(*t, plan->prepost);
    }
    for (unsigned q = 0; q < fe->num_queues; q++) {
        /* The deviations apply to the traffic ring; the others start in QEMU's order. */
        bool mine = q == tq;
        if (!vc_ctx_try(ctx, vc_fe_set_vring_num(fe, q, VC_ERR(ctx))) ||
            !vc_ctx_try(ctx, vc_fe_set_vring_base(fe, q, vc_chk_base_at(fe->q[q].vq,
                                                                      fe->cfg.start_idx),
                                                  VC_ERR(ctx))) ||
            !vc_ctx_try(ctx, vc_fe_set_vring_addr(fe, q, VC_ERR(ctx)))) {
            return false;
        }
        if (mine && plan->enable_before_kick && proto_acked(fe) &&
            !vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, q, true, VC_ERR(ctx)))) {
            return false;
        }
        if (!(mine && plan->skip_kick_msg) &&
            !vc_ctx_try(ctx, vc_fe_set_vring_kick(fe, q, VC_ERR(ctx)))) {
            return false;
        }
        if (!(mine && (plan->skip_enable || plan->enable_before_kick)) && proto_acked(fe) &&
            !vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, q, true, VC_ERR(ctx)))) {
            return false;
        }
    }
    return vc_ctx_try(ctx, vc_fe_run_steps(fe, after_rings, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_get_features(fe, NULL, VC_ERR(ctx)));
}

VcTraffic *
vc_chk_open(VcCtx *ctx, const VcFeConfig *cfg, unsigned nreq)
{
    VcFrontend *fe = vc_ctx_open(ctx, cfg, true);

    /*
     * A barrier before traffic: without acks (qemu-legacy, dpdk-virtio-user) the last
     * messages of the start (QEMU's unmasking SET_VRING_CALL comes after the rings) may still
     * be unread when the first kick arrives on its eventfd. A guest's first request comes
     * long after the start; a GET_FEATURES round trip stands for that time.
     */
    if (!fe || !vc_ctx_try(ctx, vc_fe_get_features(fe, NULL, VC_ERR(ctx)))) {
        return NULL;
    }
    return new_traffic(ctx, fe, nreq);
}

VcTraffic *
vc_chk_open_two(VcCtx *ctx, unsigned nreq, VcTraffic **second)
{
    const VcTrafficOps *ops = vc_traffic_ops(ctx->device);
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned stride = ops && ops->queue_stride ? ops->queue_stride : 1;
    unsigned want = (ops ? ops->queue : 0) + 2 * stride;
    VcTraffic *t;

    *second = NULL;
    if (MAX(cfg.num_queues, 1u) < want) {
        VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

        if (!fe) {
            return NULL;
        }
        if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
            /* A profile that does not ask during realize: ask. */
            if (fe->queue_num == 0 &&
                !vc_ctx_try(ctx, vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false,
                                              &fe->queue_num, VC_ERR(ctx)))) {
                return NULL;
            }
            if (fe->queue_num * (g_strcmp0(ctx->device, "net") == 0 ? 2 : 1) >= want) {
                cfg.num_queues = want;
            }
        }
    }
    t = vc_chk_open(ctx, &cfg, nreq);
    for (unsigned q = t ? vc_chk_queue(t) + stride : 0; t && q < t->fe->num_queues && !*second;
         q += stride) {
        if (t->fe->q[q].vq) {
            *second = vc_traffic_new(t->fe, q, nreq, NULL);
        }
    }
    return t;
}

unsigned
vc_chk_round(VcCtx *ctx, VcTraffic *t, unsigned n)
{
    unsigned posted = vc_traffic_post(t, n);

    if (vc_vq_notify(t->vq) < 0) {
        vc_ctx_error(ctx, "kick: cannot write the kick notifier");
        return 0;
    }
    return vc_traffic_wait(t, posted, vc_ctx_wait_ms(ctx));
}

bool
vc_chk_quiet(VcCtx *ctx, VcTraffic *t, uint16_t used_before, GString *what)
{
    uint16_t used;
    unsigned written;

    if (!vc_ctx_settle(ctx, t->fe, vc_chk_quiet_ms())) {
        g_string_assign(what, "the barrier GET_FEATURES failed");
        return false;
    }
    used = vc_vq_used_idx(t->vq);
    written = vc_traffic_touched(t);
    if (used != used_before) {
        g_string_printf(what, "the used index moved from %s to %s",
                        vc_chk_idx_str(t->vq, used_before).s, vc_chk_idx_str(t->vq, used).s);
        return false;
    }
    if (written) {
        g_string_printf(what, "%u request(s) still in the avail ring were written", written);
        return false;
    }
    return true;
}

bool
vc_chk_stray_in(VcFrontend *fe, GArray *skip, GString *what)
{
    VcGmem *gm = fe->gm;
    unsigned mf;
    uint64_t off, gpa;

    /* Every ring of the device is the driver's own data. */
    for (unsigned q = 0; q < fe->num_queues; q++) {
        VcRange r[4];
        if (fe->q[q].vq) {
            g_array_append_vals(skip, r, vc_vq_ranges(fe->q[q].vq, r));
        }
    }
    if (!vc_gmem_find_stray(gm, (VcRange *)skip->data, skip->len, &mf, &off)) {
        return false;
    }
    gpa = vc_gmem_memfd_to_gpa(gm, mf, off);
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
vc_chk_stray(VcTraffic *t, const VcRange *extra, unsigned n_extra, GString *what)
{
    g_autoptr(GArray) skip = g_array_new(FALSE, FALSE, sizeof(VcRange));

    vc_traffic_skip_ranges(t, skip);
    if (n_extra) {
        g_array_append_vals(skip, extra, n_extra);
    }
    return vc_chk_stray_in(t->fe, skip, what);
}

bool
vc_chk_restart_ring(VcCtx *ctx, VcTraffic *t, uint32_t base)
{
    VcFrontend *fe = t->fe;
    unsigned q = vc_chk_queue(t);

    if (!t->vq->packed) {
        /* Split: QEMU keeps a 16-bit last_avail_idx; bits 16-31 are VU-VB-02's business. */
        base &= 0xffff;
    }
    if (vc_vq_reset_base(t->vq, base) < 0) {
        vc_ctx_violation(ctx, "ring %u cannot restart from base 0x%08x: %s is no state a ring of "
                         "%u can be in", q, base, vc_chk_base_str(t->vq, base).s, t->vq->num);
        return false;
    }
    vc_traffic_forget(t);
    /* QEMU sends the call notifier again on every start (libvhost-user drops it on stop). */
    return vc_ctx_try(ctx, vc_fe_set_vring_call(fe, q, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_num(fe, q, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_base(fe, q, base, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_addr(fe, q, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_set_vring_kick(fe, q, VC_ERR(ctx))) &&
           (!proto_acked(fe) ||
            vc_ctx_try(ctx, vc_fe_set_vring_enable(fe, q, true, VC_ERR(ctx))));
}

/* Packed: slots from a fresh ring's start (position 0, wrap 1), modulo 2 * num. */
static unsigned
packed_lin(const VcVq *vq, uint16_t v)
{
    return (v & VC_VQ_PACKED_POS_MASK) + ((v & VC_VQ_PACKED_WRAP) ? 0 : vq->num);
}

uint16_t
vc_chk_idx_add(const VcVq *vq, uint16_t v, unsigned n)
{
    unsigned lin;

    if (!vq->packed) {
        return (uint16_t)(v + n);
    }
    /* virtio 1.x "Ring Wrap Counters": the counter flips each time the ring end is passed. */
    lin = (unsigned)(((uint64_t)packed_lin(vq, v) + n) % (2u * vq->num));
    return lin < vq->num ? (uint16_t)(lin | VC_VQ_PACKED_WRAP) : (uint16_t)(lin - vq->num);
}

unsigned
vc_chk_idx_dist(const VcVq *vq, uint16_t from, uint16_t to)
{
    if (!vq->packed) {
        return (uint16_t)(to - from);
    }
    return (packed_lin(vq, to) + 2u * vq->num - packed_lin(vq, from)) % (2u * vq->num);
}

uint16_t
vc_chk_idx_at(const VcVq *vq, uint16_t idx)
{
    return vc_chk_idx_add(vq, vq->packed ? VC_VQ_PACKED_WRAP : 0, idx);
}

uint32_t
vc_chk_base_at(const VcVq *vq, uint16_t idx)
{
    uint16_t v = vc_chk_idx_at(vq, idx);

    return vq->packed ? v | (uint32_t)v << 16 : v;
}

VcChkStr
vc_chk_idx_str(const VcVq *vq, uint16_t v)
{
    VcChkStr r;

    if (vq->packed) {
        g_snprintf(r.s, sizeof(r.s), "%u (wrap %u)", v & VC_VQ_PACKED_POS_MASK,
                   (v & VC_VQ_PACKED_WRAP) != 0);
    } else {
        g_snprintf(r.s, sizeof(r.s), "%u", v);
    }
    return r;
}

VcChkStr
vc_chk_base_str(const VcVq *vq, uint32_t base)
{
    VcChkStr r;

    if (vq->packed) {
        /* SPEC-FACTS 2.2: bits 0-14 avail, 15 avail wrap, 16-30 used, 31 used wrap. */
        g_snprintf(r.s, sizeof(r.s), "avail %u (wrap %u), used %u (wrap %u) [0x%08x]",
                   base & 0x7fff, (base >> 15) & 1, (base >> 16) & 0x7fff, base >> 31, base);
    } else if (base >> 16) {
        g_snprintf(r.s, sizeof(r.s), "%u [0x%08x]", base, base);
    } else {
        g_snprintf(r.s, sizeof(r.s), "%u", base);
    }
    return r;
}
