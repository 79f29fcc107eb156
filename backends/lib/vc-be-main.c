/*
 * vc-be-main.c -- vhost-user.rst "Backend program conventions": options,
 * the listening socket or the inherited one, signals, exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vc-be-priv.h"

typedef struct Opts {
    const char *socket_path;
    long fd;
    bool have_fd;
    bool list_mutants;
    bool help;
    const char *mutant_name;
    VcBeOptions be;
} Opts;

static void
usage(FILE *out, const VcBeDevice *dev)
{
    fprintf(out,
            "Usage: %s (--socket-path=PATH | --fd=FDNUM) [OPTION...]\n"
            "       %s --print-capabilities\n"
            "A reference vhost-user back end (device type \"%s\") for vhost-conform.\n"
            "\n"
            "  --socket-path=PATH     listen on PATH; serve one front end after another\n"
            "  --fd=FDNUM             serve the connected socket inherited as FDNUM, then exit\n"
            "  --print-capabilities   print the capabilities as JSON and exit\n"
            "  --mutant=NAME          break one rule on purpose (see --list-mutants)\n"
            "  --list-mutants         print \"NAME RULE-ID description\" lines and exit\n"
            "  -v, --verbose          log every message on stderr\n"
            "  --max-mem-slots=N      GET_MAX_MEM_SLOTS answer, 1..%u (default %u)\n"
            "  --inband, --no-inband  offer / do not offer INBAND_NOTIFICATIONS (default: %s)\n"
            "  --null                 benchmark only: complete chains with used.len 0 and\n"
            "                         write nothing (NOT conforming)\n"
            "  --help                 this text\n",
            dev->prog, dev->prog, dev->type, VC_BE_MAX_MEM_SLOTS, VC_BE_DEFAULT_MEM_SLOTS,
            (dev->pfeatures & (1ull << VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)) ? "offered"
                                                                                  : "not offered");
    for (const VcBeOption *o = dev->options; o && o->name; o++) {
        fprintf(out, "  %s\n", o->help);
    }
    fprintf(out, "Options take their value as --opt=VAL or --opt VAL.\n");
}

static int __attribute__((format(printf, 2, 3)))
fail(const VcBeDevice *dev, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", dev->prog, line);
    return 1;
}

static bool
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-' || *s == '+') {
        return false;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max) {
        return false;
    }
    *out = v;
    return true;
}

VcMutant
vc_be_args_mutant(int argc, char **argv)
{
    VcMutant mutant = VC_MUT_NONE;

    for (int i = 1; i < argc; i++) {
        const char *name = NULL;

        if (strncmp(argv[i], "--mutant=", 9) == 0) {
            name = argv[i] + 9;
        } else if (strcmp(argv[i], "--mutant") == 0 && i + 1 < argc) {
            name = argv[++i];
        }
        if (name && vc_mutant_lookup(name, &mutant) < 0) {
            mutant = VC_MUT_NONE;
        }
    }
    return mutant;
}

/*
 * vhost-user.rst: --print-capabilities ignores every other option. Only
 * --mutant is looked at, so that cli-bad-capabilities can misbehave.
 */
static bool
print_capabilities_requested(int argc, char **argv, VcMutant *mutant)
{
    *mutant = vc_be_args_mutant(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print-capabilities") == 0) {
            return true;
        }
    }
    return false;
}

#define OPT_DEVICE 1000

