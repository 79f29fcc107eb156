/*
 * vc-drv-gpu.c -- virtio-gpu driver side and its vhost-user-gpu socket.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vc-drv-gpu.h"
#include "vc-error.h"

/* --- Builders ----------------------------------------------------------------------------- */

void
vc_gpu_hdr(struct virtio_gpu_ctrl_hdr *h, uint32_t type, bool fence, uint64_t fence_id)
{
    memset(h, 0, sizeof(*h));
    h->type = htole32(type);
    if (fence) {
        h->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
        h->fence_id = htole64(fence_id);
    }
}

void
vc_gpu_build_create_2d(struct virtio_gpu_resource_create_2d *c, uint32_t id, uint32_t format,
                       uint32_t w, uint32_t h)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, false, 0);
    c->resource_id = htole32(id);
    c->format = htole32(format);
    c->width = htole32(w);
    c->height = htole32(h);
}

static void
rect(struct virtio_gpu_rect *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    r->x = htole32(x);
    r->y = htole32(y);
    r->width = htole32(w);
    r->height = htole32(h);
}

void
vc_gpu_build_set_scanout(struct virtio_gpu_set_scanout *c, uint32_t scanout, uint32_t id,
                         uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_SET_SCANOUT, false, 0);
    rect(&c->r, x, y, w, h);
    c->scanout_id = htole32(scanout);
    c->resource_id = htole32(id);
}

void
vc_gpu_build_transfer_2d(struct virtio_gpu_transfer_to_host_2d *c, uint32_t id, uint32_t x,
                         uint32_t y, uint32_t w, uint32_t h, uint64_t offset)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, false, 0);
    rect(&c->r, x, y, w, h);
    c->offset = htole64(offset);
    c->resource_id = htole32(id);
    c->padding = 0;
}

void
vc_gpu_build_flush(struct virtio_gpu_resource_flush *c, uint32_t id, uint32_t x, uint32_t y,
                   uint32_t w, uint32_t h)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_RESOURCE_FLUSH, false, 0);
    rect(&c->r, x, y, w, h);
    c->resource_id = htole32(id);
    c->padding = 0;
}

void
vc_gpu_build_unref(struct virtio_gpu_resource_unref *c, uint32_t id)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_RESOURCE_UNREF, false, 0);
    c->resource_id = htole32(id);
    c->padding = 0;
}

void
vc_gpu_build_detach(struct virtio_gpu_resource_detach_backing *c, uint32_t id)
{
    vc_gpu_hdr(&c->hdr, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, false, 0);
    c->resource_id = htole32(id);
    c->padding = 0;
}

uint32_t
vc_gpu_build_attach(uint8_t *buf, uint32_t id, const struct virtio_gpu_mem_entry *e, unsigned n)
{
    struct virtio_gpu_resource_attach_backing a;

    vc_gpu_hdr(&a.hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, false, 0);
    a.resource_id = htole32(id);
    a.nr_entries = htole32(n);
    memcpy(buf, &a, sizeof(a));
    for (unsigned i = 0; i < n; i++) {
        struct virtio_gpu_mem_entry le = {htole64(e[i].addr), htole32(e[i].length), 0};
        memcpy(buf + sizeof(a) + i * sizeof(le), &le, sizeof(le));
    }
    return (uint32_t)(sizeof(a) + n * sizeof(*e));
}

const char *
vc_gpu_type_name(uint32_t type)
{
    switch (type) {
#define N(x) \
    case VIRTIO_GPU_##x: \
        return #x;
    N(CMD_GET_DISPLAY_INFO)
    N(CMD_RESOURCE_CREATE_2D)
    N(CMD_RESOURCE_UNREF)
    N(CMD_SET_SCANOUT)
    N(CMD_RESOURCE_FLUSH)
    N(CMD_TRANSFER_TO_HOST_2D)
    N(CMD_RESOURCE_ATTACH_BACKING)
    N(CMD_RESOURCE_DETACH_BACKING)
    N(CMD_GET_CAPSET_INFO)
    N(CMD_GET_CAPSET)
    N(CMD_GET_EDID)
    N(CMD_UPDATE_CURSOR)
    N(CMD_MOVE_CURSOR)
    N(RESP_OK_NODATA)
    N(RESP_OK_DISPLAY_INFO)
    N(RESP_OK_CAPSET_INFO)
    N(RESP_OK_CAPSET)
    N(RESP_OK_EDID)
    N(RESP_ERR_UNSPEC)
    N(RESP_ERR_OUT_OF_MEMORY)
    N(RESP_ERR_INVALID_SCANOUT_ID)
    N(RESP_ERR_INVALID_RESOURCE_ID)
    N(RESP_ERR_INVALID_CONTEXT_ID)
    N(RESP_ERR_INVALID_PARAMETER)
#undef N
    case 0xa5a5a5a5u:
        return "(not written)";
    }
    return "(unknown type)";
}

