/*
 * vc-frontend.h -- the emulated vhost-user front end: request/reply over the
 * main socket, the back-end channel answered as QEMU answers it, feature
 * negotiation, guest memory, virtqueue set-up and the device lifecycle in
 * the order a chosen front-end profile uses.
 *
 * It reports what happened and decides no verdict: replies that QEMU would
 * reject are returned as VC_ERROR_PROTOCOL errors or, where the payload is
 * still usable (flags only), recorded as observations (VcObs) that the
 * conformance checks judge.
 */
#ifndef VC_FRONTEND_H
#define VC_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-conn.h"
#include "vc-gmem.h"
#include "vc-profile.h"
#include "vc-vq.h"
#include "wire/vc-msg.h"

#define VC_FE_MAX_QUEUES 256  /* SET_VRING_KICK/CALL/ERR can address rings 0..255 only */
#define VC_FE_DEFAULT_TIMEOUT_MS 2000

/** VcNotify: how a ring's kicks or calls travel. */
typedef enum VcNotify {
    VC_NOTIFY_EVENTFD,  /* an eventfd (QEMU's ioeventfd/irqfd) */
    VC_NOTIFY_PIPE,     /* a pipe: the spec's alternative where eventfd is missing */
    VC_NOTIFY_NONE,     /* no fd: VHOST_USER_VRING_NOFD_MASK, the other side polls */
} VcNotify;

/** VcMemLayout: how guest memory is laid out and published. */
typedef enum VcMemLayout {
    VC_MEM_QEMU,        /* one memfd, two regions: gpa 0 at offset 0, gpa 4 GiB at offset 2*size */
    VC_MEM_SIMPLE,      /* one memfd, one region at gpa 0 */
    VC_MEM_MANY,        /* up to 8 regions over 3 memfds, all with non-zero mmap_offset */
} VcMemLayout;

/** VcFeConfig: what the front end asks for. Zero is a sensible default for every field. */
typedef struct VcFeConfig {
    const VcProfile *profile;   /* NULL: vc_profile_default() */
    int timeout_ms;             /* every wait; 0: VC_FE_DEFAULT_TIMEOUT_MS */
    unsigned num_queues;        /* rings to set up; 0: 1 */
    uint16_t ring_size;         /* 0: 256 */
    uint64_t driver_features;   /* device-specific bits the driver wants (bits 0..23) */
    bool event_idx;             /* ask for VIRTIO_RING_F_EVENT_IDX */
    bool indirect;              /* ask for VIRTIO_RING_F_INDIRECT_DESC */
    bool no_protocol_features;  /* do not ack VHOST_USER_F_PROTOCOL_FEATURES */
    uint64_t pfeatures_mask;    /* protocol features the front end refuses (cleared) */
    VcNotify kick;              /* default eventfd */
    VcNotify call;              /* default eventfd */
    VcMemLayout mem_layout;     /* default VC_MEM_QEMU */
    uint64_t mem_size;          /* bytes per region; 0: 2 MiB */
    bool hugepages;             /* back guest memory with 2 MiB pages */
    bool no_mem_slots;          /* use SET_MEM_TABLE even with CONFIGURE_MEM_SLOTS */
    uint16_t start_idx;         /* SET_VRING_BASE value; rings start at this index */
    uint32_t config_len;        /* device config space bytes; 0: none, CONFIG is not acked */
    bool iommu;                 /* negotiate VIRTIO_F_ACCESS_PLATFORM and use IOVAs */
    bool packed;                /* ask for VIRTIO_F_RING_PACKED; rings are packed if it is
                                 * negotiated, split otherwise */
    bool inband;                /* with INBAND_NOTIFICATIONS: kick with VRING_KICK messages */
    int inflight_fd;            /* > 0: an inflight buffer kept from an earlier connection
                                 * (QEMU's reconnect), sent with SET_INFLIGHT_FD; the front end
                                 * dups it. 0 or -1: none */
    VhostUserInflight inflight; /* its description, with inflight_fd */
    const char *device;         /* device type ("rng", "blk"...): picks the profile's order */
    unsigned indirect_max;      /* descriptors per indirect table; 0: 16 */
} VcFeConfig;

