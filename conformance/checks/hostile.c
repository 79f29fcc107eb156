/*
 * hostile.c -- hostile input sent to the daemon: requests the codec calls
 * malformed, and descriptors and indices the virtio spec forbids a driver
 * to make. The daemon must refuse or ignore each input; it must not crash,
 * hang, write outside the buffers it was given, or use the input as valid
 * (the rule of the issue "The whole protocol, rule by rule"; QEMU style:
 * peer data never aborts a program).
 *
 * After EVERY input a check probes liveness itself: a GET_FEATURES round
 * trip on the same connection under the deadline (--timeout, 2 s), then the
 * daemon's process state when the connection is gone, then a scan of guest
 * memory for bytes that lost the guard pattern. Refused means a non-zero
 * ack, no reply, or a closed connection with the daemon still there (or
 * ended with status 0, as one-front-end daemons do). An ack of 0 is
 * accepting the input.
 *
 * Protocol messages are VU-BAD-NNN (vhost-user.rst); ring and descriptor
 * input is VIO-BAD-NNN (virtio 1.2, split virtqueues, section 2.7). The
 * descriptor checks drive the device's traffic ring with raw chains
 * (vc_vq_add_raw()): split rings only.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vc-chk.h"
#include "vc-error.h"
#include "vc-msg-io.h"
#include "vc-msg-table.h"

/* --- Probing what an input did --------------------------------------------------------- */

typedef enum Fate {
    FATE_ALIVE,   /* GET_FEATURES answered on the same connection */
    FATE_CLOSED,  /* the connection is gone; the daemon is not (or ended with status 0) */
    FATE_HUNG,    /* no answer within the deadline */
    FATE_DEAD,    /* killed by a signal, exited non-zero, or no longer accepts connections */
} Fate;

typedef struct Outcome {
    Fate fate;
    unsigned acks;       /* replies named after the hostile request */
    uint32_t ack_size;   /* size of the first one */
    uint64_t ack;        /* its u64 when the size is 8 */
    bool ended;          /* CLOSED: the process ended with status 0 */
    char how[128];       /* DEAD: what happened; CLOSED: how it ended */
} Outcome;

typedef struct Tally {
    unsigned inputs, nacked, silent, closed, ended, ignored;
    unsigned n_accepted;     /* inputs that had to be refused and were acked 0 */
    char accepted[384];      /* the first of them, for the verdict */
} Tally;

/* Fills o->fate for a connection that is gone or silent: what became of the daemon. */
static void
daemon_fate(VcCtx *ctx, Outcome *o)
{
    VcDaemon *d = ctx->ops->daemon(ctx->runner);
    g_autoptr(GError) err = NULL;
    int fd;

    if (d && vc_daemon_has_process(d)) {
        g_autofree char *text = NULL;
        int status;

        if (!vc_daemon_wait_exit(d, o->fate == FATE_CLOSED ? 100 : 50)) {
            return;
        }
        text = vc_daemon_exit_text(d);
        status = vc_daemon_exit_status(d);
        g_strlcpy(o->how, text, sizeof(o->how));
        /*
         * One-front-end daemons (virtiofsd, vhost-user-gpu) end with 0 when their
         * connection ends: counted as a close, and named in the PASS note. A malformed
         * message from the front end (VU-BAD-*) may also end the session with an error
         * status: the daemon refused it, deliberately (libvhost-user's vu_panic() handlers
         * exit(1)). A signal is a crash. Guest-made descriptors (VIO-BAD-*) must not end the
         * back end at all: a guest could stop its own device (QEMU's rule for guest-triggered
         * errors, docs/devel/style.rst).
         */
        if (status == 0 || (status > 0 && g_str_has_prefix(ctx->check->id, "VU-BAD-"))) {
            o->ended = true;
        } else {
            o->fate = FATE_DEAD;
        }
        return;
    }
    if (o->fate != FATE_CLOSED) {
        return;
    }
    /* Not ours to watch: a daemon that is gone refuses the next connection. */
    fd = ctx->ops->connect(ctx->runner, &err);
    if (fd < 0) {
        o->fate = FATE_DEAD;
        g_snprintf(o->how, sizeof(o->how), "no longer accepts connections (%s)", err->message);
        return;
    }
    close(fd);
}

/*
 * After a hostile request @hostile (-1: none): sends GET_FEATURES and reads
 * until its reply, collecting the replies to @hostile that come first.
 */
static void
probe(VcCtx *ctx, VcFrontend *fe, int64_t hostile, Outcome *o)
{
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    unsigned want = hostile == VHOST_USER_GET_FEATURES ? 2 : 1, got = 0;
    int64_t deadline;
    int r;

    memset(o, 0, sizeof(*o));
    o->fate = FATE_HUNG;
    vc_msg_init(m, VHOST_USER_GET_FEATURES, 0);
    r = vc_conn_send(fe->conn, m, fe->timeout_ms);
    deadline = vc_now_ms() + fe->timeout_ms;
    while (r == 0) {
        int64_t left = deadline - vc_now_ms();

        if (left <= 0) {
            break;
        }
        vc_fe_service(fe, 0);
        m->nfds = 0;
        r = vc_conn_recv(fe->conn, m, (int)MIN(left, 50));
        if (r == -ETIMEDOUT || r == -EAGAIN) {
            r = 0;
            continue;
        }
        if (r < 0) {
            break;
        }
        vc_msg_close_fds(m);
        if (m->hdr.request == VHOST_USER_GET_FEATURES && (m->hdr.flags & VHOST_USER_REPLY_MASK)) {
            /* A GET_FEATURES that was itself the input is answered first. */
            if (++got == want) {
                o->fate = FATE_ALIVE;
                return;
            }
            continue;
        }
        if (hostile >= 0 && m->hdr.request == (uint32_t)hostile && o->acks++ == 0) {
            o->ack_size = m->hdr.size;
            o->ack = m->hdr.size == sizeof(uint64_t) ? m->payload.u64 : 0;
        }
    }
    if (r < 0) {
        o->fate = FATE_CLOSED;
        g_strlcpy(o->how, "closed the connection", sizeof(o->how));
    }
    daemon_fate(ctx, o);
}

/*
 * Judges one input. A crash or a hang ends the check (the hung daemon is
 * replaced) and is the verdict's reason; an ack of 0 where the input must
 * be refused is counted and reported by note_tally() unless something
 * worse happened. Returns: false when the check must end.
 */
static bool
judge(VcCtx *ctx, const char *input, const Outcome *o, bool must_refuse, Tally *tally)
{
    tally->inputs++;
    switch (o->fate) {
    case FATE_DEAD:
        vc_ctx_violation(ctx, "%s: the daemon %s", input, o->how);
        return false;
    case FATE_HUNG:
        vc_ctx_violation(ctx, "%s: GET_FEATURES sent next got no answer within %d ms (the "
                         "daemon hangs)", input, vc_ctx_wait_ms(ctx));
        if (vc_ctx_daemon_pid(ctx)) {
            /* Stop it now (SIGTERM, then SIGKILL): the next check gets a new one. */
            ctx->ops->restart(ctx->runner, NULL);
        }
        return false;
    case FATE_CLOSED:
        tally->closed++;
        tally->ended += o->ended;
        break;
    case FATE_ALIVE:
        break;
    }
    if (o->acks && o->ack_size == sizeof(uint64_t) && o->ack == 0) {
        if (must_refuse) {
            if (tally->n_accepted++ == 0) {
                g_snprintf(tally->accepted, sizeof(tally->accepted), "%s%s", input,
                           o->fate == FATE_CLOSED ? " (then the connection was closed)" : "");
            }
        } else {
            tally->ignored++;
        }
    } else if (o->acks) {
        tally->nacked++;
    } else if (o->fate == FATE_ALIVE) {
        tally->silent++;
    }
    return true;
}