int64_t
vc_gpu_rect_diff(const uint8_t *img, uint32_t stride, uint32_t x, uint32_t y, uint32_t w,
                 uint32_t h, const uint8_t *data, size_t len)
{
    size_t line = (size_t)w * 4, want = line * h;

    for (uint32_t row = 0; row < h; row++) {
        const uint8_t *src = img + (size_t)(y + row) * stride + (size_t)x * 4;
        const uint8_t *got = data + row * line;
        for (size_t i = 0; i < line; i++) {
            size_t off = row * line + i;
            if (off >= len) {
                return (int64_t)len;
            }
            if (got[i] != src[i]) {
                return (int64_t)off;
            }
        }
    }
    return len > want ? (int64_t)want : -1;
}

/* --- Driver ------------------------------------------------------------------------------- */

static bool
alloc_slot(VcGpuDrv *d, VcGpuCmd *c, unsigned queue, GError **error)
{
    c->queue = queue;
    c->req_p = vc_fe_alloc_buffer(d->fe, VC_GPU_REQ_MAX, 64, &c->req.gpa);
    c->resp_p = vc_fe_alloc_buffer(d->fe, VC_GPU_RESP_MAX, 64, &c->resp.gpa);
    if (!c->req_p || !c->resp_p) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                    "gpu: guest memory too small for the command slots");
        return false;
    }
    return true;
}

VcGpuDrv *
vc_gpu_new(VcFrontend *fe, unsigned n, uint32_t fb_bytes, GError **error)
{
    g_autoptr(VcGpuDrv) d = NULL;

    if (!fe->q[VC_GPU_CTRLQ].vq || n == 0 || n > fe->q[VC_GPU_CTRLQ].vq->num ||
        fb_bytes > VC_GPU_MAX_PAGES * VC_GPU_PAGE) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "gpu: no controlq or a bad pool shape");
        return NULL;
    }
    d = g_new0(VcGpuDrv, 1);
    d->fe = fe;
    d->vq[VC_GPU_CTRLQ] = fe->q[VC_GPU_CTRLQ].vq;
    d->vq[VC_GPU_CURSORQ] = fe->num_queues > 1 ? fe->q[VC_GPU_CURSORQ].vq : NULL;
    d->n = n;
    d->ncur = d->vq[VC_GPU_CURSORQ] ? MIN(4u, d->vq[VC_GPU_CURSORQ]->num) : 0;
    d->cmd = g_new0(VcGpuCmd, d->n + d->ncur);
    for (unsigned i = 0; i < d->n + d->ncur; i++) {
        if (!alloc_slot(d, &d->cmd[i], i < d->n ? VC_GPU_CTRLQ : VC_GPU_CURSORQ, error)) {
            return NULL;
        }
    }
    d->fb_len = fb_bytes;
    for (uint32_t off = 0; off < fb_bytes; off += VC_GPU_PAGE) {
        uint64_t spacer;
        VcGpuPage *pg = &d->page[d->npages++];
        pg->len = MIN(VC_GPU_PAGE, fb_bytes - off);
        pg->p = vc_fe_alloc_buffer(fe, VC_GPU_PAGE, VC_GPU_PAGE, &pg->gpa);
        /* A gap after every page: the backing is a real scatter list. */
        if (!pg->p || !vc_fe_alloc_buffer(fe, 64, 64, &spacer)) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "gpu: guest memory too small for the framebuffer");
            return NULL;
        }
    }
    return g_steal_pointer(&d);
}

void
vc_gpu_free(VcGpuDrv *d)
{
    if (!d) {
        return;
    }
    vc_gpu_sock_free(d->sock);
    g_free(d->cmd);
    g_free(d);
}

