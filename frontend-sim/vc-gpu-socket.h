/*
 * vc-gpu-socket.h -- the vhost-user-gpu protocol (QEMU
 * docs/interop/vhost-user-gpu.rst): the socket the front end hands to a
 * vhost-user-gpu back end with VHOST_USER_GPU_SET_SOCKET (request 33). On it
 * the *back end* sends requests (display configuration, scanouts, updates
 * with pixel data, cursor, dma-bufs) and the front end replies where a
 * reply is defined.
 *
 * It is a wire protocol of its own, kept apart from the vhost-user codec:
 * its layouts live here and nowhere else. Two layers:
 *   - a codec (layouts, a table of requests, a syntax validator, reply
 *     encoders): no GLib, no I/O, never logs;
 *   - VcGpuSock, the front end's end of the socket: it reads requests with
 *     deadlines, answers them as QEMU 7.2's hw/display/vhost-user-gpu.c does
 *     (GET_PROTOCOL_FEATURES, GET_DISPLAY_INFO, DMABUF_UPDATE; plus GET_EDID
 *     of later QEMUs) and records what it received: scanout sizes, update
 *     rectangles and their pixels, cursor events, faults. QEMU serves the
 *     socket from its main loop, independently of whatever else it waits
 *     for; vc_gpu_sock_start() does the same with a thread of its own, so
 *     that a back end waiting for an answer is never blocked by the
 *     harness waiting for something else.
 * A back end's bad data is recorded, never fatal; nothing here decides a
 * verdict.
 */
#ifndef VC_GPU_SOCKET_H
#define VC_GPU_SOCKET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_gpu.h>

/* --- Wire format (vhost-user-gpu.rst "Wire format"): host byte order ------------------- */

/** VhostUserGpuRequest: request ids, sent by the back end. */
typedef enum VhostUserGpuRequest {
    VHOST_USER_GPU_NONE = 0,
    VHOST_USER_GPU_GET_PROTOCOL_FEATURES = 1,
    VHOST_USER_GPU_SET_PROTOCOL_FEATURES = 2,
    VHOST_USER_GPU_GET_DISPLAY_INFO = 3,
    VHOST_USER_GPU_CURSOR_POS = 4,
    VHOST_USER_GPU_CURSOR_POS_HIDE = 5,
    VHOST_USER_GPU_CURSOR_UPDATE = 6,
    VHOST_USER_GPU_SCANOUT = 7,
    VHOST_USER_GPU_UPDATE = 8,
    VHOST_USER_GPU_DMABUF_SCANOUT = 9,
    VHOST_USER_GPU_DMABUF_UPDATE = 10,
    VHOST_USER_GPU_GET_EDID = 11,         /* with VHOST_USER_GPU_PROTOCOL_F_EDID */
    VHOST_USER_GPU_DMABUF_SCANOUT2 = 12,  /* with VHOST_USER_GPU_PROTOCOL_F_DMABUF2 */
    VHOST_USER_GPU_MAX
} VhostUserGpuRequest;

#define VHOST_USER_GPU_MSG_FLAG_REPLY 0x4          /* bit 2: set on every reply */
#define VHOST_USER_GPU_PROTOCOL_F_EDID 0
#define VHOST_USER_GPU_PROTOCOL_F_DMABUF2 1
#define VHOST_USER_GPU_HDR_SIZE 12u
#define VHOST_USER_GPU_CURSOR_PIXELS (64 * 64)

typedef struct VhostUserGpuHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;        /* payload bytes that follow */
} __attribute__((packed)) VhostUserGpuHeader;

typedef struct VhostUserGpuCursorPos {
    uint32_t scanout_id;
    uint32_t x;
    uint32_t y;
} __attribute__((packed)) VhostUserGpuCursorPos;

typedef struct VhostUserGpuCursorUpdate {
    VhostUserGpuCursorPos pos;
    uint32_t hot_x;
    uint32_t hot_y;
    uint32_t data[VHOST_USER_GPU_CURSOR_PIXELS];  /* 64x64 PIXMAN_a8r8g8b8 */
} __attribute__((packed)) VhostUserGpuCursorUpdate;

