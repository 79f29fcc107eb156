/*
 * vc-launch.c -- daemon lifetimes: start, connect, stop, clean up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vc-launch.h"

#define DEFAULT_START_MS 5000
#define DEFAULT_STOP_MS 3000
#define FD_IN_CHILD 3

struct VcDaemon {
    VcLaunchMode mode;
    GSubprocess *proc;
    GPid pid;
    char *tmpdir;           /* ours, removed at the end */
    char *sock_path;
    bool own_sock;          /* we remove it at the end */
    char *log_path;
    char *describe;
    int fd_ours;            /* FD mode: our end, handed out once */
    int listen_fd;          /* LISTEN mode */
    int stop_signal;
    int stop_timeout_ms;
    bool we_signalled;      /* we sent a signal: its death is not a crash */
    int slot;               /* cleanup registry slot */
    char *id;               /* {id}: short, unique to this instance */
    GStrv cleanup;          /* expanded recipe cleanup paths */
};

/* --- Cleanup on signals: a fixed table the handler can read safely ------------------- */

#define MAX_SLOTS 32

typedef struct CleanupSlot {
    volatile sig_atomic_t used;
    pid_t pgid;
    char sock[108];
    char log[512];
    char dir[512];          /* removed with everything in it */
    char extra[2][512];     /* recipe cleanup paths, likewise */
} CleanupSlot;

static CleanupSlot slots[MAX_SLOTS];

static int
slot_take(pid_t pgid, const char *sock, const char *log, const char *dir, char *const *extra)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!slots[i].used) {
            slots[i].pgid = pgid;
            g_strlcpy(slots[i].sock, sock ? sock : "", sizeof(slots[i].sock));
            g_strlcpy(slots[i].log, log ? log : "", sizeof(slots[i].log));
            g_strlcpy(slots[i].dir, dir ? dir : "", sizeof(slots[i].dir));
            for (int k = 0; k < 2; k++) {
                g_strlcpy(slots[i].extra[k], extra && extra[0] && (k == 0 || extra[1])
                                                 ? extra[k] : "", sizeof(slots[i].extra[k]));
            }
            slots[i].used = 1;
            return i;
        }
    }
    return -1;
}

/* Removes @path and everything under it. Async-signal-safe: fork and exec only. */
static void
remove_tree_signal_safe(const char *path)
{
    pid_t pid;

    if (!path[0] || path[0] != '/' || strcmp(path, "/") == 0) {
        return;
    }
    pid = fork();
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", "--", path, (char *)NULL);
        _exit(127);
    }
    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }
}

static void
slot_release(int i)
{
    if (i >= 0) {
        slots[i].used = 0;
    }
}

static void
cleanup_handler(int sig)
{
    struct timespec ts = {0, 10 * 1000 * 1000};

    /* Only async-signal-safe calls from here on. */
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (slots[i].used && slots[i].pgid > 0) {
            kill(-slots[i].pgid, SIGTERM);
        }
    }
    for (int t = 0; t < 100; t++) {
        bool any = false;
        for (int i = 0; i < MAX_SLOTS; i++) {
            if (slots[i].used && slots[i].pgid > 0 && kill(-slots[i].pgid, 0) == 0) {
                any = true;
            }
        }
        if (!any) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!slots[i].used) {
            continue;
        }
        if (slots[i].pgid > 0) {
            kill(-slots[i].pgid, SIGKILL);
        }
        if (slots[i].sock[0]) {
            unlink(slots[i].sock);
        }
        if (slots[i].log[0]) {
            unlink(slots[i].log);
        }
        remove_tree_signal_safe(slots[i].dir);
        remove_tree_signal_safe(slots[i].extra[0]);
        remove_tree_signal_safe(slots[i].extra[1]);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void
vc_launch_install_cleanup(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cleanup_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A daemon closing its socket under us must give EPIPE, not kill the harness. */
    signal(SIGPIPE, SIG_IGN);
}

/* --- Helpers ---------------------------------------------------------------------------- */

