/* test_pager.c -- unit tests of sync's guards against a hostile server
 * (issue 11): the page cap, the rel="next" chain guard (cycles, runaway
 * chains, links to another host) and the JSON value count that bounds what
 * parsing a page may allocate. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/sync/sync.h"

#define BASE "https://api.github.com"
#define PAGE(n) BASE "/repos/o/r/issues?per_page=100&page=" #n

static void test_page_cap(void **state)
{
    (void)state;
    assert_int_equal(sync_page_cap(0, 0, 100), SYNC_PAGES_UNKNOWN);
    assert_int_equal(sync_page_cap(3, 0, 100), 106);          /* 2 x 3 + 100 */
    assert_int_equal(sync_page_cap(0, 250, 100), 106);        /* 250 items fill 3 pages */
    assert_int_equal(sync_page_cap(0, 300, 100), 106);
    assert_int_equal(sync_page_cap(0, 301, 100), 108);
    assert_int_equal(sync_page_cap(10, 250, 100), 120);       /* the larger of the two */
    assert_int_equal(sync_page_cap(2, 5000, 100), 200);
    assert_int_equal(sync_page_cap(1, 0, 0), 102);            /* per_page 0: only last counts */
    /* whatever the server claims, never above the hard maximum */
    assert_int_equal(sync_page_cap((size_t)-1, 0, 100), SYNC_PAGES_MAX);
    assert_int_equal(sync_page_cap(0, (size_t)-1, 100), SYNC_PAGES_MAX);
    assert_int_equal(sync_page_cap(SYNC_PAGES_MAX, 0, 100), SYNC_PAGES_MAX);
}

static void test_pager_chain(void **state)
{
    (void)state;
    dp_err err;
    sync_pager *pg = sync_pager_new(BASE, 0);
    assert_int_equal(sync_pager_next(pg, PAGE(1), PAGE(2), PAGE(3), &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(2), PAGE(3), PAGE(3), &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(3), NULL, NULL, &err), DP_OK);   /* the end */
    sync_pager_free(pg);
    sync_pager_free(NULL);
}

static void test_pager_cycles(void **state)
{
    (void)state;
    dp_err err;
    /* next == the page itself */
    sync_pager *pg = sync_pager_new(BASE, 0);
    assert_int_equal(sync_pager_next(pg, PAGE(1), PAGE(2), NULL, &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(2), PAGE(2), NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "pagination cycle"));
    assert_non_null(strstr(err.msg, "page=2"));
    sync_pager_free(pg);
    /* a 2-page cycle */
    pg = sync_pager_new(BASE, 0);
    assert_int_equal(sync_pager_next(pg, PAGE(1), PAGE(2), NULL, &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(2), PAGE(3), NULL, &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(3), PAGE(2), NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "pagination cycle"));
    sync_pager_free(pg);
    /* back to the first page */
    pg = sync_pager_new(BASE, 0);
    assert_int_equal(sync_pager_next(pg, PAGE(1), PAGE(2), NULL, &err), DP_OK);
    assert_int_equal(sync_pager_next(pg, PAGE(2), PAGE(1), NULL, &err), DP_ERR);
    sync_pager_free(pg);
}

static void test_pager_cap(void **state)
{
    (void)state;
    dp_err err;
    char url[160], next[160];
    /* rel="last" says 3: an endless chain of new URLs stops at 2 x 3 + 100 */
    sync_pager *pg = sync_pager_new(BASE, 0);
    size_t n = 0;
    int rc = DP_OK;
    while (rc == DP_OK && n < 1000) {
        snprintf(url, sizeof url, "%s/repos/o/r/issues?page=%zu", BASE, n + 1);
        snprintf(next, sizeof next, "%s/repos/o/r/issues?page=%zu", BASE, n + 2);
        /* a later page claiming more does not move the cap */
        rc = sync_pager_next(pg, url, next, n ? PAGE(999999) : PAGE(3), &err);
        n++;
    }
    assert_int_equal(rc, DP_ERR);
    assert_int_equal(n, 106);
    assert_non_null(strstr(err.msg, "more pages than 106"));
    sync_pager_free(pg);
    /* no rel="last": the known items set the cap */
    pg = sync_pager_new(BASE, 1000);
    for (n = 0, rc = DP_OK; rc == DP_OK && n < 1000; n++) {
        snprintf(url, sizeof url, "%s/x?page=%zu", BASE, n + 1);
        snprintf(next, sizeof next, "%s/x?page=%zu", BASE, n + 2);
        rc = sync_pager_next(pg, url, next, NULL, &err);
    }
    assert_int_equal(n, 120);
    sync_pager_free(pg);
}

static void test_pager_offsite(void **state)
{
    (void)state;
    dp_err err;
    sync_pager *pg = sync_pager_new(BASE, 0);
    assert_int_equal(sync_pager_next(pg, PAGE(1), "https://evil.example/repos/o/r/issues?page=2", NULL, &err),
                     DP_ERR);
    assert_non_null(strstr(err.msg, "not under the API URL"));
    assert_int_equal(sync_pager_next(pg, PAGE(1), "https://u:S3CRET@api.github.com/repos?page=2", NULL, &err),
                     DP_ERR);
    assert_null(strstr(err.msg, "S3CRET"));
    sync_pager_free(pg);
}

static size_t values(const char *s) { return sync_json_values(s, strlen(s), 1000); }

static void test_json_values(void **state)
{
    (void)state;
    assert_int_equal(values("[]"), 1);
    assert_int_equal(values("[1,2,{\"a\":\"b\",\"c\":[true,null]}]"), 8);   /* keys are not values */
    assert_int_equal(values("{\"k\" : -1.5e+10}"), 2);
    assert_int_equal(values("[\"a,b:{[\", \"\\\"quoted\\\" [x]\"]"), 3);   /* brackets in strings */
    assert_int_equal(values("  "), 0);
    assert_int_equal(values("[\"unterminated"), 2);
    /* the count stops just above the limit: a 32 MiB "{}," page costs no more */
    char big[3001];
    for (int i = 0; i < 1000; i++) memcpy(big + 3 * i, "{},", 3);
    big[3000] = 0;
    assert_int_equal(sync_json_values(big, 3000, 10), 11);
    assert_int_equal(sync_json_values(big, 3000, 5000), 1000);
    /* a NUL inside the body does not end the count early */
    const char nul[] = "[1,\0002,3]";
    assert_int_equal(sync_json_values(nul, sizeof nul - 1, 100), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_cap),     cmocka_unit_test(test_pager_chain),
        cmocka_unit_test(test_pager_cycles), cmocka_unit_test(test_pager_cap),
        cmocka_unit_test(test_pager_offsite), cmocka_unit_test(test_json_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
