/*
 * vc-drv-fs.c -- virtio-fs driver side (virtio 1.x 5.11, FUSE over virtqueues).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-drv-fs.h"
#include "vc-error.h"

/* The kernel's /dev/fuse rule for out.error: 0 or a negative errno above -512. */
#define FUSE_ERRNO_MIN (-511)

/* --- Builders and parsers ---------------------------------------------------------------- */

uint32_t
vc_fs_build(uint8_t *buf, uint32_t cap, uint32_t opcode, uint64_t unique, uint64_t nodeid,
            uint32_t pid, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
    struct fuse_in_header h = {0};
    uint64_t total = (uint64_t)VC_FS_IN_HDR + alen + blen;

    if (total > cap) {
        return 0;
    }
    h.len = (uint32_t)total;
    h.opcode = opcode;
    h.unique = unique;
    h.nodeid = nodeid;
    h.pid = pid;
    memcpy(buf, &h, sizeof(h));
    if (alen) {
        memcpy(buf + VC_FS_IN_HDR, a, alen);
    }
    if (blen) {
        memcpy(buf + VC_FS_IN_HDR + alen, b, blen);
    }
    return (uint32_t)total;
}

void
vc_fs_parse_reply(const uint8_t *out, uint32_t out_len, uint32_t used_len, uint64_t unique,
                  VcFsReply *rep)
{
    uint32_t have = MIN(used_len, out_len);

    memset(&rep->hdr, 0, sizeof(rep->hdr));
    rep->used_len = used_len;
    rep->unique = unique;
    rep->data = NULL;
    rep->data_len = 0;
    rep->faults = 0;
    if (used_len > out_len) {
        rep->faults |= VC_FS_FAULT_OVERFLOW;
    }
    if (have < VC_FS_OUT_HDR || !out) {
        rep->faults |= VC_FS_FAULT_SHORT;
        return;
    }
    memcpy(&rep->hdr, out, VC_FS_OUT_HDR);
    /* virtio 1.x 5.11.6.1: out.len is the reply's length, as written to /dev/fuse. */
    if (rep->hdr.len != used_len) {
        rep->faults |= VC_FS_FAULT_LEN;
    }
    if (rep->hdr.unique != unique) {
        rep->faults |= VC_FS_FAULT_UNIQUE;
    }
    if (rep->hdr.error > 0 || rep->hdr.error < FUSE_ERRNO_MIN) {
        rep->faults |= VC_FS_FAULT_ERRNO;
    }
    if (rep->hdr.len > VC_FS_OUT_HDR) {
        rep->data = out + VC_FS_OUT_HDR;
        rep->data_len = MIN(rep->hdr.len, have) - VC_FS_OUT_HDR;
        if (rep->hdr.error != 0) {
            rep->faults |= VC_FS_FAULT_ERR_DATA;
        }
    }
}

const char *
vc_fs_opcode_name(uint32_t opcode)
{
    static char buf[24];

    switch (opcode) {
    case FUSE_LOOKUP: return "LOOKUP";
    case FUSE_FORGET: return "FORGET";
    case FUSE_GETATTR: return "GETATTR";
    case FUSE_OPEN: return "OPEN";
    case FUSE_READ: return "READ";
    case FUSE_WRITE: return "WRITE";
    case FUSE_RELEASE: return "RELEASE";
    case FUSE_INIT: return "INIT";
    case FUSE_CREATE: return "CREATE";
    case FUSE_INTERRUPT: return "INTERRUPT";
    case FUSE_BATCH_FORGET: return "BATCH_FORGET";
    default:
        g_snprintf(buf, sizeof(buf), "opcode %u", opcode);
        return buf;
    }
}

const char *
vc_fs_faults_text(unsigned faults, char *buf, size_t len)
{
    static const char *const names[] = {
        "used.len shorter than the out header", "used.len beyond the writable buffers",
        "out.len differs from used.len", "out.unique is not the request's",
        "out.error is not 0 or a negative errno", "an error reply carries data",
        "bytes inside used.len were never written",
    };
    size_t off = 0;

    buf[0] = '\0';
    for (unsigned b = 0; b < G_N_ELEMENTS(names); b++) {
        if (faults & (1u << b)) {
            off += g_snprintf(buf + off, len > off ? len - off : 0, "%s%s", off ? "; " : "",
                              names[b]);
        }
    }
    return buf;
}

