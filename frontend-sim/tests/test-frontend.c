/*
 * test-frontend.c -- the emulated front end (vc-frontend.c) against a back
 * end played by hand on a socketpair: replies are queued on the socket
 * before the request goes out (or sent from a thread), requests are read
 * back and checked, and the back-end channel is driven from the test.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vc-error.h"
#include "vc-frontend.h"
#include "wire/vc-msg-io.h"
#include "vc-test-util.h"

#define LONG_MS 10000
#define PF(bit) (1ull << VHOST_USER_PROTOCOL_F_##bit)

typedef struct Fix {
    VcFrontend *fe;
    int be;          /* the back end's end of the main socket */
    int fds_before;
} Fix;

static void
fix_init_cfg(Fix *f, VcFeConfig *cfg)
{
    int sv[2];

    f->fds_before = vc_test_count_fds();
    vc_test_socketpair(sv);
    f->fe = vc_fe_new(sv[0], cfg);
    f->be = sv[1];
}

static void
fix_init(Fix *f)
{
    VcFeConfig cfg = {.timeout_ms = LONG_MS};

    fix_init_cfg(f, &cfg);
}

static void
fix_fini(Fix *f)
{
    vc_fe_free(f->fe);
    if (f->be >= 0) {
        close(f->be);
    }
    /* The front end closed every socket, memfd and notifier it made. */
    ck_assert_int_eq(vc_test_count_fds(), f->fds_before);
}

/* The back end sends a reply (or any message) as given. */
static void
be_send(int fd, uint32_t request, uint32_t flags, uint32_t size, uint64_t u64)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    m->hdr.request = request;
    m->hdr.flags = flags;
    m->hdr.size = size;
    m->payload.u64 = u64;
    ck_assert_int_eq(vc_msg_send(fd, m, LONG_MS), 0);
}

/* The back end reads the next message, which must be @request. Fds are the caller's. */
static void
be_recv(int fd, VcMsg *m, uint32_t request)
{
    ck_assert_int_eq(vc_msg_recv(fd, m, LONG_MS), 0);
    ck_assert_msg(m->hdr.request == request, "back end got request %u, want %u", m->hdr.request,
                  request);
}

static void
be_nothing_more(int fd)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    ck_assert_int_eq(vc_msg_recv(fd, m, 0), -EAGAIN);
}

/* --- Requests and replies ----------------------------------------------------------- */

START_TEST(reply_correct)
{
    Fix f;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    uint64_t v = 0;

    fix_init(&f);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 0x140000000ull);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 0x140000000ull);
    ck_assert_uint_eq(f.fe->features_offered, 0x140000000ull);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 0);
    ck_assert(!f.fe->broken);
    be_recv(f.be, m, VHOST_USER_GET_FEATURES);
    ck_assert_uint_eq(m->hdr.flags, 0x1);
    ck_assert_uint_eq(m->hdr.size, 0);
    ck_assert_uint_eq(m->nfds, 0);
    be_nothing_more(f.be);
    ck_assert_uint_eq(f.fe->conn->n_sent, 1);
    ck_assert_uint_eq(f.fe->conn->n_recv, 1);
    fix_fini(&f);
}
END_TEST

typedef struct LateReply {
    int fd;
    int delay_ms;
    uint32_t got_request;
    uint32_t got_flags;
} LateReply;

static gpointer
late_reply_thread(gpointer data)
{
    LateReply *l = data;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    if (vc_msg_recv(l->fd, m, LONG_MS) == 0) {
        l->got_request = m->hdr.request;
        l->got_flags = m->hdr.flags;
        g_usleep((gulong)l->delay_ms * 1000);
        m->hdr.flags = 0x5;
        m->hdr.size = 8;
        m->payload.state.num = 0x1234;
        vc_msg_send(l->fd, m, LONG_MS);
    }
    return NULL;
}

/* The back end answers from another thread, 50 ms after reading the request. */
START_TEST(reply_later)
{
    Fix f;
    LateReply l = {0};
    GThread *t;
    uint32_t base = 0;

    fix_init(&f);
    l.fd = f.be;
    l.delay_ms = 50;
    t = g_thread_new("backend", late_reply_thread, &l);
    ck_assert(vc_fe_get_vring_base(f.fe, 2, &base, NULL));
    g_thread_join(t);
    ck_assert_uint_eq(l.got_request, VHOST_USER_GET_VRING_BASE);
    ck_assert_uint_eq(l.got_flags, 0x1);
    ck_assert_uint_eq(base, 0x1234);
    ck_assert_uint_eq(f.fe->vring_base[2], 0x1234);
    fix_fini(&f);
}
END_TEST

