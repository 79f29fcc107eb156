/*
 * bench-engine.c -- one case against one daemon: set-up, the measuring
 * loop, tear-down.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/fuse.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "bench-engine.h"
#include "bench-hist.h"
#include "vc-drv-blk.h"
#include "vc-drv-fs.h"
#include "vc-error.h"
#include "vc-frontend.h"

#define MAX_RINGS      16
#define NET_HDR        12u       /* struct virtio_net_hdr_v1 (VERSION_1) */
#define NET_RX_BUF     2048u     /* header included: what a DPDK mbuf offers */
#define FS_FILES       16u
#define FS_UNIQUE_BASE 0x100000u

/* One request of the pool: its chain is built once, before the clock starts. */
typedef struct Slot {
    VcSg sg[3];                /* first: a one-buffer slot is its own VcSg (vc_vq_add_bufs()) */
    uint64_t t_post;           /* ticks when its batch was made available */
    uint8_t n_out, n_in;
    uint32_t bytes;            /* payload counted when it completes (unless the ring counts used.len) */
    uint64_t *sector;          /* blk: our pointer to the header's sector field */
    uint32_t sectors_per_req;
} Slot;

/* One ring the loop drives. */
typedef struct Ring {
    VcVq *vq;
    Slot *slots;
    Slot **idle;               /* stack of slots not in flight */
    unsigned n_idle;
    unsigned nslots;
    unsigned want;             /* idle slots before a post: min(batch, depth) */
    unsigned batch;            /* at most this many per publish and kick */
    unsigned inflight;
    bool single;               /* one buffer per slot: vc_vq_add_bufs() */
    bool writable;             /* ... device-writable */
    unsigned add_flags;        /* VC_ADD_INDIRECT for longer chains when negotiated */
    bool lat;                  /* record latency */
    bool counted;              /* its completions are the case's requests */
    bool count_len;            /* bytes += used.len - len_sub, not slot bytes */
    uint32_t len_sub;
    uint64_t blocks;           /* blk: random block numbers below this; 0: no randomisation */
    uint64_t done, bytes;
} Ring;

typedef struct Loop {
    Ring r[MAX_RINGS];
    unsigned nr;
    VcBenchNotify notify;
    VcFrontend *fe;
    uint64_t rnd;              /* xorshift64 state */
    uint64_t stall_ticks;
    uint64_t check_ticks;      /* between phase checks */
    uint64_t t_next;           /* next phase check */
    uint64_t t_measure;        /* end of the warm-up */
    uint64_t t_end;            /* end of the measurement (time mode) */
    uint64_t fixed;            /* > 0: stop after this many counted completions */
    bool measuring;
    bool progress;
    const char *label;
    const char *unit;
    uint64_t last_work;
    /* Counters at the start of the measurement. */
    uint64_t t0, done0, bytes0, kicks0, calls0, idle0;
    uint64_t t_stop, done1, bytes1, kicks1, calls1, idle1;
    uint64_t idle_ticks;       /* time in loop turns that found nothing to do */
    int64_t mono0, mono1;      /* CLOCK_MONOTONIC at t0 and t_stop, in microseconds */
    uint64_t prog_t, prog_done;
    int err;
    char why[256];
    GPid daemon_pid;           /* for involuntary context switches; 0: not ours */
    uint64_t preempted;        /* involuntary context switches, both sides, while measuring */
    VcHist hist;
} Loop;

/* --- Pinning and hugepages -------------------------------------------------------------- */

bool
vc_bench_pin_self(int cpu, GError **error)
{
    cpu_set_t set;

    if (cpu < 0) {
        return true;
    }
    if (cpu >= CPU_SETSIZE) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "--cpu %d: no such CPU", cpu);
        return false;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "--cpu %d: %s", cpu, g_strerror(errno));
        return false;
    }
    return true;
}

