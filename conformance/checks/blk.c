/*
 * blk.c -- the virtio-blk device as a vhost-user back end serves it.
 * virtio 1.x 5.2 (block device): configuration layout, device
 * initialization and operation requirements; 2.7.8 (used ring: used.len).
 *
 * The checks read and write sectors from VC_CHK_SECTOR on (1 MiB in), away
 * from the sectors the generic traffic reads (0..255). Data patterns carry
 * a fresh seed per run, never the guard byte and never 0, so that a stale
 * or zeroed sector cannot pass for the data just written.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-drv-blk.h"
#include "vc-msg-table.h"

#define VC_CHK_SECTOR 2048u
#define DATA_CAP      (8 * VC_BLK_SECTOR_SIZE)
#define NREQ          8
#define F(b)          VC_F(b)

/* --- Helpers ------------------------------------------------------------------------------ */

static void
pattern(uint8_t *buf, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)((i * 131u + seed * 7u + (i >> 8)) & 0xff);
        /* Neither the guard (unwritten) nor 0 (zeroed) may look like written data. */
        buf[i] = b == VC_GMEM_GUARD || b == 0 ? 0x3c : b;
    }
}

/* Opens a started device and a pool on ring @q; NULL with the verdict set. */
static VcBlkDrv *
blk_open(VcCtx *ctx, const VcFeConfig *cfg, unsigned q)
{
    VcFrontend *fe = vc_ctx_open(ctx, cfg, true);
    VcBlkDrv *d;

    if (!fe) {
        return NULL;
    }
    d = vc_blk_new(fe, q, NREQ, DATA_CAP, VC_ERR(ctx));
    return vc_ctx_try(ctx, d != NULL) ? d : NULL;
}

/* The config space (QEMU's length); false with the verdict set. */
static bool
blk_config(VcCtx *ctx, VcFrontend *fe, struct virtio_blk_config *c)
{
    uint32_t len = ctx->base.config_len ? ctx->base.config_len : 60;

    return vc_ctx_try(ctx, vc_blk_get_config(fe, len, c, VC_ERR(ctx)));
}

/*
 * Runs one request to completion. A request the device never completes
 * breaks every rule here: it is a violation. Returns: the slot, or NULL with
 * the verdict set.
 */
static VcBlkReq *
blk_do(VcCtx *ctx, VcBlkDrv *d, const VcBlkCmd *cmd, const char *what)
{
    VcBlkReq *r = NULL;
    int rc = vc_blk_run(d, cmd, vc_ctx_wait_ms(ctx), &r);
    g_autofree char *how = NULL;

    if (rc < 0) {
        vc_ctx_error(ctx, "%s: cannot queue the request (%s)", what, g_strerror(-rc));
        return NULL;
    }
    if (rc == 0) {
        if (vc_ctx_daemon_dead(ctx, 200, &how)) {
            vc_ctx_violation(ctx, "%s: no completion; the daemon %s", what, how);
        } else {
            vc_ctx_violation(ctx, "%s was not completed within %d ms", what,
                             vc_ctx_wait_ms(ctx));
        }
        return NULL;
    }
    return r;
}

static VcBlkCmd
cmd_in(uint64_t sector, uint32_t len, unsigned nseg)
{
    return (VcBlkCmd){VIRTIO_BLK_T_IN, sector, VC_BLK_DIR_IN, len, NULL, nseg};
}

static VcBlkCmd
cmd_out(uint64_t sector, const void *data, uint32_t len, unsigned nseg)
{
    return (VcBlkCmd){VIRTIO_BLK_T_OUT, sector, VC_BLK_DIR_OUT, len, data, nseg};
}

static VcBlkCmd
cmd_bare(uint32_t type)
{
    return (VcBlkCmd){type, 0, VC_BLK_DIR_NONE, 0, NULL, 0};
}

/* DISCARD / WRITE_ZEROES with one segment. @seg must live until the request is queued. */
static VcBlkCmd
cmd_dwz(uint32_t type, struct virtio_blk_discard_write_zeroes *seg, uint64_t sector,
        uint32_t num, uint32_t flags)
{
    vc_blk_dwz(seg, sector, num, flags);
    return (VcBlkCmd){type, 0, VC_BLK_DIR_OUT, sizeof(*seg), seg, 1};
}

/* Expects status @want for @r; records a violation naming @what otherwise. */
static bool
want_status(VcCtx *ctx, const VcBlkReq *r, int want, const char *what)
{
    return vc_expect(ctx, r->status == want, "%s answered %s, want %s", what,
                     vc_blk_status_name(r->status), vc_blk_status_name(want));
}

