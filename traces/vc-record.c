/*
 * vc-record.c -- the recording proxy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>

#include "vc-record.h"
#include "vc-trace.h"
#include "wire/vc-msg-io.h"

typedef struct Session {
    const VcRecordOptions *o;
    VcTrace *t;
    unsigned conn;     /* even: main socket; conn + 1: back-end channel */
    int fe;            /* the front end's main socket (accepted) */
    int be;            /* our connection to the daemon */
    int fe_ch;         /* the front end's end of its back-end channel, or -1 */
    int be_ch;         /* our end of the socketpair the daemon got, or -1 */
    char why[256];     /* how the session ended */
} Session;

static int stop_pipe[2] = {-1, -1};

static void
on_stop_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (write(stop_pipe[1], &c, 1) < 0) {
        /* Nothing to do: the pipe is full, so a stop is already pending. */
    }
    errno = saved;
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void
note(Session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
note(Session *s, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vc_trace_write_mark(s->t, s->conn, text);
    if (s->o->verbose) {
        g_printerr("vhost-conform record: conn %u: %s\n", s->conn, text);
    }
}

static int
listen_on(const char *path, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: socket path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "listening on %s: %s", path,
                    g_strerror(e));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static int
connect_upstream(const char *path, int timeout_ms, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = vc_now_ms() + timeout_ms;
    int e = 0;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: socket path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    do {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            break;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        e = errno;
        close(fd);
        if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN) {
            break;
        }
        g_usleep(50 * 1000);
    } while (vc_now_ms() < deadline);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                "the daemon did not accept on %s within %d ms: %s", path, timeout_ms,
                g_strerror(e));
    return -1;
}

/* Returns 1 with a new connection, 0 at the deadline, -1 on a stop signal or an error. */
static int
accept_front_end(int lfd, int timeout_ms, int *out, GError **error)
{
    struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_pipe[0], .events = POLLIN}};
    int r;

    do {
        r = poll(p, 2, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "poll: %s",
                    g_strerror(errno));
        return -1;
    }
    if (p[1].revents) {
        return -1;
    }
    if (r == 0) {
        return 0;
    }
    *out = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (*out < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "accept: %s",
                    g_strerror(errno));
        return -1;
    }
    return 1;
}

static void
drop_channel(Session *s, const char *why)
{
    if (s->fe_ch >= 0 || s->be_ch >= 0) {
        note(s, "back-end channel closed: %s", why);
    }
    close_fd(&s->fe_ch);
    close_fd(&s->be_ch);
}

static const char *
recv_error_text(int r)
{
    switch (r) {
    case -ECONNRESET:
        return "closed the connection";
    case -EPROTO:
        return "closed the connection in the middle of a message";
    case -EMSGSIZE:
        return "sent a payload larger than 4096 bytes, which cannot be forwarded";
    case -ETIME:
        return "began a message but did not finish it in time";
    default:
        return g_strerror(-r);
    }
}

/*
 * Moves one message from @from to @to, recording it first. Returns 0, or
 * -1 when the session (or, for the channel, the channel) must end.
 */
static int
forward(Session *s, VcMsg *m, int from, int to, unsigned conn, VcDir dir, const char *who)
{
    int r = vc_msg_recv(from, m, s->o->io_timeout_ms);

    if (r < 0) {
        vc_msg_close_fds(m);
        g_snprintf(s->why, sizeof(s->why), "the %s %s", who, recv_error_text(r));
        return -1;
    }
    vc_trace_write_msg(s->t, conn, dir, m, 0);
    /* vhost-user.rst SET_BACKEND_REQ_FD: the daemon gets our socket, we keep the front end's. */
    if (conn == s->conn && dir == VC_DIR_F2B && m->hdr.request == VHOST_USER_SET_BACKEND_REQ_FD &&
        m->nfds >= 1 && m->nfds <= VC_MSG_MAX_FDS) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
            drop_channel(s, "replaced by a new SET_BACKEND_REQ_FD");
            s->fe_ch = vc_msg_take_fd(m, 0);
            s->be_ch = sv[0];
            m->fds[0] = sv[1];
            note(s, "back-end channel intercepted (connection %u)", s->conn + 1);
        } else {
            note(s, "socketpair failed (%s): the back-end channel is not recorded",
                 g_strerror(errno));
        }
    }
    r = to >= 0 ? vc_msg_send(to, m, s->o->io_timeout_ms) : -EPIPE;
    vc_msg_close_fds(m);
    if (r < 0) {
        g_snprintf(s->why, sizeof(s->why), "forwarding %s from the %s: %s",
                   vc_msg_short_name((conn & 1) ? VC_CHAN_BACKEND : VC_CHAN_MAIN,
                                     m->hdr.request), who,
                   r == -EPIPE ? "the other side has gone" : g_strerror(-r));
        return -1;
    }
    return 0;
}

