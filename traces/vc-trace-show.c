/*
 * vc-trace-show.c -- decoding and summarising traces.
 */
#include <inttypes.h>
#include <string.h>

#include "vc-trace-show.h"

#define LINE 1024

static void
flags_text(GString *s, uint32_t flags)
{
    uint32_t extra = flags & ~(uint32_t)(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK |
                                         VHOST_USER_NEED_REPLY_MASK);

    g_string_append_printf(s, "flags 0x%x [v%u", flags, flags & VHOST_USER_VERSION_MASK);
    if (flags & VHOST_USER_REPLY_MASK) {
        g_string_append(s, " REPLY");
    }
    if (flags & VHOST_USER_NEED_REPLY_MASK) {
        g_string_append(s, " NEED_REPLY");
    }
    if (extra) {
        g_string_append_printf(s, " undefined 0x%x", extra);
    }
    g_string_append_c(s, ']');
}

char *
vc_trace_format_msg_line(char *buf, size_t len, VcChannel ch, const VcMsg *m,
                         const VcMsg *request)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char dec[LINE];
    bool reply = (m->hdr.flags & VHOST_USER_REPLY_MASK) != 0;

    g_string_append_printf(s, "%s%s ", vc_msg_name(ch, m->hdr.request), reply ? " reply" : "");
    flags_text(s, m->hdr.flags);
    g_string_append_printf(s, " size %u", m->hdr.size);
    if (m->nfds) {
        g_string_append_printf(s, " fds %u", m->nfds);
    }
    vc_msg_format(dec, sizeof(dec), ch, m, request);
    if (*dec) {
        g_string_append_printf(s, ": %s", dec);
    }
    g_strlcpy(buf, s->str, len);
    return buf;
}

static void
time_text(GString *s, const VcTraceRec *rec, int64_t first_us, const VcTraceShowOptions *o)
{
    if (o->relative) {
        int64_t d = rec->ts_us - first_us;
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT, d < 0 ? "-" : "",
                               ABS(d) / G_USEC_PER_SEC, ABS(d) % G_USEC_PER_SEC);
        return;
    }
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(rec->ts_us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) dt = utc && !o->utc ? g_date_time_to_local(utc) : NULL;
    g_autofree char *hms = utc ? g_date_time_format(dt ? dt : utc, "%H:%M:%S") : NULL;

    g_string_append_printf(s, "%s.%06" G_GINT64_FORMAT, hms ? hms : "??:??:??",
                           rec->ts_us % G_USEC_PER_SEC);
}

static void
conn_text(GString *s, uint32_t conn)
{
    if (conn == VC_TRACE_CONN_NONE) {
        g_string_append(s, "conn -");
    } else {
        g_string_append_printf(s, "conn %u", conn);
    }
}

static void
hex_dump(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        fprintf(out, "\t0x%04zx: ", off);
        for (size_t i = off; i < off + 16 && i < n; i++) {
            fprintf(out, "%s%02x", (i - off) % 2 ? "" : " ", p[i]);
        }
        fputc('\n', out);
    }
}

/* Requests seen last per connection, to decode the replies that answer them. */
static const VcMsg *
pending_for(GHashTable *pending, const VcTraceRec *rec)
{
    const VcMsg *req = g_hash_table_lookup(pending, GUINT_TO_POINTER(rec->conn));

    return req && req->hdr.request == rec->msg.hdr.request ? req : NULL;
}

static void
remember(GHashTable *pending, const VcTraceRec *rec)
{
    g_hash_table_replace(pending, GUINT_TO_POINTER(rec->conn), g_memdup2(&rec->msg,
                                                                         sizeof(rec->msg)));
}

static void
show_message(FILE *out, GString *s, const VcTraceRec *rec, const VcMsg *req)
{
    VcChannel ch = vc_trace_rec_channel(rec);
    const VcMsg *m = &rec->msg;
    bool is_req = vc_trace_rec_is_request(rec);
    char fds[LINE], dec[LINE];
    unsigned faults;

    if (rec->data_len < sizeof(m->hdr)) {
        /* Raw bytes that never made a header: nothing to name. */
        fprintf(out, "%s %s, sent raw: %zu bytes, fewer than a 12-byte header\n", s->str,
                vc_trace_kind_name(rec->kind), rec->data_len);
        fprintf(out, "\tbytes=");
        for (size_t i = 0; i < rec->data_len; i++) {
            fprintf(out, "%02x", rec->data[i]);
        }
        fprintf(out, "\n");
        return;
    }
    g_string_append_printf(s, " %s %s (%u)%s, ", vc_trace_kind_name(rec->kind),
                           vc_msg_name(ch, m->hdr.request), m->hdr.request,
                           is_req ? "" : " reply");
    flags_text(s, m->hdr.flags);
    g_string_append_printf(s, ", size %u", m->hdr.size);
    if (rec->flags & VC_TRACE_FLAG_RAW) {
        g_string_append_printf(s, ", sent raw: %u bytes", rec->wire_len);
    }
    if (rec->flags & VC_TRACE_FLAG_TRUNCATED) {
        g_string_append_printf(s, ", only %zu bytes in the trace", rec->data_len);
    }
    vc_trace_fds_describe(fds, sizeof(fds), rec);
    if (*fds) {
        g_string_append_printf(s, ", %s", fds);
    }
    fprintf(out, "%s\n", s->str);
    if (m->hdr.size > 0) {
        fprintf(out, "\t%s\n", vc_msg_format(dec, sizeof(dec), ch, m, is_req ? NULL : req));
    }
    if (is_req) {
        faults = vc_msg_check_request(ch, m);
    } else {
        faults = req ? vc_msg_check_reply(ch, req, m, false) : 0;
    }
    if (faults) {
        fprintf(out, "\tmalformed: %s\n",
                vc_msg_fault_describe(dec, sizeof(dec), faults, ch, is_req ? NULL : req, m));
    }
}