/** VcFeQueue: one ring with its notifiers. The front end owns every fd here. */
typedef struct VcFeQueue {
    VcVq *vq;            /* NULL until vc_fe_create_queue() */
    int kick_ours;       /* we write kicks here; -1 for none */
    int kick_theirs;     /* sent with SET_VRING_KICK; may equal kick_ours (eventfd) */
    int call_ours;       /* we read calls here */
    int call_theirs;
    int err_ours;
    int err_theirs;
    int masked_call;     /* QEMU's masked notifier, sent at connect time */
    bool notifiers;      /* the fds above exist */
    bool kick_sent;
    bool err_sent;       /* SET_VRING_ERR went out with err_theirs */
    bool masked;         /* the daemon still has the masked call notifier */
} VcFeQueue;

/** VcObsKind: things the front end saw that a check may want to judge. */
typedef enum VcObsKind {
    VC_OBS_REPLY_FAULT,    /* a reply QEMU would reject or only tolerate: faults mask */
    VC_OBS_UNSOLICITED,    /* a reply to a request that did not ask for one */
    VC_OBS_BACKEND_MSG,    /* a request on the back-end channel */
    VC_OBS_BACKEND_FAULT,  /* a malformed request on the back-end channel: faults mask */
    VC_OBS_NACK,           /* a REPLY_ACK payload that was not 0 */
    VC_OBS_SHMEM_FAULT,    /* a BACKEND_SHMEM_MAP/UNMAP the front end refused: faults = VcShmFault */
} VcObsKind;

/** VcObs: one observation. */
typedef struct VcObs {
    VcObsKind kind;
    uint32_t request;      /* request id (main or back-end table per kind) */
    uint32_t flags;        /* header flags of the offending message */
    uint32_t size;
    unsigned faults;       /* VcMsgFault mask */
    unsigned nfds;
    uint64_t u64;          /* first 8 payload bytes */
    uint64_t msg_no;       /* message number on its connection (for trace frames) */
    char text[192];        /* one line, decoded */
} VcObs;

/**
 * VcShmFault: why the front end refused a BACKEND_SHMEM_MAP or _UNMAP
 * (VcObs.faults; VcObs.u64 holds the request's shm_offset).
 */
typedef enum VcShmFault {
    VC_SHM_FAULT_MALFORMED = 1,  /* the codec refused it (its size); a BACKEND_FAULT comes too */
    VC_SHM_FAULT_FDS,            /* a map without exactly one fd, or an unmap with one */
    VC_SHM_FAULT_NOT_NEGOTIATED, /* VHOST_USER_PROTOCOL_F_SHMEM was not negotiated */
    VC_SHM_FAULT_NO_REGION,      /* the shmid has size 0 in GET_SHMEM_CONFIG (or none was asked) */
    VC_SHM_FAULT_FLAGS,          /* flags other than 0 (read-only) and 1 (read-write) */
    VC_SHM_FAULT_RANGE,          /* len 0, or shm_offset + len wraps or passes the region's end */
    VC_SHM_FAULT_OVERLAP,        /* overlaps a live mapping of the same region */
    VC_SHM_FAULT_FD_SIZE,        /* the fd is shorter than fd_offset + len (or fstat failed) */
    VC_SHM_FAULT_MMAP,           /* mmap() refused it (offsets or length not page-aligned) */
    VC_SHM_FAULT_NO_MATCH,       /* an unmap whose range is not exactly one live mapping */
} VcShmFault;

/** VcFeShmMap: one live mapping in a VIRTIO Shared Memory Region. */
typedef struct VcFeShmMap {
    uint8_t shmid;
    uint64_t shm_offset;
    uint64_t len;
    uint64_t fd_offset;
    bool rw;                     /* flags 1: mapped read-write */
    uint64_t msg_no;             /* back-end channel message that made it */
} VcFeShmMap;

/**
 * VcFeShm: the VIRTIO Shared Memory Regions (VHOST_USER_PROTOCOL_F_SHMEM),
 * as QEMU keeps them: the sizes of the last GET_SHMEM_CONFIG, an address
 * range reserved per region (PROT_NONE) and the live mappings. Dropped by
 * RESET_DEVICE (the mappings) and at disconnect (everything).
 */