VcGpuSock *
vc_gpu_sock_handover(VcFrontend *fe, int settle_ms, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    VcGpuSock *sock;
    int sv[2];
    bool ok;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "socketpair: %s", g_strerror(errno));
        return NULL;
    }
    sock = vc_gpu_sock_new(sv[0], 1u << 20);
    if (!sock) {
        close(sv[0]);
        close(sv[1]);
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "gpu socket: out of memory");
        return NULL;
    }
    sock->timeout_ms = fe->timeout_ms;
    if (vc_gpu_sock_start(sock) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "gpu socket: no serving thread");
        close(sv[1]);
        vc_gpu_sock_free(sock);
        return NULL;
    }
    /* hw/virtio/vhost-user.c vhost_user_gpu_set_socket(): one fd, the other end of a pair. */
    vc_msg_init(req, VHOST_USER_GPU_SET_SOCKET, vc_fe_want_ack(fe));
    req->fds[0] = sv[1];
    req->nfds = 1;
    ok = vc_fe_request(fe, req, NULL, error);
    close(sv[1]);
    if (!ok) {
        vc_gpu_sock_free(sock);
        return NULL;
    }
    if (settle_ms > 0 &&
        vc_gpu_sock_wait(sock, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, settle_ms)) {
        vc_gpu_sock_wait(sock, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 0, settle_ms);
    }
    return sock;
}

bool
vc_gpu_set_socket(VcGpuDrv *d, int settle_ms, GError **error)
{
    VcGpuSock *sock = vc_gpu_sock_handover(d->fe, settle_ms, error);

    if (!sock) {
        return false;
    }
    vc_gpu_sock_free(d->sock);
    d->sock = sock;
    return true;
}

int
vc_gpu_serve(VcGpuDrv *d, int ms)
{
    return d->sock ? vc_gpu_sock_serve(d->sock, ms) : 0;
}

VcGpuCmd *
vc_gpu_submit(VcGpuDrv *d, unsigned queue, const void *cmd, uint32_t len, uint32_t resp_len)
{
    unsigned base = queue == VC_GPU_CTRLQ ? 0 : d->n;
    unsigned count = queue == VC_GPU_CTRLQ ? d->n : d->ncur;
    struct virtio_gpu_ctrl_hdr h;

    if (queue > VC_GPU_CURSORQ || !d->vq[queue] || len > VC_GPU_REQ_MAX ||
        resp_len > VC_GPU_RESP_MAX || len < sizeof(h)) {
        return NULL;
    }
    for (unsigned tries = 0; tries < count; tries++) {
        VcGpuCmd *c = &d->cmd[base + d->next[queue]];

        d->next[queue] = (d->next[queue] + 1) % count;
        if (c->posted) {
            continue;
        }
        memcpy(c->req_p, cmd, len);
        memcpy(&h, cmd, sizeof(h));
        c->type = le32toh(h.type);
        c->req.len = c->req_len = len;
        c->resp.len = resp_len;
        c->req_hi = MAX(c->req_hi, len);
        c->resp_hi = MAX(c->resp_hi, resp_len);
        if (resp_len) {
            vc_gmem_fill(d->fe->gm, c->resp.gpa, resp_len, VC_GMEM_GUARD);
        }
        if (vc_vq_add(d->vq[queue], &c->req, 1, resp_len ? &c->resp : NULL, resp_len ? 1 : 0, c,
                      d->add_flags) < 0) {
            return NULL;
        }
        c->posted = true;
        c->done = false;
        c->used_len = 0;
        vc_vq_publish(d->vq[queue]);
        return c;
    }
    return NULL;
}

unsigned
vc_gpu_reap(VcGpuDrv *d)
{
    unsigned n = 0;

    vc_gpu_serve(d, 0);
    for (unsigned q = 0; q < 2; q++) {
        while (d->vq[q]) {
            void *token;
            uint32_t len, head;
            int r = vc_vq_pop_used(d->vq[q], &token, &len, &head);

            if (r == 0) {
                break;
            }
            n++;
            if (r < 0) {
                d->bad_id++;
                continue;
            }
            VcGpuCmd *c = token;
            c->posted = false;
            c->done = true;
            c->used_len = len;
            c->resp_type = c->resp.len ? vc_gpu_resp_type(c) : 0;
            c->completions++;
            d->completed++;
        }
    }
    return n;
}

bool
vc_gpu_wait(VcGpuDrv *d, VcGpuCmd *c, int timeout_ms)
{
    VcVq *vq = d->vq[c->queue];
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;

    vc_vq_notify(vq);
    for (;;) {
        struct pollfd p[2];
        nfds_t np = 0;

        vc_gpu_reap(d);
        if (c->done) {
            return true;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return false;
        }
        if (vq->call_fd >= 0) {
            p[np++] = (struct pollfd){.fd = vq->call_fd, .events = POLLIN};
        }
        if (d->sock && !d->sock->running && d->sock->fd >= 0) {
            p[np++] = (struct pollfd){.fd = d->sock->fd, .events = POLLIN};
        }
        /* Calls may be suppressed: look at the used ring every few ms anyway. */
        if (poll(p, np, (int)MIN(left, 5)) > 0) {
            vc_vq_take_call(vq);
        }
        vc_fe_service(d->fe, 0);
    }
}

