/*
 * vc-vq.h -- the driver side of a virtqueue in emulated guest memory.
 *
 * Layouts sit behind one ops table so that device drivers and checks never
 * see whether a ring is split or packed. The datapath functions (add,
 * publish, kick, pop_used) never allocate, never log and make at most one
 * syscall (the kick or the call read); everything is set up by
 * vc_vq_new_*().
 *
 * Ring memory follows <linux/virtio_ring.h>; every shared index is read and
 * written with explicit little-endian conversions and the barrier each
 * access needs (virtio 1.x "Virtqueues").
 */
#ifndef VC_VQ_H
#define VC_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <linux/virtio_ring.h>

#include "vc-gmem.h"

/** VcSg: one buffer in guest memory. */
typedef struct VcSg {
    uint64_t gpa;
    uint32_t len;
} VcSg;

/* vc_vq_new_split() flags. */
#define VC_VQ_EVENT_IDX  (1u << 0)  /* VIRTIO_RING_F_EVENT_IDX negotiated */
#define VC_VQ_INDIRECT   (1u << 1)  /* VIRTIO_RING_F_INDIRECT_DESC negotiated: reserve tables */

/* vc_vq_add() flags. */
#define VC_ADD_INDIRECT  (1u << 0)  /* put the chain in an indirect table */

/** VcVqEvent: what a datapath tap is told about. */
typedef enum VcVqEvent {
    VC_VQ_EV_AVAIL,   /* a chain was made available: head, total length */
    VC_VQ_EV_KICK,    /* the driver notified the device */
    VC_VQ_EV_CALL,    /* the device notified the driver */
    VC_VQ_EV_USED,    /* a used entry was reaped: head, len */
} VcVqEvent;

typedef struct VcVq VcVq;

typedef void (*VcVqTap)(void *opaque, VcVq *vq, VcVqEvent ev, uint32_t head, uint32_t len);

/** VcVqHead: driver bookkeeping for one descriptor chain in flight. */
typedef struct VcVqHead {
    void *token;        /* caller's cookie, NULL when the head is free */
    uint32_t wlen;      /* device-writable bytes in the chain */
    uint32_t rlen;      /* device-readable bytes in the chain */
    uint16_t ndesc;     /* descriptors taken from the main table */
    uint16_t last;      /* last descriptor of the chain in the main table */
} VcVqHead;

typedef struct VcVqOps {
    int (*add)(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in,
               void *token, unsigned flags);
    void (*publish)(VcVq *vq);
    bool (*kick_needed)(VcVq *vq);
    int (*pop_used)(VcVq *vq, void **token, uint32_t *len, uint32_t *head);
    bool (*more_used)(VcVq *vq);
    void (*enable_calls)(VcVq *vq, bool on);
} VcVqOps;

extern const VcVqOps vc_vq_split_ops;

struct VcVq {
    const VcVqOps *ops;
    VcGmem *gm;
    unsigned index;
    uint16_t num;
    unsigned flags;          /* VC_VQ_* */
    int kick_fd;             /* eventfd or pipe write end; -1: the daemon polls */
    int call_fd;             /* eventfd or pipe read end; -1: the driver polls */
    int err_fd;              /* eventfd; -1 when none */

    /* Split layout (guest memory). */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    struct vring_desc *indirect;  /* [num][indirect_max], or NULL */
    uint64_t indirect_gpa;
    unsigned indirect_max;

    /* Driver state (private memory: never trusted from the ring). */
    uint16_t *next;          /* free list links */
    VcVqHead *heads;         /* [num] */
    uint16_t free_head;
    uint16_t num_free;
    uint16_t avail_idx;      /* next avail index the driver will publish */
    uint16_t kicked_idx;     /* avail index when the device was last notified */
    uint16_t last_used;      /* next used entry to reap */
    uint16_t in_flight;

    VcVqTap tap;
    void *tap_opaque;

    uint64_t n_added, n_used, n_kicks, n_kicks_skipped, n_calls;
};

/**
 * vc_vq_new_split:
 * @gm: guest memory the ring lives in
 * @index: queue index
 * @num: ring size (power of two, 1..32768)
 * @flags: VC_VQ_EVENT_IDX, VC_VQ_INDIRECT
 * @indirect_max: descriptors per indirect table (with VC_VQ_INDIRECT)
 * @error: set on failure
 *
 * Allocates the descriptor table, avail and used rings in @gm with zeroed
 * contents. Kick and call fds start at -1: see vc_vq_set_fds().
 *
 * Returns: (transfer full): the queue, or NULL.
 */
VcVq *vc_vq_new_split(VcGmem *gm, unsigned index, uint16_t num, unsigned flags,
                      unsigned indirect_max, GError **error);

/** vc_vq_free: frees the queue (ring memory stays in @gm; fds are the caller's). */
void vc_vq_free(VcVq *vq);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcVq, vc_vq_free)

/**
 * vc_vq_set_fds:
 * Tells the queue which fds to kick and to read calls from (-1 for none).
 * The fds stay owned by the caller.
 */
void vc_vq_set_fds(VcVq *vq, int kick_fd, int call_fd, int err_fd);

