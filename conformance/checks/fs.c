/*
 * fs.c -- the virtio-fs device as a vhost-user back end serves it.
 * virtio 1.x 5.11 (file system device): ring 0 is the hiprio queue, ring 1
 * the request queue; the device acts as the FUSE daemon, so its replies
 * follow the FUSE protocol (<linux/fuse.h>, the spec's FUSE reference).
 *
 * Files are placed in, and looked for in, the shared directory of a daemon
 * started from a recipe: {tmpdir}/shared (the virtiofsd recipe exports it).
 * Checks that need the host side of that directory SKIP without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-drv-fs.h"
#include "vc-error.h"

#define IN_CAP   (VC_FS_IN_HDR + 128 + 8192)
#define OUT_CAP  (VC_FS_OUT_HDR + 8192)
#define NREQ     8
#define DATA_LEN 3000u   /* not a multiple of anything a daemon might round to */

typedef struct FsSession {
    VcFsDrv *req;        /* request queue */
    VcFsDrv *hiprio;     /* hiprio queue */
    struct fuse_init_out init;
} FsSession;

static void
fs_session_clear(FsSession *s)
{
    g_clear_pointer(&s->req, vc_fs_free);
    g_clear_pointer(&s->hiprio, vc_fs_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FsSession, fs_session_clear)

/*
 * A started device with FUSE_INIT done on the request queue. A failed or
 * incompatible INIT is a violation. Returns: false with the verdict set.
 */
static bool
fs_open(VcCtx *ctx, FsSession *s)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, true);

    if (!fe) {
        return false;
    }
    if (fe->num_queues <= VC_FS_REQUEST_QUEUE) {
        vc_ctx_skip(ctx, "only %u ring(s) set up: no request queue", fe->num_queues);
        return false;
    }
    s->req = vc_fs_new(fe, VC_FS_REQUEST_QUEUE, NREQ, IN_CAP, OUT_CAP, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, s->req != NULL)) {
        return false;
    }
    s->hiprio = vc_fs_new(fe, VC_FS_HIPRIO_QUEUE, 4, VC_FS_IN_HDR + 64, 0, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, s->hiprio != NULL) ||
        !vc_ctx_try(ctx, vc_fs_init(s->req, VC_FS_FUSE_MINOR, &s->init, VC_ERR(ctx)))) {
        return false;
    }
    if (s->req->last.hdr.error || s->init.major != VC_FS_FUSE_MAJOR) {
        vc_ctx_violation(ctx, "setup: FUSE_INIT %u.%u answered error %d, version %u.%u",
                         VC_FS_FUSE_MAJOR, VC_FS_FUSE_MINOR, s->req->last.hdr.error,
                         s->init.major, s->init.minor);
        return false;
    }
    return true;
}

/* {tmpdir}/shared of a recipe daemon (created when missing), or NULL. */
static char *
shared_dir(VcCtx *ctx)
{
    VcDaemon *dm = ctx->ops->daemon(ctx->runner);
    const char *tmp = dm ? vc_daemon_tmpdir(dm) : NULL;
    char *p;

    if (!tmp) {
        return NULL;
    }
    p = g_build_filename(tmp, "shared", NULL);
    if (g_mkdir_with_parents(p, 0755) != 0) {
        g_free(p);
        return NULL;
    }
    return p;
}

static void
pattern(uint8_t *buf, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)((i * 151u + seed * 13u + (i >> 7)) & 0xff);
        buf[i] = b == VC_GMEM_GUARD ? 0x17 : b;
    }
}

/* A name no earlier check or run used. */
static char *
unique_name(const char *what)
{
    return g_strdup_printf("vc-%s-%d-%08x", what, (int)getpid(), g_random_int());
}

/* @what answered a FUSE error although it should have worked: a violation. */
static bool
fuse_ok(VcCtx *ctx, const VcFsDrv *d, const char *what)
{
    return vc_expect(ctx, d->last.hdr.error == 0, "%s answered error %d (%s)", what,
                     d->last.hdr.error, g_strerror(-d->last.hdr.error));
}

