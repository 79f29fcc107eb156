/*
 * vc-frontend.c -- the emulated vhost-user front end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vc-error.h"
#include "vc-frontend.h"
#include "wire/vc-msg-io.h"
#include "wire/vc-msg-table.h"

#define DEFAULT_RING_SIZE 256

static gint next_session;
#define DEFAULT_MEM_SIZE (2ull << 20)
#define GIB (1ull << 30)

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
    }
    *fd = -1;
}

VcFrontend *
vc_fe_new(int sock, const VcFeConfig *cfg)
{
    VcFrontend *fe = g_new0(VcFrontend, 1);

    if (cfg) {
        fe->cfg = *cfg;
    }
    fe->profile = fe->cfg.profile ? fe->cfg.profile : vc_profile_default();
    fe->timeout_ms = fe->cfg.timeout_ms > 0 ? fe->cfg.timeout_ms : VC_FE_DEFAULT_TIMEOUT_MS;
    fe->num_queues = fe->cfg.num_queues ? MIN(fe->cfg.num_queues, VC_FE_MAX_QUEUES) : 1;
    if (!fe->cfg.ring_size) {
        fe->cfg.ring_size = DEFAULT_RING_SIZE;
    }
    if (!fe->cfg.mem_size) {
        fe->cfg.mem_size = DEFAULT_MEM_SIZE;
    }
    if (!fe->cfg.indirect_max) {
        fe->cfg.indirect_max = 16;
    }
    for (unsigned i = 0; i < VC_FE_MAX_QUEUES; i++) {
        VcFeQueue *q = &fe->q[i];
        q->kick_ours = q->kick_theirs = q->call_ours = q->call_theirs = -1;
        q->err_ours = q->err_theirs = q->masked_call = -1;
    }
    /* Connection numbers are unique in the process: traces tell sessions apart by them. */
    fe->conn_base = 2 * (unsigned)g_atomic_int_add(&next_session, 1);
    fe->conn = vc_conn_new(sock, fe->conn_base, VC_CHAN_MAIN);
    fe->inflight_fd = -1;
    fe->log_fd = -1;
    fe->uffd = -1;
    fe->pc_resolve = true;
    fe->iommu = fe->cfg.iommu;
    fe->iova_offset = fe->iommu ? 0x100000000000ull : 0;
    fe->iotlb_answer = true;
    if (fe->cfg.inflight_fd > 0) {
        fe->inflight_fd = fcntl(fe->cfg.inflight_fd, F_DUPFD_CLOEXEC, 3);
        fe->inflight = fe->cfg.inflight;
    }
    fe->obs = g_array_new(FALSE, TRUE, sizeof(VcObs));
    return fe;
}

static void
queue_clear(VcFeQueue *q)
{
    vc_vq_free(q->vq);
    q->vq = NULL;
    if (q->kick_theirs == q->kick_ours) {
        q->kick_theirs = -1;
    }
    if (q->call_theirs == q->call_ours) {
        q->call_theirs = -1;
    }
    if (q->err_theirs == q->err_ours) {
        q->err_theirs = -1;
    }
    close_fd(&q->kick_ours);
    close_fd(&q->kick_theirs);
    close_fd(&q->call_ours);
    close_fd(&q->call_theirs);
    close_fd(&q->err_ours);
    close_fd(&q->err_theirs);
    close_fd(&q->masked_call);
    q->notifiers = false;
}

void
vc_fe_free(VcFrontend *fe)
{
    if (!fe) {
        return;
    }
    vc_fe_shm_free(fe);
    for (unsigned i = 0; i < VC_FE_MAX_QUEUES; i++) {
        queue_clear(&fe->q[i]);
    }
    vc_conn_free(fe->conn);
    vc_conn_free(fe->bch);
    close_fd(&fe->inflight_fd);
    if (fe->log) {
        munmap(fe->log, fe->log_size);
    }
    close_fd(&fe->log_fd);
    vc_fe_postcopy_free(fe);
    vc_gmem_free(fe->gm);
    g_array_unref(fe->obs);
    g_free(fe);
}

void
vc_fe_set_vq_tap(VcFrontend *fe, VcVqTap tap, void *opaque)
{
    fe->vq_tap = tap;
    fe->vq_tap_opaque = opaque;
    for (unsigned i = 0; i < VC_FE_MAX_QUEUES; i++) {
        if (fe->q[i].vq) {
            vc_vq_set_tap(fe->q[i].vq, tap, opaque);
        }
    }
}

void
vc_fe_set_tap(VcFrontend *fe, VcConnTap tap, void *opaque)
{
    vc_conn_set_tap(fe->conn, tap, opaque);
    if (fe->bch) {
        vc_conn_set_tap(fe->bch, tap, opaque);
    }
}

guint
vc_fe_obs_count(const VcFrontend *fe)
{
    return fe->obs->len;
}

const VcObs *
vc_fe_obs(const VcFrontend *fe, guint i)
{
    return &g_array_index(fe->obs, VcObs, i);
}

static VcObs *
obs_add(VcFrontend *fe, VcObsKind kind, VcChannel ch, const VcMsg *m, unsigned faults,
        uint64_t msg_no)
{
    VcObs o = {0};

    o.kind = kind;
    o.request = m->hdr.request;
    o.flags = m->hdr.flags;
    o.size = m->hdr.size;
    o.faults = faults;
    o.nfds = m->nfds;
    o.msg_no = msg_no;
    if (m->hdr.size >= 8 && m->hdr.size <= VC_MSG_MAX_PAYLOAD) {
        o.u64 = m->payload.u64;
    }
    g_snprintf(o.text, sizeof(o.text), "%s", vc_msg_short_name(ch, m->hdr.request));
    g_array_append_val(fe->obs, o);
    return &g_array_index(fe->obs, VcObs, fe->obs->len - 1);
}

uint32_t
vc_fe_want_ack(const VcFrontend *fe)
{
    return vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK) ? VHOST_USER_NEED_REPLY_MASK
                                                                    : 0;
}

/* The profile's choice: does this front end ask for an ack on @request? */
static bool
profile_acks(const VcFrontend *fe, uint32_t request)
{
    return fe->ack_all || fe->profile->ack_everything ||
           (request < 64 && ((fe->profile->ack_requests >> request) & 1));
}

/* --- Back-end channel ---------------------------------------------------------- */

static void
send_backend_reply(VcFrontend *fe, const VcMsg *req, uint64_t status)
{
    VcMsg r;

    /* As QEMU does: reuse the request header, clear NEED_REPLY, set REPLY, u64 payload. */
    vc_msg_init(&r, req->hdr.request, VHOST_USER_REPLY_MASK);
    r.hdr.size = sizeof(uint64_t);
    r.payload.u64 = status;
    (void)vc_conn_send(fe->bch, &r, fe->timeout_ms);
}

/*
 * vhost-user.rst "IOMMU support": a miss (type 1, iova, perm) is completed
 * by sending the update on the main socket before the ack.
 */
static uint64_t
handle_iotlb_miss(VcFrontend *fe, const VcMsg *m, unsigned faults)
{
    const struct vhost_iotlb_msg *im = &m->payload.iotlb;
    uint64_t page = 4096, start;
    g_autoptr(GError) err = NULL;

    if (faults || !fe->iommu || !vc_fe_has_feature(fe, 33)) {
        return 1;
    }
    if ((im->type != VHOST_IOTLB_MISS && im->type != VHOST_IOTLB_ACCESS_FAIL) ||
        (im->perm & ~VHOST_ACCESS_RW) || im->perm == 0) {
        fe->iotlb_bad_misses++;
    }
    if (im->type == VHOST_IOTLB_ACCESS_FAIL) {
        /* QEMU 7.2 reports it and answers a failure (vhost_backend_handle_iotlb_msg()). */
        fe->iotlb_access_fails++;
        fe->iotlb_last_iova = im->iova;
        fe->iotlb_last_perm = im->perm;
        return 1;
    }
    fe->iotlb_misses++;
    fe->iotlb_last_iova = im->iova;
    fe->iotlb_last_perm = im->perm;
    if (!fe->iotlb_answer || im->type != VHOST_IOTLB_MISS) {
        return 1;
    }
    start = im->iova & ~(page - 1);
    /* Hand out the 64 KiB around the miss, clipped to the region it is in. */
    start &= ~(uint64_t)0xffff;
    if (!vc_fe_iotlb_update(fe, start, 0x10000, &err)) {
        /* An iova outside guest memory: the miss was invalid, nothing is sent. */
        return 1;
    }
    return 0;
}

