/*
 * net.c -- the virtio-net device as a vhost-user back end serves it.
 * virtio 1.x 5.1 (network device: headers, merged receive buffers,
 * multiqueue), vhost-user.rst "Ring states" (a disabled ring in each
 * direction), "Multiple queue support" and SEND_RARP.
 *
 * Where frames went is learnt in one of two ways: a loopback back end
 * (vhost-user-net-ref) returns every frame transmitted on pair p on the
 * receive queue of pair p, where the tag of each frame identifies it; a
 * switch such as dpdk-testpmd counts them, and its periodic statistics
 * (app/test-pmd/config.c nic_stats_display(), printed every second with
 * --stats-period 1 and flushed) are read from its log in the daemon's
 * temporary directory. A daemon that offers neither makes a check SKIP.
 */
#include <string.h>

#include "vc-chk.h"
#include "vc-drv-net.h"
#include "vc-error.h"
#include "vc-msg-table.h"

#define M 16            /* frames per round */
#define MQ_PAIRS 4      /* queue pairs the multiqueue check drives at most */
#define LOOP_MS 500     /* a loopback returns a frame well within this */

/* --- testpmd's log ---------------------------------------------------------------------- */

/* testpmd's port counters as its periodic statistics print them. */
typedef struct PmdLog {
    char *path;
    goffset pos;        /* bytes parsed */
    GString *line;      /* an unfinished last line */
    bool in_block;      /* inside "NIC statistics for port 0" */
    bool have;          /* the log has carried counters */
    bool txonly;        /* "Set txonly packet forwarding mode": it never reads the guest's TX */
    unsigned blocks;    /* statistics blocks seen */
    uint64_t rx;        /* RX-packets of port 0 in the last block */
} PmdLog;

static void
pmd_line(PmdLog *l, const char *s)
{
    const char *p;

    if (strstr(s, "Set txonly packet forwarding mode")) {
        l->txonly = true;
    } else if (strstr(s, "NIC statistics for port 0 ")) {
        l->in_block = true;
    } else if (l->in_block && (p = strstr(s, "RX-packets:"))) {
        l->rx = g_ascii_strtoull(p + strlen("RX-packets:"), NULL, 10);
        l->have = true;
        l->blocks++;
        l->in_block = false;
    }
}

/* Parses what the daemon wrote since the last call. */
static void
pmd_poll(PmdLog *l)
{
    char buf[16384];
    FILE *f;
    size_t n;

    if (!l->path || !(f = fopen(l->path, "r"))) {
        return;
    }
    if (fseeko(f, l->pos, SEEK_SET) == 0) {
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
            l->pos += (goffset)n;
            for (size_t i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                    pmd_line(l, l->line->str);
                    g_string_truncate(l->line, 0);
                } else if (l->line->len < 4096) {
                    g_string_append_c(l->line, buf[i]);
                }
            }
        }
    }
    fclose(f);
}

static void
pmd_open(VcCtx *ctx, PmdLog *l)
{
    VcDaemon *dm = ctx->ops->daemon(ctx->runner);
    const char *dir = dm ? vc_daemon_tmpdir(dm) : NULL;

    memset(l, 0, sizeof(*l));
    l->line = g_string_new(NULL);
    if (dir) {
        l->path = g_build_filename(dir, "daemon.log", NULL);
    }
    pmd_poll(l);
}

static void
pmd_close(PmdLog *l)
{
    g_free(l->path);
    g_string_free(l->line, TRUE);
}

/*
 * Waits for two more statistics blocks, so that the last one was read after
 * everything that happened before the call. Returns: false when none came.
 */
static bool
pmd_fresh(PmdLog *l, VcFrontend *fe)
{
    unsigned b0;
    int64_t deadline = g_get_monotonic_time() + 4 * G_USEC_PER_SEC;

    pmd_poll(l);
    if (!l->have) {
        return false;
    }
    b0 = l->blocks;
    while (l->blocks < b0 + 2 && g_get_monotonic_time() < deadline) {
        g_usleep(100 * 1000);
        vc_fe_service(fe, 0);
        pmd_poll(l);
    }
    return l->blocks >= b0 + 2;
}

