/*
 * vc-trace.h -- the vhost-conform trace format and its writer.
 *
 * A trace is a pcap file (microsecond timestamps) of link type
 * DLT_WIRESHARK_UPPER_PDU (252). Every record starts with Wireshark
 * exported-PDU tags naming the dissector "vhost-user", then our own fixed
 * prefix (VcTracePrefix, little-endian), one descriptor per fd attached to
 * the message, and the raw bytes: a vhost-user header and payload as they
 * travelled, a marker text, or a datapath event. traces/FORMAT.md is the
 * full description; traces/wireshark/vhost-user.lua decodes it.
 *
 * The writer attaches to the front end through taps (ARCHITECTURE.md): the
 * connection tap sees every message with its fds still open, the ring tap
 * sees kicks, calls and chains. Every record is flushed at once, so a run
 * that is killed leaves a readable file. Writing a record allocates nothing.
 */
#ifndef VC_TRACE_H
#define VC_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vc-conn.h"
#include "vc-vq.h"
#include "wire/vc-msg.h"

/* pcap link type of a trace: Wireshark's exported PDU (dlt.h, 252). */
#define VC_TRACE_LINKTYPE 252
/* The exported-PDU dissector name every record carries. */
#define VC_TRACE_DISSECTOR "vhost-user"
/* Exported-PDU tag numbers (Wireshark epan/exported_pdu.h). */
#define VC_TRACE_EXP_PDU_TAG_END 0
#define VC_TRACE_EXP_PDU_TAG_DISSECTOR_NAME 12
/* Version of our prefix. */
#define VC_TRACE_VERSION 1
/* Most fd descriptors one record holds (VC_MSG_MAX_FDS). */
#define VC_TRACE_MAX_FDS 32u
/* The connection number of a record that belongs to no connection (run markers). */
#define VC_TRACE_CONN_NONE 0xffffffffu
/* Bytes of message data a record holds at most: header + VC_MSG_MAX_PAYLOAD. */
#define VC_TRACE_MAX_DATA (12u + VC_MSG_MAX_PAYLOAD)

/** VcTraceKind: what a record holds (prefix byte 1). */
typedef enum VcTraceKind {
    VC_TRACE_F2B = 1,     /* a message from the front end to the back end */
    VC_TRACE_B2F = 2,     /* a message from the back end to the front end */
    VC_TRACE_MARK = 3,    /* a text marker (check begins/ends, proxy events) */
    VC_TRACE_KICK = 4,    /* the driver kicked a ring */
    VC_TRACE_CALL = 5,    /* the device called (a call notification was consumed) */
    VC_TRACE_AVAIL = 6,   /* a descriptor chain was made available */
    VC_TRACE_USED = 7,    /* a used chain was reaped */
} VcTraceKind;

#define VC_TRACE_KIND_MAX VC_TRACE_USED

/* Record flags (prefix bytes 8..11). */
#define VC_TRACE_FLAG_RAW       (1u << 0)  /* raw bytes sent as they are (may be malformed) */
#define VC_TRACE_FLAG_TRUNCATED (1u << 1)  /* the data holds fewer bytes than wire_len */

/** VcTraceFdKind: what an fd attached to a message was (fd descriptor byte 0). */
typedef enum VcTraceFdKind {
    VC_TRACE_FD_INVALID = 0,  /* -1, closed or unreadable */
    VC_TRACE_FD_MEMFD = 1,    /* memfd: size is its st_size */
    VC_TRACE_FD_EVENTFD = 2,
    VC_TRACE_FD_SOCKET = 3,
    VC_TRACE_FD_PIPE = 4,
    VC_TRACE_FD_FILE = 5,     /* another regular file: size is its st_size */
    VC_TRACE_FD_OTHER = 6,    /* another anonymous inode, a device... */
} VcTraceFdKind;

#define VC_TRACE_FD_KIND_MAX VC_TRACE_FD_OTHER

/**
 * VcTracePrefix: the fixed part of our prefix, 16 bytes, little-endian.
 * It is followed by @nfds VcTraceFdDesc and then the data.
 */
