/*
 * vc-be-chan.c -- the back-end channel (vhost-user.rst "Back-end
 * communication"): BACKEND_IOTLB_MSG, BACKEND_CONFIG_CHANGE_MSG,
 * BACKEND_VRING_CALL/ERR.
 *
 * Nothing here blocks on the front end. A request with NEED_REPLY is
 * recorded and its ack is read from the main loop when it comes (QEMU
 * serves the channel from its own main loop, the harness while it waits
 * for main-socket replies); an ack that does not come within
 * VC_BE_CHAN_TIMEOUT_MS is given up. In-band calls are coalesced: while
 * one call of a ring awaits its ack, further completions only mark the
 * ring, and one more call goes out when the ack arrives.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

bool
vc_be_chan_ok(const VcBe *be)
{
    return be->backend_fd >= 0 && (be->pfeatures & VC_PF(BACKEND_REQ));
}

void
vc_be_chan_reset(VcBe *be)
{
    be->chan_first = 0;
    be->chan_count = 0;
    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        be->vq[q].call_waiting = false;
        be->vq[q].call_dirty = false;
    }
}

static void
chan_drop(VcBe *be)
{
    vc_be_note(be, "back-end channel closed");
    vc_be_close_fd(&be->backend_fd);
    vc_be_chan_reset(be);
}

int
vc_be_chan_send(VcBe *be, int sock, VcMsg *m, int ring)
{
    bool need = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) != 0;
    char buf[256];
    int r;

    if (sock < 0) {
        return -ENOTCONN;
    }
    if (be->verbose) {
        vc_be_log(be, "=> %s flags=0x%x size=%u fds=%u %s",
                  vc_msg_short_name(VC_CHAN_BACKEND, m->hdr.request), m->hdr.flags, m->hdr.size,
                  m->nfds, vc_msg_format(buf, sizeof(buf), VC_CHAN_BACKEND, m, NULL));
    }
    r = vc_msg_send(sock, m, VC_BE_CHAN_TIMEOUT_MS);
    if (r < 0) {
        vc_be_note(be, "sending %s failed: %s", vc_msg_short_name(VC_CHAN_BACKEND, m->hdr.request),
                   strerror(-r));
        if (sock == be->backend_fd) {
            chan_drop(be);
        }
        return r;
    }
    if (need && sock == be->backend_fd) {
        if (be->chan_count == VC_BE_CHAN_PENDING) {
            /* Forget the oldest wait; its ack will be read and ignored. */
            be->chan_first = (be->chan_first + 1) % VC_BE_CHAN_PENDING;
            be->chan_count--;
        }
        be->chan[(be->chan_first + be->chan_count) % VC_BE_CHAN_PENDING] =
            (VcBeChanWait){m->hdr.request, ring, vc_now_ms() + VC_BE_CHAN_TIMEOUT_MS};
        be->chan_count++;
    }
    return 0;
}

static void
wait_done(VcBe *be, const VcBeChanWait *w)
{
    VcBeVring *vq;

    if (w->ring < 0 || (unsigned)w->ring >= be->dev.num_queues) {
        return;
    }
    vq = &be->vq[w->ring];
    vq->call_waiting = false;
    if (vq->call_dirty) {
        vq->call_dirty = false;
        vc_be_inband(be, vq, VHOST_USER_BACKEND_VRING_CALL);
    }
}

/* Acks come in request order; one that names another request is stale. */
void
vc_be_chan_read(VcBe *be)
{
    for (unsigned k = 0; k < 64 && be->backend_fd >= 0; k++) {
        VcMsg m;
        int r = vc_msg_recv(be->backend_fd, &m, 0);

        if (r == -EAGAIN) {
            return;
        }
        vc_msg_close_fds(&m);
        if (r < 0 && r != -EMSGSIZE) {
            chan_drop(be);
            return;
        }
        vc_be_log(be, "<= %s ack flags=0x%x size=%u u64=%llu",
                  vc_msg_short_name(VC_CHAN_BACKEND, m.hdr.request), m.hdr.flags, m.hdr.size,
                  m.hdr.size == 8 ? (unsigned long long)m.payload.u64 : 0ull);
        while (be->chan_count > 0) {
            VcBeChanWait w = be->chan[be->chan_first];

            be->chan_first = (be->chan_first + 1) % VC_BE_CHAN_PENDING;
            be->chan_count--;
            wait_done(be, &w);
            if (w.request == m.hdr.request) {
                vc_be_shm_acked(be, m.hdr.request, m.hdr.size == 8 ? m.payload.u64 : 1);
                break;
            }
        }
    }
}

