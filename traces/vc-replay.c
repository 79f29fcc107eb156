/*
 * vc-replay.c -- replaying a trace (traces/FORMAT.md "Replay").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-conn.h"
#include "vc-replay.h"
#include "vc-trace-read.h"
#include "vc-trace-show.h"
#include "vc-trace.h"
#include "wire/vc-msg-io.h"

#define LINE 1024
#define MAX_RINGS 256
#define VIRTIO_F_RING_PACKED_BIT 34

/* One recorded message. */
typedef struct Rec {
    uint64_t frame;
    uint32_t conn;
    VcTraceKind kind;
    uint32_t flags;
    uint32_t wire_len;
    unsigned nfds;
    unsigned nfds_total;
    VcTraceFd fds[VC_TRACE_MAX_FDS];
    uint8_t *data;          /* the bytes as recorded (raw sends) */
    size_t data_len;
    VcMsg *msg;
    int answer;             /* back-end request: index of the recorded answer, or -1 */
} Rec;

typedef struct Region {
    uint64_t gpa, size, uva, offset;
    int fd;                 /* borrowed from the session's memfd table */
} Region;

typedef struct Session {
    uint32_t conn;
    VcConn *c;              /* main socket */
    VcConn *bch;            /* our end of the back-end channel, or NULL */
    bool opened;
    bool broken;
    bool hung_up;           /* the daemon closed where the recording has nothing more from it */
    guint last;             /* index of the session's last record (main or channel) */
    GHashTable *memfds;     /* recorded inode -> our memfd (owned) */
    GArray *keep;           /* other fds kept open until the session ends */
    GArray *regions;        /* of Region */
    GQueue bch_expect;      /* indices of recorded back-end requests not yet seen */
    uint32_t base[MAX_RINGS];
    bool base_set[MAX_RINGS];
    struct vhost_vring_addr addr[MAX_RINGS];
    bool addr_set[MAX_RINGS];
    bool packed;
    bool postcopy;
} Session;

typedef struct Replay {
    const VcReplayOptions *o;
    FILE *out;
    VcReplayStats *st;
    GArray *recs;           /* of Rec */
    GHashTable *sessions;   /* main conn -> Session */
    VcDaemon *daemon;
    VcTrace *tout;
    VcMsg *got;             /* scratch for received messages */
    VcMsg *bgot;            /* scratch for the back-end channel */
} Replay;

static Rec *
rec_at(Replay *rp, guint i)
{
    return &g_array_index(rp->recs, Rec, i);
}

static void
rec_clear(gpointer p)
{
    Rec *r = p;

    g_free(r->data);
    g_free(r->msg);
}

static void
session_free(gpointer p)
{
    Session *s = p;

    vc_conn_free(s->c);
    vc_conn_free(s->bch);
    g_hash_table_unref(s->memfds);
    for (guint i = 0; i < s->keep->len; i++) {
        close(g_array_index(s->keep, int, i));
    }
    g_array_unref(s->keep);
    g_array_unref(s->regions);
    g_queue_clear(&s->bch_expect);
    g_free(s);
}

static void
close_fd_ptr(gpointer p)
{
    close(GPOINTER_TO_INT(p));
}

static Session *
session_get(Replay *rp, uint32_t conn)
{
    Session *s = g_hash_table_lookup(rp->sessions, GUINT_TO_POINTER(conn));

    if (!s) {
        s = g_new0(Session, 1);
        s->conn = conn;
        s->memfds = g_hash_table_new_full(NULL, NULL, NULL, close_fd_ptr);
        s->keep = g_array_new(FALSE, FALSE, sizeof(int));
        s->regions = g_array_new(FALSE, FALSE, sizeof(Region));
        g_queue_init(&s->bch_expect);
        g_hash_table_insert(rp->sessions, GUINT_TO_POINTER(conn), s);
    }
    return s;
}

/* --- Loading ----------------------------------------------------------------------------- */

