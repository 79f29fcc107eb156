/*
 * vc-drv-net.c -- virtio-net driver side.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "vc-drv-net.h"
#include "vc-error.h"

/* Newer <linux/virtio_net.h> names than Debian 12's. */
#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4 54
#endif
#ifndef VIRTIO_NET_F_GUEST_USO6
#define VIRTIO_NET_F_GUEST_USO6 55
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define F(b) (1ull << (b))

static const uint8_t our_mac[6] = {0x02, 0x76, 0x63, 0x00, 0x00, 0x01};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* --- Headers ------------------------------------------------------------------------------ */

unsigned
vc_net_hdr_faults(const struct virtio_net_hdr_v1 *h, uint64_t features)
{
    unsigned faults = 0;
    uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    uint16_t nb = le16toh(h->num_buffers);

    /* 5.1.6.4.2: without GUEST_CSUM the device sets flags to zero. */
    if (features & F(VIRTIO_NET_F_GUEST_CSUM)) {
        uint8_t ok = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
        if (features & F(VIRTIO_NET_F_RSC_EXT)) {
            ok |= VIRTIO_NET_HDR_F_RSC_INFO;
        }
        if (h->flags & ~ok) {
            faults |= VC_NET_HDR_FAULT_FLAGS;
        }
    } else if (h->flags) {
        faults |= VC_NET_HDR_FAULT_FLAGS;
    }
    /* 5.1.6.4.2: without a guest segmentation feature gso_type is NONE. */
    if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        bool allowed;
        switch (gso) {
        case VIRTIO_NET_HDR_GSO_TCPV4:
            allowed = features & F(VIRTIO_NET_F_GUEST_TSO4);
            break;
        case VIRTIO_NET_HDR_GSO_TCPV6:
            allowed = features & F(VIRTIO_NET_F_GUEST_TSO6);
            break;
        case VIRTIO_NET_HDR_GSO_UDP:
            allowed = features & F(VIRTIO_NET_F_GUEST_UFO);
            break;
        case VIRTIO_NET_HDR_GSO_UDP_L4:
            allowed = features & (F(VIRTIO_NET_F_GUEST_USO4) | F(VIRTIO_NET_F_GUEST_USO6));
            break;
        default:
            allowed = false;
        }
        if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & F(VIRTIO_NET_F_GUEST_ECN))) {
            allowed = false;
        }
        if (!allowed) {
            faults |= VC_NET_HDR_FAULT_GSO;
        }
    }
    /* 5.1.6.4.2: num_buffers is 1 without MRG_RXBUF, the buffers used with it. */
    if (nb == 0 || (!(features & F(VIRTIO_NET_F_MRG_RXBUF)) && nb != 1)) {
        faults |= VC_NET_HDR_FAULT_NUM_BUFFERS;
    }
    return faults;
}

char *
vc_net_hdr_describe(const struct virtio_net_hdr_v1 *h, char *buf, size_t size)
{
    g_snprintf(buf, size, "flags 0x%02x gso_type 0x%02x num_buffers %u", h->flags, h->gso_type,
               le16toh(h->num_buffers));
    return buf;
}

void
vc_net_hdr_init_tx(struct virtio_net_hdr_v1 *h)
{
    memset(h, 0, sizeof(*h));
}

/* --- Frames ------------------------------------------------------------------------------- */

static inline void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static inline uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline uint8_t
pattern_byte(uint32_t seq, uint32_t off)
{
    return (uint8_t)(seq * 7u + off * 13u + (off >> 8));
}

static inline uint32_t
tag_check(uint32_t seq, uint16_t len, uint16_t pair)
{
    return VC_NET_TAG_MAGIC ^ seq ^ ((uint32_t)len << 16 | pair) ^ 0x5a5a5a5au;
}

static void
fill_tag(uint8_t *buf, uint32_t len, uint16_t pair, uint32_t seq)
{
    uint8_t *t = buf + VC_NET_ETH_HLEN;

    put32(t, VC_NET_TAG_MAGIC);
    put32(t + 4, seq);
    put16(t + 8, (uint16_t)len);
    put16(t + 10, pair);
    put32(t + 12, tag_check(seq, (uint16_t)len, pair));
    for (uint32_t i = VC_NET_MIN_TAGGED; i < len; i++) {
        buf[i] = pattern_byte(seq, i);
    }
}

uint32_t
vc_net_frame_build(uint8_t *buf, uint32_t len, const uint8_t *dst, const uint8_t *src,
                   uint16_t pair, uint32_t seq)
{
    if (len < VC_NET_MIN_TAGGED || len > UINT16_MAX) {
        return 0;
    }
    memcpy(buf, dst ? dst : broadcast, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, VC_NET_ETHERTYPE);
    fill_tag(buf, len, pair, seq);
    return len;
}