static void
note_tally(VcCtx *ctx, const Tally *t, const char *what)
{
    if (t->n_accepted > 1 && !ctx->violated) {
        vc_ctx_violation(ctx, "%s was acked 0: accepted instead of refused (%u of the %u %s "
                         "were acked 0)", t->accepted, t->n_accepted, t->inputs, what);
        return;
    }
    if (t->n_accepted && !ctx->violated) {
        vc_ctx_violation(ctx, "%s was acked 0: accepted instead of refused", t->accepted);
        return;
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u %s: %u refused with an ack, %u without a reply, %u by closing the "
                    "connection (%u of them ending the process with status 0)%s; the daemon "
                    "answered GET_FEATURES after each", t->inputs, what, t->nacked, t->silent,
                    t->closed, t->ended, t->ignored ? ", others acked 0" : "");
    }
}

/* --- Hand-made requests ------------------------------------------------------------------ */

/* Sends a header (request, version 1 | @flags, @size) then @len bytes of @payload, fds on byte 0. */
static int
send_raw(VcFrontend *fe, uint32_t request, uint32_t flags, uint32_t size, const void *payload,
         size_t len, const int *fds, unsigned nfds)
{
    g_autofree uint8_t *buf = g_malloc0(sizeof(VhostUserHeader) + len);
    VhostUserHeader h = {request, VHOST_USER_VERSION | flags, size};

    memcpy(buf, &h, sizeof(h));
    if (len) {
        memcpy(buf + sizeof(h), payload, len);
    }
    return vc_conn_send_raw(fe->conn, buf, sizeof(h) + len, fds, nfds, fe->timeout_ms);
}

/* One input: send, probe, judge. Returns: false when the check must end. */
static bool
hostile_msg(VcCtx *ctx, VcFrontend *fe, const char *input, uint32_t request, uint32_t size,
            const void *payload, size_t len, const int *fds, unsigned nfds, bool must_refuse,
            Tally *tally)
{
    Outcome o;
    int r = send_raw(fe, request, vc_fe_want_ack(fe), size, payload, len, fds, nfds);

    if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
        vc_ctx_error(ctx, "%s: cannot send: %s", input, g_strerror(-r));
        return false;
    }
    probe(ctx, fe, request, &o);
    return judge(ctx, input, &o, must_refuse, tally);
}

/* A connection that has done the profile's realize; a fresh one when the last was closed. */
static VcFrontend *
session(VcCtx *ctx, VcFrontend *fe)
{
    if (fe && !fe->conn->closed && !fe->broken) {
        return fe;
    }
    return vc_ctx_open(ctx, NULL, false);
}

/* Up to @n eventfds (close-on-exec); returns how many were made. */
static unsigned
make_fds(int *fds, unsigned n)
{
    unsigned k;

    for (k = 0; k < n; k++) {
        fds[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fds[k] < 0) {
            break;
        }
    }
    return k;
}

static void
close_fds(int *fds, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        if (fds[k] >= 0) {
            close(fds[k]);
            fds[k] = -1;
        }
    }
}

/* --- VU-BAD-001: unknown request ids -------------------------------------------------------- */

static VcVerdict
unknown_requests(VcCtx *ctx)
{
    /* 0 is VHOST_USER_NONE; 45 is one past the last id in vhost-user.rst; 200 is SPEC-FACTS' example. */
    static const struct {
        uint32_t id, size;
    } ids[] = {{0, 0}, {45, 8}, {200, 8}, {0x7fffffff, 0}, {0xffffffff, 16}};
    VcFrontend *fe = NULL;
    Tally tally = {0};
    uint8_t payload[16] = {0};

    for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *input = NULL;

        fe = session(ctx, fe);
        if (!fe) {
            return vc_ctx_done(ctx);
        }
        input = g_strdup_printf("request id %u (size %u%s)", ids[i].id, ids[i].size,
                                vc_fe_want_ack(fe) ? ", NEED_REPLY" : "");
        if (!hostile_msg(ctx, fe, input, ids[i].id, ids[i].size, payload, ids[i].size, NULL, 0,
                         true, &tally)) {
            break;
        }
    }
    note_tally(ctx, &tally, "unknown request ids");
    return vc_ctx_done(ctx);
}

/* --- VU-BAD-002: sizes that do not fit the payload ------------------------------------------ */

static VcVerdict
wrong_sizes(VcCtx *ctx)
{
    static const VcStep mem[] = {VC_STEP_SET_FEATURES, VC_STEP_MEM, VC_STEP_END};
    VcFrontend *fe = NULL;
    Tally tally = {0};
    g_autofree uint8_t *big = g_malloc0(8192);
    uint64_t features;
    struct vhost_vring_state st = {0, 256};
    struct vhost_vring_addr addr = {0};
    VhostUserMemory table = {0};
    Outcome o;
    int fd = -1, r;

    /* Every input has its bytes on the wire: the stream stays framed, only the size is wrong. */
    for (unsigned i = 0; i < 9; i++) {
        const char *input = NULL;
        uint32_t req = VHOST_USER_SET_FEATURES, size = 0;
        const void *pl = &features;
        size_t len = 0;

        fe = session(ctx, fe);
        if (!fe) {
            return vc_ctx_done(ctx);
        }
        features = vc_fe_negotiate_features(fe);
        switch (i) {
        case 0:
            input = "SET_FEATURES with size 0 (a u64 is 8)";
            break;
        case 1:
            input = "SET_FEATURES with size 4";
            size = len = 4;
            break;
        case 2:
            input = "SET_VRING_NUM with size 4 (a vring state is 8)";
            req = VHOST_USER_SET_VRING_NUM;
            pl = &st;
            size = len = 4;
            break;
        case 3:
            input = "SET_VRING_ADDR with size 16 (a vring address is 40)";
            req = VHOST_USER_SET_VRING_ADDR;
            pl = &addr;
            size = len = 16;
            break;
        case 4:
        case 5:
            VC_TRY(ctx, vc_fe_run_steps(fe, mem, VC_ERR(ctx)));
            vc_gmem_region_desc(fe->gm, 0, &table.regions[0]);
            fd = vc_gmem_region_fd(fe->gm, 0);
            /* The payload holds one region; nregions claims more. */
            table.nregions = i == 4 ? 2 : 0xffffffffu;
            input = i == 4 ? "SET_MEM_TABLE whose nregions is 2 but whose size holds 1 region"
                           : "SET_MEM_TABLE whose nregions is 0xffffffff (at most 8) with 1 region";
            req = VHOST_USER_SET_MEM_TABLE;
            pl = &table;
            size = len = 8 + sizeof(VhostUserMemoryRegion);
            break;
        case 6:
            input = "SET_FEATURES with size 8192 (larger than any payload), all bytes sent";
            memcpy(big, &features, sizeof(features));
            pl = big;
            size = len = 8192;
            break;
        case 7:
            input = "SET_VRING_BASE with size 16 (8 bytes too many)";
            req = VHOST_USER_SET_VRING_BASE;
            memset(big, 0, 16);
            pl = big;
            size = len = 16;
            break;
        default:
            input = "SET_FEATURES whose size says 0x7fffffff, with no payload after it";
            size = 0x7fffffff;
            break;
        }
        r = send_raw(fe, req, vc_fe_want_ack(fe), size, pl, len, fd >= 0 ? &fd : NULL,
                     fd >= 0 ? 1 : 0);
        fd = -1;   /* the region's memfd stays owned by guest memory */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
            return vc_ctx_error(ctx, "%s: cannot send: %s", input, g_strerror(-r));
        }
        probe(ctx, fe, req, &o);
        if (o.fate == FATE_HUNG && size == 0x7fffffff) {
            /* It may wait for the 2 GiB it was promised: that is the stream, not a hang. */
            fe = vc_ctx_connect(ctx, NULL);
            if (!fe) {
                return vc_ctx_done(ctx);
            }
            probe(ctx, fe, -1, &o);
            if (o.fate == FATE_ALIVE) {
                vc_ctx_note(ctx, "(it waited for the promised payload until the connection "
                            "closed) ");
                o.fate = FATE_CLOSED;
            }
        }
        if (!judge(ctx, input, &o, true, &tally)) {
            break;
        }
    }
    note_tally(ctx, &tally, "requests with a wrong size");
    return vc_ctx_done(ctx);
}