void
vc_bench_pin_pid(GPid pid, int cpu)
{
    g_autofree char *dir = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;
    cpu_set_t set;

    if (cpu < 0 || pid <= 0 || cpu >= CPU_SETSIZE) {
        return;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    dir = g_strdup_printf("/proc/%d/task", (int)pid);
    d = g_dir_open(dir, 0, NULL);
    while (d && (name = g_dir_read_name(d)) != NULL) {
        sched_setaffinity((pid_t)atoi(name), sizeof(set), &set);
    }
}

char *
vc_bench_hugepages_check(uint64_t bytes)
{
    g_autofree char *info = NULL;
    uint64_t free_pages = 0, size_kb = 0;
    uint64_t need = (bytes + (2u << 20) - 1) / (2u << 20);

    if (g_file_get_contents("/proc/meminfo", &info, NULL, NULL)) {
        const char *f = strstr(info, "HugePages_Free:");
        const char *s = strstr(info, "Hugepagesize:");
        if (f) {
            free_pages = g_ascii_strtoull(f + strlen("HugePages_Free:"), NULL, 10);
        }
        if (s) {
            size_kb = g_ascii_strtoull(s + strlen("Hugepagesize:"), NULL, 10);
        }
    }
    if (size_kb != 2048) {
        return g_strdup_printf("--hugepages: the default hugepage size here is %" G_GUINT64_FORMAT
                               " kB, not 2 MiB", size_kb);
    }
    if (free_pages < need) {
        return g_strdup_printf("--hugepages: %" G_GUINT64_FORMAT " free 2 MiB hugepages, %"
                               G_GUINT64_FORMAT " needed; reserve some first: echo 600 > "
                               "/proc/sys/vm/nr_hugepages", free_pages, need);
    }
    return NULL;
}

/* --- dpdk-testpmd statistics ------------------------------------------------------------ */

GArray *
vc_bench_testpmd_samples(const char *log, VcBenchStats which)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(double));
    const char *key = which == VC_BENCH_STATS_TX_PPS ? "Tx-pps:" : "Rx-pps:";

    for (const char *p = log ? strstr(log, key) : NULL; p; p = strstr(p + 1, key)) {
        double v = g_ascii_strtod(p + strlen(key), NULL);
        g_array_append_val(out, v);
    }
    return out;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
vc_bench_steady_median(const GArray *samples)
{
    g_autofree double *v = NULL;
    int first = -1, last = -1;
    unsigned n = 0;

    for (guint i = 0; i < samples->len; i++) {
        if (g_array_index(samples, double, i) > 0) {
            if (first < 0) {
                first = (int)i;
            }
            last = (int)i;
        }
    }
    if (first < 0) {
        return 0;
    }
    v = g_new(double, samples->len);
    if (last - first >= 2) {
        /* Partial seconds at both ends are left out. */
        first++;
        last--;
    }
    for (int i = first; i <= last; i++) {
        double x = g_array_index(samples, double, i);
        if (x > 0) {
            v[n++] = x;
        }
    }
    return median(v, n);
}

/* --- The loop --------------------------------------------------------------------------- */