static bool
load(Replay *rp, GError **error)
{
    g_autoptr(VcTraceReader) r = vc_trace_reader_open(rp->o->trace, error);
    const VcTraceRec *tr;
    GError *err = NULL;

    if (!r) {
        return false;
    }
    while ((tr = vc_trace_reader_next(r, &err))) {
        Rec rec = {0};

        if (tr->kind != VC_TRACE_F2B && tr->kind != VC_TRACE_B2F) {
            continue;
        }
        /* What we send must be whole: a truncated request or answer cannot be replayed. */
        if (tr->kind == VC_TRACE_F2B && (tr->flags & VC_TRACE_FLAG_TRUNCATED)) {
            g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_FORMAT,
                        "%s: frame %" G_GUINT64_FORMAT ": the trace holds only %zu of the %u "
                        "bytes of this message, so it cannot be replayed", rp->o->trace,
                        tr->frame, tr->data_len, tr->wire_len);
            return false;
        }
        rec.frame = tr->frame;
        rec.conn = tr->conn;
        rec.kind = tr->kind;
        rec.flags = tr->flags;
        rec.wire_len = tr->wire_len;
        rec.nfds = tr->nfds;
        rec.nfds_total = tr->nfds_total;
        memcpy(rec.fds, tr->fds, sizeof(rec.fds));
        rec.data = g_memdup2(tr->data, tr->data_len);
        rec.data_len = tr->data_len;
        rec.msg = g_memdup2(&tr->msg, sizeof(tr->msg));
        rec.answer = -1;
        g_array_append_val(rp->recs, rec);
    }
    if (err) {
        g_propagate_error(error, err);
        return false;
    }
    /* Sessions, their last records, and the answers to back-end requests. */
    for (guint i = 0; i < rp->recs->len; i++) {
        Rec *rec = rec_at(rp, i);
        Session *s = session_get(rp, rec->conn & ~1u);

        s->last = i;
        if ((rec->conn & 1) && rec->kind == VC_TRACE_B2F) {
            for (guint j = i + 1; j < rp->recs->len; j++) {
                Rec *a = rec_at(rp, j);
                if (a->conn != rec->conn) {
                    continue;
                }
                if (a->kind == VC_TRACE_F2B && a->msg->hdr.request == rec->msg->hdr.request) {
                    rec->answer = (int)j;
                }
                break;
            }
        }
    }
    return true;
}

/* --- Guest memory and fds --------------------------------------------------------------- */

static const Region *
region_of(Session *s, uint64_t uva)
{
    for (guint i = 0; i < s->regions->len; i++) {
        const Region *r = &g_array_index(s->regions, Region, i);
        if (uva >= r->uva && uva - r->uva < r->size) {
            return r;
        }
    }
    return NULL;
}

/*
 * A split ring starts where SET_VRING_BASE says: avail->idx and used->idx
 * hold that value, so the daemon sees no chains the trace does not show.
 */
static void
init_ring(Session *s, unsigned q)
{
    static const uint64_t idx_off = 2; /* struct vring_avail / vring_used: flags, idx */
    uint16_t v;

    if (q >= MAX_RINGS || !s->base_set[q] || !s->addr_set[q] || s->packed) {
        return;
    }
    v = GUINT16_TO_LE((uint16_t)s->base[q]);
    for (unsigned k = 0; k < 2; k++) {
        uint64_t uva = k ? s->addr[q].used_user_addr : s->addr[q].avail_user_addr;
        const Region *r = region_of(s, uva);
        if (r && uva - r->uva + idx_off + sizeof(v) <= r->size) {
            if (pwrite(r->fd, &v, sizeof(v), (off_t)(r->offset + uva - r->uva + idx_off)) < 0) {
                /* The ring keeps zeroes: a daemon then just sees an empty ring at index 0. */
            }
        }
    }
}

/* Bytes fd @k of @m must have for what the message maps from it. */
static uint64_t
needed_size(const VcMsg *m, unsigned k)
{
    switch (m->hdr.request) {
    case VHOST_USER_SET_MEM_TABLE:
        if (k < VHOST_MEMORY_BASELINE_NREGIONS && m->hdr.size >= 8 + 32 * (k + 1)) {
            const VhostUserMemoryRegion *r = &m->payload.memory.regions[k];
            return r->mmap_offset + r->memory_size;
        }
        return 0;
    case VHOST_USER_ADD_MEM_REG:
        return m->hdr.size >= sizeof(VhostUserMemRegMsg)
                   ? m->payload.mem_reg.region.mmap_offset + m->payload.mem_reg.region.memory_size
                   : 0;
    case VHOST_USER_SET_LOG_BASE:
        return m->hdr.size >= sizeof(VhostUserLog)
                   ? m->payload.log.mmap_offset + m->payload.log.mmap_size : 0;
    case VHOST_USER_SET_INFLIGHT_FD:
        return m->hdr.size >= 16 ? m->payload.inflight.mmap_offset + m->payload.inflight.mmap_size
                                 : 0;
    default:
        return 0;
    }
}

