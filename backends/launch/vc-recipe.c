/*
 * vc-recipe.c -- launch recipes (GKeyFile, group [recipe]).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vc-recipe.h"

#define GROUP "recipe"
#define SUFFIX ".recipe"

GStrv
vc_recipe_dirs(void)
{
    g_autoptr(GPtrArray) dirs = g_ptr_array_new();
    const char *env = g_getenv("VC_RECIPE_PATH");

    if (env && *env) {
        g_auto(GStrv) parts = g_strsplit(env, ":", -1);
        for (char **p = parts; *p; p++) {
            if (**p) {
                g_ptr_array_add(dirs, g_strdup(*p));
            }
        }
    }
    g_ptr_array_add(dirs, g_strdup(VC_SOURCE_RECIPE_DIR));
    g_ptr_array_add(dirs, g_strdup(VC_INSTALLED_RECIPE_DIR));
    g_ptr_array_add(dirs, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&dirs), FALSE);
}

static int
signal_from_name(const char *s)
{
    static const struct { const char *name; int sig; } sigs[] = {
        {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGKILL", SIGKILL}, {"SIGQUIT", SIGQUIT},
        {"SIGHUP", SIGHUP},
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(sigs); i++) {
        if (g_ascii_strcasecmp(s, sigs[i].name) == 0 ||
            g_ascii_strcasecmp(s, sigs[i].name + 3) == 0) {
            return sigs[i].sig;
        }
    }
    return 0;
}

static GStrv
get_list(GKeyFile *kf, const char *key)
{
    g_autofree char *v = g_key_file_get_string(kf, GROUP, key, NULL);
    g_autoptr(GPtrArray) out = NULL;

    if (!v) {
        return NULL;
    }
    out = g_ptr_array_new();
    /* One entry per line or per comma; entries themselves are trimmed. */
    g_auto(GStrv) parts = g_strsplit_set(v, ",\n", -1);
    for (char **p = parts; *p; p++) {
        g_strstrip(*p);
        if (**p) {
            g_ptr_array_add(out, g_strdup(*p));
        }
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

VcRecipe *
vc_recipe_load(const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(VcRecipe) r = g_new0(VcRecipe, 1);
    g_autofree char *mode = NULL, *sig = NULL, *base = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
        g_prefix_error(error, "recipe %s: ", path);
        return NULL;
    }
    base = g_path_get_basename(path);
    if (g_str_has_suffix(base, SUFFIX)) {
        base[strlen(base) - strlen(SUFFIX)] = '\0';
    }
    r->name = g_strdup(base);
    r->path = g_strdup(path);
    r->description = g_key_file_get_string(kf, GROUP, "description", NULL);
    r->device = g_key_file_get_string(kf, GROUP, "device", NULL);
    mode = g_key_file_get_string(kf, GROUP, "mode", NULL);
    r->program = g_key_file_get_string(kf, GROUP, "program", NULL);
    r->command = g_key_file_get_string(kf, GROUP, "command", NULL);
    r->args = get_list(kf, "args");
    if (r->args) {
        /* args is one shell-quoted line, not a list. */
        g_autofree char *line = g_key_file_get_string(kf, GROUP, "args", NULL);
        g_strfreev(r->args);
        r->args = NULL;
        if (!g_shell_parse_argv(line, NULL, &r->args, error)) {
            g_prefix_error(error, "recipe %s: args: ", path);
            return NULL;
        }
    }
    r->packages = get_list(kf, "packages");
    r->files = get_list(kf, "files");
    r->dirs = get_list(kf, "dirs");
    r->cleanup = get_list(kf, "cleanup");
    r->known_failures = g_key_file_get_string_list(kf, GROUP, "known-failures", NULL, NULL);
    r->needs_root = g_key_file_get_boolean(kf, GROUP, "needs-root", NULL);
    r->exits_after_disconnect = g_key_file_get_boolean(kf, GROUP, "exits-after-disconnect", NULL);
    r->queues = (unsigned)g_key_file_get_integer(kf, GROUP, "queues", NULL);
    r->start_timeout_ms = g_key_file_get_integer(kf, GROUP, "start-timeout-ms", NULL);
    sig = g_key_file_get_string(kf, GROUP, "stop-signal", NULL);
    r->stop_signal = sig ? signal_from_name(sig) : SIGTERM;
    if (!r->device || !*r->device) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                    "recipe %s: no device", path);
        return NULL;
    }
    if (sig && !r->stop_signal) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "recipe %s: unknown stop-signal %s", path, sig);
        return NULL;
    }
    if (!mode || g_str_equal(mode, "command")) {
        r->mode = VC_LAUNCH_COMMAND;
    } else if (g_str_equal(mode, "program")) {
        r->mode = VC_LAUNCH_SOCKET_PATH;
    } else if (g_str_equal(mode, "listen")) {
        r->mode = VC_LAUNCH_LISTEN;
    } else {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "recipe %s: mode must be command, program or listen", path);
        return NULL;
    }
    if ((r->mode == VC_LAUNCH_SOCKET_PATH && !r->program) ||
        (r->mode != VC_LAUNCH_SOCKET_PATH && !r->command)) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                    "recipe %s: mode %s needs %s", path, mode ? mode : "command",
                    r->mode == VC_LAUNCH_SOCKET_PATH ? "program" : "command");
        return NULL;
    }
    return g_steal_pointer(&r);
}

