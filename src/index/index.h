/* index.h -- in-memory inverted index with BM25F ranking and top-k retrieval.
 *
 * index_build() runs the text pipeline over a set of items and keeps, per
 * term, a posting list of (doc, impact) where impact is the doc's BM25F
 * term weight (fields combined with per-field weights and length
 * normalisation, then saturated with k1). Terms are unigrams of every field
 * plus bigrams of title and prose. Query scoring is then
 *     score(q, d) = sum over query terms t: qw(t) * idf(t) * impact(t, d)
 * and index_topk() uses block-max MaxScore (bounds per list and per block
 * of 64 postings, documents in windows summed term at a time), so most
 * docs are never completed; results equal exhaustive scoring bit for bit.
 * Long queries are cut to their query_max_terms strongest terms.
 *
 * Documents are numbered 0..n-1 in the order the items were given; callers
 * pass items sorted by creation time (store_items_load() does), so "created
 * before X" is the doc range [lo, X) -- eval's time window is a range too.
 *
 * Thread-safety: after index_build() returns the index is read-only; any
 * number of threads may call index_topk(), index_query_*() and the
 * accessors concurrently. The index does not copy the items: the item array
 * must outlive it.
 */
#ifndef DP_INDEX_H
#define DP_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "../common/item.h"
#include "../text/text.h"

typedef struct dindex dindex;

typedef struct index_params {
    double k1;                   /* default 1.2 */
    double b[FIELD_COUNT];       /* length normalisation per field */
    double weight[FIELD_COUNT];  /* field weights; title > prose */
    int bigrams;                 /* default 1 */
    int strip_templates;         /* default 1 */
    text_opts text;              /* tokenizer options */
    int threads;                 /* 0 = number of CPUs */
    double query_k1;             /* saturation of query-side term weights
                                    (0 = same as k1) */
    double bigram_weight;        /* query-side factor on bigram terms: a
                                    shared bigram is strong but correlated
                                    with its two unigrams (default 0.3) */
    int query_max_terms;         /* keep the best N query terms by
                                    weight * idf * max impact (0 = all);
                                    bounds the cost of long bodies
                                    (default 60) */
    double avglen_record[FIELD_COUNT];  /* statistics of record (below); all
                                    0: none (default) */
    int drop_fields;             /* 1: a build frees each doc's fields once
                                    it is tokenized (index_doc_fields splits
                                    them again): about the items' text less
                                    memory, a split per use; no result
                                    changes (default 0: kept) */
} index_params;
void index_params_default(index_params *p);

/* Statistics of record. BM25F normalises each field's length by the
 * average length of that field over the docs, so every new doc moves every
 * doc's impacts a little, and an index of 250k items could not take 20 new
 * ones without recomputing all of them. A build given avglen_record (the
 * averages a full build of the repository found: index_avglen) scores with
 * them as long as the docs' own averages stay within INDEX_RECORD_DRIFT of
 * them, field by field -- else with the docs' own, and a caller records
 * those. N and the document frequencies (idf) are always the docs' own:
 * they are applied at query time. So a build and index_append() given the
 * same record make the same index, bit for bit; scores differ from those of
 * a build without a record by at most that drift of the averages. */
#define INDEX_RECORD_DRIFT 0.01
/* The average field lengths ix scores with: out[FIELD_COUNT]. */
void index_avglen(const dindex *ix, double out[FIELD_COUNT]);

int index_build(const item *items, size_t n, const index_params *p, dindex **out, dp_err *err);
void index_free(dindex *ix);

