/*
 * test-msg-io.c -- message framing over AF_UNIX stream sockets
 * (wire/vc-msg-io.c): payload and fd round trips, fds kept with their own
 * message, split segments, EOF, deadlines, oversize and fd hygiene.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "vc-msg-io.h"
#include "vc-test-util.h"

/* Generous: a slow or loaded machine must never turn a pass into a failure. */
#define LONG_MS 10000

/* Payload sizes of every kind (SPEC-FACTS.md 2.2); the variable kinds at their largest. */
static const struct {
    const char *kind;
    uint32_t size;
} kinds[] = {
    {"none", 0},
    {"u64", 8},
    {"vring state", 8},
    {"vring addr", 40},
    {"mem table (8 regions)", 8 + 32 * 8},
    {"log", 16},
    {"iotlb", 32},
    {"config (256 bytes)", 12 + 256},
    {"config reply", 12 + 4},
    {"opaque", 1100},
    {"same size", 72},
    {"inflight", 24},
    {"mem reg", 40},
    {"shared", 16},
    {"device state", 8},
    {"shmem config", 2056},
    {"vring area", 24},
    {"mmap", 40},
    {"largest legal", VC_MSG_MAX_PAYLOAD},
};

#define MAX_TEST_FDS 8

typedef struct Pair {
    int a;   /* the sender in most tests */
    int b;   /* the receiver */
} Pair;

static Pair
pair_new(void)
{
    int sv[2];

    vc_test_socketpair(sv);
    return (Pair){sv[0], sv[1]};
}

static void
pair_close(Pair *p)
{
    if (p->a >= 0) {
        close(p->a);
    }
    if (p->b >= 0) {
        close(p->b);
    }
    p->a = p->b = -1;
}

static void
fill_pattern(VcMsg *m, uint8_t seed)
{
    for (uint32_t i = 0; i < m->hdr.size; i++) {
        m->payload.raw[i] = (uint8_t)(seed + i * 7);
    }
}

/* Every payload kind with 0..8 fds (loop index = kind * 9 + nfds). */
START_TEST(round_trip)
{
    unsigned k = (unsigned)_i / (MAX_TEST_FDS + 1), nfds = (unsigned)_i % (MAX_TEST_FDS + 1);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    int fds[MAX_TEST_FDS];
    int before = vc_test_count_fds();
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE + k, VHOST_USER_NEED_REPLY_MASK);
    m->hdr.size = kinds[k].size;
    fill_pattern(m, (uint8_t)_i);
    for (unsigned i = 0; i < nfds; i++) {
        fds[i] = vc_test_memfd();
        m->fds[i] = fds[i];
    }
    m->nfds = nfds;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);
    /* The sender keeps its fds. */
    for (unsigned i = 0; i < nfds; i++) {
        ck_assert_int_ge(fcntl(fds[i], F_GETFD), 0);
    }
    memset(got, 0xee, sizeof(*got));
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, m->hdr.request);
    ck_assert_uint_eq(got->hdr.flags, 0x9);
    ck_assert_uint_eq(got->hdr.size, kinds[k].size);
    ck_assert_msg(memcmp(got->payload.raw, m->payload.raw, m->hdr.size) == 0, "%s payload differs",
                  kinds[k].kind);
    ck_assert_uint_eq(got->nfds, nfds);
    for (unsigned i = 0; i < nfds; i++) {
        ck_assert_int_ne(got->fds[i], fds[i]);
        ck_assert_msg(vc_test_same_file(got->fds[i], fds[i]), "%s: fd %u is another file",
                      kinds[k].kind, i);
    }
    vc_msg_close_fds(got);
    /* Nothing more is waiting. */
    ck_assert_int_eq(vc_msg_recv(p.b, got, 0), -EAGAIN);
    vc_test_close_all(fds, nfds);
    pair_close(&p);
    ck_assert_int_eq(vc_test_count_fds(), before);
}
END_TEST

