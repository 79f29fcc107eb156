/*
 * vc-trace-read.c -- the trace reader (traces/FORMAT.md).
 */
#include <errno.h>
#include <string.h>

#include <pcap/pcap.h>

#include "vc-trace-read.h"

struct VcTraceReader {
    char *path;
    pcap_t *pcap;
    uint64_t frame;
    bool failed;
    VcTraceRec rec;
};

VcTraceReader *
vc_trace_reader_open(const char *path, GError **error)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    FILE *fp = fopen(path, "rbe");
    VcTraceReader *r;
    pcap_t *p;
    int dlt;

    if (!fp) {
        int e = errno;
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_IO, "%s: %s", path, g_strerror(e));
        return NULL;
    }
    p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!p) {
        fclose(fp);
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_FORMAT,
                    "%s: file header: not a pcap file (%s)", path, errbuf);
        return NULL;
    }
    dlt = pcap_datalink(p);
    if (dlt != VC_TRACE_LINKTYPE) {
        const char *name = pcap_datalink_val_to_name(dlt);
        g_set_error(error, VC_TRACE_ERROR, VC_TRACE_ERROR_FORMAT,
                    "%s: file header: link type %d (%s), a vhost-user trace has %d "
                    "(WIRESHARK_UPPER_PDU)", path, dlt, name ? name : "unknown",
                    VC_TRACE_LINKTYPE);
        pcap_close(p);
        return NULL;
    }
    r = g_new0(VcTraceReader, 1);
    r->path = g_strdup(path);
    r->pcap = p;
    return r;
}

void
vc_trace_reader_free(VcTraceReader *r)
{
    if (!r) {
        return;
    }
    pcap_close(r->pcap);
    g_free(r->path);
    g_free(r);
}

static const VcTraceRec *
fail(VcTraceReader *r, GError **error, VcTraceErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static const VcTraceRec *
fail(VcTraceReader *r, GError **error, VcTraceErrorCode code, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->failed = true;
    g_set_error(error, VC_TRACE_ERROR, code, "%s: frame %" G_GUINT64_FORMAT ": %s", r->path,
                r->frame, what);
    return NULL;
}

static uint32_t
le32_at(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_LE(v);
}

static uint64_t
le64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_LE(v);
}

/* Walks the exported-PDU tags; returns the offset of the PDU or -1 (error set). */
static ssize_t
parse_tags(VcTraceReader *r, const uint8_t *d, size_t len, GError **error)
{
    size_t off = 0;
    bool named = false;

    for (;;) {
        unsigned type, tlen;

        if (len - off < 4) {
            fail(r, error, VC_TRACE_ERROR_CORRUPT,
                 "exported-PDU tags run past the end of the record (%zu bytes)", len);
            return -1;
        }
        type = (unsigned)d[off] << 8 | d[off + 1];
        tlen = (unsigned)d[off + 2] << 8 | d[off + 3];
        if (tlen > len - off - 4) {
            fail(r, error, VC_TRACE_ERROR_CORRUPT,
                 "exported-PDU tag %u of %u bytes runs past the end of the record (%zu bytes)",
                 type, tlen, len);
            return -1;
        }
        if (type == VC_TRACE_EXP_PDU_TAG_DISSECTOR_NAME) {
            size_t n = strnlen((const char *)d + off + 4, tlen);
            if (n != strlen(VC_TRACE_DISSECTOR) ||
                memcmp(d + off + 4, VC_TRACE_DISSECTOR, n) != 0) {
                g_autofree char *name = g_strndup((const char *)d + off + 4, MIN(n, 64));
                g_autofree char *shown = g_strescape(name, NULL);
                fail(r, error, VC_TRACE_ERROR_FORMAT,
                     "exported PDU for dissector '%s', not a vhost-user record", shown);
                return -1;
            }
            named = true;
        }
        off += 4 + tlen;
        if (type == VC_TRACE_EXP_PDU_TAG_END) {
            break;
        }
    }
    if (!named) {
        fail(r, error, VC_TRACE_ERROR_FORMAT,
             "exported PDU without a dissector name: not a vhost-user record");
        return -1;
    }
    return (ssize_t)off;
}

