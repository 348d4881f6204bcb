/* test_hashmap.c -- dp_hash is XXH3 and stable, dp_hash128 XXH3-128 of a
 * stream given in pieces; dp_u64map counts, finds,
 * grows and iterates every key exactly once, also under keys that share
 * their low bits (doc numbers times a power of two); dp_idxmap finds
 * string entries, keeps keys whose hashes collide apart, grows, clears. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* dp_hash128 in pieces is XXH3-128 of the whole stream, however split. */
static void test_hash128(void **state)
{
    (void)state;
    static const char text[] = "the quick brown fox jumps over the lazy dog, twice over";
    XXH128_hash_t want = XXH3_128bits(text, sizeof text - 1);
    for (size_t cut = 0; cut < sizeof text; cut += 7) {
        dp_hash128 *h = dp_hash128_new();
        dp_hash128_add(h, text, cut);
        dp_hash128_add(h, text + cut, 0);
        dp_hash128_add(h, text + cut, sizeof text - 1 - cut);
        uint64_t got[2];
        dp_hash128_final(h, got);
        assert_true(got[0] == want.low64 && got[1] == want.high64);
    }
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

/* A string table on dp_idxmap, as its users write one. The hash may be
 * crippled to 4 values, so that most keys collide. */
typedef struct strtab {
    char (*key)[16];
    size_t n;
    dp_idxmap m;
    int weak;
} strtab;

static uint64_t tab_hash(const strtab *t, const char *k) { return t->weak ? dp_hash_str(k) & 3 : dp_hash_str(k); }
static uint64_t tab_hash_of(const void *ctx, uint32_t e) { return tab_hash(ctx, ((const strtab *)ctx)->key[e]); }

static uint32_t tab_intern(strtab *t, const char *k)
{
    dp_idxmap_reserve(&t->m, t->m.n + 1, tab_hash_of, t);
    size_t s;
    for (s = dp_idxmap_first(&t->m, tab_hash(t, k)); t->m.slot[s]; s = dp_idxmap_step(&t->m, s))
        if (!strcmp(t->key[t->m.slot[s] - 1], k)) return t->m.slot[s] - 1;
    snprintf(t->key[t->n], sizeof t->key[0], "%s", k);
    dp_idxmap_put(&t->m, s, (uint32_t)t->n);
    return (uint32_t)t->n++;
}

static void test_idxmap(void **state)
{
    (void)state;
    enum { N = 3000 };
    for (int weak = 0; weak <= 1; weak++) {
        strtab t = {calloc(N, sizeof *t.key), 0, {0}, weak};
        char k[16];
        for (int round = 0; round < 2; round++)   /* the second round finds them all */
            for (int i = 0; i < N; i++) {
                snprintf(k, sizeof k, "key%d", i);
                assert_int_equal(tab_intern(&t, k), i);
            }
        assert_int_equal(t.n, N);
        assert_int_equal(t.m.n, N);
        assert_true(t.m.cap >= 2 * t.m.n);
        size_t cap = t.m.cap;
        dp_idxmap_clear(&t.m);
        assert_int_equal(t.m.cap, cap);
        t.n = 0;
        assert_int_equal(tab_intern(&t, "key7"), 0);   /* empty again */
        dp_idxmap_free(&t.m);
        assert_null(t.m.slot);
        free(t.key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_hash128),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_idxmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
