/*
 * vc-drv-gpu.h -- the driver side of virtio-gpu (virtio 1.x section 5.7,
 * device id 16; <linux/virtio_gpu.h>) over vhost-user, with the
 * vhost-user-gpu socket (vc-gpu-socket.h) that a vhost-user-gpu back end
 * needs to show what it renders.
 *
 * Two rings: controlq (ring 0) and cursorq (ring 1). A command is one
 * chain: the request (device-readable, memory entries included) followed
 * by room for the response (device-writable), both in guest memory
 * allocated when the driver is created; submitting never allocates. The
 * response is guard filled before the chain is posted, so what the device
 * wrote can be told from what it did not.
 *
 * vhost-user-gpu back ends ask the front end for the display configuration
 * on the socket while they process GET_DISPLAY_INFO: every wait here
 * serves the socket, with a deadline.
 *
 * The driver records facts (response types, used lengths, socket traffic);
 * the checks judge.
 */
#ifndef VC_DRV_GPU_H
#define VC_DRV_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <linux/virtio_gpu.h>

#include "vc-frontend.h"
#include "vc-gpu-socket.h"
#include "vc-traffic.h"

#define VC_GPU_CTRLQ 0
#define VC_GPU_CURSORQ 1
#define VC_GPU_REQ_MAX 1024u     /* largest request (a command with its memory entries) */
#define VC_GPU_RESP_MAX 1056u    /* largest response (struct virtio_gpu_resp_edid) */
#define VC_GPU_MAX_PAGES 64u     /* framebuffer backing pages */
#define VC_GPU_PAGE 4096u

/** VcGpuCmd: one command slot. */
typedef struct VcGpuCmd {
    VcSg req;              /* device-readable */
    VcSg resp;             /* device-writable (len: offered this time) */
    uint8_t *req_p;        /* our pointers */
    uint8_t *resp_p;
    unsigned queue;        /* VC_GPU_CTRLQ or VC_GPU_CURSORQ */
    uint32_t type;         /* the command's type */
    uint32_t req_len;
    uint32_t req_hi;       /* the most request bytes this slot ever held */
    uint32_t resp_hi;      /* the most response bytes it ever offered */
    bool posted;           /* handed to the device, not yet returned */
    bool done;             /* returned since it was last submitted */
    uint32_t used_len;
    uint32_t resp_type;    /* the response type when it was returned (host order) */
    uint32_t completions;
} VcGpuCmd;

/** VcGpuPage: one page of framebuffer backing. */
typedef struct VcGpuPage {
    uint64_t gpa;
    uint8_t *p;            /* our pointer */
    uint32_t len;          /* bytes of the framebuffer in it */
} VcGpuPage;

/** VcGpuDrv: a driver instance. */
typedef struct VcGpuDrv {
    VcFrontend *fe;
    VcVq *vq[2];           /* controlq, cursorq (NULL when the ring does not exist) */
    VcGpuCmd *cmd;         /* n control slots, then ncur cursor slots */
    unsigned n, ncur;
    unsigned next[2];      /* next slot to try, per queue */
    unsigned add_flags;    /* VC_ADD_INDIRECT */
    VcGpuSock *sock;       /* our end of the vhost-user-gpu socket, or NULL */
    uint64_t bad_id;       /* used ids naming no chain in flight */
    uint64_t completed;
    /* Framebuffer backing: pages of guest memory, not contiguous on purpose. */
    VcGpuPage page[VC_GPU_MAX_PAGES];
    unsigned npages;
    uint32_t fb_len;
} VcGpuDrv;

/* --- Command builders (pure, little endian as virtio 1.x wants) -------------------------- */

/** vc_gpu_hdr: a control header of @type; with @fence, VIRTIO_GPU_FLAG_FENCE and @fence_id. */
void vc_gpu_hdr(struct virtio_gpu_ctrl_hdr *h, uint32_t type, bool fence, uint64_t fence_id);

