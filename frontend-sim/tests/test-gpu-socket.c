/*
 * test-gpu-socket.c -- the vhost-user-gpu socket (vc-gpu-socket.c): the
 * codec (table, validator, reply encoders) and the front end's end of the
 * socket against a back end played by the test on the other end of a
 * socketpair; plus the gpu driver's pure helpers (command builders, the
 * rectangle comparison).
 */
#include <endian.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vc-drv-gpu.h"
#include "vc-gpu-socket.h"
#include "vc-test-util.h"

/* --- Codec ---------------------------------------------------------------------------- */

typedef struct CheckCase {
    uint32_t request, flags, size;
    unsigned nfds;
    uint64_t pfeatures;
    uint32_t scanout, w, h;   /* payload fields where they apply */
    unsigned want;
} CheckCase;

static const CheckCase check_cases[] = {
    {VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, 0, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, 8, 0, 0, 0, 0, 0, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_GET_PROTOCOL_FEATURES, VHOST_USER_GPU_MSG_FLAG_REPLY, 0, 0, 0, 0, 0, 0,
     VC_GPU_FAULT_FLAGS},
    {VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 0, 8, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 0, 4, 0, 0, 0, 0, 0, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_GET_DISPLAY_INFO, 0, 0, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_CURSOR_POS, 0, 12, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_CURSOR_POS_HIDE, 0, 12, 0, 0, 16, 0, 0, VC_GPU_FAULT_FIELD},
    {VHOST_USER_GPU_CURSOR_UPDATE, 0, 16404, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_CURSOR_UPDATE, 0, 16400, 0, 0, 0, 0, 0, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_SCANOUT, 0, 12, 0, 0, 0, 640, 480, 0},
    {VHOST_USER_GPU_SCANOUT, 0, 12, 1, 0, 0, 640, 480, VC_GPU_FAULT_FDS},
    {VHOST_USER_GPU_SCANOUT, 0, 16, 0, 0, 0, 640, 480, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_UPDATE, 0, 20 + 2 * 3 * 4, 0, 0, 0, 2, 3, 0},
    {VHOST_USER_GPU_UPDATE, 0, 20 + 2 * 3 * 4 - 1, 0, 0, 0, 2, 3, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_UPDATE, 0, 19, 0, 0, 0, 0, 0, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_DMABUF_SCANOUT, 0, 40, 1, 0, 0, 8, 8, 0},
    {VHOST_USER_GPU_DMABUF_SCANOUT, 0, 40, 0, 0, 0, 0, 0, 0},
    {VHOST_USER_GPU_DMABUF_SCANOUT, 0, 40, 2, 0, 0, 8, 8, VC_GPU_FAULT_FDS},
    {VHOST_USER_GPU_DMABUF_UPDATE, 0, 20, 0, 0, 0, 8, 8, 0},
    {VHOST_USER_GPU_DMABUF_UPDATE, 0, 20 + 256, 0, 0, 0, 8, 8, VC_GPU_FAULT_SIZE},
    {VHOST_USER_GPU_GET_EDID, 0, 4, 0, 1, 0, 0, 0, 0},
    {VHOST_USER_GPU_GET_EDID, 0, 4, 0, 0, 0, 0, 0, VC_GPU_FAULT_GATE},
    {VHOST_USER_GPU_DMABUF_SCANOUT2, 0, 48, 1, 2, 0, 8, 8, 0},
    {VHOST_USER_GPU_DMABUF_SCANOUT2, 0, 48, 1, 1, 0, 8, 8, VC_GPU_FAULT_GATE},
    {0, 0, 0, 0, 0, 0, 0, 0, VC_GPU_FAULT_UNKNOWN},
    {13, 0, 4, 1, 0, 0, 0, 0, VC_GPU_FAULT_UNKNOWN | VC_GPU_FAULT_FDS},
};

