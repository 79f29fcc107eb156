/*
 * vc-shmem.c -- VIRTIO Shared Memory Regions as a front end keeps them
 * (VHOST_USER_PROTOCOL_F_SHMEM): the region sizes of GET_SHMEM_CONFIG, an
 * address range reserved per region, and the table of mappings that
 * BACKEND_SHMEM_MAP and BACKEND_SHMEM_UNMAP change.
 *
 * vhost-user.rst GET_SHMEM_CONFIG, BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP.
 * Like QEMU's vhost_user_backend_handle_shmem_map(), a map must name a
 * region that exists, lie inside it, overlap no live mapping and bring one
 * fd; the fd is mapped over the reserved range (PROT_NONE again after the
 * unmap, so that nothing else lands there). A request the front end
 * refuses is answered with a non-zero ack and recorded as an observation
 * (VC_OBS_SHMEM_FAULT); whether that breaks a rule is for the checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-error.h"
#include "vc-frontend.h"
#include "wire/vc-msg-table.h"

/* Regions larger than this get no reserved range: their maps are checked, not mapped. */
#define SHM_RESERVE_MAX (64ull << 30)

static void
unreserve(VcFeShm *s, unsigned id)
{
    if (s->area[id]) {
        munmap(s->area[id], s->area_len[id]);
    }
    s->area[id] = NULL;
    s->area_len[id] = 0;
}

/* A range no other mmap() can take: the guest would otherwise see whatever lands there. */
static void
reserve(VcFeShm *s, unsigned id, uint64_t size)
{
    void *p;

    if (size == 0 || size > SHM_RESERVE_MAX) {
        return;
    }
    p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        s->area[id] = p;
        s->area_len[id] = size;
    }
}

/* Puts [off, off + len) of region @id back to the reserved state. */
static void
release_range(VcFeShm *s, unsigned id, uint64_t off, uint64_t len)
{
    if (s->area[id] && off < s->area_len[id] && len <= s->area_len[id] - off) {
        (void)mmap(s->area[id] + off, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    }
}

static void
drop_maps(VcFeShm *s, int only_id)
{
    if (!s->maps) {
        return;
    }
    for (guint i = s->maps->len; i-- > 0;) {
        const VcFeShmMap *m = &g_array_index(s->maps, VcFeShmMap, i);

        if (only_id < 0 || m->shmid == only_id) {
            release_range(s, m->shmid, m->shm_offset, m->len);
            g_array_remove_index(s->maps, i);
        }
    }
}

void
vc_fe_shm_reset(VcFrontend *fe)
{
    VcFeShm *s = &fe->shm;

    if (s->maps && s->maps->len) {
        s->dropped += s->maps->len;
    }
    drop_maps(s, -1);
}

void
vc_fe_shm_free(VcFrontend *fe)
{
    VcFeShm *s = &fe->shm;

    drop_maps(s, -1);
    for (unsigned id = 0; id < VHOST_USER_MAX_SHMEM_REGIONS; id++) {
        unreserve(s, id);
    }
    if (s->maps) {
        g_array_unref(s->maps);
        s->maps = NULL;
    }
}

guint
vc_fe_shm_live(const VcFrontend *fe)
{
    return fe->shm.maps ? fe->shm.maps->len : 0;
}

const VcFeShmMap *
vc_fe_shm_map(const VcFrontend *fe, guint i)
{
    return &g_array_index(fe->shm.maps, VcFeShmMap, i);
}

bool
vc_fe_get_shmem_config(VcFrontend *fe, VhostUserShMemConfig *out, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    VcFeShm *s = &fe->shm;
    const VhostUserShMemConfig *c;

    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_SHMEM)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "GET_SHMEM_CONFIG: VHOST_USER_PROTOCOL_F_SHMEM is not negotiated");
        return false;
    }
    vc_msg_init(req, VHOST_USER_GET_SHMEM_CONFIG, 0);
    /* The codec refuses any reply that is not exactly the 2056-byte VhostUserShMemConfig. */
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    vc_msg_close_fds(reply);
    c = &reply->payload.shmem;
    if (!s->maps) {
        s->maps = g_array_new(FALSE, TRUE, sizeof(VcFeShmMap));
    }
    /* A region whose size changed is a new region: its mappings and reservation go. */
    for (unsigned id = 0; id < VHOST_USER_MAX_SHMEM_REGIONS; id++) {
        uint64_t old = s->config_got ? s->config.memory_sizes[id] : 0;

        if (old != c->memory_sizes[id] || (c->memory_sizes[id] && !s->area[id])) {
            drop_maps(s, (int)id);
            unreserve(s, id);
            reserve(s, id, c->memory_sizes[id]);
        }
    }
    s->config = *c;
    s->config_got = true;
    s->n_configs++;
    if (out) {
        *out = *c;
    }
    return true;
}