void
vc_recipe_free(VcRecipe *r)
{
    if (!r) {
        return;
    }
    g_free(r->name);
    g_free(r->path);
    g_free(r->description);
    g_free(r->device);
    g_free(r->program);
    g_strfreev(r->args);
    g_free(r->command);
    g_strfreev(r->packages);
    g_strfreev(r->files);
    g_strfreev(r->dirs);
    g_strfreev(r->cleanup);
    g_strfreev(r->known_failures);
    g_free(r);
}

VcRecipe *
vc_recipe_find(const char *name, GError **error)
{
    g_auto(GStrv) dirs = NULL;

    if (g_str_has_suffix(name, SUFFIX) && g_file_test(name, G_FILE_TEST_IS_REGULAR)) {
        return vc_recipe_load(name, error);
    }
    if (strchr(name, '/')) {
        return NULL;
    }
    dirs = vc_recipe_dirs();
    for (char **d = dirs; *d; d++) {
        g_autofree char *file = g_strconcat(name, SUFFIX, NULL);
        g_autofree char *path = g_build_filename(*d, file, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            return vc_recipe_load(path, error);
        }
    }
    return NULL;
}

void
vc_recipe_spec(const VcRecipe *r, VcLaunchSpec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->mode = r->mode;
    spec->program = r->program;
    spec->args = r->args;
    spec->command = r->command;
    spec->stop_signal = r->stop_signal;
    spec->start_timeout_ms = r->start_timeout_ms;
    spec->files = r->files;
    spec->dirs = r->dirs;
    spec->cleanup = r->cleanup;
}

GPtrArray *
vc_recipe_list(void)
{
    g_auto(GStrv) dirs = vc_recipe_dirs();
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vc_recipe_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (char **d = dirs; *d; d++) {
        g_autoptr(GDir) dir = g_dir_open(*d, 0, NULL);
        const char *f;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        while (dir && (f = g_dir_read_name(dir))) {
            if (g_str_has_suffix(f, SUFFIX)) {
                g_ptr_array_add(names, g_strdup(f));
            }
        }
        g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *path = g_build_filename(*d, names->pdata[i], NULL);
            VcRecipe *r = vc_recipe_load(path, NULL);
            if (r && !g_hash_table_contains(seen, r->name)) {
                g_hash_table_add(seen, g_strdup(r->name));
                g_ptr_array_add(out, r);
            } else {
                vc_recipe_free(r);
            }
        }
    }
    return out;
}

char *
vc_recipe_check_host(const VcRecipe *r)
{
    g_autofree char *exe = NULL;

    if (r->needs_root && geteuid() != 0) {
        return g_strdup_printf("%s needs root", r->name);
    }
    if (r->mode == VC_LAUNCH_SOCKET_PATH) {
        exe = g_strdup(r->program);
    } else {
        g_auto(GStrv) words = NULL;
        if (g_shell_parse_argv(r->command, NULL, &words, NULL) && words[0]) {
            exe = g_strdup(words[0]);
        }
    }
    if (exe && !g_path_is_absolute(exe)) {
        char *found = g_find_program_in_path(exe);
        if (found) {
            g_free(exe);
            exe = found;
        } else {
            g_autofree char *pk = r->packages ? g_strjoinv(" ", r->packages) : g_strdup("?");
            return g_strdup_printf("%s is not installed (Debian package: %s)", exe, pk);
        }
    }
    if (exe && !g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *pk = r->packages ? g_strjoinv(" ", r->packages) : g_strdup("?");
        return g_strdup_printf("%s is not installed (Debian package: %s)", exe, pk);
    }
    return NULL;
}