/* Flags 0x1 (REPLY bit missing): QEMU-intolerable but usable, so recorded and accepted. */
START_TEST(reply_flags_0x1)
{
    Fix f;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    const VcObs *o;
    uint64_t v = 0;

    fix_init(&f);
    be_send(f.be, VHOST_USER_GET_PROTOCOL_FEATURES, 0x1, 8, 0x3ull);
    ck_assert(vc_fe_get_protocol_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 3);
    ck_assert_uint_eq(f.fe->pfeatures_offered, 3);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_REPLY_FAULT);
    ck_assert_uint_eq(o->faults, VC_MSG_FAULT_REPLY_BIT);
    ck_assert_uint_eq(o->request, VHOST_USER_GET_PROTOCOL_FEATURES);
    ck_assert_uint_eq(o->flags, 0x1);
    ck_assert_uint_eq(o->size, 8);
    ck_assert_uint_eq(o->msg_no, 1);
    ck_assert_msg(strstr(o->text, "flags 0x1, want 0x5 (REPLY bit clear)"), "%s", o->text);
    ck_assert(!f.fe->broken);
    be_recv(f.be, m, VHOST_USER_GET_PROTOCOL_FEATURES);
    fix_fini(&f);
}
END_TEST

/* NEED_REPLY or an undefined bit on a reply: also recorded, also used. */
START_TEST(reply_flags_extra_bits)
{
    Fix f;
    uint64_t v = 0;

    fix_init(&f);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0xd, 8, 7);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x15, 8, 8);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 7);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 8);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 2);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->faults, VC_MSG_FAULT_FLAGS);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->flags, 0xd);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 1)->faults, VC_MSG_FAULT_FLAGS);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 1)->flags, 0x15);
    fix_fini(&f);
}
END_TEST

START_TEST(reply_wrong_size)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    const VcObs *o;
    uint64_t v = 0;

    fix_init(&f);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 4, 1);
    ck_assert(!vc_fe_get_features(f.fe, &v, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_msg(strstr(err->message, "size 4, want 8"), "%s", err->message);
    ck_assert(vc_error_is_daemon_fault(err));
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_REPLY_FAULT);
    ck_assert_uint_eq(o->faults, VC_MSG_FAULT_SIZE);
    ck_assert_uint_eq(o->size, 4);
    /* The stream is still in step: the next request works. */
    ck_assert(!f.fe->broken);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 9);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 9);
    fix_fini(&f);
}
END_TEST

START_TEST(reply_wrong_id)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    const VcObs *o;

    fix_init(&f);
    be_send(f.be, VHOST_USER_GET_PROTOCOL_FEATURES, 0x5, 8, 1);
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_msg(strstr(err->message, "answers request 15 (GET_PROTOCOL_FEATURES)"), "%s",
                  err->message);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_REPLY_FAULT);
    ck_assert_uint_eq(o->faults, VC_MSG_FAULT_REQUEST);
    ck_assert_uint_eq(o->request, VHOST_USER_GET_FEATURES);
    /* A reply for something else means the conversation is lost: no more requests. */
    ck_assert(f.fe->broken);
    ck_assert(!vc_fe_set_owner(f.fe, &err2));
    ck_assert(g_error_matches(err2, VC_SIM_ERROR, VC_ERROR_CLOSED));
    be_recv(f.be, m, VHOST_USER_GET_FEATURES);
    be_nothing_more(f.be);
    fix_fini(&f);
}
END_TEST

START_TEST(reply_never_comes)
{
    Fix f;
    VcFeConfig cfg = {.timeout_ms = 100};
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    gint64 t0;

    fix_init_cfg(&f, &cfg);
    ck_assert_int_eq(f.fe->timeout_ms, 100);
    t0 = g_get_monotonic_time();
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_TIMEOUT));
    /* Only a hang is caught here; slow machines are not. */
    ck_assert_int_lt((g_get_monotonic_time() - t0) / 1000, LONG_MS);
    ck_assert(f.fe->broken);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 0);
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err2));
    ck_assert(g_error_matches(err2, VC_SIM_ERROR, VC_ERROR_CLOSED));
    fix_fini(&f);
}
END_TEST

