/* hashmap.c -- dp_hash and dp_u64map (see hashmap.h). */
#include "hashmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY   /* sizeof(XXH3_state_t), for the out-of-memory message */
#include <xxhash.h>

#include "util.h"

uint64_t dp_hash(const void *p, size_t n) { return (uint64_t)XXH3_64bits(p, n); }

uint64_t dp_hash_str(const char *s) { return s ? dp_hash(s, strlen(s)) : dp_hash("", 0); }

struct dp_hash128 {
    XXH3_state_t *st;
};

dp_hash128 *dp_hash128_new(void)
{
    dp_hash128 *h = xmalloc(sizeof *h);
    h->st = XXH3_createState();
    if (!h->st) dp_oom(sizeof(XXH3_state_t));
    XXH3_128bits_reset(h->st);
    return h;
}

void dp_hash128_add(dp_hash128 *h, const void *p, size_t n)
{
    if (n) XXH3_128bits_update(h->st, p, n);
}

void dp_hash128_final(dp_hash128 *h, uint64_t out[2])
{
    XXH128_hash_t v = XXH3_128bits_digest(h->st);
    out[0] = v.low64;
    out[1] = v.high64;
    XXH3_freeState(h->st);
    free(h);
}

/* Fibonacci spread: keys that are already hashes stay spread, and small
 * integer keys (doc numbers) do not pile up in the first slots. */
static size_t slot_of(const dp_u64map *m, uint64_t key)
{
    return (size_t)(key * 0x9E3779B97F4A7C15ULL) & (m->cap - 1);
}

static size_t find(const dp_u64map *m, uint64_t key)
{
    size_t i = slot_of(m, key);
    while (m->key[i] && m->key[i] != key) i = (i + 1) & (m->cap - 1);
    return i;
}

static void grow(dp_u64map *m)
{
    dp_u64map o = *m;
    m->cap = o.cap ? o.cap * 2 : 64;
    m->key = xcalloc(m->cap, sizeof *m->key);
    m->val = xcalloc(m->cap, sizeof *m->val);
    for (size_t i = 0; i < o.cap; i++) {
        if (!o.key[i]) continue;
        size_t j = find(m, o.key[i]);
        m->key[j] = o.key[i];
        m->val[j] = o.val[i];
    }
    free(o.key);
    free(o.val);
}

uint64_t *dp_u64map_at(dp_u64map *m, uint64_t key)
{
    assert(key != 0);
    if ((m->n + 1) * 2 > m->cap) grow(m);
    size_t i = find(m, key);
    if (!m->key[i]) {
        m->key[i] = key;
        m->n++;
    }
    return &m->val[i];
}

int dp_u64map_get(const dp_u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap || !key) return 0;
    size_t i = find(m, key);
    if (!m->key[i]) return 0;
    if (val) *val = m->val[i];
    return 1;
}

int dp_u64map_next(const dp_u64map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    for (; *pos < m->cap; (*pos)++)
        if (m->key[*pos]) {
            *key = m->key[*pos];
            if (val) *val = m->val[*pos];
            (*pos)++;
            return 1;
        }
    return 0;
}

void dp_u64map_free(dp_u64map *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ---- dp_idxmap ----------------------------------------------------------- */

void dp_idxmap_grow(dp_idxmap *m, size_t n, dp_idxmap_hash_fn hash_of, const void *ctx)
{
    dp_idxmap o = *m;
    m->cap = o.cap ? o.cap : 16;
    while (n * 2 > m->cap) m->cap *= 2;
    m->slot = xcalloc(m->cap, sizeof *m->slot);
    for (size_t i = 0; i < o.cap; i++) {
        if (!o.slot[i]) continue;
        size_t s = dp_idxmap_first(m, hash_of(ctx, o.slot[i] - 1));
        while (m->slot[s]) s = dp_idxmap_step(m, s);
        m->slot[s] = o.slot[i];
    }
    free(o.slot);
}

void dp_idxmap_clear(dp_idxmap *m)
{
    if (m->cap) memset(m->slot, 0, m->cap * sizeof *m->slot);
    m->n = 0;
}

void dp_idxmap_free(dp_idxmap *m)
{
    free(m->slot);
    memset(m, 0, sizeof *m);
}
