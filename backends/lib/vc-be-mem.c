/*
 * vc-be-mem.c -- the memory table: mapping regions and translating
 * addresses (vhost-user.rst "Memory access", SET_MEM_TABLE, ADD_MEM_REG,
 * REM_MEM_REG).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-be-priv.h"

/* True when [a, a + alen) and [b, b + blen) share a byte; lengths are > 0. */
static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a <= b + (blen - 1) && b <= a + (alen - 1);
}

static bool
regions_overlap(const VhostUserMemoryRegion *d, const VcBeRegion *r)
{
    return ranges_overlap(d->guest_phys_addr, d->memory_size, r->gpa, r->size) ||
           ranges_overlap(d->userspace_addr, d->memory_size, r->uva, r->size);
}

/*
 * mmap() wants an offset aligned to the fd's page size (4 KiB for a memfd,
 * the huge page size for hugetlbfs), so map from the aligned offset below
 * mmap_offset and point past the difference.
 */
static int
region_map(VcBe *be, const VhostUserMemoryRegion *d, int fd, VcBeRegion *r)
{
    uint64_t off = d->mmap_offset;
    uint64_t align = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t aligned, delta, len;
    struct stat st;
    void *p;

    if (be->mutant == VC_MUT_IGNORE_MMAP_OFFSET) {
        off = 0;
    }
    if (d->memory_size == 0 ||
        d->guest_phys_addr + (d->memory_size - 1) < d->guest_phys_addr ||
        d->userspace_addr + (d->memory_size - 1) < d->userspace_addr ||
        off + (d->memory_size - 1) < off) {
        return -EINVAL;
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
        return -EBADF;
    }
    /* Mapping past the end of a file works, touching it raises SIGBUS: refuse. */
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < off + d->memory_size) {
        return -ERANGE;
    }
    if (st.st_blksize > 0 && (uint64_t)st.st_blksize > align &&
        ((uint64_t)st.st_blksize & ((uint64_t)st.st_blksize - 1)) == 0) {
        align = (uint64_t)st.st_blksize;
    }
    aligned = off & ~(align - 1);
    delta = off - aligned;
    if (d->memory_size > SIZE_MAX - delta - align) {
        return -EINVAL;
    }
    len = (delta + d->memory_size + align - 1) & ~(align - 1);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, (off_t)aligned);
    if (p == MAP_FAILED) {
        return -errno;
    }
    /* A fresh region: nothing registered, no second mapping (callers pass stack slots). */
    memset(r, 0, sizeof(*r));
    r->gpa = d->guest_phys_addr;
    r->size = d->memory_size;
    r->uva = d->userspace_addr;
    r->mmap_offset = d->mmap_offset;
    r->map_base = p;
    r->map_len = len;
    r->hva = (uint8_t *)p + delta;
    return 0;
}

static void
region_unmap(VcBeRegion *r)
{
    if (r->map_base) {
        munmap(r->map_base, r->map_len);
    }
    if (r->alt_base) {
        munmap(r->alt_base, r->map_len);
    }
    memset(r, 0, sizeof(*r));
}

static VcBeRegion *
region_find(VcBe *be, uint64_t addr, uint64_t len, bool by_uva)
{
    for (unsigned k = 0; k < be->nregions; k++) {
        unsigned i = (be->last_region + k) % be->nregions;
        VcBeRegion *r = &be->regions[i];
        uint64_t base = by_uva ? r->uva : r->gpa;

        /* vhost-user.rst "Memory access": the whole range in one region. */
        if (addr >= base && addr - base < r->size && len <= r->size - (addr - base)) {
            be->last_region = i;
            return r;
        }
    }
    return NULL;
}

void *
vc_be_gpa_to_hva(VcBe *be, uint64_t gpa, uint64_t len)
{
    VcBeRegion *r = region_find(be, gpa, len, false);

    return r ? r->hva + (gpa - r->gpa) : NULL;
}

void *
vc_be_uva_to_hva(VcBe *be, uint64_t uva, uint64_t len)
{
    VcBeRegion *r = region_find(be, uva, len, true);

    return r ? r->hva + (uva - r->uva) : NULL;
}

bool
vc_be_hva_to_gpa(VcBe *be, const void *hva, uint64_t *gpa)
{
    const uint8_t *p = hva;

    for (unsigned i = 0; i < be->nregions; i++) {
        const VcBeRegion *r = &be->regions[i];

        if (p >= r->hva && (uint64_t)(p - r->hva) < r->size) {
            *gpa = r->gpa + (uint64_t)(p - r->hva);
            return true;
        }
    }
    return false;
}

/*
 * SET_MEM_TABLE replaces the table. Rings may be running on the old one, so
 * the new regions are mapped first, every ring pointer is recomputed from
 * the stored user addresses, and only then is the old table unmapped
 * (SPEC-FACTS VU-MEM-11, VU-RING-09).
 */
