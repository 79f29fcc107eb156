/*
 * vc-msg.h -- the vhost-user wire codec: message struct, request table
 * lookup, syntax validators and a one-line decoder.
 *
 * This is the only code that knows message layouts. It is shared by the
 * emulated front end (frontend-sim), the reference back ends (backends/) and
 * the trace tools (traces/). It is free of GLib and never logs: validators
 * return a mask of faults and the caller decides what a fault means (the
 * conformance checks turn faults into verdicts; the back-end library turns
 * them into a NACK).
 */
#ifndef VC_MSG_H
#define VC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc-proto.h"

/* Largest payload the codec accepts (rust-vmm's MAX_MSG_SIZE; SPEC-FACTS 2.1). */
#define VC_MSG_MAX_PAYLOAD 4096u
/*
 * Most fds one received message may carry. Senders are limited to 8; the
 * receive buffer is larger so that a peer sending too many is counted and
 * every fd it sent is closed, not silently dropped by the kernel.
 */
#define VC_MSG_MAX_FDS 32u

/** VcPayloadKind: the layout of a request or reply payload. */
typedef enum VcPayloadKind {
    VC_PL_NONE,          /* no payload: size 0 */
    VC_PL_U64,           /* u64: size 8 */
    VC_PL_VRING_STATE,   /* struct vhost_vring_state: 8 */
    VC_PL_VRING_ADDR,    /* struct vhost_vring_addr: 40 */
    VC_PL_MEM_TABLE,     /* VhostUserMemory: 8 + 32 * nregions, nregions <= 8 */
    VC_PL_LOG,           /* VhostUserLog: 16 */
    VC_PL_IOTLB,         /* struct vhost_iotlb_msg: 32 */
    VC_PL_CONFIG,        /* VhostUserConfig: 12 + config.size, config.size <= 256 */
    VC_PL_CONFIG_REPLY,  /* GET_CONFIG reply: same size as the request, or 0 (error) */
    VC_PL_OPAQUE,        /* any size up to VC_MSG_MAX_PAYLOAD (crypto session) */
    VC_PL_SAME_SIZE,     /* reply: exactly the request's size */
    VC_PL_INFLIGHT,      /* VhostUserInflight: 24 */
    VC_PL_MEM_REG,       /* VhostUserMemRegMsg: 40 */
    VC_PL_SHARED,        /* VhostUserShared: 16 */
    VC_PL_DEVSTATE,      /* VhostUserTransferDeviceState: 8 */
    VC_PL_SHMEM_CONFIG,  /* VhostUserShMemConfig: 2056 */
    VC_PL_VRING_AREA,    /* VhostUserVringArea: 24 */
    VC_PL_MMAP,          /* VhostUserMMap: 40 */
    VC_PL_ANY,           /* reply content undefined by the spec (SET_LOG_BASE) */
} VcPayloadKind;

/** VcFdRule: how many fds travel with a message. */
typedef enum VcFdRule {
    VC_FDS_NONE,         /* exactly 0 */
    VC_FDS_ONE,          /* exactly 1 */
    VC_FDS_OPT_ONE,      /* 0 or 1 */
    VC_FDS_PER_REGION,   /* one per region of a memory table */
    VC_FDS_UNLESS_NOFD,  /* 1, or 0 when VHOST_USER_VRING_NOFD_MASK is set */
    VC_FDS_INFLIGHT,     /* GET_INFLIGHT_FD reply: 1, or 0 when mmap_size is 0 */
    VC_FDS_DEVSTATE,     /* SET_DEVICE_STATE_FD reply: 1 unless error or "no fd" bit */
} VcFdRule;

/** VcReplyRule: when the receiver of a request must answer it. */
typedef enum VcReplyRule {
    VC_REPLY_ACK,            /* only with REPLY_ACK negotiated and NEED_REPLY set */
    VC_REPLY_ALWAYS,         /* always */
    VC_REPLY_IF_LOG_SHMFD,   /* always when LOG_SHMFD is negotiated, else as ACK */
    VC_REPLY_IF_NEED_REPLY,  /* when NEED_REPLY is set, negotiated or not (QEMU) */
} VcReplyRule;

/** VcChannel: which request table applies. */
typedef enum VcChannel {
    VC_CHAN_MAIN,     /* front-end requests on the main socket */
    VC_CHAN_BACKEND,  /* back-end requests on the back-end channel */
} VcChannel;

/** VcMsgInfo: one row of vc-msg-table.h. */
typedef struct VcMsgInfo {
    uint32_t request;
    const char *name;           /* "VHOST_USER_GET_FEATURES" */
    const char *short_name;     /* "GET_FEATURES" */
    VcPayloadKind payload;
    VcFdRule fds;
    VcReplyRule reply;
    VcPayloadKind reply_payload;
    VcFdRule reply_fds;
    uint64_t features;          /* virtio feature bits that must be negotiated */
    uint64_t pfeatures;         /* protocol feature bits that must be negotiated */
} VcMsgInfo;

