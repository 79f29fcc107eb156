/*
 * gpu.c -- the virtio-gpu device as a vhost-user back end serves it.
 * virtio 1.x 5.7 (GPU device: 2D commands, responses, fences, config) and
 * QEMU docs/interop/vhost-user-gpu.rst (the socket the back end shows its
 * scanouts on).
 *
 * The device is brought up as QEMU's hw/display/vhost-user-gpu.c does: the
 * socket is handed over (VHOST_USER_GPU_SET_SOCKET) before the rings start,
 * and its requests are answered while the checks wait. The front end is
 * closed before the socket at the end of each check, so that a back end is
 * never left writing to a socket whose other end is gone.
 */
#include <endian.h>
#include <string.h>

#include "vc-chk.h"
#include "vc-drv-gpu.h"
#include "vc-msg-table.h"

#define FB_W 64u
#define FB_H 48u
#define FB_STRIDE (FB_W * 4u)
#define FB_BYTES (FB_STRIDE * FB_H)
#define RES_ID 7u
#define BAD_ID 0x5eadu
#define NODATA VIRTIO_GPU_RESP_OK_NODATA

/*
 * Connects, hands over the gpu socket, starts the device, then sets the
 * driver up: its rings are made by the start, with the layout and ring
 * features (RING_PACKED, EVENT_IDX) that SET_FEATURES negotiated.
 */
static VcGpuDrv *
gpu_open(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    VcGpuSock *sock;
    VcGpuDrv *d;

    if (!fe) {
        return NULL;
    }
    sock = vc_gpu_sock_handover(fe, 500, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, sock != NULL)) {
        return NULL;
    }
    if (!vc_ctx_try(ctx, vc_fe_start(fe, VC_ERR(ctx)))) {
        vc_gpu_sock_free(sock);
        return NULL;
    }
    d = vc_gpu_new(fe, 16, FB_BYTES, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, d != NULL)) {
        vc_gpu_sock_free(sock);
        return NULL;
    }
    d->sock = sock;
    return d;
}

/* Closes the front end first, then the gpu socket. */
static VcVerdict
gpu_close(VcCtx *ctx, VcGpuDrv *d)
{
    g_clear_pointer(&ctx->fe, vc_fe_free);
    vc_gpu_free(d);
    return vc_ctx_done(ctx);
}

/* The test picture: every byte depends on x, y and the round. */
static void
draw(uint8_t *img, unsigned round)
{
    for (uint32_t y = 0; y < FB_H; y++) {
        for (uint32_t x = 0; x < FB_W; x++) {
            uint8_t *px = img + y * FB_STRIDE + x * 4;
            px[0] = (uint8_t)(x * 4 + round * 31);       /* B */
            px[1] = (uint8_t)(y * 5 + round * 17);       /* G */
            px[2] = (uint8_t)((x ^ y) * 3 + round * 7);  /* R */
            px[3] = 0xff;                                /* X */
        }
    }
}

/*
 * Runs one command and checks its response type. Returns: true when it
 * came back with @want (else a violation is recorded, naming @what).
 */
static bool
expect_cmd(VcCtx *ctx, VcGpuDrv *d, const char *what, const void *cmd, uint32_t len,
           uint32_t resp_len, uint32_t want)
{
    VcGpuCmd *c = vc_gpu_exec(d, VC_GPU_CTRLQ, cmd, len, resp_len, vc_ctx_wait_ms(ctx));
    uint32_t type;

    if (!c) {
        vc_ctx_error(ctx, "%s: no command slot free", what);
        return false;
    }
    if (!c->done) {
        return vc_ctx_violation(ctx, "%s: no response within %d ms%s", what, vc_ctx_wait_ms(ctx),
                                d->sock && d->sock->broken ? " (the gpu socket broke)" : "");
    }
    type = vc_gpu_resp_type(c);
    if (type != want) {
        return vc_ctx_violation(ctx, "%s answered %s (0x%x), want %s", what,
                                vc_gpu_type_name(type), type, vc_gpu_type_name(want));
    }
    if (c->used_len < sizeof(struct virtio_gpu_ctrl_hdr)) {
        return vc_ctx_violation(ctx, "%s: used.len %u, shorter than the %zu-byte response "
                                "header the device wrote", what, c->used_len,
                                sizeof(struct virtio_gpu_ctrl_hdr));
    }
    return true;
}

