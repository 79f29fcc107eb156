/*
 * vc-devices.c -- the device table.
 */
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "vc-devices.h"

#define F(b) (1ull << (b))

static const VcDeviceInfo devices[] = {
    /* virtio 1.x 5.4: one request queue, no config space. */
    {"rng", VIRTIO_ID_RNG, 1, 0, 0, true},
    /* hw/block/vhost-user-blk.c: config_len of QEMU 7.2's 60-byte virtio_blk_config. */
    {"blk", VIRTIO_ID_BLOCK, 1, 60,
     F(VIRTIO_BLK_F_SEG_MAX) | F(VIRTIO_BLK_F_BLK_SIZE) | F(VIRTIO_BLK_F_FLUSH) |
         F(VIRTIO_BLK_F_TOPOLOGY) | F(VIRTIO_BLK_F_MQ) | F(VIRTIO_BLK_F_CONFIG_WCE) |
         F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES) | F(VIRTIO_BLK_F_RO),
     true},
    /* hw/net/vhost_net.c: QEMU keeps the config itself; one queue pair = 2 rings. */
    {"net", VIRTIO_ID_NET, 2, 0,
     F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
         F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_MQ),
     true},
    /* hw/virtio/vhost-user-fs.c: hiprio + request queue; QEMU keeps the config. */
    {"fs", VIRTIO_ID_FS, 2, 0, 0, true},
    /* hw/display/vhost-user-gpu.c: control + cursor; 16-byte virtio_gpu_config. */
    {"gpu", VIRTIO_ID_GPU, 2, 16, 0, true},
    {"vsock", VIRTIO_ID_VSOCK, 3, 8, 0, false},
    {"input", VIRTIO_ID_INPUT, 2, 0, 0, false},
    {"scsi", VIRTIO_ID_SCSI, 3, 0, 0, false},
};

const char *
vc_device_canonical(const char *type)
{
    if (!type) {
        return "unknown";
    }
    if (strcmp(type, "block") == 0) {
        return "blk";
    }
    return type;
}

const VcDeviceInfo *
vc_device_info(const char *type)
{
    type = vc_device_canonical(type);
    for (unsigned i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        if (strcmp(devices[i].type, type) == 0) {
            return &devices[i];
        }
    }
    return NULL;
}
