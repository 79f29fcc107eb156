/*
 * test-report.c -- unit tests of reports/: exit codes, and the exact text,
 * TAP, JUnit and JSON a list of results turns into, hostile strings included.
 * External validators (meson's TAP parser, PyYAML, xmllint, python3 -m
 * json.tool) are used when present; without them those parts are skipped
 * and say so on stderr.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vc-report.h"

/* Test data is never freed: the casts only drop const for VcResult's owned fields. */
#define S(x) ((char *)(x))

/* Everything a daemon could put in a reason: markup, quotes, controls, an ESC sequence. */
#define HOSTILE                                                                                    \
    "a<b>&c\"d'e\x01"                                                                              \
    "f\x1b[2Jg\x7fh\ni\tj\\k: l # SKIP m"

static VcResult
mk(const char *id, VcLevel level, const char *summary, VcVerdict v, const char *reason,
   const char *trace)
{
    return (VcResult){
        .id = S(id),
        .spec = S("vhost-user.rst#ring-states"),
        .level = level,
        .summary = S(summary),
        .verdict = v,
        .reason = S(reason),
        .trace = S(trace),
        .seconds = 0.0125,
    };
}

static const VcRunInfo run_info = {
    .backend = "/usr/bin/fake --socket-path=/tmp/s",
    .tool_version = "0.1.0",
    .started = "2024-05-01T10:00:00Z",
    .seconds = 12.3456,
    .exit_code = 1,
};

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} Capture;

static FILE *
capture_open(Capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    ck_assert_ptr_nonnull(c->f);
    return c->f;
}

static char *
capture_close(Capture *c)
{
    ck_assert_int_eq(fclose(c->f), 0);
    return c->buf;
}

static char *
tmp_path(const char *name)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vc-report-XXXXXX", &error);
    char *path;

    ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
    path = g_build_filename(dir, name, NULL);
    g_free(dir);
    return path;
}

static void
tmp_remove(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_unlink(path);
    ck_assert_int_eq(g_rmdir(dir), 0); /* fails if a temp file was left behind */
}

static char *
slurp(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    ck_assert_msg(g_file_get_contents(path, &text, NULL, &error), "%s",
                  error ? error->message : "");
    return text;
}

/*
 * Runs argv; returns its exit status, or 77 when the program is missing.
 * The program's stdout is returned in @out when non-NULL.
 */
static int
run_tool(const char *const *argv, char **out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *stdout_text = NULL;
    g_autofree char *stderr_text = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &stdout_text,
                      &stderr_text, &status, &error)) {
        return 77;
    }
    if (stderr_text && *stderr_text) {
        fprintf(stderr, "%s: %s", argv[0], stderr_text);
    }
    if (out) {
        *out = g_steal_pointer(&stdout_text);
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128;
}

/* The Python that runs meson has mesonbuild; the first python3 on PATH may not. */
static int
run_check_tap(const char *mode, const char *tap_path, char **out)
{
    const char *srcdir = g_getenv("VC_REPORT_TESTS_DIR");
    const char *candidates[] = {g_getenv("VC_MESON_PYTHON"), "python3", "/usr/bin/python3"};
    g_autofree char *script = NULL;
    int r = 77;

    if (!srcdir) {
        return 77;
    }
    script = g_build_filename(srcdir, "check-tap.py", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        const char *argv[] = {candidates[i], script, mode, tap_path, NULL};

        if (!candidates[i]) {
            continue;
        }
        g_clear_pointer(out, g_free);
        r = run_tool(argv, out);
        if (r != 77) {
            return r;
        }
    }
    return r;
}

/* ---- names and exit codes ---------------------------------------------- */

START_TEST(verdict_and_level_names)
{
    ck_assert_str_eq(vc_verdict_name(VC_PASS), "PASS");
    ck_assert_str_eq(vc_verdict_name(VC_FAIL), "FAIL");
    ck_assert_str_eq(vc_verdict_name(VC_WARN), "WARN");
    ck_assert_str_eq(vc_verdict_name(VC_SKIP), "SKIP");
    ck_assert_str_eq(vc_verdict_name(VC_ERROR), "ERROR");
    ck_assert_str_eq(vc_verdict_name((VcVerdict)42), "ERROR");
    ck_assert_str_eq(vc_level_name(VC_MUST), "MUST");
    ck_assert_str_eq(vc_level_name(VC_SHOULD), "SHOULD");
    ck_assert_str_eq(vc_level_name(VC_MAY), "MAY");
    ck_assert_str_eq(vc_level_name((VcLevel)42), "UNKNOWN");
}
END_TEST

START_TEST(result_clear)
{
    VcResult r = {
        .id = g_strdup("VU-RING-005"),
        .spec = g_strdup("s"),
        .summary = g_strdup("x"),
        .reason = g_strdup("y"),
        .trace = g_strdup("t.pcap#frame=1"),
        .profile = g_strdup("p"),
        .seconds = 1.0,
    };
    VcResult empty = {0};

    vc_result_clear(&r);
    ck_assert_ptr_null(r.id);
    ck_assert_ptr_null(r.spec);
    ck_assert_ptr_null(r.summary);
    ck_assert_ptr_null(r.reason);
    ck_assert_ptr_null(r.trace);
    ck_assert_ptr_null(r.profile);
    vc_result_clear(&r); /* twice is harmless */
    vc_result_clear(&empty);
    vc_result_clear(NULL);
}
END_TEST

