/*
 * vhost-user-rng-ref.c -- the reference virtio-rng back end (virtio device
 * id 4): the yardstick the conformance checks are calibrated on, and, with
 * --mutant, a set of deliberately broken variants (see vc-mutants.h).
 *
 * virtio-rng has one queue. Every chain the driver makes available is
 * answered by filling its device-writable buffers with random bytes
 * (virtio 1.x 5.4: device-readable buffers are never written); used.len is
 * the number of bytes written.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-proto.h"
#include "vc-msg-table.h"

/* Refilled with one getrandom() call, so requests cost no syscall. */
#define RNG_POOL_SIZE (64 * 1024)

typedef struct RngState {
    uint8_t pool[RNG_POOL_SIZE];
    size_t pos;             /* next unused byte; RNG_POOL_SIZE = empty */
} RngState;

static RngState rng_state = {.pos = RNG_POOL_SIZE};

static int
pool_refill(RngState *s)
{
    size_t got = 0;

    while (got < RNG_POOL_SIZE) {
        ssize_t n = getrandom(s->pool + got, RNG_POOL_SIZE - got, 0);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        got += (size_t)n;
    }
    s->pos = 0;
    return 0;
}

static void
rng_fill(RngState *s, uint8_t *dst, size_t len)
{
    while (len > 0) {
        size_t n;

        if (s->pos == RNG_POOL_SIZE && pool_refill(s) < 0) {
            /* getrandom() worked at start-up; should it fail now, reuse the pool. */
            s->pos = 0;
        }
        n = RNG_POOL_SIZE - s->pos;
        n = n < len ? n : len;
        memcpy(dst, s->pool + s->pos, n);
        s->pos += n;
        dst += n;
        len -= n;
    }
}

static const char *
rng_init(void *opaque)
{
    RngState *s = opaque;

    return pool_refill(s) < 0 ? "getrandom() failed: no entropy source" : NULL;
}

static uint32_t
rng_handle_chain(VcBe *be, const VcBeChain *c, void *opaque)
{
    RngState *s = opaque;
    VcMutant mutant = vc_be_mutant(be);
    const VcBeSeg *last_writable = NULL;
    uint64_t total = 0, budget;

    if (mutant == VC_MUT_ZERO_LEN) {
        return 0;
    }
    for (unsigned i = 0; i < c->nsegs; i++) {
        if (c->segs[i].flags & VRING_DESC_F_WRITE) {
            total += c->segs[i].len;
            last_writable = &c->segs[i];
        }
    }
    /* Mutant len-overstated fills half and claims all. */
    budget = mutant == VC_MUT_LEN_OVERSTATED ? total / 2 : total;
    for (unsigned i = 0; i < c->nsegs; i++) {
        const VcBeSeg *seg = &c->segs[i];
        uint64_t n;

        if (!(seg->flags & VRING_DESC_F_WRITE)) {
            if (mutant == VC_MUT_WRITE_READABLE && seg->len) {
                rng_fill(s, seg->hva, seg->len);
            }
            continue;
        }
        n = seg->len < budget ? seg->len : budget;
        if (n) {
            rng_fill(s, seg->hva, n);
            budget -= n;
        }
    }
    if (mutant == VC_MUT_OVERRUN && last_writable) {
        /* Only where the 16 extra bytes are mapped: the mutant must not crash. */
        uint8_t *p = vc_be_gpa_to_hva(be, last_writable->gpa, (uint64_t)last_writable->len + 16);

        if (p) {
            rng_fill(s, p + last_writable->len, 16);
        }
    }
    return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

int
main(int argc, char **argv)
{
    /*
     * An entropy device honours every transport feature and the library's
     * protocol features that make sense without a config space or
     * inflight requests.
     */
    const VcBeDevice rng = {
        .type = "rng",
        .prog = "vhost-user-rng-ref",
        .device_id = VIRTIO_ID_RNG,
        .features = VC_F(VIRTIO_F_VERSION_1) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |
                    VC_F(VIRTIO_RING_F_EVENT_IDX) | VC_F(VIRTIO_RING_F_INDIRECT_DESC) |
                    VC_F(VIRTIO_F_RING_PACKED) | VC_F(VIRTIO_F_ACCESS_PLATFORM) |
                    VC_F(VHOST_F_LOG_ALL),
        .pfeatures = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(REPLY_ACK) | VC_PF(BACKEND_REQ) |
                     VC_PF(PAGEFAULT) | VC_PF(RESET_DEVICE) | VC_PF(CONFIGURE_MEM_SLOTS) |
                     VC_PF(INBAND_NOTIFICATIONS) | VC_PF(STATUS) | VC_PF(SHARED_OBJECT) |
                     VC_PF(DEVICE_STATE),
        .num_queues = 1,
        .init = rng_init,
        .handle_chain = rng_handle_chain,
        /* vhost-user.rst "VIRTIO Shared Memory Region configuration": shmid 0, 2 MiB. */
        .shm_size = 2u << 20,
        .opaque = &rng_state,
    };

    return vc_be_main(argc, argv, &rng);
}
