/*
 * vc-drv-fs.h -- the driver side of virtio-fs (virtio 1.x section 5.11,
 * device id 26): FUSE requests (<linux/fuse.h>) carried over virtqueues.
 *
 * Ring 0 is the hiprio queue (FUSE_FORGET, FUSE_INTERRUPT, BATCH_FORGET
 * only), ring 1 the first request queue. A request is one chain: struct
 * fuse_in_header plus the request's arguments (device-readable), then
 * struct fuse_out_header plus room for the reply (device-writable; absent
 * for requests without a reply such as FUSE_FORGET). FUSE_INIT must be the
 * first request of a session and must have completed before any other
 * request is made available (virtio 1.x 5.11.6.1: the device processes
 * requests in any order; the driver makes a dependent request available
 * only after its prerequisite was used).
 *
 * FUSE byte order is the driver's choice (announced by FUSE_INIT): this
 * driver uses the host's. Buffers of the pool are allocated in guest memory
 * when the driver is created; requests never allocate. Before a request is
 * posted its writable part is filled with the guard pattern, so that the
 * driver can tell what the device wrote. The driver decides no verdict: it
 * records the reply and its structural faults, and the typed helpers turn a
 * malformed reply into a VC_ERROR_PROTOCOL error.
 */
#ifndef VC_DRV_FS_H
#define VC_DRV_FS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <linux/fuse.h>

#include "vc-frontend.h"
#include "vc-traffic.h"

#define VC_FS_HIPRIO_QUEUE   0
#define VC_FS_REQUEST_QUEUE  1
#define VC_FS_FUSE_MAJOR     7
/* FUSE 7.31 is the first minor version with virtio-fs (Linux 5.4); virtiofsd needs >= 7.31. */
#define VC_FS_FUSE_MINOR     31
#define VC_FS_OUT_HDR        ((uint32_t)sizeof(struct fuse_out_header))
#define VC_FS_IN_HDR         ((uint32_t)sizeof(struct fuse_in_header))

/* VcFsReply.faults: how a reply departs from the FUSE framing. */
#define VC_FS_FAULT_SHORT      (1u << 0)  /* used.len < sizeof(struct fuse_out_header) */
#define VC_FS_FAULT_OVERFLOW   (1u << 1)  /* used.len > the writable bytes of the chain */
#define VC_FS_FAULT_LEN        (1u << 2)  /* out.len != used.len */
#define VC_FS_FAULT_UNIQUE     (1u << 3)  /* out.unique != the request's unique */
#define VC_FS_FAULT_ERRNO      (1u << 4)  /* out.error > 0 or below -4095 */
#define VC_FS_FAULT_ERR_DATA   (1u << 5)  /* out.error != 0 with reply data after the header */
#define VC_FS_FAULT_UNWRITTEN  (1u << 6)  /* bytes inside used.len were never written */

/** VcFsReply: a completed request as the driver read it back. */
typedef struct VcFsReply {
    uint32_t opcode;
    uint64_t unique;
    uint32_t used_len;
    struct fuse_out_header hdr;   /* copied out of guest memory (zero when used.len < 16) */
    const uint8_t *data;          /* our pointer to the reply data after the header */
    uint32_t data_len;            /* min(out.len, used.len) - 16, 0 if none */
    unsigned faults;              /* VC_FS_FAULT_* */
} VcFsReply;

/** VcFsReq: one request slot of the pool and what came back for it. */
typedef struct VcFsReq {
    uint64_t in_gpa;            /* device-readable: header + arguments */
    uint32_t in_cap;
    uint64_t out_gpa;           /* device-writable: out header + reply */
    uint32_t out_cap;

    /* As posted. */
    uint32_t opcode;
    uint64_t unique;
    uint64_t nodeid;
    uint32_t in_len;
    uint32_t out_len;           /* writable bytes in the chain; 0: none (FORGET) */
    uint64_t poison;            /* non-zero: the writable buffer was posted at this address */
    bool posted;

    /* What came back (last completion). */
    uint32_t completions;
    uint32_t used_len;
    bool readable_changed;      /* the device wrote into the request header */
} VcFsReq;

