/* hashmap.h -- the one hash function and the one small hash map of doppel.
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
 * collision would matter. Not thread-safe; iteration order is the slot
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

#endif