static void
handle_backend_msg(VcFrontend *fe, VcMsg *m)
{
    unsigned faults = vc_msg_check_request(VC_CHAN_BACKEND, m);
    uint64_t status = 0;
    bool reply = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
    VcObs *o = obs_add(fe, faults ? VC_OBS_BACKEND_FAULT : VC_OBS_BACKEND_MSG, VC_CHAN_BACKEND,
                       m, faults, fe->bch->n_recv);

    if (!faults && m->hdr.size > 0) {
        /* "BACKEND_VRING_CALL index=1 num=0": the name, a space, the decoded payload. */
        size_t n = g_strlcat(o->text, " ", sizeof(o->text));

        vc_msg_format(o->text + n, sizeof(o->text) - n, VC_CHAN_BACKEND, m, NULL);
    }
    switch (m->hdr.request) {
    case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
    case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
    case VHOST_USER_BACKEND_SHARED_OBJECT_ADD:
    case VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE:
        status = faults ? 1 : 0;
        break;
    case VHOST_USER_BACKEND_SHMEM_MAP:
    case VHOST_USER_BACKEND_SHMEM_UNMAP:
        status = vc_fe_shm_handle(fe, m, faults);
        break;
    case VHOST_USER_BACKEND_VRING_CALL:
    case VHOST_USER_BACKEND_VRING_ERR:
        if (!faults && vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS) &&
            m->payload.state.index < VC_FE_MAX_QUEUES) {
            if (m->hdr.request == VHOST_USER_BACKEND_VRING_CALL) {
                fe->inband_calls[m->payload.state.index]++;
            } else {
                fe->inband_errs[m->payload.state.index]++;
            }
        } else {
            status = 1;
        }
        break;
    case VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP:
        /* QEMU always answers a lookup; we export nothing, so: not found. */
        reply = true;
        status = 1;
        break;
    case VHOST_USER_BACKEND_IOTLB_MSG:
        if (!faults && fe->req_depth > 0 &&
            fe->n_iotlb_pending < G_N_ELEMENTS(fe->iotlb_pending)) {
            /* The update would interleave with the reply awaited: answer it afterwards. */
            fe->iotlb_pending[fe->n_iotlb_pending].hdr = m->hdr;
            fe->iotlb_pending[fe->n_iotlb_pending].msg = m->payload.iotlb;
            fe->n_iotlb_pending++;
            return;
        }
        status = handle_iotlb_miss(fe, m, faults);
        break;
    default:
        /* Unknown ids fail, as QEMU answers them. */
        status = 1;
        break;
    }
    vc_msg_close_fds(m);
    if (reply) {
        send_backend_reply(fe, m, status);
    }
}

static bool
service_backend_once(VcFrontend *fe)
{
    g_autofree VcMsg *m = g_new(VcMsg, 1);
    int r = vc_conn_recv(fe->bch, m, 0);

    if (r == 0) {
        handle_backend_msg(fe, m);
        return true;
    }
    vc_msg_close_fds(m);
    if (r != -EAGAIN && r != -ETIMEDOUT) {
        /* QEMU drops the channel on a read error or hang-up; so do we. */
        vc_conn_free(fe->bch);
        fe->bch = NULL;
    }
    return false;
}

/*
 * Waits until the main socket is readable, serving the back-end channel
 * meanwhile. Returns 1 when readable, 0 at the deadline, -errno on error.
 */
static int
wait_main(VcFrontend *fe, int64_t deadline)
{
    for (;;) {
        /* The main socket, the back-end channel, the userfaultfd (a daemon waiting in a
         * fault may owe us the reply). */
        struct pollfd p[3] = {{.fd = fe->conn->fd, .events = POLLIN},
                              {.fd = fe->bch ? fe->bch->fd : -1, .events = POLLIN},
                              {.fd = fe->uffd, .events = POLLIN}};
        int n = 3, left, r;

        left = (int)MAX(deadline - vc_now_ms(), 0);
        r = poll(p, (nfds_t)n, left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (fe->bch && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            service_backend_once(fe);
        }
        if (p[2].revents & POLLIN) {
            vc_fe_postcopy_serve(fe);
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            return 1;
        }
        if (r == 0 || vc_now_ms() >= deadline) {
            return 0;
        }
    }
}

unsigned
vc_fe_service(VcFrontend *fe, int ms)
{
    int64_t deadline = vc_now_ms() + ms;
    unsigned handled = 0;

    if (fe->uffd >= 0) {
        handled += vc_fe_postcopy_serve(fe);
    }
    while (fe->bch) {
        int r = vc_wait_readable(fe->bch->fd, (int)MAX(deadline - vc_now_ms(), 0));
        if (r <= 0) {
            break;
        }
        if (service_backend_once(fe)) {
            handled++;
        }
    }
    return handled;
}

/* --- Requests -------------------------------------------------------------------- */

static bool
is_noreply_request(VcFrontend *fe, uint32_t request)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(fe->noreply_ring); i++) {
        if (fe->noreply_ring[i] == request) {
            fe->noreply_ring[i] = 0;
            return true;
        }
    }
    return false;
}

static bool
reply_is_ack(const VcMsg *req)
{
    const VcMsgInfo *info = vc_msg_info(VC_CHAN_MAIN, req->hdr.request);

    return !info || info->reply == VC_REPLY_ACK || info->reply == VC_REPLY_IF_NEED_REPLY ||
           info->reply == VC_REPLY_IF_LOG_SHMFD;
}

/* Reads the reply to @req into @reply. */
static bool
read_reply(VcFrontend *fe, const VcMsg *req, VcMsg *reply, GError **error)
{
    const char *name = vc_msg_short_name(VC_CHAN_MAIN, req->hdr.request);
    int64_t deadline = vc_now_ms() + fe->timeout_ms;

    for (;;) {
        char what[96], desc[256];
        unsigned faults;
        int r = wait_main(fe, deadline);

        if (r == 0) {
            fe->broken = true;
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT, "%s: no reply within %d ms", name,
                        fe->timeout_ms);
            return false;
        }
        if (r > 0) {
            r = vc_conn_recv(fe->conn, reply, fe->timeout_ms);
        }
        if (r < 0) {
            g_snprintf(what, sizeof(what), "%s reply", name);
            if (r == -EMSGSIZE) {
                obs_add(fe, VC_OBS_REPLY_FAULT, VC_CHAN_MAIN, reply, VC_MSG_FAULT_SIZE,
                        fe->conn->n_recv);
            }
            vc_error_from_errno(error, r, what);
            vc_msg_close_fds(reply);
            fe->broken = true;
            return false;
        }
        faults = vc_msg_check_reply(VC_CHAN_MAIN, req, reply, fe->postcopy);
        if ((faults & VC_MSG_FAULT_REQUEST) && (reply->hdr.flags & VHOST_USER_REPLY_MASK) &&
            reply->hdr.size == sizeof(uint64_t) && is_noreply_request(fe, reply->hdr.request)) {
            /* An ack for a request that asked for none (VU-RA-04): note it and read on. */
            VcObs *o = obs_add(fe, VC_OBS_UNSOLICITED, VC_CHAN_MAIN, reply, 0, fe->conn->n_recv);
            g_snprintf(o->text, sizeof(o->text), "unrequested reply to %s (u64 %" G_GUINT64_FORMAT
                       ") while waiting for %s", vc_msg_short_name(VC_CHAN_MAIN,
                                                                   reply->hdr.request),
                       reply->payload.u64, name);
            vc_msg_close_fds(reply);
            continue;
        }
        if (faults) {
            VcObs *o = obs_add(fe, VC_OBS_REPLY_FAULT, VC_CHAN_MAIN, req, faults,
                               fe->conn->n_recv);
            o->flags = reply->hdr.flags;
            o->size = reply->hdr.size;
            o->nfds = reply->nfds;
            vc_msg_fault_describe(o->text, sizeof(o->text), faults, VC_CHAN_MAIN, req, reply);
        }
        if (faults & (VC_MSG_FAULT_REQUEST | VC_MSG_FAULT_SIZE | VC_MSG_FAULT_FIELD |
                      VC_MSG_FAULT_FDS)) {
            vc_msg_fault_describe(desc, sizeof(desc), faults, VC_CHAN_MAIN, req, reply);
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "%s", desc);
            vc_msg_close_fds(reply);
            if (faults & VC_MSG_FAULT_REQUEST) {
                fe->broken = true;
            }
            return false;
        }
        return true;
    }
}