/**
 * VcMsg: one message, header and payload kept apart so that the payload is
 * 8-byte aligned. Only hdr.size bytes of the payload are meaningful.
 * fds[] belong to the message: whoever holds it closes them
 * (vc_msg_close_fds()) unless it takes them with vc_msg_take_fd().
 */
typedef struct VcMsg {
    VhostUserHeader hdr;
    uint32_t _pad;
    union {
        uint64_t u64;
        struct vhost_vring_state state;
        struct vhost_vring_addr addr;
        VhostUserMemory memory;
        VhostUserMemRegMsg mem_reg;
        VhostUserLog log;
        struct vhost_iotlb_msg iotlb;
        VhostUserConfig config;
        VhostUserVringArea area;
        VhostUserInflight inflight;
        VhostUserShared object;
        VhostUserTransferDeviceState transfer_state;
        VhostUserMMap mmap;
        VhostUserShMemConfig shmem;
        uint8_t raw[VC_MSG_MAX_PAYLOAD];
    } payload;
    int fds[VC_MSG_MAX_FDS];
    unsigned nfds;
} VcMsg;

/** VcMsgFault: syntax faults found by the validators (a bit mask). */
typedef enum VcMsgFault {
    VC_MSG_FAULT_VERSION = 1u << 0,   /* version bits are not 1 */
    VC_MSG_FAULT_REPLY_BIT = 1u << 1, /* reply without REPLY, or request with REPLY */
    VC_MSG_FAULT_FLAGS = 1u << 2,     /* NEED_REPLY on a reply, or undefined bits set */
    VC_MSG_FAULT_REQUEST = 1u << 3,   /* reply names another request */
    VC_MSG_FAULT_UNKNOWN = 1u << 4,   /* request id not in the table */
    VC_MSG_FAULT_SIZE = 1u << 5,      /* size does not fit the payload kind */
    VC_MSG_FAULT_FIELD = 1u << 6,     /* a length field inside the payload is out of range */
    VC_MSG_FAULT_FDS = 1u << 7,       /* wrong number of fds */
} VcMsgFault;

/**
 * vc_msg_info:
 * @ch: the request table to use
 * @request: request id
 *
 * Returns: the table row for @request, or NULL when the id is unknown on @ch.
 */
const VcMsgInfo *vc_msg_info(VcChannel ch, uint32_t request);

/**
 * vc_msg_name:
 * @ch: the request table to use
 * @request: request id
 *
 * Returns: the spec name ("VHOST_USER_GET_FEATURES",
 * "VHOST_USER_BACKEND_IOTLB_MSG"), or "UNKNOWN" for an id not in the table.
 * A static string.
 */
const char *vc_msg_name(VcChannel ch, uint32_t request);

/**
 * vc_msg_short_name:
 *
 * Like vc_msg_name() without the "VHOST_USER_" prefix ("GET_FEATURES",
 * "BACKEND_IOTLB_MSG").
 */
const char *vc_msg_short_name(VcChannel ch, uint32_t request);

/**
 * vc_msg_lookup_name:
 * @name: a name with or without the "VHOST_USER_" prefix, any case
 * @ch: (out): the table it was found in
 *
 * Returns: the request id, or 0 when no request has that name.
 */
uint32_t vc_msg_lookup_name(const char *name, VcChannel *ch);

/**
 * vc_msg_init:
 * @m: message to fill
 * @request: request id
 * @flags: header flags other than the version (VHOST_USER_NEED_REPLY_MASK,
 *         VHOST_USER_REPLY_MASK); the version bits are set to 1
 *
 * Zeroes @m, sets the header and an empty fd list. The payload size is 0:
 * fill the payload, then call vc_msg_set_size() or set hdr.size yourself.
 */
void vc_msg_init(VcMsg *m, uint32_t request, uint32_t flags);

/**
 * vc_msg_set_size:
 * @ch: the request table to use
 * @m: a request whose payload has been filled
 *
 * Sets hdr.size to the canonical size of the request's payload kind (for a
 * memory table 8 + 32 * nregions, for config 12 + config.size). Leaves the
 * size alone for VC_PL_OPAQUE and unknown requests.
 */
void vc_msg_set_size(VcChannel ch, VcMsg *m);

