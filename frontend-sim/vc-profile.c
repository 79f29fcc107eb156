/*
 * vc-profile.c -- the front-end personalities.
 *
 * qemu-7.2 follows ../shared/SPEC-FACTS.md section 6 (hw/virtio/vhost.c,
 * vhost-user.c and the device start/stop functions): realize, then device
 * start, then stop. qemu-legacy is the same front end talking to a back end
 * without VHOST_USER_F_PROTOCOL_FEATURES (rings start enabled).
 */
#include <string.h>

#include "vc-profile.h"
#include <linux/virtio_config.h>

#include "wire/vc-proto.h"
#include "wire/vc-msg-table.h"

/*
 * Transport and vhost bits QEMU passes through for the devices we drive, plus
 * VHOST_F_LOG_ALL, which it adds while it migrates (vhost_dev_set_features()).
 */
#define QEMU_FEATURES                                                                         \
    (VC_F(24) | VC_F(27) | VC_F(28) | VC_F(29) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |      \
     VC_F(32) | VC_F(33) | VC_F(34) | VC_F(35) | VC_F(36) | VC_F(38) | VC_F(40) | 0xffffffull | \
     VC_F(VHOST_F_LOG_ALL))

static const VcStep qemu_init[] = {
    VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES, VC_STEP_SET_PROTOCOL_FEATURES,
    VC_STEP_GET_QUEUE_NUM, VC_STEP_GET_MAX_MEM_SLOTS, VC_STEP_SET_BACKEND_REQ_FD,
    VC_STEP_SET_OWNER, VC_STEP_GET_FEATURES, VC_STEP_CALL_ERR_INIT, VC_STEP_GET_CONFIG,
    VC_STEP_END,
};

/*
 * QEMU 7.2 vhost_dev_start(): SET_FEATURES (+ FEATURES_OK), the memory
 * table, every ring (NUM, BASE, ADDR, KICK), SET_VRING_ENABLE 1, DRIVER_OK.
 */
static const VcStep qemu72_start[] = {
    VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_SET_VRING_CALL, VC_STEP_MEM,
    VC_STEP_VRINGS, VC_STEP_ENABLE, VC_STEP_STATUS_DRIVER_OK, VC_STEP_END,
};

/* hw/virtio/vhost-user-rng.c vu_rng_start(): the rings are unmasked after vhost_dev_start(). */
static const VcStep qemu72_rng_start[] = {
    VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_MEM, VC_STEP_VRINGS,
    VC_STEP_ENABLE, VC_STEP_STATUS_DRIVER_OK, VC_STEP_SET_VRING_CALL, VC_STEP_END,
};

/*
 * hw/block/vhost-user-blk.c vhost_user_blk_start(): features and inflight
 * first, the rings unmasked, then vhost_dev_start() (which sets the
 * features again).
 */
static const VcStep qemu_blk_start[] = {
    VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_GET_INFLIGHT,
    VC_STEP_SET_INFLIGHT, VC_STEP_SET_VRING_CALL, VC_STEP_SET_FEATURES,
    VC_STEP_STATUS_FEATURES_OK, VC_STEP_MEM, VC_STEP_VRINGS, VC_STEP_ENABLE,
    VC_STEP_STATUS_DRIVER_OK, VC_STEP_END,
};

/* QEMU 7.2 vhost_dev_stop(): status 0 first, then disable, then GET_VRING_BASE. */
static const VcStep qemu72_stop[] = {
    VC_STEP_STATUS_RESET, VC_STEP_DISABLE, VC_STEP_GET_VRING_BASE, VC_STEP_END,
};

static const VcDeviceSteps qemu72_devices[] = {
    {"rng", qemu72_rng_start, NULL},
    {"blk", qemu_blk_start, NULL},
    {NULL, NULL, NULL},
};

/*
 * QEMU 10.x (SPEC-FACTS section 6): vhost-user-base unmasks after start as
 * 7.2 rng did; do_vhost_dev_stop() resets the status last.
 */
static const VcStep qemu10_stop[] = {
    VC_STEP_DISABLE, VC_STEP_GET_VRING_BASE, VC_STEP_STATUS_RESET, VC_STEP_END,
};

static const VcDeviceSteps qemu10_devices[] = {
    {"rng", qemu72_rng_start, NULL},
    {"blk", qemu_blk_start, NULL},
    {NULL, NULL, NULL},
};