static inline uint64_t
xorshift(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void
fail(Loop *l, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
fail(Loop *l, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(l->why, sizeof(l->why), fmt, ap);
    va_end(ap);
    l->err = -1;
}

#define REAP_MAX 64

static inline unsigned
reap(Loop *l, Ring *r, uint64_t now)
{
    void *tok[REAP_MAX];
    uint32_t len[REAP_MAX];
    unsigned total = 0;

    for (;;) {
        int n = vc_vq_pop_many(r->vq, tok, len, REAP_MAX);

        if (n <= 0) {
            if (G_UNLIKELY(n < 0)) {
                fail(l, "ring %u: the daemon returned a used id that is not in flight",
                     r->vq->index);
            }
            break;
        }
        for (int i = 0; i < n; i++) {
            Slot *s = tok[i];
            if (r->lat) {
                vc_hist_add(&l->hist, now - s->t_post);
            }
            /* used.len, or what the slot carries when the device writes nothing (net tx). */
            r->bytes += r->count_len ? len[i] : s->bytes;
            r->idle[r->n_idle++] = s;
        }
        total += (unsigned)n;
        if (n < REAP_MAX) {
            break;
        }
    }
    r->inflight -= total;
    r->done += total;
    r->bytes -= (uint64_t)r->len_sub * total;
    return total;
}

/* One chunk of @k idle slots made available, published, and kicked when wanted. */
static inline unsigned
post_chunk(Loop *l, Ring *r, uint64_t now, unsigned k)
{
    Slot **batch = &r->idle[r->n_idle - k];
    unsigned n;

    for (n = 0; n < k; n++) {
        batch[n]->t_post = now;
    }
    if (r->blocks) {
        /* blk: random blocks, in the headers' little-endian sector fields. */
        for (n = 0; n < k; n++) {
            *batch[n]->sector = htole64((xorshift(&l->rnd) % r->blocks) *
                                        batch[n]->sectors_per_req);
        }
    }
    if (r->single) {
        n = vc_vq_add_bufs(r->vq, (VcSg *const *)batch, k, r->writable);
    } else {
        for (n = 0; n < k; n++) {
            Slot *s = batch[n];
            if (vc_vq_add(r->vq, s->sg, s->n_out, s->sg + s->n_out, s->n_in, s,
                          r->add_flags) < 0) {
                break;
            }
        }
    }
    if (G_UNLIKELY(n < k)) {
        /* The ring was full: what was not added stays idle, on top. */
        memmove(batch, batch + n, (k - n) * sizeof(*batch));
    }
    r->n_idle -= n;
    if (n) {
        r->inflight += n;
        if (l->notify == VC_BENCH_POLL) {
            vc_vq_publish(r->vq);
        } else if (G_UNLIKELY(vc_vq_notify(r->vq) < 0)) {
            fail(l, "ring %u: the kick failed: %s", r->vq->index, g_strerror(errno));
        }
    }
    return n;
}

/*
 * Every idle slot goes back to the ring, in chunks of at most --batch, each
 * published (and kicked) on its own; nothing is posted until --batch slots
 * (or the whole depth, when smaller) are idle.
 */
static inline unsigned
post(Loop *l, Ring *r, uint64_t now)
{
    unsigned posted = 0;

    while (r->n_idle >= r->want) {
        unsigned k = MIN(r->n_idle, r->batch), n = post_chunk(l, r, now, k);
        posted += n;
        if (n < k) {
            break;
        }
    }
    return posted;
}

static void
snapshot(Loop *l, uint64_t *done, uint64_t *bytes, uint64_t *kicks, uint64_t *calls)
{
    *done = *bytes = *kicks = *calls = 0;
    for (unsigned i = 0; i < l->nr; i++) {
        if (l->r[i].counted) {
            *done += l->r[i].done;
            *bytes += l->r[i].bytes;
        }
        *kicks += l->r[i].vq->n_kicks;
        *calls += l->r[i].vq->n_calls;
    }
}

/* Nothing to reap, nothing to post: sleep on the call fds (or spin), with a deadline. */
static void
idle(Loop *l, uint64_t now)
{
    struct pollfd p[MAX_RINGS];
    unsigned n = 0;
    bool more = false;
    int r;

    if (now - l->last_work > l->stall_ticks) {
        fail(l, "nothing completed for %.1f s: the daemon stalled",
             (double)(now - l->last_work) * vc_bench_ns_per_tick() / 1e9);
        return;
    }
    if (l->notify == VC_BENCH_POLL) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
        return;
    }
    for (unsigned i = 0; i < l->nr; i++) {
        vc_vq_enable_calls(l->r[i].vq, true);
        more |= vc_vq_more_used(l->r[i].vq);
        if (l->r[i].vq->call_fd >= 0) {
            p[n++] = (struct pollfd){.fd = l->r[i].vq->call_fd, .events = POLLIN};
        }
    }
    if (!more && n) {
        do {
            r = poll(p, n, 10);
        } while (r < 0 && errno == EINTR);
        for (unsigned i = 0; i < l->nr; i++) {
            vc_vq_take_call(l->r[i].vq);
        }
    }
    for (unsigned i = 0; i < l->nr; i++) {
        vc_vq_enable_calls(l->r[i].vq, false);
    }
}

static void
show_progress(Loop *l, uint64_t now)
{
    uint64_t done = 0;
    double dt;

    for (unsigned i = 0; i < l->nr; i++) {
        done += l->r[i].counted ? l->r[i].done : 0;
    }
    dt = (double)(now - l->prog_t) * vc_bench_ns_per_tick() / 1e9;
    if (dt <= 0) {
        return;
    }
    fprintf(stderr, "\r\033[K%s  %s  %.3g M%s", l->label, l->measuring ? "measuring" : "warm-up",
            (double)(done - l->prog_done) / dt / 1e6, l->unit);
    if (l->measuring && l->t_end > l->t0) {
        fprintf(stderr, "  %.0f %%", 100.0 * (double)(now - l->t0) / (double)(l->t_end - l->t0));
    }
    fflush(stderr);
    l->prog_t = now;
    l->prog_done = done;
}

/* Returns: true when the measurement is over. */
static bool
phase(Loop *l, uint64_t now)
{
    l->t_next = now + l->check_ticks;
    if (!l->measuring && (now >= l->t_measure || l->fixed)) {
        l->measuring = true;
        l->t0 = now;
        l->mono0 = g_get_monotonic_time();
        l->idle0 = l->idle_ticks;
        snapshot(l, &l->done0, &l->bytes0, &l->kicks0, &l->calls0);
        vc_hist_reset(&l->hist);
    }
    if (l->measuring) {
        bool over = l->fixed ? false : now >= l->t_end;
        if (l->fixed) {
            uint64_t done = 0;
            for (unsigned i = 0; i < l->nr; i++) {
                done += l->r[i].counted ? l->r[i].done : 0;
            }
            over = done - l->done0 >= l->fixed;
        }
        if (over) {
            l->t_stop = now;
            l->mono1 = g_get_monotonic_time();
            l->idle1 = l->idle_ticks;
            snapshot(l, &l->done1, &l->bytes1, &l->kicks1, &l->calls1);
            return true;
        }
    }
    if (l->progress && now - l->prog_t >= l->check_ticks * 250) {
        show_progress(l, now);
    }
    return false;
}

/*
 * The measuring loop. Not inlined, and named, so that callgrind can count
 * inside it alone (--toggle-collect=vc_bench_loop).
 */
int vc_bench_loop(Loop *l);

__attribute__((noinline)) int
vc_bench_loop(Loop *l)
{
    uint64_t idle_since = 0;

    l->last_work = l->t_next = vc_bench_ticks();
    for (;;) {
        uint64_t now = vc_bench_ticks();
        unsigned work = 0;

        /* How much of its time the front end waited: its headroom, reported with the rate. */
        if (idle_since) {
            l->idle_ticks += now - idle_since;
            idle_since = 0;
        }

        for (unsigned i = 0; i < l->nr; i++) {
            work += reap(l, &l->r[i], now);
            work += post(l, &l->r[i], now);
        }
        if (G_UNLIKELY(l->err)) {
            return -1;
        }
        if (work) {
            l->last_work = now;
        } else {
            idle_since = now;
            idle(l, now);
            if (l->err) {
                return -1;
            }
        }
        if (G_UNLIKELY(now >= l->t_next) && phase(l, now)) {
            return 0;
        }
    }
}

/* --- Set-up per device -------------------------------------------------------------------- */

static Ring *
ring_new(Loop *l, VcFrontend *fe, unsigned q, unsigned nslots, unsigned batch, GError **error)
{
    Ring *r;

    if (l->nr >= MAX_RINGS) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "at most %u rings", MAX_RINGS);
        return NULL;
    }
    if (q >= fe->num_queues || !fe->q[q].vq) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "ring %u was not set up", q);
        return NULL;
    }
    r = &l->r[l->nr++];
    memset(r, 0, sizeof(*r));
    r->vq = fe->q[q].vq;
    nslots = MIN(nslots, r->vq->num);
    r->nslots = nslots;
    r->want = MIN(batch, nslots);
    r->batch = batch;
    r->slots = g_new0(Slot, nslots);
    r->idle = g_new(Slot *, nslots);
    for (unsigned i = 0; i < nslots; i++) {
        r->idle[i] = &r->slots[nslots - 1 - i];
    }
    r->n_idle = nslots;
    r->lat = true;
    r->counted = true;
    return r;
}