bool
vc_net_frame_set_seq(uint8_t *buf, uint32_t len, uint32_t seq)
{
    if (len < VC_NET_MIN_TAGGED || get16(buf + 12) != VC_NET_ETHERTYPE ||
        get32(buf + VC_NET_ETH_HLEN) != VC_NET_TAG_MAGIC) {
        return false;
    }
    fill_tag(buf, len, get16(buf + VC_NET_ETH_HLEN + 10), seq);
    return true;
}

VcNetFrameKind
vc_net_frame_parse(const uint8_t *frame, uint32_t len, VcNetFrameInfo *out)
{
    const uint8_t *t = frame + VC_NET_ETH_HLEN;

    memset(out, 0, sizeof(*out));
    if (len < VC_NET_ETH_HLEN) {
        return out->kind = VC_NET_FRAME_RUNT;
    }
    memcpy(out->dst, frame, 6);
    memcpy(out->src, frame + 6, 6);
    out->ethertype = get16(frame + 12);
    switch (out->ethertype) {
    case VC_NET_ETHERTYPE_RARP:
        /* RFC 903 over Ethernet: htype 1, ptype IPv4, hlen 6, plen 4; target MAC at 18. */
        if (len >= VC_NET_ETH_HLEN + 28 && get16(t) == 1 && get16(t + 2) == 0x0800 &&
            t[4] == 6 && t[5] == 4) {
            memcpy(out->rarp_mac, t + 18, 6);
            return out->kind = VC_NET_FRAME_RARP;
        }
        return out->kind = VC_NET_FRAME_FOREIGN;
    case VC_NET_ETHERTYPE_IPV4:
        if (len >= VC_NET_ETH_HLEN + 4) {
            out->ip_len = get16(t + 2);
        }
        return out->kind = VC_NET_FRAME_FOREIGN;
    case VC_NET_ETHERTYPE:
        break;
    default:
        return out->kind = VC_NET_FRAME_FOREIGN;
    }
    if (len < VC_NET_MIN_TAGGED || get32(t) != VC_NET_TAG_MAGIC) {
        out->bad_offset = VC_NET_ETH_HLEN;
        return out->kind = VC_NET_FRAME_CORRUPT;
    }
    out->seq = get32(t + 4);
    out->tag_len = get16(t + 8);
    out->pair = get16(t + 10);
    if (get32(t + 12) != tag_check(out->seq, out->tag_len, out->pair)) {
        out->bad_offset = VC_NET_ETH_HLEN + 4;
        return out->kind = VC_NET_FRAME_CORRUPT;
    }
    for (uint32_t i = VC_NET_MIN_TAGGED; i < len && i < out->tag_len; i++) {
        if (frame[i] != pattern_byte(out->seq, i)) {
            out->bad_offset = i;
            return out->kind = VC_NET_FRAME_CORRUPT;
        }
    }
    if (out->tag_len != len) {
        /* Cut short, or padded beyond what was sent. */
        out->bad_offset = MIN(len, out->tag_len);
        return out->kind = VC_NET_FRAME_CORRUPT;
    }
    return out->kind = VC_NET_FRAME_OURS;
}

const char *
vc_net_frame_kind_name(VcNetFrameKind kind)
{
    switch (kind) {
    case VC_NET_FRAME_RUNT:
        return "runt";
    case VC_NET_FRAME_FOREIGN:
        return "foreign";
    case VC_NET_FRAME_OURS:
        return "ours";
    case VC_NET_FRAME_CORRUPT:
        return "corrupt";
    case VC_NET_FRAME_RARP:
        return "rarp";
    }
    return "?";
}

/* --- Driver set-up ------------------------------------------------------------------------ */

static void *
alloc_guest(VcFrontend *fe, uint64_t size, uint64_t *gpa, GError **error)
{
    void *p = vc_fe_alloc_buffer(fe, size, 64, gpa);

    if (!p) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                    "net: guest memory too small for the buffer pools");
    }
    return p;
}

static bool
rx_setup(VcNetDrv *d, VcNetQueue *q, GError **error)
{
    uint32_t len = d->cfg.rx_buf_len ? d->cfg.rx_buf_len : VC_NET_RX_BUF_LEN;

    if (d->cfg.rx_hdr_apart && len <= VC_NET_HDR_LEN) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                    "net: a receive buffer split after the header needs more than %u bytes",
                    VC_NET_HDR_LEN);
        return false;
    }
    q->n = MIN(d->cfg.rx_bufs ? d->cfg.rx_bufs : q->vq->num, q->vq->num);
    q->rxb = g_new0(VcNetRxBuf, q->n);
    for (unsigned i = 0; i < q->n; i++) {
        VcNetRxBuf *b = &q->rxb[i];
        if (d->cfg.rx_hdr_apart) {
            if (!alloc_guest(d->fe, VC_NET_HDR_LEN, &b->sg[0].gpa, error) ||
                !alloc_guest(d->fe, len - VC_NET_HDR_LEN, &b->sg[1].gpa, error)) {
                return false;
            }
            b->sg[0].len = VC_NET_HDR_LEN;
            b->sg[1].len = len - VC_NET_HDR_LEN;
            b->nsg = 2;
        } else {
            if (!alloc_guest(d->fe, len, &b->sg[0].gpa, error)) {
                return false;
            }
            b->sg[0].len = len;
            b->nsg = 1;
        }
        b->cap = len;
    }
    if (!d->cfg.fast) {
        q->scratch = g_malloc(VC_NET_MAX_SCRATCH);
    }
    return true;
}