static const VcTraceRec *
parse_message(VcTraceReader *r, VcTraceRec *rec, GError **error)
{
    VcMsg *m = &rec->msg;
    size_t hl = MIN(rec->data_len, sizeof(m->hdr));

    memset(m, 0, sizeof(*m));
    memcpy(&m->hdr, rec->data, hl);
    if (rec->flags & VC_TRACE_FLAG_RAW) {
        if (rec->data_len != MIN((size_t)rec->wire_len, (size_t)VC_TRACE_MAX_DATA)) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "raw message of %u bytes, but the record holds %zu", rec->wire_len,
                        rec->data_len);
        }
    } else {
        uint64_t want_wire = MIN((uint64_t)sizeof(m->hdr) + m->hdr.size, (uint64_t)UINT32_MAX);
        if (rec->data_len < sizeof(m->hdr)) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "message record holds %zu bytes, less than a 12-byte header",
                        rec->data_len);
        }
        if (want_wire != rec->wire_len) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "header size %u disagrees with the recorded message length %u "
                        "(want 12 + size)", m->hdr.size, rec->wire_len);
        }
        if (rec->data_len != sizeof(m->hdr) + MIN(m->hdr.size, VC_MSG_MAX_PAYLOAD)) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "header size %u, but the record holds %zu payload bytes", m->hdr.size,
                        rec->data_len - sizeof(m->hdr));
        }
    }
    if (((rec->flags & VC_TRACE_FLAG_TRUNCATED) != 0) != (rec->data_len < rec->wire_len)) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                    "truncated flag %s but the record holds %zu of %u bytes",
                    (rec->flags & VC_TRACE_FLAG_TRUNCATED) ? "set" : "clear", rec->data_len,
                    rec->wire_len);
    }
    if (rec->data_len > sizeof(m->hdr)) {
        memcpy(m->payload.raw, rec->data + sizeof(m->hdr),
               MIN(rec->data_len - sizeof(m->hdr), (size_t)VC_MSG_MAX_PAYLOAD));
    }
    for (unsigned i = 0; i < VC_MSG_MAX_FDS; i++) {
        m->fds[i] = -1;
    }
    m->nfds = rec->nfds_total;
    return rec;
}