static void
loop_clear(Loop *l)
{
    for (unsigned i = 0; i < l->nr; i++) {
        g_free(l->r[i].slots);
        g_free(l->r[i].idle);
    }
    l->nr = 0;
}

/* Chains of @ndesc: in an indirect table each when negotiated (as a Linux guest does), else
 * they must all fit in the ring at once. */
static bool
chains_fit(Ring *r, unsigned ndesc, GError **error)
{
    if (r->vq->flags & VC_VQ_INDIRECT) {
        r->add_flags = VC_ADD_INDIRECT;
        return true;
    }
    if (r->nslots * ndesc > r->vq->num) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "depth %u needs %u descriptors but the "
                    "ring has %u and the daemon does not offer VIRTIO_RING_F_INDIRECT_DESC",
                    r->nslots, r->nslots * ndesc, r->vq->num);
        return false;
    }
    return true;
}

static bool
buf(VcFrontend *fe, uint64_t size, uint64_t *gpa, void **hva, GError **error)
{
    void *p = vc_fe_alloc_buffer(fe, size, 64, gpa);

    if (!p) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE, "guest memory is too small for the "
                    "request pool");
        return false;
    }
    if (hva) {
        *hva = p;
    }
    return true;
}

static bool
setup_rng(Loop *l, VcFrontend *fe, const VcBenchCase *c, GError **error)
{
    for (unsigned q = 0; q < c->queues; q++) {
        Ring *r = ring_new(l, fe, q, c->depth, c->batch, error);
        if (!r) {
            return false;
        }
        r->count_len = true;
        r->single = r->writable = true;
        for (unsigned i = 0; i < r->nslots; i++) {
            Slot *s = &r->slots[i];
            if (!buf(fe, c->size, &s->sg[0].gpa, NULL, error)) {
                return false;
            }
            s->sg[0].len = c->size;
            s->n_in = 1;
        }
    }
    return true;
}