/* Returns false when the session ended because of a stop signal. */
static bool
run_session(Session *s, VcMsg *m)
{
    for (;;) {
        struct pollfd p[5] = {
            {.fd = stop_pipe[0], .events = POLLIN},
            {.fd = s->fe, .events = POLLIN},
            {.fd = s->be, .events = POLLIN},
            {.fd = s->fe_ch, .events = POLLIN},
            {.fd = s->be_ch, .events = POLLIN},
        };
        int r;

        do {
            r = poll(p, 5, s->o->idle_timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            g_snprintf(s->why, sizeof(s->why), "poll: %s", g_strerror(errno));
            return true;
        }
        if (r == 0) {
            g_snprintf(s->why, sizeof(s->why), "nothing moved for %d ms", s->o->idle_timeout_ms);
            return true;
        }
        if (p[0].revents) {
            g_snprintf(s->why, sizeof(s->why), "stopped by a signal");
            return false;
        }
        if (p[1].revents && forward(s, m, s->fe, s->be, s->conn, VC_DIR_F2B, "front end") < 0) {
            return true;
        }
        if (p[2].revents && forward(s, m, s->be, s->fe, s->conn, VC_DIR_B2F, "daemon") < 0) {
            return true;
        }
        /*
         * The back-end channel: the daemon's requests one way, the front end's replies back.
         * A SET_BACKEND_REQ_FD forwarded above may have replaced the channel polled: its
         * events belong to the old fds, so they are only acted on while the fds are the same.
         */
        if (p[4].revents && s->be_ch >= 0 && s->be_ch == p[4].fd &&
            forward(s, m, s->be_ch, s->fe_ch, s->conn + 1, VC_DIR_B2F, "daemon") < 0) {
            drop_channel(s, s->why);
            s->why[0] = '\0';
        }
        if (p[3].revents && s->fe_ch >= 0 && s->fe_ch == p[3].fd &&
            forward(s, m, s->fe_ch, s->be_ch, s->conn + 1, VC_DIR_F2B, "front end") < 0) {
            drop_channel(s, s->why);
            s->why[0] = '\0';
        }
    }
}

bool
vc_record_run(const VcRecordOptions *opts, guint64 *frames, GError **error)
{
    VcRecordOptions o = *opts;
    g_autoptr(VcTrace) t = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    struct sigaction sa = {.sa_handler = on_stop_signal}, old[3];
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    bool ok = true, stopped = false;
    unsigned served = 0;
    int lfd;

    o.accept_timeout_ms = o.accept_timeout_ms ? o.accept_timeout_ms : 60000;
    o.connect_timeout_ms = o.connect_timeout_ms ? o.connect_timeout_ms : 5000;
    o.idle_timeout_ms = o.idle_timeout_ms ? o.idle_timeout_ms : 600000;
    o.io_timeout_ms = o.io_timeout_ms ? o.io_timeout_ms : 5000;
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "pipe: %s",
                    g_strerror(errno));
        return false;
    }
    t = vc_trace_open(o.output, 0, error);
    lfd = t ? listen_on(o.listen_path, error) : -1;
    if (lfd < 0) {
        close_fd(&stop_pipe[0]);
        close_fd(&stop_pipe[1]);
        return false;
    }
    sigemptyset(&sa.sa_mask);
    for (unsigned i = 0; i < 3; i++) {
        sigaction(sigs[i], &sa, &old[i]);
    }
    while (ok && !stopped && (o.sessions == 0 || served < o.sessions)) {
        Session s = {.o = &o, .t = t, .conn = 2 * served, .fe = -1, .be = -1, .fe_ch = -1,
                     .be_ch = -1};
        GError *err = NULL;
        int r = accept_front_end(lfd, o.accept_timeout_ms, &s.fe, &err);

        if (r < 0) {
            /* A stop signal ends the recording normally; an error does not. */
            ok = err == NULL;
            if (err) {
                g_propagate_error(error, err);
            }
            break;
        }
        if (r == 0) {
            if (served == 0 || o.sessions != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                            "no front end connected to %s within %d ms", o.listen_path,
                            o.accept_timeout_ms);
                ok = false;
            }
            break;
        }
        served++;
        note(&s, "session %u: front end connected on %s", served, o.listen_path);
        s.be = connect_upstream(o.upstream_path, o.connect_timeout_ms, &err);
        if (s.be < 0) {
            note(&s, "session %u: %s", served, err->message);
            g_propagate_error(error, g_steal_pointer(&err));
            close_fd(&s.fe);
            ok = false;
            break;
        }
        note(&s, "session %u: connected to the daemon on %s", served, o.upstream_path);
        stopped = !run_session(&s, m);
        note(&s, "session %u ends: %s", served, s.why);
        drop_channel(&s, "the session ended");
        close_fd(&s.fe);
        close_fd(&s.be);
    }
    for (unsigned i = 0; i < 3; i++) {
        sigaction(sigs[i], &old[i], NULL);
    }
    close(lfd);
    unlink(o.listen_path);
    close_fd(&stop_pipe[0]);
    close_fd(&stop_pipe[1]);
    if (frames) {
        *frames = vc_trace_frames(t);
    }
    if (!vc_trace_close(g_steal_pointer(&t), ok ? error : NULL)) {
        ok = false;
    }
    return ok;
}
