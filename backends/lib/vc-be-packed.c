/*
 * vc-be-packed.c -- packed virtqueues on the device side (virtio 1.x 2.8):
 * one descriptor ring written by both sides, avail/used wrap counters,
 * indirect tables, and the two event suppression structures.
 *
 * vhost-user passes the three areas in SET_VRING_ADDR as desc (descriptor
 * ring), avail (driver event suppression) and used (device event
 * suppression), as QEMU does.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vc-be-priv.h"

#define PF_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED  (1u << VRING_PACKED_DESC_F_USED)

bool
vc_be_packed_map(VcBe *be, VcBeVring *vq)
{
    void *d = vc_be_tr_ring(be, vq, vq->addr.desc_user_addr, 16ul * vq->num, VC_PERM_RW);
    void *drv = vc_be_tr_ring(be, vq, vq->addr.avail_user_addr,
                              sizeof(struct vring_packed_desc_event), VC_PERM_RO);
    void *dev = vc_be_tr_ring(be, vq, vq->addr.used_user_addr,
                              sizeof(struct vring_packed_desc_event), VC_PERM_RW);

    if (!d || !drv || !dev) {
        return false;
    }
    vq->pdesc = d;
    vq->drv_ev = drv;
    vq->dev_ev = dev;
    return true;
}

/* virtio 1.x 2.8.1: available when AVAIL matches the wrap counter and USED does not. */
static bool
desc_avail(uint16_t flags, bool wrap)
{
    return !!(flags & PF_AVAIL) == wrap && !!(flags & PF_USED) != wrap;
}

static void
advance(const VcBeVring *vq, uint16_t *idx, bool *wrap, unsigned by)
{
    uint32_t i = (uint32_t)*idx + by;

    if (i >= vq->num) {
        i -= vq->num;
        *wrap = !*wrap;
    }
    *idx = (uint16_t)i;
}

/*
 * The buffers of one ring descriptor @d (at ring slot @slot): a plain
 * buffer, or an indirect table whose entries are all used in order
 * (virtio 1.x 2.8.7; NEXT is meaningless inside it).
 * Returns: 0, -EAGAIN (IOTLB miss), -EINVAL with *@err.
 */
static int
add_desc(VcBe *be, VcBeVring *vq, const struct vring_packed_desc *d, uint16_t slot,
         bool chained, unsigned *n, const char **err)
{
    uint16_t flags = le16toh(d->flags);
    uint32_t len = le32toh(d->len);
    uint64_t addr = le64toh(d->addr);
    int r;

    if ((flags & VRING_DESC_F_INDIRECT) && be->mutant != VC_MUT_INDIRECT_AS_DIRECT) {
        const struct vring_packed_desc *table;
        int terr = 0;

        if (chained || (flags & VRING_DESC_F_NEXT)) {
            *err = "indirect descriptor chained with others";
            return -EINVAL;
        }
        if (len == 0 || len % sizeof(struct vring_packed_desc) != 0) {
            *err = "indirect table length is zero or not a multiple of 16";
            return -EINVAL;
        }
        table = vc_be_tr_desc(be, vq, addr, len, VC_PERM_RO, &terr);
        if (!table) {
            if (terr == -EAGAIN) {
                return -EAGAIN;
            }
            *err = "indirect table outside guest memory";
            return -EINVAL;
        }
        for (uint32_t k = 0; k < len / sizeof(*table); k++) {
            struct vring_packed_desc t;
            uint16_t tflags;

            memcpy(&t, (const void *)&table[k], sizeof(t));
            tflags = le16toh(t.flags);
            if (tflags & VRING_DESC_F_INDIRECT) {
                *err = "indirect descriptor inside an indirect table";
                return -EINVAL;
            }
            if (*n >= vq->num) {
                *err = "descriptor chain longer than the ring";
                return -EINVAL;
            }
            r = vc_be_desc_seg(be, vq, &vq->segs[*n], le64toh(t.addr), le32toh(t.len),
                               tflags & VRING_DESC_F_WRITE, (uint16_t)k);
            if (r == -EAGAIN) {
                return -EAGAIN;
            }
            if (r < 0) {
                *err = "descriptor address outside guest memory";
                return -EINVAL;
            }
            (*n)++;
        }
        return 0;
    }
    if (*n >= vq->num) {
        *err = "descriptor chain longer than the ring";
        return -EINVAL;
    }
    if (flags & VRING_DESC_F_INDIRECT) {
        /* Mutant indirect-as-direct: the table is taken for a writable buffer. */
        flags |= VRING_DESC_F_WRITE;
    }
    r = vc_be_desc_seg(be, vq, &vq->segs[*n], addr, len,
                       flags & (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT),
                       slot);
    if (r == -EAGAIN) {
        return -EAGAIN;
    }
    if (r < 0) {
        *err = "descriptor address outside guest memory";
        return -EINVAL;
    }
    (*n)++;
    return 0;
}

