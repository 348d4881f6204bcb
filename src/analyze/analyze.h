/* analyze.h -- the analyze pipeline as a library: load a repository from the
 * store, index it, rank candidates for every query item, explain the pairs
 * worth keeping and replace them in the store. `doppel analyze`,
 * `doppel sync --analyze` and `doppel similar` all go through here.
 *
 * Pairs: each query ranks its top k candidates over the whole repository
 * (match_rank) and the judge says what each is (match_judge: relation,
 * confidence, probabilities; read from the later item's side). Of those it
 * keeps the best `keep` and any further one judged a duplicate or related
 * with high confidence, so the review list is not padded with weak
 * guesses. A pair is unordered and stored once, oriented so that the query
 * is the later item (creation order); when both items found each other the
 * likelier judgment is kept. Each duplicate pair gets a canonical item
 * (explain_canonical) among its two items and the items the data already
 * marks either of them a duplicate of: the comment cites it and never asks
 * to close it. Pairs already linked
 * as duplicates in the data are stored with known = 1 and a twentieth of
 * the value.
 *
 * Incremental runs: after a run the store keeps, in kv, the store's change
 * sequence number it analysed up to (store_change_seq: every insert, edit
 * or deletion of an item takes the next number, so no date from the
 * tracker -- not one set to 9999-12-31 by a wrong clock -- can hide a
 * change), the item count and a signature of the options and model. When
 * the signature still matches, a run re-ranks only: the changed items that are
 * queries; queries whose candidates include a changed item (found by
 * ranking from each changed item, the scores are near symmetric); and the
 * queries that had a pair with a changed item. Pairs of unaffected queries
 * stay as stored. One approximation remains: an old pair kept because its
 * other query was not re-run may survive although the re-run query dropped
 * it; the next full run (--full, a new model, other options) settles it.
 * When nothing changed at all, no index is built and nothing is ranked.
 *
 * Horizon: a query ranks the items created within opts.horizon days of it,
 * before or after, not the whole repository. Duplicates are filed close
 * together (the standard protocol looks 365 days back); a horizon makes a
 * query's cost depend on how busy the tracker is, not on its age, so a
 * full run grows linearly with the number of items instead of with its
 * square. 0 ranks everything (what a small tracker costs little either
 * way), and by default a repository below ANALYZE_HORIZON_FROM items has
 * none; `similar` always ranks everything. The signature holds the days
 * used, so a repository growing past the threshold is ranked anew.
 *
 * Persisted index: analyze_corpus_load (search, serve), analyze_corpus_open
 * (similar, triage) and an incremental run first try to map the persisted
 * index file (analyze_index_path). Its stamp (index.h, "Stamps") vouches
 * for it: the store's change sequence read before the items, and an id the
 * store keeps in kv ("index_file.id", made by the first write) so that
 * another store's file at the same path is refused -- telling that nothing
 * changed reads no item. Copies of one store share the id: a file is
 * trusted beside a copy at the same change sequence. A full corpus (its
 * items loaded) also maps a file whose stamp is behind when the items'
 * content fingerprint matches (a state or a date changed) and stamps it
 * anew (index_file_restamp). It is used only with the same parameters and
 * pipeline and matching checksums, else the index is built as below and
 * the load says why in index_file_why. A build then
 * writes the file, so the next reader maps it. Failing to write it is not
 * an error (index_saved stays 0).
 *
 * Growing it: an incremental run maps the file even when its stamp is
 * behind (the same store id, an older sequence), appends the items that
 * came since (index_append) and works on a sparse corpus: it reads only the
 * items it ranks and explains and the stored pairs it may replace. Builds
 * and the grown index score with the statistics of record kept in kv
 * ("index.avglen_record", index.h), so the grown index is the one a build
 * from the snapshot makes, bit for bit. When the file cannot be grown (an
 * indexed item's text changed or it was deleted, a new item sorts among
 * the indexed ones, the averages moved beyond the record, the template is
 * due) stats->grow_why says why, the run builds the index and writes the
 * file, so the next one grows it. A grown run does not write it. Builds
 * other than --full take the record; after a build that did not (--full,
 * or the averages moved beyond it) its averages become the record.
 *
 * Index snapshot: a run builds its index from the snapshot stored in the
 * repository's caches (ANALYZE_INDEX_CACHE), so only items whose text
 * changed go through the text pipeline (index.h, "snapshots"); a --full
 * run builds from scratch, relearning the template, and saves a fresh
 * snapshot. A run saves
 * a new snapshot, in the same transaction as its pairs, when there was none
 * or when the items analysed since the last one reach 1% (at least 256).
 * Incremental bookkeeping reads only the stored pairs' keys; the few old
 * pairs carried over are read back whole.
 *
 * Memory: a full run holds the items, the index, and what ranking keeps per
 * query (the best `keep` hits with their judgments and judge features,
 * packed exactly: analyze_pack.h) until the pairs are oriented and
 * deduplicated; the index's postings, which only ranking reads, are freed
 * before that (a full run in one pass). The pairs are then explained and
 * stored in batches of ANALYZE_BATCH (workers explain the next batch
 * while the store, one writer, inserts this one; one transaction
 * throughout), so the explained pairs -- their text is most of a pair --
 * are never all in memory. Whatever the ceiling, a run gives back the
 * store's memory map once the items are read (store_mmap_limit), trims the
 * heap after the index build, and frees what ranking kept, and the
 * index's fields, once the fresh pairs are stored, before the snapshot is
 * serialised and the pair indexes rebuilt.
 * opts.max_memory sets a ceiling (default ANALYZE_MAX_MEMORY). Only as far
 * as it needs, analyze trades: judge features are recomputed when a pair
 * is explained instead of kept from ranking; when that is not enough, the
 * index build does not keep each doc's fields (decided before the build
 * from what the items take; explaining splits them again and frees them
 * after each batch); the batches shrink; and a full run ranks in passes
 * (queries in doc order, a share at a time, each pass storing the pairs
 * it settles: those whose later doc comes before the next pass's first
 * query; the transaction is then open across passes). stats.traded says
 * which. None changes a
 * result or the pairs' order; all cost some time. What cannot shrink --
 * items and index -- is reported when it alone is over the ceiling.
 *
 * Ownership: analyze_corpus owns everything it loads; free it with
 * analyze_corpus_free. Errors are returned in dp_err; nothing is printed.
 * Threads: ranking and explaining run on opts->threads workers; the progress
 * callback is called under a lock, from any of them.
 */
