/*
 * vhost-user-fs-ref.c -- the reference virtio-fs back end (virtio device id
 * 26) on the back-end library: the device acts as the FUSE daemon of one
 * host directory (--shared-dir), as virtio 1.x 5.11 and the FUSE protocol
 * (<linux/fuse.h>) say.
 *
 * Ring 0 is the hiprio queue (FORGET, BATCH_FORGET, INTERRUPT: no reply),
 * ring 1 the one request queue. Every request is served synchronously from
 * handle_chain(): its struct fuse_in_header and arguments are read from the
 * chain's device-readable bytes, the reply (struct fuse_out_header with
 * len = used.len, the request's unique, error 0 or -errno) goes into its
 * device-writable bytes. READ and WRITE move file data straight between the
 * file and guest memory (preadv/pwritev over the chain's buffers).
 *
 * Confinement: every host object is reached with openat() relative to the
 * O_PATH fd of a directory we hold, one name at a time, never following a
 * symlink and never taking a name with a '/'; ".." of the shared directory
 * is the shared directory itself. Nodeids and file handles are indices into
 * tables of our own (with a generation in the high 32 bits, so that a stale
 * one is refused), never host pointers or host inode numbers.
 *
 * The tables and every buffer are allocated once at start-up: the datapath
 * never allocates.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vc-be.h"
#include "vc-proto.h"
#include "vc-msg-table.h"

#define HIPRIO_QUEUE    0
#define REQUEST_QUEUE   1
#define IN_HDR          ((uint32_t)sizeof(struct fuse_in_header))
#define OUT_HDR         ((uint32_t)sizeof(struct fuse_out_header))
/* The oldest FUSE minor served: entry, attr, read and write arguments have their full size. */
#define MIN_MINOR       9
/* FUSE_INIT reply: max_write, and the FUSE_INIT flags we implement (kept if the driver asks). */
#define MAX_WRITE       (128u * 1024)
#define INIT_FLAGS      (FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_MAX_PAGES)
/* Arguments of one request, data of WRITE excluded (names are at most NAME_MAX + 1). */
#define ARG_MAX_LEN     4096u
/* Reply data built in memory (READDIR is capped to it; READ goes straight to the chain). */
#define REPLY_MAX_LEN   (128u * 1024)
#define DENTS_LEN       (32u * 1024)
#define IOV_BATCH       1024u
#define FORGET_BATCH    256u
/* Tables; both shrink to fit RLIMIT_NOFILE (every entry holds an fd). */
#define MAX_INODES      65536u
#define MAX_HANDLES     4096u
#define RESERVED_FDS    64u
/* Cache validity given to the driver for entries and attributes (seconds). */
#define VALID_SECS      1u
/* A handler's "no reply": FORGET and friends complete with used.len 0. */
#define NO_REPLY        1

/** An inode of ours: an O_PATH fd of the host object, found again by (dev, ino). */
typedef struct FsInode {
    int fd;                     /* -1: slot free */
    uint32_t gen;               /* bumped on every reuse of the slot */
    uint32_t next;              /* hash chain (slot + 1, 0 ends), or the free list */
    dev_t dev;
    ino_t ino;
    uint64_t nlookup;
} FsInode;

/** An open file or directory (FUSE fh). */
typedef struct FsHandle {
    int fd;                     /* -1: slot free */
    uint32_t gen;
    uint32_t next_free;         /* slot + 1, 0 ends */
    bool dir;
} FsHandle;

typedef struct Fs {
    const char *shared_dir;
    VcBe *be;
    VcMutant mutant;
    int proc_fd;                /* /proc/self/fd: reopens an O_PATH fd with real flags */

    /* The session (FUSE_INIT done; the negotiated minor). */
    bool init_done;
    uint32_t minor;

    FsInode *inodes;            /* slot 0 is the root (FUSE_ROOT_ID) */
    uint32_t ninodes;
    uint32_t *hash;             /* (dev, ino) -> slot + 1 */
    uint32_t hash_mask;
    uint32_t inode_free;        /* slot + 1, 0: table full */
    FsHandle *handles;
    uint32_t nhandles;
    uint32_t handle_free;

    /* Per-request scratch, reused by every request. */
    uint8_t arg[ARG_MAX_LEN + 64];   /* room to widen a pre-7.12 CREATE in place */
    uint8_t reply[REPLY_MAX_LEN] __attribute__((aligned(8)));
    uint8_t dents[DENTS_LEN] __attribute__((aligned(8)));
    struct iovec iov[IOV_BATCH];
    struct fuse_forget_one forgets[FORGET_BATCH];
} Fs;

/** One request as handle_chain() sees it. */
typedef struct FsReq {
    const VcBeChain *c;
    uint64_t readable;          /* device-readable bytes of the chain */
    uint64_t writable;          /* device-writable bytes */
    struct fuse_in_header in;
    uint32_t arglen;            /* argument bytes after the in header (in.len - 40) */
    const char *name;           /* the name argument, NUL-terminated, or NULL */
    uint32_t data_len;          /* reply bytes after the out header */
    bool direct;                /* reply data already in the chain (READ) */
} FsReq;

static Fs fs_state = {.proc_fd = -1};

/* ---- options ---- */

static const VcBeOption fs_options[] = {
    {"shared-dir", true,
     "--shared-dir=DIR       the directory to share (created if missing; required)"},
    {NULL, false, NULL},
};

static const char *
fs_set_option(const char *name, const char *value, void *opaque)
{
    Fs *fs = opaque;

    if (strcmp(name, "shared-dir") == 0) {
        if (!value[0]) {
            return "needs a directory";
        }
        fs->shared_dir = value;
    }
    return NULL;
}

/* ---- chains ---- */

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

/*
 * Copies between @buf and the chain's device-writable (@writable) or
 * device-readable bytes from offset @skip. Returns: bytes copied.
 */
