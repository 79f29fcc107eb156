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
/* Deadline for one back-end-channel send, and for the ack it asked for. */
#define VC_BE_CHAN_TIMEOUT_MS    1000
/* How long a ring waits for the IOTLB update after a miss before it breaks. */
#define VC_BE_IOTLB_WAIT_MS      5000
/* How long CHECK_DEVICE_STATE waits for the end of a load. */
#define VC_BE_STATE_WAIT_MS      2000
/* Delay of the *-after-stop mutants. */
#define VC_BE_AFTER_STOP_MS      50
/* IOTLB cache entries and outstanding misses. */
#define VC_BE_IOTLB_ENTRIES      1024
#define VC_BE_IOTLB_MISSES       32
/* Back-end-channel requests awaiting their ack. */
#define VC_BE_CHAN_PENDING       64
/* Device watches (timerfd, signalfd). */
#define VC_BE_MAX_WATCHES        4
/* Largest device-state blob we save or accept. */
#define VC_BE_STATE_MAX          4096

/* vhost_iotlb_msg perm bits. */
#define VC_PERM_RO  VHOST_ACCESS_RO
#define VC_PERM_WO  VHOST_ACCESS_WO
#define VC_PERM_RW  VHOST_ACCESS_RW

/* SET_VRING_ADDR flags: <linux/vhost_types.h> gives the bit number. */
#define VC_BE_VRING_F_LOG   (1u << VHOST_VRING_F_LOG)

/* Feature bits the library looks at. */
#define VC_BE_F_LOG_ALL     (1ull << 26)
#define VC_BE_F_INDIRECT    (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define VC_BE_F_EVENT_IDX   (1ull << VIRTIO_RING_F_EVENT_IDX)
#define VC_BE_F_IOMMU       (1ull << 33)
#define VC_BE_F_PACKED      (1ull << 34)

/** VcBeRegion: one mapped memory region. */
typedef struct VcBeRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t uva;
    uint64_t mmap_offset;
    uint8_t *hva;           /* our address of the byte at gpa / uva */
    void *map_base;         /* what mmap() returned, for munmap() */
    size_t map_len;
    void *alt_base;         /* postcopy-bypass-fault: a second, unregistered mapping */
    bool uffd_registered;
} VcBeRegion;

/** VcBePending: a chain fetched but not yet completed (reply-before-drain). */
typedef struct VcBePending {
    VcBeChain chain;
    uint32_t len;
    int64_t due_ms;
} VcBePending;

/** VcBeIotlbEntry: one cached IOTLB translation. */
typedef struct VcBeIotlbEntry {
    uint64_t iova;
    uint64_t size;
    uint64_t uaddr;
    uint8_t perm;
} VcBeIotlbEntry;

/** VcBeMiss: an IOTLB miss sent and not yet answered by an update. */
typedef struct VcBeMiss {
    uint64_t iova;
    uint8_t perm;
    int64_t deadline;
} VcBeMiss;

/** VcBeChanWait: a back-end-channel request whose ack we wait for. */
typedef struct VcBeChanWait {
    uint32_t request;
    int ring;               /* for BACKEND_VRING_CALL: its ring; else -1 */
    int64_t deadline;
} VcBeChanWait;

/* The inflight regions' layouts (VcInflightSplit, VcInflightPacked...) are in vc-proto.h. */

