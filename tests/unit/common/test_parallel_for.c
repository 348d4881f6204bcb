/* test_parallel_for.c -- dp_parallel_for: every index of [0, n) is visited
 * exactly once, in chunks of the size asked for (the last shorter), on one
 * thread or many, and nothing is called for n = 0. */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "../../../src/common/util.h"

typedef struct visits {
    atomic_int *seen;       /* seen[i]: times index i was visited */
    size_t chunk;
    atomic_int calls, bad;  /* ranges of a wrong shape */
} visits;

static void visit(void *arg, size_t lo, size_t hi)
{
    visits *v = arg;
    atomic_fetch_add(&v->calls, 1);
    if (lo % v->chunk || hi <= lo || hi - lo > v->chunk) atomic_fetch_add(&v->bad, 1);
    for (size_t i = lo; i < hi; i++) atomic_fetch_add(&v->seen[i], 1);
}

static void check(int threads, size_t n, size_t chunk)
{
    visits v = {.seen = calloc(n ? n : 1, sizeof *v.seen), .chunk = chunk};
    atomic_init(&v.calls, 0);
    atomic_init(&v.bad, 0);
    dp_parallel_for(threads, n, chunk, visit, &v);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&v.seen[i]) != 1)
            fail_msg("threads %d n %zu chunk %zu: index %zu visited %d times", threads, n, chunk, i,
                     atomic_load(&v.seen[i]));
    assert_int_equal(atomic_load(&v.calls), (int)((n + chunk - 1) / chunk));
    assert_int_equal(atomic_load(&v.bad), 0);
    free(v.seen);
}

static void test_every_index_once(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        check(threads, 0, 16);
        check(threads, 1, 16);
        check(threads, 16, 16);
        check(threads, 17, 16);
        check(threads, 10007, 64);
        check(threads, 10007, 1);
        check(threads, 5, 100);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