static int
parse_options(int argc, char **argv, const VcBeDevice *dev, Opts *o)
{
    static const struct option common[] = {
        {"socket-path", required_argument, NULL, 's'},
        {"fd", required_argument, NULL, 'f'},
        {"mutant", required_argument, NULL, 'm'},
        {"list-mutants", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"max-mem-slots", required_argument, NULL, 'M'},
        {"null", no_argument, NULL, 'n'},
        {"inband", no_argument, NULL, 'i'},
        {"no-inband", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
    };
    struct option longopts[sizeof(common) / sizeof(common[0]) + 32 + 1];
    unsigned n = 0, ndev = 0;
    unsigned long v;
    int c;

    for (unsigned i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        longopts[n++] = common[i];
    }
    for (const VcBeOption *d = dev->options; d && d->name && ndev < 32; d++, ndev++) {
        longopts[n++] = (struct option){d->name, d->has_arg ? required_argument : no_argument,
                                        NULL, OPT_DEVICE + (int)ndev};
    }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
        if (c >= OPT_DEVICE && c < OPT_DEVICE + (int)ndev) {
            const VcBeOption *d = &dev->options[c - OPT_DEVICE];
            const char *err = dev->set_option ? dev->set_option(d->name, optarg, dev->opaque)
                                              : "not supported";

            if (err) {
                return fail(dev, "--%s: %s", d->name, err);
            }
            continue;
        }
        switch (c) {
        case 's':
            o->socket_path = optarg;
            break;
        case 'f':
            if (!parse_ulong(optarg, INT_MAX, &v)) {
                return fail(dev, "--fd needs a file descriptor number, not '%s'", optarg);
            }
            o->fd = (long)v;
            o->have_fd = true;
            break;
        case 'm':
            o->mutant_name = optarg;
            break;
        case 'l':
            o->list_mutants = true;
            break;
        case 'v':
            o->be.verbose = true;
            break;
        case 'M':
            if (!parse_ulong(optarg, VC_BE_MAX_MEM_SLOTS, &v) || v == 0) {
                return fail(dev, "--max-mem-slots needs a number in 1..%u, not '%s'",
                            VC_BE_MAX_MEM_SLOTS, optarg);
            }
            o->be.max_mem_slots = (unsigned)v;
            break;
        case 'n':
            o->be.null_mode = true;
            break;
        case 'i':
            o->be.inband = 1;
            break;
        case 'I':
            o->be.inband = 0;
            break;
        case 'h':
            o->help = true;
            break;
        case ':':
            return fail(dev, "option '%s' needs a value", argv[optind - 1]);
        default:
            return fail(dev, "unknown option '%s' (try --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return fail(dev, "unexpected argument '%s' (try --help)", argv[optind]);
    }
    if (o->mutant_name && vc_mutant_lookup(o->mutant_name, &o->be.mutant) < 0) {
        return fail(dev, "unknown mutant '%s' (see --list-mutants)", o->mutant_name);
    }
    return 0;
}

bool
vc_be_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (!s || !*s || *s == '-' || *s == '+') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return false;
    }
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        return false;
    }
    if (*end && end[1] != '\0' && !((end[1] == 'i' || end[1] == 'B') && end[2] == '\0')) {
        return false;
    }
    if (shift && v > (UINT64_MAX >> shift)) {
        return false;
    }
    *out = (uint64_t)v << shift;
    return true;
}