typedef struct VcFsDrv {
    VcFrontend *fe;
    unsigned q;
    VcVq *vq;
    VcFsReq *req;               /* pool of n slots */
    unsigned n;
    unsigned next;
    uint64_t next_unique;       /* FUSE unique ids, never 0 */
    unsigned add_flags;         /* VC_ADD_INDIRECT */
    int timeout_ms;             /* deadline of the typed helpers */
    unsigned bad_id;            /* used ids out of range or not in flight */
    uint32_t last_bad_id;
    VcFsReply last;             /* the reply of the last typed helper call */
    uint32_t minor;             /* FUSE minor version in use after vc_fs_init() */
} VcFsDrv;

/* --- Builders and parsers (pure) -------------------------------------------------------- */

/**
 * vc_fs_build:
 * @buf: where the device-readable part goes
 * @cap: its size
 * @a: (nullable): first argument block (e.g. struct fuse_read_in), @alen bytes
 * @b: (nullable): second block (a name with its NUL, or WRITE data), @blen bytes
 *
 * Writes struct fuse_in_header (len = total, uid/gid 0, pid @pid) and the
 * arguments.
 *
 * Returns: bytes written, or 0 when they do not fit in @cap.
 */
uint32_t vc_fs_build(uint8_t *buf, uint32_t cap, uint32_t opcode, uint64_t unique,
                     uint64_t nodeid, uint32_t pid, const void *a, uint32_t alen, const void *b,
                     uint32_t blen);

/**
 * vc_fs_parse_reply:
 * @out: the writable part as the device left it
 * @out_len: writable bytes in the chain
 * @used_len: used.len of the chain
 * @unique: the request's unique id
 * @rep: (out): header, data pointer into @out and faults
 *
 * Judges only the framing (VC_FS_FAULT_*), not the reply's meaning.
 * VC_FS_FAULT_UNWRITTEN needs the guard pattern and is added by the driver.
 */
void vc_fs_parse_reply(const uint8_t *out, uint32_t out_len, uint32_t used_len, uint64_t unique,
                       VcFsReply *rep);

/** vc_fs_opcode_name: Returns: "INIT", "LOOKUP", ... or "opcode N" (static storage). */
const char *vc_fs_opcode_name(uint32_t opcode);

/** vc_fs_faults_text: Returns: @buf with the fault bits of @faults in words. */
const char *vc_fs_faults_text(unsigned faults, char *buf, size_t len);

/* --- The pool ---------------------------------------------------------------------------- */

/**
 * vc_fs_new:
 * @fe: a front end whose ring @q exists
 * @q: ring index (VC_FS_HIPRIO_QUEUE or a request queue)
 * @n: slots (1..ring size)
 * @in_cap: device-readable bytes per slot (header included)
 * @out_cap: device-writable bytes per slot (out header included)
 *
 * Returns: (transfer full): the driver, or NULL with @error set.
 */
VcFsDrv *vc_fs_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t in_cap, uint32_t out_cap,
                   GError **error);

/** vc_fs_free: frees the driver (buffers stay in guest memory). NULL is fine. */
void vc_fs_free(VcFsDrv *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcFsDrv, vc_fs_free)

/**
 * vc_fs_queue:
 * @reply_cap: writable bytes to offer, out header included (0: none)
 *
 * Builds a request in an idle slot (vc_fs_build()), fills its writable part
 * with the guard and adds the chain without publishing.
 *
 * Returns: the slot, -EBUSY when every slot is in flight, -ENOSPC when the
 * ring is full, -EINVAL when the request does not fit the slot.
 */
int vc_fs_queue(VcFsDrv *d, uint32_t opcode, uint64_t nodeid, const void *a, uint32_t alen,
                const void *b, uint32_t blen, uint32_t reply_cap);

/** vc_fs_kick: publishes and notifies (vc_vq_notify()). */
int vc_fs_kick(VcFsDrv *d);

/** vc_fs_reap: reaps every used entry. Returns: entries reaped (bad ids included). */
unsigned vc_fs_reap(VcFsDrv *d);