typedef struct VhostUserGpuScanout {
    uint32_t scanout_id;
    uint32_t width;       /* 0 x 0 disables the scanout */
    uint32_t height;
} __attribute__((packed)) VhostUserGpuScanout;

/* Followed by width * height * 4 bytes of PIXMAN_x8r8g8b8 (UPDATE; none for DMABUF_UPDATE). */
typedef struct VhostUserGpuUpdate {
    uint32_t scanout_id;
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
} __attribute__((packed)) VhostUserGpuUpdate;

typedef struct VhostUserGpuDMABUFScanout {
    uint32_t scanout_id;
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
    uint32_t fd_width;
    uint32_t fd_height;
    uint32_t fd_stride;
    uint32_t fd_flags;
    int32_t fd_drm_fourcc;
} __attribute__((packed)) VhostUserGpuDMABUFScanout;

typedef struct VhostUserGpuDMABUFScanout2 {
    VhostUserGpuDMABUFScanout dmabuf_scanout;
    uint64_t modifier;
} __attribute__((packed)) VhostUserGpuDMABUFScanout2;

typedef struct VhostUserGpuEdidRequest {
    uint32_t scanout_id;
} __attribute__((packed)) VhostUserGpuEdidRequest;

_Static_assert(sizeof(VhostUserGpuHeader) == 12, "vhost-user-gpu header is 12 bytes");
_Static_assert(sizeof(VhostUserGpuCursorUpdate) == 12 + 8 + 16384, "cursor update layout");
_Static_assert(sizeof(VhostUserGpuUpdate) == 20, "update header layout");
_Static_assert(sizeof(VhostUserGpuDMABUFScanout) == 40, "dmabuf scanout layout");
_Static_assert(sizeof(VhostUserGpuDMABUFScanout2) == 48, "dmabuf scanout2 layout");
_Static_assert(sizeof(struct virtio_gpu_resp_display_info) == 408, "display info layout");
_Static_assert(sizeof(struct virtio_gpu_resp_edid) == 1056, "edid layout");

/* --- Codec ---------------------------------------------------------------------------- */

/** VcGpuPayload: the payload layout of a request. */
typedef enum VcGpuPayload {
    VC_GPU_PL_NONE,            /* size 0 */
    VC_GPU_PL_U64,             /* 8 */
    VC_GPU_PL_CURSOR_POS,      /* 12 */
    VC_GPU_PL_CURSOR_UPDATE,   /* 16404 */
    VC_GPU_PL_SCANOUT,         /* 12 */
    VC_GPU_PL_UPDATE,          /* 20 + width * height * 4 */
    VC_GPU_PL_DMABUF_SCANOUT,  /* 40 */
    VC_GPU_PL_DMABUF_UPDATE,   /* 20, no pixels */
    VC_GPU_PL_EDID_REQUEST,    /* 4 */
    VC_GPU_PL_DMABUF_SCANOUT2, /* 48 */
} VcGpuPayload;

/** VcGpuReply: what the front end answers. */
typedef enum VcGpuReply {
    VC_GPU_REPLY_NONE,
    VC_GPU_REPLY_U64,            /* GET_PROTOCOL_FEATURES */
    VC_GPU_REPLY_DISPLAY_INFO,   /* struct virtio_gpu_resp_display_info */
    VC_GPU_REPLY_EDID,           /* struct virtio_gpu_resp_edid */
    VC_GPU_REPLY_EMPTY,          /* DMABUF_UPDATE: the same request id, size 0 */
} VcGpuReply;

/** VcGpuMsgInfo: one row of the request table. */
typedef struct VcGpuMsgInfo {
    uint32_t request;
    const char *name;            /* "VHOST_USER_GPU_SCANOUT" */
    VcGpuPayload payload;
    VcGpuReply reply;
    int max_fds;                 /* 1 for the dma-buf scanouts, else 0 */
    int gate;                    /* protocol feature bit that must be set, or -1 */
} VcGpuMsgInfo;

