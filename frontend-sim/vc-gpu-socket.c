/*
 * vc-gpu-socket.c -- the vhost-user-gpu socket: codec and the front end's end.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vc-gpu-socket.h"

/* --- Codec ---------------------------------------------------------------------------- */

#define ROW(req, pl, reply, fds, gate) \
    [VHOST_USER_GPU_##req] = {VHOST_USER_GPU_##req, "VHOST_USER_GPU_" #req, pl, reply, fds, gate},

/* vhost-user-gpu.rst "Message types"; GET_EDID and DMABUF_SCANOUT2 from later QEMU. */
static const VcGpuMsgInfo gpu_table[VHOST_USER_GPU_MAX] = {
    ROW(GET_PROTOCOL_FEATURES, VC_GPU_PL_NONE, VC_GPU_REPLY_U64, 0, -1)
    ROW(SET_PROTOCOL_FEATURES, VC_GPU_PL_U64, VC_GPU_REPLY_NONE, 0, -1)
    ROW(GET_DISPLAY_INFO, VC_GPU_PL_NONE, VC_GPU_REPLY_DISPLAY_INFO, 0, -1)
    ROW(CURSOR_POS, VC_GPU_PL_CURSOR_POS, VC_GPU_REPLY_NONE, 0, -1)
    ROW(CURSOR_POS_HIDE, VC_GPU_PL_CURSOR_POS, VC_GPU_REPLY_NONE, 0, -1)
    ROW(CURSOR_UPDATE, VC_GPU_PL_CURSOR_UPDATE, VC_GPU_REPLY_NONE, 0, -1)
    ROW(SCANOUT, VC_GPU_PL_SCANOUT, VC_GPU_REPLY_NONE, 0, -1)
    ROW(UPDATE, VC_GPU_PL_UPDATE, VC_GPU_REPLY_NONE, 0, -1)
    ROW(DMABUF_SCANOUT, VC_GPU_PL_DMABUF_SCANOUT, VC_GPU_REPLY_NONE, 1, -1)
    ROW(DMABUF_UPDATE, VC_GPU_PL_DMABUF_UPDATE, VC_GPU_REPLY_EMPTY, 0, -1)
    ROW(GET_EDID, VC_GPU_PL_EDID_REQUEST, VC_GPU_REPLY_EDID, 0, VHOST_USER_GPU_PROTOCOL_F_EDID)
    ROW(DMABUF_SCANOUT2, VC_GPU_PL_DMABUF_SCANOUT2, VC_GPU_REPLY_NONE, 1,
        VHOST_USER_GPU_PROTOCOL_F_DMABUF2)
};
#undef ROW

const VcGpuMsgInfo *
vc_gpu_msg_info(uint32_t request)
{
    if (request >= VHOST_USER_GPU_MAX || !gpu_table[request].name) {
        return NULL;
    }
    return &gpu_table[request];
}

const char *
vc_gpu_msg_name(uint32_t request)
{
    const VcGpuMsgInfo *i = vc_gpu_msg_info(request);

    return i ? i->name : "UNKNOWN";
}

static uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

unsigned
vc_gpu_msg_check(const VhostUserGpuHeader *hdr, const uint8_t *payload, size_t avail,
                 unsigned nfds, uint64_t pfeatures)
{
    const VcGpuMsgInfo *info = vc_gpu_msg_info(hdr->request);
    unsigned faults = 0;
    uint64_t want = 0;
    bool exact = true;

    if (!info) {
        return VC_GPU_FAULT_UNKNOWN | (nfds ? VC_GPU_FAULT_FDS : 0);
    }
    /* Requests carry no flags: bit 2 marks replies and nothing else is defined. */
    if (hdr->flags) {
        faults |= VC_GPU_FAULT_FLAGS;
    }
    switch (info->payload) {
    case VC_GPU_PL_NONE:
        want = 0;
        break;
    case VC_GPU_PL_U64:
        want = 8;
        break;
    case VC_GPU_PL_CURSOR_POS:
        want = sizeof(VhostUserGpuCursorPos);
        break;
    case VC_GPU_PL_CURSOR_UPDATE:
        want = sizeof(VhostUserGpuCursorUpdate);
        break;
    case VC_GPU_PL_SCANOUT:
        want = sizeof(VhostUserGpuScanout);
        break;
    case VC_GPU_PL_UPDATE:
        want = sizeof(VhostUserGpuUpdate);
        exact = false;
        if (hdr->size >= want && avail >= want) {
            const VhostUserGpuUpdate *u = (const void *)payload;
            uint64_t pixels = (uint64_t)u->width * u->height * 4;
            if (hdr->size != want + pixels) {
                faults |= VC_GPU_FAULT_SIZE;
            }
        }
        break;
    case VC_GPU_PL_DMABUF_SCANOUT:
        want = sizeof(VhostUserGpuDMABUFScanout);
        break;
    case VC_GPU_PL_DMABUF_UPDATE:
        want = sizeof(VhostUserGpuUpdate);
        break;
    case VC_GPU_PL_EDID_REQUEST:
        want = sizeof(VhostUserGpuEdidRequest);
        break;
    case VC_GPU_PL_DMABUF_SCANOUT2:
        want = sizeof(VhostUserGpuDMABUFScanout2);
        break;
    }
    if (exact ? hdr->size != want : hdr->size < want) {
        faults |= VC_GPU_FAULT_SIZE;
    }
    if (nfds > (unsigned)info->max_fds) {
        faults |= VC_GPU_FAULT_FDS;
    }
    if (info->gate >= 0 && !((pfeatures >> info->gate) & 1)) {
        faults |= VC_GPU_FAULT_GATE;
    }
    /* Every payload with a scanout id starts with it. */
    if (info->payload != VC_GPU_PL_NONE && info->payload != VC_GPU_PL_U64 && avail >= 4 &&
        hdr->size >= 4 && rd32(payload) >= VIRTIO_GPU_MAX_SCANOUTS) {
        faults |= VC_GPU_FAULT_FIELD;
    }
    return faults;
}

size_t
vc_gpu_encode_reply(uint8_t *buf, uint32_t request, const void *payload, uint32_t size)
{
    VhostUserGpuHeader h = {request, VHOST_USER_GPU_MSG_FLAG_REPLY, size};

    memcpy(buf, &h, sizeof(h));
    if (size) {
        if (payload) {
            memcpy(buf + sizeof(h), payload, size);
        } else {
            memset(buf + sizeof(h), 0, size);
        }
    }
    return sizeof(h) + size;
}

void
vc_gpu_fill_display_info(struct virtio_gpu_resp_display_info *out, unsigned n, uint32_t w,
                         uint32_t h)
{
    memset(out, 0, sizeof(*out));
    out->hdr.type = htole32(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    for (unsigned i = 0; i < n && i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
        out->pmodes[i].enabled = htole32(1);
        out->pmodes[i].r.width = htole32(w);
        out->pmodes[i].r.height = htole32(h);
    }
}

void
vc_gpu_fill_edid(struct virtio_gpu_resp_edid *out, uint32_t w, uint32_t h)
{
    static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    uint8_t *e = out->edid;
    uint8_t sum = 0;

    memset(out, 0, sizeof(*out));
    out->hdr.type = htole32(VIRTIO_GPU_RESP_OK_EDID);
    out->size = htole32(128);
    memcpy(e, header, sizeof(header));
    e[8] = 0x59;                  /* manufacturer "VCT" (compressed ASCII) */
    e[9] = 0x74;
    e[16] = 1;                    /* week, */
    e[17] = 34;                   /* year 2024 */
    e[18] = 1;                    /* EDID 1.4 */
    e[19] = 4;
    e[20] = 0xa5;                 /* digital input, 8 bits per colour, DisplayPort */
    /* First detailed timing descriptor: the preferred mode's active area only. */
    e[54] = 0x01;                 /* a non-zero pixel clock marks a timing */
    e[56] = w & 0xff;
    e[58] = (uint8_t)(((w >> 8) & 0x0f) << 4);
    e[59] = h & 0xff;
    e[61] = (uint8_t)(((h >> 8) & 0x0f) << 4);
    for (unsigned i = 0; i < 127; i++) {
        sum += e[i];
    }
    e[127] = (uint8_t)(0x100 - sum);
}

/* --- The socket ----------------------------------------------------------------------- */

#define MAX_SANE_PAYLOAD (256u << 20)  /* beyond this the stream cannot be followed */

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;

    do {
        r = poll(&p, 1, ms < 0 ? 0 : ms);
    } while (r < 0 && errno == EINTR);
    return r;
}

VcGpuSock *
vc_gpu_sock_new(int fd, size_t update_cap)
{
    VcGpuSock *s = calloc(1, sizeof(*s));
    int fl;

    if (!s) {
        return NULL;
    }
    s->fd = fd;
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    s->timeout_ms = 2000;
    s->pfeatures_offered = (1ull << VHOST_USER_GPU_PROTOCOL_F_EDID) |
                           (1ull << VHOST_USER_GPU_PROTOCOL_F_DMABUF2);
    s->n_displays = 1;
    s->display_w = 1280;
    s->display_h = 800;
    s->update_cap = update_cap ? update_cap : 1280u * 800u * 4u;
    /* Payloads only: the header is read apart. */
    s->buf_cap = sizeof(VhostUserGpuUpdate) + s->update_cap;
    if (s->buf_cap < sizeof(VhostUserGpuCursorUpdate)) {
        s->buf_cap = sizeof(VhostUserGpuCursorUpdate);
    }
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    s->buf = malloc(s->buf_cap);
    s->update_data = malloc(s->update_cap);
    if (!s->buf || !s->update_data) {
        vc_gpu_sock_free(s);
        return NULL;
    }
    return s;
}

void
vc_gpu_sock_free(VcGpuSock *s)
{
    if (!s) {
        return;
    }
    if (s->running) {
        char b = 1;
        while (write(s->wake[1], &b, 1) < 0 && errno == EINTR) {
        }
        pthread_join(s->thread, NULL);
        s->running = false;
    }
    for (int i = 0; i < 2; i++) {
        if (s->wake[i] >= 0) {
            close(s->wake[i]);
        }
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->buf);
    free(s->update_data);
    free(s);
}

static void
mark_broken(VcGpuSock *s, const char *why)
{
    if (!s->first_fault[0] && why) {
        snprintf(s->first_fault, sizeof(s->first_fault), "%s", why);
    }
    s->broken = true;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* Reads exactly @n bytes (into @dst, or discarded when NULL) before @deadline. */
static bool
read_full(VcGpuSock *s, uint8_t *dst, size_t n, int64_t deadline)
{
    uint8_t sink[4096];

    while (n) {
        size_t want = dst ? n : (n < sizeof(sink) ? n : sizeof(sink));
        ssize_t r = read(s->fd, dst ? dst : sink, want);
        if (r > 0) {
            n -= (size_t)r;
            if (dst) {
                dst += r;
            }
            continue;
        }
        if (r == 0) {
            return false;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return false;
        }
        if (wait_fd(s->fd, POLLIN, (int)(deadline - now_ms())) <= 0) {
            return false;
        }
    }
    return true;
}

static void
send_reply(VcGpuSock *s, uint32_t request, const void *payload, uint32_t size)
{
    uint8_t out[VHOST_USER_GPU_HDR_SIZE + sizeof(struct virtio_gpu_resp_edid)];
    size_t len = vc_gpu_encode_reply(out, request, payload, size), off = 0;
    int64_t deadline = now_ms() + s->timeout_ms;

    while (off < len) {
        ssize_t w = send(s->fd, out + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                   wait_fd(s->fd, POLLOUT, (int)(deadline - now_ms())) > 0) {
            continue;
        } else {
            mark_broken(s, "a reply could not be written to the gpu socket");
            return;
        }
    }
}

static void
record(VcGpuSock *s, const VhostUserGpuHeader *h, const uint8_t *p, size_t avail, unsigned nfds,
       unsigned faults)
{
    VcGpuEvent *e = &s->events[s->n_events++ % VC_GPU_SOCK_EVENTS];

    memset(e, 0, sizeof(*e));
    e->request = h->request;
    e->flags = h->flags;
    e->size = h->size;
    e->nfds = nfds;
    e->faults = faults;
    if (avail >= 4) {
        e->scanout_id = rd32(p);
    }
    switch (h->request) {
    case VHOST_USER_GPU_CURSOR_POS:
    case VHOST_USER_GPU_CURSOR_POS_HIDE:
    case VHOST_USER_GPU_CURSOR_UPDATE:
        if (avail >= sizeof(VhostUserGpuCursorPos)) {
            e->x = rd32(p + 4);
            e->y = rd32(p + 8);
        }
        break;
    case VHOST_USER_GPU_SCANOUT:
        if (avail >= sizeof(VhostUserGpuScanout)) {
            e->w = rd32(p + 4);
            e->h = rd32(p + 8);
        }
        break;
    case VHOST_USER_GPU_UPDATE:
    case VHOST_USER_GPU_DMABUF_UPDATE:
    case VHOST_USER_GPU_DMABUF_SCANOUT:
    case VHOST_USER_GPU_DMABUF_SCANOUT2:
        if (avail >= sizeof(VhostUserGpuUpdate)) {
            e->x = rd32(p + 4);
            e->y = rd32(p + 8);
            e->w = rd32(p + 12);
            e->h = rd32(p + 16);
        }
        break;
    default:
        break;
    }
}

/* One request, header already read: @p holds @avail of its payload bytes. */
static void
handle(VcGpuSock *s, const VhostUserGpuHeader *h, const uint8_t *p, size_t avail, unsigned nfds)
{
    const VcGpuMsgInfo *info = vc_gpu_msg_info(h->request);
    unsigned faults = vc_gpu_msg_check(h, p, avail, nfds, s->pfeatures);
    bool whole = avail == h->size;
    uint32_t id = avail >= 4 ? rd32(p) : 0;

    if (h->request < VHOST_USER_GPU_MAX) {
        s->count[h->request]++;
    } else {
        s->unknown++;
    }
    if (faults) {
        s->faulty++;
        s->fault_mask |= faults;
        if (!s->first_fault[0]) {
            snprintf(s->first_fault, sizeof(s->first_fault),
                     "%s (request %u) flags 0x%x size %u with %u fd(s): fault mask 0x%x",
                     vc_gpu_msg_name(h->request), h->request, h->flags, h->size, nfds, faults);
        }
    }
    record(s, h, p, avail, nfds, faults);
    if (!info) {
        return;
    }
    switch (h->request) {
    case VHOST_USER_GPU_SET_PROTOCOL_FEATURES:
        if (avail >= 8) {
            memcpy(&s->pfeatures, p, 8);
            s->pfeatures_set = true;
        }
        break;
    case VHOST_USER_GPU_SCANOUT:
        if (avail >= sizeof(VhostUserGpuScanout) && id < VIRTIO_GPU_MAX_SCANOUTS) {
            VcGpuScanoutState *sc = &s->scanout[id];
            sc->set = true;
            sc->dmabuf = false;
            sc->width = rd32(p + 4);
            sc->height = rd32(p + 8);
        }
        break;
    case VHOST_USER_GPU_DMABUF_SCANOUT:
    case VHOST_USER_GPU_DMABUF_SCANOUT2:
        if (avail >= sizeof(VhostUserGpuDMABUFScanout) && id < VIRTIO_GPU_MAX_SCANOUTS) {
            VcGpuScanoutState *sc = &s->scanout[id];
            sc->set = true;
            sc->dmabuf = true;
            memcpy(&sc->dmabuf_info, p, sizeof(sc->dmabuf_info));
            sc->width = sc->dmabuf_info.width;
            sc->height = sc->dmabuf_info.height;
        }
        break;
    case VHOST_USER_GPU_UPDATE:
        if (avail >= sizeof(VhostUserGpuUpdate)) {
            size_t n = avail - sizeof(VhostUserGpuUpdate);
            s->update_truncated = !whole || n > s->update_cap;
            if (n > s->update_cap) {
                n = s->update_cap;
            }
            memcpy(&s->last_update, p, sizeof(s->last_update));
            memcpy(s->update_data, p + sizeof(VhostUserGpuUpdate), n);
            s->update_len = n;
        }
        break;
    default:
        break;
    }
    switch (info->reply) {
    case VC_GPU_REPLY_NONE:
        break;
    case VC_GPU_REPLY_U64:
        send_reply(s, h->request, &s->pfeatures_offered, 8);
        break;
    case VC_GPU_REPLY_DISPLAY_INFO: {
        struct virtio_gpu_resp_display_info di;
        vc_gpu_fill_display_info(&di, s->n_displays, s->display_w, s->display_h);
        send_reply(s, h->request, &di, sizeof(di));
        break;
    }
    case VC_GPU_REPLY_EDID: {
        struct virtio_gpu_resp_edid edid;
        vc_gpu_fill_edid(&edid, s->display_w, s->display_h);
        send_reply(s, h->request, &edid, sizeof(edid));
        break;
    }
    case VC_GPU_REPLY_EMPTY:
        /* QEMU without GL answers at once (vhost_user_gpu_unblock()). */
        send_reply(s, h->request, NULL, 0);
        break;
    }
}

/* Reads one message when one is waiting. Returns: 1 handled, 0 none waiting, -1 broken. */
static int
serve_one(VcGpuSock *s)
{
    VhostUserGpuHeader h;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 8)];
    } ctl;
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                        .msg_controllen = sizeof(ctl.buf)};
    int64_t deadline;
    unsigned nfds = 0;
    size_t keep;
    ssize_t r;

    do {
        r = recvmsg(s->fd, &mh, MSG_CMSG_CLOEXEC);
    } while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
    }
    if (r <= 0) {
        mark_broken(s, r == 0 ? NULL : "read error on the gpu socket");
        return -1;
    }
    /* fds come with the first bytes of the message; they are counted and closed. */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            unsigned n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (unsigned i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                close(fd);
            }
            nfds += n;
        }
    }
    deadline = now_ms() + s->timeout_ms;
    if ((size_t)r < sizeof(h) && !read_full(s, (uint8_t *)&h + r, sizeof(h) - (size_t)r,
                                            deadline)) {
        mark_broken(s, "a gpu socket message was cut short in its header");
        return -1;
    }
    if (h.size > MAX_SANE_PAYLOAD) {
        char why[96];
        snprintf(why, sizeof(why), "a gpu socket message announced %u payload bytes", h.size);
        mark_broken(s, why);
        return -1;
    }
    keep = h.size < s->buf_cap ? h.size : s->buf_cap;
    if (!read_full(s, s->buf, keep, deadline) ||
        !read_full(s, NULL, h.size - keep, deadline)) {
        char why[128];
        snprintf(why, sizeof(why), "%s: its %u payload bytes did not all arrive within %d ms",
                 vc_gpu_msg_name(h.request), h.size, s->timeout_ms);
        mark_broken(s, why);
        return -1;
    }
    handle(s, &h, s->buf, keep, nfds);
    return s->broken ? -1 : 1;
}