/* --- Pool --------------------------------------------------------------------------------- */

VcFsDrv *
vc_fs_new(VcFrontend *fe, unsigned q, unsigned n, uint32_t in_cap, uint32_t out_cap,
          GError **error)
{
    g_autoptr(VcFsDrv) d = NULL;

    if (q >= VC_FE_MAX_QUEUES || !fe->q[q].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "fs: ring %u does not exist", q);
        return NULL;
    }
    if (n == 0 || n > fe->q[q].vq->num || in_cap < VC_FS_IN_HDR) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "fs: bad pool shape");
        return NULL;
    }
    d = g_new0(VcFsDrv, 1);
    d->fe = fe;
    d->q = q;
    d->vq = fe->q[q].vq;
    d->n = n;
    d->timeout_ms = fe->timeout_ms > 0 ? fe->timeout_ms : VC_FE_DEFAULT_TIMEOUT_MS;
    d->minor = VC_FS_FUSE_MINOR;
    d->req = g_new0(VcFsReq, n);
    for (unsigned i = 0; i < n; i++) {
        VcFsReq *r = &d->req[i];
        r->in_cap = in_cap;
        r->out_cap = out_cap;
        if (!vc_fe_alloc_buffer(fe, in_cap, 64, &r->in_gpa) ||
            (out_cap && !vc_fe_alloc_buffer(fe, out_cap, 64, &r->out_gpa))) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "fs: guest memory too small for %u requests of %u + %u bytes", n, in_cap,
                        out_cap);
            return NULL;
        }
    }
    return g_steal_pointer(&d);
}

void
vc_fs_free(VcFsDrv *d)
{
    if (!d) {
        return;
    }
    g_free(d->req);
    g_free(d);
}

static uint8_t *
hva(const VcFsDrv *d, uint64_t gpa, uint64_t len)
{
    uint64_t l = len;
    uint8_t *p = vc_gmem_to_hva(d->fe->gm, gpa, &l);

    return p && l >= len ? p : NULL;
}

/* Builds and adds one request in slot @i (not published). */
static int
queue_in_slot(VcFsDrv *d, unsigned i, uint32_t opcode, uint64_t nodeid, const void *a,
              uint32_t alen, const void *b, uint32_t blen, uint32_t reply_cap, uint64_t poison)
{
    VcFsReq *r = &d->req[i];
    uint8_t *in = hva(d, r->in_gpa, r->in_cap);
    uint8_t *out = reply_cap ? hva(d, r->out_gpa, reply_cap) : NULL;
    VcSg rd, wr;
    int rc;

    if (!in || reply_cap > r->out_cap || (reply_cap && !out)) {
        return -EINVAL;
    }
    /* Even uniques, as the kernel's (bit 0 marks an interrupt); the ring in the high bits. */
    d->next_unique++;
    r->unique = ((uint64_t)(d->q + 1) << 40) | (d->next_unique << 1);
    r->in_len = vc_fs_build(in, r->in_cap, opcode, r->unique, nodeid, (uint32_t)getpid(), a,
                            alen, b, blen);
    if (!r->in_len) {
        return -EINVAL;
    }
    r->opcode = opcode;
    r->nodeid = nodeid;
    r->out_len = reply_cap;
    r->poison = poison;
    if (out) {
        memset(out, VC_GMEM_GUARD, reply_cap);
    }
    rd = (VcSg){r->in_gpa, r->in_len};
    wr = (VcSg){poison ? poison : r->out_gpa, reply_cap};
    rc = vc_vq_add(d->vq, &rd, 1, &wr, reply_cap ? 1 : 0, r, d->add_flags);
    if (rc < 0) {
        return rc;
    }
    r->posted = true;
    return (int)i;
}