/* --- Traffic helpers ----------------------------------------------------------------------- */

typedef enum Until { UNTIL_FRAMES, UNTIL_OURS, UNTIL_RARP, UNTIL_MULTI } Until;

static uint64_t
stat_of(const VcNetRxStats *s, Until u)
{
    switch (u) {
    case UNTIL_FRAMES:
        return s->frames;
    case UNTIL_OURS:
        return s->ours;
    case UNTIL_RARP:
        return s->rarp;
    case UNTIL_MULTI:
        return s->multi;
    }
    return 0;
}

/*
 * Keeps every receive buffer of pair @p posted while reaping both
 * directions, until the counter @u reaches @target or @ms passed.
 * Returns: true when it did.
 */
static bool
pump_to(VcNetDrv *d, unsigned p, Until u, uint64_t target, int ms)
{
    VcNetQueue *q = vc_net_rxq(d, p);
    int64_t deadline = g_get_monotonic_time() / 1000 + ms;

    for (;;) {
        vc_net_rx_reap(d, p);
        vc_net_tx_reap(d, p);
        if (stat_of(&q->rx, u) >= target) {
            return true;
        }
        if (vc_net_rx_post(d, p, q->n)) {
            vc_vq_notify(q->vq);
        }
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        if (left <= 0) {
            return false;
        }
        if (q->vq->call_fd >= 0) {
            vc_vq_wait_call(q->vq, (int)MIN(left, 5));
        } else {
            g_usleep(200);
        }
        vc_fe_service(d->fe, 0);
    }
}

/* pump_to() for @want more than the counter holds now. */
static bool
pump(VcNetDrv *d, unsigned p, Until u, uint64_t want, int ms)
{
    return pump_to(d, p, u, stat_of(&vc_net_rxq(d, p)->rx, u) + want, ms);
}

/* Sends @n frames of @len bytes on pair @p, kicks, waits up to @ms. Returns: completions. */
static uint64_t
tx_round(VcNetDrv *d, unsigned p, unsigned n, uint32_t len, int ms)
{
    VcNetQueue *tq = vc_net_txq(d, p);
    uint64_t c0 = tq->tx.completed;
    unsigned sent = vc_net_tx_send(d, p, n, len);

    vc_vq_notify(tq->vq);
    vc_net_wait(d, p, 0, sent, ms);
    return tq->tx.completed - c0;
}

/* Posts every receive buffer of pair @p and kicks. */
static void
rx_fill(VcNetDrv *d, unsigned p)
{
    VcNetQueue *q = vc_net_rxq(d, p);

    vc_net_rx_post(d, p, q->n);
    vc_vq_notify(q->vq);
}

/* Connects, starts in the profile's order and creates a driver over @npairs pairs. */
static VcNetDrv *
net_open(VcCtx *ctx, VcFeConfig *cfg, unsigned npairs, const VcNetConfig *ncfg)
{
    VcFrontend *fe;
    VcNetDrv *d;

    cfg->num_queues = 2 * npairs;
    fe = vc_ctx_open(ctx, cfg, true);
    if (!fe) {
        return NULL;
    }
    d = vc_net_new(fe, 0, npairs, ncfg, VC_ERR(ctx));
    if (!vc_ctx_try(ctx, d != NULL)) {
        return NULL;
    }
    return d;
}

/* --- Checks -------------------------------------------------------------------------------- */