/* --- Checks ----------------------------------------------------------------------------- */

static VcVerdict
init_compatible(VcCtx *ctx)
{
    VcFrontend *fe = vc_ctx_open(ctx, NULL, true);
    g_autoptr(VcFsDrv) d = NULL;
    struct fuse_init_out io;
    char buf[200];

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    d = vc_fs_new(fe, VC_FS_REQUEST_QUEUE, 2, IN_CAP, OUT_CAP, VC_ERR(ctx));
    VC_TRY(ctx, d != NULL);
    /* A timeout is a violation here: the device must answer the INIT. */
    if (!vc_fs_call(d, FUSE_INIT, 0,
                    &(struct fuse_init_in){.major = VC_FS_FUSE_MAJOR, .minor = VC_FS_FUSE_MINOR},
                    sizeof(struct fuse_init_in), NULL, 0, VC_FS_OUT_HDR + sizeof(io),
                    VC_ERR(ctx))) {
        vc_ctx_violation(ctx, "%s", ctx->err->message);
        g_clear_error(VC_ERR(ctx));
        return vc_ctx_done(ctx);
    }
    if (d->last.faults) {
        vc_ctx_violation(ctx, "FUSE_INIT reply: %s",
                         vc_fs_faults_text(d->last.faults, buf, sizeof(buf)));
        return vc_ctx_done(ctx);
    }
    if (!vc_expect(ctx, d->last.hdr.error == 0, "FUSE_INIT %u.%u (the first minor with virtio-fs) "
                   "answered error %d", VC_FS_FUSE_MAJOR, VC_FS_FUSE_MINOR, d->last.hdr.error)) {
        return vc_ctx_done(ctx);
    }
    memset(&io, 0, sizeof(io));
    memcpy(&io, d->last.data, MIN(d->last.data_len, (uint32_t)sizeof(io)));
    /* FUSE: a daemon that speaks 7.x answers major 7 and its own minor; 24 bytes from 7.23 on. */
    vc_expect(ctx, d->last.data_len >= FUSE_COMPAT_22_INIT_OUT_SIZE, "FUSE_INIT reply carries %u "
              "bytes, want at least %u", d->last.data_len, FUSE_COMPAT_22_INIT_OUT_SIZE);
    vc_expect(ctx, io.major == VC_FS_FUSE_MAJOR, "FUSE_INIT %u.%u answered major %u",
              VC_FS_FUSE_MAJOR, VC_FS_FUSE_MINOR, io.major);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "FUSE_INIT 7.%u answered %u.%u (max_write %u, %u reply bytes)",
                    VC_FS_FUSE_MINOR, io.major, io.minor, io.max_write, d->last.data_len);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
