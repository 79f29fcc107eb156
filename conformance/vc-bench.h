/*
 * vc-bench.h -- `vhost-conform bench`: datapath throughput against a daemon.
 */
#ifndef VC_BENCH_H
#define VC_BENCH_H

/**
 * vc_bench_main:
 * The "bench" subcommand; @argv[0] is "bench". Returns: the exit status.
 */
int vc_bench_main(int argc, char **argv);

#endif /* VC_BENCH_H */