START_TEST(codec_check)
{
    const CheckCase *c = &check_cases[_i];
    VhostUserGpuHeader h = {c->request, c->flags, c->size};
    uint32_t payload[64] = {0};

    payload[0] = c->scanout;
    if (c->request == VHOST_USER_GPU_SCANOUT) {
        payload[1] = c->w;
        payload[2] = c->h;
    } else {
        payload[3] = c->w;
        payload[4] = c->h;
    }
    ck_assert_uint_eq(vc_gpu_msg_check(&h, (const uint8_t *)payload,
                                       MIN(c->size, sizeof(payload)), c->nfds, c->pfeatures),
                      c->want);
}
END_TEST

START_TEST(codec_names)
{
    ck_assert_str_eq(vc_gpu_msg_name(VHOST_USER_GPU_UPDATE), "VHOST_USER_GPU_UPDATE");
    ck_assert_str_eq(vc_gpu_msg_name(VHOST_USER_GPU_GET_EDID), "VHOST_USER_GPU_GET_EDID");
    ck_assert_str_eq(vc_gpu_msg_name(0), "UNKNOWN");
    ck_assert_str_eq(vc_gpu_msg_name(12345), "UNKNOWN");
    for (uint32_t r = 1; r < VHOST_USER_GPU_MAX; r++) {
        ck_assert_ptr_nonnull(vc_gpu_msg_info(r));
        ck_assert_uint_eq(vc_gpu_msg_info(r)->request, r);
    }
}
END_TEST

START_TEST(codec_reply)
{
    uint8_t buf[64];
    uint64_t v = 0x0102030405060708ull;
    VhostUserGpuHeader h;

    ck_assert_uint_eq(vc_gpu_encode_reply(buf, 1, &v, 8), 20);
    memcpy(&h, buf, sizeof(h));
    ck_assert_uint_eq(h.request, 1);
    ck_assert_uint_eq(h.flags, VHOST_USER_GPU_MSG_FLAG_REPLY);
    ck_assert_uint_eq(h.size, 8);
    ck_assert_mem_eq(buf + 12, &v, 8);
    ck_assert_uint_eq(vc_gpu_encode_reply(buf, 10, NULL, 0), 12);
}
END_TEST

