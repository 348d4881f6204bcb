/* store_int.h -- internals shared by the store_*.c files (not a public
 * contract: only src/store includes it).
 *
 * The store keeps one SQLite connection and a cache of prepared statements
 * for the hot paths (item upsert during import, pair and verdict lookups in
 * the web server). A cached statement is always reset and unbound after use,
 * so it never holds a read snapshot open between calls. Dynamic queries (the
 * pair filter) are built from fixed SQL fragments; user data is only ever
 * bound as a parameter.
 */
#ifndef DP_STORE_INT_H
#define DP_STORE_INT_H

#include <stdatomic.h>
#include <sqlite3.h>

#include "../common/hashmap.h"
#include "store.h"

/* Slots of the prepared-statement cache. */
enum {
    SQ_REPO_GET,
    SQ_REPO_ADD,
    SQ_ITEM_INSERT,
    SQ_ITEM_UPDATE,
    SQ_ITEM_GET,
    SQ_ITEM_GET_ROW,
    SQ_ITEM_LABELS_DEL,
    SQ_ITEM_LABEL_ADD,
    SQ_PAIRS_TOUCH_Q,
    SQ_PAIRS_TOUCH_C,       /* must follow SQ_PAIRS_TOUCH_Q */
    SQ_COMMENT_BY_TRACKER,
    SQ_COMMENT_FIND,
    SQ_COMMENT_UPDATE,
    SQ_COMMENT_ADD,
    SQ_COMMENT_ADD_NEW,
    SQ_LINK_ADD,
    SQ_PAIR_DEL_QUERY,
    SQ_PAIR_ELSEWHERE,
    SQ_PAIR_ADD,
    SQ_PAIR_GET,
    SQ_PAIR_FIND,
    SQ_VERDICT_SET,
    SQ_VERDICT_DEL,
    SQ_KV_SET,
    SQ_KV_DEL,
    SQ_KV_GET,
    SQ_DATA_VERSION,
    SQ_REPO_LIST,
    SQ_READ_BEGIN,
    SQ_READ_END,
    SQ_CACHE_DEL,
    SQ_CACHE_DEL_ALL,
    SQ_CACHE_ADD,
    SQ_CACHE_STAT,
    SQ_CACHE_READ,
    SQ_PAIR_REFS,
    SQ_PAIR_ADD_BULK,
    SQ_PAIR_TEXT_ADD,
    SQ_PAIR_TEXT_GET,
    SQ__COUNT
};

/* Statements built at run time (the pair filter) are cached by their SQL
 * text; a filter yields a handful of shapes, a reviewer uses a few filters. */
#define STORE_DYN_SLOTS 32
typedef struct store_dyn {
    char *sql;                      /* owned; NULL = free slot */
    sqlite3_stmt *s;
    uint64_t used;                  /* clock tick of last use, for LRU */
} store_dyn;

/* What the caches of store_pairs.c keep about each entry, first in it:
 * valid while the database is unchanged (the data stamp). */
typedef struct store_slot {
    char *key;                      /* owned: filter SQL and bound values; NULL = free */
    int64_t version;                /* store_pairs data stamp when computed */
    uint64_t used;                  /* clock tick of last use, for LRU */
} store_slot;

/* Cached pair counts (store_pairs.c). */
#define STORE_COUNT_SLOTS 8
typedef struct store_count {
    store_slot s;
    size_t total, reviewed;
} store_count;

/* The order of a set-driven filter (store_pairs.c, Q_SET): the sort key
 * and id of every matching pair, in page order, so that every page and
 * neighbour of a text is a binary search rather than a new read of its
 * set. Kept like the counts, until the data changes. */
#define STORE_ORDER_SLOTS 2
typedef struct store_order {
    store_slot s;                   /* key: the sort, filter SQL and values */
    size_t n;
    double *k;                      /* owned, n sort keys, descending */
    int64_t *id;                    /* owned, n ids, ascending within a key */
} store_order;

