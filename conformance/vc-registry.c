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
};

const VcCheckArea *const *
vc_registry_areas(unsigned *n)
{
    *n = G_N_ELEMENTS(areas);
    return areas;
}