static int
send_split(VcFrontend *fe, const VcMsg *req, size_t split_at, int delay_ms)
{
    g_autofree uint8_t *buf = g_malloc(sizeof(req->hdr) + req->hdr.size);
    size_t len = sizeof(req->hdr) + req->hdr.size;
    int r;

    memcpy(buf, &req->hdr, sizeof(req->hdr));
    memcpy(buf + sizeof(req->hdr), req->payload.raw, req->hdr.size);
    split_at = MIN(split_at, len);
    if (fe->conn->tap) {
        /* The trace shows the message once, as the daemon should reassemble it. */
        fe->conn->tap(fe->conn->tap_opaque, fe->conn, VC_DIR_F2B, req, 0);
    }
    r = vc_msg_send_raw(fe->conn->fd, buf, split_at, req->fds, req->nfds, fe->timeout_ms);
    if (r == 0 && split_at < len) {
        g_usleep((gulong)delay_ms * 1000);
        r = vc_msg_send_raw(fe->conn->fd, buf + split_at, len - split_at, NULL, 0,
                            fe->timeout_ms);
    }
    if (r == 0) {
        fe->conn->n_sent++;
    }
    return r;
}

static bool
request_common(VcFrontend *fe, VcMsg *req, VcMsg *reply, size_t split_at, int delay_ms,
               GError **error)
{
    const char *name = vc_msg_short_name(VC_CHAN_MAIN, req->hdr.request);
    const VcMsgInfo *info = vc_msg_info(VC_CHAN_MAIN, req->hdr.request);
    g_autofree VcMsg *tmp = NULL;
    char what[96];
    bool need;
    int r;

    if (fe->broken || fe->conn->closed) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_CLOSED,
                    "%s: the connection is no longer usable after an earlier failure", name);
        return false;
    }
    /* In postcopy the memory table is answered with the daemon's bases, never acked:
     * QEMU sends it without NEED_REPLY (vhost_user_set_mem_table_postcopy()). */
    if (info && info->reply == VC_REPLY_ACK && profile_acks(fe, req->hdr.request) &&
        vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
        !(fe->postcopy && (req->hdr.request == VHOST_USER_SET_MEM_TABLE ||
                           req->hdr.request == VHOST_USER_ADD_MEM_REG))) {
        req->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
    }
    if (req->hdr.request == VHOST_USER_RESET_DEVICE) {
        /* vhost-user.rst BACKEND_SHMEM_MAP: mappings do not survive a device reset. */
        vc_fe_shm_reset(fe);
    }
    need = vc_msg_needs_reply(VC_CHAN_MAIN, req, fe->pfeatures, fe->postcopy);
    r = split_at ? send_split(fe, req, split_at, delay_ms)
                 : vc_conn_send(fe->conn, req, fe->timeout_ms);
    if (r < 0) {
        g_snprintf(what, sizeof(what), "sending %s", name);
        vc_error_from_errno(error, r, what);
        return false;
    }
    if (!need) {
        fe->noreply_ring[fe->noreply_pos++ % G_N_ELEMENTS(fe->noreply_ring)] = req->hdr.request;
        if (reply) {
            reply->hdr.size = 0;
            reply->nfds = 0;
        }
        return true;
    }
    if (!reply) {
        reply = tmp = g_new(VcMsg, 1);
    }
    if (!read_reply(fe, req, reply, error)) {
        return false;
    }
    if (reply_is_ack(req) && vc_msg_reply_kind(VC_CHAN_MAIN, req, fe->postcopy) == VC_PL_U64 &&
        reply->hdr.size == sizeof(uint64_t) && reply->payload.u64 != 0) {
        VcObs *o = obs_add(fe, VC_OBS_NACK, VC_CHAN_MAIN, req, 0, fe->conn->n_recv);
        o->u64 = reply->payload.u64;
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_NACK, "%s: the daemon answered %" G_GUINT64_FORMAT
                    " (failure)", name, reply->payload.u64);
        vc_msg_close_fds(reply);
        return false;
    }
    if (tmp) {
        vc_msg_close_fds(tmp);
    }
    return true;
}

/* Answers the misses deferred while requests were in progress, oldest first. */
static void
flush_iotlb_pending(VcFrontend *fe)
{
    g_autofree VcMsg *m = NULL;

    if (fe->iotlb_flushing || fe->n_iotlb_pending == 0) {
        return;
    }
    fe->iotlb_flushing = true;
    m = g_new0(VcMsg, 1);
    /* Answering one may defer more (a nested request): the loop picks them up. */
    for (unsigned i = 0; i < fe->n_iotlb_pending; i++) {
        uint64_t status;

        m->hdr = fe->iotlb_pending[i].hdr;
        m->payload.iotlb = fe->iotlb_pending[i].msg;
        m->nfds = 0;
        status = handle_iotlb_miss(fe, m, 0);
        if (fe->bch && (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK)) {
            send_backend_reply(fe, m, status);
        }
    }
    fe->n_iotlb_pending = 0;
    fe->iotlb_flushing = false;
}

static bool
request_outer(VcFrontend *fe, VcMsg *req, VcMsg *reply, size_t split_at, int delay_ms,
              GError **error)
{
    bool ok;

    fe->req_depth++;
    ok = request_common(fe, req, reply, split_at, delay_ms, error);
    fe->req_depth--;
    if (fe->req_depth == 0) {
        flush_iotlb_pending(fe);
    }
    return ok;
}

bool
vc_fe_request(VcFrontend *fe, VcMsg *req, VcMsg *reply, GError **error)
{
    return request_outer(fe, req, reply, 0, 0, error);
}

bool
vc_fe_request_split(VcFrontend *fe, VcMsg *req, size_t split_at, int delay_ms, VcMsg *reply,
                    GError **error)
{
    return request_outer(fe, req, reply, MAX(split_at, 1), delay_ms, error);
}

bool
vc_fe_expect_silence(VcFrontend *fe, int ms, VcMsg *stray)
{
    g_autofree VcMsg *m = g_new(VcMsg, 1);
    int r = wait_main(fe, vc_now_ms() + ms);

    if (r <= 0) {
        return true;
    }
    r = vc_conn_recv(fe->conn, m, fe->timeout_ms);
    if (r == -ECONNRESET) {
        return true;   /* a close is not a message; the caller sees it on its next request */
    }
    if (r == 0) {
        VcObs *o = obs_add(fe, VC_OBS_UNSOLICITED, VC_CHAN_MAIN, m, 0, fe->conn->n_recv);
        g_snprintf(o->text, sizeof(o->text), "unexpected message: request %u (%s) flags 0x%x "
                   "size %u", m->hdr.request, vc_msg_short_name(VC_CHAN_MAIN, m->hdr.request),
                   m->hdr.flags, m->hdr.size);
    }
    vc_msg_close_fds(m);
    if (stray) {
        memcpy(&stray->hdr, &m->hdr, sizeof(m->hdr));
        memcpy(&stray->payload, &m->payload, MIN(m->hdr.size, VC_MSG_MAX_PAYLOAD));
        stray->nfds = 0;
    }
    return false;
}

bool
vc_fe_simple(VcFrontend *fe, uint32_t request, uint64_t u64, bool ack, uint64_t *out,
             GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    const VcMsgInfo *info = vc_msg_info(VC_CHAN_MAIN, request);

    vc_msg_init(req, request, ack ? vc_fe_want_ack(fe) : 0);
    if (info && info->payload == VC_PL_U64) {
        req->payload.u64 = u64;
        req->hdr.size = sizeof(uint64_t);
    }
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    if (out) {
        *out = reply->hdr.size >= 8 ? reply->payload.u64 : 0;
    }
    vc_msg_close_fds(reply);
    return true;
}

