/*
 * vc-be-log.c -- dirty-page logging for live migration (vhost-user.rst
 * "Migration", SET_LOG_BASE): one bit per 4 KiB page of guest-physical
 * memory, bit page % 8 of byte page / 8, counted from mmap_offset in the
 * log fd, set with an atomic OR.
 *
 * Writes through descriptors are logged at their guest-physical pages
 * (found from our mapping, so that IOVAs work too); used-ring writes of a
 * ring with VHOST_VRING_F_LOG are logged at log_guest_addr + offset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-be-priv.h"

bool
vc_be_logging(const VcBe *be)
{
    return (be->features & VC_BE_F_LOG_ALL) && be->log != NULL;
}

static void
unmap_log(void **map, size_t *len)
{
    if (*map) {
        munmap(*map, *len);
    }
    *map = NULL;
    *len = 0;
}

void
vc_be_log_clear(VcBe *be)
{
    unmap_log(&be->log_map, &be->log_map_len);
    unmap_log(&be->stale_log_map, &be->stale_log_map_len);
    be->log = NULL;
    be->log_size = 0;
    be->stale_log = NULL;
    be->stale_log_size = 0;
}

/*
 * vhost-user.rst SET_LOG_BASE: the new log is used for every write after
 * the reply; the old one is unmapped (single thread: no write is in
 * progress while the request is handled).
 */
int
vc_be_log_set_base(VcBe *be, VcMsg *m)
{
    uint64_t size = m->payload.log.mmap_size, off = m->payload.log.mmap_offset;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), aligned, delta, len;
    struct stat st;
    void *p;
    int fd = m->nfds == 1 ? m->fds[0] : -1;

    if (fd < 0 || size == 0 || off + size < off || fstat(fd, &st) < 0) {
        return -EINVAL;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < off + size) {
        return -ERANGE;
    }
    aligned = off & ~(page - 1);
    delta = off - aligned;
    if (size > SIZE_MAX - delta - page) {
        return -EINVAL;
    }
    len = (delta + size + page - 1) & ~(page - 1);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)aligned);
    if (p == MAP_FAILED) {
        return -errno;
    }
    if (be->mutant == VC_MUT_LOG_BASE_STALE && be->log_map) {
        /* Mutant: keep writing the log that was just replaced. */
        unmap_log(&be->stale_log_map, &be->stale_log_map_len);
        be->stale_log_map = be->log_map;
        be->stale_log_map_len = be->log_map_len;
        be->stale_log = be->log;
        be->stale_log_size = be->log_size;
        be->log_map = NULL;
    }
    unmap_log(&be->log_map, &be->log_map_len);
    be->log_map = p;
    be->log_map_len = len;
    be->log = (uint8_t *)p + delta;
    be->log_size = size;
    return 0;
}

static void
mark_page(VcBe *be, uint64_t page)
{
    uint8_t *log = be->stale_log ? be->stale_log : be->log;
    uint64_t size = be->stale_log ? be->stale_log_size : be->log_size;
    uint8_t bit = (uint8_t)(1u << (page % 8));

    if (page / 8 >= size) {
        /* vhost-user.rst: the log covers every guest address; ignore what it does not. */
        return;
    }
    if (be->mutant == VC_MUT_LOG_BIT_MSB) {
        bit = (uint8_t)(0x80u >> (page % 8));
    }
    if (be->mutant == VC_MUT_LOG_OVERWRITE) {
        __atomic_store_n(&log[page / 8], bit, __ATOMIC_RELAXED);
        return;
    }
    /* "Use atomic operations, as the log may be concurrently manipulated." */
    __atomic_fetch_or(&log[page / 8], bit, __ATOMIC_RELAXED);
}

void
vc_be_log_gpa(VcBe *be, uint64_t gpa, uint64_t len)
{
    uint64_t first, last;

    if (!vc_be_logging(be) || len == 0) {
        return;
    }
    first = gpa / VHOST_LOG_PAGE;
    last = (gpa + (len - 1)) / VHOST_LOG_PAGE;
    if (gpa + (len - 1) < gpa) {
        last = UINT64_MAX / VHOST_LOG_PAGE;
    }
    for (uint64_t p = first; p <= last; p++) {
        mark_page(be, p);
        if (p == UINT64_MAX) {
            break;
        }
    }
    /* The bits are visible before anything that announces the write (used idx). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Mutant log-after-stop: sets the first clear bit from @gpa's page on. */
void
vc_be_log_one_more(VcBe *be, uint64_t gpa)
{
    uint64_t size = be->log_size;

    if (!be->log) {
        return;
    }
    for (uint64_t p = gpa / VHOST_LOG_PAGE; p / 8 < size; p++) {
        if (!(be->log[p / 8] & (1u << (p % 8)))) {
            __atomic_fetch_or(&be->log[p / 8], (uint8_t)(1u << (p % 8)), __ATOMIC_RELAXED);
            return;
        }
    }
}

void
vc_be_log_hva(VcBe *be, const void *hva, uint64_t len)
{
    const uint8_t *p = hva;

    if (!vc_be_logging(be) || len == 0) {
        return;
    }
    /* A buffer may span regions with unrelated guest addresses: page by page. */
    while (len > 0) {
        uint64_t gpa, chunk = VHOST_LOG_PAGE - ((uintptr_t)p % VHOST_LOG_PAGE);

        if (chunk > len) {
            chunk = len;
        }
        if (vc_be_hva_to_gpa(be, p, &gpa)) {
            vc_be_log_gpa(be, gpa, chunk);
        }
        p += chunk;
        len -= chunk;
    }
}

void
vc_be_log_used(VcBe *be, const VcBeVring *vq, uint64_t offset, uint64_t len)
{
    if (!(vq->addr.flags & VC_BE_VRING_F_LOG) || be->mutant == VC_MUT_LOG_NO_USED) {
        return;
    }
    vc_be_log_gpa(be, vq->addr.log_guest_addr + offset, len);
}
