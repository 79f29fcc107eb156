/*
 * devstate.c -- back-end state transfer for migration. vhost-user.rst
 * "Migrating back-end state", SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE;
 * SPEC-FACTS 7.12.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define N 8
#define MAX_STATE (1u << 20)

/* Reads @fd to EOF within @ms. Returns: the bytes, or NULL on a timeout (*timed_out set). */
static GByteArray *
read_to_eof(int fd, int ms, bool *timed_out)
{
    GByteArray *b = g_byte_array_new();
    int64_t deadline = g_get_monotonic_time() / 1000 + ms;
    uint8_t buf[4096];

    *timed_out = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)MAX(deadline - g_get_monotonic_time() / 1000, 0);
        ssize_t n;
        if (poll(&p, 1, left) <= 0) {
            *timed_out = true;
            return b;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || b->len > MAX_STATE) {
            return b;
        }
        g_byte_array_append(b, buf, (guint)n);
    }
}

/* A started device, traffic, every ring stopped: the point where QEMU saves state. */
static VcTraffic *
stopped_device(VcCtx *ctx)
{
    VcTraffic *t = vc_chk_open(ctx, NULL, N);

    if (!t) {
        return NULL;
    }
    if (!vc_fe_has_pfeature(t->fe, VHOST_USER_PROTOCOL_F_DEVICE_STATE)) {
        vc_ctx_skip(ctx, "DEVICE_STATE was not negotiated");
        vc_traffic_free(t);
        return NULL;
    }
    vc_chk_round(ctx, t, N);
    for (unsigned q = 0; q < t->fe->num_queues; q++) {
        if (t->fe->q[q].vq && !vc_ctx_try(ctx, vc_fe_get_vring_base(t->fe, q, NULL,
                                                                    VC_ERR(ctx)))) {
            vc_traffic_free(t);
            return NULL;
        }
    }
    return t;
}

/* Saves the state of @fe. Returns: the blob, or NULL with the verdict set. */
static GByteArray *
save_state(VcCtx *ctx, VcFrontend *fe)
{
    uint64_t reply = 0, check = 1;
    bool timed_out;
    int fd;
    GByteArray *b;

    if (!vc_ctx_try(ctx, vc_fe_set_device_state_fd(fe, VHOST_TRANSFER_STATE_DIRECTION_SAVE,
                                                   VHOST_TRANSFER_STATE_PHASE_STOPPED, &reply,
                                                   &fd, NULL, VC_ERR(ctx)))) {
        return NULL;
    }
    if ((reply & 0xff) != 0) {
        vc_ctx_violation(ctx, "SET_DEVICE_STATE_FD (save, stopped) answered error 0x%x",
                         (unsigned)(reply & 0xff));
        close(fd);
        return NULL;
    }
    b = read_to_eof(fd, vc_ctx_wait_ms(ctx), &timed_out);
    close(fd);
    if (timed_out) {
        vc_ctx_violation(ctx, "the saved state did not end (EOF) within %d ms (%u bytes came)",
                         vc_ctx_wait_ms(ctx), b->len);
        g_byte_array_unref(b);
        return NULL;
    }
    if (!vc_ctx_try(ctx, vc_fe_check_device_state(fe, &check, VC_ERR(ctx)))) {
        g_byte_array_unref(b);
        return NULL;
    }
    if (check != 0) {
        vc_ctx_violation(ctx, "CHECK_DEVICE_STATE after a complete save answered %" G_GUINT64_FORMAT,
                         check);
        g_byte_array_unref(b);
        return NULL;
    }
    return b;
}