static bool
tx_setup(VcNetDrv *d, VcNetQueue *q, GError **error)
{
    uint32_t max = d->cfg.tx_frame_max ? d->cfg.tx_frame_max : VC_NET_MAX_FRAME;
    uint32_t fast_len = d->cfg.fast_frame_len ? d->cfg.fast_frame_len : 64;

    if (max < VC_NET_MIN_TAGGED || max > UINT16_MAX ||
        (d->cfg.fast && (fast_len < VC_NET_MIN_TAGGED || fast_len > max))) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "net: bad transmit frame size");
        return false;
    }
    q->n = MIN(d->cfg.tx_bufs ? d->cfg.tx_bufs : q->vq->num, q->vq->num);
    q->txs = g_new0(VcNetTxSlot, q->n);
    for (unsigned i = 0; i < q->n; i++) {
        VcNetTxSlot *s = &q->txs[i];
        uint64_t gpa;
        uint8_t *p = alloc_guest(d->fe, VC_NET_HDR_LEN + max, &gpa, error);

        if (!p) {
            return false;
        }
        /* Header and frame are adjacent, so one descriptor or two cover the same bytes. */
        s->hdr = (struct virtio_net_hdr_v1 *)p;
        s->frame = p + VC_NET_HDR_LEN;
        vc_net_hdr_init_tx(s->hdr);
        if (d->cfg.tx_hdr_apart) {
            s->sg[0] = (VcSg){gpa, VC_NET_HDR_LEN};
            s->sg[1] = (VcSg){gpa + VC_NET_HDR_LEN, 0};
            s->nsg = 2;
        } else {
            s->sg[0] = (VcSg){gpa, VC_NET_HDR_LEN};
            s->nsg = 1;
        }
        if (d->cfg.fast) {
            /* The bench sends these frames as they are, over and over. */
            s->seq = i;
            s->frame_len = vc_net_frame_build(s->frame, fast_len, NULL, d->mac, (uint16_t)q->pair,
                                              s->seq);
            s->sg[s->nsg - 1].len += s->frame_len;
        }
    }
    return true;
}

VcNetDrv *
vc_net_new(VcFrontend *fe, unsigned first_pair, unsigned npairs, const VcNetConfig *cfg,
           GError **error)
{
    g_autoptr(VcNetDrv) d = NULL;

    if (npairs == 0 || npairs > VC_NET_MAX_PAIRS || 2 * (first_pair + npairs) > VC_FE_MAX_QUEUES) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "net: bad queue pair range");
        return NULL;
    }
    d = g_new0(VcNetDrv, 1);
    d->fe = fe;
    if (cfg) {
        d->cfg = *cfg;
    }
    d->features = fe->features;
    d->mrg = (fe->features & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
    d->first_pair = first_pair;
    d->npairs = npairs;
    memcpy(d->mac, our_mac, 6);
    for (unsigned i = 0; i < npairs; i++) {
        unsigned pair = first_pair + i;
        VcNetQueue *rq = &d->rxq[i], *tq = &d->txq[i];

        rq->pair = tq->pair = pair;
        rq->ring = 2 * pair;
        tq->ring = 2 * pair + 1;
        if (!d->cfg.no_rx) {
            rq->vq = fe->q[rq->ring].vq;
            if (!rq->vq) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "net: ring %u does not exist",
                            rq->ring);
                return NULL;
            }
            if (!rx_setup(d, rq, error)) {
                return NULL;
            }
        }
        if (!d->cfg.no_tx) {
            tq->vq = fe->q[tq->ring].vq;
            if (!tq->vq) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "net: ring %u does not exist",
                            tq->ring);
                return NULL;
            }
            if (!tx_setup(d, tq, error)) {
                return NULL;
            }
        }
    }
    return g_steal_pointer(&d);
}

void
vc_net_free(VcNetDrv *d)
{
    if (!d) {
        return;
    }
    for (unsigned i = 0; i < VC_NET_MAX_PAIRS; i++) {
        g_free(d->rxq[i].rxb);
        g_free(d->rxq[i].scratch);
        g_free(d->txq[i].txs);
    }
    g_free(d);
}

VcNetQueue *
vc_net_rxq(VcNetDrv *d, unsigned pair)
{
    if (pair < d->first_pair || pair >= d->first_pair + d->npairs) {
        return NULL;
    }
    return d->rxq[pair - d->first_pair].vq ? &d->rxq[pair - d->first_pair] : NULL;
}

VcNetQueue *
vc_net_txq(VcNetDrv *d, unsigned pair)
{
    if (pair < d->first_pair || pair >= d->first_pair + d->npairs) {
        return NULL;
    }
    return d->txq[pair - d->first_pair].vq ? &d->txq[pair - d->first_pair] : NULL;
}