/* CREATE_2D + ATTACH_BACKING of the test resource (with the picture of @round). */
static bool
make_resource(VcCtx *ctx, VcGpuDrv *d, uint8_t *img, unsigned round)
{
    struct virtio_gpu_resource_create_2d c2d;
    struct virtio_gpu_mem_entry e[VC_GPU_MAX_PAGES];
    uint8_t attach[VC_GPU_REQ_MAX];
    unsigned n = vc_gpu_fb_entries(d, e, G_N_ELEMENTS(e));
    uint32_t len = vc_gpu_build_attach(attach, RES_ID, e, n);

    draw(img, round);
    vc_gpu_fb_write(d, 0, img, FB_BYTES);
    vc_gpu_build_create_2d(&c2d, RES_ID, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, FB_W, FB_H);
    return expect_cmd(ctx, d, "RESOURCE_CREATE_2D", &c2d, sizeof(c2d),
                      sizeof(struct virtio_gpu_ctrl_hdr), NODATA) &&
           expect_cmd(ctx, d, "RESOURCE_ATTACH_BACKING", attach, len,
                      sizeof(struct virtio_gpu_ctrl_hdr), NODATA);
}

static VcVerdict
responses_typed(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    uint8_t img[FB_BYTES];
    struct virtio_gpu_ctrl_hdr gdi;
    struct virtio_gpu_transfer_to_host_2d t2d;
    struct virtio_gpu_set_scanout ss;
    struct virtio_gpu_resource_flush rf;
    struct virtio_gpu_resource_detach_backing det;
    struct virtio_gpu_resource_unref unref;
    const uint32_t hdr = sizeof(struct virtio_gpu_ctrl_hdr);
    VcGpuCmd *c;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    vc_gpu_hdr(&gdi, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, false, 0);
    c = vc_gpu_exec(d, VC_GPU_CTRLQ, &gdi, sizeof(gdi),
                    sizeof(struct virtio_gpu_resp_display_info), vc_ctx_wait_ms(ctx));
    if (!c || !c->done) {
        vc_ctx_violation(ctx, "GET_DISPLAY_INFO: no response within %d ms (%" G_GUINT64_FORMAT
                         " display info request(s) seen on the gpu socket)", vc_ctx_wait_ms(ctx),
                         d->sock ? d->sock->count[VHOST_USER_GPU_GET_DISPLAY_INFO] : 0);
        return gpu_close(ctx, d);
    }
    if (!vc_expect(ctx, vc_gpu_resp_type(c) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO &&
                   c->used_len >= sizeof(struct virtio_gpu_resp_display_info),
                   "GET_DISPLAY_INFO answered %s (0x%x) with used.len %u, want OK_DISPLAY_INFO "
                   "and %zu", vc_gpu_type_name(vc_gpu_resp_type(c)), vc_gpu_resp_type(c),
                   c->used_len, sizeof(struct virtio_gpu_resp_display_info))) {
        return gpu_close(ctx, d);
    }
    if (!make_resource(ctx, d, img, 0)) {
        return gpu_close(ctx, d);
    }
    vc_gpu_build_transfer_2d(&t2d, RES_ID, 0, 0, FB_W, FB_H, 0);
    vc_gpu_build_set_scanout(&ss, 0, RES_ID, 0, 0, FB_W, FB_H);
    vc_gpu_build_flush(&rf, RES_ID, 0, 0, FB_W, FB_H);
    vc_gpu_build_detach(&det, RES_ID);
    vc_gpu_build_unref(&unref, RES_ID);
    if (expect_cmd(ctx, d, "TRANSFER_TO_HOST_2D", &t2d, sizeof(t2d), hdr, NODATA) &&
        expect_cmd(ctx, d, "SET_SCANOUT", &ss, sizeof(ss), hdr, NODATA) &&
        expect_cmd(ctx, d, "RESOURCE_FLUSH", &rf, sizeof(rf), hdr, NODATA)) {
        /* Scanout 0 off before the resource goes, as a driver does. */
        vc_gpu_build_set_scanout(&ss, 0, 0, 0, 0, 0, 0);
        if (expect_cmd(ctx, d, "SET_SCANOUT (disable)", &ss, sizeof(ss), hdr, NODATA) &&
            expect_cmd(ctx, d, "RESOURCE_DETACH_BACKING", &det, sizeof(det), hdr, NODATA) &&
            expect_cmd(ctx, d, "RESOURCE_UNREF", &unref, sizeof(unref), hdr, NODATA)) {
            vc_ctx_note(ctx, "GET_DISPLAY_INFO -> OK_DISPLAY_INFO; CREATE_2D, ATTACH_BACKING, "
                        "TRANSFER_TO_HOST_2D, SET_SCANOUT, RESOURCE_FLUSH, DETACH_BACKING, "
                        "UNREF -> OK_NODATA");
        }
    }
    return gpu_close(ctx, d);
}