int
vc_fs_queue(VcFsDrv *d, uint32_t opcode, uint64_t nodeid, const void *a, uint32_t alen,
            const void *b, uint32_t blen, uint32_t reply_cap)
{
    for (unsigned k = 0; k < d->n; k++) {
        unsigned i = (d->next + k) % d->n;
        if (!d->req[i].posted) {
            int rc = queue_in_slot(d, i, opcode, nodeid, a, alen, b, blen, reply_cap, 0);
            if (rc >= 0) {
                d->next = (i + 1) % d->n;
            }
            return rc;
        }
    }
    return -EBUSY;
}

int
vc_fs_kick(VcFsDrv *d)
{
    return vc_vq_notify(d->vq);
}

unsigned
vc_fs_reap(VcFsDrv *d)
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
            d->bad_id++;
            d->last_bad_id = head;
            continue;
        }
        VcFsReq *r = token;
        const struct fuse_in_header *h = (const void *)hva(d, r->in_gpa, VC_FS_IN_HDR);
        r->posted = false;
        r->completions++;
        r->used_len = len;
        /* The request is the driver's: it must read back as written. */
        r->readable_changed = h && (h->len != r->in_len || h->opcode != r->opcode ||
                                    h->unique != r->unique || h->nodeid != r->nodeid);
    }
    return n;
}

bool
vc_fs_wait_slot(VcFsDrv *d, unsigned slot, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;

    for (;;) {
        vc_fs_reap(d);
        if (!d->req[slot].posted) {
            return true;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return false;
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

void
vc_fs_reply(const VcFsDrv *d, unsigned slot, VcFsReply *rep)
{
    const VcFsReq *r = &d->req[slot];
    const uint8_t *out = r->out_len && !r->poison ? hva(d, r->out_gpa, r->out_len) : NULL;
    uint32_t in_len = MIN(r->used_len, r->out_len), unwritten = 0;

    if (!r->out_len) {
        /* No writable part (FORGET): nothing to parse; only used.len matters. */
        memset(rep, 0, sizeof(*rep));
        rep->used_len = r->used_len;
        rep->unique = r->unique;
        rep->faults = r->used_len ? VC_FS_FAULT_OVERFLOW : 0;
    } else {
        vc_fs_parse_reply(out, r->out_len, r->used_len, r->unique, rep);
    }
    rep->opcode = r->opcode;
    for (uint32_t k = 0; out && k < in_len; k++) {
        unwritten += out[k] == VC_GMEM_GUARD;
    }
    /*
     * Reply data may hold guard-valued bytes by chance: allow a few, as for rng. An out.len
     * still made of guard bytes, though, was never written.
     */
    if (unwritten > in_len / 16 + 4 ||
        (out && in_len >= 4 && out[0] == VC_GMEM_GUARD && out[1] == VC_GMEM_GUARD &&
         out[2] == VC_GMEM_GUARD && out[3] == VC_GMEM_GUARD)) {
        rep->faults |= VC_FS_FAULT_UNWRITTEN;
    }
}

bool
vc_fs_call(VcFsDrv *d, uint32_t opcode, uint64_t nodeid, const void *a, uint32_t alen,
           const void *b, uint32_t blen, uint32_t reply_cap, GError **error)
{
    int slot = vc_fs_queue(d, opcode, nodeid, a, alen, b, blen, reply_cap);

    memset(&d->last, 0, sizeof(d->last));
    d->last.opcode = opcode;
    if (slot < 0) {
        g_set_error(error, VC_SIM_ERROR, slot == -EINVAL ? VC_ERROR_USAGE : VC_ERROR_RESOURCE,
                    "FUSE_%s: cannot queue the request on ring %u (%s)",
                    vc_fs_opcode_name(opcode), d->q, g_strerror(-slot));
        return false;
    }
    vc_fs_kick(d);
    if (!vc_fs_wait_slot(d, (unsigned)slot, d->timeout_ms)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT,
                    "FUSE_%s (unique %" G_GUINT64_FORMAT ") on ring %u was not completed within "
                    "%d ms", vc_fs_opcode_name(opcode), d->req[slot].unique, d->q, d->timeout_ms);
        return false;
    }
    vc_fs_reply(d, (unsigned)slot, &d->last);
    return true;
}

unsigned
vc_fs_in_flight(const VcFsDrv *d)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n; i++) {
        n += d->req[i].posted;
    }
    return n;
}

