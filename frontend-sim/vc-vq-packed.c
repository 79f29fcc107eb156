/*
 * vc-vq-packed.c -- packed virtqueue, driver side (virtio 1.x 2.8,
 * VIRTIO_F_RING_PACKED).
 *
 * Ring positions travel with their wrap counter as one 16-bit value,
 * position | wrap << 15: that is how avail_idx, last_used and kicked_idx
 * are kept, how off_wrap is laid out, and each half of the packed
 * SET/GET_VRING_BASE value.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vc-error.h"
#include "vc-vq.h"

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED  ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define POS(v)  ((uint16_t)((v) & VC_VQ_PACKED_POS_MASK))
#define WRAP(v) (((v) & VC_VQ_PACKED_WRAP) != 0)

static inline uint16_t
enc(uint16_t pos, bool wrap)
{
    return (uint16_t)(pos | (wrap ? VC_VQ_PACKED_WRAP : 0));
}

/* Moves @v on by @n <= num slots; the wrap counter flips when the ring end is passed. */
static inline uint16_t
advance(const VcVq *vq, uint16_t v, unsigned n)
{
    unsigned pos = POS(v) + n;
    bool wrap = WRAP(v);

    if (pos >= vq->num) {
        pos -= vq->num;
        wrap = !wrap;
    }
    return enc((uint16_t)pos, wrap);
}

/* "Ring Wrap Counters": available is AVAIL = the driver's counter and USED its inverse. */
static inline uint16_t
avail_bits(bool wrap)
{
    return wrap ? F_AVAIL : F_USED;
}

/* "Ring Wrap Counters": used is AVAIL = USED = the counter of the lap the driver reads. */
static inline bool
is_used(uint16_t flags, bool wrap)
{
    return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) == wrap;
}

static inline uint16_t
desc_flags_acquire(const struct vring_packed_desc *d)
{
    /* Pairs with the device's release of the flags after id and len. */
    return le16toh(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
}

static inline void
fill_desc(struct vring_packed_desc *d, uint64_t gpa, uint32_t len, uint16_t id)
{
    d->addr = htole64(gpa);
    d->len = htole32(len);
    d->id = htole16(id);
}

static inline void
set_flags(struct vring_packed_desc *d, uint16_t flags)
{
    __atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELAXED);
}

/* The head's flags are held back until publish(): the first head of a batch hides the batch. */
static void
store_head_flags(VcVq *vq, uint16_t pos, uint16_t flags)
{
    if (vq->pending) {
        set_flags(&vq->pdesc[pos], flags);
    } else {
        vq->pending = true;
        vq->pending_pos = pos;
        vq->pending_flags = flags;
    }
}