host_file_read_back(VcCtx *ctx)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = unique_name("host");
    g_autofree char *path = NULL;
    g_auto(FsSession) s = {0};
    g_autoptr(GError) err = NULL;
    uint8_t data[DATA_LEN], back[DATA_LEN];
    struct fuse_entry_out e;
    struct fuse_open_out o;
    uint32_t got = 0, total = 0;

    /* After connecting: a daemon that exits after each front end was just started anew. */
    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    dir = shared_dir(ctx);
    vc_require(ctx, dir != NULL, "the shared directory is not known (use the virtiofsd recipe)");
    path = g_build_filename(dir, name, NULL);
    pattern(data, sizeof(data), g_random_int());
    if (!g_file_set_contents(path, (const char *)data, sizeof(data), &err)) {
        return vc_ctx_error(ctx, "%s", err->message);
    }
    VC_TRY(ctx, vc_fs_lookup(s.req, FUSE_ROOT_ID, name, &e, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "LOOKUP of a file placed in the shared directory") ||
        !vc_expect(ctx, e.nodeid != 0, "LOOKUP of an existing file gave nodeid 0 (a negative "
                   "entry)")) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, S_ISREG(e.attr.mode) && e.attr.size == sizeof(data), "LOOKUP attributes: "
              "mode 0%o size %" G_GUINT64_FORMAT ", want a regular file of %zu bytes",
              e.attr.mode, (uint64_t)e.attr.size, sizeof(data));
    VC_TRY(ctx, vc_fs_open(s.req, e.nodeid, O_RDONLY, &o, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "OPEN")) {
        return vc_ctx_done(ctx);
    }
    /* Two reads: one from offset 0, one from the middle to past the end. */
    VC_TRY(ctx, vc_fs_read(s.req, e.nodeid, o.fh, 0, 2048, back, &got, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "READ")) {
        return vc_ctx_done(ctx);
    }
    total = got;
    if (got == 2048) {
        VC_TRY(ctx, vc_fs_read(s.req, e.nodeid, o.fh, 2048, 4096, back + 2048, &got,
                               VC_ERR(ctx)));
        if (!fuse_ok(ctx, s.req, "READ")) {
            return vc_ctx_done(ctx);
        }
        total += got;
    }
    if (vc_expect(ctx, total == sizeof(data), "READ returned %u bytes of a %zu-byte file", total,
                  sizeof(data))) {
        for (unsigned k = 0; k < sizeof(data); k++) {
            if (back[k] != data[k]) {
                vc_ctx_violation(ctx, "READ differs from the file at byte %u (0x%02x, want "
                                 "0x%02x)", k, back[k], data[k]);
                break;
            }
        }
    }
    VC_TRY(ctx, vc_fs_release(s.req, e.nodeid, o.fh, O_RDONLY, VC_ERR(ctx)));
    fuse_ok(ctx, s.req, "RELEASE");
    unlink(path);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a %zu-byte host file: LOOKUP, OPEN, 2 READs (%u bytes), RELEASE; "
                    "contents identical", sizeof(data), total);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
created_file_on_host(VcCtx *ctx)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = unique_name("create");
    g_autofree char *path = NULL;
    g_autofree char *host = NULL;
    g_auto(FsSession) s = {0};
    uint8_t data[DATA_LEN];
    struct fuse_entry_out e;
    struct fuse_open_out o;
    uint32_t written = 0;
    gsize hlen = 0;

    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    pattern(data, sizeof(data), g_random_int());
    VC_TRY(ctx, vc_fs_create(s.req, FUSE_ROOT_ID, name, O_WRONLY | O_CREAT | O_EXCL, S_IFREG | 0644,
                             &e, &o, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "CREATE in the root directory")) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fs_write(s.req, e.nodeid, o.fh, 0, data, 1000, &written, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "WRITE") ||
        !vc_expect(ctx, written == 1000, "WRITE of 1000 bytes reported %u written", written)) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fs_write(s.req, e.nodeid, o.fh, 1000, data + 1000, sizeof(data) - 1000,
                            &written, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "WRITE") ||
        !vc_expect(ctx, written == sizeof(data) - 1000, "WRITE of %zu bytes reported %u written",
                   sizeof(data) - 1000, written)) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fs_release(s.req, e.nodeid, o.fh, O_WRONLY, VC_ERR(ctx)));
    if (!fuse_ok(ctx, s.req, "RELEASE")) {
        return vc_ctx_done(ctx);
    }
    dir = shared_dir(ctx);
    if (!dir) {
        vc_ctx_note(ctx, "CREATE, 2 WRITEs, RELEASE answered; the shared directory is not known, "
                    "so the host side was not looked at");
        return vc_ctx_done(ctx);
    }
    path = g_build_filename(dir, name, NULL);
    if (!g_file_get_contents(path, &host, &hlen, NULL)) {
        vc_ctx_violation(ctx, "after CREATE, WRITE and RELEASE of \"%s\", there is no such file in "
                         "the shared directory %s", name, dir);
        return vc_ctx_done(ctx);
    }
    unlink(path);
    if (!vc_expect(ctx, hlen == sizeof(data), "the file in the shared directory has %zu bytes, "
                   "%zu were written", (size_t)hlen, sizeof(data))) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, memcmp(host, data, sizeof(data)) == 0, "the file in the shared directory "
              "differs from the bytes written");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "CREATE + 2 WRITEs + RELEASE: %zu bytes in %s, identical", sizeof(data),
                    path);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