START_TEST(codec_display_info_and_edid)
{
    struct virtio_gpu_resp_display_info di;
    struct virtio_gpu_resp_edid e;
    uint8_t sum = 0;

    vc_gpu_fill_display_info(&di, 2, 1024, 768);
    ck_assert_uint_eq(le32toh(di.hdr.type), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    ck_assert_uint_eq(le32toh(di.pmodes[1].enabled), 1);
    ck_assert_uint_eq(le32toh(di.pmodes[1].r.width), 1024);
    ck_assert_uint_eq(le32toh(di.pmodes[1].r.height), 768);
    ck_assert_uint_eq(le32toh(di.pmodes[2].enabled), 0);
    vc_gpu_fill_edid(&e, 1280, 800);
    ck_assert_uint_eq(le32toh(e.hdr.type), VIRTIO_GPU_RESP_OK_EDID);
    ck_assert_uint_eq(le32toh(e.size), 128);
    ck_assert_uint_eq(e.edid[0], 0x00);
    ck_assert_uint_eq(e.edid[1], 0xff);
    ck_assert_uint_eq(e.edid[7], 0x00);
    for (unsigned i = 0; i < 128; i++) {
        sum += e.edid[i];
    }
    ck_assert_uint_eq(sum, 0);
    ck_assert_uint_eq(e.edid[56] | (e.edid[58] >> 4) << 8, 1280);
    ck_assert_uint_eq(e.edid[59] | (e.edid[61] >> 4) << 8, 800);
}
END_TEST

/* --- The socket against a played back end --------------------------------------------- */

typedef struct Peer {
    int be;              /* the back end's end */
    VcGpuSock *s;        /* ours */
} Peer;

static void
peer_up(Peer *p, size_t cap)
{
    int sv[2];

    vc_test_socketpair(sv);
    p->be = sv[1];
    p->s = vc_gpu_sock_new(sv[0], cap);
    ck_assert_ptr_nonnull(p->s);
    p->s->timeout_ms = 200;
}

static void
peer_down(Peer *p)
{
    vc_gpu_sock_free(p->s);
    if (p->be >= 0) {
        close(p->be);
    }
}

/* The back end sends one message, with @fd attached when >= 0. */
static void
be_send(Peer *p, uint32_t request, uint32_t flags, const void *payload, uint32_t size, int fd)
{
    uint8_t buf[4096];
    VhostUserGpuHeader h = {request, flags, size};
    struct iovec iov = {buf, sizeof(h) + size};
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    ck_assert_uint_le(sizeof(h) + size, sizeof(buf));
    memcpy(buf, &h, sizeof(h));
    if (size) {
        memcpy(buf + sizeof(h), payload, size);
    }
    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.b;
        mh.msg_controllen = sizeof(ctl.b);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ck_assert_int_eq(sendmsg(p->be, &mh, 0), (ssize_t)(sizeof(h) + size));
}

/* The back end reads a reply. Returns: its payload size. */
static uint32_t
be_reply(Peer *p, uint32_t request, void *payload, uint32_t max)
{
    VhostUserGpuHeader h;

    ck_assert_int_eq(read(p->be, &h, sizeof(h)), (ssize_t)sizeof(h));
    ck_assert_uint_eq(h.request, request);
    ck_assert_uint_eq(h.flags, VHOST_USER_GPU_MSG_FLAG_REPLY);
    ck_assert_uint_le(h.size, max);
    if (h.size) {
        ck_assert_int_eq(read(p->be, payload, h.size), (ssize_t)h.size);
    }
    return h.size;
}

START_TEST(sock_handshake_and_display)
{
    Peer p;
    uint64_t pf = 0, set = 1ull << VHOST_USER_GPU_PROTOCOL_F_EDID;
    struct virtio_gpu_resp_display_info di;
    struct virtio_gpu_resp_edid edid;
    VhostUserGpuEdidRequest er = {0};

    peer_up(&p, 0);
    be_send(&p, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, NULL, 0, -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 1);
    ck_assert_uint_eq(be_reply(&p, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, &pf, sizeof(pf)), 8);
    ck_assert_uint_eq(pf, p.s->pfeatures_offered);
    be_send(&p, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 0, &set, 8, -1);
    be_send(&p, VHOST_USER_GPU_GET_DISPLAY_INFO, 0, NULL, 0, -1);
    be_send(&p, VHOST_USER_GPU_GET_EDID, 0, &er, sizeof(er), -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 3);
    ck_assert(p.s->pfeatures_set);
    ck_assert_uint_eq(p.s->pfeatures, set);
    ck_assert_uint_eq(be_reply(&p, VHOST_USER_GPU_GET_DISPLAY_INFO, &di, sizeof(di)),
                      sizeof(di));
    ck_assert_uint_eq(le32toh(di.hdr.type), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    ck_assert_uint_eq(le32toh(di.pmodes[0].r.width), 1280);
    ck_assert_uint_eq(le32toh(di.pmodes[0].r.height), 800);
    ck_assert_uint_eq(be_reply(&p, VHOST_USER_GPU_GET_EDID, &edid, sizeof(edid)), sizeof(edid));
    ck_assert_uint_eq(le32toh(edid.hdr.type), VIRTIO_GPU_RESP_OK_EDID);
    ck_assert_uint_eq(p.s->faulty, 0);
    ck_assert_uint_eq(p.s->count[VHOST_USER_GPU_GET_DISPLAY_INFO], 1);
    /* Nothing waiting: no wait beyond the timeout, nothing handled. */
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 0), 0);
    peer_down(&p);
}
END_TEST