/** VcBeVring: one virtqueue, split or packed. */
typedef struct VcBeVring {
    unsigned index;
    uint32_t num;                   /* 0 until SET_VRING_NUM */
    struct vhost_vring_addr addr;   /* addresses as received */
    bool addr_set;
    bool packed;                    /* layout of the last remap */
    struct vring vr;                /* split: our pointers; NULL unless ready */
    struct vring_packed_desc *pdesc;            /* packed: descriptor ring */
    struct vring_packed_desc_event *drv_ev;     /* packed: driver area */
    struct vring_packed_desc_event *dev_ev;     /* packed: device area */
    bool ready;                     /* num, addresses and memory all resolve */
    uint16_t last_avail_idx;        /* next avail entry / descriptor to fetch */
    uint16_t used_idx;              /* split: our copy of used->idx; packed: next used slot */
    bool avail_wrap;                /* packed: driver ring wrap counter */
    bool used_wrap;                 /* packed: device ring wrap counter */
    bool used_sync;                 /* split: read used->idx before the next use */
    uint16_t published_used;        /* split: used->idx as last published */
    uint16_t signalled_used;        /* packed: used index of the last notification check */
    bool signalled_valid;
    uint32_t inuse;                 /* chains fetched and not completed */

    int kick_fd;
    int call_fd;
    int err_fd;
    int old_call_fd;                /* old-call-fd mutant */
    bool kick_nofd;                 /* SET_VRING_KICK had NOFD: poll */
    bool call_nofd;                 /* SET_VRING_CALL had NOFD */
    bool call_fifo;                 /* call_fd is a pipe: check room first */
    bool err_fifo;
    bool old_call_fifo;
    bool kick_watched;              /* kick_fd is in the poll set */

    bool started;
    bool enabled;
    bool broken;                    /* ring error: idle until set up again */
    bool stalled;                   /* call-swap-stalls mutant */
    bool was_runnable;              /* for VC_BE_EV_RING_RUNNABLE */

    bool iotlb_wait;                /* a translation missed: retry after the update */
    bool call_waiting;              /* an in-band call awaits its ack */
    bool call_dirty;                /* completions since that call */

    void *inflight;                 /* VcInflightSplit / VcInflightPacked, or NULL */
    bool inflight_bind;             /* bind the region once the ring is usable */
    uint64_t inflight_counter;
    uint16_t *resubmit;             /* heads (split) or slots (packed), counter order */
    uint32_t resubmit_num;
    uint32_t resubmit_pos;
    uint16_t *batch;                /* packed: inflight slots pushed since the last flush */
    uint32_t batch_num;
    struct vring_packed_desc *pscratch; /* packed: the ring descriptors of the chain fetched */
    bool pushed;                    /* packed: used descriptors written since the last flush */
    bool peeking;                   /* walking a pulled ring's chains without consuming them */

    bool replay_armed;              /* restore-replays-used mutant */
    bool have_last_used;
    uint16_t last_used_id;
    uint32_t last_used_len;
    uint16_t last_used_ndescs;

    VcBeSeg *segs;                  /* chain scratch, segs_cap entries */
    uint32_t segs_cap;
    VcBeSeg *pend_segs;             /* reply-before-drain: segs_cap per pending chain */
    VcBePending *pend;
    uint32_t pend_cap;
    uint32_t pend_first;
    uint32_t pend_count;
} VcBeVring;

/* vc-be-shmem.c: the shared memory region and its mapping. */
typedef struct VcBeShm VcBeShm;

typedef struct VcBeWatch {
    int fd;
    void (*cb)(VcBe *be, int fd, void *opaque);
    void *opaque;
} VcBeWatch;

struct VcBe {
    VcBeDevice dev;
    VcMutant mutant;
    bool verbose;
    bool null_mode;
    unsigned max_mem_slots;
    uint64_t offered_features;
    uint64_t offered_pfeatures;
    unsigned connections;           /* connections served so far */
    VcBeWatch watch[VC_BE_MAX_WATCHES];
    unsigned nwatch;
    uint8_t *state_buf;             /* VC_BE_STATE_MAX bytes */
    int leaked_fd;                  /* kick-nofd-fd-leak: the fd kept open */

    /* Per connection: dropped by conn_reset(). */
    int sock;
    int backend_fd;                 /* SET_BACKEND_REQ_FD channel */
    uint64_t features;              /* acked by SET_FEATURES */
    uint64_t pfeatures;             /* acked by SET_PROTOCOL_FEATURES */
    bool features_set;              /* a SET_FEATURES was accepted */
    bool owner;
    bool mem_seen;                  /* a memory table arrived on this connection */
    bool pfeat_answered;            /* get-pfeat-once */
    uint8_t status;
    bool status_zeroed;             /* status-zero-breaks */
    bool status_broken;             /* status-zero-breaks: a start was refused */
    VcBeRegion *regions;
    unsigned nregions;
    unsigned regions_cap;
    unsigned last_region;           /* translation cache */

