/*
 * vc-be-vring.c -- virtqueues on the device side: ring states, notifiers,
 * the datapath entry points, and the split layout (virtio 1.x section 2.7;
 * vhost-user.rst "Ring states", "Memory access", SET_VRING_KICK/CALL/ERR).
 * The packed layout is in vc-be-packed.c.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

void
vc_be_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void
vc_be_vring_init(VcBeVring *vq, unsigned index)
{
    memset(vq, 0, sizeof(*vq));
    vq->index = index;
    vq->kick_fd = -1;
    vq->call_fd = -1;
    vq->err_fd = -1;
    vq->old_call_fd = -1;
    /* virtio 1.x 2.8.1: both wrap counters start at 1. */
    vq->avail_wrap = true;
    vq->used_wrap = true;
}

void
vc_be_vring_forget(VcBe *be, VcBeVring *vq)
{
    VcBeSeg *segs = vq->segs;
    VcBePending *pend = vq->pend;
    uint16_t *resubmit = vq->resubmit, *batch = vq->batch;
    struct vring_packed_desc *pscratch = vq->pscratch;
    uint32_t segs_cap = vq->segs_cap, pend_cap = vq->pend_cap;

    vc_be_event(be, VC_BE_EV_RING_DROP, vq->index);
    vc_be_close_fd(&vq->kick_fd);
    vc_be_close_fd(&vq->call_fd);
    vc_be_close_fd(&vq->err_fd);
    vc_be_close_fd(&vq->old_call_fd);
    /* Keep the scratch arrays: they only ever grow. */
    vc_be_vring_init(vq, vq->index);
    vq->segs = segs;
    vq->segs_cap = segs_cap;
    vq->pend = pend;
    vq->pend_cap = pend_cap;
    vq->resubmit = resubmit;
    vq->batch = batch;
    vq->pscratch = pscratch;
    /* vhost-user.rst "Ring states": every ring begins disabled. */
    vq->enabled = (be->mutant == VC_MUT_START_ENABLED);
}

void
vc_be_vring_free(VcBeVring *vq)
{
    free(vq->segs);
    free(vq->pend);
    free(vq->resubmit);
    free(vq->batch);
    free(vq->pscratch);
    vq->pscratch = NULL;
    vq->segs = NULL;
    vq->pend = NULL;
    vq->resubmit = NULL;
    vq->batch = NULL;
    vq->segs_cap = 0;
    vq->pend_cap = 0;
}

static bool
packed_negotiated(const VcBe *be)
{
    return (be->features & VC_BE_F_PACKED) != 0;
}

int
vc_be_vring_set_num(VcBe *be, VcBeVring *vq, uint32_t num)
{
    /* virtio 1.x: split rings are a power of two; packed rings any size up to 32768. */
    if (num == 0 || num > VC_BE_MAX_RING_SIZE ||
        (!packed_negotiated(be) && (num & (num - 1)) != 0 &&
         be->mutant != VC_MUT_RING_SIZE_ANY)) {
        return -EINVAL;
    }
    if (num > vq->segs_cap) {
        VcBeSeg *segs = realloc(vq->segs, num * sizeof(*segs));
        uint16_t *resubmit, *batch;
        struct vring_packed_desc *pscratch;

        if (!segs) {
            return -ENOMEM;
        }
        vq->segs = segs;
        resubmit = realloc(vq->resubmit, num * sizeof(*resubmit));
        if (!resubmit) {
            return -ENOMEM;
        }
        vq->resubmit = resubmit;
        batch = realloc(vq->batch, num * sizeof(*batch));
        if (!batch) {
            return -ENOMEM;
        }
        vq->batch = batch;
        pscratch = realloc(vq->pscratch, num * sizeof(*pscratch));
        if (!pscratch) {
            return -ENOMEM;
        }
        vq->pscratch = pscratch;
        vq->segs_cap = num;
    }
    if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN && num > vq->pend_cap) {
        VcBePending *pend = malloc(num * sizeof(*pend));

        if (!pend) {
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < vq->pend_count; i++) {
            pend[i] = vq->pend[(vq->pend_first + i) % vq->pend_cap];
        }
        free(vq->pend);
        vq->pend = pend;
        vq->pend_first = 0;
        vq->pend_cap = num;
    }
    vq->num = num;
    vq->broken = false;
    vq->stalled = false;
    vc_be_vring_remap(be, vq);
    return 0;
}

static size_t
desc_bytes(uint32_t num)
{
    return 16ul * num;
}

/* The avail and used rings include the event-index word after the ring. */
static size_t
avail_bytes(uint32_t num)
{
    return 6ul + 2ul * num;
}

static size_t
used_bytes(uint32_t num)
{
    return 6ul + 8ul * num;
}

