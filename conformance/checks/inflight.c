/*
 * inflight.c -- inflight I/O tracking and QEMU's reconnect after a back-end
 * crash. vhost-user.rst "Inflight I/O tracking", GET_INFLIGHT_FD,
 * SET_INFLIGHT_FD; SPEC-FACTS 7.13 and 6.4.
 *
 * Requests must stay in flight long enough to be seen: the checks post reads
 * of the last 8 sectors, which our reference blk daemon completes --slow-ms
 * (200 ms) late, next to reads of the first sectors, which complete at once.
 * A daemon that completes everything at once makes the checks that need
 * requests in flight inconclusive (SKIP), never FAIL.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-drv-blk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define NSLOW 4
#define NFAST 4
#define PF_INF VC_PF(INFLIGHT_SHMFD)

/* The regions' layouts: VcInflightSplit and VcInflightPacked of vc-proto.h. */
_Static_assert(sizeof(VcInflightDescSplit) == 16, "VcInflightDescSplit is 16 bytes");
_Static_assert(sizeof(VcInflightSplit) == 16, "VcInflightSplit header is 16 bytes");

/* One test set-up: a started blk device with an inflight buffer and a request pool. */
typedef struct Inf {
    VcFrontend *fe;          /* ctx->fe */
    VcBlkDrv *d;
    uint64_t capacity;
    uint8_t *map;            /* the inflight buffer, mapped read-only */
    size_t map_len;
    int slow[NSLOW], fast[NFAST];
} Inf;

static void
inf_clear(Inf *x)
{
    g_clear_pointer(&x->d, vc_blk_free);
    if (x->map) {
        munmap(x->map, x->map_len);
        x->map = NULL;
    }
}

/* The capacity from GET_CONFIG; 0 with the verdict set when it cannot be read. */
static uint64_t
capacity_of(VcCtx *ctx, VcFrontend *fe)
{
    struct virtio_blk_config c;

    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG)) {
        vc_ctx_skip(ctx, "needs CONFIG to find the disk's last sectors");
        return 0;
    }
    if (!vc_ctx_try(ctx, vc_blk_get_config(fe, ctx->base.config_len ? ctx->base.config_len : 60,
                                           &c, VC_ERR(ctx)))) {
        return 0;
    }
    if (c.capacity < 16) {
        vc_ctx_skip(ctx, "the disk is too small (%" G_GUINT64_FORMAT " sectors)",
                    (uint64_t)c.capacity);
        return 0;
    }
    return c.capacity;
}

/* Maps the buffer described by fe->inflight; false with the verdict set. */
static bool
map_region(VcCtx *ctx, Inf *x)
{
    const VhostUserInflight *in = &x->fe->inflight;
    void *p;

    if (x->fe->inflight_fd < 0 || in->mmap_size == 0) {
        vc_ctx_skip(ctx, "the daemon gave no inflight buffer (mmap_size 0)");
        return false;
    }
    p = mmap(NULL, in->mmap_size, PROT_READ, MAP_SHARED, x->fe->inflight_fd,
             (off_t)in->mmap_offset);
    if (p == MAP_FAILED) {
        vc_ctx_violation(ctx, "the inflight fd cannot be mapped at offset %" G_GUINT64_FORMAT
                         " for %" G_GUINT64_FORMAT " bytes: %s", (uint64_t)in->mmap_offset,
                         (uint64_t)in->mmap_size, g_strerror(errno));
        return false;
    }
    x->map = p;
    x->map_len = in->mmap_size;
    return true;
}

static bool
profile_uses_inflight(const VcFrontend *fe)
{
    for (const VcStep *st = vc_profile_start_steps(fe->profile, fe->cfg.device);
         st && *st != VC_STEP_END; st++) {
        if (*st == VC_STEP_SET_INFLIGHT) {
            return true;
        }
    }
    return false;
}

/*
 * A started blk device in the profile's order (QEMU 7.2: SET_FEATURES, GET_INFLIGHT_FD and
 * SET_INFLIGHT_FD, then the rings), a request pool on ring 0 and the disk's capacity.
 */