static void
build_frame(uint8_t *p, unsigned len, unsigned seq)
{
    static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static const uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};

    memset(p, 0, NET_HDR);  /* virtio 1.x 5.1.6.2: a header asking for nothing */
    p += NET_HDR;
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x88;           /* IEEE 802 local experimental ethertype 1 */
    p[13] = 0xb5;
    for (unsigned i = 14; i < len; i++) {
        p[i] = (uint8_t)(seq + i);
    }
}

static bool
setup_net(Loop *l, VcFrontend *fe, const VcBenchCase *c, GError **error)
{
    bool tx = !g_str_equal(c->op, "rx"), rx = !g_str_equal(c->op, "tx");

    for (unsigned p = 0; p < c->queues; p++) {
        if (rx) {
            Ring *r = ring_new(l, fe, 2 * p, c->depth, c->batch, error);
            uint32_t cap = MAX(NET_RX_BUF, NET_HDR + c->size);
            if (!r) {
                return false;
            }
            /* The time a receive buffer waited for a frame says nothing about the daemon. */
            r->lat = false;
            r->count_len = true;
            r->len_sub = NET_HDR;
            r->single = r->writable = true;
            for (unsigned i = 0; i < r->nslots; i++) {
                if (!buf(fe, cap, &r->slots[i].sg[0].gpa, NULL, error)) {
                    return false;
                }
                r->slots[i].sg[0].len = cap;
                r->slots[i].n_in = 1;
            }
        }
        if (tx) {
            Ring *r = ring_new(l, fe, 2 * p + 1, c->depth, c->batch, error);
            if (!r) {
                return false;
            }
            /* Looped back: the frames that come back are the count, the send is the latency. */
            r->counted = !rx;
            r->single = true;
            for (unsigned i = 0; i < r->nslots; i++) {
                void *hva;
                if (!buf(fe, NET_HDR + c->size, &r->slots[i].sg[0].gpa, &hva, error)) {
                    return false;
                }
                build_frame(hva, c->size, i);
                r->slots[i].sg[0].len = NET_HDR + c->size;
                r->slots[i].n_out = 1;
                r->slots[i].bytes = c->size;
            }
        }
    }
    return true;
}

static bool
setup_blk(Loop *l, VcFrontend *fe, const VcBenchCase *c, GError **error)
{
    struct virtio_blk_config cfg = {0};
    uint64_t sectors = 64ull << 20 >> 9;
    bool write = g_str_equal(c->op, "randwrite");
    g_autoptr(GError) cerr = NULL;

    if (vc_blk_get_config(fe, 60, &cfg, &cerr) && cfg.capacity > 0) {
        sectors = cfg.capacity;
    }
    if (sectors < c->size / 512) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "the disk (%" G_GUINT64_FORMAT
                    " sectors) is smaller than one request", sectors);
        return false;
    }
    for (unsigned q = 0; q < c->queues; q++) {
        Ring *r = ring_new(l, fe, q, c->depth, c->batch, error);
        if (!r) {
            return false;
        }
        r->blocks = sectors / (c->size / 512);
        if (!chains_fit(r, 3, error)) {
            return false;
        }
        for (unsigned i = 0; i < r->nslots; i++) {
            Slot *s = &r->slots[i];
            VcSg hdr, data, status;
            void *h, *d;
            if (!buf(fe, sizeof(struct virtio_blk_outhdr), &hdr.gpa, &h, error) ||
                !buf(fe, c->size, &data.gpa, &d, error) || !buf(fe, 1, &status.gpa, NULL, error)) {
                return false;
            }
            vc_blk_outhdr(h, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0);
            memset(d, write ? 0x5a : 0, c->size);
            s->sector = (uint64_t *)&((struct virtio_blk_outhdr *)h)->sector;
            s->sectors_per_req = c->size / 512;
            hdr.len = sizeof(struct virtio_blk_outhdr);
            data.len = c->size;
            status.len = 1;
            s->sg[0] = hdr;
            s->sg[1] = data;
            s->sg[2] = status;
            s->n_out = write ? 2 : 1;
            s->n_in = write ? 1 : 2;
            s->bytes = c->size;
        }
    }
    return true;
}