/* Two messages with fds sent back to back: each gets its own fds. */
START_TEST(fds_stay_with_their_message)
{
    g_autofree VcMsg *m1 = g_new0(VcMsg, 1);
    g_autofree VcMsg *m2 = g_new0(VcMsg, 1);
    g_autofree VcMsg *m3 = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    int f1[2], f3[3];
    Pair p = pair_new();

    vc_msg_init(m1, VHOST_USER_SET_MEM_TABLE, 0);
    m1->payload.memory.nregions = 2;
    m1->hdr.size = 8 + 64;
    for (unsigned i = 0; i < 2; i++) {
        m1->fds[i] = f1[i] = vc_test_memfd();
    }
    m1->nfds = 2;
    /* A message without fds in between, then one with a zero-size payload and three fds. */
    vc_msg_init(m2, VHOST_USER_SET_VRING_NUM, 0);
    m2->hdr.size = 8;
    vc_msg_init(m3, VHOST_USER_SET_LOG_FD, 0);
    for (unsigned i = 0; i < 3; i++) {
        m3->fds[i] = f3[i] = vc_test_memfd();
    }
    m3->nfds = 3;
    ck_assert_int_eq(vc_msg_send(p.a, m1, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_send(p.a, m3, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_send(p.a, m2, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_send(p.a, m3, LONG_MS), 0);

    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_MEM_TABLE);
    ck_assert_uint_eq(got->nfds, 2);
    ck_assert(vc_test_same_file(got->fds[0], f1[0]));
    ck_assert(vc_test_same_file(got->fds[1], f1[1]));
    vc_msg_close_fds(got);

    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_LOG_FD);
    ck_assert_uint_eq(got->hdr.size, 0);
    ck_assert_uint_eq(got->nfds, 3);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert(vc_test_same_file(got->fds[i], f3[i]));
    }
    vc_msg_close_fds(got);

    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_VRING_NUM);
    ck_assert_uint_eq(got->nfds, 0);

    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_LOG_FD);
    ck_assert_uint_eq(got->nfds, 3);
    vc_msg_close_fds(got);

    vc_test_close_all(f1, 2);
    vc_test_close_all(f3, 3);
    pair_close(&p);
}
END_TEST

typedef struct Writer {
    int sock;
    const uint8_t *buf;
    size_t len;
    size_t split;       /* bytes written first, with the fds */
    const int *fds;
    unsigned nfds;
    int delay_ms;
    bool close_after;   /* close the socket instead of writing the rest */
    int r1, r2;
} Writer;

static gpointer
writer_thread(gpointer data)
{
    Writer *w = data;

    w->r1 = vc_msg_send_raw(w->sock, w->buf, w->split, w->fds, w->nfds, LONG_MS);
    g_usleep((gulong)w->delay_ms * 1000);
    if (w->close_after) {
        close(w->sock);
        w->sock = -1;
        return NULL;
    }
    w->r2 = vc_msg_send_raw(w->sock, w->buf + w->split, w->len - w->split, NULL, 0, LONG_MS);
    return NULL;
}

static size_t
serialize(const VcMsg *m, uint8_t *buf)
{
    memcpy(buf, &m->hdr, sizeof(m->hdr));
    memcpy(buf + sizeof(m->hdr), m->payload.raw, m->hdr.size);
    return sizeof(m->hdr) + m->hdr.size;
}

/* Split points: inside the header, right after it, inside the payload. */
static const size_t splits[] = {1, 5, 11, 12, 13, 30};

/* The rest of a message arrives 50 ms after its start: still one message. */
START_TEST(later_segment)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    g_autofree uint8_t *buf = g_malloc(sizeof(VcMsg));
    int fd = vc_test_memfd();
    Pair p = pair_new();
    Writer w = {0};
    GThread *t;

    vc_msg_init(m, VHOST_USER_SET_VRING_ADDR, 0);
    m->hdr.size = 40;
    fill_pattern(m, 3);
    w.sock = p.a;
    w.buf = buf;
    w.len = serialize(m, buf);
    w.split = splits[_i];
    w.fds = &fd;
    w.nfds = 1;
    w.delay_ms = 50;
    t = g_thread_new("writer", writer_thread, &w);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    g_thread_join(t);
    ck_assert_int_eq(w.r1, 0);
    ck_assert_int_eq(w.r2, 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_VRING_ADDR);
    ck_assert_uint_eq(got->hdr.size, 40);
    ck_assert_int_eq(memcmp(got->payload.raw, m->payload.raw, 40), 0);
    ck_assert_uint_eq(got->nfds, 1);
    ck_assert(vc_test_same_file(got->fds[0], fd));
    vc_msg_close_fds(got);
    close(fd);
    pair_close(&p);
}
END_TEST

