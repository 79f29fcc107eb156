/*
 * vc-chk.h -- building blocks shared by the checks: a QEMU-order device
 * start with hooks, traffic rounds on any device with a driver, quiet-period
 * observation and guard-pattern verification. They observe; the checks judge.
 */
#ifndef VC_CHK_H
#define VC_CHK_H

#include "vc-check.h"
#include "vc-traffic.h"

/* Observation window in which nothing may happen (scaled under valgrind). */
int vc_chk_quiet_ms(void);

/** VcStartPlan: a device start in QEMU's order with deliberate deviations. */
typedef struct VcStartPlan {
    bool skip_enable;         /* never send SET_VRING_ENABLE */
    bool enable_before_kick;  /* send SET_VRING_ENABLE 1 before SET_VRING_KICK */
    bool skip_kick_msg;       /* do not send SET_VRING_KICK */
    unsigned prepost;         /* requests made available before SET_VRING_KICK */
} VcStartPlan;

/**
 * vc_chk_start:
 * @plan: (nullable): deviations; NULL is QEMU's order
 * @nreq: requests in the traffic pool created for the device's traffic ring
 * @t: (out): the traffic (owned by the caller)
 *
 * SET_FEATURES, FEATURES_OK, SET_VRING_CALL, memory, then every ring: NUM,
 * BASE, ADDR, [ENABLE], KICK, ENABLE; DRIVER_OK. Returns: false with the
 * verdict set.
 */
bool vc_chk_start(VcCtx *ctx, VcFrontend *fe, const VcStartPlan *plan, unsigned nreq,
                  VcTraffic **t);

/**
 * vc_chk_open:
 * Connects with @cfg, handshakes, starts in the profile's order and creates
 * traffic of @nreq requests on the device's traffic ring.
 * Returns: the traffic (owned by the caller), or NULL with the verdict set.
 */
VcTraffic *vc_chk_open(VcCtx *ctx, const VcFeConfig *cfg, unsigned nreq);

/**
 * vc_chk_round:
 * Posts @n requests, notifies (kick unless suppressed) and waits for @n
 * completions. Returns: completions seen.
 */
unsigned vc_chk_round(VcCtx *ctx, VcTraffic *t, unsigned n);

/**
 * vc_chk_quiet:
 * After a GET_FEATURES barrier and vc_chk_quiet_ms(), tells whether the
 * device left @t's ring alone since @used_before: used index still, no
 * posted request written. @what gets a description.
 * Returns: true when quiet (false also when the barrier failed: verdict set).
 */
bool vc_chk_quiet(VcCtx *ctx, VcTraffic *t, uint16_t used_before, GString *what);

/**
 * vc_chk_stray:
 * Scans guest memory outside @t's rings and buffers (and @extra ranges) for
 * bytes that lost the guard pattern.
 * Returns: true and a description in @what when one is found.
 */
bool vc_chk_stray(VcTraffic *t, const VcRange *extra, unsigned n_extra, GString *what);

/**
 * vc_chk_stray_in:
 * The scan itself: every ring of @fe and the ranges in @skip are skipped.
 */
bool vc_chk_stray_in(VcFrontend *fe, GArray *skip, GString *what);

/**
 * vc_chk_restart_ring:
 * Sets @t's ring up again after a stop (QEMU's restart): the ring is reset
 * to @base, then SET_VRING_CALL, SET_VRING_NUM, SET_VRING_BASE(@base), SET_VRING_ADDR,
 * SET_VRING_KICK and (with PROTOCOL_FEATURES) SET_VRING_ENABLE 1.
 */
bool vc_chk_restart_ring(VcCtx *ctx, VcTraffic *t, uint16_t base);

/** vc_chk_has_reply_ack: Returns: true when REPLY_ACK was negotiated on @fe. */
bool vc_chk_has_reply_ack(const VcFrontend *fe);

/** vc_chk_queue: Returns: the index of @t's ring. */
static inline unsigned
vc_chk_queue(const VcTraffic *t)
{
    return t->vq->index;
}

#endif /* VC_CHK_H */
