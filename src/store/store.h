/* store.h -- the persistent store: the only module that speaks SQL.
 *
 * One header is the contract; store_sqlite.c implements it on SQLite (WAL,
 * foreign keys, schema version in PRAGMA user_version with forward
 * migrations). A PostgreSQL backend would implement the same functions.
 *
 * Conventions:
 *  - Every call returns DP_OK, DP_NOTFOUND (lookups only) or DP_ERR with
 *    err->msg filled. Nothing is printed.
 *  - Out-parameters (items, vectors, strings) are owned by the caller and
 *    released with the matching *_free / free().
 *  - Writes are grouped by the caller with store_begin/store_commit; on any
 *    error the caller calls store_rollback and the store is as before.
 *    Calls made outside a transaction are atomic on their own.
 *  - Items, comments, links, pairs and verdicts are addressed by
 *    (repo_id, item key). Pairs are replaced by analyze; verdicts live in
 *    their own table keyed by (repo, query key, candidate key) so they survive
 *    re-analysis.
 *  - A store handle is used by one thread at a time; open one per thread
 *    (the web server does) -- WAL lets readers run beside a writer.
 */
#ifndef DP_STORE_H
#define DP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "../common/item.h"
#include "../common/pair.h"

typedef struct store store;

#define STORE_DEFAULT_PATH "doppel.db"

/* path NULL or "" means STORE_DEFAULT_PATH. A database whose schema is newer
 * than this binary is DP_ERR. store_open_readonly refuses a missing, empty or
 * not-yet-migrated database, and every write through it fails. */
int store_open(const char *path, store **out, dp_err *err);   /* creates/migrates */
int store_open_readonly(const char *path, store **out, dp_err *err);
void store_close(store *st);                                   /* NULL ok */

/* Counts of the pair filters on item states and labels, and the pages of a
 * text, are served from a table in memory (0.5-1.5 s to build at 725k
 * pairs, then milliseconds). A
 * process whose threads each hold a handle on one store (doppel serve)
 * shares one table between them: store_pcount_shared_new opens a read-only
 * handle of its own to path, which tells when anyone commits and builds the
 * table; store_pcount_share(st, sh) makes st count through it (free sh
 * after the handles sharing it are closed); store_pcount_warm builds the
 * table now (thread-safe), so the first filter a reviewer clicks finds it. */
typedef struct store_pcount_shared store_pcount_shared;
int store_pcount_shared_new(const char *path, store_pcount_shared **out, dp_err *err);
void store_pcount_shared_free(store_pcount_shared *sh);                 /* NULL ok */
void store_pcount_share(store *st, store_pcount_shared *sh);
int store_pcount_warm(store_pcount_shared *sh, dp_err *err);
int store_schema_version(store *st);
/* The path the store was opened with (borrowed; ":memory:" for none). Caches
 * that live beside the database (the persisted index) are named after it. */
const char *store_path(const store *st);
/* 1 when the store is a file of its own that another handle (or a cache
 * beside it) can name: not ":memory:", not a "file:" URI. */
int store_is_file(const store *st);

/* Maps at most `bytes` of the database file into memory from the next
 * statement on (0: none; reads then go through the page cache alone).
 * Opening maps STORE_MAP_OPEN (256 MB), which is resident while the pages
 * are used: analyze, once it has read the items, gives that back (its own
 * peak is the index and its pairs, not the file). Must be called outside a
 * transaction; the change lasts until store_close. STORE_MAP_ALL maps the
 * whole file (SQLite caps it at its compile-time maximum, 2 GB on Debian),
 * as a read-only handle does: a handle that reads pages scattered over the
 * file (`doppel pairs`, an incremental analyze) then reads a page with a
 * page fault the first time, not a system call and a copy into its page
 * cache every time. */
#define STORE_MAP_OPEN ((size_t)256 << 20)
#define STORE_MAP_ALL ((size_t)1 << 34)
int store_mmap_limit(store *st, size_t bytes, dp_err *err);

