/*
 * vhost-user-gpu-ref.c -- the reference virtio-gpu back end (virtio device
 * id 16), 2D only: the yardstick the VIO-GPU checks are calibrated on, and,
 * with --mutant, deliberately broken variants (see vc-mutants.h).
 *
 * virtio 1.x 5.7: two rings, controlq (0) and cursorq (1); every request
 * starts with struct virtio_gpu_ctrl_hdr and every response is written into
 * the chain's device-writable buffers, used.len = bytes written. Resources
 * live here (host copies of the guest's pixels); their backing is a list of
 * guest-physical ranges translated at every transfer, so that a new memory
 * table is followed.
 *
 * What the device shows goes out on the vhost-user-gpu socket (QEMU
 * docs/interop/vhost-user-gpu.rst) that the front end hands over with
 * VHOST_USER_GPU_SET_SOCKET: SCANOUT when a scanout is set, UPDATE with the
 * pixels on RESOURCE_FLUSH, CURSOR_* from the cursor queue. The back end
 * asks and the front end answers (GET_PROTOCOL_FEATURES,
 * GET_DISPLAY_INFO): every answer is awaited for at most GPU_SOCK_WAIT_MS,
 * after which the socket is closed and the device goes on without it. The
 * socket's layouts come from frontend-sim/vc-gpu-socket.h, used as a header
 * only (nothing of frontend-sim is linked).
 *
 * Bounded: at most GPU_MAX_RESOURCES resources holding GPU_MAX_HOST_BYTES
 * of pixels, GPU_MAX_ENTRIES backing entries per resource and
 * GPU_MAX_ALL_ENTRIES in all; what goes beyond is refused
 * (ERR_OUT_OF_MEMORY, ERR_INVALID_PARAMETER).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-gpu-socket.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"
#include "vc-proto.h"

#define GPU_CTRLQ 0
#define GPU_CURSORQ 1
#define GPU_NUM_SCANOUTS 1u
#define GPU_MAX_RESOURCES 256u
#define GPU_MAX_DIM 16384u
#define GPU_MAX_HOST_BYTES (256ull << 20)
#define GPU_MAX_ENTRIES 16384u
#define GPU_MAX_ALL_ENTRIES (256u * 1024u)
#define GPU_CURSOR_DIM 64u
#define GPU_SOCK_WAIT_MS 1000
/* virtio 1.x 5.7 "Device Initialization": the fallback a driver may use. */
#define GPU_FALLBACK_W 1024u
#define GPU_FALLBACK_H 768u

typedef struct GpuEntry {
    uint64_t gpa;
    uint32_t len;
} GpuEntry;

typedef struct GpuResource {
    uint32_t id;                /* 0: slot free */
    uint32_t format;
    uint32_t width, height;
    uint8_t *pixels;            /* width * height * 4 bytes, the format's byte order */
    GpuEntry *entries;          /* backing, NULL when none attached */
    unsigned nentries;
    uint64_t backing_len;
} GpuResource;

typedef struct GpuScanout {
    uint32_t resource_id;       /* 0: disabled */
    uint32_t x, y, w, h;        /* the rectangle of the resource shown */
} GpuScanout;

typedef enum GpuSockState {
    SOCK_NONE,                  /* no socket: nothing is shown */
    SOCK_WAIT_PFEATURES,        /* GET_PROTOCOL_FEATURES sent, its reply not read yet */
    SOCK_READY,
} GpuSockState;

typedef struct Gpu {
    VcBe *be;
    VcMutant mutant;
    GpuResource res[GPU_MAX_RESOURCES];
    uint64_t host_bytes;
    unsigned all_entries;
    GpuScanout scanout[GPU_NUM_SCANOUTS];
    bool cursor_visible;
    uint32_t events_read;
    int sock;                   /* the vhost-user-gpu socket, or -1 */
    int epfd;                   /* watched by the library; holds @sock while set */
    GpuSockState sock_state;
    uint8_t line[GPU_MAX_DIM * 4];
    VhostUserGpuCursorUpdate cursor;
} Gpu;

static Gpu gpu_state = {.sock = -1, .epfd = -1};

/* ---- the vhost-user-gpu socket ---- */

static void
sock_close(Gpu *g, const char *why)
{
    if (g->sock < 0) {
        return;
    }
    if (why) {
        vc_be_note(g->be, "gpu socket closed: %s", why);
    }
    close(g->sock);     /* also leaves the epoll set */
    g->sock = -1;
    g->sock_state = SOCK_NONE;
}

/* Waits for @events before @deadline. Returns: 1 ready, 0 timed out, -errno. */
static int
sock_wait(Gpu *g, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = g->sock, .events = events};
        int64_t left = deadline - vc_now_ms();
        int r;

        if (left <= 0) {
            return 0;
        }
        r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r < 0 ? -errno : r;
    }
}

