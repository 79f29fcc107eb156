/*
 * vc-trace-show.h -- `vhost-conform trace show` and `trace stats`: a trace
 * decoded as `tcpdump -v` would print it, and a summary of it.
 */
#ifndef VC_TRACE_SHOW_H
#define VC_TRACE_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "vc-trace-read.h"

/** VcTraceShowOptions: what vc_trace_show() prints. Zero is the default. */
typedef struct VcTraceShowOptions {
    bool relative;        /* seconds since frame 1 instead of the time of day */
    bool utc;             /* time of day in UTC instead of local time */
    uint64_t frame;       /* print only this frame (0: every frame) */
    bool hex;             /* also dump each record's data in hex */
} VcTraceShowOptions;

/**
 * vc_trace_format_msg_line:
 * @buf: output
 * @len: its size
 * @ch: table of the message
 * @m: the message
 * @request: (nullable): for a reply, the request it answers
 *
 * One line: "VHOST_USER_GET_FEATURES reply flags 0x5 size 8: features=0x...",
 * the header and vc_msg_format()'s decoding (replay prints differences this way).
 * Returns: @buf.
 */
char *vc_trace_format_msg_line(char *buf, size_t len, VcChannel ch, const VcMsg *m,
                               const VcMsg *request);

/**
 * vc_trace_show:
 * @path: the trace
 * @out: where the decoding goes
 * @opts: (nullable): options
 * @error: set when the file is unreadable or a record is malformed; the
 *         frames before it have been printed
 *
 * Prints one header line per record (frame, time, connection, direction,
 * request name and id, flags, size, fds) and, for a payload, a second line
 * with every field decoded; a malformed message gets a third line naming
 * its faults.
 *
 * Returns: true when the whole file was read.
 */
bool vc_trace_show(const char *path, FILE *out, const VcTraceShowOptions *opts, GError **error);

/**
 * vc_trace_stats:
 * @path: the trace
 * @out: where the summary goes
 * @error: set when the file is unreadable or a record is malformed (nothing
 *         is printed then)
 *
 * Prints frames, duration, messages and bytes by request and direction, fds,
 * request-to-reply latency per request, connections, markers and datapath
 * events.
 *
 * Returns: true on success.
 */
bool vc_trace_stats(const char *path, FILE *out, GError **error);

#endif /* VC_TRACE_SHOW_H */
