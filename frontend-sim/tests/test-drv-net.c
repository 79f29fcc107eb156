/*
 * test-drv-net.c -- the virtio-net driver side: header rules, the frame
 * builder and parser, and receive assembly (merged buffers, num_buffers)
 * against a tiny in-test device that fills receive chains and consumes
 * transmit chains straight in guest memory, as a back end would.
 */
#include <endian.h>
#include <string.h>
#include <unistd.h>

#include "vc-drv-net.h"
#include "vc-error.h"
#include "vc-test-util.h"

#define F(b) (1ull << (b))

static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};

/* --- Headers ---------------------------------------------------------------------------- */

typedef struct HdrCase {
    uint8_t flags, gso_type;
    uint16_t num_buffers;
    uint64_t features;
    unsigned want;
} HdrCase;

static const HdrCase hdr_cases[] = {
    {0, 0, 1, 0, 0},
    {VIRTIO_NET_HDR_F_DATA_VALID, 0, 1, 0, VC_NET_HDR_FAULT_FLAGS},
    {VIRTIO_NET_HDR_F_DATA_VALID, 0, 1, F(VIRTIO_NET_F_GUEST_CSUM), 0},
    {VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 1, F(VIRTIO_NET_F_GUEST_CSUM), 0},
    {VIRTIO_NET_HDR_F_RSC_INFO, 0, 1, F(VIRTIO_NET_F_GUEST_CSUM), VC_NET_HDR_FAULT_FLAGS},
    {0x08, 0, 1, F(VIRTIO_NET_F_GUEST_CSUM), VC_NET_HDR_FAULT_FLAGS},
    {0, VIRTIO_NET_HDR_GSO_TCPV4, 1, 0, VC_NET_HDR_FAULT_GSO},
    {0, VIRTIO_NET_HDR_GSO_TCPV4, 1, F(VIRTIO_NET_F_GUEST_TSO4), 0},
    {0, VIRTIO_NET_HDR_GSO_TCPV6, 1, F(VIRTIO_NET_F_GUEST_TSO4), VC_NET_HDR_FAULT_GSO},
    {0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1, F(VIRTIO_NET_F_GUEST_TSO4),
     VC_NET_HDR_FAULT_GSO},
    {0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1,
     F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_ECN), 0},
    {0, 2, 1, F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_UFO), VC_NET_HDR_FAULT_GSO},
    {0, 0, 0, 0, VC_NET_HDR_FAULT_NUM_BUFFERS},
    {0, 0, 0, F(VIRTIO_NET_F_MRG_RXBUF), VC_NET_HDR_FAULT_NUM_BUFFERS},
    {0, 0, 2, 0, VC_NET_HDR_FAULT_NUM_BUFFERS},
    {0, 0, 2, F(VIRTIO_NET_F_MRG_RXBUF), 0},
    {0, 0, 0xa5a5, 0, VC_NET_HDR_FAULT_NUM_BUFFERS},
    {0x80, 0x80, 0, 0,
     VC_NET_HDR_FAULT_FLAGS | VC_NET_HDR_FAULT_GSO | VC_NET_HDR_FAULT_NUM_BUFFERS},
};

START_TEST(hdr_rules)
{
    const HdrCase *c = &hdr_cases[_i];
    struct virtio_net_hdr_v1 h = {0};

    h.flags = c->flags;
    h.gso_type = c->gso_type;
    h.num_buffers = htole16(c->num_buffers);
    ck_assert_uint_eq(vc_net_hdr_faults(&h, c->features), c->want);
}
END_TEST

START_TEST(hdr_tx_is_zero)
{
    struct virtio_net_hdr_v1 h;
    static const struct virtio_net_hdr_v1 zero;

    memset(&h, 0xff, sizeof(h));
    vc_net_hdr_init_tx(&h);
    ck_assert_mem_eq(&h, &zero, sizeof(h));
    ck_assert_uint_eq(sizeof(h), VC_NET_HDR_LEN);
}
END_TEST

/* --- Frames ----------------------------------------------------------------------------- */

