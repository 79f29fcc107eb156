/*
 * vc-trace-read.h -- reading a vhost-conform trace back, record by record.
 *
 * The reader trusts nothing in the file: every length is checked against
 * what the record holds, and a file that is not a pcap, a pcap of another
 * link type, a record that is cut short, carries another dissector's
 * name, or whose message header disagrees with its length gives one
 * VC_TRACE_ERROR that names the file and the frame ("t.pcap: frame 7:
 * ..."). Nothing is ever read past a record or past the VcMsg payload.
 */
#ifndef VC_TRACE_READ_H
#define VC_TRACE_READ_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-trace.h"

/** VcTraceFd: one fd descriptor, decoded. */
typedef struct VcTraceFd {
    VcTraceFdKind kind;
    uint32_t ino;
    uint64_t size;
} VcTraceFd;

/**
 * VcTraceRec: one record. Owned by the reader and valid until the next
 * vc_trace_reader_next() call.
 */
typedef struct VcTraceRec {
    uint64_t frame;          /* 1 for the first record, as Wireshark counts */
    int64_t ts_us;           /* capture time, microseconds since the epoch */
    VcTraceKind kind;
    uint32_t conn;           /* even: main socket; odd: back-end channel; VC_TRACE_CONN_NONE */
    uint32_t flags;          /* VC_TRACE_FLAG_* */
    uint32_t wire_len;       /* bytes of the message on the wire */
    unsigned nfds;           /* fd descriptors in fds[] */
    unsigned nfds_total;     /* fds that came with the message */
    VcTraceFd fds[VC_TRACE_MAX_FDS];
    const uint8_t *data;     /* the record's data: message bytes, marker text or VcTraceVqData */
    size_t data_len;
    /*
     * Message records: the header and payload as far as the record holds
     * them (the rest of payload.raw is zero); msg.nfds is @nfds_total and
     * every msg.fds[] is -1 (a trace holds no live fds). A raw record shorter
     * than a header has the missing header bytes zero.
     */
    VcMsg msg;
    /* Datapath records. */
    uint32_t queue;
    uint32_t head;
    uint32_t len;
} VcTraceRec;

typedef struct VcTraceReader VcTraceReader;

/**
 * vc_trace_reader_open:
 * @path: a pcap file
 * @error: set when it cannot be opened, is not a pcap file, or is a pcap
 *         of another link type than VC_TRACE_LINKTYPE
 *
 * Returns: (transfer full): a reader positioned before frame 1, or NULL.
 */
VcTraceReader *vc_trace_reader_open(const char *path, GError **error);

/** vc_trace_reader_free: closes the file. NULL is allowed. */
void vc_trace_reader_free(VcTraceReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcTraceReader, vc_trace_reader_free)

/**
 * vc_trace_reader_next:
 * @r: reader
 * @error: set when the next record is unreadable or malformed
 *
 * Returns: (transfer none): the next record, or NULL at the end of the
 * file (@error unset) or on an error (@error set; later calls return NULL).
 */
const VcTraceRec *vc_trace_reader_next(VcTraceReader *r, GError **error);

/**
 * vc_trace_rec_channel:
 * Returns: the request table of a message record: VC_CHAN_BACKEND on an odd
 * connection, VC_CHAN_MAIN on an even one.
 */
VcChannel vc_trace_rec_channel(const VcTraceRec *rec);

/**
 * vc_trace_rec_is_request:
 * Returns: true when a message record travels as a request: F2B on the
 * main socket, B2F on the back-end channel.
 */
bool vc_trace_rec_is_request(const VcTraceRec *rec);

/**
 * vc_trace_fds_describe:
 * @buf: output
 * @len: its size
 * @rec: a message record
 *
 * Writes "2 fds: memfd size=4194304 ino=123, eventfd" or "" when the
 * message had none. Returns: @buf.
 */
char *vc_trace_fds_describe(char *buf, size_t len, const VcTraceRec *rec);

#endif /* VC_TRACE_READ_H */