typedef struct VcTracePrefix {
    uint8_t version;      /* VC_TRACE_VERSION */
    uint8_t kind;         /* VcTraceKind */
    uint8_t nfds;         /* fd descriptors that follow (<= VC_TRACE_MAX_FDS) */
    uint8_t nfds_total;   /* fds that came with the message (255 = 255 or more) */
    uint32_t conn;        /* connection: even = a session's main socket, odd = its back-end channel */
    uint32_t flags;       /* VC_TRACE_FLAG_* */
    uint32_t wire_len;    /* message: bytes on the wire (12 + size, or the raw length); else data length */
} __attribute__((packed)) VcTracePrefix;

/** VcTraceFdDesc: one fd, 16 bytes, little-endian. */
typedef struct VcTraceFdDesc {
    uint8_t kind;         /* VcTraceFdKind */
    uint8_t reserved[3];
    uint32_t ino;         /* low 32 bits of the inode: the same memfd sent twice has the same ino */
    uint64_t size;        /* st_size of a memfd or file, else 0 */
} __attribute__((packed)) VcTraceFdDesc;

/** VcTraceVqData: the data of a KICK/CALL/AVAIL/USED record, 16 bytes, little-endian. */
typedef struct VcTraceVqData {
    uint32_t queue;       /* ring index */
    uint32_t head;        /* chain head (AVAIL, USED), else 0 */
    uint32_t len;         /* AVAIL: bytes in the chain; USED: used.len; else 0 */
    uint32_t reserved;
} __attribute__((packed)) VcTraceVqData;

_Static_assert(sizeof(VcTracePrefix) == 16, "prefix is 16 bytes");
_Static_assert(sizeof(VcTraceFdDesc) == 16, "fd descriptor is 16 bytes");
_Static_assert(sizeof(VcTraceVqData) == 16, "datapath data is 16 bytes");

#define VC_TRACE_ERROR (vc_trace_error_quark())

/** VcTraceErrorCode: codes of the VC_TRACE_ERROR domain. */
typedef enum VcTraceErrorCode {
    VC_TRACE_ERROR_IO,        /* the file could not be opened, written or read */
    VC_TRACE_ERROR_FORMAT,    /* not a pcap file, or a pcap that is not a vhost-user trace */
    VC_TRACE_ERROR_TRUNCATED, /* the file ends in the middle of a record */
    VC_TRACE_ERROR_CORRUPT,   /* a record whose prefix or lengths do not add up */
} VcTraceErrorCode;

GQuark vc_trace_error_quark(void);

/** vc_trace_kind_name: Returns: "F2B", "B2F", "MARK", "KICK", "CALL", "AVAIL", "USED" or "?". */
const char *vc_trace_kind_name(unsigned kind);

/** vc_trace_fd_kind_name: Returns: "memfd", "eventfd", "socket", "pipe", "file", "other", "invalid". */
const char *vc_trace_fd_kind_name(unsigned kind);

/**
 * vc_trace_describe_fd:
 * @fd: an open fd of this process
 * @desc: (out): its kind, inode and size
 *
 * Classifies @fd with fstat() and readlink() of /proc/self/fd/N:
 * "anon_inode:[eventfd]", "/memfd:NAME (deleted)", "socket:[...]",
 * "pipe:[...]". Never fails: an unreadable fd is VC_TRACE_FD_INVALID.
 */
void vc_trace_describe_fd(int fd, VcTraceFdDesc *desc);

/* --- Writer ------------------------------------------------------------------ */

/* vc_trace_open() flags. */
#define VC_TRACE_OPEN_DATAPATH (1u << 0)  /* also record kicks, calls and chains */

typedef struct VcTrace VcTrace;

/**
 * vc_trace_open:
 * @path: the pcap file to create (replaced when it exists)
 * @flags: VC_TRACE_OPEN_DATAPATH
 * @error: set when the file cannot be created
 *
 * Returns: (transfer full): a writer, or NULL. Close with vc_trace_close().
 */
