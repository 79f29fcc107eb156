/*
 * shm.c -- VIRTIO Shared Memory Regions (VHOST_USER_PROTOCOL_F_SHMEM).
 * vhost-user.rst GET_SHMEM_CONFIG, BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP,
 * "VIRTIO Shared Memory Region configuration", "MMAP request", "Suspended
 * device state", RESET_DEVICE; SPEC-FACTS 7.18 (VU-SHM-01..06).
 *
 * The front end keeps the mapping table as QEMU does and refuses a bad map
 * or unmap with a non-zero ack, recording why (VC_OBS_SHMEM_FAULT); these
 * checks judge those records. A daemon maps when it has reason to (the
 * reference when ring 0 starts, a GPU when the guest asks for a blob), so a
 * session without any map is inconclusive, not a pass.
 *
 * SHMEM is newer than every QEMU release up to 11.0: only the qemu-11.1
 * profile negotiates it (the others SKIP these checks).
 */
#include <string.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8
#define PF_SHM (VC_PF(SHMEM) | VC_PF(BACKEND_REQ))

/* A started device with SHMEM negotiated and a GET_SHMEM_CONFIG answered. */
static VcTraffic *
shm_open(VcCtx *ctx)
{
    VcTraffic *t = vc_chk_open(ctx, NULL, N);

    if (!t) {
        return NULL;
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_SHMEM) || !t->fe->bch) {
        vc_ctx_skip(ctx, "SHMEM and a back-end channel were not both negotiated");
        vc_traffic_free(t);
        return NULL;
    }
    /* QEMU asks at realize; a profile that did not, asks now, before the rings run. */
    if (!t->fe->shm.config_got &&
        !vc_ctx_try(ctx, vc_fe_get_shmem_config(t->fe, NULL, VC_ERR(ctx)))) {
        vc_traffic_free(t);
        return NULL;
    }
    return t;
}

/* Traffic, then every back-end message that came meanwhile served. */
static bool
shm_round(VcCtx *ctx, VcTraffic *t, const char *when)
{
    unsigned got = vc_chk_round(ctx, t, N);

    vc_fe_service(t->fe, vc_chk_quiet_ms());
    return vc_expect(ctx, got == N, "%s: %u of %u requests completed", when, got, N);
}

/* Stops the traffic ring (the reference unmaps), then sets it up again. */
static bool
stop_and_restart(VcCtx *ctx, VcTraffic *t)
{
    uint32_t base = 0;

    if (!vc_ctx_try(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), &base, VC_ERR(ctx)))) {
        return false;
    }
    vc_fe_service(t->fe, 0);
    return vc_chk_restart_ring(ctx, t, base);
}

/* BACKEND_SHMEM_MAP messages seen from observation @from on, well-formed or not. */
static unsigned
count_requests(const VcFrontend *fe, guint from, uint32_t request)
{
    unsigned n = 0;

    for (guint i = from; i < vc_fe_obs_count(fe); i++) {
        const VcObs *o = vc_fe_obs(fe, i);

        n += (o->kind == VC_OBS_BACKEND_MSG || o->kind == VC_OBS_BACKEND_FAULT) &&
             o->request == request;
    }
    return n;
}

/* The first VC_OBS_SHMEM_FAULT from @from on whose reason is in @mask (bit = VcShmFault). */
static const VcObs *
find_fault(const VcFrontend *fe, guint from, unsigned mask)
{
    for (guint i = from; i < vc_fe_obs_count(fe); i++) {
        const VcObs *o = vc_fe_obs(fe, i);

        if (o->kind == VC_OBS_SHMEM_FAULT && ((mask >> o->faults) & 1)) {
            return o;
        }
    }
    return NULL;
}

#define FAULT(x) (1u << VC_SHM_FAULT_##x)

static VcVerdict
config_well_formed(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    VhostUserShMemConfig c;
    long page = sysconf(_SC_PAGESIZE);
    unsigned nonzero = 0;
    g_autoptr(GString) sizes = g_string_new(NULL);

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_SHMEM)) {
        return vc_ctx_skip(ctx, "SHMEM was not negotiated");
    }
    /* A reply of any size but 2056 is refused by the front end: the error says which. */
    VC_TRY(ctx, vc_fe_get_shmem_config(fe, &c, VC_ERR(ctx)));
    for (unsigned id = 0; id < VHOST_USER_MAX_SHMEM_REGIONS; id++) {
        if (!c.memory_sizes[id]) {
            continue;
        }
        nonzero++;
        g_string_append_printf(sizes, "%sshmid %u: 0x%" G_GINT64_MODIFIER "x",
                               sizes->len ? ", " : "", id, c.memory_sizes[id]);
        vc_expect(ctx, page <= 0 || c.memory_sizes[id] % (uint64_t)page == 0,
                  "shmid %u has size 0x%" G_GINT64_MODIFIER "x, not a multiple of the %ld-byte "
                  "page size", id, c.memory_sizes[id], page);
    }
    vc_expect(ctx, c.nregions == nonzero, "nregions is %u but %u sizes are non-zero (%s)",
              c.nregions, nonzero, nonzero ? sizes->str : "none");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "2056 bytes, nregions %u (%s)", c.nregions, nonzero ? sizes->str : "none");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