static void
child_setup(gpointer data)
{
    pid_t parent = (pid_t)GPOINTER_TO_INT(data);

    /* Own process group: a stop reaches whatever the daemon forks. */
    setpgid(0, 0);
    /* A harness killed outright (SIGKILL, a CI timeout) cannot clean up: the kernel stops
     * the daemon instead. Checked against a parent that died before this line. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127);
    }
}

static char *
replace_all(const char *s, const char *what, const char *with)
{
    g_auto(GStrv) parts = g_strsplit(s, what, -1);

    return g_strjoinv(with ? with : "", parts);
}

/* {socket}, {tmpdir} and {id} in @s. */
static char *
expand(const VcDaemon *d, const char *s)
{
    g_autofree char *a = replace_all(s, "{socket}", d->sock_path);
    g_autofree char *b = replace_all(a, "{tmpdir}", d->tmpdir);

    return replace_all(b, "{id}", d->id);
}

/* Removes @path and everything under it (our own temporary files only). */
static void
remove_tree(const char *path)
{
    g_autoptr(GFile) f = NULL;
    g_autoptr(GFileEnumerator) e = NULL;
    GFileInfo *info;

    if (!path || path[0] != '/' || strcmp(path, "/") == 0) {
        return;
    }
    f = g_file_new_for_path(path);
    e = g_file_enumerate_children(f, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    while (e && (info = g_file_enumerator_next_file(e, NULL, NULL))) {
        g_autofree char *child = g_build_filename(path, g_file_info_get_name(info), NULL);
        if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY) {
            remove_tree(child);
        } else {
            unlink(child);
        }
        g_object_unref(info);
    }
    if (rmdir(path) < 0 && errno == ENOTDIR) {
        unlink(path);
    }
}

/* Parses "64M" etc. Returns 0 on a bad size. */
static guint64
parse_size(const char *s)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 10);

    switch (end && *end ? g_ascii_toupper(*end) : 0) {
    case 0:
        return v;
    case 'K':
        return v << 10;
    case 'M':
        return v << 20;
    case 'G':
        return v << 30;
    default:
        return 0;
    }
}

/* Recipe files and directories in the private temporary directory. */
static bool
make_recipe_files(VcDaemon *d, const VcLaunchSpec *spec, GError **error)
{
    for (char *const *p = spec->dirs; p && *p; p++) {
        g_autofree char *dir = g_build_filename(d->tmpdir, *p, NULL);
        if (g_mkdir_with_parents(dir, 0700) < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mkdir %s: %s", dir,
                        g_strerror(errno));
            return false;
        }
    }
    for (char *const *p = spec->files; p && *p; p++) {
        g_auto(GStrv) kv = g_strsplit(*p, ":", 2);
        g_autofree char *file = g_build_filename(d->tmpdir, kv[0], NULL);
        guint64 size = kv[1] ? parse_size(kv[1]) : 0;
        int fd;
        if (!kv[1] || !size) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "recipe file '%s': want NAME:SIZE", *p);
            return false;
        }
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
            int e = errno;
            if (fd >= 0) {
                close(fd);
            }
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "create %s: %s", file,
                        g_strerror(e));
            return false;
        }
        close(fd);
    }
    return true;
}

static int
unix_connect(const char *path, int *err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(a.sun_path)) {
        *err = ENAMETOOLONG;
        return -1;
    }
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

static int
unix_listen(const char *path, GError **error)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(a.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "socket path too long: %s",
                    path);
        return -1;
    }
    strcpy(a.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "listen on %s: %s", path,
                    g_strerror(e));
        return -1;
    }
    return fd;
}