static uint64_t
chain_copy(const VcBeChain *c, bool writable, uint64_t skip, void *buf, uint64_t len)
{
    uint8_t *p = buf;
    uint64_t done = 0;

    for (unsigned i = 0; i < c->nsegs && done < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint64_t n;

        if (!!(s->flags & VRING_DESC_F_WRITE) != writable) {
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
        if (writable) {
            memcpy(s->hva + skip, p + done, n);
        } else {
            memcpy(p + done, s->hva + skip, n);
        }
        done += n;
        skip = 0;
    }
    return done;
}

/* Transfers one batch of iovecs; Returns: bytes moved or -errno. */
static ssize_t
file_io(int fd, bool read_file, const struct iovec *iov, unsigned n, off_t off)
{
    ssize_t r;

    do {
        r = read_file ? preadv(fd, iov, (int)n, off) : pwritev(fd, iov, (int)n, off);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

/*
 * Moves @len bytes between the file @fd at @off and the chain: a read from
 * the file fills the device-writable bytes from @skip, a write to the file
 * takes the device-readable bytes from @skip. Stops at EOF or a short
 * write. Returns: bytes moved, or -errno when nothing moved.
 */
static int64_t
chain_file(Fs *fs, const VcBeChain *c, bool read_file, uint64_t skip, uint64_t len, int fd,
           off_t off)
{
    uint64_t done = 0, batch = 0;
    unsigned n = 0;

    for (unsigned i = 0; i < c->nsegs && done + batch < len; i++) {
        const VcBeSeg *s = &c->segs[i];
        uint64_t take;

        if (!!(s->flags & VRING_DESC_F_WRITE) != read_file) {
            continue;
        }
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        take = s->len - skip;
        if (take > len - done - batch) {
            take = len - done - batch;
        }
        fs->iov[n++] = (struct iovec){s->hva + skip, take};
        batch += take;
        skip = 0;
        if (n == IOV_BATCH || done + batch == len) {
            ssize_t r = file_io(fd, read_file, fs->iov, n, off + (off_t)done);

            if (r < 0) {
                return done ? (int64_t)done : r;
            }
            done += (uint64_t)r;
            if ((uint64_t)r < batch) {
                return (int64_t)done;
            }
            n = 0;
            batch = 0;
        }
    }
    if (n) {
        ssize_t r = file_io(fd, read_file, fs->iov, n, off + (off_t)done);

        if (r < 0) {
            return done ? (int64_t)done : r;
        }
        done += (uint64_t)r;
    }
    return (int64_t)done;
}

/* ---- the inode table ---- */

static uint32_t
hash_of(dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;

    return (uint32_t)(h >> 32);
}

static uint64_t
nodeid_of(const Fs *fs, const FsInode *n)
{
    return ((uint64_t)n->gen << 32) | (uint64_t)(n - fs->inodes + 1);
}

/* The live inode named by @nodeid, or NULL (unknown or stale). */
static FsInode *
inode_get(Fs *fs, uint64_t nodeid)
{
    uint64_t slot = (nodeid & 0xffffffffu);
    FsInode *n;

    if (slot == 0 || slot > fs->ninodes) {
        return NULL;
    }
    n = &fs->inodes[slot - 1];
    return n->fd >= 0 && n->gen == (uint32_t)(nodeid >> 32) ? n : NULL;
}

static FsInode *
inode_find(Fs *fs, dev_t dev, ino_t ino)
{
    for (uint32_t s = fs->hash[hash_of(dev, ino) & fs->hash_mask]; s; s = fs->inodes[s - 1].next) {
        FsInode *n = &fs->inodes[s - 1];

        if (n->dev == dev && n->ino == ino) {
            return n;
        }
    }
    return NULL;
}

static void
inode_unhash(Fs *fs, FsInode *n)
{
    uint32_t *link = &fs->hash[hash_of(n->dev, n->ino) & fs->hash_mask];
    uint32_t me = (uint32_t)(n - fs->inodes + 1);

    while (*link && *link != me) {
        link = &fs->inodes[*link - 1].next;
    }
    if (*link) {
        *link = n->next;
    }
}

/*
 * Takes one lookup reference on the host object of @fd (an O_PATH fd we
 * own, consumed) whose stat is @st. Returns: the inode, or NULL with
 * -ENFILE when the table is full.
 */
static FsInode *
inode_take(Fs *fs, int fd, const struct stat *st)
{
    FsInode *n = inode_find(fs, st->st_dev, st->st_ino);
    uint32_t *bucket;

    if (n) {
        close(fd);
        n->nlookup++;
        return n;
    }
    if (!fs->inode_free) {
        close(fd);
        return NULL;
    }
    n = &fs->inodes[fs->inode_free - 1];
    fs->inode_free = n->next;
    n->fd = fd;
    n->dev = st->st_dev;
    n->ino = st->st_ino;
    n->nlookup = 1;
    bucket = &fs->hash[hash_of(n->dev, n->ino) & fs->hash_mask];
    n->next = *bucket;
    *bucket = (uint32_t)(n - fs->inodes + 1);
    return n;
}

static void
inode_release(Fs *fs, FsInode *n)
{
    inode_unhash(fs, n);
    close(n->fd);
    n->fd = -1;
    n->gen++;
    n->nlookup = 0;
    n->next = fs->inode_free;
    fs->inode_free = (uint32_t)(n - fs->inodes + 1);
}

/* FUSE_FORGET semantics: drop @nlookup references; the root is never dropped. */
static void
inode_forget(Fs *fs, uint64_t nodeid, uint64_t nlookup)
{
    FsInode *n = inode_get(fs, nodeid);

    if (!n) {
        return;
    }
    n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
    if (n->nlookup == 0 && n != &fs->inodes[0]) {
        inode_release(fs, n);
    }
}

/* ---- the handle table ---- */

static FsHandle *
handle_get(Fs *fs, uint64_t fh, bool dir)
{
    uint64_t slot = fh & 0xffffffffu;
    FsHandle *h;

    if (slot == 0 || slot > fs->nhandles) {
        return NULL;
    }
    h = &fs->handles[slot - 1];
    return h->fd >= 0 && h->gen == (uint32_t)(fh >> 32) && h->dir == dir ? h : NULL;
}

/* Takes @fd (consumed). Returns: the fh, or 0 with @fd closed when the table is full. */
static uint64_t
handle_new(Fs *fs, int fd, bool dir)
{
    FsHandle *h;

    if (!fs->handle_free) {
        close(fd);
        return 0;
    }
    h = &fs->handles[fs->handle_free - 1];
    fs->handle_free = h->next_free;
    h->fd = fd;
    h->dir = dir;
    return ((uint64_t)h->gen << 32) | (uint64_t)(h - fs->handles + 1);
}

static void
handle_close(Fs *fs, FsHandle *h)
{
    close(h->fd);
    h->fd = -1;
    h->gen++;
    h->next_free = fs->handle_free;
    fs->handle_free = (uint32_t)(h - fs->handles + 1);
}

/* A new session: every open file closed, every inode but the root forgotten. */
static void
session_reset(Fs *fs)
{
    for (uint32_t i = 0; i < fs->nhandles; i++) {
        if (fs->handles[i].fd >= 0) {
            handle_close(fs, &fs->handles[i]);
        }
    }
    for (uint32_t i = 1; i < fs->ninodes; i++) {
        if (fs->inodes[i].fd >= 0) {
            inode_release(fs, &fs->inodes[i]);
        }
    }
    fs->inodes[0].nlookup = 1;
    fs->init_done = false;
    fs->minor = 0;
}

/* ---- attributes ---- */

static int
stat_fd(int fd, struct stat *st)
{
    return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static void
fill_attr(Fs *fs, struct fuse_attr *a, const struct stat *st)
{
    memset(a, 0, sizeof(*a));
    a->ino = st->st_ino;
    a->size = (uint64_t)st->st_size;
    a->blocks = (uint64_t)st->st_blocks;
    a->atime = (uint64_t)st->st_atim.tv_sec;
    a->mtime = (uint64_t)st->st_mtim.tv_sec;
    a->ctime = (uint64_t)st->st_ctim.tv_sec;
    a->atimensec = (uint32_t)st->st_atim.tv_nsec;
    a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
    a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
    a->mode = st->st_mode;
    a->nlink = (uint32_t)st->st_nlink;
    a->uid = st->st_uid;
    a->gid = st->st_gid;
    a->rdev = (uint32_t)st->st_rdev;
    a->blksize = (uint32_t)st->st_blksize;
}

static void
fill_entry(Fs *fs, struct fuse_entry_out *e, const FsInode *n, const struct stat *st)
{
    memset(e, 0, sizeof(*e));
    e->nodeid = nodeid_of(fs, n);
    e->generation = n->gen;
    e->entry_valid = VALID_SECS;
    e->attr_valid = VALID_SECS;
    fill_attr(fs, &e->attr, st);
}

/*
 * Looks @name up in @dir and takes a lookup reference: "." is @dir, ".."
 * of the shared directory is the shared directory. Returns: 0 or -errno.
 */
static int
lookup_entry(Fs *fs, FsInode *dir, const char *name, struct fuse_entry_out *e)
{
    struct stat st;
    FsInode *n;
    int fd, rc;

    if (strcmp(name, ".") == 0 || (strcmp(name, "..") == 0 && dir == &fs->inodes[0])) {
        if ((rc = stat_fd(dir->fd, &st)) < 0) {
            return rc;
        }
        if (!S_ISDIR(st.st_mode)) {
            return -ENOTDIR;
        }
        dir->nlookup++;
        fill_entry(fs, e, dir, &st);
        return 0;
    }
    fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if ((rc = stat_fd(fd, &st)) < 0) {
        close(fd);
        return rc;
    }
    n = inode_take(fs, fd, &st);
    if (!n) {
        return -ENFILE;
    }
    fill_entry(fs, e, n, &st);
    return 0;
}

/* A name argument that can only name an entry of its directory. */
static int
check_name(const char *name)
{
    if (!name || !name[0]) {
        return -EINVAL;
    }
    if (strchr(name, '/')) {
        return -EINVAL;
    }
    return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

/* A name that creates or removes an entry: "." and ".." are not entries of their own. */
static int
check_new_name(const char *name)
{
    int rc = check_name(name);

    if (rc == 0 && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
        return -EINVAL;
    }
    return rc;
}

/* open(2) flags a driver may ask for; creation, O_DIRECT and path flags are ours to set. */
static int
open_flags(uint32_t flags)
{
    return (int)(flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK |
                          O_NOATIME)) | O_CLOEXEC;
}

/* The creator of a new entry is the requester (when we may say so: as root). */
static void
become(const FsReq *r, bool on)
{
    uid_t uid = geteuid();

    if (uid != 0) {
        return;
    }
    setfsgid(on ? r->in.gid : getegid());
    setfsuid(on ? r->in.uid : uid);
}

/* ---- operations ---- */

#define ARG(type) ((const type *)fs->arg)
#define REPLY(type) ((type *)fs->reply)

static int
op_init(Fs *fs, FsReq *r)
{
    struct fuse_init_in in = {0};
    struct fuse_init_out *out = REPLY(struct fuse_init_out);
    uint32_t minor;

    memcpy(&in, fs->arg, r->arglen < sizeof(in) ? r->arglen : sizeof(in));
    memset(out, 0, sizeof(*out));
    /* Any INIT ends the session: the driver starts over (a guest that rebooted sends one). */
    session_reset(fs);
    if (in.major < FUSE_KERNEL_VERSION) {
        return -EPROTO;
    }
    out->major = FUSE_KERNEL_VERSION;
    out->minor = FUSE_KERNEL_MINOR_VERSION;
    if (in.major > FUSE_KERNEL_VERSION) {
        /* FUSE: only our version; the driver asks again in it. */
        r->data_len = FUSE_COMPAT_INIT_OUT_SIZE;
        return 0;
    }
    minor = in.minor < FUSE_KERNEL_MINOR_VERSION ? in.minor : FUSE_KERNEL_MINOR_VERSION;
    if (minor < MIN_MINOR) {
        return -EPROTO;
    }
    out->minor = minor;
    out->max_readahead = in.max_readahead;
    out->flags = in.flags & INIT_FLAGS;
    out->max_write = MAX_WRITE;
    out->time_gran = 1;
    if (out->flags & FUSE_MAX_PAGES) {
        out->max_pages = (uint16_t)(MAX_WRITE / 4096);
    }
    if (fs->mutant == VC_MUT_FS_INIT_BAD_MAJOR) {
        out->major = FUSE_KERNEL_VERSION + 1;
    }
    r->data_len = minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : (uint32_t)sizeof(*out);
    fs->init_done = true;
    fs->minor = minor;
    return 0;
}

static int
op_destroy(Fs *fs, FsReq *r)
{
    session_reset(fs);
    return 0;
}

static int
op_lookup(Fs *fs, FsReq *r)
{
    FsInode *dir = inode_get(fs, r->in.nodeid);
    int rc = check_name(r->name);

    if (rc < 0) {
        return rc;
    }
    if (!dir) {
        return -ESTALE;
    }
    rc = lookup_entry(fs, dir, r->name, REPLY(struct fuse_entry_out));
    r->data_len = rc == 0 ? sizeof(struct fuse_entry_out) : 0;
    return rc;
}

static int
op_forget(Fs *fs, FsReq *r)
{
    inode_forget(fs, r->in.nodeid, ARG(struct fuse_forget_in)->nlookup);
    return NO_REPLY;
}

static int
op_batch_forget(Fs *fs, FsReq *r)
{
    uint64_t count = ARG(struct fuse_batch_forget_in)->count;
    uint64_t at = IN_HDR + sizeof(struct fuse_batch_forget_in);
    uint64_t room = (r->arglen - sizeof(struct fuse_batch_forget_in)) /
                    sizeof(struct fuse_forget_one);

    if (count > room) {
        count = room;
    }
    while (count) {
        uint32_t n = count < FORGET_BATCH ? (uint32_t)count : FORGET_BATCH;

        chain_copy(r->c, false, at, fs->forgets, (uint64_t)n * sizeof(fs->forgets[0]));
        for (uint32_t i = 0; i < n; i++) {
            inode_forget(fs, fs->forgets[i].nodeid, fs->forgets[i].nlookup);
        }
        at += (uint64_t)n * sizeof(fs->forgets[0]);
        count -= n;
    }
    return NO_REPLY;
}

static int
op_interrupt(Fs *fs, FsReq *r)
{
    /* Every request is answered before the next is read: there is nothing to interrupt. */
    return NO_REPLY;
}

static int
op_getattr(Fs *fs, FsReq *r)
{
    const struct fuse_getattr_in *in = ARG(struct fuse_getattr_in);
    struct fuse_attr_out *out = REPLY(struct fuse_attr_out);
    FsInode *n = inode_get(fs, r->in.nodeid);
    struct stat st;
    int fd, rc;

    if (!n) {
        return -ESTALE;
    }
    fd = n->fd;
    if (in->getattr_flags & FUSE_GETATTR_FH) {
        FsHandle *h = handle_get(fs, in->fh, false);

        if (!h) {
            return -EBADF;
        }
        fd = h->fd;
    }
    if ((rc = stat_fd(fd, &st)) < 0) {
        return rc;
    }
    memset(out, 0, sizeof(*out));
    out->attr_valid = VALID_SECS;
    fill_attr(fs, &out->attr, &st);
    if (fs->mutant == VC_MUT_FS_GETATTR_SIZE) {
        out->attr.size++;
    }
    r->data_len = sizeof(*out);
    return 0;
}

/* Reopens the O_PATH fd of @n with real open flags. Returns: an fd or -errno. */
static int
reopen(Fs *fs, const FsInode *n, int flags)
{
    char num[16];
    int fd;

    snprintf(num, sizeof(num), "%d", n->fd);
    fd = openat(fs->proc_fd, num, flags);
    return fd < 0 ? -errno : fd;
}

static int
op_open(Fs *fs, FsReq *r)
{
    struct fuse_open_out *out = REPLY(struct fuse_open_out);
    FsInode *n = inode_get(fs, r->in.nodeid);
    struct stat st;
    uint64_t fh;
    int fd, rc;

    if (!n) {
        return -ESTALE;
    }
    if ((rc = stat_fd(n->fd, &st)) < 0) {
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        return S_ISDIR(st.st_mode) ? -EISDIR : S_ISLNK(st.st_mode) ? -ELOOP : -ENXIO;
    }
    if (!fs->handle_free) {
        return -ENFILE;
    }
    fd = reopen(fs, n, open_flags(ARG(struct fuse_open_in)->flags));
    if (fd < 0) {
        return fd;
    }
    fh = handle_new(fs, fd, false);
    memset(out, 0, sizeof(*out));
    out->fh = fh;
    r->data_len = sizeof(*out);
    return 0;
}

static int
op_create(Fs *fs, FsReq *r)
{
    /* Before 7.12 the arguments were struct fuse_open_in's 8 bytes: flags and mode. */
    const struct fuse_create_in *in = ARG(struct fuse_create_in);
    struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
    } *out = (void *)fs->reply;
    FsInode *dir = inode_get(fs, r->in.nodeid), *n;
    struct stat st;
    int fd, pfd, rc = check_new_name(r->name);

    if (rc < 0) {
        return rc;
    }
    if (!dir) {
        return -ESTALE;
    }
    if (!fs->handle_free || !fs->inode_free) {
        return -ENFILE;
    }
    become(r, true);
    fd = openat(dir->fd, r->name,
                open_flags(in->flags) | O_CREAT | (int)(in->flags & O_EXCL) | O_NOFOLLOW,
                (mode_t)(in->mode & 07777));
    rc = fd < 0 ? -errno : 0;
    become(r, false);
    if (rc < 0) {
        return rc;
    }
    /* The O_PATH fd of exactly the file opened, whatever happens to the name meanwhile. */
    {
        char num[16];

        snprintf(num, sizeof(num), "%d", fd);
        pfd = openat(fs->proc_fd, num, O_PATH | O_CLOEXEC);
    }
    if (pfd < 0 || (rc = stat_fd(pfd, &st)) < 0) {
        rc = pfd < 0 ? -errno : rc;
        if (pfd >= 0) {
            close(pfd);
        }
        close(fd);
        return rc;
    }
    n = inode_take(fs, pfd, &st);
    /* Room was checked: neither table can be full here. */
    fill_entry(fs, &out->e, n, &st);
    memset(&out->o, 0, sizeof(out->o));
    out->o.fh = handle_new(fs, fd, false);
    r->data_len = sizeof(*out);
    return 0;
}

/* Mutant fs-read-corrupt: every bit of the writable byte at @skip flipped. */
static void
flip_first_byte(const VcBeChain *c, uint64_t skip)
{
    for (unsigned i = 0; i < c->nsegs; i++) {
        const VcBeSeg *s = &c->segs[i];

        if (!(s->flags & VRING_DESC_F_WRITE)) {
            continue;
        }
        if (skip < s->len) {
            s->hva[skip] ^= 0xff;
            return;
        }
        skip -= s->len;
    }
}

static int
op_read(Fs *fs, FsReq *r)
{
    const struct fuse_read_in *in = ARG(struct fuse_read_in);
    FsHandle *h = handle_get(fs, in->fh, false);
    uint64_t size = in->size;
    int64_t got;

    if (!h) {
        return -EBADF;
    }
    if (in->offset > (uint64_t)INT64_MAX) {
        return -EINVAL;
    }
    if (size > r->writable - OUT_HDR) {
        size = r->writable - OUT_HDR;
    }
    got = size ? chain_file(fs, r->c, true, OUT_HDR, size, h->fd, (off_t)in->offset) : 0;
    if (got < 0) {
        return (int)got;
    }
    if (got > 0 && fs->mutant == VC_MUT_FS_READ_CORRUPT) {
        flip_first_byte(r->c, OUT_HDR);
    }
    r->data_len = (uint32_t)got;
    r->direct = true;
    return 0;
}

static int
op_write(Fs *fs, FsReq *r)
{
    const struct fuse_write_in *in = ARG(struct fuse_write_in);
    struct fuse_write_out *out = REPLY(struct fuse_write_out);
    FsHandle *h = handle_get(fs, in->fh, false);
    int64_t done;

    if (!h) {
        return -EBADF;
    }
    if (in->size > r->arglen - sizeof(*in) || in->offset > (uint64_t)INT64_MAX) {
        return -EINVAL;
    }
    if (fs->mutant == VC_MUT_FS_WRITE_DROPPED) {
        done = in->size;
    } else {
        done = in->size ? chain_file(fs, r->c, false, IN_HDR + sizeof(*in), in->size, h->fd,
                                     (off_t)in->offset)
                        : 0;
    }
    if (done < 0) {
        return (int)done;
    }
    memset(out, 0, sizeof(*out));
    out->size = (uint32_t)done;
    r->data_len = sizeof(*out);
    return 0;
}

static int
op_flush(Fs *fs, FsReq *r)
{
    FsHandle *h = handle_get(fs, ARG(struct fuse_flush_in)->fh, false);
    int fd;

    if (!h) {
        return -EBADF;
    }
    /* close(2) of a duplicate: what a close by the requester would do (locks, NFS errors). */
    fd = dup(h->fd);
    if (fd < 0) {
        return -errno;
    }
    return close(fd) < 0 ? -errno : 0;
}

static int
op_release_common(Fs *fs, FsReq *r, bool dir)
{
    FsHandle *h = handle_get(fs, ARG(struct fuse_release_in)->fh, dir);

    if (!h) {
        return -EBADF;
    }
    handle_close(fs, h);
    return 0;
}

static int
op_release(Fs *fs, FsReq *r)
{
    return op_release_common(fs, r, false);
}

static int
op_releasedir(Fs *fs, FsReq *r)
{
    return op_release_common(fs, r, true);
}

static int
op_opendir(Fs *fs, FsReq *r)
{
    struct fuse_open_out *out = REPLY(struct fuse_open_out);
    FsInode *n = inode_get(fs, r->in.nodeid);
    int fd;

    if (!n) {
        return -ESTALE;
    }
    if (!fs->handle_free) {
        return -ENFILE;
    }
    fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    memset(out, 0, sizeof(*out));
    out->fh = handle_new(fs, fd, true);
    r->data_len = sizeof(*out);
    return 0;
}

static int
op_readdir(Fs *fs, FsReq *r)
{
    const struct fuse_read_in *in = ARG(struct fuse_read_in);
    FsHandle *h = handle_get(fs, in->fh, true);
    uint64_t room = in->size;
    uint32_t pos = 0;
    bool more = false;

    if (!h) {
        return -EBADF;
    }
    if (room > r->writable - OUT_HDR) {
        room = r->writable - OUT_HDR;
    }
    if (room > REPLY_MAX_LEN) {
        room = REPLY_MAX_LEN;
    }
    /* The offset of an entry is the d_off of the one before it: seek there and read on. */
    if (in->offset > (uint64_t)INT64_MAX || lseek(h->fd, (off_t)in->offset, SEEK_SET) < 0) {
        return in->offset > (uint64_t)INT64_MAX ? -EINVAL : -errno;
    }
    while (!more) {
        ssize_t got = getdents64(h->fd, fs->dents, sizeof(fs->dents));

        if (got < 0) {
            if (pos == 0) {
                return -errno;
            }
            break;
        }
        if (got == 0) {
            break;
        }
        for (ssize_t off = 0; off < got;) {
            const struct dirent64 *d = (const void *)(fs->dents + off);
            size_t namelen = strlen(d->d_name);
            size_t size = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
            struct fuse_dirent *fd = (void *)(fs->reply + pos);

            if (pos + size > room) {
                more = true;
                break;
            }
            memset(fd, 0, size);
            fd->ino = d->d_ino;
            fd->off = (uint64_t)d->d_off;
            fd->namelen = (uint32_t)namelen;
            fd->type = d->d_type;
            memcpy(fd->name, d->d_name, namelen);
            pos += (uint32_t)size;
            off += d->d_reclen;
        }
    }
    /* As getdents(2): a buffer too small for the next entry is an error, not the end. */
    if (pos == 0 && more) {
        return -EINVAL;
    }
    r->data_len = pos;
    return 0;
}

static int
op_mkdir(Fs *fs, FsReq *r)
{
    FsInode *dir = inode_get(fs, r->in.nodeid);
    int rc = check_new_name(r->name);

    if (rc < 0) {
        return rc;
    }
    if (!dir) {
        return -ESTALE;
    }
    if (!fs->inode_free) {
        return -ENFILE;
    }
    become(r, true);
    rc = mkdirat(dir->fd, r->name, (mode_t)(ARG(struct fuse_mkdir_in)->mode & 07777)) < 0
             ? -errno : 0;
    become(r, false);
    if (rc < 0) {
        return rc;
    }
    rc = lookup_entry(fs, dir, r->name, REPLY(struct fuse_entry_out));
    r->data_len = rc == 0 ? sizeof(struct fuse_entry_out) : 0;
    return rc;
}

static int
op_unlink_common(Fs *fs, FsReq *r, int flags)
{
    FsInode *dir = inode_get(fs, r->in.nodeid);
    int rc = check_new_name(r->name);

    if (rc < 0) {
        return rc;
    }
    if (!dir) {
        return -ESTALE;
    }
    return unlinkat(dir->fd, r->name, flags) < 0 ? -errno : 0;
}

static int
op_unlink(Fs *fs, FsReq *r)
{
    return op_unlink_common(fs, r, 0);
}

static int
op_rmdir(Fs *fs, FsReq *r)
{
    return op_unlink_common(fs, r, AT_REMOVEDIR);
}

static int
op_statfs(Fs *fs, FsReq *r)
{
    struct fuse_statfs_out *out = REPLY(struct fuse_statfs_out);
    FsInode *n = inode_get(fs, r->in.nodeid);
    struct statfs sf;

    if (!n) {
        return -ESTALE;
    }
    if (fstatfs(n->fd, &sf) < 0) {
        return -errno;
    }
    memset(out, 0, sizeof(*out));
    out->st.blocks = sf.f_blocks;
    out->st.bfree = sf.f_bfree;
    out->st.bavail = sf.f_bavail;
    out->st.files = sf.f_files;
    out->st.ffree = sf.f_ffree;
    out->st.bsize = (uint32_t)sf.f_bsize;
    out->st.namelen = (uint32_t)sf.f_namelen;
    out->st.frsize = (uint32_t)sf.f_frsize;
    r->data_len = sizeof(*out);
    return 0;
}

/* FsOp.flags */
#define OP_NAME       (1u << 0)   /* a NUL-terminated name follows the fixed arguments */
#define OP_DATA       (1u << 1)   /* bytes after the fixed arguments stay in the chain (WRITE) */
#define OP_HIPRIO     (1u << 2)   /* belongs on the hiprio queue; never answered */
#define OP_ANY_TIME   (1u << 3)   /* also before FUSE_INIT */

/**
 * FsOp: one row per FUSE opcode served.
 * @in_size: fixed argument bytes (struct fuse_*_in); fewer is -EINVAL
 * @out_size: fixed reply bytes after the out header (0: none or variable);
 *            a chain without room for them gets -EINVAL before anything is done
 */
typedef struct FsOp {
    int (*fn)(Fs *fs, FsReq *r);
    uint32_t in_size;
    uint32_t out_size;
    unsigned flags;
} FsOp;

static const FsOp fs_ops[] = {
    [FUSE_INIT] = {op_init, 8, 0, OP_ANY_TIME},
    [FUSE_DESTROY] = {op_destroy, 0, 0, 0},
    [FUSE_LOOKUP] = {op_lookup, 0, sizeof(struct fuse_entry_out), OP_NAME},
    [FUSE_FORGET] = {op_forget, sizeof(struct fuse_forget_in), 0, OP_HIPRIO | OP_ANY_TIME},
    [FUSE_BATCH_FORGET] = {op_batch_forget, sizeof(struct fuse_batch_forget_in), 0,
                           OP_HIPRIO | OP_DATA | OP_ANY_TIME},
    [FUSE_INTERRUPT] = {op_interrupt, sizeof(struct fuse_interrupt_in), 0,
                        OP_HIPRIO | OP_ANY_TIME},
    [FUSE_GETATTR] = {op_getattr, 0, sizeof(struct fuse_attr_out), 0},
    [FUSE_OPEN] = {op_open, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out), 0},
    [FUSE_CREATE] = {op_create, sizeof(struct fuse_create_in),
                     sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out), OP_NAME},
    [FUSE_READ] = {op_read, sizeof(struct fuse_read_in), 0, 0},
    [FUSE_WRITE] = {op_write, sizeof(struct fuse_write_in), sizeof(struct fuse_write_out),
                    OP_DATA},
    [FUSE_FLUSH] = {op_flush, sizeof(struct fuse_flush_in), 0, 0},
    [FUSE_RELEASE] = {op_release, sizeof(struct fuse_release_in), 0, 0},
    [FUSE_OPENDIR] = {op_opendir, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out), 0},
    [FUSE_READDIR] = {op_readdir, sizeof(struct fuse_read_in), 0, 0},
    [FUSE_RELEASEDIR] = {op_releasedir, sizeof(struct fuse_release_in), 0, 0},
    [FUSE_MKDIR] = {op_mkdir, sizeof(struct fuse_mkdir_in), sizeof(struct fuse_entry_out),
                    OP_NAME},
    [FUSE_UNLINK] = {op_unlink, 0, 0, OP_NAME},
    [FUSE_RMDIR] = {op_rmdir, 0, 0, OP_NAME},
    [FUSE_STATFS] = {op_statfs, 0, sizeof(struct fuse_statfs_out), 0},
};

