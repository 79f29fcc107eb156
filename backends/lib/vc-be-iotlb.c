/*
 * vc-be-iotlb.c -- address translation: ring addresses through
 * userspace_addr, descriptor addresses through guest_phys_addr, or both
 * through a small IOTLB cache when VIRTIO_F_ACCESS_PLATFORM is negotiated
 * (vhost-user.rst "Memory access", "IOMMU support").
 *
 * With the IOMMU the front end sends no translation on its own: a lookup
 * that misses sends BACKEND_IOTLB_MSG (type miss, iova, perm) with
 * NEED_REPLY on the back-end channel and gives up for now; the ring waits
 * (vq->iotlb_wait) and is processed again when IOTLB_MSG brings the update
 * on the main socket. The ack on the channel is read in the background.
 */
#include <errno.h>
#include <string.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

bool
vc_be_iommu(const VcBe *be)
{
    return (be->features & VC_BE_F_IOMMU) && be->mutant != VC_MUT_IOTLB_IGNORED;
}

static const VcBeIotlbEntry *
entry_find(VcBe *be, uint64_t iova)
{
    for (unsigned k = 0; k < be->niotlb; k++) {
        unsigned i = (be->iotlb_last + k) % be->niotlb;
        const VcBeIotlbEntry *e = &be->iotlb[i];

        if (iova >= e->iova && iova - e->iova < e->size) {
            be->iotlb_last = i;
            return e;
        }
    }
    return NULL;
}

void
vc_be_iotlb_send_miss(VcBe *be, uint64_t iova, uint8_t perm)
{
    int64_t now = vc_now_ms();
    VcMsg m;

    if (be->mutant == VC_MUT_IOTLB_NO_MISS) {
        return;
    }
    /* One miss per page and permission until it is answered or times out. */
    for (unsigned i = 0; i < be->nmisses; i++) {
        if (be->misses[i].iova == (iova & ~0xfffull) && be->misses[i].perm == perm &&
            be->misses[i].deadline > now) {
            return;
        }
    }
    if (!vc_be_chan_ok(be)) {
        vc_be_log(be, "IOTLB miss at 0x%llx but no back-end channel",
                  (unsigned long long)iova);
        return;
    }
    if (be->nmisses < VC_BE_IOTLB_MISSES) {
        be->misses[be->nmisses++] = (VcBeMiss){iova & ~0xfffull, perm, now + VC_BE_IOTLB_WAIT_MS};
    }
    vc_msg_init(&m, VHOST_USER_BACKEND_IOTLB_MSG,
                (be->pfeatures & VC_PF(REPLY_ACK)) ? VHOST_USER_NEED_REPLY_MASK : 0);
    m.payload.iotlb.iova = iova;
    m.payload.iotlb.perm = be->mutant == VC_MUT_IOTLB_MISS_NO_PERM ? 0 : perm;
    m.payload.iotlb.type = VHOST_IOTLB_MISS;
    m.hdr.size = sizeof(m.payload.iotlb);
    vc_be_log(be, "IOTLB miss: iova 0x%llx perm %u", (unsigned long long)iova, perm);
    (void)vc_be_chan_send(be, be->backend_fd, &m, -1);
}

static void
send_access_fail(VcBe *be, uint64_t iova, uint8_t perm)
{
    VcMsg m;

    if (!vc_be_chan_ok(be)) {
        return;
    }
    vc_msg_init(&m, VHOST_USER_BACKEND_IOTLB_MSG, 0);
    m.payload.iotlb.iova = iova;
    m.payload.iotlb.perm = perm;
    m.payload.iotlb.type = VHOST_IOTLB_ACCESS_FAIL;
    m.hdr.size = sizeof(m.payload.iotlb);
    (void)vc_be_chan_send(be, be->backend_fd, &m, -1);
}

/*
 * IOVA -> our pointer for [iova, iova + len). Consecutive IOTLB entries
 * are merged when they map to consecutive bytes of our mappings.
 * Returns: the pointer, or NULL with *@err = -EAGAIN (miss reported) or
 * -EFAULT (the entry points outside memory, or forbids the access).
 */
static void *
iotlb_translate(VcBe *be, VcBeVring *vq, uint64_t iova, uint64_t len, uint8_t perm, int *err)
{
    uint8_t *start = NULL, *expect = NULL;
    uint64_t at = iova, left = len ? len : 1;

    while (left > 0) {
        const VcBeIotlbEntry *e = entry_find(be, at);
        uint64_t chunk;
        uint8_t *p;

        if (!e) {
            vc_be_iotlb_send_miss(be, at, perm);
            if (vq) {
                vq->iotlb_wait = true;
            }
            *err = -EAGAIN;
            return NULL;
        }
        if ((e->perm & perm) != perm) {
            send_access_fail(be, at, perm);
            *err = -EFAULT;
            return NULL;
        }
        chunk = e->size - (at - e->iova);
        if (chunk > left) {
            chunk = left;
        }
        p = vc_be_uva_to_hva(be, e->uaddr + (at - e->iova), chunk);
        if (!p || (expect && p != expect)) {
            *err = -EFAULT;
            return NULL;
        }
        if (!start) {
            start = p;
        }
        expect = p + chunk;
        at += chunk;
        left -= chunk;
    }
    return start;
}

