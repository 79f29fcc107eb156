/*
 * vc-test-util.h -- small helpers shared by the frontend-sim unit tests.
 *
 * Everything here is harness plumbing: it asserts (ck_assert) on failures
 * of the environment (socketpair, memfd) so that a test body only states
 * what it checks.
 */
#ifndef VC_TEST_UTIL_H
#define VC_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <check.h>

/**
 * vc_test_count_fds:
 * Returns: the number of entries in /proc/self/fd (the directory fd used to
 * read it is not counted). Compare before and after to find fd leaks.
 */
int vc_test_count_fds(void);

/**
 * vc_test_socketpair:
 * @sv: (out): a connected AF_UNIX stream pair, close-on-exec
 */
void vc_test_socketpair(int sv[2]);

/**
 * vc_test_memfd:
 * Returns: a one-page memfd WITHOUT close-on-exec (so that a test can tell
 * that a receiver set the flag itself).
 */
int vc_test_memfd(void);

/**
 * vc_test_same_file:
 * Returns: true when @a and @b refer to the same open file (device and inode).
 */
bool vc_test_same_file(int a, int b);

/**
 * vc_test_close_all:
 * Closes the @n fds in @fds that are >= 0 and sets them to -1.
 */
void vc_test_close_all(int *fds, unsigned n);

/**
 * vc_test_run:
 * @s: (transfer full): the suite
 *
 * Runs @s with TAP on stdout (meson protocol: 'tap').
 *
 * Returns: EXIT_SUCCESS when no test failed, else EXIT_FAILURE.
 */
int vc_test_run(Suite *s);

#endif /* VC_TEST_UTIL_H */