/*
 * Reads the arguments into fs->arg (zero-filled past what came) and finds
 * the name. Returns: 0 or -errno.
 */
static int
read_args(Fs *fs, FsReq *r, const FsOp *op)
{
    uint32_t fixed = op->in_size, take = r->arglen;

    /* Before 7.12, CREATE carried struct fuse_open_in (flags, mode). */
    if (r->in.opcode == FUSE_CREATE && fs->minor < 12) {
        fixed = 8;
    }
    if (r->arglen < fixed) {
        return -EINVAL;
    }
    if (op->flags & OP_DATA) {
        take = fixed;
    } else if (take > ARG_MAX_LEN) {
        return -EINVAL;
    }
    /* Zero past what came, at least over the largest fixed struct (fuse_init_in). */
    memset(fs->arg, 0, (take > sizeof(struct fuse_init_in) ? take
                                                           : sizeof(struct fuse_init_in)) + 1);
    chain_copy(r->c, false, IN_HDR, fs->arg, take);
    fs->arg[take] = '\0';
    if (op->flags & OP_NAME) {
        const char *name = (const char *)fs->arg + fixed;

        /* The name must end with its NUL inside the request. */
        if (take == fixed || !memchr(name, '\0', take - fixed)) {
            return -EINVAL;
        }
        r->name = name;
        if (r->in.opcode == FUSE_CREATE && fixed == 8) {
            /* Widen the old layout into struct fuse_create_in (the name was copied out). */
            memmove(fs->arg + sizeof(struct fuse_create_in), fs->arg + 8, take - 8 + 1);
            memset(fs->arg + 8, 0, sizeof(struct fuse_create_in) - 8);
            r->name = (const char *)fs->arg + sizeof(struct fuse_create_in);
        }
    }
    return 0;
}

