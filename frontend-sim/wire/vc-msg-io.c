/*
 * vc-msg-io.c -- sendmsg/recvmsg framing of vhost-user messages.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vc-msg-io.h"

int64_t
vc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining(int64_t deadline)
{
    int64_t left;

    if (deadline < 0) {
        return -1;
    }
    left = deadline - vc_now_ms();
    return left < 0 ? 0 : (int)left;
}

static int
wait_for(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;

    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -errno;
    }
    return r > 0 ? 1 : 0;
}

int
vc_wait_readable(int fd, int timeout_ms)
{
    return wait_for(fd, POLLIN, timeout_ms);
}

static int
send_iov(int sock, struct iovec *iov, int iovcnt, const int *fds, unsigned nfds, int64_t deadline)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 253)];
        struct cmsghdr align;
    } ctl;
    bool fds_sent = false;

    while (iovcnt > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        ssize_t n;

        if (!fds_sent && nfds > 0) {
            struct cmsghdr *c;
            if (nfds > 253) {
                return -EINVAL;
            }
            memset(ctl.buf, 0, sizeof(ctl.buf));
            mh.msg_control = ctl.buf;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
            memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int r = wait_for(sock, POLLOUT, remaining(deadline));
                if (r < 0) {
                    return r;
                }
                if (r == 0) {
                    return -ETIMEDOUT;
                }
                continue;
            }
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        fds_sent = true;
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

int
vc_msg_send(int sock, const VcMsg *m, int timeout_ms)
{
    struct iovec iov[2] = {
        {.iov_base = (void *)&m->hdr, .iov_len = sizeof(m->hdr)},
        {.iov_base = (void *)m->payload.raw, .iov_len = m->hdr.size},
    };
    int64_t deadline = timeout_ms < 0 ? -1 : vc_now_ms() + timeout_ms;

    if (m->hdr.size > VC_MSG_MAX_PAYLOAD || m->nfds > VC_MSG_MAX_FDS) {
        return -EMSGSIZE;
    }
    return send_iov(sock, iov, m->hdr.size ? 2 : 1, m->fds, m->nfds, deadline);
}

int
vc_msg_send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nfds,
                int timeout_ms)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    int64_t deadline = timeout_ms < 0 ? -1 : vc_now_ms() + timeout_ms;

    if (len == 0) {
        return 0;
    }
    return send_iov(sock, &iov, 1, fds, nfds, deadline);
}

/* Appends the SCM_RIGHTS fds of @mh to @m; fds beyond the table are closed. */
static void
collect_fds(struct msghdr *mh, VcMsg *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int fds[n ? n : 1];
        memcpy(fds, CMSG_DATA(c), n * sizeof(int));
        for (size_t i = 0; i < n; i++) {
            if (m->nfds < VC_MSG_MAX_FDS) {
                m->fds[m->nfds] = fds[i];
            } else {
                close(fds[i]);
            }
            m->nfds++;
        }
    }
}

/* Reads exactly @len bytes (fds collected into @m). */
static int
recv_exact(int sock, void *buf, size_t len, VcMsg *m, int64_t deadline, bool at_boundary)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * VC_MSG_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    size_t got = 0;

    while (got < len) {
        struct iovec iov = {.iov_base = (char *)buf + got, .iov_len = len - got};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int r = wait_for(sock, POLLIN, remaining(deadline));
                if (r < 0) {
                    return r;
                }
                if (r == 0) {
                    return -ETIMEDOUT;
                }
                continue;
            }
            if (errno == ECONNRESET) {
                return (at_boundary && got == 0) ? -ECONNRESET : -EPROTO;
            }
            return -errno;
        }
        if (mh.msg_controllen > 0) {
            collect_fds(&mh, m);
        }
        if (n == 0) {
            return (at_boundary && got == 0) ? -ECONNRESET : -EPROTO;
        }
        got += (size_t)n;
    }
    return 0;
}

int
vc_msg_recv(int sock, VcMsg *m, int timeout_ms)
{
    int64_t deadline;
    int r;

    memset(&m->hdr, 0, sizeof(m->hdr));
    m->nfds = 0;
    r = wait_for(sock, POLLIN, timeout_ms);
    if (r < 0) {
        return r;
    }
    if (r == 0) {
        return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
    }
    /*
     * Something arrived: the rest of the message gets at least
     * VC_MSG_REST_MS more, so that a poll with a short timeout never leaves
     * the stream in the middle of a message.
     */
    deadline = vc_now_ms() + VC_MSG_REST_MS;
    if (timeout_ms > VC_MSG_REST_MS) {
        deadline = vc_now_ms() + timeout_ms;
    }
    r = recv_exact(sock, &m->hdr, sizeof(m->hdr), m, deadline, true);
    if (r < 0) {
        return r == -ETIMEDOUT ? -ETIME : r;
    }
    if (m->hdr.size > VC_MSG_MAX_PAYLOAD) {
        /* Drain a moderately oversized payload so the next header is found. */
        if (m->hdr.size <= (1u << 20)) {
            uint8_t sink[4096];
            uint32_t left = m->hdr.size;
            while (left > 0 && r == 0) {
                uint32_t chunk = left > sizeof(sink) ? sizeof(sink) : left;
                r = recv_exact(sock, sink, chunk, m, deadline, false);
                left -= chunk;
            }
        }
        return r == 0 ? -EMSGSIZE : (r == -ETIMEDOUT ? -ETIME : r);
    }
    if (m->hdr.size > 0) {
        r = recv_exact(sock, m->payload.raw, m->hdr.size, m, deadline, false);
    }
    return r == -ETIMEDOUT ? -ETIME : r;
}