static bool
inf_open(VcCtx *ctx, Inf *x)
{
    VcFeConfig cfg = vc_ctx_config(ctx);

    cfg.ring_size = cfg.ring_size ? cfg.ring_size : 128;
    x->fe = vc_ctx_open(ctx, &cfg, true);
    if (!x->fe) {
        return false;
    }
    if (!profile_uses_inflight(x->fe)) {
        vc_ctx_skip(ctx, "the %s profile does not use inflight tracking", x->fe->profile->name);
        return false;
    }
    if (!(x->capacity = capacity_of(ctx, x->fe))) {
        return false;
    }
    x->d = vc_blk_new(x->fe, 0, NSLOW + NFAST, VC_BLK_SECTOR_SIZE, VC_ERR(ctx));
    return vc_ctx_try(ctx, x->d != NULL) && map_region(ctx, x);
}

/* QEMU's reconnect: the whole handshake again, the kept buffer, SET_VRING_BASE = used->idx. */
static bool
inf_reconnect(VcCtx *ctx, Inf *x)
{
    int fd = ctx->ops->connect(ctx->runner, VC_ERR(ctx));

    if (!vc_ctx_try(ctx, fd >= 0)) {
        return false;
    }
    vc_fe_reconnect(x->fe, fd);
    return vc_ctx_try(ctx, vc_fe_init(x->fe, VC_ERR(ctx))) &&
           vc_ctx_try(ctx, vc_fe_start(x->fe, VC_ERR(ctx)));
}

/*
 * Posts NSLOW reads in the slow zone and NFAST reads at the start of the disk, kicks and waits
 * for the fast ones. Returns: true when the slow ones are still in flight (else SKIP set).
 */
static bool
inf_post(VcCtx *ctx, Inf *x)
{
    for (unsigned i = 0; i < NSLOW + NFAST; i++) {
        uint64_t sector = i < NSLOW ? x->capacity - 8 + i : i - NSLOW;
        VcBlkCmd c = {VIRTIO_BLK_T_IN, sector, VC_BLK_DIR_IN, VC_BLK_SECTOR_SIZE, NULL, 1};
        int s = vc_blk_queue(x->d, &c);

        if (s < 0) {
            vc_ctx_error(ctx, "cannot queue a read: %s", g_strerror(-s));
            return false;
        }
        if (i < NSLOW) {
            x->slow[i] = s;
        } else {
            x->fast[i - NSLOW] = s;
        }
    }
    vc_blk_kick(x->d);
    vc_blk_wait(x->d, NFAST, vc_ctx_wait_ms(ctx));
    for (unsigned i = 0; i < NFAST; i++) {
        if (x->d->req[x->fast[i]].completions != 1) {
            vc_ctx_violation(ctx, "a read of sector %u was not completed within %d ms", i,
                             vc_ctx_wait_ms(ctx));
            return false;
        }
    }
    if (vc_blk_in_flight(x->d) != NSLOW) {
        vc_ctx_skip(ctx, "inconclusive: the daemon completed every request at once (%u of %u "
                    "reads of the last sectors stayed in flight); our reference blk daemon "
                    "delays them (--slow-ms)", vc_blk_in_flight(x->d), NSLOW);
        return false;
    }
    return true;
}

static bool
is_packed(const Inf *x)
{
    return x->fe->q[0].vq && x->fe->q[0].vq->packed;
}

/* Ring 0's region of the buffer in the spec's layout; NULL when it cannot hold the ring. */
static const uint8_t *
region0(const Inf *x)
{
    size_t per = x->fe->inflight.num_queues ? x->map_len / x->fe->inflight.num_queues : 0;
    size_t need = is_packed(x) ? sizeof(VcInflightPacked) +
                                     (size_t)x->fe->cfg.ring_size * sizeof(VcInflightDescPacked)
                               : sizeof(VcInflightSplit) +
                                     (size_t)x->fe->cfg.ring_size * sizeof(VcInflightDescSplit);

    return per >= need ? x->map : NULL;
}