/* --- Receive ------------------------------------------------------------------------------ */

unsigned
vc_net_rx_post(VcNetDrv *d, unsigned pair, unsigned count)
{
    VcNetQueue *q = vc_net_rxq(d, pair);
    unsigned added = 0;

    if (!q) {
        return 0;
    }
    for (unsigned tries = 0; tries < q->n && added < count; tries++) {
        VcNetRxBuf *b = &q->rxb[q->next];
        unsigned idx = q->next;

        q->next = (q->next + 1) % q->n;
        if (b->posted) {
            continue;
        }
        if (!d->cfg.fast) {
            for (unsigned s = 0; s < b->nsg; s++) {
                vc_gmem_fill(d->fe->gm, b->sg[s].gpa, b->sg[s].len, VC_GMEM_GUARD);
            }
        }
        if (vc_vq_add(q->vq, NULL, 0, b->sg, b->nsg, b, d->add_flags) < 0) {
            q->next = idx;
            break;
        }
        b->posted = true;
        added++;
    }
    if (added) {
        vc_vq_publish(q->vq);
    }
    return added;
}

/* Copies up to @n bytes of buffer @b from byte @off into @dst. Returns: bytes copied. */
static uint32_t
rx_copy(VcNetDrv *d, const VcNetRxBuf *b, uint32_t off, uint8_t *dst, uint32_t n)
{
    uint32_t done = 0;

    for (unsigned s = 0; s < b->nsg && done < n; s++) {
        uint64_t l = b->sg[s].len;
        const uint8_t *p;

        if (off >= l) {
            off -= (uint32_t)l;
            continue;
        }
        l -= off;
        p = vc_gmem_to_hva(d->fe->gm, b->sg[s].gpa + off, &l);
        if (!p) {
            break;
        }
        l = MIN(l, (uint64_t)(n - done));
        memcpy(dst + done, p, l);
        done += (uint32_t)l;
        off = 0;
    }
    return done;
}

static void G_GNUC_PRINTF(2, 3)
rx_fault(VcNetQueue *q, const char *fmt, ...)
{
    va_list ap;

    if (q->rx.first_fault[0]) {
        return;
    }
    va_start(ap, fmt);
    g_vsnprintf(q->rx.first_fault, sizeof(q->rx.first_fault), fmt, ap);
    va_end(ap);
}

/* A whole frame (all its buffers) has arrived: record it. */
static void
rx_frame_done(VcNetDrv *d, VcNetQueue *q)
{
    VcNetRxStats *st = &q->rx;
    uint32_t flen = q->merge_len > VC_NET_HDR_LEN ? q->merge_len - VC_NET_HDR_LEN : 0;
    unsigned faults;

    st->frames++;
    st->bytes += flen;
    if (q->merge_bufs > 1) {
        st->multi++;
    }
    st->max_num_buffers = MAX(st->max_num_buffers, q->merge_bufs);
    if (d->cfg.fast) {
        return;
    }
    if (st->min_len == 0 || flen < st->min_len) {
        st->min_len = flen;
    }
    st->max_len = MAX(st->max_len, flen);
    if (q->merge_len < VC_NET_HDR_LEN) {
        st->hdr_bad++;
        st->runts++;
        rx_fault(q, "frame %" G_GUINT64_FORMAT ": used.len %u is shorter than the %u-byte "
                 "virtio_net_hdr", st->frames, q->merge_len, VC_NET_HDR_LEN);
        return;
    }
    faults = vc_net_hdr_faults(&q->merge_hdr, d->features);
    if (faults) {
        char h[96];
        if (!st->hdr_bad) {
            st->first_bad_hdr = q->merge_hdr;
        }
        st->hdr_bad++;
        st->hdr_fault_mask |= faults;
        st->hdr_bad_flags += (faults & (VC_NET_HDR_FAULT_FLAGS | VC_NET_HDR_FAULT_GSO)) != 0;
        st->nb_zero += q->merge_hdr.num_buffers == 0;
        rx_fault(q, "frame %" G_GUINT64_FORMAT " (%u bytes, %u buffer(s)): bad virtio_net_hdr: "
                 "%s%s", st->frames, flen, q->merge_bufs,
                 vc_net_hdr_describe(&q->merge_hdr, h, sizeof(h)),
                 (faults & VC_NET_HDR_FAULT_NUM_BUFFERS) && !d->mrg
                     ? " (MRG_RXBUF not negotiated: num_buffers must be 1)" : "");
    }
    if (q->merge_broken) {
        st->merge_bad++;
    }
    if (flen < VC_NET_MIN_FRAME) {
        st->runts++;
        rx_fault(q, "frame %" G_GUINT64_FORMAT ": %u bytes after the header, shorter than the "
                 "60-byte Ethernet minimum", st->frames, flen);
    }
    if (flen + VC_NET_HDR_LEN > VC_NET_MAX_SCRATCH) {
        /* Too long to assemble: counted, not parsed. */
        st->foreign++;
        return;
    }

    VcNetFrameInfo fi;
    switch (vc_net_frame_parse(q->scratch + VC_NET_HDR_LEN, flen, &fi)) {
    case VC_NET_FRAME_OURS:
        st->ours++;
        st->last_seq = fi.seq;
        if (fi.pair != q->pair) {
            st->wrong_pair++;
        }
        break;
    case VC_NET_FRAME_CORRUPT:
        st->corrupt++;
        rx_fault(q, "frame %" G_GUINT64_FORMAT " (%u bytes over %u buffer(s)): one of ours "
                 "(seq %u, sent with %u bytes) differs from what was sent at byte %u",
                 st->frames, flen, q->merge_bufs, fi.seq, fi.tag_len, fi.bad_offset);
        break;
    case VC_NET_FRAME_RARP:
        st->rarp++;
        memcpy(st->rarp_mac, fi.rarp_mac, 6);
        break;
    case VC_NET_FRAME_RUNT:
    case VC_NET_FRAME_FOREIGN:
        st->foreign++;
        if (fi.ip_len && VC_NET_ETH_HLEN + fi.ip_len > flen) {
            /* IPv4 says the frame is longer than the device reported: data was cut. */
            st->corrupt++;
            rx_fault(q, "frame %" G_GUINT64_FORMAT ": an IPv4 frame of %u bytes (total length "
                     "%u) was delivered with only %u bytes", st->frames,
                     VC_NET_ETH_HLEN + fi.ip_len, fi.ip_len, flen);
        }
        break;
    }
}