/* Builds a resubmitted chain from the descriptors kept in the inflight region. */
static int
resubmit_pop(VcBe *be, VcBeVring *vq, VcBeChain *c, const char **err)
{
    VcInflightPacked *reg = vq->inflight;
    uint16_t slot = vq->resubmit[vq->resubmit_pos];
    uint16_t j = slot, num = reg->desc[slot].num, id = 0;
    unsigned n = 0;
    int r;

    if (num == 0 || num > vq->num) {
        *err = "inflight region names an empty or oversized chain";
        return -1;
    }
    for (uint16_t k = 0; k < num; k++) {
        struct vring_packed_desc d;

        if (j >= vq->num) {
            *err = "inflight region chain leaves the region";
            return -1;
        }
        d.addr = htole64(reg->desc[j].addr);
        d.len = htole32(reg->desc[j].len);
        d.id = htole16(reg->desc[j].id);
        /* The next flag is implied by the stored count. */
        d.flags = htole16(reg->desc[j].flags & ~VRING_DESC_F_NEXT);
        id = reg->desc[j].id;
        r = add_desc(be, vq, &d, j, num > 1, &n, err);
        if (r < 0) {
            return -1;
        }
        j = reg->desc[j].next;
    }
    vq->resubmit_pos++;
    vq->inuse++;
    c->queue = vq->index;
    c->head = id;
    c->nsegs = n;
    c->segs = vq->segs;
    c->ndescs = num;
    c->islot = slot;
    return 1;
}

