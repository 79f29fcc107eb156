/*
 * vc-check.h -- conformance checks as table rows, and the context a check
 * runs in. Verdicts are decided here and in checks/ only (frontend-sim
 * reports what happened; reports/ formats).
 *
 * A check function connects through the context (the runner owns the
 * daemon), drives the front end, compares what it observes with its rule and
 * returns vc_ctx_done(ctx). Helpers never abort: on a daemon fault during
 * set-up the check FAILs with the step that failed ("setup: ..."); on a
 * harness or environment fault it ends in ERROR; when the daemon does not
 * offer what the check needs it is SKIPped.
 */
#ifndef VC_CHECK_H
#define VC_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-frontend.h"
#include "vc-launch.h"
#include "vc-report.h"

typedef struct VcCtx VcCtx;

/* VcCheck.flags */
#define VC_CHECK_PROCESS  (1u << 0)  /* needs a daemon process we started (pid, /proc, exit) */
#define VC_CHECK_LAUNCH   (1u << 1)  /* launches the program itself (program conventions) */
#define VC_CHECK_DATAPATH (1u << 2)  /* needs a device driver with a datapath (rng) */
#define VC_CHECK_FRESH    (1u << 3)  /* wants a daemon process nobody has talked to */

/** VcCheck: one row of the catalog. */
typedef struct VcCheck {
    const char *id;              /* "VU-RING-005", stable, never reused */
    const char *spec;            /* "vhost-user.rst#ring-states" */
    VcLevel level;               /* MUST -> FAIL, SHOULD -> WARN */
    uint64_t needs_features;     /* virtio bits the daemon must offer, else SKIP */
    uint64_t needs_pfeatures;    /* protocol bits the daemon must offer, else SKIP */
    unsigned flags;              /* VC_CHECK_* */
    const char *summary;         /* one line, for the catalog and reports */
    const char *mutant;          /* the reference mutant that proves the check fires */
    VcVerdict (*run)(VcCtx *ctx);
    const char *device;          /* NULL: any device; else the only device type it applies to */
    const char *profile;         /* NULL: any; else a front-end profile that negotiates what the
                                  * check needs (the test suite runs the check under it) */
} VcCheck;

/** VcCheckArea: the checks of one spec area (one checks/ file). */
typedef struct VcCheckArea {
    const char *name;
    const VcCheck *checks;
    size_t n;
} VcCheckArea;

/** VcRunnerOps: what the runner lends a check (implemented in vc-runner.c). */
typedef struct VcRunnerOps {
    int (*connect)(void *runner, GError **error);      /* a new socket to the daemon */
    VcDaemon *(*daemon)(void *runner);                 /* the current daemon (may be NULL) */
    VcDaemon *(*launch)(void *runner, VcLaunchMode mode, char *const *extra_args,
                        GError **error);                /* an extra instance, stopped after the check */
    bool (*restart)(void *runner, GError **error);     /* stop and start the daemon again */
} VcRunnerOps;

/** VcCtx: one check's run. Checks read fields; helpers write them. */
struct VcCtx {
    const VcCheck *check;
    const VcRunnerOps *ops;
    void *runner;
    VcFeConfig base;             /* profile, timeout, ring size, device config length */
    const char *device;          /* device type: "rng", "blk", ... or "unknown" */
    const char *program;         /* the back-end program (conventions mode), or NULL */
    char *const *program_args;   /* its own arguments from the command line (NULL-terminated) */
    int host_event_signal;       /* makes the daemon change something host-side (0: unknown) */
    VcFrontend *fe;              /* the current front end, freed at the end */
    GError *err;                 /* where helpers put the error of the step that failed */

    /* Verdict state. */
    bool violated;
    bool skipped;
    bool errored;
    unsigned n_violations;
    GString *reason;             /* first violation, skip or error reason */
    GString *note;               /* what a PASS observed */
    VcConnTap tap;               /* installed on every front end (traces) */
    void *tap_opaque;
    VcVqTap vq_tap;
    uint64_t (*trace_frame)(void *opaque);  /* last frame written, or NULL */
    uint64_t violation_frame;    /* frame current when the first violation was recorded */
};

/* --- Verdict helpers --------------------------------------------------------------------- */

/**
 * vc_ctx_violation:
 * Records that the rule was broken. The first reason is kept; later ones
 * are counted. Returns: false (so it can end an expression).
 */