void
vc_fs_skip_ranges(const VcFsDrv *d, GArray *out)
{
    VcRange ring[4];

    g_array_append_vals(out, ring, vc_vq_ranges(d->vq, ring));
    for (unsigned i = 0; i < d->n; i++) {
        VcRange b[2] = {{d->req[i].in_gpa, d->req[i].in_cap}, {d->req[i].out_gpa, d->req[i].out_cap}};
        g_array_append_vals(out, b, d->req[i].out_cap ? 2 : 1);
    }
}

/* --- Typed requests ------------------------------------------------------------------------ */

/*
 * After vc_fs_call(): a framing fault, or a successful answer shorter than
 * @want, is the daemon's protocol error. Copies the reply into @dst.
 */
static bool
take_reply(VcFsDrv *d, void *dst, uint32_t want, uint32_t need, GError **error)
{
    const VcFsReply *rep = &d->last;
    char buf[256];

    if (dst) {
        memset(dst, 0, want);
    }
    if (rep->faults) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "FUSE_%s reply (used.len %u): %s",
                    vc_fs_opcode_name(rep->opcode), rep->used_len,
                    vc_fs_faults_text(rep->faults, buf, sizeof(buf)));
        return false;
    }
    if (rep->hdr.error != 0) {
        return true;
    }
    if (rep->data_len < need) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "FUSE_%s reply carries %u bytes "
                    "after the out header, want %u", vc_fs_opcode_name(rep->opcode),
                    rep->data_len, need);
        return false;
    }
    if (dst) {
        memcpy(dst, rep->data, MIN(want, rep->data_len));
    }
    return true;
}

bool
vc_fs_init(VcFsDrv *d, uint32_t minor, struct fuse_init_out *out, GError **error)
{
    struct fuse_init_in in = {.major = VC_FS_FUSE_MAJOR, .minor = minor,
                              .max_readahead = 128 * 1024};

    if (!vc_fs_call(d, FUSE_INIT, 0, &in, sizeof(in), NULL, 0,
                    VC_FS_OUT_HDR + sizeof(struct fuse_init_out), error) ||
        !take_reply(d, out, sizeof(*out), 8, error)) {
        return false;
    }
    if (d->last.hdr.error == 0 && out->major == VC_FS_FUSE_MAJOR) {
        d->minor = MIN(minor, out->minor);
    }
    return true;
}

bool
vc_fs_lookup(VcFsDrv *d, uint64_t parent, const char *name, struct fuse_entry_out *out,
             GError **error)
{
    return vc_fs_call(d, FUSE_LOOKUP, parent, name, (uint32_t)strlen(name) + 1, NULL, 0,
                      VC_FS_OUT_HDR + sizeof(*out), error) &&
           take_reply(d, out, sizeof(*out), sizeof(*out), error);
}

bool
vc_fs_getattr(VcFsDrv *d, uint64_t nodeid, struct fuse_attr_out *out, GError **error)
{
    struct fuse_getattr_in in = {0};

    return vc_fs_call(d, FUSE_GETATTR, nodeid, &in, sizeof(in), NULL, 0,
                      VC_FS_OUT_HDR + sizeof(*out), error) &&
           take_reply(d, out, sizeof(*out), sizeof(*out), error);
}

bool
vc_fs_open(VcFsDrv *d, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out,
           GError **error)
{
    struct fuse_open_in in = {.flags = flags};

    return vc_fs_call(d, FUSE_OPEN, nodeid, &in, sizeof(in), NULL, 0,
                      VC_FS_OUT_HDR + sizeof(*out), error) &&
           take_reply(d, out, sizeof(*out), sizeof(*out), error);
}