    /* Dirty log (vc-be-log.c). */
    uint8_t *log;                   /* bit 0 of byte 0 = the page at address 0 */
    uint64_t log_size;
    void *log_map;
    size_t log_map_len;
    uint8_t *stale_log;             /* log-base-stale: the replaced log, still used */
    uint64_t stale_log_size;
    void *stale_log_map;
    size_t stale_log_map_len;

    /* IOTLB (vc-be-iotlb.c). */
    VcBeIotlbEntry *iotlb;          /* VC_BE_IOTLB_ENTRIES */
    unsigned niotlb;
    unsigned iotlb_last;
    VcBeMiss misses[VC_BE_IOTLB_MISSES];
    unsigned nmisses;

    /* Back-end channel (vc-be-chan.c). */
    VcBeChanWait chan[VC_BE_CHAN_PENDING];
    unsigned chan_first;
    unsigned chan_count;
    bool config_change_pending;
    bool shared_object_sent;
    bool ever_started;              /* a ring was started on this connection */

    /* Inflight tracking (vc-be-inflight.c). */
    void *inflight_map;
    size_t inflight_size;
    uint16_t inflight_nq;
    uint16_t inflight_qsize;
    bool inflight_packed;

    /* Device state (vc-be-state.c). */
    int state_fd;
    bool state_loading;             /* reading a load until EOF */
    size_t state_len;
    bool state_overflow;
    int state_result;               /* 0 ok, 1 failed: the CHECK_DEVICE_STATE answer */
    int state_kept_fd;              /* state-no-eof: the save end kept open */

    /* Postcopy (vc-be-postcopy.c). */
    int uffd;
    bool postcopy_listen;
    bool postcopy_wait_ack;         /* the region table was sent; memory is off limits */

    /* VIRTIO Shared Memory Region (vc-be-shmem.c); NULL when the device has none. */
    VcBeShm *shm;

    /* Mutants that act ~50 ms after the last ring stopped. */
    int64_t after_stop_due;
    int after_stop_ring;

    VcBeVring vq[VC_BE_MAX_QUEUES];
};

/* ---- vc-be.c ---- */

/** vc_be_suspended: true when no ring is started (vhost-user.rst "Suspended device state"). */
bool vc_be_suspended(const VcBe *be);

/**
 * vc_be_drain_all:
 * Asks the device to complete every deferred chain on every ring (before
 * the memory they point at changes).
 */
void vc_be_drain_all(VcBe *be);

/** vc_be_event: calls the device's event() callback, if any. */
void vc_be_event(VcBe *be, VcBeEvent ev, unsigned q);

/** vc_be_queue_flags: the device's VC_BE_Q_* bits of ring @q. */
unsigned vc_be_queue_flags(const VcBe *be, unsigned q);

/**
 * vc_be_wait_idle:
 * @lfd: the listening socket
 * @sigfd: the stop signalfd, or -1
 *
 * Polls @lfd, @sigfd and the device watches (serving the watches).
 * Returns: 1 when @lfd is readable, 0 when @sigfd fired, 2 when only a
 * watch was served (or a signal interrupted), -errno on error.
 */
int vc_be_wait_idle(VcBe *be, int lfd, int sigfd);

/* ---- vc-be-mem.c: the memory table ---- */

/**
 * vc_be_uva_to_hva:
 * Returns: our pointer for front-end user address @uva, or NULL unless one
 * region holds the whole range [@uva, @uva + @len).
 */
void *vc_be_uva_to_hva(VcBe *be, uint64_t uva, uint64_t len);

/**
 * vc_be_hva_to_gpa:
 * @hva: an address inside one of our region mappings
 * @gpa: (out): its guest-physical address
 * Returns: true when @hva lies in a region.
 */
bool vc_be_hva_to_gpa(VcBe *be, const void *hva, uint64_t *gpa);

