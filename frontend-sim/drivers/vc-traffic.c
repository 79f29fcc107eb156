/*
 * vc-traffic.c -- the table of device traffic and its generic helpers.
 */
#include "vc-drv-blk.h"
#include "vc-drv-fs.h"
#include "vc-drv-gpu.h"
#include "vc-drv-net.h"
#include "vc-drv-rng.h"
#include "vc-error.h"
#include "vc-traffic.h"

/* Every driver with traffic, one row each. */
static const VcTrafficOps *const traffic_table[] = {
    &vc_rng_traffic_ops,
    &vc_net_traffic_ops,
    &vc_gpu_traffic_ops,
    &vc_blk_traffic_ops,
    &vc_fs_traffic_ops,
};

const VcTrafficOps *
vc_traffic_ops(const char *type)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(traffic_table) && type; i++) {
        if (g_str_equal(traffic_table[i]->device, type)) {
            return traffic_table[i];
        }
    }
    return NULL;
}

VcTraffic *
vc_traffic_new(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    const VcTrafficOps *ops = vc_traffic_ops(fe->cfg.device);
    VcTraffic *t;
    void *drv;

    if (!ops) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "no datapath driver for device type '%s'",
                    fe->cfg.device ? fe->cfg.device : "unknown");
        return NULL;
    }
    if (q == G_MAXUINT) {
        q = ops->queue;
    }
    if (q >= VC_FE_MAX_QUEUES || !fe->q[q].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "traffic: ring %u does not exist", q);
        return NULL;
    }
    drv = ops->create(fe, q, n, error);
    if (!drv) {
        return NULL;
    }
    t = g_new0(VcTraffic, 1);
    t->ops = ops;
    t->drv = drv;
    t->fe = fe;
    t->vq = fe->q[q].vq;
    return t;
}

void
vc_traffic_free(VcTraffic *t)
{
    if (!t) {
        return;
    }
    t->ops->destroy(t->drv);
    g_free(t);
}

unsigned
vc_traffic_post(VcTraffic *t, unsigned n)
{
    return t->ops->post(t->drv, n);
}

unsigned
vc_traffic_reap(VcTraffic *t)
{
    unsigned bad = t->ops->bad_ids(t->drv);
    unsigned n = t->ops->reap(t->drv);

    t->completed += n - (t->ops->bad_ids(t->drv) - bad);
    return n;
}

unsigned
vc_traffic_wait(VcTraffic *t, unsigned want, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;
    unsigned got = 0;

    for (;;) {
        got += vc_traffic_reap(t);
        if (got >= want) {
            return got;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return got;
        }
        if (t->vq->call_fd >= 0) {
            /* Calls may be suppressed: look at the used ring regularly anyway. */
            vc_vq_wait_call(t->vq, (int)MIN(left, 20));
        } else {
            g_usleep(200);
        }
        vc_fe_service(t->fe, 0);
    }
}

unsigned
vc_traffic_in_flight(VcTraffic *t)
{
    return t->ops->in_flight(t->drv);
}

unsigned
vc_traffic_touched(VcTraffic *t)
{
    return t->ops->touched(t->drv);
}

void
vc_traffic_skip_ranges(VcTraffic *t, GArray *out)
{
    t->ops->skip_ranges(t->drv, out);
}

const char *
vc_traffic_verify(VcTraffic *t)
{
    return t->ops->verify(t->drv);
}

bool
vc_traffic_relocate(VcTraffic *t, unsigned region, GError **error)
{
    return t->ops->relocate(t->drv, region, error);
}

void
vc_traffic_poison_next(VcTraffic *t, uint64_t gpa)
{
    t->ops->poison_next(t->drv, gpa);
}

unsigned
vc_traffic_bad_ids(VcTraffic *t)
{
    return t->ops->bad_ids(t->drv);
}

bool
vc_traffic_set_indirect(VcTraffic *t, bool on)
{
    return t->ops->set_indirect(t->drv, on);
}

void
vc_traffic_forget(VcTraffic *t)
{
    t->ops->forget(t->drv);
}
