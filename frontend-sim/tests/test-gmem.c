/*
 * test-gmem.c -- emulated guest memory (vc-gmem.c): memfd regions with
 * mmap_offset, translation, the bump allocator and the stray-write scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-gmem.h"
#include "vc-test-util.h"

#define PAGE 4096ull

/*
 * The layout most tests use: one memfd of 8 pages holding two regions, with
 * unmapped memfd bytes before the first (mmap_offset 1 page) and between
 * them (pages 3..4):
 *
 *   memfd page: 0      1..2       3..4   5..7
 *               gap    region A   gap    region B (3 pages)
 *   gpa:               0x100000          0x200000
 */
#define A_OFF (1 * PAGE)
#define A_GPA 0x100000ull
#define A_SIZE (2 * PAGE)
#define B_OFF (5 * PAGE)
#define B_GPA 0x200000ull
#define B_SIZE (3 * PAGE)

typedef struct Layout {
    VcGmem *gm;
    int mf, a, b;
} Layout;

static Layout
layout_new(void)
{
    Layout l;

    l.gm = vc_gmem_new();
    l.mf = vc_gmem_add_memfd(l.gm, 8 * PAGE, false);
    ck_assert_int_eq(l.mf, 0);
    l.a = vc_gmem_add_region(l.gm, 0, A_OFF, A_GPA, A_SIZE);
    l.b = vc_gmem_add_region(l.gm, 0, B_OFF, B_GPA, B_SIZE);
    ck_assert_int_eq(l.a, 0);
    ck_assert_int_eq(l.b, 1);
    return l;
}