static void
keep_fd(Session *s, int fd)
{
    g_array_append_val(s->keep, fd);
}

/*
 * A fresh fd of the recorded kind for fd @k of @rec. *close_after says
 * whether the caller closes it once sent (the rest stay with the session).
 */
static int
make_fd(Replay *rp, Session *s, const Rec *rec, unsigned k, bool *close_after, GError **error)
{
    const VcTraceFd *f = &rec->fds[k];
    const VcMsg *m = rec->msg;
    uint64_t size = MAX(f->size, needed_size(m, k));
    int fd = -1, sv[2];

    *close_after = true;
    switch (f->kind) {
    case VC_TRACE_FD_MEMFD:
    case VC_TRACE_FD_FILE:
        /* The same recorded inode gets the same memfd: QEMU's regions share one. */
        fd = f->ino ? GPOINTER_TO_INT(g_hash_table_lookup(s->memfds, GUINT_TO_POINTER(f->ino)))
                    : 0;
        if (fd > 0) {
            struct stat st;
            if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < size &&
                ftruncate(fd, (off_t)size) < 0) {
                break;
            }
            *close_after = false;
            return fd;
        }
        fd = memfd_create("vc-replay", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
            break;
        }
        if (f->ino) {
            g_hash_table_insert(s->memfds, GUINT_TO_POINTER(f->ino), GINT_TO_POINTER(fd));
            *close_after = false;
        }
        return fd;
    case VC_TRACE_FD_EVENTFD:
        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd >= 0) {
            return fd;
        }
        break;
    case VC_TRACE_FD_SOCKET:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            break;
        }
        if (!(rec->conn & 1) && m->hdr.request == VHOST_USER_SET_BACKEND_REQ_FD) {
            vc_conn_free(s->bch);
            s->bch = vc_conn_new(sv[0], s->conn + 1, VC_CHAN_BACKEND);
            if (rp->tout) {
                vc_conn_set_tap(s->bch, vc_trace_conn_tap, rp->tout);
            }
        } else {
            keep_fd(s, sv[0]);
        }
        return sv[1];
    case VC_TRACE_FD_PIPE: {
        /* The daemon reads kicks and loaded device state; it writes everything else. */
        bool reads = m->hdr.request == VHOST_USER_SET_VRING_KICK ||
                     (m->hdr.request == VHOST_USER_SET_DEVICE_STATE_FD &&
                      m->payload.transfer_state.direction == VHOST_TRANSFER_STATE_DIRECTION_LOAD);
        if (pipe2(sv, O_CLOEXEC | O_NONBLOCK) < 0) {
            break;
        }
        keep_fd(s, reads ? sv[1] : sv[0]);
        return reads ? sv[0] : sv[1];
    }
    default:
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            return fd;
        }
        break;
    }
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                "frame %" G_GUINT64_FORMAT ": making a %s for fd %u: %s", rec->frame,
                vc_trace_fd_kind_name(f->kind), k, g_strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