const VcTraceRec *
vc_trace_reader_next(VcTraceReader *r, GError **error)
{
    VcTraceRec *rec = &r->rec;
    struct pcap_pkthdr *h;
    const u_char *d;
    const uint8_t *p;
    ssize_t off;
    size_t left;
    int n;

    if (r->failed) {
        return NULL;
    }
    n = pcap_next_ex(r->pcap, &h, &d);
    if (n == PCAP_ERROR_BREAK) {
        return NULL;
    }
    r->frame++;
    if (n != 1) {
        const char *msg = pcap_geterr(r->pcap);
        return fail(r, error, strstr(msg, "truncated") ? VC_TRACE_ERROR_TRUNCATED
                                                      : VC_TRACE_ERROR_CORRUPT,
                    "unreadable record (%s)", msg);
    }
    if (h->caplen != h->len) {
        return fail(r, error, VC_TRACE_ERROR_TRUNCATED,
                    "only %u of the record's %u bytes were captured", h->caplen, h->len);
    }
    off = parse_tags(r, d, h->caplen, error);
    if (off < 0) {
        return NULL;
    }
    p = d + off;
    left = h->caplen - (size_t)off;
    if (left < sizeof(VcTracePrefix)) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                    "%zu bytes after the tags, the vhost-user prefix needs %zu", left,
                    sizeof(VcTracePrefix));
    }
    if (p[0] != VC_TRACE_VERSION) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                    "prefix version %u, this reader knows version %u", p[0], VC_TRACE_VERSION);
    }
    if (p[1] < 1 || p[1] > VC_TRACE_KIND_MAX) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT, "unknown record kind %u", p[1]);
    }
    if (p[2] > VC_TRACE_MAX_FDS || p[3] < p[2]) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                    "%u fd descriptors of %u fds (at most %u, and not more than the fds)", p[2],
                    p[3], VC_TRACE_MAX_FDS);
    }
    rec->frame = r->frame;
    rec->ts_us = (int64_t)h->ts.tv_sec * G_USEC_PER_SEC + h->ts.tv_usec;
    rec->kind = p[1];
    rec->nfds = p[2];
    rec->nfds_total = p[3];
    rec->conn = le32_at(p + 4);
    rec->flags = le32_at(p + 8);
    rec->wire_len = le32_at(p + 12);
    p += sizeof(VcTracePrefix);
    left -= sizeof(VcTracePrefix);
    if (left < rec->nfds * sizeof(VcTraceFdDesc)) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                    "%u fd descriptors need %zu bytes, the record has %zu left", rec->nfds,
                    rec->nfds * sizeof(VcTraceFdDesc), left);
    }
    for (unsigned i = 0; i < rec->nfds; i++) {
        if (p[0] > VC_TRACE_FD_KIND_MAX) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT, "fd %u has unknown kind %u", i, p[0]);
        }
        rec->fds[i].kind = p[0];
        rec->fds[i].ino = le32_at(p + 4);
        rec->fds[i].size = le64_at(p + 8);
        p += sizeof(VcTraceFdDesc);
        left -= sizeof(VcTraceFdDesc);
    }
    rec->data = p;
    rec->data_len = left;
    rec->queue = rec->head = rec->len = 0;
    if (rec->flags & ~(uint32_t)(VC_TRACE_FLAG_RAW | VC_TRACE_FLAG_TRUNCATED)) {
        return fail(r, error, VC_TRACE_ERROR_CORRUPT, "undefined record flags 0x%x",
                    rec->flags);
    }
    switch (rec->kind) {
    case VC_TRACE_F2B:
    case VC_TRACE_B2F:
        return parse_message(r, rec, error);
    case VC_TRACE_MARK:
        if (rec->nfds || rec->flags || rec->data_len != rec->wire_len) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "marker of %u bytes holds %zu bytes, %u fds, flags 0x%x", rec->wire_len,
                        rec->data_len, rec->nfds, rec->flags);
        }
        return rec;
    default:
        if (rec->nfds || rec->flags || rec->data_len != sizeof(VcTraceVqData) ||
            rec->wire_len != sizeof(VcTraceVqData)) {
            return fail(r, error, VC_TRACE_ERROR_CORRUPT,
                        "%s record holds %zu bytes, %u fds, flags 0x%x; want %zu, 0, 0",
                        vc_trace_kind_name(rec->kind), rec->data_len, rec->nfds, rec->flags,
                        sizeof(VcTraceVqData));
        }
        rec->queue = le32_at(p);
        rec->head = le32_at(p + 4);
        rec->len = le32_at(p + 8);
        return rec;
    }
}

VcChannel
vc_trace_rec_channel(const VcTraceRec *rec)
{
    return (rec->conn & 1) ? VC_CHAN_BACKEND : VC_CHAN_MAIN;
}

bool
vc_trace_rec_is_request(const VcTraceRec *rec)
{
    return (rec->kind == VC_TRACE_F2B) == !(rec->conn & 1);
}

char *
vc_trace_fds_describe(char *buf, size_t len, const VcTraceRec *rec)
{
    g_autoptr(GString) s = g_string_new(NULL);

    if (rec->nfds_total) {
        g_string_append_printf(s, "%u fd%s:", rec->nfds_total, rec->nfds_total == 1 ? "" : "s");
    }
    for (unsigned i = 0; i < rec->nfds; i++) {
        const VcTraceFd *f = &rec->fds[i];
        g_string_append_printf(s, "%s %s", i ? "," : "", vc_trace_fd_kind_name(f->kind));
        if (f->kind == VC_TRACE_FD_MEMFD || f->kind == VC_TRACE_FD_FILE) {
            g_string_append_printf(s, " size=%" G_GUINT64_FORMAT, f->size);
        }
        if (f->kind != VC_TRACE_FD_INVALID) {
            g_string_append_printf(s, " ino=%u", f->ino);
        }
    }
    if (rec->nfds_total > rec->nfds) {
        g_string_append_printf(s, ", %u more not described", rec->nfds_total - rec->nfds);
    }
    g_strlcpy(buf, s->str, len);
    return buf;
}
