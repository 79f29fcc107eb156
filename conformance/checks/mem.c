/*
 * mem.c -- the memory table and memory slots. vhost-user.rst "Memory
 * access", SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG, GET_MAX_MEM_SLOTS;
 * SPEC-FACTS 7.9.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8

/* The used ring moved and the buffers hold data: the daemon found rings and buffers. */
static VcVerdict
rings_by_user_address(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    vc_expect(ctx, got == N, "%u of %u requests completed: the rings were published at user "
              "addresses (userspace_addr = guest address + 0x%" G_GINT64_MODIFIER "x) and the "
              "daemon did not find them", got, N, t->fe->gm->uva_offset);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "rings found through userspace_addr != guest_phys_addr");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
descriptors_by_guest_address(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    const char *bad;
    unsigned got;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    bad = got ? vc_traffic_verify(t) : NULL;
    vc_expect(ctx, got == N && !bad, "%u of %u requests completed%s%s: descriptor addresses are "
              "guest-physical", got, N, bad ? "; " : "", bad ? bad : "");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "data landed at the descriptors' guest addresses (buffers above 4 GiB)");
    }
    return vc_ctx_done(ctx);
}

/* Runs @n requests with every buffer in region @region. Returns: completions. */
static unsigned
round_in_region(VcCtx *ctx, VcTraffic *t, unsigned region, unsigned n)
{
    if (!vc_ctx_try(ctx, vc_traffic_relocate(t, region, VC_ERR(ctx)))) {
        return 0;
    }
    return vc_chk_round(ctx, t, n);
}

static VcVerdict
regions_at_mmap_offset(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    g_autoptr(GString) what = g_string_new(NULL);
    const char *bad;

    cfg.mem_layout = VC_MEM_MANY;
    cfg.no_mem_slots = true;
    t = vc_chk_open(ctx, &cfg, 4);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned r = 0; r < t->fe->gm->n_regions; r++) {
        unsigned got = round_in_region(ctx, t, r, 2);
        if (vc_ctx_failed(ctx)) {
            return vc_ctx_done(ctx);
        }
        if (got != 2) {
            vc_ctx_violation(ctx, "with 6 regions over 3 memfds at non-zero mmap_offsets, "
                             "requests with buffers in region %u (gpa 0x%" G_GINT64_MODIFIER
                             "x, mmap_offset 0x%" G_GINT64_MODIFIER "x): %u of 2 completed", r,
                             t->fe->gm->regions[r].gpa, t->fe->gm->regions[r].fd_offset, got);
            return vc_ctx_done(ctx);
        }
    }
    bad = vc_traffic_verify(t);
    if (bad) {
        vc_ctx_violation(ctx, "%s: a region was mapped from the wrong place of its fd", bad);
    } else if (vc_chk_stray(t, NULL, 0, what)) {
        vc_ctx_violation(ctx, "%s: a region was mapped from the wrong place of its fd", what->str);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "SET_MEM_TABLE with 6 regions, 3 memfds, non-zero mmap_offsets: data "
                    "landed in every region, nowhere else");
    }
    return vc_ctx_done(ctx);
}

/* A region in a memfd of its own at @gpa, published with ADD_MEM_REG. */
static int
add_region(VcCtx *ctx, VcFrontend *fe, uint64_t gpa, uint64_t size)
{
    int r = vc_gmem_add_simple(fe->gm, gpa, size, false);

    if (r < 0) {
        vc_ctx_error(ctx, "guest memory: %s", g_strerror(-r));
        return -1;
    }
    if (!vc_ctx_try(ctx, vc_fe_add_mem_reg(fe, (unsigned)r, VC_ERR(ctx)))) {
        return -1;
    }
    return r;
}