static VcVerdict
unknown_resource(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    struct virtio_gpu_mem_entry e[1];
    uint8_t attach[VC_GPU_REQ_MAX];
    struct virtio_gpu_transfer_to_host_2d t2d;
    struct virtio_gpu_set_scanout ss;
    struct virtio_gpu_resource_flush rf;
    struct virtio_gpu_resource_detach_backing det;
    struct virtio_gpu_resource_unref unref;
    const uint32_t hdr = sizeof(struct virtio_gpu_ctrl_hdr);
    const uint32_t bad = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    uint32_t alen;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    vc_gpu_fb_entries(d, e, 1);
    alen = vc_gpu_build_attach(attach, BAD_ID, e, 1);
    vc_gpu_build_transfer_2d(&t2d, BAD_ID, 0, 0, 16, 16, 0);
    vc_gpu_build_set_scanout(&ss, 0, BAD_ID, 0, 0, 16, 16);
    vc_gpu_build_flush(&rf, BAD_ID, 0, 0, 16, 16);
    vc_gpu_build_detach(&det, BAD_ID);
    vc_gpu_build_unref(&unref, BAD_ID);
    /* Each goes on even after a wrong answer: the first one is reported, the rest counted. */
    expect_cmd(ctx, d, "RESOURCE_ATTACH_BACKING of a resource never created", attach, alen, hdr,
               bad);
    expect_cmd(ctx, d, "TRANSFER_TO_HOST_2D to a resource never created", &t2d, sizeof(t2d), hdr,
               bad);
    expect_cmd(ctx, d, "SET_SCANOUT of a resource never created", &ss, sizeof(ss), hdr, bad);
    expect_cmd(ctx, d, "RESOURCE_FLUSH of a resource never created", &rf, sizeof(rf), hdr, bad);
    expect_cmd(ctx, d, "RESOURCE_DETACH_BACKING of a resource never created", &det, sizeof(det),
               hdr, bad);
    expect_cmd(ctx, d, "RESOURCE_UNREF of a resource never created", &unref, sizeof(unref), hdr,
               bad);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "ATTACH_BACKING, TRANSFER_TO_HOST_2D, SET_SCANOUT, RESOURCE_FLUSH, "
                    "DETACH_BACKING, UNREF of resource 0x%x -> ERR_INVALID_RESOURCE_ID", BAD_ID);
    }
    return gpu_close(ctx, d);
}