static gpointer
read_then_close_thread(gpointer data)
{
    int *fd = data;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    if (vc_msg_recv(*fd, m, LONG_MS) == 0) {
        g_usleep(20 * 1000);
    }
    close(*fd);
    *fd = -1;
    return NULL;
}

/* The back end reads the request and hangs up instead of answering. */
START_TEST(reply_eof)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    GThread *t;

    fix_init(&f);
    t = g_thread_new("backend", read_then_close_thread, &f.be);
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err));
    g_thread_join(t);
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_CLOSED));
    ck_assert(vc_error_is_daemon_fault(err));
    ck_assert(f.fe->broken);
    ck_assert(f.fe->conn->closed);
    ck_assert(!vc_fe_set_owner(f.fe, &err2));
    ck_assert(g_error_matches(err2, VC_SIM_ERROR, VC_ERROR_CLOSED));
    fix_fini(&f);
}
END_TEST

/* The back end has gone before the request is sent. */
START_TEST(send_after_close)
{
    Fix f;
    g_autoptr(GError) err = NULL;

    fix_init(&f);
    close(f.be);
    f.be = -1;
    ck_assert(!vc_fe_set_owner(f.fe, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_CLOSED));
    ck_assert(f.fe->conn->closed);
    fix_fini(&f);
}
END_TEST

START_TEST(reply_oversize)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autofree uint8_t *big = g_malloc0(12 + 5000);
    VhostUserHeader h = {VHOST_USER_GET_FEATURES, 0x5, 5000};

    fix_init(&f);
    memcpy(big, &h, sizeof(h));
    ck_assert_int_eq(vc_msg_send_raw(f.be, big, 12 + 5000, NULL, 0, LONG_MS), 0);
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    ck_assert_int_eq(vc_fe_obs(f.fe, 0)->kind, VC_OBS_REPLY_FAULT);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->faults, VC_MSG_FAULT_SIZE);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->size, 5000);
    fix_fini(&f);
}
END_TEST

/* A reply carrying an fd it should not: a protocol error, and the fd is not leaked. */
START_TEST(reply_unexpected_fd)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    int fd;

    fix_init(&f);
    fd = vc_test_memfd();
    vc_msg_init(m, VHOST_USER_GET_FEATURES, VHOST_USER_REPLY_MASK);
    m->hdr.size = 8;
    m->fds[0] = fd;
    m->nfds = 1;
    ck_assert_int_eq(vc_msg_send(f.be, m, LONG_MS), 0);
    close(fd);
    ck_assert(!vc_fe_get_features(f.fe, NULL, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->faults, VC_MSG_FAULT_FDS);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 0)->nfds, 1);
    fix_fini(&f);
}
END_TEST

/* Negotiates REPLY_ACK: SET_PROTOCOL_FEATURES itself asks for no reply. */
static void
negotiate_reply_ack(Fix *f)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    ck_assert(vc_fe_set_protocol_features(f->fe, PF(REPLY_ACK), NULL));
    ck_assert_uint_eq(f->fe->pfeatures, PF(REPLY_ACK));
    be_recv(f->be, m, VHOST_USER_SET_PROTOCOL_FEATURES);
    ck_assert_uint_eq(m->hdr.flags, 0x1);
    ck_assert_uint_eq(m->payload.u64, PF(REPLY_ACK));
    ck_assert_uint_eq(vc_fe_want_ack(f->fe), VHOST_USER_NEED_REPLY_MASK);
}

START_TEST(reply_nack)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    const VcObs *o;

    fix_init(&f);
    ck_assert_uint_eq(vc_fe_want_ack(f.fe), 0);
    negotiate_reply_ack(&f);
    be_send(f.be, VHOST_USER_SET_VRING_ENABLE, 0x5, 8, 1);
    ck_assert(!vc_fe_set_vring_enable(f.fe, 0, true, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK));
    be_recv(f.be, m, VHOST_USER_SET_VRING_ENABLE);
    ck_assert_uint_eq(m->hdr.flags, 0x9);
    ck_assert_uint_eq(m->payload.state.index, 0);
    ck_assert_uint_eq(m->payload.state.num, 1);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_NACK);
    ck_assert_uint_eq(o->request, VHOST_USER_SET_VRING_ENABLE);
    ck_assert_uint_eq(o->u64, 1);
    /* A NACK is an answer: the connection stays usable, and an ack of 0 succeeds. */
    ck_assert(!f.fe->broken);
    be_send(f.be, VHOST_USER_SET_VRING_ENABLE, 0x5, 8, 0);
    ck_assert(vc_fe_set_vring_enable(f.fe, 0, false, NULL));
    be_recv(f.be, m, VHOST_USER_SET_VRING_ENABLE);
    ck_assert_uint_eq(m->payload.state.num, 0);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    fix_fini(&f);
}
END_TEST