/* ---- snapshots ---------------------------------------------------------
 * Most of a build is the text pipeline (split, signals, tokenize, stem:
 * ~75 us per Jira issue). A snapshot keeps what it derived from each item
 * -- signals, per-field term counts -- with the term dictionary and
 * the boilerplate template, so a later build runs the pipeline only on the
 * items whose indexed text (title, body, labels, components, type) changed
 * or that are new; everything else is decoded. Statistics, impacts and
 * postings are always recomputed, so scores are those of a fresh build over
 * the same fields. The one approximation is the template: it is kept while
 * the repository has grown by at most a tenth since it was learned (then
 * relearned; if it changed, every doc is analysed again), and a fresh
 * index_build() always learns it.
 *
 * A snapshot is a cache: one written by another version of the text
 * pipeline, with other text options, or damaged (it carries a checksum) is
 * not used -- the build then analyses every item and says why in info. */
typedef struct index_snap_info {
    size_t reused;             /* docs decoded from the snapshot */
    size_t analysed;           /* docs run through the text pipeline */
    int template_learned;      /* 1 when this build learned the template */
    const char *unused_why;    /* why a given snapshot was not used, or NULL */
} index_snap_info;
/* index_build() reusing snap[0..snaplen) (may be NULL/0); info may be NULL. */
int index_build_snap(const item *items, size_t n, const index_params *p, const void *snap,
                     size_t snaplen, dindex **out, index_snap_info *info, dp_err *err);
/* Appends a snapshot of ix to out (binary; sb_init'ed by the caller). */
void index_snapshot_save(const dindex *ix, sbuf *out);

/* ---- persisted index (index_file.c) -------------------------------------
 * A whole built index -- dictionary, statistics, impact postings with their
 * block maxima, forward index, field lengths and norms, signals, template
 * and content hashes -- written to one file and mapped back read-only, so a
 * process opens an index of 250k items in milliseconds instead of building
 * it. The file is a cache, never a source of truth:
 *  - index_file_open() accepts it only for the same items (a fingerprint of
 *    every doc's key and content hash, in doc order), and
 *    index_file_open_stamped() only for the stamp its writer gave (below);
 *    both only for the same build parameters (k1, b, field weights) and the
 *    same text pipeline (ix_pipeline_fingerprint: code version, text
 *    options, probe output); and only when its size, header checksum and
 *    payload checksum (XXH3) match. Otherwise they return DP_ERR with *why
 *    (a static string: "the items changed since it was written", "its
 *    checksum does not match", ...), and the caller builds the index
 *    instead;
 *  - an index opened from the file equals the index that was saved bit for
 *    bit (every array is the saved one), so top-k results and scores equal
 *    those of the build that wrote it: a fresh build when it was one.
 * Query-side parameters (query_k1, bigram_weight, query_max_terms, threads)
 * are the caller's p, as in a build. The file is native-endian with 8-byte
 * aligned sections; another byte order is refused as "another format".
 * index_file_save() writes path.tmp.PID and renames it over path, so a
 * reader sees the old file or the new one, never half of one.
 *
 * Seals: the payload checksum reads the whole file (~600 MB at 250k items,
 * half of a `similar` call's CPU, and the whole disk read of a cold one).
 * After an open has checked it, a seal beside the file (path.seal, a few
 * dozen bytes) records the file's identity: device, inode, size,
 * modification and change times, header and payload checksums. An open that
 * finds the file's identity equal to its seal's skips the payload checksum
 * (header, size and structure are still checked): the kernel sets a file's
 * change time on every write and no call sets it back, so an equal identity
 * means no write since the check. Change times are as coarse as a clock
 * tick, so a file changed less than INDEX_SEAL_SETTLE seconds before the
 * check is not sealed ("racy git"): the first open after a save checks the
 * whole file, later opens trust the seal. A seal that is missing, damaged or
 * names another file only costs a full check; failing to write one is not an
 * error. What a seal cannot see -- a bit flipped below the file system --
 * is left to the disk, as SQLite leaves its own file.
 *
 * Stamps: checking the content fingerprint means reading every item. A
 * caller that knows cheaper when the items are unchanged saves a stamp with
 * the file: seq, a number that changes whenever an indexed item does (a
 * store's change sequence), and id, a number naming the writer's store
 * (0: no stamp). index_file_open_stamped() then opens the file
 * without any item: seq must equal (else "the items changed since it was
 * written"), id must equal and be nonzero (else "it was not written for
 * this store"). The stamp is the caller's promise; the index cannot check
 * it. The file names and dates each doc (its key, store row id and
 * creation time: index_doc_key, index_doc_rowid, index_find,
 * index_doc_created); the caller then attaches an item array of
 * index_ndocs() slots (index_items_attach) and fills only the slots it
 * reads through index_item() and index_doc_fields(). */
