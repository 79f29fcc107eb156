/*
 * vc-drv-rng.h -- the driver side of virtio-rng (virtio 1.x section 5.4,
 * device id 4): one request queue of device-writable buffers.
 *
 * In checked mode every buffer is filled with the guard pattern before it
 * is posted, and on completion the driver records what the device wrote:
 * how much of the first used.len bytes changed and whether anything beyond
 * used.len changed. In fast mode (benchmarks) nothing is filled or
 * inspected. The driver decides no verdict.
 */
#ifndef VC_DRV_RNG_H
#define VC_DRV_RNG_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-frontend.h"
#include "vc-traffic.h"

#define VC_RNG_MAX_SEGS 8

/** VcRngReq: one request and what came back for it. */
typedef struct VcRngReq {
    VcSg seg[VC_RNG_MAX_SEGS];   /* device-writable buffers */
    unsigned nseg;
    VcSg readable;               /* optional device-readable buffer (len 0: none) */
    uint32_t capacity;           /* sum of writable lengths */
    bool posted;                 /* handed to the device, not yet returned */
    uint32_t completions;        /* times the device returned this chain */
    uint32_t used_len;           /* last used.len */
    uint32_t unchanged_in_len;   /* guard bytes left inside the first used_len bytes */
    uint32_t changed_beyond_len; /* bytes changed after used_len, inside the buffers */
    bool readable_changed;       /* the device wrote into the readable buffer */
} VcRngReq;

/** VcRngFaults: anomalies seen while reaping. */
typedef struct VcRngFaults {
    unsigned bad_id;       /* used ids out of range or not in flight */
    uint32_t last_bad_id;
} VcRngFaults;

typedef struct VcRngDrv {
    VcFrontend *fe;
    unsigned q;
    VcVq *vq;
    VcRngReq *req;         /* pool of n requests */
    unsigned n;
    unsigned next;         /* next request to post (round robin) */
    bool checked;          /* fill and inspect buffers */
    unsigned add_flags;    /* VC_ADD_INDIRECT */
    VcRngFaults faults;
    uint64_t completed;
    uint64_t bytes;
} VcRngDrv;

/**
 * vc_rng_new:
 * @fe: a front end whose ring @q exists (vc_fe_create_queue())
 * @q: ring index
 * @n: requests in the pool (at most the ring size)
 * @seg_len: length of each writable segment
 * @nseg: segments per request (1..VC_RNG_MAX_SEGS)
 * @readable_len: when non-zero, each chain starts with a device-readable
 *                buffer of this size (virtio-rng drivers must not do this;
 *                used to check that devices never write readable buffers)
 * @checked: fill with the guard and inspect on completion
 * @error: set on failure
 *
 * Allocates every buffer in guest memory now; posting never allocates.
 * Returns: (transfer full): the driver, or NULL.
 */
VcRngDrv *vc_rng_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t seg_len, unsigned nseg,
                     uint32_t readable_len, bool checked, GError **error);

/** vc_rng_free: frees the driver (buffers stay in guest memory). */
void vc_rng_free(VcRngDrv *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcRngDrv, vc_rng_free)

/**
 * vc_rng_post:
 * Adds up to @count requests that are not in flight and publishes them (no
 * kick). Returns: how many were added.
 */
unsigned vc_rng_post(VcRngDrv *d, unsigned count);

/**
 * vc_rng_reap:
 * Reaps every used entry. In checked mode inspects the buffers.
 * Returns: entries reaped (including bad ones, which are counted in faults).
 */
unsigned vc_rng_reap(VcRngDrv *d);

/**
 * vc_rng_wait:
 * @want: completions to wait for (counting from the call)
 * @timeout_ms: deadline
 *
 * Reaps until @want entries came back or the deadline passes, sleeping on
 * the call fd when there is one and polling the used ring when there is not.
 * Returns: entries reaped.
 */
unsigned vc_rng_wait(VcRngDrv *d, unsigned want, int timeout_ms);

/**
 * vc_rng_allowed_ranges:
 * Adds to @out the guest ranges a guard scan must skip: the ring and every
 * writable buffer of the pool. Returns: ranges added.
 */
unsigned vc_rng_allowed_ranges(const VcRngDrv *d, GArray *out);

/** vc_rng_in_flight: Returns: requests posted and not yet returned. */
unsigned vc_rng_in_flight(const VcRngDrv *d);

/* rng requests as generic traffic: 2 x 64-byte writable buffers each, checked. */
extern const VcTrafficOps vc_rng_traffic_ops;

#endif /* VC_DRV_RNG_H */
