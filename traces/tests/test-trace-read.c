/*
 * test-trace-read.c -- the trace writer and reader: round trips, and every
 * kind of bad file giving one line that names the frame, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vc-trace-read.h"
#include "vc-trace-show.h"
#include "vc-trace.h"

static char *tmpdir;

static void
setup(void)
{
    tmpdir = g_dir_make_tmp("vc-trace-test-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmpdir);
}

static void
teardown(void)
{
    g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(tmpdir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

static char *
tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* --- Hand-made pcap files ---------------------------------------------------------------- */

static void
put_file_header(GByteArray *b, uint32_t linktype)
{
    uint32_t magic = 0xa1b2c3d4, zone = 0, sigfigs = 0, snaplen = 65535;
    uint16_t major = 2, minor = 4;

    g_byte_array_append(b, (guint8 *)&magic, 4);
    g_byte_array_append(b, (guint8 *)&major, 2);
    g_byte_array_append(b, (guint8 *)&minor, 2);
    g_byte_array_append(b, (guint8 *)&zone, 4);
    g_byte_array_append(b, (guint8 *)&sigfigs, 4);
    g_byte_array_append(b, (guint8 *)&snaplen, 4);
    g_byte_array_append(b, (guint8 *)&linktype, 4);
}

static void
put_record(GByteArray *b, const void *data, uint32_t caplen, uint32_t len)
{
    uint32_t h[4] = {1700000000, 5, caplen, len};

    g_byte_array_append(b, (guint8 *)h, sizeof(h));
    g_byte_array_append(b, data, caplen);
}

/* Tags naming @dissector, then a prefix; returns the number of bytes in @out. */
static size_t
make_pdu(uint8_t *out, const char *dissector, const VcTracePrefix *pre, const void *fds,
         size_t fds_len, const void *data, size_t data_len)
{
    size_t n = strlen(dissector), padded = (n + 3) & ~(size_t)3, pos = 0;

    out[pos++] = 0;
    out[pos++] = VC_TRACE_EXP_PDU_TAG_DISSECTOR_NAME;
    out[pos++] = (uint8_t)(padded >> 8);
    out[pos++] = (uint8_t)padded;
    memset(out + pos, 0, padded);
    memcpy(out + pos, dissector, n);
    pos += padded;
    memset(out + pos, 0, 4);
    pos += 4;
    memcpy(out + pos, pre, sizeof(*pre));
    pos += sizeof(*pre);
    if (fds_len) {
        memcpy(out + pos, fds, fds_len);
    }
    pos += fds_len;
    if (data_len) {
        memcpy(out + pos, data, data_len);
    }
    return pos + data_len;
}

/* A well-formed GET_FEATURES request record. */
static size_t
good_pdu(uint8_t *out)
{
    VhostUserHeader h = {VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0};
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .wire_len = 12};

    return make_pdu(out, VC_TRACE_DISSECTOR, &pre, NULL, 0, &h, sizeof(h));
}

static char *
write_bytes(const char *name, GByteArray *b)
{
    char *path = tmp_path(name);

    ck_assert(g_file_set_contents(path, (const char *)b->data, b->len, NULL));
    return path;
}

/*
 * Reads @path to the end. Returns the error message (or NULL) and the
 * number of good records in @n_ok.
 */
static char *
read_all(const char *path, unsigned *n_ok)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VcTraceReader) r = vc_trace_reader_open(path, &err);
    const VcTraceRec *rec;

    *n_ok = 0;
    if (!r) {
        ck_assert_ptr_nonnull(err);
        return g_strdup(err->message);
    }
    while ((rec = vc_trace_reader_next(r, &err))) {
        (*n_ok)++;
    }
    /* After an error, the reader stays at the end. */
    ck_assert_ptr_null(vc_trace_reader_next(r, NULL));
    return err ? g_strdup(err->message) : NULL;
}

static void
assert_one_line_naming(const char *msg, const char *path, const char *what)
{
    ck_assert_msg(msg != NULL, "expected an error for %s", what);
    ck_assert_msg(strchr(msg, '\n') == NULL, "error is not one line: %s", msg);
    ck_assert_msg(g_str_has_prefix(msg, path), "error does not name the file: %s", msg);
    ck_assert_msg(strstr(msg, what) != NULL, "error '%s' does not say '%s'", msg, what);
}