/* Asks the OS to start writing the store file's changed pages to disk now
 * (sync_file_range), without waiting for them, so that the commit's fsync
 * finds little left to write: a first import or analysis leaves hundreds
 * of MB in the page cache, under the kernel's own write-back threshold,
 * for its commit to wait on. The pages are submitted on the calling
 * thread, which pays the system time: an import calls it every few
 * batches from its writer (250k items: commit 0.43 -> 0.12 s); an
 * analysis once, from the thread that serialises its index snapshot while
 * the writer rebuilds the pair indexes (250k: commit 0.78 -> 0.27 s; the
 * writer itself calling it after each batch cost it 2-4 s of system time).
 * The one store call that may run beside the store's own thread: it reads
 * only the path the store was opened with and calls the OS. Best effort,
 * never an error; nothing for ":memory:". */
void store_writeback(store *st);

/* The caller is about to write many records in one transaction (an
 * import) and rolls all of it back on any error. Store writes then run
 * without their own savepoint, so a failed write may leave part of itself
 * in the transaction: only store_rollback is safe after an error. Statement
 * journals are kept in memory instead of a temporary file (each page a
 * statement first touches is copied there: on a file, a write syscall a
 * page). The title index is brought up to date every few thousand item
 * writes instead of once at store_commit (see store_item_upsert), inside
 * the same transaction. Inside a transaction, whether a repository has
 * pairs is looked up once (again after any pair insert): an item write
 * then skips raising the pairs' updated_at in a repository without any.
 * Lasts until store_close. */
int store_bulk_mode(store *st, dp_err *err);

/* Not nestable: store_begin while a transaction is open is DP_ERR. */
int store_begin(store *st, dp_err *err);
/* store_begin for a transaction that replaces pairs (analyze). When the
 * store holds no pair at all and no other connection has it open, the
 * transaction runs on a rollback journal instead of WAL (each new page is
 * written once, not again by a checkpoint), and WAL comes back when it
 * ends, committed or rolled back. Atomic either way: a process killed
 * mid-way leaves a journal the next open rolls back. Readers that open
 * the store meanwhile (a `serve` started during the first analysis) wait
 * for the commit, up to the busy timeout, then fail as locked. All or
 * nothing: a store call that fails inside it may leave part of its writes,
 * and the caller's one course is store_rollback (the calls take no
 * savepoint of their own here; see store_sp_begin). */
int store_begin_pairs(store *st, dp_err *err);
int store_commit(store *st, dp_err *err);
void store_rollback(store *st);
/* A read snapshot: the reads between store_read_begin and store_read_end
 * see the database as of the first of them and share one lock instead of
 * taking one each (the web server wraps every GET in one). Allowed on a
 * read-only handle; store_read_begin inside any transaction is DP_ERR.
 * Keep snapshots short: WAL cannot be checkpointed past an open reader. */
int store_read_begin(store *st, dp_err *err);
void store_read_end(store *st);                                /* NULL ok */

/* ---- repositories --------------------------------------------------- */
typedef struct repo_info {
    int64_t id;
    char *name;           /* "owner/name" or a Jira project key such as "HIVE" */
    char *kind;           /* "github" or "jira" */
    char *url;            /* base web URL, e.g. "https://github.com/o/r"; may be NULL */
} repo_info;

/* Finds repo by name; with create=1 inserts it (kind/url used only then). */
int store_repo_get(store *st, const char *name, int create, const char *kind,
                   const char *url, int64_t *repo_id, dp_err *err);
int store_repo_list(store *st, repo_info **out, size_t *n, dp_err *err);
void repo_info_free(repo_info *r);
/* Resolves a --repo option: NULL means "the only repository" (DP_ERR with a
 * helpful message when there are none or several). */
int store_repo_resolve(store *st, const char *name, int64_t *repo_id, dp_err *err);

/* ---- items ------------------------------------------------------------ */
/* A date more than this far past the local clock is taken for the work of
 * a wrong clock (the tracker's or an export's), not for a real edit. */
#define STORE_FUTURE_SLACK ((int64_t)86400)