typedef struct VcFeShm {
    bool config_got;             /* a GET_SHMEM_CONFIG was answered */
    VhostUserShMemConfig config; /* the last answer, as received */
    unsigned n_configs;          /* answers received */
    uint8_t *area[VHOST_USER_MAX_SHMEM_REGIONS];     /* reserved range per region, or NULL */
    uint64_t area_len[VHOST_USER_MAX_SHMEM_REGIONS];
    GArray *maps;                /* of VcFeShmMap, the live mappings */
    unsigned refuse;             /* answer the next N valid maps with 1 (no resources left) */
    uint64_t maps_made;          /* maps accepted */
    uint64_t unmaps_made;        /* unmaps accepted */
    uint64_t refused;            /* valid maps refused on purpose (refuse) */
    uint64_t faults;             /* maps and unmaps refused as faulty (VC_OBS_SHMEM_FAULT) */
    uint64_t dropped;            /* mappings dropped by RESET_DEVICE */
} VcFeShm;

typedef struct VcFrontend {
    VcFeConfig cfg;
    const VcProfile *profile;
    VcConn *conn;              /* main socket, connection number conn_base */
    unsigned conn_base;        /* even; the back-end channel is conn_base + 1 */
    VcVqTap vq_tap;            /* installed on every ring created */
    void *vq_tap_opaque;
    VcConn *bch;               /* our end of the back-end channel, or NULL */
    int timeout_ms;

    /* Negotiation results. */
    uint64_t features_offered;   /* GET_FEATURES (last answer) */
    uint64_t pfeatures_offered;  /* GET_PROTOCOL_FEATURES */
    uint64_t features;           /* sent with SET_FEATURES (0 until then) */
    uint64_t pfeatures;          /* sent with SET_PROTOCOL_FEATURES */
    bool features_set;
    bool pfeatures_set;
    uint64_t queue_num;          /* GET_QUEUE_NUM, 0 if not asked */
    uint64_t max_mem_slots;      /* GET_MAX_MEM_SLOTS, 0 if not asked */
    uint8_t status;              /* last device status sent */
    bool postcopy;

    /* Inflight I/O tracking buffer (GET_INFLIGHT_FD), -1 when none. */
    int inflight_fd;
    VhostUserInflight inflight;

    /* Memory and rings. */
    VcGmem *gm;
    unsigned n_published_regions;
    bool region_published[VC_GMEM_MAX_REGIONS];
    unsigned num_queues;
    VcFeQueue q[VC_FE_MAX_QUEUES];
    uint32_t vring_base[VC_FE_MAX_QUEUES];   /* last GET_VRING_BASE answer */
    uint64_t inband_calls[VC_FE_MAX_QUEUES]; /* BACKEND_VRING_CALL messages per ring */
    uint64_t inband_errs[VC_FE_MAX_QUEUES];  /* BACKEND_VRING_ERR messages per ring */

    bool ack_all;                /* NEED_REPLY on every ack-type request (REPLY_ACK tests) */
    bool reconnected;            /* vc_fe_reconnect(): rings resume from used->idx, no GET_CONFIG */
    uint8_t config[VHOST_USER_MAX_CONFIG_SIZE]; /* config space read at realize */
    uint32_t config_got;         /* its length, 0 if not read */

    /* Dirty log (SET_LOG_BASE with LOG_SHMFD). */
    int log_fd;
    uint8_t *log;
    uint64_t log_size;
    bool log_all;                /* VHOST_F_LOG_ALL is in the features sent */
    bool log_rings;              /* SET_VRING_ADDR carries VHOST_VRING_F_LOG */
    uint64_t log_used_offset;    /* log_guest_addr = used ring gpa + this */

    /* IOMMU: with VIRTIO_F_ACCESS_PLATFORM, ring and descriptor addresses are iova = gpa + iova_offset. */
    bool iommu;
    uint64_t iova_offset;
    bool iotlb_answer;           /* answer misses with updates (default true) */
    uint64_t iotlb_misses;       /* BACKEND_IOTLB_MSG misses received */
    uint64_t iotlb_bad_misses;   /* misses with a bad type or perm */
    uint64_t iotlb_access_fails; /* BACKEND_IOTLB_MSG access failures (type 4) */
    uint64_t iotlb_updates;      /* IOTLB_MSG updates sent */
    uint64_t iotlb_last_iova;    /* of the last miss received */
    uint8_t iotlb_last_perm;
    /* Misses that arrived while a main-socket request waited for its reply: answered when it
     * is done (QEMU serves the back-end channel only between requests). */
    struct {
        VhostUserHeader hdr;
        struct vhost_iotlb_msg msg;
    } iotlb_pending[16];
    unsigned n_iotlb_pending;
    unsigned req_depth;          /* main-socket requests in progress (nested by misses) */
    bool iotlb_flushing;

    /* Postcopy (vhost-user.rst "Migrating back ends with postcopy"; vc-postcopy.c). */
    int uffd;                    /* our copy of the daemon's userfaultfd, or -1 */
    uint64_t pc_base[VC_GMEM_MAX_REGIONS];  /* the daemon's address of each region (its reply) */
    bool pc_resolve;             /* page faults are answered (default true) */
    uint64_t pc_faults;          /* page faults read from the userfaultfd */
    uint64_t pc_early_faults;    /* faults, or punched pages found resident without one,
                                  * before the postcopy memory-table ack went out */
    bool pc_awaiting_ack;        /* a postcopy table went out, its ack not yet */
    uint64_t pc_unknown_faults;  /* faults at addresses outside every region the daemon named */
    uint64_t pc_last_fault;      /* the daemon's address of the last fault (or early touch:
                                  * its guest address) */
    GHashTable *pc_saved;        /* guest page number -> its content before it was punched */
    GHashTable *pc_faulted;      /* guest page numbers that faulted */

    /* VIRTIO Shared Memory Regions (vc-shmem.c). */
    VcFeShm shm;

    /* Observations, in order. */
    GArray *obs;                 /* of VcObs */
    bool broken;                 /* a timeout or desync happened: no more requests */

    /* Requests sent that asked for no reply: ids of the last few, to recognise stray acks. */
    uint32_t noreply_ring[16];
    unsigned noreply_pos;
} VcFrontend;