/* The image file of a file-backed recipe ({tmpdir}/disk.img), or NULL. */
static char *
image_path(VcCtx *ctx)
{
    VcDaemon *dm = ctx->ops->daemon(ctx->runner);
    const char *tmp = dm ? vc_daemon_tmpdir(dm) : NULL;
    char *p;

    if (!tmp) {
        return NULL;
    }
    p = g_build_filename(tmp, "disk.img", NULL);
    if (!g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
        g_free(p);
        return NULL;
    }
    return p;
}

/* virtio 1.x 5.2.6.2: a device that offers RO fails every write; writing checks do not apply. */
#define REQUIRE_WRITABLE(ctx, fe)                                                             \
    vc_require((ctx), !((fe)->features_offered & F(VIRTIO_BLK_F_RO)),                         \
               "the device is read-only (VIRTIO_BLK_F_RO offered): writes fail by rule, "     \
               "VIO-BLK-020 judges that")

/* --- Config space ----------------------------------------------------------------------- */

static VcVerdict
config_capacity(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    g_autofree char *img = image_path(ctx);
    struct virtio_blk_config c;
    struct stat st;
    VcBlkCmd in;
    VcBlkReq *r;

    if (!d || !blk_config(ctx, d->fe, &c)) {
        return vc_ctx_done(ctx);
    }
    /* virtio 1.x 5.2.5.1: padding is zero. */
    vc_expect(ctx, c.unused == 0 && c.unused1[0] == 0 && c.unused1[1] == 0 && c.unused1[2] == 0,
              "padding bytes unused0 (0x%02x) / unused1 (%02x %02x %02x) are not 0", c.unused,
              c.unused1[0], c.unused1[1], c.unused1[2]);
    if (!vc_expect(ctx, c.capacity > 0, "capacity is 0 sectors")) {
        return vc_ctx_done(ctx);
    }
    if (img && stat(img, &st) == 0) {
        vc_expect(ctx, c.capacity == (uint64_t)st.st_size / VC_BLK_SECTOR_SIZE,
                  "capacity %" G_GUINT64_FORMAT " sectors, but the image file has %" G_GUINT64_FORMAT
                  " bytes (%" G_GUINT64_FORMAT " sectors)", (uint64_t)c.capacity,
                  (uint64_t)st.st_size, (uint64_t)st.st_size / VC_BLK_SECTOR_SIZE);
    }
    /* The last sector inside the capacity exists. */
    in = cmd_in(c.capacity - 1, VC_BLK_SECTOR_SIZE, 1);
    r = blk_do(ctx, d, &in, "IN of the last sector (capacity - 1)");
    if (r) {
        want_status(ctx, r, VIRTIO_BLK_S_OK, "IN of the last sector (capacity - 1)");
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "capacity %" G_GUINT64_FORMAT " sectors%s; last sector readable; "
                    "padding 0", (uint64_t)c.capacity, img ? ", equal to the image file" : "");
    }
    return vc_ctx_done(ctx);
}

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static VcVerdict
config_fields(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    struct virtio_blk_config c;
    bool bs, mq;

    if (!fe || !blk_config(ctx, fe, &c)) {
        return vc_ctx_done(ctx);
    }
    bs = fe->features_offered & F(VIRTIO_BLK_F_BLK_SIZE);
    mq = fe->features_offered & F(VIRTIO_BLK_F_MQ);
    vc_require(ctx, bs || mq, "the daemon offers neither BLK_SIZE nor MQ: no field to judge");
    if (bs) {
        vc_expect(ctx, is_pow2(c.blk_size) && c.blk_size >= VC_BLK_SECTOR_SIZE,
                  "blk_size %u is not a power of two of at least 512", c.blk_size);
    }
    if (mq) {
        vc_expect(ctx, c.num_queues >= 1, "MQ offered but num_queues is 0");
        if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
            vc_expect(ctx, c.num_queues <= fe->queue_num, "num_queues %u exceeds GET_QUEUE_NUM %"
                      G_GUINT64_FORMAT ": the back end cannot serve that many rings",
                      c.num_queues, fe->queue_num);
        }
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "blk_size %u, num_queues %u, GET_QUEUE_NUM %" G_GUINT64_FORMAT,
                    c.blk_size, c.num_queues, fe->queue_num);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
flush_with_wce(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    /* virtio 1.x 5.2.5.2: MUST offer FLUSH if it offers CONFIG_WCE. */
    vc_expect(ctx, fe->features_offered & F(VIRTIO_BLK_F_FLUSH), "CONFIG_WCE is offered "
              "without FLUSH (features 0x%" G_GINT64_MODIFIER "x)", fe->features_offered);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "CONFIG_WCE and FLUSH both offered");
    }
    return vc_ctx_done(ctx);
}

/* --- Requests ----------------------------------------------------------------------------- */