static VcVerdict
tx_frames_delivered(VcCtx *ctx)
{
    static const uint32_t sizes[] = {60, 64, 128, 1000, 1514};
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcNetDrv) d = net_open(ctx, &cfg, 1, NULL);
    VcNetQueue *rq;
    PmdLog log;
    uint64_t done = 0, v0 = 0, want = M * G_N_ELEMENTS(sizes), ours0;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    rq = vc_net_rxq(d, 0);
    ours0 = rq->rx.ours;
    rx_fill(d, 0);
    pmd_open(ctx, &log);
    if (pmd_fresh(&log, d->fe)) {
        v0 = log.rx;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        done += tx_round(d, 0, M, sizes[i], vc_ctx_wait_ms(ctx));
    }
    if (done < want) {
        if (log.txonly) {
            vc_ctx_skip(ctx, "testpmd runs in txonly mode: it never reads what the front end "
                        "transmits (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " used)", done,
                        want);
        } else {
            vc_ctx_violation(ctx, "only %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames on "
                             "transmitq1 were used within %d ms", done, want,
                             vc_ctx_wait_ms(ctx));
        }
        goto out;
    }
    vc_expect(ctx, vc_net_txq(d, 0)->tx.bad_id == 0, "transmitq1: %" G_GUINT64_FORMAT " used "
              "element(s) named no chain in flight", vc_net_txq(d, 0)->tx.bad_id);
    if (pump_to(d, 0, UNTIL_OURS, ours0 + 1, LOOP_MS)) {
        /* A loopback: every frame must come back as it was sent. */
        pump_to(d, 0, UNTIL_OURS, ours0 + want, vc_ctx_wait_ms(ctx));
        vc_expect(ctx, rq->rx.corrupt == 0, "a frame came back changed: %s", rq->rx.first_fault);
        vc_expect(ctx, rq->rx.ours - ours0 == want, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " frames came back through the loopback", rq->rx.ours - ours0, want);
        if (!ctx->violated) {
            vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " frames of 60..1514 bytes transmitted, all "
                        "returned intact by the loopback", want);
        }
    } else if (pmd_fresh(&log, d->fe)) {
        vc_expect(ctx, log.rx - v0 >= want, "testpmd counted %" G_GUINT64_FORMAT " of the %"
                  G_GUINT64_FORMAT " frames the device used (RX-packets %" G_GUINT64_FORMAT
                  " -> %" G_GUINT64_FORMAT ")", log.rx - v0, want, v0, log.rx);
        if (!ctx->violated) {
            vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " frames of 60..1514 bytes transmitted, "
                        "testpmd's RX-packets grew by %" G_GUINT64_FORMAT, want, log.rx - v0);
        }
    } else {
        vc_ctx_skip(ctx, "inconclusive: the frames were used, but nothing came back and the "
                    "daemon's log carries no counters to say where they went");
    }
out:
    pmd_close(&log);
    return vc_ctx_done(ctx);
}

/* Receives frames (feeding a loopback) and judges every one. */
static VcVerdict
rx_judged(VcCtx *ctx, VcFeConfig *cfg, const VcNetConfig *ncfg, uint32_t feed_len,
          const char *what)
{
    g_autoptr(VcNetDrv) d = net_open(ctx, cfg, 1, ncfg);
    VcNetQueue *rq;
    const VcNetRxStats *st;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    rq = vc_net_rxq(d, 0);
    st = &rq->rx;
    rx_fill(d, 0);
    /* Something for a loopback to return; a switch counts or ignores it. */
    vc_net_tx_send(d, 0, M, feed_len);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    pump_to(d, 0, UNTIL_FRAMES, 2 * M, vc_ctx_wait_ms(ctx));
    if (st->frames == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon delivered no frame (it has no traffic "
                           "for the guest; dpdk-testpmd-txonly or a loopback has)");
    }
    if (st->hdr_bad) {
        vc_ctx_violation(ctx, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames: %s",
                         st->hdr_bad, st->frames, st->first_fault);
    }
    vc_expect(ctx, !st->over_cap && !st->merge_bad && !st->corrupt && !st->runts &&
              !st->bad_id, "%s", st->first_fault[0] ? st->first_fault : "a bad used element id");
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " frames (%" G_GUINT64_FORMAT " ours, %"
                    G_GUINT64_FORMAT " foreign), %u..%u bytes, max num_buffers %u: %s",
                    st->frames, st->ours, st->foreign, st->min_len, st->max_len,
                    st->max_num_buffers, what);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