static bool
is_socket(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

char *
vc_daemon_log_tail(VcDaemon *d, unsigned lines)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) v = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    unsigned n, first;

    if (!d->log_path || !g_file_get_contents(d->log_path, &text, NULL, NULL)) {
        return g_strdup("");
    }
    g_strchomp(text);
    v = g_strsplit(text, "\n", -1);
    n = g_strv_length(v);
    first = n > lines ? n - lines : 0;
    for (unsigned i = first; i < n; i++) {
        g_strstrip(v[i]);
        if (!*v[i]) {
            continue;
        }
        if (out->len) {
            g_string_append(out, " | ");
        }
        g_string_append(out, v[i]);
    }
    /* Keep reasons to one line of reasonable length. */
    if (out->len > 400) {
        g_string_erase(out, 0, out->len - 400);
        g_string_prepend(out, "...");
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static bool
proc_running(VcDaemon *d)
{
    return d->proc && g_subprocess_get_identifier(d->proc) != NULL;
}

bool
vc_daemon_wait_exit(VcDaemon *d, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    if (!d->proc) {
        return true;
    }
    /* GLib's worker thread reaps the child; we watch for it to be gone. */
    while (proc_running(d)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(5000);
    }
    return true;
}

static GSubprocess *
spawn(VcDaemon *d, char *const *argv, int child_fd, GError **error)
{
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    GSubprocess *p;

    g_subprocess_launcher_set_stdout_file_path(l, d->log_path);
    g_subprocess_launcher_set_child_setup(l, child_setup, GINT_TO_POINTER((int)getpid()), NULL);
    if (child_fd >= 0) {
        g_subprocess_launcher_take_fd(l, child_fd, FD_IN_CHILD);
    }
    p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, error);
    if (p) {
        const char *id = g_subprocess_get_identifier(p);
        d->pid = id ? (GPid)atoi(id) : 0;
    }
    return p;
}

/* Waits for the socket file of a freshly started daemon. */
static bool
wait_socket(VcDaemon *d, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        if (is_socket(d->sock_path)) {
            return true;
        }
        if (d->proc && !proc_running(d)) {
            g_autofree char *how = vc_daemon_exit_text(d);
            g_autofree char *tail = vc_daemon_log_tail(d, 3);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "the daemon %s before creating %s%s%s", how, d->sock_path,
                        *tail ? ": " : "", tail);
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *tail = vc_daemon_log_tail(d, 3);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "the daemon did not create its socket %s within %d ms%s%s", d->sock_path,
                        timeout_ms, *tail ? ": " : "", tail);
            return false;
        }
        g_usleep(5000);
    }
}

