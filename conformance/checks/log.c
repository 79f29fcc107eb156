/*
 * log.c -- dirty-page logging for live migration. vhost-user.rst
 * "Migration", SET_LOG_BASE; SPEC-FACTS 7.10.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8
#define PAGE VHOST_LOG_PAGE
/* log_guest_addr is put this far above the used ring: a bit position no data write shares. */
#define USED_LOG_OFFSET 0x200000ull

/* A started device with a log and LOG_ALL on (and VHOST_VRING_F_LOG when @rings). */
static VcTraffic *
logging(VcCtx *ctx, bool rings)
{
    VcTraffic *t = vc_chk_open(ctx, NULL, N);

    if (!t) {
        return NULL;
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_LOG_SHMFD) ||
        !(t->fe->features_offered & (1ull << VHOST_F_LOG_ALL))) {
        vc_ctx_skip(ctx, "LOG_SHMFD and VHOST_F_LOG_ALL are not both offered");
        vc_traffic_free(t);
        return NULL;
    }
    t->fe->log_used_offset = USED_LOG_OFFSET;
    if (!vc_ctx_try(ctx, vc_fe_set_log_base(t->fe, 2 * USED_LOG_OFFSET, VC_ERR(ctx))) ||
        !vc_ctx_try(ctx, vc_fe_set_logging(t->fe, true, rings, VC_ERR(ctx)))) {
        vc_traffic_free(t);
        return NULL;
    }
    return t;
}

/*
 * The bytes the device writes used entries into: the used ring, or for a
 * packed ring the descriptor ring (virtio 1.x "Packed Virtqueues": used
 * descriptors overwrite available ones). Logged relative to log_guest_addr
 * with VHOST_VRING_F_LOG.
 */
static uint64_t
used_log_len(const VcVq *vq)
{
    return vq->packed ? (uint64_t)vq->num * sizeof(struct vring_packed_desc)
                      : 4 + 8 * (uint64_t)vq->num + 2;
}

/* Whether any page of [@gpa, @gpa + @len) is marked in the log. */
static bool
any_marked(VcFrontend *fe, uint64_t gpa, uint64_t len)
{
    for (uint64_t p = gpa / PAGE; p <= (gpa + len - 1) / PAGE; p++) {
        if (vc_fe_log_page(fe, p)) {
            return true;
        }
    }
    return false;
}

static void
add_page(GHashTable *pages, uint64_t p)
{
    gint64 *k = g_new(gint64, 1);

    *k = (gint64)p;
    g_hash_table_add(pages, k);
}

/*
 * What the device wrote, learnt from the traffic ring itself: each chain's device-writable
 * buffers are read back when it is made available, and the first used.len bytes of them are
 * what the device wrote when it is used (virtio 1.x "The Virtqueue Used Ring"). Buffers the
 * device only reads (net's transmitted frames, request headers) never count.
 */
typedef struct Written {
    VcVq *vq;
    VcVqTap prev;                /* the tap that was there (traces): still called */
    void *prev_opaque;
    GHashTable *chains;          /* head + 1 -> GArray of VcRange */
    GHashTable *written;         /* pages of the first used.len writable bytes */
    GHashTable *writable;        /* pages of every writable buffer */
} Written;

static void
add_range(GHashTable *pages, uint64_t gpa, uint64_t len)
{
    for (uint64_t p = gpa / PAGE; len && p <= (gpa + len - 1) / PAGE; p++) {
        add_page(pages, p);
    }
}