/**
 * vc_fe_new:
 * @sock: connected socket to the daemon; ownership passes to the front end
 * @cfg: (nullable): configuration, copied
 *
 * Returns: (transfer full): a front end that has sent nothing yet.
 */
VcFrontend *vc_fe_new(int sock, const VcFeConfig *cfg);

/** vc_fe_free: closes the connections and frees rings and memory. NULL is allowed. */
void vc_fe_free(VcFrontend *fe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcFrontend, vc_fe_free)

/**
 * vc_fe_set_tap:
 * Installs @tap on the main socket and, once it exists, the back-end channel.
 */
void vc_fe_set_tap(VcFrontend *fe, VcConnTap tap, void *opaque);

/**
 * vc_fe_set_vq_tap:
 * Installs a datapath tap (kicks, calls, chains) on every ring, present and future.
 */
void vc_fe_set_vq_tap(VcFrontend *fe, VcVqTap tap, void *opaque);

/* --- Generic messaging --------------------------------------------------- */

/**
 * vc_fe_request:
 * @fe: front end
 * @req: request to send (its fds stay owned by the caller)
 * @reply: (out) (optional): the reply when one is due; its fds are the
 *         caller's. For an ack, reply->payload.u64 holds the status.
 * @error: set on failure
 *
 * Sends @req and, when vc_msg_needs_reply() says a reply is due, waits for
 * it (answering the back-end channel meanwhile). The reply is checked with
 * vc_msg_check_reply(): a wrong request id or size is a VC_ERROR_PROTOCOL
 * error; wrong flags alone are recorded as a VC_OBS_REPLY_FAULT and the
 * reply is used. A non-zero ack is a VC_ERROR_NACK error.
 *
 * Returns: true on success.
 */
bool vc_fe_request(VcFrontend *fe, VcMsg *req, VcMsg *reply, GError **error);

/**
 * vc_fe_request_split:
 * @split_at: bytes of the message (header included) sent first, with the fds
 * @delay_ms: pause before the rest is sent
 *
 * Like vc_fe_request() but the message is sent in two segments, as a
 * stream may deliver it (VU-HDR-06).
 */
bool vc_fe_request_split(VcFrontend *fe, VcMsg *req, size_t split_at, int delay_ms, VcMsg *reply,
                         GError **error);

/**
 * vc_fe_simple:
 * @request: request id
 * @u64: payload for VC_PL_U64 requests (ignored for others)
 * @ack: set NEED_REPLY when REPLY_ACK was negotiated
 * @out: (out) (optional): the u64 reply of a request that always answers
 *
 * For requests with no payload or a u64 payload.
 */
bool vc_fe_simple(VcFrontend *fe, uint32_t request, uint64_t u64, bool ack, uint64_t *out,
                  GError **error);

/**
 * vc_fe_vring_state:
 * For requests with a vring state payload (SET_VRING_NUM/BASE/ENABLE,
 * GET_VRING_BASE). @out gets the reply's num when one is due.
 */
bool vc_fe_vring_state(VcFrontend *fe, uint32_t request, uint32_t index, uint32_t num, bool ack,
                       uint32_t *out, GError **error);