static const struct {
    const char *verdicts; /* P F W S E, x = out-of-range value */
    int want;
} exit_cases[] = {
    {"", 77},   {"S", 77},   {"SSS", 77},  {"P", 0},   {"W", 0},   {"PW", 0},
    {"PS", 0},  {"WS", 0},   {"WWS", 0},   {"F", 1},   {"FW", 1},  {"FS", 1},
    {"FE", 1},  {"EF", 1},   {"PFWSE", 1}, {"E", 99},  {"ES", 99}, {"EP", 99},
    {"EW", 99}, {"SEW", 99}, {"x", 99},    {"Px", 99}, {"Fx", 1},
};

static VcVerdict
verdict_of(char c)
{
    switch (c) {
    case 'P':
        return VC_PASS;
    case 'F':
        return VC_FAIL;
    case 'W':
        return VC_WARN;
    case 'S':
        return VC_SKIP;
    case 'E':
        return VC_ERROR;
    default:
        return (VcVerdict)42;
    }
}

START_TEST(exit_code_table)
{
    const char *v = exit_cases[_i].verdicts;
    VcResult results[8] = {0};
    guint n = strlen(v);

    for (guint i = 0; i < n; i++) {
        results[i].verdict = verdict_of(v[i]);
    }
    ck_assert_msg(vc_report_exit_code(n ? results : NULL, n) == exit_cases[_i].want,
                  "verdicts \"%s\": exit %d, want %d", v, vc_report_exit_code(results, n),
                  exit_cases[_i].want);
}
END_TEST

/* Every subset of the five verdicts (bit i = verdict i present), in both orders. */
START_TEST(exit_code_all_combinations)
{
    VcResult results[10] = {0};
    guint n = 0;
    int want;

    for (int v = VC_PASS; v <= VC_ERROR; v++) {
        if (_i & (1 << v)) {
            results[n++].verdict = (VcVerdict)v;
        }
    }
    if (_i & (1 << VC_FAIL)) {
        want = 1;
    } else if (_i & (1 << VC_ERROR)) {
        want = 99;
    } else if ((_i & ~(1 << VC_SKIP)) == 0) {
        want = 77;
    } else {
        want = 0;
    }
    ck_assert_int_eq(vc_report_exit_code(results, n), want);
    for (guint i = 0; i < n / 2; i++) {
        VcResult t = results[i];

        results[i] = results[n - 1 - i];
        results[n - 1 - i] = t;
    }
    ck_assert_int_eq(vc_report_exit_code(results, n), want);
}
END_TEST

/* ---- text ----------------------------------------------------------------- */

static VcResult text_results[5];

static void
text_results_init(void)
{
    text_results[0] = mk("VU-RING-005", VC_MUST, "every ring begins stopped and disabled", VC_PASS,
                         "used index stayed at 0", NULL);
    text_results[1] =
        mk("VU-RING-002", VC_MUST, "with PROTOCOL_FEATURES a ring starts disabled", VC_FAIL,
           "used idx advanced while ring disabled", "traces/run-0007.pcap#frame=41");
    text_results[2] = mk("VU-HDR-010", VC_SHOULD, "reply flags are exact", VC_WARN,
                         "reply had NEED_REPLY set", NULL);
    text_results[3] = mk("VU-MQ-001", VC_MAY, "queue pairs beyond the first", VC_SKIP,
                         "backend did not offer VHOST_USER_PROTOCOL_F_MQ", NULL);
    text_results[4] = mk("VU-MEM-003", VC_MUST, "SET_MEM_TABLE is acknowledged", VC_ERROR,
                         "daemon exited\nwith status 1", NULL);
}

static const char text_expected[] =
    "PASS  VU-RING-005  MUST    every ring begins stopped and disabled\n"
    "FAIL  VU-RING-002  MUST    with PROTOCOL_FEATURES a ring starts disabled\n"
    "      used idx advanced while ring disabled\n"
    "      trace: traces/run-0007.pcap#frame=41\n"
    "WARN  VU-HDR-010   SHOULD  reply flags are exact\n"
    "      reply had NEED_REPLY set\n"
    "SKIP  VU-MQ-001    MAY     queue pairs beyond the first\n"
    "      backend did not offer VHOST_USER_PROTOCOL_F_MQ\n"
    "ERROR VU-MEM-003   MUST    SET_MEM_TABLE is acknowledged\n"
    "      daemon exited with status 1\n"
    "\n"
    "checks: 5  pass: 1  fail: 1  warn: 1  skip: 1  error: 1\n"
    "backend: /usr/bin/fake --socket-path=/tmp/s\n"
    "vhost-conform 0.1.0  started: 2024-05-01T10:00:00Z  time: 12.346 s  exit code: 1\n";

START_TEST(text_exact)
{
    Capture c;
    g_autofree char *out = NULL;

    text_results_init();
    vc_report_text(capture_open(&c), &run_info, text_results, 5, false);
    out = capture_close(&c);
    ck_assert_str_eq(out, text_expected);
}
END_TEST

/* A matrix names the profile and ring layout of each line, only where they differ. */
START_TEST(text_matrix_labels)
{
    VcResult r[3];
    Capture c;
    g_autofree char *out = NULL;

    for (int i = 0; i < 3; i++) {
        r[i] = mk("VU-VB-02", VC_MUST, "base", VC_PASS, "", NULL);
        r[i].profile = S("qemu-7.2");
    }
    r[0].ring = S("split");
    r[1].ring = S("packed");
    r[2].ring = S("split");
    r[2].profile = S("minimal");
    vc_report_text(capture_open(&c), &run_info, r, 3, false);
    out = capture_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "base  [qemu-7.2 split]\n"));
    ck_assert_ptr_nonnull(strstr(out, "base  [qemu-7.2 packed]\n"));
    ck_assert_ptr_nonnull(strstr(out, "base  [minimal split]\n"));
    /* One layout, one profile: no labels. */
    r[1].ring = S("split");
    r[2].profile = S("qemu-7.2");
    vc_report_text(capture_open(&c), &run_info, r, 3, false);
    g_free(out);
    out = capture_close(&c);
    ck_assert_ptr_null(strstr(out, "["));
}
END_TEST

