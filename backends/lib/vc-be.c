/*
 * vc-be.c -- one vhost-user connection: receive, validate, dispatch, reply.
 *
 * Dispatch is a table indexed by request id, next to the codec's table that
 * says what each request looks like and when it is legal. A request is
 * serviced only when the codec finds it well-formed, its gating features
 * are negotiated and a handler exists; anything else is rejected without
 * side effects (vhost-user.rst "Communication": a non-zero ack when the
 * front end asked for one, otherwise nothing).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

typedef enum VcBeResult {
    VC_BE_OK,       /* applied: ack 0, or the typed reply the handler filled */
    VC_BE_REJECT,   /* not applied: non-zero ack when one was asked for */
    VC_BE_SILENT,   /* send nothing at all (the postcopy table ack; mutants) */
    VC_BE_CLOSE,    /* end the connection (INBAND without its partners; mutants) */
} VcBeResult;

typedef VcBeResult (*VcBeHandler)(VcBe *be, VcMsg *m, VcMsg *reply);

static void
vnote(VcBe *be, const char *fmt, va_list ap)
{
    char line[1024];

    vsnprintf(line, sizeof(line), fmt, ap);
    fprintf(stderr, "%s: %s\n", be->dev.prog, line);
}

void
vc_be_note(VcBe *be, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnote(be, fmt, ap);
    va_end(ap);
}

void
vc_be_log(VcBe *be, const char *fmt, ...)
{
    va_list ap;

    if (!be->verbose) {
        return;
    }
    va_start(ap, fmt);
    vnote(be, fmt, ap);
    va_end(ap);
}

VcMutant
vc_be_mutant(const VcBe *be)
{
    return be->mutant;
}

uint64_t
vc_be_features(const VcBe *be)
{
    return be->features;
}

uint64_t
vc_be_pfeatures(const VcBe *be)
{
    return be->pfeatures;
}

bool
vc_be_connected(const VcBe *be)
{
    return be->sock >= 0;
}

void
vc_be_event(VcBe *be, VcBeEvent ev, unsigned q)
{
    if (be->dev.event) {
        be->dev.event(be, ev, q, be->dev.opaque);
    }
}

unsigned
vc_be_queue_flags(const VcBe *be, unsigned q)
{
    return be->dev.queue_flags ? be->dev.queue_flags(q, be->dev.opaque) : 0;
}

bool
vc_be_suspended(const VcBe *be)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        if (be->vq[q].started) {
            return false;
        }
    }
    return true;
}

void
vc_be_drain_all(VcBe *be)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        vc_be_event(be, VC_BE_EV_RING_DRAIN, q);
        vc_be_vring_complete_due(be, &be->vq[q], true);
    }
}

int
vc_be_watch(VcBe *be, int fd, void (*cb)(VcBe *be, int fd, void *opaque), void *opaque)
{
    if (be->nwatch == VC_BE_MAX_WATCHES) {
        return -ENOSPC;
    }
    be->watch[be->nwatch++] = (VcBeWatch){fd, cb, opaque};
    return 0;
}

/* Drops everything that belongs to a connection. */
static void
conn_reset(VcBe *be)
{
    bool was_connected = be->sock >= 0;

    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        vc_be_vring_forget(be, &be->vq[q]);
    }
    vc_be_postcopy_reset(be);
    vc_be_mem_clear(be);
    vc_be_log_clear(be);
    vc_be_iotlb_clear(be);
    vc_be_inflight_clear(be);
    vc_be_state_reset(be);
    vc_be_close_fd(&be->backend_fd);
    vc_be_chan_reset(be);
    be->features = 0;
    be->pfeatures = 0;
    be->features_set = false;
    be->owner = false;
    be->mem_seen = false;
    be->pfeat_answered = false;
    be->status = 0;
    be->status_zeroed = false;
    be->status_broken = false;
    be->config_change_pending = false;
    be->shared_object_sent = false;
    be->ever_started = false;
    be->after_stop_due = -1;
    vc_be_shm_forget(be);
    if (was_connected) {
        vc_be_event(be, VC_BE_EV_DISCONNECT, 0);
    }
}

VcBe *
vc_be_new(const VcBeDevice *dev, const VcBeOptions *opts)
{
    VcBe *be = calloc(1, sizeof(*be));

    if (!be) {
        return NULL;
    }
    be->dev = *dev;
    if (be->dev.num_queues == 0 || be->dev.num_queues > VC_BE_MAX_QUEUES) {
        be->dev.num_queues = be->dev.num_queues ? VC_BE_MAX_QUEUES : 1;
    }
    be->mutant = opts->mutant;
    be->verbose = opts->verbose;
    be->null_mode = opts->null_mode;
    be->max_mem_slots = opts->max_mem_slots ? opts->max_mem_slots : VC_BE_DEFAULT_MEM_SLOTS;
    be->offered_features = dev->features;
    be->offered_pfeatures = dev->pfeatures;
    if (opts->inband == 0) {
        be->offered_pfeatures &= ~VC_PF(INBAND_NOTIFICATIONS);
    } else if (opts->inband == 1) {
        be->offered_pfeatures |= VC_PF(INBAND_NOTIFICATIONS);
    }
    /* Offered means implemented: postcopy only where a userfaultfd can be had. */
    if ((be->offered_pfeatures & VC_PF(PAGEFAULT)) && !vc_be_postcopy_probe()) {
        be->offered_pfeatures &= ~VC_PF(PAGEFAULT);
    }
    if (be->mutant == VC_MUT_NO_MQ) {
        be->offered_pfeatures &= ~VC_PF(MQ);
    }
    if (be->mutant == VC_MUT_OFFERS_INFLIGHT_BASE) {
        be->offered_pfeatures |= VC_PF(GET_VRING_BASE_INFLIGHT);
        be->offered_pfeatures &= ~VC_PF(INFLIGHT_SHMFD);
    }
    if (be->mutant == VC_MUT_OFFERS_CONFIG) {
        be->offered_pfeatures |= VC_PF(CONFIG);
    }
    if (be->mutant == VC_MUT_IOMMU_WITHOUT_BACKEND_REQ && (be->offered_features & VC_BE_F_IOMMU)) {
        be->offered_pfeatures &= ~VC_PF(BACKEND_REQ);
    }
    /* SET_MEM_TABLE may carry 8 regions even when fewer slots are announced. */
    be->regions_cap = be->max_mem_slots > VHOST_MEMORY_BASELINE_NREGIONS
                          ? be->max_mem_slots : VHOST_MEMORY_BASELINE_NREGIONS;
    be->regions = calloc(be->regions_cap, sizeof(*be->regions));
    be->iotlb = calloc(VC_BE_IOTLB_ENTRIES, sizeof(*be->iotlb));
    be->state_buf = calloc(1, VC_BE_STATE_MAX);
    if (!be->regions || !be->iotlb || !be->state_buf || vc_be_shm_init(be) < 0) {
        free(be->regions);
        free(be->iotlb);
        free(be->state_buf);
        free(be);
        return NULL;
    }
    be->sock = -1;
    be->backend_fd = -1;
    be->state_fd = -1;
    be->state_kept_fd = -1;
    be->uffd = -1;
    be->leaked_fd = -1;
    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        vc_be_vring_init(&be->vq[q], q);
    }
    conn_reset(be);
    return be;
}

void
vc_be_free(VcBe *be)
{
    if (!be) {
        return;
    }
    conn_reset(be);
    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        vc_be_vring_free(&be->vq[q]);
    }
    free(be->regions);
    free(be->iotlb);
    free(be->state_buf);
    vc_be_shm_free(be);
    free(be);
}

