/*
 * vhost-user-net-ref.c -- the reference virtio-net back end (virtio device
 * id 1) on the library: a loopback switch. A frame the driver transmits on
 * the TX queue of pair p (ring 2p + 1) is received on the RX queue of the
 * same pair (ring 2p), behind a virtio_net_hdr_v1 whose num_buffers says
 * how many RX chains it took (several with VIRTIO_NET_F_MRG_RXBUF, one
 * otherwise). A frame that finds no RX buffer big enough is dropped and
 * counted.
 *
 * vhost-user.rst "Ring states": a disabled TX ring is still consumed but
 * its frames are dropped; a disabled RX ring gets nothing. SEND_RARP
 * delivers a RARP broadcast on RX queue 0; NET_SET_MTU accepts 68..65535.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-proto.h"
#include "vc-msg-table.h"

#define NET_HDR_LEN         12u         /* struct virtio_net_hdr_v1 (VERSION_1) */
#define FRAME_MAX           65550u      /* 64 KiB of IP plus an Ethernet header */
#define RX_CHAINS_MAX       256u        /* RX chains one mergeable frame may use */
#define RX_SEGS_MAX         4096u       /* their buffers, all together */
#define DEFAULT_PAIRS       2u
#define DEFAULT_MTU         1500u
#define MTU_MIN             68u
#define MTU_MAX             65535u
#define RARP_LEN            60u
#define ETH_P_RARP_         0x8035u
#define STATE_BLOB_LEN      8u

typedef struct Net {
    VcMutant mutant;            /* known before the library parses the options */
    unsigned pairs;
    uint8_t mac[6];
    uint8_t cfg_mac[6];
    uint16_t mtu;

    uint64_t tx_frames;
    uint64_t tx_dropped;        /* sent on a disabled TX ring */
    uint64_t rx_delivered;
    uint64_t rx_dropped;        /* no RX buffer, or RX not running */
    bool rarp_pending;
    uint8_t rarp[RARP_LEN];
    uint32_t rx_dirty;          /* RX rings with used elements to publish */

    uint8_t frame[FRAME_MAX];
    VcBeChain rx_chain[RX_CHAINS_MAX];
    uint32_t rx_len[RX_CHAINS_MAX];
    VcBeSeg rx_segs[RX_SEGS_MAX];
} Net;

static VcBeDevice *net_dev;
static Net net = {
    .pairs = DEFAULT_PAIRS,
    .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
    .mtu = DEFAULT_MTU,
};

/* ---- options ---- */

static const VcBeOption net_options[] = {
    {"queue-pairs", true, "--queue-pairs=N        RX/TX queue pairs, 1..8 (default 2)"},
    {"mac", true, "--mac=MAC              config space MAC (default 52:54:00:12:34:56)"},
    {NULL, false, NULL},
};

static const char *
net_set_option(const char *name, const char *value, void *opaque)
{
    Net *n = opaque;

    if (strcmp(name, "queue-pairs") == 0) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || end == value || v < 1 || v > VC_BE_MAX_QUEUES / 2) {
            return "needs a number in 1..8";
        }
        n->pairs = (unsigned)v;
    } else if (strcmp(name, "mac") == 0) {
        unsigned m[6];
        char tail;

        if (sscanf(value, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
                   &tail) != 6) {
            return "needs a MAC such as 52:54:00:12:34:56";
        }
        for (int i = 0; i < 6; i++) {
            if (m[i] > 0xff) {
                return "needs a MAC such as 52:54:00:12:34:56";
            }
            n->mac[i] = (uint8_t)m[i];
        }
    }
    return NULL;
}

static const char *
net_init(void *opaque)
{
    Net *n = opaque;

    net_dev->num_queues = 2 * n->pairs;
    net_dev->queue_num = n->pairs;
    memcpy(n->cfg_mac, n->mac, 6);
    return NULL;
}

/* Ring 2p receives, ring 2p + 1 transmits. */
static unsigned
net_queue_flags(unsigned q, void *opaque)
{
    const Net *n = opaque;

    if (q % 2 == 0) {
        return VC_BE_Q_PULL;
    }
    return n->mutant == VC_MUT_NET_DISABLED_TX_STALL ? 0 : VC_BE_Q_DRAIN_DISABLED;
}

/* ---- receive ---- */

static void
rx_flush(VcBe *be, Net *n)
{
    for (unsigned q = 0; n->rx_dirty; q += 2) {
        if (n->rx_dirty & (1u << q)) {
            n->rx_dirty &= ~(1u << q);
            vc_be_flush(be, q);
        }
    }
}

