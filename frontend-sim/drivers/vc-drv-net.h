/*
 * vc-drv-net.h -- the driver side of virtio-net (virtio 1.x section 5.1,
 * device id 1; <linux/virtio_net.h>).
 *
 * Rings come in pairs: ring 2k is receiveq k+1 (device-writable buffers),
 * ring 2k+1 is transmitq k+1 (device-readable frames). Every frame, in both
 * directions, follows a 12-byte struct virtio_net_hdr_v1: with
 * VIRTIO_F_VERSION_1 the header always carries num_buffers, merged receive
 * buffers (VIRTIO_NET_F_MRG_RXBUF) or not (virtio 1.x 5.1.6).
 *
 * Frames the harness sends carry a test ethertype and a tag (magic, a
 * sequence number, the frame length and the queue pair) followed by a
 * pattern derived from the sequence number, so that a frame that comes back
 * (a loopback back end) can be matched and checked byte for byte.
 *
 * Two modes. Checked mode (conformance): receive buffers are filled with
 * the guard pattern before they are posted; every received frame is
 * assembled (over num_buffers buffers), its header and length are judged
 * against the rules a device must follow, and what was seen is counted in
 * VcNetRxStats. Fast mode (the bench): transmit frames are built once at
 * set-up, receive buffers are neither filled nor parsed beyond num_buffers,
 * and nothing is allocated or logged per frame in either mode.
 *
 * The driver records facts; the checks decide verdicts.
 */
#ifndef VC_DRV_NET_H
#define VC_DRV_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <linux/virtio_net.h>

#include "vc-frontend.h"
#include "vc-traffic.h"

#define VC_NET_HDR_LEN       12u      /* sizeof(struct virtio_net_hdr_v1) */
#define VC_NET_ETH_HLEN      14u      /* destination, source, ethertype */
#define VC_NET_MIN_FRAME     60u      /* shortest Ethernet frame without FCS */
#define VC_NET_MAX_FRAME     1514u    /* longest untagged frame without FCS */
#define VC_NET_RX_BUF_LEN    1526u    /* virtio 1.x 5.1.6.3.1: header + 1514 */
#define VC_NET_ETHERTYPE     0x88b5u  /* IEEE 802 "local experimental ethertype 1" */
#define VC_NET_ETHERTYPE_RARP 0x8035u
#define VC_NET_ETHERTYPE_IPV4 0x0800u
#define VC_NET_TAG_MAGIC     0x56434e54u /* "VCNT" */
#define VC_NET_TAG_LEN       16u      /* magic, seq, len, pair, check (after the Ethernet header) */
#define VC_NET_MIN_TAGGED    (VC_NET_ETH_HLEN + VC_NET_TAG_LEN)
#define VC_NET_MAX_PAIRS     8u       /* queue pairs one driver instance drives */
#define VC_NET_MAX_SCRATCH   (VC_NET_HDR_LEN + 9216u)  /* one assembled frame, jumbo sized */

/* --- Headers ------------------------------------------------------------------------------ */

/** VcNetHdrFault: rules a received header breaks (a mask). */
typedef enum VcNetHdrFault {
    /* flags other than 0 without VIRTIO_NET_F_GUEST_CSUM, or an undefined flag bit */
    VC_NET_HDR_FAULT_FLAGS = 1u << 0,
    /* gso_type other than NONE without a GUEST_TSO4/TSO6/UFO/USO feature, or unknown */
    VC_NET_HDR_FAULT_GSO = 1u << 1,
    /* num_buffers 0, or other than 1 without VIRTIO_NET_F_MRG_RXBUF */
    VC_NET_HDR_FAULT_NUM_BUFFERS = 1u << 2,
} VcNetHdrFault;

/**
 * vc_net_hdr_faults:
 * @h: a header the device wrote (little endian, as in guest memory)
 * @features: the virtio features negotiated
 *
 * Judges a receive header against virtio 1.x 5.1.6.4.2 ("Device
 * Requirements: Processing of Incoming Packets"): flags are 0 unless
 * GUEST_CSUM was negotiated (then only NEEDS_CSUM and DATA_VALID, and
 * RSC_INFO with GUEST_RSC_EXT); gso_type is NONE unless a guest
 * segmentation feature was negotiated (then only the kinds it allows, ECN
 * only with GUEST_ECN); num_buffers is 1 without MRG_RXBUF and at least 1
 * with it. Whether num_buffers matches the buffers used is for the reaper.
 *
 * Returns: a VcNetHdrFault mask, 0 when the header is well formed.
 */
unsigned vc_net_hdr_faults(const struct virtio_net_hdr_v1 *h, uint64_t features);

/**
 * vc_net_hdr_describe:
 * Writes "flags 0x.. gso_type 0x.. num_buffers N" for @h into @buf.
 * Returns: @buf.
 */