/* Checks that the last UPDATE on the socket is rectangle (x, y, w, h) of @img, byte for byte. */
static bool
expect_update(VcCtx *ctx, VcGpuDrv *d, const uint8_t *img, uint64_t before, uint32_t x,
              uint32_t y, uint32_t w, uint32_t h, const char *when)
{
    VcGpuSock *s = d->sock;
    VhostUserGpuUpdate u;
    uint64_t updates, dmabuf_updates;
    uint8_t data[FB_BYTES];
    size_t len;
    bool truncated;
    int64_t diff;

    vc_gpu_sock_wait(s, VHOST_USER_GPU_UPDATE, before, vc_chk_quiet_ms());
    vc_gpu_sock_lock(s);
    updates = s->count[VHOST_USER_GPU_UPDATE];
    dmabuf_updates = s->count[VHOST_USER_GPU_DMABUF_UPDATE];
    u = s->last_update;
    truncated = s->update_truncated;
    len = MIN(s->update_len, sizeof(data));
    memcpy(data, s->update_data, len);
    truncated |= s->update_len > sizeof(data);
    vc_gpu_sock_unlock(s);

    if (updates <= before) {
        return vc_ctx_violation(ctx, "%s: no VHOST_USER_GPU_UPDATE arrived on the gpu socket "
                                "(%" G_GUINT64_FORMAT " DMABUF_UPDATE)", when, dmabuf_updates);
    }
    if (u.scanout_id != 0 || u.x != x || u.y != y || u.width != w || u.height != h) {
        return vc_ctx_violation(ctx, "%s: UPDATE of scanout %u rectangle %u,%u %ux%u, want "
                                "scanout 0 %u,%u %ux%u", when, u.scanout_id, u.x, u.y,
                                u.width, u.height, x, y, w, h);
    }
    if (truncated) {
        return vc_ctx_violation(ctx, "%s: the UPDATE's pixels did not fit what its header "
                                "announced", when);
    }
    diff = vc_gpu_rect_diff(img, FB_STRIDE, x, y, w, h, data, len);
    if (diff >= 0) {
        size_t px = (size_t)diff / 4;
        return vc_ctx_violation(ctx, "%s: the UPDATE's pixels differ from what the driver drew "
                                "at byte %" G_GINT64_FORMAT " (pixel %zu,%zu of the rectangle; "
                                "%zu bytes received, %u expected)", when, diff, px % w, px / w,
                                len, w * h * 4);
    }
    return true;
}