static int
sock_write(Gpu *g, const void *src, size_t n, int64_t deadline)
{
    const uint8_t *p = src;

    while (n) {
        ssize_t w = send(g->sock, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = sock_wait(g, POLLOUT, deadline);
            if (r <= 0) {
                return r < 0 ? r : -ETIME;
            }
        } else {
            return -errno;
        }
    }
    return 0;
}

static int
sock_read(Gpu *g, void *dst, size_t n, int64_t deadline)
{
    uint8_t *p = dst;

    while (n) {
        ssize_t r = recv(g->sock, p, n, MSG_DONTWAIT);

        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            return -ECONNRESET;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = sock_wait(g, POLLIN, deadline);
            if (w <= 0) {
                return w < 0 ? w : -ETIME;
            }
        } else {
            return -errno;
        }
    }
    return 0;
}

/*
 * Sends the header of @request announcing @size payload bytes, then @head
 * (@head_len of them; the rest follows from the caller). A message cut
 * short leaves the stream out of step: the socket is closed.
 */
static int
sock_begin(Gpu *g, uint32_t request, uint32_t size, const void *head, uint32_t head_len,
           int64_t deadline)
{
    VhostUserGpuHeader h = {request, 0, size};
    int r = sock_write(g, &h, sizeof(h), deadline);

    if (r == 0 && head_len) {
        r = sock_write(g, head, head_len, deadline);
    }
    if (r < 0) {
        sock_close(g, r == -ETIME ? "the front end does not read it" : strerror(-r));
    }
    return r;
}

/* Reads the reply to @request: flags with the REPLY bit, exactly @size payload bytes. */
static int
sock_reply(Gpu *g, uint32_t request, void *payload, uint32_t size)
{
    int64_t deadline = vc_now_ms() + GPU_SOCK_WAIT_MS;
    VhostUserGpuHeader h;
    int r = sock_read(g, &h, sizeof(h), deadline);

    if (r == 0 && (h.request != request || !(h.flags & VHOST_USER_GPU_MSG_FLAG_REPLY) ||
                   h.size != size)) {
        vc_be_note(g->be, "gpu socket: reply request %u flags 0x%x size %u, want %u, REPLY, %u",
                   h.request, h.flags, h.size, request, size);
        r = -EPROTO;
    }
    if (r == 0 && size) {
        r = sock_read(g, payload, size, deadline);
    }
    if (r < 0) {
        sock_close(g, r == -ETIME ? "no reply in time" : strerror(-r));
    }
    return r;
}

/*
 * vhost-user-gpu.rst "Protocol features": GET, then SET with the bits we
 * know among those offered (none: EDID and DMABUF2 are not used here).
 * Returns: true when the socket can carry requests.
 */
static bool
sock_ready(Gpu *g)
{
    uint64_t offered = 0, want = 0;

    if (g->sock_state == SOCK_WAIT_PFEATURES) {
        if (sock_reply(g, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, &offered, sizeof(offered)) < 0) {
            return false;
        }
        if (sock_begin(g, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, sizeof(want), &want,
                       sizeof(want), vc_now_ms() + GPU_SOCK_WAIT_MS) < 0) {
            return false;
        }
        g->sock_state = SOCK_READY;
    }
    return g->sock_state == SOCK_READY;
}

/* The library's watch on the epoll set: a reply we have not asked for yet, or the end. */
static void
sock_event(VcBe *be, int fd, void *opaque)
{
    Gpu *g = opaque;
    struct epoll_event ev[2];
    uint8_t b;
    ssize_t r;

    if (epoll_wait(fd, ev, 2, 0) <= 0 || g->sock < 0) {
        return;
    }
    if (g->sock_state == SOCK_WAIT_PFEATURES) {
        sock_ready(g);
        return;
    }
    /* The front end never speaks first: only the end of the socket is expected. */
    r = recv(g->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK);
    if (r == 0) {
        vc_be_log(be, "the front end closed the gpu socket");
        sock_close(g, NULL);
    } else if (r > 0 || (errno != EAGAIN && errno != EINTR)) {
        sock_close(g, r > 0 ? "unexpected data from the front end" : strerror(errno));
    }
}