/**
 * vc_be_mem_set_table:
 * @m: a validated SET_MEM_TABLE; its fds stay owned by @m
 *
 * Maps the new table, recomputes every ring pointer, then unmaps the old
 * table. Nothing changes on failure. In postcopy mode the regions are not
 * touched and not registered until the front end's ack.
 *
 * Returns: 0 or -errno (-EINVAL for a bad or overlapping region).
 */
int vc_be_mem_set_table(VcBe *be, VcMsg *m);

/**
 * vc_be_mem_add:
 * @m: a validated ADD_MEM_REG with its one fd (still owned by @m)
 * @added: (out) (nullable): the new region (postcopy reply)
 *
 * Returns: 0, -ENOSPC when every slot is used, -EEXIST when the region
 * overlaps a mapped one, or another -errno.
 */
int vc_be_mem_add(VcBe *be, VcMsg *m, VcBeRegion **added);

/**
 * vc_be_mem_rem:
 * Unmaps the region with the same guest address, user address and size
 * as @m (mmap_offset is ignored) after moving the rings off it.
 * Returns: 0, or -ENOENT when no region matches.
 */
int vc_be_mem_rem(VcBe *be, VcMsg *m);

/** vc_be_mem_clear: unmaps every region (end of a connection). */
void vc_be_mem_clear(VcBe *be);

/* ---- vc-be-vring.c: ring state, notifiers, split rings ---- */

void vc_be_vring_init(VcBeVring *vq, unsigned index);

/**
 * vc_be_vring_forget:
 * Drops the device's deferred chains, closes the ring's notifier fds and
 * returns it to the state of a new connection: stopped, disabled, no size,
 * no addresses, base 0. The scratch arrays are kept for reuse.
 */
void vc_be_vring_forget(VcBe *be, VcBeVring *vq);

/**
 * vc_be_vring_bind_inflight:
 * Binds the ring to its inflight queue region once it is usable (after
 * SET_VRING_KICK); a region with recorded requests starts the ring so that
 * they are resubmitted (as libvhost-user does after a reconnect).
 */
void vc_be_vring_bind_inflight(VcBe *be, VcBeVring *vq);

/** vc_be_vring_free: frees the scratch arrays (after forget). */
void vc_be_vring_free(VcBeVring *vq);

/**
 * vc_be_vring_set_num:
 * @num: ring size: a power of two in 1..VC_BE_MAX_RING_SIZE for split
 *       rings, any value in 1..VC_BE_MAX_RING_SIZE with RING_PACKED
 * Returns: 0, -EINVAL for a bad size, -ENOMEM.
 */
int vc_be_vring_set_num(VcBe *be, VcBeVring *vq, uint32_t num);

/**
 * vc_be_vring_check_addr:
 * Returns: 0 when SET_VRING_ADDR payload @a may be stored: known flags,
 * aligned, and inside the memory table if there is one (no IOMMU);
 * -EINVAL or -EFAULT otherwise.
 */
int vc_be_vring_check_addr(VcBe *be, const VcBeVring *vq, const struct vhost_vring_addr *a);

/**
 * vc_be_vring_remap:
 * Recomputes @vq's pointers from its stored addresses (through the IOTLB
 * with ACCESS_PLATFORM); processes the ring when it just became usable
 * while started and enabled.
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

/** vc_be_vring_stop: marks @vq stopped (GET_VRING_BASE) and closes its kick fd. */
void vc_be_vring_stop(VcBe *be, VcBeVring *vq);

/** vc_be_vring_runnable: started, enabled, usable and not broken. */
bool vc_be_vring_runnable(const VcBe *be, const VcBeVring *vq);

/**
 * vc_be_vring_process:
 * Drains a runnable ring (or a started, disabled VC_BE_Q_DRAIN_DISABLED
 * ring): every chain goes to the device, then the used elements are
 * published once and the driver is signalled once. A ring error breaks the
 * ring and signals its err notifier. VC_BE_Q_PULL rings are left alone.
 */