static VcVerdict
in_ok(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    static const struct {
        uint32_t len;
        unsigned nseg;
    } shapes[] = {{512, 1}, {4096, 1}, {4096, 4}, {1536, 3}};

    if (!d) {
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(shapes); i++) {
        VcBlkCmd in = cmd_in(VC_CHK_SECTOR + 16 * i, shapes[i].len, shapes[i].nseg);
        g_autofree char *what = g_strdup_printf("IN of %u bytes in %u descriptor(s)",
                                                shapes[i].len, shapes[i].nseg);
        VcBlkReq *r = blk_do(ctx, d, &in, what);
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, what)) {
            return vc_ctx_done(ctx);
        }
        vc_expect(ctx, r->data_unwritten <= shapes[i].len / 16 + 4, "%s: status OK but %u data "
                  "bytes were never written", what, r->data_unwritten);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "4 reads (512 B to 4 KiB, 1 to 4 descriptors) answered OK with data");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
out_read_back(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    uint8_t data[DATA_CAP];
    uint32_t seed = g_random_int();
    static const struct {
        uint64_t sector;
        uint32_t len;
        unsigned out_seg, in_seg;
    } runs[] = {{VC_CHK_SECTOR + 64, 4096, 3, 1}, {VC_CHK_SECTOR + 100, 512, 1, 2},
                {VC_CHK_SECTOR + 129, 2048, 4, 4}};

    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    for (unsigned i = 0; i < G_N_ELEMENTS(runs); i++) {
        VcBlkCmd out, in;
        VcBlkReq *r;
        const uint8_t *got;

        pattern(data, runs[i].len, seed + i);
        out = cmd_out(runs[i].sector, data, runs[i].len, runs[i].out_seg);
        r = blk_do(ctx, d, &out, "OUT");
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "OUT")) {
            return vc_ctx_done(ctx);
        }
        in = cmd_in(runs[i].sector, runs[i].len, runs[i].in_seg);
        r = blk_do(ctx, d, &in, "IN after OUT");
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "IN after OUT")) {
            return vc_ctx_done(ctx);
        }
        got = vc_blk_data(d, (unsigned)(r - d->req));
        for (uint32_t k = 0; got && k < runs[i].len; k++) {
            if (got[k] != data[k]) {
                vc_ctx_violation(ctx, "%u bytes written at sector %" G_GUINT64_FORMAT " read "
                                 "back differently from byte %u on (0x%02x, want 0x%02x)",
                                 runs[i].len, runs[i].sector, k, got[k], data[k]);
                return vc_ctx_done(ctx);
            }
        }
    }
    vc_ctx_note(ctx, "3 writes (512 B to 4 KiB, 1 to 4 descriptors) read back byte for byte");
    return vc_ctx_done(ctx);
}

static VcVerdict
out_reaches_file(VcCtx *ctx)
{
    g_autofree char *img = image_path(ctx);
    g_autoptr(VcBlkDrv) d = NULL;
    uint8_t data[4096], back[4096];
    const uint64_t sector = VC_CHK_SECTOR + 300;
    VcBlkCmd out, flush = cmd_bare(VIRTIO_BLK_T_FLUSH);
    VcBlkReq *r;
    ssize_t n;
    int fd;

    vc_require(ctx, img != NULL, "the daemon is not file-backed (no disk.img in its temporary "
               "directory; the qemu-storage-daemon-file recipe is)");
    d = blk_open(ctx, NULL, 0);
    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_FLUSH), "FLUSH was not negotiated");
    pattern(data, sizeof(data), g_random_int());
    out = cmd_out(sector, data, sizeof(data), 2);
    r = blk_do(ctx, d, &out, "OUT");
    if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "OUT")) {
        return vc_ctx_done(ctx);
    }
    /* virtio 1.x 5.2.6.2: once the FLUSH completes, the completed write is in the backing store. */
    r = blk_do(ctx, d, &flush, "FLUSH");
    if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "FLUSH")) {
        return vc_ctx_done(ctx);
    }
    fd = open(img, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return vc_ctx_error(ctx, "%s: %s", img, g_strerror(errno));
    }
    n = pread(fd, back, sizeof(back), (off_t)(sector * VC_BLK_SECTOR_SIZE));
    close(fd);
    if (!vc_expect(ctx, n == (ssize_t)sizeof(back), "the image file has only %zd bytes at "
                   "sector %" G_GUINT64_FORMAT, n, sector)) {
        return vc_ctx_done(ctx);
    }
    for (unsigned k = 0; k < sizeof(back); k++) {
        if (back[k] != data[k]) {
            vc_ctx_violation(ctx, "after OUT and FLUSH completed, the image file differs at "
                             "sector %" G_GUINT64_FORMAT " byte %u (0x%02x, want 0x%02x)", sector,
                             k, back[k], data[k]);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "4 KiB written and flushed are in %s at sector %" G_GUINT64_FORMAT, img,
                sector);
    return vc_ctx_done(ctx);
}