/* A path we may take over: absent, or a socket left behind by a dead daemon. */
static int
listen_on(const VcBeDevice *dev, const char *path, struct stat *created)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fail(dev, "socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fail(dev, "'%s' exists and is not a socket", path);
            return -1;
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(dev, "socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
        stat(path, created) < 0) {
        fail(dev, "cannot listen on '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Accepts and serves front ends one after another until a stop signal. */
static void
serve_listening(VcBe *be, int lfd, int sigfd)
{
    for (;;) {
        int c, r = vc_be_wait_idle(be, lfd, sigfd);

        if (r < 0) {
            vc_be_note(be, "poll: %s", strerror(-r));
            return;
        }
        if (r == 0) {
            return;
        }
        if (r != 1) {
            continue;
        }
        c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                vc_be_note(be, "accept: %s", strerror(errno));
            }
            continue;
        }
        vc_be_log(be, "front end connected");
        int stop = vc_be_serve(be, c, sigfd);
        close(c);
        if (stop) {
            return;
        }
    }
}

/* Mutant cli-no-exit-on-bad-socket: no socket, yet alive until told to stop. */
static void
linger_until_stopped(int sigfd)
{
    struct pollfd p = {.fd = sigfd, .events = POLLIN};

    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

int
vc_be_main(int argc, char **argv, const VcBeDevice *dev)
{
    Opts o = {.be = {.mutant = VC_MUT_NONE, .max_mem_slots = VC_BE_DEFAULT_MEM_SLOTS,
                     .inband = -1}};
    char *path = NULL;
    struct stat created;
    sigset_t stop_set;
    VcMutant cap_mutant;
    int lfd = -1, sigfd = -1, conn = -1;
    VcBe *be;

    if (print_capabilities_requested(argc, argv, &cap_mutant)) {
        if (cap_mutant == VC_MUT_CLI_BAD_CAPABILITIES) {
            printf("type: %s\n", dev->type);
        } else {
            printf("{\"type\": \"%s\", \"features\": [%s]}\n", dev->type,
                   dev->capabilities ? dev->capabilities : "");
        }
        return 0;
    }
    if (parse_options(argc, argv, dev, &o)) {
        return 1;
    }
    if (o.help) {
        usage(stdout, dev);
        return 0;
    }
    if (o.list_mutants) {
        vc_mutant_print_list(stdout);
        return 0;
    }
    if (o.have_fd && o.be.mutant == VC_MUT_CLI_NO_FD) {
        return fail(dev, "--fd is not supported");
    }
    if (o.socket_path && o.have_fd && o.be.mutant != VC_MUT_CLI_ACCEPTS_BOTH) {
        return fail(dev, "--socket-path and --fd are mutually exclusive");
    }
    if (!o.socket_path && !o.have_fd) {
        return fail(dev, "one of --socket-path or --fd is required (try --help)");
    }
    if (o.have_fd) {
        struct stat st;

        if (fstat((int)o.fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
            return fail(dev, "--fd=%ld is not an open socket", o.fd);
        }
        conn = (int)o.fd;
    }
    if (dev->init) {
        const char *err = dev->init(dev->opaque);

        if (err) {
            return fail(dev, "%s", err);
        }
    }
    if (o.be.null_mode) {
        fprintf(stderr, "%s: --null: chains are completed empty; this is NOT conforming\n",
                dev->prog);
    }
    if (o.be.mutant == VC_MUT_CLI_DAEMONIZE) {
        pid_t pid = fork();

        if (pid < 0) {
            return fail(dev, "fork: %s", strerror(errno));
        }
        if (pid > 0) {
            _exit(0);
        }
        setsid();
    }

    /* A front end that vanishes must not kill us through a pipe notifier. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    if (o.be.mutant == VC_MUT_CLI_IGNORE_SIGTERM) {
        signal(SIGTERM, SIG_IGN);
    } else {
        sigaddset(&stop_set, SIGTERM);
    }
    sigprocmask(SIG_BLOCK, &stop_set, NULL);
    sigfd = signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        return fail(dev, "signalfd: %s", strerror(errno));
    }

    be = vc_be_new(dev, &o.be);
    if (!be) {
        close(sigfd);
        return fail(dev, "out of memory");
    }
    if (dev->attach) {
        dev->attach(be, dev->opaque);
    }
    if (conn >= 0) {
        /* --fd: one connection; its end is the end of the daemon. */
        vc_be_serve(be, conn, sigfd);
        close(conn);
    } else {
        if (o.be.mutant == VC_MUT_CLI_NO_SOCKET_PATH) {
            if (asprintf(&path, "%s.other", o.socket_path) < 0) {
                path = NULL;
            }
        } else {
            path = strdup(o.socket_path);
        }
        lfd = path ? listen_on(dev, path, &created) : -1;
        if (lfd < 0 && o.be.mutant == VC_MUT_CLI_NO_EXIT_ON_BAD_SOCKET) {
            linger_until_stopped(sigfd);
        }
        if (lfd < 0) {
            if (dev->detach) {
                dev->detach(be, dev->opaque);
            }
            vc_be_free(be);
            free(path);
            close(sigfd);
            return 1;
        }
        vc_be_log(be, "listening on %s", path);
        serve_listening(be, lfd, sigfd);
        close(lfd);
        /* Remove the socket only if it is still the one we made. */
        struct stat now;
        if (stat(path, &now) == 0 && now.st_dev == created.st_dev &&
            now.st_ino == created.st_ino) {
            unlink(path);
        }
        free(path);
    }
    if (dev->detach) {
        dev->detach(be, dev->opaque);
    }
    vc_be_free(be);
    close(sigfd);
    return 0;
}