/* A file with @pdu as frame 2, after a good frame 1. */
static char *
second_frame(const char *name, const uint8_t *pdu, uint32_t caplen, uint32_t len)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint8_t good[256];
    size_t gl = good_pdu(good);

    put_file_header(b, VC_TRACE_LINKTYPE);
    put_record(b, good, (uint32_t)gl, (uint32_t)gl);
    put_record(b, pdu, caplen, len);
    return write_bytes(name, b);
}

static void
expect_frame2_error(const char *name, const uint8_t *pdu, size_t len, const char *what)
{
    g_autofree char *path = second_frame(name, pdu, (uint32_t)len, (uint32_t)len);
    unsigned n_ok;
    g_autofree char *msg = read_all(path, &n_ok);

    ck_assert_uint_eq(n_ok, 1);
    assert_one_line_naming(msg, path, "frame 2: ");
    assert_one_line_naming(msg, path, what);
}

/* --- File-level errors ---------------------------------------------------------------- */

START_TEST(empty_file)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = write_bytes("empty.pcap", b);
    unsigned n_ok;
    g_autofree char *msg = read_all(path, &n_ok);

    assert_one_line_naming(msg, path, "file header");
}
END_TEST

START_TEST(missing_file)
{
    g_autofree char *path = tmp_path("absent.pcap");
    unsigned n_ok;
    g_autofree char *msg = read_all(path, &n_ok);

    assert_one_line_naming(msg, path, "No such file");
}
END_TEST

START_TEST(truncated_file_header)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = NULL, *msg = NULL;
    unsigned n_ok;

    put_file_header(b, VC_TRACE_LINKTYPE);
    g_byte_array_set_size(b, 10);
    path = write_bytes("short.pcap", b);
    msg = read_all(path, &n_ok);
    assert_one_line_naming(msg, path, "file header");
}
END_TEST

START_TEST(not_a_pcap)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    static const char text[] = "GET_FEATURES is not a packet capture, this is text.\n";
    g_autofree char *path = NULL, *msg = NULL;
    unsigned n_ok;

    g_byte_array_append(b, (const guint8 *)text, sizeof(text) - 1);
    path = write_bytes("text.pcap", b);
    msg = read_all(path, &n_ok);
    assert_one_line_naming(msg, path, "not a pcap file");
}
END_TEST

START_TEST(wrong_link_type)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = NULL, *msg = NULL;
    uint8_t eth[60] = {0};
    unsigned n_ok;

    put_file_header(b, 1 /* DLT_EN10MB */);
    put_record(b, eth, sizeof(eth), sizeof(eth));
    path = write_bytes("eth.pcap", b);
    msg = read_all(path, &n_ok);
    assert_one_line_naming(msg, path, "link type 1");
}
END_TEST

START_TEST(header_only_is_empty_trace)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = NULL, *msg = NULL;
    unsigned n_ok;

    put_file_header(b, VC_TRACE_LINKTYPE);
    path = write_bytes("none.pcap", b);
    msg = read_all(path, &n_ok);
    ck_assert_ptr_null(msg);
    ck_assert_uint_eq(n_ok, 0);
}
END_TEST

/* --- Record-level errors ---------------------------------------------------------------- */

START_TEST(truncated_record)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = NULL, *msg = NULL;
    uint8_t good[256];
    size_t gl = good_pdu(good);
    unsigned n_ok;

    put_file_header(b, VC_TRACE_LINKTYPE);
    put_record(b, good, (uint32_t)gl, (uint32_t)gl);
    put_record(b, good, (uint32_t)gl, (uint32_t)gl);
    g_byte_array_set_size(b, b->len - 7);   /* the second record loses its last bytes */
    path = write_bytes("cut.pcap", b);
    msg = read_all(path, &n_ok);
    ck_assert_uint_eq(n_ok, 1);
    assert_one_line_naming(msg, path, "frame 2: ");
    assert_one_line_naming(msg, path, "truncated");
}
END_TEST

