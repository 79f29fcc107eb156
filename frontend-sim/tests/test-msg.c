/*
 * test-msg.c -- the wire codec (wire/vc-msg.c): request table, syntax
 * validators, reply rules and the one-line formatters.
 *
 * The expected rows below are written out again from SPEC-FACTS.md sections
 * 3 and 4 instead of being read back from vc-msg-table.h, so that a wrong
 * row in the table makes these tests fail.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vc-msg.h"
#include "vc-test-util.h"

typedef struct ExpRow {
    VcChannel ch;
    uint32_t id;
    const char *name;          /* without "VHOST_USER_" */
    VcPayloadKind payload;
    VcFdRule fds;
    VcReplyRule reply;
    VcPayloadKind reply_payload;
    VcFdRule reply_fds;
} ExpRow;

#define M(id, n, pl, fds, rep, rpl, rfds) {VC_CHAN_MAIN, id, n, pl, fds, rep, rpl, rfds}
#define B(id, n, pl, fds, rep, rpl, rfds) {VC_CHAN_BACKEND, id, n, pl, fds, rep, rpl, rfds}

static const ExpRow rows[] = {
    M(1, "GET_FEATURES", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(2, "SET_FEATURES", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(3, "SET_OWNER", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(4, "RESET_OWNER", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(5, "SET_MEM_TABLE", VC_PL_MEM_TABLE, VC_FDS_PER_REGION, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    M(6, "SET_LOG_BASE", VC_PL_LOG, VC_FDS_OPT_ONE, VC_REPLY_IF_LOG_SHMFD, VC_PL_ANY, VC_FDS_NONE),
    M(7, "SET_LOG_FD", VC_PL_NONE, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(8, "SET_VRING_NUM", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(9, "SET_VRING_ADDR", VC_PL_VRING_ADDR, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(10, "SET_VRING_BASE", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(11, "GET_VRING_BASE", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_VRING_STATE,
      VC_FDS_NONE),
    M(12, "SET_VRING_KICK", VC_PL_U64, VC_FDS_UNLESS_NOFD, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(13, "SET_VRING_CALL", VC_PL_U64, VC_FDS_UNLESS_NOFD, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(14, "SET_VRING_ERR", VC_PL_U64, VC_FDS_UNLESS_NOFD, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(15, "GET_PROTOCOL_FEATURES", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64,
      VC_FDS_NONE),
    M(16, "SET_PROTOCOL_FEATURES", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(17, "GET_QUEUE_NUM", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(18, "SET_VRING_ENABLE", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    M(19, "SEND_RARP", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(20, "NET_SET_MTU", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(21, "SET_BACKEND_REQ_FD", VC_PL_NONE, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(22, "IOTLB_MSG", VC_PL_IOTLB, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(23, "SET_VRING_ENDIAN", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    M(24, "GET_CONFIG", VC_PL_CONFIG, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_CONFIG_REPLY,
      VC_FDS_NONE),
    M(25, "SET_CONFIG", VC_PL_CONFIG, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(26, "CREATE_CRYPTO_SESSION", VC_PL_OPAQUE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_SAME_SIZE,
      VC_FDS_NONE),
    M(27, "CLOSE_CRYPTO_SESSION", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(28, "POSTCOPY_ADVISE", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_NONE, VC_FDS_ONE),
    M(29, "POSTCOPY_LISTEN", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_IF_NEED_REPLY, VC_PL_U64,
      VC_FDS_NONE),
    M(30, "POSTCOPY_END", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(31, "GET_INFLIGHT_FD", VC_PL_INFLIGHT, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_INFLIGHT,
      VC_FDS_INFLIGHT),
    M(32, "SET_INFLIGHT_FD", VC_PL_INFLIGHT, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(33, "GPU_SET_SOCKET", VC_PL_NONE, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(34, "RESET_DEVICE", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(35, "VRING_KICK", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(36, "GET_MAX_MEM_SLOTS", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(37, "ADD_MEM_REG", VC_PL_MEM_REG, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(38, "REM_MEM_REG", VC_PL_MEM_REG, VC_FDS_OPT_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(39, "SET_STATUS", VC_PL_U64, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    M(40, "GET_STATUS", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64, VC_FDS_NONE),
    M(41, "GET_SHARED_OBJECT", VC_PL_SHARED, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64,
      VC_FDS_OPT_ONE),
    M(42, "SET_DEVICE_STATE_FD", VC_PL_DEVSTATE, VC_FDS_ONE, VC_REPLY_ALWAYS, VC_PL_U64,
      VC_FDS_DEVSTATE),
    M(43, "CHECK_DEVICE_STATE", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64,
      VC_FDS_NONE),
    M(44, "GET_SHMEM_CONFIG", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_SHMEM_CONFIG,
      VC_FDS_NONE),
    B(1, "BACKEND_IOTLB_MSG", VC_PL_IOTLB, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    B(2, "BACKEND_CONFIG_CHANGE_MSG", VC_PL_NONE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    B(3, "BACKEND_VRING_HOST_NOTIFIER_MSG", VC_PL_VRING_AREA, VC_FDS_UNLESS_NOFD, VC_REPLY_ACK,
      VC_PL_U64, VC_FDS_NONE),
    B(4, "BACKEND_VRING_CALL", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    B(5, "BACKEND_VRING_ERR", VC_PL_VRING_STATE, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    B(6, "BACKEND_SHARED_OBJECT_ADD", VC_PL_SHARED, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    B(7, "BACKEND_SHARED_OBJECT_REMOVE", VC_PL_SHARED, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64,
      VC_FDS_NONE),
    B(8, "BACKEND_SHARED_OBJECT_LOOKUP", VC_PL_SHARED, VC_FDS_NONE, VC_REPLY_ALWAYS, VC_PL_U64,
      VC_FDS_OPT_ONE),
    B(9, "BACKEND_SHMEM_MAP", VC_PL_MMAP, VC_FDS_ONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
    B(10, "BACKEND_SHMEM_UNMAP", VC_PL_MMAP, VC_FDS_NONE, VC_REPLY_ACK, VC_PL_U64, VC_FDS_NONE),
};

#undef M
#undef B

#define N_ROWS G_N_ELEMENTS(rows)
#define REGIONS 2          /* regions in the canonical SET_MEM_TABLE */
#define CFG_BYTES 4        /* config bytes in the canonical GET/SET_CONFIG */
#define OPAQUE_BYTES 64    /* size of the canonical crypto session */

/* Wire sizes of the fixed payload kinds, from SPEC-FACTS.md 2.2; -1 for variable kinds. */
static int
exp_fixed_size(VcPayloadKind k)
{
    switch (k) {
    case VC_PL_NONE:
        return 0;
    case VC_PL_U64:
    case VC_PL_VRING_STATE:
    case VC_PL_DEVSTATE:
        return 8;
    case VC_PL_LOG:
    case VC_PL_SHARED:
        return 16;
    case VC_PL_INFLIGHT:
    case VC_PL_VRING_AREA:
        return 24;
    case VC_PL_IOTLB:
        return 32;
    case VC_PL_VRING_ADDR:
    case VC_PL_MEM_REG:
    case VC_PL_MMAP:
        return 40;
    case VC_PL_SHMEM_CONFIG:
        return 2056;
    default:
        return -1;
    }
}

static unsigned
canonical_nfds(VcFdRule rule, const VcMsg *m)
{
    switch (rule) {
    case VC_FDS_ONE:
    case VC_FDS_UNLESS_NOFD:
        return 1;
    case VC_FDS_PER_REGION:
        return m->payload.memory.nregions;
    case VC_FDS_INFLIGHT:
        return m->payload.inflight.mmap_size ? 1 : 0;
    case VC_FDS_DEVSTATE:
        return 1;
    default:
        return 0;
    }
}

static void
set_nfds(VcMsg *m, unsigned n)
{
    /* The validators only count fds; -1 keeps vc_msg_close_fds() away from real ones. */
    for (unsigned i = 0; i < VC_MSG_MAX_FDS; i++) {
        m->fds[i] = -1;
    }
    m->nfds = n;
}

/* A well-formed request of canonical size for row @e. */
static void
make_request(const ExpRow *e, VcMsg *m)
{
    int fixed = exp_fixed_size(e->payload);

    vc_msg_init(m, e->id, 0);
    switch (e->payload) {
    case VC_PL_MEM_TABLE:
        m->payload.memory.nregions = REGIONS;
        m->hdr.size = 8 + 32 * REGIONS;
        break;
    case VC_PL_CONFIG:
        m->payload.config.size = CFG_BYTES;
        m->hdr.size = 12 + CFG_BYTES;
        break;
    case VC_PL_OPAQUE:
        m->hdr.size = OPAQUE_BYTES;
        break;
    default:
        ck_assert_int_ge(fixed, 0);
        m->hdr.size = (uint32_t)fixed;
        break;
    }
    set_nfds(m, canonical_nfds(e->fds, m));
}

/* Size of the correct reply to @req for row @e (acks are u64). */
static uint32_t
exp_reply_size(const ExpRow *e, const VcMsg *req)
{
    switch (e->reply_payload) {
    case VC_PL_CONFIG_REPLY:
    case VC_PL_SAME_SIZE:
        return req->hdr.size;
    case VC_PL_ANY:
        return 8;
    default:
        return (uint32_t)exp_fixed_size(e->reply_payload);
    }
}

/* The reply QEMU would accept for @req. */
static void
make_reply(const ExpRow *e, const VcMsg *req, VcMsg *r)
{
    vc_msg_init(r, e->id, VHOST_USER_REPLY_MASK);
    r->hdr.size = exp_reply_size(e, req);
    if (e->reply_payload == VC_PL_INFLIGHT) {
        r->payload.inflight.mmap_size = 4096;
        r->payload.inflight.num_queues = 1;
        r->payload.inflight.queue_size = 256;
    }
    set_nfds(r, canonical_nfds(e->reply_fds, r));
}

static const char *
fault_names(unsigned f, char *buf, size_t len)
{
    g_snprintf(buf, len, "0x%x", f);
    return buf;
}

#define ck_faults(got, want, what)                                                       \
    do {                                                                                 \
        unsigned g_ = (got), w_ = (want);                                                \
        char gb_[16], wb_[16];                                                           \
        ck_assert_msg(g_ == w_, "%s %s: faults %s, want %s", e->name, what,              \
                      fault_names(g_, gb_, sizeof(gb_)), fault_names(w_, wb_, sizeof(wb_))); \
    } while (0)

/* --- Table and names --------------------------------------------------------------- */

START_TEST(table_counts)
{
    unsigned nmain = 0, nback = 0;

    for (uint32_t id = 0; id < 300; id++) {
        nmain += vc_msg_info(VC_CHAN_MAIN, id) != NULL;
        nback += vc_msg_info(VC_CHAN_BACKEND, id) != NULL;
    }
    ck_assert_uint_eq(nmain, 44);
    ck_assert_uint_eq(nback, 10);
    ck_assert_uint_eq(N_ROWS, 54);
}
END_TEST

START_TEST(row_matches_spec)
{
    const ExpRow *e = &rows[_i];
    const VcMsgInfo *info = vc_msg_info(e->ch, e->id);

    ck_assert_ptr_nonnull(info);
    ck_assert_uint_eq(info->request, e->id);
    ck_assert_str_eq(info->short_name, e->name);
    ck_assert_int_eq(info->payload, e->payload);
    ck_assert_int_eq(info->fds, e->fds);
    ck_assert_int_eq(info->reply, e->reply);
    ck_assert_int_eq(info->reply_payload, e->reply_payload);
    ck_assert_int_eq(info->reply_fds, e->reply_fds);
}
END_TEST

START_TEST(name_round_trip)
{
    const ExpRow *e = &rows[_i];
    g_autofree char *full = g_strconcat("VHOST_USER_", e->name, NULL);
    g_autofree char *lower = g_ascii_strdown(e->name, -1);
    g_autofree char *lower_full = g_ascii_strdown(full, -1);
    VcChannel ch = e->ch == VC_CHAN_MAIN ? VC_CHAN_BACKEND : VC_CHAN_MAIN;

    ck_assert_str_eq(vc_msg_name(e->ch, e->id), full);
    ck_assert_str_eq(vc_msg_short_name(e->ch, e->id), e->name);
    ck_assert_uint_eq(vc_msg_lookup_name(vc_msg_name(e->ch, e->id), &ch), e->id);
    ck_assert_int_eq(ch, e->ch);
    ch = e->ch == VC_CHAN_MAIN ? VC_CHAN_BACKEND : VC_CHAN_MAIN;
    ck_assert_uint_eq(vc_msg_lookup_name(e->name, &ch), e->id);
    ck_assert_int_eq(ch, e->ch);
    ck_assert_uint_eq(vc_msg_lookup_name(lower, &ch), e->id);
    ck_assert_uint_eq(vc_msg_lookup_name(lower_full, &ch), e->id);
    ck_assert_int_eq(ch, e->ch);
}
END_TEST

START_TEST(name_unknown)
{
    VcChannel ch = VC_CHAN_BACKEND;

    ck_assert_uint_eq(vc_msg_lookup_name("NOT_A_REQUEST", &ch), 0);
    ck_assert_uint_eq(vc_msg_lookup_name("VHOST_USER_", &ch), 0);
    ck_assert_uint_eq(vc_msg_lookup_name("", &ch), 0);
    /* The old names are not accepted: the table keeps the current spelling only. */
    ck_assert_uint_eq(vc_msg_lookup_name("VHOST_USER_SET_SLAVE_REQ_FD", &ch), 0);
    ck_assert_str_eq(vc_msg_name(VC_CHAN_MAIN, 0), "UNKNOWN");
    ck_assert_str_eq(vc_msg_name(VC_CHAN_MAIN, 45), "UNKNOWN");
    ck_assert_str_eq(vc_msg_short_name(VC_CHAN_BACKEND, 11), "UNKNOWN");
    ck_assert_ptr_null(vc_msg_info(VC_CHAN_MAIN, 0xffffffffu));
    ck_assert_ptr_null(vc_msg_info(VC_CHAN_BACKEND, 0));
}
END_TEST

START_TEST(feature_names)
{
    ck_assert_str_eq(vc_feature_name(30), "PROTOCOL_FEATURES");
    ck_assert_str_eq(vc_feature_name(32), "VERSION_1");
    ck_assert_str_eq(vc_feature_name(29), "EVENT_IDX");
    ck_assert_str_eq(vc_feature_name(26), "LOG_ALL");
    ck_assert_ptr_null(vc_feature_name(0));
    ck_assert_ptr_null(vc_feature_name(64));
    ck_assert_str_eq(vc_pfeature_name(0), "MQ");
    ck_assert_str_eq(vc_pfeature_name(3), "REPLY_ACK");
    ck_assert_str_eq(vc_pfeature_name(5), "BACKEND_REQ");
    ck_assert_str_eq(vc_pfeature_name(15), "CONFIGURE_MEM_SLOTS");
    ck_assert_str_eq(vc_pfeature_name(22), "SHMEM");
    ck_assert_ptr_null(vc_pfeature_name(23));
}
END_TEST

/* --- Requests ------------------------------------------------------------------------- */

START_TEST(request_canonical_ok)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    uint32_t size;

    make_request(e, m);
    ck_faults(vc_msg_check_request(e->ch, m), 0, "canonical request");
    /* NEED_REPLY is legal on every request. */
    m->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
    ck_faults(vc_msg_check_request(e->ch, m), 0, "request with NEED_REPLY");
    /* vc_msg_set_size() computes the same canonical size (opaque sizes are left alone). */
    size = m->hdr.size;
    m->hdr.size = 4242;
    vc_msg_set_size(e->ch, m);
    ck_assert_uint_eq(m->hdr.size, e->payload == VC_PL_OPAQUE ? 4242 : size);
}
END_TEST

/* What a request of row @e with payload size @size must give. */
static unsigned
exp_size_fault(const ExpRow *e, uint32_t size, uint32_t canonical)
{
    if (size > VC_MSG_MAX_PAYLOAD) {
        return VC_MSG_FAULT_SIZE;
    }
    switch (e->payload) {
    case VC_PL_OPAQUE:
        return 0;
    case VC_PL_MEM_TABLE:
        /* Not 8 + 32 * n with n <= 8: SIZE; a table shape other than nregions says: FIELD. */
        if (size < 8 || (size - 8) % 32 != 0 || (size - 8) / 32 > 8) {
            return VC_MSG_FAULT_SIZE;
        }
        return size == canonical ? 0 : VC_MSG_FAULT_FIELD;
    case VC_PL_CONFIG:
        /* Too short for the config header: SIZE; disagreeing with config.size: FIELD. */
        if (size < 12) {
            return VC_MSG_FAULT_SIZE;
        }
        return size == canonical ? 0 : VC_MSG_FAULT_FIELD;
    default:
        return size == canonical ? 0 : VC_MSG_FAULT_SIZE;
    }
}

START_TEST(request_size)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    uint32_t canonical;
    const uint32_t deltas[] = {1, (uint32_t)-1, 8, 32};

    make_request(e, m);
    canonical = m->hdr.size;
    for (unsigned i = 0; i < G_N_ELEMENTS(deltas); i++) {
        uint32_t s = canonical + deltas[i];
        char what[32];
        if (canonical == 0 && deltas[i] == (uint32_t)-1) {
            continue;
        }
        m->hdr.size = s;
        g_snprintf(what, sizeof(what), "size %u", s);
        ck_faults(vc_msg_check_request(e->ch, m), exp_size_fault(e, s, canonical), what);
    }
    if (canonical != 0) {
        m->hdr.size = 0;
        ck_faults(vc_msg_check_request(e->ch, m),
                  e->payload == VC_PL_OPAQUE ? 0 : VC_MSG_FAULT_SIZE, "size 0");
    }
    m->hdr.size = VC_MSG_MAX_PAYLOAD + 1;
    ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_SIZE, "size 4097");
    m->hdr.size = 0xffffffffu;
    ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_SIZE, "size 0xffffffff");
}
END_TEST

START_TEST(request_fds)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    unsigned n;

    make_request(e, m);
    n = m->nfds;
    switch (e->fds) {
    case VC_FDS_NONE:
        ck_assert_uint_eq(n, 0);
        set_nfds(m, 1);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "1 fd");
        set_nfds(m, 8);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "8 fds");
        break;
    case VC_FDS_ONE:
        ck_assert_uint_eq(n, 1);
        set_nfds(m, 0);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "0 fds");
        set_nfds(m, 2);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "2 fds");
        break;
    case VC_FDS_OPT_ONE:
        set_nfds(m, 0);
        ck_faults(vc_msg_check_request(e->ch, m), 0, "0 fds");
        set_nfds(m, 1);
        ck_faults(vc_msg_check_request(e->ch, m), 0, "1 fd");
        set_nfds(m, 2);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "2 fds");
        break;
    case VC_FDS_PER_REGION:
        ck_assert_uint_eq(n, REGIONS);
        set_nfds(m, REGIONS - 1);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "one fd short");
        set_nfds(m, REGIONS + 1);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "one fd extra");
        set_nfds(m, 0);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "no fds");
        break;
    case VC_FDS_UNLESS_NOFD:
        /* Index 5 without the NOFD bit wants one fd; with it, none. */
        m->payload.u64 = 5;
        set_nfds(m, 0);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "no fd, NOFD clear");
        set_nfds(m, 2);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "2 fds, NOFD clear");
        set_nfds(m, 1);
        ck_faults(vc_msg_check_request(e->ch, m), 0, "1 fd, NOFD clear");
        m->payload.u64 = 5 | VHOST_USER_VRING_NOFD_MASK;
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FDS, "1 fd, NOFD set");
        set_nfds(m, 0);
        ck_faults(vc_msg_check_request(e->ch, m), 0, "no fd, NOFD set");
        break;
    default:
        ck_abort_msg("%s: request fd rule %d not expected", e->name, e->fds);
    }
}
END_TEST

START_TEST(request_version)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    make_request(e, m);
    for (uint32_t v = 0; v < 4; v++) {
        char what[32];
        m->hdr.flags = v;
        g_snprintf(what, sizeof(what), "version %u", v);
        ck_faults(vc_msg_check_request(e->ch, m), v == 1 ? 0 : VC_MSG_FAULT_VERSION, what);
    }
}
END_TEST

START_TEST(request_reply_bit)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    make_request(e, m);
    m->hdr.flags = 0x5;
    ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_REPLY_BIT, "flags 0x5");
    m->hdr.flags = 0xd;
    ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_REPLY_BIT, "flags 0xd");
}
END_TEST

START_TEST(request_undefined_flags)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    make_request(e, m);
    for (unsigned bit = 4; bit < 32; bit++) {
        char what[32];
        m->hdr.flags = 0x1u | (1u << bit);
        g_snprintf(what, sizeof(what), "flag bit %u", bit);
        ck_faults(vc_msg_check_request(e->ch, m), VC_MSG_FAULT_FLAGS, what);
    }
    /* Faults combine: version 3, REPLY set and bit 31 at once. */
    m->hdr.flags = 0x80000007u;
    ck_faults(vc_msg_check_request(e->ch, m),
              VC_MSG_FAULT_VERSION | VC_MSG_FAULT_REPLY_BIT | VC_MSG_FAULT_FLAGS, "0x80000007");
}
END_TEST

static const uint32_t unknown_main[] = {0, 45, 200, 0xffffffffu};
static const uint32_t unknown_backend[] = {0, 11, 45, 200, 0xffffffffu};

START_TEST(request_unknown)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    vc_msg_init(m, unknown_main[_i], 0);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_UNKNOWN);
    m->hdr.size = 8;
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_UNKNOWN);
    m->hdr.flags = 0x2;
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m),
                      VC_MSG_FAULT_UNKNOWN | VC_MSG_FAULT_VERSION);
}
END_TEST

START_TEST(request_unknown_backend)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    vc_msg_init(m, unknown_backend[_i], VHOST_USER_NEED_REPLY_MASK);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_BACKEND, m), VC_MSG_FAULT_UNKNOWN);
}
END_TEST

/* SET_MEM_TABLE with 0..8 regions is fine; 9 is not (loop index = nregions). */
START_TEST(mem_table_nregions)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    uint32_t n = (uint32_t)_i;

    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    m->payload.memory.nregions = n;
    m->hdr.size = 8 + 32 * n;
    set_nfds(m, n);
    if (n <= 8) {
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
        vc_msg_set_size(VC_CHAN_MAIN, m);
        ck_assert_uint_eq(m->hdr.size, 8 + 32 * n);
    } else {
        /* 9 regions do not fit the table at all. */
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_SIZE);
        /* The full 8-entry table claiming 9: the count disagrees with the size. */
        vc_msg_set_size(VC_CHAN_MAIN, m);
        ck_assert_uint_eq(m->hdr.size, 8 + 32 * 8);
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
    }
}
END_TEST

START_TEST(mem_table_field_mismatch)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    m->payload.memory.nregions = 2;
    m->hdr.size = 8 + 32 * 3;
    set_nfds(m, 2);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
    m->hdr.size = 8 + 32 * 1;
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
    m->payload.memory.nregions = 0;
    m->hdr.size = 8 + 32;
    set_nfds(m, 0);
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
    /* Too short for the nregions header at all. */
    m->hdr.size = 4;
    ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_SIZE);
    ck_assert_uint_eq(vc_msg_payload_fits(VC_PL_MEM_TABLE, m, NULL), VC_MSG_FAULT_SIZE);
}
END_TEST

START_TEST(config_sizes)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    for (uint32_t req = VHOST_USER_GET_CONFIG; req <= VHOST_USER_SET_CONFIG; req++) {
        vc_msg_init(m, req, 0);
        m->payload.config.size = 256;
        m->hdr.size = 12 + 256;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
        m->payload.config.size = 0;
        m->hdr.size = 12;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), 0);
        /* More config bytes than QEMU's 256. */
        m->payload.config.size = 257;
        m->hdr.size = 12 + 257;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
        vc_msg_set_size(VC_CHAN_MAIN, m);
        ck_assert_uint_eq(m->hdr.size, 12 + 256);
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
        /* Header size and config.size disagree. */
        m->payload.config.size = 8;
        m->hdr.size = 12 + 4;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
        m->hdr.size = 12 + 16;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_FIELD);
        /* Shorter than the config header. */
        m->hdr.size = 11;
        ck_assert_uint_eq(vc_msg_check_request(VC_CHAN_MAIN, m), VC_MSG_FAULT_SIZE);
    }
}
END_TEST

