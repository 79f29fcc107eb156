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
#include "wire/vc-proto.h"
#include "wire/vc-msg-table.h"

/* Transport and vhost bits QEMU passes through for the devices we drive. */
#define QEMU_FEATURES                                                                         \
    (VC_F(24) | VC_F(27) | VC_F(28) | VC_F(29) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |      \
     VC_F(32) | VC_F(33) | VC_F(34) | VC_F(35) | VC_F(36) | VC_F(38) | VC_F(40) | 0xffffffull)

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

static const VcProfile qemu_7_2 = {
    .name = "qemu-7.2",
    .summary = "QEMU 7.2 (Debian 12): realize, start and stop as hw/virtio/vhost.c orders them",
    .features_mask = QEMU_FEATURES,
    /* QEMU 7.2 knows protocol features 0..16 (VHOST_USER_PROTOCOL_F_MAX = 17). */
    .pfeatures_mask = (1ull << 17) - 1,
    .acks = true,
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
    .acks = true,
    .mem_slots = true,
    .init = qemu_init,
    .start = qemu72_start,
    .stop = qemu10_stop,
    .devices = qemu10_devices,
};

static const VcProfile qemu_legacy = {
    .name = "qemu-legacy",
    .summary = "QEMU against a back end without PROTOCOL_FEATURES: rings start enabled",
    .features_mask = QEMU_FEATURES & ~VC_F(VHOST_USER_F_PROTOCOL_FEATURES),
    .pfeatures_mask = 0,
    .acks = false,
    .mem_slots = false,
    .init = qemu_init,
    .start = qemu72_start,
    .stop = qemu72_stop,
    .devices = qemu72_devices,
};

static const VcProfile *const profiles[] = {&qemu_7_2, &qemu_10, &qemu_legacy};

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
    };
    return (unsigned)step < sizeof(names) / sizeof(names[0]) ? names[step] : "?";
}