#ifndef DP_ANALYZE_H
#define DP_ANALYZE_H

#include <stddef.h>
#include <stdint.h>
#include "../store/store.h"
#include "../explain/explain.h"
#include "../explain/report.h"

/* Name of the index snapshot in the store's caches (store_cache_*). */
#define ANALYZE_INDEX_CACHE "index"

/* Everything the ranker and explainer need about one repository. */
typedef struct analyze_corpus {
    int64_t repo_id;
    char *repo_name;           /* owned */
    char *repo_url;            /* owned, may be NULL */
    item_vec items;            /* live (non-deleted) items in creation order; empty
                                  in a sparse corpus (below) */
    link_vec links;
    dindex *ix;                /* over items.v */
    match_model model;         /* loaded model when model_trained */
    int model_trained;
    const match_model *m;      /* &model or match_model_default() */
    char *model_desc;          /* "built-in default" or what it was trained on */
    match_ctx mctx;
    explain_linkset *ls;
    index_snap_info snap;      /* how much of the index came from the snapshot */
    int index_mapped;          /* 1: the index was opened from the persisted file */
    int index_saved;           /* 1: this load wrote the persisted file */
    struct corpus_saver *saver;   /* the file being written on a thread of its own
                                     (analyze_run), or NULL; joined by analyze_corpus_free */
    const char *index_file_why;   /* why the persisted file was not used, or NULL */
    size_t grown;              /* items appended to the mapped index (an incremental
                                  analysis: index_append) */
    double t_load, t_index;    /* seconds spent loading and indexing */
    int drop_fields;           /* set before indexing: build without keeping each
                                  doc's fields (index_params.drop_fields) */
    int64_t seq;               /* store change sequence read before the items */
    /* A sparse corpus (analyze_corpus_open, index mapped): docs' items are
     * read from st into slots[doc] only when a query needs them. */
    int sparse;
    store *st;                 /* borrowed */
    item *slots;               /* [ndocs], owned */
    unsigned char *have;       /* [ndocs]: 1 when slots[doc] is read */
    int links_typed;           /* item_links_any_typed of all the repo's links: `links`
                                  holds only those of the docs read */
    size_t nlinked;            /* links.n when the match ctx's adjacency was built */
    /* With a horizon (analyze_run): each doc's creation time, owned, and
     * whether they ascend with the doc number (docs are in creation order
     * unless an index grew by items older than its newest). */
    int64_t *created;
    int created_sorted;
} analyze_corpus;