/* --- Replies ------------------------------------------------------------------------- */

START_TEST(reply_canonical_ok)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);

    make_request(e, req);
    make_reply(e, req, rep);
    ck_assert_uint_eq(rep->hdr.flags, 0x5);
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), 0, "correct reply");
    /* A request that asked for an ack is answered the same way. */
    req->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), 0, "correct reply to NEED_REPLY");
    ck_assert_int_eq(vc_msg_reply_kind(e->ch, req, false), e->reply_payload);
}
END_TEST

static const struct {
    uint32_t flags;
    unsigned fault;
} bad_reply_flags[] = {
    {0x1, VC_MSG_FAULT_REPLY_BIT},
    {0x0, VC_MSG_FAULT_REPLY_BIT | VC_MSG_FAULT_VERSION},
    {0x4, VC_MSG_FAULT_VERSION},
    {0x6, VC_MSG_FAULT_VERSION},
    {0x7, VC_MSG_FAULT_VERSION},
    {0xd, VC_MSG_FAULT_FLAGS},
    {0x15, VC_MSG_FAULT_FLAGS},
    {0x80000005u, VC_MSG_FAULT_FLAGS},
    {0x9, VC_MSG_FAULT_REPLY_BIT | VC_MSG_FAULT_FLAGS},
};