bool
vc_trace_show(const char *path, FILE *out, const VcTraceShowOptions *opts, GError **error)
{
    static const VcTraceShowOptions defaults;
    g_autoptr(VcTraceReader) r = vc_trace_reader_open(path, error);
    g_autoptr(GHashTable) pending = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    const VcTraceShowOptions *o = opts ? opts : &defaults;
    const VcTraceRec *rec;
    GError *err = NULL;
    int64_t first = 0;

    if (!r) {
        return false;
    }
    while ((rec = vc_trace_reader_next(r, &err))) {
        g_autoptr(GString) s = NULL;
        const VcMsg *req = NULL;
        bool msg = rec->kind == VC_TRACE_F2B || rec->kind == VC_TRACE_B2F;

        if (rec->frame == 1) {
            first = rec->ts_us;
        }
        if (msg && !vc_trace_rec_is_request(rec)) {
            req = pending_for(pending, rec);
        }
        if (o->frame && rec->frame != o->frame) {
            if (msg && vc_trace_rec_is_request(rec)) {
                remember(pending, rec);
            }
            continue;
        }
        s = g_string_new(NULL);
        g_string_append_printf(s, "%6" G_GUINT64_FORMAT " ", rec->frame);
        time_text(s, rec, first, o);
        g_string_append_c(s, ' ');
        conn_text(s, rec->conn);
        switch (rec->kind) {
        case VC_TRACE_F2B:
        case VC_TRACE_B2F:
            show_message(out, s, rec, req);
            if (vc_trace_rec_is_request(rec)) {
                remember(pending, rec);
            }
            break;
        case VC_TRACE_MARK: {
            g_autofree char *text = g_strndup((const char *)rec->data, rec->data_len);
            g_autofree char *esc = g_strescape(text, "");
            fprintf(out, "%s MARK \"%s\"\n", s->str, esc);
            break;
        }
        case VC_TRACE_KICK:
        case VC_TRACE_CALL:
            fprintf(out, "%s %s queue %u\n", s->str, vc_trace_kind_name(rec->kind), rec->queue);
            break;
        case VC_TRACE_AVAIL:
        case VC_TRACE_USED:
            fprintf(out, "%s %s queue %u head %u len %u\n", s->str,
                    vc_trace_kind_name(rec->kind), rec->queue, rec->head, rec->len);
            break;
        }
        if (o->hex) {
            hex_dump(out, rec->data, rec->data_len);
        }
    }
    if (err) {
        g_propagate_error(error, err);
        return false;
    }
    return true;
}

/* --- stats ------------------------------------------------------------------ */

typedef struct ReqStats {
    VcChannel ch;
    uint32_t request;
    uint64_t requests;
    uint64_t replies;
    uint64_t bytes;
    uint64_t fds;
    uint64_t lat_n;
    int64_t lat_min, lat_max, lat_sum;
} ReqStats;

typedef struct Pending {
    uint32_t request;
    int64_t ts_us;
    bool open;
} Pending;

static gint
cmp_req(gconstpointer a, gconstpointer b)
{
    const ReqStats *x = *(ReqStats *const *)a, *y = *(ReqStats *const *)b;

    if (x->ch != y->ch) {
        return (int)x->ch - (int)y->ch;
    }
    return x->request < y->request ? -1 : x->request > y->request;
}