rx_header_valid(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);

    return rx_judged(ctx, &cfg, NULL, 64, "every header well formed, no frame under 60 bytes");
}

static VcVerdict
rx_without_mrg(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcNetConfig ncfg = {.rx_hdr_apart = true};

    /* A driver that does not ack MRG_RXBUF; the header in a descriptor of its own. */
    cfg.driver_features &= ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
    return rx_judged(ctx, &cfg, &ncfg, 64, "MRG_RXBUF not negotiated: one buffer per frame, "
                     "num_buffers 1, header in its own descriptor");
}

static VcVerdict
rx_merged(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    /* 40 bytes of frame per buffer: a 64-byte frame takes two, a 300-byte one eight. */
    VcNetConfig ncfg = {.rx_buf_len = VC_NET_HDR_LEN + 40};
    g_autoptr(VcNetDrv) d = NULL;
    const VcNetRxStats *st;

    cfg.driver_features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
    d = net_open(ctx, &cfg, 1, &ncfg);
    if (!d) {
        return vc_ctx_done(ctx);
    }
    if (!d->mrg) {
        return vc_ctx_skip(ctx, "MRG_RXBUF was not negotiated");
    }
    st = &vc_net_rxq(d, 0)->rx;
    rx_fill(d, 0);
    vc_net_tx_send(d, 0, M, 300);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    pump_to(d, 0, UNTIL_MULTI, M, vc_ctx_wait_ms(ctx));
    if (st->frames == 0) {
        return vc_ctx_skip(ctx, "inconclusive: the daemon delivered no frame into 52-byte "
                           "buffers (it has no traffic for the guest, or cannot merge)");
    }
    vc_expect(ctx, st->hdr_bad == 0, "%s", st->first_fault);
    vc_expect(ctx, !st->over_cap && !st->merge_bad && !st->corrupt && !st->bad_id, "%s",
              st->first_fault[0] ? st->first_fault : "a bad used element id");
    vc_expect(ctx, st->multi > 0, "%" G_GUINT64_FORMAT " frames arrived, none spread over more "
              "than one 52-byte buffer (lengths %u..%u)", st->frames, st->min_len, st->max_len);
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%" G_GUINT64_FORMAT " frames over 52-byte buffers, %" G_GUINT64_FORMAT
                    " merged (up to %u buffers), num_buffers and used lengths consistent",
                    st->frames, st->multi, st->max_num_buffers);
    }
    return vc_ctx_done(ctx);
}