static const char *
op_name(uint32_t opcode)
{
    switch (opcode) {
    case FUSE_INIT: return "INIT";
    case FUSE_DESTROY: return "DESTROY";
    case FUSE_LOOKUP: return "LOOKUP";
    case FUSE_FORGET: return "FORGET";
    case FUSE_BATCH_FORGET: return "BATCH_FORGET";
    case FUSE_INTERRUPT: return "INTERRUPT";
    case FUSE_GETATTR: return "GETATTR";
    case FUSE_OPEN: return "OPEN";
    case FUSE_CREATE: return "CREATE";
    case FUSE_READ: return "READ";
    case FUSE_WRITE: return "WRITE";
    case FUSE_FLUSH: return "FLUSH";
    case FUSE_RELEASE: return "RELEASE";
    case FUSE_OPENDIR: return "OPENDIR";
    case FUSE_READDIR: return "READDIR";
    case FUSE_RELEASEDIR: return "RELEASEDIR";
    case FUSE_MKDIR: return "MKDIR";
    case FUSE_UNLINK: return "UNLINK";
    case FUSE_RMDIR: return "RMDIR";
    case FUSE_STATFS: return "STATFS";
    default: return "other";
    }
}

/* Runs one request. Returns: 0..-4095 for the out header, or NO_REPLY. */
static int
fs_dispatch(Fs *fs, FsReq *r)
{
    const FsOp *op = r->in.opcode < sizeof(fs_ops) / sizeof(fs_ops[0]) ? &fs_ops[r->in.opcode]
                                                                         : NULL;
    bool hiprio_queue = r->c->queue == HIPRIO_QUEUE;
    int rc;

    if (!op || !op->fn) {
        return -ENOSYS;
    }
    /* virtio 1.x 5.11.6.1: the hiprio queue carries FORGET, BATCH_FORGET and INTERRUPT. */
    if (hiprio_queue && !(op->flags & OP_HIPRIO)) {
        vc_be_note(fs->be, "FUSE_%s on the hiprio queue: refused", op_name(r->in.opcode));
        return -EINVAL;
    }
    /* A request that cannot be answered is not carried out either. */
    if (!(op->flags & OP_HIPRIO) && r->writable < OUT_HDR) {
        vc_be_note(fs->be, "ring %u: FUSE_%s unique %llu has no room for a reply: ignored",
                   r->c->queue, op_name(r->in.opcode), (unsigned long long)r->in.unique);
        return NO_REPLY;
    }
    if (!fs->init_done && !(op->flags & OP_ANY_TIME)) {
        return -EIO;
    }
    if (op->out_size && r->writable < OUT_HDR + op->out_size) {
        return -EINVAL;
    }
    if ((rc = read_args(fs, r, op)) < 0) {
        return (op->flags & OP_HIPRIO) ? NO_REPLY : rc;
    }
    return op->fn(fs, r);
}

