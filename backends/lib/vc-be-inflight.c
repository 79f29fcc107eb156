/*
 * vc-be-inflight.c -- inflight I/O tracking (vhost-user.rst "Inflight I/O
 * tracking", GET_INFLIGHT_FD, SET_INFLIGHT_FD).
 *
 * The buffer is one region per queue: QueueRegionSplit for split rings,
 * QueueRegionPacked for packed rings (chosen by the features negotiated
 * when GET_INFLIGHT_FD arrives), each of libvhost-user's and DPDK's size:
 *   split:  ALIGN_UP(16 * queue_size + 2, 64)
 *   packed: ALIGN_UP(32 + 32 * queue_size, 64)
 * version 1 and desc_num = queue size once a ring has used it.
 *
 * The tracking steps are the spec's, one for one; a region found with
 * recorded requests when a ring starts (a new daemon given the old buffer)
 * is recovered as the spec's "When reconnecting" says and its requests are
 * resubmitted in counter order before any new avail entry.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-table.h"

#define INFLIGHT_ALIGN 64
#define INFLIGHT_VERSION 1
#define PF_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED  (1u << VRING_PACKED_DESC_F_USED)

static uint64_t
align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint64_t
queue_region_size(bool packed, uint16_t qsize)
{
    if (packed) {
        return align_up(sizeof(VcInflightPacked) + sizeof(VcInflightDescPacked) * qsize,
                        INFLIGHT_ALIGN);
    }
    return align_up(sizeof(VcInflightDescSplit) * qsize + sizeof(uint16_t), INFLIGHT_ALIGN);
}

void
vc_be_inflight_clear(VcBe *be)
{
    if (be->inflight_map) {
        munmap(be->inflight_map, be->inflight_size);
    }
    be->inflight_map = NULL;
    be->inflight_size = 0;
    be->inflight_nq = 0;
    be->inflight_qsize = 0;
    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        be->vq[q].inflight = NULL;
    }
}

static void
inflight_install(VcBe *be, void *map, size_t size, uint16_t nq, uint16_t qsize)
{
    vc_be_inflight_clear(be);
    be->inflight_map = map;
    be->inflight_size = size;
    be->inflight_nq = nq;
    be->inflight_qsize = qsize;
    be->inflight_packed = (be->features & VC_BE_F_PACKED) != 0;
}

/* GET_INFLIGHT_FD: a fresh zeroed memfd, sealed against resizing. */
int
vc_be_inflight_get(VcBe *be, const VcMsg *m, VcMsg *reply, int *fd_out)
{
    uint16_t nq = m->payload.inflight.num_queues, qsize = m->payload.inflight.queue_size;
    bool packed = (be->features & VC_BE_F_PACKED) != 0;
    uint64_t size;
    void *p;
    int fd;

    *fd_out = -1;
    if (nq == 0 || nq > be->dev.num_queues || qsize == 0 || qsize > VC_BE_MAX_RING_SIZE) {
        return -EINVAL;
    }
    size = queue_region_size(packed, qsize) * nq;
    if (be->mutant == VC_MUT_INFLIGHT_SMALL_REGION) {
        size /= 2;
    }
    fd = memfd_create("vhost-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    inflight_install(be, p, size, nq, qsize);
    if (be->mutant == VC_MUT_INFLIGHT_SMALL_REGION) {
        be->inflight_nq = 0;   /* too small to hold a ring: bind none */
    }
    reply->payload.inflight.mmap_size = size;
    reply->payload.inflight.mmap_offset = 0;
    reply->payload.inflight.num_queues = nq;
    reply->payload.inflight.queue_size = qsize;
    reply->hdr.size = sizeof(reply->payload.inflight);
    *fd_out = fd;
    return 0;
}

/* SET_INFLIGHT_FD: legal before any ring message (SPEC-FACTS VU-INF-05). */
int
vc_be_inflight_set(VcBe *be, VcMsg *m)
{
    const VhostUserInflight *in = &m->payload.inflight;
    struct stat st;
    uint64_t need;
    void *p;
    int fd = m->nfds == 1 ? m->fds[0] : -1;

    if (fd < 0 || in->num_queues == 0 || in->queue_size == 0 || in->mmap_size == 0 ||
        in->mmap_offset + in->mmap_size < in->mmap_offset) {
        return -EINVAL;
    }
    need = queue_region_size((be->features & VC_BE_F_PACKED) != 0, in->queue_size) *
           in->num_queues;
    if (in->mmap_size < need || (in->mmap_offset & (uint64_t)(sysconf(_SC_PAGESIZE) - 1))) {
        return -EINVAL;
    }
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < in->mmap_offset + in->mmap_size) {
        return -ERANGE;
    }
    p = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)in->mmap_offset);
    if (p == MAP_FAILED) {
        return -errno;
    }
    inflight_install(be, p, in->mmap_size, in->num_queues, in->queue_size);
    return 0;
}