char *vc_net_hdr_describe(const struct virtio_net_hdr_v1 *h, char *buf, size_t size);

/** vc_net_hdr_init_tx: a transmit header asking for nothing: all fields 0 (5.1.6.2). */
void vc_net_hdr_init_tx(struct virtio_net_hdr_v1 *h);

/* --- Frames ------------------------------------------------------------------------------- */

/** VcNetFrameKind: what a received frame is. */
typedef enum VcNetFrameKind {
    VC_NET_FRAME_RUNT,     /* shorter than an Ethernet header */
    VC_NET_FRAME_FOREIGN,  /* not ours (another ethertype): someone else's traffic */
    VC_NET_FRAME_OURS,     /* our tag and pattern, intact, length as sent */
    VC_NET_FRAME_CORRUPT,  /* our ethertype, but the tag, pattern or length is off */
    VC_NET_FRAME_RARP,     /* a RARP frame (ethertype 0x8035), as SEND_RARP asks for */
} VcNetFrameKind;

/** VcNetFrameInfo: what vc_net_frame_parse() learnt about one frame. */
typedef struct VcNetFrameInfo {
    VcNetFrameKind kind;
    uint16_t ethertype;
    uint8_t dst[6], src[6];
    uint32_t seq;          /* OURS/CORRUPT: the tag's sequence number */
    uint16_t tag_len;      /* OURS/CORRUPT: the frame length the tag claims */
    uint16_t pair;         /* OURS/CORRUPT: the queue pair it was sent on */
    uint32_t bad_offset;   /* CORRUPT: first byte that differs from what was sent */
    uint16_t ip_len;       /* IPv4 frames: the total length field (0 otherwise) */
    uint8_t rarp_mac[6];   /* RARP: the target hardware address */
} VcNetFrameInfo;

/**
 * vc_net_frame_build:
 * @buf: where the frame goes (no virtio header)
 * @len: frame length, VC_NET_MIN_TAGGED..65535
 * @dst: (nullable): destination MAC, NULL for broadcast
 * @src: source MAC
 * @pair: queue pair written into the tag
 * @seq: sequence number written into the tag; the pattern derives from it
 *
 * Builds a tagged test frame: Ethernet header with VC_NET_ETHERTYPE, the
 * tag (network byte order), then the pattern. Never allocates.
 *
 * Returns: @len, or 0 when @len is out of range.
 */
uint32_t vc_net_frame_build(uint8_t *buf, uint32_t len, const uint8_t *dst, const uint8_t *src,
                            uint16_t pair, uint32_t seq);

/**
 * vc_net_frame_set_seq:
 * Changes the sequence number of a frame built by vc_net_frame_build()
 * (tag and pattern). Returns: false when @buf does not hold such a frame.
 */
bool vc_net_frame_set_seq(uint8_t *buf, uint32_t len, uint32_t seq);

/**
 * vc_net_frame_parse:
 * @frame: the frame (after the virtio header)
 * @len: its length as the device reported it (used.len minus the header)
 * @out: (out): what it is
 *
 * Never trusts @frame: every field is bounds checked against @len.
 * Returns: out->kind.
 */
VcNetFrameKind vc_net_frame_parse(const uint8_t *frame, uint32_t len, VcNetFrameInfo *out);

/** vc_net_frame_kind_name: Returns: "ours", "foreign", ... (static). */
const char *vc_net_frame_kind_name(VcNetFrameKind kind);

/* --- Driver ------------------------------------------------------------------------------- */

/** VcNetConfig: pool shapes. Zero is a sensible default for every field. */
typedef struct VcNetConfig {
    unsigned rx_bufs;       /* receive buffers per receive queue; 0: the ring size */
    uint32_t rx_buf_len;    /* bytes per receive buffer, header included; 0: VC_NET_RX_BUF_LEN */
    bool rx_hdr_apart;      /* each receive buffer is two descriptors: the header, then the rest */
    unsigned tx_bufs;       /* transmit slots per transmit queue; 0: the ring size */
    uint32_t tx_frame_max;  /* longest frame sent; 0: VC_NET_MAX_FRAME */
    bool tx_hdr_apart;      /* header and frame in two descriptors */
    uint32_t fast_frame_len;/* fast mode: the one frame length sent; 0: 64 */
    bool fast;              /* the bench: nothing filled, parsed or checked per frame */
    bool no_rx;             /* transmit queues only */
    bool no_tx;             /* receive queues only */
} VcNetConfig;

/** VcNetRxBuf: one receive buffer of the pool. */
typedef struct VcNetRxBuf {
    VcSg sg[2];
    unsigned nsg;
    uint32_t cap;           /* bytes the device may write */
    bool posted;            /* handed to the device, not yet returned */
    uint32_t used_len;      /* last used.len */
    uint32_t completions;
} VcNetRxBuf;