static bool
setup_fs(Loop *l, VcFrontend *fe, const VcBenchCase *c, GError **error)
{
    g_autoptr(VcFsDrv) d = NULL;
    g_autofree uint8_t *data = g_malloc(c->size);
    struct fuse_init_out init;
    uint64_t nodeid[FS_FILES], fh[FS_FILES];

    if (fe->num_queues < 2) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "virtio-fs needs a request queue");
        return false;
    }
    d = vc_fs_new(fe, VC_FS_REQUEST_QUEUE, 4, VC_FS_IN_HDR + 256 + c->size,
                  VC_FS_OUT_HDR + 256 + c->size, error);
    if (!d || !vc_fs_init(d, VC_FS_FUSE_MINOR, &init, error)) {
        return false;
    }
    memset(data, 0x5a, c->size);
    /* Small files of the read size, made through the daemon itself. */
    for (unsigned f = 0; f < FS_FILES; f++) {
        g_autofree char *name = g_strdup_printf("bench-%u-%u", (unsigned)getpid(), f);
        struct fuse_entry_out e;
        struct fuse_open_out o;
        uint32_t written = 0;
        if (!vc_fs_create(d, FUSE_ROOT_ID, name, O_RDWR, 0644, &e, &o, error) ||
            !vc_fs_write(d, e.nodeid, o.fh, 0, data, c->size, &written, error)) {
            return false;
        }
        if (d->last.hdr.error || written != c->size) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL, "could not create %s in the "
                        "shared directory (FUSE error %d)", name, d->last.hdr.error);
            return false;
        }
        nodeid[f] = e.nodeid;
        fh[f] = o.fh;
    }
    for (unsigned q = 0; q < c->queues; q++) {
        Ring *r = ring_new(l, fe, VC_FS_REQUEST_QUEUE + q, c->depth, c->batch, error);
        if (!r) {
            return false;
        }
        r->count_len = true;
        r->len_sub = VC_FS_OUT_HDR;
        if (!chains_fit(r, 2, error)) {
            return false;
        }
        for (unsigned i = 0; i < r->nslots; i++) {
            Slot *s = &r->slots[i];
            struct fuse_read_in rd = {0};
            uint32_t in_len = VC_FS_IN_HDR + sizeof(rd);
            void *in;
            unsigned f = i % FS_FILES;
            if (!buf(fe, in_len, &s->sg[0].gpa, &in, error) ||
                !buf(fe, VC_FS_OUT_HDR + c->size, &s->sg[1].gpa, NULL, error)) {
                return false;
            }
            rd.fh = fh[f];
            rd.size = c->size;
            /* One request per slot at a time: the slot's unique is never reused while it is out. */
            vc_fs_build(in, in_len, FUSE_READ, FS_UNIQUE_BASE + q * 65536u + i, nodeid[f],
                        (uint32_t)getpid(), &rd, sizeof(rd), NULL, 0);
            s->sg[0].len = in_len;
            s->sg[1].len = VC_FS_OUT_HDR + c->size;
            s->n_out = 1;
            s->n_in = 1;
        }
    }
    return true;
}

/* --- A case ------------------------------------------------------------------------------- */

static unsigned
rings_for(const VcBenchCase *c)
{
    if (g_str_equal(c->device, "net")) {
        return 2 * c->queues;
    }
    if (g_str_equal(c->device, "fs")) {
        return 1 + c->queues;
    }
    return c->queues;
}

