/*
 * vc-drv-blk.c -- virtio-blk driver side (virtio 1.x 5.2).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vc-drv-blk.h"
#include "vc-error.h"

#define HDR_SIZE ((uint32_t)sizeof(struct virtio_blk_outhdr))

/* --- Builders ------------------------------------------------------------------------------ */

void
vc_blk_outhdr(struct virtio_blk_outhdr *h, uint32_t type, uint64_t sector)
{
    /* virtio 1.x 5.2.6: the header is little-endian for a modern device. */
    h->type = htole32(type);
    h->ioprio = 0;
    h->sector = htole64(sector);
}

void
vc_blk_dwz(struct virtio_blk_discard_write_zeroes *s, uint64_t sector, uint32_t num_sectors,
           uint32_t flags)
{
    s->sector = htole64(sector);
    s->num_sectors = htole32(num_sectors);
    s->flags = htole32(flags);
}

void
vc_blk_chain(const VcBlkReq *r, VcSg *out, unsigned *n_out, VcSg *in, unsigned *n_in)
{
    unsigned nseg = r->cmd.nseg ? r->cmd.nseg : 1;
    uint64_t gpa = r->poison ? r->poison : r->data_gpa;
    uint32_t left = r->cmd.len, per;
    VcSg *data;
    unsigned *nd;

    *n_out = *n_in = 0;
    out[(*n_out)++] = (VcSg){r->hdr_gpa, HDR_SIZE};
    if (r->cmd.dir != VC_BLK_DIR_NONE && r->cmd.len) {
        data = r->cmd.dir == VC_BLK_DIR_OUT ? out : in;
        nd = r->cmd.dir == VC_BLK_DIR_OUT ? n_out : n_in;
        nseg = MIN(nseg, r->cmd.len);
        per = r->cmd.len / nseg;
        for (unsigned s = 0; s < nseg; s++) {
            uint32_t l = s + 1 == nseg ? left : per;
            data[(*nd)++] = (VcSg){gpa, l};
            gpa += l;
            left -= l;
        }
    }
    /* virtio 1.x 5.2.6: the status byte is the last device-writable byte of the chain. */
    in[(*n_in)++] = (VcSg){r->status_gpa, 1};
}

void
vc_blk_parse_config(const uint8_t *raw, uint32_t len, struct virtio_blk_config *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out, raw, MIN(len, (uint32_t)sizeof(*out)));
    out->capacity = le64toh(out->capacity);
    out->size_max = le32toh(out->size_max);
    out->seg_max = le32toh(out->seg_max);
    out->geometry.cylinders = le16toh(out->geometry.cylinders);
    out->blk_size = le32toh(out->blk_size);
    out->min_io_size = le16toh(out->min_io_size);
    out->opt_io_size = le32toh(out->opt_io_size);
    out->num_queues = le16toh(out->num_queues);
    out->max_discard_sectors = le32toh(out->max_discard_sectors);
    out->max_discard_seg = le32toh(out->max_discard_seg);
    out->discard_sector_alignment = le32toh(out->discard_sector_alignment);
    out->max_write_zeroes_sectors = le32toh(out->max_write_zeroes_sectors);
    out->max_write_zeroes_seg = le32toh(out->max_write_zeroes_seg);
    out->max_secure_erase_sectors = le32toh(out->max_secure_erase_sectors);
    out->max_secure_erase_seg = le32toh(out->max_secure_erase_seg);
    out->secure_erase_sector_alignment = le32toh(out->secure_erase_sector_alignment);
}

const char *
vc_blk_type_name(uint32_t type)
{
    static char buf[24];

    switch (type) {
    case VIRTIO_BLK_T_IN: return "IN";
    case VIRTIO_BLK_T_OUT: return "OUT";
    case VIRTIO_BLK_T_FLUSH: return "FLUSH";
    case VIRTIO_BLK_T_GET_ID: return "GET_ID";
    case VIRTIO_BLK_T_DISCARD: return "DISCARD";
    case VIRTIO_BLK_T_WRITE_ZEROES: return "WRITE_ZEROES";
    case VIRTIO_BLK_T_SECURE_ERASE: return "SECURE_ERASE";
    default:
        g_snprintf(buf, sizeof(buf), "type %u", type);
        return buf;
    }
}

