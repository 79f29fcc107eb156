/*
 * vc-test-dev.h -- a minimal device side of a split ring for driver unit
 * tests: it pops available chains straight out of guest memory (direct
 * descriptors only), hands them to the test as flat readable and writable
 * segment lists, and pushes used entries, as a back-end daemon would.
 *
 * Harness plumbing: it asserts (ck_assert) on anything a correct driver
 * would never produce, so that a test body states only what it checks.
 */
#ifndef VC_TEST_DEV_H
#define VC_TEST_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vc-frontend.h"

#define VC_TEST_DEV_MAX_SEGS 16

/** VcTestSeg: one descriptor of a popped chain. */
typedef struct VcTestSeg {
    uint8_t *p;      /* our pointer into guest memory */
    uint64_t gpa;
    uint32_t len;
} VcTestSeg;

/** VcTestChain: a popped chain, readable descriptors first as virtio requires. */
typedef struct VcTestChain {
    uint16_t head;
    VcTestSeg rd[VC_TEST_DEV_MAX_SEGS];
    unsigned n_rd;
    VcTestSeg wr[VC_TEST_DEV_MAX_SEGS];
    unsigned n_wr;
    uint32_t rd_len, wr_len;
} VcTestChain;

/** VcTestDev: the device's view of one ring. */
typedef struct VcTestDev {
    VcVq *vq;
    uint16_t last_avail;
} VcTestDev;

/**
 * vc_test_fe:
 * @sv: (out): the socketpair; sv[0] belongs to the front end, sv[1] to the test
 * @device: device type for the config ("blk", "fs")
 * @queues: rings to create
 *
 * Returns: a front end with guest memory and @queues split rings created,
 * no message sent (features 0: no EVENT_IDX, no indirect tables).
 */
VcFrontend *vc_test_fe(int sv[2], const char *device, unsigned queues);

/** vc_test_dev_init: the device starts where the driver's ring starts. */
void vc_test_dev_init(VcTestDev *dev, VcVq *vq);

/** vc_test_dev_pending: Returns: chains made available and not popped yet. */
unsigned vc_test_dev_pending(const VcTestDev *dev);

/** vc_test_dev_pop: Returns: true and the next chain in @c, false when none. */
bool vc_test_dev_pop(VcTestDev *dev, VcTestChain *c);

/** vc_test_dev_push: puts (@head, @len) into the used ring and publishes it. */
void vc_test_dev_push(VcTestDev *dev, uint16_t head, uint32_t len);

/**
 * vc_test_dev_write:
 * Copies @len bytes of @src into the writable part of @c from offset @off
 * (across descriptors). Returns: bytes written.
 */
uint32_t vc_test_dev_write(VcTestChain *c, uint32_t off, const void *src, uint32_t len);

/** vc_test_dev_read: the readable part of @c, flattened into @dst (at most @cap bytes). */
uint32_t vc_test_dev_read(const VcTestChain *c, void *dst, uint32_t cap);

#endif /* VC_TEST_DEV_H */