static uint64_t
mem_for(const VcBenchCase *c)
{
    uint64_t per_req = (uint64_t)MAX(c->size, NET_RX_BUF) + 512;
    uint64_t bytes = (uint64_t)rings_for(c) * c->ring_size * (per_req + 64) + (8u << 20);

    return (bytes + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
}

/*
 * Involuntary context switches of the calling thread and of every thread of
 * @pid: a busy-polling side that was preempted measured the machine, not the
 * daemon.
 */
static uint64_t
preemptions(GPid pid)
{
    struct rusage ru;
    uint64_t n = 0;

    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        n += (uint64_t)ru.ru_nivcsw;
    }
    if (pid > 0) {
        g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d)) != NULL) {
            g_autofree char *path = g_strdup_printf("%s/%s/status", dir, name);
            g_autofree char *text = NULL;
            const char *k;

            if (g_file_get_contents(path, &text, NULL, NULL) &&
                (k = strstr(text, "nonvoluntary_ctxt_switches:")) != NULL) {
                n += g_ascii_strtoull(k + strlen("nonvoluntary_ctxt_switches:"), NULL, 10);
            }
        }
    }
    return n;
}

static bool
measure(const VcBenchEnv *env, const VcBenchCase *c, VcFrontend *fe, Loop *l, const char *label,
        GError **error)
{
    double tps = vc_bench_ticks_per_s();
    bool ok;

    if (g_str_equal(c->device, "rng")) {
        ok = setup_rng(l, fe, c, error);
    } else if (g_str_equal(c->device, "net")) {
        ok = setup_net(l, fe, c, error);
    } else if (g_str_equal(c->device, "blk")) {
        ok = setup_blk(l, fe, c, error);
    } else {
        ok = setup_fs(l, fe, c, error);
    }
    if (!ok) {
        return false;
    }
    l->fe = fe;
    l->notify = c->notify;
    l->rnd = 0x9e3779b97f4a7c15ull ^ (uint64_t)g_get_real_time();
    l->stall_ticks = (uint64_t)(tps * env->timeout_ms / 1000.0);
    l->check_ticks = (uint64_t)(tps / 1000.0);   /* 1 ms */
    l->t_measure = vc_bench_ticks() + (uint64_t)(tps * env->warmup_ms / 1000.0);
    l->t_end = l->t_measure + (uint64_t)(tps * env->duration_ms / 1000.0);
    l->fixed = env->fixed_requests;
    l->progress = env->progress;
    l->label = label;
    l->unit = vc_bench_unit(c->device);
    l->prog_t = vc_bench_ticks();
    /* Calls only when the loop goes idle: NAPI style. */
    for (unsigned i = 0; i < l->nr; i++) {
        vc_vq_enable_calls(l->r[i].vq, false);
    }
    l->preempted = preemptions(l->daemon_pid);
    if (vc_bench_loop(l) < 0) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT, "%s", l->why);
        return false;
    }
    l->preempted = preemptions(l->daemon_pid) - l->preempted;
    if (env->progress) {
        fprintf(stderr, "\r\033[K");
    }
    return true;
}

static void
fill_result(const Loop *l, VcBenchResult *res)
{
    /*
     * The measured time comes from the monotonic clock, and ticks are turned into
     * nanoseconds at the rate seen over the whole measurement: a start-up calibration
     * over a few milliseconds is off when the machine preempts us during it.
     */
    double npt = l->t_stop > l->t0 && l->mono1 > l->mono0
                     ? (double)(l->mono1 - l->mono0) * 1e3 / (double)(l->t_stop - l->t0)
                     : vc_bench_ns_per_tick();
    uint64_t req = l->done1 - l->done0;

    res->seconds = (double)(l->t_stop - l->t0) * npt / 1e9;
    res->requests = req;
    res->bytes = l->bytes1 - l->bytes0;
    res->rate = res->seconds > 0 ? (double)req / res->seconds : 0;
    res->kicks_per_1k = req ? 1000.0 * (double)(l->kicks1 - l->kicks0) / (double)req : 0;
    res->calls_per_1k = req ? 1000.0 * (double)(l->calls1 - l->calls0) / (double)req : 0;
    res->preempted = l->preempted;
    res->frontend_busy = l->t_stop > l->t0 ? 1.0 - (double)(l->idle1 - l->idle0) /
                                                     (double)(l->t_stop - l->t0) : 0;
    res->has_latency = l->hist.count > 0;
    if (res->has_latency) {
        res->p50_ns = (double)vc_hist_percentile(&l->hist, 50) * npt;
        res->p99_ns = (double)vc_hist_percentile(&l->hist, 99) * npt;
        res->p999_ns = (double)vc_hist_percentile(&l->hist, 99.9) * npt;
        res->mean_ns = vc_hist_mean(&l->hist) * npt;
        res->max_ns = (double)l->hist.max * npt;
    }
}

