/* test_tls.c -- per-thread scratch: one object per thread, the same one on
 * every call of that thread, zeroed when made, freed at thread exit (the
 * free function counts), never shared between threads. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../../../src/common/tls.h"

typedef struct obj {
    int uses;
    char pad[100];
} obj;

static atomic_int freed;
static void obj_free(void *p)
{
    atomic_fetch_add(&freed, 1);
    free(p);
}
static dp_tls obj_tls = DP_TLS_INIT(sizeof(obj), obj_free);
/* Every thread holds its object until main has compared them all (a freed
 * object's address may be handed out again). */
static pthread_barrier_t all_made, compared;

static void *worker(void *arg)
{
    obj **mine = arg;
    obj *first = dp_tls_get(&obj_tls);
    assert_int_equal(first->uses, 0);       /* zeroed when made */
    for (int i = 0; i < 100; i++) {
        obj *o = dp_tls_get(&obj_tls);
        assert_ptr_equal(o, first);          /* the same one every call */
        o->uses++;
        dp_tls_put(&obj_tls, o);             /* the thread's: kept */
    }
    assert_int_equal(first->uses, 100);
    *mine = first;
    pthread_barrier_wait(&all_made);
    pthread_barrier_wait(&compared);
    return NULL;
}

static void test_per_thread(void **state)
{
    (void)state;
    enum { T = 8 };
    pthread_t th[T];
    obj *got[T];
    pthread_barrier_init(&all_made, NULL, T + 1);
    pthread_barrier_init(&compared, NULL, T + 1);
    for (int i = 0; i < T; i++) assert_int_equal(pthread_create(&th[i], NULL, worker, &got[i]), 0);
    pthread_barrier_wait(&all_made);
    int shared = 0;
    for (int i = 0; i < T; i++)
        for (int j = 0; j < i; j++) shared += got[i] == got[j];
    pthread_barrier_wait(&compared);
    for (int i = 0; i < T; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(shared, 0);                /* never shared */
    assert_int_equal(atomic_load(&freed), T);   /* each freed at its thread's exit */
    pthread_barrier_destroy(&all_made);
    pthread_barrier_destroy(&compared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