/* VHOST_USER_GPU_SET_SOCKET: the fd is ours from now on. */
static int
gpu_fd_request(VcBe *be, uint32_t request, int fd, void *opaque)
{
    Gpu *g = opaque;
    struct epoll_event ev = {.events = EPOLLIN};
    int type = 0;
    socklen_t len = sizeof(type);

    if (request != VHOST_USER_GPU_SET_SOCKET || fd < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -ENOTSUP;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        vc_be_note(be, "GPU_SET_SOCKET: the fd is not a stream socket");
        close(fd);
        return -EINVAL;
    }
    sock_close(g, NULL);
    g->sock = fd;
    ev.data.fd = fd;
    if (g->epfd < 0 || epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
        sock_begin(g, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, NULL, 0,
                   vc_now_ms() + GPU_SOCK_WAIT_MS) < 0) {
        sock_close(g, NULL);
        return -EIO;
    }
    /* Its reply is read from the main loop, or by the first request that needs the socket. */
    g->sock_state = SOCK_WAIT_PFEATURES;
    return 0;
}

static void
send_scanout(Gpu *g, uint32_t id, uint32_t w, uint32_t h)
{
    VhostUserGpuScanout s = {id, w, h};
    uint8_t padded[sizeof(s) + 4] = {0};

    if (!sock_ready(g)) {
        return;
    }
    if (g->mutant == VC_MUT_GPU_SOCKET_BAD_SIZE) {
        /* Mutant: the payload announced (and sent) with 4 bytes of padding. */
        memcpy(padded, &s, sizeof(s));
        sock_begin(g, VHOST_USER_GPU_SCANOUT, sizeof(padded), padded, sizeof(padded),
                   vc_now_ms() + GPU_SOCK_WAIT_MS);
        return;
    }
    sock_begin(g, VHOST_USER_GPU_SCANOUT, sizeof(s), &s, sizeof(s),
               vc_now_ms() + GPU_SOCK_WAIT_MS);
}

/* ---- pixels ---- */

/*
 * Byte positions of blue, green, red and alpha/X in a pixel of @format
 * (virtio format names list the bytes in memory order). Returns: false
 * for a format virtio 1.x 5.7 does not define.
 */
static bool
format_bytes(uint32_t format, uint8_t pos[4], bool *has_alpha)
{
    static const struct {
        uint32_t format;
        uint8_t pos[4];
        bool alpha;
    } formats[] = {
        {VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, {0, 1, 2, 3}, true},
        {VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, {0, 1, 2, 3}, false},
        {VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, {3, 2, 1, 0}, true},
        {VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, {3, 2, 1, 0}, false},
        {VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, {2, 1, 0, 3}, true},
        {VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, {1, 2, 3, 0}, false},
        {VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, {1, 2, 3, 0}, true},
        {VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, {2, 1, 0, 3}, false},
    };

    for (unsigned i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].format == format) {
            memcpy(pos, formats[i].pos, 4);
            if (has_alpha) {
                *has_alpha = formats[i].alpha;
            }
            return true;
        }
    }
    return false;
}

/*
 * One pixel as the socket wants it: a native-endian 32-bit value,
 * x8r8g8b8 for UPDATE (the X byte carries what the resource holds there),
 * a8r8g8b8 for the cursor (alpha 0xff for formats without one).
 */
static uint32_t
pixel_xrgb(const uint8_t *px, const uint8_t pos[4], bool force_alpha)
{
    uint32_t a = force_alpha ? 0xff : px[pos[3]];

    return a << 24 | (uint32_t)px[pos[2]] << 16 | (uint32_t)px[pos[1]] << 8 | px[pos[0]];
}

/* VHOST_USER_GPU_UPDATE of resource rectangle @x,@y @w x @h, at @sx,@sy of scanout @id. */
static void
send_update(Gpu *g, uint32_t id, const GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
            uint32_t h, uint32_t sx, uint32_t sy)
{
    VhostUserGpuUpdate u = {id, sx, sy, w, h};
    uint64_t size = sizeof(u) + (uint64_t)w * h * 4;
    int64_t deadline = vc_now_ms() + GPU_SOCK_WAIT_MS;
    uint8_t pos[4];

    if (size > UINT32_MAX || !format_bytes(r->format, pos, NULL) || !sock_ready(g) ||
        sock_begin(g, VHOST_USER_GPU_UPDATE, (uint32_t)size, &u, sizeof(u), deadline) < 0) {
        return;
    }
    if (g->mutant == VC_MUT_GPU_PIXELS_OFF) {
        /* Mutant: red and blue change places. */
        uint8_t t = pos[0];
        pos[0] = pos[2];
        pos[2] = t;
    }
    for (uint32_t row = 0; row < h; row++) {
        const uint8_t *src = r->pixels + ((size_t)(y + row) * r->width + x) * 4;

        for (uint32_t i = 0; i < w; i++) {
            uint32_t v = pixel_xrgb(src + (size_t)i * 4, pos, false);
            memcpy(g->line + (size_t)i * 4, &v, 4);
        }
        int e = sock_write(g, g->line, (size_t)w * 4, deadline);
        if (e < 0) {
            sock_close(g, e == -ETIME ? "the front end does not read it" : strerror(-e));
            return;
        }
    }
}