/*
 * A ring index from a vring request. Indices at or beyond the queue count
 * are rejected (SPEC-FACTS VU-MQ-02): never index the array with peer data.
 */
static VcBeVring *
vring_of(VcBe *be, uint32_t index)
{
    if (index >= be->dev.num_queues) {
        if (be->mutant == VC_MUT_CRASH_ON_BAD_INDEX) {
            abort();
        }
        if (be->mutant == VC_MUT_RING_INDEX_WRAPS) {
            /* Mutant: the index is taken modulo the ring count instead of being refused. */
            return &be->vq[index % be->dev.num_queues];
        }
        vc_be_note(be, "ring index %u out of range (%u queues)", index, be->dev.num_queues);
        return NULL;
    }
    return &be->vq[index];
}

static bool
any_ring_started(const VcBe *be)
{
    return !vc_be_suspended(be);
}

static bool
fd_is_fifo(int fd)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Why the memory table refused a region, in words. */
static const char *
mem_error(int r)
{
    switch (r) {
    case -ENOSPC:
        return "no free memory slot";
    case -EEXIST:
        return "overlaps a mapped region";
    case -ERANGE:
        return "region runs past the end of its fd";
    case -EINVAL:
        return "empty, overflowing or overlapping region";
    default:
        return strerror(-r);
    }
}

static void
reply_u64(VcMsg *reply, uint64_t v)
{
    reply->payload.u64 = v;
    reply->hdr.size = sizeof(uint64_t);
}

/* ---- handlers, one per request the library implements ---- */

static VcBeResult
h_get_features(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (be->mutant == VC_MUT_GET_FEATURES_ONCE && any_ring_started(be)) {
        return VC_BE_SILENT;
    }
    if (be->mutant == VC_MUT_MUTE_WHILE_SUSPENDED && be->ever_started && vc_be_suspended(be)) {
        return VC_BE_SILENT;
    }
    reply_u64(reply, be->offered_features);
    return VC_BE_OK;
}

static VcBeResult
h_set_features(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint64_t v = m->payload.u64;
    uint64_t changed = v ^ be->features;

    if (v & ~be->offered_features) {
        vc_be_note(be, "SET_FEATURES 0x%llx acks bits that were not offered",
                   (unsigned long long)v);
        return VC_BE_REJECT;
    }
    if (changed & (VC_BE_F_IOMMU | VC_BE_F_PACKED)) {
        /* The address space or the ring layout changes: nothing deferred may survive it. */
        vc_be_drain_all(be);
    }
    be->features = v;
    be->features_set = true;
    if (changed & VC_BE_F_IOMMU) {
        vc_be_iotlb_clear(be);
    }
    if (changed & (VC_BE_F_IOMMU | VC_BE_F_PACKED)) {
        vc_be_vring_remap_all(be);
    }
    /*
     * vhost-user.rst "Ring states": without PROTOCOL_FEATURES every ring is
     * enabled at once. SET_FEATURES never disables a ring.
     */
    if (!(v & VC_F_PROTO) && be->mutant != VC_MUT_ALWAYS_NEED_ENABLE) {
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            be->vq[q].enabled = true;
            vc_be_vring_process(be, &be->vq[q]);
        }
    }
    return VC_BE_OK;
}

static VcBeResult
h_set_owner(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (be->owner) {
        vc_be_note(be, "SET_OWNER: the session already has an owner");
        return VC_BE_REJECT;
    }
    be->owner = true;
    if (be->mutant == VC_MUT_NO_ACK_SET_OWNER) {
        return VC_BE_SILENT;
    }
    return VC_BE_OK;
}

/* Deprecated; vhost-user.rst RESET_OWNER: only disable the rings, keep the rest. */
static VcBeResult
h_reset_owner(VcBe *be, VcMsg *m, VcMsg *reply)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        be->vq[q].enabled = false;
        be->vq[q].was_runnable = false;
    }
    if (be->mutant == VC_MUT_RESET_OWNER_DROPS_STATE) {
        /* Mutant: the "connection state" interpretation the spec warns about. */
        for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
            vc_be_vring_forget(be, &be->vq[q]);
        }
        vc_be_mem_clear(be);
        be->features = 0;
        be->features_set = false;
    }
    return VC_BE_OK;
}

/* Postcopy: the reply carries our mapping of each region as its user address. */
static void
postcopy_table_reply(VcBe *be, const VcMsg *m, VcMsg *reply)
{
    reply->payload.memory = m->payload.memory;
    for (unsigned i = 0; i < be->nregions && i < VHOST_MEMORY_BASELINE_NREGIONS; i++) {
        reply->payload.memory.regions[i].userspace_addr = (uintptr_t)be->regions[i].hva;
    }
    reply->hdr.size = m->hdr.size;
}

static VcBeResult
h_set_mem_table(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int r;

    if (be->postcopy_listen && m->payload.memory.nregions == 0) {
        /*
         * vhost-user.rst: the front end acks our region table with an empty
         * SET_MEM_TABLE; only now may the memory be touched (and fault).
         */
        if (!be->postcopy_wait_ack) {
            vc_be_note(be, "SET_MEM_TABLE without regions outside a postcopy exchange");
            return VC_BE_REJECT;
        }
        be->postcopy_wait_ack = false;
        for (unsigned i = 0; i < be->nregions; i++) {
            (void)vc_be_postcopy_register(be, &be->regions[i]);
        }
        vc_be_vring_process_all(be);
        return VC_BE_SILENT;
    }
    r = vc_be_mem_set_table(be, m);
    if (r < 0) {
        vc_be_note(be, "SET_MEM_TABLE refused: %s", mem_error(r));
        if (be->postcopy_listen) {
            /* The postcopy reply is a table; an empty one says we failed. */
            reply->hdr.size = m->hdr.size;
            memset(&reply->payload.memory, 0, sizeof(reply->payload.memory));
            return VC_BE_OK;
        }
        return VC_BE_REJECT;
    }
    if (be->postcopy_listen && be->mutant != VC_MUT_POSTCOPY_ACK_ONLY) {
        postcopy_table_reply(be, m, reply);
    }
    return VC_BE_OK;
}

/* vhost-user.rst SET_LOG_BASE with LOG_SHMFD: always answered, u64 0 on success. */
static VcBeResult
h_set_log_base(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int r;

    if (!(be->pfeatures & VC_PF(LOG_SHMFD)) || m->nfds != 1) {
        vc_be_note(be, "SET_LOG_BASE without LOG_SHMFD and its fd is not supported");
        return VC_BE_REJECT;
    }
    r = vc_be_log_set_base(be, m);
    if (r < 0) {
        vc_be_note(be, "SET_LOG_BASE: cannot map the log: %s", strerror(-r));
        reply_u64(reply, 1);
        return VC_BE_OK;
    }
    return VC_BE_OK;
}

static VcBeResult
h_set_vring_num(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.state.index);
    int r;

    if (!vq) {
        return VC_BE_REJECT;
    }
    if (be->mutant == VC_MUT_CLOSE_ON_EARLY_VRING && !be->mem_seen) {
        vc_be_note(be, "SET_VRING_NUM before a memory table: closing");
        return VC_BE_CLOSE;
    }
    r = vc_be_vring_set_num(be, vq, m->payload.state.num);
    if (r < 0) {
        vc_be_note(be, "SET_VRING_NUM %u: %s", m->payload.state.num,
                   r == -EINVAL ? "not a valid ring size (split: a power of two in 1..32768)"
                                : strerror(-r));
        return VC_BE_REJECT;
    }
    return VC_BE_OK;
}