/* --- VU-BAD-003: missing and extra fds -------------------------------------------------------- */

static VcVerdict
fd_counts(VcCtx *ctx)
{
    VcFrontend *fe = NULL;
    Tally tally = {0};
    int fds[16];
    VhostUserMemory table = {0};
    VhostUserLog log = {4096, 0};
    uint64_t u = 0;

    for (unsigned i = 0; i < 9; i++) {
        const char *input = NULL;
        uint32_t req = VHOST_USER_SET_VRING_CALL, size = 8;
        const void *pl = &u;
        unsigned nfds = 0, made;
        bool must_refuse = true;

        fe = session(ctx, fe);
        if (!fe) {
            return vc_ctx_done(ctx);
        }
        switch (i) {
        case 0:
            input = "SET_VRING_CALL for ring 0 without the NOFD bit and without an fd";
            break;
        case 1:
            input = "SET_VRING_ERR for ring 0 without the NOFD bit and without an fd";
            req = VHOST_USER_SET_VRING_ERR;
            break;
        case 2:
        case 3:
            VC_TRY(ctx, vc_fe_setup_memory(fe, VC_ERR(ctx)));
            table.nregions = 1;
            vc_gmem_region_desc(fe->gm, 0, &table.regions[0]);
            req = VHOST_USER_SET_MEM_TABLE;
            pl = &table;
            size = 8 + sizeof(VhostUserMemoryRegion);
            input = i == 2 ? "SET_MEM_TABLE with 1 region and no fd"
                           : "SET_MEM_TABLE with 1 region and 2 fds";
            nfds = i == 2 ? 0 : 2;
            break;
        case 4:
            if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_LOG_SHMFD)) {
                continue;
            }
            /* Its reply is always due and its content undefined: only crash and hang count. */
            input = "SET_LOG_BASE without its fd";
            req = VHOST_USER_SET_LOG_BASE;
            pl = &log;
            size = sizeof(log);
            must_refuse = false;
            break;
        case 5:
            if (!vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_BACKEND_REQ)) {
                continue;
            }
            input = "SET_BACKEND_REQ_FD without its fd";
            req = VHOST_USER_SET_BACKEND_REQ_FD;
            size = 0;
            break;
        case 6:
            input = "SET_VRING_CALL for ring 0 with 2 fds";
            nfds = 2;
            break;
        case 7:
            /* More than libvhost-user's 8-slot cmsg buffer; rust-vmm takes 32. */
            input = "SET_VRING_CALL for ring 0 with 9 fds";
            nfds = 9;
            break;
        default:
            /* A stray fd on a request that takes none may be closed and the request served. */
            input = "GET_FEATURES with 1 fd";
            req = VHOST_USER_GET_FEATURES;
            size = 0;
            nfds = 1;
            must_refuse = false;
            break;
        }
        made = make_fds(fds, nfds);
        if (made < nfds) {
            close_fds(fds, made);
            return vc_ctx_error(ctx, "eventfd: %s", g_strerror(errno));
        }
        if (req == VHOST_USER_SET_MEM_TABLE && nfds) {
            /* The region's own memfd first, then the extra one. */
            close(fds[0]);
            fds[0] = dup(vc_gmem_region_fd(fe->gm, 0));
        }
        {
            bool go = hostile_msg(ctx, fe, input, req, size, pl, size, fds, nfds, must_refuse,
                                  &tally);
            close_fds(fds, nfds);
            if (!go) {
                break;
            }
        }
    }
    note_tally(ctx, &tally, "requests with missing or extra fds");
    return vc_ctx_done(ctx);
}

/* --- VU-BAD-004: ring indexes beyond the device's rings --------------------------------------- */

/* Features set, memory published and ring 0 allocated (for its addresses). Returns: @fe or NULL. */
static VcFrontend *
index_prepare(VcCtx *ctx, VcFrontend *fe)
{
    static const VcStep before[] = {VC_STEP_SET_FEATURES, VC_STEP_MEM, VC_STEP_END};

    if (!fe || !vc_ctx_try(ctx, vc_fe_run_steps(fe, before, VC_ERR(ctx))) ||
        (!fe->q[0].vq && !vc_ctx_try(ctx, vc_fe_create_queue(fe, 0, VC_ERR(ctx))))) {
        return NULL;
    }
    return fe;
}

/* @fe while it is usable, else a new prepared connection. */
static VcFrontend *
index_session(VcCtx *ctx, VcFrontend *fe)
{
    if (fe && !fe->conn->closed && !fe->broken) {
        return fe;
    }
    return index_prepare(ctx, vc_ctx_open(ctx, NULL, false));
}

