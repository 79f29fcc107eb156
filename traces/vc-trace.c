/*
 * vc-trace.c -- the trace writer (traces/FORMAT.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "vc-trace.h"

G_DEFINE_QUARK(vc-trace-error-quark, vc_trace_error)

/* Exported-PDU tags: dissector name (padded to 4 bytes), then end of options. */
#define TAGS_LEN (4 + 12 + 4)
#define MARK_MAX 1024u
#define RECORD_MAX (TAGS_LEN + sizeof(VcTracePrefix) + VC_TRACE_MAX_FDS * sizeof(VcTraceFdDesc) + \
                    VC_TRACE_MAX_DATA + MARK_MAX)

struct VcTrace {
    char *path;
    unsigned flags;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    char *iobuf;               /* stdio buffer: one record reaches the kernel in one write */
    GMutex lock;
    uint64_t frames;
    unsigned last_main_conn;   /* datapath events are attributed to it */
    int write_errno;           /* first write failure, 0 if none */
    uint8_t rec[RECORD_MAX];   /* the record being built: no allocation per record */
};

static const char *const kind_names[] = {
    [VC_TRACE_F2B] = "F2B", [VC_TRACE_B2F] = "B2F", [VC_TRACE_MARK] = "MARK",
    [VC_TRACE_KICK] = "KICK", [VC_TRACE_CALL] = "CALL", [VC_TRACE_AVAIL] = "AVAIL",
    [VC_TRACE_USED] = "USED",
};

const char *
vc_trace_kind_name(unsigned kind)
{
    return kind >= 1 && kind <= VC_TRACE_KIND_MAX ? kind_names[kind] : "?";
}

static const char *const fd_kind_names[] = {
    [VC_TRACE_FD_INVALID] = "invalid", [VC_TRACE_FD_MEMFD] = "memfd",
    [VC_TRACE_FD_EVENTFD] = "eventfd", [VC_TRACE_FD_SOCKET] = "socket",
    [VC_TRACE_FD_PIPE] = "pipe", [VC_TRACE_FD_FILE] = "file", [VC_TRACE_FD_OTHER] = "other",
};

const char *
vc_trace_fd_kind_name(unsigned kind)
{
    return kind <= VC_TRACE_FD_KIND_MAX ? fd_kind_names[kind] : "?";
}

void
vc_trace_describe_fd(int fd, VcTraceFdDesc *desc)
{
    struct stat st;
    char proc[64], link[128];
    ssize_t n = -1;

    memset(desc, 0, sizeof(*desc));
    if (fd < 0 || fstat(fd, &st) < 0) {
        return;
    }
    g_snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    n = readlink(proc, link, sizeof(link) - 1);
    link[n < 0 ? 0 : n] = '\0';
    desc->ino = GUINT32_TO_LE((uint32_t)st.st_ino);
    if (S_ISSOCK(st.st_mode)) {
        desc->kind = VC_TRACE_FD_SOCKET;
    } else if (S_ISFIFO(st.st_mode)) {
        desc->kind = VC_TRACE_FD_PIPE;
    } else if (S_ISREG(st.st_mode)) {
        desc->kind = g_str_has_prefix(link, "/memfd:") ? VC_TRACE_FD_MEMFD : VC_TRACE_FD_FILE;
        desc->size = GUINT64_TO_LE((uint64_t)st.st_size);
    } else if (g_str_equal(link, "anon_inode:[eventfd]")) {
        desc->kind = VC_TRACE_FD_EVENTFD;
    } else {
        desc->kind = VC_TRACE_FD_OTHER;
    }
}

VcTrace *
vc_trace_open(const char *path, unsigned flags, GError **error)
{
    g_autoptr(VcTrace) t = g_new0(VcTrace, 1);
    FILE *fp;

    g_mutex_init(&t->lock);
    t->path = g_strdup(path);
    t->flags = flags;
    t->dead = pcap_open_dead_with_tstamp_precision(VC_TRACE_LINKTYPE, 65535,
                                                   PCAP_TSTAMP_PRECISION_MICRO);
    if (!t->dead) {
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_IO, "%s: libpcap: out of memory", path);
        return NULL;
    }
    fp = fopen(path, "wbe");
    if (!fp) {
        int e = errno;
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_IO, "%s: %s", path, g_strerror(e));
        return NULL;
    }
    t->iobuf = g_malloc(2 * RECORD_MAX);
    setvbuf(fp, t->iobuf, _IOFBF, 2 * RECORD_MAX);
    t->dumper = pcap_dump_fopen(t->dead, fp);
    if (!t->dumper || pcap_dump_flush(t->dumper) < 0) {
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_IO, "%s: %s", path,
                    t->dumper ? g_strerror(errno) : pcap_geterr(t->dead));
        if (!t->dumper) {
            fclose(fp);
        }
        return NULL;
    }
    return g_steal_pointer(&t);
}

