/*
 * vc-msg-io.h -- moving whole vhost-user messages over an AF_UNIX stream.
 *
 * Shared by the emulated front end and the reference back ends so that both
 * sides frame messages the same way: fds travel with the sendmsg that carries
 * the first byte of the header (vhost-user.rst "Communication"), and a
 * receiver takes the fds that arrive with a message's own header, never with
 * a neighbour's (../shared/DAEMONS.md: a chunked reader breaks real daemons).
 * No logging; results are 0 or -errno.
 */
#ifndef VC_MSG_IO_H
#define VC_MSG_IO_H

#include <stddef.h>
#include <stdint.h>

#include "vc-msg.h"

/* Once a message has begun to arrive, the rest gets at least this long. */
#define VC_MSG_REST_MS 1000

/**
 * vc_msg_send:
 * @sock: connected AF_UNIX stream socket
 * @m: message; hdr.size payload bytes and m->nfds fds are sent
 * @timeout_ms: deadline for the whole message, -1 for none
 *
 * The fds go with the first byte. A short write is continued without fds.
 *
 * Returns: 0, -EPIPE when the peer has gone, -ETIMEDOUT, or another -errno.
 */
int vc_msg_send(int sock, const VcMsg *m, int timeout_ms);

/**
 * vc_msg_send_raw:
 * @sock: connected socket
 * @buf: bytes to send as they are (a hand-made or corrupted message)
 * @len: number of bytes
 * @fds: fds to attach to the first byte, may be NULL
 * @nfds: number of fds (at most 253, the kernel's limit)
 * @timeout_ms: deadline, -1 for none
 *
 * Returns: 0 or -errno.
 */
int vc_msg_send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nfds,
                    int timeout_ms);

/**
 * vc_msg_recv:
 * @sock: connected socket
 * @m: (out): the message; its fds are owned by the caller. Fds still attached
 *     to @m from an earlier use are NOT closed: call vc_msg_close_fds() first.
 * @timeout_ms: deadline for the whole message, -1 for none; 0 polls
 *
 * Reads the 12-byte header with recvmsg() (collecting the fds that come
 * with it), then hdr.size payload bytes. Received fds are close-on-exec.
 * Fds that arrive with a later payload segment are collected too and
 * counted in m->nfds.
 *
 * Returns: 0 on a whole message;
 *   -ECONNRESET when the peer closed at a message boundary;
 *   -EPROTO when it closed in the middle of a message;
 *   -EMSGSIZE when hdr.size exceeds VC_MSG_MAX_PAYLOAD (the payload is read
 *    and dropped when it is at most 1 MiB so the stream stays in step; the
 *    header is still returned in m->hdr);
 *   -ETIMEDOUT when nothing arrived before the deadline;
 *   -ETIME when a message began but its rest did not come within
 *    max(@timeout_ms, VC_MSG_REST_MS) (the stream is then out of step);
 *   -EAGAIN when @timeout_ms was 0 and nothing was waiting;
 *   another -errno on a socket error.
 */
int vc_msg_recv(int sock, VcMsg *m, int timeout_ms);

/**
 * vc_wait_readable:
 * @fd: file descriptor
 * @timeout_ms: -1 forever, 0 poll
 *
 * Returns: 1 when readable (or hung up), 0 on timeout, -errno on error.
 */
int vc_wait_readable(int fd, int timeout_ms);

/**
 * vc_now_ms:
 * Returns: CLOCK_MONOTONIC in milliseconds.
 */
int64_t vc_now_ms(void);

#endif /* VC_MSG_IO_H */