START_TEST(reply_bad_flags)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);

    make_request(e, req);
    make_reply(e, req, rep);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad_reply_flags); i++) {
        char what[32];
        rep->hdr.flags = bad_reply_flags[i].flags;
        g_snprintf(what, sizeof(what), "reply flags 0x%x", rep->hdr.flags);
        ck_faults(vc_msg_check_reply(e->ch, req, rep, false), bad_reply_flags[i].fault, what);
    }
}
END_TEST

START_TEST(reply_other_request)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    uint32_t max = e->ch == VC_CHAN_MAIN ? 44 : 10;

    make_request(e, req);
    make_reply(e, req, rep);
    rep->hdr.request = e->id % max + 1;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), VC_MSG_FAULT_REQUEST, "other id");
    rep->hdr.request = 0;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), VC_MSG_FAULT_REQUEST, "id 0");
    rep->hdr.request = 1000;
    rep->hdr.flags = 0x1;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false),
              VC_MSG_FAULT_REQUEST | VC_MSG_FAULT_REPLY_BIT, "id 1000, flags 0x1");
}
END_TEST

START_TEST(reply_size)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    uint32_t size;
    unsigned want = e->reply_payload == VC_PL_ANY ? 0 : VC_MSG_FAULT_SIZE;

    make_request(e, req);
    make_reply(e, req, rep);
    size = rep->hdr.size;
    rep->hdr.size = size + 1;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), want, "size + 1");
    if (size > 0) {
        rep->hdr.size = size - 1;
        ck_faults(vc_msg_check_reply(e->ch, req, rep, false), want, "size - 1");
    }
    rep->hdr.size = VC_MSG_MAX_PAYLOAD + 1;
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), VC_MSG_FAULT_SIZE, "size 4097");
}
END_TEST