config_stable(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = shm_open(ctx);
    VhostUserShMemConfig first, again;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    first = t->fe->shm.config;
    if (!shm_round(ctx, t, "traffic") || !stop_and_restart(ctx, t) ||
        !shm_round(ctx, t, "traffic after a ring restart")) {
        return vc_ctx_done(ctx);
    }
    for (int k = 0; k < 2; k++) {
        VC_TRY(ctx, vc_fe_get_shmem_config(t->fe, &again, VC_ERR(ctx)));
        if (again.nregions != first.nregions) {
            vc_ctx_violation(ctx, "GET_SHMEM_CONFIG answered nregions %u, then %u on the same "
                             "connection", first.nregions, again.nregions);
            return vc_ctx_done(ctx);
        }
        for (unsigned id = 0; id < VHOST_USER_MAX_SHMEM_REGIONS; id++) {
            if (again.memory_sizes[id] != first.memory_sizes[id]) {
                vc_ctx_violation(ctx, "GET_SHMEM_CONFIG answered shmid %u size 0x%"
                                 G_GINT64_MODIFIER "x, then 0x%" G_GINT64_MODIFIER "x on the "
                                 "same connection", id, first.memory_sizes[id],
                                 again.memory_sizes[id]);
                return vc_ctx_done(ctx);
            }
        }
    }
    vc_ctx_note(ctx, "%u answers on one connection, before and after traffic, all identical",
                t->fe->shm.n_configs);
    return vc_ctx_done(ctx);
}

static VcVerdict
map_valid(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = shm_open(ctx);
    const unsigned bad = FAULT(FDS) | FAULT(RANGE) | FAULT(OVERLAP) | FAULT(FD_SIZE) |
                         FAULT(MMAP) | FAULT(MALFORMED);
    const VcObs *o;
    unsigned maps;
    guint mark;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!shm_round(ctx, t, "traffic")) {
        return vc_ctx_done(ctx);
    }
    maps = count_requests(t->fe, 0, VHOST_USER_BACKEND_SHMEM_MAP);
    o = find_fault(t->fe, 0, bad);
    if (o) {
        vc_ctx_violation(ctx, "%s", o->text);
        return vc_ctx_done(ctx);
    }
    if (maps == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no BACKEND_SHMEM_MAP");
    }
    /*
     * vhost-user.rst: a map "can fail when there are no resources available". The front end
     * refuses the next one; the daemon must go on, and never unmap what was not mapped.
     */
    if (!vc_chk_has_reply_ack(t->fe)) {
        vc_ctx_note(ctx, "%u map(s), each with one fd, inside its region, no overlap; REPLY_ACK "
                    "not negotiated, so no refusal was tried", maps);
        return vc_ctx_done(ctx);
    }
    mark = vc_fe_obs_count(t->fe);
    t->fe->shm.refuse = 1;
    if (!stop_and_restart(ctx, t) || !shm_round(ctx, t, "traffic after a refused map") ||
        !stop_and_restart(ctx, t) || !shm_round(ctx, t, "traffic after the next start")) {
        return vc_ctx_done(ctx);
    }
    if (t->fe->shm.refused == 0) {
        vc_ctx_note(ctx, "%u map(s), each with one fd, inside its region, no overlap; no map came "
                    "after the ring restart, so none was refused", maps);
        return vc_ctx_done(ctx);
    }
    o = find_fault(t->fe, mark, bad | FAULT(NO_MATCH));
    if (o) {
        vc_ctx_violation(ctx, "after the front end refused a map: %s", o->text);
        return vc_ctx_done(ctx);
    }
    vc_ctx_note(ctx, "%u map(s), each with one fd, inside its region, no overlap; a refused map "
                "was not unmapped and the ring kept working",
                count_requests(t->fe, 0, VHOST_USER_BACKEND_SHMEM_MAP));
    return vc_ctx_done(ctx);
}