int
vc_be_packed_pop(VcBe *be, VcBeVring *vq, VcBeChain *c, const char **err)
{
    struct vring_packed_desc *ring_descs = vq->pscratch;
    uint16_t i = vq->last_avail_idx, flags, id = 0, nd = 0;
    bool wrap = vq->avail_wrap;
    unsigned n = 0;
    int r;

    if (vq->inflight && vq->batch_num) {
        /* The spec's packed algorithm commits a used batch before the next fetch. */
        vc_be_packed_flush(be, vq);
    }
    if (vq->last_avail_idx >= vq->num || vq->used_idx >= vq->num) {
        /* SET_VRING_BASE named a slot beyond the ring (or the ring shrank). */
        *err = "ring base beyond the ring size";
        return -1;
    }
    if (vq->resubmit_pos < vq->resubmit_num) {
        return resubmit_pop(be, vq, c, err);
    }
    /* Acquire: the descriptor's other fields are read after its flags. */
    flags = le16toh(__atomic_load_n(&vq->pdesc[i].flags, __ATOMIC_ACQUIRE));
    if (!desc_avail(flags, wrap)) {
        return 0;
    }
    for (;;) {
        struct vring_packed_desc d;

        if (nd >= vq->num) {
            *err = "descriptor chain longer than the ring";
            return -1;
        }
        /* One copy: the driver may rewrite the descriptor meanwhile. */
        memcpy(&d, (const void *)&vq->pdesc[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(d.flags);
        ring_descs[nd] = d;
        nd++;
        r = add_desc(be, vq, &d, i, nd > 1, &n, err);
        if (r == -EAGAIN) {
            return -1;
        }
        if (r < 0) {
            return -1;
        }
        if (!(flags & VRING_DESC_F_NEXT) || (flags & VRING_DESC_F_INDIRECT)) {
            /* virtio 1.x 2.8.6: the buffer id is in the last descriptor. */
            id = le16toh(d.id);
            break;
        }
        advance(vq, &i, &wrap, 1);
    }
    c->islot = 0;
    if (vq->inflight && be->mutant != VC_MUT_INFLIGHT_NOT_TRACKED) {
        c->islot = vc_be_inflight_fetch_packed(be, vq, ring_descs, nd);
    }
    advance(vq, &vq->last_avail_idx, &vq->avail_wrap, nd);
    vq->inuse++;
    c->queue = vq->index;
    c->head = id;
    c->nsegs = n;
    c->segs = vq->segs;
    c->ndescs = nd;
    return 1;
}

void
vc_be_packed_unpop(VcBe *be, VcBeVring *vq, const VcBeChain *c)
{
    uint16_t nd = c->ndescs ? c->ndescs : 1;

    if (vq->last_avail_idx >= nd) {
        vq->last_avail_idx -= nd;
    } else {
        vq->last_avail_idx = (uint16_t)(vq->last_avail_idx + vq->num - nd);
        vq->avail_wrap = !vq->avail_wrap;
    }
}

/*
 * virtio 1.x 2.8.9: the used descriptor overwrites the slot at used_idx;
 * its flags carry AVAIL = USED = the device wrap counter and are written
 * last (release), which publishes it.
 */
void
vc_be_packed_push(VcBe *be, VcBeVring *vq, uint16_t id, uint16_t ndescs, uint32_t len)
{
    struct vring_packed_desc *d;
    uint16_t flags = vq->used_wrap ? (PF_AVAIL | PF_USED) : 0;

    if (vq->used_idx >= vq->num || ndescs > vq->num) {
        return;
    }
    d = &vq->pdesc[vq->used_idx];

    d->id = htole16(id);
    d->len = htole32(len);
    advance(vq, &vq->used_idx, &vq->used_wrap, ndescs);
    if (vq->inflight && be->mutant != VC_MUT_INFLIGHT_NOT_TRACKED) {
        VcInflightPacked *reg = vq->inflight;

        /* vhost-user.rst: used_idx and the wrap counter before d.flags. */
        reg->used_idx = vq->used_idx;
        reg->used_wrap_counter = vq->used_wrap;
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    __atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELEASE);
    vq->pushed = true;
    if ((vq->addr.flags & VC_BE_VRING_F_LOG) && be->mutant != VC_MUT_LOG_NO_USED) {
        /* The used descriptor lives in the descriptor ring: log its own page. */
        vc_be_log_hva(be, d, sizeof(*d));
    }
}

/*
 * virtio 1.x 2.8.10 (driver event suppression), with the window
 * arithmetic DPDK uses: indices are brought into one lap before
 * vring_need_event().
 */
void
vc_be_packed_flush(VcBe *be, VcBeVring *vq)
{
    uint16_t old, new, ev_flags;
    bool valid, need;

    if (vq->inflight) {
        vc_be_inflight_flush_packed(be, vq);
    }
    if (!vq->pushed) {
        return;
    }
    vq->pushed = false;
    old = vq->signalled_used;
    new = vq->used_idx;
    valid = vq->signalled_valid;
    vq->signalled_used = new;
    vq->signalled_valid = true;
    /* Order the used descriptors before reading the driver's event structure. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    ev_flags = le16toh(__atomic_load_n(&vq->drv_ev->flags, __ATOMIC_RELAXED));
    if (ev_flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
        need = be->mutant == VC_MUT_IGNORE_NO_INTERRUPT;
    } else if (ev_flags != VRING_PACKED_EVENT_FLAG_DESC ||
               !(be->features & VC_BE_F_EVENT_IDX) || !valid) {
        need = true;
    } else {
        uint16_t off_wrap = le16toh(__atomic_load_n(&vq->drv_ev->off_wrap, __ATOMIC_RELAXED));
        uint16_t off = off_wrap & 0x7fff;

        if (new <= old) {
            old = (uint16_t)(old - vq->num);
        }
        if ((bool)(off_wrap >> 15) != vq->used_wrap) {
            off = (uint16_t)(off - vq->num);
        }
        need = be->mutant == VC_MUT_IGNORE_USED_EVENT || vring_need_event(off, new, old);
    }
    if (need) {
        vc_be_vring_notify(be, vq);
    }
}

/* Mutant restore-replays-used: the used descriptor before used_idx, once more. */
void
vc_be_packed_replay(VcBe *be, VcBeVring *vq)
{
    uint16_t slot = vq->used_idx ? vq->used_idx - 1 : (uint16_t)(vq->num - 1);
    struct vring_packed_desc d;

    if (slot >= vq->num) {
        return;
    }
    memcpy(&d, (const void *)&vq->pdesc[slot], sizeof(d));
    vc_be_packed_push(be, vq, le16toh(d.id), 1, le32toh(d.len));
    vc_be_packed_flush(be, vq);
}