bool
vc_trace_close(VcTrace *t, GError **error)
{
    bool ok = true;

    if (!t) {
        return true;
    }
    if (t->dumper) {
        if (pcap_dump_flush(t->dumper) < 0 && !t->write_errno) {
            t->write_errno = errno ? errno : EIO;
        }
        pcap_dump_close(t->dumper);
    }
    if (t->dead) {
        pcap_close(t->dead);
    }
    if (t->write_errno) {
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_IO,
                    "%s: writing the trace failed after frame %" G_GUINT64_FORMAT ": %s", t->path,
                    t->frames, g_strerror(t->write_errno));
        ok = false;
    }
    g_mutex_clear(&t->lock);
    g_free(t->iobuf);
    g_free(t->path);
    g_free(t);
    return ok;
}

void
vc_trace_free(VcTrace *t)
{
    vc_trace_close(t, NULL);
}

const char *
vc_trace_path(const VcTrace *t)
{
    return t->path;
}

bool
vc_trace_datapath(const VcTrace *t)
{
    return (t->flags & VC_TRACE_OPEN_DATAPATH) != 0;
}

/* Tags and prefix at the start of t->rec; returns where the fd descriptors go. */
static size_t
begin_record(VcTrace *t, VcTraceKind kind, unsigned conn, uint32_t flags, uint32_t wire_len,
             unsigned nfds, unsigned nfds_total)
{
    uint8_t *p = t->rec;
    VcTracePrefix pre = {
        .version = VC_TRACE_VERSION,
        .kind = (uint8_t)kind,
        .nfds = (uint8_t)nfds,
        .nfds_total = (uint8_t)MIN(nfds_total, 255u),
        .conn = GUINT32_TO_LE(conn),
        .flags = GUINT32_TO_LE(flags),
        .wire_len = GUINT32_TO_LE(wire_len),
    };

    /* Exported-PDU tags are big-endian: type, length (padded value), value. */
    p[0] = 0;
    p[1] = VC_TRACE_EXP_PDU_TAG_DISSECTOR_NAME;
    p[2] = 0;
    p[3] = 12;
    memset(p + 4, 0, 12);
    memcpy(p + 4, VC_TRACE_DISSECTOR, strlen(VC_TRACE_DISSECTOR));
    memset(p + 16, 0, 4);
    memcpy(p + TAGS_LEN, &pre, sizeof(pre));
    return TAGS_LEN + sizeof(pre);
}

/* Called with the lock held. */
static uint64_t
emit(VcTrace *t, size_t len)
{
    struct pcap_pkthdr h = {0};
    gint64 now = g_get_real_time();

    if (t->write_errno) {
        return 0;
    }
    h.ts.tv_sec = (time_t)(now / G_USEC_PER_SEC);
    h.ts.tv_usec = (suseconds_t)(now % G_USEC_PER_SEC);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)t->dumper, &h, t->rec);
    if (pcap_dump_flush(t->dumper) < 0) {
        t->write_errno = errno ? errno : EIO;
        return 0;
    }
    return ++t->frames;
}

