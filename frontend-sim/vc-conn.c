/*
 * vc-conn.c -- a front-end connection with taps.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vc-conn.h"
#include "wire/vc-msg-io.h"

VcConn *
vc_conn_new(int fd, unsigned id, VcChannel chan)
{
    VcConn *conn = g_new0(VcConn, 1);

    conn->fd = fd;
    conn->id = id;
    conn->chan = chan;
    return conn;
}

void
vc_conn_free(VcConn *conn)
{
    if (!conn) {
        return;
    }
    if (conn->fd >= 0) {
        close(conn->fd);
    }
    g_free(conn);
}

void
vc_conn_set_tap(VcConn *conn, VcConnTap tap, void *opaque)
{
    conn->tap = tap;
    conn->tap_opaque = opaque;
}

int
vc_conn_send(VcConn *conn, const VcMsg *m, int timeout_ms)
{
    int r;

    if (conn->closed) {
        return -EPIPE;
    }
    if (conn->tap) {
        conn->tap(conn->tap_opaque, conn, VC_DIR_F2B, m, 0);
    }
    r = vc_msg_send(conn->fd, m, timeout_ms);
    if (r == 0) {
        conn->n_sent++;
    } else if (r == -EPIPE) {
        conn->closed = true;
    }
    return r;
}

int
vc_conn_send_raw(VcConn *conn, const void *buf, size_t len, const int *fds, unsigned nfds,
                 int timeout_ms)
{
    int r;

    if (conn->closed) {
        return -EPIPE;
    }
    if (conn->tap) {
        /* The tap sees the raw bytes laid out as a message. */
        g_autofree VcMsg *m = g_new0(VcMsg, 1);
        size_t hl = MIN(len, sizeof(m->hdr));
        size_t pl = len > sizeof(m->hdr) ? MIN(len - sizeof(m->hdr), sizeof(m->payload)) : 0;

        memcpy(&m->hdr, buf, hl);
        memcpy(m->payload.raw, (const uint8_t *)buf + hl, pl);
        m->nfds = MIN(nfds, VC_MSG_MAX_FDS);
        if (fds) {
            memcpy(m->fds, fds, sizeof(int) * m->nfds);
        }
        conn->tap(conn->tap_opaque, conn, VC_DIR_F2B, m, len);
    }
    r = vc_msg_send_raw(conn->fd, buf, len, fds, nfds, timeout_ms);
    if (r == 0) {
        conn->n_sent++;
    } else if (r == -EPIPE) {
        conn->closed = true;
    }
    return r;
}

int
vc_conn_recv(VcConn *conn, VcMsg *m, int timeout_ms)
{
    int r;

    if (conn->closed) {
        m->nfds = 0;
        return -ECONNRESET;
    }
    r = vc_msg_recv(conn->fd, m, timeout_ms);
    if (r == 0 || r == -EMSGSIZE) {
        conn->n_recv++;
    }
    /* An oversized payload was dropped unread: the tap only ever sees whole messages. */
    if (r == 0 && conn->tap) {
        conn->tap(conn->tap_opaque, conn, VC_DIR_B2F, m, 0);
    }
    if (r == -ECONNRESET || r == -EPROTO || r == -EMSGSIZE || r == -ETIME) {
        /* A half-read message leaves the stream out of step: nothing after it is trusted. */
        conn->closed = true;
    }
    return r;
}