/* Loads @blob into @fe. Returns: CHECK_DEVICE_STATE's answer, or G_MAXUINT64 (verdict set). */
static uint64_t
load_state(VcCtx *ctx, VcFrontend *fe, const GByteArray *blob)
{
    uint64_t reply = 0, check = G_MAXUINT64;
    int fd;
    size_t off = 0;

    if (!vc_ctx_try(ctx, vc_fe_set_device_state_fd(fe, VHOST_TRANSFER_STATE_DIRECTION_LOAD,
                                                   VHOST_TRANSFER_STATE_PHASE_STOPPED, &reply,
                                                   &fd, NULL, VC_ERR(ctx)))) {
        return G_MAXUINT64;
    }
    if ((reply & 0xff) != 0) {
        vc_ctx_violation(ctx, "SET_DEVICE_STATE_FD (load) answered error 0x%x",
                         (unsigned)(reply & 0xff));
        close(fd);
        return G_MAXUINT64;
    }
    while (off < blob->len) {
        ssize_t n = write(fd, blob->data + off, blob->len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    close(fd);
    if (!vc_ctx_try(ctx, vc_fe_check_device_state(fe, &check, VC_ERR(ctx)))) {
        return G_MAXUINT64;
    }
    return check;
}

static VcVerdict
reply_bits_consistent(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    uint64_t reply = 0;
    bool returned = false;
    int fd = -1;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    /* An undefined phase: an error, and then no fd may come back. */
    VC_TRY(ctx, vc_fe_set_device_state_fd(t->fe, VHOST_TRANSFER_STATE_DIRECTION_SAVE, 5, &reply,
                                          &fd, &returned, VC_ERR(ctx)));
    if (fd >= 0) {
        close(fd);
    }
    if (!vc_expect(ctx, (reply & 0xff) != 0, "SET_DEVICE_STATE_FD with phase 5 (undefined) "
                   "answered success")) {
        return vc_ctx_done(ctx);
    }
    if (!vc_expect(ctx, !returned, "SET_DEVICE_STATE_FD answered an error (0x%x) and returned an "
                   "fd as well", (unsigned)(reply & 0xff))) {
        return vc_ctx_done(ctx);
    }
    /* The front end's channel stays usable for a proper save afterwards. */
    {
        g_autoptr(GByteArray) b = save_state(ctx, t->fe);
        if (b) {
            vc_ctx_note(ctx, "phase 5 refused without an fd; a real save gave %u bytes", b->len);
        }
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
returned_fd_usable(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    uint64_t reply = 0;
    bool returned = false, timed_out = false;
    int fd = -1, mode;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_device_state_fd(t->fe, VHOST_TRANSFER_STATE_DIRECTION_SAVE,
                                          VHOST_TRANSFER_STATE_PHASE_STOPPED, &reply, &fd,
                                          &returned, VC_ERR(ctx)));
    if (!returned) {
        if (fd >= 0) {
            g_autoptr(GByteArray) b = read_to_eof(fd, vc_ctx_wait_ms(ctx), &timed_out);
            close(fd);
        }
        return vc_ctx_skip(ctx, "the daemon used the front end's pipe (returned no fd of its own)");
    }
    /* A save is read by the front end: the returned end must be readable. */
    mode = fcntl(fd, F_GETFL);
    if (!vc_expect(ctx, mode >= 0 && (mode & O_ACCMODE) != O_WRONLY,
                   "for a save the daemon returned an fd opened write-only: the front end "
                   "cannot read the state from it")) {
        close(fd);
        return vc_ctx_done(ctx);
    }
    {
        g_autoptr(GByteArray) b = read_to_eof(fd, vc_ctx_wait_ms(ctx), &timed_out);
        close(fd);
        vc_expect(ctx, !timed_out, "the state read through the returned fd did not end");
        if (!ctx->violated) {
            vc_ctx_note(ctx, "the returned fd gave %u bytes then EOF", b->len);
        }
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
save_ends_with_eof(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    g_autoptr(GByteArray) b = NULL;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    b = save_state(ctx, t->fe);
    if (b) {
        vc_ctx_note(ctx, "%u bytes of state, then EOF; CHECK_DEVICE_STATE 0", b->len);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
load_restores(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    g_autoptr(GByteArray) blob = NULL;
    uint8_t before[VHOST_USER_MAX_CONFIG_SIZE], after[VHOST_USER_MAX_CONFIG_SIZE];
    uint32_t got = 0, got2 = 0, len;
    VcFrontend *fe;
    uint64_t check;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_CONFIG) || !fe->cfg.config_len) {
        return vc_ctx_skip(ctx, "no config space to compare: nothing observable to restore");
    }
    len = fe->cfg.config_len;
    /* Something worth restoring: flip the writable writeback byte of virtio-blk if present. */
    VC_TRY(ctx, vc_fe_get_config(fe, 0, len, before, &got, VC_ERR(ctx)));
    if (g_strcmp0(ctx->device, "blk") == 0 && len > 32) {
        uint8_t wce = before[32] ? 0 : 1;
        g_autoptr(GError) err = NULL;
        if (vc_fe_set_config(fe, 32, 1, VHOST_SET_CONFIG_TYPE_FRONTEND, &wce, &err)) {
            VC_TRY(ctx, vc_fe_get_config(fe, 0, len, before, &got, VC_ERR(ctx)));
        }
    }
    blob = save_state(ctx, fe);
    if (!blob) {
        return vc_ctx_done(ctx);
    }
    /* A new daemon instance is the migration destination. */
    g_clear_pointer(&t, vc_traffic_free);
    if (!vc_ctx_restart(ctx)) {
        return vc_ctx_done(ctx);
    }
    fe = vc_ctx_open(ctx, NULL, false);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    check = load_state(ctx, fe, blob);
    if (check == G_MAXUINT64) {
        return vc_ctx_done(ctx);
    }
    if (!vc_expect(ctx, check == 0, "CHECK_DEVICE_STATE after loading a good state answered %"
                   G_GUINT64_FORMAT, check)) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_get_config(fe, 0, len, after, &got2, VC_ERR(ctx)));
    vc_expect(ctx, got == got2 && memcmp(before, after, got) == 0, "after the state was loaded "
              "into a new instance, its config space differs from the saved device's");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "state of %u bytes moved to a new instance; its config space matches",
                    blob->len);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
garbage_load_refused(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    g_autoptr(GByteArray) blob = g_byte_array_new();
    uint64_t check;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    for (unsigned i = 0; i < 64; i++) {
        uint8_t v = (uint8_t)g_random_int();
        g_byte_array_append(blob, &v, 1);
    }
    check = load_state(ctx, t->fe, blob);
    if (check == G_MAXUINT64) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, check != 0, "CHECK_DEVICE_STATE answered 0 (success) after 64 random bytes "
              "were loaded as state");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "garbage state refused by CHECK_DEVICE_STATE (%" G_GUINT64_FORMAT ")",
                    check);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
kick_after_restore_harmless(VcCtx *ctx)
{
    g_autoptr(VcTraffic) t = stopped_device(ctx);
    g_autoptr(GByteArray) blob = NULL;
    uint32_t base;
    uint16_t used;
    VcFrontend *fe;
    uint64_t check;

    if (!t) {
        return vc_ctx_done(ctx);
    }
    fe = t->fe;
    base = fe->vring_base[vc_chk_queue(t)];
    blob = save_state(ctx, fe);
    if (!blob) {
        return vc_ctx_done(ctx);
    }
    /* Load into the same daemon, restart the ring from the saved base, kick with nothing new. */
    check = load_state(ctx, fe, blob);
    if (check == G_MAXUINT64) {
        return vc_ctx_done(ctx);
    }
    vc_traffic_reap(t);
    used = vc_vq_used_idx(t->vq);
    {
        /* The ring keeps its contents: restart without resetting the driver side. */
        unsigned q = vc_chk_queue(t);
        VC_TRY(ctx, vc_fe_set_vring_call(fe, q, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_set_vring_num(fe, q, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_set_vring_base(fe, q, base, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_set_vring_addr(fe, q, VC_ERR(ctx)));
        VC_TRY(ctx, vc_fe_set_vring_kick(fe, q, VC_ERR(ctx)));
        if (vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES)) {
            VC_TRY(ctx, vc_fe_set_vring_enable(fe, q, true, VC_ERR(ctx)));
        }
    }
    vc_vq_kick(t->vq);
    if (!vc_ctx_settle(ctx, fe, vc_chk_quiet_ms())) {
        return vc_ctx_done(ctx);
    }
    vc_expect(ctx, vc_vq_used_idx(t->vq) == used && vc_traffic_bad_ids(t) == 0,
              "after a restore, a kick with no new buffers moved the used index from %u to %u",
              used, vc_vq_used_idx(t->vq));
    if (!ctx->violated) {
        vc_ctx_note(ctx, "a kick with nothing new after the restore changed nothing");
    }
    return vc_ctx_done(ctx);
}

#define DS VC_PF(DEVICE_STATE)

/* DEVICE_STATE came after QEMU 7.2: the test suite runs these checks under this profile. */
#define QEMU_WITH_STATE "qemu-10"

static const VcCheck checks[] = {
    {"VU-DS-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH, "SET_DEVICE_STATE_FD never answers an error together with an fd",
     "state-error-with-fd", reply_bits_consistent, NULL, QEMU_WITH_STATE},
    {"VU-DS-02", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH, "an fd returned by SET_DEVICE_STATE_FD is the right end of the channel",
     "state-wrong-end", returned_fd_usable, NULL, QEMU_WITH_STATE},
    {"VU-DS-03", "vhost-user.rst#migrating-back-end-state", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH, "a save writes the whole state, then ends it with EOF", "state-no-eof",
     save_ends_with_eof, NULL, QEMU_WITH_STATE},
    {"VU-DS-04", "vhost-user.rst#migrating-back-end-state", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH | VC_CHECK_PROCESS,
     "a loaded state rebuilds the device in a new instance", "blk:state-load-ignored",
     load_restores, NULL, QEMU_WITH_STATE},
    {"VU-DS-05", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH, "CHECK_DEVICE_STATE reports a load of garbage as a failure",
     "check-state-ok-on-garbage", garbage_load_refused, NULL, QEMU_WITH_STATE},
    {"VU-DS-07", "vhost-user.rst#migrating-back-end-state", VC_MUST, VC_F_PROTO, DS,
     VC_CHECK_DATAPATH, "after a restore, a kick on a ring with nothing new is harmless",
     "restore-replays-used", kick_after_restore_harmless, NULL, QEMU_WITH_STATE},
};

const VcCheckArea vc_area_devstate = {"devstate", checks, G_N_ELEMENTS(checks)};