/* Where QEMU's vhost-user.c sets NEED_REPLY when REPLY_ACK is negotiated. */
#define QEMU_ACKS                                                                            \
    (VC_F(VHOST_USER_SET_MEM_TABLE) | VC_F(VHOST_USER_SET_VRING_KICK) |                     \
     VC_F(VHOST_USER_SET_VRING_CALL) | VC_F(VHOST_USER_SET_VRING_ERR) |                     \
     VC_F(VHOST_USER_SET_VRING_ENABLE) | VC_F(VHOST_USER_SET_BACKEND_REQ_FD) |              \
     VC_F(VHOST_USER_SET_CONFIG) | VC_F(VHOST_USER_NET_SET_MTU) |                           \
     VC_F(VHOST_USER_ADD_MEM_REG) | VC_F(VHOST_USER_REM_MEM_REG))

static const VcProfile qemu_7_2 = {
    .name = "qemu-7.2",
    .summary = "QEMU 7.2 (Debian 12): realize, start and stop as hw/virtio/vhost.c orders them",
    .features_mask = QEMU_FEATURES,
    /* QEMU 7.2 knows protocol features 0..16 (VHOST_USER_PROTOCOL_F_MAX = 17). */
    .pfeatures_mask = (1ull << 17) - 1,
    .ack_requests = QEMU_ACKS,
    .mem_slots = true,
    .init = qemu_init,
    .start = qemu72_start,
    .stop = qemu72_stop,
    .devices = qemu72_devices,
};

static const VcProfile qemu_10 = {
    .name = "qemu-10",
    .summary = "QEMU 10.2: as 7.2, knows protocol features 0..20 (not 17), resets status last",
    .features_mask = QEMU_FEATURES,
    .pfeatures_mask = ((1ull << 21) - 1) & ~(1ull << 17),
    .ack_requests = QEMU_ACKS,
    .mem_slots = true,
    .init = qemu_init,
    .start = qemu72_start,
    .stop = qemu10_stop,
    .devices = qemu10_devices,
};

/*
 * QEMU 11.1 (not yet released: qemu/qemu master after the virtio pull of May
 * 2026, which brought the VIRTIO Shared Memory Regions series). As 10.2, plus
 * VHOST_USER_PROTOCOL_F_SHMEM (22) and GET_SHMEM_CONFIG at the end of realize
 * of vhost-user-base devices (vub_device_realize()). GPA_ADDRESSES (21) is
 * left out: this front end does not implement guest-physical ring addresses.
 */
static const VcStep qemu111_init[] = {
    VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES, VC_STEP_SET_PROTOCOL_FEATURES,
    VC_STEP_GET_QUEUE_NUM, VC_STEP_GET_MAX_MEM_SLOTS, VC_STEP_SET_BACKEND_REQ_FD,
    VC_STEP_SET_OWNER, VC_STEP_GET_FEATURES, VC_STEP_CALL_ERR_INIT, VC_STEP_GET_CONFIG,
    VC_STEP_GET_SHMEM_CONFIG, VC_STEP_END,
};

static const VcProfile qemu_11_1 = {
    .name = "qemu-11.1",
    .summary = "QEMU 11.1 (master, unreleased): as 10.2, plus SHMEM (22) and GET_SHMEM_CONFIG "
               "at realize",
    .features_mask = QEMU_FEATURES,
    .pfeatures_mask = ((1ull << 23) - 1) & ~(1ull << 17) & ~(1ull << 21),
    .ack_requests = QEMU_ACKS,
    .mem_slots = true,
    .init = qemu111_init,
    .start = qemu72_start,
    .stop = qemu10_stop,
    .devices = qemu10_devices,
};

static const VcProfile qemu_legacy = {
    .name = "qemu-legacy",
    .summary = "QEMU against a back end without PROTOCOL_FEATURES: rings start enabled",
    .features_mask = QEMU_FEATURES & ~VC_F(VHOST_USER_F_PROTOCOL_FEATURES),
    .pfeatures_mask = 0,
    .mem_slots = false,
    .init = qemu_init,
    .start = qemu72_start,
    .stop = qemu72_stop,
    .devices = qemu72_devices,
};

/*
 * DPDK 22.11 virtio_user (drivers/net/virtio/virtio_user), as recorded
 * against our reference daemon: SET_OWNER first, only MQ, REPLY_ACK and
 * STATUS known, every call fd before SET_FEATURES, the status written
 * directly (0xb then 0xf), acks asked for SET_MEM_TABLE and SET_STATUS only,
 * no GET_QUEUE_NUM, no back-end channel, stop without a status reset.
 */
