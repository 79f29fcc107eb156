/*
 * bench-result.h -- what `vhost-conform bench` measures, as data: one case
 * (the parameters of a measurement) and its result, and the report that
 * holds a run's results. Writers for a text line, JSON and an SVG chart,
 * and a JSON reader, so that a stored run can be the baseline of the next
 * (bench-baseline.h). Nothing here measures anything.
 */
#ifndef VC_BENCH_RESULT_H
#define VC_BENCH_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

/** VcBenchNotify: how the front end and the daemon tell each other about work. */
typedef enum VcBenchNotify {
    VC_BENCH_EVENTFD,     /* kick and call eventfds; suppression by ring flags only */
    VC_BENCH_EVENT_IDX,   /* eventfds with VIRTIO_RING_F_EVENT_IDX suppression */
    VC_BENCH_POLL,        /* no fds (VHOST_USER_VRING_NOFD_MASK): both sides busy-poll */
} VcBenchNotify;

/** VcBenchCase: the parameters of one measurement. Strings are static. */
typedef struct VcBenchCase {
    const char *device;   /* "rng", "net", "blk", "fs" */
    const char *op;       /* rng, fs: "read"; net: "tx", "rx", "loop"; blk: "randread", "randwrite" */
    bool packed;          /* packed ring (VIRTIO_F_RING_PACKED) */
    unsigned ring_size;
    unsigned batch;       /* requests made available per publish (and kick) */
    unsigned depth;       /* requests in flight at most, per queue */
    unsigned size;        /* bytes per request: rng buffer, net frame, blk block, fs read */
    unsigned queues;      /* rings (net: queue pairs) driven, round robin, by one thread */
    VcBenchNotify notify;
    bool hugepages;       /* guest memory on 2 MiB pages instead of a plain memfd */
    int cpu;              /* the CPU the front end is pinned to, -1: not pinned */
} VcBenchCase;

/** VcBenchResult: one case measured. */
typedef struct VcBenchResult {
    VcBenchCase c;
    char *id;             /* vc_bench_case_id(): the key a baseline is matched by */
    char *backend;        /* the daemon, as described on the command line */
    char *error;          /* non-NULL: the case could not be measured, and why */
    double seconds;       /* measured time (warm-up excluded) */
    uint64_t requests;    /* requests (packets, I/Os) completed in it */
    uint64_t bytes;       /* payload bytes they moved */
    double rate;          /* requests per second, by our own count */
    double backend_rate;  /* the daemon's own figure (dpdk-testpmd statistics), 0: none */
    bool has_latency;
    double p50_ns, p99_ns, p999_ns, mean_ns, max_ns;
    double kicks_per_1k, calls_per_1k;
    double frontend_busy; /* share of the time the front end had work (0..1): near 1, the
                           * harness may be the limit; well below, the daemon is */
    uint64_t preempted;   /* involuntary context switches of the front end and the daemon
                           * during warm-up and measurement: > 0 on a busy machine */
    double instr_per_req; /* callgrind (--count-instructions), 0: not measured */
    /* Side by side (--vs): the anchor's figure, measured in the same run. */
    char *anchor;         /* "dpdk virtio_user", or NULL */
    double anchor_rate;   /* median over rounds */
    double ratio;         /* ours / anchor: the median of the rounds' own ratios */
    double compared;      /* our figure on the anchor's yardstick (median over rounds) */
    unsigned rounds;
    double ours_round[16];
    double anchor_round[16];
} VcBenchResult;

/** VcBenchReport: a run. */
typedef struct VcBenchReport {
    char *version;
    char *started;        /* ISO 8601 UTC */
    char *host;           /* "2 CPUs, AMD EPYC" */
    char *command;        /* the command line */
    GPtrArray *results;   /* of VcBenchResult*, owned */
} VcBenchReport;

/** vc_bench_notify_name: Returns: "eventfd", "event-idx" or "poll". */
const char *vc_bench_notify_name(VcBenchNotify n);

/** vc_bench_notify_parse: Returns: true and sets @out for a name vc_bench_notify_name() gives. */
bool vc_bench_notify_parse(const char *s, VcBenchNotify *out);

/**
 * vc_bench_case_id:
 * Returns: (transfer full): a stable one-line key naming every parameter
 * but the CPU: "net tx split ring=256 batch=32 depth=256 size=64
 * notify=event-idx queues=1 mem=memfd".
 */
char *vc_bench_case_id(const VcBenchCase *c);

/** vc_bench_unit: Returns: "pps" (net), "IOPS" (blk) or "req/s". */
const char *vc_bench_unit(const char *device);

/** vc_bench_result_new: Returns: (transfer full): a zeroed result for @c with its id set. */
VcBenchResult *vc_bench_result_new(const VcBenchCase *c, const char *backend);

/** vc_bench_result_free: NULL is fine. */
void vc_bench_result_free(VcBenchResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcBenchResult, vc_bench_result_free)

/** vc_bench_report_new: Returns: (transfer full): an empty report. */
VcBenchReport *vc_bench_report_new(const char *command);

/** vc_bench_report_free: NULL is fine. */
void vc_bench_report_free(VcBenchReport *rep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcBenchReport, vc_bench_report_free)

/**
 * vc_bench_print_result:
 * One line (two with an anchor) for a person: the id, the rate in its unit,
 * MB/s or Gbit/s, the latency percentiles, kicks and calls per 1000
 * requests; the anchor's figure and the ratio.
 */
void vc_bench_print_result(FILE *out, const VcBenchResult *r);

/**
 * vc_bench_report_to_json:
 * Returns: (transfer full): the report as a JSON document:
 * {"tool": "vhost-conform bench", "version", "started", "host", "command",
 *  "results": [{"id", "device", "op", "ring", "ring_size", "batch",
 *  "depth", "size", "queues", "notify", "memory", "cpu", "backend",
 *  "error", "seconds", "requests", "rate", "unit", "mbytes_per_s",
 *  "gbit_per_s", "backend_rate", "latency_ns": {"p50", "p99", "p99.9",
 *  "mean", "max"} or null, "kicks_per_1000", "calls_per_1000", "frontend_busy", "preempted",
 *  "instructions_per_request" or null, "anchor": {"name", "rate",
 *  "compared", "ratio", "rounds": [[ours, anchor]...]} or null}]}.
 */
char *vc_bench_report_to_json(const VcBenchReport *rep);

/** vc_bench_report_write_json: writes vc_bench_report_to_json() to @path. */
bool vc_bench_report_write_json(const VcBenchReport *rep, const char *path, GError **error);

/**
 * vc_bench_report_load:
 * Reads a file vc_bench_report_write_json() wrote (the fields a baseline
 * needs: id, error, rate, latency, instructions, anchor ratio).
 * Returns: (transfer full): the report, or NULL with @error (not JSON, not
 * a bench report).
 */
VcBenchReport *vc_bench_report_load(const char *path, GError **error);

/**
 * vc_bench_report_to_svg:
 * Returns: (transfer full): an SVG 1.1 document: one horizontal bar per
 * result (its rate in millions of its unit), with the anchor's bar under
 * it and the ratio when there is one. Text is XML-escaped.
 */
char *vc_bench_report_to_svg(const VcBenchReport *rep);

/** vc_bench_report_write_svg: writes vc_bench_report_to_svg() to @path. */
bool vc_bench_report_write_svg(const VcBenchReport *rep, const char *path, GError **error);

#endif /* VC_BENCH_RESULT_H */