/* Descriptors of ring 0 marked inflight; the counters in @counters (room for ring size). */
static unsigned
inflight_marked(const Inf *x)
{
    const uint8_t *r = region0(x);
    unsigned n = 0;

    for (unsigned i = 0; r && i < x->fe->cfg.ring_size; i++) {
        n += is_packed(x) ? ((const VcInflightPacked *)r)->desc[i].inflight == 1
                          : ((const VcInflightSplit *)r)->desc[i].inflight == 1;
    }
    return n;
}

/* The region's used index as the driver sees it (packed: position | wrap << 15). */
static uint16_t
region_used(const Inf *x)
{
    const uint8_t *r = region0(x);

    if (is_packed(x)) {
        const VcInflightPacked *p = (const VcInflightPacked *)r;
        return (uint16_t)(le16toh(p->used_idx) | (p->used_wrap_counter ? 0x8000 : 0));
    }
    return le16toh(((const VcInflightSplit *)r)->used_idx);
}

static VcVerdict
inflight_fd_reply(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcFrontend *fe;
    g_autoptr(GError) err = NULL;
    g_autofree VcMsg *raw = g_new0(VcMsg, 1);
    struct stat st;

    cfg.ring_size = cfg.ring_size ? cfg.ring_size : 128;
    /* After SET_FEATURES, as QEMU asks (the layout depends on RING_PACKED). */
    fe = vc_ctx_open(ctx, &cfg, false);
    if (!fe || !vc_ctx_try(ctx, vc_fe_set_features(fe, vc_fe_negotiate_features(fe),
                                                   VC_ERR(ctx)))) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_get_inflight_fd(fe, &err)) {
        vc_ctx_violation(ctx, "GET_INFLIGHT_FD (%u queues of %u): %s", fe->num_queues,
                         cfg.ring_size, err->message);
        return vc_ctx_done(ctx);
    }
    if (fe->inflight.mmap_size == 0) {
        vc_expect(ctx, fe->inflight_fd < 0, "mmap_size 0 came with an fd");
        vc_ctx_note(ctx, "mmap_size 0: no tracking offered");
        return vc_ctx_done(ctx);
    }
    if (fe->inflight_fd < 0) {
        vc_ctx_violation(ctx, "mmap_size %" G_GUINT64_FORMAT " but no fd",
                         (uint64_t)fe->inflight.mmap_size);
        return vc_ctx_done(ctx);
    }
    if (fstat(fe->inflight_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < fe->inflight.mmap_offset + fe->inflight.mmap_size) {
        vc_ctx_violation(ctx, "the inflight fd is not a file of at least mmap_offset + "
                         "mmap_size = %" G_GUINT64_FORMAT " bytes",
                         (uint64_t)(fe->inflight.mmap_offset + fe->inflight.mmap_size));
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, fe->inflight.num_queues == fe->num_queues &&
                   fe->inflight.queue_size == cfg.ring_size,
              "the answer describes %u queues of %u, the request asked for %u of %u",
              fe->inflight.num_queues, fe->inflight.queue_size, fe->num_queues, cfg.ring_size);
    vc_ctx_note(ctx, "mmap_size %" G_GUINT64_FORMAT " with a memfd",
                (uint64_t)fe->inflight.mmap_size);
    /* Hostile: no payload at all. An error or silence is fine; the runner's probe after the
     * check catches a crash or a hang. */
    vc_msg_init(raw, VHOST_USER_GET_INFLIGHT_FD, 0);
    raw->hdr.size = 0;
    if (vc_conn_send(fe->conn, raw, fe->timeout_ms) == 0) {
        vc_fe_expect_silence(fe, 200, NULL);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_layout(VcCtx *ctx)
{
    Inf x = {0};
    size_t per, want_split, want_packed;
    uint16_t qs;

    if (!inf_open(ctx, &x)) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    qs = x.fe->inflight.queue_size;
    per = x.map_len / MAX(x.fe->inflight.num_queues, 1);
    /* libvhost-user's and DPDK's sizes of the spec's layouts. */
    want_split = ((size_t)16 * qs + 2 + 63) & ~(size_t)63;
    want_packed = ((size_t)32 + 32 * qs + 63) & ~(size_t)63;
    if (is_packed(&x)) {
        vc_expect(ctx, per >= want_packed, "per-queue region of %zu bytes, smaller than a "
                  "VcInflightPacked for %u descriptors (%zu)", per, qs, want_packed);
    } else {
        vc_expect(ctx, per >= want_split, "per-queue region of %zu bytes, smaller than a "
                  "VcInflightSplit for %u descriptors (%zu)", per, qs, want_split);
    }
    vc_expect(ctx, x.map_len % MAX(x.fe->inflight.num_queues, 1) == 0,
              "mmap_size %zu is not a whole number of per-queue regions (%u queues)", x.map_len,
              x.fe->inflight.num_queues);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%u queue regions of %zu bytes for %u descriptors",
                    x.fe->inflight.num_queues, per, qs);
    }
    inf_clear(&x);
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_tracked(VcCtx *ctx)
{
    Inf x = {0};
    unsigned marked;

    if (!inf_open(ctx, &x) || !inf_post(ctx, &x)) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    if (!region0(&x)) {
        inf_clear(&x);
        return vc_ctx_skip(ctx, "the buffer is smaller than the spec's layout (VU-INF-02)");
    }
    /* The slow reads are in flight now: their heads must be marked. */
    marked = inflight_marked(&x);
    vc_expect(ctx, marked == NSLOW, "with %u requests fetched and not completed, %u descriptors "
              "are marked inflight in the buffer", NSLOW, marked);
    vc_expect(ctx, region_used(&x) == vc_vq_used_idx(x.d->vq),
              "the buffer's used index is 0x%x, the ring's is 0x%x", region_used(&x),
              vc_vq_used_idx(x.d->vq));
    /* Once they complete the marks go. */
    vc_blk_wait(x.d, NSLOW, vc_ctx_wait_ms(ctx) + 2000);
    if (vc_blk_in_flight(x.d) == 0) {
        marked = inflight_marked(&x);
        vc_expect(ctx, marked == 0, "after every request completed, %u descriptors are still "
                  "marked inflight", marked);
        vc_expect(ctx, region_used(&x) == vc_vq_used_idx(x.d->vq),
                  "after completion the buffer's used index is 0x%x, the ring's is 0x%x",
                  region_used(&x), vc_vq_used_idx(x.d->vq));
    }
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%u in-flight heads marked, cleared on completion, used index tracked "
                    "(%s layout)", NSLOW, is_packed(&x) ? "packed" : "split");
    }
    inf_clear(&x);
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_resubmitted(VcCtx *ctx)
{
    Inf x = {0};
    VcDaemon *dm = ctx->ops->daemon(ctx->runner);
    uint64_t done0;

    if (!dm || !vc_daemon_has_process(dm)) {
        return vc_ctx_skip(ctx, "needs a daemon process started by vhost-conform");
    }
    if (!inf_open(ctx, &x) || !inf_post(ctx, &x)) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    done0 = x.d->completed;
    /* The crash: nothing of the daemon survives but the inflight buffer we hold. */
    vc_daemon_signal(dm, SIGKILL);
    if (!vc_daemon_wait_exit(dm, 5000)) {
        inf_clear(&x);
        return vc_ctx_error(ctx, "the daemon did not die of SIGKILL within 5 s");
    }
    if (vc_blk_in_flight(x.d) != NSLOW) {
        inf_clear(&x);
        return vc_ctx_skip(ctx, "inconclusive: the slow requests completed before the kill");
    }
    /* A new process on the same socket; the front end (memory, rings, buffer) stays. */
    if (!vc_ctx_try(ctx, ctx->ops->restart(ctx->runner, VC_ERR(ctx)))) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    if (!inf_reconnect(ctx, &x)) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    vc_blk_wait(x.d, NSLOW, vc_ctx_wait_ms(ctx) + 2000);
    for (unsigned i = 0; i < NSLOW; i++) {
        const VcBlkReq *q = &x.d->req[x.slow[i]];
        vc_expect(ctx, q->completions == 1 && q->status == VIRTIO_BLK_S_OK,
                  "the read of sector capacity - %u, in flight at the kill, was completed %u "
                  "times after the restart (status %s), want once with OK", 8 - i,
                  q->completions, vc_blk_status_name(q->status));
    }
    for (unsigned i = 0; i < NFAST; i++) {
        vc_expect(ctx, x.d->req[x.fast[i]].completions == 1, "the read of sector %u, completed "
                  "before the kill, was completed again after the restart (%u times)", i,
                  x.d->req[x.fast[i]].completions);
    }
    vc_expect(ctx, x.d->faults.bad_id == 0, "%u used entries named no request in flight (last "
              "id %u): completions of requests that were already done", x.d->faults.bad_id,
              x.d->faults.last_bad_id);
    vc_expect(ctx, x.d->completed - done0 == NSLOW,
              "%" G_GUINT64_FORMAT " used entries after the restart, want %u",
              x.d->completed - done0, NSLOW);
    if (!vc_ctx_failed(ctx)) {
        /* The ring goes on from there. */
        VcBlkCmd c = {VIRTIO_BLK_T_IN, 0, VC_BLK_DIR_IN, VC_BLK_SECTOR_SIZE, NULL, 1};
        VcBlkReq *q = NULL;
        vc_expect(ctx, vc_blk_run(x.d, &c, vc_ctx_wait_ms(ctx), &q) == 1,
                  "after the resubmitted requests a new read was not completed");
    }
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "killed with %u reads in flight; after restart and reconnect each "
                    "completed exactly once", NSLOW);
    }
    inf_clear(&x);
    return vc_ctx_done(ctx);
}