static VcBeResult
h_set_vring_addr(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.addr.index);
    int r;

    if (!vq) {
        return VC_BE_REJECT;
    }
    r = vc_be_vring_check_addr(be, vq, &m->payload.addr);
    if (r < 0) {
        vc_be_note(be, "SET_VRING_ADDR ring %u: %s", vq->index,
                   r == -EFAULT ? "address outside the memory table"
                                : "unsupported flags or misaligned address");
        return VC_BE_REJECT;
    }
    vq->addr = m->payload.addr;
    vq->addr_set = true;
    vq->broken = false;
    vq->stalled = false;
    vc_be_vring_remap(be, vq);
    return VC_BE_OK;
}

static VcBeResult
h_set_vring_base(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.state.index);

    if (!vq) {
        return VC_BE_REJECT;
    }
    vc_be_vring_set_base(be, vq, m->payload.state.num);
    if (be->mutant == VC_MUT_IGNORE_SET_BASE) {
        vq->last_avail_idx = 0;
    }
    vq->broken = false;
    vq->stalled = false;
    return VC_BE_OK;
}

/* Mutants that act once the last started ring has been stopped. */
static void
last_ring_stopped(VcBe *be, VcBeVring *vq)
{
    switch (be->mutant) {
    case VC_MUT_TOUCH_USED_AFTER_STOP:
    case VC_MUT_CALL_AFTER_STOP:
    case VC_MUT_LOG_AFTER_STOP:
    case VC_MUT_CHANNEL_WHILE_SUSPENDED:
        be->after_stop_due = vc_now_ms() + VC_BE_AFTER_STOP_MS;
        be->after_stop_ring = (int)vq->index;
        break;
    default:
        break;
    }
}

static void
after_stop_act(VcBe *be)
{
    VcBeVring *vq;

    be->after_stop_due = -1;
    if (be->after_stop_ring < 0 || (unsigned)be->after_stop_ring >= be->dev.num_queues) {
        return;
    }
    vq = &be->vq[be->after_stop_ring];
    if (!vq->ready || !vc_be_suspended(be)) {
        return;
    }
    switch (be->mutant) {
    case VC_MUT_TOUCH_USED_AFTER_STOP:
        if (vq->packed) {
            vq->dev_ev->flags ^= htole16(VRING_PACKED_EVENT_FLAG_DISABLE);
        } else {
            vq->vr.used->flags ^= htole16(VRING_USED_F_NO_NOTIFY);
        }
        break;
    case VC_MUT_CALL_AFTER_STOP:
        vc_be_notifier_write(vq->call_fd, vq->call_fifo);
        break;
    case VC_MUT_LOG_AFTER_STOP:
        vc_be_log_one_more(be, (vq->addr.flags & VC_BE_VRING_F_LOG) ? vq->addr.log_guest_addr : 0);
        break;
    case VC_MUT_CHANNEL_WHILE_SUSPENDED:
        if ((be->pfeatures & VC_PF(CONFIG)) && vc_be_chan_ok(be)) {
            vc_be_send_config_change(be);
        }
        break;
    case VC_MUT_SHM_UNMAP_WHILE_SUSPENDED:
        vc_be_shm_after_stop(be);
        break;
    default:
        break;
    }
}

/*
 * vhost-user.rst GET_VRING_BASE: stop the ring, complete what is in flight
 * first, and answer the next avail index to process.
 */
static VcBeResult
h_get_vring_base(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.state.index);
    bool was_started;

    if (!vq) {
        return VC_BE_REJECT;
    }
    was_started = vq->started;
    if (be->mutant != VC_MUT_REPLY_BEFORE_DRAIN) {
        vc_be_event(be, VC_BE_EV_RING_DRAIN, vq->index);
        vc_be_vring_complete_due(be, vq, true);
    }
    /* A shared-memory unmap goes out now, while the ring still runs. */
    vc_be_shm_ring_stopping(be, vq);
    reply->payload.state.index = vq->index;
    reply->payload.state.num = be->mutant == VC_MUT_GET_BASE_ZERO ? 0 : vc_be_vring_base(be, vq);
    reply->hdr.size = sizeof(struct vhost_vring_state);
    if (be->mutant != VC_MUT_RUN_AFTER_GET_BASE) {
        vc_be_vring_stop(be, vq);
    }
    if (be->mutant == VC_MUT_STOP_STOPS_ALL) {
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            vc_be_vring_stop(be, &be->vq[q]);
        }
    }
    if (be->mutant == VC_MUT_GET_BASE_RESETS) {
        vq->last_avail_idx = 0;
    }
    if (was_started && vc_be_suspended(be)) {
        last_ring_stopped(be, vq);
    }
    return VC_BE_OK;
}

/*
 * SET_VRING_KICK/CALL/ERR share the u64: bits 0..7 ring index, bit 8 NOFD.
 * The codec already checked that exactly one fd came unless NOFD is set.
 */
static VcBeVring *
notifier_target(VcBe *be, VcMsg *m, int *fd, bool *nofd)
{
    uint64_t v = m->payload.u64;
    VcBeVring *vq;

    if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) {
        vc_be_note(be, "%s: reserved bits set in 0x%llx", vc_msg_short_name(VC_CHAN_MAIN,
                   m->hdr.request), (unsigned long long)v);
        return NULL;
    }
    vq = vring_of(be, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK));
    if (!vq) {
        return NULL;
    }
    *nofd = (v & VHOST_USER_VRING_NOFD_MASK) != 0;
    *fd = *nofd ? -1 : vc_msg_take_fd(m, 0);
    return vq;
}

static VcBeResult
h_set_vring_kick(VcBe *be, VcMsg *m, VcMsg *reply)
{
    bool nofd;
    int fd;
    VcBeVring *vq = notifier_target(be, m, &fd, &nofd);

    if (!vq) {
        return VC_BE_REJECT;
    }
    if (be->mutant == VC_MUT_PIPE_UNSUPPORTED && fd_is_fifo(fd)) {
        vc_be_close_fd(&fd);    /* Mutant: a pipe counts as no fd at all. */
    }
    vc_be_close_fd(&vq->kick_fd);
    vq->kick_fd = fd;
    vq->kick_nofd = nofd;
    vq->kick_watched = fd >= 0;
    vq->broken = false;
    vq->stalled = false;
    if (be->mutant == VC_MUT_ENABLE_RESET_BY_KICK) {
        vq->enabled = false;
    }
    /* vhost-user.rst "Inflight I/O tracking": the ring's region, recovered if need be. */
    vq->inflight_bind = true;
    vc_be_vring_bind_inflight(be, vq);
    /* vhost-user.rst "Ring states": with NOFD the ring starts now and is polled. */
    if (nofd || (fd >= 0 && be->mutant == VC_MUT_PROCESS_ON_SET_KICK)) {
        if (!vq->started) {
            vc_be_vring_start(be, vq);
        }
    }
    vc_be_vring_process(be, vq);
    return VC_BE_OK;
}

static VcBeResult
h_set_vring_call(VcBe *be, VcMsg *m, VcMsg *reply)
{
    bool nofd;
    int fd;
    VcBeVring *vq = notifier_target(be, m, &fd, &nofd);

    if (!vq) {
        return VC_BE_REJECT;
    }
    if (be->mutant == VC_MUT_PIPE_UNSUPPORTED && fd_is_fifo(fd)) {
        vc_be_close_fd(&fd);
    }
    if (be->mutant == VC_MUT_CALL_SWAP_STALLS && vq->started) {
        vq->stalled = true;     /* Mutant: the ring stops until it is set up again. */
    }
    /* Single-threaded: once the ack is out the old fd is never used again. */
    if (be->mutant == VC_MUT_OLD_CALL_FD && vq->call_fd >= 0) {
        vc_be_close_fd(&vq->old_call_fd);
        vq->old_call_fd = vq->call_fd;
        vq->old_call_fifo = vq->call_fifo;
        vq->call_fd = -1;
    }
    vc_be_close_fd(&vq->call_fd);
    vq->call_fd = fd;
    vq->call_fifo = fd_is_fifo(fd);
    vq->call_nofd = nofd;
    return VC_BE_OK;
}

