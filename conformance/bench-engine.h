/*
 * bench-engine.h -- the measuring side of `vhost-conform bench`: one case
 * against one daemon.
 *
 * The rule the engine is built around: the harness must never be what
 * limits a measurement. So the datapath is the ring code alone: every
 * request slot (its descriptors, its frame, its FUSE or virtio-blk header)
 * is built in guest memory before the clock starts; the loop makes a batch
 * available with one index store, kicks once per batch when the daemon
 * wants kicks, reaps every used entry it finds, and records each request's
 * latency (ticks since its batch was posted) into a fixed histogram. No
 * allocation, no logging, no system call per request; in poll mode no
 * system call at all.
 *
 * Daemon lifetimes go through vc-launch (a fresh daemon per case, stopped
 * even on Ctrl-C); dpdk-testpmd statistics are read from its log.
 */
#ifndef VC_BENCH_ENGINE_H
#define VC_BENCH_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "bench-result.h"
#include "vc-launch.h"

/** VcBenchStats: which per-second figure of dpdk-testpmd's statistics to read. */
typedef enum VcBenchStats {
    VC_BENCH_STATS_NONE,
    VC_BENCH_STATS_RX_PPS,   /* "Rx-pps:" of the (only) port: the back end received */
    VC_BENCH_STATS_TX_PPS,   /* "Tx-pps:": the back end sent */
} VcBenchStats;

/** VcBenchTarget: the daemon a case runs against. Strings are borrowed. */
typedef struct VcBenchTarget {
    const char *label;       /* for reports: "vhost-user-rng-ref --null", "dpdk-testpmd" */
    VcLaunchSpec spec;       /* how to start it (a fresh one per case) */
    int cpu;                 /* pin every thread of it here after start; -1: leave it */
    VcBenchStats stats;      /* its own throughput figure to read from its log */
} VcBenchTarget;

/** VcBenchEnv: what every case of a run shares. */
typedef struct VcBenchEnv {
    int warmup_ms;
    int duration_ms;
    int timeout_ms;          /* a daemon that completes nothing for this long has stalled */
    uint64_t fixed_requests; /* > 0: stop after this many completions (instruction counting) */
    bool progress;           /* a progress line on stderr (a terminal) */
    int settle_ms;           /* after the front end leaves: time for a last statistics line */
} VcBenchEnv;

/**
 * vc_bench_run_case:
 * @env: run settings
 * @t: the daemon
 * @c: the case
 * @res: (out): filled; on failure res->error says why (the run goes on)
 *
 * Starts a fresh daemon, pins it and the calling thread, plays QEMU's
 * realize and device start with the case's ring layout, size, notification
 * mode and memory kind, sets up the device's request pool, measures
 * (warm-up, then a fixed duration or request count), stops the daemon and
 * fills @res. Returns: true when the case was measured.
 */
bool vc_bench_run_case(const VcBenchEnv *env, const VcBenchTarget *t, const VcBenchCase *c,
                       VcBenchResult *res);

/**
 * vc_bench_pin_self:
 * Pins the calling thread to @cpu (-1: no-op).
 * Returns: false with @error when the CPU does not exist or is not allowed.
 */
bool vc_bench_pin_self(int cpu, GError **error);

/** vc_bench_pin_pid: pins every thread of @pid to @cpu (best effort). */
void vc_bench_pin_pid(GPid pid, int cpu);

/**
 * vc_bench_hugepages_check:
 * @bytes: guest memory the run will ask for
 * Returns: NULL when enough 2 MiB pages are free, else (transfer full) a
 * one-line reason that says how to reserve them.
 */
char *vc_bench_hugepages_check(uint64_t bytes);

/**
 * vc_bench_testpmd_samples:
 * @log: dpdk-testpmd's output
 * @which: the figure to read
 *
 * Returns: (transfer full): every per-second value of the figure (an array
 * of double), in order, as printed under "Throughput (since last show)".
 */
GArray *vc_bench_testpmd_samples(const char *log, VcBenchStats which);

/**
 * vc_bench_steady_median:
 * Drops the zero samples before the traffic starts and after it stops, and,
 * when at least three are left, the first and last non-zero ones (windows
 * that straddle the start or the end of the traffic), and returns the
 * median of the rest (0 when there is none). dpdk-testpmd prints its
 * statistics about every one to two seconds, each over its own window.
 */
double vc_bench_steady_median(const GArray *samples);

/**
 * vc_bench_testpmd_vhost_command:
 * @fwd: "rxonly" or "txonly"
 * @frame: txonly frame length
 * @cpu: the CPU both of its lcores run on
 * @hugepages: DPDK memory on hugepages (else --no-huge)
 * @queues: queue pairs
 *
 * Returns: (transfer full): the command template (with {socket} and {id})
 * of dpdk-testpmd with a vhost-user port, as in ../shared/DAEMONS.md.
 */
char *vc_bench_testpmd_vhost_command(const char *fwd, unsigned frame, int cpu, bool hugepages,
                                     unsigned queues);

/**
 * vc_bench_vs_dpdk:
 * @env: run settings (duration per round)
 * @c: a net case (op "tx" or "rx")
 * @rounds: measurements of each front end, alternating
 * @backend_cpu: the CPU of the back end (both copies)
 * @res: (out): our figure, the anchor's, the ratio, every round
 *
 * For each round: a fresh dpdk-testpmd vhost back end (rxonly for "tx",
 * txonly for "rx"), vhost-conform against it; then another fresh back end
 * and DPDK's own virtio_user front end (dpdk-testpmd txonly or rxonly,
 * same ring size, frame size, ring layout, memory kind and CPUs) against
 * it. Both are measured on the same yardstick: the back end's per-second
 * statistics (steady median). Rounds alternate which goes first; the
 * ratio is the median of the rounds' ratios, the rates the medians of the
 * rounds' rates. Returns: true when both were measured at least once.
 */
bool vc_bench_vs_dpdk(const VcBenchEnv *env, const VcBenchCase *c, unsigned rounds,
                      int backend_cpu, VcBenchResult *res);

/**
 * vc_bench_count_instructions:
 * @self: this program (/proc/self/exe)
 * @argv: the bench arguments that select the case (no --count-instructions)
 * @requests: completions to count over
 * @out: (out): instructions per request
 *
 * Runs the same bench under valgrind --tool=callgrind, collecting only
 * inside the measuring loop (--toggle-collect=vc_bench_loop, the rings
 * and the device slots it drives), for @requests completions; the daemon
 * runs natively in its own process, so it is not counted.
 * Returns: true with @out set, false with @error.
 */
bool vc_bench_count_instructions(const char *self, char *const *argv, uint64_t requests,
                                 double *out, GError **error);

#endif /* VC_BENCH_ENGINE_H */