/* ---- split ---- */

static int
cmp_counter(const void *a, const void *b, void *arg)
{
    const VcInflightDescSplit *d = arg;
    uint64_t ca = d[*(const uint16_t *)a].counter, cb = d[*(const uint16_t *)b].counter;

    return ca < cb ? -1 : ca > cb;
}

static int
cmp_counter_packed(const void *a, const void *b, void *arg)
{
    const VcInflightDescPacked *d = arg;
    uint64_t ca = d[*(const uint16_t *)a].counter, cb = d[*(const uint16_t *)b].counter;

    return ca < cb ? -1 : ca > cb;
}

static bool
start_split(VcBe *be, VcBeVring *vq, VcInflightSplit *reg)
{
    uint16_t used_idx = le16toh(__atomic_load_n(&vq->vr.used->idx, __ATOMIC_ACQUIRE));
    uint64_t max = 0;
    uint32_t n = 0;

    vq->inflight_counter = 0;
    if (reg->version == 0) {
        /* A new buffer: nothing to recover. */
        reg->desc_num = (uint16_t)vq->num;
        reg->last_batch_head = 0;
        reg->used_idx = used_idx;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        reg->version = INFLIGHT_VERSION;
        return false;
    }
    if (reg->desc_num != vq->num) {
        vc_be_note(be, "ring %u: inflight region for %u descriptors, ring has %u: ignored",
                   vq->index, reg->desc_num, vq->num);
        vq->inflight = NULL;
        return false;
    }
    /*
     * "When reconnecting": a used_idx behind used->idx means the last batch
     * was published but not cleared; clear it now.
     */
    if (reg->used_idx != used_idx) {
        uint16_t batch = (uint16_t)(used_idx - reg->used_idx), i = reg->last_batch_head;

        for (uint16_t k = 0; k < batch && k < vq->num && i < vq->num; k++) {
            reg->desc[i].inflight = 0;
            i = reg->desc[i].next;
        }
        __atomic_thread_fence(__ATOMIC_RELEASE);
        reg->used_idx = used_idx;
    }
    if (be->mutant == VC_MUT_INFLIGHT_NO_RESUBMIT) {
        return false;
    }
    for (uint32_t i = 0; i < vq->num; i++) {
        if (reg->desc[i].inflight == 1) {
            vq->resubmit[n++] = (uint16_t)i;
            if (reg->desc[i].counter >= max) {
                max = reg->desc[i].counter;
            }
        }
    }
    if (n == 0) {
        return false;
    }
    qsort_r(vq->resubmit, n, sizeof(vq->resubmit[0]), cmp_counter, reg->desc);
    vq->resubmit_num = n;
    vq->resubmit_pos = 0;
    vq->inflight_counter = max + 1;
    /* Every fetched chain is either used or in flight. */
    vq->used_idx = used_idx;
    vq->published_used = used_idx;
    vq->used_sync = false;
    vq->last_avail_idx = (uint16_t)(used_idx + n);
    vq->inuse = 0;
    vc_be_log(be, "ring %u: %u inflight requests to resubmit", vq->index, n);
    return true;
}

void
vc_be_inflight_fetch_split(VcBe *be, VcBeVring *vq, uint16_t head)
{
    VcInflightSplit *reg = vq->inflight;

    if (be->mutant == VC_MUT_INFLIGHT_NOT_TRACKED) {
        return;
    }
    reg->desc[head].counter = vq->inflight_counter++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    reg->desc[head].inflight = 1;
}