void vc_gpu_build_create_2d(struct virtio_gpu_resource_create_2d *c, uint32_t id,
                            uint32_t format, uint32_t w, uint32_t h);
void vc_gpu_build_set_scanout(struct virtio_gpu_set_scanout *c, uint32_t scanout, uint32_t id,
                              uint32_t x, uint32_t y, uint32_t w, uint32_t h);
void vc_gpu_build_transfer_2d(struct virtio_gpu_transfer_to_host_2d *c, uint32_t id, uint32_t x,
                              uint32_t y, uint32_t w, uint32_t h, uint64_t offset);
void vc_gpu_build_flush(struct virtio_gpu_resource_flush *c, uint32_t id, uint32_t x, uint32_t y,
                        uint32_t w, uint32_t h);
void vc_gpu_build_unref(struct virtio_gpu_resource_unref *c, uint32_t id);
void vc_gpu_build_detach(struct virtio_gpu_resource_detach_backing *c, uint32_t id);

/**
 * vc_gpu_build_attach:
 * @buf: output, at least sizeof(attach) + @n * sizeof(entry) bytes
 * Returns: bytes written (the attach command followed by @n memory entries).
 */
uint32_t vc_gpu_build_attach(uint8_t *buf, uint32_t id, const struct virtio_gpu_mem_entry *e,
                             unsigned n);

/** vc_gpu_type_name: Returns: "GET_DISPLAY_INFO", "OK_NODATA", "ERR_INVALID_RESOURCE_ID"... */
const char *vc_gpu_type_name(uint32_t type);

/**
 * vc_gpu_rect_diff:
 * @img: an image of @stride bytes per line, 4 bytes per pixel
 * @x, @y, @w, @h: a rectangle of it
 * @data: @len bytes that should be that rectangle, line after line, @w * 4 bytes each
 *
 * Returns: -1 when @data is the rectangle byte for byte, else the offset in
 * @data of the first byte that differs (or @len when @data is too short,
 * the rectangle's size when it is too long).
 */
int64_t vc_gpu_rect_diff(const uint8_t *img, uint32_t stride, uint32_t x, uint32_t y, uint32_t w,
                         uint32_t h, const uint8_t *data, size_t len);

/* --- Driver ------------------------------------------------------------------------------- */

/**
 * vc_gpu_new:
 * @fe: a front end whose controlq (ring 0) exists; cursorq (ring 1) is used when it exists
 * @n: control command slots (at most the ring size)
 * @fb_bytes: framebuffer backing to allocate, in pages (0: none)
 *
 * Returns: (transfer full): the driver, or NULL (VC_ERROR_USAGE, VC_ERROR_RESOURCE).
 */
VcGpuDrv *vc_gpu_new(VcFrontend *fe, unsigned n, uint32_t fb_bytes, GError **error);

/**
 * vc_gpu_free:
 * Closes the gpu socket; touches neither the front end nor guest memory.
 * NULL is fine.
 */
void vc_gpu_free(VcGpuDrv *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcGpuDrv, vc_gpu_free)

/**
 * vc_gpu_sock_handover:
 * @fe: a connected front end; its device need not be started (QEMU hands
 *      the socket over before the rings start)
 * @settle_ms: how long to wait for the back end's protocol feature handshake
 *
 * What vc_gpu_set_socket() does, without a driver: the socketpair, our end
 * served by its own thread, the other end sent with
 * VHOST_USER_GPU_SET_SOCKET, the wait for the handshake.
 *
 * Returns: (transfer full): our end (set it as d->sock), or NULL with
 * @error set.
 */
VcGpuSock *vc_gpu_sock_handover(VcFrontend *fe, int settle_ms, GError **error);

/**
 * vc_gpu_set_socket:
 * Makes a socketpair, keeps one end as d->sock served by its own thread
 * (vc_gpu_sock_start(): the back end gets its answers whatever the driver
 * is doing, as from QEMU's main loop), and sends the other end with
 * VHOST_USER_GPU_SET_SOCKET (acked when REPLY_ACK is negotiated). Then
 * waits up to @settle_ms for the back end's protocol feature handshake
 * (GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES). A back end that sends
 * nothing is not an error here. Readers of d->sock hold vc_gpu_sock_lock().
 */
