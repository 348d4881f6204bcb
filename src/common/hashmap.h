/* hashmap.h -- the one hash function and the small hash maps of doppel.
 *
 * dp_hash is XXH3 (libxxhash): fast, well mixed, the same on every run and
 * machine, so it may name things that are stored (the template's line
 * hashes in the index snapshot: changing dp_hash means bumping the
 * snapshot's format version).
 *
 * dp_u64map maps a nonzero 64-bit key (usually a dp_hash) to a 64-bit
 * value, by open addressing with linear probing, at most half full. Keys
 * are not hashed again (a multiplicative spread picks the slot), so a
 * caller with strings keeps them elsewhere and compares on a hit when a
 * collision would matter -- or uses dp_idxmap below, which keeps distinct
 * keys apart. Not thread-safe; iteration order is the slot
 * order, which callers must not rely on (sort what they keep).
 *
 * Ownership: a zeroed dp_u64map is empty and valid; dp_u64map_free frees
 * its arrays. Allocation failure aborts (xcalloc).
 */
#ifndef DP_HASHMAP_H
#define DP_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

uint64_t dp_hash(const void *p, size_t n);
uint64_t dp_hash_str(const char *s);      /* of strlen(s) bytes; NULL hashes as "" */

/* The 128-bit XXH3 of a byte stream given in pieces, for cache keys that
 * must not collide by chance (the web's render cache). new allocates (and
 * aborts on failure), final writes {low, high} and frees. */
typedef struct dp_hash128 dp_hash128;
dp_hash128 *dp_hash128_new(void);
void dp_hash128_add(dp_hash128 *h, const void *p, size_t n);
void dp_hash128_final(dp_hash128 *h, uint64_t out[2]);

typedef struct dp_u64map {
    uint64_t *key;    /* 0 = empty slot */
    uint64_t *val;
    size_t cap, n;    /* cap a power of two (or 0) */
} dp_u64map;

/* The value of key (nonzero), inserted as 0 when absent; valid until the
 * next insertion. */
uint64_t *dp_u64map_at(dp_u64map *m, uint64_t key);
/* 1 and *val (may be NULL) when key is present, else 0. */
int dp_u64map_get(const dp_u64map *m, uint64_t key, uint64_t *val);
/* Iterates: start with *pos = 0; returns 0 when done. */
int dp_u64map_next(const dp_u64map *m, size_t *pos, uint64_t *key, uint64_t *val);
void dp_u64map_free(dp_u64map *m);

/* dp_idxmap indexes an array the caller keeps: entry i has a key (a
 * string, usually) whose 64-bit hash the caller can tell. A slot holds
 * entry + 1 (4 bytes; 0 = empty; at most half full), so keys are never
 * copied, and the caller compares keys on each slot the probe visits:
 * distinct keys whose hashes collide stay distinct. The probe loop is the
 * caller's, inlined (the index build runs it per token):
 *
 *     dp_idxmap_reserve(m, m->n + 1, hash_of, ctx);     (before an insert)
 *     size_t s;
 *     for (s = dp_idxmap_first(m, h); m->slot[s]; s = dp_idxmap_step(m, s))
 *         if (same_key(m->slot[s] - 1)) return m->slot[s] - 1;
 *     dp_idxmap_put(m, s, new_entry);                    (absent)
 *
 * A zeroed dp_idxmap is empty; probe it only when cap > 0 (reserve first).
 * dp_idxmap_free frees the slots; entries are the caller's. */
typedef struct dp_idxmap {
    uint32_t *slot;
    size_t cap, n;    /* cap a power of two (or 0) */
} dp_idxmap;

typedef uint64_t (*dp_idxmap_hash_fn)(const void *ctx, uint32_t entry);
/* Room for n entries; growing rehashes every entry through hash_of (never
 * called on an empty map). Inline: the common case is one comparison. */
void dp_idxmap_grow(dp_idxmap *m, size_t n, dp_idxmap_hash_fn hash_of, const void *ctx);
static inline void dp_idxmap_reserve(dp_idxmap *m, size_t n, dp_idxmap_hash_fn hash_of, const void *ctx)
{
    if (n * 2 > m->cap) dp_idxmap_grow(m, n, hash_of, ctx);
}
static inline size_t dp_idxmap_first(const dp_idxmap *m, uint64_t h) { return (size_t)h & (m->cap - 1); }
static inline size_t dp_idxmap_step(const dp_idxmap *m, size_t s) { return (s + 1) & (m->cap - 1); }
/* Stores entry at the empty slot s a probe ended on (reserved for). */
static inline void dp_idxmap_put(dp_idxmap *m, size_t s, uint32_t entry)
{
    m->slot[s] = entry + 1;
    m->n++;
}
void dp_idxmap_clear(dp_idxmap *m);   /* empty, capacity kept */
void dp_idxmap_free(dp_idxmap *m);

#endif