VcDaemon *
vc_daemon_start(const VcLaunchSpec *spec, GError **error)
{
    g_autoptr(VcDaemon) d = g_new0(VcDaemon, 1);
    int start_ms = spec->start_timeout_ms > 0 ? spec->start_timeout_ms : DEFAULT_START_MS;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    int sv[2] = {-1, -1};

    d->mode = spec->mode;
    d->fd_ours = d->listen_fd = -1;
    d->slot = -1;
    d->stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
    d->stop_timeout_ms = spec->stop_timeout_ms > 0 ? spec->stop_timeout_ms : DEFAULT_STOP_MS;

    if (spec->mode == VC_LAUNCH_CONNECT) {
        if (!spec->socket_path) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no socket path given");
            return NULL;
        }
        if (!is_socket(spec->socket_path)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is not a socket%s",
                        spec->socket_path, g_file_test(spec->socket_path, G_FILE_TEST_EXISTS)
                                               ? "" : " (no such file)");
            return NULL;
        }
        d->sock_path = g_strdup(spec->socket_path);
        d->describe = g_strdup_printf("socket %s", spec->socket_path);
        return g_steal_pointer(&d);
    }

    d->tmpdir = g_dir_make_tmp("vhost-conform-XXXXXX", error);
    if (!d->tmpdir) {
        return NULL;
    }
    d->log_path = g_build_filename(d->tmpdir, "daemon.log", NULL);
    {
        static gint seq;
        d->id = g_strdup_printf("%d-%d", (int)getpid(), g_atomic_int_add(&seq, 1));
    }
    if (spec->mode == VC_LAUNCH_LISTEN && spec->socket_path) {
        d->sock_path = g_strdup(spec->socket_path);
    } else if (spec->mode != VC_LAUNCH_FD) {
        d->sock_path = g_build_filename(d->tmpdir, "backend.sock", NULL);
    }
    d->own_sock = d->sock_path != NULL;

    switch (spec->mode) {
    case VC_LAUNCH_SOCKET_PATH:
    case VC_LAUNCH_FD:
    case VC_LAUNCH_FD_LISTEN:
    case VC_LAUNCH_BARE:
        if (!spec->program) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no program given");
            return NULL;
        }
        g_ptr_array_add(argv, g_strdup(spec->program));
        if (spec->mode == VC_LAUNCH_FD) {
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
                            g_strerror(errno));
                return NULL;
            }
            g_ptr_array_add(argv, g_strdup_printf("--fd=%d", FD_IN_CHILD));
        } else if (spec->mode == VC_LAUNCH_FD_LISTEN) {
            /* The child gets the listening socket; we keep only its path. */
            sv[1] = unix_listen(d->sock_path, error);
            if (sv[1] < 0) {
                return NULL;
            }
            g_ptr_array_add(argv, g_strdup_printf("--fd=%d", FD_IN_CHILD));
        } else if (spec->mode == VC_LAUNCH_SOCKET_PATH) {
            g_ptr_array_add(argv, g_strdup_printf("--socket-path=%s", d->sock_path));
        }
        for (char *const *a = spec->args; a && *a; a++) {
            g_ptr_array_add(argv, expand(d, *a));
        }
        break;
    case VC_LAUNCH_COMMAND:
    case VC_LAUNCH_LISTEN: {
        g_auto(GStrv) words = NULL;
        if (spec->mode == VC_LAUNCH_LISTEN) {
            d->listen_fd = unix_listen(d->sock_path, error);
            if (d->listen_fd < 0) {
                return NULL;
            }
        }
        if (!spec->command) {
            if (spec->mode == VC_LAUNCH_LISTEN) {
                d->describe = g_strdup_printf("listening on %s", d->sock_path);
                d->slot = slot_take(0, d->sock_path, d->log_path, d->tmpdir, NULL);
                return g_steal_pointer(&d);
            }
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no command given");
            return NULL;
        }
        if (!g_shell_parse_argv(spec->command, NULL, &words, error)) {
            g_prefix_error(error, "--backend-cmd: ");
            return NULL;
        }
        for (char **w = words; *w; w++) {
            g_ptr_array_add(argv, expand(d, *w));
        }
        break;
    }
    case VC_LAUNCH_CONNECT:
        break;
    }
    if (spec->mode == VC_LAUNCH_COMMAND && !spec->keep_stale_socket) {
        unlink(d->sock_path);
    }
    if (!make_recipe_files(d, spec, error)) {
        return NULL;
    }
    if (spec->cleanup) {
        GPtrArray *c = g_ptr_array_new();
        for (char *const *p = spec->cleanup; *p; p++) {
            g_ptr_array_add(c, expand(d, *p));
        }
        g_ptr_array_add(c, NULL);
        d->cleanup = (GStrv)g_ptr_array_free(c, FALSE);
    }
    g_ptr_array_add(argv, NULL);
    d->describe = g_strjoinv(" ", (char **)argv->pdata);
    /* spawn() hands sv[1] to the launcher, which closes it: the child's from now on. */
    d->proc = spawn(d, (char *const *)argv->pdata, sv[1], error);
    if (!d->proc) {
        if (sv[0] >= 0) {
            close(sv[0]);
        }
        return NULL;
    }
    d->fd_ours = sv[0];
    d->slot = slot_take(d->pid, d->own_sock ? d->sock_path : NULL, d->log_path, d->tmpdir,
                        d->cleanup);
    if ((spec->mode == VC_LAUNCH_SOCKET_PATH || spec->mode == VC_LAUNCH_COMMAND) &&
        !wait_socket(d, start_ms, error)) {
        return NULL;
    }
    return g_steal_pointer(&d);
}

