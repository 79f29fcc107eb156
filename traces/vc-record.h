/*
 * vc-record.h -- a recording man in the middle between a real front end
 * (QEMU) and a back-end daemon.
 *
 * The front end connects to a socket we listen on; we connect to the
 * daemon's socket and forward every message, one whole message at a time
 * with the fds that came with its header, in both directions, writing each
 * to a trace before it is forwarded. SET_BACKEND_REQ_FD is intercepted: the
 * daemon gets one end of a socketpair of ours, so that the back-end channel
 * is forwarded and recorded too (connection number + 1). A session ends
 * when either side closes (the other side is then closed as well), when
 * nothing moves for the idle timeout, or on SIGINT/SIGTERM/SIGHUP; every
 * other wait has a deadline too.
 *
 * Not forwarded: a message whose payload exceeds VC_MSG_MAX_PAYLOAD (the
 * session ends with a marker saying so). The contents of other fds passed
 * through (GPU_SET_SOCKET, device-state pipes) are not recorded.
 */
#ifndef VC_RECORD_H
#define VC_RECORD_H

#include <stdbool.h>

#include <glib.h>

/** VcRecordOptions: one recording. Strings are borrowed. */
typedef struct VcRecordOptions {
    const char *listen_path;    /* the front end connects here (a stale socket is removed) */
    const char *upstream_path;  /* the daemon's socket */
    const char *output;         /* the trace file */
    unsigned sessions;          /* front-end connections to serve; 0: until a signal */
    int accept_timeout_ms;      /* how long to wait for each front end; 0: 60 s */
    int connect_timeout_ms;     /* how long the daemon may take to accept; 0: 5 s */
    int idle_timeout_ms;        /* a session in which nothing moves this long ends; 0: 600 s */
    int io_timeout_ms;          /* deadline of each send and of a message's rest; 0: 5 s */
    bool verbose;               /* one line per session event on stderr */
} VcRecordOptions;

/**
 * vc_record_run:
 * @opts: the recording
 * @frames: (out) (optional): frames written
 * @error: set on a harness error (cannot listen, no front end connected,
 *         the daemon never accepted, the trace cannot be written)
 *
 * Serves @opts->sessions front ends one after another. Each session gets
 * connection numbers 2k (main socket) and 2k+1 (back-end channel), k
 * counting from 0, and begins and ends with a marker record.
 *
 * Returns: true when every session ran and ended by a close, the idle
 * timeout or a signal.
 */
bool vc_record_run(const VcRecordOptions *opts, guint64 *frames, GError **error);

#endif /* VC_RECORD_H */