void vc_be_vring_process(VcBe *be, VcBeVring *vq);

/** vc_be_vring_process_all: vc_be_vring_process() on every ring. */
void vc_be_vring_process_all(VcBe *be);

/**
 * vc_be_vring_kick:
 * The kick fd of @vq is readable: drains it, starts the ring if needed and
 * processes it.
 */
void vc_be_vring_kick(VcBe *be, VcBeVring *vq);

/** vc_be_vring_kicked: a kick arrived (eventfd or VRING_KICK): start and process. */
void vc_be_vring_kicked(VcBe *be, VcBeVring *vq);

/** vc_be_vring_base: the GET_VRING_BASE value of @vq (split or packed encoding). */
uint32_t vc_be_vring_base(const VcBe *be, const VcBeVring *vq);

/** vc_be_vring_set_base: applies a SET_VRING_BASE value. */
void vc_be_vring_set_base(VcBe *be, VcBeVring *vq, uint32_t num);

/**
 * vc_be_vring_complete_due:
 * @all: complete every pending chain, due or not
 *
 * Completes chains held back by the reply-before-drain mutant (a no-op for
 * everyone else: nothing is ever pending).
 */
void vc_be_vring_complete_due(VcBe *be, VcBeVring *vq, bool all);

/** vc_be_vring_next_due: when the oldest held-back chain is due, or -1. */
int64_t vc_be_vring_next_due(const VcBeVring *vq);

/** vc_be_vring_error: breaks @vq and signals its err notifier (or in-band). */
void vc_be_vring_error(VcBe *be, VcBeVring *vq, const char *why);

/** vc_be_vring_notify: signals "used buffers" to the driver (call fd or in-band). */
void vc_be_vring_notify(VcBe *be, VcBeVring *vq);

/** vc_be_notifier_write: one 8-byte write to a call/err notifier (pipes: only if room). */
void vc_be_notifier_write(int fd, bool fifo);

/** vc_be_close_fd: closes *@fd if it is open and sets it to -1. */
void vc_be_close_fd(int *fd);

/* ---- vc-be-packed.c: packed rings (virtio 1.x 2.8) ---- */

bool vc_be_packed_map(VcBe *be, VcBeVring *vq);
int vc_be_packed_pop(VcBe *be, VcBeVring *vq, VcBeChain *c, const char **err);
void vc_be_packed_unpop(VcBe *be, VcBeVring *vq, const VcBeChain *c);
void vc_be_packed_push(VcBe *be, VcBeVring *vq, uint16_t id, uint16_t ndescs, uint32_t len);
void vc_be_packed_flush(VcBe *be, VcBeVring *vq);
void vc_be_packed_replay(VcBe *be, VcBeVring *vq);

/* ---- shared chain helpers (vc-be-vring.c) ---- */

/**
 * vc_be_desc_seg:
 * Translates one descriptor into @s (device-readable or -writable per
 * @flags). Returns 0, -EAGAIN (IOTLB miss sent) or -EFAULT.
 */
int vc_be_desc_seg(VcBe *be, VcBeVring *vq, VcBeSeg *s, uint64_t addr, uint32_t len,
                   uint16_t flags, uint16_t index);

/* ---- vc-be-iotlb.c: address translation with ACCESS_PLATFORM ---- */

/** vc_be_iommu: ACCESS_PLATFORM negotiated (and honoured). */
bool vc_be_iommu(const VcBe *be);

/**
 * vc_be_tr_ring:
 * Translates a ring address (user address, or IOVA with ACCESS_PLATFORM).
 * A miss is reported to the front end and sets vq->iotlb_wait.
 * Returns: our pointer, or NULL.
 */
void *vc_be_tr_ring(VcBe *be, VcBeVring *vq, uint64_t addr, uint64_t len, uint8_t perm);

/**
 * vc_be_tr_desc:
 * Translates a descriptor address (guest-physical, or IOVA).
 * @err: (out): -EAGAIN after a miss (reported), -EFAULT outside memory
 * Returns: our pointer, or NULL.
 */