static void
written_tap(void *opaque, VcVq *vq, VcVqEvent ev, uint32_t head, uint32_t len)
{
    Written *w = opaque;

    if (w->prev) {
        w->prev(w->prev_opaque, vq, ev, head, len);
    }
    if (ev == VC_VQ_EV_AVAIL) {
        VcRange r[64];
        unsigned n = vc_vq_chain_writable(vq, head, r, G_N_ELEMENTS(r));
        GArray *a = g_array_sized_new(FALSE, FALSE, sizeof(VcRange), n);

        g_array_append_vals(a, r, n);
        for (unsigned i = 0; i < n; i++) {
            add_range(w->writable, r[i].gpa, r[i].len);
        }
        g_hash_table_replace(w->chains, GUINT_TO_POINTER(head + 1), a);
    } else if (ev == VC_VQ_EV_USED) {
        GArray *a = g_hash_table_lookup(w->chains, GUINT_TO_POINTER(head + 1));
        uint64_t left = len;

        for (guint i = 0; a && i < a->len && left; i++) {
            VcRange *x = &g_array_index(a, VcRange, i);
            uint64_t take = MIN(left, x->len);
            add_range(w->written, x->gpa, take);
            left -= take;
        }
        g_hash_table_remove(w->chains, GUINT_TO_POINTER(head + 1));
    }
}

static void
written_watch(Written *w, VcVq *vq)
{
    w->vq = vq;
    w->prev = vq->tap;
    w->prev_opaque = vq->tap_opaque;
    w->chains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                      (GDestroyNotify)g_array_unref);
    w->written = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    w->writable = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    vc_vq_set_tap(vq, written_tap, w);
}

static void
written_clear(Written *w)
{
    if (w->vq) {
        vc_vq_set_tap(w->vq, w->prev, w->prev_opaque);
    }
    g_clear_pointer(&w->chains, g_hash_table_unref);
    g_clear_pointer(&w->written, g_hash_table_unref);
    g_clear_pointer(&w->writable, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Written, written_clear)

static VcVerdict
data_pages_marked(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, false);
    g_auto(Written) w = {0};
    GHashTableIter it;
    gpointer key;
    unsigned pages = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    written_watch(&w, t->vq);
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    /* Every page the device wrote through a descriptor. */
    g_hash_table_iter_init(&it, w.written);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        uint64_t p = (uint64_t)*(gint64 *)key;
        pages++;
        if (!vc_fe_log_page(t->fe, p)) {
            vc_ctx_violation(ctx, "with LOG_ALL, guest page 0x%" G_GINT64_MODIFIER "x (gpa 0x%"
                             G_GINT64_MODIFIER "x) was written by the device but not marked "
                             "in the log", p, p * PAGE);
            return vc_ctx_done(ctx);
        }
    }
    if (pages == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the device wrote no data (used.len 0)");
    }
    vc_ctx_note(ctx, "%u written pages, all marked", pages);
    return vc_ctx_done(ctx);
}

static VcVerdict
used_ring_pages_marked(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, true);
    uint64_t first, last;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    if (t->vq->packed) {
        /*
         * vhost-user.rst defines the offsets from log_guest_addr for the split used ring only.
         * A packed ring writes used descriptors into its descriptor ring: either their own pages
         * or log_guest_addr + their offset in the ring (DPDK; QEMU gives the device area as
         * log_guest_addr) make the write reach the migration log.
         */
        uint64_t len = used_log_len(t->vq);
        bool own = any_marked(t->fe, t->vq->desc_gpa, len);
        bool rel = any_marked(t->fe, t->vq->used_gpa + USED_LOG_OFFSET, len);
        vc_expect(ctx, own || rel, "with VHOST_VRING_F_LOG the used descriptors written into the "
                  "packed descriptor ring were marked neither at their own pages (gpa 0x%"
                  G_GINT64_MODIFIER "x) nor at log_guest_addr + their offset (0x%"
                  G_GINT64_MODIFIER "x)", t->vq->desc_gpa,
                  (uint64_t)(t->vq->used_gpa + USED_LOG_OFFSET));
        if (!ctx->violated) {
            vc_ctx_note(ctx, "packed used descriptors logged %s", own && rel ? "at their own pages "
                        "and relative to log_guest_addr" : own ? "at their own pages"
                        : "relative to log_guest_addr");
        }
        return vc_ctx_done(ctx);
    }
    /* vhost-user.rst: used-ring writes are logged at offsets from log_guest_addr. */
    first = (t->vq->used_gpa + USED_LOG_OFFSET) / PAGE;
    last = (t->vq->used_gpa + USED_LOG_OFFSET + 4) / PAGE;
    for (uint64_t p = first; p <= last; p++) {
        if (!vc_fe_log_page(t->fe, p)) {
            vc_ctx_violation(ctx, "with VHOST_VRING_F_LOG the used-ring update was not marked at "
                             "log_guest_addr (page 0x%" G_GINT64_MODIFIER "x)", p);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "used ring logged at log_guest_addr = used + 0x%llx",
                (unsigned long long)USED_LOG_OFFSET);
    return vc_ctx_done(ctx);
}

