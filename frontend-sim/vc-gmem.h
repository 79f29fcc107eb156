/*
 * vc-gmem.h -- emulated guest memory: memfd-backed regions at guest-physical
 * addresses the harness chooses, a bump allocator for rings and buffers, and
 * a guard pattern that exposes stray writes by the daemon.
 *
 * A memfd may back several regions at different offsets (the memory table's
 * mmap_offset). Each region is also given a "user address" that the daemon
 * sees in the memory table and in SET_VRING_ADDR: by default it differs from
 * the guest address (uva = gpa + VC_GMEM_UVA_OFFSET), so that a daemon that
 * mixes the two address spaces up cannot pass (vhost-user.rst "Memory
 * access"; SPEC-FACTS VU-MEM-01/02).
 */
#ifndef VC_GMEM_H
#define VC_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "wire/vc-proto.h"

#define VC_GMEM_MAX_MEMFDS   64
#define VC_GMEM_MAX_REGIONS  64
#define VC_GMEM_UVA_OFFSET   0x7f0000000000ull
/* The byte every unused guest byte holds. */
#define VC_GMEM_GUARD        0xa5

typedef struct VcMemfd {
    int fd;            /* memfd, sealed against shrinking and growing */
    uint64_t size;
    uint8_t *base;     /* our shared mapping of the whole memfd */
    bool hugepages;
} VcMemfd;

typedef struct VcRegion {
    unsigned memfd;    /* index into VcGmem.memfds */
    uint64_t fd_offset;/* where the region starts in its memfd: the memory table's mmap_offset */
    uint64_t size;
    uint64_t gpa;
    uint64_t uva;      /* the "user address" published to the daemon */
    uint8_t *hva;      /* our address of the region's first byte */
    uint64_t alloc_next;  /* bump allocator: next free offset inside the region */
    bool removed;      /* slot freed by vc_gmem_remove_region() */
} VcRegion;

/** VcRange: a range of guest-physical addresses. */
typedef struct VcRange {
    uint64_t gpa;
    uint64_t len;
} VcRange;

typedef struct VcGmem {
    VcMemfd memfds[VC_GMEM_MAX_MEMFDS];
    unsigned n_memfds;
    VcRegion regions[VC_GMEM_MAX_REGIONS];
    unsigned n_regions;
    uint64_t uva_offset;
} VcGmem;

/** vc_gmem_new: Returns: (transfer full): empty guest memory (uva = gpa + VC_GMEM_UVA_OFFSET). */
VcGmem *vc_gmem_new(void);

/** vc_gmem_free: unmaps and closes everything. NULL is allowed. */
void vc_gmem_free(VcGmem *gm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcGmem, vc_gmem_free)

/**
 * vc_gmem_add_memfd:
 * @gm: guest memory
 * @size: bytes (rounded up to the page size, or 2 MiB with @hugepages)
 * @hugepages: back it with MFD_HUGETLB 2 MiB pages
 *
 * Creates, seals and maps a memfd filled with the guard pattern.
 *
 * Returns: the memfd index, or -errno.
 */
int vc_gmem_add_memfd(VcGmem *gm, uint64_t size, bool hugepages);

/**
 * vc_gmem_add_region:
 * @gm: guest memory
 * @memfd: index from vc_gmem_add_memfd()
 * @fd_offset: where the region starts in the memfd (page aligned)
 * @gpa: guest-physical address (page aligned, not overlapping another region)
 * @size: bytes (page aligned, within the memfd)
 *
 * Returns: the region index, or -EINVAL / -ENOSPC.
 */
int vc_gmem_add_region(VcGmem *gm, unsigned memfd, uint64_t fd_offset, uint64_t gpa,
                       uint64_t size);

/**
 * vc_gmem_add_simple:
 * A memfd of exactly @size holding one region at @gpa, offset 0.
 * Returns: the region index or -errno.
 */
int vc_gmem_add_simple(VcGmem *gm, uint64_t gpa, uint64_t size, bool hugepages);

/**
 * vc_gmem_remove_region:
 * Forgets region @idx (its memfd stays mapped: the daemon may still hold
 * it). Returns: 0 or -EINVAL.
 */
int vc_gmem_remove_region(VcGmem *gm, unsigned idx);

/** vc_gmem_region_desc: fills @out with the memory-table entry of region @idx. */
void vc_gmem_region_desc(const VcGmem *gm, unsigned idx, VhostUserMemoryRegion *out);

/** vc_gmem_region_fd: Returns: the memfd backing region @idx (still owned by @gm). */
int vc_gmem_region_fd(const VcGmem *gm, unsigned idx);

/**
 * vc_gmem_to_hva:
 * @gm: guest memory
 * @gpa: guest-physical address
 * @len: (inout) (optional): bytes wanted; clipped to what is contiguous
 *
 * Returns: our pointer to @gpa, or NULL when no live region holds it.
 */
void *vc_gmem_to_hva(const VcGmem *gm, uint64_t gpa, uint64_t *len);

/** vc_gmem_to_uva: Returns: the user address the daemon knows @gpa by, or 0. */
uint64_t vc_gmem_to_uva(const VcGmem *gm, uint64_t gpa);

/**
 * vc_gmem_alloc:
 * @gm: guest memory
 * @size: bytes
 * @align: power of two
 * @gpa: (out): where
 *
 * Bump allocation in the first live region with room. Allocation happens at
 * set-up time only; the datapath never allocates.
 *
 * Returns: our pointer, or NULL when no region has room.
 */
void *vc_gmem_alloc(VcGmem *gm, uint64_t size, uint64_t align, uint64_t *gpa);

/** vc_gmem_alloc_in: like vc_gmem_alloc() inside region @idx only. */
void *vc_gmem_alloc_in(VcGmem *gm, unsigned idx, uint64_t size, uint64_t align, uint64_t *gpa);

/** vc_gmem_fill: writes @byte over @len bytes at @gpa (clipped to mapped memory). */
void vc_gmem_fill(VcGmem *gm, uint64_t gpa, uint64_t len, uint8_t byte);

/**
 * vc_gmem_find_stray:
 * @gm: guest memory
 * @allowed: ranges the daemon may write (rings, buffers handed to it)
 * @n_allowed: number of ranges
 * @memfd_out: (out): memfd index of the first stray byte
 * @offset_out: (out): its offset in that memfd
 *
 * Scans every memfd, including bytes outside any region (before an
 * mmap_offset), for bytes that are not VC_GMEM_GUARD outside @allowed.
 * Bytes the harness itself wrote outside @allowed must be restored with
 * vc_gmem_fill() first.
 *
 * Returns: true when a stray byte was found.
 */
bool vc_gmem_find_stray(const VcGmem *gm, const VcRange *allowed, unsigned n_allowed,
                        unsigned *memfd_out, uint64_t *offset_out);

/**
 * vc_gmem_memfd_to_gpa:
 * Returns: the guest address of byte @offset of memfd @memfd, or
 * UINT64_MAX when no region maps it.
 */
uint64_t vc_gmem_memfd_to_gpa(const VcGmem *gm, unsigned memfd, uint64_t offset);

#endif /* VC_GMEM_H */