static VcVerdict
flush_ok(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    VcBlkCmd flush = cmd_bare(VIRTIO_BLK_T_FLUSH);
    VcBlkReq *r;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_FLUSH), "FLUSH was not negotiated");
    for (int i = 0; i < 2; i++) {
        r = blk_do(ctx, d, &flush, "FLUSH");
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "FLUSH")) {
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "FLUSH answered OK twice");
    return vc_ctx_done(ctx);
}

/* GET_ID into a 20-byte buffer; NULL with the verdict set. */
static VcBlkReq *
get_id(VcCtx *ctx, VcBlkDrv *d)
{
    VcBlkCmd id = {VIRTIO_BLK_T_GET_ID, 0, VC_BLK_DIR_IN, VIRTIO_BLK_ID_BYTES, NULL, 1};

    return blk_do(ctx, d, &id, "GET_ID");
}

static VcVerdict
get_id_ascii(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    g_autofree char *shown = NULL;
    VcBlkReq *r;
    const uint8_t *id;
    unsigned n = 0;

    if (!d || !(r = get_id(ctx, d))) {
        return vc_ctx_done(ctx);
    }
    if (r->status == VIRTIO_BLK_S_UNSUPP) {
        vc_ctx_note(ctx, "GET_ID answered UNSUPP (no ID string)");
        return vc_ctx_done(ctx);
    }
    if (!want_status(ctx, r, VIRTIO_BLK_S_OK, "GET_ID")) {
        return vc_ctx_done(ctx);
    }
    id = vc_blk_data(d, (unsigned)(r - d->req));
    for (; id && n < VIRTIO_BLK_ID_BYTES && id[n]; n++) {
        if (id[n] < 0x20 || id[n] > 0x7e) {
            vc_ctx_violation(ctx, "GET_ID: byte %u of the ID string is 0x%02x, not printable "
                             "ASCII", n, id[n]);
            return vc_ctx_done(ctx);
        }
    }
    shown = g_strndup((const char *)id, n);
    vc_ctx_note(ctx, "ID string \"%s\" (%u bytes)", shown, n);
    return vc_ctx_done(ctx);
}

static VcVerdict
get_id_padded(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    VcBlkReq *r;
    const uint8_t *id;
    unsigned n = 0;

    if (!d || !(r = get_id(ctx, d))) {
        return vc_ctx_done(ctx);
    }
    vc_require(ctx, r->status == VIRTIO_BLK_S_OK, "GET_ID answered %s",
               vc_blk_status_name(r->status));
    id = vc_blk_data(d, (unsigned)(r - d->req));
    while (id && n < VIRTIO_BLK_ID_BYTES && id[n] && id[n] != VC_GMEM_GUARD) {
        n++;
    }
    for (unsigned k = n; id && k < VIRTIO_BLK_ID_BYTES; k++) {
        if (id[k] != 0) {
            vc_ctx_violation(ctx, "GET_ID: the %u-byte ID string is not NUL-padded to %u bytes: "
                             "byte %u is 0x%02x%s", n, VIRTIO_BLK_ID_BYTES, k, id[k],
                             id[k] == VC_GMEM_GUARD ? " (never written)" : "");
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "%u-byte ID string, NUL-padded to %u bytes", n, VIRTIO_BLK_ID_BYTES);
    return vc_ctx_done(ctx);
}

static VcVerdict
discard_ok(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_discard_write_zeroes seg;
    VcBlkCmd c;
    VcBlkReq *r;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_DISCARD), "DISCARD was not negotiated");
    c = cmd_dwz(VIRTIO_BLK_T_DISCARD, &seg, VC_CHK_SECTOR + 512, 8, 0);
    r = blk_do(ctx, d, &c, "DISCARD of 8 sectors");
    if (r) {
        want_status(ctx, r, VIRTIO_BLK_S_OK, "DISCARD of 8 sectors");
    }
    if (!ctx->violated && r) {
        vc_ctx_note(ctx, "DISCARD of 8 sectors answered OK");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
discard_flags_unsupp(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_discard_write_zeroes seg;
    static const struct {
        uint32_t flags;
        const char *what;
    } cases[] = {{VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, "DISCARD with the unmap flag"},
                 {1u << 5, "DISCARD with reserved flag bit 5"}};

    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_DISCARD), "DISCARD was not negotiated");
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        VcBlkCmd c = cmd_dwz(VIRTIO_BLK_T_DISCARD, &seg, VC_CHK_SECTOR + 512, 8, cases[i].flags);
        VcBlkReq *r = blk_do(ctx, d, &c, cases[i].what);
        if (!r) {
            return vc_ctx_done(ctx);
        }
        /* virtio 1.x 5.2.6.2: UNSUPP for the unmap flag and for any unknown flag. */
        want_status(ctx, r, VIRTIO_BLK_S_UNSUPP, cases[i].what);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "unmap and an unknown flag both answered UNSUPP");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