START_TEST(text_totals)
{
    VcResult results[52];
    Capture c;
    g_autofree char *out = NULL;
    guint i = 0;

    for (; i < 40; i++) {
        results[i] = mk("VU-HDR-001", VC_MUST, "s", VC_PASS, NULL, NULL);
    }
    for (; i < 43; i++) {
        results[i] = mk("VU-HDR-002", VC_MUST, "s", VC_FAIL, "r", NULL);
    }
    for (; i < 45; i++) {
        results[i] = mk("VU-HDR-003", VC_SHOULD, "s", VC_WARN, "r", NULL);
    }
    for (; i < 51; i++) {
        results[i] = mk("VU-HDR-004", VC_MUST, "s", VC_SKIP, "r", NULL);
    }
    results[i++] = mk("VU-HDR-005", VC_MUST, "s", VC_ERROR, "r", NULL);
    ck_assert_uint_eq(i, 52);

    vc_report_text(capture_open(&c), NULL, results, 52, false);
    out = capture_close(&c);
    ck_assert_ptr_nonnull(
        strstr(out, "\n\nchecks: 52  pass: 40  fail: 3  warn: 2  skip: 6  error: 1\n"));
    ck_assert(g_str_has_suffix(out, "error: 1\n")); /* no run info, no backend line */

    vc_report_text(capture_open(&c), NULL, NULL, 0, false);
    g_free(out);
    out = capture_close(&c);
    ck_assert_str_eq(out, "checks: 0  pass: 0  fail: 0  warn: 0  skip: 0  error: 0\n");
}
END_TEST

START_TEST(text_colour_and_hostile)
{
    VcResult r[2] = {
        mk("VU-RING-002", VC_MUST, "sum\nmary", VC_FAIL, HOSTILE, NULL),
        mk("VU-RING-005", VC_MUST, "ok", VC_PASS, NULL, NULL),
    };
    Capture c;
    g_autofree char *out = NULL;

    vc_report_text(capture_open(&c), NULL, r, 2, false);
    out = capture_close(&c);
    /* No escape byte and no line break of the daemon's reaches the terminal. */
    ck_assert_ptr_null(strchr(out, '\033'));
    ck_assert_str_eq(out, "FAIL  VU-RING-002  MUST    sum mary\n"
                          "      a<b>&c\"d'e f [2Jg h i j\\k: l # SKIP m\n"
                          "PASS  VU-RING-005  MUST    ok\n"
                          "\n"
                          "checks: 2  pass: 1  fail: 1  warn: 0  skip: 0  error: 0\n");

    vc_report_text(capture_open(&c), NULL, r, 2, true);
    g_free(out);
    out = capture_close(&c);
    ck_assert(g_str_has_prefix(out, "\033[1;31mFAIL\033[0m  VU-RING-002  MUST    sum mary\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n\033[32mPASS\033[0m  VU-RING-005  "));
    ck_assert_ptr_null(strstr(out, "\033[2J"));
}
END_TEST

/* ---- TAP ------------------------------------------------------------------ */

static char *
tap_one(guint number, const VcResult *r)
{
    Capture c;

    vc_report_tap_result(capture_open(&c), number, r);
    return capture_close(&c);
}

START_TEST(tap_begin_end)
{
    Capture c;
    g_autofree char *out = NULL;
    VcResult r[3] = {
        mk("A-B-1", VC_MUST, "s", VC_PASS, NULL, NULL),
        mk("A-B-2", VC_MUST, "s", VC_WARN, NULL, NULL),
        mk("A-B-3", VC_MUST, "s", VC_SKIP, NULL, NULL),
    };

    vc_report_tap_begin(capture_open(&c), 52);
    out = capture_close(&c);
    ck_assert_str_eq(out, "TAP version 13\n1..52\n");

    vc_report_tap_end(capture_open(&c), r, 3);
    g_free(out);
    out = capture_close(&c);
    ck_assert_str_eq(out, "# checks: 3  pass: 1  fail: 0  warn: 1  skip: 1  error: 0\n");
}
END_TEST

START_TEST(tap_pass)
{
    VcResult r = mk("VU-RING-005", VC_MUST, "every ring begins stopped and disabled", VC_PASS,
                    "used index stayed at 0", "t.pcap#frame=3");
    g_autofree char *out = tap_one(1, &r);

    ck_assert_str_eq(out, "ok 1 - VU-RING-005 every ring begins stopped and disabled\n");
}
END_TEST

START_TEST(tap_skip)
{
    VcResult r = mk("VU-MQ-001", VC_MAY, "queue pairs", VC_SKIP,
                    "backend did not offer\nVHOST_USER_PROTOCOL_F_MQ: \"really\"", NULL);
    g_autofree char *out = tap_one(3, &r);

    ck_assert_str_eq(out, "ok 3 - VU-MQ-001 queue pairs # SKIP backend did not offer "
                          "VHOST_USER_PROTOCOL_F_MQ: \"really\"\n");
}
END_TEST