static const uint32_t frame_lens[] = {VC_NET_MIN_TAGGED, 60, 64, 65, 128, 1514, 9000, 65535};

START_TEST(frame_round_trip)
{
    uint32_t len = frame_lens[_i];
    g_autofree uint8_t *f = g_malloc(len);
    VcNetFrameInfo fi;

    ck_assert_uint_eq(vc_net_frame_build(f, len, NULL, mac, 3, 0xdeadbeef), len);
    ck_assert_int_eq(vc_net_frame_parse(f, len, &fi), VC_NET_FRAME_OURS);
    ck_assert_uint_eq(fi.seq, 0xdeadbeef);
    ck_assert_uint_eq(fi.pair, 3);
    ck_assert_uint_eq(fi.tag_len, len);
    ck_assert_uint_eq(fi.ethertype, VC_NET_ETHERTYPE);
    ck_assert_mem_eq(fi.src, mac, 6);
    ck_assert_uint_eq(fi.dst[0], 0xff);
    ck_assert(vc_net_frame_set_seq(f, len, 7));
    ck_assert_int_eq(vc_net_frame_parse(f, len, &fi), VC_NET_FRAME_OURS);
    ck_assert_uint_eq(fi.seq, 7);
}
END_TEST

START_TEST(frame_build_limits)
{
    uint8_t f[64];

    ck_assert_uint_eq(vc_net_frame_build(f, VC_NET_MIN_TAGGED - 1, NULL, mac, 0, 0), 0);
    ck_assert_uint_eq(vc_net_frame_build(f, 65536, NULL, mac, 0, 0), 0);
    memset(f, 0, sizeof(f));
    ck_assert(!vc_net_frame_set_seq(f, sizeof(f), 1));
}
END_TEST

/* Every single-byte change after the Ethernet addresses is noticed. */
START_TEST(frame_corruption_found)
{
    uint8_t f[128];
    VcNetFrameInfo fi;

    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 99);
    for (uint32_t i = 12; i < sizeof(f); i++) {
        f[i] ^= 0x01;
        VcNetFrameKind k = vc_net_frame_parse(f, sizeof(f), &fi);
        if (i < 14) {
            /* The ethertype itself: no longer ours at all. */
            ck_assert_int_eq(k, VC_NET_FRAME_FOREIGN);
        } else {
            ck_assert_msg(k == VC_NET_FRAME_CORRUPT, "byte %u flipped: kind %s", i,
                          vc_net_frame_kind_name(k));
        }
        if (i >= VC_NET_MIN_TAGGED) {
            ck_assert_uint_eq(fi.bad_offset, i);
        }
        f[i] ^= 0x01;
    }
    ck_assert_int_eq(vc_net_frame_parse(f, sizeof(f), &fi), VC_NET_FRAME_OURS);
}
END_TEST

START_TEST(frame_length_mismatch)
{
    uint8_t f[200];
    VcNetFrameInfo fi;

    vc_net_frame_build(f, 100, NULL, mac, 1, 5);
    /* Cut short by the device. */
    ck_assert_int_eq(vc_net_frame_parse(f, 99, &fi), VC_NET_FRAME_CORRUPT);
    ck_assert_uint_eq(fi.bad_offset, 99);
    /* Or padded: more bytes than were sent. */
    memset(f + 100, 0, 100);
    ck_assert_int_eq(vc_net_frame_parse(f, 104, &fi), VC_NET_FRAME_CORRUPT);
    ck_assert_uint_eq(fi.bad_offset, 100);
}
END_TEST

