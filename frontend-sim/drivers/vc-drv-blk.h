/*
 * vc-drv-blk.h -- the driver side of virtio-blk (virtio 1.x section 5.2,
 * device id 2), with the structs and constants of <linux/virtio_blk.h>.
 *
 * A request is one chain: struct virtio_blk_outhdr (device-readable), then
 * the data buffer (device-readable for OUT, DISCARD and WRITE_ZEROES
 * payloads, device-writable for IN and GET_ID, absent for FLUSH), then the
 * status byte (device-writable, always last). Any type number can be sent,
 * so that checks can ask for types the device does not know.
 *
 * Every buffer of the pool is allocated in guest memory when the driver is
 * created; posting and reaping never allocate. Before a request is posted
 * its writable bytes (data and status) are filled with the guard pattern
 * (VC_GMEM_GUARD), and on completion the driver records what the device
 * did: used.len, the status byte and which writable bytes it wrote. The
 * driver decides no verdict.
 */
#ifndef VC_DRV_BLK_H
#define VC_DRV_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <linux/virtio_blk.h>

#include "vc-frontend.h"
#include "vc-traffic.h"

#define VC_BLK_SECTOR_SIZE 512u
#define VC_BLK_MAX_SEGS    8     /* data descriptors per request */

/* Unknown-status marker in VcBlkReq.status: the device left the guard byte. */
#define VC_BLK_STATUS_NONE (-1)

/** VcBlkDir: where the data buffer sits in the chain. */
typedef enum VcBlkDir {
    VC_BLK_DIR_NONE,   /* header and status only (FLUSH) */
    VC_BLK_DIR_OUT,    /* device-readable data (OUT, DISCARD, WRITE_ZEROES) */
    VC_BLK_DIR_IN,     /* device-writable data (IN, GET_ID) */
} VcBlkDir;

/** VcBlkCmd: one request to make. */
typedef struct VcBlkCmd {
    uint32_t type;         /* VIRTIO_BLK_T_* or any other number */
    uint64_t sector;       /* in 512-byte units */
    VcBlkDir dir;
    uint32_t len;          /* data bytes (0 with VC_BLK_DIR_NONE), at most the pool's data size */
    const void *payload;   /* VC_BLK_DIR_OUT: @len bytes copied into the data buffer; NULL: zeros */
    unsigned nseg;         /* data split over this many descriptors (0 or 1: one) */
} VcBlkCmd;

/** VcBlkReq: one request slot of the pool and what came back for it. */
typedef struct VcBlkReq {
    /* Guest buffers, fixed when the pool is made (relocation moves them). */
    uint64_t hdr_gpa;              /* struct virtio_blk_outhdr, 16 bytes */
    uint64_t data_gpa;             /* data_cap bytes */
    uint64_t status_gpa;           /* 1 byte */
    uint32_t data_cap;

    /* The request as posted (payload pointer not kept). */
    VcBlkCmd cmd;
    bool posted;                   /* handed to the device, not yet returned */
    uint64_t poison;               /* non-zero: the data buffer was posted at this address */

    /* What came back (last completion). */
    uint32_t completions;
    uint32_t used_len;
    int status;                    /* status byte, or VC_BLK_STATUS_NONE if left as the guard */
    uint32_t writable;             /* device-writable bytes in the chain: data (IN) + status */
    uint32_t data_unwritten;       /* VC_BLK_DIR_IN: data bytes still equal to the guard */
    uint32_t unwritten_in_len;     /* guard bytes inside the first used_len writable bytes */
    uint32_t written;              /* writable bytes written anywhere: data bytes that lost the
                                    * guard, plus 1 for the status byte (virtio 1.x 5.2.6.3:
                                    * a failed request may write the status byte alone) */
    bool readable_changed;         /* the device wrote the header or OUT data */
} VcBlkReq;

typedef struct VcBlkFaults {
    unsigned bad_id;       /* used ids out of range or not in flight */
    uint32_t last_bad_id;
} VcBlkFaults;

typedef struct VcBlkDrv {
    VcFrontend *fe;
    unsigned q;
    VcVq *vq;
    VcBlkReq *req;         /* pool of n request slots */
    unsigned n;
    unsigned next;         /* next slot vc_blk_queue() tries (round robin) */
    unsigned add_flags;    /* VC_ADD_INDIRECT */
    VcBlkFaults faults;
    uint64_t completed;
} VcBlkDrv;

/* --- Builders (pure: no ring, no guest memory) ------------------------------------------ */

/**
 * vc_blk_outhdr:
 * Fills @h as the device reads it: @type and @sector little-endian, ioprio 0.
 */
void vc_blk_outhdr(struct virtio_blk_outhdr *h, uint32_t type, uint64_t sector);

/**
 * vc_blk_dwz:
 * Fills one DISCARD / WRITE_ZEROES segment (little-endian); @flags may hold
 * VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP and any other bit.
 */
void vc_blk_dwz(struct virtio_blk_discard_write_zeroes *s, uint64_t sector, uint32_t num_sectors,
                uint32_t flags);