static bool
check_negotiated(const VcFrontend *fe, const VcBenchCase *c, GError **error)
{
    if (c->packed && !vc_fe_has_feature(fe, VIRTIO_F_RING_PACKED)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "the daemon does not offer VIRTIO_F_RING_PACKED");
        return false;
    }
    if (c->notify == VC_BENCH_EVENT_IDX && !vc_fe_has_feature(fe, VIRTIO_RING_F_EVENT_IDX)) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_UNSUPPORTED,
                    "the daemon does not offer VIRTIO_RING_F_EVENT_IDX");
        return false;
    }
    return true;
}

static bool
run_case(const VcBenchEnv *env, const VcBenchTarget *t, const VcBenchCase *c, VcBenchResult *res,
         GError **error)
{
    g_autoptr(VcDaemon) d = NULL;
    g_autoptr(VcFrontend) fe = NULL;
    g_autofree char *label = vc_bench_case_id(c);
    g_autofree Loop *l = g_new0(Loop, 1);
    VcFeConfig cfg = {0};
    bool ok;
    int fd;

    if (!vc_bench_pin_self(c->cpu, error)) {
        return false;
    }
    d = vc_daemon_start(&t->spec, error);
    if (!d) {
        return false;
    }
    vc_bench_pin_pid(vc_daemon_pid(d), t->cpu);
    fd = vc_daemon_connect(d, 5000, error);
    if (fd < 0) {
        return false;
    }
    cfg.timeout_ms = MAX(env->timeout_ms, 2000);
    cfg.device = c->device;
    cfg.num_queues = rings_for(c);
    cfg.ring_size = (uint16_t)c->ring_size;
    cfg.kick = cfg.call = c->notify == VC_BENCH_POLL ? VC_NOTIFY_NONE : VC_NOTIFY_EVENTFD;
    cfg.event_idx = c->notify == VC_BENCH_EVENT_IDX;
    cfg.packed = c->packed;
    cfg.hugepages = c->hugepages;
    cfg.mem_layout = VC_MEM_SIMPLE;
    cfg.mem_size = mem_for(c);
    if (g_str_equal(c->device, "net")) {
        /* What DPDK's virtio_user negotiates by default (mrg_rxbuf=1). */
        cfg.driver_features = 1ull << VIRTIO_NET_F_MRG_RXBUF;
    } else if (g_str_equal(c->device, "blk")) {
        cfg.config_len = 60;
        cfg.indirect = true;
    } else if (g_str_equal(c->device, "fs")) {
        cfg.indirect = true;
    }
    fe = vc_fe_new(fd, &cfg);
    if (!vc_fe_init(fe, error) || !vc_fe_start(fe, error) || !check_negotiated(fe, c, error)) {
        return false;
    }
    l->daemon_pid = vc_daemon_pid(d);
    ok = measure(env, c, fe, l, label, error);
    if (ok) {
        fill_result(l, res);
    }
    loop_clear(l);
    g_clear_pointer(&fe, vc_fe_free);
    if (t->stats != VC_BENCH_STATS_NONE) {
        g_autofree char *log = NULL;
        g_autoptr(GArray) s = NULL;
        /* The last whole second of statistics is printed after the front end left. */
        g_usleep((gulong)MAX(env->settle_ms, 0) * 1000);
        vc_daemon_stop(d);
        if (vc_daemon_log_path(d)) {
            g_file_get_contents(vc_daemon_log_path(d), &log, NULL, NULL);
        }
        s = vc_bench_testpmd_samples(log, t->stats);
        if (g_getenv("VC_BENCH_DEBUG")) {
            for (guint i = 0; i < s->len; i++) {
                fprintf(stderr, "%s%.0f", i ? " " : "back-end samples: ", g_array_index(s, double, i));
            }
            fprintf(stderr, "\n");
        }
        if (ok) {
            res->backend_rate = vc_bench_steady_median(s);
        }
    }
    return ok;
}

bool
vc_bench_run_case(const VcBenchEnv *env, const VcBenchTarget *t, const VcBenchCase *c,
                  VcBenchResult *res)
{
    g_autoptr(GError) err = NULL;

    if (run_case(env, t, c, res, &err)) {
        return true;
    }
    if (env->progress) {
        fprintf(stderr, "\r\033[K");
    }
    g_free(res->error);
    res->error = g_strdup(err ? err->message : "failed");
    return false;
}