getattr_sizes_agree(VcCtx *ctx)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = unique_name("attr");
    g_autofree char *path = NULL;
    g_auto(FsSession) s = {0};
    g_autoptr(GError) err = NULL;
    static const uint32_t sizes[] = {0, 1, 4097};
    uint8_t data[4097];
    struct fuse_entry_out e;
    struct fuse_attr_out a;

    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    dir = shared_dir(ctx);
    vc_require(ctx, dir != NULL, "the shared directory is not known (use the virtiofsd recipe)");
    path = g_build_filename(dir, name, NULL);
    pattern(data, sizeof(data), 5);
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        struct stat st;
        if (!g_file_set_contents(path, (const char *)data, sizes[i], &err) ||
            stat(path, &st) != 0) {
            return vc_ctx_error(ctx, "%s: %s", path, err ? err->message : g_strerror(errno));
        }
        VC_TRY(ctx, vc_fs_lookup(s.req, FUSE_ROOT_ID, name, &e, VC_ERR(ctx)));
        if (!fuse_ok(ctx, s.req, "LOOKUP")) {
            break;
        }
        VC_TRY(ctx, vc_fs_getattr(s.req, e.nodeid, &a, VC_ERR(ctx)));
        if (!fuse_ok(ctx, s.req, "GETATTR")) {
            break;
        }
        if (!vc_expect(ctx, a.attr.size == sizes[i] && e.attr.size == sizes[i] &&
                       a.attr.ino == e.attr.ino && a.attr.mode == st.st_mode,
                       "a %u-byte file (mode 0%o): LOOKUP says size %" G_GUINT64_FORMAT
                       ", GETATTR size %" G_GUINT64_FORMAT " mode 0%o ino %" G_GUINT64_FORMAT
                       " (LOOKUP ino %" G_GUINT64_FORMAT ")", sizes[i], st.st_mode,
                       (uint64_t)e.attr.size, (uint64_t)a.attr.size, a.attr.mode,
                       (uint64_t)a.attr.ino, (uint64_t)e.attr.ino)) {
            break;
        }
    }
    unlink(path);
    if (!vc_ctx_failed(ctx)) {
        VC_TRY(ctx, vc_fs_getattr(s.req, FUSE_ROOT_ID, &a, VC_ERR(ctx)));
        if (fuse_ok(ctx, s.req, "GETATTR of the root")) {
            vc_expect(ctx, S_ISDIR(a.attr.mode), "GETATTR of the root: mode 0%o is not a "
                      "directory", a.attr.mode);
        }
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "files of 0, 1 and 4097 bytes: LOOKUP and GETATTR sizes, inode and mode "
                    "agree with the host; the root is a directory");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