/* An ack for SET_OWNER, which asked for none, arrives before the GET_FEATURES reply. */
START_TEST(unsolicited_ack)
{
    Fix f;
    g_autoptr(GError) err = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    const VcObs *o;
    uint64_t v = 0;

    fix_init(&f);
    ck_assert(vc_fe_set_owner(f.fe, NULL));
    be_recv(f.be, m, VHOST_USER_SET_OWNER);
    ck_assert_uint_eq(m->hdr.flags, 0x1);
    be_send(f.be, VHOST_USER_SET_OWNER, 0x5, 8, 0);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 42);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 42);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_UNSOLICITED);
    ck_assert_uint_eq(o->request, VHOST_USER_SET_OWNER);
    ck_assert_uint_eq(o->flags, 0x5);
    ck_assert_msg(strstr(o->text, "unrequested reply to SET_OWNER"), "%s", o->text);
    ck_assert_msg(strstr(o->text, "while waiting for GET_FEATURES"), "%s", o->text);
    /* Only one stray ack per request is excused: a second one is a wrong reply. */
    be_send(f.be, VHOST_USER_SET_OWNER, 0x5, 8, 0);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 42);
    ck_assert(!vc_fe_get_features(f.fe, &v, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_PROTOCOL));
    ck_assert_uint_eq(vc_fe_obs(f.fe, 1)->kind, VC_OBS_REPLY_FAULT);
    fix_fini(&f);
}
END_TEST

/* A request split in two segments still reaches the back end as one message with its fd. */
START_TEST(request_split)
{
    Fix f;
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    int fd;

    fix_init(&f);
    fd = vc_test_memfd();
    vc_msg_init(req, VHOST_USER_SET_VRING_CALL, 0);
    req->hdr.size = 8;
    req->payload.u64 = 3;
    req->fds[0] = fd;
    req->nfds = 1;
    ck_assert(vc_fe_request_split(f.fe, req, 5, 20, NULL, NULL));
    be_recv(f.be, m, VHOST_USER_SET_VRING_CALL);
    ck_assert_uint_eq(m->hdr.size, 8);
    ck_assert_uint_eq(m->payload.u64, 3);
    ck_assert_uint_eq(m->nfds, 1);
    ck_assert(vc_test_same_file(m->fds[0], fd));
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
    vc_msg_close_fds(m);
    close(fd);
    fix_fini(&f);
}
END_TEST

START_TEST(expect_silence)
{
    Fix f;
    g_autofree VcMsg *stray = g_new0(VcMsg, 1);

    fix_init(&f);
    ck_assert(vc_fe_expect_silence(f.fe, 20, stray));
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 0);
    be_send(f.be, VHOST_USER_GET_STATUS, 0x5, 8, 0xf);
    ck_assert(!vc_fe_expect_silence(f.fe, LONG_MS, stray));
    ck_assert_uint_eq(stray->hdr.request, VHOST_USER_GET_STATUS);
    ck_assert_uint_eq(stray->payload.u64, 0xf);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    ck_assert_int_eq(vc_fe_obs(f.fe, 0)->kind, VC_OBS_UNSOLICITED);
    ck_assert_msg(strstr(vc_fe_obs(f.fe, 0)->text, "request 40 (GET_STATUS) flags 0x5 size 8"),
                  "%s", vc_fe_obs(f.fe, 0)->text);
    fix_fini(&f);
}
END_TEST

/* --- Typed requests put the right bytes on the wire ------------------------------------- */

