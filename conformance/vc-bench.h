/*
 * vc-bench.h -- `vhost-conform bench`: datapath throughput and latency
 * against a daemon, side by side with DPDK's virtio_user front end, with
 * regression gating (see bench-*.h for the parts).
 */
#ifndef VC_BENCH_H
#define VC_BENCH_H

/**
 * vc_bench_main:
 * The "bench" subcommand; @argv[0] is "bench".
 * Returns: the exit status: 0 measured, 1 a regression against --baseline,
 * 2 bad command line, 77 this machine cannot run it, 99 a case failed.
 */
int vc_bench_main(int argc, char **argv);

#endif /* VC_BENCH_H */