/* Front-end state the replay needs: memory regions, ring bases and addresses, features. */
static void
track(Session *s, const VcMsg *m)
{
    switch (m->hdr.request) {
    case VHOST_USER_SET_MEM_TABLE:
        g_array_set_size(s->regions, 0);
        for (unsigned i = 0; i < m->payload.memory.nregions && i < m->nfds &&
                             i < VHOST_MEMORY_BASELINE_NREGIONS && m->hdr.size >= 8 + 32 * (i + 1);
             i++) {
            const VhostUserMemoryRegion *r = &m->payload.memory.regions[i];
            Region g = {r->guest_phys_addr, r->memory_size, r->userspace_addr, r->mmap_offset,
                        m->fds[i]};
            g_array_append_val(s->regions, g);
        }
        break;
    case VHOST_USER_ADD_MEM_REG:
        if (m->nfds >= 1 && m->hdr.size >= sizeof(VhostUserMemRegMsg)) {
            const VhostUserMemoryRegion *r = &m->payload.mem_reg.region;
            Region g = {r->guest_phys_addr, r->memory_size, r->userspace_addr, r->mmap_offset,
                        m->fds[0]};
            g_array_append_val(s->regions, g);
        }
        break;
    case VHOST_USER_REM_MEM_REG:
        for (guint i = 0; i < s->regions->len; i++) {
            const Region *g = &g_array_index(s->regions, Region, i);
            const VhostUserMemoryRegion *r = &m->payload.mem_reg.region;
            if (g->gpa == r->guest_phys_addr && g->size == r->memory_size &&
                g->uva == r->userspace_addr) {
                g_array_remove_index(s->regions, i);
                break;
            }
        }
        break;
    case VHOST_USER_SET_FEATURES:
        s->packed = (m->payload.u64 >> VIRTIO_F_RING_PACKED_BIT) & 1;
        break;
    case VHOST_USER_SET_VRING_BASE:
        if (m->payload.state.index < MAX_RINGS) {
            s->base[m->payload.state.index] = m->payload.state.num;
            s->base_set[m->payload.state.index] = true;
            init_ring(s, m->payload.state.index);
        }
        break;
    case VHOST_USER_SET_VRING_ADDR:
        if (m->payload.addr.index < MAX_RINGS) {
            s->addr[m->payload.addr.index] = m->payload.addr;
            s->addr_set[m->payload.addr.index] = true;
            init_ring(s, m->payload.addr.index);
        }
        break;
    case VHOST_USER_SET_VRING_KICK:
        init_ring(s, (unsigned)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK));
        break;
    default:
        break;
    }
}

/* --- Differences ----------------------------------------------------------------------------- */

static void G_GNUC_PRINTF(2, 3)
diff(Replay *rp, const char *fmt, ...)
{
    va_list ap;

    rp->st->differences++;
    if (rp->st->differences > rp->o->max_diffs) {
        if (rp->st->differences == rp->o->max_diffs + 1) {
            fprintf(rp->out, "(further differences are counted, not shown)\n");
        }
        return;
    }
    va_start(ap, fmt);
    vfprintf(rp->out, fmt, ap);
    va_end(ap);
    fflush(rp->out);
}

static const char *
line(char *buf, VcChannel ch, const VcMsg *m, const VcMsg *req)
{
    return vc_trace_format_msg_line(buf, LINE, ch, m, req);
}

/* Compares fds by count and kind; appends what differs to @why. */
static void
compare_fds(const Rec *exp, const VcMsg *got, GString *why)
{
    if (got->nfds != exp->nfds_total) {
        g_string_append_printf(why, "%s%u fds, recorded %u", why->len ? "; " : "", got->nfds,
                               exp->nfds_total);
        return;
    }
    for (unsigned i = 0; i < exp->nfds && i < got->nfds; i++) {
        VcTraceFdDesc d;
        vc_trace_describe_fd(got->fds[i], &d);
        /* A memfd and another regular file are both "shared memory" here. */
        bool same = d.kind == exp->fds[i].kind ||
                    ((d.kind == VC_TRACE_FD_MEMFD || d.kind == VC_TRACE_FD_FILE) &&
                     (exp->fds[i].kind == VC_TRACE_FD_MEMFD ||
                      exp->fds[i].kind == VC_TRACE_FD_FILE));
        if (!same) {
            g_string_append_printf(why, "%sfd %u is a %s, recorded a %s", why->len ? "; " : "", i,
                                   vc_trace_fd_kind_name(d.kind),
                                   vc_trace_fd_kind_name(exp->fds[i].kind));
        }
    }
}

static void
region_diff(GString *why, const char *what, const VhostUserMemoryRegion *a,
            const VhostUserMemoryRegion *b)
{
    /* The user address in a postcopy reply is the daemon's own mapping: tolerated. */
    if (a->guest_phys_addr != b->guest_phys_addr || a->memory_size != b->memory_size ||
        a->mmap_offset != b->mmap_offset) {
        g_string_append_printf(why, "%s%s differs", why->len ? "; " : "", what);
    }
}

/*
 * Field-by-field comparison of a reply (@req is the request it answers on
 * the main socket) or, with @req NULL, of a back-end request.
 */