int
vc_daemon_connect(VcDaemon *d, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int err = 0;

    if (d->mode == VC_LAUNCH_FD) {
        int fd = d->fd_ours;
        if (fd < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                        "the --fd connection was already used; restart the daemon");
            return -1;
        }
        d->fd_ours = -1;
        return fd;
    }
    if (d->mode == VC_LAUNCH_LISTEN) {
        struct pollfd p = {.fd = d->listen_fd, .events = POLLIN};
        int r;
        do {
            r = poll(&p, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no daemon connected to %s within %d ms", d->sock_path, timeout_ms);
            return -1;
        }
        r = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (r < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "accept: %s",
                        g_strerror(errno));
        }
        return r;
    }
    for (;;) {
        int fd = unix_connect(d->sock_path, &err);
        if (fd >= 0) {
            return fd;
        }
        if (err != ECONNREFUSED && err != ENOENT && err != EAGAIN) {
            break;
        }
        if (d->proc && !proc_running(d)) {
            g_autofree char *how = vc_daemon_exit_text(d);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "cannot connect to %s: the daemon %s",
                        d->sock_path, how);
            return -1;
        }
        if (g_get_monotonic_time() >= deadline) {
            break;
        }
        g_usleep(5000);
    }
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot connect to %s: %s",
                d->sock_path, g_strerror(err));
    return -1;
}

bool
vc_daemon_has_process(const VcDaemon *d)
{
    return d->proc != NULL;
}

GPid
vc_daemon_pid(const VcDaemon *d)
{
    return d->proc && g_subprocess_get_identifier(d->proc) ? d->pid : 0;
}

bool
vc_daemon_alive(VcDaemon *d)
{
    return d->mode == VC_LAUNCH_CONNECT || (d->mode == VC_LAUNCH_LISTEN && !d->proc) ||
           proc_running(d);
}

bool
vc_daemon_signal(VcDaemon *d, int sig)
{
    if (!proc_running(d) || d->pid <= 0) {
        return false;
    }
    /* A death after a stop signal is ours; after an event signal (SIGUSR1) it is a crash. */
    if (sig == SIGTERM || sig == SIGINT || sig == SIGKILL || sig == SIGQUIT || sig == SIGHUP) {
        d->we_signalled = true;
    }
    /* The group first; fall back to the pid if the child had no time to call setpgid(). */
    if (kill(-d->pid, sig) < 0) {
        return kill(d->pid, sig) == 0;
    }
    return true;
}

/*
 * A program that daemonized anyway (it forked, called setsid() and its parent exited) left
 * our process group; it still serves the socket in our private directory, so the socket's
 * peer credentials name it. Ends it: SIGTERM, then SIGKILL after a second.
 */
static void
stop_escaped(VcDaemon *d)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    gint64 deadline;
    int fd, err = 0;

    if (!d->own_sock || !d->sock_path || d->mode != VC_LAUNCH_SOCKET_PATH) {
        return;
    }
    /* Its socket may appear just after its parent exited. */
    deadline = g_get_monotonic_time() + 300 * 1000;
    while (!is_socket(d->sock_path) && g_get_monotonic_time() < deadline) {
        g_usleep(5000);
    }
    fd = unix_connect(d->sock_path, &err);
    if (fd < 0) {
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0 ||
        cred.pid == getpid() || cred.uid != getuid()) {
        close(fd);
        return;
    }
    close(fd);
    g_debug("launch: %s left its process group as pid %d; stopping it", d->describe,
            (int)cred.pid);
    kill(cred.pid, SIGTERM);
    deadline = g_get_monotonic_time() + 1000 * 1000;
    while (kill(cred.pid, 0) == 0 && g_get_monotonic_time() < deadline) {
        g_usleep(5000);
    }
    kill(cred.pid, SIGKILL);
}

bool
vc_daemon_stop(VcDaemon *d)
{
    bool clean;

    if (!d->proc) {
        return false;
    }
    if (!proc_running(d)) {
        /* Whatever it forked may still run in its group (never kill(0): that is our group). */
        if (d->pid > 0) {
            kill(-d->pid, SIGKILL);
        }
        if (!d->we_signalled && g_subprocess_get_if_exited(d->proc) &&
            g_subprocess_get_exit_status(d->proc) == 0) {
            stop_escaped(d);
        }
        return false;
    }
    vc_daemon_signal(d, d->stop_signal);
    clean = vc_daemon_wait_exit(d, d->stop_timeout_ms);
    if (!clean) {
        vc_daemon_signal(d, SIGKILL);
        vc_daemon_wait_exit(d, 5000);
    }
    if (d->pid > 0) {
        kill(-d->pid, SIGKILL);
    }
    return clean;
}