/**
 * vc_fe_want_ack:
 * Returns: VHOST_USER_NEED_REPLY_MASK when REPLY_ACK is negotiated, else 0.
 * For a caller that wants an ack on a request whatever the profile does
 * (the profile's own choices are applied by vc_fe_request()).
 */
uint32_t vc_fe_want_ack(const VcFrontend *fe);

/**
 * vc_fe_expect_silence:
 * @ms: how long to watch
 * @stray: (out) (optional): the first message that arrived (fds closed)
 *
 * Returns: true when nothing arrived on the main socket within @ms (the
 * back-end channel is served meanwhile).
 */
bool vc_fe_expect_silence(VcFrontend *fe, int ms, VcMsg *stray);

/**
 * vc_fe_service:
 * Serves the back-end channel for up to @ms (0: what is already waiting).
 * Returns: number of back-end messages handled.
 */
unsigned vc_fe_service(VcFrontend *fe, int ms);

/* --- Typed requests ------------------------------------------------------- */

bool vc_fe_get_features(VcFrontend *fe, uint64_t *out, GError **error);
bool vc_fe_set_features(VcFrontend *fe, uint64_t features, GError **error);
bool vc_fe_get_protocol_features(VcFrontend *fe, uint64_t *out, GError **error);
bool vc_fe_set_protocol_features(VcFrontend *fe, uint64_t pfeatures, GError **error);
bool vc_fe_set_owner(VcFrontend *fe, GError **error);

/**
 * vc_fe_set_backend_req_fd:
 * Creates the back-end channel (a socketpair), sends one end and keeps the other.
 */
bool vc_fe_set_backend_req_fd(VcFrontend *fe, GError **error);

/**
 * vc_fe_setup_memory:
 * Creates guest memory for cfg.mem_layout (once) without publishing it.
 */
bool vc_fe_setup_memory(VcFrontend *fe, GError **error);

/**
 * vc_fe_publish_memory:
 * Publishes every live region: SET_MEM_TABLE, or ADD_MEM_REG per new region
 * when CONFIGURE_MEM_SLOTS is negotiated and cfg.no_mem_slots is false.
 */
bool vc_fe_publish_memory(VcFrontend *fe, GError **error);

/** vc_fe_set_mem_table: sends SET_MEM_TABLE with every live region (at most 8). */
bool vc_fe_set_mem_table(VcFrontend *fe, GError **error);

/**
 * vc_fe_add_mem_reg: sends ADD_MEM_REG for region @idx. In postcopy the
 * reply names the daemon's base and the caller sends the ack
 * (vc_fe_postcopy_ack()) after its last region; vc_fe_publish_memory() does.
 */
bool vc_fe_add_mem_reg(VcFrontend *fe, unsigned idx, GError **error);

/**
 * vc_fe_rem_mem_reg:
 * Sends REM_MEM_REG for region @idx, with @mmap_offset_delta added to the
 * region's mmap_offset (the spec says it is ignored) and @extra_fd attached
 * when >= 0 (the spec says it is closed unused).
 */
bool vc_fe_rem_mem_reg(VcFrontend *fe, unsigned idx, uint64_t mmap_offset_delta, int extra_fd,
                       GError **error);

/**
 * vc_fe_create_queue:
 * Allocates ring @q in guest memory (cfg ring size, EVENT_IDX/INDIRECT as
 * negotiated) and gives it its notifiers. Sends nothing.
 */
bool vc_fe_create_queue(VcFrontend *fe, unsigned q, GError **error);

/**
 * vc_fe_queue_notifiers:
 * Creates ring @q's kick, call, err and masked-call notifiers (once) per
 * cfg.kick and cfg.call.
 */
bool vc_fe_queue_notifiers(VcFrontend *fe, unsigned q, GError **error);

/**
 * vc_fe_alloc_buffer:
 * Allocates @size bytes of guest memory for buffers, in the highest region
 * with room (so that buffers sit above 4 GiB in the QEMU layout).
 * Returns: our pointer, or NULL.
 */
void *vc_fe_alloc_buffer(VcFrontend *fe, uint64_t size, uint64_t align, uint64_t *gpa);

/**
 * vc_fe_make_notifier:
 * @kind: eventfd, pipe or none
 * @ours: (out): the end the front end keeps (-1 for none)
 * @theirs: (out): the end sent to the daemon (-1 for none)
 * @kick: true for a kick notifier (we write, they read), false for call/err
 */