START_TEST(tap_warn)
{
    VcResult r = mk("VU-HDR-010", VC_SHOULD, "reply flags are exact", VC_WARN,
                    "flags: 0x5 \"NEED_REPLY\"\nset", NULL);
    g_autofree char *out = tap_one(7, &r);

    ck_assert_str_eq(out, "ok 7 - VU-HDR-010 reply flags are exact # WARN flags: 0x5 "
                          "\"NEED_REPLY\" set\n"
                          "  ---\n"
                          "  spec: \"vhost-user.rst#ring-states\"\n"
                          "  level: SHOULD\n"
                          "  verdict: WARN\n"
                          "  message: \"flags: 0x5 \\\"NEED_REPLY\\\"\\nset\"\n"
                          "  ...\n");
}
END_TEST

START_TEST(tap_fail)
{
    VcResult r = mk("VU-RING-002", VC_MUST, "ring starts disabled", VC_FAIL,
                    "used idx \"3\": moved\nthen C:\\dir", "traces/run-0007.pcap#frame=41");
    g_autofree char *out = NULL;

    r.profile = S("qemu-8.2");
    out = tap_one(2, &r);
    ck_assert_str_eq(out, "not ok 2 - VU-RING-002 ring starts disabled\n"
                          "  ---\n"
                          "  spec: \"vhost-user.rst#ring-states\"\n"
                          "  level: MUST\n"
                          "  verdict: FAIL\n"
                          "  message: \"used idx \\\"3\\\": moved\\nthen C:\\\\dir\"\n"
                          "  trace: \"traces/run-0007.pcap#frame=41\"\n"
                          "  profile: \"qemu-8.2\"\n"
                          "  ...\n");
}
END_TEST

START_TEST(tap_error)
{
    VcResult r = mk("VU-MEM-003", VC_MUST, "table acked", VC_ERROR, NULL, NULL);
    g_autofree char *out = NULL;

    r.spec = NULL;
    out = tap_one(4, &r);
    ck_assert_str_eq(out, "not ok 4 - VU-MEM-003 table acked\n"
                          "  ---\n"
                          "  spec: ~\n"
                          "  level: MUST\n"
                          "  verdict: ERROR\n"
                          "  message: ~\n"
                          "  ...\n");
}
END_TEST

START_TEST(tap_hostile)
{
    VcResult r = mk("VU-X-#1", VC_MUST, "queue #0 # SKIP\nnot really", VC_FAIL,
                    HOSTILE "\xff\xe2\x80\xa8", NULL);
    g_autofree char *out = tap_one(1, &r);

    /* '#' in a description would start a directive for meson: it becomes U+FF03. */
    ck_assert_str_eq(out, "not ok 1 - VU-X-\xef\xbc\x83"
                          "1 queue \xef\xbc\x83"
                          "0 "
                          "\xef\xbc\x83 SKIP not really\n"
                          "  ---\n"
                          "  spec: \"vhost-user.rst#ring-states\"\n"
                          "  level: MUST\n"
                          "  verdict: FAIL\n"
                          "  message: \"a<b>&c\\\"d'e\\x01f\\x1B[2Jg\\x7Fh\\ni\\tj\\\\k: l # SKIP m"
                          "\xef\xbf\xbd\\u2028\"\n"
                          "  ...\n");
}
END_TEST

/* The whole stream, read back by meson's TAPParser and by PyYAML. */
START_TEST(tap_meson_parser)
{
    VcResult r[6] = {
        mk("VU-RING-005", VC_MUST, "stopped", VC_PASS, "ok", NULL),
        mk("VU-MQ-001", VC_MAY, "mq", VC_SKIP, "no MQ\nat all # TODO no", NULL),
        mk("VU-HDR-010", VC_SHOULD, "flags # SKIP", VC_WARN, "x # SKIP y\n  ...\n  ---", NULL),
        mk("VU-RING-002", VC_MUST, "disabled", VC_FAIL, HOSTILE, "t.pcap#frame=41"),
        mk("VU-MEM-003", VC_MUST, "acked", VC_ERROR, "Bail out! \xff", NULL),
        mk("VU-HDR-011", VC_MUST, "todo # TODO", VC_PASS, NULL, NULL),
    };
    g_autofree char *path = tmp_path("report.tap");
    g_autofree char *parsed = NULL;
    g_autofree char *yaml = NULL;
    FILE *f = fopen(path, "w");
    int rc;

    ck_assert_ptr_nonnull(f);
    vc_report_tap_begin(f, 6);
    for (guint i = 0; i < 6; i++) {
        vc_report_tap_result(f, i + 1, &r[i]);
    }
    vc_report_tap_end(f, r, 6);
    ck_assert_int_eq(fclose(f), 0);

    rc = run_check_tap("meson", path, &parsed);
    if (rc == 77) {
        fprintf(stderr, "meson's TAPParser or check-tap.py not available: parser check skipped\n");
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(parsed, "PLAN 6\n"
                                 "OK 1 -\n"
                                 "SKIP 2 no MQ at all # TODO no\n"
                                 "OK 3 -\n"
                                 "FAIL 4 -\n"
                                 "FAIL 5 -\n"
                                 "OK 6 -\n");
    }

    rc = run_check_tap("yaml", path, &yaml);
    if (rc == 77) {
        fprintf(stderr, "PyYAML or check-tap.py not available: YAML check skipped\n");
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(
            yaml,
            "{\"level\": \"SHOULD\", \"message\": \"x # SKIP y\\n  ...\\n  ---\", "
            "\"spec\": \"vhost-user.rst#ring-states\", \"verdict\": \"WARN\"}\n"
            "{\"level\": \"MUST\", \"message\": \"a<b>&c\\\"d'e\\u0001f\\u001b[2Jg\\u007fh\\ni"
            "\\tj\\\\k: l # SKIP m\", \"spec\": \"vhost-user.rst#ring-states\", "
            "\"trace\": \"t.pcap#frame=41\", \"verdict\": \"FAIL\"}\n"
            "{\"level\": \"MUST\", \"message\": \"Bail out! \\ufffd\", "
            "\"spec\": \"vhost-user.rst#ring-states\", \"verdict\": \"ERROR\"}\n");
    }
    tmp_remove(path);
}
END_TEST

