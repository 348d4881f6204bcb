/* match_int.h -- shared by the files of the match module only. */
#ifndef DP_MATCH_INT_H
#define DP_MATCH_INT_H

#include "match.h"

/* Fills doc, bm25_rank, bm25 and feat of out[i] for each of the n pool
 * hits (best first, as index_topk returns them): the same rows as
 * match_features() one by one, computed with the query prepared once. */
void match_features_pool(const match_ctx *ctx, const match_query *mq, const index_hit *pool,
                         size_t n, match_hit *out);

/* A pool hit's sort key: hits are large (their feature rows), so the pool
 * is ordered by key and only the best k are copied. Score, then lower
 * doc: a total order (docs are distinct). */
typedef struct hit_key {
    double score;
    uint32_t doc, i;
} hit_key;
/* Leaves the m best of key[0..n) (m > n: all n) in key[0..m), best
 * first: what sorting all of them puts there; key[m..n) is then
 * unspecified (not even a permutation of the rest). */
void match_best_keys(hit_key *key, size_t n, size_t m);

/* Hints, no values: asks for the lines the judge reads of each of the n
 * hits (their items, keys, title records, references, title terms) at once,
 * so the misses overlap instead of coming one judged hit after another
 * (match_rank_pool, for the hits it returns). */
void match_prefetch_judged(const match_ctx *ctx, const match_hit *hits, size_t n);

/* The size (a power of 2, in bits) of the filter a pool tests each of
 * its candidates' terms against (bit t & (size - 1) per query term t):
 * the whole index's bitmap had a cache miss per candidate term; a filter
 * of 4 KB stays in L1, and the few terms it lets through that the query
 * lacks are dropped by the search that follows. Grown with a long query
 * (at least POOL_FILTER_LOAD bits a query term) up to the first size
 * >= nterms, where it is exact. */
#define POOL_FILTER_MIN ((size_t)1 << 15)
#define POOL_FILTER_LOAD 32
size_t match_pool_filter_bits(size_t nterms, size_t nq);

/* The items a doc's title and its title + body name (text_refs_scan with
 * the ctx's repo_name), scanned on first use and kept in the ctx: a doc is
 * judged as the candidate of ~20 queries. Thread-safe (compare-and-swap,
 * as index_doc_fields). repo_name must not change once judging started. */
typedef struct match_refs {
    text_refs title, all;
} match_refs;
const match_refs *match_doc_refs(const match_ctx *ctx, uint32_t doc);
/* Whether term t is a bigram ("a b"): a table lookup in a full ctx (the
 * judge asks for every title term of every judged pair). */
int match_term_bigram(const match_ctx *ctx, uint32_t t);
/* Doc doc's title terms that are not bigrams, ascending (what the judge's
 * slot_diff compares), from a full ctx's table (made by match_ctx_init);
 * NULL when the ctx has none (sparse) or doc is not in it: the caller
 * reads the forward list then. *n is their number (0 with NULL). */
const uint32_t *match_doc_title_terms(const match_ctx *ctx, uint32_t doc, size_t *n);
/* index_idf of each of those terms (as float, which index_idf widens: the
 * same doubles), parallel to match_doc_title_terms's list and NULL when it
 * is: the judge reads the idf of a candidate's title terms (slot_diff),
 * and the index's table at random was a cache miss a term. */
const float *match_doc_title_idf(const match_ctx *ctx, uint32_t doc);
/* A title's words as the judge's explanation quotes them, and as the unit
 * test's reference computes the title features (match_judge.c): lower-
 * cased, references left out, cut at 31 bytes, at most MATCH_TITLE_WORDS. */
#define MATCH_TITLE_WORDS 64
typedef struct match_words {
    char w[MATCH_TITLE_WORDS][32];
    size_t n;
} match_words;
void match_title_words(const char *t, match_words *out);
void match_words_minus(const match_words *a, const match_words *b, match_words *out);   /* a's words b lacks */
int match_opposite_titles(const match_words *qo, const match_words *co);   /* "enable" / "disable" */
int match_only_versions(const match_words *qo, const match_words *co);     /* only versions differ */
int match_backport_words(const match_words *w);                              /* names a backport */
/* The cache's slots ([ndocs], owned by the ctx). */
_Atomic(match_refs *) *match_ctx_refs(const match_ctx *ctx);
/* A doc's frames and error lines as the same-failure features read them
 * (match_judge.c): the first MATCH_FAILURE_SCAN of each, hashed and
 * sorted, with each string's rarity once looked up. Made on first use
 * and kept in the ctx (compare-and-swap, as match_doc_refs): the same
 * values as made for each pair, made once. */
typedef struct match_sigs match_sigs;
const match_sigs *match_doc_sigs(const match_ctx *ctx, uint32_t doc);
void match_sigs_free(match_sigs *s);   /* NULL: nothing */
/* The cache's slots ([ndocs], owned by the ctx). */
_Atomic(match_sigs *) *match_ctx_sigs(const match_ctx *ctx);
/* A doc's title as the judge's title features read it (match_judge.c):
 * its distinct words as ids (equal ids <=> equal words, as
 * match_title_words cuts them) with what the features ask of each, and
 * its title terms' order by idf (slot_diff), made on first use from
 * index_item(doc)'s title (which must be loaded) and kept in the ctx:
 * ~70 bytes a doc in a mapped arena, its words interned once in the ctx
 * (a query that is no doc only looks its words up: it adds none, so a
 * long-lived ctx does not grow by the titles typed into `similar`). The same values as
 * made for each pair, made once. Thread-safe (made under the cache's
 * lock, published with release; readers take no lock). */
typedef struct jt_rec jt_rec;
const jt_rec *match_doc_title(const match_ctx *ctx, uint32_t doc);
/* Hints, no values (match_prefetch_judged): step 0 asks for doc's slot,
 * step 1 for its record when made (the slot is read). */
void match_doc_title_prefetch(const match_ctx *ctx, uint32_t doc, int step);
/* The records' cache: slots for ndocs docs, the word ids, the arena. */
typedef struct match_jcache match_jcache;
match_jcache *match_jcache_new(size_t ndocs);
void match_jcache_free(match_jcache *c);   /* NULL: nothing */
match_jcache *match_ctx_jcache(const match_ctx *ctx);   /* owned by the ctx */
/* Words interned in the ctx's table (tests: queries must not add any). */
size_t match_jcache_words(const match_ctx *ctx);

#endif