const char *
vc_blk_status_name(int status)
{
    static char buf[8];

    switch (status) {
    case VIRTIO_BLK_S_OK: return "OK";
    case VIRTIO_BLK_S_IOERR: return "IOERR";
    case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
    case VC_BLK_STATUS_NONE: return "not written";
    default:
        g_snprintf(buf, sizeof(buf), "0x%02x", status & 0xff);
        return buf;
    }
}

/* --- Config space ------------------------------------------------------------------------- */

bool
vc_blk_get_config(VcFrontend *fe, uint32_t len, struct virtio_blk_config *out, GError **error)
{
    uint8_t raw[VHOST_USER_MAX_CONFIG_SIZE];
    uint32_t got = 0;

    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "VHOST_USER_PROTOCOL_F_CONFIG was not negotiated");
        return false;
    }
    len = MIN(len, (uint32_t)VHOST_USER_MAX_CONFIG_SIZE);
    if (!vc_fe_get_config(fe, 0, len, raw, &got, error)) {
        return false;
    }
    /* vhost-user.rst GET_CONFIG: an empty payload is the error answer. */
    if (got < len) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_NACK, "GET_CONFIG of %u bytes: the daemon "
                    "answered %u bytes (an error)", len, got);
        return false;
    }
    vc_blk_parse_config(raw, len, out);
    return true;
}

/* --- Pool ------------------------------------------------------------------------------- */

static bool
alloc_slot(VcFrontend *fe, VcBlkReq *r, uint32_t data_cap)
{
    return vc_fe_alloc_buffer(fe, HDR_SIZE, 16, &r->hdr_gpa) &&
           vc_fe_alloc_buffer(fe, data_cap, 64, &r->data_gpa) &&
           vc_fe_alloc_buffer(fe, 1, 1, &r->status_gpa);
}

VcBlkDrv *
vc_blk_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t data_cap, GError **error)
{
    g_autoptr(VcBlkDrv) d = NULL;

    if (q >= VC_FE_MAX_QUEUES || !fe->q[q].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "blk: ring %u does not exist", q);
        return NULL;
    }
    if (n == 0 || n > fe->q[q].vq->num || data_cap == 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "blk: bad pool shape (%u x %u bytes)",
                    n, data_cap);
        return NULL;
    }
    d = g_new0(VcBlkDrv, 1);
    d->fe = fe;
    d->q = q;
    d->vq = fe->q[q].vq;
    d->n = n;
    d->req = g_new0(VcBlkReq, n);
    for (unsigned i = 0; i < n; i++) {
        d->req[i].data_cap = data_cap;
        d->req[i].status = VC_BLK_STATUS_NONE;
        if (!alloc_slot(fe, &d->req[i], data_cap)) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "blk: guest memory too small for %u requests of %u bytes", n, data_cap);
            return NULL;
        }
    }
    return g_steal_pointer(&d);
}

void
vc_blk_free(VcBlkDrv *d)
{
    if (!d) {
        return;
    }
    g_free(d->req);
    g_free(d);
}

static void *
hva(const VcBlkDrv *d, uint64_t gpa, uint64_t len)
{
    uint64_t l = len;
    void *p = vc_gmem_to_hva(d->fe->gm, gpa, &l);

    return p && l >= len ? p : NULL;
}

uint8_t *
vc_blk_data(const VcBlkDrv *d, unsigned slot)
{
    return slot < d->n ? hva(d, d->req[slot].data_gpa, d->req[slot].data_cap) : NULL;
}