/* A message that began with a short poll timeout still gets its rest (VC_MSG_REST_MS). */
START_TEST(later_segment_short_timeout)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    g_autofree uint8_t *buf = g_malloc(sizeof(VcMsg));
    Pair p = pair_new();
    Writer w = {0};
    GThread *t;

    vc_msg_init(m, VHOST_USER_GET_FEATURES, VHOST_USER_REPLY_MASK);
    m->hdr.size = 8;
    m->payload.u64 = 0x123456789abcdefull;
    w.sock = p.a;
    w.buf = buf;
    w.len = serialize(m, buf);
    w.split = 12;
    w.delay_ms = 50;
    t = g_thread_new("writer", writer_thread, &w);
    ck_assert_int_eq(vc_wait_readable(p.b, LONG_MS), 1);
    ck_assert_int_eq(vc_msg_recv(p.b, got, 1), 0);
    g_thread_join(t);
    ck_assert_uint_eq(got->payload.u64, 0x123456789abcdefull);
    pair_close(&p);
}
END_TEST

START_TEST(eof_at_boundary)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_OWNER, 0);
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);
    close(p.a);
    p.a = -1;
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_OWNER);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), -ECONNRESET);
    ck_assert_int_eq(vc_msg_recv(p.b, got, 0), -ECONNRESET);
    pair_close(&p);
}
END_TEST

/* Closed after @_i bytes of a 20-byte message: inside the header or the payload. */
static const size_t cut_at[] = {1, 11, 12, 19};

START_TEST(eof_mid_message)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    uint8_t buf[64];
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_FEATURES, 0);
    m->hdr.size = 8;
    serialize(m, buf);
    ck_assert_int_eq(vc_msg_send_raw(p.a, buf, cut_at[_i], NULL, 0, LONG_MS), 0);
    close(p.a);
    p.a = -1;
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), -EPROTO);
    pair_close(&p);
}
END_TEST

/* The peer closes 50 ms after sending half a message: -EPROTO, not a hang. */
START_TEST(eof_mid_message_later)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    uint8_t buf[64];
    Pair p = pair_new();
    Writer w = {0};
    GThread *t;

    vc_msg_init(m, VHOST_USER_SET_FEATURES, 0);
    m->hdr.size = 8;
    w.sock = p.a;
    w.buf = buf;
    w.len = serialize(m, buf);
    w.split = 14;
    w.delay_ms = 50;
    w.close_after = true;
    p.a = -1;
    t = g_thread_new("writer", writer_thread, &w);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), -EPROTO);
    g_thread_join(t);
    pair_close(&p);
}
END_TEST

START_TEST(timeout_nothing_sent)
{
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    Pair p = pair_new();
    gint64 t0 = g_get_monotonic_time(), waited;

    ck_assert_int_eq(vc_msg_recv(p.b, got, 100), -ETIMEDOUT);
    waited = (g_get_monotonic_time() - t0) / 1000;
    /* poll() never returns early; the upper bound only catches a hang. */
    ck_assert_int_ge(waited, 95);
    ck_assert_int_lt(waited, LONG_MS);
    ck_assert_uint_eq(got->nfds, 0);
    ck_assert_int_eq(vc_msg_recv(p.b, got, 0), -EAGAIN);
    ck_assert_int_eq(vc_wait_readable(p.b, 0), 0);
    pair_close(&p);
}
END_TEST

/* A header without the payload it announces: the stream is out of step (-ETIME). */
START_TEST(timeout_mid_message)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_FEATURES, 0);
    m->hdr.size = 8;
    ck_assert_int_eq(vc_msg_send_raw(p.a, &m->hdr, sizeof(m->hdr), NULL, 0, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_recv(p.b, got, 100), -ETIME);
    ck_assert_uint_eq(got->hdr.size, 8);
    pair_close(&p);
}
END_TEST