/**
 * vc_vq_reset:
 * @vq: queue
 * @idx: index both rings start from
 *
 * Forgets every chain, rebuilds the free list and sets avail->idx,
 * used->idx and the driver's shadows to @idx (SET_VRING_BASE tests start
 * rings at an index other than 0, and near the 65536 wrap).
 */
void vc_vq_reset(VcVq *vq, uint16_t idx);

/**
 * vc_vq_add:
 * @out: device-readable buffers, @n_out of them
 * @in: device-writable buffers, @n_in of them
 * @token: non-NULL cookie returned by vc_vq_pop_used()
 * @flags: VC_ADD_INDIRECT
 *
 * Writes one chain but does not publish it.
 *
 * Returns: the head index, -ENOSPC when the ring is full, -EINVAL for an
 * empty or oversized chain.
 */
static inline int
vc_vq_add(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in,
          void *token, unsigned flags)
{
    return vq->ops->add(vq, out, n_out, in, n_in, token, flags);
}

/** vc_vq_publish: makes every added chain visible to the device (one index store). */
static inline void
vc_vq_publish(VcVq *vq)
{
    vq->ops->publish(vq);
}

/** vc_vq_kick_needed: Returns: true when the device wants a notification (EVENT_IDX aware). */
static inline bool
vc_vq_kick_needed(VcVq *vq)
{
    return vq->ops->kick_needed(vq);
}

/**
 * vc_vq_pop_used:
 * @token: (out): the chain's cookie
 * @len: (out): used.len written by the device
 * @head: (out) (optional): the head index (also on -EPROTO)
 *
 * Returns: 1 when an entry was reaped, 0 when none is pending, -EPROTO when
 * the device returned an id that is out of range or not in flight (the
 * entry is consumed).
 */
static inline int
vc_vq_pop_used(VcVq *vq, void **token, uint32_t *len, uint32_t *head)
{
    return vq->ops->pop_used(vq, token, len, head);
}

/** vc_vq_more_used: Returns: true when the device has used entries not yet reaped. */
static inline bool
vc_vq_more_used(VcVq *vq)
{
    return vq->ops->more_used(vq);
}

/**
 * vc_vq_enable_calls:
 * Asks for (@on) or suppresses call notifications: avail->flags
 * NO_INTERRUPT, or used_event with EVENT_IDX.
 */
static inline void
vc_vq_enable_calls(VcVq *vq, bool on)
{
    vq->ops->enable_calls(vq, on);
}

/**
 * vc_vq_kick:
 * Notifies the device: one 8-byte write to the kick fd (no-op when the
 * daemon polls). Returns: 0 or -errno.
 */
int vc_vq_kick(VcVq *vq);

/**
 * vc_vq_kick_value:
 * Like vc_vq_kick() but writes @value (vhost-user.rst: the value carries no
 * meaning; VU-NTF-01 kicks with odd values).
 */
int vc_vq_kick_value(VcVq *vq, uint64_t value);

/**
 * vc_vq_notify:
 * Publishes and kicks when vc_vq_kick_needed() says so.
 * Returns: 1 when kicked, 0 when suppressed, -errno on error.
 */
int vc_vq_notify(VcVq *vq);

/**
 * vc_vq_wait_call:
 * @timeout_ms: deadline
 *
 * Waits for the call fd and consumes the notification.
 *
 * Returns: 1 when a call arrived, 0 on timeout, -ENOTCONN when the queue
 * has no call fd, -errno on error.
 */
int vc_vq_wait_call(VcVq *vq, int timeout_ms);

/**
 * vc_vq_take_call:
 * Consumes a pending call without waiting. Returns: 1 if there was one, 0 if not.
 */
int vc_vq_take_call(VcVq *vq);

/** vc_vq_used_idx: Returns: used->idx as the device last wrote it. */
uint16_t vc_vq_used_idx(const VcVq *vq);

/** vc_vq_avail_event: Returns: the device's avail_event (EVENT_IDX), from used->ring[num]. */
uint16_t vc_vq_avail_event(const VcVq *vq);

/** vc_vq_set_used_event: writes used_event (avail->ring[num]) directly. */
void vc_vq_set_used_event(VcVq *vq, uint16_t v);

/** vc_vq_used_elem: Returns: used->ring[slot % num] as the device wrote it (id, len). */
void vc_vq_used_elem(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len);

/**
 * vc_vq_ranges:
 * @ranges: (out): room for 4 ranges
 *
 * Returns: how many guest ranges the ring occupies (descriptor table, avail
 * ring, used ring, indirect tables), stored in @ranges. A guard-pattern scan
 * skips them: they hold the driver's own data.
 */
unsigned vc_vq_ranges(const VcVq *vq, VcRange *ranges);

/**
 * vc_vq_addr:
 * Fills a SET_VRING_ADDR payload (user addresses, as QEMU sends them).
 */
void vc_vq_addr(const VcVq *vq, struct vhost_vring_addr *addr);

/** vc_vq_set_tap: datapath tap (kick, call, chain events); NULL removes it. */
void vc_vq_set_tap(VcVq *vq, VcVqTap tap, void *opaque);

#endif /* VC_VQ_H */