/* Inserts or updates by (repo, key). An existing item is replaced only when
 * it->updated_at is newer than the stored one (re-import is idempotent),
 * or when the stored updated_at lies more than STORE_FUTURE_SLACK in the
 * future and the new one differs: otherwise one copy dated 9999-12-31 would
 * refuse every later real edit of the item. Every write gives the item the
 * repository's next change sequence number (below).
 * *changed (may be NULL) is set to 1 when a row was written. */
int store_item_upsert(store *st, int64_t repo, const item *it, int *changed, dp_err *err);
int store_item_get(store *st, int64_t repo, const char *key, item *out, dp_err *err);
/* The item with store row id rowid (item.rowid) in repo, deleted or not:
 * what a persisted index names its docs by. DP_NOTFOUND when none. */
int store_item_get_row(store *st, int64_t repo, int64_t rowid, item *out, dp_err *err);
/* All items of a repo ordered by created_at, then number, then key
 * (deleted ones included, with it->deleted set). */
/* store_item_get_row for n distinct row ids at once (out[i] gets rowids[i];
 * a statement per STORE_ROWS_CHUNK of them, not per item). DP_NOTFOUND
 * when one has no row, *missing its index; on any error out[] is left
 * empty (item_init). */
#define STORE_ROWS_CHUNK 64
int store_items_get_rows(store *st, int64_t repo, const int64_t *rowids, size_t n, item *out, size_t *missing,
                         dp_err *err);
/* Every item of repo, in creation order (created_at, number, key), appended
 * to out. A large repository's (20,000 items on), outside a transaction,
 * is read in two halves at once, the later on a handle of its own (the
 * same rows: an item written meanwhile makes it load again on one handle). */
int store_items_load(store *st, int64_t repo, item_vec *out, dp_err *err);
/* Marking a live item deleted is a change (it gets a new sequence number). */
int store_item_mark_deleted(store *st, int64_t repo, const char *key, dp_err *err);
/* Change sequence (for incremental analysis): each write that changes an
 * item -- insert, newer copy, deletion mark -- gives it the repository's
 * next number, so what changed since a run is found by counter, never by
 * the tracker's dates. store_change_seq gives the highest number so far
 * (0 when the repository has no items); store_items_changed appends the
 * keys of items with after < sequence <= upto, in sequence order. */
int store_change_seq(store *st, int64_t repo, int64_t *seq, dp_err *err);
int store_items_changed(store *st, int64_t repo, int64_t after, int64_t upto, strvec *keys,
                        dp_err *err);
/* Counts non-deleted items; any out-pointer may be NULL. */
int store_item_count(store *st, int64_t repo, size_t *issues, size_t *prs, size_t *open, dp_err *err);

/* ---- comments --------------------------------------------------------- */
/* Upsert by tracker id when c->id != 0, else by (item, created_at, author). */
int store_comment_upsert(store *st, int64_t repo, const comment *c, dp_err *err);
/* Comments of one item, oldest first. */
int store_comments_load(store *st, int64_t repo, const char *item_key, comment_vec *out, dp_err *err);
/* A 128-bit digest (dp_hash family) of everything store_comments_load would
 * return for the item, without building it: callers that cache what they
 * made of an item's comments validate the cache with it. */
int store_comments_digest(store *st, int64_t repo, const char *item_key, uint64_t out[2], dp_err *err);
/* Every comment of the repo (for link extraction), ordered by item key then time. */
int store_comments_load_all(store *st, int64_t repo, comment_vec *out, dp_err *err);

/* ---- links ------------------------------------------------------------ */
/* Ignores an exact duplicate (same src, dst, type). */
int store_link_add(store *st, int64_t repo, const item_link *l, dp_err *err);
int store_links_load(store *st, int64_t repo, link_vec *out, dp_err *err);
/* Links touching one item, either direction, in the order of store_links_load. */
int store_links_for(store *st, int64_t repo, const char *key, link_vec *out, dp_err *err);
/* store_links_for for n distinct keys: out[i] (appended to) gets those of
 * keys[i], in the same order; a statement per STORE_LINKS_CHUNK keys. On
 * error out[] may hold part of them (the caller frees). */