static VcVerdict
add_mem_reg_up_to_max(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    VcFrontend *fe;
    unsigned want, first, got, added = 0;
    g_autoptr(GError) err = NULL;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) || !fe->max_mem_slots) {
        return vc_ctx_skip(ctx, "CONFIGURE_MEM_SLOTS was not negotiated");
    }
    /* Fill the slots (as many as our guest memory allows), one small memfd each. */
    want = (unsigned)MIN(fe->max_mem_slots, (uint64_t)VC_GMEM_MAX_REGIONS - 1);
    first = fe->gm->n_regions;
    for (unsigned i = fe->gm->n_regions; i < want; i++) {
        if (add_region(ctx, fe, 0x800000000ull + (uint64_t)i * 0x100000, 0x10000) < 0) {
            if (!ctx->violated) {
                return vc_ctx_done(ctx);
            }
            g_string_prepend(ctx->reason, "ADD_MEM_REG below GET_MAX_MEM_SLOTS: ");
            return vc_ctx_done(ctx);
        }
        added++;
    }
    /* Buffers in the newest regions, the last one included. */
    for (unsigned r = MAX(first, fe->gm->n_regions > 4 ? fe->gm->n_regions - 4 : first);
         r < fe->gm->n_regions; r++) {
        got = round_in_region(ctx, t, r, 2);
        if (vc_ctx_failed(ctx)) {
            return vc_ctx_done(ctx);
        }
        if (got != 2) {
            vc_ctx_violation(ctx, "after ADD_MEM_REG of %u regions (%u in all, GET_MAX_MEM_SLOTS %"
                             G_GUINT64_FORMAT "), %u of 2 requests with buffers in region %u "
                             "completed", added, fe->gm->n_regions, fe->max_mem_slots, got, r);
            return vc_ctx_done(ctx);
        }
    }
    /* An ADD_MEM_REG without its fd must be refused, not crash the daemon. */
    {
        g_autofree VcMsg *req = g_new(VcMsg, 1);
        vc_msg_init(req, VHOST_USER_ADD_MEM_REG, VHOST_USER_NEED_REPLY_MASK);
        req->payload.mem_reg.region = (VhostUserMemoryRegion){0x900000000ull, 0x10000,
                                                              0x7f0900000000ull, 0};
        vc_msg_set_size(VC_CHAN_MAIN, req);
        if (vc_fe_request(fe, req, NULL, &err) && vc_chk_has_reply_ack(fe)) {
            vc_ctx_violation(ctx, "an ADD_MEM_REG without an fd was acked 0");
            return vc_ctx_done(ctx);
        }
    }
    if (vc_ctx_daemon_dead(ctx, 200, NULL)) {
        vc_ctx_violation(ctx, "an ADD_MEM_REG without an fd killed the daemon");
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "%u regions in use (max %" G_GUINT64_FORMAT "); buffers in the last ones "
                "worked; an fd-less ADD_MEM_REG was refused (%s)", fe->gm->n_regions,
                fe->max_mem_slots, err ? err->message : "no ack asked");
    return vc_ctx_done(ctx);
}

static VcVerdict
rem_mem_reg_ignores_offset(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, N);
    VcFrontend *fe;
    const uint64_t gpa = 0xa00000000ull, size = 0x100000;
    int x, y;
    unsigned got, xmf;
    uint64_t off;
    g_autoptr(GError) err = NULL;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
        return vc_ctx_skip(ctx, "CONFIGURE_MEM_SLOTS was not negotiated");
    }
    x = add_region(ctx, fe, gpa, size);
    if (x < 0) {
        return vc_ctx_done(ctx);
    }
    xmf = fe->gm->regions[x].memfd;
    /* vhost-user.rst REM_MEM_REG: the region is matched on address and size; mmap_offset is ignored. */
    if (!vc_fe_rem_mem_reg(fe, (unsigned)x, 0x1000, -1, &err)) {
        vc_ctx_violation(ctx, "REM_MEM_REG with another mmap_offset: %s", err->message);
        return vc_ctx_done(ctx);
    }
    vc_gmem_remove_region(fe->gm, (unsigned)x);
    /* The same guest range again, backed by another memfd: only possible if X is gone. */
    y = vc_gmem_add_simple(fe->gm, gpa, size, false);
    if (y < 0) {
        return vc_ctx_error(ctx, "guest memory: %s", g_strerror(-y));
    }
    if (!vc_fe_add_mem_reg(fe, (unsigned)y, &err)) {
        vc_ctx_violation(ctx, "re-adding the removed range was refused (%s): REM_MEM_REG did not "
                         "remove the region", err->message);
        return vc_ctx_done(ctx);
    }
    got = round_in_region(ctx, t, (unsigned)y, 2);
    if (vc_ctx_failed(ctx)) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, got == 2, "with buffers in the re-added region, %u of 2 requests completed",
              got);
    /* The old memfd must be untouched: nothing of it is published any more. */
    if (!ctx->violated) {
        for (off = 0; off < fe->gm->memfds[xmf].size; off++) {
            if (fe->gm->memfds[xmf].base[off] != VC_GMEM_GUARD) {
                vc_ctx_violation(ctx, "data went to the removed region's memfd (offset 0x%"
                                 G_GINT64_MODIFIER "x): REM_MEM_REG did not remove it", off);
                break;
            }
        }
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "removed with mmap_offset + 0x1000; the range re-added from another "
                    "memfd carried the data");
    }
    return vc_ctx_done(ctx);
}

