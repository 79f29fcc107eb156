/*
 * vc-replay.h -- replaying a trace against a daemon and comparing replies.
 *
 * Replay uses a recorded trace as a script of expected requests and canned
 * replies (libnvme's mock idea). Every session of the trace (main
 * connection 2k) gets its own connection to the daemon, opened at its first
 * message and closed after its last. The recorded front-end messages are
 * sent in frame order with fresh fds of the recorded kinds: memfds of the
 * recorded sizes (one per recorded inode, so regions that shared a memfd
 * share one again), eventfds, pipes, and a socketpair for
 * SET_BACKEND_REQ_FD whose other end is served as the back-end channel:
 * the daemon's requests there are compared with the recorded ones and
 * answered with the recorded answers. Guest memory is recreated from the
 * memory-table messages, and each split ring's avail and used indices are
 * set to its SET_VRING_BASE value so that a daemon finds no work that the
 * trace does not show. The datapath itself is not replayed.
 *
 * Each reply is compared with the recorded one: the header exactly, the
 * payload field by field, fds by count and kind. Tolerances (FORMAT.md
 * "Replay"): GET_INFLIGHT_FD mmap_size and mmap_offset; region user
 * addresses in postcopy replies; memfd sizes of fds in replies; and the
 * GET_VRING_BASE index of a ring the recorded session moved (the datapath
 * is not replayed, so the replayed answer must be the SET_VRING_BASE value).
 */
#ifndef VC_REPLAY_H
#define VC_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#include "vc-launch.h"

/** VcReplayOptions: one replay. Strings are borrowed. */
typedef struct VcReplayOptions {
    const char *trace;          /* the recorded trace */
    VcLaunchSpec launch;        /* how to start and reach the daemon */
    int timeout_ms;             /* wait for each reply; 0: 2 s */
    int settle_ms;              /* watch for stray messages before a session closes; 0: 100 ms */
    const char *trace_out;      /* (nullable): record the replay itself */
    unsigned max_diffs;         /* differences printed; 0: 50 */
    bool verbose;               /* one line per message replayed */
} VcReplayOptions;

/** VcReplayStats: what a replay did. */
typedef struct VcReplayStats {
    unsigned sessions;
    unsigned sent;              /* front-end messages sent (main and back-end channel) */
    unsigned compared;          /* daemon messages compared */
    unsigned differences;
    unsigned skipped;           /* messages of sessions abandoned after a missing reply */
} VcReplayStats;

/**
 * vc_replay_run:
 * @opts: the replay
 * @out: differences (and with @opts->verbose, progress) go here
 * @stats: (out): counters
 * @error: set on a bad trace (VC_TRACE_ERROR) or a harness error (other domains)
 *
 * Returns: false on an error; true when the replay ran to the end, whether
 * or not it found differences (see @stats).
 */
bool vc_replay_run(const VcReplayOptions *opts, FILE *out, VcReplayStats *stats, GError **error);

#endif /* VC_REPLAY_H */