bool
vc_fs_read(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint64_t offset, uint32_t size, void *buf,
           uint32_t *got, GError **error)
{
    struct fuse_read_in in = {.fh = fh, .offset = offset, .size = size};

    *got = 0;
    if (!vc_fs_call(d, FUSE_READ, nodeid, &in, sizeof(in), NULL, 0, VC_FS_OUT_HDR + size,
                    error) ||
        !take_reply(d, NULL, 0, 0, error)) {
        return false;
    }
    if (d->last.hdr.error == 0) {
        *got = MIN(d->last.data_len, size);
        memcpy(buf, d->last.data, *got);
    }
    return true;
}

bool
vc_fs_write(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint64_t offset, const void *data,
            uint32_t size, uint32_t *written, GError **error)
{
    struct fuse_write_in in = {.fh = fh, .offset = offset, .size = size};
    struct fuse_write_out out;

    *written = 0;
    if (!vc_fs_call(d, FUSE_WRITE, nodeid, &in, sizeof(in), data, size,
                    VC_FS_OUT_HDR + sizeof(out), error) ||
        !take_reply(d, &out, sizeof(out), sizeof(out), error)) {
        return false;
    }
    *written = out.size;
    return true;
}

bool
vc_fs_release(VcFsDrv *d, uint64_t nodeid, uint64_t fh, uint32_t flags, GError **error)
{
    struct fuse_release_in in = {.fh = fh, .flags = flags};

    return vc_fs_call(d, FUSE_RELEASE, nodeid, &in, sizeof(in), NULL, 0, VC_FS_OUT_HDR,
                      error) &&
           take_reply(d, NULL, 0, 0, error);
}

bool
vc_fs_create(VcFsDrv *d, uint64_t parent, const char *name, uint32_t flags, uint32_t mode,
             struct fuse_entry_out *entry, struct fuse_open_out *open, GError **error)
{
    struct fuse_create_in in = {.flags = flags, .mode = mode};
    struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
    } rep;

    if (!vc_fs_call(d, FUSE_CREATE, parent, &in, sizeof(in), name, (uint32_t)strlen(name) + 1,
                    VC_FS_OUT_HDR + sizeof(rep), error) ||
        !take_reply(d, &rep, sizeof(rep), sizeof(rep), error)) {
        return false;
    }
    *entry = rep.e;
    *open = rep.o;
    return true;
}

bool
vc_fs_forget(VcFsDrv *d, uint64_t nodeid, uint64_t nlookup, GError **error)
{
    struct fuse_forget_in in = {.nlookup = nlookup};

    /* FUSE_FORGET has no reply: the chain is device-readable only (as Linux sends it). */
    return vc_fs_call(d, FUSE_FORGET, nodeid, &in, sizeof(in), NULL, 0, 0, error);
}

/* --- Generic traffic (vc-traffic.h) -------------------------------------------------------- */

/* Slot 0 carries the driver's FUSE_INIT; slots 1..n are the traffic's GETATTRs. */
typedef enum InitState { INIT_NONE, INIT_POSTED, INIT_DONE } InitState;

typedef struct FsTraffic {
    VcFsDrv *d;
    unsigned n;                /* traffic requests: slots 1..n */
    InitState init;
    char init_fault[160];      /* why the INIT failed, "" when it worked */
    bool *held;                /* [n + 1]: accepted by post(), waiting for the INIT to complete */
    uint32_t *seen;            /* [n + 1]: completions already judged */
    VcFsReply *rep;            /* [n + 1]: last reply of each slot */
    uint64_t poison;
    char why[192];
} FsTraffic;

#define TRAFFIC_IN_CAP  128
#define TRAFFIC_OUT_CAP (VC_FS_OUT_HDR + (uint32_t)sizeof(struct fuse_attr_out))

static int
queue_getattr(FsTraffic *t, unsigned i)
{
    struct fuse_getattr_in in = {0};
    int rc = queue_in_slot(t->d, i, FUSE_GETATTR, FUSE_ROOT_ID, &in, sizeof(in), NULL, 0,
                           TRAFFIC_OUT_CAP, t->poison);

    if (rc >= 0) {
        t->poison = 0;
    }
    return rc;
}

