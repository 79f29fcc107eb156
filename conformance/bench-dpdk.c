/*
 * bench-dpdk.c -- side by side with DPDK's virtio_user front end.
 *
 * Both front ends are measured against fresh copies of the same
 * dpdk-testpmd vhost-user back end, started with the same command (CPU,
 * memory kind, forwarding mode, frame size), and on the same yardstick:
 * the back end's own per-second statistics. The anchor is dpdk-testpmd with
 * a virtio_user port (../shared/DAEMONS.md), given the case's ring size,
 * ring layout, frame size, memory kind and CPU.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench-engine.h"

static const char *
mem_args(bool hugepages)
{
    /* DAEMONS.md: memfd memory without hugepages; hugepage runs keep everything in memory. */
    return hugepages ? "--in-memory --single-file-segments --socket-mem 512" : "--no-huge -m 512";
}

char *
vc_bench_testpmd_vhost_command(const char *fwd, unsigned frame, int cpu, bool hugepages,
                               unsigned queues)
{
    g_autofree char *txpkts = g_str_equal(fwd, "txonly") ? g_strdup_printf(" --txpkts=%u", frame)
                                                         : g_strdup("");
    g_autofree char *mq = queues > 1 ? g_strdup_printf(" --rxq=%u --txq=%u", queues, queues)
                                     : g_strdup("");

    return g_strdup_printf("dpdk-testpmd --lcores 0@%d,1@%d %s --no-pci --file-prefix=vcb{id} "
                           "--vdev net_vhost0,iface={socket},queues=%u -- "
                           "--total-num-mbufs=16384 --forward-mode=%s%s%s --auto-start "
                           "--stats-period 1 --nb-cores=1", cpu, cpu, mem_args(hugepages),
                           queues, fwd, txpkts, mq);
}

static char *
virtio_user_command(const VcBenchCase *c, const char *sock, const char *fwd)
{
    g_autofree char *txpkts = g_str_equal(fwd, "txonly") ? g_strdup_printf(" --txpkts=%u",
                                                                            c->size)
                                                         : g_strdup("");
    g_autofree char *mq = c->queues > 1 ? g_strdup_printf(" --rxq=%u --txq=%u", c->queues,
                                                          c->queues)
                                        : g_strdup("");

    return g_strdup_printf("dpdk-testpmd --lcores 0@%d,1@%d %s --no-pci --file-prefix=vcf{id} "
                           "--vdev virtio_user0,path=%s,queues=%u,queue_size=%u%s -- "
                           "--total-num-mbufs=16384 --rxd=%u --txd=%u --forward-mode=%s%s%s "
                           "--auto-start --stats-period 1 --nb-cores=1",
                           c->cpu < 0 ? 0 : c->cpu, c->cpu < 0 ? 0 : c->cpu,
                           mem_args(c->hugepages), sock, c->queues, c->ring_size,
                           c->packed ? ",packed_vq=1" : "", c->ring_size, c->ring_size, fwd,
                           txpkts, mq);
}

static const char *const dpdk_cleanup[] = {"/var/run/dpdk/vcb{id}", NULL};
static const char *const dpdk_cleanup_fe[] = {"/var/run/dpdk/vcf{id}", NULL};

static void
backend_spec(VcLaunchSpec *spec, const char *command)
{
    memset(spec, 0, sizeof(*spec));
    spec->mode = VC_LAUNCH_COMMAND;
    spec->command = command;
    spec->stop_signal = SIGINT;
    spec->start_timeout_ms = 20000;
    spec->cleanup = (char *const *)dpdk_cleanup;
}

/* DPDK's virtio_user front end against a fresh back end: the back end's steady figure. */
static bool
run_anchor(const VcBenchEnv *env, const VcBenchCase *c, const char *be_cmd, VcBenchStats stats,
           double *rate, GError **error)
{
    g_autoptr(VcDaemon) be = NULL;
    g_autoptr(VcDaemon) fe = NULL;
    g_autofree char *fe_cmd = NULL;
    g_auto(GStrv) words = NULL;
    g_autofree char *log = NULL;
    g_autoptr(GArray) samples = NULL;
    VcLaunchSpec bs, fs = {0};
    gint64 until;

    backend_spec(&bs, be_cmd);
    be = vc_daemon_start(&bs, error);
    if (!be) {
        g_prefix_error(error, "dpdk-testpmd (vhost): ");
        return false;
    }
    fe_cmd = virtio_user_command(c, vc_daemon_socket_path(be),
                                 g_str_equal(c->op, "tx") ? "txonly" : "rxonly");
    if (!g_shell_parse_argv(fe_cmd, NULL, &words, error)) {
        return false;
    }
    fs.mode = VC_LAUNCH_BARE;
    fs.program = words[0];
    fs.args = words + 1;
    fs.stop_signal = SIGINT;
    fs.cleanup = (char *const *)dpdk_cleanup_fe;
    fe = vc_daemon_start(&fs, error);
    if (!fe) {
        g_prefix_error(error, "dpdk-testpmd (virtio_user): ");
        return false;
    }
    /* Its start-up (EAL, the vhost-user handshake) takes about a second; warm-up covers it. */
    until = g_get_monotonic_time() + (gint64)(env->warmup_ms + env->duration_ms + 1000) * 1000;
    while (g_get_monotonic_time() < until) {
        if (!vc_daemon_alive(fe) || !vc_daemon_alive(be)) {
            g_autofree char *tail = vc_daemon_log_tail(vc_daemon_alive(fe) ? be : fe, 3);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "dpdk-testpmd (%s) exited: %s",
                        vc_daemon_alive(fe) ? "vhost" : "virtio_user", tail);
            return false;
        }
        g_usleep(100 * 1000);
    }
    vc_daemon_stop(fe);
    g_usleep((gulong)MAX(env->settle_ms, 0) * 1000);
    vc_daemon_stop(be);
    if (vc_daemon_log_path(be)) {
        g_file_get_contents(vc_daemon_log_path(be), &log, NULL, NULL);
    }
    samples = vc_bench_testpmd_samples(log, stats);
    *rate = vc_bench_steady_median(samples);
    if (*rate <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the back end counted no traffic from DPDK virtio_user");
        return false;
    }
    return true;
}

