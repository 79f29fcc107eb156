/*
 * bench-callgrind.c -- the front end's own cost per request, counted in
 * instructions by callgrind over the harness process alone.
 *
 * The bench runs again under valgrind --tool=callgrind with collection off
 * except inside vc_bench_loop() (the ring operations and the request slots
 * it drives, and everything they call), for a fixed number of completions
 * and no warm-up. The daemon is another process started natively, so none
 * of its work is counted; the harness, slowed down some fifty times by the
 * instrumentation, finds completions waiting nearly every time it looks,
 * so that idle spinning hardly counts either.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-engine.h"
#include "bench-result.h"

/* The "summary:" (or "totals:") line of a callgrind output file: Ir of the collected code. */
static bool
read_total(const char *path, uint64_t *out, GError **error)
{
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, error)) {
        return false;
    }
    p = strstr(text, "\nsummary:");
    if (!p) {
        p = strstr(text, "\ntotals:");
    }
    if (!p) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no summary line", path);
        return false;
    }
    p = strchr(p, ':') + 1;
    *out = g_ascii_strtoull(p, NULL, 10);
    return true;
}

bool
vc_bench_count_instructions(const char *self, char *const *argv, uint64_t requests, double *out,
                            GError **error)
{
    g_autofree char *valgrind = g_find_program_in_path("valgrind");
    g_autofree char *dir = NULL, *cg = NULL, *json = NULL, *cg_arg = NULL, *fixed = NULL;
    g_autofree char *stdout_text = NULL;
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VcBenchReport) rep = NULL;
    const VcBenchResult *r;
    uint64_t total = 0;
    int status = -1;
    bool ok = false;

    if (!valgrind) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "--count-instructions needs valgrind (Debian package valgrind)");
        return false;
    }
    dir = g_dir_make_tmp("vhost-conform-cg-XXXXXX", error);
    if (!dir) {
        return false;
    }
    cg = g_build_filename(dir, "callgrind.out", NULL);
    json = g_build_filename(dir, "result.json", NULL);
    g_ptr_array_add(a, g_strdup(valgrind));
    g_ptr_array_add(a, g_strdup("--tool=callgrind"));
    g_ptr_array_add(a, g_strdup("--quiet"));
    g_ptr_array_add(a, g_strdup("--collect-atstart=no"));
    g_ptr_array_add(a, g_strdup("--toggle-collect=vc_bench_loop"));
    g_ptr_array_add(a, g_strdup_printf("--callgrind-out-file=%s", cg));
    g_ptr_array_add(a, g_strdup(self));
    g_ptr_array_add(a, g_strdup("bench"));
    for (char *const *p = argv; *p; p++) {
        g_ptr_array_add(a, g_strdup(*p));
    }
    g_ptr_array_add(a, g_strdup_printf("--fixed-requests=%" G_GUINT64_FORMAT, requests));
    g_ptr_array_add(a, g_strdup("--quiet"));
    g_ptr_array_add(a, g_strdup_printf("--json=%s", json));
    g_ptr_array_add(a, NULL);
    /* Slowed down by valgrind, a million requests take a few seconds; allow ten minutes. */
    if (!vc_run_capture((char *const *)a->pdata, 600000, &stdout_text, &status, error)) {
        goto out;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the bench under callgrind exited with status %d", status);
        goto out;
    }
    rep = vc_bench_report_load(json, error);
    if (!rep || !read_total(cg, &total, error)) {
        goto out;
    }
    r = rep->results->len ? g_ptr_array_index(rep->results, 0) : NULL;
    if (!r || r->error || r->requests == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the bench under callgrind measured "
                    "nothing%s%s", r && r->error ? ": " : "", r && r->error ? r->error : "");
        goto out;
    }
    *out = (double)total / (double)r->requests;
    ok = true;
out:
    unlink(cg);
    unlink(json);
    rmdir(dir);
    return ok;
}