bool
vc_daemon_crashed(VcDaemon *d)
{
    return d->proc && !proc_running(d) && !d->we_signalled &&
           g_subprocess_get_if_signaled(d->proc);
}

int
vc_daemon_exit_status(VcDaemon *d)
{
    if (!d->proc || proc_running(d) || !g_subprocess_get_if_exited(d->proc)) {
        return -1;
    }
    return g_subprocess_get_exit_status(d->proc);
}

char *
vc_daemon_exit_text(VcDaemon *d)
{
    if (!d->proc) {
        return g_strdup("not started by us");
    }
    if (proc_running(d)) {
        return g_strdup("running");
    }
    if (g_subprocess_get_if_signaled(d->proc)) {
        int sig = g_subprocess_get_term_sig(d->proc);
        return g_strdup_printf("was killed by SIG%s (%d)", sigabbrev_np(sig) ? sigabbrev_np(sig)
                                                                              : "?", sig);
    }
    return g_strdup_printf("exited with status %d", g_subprocess_get_exit_status(d->proc));
}

const char *
vc_daemon_socket_path(const VcDaemon *d)
{
    return d->sock_path;
}

const char *
vc_daemon_describe(const VcDaemon *d)
{
    return d->describe;
}

const char *
vc_daemon_tmpdir(const VcDaemon *d)
{
    return d->tmpdir;
}

const char *
vc_daemon_log_path(const VcDaemon *d)
{
    return d->log_path;
}

void
vc_daemon_free(VcDaemon *d)
{
    if (!d) {
        return;
    }
    vc_daemon_stop(d);
    g_clear_object(&d->proc);
    if (d->fd_ours >= 0) {
        close(d->fd_ours);
    }
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
    }
    if (d->own_sock && d->sock_path) {
        unlink(d->sock_path);
    }
    if (d->log_path) {
        unlink(d->log_path);
    }
    for (char **p = d->cleanup; p && *p; p++) {
        remove_tree(*p);
    }
    remove_tree(d->tmpdir);
    slot_release(d->slot);
    g_strfreev(d->cleanup);
    g_free(d->id);
    g_free(d->tmpdir);
    g_free(d->sock_path);
    g_free(d->log_path);
    g_free(d->describe);
    g_free(d);
}

bool
vc_run_capture(char *const *argv, int timeout_ms, char **out, int *status, GError **error)
{
    g_autoptr(VcDaemon) d = g_new0(VcDaemon, 1);

    d->fd_ours = d->listen_fd = -1;
    d->slot = -1;
    d->stop_signal = SIGKILL;
    d->stop_timeout_ms = 1000;
    d->tmpdir = g_dir_make_tmp("vhost-conform-XXXXXX", error);
    if (!d->tmpdir) {
        return false;
    }
    d->log_path = g_build_filename(d->tmpdir, "out.txt", NULL);
    {
        /* stdout only: stderr goes to our stderr's sink (a log file is not needed here). */
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        g_subprocess_launcher_set_stdout_file_path(l, d->log_path);
        g_subprocess_launcher_set_child_setup(l, child_setup, GINT_TO_POINTER((int)getpid()), NULL);
        d->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv, error);
    }
    if (!d->proc) {
        return false;
    }
    d->pid = (GPid)atoi(g_subprocess_get_identifier(d->proc) ?: "0");
    d->slot = slot_take(d->pid, NULL, d->log_path, d->tmpdir, NULL);
    if (!vc_daemon_wait_exit(d, timeout_ms)) {
        *status = -1;
    } else {
        *status = g_subprocess_get_if_exited(d->proc) ? g_subprocess_get_exit_status(d->proc) : -1;
    }
    if (out) {
        if (!g_file_get_contents(d->log_path, out, NULL, NULL)) {
            *out = g_strdup("");
        }
    }
    return true;
}
