/* test_threads.c -- the thread helpers of common/util.h.
 * dp_parallel_for: every index of [0, n) is visited exactly once, in chunks
 * of the size asked for (the last shorter), on one thread or many, and
 * nothing is called for n = 0. dp_thread_feeder: the calling thread gets
 * its name and the SCHED_BATCH policy, and no other thread does. */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
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

typedef struct feeder_seen {
    int policy;
    char name[16];
} feeder_seen;

static void *feeder_main(void *arg)
{
    feeder_seen *fs = arg;
    dp_thread_feeder("dp-test");
    struct sched_param sp;
    if (pthread_getschedparam(pthread_self(), &fs->policy, &sp) != 0) fs->policy = -1;
    if (pthread_getname_np(pthread_self(), fs->name, sizeof fs->name) != 0) fs->name[0] = 0;
    return NULL;
}

static void test_feeder(void **state)
{
    (void)state;
    int before, after;
    struct sched_param sp;
    assert_int_equal(pthread_getschedparam(pthread_self(), &before, &sp), 0);
    feeder_seen fs = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feeder_main, &fs), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(fs.policy, SCHED_BATCH);
    assert_string_equal(fs.name, "dp-test");
    /* the thread that started it keeps its own policy */
    assert_int_equal(pthread_getschedparam(pthread_self(), &after, &sp), 0);
    assert_int_equal(after, before);
    assert_int_not_equal(after, SCHED_BATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_once),
        cmocka_unit_test(test_feeder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