write_zeroes_reads_zero(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_discard_write_zeroes seg;
    uint8_t data[DATA_CAP];
    const uint64_t base = VC_CHK_SECTOR + 640;
    VcBlkCmd c;
    VcBlkReq *r;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_WRITE_ZEROES),
               "WRITE_ZEROES was not negotiated");
    /* Data first, so that zeroes can only come from the command. */
    for (unsigned half = 0; half < 2; half++) {
        pattern(data, 4096, g_random_int());
        c = cmd_out(base + 8 * half, data, 4096, 1);
        r = blk_do(ctx, d, &c, "OUT before WRITE_ZEROES");
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "OUT before WRITE_ZEROES")) {
            return vc_ctx_done(ctx);
        }
    }
    for (unsigned half = 0; half < 2; half++) {
        uint32_t flags = half ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
        const char *what = half ? "WRITE_ZEROES with unmap" : "WRITE_ZEROES";
        const uint8_t *got;

        c = cmd_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, base + 8 * half, 8, flags);
        r = blk_do(ctx, d, &c, what);
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, what)) {
            return vc_ctx_done(ctx);
        }
        /* virtio 1.x 5.2.6.2: afterwards reads of the range MUST return zeroes. */
        c = cmd_in(base + 8 * half, 4096, 1);
        r = blk_do(ctx, d, &c, "IN after WRITE_ZEROES");
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "IN after WRITE_ZEROES")) {
            return vc_ctx_done(ctx);
        }
        got = vc_blk_data(d, (unsigned)(r - d->req));
        for (unsigned k = 0; got && k < 4096; k++) {
            if (got[k] != 0) {
                vc_ctx_violation(ctx, "after %s of sectors %" G_GUINT64_FORMAT "..+7 completed, "
                                 "byte %u reads 0x%02x, not 0", what, base + 8 * half, k, got[k]);
                return vc_ctx_done(ctx);
            }
        }
    }
    vc_ctx_note(ctx, "WRITE_ZEROES with and without unmap answered OK; both ranges read zeroes");
    return vc_ctx_done(ctx);
}

static VcVerdict
write_zeroes_flags_unsupp(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_discard_write_zeroes seg;
    VcBlkCmd c;
    VcBlkReq *r;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    REQUIRE_WRITABLE(ctx, d->fe);
    vc_require(ctx, vc_fe_has_feature(d->fe, VIRTIO_BLK_F_WRITE_ZEROES),
               "WRITE_ZEROES was not negotiated");
    c = cmd_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, VC_CHK_SECTOR + 700, 8, 1u << 1);
    r = blk_do(ctx, d, &c, "WRITE_ZEROES with reserved flag bit 1");
    if (r) {
        want_status(ctx, r, VIRTIO_BLK_S_UNSUPP, "WRITE_ZEROES with reserved flag bit 1");
    }
    if (!ctx->violated && r) {
        vc_ctx_note(ctx, "an unknown WRITE_ZEROES flag answered UNSUPP");
    }
    return vc_ctx_done(ctx);
}

/* A batch of every kind of request, posted together. Returns: how many (0: verdict set). */
static unsigned
mixed_batch(VcCtx *ctx, VcBlkDrv *d, uint64_t capacity, int slots[NREQ])
{
    uint8_t data[512];
    VcBlkCmd cmds[NREQ];
    unsigned n = 0, got;

    pattern(data, sizeof(data), g_random_int());
    cmds[n++] = cmd_in(VC_CHK_SECTOR + 800, 4096, 2);
    cmds[n++] = cmd_out(VC_CHK_SECTOR + 808, data, sizeof(data), 1);
    cmds[n++] = (VcBlkCmd){VIRTIO_BLK_T_GET_ID, 0, VC_BLK_DIR_IN, VIRTIO_BLK_ID_BYTES, NULL, 1};
    cmds[n++] = cmd_bare(0x7f);
    if (capacity) {
        cmds[n++] = cmd_in(capacity, VC_BLK_SECTOR_SIZE, 1);
    }
    if (vc_fe_has_feature(d->fe, VIRTIO_BLK_F_FLUSH)) {
        cmds[n++] = cmd_bare(VIRTIO_BLK_T_FLUSH);
    }
    for (unsigned i = 0; i < n; i++) {
        slots[i] = vc_blk_queue(d, &cmds[i]);
        if (slots[i] < 0) {
            vc_ctx_error(ctx, "cannot queue request %u (%s)", i, g_strerror(-slots[i]));
            return 0;
        }
    }
    vc_blk_kick(d);
    got = vc_blk_wait(d, n, vc_ctx_wait_ms(ctx));
    if (got < n) {
        vc_ctx_violation(ctx, "%u of %u requests of a mixed batch completed within %d ms", got, n,
                         vc_ctx_wait_ms(ctx));
        return 0;
    }
    return n;
}