VcGpuCmd *
vc_gpu_exec(VcGpuDrv *d, unsigned queue, const void *cmd, uint32_t len, uint32_t resp_len,
            int timeout_ms)
{
    VcGpuCmd *c = vc_gpu_submit(d, queue, cmd, len, resp_len);

    if (c) {
        vc_gpu_wait(d, c, timeout_ms);
    }
    return c;
}

const struct virtio_gpu_ctrl_hdr *
vc_gpu_resp_hdr(const VcGpuCmd *c)
{
    return (const struct virtio_gpu_ctrl_hdr *)c->resp_p;
}

uint32_t
vc_gpu_resp_type(const VcGpuCmd *c)
{
    struct virtio_gpu_ctrl_hdr h;

    memcpy(&h, c->resp_p, sizeof(h));
    return le32toh(h.type);
}

bool
vc_gpu_fb_write(VcGpuDrv *d, uint32_t off, const void *src, uint32_t len)
{
    const uint8_t *s = src;

    if ((uint64_t)off + len > d->fb_len) {
        return false;
    }
    while (len) {
        unsigned pg = off / VC_GPU_PAGE;
        uint32_t in = off % VC_GPU_PAGE, n = MIN(len, VC_GPU_PAGE - in);
        memcpy(d->page[pg].p + in, s, n);
        s += n;
        off += n;
        len -= n;
    }
    return true;
}

unsigned
vc_gpu_fb_entries(const VcGpuDrv *d, struct virtio_gpu_mem_entry *e, unsigned max)
{
    unsigned n = MIN(d->npages, max);

    for (unsigned i = 0; i < n; i++) {
        e[i] = (struct virtio_gpu_mem_entry){d->page[i].gpa, d->page[i].len, 0};
    }
    return n;
}

unsigned
vc_gpu_in_flight(const VcGpuDrv *d, unsigned queue)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n + d->ncur; i++) {
        n += d->cmd[i].queue == queue && d->cmd[i].posted;
    }
    return n;
}

void
vc_gpu_skip_ranges(const VcGpuDrv *d, GArray *out)
{
    for (unsigned q = 0; q < 2; q++) {
        VcRange ring[4];
        if (d->vq[q]) {
            g_array_append_vals(out, ring, vc_vq_ranges(d->vq[q], ring));
        }
    }
    for (unsigned i = 0; i < d->n + d->ncur; i++) {
        VcRange r[2] = {{d->cmd[i].req.gpa, d->cmd[i].req_hi},
                        {d->cmd[i].resp.gpa, d->cmd[i].resp_hi}};
        g_array_append_vals(out, r, 2);
    }
    for (unsigned i = 0; i < d->npages; i++) {
        VcRange r = {d->page[i].gpa, VC_GPU_PAGE};
        g_array_append_val(out, r);
    }
}

/* --- Generic traffic (vc-traffic.h) ------------------------------------------------------- */

typedef struct GpuTraffic {
    VcGpuDrv *d;
    uint64_t poison;
    char why[224];
} GpuTraffic;

#define DISPLAY_INFO_LEN ((uint32_t)sizeof(struct virtio_gpu_resp_display_info))

static void *
gpu_t_create(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    GpuTraffic *t;
    VcGpuDrv *d;

    if (q != VC_GPU_CTRLQ) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                    "gpu traffic runs on controlq (ring 0), not ring %u", q);
        return NULL;
    }
    d = vc_gpu_new(fe, n, 0, error);
    if (!d) {
        return NULL;
    }
    /* Every request of the traffic has this shape: its buffers are known before it is posted. */
    for (unsigned i = 0; i < d->n; i++) {
        d->cmd[i].req_hi = sizeof(struct virtio_gpu_ctrl_hdr);
        d->cmd[i].resp_hi = DISPLAY_INFO_LEN;
    }
    /* QEMU hands the socket over before the device runs (vhost_user_gpu_set_status()). */
    if (!vc_gpu_set_socket(d, 500, error)) {
        vc_gpu_free(d);
        return NULL;
    }
    t = g_new0(GpuTraffic, 1);
    t->d = d;
    return t;
}

static void
gpu_t_destroy(void *p)
{
    GpuTraffic *t = p;

    /* Answer what the back end asked last, so that it does not write to a closed socket. */
    if (vc_gpu_in_flight(t->d, VC_GPU_CTRLQ)) {
        vc_gpu_serve(t->d, 100);
    }
    vc_gpu_free(t->d);
    g_free(t);
}