/* How long a connection waits for another connection's lock (the web
 * server reads while analyze writes) before SQLITE_BUSY. */
#define STORE_BUSY_MS 10000

/* The in-memory table that counts filters on items (store_pcount.c). */
typedef struct store_pcount store_pcount;
/* An open bulk pair replace (store_pairs_bulk_begin .. _end, store_pairs.c):
 * the pairs' indexes and triggers are dropped, and the updated_at of the
 * repository's items is read once into a map instead of twice a pair. */
typedef struct store_pbulk {
    int open;
    int64_t repo;
    strvec sql;                     /* the dropped indexes' and triggers' CREATE statements */
    struct pb_item *item;           /* the repository's items: key hash, updated_at, key ... */
    size_t nitem;
    sbuf kbuf;                      /* ... whose bytes are here, each ended by a NUL */
    dp_idxmap map;                  /* key -> entry of item */
    size_t last;                    /* the entry of the last pair's query (SIZE_MAX: none):
                                       a query's pairs arrive together, so its key repeats */
    int loaded;                     /* the map was read ... */
    int64_t changes;                /* ... and nothing but pair inserts has written
                                       since (sqlite3_total_changes64 then) */
    int secure_delete;              /* PRAGMA secure_delete before the replace; -1: untouched */
} store_pbulk;

struct store {
    sqlite3 *db;
    char *path;
    int readonly;
    int bulk;                       /* store_bulk_mode: no savepoint per write */
    int pairs_txn;                  /* in store_begin_pairs' transaction
                                       (until store_commit / _rollback): no
                                       savepoint per write either */
    int bulk_journal;               /* a first import or first analysis: this
                                       transaction runs on a rollback journal,
                                       WAL comes back at its end */
    size_t fts_pending;             /* bulk: items noted in items_fts_todo since the last flush */
    /* bulk: the title index built beside the writer (store_fts.c);
     * fts_side_state 0 = not looked at in this transaction, 1 = building
     * (fts_side set), 2 = not this way. */
    struct store_fts_side *fts_side;
    int fts_side_state;
    /* the side build turned the triggers off: items_fts_todo lacks the
     * transaction's items (store_fts_todo_restore) */
    int fts_todo_skipped;
    /* the side build's content rows are in items_fts_content (store_fts.c) */
    int fts_content_direct;
    /* bulk: the label index of a first import, made at commit
     * (store_items.c); labels_state 0 = not looked at in this transaction,
     * 1 = dropped (its statement in labels_sql, owned), 2 = kept. */
    int labels_state;
    char *labels_sql;
    /* bulk: what one look-up per transaction found out about repository
     * pairs_repo (0: nothing yet): whether it has pairs to touch when an
     * item changes. Reset by store_begin, store_commit, store_rollback and
     * any pair write. */
    int64_t pairs_repo;
    /* bulk, in a write transaction: the next change sequence number of
     * items of repository seq_repo (0: not known yet; store_items.c) */
    int64_t seq_repo, seq_next;
    int pairs_any;
    int version;                    /* PRAGMA user_version after migration */
    sqlite3_stmt *cache[SQ__COUNT];
    store_dyn dyn[STORE_DYN_SLOTS];
    store_count counts[STORE_COUNT_SLOTS];
    store_order orders[STORE_ORDER_SLOTS];
    uint64_t clock;                 /* LRU clock of dyn and counts */
    store_pcount *pcount;           /* owned; NULL until a count needs it */
    store_pcount_shared *pcount_sh; /* not owned (store_pcount_share); NULL: counts alone */
    uint64_t read_clock;            /* store_pcount_clock() when the read snapshot began */
    store_pbulk pbulk;              /* store_pairs_bulk_begin .. _end */
    /* a bulk pair replace ended in this transaction: PRAGMA secure_delete
     * goes back to secure_mode at its end (store_secure_delete_end) */
    int secure_pending;
    int secure_mode;
};