void *vc_be_tr_desc(VcBe *be, VcBeVring *vq, uint64_t addr, uint64_t len, uint8_t perm,
                    int *err);

/**
 * vc_be_iotlb_msg:
 * Applies an IOTLB_MSG update or invalidate.
 * Returns: 0, or -EINVAL (bad type, or an update outside the memory table).
 */
int vc_be_iotlb_msg(VcBe *be, const struct vhost_iotlb_msg *msg);

/** vc_be_iotlb_clear: forgets every translation and miss. */
void vc_be_iotlb_clear(VcBe *be);

/** vc_be_iotlb_next_due / vc_be_iotlb_expire: the miss deadline. */
int64_t vc_be_iotlb_next_due(const VcBe *be);
void vc_be_iotlb_expire(VcBe *be, int64_t now);

/** vc_be_iotlb_send_miss: BACKEND_IOTLB_MSG type 1 (miss) for @iova. */
void vc_be_iotlb_send_miss(VcBe *be, uint64_t iova, uint8_t perm);

/* ---- vc-be-chan.c: the back-end channel ---- */

/**
 * vc_be_chan_send:
 * @m: a back-end request; its fds are sent and stay owned by the caller
 * @ring: the ring an in-band call is for, else -1
 * @sock: where to send (the channel; the main socket for a mutant)
 *
 * Sends @m with a short deadline. When @m has NEED_REPLY the ack is
 * awaited in the background (vc_be_chan_read()).
 * Returns: 0 or -errno.
 */
int vc_be_chan_send(VcBe *be, int sock, VcMsg *m, int ring);

/** vc_be_chan_read: reads the acks that arrived on the channel. */
void vc_be_chan_read(VcBe *be);

/** vc_be_chan_next_due / vc_be_chan_expire: the ack deadline. */
int64_t vc_be_chan_next_due(const VcBe *be);
void vc_be_chan_expire(VcBe *be, int64_t now);

/** vc_be_chan_reset: forgets awaited acks (new channel or end of connection). */
void vc_be_chan_reset(VcBe *be);

/** vc_be_chan_ok: true when BACKEND_REQ is negotiated and a channel is set. */
bool vc_be_chan_ok(const VcBe *be);

/** vc_be_inband: sends BACKEND_VRING_CALL or BACKEND_VRING_ERR for @vq. */
void vc_be_inband(VcBe *be, VcBeVring *vq, uint32_t request);

/** vc_be_chan_flush_pending: sends what waited for a started ring. */
void vc_be_chan_flush_pending(VcBe *be);

/** vc_be_send_config_change: BACKEND_CONFIG_CHANGE_MSG now, gating checked by the caller. */
void vc_be_send_config_change(VcBe *be);

/* ---- vc-be-log.c: dirty-page logging ---- */

/** vc_be_logging: LOG_ALL negotiated and a log is mapped. */
bool vc_be_logging(const VcBe *be);

/**
 * vc_be_log_set_base:
 * @m: a validated SET_LOG_BASE with its fd (still owned by @m)
 * Maps the new log, then unmaps the old. Returns: 0 or -errno.
 */
int vc_be_log_set_base(VcBe *be, VcMsg *m);

/** vc_be_log_clear: unmaps the log. */
void vc_be_log_clear(VcBe *be);

/** vc_be_log_gpa: marks the pages of [@gpa, @gpa + @len). */
void vc_be_log_gpa(VcBe *be, uint64_t gpa, uint64_t len);

/** vc_be_log_hva: marks the pages behind our mapping [@hva, @hva + @len). */
void vc_be_log_hva(VcBe *be, const void *hva, uint64_t len);

/** vc_be_log_one_more: (mutant log-after-stop) marks one page that was clear. */
void vc_be_log_one_more(VcBe *be, uint64_t gpa);

/** vc_be_log_used: a used-ring write at @offset from the ring's log_guest_addr. */
void vc_be_log_used(VcBe *be, const VcBeVring *vq, uint64_t offset, uint64_t len);

/* ---- vc-be-inflight.c: inflight I/O tracking ---- */