void
vc_be_inflight_push_split(VcBe *be, VcBeVring *vq, uint16_t head)
{
    VcInflightSplit *reg = vq->inflight;

    if (be->mutant == VC_MUT_INFLIGHT_NOT_TRACKED || head >= vq->num) {
        return;
    }
    reg->desc[head].next = reg->last_batch_head;
    reg->last_batch_head = head;
}

/* After used->idx was published: clear the batch, then record used_idx. */
void
vc_be_inflight_flush_split(VcBe *be, VcBeVring *vq, uint16_t count)
{
    VcInflightSplit *reg = vq->inflight;
    uint16_t i = reg->last_batch_head;

    if (be->mutant == VC_MUT_INFLIGHT_NOT_TRACKED) {
        return;
    }
    for (uint16_t k = 0; k < count && i < vq->num; k++) {
        reg->desc[i].inflight = 0;
        i = reg->desc[i].next;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    reg->used_idx = vq->used_idx;
}

/* ---- packed ---- */

static bool
start_packed(VcBe *be, VcBeVring *vq, VcInflightPacked *reg)
{
    uint64_t max = 0;
    uint32_t n = 0, slots = 0;

    vq->inflight_counter = 0;
    vq->batch_num = 0;
    if (reg->version == 0) {
        reg->desc_num = (uint16_t)vq->num;
        for (uint32_t i = 0; i < vq->num; i++) {
            reg->desc[i].next = (uint16_t)(i + 1);
        }
        reg->free_head = reg->old_free_head = 0;
        reg->used_idx = reg->old_used_idx = vq->used_idx;
        reg->used_wrap_counter = reg->old_used_wrap_counter = vq->used_wrap;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        reg->version = INFLIGHT_VERSION;
        return false;
    }
    if (reg->desc_num != vq->num) {
        vc_be_note(be, "ring %u: inflight region for %u descriptors, ring has %u: ignored",
                   vq->index, reg->desc_num, vq->num);
        vq->inflight = NULL;
        return false;
    }
    /* "When reconnecting", packed: commit or roll back the last batch. */
    if (reg->used_idx != reg->old_used_idx && reg->old_used_idx < vq->num) {
        uint16_t f = le16toh(__atomic_load_n(&vq->pdesc[reg->old_used_idx].flags,
                                             __ATOMIC_ACQUIRE));
        uint16_t avail = reg->old_used_wrap_counter ? PF_AVAIL : PF_USED;

        if ((f & (PF_AVAIL | PF_USED)) != avail) {
            reg->old_free_head = reg->free_head;
            reg->old_used_idx = reg->used_idx;
            reg->old_used_wrap_counter = reg->used_wrap_counter;
        }
    }
    reg->free_head = reg->old_free_head;
    reg->used_idx = reg->old_used_idx;
    reg->used_wrap_counter = reg->old_used_wrap_counter;
    for (uint16_t i = reg->free_head, k = 0; i < vq->num && k < vq->num; k++) {
        reg->desc[i].inflight = 0;
        i = reg->desc[i].next;
    }
    for (uint32_t i = 0; i < vq->num && be->mutant != VC_MUT_INFLIGHT_NO_RESUBMIT; i++) {
        if (reg->desc[i].inflight == 1) {
            vq->resubmit[n++] = (uint16_t)i;
            slots += reg->desc[i].num;
            if (reg->desc[i].counter >= max) {
                max = reg->desc[i].counter;
            }
        }
    }
    if (n == 0) {
        /* Nothing in flight: the ring's base (SET_VRING_BASE) is the truth. */
        reg->used_idx = reg->old_used_idx = vq->used_idx;
        reg->used_wrap_counter = reg->old_used_wrap_counter = vq->used_wrap;
        return false;
    }
    vq->used_idx = reg->used_idx % vq->num;
    vq->used_wrap = reg->used_wrap_counter != 0;
    vq->signalled_valid = false;
    qsort_r(vq->resubmit, n, sizeof(vq->resubmit[0]), cmp_counter_packed, reg->desc);
    vq->resubmit_num = n;
    vq->resubmit_pos = 0;
    vq->inflight_counter = max + 1;
    /* New descriptors start after the slots of the used and the inflight chains. */
    vq->last_avail_idx = vq->used_idx;
    vq->avail_wrap = vq->used_wrap;
    slots %= vq->num ? vq->num : 1;
    if ((uint32_t)vq->last_avail_idx + slots >= vq->num) {
        vq->last_avail_idx = (uint16_t)(vq->last_avail_idx + slots - vq->num);
        vq->avail_wrap = !vq->avail_wrap;
    } else {
        vq->last_avail_idx = (uint16_t)(vq->last_avail_idx + slots);
    }
    vq->inuse = 0;
    vc_be_log(be, "ring %u: %u inflight requests to resubmit", vq->index, n);
    return true;
}

/* A chain's ring descriptors, stored in free entries; returns its head slot. */
uint16_t
vc_be_inflight_fetch_packed(VcBe *be, VcBeVring *vq, const struct vring_packed_desc *descs,
                            unsigned n)
{
    VcInflightPacked *reg = vq->inflight;
    uint16_t head = reg->old_free_head;

    for (unsigned k = 0; k < n; k++) {
        uint16_t f = reg->free_head;

        if (f >= vq->num || head >= vq->num) {
            vc_be_note(be, "ring %u: inflight free list exhausted", vq->index);
            return head;
        }
        if (k == 0) {
            reg->desc[head].num = 0;
            reg->desc[head].counter = vq->inflight_counter++;
            reg->desc[head].inflight = 1;
        }
        if (k == n - 1) {
            reg->desc[head].last = f;
        }
        reg->desc[head].num++;
        reg->desc[f].addr = le64toh(descs[k].addr);
        reg->desc[f].len = le32toh(descs[k].len);
        reg->desc[f].flags = le16toh(descs[k].flags);
        reg->desc[f].id = le16toh(descs[k].id);
        reg->free_head = reg->desc[f].next;
        if (k == n - 1) {
            reg->old_free_head = reg->free_head;
        }
    }
    return head;
}

void
vc_be_inflight_push_packed(VcBe *be, VcBeVring *vq, uint16_t slot)
{
    VcInflightPacked *reg = vq->inflight;

    /* The region is the front end's memory: never index with it unchecked. */
    if (be->mutant == VC_MUT_INFLIGHT_NOT_TRACKED || slot >= vq->num ||
        reg->desc[slot].last >= vq->num) {
        return;
    }
    reg->desc[reg->desc[slot].last].next = reg->free_head;
    reg->free_head = slot;
    vq->batch[vq->batch_num++ % vq->num] = slot;
}

void
vc_be_inflight_flush_packed(VcBe *be, VcBeVring *vq)
{
    VcInflightPacked *reg = vq->inflight;

    if (vq->batch_num == 0) {
        return;
    }
    for (uint32_t k = 0; k < vq->batch_num && k < vq->num; k++) {
        reg->desc[vq->batch[k]].inflight = 0;   /* slots < num: checked when pushed */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    reg->old_free_head = reg->free_head;
    reg->old_used_idx = reg->used_idx;
    reg->old_used_wrap_counter = reg->used_wrap_counter;
    vq->batch_num = 0;
}

bool
vc_be_inflight_start(VcBe *be, VcBeVring *vq)
{
    uint64_t qbytes;
    uint8_t *base;

    vq->inflight = NULL;
    vq->resubmit_num = 0;
    vq->resubmit_pos = 0;
    if (!be->inflight_map || !(be->pfeatures & VC_PF(INFLIGHT_SHMFD)) || !vq->ready ||
        vq->index >= be->inflight_nq || vq->num > be->inflight_qsize) {
        return false;
    }
    if (be->inflight_packed != vq->packed) {
        vc_be_note(be, "ring %u: the inflight buffer was made for the other ring layout",
                   vq->index);
        return false;
    }
    qbytes = queue_region_size(vq->packed, be->inflight_qsize);
    base = (uint8_t *)be->inflight_map + qbytes * vq->index;
    vq->inflight = base;
    return vq->packed ? start_packed(be, vq, vq->inflight) : start_split(be, vq, vq->inflight);
}