START_TEST(sock_scanout_and_update)
{
    Peer p;
    VhostUserGpuScanout sc = {2, 16, 8};
    uint8_t upd[20 + 4 * 2 * 4];
    VhostUserGpuUpdate *u = (void *)upd;

    peer_up(&p, 0);
    be_send(&p, VHOST_USER_GPU_SCANOUT, 0, &sc, sizeof(sc), -1);
    *u = (VhostUserGpuUpdate){2, 3, 1, 4, 2};
    for (unsigned i = 0; i < 32; i++) {
        upd[20 + i] = (uint8_t)(i * 7);
    }
    be_send(&p, VHOST_USER_GPU_UPDATE, 0, upd, sizeof(upd), -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 2);
    ck_assert(p.s->scanout[2].set);
    ck_assert(!p.s->scanout[2].dmabuf);
    ck_assert_uint_eq(p.s->scanout[2].width, 16);
    ck_assert_uint_eq(p.s->scanout[2].height, 8);
    ck_assert_uint_eq(p.s->last_update.x, 3);
    ck_assert_uint_eq(p.s->last_update.width, 4);
    ck_assert_uint_eq(p.s->update_len, 32);
    ck_assert(!p.s->update_truncated);
    ck_assert_mem_eq(p.s->update_data, upd + 20, 32);
    ck_assert_uint_eq(vc_gpu_sock_event(p.s, 0)->request, VHOST_USER_GPU_UPDATE);
    ck_assert_uint_eq(vc_gpu_sock_event(p.s, 1)->w, 16);
    ck_assert_ptr_null(vc_gpu_sock_event(p.s, 2));
    ck_assert_uint_eq(p.s->faulty, 0);
    peer_down(&p);
}
END_TEST

/* An UPDATE larger than what is kept: recorded truncated, the stream stays in step. */
START_TEST(sock_update_beyond_cap)
{
    Peer p;
    uint8_t upd[20 + 16 * 16 * 4];
    VhostUserGpuUpdate *u = (void *)upd;
    VhostUserGpuScanout sc = {0, 1, 1};

    peer_up(&p, 256);
    memset(upd, 0x5a, sizeof(upd));
    *u = (VhostUserGpuUpdate){0, 0, 0, 16, 16};
    be_send(&p, VHOST_USER_GPU_UPDATE, 0, upd, sizeof(upd), -1);
    be_send(&p, VHOST_USER_GPU_SCANOUT, 0, &sc, sizeof(sc), -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 2);
    ck_assert(p.s->update_truncated);
    ck_assert_uint_le(p.s->update_len, 256);
    ck_assert(p.s->scanout[0].set);
    ck_assert(!p.s->broken);
    peer_down(&p);
}
END_TEST

START_TEST(sock_dmabuf)
{
    Peer p;
    VhostUserGpuDMABUFScanout ds = {1, 0, 0, 32, 16, 32, 16, 128, 0, 0x34325258};
    VhostUserGpuUpdate du = {1, 0, 0, 32, 16};
    int fd = eventfd(0, EFD_CLOEXEC), before;

    ck_assert_int_ge(fd, 0);
    peer_up(&p, 0);
    before = vc_test_count_fds();
    be_send(&p, VHOST_USER_GPU_DMABUF_SCANOUT, 0, &ds, sizeof(ds), fd);
    be_send(&p, VHOST_USER_GPU_DMABUF_UPDATE, 0, &du, sizeof(du), -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 2);
    /* The dma-buf fd was received and closed: no fd more than before. */
    ck_assert_int_eq(vc_test_count_fds(), before);
    ck_assert(p.s->scanout[1].dmabuf);
    ck_assert_uint_eq(p.s->scanout[1].dmabuf_info.fd_stride, 128);
    ck_assert_uint_eq(vc_gpu_sock_event(p.s, 1)->nfds, 1);
    /* DMABUF_UPDATE is answered at once, as QEMU without GL does. */
    ck_assert_uint_eq(be_reply(&p, VHOST_USER_GPU_DMABUF_UPDATE, NULL, 0), 0);
    ck_assert_uint_eq(p.s->faulty, 0);
    close(fd);
    peer_down(&p);
}
END_TEST

