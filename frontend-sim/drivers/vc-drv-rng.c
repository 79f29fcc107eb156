/*
 * vc-drv-rng.c -- virtio-rng driver side.
 */
#include <errno.h>
#include <string.h>

#include "vc-drv-rng.h"
#include "vc-error.h"

VcRngDrv *
vc_rng_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t seg_len, unsigned nseg,
           uint32_t readable_len, bool checked, GError **error)
{
    g_autoptr(VcRngDrv) d = NULL;

    if (q >= VC_FE_MAX_QUEUES || !fe->q[q].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "rng: ring %u does not exist", q);
        return NULL;
    }
    if (nseg == 0 || nseg > VC_RNG_MAX_SEGS || seg_len == 0 || n == 0 ||
        n > fe->q[q].vq->num) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "rng: bad request shape");
        return NULL;
    }
    d = g_new0(VcRngDrv, 1);
    d->fe = fe;
    d->q = q;
    d->vq = fe->q[q].vq;
    d->n = n;
    d->checked = checked;
    d->req = g_new0(VcRngReq, n);
    for (unsigned i = 0; i < n; i++) {
        VcRngReq *r = &d->req[i];
        for (unsigned s = 0; s < nseg; s++) {
            if (!vc_fe_alloc_buffer(fe, seg_len, 64, &r->seg[s].gpa)) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                            "rng: guest memory too small for %u x %u x %u bytes", n, nseg,
                            seg_len);
                return NULL;
            }
            r->seg[s].len = seg_len;
            r->capacity += seg_len;
        }
        r->nseg = nseg;
        if (readable_len &&
            !vc_fe_alloc_buffer(fe, readable_len, 64, &r->readable.gpa)) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "rng: guest memory too small");
            return NULL;
        }
        r->readable.len = readable_len;
    }
    return g_steal_pointer(&d);
}

void
vc_rng_free(VcRngDrv *d)
{
    if (!d) {
        return;
    }
    g_free(d->req);
    g_free(d);
}

unsigned
vc_rng_post(VcRngDrv *d, unsigned count)
{
    unsigned added = 0;

    for (unsigned tries = 0; tries < d->n && added < count; tries++) {
        VcRngReq *r = &d->req[d->next];
        unsigned idx = d->next;

        d->next = (d->next + 1) % d->n;
        if (r->posted) {
            continue;
        }
        if (d->checked) {
            for (unsigned s = 0; s < r->nseg; s++) {
                vc_gmem_fill(d->fe->gm, r->seg[s].gpa, r->seg[s].len, VC_GMEM_GUARD);
            }
            if (r->readable.len) {
                vc_gmem_fill(d->fe->gm, r->readable.gpa, r->readable.len, VC_GMEM_GUARD);
            }
        }
        if (vc_vq_add(d->vq, r->readable.len ? &r->readable : NULL, r->readable.len ? 1 : 0,
                      r->seg, r->nseg, r, d->add_flags) < 0) {
            d->next = idx;
            break;
        }
        r->posted = true;
        added++;
    }
    if (added) {
        vc_vq_publish(d->vq);
    }
    return added;
}

static void
inspect(VcRngDrv *d, VcRngReq *r, uint32_t len)
{
    uint32_t off = 0;

    r->unchanged_in_len = 0;
    r->changed_beyond_len = 0;
    for (unsigned s = 0; s < r->nseg; s++) {
        uint64_t l = r->seg[s].len;
        const uint8_t *p = vc_gmem_to_hva(d->fe->gm, r->seg[s].gpa, &l);
        for (uint32_t i = 0; p && i < l; i++, off++) {
            bool changed = p[i] != VC_GMEM_GUARD;
            if (off < len) {
                r->unchanged_in_len += !changed;
            } else {
                r->changed_beyond_len += changed;
            }
        }
    }
    r->readable_changed = false;
    if (r->readable.len) {
        uint64_t l = r->readable.len;
        const uint8_t *p = vc_gmem_to_hva(d->fe->gm, r->readable.gpa, &l);
        for (uint32_t i = 0; p && i < l; i++) {
            if (p[i] != VC_GMEM_GUARD) {
                r->readable_changed = true;
                break;
            }
        }
    }
}

unsigned
vc_rng_reap(VcRngDrv *d)
{
    unsigned n = 0;

    for (;;) {
        void *token;
        uint32_t len, head;
        int r = vc_vq_pop_used(d->vq, &token, &len, &head);

        if (r == 0) {
            break;
        }
        n++;
        if (r < 0) {
            d->faults.bad_id++;
            d->faults.last_bad_id = head;
            continue;
        }
        VcRngReq *req = token;
        req->posted = false;
        req->completions++;
        req->used_len = len;
        d->completed++;
        d->bytes += len;
        if (d->checked) {
            inspect(d, req, len);
        }
    }
    return n;
}

unsigned
vc_rng_wait(VcRngDrv *d, unsigned want, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;
    unsigned got = 0;

    for (;;) {
        got += vc_rng_reap(d);
        if (got >= want) {
            return got;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return got;
        }
        if (d->vq->call_fd >= 0) {
            /* Calls may be suppressed; wake up regularly to look at the used ring anyway. */
            vc_vq_wait_call(d->vq, (int)MIN(left, 20));
        } else {
            g_usleep(200);
        }
        vc_fe_service(d->fe, 0);
    }
}

unsigned
vc_rng_allowed_ranges(const VcRngDrv *d, GArray *out)
{
    VcRange ring[4];
    unsigned n = vc_vq_ranges(d->vq, ring);

    g_array_append_vals(out, ring, n);
    for (unsigned i = 0; i < d->n; i++) {
        for (unsigned s = 0; s < d->req[i].nseg; s++) {
            VcRange r = {d->req[i].seg[s].gpa, d->req[i].seg[s].len};
            g_array_append_val(out, r);
            n++;
        }
    }
    return n;
}