/* The persisted index of repo (index.h, "persisted index"): the file
 * "DB-index-REPO" beside the store's database; NULL for an in-memory
 * store. Owned by the caller. */
char *analyze_index_path(store *st, int64_t repo);

/* The model analyze ranks and judges repo with -- the one lookup, shared
 * by analyze, similar, triage and stats: the repository's own trained
 * model, else the global one (trained over several repositories), else the
 * built-in default. *desc (owned) says which: "built-in default" or
 * "trained DATE on N pairs (WHAT)[, global]". A stored model that does not
 * parse is DP_ERR naming it -- never a silent fall back to the default,
 * which would change every judgment. *trained is 1 when out holds the
 * loaded model (match_model_free it); 0: use match_model_default(). */
int analyze_model_load(store *st, int64_t repo, match_model *out, int *trained, char **desc, dp_err *err);

/* Loads items, links and model of repo and maps the persisted index, or
 * builds it (and writes the file). threads 0 = CPUs. */
int analyze_corpus_load(store *st, int64_t repo, int threads, analyze_corpus *co, dp_err *err);
/* For a few queries (similar, triage): maps the persisted index when its
 * stamp vouches for it and reads no item up front -- a sparse corpus: the
 * items of the docs a query needs are read from st (which must outlive co)
 * as analyze_similar and analyze_similar_item need them, so opening costs
 * milliseconds and memory grows with the docs read. The answers are those
 * of a full corpus. A file behind the store only by new items (an
 * incremental analyze does not rewrite it) is grown by them, as analyze
 * grows it (only they are read). When the file can be neither mapped nor
 * grown it is analyze_corpus_load (index_file_why says why). */
int analyze_corpus_open(store *st, int64_t repo, int threads, analyze_corpus *co, dp_err *err);
/* Reads the items of docs that a sparse corpus has not read yet (a full
 * one has all: DP_OK). Not thread-safe on a sparse corpus. DP_ERR when the
 * store fails or an item's row is gone. */
int analyze_corpus_need(const analyze_corpus *co, const uint32_t *docs, size_t n, dp_err *err);
/* analyze_corpus_need for the docs [from, from + n) (clipped to the
 * corpus); *next gets the doc after them. Filling a sparse corpus in
 * chunks, between requests: same thread rules. */
int analyze_corpus_fill(const analyze_corpus *co, size_t from, size_t n, size_t *next, dp_err *err);
void analyze_corpus_free(analyze_corpus *co);
/* Frees the bulk of a loaded (not sparse) corpus that a run reads no more
 * once its pairs are explained: the items' texts (the vector keeps its
 * emptied slots, so items.n still counts them), the index (ix becomes
 * NULL), the judge's context, the link set, the links and the creation
 * times. repo_id and the repository's name stay. analyze_corpus_free must
 * still follow, and frees nothing twice; a second call frees nothing. A
 * sparse corpus is left as it is. */
void analyze_corpus_release(analyze_corpus *co);

