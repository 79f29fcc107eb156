/*
 * vc-test-dev.c -- minimal split-ring device for driver unit tests.
 */
#include <endian.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "vc-test-dev.h"

VcFrontend *
vc_test_fe(int sv[2], const char *device, unsigned queues)
{
    VcFeConfig cfg = {.device = device, .num_queues = queues, .ring_size = 64,
                      .timeout_ms = 500};
    VcFrontend *fe;
    GError *err = NULL;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fe = vc_fe_new(sv[0], &cfg);
    for (unsigned q = 0; q < queues; q++) {
        ck_assert_msg(vc_fe_create_queue(fe, q, &err), "ring %u: %s", q, err ? err->message : "");
    }
    return fe;
}

void
vc_test_dev_init(VcTestDev *dev, VcVq *vq)
{
    dev->vq = vq;
    dev->last_avail = le16toh(vq->avail->idx);
}

unsigned
vc_test_dev_pending(const VcTestDev *dev)
{
    uint16_t idx = le16toh(__atomic_load_n(&dev->vq->avail->idx, __ATOMIC_ACQUIRE));

    return (uint16_t)(idx - dev->last_avail);
}

bool
vc_test_dev_pop(VcTestDev *dev, VcTestChain *c)
{
    VcVq *vq = dev->vq;
    uint16_t i;

    if (!vc_test_dev_pending(dev)) {
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->head = le16toh(vq->avail->ring[dev->last_avail % vq->num]);
    dev->last_avail++;
    i = c->head;
    for (unsigned n = 0; n < vq->num; n++) {
        const struct vring_desc *d = &vq->desc[i];
        uint16_t flags = le16toh(d->flags);
        VcTestSeg s = {NULL, le64toh(d->addr), le32toh(d->len)};
        uint64_t l = s.len;

        ck_assert_msg(!(flags & VRING_DESC_F_INDIRECT), "test device: no indirect tables");
        s.p = vc_gmem_to_hva(vq->gm, s.gpa, &l);
        ck_assert_msg(s.p && l >= s.len, "descriptor %u: gpa 0x%" G_GINT64_MODIFIER "x outside "
                      "guest memory", i, s.gpa);
        if (flags & VRING_DESC_F_WRITE) {
            ck_assert_uint_lt(c->n_wr, VC_TEST_DEV_MAX_SEGS);
            c->wr[c->n_wr++] = s;
            c->wr_len += s.len;
        } else {
            /* virtio 1.x 2.7.4.2: readable descriptors precede writable ones. */
            ck_assert_msg(c->n_wr == 0, "a readable descriptor after a writable one");
            ck_assert_uint_lt(c->n_rd, VC_TEST_DEV_MAX_SEGS);
            c->rd[c->n_rd++] = s;
            c->rd_len += s.len;
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = le16toh(d->next);
    }
    ck_abort_msg("descriptor chain loops");
    return false;
}

void
vc_test_dev_push(VcTestDev *dev, uint16_t head, uint32_t len)
{
    struct vring_used *u = dev->vq->used;
    uint16_t idx = le16toh(u->idx);

    u->ring[idx % dev->vq->num].id = htole32(head);
    u->ring[idx % dev->vq->num].len = htole32(len);
    /* The element before the index, as a device must. */
    __atomic_store_n(&u->idx, htole16((uint16_t)(idx + 1)), __ATOMIC_RELEASE);
}

uint32_t
vc_test_dev_write(VcTestChain *c, uint32_t off, const void *src, uint32_t len)
{
    const uint8_t *s = src;
    uint32_t done = 0;

    for (unsigned k = 0; k < c->n_wr && done < len; k++) {
        if (off >= c->wr[k].len) {
            off -= c->wr[k].len;
            continue;
        }
        uint32_t n = MIN(c->wr[k].len - off, len - done);
        memcpy(c->wr[k].p + off, s + done, n);
        done += n;
        off = 0;
    }
    return done;
}

uint32_t
vc_test_dev_read(const VcTestChain *c, void *dst, uint32_t cap)
{
    uint8_t *d = dst;
    uint32_t done = 0;

    for (unsigned k = 0; k < c->n_rd && done < cap; k++) {
        uint32_t n = MIN(c->rd[k].len, cap - done);
        memcpy(d + done, c->rd[k].p, n);
        done += n;
    }
    return done;
}