static VcBeResult
h_set_vring_err(VcBe *be, VcMsg *m, VcMsg *reply)
{
    bool nofd;
    int fd;
    VcBeVring *vq = notifier_target(be, m, &fd, &nofd);

    if (!vq) {
        return VC_BE_REJECT;
    }
    vc_be_close_fd(&vq->err_fd);
    vq->err_fd = fd;
    vq->err_fifo = fd_is_fifo(fd);
    return VC_BE_OK;
}

static VcBeResult
h_get_protocol_features(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (be->mutant == VC_MUT_GET_PFEAT_ONCE && be->pfeat_answered) {
        return VC_BE_SILENT;
    }
    be->pfeat_answered = true;
    reply_u64(reply, be->offered_pfeatures);
    return VC_BE_OK;
}

/* SPEC-FACTS VU-NEG-02: legal before any SET_FEATURES (QEMU's order). */
static VcBeResult
h_set_protocol_features(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint64_t v = m->payload.u64;
    uint64_t inband_needs = VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK);

    if (v & ~be->offered_pfeatures) {
        vc_be_note(be, "SET_PROTOCOL_FEATURES 0x%llx acks bits that were not offered",
                   (unsigned long long)v);
        return VC_BE_REJECT;
    }
    /*
     * vhost-user.rst "In-band notifications": negotiating them without
     * BACKEND_REQ and REPLY_ACK is an error the back end answers by closing
     * the connection.
     */
    if ((v & VC_PF(INBAND_NOTIFICATIONS)) && (v & inband_needs) != inband_needs &&
        be->mutant != VC_MUT_INBAND_NO_CLOSE) {
        vc_be_note(be, "SET_PROTOCOL_FEATURES: INBAND_NOTIFICATIONS without BACKEND_REQ and "
                   "REPLY_ACK; closing the connection");
        return VC_BE_CLOSE;
    }
    if (be->mutant == VC_MUT_PFEAT_AFTER_FEATURES && !be->features_set) {
        return VC_BE_OK;        /* Mutant: acked, not stored. */
    }
    be->pfeatures = v;
    return VC_BE_OK;
}

static VcBeResult
h_get_queue_num(VcBe *be, VcMsg *m, VcMsg *reply)
{
    unsigned n = be->dev.queue_num ? be->dev.queue_num : be->dev.num_queues;

    reply_u64(reply, be->mutant == VC_MUT_QUEUE_NUM_ZERO ? 0 : n);
    return VC_BE_OK;
}

static void
set_enable(VcBe *be, VcBeVring *vq, bool on)
{
    vq->enabled = on;
    if (!on) {
        vq->was_runnable = false;
    }
    /* A started ring that becomes enabled runs what is already available. */
    vc_be_vring_process(be, vq);
}

static VcBeResult
h_set_vring_enable(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.state.index);

    if (!vq) {
        return VC_BE_REJECT;
    }
    if (m->payload.state.num > 1) {
        vc_be_note(be, "SET_VRING_ENABLE num %u is neither 0 nor 1", m->payload.state.num);
        return VC_BE_REJECT;
    }
    if (be->mutant == VC_MUT_ENABLE_APPLIES_TO_ALL) {
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            set_enable(be, &be->vq[q], m->payload.state.num == 1);
        }
        return VC_BE_OK;
    }
    set_enable(be, vq, m->payload.state.num == 1);
    return VC_BE_OK;
}

static VcBeResult
h_u64_request(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (!be->dev.u64_request ||
        be->dev.u64_request(be, m->hdr.request, m->payload.u64, be->dev.opaque) < 0) {
        return VC_BE_REJECT;
    }
    return VC_BE_OK;
}

/* Requests a device serves with the fd they carry (GPU_SET_SOCKET). */
static VcBeResult
h_fd_request(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (!be->dev.fd_request) {
        vc_be_note(be, "rejected %s: not supported",
                   vc_msg_short_name(VC_CHAN_MAIN, m->hdr.request));
        return VC_BE_REJECT;
    }
    return be->dev.fd_request(be, m->hdr.request, vc_msg_take_fd(m, 0), be->dev.opaque) < 0
               ? VC_BE_REJECT
               : VC_BE_OK;
}

static VcBeResult
h_set_backend_req_fd(VcBe *be, VcMsg *m, VcMsg *reply)
{
    vc_be_close_fd(&be->backend_fd);
    vc_be_chan_reset(be);
    be->backend_fd = vc_msg_take_fd(m, 0);
    if (be->mutant == VC_MUT_NACK_BACKEND_REQ) {
        reply_u64(reply, 1);
    }
    return VC_BE_OK;
}

/* vhost-user.rst IOTLB_MSG: always answered, 0 on success. */
static VcBeResult
h_iotlb_msg(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int r = vc_be_iotlb_msg(be, &m->payload.iotlb);

    if (r < 0) {
        vc_be_note(be, "IOTLB_MSG type %u iova 0x%llx size 0x%llx refused", m->payload.iotlb.type,
                   (unsigned long long)m->payload.iotlb.iova,
                   (unsigned long long)m->payload.iotlb.size);
    }
    if (be->mutant == VC_MUT_IOTLB_NO_REPLY_INVALIDATE &&
        m->payload.iotlb.type == VHOST_IOTLB_INVALIDATE) {
        return VC_BE_SILENT;
    }
    reply_u64(reply, r < 0 ? 1 : 0);
    return VC_BE_OK;
}

/*
 * Offsets count from the start of the device config space (SPEC-FACTS
 * VU-CFG-03). Returns: the offset to use, or -1 when the range is invalid.
 */
static int64_t
config_range(VcBe *be, uint32_t offset, uint32_t size)
{
    uint64_t off = offset;
    uint32_t len = be->dev.config_len;

    /* Mutant gpu-config-short: once features are acked, the space loses num_capsets. */
    if (be->mutant == VC_MUT_GPU_CONFIG_SHORT && be->features && len > 12) {
        len = 12;
    }

    if (be->mutant == VC_MUT_CONFIG_OFFSET_0X100) {
        if (off < 0x100) {
            return -1;
        }
        off -= 0x100;
    }
    if (off > len || size > len - off) {
        return -1;
    }
    return (int64_t)off;
}

/* vhost-user.rst GET_CONFIG: exactly the size asked, or an empty payload on error. */
static VcBeResult
h_get_config(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE];
    uint32_t size = m->payload.config.size;
    int64_t off;

    if (!be->dev.config_len || !be->dev.get_config) {
        if (be->mutant != VC_MUT_OFFERS_CONFIG) {
            return VC_BE_REJECT;
        }
        reply->hdr.size = 0;
        return VC_BE_OK;
    }
    off = config_range(be, m->payload.config.offset, size);
    if (off < 0) {
        vc_be_note(be, "GET_CONFIG offset %u size %u is outside the %u-byte config space",
                   m->payload.config.offset, size, be->dev.config_len);
        reply->hdr.size = 0;
        if (be->mutant == VC_MUT_CONFIG_ERROR_SHORT) {
            reply->payload.config.offset = m->payload.config.offset;
            reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE;
        }
        return VC_BE_OK;
    }
    memset(cfg, 0, sizeof(cfg));
    be->dev.get_config(be, cfg, be->dev.opaque);
    reply->payload.config.offset = m->payload.config.offset;
    reply->payload.config.size = size;
    reply->payload.config.flags = m->payload.config.flags;
    memcpy(reply->payload.config.region, cfg + off, size);
    reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + size;
    if (be->mutant == VC_MUT_CONFIG_SHORT_REPLY) {
        uint32_t cut = size >= 4 ? size - 4 : 0;

        reply->payload.config.size = cut;
        reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + cut;
    }
    return VC_BE_OK;
}