#define STORE_LINKS_CHUNK 32
int store_links_for_many(store *st, int64_t repo, const char *const *keys, size_t n, link_vec *out, dp_err *err);
/* *any = item_links_any_typed() of the repo's links, without loading them. */
int store_links_any_typed(store *st, int64_t repo, int *any, dp_err *err);
int store_links_count(store *st, int64_t repo, size_t *n, dp_err *err);

/* ---- labels ----------------------------------------------------------- */
/* Label names compare case-insensitively; a leading '#' on color is dropped. */
int store_label_color_set(store *st, int64_t repo, const char *name, const char *color, dp_err *err);
/* Appends every label of the repo to names and its colour ("d73a4a", no
 * '#'; "" when unknown) to colors at the same index, ordered by name. */
int store_label_colors_load(store *st, int64_t repo, strvec *names, strvec *colors, dp_err *err);

/* ---- pairs ------------------------------------------------------------ */
/* pair, pair_vec: common/pair.h. The store keeps relation, confidence and
 * verdict as their names (text columns) and converts at this boundary. */

/* Replaces the pairs of the given queries (all pairs of the repo when
 * nqueries == 0 and queries == NULL) with `pairs`, atomically (also inside a
 * caller's store_begin: a failure undoes only this call). pairs[i].repo_id,
 * id and verdict are ignored; a repeated (query, candidate) is DP_ERR.
 * Verdicts are untouched. New pairs get new ids; ids are never reused. */
int store_pairs_replace(store *st, int64_t repo, const char *const *queries, size_t nqueries,
                        const pair *pairs, size_t npairs, dp_err *err);
/* The two halves of store_pairs_replace, for a caller that streams its
 * pairs in batches inside its own store_begin (analyze: a run's pairs are
 * never all in memory at once): store_pairs_delete removes the pairs of
 * the given queries (every pair of the repo when queries == NULL and
 * nqueries == 0), store_pairs_add inserts more, as store_pairs_replace
 * does. Outside a transaction each call is its own. */
int store_pairs_delete(store *st, int64_t repo, const char *const *queries, size_t nqueries, dp_err *err);
int store_pairs_add(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err);
/* store_pairs_delete + store_pairs_add of an incremental run, writing only
 * what changed, in the caller's transaction: store_pairs_merge_begin notes
 * the largest pair id (pairs above it are the run's); store_pairs_merge adds
 * pairs as store_pairs_add does, except that a stored pair of the same
 * (query, cand) equal in every column (updated_at as the insert computes
 * it) and text stays as it is, id and all, and a different one is
 * rewritten in place, id kept, only in the columns and texts that differ;
 * store_pairs_merge_end deletes the pairs of the queries the run neither
 * kept nor wrote. The pairs' rows then equal a delete-and-add's, ids aside. */
int store_pairs_merge_begin(store *st, int64_t *max_id, dp_err *err);
int store_pairs_merge(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err);
int store_pairs_merge_end(store *st, int64_t repo, const char *const *queries, size_t nqueries, int64_t max_id,
                          dp_err *err);

/* A run that replaces most of the stored pairs (a full analyze) brackets
 * its writes with these, inside its transaction: begin drops the pairs'
 * secondary indexes and triggers (whatever the schema declares, read from
 * it) and end makes them again, and counts pair_counts afresh, before the
 * caller commits (store_commit refuses while one is open). Building an
 * index once from the finished table is several times cheaper than keeping
 * ten of them up to date row by row, whose random inserts overflow the page
 * cache and rewrite pages to the WAL again and again; a trigger costs a
 * statement journal per row. In between, a delete removes the pairs' texts
 * itself (all of pair_texts at once when no other repository has pairs),
 * and an insert takes updated_at from the repository's item dates read
 * once. Freed pages are not zeroed meanwhile (PRAGMA secure_delete FAST
 * until end or rollback: the old pairs' pages are neither read back nor
 * written). Readers never see the gap (they read the last commit), and a
 * rollback restores everything. Between begin and end, write pairs only
 * through store_pairs_* (a repository's deletion would leave its pairs'
 * texts behind). begin is a hint: it drops nothing (and *dropped is 0) when
 * the other repositories hold more pairs than the run will write
 * (expected), as rebuilding theirs would cost more than it saves. end
 * without a drop does nothing. Not nestable; store_rollback forgets a
 * pending rebuild. */