bool
vc_trace_stats(const char *path, FILE *out, GError **error)
{
    g_autoptr(VcTraceReader) r = vc_trace_reader_open(path, error);
    g_autoptr(GHashTable) by_req = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                         g_free);
    g_autoptr(GHashTable) pend = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    g_autoptr(GHashTable) conns = g_hash_table_new(NULL, NULL);
    g_autoptr(GPtrArray) rows = g_ptr_array_new();
    uint64_t frames = 0, msgs[3] = {0}, bytes = 0, fds = 0, marks = 0, raw = 0;
    uint64_t dp[VC_TRACE_KIND_MAX + 1] = {0};
    unsigned n_main = 0, n_bch = 0;
    int64_t first = 0, last = 0;
    const VcTraceRec *rec;
    GError *err = NULL;
    GHashTableIter it;
    gpointer key, val;

    if (!r) {
        return false;
    }
    while ((rec = vc_trace_reader_next(r, &err))) {
        frames++;
        if (frames == 1) {
            first = rec->ts_us;
        }
        last = rec->ts_us;
        if (rec->kind == VC_TRACE_MARK) {
            marks++;
            continue;
        }
        if (rec->kind != VC_TRACE_F2B && rec->kind != VC_TRACE_B2F) {
            dp[rec->kind]++;
            continue;
        }
        VcChannel ch = vc_trace_rec_channel(rec);
        bool is_req = vc_trace_rec_is_request(rec);
        gint64 k = ((gint64)ch << 32) | rec->msg.hdr.request;
        ReqStats *st = g_hash_table_lookup(by_req, &k);
        Pending *p = g_hash_table_lookup(pend, GUINT_TO_POINTER(rec->conn));

        if (!g_hash_table_contains(conns, GUINT_TO_POINTER(rec->conn))) {
            g_hash_table_add(conns, GUINT_TO_POINTER(rec->conn));
            if (rec->conn & 1) {
                n_bch++;
            } else {
                n_main++;
            }
        }
        if (!st) {
            st = g_new0(ReqStats, 1);
            st->ch = ch;
            st->request = rec->msg.hdr.request;
            g_hash_table_insert(by_req, g_memdup2(&k, sizeof(k)), st);
        }
        msgs[rec->kind]++;
        bytes += rec->wire_len;
        fds += rec->nfds_total;
        raw += (rec->flags & VC_TRACE_FLAG_RAW) != 0;
        st->bytes += rec->wire_len;
        st->fds += rec->nfds_total;
        if (!p) {
            p = g_new0(Pending, 1);
            g_hash_table_insert(pend, GUINT_TO_POINTER(rec->conn), p);
        }
        if (is_req) {
            st->requests++;
            p->request = rec->msg.hdr.request;
            p->ts_us = rec->ts_us;
            p->open = true;
        } else {
            st->replies++;
            if (p->open && p->request == rec->msg.hdr.request) {
                int64_t d = rec->ts_us - p->ts_us;
                st->lat_min = st->lat_n ? MIN(st->lat_min, d) : d;
                st->lat_max = st->lat_n ? MAX(st->lat_max, d) : d;
                st->lat_sum += d;
                st->lat_n++;
                p->open = false;
            }
        }
    }
    if (err) {
        g_propagate_error(error, err);
        return false;
    }
    fprintf(out, "%s: %" G_GUINT64_FORMAT " frames over %.6f s\n", path, frames,
            (double)(last - first) / 1e6);
    fprintf(out, "messages: %" G_GUINT64_FORMAT " (F2B %" G_GUINT64_FORMAT ", B2F %"
            G_GUINT64_FORMAT "), %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " fds, %"
            G_GUINT64_FORMAT " sent raw\n", msgs[VC_TRACE_F2B] + msgs[VC_TRACE_B2F],
            msgs[VC_TRACE_F2B], msgs[VC_TRACE_B2F], bytes, fds, raw);
    fprintf(out, "connections: %u main socket%s, %u back-end channel%s\n", n_main,
            n_main == 1 ? "" : "s", n_bch, n_bch == 1 ? "" : "s");
    fprintf(out, "markers: %" G_GUINT64_FORMAT "\n", marks);
    fprintf(out, "datapath: %" G_GUINT64_FORMAT " kicks, %" G_GUINT64_FORMAT " calls, %"
            G_GUINT64_FORMAT " chains made available, %" G_GUINT64_FORMAT " used\n",
            dp[VC_TRACE_KICK], dp[VC_TRACE_CALL], dp[VC_TRACE_AVAIL], dp[VC_TRACE_USED]);
    g_hash_table_iter_init(&it, by_req);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        g_ptr_array_add(rows, val);
    }
    g_ptr_array_sort(rows, cmp_req);
    if (rows->len) {
        fprintf(out, "\n%-44s %8s %8s %10s %6s %28s\n", "request", "requests", "replies", "bytes",
                "fds", "reply latency us min/avg/max");
    }
    for (guint i = 0; i < rows->len; i++) {
        const ReqStats *st = rows->pdata[i];
        char lat[64] = "-";
        char name[64];

        if (st->lat_n) {
            g_snprintf(lat, sizeof(lat), "%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "/%"
                       G_GINT64_FORMAT, st->lat_min, st->lat_sum / (int64_t)st->lat_n,
                       st->lat_max);
        }
        if (vc_msg_info(st->ch, st->request)) {
            g_strlcpy(name, vc_msg_name(st->ch, st->request), sizeof(name));
        } else {
            g_snprintf(name, sizeof(name), "%s request %u",
                       st->ch == VC_CHAN_MAIN ? "unknown" : "unknown back-end", st->request);
        }
        fprintf(out, "%-44s %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT
                " %6" G_GUINT64_FORMAT " %28s\n", name, st->requests, st->replies, st->bytes,
                st->fds, lat);
    }
    return true;
}
