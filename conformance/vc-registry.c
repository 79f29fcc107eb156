/*
 * vc-registry.c -- the one list to edit when a checks/ file is added.
 * An explicit list rather than linker sections: the checks live in a static
 * library, where section-only objects would be dropped.
 */
#include "vc-runner.h"

extern const VcCheckArea vc_area_hdr, vc_area_neg, vc_area_ring, vc_area_vring_base,
    vc_area_reply_ack, vc_area_mem, vc_area_mq, vc_area_notify, vc_area_virtio_ring,
    vc_area_rng, vc_area_status, vc_area_cli;
extern const VcCheckArea vc_area_suspend, vc_area_channel, vc_area_log, vc_area_config,
    vc_area_devstate, vc_area_misc;
extern const VcCheckArea vc_area_blk;
extern const VcCheckArea vc_area_fs;
extern const VcCheckArea vc_area_iotlb, vc_area_inflight, vc_area_postcopy;

extern const VcCheckArea vc_area_net;
extern const VcCheckArea vc_area_gpu;
extern const VcCheckArea vc_area_hostile;
extern const VcCheckArea vc_area_shm;
static const VcCheckArea *const areas[] = {
    &vc_area_hdr,  &vc_area_neg,    &vc_area_ring,        &vc_area_vring_base,
    &vc_area_reply_ack, &vc_area_mem, &vc_area_mq,        &vc_area_notify,
    &vc_area_virtio_ring, &vc_area_rng, &vc_area_status,  &vc_area_cli,
    &vc_area_suspend, &vc_area_channel, &vc_area_log, &vc_area_config, &vc_area_devstate,
    &vc_area_misc, &vc_area_iotlb, &vc_area_inflight, &vc_area_postcopy,
    &vc_area_blk,
    &vc_area_fs,
    &vc_area_net,
    &vc_area_gpu,
    &vc_area_hostile,
    &vc_area_shm,
};

const VcCheckArea *const *
vc_registry_areas(unsigned *n)
{
    *n = G_N_ELEMENTS(areas);
    return areas;
}

/*
 * Rules of SPEC-FACTS section 7 with no check, and why. A rule moves from here to a check
 * table the day it can be observed from the front end and proven by a mutant.
 */
static const VcUnchecked unchecked[] = {
    {"VU-MEM-04", "vhost-user.rst#vhost-user-protocol-f-gpa-addresses",
     "with GPA_ADDRESSES the region's user address must equal its guest address, so a back end "
     "that reads ring addresses as guest-physical and one that reads them as user addresses "
     "find the same memory: nothing to tell apart from the front end"},
    {"VU-MEM-10", "vhost-user.rst#xen-mmap-description",
     "Xen foreign and grant mappings exist only under Xen"},
    {"VU-END-01", "vhost-user.rst#front-end-message-types",
     "SET_VRING_ENDIAN serves legacy (pre-1.0) big-endian guests; no back end here offers "
     "CROSS_ENDIAN and VERSION_1 rings are little-endian"},
    {"VU-CRY-01", "vhost-user.rst#front-end-message-types",
     "needs a vhost-user crypto back end; none here offers CRYPTO_SESSION"},
    {"VU-VB-05", "vhost-user.rst#front-end-message-types",
     "GET_VRING_BASE_INFLIGHT (in-flight requests kept across migration) is offered by no back "
     "end here and negotiated by no QEMU profile we reproduce"},
    {"VU-VB-07", "vhost-user.rst#suspended-device-state",
     "informational: QEMU always sends SET_VRING_KICK (and SET_VRING_CALL) again at restart, "
     "so a back end that closes them on stop is not wrong; VU-VB-06 covers the restart"},
    {"VU-DS-06", "vhost-user.rst#front-end-message-types",
     "informational: a back end may return its own fd from SET_DEVICE_STATE_FD; either answer is "
     "right (VU-DS-01 and VU-DS-02 judge the answer)"},
    {"VU-SO-02", "vhost-user.rst#back-end-message-types",
     "informational: the front end ignores the removal of a UUID it never saw; nothing for a back "
     "end to break"},
    {"VU-LOG-07", "vhost-user.rst#front-end-message-types",
     "a rule for the front end (tolerate the log eventfd being signalled); there is nothing a "
     "back end can get wrong"},
    {"VU-CLI-08", "vhost-user.rst#backend-program-conventions",
     "packaging, not behaviour: the JSON descriptor an installed back end ships lives in the "
     "distribution, not in the program (qemu-system-common ships them for virtiofsd and "
     "vhost-user-gpu)"},
    {"VU-BCH-06", "vhost-user.rst#back-end-message-types",
     "BACKEND_VRING_HOST_NOTIFIER_MSG needs a back end that maps notification areas for a "
     "hardware-offloaded device; none here offers HOST_NOTIFIER"},
};

const VcUnchecked *
vc_registry_unchecked(unsigned *n)
{
    *n = G_N_ELEMENTS(unchecked);
    return unchecked;
}
