/*
 * postcopy.c -- postcopy migration, the destination's side: the daemon
 * registers guest memory with a userfaultfd, and a page that has not arrived
 * yet is reached only through a fault the front end answers.
 * vhost-user.rst "Migrating back ends with postcopy", POSTCOPY_ADVISE,
 * POSTCOPY_LISTEN, POSTCOPY_END, SET_MEM_TABLE, ADD_MEM_REG; SPEC-FACTS 7.11.
 * The order is QEMU 7.2's (hw/virtio/vhost-user.c): ADVISE, LISTEN, then the
 * memory table (its reply names the daemon's bases, our ack follows), then
 * the rings.
 *
 * "Not arrived" is simulated by punching the page out of its memfd
 * (vc_fe_postcopy_punch()); the front end answers each fault with the
 * page's content (UFFDIO_COPY), as QEMU does when the page comes in.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8
#define PAGE 4096ull
#define PF_PC VC_PF(PAGEFAULT)

/*
 * Handshake, POSTCOPY_ADVISE and POSTCOPY_LISTEN, then (with @punch_first) the first page of
 * every region punched out before the memory table goes out, then the device start and
 * traffic. NULL with the verdict set.
 */
static VcTraffic *
pc_open(VcCtx *ctx, VcFeConfig *cfg, bool punch_first)
{
    VcFrontend *fe = vc_ctx_open(ctx, cfg, false);
    VcTraffic *t = NULL;

    if (!fe) {
        return NULL;
    }
    if (!vc_ctx_try(ctx, vc_fe_postcopy_advise(fe, VC_ERR(ctx))) ||
        !vc_ctx_try(ctx, vc_fe_postcopy_listen(fe, VC_ERR(ctx)))) {
        return NULL;
    }
    if (punch_first) {
        if (!vc_ctx_try(ctx, vc_fe_setup_memory(fe, VC_ERR(ctx)))) {
            return NULL;
        }
        for (unsigned q = 0; q < MAX(fe->cfg.num_queues, 1u); q++) {
            if (!vc_ctx_try(ctx, vc_fe_create_queue(fe, q, VC_ERR(ctx)))) {
                return NULL;
            }
        }
        for (unsigned i = 0; i < fe->gm->n_regions; i++) {
            if (!vc_ctx_try(ctx, vc_fe_postcopy_punch(fe, fe->gm->regions[i].gpa, PAGE,
                                                      VC_ERR(ctx)))) {
                return NULL;
            }
        }
    }
    if (!vc_chk_start(ctx, fe, NULL, N, &t)) {
        vc_traffic_free(t);
        return NULL;
    }
    return t;
}

/* The guest ranges of @t's request buffers (the rings of every queue left out). */
static GArray *
buffer_ranges(VcTraffic *t)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(VcRange));
    GArray *out = g_array_new(FALSE, FALSE, sizeof(VcRange));

    vc_traffic_skip_ranges(t, all);
    for (guint i = 0; i < all->len; i++) {
        VcRange *x = &g_array_index(all, VcRange, i);
        bool is_ring = false;
        /* A device with more rings (gpu: cursorq) lists them too; the device leaves them be. */
        for (unsigned q = 0; q < t->fe->num_queues; q++) {
            VcRange ring[4];
            unsigned nr = t->fe->q[q].vq ? vc_vq_ranges(t->fe->q[q].vq, ring) : 0;
            for (unsigned k = 0; k < nr; k++) {
                is_ring |= x->gpa == ring[k].gpa;
            }
        }
        if (!is_ring && x->len) {
            g_array_append_val(out, *x);
        }
    }
    g_array_unref(all);
    return out;
}

/*
 * Posts N requests, punches the pages of their buffers (they "have not arrived"), kicks and
 * waits. Returns: completions; @pages gets the buffer pages punched.
 */