static void
compare_msg(Session *s, const VcMsg *req, const Rec *exp, const VcMsg *got, GString *why)
{
    const VcMsg *e = exp->msg;
    size_t n = MIN(e->hdr.size, VC_MSG_MAX_PAYLOAD);
    VcPayloadKind kind = req ? vc_msg_reply_kind(VC_CHAN_MAIN, req, s->postcopy) : VC_PL_ANY;

    /* vhost-user.rst postcopy: SET_MEM_TABLE and ADD_MEM_REG are answered with regions. */
    if (req && s->postcopy && req->hdr.request == VHOST_USER_SET_MEM_TABLE) {
        kind = VC_PL_MEM_TABLE;
    } else if (req && s->postcopy && req->hdr.request == VHOST_USER_ADD_MEM_REG) {
        kind = VC_PL_MEM_REG;
    }

    if (got->hdr.request != e->hdr.request) {
        g_string_append_printf(why, "request %u, recorded %u", got->hdr.request, e->hdr.request);
    }
    if (got->hdr.flags != e->hdr.flags) {
        g_string_append_printf(why, "%sflags 0x%x, recorded 0x%x", why->len ? "; " : "",
                               got->hdr.flags, e->hdr.flags);
    }
    if (got->hdr.size != e->hdr.size) {
        g_string_append_printf(why, "%ssize %u, recorded %u", why->len ? "; " : "",
                               got->hdr.size, e->hdr.size);
    }
    if (!why->len) {
        switch (kind) {
        case VC_PL_INFLIGHT:
            /* Where the daemon puts its inflight area is its own business: sizes only. */
            if (n >= 20 && (got->payload.inflight.num_queues != e->payload.inflight.num_queues ||
                            got->payload.inflight.queue_size != e->payload.inflight.queue_size)) {
                g_string_append(why, "num_queues or queue_size differs");
            }
            break;
        case VC_PL_MEM_TABLE:
            if (got->payload.memory.nregions != e->payload.memory.nregions) {
                g_string_append(why, "nregions differs");
                break;
            }
            for (unsigned i = 0; i < e->payload.memory.nregions &&
                                 i < VHOST_MEMORY_BASELINE_NREGIONS && 8 + 32 * (i + 1) <= n;
                 i++) {
                region_diff(why, "a region", &got->payload.memory.regions[i],
                            &e->payload.memory.regions[i]);
            }
            break;
        case VC_PL_MEM_REG:
            if (n >= sizeof(VhostUserMemRegMsg)) {
                region_diff(why, "the region", &got->payload.mem_reg.region,
                            &e->payload.mem_reg.region);
            }
            break;
        case VC_PL_VRING_STATE:
            if (req && req->hdr.request == VHOST_USER_GET_VRING_BASE && n == 8) {
                unsigned q = e->payload.state.index;
                /*
                 * Replay moves no ring, so the answer must be the SET_VRING_BASE value sent:
                 * what was recorded when the recorded session did not move the ring either,
                 * and what a correct daemon answers here when it did.
                 */
                uint32_t want = q < MAX_RINGS && s->base_set[q] ? s->base[q] : 0;
                if (got->payload.state.index != e->payload.state.index) {
                    g_string_append_printf(why, "index %u, recorded %u", got->payload.state.index,
                                           e->payload.state.index);
                } else if (got->payload.state.num != want) {
                    g_string_append_printf(why, "num %u, want %u (the SET_VRING_BASE value%s)",
                                           got->payload.state.num, want,
                                           e->payload.state.num == want
                                               ? ", as recorded"
                                               : "; the recorded session moved the ring");
                }
                break;
            }
            /* fall through */
        default:
            if (memcmp(got->payload.raw, e->payload.raw, n) != 0) {
                g_string_append(why, "payload differs");
            }
            break;
        }
    }
    compare_fds(exp, got, why);
}

/* --- Messaging ------------------------------------------------------------------------------- */

/* Returns 1 when sent, 0 when it could not be sent (-errno in *err), -1 on a harness error. */
static int
send_rec(Replay *rp, Session *s, VcConn *c, const Rec *rec, int *err, GError **error)
{
    g_autofree VcMsg *m = g_memdup2(rec->msg, sizeof(*rec->msg));
    int close_after[VC_TRACE_MAX_FDS];
    unsigned nclose = 0;
    int r;

    m->nfds = 0;
    for (unsigned k = 0; k < rec->nfds; k++) {
        bool ca;
        int fd = make_fd(rp, s, rec, k, &ca, error);
        if (fd < 0) {
            for (unsigned i = 0; i < nclose; i++) {
                close(close_after[i]);
            }
            return -1;
        }
        m->fds[m->nfds++] = fd;
        if (ca) {
            close_after[nclose++] = fd;
        }
    }
    if (c == s->c) {
        track(s, m);
    }
    if (rec->flags & VC_TRACE_FLAG_RAW) {
        r = vc_conn_send_raw(c, rec->data, rec->data_len, m->fds, m->nfds, rp->o->timeout_ms);
    } else {
        r = vc_conn_send(c, m, rp->o->timeout_ms);
    }
    for (unsigned i = 0; i < nclose; i++) {
        close(close_after[i]);
    }
    if (c == s->c && m->hdr.request == VHOST_USER_POSTCOPY_LISTEN) {
        s->postcopy = true;
    }
    rp->st->sent++;
    if (rp->o->verbose) {
        char l[LINE];
        fprintf(rp->out, "frame %" G_GUINT64_FORMAT " (conn %u) sent: %s\n", rec->frame,
                c->id, line(l, c->chan, rec->msg, NULL));
    }
    *err = r;
    return r < 0 ? 0 : 1;
}

