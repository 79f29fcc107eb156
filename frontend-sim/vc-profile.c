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

static const VcStep qemu_start[] = {
    VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK, VC_STEP_SET_VRING_CALL,
    VC_STEP_SET_FEATURES, VC_STEP_MEM, VC_STEP_VRINGS, VC_STEP_ENABLE,
    VC_STEP_STATUS_DRIVER_OK, VC_STEP_END,
};

static const VcStep qemu_stop[] = {
    VC_STEP_DISABLE, VC_STEP_GET_VRING_BASE, VC_STEP_STATUS_RESET, VC_STEP_END,
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
    .start = qemu_start,
    .stop = qemu_stop,
};

static const VcProfile qemu_legacy = {
    .name = "qemu-legacy",
    .summary = "QEMU against a back end without PROTOCOL_FEATURES: rings start enabled",
    .features_mask = QEMU_FEATURES & ~VC_F(VHOST_USER_F_PROTOCOL_FEATURES),
    .pfeatures_mask = 0,
    .acks = false,
    .mem_slots = false,
    .init = qemu_init,
    .start = qemu_start,
    .stop = qemu_stop,
};

static const VcProfile *const profiles[] = {&qemu_7_2, &qemu_legacy};

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
    };
    return (unsigned)step < sizeof(names) / sizeof(names[0]) ? names[step] : "?";
}