bool vc_gpu_set_socket(VcGpuDrv *d, int settle_ms, GError **error);

/**
 * vc_gpu_serve:
 * Serves the gpu socket for up to @ms (with its thread running: waits up to
 * @ms for it to handle something). Returns: requests handled.
 */
int vc_gpu_serve(VcGpuDrv *d, int ms);

/**
 * vc_gpu_submit:
 * @queue: VC_GPU_CTRLQ or VC_GPU_CURSORQ
 * @cmd: the request, @len bytes (<= VC_GPU_REQ_MAX)
 * @resp_len: device-writable bytes offered for the response (<= VC_GPU_RESP_MAX; 0: none)
 *
 * Copies the request into an idle slot, guard fills the response and makes
 * the chain available (published, no kick).
 * Returns: the slot, or NULL when no slot is idle or the ring is full.
 */
VcGpuCmd *vc_gpu_submit(VcGpuDrv *d, unsigned queue, const void *cmd, uint32_t len,
                        uint32_t resp_len);

/**
 * vc_gpu_reap:
 * Reaps both rings (serving the socket first when it has no thread).
 * Returns: entries reaped.
 */
unsigned vc_gpu_reap(VcGpuDrv *d);

/**
 * vc_gpu_wait:
 * Kicks @c's ring when needed and waits until @c is done or @timeout_ms
 * passes, serving the socket. Returns: c->done.
 */
bool vc_gpu_wait(VcGpuDrv *d, VcGpuCmd *c, int timeout_ms);

/**
 * vc_gpu_exec:
 * vc_gpu_submit() + vc_gpu_wait(). Returns: the slot (look at ->done), or
 * NULL when it could not be submitted.
 */
VcGpuCmd *vc_gpu_exec(VcGpuDrv *d, unsigned queue, const void *cmd, uint32_t len,
                      uint32_t resp_len, int timeout_ms);

/** vc_gpu_resp_hdr: Returns: the response header as the device wrote it (little endian). */
const struct virtio_gpu_ctrl_hdr *vc_gpu_resp_hdr(const VcGpuCmd *c);

/** vc_gpu_resp_type: Returns: the response type (host order); 0xa5a5a5a5 when untouched. */
uint32_t vc_gpu_resp_type(const VcGpuCmd *c);

/** vc_gpu_fb_write: copies @len bytes to framebuffer offset @off. Returns: false past its end. */
bool vc_gpu_fb_write(VcGpuDrv *d, uint32_t off, const void *src, uint32_t len);

/** vc_gpu_fb_entries: fills up to @max memory entries for the backing. Returns: how many. */
unsigned vc_gpu_fb_entries(const VcGpuDrv *d, struct virtio_gpu_mem_entry *e, unsigned max);

/** vc_gpu_in_flight: Returns: slots of @queue posted and not returned. */
unsigned vc_gpu_in_flight(const VcGpuDrv *d, unsigned queue);

/**
 * vc_gpu_skip_ranges: appends every buffer the driver owns (a guard scan
 * skips them): rings, framebuffer pages, and of each command slot the
 * bytes it ever used (request, response offered), not its whole capacity,
 * so that checks taking these ranges for the device's buffers (dirty log,
 * postcopy) see only what a device may touch.
 */
void vc_gpu_skip_ranges(const VcGpuDrv *d, GArray *out);

/*
 * gpu as generic traffic (vc-traffic.h): a request is GET_DISPLAY_INFO on
 * controlq (24 bytes readable, 408 writable). The traffic sets up the
 * vhost-user-gpu socket when it is created and answers the back end on it
 * whenever it reaps. verify: every response is OK_DISPLAY_INFO with
 * used.len covering struct virtio_gpu_resp_display_info.
 */
extern const VcTrafficOps vc_gpu_traffic_ops;

#endif /* VC_DRV_GPU_H */
