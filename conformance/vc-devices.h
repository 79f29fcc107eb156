/*
 * vc-devices.h -- what the front end needs to know about each device type:
 * virtio id, rings, the config space QEMU reads, the device feature bits a
 * guest driver acks, and whether vhost-conform has a datapath driver for it.
 */
#ifndef VC_DEVICES_H
#define VC_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct VcDeviceInfo {
    const char *type;           /* VHostUserBackendType: "rng", "block", ... short form below */
    uint32_t virtio_id;
    unsigned queues;            /* rings set up by default */
    uint32_t config_len;        /* bytes QEMU 7.2 reads with GET_CONFIG; 0: none */
    uint64_t driver_features;   /* device-specific bits a driver acks when offered */
    bool datapath;              /* vhost-conform drives traffic on it */
} VcDeviceInfo;

/**
 * vc_device_info:
 * @type: "rng", "blk" (or "block"), "net", "fs", "gpu", ...
 * Returns: the device's entry, or NULL for a type vhost-conform does not know.
 */
const VcDeviceInfo *vc_device_info(const char *type);

/** vc_device_canonical: Returns: the short name used in reports ("block" -> "blk"). */
const char *vc_device_canonical(const char *type);

#endif /* VC_DEVICES_H */