/* ---- reading a loaded corpus (callers never reach into co->ix) ---- */
size_t analyze_corpus_ndocs(const analyze_corpus *co);
/* The item of a doc (doc < ndocs), borrowed from co; of a sparse corpus,
 * only a doc read by analyze_corpus_need or a query (an empty item else). */
const item *analyze_corpus_doc(const analyze_corpus *co, uint32_t doc);
/* Doc number of an item key, or -1 when the corpus has no such item. */
int64_t analyze_corpus_find(const analyze_corpus *co, const char *key);
/* The item with this key (borrowed), or NULL. */
const item *analyze_corpus_item(const analyze_corpus *co, const char *key);

/* Full-text search (BM25F) over the corpus' index, the text playing the
 * title of an item (the field searched hardest): up to k hits, best first,
 * into out; returns how many. `doppel search` goes through here, so it
 * searches the index analyze built (from the snapshot), not a fresh one.
 * Read-only on co. */
typedef struct analyze_search_hit {
    const item *it;            /* borrowed from co */
    double score;
} analyze_search_hit;
size_t analyze_search(const analyze_corpus *co, const char *text, size_t k, analyze_search_hit *out);

/* Ranks candidates for doc qdoc, judges them and explains the best k into
 * out (appended, oriented query = qdoc, whichever is older). For
 * `similar`: no keep filtering. Of a sparse corpus it reads the items of
 * qdoc and of its candidates (then not thread-safe); DP_ERR only when that
 * fails. */
int analyze_similar(const analyze_corpus *co, uint32_t qdoc, size_t k, int64_t now, pair_vec *out,
                    dp_err *err);

/* ---- a new issue, not filed yet (`similar --title`, GET /api/similar) ---- */

/* The key a new issue goes by: it reads well in the reasoning sentences. */
#define ANALYZE_NEW_KEY "this issue"
/* Fills out (item_init'ed here) as an open issue keyed ANALYZE_NEW_KEY with
 * copies of title, body (NULL: "") and labels (may be NULL), created now. */
void analyze_new_item(const char *title, const char *body, const strvec *labels, int64_t now, item *out);

/* Ranks, judges and explains the best k candidates for `it`, an item that
 * is NOT in co -- an outside query against the index as it is (a server
 * keeps one corpus and ranks many new issues against it; `similar --title`
 * maps the persisted one) -- and appends them to out as pairs query =
 * it->key, each with its reasoning, value (staleness as of now) and
 * comment. Read-only on a full corpus: any number of threads may call it
 * at once. Of a sparse corpus it reads its candidates' items (then not
 * thread-safe); DP_ERR only when that fails. */
int analyze_similar_item(const analyze_corpus *co, const item *it, size_t k, int64_t now, pair_vec *out,
                         dp_err *err);

/* The JSON of `similar --json` and GET /api/similar: {"query": the item,
 * "candidates": [pair + "candidate_item"], "model": description}. Every
 * candidate must be a doc of co. New reference. */
json_t *analyze_similar_json(const analyze_corpus *co, const item *query, const pair_vec *pv);

typedef struct analyze_opts {
    int all;            /* every item is a query; default only open issues */
    size_t k;           /* candidates ranked per query (default 20) */
    size_t keep;        /* always kept per query (default 3) */
    int threads;        /* 0 = number of CPUs */
    int mode;           /* ANALYZE_AUTO: incremental when the stored pairs allow it;
                           ANALYZE_FULL: rank every query, rebuild the index */
    int64_t now;        /* 0 = time(NULL); for staleness in value */
    size_t max_memory;  /* bytes; 0 = no ceiling (see "Memory" above);
                           default ANALYZE_MAX_MEMORY */
    size_t batch;       /* pairs explained and stored per batch; 0 = ANALYZE_BATCH */
    int horizon;        /* days: a query ranks only the items created within
                           this many days of it (before or after); 0 = all;
                           ANALYZE_HORIZON_AUTO (the default): see
                           analyze_horizon and "Horizon" above */
} analyze_opts;
/* The default ceiling: a full run of 250k items stays under 2 GB with it
 * (see "Memory" above). */
