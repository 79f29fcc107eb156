/*
 * vc-be-shmem.c -- a VIRTIO Shared Memory Region and the mapping the
 * reference daemons place in it (VHOST_USER_PROTOCOL_F_SHMEM).
 *
 * vhost-user.rst GET_SHMEM_CONFIG, BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP.
 * A device with VcBeDevice.shm_size has one region, shmid 0 of that size;
 * GET_SHMEM_CONFIG says so (the other 255 sizes 0), the same on every call
 * of a connection. The mapping comes and goes at moments a front end can
 * trigger:
 *  - ring 0 starts (its first kick): BACKEND_SHMEM_MAP of
 *    [16 pages, 32 pages) of region 0, read-write, to offset 0 of a memfd;
 *  - ring 0 is stopped (GET_VRING_BASE): BACKEND_SHMEM_UNMAP of that range,
 *    sent before the ring stops, so that nothing goes out while the device
 *    is suspended ("Suspended device state").
 * Both ask for an ack with REPLY_ACK. A non-zero ack to the map means the
 * front end refused it: there is no mapping to unmap. An ack still awaited
 * when the ring stops is waited for (VC_BE_CHAN_TIMEOUT_MS at most); none
 * at all means the front end mapped it. RESET_DEVICE and the end of the
 * connection leave no mapping (the front end drops them on reset).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

/* Where the mapping sits, in pages: at 16 pages into region 0, 16 pages long. */
#define SHM_MAP_AT    16
#define SHM_MAP_PAGES 16

typedef enum ShmState {
    SHM_NONE,       /* no mapping */
    SHM_PENDING,    /* map sent, its ack awaited */
    SHM_LIVE,       /* mapped */
} ShmState;

struct VcBeShm {
    uint64_t size;          /* region 0 */
    uint64_t page;
    int memfd;              /* backs the mapping; made at the first map, kept */
    ShmState state;
    unsigned configs;       /* GET_SHMEM_CONFIG answers on this connection */
};

int
vc_be_shm_init(VcBe *be)
{
    long page = sysconf(_SC_PAGESIZE);
    VcBeShm *s;

    be->shm = NULL;
    if (!be->dev.shm_size) {
        return 0;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        return -ENOMEM;
    }
    s->size = be->dev.shm_size;
    s->page = page > 0 ? (uint64_t)page : 4096;
    s->memfd = -1;
    be->shm = s;
    /* The map carries its fd: without BACKEND_SEND_FD it could not be sent. */
    be->offered_pfeatures |= VC_PF(SHMEM) | VC_PF(BACKEND_SEND_FD);
    return 0;
}

void
vc_be_shm_free(VcBe *be)
{
    if (be->shm) {
        vc_be_close_fd(&be->shm->memfd);
        free(be->shm);
        be->shm = NULL;
    }
}

void
vc_be_shm_forget(VcBe *be)
{
    if (be->shm) {
        be->shm->state = SHM_NONE;
        be->shm->configs = 0;
    }
}

void
vc_be_shm_config(VcBe *be, VcMsg *reply)
{
    VhostUserShMemConfig *c = &reply->payload.shmem;
    VcBeShm *s = be->shm;

    memset(c, 0, sizeof(*c));
    reply->hdr.size = sizeof(*c);
    if (!s) {
        return;
    }
    c->nregions = 1;
    c->memory_sizes[0] = s->size;
    if (be->mutant == VC_MUT_SHM_CONFIG_CHANGES && s->configs > 0) {
        c->memory_sizes[0] = 2 * s->size;
    }
    if (be->mutant == VC_MUT_SHM_CONFIG_NREGIONS) {
        c->nregions = 2;
    }
    if (be->mutant == VC_MUT_SHM_CONFIG_SHORT) {
        reply->hdr.size = sizeof(*c) - sizeof(uint64_t);
    }
    s->configs++;
}

static bool
can_send(const VcBe *be)
{
    uint64_t need = VC_PF(SHMEM) | VC_PF(BACKEND_SEND_FD);

    return be->shm && (be->pfeatures & need) == need && vc_be_chan_ok(be);
}

static int
backing_fd(VcBe *be)
{
    VcBeShm *s = be->shm;

    if (s->memfd < 0) {
        s->memfd = memfd_create("vhost-shmem", MFD_CLOEXEC);
        if (s->memfd >= 0 && ftruncate(s->memfd, (off_t)s->size) < 0) {
            vc_be_close_fd(&s->memfd);
        }
        if (s->memfd < 0) {
            vc_be_note(be, "shared memory: no memfd: %s", strerror(errno));
        }
    }
    return s->memfd;
}

static int
send_mmap(VcBe *be, uint32_t request, uint8_t shmid, uint64_t off, uint64_t len,
          uint64_t flags, int fd)
{
    VcMsg m;

    vc_msg_init(&m, request, (be->pfeatures & VC_PF(REPLY_ACK)) ? VHOST_USER_NEED_REPLY_MASK : 0);
    m.payload.mmap.shmid = shmid;
    m.payload.mmap.fd_offset = 0;
    m.payload.mmap.shm_offset = off;
    m.payload.mmap.len = len;
    m.payload.mmap.flags = flags;
    m.hdr.size = sizeof(m.payload.mmap);
    if (fd >= 0) {
        m.fds[0] = fd;
        m.nfds = 1;
    }
    return vc_be_chan_send(be, be->backend_fd, &m, -1);
}