static VcVerdict
every_pair_works(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    VcStep before[48], after[48];
    unsigned nb = 0, na = 0, npairs;
    uint64_t consumed[MQ_PAIRS] = {0}, total = 0, v0 = 0;
    g_autoptr(VcNetDrv) d = NULL;
    g_autoptr(GString) fine = g_string_new(NULL);
    VcFrontend *fe;
    PmdLog log;
    bool loop, seen = false;

    /*
     * QEMU's vhost-user net reads GET_QUEUE_NUM as queue pairs: net/vhost-user.c
     * refuses "-netdev queues=N" above it, N counting pairs, and DPDK answers
     * VHOST_MAX_QUEUE_PAIRS. So the profile's own GET_QUEUE_NUM step (which
     * counts rings) is replaced by one here, and the rings set up at connect
     * follow its answer.
     */
    cfg.num_queues = 2 * MQ_PAIRS;
    fe = vc_ctx_connect(ctx, &cfg);
    if (!fe) {
        return vc_ctx_done(ctx);
    }
    for (const VcStep *s = fe->profile->init;
         *s != VC_STEP_END && nb + na < G_N_ELEMENTS(after) - 1; s++) {
        if (*s == VC_STEP_GET_QUEUE_NUM) {
            seen = true;
        } else if (!seen) {
            before[nb++] = *s;
        } else {
            after[na++] = *s;
        }
    }
    before[nb] = after[na] = VC_STEP_END;
    VC_TRY(ctx, vc_fe_run_steps(fe, before, VC_ERR(ctx)));
    vc_require(ctx, fe->features_offered & (1ull << VIRTIO_NET_F_MQ),
               "the daemon does not offer VIRTIO_NET_F_MQ");
    vc_require(ctx, vc_fe_has_pfeature(fe, VHOST_USER_PROTOCOL_F_MQ),
               "protocol feature MQ was not negotiated");
    VC_TRY(ctx, vc_fe_simple(fe, VHOST_USER_GET_QUEUE_NUM, 0, false, &fe->queue_num,
                             VC_ERR(ctx)));
    vc_require(ctx, fe->queue_num >= 2, "GET_QUEUE_NUM answered %" G_GUINT64_FORMAT
               ": one queue pair", fe->queue_num);
    npairs = (unsigned)MIN(fe->queue_num, (uint64_t)MQ_PAIRS);
    fe->num_queues = 2 * npairs;
    VC_TRY(ctx, vc_fe_run_steps(fe, after, VC_ERR(ctx)));
    VC_TRY(ctx, vc_fe_start(fe, VC_ERR(ctx)));
    d = vc_net_new(fe, 0, npairs, NULL, VC_ERR(ctx));
    VC_TRY(ctx, d != NULL);

    pmd_open(ctx, &log);
    if (pmd_fresh(&log, fe)) {
        v0 = log.rx;
    }
    for (unsigned p = 0; p < npairs; p++) {
        rx_fill(d, p);
    }
    for (unsigned p = 0; p < npairs; p++) {
        vc_net_tx_send(d, p, M, 64);
        vc_vq_notify(vc_net_txq(d, p)->vq);
    }
    for (unsigned p = 0; p < npairs; p++) {
        vc_net_wait(d, p, 0, M, p == 0 ? vc_ctx_wait_ms(ctx) : 300);
        consumed[p] = vc_net_txq(d, p)->tx.completed;
        total += consumed[p];
    }
    if (consumed[0] < M) {
        vc_ctx_skip(ctx, "inconclusive: even transmitq1 used %" G_GUINT64_FORMAT " of %u frames%s",
                    consumed[0], M, log.txonly ? " (testpmd txonly never reads them)" : "");
        goto out;
    }
    for (unsigned p = 1; p < npairs; p++) {
        vc_expect(ctx, consumed[p] == M, "GET_QUEUE_NUM announced %" G_GUINT64_FORMAT " queue "
                  "pairs, but transmitq%u used %" G_GUINT64_FORMAT " of %u frames (transmitq1 "
                  "used all)", fe->queue_num, p + 1, consumed[p], M);
    }
    loop = pump_to(d, 0, UNTIL_OURS, 1, LOOP_MS);
    for (unsigned p = 0; loop && p < npairs; p++) {
        VcNetQueue *rq = vc_net_rxq(d, p);
        pump_to(d, p, UNTIL_OURS, consumed[p], LOOP_MS);
        vc_expect(ctx, rq->rx.ours == consumed[p] && rq->rx.wrong_pair == 0 && !rq->rx.corrupt,
                  "receiveq%u got %" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT " frames sent "
                  "on transmitq%u (%" G_GUINT64_FORMAT " from another pair, %" G_GUINT64_FORMAT
                  " corrupt)", p + 1, rq->rx.ours, consumed[p], p + 1, rq->rx.wrong_pair,
                  rq->rx.corrupt);
    }
    if (!loop && pmd_fresh(&log, fe)) {
        vc_expect(ctx, log.rx - v0 >= total, "testpmd counted %" G_GUINT64_FORMAT " of the %"
                  G_GUINT64_FORMAT " frames the transmit queues used", log.rx - v0, total);
    }
    for (unsigned p = 0; p < npairs; p++) {
        g_string_append_printf(fine, "%s%" G_GUINT64_FORMAT, p ? "/" : "", consumed[p]);
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "GET_QUEUE_NUM %" G_GUINT64_FORMAT " (pairs); %u pairs driven, frames "
                    "used per transmitq %s%s", fe->queue_num, npairs, fine->str,
                    loop ? ", each returned on its own pair" : "");
    }