static unsigned
round_on_missing_pages(VcCtx *ctx, VcTraffic *t, GHashTable *pages)
{
    g_autoptr(GArray) bufs = buffer_ranges(t);
    unsigned posted = vc_traffic_post(t, N);

    for (guint i = 0; i < bufs->len; i++) {
        VcRange *x = &g_array_index(bufs, VcRange, i);
        for (uint64_t p = x->gpa / PAGE; p <= (x->gpa + x->len - 1) / PAGE; p++) {
            g_hash_table_add(pages, GSIZE_TO_POINTER(p));
        }
        if (!vc_ctx_try(ctx, vc_fe_postcopy_punch(t->fe, x->gpa, x->len, VC_ERR(ctx)))) {
            return 0;
        }
    }
    if (vc_vq_notify(t->vq) < 0) {
        vc_ctx_error(ctx, "kick: cannot write the kick notifier");
        return 0;
    }
    return vc_traffic_wait(t, posted, vc_ctx_wait_ms(ctx));
}

static VcVerdict
advise_gives_uffd(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    g_autoptr(GError) err = NULL;
    g_autofree char *link = NULL, *path = NULL;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_postcopy_advise(fe, &err)) {
        vc_ctx_violation(ctx, "POSTCOPY_ADVISE: %s", err->message);
        return vc_ctx_done(ctx);
    }
    path = g_strdup_printf("/proc/self/fd/%d", fe->uffd);
    link = g_file_read_link(path, NULL);
    vc_expect(ctx, link && strstr(link, "userfaultfd"),
              "the fd returned by POSTCOPY_ADVISE is %s, not a userfaultfd",
              link ? link : "unreadable");
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "size-0 reply with %s", link);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
listen_registers(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = pc_open(ctx, NULL, false);
    g_autoptr(GHashTable) pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = round_on_missing_pages(ctx, t, pages);
    if (vc_ctx_failed(ctx)) {
        return vc_ctx_done(ctx);
    }
    if (t->fe->pc_faults == 0) {
        vc_ctx_violation(ctx, "after POSTCOPY_LISTEN the daemon reached %u guest pages that had "
                         "not arrived (%u of %u requests completed) without a single "
                         "userfault: its memory is not registered", g_hash_table_size(pages),
                         got, N);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, got == N, "with missing pages answered through the userfaultfd, %u of %u "
              "requests completed", got, N);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " userfaults answered; %u requests completed",
                    t->fe->pc_faults, N);
    }
    return vc_ctx_done(ctx);
}

/*
 * The memory table goes out the postcopy way, SET_MEM_TABLE (@slots false) or one ADD_MEM_REG
 * per region: the front end checks each reply names the region sent and a base of the
 * daemon's (a bad one fails the start); here the bases are page aligned and rings work.
 */
static VcVerdict
bases_answered(VcCtx *ctx, bool slots)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    const char *what = slots ? "ADD_MEM_REG" : "SET_MEM_TABLE";

    cfg.no_mem_slots = !slots;
    t = pc_open(ctx, &cfg, false);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (slots && (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) ||
                  !t->fe->profile->mem_slots)) {
        return vc_ctx_skip(ctx, "memory went out with SET_MEM_TABLE (no CONFIGURE_MEM_SLOTS)");
    }
    for (unsigned i = 0; i < t->fe->gm->n_regions; i++) {
        vc_expect(ctx, t->fe->pc_base[i] != 0 && t->fe->pc_base[i] % PAGE == 0,
                  "region %u: the %s reply names base 0x%" G_GINT64_MODIFIER "x, not a page "
                  "of the daemon's", i, what, t->fe->pc_base[i]);
    }
    vc_expect(ctx, vc_chk_round(ctx, t, N) == N, "after the postcopy %s, requests did not "
              "complete", what);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%s answered with the daemon's bases (%u regions, e.g. 0x%"
                    G_GINT64_MODIFIER "x)", what, t->fe->gm->n_regions, t->fe->pc_base[0]);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
table_reply_bases(VcCtx *ctx)
{
    return bases_answered(ctx, false);
}

static VcVerdict
no_fault_before_ack(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;

    /* The SET_MEM_TABLE exchange, where the ack is one message of its own. */
    cfg.no_mem_slots = true;
    t = pc_open(ctx, &cfg, true);

    if (!t) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, t->fe->pc_early_faults == 0, "%" G_GUINT64_FORMAT " accesses to pages that "
              "had not arrived (a userfault, or the page found mapped in: last 0x%"
              G_GINT64_MODIFIER "x) came between the postcopy memory-table reply and the front "
              "end's ack: the daemon touched guest memory before it was allowed to",
              t->fe->pc_early_faults, t->fe->pc_last_fault);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "no userfault before the ack; %" G_GUINT64_FORMAT " after it",
                    t->fe->pc_faults);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