/* Counts fds of @pid whose link names @name. */
static int
count_fds_named(GPid pid, const char *name)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    DIR *dh = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!dh) {
        return -1;
    }
    while ((e = readdir(dh))) {
        char link[512];
        g_autofree char *p = g_strdup_printf("%s/%s", dir, e->d_name);
        ssize_t l = readlink(p, link, sizeof(link) - 1);
        if (l > 0) {
            link[l] = '\0';
            n += strstr(link, name) != NULL;
        }
    }
    closedir(dh);
    return n;
}

static VcVerdict
rem_mem_reg_closes_fd(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = vc_chk_open(ctx, NULL, 2);
    g_autofree char *name = NULL;
    VcFrontend *fe;
    GPid pid = vc_ctx_daemon_pid(ctx);
    int x, probe, held;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
        return vc_ctx_skip(ctx, "CONFIGURE_MEM_SLOTS was not negotiated");
    }
    if (!pid) {
        return vc_ctx_skip(ctx, "the daemon's pid is unknown");
    }
    x = add_region(ctx, fe, 0xb00000000ull, 0x10000);
    if (x < 0) {
        return vc_ctx_done(ctx);
    }
    name = g_strdup_printf("vc-probe-%d-%u", (int)getpid(), g_random_int());
    probe = memfd_create(name, MFD_CLOEXEC);
    if (probe < 0) {
        return vc_ctx_error(ctx, "memfd_create: %s", g_strerror(errno));
    }
    /* An fd that comes with REM_MEM_REG must be closed unused. */
    if (!vc_fe_rem_mem_reg(fe, (unsigned)x, 0, probe, VC_ERR(ctx))) {
        close(probe);
        if (g_error_matches(ctx->err, VC_SIM_ERROR, VC_ERROR_NACK)) {
            g_clear_error(VC_ERR(ctx));
            /* Refusing the extra fd is allowed; then it must still be closed. */
        } else {
            vc_ctx_try(ctx, false);
            return vc_ctx_done(ctx);
        }
    } else {
        close(probe);
    }
    if (!vc_ctx_settle(ctx, fe, 50)) {
        return vc_ctx_done(ctx);
    }
    held = count_fds_named(pid, name);
    if (held < 0) {
        return vc_ctx_skip(ctx, "cannot read /proc/%d/fd", (int)pid);
    }
    vc_expect(ctx, held == 0, "the daemon still holds the fd that came with REM_MEM_REG "
              "(%d open)", held);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "the extra fd is gone from /proc/%d/fd", (int)pid);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
max_slots_stable(VcCtx *ctx)
{
    uint64_t first = 0, again = 0;
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
        return vc_ctx_skip(ctx, "CONFIGURE_MEM_SLOTS was not negotiated");
    }
    if (!fe->max_mem_slots) {
        /* This profile does not ask during realize: ask. */
        VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_MAX_MEM_SLOTS, 0, false, &fe->max_mem_slots,
                                 VC_ERR(ctx)));
    }
    first = fe->max_mem_slots;
    vc_expect(ctx, first >= 1, "GET_MAX_MEM_SLOTS answered 0");
    /* QEMU refuses a back end whose slot count dropped on reconnect. */
    fe = vc_ctx_open(ctx, NULL, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!fe->max_mem_slots) {
        VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_MAX_MEM_SLOTS, 0, false, &fe->max_mem_slots,
                                 VC_ERR(ctx)));
    }
    again = fe->max_mem_slots;
    vc_expect(ctx, again >= first, "GET_MAX_MEM_SLOTS dropped from %" G_GUINT64_FORMAT " to %"
              G_GUINT64_FORMAT " on reconnect (QEMU then refuses the back end)", first, again);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " slots on both connections", again);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