static VcVerdict
pixels_reach_socket(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    uint8_t img[FB_BYTES];
    struct virtio_gpu_transfer_to_host_2d t2d;
    struct virtio_gpu_set_scanout ss;
    struct virtio_gpu_resource_flush rf;
    const uint32_t hdr = sizeof(struct virtio_gpu_ctrl_hdr);
    VcGpuScanoutState sc0, *sc = &sc0;
    uint64_t before;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (!d->sock) {
        vc_ctx_error(ctx, "no gpu socket");
        return gpu_close(ctx, d);
    }
    vc_gpu_build_transfer_2d(&t2d, RES_ID, 0, 0, FB_W, FB_H, 0);
    vc_gpu_build_set_scanout(&ss, 0, RES_ID, 0, 0, FB_W, FB_H);
    vc_gpu_build_flush(&rf, RES_ID, 0, 0, FB_W, FB_H);
    if (!make_resource(ctx, d, img, 1) ||
        !expect_cmd(ctx, d, "TRANSFER_TO_HOST_2D", &t2d, sizeof(t2d), hdr, NODATA) ||
        !expect_cmd(ctx, d, "SET_SCANOUT", &ss, sizeof(ss), hdr, NODATA)) {
        return gpu_close(ctx, d);
    }
    vc_gpu_sock_wait(d->sock, VHOST_USER_GPU_SCANOUT, 0, vc_chk_quiet_ms());
    vc_gpu_sock_wait(d->sock, VHOST_USER_GPU_DMABUF_SCANOUT, 0, 0);
    vc_gpu_sock_lock(d->sock);
    sc0 = d->sock->scanout[0];
    before = d->sock->count[VHOST_USER_GPU_UPDATE];
    vc_gpu_sock_unlock(d->sock);
    if (sc->set && sc->dmabuf) {
        vc_ctx_skip(ctx, "the back end shares scanout 0 as a dma-buf (DMABUF_SCANOUT "
                    "%ux%u): its pixels do not travel on the socket", sc->width, sc->height);
        return gpu_close(ctx, d);
    }
    if (!vc_expect(ctx, sc->set && sc->width == FB_W && sc->height == FB_H,
                   "after SET_SCANOUT of a %ux%u resource the gpu socket carried %s%ux%u",
                   FB_W, FB_H, sc->set ? "VHOST_USER_GPU_SCANOUT " : "no scanout (size ",
                   sc->width, sc->height)) {
        return gpu_close(ctx, d);
    }
    if (!expect_cmd(ctx, d, "RESOURCE_FLUSH", &rf, sizeof(rf), hdr, NODATA) ||
        !expect_update(ctx, d, img, before, 0, 0, FB_W, FB_H, "whole-resource flush")) {
        return gpu_close(ctx, d);
    }
    /* A new picture, but only a rectangle of it transferred (offset = its first byte). */
    draw(img, 2);
    vc_gpu_fb_write(d, 0, img, FB_BYTES);
    vc_gpu_build_transfer_2d(&t2d, RES_ID, 8, 4, 16, 8, 4 * FB_STRIDE + 8 * 4);
    vc_gpu_build_flush(&rf, RES_ID, 8, 4, 16, 8);
    vc_gpu_sock_lock(d->sock);
    before = d->sock->count[VHOST_USER_GPU_UPDATE];
    vc_gpu_sock_unlock(d->sock);
    if (expect_cmd(ctx, d, "TRANSFER_TO_HOST_2D (16x8 at 8,4)", &t2d, sizeof(t2d), hdr, NODATA) &&
        expect_cmd(ctx, d, "RESOURCE_FLUSH (16x8 at 8,4)", &rf, sizeof(rf), hdr, NODATA) &&
        expect_update(ctx, d, img, before, 8, 4, 16, 8, "16x8 flush at 8,4")) {
        vc_ctx_note(ctx, "SCANOUT 0 %ux%u, then UPDATE %ux%u and UPDATE 16x8 at 8,4: every "
                    "pixel as drawn", FB_W, FB_H, FB_W, FB_H);
    }
    return gpu_close(ctx, d);
}

static VcVerdict
fence_echoed(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    struct virtio_gpu_resource_create_2d c2d;
    struct virtio_gpu_resource_unref unref;
    VcGpuCmd *c;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    vc_gpu_build_create_2d(&c2d, RES_ID, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, FB_W, FB_H);
    c2d.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
    c2d.hdr.fence_id = htole64(0x1122334455667788ull);
    vc_gpu_build_unref(&unref, RES_ID);
    unref.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
    unref.hdr.fence_id = htole64(42);
    for (int i = 0; i < 2; i++) {
        const struct virtio_gpu_ctrl_hdr *req = i ? &unref.hdr : &c2d.hdr;
        const struct virtio_gpu_ctrl_hdr *r;
        c = vc_gpu_exec(d, VC_GPU_CTRLQ, req, i ? sizeof(unref) : sizeof(c2d),
                        sizeof(struct virtio_gpu_ctrl_hdr), vc_ctx_wait_ms(ctx));
        if (!c || !c->done) {
            vc_ctx_violation(ctx, "%s with a fence: no response within %d ms",
                             vc_gpu_type_name(le32toh(req->type)), vc_ctx_wait_ms(ctx));
            return gpu_close(ctx, d);
        }
        r = vc_gpu_resp_hdr(c);
        if (!vc_expect(ctx, (le32toh(r->flags) & VIRTIO_GPU_FLAG_FENCE) &&
                       r->fence_id == req->fence_id,
                       "%s with VIRTIO_GPU_FLAG_FENCE and fence_id 0x%" G_GINT64_MODIFIER "x: "
                       "the response has flags 0x%x and fence_id 0x%" G_GINT64_MODIFIER "x",
                       vc_gpu_type_name(le32toh(req->type)), le64toh(req->fence_id),
                       le32toh(r->flags), le64toh(r->fence_id))) {
            return gpu_close(ctx, d);
        }
    }
    vc_ctx_note(ctx, "fenced CREATE_2D and UNREF: responses carry FLAG_FENCE and the fence_id");
    return gpu_close(ctx, d);
}

