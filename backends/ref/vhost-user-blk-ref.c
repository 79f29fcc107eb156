/*
 * vhost-user-blk-ref.c -- the reference virtio-blk back end (virtio device
 * id 2) on the back-end library, for the conformance checks of what rng
 * cannot show: config space, inflight tracking and reconnect, requests
 * that stay in flight, host-side config changes.
 *
 * The disk is a RAM disk (--size, default 64M) or a file (--blk-file,
 * made with --size bytes when missing; optionally --read-only), mapped
 * into memory. Requests (virtio 1.x 5.2.6)
 * complete synchronously, except those that touch the last 8 sectors of
 * the disk (the "slow zone"): they complete --slow-ms later from the main
 * loop, out of order with the rest, so that tests can keep requests in
 * flight. GET_VRING_BASE completes them at once (VU-VB-04). SIGUSR1 grows
 * the disk by 1 MiB and announces the new capacity (config change).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-proto.h"
#include "vc-msg-table.h"

#define SECTOR              512u
#define SLOW_ZONE_SECTORS   8u
#define GROW_BYTES          (1u << 20)
#define SEG_MAX             126u            /* data segments; + header + status */
#define CHAIN_MAX           (SEG_MAX + 2)
#define PENDING_PER_QUEUE   256u            /* slow requests in flight per ring */
#define DISCARD_MAX_SECTORS 32768u
#define BLK_ID              "vhost-conform-blk"
#define DEFAULT_SIZE        (64ull << 20)
#define DEFAULT_SLOW_MS     200u
#define DEFAULT_QUEUES      2u
#define STATE_BLOB_LEN      16u

/** A request completed later (slow zone). */
typedef struct BlkPending {
    bool busy;
    int64_t due_ms;
    VcBeChain chain;
    VcBeSeg segs[CHAIN_MAX];
} BlkPending;

typedef struct Blk {
    /* Options. */
    uint64_t size;
    const char *file;
    bool read_only;
    unsigned num_queues;
    unsigned slow_ms;

    /* The disk: a mapping of the file, or anonymous memory. */
    uint8_t *disk;
    uint64_t disk_bytes;
    int file_fd;
    uint64_t capacity;          /* sectors */
    uint8_t wce;                /* writeback (1) or writethrough (0) */
    struct virtio_blk_config cfg_written;   /* bytes written by migration SET_CONFIG */
    bool cfg_overridden[sizeof(struct virtio_blk_config)];

    VcBe *be;
    VcMutant mutant;            /* known before the library parses the options */
    int timer_fd;
    int sig_fd;
    BlkPending *pending[VC_BE_MAX_QUEUES];  /* PENDING_PER_QUEUE each, made on first use */
    unsigned npending[VC_BE_MAX_QUEUES];
} Blk;

/* The device description, finished by blk_init() once the options are known. */
static VcBeDevice *blk_dev;

static Blk blk = {
    .size = DEFAULT_SIZE,
    .num_queues = DEFAULT_QUEUES,
    .slow_ms = DEFAULT_SLOW_MS,
    .wce = 1,
    .file_fd = -1,
    .timer_fd = -1,
    .sig_fd = -1,
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- options ---- */

static const VcBeOption blk_options[] = {
    {"size", true, "--size=SIZE            RAM disk size, K/M/G suffixes (default 64M)"},
    {"blk-file", true,
     "--blk-file=PATH        the file PATH as the disk (made with --size if missing)"},
    {"read-only", false, "--read-only            the disk is read-only (VIRTIO_BLK_F_RO)"},
    {"num-queues", true, "--num-queues=N         request queues, 1..16 (default 2)"},
    {"slow-ms", true, "--slow-ms=MS           delay of the last 8 sectors (default 200)"},
    {NULL, false, NULL},
};

static const char *
blk_set_option(const char *name, const char *value, void *opaque)
{
    Blk *b = opaque;
    char *end;
    unsigned long v;

    if (strcmp(name, "size") == 0) {
        if (!vc_be_parse_size(value, &b->size) || b->size < 16 * SECTOR ||
            b->size % SECTOR != 0) {
            return "needs a size of at least 8K, a multiple of 512 (e.g. 64M)";
        }
    } else if (strcmp(name, "blk-file") == 0) {
        b->file = value;
    } else if (strcmp(name, "read-only") == 0) {
        b->read_only = true;
    } else if (strcmp(name, "num-queues") == 0) {
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || end == value || v < 1 || v > VC_BE_MAX_QUEUES) {
            return "needs a number in 1..16";
        }
        b->num_queues = (unsigned)v;
    } else if (strcmp(name, "slow-ms") == 0) {
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || end == value || v > 60000) {
            return "needs milliseconds in 0..60000";
        }
        b->slow_ms = (unsigned)v;
    }
    return NULL;
}