START_TEST(frame_kinds)
{
    uint8_t f[64] = {0};
    VcNetFrameInfo fi;

    ck_assert_int_eq(vc_net_frame_parse(f, 13, &fi), VC_NET_FRAME_RUNT);
    /* IPv4 with total length 50: testpmd's 64-byte txonly frame. */
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 50;
    ck_assert_int_eq(vc_net_frame_parse(f, 64, &fi), VC_NET_FRAME_FOREIGN);
    ck_assert_uint_eq(fi.ip_len, 50);
    /* RARP (RFC 903): htype 1, ptype 0x0800, hlen 6, plen 4, op 3, target MAC at 18. */
    memset(f, 0, sizeof(f));
    f[12] = 0x80;
    f[13] = 0x35;
    f[15] = 1;
    f[16] = 0x08;
    f[18] = 6;
    f[19] = 4;
    f[21] = 3;
    memcpy(f + 14 + 18, mac, 6);
    ck_assert_int_eq(vc_net_frame_parse(f, 60, &fi), VC_NET_FRAME_RARP);
    ck_assert_mem_eq(fi.rarp_mac, mac, 6);
    /* A RARP frame too short for its body is not taken as one. */
    ck_assert_int_eq(vc_net_frame_parse(f, 30, &fi), VC_NET_FRAME_FOREIGN);
}
END_TEST

/* --- Driver against an in-test device ------------------------------------------------------ */

typedef struct Rig {
    int sv[2];
    VcFrontend *fe;
    VcNetDrv *d;
    uint16_t last_avail[2];
    uint16_t used_idx[2];
} Rig;

static void
rig_up(Rig *r, uint64_t features, const VcNetConfig *ncfg)
{
    VcFeConfig cfg = {.num_queues = 2, .ring_size = 64, .mem_layout = VC_MEM_SIMPLE,
                      .mem_size = 4u << 20, .device = "net"};
    g_autoptr(GError) err = NULL;

    memset(r, 0, sizeof(*r));
    vc_test_socketpair(r->sv);
    r->fe = vc_fe_new(r->sv[0], &cfg);
    ck_assert(vc_fe_setup_memory(r->fe, &err));
    ck_assert(vc_fe_create_queue(r->fe, 0, &err));
    ck_assert(vc_fe_create_queue(r->fe, 1, &err));
    r->fe->features = features | F(32);
    r->d = vc_net_new(r->fe, 0, 1, ncfg, &err);
    ck_assert_msg(r->d != NULL, "%s", err ? err->message : "");
}

static void
rig_down(Rig *r)
{
    vc_net_free(r->d);
    vc_fe_free(r->fe);
    close(r->sv[1]);
}

/* The device takes the next available chain of ring @q: its descriptors, flattened. */
static unsigned
dev_pop(Rig *r, unsigned q, struct vring_desc *out, unsigned max, uint16_t *head)
{
    VcVq *vq = r->fe->q[q].vq;
    unsigned n = 0;

    if (le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE)) == r->last_avail[q]) {
        return 0;
    }
    *head = le16toh(vq->avail->ring[r->last_avail[q]++ % vq->num]);
    for (uint16_t i = *head;; i = le16toh(vq->desc[i].next)) {
        ck_assert_uint_lt(n, max);
        out[n++] = vq->desc[i];
        if (!(le16toh(vq->desc[i].flags) & VRING_DESC_F_NEXT)) {
            break;
        }
    }
    return n;
}

static void
dev_push(Rig *r, unsigned q, uint16_t head, uint32_t len)
{
    VcVq *vq = r->fe->q[q].vq;
    struct vring_used_elem *e = &vq->used->ring[r->used_idx[q] % vq->num];

    e->id = htole32(head);
    e->len = htole32(len);
    r->used_idx[q]++;
    __atomic_store_n(&vq->used->idx, htole16(r->used_idx[q]), __ATOMIC_RELEASE);
}

/* Writes @len bytes into a chain's writable descriptors. Returns: bytes written. */
static uint32_t
dev_write(Rig *r, const struct vring_desc *d, unsigned n, const uint8_t *src, uint32_t len)
{
    uint32_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        uint32_t l = MIN(le32toh(d[i].len), len - done);
        uint8_t *p = vc_gmem_to_hva(r->fe->gm, le64toh(d[i].addr), NULL);
        ck_assert(le16toh(d[i].flags) & VRING_DESC_F_WRITE);
        ck_assert(p != NULL);
        memcpy(p, src + done, l);
        done += l;
    }
    return done;
}

/*
 * The device delivers @flen bytes of frame @f over as many receive buffers
 * as needed, claiming @claim buffers in num_buffers (0: the truth).
 * Returns: buffers used.
 */
