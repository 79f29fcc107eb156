/*
 * vc-traffic.h -- device-independent request traffic for the generic ring
 * checks. Each device driver offers a kind of request that the device
 * completes on its own once a ring runs and that the device answers by
 * writing into device-writable buffers:
 *
 *   rng: a buffer to fill with entropy;
 *   blk: a 512-byte read (VIRTIO_BLK_T_IN), data and status written;
 *   net: a receive buffer (the back end must have traffic to deliver);
 *   fs:  a FUSE request, the reply written;
 *   gpu: a control command, the response written.
 *
 * The generic checks (ring states, vring base, notifications, memory table)
 * drive any device through this interface: post requests, kick, reap, and
 * look at whether the device touched requests it should not have. The
 * driver records facts; the checks judge.
 */
#ifndef VC_TRAFFIC_H
#define VC_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-frontend.h"

typedef struct VcTraffic VcTraffic;

/** VcTrafficOps: one device's implementation. */
typedef struct VcTrafficOps {
    const char *device;
    /* The ring the generic checks drive (e.g. rng 0, blk 0, net 0 = receiveq1). */
    unsigned queue;
    /*
     * Requests complete only when the back end has something to deliver
     * (net: a receive buffer waits for traffic). The runner then asks once
     * per run whether anything arrives before it runs generic datapath checks.
     */
    bool needs_source;
    /* Rings of the same kind follow every queue_stride rings (net: 2, RX rings); 0 means 1. */
    unsigned queue_stride;
    /* Allocate @n requests on ring @q (guest buffers at set-up time only). */
    void *(*create)(VcFrontend *fe, unsigned q, unsigned n, GError **error);
    void (*destroy)(void *drv);
    /* Make up to @count requests available (publish, no kick); returns how many. */
    unsigned (*post)(void *drv, unsigned count);
    /* Reap every used entry; returns how many were reaped (bad ones included). */
    unsigned (*reap)(void *drv);
    /* Requests posted and not yet returned. */
    unsigned (*in_flight)(void *drv);
    /* Posted, not yet returned, but already written by the device (a side effect). */
    unsigned (*touched)(void *drv);
    /* Guest ranges a guard-pattern scan must skip (rings, this driver's buffers). */
    void (*skip_ranges)(void *drv, GArray *out);
    /*
     * NULL when every completed request so far is well formed (status, length,
     * data where it must be), else a one-line description of the first that
     * is not (owned by the driver, valid until the next call).
     */
    const char *(*verify)(void *drv);
    /* Move the writable buffers of every request not in flight into region @idx. */
    bool (*relocate)(void *drv, unsigned region, GError **error);
    /* The next request posted points its first writable buffer at @gpa (a bad address). */
    void (*poison_next)(void *drv, uint64_t gpa);
    /* Used elements that named no chain in flight. */
    unsigned (*bad_ids)(void *drv);
    /* Use indirect descriptor tables from now on (the ring must have them). */
    bool (*set_indirect)(void *drv, bool on);
    /* The ring was reset (vc_vq_reset): every request is idle again. */
    void (*forget)(void *drv);
} VcTrafficOps;

/** VcTraffic: a driver instance seen through its ops. */
struct VcTraffic {
    const VcTrafficOps *ops;
    void *drv;
    VcFrontend *fe;
    VcVq *vq;
    uint64_t completed;     /* completions reaped, bad ones excluded */
};

/**
 * vc_traffic_ops:
 * Returns: the traffic of device @type ("rng", "blk"...), or NULL when
 * vhost-conform has no driver for it.
 */
const VcTrafficOps *vc_traffic_ops(const char *type);

/**
 * vc_traffic_new:
 * @fe: a front end whose ring @q exists
 * @q: ring (G_MAXUINT: the device's traffic queue)
 * @n: requests in the pool (at most the ring size)
 *
 * Returns: (transfer full): the traffic, or NULL with @error set
 * (VC_ERROR_UNSUPPORTED when there is no driver for fe->cfg.device).
 */
VcTraffic *vc_traffic_new(VcFrontend *fe, unsigned q, unsigned n, GError **error);

/** vc_traffic_free: NULL is fine. */
void vc_traffic_free(VcTraffic *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcTraffic, vc_traffic_free)

/** vc_traffic_post: publishes up to @n requests. Returns: how many. */
unsigned vc_traffic_post(VcTraffic *t, unsigned n);

/** vc_traffic_reap: Returns: entries reaped (completed counts the good ones). */
unsigned vc_traffic_reap(VcTraffic *t);

/**
 * vc_traffic_wait:
 * Reaps until @want entries came back or @timeout_ms passed, sleeping on the
 * call fd (or polling the used ring without one) and serving the back-end
 * channel. Returns: entries reaped.
 */
unsigned vc_traffic_wait(VcTraffic *t, unsigned want, int timeout_ms);

/** vc_traffic_in_flight: Returns: requests posted and not returned. */
unsigned vc_traffic_in_flight(VcTraffic *t);

/** vc_traffic_touched: Returns: posted requests the device wrote into before completing. */
unsigned vc_traffic_touched(VcTraffic *t);

/** vc_traffic_skip_ranges: appends the ranges a guard scan must skip. */
void vc_traffic_skip_ranges(VcTraffic *t, GArray *out);

/** vc_traffic_verify: Returns: NULL, or the first malformed completion (owned by the driver). */
const char *vc_traffic_verify(VcTraffic *t);

/** vc_traffic_relocate: buffers of idle requests move to region @region. */
bool vc_traffic_relocate(VcTraffic *t, unsigned region, GError **error);

/** vc_traffic_poison_next: the next request's first writable buffer points at @gpa. */
void vc_traffic_poison_next(VcTraffic *t, uint64_t gpa);

/** vc_traffic_bad_ids: Returns: used elements that named no chain in flight. */
unsigned vc_traffic_bad_ids(VcTraffic *t);

/** vc_traffic_set_indirect: Returns: false when the ring has no indirect tables. */
bool vc_traffic_set_indirect(VcTraffic *t, bool on);

/** vc_traffic_forget: after a ring reset, every request counts as not posted. */
void vc_traffic_forget(VcTraffic *t);

#endif /* VC_TRAFFIC_H */
