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

/* vc_vq_new_split() and vc_vq_new_packed() flags. */
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

/*
 * Packed ring positions: a 16-bit "position and wrap counter" value, as in
 * the event suppression off_wrap field and in each half of the packed
 * SET/GET_VRING_BASE value (vhost-user.rst; virtio 1.x "Event Suppression
 * Structure Format").
 */
#define VC_VQ_PACKED_POS_MASK   0x7fffu                          /* bits 0-14: position */
#define VC_VQ_PACKED_WRAP       (1u << VRING_PACKED_EVENT_F_WRAP_CTR)  /* bit 15: wrap counter */

/**
 * VcVqHead: driver bookkeeping for one descriptor chain in flight, indexed
 * by head (split) or buffer id (packed).
 */
typedef struct VcVqHead {
    void *token;        /* caller's cookie, NULL when the head is free */
    uint32_t wlen;      /* device-writable bytes in the chain */
    uint32_t rlen;      /* device-readable bytes in the chain */
    uint16_t ndesc;     /* descriptors taken from the main table (packed: from the ring) */
    uint16_t last;      /* last descriptor of the chain in the main table (packed: ring position) */
} VcVqHead;

/**
 * VcVqOps: one layout. The first six are the datapath; the rest back the
 * vc_vq_* functions of the same names. Callers use the vc_vq_* wrappers.
 */
typedef struct VcVqOps {
    int (*add)(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in,
               void *token, unsigned flags);
    void (*publish)(VcVq *vq);
    bool (*kick_needed)(VcVq *vq);
    int (*pop_used)(VcVq *vq, void **token, uint32_t *len, uint32_t *head);
    bool (*more_used)(VcVq *vq);
    void (*enable_calls)(VcVq *vq, bool on);
    /* Batched datapath (NULL: vc_vq_add_bufs() and vc_vq_pop_many() loop over add and pop_used). */
    unsigned (*add_bufs)(VcVq *vq, VcSg *const *bufs, unsigned n, bool writable);
    int (*pop_many)(VcVq *vq, void **tokens, uint32_t *lens, unsigned max);

    void (*reset)(VcVq *vq, uint16_t idx);
    int (*reset_base)(VcVq *vq, uint32_t base);
    uint32_t (*base)(const VcVq *vq);
    uint16_t (*used_idx)(const VcVq *vq);
    uint16_t (*avail_event)(const VcVq *vq);
    void (*set_used_event)(VcVq *vq, uint16_t v);
    void (*used_elem)(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len);
    unsigned (*ranges)(const VcVq *vq, VcRange *ranges);
} VcVqOps;

extern const VcVqOps vc_vq_split_ops;
extern const VcVqOps vc_vq_packed_ops;

/*
 * The fields below are shared by both layouts unless marked. For a packed
 * ring desc_gpa, avail_gpa and used_gpa hold the descriptor ring, the
 * driver area and the device area (the SET_VRING_ADDR order), the split
 * pointers (desc, avail, used, indirect) are NULL, and avail_idx,
 * kicked_idx and last_used are positions with their wrap counters
 * (VC_VQ_PACKED_POS_MASK | VC_VQ_PACKED_WRAP) instead of free-running
 * indices.
 */
struct VcVq {
    const VcVqOps *ops;
    VcGmem *gm;
    unsigned index;
    uint16_t num;
    unsigned flags;          /* VC_VQ_* */
    bool packed;             /* VIRTIO_F_RING_PACKED layout (vc_vq_new_packed()) */
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
    /* Added to every address written into a descriptor: the iova offset under an IOMMU. */
    uint64_t dma_offset;

    /* Packed layout (guest memory; NULL for a split ring). */
    struct vring_packed_desc *pdesc;               /* descriptor ring [num] */
    struct vring_packed_desc_event *driver_event;  /* driver area: we write, the device reads */
    struct vring_packed_desc_event *device_event;  /* device area: the device writes, we read */
    struct vring_packed_desc *pindirect;           /* [num][indirect_max] by buffer id, or NULL */