uint64_t
vc_trace_write_msg(VcTrace *t, unsigned conn, VcDir dir, const VcMsg *m, size_t raw_len)
{
    unsigned nfds = MIN(m->nfds, VC_TRACE_MAX_FDS);
    uint32_t flags = 0, wire_len;
    size_t data_len, pos;
    uint64_t frame;

    if (raw_len) {
        flags |= VC_TRACE_FLAG_RAW;
        wire_len = (uint32_t)MIN(raw_len, (size_t)UINT32_MAX);
        data_len = MIN(raw_len, (size_t)VC_TRACE_MAX_DATA);
    } else {
        /* Never read past the payload buffer, whatever hdr.size claims. */
        wire_len = (uint32_t)MIN((uint64_t)sizeof(m->hdr) + m->hdr.size, (uint64_t)UINT32_MAX);
        data_len = sizeof(m->hdr) + MIN(m->hdr.size, VC_MSG_MAX_PAYLOAD);
    }
    if (data_len < wire_len) {
        flags |= VC_TRACE_FLAG_TRUNCATED;
    }
    g_mutex_lock(&t->lock);
    if (!(conn & 1)) {
        t->last_main_conn = conn;
    }
    pos = begin_record(t, dir == VC_DIR_F2B ? VC_TRACE_F2B : VC_TRACE_B2F, conn, flags, wire_len,
                       nfds, m->nfds);
    for (unsigned i = 0; i < nfds; i++) {
        VcTraceFdDesc d;
        vc_trace_describe_fd(m->fds[i], &d);
        memcpy(t->rec + pos, &d, sizeof(d));
        pos += sizeof(d);
    }
    /* The header as it went (or the first raw bytes), then the payload. */
    memcpy(t->rec + pos, &m->hdr, MIN(data_len, sizeof(m->hdr)));
    if (data_len > sizeof(m->hdr)) {
        memcpy(t->rec + pos + sizeof(m->hdr), m->payload.raw, data_len - sizeof(m->hdr));
    }
    pos += data_len;
    frame = emit(t, pos);
    g_mutex_unlock(&t->lock);
    return frame;
}

uint64_t
vc_trace_write_mark(VcTrace *t, unsigned conn, const char *text)
{
    size_t n = MIN(strlen(text), (size_t)MARK_MAX), pos;
    uint64_t frame;

    g_mutex_lock(&t->lock);
    pos = begin_record(t, VC_TRACE_MARK, conn, 0, (uint32_t)n, 0, 0);
    memcpy(t->rec + pos, text, n);
    frame = emit(t, pos + n);
    g_mutex_unlock(&t->lock);
    return frame;
}

uint64_t
vc_trace_write_vq(VcTrace *t, unsigned conn, VcTraceKind kind, unsigned queue, uint32_t head,
                  uint32_t len)
{
    VcTraceVqData d = {
        .queue = GUINT32_TO_LE(queue),
        .head = GUINT32_TO_LE(head),
        .len = GUINT32_TO_LE(len),
    };
    size_t pos;
    uint64_t frame;

    g_mutex_lock(&t->lock);
    pos = begin_record(t, kind, conn, 0, sizeof(d), 0, 0);
    memcpy(t->rec + pos, &d, sizeof(d));
    frame = emit(t, pos + sizeof(d));
    g_mutex_unlock(&t->lock);
    return frame;
}

uint64_t
vc_trace_frames(VcTrace *t)
{
    uint64_t n;

    g_mutex_lock(&t->lock);
    n = t->frames;
    g_mutex_unlock(&t->lock);
    return n;
}

void
vc_trace_conn_tap(void *opaque, VcConn *conn, VcDir dir, const VcMsg *m, size_t raw_len)
{
    vc_trace_write_msg(opaque, conn->id, dir, m, raw_len);
}

void
vc_trace_vq_tap(void *opaque, VcVq *vq, VcVqEvent ev, uint32_t head, uint32_t len)
{
    VcTrace *t = opaque;
    VcTraceKind kind;

    if (!(t->flags & VC_TRACE_OPEN_DATAPATH)) {
        return;
    }
    switch (ev) {
    case VC_VQ_EV_AVAIL:
        kind = VC_TRACE_AVAIL;
        break;
    case VC_VQ_EV_KICK:
        kind = VC_TRACE_KICK;
        break;
    case VC_VQ_EV_CALL:
        kind = VC_TRACE_CALL;
        break;
    case VC_VQ_EV_USED:
        kind = VC_TRACE_USED;
        break;
    default:
        return;
    }
    /* Unlocked read: a stale connection number only mislabels one event. */
    vc_trace_write_vq(t, t->last_main_conn, kind, vq->index, head, len);
}

void
vc_trace_mark_cb(void *opaque, const char *text)
{
    vc_trace_write_mark(opaque, VC_TRACE_CONN_NONE, text);
}

uint64_t
vc_trace_frame_cb(void *opaque)
{
    return vc_trace_frames(opaque);
}