int store_pairs_bulk_begin(store *st, int64_t repo, size_t expected, int *dropped, dp_err *err);
int store_pairs_bulk_end(store *st, dp_err *err);

typedef struct pair_filter {
    int64_t repo_id;          /* 0 = all repos */
    int relation;             /* a relation_kind; -1 = any */
    int confidence;           /* a confidence_level; -1 = any */
    const char *query_state;  /* "open"/"closed"/NULL */
    const char *cand_state;
    const char *label;        /* either side carries this label (case-insensitive) */
    int reviewed;             /* -1 any, 0 unreviewed, 1 reviewed */
    int include_known;        /* 0 hides pairs already linked in the data */
    const char *text;         /* substring of either item's title or key, case-
                                 insensitive (ASCII letters); "#123" also
                                 matches key "123". From 3 characters on
                                 through the trigram index items_fts; a key
                                 substring only of a stored item */
    const char *sort;         /* "value" (default), "prob", "updated" (the later
                                 update of the two items); all descending, ties by id */
    size_t offset, limit;     /* limit 0 = no limit */
    const char *after;        /* a cursor (store_pair_cursor): the page starts
                                 after that position and offset is ignored;
                                 NULL = use offset */
    const char *before;       /* a cursor: the page is the `limit` pairs just
                                 before that position (fewer at the start);
                                 offset is ignored. Not with `after` */
} pair_filter;
void pair_filter_init(pair_filter *f);  /* any/any (-1), reviewed -1, include_known 1 */

/* Keyset paging. A cursor names a position in one sort order -- the sort
 * key and the id of the last (first) pair of a page -- so the next
 * (previous) page is an index seek wherever it is, where an OFFSET walks every pair before it (1.1 s at
 * offset 400,000). It stays valid when pairs come and go: the next page
 * starts after that position. store_pair_cursor writes the cursor of pair
 * p in f->sort order (p as loaded by store_pairs_query) into buf;
 * store_pair_cursor_ok says whether `after` is a well-formed cursor of
 * sort order `sort` (NULL = value); store_pairs_query fails on one that
 * is not. Cursors are opaque to callers: printable ASCII, no spaces. */
#define STORE_CURSOR_MAX 48
void store_pair_cursor(const char *sort, const pair *p, char buf[STORE_CURSOR_MAX]);
int store_pair_cursor_ok(const char *sort, const char *after);

/* Pairs matching f in f->sort order (value by default; ties by id), each
 * with its verdict; *total gets the count before paging and *reviewed the
 * reviewed count among them (out, total, reviewed may each be NULL).
 * Counts of relation, confidence and known filters read counters the store
 * keeps (pair_counts); counts of states and labels loop over a table of
 * every pair's class, items, id and sort keys the handle keeps in memory
 * (53 bytes a pair, 17 an item with its key and title; read again after
 * any change), and a text's pages and count are cut from the order of its
 * pairs made from that table and the candidates the trigram index gives
 * (every item, for a text of one or two characters), tested on the table's
 * keys and titles; all are cached per handle until the database changes. */
int store_pairs_query(store *st, const pair_filter *f, pair_vec *out, size_t *total,
                      size_t *reviewed, dp_err *err);
/* Single pairs, verdict included; DP_NOTFOUND when absent. */
int store_pair_get(store *st, int64_t pair_id, pair *out, dp_err *err);
int store_pair_find(store *st, int64_t repo, const char *q, const char *c, pair *out, dp_err *err);
/* Neighbours of a pair in the order of f (for next/previous); 0 when none.
 * The pair itself need not match f (e.g. it was just reviewed and f shows
 * unreviewed pairs): its neighbours are those around its sort position.
 * DP_NOTFOUND when pair_id does not exist. */