START_TEST(truncated_record_header)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = NULL, *msg = NULL;
    uint8_t good[256];
    size_t gl = good_pdu(good);
    unsigned n_ok;

    put_file_header(b, VC_TRACE_LINKTYPE);
    put_record(b, good, (uint32_t)gl, (uint32_t)gl);
    g_byte_array_append(b, good, 5);        /* 5 bytes of a 16-byte record header */
    path = write_bytes("cuthdr.pcap", b);
    msg = read_all(path, &n_ok);
    ck_assert_uint_eq(n_ok, 1);
    assert_one_line_naming(msg, path, "frame 2: ");
}
END_TEST

START_TEST(snap_truncated_record)
{
    uint8_t good[256];
    size_t gl = good_pdu(good);
    g_autofree char *path = second_frame("snap.pcap", good, (uint32_t)gl - 4, (uint32_t)gl);
    unsigned n_ok;
    g_autofree char *msg = read_all(path, &n_ok);

    ck_assert_uint_eq(n_ok, 1);
    assert_one_line_naming(msg, path, "frame 2: only");
}
END_TEST

START_TEST(garbage_prefix_version)
{
    VhostUserHeader h = {1, 1, 0};
    VcTracePrefix pre = {.version = 7, .kind = VC_TRACE_F2B, .wire_len = 12};
    uint8_t pdu[256];

    expect_frame2_error("ver.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, &h, sizeof(h)),
                        "prefix version 7");
}
END_TEST

START_TEST(garbage_prefix_kind)
{
    VhostUserHeader h = {1, 1, 0};
    VcTracePrefix pre = {.version = 1, .kind = 0xee, .wire_len = 12};
    uint8_t pdu[256];

    expect_frame2_error("kind.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, &h, sizeof(h)),
                        "unknown record kind 238");
}
END_TEST

START_TEST(garbage_prefix_too_many_fds)
{
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .nfds = 200, .nfds_total = 200,
                         .wire_len = 12};
    uint8_t pdu[256];

    expect_frame2_error("fds.pcap", pdu, make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, NULL, 0),
                        "fd descriptors");
}
END_TEST

START_TEST(fd_descriptors_past_end)
{
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .nfds = 4, .nfds_total = 4,
                         .wire_len = 12};
    VcTraceFdDesc d = {.kind = VC_TRACE_FD_MEMFD, .size = 4096};
    uint8_t pdu[256];

    expect_frame2_error("fdpast.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, &d, sizeof(d), NULL, 0),
                        "4 fd descriptors need 64 bytes");
}
END_TEST

START_TEST(short_prefix)
{
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B};
    uint8_t pdu[256];
    size_t n = make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, NULL, 0);

    expect_frame2_error("shortpre.pcap", pdu, n - 9, "the vhost-user prefix needs 16");
}
END_TEST

START_TEST(header_size_disagrees)
{
    /* The header claims 8 payload bytes; the record holds 4. */
    struct {
        VhostUserHeader h;
        uint32_t half;
    } __attribute__((packed)) m = {{VHOST_USER_SET_FEATURES, 1, 8}, 0};
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .wire_len = 16};
    uint8_t pdu[256];

    expect_frame2_error("size.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, &m, sizeof(m)),
                        "header size 8 disagrees");
}
END_TEST

START_TEST(payload_length_disagrees)
{
    /* wire_len agrees with the header, but the record holds fewer payload bytes. */
    struct {
        VhostUserHeader h;
        uint32_t half;
    } __attribute__((packed)) m = {{VHOST_USER_SET_FEATURES, 1, 8}, 0};
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .wire_len = 20};
    uint8_t pdu[256];

    expect_frame2_error("plen.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, &m, sizeof(m)),
                        "header size 8, but the record holds 4 payload bytes");
}
END_TEST

START_TEST(message_shorter_than_header)
{
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_B2F, .wire_len = 12};
    uint8_t pdu[256], junk[5] = {1, 2, 3, 4, 5};

    expect_frame2_error("hdr.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, junk, sizeof(junk)),
                        "less than a 12-byte header");
}
END_TEST

START_TEST(other_dissector)
{
    VhostUserHeader h = {1, 1, 0};
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .wire_len = 12};
    uint8_t pdu[256];

    expect_frame2_error("sip.pcap", pdu, make_pdu(pdu, "sip", &pre, NULL, 0, &h, sizeof(h)),
                        "dissector 'sip'");
}
END_TEST