static uint32_t
fs_handle_chain(VcBe *be, const VcBeChain *c, void *opaque)
{
    Fs *fs = opaque;
    FsReq r = {.c = c};
    struct fuse_out_header out = {0};
    int rc;

    chain_sizes(c, &r.readable, &r.writable);
    if (r.readable < IN_HDR) {
        vc_be_note(be, "ring %u: a chain without a FUSE request header (%llu readable bytes)",
                   c->queue, (unsigned long long)r.readable);
        return 0;
    }
    chain_copy(c, false, 0, &r.in, IN_HDR);
    if (r.in.len < IN_HDR || r.in.len > r.readable) {
        vc_be_note(be, "ring %u: in.len %u does not match the %llu readable bytes", c->queue,
                   r.in.len, (unsigned long long)r.readable);
        rc = -EINVAL;
    } else {
        r.arglen = r.in.len - IN_HDR;
        rc = fs_dispatch(fs, &r);
    }
    vc_be_log(be, "ring %u: FUSE_%s (%u) unique %llu nodeid %llu: %s %d, %u bytes", c->queue,
              op_name(r.in.opcode), r.in.opcode, (unsigned long long)r.in.unique,
              (unsigned long long)r.in.nodeid, rc == NO_REPLY ? "no reply" : "error", rc,
              rc == 0 ? r.data_len : 0);
    if (rc == NO_REPLY) {
        return 0;
    }
    if (r.writable < OUT_HDR) {
        vc_be_note(be, "ring %u: FUSE_%s unique %llu has no room for a reply", c->queue,
                   op_name(r.in.opcode), (unsigned long long)r.in.unique);
        return 0;
    }
    if (rc < 0) {
        r.data_len = 0;
        r.direct = false;
    }
    if (r.data_len > r.writable - OUT_HDR) {
        r.data_len = (uint32_t)(r.writable - OUT_HDR);
    }
    out.len = OUT_HDR + r.data_len;
    out.error = rc;
    out.unique = r.in.unique;
    if (fs->mutant == VC_MUT_FS_ENOENT_POSITIVE && r.in.opcode == FUSE_LOOKUP && rc == -ENOENT) {
        out.error = ENOENT;
    }
    if (fs->mutant == VC_MUT_FS_UNIQUE_MISMATCH && r.in.opcode != FUSE_INIT) {
        out.unique = r.in.unique + 2;
    }
    if (r.data_len && !r.direct) {
        chain_copy(c, true, OUT_HDR, fs->reply, r.data_len);
    }
    chain_copy(c, true, 0, &out, OUT_HDR);
    return out.len;
}