static unsigned
dev_deliver(Rig *r, const uint8_t *f, uint32_t flen, uint16_t claim, bool set_nb)
{
    uint8_t pkt[VC_NET_HDR_LEN + 2048];
    struct virtio_net_hdr_v1 *h = (void *)pkt;
    uint32_t total = VC_NET_HDR_LEN + flen, off = 0;
    unsigned bufs = 0;

    memset(h, 0, sizeof(*h));
    memcpy(pkt + VC_NET_HDR_LEN, f, flen);
    while (off < total) {
        struct vring_desc d[4];
        uint16_t head;
        unsigned n = dev_pop(r, 0, d, 4, &head);
        uint32_t w;
        ck_assert_uint_gt(n, 0);
        if (bufs == 0 && !set_nb) {
            /* Like DPDK without MRG_RXBUF: num_buffers is left as guest memory had it. */
            const uint8_t *p = vc_gmem_to_hva(r->fe->gm, le64toh(d[0].addr), NULL);
            ck_assert_uint_ge(le32toh(d[0].len), VC_NET_HDR_LEN);
            memcpy(&h->num_buffers, p + 10, 2);
        }
        if (bufs == 0 && set_nb) {
            /* num_buffers is known once every buffer is counted: written first, here. */
            uint32_t cap = 0;
            for (unsigned i = 0; i < n; i++) {
                cap += le32toh(d[i].len);
            }
            h->num_buffers = htole16(claim ? claim : (uint16_t)((total + cap - 1) / cap));
        }
        w = dev_write(r, d, n, pkt + off, total - off);
        off += w;
        dev_push(r, 0, head, w);
        bufs++;
    }
    return bufs;
}

START_TEST(rx_merged_frame)
{
    VcNetConfig ncfg = {.rx_buf_len = VC_NET_HDR_LEN + 40};
    uint8_t f[300];
    Rig r;

    rig_up(&r, F(VIRTIO_NET_F_MRG_RXBUF), &ncfg);
    ck_assert_uint_eq(vc_net_rx_post(r.d, 0, 64), 64);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 1);
    ck_assert_uint_eq(dev_deliver(&r, f, sizeof(f), 0, true), 6);
    vc_net_frame_build(f, 64, NULL, mac, 0, 2);
    ck_assert_uint_eq(dev_deliver(&r, f, 64, 0, true), 2);
    ck_assert_uint_eq(vc_net_rx_reap(r.d, 0), 8);

    const VcNetRxStats *st = &vc_net_rxq(r.d, 0)->rx;
    ck_assert_uint_eq(st->frames, 2);
    ck_assert_uint_eq(st->ours, 2);
    ck_assert_uint_eq(st->multi, 2);
    ck_assert_uint_eq(st->max_num_buffers, 6);
    ck_assert_uint_eq(st->hdr_bad + st->corrupt + st->merge_bad + st->over_cap, 0);
    ck_assert_uint_eq(st->min_len, 64);
    ck_assert_uint_eq(st->max_len, 300);
    ck_assert_str_eq(st->first_fault, "");
    rig_down(&r);
}
END_TEST

/* num_buffers one too high: the next frame's first buffer is taken in, and that shows. */
START_TEST(rx_num_buffers_overstated)
{
    VcNetConfig ncfg = {.rx_buf_len = VC_NET_HDR_LEN + 40};
    uint8_t f[100];
    Rig r;

    rig_up(&r, F(VIRTIO_NET_F_MRG_RXBUF), &ncfg);
    vc_net_rx_post(r.d, 0, 64);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 1);
    dev_deliver(&r, f, sizeof(f), 4, true);
    dev_deliver(&r, f, sizeof(f), 0, true);
    dev_deliver(&r, f, sizeof(f), 0, true);
    vc_net_rx_reap(r.d, 0);

    const VcNetRxStats *st = &vc_net_rxq(r.d, 0)->rx;
    ck_assert_uint_ge(st->corrupt + st->hdr_bad, 1);
    ck_assert_str_ne(st->first_fault, "");
    rig_down(&r);
}
END_TEST