START_TEST(no_dissector_tag)
{
    uint8_t pdu[64] = {0, 0, 0, 0, 1, 1, 0, 0};

    expect_frame2_error("notag.pcap", pdu, 32, "without a dissector name");
}
END_TEST

START_TEST(tag_past_end)
{
    uint8_t pdu[16] = {0, 12, 0x40, 0x00, 'v', 'h'};

    expect_frame2_error("tag.pcap", pdu, sizeof(pdu), "runs past the end");
}
END_TEST

START_TEST(datapath_record_size)
{
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_KICK, .wire_len = 8};
    uint8_t pdu[256], data[8] = {0};

    expect_frame2_error("kick.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, data, sizeof(data)),
                        "KICK record holds 8 bytes");
}
END_TEST

START_TEST(undefined_flags)
{
    VhostUserHeader h = {1, 1, 0};
    VcTracePrefix pre = {.version = 1, .kind = VC_TRACE_F2B, .flags = 0x80, .wire_len = 12};
    uint8_t pdu[256];

    expect_frame2_error("flags.pcap", pdu,
                        make_pdu(pdu, VC_TRACE_DISSECTOR, &pre, NULL, 0, &h, sizeof(h)),
                        "undefined record flags 0x80");
}
END_TEST

/* --- Round trips through the writer --------------------------------------------------------- */

START_TEST(round_trip)
{
    g_autofree char *path = tmp_path("rt.pcap");
    g_autoptr(GError) err = NULL;
    VcTrace *t = vc_trace_open(path, VC_TRACE_OPEN_DATAPATH, &err);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autoptr(VcTraceReader) r = NULL;
    const VcTraceRec *rec;
    int mfd = memfd_create("rt", MFD_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC), sv[2], pp[2];
    uint8_t raw[5] = {0xde, 0xad, 0xbe, 0xef, 0x01};

    ck_assert_ptr_nonnull(t);
    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, 1 << 20), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);

    vc_msg_init(m, VHOST_USER_SET_FEATURES, 0);
    m->payload.u64 = 0x140000000ull;
    m->hdr.size = 8;
    m->fds[0] = mfd;
    m->fds[1] = efd;
    m->fds[2] = sv[0];
    m->fds[3] = pp[0];
    m->fds[4] = -1;
    m->nfds = 5;
    ck_assert_uint_eq(vc_trace_write_msg(t, 2, VC_DIR_F2B, m, 0), 1);
    /* A header that claims more than the payload buffer holds: clamped, never read past. */
    vc_msg_init(m, VHOST_USER_GET_CONFIG, VHOST_USER_REPLY_MASK);
    m->hdr.size = 100000;
    m->nfds = 0;
    ck_assert_uint_eq(vc_trace_write_msg(t, 3, VC_DIR_B2F, m, 0), 2);
    /* Five raw bytes: fewer than a header. */
    memcpy(&m->hdr, raw, sizeof(raw));
    ck_assert_uint_eq(vc_trace_write_msg(t, 2, VC_DIR_F2B, m, sizeof(raw)), 3);
    ck_assert_uint_eq(vc_trace_write_mark(t, VC_TRACE_CONN_NONE, "hello"), 4);
    ck_assert_uint_eq(vc_trace_write_vq(t, 2, VC_TRACE_USED, 1, 7, 64), 5);
    ck_assert_uint_eq(vc_trace_frames(t), 5);
    ck_assert(vc_trace_close(t, &err));
    close(mfd);
    close(efd);
    close(sv[0]);
    close(sv[1]);
    close(pp[0]);
    close(pp[1]);

    r = vc_trace_reader_open(path, &err);
    ck_assert_ptr_nonnull(r);
    rec = vc_trace_reader_next(r, &err);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(rec->frame, 1);
    ck_assert_int_eq(rec->kind, VC_TRACE_F2B);
    ck_assert_uint_eq(rec->conn, 2);
    ck_assert_uint_eq(rec->msg.hdr.request, VHOST_USER_SET_FEATURES);
    ck_assert_uint_eq(rec->msg.payload.u64, 0x140000000ull);
    ck_assert_uint_eq(rec->nfds, 5);
    ck_assert_int_eq(rec->fds[0].kind, VC_TRACE_FD_MEMFD);
    ck_assert_uint_eq(rec->fds[0].size, 1 << 20);
    ck_assert_int_eq(rec->fds[1].kind, VC_TRACE_FD_EVENTFD);
    ck_assert_int_eq(rec->fds[2].kind, VC_TRACE_FD_SOCKET);
    ck_assert_int_eq(rec->fds[3].kind, VC_TRACE_FD_PIPE);
    ck_assert_int_eq(rec->fds[4].kind, VC_TRACE_FD_INVALID);
    ck_assert(vc_trace_rec_is_request(rec));

    rec = vc_trace_reader_next(r, &err);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(rec->kind, VC_TRACE_B2F);
    ck_assert_uint_eq(rec->wire_len, 100012);
    ck_assert_uint_eq(rec->data_len, VC_TRACE_MAX_DATA);
    ck_assert(rec->flags & VC_TRACE_FLAG_TRUNCATED);
    /* On a back-end channel the back end sends the requests. */
    ck_assert_int_eq(vc_trace_rec_channel(rec), VC_CHAN_BACKEND);
    ck_assert(vc_trace_rec_is_request(rec));

    rec = vc_trace_reader_next(r, &err);
    ck_assert_ptr_nonnull(rec);
    ck_assert(rec->flags & VC_TRACE_FLAG_RAW);
    ck_assert_uint_eq(rec->data_len, 5);
    ck_assert_uint_eq(rec->msg.hdr.request, 0xefbeadde);

    rec = vc_trace_reader_next(r, &err);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(rec->kind, VC_TRACE_MARK);
    ck_assert_uint_eq(rec->conn, VC_TRACE_CONN_NONE);
    ck_assert_mem_eq(rec->data, "hello", 5);

    rec = vc_trace_reader_next(r, &err);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(rec->kind, VC_TRACE_USED);
    ck_assert_uint_eq(rec->queue, 1);
    ck_assert_uint_eq(rec->head, 7);
    ck_assert_uint_eq(rec->len, 64);

    ck_assert_ptr_null(vc_trace_reader_next(r, &err));
    ck_assert_ptr_null(err);
}
END_TEST

