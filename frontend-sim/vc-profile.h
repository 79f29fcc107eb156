/*
 * vc-profile.h -- front-end personalities as data: the ordered steps a real
 * front end takes at connect, device start and device stop, and the feature
 * bits it knows. The lifecycle in vc-frontend.c reads these tables; adding
 * a front end is adding a table (ARCHITECTURE.md).
 */
#ifndef VC_PROFILE_H
#define VC_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

/** VcStep: one step of a lifecycle. Steps skip themselves when not negotiated. */
typedef enum VcStep {
    VC_STEP_END = 0,
    VC_STEP_GET_FEATURES,           /* GET_FEATURES */
    VC_STEP_GET_PROTOCOL_FEATURES,  /* when bit 30 is offered */
    VC_STEP_SET_PROTOCOL_FEATURES,  /* offered & profile mask & config mask */
    VC_STEP_GET_QUEUE_NUM,          /* with MQ */
    VC_STEP_GET_MAX_MEM_SLOTS,      /* with CONFIGURE_MEM_SLOTS */
    VC_STEP_SET_BACKEND_REQ_FD,     /* with BACKEND_REQ */
    VC_STEP_SET_OWNER,
    VC_STEP_CALL_ERR_INIT,          /* per ring: SET_VRING_CALL (masked notifier), SET_VRING_ERR */
    VC_STEP_GET_CONFIG,             /* with CONFIG and a device config space */
    VC_STEP_SET_FEATURES,
    VC_STEP_STATUS_FEATURES_OK,     /* with STATUS: GET_STATUS, SET_STATUS |= FEATURES_OK */
    VC_STEP_SET_VRING_CALL,         /* per ring: the real call notifier */
    VC_STEP_MEM,                    /* SET_MEM_TABLE, or ADD_MEM_REG per region */
    VC_STEP_VRINGS,                 /* per ring: NUM, BASE, ADDR, KICK */
    VC_STEP_ENABLE,                 /* per ring: SET_VRING_ENABLE 1, when bit 30 is negotiated */
    VC_STEP_STATUS_DRIVER_OK,       /* with STATUS: GET_STATUS, SET_STATUS |= ACK|DRIVER|DRIVER_OK */
    VC_STEP_DISABLE,                /* per ring: SET_VRING_ENABLE 0, when bit 30 is negotiated */
    VC_STEP_GET_VRING_BASE,         /* per ring */
    VC_STEP_STATUS_RESET,           /* with STATUS: SET_STATUS 0 */
    VC_STEP_GET_INFLIGHT,           /* with INFLIGHT_SHMFD: GET_INFLIGHT_FD (once per device) */
    VC_STEP_SET_INFLIGHT,           /* with INFLIGHT_SHMFD: SET_INFLIGHT_FD with the buffer */
    VC_STEP_STATUS_SET_FEATURES_OK, /* with STATUS: SET_STATUS ACK|DRIVER|FEATURES_OK, GET_STATUS */
    VC_STEP_STATUS_SET_DRIVER_OK,   /* with STATUS: SET_STATUS ACK|DRIVER|FEATURES_OK|DRIVER_OK */
    VC_STEP_VRING_NUM_ALL,          /* SET_VRING_NUM for every ring */
    VC_STEP_VRINGS_ADDR_FIRST,      /* per ring: ADDR, BASE, CALL, KICK (rust-vmm front ends) */
    VC_STEP_VRINGS_WITH_CALL,       /* per ring: NUM, BASE, ADDR, CALL, KICK */
    VC_STEP_GET_SHMEM_CONFIG,       /* with SHMEM, vhost-user-base devices: GET_SHMEM_CONFIG */
} VcStep;

/** VcDeviceSteps: a device model's own start and stop order (NULL: the profile's). */
typedef struct VcDeviceSteps {
    const char *device;         /* "rng", "blk", "net", "fs", "gpu" */
    const VcStep *start;
    const VcStep *stop;
} VcDeviceSteps;

/** VcProfile: one front end's personality. */
typedef struct VcProfile {
    const char *name;
    const char *summary;
    uint64_t features_mask;     /* virtio/vhost feature bits it may ack */
    uint64_t pfeatures_mask;    /* protocol feature bits it knows */
    /* With REPLY_ACK negotiated, NEED_REPLY goes on these ack-type requests (bit = id). */
    uint64_t ack_requests;
    bool ack_everything;        /* on every ack-type request (rust-vmm's front end) */
    bool mem_slots;             /* uses ADD_MEM_REG when CONFIGURE_MEM_SLOTS is negotiated */
    const VcStep *init;         /* connect (QEMU: realize) */
    const VcStep *start;        /* device start, for devices without their own order */
    const VcStep *stop;         /* device stop, likewise */
    const VcDeviceSteps *devices; /* per-device orders, ended by an entry with device NULL */
} VcProfile;

/**
 * vc_profile_start_steps:
 * vc_profile_stop_steps:
 * Returns: the start (stop) order of @device in @p, or the profile's default.
 */
const VcStep *vc_profile_start_steps(const VcProfile *p, const char *device);
const VcStep *vc_profile_stop_steps(const VcProfile *p, const char *device);

/** vc_profile_default: Returns: the profile used when none is named (qemu-7.2). */
const VcProfile *vc_profile_default(void);

/** vc_profile_find: Returns: the profile called @name, or NULL. */
const VcProfile *vc_profile_find(const char *name);

/** vc_profile_all: Returns: every profile; @n gets the count. */
const VcProfile *const *vc_profile_all(unsigned *n);

/**
 * vc_profile_base_device:
 * @device: a device type ("rng", "blk"...), or NULL for a generic device
 *
 * Returns: true when QEMU drives @device through vhost-user-base (rng, a
 * generic vhost-user-device...), false for the devices with a model of their
 * own (blk, net, fs, gpu, scsi, vsock).
 */
bool vc_profile_base_device(const char *device);

/** vc_step_name: Returns: a short name of @step for logs and reports. */
const char *vc_step_name(VcStep step);

#endif /* VC_PROFILE_H */