/*
 * In-band notifications (vhost-user.rst INBAND_NOTIFICATIONS) follow the datapath, which
 * replay does not reproduce: they are neither expected nor counted as differences.
 */
static bool
is_inband_notification(const VcMsg *m)
{
    return m->hdr.request == VHOST_USER_BACKEND_VRING_CALL ||
           m->hdr.request == VHOST_USER_BACKEND_VRING_ERR;
}

/* A request the daemon sent on the back-end channel: compare, then answer as recorded. */
static void
serve_backend(Replay *rp, Session *s, GError **error)
{
    VcMsg *m = rp->bgot;
    char l1[LINE], l2[LINE];
    int r = vc_conn_recv(s->bch, m, 0);
    gpointer idx;

    if (r == -EAGAIN) {
        return;
    }
    if (r < 0) {
        vc_msg_close_fds(m);
        /* QEMU drops the channel on a read error or hang-up; so do we. */
        g_clear_pointer(&s->bch, vc_conn_free);
        return;
    }
    if (is_inband_notification(m)) {
        if (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) {
            VcMsg ack;
            vc_msg_init(&ack, m->hdr.request, VHOST_USER_REPLY_MASK);
            ack.hdr.size = sizeof(uint64_t);
            ack.payload.u64 = 0;
            (void)vc_conn_send(s->bch, &ack, rp->o->timeout_ms);
        }
        vc_msg_close_fds(m);
        return;
    }
    rp->st->compared++;
    idx = g_queue_pop_head(&s->bch_expect);
    if (!idx) {
        diff(rp, "conn %u: unexpected back-end request\n  replayed: %s\n", s->conn + 1,
             line(l1, VC_CHAN_BACKEND, m, NULL));
    } else {
        const Rec *exp = rec_at(rp, GPOINTER_TO_UINT(idx) - 1);
        g_autoptr(GString) why = g_string_new(NULL);

        compare_msg(s, NULL, exp, m, why);
        if (why->len) {
            diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): back-end request differs: %s\n"
                 "  recorded: %s\n  replayed: %s\n", exp->frame, exp->conn, why->str,
                 line(l1, VC_CHAN_BACKEND, exp->msg, NULL), line(l2, VC_CHAN_BACKEND, m, NULL));
        }
        if (exp->answer >= 0 && s->bch) {
            int err;
            /* A channel the daemon closed meanwhile is its business, as with QEMU. */
            send_rec(rp, s, s->bch, rec_at(rp, (guint)exp->answer), &err, error);
        }
    }
    vc_msg_close_fds(m);
}

/*
 * Waits for the next message on the main socket, serving the back-end
 * channel meanwhile. Returns 0 with a message in rp->got, or -errno.
 */
static int
wait_main(Replay *rp, Session *s, int timeout_ms, GError **error)
{
    int64_t deadline = vc_now_ms() + timeout_ms;

    for (;;) {
        struct pollfd p[2] = {{.fd = s->c->fd, .events = POLLIN},
                              {.fd = s->bch ? s->bch->fd : -1, .events = POLLIN}};
        int left = (int)MAX(deadline - vc_now_ms(), 0);
        int r = poll(p, 2, left);

        if (r < 0 && errno != EINTR) {
            return -errno;
        }
        if (r > 0 && p[1].revents) {
            serve_backend(rp, s, error);
        }
        if (r > 0 && p[0].revents) {
            return vc_conn_recv(s->c, rp->got, rp->o->timeout_ms);
        }
        if (left == 0) {
            return -ETIMEDOUT;
        }
    }
}