bool
vc_fe_vring_state(VcFrontend *fe, uint32_t request, uint32_t index, uint32_t num, bool ack,
                  uint32_t *out, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);

    vc_msg_init(req, request, ack ? vc_fe_want_ack(fe) : 0);
    req->payload.state.index = index;
    req->payload.state.num = num;
    req->hdr.size = sizeof(req->payload.state);
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    if (out) {
        *out = reply->hdr.size == 8 ? reply->payload.state.num : 0;
    }
    vc_msg_close_fds(reply);
    return true;
}

/* --- Typed requests -------------------------------------------------------------------- */

bool
vc_fe_get_features(VcFrontend *fe, uint64_t *out, GError **error)
{
    uint64_t v;

    if (!vc_fe_simple(fe, VHOST_USER_GET_FEATURES, 0, false, &v, error)) {
        return false;
    }
    fe->features_offered = v;
    if (out) {
        *out = v;
    }
    return true;
}

bool
vc_fe_set_features(VcFrontend *fe, uint64_t features, GError **error)
{
    if (!vc_fe_simple(fe, VHOST_USER_SET_FEATURES, features, false, NULL, error)) {
        return false;
    }
    fe->features = features;
    fe->features_set = true;
    return true;
}

bool
vc_fe_get_protocol_features(VcFrontend *fe, uint64_t *out, GError **error)
{
    uint64_t v;

    if (!vc_fe_simple(fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, false, &v, error)) {
        return false;
    }
    fe->pfeatures_offered = v;
    if (out) {
        *out = v;
    }
    return true;
}

bool
vc_fe_set_protocol_features(VcFrontend *fe, uint64_t pfeatures, GError **error)
{
    if (!vc_fe_simple(fe, VHOST_USER_SET_PROTOCOL_FEATURES, pfeatures, false, NULL, error)) {
        return false;
    }
    fe->pfeatures = pfeatures;
    fe->pfeatures_set = true;
    return true;
}

bool
vc_fe_set_owner(VcFrontend *fe, GError **error)
{
    return vc_fe_simple(fe, VHOST_USER_SET_OWNER, 0, false, NULL, error);
}

bool
vc_fe_set_backend_req_fd(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    int sv[2];
    bool ok;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "socketpair: %s", g_strerror(errno));
        return false;
    }
    vc_conn_free(fe->bch);
    fe->bch = vc_conn_new(sv[0], fe->conn_base + 1, VC_CHAN_BACKEND);
    vc_conn_set_tap(fe->bch, fe->conn->tap, fe->conn->tap_opaque);
    vc_msg_init(req, VHOST_USER_SET_BACKEND_REQ_FD, 0);
    req->fds[0] = sv[1];
    req->nfds = 1;
    ok = vc_fe_request(fe, req, NULL, error);
    close(sv[1]);
    return ok;
}

bool
vc_fe_set_status(VcFrontend *fe, uint8_t status, GError **error)
{
    if (!vc_fe_simple(fe, VHOST_USER_SET_STATUS, status, false, NULL, error)) {
        return false;
    }
    fe->status = status;
    return true;
}

bool
vc_fe_get_status(VcFrontend *fe, uint8_t *out, GError **error)
{
    uint64_t v;

    if (!vc_fe_simple(fe, VHOST_USER_GET_STATUS, 0, false, &v, error)) {
        return false;
    }
    *out = (uint8_t)v;
    return true;
}

/* --- Memory ------------------------------------------------------------------------ */

bool
vc_fe_setup_memory(VcFrontend *fe, GError **error)
{
    uint64_t s = fe->cfg.mem_size;
    bool huge = fe->cfg.hugepages;
    int mf, r = 0;

    if (fe->gm) {
        return true;
    }
    fe->gm = vc_gmem_new();
    switch (fe->cfg.mem_layout) {
    case VC_MEM_QEMU:
        /* One memfd, two regions, a guard gap between them (QEMU's below/above 4 GiB RAM). */
        mf = vc_gmem_add_memfd(fe->gm, 3 * s, huge);
        if (mf >= 0) {
            r = vc_gmem_add_region(fe->gm, (unsigned)mf, 0, 0, s);
            if (r >= 0) {
                r = vc_gmem_add_region(fe->gm, (unsigned)mf, 2 * s, 4 * GIB, s);
            }
        } else {
            r = mf;
        }
        break;
    case VC_MEM_SIMPLE:
        r = vc_gmem_add_simple(fe->gm, 0, s, huge);
        break;
    case VC_MEM_MANY: {
        /* Six regions over three memfds; every region starts at a non-zero mmap_offset. */
        static const struct { unsigned mf; uint64_t off_units; uint64_t gpa; } lay[] = {
            {0, 1, 0}, {0, 3, 1 * GIB}, {1, 1, 2 * GIB}, {2, 2, 3 * GIB},
            {2, 4, 5 * GIB}, {1, 3, 6 * GIB},
        };
        static const uint64_t units[] = {4, 4, 5};
        for (unsigned i = 0; i < 3 && r >= 0; i++) {
            r = vc_gmem_add_memfd(fe->gm, units[i] * s, huge);
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(lay) && r >= 0; i++) {
            r = vc_gmem_add_region(fe->gm, lay[i].mf, lay[i].off_units * s, lay[i].gpa, s);
        }
        break;
    }
    }
    if (r < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "guest memory (%s): %s",
                    huge ? "2 MiB hugepages" : "memfd", g_strerror(-r));
        vc_gmem_free(fe->gm);
        fe->gm = NULL;
        return false;
    }
    return true;
}

void *
vc_fe_alloc_buffer(VcFrontend *fe, uint64_t size, uint64_t align, uint64_t *gpa)
{
    for (unsigned i = fe->gm->n_regions; i-- > 0;) {
        void *p = vc_gmem_alloc_in(fe->gm, i, size, align, gpa);
        if (p) {
            return p;
        }
    }
    return NULL;
}

bool
vc_fe_set_mem_table(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    unsigned n = 0;

    if (!vc_fe_setup_memory(fe, error)) {
        return false;
    }
    vc_msg_init(req, VHOST_USER_SET_MEM_TABLE, 0);
    for (unsigned i = 0; i < fe->gm->n_regions; i++) {
        if (fe->gm->regions[i].removed) {
            continue;
        }
        if (n == VHOST_MEMORY_BASELINE_NREGIONS) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                        "SET_MEM_TABLE carries at most %u regions", n);
            return false;
        }
        vc_gmem_region_desc(fe->gm, i, &req->payload.memory.regions[n]);
        req->fds[n] = vc_gmem_region_fd(fe->gm, i);
        n++;
    }
    req->payload.memory.nregions = n;
    req->nfds = n;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (fe->postcopy) {
        /* After POSTCOPY_LISTEN: the daemon answers its bases; our ack lets it go on. */
        g_autofree VcMsg *reply = g_new(VcMsg, 1);
        fe->pc_awaiting_ack = true;
        if (!vc_fe_request(fe, req, reply, error) ||
            !vc_fe_postcopy_took_table(fe, req, reply, error) ||
            !vc_fe_postcopy_ack(fe, VHOST_USER_SET_MEM_TABLE, error)) {
            return false;
        }
    } else if (!vc_fe_request(fe, req, NULL, error)) {
        return false;
    }
    for (unsigned i = 0; i < fe->gm->n_regions; i++) {
        fe->region_published[i] = !fe->gm->regions[i].removed;
    }
    return true;
}

bool
vc_fe_add_mem_reg(VcFrontend *fe, unsigned idx, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_ADD_MEM_REG, 0);
    vc_gmem_region_desc(fe->gm, idx, &req->payload.mem_reg.region);
    req->fds[0] = vc_gmem_region_fd(fe->gm, idx);
    req->nfds = 1;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (fe->postcopy) {
        /* The reply names the daemon's base; vc_fe_publish_memory() acks after the last. */
        g_autofree VcMsg *reply = g_new(VcMsg, 1);
        fe->pc_awaiting_ack = true;
        if (!vc_fe_request(fe, req, reply, error) ||
            !vc_fe_postcopy_took_table(fe, req, reply, error)) {
            return false;
        }
    } else if (!vc_fe_request(fe, req, NULL, error)) {
        return false;
    }
    fe->region_published[idx] = true;
    return true;
}

