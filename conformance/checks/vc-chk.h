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
 * vc_chk_open_two:
 * @nreq: requests in each traffic pool
 * @second: (out): traffic on a second ring of the traffic ring's kind (the
 *   traffic ring plus the driver's queue_stride: blk ring 1, net receive
 *   ring 2), owned by the caller; NULL when the device has none
 *
 * vc_chk_open() with the rings of a second queue, as QEMU with num-queues=2
 * (net: queues=2) sets them up: when the context's rings do not reach it,
 * a first connection reads GET_QUEUE_NUM (queue pairs for net, as
 * net/vhost-user.c reads it) and, where the answer allows, the device is
 * opened with that many rings. Without MQ or with one queue the device is
 * opened as vc_chk_open(NULL) does and @second stays NULL.
 * Returns: the traffic on the first ring (owned by the caller), or NULL with
 * the verdict set.
 */
VcTraffic *vc_chk_open_two(VcCtx *ctx, unsigned nreq, VcTraffic **second);

/**
 * vc_chk_round:
 * Posts @n requests, notifies (kick unless suppressed) and waits for @n
 * completions. Returns: completions seen.
 */
unsigned vc_chk_round(VcCtx *ctx, VcTraffic *t, unsigned n);

/**
 * vc_chk_quiet:
 * After a GET_FEATURES barrier and vc_chk_quiet_ms(), tells whether the
 * device left @t's ring alone since @used_before (a vc_vq_used_idx() value;
 * vc_chk_idx_at() for the start): used index still, no posted request
 * written. @what gets a description.
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
 * @base: a 32-bit SET_VRING_BASE value in the ring's layout: a GET_VRING_BASE
 * answer, or vc_chk_base_at()
 *
 * Sets @t's ring up again after a stop (QEMU's restart): the driver side is
 * reset to @base (vc_vq_reset_base()), then SET_VRING_CALL, SET_VRING_NUM,
 * SET_VRING_BASE(@base), SET_VRING_ADDR, SET_VRING_KICK and (with
 * PROTOCOL_FEATURES) SET_VRING_ENABLE 1. A packed @base the driver cannot
 * start from (a position beyond the ring, avail behind used) came from the
 * daemon: that is a violation.
 * Returns: false with the verdict set.
 */
bool vc_chk_restart_ring(VcCtx *ctx, VcTraffic *t, uint32_t base);

/*
 * Ring indices whatever the layout. A split ring counts chains with
 * free-running 16-bit indices; a packed ring counts descriptor slots as a
 * position and its wrap counter, position | wrap << 15 (vc-vq.h: avail_idx,
 * last_used, vc_vq_used_idx()). A check that computes or compares indices
 * uses these instead of 16-bit arithmetic or cfg.start_idx.
 */

/**
 * vc_chk_idx_add:
 * Returns: index @v of @vq moved on by @n slots: modulo 65536 (split), or
 * with the wrap counter flipped each time the ring end is passed (packed).
 */
uint16_t vc_chk_idx_add(const VcVq *vq, uint16_t v, unsigned n);

/**
 * vc_chk_idx_dist:
 * Returns: slots from index @from to index @to of @vq, going forward:
 * modulo 65536 (split), modulo 2 * num (packed, where the wrap counters tell
 * the laps apart).
 */
unsigned vc_chk_idx_dist(const VcVq *vq, uint16_t from, uint16_t to);

/**
 * vc_chk_idx_at:
 * Returns: the index (avail and used alike) of @vq after vc_vq_reset(@vq,
 * @idx), e.g. the used index at start for cfg.start_idx: @idx (split), the
 * position @idx slots into a fresh ring with its wrap counter (packed).
 */
uint16_t vc_chk_idx_at(const VcVq *vq, uint16_t idx);

/**
 * vc_chk_base_at:
 * Returns: the SET_VRING_BASE value of @vq after vc_vq_reset(@vq, @idx):
 * @idx (split), both halves vc_chk_idx_at() (packed: 0x80008000 for 0).
 */
uint32_t vc_chk_base_at(const VcVq *vq, uint16_t idx);

/** VcChkStr: a short formatted value, returned by value for use in one printf. */
typedef struct VcChkStr {
    char s[64];
} VcChkStr;

/**
 * vc_chk_idx_str:
 * Returns: index @v of @vq for a message: "10" (split), "10 (wrap 1)" (packed).
 */
VcChkStr vc_chk_idx_str(const VcVq *vq, uint16_t v);

/**
 * vc_chk_base_str:
 * Returns: a SET/GET_VRING_BASE value of @vq for a message: "113" (split,
 * with the hex value when bits 16-31 are not zero), "avail 5 (wrap 0), used
 * 5 (wrap 0) [0x00050005]" (packed, SPEC-FACTS 2.2).
 */
VcChkStr vc_chk_base_str(const VcVq *vq, uint32_t base);

/** vc_chk_has_reply_ack: Returns: true when REPLY_ACK was negotiated on @fe. */
bool vc_chk_has_reply_ack(const VcFrontend *fe);

/** vc_chk_queue: Returns: the index of @t's ring. */
static inline unsigned
vc_chk_queue(const VcTraffic *t)
{
    return t->vq->index;
}

#endif /* VC_CHK_H */
