/*
 * vc-be-state.c -- device-state transfer (vhost-user.rst "Migrating
 * back-end state", SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE), phase 0
 * ("stopped") only.
 *
 * The state is one small blob, all integers little-endian:
 *   0  "VCST"            magic
 *   4  u32 version       1
 *   8  u32 length        bytes of the whole blob, checksum included
 *  12  u32 device id     virtio device id (1 net, 2 blk, 4 rng)
 *  16  u8  status        the virtio status byte (SET_STATUS)
 *  17  u8  nrings        the device's ring count
 *  18  u16 reserved      0
 *  20  u8  enabled[nrings], then zero padding to a multiple of 4
 *   .  u32 dev_len, then dev_len bytes of device data (blk: capacity and
 *      writeback, see ../ref/README.md), zero padding to a multiple of 4
 *   .  u32 crc32         CRC-32 (IEEE 802.3, as zlib) of every byte before it
 *
 * Save puts the blob into a new pipe and answers with its read end (our
 * own channel; the write end is closed, so the reader sees EOF after the
 * blob). Load reads the front end's fd until EOF from the main loop; the blob is checked (every
 * field above, then the device's own check) and applied only when valid;
 * CHECK_DEVICE_STATE answers 0 after a valid load or a save, 1 otherwise.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"

#define STATE_MAGIC   "VCST"
#define STATE_VERSION 1u

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        }
    }
    return ~c;
}

static void
put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

static size_t
pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Returns: the blob length in be->state_buf, or 0 when it does not fit. */
static size_t
state_build(VcBe *be)
{
    uint8_t *b = be->state_buf;
    unsigned nr = be->dev.num_queues;
    size_t pos, dev_len = 0;

    memset(b, 0, VC_BE_STATE_MAX);
    memcpy(b, STATE_MAGIC, 4);
    put32(b + 4, STATE_VERSION);
    put32(b + 12, be->dev.device_id);
    b[16] = be->status;
    b[17] = (uint8_t)nr;
    for (unsigned q = 0; q < nr; q++) {
        b[20 + q] = be->vq[q].enabled ? 1 : 0;
    }
    pos = pad4(20 + nr);
    if (be->dev.state_save) {
        dev_len = be->dev.state_save(be, b + pos + 4, VC_BE_STATE_MAX - pos - 8, be->dev.opaque);
    }
    if (pos + 4 + pad4(dev_len) + 4 > VC_BE_STATE_MAX) {
        return 0;
    }
    put32(b + pos, (uint32_t)dev_len);
    pos += 4 + pad4(dev_len);
    put32(b + 8, (uint32_t)(pos + 4));
    put32(b + pos, crc32_ieee(b, pos));
    return pos + 4;
}

/* Checks every field; applies them when @apply. Returns: 0 or -EINVAL. */
static int
state_parse(VcBe *be, const uint8_t *b, size_t len, bool apply)
{
    unsigned nr;
    size_t pos, dev_len;

    if (len < 28 || memcmp(b, STATE_MAGIC, 4) != 0 || get32(b + 4) != STATE_VERSION ||
        get32(b + 8) != len || get32(b + 12) != be->dev.device_id ||
        get32(b + len - 4) != crc32_ieee(b, len - 4)) {
        return -EINVAL;
    }
    nr = b[17];
    if (nr != be->dev.num_queues || b[18] || b[19]) {
        return -EINVAL;
    }
    pos = pad4(20 + nr);
    if (pos + 8 > len) {
        return -EINVAL;
    }
    for (unsigned q = 0; q < nr; q++) {
        if (b[20 + q] > 1) {
            return -EINVAL;
        }
    }
    dev_len = get32(b + pos);
    if (pos + 4 + pad4(dev_len) + 4 != len) {
        return -EINVAL;
    }
    if (be->dev.state_load &&
        be->dev.state_load(be, b + pos + 4, dev_len, apply, be->dev.opaque) < 0) {
        return -EINVAL;
    }
    if (!be->dev.state_load && dev_len != 0) {
        return -EINVAL;
    }
    if (apply) {
        be->status = b[16];
        for (unsigned q = 0; q < nr; q++) {
            be->vq[q].enabled = b[20 + q] == 1;
        }
    }
    return 0;
}

static void
finish_load(VcBe *be)
{
    bool ok = !be->state_overflow && state_parse(be, be->state_buf, be->state_len, false) == 0;

    vc_be_close_fd(&be->state_fd);
    be->state_loading = false;
    if (ok && be->mutant != VC_MUT_STATE_LOAD_IGNORED) {
        (void)state_parse(be, be->state_buf, be->state_len, true);
        if (be->mutant == VC_MUT_RESTORE_REPLAYS_USED) {
            for (unsigned q = 0; q < be->dev.num_queues; q++) {
                be->vq[q].replay_armed = true;
            }
        }
    }
    be->state_result = ok ? 0 : 1;
    vc_be_log(be, "device state load of %zu bytes: %s", be->state_len, ok ? "valid" : "INVALID");
    if (!ok) {
        vc_be_note(be, "device state load: %zu bytes, not a valid state", be->state_len);
    }
}

