/*
 * vc-recipe.h -- launch recipes for third-party daemons: one small key file
 * per daemon in backends/recipes/ saying how to start it, what device it
 * serves, how to stop it, what to clean up and whether it needs root, so
 * that `vhost-conform --backend qemu-storage-daemon` needs nothing more.
 */
#ifndef VC_RECIPE_H
#define VC_RECIPE_H

#include <stdbool.h>

#include <glib.h>

#include "vc-launch.h"

/** VcRecipe: a parsed recipe. Strings are owned by the recipe. */
typedef struct VcRecipe {
    char *name;             /* file name without ".recipe" */
    char *path;             /* where it was read from */
    char *description;
    char *device;           /* "blk", "net", "fs", "gpu", "rng" */
    VcLaunchMode mode;      /* VC_LAUNCH_COMMAND, VC_LAUNCH_SOCKET_PATH (program) or VC_LAUNCH_LISTEN */
    char *program;          /* mode program: the executable */
    GStrv args;             /* mode program: its arguments */
    char *command;          /* mode command/listen: the template */
    int stop_signal;
    int start_timeout_ms;   /* 0: the default */
    bool needs_root;
    bool exits_after_disconnect;
    GStrv packages;         /* Debian packages that provide it */
    GStrv files;            /* see VcLaunchSpec */
    GStrv dirs;
    GStrv cleanup;
    unsigned queues;        /* rings to set up; 0: the device default */
    GStrv known_failures;   /* "RULE-ID: evidence" lines: real violations verified in its code */
} VcRecipe;

/**
 * vc_recipe_dirs:
 * Returns: (transfer full): the directories searched, in order: $VC_RECIPE_PATH
 * (colon-separated), the source tree's backends/recipes, the installed
 * datadir.
 */
GStrv vc_recipe_dirs(void);

/**
 * vc_recipe_find:
 * @name: a recipe name ("qemu-storage-daemon") or a path to a .recipe file
 *
 * Returns: (transfer full) (nullable): the recipe, NULL when there is none
 * by that name (no error), or NULL with @error set when one exists but is
 * malformed.
 */
VcRecipe *vc_recipe_find(const char *name, GError **error);

/** vc_recipe_load: parses the recipe file at @path. */
VcRecipe *vc_recipe_load(const char *path, GError **error);

/** vc_recipe_free: NULL is fine. */
void vc_recipe_free(VcRecipe *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcRecipe, vc_recipe_free)

/**
 * vc_recipe_spec:
 * Fills @spec from @r (borrowing its strings; @r must outlive @spec).
 */
void vc_recipe_spec(const VcRecipe *r, VcLaunchSpec *spec);

/**
 * vc_recipe_list:
 * Returns: (transfer full): every recipe found, by name (first found wins).
 */
GPtrArray *vc_recipe_list(void);

/**
 * vc_recipe_check_host:
 * Returns: NULL when this host can run @r, else (transfer full) a one-line
 * reason (not root, program missing: which package provides it).
 */
char *vc_recipe_check_host(const VcRecipe *r);

#endif /* VC_RECIPE_H */