START_TEST(reply_fds)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    unsigned n;

    make_request(e, req);
    make_reply(e, req, rep);
    n = rep->nfds;
    /* One fd too many (an optional fd is legal, so two over it). */
    set_nfds(rep, n + (e->reply_fds == VC_FDS_OPT_ONE ? 2 : 1));
    ck_faults(vc_msg_check_reply(e->ch, req, rep, false), VC_MSG_FAULT_FDS, "extra fd");
    if (e->reply_fds == VC_FDS_OPT_ONE) {
        set_nfds(rep, 1);
        ck_faults(vc_msg_check_reply(e->ch, req, rep, false), 0, "optional fd");
    }
    if (n > 0) {
        set_nfds(rep, n - 1);
        ck_faults(vc_msg_check_reply(e->ch, req, rep, false), VC_MSG_FAULT_FDS, "missing fd");
    }
}
END_TEST

START_TEST(reply_get_config)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    static const uint32_t bad[] = {12, 12 + 15, 12 + 17, 8, 12 + 256};

    vc_msg_init(req, VHOST_USER_GET_CONFIG, 0);
    req->payload.config.size = 16;
    req->hdr.size = 12 + 16;
    vc_msg_init(rep, VHOST_USER_GET_CONFIG, VHOST_USER_REPLY_MASK);
    rep->payload.config.size = 16;
    rep->hdr.size = 12 + 16;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);
    /* vhost-user.rst GET_CONFIG: an empty payload reports an error and is well-formed. */
    rep->hdr.size = 0;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        rep->hdr.size = bad[i];
        ck_assert_msg(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false) == VC_MSG_FAULT_SIZE,
                      "GET_CONFIG reply of size %u accepted", bad[i]);
    }
}
END_TEST

