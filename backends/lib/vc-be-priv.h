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

/* ---- vc-be-mem.c: the memory table ---- */

/**
 * vc_be_uva_to_hva:
 * @be: back end
 * @uva: front-end user address (ring addresses of SET_VRING_ADDR)
 * @len: bytes that must all be mapped
 *
 * Returns: our pointer, or NULL unless one region holds the whole range.
 */
void *vc_be_uva_to_hva(VcBe *be, uint64_t uva, uint64_t len);

/**
 * vc_be_mem_set_table:
 * @be: back end
 * @m: a validated SET_MEM_TABLE; its fds stay owned by @m
 *
 * Maps the new table, recomputes every ring pointer, then unmaps the old
 * table. Nothing changes on failure.
 *
 * Returns: 0 or -errno (-EINVAL for a bad or overlapping region).
 */
int vc_be_mem_set_table(VcBe *be, VcMsg *m);

/**
 * vc_be_mem_add:
 * @be: back end
 * @m: a validated ADD_MEM_REG with its one fd (still owned by @m)
 *
 * Returns: 0, -ENOSPC when every slot is used, -EEXIST when the region
 * overlaps a mapped one, or another -errno.
 */
int vc_be_mem_add(VcBe *be, VcMsg *m);

/**
 * vc_be_mem_rem:
 * @be: back end
 * @m: a validated REM_MEM_REG
 *
 * Unmaps the region with the same guest address, user address and size
 * (mmap_offset is ignored) after moving the rings off it.
 *
 * Returns: 0, or -ENOENT when no region matches.
 */
int vc_be_mem_rem(VcBe *be, VcMsg *m);

/**
 * vc_be_mem_clear:
 * Unmaps every region (end of a connection).
 */
void vc_be_mem_clear(VcBe *be);

/* ---- vc-be-vring.c: split rings ---- */

/**
 * vc_be_vring_init:
 * Zeroes @vq (no fds, no scratch arrays) and names it ring @index.
 */
void vc_be_vring_init(VcBeVring *vq, unsigned index);

/**
 * vc_be_vring_forget:
 * Closes the ring's notifier fds and returns it to the state of a new
 * connection: stopped, disabled, no size, no addresses, base 0. The scratch
 * arrays are kept for reuse.
 */
void vc_be_vring_forget(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_set_num:
 * @num: ring size, a power of two in 1..VC_BE_MAX_RING_SIZE
 *
 * Grows the scratch arrays when needed and recomputes the ring pointers.
 * Returns: 0, -EINVAL for a bad size, -ENOMEM.
 */
int vc_be_vring_set_num(VcBe *be, VcBeVring *vq, uint32_t num);

/**
 * vc_be_vring_check_addr:
 * @a: the payload of a SET_VRING_ADDR for @vq
 *
 * Returns: 0 when @a may be stored: no flags, aligned, and inside the
 * memory table if there is one; -EINVAL or -EFAULT otherwise.
 */
int vc_be_vring_check_addr(VcBe *be, const VcBeVring *vq, const struct vhost_vring_addr *a);

/**
 * vc_be_vring_remap:
 * Recomputes @vq's pointers from its stored user addresses; processes the
 * ring when it just became usable while started and enabled.
 */
void vc_be_vring_remap(VcBe *be, VcBeVring *vq);

/** vc_be_vring_remap_all: vc_be_vring_remap() on every ring. */
void vc_be_vring_remap_all(VcBe *be);

/**
 * vc_be_vring_start:
 * Marks @vq started (first kick, or SET_VRING_KICK with NOFD); used->idx is
 * read from guest memory before the next use.
 */
void vc_be_vring_start(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_stop:
 * Marks @vq stopped (GET_VRING_BASE) and closes its kick fd.
 */
void vc_be_vring_stop(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_runnable:
 * Returns: true when @vq is started, enabled, usable and not broken.
 */
bool vc_be_vring_runnable(const VcBe *be, const VcBeVring *vq);

/**
 * vc_be_vring_process:
 * Services every available chain of a runnable ring, publishes the used
 * index once and signals once. A ring error breaks the ring and writes its
 * err notifier. Does nothing for a ring that is not runnable.
 */
void vc_be_vring_process(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_kick:
 * The kick fd of @vq is readable: drains it, starts the ring if needed and
 * processes it.
 */
void vc_be_vring_kick(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_complete_due:
 * @all: complete every pending chain, due or not
 *
 * Completes chains held back by the reply-before-drain mutant (a no-op for
 * everyone else: nothing is ever pending).
 */
void vc_be_vring_complete_due(VcBe *be, VcBeVring *vq, bool all);

/**
 * vc_be_vring_next_due:
 * Returns: when the oldest held-back chain is due (vc_now_ms() time), or -1.
 */
int64_t vc_be_vring_next_due(const VcBeVring *vq);

/** vc_be_close_fd: closes *@fd if it is open and sets it to -1. */
void vc_be_close_fd(int *fd);

#endif /* VC_BE_PRIV_H */