/** VcGpuFault: syntax faults of a back-end request (a mask). */
typedef enum VcGpuFault {
    VC_GPU_FAULT_UNKNOWN = 1u << 0,  /* request id not in the table */
    VC_GPU_FAULT_SIZE = 1u << 1,     /* size does not fit the payload kind */
    VC_GPU_FAULT_FLAGS = 1u << 2,    /* REPLY bit or an undefined bit set on a request */
    VC_GPU_FAULT_FDS = 1u << 3,      /* fds where none belong, or more than allowed */
    VC_GPU_FAULT_GATE = 1u << 4,     /* sent without its protocol feature */
    VC_GPU_FAULT_FIELD = 1u << 5,    /* a field out of range (scanout id >= 16) */
} VcGpuFault;

/** vc_gpu_msg_info: Returns: the row of @request, or NULL when unknown. */
const VcGpuMsgInfo *vc_gpu_msg_info(uint32_t request);

/** vc_gpu_msg_name: Returns: the request's name, or "UNKNOWN" (static). */
const char *vc_gpu_msg_name(uint32_t request);

/**
 * vc_gpu_msg_check:
 * @hdr: the header received
 * @payload: its payload (hdr->size bytes; may be shorter when @avail says so)
 * @avail: payload bytes present in @payload
 * @nfds: fds that came with the message
 * @pfeatures: protocol features the back end set (SET_PROTOCOL_FEATURES)
 *
 * Judges syntax only: the request is known, its size fits its payload
 * kind (an UPDATE carries exactly width * height * 4 pixel bytes), the
 * flags are 0, the fds are where the table allows them, the scanout id is
 * below VIRTIO_GPU_MAX_SCANOUTS and a gated request's feature was set.
 *
 * Returns: a VcGpuFault mask, 0 when well formed.
 */
unsigned vc_gpu_msg_check(const VhostUserGpuHeader *hdr, const uint8_t *payload, size_t avail,
                          unsigned nfds, uint64_t pfeatures);

/**
 * vc_gpu_encode_reply:
 * @buf: output, at least VHOST_USER_GPU_HDR_SIZE + @size bytes
 * @request: the request answered
 * @payload: (nullable): @size bytes
 *
 * Writes a reply: flags VHOST_USER_GPU_MSG_FLAG_REPLY, the request id, the size.
 * Returns: bytes written.
 */
size_t vc_gpu_encode_reply(uint8_t *buf, uint32_t request, const void *payload, uint32_t size);

/**
 * vc_gpu_fill_display_info:
 * Fills @out as QEMU's virtio_gpu_base_fill_display_info(): type
 * VIRTIO_GPU_RESP_OK_DISPLAY_INFO, scanouts 0..@n-1 enabled at @w x @h.
 */
void vc_gpu_fill_display_info(struct virtio_gpu_resp_display_info *out, unsigned n, uint32_t w,
                              uint32_t h);

/**
 * vc_gpu_fill_edid:
 * Fills @out with VIRTIO_GPU_RESP_OK_EDID and a 128-byte EDID 1.4 base
 * block announcing @w x @h (header, checksum right).
 */
void vc_gpu_fill_edid(struct virtio_gpu_resp_edid *out, uint32_t w, uint32_t h);

/* --- The front end's end of the socket ----------------------------------------------- */

#define VC_GPU_SOCK_EVENTS 64   /* the last requests kept in the event log */

/** VcGpuEvent: one request received. */
typedef struct VcGpuEvent {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
    unsigned nfds;
    unsigned faults;           /* VcGpuFault */
    uint32_t scanout_id;       /* where the payload has one */
    uint32_t x, y, w, h;       /* scanouts: 0, 0, w, h; updates and cursors: their fields */
} VcGpuEvent;

/** VcGpuScanoutState: what the back end configured for one scanout. */
typedef struct VcGpuScanoutState {
    bool set;                  /* a SCANOUT or DMABUF_SCANOUT named it */
    bool dmabuf;               /* the last one was a DMABUF_SCANOUT */
    uint32_t width, height;
    VhostUserGpuDMABUFScanout dmabuf_info;
} VcGpuScanoutState;