/** VcNetTxSlot: one transmit chain of the pool. */
typedef struct VcNetTxSlot {
    VcSg sg[2];
    unsigned nsg;
    struct virtio_net_hdr_v1 *hdr;  /* our pointer into guest memory */
    uint8_t *frame;                 /* our pointer to the frame, right after the header */
    uint32_t frame_len;             /* frame bytes (header excluded) */
    uint32_t seq;
    bool posted;
} VcNetTxSlot;

/** VcNetRxStats: what one receive queue saw. Frames are counted once whole. */
typedef struct VcNetRxStats {
    uint64_t used;            /* used elements reaped (buffers) */
    uint64_t frames;          /* frames completed (first buffer + num_buffers - 1 more) */
    uint64_t bytes;           /* frame bytes, headers excluded */
    uint64_t ours;            /* VC_NET_FRAME_OURS */
    uint64_t foreign;
    uint64_t corrupt;
    uint64_t rarp;
    uint64_t runts;           /* frames shorter than VC_NET_MIN_FRAME (60) */
    uint64_t hdr_bad;         /* frames whose header broke a rule */
    unsigned hdr_fault_mask;  /* union of every VcNetHdrFault seen */
    uint64_t hdr_bad_flags;   /* ... of which flags or gso_type were wrong */
    uint64_t nb_zero;         /* ... of which num_buffers was 0 */
    struct virtio_net_hdr_v1 first_bad_hdr;  /* the first header that broke a rule */
    uint64_t over_cap;        /* used.len larger than the buffer */
    uint64_t merge_bad;       /* merged frames whose buffers did not add up */
    uint64_t multi;           /* frames spread over more than one buffer */
    uint32_t max_num_buffers;
    uint64_t wrong_pair;      /* our frames that came back on another pair */
    uint64_t bad_id;          /* used ids naming no buffer in flight */
    uint32_t min_len, max_len;/* frame lengths seen (0/0 before the first) */
    uint8_t rarp_mac[6];      /* last RARP target address */
    uint32_t last_seq;        /* last of our sequence numbers received */
    char first_fault[224];    /* the first malformed frame, described; "" when none */
} VcNetRxStats;

/** VcNetTxStats: what one transmit queue saw. */
typedef struct VcNetTxStats {
    uint64_t sent;            /* chains made available */
    uint64_t completed;       /* chains the device used */
    uint64_t bytes;           /* frame bytes completed */
    uint64_t bad_id;
    uint64_t len_nonzero;     /* used.len other than 0 (the device writes nothing) */
} VcNetTxStats;

/** VcNetQueue: one ring of a pair. */
typedef struct VcNetQueue {
    VcVq *vq;               /* NULL when the driver does not drive this ring */
    unsigned ring;
    unsigned pair;
    unsigned n;             /* buffers or slots in the pool */
    unsigned next;          /* next to post (round robin) */
    VcNetRxBuf *rxb;
    VcNetTxSlot *txs;
    VcNetRxStats rx;
    VcNetTxStats tx;
    /* Receive: the frame being assembled from merged buffers. */
    unsigned merge_left;    /* buffers still to come for it */
    uint32_t merge_bufs;
    uint32_t merge_len;     /* frame bytes so far, header included */
    bool merge_broken;
    struct virtio_net_hdr_v1 merge_hdr;
    uint8_t *scratch;       /* checked mode: the assembled frame, header included */
} VcNetQueue;

/** VcNetDrv: a driver instance over one or more queue pairs. */
typedef struct VcNetDrv {
    VcFrontend *fe;
    VcNetConfig cfg;
    uint64_t features;      /* negotiated (fe->features) */
    bool mrg;               /* VIRTIO_NET_F_MRG_RXBUF */
    unsigned first_pair;
    unsigned npairs;
    VcNetQueue rxq[VC_NET_MAX_PAIRS];
    VcNetQueue txq[VC_NET_MAX_PAIRS];
    uint8_t mac[6];         /* our source address */
    uint32_t next_seq;
    unsigned add_flags;     /* VC_ADD_INDIRECT for receive chains */
} VcNetDrv;

/**
 * vc_net_new:
 * @fe: a front end whose rings 2*@first_pair .. 2*(@first_pair+@npairs)-1
 *      exist (vc_fe_create_queue()), features already negotiated
 * @first_pair: first queue pair driven
 * @npairs: pairs driven, 1..VC_NET_MAX_PAIRS
 * @cfg: (nullable): pool shapes
 * @error: set on failure (VC_ERROR_USAGE, VC_ERROR_RESOURCE)
 *
 * Allocates every receive buffer and transmit slot in guest memory now
 * (the highest region with room), and in checked mode one assembly buffer
 * per receive queue; nothing is posted. Receive buffers too small for a
 * frame are allowed on purpose: with MRG_RXBUF the device merges them.
 *
 * Returns: (transfer full): the driver, or NULL.
 */