static VcVerdict
config_16_bytes(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    struct virtio_gpu_config cfg;
    uint32_t got = 0;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(d->fe, VHOST_USER_PROTOCOL_F_CONFIG)) {
        vc_ctx_skip(ctx, "protocol feature CONFIG was not negotiated");
        return gpu_close(ctx, d);
    }
    memset(&cfg, 0xa5, sizeof(cfg));
    if (!vc_ctx_try(ctx, vc_fe_get_config(d->fe, 0, sizeof(cfg), (uint8_t *)&cfg, &got,
                                          VC_ERR(ctx)))) {
        return gpu_close(ctx, d);
    }
    if (vc_expect(ctx, got == sizeof(cfg), "GET_CONFIG of the %zu-byte virtio_gpu_config was "
                  "answered with %u bytes%s", sizeof(cfg), got, got ? "" : " (an error)")) {
        vc_ctx_note(ctx, "GET_CONFIG 16 bytes: events_read 0x%x events_clear 0x%x num_scanouts "
                    "%u num_capsets %u (QEMU overrides num_scanouts and the events)",
                    le32toh(cfg.events_read), le32toh(cfg.events_clear),
                    le32toh(cfg.num_scanouts), le32toh(cfg.num_capsets));
    }
    return gpu_close(ctx, d);
}

static VcVerdict
socket_well_formed(VcCtx *ctx)
{
    VcGpuDrv *d = gpu_open(ctx);
    uint8_t img[FB_BYTES];
    struct virtio_gpu_ctrl_hdr gdi;
    struct virtio_gpu_transfer_to_host_2d t2d;
    struct virtio_gpu_set_scanout ss;
    struct virtio_gpu_resource_flush rf;
    const uint32_t hdr = sizeof(struct virtio_gpu_ctrl_hdr);
    VcGpuSock *s, snap;
    uint64_t total = 0;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    s = d->sock;
    vc_gpu_hdr(&gdi, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, false, 0);
    vc_gpu_build_transfer_2d(&t2d, RES_ID, 0, 0, FB_W, FB_H, 0);
    vc_gpu_build_set_scanout(&ss, 0, RES_ID, 0, 0, FB_W, FB_H);
    vc_gpu_build_flush(&rf, RES_ID, 0, 0, FB_W, FB_H);
    /* Everything that makes a back end talk on the socket. */
    vc_gpu_exec(d, VC_GPU_CTRLQ, &gdi, sizeof(gdi), sizeof(struct virtio_gpu_resp_display_info),
                vc_ctx_wait_ms(ctx));
    if (make_resource(ctx, d, img, 3) &&
        expect_cmd(ctx, d, "TRANSFER_TO_HOST_2D", &t2d, sizeof(t2d), hdr, NODATA) &&
        expect_cmd(ctx, d, "SET_SCANOUT", &ss, sizeof(ss), hdr, NODATA)) {
        expect_cmd(ctx, d, "RESOURCE_FLUSH", &rf, sizeof(rf), hdr, NODATA);
    }
    vc_gpu_serve(d, vc_chk_quiet_ms());
    if (ctx->violated) {
        return gpu_close(ctx, d);
    }
    /* Judged on a copy: the serving thread goes on meanwhile. */
    vc_gpu_sock_lock(s);
    snap = *s;
    vc_gpu_sock_unlock(s);
    s = &snap;
    for (unsigned i = 0; i < VHOST_USER_GPU_MAX; i++) {
        total += s->count[i];
    }
    if (total == 0) {
        vc_ctx_skip(ctx, "inconclusive: the back end sent nothing on the gpu socket");
        return gpu_close(ctx, d);
    }
    vc_expect(ctx, s->faulty == 0 && s->unknown == 0, "%" G_GUINT64_FORMAT " malformed request(s) "
              "on the gpu socket, the first: %s", s->faulty, s->first_fault);
    vc_expect(ctx, !s->broken || !s->first_fault[0], "the gpu socket broke: %s", s->first_fault);
    vc_expect(ctx, s->count[VHOST_USER_GPU_GET_PROTOCOL_FEATURES] == 0 ||
              s->pfeatures_set, "GET_PROTOCOL_FEATURES was answered but no "
              "SET_PROTOCOL_FEATURES followed");
    vc_expect(ctx, (s->pfeatures & ~s->pfeatures_offered) == 0, "SET_PROTOCOL_FEATURES 0x%"
              G_GINT64_MODIFIER "x sets bits the front end did not offer (0x%" G_GINT64_MODIFIER
              "x)", s->pfeatures, s->pfeatures_offered);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " requests on the gpu socket (GET_PROTOCOL_FEATURES "
                    "%" G_GUINT64_FORMAT ", SET_PROTOCOL_FEATURES 0x%" G_GINT64_MODIFIER "x, "
                    "GET_DISPLAY_INFO %" G_GUINT64_FORMAT ", SCANOUT %" G_GUINT64_FORMAT
                    ", UPDATE %" G_GUINT64_FORMAT "), all well formed", total,
                    s->count[VHOST_USER_GPU_GET_PROTOCOL_FEATURES], s->pfeatures,
                    s->count[VHOST_USER_GPU_GET_DISPLAY_INFO],
                    s->count[VHOST_USER_GPU_SCANOUT], s->count[VHOST_USER_GPU_UPDATE]);
    }
    return gpu_close(ctx, d);
}