static VcVerdict
unmap_exact(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = shm_open(ctx);
    const VcObs *o;
    unsigned unmaps;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* Two start/stop cycles of the traffic ring: the reference maps and unmaps in each. */
    for (int k = 0; k < 2; k++) {
        if (!shm_round(ctx, t, "traffic") || !stop_and_restart(ctx, t)) {
            return vc_ctx_done(ctx);
        }
    }
    VC_TRY(ctx, vc_fe_get_vring_base(t->fe, vc_chk_queue(t), NULL, VC_ERR(ctx)));
    vc_fe_service(t->fe, vc_chk_quiet_ms());
    o = find_fault(t->fe, 0, FAULT(NO_MATCH));
    if (o) {
        vc_ctx_violation(ctx, "%s", o->text);
        return vc_ctx_done(ctx);
    }
    unmaps = count_requests(t->fe, 0, VHOST_USER_BACKEND_SHMEM_UNMAP);
    if (unmaps == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no BACKEND_SHMEM_UNMAP (%u maps)",
                           count_requests(t->fe, 0, VHOST_USER_BACKEND_SHMEM_MAP));
    }
    vc_ctx_note(ctx, "%u unmap(s), each exactly one live mapping; %u mapping(s) live at the end",
                unmaps, vc_fe_shm_live(t->fe));
    return vc_ctx_done(ctx);
}

static VcVerdict
map_flags_and_shmid(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = shm_open(ctx);
    const VcObs *o;
    unsigned maps;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    if (!shm_round(ctx, t, "traffic") || !stop_and_restart(ctx, t) ||
        !shm_round(ctx, t, "traffic after a ring restart")) {
        return vc_ctx_done(ctx);
    }
    o = find_fault(t->fe, 0, FAULT(FLAGS) | FAULT(NO_REGION));
    if (o) {
        vc_ctx_violation(ctx, "%s", o->text);
        return vc_ctx_done(ctx);
    }
    maps = count_requests(t->fe, 0, VHOST_USER_BACKEND_SHMEM_MAP);
    if (maps == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no BACKEND_SHMEM_MAP");
    }
    vc_ctx_note(ctx, "%u map(s), flags 0 or 1, each into a region GET_SHMEM_CONFIG gave a size",
                maps);
    return vc_ctx_done(ctx);
}

/* Shared-memory traffic on the back-end channel from observation @from on. */
static const VcObs *
find_shm_traffic(const VcFrontend *fe, guint from)
{
    for (guint i = from; i < vc_fe_obs_count(fe); i++) {
        const VcObs *o = vc_fe_obs(fe, i);

        if ((o->kind == VC_OBS_BACKEND_MSG || o->kind == VC_OBS_BACKEND_FAULT) &&
            (o->request == VHOST_USER_BACKEND_SHMEM_MAP ||
             o->request == VHOST_USER_BACKEND_SHMEM_UNMAP)) {
            return o;
        }
    }
    return NULL;
}