START_TEST(wire_mem_table_and_vrings)
{
    Fix f;
    VcFeConfig cfg = {.timeout_ms = LONG_MS, .ring_size = 64};
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    uint64_t size = 2ull << 20;

    fix_init_cfg(&f, &cfg);
    ck_assert(vc_fe_set_mem_table(f.fe, NULL));
    be_recv(f.be, m, VHOST_USER_SET_MEM_TABLE);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
    ck_assert_uint_eq(m->hdr.flags, 0x1);
    ck_assert_uint_eq(m->payload.memory.nregions, 2);
    ck_assert_uint_eq(m->hdr.size, 8 + 2 * 32);
    ck_assert_uint_eq(m->nfds, 2);
    /* QEMU's layout: gpa 0 at offset 0, gpa 4 GiB at offset 2 * size, one memfd. */
    ck_assert_uint_eq(m->payload.memory.regions[0].guest_phys_addr, 0);
    ck_assert_uint_eq(m->payload.memory.regions[0].memory_size, size);
    ck_assert_uint_eq(m->payload.memory.regions[0].userspace_addr, VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(m->payload.memory.regions[0].mmap_offset, 0);
    ck_assert_uint_eq(m->payload.memory.regions[1].guest_phys_addr, 4ull << 30);
    ck_assert_uint_eq(m->payload.memory.regions[1].memory_size, size);
    ck_assert_uint_eq(m->payload.memory.regions[1].userspace_addr,
                      (4ull << 30) + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(m->payload.memory.regions[1].mmap_offset, 2 * size);
    ck_assert(vc_test_same_file(m->fds[0], m->fds[1]));
    ck_assert(vc_test_same_file(m->fds[0], f.fe->gm->memfds[0].fd));
    vc_msg_close_fds(m);

    ck_assert(vc_fe_setup_vring(f.fe, 0, true, NULL));
    be_recv(f.be, m, VHOST_USER_SET_VRING_NUM);
    ck_assert_uint_eq(m->payload.state.num, 64);
    be_recv(f.be, m, VHOST_USER_SET_VRING_BASE);
    ck_assert_uint_eq(m->payload.state.num, 0);
    be_recv(f.be, m, VHOST_USER_SET_VRING_ADDR);
    ck_assert_uint_eq(m->payload.addr.desc_user_addr,
                      f.fe->q[0].vq->desc_gpa + VC_GMEM_UVA_OFFSET);
    be_recv(f.be, m, VHOST_USER_SET_VRING_KICK);
    ck_assert_uint_eq(m->payload.u64, 0);
    ck_assert_uint_eq(m->nfds, 1);
    ck_assert(vc_test_same_file(m->fds[0], f.fe->q[0].kick_ours));
    vc_msg_close_fds(m);

    /* No fd: the NOFD bit, and ring index 5. */
    ck_assert(vc_fe_set_vring_fd(f.fe, VHOST_USER_SET_VRING_CALL, 5, -1, NULL));
    be_recv(f.be, m, VHOST_USER_SET_VRING_CALL);
    ck_assert_uint_eq(m->payload.u64, 5 | VHOST_USER_VRING_NOFD_MASK);
    ck_assert_uint_eq(m->nfds, 0);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
    be_nothing_more(f.be);
    fix_fini(&f);
}
END_TEST

/* --- Back-end channel ---------------------------------------------------------------- */

/* Sets up the channel; returns the back end's end of it. */
static int
open_backend_channel(Fix *f)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    int ch;

    ck_assert(vc_fe_set_backend_req_fd(f->fe, NULL));
    ck_assert_ptr_nonnull(f->fe->bch);
    be_recv(f->be, m, VHOST_USER_SET_BACKEND_REQ_FD);
    ck_assert_uint_eq(m->hdr.size, 0);
    ck_assert_uint_eq(m->nfds, 1);
    ch = vc_msg_take_fd(m, 0);
    ck_assert_int_ge(ch, 0);
    return ch;
}

static void
expect_backend_ack(int ch, uint32_t request, uint64_t status)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    ck_assert_int_eq(vc_msg_recv(ch, m, LONG_MS), 0);
    ck_assert_uint_eq(m->hdr.request, request);
    ck_assert_uint_eq(m->hdr.flags, 0x5);
    ck_assert_uint_eq(m->hdr.size, 8);
    ck_assert_uint_eq(m->payload.u64, status);
    ck_assert_uint_eq(m->nfds, 0);
}