bool vc_fe_make_notifier(VcNotify kind, bool kick, int *ours, int *theirs, GError **error);

bool vc_fe_set_vring_num(VcFrontend *fe, unsigned q, GError **error);
bool vc_fe_set_vring_base(VcFrontend *fe, unsigned q, uint32_t base, GError **error);
bool vc_fe_set_vring_addr(VcFrontend *fe, unsigned q, GError **error);

/**
 * vc_fe_set_vring_fd:
 * @request: SET_VRING_KICK, SET_VRING_CALL or SET_VRING_ERR
 * @fd: fd to send (not closed), or -1 to send the NOFD bit
 */
bool vc_fe_set_vring_fd(VcFrontend *fe, uint32_t request, unsigned q, int fd, GError **error);

/** vc_fe_set_vring_kick: sends ring @q's kick notifier (NOFD for VC_NOTIFY_NONE). */
bool vc_fe_set_vring_kick(VcFrontend *fe, unsigned q, GError **error);

/** vc_fe_set_vring_call: sends ring @q's call notifier (NOFD for VC_NOTIFY_NONE). */
bool vc_fe_set_vring_call(VcFrontend *fe, unsigned q, GError **error);

/**
 * vc_fe_swap_call:
 * Gives ring @q a new call notifier of the same kind (SET_VRING_CALL) while
 * it runs. @old_fd gets our end of the previous one (the caller owns it).
 */
bool vc_fe_swap_call(VcFrontend *fe, unsigned q, int *old_fd, GError **error);

/** vc_fe_set_vring_err: sends ring @q's err eventfd. */
bool vc_fe_set_vring_err(VcFrontend *fe, unsigned q, GError **error);

bool vc_fe_set_vring_enable(VcFrontend *fe, unsigned q, bool on, GError **error);

/**
 * vc_fe_get_vring_base:
 * Stops ring @q. @out gets the 32-bit answer (split: next avail index in
 * bits 0..15).
 */
bool vc_fe_get_vring_base(VcFrontend *fe, unsigned q, uint32_t *out, GError **error);

/**
 * vc_fe_setup_vring:
 * SET_VRING_NUM, SET_VRING_BASE (cfg.start_idx), SET_VRING_ADDR and, when
 * @kick_too, SET_VRING_KICK for ring @q (created if needed), in QEMU's order.
 */
bool vc_fe_setup_vring(VcFrontend *fe, unsigned q, bool kick_too, GError **error);

bool vc_fe_set_status(VcFrontend *fe, uint8_t status, GError **error);

/**
 * vc_fe_get_inflight_fd:
 * GET_INFLIGHT_FD for cfg's queue count and ring size; the buffer and its
 * description are kept in fe->inflight_fd and fe->inflight.
 */
bool vc_fe_get_inflight_fd(VcFrontend *fe, GError **error);

/** vc_fe_set_inflight_fd: SET_INFLIGHT_FD with fe->inflight_fd. */
bool vc_fe_set_inflight_fd(VcFrontend *fe, GError **error);

/**
 * vc_fe_get_config:
 * GET_CONFIG of @size bytes at @offset. @out gets the bytes; @got their
 * number (0 when the daemon answered with an empty payload: an error).
 */
bool vc_fe_get_config(VcFrontend *fe, uint32_t offset, uint32_t size, uint8_t *out,
                      uint32_t *got, GError **error);

/**
 * vc_fe_set_config:
 * SET_CONFIG of @size bytes at @offset with @flags (0: the front end, 1:
 * migration), with NEED_REPLY when REPLY_ACK is negotiated.
 */
bool vc_fe_set_config(VcFrontend *fe, uint32_t offset, uint32_t size, uint32_t flags,
                      const uint8_t *data, GError **error);

/**
 * vc_fe_set_device_state_fd:
 * @direction: VHOST_TRANSFER_STATE_DIRECTION_SAVE or _LOAD
 * @phase: VHOST_TRANSFER_STATE_PHASE_STOPPED (0), or another value to test
 * @reply: (out): the u64 answer
 * @fd: (out): the fd to read the state from (save) or write it to (load):
 *      the daemon's own when it returned one, else our end of the pipe; -1
 *      on error. Owned by the caller.
 * @returned_fd: (out) (optional): true when the daemon returned its own fd
 */
bool vc_fe_set_device_state_fd(VcFrontend *fe, uint32_t direction, uint32_t phase,
                               uint64_t *reply, int *fd, bool *returned_fd, GError **error);

