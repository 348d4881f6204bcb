/* tls.h -- per-thread scratch: one object per thread and call site, made
 * zeroed on a thread's first use, kept across calls (so a hot function
 * costs no allocation once its thread has warmed up) and freed when the
 * thread exits. index_topk and match_features_pool keep their buffers so.
 *
 *     static dp_tls scratch_tls = DP_TLS_INIT(sizeof(scratch), scratch_free);
 *     scratch *s = dp_tls_get(&scratch_tls);    ... grow s's buffers, use them ...
 *     dp_tls_put(&scratch_tls, s);
 *
 * free_fn frees one object, its members and itself. When the system has no
 * thread-specific slot to spare, dp_tls_get returns a fresh object that
 * dp_tls_put frees: slower, never wrong. Thread-safe; the dp_tls itself
 * must be static (it lives as long as the threads that use it).
 */
#ifndef DP_TLS_H
#define DP_TLS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct dp_tls {
    atomic_int ready;           /* the key below has been created (or failed) */
    int ok;                     /* the key exists */
    pthread_key_t key;
    size_t size;                /* of one object, zeroed when made */
    void (*free_fn)(void *);
} dp_tls;
#define DP_TLS_INIT(size, free_fn) {0, 0, (pthread_key_t)0, (size), (free_fn)}

void *dp_tls_get(dp_tls *t);
void dp_tls_put(dp_tls *t, void *obj);

#endif