/* ---- JUnit ---------------------------------------------------------------- */

typedef struct {
    guint testcases, failures, errors, skipped, system_out;
    char *failure_message;
    char *failure_text;
    GString *text;
    bool in_failure;
} JUnitSeen;

static void
junit_start(GMarkupParseContext *ctx, const char *element, const char **names, const char **values,
            gpointer data, GError **error)
{
    JUnitSeen *seen = data;

    if (!strcmp(element, "testcase")) {
        seen->testcases++;
    } else if (!strcmp(element, "failure")) {
        seen->failures++;
        seen->in_failure = true;
        for (guint i = 0; names[i]; i++) {
            if (!strcmp(names[i], "message")) {
                seen->failure_message = g_strdup(values[i]);
            }
        }
    } else if (!strcmp(element, "error")) {
        seen->errors++;
    } else if (!strcmp(element, "skipped")) {
        seen->skipped++;
    } else if (!strcmp(element, "system-out")) {
        seen->system_out++;
    }
}

static void
junit_end(GMarkupParseContext *ctx, const char *element, gpointer data, GError **error)
{
    JUnitSeen *seen = data;

    if (!strcmp(element, "failure")) {
        seen->in_failure = false;
    }
}

static void
junit_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data, GError **error)
{
    JUnitSeen *seen = data;

    if (seen->in_failure) {
        g_string_append_len(seen->text, text, len);
    }
}

static const GMarkupParser junit_parser = {
    .start_element = junit_start,
    .end_element = junit_end,
    .text = junit_text,
};

static void
junit_parse(const char *xml, JUnitSeen *seen)
{
    g_autoptr(GError) error = NULL;
    GMarkupParseContext *ctx;

    memset(seen, 0, sizeof(*seen));
    seen->text = g_string_new(NULL);
    ctx = g_markup_parse_context_new(&junit_parser, 0, seen, NULL);
    ck_assert_msg(g_markup_parse_context_parse(ctx, xml, -1, &error) &&
                      g_markup_parse_context_end_parse(ctx, &error),
                  "GMarkup: %s", error ? error->message : "");
    g_markup_parse_context_free(ctx);
}

static void
xmllint(const char *path)
{
    const char *argv[] = {"xmllint", "--noout", path, NULL};
    int rc = run_tool(argv, NULL);

    if (rc == 77) {
        fprintf(stderr, "xmllint not found: XML validation skipped\n");
        return;
    }
    ck_assert_msg(rc == 0, "xmllint --noout %s: exit %d", path, rc);
}

START_TEST(junit_exact)
{
    VcResult r[2] = {
        mk("VU-RING-005", VC_MUST, "stopped", VC_PASS, NULL, NULL),
        mk("VU-RING-002", VC_MUST, "disabled", VC_FAIL, "moved", "t.pcap#frame=41"),
    };
    g_autofree char *path = tmp_path("junit.xml");
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;

    ck_assert(vc_report_junit(path, &run_info, r, 2, &error));
    xml = slurp(path);
    ck_assert_str_eq(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"vhost-conform\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" "
        "time=\"12.346\">\n"
        "  <testsuite name=\"vhost-conform\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" "
        "time=\"12.346\" timestamp=\"2024-05-01T10:00:00Z\">\n"
        "    <properties>\n"
        "      <property name=\"backend\" value=\"/usr/bin/fake --socket-path=/tmp/s\"/>\n"
        "      <property name=\"version\" value=\"0.1.0\"/>\n"
        "      <property name=\"exit_code\" value=\"1\"/>\n"
        "    </properties>\n"
        "    <testcase classname=\"vhost-conform.RING\" name=\"VU-RING-005 stopped\" "
        "time=\"0.013\">\n"
        "    </testcase>\n"
        "    <testcase classname=\"vhost-conform.RING\" name=\"VU-RING-002 disabled\" "
        "time=\"0.013\">\n"
        "      <failure message=\"moved\" type=\"MUST\">spec: vhost-user.rst#ring-states\n"
        "level: MUST\n"
        "message: moved\n"
        "trace: t.pcap#frame=41</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n");
    xmllint(path);
    tmp_remove(path);
}
END_TEST

