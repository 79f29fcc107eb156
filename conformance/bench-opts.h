/*
 * bench-opts.h -- the command line of `vhost-conform bench`, parsed into
 * options and expanded into the list of cases to measure. Pure: it starts
 * nothing, so that tests can check it.
 */
#ifndef VC_BENCH_OPTS_H
#define VC_BENCH_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "bench-result.h"

/** VcBenchOpts: everything the command line says. Strings and arrays are owned. */
typedef struct VcBenchOpts {
    char *program;           /* --backend PROGRAM or recipe name; NULL with --vs dpdk alone */
    GPtrArray *dargs;        /* the daemon's own arguments (NULL-terminated) */
    char *device;            /* rng, net, blk, fs; NULL: from the recipe or the daemon */
    char **ops;              /* --op list; NULL: the device's default */
    bool ring_split, ring_packed;
    GArray *ring_sizes, *batches, *depths, *sizes, *queues;  /* of unsigned; empty: per device */
    GArray *notify;          /* of VcBenchNotify */
    int cpu, backend_cpu;    /* -1: not pinned */
    bool hugepages;
    int warmup_ms, duration_ms, timeout_ms;
    char *json, *svg;
    char *vs;                /* "dpdk" */
    unsigned rounds;
    char *baseline;
    double max_regress;
    bool count_instructions;
    uint64_t instr_requests;
    uint64_t fixed_requests; /* internal: the callgrind child */
    bool quiet;
} VcBenchOpts;

/** vc_bench_opts_clear: frees what @o owns. */
void vc_bench_opts_clear(VcBenchOpts *o);

/**
 * vc_bench_opts_parse:
 * @argc: (inout), @argv: (inout): "bench" and its arguments; parsed words
 *        are removed
 * @o: (out): the options, with defaults for the CPUs of this machine
 *
 * Everything after "--backend PROGRAM" up to "--" belongs to the daemon.
 * Lists are comma separated ("--ring-size 256,1024").
 *
 * Returns: false with @error (a usage error) when an option or value is wrong.
 */
bool vc_bench_opts_parse(int *argc, char ***argv, VcBenchOpts *o, GError **error);

/**
 * vc_bench_default_ops:
 * Returns: the operations measured when --op is not given: net "tx" with
 * dpdk-testpmd (rxonly), "rx" with dpdk-testpmd-txonly, "tx,rx" with --vs
 * dpdk, else "loop"; blk "randread,randwrite"; rng and fs "read".
 */
const char *vc_bench_default_ops(const char *device, const char *program, bool vs_dpdk);

/**
 * vc_bench_cases:
 * @o: parsed options
 * @device: the device measured
 *
 * Expands every list into cases (device, op, ring layout, ring size, batch,
 * depth, size, notification mode, queues), sizes defaulting per device
 * (net frames 64 bytes, blk blocks and fs reads 4096, rng buffers 64),
 * batch to 32 (blk and fs: 1) and depth to the ring size (blk: 1, 8, 32,
 * 128).
 *
 * Returns: (transfer full): an array of VcBenchCase, or NULL with @error
 * when a combination is impossible (a depth above the ring size, an op the
 * device has not, a size the device cannot carry).
 */
GArray *vc_bench_cases(const VcBenchOpts *o, const char *device, GError **error);

#endif /* VC_BENCH_OPTS_H */