/*
 * vhost-user.rst SET_CONFIG: the flags are checked (0 = an ordinary write,
 * 1 = a write during migration, nothing else); the device refuses writes
 * to read-only fields unless the migration flag is set.
 */
static VcBeResult
h_set_config(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint32_t flags = m->payload.config.flags, size = m->payload.config.size;
    int64_t off;

    if (!be->dev.config_len || !be->dev.set_config) {
        return VC_BE_REJECT;
    }
    if (flags != VHOST_SET_CONFIG_TYPE_FRONTEND && flags != VHOST_SET_CONFIG_TYPE_MIGRATION &&
        be->mutant != VC_MUT_CONFIG_FLAGS_IGNORED) {
        vc_be_note(be, "SET_CONFIG flags 0x%x are neither 0 nor 1", flags);
        return VC_BE_REJECT;
    }
    off = config_range(be, m->payload.config.offset, size);
    if (off < 0) {
        vc_be_note(be, "SET_CONFIG offset %u size %u is outside the %u-byte config space",
                   m->payload.config.offset, size, be->dev.config_len);
        return VC_BE_REJECT;
    }
    if (size && be->dev.set_config(be, (uint32_t)off, m->payload.config.region, size, flags,
                                   be->dev.opaque) < 0) {
        vc_be_note(be, "SET_CONFIG offset %u size %u flags %u refused", m->payload.config.offset,
                   size, flags);
        return VC_BE_REJECT;
    }
    return VC_BE_OK;
}

static VcBeResult
h_postcopy_advise(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int fd, r = vc_be_postcopy_advise(be, &fd);

    if (r < 0) {
        vc_be_note(be, "POSTCOPY_ADVISE: no userfaultfd: %s", strerror(-r));
        return VC_BE_REJECT;
    }
    reply->hdr.size = 0;
    if (be->mutant == VC_MUT_ADVISE_NO_FD) {
        vc_be_close_fd(&fd);
        return VC_BE_OK;
    }
    reply->fds[0] = fd;
    reply->nfds = 1;
    return VC_BE_OK;
}

static VcBeResult
h_postcopy_listen(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int r = vc_be_postcopy_listen(be);

    if (r < 0) {
        vc_be_note(be, "POSTCOPY_LISTEN: %s", strerror(-r));
        reply_u64(reply, 1);
    }
    return VC_BE_OK;
}

static VcBeResult
h_postcopy_end(VcBe *be, VcMsg *m, VcMsg *reply)
{
    vc_be_postcopy_end(be);
    if (be->mutant == VC_MUT_END_NO_REPLY) {
        return VC_BE_SILENT;
    }
    return VC_BE_OK;
}

static VcBeResult
h_get_inflight_fd(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int fd, r = vc_be_inflight_get(be, m, reply, &fd);

    if (r < 0) {
        /* vhost-user.rst: mmap_size 0 and no fd means no tracking. */
        vc_be_note(be, "GET_INFLIGHT_FD num_queues %u queue_size %u: %s",
                   m->payload.inflight.num_queues, m->payload.inflight.queue_size,
                   strerror(-r));
        memset(&reply->payload.inflight, 0, sizeof(reply->payload.inflight));
        reply->hdr.size = sizeof(reply->payload.inflight);
        return VC_BE_OK;
    }
    if (be->mutant == VC_MUT_INFLIGHT_NO_FD) {
        vc_be_close_fd(&fd);
        return VC_BE_OK;
    }
    reply->fds[0] = fd;
    reply->nfds = 1;
    return VC_BE_OK;
}

static VcBeResult
h_set_inflight_fd(VcBe *be, VcMsg *m, VcMsg *reply)
{
    int r;

    if (be->mutant == VC_MUT_INFLIGHT_NEEDS_RING) {
        bool any = false;

        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            any |= be->vq[q].num != 0;
        }
        if (!any) {
            vc_be_note(be, "SET_INFLIGHT_FD before any ring: refused");
            return VC_BE_REJECT;
        }
    }
    r = vc_be_inflight_set(be, m);
    if (r < 0) {
        vc_be_note(be, "SET_INFLIGHT_FD: %s", strerror(-r));
        return VC_BE_REJECT;
    }
    return VC_BE_OK;
}

/*
 * vhost-user.rst RESET_DEVICE: the device returns to its initial state;
 * the connection, ownership, protocol features and memory table stay.
 */
static VcBeResult
h_reset_device(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (be->mutant != VC_MUT_RESET_KEEPS_RINGS) {
        for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
            vc_be_vring_forget(be, &be->vq[q]);
        }
    }
    if (be->mutant != VC_MUT_RESET_KEEPS_STATUS) {
        be->status = 0;
    }
    be->features = 0;
    be->features_set = false;
    be->ever_started = false;
    /* QEMU frees its inflight buffer on reset and asks for a new one. */
    vc_be_inflight_clear(be);
    vc_be_state_reset(be);
    vc_be_iotlb_clear(be);
    vc_be_shm_device_reset(be);
    vc_be_event(be, VC_BE_EV_RESET, 0);
    return VC_BE_OK;
}

/* vhost-user.rst VRING_KICK: an in-band kick, as good as an eventfd's. */
static VcBeResult
h_vring_kick(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeVring *vq = vring_of(be, m->payload.state.index);

    if (!vq) {
        return VC_BE_REJECT;
    }
    vc_be_vring_kicked(be, vq);
    return VC_BE_OK;
}

static VcBeResult
h_get_max_mem_slots(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint64_t slots = be->max_mem_slots;

    if (be->mutant == VC_MUT_MAX_SLOTS_SHRINK && be->connections > 1) {
        slots = 8;
    }
    reply_u64(reply, slots);
    if (be->mutant == VC_MUT_REPLY_WRONG_SIZE) {
        reply->hdr.size = sizeof(uint32_t);
    }
    return VC_BE_OK;
}

static VcBeResult
h_add_mem_reg(VcBe *be, VcMsg *m, VcMsg *reply)
{
    VcBeRegion *added = NULL;
    int r = vc_be_mem_add(be, m, &added);

    if (r < 0) {
        vc_be_note(be, "ADD_MEM_REG refused: %s", mem_error(r));
        if (be->postcopy_listen) {
            reply->payload.mem_reg = m->payload.mem_reg;
            reply->payload.mem_reg.region.userspace_addr = 0;
            reply->hdr.size = m->hdr.size;
            return VC_BE_OK;
        }
        return VC_BE_REJECT;
    }
    if (be->postcopy_listen && be->mutant != VC_MUT_POSTCOPY_ADD_ACK_ONLY) {
        /* vhost-user.rst ADD_MEM_REG in postcopy: the reply carries our base. */
        reply->payload.mem_reg = m->payload.mem_reg;
        reply->payload.mem_reg.region.userspace_addr = added ? (uintptr_t)added->hva : 0;
        reply->hdr.size = m->hdr.size;
    }
    return VC_BE_OK;
}

static VcBeResult
h_rem_mem_reg(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (vc_be_mem_rem(be, m) < 0) {
        vc_be_note(be, "REM_MEM_REG: no region matches");
        return VC_BE_REJECT;
    }
    return VC_BE_OK;
}