int
vc_be_mem_set_table(VcBe *be, VcMsg *m)
{
    const VhostUserMemory *mem = &m->payload.memory;
    VcBeRegion fresh[VHOST_MEMORY_BASELINE_NREGIONS];
    VcBeRegion *old = NULL;
    unsigned nold = be->nregions;
    uint32_t n = mem->nregions;
    int r = 0;

    if (n == 0 || n > VHOST_MEMORY_BASELINE_NREGIONS || m->nfds != n) {
        return -EINVAL;
    }
    /* Deferred chains point into the old table: complete them while it is mapped. */
    vc_be_drain_all(be);
    memset(fresh, 0, sizeof(fresh));
    for (uint32_t i = 0; i < n && r == 0; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (mem->regions[i].memory_size &&
                regions_overlap(&mem->regions[i], &fresh[j])) {
                r = -EINVAL;
                break;
            }
        }
        if (r == 0) {
            r = region_map(be, &mem->regions[i], m->fds[i], &fresh[i]);
        }
    }
    if (r == 0 && nold > 0) {
        old = malloc(nold * sizeof(*old));
        if (!old) {
            r = -ENOMEM;
        }
    }
    if (r < 0) {
        for (uint32_t i = 0; i < n; i++) {
            region_unmap(&fresh[i]);
        }
        return r;
    }
    if (nold > 0) {
        memcpy(old, be->regions, nold * sizeof(*old));
    }
    memcpy(be->regions, fresh, n * sizeof(fresh[0]));
    be->nregions = n;
    be->last_region = 0;
    be->mem_seen = true;
    if (be->postcopy_listen) {
        /*
         * vhost-user.rst SET_MEM_TABLE in postcopy: mapped, not accessed,
         * until the front end acks the region table we reply with.
         */
        be->postcopy_wait_ack = true;
    }

    if (be->mutant == VC_MUT_STALE_RINGS_AFTER_MEM_TABLE) {
        /* Mutant: rings that already have pointers keep the old ones. */
        for (unsigned q = 0; q < be->dev.num_queues; q++) {
            if (!be->vq[q].ready) {
                vc_be_vring_remap(be, &be->vq[q]);
            }
        }
    } else {
        vc_be_vring_remap_all(be);
    }
    for (unsigned i = 0; i < nold; i++) {
        region_unmap(&old[i]);
    }
    free(old);
    /* The mappings hold the memory; the fds are closed by the caller. */
    return 0;
}

int
vc_be_mem_add(VcBe *be, VcMsg *m, VcBeRegion **added)
{
    const VhostUserMemoryRegion *d = &m->payload.mem_reg.region;
    VcBeRegion reg;
    int r;

    if (be->mutant == VC_MUT_ADD_MEM_REG_MAX_8 && be->nregions >= 8) {
        /* Mutant: a fixed table of 8; the region is dropped but acked. */
        return 0;
    }
    if (be->nregions >= be->max_mem_slots || be->nregions >= be->regions_cap) {
        return -ENOSPC;
    }
    if (d->memory_size == 0) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < be->nregions; i++) {
        if (regions_overlap(d, &be->regions[i])) {
            return -EEXIST;
        }
    }
    r = region_map(be, d, m->nfds == 1 ? m->fds[0] : -1, &reg);
    if (r < 0) {
        return r;
    }
    be->regions[be->nregions++] = reg;
    be->mem_seen = true;
    if (added) {
        *added = &be->regions[be->nregions - 1];
    }
    if (be->postcopy_listen) {
        /* libvhost-user: an added region is registered at once, then reported. */
        (void)vc_be_postcopy_register(be, &be->regions[be->nregions - 1]);
    }
    vc_be_vring_remap_all(be);
    return 0;
}

/* vhost-user.rst REM_MEM_REG: match address and size; mmap_offset is ignored. */
int
vc_be_mem_rem(VcBe *be, VcMsg *m)
{
    const VhostUserMemoryRegion *d = &m->payload.mem_reg.region;
    VcBeRegion gone;

    if (be->mutant == VC_MUT_REM_MEM_REG_LEAKS_FD && m->nfds == 1) {
        (void)vc_msg_take_fd(m, 0);     /* Mutant: kept open forever. */
    }
    for (unsigned i = 0; i < be->nregions; i++) {
        VcBeRegion *r = &be->regions[i];

        if (r->gpa != d->guest_phys_addr || r->uva != d->userspace_addr ||
            r->size != d->memory_size) {
            continue;
        }
        if (be->mutant == VC_MUT_REM_MEM_REG_NEEDS_OFFSET && r->mmap_offset != d->mmap_offset) {
            continue;
        }
        vc_be_drain_all(be);
        gone = *r;
        memmove(r, r + 1, (be->nregions - i - 1) * sizeof(*r));
        be->nregions--;
        be->last_region = 0;
        vc_be_vring_remap_all(be);
        region_unmap(&gone);
        return 0;
    }
    return -ENOENT;
}

void
vc_be_mem_clear(VcBe *be)
{
    for (unsigned i = 0; i < be->nregions; i++) {
        region_unmap(&be->regions[i]);
    }
    be->nregions = 0;
    be->last_region = 0;
}