/* Writes @len bytes at offset @skip of the chain's writable space; returns bytes written. */
static uint32_t
chain_put(const VcBeChain *c, uint32_t skip, const uint8_t *src, uint32_t len)
{
    uint32_t done = 0;

    for (unsigned i = 0; i < c->nsegs && done < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint32_t k;

        if (!(s->flags & VRING_DESC_F_WRITE)) {
            continue;
        }
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        k = s->len - skip;
        if (k > len - done) {
            k = len - done;
        }
        memcpy(s->hva + skip, src + done, k);
        done += k;
        skip = 0;
    }
    return done;
}

static uint32_t
chain_room(const VcBeChain *c)
{
    uint64_t room = 0;

    for (unsigned i = 0; i < c->nsegs; i++) {
        if (c->segs[i].flags & VRING_DESC_F_WRITE) {
            room += c->segs[i].len;
        }
    }
    return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/*
 * Delivers header + frame (already in n->frame, header included) on RX
 * ring @rxq. Chains are taken until they hold the whole frame and only then
 * written, so a frame that does not fit leaves the chains it took, given
 * back, untouched.
 */
static bool
deliver(VcBe *be, Net *n, unsigned rxq, uint32_t total)
{
    bool mrg = (vc_be_features(be) & VC_F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
    unsigned nchains = 0, nsegs = 0;
    uint64_t room = 0;
    uint32_t off = 0;
    uint16_t nbufs;

    if (!vc_be_queue_runnable(be, rxq)) {
        n->rx_dropped++;
        return false;
    }
    while (room < total) {
        VcBeChain *c = &n->rx_chain[nchains];
        uint32_t r;

        if (nchains == RX_CHAINS_MAX || (nchains > 0 && !mrg) || vc_be_pop(be, rxq, c) != 1) {
            goto fail;
        }
        nchains++;
        r = chain_room(c);
        if ((!mrg && r < total) || (nchains == 1 && r < NET_HDR_LEN) ||
            nsegs + c->nsegs > RX_SEGS_MAX) {
            goto fail;
        }
        /* Keep the buffers: the ring's scratch is reused by the next pop. */
        memcpy(&n->rx_segs[nsegs], c->segs, c->nsegs * sizeof(c->segs[0]));
        c->segs = &n->rx_segs[nsegs];
        nsegs += c->nsegs;
        room += r;
    }
    for (unsigned i = 0; i < nchains; i++) {
        n->rx_len[i] = chain_put(&n->rx_chain[i], 0, n->frame + off, total - off);
        off += n->rx_len[i];
    }
    /* num_buffers is the last field of the header, at the start of the first chain. */
    nbufs = htole16((uint16_t)nchains);
    if ((!mrg && n->mutant == VC_MUT_NET_NB_UNSET) || (mrg && n->mutant == VC_MUT_NET_MRG_COUNT)) {
        nbufs = htole16(mrg ? 1 : 0);
    }
    if (n->mutant == VC_MUT_NET_BAD_HDR) {
        const uint8_t bad = 0x80;   /* an undefined flags bit */

        chain_put(&n->rx_chain[0], 0, &bad, 1);
    }
    chain_put(&n->rx_chain[0], 10, (const uint8_t *)&nbufs, 2);
    for (unsigned i = 0; i < nchains; i++) {
        vc_be_push(be, &n->rx_chain[i], n->rx_len[i]);
    }
    n->rx_dirty |= 1u << rxq;
    n->rx_delivered++;
    return true;
fail:
    while (nchains > 0) {
        vc_be_unpop(be, &n->rx_chain[--nchains]);
    }
    n->rx_dropped++;
    return false;
}

/* ---- transmit ---- */

static uint32_t
net_handle_chain(VcBe *be, const VcBeChain *c, void *opaque)
{
    Net *n = opaque;
    uint64_t total = 0;
    uint32_t len;

    /* Gather the device-readable bytes: virtio_net_hdr_v1, then the frame. */
    for (unsigned i = 0; i < c->nsegs; i++) {
        const VcBeSeg *s = &c->segs[i];

        if (s->flags & VRING_DESC_F_WRITE) {
            continue;
        }
        if (total + s->len > FRAME_MAX) {
            total = FRAME_MAX + 1;
            break;
        }
        memcpy(n->frame + total, s->hva, s->len);
        total += s->len;
    }
    n->tx_frames++;
    if (total < NET_HDR_LEN || total > FRAME_MAX) {
        n->tx_dropped++;
        return 0;
    }
    if (!vc_be_queue_enabled(be, c->queue)) {
        /* A started but disabled TX ring: consumed, never delivered. */
        n->tx_dropped++;
        return 0;
    }
    if ((n->mutant == VC_MUT_NET_TX_DROP && n->tx_frames % 3 == 0) ||
        (n->mutant == VC_MUT_NET_MQ_ONE_PAIR && c->queue > 1)) {
        n->tx_dropped++;        /* Mutants: used, never delivered. */
        return 0;
    }
    len = (uint32_t)total;
    /* The receive header: no offloads, num_buffers filled in by deliver(). */
    memset(n->frame, 0, NET_HDR_LEN);
    deliver(be, n, c->queue - 1, len);
    return 0;
}

static void
rarp_try(VcBe *be, Net *n)
{
    if (!n->rarp_pending || !vc_be_queue_runnable(be, 0)) {
        return;
    }
    n->rarp_pending = false;
    memset(n->frame, 0, NET_HDR_LEN);
    memcpy(n->frame + NET_HDR_LEN, n->rarp, RARP_LEN);
    deliver(be, n, 0, NET_HDR_LEN + RARP_LEN);
    rx_flush(be, n);
}

static void
net_event(VcBe *be, VcBeEvent ev, unsigned q, void *opaque)
{
    Net *n = opaque;

    switch (ev) {
    case VC_BE_EV_BATCH_DONE:
        rx_flush(be, n);
        break;
    case VC_BE_EV_RING_RUNNABLE:
        if (q == 0) {
            rarp_try(be, n);
        }
        break;
    case VC_BE_EV_RESET:
        n->mtu = DEFAULT_MTU;
        memcpy(n->cfg_mac, n->mac, 6);
        n->rarp_pending = false;
        n->rx_dirty = 0;
        break;
    case VC_BE_EV_DISCONNECT:
        vc_be_log(be, "frames: %llu sent, %llu dropped on disabled TX, %llu received, "
                  "%llu dropped for want of RX buffers",
                  (unsigned long long)n->tx_frames, (unsigned long long)n->tx_dropped,
                  (unsigned long long)n->rx_delivered, (unsigned long long)n->rx_dropped);
        n->mtu = DEFAULT_MTU;
        memcpy(n->cfg_mac, n->mac, 6);
        n->rarp_pending = false;
        n->rx_dirty = 0;
        break;
    default:
        break;
    }
}

/*
 * SEND_RARP: a RARP request broadcast from the guest's MAC (the first 6
 * payload bytes), as QEMU's announce frames are: 60 bytes, ethertype
 * 0x8035, opcode 3, sender and target hardware address the MAC.
 */
static void
rarp_build(Net *n, const uint8_t mac[6])
{
    uint8_t *f = n->rarp;

    memset(f, 0, RARP_LEN);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = ETH_P_RARP_ >> 8;
    f[13] = ETH_P_RARP_ & 0xff;
    f[14] = 0x00;           /* hardware type 1: Ethernet */
    f[15] = 0x01;
    f[16] = 0x08;           /* protocol type 0x0800: IPv4 */
    f[17] = 0x00;
    f[18] = 6;              /* hardware address length */
    f[19] = 4;              /* protocol address length */
    f[20] = 0x00;           /* opcode 3: reverse request */
    f[21] = 0x03;
    memcpy(f + 22, mac, 6); /* sender hardware address, sender IP 0 */
    memcpy(f + 32, mac, 6); /* target hardware address, target IP 0 */
}

static int
net_u64_request(VcBe *be, uint32_t request, uint64_t v, void *opaque)
{
    Net *n = opaque;

    if (request == VHOST_USER_SEND_RARP) {
        uint8_t mac[6];

        if (vc_be_mutant(be) == VC_MUT_RARP_IGNORED) {
            return 0;
        }
        v = htole64(v);
        memcpy(mac, &v, 6);
        rarp_build(n, mac);
        n->rarp_pending = true;
        rarp_try(be, n);
        return 0;
    }
    if (request == VHOST_USER_NET_SET_MTU) {
        if ((v < MTU_MIN || v > MTU_MAX) && vc_be_mutant(be) != VC_MUT_MTU_ACCEPT_ANY) {
            vc_be_note(be, "NET_SET_MTU %llu is outside %u..%u", (unsigned long long)v, MTU_MIN,
                       MTU_MAX);
            return -EINVAL;
        }
        n->mtu = (uint16_t)v;
        return 0;
    }
    return -ENOTSUP;
}

/* ---- config space (struct virtio_net_config) ---- */

static void
net_get_config(VcBe *be, uint8_t *buf, void *opaque)
{
    Net *n = opaque;
    struct virtio_net_config c;

    memset(&c, 0, sizeof(c));
    memcpy(c.mac, n->cfg_mac, 6);
    c.status = htole16(VIRTIO_NET_S_LINK_UP);
    c.max_virtqueue_pairs = htole16((uint16_t)n->pairs);
    c.mtu = htole16(n->mtu);
    c.speed = htole32(10000);
    c.duplex = 1;
    memcpy(buf, &c, sizeof(c));
}

/* Nothing is writable by the driver (virtio 1.x 5.1.4); a migration write may set mac and mtu. */
static int
net_set_config(VcBe *be, uint32_t off, const uint8_t *data, uint32_t size, uint32_t flags,
               void *opaque)
{
    Net *n = opaque;
    uint8_t cfg[sizeof(struct virtio_net_config)];
    struct virtio_net_config c;

    if (flags == VHOST_SET_CONFIG_TYPE_FRONTEND) {
        return -EPERM;
    }
    net_get_config(be, cfg, n);
    memcpy(cfg + off, data, size);
    memcpy(&c, cfg, sizeof(c));
    memcpy(n->cfg_mac, c.mac, 6);
    n->mtu = le16toh(c.mtu);
    return 0;
}

/* ---- device state: mac (6 bytes) and mtu (le16) ---- */

static size_t
net_state_save(VcBe *be, uint8_t *buf, size_t cap, void *opaque)
{
    Net *n = opaque;
    uint16_t mtu = htole16(n->mtu);

    if (cap < STATE_BLOB_LEN) {
        return 0;
    }
    memcpy(buf, n->cfg_mac, 6);
    memcpy(buf + 6, &mtu, 2);
    return STATE_BLOB_LEN;
}

static int
net_state_load(VcBe *be, const uint8_t *buf, size_t len, bool apply, void *opaque)
{
    Net *n = opaque;
    uint16_t mtu;

    if (len != STATE_BLOB_LEN) {
        return -EINVAL;
    }
    memcpy(&mtu, buf + 6, 2);
    mtu = le16toh(mtu);
    if (mtu < MTU_MIN) {
        return -EINVAL;
    }
    if (apply) {
        memcpy(n->cfg_mac, buf, 6);
        n->mtu = mtu;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    VcBeDevice dev = {
        .type = "net",
        .prog = "vhost-user-net-ref",
        .device_id = VIRTIO_ID_NET,
        .features = VC_F(VIRTIO_F_VERSION_1) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |
                    VC_F(VIRTIO_RING_F_EVENT_IDX) | VC_F(VIRTIO_RING_F_INDIRECT_DESC) |
                    VC_F(VIRTIO_F_RING_PACKED) | VC_F(VIRTIO_F_ACCESS_PLATFORM) |
                    VC_F(VHOST_F_LOG_ALL) | VC_F(VIRTIO_NET_F_MAC) | VC_F(VIRTIO_NET_F_MTU) |
                    VC_F(VIRTIO_NET_F_STATUS) | VC_F(VIRTIO_NET_F_MQ) |
                    VC_F(VIRTIO_NET_F_MRG_RXBUF),
        .pfeatures = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(RARP) | VC_PF(REPLY_ACK) |
                     VC_PF(NET_MTU) | VC_PF(BACKEND_REQ) | VC_PF(CONFIG) | VC_PF(RESET_DEVICE) |
                     VC_PF(CONFIGURE_MEM_SLOTS) | VC_PF(STATUS),
        .num_queues = 2 * DEFAULT_PAIRS,
        .queue_num = DEFAULT_PAIRS,
        .options = net_options,
        .set_option = net_set_option,
        .init = net_init,
        .handle_chain = net_handle_chain,
        .event = net_event,
        .queue_flags = net_queue_flags,
        .config_len = sizeof(struct virtio_net_config),
        .get_config = net_get_config,
        .set_config = net_set_config,
        .u64_request = net_u64_request,
        .state_save = net_state_save,
        .state_load = net_state_load,
        .opaque = &net,
    };

    net_dev = &dev;
    net.mutant = vc_be_args_mutant(argc, argv);
    return vc_be_main(argc, argv, &dev);
}
