/*
 * vc-be-priv.h -- state shared by the back-end library's .c files. Not for
 * daemons: they see vc-be.h only.
 */
#ifndef VC_BE_PRIV_H
#define VC_BE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-msg.h"

/* How long the reply-before-drain mutant holds a fetched chain. */
#define VC_BE_LATE_COMPLETION_MS 100
/* Deadline for sending one reply; a front end that never reads is gone. */
#define VC_BE_SEND_TIMEOUT_MS    5000

/** VcBeRegion: one mapped memory region. */
typedef struct VcBeRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t uva;
    uint64_t mmap_offset;
    uint8_t *hva;           /* our address of the byte at gpa / uva */
    void *map_base;         /* what mmap() returned, for munmap() */
    size_t map_len;
} VcBeRegion;

/** VcBePending: a chain fetched but not yet completed (reply-before-drain). */
typedef struct VcBePending {
    uint16_t head;
    uint32_t len;
    int64_t due_ms;
} VcBePending;

/** VcBeVring: one split virtqueue. */
typedef struct VcBeVring {
    unsigned index;
    uint32_t num;                   /* 0 until SET_VRING_NUM */
    struct vhost_vring_addr addr;   /* user addresses as received */
    bool addr_set;
    struct vring vr;                /* our pointers; NULL unless ready */
    bool ready;                     /* num, addresses and memory all resolve */
    uint16_t last_avail_idx;        /* next avail entry to fetch */
    uint16_t used_idx;              /* our copy of used->idx */
    bool used_sync;                 /* read used->idx before the next use */

    int kick_fd;
    int call_fd;
    int err_fd;
    bool kick_nofd;                 /* SET_VRING_KICK had NOFD: poll */
    bool call_nofd;                 /* SET_VRING_CALL had NOFD */
    bool call_fifo;                 /* call_fd is a pipe: check room first */
    bool err_fifo;
    bool kick_watched;              /* kick_fd is in the poll set */

    bool started;
    bool enabled;
    bool broken;                    /* ring error: idle until set up again */

    VcBeSeg *segs;                  /* chain scratch, segs_cap = num entries */
    uint32_t segs_cap;

    VcBePending *pend;              /* reply-before-drain only */
    uint32_t pend_cap;
    uint32_t pend_first;
    uint32_t pend_count;
} VcBeVring;

struct VcBe {
    VcBeDevice dev;
    VcMutant mutant;
    bool verbose;
    bool null_mode;
    unsigned max_mem_slots;
    uint64_t offered_features;
    uint64_t offered_pfeatures;
    unsigned connections;           /* connections served so far */

    /* Per connection: dropped by vc_be_conn_reset(). */
    int sock;
    int backend_fd;                 /* SET_BACKEND_REQ_FD channel */
    uint64_t features;              /* acked by SET_FEATURES */
    uint64_t pfeatures;             /* acked by SET_PROTOCOL_FEATURES */
    bool features_set;              /* a SET_FEATURES was accepted */
    bool owner;
    bool mem_seen;                  /* a memory table arrived on this connection */
    bool pfeat_answered;            /* get-pfeat-once */
    uint8_t status;
    VcBeRegion *regions;
    unsigned nregions;
    unsigned regions_cap;
    unsigned last_region;           /* translation cache */
    VcBeVring vq[VC_BE_MAX_QUEUES];
};

/* vc-be-mem.c */
void *vc_be_uva_to_hva(VcBe *be, uint64_t uva, uint64_t len);
int vc_be_mem_set_table(VcBe *be, VcMsg *m);
int vc_be_mem_add(VcBe *be, VcMsg *m);
int vc_be_mem_rem(VcBe *be, VcMsg *m);
void vc_be_mem_clear(VcBe *be);

/* vc-be-vring.c */
void vc_be_vring_init(VcBeVring *vq, unsigned index);
void vc_be_vring_forget(VcBe *be, VcBeVring *vq);
int vc_be_vring_set_num(VcBe *be, VcBeVring *vq, uint32_t num);
int vc_be_vring_check_addr(VcBe *be, const VcBeVring *vq, const struct vhost_vring_addr *a);
void vc_be_vring_remap(VcBe *be, VcBeVring *vq);
void vc_be_vring_remap_all(VcBe *be);
void vc_be_vring_start(VcBe *be, VcBeVring *vq);
void vc_be_vring_stop(VcBe *be, VcBeVring *vq);
bool vc_be_vring_runnable(const VcBe *be, const VcBeVring *vq);
void vc_be_vring_process(VcBe *be, VcBeVring *vq);
void vc_be_vring_kick(VcBe *be, VcBeVring *vq);
void vc_be_vring_complete_due(VcBe *be, VcBeVring *vq, bool all);
int64_t vc_be_vring_next_due(const VcBeVring *vq);
void vc_be_close_fd(int *fd);

#endif /* VC_BE_PRIV_H */
