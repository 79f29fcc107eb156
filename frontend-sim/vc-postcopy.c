/*
 * vc-postcopy.c -- the front end's side of postcopy migration
 * (vhost-user.rst "Migrating back ends with postcopy", POSTCOPY_ADVISE,
 * POSTCOPY_LISTEN, POSTCOPY_END; QEMU 7.2 hw/virtio/vhost-user.c for the
 * order and the memory-table ack).
 *
 * The daemon registers guest memory with a userfaultfd and hands the front
 * end a copy. A page that "has not arrived" is one punched out of its memfd;
 * the daemon's access to it faults, the fault shows on our copy of the
 * userfaultfd, and we place the page (UFFDIO_COPY into the daemon's mapping)
 * as QEMU does once the page has come from the source.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/userfaultfd.h>

#include "vc-error.h"
#include "vc-frontend.h"

#define PAGE 4096ull

void
vc_fe_postcopy_free(VcFrontend *fe)
{
    if (fe->uffd >= 0) {
        close(fe->uffd);
        fe->uffd = -1;
    }
    g_clear_pointer(&fe->pc_saved, g_hash_table_unref);
    g_clear_pointer(&fe->pc_faulted, g_hash_table_unref);
}

bool
vc_fe_postcopy_advise(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new(VcMsg, 1);
    int fd;

    vc_msg_init(req, VHOST_USER_POSTCOPY_ADVISE, 0);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, reply, error)) {
        return false;
    }
    fd = vc_msg_take_fd(reply, 0);
    vc_msg_close_fds(reply);
    if (fd < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL,
                    "POSTCOPY_ADVISE reply carries no userfaultfd");
        return false;
    }
    if (fe->uffd >= 0) {
        close(fe->uffd);
    }
    fe->uffd = fd;
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!fe->pc_saved) {
        fe->pc_saved = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        fe->pc_faulted = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    return true;
}

bool
vc_fe_postcopy_listen(VcFrontend *fe, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);

    /* QEMU asks for the reply whatever was negotiated (vhost_user_postcopy_listen()). */
    vc_msg_init(req, VHOST_USER_POSTCOPY_LISTEN, VHOST_USER_NEED_REPLY_MASK);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    if (!vc_fe_request(fe, req, NULL, error)) {
        return false;
    }
    fe->postcopy = true;
    return true;
}

bool
vc_fe_postcopy_end(VcFrontend *fe, uint64_t *status, GError **error)
{
    g_autofree VcMsg *req = g_new(VcMsg, 1);
    g_autofree VcMsg *reply = g_new0(VcMsg, 1);
    g_autoptr(GError) err = NULL;
    bool ok;

    vc_msg_init(req, VHOST_USER_POSTCOPY_END, VHOST_USER_NEED_REPLY_MASK);
    vc_msg_set_size(VC_CHAN_MAIN, req);
    ok = vc_fe_request(fe, req, reply, &err);
    /* A non-zero answer is the caller's to judge, not a transport failure. */
    if (!ok && g_error_matches(err, VC_SIM_ERROR, VC_ERROR_NACK)) {
        ok = true;
    }
    if (!ok) {
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    *status = reply->payload.u64;
    fe->postcopy = false;
    /* QEMU closes its copy once the daemon has let go of the registration. */
    if (fe->uffd >= 0) {
        vc_fe_postcopy_serve(fe);
        close(fe->uffd);
        fe->uffd = -1;
    }
    return true;
}

/* The region (index) holding guest page @gpa, or -1. */
static int
region_of(const VcFrontend *fe, uint64_t gpa)
{
    for (unsigned i = 0; fe->gm && i < fe->gm->n_regions; i++) {
        const VcRegion *r = &fe->gm->regions[i];
        if (!r->removed && gpa >= r->gpa && gpa - r->gpa < r->size) {
            return (int)i;
        }
    }
    return -1;
}

bool
vc_fe_postcopy_punch(VcFrontend *fe, uint64_t gpa, uint64_t len, GError **error)
{
    if (!fe->gm || !fe->pc_saved) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                    "postcopy pages need guest memory and POSTCOPY_ADVISE first");
        return false;
    }
    for (uint64_t p = gpa & ~(PAGE - 1); p < gpa + len; p += PAGE) {
        int i = region_of(fe, p);
        const VcRegion *r;
        const VcMemfd *mf;

        if (i < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                        "gpa 0x%" G_GINT64_MODIFIER "x is in no region", p);
            return false;
        }
        r = &fe->gm->regions[i];
        mf = &fe->gm->memfds[r->memfd];
        if (mf->hugepages) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE,
                        "postcopy pages are 4 KiB: not with --hugepages");
            return false;
        }
        if (!g_hash_table_contains(fe->pc_saved, GSIZE_TO_POINTER(p / PAGE))) {
            g_hash_table_insert(fe->pc_saved, GSIZE_TO_POINTER(p / PAGE),
                                g_memdup2(r->hva + (p - r->gpa), PAGE));
        }
        if (fallocate(mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(r->fd_offset + (p - r->gpa)), (off_t)PAGE) < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "punching page 0x%"
                        G_GINT64_MODIFIER "x: %s", p, g_strerror(errno));
            return false;
        }
    }
    return true;
}