out:
    pmd_close(&log);
    return vc_ctx_done(ctx);
}

static VcVerdict
disabled_tx_drops(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcNetDrv) d = net_open(ctx, &cfg, 1, NULL);
    VcNetQueue *rq;
    PmdLog log;
    uint64_t c, ours0, v0 = 0;
    bool loop;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    rq = vc_net_rxq(d, 0);
    ours0 = rq->rx.ours;
    rx_fill(d, 0);
    pmd_open(ctx, &log);
    /* Enabled first: the ring must be processed at all for the rule to say anything. */
    c = tx_round(d, 0, M, 64, vc_ctx_wait_ms(ctx));
    if (c < M) {
        vc_ctx_skip(ctx, "inconclusive: an enabled transmitq1 used %" G_GUINT64_FORMAT " of %u "
                    "frames%s", c, M, log.txonly ? " (testpmd txonly never reads them)" : "");
        goto out;
    }
    loop = pump_to(d, 0, UNTIL_OURS, ours0 + 1, LOOP_MS);
    pump_to(d, 0, UNTIL_OURS, ours0 + M, LOOP_MS);
    if (!vc_ctx_try(ctx, vc_fe_set_vring_enable(d->fe, 1, false, VC_ERR(ctx))) ||
        !vc_ctx_settle(ctx, d->fe, 0)) {
        goto out;
    }
    if (!loop && pmd_fresh(&log, d->fe)) {
        v0 = log.rx;
    }
    ours0 = rq->rx.ours;
    c = tx_round(d, 0, M, 64, vc_ctx_wait_ms(ctx));
    vc_expect(ctx, c == M, "only %" G_GUINT64_FORMAT " of %u frames on the disabled transmitq1 "
              "were used: a started but disabled ring is still processed, its frames "
              "discarded", c, M);
    pump_to(d, 0, UNTIL_OURS, ours0 + 1, LOOP_MS);
    if (loop) {
        vc_expect(ctx, rq->rx.ours == ours0, "%" G_GUINT64_FORMAT " frames from the disabled "
                  "transmitq1 came back through the loopback: they must be dropped",
                  rq->rx.ours - ours0);
    } else if (pmd_fresh(&log, d->fe)) {
        vc_expect(ctx, log.rx == v0, "testpmd counted %" G_GUINT64_FORMAT " frames from the "
                  "disabled transmitq1: they must be dropped", log.rx - v0);
    } else if (!ctx->violated) {
        vc_ctx_skip(ctx, "the disabled ring's frames were used, but nothing tells whether they "
                    "were dropped (no loopback, no counters in the log)");
        goto out;
    }
    if (!ctx->violated) {
        vc_ctx_note(ctx, "%u frames on the disabled transmitq1 used and dropped (%s)", M,
                    loop ? "none came back" : "testpmd counted none");
    }
out:
    pmd_close(&log);
    return vc_ctx_done(ctx);
}