static VcVerdict
ring_indexes(VcCtx *ctx)
{
    static const uint32_t msgs[] = {VHOST_USER_SET_VRING_NUM, VHOST_USER_SET_VRING_BASE,
                                    VHOST_USER_SET_VRING_ADDR, VHOST_USER_SET_VRING_ENABLE,
                                    VHOST_USER_GET_VRING_BASE, VHOST_USER_SET_VRING_KICK,
                                    VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_ERR};
    VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
    Tally tally = {0};
    uint32_t idx[4];
    unsigned n_idx = 0, n_fd_idx;
    uint64_t rings = 0;

    if (!fe) {
        return vc_ctx_done(ctx);
    }
    if (vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ)) {
        if (fe->queue_num == 0) {
            VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &fe->queue_num,
                                     VC_ERR(ctx)));
        }
        /* vhost-user net counts queue pairs (as mq.c: QEMU's net/vhost-user.c, DPDK). */
        rings = fe->queue_num * (g_strcmp0(ctx->device, "net") == 0 ? 2 : 1);
    }
    /* The fd messages reach rings 0..255 only (an 8-bit index); the others take a u32. */
    if (rings && rings < 255) {
        idx[n_idx++] = (uint32_t)rings;
    }
    if (rings < 255) {
        idx[n_idx++] = 255;
    }
    n_fd_idx = n_idx;
    if (rings < 0xffff) {
        idx[n_idx++] = 0xffff;
    }
    idx[n_idx++] = 0xffffffffu;
    fe = index_prepare(ctx, fe);

    for (unsigned m = 0; m < G_N_ELEMENTS(msgs) && fe; m++) {
        uint32_t req = msgs[m];
        bool fdmsg = req == VHOST_USER_SET_VRING_KICK || req == VHOST_USER_SET_VRING_CALL ||
                     req == VHOST_USER_SET_VRING_ERR;

        for (unsigned k = 0; k < (fdmsg ? n_fd_idx : n_idx); k++) {
            g_autofree char *input = NULL;
            struct vhost_vring_addr addr = {0};
            struct vhost_vring_state st = {idx[k], 0};
            uint64_t u = idx[k] & VHOST_USER_VRING_IDX_MASK;
            const void *pl = &st;
            uint32_t size = sizeof(st);
            int efd = -1;
            bool go;

            fe = index_session(ctx, fe);
            if (!fe) {
                break;
            }
            switch (req) {
            case VHOST_USER_SET_VRING_NUM:
                st.num = fe->q[0].vq->num;
                break;
            case VHOST_USER_SET_VRING_ENABLE:
                st.num = 1;
                break;
            case VHOST_USER_SET_VRING_ADDR:
                /* Ring 0's addresses: only the index is wrong. */
                vc_vq_addr(fe->q[0].vq, &addr);
                addr.index = idx[k];
                pl = &addr;
                size = sizeof(addr);
                break;
            case VHOST_USER_SET_VRING_KICK:
            case VHOST_USER_SET_VRING_CALL:
            case VHOST_USER_SET_VRING_ERR:
                pl = &u;
                size = sizeof(u);
                efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (efd < 0) {
                    return vc_ctx_error(ctx, "eventfd: %s", g_strerror(errno));
                }
                break;
            default:
                break;
            }
            if (rings) {
                input = g_strdup_printf("%s for ring %u (GET_QUEUE_NUM: %" G_GUINT64_FORMAT
                                        " rings)", vc_msg_short_name(VC_CHAN_MAIN, req), idx[k],
                                        rings);
            } else {
                input = g_strdup_printf("%s for ring %u", vc_msg_short_name(VC_CHAN_MAIN, req),
                                        idx[k]);
            }
            /* GET_VRING_BASE answers a vring state, an ack looks the same: only crash and hang. */
            go = hostile_msg(ctx, fe, input, req, size, pl, size, efd >= 0 ? &efd : NULL,
                             efd >= 0 ? 1 : 0, req != VHOST_USER_GET_VRING_BASE, &tally);
            if (efd >= 0) {
                close(efd);
            }
            if (!go) {
                return vc_ctx_done(ctx);
            }
        }
    }
    note_tally(ctx, &tally, "ring requests with an index beyond the rings");
    return vc_ctx_done(ctx);
}

/* --- VU-BAD-005: ring sizes that are not ring sizes -------------------------------------------- */

/* What the device did about an input on its ring. */
typedef enum Reaction {
    REACT_QUIET,   /* nothing within the quiet period */
    REACT_USED,    /* the used index moved */
    REACT_ERR,     /* the err notifier fired */
    REACT_CONN,    /* the main socket spoke or closed */
} Reaction;

/* Waits up to @ms for the device to do something on @t's ring (call, err, used index). */
static Reaction
watch_ring(VcTraffic *t, uint16_t used_before, int ms)
{
    VcFrontend *fe = t->fe;
    VcFeQueue *fq = &fe->q[t->vq->index];
    int64_t deadline = vc_now_ms() + ms;

    for (;;) {
        struct pollfd p[3];
        nfds_t n = 0;
        int64_t left = deadline - vc_now_ms();

        if (vc_vq_used_idx(t->vq) != used_before) {
            return REACT_USED;
        }
        if (left <= 0) {
            return REACT_QUIET;
        }
        p[n++] = (struct pollfd){.fd = fe->conn->fd, .events = POLLIN};
        if (fq->err_sent && fq->err_ours >= 0) {
            p[n++] = (struct pollfd){.fd = fq->err_ours, .events = POLLIN};
        }
        if (t->vq->call_fd >= 0) {
            p[n++] = (struct pollfd){.fd = t->vq->call_fd, .events = POLLIN};
        }
        if (poll(p, n, (int)MIN(left, 20)) < 0 && errno != EINTR) {
            return REACT_QUIET;
        }
        if (p[0].revents) {
            return REACT_CONN;
        }
        if (n > 1 && p[1].fd == fq->err_ours && p[1].revents) {
            return REACT_ERR;
        }
        vc_vq_take_call(t->vq);
        vc_fe_service(fe, 0);
    }
}