void
vc_be_state_read(VcBe *be)
{
    for (;;) {
        uint8_t sink[512];
        size_t room = VC_BE_STATE_MAX - be->state_len;
        ssize_t n;

        if (room == 0) {
            /* Too large to be ours: keep reading to EOF, then fail. */
            be->state_overflow = true;
            n = read(be->state_fd, sink, sizeof(sink));
        } else {
            n = read(be->state_fd, be->state_buf + be->state_len, room);
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            if (n < 0) {
                be->state_overflow = true;
            }
            finish_load(be);
            return;
        }
        if (room) {
            be->state_len += (size_t)n;
        }
    }
}

/* Writes the whole blob within a deadline; a pipe of 64 KiB never makes it wait. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
    int64_t deadline = vc_now_ms() + VC_BE_STATE_WAIT_MS;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int64_t left = deadline - vc_now_ms();

            if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
                return -ETIMEDOUT;
            }
            continue;
        }
        if (w <= 0) {
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void
vc_be_state_reset(VcBe *be)
{
    vc_be_close_fd(&be->state_fd);
    vc_be_close_fd(&be->state_kept_fd);
    be->state_loading = false;
    be->state_len = 0;
    be->state_overflow = false;
    be->state_result = 0;
}

/*
 * vhost-user.rst SET_DEVICE_STATE_FD: bits 0..7 of the u64 reply are 0 on
 * success; bit 8 says no fd comes back (a load uses the front end's).
 */
void
vc_be_state_set_fd(VcBe *be, VcMsg *m, VcMsg *reply)
{
    uint32_t dir = m->payload.transfer_state.direction;
    uint32_t phase = m->payload.transfer_state.phase;
    int fd = vc_msg_take_fd(m, 0);
    size_t len;

    reply->hdr.size = sizeof(uint64_t);
    if (phase != VHOST_TRANSFER_STATE_PHASE_STOPPED ||
        (dir != VHOST_TRANSFER_STATE_DIRECTION_SAVE && dir != VHOST_TRANSFER_STATE_DIRECTION_LOAD)) {
        vc_be_note(be, "SET_DEVICE_STATE_FD: direction %u phase %u not supported", dir, phase);
        if (be->mutant == VC_MUT_STATE_ERROR_WITH_FD && fd >= 0) {
            /* Mutant: an error and an fd at once. */
            reply->payload.u64 = 1;
            reply->fds[0] = fd;
            reply->nfds = 1;
            return;
        }
        vc_be_close_fd(&fd);
        reply->payload.u64 = 1 | VHOST_USER_DEVICE_STATE_NOFD_MASK;
        return;
    }
    vc_be_state_reset(be);
    if (fd < 0) {
        reply->payload.u64 = 1 | VHOST_USER_DEVICE_STATE_NOFD_MASK;
        return;
    }
    if (dir == VHOST_TRANSFER_STATE_DIRECTION_LOAD) {
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        be->state_fd = fd;
        be->state_loading = true;
        be->state_result = 1;
        reply->payload.u64 = VHOST_USER_DEVICE_STATE_NOFD_MASK;
        return;
    }
    /*
     * A save answers with our own channel (vhost-user.rst: the front end
     * must then use it): the read end of a new pipe that already holds the
     * whole state, its write end closed (EOF). The front end's fd is not
     * used.
     */
    len = state_build(be);
    vc_be_close_fd(&fd);
    {
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0) {
            reply->payload.u64 = 1 | VHOST_USER_DEVICE_STATE_NOFD_MASK;
            be->state_result = 1;
            return;
        }
        (void)fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
        be->state_result = (len && write_all(p[1], be->state_buf, len) == 0) ? 0 : 1;
        if (be->mutant == VC_MUT_STATE_WRONG_END) {
            /* Mutant: the end handed over is the write end, which cannot be read. */
            reply->fds[0] = p[1];
            close(p[0]);
        } else {
            reply->fds[0] = p[0];
            if (be->mutant == VC_MUT_STATE_NO_EOF) {
                be->state_kept_fd = p[1];   /* Mutant: never closed, no EOF. */
            } else {
                close(p[1]);
            }
        }
        reply->nfds = 1;
        reply->payload.u64 = 0;
    }
}

uint64_t
vc_be_state_check(VcBe *be)
{
    int64_t deadline = vc_now_ms() + VC_BE_STATE_WAIT_MS;

    while (be->state_loading) {
        int64_t left = deadline - vc_now_ms();

        if (left <= 0 || vc_wait_readable(be->state_fd, (int)left) <= 0) {
            vc_be_note(be, "CHECK_DEVICE_STATE: the state did not end within %d ms",
                       VC_BE_STATE_WAIT_MS);
            vc_be_close_fd(&be->state_fd);
            be->state_loading = false;
            be->state_result = 1;
            break;
        }
        vc_be_state_read(be);
    }
    if (be->mutant == VC_MUT_CHECK_STATE_OK_ON_GARBAGE) {
        return 0;
    }
    return (uint64_t)be->state_result;
}