static int
queue_init(FsTraffic *t)
{
    struct fuse_init_in in = {.major = VC_FS_FUSE_MAJOR, .minor = VC_FS_FUSE_MINOR,
                              .max_readahead = 128 * 1024};

    return queue_in_slot(t->d, 0, FUSE_INIT, 0, &in, sizeof(in), NULL, 0,
                         VC_FS_OUT_HDR + sizeof(struct fuse_init_out), 0);
}

/* Judges the INIT reply in slot 0; the traffic goes on either way (verify reports it). */
static void
init_done(FsTraffic *t)
{
    VcFsReply rep;
    struct fuse_init_out io = {0};
    char buf[160];

    vc_fs_reply(t->d, 0, &rep);
    t->init = INIT_DONE;
    t->init_fault[0] = '\0';
    if (rep.faults) {
        g_snprintf(t->init_fault, sizeof(t->init_fault), "FUSE_INIT reply: %s",
                   vc_fs_faults_text(rep.faults, buf, sizeof(buf)));
        return;
    }
    if (rep.hdr.error) {
        g_snprintf(t->init_fault, sizeof(t->init_fault), "FUSE_INIT %u.%u answered error %d",
                   VC_FS_FUSE_MAJOR, VC_FS_FUSE_MINOR, rep.hdr.error);
        return;
    }
    memcpy(&io, rep.data, MIN(rep.data_len, (uint32_t)sizeof(io)));
    if (rep.data_len < 8 || io.major != VC_FS_FUSE_MAJOR) {
        g_snprintf(t->init_fault, sizeof(t->init_fault), "FUSE_INIT %u.%u answered version "
                   "%u.%u (%u bytes)", VC_FS_FUSE_MAJOR, VC_FS_FUSE_MINOR, io.major, io.minor,
                   rep.data_len);
        return;
    }
    t->d->minor = MIN(io.minor, (uint32_t)VC_FS_FUSE_MINOR);
}

/*
 * The ring already runs: the INIT went through it and moved its indices.
 * Stop it and set it up again at its base, as QEMU restarts a ring (call,
 * num, base, addr, kick, enable), so that the generic checks see the indices
 * they set.
 */
static bool
restart_ring(VcFrontend *fe, unsigned q, GError **error)
{
    VcVq *vq = fe->q[q].vq;

    if (!vc_fe_get_vring_base(fe, q, NULL, error)) {
        return false;
    }
    vc_vq_reset(vq, fe->cfg.start_idx);
    return vc_fe_set_vring_call(fe, q, error) && vc_fe_set_vring_num(fe, q, error) &&
           vc_fe_set_vring_base(fe, q, vc_vq_base(vq), error) &&
           vc_fe_set_vring_addr(fe, q, error) && vc_fe_set_vring_kick(fe, q, error) &&
           (!vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES) ||
            vc_fe_set_vring_enable(fe, q, true, error));
}

static void fs_t_destroy(void *p);

static void *
fs_t_create(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    FsTraffic *t;
    VcFsDrv *d;

    if (n + 1 > fe->q[q].vq->num) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "fs: %u requests and the INIT do not "
                    "fit a ring of %u", n, fe->q[q].vq->num);
        return NULL;
    }
    d = vc_fs_new(fe, q, n + 1, TRAFFIC_IN_CAP,
                  MAX(TRAFFIC_OUT_CAP, VC_FS_OUT_HDR + (uint32_t)sizeof(struct fuse_init_out)),
                  error);
    if (!d) {
        return NULL;
    }
    t = g_new0(FsTraffic, 1);
    t->d = d;
    t->n = n;
    t->held = g_new0(bool, n + 1);
    t->seen = g_new0(uint32_t, n + 1);
    t->rep = g_new0(VcFsReply, n + 1);
    if (!fe->q[q].kick_sent) {
        /* Not started yet (a check sets the ring up itself): the INIT goes with the first post. */
        return t;
    }
    if (queue_init(t) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "fs: cannot queue FUSE_INIT");
        fs_t_destroy(t);
        return NULL;
    }
    vc_fs_kick(d);
    if (!vc_fs_wait_slot(d, 0, d->timeout_ms)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT, "FUSE_INIT on ring %u was not "
                    "completed within %d ms", q, d->timeout_ms);
        fs_t_destroy(t);
        return NULL;
    }
    init_done(t);
    if (t->init_fault[0]) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "%s", t->init_fault);
        fs_t_destroy(t);
        return NULL;
    }
    if (!restart_ring(fe, q, error)) {
        fs_t_destroy(t);
        return NULL;
    }
    return t;
}