static VcVerdict
ring_sizes(VcCtx *ctx)
{
    static const VcStep before[] = {VC_STEP_SET_FEATURES, VC_STEP_STATUS_FEATURES_OK,
                                    VC_STEP_SET_VRING_CALL, VC_STEP_MEM, VC_STEP_END};
    static const uint32_t split_sizes[] = {0, 3, 1000, 32769, 65536, 0xffffffffu};
    static const uint32_t packed_sizes[] = {0, 32769, 65536, 0xffffffffu};
    const VcTrafficOps *ops = vc_traffic_ops(ctx->device);
    unsigned q = ops ? ops->queue : 0;
    g_autoptr(GString) what = g_string_new(NULL);
    Tally tally = {0};
    unsigned used = 0;
    unsigned n_sizes = 1;

    for (unsigned i = 0; i < n_sizes; i++) {
        g_autoptr(VcTraffic) t = NULL;
        g_autofree char *input = NULL;
        g_autoptr(GError) err = NULL;
        struct vhost_vring_state st;
        const uint32_t *sizes;
        VcFrontend *fe = vc_ctx_open(ctx, NULL, false);
        Outcome o;
        int r;

        if (!fe) {
            return vc_ctx_done(ctx);
        }
        VC_TRY(ctx, vc_fe_run_steps(fe, before, VC_ERR(ctx)));
        /* virtio 1.2 2.7: a split ring's size is a power of two; 2.8: any size; both <= 32768. */
        if (vc_fe_has_feature(fe, VIRTIO_F_RING_PACKED)) {
            sizes = packed_sizes;
            n_sizes = G_N_ELEMENTS(packed_sizes);
        } else {
            sizes = split_sizes;
            n_sizes = G_N_ELEMENTS(split_sizes);
        }
        for (unsigned k = 0; k < fe->num_queues; k++) {
            VC_TRY(ctx, vc_fe_create_queue(fe, k, VC_ERR(ctx)));
        }
        if (ops) {
            t = vc_traffic_new(fe, G_MAXUINT, 4, VC_ERR(ctx));
            VC_TRY(ctx, t != NULL);
        }
        st = (struct vhost_vring_state){q, sizes[i]};
        input = g_strdup_printf("SET_VRING_NUM %u for ring %u (%s ring)", sizes[i], q,
                                vc_fe_has_feature(fe, VIRTIO_F_RING_PACKED) ? "packed" : "split");
        r = send_raw(fe, VHOST_USER_SET_VRING_NUM, vc_fe_want_ack(fe), sizeof(st), &st,
                     sizeof(st), NULL, 0);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
            return vc_ctx_error(ctx, "%s: cannot send: %s", input, g_strerror(-r));
        }
        probe(ctx, fe, VHOST_USER_SET_VRING_NUM, &o);
        if (!judge(ctx, input, &o, true, &tally)) {
            break;
        }
        if (o.fate != FATE_ALIVE || (o.acks && o.ack != 0) || !t) {
            continue;
        }
        /*
         * Accepted, or no ack to tell: set the ring up as if that were its size and
         * use it. Whatever the daemon believes, it must not crash, hang or write
         * outside the 256-entry ring and the buffers.
         */
        used++;
        (void)(vc_fe_set_vring_base(fe, q, vc_vq_base(t->vq), &err) &&
               vc_fe_set_vring_addr(fe, q, &err) && vc_fe_set_vring_kick(fe, q, &err) &&
               (!vc_fe_has_feature(fe, VHOST_USER_F_PROTOCOL_FEATURES) ||
                vc_fe_set_vring_enable(fe, q, true, &err)));
        if (fe->broken || fe->conn->closed) {
            probe(ctx, fe, -1, &o);
        } else {
            uint16_t before_used = vc_vq_used_idx(t->vq);

            vc_traffic_post(t, 4);
            vc_vq_kick(t->vq);
            watch_ring(t, before_used, vc_chk_quiet_ms());
            probe(ctx, fe, -1, &o);
        }
        {
            g_autofree char *after = g_strdup_printf("%s, then the ring set up and kicked", input);
            if (!judge(ctx, after, &o, false, &tally)) {
                break;
            }
            if (vc_chk_stray(t, NULL, 0, what)) {
                vc_ctx_violation(ctx, "%s: %s", after, what->str);
                break;
            }
        }
    }
    if (tally.n_accepted) {
        note_tally(ctx, &tally, "inputs");
    } else if (!ctx->violated) {
        vc_ctx_note(ctx, "%u bad ring sizes: %u refused with an ack, %u without, %u by closing%s",
                    tally.inputs - used, tally.nacked, tally.silent, tally.closed,
                    used ? "; rings used with the others: no crash, hang or stray write" : "");
    }
    return vc_ctx_done(ctx);
}

/* --- Descriptor-level input (split rings) -------------------------------------------------- */

/*
 * The device's traffic ring, started, plus three buffers a raw chain may
 * use: a zeroed device-readable header, a data buffer and a status byte.
 * With them [H][D][S] is a well-formed request for rng (D and S filled)
 * and blk (a read of sector 0); each input replaces one part.
 */
typedef struct Ring {
    VcTraffic *t;
    VcVq *vq;
    uint64_t h, d, s;        /* guest addresses */
    uint8_t *dp, *sp;        /* our view of D and S */
    GArray *skip;            /* VcRange: what the daemon may write, what we wrote */
    unsigned q;              /* the ring's index */
    unsigned n_err, n_closed, n_returned, n_untouched;  /* how inputs were refused */
} Ring;

#define H_LEN 16
#define D_LEN 512
#define S_LEN 1

static void
ring_close(Ring *r)
{
    g_clear_pointer(&r->t, vc_traffic_free);
    if (r->skip) {
        g_array_free(r->skip, TRUE);
        r->skip = NULL;
    }
}

/* Guest memory for the check's own use, or NULL (the verdict is set). */
static void *
ring_alloc(VcCtx *ctx, Ring *r, uint64_t size, uint64_t *gpa, bool skip)
{
    void *p = vc_fe_alloc_buffer(r->t->fe, size, 64, gpa);

    if (!p) {
        vc_ctx_error(ctx, "guest memory too small for %" G_GUINT64_FORMAT " more bytes", size);
        return NULL;
    }
    if (skip) {
        g_array_append_val(r->skip, ((VcRange){*gpa, size}));
    }
    return p;
}

/*
 * Opens a fresh connection with the ring started, one traffic request
 * completed (the ring works) and the three buffers. Returns: false with the
 * verdict set.
 */
static bool
ring_open(VcCtx *ctx, Ring *r, const VcFeConfig *cfg)
{
    void *hp;

    ring_close(r);
    r->t = vc_chk_open(ctx, cfg, 2);
    if (!r->t) {
        return false;
    }
    r->vq = r->t->vq;
    r->q = r->vq->index;
    r->skip = g_array_new(FALSE, FALSE, sizeof(VcRange));
    if (r->vq->packed) {
        vc_ctx_skip(ctx, "hostile descriptors are written for split rings (run with --ring split)");
        return false;
    }
    if (vc_chk_round(ctx, r->t, 1) != 1) {
        if (!vc_ctx_failed(ctx)) {
            vc_ctx_skip(ctx, "inconclusive: the ring did not complete a request before the input");
        }
        return false;
    }
    hp = ring_alloc(ctx, r, H_LEN, &r->h, true);
    r->dp = ring_alloc(ctx, r, D_LEN, &r->d, false);
    r->sp = ring_alloc(ctx, r, 64, &r->s, false);
    if (!hp || !r->dp || !r->sp) {
        return false;
    }
    memset(hp, 0, H_LEN);
    return true;
}

/* A guest address as a descriptor carries it (an IOVA under an IOMMU). */
static inline uint64_t
A(const Ring *r, uint64_t gpa)
{
    return gpa + r->vq->dma_offset;
}

static inline VcRawDesc
rd(uint64_t addr, uint32_t len, uint16_t flags, uint32_t next)
{
    return (VcRawDesc){addr, len, flags, next};
}

/* True when every byte of [@gpa, @gpa + @len) still holds the guard pattern. */
static bool
guard_intact(VcGmem *gm, uint64_t gpa, uint64_t len)
{
    while (len) {
        uint64_t n = len;
        const uint8_t *p = vc_gmem_to_hva(gm, gpa, &n);

        if (!p || !n) {
            return true;
        }
        for (uint64_t k = 0; k < n; k++) {
            if (p[k] != VC_GMEM_GUARD) {
                return false;
            }
        }
        gpa += n;
        len -= n;
    }
    return true;
}

/*
 * One chain: published, kicked, then probed. @max_len is the largest
 * used.len a device that refuses the chain may report (a status byte);
 * @keep ranges must still hold the guard pattern afterwards. D and S are
 * the device's to write. Returns: false when the check must end.
 */