START_TEST(memfd_sealed_and_guarded)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    int mf = vc_gmem_add_memfd(gm, 1, false);
    int seals;

    ck_assert_int_eq(mf, 0);
    ck_assert_uint_eq(gm->n_memfds, 1);
    /* Rounded up to a page. */
    ck_assert_uint_eq(gm->memfds[0].size, PAGE);
    ck_assert_int_eq(lseek(gm->memfds[0].fd, 0, SEEK_END), (off_t)PAGE);
    for (uint64_t i = 0; i < PAGE; i++) {
        ck_assert_uint_eq(gm->memfds[0].base[i], VC_GMEM_GUARD);
    }
    /* The daemon cannot resize it under us. */
    seals = fcntl(gm->memfds[0].fd, F_GET_SEALS);
    ck_assert_int_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
                     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    ck_assert_int_ne(ftruncate(gm->memfds[0].fd, 2 * PAGE), 0);
    ck_assert_int_eq(fcntl(gm->memfds[0].fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    ck_assert_int_eq(vc_gmem_add_memfd(gm, 0, false), -ENOSPC);
}
END_TEST

START_TEST(free_closes_everything)
{
    int before = vc_test_count_fds();
    VcGmem *gm = vc_gmem_new();

    ck_assert_int_ge(vc_gmem_add_simple(gm, 0, 4 * PAGE, false), 0);
    ck_assert_int_ge(vc_gmem_add_simple(gm, 1ull << 32, 4 * PAGE, false), 0);
    ck_assert_int_eq(vc_test_count_fds(), before + 2);
    vc_gmem_free(gm);
    vc_gmem_free(NULL);
    ck_assert_int_eq(vc_test_count_fds(), before);
}
END_TEST

START_TEST(regions_with_offsets)
{
    Layout l = layout_new();
    VhostUserMemoryRegion d;
    uint8_t *base = l.gm->memfds[0].base;

    vc_gmem_region_desc(l.gm, 0, &d);
    ck_assert_uint_eq(d.guest_phys_addr, A_GPA);
    ck_assert_uint_eq(d.memory_size, A_SIZE);
    ck_assert_uint_eq(d.userspace_addr, A_GPA + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(d.mmap_offset, A_OFF);
    vc_gmem_region_desc(l.gm, 1, &d);
    ck_assert_uint_eq(d.guest_phys_addr, B_GPA);
    ck_assert_uint_eq(d.memory_size, B_SIZE);
    ck_assert_uint_eq(d.userspace_addr, B_GPA + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(d.mmap_offset, B_OFF);
    /* Both regions share one memfd. */
    ck_assert_int_eq(vc_gmem_region_fd(l.gm, 0), vc_gmem_region_fd(l.gm, 1));
    ck_assert_int_eq(vc_gmem_region_fd(l.gm, 0), l.gm->memfds[0].fd);
    /* The translation lands at the region's offset in the memfd. */
    ck_assert_ptr_eq(vc_gmem_to_hva(l.gm, A_GPA, NULL), base + A_OFF);
    ck_assert_ptr_eq(vc_gmem_to_hva(l.gm, B_GPA + 5, NULL), base + B_OFF + 5);
    ck_assert_ptr_eq(vc_gmem_to_hva(l.gm, A_GPA + A_SIZE - 1, NULL), base + A_OFF + A_SIZE - 1);
    /* Bytes written through the mapping are the memfd's bytes at mmap_offset. */
    *(uint8_t *)vc_gmem_to_hva(l.gm, B_GPA + 7, NULL) = 0x42;
    {
        uint8_t v = 0;
        ck_assert_int_eq(pread(l.gm->memfds[0].fd, &v, 1, (off_t)(B_OFF + 7)), 1);
        ck_assert_uint_eq(v, 0x42);
    }
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 0, A_OFF + 3), A_GPA + 3);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 0, B_OFF), B_GPA);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 0, 0), UINT64_MAX);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 0, 3 * PAGE), UINT64_MAX);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 1, 0), UINT64_MAX);
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(translation_clips_len)
{
    Layout l = layout_new();
    uint64_t len;

    /* Unmapped: below, between and above the regions. */
    len = 16;
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, 0, &len));
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, A_GPA - 1, NULL));
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, A_GPA + A_SIZE, NULL));
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, B_GPA + B_SIZE, NULL));
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, UINT64_MAX, NULL));
    /* A length inside the region is kept. */
    len = 100;
    ck_assert_ptr_nonnull(vc_gmem_to_hva(l.gm, A_GPA + 10, &len));
    ck_assert_uint_eq(len, 100);
    /* One that runs past the region's end is clipped to what is contiguous. */
    len = PAGE * 10;
    ck_assert_ptr_nonnull(vc_gmem_to_hva(l.gm, A_GPA + 10, &len));
    ck_assert_uint_eq(len, A_SIZE - 10);
    len = 2;
    ck_assert_ptr_nonnull(vc_gmem_to_hva(l.gm, A_GPA + A_SIZE - 1, &len));
    ck_assert_uint_eq(len, 1);
    len = UINT64_MAX;
    ck_assert_ptr_nonnull(vc_gmem_to_hva(l.gm, B_GPA, &len));
    ck_assert_uint_eq(len, B_SIZE);
    /* The user address the daemon sees: gpa + the fixed offset. */
    ck_assert_uint_eq(vc_gmem_to_uva(l.gm, A_GPA), A_GPA + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(vc_gmem_to_uva(l.gm, B_GPA + 0x123), B_GPA + 0x123 + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(vc_gmem_to_uva(l.gm, A_GPA + A_SIZE), 0);
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(overlap_refused)
{
    Layout l = layout_new();

    /* Same start, inside, straddling either end, covering. */
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA, PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA + PAGE, PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA - PAGE, 2 * PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA + A_SIZE - PAGE, 2 * PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA - PAGE, 4 * PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, B_GPA + B_SIZE - 1, PAGE), -EINVAL);
    /* Bad memfd, size 0, beyond the memfd, wrapping offset. */
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 1, 0, 0, PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, 0, 0), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 7 * PAGE, 0, 2 * PAGE), -EINVAL);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, UINT64_MAX - PAGE + 1, 0, 2 * PAGE), -EINVAL);
    ck_assert_uint_eq(l.gm->n_regions, 2);
    /* Touching is not overlapping: right below A and right after B. */
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA - PAGE, PAGE), 2);
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 3 * PAGE, B_GPA + B_SIZE, PAGE), 3);
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(region_slots_exhausted)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();

    ck_assert_int_eq(vc_gmem_add_memfd(gm, PAGE, false), 0);
    for (unsigned i = 0; i < VC_GMEM_MAX_REGIONS; i++) {
        ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, (uint64_t)i * PAGE, PAGE), (int)i);
    }
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 1ull << 40, PAGE), -ENOSPC);
    /* A removed slot is reused. */
    ck_assert_int_eq(vc_gmem_remove_region(gm, 5), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 1ull << 40, PAGE), 5);
}
END_TEST