START_TEST(reply_get_inflight_fd)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_GET_INFLIGHT_FD, 0);
    req->hdr.size = 24;
    vc_msg_init(rep, VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_REPLY_MASK);
    rep->hdr.size = 24;
    rep->payload.inflight.mmap_size = 8192;
    set_nfds(rep, 1);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);
    set_nfds(rep, 0);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), VC_MSG_FAULT_FDS);
    /* mmap_size 0: no inflight buffer and no fd. */
    rep->payload.inflight.mmap_size = 0;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);
    set_nfds(rep, 1);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), VC_MSG_FAULT_FDS);
}
END_TEST

static const struct {
    uint64_t u64;
    unsigned nfds;
    unsigned fault;
} devstate_cases[] = {
    {0x0, 1, 0},
    {0x0, 0, VC_MSG_FAULT_FDS},
    {0x0, 2, VC_MSG_FAULT_FDS},
    {0x100, 0, 0},                  /* bit 8: "no fd returned" */
    {0x100, 1, VC_MSG_FAULT_FDS},
    {0x1, 0, 0},                    /* error byte set: no fd */
    {0x1, 1, VC_MSG_FAULT_FDS},
    {0xff, 0, 0},
    {0x101, 0, 0},
    {0x101, 1, VC_MSG_FAULT_FDS},
    {0x200, 1, 0},                  /* bits above 8 are neither error nor "no fd" */
};

START_TEST(reply_set_device_state_fd)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    unsigned lo, hi;

    vc_msg_init(req, VHOST_USER_SET_DEVICE_STATE_FD, 0);
    req->hdr.size = 8;
    set_nfds(req, 1);
    vc_msg_init(rep, VHOST_USER_SET_DEVICE_STATE_FD, VHOST_USER_REPLY_MASK);
    rep->hdr.size = 8;
    rep->payload.u64 = devstate_cases[_i].u64;
    set_nfds(rep, devstate_cases[_i].nfds);
    ck_assert_msg(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false) == devstate_cases[_i].fault,
                  "u64 0x%" G_GINT64_MODIFIER "x with %u fds: faults 0x%x, want 0x%x",
                  devstate_cases[_i].u64, devstate_cases[_i].nfds,
                  vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), devstate_cases[_i].fault);
    vc_msg_expected_fds(VC_FDS_DEVSTATE, rep, &lo, &hi);
    ck_assert_uint_eq(lo, hi);
}
END_TEST

START_TEST(reply_postcopy)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);

    /* SET_MEM_TABLE: after POSTCOPY_LISTEN the reply is the table with the back end's bases. */
    vc_msg_init(req, VHOST_USER_SET_MEM_TABLE, 0);
    req->payload.memory.nregions = 2;
    req->hdr.size = 8 + 64;
    set_nfds(req, 2);
    ck_assert_int_eq(vc_msg_reply_kind(VC_CHAN_MAIN, req, true), VC_PL_SAME_SIZE);
    ck_assert_int_eq(vc_msg_reply_kind(VC_CHAN_MAIN, req, false), VC_PL_U64);
    vc_msg_init(rep, VHOST_USER_SET_MEM_TABLE, VHOST_USER_REPLY_MASK);
    rep->payload.memory.nregions = 2;
    rep->hdr.size = 8 + 64;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, true), 0);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), VC_MSG_FAULT_SIZE);
    rep->hdr.size = 8;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, true), VC_MSG_FAULT_SIZE);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);
    rep->hdr.size = 8 + 64;
    set_nfds(rep, 1);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, true), VC_MSG_FAULT_FDS);

    /* ADD_MEM_REG: the single region comes back. */
    vc_msg_init(req, VHOST_USER_ADD_MEM_REG, 0);
    req->hdr.size = 40;
    set_nfds(req, 1);
    vc_msg_init(rep, VHOST_USER_ADD_MEM_REG, VHOST_USER_REPLY_MASK);
    rep->hdr.size = 40;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, true), 0);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), VC_MSG_FAULT_SIZE);
    rep->hdr.size = 8;
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, true), VC_MSG_FAULT_SIZE);
    ck_assert_uint_eq(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false), 0);

    /* Other requests keep their reply kind in postcopy. */
    vc_msg_init(req, VHOST_USER_REM_MEM_REG, 0);
    req->hdr.size = 40;
    ck_assert_int_eq(vc_msg_reply_kind(VC_CHAN_MAIN, req, true), VC_PL_U64);
    /* Back-end id 5 is not SET_MEM_TABLE. */
    vc_msg_init(req, VHOST_USER_BACKEND_VRING_ERR, 0);
    ck_assert_int_eq(vc_msg_reply_kind(VC_CHAN_BACKEND, req, true), VC_PL_U64);
}
END_TEST