static const char *
wait_error_text(int r)
{
    switch (r) {
    case -ETIMEDOUT:
        return "no message from the daemon before the deadline";
    case -ECONNRESET:
        return "the daemon closed the connection";
    case -EPROTO:
        return "the daemon closed the connection in the middle of a message";
    case -EMSGSIZE:
        return "the daemon sent a payload larger than 4096 bytes";
    case -ETIME:
        return "the daemon began a message but did not finish it";
    default:
        return g_strerror(-r);
    }
}

static bool
open_session(Replay *rp, Session *s, const Rec *first, GError **error)
{
    g_autoptr(GError) err = NULL;
    int fd;

    s->opened = true;
    rp->st->sessions++;
    if (vc_daemon_has_process(rp->daemon) && !vc_daemon_alive(rp->daemon)) {
        /* Some daemons exit after each front end (virtiofsd): start another. */
        vc_daemon_free(rp->daemon);
        rp->daemon = vc_daemon_start(&rp->o->launch, error);
        if (!rp->daemon) {
            return false;
        }
    }
    fd = vc_daemon_connect(rp->daemon, MAX(rp->o->launch.start_timeout_ms, 5000), &err);
    if (fd < 0) {
        diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): cannot connect to the daemon: %s\n",
             first->frame, s->conn, err->message);
        s->broken = true;
        return true;
    }
    s->c = vc_conn_new(fd, s->conn, VC_CHAN_MAIN);
    if (rp->tout) {
        vc_conn_set_tap(s->c, vc_trace_conn_tap, rp->tout);
    }
    for (guint i = 0; i < rp->recs->len; i++) {
        const Rec *r = rec_at(rp, i);
        if (r->conn == s->conn + 1 && r->kind == VC_TRACE_B2F && !is_inband_notification(r->msg)) {
            g_queue_push_tail(&s->bch_expect, GUINT_TO_POINTER(i + 1));
        }
    }
    return true;
}

static void
close_session(Replay *rp, Session *s, const Rec *last, GError **error)
{
    char l[LINE];
    gpointer idx;

    if (s->c && !s->broken) {
        /* Anything the daemon sends now was not recorded. */
        for (;;) {
            int r = wait_main(rp, s, rp->o->settle_ms, error);
            if (r < 0) {
                vc_msg_close_fds(rp->got);
                break;
            }
            rp->st->compared++;
            diff(rp, "after frame %" G_GUINT64_FORMAT " (conn %u): unexpected message from the "
                 "daemon\n  replayed: %s\n", last->frame, s->conn,
                 line(l, VC_CHAN_MAIN, rp->got, NULL));
            vc_msg_close_fds(rp->got);
        }
    }
    while ((idx = g_queue_pop_head(&s->bch_expect))) {
        const Rec *exp = rec_at(rp, GPOINTER_TO_UINT(idx) - 1);
        if (!s->broken) {
            diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): the daemon did not send this "
                 "back-end request\n  recorded: %s\n", exp->frame, exp->conn,
                 line(l, VC_CHAN_BACKEND, exp->msg, NULL));
        }
    }
    g_clear_pointer(&s->c, vc_conn_free);
    g_clear_pointer(&s->bch, vc_conn_free);
}

/* Whether the daemon sent anything on main connection @conn after record @i. */
static bool
daemon_spoke_after(Replay *rp, guint i, uint32_t conn)
{
    for (guint j = i + 1; j < rp->recs->len; j++) {
        const Rec *r = rec_at(rp, j);
        if (r->conn == conn && r->kind == VC_TRACE_B2F) {
            return true;
        }
    }
    return false;
}

