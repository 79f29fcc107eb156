/*
 * vc-gmem.c -- memfd guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-gmem.h"

#define HUGE_2M (2ull << 20)

VcGmem *
vc_gmem_new(void)
{
    VcGmem *gm = g_new0(VcGmem, 1);

    gm->uva_offset = VC_GMEM_UVA_OFFSET;
    return gm;
}

void
vc_gmem_free(VcGmem *gm)
{
    if (!gm) {
        return;
    }
    for (unsigned i = 0; i < gm->n_memfds; i++) {
        munmap(gm->memfds[i].base, gm->memfds[i].size);
        close(gm->memfds[i].fd);
    }
    g_free(gm);
}

int
vc_gmem_add_memfd(VcGmem *gm, uint64_t size, bool hugepages)
{
    uint64_t page = hugepages ? HUGE_2M : (uint64_t)sysconf(_SC_PAGESIZE);
    unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (hugepages ? MFD_HUGETLB : 0);
    VcMemfd *mf;
    void *base;
    int fd;

    if (gm->n_memfds >= VC_GMEM_MAX_MEMFDS || size == 0) {
        return -ENOSPC;
    }
    size = (size + page - 1) & ~(page - 1);
    fd = memfd_create("vc-guest", flags);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    /* The daemon must not be able to change the size under us. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 && !hugepages) {
        int e = -errno;
        close(fd);
        return e;
    }
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (base == MAP_FAILED) {
        int e = -errno;
        close(fd);
        return e;
    }
    memset(base, VC_GMEM_GUARD, size);
    mf = &gm->memfds[gm->n_memfds];
    mf->fd = fd;
    mf->size = size;
    mf->base = base;
    mf->hugepages = hugepages;
    return (int)gm->n_memfds++;
}

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

int
vc_gmem_add_region(VcGmem *gm, unsigned memfd, uint64_t fd_offset, uint64_t gpa, uint64_t size)
{
    VcRegion *r;
    unsigned slot;

    if (memfd >= gm->n_memfds || size == 0 ||
        fd_offset + size > gm->memfds[memfd].size || fd_offset + size < fd_offset) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < gm->n_regions; i++) {
        if (!gm->regions[i].removed && overlaps(gpa, size, gm->regions[i].gpa,
                                                gm->regions[i].size)) {
            return -EINVAL;
        }
    }
    for (slot = 0; slot < gm->n_regions && !gm->regions[slot].removed; slot++) {
    }
    if (slot == gm->n_regions) {
        if (gm->n_regions >= VC_GMEM_MAX_REGIONS) {
            return -ENOSPC;
        }
        gm->n_regions++;
    }
    r = &gm->regions[slot];
    memset(r, 0, sizeof(*r));
    r->memfd = memfd;
    r->fd_offset = fd_offset;
    r->size = size;
    r->gpa = gpa;
    r->uva = gpa + gm->uva_offset;
    r->hva = gm->memfds[memfd].base + fd_offset;
    return (int)slot;
}

int
vc_gmem_add_simple(VcGmem *gm, uint64_t gpa, uint64_t size, bool hugepages)
{
    int mf = vc_gmem_add_memfd(gm, size, hugepages);

    if (mf < 0) {
        return mf;
    }
    return vc_gmem_add_region(gm, (unsigned)mf, 0, gpa, gm->memfds[mf].size);
}

int
vc_gmem_remove_region(VcGmem *gm, unsigned idx)
{
    if (idx >= gm->n_regions || gm->regions[idx].removed) {
        return -EINVAL;
    }
    gm->regions[idx].removed = true;
    return 0;
}

void
vc_gmem_region_desc(const VcGmem *gm, unsigned idx, VhostUserMemoryRegion *out)
{
    const VcRegion *r = &gm->regions[idx];

    out->guest_phys_addr = r->gpa;
    out->memory_size = r->size;
    out->userspace_addr = r->uva;
    out->mmap_offset = r->fd_offset;
}

int
vc_gmem_region_fd(const VcGmem *gm, unsigned idx)
{
    return gm->memfds[gm->regions[idx].memfd].fd;
}

void *
vc_gmem_to_hva(const VcGmem *gm, uint64_t gpa, uint64_t *len)
{
    for (unsigned i = 0; i < gm->n_regions; i++) {
        const VcRegion *r = &gm->regions[i];
        if (!r->removed && gpa >= r->gpa && gpa - r->gpa < r->size) {
            if (len && *len > r->size - (gpa - r->gpa)) {
                *len = r->size - (gpa - r->gpa);
            }
            return r->hva + (gpa - r->gpa);
        }
    }
    return NULL;
}

uint64_t
vc_gmem_to_uva(const VcGmem *gm, uint64_t gpa)
{
    for (unsigned i = 0; i < gm->n_regions; i++) {
        const VcRegion *r = &gm->regions[i];
        if (!r->removed && gpa >= r->gpa && gpa - r->gpa < r->size) {
            return r->uva + (gpa - r->gpa);
        }
    }
    return 0;
}

void *
vc_gmem_alloc_in(VcGmem *gm, unsigned idx, uint64_t size, uint64_t align, uint64_t *gpa)
{
    VcRegion *r;
    uint64_t off;

    if (idx >= gm->n_regions || gm->regions[idx].removed || size == 0) {
        return NULL;
    }
    r = &gm->regions[idx];
    /* Align the guest address, not the offset: regions start page aligned anyway. */
    off = ((r->gpa + r->alloc_next + align - 1) & ~(align - 1)) - r->gpa;
    if (off > r->size || size > r->size - off) {
        return NULL;
    }
    r->alloc_next = off + size;
    *gpa = r->gpa + off;
    return r->hva + off;
}