static int
queue_slot(VcBlkDrv *d, unsigned i, const VcBlkCmd *cmd, uint64_t poison)
{
    VcBlkReq *r = &d->req[i];
    VcSg out[1 + VC_BLK_MAX_SEGS], in[1 + VC_BLK_MAX_SEGS];
    unsigned n_out, n_in;
    struct virtio_blk_outhdr *h = hva(d, r->hdr_gpa, HDR_SIZE);
    uint8_t *data = hva(d, r->data_gpa, r->data_cap);
    uint8_t *st = hva(d, r->status_gpa, 1);
    int rc;

    if (!h || !data || !st) {
        return -EINVAL;    /* the region holding the slot was removed */
    }
    r->cmd = *cmd;
    r->cmd.payload = NULL;
    r->poison = poison;
    vc_blk_outhdr(h, cmd->type, cmd->sector);
    if (cmd->dir == VC_BLK_DIR_OUT) {
        if (cmd->payload) {
            memcpy(data, cmd->payload, cmd->len);
        } else {
            memset(data, 0, cmd->len);
        }
    } else {
        /* Writable (or unused) data starts as the guard, so that writes can be seen. */
        memset(data, VC_GMEM_GUARD, r->data_cap);
    }
    *st = VC_GMEM_GUARD;
    vc_blk_chain(r, out, &n_out, in, &n_in);
    rc = vc_vq_add(d->vq, out, n_out, in, n_in, r, d->add_flags);
    if (rc < 0) {
        return rc;
    }
    r->posted = true;
    return (int)i;
}

int
vc_blk_queue(VcBlkDrv *d, const VcBlkCmd *cmd)
{
    if (cmd->len > d->req[0].data_cap || (cmd->dir == VC_BLK_DIR_NONE && cmd->len) ||
        cmd->nseg > VC_BLK_MAX_SEGS) {
        return -EINVAL;
    }
    for (unsigned k = 0; k < d->n; k++) {
        unsigned i = (d->next + k) % d->n;
        if (!d->req[i].posted) {
            int rc = queue_slot(d, i, cmd, 0);
            if (rc >= 0) {
                d->next = (i + 1) % d->n;
            }
            return rc;
        }
    }
    return -EBUSY;
}

int
vc_blk_kick(VcBlkDrv *d)
{
    return vc_vq_notify(d->vq);
}

/* Records what the device wrote into the writable part of @r's chain. */
static void
inspect(VcBlkDrv *d, VcBlkReq *r, uint32_t len)
{
    uint32_t data_w = r->cmd.dir == VC_BLK_DIR_IN ? r->cmd.len : 0;
    const uint8_t *data = r->poison ? NULL : hva(d, r->data_gpa, r->data_cap);
    const uint8_t *st = hva(d, r->status_gpa, 1);
    const struct virtio_blk_outhdr *h = hva(d, r->hdr_gpa, HDR_SIZE);

    r->writable = data_w + 1;
    r->status = st && *st != VC_GMEM_GUARD ? *st : VC_BLK_STATUS_NONE;
    r->data_unwritten = 0;
    r->unwritten_in_len = 0;
    for (uint32_t k = 0; data && k < data_w; k++) {
        bool same = data[k] == VC_GMEM_GUARD;
        r->data_unwritten += same;
        r->unwritten_in_len += same && k < len;
    }
    if (len > data_w && r->status == VC_BLK_STATUS_NONE) {
        r->unwritten_in_len++;
    }
    r->written = (data ? data_w - r->data_unwritten : 0) +
                 (r->status != VC_BLK_STATUS_NONE ? 1 : 0);
    /* The header is the driver's: it must read back as written. */
    r->readable_changed = h && (le32toh(h->type) != r->cmd.type ||
                                le64toh(h->sector) != r->cmd.sector || h->ioprio != 0);
}

unsigned
vc_blk_reap(VcBlkDrv *d)
{
    unsigned n = 0;

    for (;;) {
        void *token;
        uint32_t len, head;
        int rc = vc_vq_pop_used(d->vq, &token, &len, &head);

        if (rc == 0) {
            break;
        }
        n++;
        if (rc < 0) {
            d->faults.bad_id++;
            d->faults.last_bad_id = head;
            continue;
        }
        VcBlkReq *r = token;
        r->posted = false;
        r->completions++;
        r->used_len = len;
        d->completed++;
        inspect(d, r, len);
    }
    return n;
}