int
vc_be_vring_check_addr(VcBe *be, const VcBeVring *vq, const struct vhost_vring_addr *a)
{
    uint32_t num = vq->num;
    bool packed = packed_negotiated(be);
    uint64_t flags_ok = (be->offered_features & VC_BE_F_LOG_ALL) ? VC_BE_VRING_F_LOG : 0;

    if (a->flags & ~flags_ok) {
        return -EINVAL;
    }
    /*
     * virtio 1.x 2.7: descriptor table 16-, avail 2-, used ring 4-byte
     * aligned; 2.8: descriptor ring 16-, event structures 4-byte aligned.
     */
    if ((a->desc_user_addr & 15) || (a->avail_user_addr & (packed ? 3 : 1)) ||
        (a->used_user_addr & 3)) {
        return -EINVAL;
    }
    /* IOVAs are resolved through the IOTLB when the ring is used. */
    if (vc_be_iommu(be)) {
        return 0;
    }
    /* Without a memory table yet the addresses are kept and resolved later. */
    if (be->nregions == 0) {
        return 0;
    }
    if (packed) {
        if (!vc_be_uva_to_hva(be, a->desc_user_addr, num ? desc_bytes(num) : 1) ||
            !vc_be_uva_to_hva(be, a->avail_user_addr, 4) ||
            !vc_be_uva_to_hva(be, a->used_user_addr, 4)) {
            return be->mutant == VC_MUT_RINGS_BY_GPA ? 0 : -EFAULT;
        }
        return 0;
    }
    if (be->mutant == VC_MUT_RINGS_BY_GPA) {
        if (!vc_be_gpa_to_hva(be, a->desc_user_addr, num ? desc_bytes(num) : 1) ||
            !vc_be_gpa_to_hva(be, a->avail_user_addr, num ? avail_bytes(num) : 1) ||
            !vc_be_gpa_to_hva(be, a->used_user_addr, num ? used_bytes(num) : 1)) {
            return -EFAULT;
        }
        return 0;
    }
    if (!vc_be_uva_to_hva(be, a->desc_user_addr, num ? desc_bytes(num) : 1) ||
        !vc_be_uva_to_hva(be, a->avail_user_addr, num ? avail_bytes(num) : 1) ||
        !vc_be_uva_to_hva(be, a->used_user_addr, num ? used_bytes(num) : 1)) {
        return -EFAULT;
    }
    return 0;
}

static bool
split_map(VcBe *be, VcBeVring *vq)
{
    /* All three first: with the IOMMU every miss goes out at once. */
    void *d = vc_be_tr_ring(be, vq, vq->addr.desc_user_addr, desc_bytes(vq->num), VC_PERM_RO);
    void *a = vc_be_tr_ring(be, vq, vq->addr.avail_user_addr, avail_bytes(vq->num), VC_PERM_RO);
    void *u = vc_be_tr_ring(be, vq, vq->addr.used_user_addr, used_bytes(vq->num), VC_PERM_RW);

    if (!d || !a || !u) {
        return false;
    }
    vq->vr.num = vq->num;
    vq->vr.desc = d;
    vq->vr.avail = a;
    vq->vr.used = u;
    return true;
}

/*
 * Recomputes the ring pointers from the stored addresses; called whenever
 * the ring size, the addresses, the features, the memory table or the
 * IOTLB change. A started ring that becomes usable is processed at once,
 * as if kicked: its kick may have come while it could not run.
 */
void
vc_be_vring_remap(VcBe *be, VcBeVring *vq)
{
    bool was_ready = vq->ready;

    vq->ready = false;
    vq->packed = packed_negotiated(be);
    memset(&vq->vr, 0, sizeof(vq->vr));
    vq->pdesc = NULL;
    vq->drv_ev = NULL;
    vq->dev_ev = NULL;
    if (vq->num == 0 || !vq->addr_set) {
        return;
    }
    if (vq->packed ? !vc_be_packed_map(be, vq) : !split_map(be, vq)) {
        return;
    }
    vq->ready = true;
    if (vq->inflight_bind) {
        vc_be_vring_bind_inflight(be, vq);
    }
    if (!was_ready) {
        vc_be_vring_process(be, vq);
    }
}

void
vc_be_vring_bind_inflight(VcBe *be, VcBeVring *vq)
{
    if (!vq->ready) {
        return;
    }
    vq->inflight_bind = false;
    if (vc_be_inflight_start(be, vq) && !vq->started) {
        vc_be_vring_start(be, vq);
    }
}

void
vc_be_vring_remap_all(VcBe *be)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        vc_be_vring_remap(be, &be->vq[q]);
    }
}