bool
vc_fe_rem_mem_reg(VcFrontend *fe, unsigned idx, uint64_t mmap_offset_delta, int extra_fd,
                  GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_REM_MEM_REG, 0);
    vc_gmem_region_desc(fe->gm, idx, &req->payload.mem_reg.region);
    req->payload.mem_reg.region.mmap_offset += mmap_offset_delta;
    if (extra_fd >= 0) {
        req->fds[0] = extra_fd;
        req->nfds = 1;
    }
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, NULL, error)) {
        return false;
    }
    fe->region_published[idx] = false;
    return true;
}

bool
vc_fe_publish_memory(VcFrontend *fe, GError **error)
{
    if (!vc_fe_setup_memory(fe, error)) {
        return false;
    }
    if (!fe->profile->mem_slots || fe->cfg.no_mem_slots ||
        !vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
        return vc_fe_set_mem_table(fe, error);
    }
    /* QEMU with CONFIGURE_MEM_SLOTS: REM_MEM_REG for what vanished, ADD_MEM_REG for what is new. */
    for (unsigned i = 0; i < fe->gm->n_regions; i++) {
        if (!fe->gm->regions[i].removed && !fe->region_published[i] &&
            !vc_fe_add_mem_reg(fe, i, error)) {
            return false;
        }
    }
    /* vhost_user_add_remove_regions(): in postcopy one ack follows the last region. */
    if (fe->postcopy && fe->pc_awaiting_ack) {
        return vc_fe_postcopy_ack(fe, VHOST_USER_ADD_MEM_REG, error);
    }
    return true;
}

/* --- Rings ------------------------------------------------------------------------- */

bool
vc_fe_make_notifier(VcNotify kind, bool kick, int *ours, int *theirs, GError **error)
{
    int p[2];

    *ours = *theirs = -1;
    switch (kind) {
    case VC_NOTIFY_NONE:
        return true;
    case VC_NOTIFY_EVENTFD:
        *ours = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (*ours < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "eventfd: %s", g_strerror(errno));
            return false;
        }
        *theirs = *ours;
        return true;
    case VC_NOTIFY_PIPE:
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "pipe2: %s", g_strerror(errno));
            return false;
        }
        /* A kick travels front end -> daemon, a call daemon -> front end. */
        *ours = kick ? p[1] : p[0];
        *theirs = kick ? p[0] : p[1];
        return true;
    }
    return false;
}

bool
vc_fe_queue_notifiers(VcFrontend *fe, unsigned qi, GError **error)
{
    VcFeQueue *q = &fe->q[qi];

    if (q->notifiers) {
        return true;
    }
    if (!vc_fe_make_notifier(fe->cfg.kick, true, &q->kick_ours, &q->kick_theirs, error) ||
        !vc_fe_make_notifier(fe->cfg.call, false, &q->call_ours, &q->call_theirs, error) ||
        !vc_fe_make_notifier(VC_NOTIFY_EVENTFD, false, &q->err_ours, &q->err_theirs, error) ||
        !vc_fe_make_notifier(VC_NOTIFY_EVENTFD, false, &q->masked_call, &(int){0}, error)) {
        queue_clear(q);
        return false;
    }
    q->notifiers = true;
    if (q->vq) {
        vc_vq_set_fds(q->vq, q->kick_ours, q->call_ours, q->err_ours);
    }
    return true;
}

bool
vc_fe_create_queue(VcFrontend *fe, unsigned qi, GError **error)
{
    VcFeQueue *q = &fe->q[qi];
    unsigned flags = 0;

    if (qi >= VC_FE_MAX_QUEUES) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "ring %u: at most %u rings", qi,
                    VC_FE_MAX_QUEUES);
        return false;
    }
    if (!vc_fe_setup_memory(fe, error) || !vc_fe_queue_notifiers(fe, qi, error)) {
        return false;
    }
    if (q->vq) {
        return true;
    }
    if (vc_fe_has_feature(fe, VIRTIO_RING_F_EVENT_IDX)) {
        flags |= VC_VQ_EVENT_IDX;
    }
    if (vc_fe_has_feature(fe, VIRTIO_RING_F_INDIRECT_DESC)) {
        flags |= VC_VQ_INDIRECT;
    }
    if (vc_fe_has_feature(fe, VIRTIO_F_RING_PACKED)) {
        q->vq = vc_vq_new_packed(fe->gm, qi, fe->cfg.ring_size, flags, fe->cfg.indirect_max,
                                 error);
    } else {
        q->vq = vc_vq_new_split(fe->gm, qi, fe->cfg.ring_size, flags, fe->cfg.indirect_max,
                                error);
    }
    if (!q->vq) {
        return false;
    }
    if (fe->iommu) {
        q->vq->dma_offset = fe->iova_offset;
    }
    vc_vq_set_fds(q->vq, q->kick_ours, q->call_ours, q->err_ours);
    vc_vq_set_tap(q->vq, fe->vq_tap, fe->vq_tap_opaque);
    vc_vq_reset(q->vq, fe->cfg.start_idx);
    return true;
}

bool
vc_fe_set_vring_num(VcFrontend *fe, unsigned q, GError **error)
{
    return vc_fe_vring_state(fe, VHOST_USER_SET_VRING_NUM, q, fe->cfg.ring_size, false, NULL,
                             error);
}

bool
vc_fe_set_vring_base(VcFrontend *fe, unsigned q, uint32_t base, GError **error)
{
    return vc_fe_vring_state(fe, VHOST_USER_SET_VRING_BASE, q, base, false, NULL, error);
}

bool
vc_fe_set_vring_addr(VcFrontend *fe, unsigned qi, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    if (!fe->q[qi].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "ring %u was not created", qi);
        return false;
    }
    vc_msg_init(req, VHOST_USER_SET_VRING_ADDR, 0);
    vc_vq_addr(fe->q[qi].vq, &req->payload.addr);
    if (fe->iommu) {
        /* vhost-user.rst "Memory access": with an IOMMU ring addresses are IOVAs. */
        VcVq *vq = fe->q[qi].vq;
        req->payload.addr.desc_user_addr = vq->desc_gpa + fe->iova_offset;
        req->payload.addr.avail_user_addr = vq->avail_gpa + fe->iova_offset;
        req->payload.addr.used_user_addr = vq->used_gpa + fe->iova_offset;
    }
    if (fe->log_rings) {
        req->payload.addr.flags |= 1u << VHOST_VRING_F_LOG;
        req->payload.addr.log_guest_addr = fe->q[qi].vq->used_gpa + fe->log_used_offset;
        /* QEMU waits for the ack when it turns ring logging on. */
        req->hdr.flags |= vc_fe_want_ack(fe);
    }
    vc_msg_set_size(VC_CHAN_MAIN, req);
    return vc_fe_request(fe, req, NULL, error);
}

bool
vc_fe_set_vring_fd(VcFrontend *fe, uint32_t request, unsigned q, int fd, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    vc_msg_init(req, request, 0);
    req->payload.u64 = (q & VHOST_USER_VRING_IDX_MASK) | (fd < 0 ? VHOST_USER_VRING_NOFD_MASK : 0);
    req->hdr.size = sizeof(uint64_t);
    if (fd >= 0) {
        req->fds[0] = fd;
        req->nfds = 1;
    }
    return vc_fe_request(fe, req, NULL, error);
}

bool
vc_fe_set_vring_kick(VcFrontend *fe, unsigned q, GError **error)
{
    if (!vc_fe_queue_notifiers(fe, q, error) ||
        !vc_fe_set_vring_fd(fe, VHOST_USER_SET_VRING_KICK, q, fe->q[q].kick_theirs, error)) {
        return false;
    }
    fe->q[q].kick_sent = true;
    return true;
}

/*
 * A notification that went to the masked notifier is not lost: QEMU's
 * vhost_virtqueue_mask() hands a pending masked event on to the guest when
 * it unmasks, and so do we.
 */
static void
forward_masked_call(VcFeQueue *q)
{
    uint64_t v;
    const uint64_t one = 1;

    if (q->masked_call < 0 || read(q->masked_call, &v, sizeof(v)) != sizeof(v)) {
        return;
    }
    if (q->call_theirs >= 0 && write(q->call_theirs, &one, sizeof(one)) < 0) {
        /* A full pipe already holds a call. */
    }
}