static unsigned
gpu_t_post(void *p, unsigned count)
{
    GpuTraffic *t = p;
    VcGpuDrv *d = t->d;
    struct virtio_gpu_ctrl_hdr h;
    unsigned added = 0;

    vc_gpu_hdr(&h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, false, 0);
    if (t->poison && count) {
        /* The next idle slot gets the bad address; it is never expected back. */
        for (unsigned k = 0; k < d->n; k++) {
            VcGpuCmd *c = &d->cmd[(d->next[VC_GPU_CTRLQ] + k) % d->n];
            if (!c->posted) {
                c->resp.gpa = t->poison;
                break;
            }
        }
        t->poison = 0;
    }
    while (added < count && vc_gpu_submit(d, VC_GPU_CTRLQ, &h, sizeof(h), DISPLAY_INFO_LEN)) {
        added++;
    }
    return added;
}

static unsigned
gpu_t_reap(void *p)
{
    return vc_gpu_reap(((GpuTraffic *)p)->d);
}

static unsigned
gpu_t_in_flight(void *p)
{
    return vc_gpu_in_flight(((GpuTraffic *)p)->d, VC_GPU_CTRLQ);
}

static unsigned
gpu_t_touched(void *p)
{
    VcGpuDrv *d = ((GpuTraffic *)p)->d;
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        const VcGpuCmd *c = &d->cmd[i];
        for (uint32_t k = 0; c->posted && k < c->resp.len; k++) {
            if (c->resp_p[k] != VC_GMEM_GUARD) {
                n++;
                break;
            }
        }
    }
    return n;
}

static void
gpu_t_skip_ranges(void *p, GArray *out)
{
    vc_gpu_skip_ranges(((GpuTraffic *)p)->d, out);
}

static const char *
gpu_t_verify(void *p)
{
    GpuTraffic *t = p;
    VcGpuDrv *d = t->d;

    for (unsigned i = 0; i < d->n; i++) {
        const VcGpuCmd *c = &d->cmd[i];
        uint32_t type;

        if (!c->completions) {
            continue;
        }
        type = c->resp_type;
        if (type != VIRTIO_GPU_RESP_OK_DISPLAY_INFO || c->used_len < DISPLAY_INFO_LEN) {
            g_snprintf(t->why, sizeof(t->why), "GET_DISPLAY_INFO in slot %u: response %s "
                       "(0x%x), used.len %u (want OK_DISPLAY_INFO, %u)", i,
                       vc_gpu_type_name(type), type, c->used_len, DISPLAY_INFO_LEN);
            return t->why;
        }
    }
    return NULL;
}

static bool
gpu_t_relocate(void *p, unsigned region, GError **error)
{
    VcGpuDrv *d = ((GpuTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        VcGpuCmd *c = &d->cmd[i];
        if (c->posted) {
            continue;
        }
        /* The old buffer is given back clean, so a guard scan does not see our data. */
        vc_gmem_fill(d->fe->gm, c->resp.gpa, VC_GPU_RESP_MAX, VC_GMEM_GUARD);
        c->resp_p = vc_gmem_alloc_in(d->fe->gm, region, VC_GPU_RESP_MAX, 64, &c->resp.gpa);
        if (!c->resp_p) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "gpu: region %u has no room for the response buffers", region);
            return false;
        }
    }
    return true;
}

static void
gpu_t_poison_next(void *p, uint64_t gpa)
{
    ((GpuTraffic *)p)->poison = gpa;
}

static unsigned
gpu_t_bad_ids(void *p)
{
    return (unsigned)((GpuTraffic *)p)->d->bad_id;
}

static bool
gpu_t_set_indirect(void *p, bool on)
{
    VcGpuDrv *d = ((GpuTraffic *)p)->d;

    if (on && !d->vq[VC_GPU_CTRLQ]->indirect) {
        return false;
    }
    d->add_flags = on ? VC_ADD_INDIRECT : 0;
    return true;
}

static void
gpu_t_forget(void *p)
{
    VcGpuDrv *d = ((GpuTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        d->cmd[i].posted = false;
    }
}

const VcTrafficOps vc_gpu_traffic_ops = {
    .device = "gpu",
    .queue = VC_GPU_CTRLQ,
    .create = gpu_t_create,
    .destroy = gpu_t_destroy,
    .post = gpu_t_post,
    .reap = gpu_t_reap,
    .in_flight = gpu_t_in_flight,
    .touched = gpu_t_touched,
    .skip_ranges = gpu_t_skip_ranges,
    .verify = gpu_t_verify,
    .relocate = gpu_t_relocate,
    .poison_next = gpu_t_poison_next,
    .bad_ids = gpu_t_bad_ids,
    .set_indirect = gpu_t_set_indirect,
    .forget = gpu_t_forget,
};