/* vhost-user.rst "Ring states" / SET_VRING_BASE: used->idx is read at start. */
void
vc_be_vring_start(VcBe *be, VcBeVring *vq)
{
    vq->started = true;
    be->ever_started = true;
    if (!vq->ready && vc_be_iommu(be)) {
        /* The ring's own IOVAs are asked for once it starts (no channel traffic before). */
        vc_be_vring_remap(be, vq);
    }
    if (!vq->packed) {
        vq->used_sync = true;
    }
    vc_be_chan_flush_pending(be);
    vc_be_shm_ring_started(be, vq);
    if (be->mutant == VC_MUT_SHARED_OBJECT_UNSOLICITED && !be->shared_object_sent &&
        vc_be_chan_ok(be) && !(be->pfeatures & VC_PF(SHARED_OBJECT))) {
        VcMsg m;

        /* Mutant: an object announced without SHARED_OBJECT negotiated. */
        vc_msg_init(&m, VHOST_USER_BACKEND_SHARED_OBJECT_ADD, 0);
        memset(m.payload.object.uuid, 0x5a, sizeof(m.payload.object.uuid));
        m.hdr.size = sizeof(m.payload.object);
        be->shared_object_sent = true;
        (void)vc_be_chan_send(be, be->backend_fd, &m, -1);
    }
    if (be->mutant == VC_MUT_IOTLB_MISS_WITHOUT_IOMMU && vc_be_chan_ok(be) &&
        !(be->features & VC_BE_F_IOMMU) && vq->addr_set) {
        vc_be_iotlb_send_miss(be, vq->addr.used_user_addr, VC_PERM_RW);
    }
}

/* GET_VRING_BASE: stop, and forget the kick fd (QEMU resends it at restart). */
void
vc_be_vring_stop(VcBe *be, VcBeVring *vq)
{
    vq->started = false;
    vq->kick_watched = false;
    vq->kick_nofd = false;
    vq->was_runnable = false;
    vc_be_close_fd(&vq->kick_fd);
}

static bool
usable(const VcBe *be, const VcBeVring *vq)
{
    if (!vq->started || !vq->ready || vq->broken || vq->stalled || be->postcopy_wait_ack ||
        be->status_broken) {
        return false;
    }
    if (be->mutant == VC_MUT_NO_KICK_POLLING && vq->kick_nofd) {
        return false;
    }
    if (be->mutant == VC_MUT_NEEDS_CALL_FD && vq->call_nofd) {
        return false;
    }
    return true;
}

bool
vc_be_vring_runnable(const VcBe *be, const VcBeVring *vq)
{
    if (!usable(be, vq)) {
        return false;
    }
    /* A started but disabled ring is left alone: for rng that is "no side effects". */
    return vq->enabled || be->mutant == VC_MUT_IGNORE_DISABLE;
}

/* Runnable, or started and disabled where the device drains disabled rings. */
static bool
drainable(const VcBe *be, const VcBeVring *vq)
{
    if (vc_be_vring_runnable(be, vq)) {
        return true;
    }
    return usable(be, vq) && (vc_be_queue_flags(be, vq->index) & VC_BE_Q_DRAIN_DISABLED);
}

/*
 * Writes one 8-byte unit to a call or err notifier. The value means
 * nothing. A pipe may be full: poll for room first so a blocking pipe
 * never stalls the daemon, and drop the signal when there is none (the
 * reader has unread signals anyway).
 */
void
vc_be_notifier_write(int fd, bool fifo)
{
    uint64_t one = 1;
    ssize_t n;

    if (fd < 0) {
        return;
    }
    if (fifo) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};

        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) {
            return;
        }
    }
    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/*
 * "Used buffers" for the driver: the call fd, or with INBAND_NOTIFICATIONS
 * and no call fd a BACKEND_VRING_CALL (vhost-user.rst "In-band
 * notifications").
 */
void
vc_be_vring_notify(VcBe *be, VcBeVring *vq)
{
    if (be->mutant == VC_MUT_NO_CALL) {
        return;
    }
    if (vq->call_fd >= 0) {
        vc_be_notifier_write(vq->call_fd, vq->call_fifo);
        if (be->mutant == VC_MUT_OLD_CALL_FD) {
            vc_be_notifier_write(vq->old_call_fd, vq->old_call_fifo);
        }
        return;
    }
    if ((be->pfeatures & VC_PF(INBAND_NOTIFICATIONS)) ||
        be->mutant == VC_MUT_INBAND_CALL_WITHOUT_FEATURE) {
        vc_be_inband(be, vq, VHOST_USER_BACKEND_VRING_CALL);
    }
}

void
vc_be_vring_error(VcBe *be, VcBeVring *vq, const char *why)
{
    vc_be_note(be, "ring %u: %s; ring stopped until it is set up again", vq->index, why);
    vq->broken = true;
    if (be->mutant == VC_MUT_NO_ERR_SIGNAL) {
        return;
    }
    if (vq->err_fd >= 0) {
        vc_be_notifier_write(vq->err_fd, vq->err_fifo);
    } else if (be->pfeatures & VC_PF(INBAND_NOTIFICATIONS)) {
        vc_be_inband(be, vq, VHOST_USER_BACKEND_VRING_ERR);
    }
}

/* ---- split layout ---- */

static uint16_t
load_avail_idx(const VcBeVring *vq)
{
    /* Acquire: the ring entries and descriptors behind the index are read after it. */
    return le16toh(__atomic_load_n(&vq->vr.avail->idx, __ATOMIC_ACQUIRE));
}