/* ---- the device ---- */

static unsigned
fs_queue_flags(unsigned q, void *opaque)
{
    Fs *fs = opaque;

    /* Mutant fs-hiprio-stalled: nobody ever takes a chain off the hiprio queue. */
    return q == HIPRIO_QUEUE && fs->mutant == VC_MUT_FS_HIPRIO_STALLED ? VC_BE_Q_PULL : 0;
}

static void
fs_event(VcBe *be, VcBeEvent ev, unsigned q, void *opaque)
{
    /* A device reset or a new front end: the FUSE session ends. */
    if (ev == VC_BE_EV_RESET || ev == VC_BE_EV_DISCONNECT) {
        session_reset(opaque);
    }
}

/* mkdir -p @path (0755). Returns: 0 or -errno. */
static int
make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char save = *p;

            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = save;
            if (!save) {
                break;
            }
        }
    }
    return 0;
}

static const char *
fs_init(void *opaque)
{
    static char why[PATH_MAX + 64];
    Fs *fs = opaque;
    struct rlimit rl;
    struct stat st;
    uint64_t budget;
    uint32_t buckets = 1;
    int root, rc;

    if (!fs->shared_dir) {
        return "--shared-dir=DIR is required";
    }
    if ((rc = make_dirs(fs->shared_dir)) < 0) {
        snprintf(why, sizeof(why), "cannot create --shared-dir %s: %s", fs->shared_dir,
                 strerror(-rc));
        return why;
    }
    root = open(fs->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || fstat(root, &st) < 0) {
        snprintf(why, sizeof(why), "cannot open --shared-dir %s: %s", fs->shared_dir,
                 strerror(errno));
        if (root >= 0) {
            close(root);
        }
        return why;
    }
    fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fs->proc_fd < 0) {
        close(root);
        return "cannot open /proc/self/fd (is /proc mounted?)";
    }
    /* Every inode and open file holds an fd: size the tables to what we may open. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    budget = rl.rlim_cur > 4 * RESERVED_FDS ? rl.rlim_cur - RESERVED_FDS : 3 * RESERVED_FDS;
    fs->nhandles = budget / 4 < MAX_HANDLES ? (uint32_t)(budget / 4) : MAX_HANDLES;
    fs->ninodes = budget - fs->nhandles < MAX_INODES ? (uint32_t)(budget - fs->nhandles)
                                                     : MAX_INODES;
    while (buckets < fs->ninodes) {
        buckets <<= 1;
    }
    fs->hash_mask = buckets - 1;
    fs->inodes = calloc(fs->ninodes, sizeof(*fs->inodes));
    fs->hash = calloc(buckets, sizeof(*fs->hash));
    fs->handles = calloc(fs->nhandles, sizeof(*fs->handles));
    if (!fs->inodes || !fs->hash || !fs->handles) {
        close(root);
        return "out of memory";
    }
    for (uint32_t i = fs->ninodes; i-- > 1;) {
        fs->inodes[i].fd = -1;
        fs->inodes[i].next = fs->inode_free;
        fs->inode_free = i + 1;
    }
    for (uint32_t i = fs->nhandles; i-- > 0;) {
        fs->handles[i].fd = -1;
        fs->handles[i].next_free = fs->handle_free;
        fs->handle_free = i + 1;
    }
    /* Slot 0, generation 0: nodeid 1 (FUSE_ROOT_ID). */
    fs->inodes[0] = (FsInode){.fd = root, .dev = st.st_dev, .ino = st.st_ino, .nlookup = 1};
    fs->hash[hash_of(st.st_dev, st.st_ino) & fs->hash_mask] = 1;
    /* Modes of created files are the driver's (it applied its umask), not ours. */
    umask(0);
    return NULL;
}