/* Sends main-socket request @i and checks the replies recorded after it. */
static bool
replay_request(Replay *rp, Session *s, guint i, GError **error)
{
    const Rec *rec = rec_at(rp, i);
    char l1[LINE], l2[LINE];
    int err = 0;

    switch (send_rec(rp, s, s->c, rec, &err, error)) {
    case -1:
        return false;
    case 0:
        /*
         * The daemon closed the connection before this message. Traces hold no close
         * events: when nothing was recorded from the daemon on this connection after
         * this message, the recording is consistent with it closing here.
         */
        if (daemon_spoke_after(rp, i, s->conn)) {
            diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): could not send: %s\n  recorded: "
                 "%s\n", rec->frame, s->conn, err == -EPIPE ? "the daemon closed the "
                 "connection, but the recording has replies after this" : g_strerror(-err),
                 line(l1, VC_CHAN_MAIN, rec->msg, NULL));
        } else {
            s->hung_up = true;
            if (rp->o->verbose) {
                fprintf(rp->out, "frame %" G_GUINT64_FORMAT " (conn %u): the daemon closed the "
                        "connection; nothing after this was recorded from it\n", rec->frame,
                        s->conn);
            }
        }
        s->broken = true;
        return true;
    default:
        break;
    }
    for (guint j = i + 1; j < rp->recs->len; j++) {
        const Rec *exp = rec_at(rp, j);
        g_autoptr(GString) why = NULL;
        int r;

        if (exp->conn != s->conn) {
            continue;
        }
        if (exp->kind == VC_TRACE_F2B) {
            break;
        }
        r = wait_main(rp, s, rp->o->timeout_ms, error);
        if (r < 0) {
            vc_msg_close_fds(rp->got);
            diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): %s (reply to frame %"
                 G_GUINT64_FORMAT ")\n  recorded: %s\n", exp->frame, s->conn, wait_error_text(r),
                 rec->frame, line(l1, VC_CHAN_MAIN, exp->msg, rec->msg));
            s->broken = true;
            return true;
        }
        rp->st->compared++;
        why = g_string_new(NULL);
        compare_msg(s, rec->msg, exp, rp->got, why);
        if (why->len) {
            diff(rp, "frame %" G_GUINT64_FORMAT " (conn %u): reply to %s (frame %" G_GUINT64_FORMAT
                 ") differs: %s\n  recorded: %s\n  replayed: %s\n", exp->frame, s->conn,
                 vc_msg_name(VC_CHAN_MAIN, rec->msg->hdr.request), rec->frame, why->str,
                 line(l1, VC_CHAN_MAIN, exp->msg, rec->msg),
                 line(l2, VC_CHAN_MAIN, rp->got, rec->msg));
        }
        vc_msg_close_fds(rp->got);
    }
    return true;
}

bool
vc_replay_run(const VcReplayOptions *opts, FILE *out, VcReplayStats *stats, GError **error)
{
    VcReplayOptions o = *opts;
    Replay rp = {.o = &o, .out = out, .st = stats};
    bool ok = false;

    memset(stats, 0, sizeof(*stats));
    o.timeout_ms = o.timeout_ms ? o.timeout_ms : 2000;
    o.settle_ms = o.settle_ms ? o.settle_ms : 100;
    o.max_diffs = o.max_diffs ? o.max_diffs : 50;
    rp.recs = g_array_new(FALSE, TRUE, sizeof(Rec));
    g_array_set_clear_func(rp.recs, rec_clear);
    rp.sessions = g_hash_table_new_full(NULL, NULL, NULL, session_free);
    rp.got = g_new0(VcMsg, 1);
    rp.bgot = g_new0(VcMsg, 1);
    if (!load(&rp, error)) {
        goto out;
    }
    if (o.trace_out) {
        GError *err = NULL;
        rp.tout = vc_trace_open(o.trace_out, 0, &err);
        if (!rp.tout) {
            /* An output problem is the harness's, not the input trace's. */
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err->message);
            g_error_free(err);
            goto out;
        }
    }
    rp.daemon = vc_daemon_start(&o.launch, error);
    if (!rp.daemon) {
        goto out;
    }
    for (guint i = 0; i < rp.recs->len; i++) {
        const Rec *rec = rec_at(&rp, i);
        Session *s = session_get(&rp, rec->conn & ~1u);

        if (!(rec->conn & 1) && rec->kind == VC_TRACE_F2B) {
            if (!s->opened && !open_session(&rp, s, rec, error)) {
                goto out;
            }
            if (s->broken) {
                stats->skipped += !s->hung_up;
            } else if (!replay_request(&rp, s, i, error)) {
                goto out;
            }
        }
        if (i == s->last && s->opened) {
            close_session(&rp, s, rec, error);
        }
    }
    ok = true;
out:
    if (rp.tout && !vc_trace_close(g_steal_pointer(&rp.tout), ok ? error : NULL)) {
        ok = false;
    }
    g_hash_table_unref(rp.sessions);
    g_clear_pointer(&rp.daemon, vc_daemon_free);
    g_array_unref(rp.recs);
    g_free(rp.got);
    g_free(rp.bgot);
    return ok;
}