static VcVerdict
inflight_before_rings(VcCtx *ctx)
{
    Inf x = {0};

    /*
     * A buffer from a first connection, then QEMU's reconnect on a second one: SET_INFLIGHT_FD
     * is the first message about rings and comes without GET_INFLIGHT_FD, so only it can
     * bind the buffer. A daemon that refuses it tracks nothing.
     */
    if (!inf_open(ctx, &x) || !inf_reconnect(ctx, &x) || !inf_post(ctx, &x)) {
        inf_clear(&x);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, inflight_marked(&x) == NSLOW,
              "SET_INFLIGHT_FD sent before any ring message (QEMU's reconnect) was not applied: "
              "with %u requests in flight %u are marked in the buffer", NSLOW,
              inflight_marked(&x));
    vc_blk_wait(x.d, NSLOW, vc_ctx_wait_ms(ctx) + 2000);
    vc_expect(ctx, vc_blk_in_flight(x.d) == 0, "%u requests never completed",
              vc_blk_in_flight(x.d));
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "SET_INFLIGHT_FD accepted before SET_VRING_NUM and used");
    }
    inf_clear(&x);
    return vc_ctx_done(ctx);
}

static const VcCheck inflight_checks[] = {
    {"VU-INF-01", "vhost-user.rst#inflight-i-o-tracking", VC_MUST, 0, PF_INF, 0,
     "GET_INFLIGHT_FD answers the description and a memfd when mmap_size > 0",
     "blk:inflight-no-fd", inflight_fd_reply},
    {"VU-INF-02", "vhost-user.rst#inflight-i-o-tracking", VC_MAY, 0, PF_INF, 0,
     "the inflight buffer holds the spec's per-queue layout for the ring size asked",
     "blk:inflight-small-region", inflight_layout},
    {"VU-INF-03", "vhost-user.rst#inflight-i-o-tracking", VC_SHOULD, 0, PF_INF, 0,
     "fetched heads are marked inflight, cleared on completion, used_idx tracked",
     "blk:inflight-not-tracked", inflight_tracked},
    {"VU-INF-04", "vhost-user.rst#inflight-i-o-tracking", VC_SHOULD, 0, PF_INF,
     VC_CHECK_PROCESS | VC_CHECK_FRESH,
     "after SIGKILL, restart and QEMU's reconnect, in-flight requests complete exactly once",
     "blk:inflight-no-resubmit", inflight_resubmitted},
    {"VU-INF-05", "vhost-user.rst#inflight-i-o-tracking", VC_MUST, 0, PF_INF, 0,
     "SET_INFLIGHT_FD before any ring message (QEMU's order) is accepted and used",
     "blk:inflight-needs-ring", inflight_before_rings},
};

const VcCheckArea vc_area_inflight = {"inflight", inflight_checks,
                                      G_N_ELEMENTS(inflight_checks)};