/* One used receive buffer of @len bytes. */
static void
rx_used(VcNetDrv *d, VcNetQueue *q, VcNetRxBuf *b, uint32_t len)
{
    VcNetRxStats *st = &q->rx;

    if (len > b->cap) {
        st->over_cap++;
        rx_fault(q, "used.len %u exceeds the %u-byte receive buffer", len, b->cap);
        len = b->cap;
    }
    if (q->merge_left == 0) {
        /* The first buffer of a frame: it starts with the header. */
        uint16_t nb = 1;

        q->merge_len = 0;
        q->merge_bufs = 0;
        q->merge_broken = false;
        memset(&q->merge_hdr, 0, sizeof(q->merge_hdr));
        /* The bench without MRG_RXBUF needs nothing from the header. */
        if (len >= VC_NET_HDR_LEN && (d->mrg || !d->cfg.fast)) {
            if (rx_copy(d, b, 0, (uint8_t *)&q->merge_hdr, VC_NET_HDR_LEN) == VC_NET_HDR_LEN) {
                nb = le16toh(q->merge_hdr.num_buffers);
            }
        }
        if (d->mrg && nb > 1) {
            if (nb > q->n) {
                /* More buffers than were ever posted: no way to follow it. */
                q->merge_broken = true;
                rx_fault(q, "num_buffers %u but only %u receive buffers exist", nb, q->n);
                nb = 1;
            }
            q->merge_left = nb;
        } else {
            q->merge_left = 1;
        }
    } else if (len == 0) {
        q->merge_broken = true;
        rx_fault(q, "a merged frame continues into a buffer with used.len 0");
    }
    if (!d->cfg.fast) {
        uint32_t room = VC_NET_MAX_SCRATCH > q->merge_len ? VC_NET_MAX_SCRATCH - q->merge_len : 0;
        rx_copy(d, b, 0, q->scratch + q->merge_len, MIN(len, room));
    }
    q->merge_len += len;
    q->merge_bufs++;
    if (--q->merge_left == 0) {
        rx_frame_done(d, q);
    }
}

unsigned
vc_net_rx_reap(VcNetDrv *d, unsigned pair)
{
    VcNetQueue *q = vc_net_rxq(d, pair);
    unsigned n = 0;

    if (!q) {
        return 0;
    }
    for (;;) {
        void *token;
        uint32_t len, head;
        int r = vc_vq_pop_used(q->vq, &token, &len, &head);

        if (r == 0) {
            break;
        }
        n++;
        if (r < 0) {
            q->rx.bad_id++;
            continue;
        }
        VcNetRxBuf *b = token;
        b->posted = false;
        b->completions++;
        b->used_len = len;
        q->rx.used++;
        rx_used(d, q, b, len);
    }
    return n;
}

/* --- Transmit ----------------------------------------------------------------------------- */