START_TEST(oversize_is_skipped)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    g_autofree uint8_t *big = g_malloc0(12 + 5000);
    VhostUserHeader h = {VHOST_USER_SET_CONFIG, 0x1, 5000};
    Pair p = pair_new();

    memcpy(big, &h, sizeof(h));
    memset(big + 12, 0x77, 5000);
    ck_assert_int_eq(vc_msg_send_raw(p.a, big, 12 + 5000, NULL, 0, LONG_MS), 0);
    vc_msg_init(m, VHOST_USER_GET_VRING_BASE, 0);
    m->hdr.size = 8;
    m->payload.state.index = 3;
    m->payload.state.num = 0;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);

    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), -EMSGSIZE);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_SET_CONFIG);
    ck_assert_uint_eq(got->hdr.size, 5000);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.request, VHOST_USER_GET_VRING_BASE);
    ck_assert_uint_eq(got->hdr.size, 8);
    ck_assert_uint_eq(got->payload.state.index, 3);
    pair_close(&p);
}
END_TEST

START_TEST(send_refuses_oversize)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_CONFIG, 0);
    m->hdr.size = VC_MSG_MAX_PAYLOAD + 1;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), -EMSGSIZE);
    m->hdr.size = 0;
    m->nfds = VC_MSG_MAX_FDS + 1;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), -EMSGSIZE);
    /* Nothing went out. */
    ck_assert_int_eq(vc_msg_recv(p.b, got, 0), -EAGAIN);
    pair_close(&p);
}
END_TEST

START_TEST(send_to_closed_peer)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    Pair p = pair_new();

    close(p.b);
    p.b = -1;
    vc_msg_init(m, VHOST_USER_SET_OWNER, 0);
    /* MSG_NOSIGNAL: an error, not SIGPIPE. */
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), -EPIPE);
    pair_close(&p);
}
END_TEST

/* 12 fds on one message: all counted, all ours, all closed afterwards. */
START_TEST(many_fds_counted_and_closed)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    int fds[12];
    int before = vc_test_count_fds(), during;
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    m->payload.memory.nregions = 8;
    m->hdr.size = 8 + 32 * 8;
    for (unsigned i = 0; i < 12; i++) {
        m->fds[i] = fds[i] = vc_test_memfd();
    }
    m->nfds = 12;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);
    vc_test_close_all(fds, 12);
    during = vc_test_count_fds();
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->nfds, 12);
    ck_assert_int_eq(vc_test_count_fds(), during + 12);
    /* The validator sees the surplus. */
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, got), VC_MSG_FAULT_FDS);
    vc_msg_close_fds(got);
    ck_assert_uint_eq(got->nfds, 0);
    pair_close(&p);
    ck_assert_int_eq(vc_test_count_fds(), before);
}
END_TEST

/*
 * More fds than the receive table holds, spread over the header and a later
 * payload segment: every one is counted and none is left open.
 */
START_TEST(fds_beyond_table_closed)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    uint8_t buf[12 + 40];
    int fds[20];
    int before = vc_test_count_fds();
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_ADD_MEM_REG, 0);
    m->hdr.size = 40;
    serialize(m, buf);
    for (unsigned i = 0; i < 20; i++) {
        fds[i] = vc_test_memfd();
    }
    ck_assert_int_eq(vc_msg_send_raw(p.a, buf, 12, fds, 20, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_send_raw(p.a, buf + 12, 40, fds, 20, LONG_MS), 0);
    vc_test_close_all(fds, 20);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->hdr.size, 40);
    ck_assert_uint_eq(got->nfds, 40);
    for (unsigned i = 0; i < VC_MSG_MAX_FDS; i++) {
        ck_assert_int_ge(fcntl(got->fds[i], F_GETFD), 0);
    }
    /* Only the table's fds are still open. */
    ck_assert_int_eq(vc_test_count_fds(), before + 2 + (int)VC_MSG_MAX_FDS);
    vc_msg_close_fds(got);
    pair_close(&p);
    ck_assert_int_eq(vc_test_count_fds(), before);
}
END_TEST

