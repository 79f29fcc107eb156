/*
 * vc-conn.h -- one vhost-user connection (the main socket or the back-end
 * channel) seen from the front end: framing through the wire codec,
 * deadlines, and a tap that sees every message with its fds.
 *
 * A VcConn never interprets messages and never logs. Errors are -errno.
 */
#ifndef VC_CONN_H
#define VC_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "wire/vc-msg.h"

/** VcDir: which way a message travelled. */
typedef enum VcDir {
    VC_DIR_F2B,   /* front end to back end */
    VC_DIR_B2F,   /* back end to front end */
} VcDir;

typedef struct VcConn VcConn;

/**
 * VcConnTap:
 * @opaque: the pointer given to vc_conn_set_tap()
 * @conn: the connection
 * @dir: direction
 * @m: the message; for a raw send, a message whose header is the first 12
 *     raw bytes (zero when shorter) and whose payload is the rest
 * @raw_len: for vc_conn_send_raw(), the number of raw bytes; 0 otherwise
 *
 * Called for every message sent (before the send, while its fds are open)
 * and received (after the receive, before the caller sees it). Must not
 * keep @m or its fds.
 */
typedef void (*VcConnTap)(void *opaque, VcConn *conn, VcDir dir, const VcMsg *m,
                          size_t raw_len);

struct VcConn {
    int fd;              /* owned */
    unsigned id;         /* connection number, for traces: 0 main, 1 back-end channel */
    VcChannel chan;      /* request table of requests that travel F2B on the main socket
                          * (VC_CHAN_MAIN) or B2F on the back-end channel (VC_CHAN_BACKEND) */
    VcConnTap tap;
    void *tap_opaque;
    bool closed;         /* the peer closed or the stream lost sync */
    uint64_t n_sent;
    uint64_t n_recv;
};

/**
 * vc_conn_new:
 * @fd: connected AF_UNIX stream socket; ownership passes to the VcConn
 * @id: connection number used in traces
 * @chan: VC_CHAN_MAIN for the main socket, VC_CHAN_BACKEND for the back-end channel
 *
 * Returns: (transfer full): a new connection. Free with vc_conn_free().
 */
VcConn *vc_conn_new(int fd, unsigned id, VcChannel chan);

/** vc_conn_free: closes the socket and frees @conn. NULL is allowed. */
void vc_conn_free(VcConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcConn, vc_conn_free)

/** vc_conn_set_tap: installs (or with NULL removes) the tap. */
void vc_conn_set_tap(VcConn *conn, VcConnTap tap, void *opaque);

/**
 * vc_conn_send:
 * @conn: connection
 * @m: message; its fds stay owned by the caller
 * @timeout_ms: deadline for the send
 *
 * Returns: 0 or -errno (-EPIPE when the peer has gone).
 */
int vc_conn_send(VcConn *conn, const VcMsg *m, int timeout_ms);

/**
 * vc_conn_send_raw:
 * Sends @len bytes as they are with @nfds fds on the first byte (hostile
 * input, replay). Returns: 0 or -errno.
 */
int vc_conn_send_raw(VcConn *conn, const void *buf, size_t len, const int *fds,
                     unsigned nfds, int timeout_ms);

/**
 * vc_conn_recv:
 * @conn: connection
 * @m: (out): the message; its fds are owned by the caller
 * @timeout_ms: deadline; 0 only looks
 *
 * Returns: as vc_msg_recv(). After -ECONNRESET, -EPROTO, -ETIME or -EMSGSIZE the
 * connection is marked closed.
 */
int vc_conn_recv(VcConn *conn, VcMsg *m, int timeout_ms);

#endif /* VC_CONN_H */