int store_pair_neighbors(store *st, const pair_filter *f, int64_t pair_id, int64_t *prev,
                         int64_t *next, dp_err *err);

/* Light references to every pair of a repo, for incremental analysis: it
 * needs to know which pairs exist, not their reasoning text. Fetch a full
 * row with store_pair_get(ref.id). */
typedef struct pair_ref {
    int64_t id;
    char *query_key;
    char *cand_key;
} pair_ref;
typedef struct pair_ref_vec { pair_ref *v; size_t n, cap; } pair_ref_vec;
void pair_ref_vec_free(pair_ref_vec *v);   /* frees the keys too; NULL ok */
/* Appends every pair of the repo to out, in no particular order. */
int store_pair_refs_load(store *st, int64_t repo, pair_ref_vec *out, dp_err *err);
/* Appends the pairs whose query key -- or, with cand_too, whose candidate
 * key -- is one of keys[0..n), through the indexes on either key: a few
 * keys' pairs without a walk of them all. A pair may come twice (both its
 * keys given). */
int store_pair_refs_for(store *st, int64_t repo, const char *const *keys, size_t n, int cand_too,
                        pair_ref_vec *out, dp_err *err);

/* ---- verdicts --------------------------------------------------------- */
/* Sets the verdict on pair q -> c; VERDICT_NONE removes it (undo), a value
 * out of range is DP_ERR. */
int store_verdict_set(store *st, int64_t repo, const char *q, const char *c,
                      verdict_kind verdict, dp_err *err);

/* Every verdict of a repo (also those whose pair analysis no longer
 * stores), oldest first (ties by keys). */
typedef struct store_verdict {
    char *query_key, *cand_key;
    verdict_kind verdict;     /* never VERDICT_NONE */
    int64_t created_at;       /* when it was given (or last re-confirmed) */
} store_verdict;
typedef struct store_verdict_vec { store_verdict *v; size_t n, cap; } store_verdict_vec;
void store_verdict_vec_free(store_verdict_vec *v);   /* NULL ok */
int store_verdicts_load(store *st, int64_t repo, store_verdict_vec *out, dp_err *err);

/* ---- GitHub actions: the audit of apply and triage, the apply queue ---- */
/* One row per request doppel sends to GitHub (or per decision that needs
 * none), recorded as an intent before it is sent and completed after:
 * see store_schema.c for why. Strings may be NULL unless noted. */
typedef struct store_action {
    int64_t id;               /* set by store_action_add */
    int64_t repo_id;
    char *source;             /* "apply", "triage", "undo" (not NULL) */
    char *unit;               /* what it carries out: a pair key "12:34", "triage:56" (not NULL) */
    char *query_key, *cand_key;   /* the verdict's pair */
    char *verdict;            /* the verdict carried out; "suggest" for triage */
    int64_t verdict_at;
    char *kind;               /* "comment", "edit", "close", "label", "decided", "reopen",
                                 "uncomment", "unlabel" (not NULL) */
    char *target;             /* item key written to; "" for "decided" */
    char *arg;                /* kind-specific: canonical key, label name, candidates */
    char *method, *path, *body;   /* the request; NULL for "decided" */
    char *state;              /* "pending", "done", "failed", "undone"; NULL = "pending" */
    long status;              /* HTTP status of the answer, 0 none */
    int64_t gh_id;            /* GitHub's id of what it created or edited (a comment) */
    int64_t gh_time;          /* the server's clock at the answer (Date header), 0 unknown */
    char *error;
    int64_t undo_of;          /* an undo: the action it reverses; else 0 */
    int64_t created_at;       /* 0 = now (store_action_add) */
    int64_t done_at;
} store_action;
void store_action_free(store_action *a);             /* frees the strings; NULL ok */
typedef struct store_action_vec { store_action *v; size_t n, cap; } store_action_vec;
store_action *store_action_vec_push(store_action_vec *v);   /* a zeroed slot */
void store_action_vec_free(store_action_vec *v);     /* NULL ok */