/* More fds than the receive buffer takes in one go: the kernel drops the rest; nothing leaks. */
START_TEST(fds_beyond_cmsg_buffer)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    int fds[40];
    int before = vc_test_count_fds();
    Pair p = pair_new();

    vc_msg_init(m, VHOST_USER_SET_OWNER, 0);
    for (unsigned i = 0; i < 40; i++) {
        fds[i] = vc_test_memfd();
    }
    ck_assert_int_eq(vc_msg_send_raw(p.a, &m->hdr, 12, fds, 40, LONG_MS), 0);
    vc_test_close_all(fds, 40);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->nfds, VC_MSG_MAX_FDS);
    vc_msg_close_fds(got);
    pair_close(&p);
    ck_assert_int_eq(vc_test_count_fds(), before);
}
END_TEST

START_TEST(received_fds_cloexec)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    g_autofree VcMsg *got = g_new0(VcMsg, 1);
    int fds[3];
    Pair p = pair_new();

    ck_assert_int_eq(pipe(fds), 0);
    fds[2] = vc_test_memfd();
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_eq(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, 0);
        m->fds[i] = fds[i];
    }
    vc_msg_init(m, VHOST_USER_SET_VRING_KICK, 0);
    m->hdr.size = 8;
    m->nfds = 3;
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_recv(p.b, got, LONG_MS), 0);
    ck_assert_uint_eq(got->nfds, 3);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_eq(fcntl(got->fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    }
    vc_msg_close_fds(got);
    vc_test_close_all(fds, 3);
    pair_close(&p);
}
END_TEST

START_TEST(wait_readable)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    Pair p = pair_new();
    int64_t t0 = vc_now_ms();

    ck_assert_int_ge(t0, 0);
    ck_assert_int_eq(vc_wait_readable(p.b, 0), 0);
    ck_assert_int_eq(vc_wait_readable(p.b, 20), 0);
    ck_assert_int_ge(vc_now_ms(), t0 + 19);
    vc_msg_init(m, VHOST_USER_SET_OWNER, 0);
    ck_assert_int_eq(vc_msg_send(p.a, m, LONG_MS), 0);
    ck_assert_int_eq(vc_wait_readable(p.b, LONG_MS), 1);
    /* A hang-up also counts as readable. */
    close(p.a);
    p.a = -1;
    ck_assert_int_eq(vc_wait_readable(p.b, LONG_MS), 1);
    ck_assert_int_eq(vc_wait_readable(-1, 0), 0);
    pair_close(&p);
}
END_TEST

START_TEST(send_raw_empty)
{
    Pair p = pair_new();
    g_autofree VcMsg *got = g_new0(VcMsg, 1);

    ck_assert_int_eq(vc_msg_send_raw(p.a, "", 0, NULL, 0, LONG_MS), 0);
    ck_assert_int_eq(vc_msg_recv(p.b, got, 0), -EAGAIN);
    pair_close(&p);
}
END_TEST

static Suite *
msg_io_suite(void)
{
    Suite *s = suite_create("msg-io");
    TCase *tc;

    tc = tcase_create("round-trip");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, round_trip, 0, G_N_ELEMENTS(kinds) * (MAX_TEST_FDS + 1));
    tcase_add_test(tc, fds_stay_with_their_message);
    tcase_add_loop_test(tc, later_segment, 0, G_N_ELEMENTS(splits));
    tcase_add_test(tc, later_segment_short_timeout);
    tcase_add_test(tc, send_raw_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, eof_at_boundary);
    tcase_add_loop_test(tc, eof_mid_message, 0, G_N_ELEMENTS(cut_at));
    tcase_add_test(tc, eof_mid_message_later);
    tcase_add_test(tc, timeout_nothing_sent);
    tcase_add_test(tc, timeout_mid_message);
    tcase_add_test(tc, oversize_is_skipped);
    tcase_add_test(tc, send_refuses_oversize);
    tcase_add_test(tc, send_to_closed_peer);
    tcase_add_test(tc, wait_readable);
    suite_add_tcase(s, tc);

    tc = tcase_create("fds");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, many_fds_counted_and_closed);
    tcase_add_test(tc, fds_beyond_table_closed);
    tcase_add_test(tc, fds_beyond_cmsg_buffer);
    tcase_add_test(tc, received_fds_cloexec);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(msg_io_suite());
}
