/*
 * rng.c -- the virtio-rng device as a vhost-user back end serves it.
 * virtio 1.x 5.4 (entropy device) and 2.7 (split virtqueues: used length,
 * device-readable buffers, one used element per chain).
 */
#include "vc-chk.h"
#include "vc-drv-rng.h"

#define N 8

/* A traffic run with chains of three odd-sized writable segments. */
static VcRngDrv *
rng_traffic(VcCtx *ctx, uint32_t readable, unsigned *got)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, true);
    VcRngDrv *d;

    *got = 0;
    if (!fe) {
        return NULL;
    }
    d = vc_rng_new(fe, 0, N, 37, 3, readable, true, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, d != NULL)) {
        return NULL;
    }
    for (int round = 0; round < 2; round++) {
        unsigned posted = vc_rng_post(d, N);
        vc_vq_notify(d->vq);
        *got += vc_rng_wait(d, posted, vc_ctx_wait_ms(ctx));
    }
    return d;
}

static VcVerdict
at_least_one_byte(VcCtx *ctx)
{
    unsigned got;
    g_autoptr(VcRngDrv) d = rng_traffic(ctx, 0, &got);

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (got == 0) {
        vc_ctx_violation(ctx, "no request completed");
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < d->n; i++) {
        if (d->req[i].completions && d->req[i].used_len == 0) {
            vc_ctx_violation(ctx, "request %u completed with used.len 0 (no random byte)", i);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "%u requests, each with at least one byte", got);
    return vc_ctx_done(ctx);
}

static VcVerdict
len_counts_written_bytes(VcCtx *ctx)
{
    unsigned got;
    g_autoptr(VcRngDrv) d = rng_traffic(ctx, 0, &got);
    uint64_t total = 0;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (got == 0) {
        return vc_ctx_skip(ctx, "inconclusive: no request completed");
    }
    for (unsigned i = 0; i < d->n; i++) {
        const VcRngReq *r = &d->req[i];
        if (!r->completions) {
            continue;
        }
        if (r->used_len > r->capacity) {
            vc_ctx_violation(ctx, "request %u: used.len %u exceeds its %u writable bytes", i,
                             r->used_len, r->capacity);
            return vc_ctx_done(ctx);
        }
        /* Random data equals the guard byte about once in 256: allow for that, not more. */
        if (r->unchanged_in_len > r->used_len / 16 + 4) {
            vc_ctx_violation(ctx, "request %u: used.len %u but %u of those bytes were never "
                             "written", i, r->used_len, r->unchanged_in_len);
            return vc_ctx_done(ctx);
        }
        total += r->used_len;
    }
    vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " bytes reported, all written", total);
    return vc_ctx_done(ctx);
}

static VcVerdict
readable_untouched(VcCtx *ctx)
{
    unsigned got;
    g_autoptr(VcRngDrv) d = rng_traffic(ctx, 64, &got);

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (got == 0) {
        return vc_ctx_skip(ctx, "inconclusive: no chain with a device-readable buffer completed");
    }
    for (unsigned i = 0; i < d->n; i++) {
        if (d->req[i].completions && d->req[i].readable_changed) {
            vc_ctx_violation(ctx, "request %u: the device wrote into the device-readable buffer "
                             "at the head of the chain", i);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "%u chains with a readable head buffer: none written", got);
    return vc_ctx_done(ctx);
}

static VcVerdict
no_stray_writes(VcCtx *ctx)
{
    unsigned got;
    g_autoptr(VcRngDrv) d = rng_traffic(ctx, 0, &got);
    g_autoptr(GString) what = g_string_new(NULL);

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (got == 0) {
        return vc_ctx_skip(ctx, "inconclusive: no request completed");
    }
    g_autoptr(GArray) skip = g_array_new(FALSE, FALSE, sizeof(VcRange));
    vc_rng_allowed_ranges(d, skip);
    if (vc_chk_stray_in(d->fe, skip, what)) {
        vc_ctx_violation(ctx, "%s", what->str);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "guard pattern intact in every memfd outside rings and buffers");
    return vc_ctx_done(ctx);
}

static VcVerdict
one_used_per_chain(VcCtx *ctx)
{
    unsigned got;
    g_autoptr(VcRngDrv) d = rng_traffic(ctx, 0, &got);

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (d->faults.bad_id) {
        vc_ctx_violation(ctx, "%u used element(s) named a descriptor that heads no chain in "
                         "flight (last: id %u)", d->faults.bad_id, d->faults.last_bad_id);
        return vc_ctx_done(ctx);
    }
    if (got != 2 * N) {
        vc_ctx_violation(ctx, "%u used elements for %u chains", got, 2 * N);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "%u chains of 3 descriptors, %u used elements, all heads", 2 * N, got);
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VIO-RNG-001", "virtio-v1.2#device-operation-entropy-device", VC_MUST, 0, 0,
     VC_CHECK_DATAPATH, "every request gets at least one random byte (used.len >= 1)", "zero-len",
     at_least_one_byte, "rng"},
    {"VIO-RNG-002", "virtio-v1.2#the-virtqueue-used-ring", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "used.len never exceeds the writable space and counts only bytes really written",
     "len-overstated", len_counts_written_bytes, "rng"},
    {"VIO-RNG-003", "virtio-v1.2#message-framing", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "the device never writes a device-readable buffer", "write-readable", readable_untouched, "rng"},
    {"VIO-RNG-004", "virtio-v1.2#the-virtqueue-descriptor-table", VC_MUST, 0, 0,
     VC_CHECK_DATAPATH, "nothing outside the rings and the writable buffers is written",
     "overrun", no_stray_writes, "rng"},
    {"VIO-RNG-005", "virtio-v1.2#the-virtqueue-used-ring", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "one used element per chain, naming its head", "used-per-descriptor", one_used_per_chain, "rng"},
};

const VcCheckArea vc_area_rng = {"rng", checks, G_N_ELEMENTS(checks)};