static double
median_of(const double *v, unsigned n)
{
    g_autofree double *s = g_memdup2(v, n * sizeof(double));

    for (unsigned i = 1; i < n; i++) {
        for (unsigned j = i; j > 0 && s[j - 1] > s[j]; j--) {
            double t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    }
    return n == 0 ? 0 : n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

bool
vc_bench_vs_dpdk(const VcBenchEnv *env, const VcBenchCase *c, unsigned rounds, int backend_cpu,
                 VcBenchResult *res)
{
    bool tx = g_str_equal(c->op, "tx");
    VcBenchStats stats = tx ? VC_BENCH_STATS_RX_PPS : VC_BENCH_STATS_TX_PPS;
    g_autofree char *be_cmd = vc_bench_testpmd_vhost_command(tx ? "rxonly" : "txonly", c->size,
                                                             backend_cpu < 0 ? 1 : backend_cpu,
                                                             c->hugepages, c->queues);
    double own[16], ours[16], anchor[16];
    unsigned n_ours = 0, n_anchor = 0;
    g_autoptr(GString) errors = g_string_new(NULL);
    VcBenchTarget t = {.label = "dpdk-testpmd", .cpu = -1, .stats = stats};

    if (!tx && !g_str_equal(c->op, "rx")) {
        res->error = g_strdup("--vs dpdk measures op tx or rx");
        return false;
    }
    backend_spec(&t.spec, be_cmd);
    rounds = MIN(rounds, G_N_ELEMENTS(ours));
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned k = 0; k < 2; k++) {
            /* Alternate which front end goes first, so that drift hits both alike. */
            bool anchor_turn = (k == 0) == (r % 2 == 1);
            g_autoptr(GError) err = NULL;
            if (anchor_turn) {
                double v;
                if (env->progress) {
                    fprintf(stderr, "\r\033[Kround %u/%u: DPDK virtio_user, %s", r + 1, rounds,
                            res->id);
                }
                if (run_anchor(env, c, be_cmd, stats, &v, &err)) {
                    anchor[n_anchor++] = v;
                } else {
                    g_string_append_printf(errors, "%svirtio_user: %s", errors->len ? "; " : "",
                                           err->message);
                }
            } else {
                g_autoptr(VcBenchResult) one = vc_bench_result_new(c, t.label);
                if (vc_bench_run_case(env, &t, c, one) && one->backend_rate > 0) {
                    /* Keep the figures of the last good round (latency, kicks). */
                    res->seconds = one->seconds;
                    res->requests = one->requests;
                    res->bytes = one->bytes;
                    res->has_latency = one->has_latency;
                    res->p50_ns = one->p50_ns;
                    res->p99_ns = one->p99_ns;
                    res->p999_ns = one->p999_ns;
                    res->mean_ns = one->mean_ns;
                    res->max_ns = one->max_ns;
                    res->kicks_per_1k = one->kicks_per_1k;
                    res->calls_per_1k = one->calls_per_1k;
                    res->preempted += one->preempted;
                    res->frontend_busy = one->frontend_busy;
                    own[n_ours] = one->rate;
                    ours[n_ours++] = one->backend_rate;
                } else {
                    g_string_append_printf(errors, "%svhost-conform: %s", errors->len ? "; " : "",
                                           one->error ? one->error
                                                      : "the back end counted nothing");
                }
            }
        }
    }
    if (env->progress) {
        fprintf(stderr, "\r\033[K");
    }
    g_free(res->anchor);
    res->anchor = g_strdup("dpdk virtio_user");
    res->rounds = MAX(n_ours, n_anchor);
    for (unsigned i = 0; i < res->rounds; i++) {
        res->ours_round[i] = i < n_ours ? ours[i] : 0;
        res->anchor_round[i] = i < n_anchor ? anchor[i] : 0;
    }
    if (n_ours == 0 || n_anchor == 0) {
        res->error = g_strdup(errors->len ? errors->str : "nothing measured");
        return false;
    }
    res->rate = median_of(own, n_ours);
    res->compared = median_of(ours, n_ours);
    res->backend_rate = res->compared;
    res->anchor_rate = median_of(anchor, n_anchor);
    {
        /*
         * The ratio is the median of the rounds' own ratios: each round measures both
         * front ends back to back, so a machine that slows down for a while slows both.
         */
        double ratios[G_N_ELEMENTS(ours)];
        unsigned n = MIN(n_ours, n_anchor);
        for (unsigned i = 0; i < n; i++) {
            ratios[i] = ours[i] / anchor[i];
        }
        res->ratio = median_of(ratios, n);
    }
    return true;
}