void *
vc_be_tr_ring(VcBe *be, VcBeVring *vq, uint64_t addr, uint64_t len, uint8_t perm)
{
    int err = 0;

    if (vc_be_iommu(be)) {
        if (!vq->started) {
            /* Suspended device: no channel traffic; asked for when the ring starts. */
            return NULL;
        }
        return iotlb_translate(be, vq, addr, len, perm, &err);
    }
    if (be->mutant == VC_MUT_RINGS_BY_GPA) {
        return vc_be_gpa_to_hva(be, addr, len);
    }
    return vc_be_uva_to_hva(be, addr, len);
}

void *
vc_be_tr_desc(VcBe *be, VcBeVring *vq, uint64_t addr, uint64_t len, uint8_t perm, int *err)
{
    void *p;

    if (vc_be_iommu(be)) {
        return iotlb_translate(be, vq, addr, len, perm, err);
    }
    p = be->mutant == VC_MUT_DESCS_BY_UVA ? vc_be_uva_to_hva(be, addr, len)
                                           : vc_be_gpa_to_hva(be, addr, len);
    if (!p) {
        *err = -EFAULT;
    }
    return p;
}

static void
forget_misses(VcBe *be, uint64_t iova, uint64_t size)
{
    unsigned j = 0;

    for (unsigned i = 0; i < be->nmisses; i++) {
        const VcBeMiss *m = &be->misses[i];

        if (m->iova + 0xfff >= iova && m->iova <= iova + (size - 1)) {
            continue;
        }
        be->misses[j++] = *m;
    }
    be->nmisses = j;
}

/* vhost-user.rst IOTLB_MSG: 0 on success, non-zero otherwise. */
int
vc_be_iotlb_msg(VcBe *be, const struct vhost_iotlb_msg *msg)
{
    switch (msg->type) {
    case VHOST_IOTLB_UPDATE:
        if (msg->size == 0 || msg->iova + (msg->size - 1) < msg->iova ||
            (msg->perm & ~VC_PERM_RW) != 0) {
            return -EINVAL;
        }
        /* "Addresses and size must be within vhost memory regions." */
        if (!vc_be_uva_to_hva(be, msg->uaddr, msg->size)) {
            return -EINVAL;
        }
        for (unsigned i = 0; i < be->niotlb; i++) {
            VcBeIotlbEntry *e = &be->iotlb[i];

            if (e->iova == msg->iova && e->size == msg->size) {
                e->uaddr = msg->uaddr;
                e->perm = msg->perm;
                goto done;
            }
        }
        if (be->niotlb == VC_BE_IOTLB_ENTRIES) {
            /* Full: drop the oldest; it is asked for again if needed. */
            memmove(&be->iotlb[0], &be->iotlb[1], (be->niotlb - 1) * sizeof(be->iotlb[0]));
            be->niotlb--;
        }
        be->iotlb[be->niotlb++] =
            (VcBeIotlbEntry){msg->iova, msg->size, msg->uaddr, msg->perm};
done:
        be->iotlb_last = 0;
        forget_misses(be, msg->iova, msg->size);
        /* Rings that waited for a translation go on. */
        vc_be_vring_remap_all(be);
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            if (be->vq[q].iotlb_wait) {
                vc_be_vring_process(be, &be->vq[q]);
            }
        }
        return 0;
    case VHOST_IOTLB_INVALIDATE: {
        unsigned j = 0;

        if (be->mutant == VC_MUT_IOTLB_STALE_AFTER_INVALIDATE) {
            return 0;
        }
        /* VU-IOTLB-04: nothing may use the translation after the ack. */
        vc_be_drain_all(be);
        for (unsigned i = 0; i < be->niotlb; i++) {
            const VcBeIotlbEntry *e = &be->iotlb[i];
            uint64_t end = msg->size ? msg->iova + (msg->size - 1) : UINT64_MAX;

            if (e->iova <= end && msg->iova <= e->iova + (e->size - 1)) {
                continue;
            }
            be->iotlb[j++] = *e;
        }
        be->niotlb = j;
        be->iotlb_last = 0;
        vc_be_vring_remap_all(be);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

void
vc_be_iotlb_clear(VcBe *be)
{
    be->niotlb = 0;
    be->iotlb_last = 0;
    be->nmisses = 0;
}

int64_t
vc_be_iotlb_next_due(const VcBe *be)
{
    int64_t due = -1;

    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        if (be->vq[q].iotlb_wait) {
            for (unsigned i = 0; i < be->nmisses; i++) {
                if (due < 0 || be->misses[i].deadline < due) {
                    due = be->misses[i].deadline;
                }
            }
            break;
        }
    }
    return due;
}

/* A miss nobody answered: the rings waiting on it break (err notifier). */
void
vc_be_iotlb_expire(VcBe *be, int64_t now)
{
    unsigned j = 0;
    bool expired = false;

    for (unsigned i = 0; i < be->nmisses; i++) {
        if (be->misses[i].deadline <= now) {
            expired = true;
            continue;
        }
        be->misses[j++] = be->misses[i];
    }
    be->nmisses = j;
    if (!expired) {
        return;
    }
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        VcBeVring *vq = &be->vq[q];

        if (vq->iotlb_wait && vq->started) {
            vq->iotlb_wait = false;
            vc_be_vring_error(be, vq, "no IOTLB update came after a miss");
        }
    }
}