unsigned
vc_rng_in_flight(const VcRngDrv *d)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        n += d->req[i].posted;
    }
    return n;
}

/* --- Generic traffic (vc-traffic.h) ------------------------------------------------------ */

typedef struct RngTraffic {
    VcRngDrv *d;
    uint64_t poison;       /* next request's first buffer address, 0: none */
    char why[160];
} RngTraffic;

static void *
rng_t_create(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    RngTraffic *t;
    VcRngDrv *d = vc_rng_new(fe, q, n, 64, 2, 0, true, error);

    if (!d) {
        return NULL;
    }
    t = g_new0(RngTraffic, 1);
    t->d = d;
    return t;
}

static void
rng_t_destroy(void *p)
{
    RngTraffic *t = p;

    vc_rng_free(t->d);
    g_free(t);
}

static unsigned
rng_t_post(void *p, unsigned count)
{
    RngTraffic *t = p;

    if (t->poison && count) {
        /* The next idle request gets the bad address; it is never expected back. */
        for (unsigned k = 0; k < t->d->n; k++) {
            VcRngReq *r = &t->d->req[(t->d->next + k) % t->d->n];
            if (!r->posted) {
                r->seg[0].gpa = t->poison;
                break;
            }
        }
        t->poison = 0;
    }
    return vc_rng_post(t->d, count);
}

static unsigned
rng_t_reap(void *p)
{
    return vc_rng_reap(((RngTraffic *)p)->d);
}

static unsigned
rng_t_in_flight(void *p)
{
    return vc_rng_in_flight(((RngTraffic *)p)->d);
}

static unsigned
rng_t_touched(void *p)
{
    VcRngDrv *d = ((RngTraffic *)p)->d;
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        const VcRngReq *r = &d->req[i];
        bool written = false;
        for (unsigned s = 0; r->posted && s < r->nseg && !written; s++) {
            uint64_t l = r->seg[s].len;
            const uint8_t *hva = vc_gmem_to_hva(d->fe->gm, r->seg[s].gpa, &l);
            for (uint64_t k = 0; hva && k < l && !written; k++) {
                written = hva[k] != VC_GMEM_GUARD;
            }
        }
        n += written;
    }
    return n;
}

static void
rng_t_skip_ranges(void *p, GArray *out)
{
    vc_rng_allowed_ranges(((RngTraffic *)p)->d, out);
}

static const char *
rng_t_verify(void *p)
{
    RngTraffic *t = p;
    VcRngDrv *d = t->d;

    for (unsigned i = 0; i < d->n; i++) {
        const VcRngReq *r = &d->req[i];
        if (!r->completions) {
            continue;
        }
        if (r->used_len > r->capacity) {
            g_snprintf(t->why, sizeof(t->why), "request %u: used.len %u exceeds its %u writable "
                       "bytes", i, r->used_len, r->capacity);
            return t->why;
        }
        /* Random bytes equal the guard about once in 256: allow that much, no more. */
        if (r->unchanged_in_len > r->used_len / 16 + 4) {
            g_snprintf(t->why, sizeof(t->why), "request %u (gpa 0x%" G_GINT64_MODIFIER "x): "
                       "used.len %u but %u of those bytes never reached the buffer", i,
                       r->seg[0].gpa, r->used_len, r->unchanged_in_len);
            return t->why;
        }
    }
    return NULL;
}

static bool
rng_t_relocate(void *p, unsigned region, GError **error)
{
    VcRngDrv *d = ((RngTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        VcRngReq *r = &d->req[i];
        for (unsigned s = 0; !r->posted && s < r->nseg; s++) {
            /* The old buffer is given back clean, so a guard scan does not see our data. */
            vc_gmem_fill(d->fe->gm, r->seg[s].gpa, r->seg[s].len, VC_GMEM_GUARD);
            if (!vc_gmem_alloc_in(d->fe->gm, region, r->seg[s].len, 64, &r->seg[s].gpa)) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                            "rng: region %u has no room for the buffers", region);
                return false;
            }
        }
    }
    return true;
}

static void
rng_t_poison_next(void *p, uint64_t gpa)
{
    ((RngTraffic *)p)->poison = gpa;
}

static unsigned
rng_t_bad_ids(void *p)
{
    return ((RngTraffic *)p)->d->faults.bad_id;
}

static bool
rng_t_set_indirect(void *p, bool on)
{
    VcRngDrv *d = ((RngTraffic *)p)->d;

    if (on && !(d->vq->flags & VC_VQ_INDIRECT)) {
        return false;
    }
    d->add_flags = on ? VC_ADD_INDIRECT : 0;
    return true;
}

static void
rng_t_forget(void *p)
{
    VcRngDrv *d = ((RngTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        d->req[i].posted = false;
    }
}

const VcTrafficOps vc_rng_traffic_ops = {
    .device = "rng",
    .queue = 0,
    .create = rng_t_create,
    .destroy = rng_t_destroy,
    .post = rng_t_post,
    .reap = rng_t_reap,
    .in_flight = rng_t_in_flight,
    .touched = rng_t_touched,
    .skip_ranges = rng_t_skip_ranges,
    .verify = rng_t_verify,
    .relocate = rng_t_relocate,
    .poison_next = rng_t_poison_next,
    .bad_ids = rng_t_bad_ids,
    .set_indirect = rng_t_set_indirect,
    .forget = rng_t_forget,
};