static void
fs_t_destroy(void *p)
{
    FsTraffic *t = p;

    vc_fs_free(t->d);
    g_free(t->held);
    g_free(t->seen);
    g_free(t->rep);
    g_free(t);
}

static unsigned
fs_t_post(void *p, unsigned count)
{
    FsTraffic *t = p;
    unsigned added = 0;
    bool in_ring = false;

    if (t->init == INIT_NONE && count) {
        if (queue_init(t) < 0) {
            return 0;
        }
        t->init = INIT_POSTED;
        in_ring = true;
    }
    for (unsigned i = 1; i <= t->n && added < count; i++) {
        if (t->d->req[i].posted || t->held[i]) {
            continue;
        }
        if (t->init != INIT_DONE) {
            /* virtio 1.x 5.11.6.1: nothing may depend on an INIT that has not been used yet. */
            t->held[i] = true;
        } else if (queue_getattr(t, i) < 0) {
            break;
        } else {
            in_ring = true;
        }
        added++;
    }
    if (in_ring) {
        vc_vq_publish(t->d->vq);
    }
    return added;
}

static unsigned
fs_t_reap(void *p)
{
    FsTraffic *t = p;
    unsigned bad = t->d->bad_id, n, released = 0;

    vc_fs_reap(t->d);
    n = t->d->bad_id - bad;
    if (t->init == INIT_POSTED && !t->d->req[0].posted) {
        init_done(t);
        for (unsigned i = 1; i <= t->n; i++) {
            if (t->held[i]) {
                t->held[i] = false;
                released += queue_getattr(t, i) >= 0;
            }
        }
        if (released) {
            vc_vq_notify(t->d->vq);
        }
    }
    for (unsigned i = 1; i <= t->n; i++) {
        if (t->d->req[i].completions != t->seen[i]) {
            t->seen[i] = t->d->req[i].completions;
            vc_fs_reply(t->d, i, &t->rep[i]);
            n++;
        }
    }
    return n;
}

static unsigned
fs_t_in_flight(void *p)
{
    FsTraffic *t = p;
    unsigned n = 0;

    for (unsigned i = 1; i <= t->n; i++) {
        n += t->d->req[i].posted || t->held[i];
    }
    return n;
}

static unsigned
fs_t_touched(void *p)
{
    FsTraffic *t = p;
    unsigned n = 0;

    for (unsigned i = 1; i <= t->n; i++) {
        const VcFsReq *r = &t->d->req[i];
        const uint8_t *out;
        bool written = false;

        if (!r->posted || r->poison) {
            continue;
        }
        out = hva(t->d, r->out_gpa, r->out_len);
        for (uint32_t k = 0; out && k < r->out_len && !written; k++) {
            written = out[k] != VC_GMEM_GUARD;
        }
        n += written;
    }
    return n;
}

static void
fs_t_skip_ranges(void *p, GArray *out)
{
    vc_fs_skip_ranges(((FsTraffic *)p)->d, out);
}