static VcBeResult
h_set_status(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint64_t v = m->payload.u64;

    if (v > 0xff) {
        vc_be_note(be, "SET_STATUS 0x%llx is not a status byte", (unsigned long long)v);
        return VC_BE_REJECT;
    }
    if (be->mutant == VC_MUT_STATUS_ZERO_BREAKS && be->status_zeroed &&
        (v & VIRTIO_CONFIG_S_FEATURES_OK)) {
        /* Mutant: no second start after a stop; the device stays reset, its rings idle. */
        be->status_broken = true;
        return VC_BE_REJECT;
    }
    if (v == 0) {
        be->status_zeroed = true;
    }
    if (be->mutant != VC_MUT_STATUS_NOT_STORED) {
        be->status = (uint8_t)v;
    }
    return VC_BE_OK;
}

static VcBeResult
h_get_status(VcBe *be, VcMsg *m, VcMsg *reply)
{
    reply_u64(reply, be->status);
    return VC_BE_OK;
}

/* vhost-user.rst GET_SHARED_OBJECT: we export nothing, so: not found, no fd. */
static VcBeResult
h_get_shared_object(VcBe *be, VcMsg *m, VcMsg *reply)
{
    if (be->mutant == VC_MUT_SHARED_OBJECT_CLOSE) {
        return VC_BE_CLOSE;
    }
    reply_u64(reply, 1);
    return VC_BE_OK;
}

static VcBeResult
h_set_device_state_fd(VcBe *be, VcMsg *m, VcMsg *reply)
{
    vc_be_state_set_fd(be, m, reply);
    return VC_BE_OK;
}

static VcBeResult
h_check_device_state(VcBe *be, VcMsg *m, VcMsg *reply)
{
    reply_u64(reply, vc_be_state_check(be));
    return VC_BE_OK;
}

/* vhost-user.rst GET_SHMEM_CONFIG: always answered (vc-be-shmem.c). */
static VcBeResult
h_get_shmem_config(VcBe *be, VcMsg *m, VcMsg *reply)
{
    vc_be_shm_config(be, reply);
    return VC_BE_OK;
}

/*
 * Requests without a handler (SET_LOG_FD, crypto, GPU, SET_VRING_ENDIAN)
 * are rejected. Adding one is adding a row here and its
 * feature bit to the device's offer.
 */
static const VcBeHandler handlers[VHOST_USER_MAX] = {
    [VHOST_USER_GET_FEATURES] = h_get_features,
    [VHOST_USER_SET_FEATURES] = h_set_features,
    [VHOST_USER_SET_OWNER] = h_set_owner,
    [VHOST_USER_RESET_OWNER] = h_reset_owner,
    [VHOST_USER_SET_MEM_TABLE] = h_set_mem_table,
    [VHOST_USER_SET_LOG_BASE] = h_set_log_base,
    [VHOST_USER_SET_VRING_NUM] = h_set_vring_num,
    [VHOST_USER_SET_VRING_ADDR] = h_set_vring_addr,
    [VHOST_USER_SET_VRING_BASE] = h_set_vring_base,
    [VHOST_USER_GET_VRING_BASE] = h_get_vring_base,
    [VHOST_USER_SET_VRING_KICK] = h_set_vring_kick,
    [VHOST_USER_SET_VRING_CALL] = h_set_vring_call,
    [VHOST_USER_SET_VRING_ERR] = h_set_vring_err,
    [VHOST_USER_GET_PROTOCOL_FEATURES] = h_get_protocol_features,
    [VHOST_USER_SET_PROTOCOL_FEATURES] = h_set_protocol_features,
    [VHOST_USER_GET_QUEUE_NUM] = h_get_queue_num,
    [VHOST_USER_SET_VRING_ENABLE] = h_set_vring_enable,
    [VHOST_USER_SEND_RARP] = h_u64_request,
    [VHOST_USER_NET_SET_MTU] = h_u64_request,
    [VHOST_USER_SET_BACKEND_REQ_FD] = h_set_backend_req_fd,
    [VHOST_USER_GPU_SET_SOCKET] = h_fd_request,
    [VHOST_USER_IOTLB_MSG] = h_iotlb_msg,
    [VHOST_USER_GET_CONFIG] = h_get_config,
    [VHOST_USER_SET_CONFIG] = h_set_config,
    [VHOST_USER_POSTCOPY_ADVISE] = h_postcopy_advise,
    [VHOST_USER_POSTCOPY_LISTEN] = h_postcopy_listen,
    [VHOST_USER_POSTCOPY_END] = h_postcopy_end,
    [VHOST_USER_GET_INFLIGHT_FD] = h_get_inflight_fd,
    [VHOST_USER_SET_INFLIGHT_FD] = h_set_inflight_fd,
    [VHOST_USER_RESET_DEVICE] = h_reset_device,
    [VHOST_USER_VRING_KICK] = h_vring_kick,
    [VHOST_USER_GET_MAX_MEM_SLOTS] = h_get_max_mem_slots,
    [VHOST_USER_ADD_MEM_REG] = h_add_mem_reg,
    [VHOST_USER_REM_MEM_REG] = h_rem_mem_reg,
    [VHOST_USER_SET_STATUS] = h_set_status,
    [VHOST_USER_GET_STATUS] = h_get_status,
    [VHOST_USER_GET_SHARED_OBJECT] = h_get_shared_object,
    [VHOST_USER_SET_DEVICE_STATE_FD] = h_set_device_state_fd,
    [VHOST_USER_CHECK_DEVICE_STATE] = h_check_device_state,
    [VHOST_USER_GET_SHMEM_CONFIG] = h_get_shmem_config,
};

/*
 * Feature gating from the codec table's columns. Bit 30 counts as
 * negotiated once we offered it: protocol features are negotiated by
 * GET/SET_PROTOCOL_FEATURES on their own, QEMU sends gated requests
 * (GET_QUEUE_NUM, SET_BACKEND_REQ_FD, SET_VRING_ENABLE, ...) before its
 * first SET_FEATURES, and QEMU < 7.2 never acked bit 30 in SET_FEATURES at
 * all while still using REPLY_ACK, STATUS and friends.
 */
static bool
gating_ok(const VcBe *be, const VcMsgInfo *info)
{
    uint64_t need = info->features;

    if (need & VC_F_PROTO) {
        if (!(be->offered_features & VC_F_PROTO)) {
            return false;
        }
        need &= ~VC_F_PROTO;
    }
    if ((be->features & need) != need) {
        return false;
    }
    if ((be->pfeatures & info->pfeatures) != info->pfeatures) {
        /* Mutant no-mq still answers GET_QUEUE_NUM. */
        return be->mutant == VC_MUT_NO_MQ && info->request == VHOST_USER_GET_QUEUE_NUM;
    }
    return true;
}

/* Sends @reply and then closes the fds it carried (ours, or copies of ours). */
static int
send_reply(VcBe *be, VcMsg *reply, const VcMsg *request)
{
    int r;

    /* vhost-user.rst "Header": version 1 and REPLY; QEMU wants exactly 0x5. */
    reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
    if (be->mutant == VC_MUT_REPLY_BIT_CLEAR) {
        reply->hdr.flags = 0x1;
    } else if (be->mutant == VC_MUT_REPLY_VERSION_2) {
        reply->hdr.flags = 0x6;
    } else if (be->mutant == VC_MUT_REPLY_EXTRA_FLAGS) {
        reply->hdr.flags = 0xd;
    }
    if (be->verbose) {
        char buf[512];

        vc_be_log(be, "-> %s reply flags=0x%x size=%u fds=%u %s",
                  vc_msg_short_name(VC_CHAN_MAIN, reply->hdr.request), reply->hdr.flags,
                  reply->hdr.size, reply->nfds,
                  vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, reply, request));
    }
    r = vc_msg_send(be->sock, reply, VC_BE_SEND_TIMEOUT_MS);
    if (r < 0) {
        vc_be_note(be, "sending the %s reply failed: %s",
                   vc_msg_short_name(VC_CHAN_MAIN, reply->hdr.request), strerror(-r));
    }
    vc_msg_close_fds(reply);
    return r;
}