/* Places @page (the daemon's address) with @content: UFFDIO_COPY, or a wake if it is there. */
static void
place(VcFrontend *fe, uint64_t page, const void *content)
{
    struct uffdio_copy c = {.dst = page, .src = (uintptr_t)content, .len = PAGE};

    if (ioctl(fe->uffd, UFFDIO_COPY, &c) < 0 && errno == EEXIST) {
        struct uffdio_range w = {.start = page, .len = PAGE};
        (void)ioctl(fe->uffd, UFFDIO_WAKE, &w);
    }
}

unsigned
vc_fe_postcopy_serve(VcFrontend *fe)
{
    static const uint8_t zero[PAGE];
    struct uffd_msg m;
    unsigned n = 0;

    while (fe->uffd >= 0 && read(fe->uffd, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
        uint64_t addr, page;
        const void *content = zero;
        bool known = false;

        if (m.event != UFFD_EVENT_PAGEFAULT) {
            continue;
        }
        addr = m.arg.pagefault.address;
        page = addr & ~(PAGE - 1);
        n++;
        fe->pc_faults++;
        fe->pc_last_fault = addr;
        if (fe->pc_awaiting_ack) {
            fe->pc_early_faults++;
        }
        for (unsigned i = 0; fe->gm && i < fe->gm->n_regions; i++) {
            const VcRegion *r = &fe->gm->regions[i];
            if (fe->pc_base[i] && page >= fe->pc_base[i] && page - fe->pc_base[i] < r->size) {
                uint64_t gpage = (r->gpa + (page - fe->pc_base[i])) / PAGE;
                const void *saved = g_hash_table_lookup(fe->pc_saved, GSIZE_TO_POINTER(gpage));
                g_hash_table_add(fe->pc_faulted, GSIZE_TO_POINTER(gpage));
                content = saved ? saved : zero;
                known = true;
                break;
            }
        }
        if (!known) {
            fe->pc_unknown_faults++;
        }
        /* An unknown address still gets a page: a daemon must never hang in our test. */
        if (fe->pc_resolve || !known) {
            place(fe, page, content);
        }
    }
    return n;
}

bool
vc_fe_postcopy_took_table(VcFrontend *fe, const VcMsg *req, const VcMsg *reply, GError **error)
{
    const char *name = vc_msg_short_name(VC_CHAN_MAIN, req->hdr.request);

    if (reply->hdr.request != req->hdr.request || reply->hdr.size != req->hdr.size) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "postcopy %s reply: request %u "
                    "size %u, want the request's own %u and size %u", name,
                    reply->hdr.request, reply->hdr.size, req->hdr.request, req->hdr.size);
        return false;
    }
    if (req->hdr.request == VHOST_USER_ADD_MEM_REG) {
        const VhostUserMemoryRegion *a = &req->payload.mem_reg.region;
        const VhostUserMemoryRegion *b = &reply->payload.mem_reg.region;
        int i = region_of(fe, a->guest_phys_addr);
        if (b->guest_phys_addr != a->guest_phys_addr || b->memory_size != a->memory_size ||
            b->userspace_addr == 0 || i < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "postcopy ADD_MEM_REG reply "
                        "names gpa 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER
                        "x base 0x%" G_GINT64_MODIFIER "x for the region at 0x%"
                        G_GINT64_MODIFIER "x", (guint64)b->guest_phys_addr,
                        (guint64)b->memory_size, (guint64)b->userspace_addr,
                        (guint64)a->guest_phys_addr);
            return false;
        }
        fe->pc_base[i] = b->userspace_addr;
        return true;
    }
    if (reply->payload.memory.nregions != req->payload.memory.nregions) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "postcopy SET_MEM_TABLE reply has "
                    "%u regions, the table sent %u", reply->payload.memory.nregions,
                    req->payload.memory.nregions);
        return false;
    }
    for (unsigned k = 0; k < req->payload.memory.nregions; k++) {
        const VhostUserMemoryRegion *a = &req->payload.memory.regions[k];
        const VhostUserMemoryRegion *b = &reply->payload.memory.regions[k];
        int i = region_of(fe, a->guest_phys_addr);
        /* QEMU matches the reply's regions to its own by guest address, in order. */
        if (b->guest_phys_addr != a->guest_phys_addr || b->userspace_addr == 0 || i < 0) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "postcopy SET_MEM_TABLE reply "
                        "region %u: gpa 0x%" G_GINT64_MODIFIER "x base 0x%" G_GINT64_MODIFIER
                        "x, the table sent gpa 0x%" G_GINT64_MODIFIER "x", k,
                        (guint64)b->guest_phys_addr, (guint64)b->userspace_addr,
                        (guint64)a->guest_phys_addr);
            return false;
        }
        fe->pc_base[i] = b->userspace_addr;
    }
    return true;
}