static const VcStep dpdk_init[] = {
    VC_STEP_SET_OWNER, VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES,
    VC_STEP_SET_PROTOCOL_FEATURES, VC_STEP_END,
};

static const VcStep dpdk_start[] = {
    VC_STEP_SET_VRING_CALL, VC_STEP_SET_FEATURES, VC_STEP_STATUS_SET_FEATURES_OK, VC_STEP_MEM,
    VC_STEP_VRINGS, VC_STEP_ENABLE, VC_STEP_STATUS_SET_DRIVER_OK, VC_STEP_END,
};

static const VcStep dpdk_stop[] = {
    VC_STEP_DISABLE, VC_STEP_GET_VRING_BASE, VC_STEP_END,
};

static const VcProfile dpdk_virtio_user = {
    .name = "dpdk-virtio-user",
    .summary = "DPDK 22.11 virtio_user: SET_OWNER first, MQ/REPLY_ACK/STATUS only, status written "
               "directly",
    .features_mask = VC_F(VHOST_USER_F_PROTOCOL_FEATURES) | VC_F(28) | VC_F(32) | VC_F(34) |
                     VC_F(35) | 0xffffffull,
    .pfeatures_mask = VC_PF(MQ) | VC_PF(REPLY_ACK) | VC_PF(STATUS),
    .ack_requests = VC_F(VHOST_USER_SET_MEM_TABLE) | VC_F(VHOST_USER_SET_STATUS),
    .mem_slots = false,
    .init = dpdk_init,
    .start = dpdk_start,
    .stop = dpdk_stop,
};

/*
 * cloud-hypervisor (virtio-devices/src/vhost_user/vu_common_ctrl.rs, on
 * rust-vmm's vhost crate): owner, features, protocol features; at
 * activation SET_FEATURES, the memory table, every SET_VRING_NUM, then per
 * ring ADDR, BASE, CALL, KICK; enable; the back-end channel last. With
 * REPLY_ACK every request carries NEED_REPLY. Stop only disables.
 */
static const VcStep ch_init[] = {
    VC_STEP_SET_OWNER, VC_STEP_GET_FEATURES, VC_STEP_GET_PROTOCOL_FEATURES,
    VC_STEP_SET_PROTOCOL_FEATURES, VC_STEP_END,
};

static const VcStep ch_start[] = {
    VC_STEP_SET_FEATURES, VC_STEP_MEM, VC_STEP_VRING_NUM_ALL, VC_STEP_GET_INFLIGHT,
    VC_STEP_SET_INFLIGHT, VC_STEP_VRINGS_ADDR_FIRST, VC_STEP_ENABLE, VC_STEP_SET_BACKEND_REQ_FD,
    VC_STEP_END,
};

static const VcStep ch_stop[] = {VC_STEP_DISABLE, VC_STEP_END};

static const VcProfile cloud_hypervisor = {
    .name = "cloud-hypervisor",
    .summary = "cloud-hypervisor (rust-vmm vhost): ADDR before BASE, NEED_REPLY on everything, "
               "stop by disabling",
    .features_mask = QEMU_FEATURES,
    .pfeatures_mask = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(REPLY_ACK) | VC_PF(BACKEND_REQ) |
                      VC_PF(CONFIG) | VC_PF(INFLIGHT_SHMFD) | VC_PF(CONFIGURE_MEM_SLOTS),
    .ack_everything = true,
    .mem_slots = false,
    .init = ch_init,
    .start = ch_start,
    .stop = ch_stop,
};

/*
 * The least a front end needs: no protocol features, no ring features,
 * VERSION_1 only; every ring with its call fd; stop with GET_VRING_BASE.
 */
static const VcStep minimal_init[] = {VC_STEP_GET_FEATURES, VC_STEP_SET_OWNER, VC_STEP_END};
static const VcStep minimal_start[] = {VC_STEP_SET_FEATURES, VC_STEP_MEM,
                                       VC_STEP_VRINGS_WITH_CALL, VC_STEP_END};
static const VcStep minimal_stop[] = {VC_STEP_GET_VRING_BASE, VC_STEP_END};

