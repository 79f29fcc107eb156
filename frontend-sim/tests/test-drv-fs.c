/*
 * test-drv-fs.c -- the virtio-fs driver side (vc-drv-fs.c): FUSE request
 * building, reply framing, typed requests answered by an in-test device
 * thread, and the generic traffic's FUSE_INIT ordering.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-drv-fs.h"
#include "vc-error.h"
#include "vc-test-dev.h"
#include "vc-test-util.h"

/* --- Builders and parsers --------------------------------------------------------------- */

START_TEST(build_header_and_args)
{
    uint8_t buf[128];
    struct fuse_in_header h;
    struct fuse_read_in ri = {.fh = 9, .offset = 4096, .size = 100};
    uint32_t n = vc_fs_build(buf, sizeof(buf), FUSE_READ, 42, 7, 1234, &ri, sizeof(ri), "xy", 3);

    ck_assert_uint_eq(n, sizeof(h) + sizeof(ri) + 3);
    memcpy(&h, buf, sizeof(h));
    ck_assert_uint_eq(h.len, n);
    ck_assert_uint_eq(h.opcode, FUSE_READ);
    ck_assert_uint_eq(h.unique, 42);
    ck_assert_uint_eq(h.nodeid, 7);
    ck_assert_uint_eq(h.pid, 1234);
    ck_assert_uint_eq(h.uid, 0);
    ck_assert_mem_eq(buf + sizeof(h), &ri, sizeof(ri));
    ck_assert_str_eq((const char *)buf + sizeof(h) + sizeof(ri), "xy");
    /* What does not fit is refused, not truncated. */
    ck_assert_uint_eq(vc_fs_build(buf, 50, FUSE_READ, 1, 1, 1, &ri, sizeof(ri), NULL, 0), 0);
}
END_TEST

/* An out buffer as a device would leave it. */
static uint32_t
reply(uint8_t *out, uint32_t len, int32_t error, uint64_t unique, uint32_t data)
{
    struct fuse_out_header h = {.len = len, .error = error, .unique = unique};

    memset(out, 0x11, VC_FS_OUT_HDR + data);
    memcpy(out, &h, sizeof(h));
    return VC_FS_OUT_HDR + data;
}

static const struct {
    uint32_t out_len;     /* writable bytes */
    uint32_t hdr_len;     /* out.len */
    int32_t error;
    uint64_t unique;      /* out.unique (the request's is 8) */
    uint32_t data;        /* bytes after the header */
    uint32_t used;        /* used.len; 0: header + data */
    unsigned faults;
} frames[] = {
    {128, 16 + 40, 0, 8, 40, 0, 0},
    {128, 16, -ENOENT, 8, 0, 0, 0},
    {128, 16, 0, 8, 0, 8, VC_FS_FAULT_SHORT},
    {128, 16 + 40, 0, 8, 40, 16 + 20, VC_FS_FAULT_LEN},
    {128, 16, 0, 10, 0, 0, VC_FS_FAULT_UNIQUE},
    {128, 16, 5, 8, 0, 0, VC_FS_FAULT_ERRNO},
    {128, 16, -600, 8, 0, 0, VC_FS_FAULT_ERRNO},
    {128, 16 + 8, -EIO, 8, 8, 0, VC_FS_FAULT_ERR_DATA},
    {32, 16 + 40, 0, 8, 16, 16 + 40, VC_FS_FAULT_OVERFLOW},
};

START_TEST(parse_reply_framing)
{
    uint8_t out[256];
    uint32_t used = reply(out, frames[_i].hdr_len, frames[_i].error, frames[_i].unique,
                          frames[_i].data);
    VcFsReply rep;
    char buf[256];

    if (frames[_i].used) {
        used = frames[_i].used;
    }
    vc_fs_parse_reply(out, frames[_i].out_len, used, 8, &rep);
    ck_assert_msg(rep.faults == frames[_i].faults, "frame %d: faults 0x%x (%s), want 0x%x", _i,
                  rep.faults, vc_fs_faults_text(rep.faults, buf, sizeof(buf)),
                  frames[_i].faults);
    ck_assert_uint_eq(rep.used_len, used);
    if (!(rep.faults & VC_FS_FAULT_SHORT)) {
        ck_assert_int_eq(rep.hdr.error, frames[_i].error);
    }
    if (!rep.faults && frames[_i].data) {
        ck_assert_ptr_eq(rep.data, out + VC_FS_OUT_HDR);
        ck_assert_uint_eq(rep.data_len, frames[_i].data);
    }
}
END_TEST

