/* test_rcache.c -- the render cache: hits and misses, the memory bound and
 * its LRU order, oversized texts, borrowed entries that outlive their
 * eviction, and several threads at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/web.h"

static web_rcache_key key(uint64_t n)
{
    return (web_rcache_key){n * 0x9e3779b97f4a7c15ULL, n};
}

static void put_str(web_rcache *c, uint64_t n, const char *s)
{
    web_rcache_key k = key(n);
    web_rcache_put(c, &k, s, strlen(s));
}

/* A copy of the cached text under n, or NULL; caller frees. */
static char *get_str(web_rcache *c, uint64_t n)
{
    web_rcache_key k = key(n);
    const char *html;
    size_t len = 0;
    web_rcache_entry *e = web_rcache_borrow(c, &k, &html, &len);
    if (!e) return NULL;
    assert_int_equal(strlen(html), len);
    char *s = xstrdup(html);
    web_rcache_release(c, e);
    return s;
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    web_rcache *c = web_rcache_new(1 << 20);
    assert_null(get_str(c, 1));
    put_str(c, 1, "<p>one</p>");
    put_str(c, 2, "");
    char *s = get_str(c, 1);
    assert_string_equal(s, "<p>one</p>");
    free(s);
    s = get_str(c, 2);
    assert_string_equal(s, "");
    free(s);
    /* a key differing in one half only is another key */
    web_rcache_key k = key(1);
    k.hi ^= 1;
    const char *html;
    size_t len;
    assert_null(web_rcache_borrow(c, &k, &html, &len));
    /* putting a key again keeps the first text (same key = same HTML) */
    put_str(c, 1, "<p>other</p>");
    s = get_str(c, 1);
    assert_string_equal(s, "<p>one</p>");
    free(s);
    web_rcache_info in;
    web_rcache_stats(c, &in);
    assert_int_equal(in.hits, 3);
    assert_int_equal(in.misses, 2);
    assert_int_equal(in.entries, 2);
    web_rcache_free(c);
    web_rcache_free(NULL);
}

static void test_bounded_lru(void **state)
{
    (void)state;
    size_t cap = 64 << 10;
    web_rcache *c = web_rcache_new(cap);
    char text[1000];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    for (uint64_t i = 1; i <= 1000; i++) {
        put_str(c, i, text);
        free(get_str(c, 1));   /* keeps entry 1 the most recently used */
        web_rcache_info in;
        web_rcache_stats(c, &in);
        if (in.bytes > cap) fail_msg("after %llu puts: %zu bytes > cap %zu", (unsigned long long)i, in.bytes, cap);
    }
    web_rcache_info in;
    web_rcache_stats(c, &in);
    assert_true(in.entries > 30 && in.entries < 64);
    char *s = get_str(c, 1);
    assert_non_null(s);   /* used all along: never the one evicted */
    free(s);
    assert_null(get_str(c, 2));   /* old and unused: evicted */
    s = get_str(c, 1000);
    assert_non_null(s);
    free(s);
    /* a text larger than an eighth of the cap is not kept */
    char *big = xmalloc(cap / 4);
    memset(big, 'y', cap / 4 - 1);
    big[cap / 4 - 1] = 0;
    put_str(c, 5000, big);
    assert_null(get_str(c, 5000));
    free(big);
    web_rcache_free(c);
}

/* A borrowed text stays valid while the cache evicts it; the last release
 * frees it (ASan and valgrind would see a use after free or a leak). */
static void test_borrow_outlives_eviction(void **state)
{
    (void)state;
    web_rcache *c = web_rcache_new(8 << 10);
    put_str(c, 1, "<p>kept while borrowed</p>");
    web_rcache_key k = key(1);
    const char *html, *html2;
    size_t len, len2;
    web_rcache_entry *e = web_rcache_borrow(c, &k, &html, &len);
    web_rcache_entry *e2 = web_rcache_borrow(c, &k, &html2, &len2);
    assert_non_null(e);
    assert_ptr_equal(e, e2);
    char filler[600];
    memset(filler, 'f', sizeof filler - 1);
    filler[sizeof filler - 1] = 0;
    for (uint64_t i = 2; i < 100; i++) put_str(c, i, filler);   /* evicts 1 */
    assert_null(get_str(c, 1));
    assert_string_equal(html, "<p>kept while borrowed</p>");
    assert_int_equal(len, strlen(html));
    web_rcache_release(c, e);
    assert_string_equal(html2, "<p>kept while borrowed</p>");
    web_rcache_release(c, e2);
    web_rcache_release(c, NULL);
    web_rcache_info in;
    web_rcache_stats(c, &in);
    assert_true(in.bytes <= 8 << 10);
    web_rcache_free(c);
}

typedef struct worker {
    web_rcache *c;
    unsigned seed;
    int bad;
} worker;

/* Each key always maps to the same text, so any hit can be checked. */
static void *hammer(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        uint64_t n = (uint64_t)(rand_r(&w->seed) % 500) + 1;
        char want[64];
        snprintf(want, sizeof want, "<p>text %llu</p>", (unsigned long long)n);
        char *s = get_str(w->c, n);
        if (s && strcmp(s, want)) w->bad++;
        if (!s) put_str(w->c, n, want);
        free(s);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    web_rcache *c = web_rcache_new(16 << 10);   /* small: evictions race with hits */
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){c, (unsigned)i + 1, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    web_rcache_info in;
    web_rcache_stats(c, &in);
    assert_int_equal(in.hits + in.misses, 4 * 20000);
    assert_true(in.bytes <= 16 << 10);
    web_rcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_bounded_lru),
        cmocka_unit_test(test_borrow_outlives_eviction),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