bool
vc_fe_set_vring_call(VcFrontend *fe, unsigned q, GError **error)
{
    if (!vc_fe_queue_notifiers(fe, q, error) ||
        !vc_fe_set_vring_fd(fe, VHOST_USER_SET_VRING_CALL, q, fe->q[q].call_theirs, error)) {
        return false;
    }
    if (fe->q[q].masked) {
        fe->q[q].masked = false;
        forward_masked_call(&fe->q[q]);
    }
    return true;
}

bool
vc_fe_swap_call(VcFrontend *fe, unsigned qi, int *old_fd, GError **error)
{
    VcFeQueue *q = &fe->q[qi];
    int ours, theirs, prev_ours = q->call_ours, prev_theirs = q->call_theirs;

    *old_fd = -1;
    if (!vc_fe_make_notifier(fe->cfg.call, false, &ours, &theirs, error)) {
        return false;
    }
    q->call_ours = ours;
    q->call_theirs = theirs;
    if (q->vq) {
        vc_vq_set_fds(q->vq, q->kick_ours, q->call_ours, q->err_ours);
    }
    if (!vc_fe_set_vring_fd(fe, VHOST_USER_SET_VRING_CALL, qi, theirs, error)) {
        return false;
    }
    /* Unacked (no REPLY_ACK, or a profile that does not ask): a later reply shows the
     * daemon has read it, so "after the swap" starts there. */
    if (!(vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
          profile_acks(fe, VHOST_USER_SET_VRING_CALL)) &&
        !vc_fe_get_features(fe, NULL, error)) {
        return false;
    }
    if (prev_theirs >= 0 && prev_theirs != prev_ours) {
        close(prev_theirs);
    }
    *old_fd = prev_ours;
    return true;
}

bool
vc_fe_set_vring_err(VcFrontend *fe, unsigned q, GError **error)
{
    if (!vc_fe_queue_notifiers(fe, q, error) ||
        !vc_fe_set_vring_fd(fe, VHOST_USER_SET_VRING_ERR, q, fe->q[q].err_theirs, error)) {
        return false;
    }
    fe->q[q].err_sent = true;
    return true;
}

bool
vc_fe_set_vring_enable(VcFrontend *fe, unsigned q, bool on, GError **error)
{
    return vc_fe_vring_state(fe, VHOST_USER_SET_VRING_ENABLE, q, on ? 1 : 0, false, NULL, error);
}

bool
vc_fe_get_vring_base(VcFrontend *fe, unsigned q, uint32_t *out, GError **error)
{
    uint32_t v;

    if (!vc_fe_vring_state(fe, VHOST_USER_GET_VRING_BASE, q, 0, false, &v, error)) {
        return false;
    }
    if (q < VC_FE_MAX_QUEUES) {
        fe->vring_base[q] = v;
    }
    if (out) {
        *out = v;
    }
    return true;
}

/*
 * SET_VRING_BASE value: the configured start, or after a reconnect the used index (QEMU's
 * virtio_queue_restore_last_avail_idx(); for a packed ring the used position and its wrap
 * counter stand for both the avail and the used half).
 */
static uint32_t
ring_base(VcFrontend *fe, unsigned q)
{
    VcVq *vq = fe->q[q].vq;

    if (fe->reconnected && vq) {
        uint32_t u = vc_vq_used_idx(vq);
        return vq->packed ? u | u << 16 : u;
    }
    return vq ? vc_vq_base(vq) : fe->cfg.start_idx;
}

bool
vc_fe_setup_vring(VcFrontend *fe, unsigned q, bool kick_too, GError **error)
{
    return vc_fe_create_queue(fe, q, error) && vc_fe_set_vring_num(fe, q, error) &&
           vc_fe_set_vring_base(fe, q, ring_base(fe, q), error) &&
           vc_fe_set_vring_addr(fe, q, error) && (!kick_too || vc_fe_set_vring_kick(fe, q, error));
}

/* --- Inflight I/O tracking ---------------------------------------------------------------- */

bool
vc_fe_get_inflight_fd(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_GET_INFLIGHT_FD, 0);
    req->payload.inflight.num_queues = (uint16_t)fe->num_queues;
    req->payload.inflight.queue_size = fe->cfg.ring_size;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    close_fd(&fe->inflight_fd);
    fe->inflight = reply->payload.inflight;
    /* vhost-user.rst GET_INFLIGHT_FD: mmap_size 0 means no buffer and no fd. */
    fe->inflight_fd = fe->inflight.mmap_size ? vc_msg_take_fd(reply, 0) : -1;
    vc_msg_close_fds(reply);
    return true;
}

bool
vc_fe_set_inflight_fd(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_SET_INFLIGHT_FD, 0);
    req->payload.inflight = fe->inflight;
    req->fds[0] = fe->inflight_fd;
    req->nfds = 1;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    return vc_fe_request(fe, req, NULL, error);
}

/* --- Config space -------------------------------------------------------------------------- */

bool
vc_fe_get_config(VcFrontend *fe, uint32_t offset, uint32_t size, uint8_t *out, uint32_t *got,
                 GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_GET_CONFIG, 0);
    req->payload.config.offset = offset;
    req->payload.config.size = MIN(size, VHOST_USER_MAX_CONFIG_SIZE);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    *got = reply->hdr.size ? MIN(reply->payload.config.size, req->payload.config.size) : 0;
    if (out && *got) {
        memcpy(out, reply->payload.config.region, *got);
    }
    return true;
}

bool
vc_fe_set_config(VcFrontend *fe, uint32_t offset, uint32_t size, uint32_t flags,
                 const uint8_t *data, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    vc_msg_init(req, VHOST_USER_SET_CONFIG, vc_fe_want_ack(fe));
    req->payload.config.offset = offset;
    req->payload.config.size = MIN(size, VHOST_USER_MAX_CONFIG_SIZE);
    req->payload.config.flags = flags;
    memcpy(req->payload.config.region, data, req->payload.config.size);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    return vc_fe_request(fe, req, NULL, error);
}

/* --- Device state ------------------------------------------------------------------------ */

bool
vc_fe_set_device_state_fd(VcFrontend *fe, uint32_t direction, uint32_t phase, uint64_t *reply_out,
                          int *fd, bool *returned_fd, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    bool save = direction == VHOST_TRANSFER_STATE_DIRECTION_SAVE;
    int p[2];

    *fd = -1;
    if (returned_fd) {
        *returned_fd = false;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "pipe2: %s", g_strerror(errno));
        return false;
    }
    /* Save: the daemon writes, we read. Load: we write, the daemon reads. */
    vc_msg_init(req, VHOST_USER_SET_DEVICE_STATE_FD, 0);
    req->payload.transfer_state.direction = direction;
    req->payload.transfer_state.phase = phase;
    req->fds[0] = save ? p[1] : p[0];
    req->nfds = 1;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        close(p[0]);
        close(p[1]);
        return false;
    }
    close(save ? p[1] : p[0]);
    *reply_out = reply->payload.u64;
    if (reply->nfds == 1) {
        /* vhost-user.rst: a returned fd replaces the front end's end of the channel. */
        close(save ? p[0] : p[1]);
        *fd = vc_msg_take_fd(reply, 0);
        if (returned_fd) {
            *returned_fd = true;
        }
    } else {
        *fd = save ? p[0] : p[1];
    }
    vc_msg_close_fds(reply);
    return true;
}

bool
vc_fe_check_device_state(VcFrontend *fe, uint64_t *result, GError **error)
{
    return vc_fe_simple(fe, VHOST_USER_CHECK_DEVICE_STATE, 0, false, result, error);
}

/* --- Reconnect ----------------------------------------------------------------------------- */

void
vc_fe_reconnect(VcFrontend *fe, int sock)
{
    unsigned id = fe->conn_base;

    vc_conn_free(fe->conn);
    vc_conn_free(fe->bch);
    fe->bch = NULL;
    fe->conn = vc_conn_new(sock, id, VC_CHAN_MAIN);
    fe->broken = false;
    fe->features = fe->pfeatures = 0;
    fe->features_set = fe->pfeatures_set = false;
    fe->features_offered = fe->pfeatures_offered = 0;
    fe->queue_num = fe->max_mem_slots = 0;
    fe->status = 0;
    fe->reconnected = true;
    vc_fe_shm_reset(fe);
    memset(fe->region_published, 0, sizeof(fe->region_published));
    for (unsigned q = 0; q < VC_FE_MAX_QUEUES; q++) {
        fe->q[q].kick_sent = fe->q[q].err_sent = fe->q[q].masked = false;
    }
}