static VcVerdict
bits_at_exact_positions(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, true);
    g_auto(Written) w = {0};
    GHashTable *pages;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    written_watch(&w, t->vq);
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    /* A device may mark the whole of a buffer it was given, not only what it wrote. */
    pages = w.writable;
    /*
     * Used entries the device writes, on every ring (net: TX too): logged relative to
     * log_guest_addr, or for a packed ring possibly at the descriptor ring's own pages.
     */
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        const VcVq *vq = t->fe->q[q].vq;
        uint64_t first, last;
        if (!vq) {
            continue;
        }
        first = (vq->used_gpa + USED_LOG_OFFSET) / PAGE;
        last = (vq->used_gpa + USED_LOG_OFFSET + used_log_len(vq) - 1) / PAGE;
        for (uint64_t p = first; p <= last; p++) {
            add_page(pages, p);
        }
        for (uint64_t p = vq->desc_gpa / PAGE;
             vq->packed && p <= (vq->desc_gpa + used_log_len(vq) - 1) / PAGE; p++) {
            add_page(pages, p);
        }
    }
    /* vhost-user.rst: page p is bit p % 8 of byte p / 8. A bit for a page nobody wrote is wrong. */
    for (uint64_t byte = 0; byte < t->fe->log_size; byte++) {
        uint8_t v = t->fe->log[byte];
        for (unsigned b = 0; v && b < 8; b++) {
            gint64 p = (gint64)(byte * 8 + b);
            if (!(v & (1u << b)) || g_hash_table_contains(pages, &p)) {
                continue;
            }
            vc_ctx_violation(ctx, "log byte 0x%" G_GINT64_MODIFIER "x bit %u marks guest page "
                             "0x%" G_GINT64_MODIFIER "x, which nothing wrote (bit order or "
                             "offset wrong)", byte, b, (uint64_t)p);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "every set bit is a written page (bit p %% 8 of byte p / 8)");
    return vc_ctx_done(ctx);
}

static VcVerdict
marks_keep_other_bits(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, true);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* Bits the daemon has no business clearing: every even page marked already. */
    memset(t->fe->log, 0x55, t->fe->log_size);
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    for (uint64_t byte = 0; byte < t->fe->log_size; byte++) {
        if ((t->fe->log[byte] & 0x55) != 0x55) {
            vc_ctx_violation(ctx, "log byte 0x%" G_GINT64_MODIFIER "x is 0x%02x: bits set before "
                             "were cleared (marks must be atomic ORs)", byte, t->fe->log[byte]);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "every pre-set bit survived");
    return vc_ctx_done(ctx);
}