unsigned
vc_net_tx_send(VcNetDrv *d, unsigned pair, unsigned count, uint32_t len)
{
    VcNetQueue *q = vc_net_txq(d, pair);
    uint32_t max = d->cfg.tx_frame_max ? d->cfg.tx_frame_max : VC_NET_MAX_FRAME;
    unsigned added = 0;

    if (!q || (!d->cfg.fast && (len < VC_NET_MIN_TAGGED || len > max))) {
        return 0;
    }
    for (unsigned tries = 0; tries < q->n && added < count; tries++) {
        VcNetTxSlot *s = &q->txs[q->next];
        unsigned idx = q->next;

        q->next = (q->next + 1) % q->n;
        if (s->posted) {
            continue;
        }
        if (!d->cfg.fast) {
            s->seq = d->next_seq;
            s->frame_len = vc_net_frame_build(s->frame, len, NULL, d->mac, (uint16_t)pair,
                                              s->seq);
            vc_net_hdr_init_tx(s->hdr);
            if (s->nsg == 2) {
                s->sg[1].len = s->frame_len;
            } else {
                s->sg[0].len = VC_NET_HDR_LEN + s->frame_len;
            }
        }
        if (vc_vq_add(q->vq, s->sg, s->nsg, NULL, 0, s, 0) < 0) {
            q->next = idx;
            break;
        }
        if (!d->cfg.fast) {
            d->next_seq++;
        }
        s->posted = true;
        added++;
    }
    if (added) {
        q->tx.sent += added;
        vc_vq_publish(q->vq);
    }
    return added;
}

unsigned
vc_net_tx_reap(VcNetDrv *d, unsigned pair)
{
    VcNetQueue *q = vc_net_txq(d, pair);
    unsigned n = 0;

    if (!q) {
        return 0;
    }
    for (;;) {
        void *token;
        uint32_t len, head;
        int r = vc_vq_pop_used(q->vq, &token, &len, &head);

        if (r == 0) {
            break;
        }
        n++;
        if (r < 0) {
            q->tx.bad_id++;
            continue;
        }
        VcNetTxSlot *s = token;
        s->posted = false;
        q->tx.completed++;
        q->tx.bytes += s->frame_len;
        if (len) {
            q->tx.len_nonzero++;
        }
    }
    return n;
}

/* --- Waiting and bookkeeping -------------------------------------------------------------- */

bool
vc_net_wait(VcNetDrv *d, unsigned pair, uint64_t rx_frames, uint64_t tx_done, int timeout_ms)
{
    VcNetQueue *rq = vc_net_rxq(d, pair), *tq = vc_net_txq(d, pair);
    uint64_t rx0 = rq ? rq->rx.frames : 0, tx0 = tq ? tq->tx.completed : 0;
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;

    for (;;) {
        struct pollfd p[2];
        nfds_t np = 0;

        vc_net_rx_reap(d, pair);
        vc_net_tx_reap(d, pair);
        if ((rq ? rq->rx.frames : 0) - rx0 >= rx_frames &&
            (tq ? tq->tx.completed : 0) - tx0 >= tx_done) {
            return true;
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return false;
        }
        if (rx_frames && rq && rq->vq->call_fd >= 0) {
            p[np++] = (struct pollfd){.fd = rq->vq->call_fd, .events = POLLIN};
        }
        if (tx_done && tq && tq->vq->call_fd >= 0) {
            p[np++] = (struct pollfd){.fd = tq->vq->call_fd, .events = POLLIN};
        }
        if (np) {
            /* Calls may be suppressed: look at the used rings every few ms anyway. */
            if (poll(p, np, (int)MIN(left, 10)) > 0) {
                if (rq) {
                    vc_vq_take_call(rq->vq);
                }
                if (tq) {
                    vc_vq_take_call(tq->vq);
                }
            }
        } else {
            g_usleep(200);
        }
        vc_fe_service(d->fe, 0);
    }
}

unsigned
vc_net_rx_in_flight(const VcNetDrv *d, unsigned pair)
{
    const VcNetQueue *q = vc_net_rxq((VcNetDrv *)d, pair);
    unsigned n = 0;

    for (unsigned i = 0; q && i < q->n; i++) {
        n += q->rxb[i].posted;
    }
    return n;
}

unsigned
vc_net_tx_in_flight(const VcNetDrv *d, unsigned pair)
{
    const VcNetQueue *q = vc_net_txq((VcNetDrv *)d, pair);
    unsigned n = 0;

    for (unsigned i = 0; q && i < q->n; i++) {
        n += q->txs[i].posted;
    }
    return n;
}

static bool
buf_written(const VcNetDrv *d, const VcNetRxBuf *b)
{
    for (unsigned s = 0; s < b->nsg; s++) {
        uint64_t l = b->sg[s].len;
        const uint8_t *p = vc_gmem_to_hva(d->fe->gm, b->sg[s].gpa, &l);
        for (uint64_t k = 0; p && k < l; k++) {
            if (p[k] != VC_GMEM_GUARD) {
                return true;
            }
        }
    }
    return false;
}

unsigned
vc_net_rx_touched(const VcNetDrv *d, unsigned pair)
{
    const VcNetQueue *q = vc_net_rxq((VcNetDrv *)d, pair);
    unsigned n = 0;

    if (d->cfg.fast) {
        return 0;
    }
    for (unsigned i = 0; q && i < q->n; i++) {
        n += q->rxb[i].posted && buf_written(d, &q->rxb[i]);
    }
    return n;
}

