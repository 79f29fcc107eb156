/*
 * vc-mutants.c -- the mutant table.
 */
#include <string.h>

#include "vc-mutants.h"

#define VC_MUT_ROW(e, n, r, d) [VC_MUT_##e] = {VC_MUT_##e, n, r, d},
static const VcMutantInfo mutants[VC_MUT__COUNT] = {
    VC_MUTANTS(VC_MUT_ROW)
};
#undef VC_MUT_ROW

int
vc_mutant_lookup(const char *name, VcMutant *out)
{
    for (unsigned i = 1; i < VC_MUT__COUNT; i++) {
        if (strcmp(name, mutants[i].name) == 0) {
            *out = (VcMutant)i;
            return 0;
        }
    }
    return -1;
}

const VcMutantInfo *
vc_mutant_info(VcMutant m)
{
    if (m <= VC_MUT_NONE || m >= VC_MUT__COUNT) {
        return NULL;
    }
    return &mutants[m];
}

void
vc_mutant_print_list(FILE *out)
{
    for (unsigned i = 1; i < VC_MUT__COUNT; i++) {
        fprintf(out, "%s %s %s\n", mutants[i].name, mutants[i].rule, mutants[i].desc);
    }
}