int64_t
vc_be_chan_next_due(const VcBe *be)
{
    return be->chan_count ? be->chan[be->chan_first].deadline : -1;
}

void
vc_be_chan_expire(VcBe *be, int64_t now)
{
    while (be->chan_count > 0 && be->chan[be->chan_first].deadline <= now) {
        VcBeChanWait w = be->chan[be->chan_first];

        vc_be_log(be, "no ack for %s; going on", vc_msg_short_name(VC_CHAN_BACKEND, w.request));
        be->chan_first = (be->chan_first + 1) % VC_BE_CHAN_PENDING;
        be->chan_count--;
        wait_done(be, &w);
    }
}

/*
 * vhost-user.rst "In-band notifications": BACKEND_VRING_CALL/ERR with
 * state.num 0 (reserved) and NEED_REPLY, so that the front end handles it
 * before we go on (REPLY_ACK "needs to be used" with in-band messages).
 */
void
vc_be_inband(VcBe *be, VcBeVring *vq, uint32_t request)
{
    VcMsg m;

    if (!vc_be_chan_ok(be)) {
        return;
    }
    if (request == VHOST_USER_BACKEND_VRING_CALL && vq->call_waiting) {
        vq->call_dirty = true;
        return;
    }
    vc_msg_init(&m, request,
                be->mutant == VC_MUT_INBAND_CALL_NO_NEED_REPLY ? 0 : VHOST_USER_NEED_REPLY_MASK);
    m.payload.state.index = vq->index;
    m.payload.state.num = be->mutant == VC_MUT_INBAND_CALL_NUM_1 ? 1 : 0;
    m.hdr.size = sizeof(m.payload.state);
    if (vc_be_chan_send(be, be->backend_fd, &m,
                        request == VHOST_USER_BACKEND_VRING_CALL ? (int)vq->index : -1) == 0 &&
        request == VHOST_USER_BACKEND_VRING_CALL && (m.hdr.flags & VHOST_USER_NEED_REPLY_MASK)) {
        vq->call_waiting = true;
    }
}

/* BACKEND_CONFIG_CHANGE_MSG, with the fd mutants of VU-BCH-01..03. */
void
vc_be_send_config_change(VcBe *be)
{
    int fds[9];
    unsigned nfds = 0;
    int sock = be->backend_fd;
    VcMsg m;

    vc_msg_init(&m, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
                (be->pfeatures & VC_PF(REPLY_ACK)) ? VHOST_USER_NEED_REPLY_MASK : 0);
    if (be->mutant == VC_MUT_BACKEND_REQ_ON_MAIN) {
        /* Mutant: a back-end request on the main socket, where only replies belong. */
        m.hdr.flags = VHOST_USER_VERSION;
        sock = be->sock;
    } else if (be->mutant == VC_MUT_CHANNEL_FD_WITHOUT_SEND_FD &&
               !(be->pfeatures & VC_PF(BACKEND_SEND_FD))) {
        nfds = 1;
    } else if (be->mutant == VC_MUT_CHANNEL_NINE_FDS && (be->pfeatures & VC_PF(BACKEND_SEND_FD))) {
        nfds = 9;
    }
    for (unsigned i = 0; i < nfds; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
        if (fds[i] < 0) {
            nfds = i;
            break;
        }
    }
    memcpy(m.fds, fds, nfds * sizeof(int));
    m.nfds = nfds;
    (void)vc_be_chan_send(be, sock, &m, -1);
    for (unsigned i = 0; i < nfds; i++) {
        close(fds[i]);
    }
}

void
vc_be_config_changed(VcBe *be)
{
    bool gated = (be->pfeatures & VC_PF(CONFIG)) && (be->pfeatures & VC_PF(BACKEND_REQ));

    if (be->sock < 0) {
        return;
    }
    if (be->mutant == VC_MUT_CONFIG_CHANGE_WITHOUT_CONFIG) {
        gated = (be->pfeatures & VC_PF(BACKEND_REQ)) != 0;
    }
    if (be->mutant == VC_MUT_BACKEND_REQ_ON_MAIN) {
        gated = (be->pfeatures & VC_PF(CONFIG)) != 0;
    }
    if (!gated || (be->backend_fd < 0 && be->mutant != VC_MUT_BACKEND_REQ_ON_MAIN)) {
        return;
    }
    if (vc_be_suspended(be)) {
        /* vhost-user.rst "Suspended device state": nothing on the channel until a ring starts. */
        be->config_change_pending = true;
        return;
    }
    vc_be_send_config_change(be);
}

void
vc_be_chan_flush_pending(VcBe *be)
{
    if (be->config_change_pending) {
        be->config_change_pending = false;
        vc_be_send_config_change(be);
    }
}