int vc_be_inflight_get(VcBe *be, const VcMsg *m, VcMsg *reply, int *fd_out);
int vc_be_inflight_set(VcBe *be, VcMsg *m);
void vc_be_inflight_clear(VcBe *be);

/**
 * vc_be_inflight_start:
 * The ring is being started (SET_VRING_KICK): binds its queue region,
 * initialises a new one, or recovers an old one (vhost-user.rst "When
 * reconnecting") and prepares the resubmission list.
 * Returns: true when requests wait to be resubmitted.
 */
bool vc_be_inflight_start(VcBe *be, VcBeVring *vq);

void vc_be_inflight_fetch_split(VcBe *be, VcBeVring *vq, uint16_t head);
void vc_be_inflight_push_split(VcBe *be, VcBeVring *vq, uint16_t head);
void vc_be_inflight_flush_split(VcBe *be, VcBeVring *vq, uint16_t count);
uint16_t vc_be_inflight_fetch_packed(VcBe *be, VcBeVring *vq,
                                     const struct vring_packed_desc *descs, unsigned n);
void vc_be_inflight_push_packed(VcBe *be, VcBeVring *vq, uint16_t slot);
void vc_be_inflight_flush_packed(VcBe *be, VcBeVring *vq);

/* ---- vc-be-state.c: device-state transfer ---- */

/** vc_be_state_set_fd: SET_DEVICE_STATE_FD; fills the u64 reply (and its fd). */
void vc_be_state_set_fd(VcBe *be, VcMsg *m, VcMsg *reply);

/** vc_be_state_check: CHECK_DEVICE_STATE; waits for a load to end. */
uint64_t vc_be_state_check(VcBe *be);

/** vc_be_state_read: the load fd is readable. */
void vc_be_state_read(VcBe *be);

/** vc_be_state_reset: closes transfer fds (end of connection). */
void vc_be_state_reset(VcBe *be);

/* ---- vc-be-shmem.c: the VIRTIO Shared Memory Region (SHMEM) ---- */

/** vc_be_shm_init: sets be->shm up when the device has a region. Returns: 0 or -ENOMEM. */
int vc_be_shm_init(VcBe *be);

/** vc_be_shm_free: releases be->shm and its memfd. */
void vc_be_shm_free(VcBe *be);

/** vc_be_shm_forget: the connection ended: no mapping. */
void vc_be_shm_forget(VcBe *be);

/** vc_be_shm_config: fills the GET_SHMEM_CONFIG reply (2056 bytes). */
void vc_be_shm_config(VcBe *be, VcMsg *reply);

/** vc_be_shm_ring_started: ring @vq started; ring 0 maps (vc_be_vring_start()). */
void vc_be_shm_ring_started(VcBe *be, VcBeVring *vq);

/** vc_be_shm_ring_stopping: GET_VRING_BASE, before @vq stops; ring 0 unmaps. */
void vc_be_shm_ring_stopping(VcBe *be, VcBeVring *vq);

/** vc_be_shm_acked: the front end acked back-end request @request with @value. */
void vc_be_shm_acked(VcBe *be, uint32_t request, uint64_t value);

/** vc_be_shm_device_reset: RESET_DEVICE: the front end dropped every mapping. */
void vc_be_shm_device_reset(VcBe *be);

/** vc_be_shm_after_stop: (mutant shm-unmap-while-suspended) the unmap, late. */
void vc_be_shm_after_stop(VcBe *be);

/* ---- vc-be-postcopy.c: userfaultfd ---- */

/** vc_be_postcopy_probe: true when a userfaultfd can be opened here. */
bool vc_be_postcopy_probe(void);

int vc_be_postcopy_advise(VcBe *be, int *fd_out);
int vc_be_postcopy_listen(VcBe *be);
int vc_be_postcopy_end(VcBe *be);
int vc_be_postcopy_register(VcBe *be, VcBeRegion *r);
void vc_be_postcopy_reset(VcBe *be);

#endif /* VC_BE_PRIV_H */