/* A trace cut at every possible length reads its whole frames and then says where it stopped. */
START_TEST(every_truncation)
{
    g_autofree char *path = tmp_path("full.pcap"), *cut = tmp_path("cut.pcap");
    g_autoptr(GError) err = NULL;
    VcTrace *t = vc_trace_open(path, 0, &err);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree char *contents = NULL;
    gsize len;
    int efd = eventfd(0, EFD_CLOEXEC);

    ck_assert_ptr_nonnull(t);
    vc_msg_init(m, VHOST_USER_SET_VRING_CALL, VHOST_USER_NEED_REPLY_MASK);
    m->hdr.size = 8;
    m->fds[0] = efd;
    m->nfds = 1;
    vc_trace_write_msg(t, 0, VC_DIR_F2B, m, 0);
    vc_trace_write_mark(t, 0, "between");
    vc_trace_write_msg(t, 0, VC_DIR_B2F, m, 0);
    ck_assert(vc_trace_close(t, &err));
    close(efd);
    ck_assert(g_file_get_contents(path, &contents, &len, NULL));
    for (gsize n = 0; n < len; n++) {
        unsigned n_ok;
        g_autofree char *msg = NULL;
        bool boundary = false;

        /* Record boundaries: after the 24-byte file header, then 16 + caplen per record. */
        for (gsize at = 24; at <= n; at += 16 + *(const uint32_t *)(contents + at + 8)) {
            if (at == n) {
                boundary = true;
                break;
            }
        }
        ck_assert(g_file_set_contents(cut, contents, (gssize)n, NULL));
        msg = read_all(cut, &n_ok);
        if (boundary) {
            ck_assert_msg(msg == NULL, "cut between records at %zu: %s", (size_t)n, msg);
            continue;
        }
        ck_assert_msg(msg != NULL, "a trace cut at %zu of %zu bytes reads without error",
                      (size_t)n, (size_t)len);
        ck_assert_msg(strchr(msg, '\n') == NULL, "not one line: %s", msg);
        ck_assert_msg(n < 24 ? strstr(msg, "file header") != NULL
                             : strstr(msg, "frame ") != NULL, "at %zu: %s", (size_t)n, msg);
    }
}
END_TEST