typedef struct index_stamp {
    uint64_t seq, id;
} index_stamp;
#define INDEX_SEAL_SETTLE 2.0
/* For tests: how many payload checksums this process has computed, and the
 * settle time seals use (INDEX_SEAL_SETTLE unless set; returns the old). */
uint64_t index_file_checksums(void);
double index_file_seal_settle(double seconds);
/* stamp may be NULL (none). */
int index_file_save(const dindex *ix, const char *path, const index_stamp *stamp, dp_err *err);
/* Checks the file at path as an open does (its payload checksum) and seals
 * it, for a writer whose readers should not pay that check: call it once
 * the file's change time has settled (INDEX_SEAL_SETTLE after the save;
 * sooner, it is checked but not sealed). threads: readers of the checksum.
 * 1 when the file is sealed; 0 otherwise, an error included (best effort,
 * as every seal: a later open checks it). */
int index_file_seal(const char *path, int threads);
/* DP_OK with *out (free with index_free; items must outlive it), DP_NOTFOUND
 * when path does not exist, DP_ERR with *why when it is unusable. */
int index_file_open(const item *items, size_t n, const index_params *p, const char *path, dindex **out,
                    const char **why);
/* The same without items, validated by stamp (see "Stamps"). */
int index_file_open_stamped(const index_stamp *stamp, const index_params *p, const char *path,
                            dindex **out, const char **why);
/* Stamps the file ix was opened from anew (its header only), when the
 * caller knows its content is still that of the items the stamp names --
 * it opened it with index_file_open. DP_ERR (nothing written) when the file
 * at path is no longer that one. */
int index_file_restamp(const dindex *ix, const char *path, const index_stamp *stamp, dp_err *err);
/* Gives an index opened stamped its items: items[index_ndocs(ix)] (the
 * caller's; slots it never reads may stay empty). */
void index_items_attach(dindex *ix, const item *items);
/* Opens the file at path whatever the stamp's seq, when its id is stamp's
 * (nonzero): a file written before the items that came since. *seq_out is
 * the seq it was stamped with. Otherwise as index_file_open_stamped. */
int index_file_open_behind(const index_stamp *stamp, const index_params *p, const char *path, dindex **out,
                           uint64_t *seq_out, const char **why);

/* Appends docs to an index opened from a file: items[index_ndocs(ix) ..
 * ntotal) are the new docs, after every doc of the file in the caller's
 * order; the other slots may be empty (read only through index_item). The
 * result equals, bit for bit, index_build_snap() of all ntotal items with
 * the file's index snapshot and p->avglen_record (index_snapshot_save of
 * the index the file holds): the new docs go through the text pipeline
 * with the file's template; statistics of record hold the impacts of the
 * file's docs; N, df and idf are recomputed. Refused (DP_ERR, *why a static
 * string, ix unchanged) when the file's averages are not the record, when
 * the new docs move the averages beyond INDEX_RECORD_DRIFT, when the
 * template would be learned again (the repository grew by more than a
 * tenth since), or when ix was appended to already. Copies nothing of the
 * file: the new docs' postings form a delta segment beside the file's
 * lists (top-k reads a term's two runs as two lists: the same scores), and
 * the arrays the new docs extend are the file's pages mapped again copy on
 * write. Costs the text pipeline on the new docs, their postings, the idf
 * of every term (N changed) and the pages they touch: ~0.05 s for 20 new
 * docs at 250k items. Attaches items. */