static VcVerdict
status_values(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_config c = {0};
    int slots[NREQ];
    unsigned n;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (vc_fe_has_pfeature(d->fe, VHOST_USER_PROTOCOL_F_CONFIG) && !blk_config(ctx, d->fe, &c)) {
        return vc_ctx_done(ctx);
    }
    n = mixed_batch(ctx, d, c.capacity, slots);
    for (unsigned i = 0; i < n; i++) {
        const VcBlkReq *r = &d->req[slots[i]];
        /* virtio 1.x 5.2.6: OK, IOERR or UNSUPP (the zoned codes need VIRTIO_BLK_F_ZONED). */
        vc_expect(ctx, r->status >= VIRTIO_BLK_S_OK && r->status <= VIRTIO_BLK_S_UNSUPP,
                  "%s: status byte %s", vc_blk_type_name(r->cmd.type),
                  vc_blk_status_name(r->status));
    }
    if (!ctx->violated && n) {
        vc_ctx_note(ctx, "%u requests of 6 kinds: every status byte 0, 1 or 2", n);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
unknown_type_unsupp(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    /* Zone requests without VIRTIO_BLK_F_ZONED (no data), and numbers never defined. */
    static const uint32_t types[] = {18, 20, 22, 24, 26, 0x7f, 0x12345};

    if (!d) {
        return vc_ctx_done(ctx);
    }
    vc_require(ctx, !vc_fe_has_feature(d->fe, 17), "VIRTIO_BLK_F_ZONED was negotiated");
    for (unsigned i = 0; i < G_N_ELEMENTS(types); i++) {
        VcBlkCmd c = cmd_bare(types[i]);
        g_autofree char *what = g_strdup_printf("request type %u", types[i]);
        VcBlkReq *r = blk_do(ctx, d, &c, what);
        if (!r) {
            return vc_ctx_done(ctx);
        }
        want_status(ctx, r, VIRTIO_BLK_S_UNSUPP, what);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "zone types 18..26 and types 127, 74565 answered UNSUPP");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
past_capacity_ioerr(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_config c;
    uint8_t data[1024];
    VcBlkCmd cmds[3];
    const char *what[3] = {"IN of sector capacity", "IN of 2 sectors from capacity - 1",
                           "OUT of sector capacity"};

    if (!d || !blk_config(ctx, d->fe, &c)) {
        return vc_ctx_done(ctx);
    }
    pattern(data, sizeof(data), g_random_int());
    cmds[0] = cmd_in(c.capacity, 512, 1);
    cmds[1] = cmd_in(c.capacity - 1, 1024, 1);
    cmds[2] = cmd_out(c.capacity, data, 512, 1);
    for (unsigned i = 0; i < G_N_ELEMENTS(cmds); i++) {
        VcBlkReq *r;
        if (i == 2 && vc_fe_has_feature(d->fe, VIRTIO_BLK_F_RO)) {
            continue;
        }
        r = blk_do(ctx, d, &cmds[i], what[i]);
        if (!r) {
            return vc_ctx_done(ctx);
        }
        want_status(ctx, r, VIRTIO_BLK_S_IOERR, what[i]);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "reads and a write beyond capacity %" G_GUINT64_FORMAT " answered IOERR",
                    (uint64_t)c.capacity);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
every_queue_works(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    struct virtio_blk_config c;
    unsigned nq;

    if (!fe || !blk_config(ctx, fe, &c)) {
        return vc_ctx_done(ctx);
    }
    vc_require(ctx, c.num_queues >= 1, "num_queues is 0 (VIO-BLK-002 judges that)");
    nq = MIN((unsigned)c.num_queues, VC_FE_MAX_QUEUES);
    /* virtio 1.x 5.2.2: with MQ the device has num_queues request queues; start them all. */
    cfg.num_queues = nq;
    fe = vc_ctx_open(ctx, &cfg, true);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    for (unsigned q = 0; q < nq; q++) {
        g_autoptr(VcBlkDrv) d = vc_blk_new(fe, q, 2, VC_BLK_SECTOR_SIZE, VC_ERR(ctx));
        VcBlkCmd in = cmd_in(VC_CHK_SECTOR + q, VC_BLK_SECTOR_SIZE, 1);
        g_autofree char *what = g_strdup_printf("IN on ring %u of %u", q, nq);
        VcBlkReq *r;

        VC_TRY(ctx, d != NULL);
        r = blk_do(ctx, d, &in, what);
        if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, what)) {
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "a read completed OK on each of the %u request queues", nq);
    return vc_ctx_done(ctx);
}

static VcVerdict
read_len_complete(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    static const uint32_t lens[] = {512, 4096};

    if (!d) {
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
        VcBlkCmd in = cmd_in(VC_CHK_SECTOR + 900 + 8 * i, lens[i], 2);
        VcBlkReq *r = blk_do(ctx, d, &in, "IN");
        if (!r) {
            return vc_ctx_done(ctx);
        }
        vc_require(ctx, r->status == VIRTIO_BLK_S_OK, "inconclusive: IN answered %s",
                   vc_blk_status_name(r->status));
        vc_expect(ctx, r->used_len == lens[i] + 1, "a successful IN of %u bytes reported "
                  "used.len %u, want %u (data + status): the driver may not use bytes beyond "
                  "used.len", lens[i], r->used_len, lens[i] + 1);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "used.len 513 and 4097 for reads of 512 and 4096 bytes");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
len_not_overstated(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    struct virtio_blk_config c;
    int slots[NREQ];
    unsigned n;

    if (!d || !blk_config(ctx, d->fe, &c)) {
        return vc_ctx_done(ctx);
    }
    n = mixed_batch(ctx, d, c.capacity, slots);
    for (unsigned i = 0; i < n; i++) {
        const VcBlkReq *r = &d->req[slots[i]];
        const char *what = r->cmd.type == VIRTIO_BLK_T_IN && r->cmd.sector >= c.capacity
                               ? "IN beyond capacity" : vc_blk_type_name(r->cmd.type);
        /*
         * virtio 1.x 2.7.8.1: the device writes at least used.len bytes. The status byte
         * closes a blk chain, so a request that writes the status alone may say 1 (5.2.6.3:
         * devices that put the writable length there although only the status byte was
         * written are the historical mistake).
         */
        if (r->used_len > r->writable) {
            vc_ctx_violation(ctx, "%s (status %s): used.len %u exceeds the %u writable bytes",
                             what, vc_blk_status_name(r->status), r->used_len, r->writable);
        } else if (r->used_len > r->written) {
            bool st = r->status != VC_BLK_STATUS_NONE;
            vc_ctx_violation(ctx, "%s (status %s): used.len %u, but the device wrote only %u "
                             "byte(s): %u of the %u-byte data buffer%s", what,
                             vc_blk_status_name(r->status), r->used_len, r->written,
                             r->written - st, r->writable - 1, st ? " and the status" : "");
        }
    }
    if (!ctx->violated && n) {
        vc_ctx_note(ctx, "%u requests of 6 kinds: used.len never counted unwritten bytes", n);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
read_only_refuses_writes(VcCtx *ctx)
{
    g_autoptr(VcBlkDrv) d = blk_open(ctx, NULL, 0);
    uint8_t before[512], data[512];
    const uint64_t sector = VC_CHK_SECTOR + 1000;
    VcBlkCmd in = cmd_in(sector, sizeof(before), 1), out;
    VcBlkReq *r;
    const uint8_t *got;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    r = blk_do(ctx, d, &in, "IN");
    if (!r || !want_status(ctx, r, VIRTIO_BLK_S_OK, "IN")) {
        return vc_ctx_done(ctx);
    }
    got = vc_blk_data(d, (unsigned)(r - d->req));
    if (!got) {
        return vc_ctx_error(ctx, "the request's data buffer is no longer in guest memory");
    }
    memcpy(before, got, sizeof(before));
    pattern(data, sizeof(data), g_random_int());
    out = cmd_out(sector, data, sizeof(data), 1);
    r = blk_do(ctx, d, &out, "OUT to a read-only device");
    if (!r || !want_status(ctx, r, VIRTIO_BLK_S_IOERR, "OUT to a read-only device")) {
        return vc_ctx_done(ctx);
    }
    r = blk_do(ctx, d, &in, "IN after the refused OUT");
    if (!r) {
        return vc_ctx_done(ctx);
    }
    got = vc_blk_data(d, (unsigned)(r - d->req));
    vc_expect(ctx, got && memcmp(got, before, sizeof(before)) == 0, "the read-only device "
              "refused the OUT but the sector changed");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "OUT answered IOERR and the sector kept its data");
    }
    return vc_ctx_done(ctx);
}

#define SPEC "virtio-v1.2#block-device"
#define USED "virtio-v1.2#the-virtqueue-used-ring"
#define CFG  VC_PF(CONFIG)
#define DP   VC_CHECK_DATAPATH

static const VcCheck checks[] = {
    {"VIO-BLK-001", SPEC, VC_MUST, 0, CFG, DP,
     "capacity matches the disk (image file size; last sector readable); config padding is 0",
     "blk-bad-capacity", config_capacity, "blk"},
    {"VIO-BLK-002", SPEC, VC_SHOULD, 0, CFG, 0,
     "blk_size is a power of two >= 512; num_queues is 1..GET_QUEUE_NUM",
     "blk-num-queues-zero", config_fields, "blk"},
    {"VIO-BLK-003", SPEC, VC_MUST, F(VIRTIO_BLK_F_CONFIG_WCE), 0, 0,
     "FLUSH is offered whenever CONFIG_WCE is", "blk-wce-no-flush", flush_with_wce, "blk"},
    {"VIO-BLK-004", SPEC, VC_MUST, 0, 0, DP,
     "IN requests (1 to 4 data descriptors) are answered OK with the data written",
     "blk-in-ioerr", in_ok, "blk"},
    {"VIO-BLK-005", SPEC, VC_MUST, 0, 0, DP,
     "OUT is answered OK and the data reads back byte for byte", "blk-out-dropped",
     out_read_back, "blk"},
    {"VIO-BLK-006", SPEC, VC_MUST, F(VIRTIO_BLK_F_FLUSH), 0, DP,
     "after OUT and FLUSH complete, the data is in the backing image file",
     "blk-flush-no-sync", out_reaches_file, "blk"},
    {"VIO-BLK-007", SPEC, VC_MUST, F(VIRTIO_BLK_F_FLUSH), 0, DP,
     "FLUSH is answered OK when VIRTIO_BLK_F_FLUSH is negotiated", "blk-flush-unsupp",
     flush_ok, "blk"},
    {"VIO-BLK-008", SPEC, VC_MUST, 0, 0, DP,
     "GET_ID is answered OK with a printable ASCII ID string, or UNSUPP", "blk-get-id-binary",
     get_id_ascii, "blk"},
    {"VIO-BLK-009", SPEC, VC_SHOULD, 0, 0, DP,
     "the GET_ID string is NUL-padded to 20 bytes", "blk-get-id-unpadded", get_id_padded,
     "blk"},
    {"VIO-BLK-010", SPEC, VC_MUST, F(VIRTIO_BLK_F_DISCARD), 0, DP,
     "DISCARD of a range is answered OK when VIRTIO_BLK_F_DISCARD is negotiated",
     "blk-discard-ioerr", discard_ok, "blk"},
    {"VIO-BLK-011", SPEC, VC_MUST, F(VIRTIO_BLK_F_DISCARD), 0, DP,
     "DISCARD with the unmap flag or an unknown flag is answered UNSUPP",
     "blk-discard-flags-ok", discard_flags_unsupp, "blk"},
    {"VIO-BLK-012", SPEC, VC_MUST, F(VIRTIO_BLK_F_WRITE_ZEROES), 0, DP,
     "WRITE_ZEROES (with and without unmap) is answered OK and the range then reads zeroes",
     "blk-write-zeroes-noop", write_zeroes_reads_zero, "blk"},
    {"VIO-BLK-013", SPEC, VC_MUST, F(VIRTIO_BLK_F_WRITE_ZEROES), 0, DP,
     "WRITE_ZEROES with an unknown flag is answered UNSUPP", "blk-write-zeroes-flags-ok",
     write_zeroes_flags_unsupp, "blk"},
    {"VIO-BLK-014", SPEC, VC_MUST, 0, 0, DP,
     "every status byte is VIRTIO_BLK_S_OK, IOERR or UNSUPP (0, 1 or 2)", "blk-status-3",
     status_values, "blk"},
    {"VIO-BLK-015", SPEC, VC_MUST, 0, 0, DP,
     "unknown request types (zone types without ZONED, undefined numbers) are answered UNSUPP",
     "blk-unknown-type-ok", unknown_type_unsupp, "blk"},
    {"VIO-BLK-016", SPEC, VC_MUST, 0, CFG, DP,
     "reads and writes at or across the capacity are answered IOERR", "blk-no-range-check",
     past_capacity_ioerr, "blk"},
    {"VIO-BLK-017", SPEC, VC_MUST, F(VIRTIO_BLK_F_MQ), CFG, DP,
     "with MQ every request queue up to num_queues completes I/O", "blk-mq-ignores-q1",
     every_queue_works, "blk"},
    {"VIO-BLK-018", USED, VC_SHOULD, 0, 0, DP,
     "a successful read reports used.len = data + status (513 for 512 bytes)",
     "blk-in-len-short", read_len_complete, "blk"},
    {"VIO-BLK-019", USED, VC_MUST, 0, CFG, DP,
     "used.len never counts bytes the device did not write (GET_ID, OUT, FLUSH, failed IN)",
     "blk-len-overstated", len_not_overstated, "blk"},
    {"VIO-BLK-020", SPEC, VC_MUST, F(VIRTIO_BLK_F_RO), 0, DP,
     "a read-only device answers OUT with IOERR and writes nothing", "blk-ro-writes",
     read_only_refuses_writes, "blk"},
};

const VcCheckArea vc_area_blk = {"blk", checks, G_N_ELEMENTS(checks)};
