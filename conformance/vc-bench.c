/*
 * vc-bench.c -- rng datapath throughput: requests per second through a split
 * ring against a daemon, with eventfd notifications or with both sides
 * polling (VHOST_USER_VRING_NOFD_MASK). The harness posts a whole ring,
 * kicks once per batch and reaps in batches; nothing is allocated or logged
 * per request.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vc-bench.h"
#include "vc-drv-rng.h"
#include "vc-error.h"
#include "vc-launch.h"
#include "vc-report.h"

typedef struct BenchResult {
    const char *notify;
    double seconds;
    uint64_t requests;
    uint64_t bytes;
    uint64_t kicks;
    uint64_t calls;
} BenchResult;

typedef struct BenchOpts {
    char *program;
    char **args;
    int duration_ms;
    int warmup_ms;
    unsigned ring;
    unsigned batch;
    unsigned size;
    int timeout_ms;
} BenchOpts;

static bool
run_mode(const BenchOpts *o, VcNotify notify, BenchResult *res, GError **error)
{
    VcLaunchSpec spec = {.mode = VC_LAUNCH_SOCKET_PATH, .program = o->program,
                         .args = o->args};
    g_autoptr(VcDaemon) d = vc_daemon_start(&spec, error);
    g_autoptr(VcFrontend) fe = NULL;
    g_autoptr(VcRngDrv) rng = NULL;
    VcFeConfig cfg = {0};
    int64_t now, t_start, t_end, last_progress;
    uint64_t done0 = 0, bytes0 = 0, kicks0 = 0, calls0 = 0;
    bool measuring = false;
    int fd;

    if (!d) {
        return false;
    }
    fd = vc_daemon_connect(d, 5000, error);
    if (fd < 0) {
        return false;
    }
    cfg.timeout_ms = o->timeout_ms;
    cfg.ring_size = (uint16_t)o->ring;
    cfg.kick = cfg.call = notify;
    cfg.event_idx = notify != VC_NOTIFY_NONE;
    cfg.mem_size = 16ull << 20;
    fe = vc_fe_new(fd, &cfg);
    if (!vc_fe_init(fe, error) || !vc_fe_start(fe, error)) {
        return false;
    }
    rng = vc_rng_new(fe, 0, o->ring, o->size, 1, 0, false, error);
    if (!rng) {
        return false;
    }
    t_start = g_get_monotonic_time();
    t_end = t_start + (int64_t)(o->warmup_ms + o->duration_ms) * 1000;
    last_progress = t_start;
    for (;;) {
        unsigned free_slots = rng->n - vc_rng_in_flight(rng);

        if (free_slots >= o->batch || vc_rng_in_flight(rng) == 0) {
            vc_rng_post(rng, MIN(free_slots, o->batch));
            if (vc_vq_notify(rng->vq) < 0) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_TRANSPORT, "kick failed");
                return false;
            }
        }
        if (vc_rng_reap(rng) == 0) {
            if (notify != VC_NOTIFY_NONE) {
                vc_vq_enable_calls(rng->vq, true);
                if (!vc_vq_more_used(rng->vq) && vc_vq_wait_call(rng->vq, o->timeout_ms) == 0) {
                    g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT,
                                "no completion within %d ms: the daemon stalled", o->timeout_ms);
                    return false;
                }
            } else if (g_get_monotonic_time() - last_progress > (int64_t)o->timeout_ms * 1000) {
                g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT,
                            "no completion within %d ms: the daemon stalled", o->timeout_ms);
                return false;
            }
        } else {
            last_progress = g_get_monotonic_time();
        }
        now = g_get_monotonic_time();
        if (!measuring && now - t_start >= (int64_t)o->warmup_ms * 1000) {
            measuring = true;
            t_start = now;
            done0 = rng->completed;
            bytes0 = rng->bytes;
            kicks0 = rng->vq->n_kicks;
            calls0 = rng->vq->n_calls;
        }
        if (now >= t_end) {
            break;
        }
    }
    res->notify = notify == VC_NOTIFY_NONE ? "poll" : "eventfd";
    res->seconds = (double)(now - t_start) / 1e6;
    res->requests = rng->completed - done0;
    res->bytes = rng->bytes - bytes0;
    res->kicks = rng->vq->n_kicks - kicks0;
    res->calls = rng->vq->n_calls - calls0;
    return true;
}

int
vc_bench_main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) dargs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) json = g_string_new("[");
    char *notify = NULL, *duration = NULL, *json_path = NULL, *device = NULL;
    int ring = 256, batch = 32, size = 64;
    BenchOpts o = {.duration_ms = 3000, .warmup_ms = 500, .timeout_ms = 2000};
    GOptionEntry entries[] = {
        {"device", 0, 0, G_OPTION_ARG_STRING, &device, "Device (rng)", "TYPE"},
        {"notify", 0, 0, G_OPTION_ARG_STRING, &notify,
         "eventfd, poll or both (default both)", "MODE"},
        {"duration", 0, 0, G_OPTION_ARG_STRING, &duration, "Measured seconds (default 3)", "S"},
        {"ring-size", 0, 0, G_OPTION_ARG_INT, &ring, "Ring size (default 256)", "N"},
        {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "Requests per kick (default 32)", "N"},
        {"req-size", 0, 0, G_OPTION_ARG_INT, &size, "Bytes per request (default 64)", "N"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write results as JSON", "FILE"},
        {NULL},
    };
    int code = 0;

    /* "--backend PROGRAM ARGS... [--]" as in the main command. */
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--backend") && i + 1 < argc) {
            int j = i + 2, out = i;
            o.program = g_strdup(argv[i + 1]);
            while (j < argc && !g_str_equal(argv[j], "--")) {
                g_ptr_array_add(dargs, g_strdup(argv[j++]));
            }
            j += j < argc;
            while (j < argc) {
                argv[out++] = argv[j++];
            }
            argc = out;
            break;
        }
    }
    g_ptr_array_add(dargs, NULL);
    o.args = (char **)dargs->pdata;
    oc = g_option_context_new("--backend PROGRAM [ARGS...] [--]");
    g_option_context_set_summary(oc, "Measures the rng datapath: requests per second through a "
                                 "split ring, with eventfd notifications and with polling.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        return 2;
    }
    if (!o.program) {
        g_printerr("vhost-conform bench: --backend PROGRAM is required\n");
        return 2;
    }
    if (device && !g_str_equal(device, "rng")) {
        g_printerr("vhost-conform bench: only --device rng is measured so far\n");
        return 2;
    }
    if (duration) {
        double s = g_ascii_strtod(duration, NULL);
        if (s <= 0 || s > 3600) {
            g_printerr("vhost-conform bench: --duration must be 0 < S <= 3600\n");
            return 2;
        }
        o.duration_ms = (int)(s * 1000);
    }
    if (ring < 1 || ring > 32768 || (ring & (ring - 1)) || batch < 1 || batch > ring ||
        size < 1 || size > 65536) {
        g_printerr("vhost-conform bench: bad --ring-size, --batch or --req-size\n");
        return 2;
    }
    o.ring = (unsigned)ring;
    o.batch = (unsigned)batch;
    o.size = (unsigned)size;
    for (int m = 0; m < 2; m++) {
        VcNotify mode = m == 0 ? VC_NOTIFY_EVENTFD : VC_NOTIFY_NONE;
        BenchResult r = {0};
        if (notify && !g_str_equal(notify, "both") &&
            !g_str_equal(notify, m == 0 ? "eventfd" : "poll")) {
            continue;
        }
        if (!run_mode(&o, mode, &r, &err)) {
            g_printerr("vhost-conform bench: %s: %s\n", m == 0 ? "eventfd" : "poll",
                       err->message);
            g_clear_error(&err);
            code = 99;
            continue;
        }
        printf("rng  notify=%-7s ring=%u batch=%u size=%uB  %.0f requests/s  %.1f MB/s  "
               "(%.2f kicks, %.2f calls per 1000 requests)\n", r.notify, o.ring, o.batch, o.size,
               r.requests / r.seconds, r.bytes / r.seconds / 1e6,
               r.requests ? 1000.0 * r.kicks / r.requests : 0,
               r.requests ? 1000.0 * r.calls / r.requests : 0);
        fflush(stdout);
        g_string_append_printf(json, "%s{\"device\": \"rng\", \"notify\": \"%s\", \"ring\": %u, "
                               "\"batch\": %u, \"size\": %u, \"seconds\": %.3f, \"requests\": %"
                               G_GUINT64_FORMAT ", \"requests_per_s\": %.0f, \"MB_per_s\": %.3f}",
                               json->len > 1 ? ", " : "", r.notify, o.ring, o.batch, o.size,
                               r.seconds, r.requests, r.requests / r.seconds,
                               r.bytes / r.seconds / 1e6);
    }
    g_string_append(json, "]\n");
    if (json_path && !g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("vhost-conform bench: %s\n", err->message);
        code = 99;
    }
    g_free(notify);
    g_free(duration);
    g_free(json_path);
    g_free(device);
    g_free(o.program);
    return code;
}