int index_append(dindex *ix, const item *items, size_t ntotal, const char **why);

/* 1 when ix was opened from a file. */
int index_is_mapped(const dindex *ix);

size_t index_ndocs(const dindex *ix);
const item *index_item(const dindex *ix, uint32_t doc);
/* Doc number of an item key (the first doc with it), or -1. Reads no item
 * of an index opened from a file. */
int64_t index_find(const dindex *ix, const char *key);
/* A doc's item key and store row id, from the file when opened from one
 * (no item read), else from the item. NULL / 0 when doc is out of range. */
const char *index_doc_key(const dindex *ix, uint32_t doc);
int64_t index_doc_rowid(const dindex *ix, uint32_t doc);
/* A doc's creation time (item created_at), the same way: from the file for
 * its docs (as the item was when the file was written), else the item's.
 * 0 when doc is out of range. */
int64_t index_doc_created(const dindex *ix, uint32_t doc);
/* Hash of everything of an item the text pipeline reads; index_doc_hash is
 * that of doc's item when it was indexed (0 when doc is out of range): the
 * doc is still its item's when they are equal. */
uint64_t index_item_hash(const item *it);
uint64_t index_doc_hash(const dindex *ix, uint32_t doc);
/* A doc's fields. Docs decoded from a snapshot are split again on first
 * use (thread-safe; the item array must still be alive). */
const text_fields *index_doc_fields(const dindex *ix, uint32_t doc);
/* A doc's fields as the index keeps them: tf's strings copied into one
 * block with the struct (exact sizes: text_split's buffers have room to
 * spare, and five blocks a doc cost more), tf's own strings freed. The
 * block is freed with free() alone, never text_fields_free(). */
text_fields *index_fields_compact(text_fields *tf);
/* Frees the fields a build kept (about the size of the items' text); later
 * index_doc_fields calls split those docs again. Not thread-safe: call it
 * while no other thread reads ix (analyze --max-memory, before ranking). */
void index_fields_release(dindex *ix);
/* Frees a built index's postings (at 250k items ~170 MB), which only
 * queries read: what explaining reads -- terms, dictionary, df, fields,
 * signals -- stays. For a run whose ranking is over; no query may run
 * after it (it would find no candidate), nor index_file_save. A mapped or
 * grown index keeps its lists. Not thread-safe. */
void index_postings_release(dindex *ix);
/* The bytes index_postings_release would free (0: none). */
size_t index_postings_bytes(const dindex *ix);
/* The bytes index_file_save allocates for a grown index, whose lists it
 * writes merged (0 for a built one). */
size_t index_save_bytes(const dindex *ix);
/* 1 when doc's fields are held (kept by the build or split since). */
int index_doc_fields_held(const dindex *ix, uint32_t doc);
const text_signals *index_doc_signals(const dindex *ix, uint32_t doc);
const text_template *index_template(const dindex *ix);

/* ---- terms ------------------------------------------------------------ */
size_t index_nterms(const dindex *ix);
const char *index_term_str(const dindex *ix, uint32_t term);  /* bigrams are "a b" */
/* 1 when term is a bigram (its string has a space), from a bit per term
 * learnt on the term's first ask (thread-safe); 0 for a term not in ix. */
int index_term_bigram(const dindex *ix, uint32_t term);
double index_idf(const dindex *ix, uint32_t term);
uint32_t index_df(const dindex *ix, uint32_t term);           /* documents containing it */
/* A tokenizer that tokenizes as ix does (owned: text_tokenizer_free). */
text_tokenizer *index_tokenizer_new(const dindex *ix);
/* The fewest documents any term of s[0..n) is in, the text tokenized by tk
 * (from index_tokenizer_new; unigrams): how rare a stack frame or an error
 * line is in this corpus. 0 when none of its terms is indexed. */
uint32_t index_text_min_df(const dindex *ix, text_tokenizer *tk, const char *s, size_t n);