static int
serve_locked(VcGpuSock *s)
{
    int handled = 0;

    for (;;) {
        int r = serve_one(s);
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            return handled;
        }
        handled++;
        s->handled++;
    }
}

static void *
serve_thread(void *opaque)
{
    VcGpuSock *s = opaque;

    for (;;) {
        struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
                              {.fd = s->wake[0], .events = POLLIN}};
        int r = poll(p, 2, -1);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || p[1].revents) {
            return NULL;
        }
        pthread_mutex_lock(&s->lock);
        r = serve_locked(s);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
            return NULL;
        }
    }
}

int
vc_gpu_sock_start(VcGpuSock *s)
{
    int r;

    if (s->running) {
        return 0;
    }
    if (s->broken) {
        return -EPIPE;
    }
    if (pipe2(s->wake, O_CLOEXEC) < 0) {
        return -errno;
    }
    r = pthread_create(&s->thread, NULL, serve_thread, s);
    if (r) {
        close(s->wake[0]);
        close(s->wake[1]);
        s->wake[0] = s->wake[1] = -1;
        return -r;
    }
    s->running = true;
    return 0;
}

void
vc_gpu_sock_lock(VcGpuSock *s)
{
    pthread_mutex_lock(&s->lock);
}

void
vc_gpu_sock_unlock(VcGpuSock *s)
{
    pthread_mutex_unlock(&s->lock);
}