void *
vc_gmem_alloc(VcGmem *gm, uint64_t size, uint64_t align, uint64_t *gpa)
{
    for (unsigned i = 0; i < gm->n_regions; i++) {
        void *p = vc_gmem_alloc_in(gm, i, size, align, gpa);
        if (p) {
            return p;
        }
    }
    return NULL;
}

void
vc_gmem_fill(VcGmem *gm, uint64_t gpa, uint64_t len, uint8_t byte)
{
    while (len > 0) {
        uint64_t n = len;
        uint8_t *p = vc_gmem_to_hva(gm, gpa, &n);
        if (!p) {
            return;
        }
        memset(p, byte, n);
        gpa += n;
        len -= n;
    }
}

uint64_t
vc_gmem_memfd_to_gpa(const VcGmem *gm, unsigned memfd, uint64_t offset)
{
    for (unsigned i = 0; i < gm->n_regions; i++) {
        const VcRegion *r = &gm->regions[i];
        if (!r->removed && r->memfd == memfd && offset >= r->fd_offset &&
            offset - r->fd_offset < r->size) {
            return r->gpa + (offset - r->fd_offset);
        }
    }
    return UINT64_MAX;
}

/*
 * Is byte @off of memfd @mf inside an allowed range? Returns the end of that range (clipped to
 * the region, whose neighbour in gpa need not be its neighbour in the memfd) or 0. Every region
 * mapping the byte is tried: two regions may alias the same memfd bytes.
 */
static uint64_t
allowed_until(const VcGmem *gm, unsigned mf, uint64_t off, const VcRange *allowed, unsigned n)
{
    for (unsigned r = 0; r < gm->n_regions; r++) {
        const VcRegion *reg = &gm->regions[r];
        uint64_t gpa, left;

        if (reg->removed || reg->memfd != mf || off < reg->fd_offset ||
            off - reg->fd_offset >= reg->size) {
            continue;
        }
        gpa = reg->gpa + (off - reg->fd_offset);
        left = reg->size - (off - reg->fd_offset);
        for (unsigned i = 0; i < n; i++) {
            if (gpa >= allowed[i].gpa && gpa - allowed[i].gpa < allowed[i].len) {
                return off + MIN(allowed[i].gpa + allowed[i].len - gpa, left);
            }
        }
    }
    return 0;
}

bool
vc_gmem_find_stray(const VcGmem *gm, const VcRange *allowed, unsigned n_allowed,
                   unsigned *memfd_out, uint64_t *offset_out)
{
    static const uint64_t guard8 = 0x0101010101010101ull * VC_GMEM_GUARD;

    for (unsigned mf = 0; mf < gm->n_memfds; mf++) {
        const uint8_t *base = gm->memfds[mf].base;
        uint64_t size = gm->memfds[mf].size;
        uint64_t off = 0;

        while (off < size) {
            uint64_t w;
            /* Fast path: whole guard words. */
            if ((off & 7) == 0 && off + 8 <= size) {
                memcpy(&w, base + off, 8);
                if (w == guard8) {
                    off += 8;
                    continue;
                }
            }
            if (base[off] == VC_GMEM_GUARD) {
                off++;
                continue;
            }
            uint64_t end = allowed_until(gm, mf, off, allowed, n_allowed);
            if (end > off) {
                off = end;
                continue;
            }
            *memfd_out = mf;
            *offset_out = off;
            return true;
        }
    }
    return false;
}