static int
send_ack(VcBe *be, const VcMsg *request, uint64_t value)
{
    VcMsg ack;

    vc_msg_init(&ack, request->hdr.request, VHOST_USER_REPLY_MASK);
    reply_u64(&ack, value);
    return send_reply(be, &ack, request);
}

/* vhost-user.rst "Communication" / REPLY_ACK: the ack for a rejected request. */
static int
reject(VcBe *be, const VcMsg *m)
{
    bool asked = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;

    if (asked && ((be->pfeatures & VC_PF(REPLY_ACK)) ||
                  be->mutant == VC_MUT_ACK_WITHOUT_NEGOTIATION)) {
        return send_ack(be, m, be->mutant == VC_MUT_ACK_ALWAYS_ZERO ? 0 : 1);
    }
    return 0;
}

/* Mutant postcopy-touch-early: read the first byte of every region before the ack. */
static void
touch_regions(VcBe *be)
{
    for (unsigned i = 0; i < be->nregions; i++) {
        volatile uint8_t *p = be->regions[i].hva;

        (void)*p;
    }
}

/*
 * Mutant short-payload-accepted: a u64, vring state or vring address
 * payload shorter than its type is padded with zeroes. Returns: true when
 * @m was padded.
 */
static bool
pad_short_payload(const VcMsgInfo *info, VcMsg *m)
{
    uint32_t want;

    if (!info) {
        return false;
    }
    switch (info->payload) {
    case VC_PL_U64:
    case VC_PL_VRING_STATE:
        want = 8;
        break;
    case VC_PL_VRING_ADDR:
        want = sizeof(struct vhost_vring_addr);
        break;
    default:
        return false;
    }
    if (m->hdr.size >= want) {
        return false;
    }
    memset(m->payload.raw + m->hdr.size, 0, want - m->hdr.size);
    m->hdr.size = want;
    return true;
}

/* Returns: 0 to go on, -1 to end the connection. */
static int
handle_message(VcBe *be, VcMsg *m)
{
    const VcMsgInfo *info = vc_msg_info(VC_CHAN_MAIN, m->hdr.request);
    unsigned faults;
    bool asked = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
    bool postcopy = be->postcopy_listen;
    VcBeResult res = VC_BE_REJECT;
    uint64_t pf;
    VcMsg reply;
    char buf[512];
    int r = 0;

    if (be->verbose) {
        vc_be_log(be, "<- %s flags=0x%x size=%u fds=%u %s",
                  info ? info->short_name : "UNKNOWN", m->hdr.flags, m->hdr.size, m->nfds,
                  vc_msg_format(buf, sizeof(buf), VC_CHAN_MAIN, m, NULL));
    }
    if (be->mutant == VC_MUT_KICK_NOFD_FD_LEAK && m->hdr.request == VHOST_USER_SET_VRING_KICK &&
        m->hdr.size == sizeof(uint64_t) && (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) &&
        m->nfds == 1) {
        /* Mutant: the request is refused as usual, but the stray fd stays open. */
        be->leaked_fd = dup(m->fds[0]);
    }
    if (be->mutant == VC_MUT_CRASH_ON_UNKNOWN_REQUEST && !info) {
        abort();
    }
    if (be->mutant == VC_MUT_TOO_MANY_FDS_ABORT && m->nfds > 8) {
        abort();
    }
    faults = vc_msg_check_request(VC_CHAN_MAIN, m);
    if (faults == VC_MSG_FAULT_SIZE && be->mutant == VC_MUT_SHORT_PAYLOAD_ACCEPTED &&
        pad_short_payload(info, m)) {
        faults = 0;
    }
    if (faults == VC_MSG_FAULT_SIZE && postcopy && m->hdr.request == VHOST_USER_ADD_MEM_REG &&
        m->hdr.size == sizeof(uint64_t) && m->nfds == 0 && m->payload.u64 == 0) {
        /* QEMU's ack after the last postcopy ADD_MEM_REG (vhost_user_add_remove_regions()):
         * the same request with a u64 0 and no reply. The regions are registered already. */
        vc_be_vring_process_all(be);
        res = VC_BE_SILENT;
    } else if (faults) {
        vc_be_note(be, "rejected: %s",
                   vc_msg_fault_describe(buf, sizeof(buf), faults, VC_CHAN_MAIN, NULL, m));
    } else if (!gating_ok(be, info)) {
        vc_be_note(be, "rejected %s: its feature is not negotiated", info->short_name);
    } else if (!handlers[m->hdr.request]) {
        vc_be_note(be, "rejected %s: not supported", info->short_name);
    } else {
        vc_msg_init(&reply, m->hdr.request, VHOST_USER_REPLY_MASK);
        reply_u64(&reply, 0);
        res = handlers[m->hdr.request](be, m, &reply);
    }
    /* Fds a handler did not take (stray, or of a rejected request) are closed. */
    vc_msg_close_fds(m);

    switch (res) {
    case VC_BE_CLOSE:
        return -1;
    case VC_BE_SILENT:
        return 0;
    case VC_BE_REJECT:
        return reject(be, m) < 0 ? -1 : 0;
    case VC_BE_OK:
        break;
    }
    /* A SET_PROTOCOL_FEATURES that turns REPLY_ACK on is itself acked under it. */
    pf = be->pfeatures;
    if (m->hdr.request == VHOST_USER_SET_PROTOCOL_FEATURES) {
        pf = m->payload.u64;
    }
    if (vc_msg_needs_reply(VC_CHAN_MAIN, m, pf, postcopy) ||
        (asked && be->mutant == VC_MUT_ACK_WITHOUT_NEGOTIATION)) {
        r = send_reply(be, &reply, m);
    } else {
        vc_msg_close_fds(&reply);
    }
    if (r == 0 && be->mutant == VC_MUT_DOUBLE_REPLY &&
        m->hdr.request == VHOST_USER_GET_FEATURES && asked && (pf & VC_PF(REPLY_ACK))) {
        r = send_ack(be, m, 0);
    }
    if (r == 0 && be->mutant == VC_MUT_POSTCOPY_TOUCH_EARLY &&
        m->hdr.request == VHOST_USER_SET_MEM_TABLE && be->postcopy_wait_ack) {
        touch_regions(be);
    }
    return r < 0 ? -1 : 0;
}

/* Collects SCM_RIGHTS fds into @m (needs-whole-message mutant only). */
static void
take_cmsg_fds(struct msghdr *mh, VcMsg *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (m->nfds < VC_MSG_MAX_FDS) {
                m->fds[m->nfds++] = fd;
            } else {
                close(fd);
            }
        }
    }
}

/*
 * Mutant needs-whole-message: the header as usual, then ONE non-blocking
 * recv for the payload. A payload that arrives in a later segment makes it
 * give up on the stream.
 */
static int
recv_one_shot(VcBe *be, VcMsg *m)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * VC_MSG_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    size_t got = 0;
    ssize_t n;

    m->nfds = 0;
    while (got < sizeof(m->hdr)) {
        struct iovec iov = {.iov_base = (char *)&m->hdr + got, .iov_len = sizeof(m->hdr) - got};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};

        if (vc_wait_readable(be->sock, VC_MSG_REST_MS) <= 0) {
            return -ETIME;
        }
        n = recvmsg(be->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return got == 0 ? -ECONNRESET : -EPROTO;
        }
        take_cmsg_fds(&mh, m);
        got += (size_t)n;
    }
    if (m->hdr.size > VC_MSG_MAX_PAYLOAD) {
        return -EPROTO;
    }
    if (m->hdr.size == 0) {
        return 0;
    }
    n = recv(be->sock, m->payload.raw, m->hdr.size, MSG_DONTWAIT);
    if (n != (ssize_t)m->hdr.size) {
        vc_be_note(be, "%s: payload incomplete after the header; dropping the connection",
                   vc_msg_short_name(VC_CHAN_MAIN, m->hdr.request));
        return -EPROTO;
    }
    return 0;
}

