/*
 * vc-runner.h -- selects checks, owns the daemon's lifetime across them,
 * runs each check in its own context and collects results.
 */
#ifndef VC_RUNNER_H
#define VC_RUNNER_H

#include <glib.h>

#include "vc-check.h"

/* VcRunOptions.rings bits (--ring split|packed|both). */
#define VC_RING_SPLIT 1u
#define VC_RING_PACKED 2u

/** VcRunOptions: one run. Strings are borrowed. */
typedef struct VcRunOptions {
    VcLaunchSpec launch;     /* how to start and reach the daemon */
    VcFeConfig fe;           /* base front-end configuration (fe.profile: the one profile) */
    const VcProfile *const *profiles; /* with n_profiles > 0: run every check under each */
    unsigned n_profiles;
    unsigned rings;          /* VC_RING_SPLIT | VC_RING_PACKED: each layout is run; 0: split */
    const char *device;      /* device type; NULL: from --print-capabilities */
    bool verbose;            /* progress and daemon troubles on stderr */
    VcConnTap tap;           /* installed on every front end, may be NULL */
    void *tap_opaque;        /* passed to every hook below */
    VcVqTap vq_tap;          /* datapath tap on every ring, may be NULL */
    /* Trace hooks (may be NULL): a marker record, and the number of the last frame written. */
    void (*trace_mark)(void *opaque, const char *text);
    uint64_t (*trace_frame)(void *opaque);
    const char *trace_path;  /* for "FILE#frame=N" in results */
    int host_event_signal;   /* --host-event-signal, 0 when not given */
} VcRunOptions;

/**
 * VcResultCb:
 * Called as each check finishes, in order (for streamed TAP and progress).
 */
typedef void (*VcResultCb)(void *opaque, guint index, guint total, const VcResult *r);

/**
 * vc_registry_areas:
 * Returns: every check area, in catalog order; @n gets the count.
 */
const VcCheckArea *const *vc_registry_areas(unsigned *n);

/** VcUnchecked: a rule of the catalog with no check, and why. */
typedef struct VcUnchecked {
    const char *id;
    const char *spec;
    const char *reason;
} VcUnchecked;

/**
 * vc_registry_unchecked:
 * Returns: the rules of SPEC-FACTS section 7 that have no check (each with
 * the reason); @n gets the count.
 */
const VcUnchecked *vc_registry_unchecked(unsigned *n);

/** vc_registry_find: Returns: the check with rule ID @id, or NULL. */
const VcCheck *vc_registry_find(const char *id);

/**
 * vc_runner_select:
 * @only: (nullable): IDs or ID prefixes ("VU-RING" selects the area) to keep
 * @skip: (nullable): IDs or prefixes to drop
 * @error: set when an entry matches no check
 *
 * Returns: (transfer container): the selected checks (const VcCheck *), in
 * catalog order.
 */
GPtrArray *vc_runner_select(char **only, char **skip, GError **error);

/**
 * vc_runner_run:
 * @opts: the run
 * @checks: from vc_runner_select()
 * @cb: (nullable): per-result callback
 *
 * Starts the daemon, runs every check and stops the daemon. Never aborts on
 * a daemon's behaviour: a daemon that cannot be started makes its checks
 * ERROR (checks that launch the program themselves still run).
 *
 * Returns: (transfer full): a GArray of VcResult, one per check, profile
 * and ring layout (check-major, then profile, then layout), with
 * vc_result_clear() as its clear function.
 */
GArray *vc_runner_run(const VcRunOptions *opts, GPtrArray *checks, VcResultCb cb, void *opaque);

/**
 * vc_runner_device_from_capabilities:
 * @json: --print-capabilities output
 * Returns: (transfer full) (nullable): its "type" member, or NULL when it is
 * not a JSON object with a string "type".
 */
char *vc_runner_device_from_capabilities(const char *json);

#endif /* VC_RUNNER_H */