/**
 * vc_blk_chain:
 * @r: a slot with its buffers and cmd set
 * @out: (out): device-readable buffers (room for 1 + VC_BLK_MAX_SEGS)
 * @n_out: (out)
 * @in: (out): device-writable buffers (room for 1 + VC_BLK_MAX_SEGS)
 * @n_in: (out)
 *
 * The descriptor lists of @r: the header; the data split in cmd.nseg parts
 * on the side cmd.dir says; the status byte last.
 */
void vc_blk_chain(const VcBlkReq *r, VcSg *out, unsigned *n_out, VcSg *in, unsigned *n_in);

/**
 * vc_blk_parse_config:
 * @raw: config space bytes as the device answered them (little-endian)
 * @len: how many
 * @out: (out): struct virtio_blk_config in host byte order; fields at or
 *       beyond @len are 0
 */
void vc_blk_parse_config(const uint8_t *raw, uint32_t len, struct virtio_blk_config *out);

/** vc_blk_type_name: Returns: "IN", "GET_ID", ... or "type N" (static storage, not reentrant). */
const char *vc_blk_type_name(uint32_t type);

/** vc_blk_status_name: Returns: "OK", "IOERR", "UNSUPP", "not written" or "0xNN". */
const char *vc_blk_status_name(int status);

/* --- Config space ------------------------------------------------------------------------ */

/**
 * vc_blk_get_config:
 * @fe: a front end with VHOST_USER_PROTOCOL_F_CONFIG negotiated
 * @len: bytes to ask for (QEMU 7.2 asks for 60)
 * @out: (out): the answer in host byte order (vc_blk_parse_config())
 * @error: VC_ERROR_UNSUPPORTED without CONFIG, VC_ERROR_NACK for an empty
 *         answer, or what vc_fe_request() reports
 *
 * Sends GET_CONFIG with offset 0, size @len, flags 0.
 *
 * Returns: true when the daemon answered @len bytes.
 */
bool vc_blk_get_config(VcFrontend *fe, uint32_t len, struct virtio_blk_config *out,
                       GError **error);

/* --- The pool and its datapath ----------------------------------------------------------- */

/**
 * vc_blk_new:
 * @fe: a front end whose ring @q exists (vc_fe_create_queue())
 * @q: ring index
 * @n: request slots (1..ring size)
 * @data_cap: data bytes per slot (a multiple of 512 is usual; at least 1)
 * @error: set on failure
 *
 * Allocates the header, data and status buffers of every slot in guest
 * memory now. Returns: (transfer full): the driver, or NULL.
 */
VcBlkDrv *vc_blk_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t data_cap, GError **error);

/** vc_blk_free: frees the driver (buffers stay in guest memory). NULL is fine. */
void vc_blk_free(VcBlkDrv *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcBlkDrv, vc_blk_free)

/**
 * vc_blk_queue:
 * Writes @cmd into an idle slot (header, payload, guard over the writable
 * bytes) and adds its chain to the ring without publishing.
 *
 * Returns: the slot index, -EBUSY when every slot is in flight, -ENOSPC
 * when the ring is full, -EINVAL for a command the pool cannot hold.
 */
int vc_blk_queue(VcBlkDrv *d, const VcBlkCmd *cmd);

/**
 * vc_blk_kick:
 * Publishes what was queued and notifies the device unless it suppressed
 * notifications. Returns: vc_vq_notify()'s result.
 */
int vc_blk_kick(VcBlkDrv *d);

/**
 * vc_blk_reap:
 * Reaps every used entry and records the results in the slots.
 * Returns: entries reaped (bad ones included, counted in faults).
 */
unsigned vc_blk_reap(VcBlkDrv *d);

/**
 * vc_blk_wait:
 * Reaps until @want entries came back or @timeout_ms passed (sleeping on
 * the call fd, or polling without one; the back-end channel is served).
 * Returns: entries reaped.
 */
unsigned vc_blk_wait(VcBlkDrv *d, unsigned want, int timeout_ms);

/**
 * vc_blk_run:
 * @out: (out) (optional): the slot used (owned by @d, valid until reused)
 *
 * Queues @cmd, kicks and waits up to @timeout_ms for that request.
 *
 * Returns: 1 when it completed, 0 on timeout (the slot stays in flight),
 * or a negative vc_blk_queue() error.
 */
int vc_blk_run(VcBlkDrv *d, const VcBlkCmd *cmd, int timeout_ms, VcBlkReq **out);

/** vc_blk_in_flight: Returns: slots posted and not yet returned. */
unsigned vc_blk_in_flight(const VcBlkDrv *d);

/**
 * vc_blk_data:
 * Returns: our pointer to slot @slot's data buffer (data_cap bytes), or NULL.
 */
uint8_t *vc_blk_data(const VcBlkDrv *d, unsigned slot);

/**
 * vc_blk_skip_ranges:
 * Adds to @out the ring's ranges and every buffer of the pool (a guard scan
 * must skip them).
 */
void vc_blk_skip_ranges(const VcBlkDrv *d, GArray *out);

/*
 * blk requests as generic traffic: each is a 512-byte IN of sector i (slot
 * i) on ring 0; verify wants status OK, used.len 513 and the data written.
 */
extern const VcTrafficOps vc_blk_traffic_ops;

#endif /* VC_DRV_BLK_H */