/* --- Reply rules ---------------------------------------------------------------------- */

/* Every row under every combination of NEED_REPLY, REPLY_ACK and LOG_SHMFD. */
START_TEST(needs_reply_table)
{
    const ExpRow *e = &rows[_i];
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    make_request(e, m);
    for (unsigned c = 0; c < 8; c++) {
        bool need = c & 1, ack = c & 2, logshm = c & 4;
        uint64_t pf = (ack ? 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK : 0) |
                      (logshm ? 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD : 0);
        bool want;

        m->hdr.flags = VHOST_USER_VERSION | (need ? VHOST_USER_NEED_REPLY_MASK : 0);
        switch (e->reply) {
        case VC_REPLY_ALWAYS:
            want = true;
            break;
        case VC_REPLY_ACK:
            want = need && ack;
            break;
        case VC_REPLY_IF_LOG_SHMFD:
            want = logshm || (need && ack);
            break;
        case VC_REPLY_IF_NEED_REPLY:
            want = need;
            break;
        default:
            ck_abort();
        }
        ck_assert_msg(vc_msg_needs_reply(e->ch, m, pf, false) == want,
                      "%s need=%d ack=%d logshm=%d: want %d", e->name, need, ack, logshm, want);
    }
}
END_TEST

START_TEST(needs_reply_named)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    const uint64_t ra = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
    const uint64_t ls = 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD;

    vc_msg_init(m, VHOST_USER_GET_FEATURES, 0);
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));

    vc_msg_init(m, VHOST_USER_SET_OWNER, 0);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, ra, false));
    vc_msg_init(m, VHOST_USER_SET_OWNER, VHOST_USER_NEED_REPLY_MASK);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, ra, false));

    vc_msg_init(m, VHOST_USER_SET_LOG_BASE, 0);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, ls, false));

    /* QEMU waits for POSTCOPY_LISTEN although the spec defines no reply. */
    vc_msg_init(m, VHOST_USER_POSTCOPY_LISTEN, VHOST_USER_NEED_REPLY_MASK);
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));
    vc_msg_init(m, VHOST_USER_POSTCOPY_LISTEN, 0);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, ra, false));

    /* In postcopy the memory table always gets its region reply. */
    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, true));
    vc_msg_init(m, VHOST_USER_ADD_MEM_REG, 0);
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, true));
    vc_msg_init(m, VHOST_USER_BACKEND_VRING_ERR, 0);
    ck_assert(!vc_msg_needs_reply(VC_CHAN_BACKEND, m, 0, true));

    /* Back-end channel: the lookup is always answered. */
    vc_msg_init(m, VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP, 0);
    ck_assert(vc_msg_needs_reply(VC_CHAN_BACKEND, m, 0, false));

    /* Unknown ids follow the ack rule. */
    vc_msg_init(m, 99, VHOST_USER_NEED_REPLY_MASK);
    ck_assert(vc_msg_needs_reply(VC_CHAN_MAIN, m, ra, false));
    ck_assert(!vc_msg_needs_reply(VC_CHAN_MAIN, m, 0, false));
}
END_TEST

/* --- Formatting ------------------------------------------------------------------------ */

static void
format_canary(const VcMsg *m, VcChannel ch, const VcMsg *req, size_t len, const char *full)
{
    char buf[64];

    memset(buf, 'X', sizeof(buf));
    ck_assert_ptr_eq(vc_msg_format(buf, len, ch, m, req), buf);
    for (size_t i = len; i < sizeof(buf); i++) {
        ck_assert_msg(buf[i] == 'X', "byte %zu written with a buffer of %zu", i, len);
    }
    if (len > 0) {
        ck_assert_uint_lt(strlen(buf), len);
        ck_assert_msg(strncmp(buf, full, strlen(buf)) == 0, "'%s' is not a prefix of '%s'", buf,
                      full);
        ck_assert_uint_eq(strlen(buf), MIN(len - 1, strlen(full)));
    }
}

START_TEST(format_tiny_buffers)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    static const size_t lens[] = {0, 1, 8, 20};
    char full[512];

    vc_msg_init(req, VHOST_USER_GET_FEATURES, 0);
    vc_msg_init(m, VHOST_USER_GET_FEATURES, VHOST_USER_REPLY_MASK);
    m->hdr.size = 8;
    m->payload.u64 = 0xffffffffffffffffull;
    vc_msg_format(full, sizeof(full), VC_CHAN_MAIN, m, req);
    ck_assert_uint_gt(strlen(full), 100);
    for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
        format_canary(m, VC_CHAN_MAIN, req, lens[i], full);
    }

    /* The same for a long hex dump and an unknown request. */
    vc_msg_init(m, VHOST_USER_CREATE_CRYPTO_SESSION, 0);
    m->hdr.size = 200;
    memset(m->payload.raw, 0xab, 200);
    vc_msg_format(full, sizeof(full), VC_CHAN_MAIN, m, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
        format_canary(m, VC_CHAN_MAIN, NULL, lens[i], full);
    }
    vc_msg_init(m, 0xffff, 0);
    m->hdr.size = 40;
    vc_msg_format(full, sizeof(full), VC_CHAN_MAIN, m, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
        format_canary(m, VC_CHAN_MAIN, NULL, lens[i], full);
    }
}
END_TEST