/* avail_event lives in the used ring: a used-ring write for the log. */
static void
set_avail_event(VcBe *be, VcBeVring *vq, uint16_t v)
{
    if (le16toh(__atomic_load_n(&vring_avail_event(&vq->vr), __ATOMIC_RELAXED)) == v) {
        return;
    }
    __atomic_store_n(&vring_avail_event(&vq->vr), htole16(v), __ATOMIC_RELEASE);
    vc_be_log_used(be, vq, offsetof(struct vring_used, ring) + 8ul * vq->num, 2);
}

int
vc_be_desc_seg(VcBe *be, VcBeVring *vq, VcBeSeg *s, uint64_t addr, uint32_t len, uint16_t flags,
               uint16_t index)
{
    int err = 0;

    s->gpa = addr;
    s->len = len;
    s->flags = flags;
    s->index = index;
    s->hva = NULL;
    if (len == 0 && (flags & VRING_DESC_F_WRITE) && be->mutant == VC_MUT_ZERO_LEN_WRITTEN) {
        /* Mutant: a zero-length buffer is written all the same. */
        uint8_t *p = vc_be_gpa_to_hva(be, addr, 16);

        if (p) {
            memset(p, 0x5a, 16);
        }
    }
    if (len) {
        s->hva = vc_be_tr_desc(be, vq, addr, len,
                               (flags & VRING_DESC_F_WRITE) ? VC_PERM_WO : VC_PERM_RO, &err);
        if (!s->hva && err == -EFAULT && be->mutant == VC_MUT_DESC_LEN_CLAMPED &&
            (flags & VRING_DESC_F_WRITE) && !vc_be_iommu(be)) {
            /* Mutant: a buffer running past its region is cut where the region ends. */
            for (uint32_t n = len - 1; n > 0 && !s->hva; n--) {
                s->hva = vc_be_gpa_to_hva(be, addr, n);
                s->len = n;
            }
        }
        if (!s->hva) {
            return err ? err : -EFAULT;
        }
    }
    return 0;
}

/*
 * Walks the chain at @head into vq->segs (virtio 1.x 2.7.5, 2.7.5.3). Every
 * bound the driver could break is checked: indices, chain length (a chain
 * may not be longer than the ring, which also catches loops), indirect
 * table length and nesting, and that each buffer lies inside guest memory.
 *
 * Returns: 0, -EAGAIN after an IOTLB miss, or -EINVAL with *@err set.
 */