START_TEST(faults_text)
{
    char buf[256];

    ck_assert_str_eq(vc_fs_faults_text(0, buf, sizeof(buf)), "");
    vc_fs_faults_text(VC_FS_FAULT_LEN | VC_FS_FAULT_UNIQUE, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "out.len"));
    ck_assert_ptr_nonnull(strstr(buf, "unique"));
    ck_assert_str_eq(vc_fs_opcode_name(FUSE_GETATTR), "GETATTR");
    ck_assert_str_eq(vc_fs_opcode_name(4242), "opcode 4242");
}
END_TEST

/* --- An in-test FUSE device on a thread -------------------------------------------------- */

typedef struct FuseDev {
    VcTestDev dev[2];
    volatile bool stop;
    bool break_unique;      /* answer with a wrong unique */
    unsigned forgets;
    pthread_t thread;
} FuseDev;

static void
answer(FuseDev *fd, VcTestDev *dev, VcTestChain *c)
{
    uint8_t in[512], out[256] = {0};
    struct fuse_in_header h;
    struct fuse_out_header oh = {0};
    uint32_t n = vc_test_dev_read(c, in, sizeof(in)), data = 0;

    ck_assert_uint_ge(n, sizeof(h));
    memcpy(&h, in, sizeof(h));
    ck_assert_uint_eq(h.len, n);
    oh.unique = fd->break_unique ? h.unique + 2 : h.unique;
    switch (h.opcode) {
    case FUSE_INIT: {
        struct fuse_init_out io = {.major = 7, .minor = 36, .max_write = 65536};
        memcpy(out + sizeof(oh), &io, sizeof(io));
        data = sizeof(io);
        break;
    }
    case FUSE_LOOKUP:
        if (strcmp((const char *)in + sizeof(h), "there") == 0) {
            struct fuse_entry_out e = {.nodeid = 5};
            e.attr.size = 1234;
            e.attr.mode = S_IFREG | 0644;
            memcpy(out + sizeof(oh), &e, sizeof(e));
            data = sizeof(e);
        } else {
            oh.error = -ENOENT;
        }
        break;
    case FUSE_GETATTR: {
        struct fuse_attr_out a = {0};
        a.attr.mode = h.nodeid == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
        memcpy(out + sizeof(oh), &a, sizeof(a));
        data = sizeof(a);
        break;
    }
    case FUSE_FORGET:
        /* No reply: the chain comes back with used.len 0. */
        ck_assert_uint_eq(c->n_wr, 0);
        fd->forgets++;
        vc_test_dev_push(dev, c->head, 0);
        return;
    default:
        oh.error = -ENOSYS;
    }
    oh.len = sizeof(oh) + data;
    memcpy(out, &oh, sizeof(oh));
    ck_assert_uint_ge(c->wr_len, oh.len);
    vc_test_dev_write(c, 0, out, oh.len);
    vc_test_dev_push(dev, c->head, oh.len);
}

static void *
fuse_dev_main(void *opaque)
{
    FuseDev *fd = opaque;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (!fd->stop && g_get_monotonic_time() < deadline) {
        VcTestChain c;
        bool any = false;
        for (unsigned q = 0; q < 2; q++) {
            while (vc_test_dev_pop(&fd->dev[q], &c)) {
                answer(fd, &fd->dev[q], &c);
                any = true;
            }
        }
        if (!any) {
            g_usleep(200);
        }
    }
    return NULL;
}

typedef struct Fix {
    int sv[2];
    VcFrontend *fe;
    VcFsDrv *req, *hiprio;
    FuseDev dev;
} Fix;