static int
packed_add(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in,
           void *token, unsigned flags)
{
    unsigned total = n_out + n_in;
    uint16_t id = vq->free_head, head = vq->avail_idx, at = head, last = POS(head);
    uint32_t wlen = 0, rlen = 0;
    VcVqHead *h;

    if (total == 0 || token == NULL) {
        return -EINVAL;
    }
    if (flags & VC_ADD_INDIRECT) {
        if (!vq->pindirect || total > vq->indirect_max) {
            return -EINVAL;
        }
    } else if (total > vq->num) {
        /* It would never fit: -ENOSPC would have a caller wait for room forever. */
        return -EINVAL;
    }
    if (vq->num_free < ((flags & VC_ADD_INDIRECT) ? 1 : total) || vq->in_flight >= vq->num) {
        return -ENOSPC;
    }
    if (flags & VC_ADD_INDIRECT) {
        /* "Indirect Flag": entries follow each other; WRITE is their only flag, id reserved. */
        struct vring_packed_desc *t = vq->pindirect + (size_t)id * vq->indirect_max;
        for (unsigned i = 0; i < total; i++) {
            const VcSg *sg = i < n_out ? &out[i] : &in[i - n_out];
            fill_desc(&t[i], sg->gpa + vq->dma_offset, sg->len, 0);
            t[i].flags = htole16(i < n_out ? 0 : VRING_DESC_F_WRITE);
            if (i < n_out) {
                rlen += sg->len;
            } else {
                wlen += sg->len;
            }
        }
        fill_desc(&vq->pdesc[POS(at)],
                  vq->dma_offset + vq->indirect_gpa +
                  (uint64_t)id * vq->indirect_max * sizeof(struct vring_packed_desc),
                  total * (uint32_t)sizeof(struct vring_packed_desc), id);
        store_head_flags(vq, POS(at), VRING_DESC_F_INDIRECT | avail_bits(WRAP(at)));
        at = advance(vq, at, 1);
        total = 1;
    } else {
        /*
         * "Next Flag": consecutive slots, NEXT on all but the last, the avail bits of the lap each
         * slot is in (they flip past the ring end), the id in every slot (the spec reads it
         * from the last one, QEMU from the first).
         */
        for (unsigned k = 0; k < total; k++) {
            const VcSg *sg = k < n_out ? &out[k] : &in[k - n_out];
            uint16_t f = (uint16_t)((k < n_out ? 0 : VRING_DESC_F_WRITE) |
                                    (k + 1 < total ? VRING_DESC_F_NEXT : 0) |
                                    avail_bits(WRAP(at)));
            fill_desc(&vq->pdesc[POS(at)], sg->gpa + vq->dma_offset, sg->len, id);
            if (k == 0) {
                store_head_flags(vq, POS(at), f);
            } else {
                set_flags(&vq->pdesc[POS(at)], f);
            }
            if (k < n_out) {
                rlen += sg->len;
            } else {
                wlen += sg->len;
            }
            last = POS(at);
            at = advance(vq, at, 1);
        }
    }
    vq->free_head = vq->next[id];
    vq->num_free -= (uint16_t)total;
    vq->added_since_kick += total;
    vq->avail_idx = at;
    h = &vq->heads[id];
    h->token = token;
    h->wlen = wlen;
    h->rlen = rlen;
    h->ndesc = (uint16_t)total;
    h->last = (flags & VC_ADD_INDIRECT) ? POS(head) : last;
    vq->in_flight++;
    vq->n_added++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_AVAIL, id, rlen + wlen);
    }
    return id;
}

static void
packed_publish(VcVq *vq)
{
    if (!vq->pending) {
        return;
    }
    /* "Supplying Buffers": the whole batch is visible before the first head's flags. */
    __atomic_store_n(&vq->pdesc[vq->pending_pos].flags, htole16(vq->pending_flags),
                     __ATOMIC_RELEASE);
    vq->pending = false;
}

static bool
packed_kick_needed(VcVq *vq)
{
    uint32_t added = vq->added_since_kick;
    uint16_t flags, off_wrap;
    int64_t now, old, ev;

    vq->added_since_kick = 0;
    vq->kicked_idx = vq->avail_idx;
    /* The head flags must be visible before the device's suppression state is read. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    flags = le16toh(__atomic_load_n(&vq->device_event->flags, __ATOMIC_ACQUIRE)) & 0x3;
    if (!(vq->flags & VC_VQ_EVENT_IDX) || flags != VRING_PACKED_EVENT_FLAG_DESC) {
        /* "Event Suppression": DESC needs EVENT_IDX and 0x3 is reserved: only DISABLE mutes. */
        return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
    }
    off_wrap = le16toh(__atomic_load_n(&vq->device_event->off_wrap, __ATOMIC_RELAXED));
    /*
     * Count slots from the start of the current lap: the new slots are [now - added, now),
     * and an event with the other wrap counter lies in the previous lap.
     */
    now = POS(vq->avail_idx);
    old = now - (int64_t)added;
    ev = POS(off_wrap);
    if (WRAP(off_wrap) != WRAP(vq->avail_idx)) {
        ev -= vq->num;
    }
    return ev >= old && ev < now;
}

static bool
packed_more_used(VcVq *vq)
{
    return is_used(desc_flags_acquire(&vq->pdesc[POS(vq->last_used)]), WRAP(vq->last_used));
}