missing_name_enoent(VcCtx *ctx)
{
    g_autofree char *name = unique_name("missing");
    g_auto(FsSession) s = {0};
    struct fuse_entry_out e;

    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fs_lookup(s.req, FUSE_ROOT_ID, name, &e, VC_ERR(ctx)));
    /* FUSE: -ENOENT, or the negative-entry form (error 0, nodeid 0) for a cacheable miss. */
    if (s.req->last.hdr.error == 0) {
        vc_expect(ctx, e.nodeid == 0, "LOOKUP of a missing name succeeded with nodeid %"
                  G_GUINT64_FORMAT, (uint64_t)e.nodeid);
        if (!ctx->violated) {
            vc_ctx_note(ctx, "a missing name gave a negative entry (error 0, nodeid 0)");
        }
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, s.req->last.hdr.error == -ENOENT && s.req->last.used_len == VC_FS_OUT_HDR,
              "LOOKUP of a missing name: out.error %d, used.len %u; want -ENOENT (%d) and only "
              "the 16-byte out header", s.req->last.hdr.error, s.req->last.used_len, -ENOENT);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a missing name gave -ENOENT with a bare out header");
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
hiprio_forget(VcCtx *ctx)
{
    g_auto(FsSession) s = {0};
    struct fuse_entry_out e;
    struct fuse_attr_out a;

    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    /* The root always exists: "." gives it a lookup count to forget. */
    VC_TRY(ctx, vc_fs_lookup(s.req, FUSE_ROOT_ID, ".", &e, VC_ERR(ctx)));
    vc_require(ctx, s.req->last.hdr.error == 0 && e.nodeid != 0,
               "inconclusive: LOOKUP of \".\" answered error %d", s.req->last.hdr.error);
    for (int i = 0; i < 2; i++) {
        /* virtio 1.x 5.11.6.3: FORGET goes on the hiprio queue, which the device processes. */
        if (!vc_fs_forget(s.hiprio, e.nodeid, 1, VC_ERR(ctx))) {
            vc_ctx_violation(ctx, "hiprio queue: %s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
            return vc_ctx_done(ctx);
        }
        vc_expect(ctx, s.hiprio->last.used_len == 0, "FORGET (no writable buffer) came back "
                  "with used.len %u", s.hiprio->last.used_len);
        if (i == 0) {
            VC_TRY(ctx, vc_fs_lookup(s.req, FUSE_ROOT_ID, ".", &e, VC_ERR(ctx)));
        }
    }
    /* The session still works on the request queue. */
    VC_TRY(ctx, vc_fs_getattr(s.req, FUSE_ROOT_ID, &a, VC_ERR(ctx)));
    fuse_ok(ctx, s.req, "GETATTR of the root after FORGETs");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "2 FORGETs on the hiprio queue came back (used.len 0); the request "
                    "queue still answers");
    }
    return vc_ctx_done(ctx);
}

/* One raw request; its reply is kept in @seen. False with the verdict set. */
static bool
framed_call(VcCtx *ctx, VcFsDrv *d, VcFsReply *seen, unsigned *n, uint32_t opcode,
            uint64_t nodeid, const void *a, uint32_t alen, const void *b, uint32_t blen,
            uint32_t reply_cap)
{
    if (!vc_fs_call(d, opcode, nodeid, a, alen, b, blen, reply_cap, VC_ERR(ctx))) {
        if (g_error_matches(ctx->err, VC_SIM_ERROR, VC_ERROR_TIMEOUT)) {
            vc_ctx_violation(ctx, "%s", ctx->err->message);
            g_clear_error(VC_ERR(ctx));
        } else {
            vc_ctx_try(ctx, false);
        }
        return false;
    }
    seen[(*n)++] = d->last;
    return true;
}