START_TEST(junit_hostile)
{
    VcResult r[6] = {
        mk("VU-RING-005", VC_MUST, "stopped", VC_PASS, "observed 0", NULL),
        mk("VU-RING-002", VC_MUST, "dis<abled>", VC_FAIL, HOSTILE "\xff", "t.pcap#frame=41"),
        mk("VU-HDR-010", VC_SHOULD, "flags", VC_WARN, "w&<\x02>", NULL),
        mk("VIO-NET-CSUM-001", VC_MAY, "csum", VC_SKIP, "'no' \"csum\"\x1f", NULL),
        mk("X", VC_MUST, "x", VC_ERROR, "]]><!-- -->\r\n", NULL),
        mk(NULL, VC_MUST, NULL, VC_PASS, NULL, NULL),
    };
    VcRunInfo run = run_info;
    g_autofree char *path = tmp_path("junit.xml");
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    JUnitSeen seen;

    run.backend = "qemu-storage-daemon <\"&'\x03>";
    ck_assert(vc_report_junit(path, &run, r, 6, &error));
    xml = slurp(path);

    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"vhost-conform.RING\" "
                                      "name=\"VU-RING-002 dis&lt;abled&gt;\""));
    ck_assert_ptr_nonnull(strstr(xml, "<failure message=\"a&lt;b&gt;&amp;c&quot;d&apos;ef[2Jgh"
                                      "&#10;i&#9;j\\k: l # SKIP m\xef\xbf\xbd\" type=\"MUST\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<system-out>WARN: w&amp;&lt;&gt;</system-out>"));
    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"vhost-conform.NET-CSUM\""));
    ck_assert_ptr_nonnull(strstr(xml, "<skipped message=\"&apos;no&apos; &quot;csum&quot;\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"vhost-conform.X\" name=\"X x\""));
    ck_assert_ptr_nonnull(strstr(xml, "<error message=\"]]&gt;&lt;!-- --&gt;&#13;&#10;\" "
                                      "type=\"ERROR\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"vhost-conform.unknown\" name=\"\""));
    ck_assert_ptr_nonnull(strstr(xml, "value=\"qemu-storage-daemon &lt;&quot;&amp;&apos;&gt;\""));
    ck_assert_ptr_nonnull(strstr(xml, "<system-out>PASS: observed 0</system-out>"));
    ck_assert_ptr_nonnull(strstr(xml, "failures=\"1\" errors=\"1\" skipped=\"1\""));
    for (const char *p = xml; *p; p++) {
        ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t',
                      "control byte 0x%02x at %td", (unsigned char)*p, p - xml);
    }

    junit_parse(xml, &seen);
    ck_assert_uint_eq(seen.testcases, 6);
    ck_assert_uint_eq(seen.failures, 1);
    ck_assert_uint_eq(seen.errors, 1);
    ck_assert_uint_eq(seen.skipped, 1);
    ck_assert_uint_eq(seen.system_out, 2);
    ck_assert_str_eq(seen.failure_message, "a<b>&c\"d'ef[2Jgh\ni\tj\\k: l # SKIP m\xef\xbf\xbd");
    ck_assert_str_eq(seen.text->str, "spec: vhost-user.rst#ring-states\nlevel: MUST\n"
                                     "message: a<b>&c\"d'ef[2Jgh\ni\tj\\k: l # SKIP m\xef\xbf\xbd\n"
                                     "trace: t.pcap#frame=41");
    g_free(seen.failure_message);
    g_string_free(seen.text, TRUE);

    xmllint(path);
    tmp_remove(path);
}
END_TEST

START_TEST(junit_empty)
{
    g_autofree char *path = tmp_path("junit.xml");
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    JUnitSeen seen;

    ck_assert(vc_report_junit(path, NULL, NULL, 0, &error));
    xml = slurp(path);
    ck_assert_ptr_nonnull(strstr(xml, "tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" "
                                      "time=\"0.000\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<property name=\"exit_code\" value=\"77\"/>"));
    junit_parse(xml, &seen);
    ck_assert_uint_eq(seen.testcases, 0);
    g_string_free(seen.text, TRUE);
    xmllint(path);
    tmp_remove(path);
}
END_TEST

/* ---- JSON ----------------------------------------------------------------- */

static void
json_tool(const char *path)
{
    const char *argv[] = {"python3", "-m", "json.tool", path, NULL};
    g_autofree char *out = NULL;
    int rc = run_tool(argv, &out);

    if (rc == 77) {
        fprintf(stderr, "python3 not found: JSON validation skipped\n");
        return;
    }
    ck_assert_msg(rc == 0, "python3 -m json.tool %s: exit %d", path, rc);
}

/* Loads the report with Python's json and prints ascii() of chosen values. */
static char *
json_values(const char *path)
{
    const char *argv[] = {
        "python3",
        "-c",
        "import json,sys\n"
        "d=json.load(open(sys.argv[1],encoding='utf-8'))\n"
        "print(ascii(list(d)))\n"
        "print(ascii(list(d['totals'].items())))\n"
        "for r in d['results']: "
        "print(ascii([r['id'],r['summary'],r['reason'],r['trace'],r['seconds']]))\n",
        path,
        NULL,
    };
    char *out = NULL;
    int rc = run_tool(argv, &out);

    if (rc == 77) {
        return NULL;
    }
    ck_assert_int_eq(rc, 0);
    return out;
}