START_TEST(format_payloads)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    char buf[256];

    vc_msg_init(req, VHOST_USER_GET_FEATURES, 0);
    vc_msg_init(m, VHOST_USER_GET_FEATURES, VHOST_USER_REPLY_MASK);
    m->hdr.size = 8;
    m->payload.u64 = (1ull << 30) | (1ull << 32);
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, req),
                     "features=0x140000000 [PROTOCOL_FEATURES VERSION_1]");
    m->payload.u64 = (1ull << 32) | 1;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, req),
                     "features=0x100000001 [bit0 VERSION_1]");

    vc_msg_init(m, VHOST_USER_SET_PROTOCOL_FEATURES, 0);
    m->hdr.size = 8;
    m->payload.u64 = (1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL),
                     "protocol_features=0x9 [MQ REPLY_ACK]");

    vc_msg_init(m, VHOST_USER_SET_VRING_NUM, 0);
    m->hdr.size = 8;
    m->payload.state.index = 0;
    m->payload.state.num = 256;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "index=0 num=256");

    vc_msg_init(m, VHOST_USER_SET_VRING_KICK, 0);
    m->hdr.size = 8;
    m->payload.u64 = 1 | VHOST_USER_VRING_NOFD_MASK;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "index=1 nofd");
    m->payload.u64 = 3;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "index=3");

    /* An ack to SET_VRING_KICK is a plain u64. */
    vc_msg_init(req, VHOST_USER_SET_VRING_KICK, VHOST_USER_NEED_REPLY_MASK);
    vc_msg_init(m, VHOST_USER_SET_VRING_KICK, VHOST_USER_REPLY_MASK);
    m->hdr.size = 8;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, req), "u64=0x0");

    vc_msg_init(m, VHOST_USER_SET_MEM_TABLE, 0);
    m->payload.memory.nregions = 1;
    m->payload.memory.regions[0] = (VhostUserMemoryRegion){0x1000, 0x2000, 0x7f0000001000, 0x0};
    m->hdr.size = 8 + 32;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL),
                     "nregions=1 {gpa=0x1000 size=0x2000 uva=0x7f0000001000 offset=0x0}");

    /* A payload of the wrong size is shown as bytes, never decoded. */
    vc_msg_init(m, VHOST_USER_SET_VRING_NUM, 0);
    m->hdr.size = 3;
    m->payload.raw[0] = 0x01;
    m->payload.raw[1] = 0x02;
    m->payload.raw[2] = 0xff;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "bytes=0102ff");

    vc_msg_init(m, VHOST_USER_GET_FEATURES, 0);
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "");

    vc_msg_init(m, VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 0);
    m->hdr.size = 24;
    m->payload.area = (VhostUserVringArea){2 | VHOST_USER_VRING_NOFD_MASK, 0x1000, 0x2000};
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_BACKEND, m, NULL),
                     "index=2 nofd size=0x1000 offset=0x2000");

    /* A hostile size never makes the formatter read past the payload. */
    vc_msg_init(m, VHOST_USER_SET_VRING_NUM, 0);
    m->hdr.size = 0xffffffffu;
    ck_assert_str_eq(vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL), "bytes=");
}
END_TEST

START_TEST(fault_describe)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    char buf[256], tiny[8];
    unsigned f;

    vc_msg_init(req, VHOST_USER_GET_FEATURES, 0);
    vc_msg_init(rep, VHOST_USER_GET_FEATURES, 0);
    rep->hdr.size = 8;
    f = vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false);
    ck_assert_uint_eq(f, VC_MSG_FAULT_REPLY_BIT);
    ck_assert_str_eq(vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, req, rep),
                     "GET_FEATURES reply: flags 0x1, want 0x5 (REPLY bit clear)");

    rep->hdr.flags = 0x5;
    rep->hdr.request = VHOST_USER_GET_PROTOCOL_FEATURES;
    f = vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, req, rep);
    ck_assert_msg(strstr(buf, "answers request 15 (GET_PROTOCOL_FEATURES)"), "%s", buf);

    rep->hdr.request = VHOST_USER_GET_FEATURES;
    rep->hdr.size = 4;
    f = vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false);
    ck_assert_uint_eq(f, VC_MSG_FAULT_SIZE);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, req, rep);
    ck_assert_msg(strstr(buf, "size 4, want 8"), "%s", buf);

    rep->hdr.size = 8;
    rep->hdr.flags = 0x15;
    rep->nfds = 0;
    f = vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, req, rep);
    ck_assert_msg(strstr(buf, "flags 0x15, want 0x5") && strstr(buf, "undefined"), "%s", buf);

    /* Requests. */
    vc_msg_init(req, 45, 0);
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_str_eq(buf, "UNKNOWN request: unknown request id 45");

    vc_msg_init(req, VHOST_USER_SET_OWNER, VHOST_USER_REPLY_MASK);
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_str_eq(buf, "SET_OWNER request: flags 0x5, want 0x1 (REPLY bit set)");

    req->hdr.flags = 0x3;
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_msg(strstr(buf, "(version 3)"), "%s", buf);

    vc_msg_init(req, VHOST_USER_SET_OWNER, 0);
    set_nfds(req, 1);
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_str_eq(buf, "SET_OWNER request: 1 fds, want 0");

    vc_msg_init(req, VHOST_USER_REM_MEM_REG, 0);
    req->hdr.size = 40;
    set_nfds(req, 3);
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_str_eq(buf, "REM_MEM_REG request: 3 fds, want 0 to 1");

    vc_msg_init(req, VHOST_USER_SET_MEM_TABLE, 0);
    req->hdr.size = 9;
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_msg(strstr(buf, "size 9, want 8 + 32 per region"), "%s", buf);

    req->payload.memory.nregions = 3;
    req->hdr.size = 8 + 32;
    f = vc_msg_check_request(VC_CHAN_MAIN, req);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, NULL, req);
    ck_assert_msg(strstr(buf, "does not match the length inside the payload"), "%s", buf);

    /* GET_CONFIG reply of the wrong size names the request's size. */
    vc_msg_init(req, VHOST_USER_GET_CONFIG, 0);
    req->payload.config.size = 4;
    req->hdr.size = 16;
    vc_msg_init(rep, VHOST_USER_GET_CONFIG, VHOST_USER_REPLY_MASK);
    rep->hdr.size = 20;
    f = vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false);
    vc_msg_fault_describe(buf, sizeof(buf), f, VC_CHAN_MAIN, req, rep);
    ck_assert_msg(strstr(buf, "size 20, want 16"), "%s", buf);

    /* Never overflows. */
    memset(tiny, 'X', sizeof(tiny));
    vc_msg_fault_describe(tiny, 4, f, VC_CHAN_MAIN, req, rep);
    ck_assert_str_eq(tiny, "GET");
    ck_assert_int_eq(tiny[4], 'X');
    vc_msg_fault_describe(tiny, 0, f, VC_CHAN_MAIN, req, rep);
    ck_assert_int_eq(tiny[0], 'G');
}
END_TEST

