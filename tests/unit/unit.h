/*
 * unit.h: what every C unit test includes. Tests use cmocka
 * (https://cmocka.org, Debian libcmocka-dev); each tests/unit/test_<layer>_<x>.c
 * is one binary with its own main() that calls cmocka_run_group_tests().
 * tests/run.py runs them with CMOCKA_MESSAGE_OUTPUT=TAP and adds up results.
 */
#ifndef MK_UNIT_H
#define MK_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

/* A fresh empty directory under $TMPDIR. The returned string is static
 * storage owned by the helper; the directory is removed when the test
 * binary exits, or earlier by unit_rmtree(). */
const char *unit_tmpdir(void);
void unit_rmtree(const char *path);

/* Write a file (whole) for a test; asserts on failure. */
void unit_write_file(const char *path, const void *data, size_t len);

/* assert two NUL-terminated strings are equal, printing both on failure. */
#define assert_str(a, b) assert_string_equal((a), (b))

#endif