#define ANALYZE_MAX_MEMORY ((size_t)1800 << 20)
/* Pairs in flight per batch by default (see "Memory" above): what the
 * memory plan counts on; a batch grows to ANALYZE_BATCH_MAX into room the
 * plan leaves (without a ceiling, always): fewer batches are fewer meetings
 * of the explaining threads and the writer (at 250k items the explain and
 * store phase 13.8 -> 12.9 and 14.9 -> 14.1 s, two alternated pairs). */
#define ANALYZE_BATCH 4096
#define ANALYZE_BATCH_MAX 16384
/* The default horizon (see "Horizon" above): ANALYZE_HORIZON days once a
 * repository holds ANALYZE_HORIZON_FROM items, none below -- a smaller one
 * is ranked whole in well under a minute, and loses no old pair. */
#define ANALYZE_HORIZON_AUTO (-1)
#define ANALYZE_HORIZON 365
#define ANALYZE_HORIZON_FROM 50000
/* The horizon o asks for at n items, in days (0: none). */
int analyze_horizon(const analyze_opts *o, size_t n);
enum { ANALYZE_AUTO = 0, ANALYZE_FULL = 1 };
void analyze_opts_default(analyze_opts *o);

typedef struct analyze_stats {
    size_t items, queries, pairs, known, changed;
    size_t reanalysed;          /* items run through the text pipeline (the
                                   rest came from the index snapshot) */
    int incremental;            /* 1 when only affected queries ran */
    int up_to_date;             /* 1 when nothing changed: nothing ran */
    int snapshot_saved;         /* 1 when the index snapshot was (re)saved */
    int index_mapped;           /* 1 when the index was mapped from the persisted file */
    int index_saved;            /* 1 when the persisted index file was written */
    size_t grown;               /* items appended to the mapped index (incremental) */
    const char *grow_why;       /* why the persisted index was not grown, or NULL */
    char model_desc[256];
    double t_load, t_index, t_plan, t_rank, t_explain, t_store;   /* t_plan: incremental
                                                                     bookkeeping; t_store: explaining
                                                                     and storing, pipelined, of
                                                                     which t_explain explaining */
    size_t batch;               /* pairs in flight per batch */
    size_t max_memory;          /* the ceiling asked for (0: none) */
    size_t mem_base;            /* resident after indexing (with a ceiling) */
    char traded[512];           /* with a ceiling: what was traded for it ("nothing") */
    size_t hits_kept;           /* hits ranking kept (a full run in one pass) ... */
    size_t hits_bytes;          /* ... and the bytes they took, packed (what
                                   analyze_hold_bytes estimates) */
    size_t postings_freed;      /* the index's postings freed once ranked (a full
                                   run in one pass; index_postings_release) */
    int horizon;                /* the horizon used, in days (0: none) */
    int corpus_released;        /* 1 when the corpus was freed beside the pair
                                   index builds (a full run in one pass) */
} analyze_stats;

/* What a ceiling (plan_memory) counts on for ranking nq queries keeping
 * `keep` hits each (and the rare strong one more): the kept hits packed
 * with their judgments and, when jf, their judge features. An estimate of
 * typical sizes, with room. */
size_t analyze_hold_bytes(size_t nq, size_t keep, int jf);

/* phase is "index" (0/1 then 1/1 around loading and indexing), then "rank"
 * (queries) and "explain" (pairs), each counting up to its total. */
typedef void (*analyze_progress_fn)(void *ud, const char *phase, size_t done, size_t total);

int analyze_run(store *st, int64_t repo, const analyze_opts *o, analyze_progress_fn progress,
                void *ud, analyze_stats *stats, dp_err *err);

/* An incremental analyze_run whose persisted index was grown by at least
 * this many new items writes the file anew once its pairs are stored, so
 * that the runs after it start from there (tests lower it). */
extern size_t analyze_regrow_items;

#endif