add_reg_reply_base(VcCtx *ctx)
{
    return bases_answered(ctx, true);
}

static VcVerdict
end_disables(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = pc_open(ctx, NULL, false);
    g_autoptr(GHashTable) pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GError) err = NULL;
    uint64_t status = 1;
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: no traffic in postcopy");
    }
    if (!vc_fe_postcopy_end(t->fe, &status, &err)) {
        vc_ctx_violation(ctx, "POSTCOPY_END: %s", err->message);
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, status == 0, "POSTCOPY_END answered %" G_GUINT64_FORMAT ", want 0", status);
    /* Pages missing again: with the userfaultfd gone the daemon simply maps them. */
    got = round_on_missing_pages(ctx, t, pages);
    vc_expect(ctx, got == N, "after POSTCOPY_END, %u of %u requests on missing pages "
              "completed: accesses still wait in userfaults nobody answers any more", got, N);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "END answered 0; missing pages no longer fault");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
no_bypass(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = pc_open(ctx, NULL, false);
    g_autoptr(GHashTable) pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    GHashTableIter it;
    gpointer key;
    unsigned got, silent = 0;
    uint64_t first = 0;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = round_on_missing_pages(ctx, t, pages);
    if (vc_ctx_failed(ctx)) {
        return vc_ctx_done(ctx);
    }
    if (got != N) {
        return vc_ctx_skip(ctx, "inconclusive: %u of %u requests completed on missing pages "
                           "(VU-PC-02)", got, N);
    }
    /* Every buffer page the device wrote had not arrived: each must have faulted. */
    g_hash_table_iter_init(&it, pages);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(t->fe->pc_faulted, key)) {
            if (silent++ == 0) {
                first = (uint64_t)GPOINTER_TO_SIZE(key) * PAGE;
            }
        }
    }
    vc_expect(ctx, silent == 0, "%u of %u guest pages that had not arrived were written by the "
              "device without a userfault (first: gpa 0x%" G_GINT64_MODIFIER "x): the daemon "
              "went around the fault path", silent, g_hash_table_size(pages), first);
    if (!vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "all %u missing pages were reached through userfaults",
                    g_hash_table_size(pages));
    }
    return vc_ctx_done(ctx);
}

static const VcCheck postcopy_checks[] = {
    {"VU-PC-01", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0, PF_PC, 0,
     "POSTCOPY_ADVISE answers size 0 with the daemon's userfaultfd", "advise-no-fd",
     advise_gives_uffd},
    {"VU-PC-02", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0, PF_PC,
     VC_CHECK_DATAPATH, "after POSTCOPY_LISTEN guest memory is registered: missing pages fault",
     "postcopy-listen-no-register", listen_registers},
    {"VU-PC-03", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0, PF_PC,
     VC_CHECK_DATAPATH,
     "in postcopy SET_MEM_TABLE is answered with the table of the daemon's mapping bases",
     "postcopy-ack-only", table_reply_bases},
    {"VU-PC-04", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_SHOULD, 0, PF_PC,
     VC_CHECK_DATAPATH,
     "no access to guest memory before the front end's ack of the postcopy memory table",
     "postcopy-touch-early", no_fault_before_ack},
    {"VU-PC-05", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0,
     PF_PC | VC_PF(CONFIGURE_MEM_SLOTS), VC_CHECK_DATAPATH,
     "in postcopy each ADD_MEM_REG is answered with the region and the daemon's base",
     "postcopy-add-ack-only", add_reg_reply_base},
    {"VU-PC-06", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0, PF_PC,
     VC_CHECK_DATAPATH, "POSTCOPY_END answers u64 0 and missing pages no longer fault",
     "end-no-reply", end_disables},
    {"VU-PC-07", "vhost-user.rst#migrating-back-ends-with-postcopy", VC_MUST, 0, PF_PC,
     VC_CHECK_DATAPATH, "in postcopy a page that has not arrived is reached only through a fault",
     "postcopy-bypass-fault", no_bypass},
};

const VcCheckArea vc_area_postcopy = {"postcopy", postcopy_checks,
                                      G_N_ELEMENTS(postcopy_checks)};
