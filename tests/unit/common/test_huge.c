/* test_huge.c -- dp_huge_pages (util.h): an array's data is the same after
 * the hint, the whole 2 MB pages inside it are huge afterwards (where the
 * kernel has transparent huge pages at all), and a range holding no whole
 * 2 MB page is left alone. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/common/util.h"

#define MB ((size_t)1 << 20)

/* 1 unless the kernel's transparent huge pages are off (or unknown). */
static int thp_on(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return 0;
    char b[128] = {0};
    size_t n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    return n > 0 && !strstr(b, "[never]");
}

/* kB of huge pages in the mapping holding p (/proc/self/smaps). */
static long huge_kb_at(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    int in = 0;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') == line + strcspn(line, "-")) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
    }
    fclose(f);
    return kb;
}

static void test_same_data_huge_pages(void **state)
{
    (void)state;
    size_t n = 9 * MB;   /* an unaligned start: 3 or 4 whole 2 MB pages inside */
    unsigned char *buf = NULL;
    assert_int_equal(posix_memalign((void **)&buf, 2 * MB, n + 8192), 0);
    unsigned char *p = buf + 4096 + 8;
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 131 + (i >> 12));
    int took = dp_huge_pages(p, n);
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 131 + (i >> 12))) fail_msg("byte %zu changed", i);
    if (thp_on()) {
        assert_true(took);
        assert_true(huge_kb_at(p + 4 * MB) >= 2048);
    }
    /* less than a whole aligned 2 MB page: nothing asked */
    assert_int_equal(dp_huge_pages(buf + 4096, 2 * MB), 0);
    assert_int_equal(dp_huge_pages(NULL, 8 * MB), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_data_huge_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