/* --- Dirty log ------------------------------------------------------------------------------ */

bool
vc_fe_set_log_base(VcFrontend *fe, uint64_t extra, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    uint64_t top = 0, size;
    int fd;
    void *map;

    for (unsigned i = 0; fe->gm && i < fe->gm->n_regions; i++) {
        top = MAX(top, fe->gm->regions[i].gpa + fe->gm->regions[i].size);
    }
    top += extra;
    /* vhost-user.rst "Migration": one bit per 4 KiB page from guest address 0. */
    size = ((top / VHOST_LOG_PAGE + 7) / 8 + 4095) & ~4095ull;
    fd = memfd_create("vc-dirty-log", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "log memfd: %s", g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "log mmap: %s", g_strerror(errno));
        close(fd);
        return false;
    }
    vc_msg_init(req, VHOST_USER_SET_LOG_BASE, 0);
    req->payload.log.mmap_size = size;
    req->payload.log.mmap_offset = 0;
    req->fds[0] = fd;
    req->nfds = 1;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        munmap(map, size);
        close(fd);
        return false;
    }
    vc_msg_close_fds(reply);
    /* The old log stays mapped until the new one is in use (after the reply). */
    if (fe->log) {
        munmap(fe->log, fe->log_size);
    }
    close_fd(&fe->log_fd);
    fe->log_fd = fd;
    fe->log = map;
    fe->log_size = size;
    return true;
}

bool
vc_fe_log_page(const VcFrontend *fe, uint64_t page)
{
    if (!fe->log || page / 8 >= fe->log_size) {
        return false;
    }
    return (__atomic_load_n(&fe->log[page / 8], __ATOMIC_ACQUIRE) >> (page % 8)) & 1;
}

bool
vc_fe_set_logging(VcFrontend *fe, bool on, bool rings, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    fe->log_all = on;
    /* QEMU's vhost_user_set_features waits for the ack when LOG_ALL is set. */
    vc_msg_init(req, VHOST_USER_SET_FEATURES, on ? vc_fe_want_ack(fe) : 0);
    req->payload.u64 = fe->features_set ? fe->features : vc_fe_negotiate_features(fe);
    if (on) {
        req->payload.u64 |= 1ull << VHOST_F_LOG_ALL;
    } else {
        req->payload.u64 &= ~(1ull << VHOST_F_LOG_ALL);
    }
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, NULL, error)) {
        return false;
    }
    fe->features = req->payload.u64;
    fe->log_rings = on && rings;
    for (unsigned q = 0; q < fe->num_queues; q++) {
        if (fe->q[q].vq && !vc_fe_set_vring_addr(fe, q, error)) {
            return false;
        }
    }
    return true;
}

/* --- IOTLB ------------------------------------------------------------------------------------ */

static bool
iotlb_msg(VcFrontend *fe, uint8_t type, uint64_t iova, uint64_t size, uint64_t uaddr,
          GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);

    /* QEMU always asks for the IOTLB_MSG reply. */
    vc_msg_init(req, VHOST_USER_IOTLB_MSG, VHOST_USER_NEED_REPLY_MASK);
    req->payload.iotlb.iova = iova;
    req->payload.iotlb.size = size;
    req->payload.iotlb.uaddr = uaddr;
    req->payload.iotlb.perm = type == VHOST_IOTLB_UPDATE ? VHOST_ACCESS_RW : 0;
    req->payload.iotlb.type = type;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    if (reply->payload.u64 != 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_NACK, "IOTLB_MSG %s iova 0x%" G_GINT64_MODIFIER
                    "x: the daemon answered %" G_GUINT64_FORMAT,
                    type == VHOST_IOTLB_UPDATE ? "update" : "invalidate", iova,
                    reply->payload.u64);
        return false;
    }
    return true;
}

bool
vc_fe_iotlb_raw(VcFrontend *fe, const struct vhost_iotlb_msg *im, uint64_t *status,
                GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    g_autoptr(GError) err = NULL;
    bool ok;

    vc_msg_init(req, VHOST_USER_IOTLB_MSG, VHOST_USER_NEED_REPLY_MASK);
    req->payload.iotlb = *im;
    vc_msg_set_size(VC_CHAN_MAIN, req);
    fe->req_depth++;
    ok = request_common(fe, req, reply, 0, 0, &err);
    fe->req_depth--;
    /* request_common() turns a non-zero answer into an error; the caller wants the value. */
    if (!ok && g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK)) {
        ok = true;
    }
    if (ok) {
        *status = reply->payload.u64;
    } else {
        g_propagate_error(error, g_steal_pointer(&err));
    }
    flush_iotlb_pending(fe);
    return ok;
}

bool
vc_fe_iotlb_update(VcFrontend *fe, uint64_t iova, uint64_t size, GError **error)
{
    uint64_t gpa = iova - fe->iova_offset, len = size, uva;

    if (iova < fe->iova_offset || !vc_gmem_to_hva(fe->gm, gpa, &len)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "iova 0x%" G_GINT64_MODIFIER
                    "x maps no guest memory", iova);
        return false;
    }
    uva = vc_gmem_to_uva(fe->gm, gpa);
    if (!iotlb_msg(fe, VHOST_IOTLB_UPDATE, iova, MIN(len, size), uva, error)) {
        return false;
    }
    fe->iotlb_updates++;
    return true;
}

bool
vc_fe_iotlb_invalidate(VcFrontend *fe, uint64_t iova, uint64_t size, GError **error)
{
    return iotlb_msg(fe, VHOST_IOTLB_INVALIDATE, iova, size, 0, error);
}

/* --- In-band notifications --------------------------------------------------------------------- */

bool
vc_fe_vring_kick_inband(VcFrontend *fe, unsigned q, GError **error)
{
    return vc_fe_vring_state(fe, VHOST_USER_VRING_KICK, q, 0, false, NULL, error);
}

/* --- Lifecycle -------------------------------------------------------------------------- */

uint64_t
vc_fe_negotiate_features(const VcFrontend *fe)
{
    /* Transport bits a guest driver of ours understands, plus the device bits asked for. */
    uint64_t want = (1ull << VIRTIO_F_VERSION_1) | fe->cfg.driver_features;

    if (fe->cfg.event_idx) {
        want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
    }
    if (fe->cfg.indirect) {
        want |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
    }
    if (!fe->cfg.no_protocol_features) {
        want |= 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
    }
    if (fe->iommu) {
        want |= 1ull << VIRTIO_F_ACCESS_PLATFORM;
    }
    if (fe->cfg.packed) {
        want |= 1ull << VIRTIO_F_RING_PACKED;
    }
    return fe->features_offered & fe->profile->features_mask & want;
}

static uint64_t
protocol_features_to_ack(const VcFrontend *fe)
{
    uint64_t pf = fe->pfeatures_offered & fe->profile->pfeatures_mask & ~fe->cfg.pfeatures_mask;

    /* QEMU drops CONFIG for devices without a config space (vhost_user_backend_init). */
    if (fe->cfg.config_len == 0) {
        pf &= ~VC_PF(CONFIG);
    }
    /* GET_VRING_BASE_INFLIGHT only with inflight migration, which we do not do. */
    pf &= ~VC_PF(GET_VRING_BASE_INFLIGHT);
    /* vhost-user.rst: in-band notifications need BACKEND_REQ and REPLY_ACK; a front end told
     * to go without either does not ask for them (VU-NEG-05 sends the bad mix on purpose). */
    if ((pf & (VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK))) != (VC_PF(BACKEND_REQ) | VC_PF(REPLY_ACK))) {
        pf &= ~VC_PF(INBAND_NOTIFICATIONS);
    }
    return pf;
}