START_TEST(json_exact)
{
    VcResult r = mk("VU-RING-002", VC_MUST, "disabled", VC_FAIL, "moved", "t.pcap#frame=41");
    g_autofree char *path = tmp_path("report.json");
    g_autofree char *json = NULL;
    g_autoptr(GError) error = NULL;

    r.profile = S("qemu-8.2");
    ck_assert(vc_report_json(path, &run_info, &r, 1, &error));
    json = slurp(path);
    ck_assert_str_eq(json, "{\n"
                           "  \"tool\": \"vhost-conform\",\n"
                           "  \"version\": \"0.1.0\",\n"
                           "  \"backend\": \"/usr/bin/fake --socket-path=/tmp/s\",\n"
                           "  \"started\": \"2024-05-01T10:00:00Z\",\n"
                           "  \"seconds\": 12.346,\n"
                           "  \"exit_code\": 1,\n"
                           "  \"totals\": {\n"
                           "    \"checks\": 1,\n"
                           "    \"pass\": 0,\n"
                           "    \"fail\": 1,\n"
                           "    \"warn\": 0,\n"
                           "    \"skip\": 0,\n"
                           "    \"error\": 0\n"
                           "  },\n"
                           "  \"results\": [\n"
                           "    {\n"
                           "      \"id\": \"VU-RING-002\",\n"
                           "      \"spec\": \"vhost-user.rst#ring-states\",\n"
                           "      \"level\": \"MUST\",\n"
                           "      \"summary\": \"disabled\",\n"
                           "      \"verdict\": \"FAIL\",\n"
                           "      \"reason\": \"moved\",\n"
                           "      \"trace\": \"t.pcap#frame=41\",\n"
                           "      \"profile\": \"qemu-8.2\",\n"
                           "      \"ring\": null,\n"
                           "      \"seconds\": 0.013\n"
                           "    }\n"
                           "  ]\n"
                           "}\n");
    json_tool(path);
    tmp_remove(path);
}
END_TEST