/* Without MRG_RXBUF a device that leaves num_buffers alone leaves the guard there. */
START_TEST(rx_num_buffers_unset)
{
    VcNetConfig ncfg = {.rx_hdr_apart = true};
    uint8_t f[64];
    Rig r;

    rig_up(&r, 0, &ncfg);
    vc_net_rx_post(r.d, 0, 8);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 1);
    dev_deliver(&r, f, sizeof(f), 0, false);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 2);
    dev_deliver(&r, f, sizeof(f), 1, true);
    vc_net_rx_reap(r.d, 0);

    const VcNetRxStats *st = &vc_net_rxq(r.d, 0)->rx;
    ck_assert_uint_eq(st->frames, 2);
    ck_assert_uint_eq(st->ours, 2);
    ck_assert_uint_eq(st->hdr_bad, 1);
    ck_assert_uint_eq(st->hdr_fault_mask, VC_NET_HDR_FAULT_NUM_BUFFERS);
    ck_assert_uint_eq(le16toh(st->first_bad_hdr.num_buffers), 0xa5a5);
    ck_assert_ptr_nonnull(strstr(st->first_fault, "num_buffers 42405"));
    rig_down(&r);
}
END_TEST

START_TEST(rx_over_capacity)
{
    uint8_t f[64];
    struct vring_desc d[4];
    uint16_t head;
    Rig r;

    rig_up(&r, F(VIRTIO_NET_F_MRG_RXBUF), NULL);
    vc_net_rx_post(r.d, 0, 1);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 1);
    ck_assert_uint_eq(dev_pop(&r, 0, d, 4, &head), 1);
    dev_push(&r, 0, head, le32toh(d[0].len) + 1);
    vc_net_rx_reap(r.d, 0);
    ck_assert_uint_eq(vc_net_rxq(r.d, 0)->rx.over_cap, 1);
    rig_down(&r);
}
END_TEST

START_TEST(tx_frames_as_built)
{
    Rig r;
    struct vring_desc d[4];
    uint16_t head;
    unsigned n, got = 0;

    rig_up(&r, 0, &(VcNetConfig){.tx_hdr_apart = (_i == 1)});
    ck_assert_uint_eq(vc_net_tx_send(r.d, 0, 5, 77), 5);
    while ((n = dev_pop(&r, 1, d, 4, &head))) {
        uint8_t buf[VC_NET_HDR_LEN + 2048];
        uint32_t len = 0;
        VcNetFrameInfo fi;
        static const struct virtio_net_hdr_v1 zero;

        ck_assert_uint_eq(n, _i == 1 ? 2 : 1);
        for (unsigned i = 0; i < n; i++) {
            ck_assert(!(le16toh(d[i].flags) & VRING_DESC_F_WRITE));
            memcpy(buf + len, vc_gmem_to_hva(r.fe->gm, le64toh(d[i].addr), NULL),
                   le32toh(d[i].len));
            len += le32toh(d[i].len);
        }
        ck_assert_uint_eq(len, VC_NET_HDR_LEN + 77);
        ck_assert_mem_eq(buf, &zero, VC_NET_HDR_LEN);
        ck_assert_int_eq(vc_net_frame_parse(buf + VC_NET_HDR_LEN, 77, &fi), VC_NET_FRAME_OURS);
        ck_assert_uint_eq(fi.seq, got);
        dev_push(&r, 1, head, 0);
        got++;
    }
    ck_assert_uint_eq(got, 5);
    ck_assert_uint_eq(vc_net_tx_reap(r.d, 0), 5);
    ck_assert_uint_eq(vc_net_txq(r.d, 0)->tx.completed, 5);
    ck_assert_uint_eq(vc_net_tx_in_flight(r.d, 0), 0);
    /* Out-of-range sizes are refused, nothing is posted. */
    ck_assert_uint_eq(vc_net_tx_send(r.d, 0, 1, VC_NET_MIN_TAGGED - 1), 0);
    ck_assert_uint_eq(vc_net_tx_send(r.d, 0, 1, VC_NET_MAX_FRAME + 1), 0);
    rig_down(&r);
}
END_TEST