static void
fs_attach(VcBe *be, void *opaque)
{
    Fs *fs = opaque;

    fs->be = be;
    fs->mutant = vc_be_mutant(be);
}

static void
fs_detach(VcBe *be, void *opaque)
{
    Fs *fs = opaque;

    if (fs->inodes) {
        session_reset(fs);
        close(fs->inodes[0].fd);
    }
    free(fs->inodes);
    free(fs->hash);
    free(fs->handles);
    fs->inodes = NULL;
    fs->hash = NULL;
    fs->handles = NULL;
    if (fs->proc_fd >= 0) {
        close(fs->proc_fd);
        fs->proc_fd = -1;
    }
}

int
main(int argc, char **argv)
{
    /*
     * QEMU's vhost-user-fs keeps the config space (tag, queue count) itself:
     * no CONFIG. No DEVICE_STATE either: the FUSE session (inodes, open
     * files) cannot be moved to another instance.
     */
    const VcBeDevice fs = {
        .type = "fs",
        .prog = "vhost-user-fs-ref",
        .device_id = VIRTIO_ID_FS,
        .features = VC_F(VIRTIO_F_VERSION_1) | VC_F(VHOST_USER_F_PROTOCOL_FEATURES) |
                    VC_F(VIRTIO_RING_F_EVENT_IDX) | VC_F(VIRTIO_RING_F_INDIRECT_DESC) |
                    VC_F(VIRTIO_F_RING_PACKED) | VC_F(VIRTIO_F_ACCESS_PLATFORM) |
                    VC_F(VHOST_F_LOG_ALL),
        .pfeatures = VC_PF(MQ) | VC_PF(LOG_SHMFD) | VC_PF(REPLY_ACK) | VC_PF(BACKEND_REQ) |
                     VC_PF(RESET_DEVICE) | VC_PF(CONFIGURE_MEM_SLOTS) | VC_PF(STATUS),
        .num_queues = 2,
        .options = fs_options,
        .set_option = fs_set_option,
        .init = fs_init,
        .attach = fs_attach,
        .detach = fs_detach,
        .handle_chain = fs_handle_chain,
        .event = fs_event,
        .queue_flags = fs_queue_flags,
        .opaque = &fs_state,
    };

    return vc_be_main(argc, argv, &fs);
}