unsigned
vc_blk_wait(VcBlkDrv *d, unsigned want, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;
    unsigned got = 0;

    for (;;) {
        got += vc_blk_reap(d);
        if (got >= want) {
            return got;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return got;
        }
        if (d->vq->call_fd >= 0) {
            /* Calls may be suppressed: look at the used ring regularly anyway. */
            vc_vq_wait_call(d->vq, (int)MIN(left, 20));
        } else {
            g_usleep(200);
        }
        vc_fe_service(d->fe, 0);
    }
}

int
vc_blk_run(VcBlkDrv *d, const VcBlkCmd *cmd, int timeout_ms, VcBlkReq **out)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;
    int slot = vc_blk_queue(d, cmd);
    VcBlkReq *r;

    if (slot < 0) {
        return slot;
    }
    r = &d->req[slot];
    if (out) {
        *out = r;
    }
    vc_blk_kick(d);
    while (r->posted) {
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return 0;
        }
        vc_blk_wait(d, 1, (int)left);
    }
    return 1;
}

unsigned
vc_blk_in_flight(const VcBlkDrv *d)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        n += d->req[i].posted;
    }
    return n;
}

void
vc_blk_skip_ranges(const VcBlkDrv *d, GArray *out)
{
    VcRange ring[4];

    g_array_append_vals(out, ring, vc_vq_ranges(d->vq, ring));
    for (unsigned i = 0; i < d->n; i++) {
        const VcBlkReq *r = &d->req[i];
        VcRange b[3] = {{r->hdr_gpa, HDR_SIZE}, {r->data_gpa, r->data_cap}, {r->status_gpa, 1}};
        g_array_append_vals(out, b, 3);
    }
}

/* --- Generic traffic (vc-traffic.h) --------------------------------------------------------- */

typedef struct BlkTraffic {
    VcBlkDrv *d;
    uint64_t poison;       /* next request's data address, 0: none */
    char why[192];
} BlkTraffic;

static void *
blk_t_create(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    BlkTraffic *t;
    VcBlkDrv *d = vc_blk_new(fe, q, n, VC_BLK_SECTOR_SIZE, error);

    if (!d) {
        return NULL;
    }
    t = g_new0(BlkTraffic, 1);
    t->d = d;
    return t;
}

static void
blk_t_destroy(void *p)
{
    BlkTraffic *t = p;

    vc_blk_free(t->d);
    g_free(t);
}

static unsigned
blk_t_post(void *p, unsigned count)
{
    BlkTraffic *t = p;
    VcBlkDrv *d = t->d;
    unsigned added = 0;

    for (unsigned i = 0; i < d->n && added < count; i++) {
        /* Slot i always reads sector i: sectors the blk checks never write. */
        VcBlkCmd cmd = {VIRTIO_BLK_T_IN, i, VC_BLK_DIR_IN, VC_BLK_SECTOR_SIZE, NULL, 1};
        if (d->req[i].posted) {
            continue;
        }
        if (queue_slot(d, i, &cmd, t->poison) < 0) {
            break;
        }
        t->poison = 0;
        added++;
    }
    if (added) {
        vc_vq_publish(d->vq);
    }
    return added;
}

static unsigned
blk_t_reap(void *p)
{
    return vc_blk_reap(((BlkTraffic *)p)->d);
}

static unsigned
blk_t_in_flight(void *p)
{
    return vc_blk_in_flight(((BlkTraffic *)p)->d);
}

static unsigned
blk_t_touched(void *p)
{
    VcBlkDrv *d = ((BlkTraffic *)p)->d;
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        const VcBlkReq *r = &d->req[i];
        const uint8_t *st, *data;
        bool written = false;

        if (!r->posted) {
            continue;
        }
        st = hva(d, r->status_gpa, 1);
        data = r->poison ? NULL : hva(d, r->data_gpa, r->cmd.len);
        written = st && *st != VC_GMEM_GUARD;
        for (uint32_t k = 0; data && k < r->cmd.len && !written; k++) {
            written = data[k] != VC_GMEM_GUARD;
        }
        n += written;
    }
    return n;
}

static void
blk_t_skip_ranges(void *p, GArray *out)
{
    vc_blk_skip_ranges(((BlkTraffic *)p)->d, out);
}