static const VcProfile minimal = {
    .name = "minimal",
    .summary = "the least a front end does: VERSION_1 only, no protocol features",
    .features_mask = VC_F(32) | 0xffffffull,
    .pfeatures_mask = 0,
    .mem_slots = false,
    .init = minimal_init,
    .start = minimal_start,
    .stop = minimal_stop,
};

static const VcProfile *const profiles[] = {&qemu_7_2, &qemu_10, &qemu_11_1, &qemu_legacy,
                                            &dpdk_virtio_user, &cloud_hypervisor, &minimal};

static const VcDeviceSteps *
device_steps(const VcProfile *p, const char *device)
{
    for (const VcDeviceSteps *d = p->devices; d && d->device && device; d++) {
        if (strcmp(d->device, device) == 0) {
            return d;
        }
    }
    return NULL;
}

const VcStep *
vc_profile_start_steps(const VcProfile *p, const char *device)
{
    const VcDeviceSteps *d = device_steps(p, device);

    return d && d->start ? d->start : p->start;
}

const VcStep *
vc_profile_stop_steps(const VcProfile *p, const char *device)
{
    const VcDeviceSteps *d = device_steps(p, device);

    return d && d->stop ? d->stop : p->stop;
}

const VcProfile *
vc_profile_default(void)
{
    return &qemu_7_2;
}

const VcProfile *
vc_profile_find(const char *name)
{
    for (unsigned i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (strcmp(profiles[i]->name, name) == 0) {
            return profiles[i];
        }
    }
    return NULL;
}

const VcProfile *const *
vc_profile_all(unsigned *n)
{
    *n = sizeof(profiles) / sizeof(profiles[0]);
    return profiles;
}

bool
vc_profile_base_device(const char *device)
{
    static const char *const own_model[] = {"blk", "net", "fs", "gpu", "scsi", "vsock"};

    for (unsigned i = 0; device && i < sizeof(own_model) / sizeof(own_model[0]); i++) {
        if (strcmp(device, own_model[i]) == 0) {
            return false;
        }
    }
    return true;
}

const char *
vc_step_name(VcStep step)
{
    static const char *const names[] = {
        [VC_STEP_END] = "end",
        [VC_STEP_GET_FEATURES] = "GET_FEATURES",
        [VC_STEP_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
        [VC_STEP_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
        [VC_STEP_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
        [VC_STEP_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
        [VC_STEP_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
        [VC_STEP_SET_OWNER] = "SET_OWNER",
        [VC_STEP_CALL_ERR_INIT] = "SET_VRING_CALL+ERR (init)",
        [VC_STEP_GET_CONFIG] = "GET_CONFIG",
        [VC_STEP_SET_FEATURES] = "SET_FEATURES",
        [VC_STEP_STATUS_FEATURES_OK] = "SET_STATUS FEATURES_OK",
        [VC_STEP_SET_VRING_CALL] = "SET_VRING_CALL",
        [VC_STEP_MEM] = "memory table",
        [VC_STEP_VRINGS] = "ring set-up",
        [VC_STEP_ENABLE] = "SET_VRING_ENABLE 1",
        [VC_STEP_STATUS_DRIVER_OK] = "SET_STATUS DRIVER_OK",
        [VC_STEP_DISABLE] = "SET_VRING_ENABLE 0",
        [VC_STEP_GET_VRING_BASE] = "GET_VRING_BASE",
        [VC_STEP_STATUS_RESET] = "SET_STATUS 0",
        [VC_STEP_GET_INFLIGHT] = "GET_INFLIGHT_FD",
        [VC_STEP_SET_INFLIGHT] = "SET_INFLIGHT_FD",
        [VC_STEP_STATUS_SET_FEATURES_OK] = "SET_STATUS FEATURES_OK (direct)",
        [VC_STEP_STATUS_SET_DRIVER_OK] = "SET_STATUS DRIVER_OK (direct)",
        [VC_STEP_VRING_NUM_ALL] = "SET_VRING_NUM (every ring)",
        [VC_STEP_VRINGS_ADDR_FIRST] = "ring set-up (ADDR, BASE, CALL, KICK)",
        [VC_STEP_VRINGS_WITH_CALL] = "ring set-up (NUM, BASE, ADDR, CALL, KICK)",
        [VC_STEP_GET_SHMEM_CONFIG] = "GET_SHMEM_CONFIG",
    };
    return (unsigned)step < sizeof(names) / sizeof(names[0]) ? names[step] : "?";
}