/* One VC_OBS_SHMEM_FAULT: the request, then why it was refused. */
static void
shm_fault(VcFrontend *fe, const VcMsg *m, VcShmFault why, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void
shm_fault(VcFrontend *fe, const VcMsg *m, VcShmFault why, const char *fmt, ...)
{
    VcObs o = {0};
    g_autofree char *reason = NULL;
    char desc[160];
    va_list ap;

    va_start(ap, fmt);
    reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    o.kind = VC_OBS_SHMEM_FAULT;
    o.request = m->hdr.request;
    o.flags = m->hdr.flags;
    o.size = m->hdr.size;
    o.faults = why;
    o.nfds = m->nfds;
    o.msg_no = fe->bch ? fe->bch->n_recv : 0;
    if (m->hdr.size >= sizeof(VhostUserMMap)) {
        o.u64 = m->payload.mmap.shm_offset;
        vc_msg_format(desc, sizeof(desc), VC_CHAN_BACKEND, m, NULL);
    } else {
        g_snprintf(desc, sizeof(desc), "size %u", m->hdr.size);
    }
    g_snprintf(o.text, sizeof(o.text), "%s %s: %s", vc_msg_short_name(VC_CHAN_BACKEND,
               m->hdr.request), desc, reason);
    g_array_append_val(fe->obs, o);
    fe->shm.faults++;
}

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static uint64_t
shm_map(VcFrontend *fe, const VcMsg *m)
{
    VcFeShm *s = &fe->shm;
    const VhostUserMMap *mm = &m->payload.mmap;
    uint64_t size = s->config_got ? s->config.memory_sizes[mm->shmid] : 0;
    VcFeShmMap map = {0};
    struct stat st;

    if (size == 0) {
        shm_fault(fe, m, VC_SHM_FAULT_NO_REGION, s->config_got
                  ? "shmid %u has size 0 in GET_SHMEM_CONFIG (no such region)"
                  : "no GET_SHMEM_CONFIG was answered (shmid %u is unknown)", mm->shmid);
        return 1;
    }
    if (mm->flags > VHOST_USER_FLAG_MAP_RW) {
        shm_fault(fe, m, VC_SHM_FAULT_FLAGS, "flags 0x%" G_GINT64_MODIFIER "x: only 0 (read-only) "
                  "and 1 (read-write) are defined", mm->flags);
        return 1;
    }
    if (mm->len == 0 || mm->shm_offset + mm->len < mm->len || mm->shm_offset + mm->len > size) {
        shm_fault(fe, m, VC_SHM_FAULT_RANGE, "range is not inside the 0x%" G_GINT64_MODIFIER
                  "x-byte region", size);
        return 1;
    }
    for (guint i = 0; i < s->maps->len; i++) {
        const VcFeShmMap *o = &g_array_index(s->maps, VcFeShmMap, i);

        if (o->shmid == mm->shmid && overlaps(o->shm_offset, o->len, mm->shm_offset, mm->len)) {
            shm_fault(fe, m, VC_SHM_FAULT_OVERLAP, "overlaps the mapping at 0x%" G_GINT64_MODIFIER
                      "x (0x%" G_GINT64_MODIFIER "x bytes)", o->shm_offset, o->len);
            return 1;
        }
    }
    if (fstat(m->fds[0], &st) < 0 || st.st_size < 0 || mm->fd_offset + mm->len < mm->len ||
        (uint64_t)st.st_size < mm->fd_offset + mm->len) {
        shm_fault(fe, m, VC_SHM_FAULT_FD_SIZE,
                  "the fd holds %lld bytes, fewer than fd_offset + len", (long long)st.st_size);
        return 1;
    }
    if (s->refuse > 0) {
        /* The harness plays a front end out of resources; not the daemon's fault. */
        s->refuse--;
        s->refused++;
        return 1;
    }
    if (s->area[mm->shmid]) {
        int prot = PROT_READ | ((mm->flags & VHOST_USER_FLAG_MAP_RW) ? PROT_WRITE : 0);
        void *p = mmap(s->area[mm->shmid] + mm->shm_offset, mm->len, prot, MAP_SHARED | MAP_FIXED,
                       m->fds[0], (off_t)mm->fd_offset);

        if (p == MAP_FAILED) {
            int e = errno;

            release_range(s, mm->shmid, mm->shm_offset, mm->len);
            shm_fault(fe, m, VC_SHM_FAULT_MMAP, "mmap() refused it: %s (offsets and length must "
                      "be page-aligned)", g_strerror(e));
            return 1;
        }
    }
    map.shmid = mm->shmid;
    map.shm_offset = mm->shm_offset;
    map.len = mm->len;
    map.fd_offset = mm->fd_offset;
    map.rw = (mm->flags & VHOST_USER_FLAG_MAP_RW) != 0;
    map.msg_no = fe->bch ? fe->bch->n_recv : 0;
    g_array_append_val(s->maps, map);
    s->maps_made++;
    return 0;
}

static uint64_t
shm_unmap(VcFrontend *fe, const VcMsg *m)
{
    VcFeShm *s = &fe->shm;
    const VhostUserMMap *mm = &m->payload.mmap;

    /* vhost-user.rst BACKEND_SHMEM_UNMAP: the range is the whole of one mapping. */
    for (guint i = 0; i < s->maps->len; i++) {
        const VcFeShmMap *o = &g_array_index(s->maps, VcFeShmMap, i);

        if (o->shmid == mm->shmid && o->shm_offset == mm->shm_offset && o->len == mm->len) {
            release_range(s, o->shmid, o->shm_offset, o->len);
            g_array_remove_index(s->maps, i);
            s->unmaps_made++;
            return 0;
        }
    }
    shm_fault(fe, m, VC_SHM_FAULT_NO_MATCH, "no live mapping is exactly this range (%u live)",
              s->maps->len);
    return 1;
}

uint64_t
vc_fe_shm_handle(VcFrontend *fe, const VcMsg *m, unsigned faults)
{
    VcFeShm *s = &fe->shm;

    if (!s->maps) {
        s->maps = g_array_new(FALSE, TRUE, sizeof(VcFeShmMap));
    }
    if (faults & VC_MSG_FAULT_FDS) {
        shm_fault(fe, m, VC_SHM_FAULT_FDS, m->hdr.request == VHOST_USER_BACKEND_SHMEM_MAP
                  ? "a map carries exactly one fd; this one carried %u"
                  : "an unmap carries no fd; this one carried %u", m->nfds);
        return 1;
    }
    if (faults) {
        shm_fault(fe, m, VC_SHM_FAULT_MALFORMED, "malformed (fault mask 0x%x)", faults);
        return 1;
    }
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_SHMEM)) {
        shm_fault(fe, m, VC_SHM_FAULT_NOT_NEGOTIATED, "VHOST_USER_PROTOCOL_F_SHMEM is not "
                  "negotiated");
        return 1;
    }
    return m->hdr.request == VHOST_USER_BACKEND_SHMEM_MAP ? shm_map(fe, m) : shm_unmap(fe, m);
}