static const char *
blk_t_verify(void *p)
{
    BlkTraffic *t = p;
    VcBlkDrv *d = t->d;

    for (unsigned i = 0; i < d->n; i++) {
        const VcBlkReq *r = &d->req[i];
        if (!r->completions || r->poison) {
            continue;
        }
        if (r->status != VIRTIO_BLK_S_OK) {
            g_snprintf(t->why, sizeof(t->why), "request %u (IN of sector %u): status %s", i, i,
                       vc_blk_status_name(r->status));
            return t->why;
        }
        /* virtio 1.x 2.7.8: used.len counts what the device wrote: 512 data bytes + status. */
        if (r->used_len != r->writable) {
            g_snprintf(t->why, sizeof(t->why), "request %u (IN of sector %u): used.len %u, want "
                       "%u (512 data bytes + status)", i, i, r->used_len, r->writable);
            return t->why;
        }
        /* Disk bytes equal to the guard are possible but rare; allow a few, no more. */
        if (r->data_unwritten > r->cmd.len / 16 + 4) {
            g_snprintf(t->why, sizeof(t->why), "request %u (IN of sector %u, data gpa 0x%"
                       G_GINT64_MODIFIER "x): status OK but %u of 512 data bytes were never "
                       "written", i, i, r->data_gpa, r->data_unwritten);
            return t->why;
        }
        if (r->readable_changed) {
            g_snprintf(t->why, sizeof(t->why), "request %u: the device wrote into the "
                       "device-readable request header", i);
            return t->why;
        }
    }
    return NULL;
}

static bool
blk_t_relocate(void *p, unsigned region, GError **error)
{
    VcBlkDrv *d = ((BlkTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        VcBlkReq *r = &d->req[i];
        VcBlkReq moved = *r;
        if (r->posted) {
            continue;
        }
        if (!vc_gmem_alloc_in(d->fe->gm, region, HDR_SIZE, 16, &moved.hdr_gpa) ||
            !vc_gmem_alloc_in(d->fe->gm, region, r->data_cap, 64, &moved.data_gpa) ||
            !vc_gmem_alloc_in(d->fe->gm, region, 1, 1, &moved.status_gpa)) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "blk: region %u has no room for the buffers", region);
            return false;
        }
        /* The old buffers are given back clean, so a guard scan does not see our data. */
        vc_gmem_fill(d->fe->gm, r->hdr_gpa, HDR_SIZE, VC_GMEM_GUARD);
        vc_gmem_fill(d->fe->gm, r->data_gpa, r->data_cap, VC_GMEM_GUARD);
        vc_gmem_fill(d->fe->gm, r->status_gpa, 1, VC_GMEM_GUARD);
        *r = moved;
    }
    return true;
}

static void
blk_t_poison_next(void *p, uint64_t gpa)
{
    ((BlkTraffic *)p)->poison = gpa;
}

static unsigned
blk_t_bad_ids(void *p)
{
    return ((BlkTraffic *)p)->d->faults.bad_id;
}

static bool
blk_t_set_indirect(void *p, bool on)
{
    VcBlkDrv *d = ((BlkTraffic *)p)->d;

    if (on && !(d->vq->flags & VC_VQ_INDIRECT)) {
        return false;
    }
    d->add_flags = on ? VC_ADD_INDIRECT : 0;
    return true;
}

static void
blk_t_forget(void *p)
{
    VcBlkDrv *d = ((BlkTraffic *)p)->d;

    for (unsigned i = 0; i < d->n; i++) {
        d->req[i].posted = false;
    }
}

const VcTrafficOps vc_blk_traffic_ops = {
    .device = "blk",
    .queue = 0,
    .create = blk_t_create,
    .destroy = blk_t_destroy,
    .post = blk_t_post,
    .reap = blk_t_reap,
    .in_flight = blk_t_in_flight,
    .touched = blk_t_touched,
    .skip_ranges = blk_t_skip_ranges,
    .verify = blk_t_verify,
    .relocate = blk_t_relocate,
    .poison_next = blk_t_poison_next,
    .bad_ids = blk_t_bad_ids,
    .set_indirect = blk_t_set_indirect,
    .forget = blk_t_forget,
};
