/*
 * vc-msg.c -- table-driven vhost-user codec and syntax validators.
 */
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "vc-msg.h"
#include "vc-msg-table.h"

#define VC_MAIN_ROW(n, pl, fds, reply, rpl, rfds, feat, pfeat) \
    [VHOST_USER_##n] = {VHOST_USER_##n, "VHOST_USER_" #n, #n, pl, fds, reply, rpl, rfds, feat, pfeat},
static const VcMsgInfo main_table[VHOST_USER_MAX] = {VC_FRONTEND_REQUESTS(VC_MAIN_ROW)};
#undef VC_MAIN_ROW

#define VC_BACKEND_ROW(n, pl, fds, reply, rpl, rfds, feat, pfeat)                                \
    [VHOST_USER_BACKEND_##n] = {VHOST_USER_BACKEND_##n, "VHOST_USER_BACKEND_" #n, "BACKEND_" #n, \
                                pl, fds, reply, rpl, rfds, feat, pfeat},
static const VcMsgInfo backend_table[VHOST_USER_BACKEND_MAX] = {VC_BACKEND_REQUESTS(VC_BACKEND_ROW)};
#undef VC_BACKEND_ROW

const VcMsgInfo *
vc_msg_info(VcChannel ch, uint32_t request)
{
    if (ch == VC_CHAN_MAIN) {
        if (request == 0 || request >= VHOST_USER_MAX) {
            return NULL;
        }
        return &main_table[request];
    }
    if (request == 0 || request >= VHOST_USER_BACKEND_MAX) {
        return NULL;
    }
    return &backend_table[request];
}

const char *
vc_msg_name(VcChannel ch, uint32_t request)
{
    const VcMsgInfo *info = vc_msg_info(ch, request);

    return info ? info->name : "UNKNOWN";
}

const char *
vc_msg_short_name(VcChannel ch, uint32_t request)
{
    const VcMsgInfo *info = vc_msg_info(ch, request);

    return info ? info->short_name : "UNKNOWN";
}

uint32_t
vc_msg_lookup_name(const char *name, VcChannel *ch)
{
    if (strncasecmp(name, "VHOST_USER_", 11) == 0) {
        name += 11;
    }
    for (uint32_t r = 1; r < VHOST_USER_MAX; r++) {
        if (strcasecmp(name, main_table[r].short_name) == 0) {
            *ch = VC_CHAN_MAIN;
            return r;
        }
    }
    for (uint32_t r = 1; r < VHOST_USER_BACKEND_MAX; r++) {
        if (strcasecmp(name, backend_table[r].short_name) == 0) {
            *ch = VC_CHAN_BACKEND;
            return r;
        }
    }
    return 0;
}

void
vc_msg_init(VcMsg *m, uint32_t request, uint32_t flags)
{
    memset(&m->hdr, 0, sizeof(m->hdr));
    m->_pad = 0;
    memset(&m->payload, 0, sizeof(m->payload));
    m->hdr.request = request;
    m->hdr.flags = VHOST_USER_VERSION | (flags & ~(uint32_t)VHOST_USER_VERSION_MASK);
    m->hdr.size = 0;
    m->nfds = 0;
}

static uint32_t
canonical_size(VcPayloadKind kind, const VcMsg *m)
{
    switch (kind) {
    case VC_PL_NONE:
        return 0;
    case VC_PL_U64:
    case VC_PL_VRING_STATE:
    case VC_PL_DEVSTATE:
        return 8;
    case VC_PL_VRING_ADDR:
    case VC_PL_MEM_REG:
    case VC_PL_MMAP:
        return 40;
    case VC_PL_MEM_TABLE: {
        uint32_t n = m->payload.memory.nregions;
        return 8 + 32 * (n > VHOST_MEMORY_BASELINE_NREGIONS ? VHOST_MEMORY_BASELINE_NREGIONS : n);
    }
    case VC_PL_LOG:
    case VC_PL_SHARED:
        return 16;
    case VC_PL_IOTLB:
        return 32;
    case VC_PL_CONFIG:
    case VC_PL_CONFIG_REPLY: {
        uint32_t n = m->payload.config.size;
        return VHOST_USER_CONFIG_HDR_SIZE +
               (n > VHOST_USER_MAX_CONFIG_SIZE ? VHOST_USER_MAX_CONFIG_SIZE : n);
    }
    case VC_PL_INFLIGHT:
    case VC_PL_VRING_AREA:
        return 24;
    case VC_PL_SHMEM_CONFIG:
        return sizeof(VhostUserShMemConfig);
    case VC_PL_OPAQUE:
    case VC_PL_SAME_SIZE:
    case VC_PL_ANY:
        break;
    }
    return m->hdr.size;
}

void
vc_msg_set_size(VcChannel ch, VcMsg *m)
{
    const VcMsgInfo *info = vc_msg_info(ch, m->hdr.request);

    if (info) {
        m->hdr.size = canonical_size(info->payload, m);
    }
}

unsigned
vc_msg_payload_fits(VcPayloadKind kind, const VcMsg *m, const VcMsg *request)
{
    uint32_t size = m->hdr.size;

    if (size > VC_MSG_MAX_PAYLOAD) {
        return VC_MSG_FAULT_SIZE;
    }
    switch (kind) {
    case VC_PL_MEM_TABLE:
        if (size < 8 || (size - 8) % 32 != 0 ||
            (size - 8) / 32 > VHOST_MEMORY_BASELINE_NREGIONS) {
            return VC_MSG_FAULT_SIZE;
        }
        return m->payload.memory.nregions == (size - 8) / 32 ? 0 : VC_MSG_FAULT_FIELD;
    case VC_PL_CONFIG:
        if (size < VHOST_USER_CONFIG_HDR_SIZE) {
            return VC_MSG_FAULT_SIZE;
        }
        if (m->payload.config.size > VHOST_USER_MAX_CONFIG_SIZE ||
            size != VHOST_USER_CONFIG_HDR_SIZE + m->payload.config.size) {
            return VC_MSG_FAULT_FIELD;
        }
        return 0;
    case VC_PL_CONFIG_REPLY:
        /* vhost-user.rst GET_CONFIG: same size as the request, or 0 on error. */
        if (size == 0) {
            return 0;
        }
        if (request && size != request->hdr.size) {
            return VC_MSG_FAULT_SIZE;
        }
        return 0;
    case VC_PL_SAME_SIZE:
        return request && size != request->hdr.size ? VC_MSG_FAULT_SIZE : 0;
    case VC_PL_OPAQUE:
    case VC_PL_ANY:
        return 0;
    default:
        return size == canonical_size(kind, m) ? 0 : VC_MSG_FAULT_SIZE;
    }
}

void
vc_msg_expected_fds(VcFdRule rule, const VcMsg *m, unsigned *min, unsigned *max)
{
    unsigned lo = 0, hi = 0;

    switch (rule) {
    case VC_FDS_NONE:
        break;
    case VC_FDS_ONE:
        lo = hi = 1;
        break;
    case VC_FDS_OPT_ONE:
        hi = 1;
        break;
    case VC_FDS_PER_REGION:
        lo = hi = m->hdr.size >= 8 ? m->payload.memory.nregions : 0;
        break;
    case VC_FDS_UNLESS_NOFD: {
        /* The u64 of SET_VRING_KICK/CALL/ERR and of the vring area share the encoding. */
        uint64_t v = m->hdr.size >= 8 ? m->payload.u64 : 0;
        lo = hi = (v & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;
        break;
    }
    case VC_FDS_INFLIGHT:
        lo = hi = (m->hdr.size >= 8 && m->payload.inflight.mmap_size != 0) ? 1 : 0;
        break;
    case VC_FDS_DEVSTATE: {
        uint64_t v = m->hdr.size >= 8 ? m->payload.u64 : 0;
        /* vhost-user.rst SET_DEVICE_STATE_FD: an error or the "no fd" bit means no fd. */
        lo = hi = ((v & 0xff) == 0 && !(v & VHOST_USER_DEVICE_STATE_NOFD_MASK)) ? 1 : 0;
        break;
    }
    }
    *min = lo;
    *max = hi;
}

static unsigned
check_fds(VcFdRule rule, const VcMsg *m)
{
    unsigned lo, hi;

    vc_msg_expected_fds(rule, m, &lo, &hi);
    return (m->nfds < lo || m->nfds > hi) ? VC_MSG_FAULT_FDS : 0;
}

unsigned
vc_msg_check_request(VcChannel ch, const VcMsg *m)
{
    const VcMsgInfo *info = vc_msg_info(ch, m->hdr.request);
    unsigned faults = 0;

    if ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
        faults |= VC_MSG_FAULT_VERSION;
    }
    if (m->hdr.flags & VHOST_USER_REPLY_MASK) {
        faults |= VC_MSG_FAULT_REPLY_BIT;
    }
    if (m->hdr.flags & ~(uint32_t)(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK |
                                   VHOST_USER_NEED_REPLY_MASK)) {
        faults |= VC_MSG_FAULT_FLAGS;
    }
    if (!info) {
        return faults | VC_MSG_FAULT_UNKNOWN;
    }
    faults |= vc_msg_payload_fits(info->payload, m, NULL);
    if (!(faults & (VC_MSG_FAULT_SIZE | VC_MSG_FAULT_FIELD))) {
        faults |= check_fds(info->fds, m);
    }
    return faults;
}

VcPayloadKind
vc_msg_reply_kind(VcChannel ch, const VcMsg *request, bool postcopy)
{
    const VcMsgInfo *info = vc_msg_info(ch, request->hdr.request);

    if (!info) {
        return VC_PL_U64;
    }
    if (postcopy && ch == VC_CHAN_MAIN &&
        (request->hdr.request == VHOST_USER_SET_MEM_TABLE ||
         request->hdr.request == VHOST_USER_ADD_MEM_REG)) {
        /* vhost-user.rst: in postcopy the back-end returns its mapping bases. */
        return VC_PL_SAME_SIZE;
    }
    return info->reply_payload;
}

unsigned
vc_msg_check_reply(VcChannel ch, const VcMsg *request, const VcMsg *reply, bool postcopy)
{
    const VcMsgInfo *info = vc_msg_info(ch, request->hdr.request);
    unsigned faults = 0;

    if ((reply->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
        faults |= VC_MSG_FAULT_VERSION;
    }
    if (!(reply->hdr.flags & VHOST_USER_REPLY_MASK)) {
        faults |= VC_MSG_FAULT_REPLY_BIT;
    }
    /* QEMU accepts flags == 0x5 only: NEED_REPLY and bits 4..31 must be clear. */
    if (reply->hdr.flags & ~(uint32_t)(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK)) {
        faults |= VC_MSG_FAULT_FLAGS;
    }
    if (reply->hdr.request != request->hdr.request) {
        return faults | VC_MSG_FAULT_REQUEST;
    }
    if (!info) {
        return faults;
    }
    VcPayloadKind kind = vc_msg_reply_kind(ch, request, postcopy);
    bool is_ack = (kind == VC_PL_U64 && info->reply == VC_REPLY_ACK);
    faults |= vc_msg_payload_fits(kind, reply, request);
    if (!(faults & VC_MSG_FAULT_SIZE)) {
        faults |= check_fds(is_ack || kind == VC_PL_SAME_SIZE ? VC_FDS_NONE : info->reply_fds,
                            reply);
    }
    return faults;
}

bool
vc_msg_needs_reply(VcChannel ch, const VcMsg *request, uint64_t pfeatures, bool postcopy)
{
    const VcMsgInfo *info = vc_msg_info(ch, request->hdr.request);
    bool need = (request->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
    bool ack = need && (pfeatures & VC_PF(REPLY_ACK));

    if (!info) {
        return ack;
    }
    if (postcopy && ch == VC_CHAN_MAIN &&
        (request->hdr.request == VHOST_USER_SET_MEM_TABLE ||
         request->hdr.request == VHOST_USER_ADD_MEM_REG)) {
        return true;
    }
    switch (info->reply) {
    case VC_REPLY_ALWAYS:
        return true;
    case VC_REPLY_ACK:
        return ack;
    case VC_REPLY_IF_LOG_SHMFD:
        return (pfeatures & VC_PF(LOG_SHMFD)) || ack;
    case VC_REPLY_IF_NEED_REPLY:
        return need;
    }
    return ack;
}

static const char *const feature_names[64] = {
    [24] = "NOTIFY_ON_EMPTY", [26] = "LOG_ALL", [27] = "ANY_LAYOUT",
    [28] = "INDIRECT_DESC", [29] = "EVENT_IDX", [30] = "PROTOCOL_FEATURES",
    [32] = "VERSION_1", [33] = "ACCESS_PLATFORM", [34] = "RING_PACKED",
    [35] = "IN_ORDER", [36] = "ORDER_PLATFORM", [37] = "SR_IOV",
    [38] = "NOTIFICATION_DATA", [39] = "NOTIF_CONFIG_DATA", [40] = "RING_RESET",
    [41] = "ADMIN_VQ",
};

static const char *const pfeature_names[VHOST_USER_PROTOCOL_F_MAX] = {
    "MQ", "LOG_SHMFD", "RARP", "REPLY_ACK", "NET_MTU", "BACKEND_REQ", "CROSS_ENDIAN",
    "CRYPTO_SESSION", "PAGEFAULT", "CONFIG", "BACKEND_SEND_FD", "HOST_NOTIFIER",
    "INFLIGHT_SHMFD", "RESET_DEVICE", "INBAND_NOTIFICATIONS", "CONFIGURE_MEM_SLOTS",
    "STATUS", "XEN_MMAP", "SHARED_OBJECT", "DEVICE_STATE", "GET_VRING_BASE_INFLIGHT",
    "GPA_ADDRESSES", "SHMEM",
};

const char *
vc_feature_name(unsigned bit)
{
    return bit < 64 ? feature_names[bit] : NULL;
}

const char *
vc_pfeature_name(unsigned bit)
{
    return bit < VHOST_USER_PROTOCOL_F_MAX ? pfeature_names[bit] : NULL;
}

/* A small bounded string builder for the formatters below. */
typedef struct Out {
    char *buf;
    size_t len;
    size_t pos;
} Out;

static void __attribute__((format(printf, 2, 3)))
out_add(Out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->pos >= o->len) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->pos += (size_t)n;
        if (o->pos >= o->len) {
            o->pos = o->len - 1;
        }
    }
}

static void
out_bits(Out *o, uint64_t v, const char *(*name)(unsigned))
{
    const char *sep = "";

    out_add(o, " [");
    for (unsigned b = 0; b < 64; b++) {
        if (!(v & (1ull << b))) {
            continue;
        }
        const char *n = name(b);
        if (n) {
            out_add(o, "%s%s", sep, n);
        } else {
            out_add(o, "%sbit%u", sep, b);
        }
        sep = " ";
    }
    out_add(o, "]");
}

static void
out_hex(Out *o, const uint8_t *p, uint32_t n)
{
    uint32_t shown = n > 32 ? 32 : n;

    out_add(o, "bytes=");
    for (uint32_t i = 0; i < shown; i++) {
        out_add(o, "%02x", p[i]);
    }
    if (shown < n) {
        out_add(o, "...(%u bytes)", n);
    }
}

static void
out_region(Out *o, const VhostUserMemoryRegion *r)
{
    out_add(o, "{gpa=0x%" PRIx64 " size=0x%" PRIx64 " uva=0x%" PRIx64 " offset=0x%" PRIx64 "}",
            r->guest_phys_addr, r->memory_size, r->userspace_addr, r->mmap_offset);
}

static void
out_payload(Out *o, VcChannel ch, VcPayloadKind kind, const VcMsg *m)
{
    uint32_t req = m->hdr.request;

    if (vc_msg_payload_fits(kind, m, NULL) & VC_MSG_FAULT_SIZE && kind != VC_PL_CONFIG_REPLY) {
        out_hex(o, m->payload.raw, m->hdr.size > VC_MSG_MAX_PAYLOAD ? 0 : m->hdr.size);
        return;
    }
    switch (kind) {
    case VC_PL_NONE:
        break;
    case VC_PL_U64:
        if (ch == VC_CHAN_MAIN && (req == VHOST_USER_GET_FEATURES ||
                                   req == VHOST_USER_SET_FEATURES)) {
            out_add(o, "features=0x%" PRIx64, m->payload.u64);
            out_bits(o, m->payload.u64, vc_feature_name);
        } else if (ch == VC_CHAN_MAIN && (req == VHOST_USER_GET_PROTOCOL_FEATURES ||
                                          req == VHOST_USER_SET_PROTOCOL_FEATURES)) {
            out_add(o, "protocol_features=0x%" PRIx64, m->payload.u64);
            out_bits(o, m->payload.u64, vc_pfeature_name);
        } else if (ch == VC_CHAN_MAIN && (req == VHOST_USER_SET_VRING_KICK ||
                                          req == VHOST_USER_SET_VRING_CALL ||
                                          req == VHOST_USER_SET_VRING_ERR) &&
                   !(m->hdr.flags & VHOST_USER_REPLY_MASK)) {
            out_add(o, "index=%u%s", (unsigned)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK),
                    (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) ? " nofd" : "");
            if (m->payload.u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
                                               VHOST_USER_VRING_NOFD_MASK)) {
                out_add(o, " raw=0x%" PRIx64, m->payload.u64);
            }
        } else {
            out_add(o, "u64=0x%" PRIx64, m->payload.u64);
        }
        break;
    case VC_PL_VRING_STATE:
        out_add(o, "index=%u num=%u", m->payload.state.index, m->payload.state.num);
        break;
    case VC_PL_VRING_ADDR:
        out_add(o, "index=%u flags=0x%x desc=0x%llx used=0x%llx avail=0x%llx log=0x%llx",
                m->payload.addr.index, m->payload.addr.flags,
                (unsigned long long)m->payload.addr.desc_user_addr,
                (unsigned long long)m->payload.addr.used_user_addr,
                (unsigned long long)m->payload.addr.avail_user_addr,
                (unsigned long long)m->payload.addr.log_guest_addr);
        break;
    case VC_PL_MEM_TABLE:
        out_add(o, "nregions=%u", m->payload.memory.nregions);
        for (uint32_t i = 0; i < m->payload.memory.nregions && i < VHOST_MEMORY_BASELINE_NREGIONS;
             i++) {
            out_add(o, " ");
            out_region(o, &m->payload.memory.regions[i]);
        }
        break;
    case VC_PL_MEM_REG:
        out_region(o, &m->payload.mem_reg.region);
        break;
    case VC_PL_LOG:
        out_add(o, "mmap_size=0x%" PRIx64 " mmap_offset=0x%" PRIx64, m->payload.log.mmap_size,
                m->payload.log.mmap_offset);
        break;
    case VC_PL_IOTLB:
        out_add(o, "iova=0x%llx size=0x%llx uaddr=0x%llx perm=%u type=%u",
                (unsigned long long)m->payload.iotlb.iova,
                (unsigned long long)m->payload.iotlb.size,
                (unsigned long long)m->payload.iotlb.uaddr, m->payload.iotlb.perm,
                m->payload.iotlb.type);
        break;
    case VC_PL_CONFIG:
    case VC_PL_CONFIG_REPLY:
        if (m->hdr.size == 0) {
            out_add(o, "(error: empty)");
            break;
        }
        out_add(o, "offset=%u size=%u flags=0x%x ", m->payload.config.offset,
                m->payload.config.size, m->payload.config.flags);
        out_hex(o, m->payload.config.region,
                m->hdr.size >= VHOST_USER_CONFIG_HDR_SIZE
                    ? m->hdr.size - VHOST_USER_CONFIG_HDR_SIZE : 0);
        break;
    case VC_PL_INFLIGHT:
        out_add(o, "mmap_size=0x%" PRIx64 " mmap_offset=0x%" PRIx64 " num_queues=%u queue_size=%u",
                m->payload.inflight.mmap_size, m->payload.inflight.mmap_offset,
                m->payload.inflight.num_queues, m->payload.inflight.queue_size);
        break;
    case VC_PL_SHARED:
        out_add(o, "uuid=");
        for (unsigned i = 0; i < 16; i++) {
            out_add(o, "%02x%s", m->payload.object.uuid[i],
                    (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
        }
        break;
    case VC_PL_DEVSTATE:
        out_add(o, "direction=%u (%s) phase=%u", m->payload.transfer_state.direction,
                m->payload.transfer_state.direction == VHOST_TRANSFER_STATE_DIRECTION_SAVE
                    ? "save" : "load",
                m->payload.transfer_state.phase);
        break;
    case VC_PL_SHMEM_CONFIG: {
        out_add(o, "nregions=%u", m->payload.shmem.nregions);
        for (unsigned i = 0; i < VHOST_USER_MAX_SHMEM_REGIONS; i++) {
            if (m->payload.shmem.memory_sizes[i]) {
                out_add(o, " shm%u=0x%" PRIx64, i, m->payload.shmem.memory_sizes[i]);
            }
        }
        break;
    }
    case VC_PL_VRING_AREA:
        out_add(o, "index=%u%s size=0x%" PRIx64 " offset=0x%" PRIx64,
                (unsigned)(m->payload.area.u64 & VHOST_USER_VRING_IDX_MASK),
                (m->payload.area.u64 & VHOST_USER_VRING_NOFD_MASK) ? " nofd" : "",
                m->payload.area.size, m->payload.area.offset);
        break;
    case VC_PL_MMAP:
        out_add(o, "shmid=%u fd_offset=0x%" PRIx64 " shm_offset=0x%" PRIx64 " len=0x%" PRIx64
                   " flags=0x%" PRIx64,
                m->payload.mmap.shmid, m->payload.mmap.fd_offset, m->payload.mmap.shm_offset,
                m->payload.mmap.len, m->payload.mmap.flags);
        break;
    case VC_PL_OPAQUE:
    case VC_PL_SAME_SIZE:
    case VC_PL_ANY:
        if (m->hdr.size == 8) {
            out_add(o, "u64=0x%" PRIx64, m->payload.u64);
        } else {
            out_hex(o, m->payload.raw, m->hdr.size > VC_MSG_MAX_PAYLOAD ? 0 : m->hdr.size);
        }
        break;
    }
}

char *
vc_msg_format(char *buf, size_t len, VcChannel ch, const VcMsg *m, const VcMsg *request)
{
    Out o = {buf, len, 0};
    const VcMsgInfo *info = vc_msg_info(ch, m->hdr.request);
    bool is_reply = (m->hdr.flags & VHOST_USER_REPLY_MASK) != 0;
    VcPayloadKind kind;

    if (len == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (!info) {
        out_hex(&o, m->payload.raw, m->hdr.size > VC_MSG_MAX_PAYLOAD ? 0 : m->hdr.size);
        return buf;
    }
    if (is_reply) {
        kind = request ? vc_msg_reply_kind(ch, request, false) : info->reply_payload;
    } else {
        kind = info->payload;
    }
    out_payload(&o, ch, kind, m);
    return buf;
}

char *
vc_msg_fault_describe(char *buf, size_t len, unsigned faults, VcChannel ch,
                      const VcMsg *request, const VcMsg *m)
{
    Out o = {buf, len, 0};
    const char *what = vc_msg_short_name(ch, request ? request->hdr.request : m->hdr.request);
    const char *sep = ": ";

    if (len == 0) {
        return buf;
    }
    buf[0] = '\0';
    out_add(&o, "%s %s", what, request ? "reply" : "request");
    if (faults & (VC_MSG_FAULT_VERSION | VC_MSG_FAULT_REPLY_BIT | VC_MSG_FAULT_FLAGS)) {
        out_add(&o, "%sflags 0x%x, want 0x%x", sep, m->hdr.flags,
                request ? VHOST_USER_VERSION | VHOST_USER_REPLY_MASK
                        : VHOST_USER_VERSION | (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK));
        sep = "; ";
        if (faults & VC_MSG_FAULT_VERSION) {
            out_add(&o, " (version %u)", m->hdr.flags & VHOST_USER_VERSION_MASK);
        }
        if (faults & VC_MSG_FAULT_REPLY_BIT) {
            out_add(&o, request ? " (REPLY bit clear)" : " (REPLY bit set)");
        }
        if (faults & VC_MSG_FAULT_FLAGS) {
            out_add(&o, " (undefined or NEED_REPLY bits set)");
        }
    }
    if (faults & VC_MSG_FAULT_REQUEST) {
        out_add(&o, "%sanswers request %u (%s)", sep, m->hdr.request,
                vc_msg_short_name(ch, m->hdr.request));
        sep = "; ";
    }
    if (faults & VC_MSG_FAULT_UNKNOWN) {
        out_add(&o, "%sunknown request id %u", sep, m->hdr.request);
        sep = "; ";
    }
    if (faults & (VC_MSG_FAULT_SIZE | VC_MSG_FAULT_FIELD)) {
        const VcMsgInfo *info = vc_msg_info(ch, request ? request->hdr.request : m->hdr.request);
        VcPayloadKind kind = !info ? VC_PL_ANY
                             : request ? vc_msg_reply_kind(ch, request, false) : info->payload;
        if (kind == VC_PL_SAME_SIZE || kind == VC_PL_CONFIG_REPLY) {
            out_add(&o, "%ssize %u, want %u", sep, m->hdr.size, request->hdr.size);
        } else if (faults & VC_MSG_FAULT_FIELD) {
            out_add(&o, "%ssize %u does not match the length inside the payload", sep,
                    m->hdr.size);
        } else {
            VcMsg tmp;
            memcpy(&tmp.hdr, &m->hdr, sizeof(tmp.hdr));
            memset(&tmp.payload, 0, 16);
            out_add(&o, "%ssize %u, want %u", sep, m->hdr.size,
                    kind == VC_PL_MEM_TABLE ? 8 + 32 * 0 : canonical_size(kind, &tmp));
            if (kind == VC_PL_MEM_TABLE) {
                out_add(&o, " + 32 per region");
            }
        }
        sep = "; ";
    }
    if (faults & VC_MSG_FAULT_FDS) {
        const VcMsgInfo *info = vc_msg_info(ch, request ? request->hdr.request : m->hdr.request);
        unsigned lo = 0, hi = 0;
        if (info) {
            vc_msg_expected_fds(request ? info->reply_fds : info->fds, m, &lo, &hi);
        }
        if (lo == hi) {
            out_add(&o, "%s%u fds, want %u", sep, m->nfds, lo);
        } else {
            out_add(&o, "%s%u fds, want %u to %u", sep, m->nfds, lo, hi);
        }
    }
    return buf;
}

void
vc_msg_close_fds(VcMsg *m)
{
    for (unsigned i = 0; i < m->nfds && i < VC_MSG_MAX_FDS; i++) {
        if (m->fds[i] >= 0) {
            close(m->fds[i]);
        }
    }
    m->nfds = 0;
}

int
vc_msg_take_fd(VcMsg *m, unsigned i)
{
    int fd;

    if (i >= m->nfds || i >= VC_MSG_MAX_FDS) {
        return -1;
    }
    fd = m->fds[i];
    m->fds[i] = -1;
    return fd;
}