static int
walk_chain(VcBe *be, VcBeVring *vq, uint16_t head, unsigned *nsegs, const char **err)
{
    const struct vring_desc *table = vq->vr.desc;
    uint32_t table_n = vq->num;
    uint32_t i = head, steps = 0, n = 0;
    bool indirect = false, nested = false;
    int r;

    if (head >= vq->num) {
        *err = "avail ring names a head beyond the ring";
        return -EINVAL;
    }
    for (;;) {
        struct vring_desc d;
        uint16_t flags;
        uint32_t len;
        uint64_t addr;

        if (++steps > table_n && be->mutant != VC_MUT_FOLLOW_LOOPS) {
            *err = "descriptor chain loops or is longer than its table";
            return -EINVAL;
        }
        /* One copy: the driver may rewrite the descriptor meanwhile. */
        memcpy(&d, (const void *)&table[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(d.flags);
        len = le32toh(d.len);
        addr = le64toh(d.addr);

        if ((flags & VRING_DESC_F_INDIRECT) && be->mutant != VC_MUT_INDIRECT_AS_DIRECT) {
            if (indirect && (be->mutant != VC_MUT_NESTED_INDIRECT || nested)) {
                *err = "indirect descriptor inside an indirect table";
                return -EINVAL;
            }
            /* Mutant nested-indirect follows one table inside a table. */
            nested = indirect;
            if (len == 0 || len % sizeof(struct vring_desc) != 0) {
                *err = "indirect table length is zero or not a multiple of 16";
                return -EINVAL;
            }
            int terr = 0;
            table = vc_be_tr_desc(be, vq, addr, len, VC_PERM_RO, &terr);
            if (!table) {
                if (terr == -EAGAIN) {
                    return -EAGAIN;
                }
                *err = "indirect table outside guest memory";
                return -EINVAL;
            }
            table_n = len / sizeof(struct vring_desc);
            indirect = true;
            i = 0;
            steps = 0;
            continue;
        }
        if (n >= vq->num) {
            if (be->mutant == VC_MUT_LONG_CHAIN_ABORT) {
                abort();
            }
            if (be->mutant == VC_MUT_FOLLOW_LOOPS) {
                /* Mutant: a chain that never ends is walked forever, nothing more stored. */
                goto next;
            }
            *err = "descriptor chain longer than the ring";
            return -EINVAL;
        }
        if (flags & VRING_DESC_F_INDIRECT) {
            /* Mutant indirect-as-direct: the table is taken for a writable buffer. */
            flags |= VRING_DESC_F_WRITE;
        }
        r = vc_be_desc_seg(be, vq, &vq->segs[n], addr, len, flags, (uint16_t)i);
        if (r == -EAGAIN) {
            return -EAGAIN;
        }
        if (r < 0) {
            *err = "descriptor address outside guest memory";
            return -EINVAL;
        }
        n++;
    next:
        if (!(flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = le16toh(d.next);
        if (i >= table_n) {
            *err = "descriptor next index out of range";
            return -EINVAL;
        }
    }
    *nsegs = n;
    return 0;
}

static bool
has_avail(const VcBe *be, const VcBeVring *vq, uint16_t avail_idx)
{
    if (be->mutant == VC_MUT_NO_WRAP) {
        /* Mutant: no modulo-65536 arithmetic. */
        return vq->last_avail_idx < avail_idx;
    }
    return vq->last_avail_idx != avail_idx;
}

static void
split_sync_used(VcBeVring *vq)
{
    if (vq->used_sync) {
        vq->used_idx = le16toh(__atomic_load_n(&vq->vr.used->idx, __ATOMIC_RELAXED));
        vq->published_used = vq->used_idx;
        vq->used_sync = false;
    }
}

static int
split_pop(VcBe *be, VcBeVring *vq, VcBeChain *c, const char **err)
{
    bool event_idx = (be->features & VC_BE_F_EVENT_IDX) != 0;
    unsigned nsegs = 0;
    uint16_t avail_idx, head;
    int r;

    split_sync_used(vq);
    if (vq->resubmit_pos < vq->resubmit_num) {
        /* vhost-user.rst "Inflight I/O tracking": recorded requests first, in counter order. */
        head = vq->resubmit[vq->resubmit_pos];
        r = walk_chain(be, vq, head, &nsegs, err);
        if (r < 0) {
            return -1;
        }
        vq->resubmit_pos++;
        goto got;
    }
    avail_idx = load_avail_idx(vq);
    if (!has_avail(be, vq, avail_idx)) {
        if (!event_idx || vq->peeking) {
            return 0;
        }
        /*
         * EVENT_IDX: tell the driver which index we wait for, then look
         * again, so that a chain published before it saw avail_event is
         * not left without a kick (virtio 1.x 2.7.10).
         */
        set_avail_event(be, vq, vq->last_avail_idx);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        avail_idx = load_avail_idx(vq);
        if (!has_avail(be, vq, avail_idx)) {
            return 0;
        }
    }
    if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
        *err = "driver published more chains than the ring holds";
        return -1;
    }
    head = le16toh(__atomic_load_n(&vq->vr.avail->ring[vq->last_avail_idx & (vq->num - 1)],
                                   __ATOMIC_RELAXED));
    r = walk_chain(be, vq, head, &nsegs, err);
    if (r < 0) {
        return -1;
    }
    if (vq->inflight) {
        vc_be_inflight_fetch_split(be, vq, head);
    }
    vq->last_avail_idx++;
got:
    vq->inuse++;
    c->queue = vq->index;
    c->head = head;
    c->nsegs = nsegs;
    c->segs = vq->segs;
    c->ndescs = 1;
    c->islot = 0;
    return 1;
}

static void
split_push(VcBe *be, VcBeVring *vq, uint16_t head, uint32_t len)
{
    uint16_t slot;
    struct vring_used_elem *e;

    split_sync_used(vq);
    slot = vq->used_idx & (vq->num - 1);
    e = &vq->vr.used->ring[slot];
    e->id = htole32(head);
    e->len = htole32(len);
    vc_be_log_used(be, vq, offsetof(struct vring_used, ring) + 8ul * slot, 8);
    vq->used_idx++;
    if (vq->inflight) {
        vc_be_inflight_push_split(be, vq, head);
    }
}

/*
 * virtio 1.x 2.7.7 (used buffer notification suppression). The caller has
 * published used->idx; the full fence orders that store before the loads
 * of avail->flags / used_event, otherwise a driver that just re-enabled
 * interrupts could be missed.
 */
static void
split_signal(VcBe *be, VcBeVring *vq, uint16_t old_used, uint16_t new_used)
{
    bool need;

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (be->features & VC_BE_F_EVENT_IDX) {
        uint16_t used_event =
            le16toh(__atomic_load_n(&vring_used_event(&vq->vr), __ATOMIC_RELAXED));

        need = be->mutant == VC_MUT_IGNORE_USED_EVENT ||
               vring_need_event(used_event, new_used, old_used);
    } else {
        uint16_t flags = le16toh(__atomic_load_n(&vq->vr.avail->flags, __ATOMIC_RELAXED));

        need = be->mutant == VC_MUT_IGNORE_NO_INTERRUPT ||
               !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    if (need) {
        vc_be_vring_notify(be, vq);
    }
}

static void
split_flush(VcBe *be, VcBeVring *vq)
{
    uint16_t old;

    if (be->features & VC_BE_F_EVENT_IDX) {
        /* Keep avail_event at the next index we want; a polled ring rarely changes it. */
        set_avail_event(be, vq, vq->last_avail_idx);
    }
    split_sync_used(vq);
    if (vq->used_idx == vq->published_used) {
        return;
    }
    /* Release: the used elements are visible before the index that covers them. */
    __atomic_store_n(&vq->vr.used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
    vc_be_log_used(be, vq, offsetof(struct vring_used, idx), 2);
    if (vq->inflight) {
        vc_be_inflight_flush_split(be, vq, (uint16_t)(vq->used_idx - vq->published_used));
    }
    old = vq->published_used;
    vq->published_used = vq->used_idx;
    split_signal(be, vq, old, vq->used_idx);
}

/* ---- the datapath entry points ---- */

static int
pop_chain(VcBe *be, VcBeVring *vq, VcBeChain *c)
{
    const char *err = NULL;
    int r;

    vq->iotlb_wait = false;
    r = vq->packed ? vc_be_packed_pop(be, vq, c, &err) : split_pop(be, vq, c, &err);
    if (r < 0 && err) {
        vc_be_vring_error(be, vq, err);
    }
    return r;
}

int
vc_be_pop(VcBe *be, unsigned q, VcBeChain *c)
{
    VcBeVring *vq;

    if (q >= be->dev.num_queues) {
        return -1;
    }
    vq = &be->vq[q];
    if (!drainable(be, vq)) {
        return -1;
    }
    return pop_chain(be, vq, c);
}

void
vc_be_unpop(VcBe *be, const VcBeChain *c)
{
    VcBeVring *vq;

    if (c->queue >= be->dev.num_queues) {
        return;
    }
    vq = &be->vq[c->queue];
    if (vq->inuse) {
        vq->inuse--;
    }
    if (vq->packed) {
        vc_be_packed_unpop(be, vq, c);
    } else {
        vq->last_avail_idx--;
    }
}

/* Marks the pages of the first @len bytes of the chain's writable buffers. */
static void
log_chain(VcBe *be, const VcBeChain *c, uint32_t len)
{
    for (unsigned i = 0; i < c->nsegs && len > 0; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint32_t n;

        if (!(s->flags & VRING_DESC_F_WRITE) || !s->hva) {
            continue;
        }
        n = s->len < len ? s->len : len;
        vc_be_log_hva(be, s->hva, n);
        len -= n;
    }
}

static void
push_used(VcBe *be, VcBeVring *vq, const VcBeChain *c, uint32_t len)
{
    if (vq->inuse) {
        vq->inuse--;
    }
    vq->have_last_used = true;
    vq->last_used_id = c->head;
    vq->last_used_len = len;
    vq->last_used_ndescs = c->ndescs;
    if (vq->packed) {
        if (vq->inflight) {
            vc_be_inflight_push_packed(be, vq, c->islot);
        }
        vc_be_packed_push(be, vq, c->head, c->ndescs ? c->ndescs : 1, len);
    } else {
        split_push(be, vq, c->head, len);
    }
}

void
vc_be_push(VcBe *be, const VcBeChain *c, uint32_t len)
{
    VcBeVring *vq;

    if (c->queue >= be->dev.num_queues) {
        return;
    }
    vq = &be->vq[c->queue];
    if (!vq->ready) {
        return;
    }
    if (be->mutant != VC_MUT_LOG_MISSES_DATA && vc_be_logging(be)) {
        log_chain(be, c, len);
    }
    if (be->mutant == VC_MUT_USED_PER_DESCRIPTOR && !vq->packed) {
        for (unsigned k = 0; k < c->nsegs; k++) {
            split_push(be, vq, c->segs[k].index,
                       (c->segs[k].flags & VRING_DESC_F_WRITE) ? c->segs[k].len : 0);
        }
        if (vq->inuse) {
            vq->inuse--;
        }
        return;
    }
    push_used(be, vq, c, len);
}

void
vc_be_flush(VcBe *be, unsigned q)
{
    VcBeVring *vq;

    if (q >= be->dev.num_queues) {
        return;
    }
    vq = &be->vq[q];
    if (!vq->ready) {
        return;
    }
    if (vq->packed) {
        vc_be_packed_flush(be, vq);
    } else {
        split_flush(be, vq);
    }
}

bool
vc_be_queue_runnable(const VcBe *be, unsigned q)
{
    return q < be->dev.num_queues && vc_be_vring_runnable(be, &be->vq[q]);
}

bool
vc_be_queue_enabled(const VcBe *be, unsigned q)
{
    return q < be->dev.num_queues && be->vq[q].enabled;
}

static void
complete_chain(VcBe *be, VcBeVring *vq, const VcBeChain *c, uint32_t len)
{
    if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN) {
        VcBePending *p = &vq->pend[(vq->pend_first + vq->pend_count) % vq->pend_cap];

        /* Mutant: completed ~100 ms later (no segments kept: nothing is logged). */
        p->chain = *c;
        p->chain.nsegs = 0;
        p->chain.segs = NULL;
        p->len = len;
        p->due_ms = vc_now_ms() + VC_BE_LATE_COMPLETION_MS;
        vq->pend_count++;
        return;
    }
    vc_be_push(be, c, len);
}

/*
 * A ring the device pulls from (net RX) is not drained on a kick, but the
 * chains the driver made available are walked, so that a bad one breaks
 * the ring (and signals the err notifier) when it is offered, not later
 * when a frame needs it. Nothing is consumed or written.
 */
static void
peek_check(VcBe *be, VcBeVring *vq)
{
    uint16_t last = vq->last_avail_idx;
    bool wrap = vq->avail_wrap;
    uint32_t inuse = vq->inuse, rpos = vq->resubmit_pos;

    if (vq->inflight) {
        return;
    }
    vq->peeking = true;
    for (uint32_t k = 0; k < vq->num; k++) {
        VcBeChain c;

        if (pop_chain(be, vq, &c) <= 0) {
            break;
        }
    }
    vq->peeking = false;
    vq->last_avail_idx = last;
    vq->avail_wrap = wrap;
    vq->inuse = inuse;
    vq->resubmit_pos = rpos;
}

/*
 * Drains the ring: every chain is serviced and gets one used element (now,
 * or later when the device defers it), then the used index is published
 * once and the driver is signalled once for the batch.
 */
/*
 * --null on a plain split ring (benchmark only): every available head is
 * completed with used.len 0 without walking its descriptors, so that the
 * daemon is not what limits a front end's measurement. Inflight tracking,
 * dirty logging, an IOMMU, mutants and resubmissions keep the ordinary
 * path, and so does the first head out of range (it is reported there).
 * Returns: chains completed.
 */
static unsigned
null_drain_split(VcBe *be, VcBeVring *vq)
{
    uint16_t avail, n, mask = (uint16_t)(vq->num - 1);
    unsigned k;

    if (!be->null_mode || vq->packed || vq->inflight || be->mutant != VC_MUT_NONE ||
        vq->resubmit_pos < vq->resubmit_num || vc_be_logging(be) || vc_be_iommu(be)) {
        return 0;
    }
    split_sync_used(vq);
    avail = load_avail_idx(vq);
    n = (uint16_t)(avail - vq->last_avail_idx);
    if (n > vq->num) {
        return 0;
    }
    for (k = 0; k < n; k++) {
        uint16_t head = le16toh(__atomic_load_n(
            &vq->vr.avail->ring[(uint16_t)(vq->last_avail_idx + k) & mask], __ATOMIC_RELAXED));
        struct vring_used_elem *e = &vq->vr.used->ring[(uint16_t)(vq->used_idx + k) & mask];

        if (head >= vq->num) {
            break;
        }
        e->id = htole32(head);
        e->len = 0;
    }
    vq->last_avail_idx += k;
    vq->used_idx += k;
    return k;
}

void
vc_be_vring_process(VcBe *be, VcBeVring *vq)
{
    bool runnable = vc_be_vring_runnable(be, vq);
    unsigned done = 0, since_flush = 0;

    if (runnable && !vq->was_runnable) {
        vq->was_runnable = true;
        vc_be_event(be, VC_BE_EV_RING_RUNNABLE, vq->index);
    }
    vq->was_runnable = runnable;
    if (!drainable(be, vq)) {
        return;
    }
    if (vc_be_queue_flags(be, vq->index) & VC_BE_Q_PULL) {
        if (runnable) {
            peek_check(be, vq);
        }
        return;
    }
    if (be->mutant == VC_MUT_TRUST_USED_IDX && !vq->packed) {
        /* Mutant: used->idx is read back from guest memory before every batch. */
        vq->used_sync = true;
    }
    for (;;) {
        VcBeChain c;
        uint32_t len;
        unsigned fast = null_drain_split(be, vq);

        if (fast) {
            /* Published at once: a front end waiting for room is not kept waiting. */
            done += fast;
            vc_be_flush(be, vq->index);
            continue;
        }

        if (be->mutant == VC_MUT_ONE_PER_KICK && done > 0) {
            break;
        }
        if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN && vq->pend_count >= vq->pend_cap) {
            break;
        }
        if (pop_chain(be, vq, &c) <= 0) {
            break;
        }
        len = be->null_mode ? 0 : be->dev.handle_chain(be, &c, be->dev.opaque);
        if (len != VC_BE_DEFERRED) {
            complete_chain(be, vq, &c, len);
            /*
             * Packed: a flush judges the driver's event by used positions, which cannot
             * tell a window longer than the ring from a short one; a drain that outruns
             * the ring (the driver keeps posting) would miss the event. Publish at
             * least every half ring.
             */
            since_flush += c.ndescs ? c.ndescs : 1;
            if (vq->packed && vq->ready && since_flush >= vq->num / 2) {
                vc_be_flush(be, vq->index);
                since_flush = 0;
            }
        }
        done++;
    }
    if (vq->ready) {
        vc_be_flush(be, vq->index);
    }
    if (done) {
        vc_be_event(be, VC_BE_EV_BATCH_DONE, vq->index);
    }
}

void
vc_be_vring_process_all(VcBe *be)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        vc_be_vring_process(be, &be->vq[q]);
    }
}

/* Mutant reply-before-drain: completes the chains whose time has come. */
void
vc_be_vring_complete_due(VcBe *be, VcBeVring *vq, bool all)
{
    int64_t now = vc_now_ms();
    bool any = false;

    if (vq->pend_count == 0) {
        return;
    }
    if (!vq->ready) {
        vq->pend_count = 0;
        return;
    }
    while (vq->pend_count > 0) {
        VcBePending *p = &vq->pend[vq->pend_first];

        if (!all && p->due_ms > now) {
            break;
        }
        vc_be_push(be, &p->chain, p->len);
        any = true;
        vq->pend_first = (vq->pend_first + 1) % vq->pend_cap;
        vq->pend_count--;
    }
    if (any) {
        vc_be_flush(be, vq->index);
    }
}

int64_t
vc_be_vring_next_due(const VcBeVring *vq)
{
    return vq->pend_count ? vq->pend[vq->pend_first].due_ms : -1;
}

uint32_t
vc_be_vring_base(const VcBe *be, const VcBeVring *vq)
{
    if (!vq->packed && !packed_negotiated(be)) {
        /* Split: bits 0..15 the next avail index, 16..31 zero. */
        return vq->last_avail_idx;
    }
    if (be->mutant == VC_MUT_PACKED_BASE_NO_WRAP) {
        return vq->last_avail_idx;
    }
    /* SPEC-FACTS 2.2: avail index, avail wrap, used index, used wrap. */
    return (uint32_t)(vq->last_avail_idx & 0x7fff) | ((uint32_t)vq->avail_wrap << 15) |
           ((uint32_t)(vq->used_idx & 0x7fff) << 16) | ((uint32_t)vq->used_wrap << 31);
}

void
vc_be_vring_set_base(VcBe *be, VcBeVring *vq, uint32_t num)
{
    if (packed_negotiated(be)) {
        vq->last_avail_idx = num & 0x7fff;
        vq->avail_wrap = (num >> 15) & 1;
        vq->used_idx = (num >> 16) & 0x7fff;
        vq->used_wrap = (num >> 31) & 1;
        vq->signalled_valid = false;
        vq->used_sync = false;
    } else {
        /* Split ring: bits 0..15 are the next avail index; 16..31 are reserved. */
        vq->last_avail_idx = (uint16_t)num;
        vq->used_sync = true;
    }
    vq->inuse = 0;
    vq->resubmit_num = 0;
    vq->resubmit_pos = 0;
}

/* A kick arrived (eventfd or VRING_KICK): the first one starts the ring. */
void
vc_be_vring_kicked(VcBe *be, VcBeVring *vq)
{
    if (!vq->started) {
        vc_be_vring_start(be, vq);
    }
    if (vq->replay_armed && vc_be_vring_runnable(be, vq)) {
        /* Mutant restore-replays-used: repeat the last used element. */
        vq->replay_armed = false;
        if (vq->packed) {
            vc_be_packed_replay(be, vq);
        } else {
            const struct vring_used_elem *e;

            split_sync_used(vq);
            e = &vq->vr.used->ring[(uint16_t)(vq->used_idx - 1) & (vq->num - 1)];
            split_push(be, vq, (uint16_t)le32toh(e->id), le32toh(e->len));
            split_flush(be, vq);
        }
    }
    vc_be_vring_process(be, vq);
}

/*
 * The kick fd is readable. Read one 8-byte unit; a pipe may hold several
 * kicks, so drain what is there (bounded). The value means nothing
 * (vhost-user.rst "Platform support"), it is only looked at by the
 * kick-value-one mutant.
 */
void
vc_be_vring_kick(VcBe *be, VcBeVring *vq)
{
    bool value_one = false;
    uint64_t v = 0;
    ssize_t n;

    do {
        n = read(vq->kick_fd, &v, sizeof(v));
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        /* The writer is gone (pipe EOF) or the fd broke: stop polling it. */
        vq->kick_watched = false;
        return;
    }
    if (n < 0) {
        return;
    }
    value_one = (n == sizeof(v) && v == 1);
    for (unsigned k = 0; k < 1024; k++) {
        struct pollfd p = {.fd = vq->kick_fd, .events = POLLIN};

        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
            break;
        }
        n = read(vq->kick_fd, &v, sizeof(v));
        if (n <= 0) {
            break;
        }
        value_one |= (n == sizeof(v) && v == 1);
    }
    if (be->mutant == VC_MUT_KICK_VALUE_ONE && !value_one) {
        return;
    }
    if (be->mutant == VC_MUT_INBAND_ONLY_KICKS && (be->pfeatures & VC_PF(INBAND_NOTIFICATIONS))) {
        return;
    }
    vc_be_vring_kicked(be, vq);
    if (be->mutant == VC_MUT_STALL_AFTER_FIRST_KICK) {
        vq->kick_watched = false;
    }
}