/* The back-end requests real daemons here never send: each is answered as QEMU would. */
START_TEST(backend_channel_every_request)
{
    Fix f;
    int ch;

    fix_init(&f);
    ch = open_backend_channel(&f);
    f.fe->pfeatures |= PF(SHARED_OBJECT) | PF(INBAND_NOTIFICATIONS) | PF(HOST_NOTIFIER) |
                       PF(BACKEND_SEND_FD);

    /* SHARED_OBJECT_ADD and _REMOVE (a UUID): acked 0; LOOKUP of an unknown UUID: 1. */
    be_send(ch, VHOST_USER_BACKEND_SHARED_OBJECT_ADD, 0x9, 16, 0x5a5a);
    be_send(ch, VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE, 0x9, 16, 0x5a5a);
    be_send(ch, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, 0x9, 16, 0x1234);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 3);
    expect_backend_ack(ch, VHOST_USER_BACKEND_SHARED_OBJECT_ADD, 0);
    expect_backend_ack(ch, VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE, 0);
    expect_backend_ack(ch, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, 1);

    /* VRING_HOST_NOTIFIER_MSG (u64 index, size, offset) without an fd: the area is removed. */
    be_send(ch, VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 0x9, 24,
            0 | VHOST_USER_VRING_NOFD_MASK);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 0);

    /* In-band VRING_ERR: counted for its ring and acked 0. */
    be_send(ch, VHOST_USER_BACKEND_VRING_ERR, 0x9, 8, 2);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, VHOST_USER_BACKEND_VRING_ERR, 0);
    ck_assert_uint_eq(f.fe->inband_errs[2], 1);

    /* An IOTLB miss with no IOMMU negotiated is refused. */
    be_send(ch, VHOST_USER_BACKEND_IOTLB_MSG, 0x9, 32, 0x1000);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, VHOST_USER_BACKEND_IOTLB_MSG, 1);
    be_nothing_more(ch);
    close(ch);
    fix_fini(&f);
}
END_TEST

START_TEST(backend_channel)
{
    Fix f;
    int ch;
    const VcObs *o;

    fix_init(&f);
    ch = open_backend_channel(&f);

    /* CONFIG_CHANGE_MSG with NEED_REPLY: acked with 0. */
    be_send(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0x9, 0, 0);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    o = vc_fe_obs(f.fe, 0);
    ck_assert_int_eq(o->kind, VC_OBS_BACKEND_MSG);
    ck_assert_uint_eq(o->request, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
    ck_assert_uint_eq(o->flags, 0x9);
    ck_assert_uint_eq(o->faults, 0);
    ck_assert_uint_eq(o->msg_no, 1);
    ck_assert_str_eq(o->text, "BACKEND_CONFIG_CHANGE_MSG");

    /* An unknown back-end request: acked with 1 and recorded as a fault. */
    be_send(ch, 11, 0x9, 0, 0);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, 11, 1);
    o = vc_fe_obs(f.fe, 1);
    ck_assert_int_eq(o->kind, VC_OBS_BACKEND_FAULT);
    ck_assert_uint_eq(o->request, 11);
    ck_assert_uint_eq(o->faults, VC_MSG_FAULT_UNKNOWN);

    /* A malformed one (payload on a no-payload request): acked with 1. */
    be_send(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0x9, 8, 0);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
    expect_backend_ack(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 1);
    ck_assert_uint_eq(vc_fe_obs(f.fe, 2)->faults, VC_MSG_FAULT_SIZE);

    /* Without NEED_REPLY there is no answer, except for a lookup, which QEMU always answers. */
    be_send(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0x1, 0, 0);
    be_send(ch, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, 0x1, 16, 0);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 2);
    expect_backend_ack(ch, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, 1);
    be_nothing_more(ch);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 5);
    ck_assert_int_eq(vc_fe_obs(f.fe, 3)->kind, VC_OBS_BACKEND_MSG);
    ck_assert_int_eq(vc_fe_obs(f.fe, 4)->kind, VC_OBS_BACKEND_MSG);

    /* In-band calls are refused unless INBAND_NOTIFICATIONS was negotiated. */
    {
        g_autofree VcMsg *m = g_new0(VcMsg, 1);
        vc_msg_init(m, VHOST_USER_BACKEND_VRING_CALL, VHOST_USER_NEED_REPLY_MASK);
        m->hdr.size = 8;
        m->payload.state.index = 1;
        ck_assert_int_eq(vc_msg_send(ch, m, LONG_MS), 0);
        ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
        expect_backend_ack(ch, VHOST_USER_BACKEND_VRING_CALL, 1);
        ck_assert_uint_eq(f.fe->inband_calls[1], 0);
        f.fe->pfeatures |= PF(INBAND_NOTIFICATIONS);
        ck_assert_int_eq(vc_msg_send(ch, m, LONG_MS), 0);
        ck_assert_uint_eq(vc_fe_service(f.fe, 200), 1);
        expect_backend_ack(ch, VHOST_USER_BACKEND_VRING_CALL, 0);
        ck_assert_uint_eq(f.fe->inband_calls[1], 1);
        ck_assert_str_eq(vc_fe_obs(f.fe, 6)->text, "BACKEND_VRING_CALL index=1 num=0");
    }

    /* Nothing waiting: service returns at once with 0. */
    ck_assert_uint_eq(vc_fe_service(f.fe, 0), 0);
    close(ch);
    fix_fini(&f);
}
END_TEST