START_TEST(remove_region)
{
    Layout l = layout_new();
    unsigned mf;
    uint64_t off;

    ck_assert_int_eq(vc_gmem_remove_region(l.gm, 0), 0);
    ck_assert_int_eq(vc_gmem_remove_region(l.gm, 0), -EINVAL);
    ck_assert_int_eq(vc_gmem_remove_region(l.gm, 9), -EINVAL);
    ck_assert_ptr_null(vc_gmem_to_hva(l.gm, A_GPA, NULL));
    ck_assert_uint_eq(vc_gmem_to_uva(l.gm, A_GPA), 0);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, 0, A_OFF), UINT64_MAX);
    ck_assert_ptr_nonnull(vc_gmem_to_hva(l.gm, B_GPA, NULL));
    ck_assert_ptr_null(vc_gmem_alloc_in(l.gm, 0, 8, 8, &off));
    /* The memfd stays mapped (the daemon may still hold it). */
    ck_assert_uint_eq(l.gm->n_memfds, 1);
    ck_assert_uint_eq(l.gm->memfds[0].base[A_OFF], VC_GMEM_GUARD);
    /* A byte in the removed region is no longer inside any allowed range. */
    l.gm->memfds[0].base[A_OFF + 1] = 1;
    ck_assert(vc_gmem_find_stray(l.gm, (VcRange[]){{A_GPA, A_SIZE}}, 1, &mf, &off));
    ck_assert_uint_eq(off, A_OFF + 1);
    /* The gpa range is free again, with its slot. */
    ck_assert_int_eq(vc_gmem_add_region(l.gm, 0, 0, A_GPA, PAGE), 0);
    ck_assert_ptr_eq(vc_gmem_to_hva(l.gm, A_GPA, NULL), l.gm->memfds[0].base);
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(alloc_alignment)
{
    Layout l = layout_new();
    uint64_t gpa = 0, gpa2 = 0;
    uint8_t *p, *q;

    p = vc_gmem_alloc(l.gm, 10, 1, &gpa);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(gpa, A_GPA);
    ck_assert_ptr_eq(p, l.gm->memfds[0].base + A_OFF);
    q = vc_gmem_alloc(l.gm, 16, 64, &gpa2);
    ck_assert_uint_eq(gpa2, A_GPA + 64);
    ck_assert_ptr_eq(q, p + 64);
    q = vc_gmem_alloc(l.gm, 1, 4096, &gpa2);
    ck_assert_uint_eq(gpa2, A_GPA + PAGE);
    q = vc_gmem_alloc(l.gm, 3, 2, &gpa2);
    ck_assert_uint_eq(gpa2, A_GPA + PAGE + 2);
    ck_assert_ptr_eq(q, vc_gmem_to_hva(l.gm, gpa2, NULL));
    /* Region A has PAGE - 5 bytes left: a page goes to region B. */
    q = vc_gmem_alloc(l.gm, PAGE, 8, &gpa2);
    ck_assert_uint_eq(gpa2, B_GPA);
    ck_assert_ptr_eq(q, l.gm->memfds[0].base + B_OFF);
    /* Region A still serves what fits. */
    q = vc_gmem_alloc(l.gm, 8, 8, &gpa2);
    ck_assert_uint_eq(gpa2, A_GPA + PAGE + 8);
    /* alloc_in stays in its region. */
    q = vc_gmem_alloc_in(l.gm, 1, 100, 256, &gpa2);
    ck_assert_uint_eq(gpa2, B_GPA + PAGE);
    ck_assert_ptr_null(vc_gmem_alloc_in(l.gm, 0, 2 * PAGE, 1, &gpa2));
    ck_assert_ptr_null(vc_gmem_alloc_in(l.gm, 7, 8, 8, &gpa2));
    ck_assert_ptr_null(vc_gmem_alloc_in(l.gm, 0, 0, 8, &gpa2));
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(alloc_exhaustion)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    uint64_t gpa = 0;

    ck_assert_int_eq(vc_gmem_add_simple(gm, 0x10000, 2 * PAGE, false), 0);
    ck_assert_ptr_nonnull(vc_gmem_alloc(gm, PAGE, PAGE, &gpa));
    ck_assert_uint_eq(gpa, 0x10000);
    ck_assert_ptr_nonnull(vc_gmem_alloc(gm, PAGE - 16, 8, &gpa));
    ck_assert_uint_eq(gpa, 0x10000 + PAGE);
    /* Exactly the last 16 bytes fit; then nothing does. */
    ck_assert_ptr_null(vc_gmem_alloc(gm, 17, 1, &gpa));
    ck_assert_ptr_nonnull(vc_gmem_alloc(gm, 16, 16, &gpa));
    ck_assert_uint_eq(gpa, 0x10000 + 2 * PAGE - 16);
    ck_assert_ptr_null(vc_gmem_alloc(gm, 1, 1, &gpa));
    /* A huge alignment that would run past the region fails rather than wraps. */
    ck_assert_ptr_null(vc_gmem_alloc(gm, 1, 1ull << 63, &gpa));
}
END_TEST