/** vc_fe_check_device_state: CHECK_DEVICE_STATE; @result gets the u64. */
bool vc_fe_check_device_state(VcFrontend *fe, uint64_t *result, GError **error);

/**
 * vc_fe_reconnect:
 * @sock: a new connected socket to a (possibly new) daemon process
 *
 * QEMU's reconnect (vhost-user.rst; SPEC-FACTS 6.4): the old connection is
 * dropped, guest memory, rings, notifiers and the inflight buffer are kept;
 * vc_fe_init() then runs the whole realize again but GET_CONFIG, and
 * vc_fe_start() sets every ring up with SET_VRING_BASE = used->idx.
 */
void vc_fe_reconnect(VcFrontend *fe, int sock);

/* --- Postcopy (vc-postcopy.c) ------------------------------------------------------- */

/**
 * vc_fe_postcopy_advise:
 * POSTCOPY_ADVISE: the reply (size 0) must carry the daemon's userfaultfd,
 * kept in fe->uffd (non-blocking). Returns: false with @error on a bad reply.
 */
bool vc_fe_postcopy_advise(VcFrontend *fe, GError **error);

/**
 * vc_fe_postcopy_listen:
 * POSTCOPY_LISTEN (NEED_REPLY, as QEMU sends it). From then on the memory
 * table goes out the postcopy way: SET_MEM_TABLE (or each ADD_MEM_REG) is
 * answered with the daemon's mapping bases (fe->pc_base), and an ack
 * (the same request, a u64 0) follows once the front end can serve faults.
 */
bool vc_fe_postcopy_listen(VcFrontend *fe, GError **error);

/** vc_fe_postcopy_end: POSTCOPY_END; @status gets the u64 answer. Closes fe->uffd. */
bool vc_fe_postcopy_end(VcFrontend *fe, uint64_t *status, GError **error);

/**
 * vc_fe_postcopy_punch:
 * Makes the guest pages covering [@gpa, @gpa + @len) "not arrived yet":
 * their content is saved and the memfd range is punched out, so that the
 * daemon's next access faults. A fault is answered with the saved page
 * (UFFDIO_COPY on the daemon's userfaultfd), the way QEMU places a page
 * that arrived. The harness must not touch these pages itself meanwhile.
 */
bool vc_fe_postcopy_punch(VcFrontend *fe, uint64_t gpa, uint64_t len, GError **error);

/**
 * vc_fe_postcopy_serve:
 * Reads every pending fault from fe->uffd and, with fe->pc_resolve, answers
 * it. vc_fe_service() and every wait for a reply call it. Returns: faults read.
 */
unsigned vc_fe_postcopy_serve(VcFrontend *fe);

/* Internal: the postcopy half of publishing memory (vc-frontend.c calls these). */
bool vc_fe_postcopy_took_table(VcFrontend *fe, const VcMsg *req, const VcMsg *reply,
                               GError **error);
bool vc_fe_postcopy_ack(VcFrontend *fe, uint32_t request, GError **error);
void vc_fe_postcopy_free(VcFrontend *fe);

/* --- VIRTIO Shared Memory Regions (vc-shmem.c) ------------------------------------ */

/**
 * vc_fe_get_shmem_config:
 * @out: (out) (optional): the answer, as received
 *
 * GET_SHMEM_CONFIG (vhost-user.rst; QEMU sends it when a vhost-user-base
 * device is realized). The reply must be the 2056-byte
 * VhostUserShMemConfig, else a VC_ERROR_PROTOCOL error. Its sizes become
 * the regions that BACKEND_SHMEM_MAP/UNMAP are checked against (fe->shm);
 * a region whose size changed loses its mappings. Nothing in the answer is
 * judged here.
 *
 * Returns: false with @error when SHMEM is not negotiated (VC_ERROR_UNSUPPORTED)
 * or the request failed.
 */
bool vc_fe_get_shmem_config(VcFrontend *fe, VhostUserShMemConfig *out, GError **error);

/** vc_fe_shm_live: Returns: the number of live mappings. */
guint vc_fe_shm_live(const VcFrontend *fe);

/** vc_fe_shm_map: Returns: live mapping @i (owned by @fe, valid until the table changes). */
const VcFeShmMap *vc_fe_shm_map(const VcFrontend *fe, guint i);