/**
 * vc_msg_payload_fits:
 * @kind: payload kind
 * @m: message whose hdr.size and payload are examined
 * @request: for VC_PL_CONFIG_REPLY and VC_PL_SAME_SIZE, the request answered
 *           (may be NULL for other kinds)
 *
 * Returns: 0 when hdr.size fits @kind and inner length fields are in range,
 * otherwise VC_MSG_FAULT_SIZE or VC_MSG_FAULT_FIELD.
 */
unsigned vc_msg_payload_fits(VcPayloadKind kind, const VcMsg *m, const VcMsg *request);

/**
 * vc_msg_expected_fds:
 * @rule: fd rule of the message
 * @m: the message (its payload decides for NOFD bits, regions and replies)
 * @min: (out): fewest fds allowed
 * @max: (out): most fds allowed
 */
void vc_msg_expected_fds(VcFdRule rule, const VcMsg *m, unsigned *min, unsigned *max);

/**
 * vc_msg_check_request:
 * @ch: the table the request belongs to
 * @m: a received request
 *
 * Syntax only: version 1, REPLY clear, no undefined flag bits, known id,
 * payload size and inner lengths, fd count. Feature gating and ordering are
 * semantics and belong to the caller.
 *
 * Returns: 0 when well-formed, else a mask of VcMsgFault bits.
 */
unsigned vc_msg_check_request(VcChannel ch, const VcMsg *m);

/**
 * vc_msg_check_reply:
 * @ch: the table @request belongs to
 * @request: the request that was sent
 * @reply: what came back
 * @postcopy: true after POSTCOPY_LISTEN (SET_MEM_TABLE and ADD_MEM_REG then
 *            get region replies instead of acks)
 *
 * QEMU's acceptance rules (SPEC-FACTS 2.1): flags exactly version 1 + REPLY,
 * the same request id, the exact size of the reply type, the right fd count.
 *
 * Returns: 0 when QEMU would accept @reply, else a mask of VcMsgFault bits.
 */
unsigned vc_msg_check_reply(VcChannel ch, const VcMsg *request, const VcMsg *reply,
                            bool postcopy);

/**
 * vc_msg_needs_reply:
 * @ch: the table @request belongs to
 * @request: a request about to be sent or just received
 * @pfeatures: negotiated protocol features
 * @postcopy: true after POSTCOPY_LISTEN
 *
 * Returns: true when the receiver of @request must answer it.
 */
bool vc_msg_needs_reply(VcChannel ch, const VcMsg *request, uint64_t pfeatures, bool postcopy);

/**
 * vc_msg_reply_kind:
 *
 * Returns: the payload kind of the reply to @request (VC_PL_U64 for an ack),
 * taking postcopy into account.
 */
VcPayloadKind vc_msg_reply_kind(VcChannel ch, const VcMsg *request, bool postcopy);

/**
 * vc_msg_fault_describe:
 * @buf: output buffer
 * @len: its size
 * @faults: mask from a validator
 * @ch: the table the message belongs to
 * @request: the request (for reply faults; NULL when @m is a request)
 * @m: the offending message
 *
 * Writes one line such as "GET_FEATURES reply: flags 0x1, want 0x5 (REPLY bit
 * clear)". Returns: @buf.
 */
char *vc_msg_fault_describe(char *buf, size_t len, unsigned faults, VcChannel ch,
                            const VcMsg *request, const VcMsg *m);

/**
 * vc_msg_format:
 * @buf: output buffer
 * @len: its size
 * @ch: the table the message belongs to
 * @m: the message
 * @request: when @m is a reply, the request it answers (NULL if unknown)
 *
 * Decodes the payload into one line, e.g. "index=0 num=256" or
 * "features=0x140000000 [PROTOCOL_FEATURES VERSION_1]". Never fails: an
 * undecodable payload is shown as hex. Returns: @buf.
 */
char *vc_msg_format(char *buf, size_t len, VcChannel ch, const VcMsg *m, const VcMsg *request);

/**
 * vc_feature_name:
 * Returns: the name of virtio/vhost feature @bit ("VERSION_1", "EVENT_IDX",
 * "PROTOCOL_FEATURES", "LOG_ALL"), or NULL for device-specific bits.
 */
const char *vc_feature_name(unsigned bit);

/**
 * vc_pfeature_name:
 * Returns: the name of protocol feature @bit without prefix ("MQ",
 * "REPLY_ACK"), or NULL for an undefined bit.
 */
const char *vc_pfeature_name(unsigned bit);

/**
 * vc_msg_close_fds:
 * Closes every fd still attached to @m and empties the list.
 */
void vc_msg_close_fds(VcMsg *m);

/**
 * vc_msg_take_fd:
 * Returns: fd number @i of @m (ownership passes to the caller), or -1.
 */
int vc_msg_take_fd(VcMsg *m, unsigned i);

#endif /* VC_MSG_H */