START_TEST(fill_crosses_regions)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    uint8_t *base;

    /* Two regions adjacent in gpa but apart in the memfd. */
    ck_assert_int_eq(vc_gmem_add_memfd(gm, 4 * PAGE, false), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 0, PAGE), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 2 * PAGE, PAGE, PAGE), 1);
    base = gm->memfds[0].base;
    vc_gmem_fill(gm, PAGE - 2, 4, 0x11);
    ck_assert_uint_eq(base[PAGE - 3], VC_GMEM_GUARD);
    ck_assert_uint_eq(base[PAGE - 2], 0x11);
    ck_assert_uint_eq(base[PAGE - 1], 0x11);
    ck_assert_uint_eq(base[PAGE], VC_GMEM_GUARD);      /* the memfd gap is untouched */
    ck_assert_uint_eq(base[2 * PAGE], 0x11);
    ck_assert_uint_eq(base[2 * PAGE + 1], 0x11);
    ck_assert_uint_eq(base[2 * PAGE + 2], VC_GMEM_GUARD);
    /* Clipped at the end of mapped memory. */
    vc_gmem_fill(gm, 2 * PAGE - 1, 100, 0x22);
    ck_assert_uint_eq(base[3 * PAGE - 1], 0x22);
    ck_assert_uint_eq(base[3 * PAGE], VC_GMEM_GUARD);
    vc_gmem_fill(gm, 5 * PAGE, 100, 0x33);
}
END_TEST

START_TEST(stray_none_when_clean)
{
    Layout l = layout_new();
    unsigned mf = 99;
    uint64_t off = 99;

    ck_assert(!vc_gmem_find_stray(l.gm, NULL, 0, &mf, &off));
    ck_assert_uint_eq(mf, 99);
    vc_gmem_free(l.gm);
}
END_TEST

/* Memfd offsets written by a "daemon" that are never legal, whatever is allowed. */
static const uint64_t gap_offsets[] = {0, 7, PAGE - 1, 3 * PAGE, 4 * PAGE + 123, 5 * PAGE - 1};

START_TEST(stray_in_gap)
{
    Layout l = layout_new();
    VcRange all[] = {{A_GPA, A_SIZE}, {B_GPA, B_SIZE}};
    unsigned mf = 99;
    uint64_t off = 0;

    l.gm->memfds[0].base[gap_offsets[_i]] = 0;
    ck_assert(vc_gmem_find_stray(l.gm, all, 2, &mf, &off));
    ck_assert_uint_eq(mf, 0);
    ck_assert_uint_eq(off, gap_offsets[_i]);
    vc_gmem_free(l.gm);
}
END_TEST