/* The schema: migrations[i] takes the database from version i to i+1. */
extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Size of one stored part of a cache blob: STORE_CACHE_PART, changeable
 * so a unit test can split a small blob into many parts. */
extern size_t store_cache_part;

/* Fills err with "store: <what>: <sqlite message>" and returns DP_ERR.
 * Call it before resetting the failed statement. */
int store_fail(store *st, dp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the cached statement for slot, preparing sql on first use; NULL
 * (err filled) when preparation fails. */
sqlite3_stmt *store_stmt(store *st, int slot, const char *sql, dp_err *err);
/* Returns a prepared statement for a run-time SQL text from the handle's
 * LRU cache (preparing it on a miss); the caller store_done()s it after use
 * and never finalizes it. NULL (err filled) when preparation fails. */
sqlite3_stmt *store_stmt_sql(store *st, const char *sql, dp_err *err);

/* The number of pairs that pass f's repository, relation, confidence,
 * known, state and label conditions (f's text, reviewed and paging are not
 * looked at), from a table of pair classes and item states: the handle's,
 * built or rebuilt when stamp (store_pairs.c's data stamp) differs from the
 * one it was built at, or the one it shares (store_pcount_share), current
 * at the shared stamp. store_pcount_free drops the handle's reference. */
int store_pcount_count(store *st, const pair_filter *f, int64_t stamp, size_t *n, dp_err *err);
/* What an order asks beyond the filter's own conditions (all borrowed).
 * With text set, a pair passes only when one of its items holds the text
 * -- is among items[0..nitems), or among cands[0..ncands) (what the
 * trigram index offers, a superset) and its key or title holds text as
 * dp_fts_has tells, tested on the table's copy of them, or (scan set: a
 * text too short for the index) its key or title holds text as LIKE
 * '%text%' finds it, every item tested -- or its own id is among
 * keyed[0..nkeyed) (ascending); and no pair whose id is among
 * skip[0..nskip) (ascending) passes. Item ids in any order. */
typedef struct pcount_extra {
    const char *text;
    int scan;
    const int64_t *items, *cands, *keyed, *skip;
    size_t nitems, ncands, nkeyed, nskip;
} pcount_extra;
/* Sort keys of an order: the columns value, prob, updated_at. */
enum { PC_SORT_VALUE, PC_SORT_PROB, PC_SORT_UPDATED, PC_SORTS };
/* The pairs that pass f's conditions (as store_pcount_count counts them)
 * and x's, sorted by the sort key descending, then id ascending: *n of
 * them in *k (keys; updated_at as a double) and *id, both owned by the
 * caller (NULL when none). The table is the one store_pcount_count uses. */
int store_pcount_order(store *st, const pair_filter *f, int64_t stamp, const pcount_extra *x, int sort, size_t *n,
                       double **k, int64_t **id, dp_err *err);
void store_pcount_free(store *st);
/* The shared tables' build clock, which store_read_begin notes. */
uint64_t store_pcount_clock(void);
/* How many tables the handles sharing sh have built (tests, diagnostics). */
size_t store_pcount_shared_builds(store_pcount_shared *sh);
/* Resets and unbinds a statement after use (cached or not). */
void store_done(sqlite3_stmt *s);

/* Appends to out, one "<path>: <detail>" line each, the EXPLAIN QUERY PLAN
 * of every statement the pair filter f runs: key (a pair's sort key), page,
 * count, reviewed, next-same, next-beyond, prev-same, prev-beyond. For
 * tests and benchmarks. */
int store_pairs_explain(store *st, const pair_filter *f, sbuf *out, dp_err *err);
/* A page of a class filter (relation, confidence, known) holding at most
 * this many pairs is sorted from pairs_filter, a larger one walks a sort
 * index (store_pairs.c). Tests set it to 0 to compare both ways. */
extern size_t store_pairs_kset_max;
/* A text's order is made from a table around it (store_pcount.c) when no
 * current table is at hand and its candidate items are at most this many
 * percent of the items (default 40); tests set 0 (never) or 100 (always)
 * to compare both ways. store_pcount_arounds counts those tables. */
extern unsigned store_pcount_around_pct;
extern atomic_size_t store_pcount_arounds;
/* Releases the pair count cache (store_pairs.c); called by store_close. */
void store_pairs_cache_free(store *st);
/* Forgets an open bulk pair replace (its transaction ended: a rollback
 * brought the indexes and triggers back); called by store_commit,
 * store_rollback and store_close. */
void store_pairs_bulk_forget(store *st);
/* The sort indexes of a page of every repository (pairs_all_by_*) made
 * when more than one repository has pairs, dropped when at most one has
 * (store_pairs.c says why). Called where a write of pairs ends; also by
 * the migration to STORE_V_PAIRS_ALL, which dropped them. */
int store_pairs_all_sync(store *st, dp_err *err);
#define STORE_V_PAIRS_ALL 15
/* Sets PRAGMA secure_delete back as it was before a bulk pair replace that
 * ended in the transaction now over (nothing when none did); called by
 * store_commit and store_rollback once the transaction ended. */
void store_secure_delete_end(store *st);

/* A descriptor SQLite holds open on the store's file (store_writeback
 * uses it), or -1 (":memory:", or none found). Borrowed: never close it. */
int store_file_fd(const store *st);

/* Runs SQL without results (schema, transaction control). */
int store_exec(store *st, const char *sql, const char *what, dp_err *err);

/* Questions with one answer -- a pragma, a count, a maximum: the first
 * column of the first row sql gives, ?1 bound to arg when sql has a
 * parameter (prepared for the call, not cached).
 * store_value_int: 1 with *out set when a row came, 0 when none did, -1
 * when the statement failed (store_fail then tells why).
 * store_value_text: the value as text, allocated (the caller frees it), or
 * NULL for no row, a NULL value or a failure. */
int store_value_int(store *st, const char *sql, int64_t arg, int64_t *out);
char *store_value_text(store *st, const char *sql);
/* Runs the n statements sql[] (index builds, CREATE INDEX) one after the
 * other with the sorter's two worker threads and a small page cache, so
 * that the sort runs on both cores; what names them in an error. */
int store_exec_sorted(store *st, char *const *sql, size_t n, const char *what, dp_err *err);

/* Brings items_fts up to date for the items noted in items_fts_todo (see
 * store_schema.c); run by store_commit, and in bulk mode every
 * STORE_FTS_BATCH item writes (see store_item_upsert). */
#define STORE_FTS_BATCH 4096
int store_fts_flush(store *st, dp_err *err);
/* What store_commit runs for the title index: the side build's copy when
 * one is open (store_fts_side_finish), else store_fts_flush. */
int store_fts_commit(store *st, dp_err *err);

/* The label index (item_labels_by_name) of a bulk import into a store
 * without labels is dropped at the transaction's first item write and
 * made again, in one sort, by store_labels_commit (run by store_commit);
 * store_labels_forget drops that plan once the transaction is rolled back
 * (which brings the index back). Both are no-ops otherwise. */
int store_labels_commit(store *st, dp_err *err);
void store_labels_forget(store *st);

/* The title index of a bulk import into a store without items, built by a
 * thread of its own beside the writer (store_fts.c).
 * store_fts_side_begin decides once per transaction, at its first item
 * write, whether this one builds so (bulk mode, a transaction open, no
 * items, nothing indexed or noted); 1 when it does. Every item row the
 * transaction then writes goes to store_fts_side_add (old_title: the row
 * was there with that title, its old entry goes), which also writes its
 * content row into items_fts_content at once. store_fts_side_finish, before the
 * commit, waits for the thread and copies the index into the store (or,
 * when the thread failed, indexes the noted items itself);
 * store_fts_side_abort (rollback, close) drops it. */
int store_fts_side_begin(store *st);
/* Tests set it: the side build fails after its first chunk, and
 * store_fts_side_finish falls back to store_fts_flush. */
extern int store_fts_side_fault;
/* Chunks of titles queued for the thread at most (tests make it 1). */
extern size_t store_fts_side_max_queued;
/* Items from which store_items_load reads two halves at once (20,000; a
 * variable for tests). */
extern size_t store_load_split;
/* Tests: called once the two halves are read, before the change sequence
 * is read again (a write there must make the load start over). */
extern void (*store_load_split_hook)(store *st);
int store_fts_side_add(store *st, int64_t id, const char *key, const char *title, const char *old_title,
                       dp_err *err);
/* The content rows store_fts_side_add wrote into items_fts_content go
 * (DELETE) when the side build is dropped inside the transaction, before
 * the store indexes the items itself; a no-op otherwise. */
int store_fts_content_drop(store *st, dp_err *err);
int store_fts_side_finish(store *st, dp_err *err);
void store_fts_side_abort(store *st);
/* When the side build turned the triggers off, turns them back on and,
 * inside the transaction, notes every item in items_fts_todo, as the
 * triggers would have: what store_fts_flush indexes when the side build
 * is dropped. A no-op otherwise. */
int store_fts_todo_restore(store *st, dp_err *err);
/* Registers on db the tokenizer of items_fts (schema version 14),
 * dp_trigram: FTS5's trigram tokenizer, each token followed by a byte
 * hashed from it (store_fts.c says why). Every connection that reads or
 * writes items_fts needs it; store_fts_functions registers it too.
 * SQLITE_OK or an error code. */
int store_fts_tokenizer(sqlite3 *db);
/* Registers on db the text filter's SQL functions over items_fts, which
 * keeps no positions (detail=none, schema version 12), so a phrase query
 * cannot be run on it:
 *   dp_fts_query(text)   an FTS5 query matching every row that holds text
 *                        (its trigrams joined by AND; a superset);
 *   dp_fts_has(key, title, text)  1 when key or title holds text exactly as
 *                        a phrase query of it matched on a detail=full
 *                        index: the same trigram tokenizer's tokens, one
 *                        after the other, in one column; else 0.
 * Both tokenise with the trigram tokenizer of db's own FTS5. SQLITE_OK or
 * an error code. */
int store_fts_functions(sqlite3 *db);
/* dp_fts_has(key, title, text) in C when key, title and text are all ASCII
 * (1 or 0, as the function gives); -1 otherwise (ask the function). */
int store_fts_ascii_has(const char *key, const char *title, const char *text);
/* Whether s holds text with ASCII letters in either case and every other
 * byte as it is: LIKE '%text%' with the text's wildcards escaped. */
int store_ascii_holds(const char *s, const char *text);
/* Savepoints make multi-statement writes atomic on their own and nest inside
 * a caller's store_begin. store_sp_end releases on ok == DP_OK, otherwise
 * rolls the savepoint back; it returns ok (or DP_ERR if the release failed).
 * Neither runs in bulk mode nor in a pair replacement (store_begin_pairs),
 * whose failures end in store_rollback: in a savepoint every page a write
 * first touches is copied to a sub-journal, a write syscall a page (6,600
 * of them in a 20-item analysis at 250k items). */
int store_sp_begin(store *st, dp_err *err);
int store_sp_end(store *st, int ok, dp_err *err);

/* Binding helpers: NULL strings bind as SQL NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Column helpers: NULL stays NULL; store_col_str_empty gives "" instead. */
char *store_col_str(sqlite3_stmt *s, int i);
char *store_col_str_empty(sqlite3_stmt *s, int i);

/* Steps a statement that returns no rows (or whose rows are ignored). */
int store_step_done(store *st, sqlite3_stmt *s, dp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