/**
 * vc_fs_wait_slot:
 * Reaps until slot @slot came back or @timeout_ms passed (sleeping on the
 * call fd or polling; the back-end channel is served).
 * Returns: true when it came back.
 */
bool vc_fs_wait_slot(VcFsDrv *d, unsigned slot, int timeout_ms);

/**
 * vc_fs_reply:
 * Reads slot @slot's completion into @rep (vc_fs_parse_reply() plus
 * VC_FS_FAULT_UNWRITTEN). @rep->data points into guest memory.
 */
void vc_fs_reply(const VcFsDrv *d, unsigned slot, VcFsReply *rep);

/**
 * vc_fs_call:
 * Queues one request, kicks, waits up to d->timeout_ms and reads the reply
 * into d->last. Framing faults are left in d->last.faults.
 *
 * Returns: true when the request came back; false with VC_ERROR_TIMEOUT
 * (not completed) or a vc_fs_queue() failure.
 */
bool vc_fs_call(VcFsDrv *d, uint32_t opcode, uint64_t nodeid, const void *a, uint32_t alen,
                const void *b, uint32_t blen, uint32_t reply_cap, GError **error);

/** vc_fs_in_flight: Returns: slots posted and not yet returned. */
unsigned vc_fs_in_flight(const VcFsDrv *d);

/** vc_fs_skip_ranges: adds the ring and every buffer of the pool to @out. */
void vc_fs_skip_ranges(const VcFsDrv *d, GArray *out);

/* --- Typed requests -------------------------------------------------------------------------
 * Each sends one request with vc_fs_call() and copies the reply. They return
 * false with @error set when the request did not come back (TIMEOUT) or its
 * reply is malformed (PROTOCOL: framing faults, or an answer with error 0
 * that is shorter than its reply struct). A FUSE error (out.error < 0) is
 * not a failure: it is in d->last.hdr.error, and the reply struct is zeroed.
 */

/**
 * vc_fs_init:
 * FUSE_INIT 7.@minor with no flags. On success d->minor is the minor
 * version both sides use (the smaller one).
 */
bool vc_fs_init(VcFsDrv *d, uint32_t minor, struct fuse_init_out *out, GError **error);

bool vc_fs_lookup(VcFsDrv *d, uint64_t parent, const char *name, struct fuse_entry_out *out,
                  GError **error);
bool vc_fs_getattr(VcFsDrv *d, uint64_t nodeid, struct fuse_attr_out *out, GError **error);
bool vc_fs_open(VcFsDrv *d, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out,
                GError **error);

/**
 * vc_fs_read:
 * @buf: (out): at least @size bytes
 * @got: (out): bytes the reply carried
 */
bool vc_fs_read(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint64_t offset, uint32_t size,
                void *buf, uint32_t *got, GError **error);

/** vc_fs_write: @written gets fuse_write_out.size. */
bool vc_fs_write(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint64_t offset, const void *data,
                 uint32_t size, uint32_t *written, GError **error);
bool vc_fs_release(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint32_t flags, GError **error);

/** vc_fs_create: FUSE_CREATE of @name in @parent; the reply is an entry then an open reply. */
bool vc_fs_create(VcFsDrv *d, uint64_t parent, const char *name, uint32_t flags, uint32_t mode,
                  struct fuse_entry_out *entry, struct fuse_open_out *open, GError **error);

/**
 * vc_fs_forget:
 * FUSE_FORGET of @nlookup references to @nodeid, with no writable part
 * (FORGET has no reply): meant for the hiprio queue. Returns: true when the
 * chain came back; d->last.used_len holds its used.len.
 */
bool vc_fs_forget(VcFsDrv *d, uint64_t nodeid, uint64_t nlookup, GError **error);

/*
 * fs requests as generic traffic: FUSE_GETATTR of the root (nodeid 1) on
 * the request queue (ring 1), after a FUSE_INIT done by create(). The INIT
 * is the driver's own: it is not counted by post, reap or in_flight, and
 * when the ring already runs it is hidden from the ring indices by
 * restarting the ring at its base (stop, then QEMU's ring set-up again).
 */
extern const VcTrafficOps vc_fs_traffic_ops;

#endif /* VC_DRV_FS_H */