static bool
ring_input(VcCtx *ctx, Ring *r, const char *input, const VcRawDesc *d, unsigned n,
           uint32_t max_len, const VcRange *keep, unsigned n_keep)
{
    g_autoptr(GString) what = g_string_new(NULL);
    static int token;
    uint16_t used0 = vc_vq_used_idx(r->vq), used1;
    uint16_t pos = r->vq->avail_idx;   /* the chain's avail index */
    Reaction react;
    Outcome o;
    int head = vc_vq_add_raw(r->vq, d, n, &token);
    Tally tally = {0};

    if (head < 0) {
        vc_ctx_error(ctx, "%s: cannot place the chain: %s", input, g_strerror(-head));
        return false;
    }
    vc_vq_publish(r->vq);
    vc_vq_kick(r->vq);
    react = watch_ring(r->t, used0, vc_chk_quiet_ms());
    probe(ctx, r->t->fe, -1, &o);
    if (!judge(ctx, input, &o, false, &tally)) {
        return false;
    }
    if (o.fate == FATE_ALIVE) {
        g_autoptr(GError) err = NULL;
        uint32_t base = 0;

        /* Stops the ring; a ring worker that still follows the chain cannot answer it. */
        if (!vc_fe_get_vring_base(r->t->fe, r->q, &base, &err)) {
            if (g_error_matches(err, VC_SIM_ERROR, VC_ERROR_TIMEOUT)) {
                vc_ctx_violation(ctx, "%s: GET_VRING_BASE for ring %u sent next got no answer "
                                 "within %d ms (the ring hangs)", input, r->q,
                                 vc_ctx_wait_ms(ctx));
                if (vc_ctx_daemon_pid(ctx)) {
                    ctx->ops->restart(ctx->runner, NULL);
                }
                return false;
            }
        } else if (react != REACT_ERR && vc_vq_used_idx(r->vq) == used0 &&
                   (uint16_t)(base - pos) != 0) {
            /* Fetched, then dropped without a used element: ignored. */
            react = REACT_USED;
        }
    }
    if (o.fate == FATE_CLOSED) {
        r->n_closed++;
    } else if (react == REACT_ERR) {
        r->n_err++;
    } else if (react == REACT_USED || vc_vq_used_idx(r->vq) != used0) {
        r->n_returned++;
    } else {
        r->n_untouched++;
    }
    /* A completion of the chain says how much the device claims to have written. */
    used1 = vc_vq_used_idx(r->vq);
    for (uint16_t s = used0; s != used1 && (uint16_t)(s - used0) <= r->vq->num; s++) {
        uint32_t id, len;

        vc_vq_used_elem(r->vq, s, &id, &len);
        if (id == (uint32_t)head && len > max_len) {
            vc_ctx_violation(ctx, "%s: the daemon completed it with used.len %u (at most %u "
                             "for a refused chain): it used the chain as valid", input, len,
                             max_len);
            return true;
        }
    }
    for (unsigned k = 0; k < n_keep; k++) {
        if (!guard_intact(r->t->fe->gm, keep[k].gpa, keep[k].len)) {
            vc_ctx_violation(ctx, "%s: the daemon wrote guest bytes 0x%" G_GINT64_MODIFIER "x.."
                             "0x%" G_GINT64_MODIFIER "x that the chain gave it no room in",
                             input, keep[k].gpa, keep[k].gpa + keep[k].len - 1);
            return true;
        }
        g_array_append_val(r->skip, keep[k]);
    }
    g_array_append_val(r->skip, ((VcRange){r->d, D_LEN}));
    g_array_append_val(r->skip, ((VcRange){r->s, 64}));
    if (vc_chk_stray(r->t, (const VcRange *)(void *)r->skip->data, r->skip->len, what)) {
        vc_ctx_violation(ctx, "%s: %s", input, what->str);
    }
    return true;
}

static void
note_inputs(VcCtx *ctx, const Ring *r, unsigned n, const char *what)
{
    if (!ctx->violated && !vc_ctx_failed(ctx) && n && r->n_untouched == n) {
        /* A ring the device reads only when it has something to deliver (net RX). */
        vc_ctx_skip(ctx, "inconclusive: the device left all %u %s on ring %u alone within %d ms "
                    "although it served that ring before", n, what, r->q,
                    vc_chk_quiet_ms());
        return;
    }
    if (!ctx->violated && !vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%u %s: %u refused with the err notifier, %u by closing the connection, "
                    "%u fetched and completed or dropped without using the bad buffers, %u left "
                    "alone; no crash, hang or stray write, GET_FEATURES and GET_VRING_BASE "
                    "answered after each", n, what, r->n_err, r->n_closed, r->n_returned,
                    r->n_untouched);
    }
}

/* --- VIO-BAD-001: descriptors outside guest memory ---------------------------------------- */