void
vc_be_shm_ring_started(VcBe *be, VcBeVring *vq)
{
    VcBeShm *s = be->shm;
    uint64_t off, len, flags = VHOST_USER_FLAG_MAP_RW;
    uint8_t shmid = 0;
    int fd;

    if (vq->index != 0 || !can_send(be) || s->state != SHM_NONE) {
        return;
    }
    fd = backing_fd(be);
    if (fd < 0) {
        return;
    }
    off = SHM_MAP_AT * s->page;
    len = SHM_MAP_PAGES * s->page;
    switch (be->mutant) {
    case VC_MUT_SHM_MAP_OUTSIDE:
        off = s->size - s->page;     /* Mutant: runs one page past the region's end. */
        len = 2 * s->page;
        break;
    case VC_MUT_SHM_MAP_NO_FD:
        fd = -1;
        break;
    case VC_MUT_SHM_MAP_FLAGS_2:
        flags = 2;
        break;
    case VC_MUT_SHM_MAP_UNUSED_SHMID:
        shmid = 1;
        break;
    default:
        break;
    }
    if (send_mmap(be, VHOST_USER_BACKEND_SHMEM_MAP, shmid, off, len, flags, fd) < 0) {
        return;
    }
    s->state = (be->pfeatures & VC_PF(REPLY_ACK)) ? SHM_PENDING : SHM_LIVE;
    if (be->mutant == VC_MUT_SHM_MAP_OVERLAP) {
        /* Mutant: a second range that shares its first page with the last of the first. */
        (void)send_mmap(be, VHOST_USER_BACKEND_SHMEM_MAP, 0, off + len - s->page, len, flags,
                        fd);
    }
}

void
vc_be_shm_acked(VcBe *be, uint32_t request, uint64_t value)
{
    VcBeShm *s = be->shm;

    if (!s || request != VHOST_USER_BACKEND_SHMEM_MAP || s->state != SHM_PENDING) {
        return;
    }
    if (value != 0) {
        vc_be_note(be, "the front end refused the shared-memory map (ack %llu)",
                   (unsigned long long)value);
        s->state = SHM_NONE;
        return;
    }
    s->state = SHM_LIVE;
}

/* Waits for the map's ack when it has not come yet; the ring is still started. */
static void
settle(VcBe *be)
{
    VcBeShm *s = be->shm;
    int64_t deadline = vc_now_ms() + VC_BE_CHAN_TIMEOUT_MS;

    vc_be_chan_read(be);
    while (s->state == SHM_PENDING && be->backend_fd >= 0) {
        int64_t left = deadline - vc_now_ms();

        if (left <= 0 || vc_wait_readable(be->backend_fd, (int)left) <= 0) {
            break;
        }
        vc_be_chan_read(be);
    }
    if (s->state == SHM_PENDING) {
        s->state = SHM_LIVE;    /* No answer: the front end did not refuse it. */
    }
}

static void
unmap_now(VcBe *be)
{
    VcBeShm *s = be->shm;
    uint64_t off = SHM_MAP_AT * s->page, len = SHM_MAP_PAGES * s->page;

    if (be->mutant == VC_MUT_SHM_UNMAP_UNKNOWN) {
        off += s->page;     /* Mutant: a range that is not the mapping. */
    }
    if (be->backend_fd >= 0) {
        (void)send_mmap(be, VHOST_USER_BACKEND_SHMEM_UNMAP, 0, off, len, 0, -1);
    }
    s->state = SHM_NONE;
}

void
vc_be_shm_ring_stopping(VcBe *be, VcBeVring *vq)
{
    VcBeShm *s = be->shm;

    if (!s || vq->index != 0 || !vq->started || s->state == SHM_NONE) {
        return;
    }
    settle(be);
    if (s->state != SHM_LIVE) {
        return;
    }
    if (be->mutant == VC_MUT_SHM_UNMAP_WHILE_SUSPENDED) {
        /* Mutant: the unmap goes out once the device is suspended (vc-be.c after_stop_act). */
        be->after_stop_due = vc_now_ms() + VC_BE_AFTER_STOP_MS;
        be->after_stop_ring = (int)vq->index;
        return;
    }
    unmap_now(be);
}

void
vc_be_shm_after_stop(VcBe *be)
{
    if (be->shm && be->shm->state == SHM_LIVE && be->mutant == VC_MUT_SHM_UNMAP_WHILE_SUSPENDED) {
        unmap_now(be);
    }
}

void
vc_be_shm_device_reset(VcBe *be)
{
    /* vhost-user.rst BACKEND_SHMEM_MAP: "automatically unmapped by the front-end across device
     * reset". */
    if (be->shm && be->mutant != VC_MUT_SHM_ALIVE_AFTER_RESET) {
        be->shm->state = SHM_NONE;
    }
}