START_TEST(sock_bad_requests_recorded)
{
    Peer p;
    uint8_t junk[24] = {0};
    VhostUserGpuScanout sc = {0, 10, 10};

    peer_up(&p, 0);
    be_send(&p, 99, 0, junk, sizeof(junk), -1);
    be_send(&p, VHOST_USER_GPU_SCANOUT, VHOST_USER_GPU_MSG_FLAG_REPLY, &sc, sizeof(sc), -1);
    be_send(&p, VHOST_USER_GPU_SCANOUT, 0, &sc, 8, -1);
    be_send(&p, VHOST_USER_GPU_SCANOUT, 0, &sc, sizeof(sc), -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), 4);
    ck_assert_uint_eq(p.s->unknown, 1);
    ck_assert_uint_eq(p.s->faulty, 3);
    ck_assert_uint_eq(p.s->fault_mask,
                      VC_GPU_FAULT_UNKNOWN | VC_GPU_FAULT_FLAGS | VC_GPU_FAULT_SIZE);
    ck_assert_ptr_nonnull(strstr(p.s->first_fault, "UNKNOWN"));
    ck_assert_uint_eq(p.s->count[VHOST_USER_GPU_SCANOUT], 3);
    ck_assert(!p.s->broken);
    peer_down(&p);
}
END_TEST

/* A header whose payload never comes: broken after the deadline, never a hang. */
START_TEST(sock_cut_short)
{
    Peer p;
    VhostUserGpuHeader h = {VHOST_USER_GPU_SCANOUT, 0, 12};

    peer_up(&p, 0);
    ck_assert_int_eq(write(p.be, &h, sizeof(h)), (ssize_t)sizeof(h));
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), -1);
    ck_assert(p.s->broken);
    ck_assert_int_eq(p.s->fd, -1);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 0), -1);
    peer_down(&p);
}
END_TEST

START_TEST(sock_eof)
{
    Peer p;

    peer_up(&p, 0);
    close(p.be);
    p.be = -1;
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 100), -1);
    ck_assert(p.s->broken);
    ck_assert(!vc_gpu_sock_wait(p.s, VHOST_USER_GPU_SCANOUT, 0, 50));
    peer_down(&p);
}
END_TEST

/* With its thread the socket answers on its own, as QEMU's main loop does. */
START_TEST(sock_thread_answers)
{
    Peer p;
    struct virtio_gpu_resp_display_info di;
    VhostUserGpuScanout sc = {0, 32, 32};

    peer_up(&p, 0);
    ck_assert_int_eq(vc_gpu_sock_start(p.s), 0);
    ck_assert_int_eq(vc_gpu_sock_start(p.s), 0);
    be_send(&p, VHOST_USER_GPU_GET_DISPLAY_INFO, 0, NULL, 0, -1);
    /* Blocks until the thread answered: nobody else serves the socket. */
    ck_assert_uint_eq(be_reply(&p, VHOST_USER_GPU_GET_DISPLAY_INFO, &di, sizeof(di)),
                      sizeof(di));
    be_send(&p, VHOST_USER_GPU_SCANOUT, 0, &sc, sizeof(sc), -1);
    ck_assert(vc_gpu_sock_wait(p.s, VHOST_USER_GPU_SCANOUT, 0, 1000));
    ck_assert(!vc_gpu_sock_wait(p.s, VHOST_USER_GPU_UPDATE, 0, 50));
    vc_gpu_sock_lock(p.s);
    ck_assert_uint_eq(p.s->scanout[0].width, 32);
    ck_assert_uint_eq(p.s->handled, 2);
    vc_gpu_sock_unlock(p.s);
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 20), 0);
    close(p.be);
    p.be = -1;
    ck_assert_int_eq(vc_gpu_sock_serve(p.s, 1000), -1);
    peer_down(&p);
}
END_TEST

/* --- gpu driver helpers -------------------------------------------------------------- */