static struct timespec
abs_deadline(int64_t deadline_ms)
{
    struct timespec ts = {deadline_ms / 1000, (deadline_ms % 1000) * 1000000};

    return ts;
}

int
vc_gpu_sock_serve(VcGpuSock *s, int timeout_ms)
{
    int r;

    if (s->running) {
        int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        struct timespec ts = abs_deadline(deadline);
        uint64_t before;

        pthread_mutex_lock(&s->lock);
        before = s->handled;
        while (s->handled == before && !s->broken && timeout_ms > 0 &&
               pthread_cond_timedwait(&s->cond, &s->lock, &ts) == 0) {
        }
        r = s->broken ? -1 : (int)(s->handled - before);
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    if (s->broken) {
        return -1;
    }
    if (wait_fd(s->fd, POLLIN, timeout_ms) <= 0) {
        return 0;
    }
    return serve_locked(s);
}

bool
vc_gpu_sock_wait(VcGpuSock *s, uint32_t request, uint64_t before, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    bool got;

    if (request >= VHOST_USER_GPU_MAX) {
        return false;
    }
    if (s->running) {
        struct timespec ts = abs_deadline(deadline);

        pthread_mutex_lock(&s->lock);
        while (s->count[request] <= before && !s->broken &&
               pthread_cond_timedwait(&s->cond, &s->lock, &ts) == 0) {
        }
        got = s->count[request] > before;
        pthread_mutex_unlock(&s->lock);
        return got;
    }
    while (s->count[request] <= before) {
        int64_t left = deadline - now_ms();
        if (left <= 0 || vc_gpu_sock_serve(s, (int)left) < 0) {
            return s->count[request] > before;
        }
    }
    return true;
}

const VcGpuEvent *
vc_gpu_sock_event(const VcGpuSock *s, unsigned i)
{
    if (i >= VC_GPU_SOCK_EVENTS || i >= s->n_events) {
        return NULL;
    }
    return &s->events[(s->n_events - 1 - i) % VC_GPU_SOCK_EVENTS];
}
