/* test_hashmap.c -- dp_hash is XXH3 and stable; dp_u64map counts, finds,
 * grows and iterates every key exactly once, also under keys that share
 * their low bits (doc numbers times a power of two). */
#include "testutil.h"

#include <stdlib.h>
#include <xxhash.h>

#include "../../../src/common/hashmap.h"

static void test_hash(void **state)
{
    (void)state;
    assert_true(dp_hash("abc", 3) == (uint64_t)XXH3_64bits("abc", 3));
    assert_true(dp_hash_str("abc") == dp_hash("abc", 3));
    assert_true(dp_hash_str(NULL) == dp_hash("", 0));
    assert_true(dp_hash_str("ab") != dp_hash_str("ba"));
}

static void test_map(void **state)
{
    (void)state;
    dp_u64map m = {0};
    uint64_t v;
    assert_int_equal(dp_u64map_get(&m, 5, &v), 0);   /* empty, never allocated */
    enum { N = 5000 };
    for (uint64_t k = 1; k <= N; k++) {
        uint64_t key = k << 20;                        /* same low bits: the spread must cope */
        for (uint64_t r = 0; r < k % 3 + 1; r++) (*dp_u64map_at(&m, key))++;
    }
    assert_int_equal(m.n, N);
    assert_true(m.cap >= 2 * m.n);                     /* at most half full */
    for (uint64_t k = 1; k <= N; k++) {
        assert_int_equal(dp_u64map_get(&m, k << 20, &v), 1);
        assert_int_equal(v, k % 3 + 1);
    }
    assert_int_equal(dp_u64map_get(&m, 3, NULL), 0);
    assert_int_equal(dp_u64map_get(&m, 0, NULL), 0);
    unsigned char *seen = calloc(N + 1, 1);
    size_t pos = 0, count = 0;
    uint64_t key;
    while (dp_u64map_next(&m, &pos, &key, &v)) {
        uint64_t k = key >> 20;
        assert_true(k >= 1 && k <= N);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        count++;
    }
    assert_int_equal(count, N);
    free(seen);
    dp_u64map_free(&m);
    assert_int_equal(m.cap, 0);
    assert_null(m.key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