START_TEST(rect_diff)
{
    uint8_t img[8 * 4 * 4];
    uint8_t r[3 * 2 * 4];

    for (unsigned i = 0; i < sizeof(img); i++) {
        img[i] = (uint8_t)i;
    }
    /* Rectangle 3x2 at 2,1 of an 8x4 image. */
    for (unsigned y = 0; y < 2; y++) {
        memcpy(r + y * 12, img + (1 + y) * 32 + 2 * 4, 12);
    }
    ck_assert_int_eq(vc_gpu_rect_diff(img, 32, 2, 1, 3, 2, r, sizeof(r)), -1);
    r[13] ^= 1;
    ck_assert_int_eq(vc_gpu_rect_diff(img, 32, 2, 1, 3, 2, r, sizeof(r)), 13);
    r[13] ^= 1;
    ck_assert_int_eq(vc_gpu_rect_diff(img, 32, 2, 1, 3, 2, r, sizeof(r) - 4), sizeof(r) - 4);
    ck_assert_int_eq(vc_gpu_rect_diff(img, 32, 2, 1, 3, 1, r, sizeof(r)), 12);
}
END_TEST

START_TEST(builders)
{
    struct virtio_gpu_set_scanout ss;
    struct virtio_gpu_transfer_to_host_2d t;
    struct virtio_gpu_mem_entry e[2] = {{0x1000, 4096, 0}, {0x3000, 100, 0}};
    uint8_t buf[128];
    struct virtio_gpu_resource_attach_backing a;
    struct virtio_gpu_mem_entry got;
    struct virtio_gpu_ctrl_hdr h;

    vc_gpu_build_set_scanout(&ss, 1, 7, 2, 3, 4, 5);
    ck_assert_uint_eq(le32toh(ss.hdr.type), VIRTIO_GPU_CMD_SET_SCANOUT);
    ck_assert_uint_eq(le32toh(ss.scanout_id), 1);
    ck_assert_uint_eq(le32toh(ss.resource_id), 7);
    ck_assert_uint_eq(le32toh(ss.r.height), 5);
    vc_gpu_build_transfer_2d(&t, 7, 8, 4, 16, 8, 1056);
    ck_assert_uint_eq(le64toh(t.offset), 1056);
    ck_assert_uint_eq(vc_gpu_build_attach(buf, 9, e, 2), sizeof(a) + 2 * sizeof(got));
    memcpy(&a, buf, sizeof(a));
    ck_assert_uint_eq(le32toh(a.hdr.type), VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
    ck_assert_uint_eq(le32toh(a.nr_entries), 2);
    memcpy(&got, buf + sizeof(a) + sizeof(got), sizeof(got));
    ck_assert_uint_eq(le64toh(got.addr), 0x3000);
    ck_assert_uint_eq(le32toh(got.length), 100);
    vc_gpu_hdr(&h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, true, 77);
    ck_assert_uint_eq(le32toh(h.flags), VIRTIO_GPU_FLAG_FENCE);
    ck_assert_uint_eq(le64toh(h.fence_id), 77);
    ck_assert_str_eq(vc_gpu_type_name(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID),
                     "RESP_ERR_INVALID_RESOURCE_ID");
    ck_assert_str_eq(vc_gpu_type_name(0xa5a5a5a5u), "(not written)");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("gpu-socket");
    TCase *tc = tcase_create("codec");

    tcase_add_loop_test(tc, codec_check, 0, G_N_ELEMENTS(check_cases));
    tcase_add_test(tc, codec_names);
    tcase_add_test(tc, codec_reply);
    tcase_add_test(tc, codec_display_info_and_edid);
    suite_add_tcase(s, tc);
    tc = tcase_create("socket");
    tcase_add_test(tc, sock_handshake_and_display);
    tcase_add_test(tc, sock_scanout_and_update);
    tcase_add_test(tc, sock_update_beyond_cap);
    tcase_add_test(tc, sock_dmabuf);
    tcase_add_test(tc, sock_bad_requests_recorded);
    tcase_add_test(tc, sock_cut_short);
    tcase_add_test(tc, sock_eof);
    tcase_add_test(tc, sock_thread_answers);
    suite_add_tcase(s, tc);
    tc = tcase_create("driver");
    tcase_add_test(tc, rect_diff);
    tcase_add_test(tc, builders);
    suite_add_tcase(s, tc);
    return vc_test_run(s);
}