static VcVerdict
disabled_rx_untouched(VcCtx *ctx)
{
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcNetDrv) d = net_open(ctx, &cfg, 1, NULL);
    VcNetQueue *rq;
    uint16_t used0, used1;
    unsigned touched;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    rq = vc_net_rxq(d, 0);
    rx_fill(d, 0);
    vc_net_tx_send(d, 0, M, 64);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    if (!pump(d, 0, UNTIL_FRAMES, 1, vc_ctx_wait_ms(ctx))) {
        return vc_ctx_skip(ctx, "inconclusive: nothing arrived on the enabled receiveq1 (the "
                           "daemon has no traffic for the guest)");
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(d->fe, 0, false, VC_ERR(ctx)));
    if (!vc_ctx_settle(ctx, d->fe, 0)) {
        return vc_ctx_done(ctx);
    }
    /* What was under way when the ring was disabled lands now; then fresh buffers. */
    g_usleep(50 * 1000);
    vc_net_rx_reap(d, 0);
    vc_net_tx_reap(d, 0);
    vc_net_rx_post(d, 0, rq->n);
    vc_vq_kick(rq->vq);
    used0 = vc_vq_used_idx(rq->vq);
    vc_net_tx_send(d, 0, M, 64);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    g_usleep((gulong)MAX(3 * vc_chk_quiet_ms(), 300) * 1000);
    if (!vc_ctx_settle(ctx, d->fe, 0)) {
        return vc_ctx_done(ctx);
    }
    used1 = vc_vq_used_idx(rq->vq);
    touched = vc_net_rx_touched(d, 0);
    vc_expect(ctx, used1 == used0 && touched == 0, "receiveq1 disabled: the used index moved "
              "from %u to %u and %u posted buffer(s) were written: a disabled receive ring gets "
              "no new frames", used0, used1, touched);
    if (ctx->violated) {
        return vc_ctx_done(ctx);
    }
    VC_TRY(ctx, vc_fe_set_vring_enable(d->fe, 0, true, VC_ERR(ctx)));
    vc_vq_kick(rq->vq);
    vc_net_tx_send(d, 0, M, 64);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    if (!pump(d, 0, UNTIL_FRAMES, 1, vc_ctx_wait_ms(ctx))) {
        return vc_ctx_skip(ctx, "inconclusive: nothing arrived after receiveq1 was enabled "
                           "again either");
    }
    vc_ctx_note(ctx, "no frame while receiveq1 was disabled; frames again once enabled");
    return vc_ctx_done(ctx);
}

static VcVerdict
rarp_broadcast(VcCtx *ctx)
{
    static const uint8_t mac[6] = {0x02, 0x76, 0x63, 0xaa, 0xbb, 0xcc};
    VcFeConfig cfg = vc_ctx_config(ctx);
    g_autoptr(VcNetDrv) d = net_open(ctx, &cfg, 1, NULL);
    const VcNetRxStats *st;
    PmdLog log;
    uint64_t u64 = 0, v0 = 0;
    bool loop;

    if (!d) {
        return vc_ctx_done(ctx);
    }
    st = &vc_net_rxq(d, 0)->rx;
    rx_fill(d, 0);
    /* Does what the guest sends come back (a loopback)? Then a broadcast must too. */
    vc_net_tx_send(d, 0, 4, 64);
    vc_vq_notify(vc_net_txq(d, 0)->vq);
    loop = pump_to(d, 0, UNTIL_OURS, st->ours + 1, LOOP_MS);
    pmd_open(ctx, &log);
    if (pmd_fresh(&log, d->fe)) {
        v0 = log.rx;
    }
    memcpy(&u64, mac, sizeof(mac));
    if (!vc_ctx_try(ctx, vc_fe_simple(d->fe, VHOST_USER_SEND_RARP, u64, true, NULL,
                                      VC_ERR(ctx)))) {
        goto out;
    }
    if (pump_to(d, 0, UNTIL_RARP, 1, log.have ? LOOP_MS : vc_ctx_wait_ms(ctx))) {
        vc_expect(ctx, memcmp(st->rarp_mac, mac, 6) == 0, "the RARP frame names %02x:%02x:%02x:"
                  "%02x:%02x:%02x, not the MAC sent with SEND_RARP", st->rarp_mac[0],
                  st->rarp_mac[1], st->rarp_mac[2], st->rarp_mac[3], st->rarp_mac[4],
                  st->rarp_mac[5]);
        if (!ctx->violated) {
            vc_ctx_note(ctx, "a RARP frame for 02:76:63:aa:bb:cc arrived on receiveq1");
        }
    } else if (loop) {
        vc_ctx_violation(ctx, "SEND_RARP was acked but no RARP frame arrived within %d ms, "
                         "although every frame the guest sends comes back on receiveq1",
                         vc_ctx_wait_ms(ctx));
    } else if (log.have && !log.txonly && pmd_fresh(&log, d->fe)) {
        vc_expect(ctx, log.rx > v0, "after SEND_RARP nothing reached the network: testpmd's "
                  "RX-packets stayed at %" G_GUINT64_FORMAT " and no RARP frame arrived",
                  log.rx);
        if (!ctx->violated) {
            vc_ctx_note(ctx, "testpmd counted %" G_GUINT64_FORMAT " frame(s) after SEND_RARP "
                        "(their content is not visible from here)", log.rx - v0);
        }
    } else {
        vc_ctx_skip(ctx, "inconclusive: no RARP frame came to the guest and the daemon's log "
                    "has no counters of its own side%s",
                    log.txonly ? " (testpmd txonly never reads its guest side)" : "");
    }
out:
    pmd_close(&log);
    return vc_ctx_done(ctx);
}