/* Random corruption of a valid trace: the reader and show never crash. */
START_TEST(random_corruption)
{
    g_autofree char *path = tmp_path("full.pcap"), *bad = tmp_path("bad.pcap");
    g_autofree char *out = tmp_path("show.txt");
    g_autoptr(GError) err = NULL;
    VcTrace *t = vc_trace_open(path, 0, &err);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree char *contents = NULL;
    GRand *rnd = g_rand_new_with_seed(20240601);
    gsize len;

    ck_assert_ptr_nonnull(t);
    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    m->payload.memory.nregions = 2;
    vc_msg_set_size(VC_CHAN_MAIN, m);
    vc_trace_write_msg(t, 0, VC_DIR_F2B, m, 0);
    vc_msg_init(m, VHOST_USER_GET_CONFIG, 0);
    m->payload.config.size = 16;
    vc_msg_set_size(VC_CHAN_MAIN, m);
    vc_trace_write_msg(t, 0, VC_DIR_F2B, m, 0);
    m->hdr.flags |= VHOST_USER_REPLY_MASK;
    vc_trace_write_msg(t, 0, VC_DIR_B2F, m, 0);
    vc_trace_write_vq(t, 0, VC_TRACE_AVAIL, 0, 1, 2);
    ck_assert(vc_trace_close(t, &err));
    ck_assert(g_file_get_contents(path, &contents, &len, NULL));
    for (unsigned round = 0; round < 2000; round++) {
        g_autofree char *copy = g_memdup2(contents, len);
        unsigned n_ok, flips = (unsigned)g_rand_int_range(rnd, 1, 6);
        g_autofree char *msg = NULL;
        FILE *f;

        for (unsigned i = 0; i < flips; i++) {
            copy[g_rand_int_range(rnd, 0, (gint32)len)] = (char)g_rand_int(rnd);
        }
        ck_assert(g_file_set_contents(bad, copy, (gssize)len, NULL));
        msg = read_all(bad, &n_ok);
        if (msg) {
            ck_assert_msg(strchr(msg, '\n') == NULL, "not one line: %s", msg);
        }
        f = fopen(out, "w");
        ck_assert_ptr_nonnull(f);
        vc_trace_show(bad, f, NULL, NULL);
        vc_trace_stats(bad, f, NULL);
        fclose(f);
    }
    g_rand_free(rnd);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("trace-read");
    TCase *tc = tcase_create("bad-files");
    TCase *rt = tcase_create("writer");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, truncated_file_header);
    tcase_add_test(tc, not_a_pcap);
    tcase_add_test(tc, wrong_link_type);
    tcase_add_test(tc, header_only_is_empty_trace);
    tcase_add_test(tc, truncated_record);
    tcase_add_test(tc, truncated_record_header);
    tcase_add_test(tc, snap_truncated_record);
    tcase_add_test(tc, garbage_prefix_version);
    tcase_add_test(tc, garbage_prefix_kind);
    tcase_add_test(tc, garbage_prefix_too_many_fds);
    tcase_add_test(tc, fd_descriptors_past_end);
    tcase_add_test(tc, short_prefix);
    tcase_add_test(tc, header_size_disagrees);
    tcase_add_test(tc, payload_length_disagrees);
    tcase_add_test(tc, message_shorter_than_header);
    tcase_add_test(tc, other_dissector);
    tcase_add_test(tc, no_dissector_tag);
    tcase_add_test(tc, tag_past_end);
    tcase_add_test(tc, datapath_record_size);
    tcase_add_test(tc, undefined_flags);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(rt, setup, teardown);
    tcase_add_test(rt, round_trip);
    tcase_add_test(rt, every_truncation);
    tcase_add_test(rt, random_corruption);
    tcase_set_timeout(rt, 120);
    suite_add_tcase(s, rt);

    sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