VcTrace *vc_trace_open(const char *path, unsigned flags, GError **error);

/**
 * vc_trace_close:
 * @t: (transfer full) (nullable): the writer
 * @error: set when a record could not be written at some point
 *
 * Flushes and closes the file and frees @t.
 *
 * Returns: true when every record was written.
 */
bool vc_trace_close(VcTrace *t, GError **error);

/** vc_trace_free: vc_trace_close() ignoring errors (for g_autoptr). */
void vc_trace_free(VcTrace *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcTrace, vc_trace_free)

/** vc_trace_path: Returns: the file name given to vc_trace_open() (owned by @t). */
const char *vc_trace_path(const VcTrace *t);

/** vc_trace_datapath: Returns: true when @t was opened with VC_TRACE_OPEN_DATAPATH. */
bool vc_trace_datapath(const VcTrace *t);

/**
 * vc_trace_write_msg:
 * @t: writer
 * @conn: connection number (even: main socket, odd: its back-end channel)
 * @dir: which way @m travelled
 * @m: the message; its fds must still be open (they are described, not kept)
 * @raw_len: for bytes sent as they are, their number (the header is then the
 *           first 12 of them); 0 for a whole message
 *
 * Writes one record and flushes it. A payload longer than
 * VC_MSG_MAX_PAYLOAD is never read: the record is marked truncated.
 *
 * Returns: the frame number of the record (1 for the first), or 0 when it
 * could not be written (see vc_trace_close()).
 */
uint64_t vc_trace_write_msg(VcTrace *t, unsigned conn, VcDir dir, const VcMsg *m, size_t raw_len);

/**
 * vc_trace_write_mark:
 * @conn: connection the marker is about, or VC_TRACE_CONN_NONE
 * @text: UTF-8 text, at most 1024 bytes are kept
 *
 * Returns: the frame number, or 0.
 */
uint64_t vc_trace_write_mark(VcTrace *t, unsigned conn, const char *text);

/**
 * vc_trace_write_vq:
 * @conn: the main connection of the session the ring belongs to
 * @kind: VC_TRACE_KICK, VC_TRACE_CALL, VC_TRACE_AVAIL or VC_TRACE_USED
 * @queue: ring index
 * @head: chain head (AVAIL, USED)
 * @len: chain length (AVAIL) or used.len (USED)
 *
 * Returns: the frame number, or 0.
 */
uint64_t vc_trace_write_vq(VcTrace *t, unsigned conn, VcTraceKind kind, unsigned queue,
                           uint32_t head, uint32_t len);

/** vc_trace_frames: Returns: the number of the last frame written (0 before the first). */
uint64_t vc_trace_frames(VcTrace *t);

/* --- Tap adapters: pass the VcTrace as the opaque pointer -------------------- */

/**
 * vc_trace_conn_tap:
 * A VcConnTap that records every message of the connection it is installed
 * on (vc_fe_set_tap(fe, vc_trace_conn_tap, trace)).
 */
void vc_trace_conn_tap(void *opaque, VcConn *conn, VcDir dir, const VcMsg *m, size_t raw_len);

/**
 * vc_trace_vq_tap:
 * A VcVqTap that records datapath events when the trace was opened with
 * VC_TRACE_OPEN_DATAPATH (otherwise it does nothing). A ring does not know
 * its connection: the event is attributed to the main connection of the
 * last message recorded, which is right while one front end runs at a time.
 */
void vc_trace_vq_tap(void *opaque, VcVq *vq, VcVqEvent ev, uint32_t head, uint32_t len);

/** vc_trace_mark_cb: VcRunOptions.trace_mark: a marker record on VC_TRACE_CONN_NONE. */
void vc_trace_mark_cb(void *opaque, const char *text);

/** vc_trace_frame_cb: VcRunOptions.trace_frame: vc_trace_frames(). */
uint64_t vc_trace_frame_cb(void *opaque);

#endif /* VC_TRACE_H */