/* ---- resources ---- */

static GpuResource *
res_find(Gpu *g, uint32_t id)
{
    if (id == 0) {
        return NULL;
    }
    for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++) {
        if (g->res[i].id == id) {
            return &g->res[i];
        }
    }
    return NULL;
}

static void
res_detach(Gpu *g, GpuResource *r)
{
    g->all_entries -= r->nentries;
    free(r->entries);
    r->entries = NULL;
    r->nentries = 0;
    r->backing_len = 0;
}

static void
res_free(Gpu *g, GpuResource *r)
{
    res_detach(g, r);
    g->host_bytes -= (uint64_t)r->width * r->height * 4;
    free(r->pixels);
    memset(r, 0, sizeof(*r));
}

/* virtio reset: every resource, scanout and the cursor go. Nothing is sent. */
static void
gpu_reset(Gpu *g)
{
    for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++) {
        if (g->res[i].id) {
            res_free(g, &g->res[i]);
        }
    }
    memset(g->scanout, 0, sizeof(g->scanout));
    g->cursor_visible = false;
    g->events_read = 0;
}

/* True when the rectangle lies inside a @w x @h resource (and, with @nonempty, is not empty). */
static bool
rect_inside(const struct virtio_gpu_rect *rc, uint32_t w, uint32_t h, bool nonempty)
{
    uint64_t x = le32toh(rc->x), y = le32toh(rc->y);
    uint64_t rw = le32toh(rc->width), rh = le32toh(rc->height);

    if (nonempty && (rw == 0 || rh == 0)) {
        return false;
    }
    return x + rw <= w && y + rh <= h;
}

/* ---- requests and responses ---- */

/* Copies up to @len bytes of the chain's device-readable bytes from offset @skip. */
static uint64_t
chain_read(const VcBeChain *c, uint64_t skip, void *dst, uint64_t len)
{
    uint8_t *d = dst;
    uint64_t got = 0;

    for (unsigned i = 0; i < c->nsegs && got < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint64_t n;

        if (s->flags & VRING_DESC_F_WRITE) {
            continue;
        }
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        n = s->len - skip;
        n = n < len - got ? n : len - got;
        memcpy(d + got, s->hva + skip, n);
        got += n;
        skip = 0;
    }
    return got;
}

static uint64_t
chain_readable(const VcBeChain *c)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < c->nsegs; i++) {
        if (!(c->segs[i].flags & VRING_DESC_F_WRITE)) {
            n += c->segs[i].len;
        }
    }
    return n;
}

/* Writes the response into the device-writable buffers. Returns: bytes written (used.len). */
static uint32_t
chain_write(const VcBeChain *c, const void *src, uint32_t len)
{
    const uint8_t *p = src;
    uint32_t put = 0;

    for (unsigned i = 0; i < c->nsegs && put < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint32_t n;

        if (!(s->flags & VRING_DESC_F_WRITE) || s->len == 0) {
            continue;
        }
        n = s->len < len - put ? s->len : len - put;
        memcpy(s->hva, p + put, n);
        put += n;
    }
    return put;
}

typedef union GpuResp {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_resp_display_info display_info;
} GpuResp;

/* The response header for @req: virtio 1.x 5.7.6.7 fences are echoed. */
static void
resp_hdr(Gpu *g, struct virtio_gpu_ctrl_hdr *out, const struct virtio_gpu_ctrl_hdr *req,
         uint32_t type)
{
    memset(out, 0, sizeof(*out));
    out->type = htole32(type);
    if (le32toh(req->flags) & VIRTIO_GPU_FLAG_FENCE) {
        if (g->mutant != VC_MUT_GPU_FENCE_DROPPED) {
            out->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
        }
        out->fence_id = req->fence_id;
        out->ctx_id = req->ctx_id;
    }
}

static void
display_info(Gpu *g, struct virtio_gpu_resp_display_info *di)
{
    struct virtio_gpu_resp_display_info fe;

    /* As QEMU's vhost-user-gpu: the front end knows the displays, asked every time. */
    if (sock_ready(g) &&
        sock_begin(g, VHOST_USER_GPU_GET_DISPLAY_INFO, 0, NULL, 0,
                   vc_now_ms() + GPU_SOCK_WAIT_MS) == 0 &&
        sock_reply(g, VHOST_USER_GPU_GET_DISPLAY_INFO, &fe, sizeof(fe)) == 0) {
        memcpy(di->pmodes, fe.pmodes, GPU_NUM_SCANOUTS * sizeof(fe.pmodes[0]));
        return;
    }
    di->pmodes[0].r.width = htole32(GPU_FALLBACK_W);
    di->pmodes[0].r.height = htole32(GPU_FALLBACK_H);
    di->pmodes[0].enabled = htole32(1);
}