static int
packed_pop_used(VcVq *vq, void **token, uint32_t *len, uint32_t *head_out)
{
    const struct vring_packed_desc *d = &vq->pdesc[POS(vq->last_used)];
    uint16_t id;
    VcVqHead *h;

    if (!is_used(desc_flags_acquire(d), WRAP(vq->last_used))) {
        return 0;
    }
    id = le16toh(d->id);
    *len = le32toh(d->len);
    if (head_out) {
        *head_out = id;
    }
    if (id >= vq->num || vq->heads[id].token == NULL) {
        /* The chain length of a bad id is unknown: move one slot on, free nothing. */
        vq->last_used = advance(vq, vq->last_used, 1);
        return -EPROTO;
    }
    h = &vq->heads[id];
    *token = h->token;
    h->token = NULL;
    /* "Next Flag": the next used descriptor is as many slots on as the chain took. */
    vq->last_used = advance(vq, vq->last_used, h->ndesc);
    vq->next[id] = vq->free_head;
    vq->free_head = id;
    vq->num_free += h->ndesc;
    vq->in_flight--;
    vq->n_used++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_USED, id, *len);
    }
    return 1;
}

/* vc_vq_add_bufs(): one-descriptor chains, the batch hidden behind its first head as in add. */
static unsigned
packed_add_bufs(VcVq *vq, VcSg *const *bufs, unsigned n, bool writable)
{
    struct vring_packed_desc *ring = vq->pdesc;
    VcVqHead *heads = vq->heads;
    const uint16_t *next = vq->next;
    uint16_t at = vq->avail_idx, id = vq->free_head;
    uint16_t wflag = writable ? VRING_DESC_F_WRITE : 0;
    uint64_t dma = vq->dma_offset;

    if (G_UNLIKELY(vq->tap)) {
        unsigned k;
        for (k = 0; k < n && packed_add(vq, writable ? NULL : bufs[k], !writable,
                                        writable ? bufs[k] : NULL, writable, bufs[k], 0) >= 0;
             k++) {
        }
        return k;
    }
    n = MIN(n, MIN(vq->num_free, (unsigned)(vq->num - vq->in_flight)));
    for (unsigned k = 0; k < n; k++) {
        const VcSg *sg = bufs[k];
        VcVqHead *h = &heads[id];
        uint16_t pos = POS(at);

        fill_desc(&ring[pos], sg->gpa + dma, sg->len, id);
        store_head_flags(vq, pos, wflag | avail_bits(WRAP(at)));
        h->token = bufs[k];
        h->wlen = writable ? sg->len : 0;
        h->rlen = writable ? 0 : sg->len;
        h->ndesc = 1;
        h->last = pos;
        at = advance(vq, at, 1);
        id = next[id];
    }
    vq->free_head = id;
    vq->num_free -= (uint16_t)n;
    vq->added_since_kick += n;
    vq->avail_idx = at;
    vq->in_flight += (uint16_t)n;
    vq->n_added += n;
    return n;
}

/* vc_vq_pop_many(): used descriptors in ring order, each behind its own flags. */
static int
packed_pop_many(VcVq *vq, void **tokens, uint32_t *lens, unsigned max)
{
    const struct vring_packed_desc *ring = vq->pdesc;
    VcVqHead *heads = vq->heads;
    uint16_t *next = vq->next;
    uint16_t last = vq->last_used, free_head = vq->free_head, freed = 0;
    unsigned n = 0;

    if (G_UNLIKELY(vq->tap)) {
        return max ? packed_pop_used(vq, &tokens[0], &lens[0], NULL) : 0;
    }
    while (n < max) {
        const struct vring_packed_desc *d = &ring[POS(last)];
        uint16_t id;
        VcVqHead *h;

        if (!is_used(desc_flags_acquire(d), WRAP(last))) {
            break;
        }
        id = le16toh(d->id);
        if (G_UNLIKELY(id >= vq->num || heads[id].token == NULL)) {
            if (n == 0) {
                /* As packed_pop_used(): one slot on, nothing freed. */
                vq->last_used = advance(vq, last, 1);
                return -EPROTO;
            }
            break;
        }
        h = &heads[id];
        tokens[n] = h->token;
        lens[n] = le32toh(d->len);
        h->token = NULL;
        last = advance(vq, last, h->ndesc);
        next[id] = free_head;
        free_head = id;
        freed += h->ndesc;
        n++;
    }
    vq->last_used = last;
    vq->free_head = free_head;
    vq->num_free += freed;
    vq->in_flight -= (uint16_t)n;
    vq->n_used += n;
    return (int)n;
}