void
vc_net_skip_ranges(const VcNetDrv *d, GArray *out)
{
    uint32_t max = d->cfg.tx_frame_max ? d->cfg.tx_frame_max : VC_NET_MAX_FRAME;

    for (unsigned i = 0; i < d->npairs; i++) {
        const VcNetQueue *rq = &d->rxq[i], *tq = &d->txq[i];
        VcRange ring[4];

        if (rq->vq) {
            g_array_append_vals(out, ring, vc_vq_ranges(rq->vq, ring));
            for (unsigned k = 0; k < rq->n; k++) {
                for (unsigned s = 0; s < rq->rxb[k].nsg; s++) {
                    VcRange r = {rq->rxb[k].sg[s].gpa, rq->rxb[k].sg[s].len};
                    g_array_append_val(out, r);
                }
            }
        }
        if (tq->vq) {
            g_array_append_vals(out, ring, vc_vq_ranges(tq->vq, ring));
            for (unsigned k = 0; k < tq->n; k++) {
                VcRange r = {tq->txs[k].sg[0].gpa, VC_NET_HDR_LEN + max};
                g_array_append_val(out, r);
            }
        }
    }
}

void
vc_net_rx_forget(VcNetDrv *d, unsigned pair)
{
    VcNetQueue *q = vc_net_rxq(d, pair);

    for (unsigned i = 0; q && i < q->n; i++) {
        q->rxb[i].posted = false;
    }
    if (q) {
        q->merge_left = 0;
    }
}

void
vc_net_tx_forget(VcNetDrv *d, unsigned pair)
{
    VcNetQueue *q = vc_net_txq(d, pair);

    for (unsigned i = 0; q && i < q->n; i++) {
        q->txs[i].posted = false;
    }
}

/* --- Generic traffic (vc-traffic.h) ------------------------------------------------------- */

typedef struct NetTraffic {
    VcNetDrv *d;
    unsigned pair;
    uint64_t poison;
    char why[256];
} NetTraffic;

/* The frames fed to the transmit ring so that a loopback back end has something to return. */
#define FEED_LEN 64u

static void *
net_t_create(VcFrontend *fe, unsigned q, unsigned n, GError **error)
{
    VcNetConfig cfg = {.rx_bufs = n, .tx_bufs = n, .tx_frame_max = FEED_LEN};
    NetTraffic *t;
    VcNetDrv *d;

    if (q % 2) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                    "net traffic runs on a receive ring (even index), not ring %u", q);
        return NULL;
    }
    cfg.no_tx = q + 1 >= VC_FE_MAX_QUEUES || !fe->q[q + 1].vq;
    d = vc_net_new(fe, q / 2, 1, &cfg, error);
    if (!d) {
        return NULL;
    }
    t = g_new0(NetTraffic, 1);
    t->d = d;
    t->pair = q / 2;
    return t;
}

static void
net_t_destroy(void *p)
{
    NetTraffic *t = p;

    vc_net_free(t->d);
    g_free(t);
}

/* Keeps as many frames on their way as receive buffers wait for one. */
static void
net_t_feed(NetTraffic *t)
{
    VcNetQueue *tq = vc_net_txq(t->d, t->pair);
    unsigned waiting, flying;

    if (!tq) {
        return;
    }
    vc_net_tx_reap(t->d, t->pair);
    waiting = vc_net_rx_in_flight(t->d, t->pair);
    flying = vc_net_tx_in_flight(t->d, t->pair);
    if (waiting > flying && vc_net_tx_send(t->d, t->pair, waiting - flying, FEED_LEN)) {
        vc_vq_notify(tq->vq);
    }
}

static unsigned
net_t_post(void *p, unsigned count)
{
    NetTraffic *t = p;
    VcNetQueue *q = vc_net_rxq(t->d, t->pair);

    if (t->poison && count) {
        /* The next idle buffer gets the bad address; it is never expected back. */
        for (unsigned k = 0; k < q->n; k++) {
            VcNetRxBuf *b = &q->rxb[(q->next + k) % q->n];
            if (!b->posted) {
                b->sg[0].gpa = t->poison;
                break;
            }
        }
        t->poison = 0;
    }
    count = vc_net_rx_post(t->d, t->pair, count);
    net_t_feed(t);
    return count;
}

static unsigned
net_t_reap(void *p)
{
    NetTraffic *t = p;
    unsigned n = vc_net_rx_reap(t->d, t->pair);

    net_t_feed(t);
    return n;
}

static unsigned
net_t_in_flight(void *p)
{
    NetTraffic *t = p;

    return vc_net_rx_in_flight(t->d, t->pair);
}

static unsigned
net_t_touched(void *p)
{
    NetTraffic *t = p;

    return vc_net_rx_touched(t->d, t->pair);
}

static void
net_t_skip_ranges(void *p, GArray *out)
{
    vc_net_skip_ranges(((NetTraffic *)p)->d, out);
}