/*
 * Internal (vc-frontend.c calls these): a BACKEND_SHMEM_MAP/UNMAP with the
 * codec's @faults, answered with the returned status; RESET_DEVICE; the end.
 */
uint64_t vc_fe_shm_handle(VcFrontend *fe, const VcMsg *m, unsigned faults);
void vc_fe_shm_reset(VcFrontend *fe);
void vc_fe_shm_free(VcFrontend *fe);

/**
 * vc_fe_set_log_base:
 * Creates a log memfd covering guest addresses up to the highest region
 * end (plus @extra bytes of guest address space) and sends SET_LOG_BASE.
 */
bool vc_fe_set_log_base(VcFrontend *fe, uint64_t extra, GError **error);

/** vc_fe_log_page: Returns: whether the log bit of guest page @page is set. */
bool vc_fe_log_page(const VcFrontend *fe, uint64_t page);

/**
 * vc_fe_set_logging:
 * Turns dirty logging on or off as QEMU does: SET_FEATURES with or without
 * VHOST_F_LOG_ALL (acked), and SET_VRING_ADDR with VHOST_VRING_F_LOG for
 * every set-up ring when @rings.
 */
bool vc_fe_set_logging(VcFrontend *fe, bool on, bool rings, GError **error);

/**
 * vc_fe_iotlb_update:
 * IOTLB_MSG update for [@iova, @iova + @size) read-write, to the user
 * address of the guest memory it stands for. Returns: false with @error
 * on a non-zero reply.
 */
bool vc_fe_iotlb_update(VcFrontend *fe, uint64_t iova, uint64_t size, GError **error);

/**
 * vc_fe_iotlb_raw:
 * Sends the IOTLB_MSG @im as it is (NEED_REPLY set, as QEMU does) and puts
 * the daemon's u64 answer in @status, whatever its value.
 * Returns: false when no well-formed answer came (@error set).
 */
bool vc_fe_iotlb_raw(VcFrontend *fe, const struct vhost_iotlb_msg *im, uint64_t *status,
                     GError **error);

/** vc_fe_iotlb_invalidate: IOTLB_MSG invalidate for [@iova, @iova + @size). */
bool vc_fe_iotlb_invalidate(VcFrontend *fe, uint64_t iova, uint64_t size, GError **error);

/** vc_fe_vring_kick_inband: VRING_KICK for ring @q (INBAND_NOTIFICATIONS). */
bool vc_fe_vring_kick_inband(VcFrontend *fe, unsigned q, GError **error);
bool vc_fe_get_status(VcFrontend *fe, uint8_t *out, GError **error);

/* --- Lifecycle --------------------------------------------------------------- */

/**
 * vc_fe_negotiate_features:
 * Returns: the features the front end will ack: offered & profile mask &
 * (transport bits QEMU passes through | cfg driver features), with bit 30
 * unless cfg.no_protocol_features.
 */
uint64_t vc_fe_negotiate_features(const VcFrontend *fe);

/**
 * vc_fe_run_steps:
 * Runs @steps (terminated by VC_STEP_END) of a profile.
 */
bool vc_fe_run_steps(VcFrontend *fe, const VcStep *steps, GError **error);

/** vc_fe_init: runs the profile's connect-time steps (QEMU's realize). */
bool vc_fe_init(VcFrontend *fe, GError **error);

/** vc_fe_start: runs the profile's device-start steps: the rings then run. */
bool vc_fe_start(VcFrontend *fe, GError **error);

/** vc_fe_stop: runs the profile's stop steps (disable, GET_VRING_BASE, status 0). */
bool vc_fe_stop(VcFrontend *fe, GError **error);

/* --- Observations -------------------------------------------------------- */

/** vc_fe_obs_count: Returns: the number of observations so far. */
guint vc_fe_obs_count(const VcFrontend *fe);

/** vc_fe_obs: Returns: observation @i (owned by @fe). */
const VcObs *vc_fe_obs(const VcFrontend *fe, guint i);

/** vc_fe_has_pfeature: Returns: true when protocol feature @bit was negotiated. */
static inline bool
vc_fe_has_pfeature(const VcFrontend *fe, unsigned bit)
{
    return (fe->pfeatures >> bit) & 1;
}

/** vc_fe_has_feature: Returns: true when virtio feature @bit was negotiated (sent). */
static inline bool
vc_fe_has_feature(const VcFrontend *fe, unsigned bit)
{
    return (fe->features >> bit) & 1;
}

#endif /* VC_FRONTEND_H */