static void
fix_init(Fix *f, bool thread)
{
    GError *err = NULL;

    memset(f, 0, sizeof(*f));
    f->fe = vc_test_fe(f->sv, "fs", 2);
    f->req = vc_fs_new(f->fe, VC_FS_REQUEST_QUEUE, 4, 512, 256, &err);
    ck_assert_msg(f->req != NULL, "%s", err ? err->message : "");
    f->hiprio = vc_fs_new(f->fe, VC_FS_HIPRIO_QUEUE, 2, 128, 0, &err);
    ck_assert_msg(f->hiprio != NULL, "%s", err ? err->message : "");
    vc_test_dev_init(&f->dev.dev[0], f->fe->q[0].vq);
    vc_test_dev_init(&f->dev.dev[1], f->fe->q[1].vq);
    if (thread) {
        ck_assert_int_eq(pthread_create(&f->dev.thread, NULL, fuse_dev_main, &f->dev), 0);
    }
}

static void
fix_fini(Fix *f, bool thread)
{
    if (thread) {
        f->dev.stop = true;
        pthread_join(f->dev.thread, NULL);
    }
    vc_fs_free(f->req);
    vc_fs_free(f->hiprio);
    vc_fe_free(f->fe);
    close(f->sv[1]);
}

START_TEST(typed_session)
{
    Fix f;
    struct fuse_init_out io;
    struct fuse_entry_out e;
    struct fuse_attr_out a;
    GError *err = NULL;

    fix_init(&f, true);
    ck_assert_msg(vc_fs_init(f.req, VC_FS_FUSE_MINOR, &io, &err), "%s", err ? err->message : "");
    ck_assert_uint_eq(io.major, 7);
    ck_assert_uint_eq(io.minor, 36);
    ck_assert_uint_eq(f.req->minor, VC_FS_FUSE_MINOR);   /* the smaller of the two */

    ck_assert(vc_fs_lookup(f.req, FUSE_ROOT_ID, "there", &e, &err));
    ck_assert_int_eq(f.req->last.hdr.error, 0);
    ck_assert_uint_eq(e.nodeid, 5);
    ck_assert_uint_eq(e.attr.size, 1234);

    /* A FUSE error is not a failure of the call: it is reported in last. */
    ck_assert(vc_fs_lookup(f.req, FUSE_ROOT_ID, "absent", &e, &err));
    ck_assert_int_eq(f.req->last.hdr.error, -ENOENT);
    ck_assert_uint_eq(f.req->last.used_len, VC_FS_OUT_HDR);
    ck_assert_uint_eq(e.nodeid, 0);

    ck_assert(vc_fs_getattr(f.req, FUSE_ROOT_ID, &a, &err));
    ck_assert(S_ISDIR(a.attr.mode));

    ck_assert(vc_fs_forget(f.hiprio, 5, 1, &err));
    ck_assert_uint_eq(f.hiprio->last.used_len, 0);
    ck_assert_uint_eq(f.hiprio->last.faults, 0);
    fix_fini(&f, true);
    ck_assert_uint_eq(f.dev.forgets, 1);
}
END_TEST