static VcVerdict
new_log_in_use_after_reply(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, true);
    uint8_t *old;
    uint8_t *copy;
    uint64_t size;
    int old_fd;
    bool changed = false, marked = false;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    /* Keep our own view of the old log: the front end drops it once the new one is acked. */
    size = t->fe->log_size;
    old_fd = dup(t->fe->log_fd);
    old = mmap(NULL, size, PROT_READ, MAP_SHARED, old_fd, 0);
    close(old_fd);
    if (old == MAP_FAILED) {
        return vc_ctx_error(ctx, "mmap of the old log: %s", g_strerror(errno));
    }
    VC_TRY(ctx, vc_fe_set_log_base(t->fe, 2 * USED_LOG_OFFSET, VC_ERR(ctx)));
    copy = g_memdup2(old, size);
    vc_chk_round(ctx, t, N);
    changed = memcmp(copy, old, size) != 0;
    for (uint64_t byte = 0; byte < t->fe->log_size && !marked; byte++) {
        marked = t->fe->log[byte] != 0;
    }
    munmap(old, size);
    g_free(copy);
    if (!vc_expect(ctx, !changed, "after SET_LOG_BASE was answered, the daemon still wrote the "
                   "old log")) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, marked, "after SET_LOG_BASE was answered, the new log got no mark for new "
              "writes");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "after the reply only the new log was written");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
no_log_after_stop(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = logging(ctx, true);
    g_autofree uint8_t *copy = NULL;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: requests did not complete with logging on");
    }
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        if (t->fe->q[q].vq) {
            VC_TRY(ctx, vc_fe_get_vring_base(t->fe, q, NULL, VC_ERR(ctx)));
        }
    }
    copy = g_memdup2(t->fe->log, t->fe->log_size);
    if (!vc_ctx_settle(ctx, t->fe, 2 * vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    for (uint64_t byte = 0; byte < t->fe->log_size; byte++) {
        if (copy[byte] != t->fe->log[byte]) {
            vc_ctx_violation(ctx, "after every ring stopped, log byte 0x%" G_GINT64_MODIFIER "x "
                             "changed from 0x%02x to 0x%02x", byte, copy[byte], t->fe->log[byte]);
            return vc_ctx_done(ctx);
        }
    }
    vc_ctx_note(ctx, "the log did not change after the rings stopped");
    return vc_ctx_done(ctx);
}

#define LOGF VC_F(VHOST_F_LOG_ALL)

static const VcCheck checks[] = {
    {"VU-LOG-01", "vhost-user.rst#migration", VC_SHOULD, LOGF, VC_PF(LOG_SHMFD),
     VC_CHECK_DATAPATH, "with LOG_ALL every page written through descriptors is marked",
     "blk:log-misses-data", data_pages_marked},
    {"VU-LOG-02", "vhost-user.rst#migration", VC_SHOULD, LOGF, VC_PF(LOG_SHMFD),
     VC_CHECK_DATAPATH, "with VHOST_VRING_F_LOG used-ring writes are marked at log_guest_addr",
     "blk:log-no-used", used_ring_pages_marked},
    {"VU-LOG-03", "vhost-user.rst#migration", VC_MUST, LOGF, VC_PF(LOG_SHMFD),
     VC_CHECK_DATAPATH, "one bit per 4 KiB page: bit page % 8 of byte page / 8", "log-bit-msb",
     bits_at_exact_positions},
    {"VU-LOG-04", "vhost-user.rst#migration", VC_SHOULD, LOGF, VC_PF(LOG_SHMFD),
     VC_CHECK_DATAPATH, "log marks are atomic ORs: no other bit is cleared", "log-overwrite",
     marks_keep_other_bits},
    {"VU-LOG-05", "vhost-user.rst#front-end-message-types", VC_MUST, LOGF, VC_PF(LOG_SHMFD),
     VC_CHECK_DATAPATH, "SET_LOG_BASE is answered and the new log is used after the reply",
     "log-base-stale", new_log_in_use_after_reply},
    {"VU-LOG-06", "vhost-user.rst#migration", VC_MUST, LOGF, VC_PF(LOG_SHMFD), VC_CHECK_DATAPATH,
     "after the rings stop, the log is not written", "log-after-stop", no_log_after_stop},
};

const VcCheckArea vc_area_log = {"log", checks, G_N_ELEMENTS(checks)};
