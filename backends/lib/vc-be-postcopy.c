/*
 * vc-be-postcopy.c -- postcopy live migration (vhost-user.rst "Migration",
 * POSTCOPY_ADVISE, POSTCOPY_LISTEN, POSTCOPY_END, and the postcopy forms of
 * SET_MEM_TABLE and ADD_MEM_REG).
 *
 * ADVISE opens a userfaultfd and hands a copy to the front end; LISTEN
 * registers every mapped region (missing-page mode) so that touching a page
 * that has not arrived faults to the front end, which resolves it; END
 * unregisters and closes. A device whose memory is registered blocks in
 * the fault until the front end serves it: that wait has no deadline of
 * ours, it is the protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vc-be-priv.h"

static int
uffd_open(void)
{
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        return -errno;
    }
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

bool
vc_be_postcopy_probe(void)
{
    int fd = uffd_open();

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

void
vc_be_postcopy_reset(VcBe *be)
{
    vc_be_close_fd(&be->uffd);
    be->postcopy_listen = false;
    be->postcopy_wait_ack = false;
}

int
vc_be_postcopy_advise(VcBe *be, int *fd_out)
{
    int fd;

    *fd_out = -1;
    vc_be_postcopy_reset(be);
    fd = uffd_open();
    if (fd < 0) {
        return fd;
    }
    be->uffd = fd;
    *fd_out = dup(fd);
    if (*fd_out < 0) {
        return -errno;
    }
    return 0;
}

int
vc_be_postcopy_register(VcBe *be, VcBeRegion *r)
{
    struct uffdio_register reg = {
        .range = {.start = (uintptr_t)r->map_base, .len = r->map_len},
        .mode = UFFDIO_REGISTER_MODE_MISSING,
    };

    if (be->uffd < 0 || !r->map_base) {
        return -EBADF;
    }
    if (be->mutant != VC_MUT_POSTCOPY_LISTEN_NO_REGISTER && !r->uffd_registered) {
        if (ioctl(be->uffd, UFFDIO_REGISTER, &reg) < 0) {
            int e = errno;

            vc_be_note(be, "userfaultfd register of a region failed: %s", strerror(e));
            return -e;
        }
        r->uffd_registered = true;
    }
    if (be->mutant == VC_MUT_POSTCOPY_BYPASS_FAULT && !r->alt_base) {
        /* Mutant: all accesses go through a second mapping the userfaultfd does not watch. */
        void *alt = mremap(r->map_base, 0, r->map_len, MREMAP_MAYMOVE);

        if (alt != MAP_FAILED) {
            r->alt_base = alt;
            r->hva = (uint8_t *)alt + (r->hva - (uint8_t *)r->map_base);
            vc_be_vring_remap_all(be);
        }
    }
    return 0;
}

int
vc_be_postcopy_listen(VcBe *be)
{
    int r = 0;

    if (be->uffd < 0) {
        return -EBADF;
    }
    be->postcopy_listen = true;
    for (unsigned i = 0; i < be->nregions; i++) {
        int e = vc_be_postcopy_register(be, &be->regions[i]);

        if (e < 0 && r == 0) {
            r = e;
        }
    }
    return r;
}

int
vc_be_postcopy_end(VcBe *be)
{
    for (unsigned i = 0; i < be->nregions; i++) {
        VcBeRegion *r = &be->regions[i];

        if (r->uffd_registered && be->uffd >= 0) {
            struct uffdio_range range = {.start = (uintptr_t)r->map_base, .len = r->map_len};

            (void)ioctl(be->uffd, UFFDIO_UNREGISTER, &range);
        }
        r->uffd_registered = false;
        if (r->alt_base) {
            r->hva = (uint8_t *)r->map_base + (r->hva - (uint8_t *)r->alt_base);
            munmap(r->alt_base, r->map_len);
            r->alt_base = NULL;
        }
    }
    vc_be_postcopy_reset(be);
    vc_be_vring_remap_all(be);
    vc_be_vring_process_all(be);
    return 0;
}
