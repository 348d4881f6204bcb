/* tls.c -- per-thread scratch (see tls.h). */
#include "tls.h"

#include "util.h"

/* One lock for creating any dp_tls's key: taken once per call site, ever. */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

static void tls_ready(dp_tls *t)
{
    if (atomic_load_explicit(&t->ready, memory_order_acquire)) return;
    pthread_mutex_lock(&tls_lock);
    if (!atomic_load_explicit(&t->ready, memory_order_relaxed)) {
        t->ok = pthread_key_create(&t->key, t->free_fn) == 0;
        atomic_store_explicit(&t->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&tls_lock);
}

void *dp_tls_get(dp_tls *t)
{
    tls_ready(t);
    void *obj = t->ok ? pthread_getspecific(t->key) : NULL;
    if (!obj) {
        obj = xcalloc(1, t->size);
        /* Without the slot the object stays the caller's: dp_tls_put frees it. */
        if (t->ok) (void)pthread_setspecific(t->key, obj);
    }
    return obj;
}

void dp_tls_put(dp_tls *t, void *obj)
{
    if (!obj) return;
    if (!t->ok || pthread_getspecific(t->key) != obj) t->free_fn(obj);
}