static uint32_t
cmd_create_2d(Gpu *g, const struct virtio_gpu_resource_create_2d *c)
{
    uint32_t id = le32toh(c->resource_id), w = le32toh(c->width), h = le32toh(c->height);
    uint32_t format = le32toh(c->format);
    uint64_t bytes = (uint64_t)w * h * 4;
    GpuResource *slot = NULL;

    if (id == 0 || res_find(g, id)) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!format_bytes(format, (uint8_t[4]){0}, NULL) || w == 0 || h == 0 || w > GPU_MAX_DIM ||
        h > GPU_MAX_DIM) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    for (unsigned i = 0; i < GPU_MAX_RESOURCES && !slot; i++) {
        slot = g->res[i].id ? NULL : &g->res[i];
    }
    if (!slot || g->host_bytes + bytes > GPU_MAX_HOST_BYTES) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    slot->pixels = calloc(1, bytes);
    if (!slot->pixels) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    slot->id = id;
    slot->format = format;
    slot->width = w;
    slot->height = h;
    g->host_bytes += bytes;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_unref(Gpu *g, uint32_t id)
{
    GpuResource *r = res_find(g, id);

    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* A scanout showing it goes dark first. */
    for (uint32_t s = 0; s < GPU_NUM_SCANOUTS; s++) {
        if (g->scanout[s].resource_id == id) {
            memset(&g->scanout[s], 0, sizeof(g->scanout[s]));
            send_scanout(g, s, 0, 0);
        }
    }
    res_free(g, r);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_set_scanout(Gpu *g, const struct virtio_gpu_set_scanout *c)
{
    uint32_t s = le32toh(c->scanout_id), id = le32toh(c->resource_id);
    GpuResource *r;

    if (s >= GPU_NUM_SCANOUTS) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (id == 0) {
        /* virtio 1.x 5.7.6.8: resource_id 0 disables the scanout. */
        memset(&g->scanout[s], 0, sizeof(g->scanout[s]));
        send_scanout(g, s, 0, 0);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    r = res_find(g, id);
    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* "Scanout rectangles must be completely covered by the underlying resource." */
    if (!rect_inside(&c->r, r->width, r->height, true)) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    g->scanout[s] = (GpuScanout){id, le32toh(c->r.x), le32toh(c->r.y), le32toh(c->r.width),
                                 le32toh(c->r.height)};
    send_scanout(g, s, g->scanout[s].w, g->scanout[s].h);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_flush(Gpu *g, const struct virtio_gpu_resource_flush *c)
{
    uint32_t id = le32toh(c->resource_id);
    GpuResource *r = res_find(g, id);
    uint32_t fx = le32toh(c->r.x), fy = le32toh(c->r.y);

    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(&c->r, r->width, r->height, false)) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    /* Every scanout showing the resource gets the part of the rectangle it shows. */
    for (uint32_t s = 0; s < GPU_NUM_SCANOUTS; s++) {
        const GpuScanout *sc = &g->scanout[s];
        uint32_t x0, y0, x1, y1;

        if (sc->resource_id != id) {
            continue;
        }
        x0 = fx > sc->x ? fx : sc->x;
        y0 = fy > sc->y ? fy : sc->y;
        x1 = fx + le32toh(c->r.width) < sc->x + sc->w ? fx + le32toh(c->r.width) : sc->x + sc->w;
        y1 = fy + le32toh(c->r.height) < sc->y + sc->h ? fy + le32toh(c->r.height)
                                                        : sc->y + sc->h;
        if (x0 < x1 && y0 < y1) {
            send_update(g, s, r, x0, y0, x1 - x0, y1 - y0, x0 - sc->x, y0 - sc->y);
        }
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Copies backing bytes [@off, @off + @len) to @dst. Returns: false when unmapped. */
static bool
backing_read(Gpu *g, const GpuResource *r, uint64_t off, uint8_t *dst, uint64_t len,
             unsigned *cursor, uint64_t *cursor_off)
{
    /* Rows come in increasing order: the entry search goes on from the last one. */
    if (off < *cursor_off) {
        *cursor = 0;
        *cursor_off = 0;
    }
    while (len) {
        const GpuEntry *e;
        uint64_t in, n;
        uint8_t *hva;

        while (*cursor < r->nentries && off >= *cursor_off + r->entries[*cursor].len) {
            *cursor_off += r->entries[*cursor].len;
            (*cursor)++;
        }
        if (*cursor >= r->nentries) {
            return false;
        }
        e = &r->entries[*cursor];
        in = off - *cursor_off;
        n = e->len - in < len ? e->len - in : len;
        hva = vc_be_gpa_to_hva(g->be, e->gpa + in, n);
        if (!hva) {
            return false;
        }
        memcpy(dst, hva, n);
        dst += n;
        off += n;
        len -= n;
    }
    return true;
}

static uint32_t
cmd_transfer_2d(Gpu *g, const struct virtio_gpu_transfer_to_host_2d *c)
{
    GpuResource *r = res_find(g, le32toh(c->resource_id));
    uint32_t x = le32toh(c->r.x), y = le32toh(c->r.y);
    uint32_t w = le32toh(c->r.width), h = le32toh(c->r.height);
    uint64_t off = le64toh(c->offset), stride, line;
    unsigned cursor = 0;
    uint64_t cursor_off = 0;

    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(&c->r, r->width, r->height, false)) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (!r->entries) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (w == 0 || h == 0) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    /* Line n of the box comes from offset + n * stride of the backing (QEMU's layout). */
    stride = (uint64_t)r->width * 4;
    line = (uint64_t)w * 4;
    if (off > r->backing_len || (h - 1) * stride + line > r->backing_len - off) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    for (uint32_t row = 0; row < h; row++) {
        uint8_t *dst = r->pixels + (y + row) * stride + (uint64_t)x * 4;

        if (!backing_read(g, r, off + row * stride, dst, line, &cursor, &cursor_off)) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_attach(Gpu *g, const VcBeChain *ch, const struct virtio_gpu_resource_attach_backing *c)
{
    GpuResource *r = res_find(g, le32toh(c->resource_id));
    uint32_t n = le32toh(c->nr_entries);
    uint64_t total = 0;
    GpuEntry *e;

    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->entries) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (n == 0 || n > GPU_MAX_ENTRIES) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (chain_readable(ch) < sizeof(*c) + (uint64_t)n * sizeof(struct virtio_gpu_mem_entry)) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (g->all_entries + n > GPU_MAX_ALL_ENTRIES) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    e = calloc(n, sizeof(*e));
    if (!e) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct virtio_gpu_mem_entry me;

        chain_read(ch, sizeof(*c) + (uint64_t)i * sizeof(me), &me, sizeof(me));
        e[i].gpa = le64toh(me.addr);
        e[i].len = le32toh(me.length);
        /* Every page must be guest memory now; it is translated again at each transfer. */
        if (e[i].gpa + e[i].len < e[i].gpa ||
            (e[i].len && !vc_be_gpa_to_hva(g->be, e[i].gpa, e[i].len))) {
            free(e);
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        total += e[i].len;
    }
    r->entries = e;
    r->nentries = n;
    r->backing_len = total;
    g->all_entries += n;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_detach(Gpu *g, uint32_t id)
{
    GpuResource *r = res_find(g, id);

    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!r->entries) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    res_detach(g, r);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The fixed request size of each command, 0 for one we do not implement. */
static uint32_t
cmd_size(uint32_t type)
{
    switch (type) {
    case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
        return sizeof(struct virtio_gpu_ctrl_hdr);
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
        return sizeof(struct virtio_gpu_resource_create_2d);
    case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return sizeof(struct virtio_gpu_resource_unref);
    case VIRTIO_GPU_CMD_SET_SCANOUT:
        return sizeof(struct virtio_gpu_set_scanout);
    case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
        return sizeof(struct virtio_gpu_resource_flush);
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
        return sizeof(struct virtio_gpu_transfer_to_host_2d);
    case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return sizeof(struct virtio_gpu_resource_attach_backing);
    case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        return sizeof(struct virtio_gpu_resource_detach_backing);
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
        return sizeof(struct virtio_gpu_get_capset_info);
    case VIRTIO_GPU_CMD_GET_CAPSET:
        return sizeof(struct virtio_gpu_get_capset);
    case VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case VIRTIO_GPU_CMD_MOVE_CURSOR:
        return sizeof(struct virtio_gpu_update_cursor);
    default:
        return 0;
    }
}

/* A command on controlq. Returns: the response type; fills @resp beyond the header. */
static uint32_t
control(Gpu *g, const VcBeChain *ch, const void *req, uint32_t type, GpuResp *resp,
        uint32_t *resp_len)
{
    const struct virtio_gpu_resource_unref *unref = req;
    const struct virtio_gpu_resource_detach_backing *det = req;
    uint32_t t;

    switch (type) {
    case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
        display_info(g, &resp->display_info);
        *resp_len = sizeof(resp->display_info);
        return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
        return cmd_create_2d(g, req);
    case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return cmd_unref(g, le32toh(unref->resource_id));
    case VIRTIO_GPU_CMD_SET_SCANOUT:
        return cmd_set_scanout(g, req);
    case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
        return cmd_flush(g, req);
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
        return cmd_transfer_2d(g, req);
    case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return cmd_attach(g, ch, req);
    case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        t = cmd_detach(g, le32toh(det->resource_id));
        if (t == VIRTIO_GPU_RESP_OK_NODATA && g->mutant == VC_MUT_GPU_WRONG_RESP_TYPE) {
            t = type;   /* Mutant: the command's own type comes back. */
        }
        return t;
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
    case VIRTIO_GPU_CMD_GET_CAPSET:
        /* num_capsets is 0: no capset index or id is valid. */
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    default:
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
}

/* A command on cursorq: UPDATE_CURSOR and MOVE_CURSOR (virtio 1.x 5.7.6.10). */
static uint32_t
cursor(Gpu *g, const struct virtio_gpu_update_cursor *c, uint32_t type)
{
    uint32_t s = le32toh(c->pos.scanout_id), id = le32toh(c->resource_id);
    VhostUserGpuCursorPos pos = {s, le32toh(c->pos.x), le32toh(c->pos.y)};
    GpuResource *r;
    uint8_t bytes[4];
    bool alpha;

    if (type != VIRTIO_GPU_CMD_UPDATE_CURSOR && type != VIRTIO_GPU_CMD_MOVE_CURSOR) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (s >= GPU_NUM_SCANOUTS) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (type == VIRTIO_GPU_CMD_MOVE_CURSOR) {
        /* Only the position: a hidden cursor stays hidden. */
        if (sock_ready(g)) {
            sock_begin(g, g->cursor_visible ? VHOST_USER_GPU_CURSOR_POS
                                            : VHOST_USER_GPU_CURSOR_POS_HIDE,
                       sizeof(pos), &pos, sizeof(pos), vc_now_ms() + GPU_SOCK_WAIT_MS);
        }
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    if (id == 0) {
        g->cursor_visible = false;
        if (sock_ready(g)) {
            sock_begin(g, VHOST_USER_GPU_CURSOR_POS_HIDE, sizeof(pos), &pos, sizeof(pos),
                       vc_now_ms() + GPU_SOCK_WAIT_MS);
        }
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    r = res_find(g, id);
    if (!r) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* 5.7.6 "Configure mouse cursor": the image is a 64x64 resource. */
    if (r->width != GPU_CURSOR_DIM || r->height != GPU_CURSOR_DIM ||
        !format_bytes(r->format, bytes, &alpha)) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    g->cursor_visible = true;
    if (!sock_ready(g)) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    g->cursor.pos = pos;
    g->cursor.hot_x = le32toh(c->hot_x);
    g->cursor.hot_y = le32toh(c->hot_y);
    for (unsigned i = 0; i < GPU_CURSOR_DIM * GPU_CURSOR_DIM; i++) {
        g->cursor.data[i] = pixel_xrgb(r->pixels + (size_t)i * 4, bytes, !alpha);
    }
    sock_begin(g, VHOST_USER_GPU_CURSOR_UPDATE, sizeof(g->cursor), &g->cursor,
               sizeof(g->cursor), vc_now_ms() + GPU_SOCK_WAIT_MS);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
gpu_handle_chain(VcBe *be, const VcBeChain *c, void *opaque)
{
    Gpu *g = opaque;
    union {
        struct virtio_gpu_ctrl_hdr hdr;
        uint8_t raw[64];
    } req;
    uint64_t have = chain_readable(c);
    GpuResp resp;
    uint32_t type, want, resp_len = sizeof(resp.hdr), rtype;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    chain_read(c, 0, &req, sizeof(req));
    if (have < sizeof(req.hdr)) {
        /* Not even a header: nothing to echo. */
        resp.hdr.type = htole32(VIRTIO_GPU_RESP_ERR_UNSPEC);
        return chain_write(c, &resp, sizeof(resp.hdr));
    }
    type = le32toh(req.hdr.type);
    want = cmd_size(type);
    if (want && have < want) {
        rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;
    } else if (c->queue == GPU_CURSORQ) {
        rtype = cursor(g, (const void *)req.raw, type);
    } else if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR || type == VIRTIO_GPU_CMD_MOVE_CURSOR) {
        rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;     /* cursor commands belong on cursorq */
    } else {
        rtype = control(g, c, req.raw, type, &resp, &resp_len);
    }
    if (g->mutant == VC_MUT_GPU_ACCEPT_BAD_ID && type != VIRTIO_GPU_CMD_RESOURCE_CREATE_2D &&
        rtype == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID) {
        rtype = VIRTIO_GPU_RESP_OK_NODATA;      /* Mutant: unknown ids go unnoticed. */
    }
    if (rtype != VIRTIO_GPU_RESP_OK_DISPLAY_INFO) {
        resp_len = sizeof(resp.hdr);
    }
    resp_hdr(g, &resp.hdr, &req.hdr, rtype);
    vc_be_log(be, "ring %u: %s 0x%x -> 0x%x", c->queue, c->queue ? "cursor" : "command", type,
              rtype);
    return chain_write(c, &resp, resp_len);
}

/* ---- config space (struct virtio_gpu_config) ---- */

static void
gpu_get_config(VcBe *be, uint8_t *buf, void *opaque)
{
    Gpu *g = opaque;
    struct virtio_gpu_config c = {
        .events_read = htole32(g->events_read),
        .events_clear = 0,
        .num_scanouts = htole32(GPU_NUM_SCANOUTS),
        .num_capsets = 0,
    };

    memcpy(buf, &c, sizeof(c));
}

#define GPU_CFG_OFF(f) offsetof(struct virtio_gpu_config, f)

/*
 * virtio 1.x 5.7.4: events_clear is write-to-clear, the rest is read-only
 * for the driver (flags 0). A migration write (flags 1) may also restore
 * events_read; num_scanouts and num_capsets cannot change.
 */
static int
gpu_set_config(VcBe *be, uint32_t off, const uint8_t *data, uint32_t size, uint32_t flags,
               void *opaque)
{
    Gpu *g = opaque;
    struct virtio_gpu_config cur, now;
    uint32_t clear;

    gpu_get_config(NULL, (uint8_t *)&cur, g);
    now = cur;
    memcpy((uint8_t *)&now + off, data, size);
    for (uint32_t at = off; at < off + size; at++) {
        bool clear_field = at >= GPU_CFG_OFF(events_clear) && at < GPU_CFG_OFF(num_scanouts);
        bool read_field = at < GPU_CFG_OFF(events_clear);

        if (clear_field || (read_field && flags == VHOST_SET_CONFIG_TYPE_MIGRATION)) {
            continue;
        }
        if (flags != VHOST_SET_CONFIG_TYPE_MIGRATION ||
            ((uint8_t *)&now)[at] != ((uint8_t *)&cur)[at]) {
            return -EPERM;
        }
    }
    if (flags == VHOST_SET_CONFIG_TYPE_MIGRATION) {
        g->events_read = le32toh(now.events_read);
    }
    clear = le32toh(now.events_clear);
    g->events_read &= ~clear;
    return 0;
}

/* ---- life cycle ---- */

static void
gpu_event(VcBe *be, VcBeEvent ev, unsigned q, void *opaque)
{
    Gpu *g = opaque;

    switch (ev) {
    case VC_BE_EV_RESET:
        gpu_reset(g);
        break;
    case VC_BE_EV_DISCONNECT:
        gpu_reset(g);
        sock_close(g, NULL);
        break;
    default:
        break;
    }
}

static void
gpu_attach(VcBe *be, void *opaque)
{
    Gpu *g = opaque;

    g->be = be;
    g->mutant = vc_be_mutant(be);
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g->epfd < 0 || vc_be_watch(be, g->epfd, sock_event, g) < 0) {
        vc_be_note(be, "no watch for the gpu socket: its replies are read when needed");
    }
}

static void
gpu_detach(VcBe *be, void *opaque)
{
    Gpu *g = opaque;

    gpu_reset(g);
    sock_close(g, NULL);
    if (g->epfd >= 0) {
        close(g->epfd);
        g->epfd = -1;
    }
}

int
main(int argc, char **argv)
{
    /*
     * The transport features of the other references, but not
     * ACCESS_PLATFORM: backing pages are guest-physical addresses this
     * daemon translates itself, never through an IOTLB. No EDID, no virgl.
     * No DEVICE_STATE: resources would have to travel with it.
     */
    VcBeDevice dev = {
        .type = "gpu",
        .prog = "vhost-user-gpu-ref",
        .device_id = VIRTIO_ID_GPU,
        .features = VC_F(VIRTIO_F_VERSION_1) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |
                    VC_F(VIRTIO_RING_F_EVENT_IDX) | VC_F(VIRTIO_RING_F_INDIRECT_DESC) |
                    VC_F(VIRTIO_F_RING_PACKED) | VC_F(VHOST_F_LOG_ALL),
        .pfeatures = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(REPLY_ACK) | VC_PF(BACKEND_REQ) |
                     VC_PF(PAGEFAULT) | VC_PF(CONFIG) | VC_PF(RESET_DEVICE) |
                     VC_PF(CONFIGURE_MEM_SLOTS) | VC_PF(STATUS),
        .num_queues = 2,
        .attach = gpu_attach,
        .detach = gpu_detach,
        .handle_chain = gpu_handle_chain,
        .event = gpu_event,
        .config_len = sizeof(struct virtio_gpu_config),
        .get_config = gpu_get_config,
        .set_config = gpu_set_config,
        .fd_request = gpu_fd_request,
        .opaque = &gpu_state,
    };

    return vc_be_main(argc, argv, &dev);
}