#define GPU VC_CHECK_DATAPATH

static const VcCheck checks[] = {
    {"VIO-GPU-001", "virtio-v1.2#device-operation-gpu", VC_MUST, 0, 0, GPU,
     "every 2D control command is answered with its response type (OK_DISPLAY_INFO, OK_NODATA)",
     "gpu:gpu-wrong-resp-type", responses_typed, "gpu"},
    {"VIO-GPU-002", "virtio-v1.2#device-operation-gpu", VC_MUST, 0, 0, GPU,
     "a command naming a resource id never created is answered ERR_INVALID_RESOURCE_ID",
     "gpu:gpu-accept-bad-id", unknown_resource, "gpu"},
    {"VIO-GPU-003", "vhost-user-gpu.rst#communication", VC_MUST, 0, 0, GPU,
     "after SET_SCANOUT, TRANSFER and FLUSH the drawn pixels arrive in an UPDATE byte for byte",
     "gpu:gpu-pixels-off", pixels_reach_socket, "gpu"},
    {"VIO-GPU-004", "virtio-v1.2#device-operation-gpu", VC_MUST, 0, 0, GPU,
     "a fenced command's response carries VIRTIO_GPU_FLAG_FENCE and the same fence_id",
     "gpu:gpu-fence-dropped", fence_echoed, "gpu"},
    {"VIO-GPU-005", "vhost-user.rst#front-end-message-types", VC_MUST, 0, VC_PF(CONFIG), GPU,
     "GET_CONFIG of the 16-byte virtio_gpu_config is answered with 16 bytes",
     "gpu:gpu-config-short", config_16_bytes, "gpu"},
    {"VIO-GPU-006", "vhost-user-gpu.rst#wire-format", VC_MUST, 0, 0, GPU,
     "every request on the vhost-user-gpu socket is well formed (known id, size, flags, fds)",
     "gpu:gpu-socket-bad-size", socket_well_formed, "gpu"},
};

const VcCheckArea vc_area_gpu = {"gpu", checks, G_N_ELEMENTS(checks)};