static VcVerdict
desc_outside_memory(VcCtx *ctx)
{
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned done = 0;

    for (unsigned i = 0; i < 4; i++) {
        VcGmem *gm;
        const VcRegion *top = NULL;
        uint64_t bad = 0, in_bounds = 0;
        const char *input = NULL;
        VcRawDesc d[3];

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        gm = r.t->fe->gm;
        for (unsigned k = 0; k < gm->n_regions; k++) {
            if (!gm->regions[k].removed && (!top || gm->regions[k].gpa > top->gpa)) {
                top = &gm->regions[k];
            }
        }
        switch (i) {
        case 0:
            bad = 0x7e0000000000ull;
            input = "a writable descriptor at guest address 0x7e0000000000, far outside memory";
            break;
        case 1:
            /* The last 8 bytes of the highest region, the rest past its end. */
            bad = top->gpa + top->size - 8;
            in_bounds = 8;
            input = "a writable descriptor of 512 bytes whose last 504 lie past the end of guest "
                    "memory";
            break;
        case 2:
            /* A hole below the highest region, or past its end when there is none. */
            bad = gm->regions[0].gpa + gm->regions[0].size + 0x100000;
            if (vc_gmem_to_hva(gm, bad, NULL)) {
                bad = top->gpa + top->size + 0x100000;
            }
            input = "a writable descriptor in a hole of the guest address space";
            break;
        default:
            /* addr + len wraps past 2^64: a check written as addr + len <= end passes. */
            bad = 0xffffffffffffff00ull;
            input = "a writable descriptor at 0xffffffffffffff00 (address + length wraps "
                    "past 2^64)";
            break;
        }
        if (in_bounds) {
            g_array_append_val(r.skip, ((VcRange){bad, in_bounds}));
        }
        d[0] = rd(A(&r, r.h), H_LEN, VRING_DESC_F_NEXT, 1);
        d[1] = rd(A(&r, bad), D_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        d[2] = rd(A(&r, r.s), S_LEN, VRING_DESC_F_WRITE, 0);
        if (!ring_input(ctx, &r, input, d, 3, S_LEN, NULL, 0) || ctx->violated) {
            break;
        }
        done++;
    }
    ring_close(&r);
    note_inputs(ctx, &r, done, "chains with a descriptor outside guest memory");
    return vc_ctx_done(ctx);
}

/* --- VIO-BAD-002: descriptor loops ---------------------------------------------------------- */

static VcVerdict
desc_loops(VcCtx *ctx)
{
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned done = 0;

    cfg.indirect = true;
    for (unsigned i = 0; i < 3; i++) {
        VcRawDesc d[3];
        unsigned n = 3;
        const char *input;

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        d[0] = rd(A(&r, r.h), H_LEN, VRING_DESC_F_NEXT, 1);
        d[1] = rd(A(&r, r.d), D_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        d[2] = rd(A(&r, r.s), S_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
        input = "the chain header -> data -> status -> data (a loop back to the second "
                "descriptor)";
        if (i == 1) {
            d[1].next = 1;
            n = 2;
            input = "the chain header -> data -> data (a descriptor whose next is itself)";
        } else if (i == 2) {
            struct vring_desc *tab;
            uint64_t tab_gpa;

            if (!vc_fe_has_feature(r.t->fe, VIRTIO_RING_F_INDIRECT_DESC)) {
                break;
            }
            tab = ring_alloc(ctx, &r, 3 * sizeof(*tab), &tab_gpa, true);
            if (!tab) {
                break;
            }
            /* Inside an indirect table the next fields index the table. */
            vc_vq_raw_desc(&tab[0], &d[0]);
            vc_vq_raw_desc(&tab[1], &d[1]);
            d[2].next = 0;
            vc_vq_raw_desc(&tab[2], &d[2]);
            d[0] = rd(A(&r, tab_gpa), 3 * sizeof(*tab), VRING_DESC_F_INDIRECT, 0);
            n = 1;
            input = "an indirect table header -> data -> status -> header (a loop inside the "
                    "table)";
        }
        if (!ring_input(ctx, &r, input, d, n, S_LEN, NULL, 0) || ctx->violated) {
            break;
        }
        done++;
    }
    ring_close(&r);
    note_inputs(ctx, &r, done, "looping chains");
    return vc_ctx_done(ctx);
}

/* --- VIO-BAD-003: chains longer than the ring ------------------------------------------------- */

static VcVerdict
chains_longer_than_ring(VcCtx *ctx)
{
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    static const unsigned lens[] = {9, 64};
    unsigned done = 0;

    /* A ring of 8 and indirect tables of 9 and 64 descriptors, each one a valid buffer. */
    cfg.ring_size = 8;
    cfg.indirect = true;
    for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
        g_autofree char *input = NULL;
        struct vring_desc *tab;
        uint64_t tab_gpa, bufs;
        VcRawDesc d;
        unsigned n = lens[i];

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        if (!vc_fe_has_feature(r.t->fe, VIRTIO_RING_F_INDIRECT_DESC)) {
            vc_ctx_skip(ctx, "INDIRECT_DESC was not negotiated");
            break;
        }
        tab = ring_alloc(ctx, &r, n * sizeof(*tab), &tab_gpa, true);
        if (!tab || !ring_alloc(ctx, &r, (uint64_t)n * 16, &bufs, true)) {
            break;
        }
        /* [H] then n - 2 data buffers of 16 bytes then [S]. */
        for (unsigned k = 0; k < n; k++) {
            VcRawDesc e = rd(A(&r, bufs + 16ull * k), 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                             k + 1);
            if (k == 0) {
                e = rd(A(&r, r.h), H_LEN, VRING_DESC_F_NEXT, 1);
            } else if (k == n - 1) {
                e = rd(A(&r, r.s), S_LEN, VRING_DESC_F_WRITE, 0);
            }
            vc_vq_raw_desc(&tab[k], &e);
        }
        d = rd(A(&r, tab_gpa), n * (uint32_t)sizeof(*tab), VRING_DESC_F_INDIRECT, 0);
        input = g_strdup_printf("an indirect table of %u descriptors on a ring of %u", n,
                                r.vq->num);
        if (!ring_input(ctx, &r, input, &d, 1, S_LEN, NULL, 0) || ctx->violated) {
            break;
        }
        done++;
    }
    ring_close(&r);
    note_inputs(ctx, &r, done, "chains longer than the ring");
    return vc_ctx_done(ctx);
}

/* --- VIO-BAD-004: zero-length buffers --------------------------------------------------------- */

static VcVerdict
zero_length_buffers(VcCtx *ctx)
{
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned done = 0;

    cfg.indirect = true;
    for (unsigned i = 0; i < 3; i++) {
        const char *input;
        VcRawDesc d[4];
        unsigned n = 4;
        uint64_t z = 0;
        uint32_t max_len = D_LEN + S_LEN;
        VcRange keep;

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        if (i == 0) {
            /* A zero-length writable buffer in the guard pattern, before real ones. */
            if (!ring_alloc(ctx, &r, 64, &z, false)) {
                break;
            }
            input = "a chain with a zero-length writable descriptor before the data";
        } else if (i == 1) {
            z = 0x7e0000000000ull;
            input = "a chain with a zero-length writable descriptor far outside guest memory";
        } else {
            uint64_t tab_gpa;

            if (!vc_fe_has_feature(r.t->fe, VIRTIO_RING_F_INDIRECT_DESC)) {
                break;
            }
            /* A table of length 0 whose address holds the guard pattern. */
            if (!ring_alloc(ctx, &r, 64, &tab_gpa, false)) {
                break;
            }
            d[0] = rd(A(&r, tab_gpa), 0, VRING_DESC_F_INDIRECT, 0);
            keep = (VcRange){tab_gpa, 64};
            if (!ring_input(ctx, &r, "an indirect descriptor whose table has length 0", d, 1, 0,
                            &keep, 1) || ctx->violated) {
                break;
            }
            done++;
            continue;
        }
        d[0] = rd(A(&r, r.h), H_LEN, VRING_DESC_F_NEXT, 1);
        d[1] = rd(A(&r, z), 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        d[2] = rd(A(&r, r.d), D_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
        d[3] = rd(A(&r, r.s), S_LEN, VRING_DESC_F_WRITE, 0);
        keep = (VcRange){z, 64};
        if (!ring_input(ctx, &r, input, d, n, max_len, i == 0 ? &keep : NULL, i == 0) ||
            ctx->violated) {
            break;
        }
        done++;
    }
    ring_close(&r);
    note_inputs(ctx, &r, done, "chains with zero-length buffers");
    return vc_ctx_done(ctx);
}

/* --- VIO-BAD-005: indirect tables inside indirect tables ------------------------------------ */

static VcVerdict
nested_indirect(VcCtx *ctx)
{
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned done = 0;

    cfg.indirect = true;
    for (unsigned i = 0; i < 2; i++) {
        struct vring_desc *t1, *t2;
        uint64_t t1_gpa, t2_gpa;
        VcRawDesc d, e;
        VcRange keep[2];
        const char *input;

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        if (!vc_fe_has_feature(r.t->fe, VIRTIO_RING_F_INDIRECT_DESC)) {
            vc_ctx_skip(ctx, "INDIRECT_DESC was not negotiated");
            break;
        }
        t1 = ring_alloc(ctx, &r, sizeof(*t1), &t1_gpa, true);
        t2 = ring_alloc(ctx, &r, 3 * sizeof(*t2), &t2_gpa, true);
        if (!t1 || !t2) {
            break;
        }
        /* T2 is a whole request; T1's only entry points at it (or at T1 itself). */
        e = rd(A(&r, r.h), H_LEN, VRING_DESC_F_NEXT, 1);
        vc_vq_raw_desc(&t2[0], &e);
        e = rd(A(&r, r.d), D_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        vc_vq_raw_desc(&t2[1], &e);
        e = rd(A(&r, r.s), S_LEN, VRING_DESC_F_WRITE, 0);
        vc_vq_raw_desc(&t2[2], &e);
        if (i == 0) {
            e = rd(A(&r, t2_gpa), 3 * sizeof(*t2), VRING_DESC_F_INDIRECT, 0);
            input = "an indirect table whose only entry is an indirect descriptor for a second "
                    "table holding header, data and status";
        } else {
            e = rd(A(&r, t1_gpa), sizeof(*t1), VRING_DESC_F_INDIRECT, 0);
            input = "an indirect table whose only entry is an indirect descriptor for the same "
                    "table";
        }
        vc_vq_raw_desc(&t1[0], &e);
        d = rd(A(&r, t1_gpa), sizeof(*t1), VRING_DESC_F_INDIRECT, 0);
        /* The buffers behind the nested table are the driver's, but not for this chain. */
        keep[0] = (VcRange){r.d, D_LEN};
        keep[1] = (VcRange){r.s, S_LEN};
        if (!ring_input(ctx, &r, input, &d, 1, 0, keep, 2) || ctx->violated) {
            break;
        }
        done++;
    }
    ring_close(&r);
    note_inputs(ctx, &r, done, "nested indirect tables");
    return vc_ctx_done(ctx);
}

/* --- VIO-BAD-006: a used index moved by the front end ----------------------------------------- */

static VcVerdict
used_idx_moved(VcCtx *ctx)
{
    /* Far enough that no count of 0, 1 or 2 completions from either start coincides. */
    static const int16_t deltas[] = {100, -50};
    g_autoptr(GString) what = g_string_new(NULL);
    Ring r = {0};
    VcFeConfig cfg = vc_ctx_config(ctx);
    unsigned done = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(deltas); i++) {
        g_autofree char *input = NULL;
        uint16_t u, moved, now;
        Tally tally = {0};
        Outcome o;

        if (!ring_open(ctx, &r, &cfg)) {
            break;
        }
        u = vc_vq_used_idx(r.vq);
        moved = (uint16_t)(u + deltas[i]);
        input = g_strdup_printf("used->idx moved by the front end from %u to %u while the ring "
                                "ran, then 2 requests", u, moved);
        vc_vq_set_used_idx(r.vq, moved);
        vc_traffic_post(r.t, 2);
        vc_vq_kick(r.vq);
        /* Until both are in, whichever count the device keeps, or nothing more happens. */
        for (now = moved;;) {
            Reaction re = watch_ring(r.t, now, vc_chk_quiet_ms());

            now = vc_vq_used_idx(r.vq);
            if (re != REACT_USED || now == (uint16_t)(u + 2) || now == (uint16_t)(moved + 2)) {
                break;
            }
        }
        probe(ctx, r.t->fe, -1, &o);
        if (!judge(ctx, input, &o, false, &tally)) {
            break;
        }
        now = vc_vq_used_idx(r.vq);
        /* virtio 1.2 2.7.8: used->idx is the device's; it counts its own completions. */
        if (now == (uint16_t)(moved + 2) || now == (uint16_t)(moved + 1)) {
            vc_ctx_violation(ctx, "%s: the device published used->idx %u, counting on from the "
                             "moved value instead of its own %u", input, now, (uint16_t)(u + 2));
            break;
        }
        if ((uint16_t)(now - u) > 2 && now != moved) {
            vc_ctx_violation(ctx, "%s: the device published used->idx %u (its own count would "
                             "be %u)", input, now, (uint16_t)(u + 2));
            break;
        }
        if (vc_chk_stray(r.t, (const VcRange *)(void *)r.skip->data, r.skip->len, what)) {
            vc_ctx_violation(ctx, "%s: %s", input, what->str);
            break;
        }
        done++;
    }
    ring_close(&r);
    if (!ctx->violated && !vc_ctx_failed(ctx)) {
        vc_ctx_note(ctx, "%u moves of used->idx were ignored (the device kept its own count) or "
                    "refused; GET_FEATURES answered after each", done);
    }
    return vc_ctx_done(ctx);
}

static const VcCheck checks[] = {
    {"VU-BAD-001", "vhost-user.rst#communication", VC_MUST, 0, 0, 0,
     "unknown request ids (0, 45, 200, 2^31-1, 2^32-1) are refused: no ack of 0, no crash, "
     "no hang", "crash-on-unknown-request", unknown_requests},
    {"VU-BAD-002", "vhost-user.rst#header", VC_MUST, 0, 0, 0,
     "requests whose size does not fit their payload (short, long, 8 KiB, 2 GiB claimed, "
     "nregions beyond the size) are refused without crash or hang", "short-payload-accepted",
     wrong_sizes},
    {"VU-BAD-003", "vhost-user.rst#communication", VC_MUST, 0, 0, 0,
     "requests with a missing fd or extra fds (2, 9) are refused without crash or hang",
     "too-many-fds-abort", fd_counts},
    {"VU-BAD-004", "vhost-user.rst#multiple-queue-support", VC_MUST, 0, 0, 0,
     "ring requests naming a ring beyond the device's (count, 255, 65535, 2^32-1) are refused "
     "without crash or hang", "ring-index-wraps", ring_indexes},
    {"VU-BAD-005", "virtio-v1.2#2.7", VC_MUST, 0, 0, 0,
     "SET_VRING_NUM of 0, 3, 1000, 32769, 65536 or 2^32-1 is refused; a ring used anyway "
     "brings no crash, hang or stray write", "ring-size-any", ring_sizes},
    {"VIO-BAD-001", "virtio-v1.2#2.7.5", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a descriptor outside guest memory (far, straddling the end, in a hole, wrapping 2^64) "
     "is refused, never written or completed", "desc-len-clamped", desc_outside_memory},
    {"VIO-BAD-002", "virtio-v1.2#2.7.5.1", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a looping descriptor chain (direct, self, inside an indirect table) is refused without "
     "hang", "follow-loops", desc_loops},
    {"VIO-BAD-003", "virtio-v1.2#2.7.5.3.1", VC_MUST, VC_F(VIRTIO_RING_F_INDIRECT_DESC), 0,
     VC_CHECK_DATAPATH, "a chain longer than the ring (indirect tables of 9 and 64 on a ring "
     "of 8) is refused without crash or hang", "long-chain-abort", chains_longer_than_ring},
    {"VIO-BAD-004", "virtio-v1.2#2.7.5", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "zero-length buffers (in a chain, outside memory, an empty indirect table) get no byte "
     "written and no length counted", "zero-len-written", zero_length_buffers},
    {"VIO-BAD-005", "virtio-v1.2#2.7.5.3.1", VC_MUST, VC_F(VIRTIO_RING_F_INDIRECT_DESC), 0,
     VC_CHECK_DATAPATH, "an indirect descriptor inside an indirect table is refused, not "
     "followed (to a second table or to itself)", "nested-indirect", nested_indirect},
    {"VIO-BAD-006", "virtio-v1.2#2.7.8", VC_MUST, 0, 0, VC_CHECK_DATAPATH,
     "a used->idx moved by the front end while the ring runs is ignored or refused, not "
     "counted on from", "trust-used-idx", used_idx_moved},
};

const VcCheckArea vc_area_hostile = {"hostile", checks, G_N_ELEMENTS(checks)};