/* The bench: frames built once, receive buffers counted, nothing parsed. */
START_TEST(fast_mode_counts)
{
    VcNetConfig ncfg = {.fast = true, .fast_frame_len = 64};
    uint8_t f[64];
    struct vring_desc d[4];
    uint16_t head;
    Rig r;

    rig_up(&r, 0, &ncfg);
    ck_assert_uint_eq(vc_net_tx_send(r.d, 0, 64, 0), 64);
    ck_assert_uint_eq(dev_pop(&r, 1, d, 4, &head), 1);
    ck_assert_uint_eq(le32toh(d[0].len), VC_NET_HDR_LEN + 64);
    vc_net_rx_post(r.d, 0, 4);
    vc_net_frame_build(f, sizeof(f), NULL, mac, 0, 1);
    dev_deliver(&r, f, sizeof(f), 1, true);
    dev_deliver(&r, f, sizeof(f), 1, true);
    vc_net_rx_reap(r.d, 0);
    ck_assert_uint_eq(vc_net_rxq(r.d, 0)->rx.frames, 2);
    ck_assert_uint_eq(vc_net_rxq(r.d, 0)->rx.bytes, 128);
    ck_assert_uint_eq(vc_net_rxq(r.d, 0)->rx.ours, 0);
    ck_assert_uint_eq(vc_net_rx_touched(r.d, 0), 0);
    rig_down(&r);
}
END_TEST

START_TEST(bad_shapes_refused)
{
    VcFeConfig cfg = {.num_queues = 1, .mem_layout = VC_MEM_SIMPLE, .device = "net"};
    g_autoptr(GError) err = NULL;
    int sv[2];
    VcFrontend *fe;

    vc_test_socketpair(sv);
    fe = vc_fe_new(sv[0], &cfg);
    ck_assert(vc_fe_setup_memory(fe, &err));
    ck_assert(vc_fe_create_queue(fe, 0, &err));
    /* Ring 1 (transmitq1) does not exist. */
    ck_assert_ptr_null(vc_net_new(fe, 0, 1, NULL, &err));
    ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_USAGE));
    g_clear_error(&err);
    ck_assert_ptr_null(vc_net_new(fe, 0, 0, NULL, &err));
    g_clear_error(&err);
    ck_assert_ptr_null(vc_net_new(fe, 0, 1, &(VcNetConfig){.no_tx = true, .rx_hdr_apart = true,
                                                           .rx_buf_len = 12}, &err));
    g_clear_error(&err);
    VcNetDrv *d = vc_net_new(fe, 0, 1, &(VcNetConfig){.no_tx = true}, &err);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_null(vc_net_txq(d, 0));
    ck_assert_ptr_null(vc_net_rxq(d, 1));
    ck_assert_uint_eq(vc_net_tx_send(d, 0, 1, 64), 0);
    vc_net_free(d);
    vc_fe_free(fe);
    close(sv[1]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("drv-net");
    TCase *tc = tcase_create("hdr");

    tcase_add_loop_test(tc, hdr_rules, 0, G_N_ELEMENTS(hdr_cases));
    tcase_add_test(tc, hdr_tx_is_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("frame");
    tcase_add_loop_test(tc, frame_round_trip, 0, G_N_ELEMENTS(frame_lens));
    tcase_add_test(tc, frame_build_limits);
    tcase_add_test(tc, frame_corruption_found);
    tcase_add_test(tc, frame_length_mismatch);
    tcase_add_test(tc, frame_kinds);
    suite_add_tcase(s, tc);
    tc = tcase_create("driver");
    tcase_add_test(tc, rx_merged_frame);
    tcase_add_test(tc, rx_num_buffers_overstated);
    tcase_add_test(tc, rx_num_buffers_unset);
    tcase_add_test(tc, rx_over_capacity);
    tcase_add_loop_test(tc, tx_frames_as_built, 0, 2);
    tcase_add_test(tc, fast_mode_counts);
    tcase_add_test(tc, bad_shapes_refused);
    suite_add_tcase(s, tc);
    return vc_test_run(s);
}