static VcVerdict
reply_framing(VcCtx *ctx)
{
    g_autofree char *name = unique_name("frame");
    g_autofree char *missing = unique_name("missing");
    g_autofree char *dir = NULL;
    g_auto(FsSession) s = {0};
    VcFsReply seen[8];
    unsigned n = 0;
    struct fuse_getattr_in ga = {0};
    struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = S_IFREG | 0600};
    struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
    } created = {{0}};
    char why[200];

    if (!fs_open(ctx, &s)) {
        return vc_ctx_done(ctx);
    }
    seen[n++] = s.req->last;
    /* A session's worth of replies, errors included; the framing is judged, not the answers. */
    if (!framed_call(ctx, s.req, seen, &n, FUSE_GETATTR, FUSE_ROOT_ID, &ga, sizeof(ga), NULL, 0,
                     VC_FS_OUT_HDR + sizeof(struct fuse_attr_out)) ||
        !framed_call(ctx, s.req, seen, &n, FUSE_LOOKUP, FUSE_ROOT_ID, missing,
                     (uint32_t)strlen(missing) + 1, NULL, 0,
                     VC_FS_OUT_HDR + sizeof(struct fuse_entry_out)) ||
        !framed_call(ctx, s.req, seen, &n, FUSE_CREATE, FUSE_ROOT_ID, &ci, sizeof(ci), name,
                     (uint32_t)strlen(name) + 1, VC_FS_OUT_HDR + sizeof(created))) {
        return vc_ctx_done(ctx);
    }
    if (!s.req->last.faults && !s.req->last.hdr.error && s.req->last.data_len >= sizeof(created)) {
        struct fuse_write_in wi = {.size = 7};
        struct fuse_read_in ri = {.size = 512};
        struct fuse_release_in rl = {.flags = O_RDWR};

        memcpy(&created, s.req->last.data, sizeof(created));
        wi.fh = ri.fh = rl.fh = created.o.fh;
        if (!framed_call(ctx, s.req, seen, &n, FUSE_WRITE, created.e.nodeid, &wi, sizeof(wi),
                         "framing", 7, VC_FS_OUT_HDR + sizeof(struct fuse_write_out)) ||
            !framed_call(ctx, s.req, seen, &n, FUSE_READ, created.e.nodeid, &ri, sizeof(ri),
                         NULL, 0, VC_FS_OUT_HDR + 512) ||
            !framed_call(ctx, s.req, seen, &n, FUSE_RELEASE, created.e.nodeid, &rl, sizeof(rl),
                         NULL, 0, VC_FS_OUT_HDR)) {
            return vc_ctx_done(ctx);
        }
        dir = shared_dir(ctx);
        if (dir) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            unlink(path);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (seen[i].faults) {
            vc_ctx_violation(ctx, "FUSE_%s reply (used.len %u, out.len %u, unique %"
                             G_GUINT64_FORMAT " for %" G_GUINT64_FORMAT "): %s",
                             vc_fs_opcode_name(seen[i].opcode), seen[i].used_len,
                             seen[i].hdr.len, (uint64_t)seen[i].hdr.unique, seen[i].unique,
                             vc_fs_faults_text(seen[i].faults, why, sizeof(why)));
        }
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u replies (INIT, GETATTR, a failed LOOKUP, CREATE, WRITE, READ, "
                    "RELEASE): out.len == used.len, unique echoed, error 0 or -errno with no "
                    "data", n);
    }
    return vc_ctx_done(ctx);
}

#define SPEC "virtio-v1.2#file-system-device"
#define DP   VC_CHECK_DATAPATH

static const VcCheck checks[] = {
    {"VIO-FS-001", SPEC, VC_MUST, 0, 0, DP,
     "FUSE_INIT 7.31 on the request queue is answered OK with major 7", "fs-init-bad-major",
     init_compatible, "fs"},
    {"VIO-FS-002", SPEC, VC_MUST, 0, 0, DP,
     "a file placed in the shared directory is found by LOOKUP and READ back byte for byte",
     "fs-read-corrupt", host_file_read_back, "fs"},
    {"VIO-FS-003", SPEC, VC_MUST, 0, 0, DP,
     "a file made with CREATE, WRITE and RELEASE appears in the shared directory with that "
     "content", "fs-write-dropped", created_file_on_host, "fs"},
    {"VIO-FS-004", SPEC, VC_MUST, 0, 0, DP,
     "LOOKUP and GETATTR sizes, inode and mode agree with the host file", "fs-getattr-size",
     getattr_sizes_agree, "fs"},
    {"VIO-FS-005", SPEC, VC_MUST, 0, 0, DP,
     "LOOKUP of a missing name gives -ENOENT in the out header (or a negative entry)",
     "fs-enoent-positive", missing_name_enoent, "fs"},
    {"VIO-FS-006", SPEC, VC_MUST, 0, 0, DP,
     "the hiprio queue accepts FUSE_FORGET and returns it with used.len 0",
     "fs-hiprio-stalled", hiprio_forget, "fs"},
    {"VIO-FS-007", SPEC, VC_MUST, 0, 0, DP,
     "every reply's out header has len == used.len, the request's unique, error 0 or -errno",
     "fs-unique-mismatch", reply_framing, "fs"},
};

const VcCheckArea vc_area_fs = {"fs", checks, G_N_ELEMENTS(checks)};