    /* Driver state (private memory: never trusted from the ring). */
    uint16_t *next;          /* free list links (split: descriptors; packed: buffer ids) */
    VcVqHead *heads;         /* [num], by head (split) or buffer id (packed) */
    uint16_t free_head;
    uint16_t num_free;       /* free descriptors (packed: free ring slots) */
    uint16_t avail_idx;      /* next avail index the driver will publish */
    uint16_t kicked_idx;     /* avail index when the device was last notified */
    uint16_t last_used;      /* next used entry to reap */
    uint16_t in_flight;

    /* Packed driver state. */
    uint32_t added_since_kick;  /* ring slots made available since the last kick_needed() */
    uint16_t pending_pos;       /* first head of the unpublished batch ... */
    uint16_t pending_flags;     /* ... and the flags publish() stores there last */
    bool pending;

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

/**
 * vc_vq_new_packed:
 * @gm: guest memory the ring lives in
 * @index: queue index
 * @num: ring size (1..32768, any value: packed rings need no power of two)
 * @flags: VC_VQ_EVENT_IDX, VC_VQ_INDIRECT
 * @indirect_max: descriptors per indirect table (with VC_VQ_INDIRECT; 0 means 8)
 * @error: set on failure
 *
 * Allocates a packed ring (virtio 1.x "Packed Virtqueues",
 * VIRTIO_F_RING_PACKED) in @gm: the descriptor ring, the driver event
 * suppression area and the device event suppression area, each page
 * aligned, plus one indirect table per buffer id with VC_VQ_INDIRECT. The
 * ring starts as a fresh one: both wrap counters 1, position 0 (base
 * 0x80008000, see vc_vq_base()). Kick and call fds start at -1.
 *
 * The datapath is the one of the split ring (vc_vq_add(), vc_vq_publish(),
 * vc_vq_kick_needed(), vc_vq_pop_used(), ...). Differences a caller sees:
 * vc_vq_add() returns the buffer id; vc_vq_pop_used() reports the raw
 * used-descriptor len (virtio leaves it reserved when the device did not
 * set VRING_DESC_F_WRITE in the used descriptor; checks judge that);
 * avail_idx, kicked_idx and last_used hold position | wrap << 15.
 *
 * Returns: (transfer full): the queue, or NULL (VC_ERROR_USAGE for a bad
 * size, VC_ERROR_RESOURCE when @gm is too small).
 */
VcVq *vc_vq_new_packed(VcGmem *gm, unsigned index, uint16_t num, unsigned flags,
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
 *
 * Packed: @idx counts descriptors that went through a fresh ring: the
 * driver and the device both start at position @idx % num with wrap
 * counters 1 ^ ((@idx / num) & 1). vc_vq_reset(vq, 0) is a fresh ring
 * (base 0x80008000). Send vc_vq_base() in SET_VRING_BASE afterwards.
 */
void vc_vq_reset(VcVq *vq, uint16_t idx);

/**
 * vc_vq_base:
 * @vq: queue
 *
 * The value for SET_VRING_BASE: where the device is to start, seen from the
 * driver (vhost-user.rst SET_VRING_BASE; SPEC-FACTS 2.2).
 *
 * Split: the driver's next avail index (avail_idx) in bits 0-15, 0 above.
 * Packed: bits 0-14 the next avail position, bit 15 the avail (driver)
 * wrap counter, bits 16-30 the next used position, bit 31 the used
 * (device) wrap counter; that is avail_idx | last_used << 16.
 *
 * Meant for a quiescent ring (after vc_vq_reset(), vc_vq_reset_base() or
 * once every chain was reaped); with chains in flight it still tells where
 * the driver stands.
 *
 * Returns: the 32-bit base.
 */
uint32_t vc_vq_base(const VcVq *vq);

/**
 * vc_vq_reset_base:
 * @vq: queue
 * @base: a GET_VRING_BASE answer, or any vc_vq_base() value
 *
 * Forgets every chain and restarts the driver where @base says the device
 * stands, so that vc_vq_base() returns @base again.
 *
 * Split: same as vc_vq_reset(@vq, @base & 0xffff); bits 16-31 are
 * ignored (a check judges them).
 * Packed: the next avail position and wrap counter come from bits 0-15,
 * the next used position and wrap counter from bits 16-31. When the avail
 * position is ahead of the used one (the device fetched chains it did not
 * complete), the descriptors in between stay out of use for good: the
 * device will write used descriptors from the used position while fetching
 * from the avail one. The descriptor ring is rewritten so that no slot
 * looks available to the device or used to the driver.
 *
 * Returns: 0, or -EINVAL (packed only) when a position is >= num or the
 * avail position is behind the used one or more than a ring ahead of it
 * (peer data: nothing is changed then).
 */
int vc_vq_reset_base(VcVq *vq, uint32_t base);

/**
 * vc_vq_add:
 * @out: device-readable buffers, @n_out of them
 * @in: device-writable buffers, @n_in of them
 * @token: non-NULL cookie returned by vc_vq_pop_used()
 * @flags: VC_ADD_INDIRECT
 *
 * Writes one chain but does not publish it.
 *
 * Returns: the head index (packed: the buffer id), -ENOSPC when the ring is
 * full, -EINVAL for an empty or oversized chain.
 */
static inline int
vc_vq_add(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in,
          void *token, unsigned flags)
{
    return vq->ops->add(vq, out, n_out, in, n_in, token, flags);
}

/**
 * vc_vq_publish: makes every added chain visible to the device (one index
 * store; packed: one release store of the batch's first head flags).
 */
static inline void
vc_vq_publish(VcVq *vq)
{
    vq->ops->publish(vq);
}

/**
 * vc_vq_kick_needed:
 * Returns: true when the device wants a notification (EVENT_IDX aware) for
 * the chains added since the previous call.
 *
 * Packed: reads the device area. Flags VRING_PACKED_EVENT_FLAG_DISABLE: no;
 * with EVENT_IDX and VRING_PACKED_EVENT_FLAG_DESC: yes when one of the
 * descriptors made available since the previous call sits at off_wrap
 * (position and wrap counter); anything else: yes.
 */
static inline bool
vc_vq_kick_needed(VcVq *vq)
{
    return vq->ops->kick_needed(vq);
}

/**
 * vc_vq_pop_used:
 * @token: (out): the chain's cookie
 * @len: (out): used.len written by the device
 * @head: (out) (optional): the head index (also on -EPROTO; packed: the
 * buffer id)
 *
 * Returns: 1 when an entry was reaped, 0 when none is pending, -EPROTO when
 * the device returned an id that is out of range or not in flight (the
 * entry is consumed; packed: the driver moves one descriptor on, since the
 * chain length of a bad id is unknown).
 */
static inline int
vc_vq_pop_used(VcVq *vq, void **token, uint32_t *len, uint32_t *head)
{
    return vq->ops->pop_used(vq, token, len, head);
}

/**
 * vc_vq_add_bufs:
 * @bufs: @n buffers; chain k is the one buffer *@bufs[k], and @bufs[k] is
 *        also its token (so a caller embeds the VcSg in its request slot)
 * @n: chains to add
 * @writable: device-writable buffers (VRING_DESC_F_WRITE), else readable
 *
 * Adds @n one-descriptor chains in one call, as a batch of vc_vq_add()
 * calls would, but without their per-chain checks and calls: the bench's
 * datapath. Does not publish. A tapped queue sees every chain as usual.
 *
 * Returns: chains added (fewer than @n when the ring fills up).
 */
static inline unsigned
vc_vq_add_bufs(VcVq *vq, VcSg *const *bufs, unsigned n, bool writable)
{
    unsigned k;

    if (vq->ops->add_bufs) {
        return vq->ops->add_bufs(vq, bufs, n, writable);
    }
    for (k = 0; k < n; k++) {
        if (vq->ops->add(vq, writable ? NULL : bufs[k], !writable, writable ? bufs[k] : NULL,
                         writable, bufs[k], 0) < 0) {
            break;
        }
    }
    return k;
}

/**
 * vc_vq_pop_many:
 * @tokens: (out): room for @max tokens
 * @lens: (out): room for @max used.len values
 *
 * Reaps up to @max used entries in one call (one read of the device's used
 * index), as repeated vc_vq_pop_used() calls would.
 *
 * Returns: entries reaped (0 when none is pending), or -EPROTO when the
 * first pending entry names an id that is out of range or not in flight
 * (that entry is consumed, as vc_vq_pop_used() does; entries before a bad
 * one are returned first).
 */
static inline int
vc_vq_pop_many(VcVq *vq, void **tokens, uint32_t *lens, unsigned max)
{
    unsigned n = 0;

    if (vq->ops->pop_many) {
        return vq->ops->pop_many(vq, tokens, lens, max);
    }
    while (n < max) {
        int r = vq->ops->pop_used(vq, &tokens[n], &lens[n], NULL);
        if (r < 0) {
            return n ? (int)n : r;
        }
        if (r == 0) {
            break;
        }
        n++;
    }
    return (int)n;
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
 *
 * Packed: the driver area. Off: flags VRING_PACKED_EVENT_FLAG_DISABLE. On:
 * VRING_PACKED_EVENT_FLAG_ENABLE, or with EVENT_IDX off_wrap = last_used
 * (position | wrap << 15) then flags VRING_PACKED_EVENT_FLAG_DESC.
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

/**
 * vc_vq_used_idx:
 * Returns: used->idx as the device last wrote it.
 *
 * Packed (no such index in memory): the device's next used position and
 * wrap counter as far as the driver can tell, position | wrap << 15 (the
 * upper half of a GET_VRING_BASE answer): last_used moved past every used
 * descriptor the device has written for chains in flight, without reaping
 * them. The walk stops at a descriptor that is not used or carries an id
 * not in flight.
 */
uint16_t vc_vq_used_idx(const VcVq *vq);

/**
 * vc_vq_avail_event:
 * Returns: the device's avail_event (EVENT_IDX), from used->ring[num].
 * Packed: the device area's off_wrap (position | wrap << 15).
 */
uint16_t vc_vq_avail_event(const VcVq *vq);

/**
 * vc_vq_set_used_event:
 * Writes used_event (avail->ring[num]) directly.
 * Packed: writes the driver area's off_wrap only; its flags stay as they
 * are (VRING_PACKED_EVENT_FLAG_DESC after vc_vq_reset() with EVENT_IDX).
 */
void vc_vq_set_used_event(VcVq *vq, uint16_t v);

/**
 * vc_vq_used_elem:
 * Returns: used->ring[slot % num] as the device wrote it (id, len).
 * Packed: the descriptor at ring position (@slot & 0x7fff) % num (id, len),
 * whatever its flags say.
 */
void vc_vq_used_elem(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len);

/**
 * vc_vq_ranges:
 * @ranges: (out): room for 4 ranges
 *
 * Returns: how many guest ranges the ring occupies (descriptor table, avail
 * ring, used ring, indirect tables; packed: descriptor ring, driver area,
 * device area, indirect tables), stored in @ranges. A guard-pattern scan
 * skips them: they hold the driver's own data.
 */
unsigned vc_vq_ranges(const VcVq *vq, VcRange *ranges);

/**
 * vc_vq_addr:
 * Fills a SET_VRING_ADDR payload (user addresses, as QEMU sends them).
 * Packed, as QEMU's vhost does: desc = descriptor ring, avail = driver
 * area, used = device area, log = the device area's guest address.
 */
void vc_vq_addr(const VcVq *vq, struct vhost_vring_addr *addr);

/**
 * vc_vq_chain_writable:
 * @head: a head (split) or buffer id (packed) just made available
 * @out: (out): the chain's device-writable buffers in chain order, as guest
 *       addresses (IOVA offsets removed), indirect tables followed
 * @max: room in @out
 *
 * Reads the chain back from the ring as the device will see it. Call it
 * when the chain is added (a VC_VQ_EV_AVAIL tap), not after the device used
 * it: a packed ring's used descriptor overwrites the flags. Off the
 * datapath. Returns: buffers stored.
 */
unsigned vc_vq_chain_writable(const VcVq *vq, uint32_t head, VcRange *out, unsigned max);

/** vc_vq_set_tap: datapath tap (kick, call, chain events); NULL removes it. */
void vc_vq_set_tap(VcVq *vq, VcVqTap tap, void *opaque);

/*
 * Hostile input (split rings only). A driver never does what follows: the
 * checks of checks/hostile.c use it to show a device descriptors and
 * indices the virtio spec forbids the driver to produce, and to see the
 * device refuse them. Off the datapath: nothing here is in VcVqOps.
 */

/* VcRawDesc.next values that are written as they are (not an index into the array). */
#define VC_RAW_NEXT_AS_IS  0x10000u

/**
 * VcRawDesc: one descriptor of vc_vq_add_raw(), written to the table as is.
 * @addr: guest address (or IOVA) written as given: no dma_offset is added
 * @len: length, 0 allowed
 * @flags: VRING_DESC_F_* as given (NEXT, WRITE, INDIRECT in any mix)
 * @next: with VRING_DESC_F_NEXT, the index of another entry of the same
 *        array (an earlier one makes a loop); VC_RAW_NEXT_AS_IS | v writes
 *        v itself (e.g. an index beyond the table)
 */
typedef struct VcRawDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint32_t next;
} VcRawDesc;

/**
 * vc_vq_add_raw:
 * @vq: a split queue
 * @d: @n descriptors; d[0] is the head
 * @n: 1..num_free
 * @token: non-NULL cookie for vc_vq_pop_used(), should the device complete
 *         the chain anyway
 *
 * Takes @n free descriptors, writes @d into them with each @next turned
 * into the table slot chosen for that entry, and puts the head in the next
 * avail slot; like vc_vq_add() it does not publish (vc_vq_publish()). The
 * driver's bookkeeping treats the chain as an ordinary one of @n
 * descriptors: a completion returns them, a vc_vq_reset() forgets them.
 *
 * Returns: the head slot, -ENOSPC when fewer than @n descriptors are free,
 * -EINVAL for @n == 0, a NULL @token or a @next beyond @d,
 * -EOPNOTSUPP for a packed ring.
 */
int vc_vq_add_raw(VcVq *vq, const VcRawDesc *d, unsigned n, void *token);

/**
 * vc_vq_raw_desc:
 * @vq: any queue
 * @table: where to write (an indirect table in guest memory)
 * @d: the descriptor; @next is written as given (VC_RAW_NEXT_AS_IS ignored)
 *
 * Writes one split-layout descriptor in little-endian at @table, for
 * indirect tables a check builds itself.
 */
void vc_vq_raw_desc(struct vring_desc *table, const VcRawDesc *d);

/**
 * vc_vq_set_used_idx:
 * @vq: a split queue
 * @idx: the value to store
 *
 * Writes used->idx, the device's own field (virtio 1.x 2.7.8: the driver
 * never writes the used ring), as a front end that moved it would. The
 * driver's shadow (last_used) is not changed. Returns: 0, or -EOPNOTSUPP
 * for a packed ring.
 */
int vc_vq_set_used_idx(VcVq *vq, uint16_t idx);

#endif /* VC_VQ_H */