static const char *
net_t_verify(void *p)
{
    NetTraffic *t = p;
    VcNetQueue *q = vc_net_rxq(t->d, t->pair);

    char h[96];

    /* The header rules generic traffic judges: flags, gso_type, num_buffers >= 1. */
    if (q->rx.hdr_bad_flags || q->rx.nb_zero) {
        g_snprintf(t->why, sizeof(t->why), "receiveq%u: a bad virtio_net_hdr (%s)", t->pair + 1,
                   vc_net_hdr_describe(&q->rx.first_bad_hdr, h, sizeof(h)));
        return t->why;
    }
    if (q->rx.over_cap || q->rx.merge_bad || q->rx.corrupt) {
        g_snprintf(t->why, sizeof(t->why), "receiveq%u: %s", t->pair + 1, q->rx.first_fault);
        return t->why;
    }
    for (unsigned i = 0; i < q->n; i++) {
        const VcNetRxBuf *b = &q->rxb[i];
        if (b->completions && !t->d->mrg && b->used_len < VC_NET_HDR_LEN + VC_NET_MIN_FRAME) {
            g_snprintf(t->why, sizeof(t->why), "receiveq%u buffer %u: used.len %u, shorter than "
                       "the header and a 60-byte frame", t->pair + 1, i, b->used_len);
            return t->why;
        }
    }
    if (q->rx.runts) {
        g_snprintf(t->why, sizeof(t->why), "receiveq%u: %s", t->pair + 1, q->rx.first_fault);
        return t->why;
    }
    return NULL;
}

static bool
net_t_relocate(void *p, unsigned region, GError **error)
{
    NetTraffic *t = p;
    VcNetQueue *q = vc_net_rxq(t->d, t->pair);

    for (unsigned i = 0; i < q->n; i++) {
        VcNetRxBuf *b = &q->rxb[i];
        for (unsigned s = 0; !b->posted && s < b->nsg; s++) {
            /* The old buffer is given back clean, so a guard scan does not see our data. */
            vc_gmem_fill(t->d->fe->gm, b->sg[s].gpa, b->sg[s].len, VC_GMEM_GUARD);
            if (!vc_gmem_alloc_in(t->d->fe->gm, region, b->sg[s].len, 64, &b->sg[s].gpa)) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                            "net: region %u has no room for the receive buffers", region);
                return false;
            }
        }
    }
    return true;
}

static void
net_t_poison_next(void *p, uint64_t gpa)
{
    ((NetTraffic *)p)->poison = gpa;
}

static unsigned
net_t_bad_ids(void *p)
{
    NetTraffic *t = p;

    return (unsigned)vc_net_rxq(t->d, t->pair)->rx.bad_id;
}

static bool
net_t_set_indirect(void *p, bool on)
{
    NetTraffic *t = p;

    if (on && !(vc_net_rxq(t->d, t->pair)->vq->flags & VC_VQ_INDIRECT)) {
        return false;
    }
    t->d->add_flags = on ? VC_ADD_INDIRECT : 0;
    return true;
}

/*
 * The receive ring was set up again (vc_chk_restart_ring()). Its transmit
 * companion feeds it, so it is set up again too, as QEMU starts a pair's
 * rings together: stopped where it stands, then NUM, BASE, ADDR, KICK, CALL
 * and ENABLE. Failures are left for the check to see (nothing completes).
 */
static void
net_t_forget(void *p)
{
    NetTraffic *t = p;
    VcNetQueue *tq = vc_net_txq(t->d, t->pair);
    VcFrontend *fe = t->d->fe;
    g_autoptr(GError) err = NULL;
    uint32_t base;

    vc_net_rx_forget(t->d, t->pair);
    if (!tq || fe->broken || !vc_fe_get_vring_base(fe, tq->ring, &base, &err) ||
        vc_vq_reset_base(tq->vq, base) < 0) {
        return;
    }
    vc_net_tx_forget(t->d, t->pair);
    if (vc_fe_set_vring_call(fe, tq->ring, &err) && vc_fe_set_vring_num(fe, tq->ring, &err) &&
        vc_fe_set_vring_base(fe, tq->ring, vc_vq_base(tq->vq), &err) &&
        vc_fe_set_vring_addr(fe, tq->ring, &err) && vc_fe_set_vring_kick(fe, tq->ring, &err) &&
        vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES)) {
        vc_fe_set_vring_enable(fe, tq->ring, true, &err);
    }
}

const VcTrafficOps vc_net_traffic_ops = {
    .device = "net",
    .queue = 0,
    .needs_source = true,
    .queue_stride = 2,
    .create = net_t_create,
    .destroy = net_t_destroy,
    .post = net_t_post,
    .reap = net_t_reap,
    .in_flight = net_t_in_flight,
    .touched = net_t_touched,
    .skip_ranges = net_t_skip_ranges,
    .verify = net_t_verify,
    .relocate = net_t_relocate,
    .poison_next = net_t_poison_next,
    .bad_ids = net_t_bad_ids,
    .set_indirect = net_t_set_indirect,
    .forget = net_t_forget,
};
