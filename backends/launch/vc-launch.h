/*
 * vc-launch.h -- starting, reaching and stopping the daemon under test.
 *
 * Follows vhost-user.rst "Backend program conventions": the program gets
 * --socket-path=PATH (or an inherited connected socket with --fd=N), must
 * not daemonize, and ends on SIGTERM (SIGKILL after a grace period). Daemons
 * that do not follow the conventions are started from a command template
 * with {socket} in it; a daemon already listening is reached by its socket
 * path; a daemon that connects as a client is served on a socket we listen
 * on. Every daemon runs in its own process group, its stdout and stderr go
 * to a log file, and its socket and temporary directory are removed when it
 * is stopped, when the harness exits, and on SIGINT/SIGTERM/SIGHUP.
 */
#ifndef VC_LAUNCH_H
#define VC_LAUNCH_H

#include <stdbool.h>

#include <glib.h>
#include <gio/gio.h>

/** VcLaunchMode: how the daemon is started and reached. */
typedef enum VcLaunchMode {
    VC_LAUNCH_SOCKET_PATH,  /* PROGRAM --socket-path=TMP/backend.sock ARGS... */
    VC_LAUNCH_FD,           /* PROGRAM --fd=N ARGS... with one end of a socketpair as fd N */
    VC_LAUNCH_COMMAND,      /* a command template; {socket} becomes the socket path */
    VC_LAUNCH_CONNECT,      /* nothing to start: connect to an existing socket */
    VC_LAUNCH_LISTEN,       /* we listen on the path; the daemon (if started) connects */
    VC_LAUNCH_BARE,         /* PROGRAM ARGS... with no socket option (convention tests) */
    VC_LAUNCH_FD_LISTEN,    /* PROGRAM --fd=N ARGS... with a socket listening on TMP/backend.sock
                             * as fd N (libvirt's way with virtiofsd); we connect to the path */
} VcLaunchMode;

/** VcLaunchSpec: what to start. Strings are borrowed. */
typedef struct VcLaunchSpec {
    VcLaunchMode mode;
    const char *program;        /* SOCKET_PATH and FD modes */
    char *const *args;          /* the daemon's own arguments (NULL-terminated), may be NULL */
    const char *command;        /* COMMAND mode, or LISTEN mode with a daemon to start */
    const char *socket_path;    /* CONNECT and LISTEN modes; NULL for a temporary path */
    int start_timeout_ms;       /* socket must accept within this; 0: 5000 */
    int stop_timeout_ms;        /* SIGTERM grace before SIGKILL; 0: 3000 */
    int stop_signal;            /* 0: SIGTERM (dpdk-testpmd wants SIGINT) */
    bool keep_stale_socket;     /* do not unlink an existing socket file before start */
    /*
     * Recipes: made in the daemon's private temporary directory before it
     * starts ("NAME:SIZE" sparse files, SIZE with K/M/G; directories), and
     * paths removed after it stops. Arguments, the command, files, dirs and
     * cleanup paths may use {socket}, {tmpdir} and {id} (a short id unique to
     * this daemon instance).
     */
    char *const *files;
    char *const *dirs;
    char *const *cleanup;
} VcLaunchSpec;

typedef struct VcDaemon VcDaemon;

/**
 * vc_daemon_start:
 * @spec: what to start
 * @error: set on failure (the message includes the last lines of the log)
 *
 * Starts the daemon (CONNECT mode starts nothing) and, for SOCKET_PATH and
 * COMMAND modes, waits until its socket accepts a connection (that probe
 * connection is closed at once).
 *
 * Returns: (transfer full): the daemon, or NULL.
 */
VcDaemon *vc_daemon_start(const VcLaunchSpec *spec, GError **error);

/** vc_daemon_free: stops the daemon (vc_daemon_stop()) and removes its files. NULL is fine. */
void vc_daemon_free(VcDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcDaemon, vc_daemon_free)

/**
 * vc_daemon_connect:
 * @timeout_ms: how long to retry
 *
 * Returns: a new connected socket (caller owns it), or -1 with @error set.
 * In FD mode the socket made at start is returned once; later calls fail.
 * In LISTEN mode the next incoming connection is accepted.
 */
int vc_daemon_connect(VcDaemon *d, int timeout_ms, GError **error);

/** vc_daemon_has_process: Returns: true when we started a process (not CONNECT). */
bool vc_daemon_has_process(const VcDaemon *d);

/** vc_daemon_pid: Returns: the daemon's pid, or 0 (CONNECT mode, or it has exited). */
GPid vc_daemon_pid(const VcDaemon *d);

/** vc_daemon_alive: Returns: true while the process runs (CONNECT mode: always true). */
bool vc_daemon_alive(VcDaemon *d);

/**
 * vc_daemon_wait_exit:
 * Returns: true when the process ended within @timeout_ms (it is not signalled).
 */
bool vc_daemon_wait_exit(VcDaemon *d, int timeout_ms);

/**
 * vc_daemon_signal:
 * Sends @sig to the daemon's process group. Returns: true if it was sent.
 */
bool vc_daemon_signal(VcDaemon *d, int sig);

/**
 * vc_daemon_stop:
 * Sends the stop signal to the process group, waits the grace period, then
 * SIGKILL. Returns: true when it ended on the stop signal within the grace
 * period (false when SIGKILL was needed or there is no process).
 */
bool vc_daemon_stop(VcDaemon *d);

/** vc_daemon_crashed: Returns: true when it ended by a signal we did not send. */
bool vc_daemon_crashed(VcDaemon *d);

/**
 * vc_daemon_exit_text:
 * Returns: (transfer full): "running", "exited with status N", "killed by
 * SIGSEGV" or "not started by us".
 */
char *vc_daemon_exit_text(VcDaemon *d);

/** vc_daemon_exit_status: Returns: the exit status, or -1 (running or signalled). */
int vc_daemon_exit_status(VcDaemon *d);

/** vc_daemon_log_tail: Returns: (transfer full): the last @lines lines of its output, one line. */
char *vc_daemon_log_tail(VcDaemon *d, unsigned lines);

/** vc_daemon_socket_path: Returns: the socket path in use (owned by @d), or NULL (FD mode). */
const char *vc_daemon_socket_path(const VcDaemon *d);

/** vc_daemon_describe: Returns: the command line as started (owned by @d). */
const char *vc_daemon_describe(const VcDaemon *d);

/** vc_daemon_tmpdir: Returns: the daemon's private temporary directory (owned by @d), or NULL. */
const char *vc_daemon_tmpdir(const VcDaemon *d);

/**
 * vc_daemon_log_path:
 * Returns: the file the daemon's stdout and stderr go to (owned by @d;
 * removed when @d is freed), or NULL. The bench reads dpdk-testpmd's
 * statistics from it.
 */
const char *vc_daemon_log_path(const VcDaemon *d);

/**
 * vc_run_capture:
 * @argv: program and arguments
 * @timeout_ms: deadline; the process is killed after it
 * @out: (out) (optional): its stdout (transfer full)
 * @status: (out): its exit status, or -1 when it did not exit by itself
 *
 * Runs a short-lived command (--print-capabilities). Returns: false with
 * @error when it could not be started.
 */
bool vc_run_capture(char *const *argv, int timeout_ms, char **out, int *status, GError **error);

/**
 * vc_launch_install_cleanup:
 * Installs SIGINT/SIGTERM/SIGHUP handlers that stop every daemon still
 * running, remove their sockets and temporary files, and then end the
 * harness with the usual signal exit. Call once at start-up.
 */
void vc_launch_install_cleanup(void);

#endif /* VC_LAUNCH_H */