mem_table_while_running(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcTraffic) t = NULL;
    g_autofree char *how = NULL;
    VcFrontend *fe;
    unsigned got;
    int r;

    cfg.no_mem_slots = true;
    t = vc_chk_open(ctx, &cfg, N);
    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (vc_chk_round(ctx, t, N) != N) {
        return vc_ctx_skip(ctx, "inconclusive: the ring did not complete %u requests", N);
    }
    /* The same table again, then a bigger one, while the ring is started. */
    VC_TRY(ctx, vc_fe_set_mem_table(fe, VC_ERR(ctx)));
    /* Without an ack only a round trip tells that the table was taken. */
    if (!vc_ctx_settle(ctx, fe, 0)) {
        return vc_ctx_done(ctx);
    }
    got = vc_chk_round(ctx, t, N);
    if (got != N) {
        vc_ctx_violation(ctx, "after an identical SET_MEM_TABLE on a running ring, %u of %u "
                         "requests completed%s", got, N,
                         vc_ctx_daemon_dead(ctx, 200, &how) ? " (the daemon died)" : "");
        return vc_ctx_done(ctx);
    }
    r = vc_gmem_add_simple(fe->gm, 0x200000000ull, 0x100000, false);
    if (r < 0) {
        return vc_ctx_error(ctx, "guest memory: %s", g_strerror(-r));
    }
    VC_TRY(ctx, vc_fe_set_mem_table(fe, VC_ERR(ctx)));
    if (!vc_ctx_settle(ctx, fe, 0)) {
        return vc_ctx_done(ctx);
    }
    got = round_in_region(ctx, t, (unsigned)r, N);
    if (vc_ctx_failed(ctx)) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, got == N, "after a larger SET_MEM_TABLE on a running ring, %u of %u requests "
              "(buffers in the new region) completed", got, N);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "rings kept working across an identical and a larger SET_MEM_TABLE");
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-MEM-01", "vhost-user.rst#memory-access", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "ring addresses are user addresses, translated through userspace_addr", "rings-by-gpa",
     rings_by_user_address},
    {"VU-MEM-02", "vhost-user.rst#memory-access", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "descriptor addresses are guest-physical, translated through guest_phys_addr",
     "descs-by-uva", descriptors_by_guest_address},
    {"VU-MEM-05", "vhost-user.rst#front-end-message-types", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "each region maps memory_size bytes of its own fd at mmap_offset (6 regions, 3 memfds)",
     "ignore-mmap-offset", regions_at_mmap_offset},
    {"VU-MEM-06", "vhost-user.rst#front-end-message-types", VC_MUST, 0,
     VC_PF(CONFIGURE_MEM_SLOTS), VC_CHECK_DATAPATH,
     "ADD_MEM_REG maps regions up to GET_MAX_MEM_SLOTS; one without an fd is refused",
     "add-mem-reg-max-8", add_mem_reg_up_to_max},
    {"VU-MEM-07", "vhost-user.rst#front-end-message-types", VC_MUST, 0,
     VC_PF(CONFIGURE_MEM_SLOTS), VC_CHECK_DATAPATH,
     "REM_MEM_REG matches address and size and ignores mmap_offset",
     "rem-mem-reg-needs-offset", rem_mem_reg_ignores_offset},
    {"VU-MEM-08", "vhost-user.rst#front-end-message-types", VC_MUST, 0,
     VC_PF(CONFIGURE_MEM_SLOTS), VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "an fd sent with REM_MEM_REG is closed unused", "rem-mem-reg-leaks-fd",
     rem_mem_reg_closes_fd},
    {"VU-MEM-09", "vhost-user.rst#front-end-message-types", VC_SHOULD, 0,
     VC_PF(CONFIGURE_MEM_SLOTS), VC_CHECK_FRESH,
     "GET_MAX_MEM_SLOTS answers a u64 that does not drop on reconnect", "max-slots-shrink",
     max_slots_stable},
    {"VU-MEM-11", "vhost-user.rst#ring-states", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a new SET_MEM_TABLE while rings run leaves no stale ring pointers",
     "stale-rings-after-mem-table", mem_table_while_running},
};

const VcCheckArea vc_area_mem = {"mem", checks, G_N_ELEMENTS(checks)};