/* Returns: 0 to go on, -1 when the connection is over. */
static int
read_one(VcBe *be)
{
    VcMsg m;
    int r;

    m.nfds = 0;
    if (be->mutant == VC_MUT_NEEDS_WHOLE_MESSAGE) {
        r = recv_one_shot(be, &m);
    } else {
        r = vc_msg_recv(be->sock, &m, 0);
    }
    switch (r) {
    case 0:
        return handle_message(be, &m);
    case -EAGAIN:
        return 0;
    case -ECONNRESET:
        vc_be_log(be, "front end closed the connection");
        return -1;
    case -EMSGSIZE:
        vc_msg_close_fds(&m);
        vc_be_note(be, "rejected %s: payload of %u bytes is too large",
                   vc_msg_short_name(VC_CHAN_MAIN, m.hdr.request), m.hdr.size);
        if (m.hdr.size > (1u << 20)) {
            /* vc_msg_recv() did not skip it: the stream is out of step. */
            return -1;
        }
        return reject(be, &m) < 0 ? -1 : 0;
    default:
        vc_msg_close_fds(&m);
        vc_be_note(be, "connection dropped: %s", r == -ETIME ? "message cut short" : strerror(-r));
        return -1;
    }
}

/* The soonest of the library's deadlines, as a poll() timeout. */
static int
next_timeout(VcBe *be, int64_t now)
{
    int64_t due = -1;
    int64_t cand[3] = {vc_be_chan_next_due(be), vc_be_iotlb_next_due(be), be->after_stop_due};

    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        int64_t d = vc_be_vring_next_due(&be->vq[q]);

        if (d >= 0 && (due < 0 || d < due)) {
            due = d;
        }
    }
    for (unsigned i = 0; i < 3; i++) {
        if (cand[i] >= 0 && (due < 0 || cand[i] < due)) {
            due = cand[i];
        }
    }
    if (due < 0) {
        return -1;
    }
    return due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
}

enum { TAG_SOCK = -1, TAG_STOP = -2, TAG_CHAN = -3, TAG_STATE = -4, TAG_WATCH = -10 };

static void
serve_watches(VcBe *be, const struct pollfd *pfd, const int *tag, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (tag[i] <= TAG_WATCH && pfd[i].revents) {
            const VcBeWatch *w = &be->watch[TAG_WATCH - tag[i]];

            w->cb(be, w->fd, w->opaque);
        }
    }
}

int
vc_be_wait_idle(VcBe *be, int lfd, int sigfd)
{
    struct pollfd pfd[2 + VC_BE_MAX_WATCHES];
    int tag[2 + VC_BE_MAX_WATCHES];
    unsigned n = 0;
    int r;

    pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
    tag[n++] = TAG_SOCK;
    if (sigfd >= 0) {
        pfd[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        tag[n++] = TAG_STOP;
    }
    for (unsigned w = 0; w < be->nwatch; w++) {
        pfd[n] = (struct pollfd){.fd = be->watch[w].fd, .events = POLLIN};
        tag[n++] = TAG_WATCH - (int)w;
    }
    r = poll(pfd, n, -1);
    if (r < 0) {
        return errno == EINTR ? 2 : -errno;
    }
    if (sigfd >= 0 && pfd[1].revents) {
        return 0;
    }
    serve_watches(be, pfd, tag, n);
    return (pfd[0].revents & POLLIN) ? 1 : 2;
}

int
vc_be_serve(VcBe *be, int sock, int stop_fd)
{
    struct pollfd pfd[4 + VC_BE_MAX_QUEUES + VC_BE_MAX_WATCHES];
    int tag[4 + VC_BE_MAX_QUEUES + VC_BE_MAX_WATCHES];
    unsigned spins = 0;
    bool busy = false;
    int ret = 0;

    conn_reset(be);
    be->sock = sock;
    be->connections++;
    for (;;) {
        int64_t now;
        int timeout;
        unsigned n = 0;
        int r;

        /*
         * Busy polling (NOFD rings): between two looks at the fds and timers, 31 turns
         * serve the rings alone, since a poll() and a clock read per turn cost more than
         * the rings they serve (the bench's --null ceiling).
         */
        if (busy && (++spins & 31) != 0) {
            for (unsigned q = 0; q < be->dev.num_queues; q++) {
                if (be->vq[q].kick_nofd) {
                    vc_be_vring_process(be, &be->vq[q]);
                }
            }
            continue;
        }
        busy = false;
        now = vc_now_ms();
        timeout = next_timeout(be, now);

        pfd[n] = (struct pollfd){.fd = sock, .events = POLLIN};
        tag[n++] = TAG_SOCK;
        if (stop_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
            tag[n++] = TAG_STOP;
        }
        if (be->backend_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = be->backend_fd, .events = POLLIN};
            tag[n++] = TAG_CHAN;
        }
        if (be->state_loading && be->state_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = be->state_fd, .events = POLLIN};
            tag[n++] = TAG_STATE;
        }
        for (unsigned w = 0; w < be->nwatch; w++) {
            pfd[n] = (struct pollfd){.fd = be->watch[w].fd, .events = POLLIN};
            tag[n++] = TAG_WATCH - (int)w;
        }
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            VcBeVring *vq = &be->vq[q];

            if (vq->kick_fd >= 0 && vq->kick_watched) {
                pfd[n] = (struct pollfd){.fd = vq->kick_fd, .events = POLLIN};
                tag[n++] = (int)q;
            }
            /* A NOFD ring is busy-polled while it can run. */
            if (vq->kick_nofd && vc_be_vring_runnable(be, vq)) {
                timeout = 0;
                busy = true;
            }
        }
        r = poll(pfd, n, timeout);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            vc_be_note(be, "poll: %s", strerror(errno));
            break;
        }
        if (stop_fd >= 0 && pfd[1].revents) {
            ret = 1;
            break;
        }
        /* Kicks first: a message may replace the fds polled above. */
        for (unsigned i = 0; i < n; i++) {
            if (tag[i] >= 0 && pfd[i].revents) {
                VcBeVring *vq = &be->vq[tag[i]];

                if (vq->kick_fd == pfd[i].fd && vq->kick_watched) {
                    vc_be_vring_kick(be, vq);
                }
            }
        }
        for (unsigned i = 0; i < n; i++) {
            if (!pfd[i].revents) {
                continue;
            }
            if (tag[i] == TAG_CHAN && be->backend_fd == pfd[i].fd) {
                vc_be_chan_read(be);
            } else if (tag[i] == TAG_STATE && be->state_loading && be->state_fd == pfd[i].fd) {
                vc_be_state_read(be);
            }
        }
        serve_watches(be, pfd, tag, n);
        if (pfd[0].revents && read_one(be) < 0) {
            break;
        }
        now = vc_now_ms();
        vc_be_chan_expire(be, now);
        vc_be_iotlb_expire(be, now);
        if (be->after_stop_due >= 0 && be->after_stop_due <= now) {
            after_stop_act(be);
        }
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            VcBeVring *vq = &be->vq[q];

            if (vq->kick_nofd) {
                vc_be_vring_process(be, vq);
            }
            vc_be_vring_complete_due(be, vq, false);
        }
    }
    conn_reset(be);
    be->sock = -1;
    return ret;
}