static const char *
fs_t_verify(void *p)
{
    FsTraffic *t = p;
    char buf[160];

    if (t->init == INIT_DONE && t->init_fault[0]) {
        return t->init_fault;
    }
    for (unsigned i = 1; i <= t->n; i++) {
        const VcFsReply *rep = &t->rep[i];
        const VcFsReq *r = &t->d->req[i];
        struct fuse_attr_out ao = {0};

        if (!r->completions || r->poison) {
            continue;
        }
        if (rep->faults) {
            g_snprintf(t->why, sizeof(t->why), "request %u (GETATTR of the root): %s", i,
                       vc_fs_faults_text(rep->faults, buf, sizeof(buf)));
            return t->why;
        }
        if (rep->hdr.error) {
            g_snprintf(t->why, sizeof(t->why), "request %u (GETATTR of the root): error %d", i,
                       rep->hdr.error);
            return t->why;
        }
        if (rep->data_len < sizeof(ao)) {
            g_snprintf(t->why, sizeof(t->why), "request %u (GETATTR of the root): %u reply "
                       "bytes, want %zu", i, rep->data_len, sizeof(ao));
            return t->why;
        }
        memcpy(&ao, rep->data, sizeof(ao));
        if (!S_ISDIR(ao.attr.mode)) {
            g_snprintf(t->why, sizeof(t->why), "request %u (GETATTR of the root, out gpa 0x%"
                       G_GINT64_MODIFIER "x): mode 0%o is not a directory", i, r->out_gpa,
                       ao.attr.mode);
            return t->why;
        }
        if (r->readable_changed) {
            g_snprintf(t->why, sizeof(t->why), "request %u: the device wrote into the "
                       "device-readable request", i);
            return t->why;
        }
    }
    return NULL;
}

static bool
fs_t_relocate(void *p, unsigned region, GError **error)
{
    FsTraffic *t = p;
    VcFsDrv *d = t->d;

    for (unsigned i = 0; i <= t->n; i++) {
        VcFsReq *r = &d->req[i];
        uint64_t in_gpa, out_gpa;
        if (r->posted) {
            continue;
        }
        if (!vc_gmem_alloc_in(d->fe->gm, region, r->in_cap, 64, &in_gpa) ||
            !vc_gmem_alloc_in(d->fe->gm, region, r->out_cap, 64, &out_gpa)) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "fs: region %u has no room for the buffers", region);
            return false;
        }
        /* The old buffers are given back clean, so a guard scan does not see our data. */
        vc_gmem_fill(d->fe->gm, r->in_gpa, r->in_cap, VC_GMEM_GUARD);
        vc_gmem_fill(d->fe->gm, r->out_gpa, r->out_cap, VC_GMEM_GUARD);
        r->in_gpa = in_gpa;
        r->out_gpa = out_gpa;
    }
    return true;
}

static void
fs_t_poison_next(void *p, uint64_t gpa)
{
    ((FsTraffic *)p)->poison = gpa;
}

static unsigned
fs_t_bad_ids(void *p)
{
    return ((FsTraffic *)p)->d->bad_id;
}

static bool
fs_t_set_indirect(void *p, bool on)
{
    VcFsDrv *d = ((FsTraffic *)p)->d;

    if (on && !(d->vq->flags & VC_VQ_INDIRECT)) {
        return false;
    }
    d->add_flags = on ? VC_ADD_INDIRECT : 0;
    return true;
}

static void
fs_t_forget(void *p)
{
    FsTraffic *t = p;

    for (unsigned i = 0; i <= t->n; i++) {
        t->d->req[i].posted = false;
        t->held[i] = false;
    }
    if (t->init == INIT_POSTED) {
        t->init = INIT_NONE;
    }
}

const VcTrafficOps vc_fs_traffic_ops = {
    .device = "fs",
    .queue = VC_FS_REQUEST_QUEUE,
    .create = fs_t_create,
    .destroy = fs_t_destroy,
    .post = fs_t_post,
    .reap = fs_t_reap,
    .in_flight = fs_t_in_flight,
    .touched = fs_t_touched,
    .skip_ranges = fs_t_skip_ranges,
    .verify = fs_t_verify,
    .relocate = fs_t_relocate,
    .poison_next = fs_t_poison_next,
    .bad_ids = fs_t_bad_ids,
    .set_indirect = fs_t_set_indirect,
    .forget = fs_t_forget,
};