/* Inserts a (sets a->id, a->created_at when 0, a->repo_id). DP_ERR when
 * the unit already has a pending or done action of the same kind on the
 * same target (kinds comment, close, label, decided), or a second pending
 * or done undo of one action: the guard against recording one write twice. */
int store_action_add(store *st, int64_t repo, store_action *a, dp_err *err);
/* Records an answer: state ("done", "failed", "undone", "pending"), status,
 * gh_id and gh_time (0 keeps the stored ones), error (NULL clears it);
 * done_at = now. DP_NOTFOUND when there is no such action. */
int store_action_finish(store *st, int64_t id, const char *state, long status, int64_t gh_id,
                        int64_t gh_time, const char *error, dp_err *err);
/* Changes only the state (an action that was undone: "undone"). */
int store_action_set_state(store *st, int64_t id, const char *state, dp_err *err);
/* The server time (gh_time) of the latest answered write doppel made to
 * item `target`, whatever the unit; 0 when none. */
int store_action_last_write(store *st, int64_t repo, const char *target, int64_t *t, dp_err *err);
/* Actions of a repo in id order: of one unit, or all (unit NULL). */
int store_actions_load(store *st, int64_t repo, const char *unit, store_action_vec *out, dp_err *err);
int store_action_get(store *st, int64_t id, store_action *out, dp_err *err);   /* DP_NOTFOUND */

/* The apply queue: verdicts a reviewer wants carried out on GitHub. Adding
 * a queued pair again is DP_OK (keeps the first time); removing an absent
 * one is DP_OK. store_queue_list appends the pairs oldest first. */
int store_queue_add(store *st, int64_t repo, const char *q, const char *c, dp_err *err);
int store_queue_del(store *st, int64_t repo, const char *q, const char *c, dp_err *err);
int store_queue_list(store *st, int64_t repo, strvec *query_keys, strvec *cand_keys, dp_err *err);

/* ---- models and key/value state -------------------------------------- */
/* A trained model is stored as text (the match module's format). repo 0 = global. */
int store_model_save(store *st, int64_t repo, const char *text, size_t ntrain, dp_err *err);
/* DP_NOTFOUND when none; *trained_at may be NULL. */
int store_model_load(store *st, int64_t repo, char **text, int64_t *trained_at, size_t *ntrain,
                     dp_err *err);

/* Small per-repo state: sync cursors, ETags, last analysis time. */
/* value NULL deletes the key. */
int store_kv_set(store *st, int64_t repo, const char *key, const char *value, dp_err *err);
int store_kv_get(store *st, int64_t repo, const char *key, char **value, dp_err *err); /* DP_NOTFOUND */

/* ---- caches ----------------------------------------------------------- */
/* Named blobs of derived data (e.g. a serialised index) per repo (repo 0 =
 * global). Everything in a cache can be rebuilt from the items, so a
 * missing, dropped or damaged cache is never an error for callers: they
 * rebuild on DP_NOTFOUND. Blobs may exceed SQLite's 1 GB value limit, so
 * they are stored in parts of STORE_CACHE_PART bytes (invisible to callers).
 *  - store_cache_put replaces the named blob atomically (also inside a
 *    caller's store_begin: a failure undoes only this call). data is only
 *    read during the call; len 0 is a valid (empty) blob.
 *  - store_cache_get: DP_NOTFOUND when absent (or its parts are incomplete);
 *    *data is malloc'd (caller frees; non-NULL even when *len is 0).
 *  - store_cache_drop: name NULL drops every cache of the repo; dropping
 *    an absent cache is DP_OK. */
#define STORE_CACHE_PART ((size_t)64 << 20)
int store_cache_put(store *st, int64_t repo, const char *name, const void *data, size_t len, dp_err *err);
int store_cache_get(store *st, int64_t repo, const char *name, void **data, size_t *len, dp_err *err);
int store_cache_drop(store *st, int64_t repo, const char *name, dp_err *err);

#endif