#define NET VC_CHECK_DATAPATH

static const VcCheck checks[] = {
    {"VIO-NET-001", "virtio-v1.2#network-device", VC_MUST, 0, 0, NET,
     "every frame transmitted (60..1514 bytes) is used once and reaches the network intact",
     "net:net-tx-drop", tx_frames_delivered, "net"},
    {"VIO-NET-002", "virtio-v1.2#network-device", VC_MUST, 0, 0, NET,
     "received frames start with a well-formed virtio_net_hdr and hold at least 60 bytes",
     "net:net-bad-hdr", rx_header_valid, "net"},
    {"VIO-NET-003", "virtio-v1.2#network-device", VC_MUST, 0, 0, NET,
     "without MRG_RXBUF every frame fills one buffer and num_buffers is 1",
     "net:net-nb-unset", rx_without_mrg, "net"},
    {"VIO-NET-004", "virtio-v1.2#network-device", VC_MUST, 0, 0, NET,
     "with MRG_RXBUF a frame spreads over small buffers and num_buffers counts them",
     "net:net-mrg-count", rx_merged, "net"},
    {"VIO-NET-005", "vhost-user.rst#multiple-queue-support", VC_MUST, VC_F_PROTO,
     VC_PF(MQ), NET,
     "every queue pair below GET_QUEUE_NUM (pairs, as QEMU reads it) carries traffic",
     "net:net-mq-one-pair", every_pair_works, "net"},
    {"VIO-NET-006", "vhost-user.rst#ring-states", VC_MUST, VC_F_PROTO, 0, NET,
     "a started but disabled transmit ring is processed: frames used and dropped",
     "net:net-disabled-tx-stall", disabled_tx_drops, "net"},
    {"VIO-NET-007", "vhost-user.rst#ring-states", VC_MUST, VC_F_PROTO, 0, NET,
     "a started but disabled receive ring gets no new frames", "net:ignore-disable",
     disabled_rx_untouched, "net"},
    {"VU-NET-01", "vhost-user.rst#front-end-message-types", VC_MUST, VC_F_PROTO, VC_PF(RARP),
     NET, "SEND_RARP broadcasts a RARP frame for the MAC it carries", "net:rarp-ignored",
     rarp_broadcast, "net"},
};

const VcCheckArea vc_area_net = {"net", checks, G_N_ELEMENTS(checks)};