bool vc_ctx_violation(VcCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/** vc_ctx_skip: marks the check SKIP with @fmt as the reason. Returns: VC_SKIP. */
VcVerdict vc_ctx_skip(VcCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/** vc_ctx_error: marks a harness/environment failure. Returns: VC_ERROR. */
VcVerdict vc_ctx_error(VcCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/** vc_ctx_note: appends to the PASS reason ("observed ..."). */
void vc_ctx_note(VcCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/**
 * vc_ctx_try:
 * @ok: the result of a step that used &ctx->err
 *
 * On failure classifies ctx->err: a daemon fault (closed, protocol, nack,
 * timeout, unsupported) is a violation "setup: ...", with the daemon's death
 * named when it died; anything else is an ERROR. Returns: @ok.
 */
bool vc_ctx_try(VcCtx *ctx, bool ok);

/** vc_ctx_done: Returns: the verdict so far (ERROR > FAIL/WARN > SKIP > PASS). */
VcVerdict vc_ctx_done(VcCtx *ctx);

/** vc_ctx_failed: Returns: true once the check has an ERROR, a violation or a SKIP. */
static inline bool
vc_ctx_failed(const VcCtx *ctx)
{
    return ctx->violated || ctx->skipped || ctx->errored;
}

#define vc_expect(ctx, cond, ...) ((cond) ? true : vc_ctx_violation((ctx), __VA_ARGS__))
#define vc_require(ctx, cond, ...)                \
    do {                                          \
        if (!(cond)) {                            \
            return vc_ctx_skip((ctx), __VA_ARGS__); \
        }                                         \
    } while (0)
/* Runs a step that reports through &ctx->err; ends the check when it fails. */
#define VC_TRY(ctx, expr)                 \
    do {                                  \
        if (!vc_ctx_try((ctx), (expr))) { \
            return vc_ctx_done(ctx);      \
        }                                 \
    } while (0)
#define VC_ERR(ctx) (&(ctx)->err)

/* --- Connections and lifecycle -------------------------------------------------------- */

/**
 * vc_ctx_config:
 * Returns: the run's base front-end configuration, to adjust and pass to
 * vc_ctx_connect().
 */
VcFeConfig vc_ctx_config(const VcCtx *ctx);

/**
 * vc_ctx_connect:
 * @cfg: (nullable): front-end configuration; NULL for vc_ctx_config()
 *
 * Frees the current front end (closing its connection) and opens a new
 * connection to the daemon. Returns: the new front end (owned by @ctx, also
 * in ctx->fe), or NULL with the verdict set.
 */
VcFrontend *vc_ctx_connect(VcCtx *ctx, const VcFeConfig *cfg);

/**
 * vc_ctx_handshake:
 * Runs the profile's connect steps, then SKIPs when the daemon does not
 * offer the check's needs_features/needs_pfeatures. Returns: true when the
 * check can go on.
 */
bool vc_ctx_handshake(VcCtx *ctx, VcFrontend *fe);

/**
 * vc_ctx_open:
 * vc_ctx_connect() + vc_ctx_handshake() + (when @start) vc_fe_start().
 * Returns: the front end, or NULL with the verdict set.
 */
VcFrontend *vc_ctx_open(VcCtx *ctx, const VcFeConfig *cfg, bool start);

/**
 * vc_ctx_settle:
 * A barrier and a quiet period: a GET_FEATURES round trip (every earlier
 * message has been handled), then @ms of watching (the back-end channel is
 * served). Returns: false when the round trip failed (verdict set).
 */
bool vc_ctx_settle(VcCtx *ctx, VcFrontend *fe, int ms);

/* --- The daemon ----------------------------------------------------------------------- */

/** vc_ctx_daemon_pid: Returns: the daemon's pid, or 0 when we did not start it. */
GPid vc_ctx_daemon_pid(VcCtx *ctx);

/**
 * vc_ctx_daemon_dead:
 * @how: (out) (optional): "was killed by SIGSEGV (11)" etc. (transfer full)
 *
 * Waits up to @wait_ms for the process to end. Returns: true when the
 * daemon process is gone.
 */
bool vc_ctx_daemon_dead(VcCtx *ctx, int wait_ms, char **how);

/** vc_ctx_restart: stops and restarts the daemon (it dropped out or a check needs a new one). */
bool vc_ctx_restart(VcCtx *ctx);

/**
 * vc_ctx_launch:
 * Starts an extra instance of the program in @mode with @extra_args after
 * the runner's own arguments. Stopped and removed by the runner after the
 * check. Returns: the instance, or NULL (ctx->err set; SKIP when the run
 * has no program to launch).
 */
VcDaemon *vc_ctx_launch(VcCtx *ctx, VcLaunchMode mode, char *const *extra_args);

/**
 * vc_ctx_host_event:
 * Makes the daemon produce a host-side event (a resize and its config change
 * message) with the signal given by --host-event-signal.
 * Returns: false (and SKIPs the check) when no such signal was given or the
 * daemon is not ours to signal.
 */
bool vc_ctx_host_event(VcCtx *ctx);

/** vc_ctx_wait_ms: Returns: a generous observation deadline scaled for slow machines. */
int vc_ctx_wait_ms(const VcCtx *ctx);

#endif /* VC_CHECK_H */