VcNetDrv *vc_net_new(VcFrontend *fe, unsigned first_pair, unsigned npairs,
                     const VcNetConfig *cfg, GError **error);

/** vc_net_free: NULL is fine (guest buffers stay in guest memory). */
void vc_net_free(VcNetDrv *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcNetDrv, vc_net_free)

/** vc_net_rxq: Returns: the receive queue of pair @pair (absolute), or NULL. */
VcNetQueue *vc_net_rxq(VcNetDrv *d, unsigned pair);

/** vc_net_txq: Returns: the transmit queue of pair @pair (absolute), or NULL. */
VcNetQueue *vc_net_txq(VcNetDrv *d, unsigned pair);

/**
 * vc_net_rx_post:
 * Makes up to @count idle receive buffers of pair @pair available (guard
 * filled in checked mode) and publishes them; no kick.
 * Returns: how many were added.
 */
unsigned vc_net_rx_post(VcNetDrv *d, unsigned pair, unsigned count);

/**
 * vc_net_rx_reap:
 * Reaps every used receive buffer of pair @pair, assembles frames and
 * records them in the queue's VcNetRxStats (checked mode: headers judged,
 * frames parsed; fast mode: buffers, frames and bytes counted only).
 * Returns: used elements reaped.
 */
unsigned vc_net_rx_reap(VcNetDrv *d, unsigned pair);

/**
 * vc_net_tx_send:
 * @len: frame length (VC_NET_MIN_TAGGED..cfg.tx_frame_max); ignored in fast
 *       mode, where the frames built at set-up go out unchanged
 *
 * Builds up to @count tagged frames in idle transmit slots of pair @pair
 * (sequence numbers from d->next_seq) and publishes them; no kick.
 * Returns: how many were added.
 */
unsigned vc_net_tx_send(VcNetDrv *d, unsigned pair, unsigned count, uint32_t len);

/** vc_net_tx_reap: reaps every used transmit chain of pair @pair. Returns: how many. */
unsigned vc_net_tx_reap(VcNetDrv *d, unsigned pair);

/**
 * vc_net_wait:
 * @rx_frames: frames to wait for on the receive queue (counting from the call)
 * @tx_done: transmit completions to wait for (counting from the call)
 * @timeout_ms: deadline
 *
 * Reaps pair @pair (both directions) until both targets are met or the
 * deadline passes, sleeping on the call fds (and looking at the used rings
 * every few milliseconds) and serving the back-end channel.
 * Returns: true when both targets were met.
 */
bool vc_net_wait(VcNetDrv *d, unsigned pair, uint64_t rx_frames, uint64_t tx_done,
                 int timeout_ms);

/** vc_net_rx_in_flight: Returns: receive buffers of @pair posted and not returned. */
unsigned vc_net_rx_in_flight(const VcNetDrv *d, unsigned pair);

/** vc_net_tx_in_flight: Returns: transmit chains of @pair posted and not returned. */
unsigned vc_net_tx_in_flight(const VcNetDrv *d, unsigned pair);

/**
 * vc_net_rx_touched:
 * Returns: receive buffers of @pair posted, not returned, but already
 * written by the device (checked mode only; 0 in fast mode).
 */
unsigned vc_net_rx_touched(const VcNetDrv *d, unsigned pair);

/**
 * vc_net_skip_ranges:
 * Appends to @out every guest range the driver hands to the device or
 * writes itself (receive buffers, transmit headers and frames), for a
 * guard-pattern scan.
 */
void vc_net_skip_ranges(const VcNetDrv *d, GArray *out);

/** vc_net_rx_forget: after a ring reset, every receive buffer of @pair is idle again. */
void vc_net_rx_forget(VcNetDrv *d, unsigned pair);

/** vc_net_tx_forget: after a ring reset, every transmit slot of @pair is idle again. */
void vc_net_tx_forget(VcNetDrv *d, unsigned pair);

/*
 * net as generic traffic (vc-traffic.h): a request is a checked receive
 * buffer of 1526 bytes on ring 0 (receiveq1). The device fills it when it
 * has traffic (dpdk-testpmd txonly always has); while receive buffers wait,
 * the driver also transmits tagged frames on the pair's transmit ring, as
 * many as buffers wait, so that a loopback back end has traffic to return.
 * When the receive ring is set up again (forget), the transmit ring is too.
 * verify: a well-formed header and used.len >= 12 + 60.
 */
extern const VcTrafficOps vc_net_traffic_ops;

#endif /* VC_DRV_NET_H */