static const char *
blk_init(void *opaque)
{
    Blk *b = opaque;
    void *p;

    if (b->file) {
        struct stat st;
        int fd = open(b->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        /* A PATH that does not exist yet is created with --size bytes (sparse, zeroes). */
        if (fd >= 0) {
            bool sized = ftruncate(fd, (off_t)b->size) == 0;

            close(fd);
            if (!sized) {
                unlink(b->file);
                return "cannot create the --blk-file";
            }
        } else if (errno != EEXIST) {
            return "cannot create the --blk-file";
        }
        b->file_fd = open(b->file, (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (b->file_fd < 0 || fstat(b->file_fd, &st) < 0) {
            return "cannot open the --blk-file";
        }
        if (!S_ISREG(st.st_mode) || st.st_size < (off_t)(16 * SECTOR)) {
            close(b->file_fd);
            b->file_fd = -1;
            return "--blk-file must be a regular file of at least 8 KiB";
        }
        b->disk_bytes = (uint64_t)st.st_size & ~(uint64_t)(SECTOR - 1);
        if (b->mutant == VC_MUT_BLK_FLUSH_NO_SYNC ||
            (b->mutant == VC_MUT_BLK_RO_WRITES && b->read_only)) {
            /* Mutants: a private copy; writes never reach the file. */
            p = mmap(NULL, b->disk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, b->file_fd, 0);
        } else {
            p = mmap(NULL, b->disk_bytes, PROT_READ | (b->read_only ? 0 : PROT_WRITE),
                     MAP_SHARED, b->file_fd, 0);
        }
    } else {
        b->disk_bytes = b->size;
        p = mmap(NULL, b->disk_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (p == MAP_FAILED) {
        return "cannot map the disk";
    }
    b->disk = p;
    b->capacity = b->disk_bytes / SECTOR;
    blk_dev->num_queues = b->num_queues;
    if (b->read_only) {
        blk_dev->features |= VC_F(VIRTIO_BLK_F_RO);
    }
    return NULL;
}

/* Grows the disk to @bytes (a multiple of 512). Returns: 0 or -errno. */
static int
disk_grow(Blk *b, uint64_t bytes)
{
    void *p;

    if (bytes <= b->disk_bytes) {
        return 0;
    }
    if (b->file_fd >= 0) {
        if (b->read_only || ftruncate(b->file_fd, (off_t)bytes) < 0) {
            return b->read_only ? -EROFS : -errno;
        }
    }
    p = mremap(b->disk, b->disk_bytes, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        return -errno;
    }
    b->disk = p;
    b->disk_bytes = bytes;
    return 0;
}

/* ---- config space (struct virtio_blk_config) ---- */

static void
blk_fill_config(const Blk *b, struct virtio_blk_config *c)
{
    memset(c, 0, sizeof(*c));
    c->capacity = htole64(b->capacity);
    c->seg_max = htole32(SEG_MAX);
    c->blk_size = htole32(SECTOR);
    c->wce = b->wce;
    c->num_queues = htole16((uint16_t)b->num_queues);
    c->max_discard_sectors = htole32(DISCARD_MAX_SECTORS);
    c->max_discard_seg = htole32(1);
    c->discard_sector_alignment = htole32(1);
    c->max_write_zeroes_sectors = htole32(DISCARD_MAX_SECTORS);
    c->max_write_zeroes_seg = htole32(1);
    c->write_zeroes_may_unmap = 1;
}

static void
blk_get_config(VcBe *be, uint8_t *buf, void *opaque)
{
    Blk *b = opaque;
    struct virtio_blk_config c;

    blk_fill_config(b, &c);
    if (b->mutant == VC_MUT_BLK_BAD_CAPACITY) {
        c.capacity = htole64(b->capacity + 1);
    }
    if (b->mutant == VC_MUT_BLK_NUM_QUEUES_ZERO) {
        c.num_queues = 0;
    }
    for (size_t i = 0; i < sizeof(c); i++) {
        if (b->cfg_overridden[i]) {
            ((uint8_t *)&c)[i] = ((const uint8_t *)&b->cfg_written)[i];
        }
    }
    memcpy(buf, &c, sizeof(c));
}

#define CFG_OFF(f) offsetof(struct virtio_blk_config, f)

/*
 * vhost-user.rst SET_CONFIG: with flags 0 (a driver write) only the
 * writeback byte is writable, and only with CONFIG_WCE; a write during
 * migration (flags 1) may set any field. capacity takes effect.
 */
static int
blk_set_config(VcBe *be, uint32_t off, const uint8_t *data, uint32_t size, uint32_t flags,
               void *opaque)
{
    Blk *b = opaque;
    bool wce_only = off == CFG_OFF(wce) && size == 1;
    bool migration = flags != VHOST_SET_CONFIG_TYPE_FRONTEND;

    if (!migration && vc_be_mutant(be) == VC_MUT_CONFIG_RO_WRITABLE) {
        migration = true;      /* Mutant: read-only fields writable by the driver. */
    }
    if (!migration) {
        if (!wce_only || !(vc_be_features(be) & VC_F(VIRTIO_BLK_F_CONFIG_WCE)) || data[0] > 1) {
            return -EPERM;
        }
        b->wce = data[0];
        return 0;
    }
    for (uint32_t i = 0; i < size; i++) {
        uint32_t at = off + i;

        if (at == CFG_OFF(wce)) {
            b->wce = data[i] ? 1 : 0;
        } else if (at < CFG_OFF(capacity) + 8) {   /* capacity starts at 0 */
            continue;
        } else {
            ((uint8_t *)&b->cfg_written)[at] = data[i];
            b->cfg_overridden[at] = true;
        }
    }
    if (off < CFG_OFF(capacity) + 8 && off + size > CFG_OFF(capacity)) {
        struct virtio_blk_config c;
        uint64_t cap;

        blk_fill_config(b, &c);
        for (uint32_t i = 0; i < size; i++) {
            if (off + i < sizeof(c)) {
                ((uint8_t *)&c)[off + i] = data[i];
            }
        }
        cap = le64toh(c.capacity);
        if (cap == 0 || cap > (UINT64_MAX / SECTOR) || disk_grow(b, cap * SECTOR) < 0) {
            return -EINVAL;
        }
        b->capacity = cap;
    }
    return 0;
}

/* ---- requests ---- */

/* Copies @len bytes of the chain's device-readable buffers from offset @skip. */
static uint64_t
chain_read(const VcBeChain *c, uint64_t skip, void *dst, uint64_t len)
{
    uint8_t *d = dst;
    uint64_t done = 0;

    for (unsigned i = 0; i < c->nsegs && done < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint64_t n;

        if (s->flags & VRING_DESC_F_WRITE) {
            continue;
        }
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        n = s->len - skip;
        if (n > len - done) {
            n = len - done;
        }
        memcpy(d + done, s->hva + skip, n);
        done += n;
        skip = 0;
    }
    return done;
}

/* Copies @len bytes into the chain's device-writable buffers from offset @skip. */
static uint64_t
chain_write(const VcBeChain *c, uint64_t skip, const void *src, uint64_t len)
{
    const uint8_t *p = src;
    uint64_t done = 0;

    for (unsigned i = 0; i < c->nsegs && done < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint64_t n;

        if (!(s->flags & VRING_DESC_F_WRITE)) {
            continue;
        }
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        n = s->len - skip;
        if (n > len - done) {
            n = len - done;
        }
        memcpy(s->hva + skip, p + done, n);
        done += n;
        skip = 0;
    }
    return done;
}

static void
chain_sizes(const VcBeChain *c, uint64_t *readable, uint64_t *writable)
{
    *readable = 0;
    *writable = 0;
    for (unsigned i = 0; i < c->nsegs; i++) {
        if (c->segs[i].flags & VRING_DESC_F_WRITE) {
            *writable += c->segs[i].len;
        } else {
            *readable += c->segs[i].len;
        }
    }
}

/* The status byte is the last byte of the last device-writable buffer. */
static uint8_t *
status_byte(const VcBeChain *c)
{
    for (unsigned i = c->nsegs; i-- > 0;) {
        const VcBeSeg *s = &c->segs[i];

        if ((s->flags & VRING_DESC_F_WRITE) && s->len > 0) {
            return s->hva + s->len - 1;
        }
    }
    return NULL;
}

static bool
range_ok(const Blk *b, uint64_t sector, uint64_t nsectors)
{
    return sector <= b->capacity && nsectors <= b->capacity - sector;
}

/* Sectors [sector, sector + n) touch the last 8 sectors (n 0 counts as 1). */
static bool
in_slow_zone(const Blk *b, uint64_t sector, uint64_t n)
{
    uint64_t zone = b->capacity > SLOW_ZONE_SECTORS ? b->capacity - SLOW_ZONE_SECTORS : 0;

    if (n == 0) {
        n = 1;
    }
    return sector < b->capacity && sector + n > zone;
}

typedef struct BlkReq {
    uint32_t type;
    uint64_t sector;
    uint64_t readable;          /* bytes after the header */
    uint64_t writable;          /* bytes before the status byte */
    struct virtio_blk_discard_write_zeroes seg;
    uint64_t nseg;
} BlkReq;

/*
 * Decodes the header and says whether the request touches the slow zone.
 * Returns: false when the chain cannot carry a request at all (no header
 * or no status byte).
 */
static bool
blk_parse(const Blk *b, const VcBeChain *c, BlkReq *r, bool *slow)
{
    struct virtio_blk_outhdr h;
    uint64_t rd, wr;

    *slow = false;
    chain_sizes(c, &rd, &wr);
    if (rd < sizeof(h) || wr < 1 || !status_byte(c)) {
        return false;
    }
    chain_read(c, 0, &h, sizeof(h));
    r->type = le32toh(h.type);
    r->sector = le64toh(h.sector);
    r->readable = rd - sizeof(h);
    r->writable = wr - 1;
    r->nseg = 0;
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        *slow = range_ok(b, r->sector, r->writable / SECTOR) &&
                in_slow_zone(b, r->sector, r->writable / SECTOR);
        break;
    case VIRTIO_BLK_T_OUT:
        *slow = range_ok(b, r->sector, r->readable / SECTOR) &&
                in_slow_zone(b, r->sector, r->readable / SECTOR);
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        r->nseg = r->readable / sizeof(r->seg);
        if (r->nseg >= 1 && r->readable % sizeof(r->seg) == 0) {
            chain_read(c, sizeof(h), &r->seg, sizeof(r->seg));
            *slow = range_ok(b, le64toh(r->seg.sector), le32toh(r->seg.num_sectors)) &&
                    in_slow_zone(b, le64toh(r->seg.sector), le32toh(r->seg.num_sectors));
        }
        break;
    default:
        break;
    }
    return true;
}

/* Data descriptors of an IN: the writable ones, less one that holds only the status. */
static unsigned
in_data_descs(const VcBeChain *c)
{
    unsigned n = 0, last_len = 0;

    for (unsigned i = 0; i < c->nsegs; i++) {
        if ((c->segs[i].flags & VRING_DESC_F_WRITE) && c->segs[i].len) {
            n++;
            last_len = c->segs[i].len;
        }
    }
    return (n && last_len == 1) ? n - 1 : n;
}

/* Executes a request; returns used.len (bytes written, status included). */
static uint32_t
blk_exec(Blk *b, const VcBeChain *c, const BlkReq *r)
{
    VcMutant mut = b->mutant;
    bool ro = b->read_only && mut != VC_MUT_BLK_RO_WRITES;
    uint8_t *status = status_byte(c);
    uint8_t st = VIRTIO_BLK_S_OK;
    uint64_t written = 0;

    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        if (r->writable % SECTOR || !range_ok(b, r->sector, r->writable / SECTOR)) {
            st = mut == VC_MUT_BLK_NO_RANGE_CHECK ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
            break;
        }
        if (mut == VC_MUT_BLK_IN_IOERR && in_data_descs(c) > 1) {
            st = VIRTIO_BLK_S_IOERR;
            break;
        }
        written = chain_write(c, 0, b->disk + r->sector * SECTOR, r->writable);
        break;
    case VIRTIO_BLK_T_OUT:
        if (ro) {
            st = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (r->readable % SECTOR || !range_ok(b, r->sector, r->readable / SECTOR)) {
            st = mut == VC_MUT_BLK_NO_RANGE_CHECK ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
            break;
        }
        if (mut != VC_MUT_BLK_OUT_DROPPED) {
            chain_read(c, sizeof(struct virtio_blk_outhdr), b->disk + r->sector * SECTOR,
                       r->readable);
        }
        if (!b->wce && b->file_fd >= 0 && r->readable) {
            uint64_t start = (r->sector * SECTOR) & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);

            (void)msync(b->disk + start, r->sector * SECTOR + r->readable - start, MS_SYNC);
        }
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (mut == VC_MUT_BLK_FLUSH_UNSUPP) {
            st = VIRTIO_BLK_S_UNSUPP;
            break;
        }
        if (b->file_fd >= 0 && !b->read_only) {
            if (msync(b->disk, b->disk_bytes, MS_SYNC) < 0 || fdatasync(b->file_fd) < 0) {
                st = VIRTIO_BLK_S_IOERR;
            }
        }
        break;
    case VIRTIO_BLK_T_GET_ID: {
        char id[VIRTIO_BLK_ID_BYTES] = BLK_ID;
        uint64_t n = r->writable < sizeof(id) ? r->writable : sizeof(id);

        if (mut == VC_MUT_BLK_GET_ID_BINARY) {
            for (unsigned i = 0; i < sizeof(id); i++) {
                id[i] = (char)(i + 1);
            }
        } else if (mut == VC_MUT_BLK_GET_ID_UNPADDED && n > strlen(BLK_ID)) {
            n = strlen(BLK_ID);     /* Mutant: the NUL padding is never written. */
        }
        written = chain_write(c, 0, id, n);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        bool discard = r->type == VIRTIO_BLK_T_DISCARD;
        uint64_t sector = le64toh(r->seg.sector), n = le32toh(r->seg.num_sectors);
        uint32_t flags = le32toh(r->seg.flags);
        /* virtio 1.x 5.2.6.2: UNMAP belongs to WRITE_ZEROES; a DISCARD with it is UNSUPP. */
        uint32_t allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

        if ((discard && mut == VC_MUT_BLK_DISCARD_FLAGS_OK) ||
            (!discard && mut == VC_MUT_BLK_WRITE_ZEROES_FLAGS_OK)) {
            allowed = ~0u;
        }
        if (flags & ~allowed) {
            st = VIRTIO_BLK_S_UNSUPP;
        } else if (r->nseg != 1) {
            /* max_discard_seg and max_write_zeroes_seg are 1. */
            st = r->nseg == 0 || r->readable % sizeof(r->seg) ? VIRTIO_BLK_S_IOERR
                                                              : VIRTIO_BLK_S_UNSUPP;
        } else if (ro || n > DISCARD_MAX_SECTORS || !range_ok(b, sector, n)) {
            st = VIRTIO_BLK_S_IOERR;
        } else if (discard && mut == VC_MUT_BLK_DISCARD_IOERR) {
            st = VIRTIO_BLK_S_IOERR;
        } else if (!discard && mut == VC_MUT_BLK_WRITE_ZEROES_NOOP) {
            break;
        } else {
            /* A discarded range reads as zeroes too: the RAM disk is deterministic. */
            memset(b->disk + sector * SECTOR, 0, n * SECTOR);
        }
        break;
    }
    default:
        st = mut == VC_MUT_BLK_UNKNOWN_TYPE_OK ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (st == VIRTIO_BLK_S_UNSUPP && mut == VC_MUT_BLK_STATUS_3) {
        st = 3;
    }
    *status = st;
    if (st != VIRTIO_BLK_S_OK && mut == VC_MUT_BLK_LEN_OVERSTATED) {
        /* Mutant: the whole writable space claimed, the status alone written. */
        return r->writable + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(r->writable + 1);
    }
    if (!(r->type == VIRTIO_BLK_T_IN && st == VIRTIO_BLK_S_OK && mut == VC_MUT_BLK_IN_LEN_SHORT)) {
        written += 1;
    }
    return written > UINT32_MAX ? UINT32_MAX : (uint32_t)written;
}

/* ---- the slow zone ---- */

static void
timer_arm(Blk *b)
{
    int64_t due = -1, now = now_ms();
    struct itimerspec its = {{0, 0}, {0, 0}};

    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        for (unsigned i = 0; b->pending[q] && i < PENDING_PER_QUEUE; i++) {
            const BlkPending *p = &b->pending[q][i];

            if (p->busy && (due < 0 || p->due_ms < due)) {
                due = p->due_ms;
            }
        }
    }
    if (due >= 0) {
        int64_t left = due > now ? due - now : 0;

        /* A zero it_value disarms: fire in 1 ns when already due. */
        its.it_value.tv_sec = left / 1000;
        its.it_value.tv_nsec = (left % 1000) * 1000000 + (left ? 0 : 1);
    }
    (void)timerfd_settime(b->timer_fd, 0, &its, NULL);
}

/* Completes the queue's pending requests (all of them, or those due). */
static void
complete_pending(Blk *b, unsigned q, bool all)
{
    int64_t now = now_ms();
    bool any = false;

    for (unsigned i = 0; b->pending[q] && i < PENDING_PER_QUEUE; i++) {
        BlkPending *p = &b->pending[q][i];
        BlkReq r;
        bool slow;

        if (!p->busy || (!all && p->due_ms > now)) {
            continue;
        }
        p->busy = false;
        b->npending[q]--;
        p->chain.segs = p->segs;
        if (blk_parse(b, &p->chain, &r, &slow)) {
            vc_be_push(b->be, &p->chain, blk_exec(b, &p->chain, &r));
        } else {
            vc_be_push(b->be, &p->chain, 0);
        }
        any = true;
    }
    if (any) {
        vc_be_flush(b->be, q);
    }
}

static void
blk_timer(VcBe *be, int fd, void *opaque)
{
    Blk *b = opaque;
    uint64_t ticks;

    (void)read(fd, &ticks, sizeof(ticks));
    for (unsigned q = 0; q < b->num_queues; q++) {
        complete_pending(b, q, false);
    }
    timer_arm(b);
}

/* Keeps the chain for later; false when there is no room (then done now). */
static bool
defer(Blk *b, const VcBeChain *c)
{
    unsigned q = c->queue;

    if (c->nsegs > CHAIN_MAX || q >= VC_BE_MAX_QUEUES) {
        return false;
    }
    if (!b->pending[q]) {
        /* Once per queue, on its first slow request. */
        b->pending[q] = calloc(PENDING_PER_QUEUE, sizeof(BlkPending));
        if (!b->pending[q]) {
            return false;
        }
    }
    for (unsigned i = 0; i < PENDING_PER_QUEUE; i++) {
        BlkPending *p = &b->pending[q][i];

        if (p->busy) {
            continue;
        }
        p->busy = true;
        p->due_ms = now_ms() + b->slow_ms;
        p->chain = *c;
        memcpy(p->segs, c->segs, c->nsegs * sizeof(c->segs[0]));
        p->chain.segs = p->segs;
        b->npending[q]++;
        timer_arm(b);
        return true;
    }
    return false;
}

static uint32_t
blk_handle_chain(VcBe *be, const VcBeChain *c, void *opaque)
{
    Blk *b = opaque;
    BlkReq r;
    bool slow;

    if (!blk_parse(b, c, &r, &slow)) {
        vc_be_note(be, "ring %u: request without a header or a status byte", c->queue);
        return 0;
    }
    if (slow && b->slow_ms > 0 && defer(b, c)) {
        return VC_BE_DEFERRED;
    }
    return blk_exec(b, c, &r);
}

/* Mutant blk-mq-ignores-q1: the library never drains the other request queues. */
static unsigned
blk_queue_flags(unsigned q, void *opaque)
{
    const Blk *b = opaque;

    return (b->mutant == VC_MUT_BLK_MQ_IGNORES_Q1 && q > 0) ? VC_BE_Q_PULL : 0;
}

static void
drop_pending(Blk *b, unsigned q)
{
    for (unsigned i = 0; b->pending[q] && i < PENDING_PER_QUEUE; i++) {
        b->pending[q][i].busy = false;
    }
    b->npending[q] = 0;
}

static void
blk_event(VcBe *be, VcBeEvent ev, unsigned q, void *opaque)
{
    Blk *b = opaque;

    switch (ev) {
    case VC_BE_EV_RING_DRAIN:
        if (q < VC_BE_MAX_QUEUES && b->npending[q]) {
            complete_pending(b, q, true);
            timer_arm(b);
        }
        break;
    case VC_BE_EV_RING_DROP:
        if (q < VC_BE_MAX_QUEUES) {
            drop_pending(b, q);
        }
        break;
    case VC_BE_EV_RESET:
    case VC_BE_EV_DISCONNECT:
        /* virtio reset: config back to its defaults (the disk and its size stay). */
        b->wce = 1;
        memset(b->cfg_overridden, 0, sizeof(b->cfg_overridden));
        for (unsigned i = 0; i < VC_BE_MAX_QUEUES; i++) {
            drop_pending(b, i);
        }
        timer_arm(b);
        break;
    default:
        break;
    }
}

/* SIGUSR1: the disk grows by 1 MiB, the front end hears of it. */
static void
blk_signal(VcBe *be, int fd, void *opaque)
{
    Blk *b = opaque;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo != SIGUSR1) {
            continue;
        }
        /* Requests in flight hold no pointer into the disk: it may move. */
        if (disk_grow(b, b->disk_bytes + GROW_BYTES) < 0) {
            vc_be_note(be, "SIGUSR1: the disk cannot grow");
            continue;
        }
        b->capacity = b->disk_bytes / SECTOR;
        vc_be_log(be, "SIGUSR1: capacity now %llu sectors", (unsigned long long)b->capacity);
        vc_be_config_changed(be);
    }
}

static void
blk_attach(VcBe *be, void *opaque)
{
    Blk *b = opaque;
    sigset_t set;

    b->be = be;
    b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (b->timer_fd >= 0) {
        vc_be_watch(be, b->timer_fd, blk_timer, b);
    }
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    b->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (b->sig_fd >= 0) {
        vc_be_watch(be, b->sig_fd, blk_signal, b);
    }
}

static void
blk_detach(VcBe *be, void *opaque)
{
    Blk *b = opaque;

    for (unsigned q = 0; q < VC_BE_MAX_QUEUES; q++) {
        free(b->pending[q]);
        b->pending[q] = NULL;
        b->npending[q] = 0;
    }
    if (b->timer_fd >= 0) {
        close(b->timer_fd);
        b->timer_fd = -1;
    }
    if (b->sig_fd >= 0) {
        close(b->sig_fd);
        b->sig_fd = -1;
    }
    if (b->disk) {
        munmap(b->disk, b->disk_bytes);
        b->disk = NULL;
    }
    if (b->file_fd >= 0) {
        close(b->file_fd);
        b->file_fd = -1;
    }
}

/* ---- device state: capacity (u64) and writeback (u8), little-endian ---- */

static size_t
blk_state_save(VcBe *be, uint8_t *buf, size_t cap, void *opaque)
{
    Blk *b = opaque;
    uint64_t c = htole64(b->capacity);

    if (cap < STATE_BLOB_LEN) {
        return 0;
    }
    memset(buf, 0, STATE_BLOB_LEN);
    memcpy(buf, &c, 8);
    buf[8] = b->wce;
    return STATE_BLOB_LEN;
}

static int
blk_state_load(VcBe *be, const uint8_t *buf, size_t len, bool apply, void *opaque)
{
    Blk *b = opaque;
    uint64_t c;

    if (len != STATE_BLOB_LEN || buf[8] > 1) {
        return -EINVAL;
    }
    for (size_t i = 9; i < len; i++) {
        if (buf[i]) {
            return -EINVAL;
        }
    }
    memcpy(&c, buf, 8);
    c = le64toh(c);
    if (c == 0 || c > UINT64_MAX / SECTOR || (b->file_fd >= 0 && c * SECTOR > b->disk_bytes)) {
        return -EINVAL;
    }
    if (apply) {
        if (disk_grow(b, c * SECTOR) < 0) {
            return -EINVAL;
        }
        b->capacity = c;
        b->wce = buf[8];
    }
    return 0;
}

int
main(int argc, char **argv)
{
    VcBeDevice dev = {
        .type = "block",
        .prog = "vhost-user-blk-ref",
        .device_id = VIRTIO_ID_BLOCK,
        .features = VC_F(VIRTIO_F_VERSION_1) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |
                    VC_F(VIRTIO_RING_F_EVENT_IDX) | VC_F(VIRTIO_RING_F_INDIRECT_DESC) |
                    VC_F(VIRTIO_F_RING_PACKED) | VC_F(VIRTIO_F_ACCESS_PLATFORM) |
                    VC_F(VHOST_F_LOG_ALL) | VC_F(VIRTIO_BLK_F_SEG_MAX) |
                    VC_F(VIRTIO_BLK_F_BLK_SIZE) | VC_F(VIRTIO_BLK_F_FLUSH) |
                    VC_F(VIRTIO_BLK_F_MQ) | VC_F(VIRTIO_BLK_F_DISCARD) |
                    VC_F(VIRTIO_BLK_F_WRITE_ZEROES) | VC_F(VIRTIO_BLK_F_CONFIG_WCE),
        .pfeatures = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(REPLY_ACK) | VC_PF(BACKEND_REQ) |
                     VC_PF(PAGEFAULT) | VC_PF(CONFIG) | VC_PF(BACKEND_SEND_FD) |
                     VC_PF(INFLIGHT_SHMFD) | VC_PF(RESET_DEVICE) |
                     VC_PF(INBAND_NOTIFICATIONS) | VC_PF(CONFIGURE_MEM_SLOTS) | VC_PF(STATUS) |
                     VC_PF(DEVICE_STATE),
        .capabilities = "\"read-only\", \"blk-file\"",
        .options = blk_options,
        .set_option = blk_set_option,
        .init = blk_init,
        .attach = blk_attach,
        .detach = blk_detach,
        .handle_chain = blk_handle_chain,
        .event = blk_event,
        .queue_flags = blk_queue_flags,
        .config_len = sizeof(struct virtio_blk_config),
        .get_config = blk_get_config,
        .set_config = blk_set_config,
        .state_save = blk_state_save,
        .state_load = blk_state_load,
        .opaque = &blk,
    };

    /* --num-queues and --read-only finish it in blk_init(). */
    dev.num_queues = DEFAULT_QUEUES;
    blk.mutant = vc_be_args_mutant(argc, argv);
    if (blk.mutant == VC_MUT_BLK_WCE_NO_FLUSH) {
        dev.features &= ~VC_F(VIRTIO_BLK_F_FLUSH);
    }
    blk_dev = &dev;
    return vc_be_main(argc, argv, &dev);
}