START_TEST(init_and_fds)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);

    memset(m, 0x5a, sizeof(*m));
    vc_msg_init(m, VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY_MASK | 0x3);
    ck_assert_uint_eq(m->hdr.request, VHOST_USER_SET_FEATURES);
    ck_assert_uint_eq(m->hdr.flags, 0x9);
    ck_assert_uint_eq(m->hdr.size, 0);
    ck_assert_uint_eq(m->nfds, 0);
    ck_assert_uint_eq(m->payload.u64, 0);
    ck_assert_int_eq(vc_msg_take_fd(m, 0), -1);
    m->fds[0] = 7;
    m->fds[1] = -1;
    m->nfds = 2;
    ck_assert_int_eq(vc_msg_take_fd(m, 0), 7);
    ck_assert_int_eq(m->fds[0], -1);
    ck_assert_int_eq(vc_msg_take_fd(m, 2), -1);
    vc_msg_close_fds(m);
    ck_assert_uint_eq(m->nfds, 0);
}
END_TEST

/*
 * vhost-user.rst "MMAP request" and "VIRTIO Shared Memory Region configuration":
 * the field offsets on the wire, and replies of the wrong size refused.
 */
START_TEST(shmem_layout)
{
    g_autofree VcMsg *req = g_new0(VcMsg, 1);
    g_autofree VcMsg *rep = g_new0(VcMsg, 1);
    static const uint32_t bad[] = {0, 8, 2048, 2055, 2057, 4096};

    ck_assert_uint_eq(offsetof(VhostUserMMap, shmid), 0);
    ck_assert_uint_eq(offsetof(VhostUserMMap, fd_offset), 8);
    ck_assert_uint_eq(offsetof(VhostUserMMap, shm_offset), 16);
    ck_assert_uint_eq(offsetof(VhostUserMMap, len), 24);
    ck_assert_uint_eq(offsetof(VhostUserMMap, flags), 32);
    ck_assert_uint_eq(offsetof(VhostUserShMemConfig, nregions), 0);
    ck_assert_uint_eq(offsetof(VhostUserShMemConfig, padding), 4);
    ck_assert_uint_eq(offsetof(VhostUserShMemConfig, memory_sizes), 8);
    ck_assert_uint_eq(offsetof(VhostUserShMemConfig, memory_sizes[255]), 8 + 255 * 8);
    ck_assert_uint_eq(VHOST_USER_FLAG_MAP_RW, 1);

    vc_msg_init(req, VHOST_USER_GET_SHMEM_CONFIG, 0);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    ck_assert_uint_eq(req->hdr.size, 0);
    vc_msg_init(rep, VHOST_USER_GET_SHMEM_CONFIG, VHOST_USER_REPLY_MASK);
    rep->payload.shmem.nregions = 1;
    rep->payload.shmem.memory_sizes[0] = 2u << 20;
    rep->hdr.size = 2056;
    ck_assert_msg(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false) == 0, "2056-byte config");
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        rep->hdr.size = bad[i];
        ck_assert_msg(vc_msg_check_reply(VC_CHAN_MAIN, req, rep, false) == VC_MSG_FAULT_SIZE,
                      "a shmem config of %u bytes is refused", bad[i]);
    }

    /* A map is 40 bytes with one fd; an unmap is 40 bytes with none. */
    vc_msg_init(req, VHOST_USER_BACKEND_SHMEM_MAP, VHOST_USER_NEED_REPLY_MASK);
    req->payload.mmap.len = 4096;
    vc_msg_set_size(VC_CHAN_BACKEND, req);
    ck_assert_uint_eq(req->hdr.size, 40);
    set_nfds(req, 1);
    ck_assert_msg(vc_msg_check_request(VC_CHAN_BACKEND, req) == 0, "map with its fd");
    set_nfds(req, 0);
    ck_assert_msg(vc_msg_check_request(VC_CHAN_BACKEND, req) == VC_MSG_FAULT_FDS, "map, no fd");
    req->hdr.request = VHOST_USER_BACKEND_SHMEM_UNMAP;
    ck_assert_msg(vc_msg_check_request(VC_CHAN_BACKEND, req) == 0, "unmap without fd");
    req->hdr.size = 32;
    ck_assert_msg(vc_msg_check_request(VC_CHAN_BACKEND, req) == VC_MSG_FAULT_SIZE, "short unmap");
}
END_TEST

static Suite *
msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc;

    tc = tcase_create("table");
    tcase_add_test(tc, table_counts);
    tcase_add_loop_test(tc, row_matches_spec, 0, N_ROWS);
    tcase_add_loop_test(tc, name_round_trip, 0, N_ROWS);
    tcase_add_test(tc, name_unknown);
    tcase_add_test(tc, feature_names);
    tcase_add_test(tc, init_and_fds);
    tcase_add_test(tc, shmem_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("request");
    tcase_add_loop_test(tc, request_canonical_ok, 0, N_ROWS);
    tcase_add_loop_test(tc, request_size, 0, N_ROWS);
    tcase_add_loop_test(tc, request_fds, 0, N_ROWS);
    tcase_add_loop_test(tc, request_version, 0, N_ROWS);
    tcase_add_loop_test(tc, request_reply_bit, 0, N_ROWS);
    tcase_add_loop_test(tc, request_undefined_flags, 0, N_ROWS);
    tcase_add_loop_test(tc, request_unknown, 0, G_N_ELEMENTS(unknown_main));
    tcase_add_loop_test(tc, request_unknown_backend, 0, G_N_ELEMENTS(unknown_backend));
    tcase_add_loop_test(tc, mem_table_nregions, 0, 10);
    tcase_add_test(tc, mem_table_field_mismatch);
    tcase_add_test(tc, config_sizes);
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_loop_test(tc, reply_canonical_ok, 0, N_ROWS);
    tcase_add_loop_test(tc, reply_bad_flags, 0, N_ROWS);
    tcase_add_loop_test(tc, reply_other_request, 0, N_ROWS);
    tcase_add_loop_test(tc, reply_size, 0, N_ROWS);
    tcase_add_loop_test(tc, reply_fds, 0, N_ROWS);
    tcase_add_test(tc, reply_get_config);
    tcase_add_test(tc, reply_get_inflight_fd);
    tcase_add_loop_test(tc, reply_set_device_state_fd, 0, G_N_ELEMENTS(devstate_cases));
    tcase_add_test(tc, reply_postcopy);
    tcase_add_loop_test(tc, needs_reply_table, 0, N_ROWS);
    tcase_add_test(tc, needs_reply_named);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_add_test(tc, format_tiny_buffers);
    tcase_add_test(tc, format_payloads);
    tcase_add_test(tc, fault_describe);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(msg_suite());
}
