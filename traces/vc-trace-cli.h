/*
 * vc-trace-cli.h -- the trace subcommands of vhost-conform: `trace show`,
 * `trace stats`, `record` and `replay`. conformance/vhost-conform.c
 * dispatches to them from main().
 *
 * Exit status of every subcommand: 0 success (replay: the daemon answered as
 * recorded), 1 replay found a difference, 2 bad command line or bad trace,
 * 99 harness or environment error.
 */
#ifndef VC_TRACE_CLI_H
#define VC_TRACE_CLI_H

#define VC_EXIT_DIFF 1
#define VC_EXIT_USAGE 2
#define VC_EXIT_HARNESS 99

/**
 * vc_trace_main:
 * @argc: argument count
 * @argv: arguments; @argv[0] is "trace"
 *
 * `vhost-conform trace show [OPTIONS] FILE` and `vhost-conform trace stats FILE`.
 *
 * Returns: the exit status.
 */
int vc_trace_main(int argc, char **argv);

/**
 * vc_record_main:
 * @argc: argument count
 * @argv: arguments; @argv[0] is "record"
 *
 * `vhost-conform record --listen SOCK --upstream SOCK2 -o FILE.pcap`: see
 * vc-record.h.
 *
 * Returns: the exit status.
 */
int vc_record_main(int argc, char **argv);

/**
 * vc_replay_main:
 * @argc: argument count
 * @argv: arguments; @argv[0] is "replay"
 *
 * `vhost-conform replay FILE.pcap --backend PROGRAM ...`: see vc-replay.h.
 *
 * Returns: the exit status.
 */
int vc_replay_main(int argc, char **argv);

#endif /* VC_TRACE_CLI_H */