/* HTML: escaped, FAIL and WARN before PASS, totals, one file with no external resource. */
START_TEST(html_page)
{
    VcResult r[3] = {
        mk("VU-HDR-001", VC_MUST, "replies", VC_PASS, "fine", NULL),
        mk("VU-RING-002", VC_MUST, "ring <b>", VC_FAIL, HOSTILE, "t.pcap#frame=41"),
        mk("VU-MQ-001", VC_SHOULD, "mq", VC_WARN, "soft", NULL),
    };
    g_autofree char *path = tmp_path("report.html");
    g_autofree char *html = NULL;
    g_autoptr(GError) error = NULL;
    const char *fail, *warn, *pass;

    r[1].profile = S("qemu-7.2");
    r[1].ring = S("packed");
    ck_assert(vc_report_html(path, &run_info, r, 3, &error));
    html = slurp(path);
    ck_assert(g_str_has_prefix(html, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(html, "fail: 1"));
    ck_assert_ptr_nonnull(strstr(html, "ring &lt;b&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "a&lt;b&gt;&amp;c&quot;d&apos;e"));
    ck_assert_ptr_null(strstr(html, "<b>&c"));
    ck_assert_ptr_nonnull(strstr(html, "qemu-7.2 packed"));
    ck_assert_ptr_nonnull(strstr(html, "t.pcap#frame=41"));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "http"));
    fail = strstr(html, "VU-RING-002");
    warn = strstr(html, "VU-MQ-001");
    pass = strstr(html, "VU-HDR-001");
    ck_assert(fail && warn && pass && fail < warn && warn < pass);
    /* An unwritable path is an error naming it. */
    ck_assert(!vc_report_html("/nonexistent/dir/r.html", &run_info, r, 3, &error) || error);
}
END_TEST

START_TEST(json_hostile)
{
    VcResult r[3] = {
        mk("VU-RING-002", VC_MUST, "bad\xff\xc3(utf-8 \xe2\x82", VC_FAIL,
           HOSTILE "\b\f\r\xe2\x80\xa8 \xc3\xa9\xf0\x9f\x98\x80", NULL),
        mk(NULL, VC_SHOULD, NULL, VC_WARN, NULL, NULL),
        mk("VU-MQ-001", VC_MAY, "mq", VC_SKIP, "", "x\"y"),
    };
    VcRunInfo run = run_info;
    g_autofree char *path = tmp_path("report.json");
    g_autofree char *json = NULL;
    g_autofree char *values = NULL;
    g_autoptr(GError) error = NULL;

    run.backend = "vhost-user-blk \"--x\"\n";
    r[1].seconds = INFINITY; /* must still be a JSON number */
    r[2].seconds = NAN;
    ck_assert(vc_report_json(path, &run, r, 3, &error));
    json = slurp(path);

    ck_assert(g_utf8_validate(json, -1, NULL));
    ck_assert_ptr_nonnull(strstr(json, "\"backend\": \"vhost-user-blk \\\"--x\\\"\\n\",\n"));
    ck_assert_ptr_nonnull(strstr(json, "\"summary\": \"bad\xef\xbf\xbd\xef\xbf\xbd(utf-8 "
                                       "\xef\xbf\xbd\xef\xbf\xbd\",\n"));
    ck_assert_ptr_nonnull(strstr(json, "\"reason\": \"a<b>&c\\\"d'e\\u0001f\\u001b[2Jg\x7fh\\ni"
                                       "\\tj\\\\k: l # SKIP m\\b\\f\\r\\u2028 \xc3\xa9"
                                       "\xf0\x9f\x98\x80\",\n"));
    ck_assert_ptr_nonnull(strstr(json, "      \"id\": null,\n"));
    ck_assert_ptr_nonnull(strstr(json, "      \"seconds\": 0.000\n"));
    ck_assert_ptr_nonnull(strstr(json, "      \"trace\": \"x\\\"y\",\n"));

    json_tool(path);
    values = json_values(path);
    if (values) {
        ck_assert_str_eq(
            values,
            "['tool', 'version', 'backend', 'started', 'seconds', 'exit_code', 'totals', "
            "'results']\n"
            "[('checks', 3), ('pass', 0), ('fail', 1), ('warn', 1), ('skip', 1), ('error', 0)]\n"
            "['VU-RING-002', 'bad\\ufffd\\ufffd(utf-8 \\ufffd\\ufffd', "
            "'a<b>&c\"d\\'e\\x01f\\x1b[2Jg"
            "\\x7fh\\ni\\tj\\\\k: l # SKIP m\\x08\\x0c\\r\\u2028 \\xe9\\U0001f600', None, 0.013]\n"
            "[None, None, None, None, 0.0]\n"
            "['VU-MQ-001', 'mq', '', 'x\"y', 0.0]\n");
    }
    tmp_remove(path);
}
END_TEST

START_TEST(json_empty)
{
    g_autofree char *path = tmp_path("report.json");
    g_autofree char *json = NULL;
    g_autoptr(GError) error = NULL;

    ck_assert(vc_report_json(path, NULL, NULL, 0, &error));
    json = slurp(path);
    ck_assert(g_str_has_prefix(json, "{\n  \"tool\": \"vhost-conform\",\n  \"version\": null,\n"));
    ck_assert_ptr_nonnull(strstr(json, "  \"exit_code\": 77,\n"));
    ck_assert(g_str_has_suffix(json, "  \"results\": []\n}\n"));
    json_tool(path);
    tmp_remove(path);
}
END_TEST

/* ---- files ---------------------------------------------------------------- */

START_TEST(write_replaces_atomically)
{
    VcResult r = mk("VU-RING-005", VC_MUST, "stopped", VC_PASS, NULL, NULL);
    g_autofree char *path = tmp_path("report.json");
    g_autofree char *json = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    GDir *d;
    guint entries = 0;

    ck_assert(g_file_set_contents(path, "old contents, much longer than nothing", -1, NULL));
    ck_assert(vc_report_json(path, &run_info, &r, 1, &error));
    json = slurp(path);
    ck_assert(g_str_has_prefix(json, "{\n"));
    ck_assert(g_str_has_suffix(json, "]\n}\n"));

    ck_assert(vc_report_junit(path, &run_info, &r, 1, &error));
    g_free(json);
    json = slurp(path);
    ck_assert(g_str_has_prefix(json, "<?xml"));

    d = g_dir_open(dir, 0, NULL);
    ck_assert_ptr_nonnull(d);
    while (g_dir_read_name(d)) {
        entries++;
    }
    g_dir_close(d);
    ck_assert_uint_eq(entries, 1); /* no temporary file left beside the report */
    tmp_remove(path);
}
END_TEST

START_TEST(write_error_names_path)
{
    VcResult r = mk("VU-RING-005", VC_MUST, "stopped", VC_PASS, NULL, NULL);
    const char *path = "/nonexistent-vc-report-dir/sub/report.json";
    g_autoptr(GError) error = NULL;

    ck_assert(!vc_report_json(path, &run_info, &r, 1, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert(error->domain == G_FILE_ERROR);
    ck_assert_msg(g_str_has_prefix(error->message, "cannot write JSON report "
                                                   "/nonexistent-vc-report-dir/sub/report.json: "),
                  "%s", error->message);
    ck_assert_ptr_null(strchr(error->message, '\n'));
    g_clear_error(&error);

    ck_assert(!vc_report_junit(path, &run_info, &r, 1, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert(
        g_str_has_prefix(error->message, "cannot write JUnit report /nonexistent-vc-report-dir/"));
    ck_assert_ptr_null(strchr(error->message, '\n'));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("report");
    TCase *tc_exit = tcase_create("exit");
    TCase *tc_text = tcase_create("text");
    TCase *tc_tap = tcase_create("tap");
    TCase *tc_junit = tcase_create("junit");
    TCase *tc_json = tcase_create("json");
    TCase *tc_file = tcase_create("file");
    SRunner *sr;
    int failed;

    tcase_add_test(tc_exit, verdict_and_level_names);
    tcase_add_test(tc_exit, result_clear);
    tcase_add_loop_test(tc_exit, exit_code_table, 0, G_N_ELEMENTS(exit_cases));
    tcase_add_loop_test(tc_exit, exit_code_all_combinations, 0, 1 << 5);
    suite_add_tcase(s, tc_exit);

    tcase_add_test(tc_text, text_exact);
    tcase_add_test(tc_text, text_totals);
    tcase_add_test(tc_text, text_matrix_labels);
    tcase_add_test(tc_text, text_colour_and_hostile);
    suite_add_tcase(s, tc_text);

    tcase_add_test(tc_tap, tap_begin_end);
    tcase_add_test(tc_tap, tap_pass);
    tcase_add_test(tc_tap, tap_skip);
    tcase_add_test(tc_tap, tap_warn);
    tcase_add_test(tc_tap, tap_fail);
    tcase_add_test(tc_tap, tap_error);
    tcase_add_test(tc_tap, tap_hostile);
    tcase_add_test(tc_tap, tap_meson_parser);
    tcase_set_timeout(tc_tap, 30);
    suite_add_tcase(s, tc_tap);

    tcase_add_test(tc_junit, junit_exact);
    tcase_add_test(tc_junit, junit_hostile);
    tcase_add_test(tc_junit, junit_empty);
    tcase_set_timeout(tc_junit, 30);
    suite_add_tcase(s, tc_junit);

    tcase_add_test(tc_json, json_exact);
    tcase_add_test(tc_json, json_hostile);
    tcase_add_test(tc_json, html_page);
    tcase_add_test(tc_json, json_empty);
    tcase_set_timeout(tc_json, 30);
    suite_add_tcase(s, tc_json);

    tcase_add_test(tc_file, write_replaces_atomically);
    tcase_add_test(tc_file, write_error_names_path);
    suite_add_tcase(s, tc_file);

    sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
