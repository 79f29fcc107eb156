/*
 * vc-chk.h -- building blocks shared by the checks: a QEMU-order device
 * start with hooks, rng traffic rounds, quiet-period observation and
 * guard-pattern verification. They observe; the checks judge.
 */
#ifndef VC_CHK_H
#define VC_CHK_H

#include "vc-check.h"
#include "vc-drv-rng.h"

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
 * @nreq: size of the request pool of the rng driver created for ring 0
 * @d: (out): the driver (owned by the caller)
 *
 * SET_FEATURES, FEATURES_OK, SET_VRING_CALL, memory, then ring 0: NUM,
 * BASE, ADDR, [ENABLE], KICK, ENABLE, DRIVER_OK. Returns: false with the
 * verdict set.
 */
bool vc_chk_start(VcCtx *ctx, VcFrontend *fe, const VcStartPlan *plan, unsigned nreq,
                  VcRngDrv **d);

/**
 * vc_chk_open_rng:
 * Connects with @cfg, handshakes, starts in QEMU's order and creates an rng
 * driver with @nreq requests of @nseg segments of @seg_len bytes.
 * Returns: the driver (owned by the caller), or NULL with the verdict set.
 */
VcRngDrv *vc_chk_open_rng(VcCtx *ctx, const VcFeConfig *cfg, unsigned nreq, uint32_t seg_len,
                          unsigned nseg);

/**
 * vc_chk_round:
 * Posts @n requests, notifies (kick unless suppressed) and waits for @n
 * completions. Returns: completions seen.
 */
unsigned vc_chk_round(VcCtx *ctx, VcRngDrv *d, unsigned n);

/**
 * vc_chk_quiet:
 * After a GET_FEATURES barrier and vc_chk_quiet_ms(), tells whether the
 * device did anything to @d's ring since @used_before: used index moved,
 * a buffer of a posted request written. @what gets a description.
 * Returns: true when quiet (false also when the barrier failed: verdict set).
 */
bool vc_chk_quiet(VcCtx *ctx, VcRngDrv *d, uint16_t used_before, GString *what);

/** vc_chk_posted_written: Returns: how many posted (not completed) requests have bytes written. */
unsigned vc_chk_posted_written(VcRngDrv *d);

/**
 * vc_chk_stray:
 * Scans guest memory outside the rng driver's rings and buffers (and
 * @extra ranges) for bytes that lost the guard pattern.
 * Returns: true and a description in @what when one is found.
 */
bool vc_chk_stray(VcRngDrv *d, const VcRange *extra, unsigned n_extra, GString *what);

/** vc_chk_reap_count: Returns: completions so far of the driver. */
static inline uint64_t
vc_chk_completed(const VcRngDrv *d)
{
    return d->completed;
}

/**
 * vc_chk_restart_ring:
 * Sets ring 0 up again after a stop (QEMU's restart): the driver's ring is
 * reset to @base, then SET_VRING_NUM, SET_VRING_BASE(@base), SET_VRING_ADDR,
 * SET_VRING_KICK and (with PROTOCOL_FEATURES) SET_VRING_ENABLE 1.
 */
bool vc_chk_restart_ring(VcCtx *ctx, VcRngDrv *d, uint16_t base);

/** vc_chk_has_reply_ack: Returns: true when REPLY_ACK was negotiated on @fe. */
bool vc_chk_has_reply_ack(const VcFrontend *fe);

#endif /* VC_CHK_H */