bool
vc_fe_postcopy_ack(VcFrontend *fe, uint32_t request, GError **error)
{
    g_autofree VcMsg *ack = g_new(VcMsg, 1);
    int64_t until = g_get_monotonic_time() + 100 * 1000;
    int r;

    /* Faults before the ack break VU-PC-04: give a daemon that touches memory right after
     * its reply the time to show it. */
    while (fe->uffd >= 0 && g_get_monotonic_time() < until) {
        struct pollfd p = {.fd = fe->uffd, .events = POLLIN};
        if (poll(&p, 1, 10) > 0) {
            vc_fe_postcopy_serve(fe);
        }
    }
    /* A page that had not arrived and is now in the page cache without a fault was read or
     * written around the userfaultfd (memory not yet registered counts too). */
    if (fe->pc_saved) {
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, fe->pc_saved);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            uint64_t gpa = (uint64_t)GPOINTER_TO_SIZE(key) * PAGE;
            int i = region_of(fe, gpa);
            unsigned char vec = 0;

            if (i >= 0 && !g_hash_table_contains(fe->pc_faulted, key) &&
                mincore(fe->gm->regions[i].hva + (gpa - fe->gm->regions[i].gpa), PAGE, &vec) == 0 &&
                (vec & 1)) {
                fe->pc_early_faults++;
                fe->pc_last_fault = gpa;
            }
        }
    }
    fe->pc_awaiting_ack = false;
    /* vhost_user_set_mem_table_postcopy(): the same request, a u64 0, no reply. */
    vc_msg_init(ack, request, 0);
    ack->hdr.size = sizeof(uint64_t);
    ack->payload.u64 = 0;
    r = vc_conn_send(fe->conn, ack, fe->timeout_ms);
    if (r < 0) {
        vc_error_from_errno(error, r, "sending the postcopy memory-table ack");
        return false;
    }
    return true;
}