START_TEST(stray_in_region)
{
    Layout l = layout_new();
    VcRange allowed[] = {{A_GPA + 0x100, 0x100}, {B_GPA, 8}};
    uint8_t *a = vc_gmem_to_hva(l.gm, A_GPA, NULL);
    uint8_t *b = vc_gmem_to_hva(l.gm, B_GPA, NULL);
    unsigned mf = 99;
    uint64_t off = 0;

    /* Written inside the allowed ranges, all bytes of them: not stray. */
    memset(a + 0x100, 0, 0x100);
    memset(b, 0x5a, 8);
    ck_assert(!vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    /* One byte past an allowed range is. */
    b[8] = 0;
    ck_assert(vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    ck_assert_uint_eq(off, B_OFF + 8);
    b[8] = VC_GMEM_GUARD;
    a[0xff] = 1;
    ck_assert(vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    ck_assert_uint_eq(off, A_OFF + 0xff);
    ck_assert_uint_eq(vc_gmem_memfd_to_gpa(l.gm, mf, off), A_GPA + 0xff);
    a[0xff] = VC_GMEM_GUARD;
    /* The first stray is reported, in memfd order. */
    b[B_SIZE - 1] = 3;
    a[A_SIZE - 1] = 3;
    ck_assert(vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    ck_assert_uint_eq(off, A_OFF + A_SIZE - 1);
    a[A_SIZE - 1] = VC_GMEM_GUARD;
    ck_assert(vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    ck_assert_uint_eq(off, B_OFF + B_SIZE - 1);
    /* Restoring the guard (vc_gmem_fill) makes the scan clean again. */
    vc_gmem_fill(l.gm, B_GPA + B_SIZE - 1, 1, VC_GMEM_GUARD);
    ck_assert(!vc_gmem_find_stray(l.gm, allowed, 2, &mf, &off));
    vc_gmem_free(l.gm);
}
END_TEST

/* Strays in a second memfd are reported with that memfd's index. */
START_TEST(stray_second_memfd)
{
    Layout l = layout_new();
    unsigned mf = 99;
    uint64_t off = 0;

    ck_assert_int_eq(vc_gmem_add_simple(l.gm, 1ull << 32, 2 * PAGE, false), 2);
    ck_assert_uint_eq(l.gm->n_memfds, 2);
    l.gm->memfds[1].base[PAGE + 9] = 0;
    ck_assert(vc_gmem_find_stray(l.gm, NULL, 0, &mf, &off));
    ck_assert_uint_eq(mf, 1);
    ck_assert_uint_eq(off, PAGE + 9);
    ck_assert(!vc_gmem_find_stray(l.gm, (VcRange[]){{(1ull << 32) + PAGE + 9, 1}}, 1, &mf, &off));
    vc_gmem_free(l.gm);
}
END_TEST

/*
 * An allowed range that spans two regions adjacent in gpa but apart in the
 * memfd must not hide the memfd bytes between them.
 */
START_TEST(stray_allowed_range_spanning_regions)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    VcRange both = {0, 2 * PAGE};
    unsigned mf = 99;
    uint64_t off = 0;
    uint8_t *base;

    ck_assert_int_eq(vc_gmem_add_memfd(gm, 4 * PAGE, false), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 0, PAGE), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 2 * PAGE, PAGE, PAGE), 1);
    base = gm->memfds[0].base;
    base[0] = 0;              /* allowed: gpa 0 */
    base[2 * PAGE + 1] = 0;   /* allowed: gpa PAGE + 1 */
    ck_assert(!vc_gmem_find_stray(gm, &both, 1, &mf, &off));
    base[PAGE + PAGE / 2] = 0; /* the memfd gap between the regions */
    ck_assert(vc_gmem_find_stray(gm, &both, 1, &mf, &off));
    ck_assert_uint_eq(mf, 0);
    ck_assert_uint_eq(off, PAGE + PAGE / 2);
}
END_TEST

/* Two regions mapping the same memfd bytes: a byte allowed through either gpa is fine. */
START_TEST(stray_aliased_regions)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    unsigned mf = 99;
    uint64_t off = 0;

    ck_assert_int_eq(vc_gmem_add_memfd(gm, PAGE, false), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 0x10000, PAGE), 0);
    ck_assert_int_eq(vc_gmem_add_region(gm, 0, 0, 0x80000, PAGE), 1);
    *(uint8_t *)vc_gmem_to_hva(gm, 0x80010, NULL) = 1;
    ck_assert_ptr_eq(vc_gmem_to_hva(gm, 0x10010, NULL), vc_gmem_to_hva(gm, 0x80010, NULL));
    ck_assert(!vc_gmem_find_stray(gm, (VcRange[]){{0x80010, 1}}, 1, &mf, &off));
    ck_assert(!vc_gmem_find_stray(gm, (VcRange[]){{0x10010, 1}}, 1, &mf, &off));
    ck_assert(vc_gmem_find_stray(gm, (VcRange[]){{0x80011, 1}}, 1, &mf, &off));
    ck_assert_uint_eq(off, 0x10);
}
END_TEST

static Suite *
gmem_suite(void)
{
    Suite *s = suite_create("gmem");
    TCase *tc;

    tc = tcase_create("regions");
    tcase_add_test(tc, memfd_sealed_and_guarded);
    tcase_add_test(tc, free_closes_everything);
    tcase_add_test(tc, regions_with_offsets);
    tcase_add_test(tc, translation_clips_len);
    tcase_add_test(tc, overlap_refused);
    tcase_add_test(tc, region_slots_exhausted);
    tcase_add_test(tc, remove_region);
    suite_add_tcase(s, tc);

    tc = tcase_create("alloc");
    tcase_add_test(tc, alloc_alignment);
    tcase_add_test(tc, alloc_exhaustion);
    tcase_add_test(tc, fill_crosses_regions);
    suite_add_tcase(s, tc);

    tc = tcase_create("stray");
    tcase_add_test(tc, stray_none_when_clean);
    tcase_add_loop_test(tc, stray_in_gap, 0, G_N_ELEMENTS(gap_offsets));
    tcase_add_test(tc, stray_in_region);
    tcase_add_test(tc, stray_second_memfd);
    tcase_add_test(tc, stray_allowed_range_spanning_regions);
    tcase_add_test(tc, stray_aliased_regions);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(gmem_suite());
}
