/* testutil.h -- shared includes for cmocka unit tests.
 * Each tests/unit/<module>/test_*.c is one program; run.sh sets
 * CMOCKA_MESSAGE_OUTPUT=TAP so every test case counts in the total. */
#ifndef DP_TESTUTIL_H
#define DP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

/* Directory of the test fixtures (tests/fixtures), relative to the repo root,
 * where run.sh starts the tests. */
#define FIXTURES "tests/fixtures"

#endif