START_TEST(typed_protocol_error)
{
    Fix f;
    struct fuse_attr_out a;
    GError *err = NULL;

    fix_init(&f, true);
    f.dev.break_unique = true;
    ck_assert(!vc_fs_getattr(f.req, FUSE_ROOT_ID, &a, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_ptr_nonnull(strstr(err->message, "unique"));
    ck_assert(f.req->last.faults & VC_FS_FAULT_UNIQUE);
    g_clear_error(&err);
    fix_fini(&f, true);
}
END_TEST

START_TEST(typed_timeout)
{
    Fix f;
    struct fuse_attr_out a;
    GError *err = NULL;

    fix_init(&f, false);
    f.req->timeout_ms = 50;
    ck_assert(!vc_fs_getattr(f.req, FUSE_ROOT_ID, &a, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_TIMEOUT));
    g_clear_error(&err);
    fix_fini(&f, false);
}
END_TEST

/* The traffic on a ring that has not started: the INIT goes first and alone. */
START_TEST(traffic_init_first)
{
    int sv[2];
    VcFrontend *fe = vc_test_fe(sv, "fs", 2);
    GError *err = NULL;
    VcTraffic *t = vc_traffic_new(fe, G_MAXUINT, 4, &err);
    FuseDev fd = {0};
    VcTestChain c;
    uint8_t in[256];
    struct fuse_in_header h;

    ck_assert_msg(t != NULL, "%s", err ? err->message : "");
    ck_assert_uint_eq(t->vq->index, VC_FS_REQUEST_QUEUE);
    vc_test_dev_init(&fd.dev[1], t->vq);
    ck_assert_uint_eq(vc_traffic_post(t, 4), 4);
    ck_assert_uint_eq(vc_traffic_in_flight(t), 4);
    /* virtio 1.x 5.11.6.1: nothing that depends on the INIT before it was used. */
    ck_assert_uint_eq(vc_test_dev_pending(&fd.dev[1]), 1);
    ck_assert(vc_test_dev_pop(&fd.dev[1], &c));
    vc_test_dev_read(&c, in, sizeof(in));
    memcpy(&h, in, sizeof(h));
    ck_assert_uint_eq(h.opcode, FUSE_INIT);
    ck_assert_uint_eq(vc_traffic_reap(t), 0);
    answer(&fd, &fd.dev[1], &c);
    /* The INIT is the driver's own: not counted; the held GETATTRs go out now. */
    ck_assert_uint_eq(vc_traffic_reap(t), 0);
    ck_assert_uint_eq(vc_test_dev_pending(&fd.dev[1]), 4);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert(vc_test_dev_pop(&fd.dev[1], &c));
        vc_test_dev_read(&c, in, sizeof(in));
        memcpy(&h, in, sizeof(h));
        ck_assert_uint_eq(h.opcode, FUSE_GETATTR);
        ck_assert_uint_eq(h.nodeid, FUSE_ROOT_ID);
        answer(&fd, &fd.dev[1], &c);
    }
    ck_assert_uint_eq(vc_traffic_reap(t), 4);
    ck_assert_uint_eq(t->completed, 4);
    ck_assert_uint_eq(vc_traffic_in_flight(t), 0);
    ck_assert_ptr_null(vc_traffic_verify(t));

    /* The next round goes straight to the ring; a wrong unique is named by verify. */
    fd.break_unique = true;
    ck_assert_uint_eq(vc_traffic_post(t, 2), 2);
    ck_assert_uint_eq(vc_test_dev_pending(&fd.dev[1]), 2);
    while (vc_test_dev_pop(&fd.dev[1], &c)) {
        answer(&fd, &fd.dev[1], &c);
    }
    ck_assert_uint_eq(vc_traffic_reap(t), 2);
    ck_assert_ptr_nonnull(strstr(vc_traffic_verify(t), "unique"));
    vc_traffic_free(t);
    vc_fe_free(fe);
    close(sv[1]);
}
END_TEST

START_TEST(traffic_forget_reposts_init)
{
    int sv[2];
    VcFrontend *fe = vc_test_fe(sv, "fs", 2);
    VcTraffic *t = vc_traffic_new(fe, G_MAXUINT, 2, NULL);
    VcTestDev dev;
    VcTestChain c;
    uint8_t in[256];
    struct fuse_in_header h;

    vc_test_dev_init(&dev, t->vq);
    vc_traffic_post(t, 2);
    /* The ring is reset before the INIT was used: it must go out again. */
    vc_vq_reset(t->vq, 0);
    vc_traffic_forget(t);
    ck_assert_uint_eq(vc_traffic_in_flight(t), 0);
    vc_test_dev_init(&dev, t->vq);
    vc_traffic_post(t, 1);
    ck_assert(vc_test_dev_pop(&dev, &c));
    vc_test_dev_read(&c, in, sizeof(in));
    memcpy(&h, in, sizeof(h));
    ck_assert_uint_eq(h.opcode, FUSE_INIT);
    ck_assert(!vc_test_dev_pop(&dev, &c));
    vc_traffic_free(t);
    vc_fe_free(fe);
    close(sv[1]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("drv-fs");
    TCase *tc = tcase_create("builders");

    tcase_add_test(tc, build_header_and_args);
    tcase_add_loop_test(tc, parse_reply_framing, 0, G_N_ELEMENTS(frames));
    tcase_add_test(tc, faults_text);
    suite_add_tcase(s, tc);
    tc = tcase_create("device");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, typed_session);
    tcase_add_test(tc, typed_protocol_error);
    tcase_add_test(tc, typed_timeout);
    tcase_add_test(tc, traffic_init_first);
    tcase_add_test(tc, traffic_forget_reposts_init);
    suite_add_tcase(s, tc);
    return vc_test_run(s);
}