static bool
status_add(VcFrontend *fe, uint8_t bits, GError **error)
{
    uint8_t cur;

    /* vhost_user_add_status(): read, and write only when something changes. */
    if (!vc_fe_get_status(fe, &cur, error)) {
        return false;
    }
    if ((cur & bits) == bits) {
        return true;
    }
    return vc_fe_set_status(fe, cur | bits, error);
}

static bool
run_step(VcFrontend *fe, VcStep step, GError **error)
{
    bool proto = (fe->features_offered >> VHOST_USER_F_PROTOCOL_FEATURES) & 1;
    bool proto_acked = fe->features_set ? vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES)
                                        : (proto && !fe->cfg.no_protocol_features);

    switch (step) {
    case VC_STEP_END:
        return true;
    case VC_STEP_GET_FEATURES:
        return vc_fe_get_features(fe, NULL, error);
    case VC_STEP_GET_PROTOCOL_FEATURES:
        if (!proto || fe->cfg.no_protocol_features || fe->profile->pfeatures_mask == 0) {
            return true;
        }
        return vc_fe_get_protocol_features(fe, NULL, error);
    case VC_STEP_SET_PROTOCOL_FEATURES:
        if (!proto || fe->cfg.no_protocol_features || fe->profile->pfeatures_mask == 0) {
            return true;
        }
        return vc_fe_set_protocol_features(fe, protocol_features_to_ack(fe), error);
    case VC_STEP_GET_QUEUE_NUM: {
        /* net/vhost-user.c reads the answer as queue pairs (2 rings each), as DPDK answers. */
        bool pairs = g_strcmp0(fe->cfg.device, "net") == 0;
        unsigned want = pairs ? (fe->num_queues + 1) / 2 : fe->num_queues;

        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
            return true;
        }
        if (!vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &fe->queue_num, error)) {
            return false;
        }
        if (fe->queue_num < want) {
            /* vhost-user.rst: the front end stops when it wants more queues than offered. */
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                        "GET_QUEUE_NUM: the daemon offers %" G_GUINT64_FORMAT " %s, %u wanted",
                        fe->queue_num, pairs ? "queue pairs" : "queues", want);
            return false;
        }
        return true;
    }
    case VC_STEP_GET_MAX_MEM_SLOTS:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
            return true;
        }
        return vc_fe_simple(fe, VHOST_USER_GET_MAX_MEM_SLOTS, 0, false, &fe->max_mem_slots,
                            error);
    case VC_STEP_SET_BACKEND_REQ_FD:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_BACKEND_REQ)) {
            return true;
        }
        return vc_fe_set_backend_req_fd(fe, error);
    case VC_STEP_SET_OWNER:
        return vc_fe_set_owner(fe, error);
    case VC_STEP_CALL_ERR_INIT:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_queue_notifiers(fe, q, error) ||
                !vc_fe_set_vring_fd(fe, VHOST_USER_SET_VRING_CALL, q, fe->q[q].masked_call,
                                    error) ||
                !vc_fe_set_vring_err(fe, q, error)) {
                return false;
            }
            fe->q[q].masked = true;
        }
        return true;
    case VC_STEP_GET_CONFIG: {
        uint32_t got;
        /* QEMU reads the config at realize only, never on reconnect (SPEC-FACTS 6.4). */
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG) || fe->cfg.config_len == 0 ||
            fe->reconnected) {
            return true;
        }
        if (!vc_fe_get_config(fe, 0, MIN(fe->cfg.config_len, VHOST_USER_MAX_CONFIG_SIZE),
                              fe->config, &got, error)) {
            return false;
        }
        if (got == 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_NACK, "GET_CONFIG: the daemon answered with "
                        "an empty payload (error)");
            return false;
        }
        fe->config_got = got;
        return true;
    }
    case VC_STEP_GET_SHMEM_CONFIG:
        /* vub_device_realize() asks (vhost-user-base devices only), never on reconnect. */
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_SHMEM) || fe->reconnected ||
            !vc_profile_base_device(fe->cfg.device)) {
            return true;
        }
        return vc_fe_get_shmem_config(fe, NULL, error);
    case VC_STEP_SET_FEATURES:
        return vc_fe_set_features(fe, vc_fe_negotiate_features(fe) |
                                          (fe->log_all ? 1ull << VHOST_F_LOG_ALL : 0), error);
    case VC_STEP_STATUS_FEATURES_OK:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
            return true;
        }
        return status_add(fe, VIRTIO_CONFIG_S_FEATURES_OK, error);
    case VC_STEP_SET_VRING_CALL:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_set_vring_call(fe, q, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_MEM:
        return vc_fe_publish_memory(fe, error);
    case VC_STEP_VRINGS:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_setup_vring(fe, q, true, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_ENABLE:
    case VC_STEP_DISABLE:
        if (!proto_acked) {
            return true;
        }
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_set_vring_enable(fe, q, step == VC_STEP_ENABLE, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_STATUS_DRIVER_OK:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
            return true;
        }
        return status_add(fe, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                  VIRTIO_CONFIG_S_DRIVER_OK, error);
    case VC_STEP_GET_VRING_BASE:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (fe->q[q].vq && !vc_fe_get_vring_base(fe, q, NULL, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_STATUS_RESET:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
            return true;
        }
        return vc_fe_set_status(fe, 0, error);
    case VC_STEP_STATUS_SET_FEATURES_OK:
    case VC_STEP_STATUS_SET_DRIVER_OK: {
        uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                     VIRTIO_CONFIG_S_FEATURES_OK;
        uint8_t back;
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_STATUS)) {
            return true;
        }
        if (step == VC_STEP_STATUS_SET_DRIVER_OK) {
            return vc_fe_set_status(fe, st | VIRTIO_CONFIG_S_DRIVER_OK, error);
        }
        /* DPDK reads the status back after setting FEATURES_OK. */
        return vc_fe_set_status(fe, st, error) && vc_fe_get_status(fe, &back, error);
    }
    case VC_STEP_VRING_NUM_ALL:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_create_queue(fe, q, error) || !vc_fe_set_vring_num(fe, q, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_VRINGS_ADDR_FIRST:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_create_queue(fe, q, error) || !vc_fe_set_vring_addr(fe, q, error) ||
                !vc_fe_set_vring_base(fe, q, ring_base(fe, q), error) ||
                !vc_fe_set_vring_call(fe, q, error) || !vc_fe_set_vring_kick(fe, q, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_VRINGS_WITH_CALL:
        for (unsigned q = 0; q < fe->num_queues; q++) {
            if (!vc_fe_create_queue(fe, q, error) || !vc_fe_set_vring_num(fe, q, error) ||
                !vc_fe_set_vring_base(fe, q, ring_base(fe, q), error) ||
                !vc_fe_set_vring_addr(fe, q, error) || !vc_fe_set_vring_call(fe, q, error) ||
                !vc_fe_set_vring_kick(fe, q, error)) {
                return false;
            }
        }
        return true;
    case VC_STEP_GET_INFLIGHT:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) || fe->inflight_fd >= 0) {
            return true;
        }
        return vc_fe_get_inflight_fd(fe, error);
    case VC_STEP_SET_INFLIGHT:
        if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) || fe->inflight_fd < 0) {
            return true;
        }
        return vc_fe_set_inflight_fd(fe, error);
    }
    g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "unknown lifecycle step %d", (int)step);
    return false;
}

bool
vc_fe_run_steps(VcFrontend *fe, const VcStep *steps, GError **error)
{
    for (const VcStep *s = steps; *s != VC_STEP_END; s++) {
        if (!run_step(fe, *s, error)) {
            /* Most errors already start with the request's name. */
            if (error && *error && !g_str_has_prefix((*error)->message, vc_step_name(*s))) {
                g_prefix_error(error, "%s: ", vc_step_name(*s));
            }
            return false;
        }
    }
    return true;
}

bool
vc_fe_init(VcFrontend *fe, GError **error)
{
    return vc_fe_run_steps(fe, fe->profile->init, error);
}

bool
vc_fe_start(VcFrontend *fe, GError **error)
{
    return vc_fe_run_steps(fe, vc_profile_start_steps(fe->profile, fe->cfg.device), error);
}

bool
vc_fe_stop(VcFrontend *fe, GError **error)
{
    return vc_fe_run_steps(fe, vc_profile_stop_steps(fe->profile, fe->cfg.device), error);
}