/* Forward view of a doc: its distinct terms (ascending id) with per-field
 * term frequencies. Pointers stay valid for the index's lifetime. */
typedef struct index_doc_terms {
    const uint32_t *terms;
    const uint16_t (*tf)[FIELD_COUNT];  /* tf[i][field] for terms[i] */
    size_t n;
    const uint32_t *len;                /* len[field]: tokens in field */
} index_doc_terms;
void index_doc_terms_get(const dindex *ix, uint32_t doc, index_doc_terms *out);
/* Hints that doc's forward view and field norms will be read soon (a pool
 * of candidates known ahead): cache prefetches, no effect on any value. */
void index_doc_prefetch(const dindex *ix, uint32_t doc);
/* The same for the terms and counts of a view from index_doc_terms_get. */
void index_doc_terms_prefetch(const index_doc_terms *dt);

/* ---- queries ---------------------------------------------------------- */
typedef struct index_query {
    uint32_t *terms;   /* distinct, known to the index */
    float *weight;     /* query-side weight per term (qtf, field-weighted);
                          >= 0, as the builders below make them: pruning
                          bounds assume no term lowers a score */
    size_t n;
} index_query;
void index_query_free(index_query *q);
/* The query an indexed doc makes of the others (title, body, labels). */
void index_query_from_doc(const dindex *ix, uint32_t doc, index_query *q);
/* A query from text not in the index (doppel similar --title/--body, eval's
 * "as filed" view). Needs a tokenizer of its own for thread-safety. */
void index_query_from_item(const dindex *ix, text_tokenizer *tk, const item *it, index_query *q);

typedef struct index_hit {
    uint32_t doc;
    float score;
} index_hit;

/* Top k docs in [lo, hi) by BM25F score, excluding doc `exclude` (pass
 * UINT32_MAX for none), best first; returns the number written to out
 * (out has room for k). Deterministic: ties break by lower doc number. */
size_t index_topk(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi,
                  uint32_t exclude, size_t k, index_hit *out);

/* The same top k by scoring every doc of [lo, hi) without pruning: the
 * reference index_topk() must equal (tests, bench). */
size_t index_topk_exhaustive(const dindex *ix, const index_query *q, uint32_t lo, uint32_t hi,
                             uint32_t exclude, size_t k, index_hit *out);

/* BM25F contribution of each field alone for (q, doc): out[field]. Used as
 * ranking features. */
void index_score_fields(const dindex *ix, const index_query *q, uint32_t doc, double out[FIELD_COUNT]);
/* index_score_fields() of n docs at once: out[i] for docs[i]. Cheaper per
 * doc than one call each (the query is prepared once); same values. */
void index_score_fields_many(const dindex *ix, const index_query *q, const uint32_t *docs, size_t n,
                             double (*out)[FIELD_COUNT]);
/* Adds to out[] the per-field BM25F contributions of query term qi
 * (q->terms[qi]), which doc holds with per-field counts tf (its forward
 * entry): the step index_score_fields() sums in ascending term order, for
 * a caller that walks the doc's terms itself (match_features_pool). */
void index_fields_add(const dindex *ix, const index_query *q, size_t qi, uint32_t doc,
                      const uint16_t tf[FIELD_COUNT], double out[FIELD_COUNT]);
/* Full BM25F score of one doc (same number index_topk would give). */
double index_score(const dindex *ix, const index_query *q, uint32_t doc);

/* Terms shared by doc a and doc b, highest idf first; writes up to max term
 * ids to out and returns how many. */
size_t index_shared_terms(const dindex *ix, uint32_t a, uint32_t b, uint32_t *out, size_t max);
/* The same for terms[0..n) (ascending ids; a query's) and doc b. */
size_t index_shared_terms_with(const dindex *ix, const uint32_t *terms, size_t n, uint32_t b, uint32_t *out,
                               size_t max);

#endif