static void
packed_enable_calls(VcVq *vq, bool on)
{
    struct vring_packed_desc_event *e = vq->driver_event;

    if (!on) {
        __atomic_store_n(&e->flags, htole16(VRING_PACKED_EVENT_FLAG_DISABLE), __ATOMIC_RELAXED);
    } else if (vq->flags & VC_VQ_EVENT_IDX) {
        /* "Event Suppression": a call when the device uses the slot after those reaped. */
        __atomic_store_n(&e->off_wrap, htole16(vq->last_used), __ATOMIC_RELAXED);
        /* The offset must be visible before the flags that make it count. */
        __atomic_store_n(&e->flags, htole16(VRING_PACKED_EVENT_FLAG_DESC), __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&e->flags, htole16(VRING_PACKED_EVENT_FLAG_ENABLE), __ATOMIC_RELAXED);
    }
    /* The request must be visible before the caller looks at the ring again. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Slots from the used position to the avail one (both with their laps), or -1 if impossible. */
static int
avail_ahead(const VcVq *vq, uint16_t avail, uint16_t used)
{
    if (POS(avail) >= vq->num || POS(used) >= vq->num) {
        return -1;
    }
    if (WRAP(avail) == WRAP(used)) {
        return POS(avail) >= POS(used) ? POS(avail) - POS(used) : -1;
    }
    return POS(avail) <= POS(used) ? POS(avail) + vq->num - POS(used) : -1;
}

static int
packed_reset_base(VcVq *vq, uint32_t base)
{
    uint16_t avail = (uint16_t)base, used = (uint16_t)(base >> 16);
    int ahead = avail_ahead(vq, avail, used);
    struct vring_packed_desc_event *e;

    if (ahead < 0) {
        return -EINVAL;
    }
    /*
     * "Ring Wrap Counters": a slot before the used position was used in this lap, one from
     * it on in the previous lap; AVAIL == USED == that lap's counter makes none look
     * available to the device or used to the driver. A fresh ring (position 0, counters 1)
     * is all zeroes.
     */
    memset(vq->pdesc, 0, sizeof(*vq->pdesc) * vq->num);
    for (unsigned p = 0; p < vq->num; p++) {
        bool lap = p < POS(used) ? WRAP(used) : !WRAP(used);
        vq->pdesc[p].flags = htole16(lap ? F_AVAIL | F_USED : 0);
    }
    if (vq->pindirect) {
        memset(vq->pindirect, 0,
               (size_t)vq->num * vq->indirect_max * sizeof(struct vring_packed_desc));
    }
    for (unsigned i = 0; i < vq->num; i++) {
        vq->next[i] = (uint16_t)(i + 1);
        vq->heads[i].token = NULL;
    }
    vq->free_head = 0;
    vq->num_free = (uint16_t)(vq->num - ahead);
    vq->in_flight = 0;
    vq->avail_idx = vq->kicked_idx = avail;
    vq->last_used = used;
    vq->added_since_kick = 0;
    vq->pending = false;
    memset(vq->device_event, 0, sizeof(*vq->device_event));
    /* Calls on by default; with EVENT_IDX, one at the first used descriptor (as split). */
    e = vq->driver_event;
    if (vq->flags & VC_VQ_EVENT_IDX) {
        e->off_wrap = htole16(used);
        e->flags = htole16(VRING_PACKED_EVENT_FLAG_DESC);
    } else {
        e->off_wrap = 0;
        e->flags = htole16(VRING_PACKED_EVENT_FLAG_ENABLE);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return 0;
}

static void
packed_reset(VcVq *vq, uint16_t idx)
{
    /* @idx slots went through a fresh ring (counters start at 1) on both sides. */
    uint16_t v = enc((uint16_t)(idx % vq->num), ((idx / vq->num) & 1) == 0);

    packed_reset_base(vq, v | (uint32_t)v << 16);
}

static uint32_t
packed_base(const VcVq *vq)
{
    return vq->avail_idx | (uint32_t)vq->last_used << 16;
}

static uint16_t
packed_used_idx(const VcVq *vq)
{
    uint16_t at = vq->last_used;
    unsigned budget = (unsigned)(vq->num - vq->num_free);

    /* Walk used descriptors of chains in flight; the budget bounds a device that repeats ids. */
    for (;;) {
        const struct vring_packed_desc *d = &vq->pdesc[POS(at)];
        uint16_t id;

        if (!is_used(desc_flags_acquire(d), WRAP(at))) {
            break;
        }
        id = le16toh(d->id);
        if (id >= vq->num || vq->heads[id].token == NULL || vq->heads[id].ndesc > budget) {
            break;
        }
        budget -= vq->heads[id].ndesc;
        at = advance(vq, at, vq->heads[id].ndesc);
    }
    return at;
}

static uint16_t
packed_avail_event(const VcVq *vq)
{
    return le16toh(__atomic_load_n(&vq->device_event->off_wrap, __ATOMIC_ACQUIRE));
}

static void
packed_set_used_event(VcVq *vq, uint16_t v)
{
    __atomic_store_n(&vq->driver_event->off_wrap, htole16(v), __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
packed_used_elem(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len)
{
    const struct vring_packed_desc *d = &vq->pdesc[POS(slot) % vq->num];

    *id = le16toh(d->id);
    *len = le32toh(d->len);
}

static unsigned
packed_ranges(const VcVq *vq, VcRange *ranges)
{
    unsigned n = 0;

    ranges[n++] = (VcRange){vq->desc_gpa, sizeof(struct vring_packed_desc) * (uint64_t)vq->num};
    ranges[n++] = (VcRange){vq->avail_gpa, sizeof(struct vring_packed_desc_event)};
    ranges[n++] = (VcRange){vq->used_gpa, sizeof(struct vring_packed_desc_event)};
    if (vq->pindirect) {
        ranges[n++] = (VcRange){vq->indirect_gpa, (uint64_t)vq->num * vq->indirect_max *
                                                  sizeof(struct vring_packed_desc)};
    }
    return n;
}

const VcVqOps vc_vq_packed_ops = {
    .add = packed_add,
    .publish = packed_publish,
    .kick_needed = packed_kick_needed,
    .pop_used = packed_pop_used,
    .more_used = packed_more_used,
    .enable_calls = packed_enable_calls,
    .add_bufs = packed_add_bufs,
    .pop_many = packed_pop_many,
    .reset = packed_reset,
    .reset_base = packed_reset_base,
    .base = packed_base,
    .used_idx = packed_used_idx,
    .avail_event = packed_avail_event,
    .set_used_event = packed_set_used_event,
    .used_elem = packed_used_elem,
    .ranges = packed_ranges,
};

VcVq *
vc_vq_new_packed(VcGmem *gm, unsigned index, uint16_t num, unsigned flags,
                 unsigned indirect_max, GError **error)
{
    g_autoptr(VcVq) vq = NULL;

    /* "Packed Virtqueues": up to 2^15 entries, no power of two needed. */
    if (num == 0 || num > 32768) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "packed ring size %u is not in 1..32768",
                    num);
        return NULL;
    }
    vq = g_new0(VcVq, 1);
    vq->ops = &vc_vq_packed_ops;
    vq->packed = true;
    vq->gm = gm;
    vq->index = index;
    vq->num = num;
    vq->flags = flags;
    vq->kick_fd = vq->call_fd = vq->err_fd = -1;
    /* "Structure Size and Alignment" wants 16 and 4 bytes; pages keep guard scans simple. */
    if (!(vq->pdesc = vc_gmem_alloc(gm, sizeof(struct vring_packed_desc) * (size_t)num, 4096,
                                    &vq->desc_gpa)) ||
        !(vq->driver_event = vc_gmem_alloc(gm, sizeof(struct vring_packed_desc_event), 4096,
                                           &vq->avail_gpa)) ||
        !(vq->device_event = vc_gmem_alloc(gm, sizeof(struct vring_packed_desc_event), 4096,
                                           &vq->used_gpa))) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                    "guest memory too small for a packed ring of %u entries", num);
        return NULL;
    }
    if (flags & VC_VQ_INDIRECT) {
        vq->indirect_max = indirect_max ? indirect_max : 8;
        vq->pindirect = vc_gmem_alloc(gm, (size_t)num * vq->indirect_max *
                                      sizeof(struct vring_packed_desc), 4096, &vq->indirect_gpa);
        if (!vq->pindirect) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "guest memory too small for indirect tables");
            return NULL;
        }
    }
    vq->next = g_new0(uint16_t, num);
    vq->heads = g_new0(VcVqHead, num);
    packed_reset(vq, 0);
    return g_steal_pointer(&vq);
}