/* While waiting for a main-socket reply the front end answers the back-end channel. */
START_TEST(backend_channel_while_waiting)
{
    Fix f;
    int ch;
    uint64_t v = 0;

    fix_init(&f);
    ch = open_backend_channel(&f);
    be_send(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0x9, 0, 0);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 5);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    ck_assert_uint_eq(v, 5);
    expect_backend_ack(ch, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0);
    ck_assert_uint_eq(vc_fe_obs_count(f.fe), 1);
    ck_assert_int_eq(vc_fe_obs(f.fe, 0)->kind, VC_OBS_BACKEND_MSG);
    close(ch);
    fix_fini(&f);
}
END_TEST

/* The back end hangs up its channel: the front end drops it (as QEMU does) and carries on. */
START_TEST(backend_channel_hangup)
{
    Fix f;
    int ch;
    uint64_t v = 0;

    fix_init(&f);
    ch = open_backend_channel(&f);
    close(ch);
    ck_assert_uint_eq(vc_fe_service(f.fe, 200), 0);
    ck_assert_ptr_null(f.fe->bch);
    be_send(f.be, VHOST_USER_GET_FEATURES, 0x5, 8, 5);
    ck_assert(vc_fe_get_features(f.fe, &v, NULL));
    fix_fini(&f);
}
END_TEST

/* With REPLY_ACK the channel set-up waits for its ack. */
START_TEST(backend_channel_acked)
{
    Fix f;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    fix_init(&f);
    negotiate_reply_ack(&f);
    be_send(f.be, VHOST_USER_SET_BACKEND_REQ_FD, 0x5, 8, 0);
    ck_assert(vc_fe_set_backend_req_fd(f.fe, NULL));
    be_recv(f.be, m, VHOST_USER_SET_BACKEND_REQ_FD);
    ck_assert_uint_eq(m->hdr.flags, 0x9);
    ck_assert_uint_eq(m->nfds, 1);
    vc_msg_close_fds(m);
    fix_fini(&f);
}
END_TEST

static Suite *
frontend_suite(void)
{
    Suite *s = suite_create("frontend");
    TCase *tc;

    tc = tcase_create("request");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reply_correct);
    tcase_add_test(tc, reply_later);
    tcase_add_test(tc, reply_flags_0x1);
    tcase_add_test(tc, reply_flags_extra_bits);
    tcase_add_test(tc, reply_wrong_size);
    tcase_add_test(tc, reply_wrong_id);
    tcase_add_test(tc, reply_never_comes);
    tcase_add_test(tc, reply_eof);
    tcase_add_test(tc, send_after_close);
    tcase_add_test(tc, reply_oversize);
    tcase_add_test(tc, reply_unexpected_fd);
    tcase_add_test(tc, reply_nack);
    tcase_add_test(tc, unsolicited_ack);
    tcase_add_test(tc, request_split);
    tcase_add_test(tc, expect_silence);
    tcase_add_test(tc, wire_mem_table_and_vrings);
    suite_add_tcase(s, tc);

    tc = tcase_create("backend-channel");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, backend_channel);
    tcase_add_test(tc, backend_channel_every_request);
    tcase_add_test(tc, backend_channel_while_waiting);
    tcase_add_test(tc, backend_channel_hangup);
    tcase_add_test(tc, backend_channel_acked);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(frontend_suite());
}