typedef struct VcGpuSock {
    int fd;                          /* our end; -1 once broken and closed */
    bool broken;                     /* EOF, a read error, or a message cut short */
    int timeout_ms;                  /* deadline for the rest of a message once begun */

    /* Our answers. */
    uint64_t pfeatures_offered;      /* GET_PROTOCOL_FEATURES reply */
    unsigned n_displays;             /* GET_DISPLAY_INFO: enabled scanouts (QEMU: 1) */
    uint32_t display_w, display_h;   /* QEMU's xres, yres defaults: 1280 x 800 */

    /* What the back end did. */
    uint64_t pfeatures;              /* SET_PROTOCOL_FEATURES value */
    bool pfeatures_set;
    uint64_t count[VHOST_USER_GPU_MAX];  /* requests by id */
    uint64_t unknown;                /* requests with ids beyond the table */
    uint64_t faulty;                 /* requests with a fault */
    unsigned fault_mask;             /* every VcGpuFault seen */
    char first_fault[192];
    VcGpuScanoutState scanout[VIRTIO_GPU_MAX_SCANOUTS];
    VcGpuEvent events[VC_GPU_SOCK_EVENTS];
    uint64_t n_events;               /* events[n % VC_GPU_SOCK_EVENTS] is the next slot */

    /* The last UPDATE, with its pixels. */
    VhostUserGpuUpdate last_update;
    uint8_t *update_data;            /* pixels of the last UPDATE (cap bytes) */
    size_t update_len;               /* bytes kept */
    bool update_truncated;           /* it carried more than update_cap */
    size_t update_cap;

    /* Receive buffer: the largest payload kept (headers are read apart). */
    uint8_t *buf;
    size_t buf_cap;

    /* The serving thread (vc_gpu_sock_start()). */
    pthread_t thread;
    bool running;
    int wake[2];                     /* a pipe: a byte written stops the thread */
    pthread_mutex_t lock;            /* held while a message is handled */
    pthread_cond_t cond;             /* broadcast after messages were handled */
    uint64_t handled;                /* messages handled so far */
} VcGpuSock;

/**
 * vc_gpu_sock_new:
 * @fd: our end of the socketpair; ownership passes to the socket (made non-blocking)
 * @update_cap: largest UPDATE pixel payload kept (0: 1280 x 800 x 4)
 *
 * Allocates every buffer now; serving never allocates.
 * Returns: (transfer full): the socket.
 */
VcGpuSock *vc_gpu_sock_new(int fd, size_t update_cap);

/** vc_gpu_sock_free: stops the serving thread and closes the fd. NULL is fine. */
void vc_gpu_sock_free(VcGpuSock *s);

/**
 * vc_gpu_sock_start:
 * Serves the socket from a thread of its own from now on (as QEMU's main
 * loop does). Readers of the recorded state then hold vc_gpu_sock_lock().
 * Returns: 0, or -errno when the thread could not be started (the socket
 * is then served by vc_gpu_sock_serve() calls as before).
 */
int vc_gpu_sock_start(VcGpuSock *s);

/** vc_gpu_sock_lock: holds off the serving thread while the caller reads the record. */
void vc_gpu_sock_lock(VcGpuSock *s);
void vc_gpu_sock_unlock(VcGpuSock *s);

/**
 * vc_gpu_sock_serve:
 * @timeout_ms: how long to wait for the first message (0: only what is waiting)
 *
 * Reads and answers every request that is waiting, after waiting up to
 * @timeout_ms for the first one. A message once begun must be complete
 * within s->timeout_ms, else the socket is marked broken and closed. With
 * the serving thread running, waits up to @timeout_ms for it to handle
 * something.
 *
 * Returns: requests handled, or -1 when the socket is (now) broken.
 */
int vc_gpu_sock_serve(VcGpuSock *s, int timeout_ms);

/**
 * vc_gpu_sock_wait:
 * Serves until count[@request] exceeds @before or @timeout_ms passes.
 * Returns: true when it did.
 */
bool vc_gpu_sock_wait(VcGpuSock *s, uint32_t request, uint64_t before, int timeout_ms);

/** vc_gpu_sock_event: Returns: the @i-th most recent event (0 = last), or NULL. */
const VcGpuEvent *vc_gpu_sock_event(const VcGpuSock *s, unsigned i);

#endif /* VC_GPU_SOCKET_H */