static VcVerdict
quiet_when_suspended_and_reset(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = shm_open(ctx);
    static const VcStep again[] = {VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK,
                                   VC_STEP_SET_VRING_CALL, VC_STEP_MEM, VC_STEP_END};
    static const VcStep driver_ok[] = {VC_STEP_STATUS_DRIVER_OK, VC_STEP_END};
    VcFrontend *fe;
    const VcObs *o;
    uint32_t base = 0;
    g_autoptr(GArray) dropped = NULL;
    guint mark;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!shm_round(ctx, t, "traffic")) {
        return vc_ctx_done(ctx);
    }
    if (count_requests(fe, 0, VHOST_USER_BACKEND_SHMEM_MAP) == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon sent no BACKEND_SHMEM_MAP");
    }
    /*
     * vhost-user.rst "Suspended device state": with every ring stopped, no message to the front
     * end. What the daemon sent before its GET_VRING_BASE reply is already in the channel.
     */
    for (unsigned q = 0; q < fe->num_queues; q++) {
        if (fe->q[q].vq) {
            VC_TRY(ctx, vc_fe_get_vring_base(fe, q, q == vc_chk_queue(t) ? &base : NULL,
                                             VC_ERR(ctx)));
        }
    }
    vc_fe_service(fe, 0);
    mark = vc_fe_obs_count(fe);
    vc_traffic_reap(t);
    if (!vc_ctx_settle(ctx, fe, 2 * vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    o = find_shm_traffic(fe, mark);
    if (o) {
        vc_ctx_violation(ctx, "with every ring stopped (device suspended): %s", o->text);
        return vc_ctx_done(ctx);
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_RESET_DEVICE)) {
        vc_ctx_note(ctx, "no shared-memory message while suspended; RESET_DEVICE not negotiated");
        return vc_ctx_done(ctx);
    }
    /* A mapping live at RESET_DEVICE is gone for the front end; the daemon must know it. */
    if (!vc_chk_restart_ring(ctx, t, base) || !shm_round(ctx, t, "traffic")) {
        return vc_ctx_done(ctx);
    }
    if (vc_fe_shm_live(fe) == 0) {
        vc_ctx_note(ctx, "no shared-memory message while suspended; no mapping was live before "
                    "the reset, so the reset part is inconclusive");
        return vc_ctx_done(ctx);
    }
    dropped = g_array_new(FALSE, FALSE, sizeof(VcFeShmMap));
    for (guint i = 0; i < vc_fe_shm_live(fe); i++) {
        g_array_append_val(dropped, *vc_fe_shm_map(fe, i));
    }
    mark = vc_fe_obs_count(fe);
    VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_RESET_DEVICE, 0, true, NULL, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_run_steps(fe, again, VC_ERR(ctx)));
    if (!vc_chk_restart_ring(ctx, t, vc_chk_base_at(t->vq, 0))) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_run_steps(fe, driver_ok, VC_ERR(ctx)));
    if (!shm_round(ctx, t, "traffic after RESET_DEVICE")) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_get_vring_base(fe, vc_chk_queue(t), NULL, VC_ERR(ctx)));
    vc_fe_service(fe, vc_chk_quiet_ms());
    /* An unmap the table refuses is VU-SHM-04's; one of a range the reset dropped is ours. */
    for (guint i = mark; i < vc_fe_obs_count(fe); i++) {
        o = vc_fe_obs(fe, i);
        if (o->kind != VC_OBS_SHMEM_FAULT || o->faults != VC_SHM_FAULT_NO_MATCH) {
            continue;
        }
        for (guint k = 0; k < dropped->len; k++) {
            if (g_array_index(dropped, VcFeShmMap, k).shm_offset == o->u64) {
                vc_ctx_violation(ctx, "a mapping that RESET_DEVICE dropped was taken as live: %s",
                                 o->text);
                return vc_ctx_done(ctx);
            }
        }
    }
    vc_ctx_note(ctx, "no shared-memory message while suspended; after RESET_DEVICE no unmap of a "
                "mapping the reset dropped (%" G_GUINT64_FORMAT " dropped)", fe->shm.dropped);
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-SHM-01", "vhost-user.rst#virtio-shared-memory-region-configuration", VC_MUST,
     VC_F_PROTO, PF_SHM, 0,
     "GET_SHMEM_CONFIG: 2056 bytes, nregions counts the non-zero sizes, each a page multiple",
     "shm-config-nregions", config_well_formed, NULL, "qemu-11.1"},
    {"VU-SHM-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, PF_SHM,
     VC_CHECK_DATAPATH, "GET_SHMEM_CONFIG answers the same for the whole connection",
     "shm-config-changes", config_stable, NULL, "qemu-11.1"},
    {"VU-SHM-03", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO, PF_SHM,
     VC_CHECK_DATAPATH, "BACKEND_SHMEM_MAP: one fd, a free range inside its region; a refusal "
     "is survived", "shm-map-overlap", map_valid, NULL, "qemu-11.1"},
    {"VU-SHM-04", "vhost-user.rst#back-end-message-types", VC_MUST, VC_F_PROTO, PF_SHM,
     VC_CHECK_DATAPATH, "BACKEND_SHMEM_UNMAP names exactly one live mapping",
     "shm-unmap-unknown", unmap_exact, NULL, "qemu-11.1"},
    {"VU-SHM-05", "vhost-user.rst#mmap-request", VC_MUST, VC_F_PROTO, PF_SHM, VC_CHECK_DATAPATH,
     "BACKEND_SHMEM_MAP: flags 0 or 1, a shmid GET_SHMEM_CONFIG gave a size",
     "shm-map-flags-2", map_flags_and_shmid, NULL, "qemu-11.1"},
    {"VU-SHM-06", "vhost-user.rst#suspended-device-state", VC_MUST, VC_F_PROTO, PF_SHM,
     VC_CHECK_DATAPATH, "no map traffic while suspended; no mapping assumed after RESET_DEVICE",
     "shm-unmap-while-suspended", quiet_when_suspended_and_reset, NULL, "qemu-11.1"},
};

const VcCheckArea vc_area_shm = {"shm", checks, G_N_ELEMENTS(checks)};
