/* store_items.c -- items, comments, links and label colours. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/hashmap.h"
#include "store_int.h"

/* Column list shared by every item read; item_from_row follows it. */
#define ITEM_COLS                                                                              \
    "id, key, number, kind, title, body, state, state_reason, author, created_at, updated_at, " \
    "closed_at, labels, components, versions, type, priority, ncomments, reactions, url, deleted"

/* ---- string lists as JSON arrays ------------------------------------- */

/* The compact JSON array of sv written here when every string is
 * printable ASCII -- nearly every label -- byte for byte what jansson's
 * dump writes (only '"' and '\\' escaped; '/' and DEL as they are); NULL
 * for anything else, which jansson writes. Building and dumping a jansson
 * array took a twentieth of the writer's time in an import. */
static char *sv_to_json_ascii(const strvec *sv)
{
    size_t n = 2;
    for (size_t i = 0; i < sv->n; i++) {
        const unsigned char *t = (const unsigned char *)(sv->v[i] ? sv->v[i] : "");
        for (; *t; t++) {
            if (*t < 0x20 || *t >= 0x80) return NULL;
            n += 1 + (*t == '"' || *t == '\\');
        }
        n += 3;   /* quotes and a comma */
    }
    char *out = xmalloc(n + 1), *o = out;
    *o++ = '[';
    for (size_t i = 0; i < sv->n; i++) {
        if (i) *o++ = ',';
        *o++ = '"';
        for (const char *t = sv->v[i] ? sv->v[i] : ""; *t; t++) {
            if (*t == '"' || *t == '\\') *o++ = '\\';
            *o++ = *t;
        }
        *o++ = '"';
    }
    *o++ = ']';
    *o = '\0';
    return out;
}

/* Returns an owned JSON array text for sv, or NULL when a string is not
 * valid UTF-8 (jansson refuses it). */
static char *sv_to_json(const strvec *sv)
{
    /* an empty list (components and versions of every GitHub item) is
     * "[]" there too, as jansson dumps it */
    char *fast = sv_to_json_ascii(sv);
    if (fast) return fast;
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++) {
        json_t *s = json_string(sv->v[i] ? sv->v[i] : "");
        if (!s) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, s);
    }
    char *out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!out) return NULL;
    char *copy = xstrdup(out);   /* ours to free() with the xalloc family */
    free(out);
    return copy;
}

static int sv_from_json(const char *text, strvec *sv)
{
    /* Most lists are empty: skip the parser (3 lists x 48k items per load). */
    if (!text || !*text || !strcmp(text, "[]")) return DP_OK;
    json_t *a = json_loads(text, 0, NULL);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return DP_ERR;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s) sv_push(sv, s);
    }
    json_decref(a);
    return DP_OK;
}

/* ---- items ----------------------------------------------------------- */

static int item_from_row(store *st, sqlite3_stmt *s, item *it, dp_err *err)
{
    item_init(it);
    it->rowid = sqlite3_column_int64(s, 0);
    it->key = store_col_str_empty(s, 1);
    it->number = sqlite3_column_int64(s, 2);
    it->kind = sqlite3_column_int(s, 3) == ITEM_PR ? ITEM_PR : ITEM_ISSUE;
    it->title = store_col_str_empty(s, 4);
    it->body = store_col_str_empty(s, 5);
    it->state = store_col_str(s, 6);
    it->state_reason = store_col_str(s, 7);
    it->author = store_col_str(s, 8);
    it->created_at = sqlite3_column_int64(s, 9);
    it->updated_at = sqlite3_column_int64(s, 10);
    it->closed_at = sqlite3_column_int64(s, 11);
    if (sv_from_json((const char *)sqlite3_column_text(s, 12), &it->labels) != DP_OK ||
        sv_from_json((const char *)sqlite3_column_text(s, 13), &it->components) != DP_OK ||
        sv_from_json((const char *)sqlite3_column_text(s, 14), &it->versions) != DP_OK) {
        dp_fail(err, "store: item %s in %s: corrupt label/component/version list", it->key, st->path);
        item_free(it);
        return DP_ERR;
    }
    it->type = store_col_str(s, 15);
    it->priority = store_col_str(s, 16);
    it->ncomments = sqlite3_column_int(s, 17);
    it->reactions = sqlite3_column_int(s, 18);
    it->url = store_col_str(s, 19);
    it->deleted = sqlite3_column_int(s, 20);
    return DP_OK;
}

/* Mirrors the item's labels into item_labels (used by the pair filter).
 * A row the upsert has just inserted has none to delete: skipping the
 * DELETE saves a statement per item on a first import. */
static int item_labels_write(store *st, int64_t item_id, int inserted, const item *it, dp_err *err)
{
    if (!inserted) {
        sqlite3_stmt *d = store_stmt(st, SQ_ITEM_LABELS_DEL, "DELETE FROM item_labels WHERE item_id = ?1", err);
        if (!d) return DP_ERR;
        sqlite3_bind_int64(d, 1, item_id);
        if (store_step_done(st, d, err, "updating labels of item %s", it->key) != DP_OK) return DP_ERR;
    }
    if (!it->labels.n) return DP_OK;
    sqlite3_stmt *a = store_stmt(st, SQ_ITEM_LABEL_ADD,
                                 "INSERT INTO item_labels(item_id, name) VALUES(?1, ?2) "
                                 "ON CONFLICT DO NOTHING",
                                 err);
    if (!a) return DP_ERR;
    for (size_t i = 0; i < it->labels.n; i++) {
        if (!it->labels.v[i]) continue;
        sqlite3_bind_int64(a, 1, item_id);
        store_bind_text(a, 2, it->labels.v[i]);
        if (store_step_done(st, a, err, "adding label %s to item %s", it->labels.v[i], it->key) != DP_OK)
            return DP_ERR;
    }
    return DP_OK;
}

/* Whether repository repo has any pair, looked up once per bulk
 * transaction (st->pairs_any; no other connection can add pairs while it
 * holds the write lock): an import into a repository not analysed yet has
 * none, and the two UPDATEs per item that found nothing were a tenth of
 * the writer's CPU time in such an import. */
static int repo_has_pairs(store *st, int64_t repo, dp_err *err)
{
    if (st->pairs_repo == repo) return DP_OK;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT EXISTS(SELECT 1 FROM pairs WHERE repo_id = ?1)", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int ret = DP_OK;
    if (sqlite3_step(s) == SQLITE_ROW) {
        st->pairs_any = sqlite3_column_int(s, 0);
        st->pairs_repo = repo;
    } else {
        ret = store_fail(st, err, "looking for the pairs of repository %lld", (long long)repo);
    }
    store_done(s);
    return ret;
}

/* Raises pairs.updated_at of the pairs naming this item (see
 * store_schema.c). Upserts move updated_at forward, so the maximum stays
 * exact -- except when a copy replaces a date in the far future (see
 * store_item_upsert): the stamp then stays high until the next analysis,
 * which re-derives the pairs of the changed item. Two statements, one per side, so each walks its own
 * index ("+updated_at" keeps SQLite off pairs_by_updated). OR FAIL: an
 * update of many rows that may abort (the NOT NULL of updated_at) opens a
 * statement journal, two per item written; nothing here can fail half-way
 * that the caller's savepoint or rollback would not undo. */
static int pairs_touch(store *st, int64_t repo, const item *it, dp_err *err)
{
    if (st->bulk && !sqlite3_get_autocommit(st->db)) {
        if (repo_has_pairs(st, repo, err) != DP_OK) return DP_ERR;
        if (!st->pairs_any) return DP_OK;
    }
    static const char *const sql[2] = {
        "UPDATE OR FAIL pairs SET updated_at = ?3 WHERE repo_id = ?1 AND query_key = ?2 AND +updated_at < ?3",
        "UPDATE OR FAIL pairs SET updated_at = ?3 WHERE repo_id = ?1 AND cand_key = ?2 AND +updated_at < ?3",
    };
    for (int side = 0; side < 2; side++) {
        sqlite3_stmt *s = store_stmt(st, SQ_PAIRS_TOUCH_Q + side, sql[side], err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, it->key);
        sqlite3_bind_int64(s, 3, it->updated_at);
        if (store_step_done(st, s, err, "updating pairs of item %s", it->key) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

/* The next change sequence number of repository ?1 (see store_schema.c). */
#define NEXT_SEQ "(SELECT COALESCE(MAX(changed_seq), 0) + 1 FROM items WHERE repo_id = ?1)"

/* An item is written by two statements rather than one upsert. The
 * insert comes first and is all a first import runs: OR IGNORE makes a
 * row already there (same repo and key) a no-op, and it also means the
 * statement can never abort half-way (every NOT NULL column is bound to a
 * value here), so SQLite opens no statement journal for it. An upsert
 * (ON CONFLICT DO UPDATE) always may abort, and with the title-index
 * trigger on items that cost a statement journal per item: each page the
 * row and its five index entries touch copied to it and freed again, a
 * savepoint of the title index opened and released -- a third of the
 * writer's time in a bulk import. (Foreign keys would make it abort-able
 * too; store_bulk_mode turns their checks off.) */
static const char item_insert_sql[] =
    "INSERT OR IGNORE INTO items(repo_id, key, number, kind, title, body, state, state_reason, "
    "  author, created_at, updated_at, closed_at, labels, components, versions, type, priority, "
    "  ncomments, reactions, url, deleted, changed_seq) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    NEXT_SEQ ")";

/* The row was there: replace it with this copy when it is newer. Same
 * parameters as the insert, plus ?22. OR IGNORE for the same reason as
 * the insert (OR FAIL would turn the title-index trigger's OR IGNORE into
 * a failure too). */
/* Newer wins; an older copy, or an equal one with the same content, is a
 * no-op, so re-import is idempotent -- unless the stored date is past ?22
 * (now + slack). Dates have whole seconds: two edits within one second
 * carry one updated_at, and the later copy fetched must win. seq: the
 * change sequence number written. */
#define ITEM_UPDATE(seq)                                                                         \
    "UPDATE OR IGNORE items SET number = ?3, kind = ?4, title = ?5, body = ?6, state = ?7, "       \
    "  state_reason = ?8, author = ?9, created_at = ?10, updated_at = ?11, closed_at = ?12, "      \
    "  labels = ?13, components = ?14, versions = ?15, type = ?16, priority = ?17, "                \
    "  ncomments = ?18, reactions = ?19, url = ?20, deleted = ?21, changed_seq = " seq " "         \
    "WHERE repo_id = ?1 AND key = ?2 AND ("                                                        \
    "       ?11 > updated_at "                                                                     \
    "   OR (updated_at > ?22 AND ?11 <> updated_at) "                                              \
    "   OR (?11 = updated_at AND ("                                                                \
    "       ?5 IS NOT title OR ?6 IS NOT body OR ?7 IS NOT state OR ?8 IS NOT state_reason "       \
    "    OR ?13 IS NOT labels OR ?14 IS NOT components OR ?15 IS NOT versions "                    \
    "    OR ?12 IS NOT closed_at OR ?18 IS NOT ncomments OR ?21 IS NOT deleted "                   \
    "    OR ?4 IS NOT kind OR ?16 IS NOT type OR ?17 IS NOT priority))) "                          \
    "RETURNING id"
static const char item_update_sql[] = ITEM_UPDATE(NEXT_SEQ);
/* The same with the sequence number in hand (see item_insert_seq_sql). */
static const char item_update_seq_sql[] = ITEM_UPDATE("?23");

/* In a bulk transaction the next change sequence number is kept in hand
 * (st->seq_next) instead of the MAX over items_by_seq that NEXT_SEQ
 * looks up for every write: the same numbers, as nothing else writes the
 * items while the transaction holds the write lock, and every item write
 * in it comes here (store_item_mark_deleted forgets the number). ?23. */
static const char item_insert_seq_sql[] =
    "INSERT OR IGNORE INTO items(repo_id, key, number, kind, title, body, state, state_reason, "
    "  author, created_at, updated_at, closed_at, labels, components, versions, type, priority, "
    "  ncomments, reactions, url, deleted, changed_seq) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?23)";

/* The next change sequence number of repo in a bulk transaction (0 when
 * this write looks it up with NEXT_SEQ). */
static int64_t seq_in_hand(store *st, int64_t repo)
{
    if (!st->bulk || sqlite3_get_autocommit(st->db)) return 0;
    if (st->seq_repo == repo) return st->seq_next;
    int64_t next = 0;
    if (store_value_int(st, "SELECT COALESCE(MAX(changed_seq), 0) + 1 FROM items WHERE repo_id = ?1", repo, &next) == 1 &&
        next > 0) {
        st->seq_repo = repo;
        st->seq_next = next;
    }
    return next;
}

/* Binds the item's columns, ?1 to ?21, as both statements number them. */
static void item_bind(sqlite3_stmt *s, int64_t repo, const item *it, char *const j[3])
{
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, it->key);
    sqlite3_bind_int64(s, 3, it->number);
    sqlite3_bind_int(s, 4, (int)it->kind);
    store_bind_text(s, 5, it->title ? it->title : "");
    store_bind_text(s, 6, it->body ? it->body : "");
    store_bind_text(s, 7, it->state);
    store_bind_text(s, 8, it->state_reason);
    store_bind_text(s, 9, it->author);
    sqlite3_bind_int64(s, 10, it->created_at);
    sqlite3_bind_int64(s, 11, it->updated_at);
    sqlite3_bind_int64(s, 12, it->closed_at);
    for (int k = 0; k < 3; k++) store_bind_text(s, 13 + k, j[k]);
    store_bind_text(s, 16, it->type);
    store_bind_text(s, 17, it->priority);
    sqlite3_bind_int(s, 18, it->ncomments);
    sqlite3_bind_int(s, 19, it->reactions);
    store_bind_text(s, 20, it->url);
    sqlite3_bind_int(s, 21, it->deleted ? 1 : 0);
}

/* The stored title of the item (owned, "" for NULL) into *out, for the
 * side build's 'delete' of a row it indexed before (store_fts.c). */
static int stored_title(store *st, int64_t repo, const char *key, char **out, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT title FROM items WHERE repo_id = ?1 AND key = ?2", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *out = store_col_str_empty(s, 0);
    store_done(s);
    return rc == SQLITE_ROW ? DP_OK : store_fail(st, err, "reading item %s", key);
}

/* Inserts the item, or updates the stored copy when this one is newer.
 * *id = the row written, 0 when nothing was; *inserted = 1 for a new row.
 * While the title index is built beside, *old_title = the title an
 * updated row had (owned), else NULL. */
static int item_put(store *st, int64_t repo, const item *it, char *const j[3], int64_t *id,
                    int *inserted, char **old_title, dp_err *err)
{
    *old_title = NULL;
    *id = 0;
    *inserted = 0;
    int64_t seq = seq_in_hand(st, repo);
    sqlite3_stmt *s = seq ? store_stmt_sql(st, item_insert_seq_sql, err)
                          : store_stmt(st, SQ_ITEM_INSERT, item_insert_sql, err);
    if (!s) return DP_ERR;
    item_bind(s, repo, it, j);
    if (seq) sqlite3_bind_int64(s, 23, seq);
    if (store_step_done(st, s, err, "inserting item %s", it->key) != DP_OK) return DP_ERR;
    /* The trigger's own insert does not count in changes() nor leave its
     * rowid behind once it has run. */
    if (sqlite3_changes(st->db) == 1) {
        *id = sqlite3_last_insert_rowid(st->db);
        *inserted = 1;
        if (seq) st->seq_next++;
        return DP_OK;
    }
    if (st->fts_side && stored_title(st, repo, it->key, old_title, err) != DP_OK) return DP_ERR;
    s = seq ? store_stmt_sql(st, item_update_seq_sql, err) : store_stmt(st, SQ_ITEM_UPDATE, item_update_sql, err);
    if (!s) return DP_ERR;
    item_bind(s, repo, it, j);
    sqlite3_bind_int64(s, 22, (int64_t)time(NULL) + STORE_FUTURE_SLACK);
    if (seq) sqlite3_bind_int64(s, 23, seq);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        if (seq) st->seq_next++;
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "inserting item %s", it->key);
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}

/* The write proper; runs inside the caller's savepoint. */
static int item_write(store *st, int64_t repo, const item *it, int *changed, dp_err *err)
{
    char *j[3] = {sv_to_json(&it->labels), sv_to_json(&it->components), sv_to_json(&it->versions)};
    int ret = DP_ERR, inserted;
    int64_t id;
    char *old_title = NULL;
    if (!j[0] || !j[1] || !j[2]) {
        dp_fail(err, "store: inserting item %s: a label, component or version is not valid UTF-8", it->key);
        goto out;
    }
    if (item_put(st, repo, it, j, &id, &inserted, &old_title, err) != DP_OK) goto out;
    ret = DP_OK;
    if (!id) goto out;                  /* stored copy is as new or newer */
    if ((st->fts_side &&
         store_fts_side_add(st, id, it->key, it->title ? it->title : "", inserted ? NULL : old_title, err) != DP_OK) ||
        item_labels_write(st, id, inserted, it, err) != DP_OK ||
        pairs_touch(st, repo, it, err) != DP_OK) {
        ret = DP_ERR;
        goto out;
    }
    if (changed) *changed = 1;
out:
    for (int k = 0; k < 3; k++) free(j[k]);
    free(old_title);
    return ret;
}

int store_fts_flush(store *st, dp_err *err)
{
    st->fts_pending = 0;
    /* A flush while the index is built beside (store_fts.c): every item
     * that went there is noted in items_fts_todo as well, so dropping the
     * side build loses nothing; the transaction goes on the usual way. */
    if (st->fts_side) {
        store_fts_side_abort(st);
        st->fts_side_state = 2;
    }
    if (store_fts_content_drop(st, err) != DP_OK || store_fts_todo_restore(st, err) != DP_OK) return DP_ERR;
    return store_exec(st,
                      "DELETE FROM items_fts WHERE rowid IN (SELECT id FROM items_fts_todo);"
                      "INSERT INTO items_fts(rowid, key, title) SELECT id, key, title FROM items"
                      "  WHERE id IN (SELECT id FROM items_fts_todo);"
                      "DELETE FROM items_fts_todo;",
                      "updating the title index", err);
}

int store_fts_commit(store *st, dp_err *err)
{
    if (st->fts_side) return store_fts_side_finish(st, err);
    st->fts_side_state = 0;
    return store_fts_flush(st, err);
}

/* ---- the label index of a first import ---------------------------------- */

/* A bulk import into a store without labels makes the label index
 * (item_labels_by_name) at commit, in one sort of its rows, instead of
 * row by row. An import writes its labels' rows in item order, which is
 * the index's order only within one name: every row went into the middle
 * of the index, at one of as many places as there are names, and under
 * the page cache's pressure those pages were spilled and written again and
 * again. At 250k items (409k labels of 915 names), 3 alternated pairs:
 * the writer's time 4.94 / 6.39 / 5.92 -> 3.61 / 4.52 / 4.79 s without
 * the index, whose build at commit takes ~0.4 s (store_exec_sorted, as
 * for the pair indexes). The index's own
 * statement is read from the schema and run again: the same index. */
static void labels_defer_begin(store *st)
{
    if (st->labels_state || !st->bulk || sqlite3_get_autocommit(st->db)) return;   /* decided in a transaction */
    st->labels_state = 2;
    int64_t empty = 0;
    if (store_value_int(st, "SELECT NOT EXISTS(SELECT 1 FROM item_labels)", 0, &empty) != 1 || !empty) return;
    char *sql = store_value_text(st, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'item_labels_by_name'");
    if (!sql) return;
    if (sqlite3_exec(st->db, "DROP INDEX item_labels_by_name", NULL, NULL, NULL) != SQLITE_OK) {
        free(sql);
        return;
    }
    st->labels_sql = sql;
    st->labels_state = 1;
}

int store_labels_commit(store *st, dp_err *err)
{
    char *sql = st->labels_sql;
    st->labels_sql = NULL;
    st->labels_state = 0;
    if (!sql) return DP_OK;
    int rc = store_exec_sorted(st, &sql, 1, "making the label index of the import", err);
    free(sql);
    return rc;
}

void store_labels_forget(store *st)
{
    free(st->labels_sql);
    st->labels_sql = NULL;
    st->labels_state = 0;
}

int store_item_upsert(store *st, int64_t repo, const item *it, int *changed, dp_err *err)
{
    int wrote = 0;
    if (changed) *changed = 0;
    if (!it->key || !*it->key) return dp_fail(err, "store: inserting item: the item has no key");
    /* A first import tokenises the titles on a thread of its own, and
     * makes the label index at commit. */
    if (st->bulk) {
        store_fts_side_begin(st);
        labels_defer_begin(st);
    }
    /* Without the caller's transaction there is no store_commit to bring
     * the title index up to date: this write does it. */
    int alone = sqlite3_get_autocommit(st->db);
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int rc = item_write(st, repo, it, &wrote, err);
    if (rc == DP_OK && alone) rc = store_fts_flush(st, err);
    /* A bulk write flushes the title index every STORE_FTS_BATCH items,
     * while their rows are still in the page cache: flushed once at
     * commit, the index read back every row of the import (the titles
     * share their pages with the bodies), which took as long as writing
     * them. Without savepoints FTS5 keeps each batch as one segment. */
    if (rc == DP_OK && st->bulk && !st->fts_side && wrote && ++st->fts_pending >= STORE_FTS_BATCH)
        rc = store_fts_flush(st, err);
    if (changed) *changed = rc == DP_OK && wrote;
    return store_sp_end(st, rc, err);
}

/* Steps s (bound) for one item into out; DP_NOTFOUND when it has no row. */
static int item_one(store *st, sqlite3_stmt *s, item *out, const char *what, dp_err *err)
{
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) ret = item_from_row(st, s, out, err);
    else if (rc == SQLITE_DONE) ret = DP_NOTFOUND;
    else ret = store_fail(st, err, "reading item %s", what);
    store_done(s);
    return ret;
}

int store_item_get(store *st, int64_t repo, const char *key, item *out, dp_err *err)
{
    item_init(out);
    sqlite3_stmt *s = store_stmt(st, SQ_ITEM_GET,
                                 "SELECT " ITEM_COLS " FROM items WHERE repo_id = ?1 AND key = ?2", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, key);
    return item_one(st, s, out, key, err);
}

int store_item_get_row(store *st, int64_t repo, int64_t rowid, item *out, dp_err *err)
{
    item_init(out);
    sqlite3_stmt *s = store_stmt(st, SQ_ITEM_GET_ROW,
                                 "SELECT " ITEM_COLS " FROM items WHERE id = ?2 AND repo_id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    sqlite3_bind_int64(s, 2, rowid);
    char what[32];
    snprintf(what, sizeof what, "row %lld", (long long)rowid);
    return item_one(st, s, out, what, err);
}

/* "?2, ?3, ..., ?(n+1)": the IN list of a chunked read (?1 is the repo). */
static void in_list(char *buf, size_t size, int n)
{
    size_t len = 0;
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ", ?%d" : "?%d", i + 2);
}

/* The items of one chunk (n <= STORE_ROWS_CHUNK distinct row ids); unused
 * IN slots are bound to NULL, which matches no row, so one statement
 * serves every chunk. */
static int item_rows_chunk(store *st, int64_t repo, const int64_t *rowids, size_t n, item *out, size_t *missing,
                           dp_err *err)
{
    char list[STORE_ROWS_CHUNK * 6], sql[sizeof list + 512];
    in_list(list, sizeof list, STORE_ROWS_CHUNK);
    snprintf(sql, sizeof sql, "SELECT " ITEM_COLS " FROM items WHERE id IN (%s) AND repo_id = ?1", list);
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    for (size_t i = 0; i < STORE_ROWS_CHUNK; i++) {
        if (i < n) sqlite3_bind_int64(s, (int)i + 2, rowids[i]);
        else sqlite3_bind_null(s, (int)i + 2);
    }
    unsigned char found[STORE_ROWS_CHUNK] = {0};
    int rc, ret = DP_OK;
    while (ret == DP_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        size_t i = 0;
        while (i < n && (rowids[i] != id || found[i])) i++;
        if (i == n) continue;   /* cannot happen: the row matched the list */
        ret = item_from_row(st, s, &out[i], err);
        found[i] = ret == DP_OK;
    }
    if (ret == DP_OK && rc != SQLITE_DONE) ret = store_fail(st, err, "reading items by row id");
    store_done(s);
    for (size_t i = 0; ret == DP_OK && i < n; i++)
        if (!found[i]) {
            *missing = i;
            ret = DP_NOTFOUND;
        }
    if (ret != DP_OK)
        for (size_t i = 0; i < n; i++) item_free(&out[i]);
    return ret;
}

int store_items_get_rows(store *st, int64_t repo, const int64_t *rowids, size_t n, item *out, size_t *missing,
                         dp_err *err)
{
    for (size_t i = 0; i < n; i++) item_init(&out[i]);
    for (size_t lo = 0; lo < n; lo += STORE_ROWS_CHUNK) {
        size_t m = n - lo < STORE_ROWS_CHUNK ? n - lo : STORE_ROWS_CHUNK, miss = 0;
        int rc = item_rows_chunk(st, repo, rowids + lo, m, out + lo, &miss, err);
        if (rc != DP_OK) {
            for (size_t i = 0; i < lo; i++) item_free(&out[i]);
            if (rc == DP_NOTFOUND && missing) *missing = lo + miss;
            return rc;
        }
    }
    return DP_OK;
}

size_t store_load_split = 20000;
void (*store_load_split_hook)(store *st);

/* Rows of repo in creation order into out: all of them (half 0), those
 * before the boundary row b (half 1) or from it on (half 2). */
typedef struct load_half {
    store *st;
    int64_t repo;
    int half;
    int64_t b_created, b_number;
    const char *b_key;
    item_vec out;
    int rc;
    dp_err err;
} load_half;

static void *load_rows(void *arg)
{
    load_half *h = arg;
    static const char *const where[] = {"", " AND (created_at, number, key) < (?2, ?3, ?4)",
                                        " AND (created_at, number, key) >= (?2, ?3, ?4)"};
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT " ITEM_COLS " FROM items WHERE repo_id = ?1%s ORDER BY created_at, number, key",
             where[h->half]);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(h->st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        h->rc = store_fail(h->st, &h->err, "loading items");
        return NULL;
    }
    sqlite3_bind_int64(s, 1, h->repo);
    if (h->half) {
        sqlite3_bind_int64(s, 2, h->b_created);
        sqlite3_bind_int64(s, 3, h->b_number);
        store_bind_text(s, 4, h->b_key);
    }
    int rc;
    h->rc = DP_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        item *it = item_vec_push(&h->out);
        if (item_from_row(h->st, s, it, &h->err) != DP_OK) {
            h->out.n--;
            h->rc = DP_ERR;
            break;
        }
    }
    if (h->rc == DP_OK && rc != SQLITE_DONE) h->rc = store_fail(h->st, &h->err, "loading items");
    sqlite3_finalize(s);
    return NULL;
}

/* Appends h's items to out (which takes them): into an empty out the
 * array itself moves, else one copy of the structs. */
static void take_half(item_vec *out, load_half *h)
{
    if (!out->n) {
        free(out->v);
        *out = h->out;
    } else if (h->out.n) {
        if (out->n + h->out.n > out->cap) {
            out->cap = out->n + h->out.n;
            out->v = xrealloc(out->v, out->cap * sizeof *out->v);
        }
        memcpy(out->v + out->n, h->out.v, h->out.n * sizeof *out->v);
        out->n += h->out.n;
        free(h->out.v);
    } else {
        free(h->out.v);
    }
    memset(&h->out, 0, sizeof h->out);
}

/* The row halfway through repo's n items in creation order, into h. */
static int load_boundary(store *st, int64_t repo, size_t n, load_half *h)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT created_at, number, key FROM items WHERE repo_id = ?1 "
                           "ORDER BY created_at, number, key LIMIT 1 OFFSET ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    sqlite3_bind_int64(s, 2, (int64_t)(n / 2));
    int ok = sqlite3_step(s) == SQLITE_ROW;
    if (ok) {
        h->b_created = sqlite3_column_int64(s, 0);
        h->b_number = sqlite3_column_int64(s, 1);
        h->b_key = store_col_str_empty(s, 2);
    }
    sqlite3_finalize(s);
    return ok ? DP_OK : DP_ERR;
}

/* Two halves of a large load at once, the later one on a handle of its
 * own: reading and copying 250k items (750 MB) took 2.4 s of one core.
 * Two handles read two snapshots, which are the same one unless an item
 * was written in between -- which the items' change sequence, read before
 * and after, tells; such a load is done again on one handle. DP_NOTFOUND
 * when this cannot be done (no second handle, nothing to split): the
 * caller loads on its own. */
static int load_split(store *st, int64_t repo, item_vec *out, dp_err *err)
{
    int64_t count = 0, before = 0, after = -1;
    if (!store_is_file(st) || !sqlite3_get_autocommit(st->db) ||
        store_value_int(st, "SELECT count(*) FROM items WHERE repo_id = ?1", repo, &count) != 1 ||
        (uint64_t)count < store_load_split)
        return DP_NOTFOUND;
    load_half a = {.st = st, .repo = repo, .half = 1}, b = {.repo = repo, .half = 2};
    dp_err e;
    if (store_change_seq(st, repo, &before, &e) != DP_OK || load_boundary(st, repo, (size_t)count, &a) != DP_OK ||
        store_open_readonly(st->path, &b.st, &e) != DP_OK) {
        free((char *)a.b_key);
        return DP_NOTFOUND;
    }
    b.b_created = a.b_created;
    b.b_number = a.b_number;
    b.b_key = a.b_key;
    pthread_t th;
    int threaded = pthread_create(&th, NULL, load_rows, &b) == 0;
    load_rows(&a);
    if (threaded) pthread_join(th, NULL);
    else load_rows(&b);
    store_close(b.st);
    free((char *)a.b_key);
    if (store_load_split_hook) store_load_split_hook(st);
    int rc = a.rc != DP_OK ? a.rc : b.rc;
    if (rc != DP_OK) *err = a.rc != DP_OK ? a.err : b.err;
    else if (store_change_seq(st, repo, &after, err) != DP_OK) rc = DP_ERR;
    if (rc == DP_OK && after == before) {
        take_half(out, &a);
        take_half(out, &b);
        return DP_OK;
    }
    item_vec_free(&a.out);
    item_vec_free(&b.out);
    return rc == DP_OK ? DP_NOTFOUND : rc;   /* changed meanwhile: again, on one handle */
}

int store_items_load(store *st, int64_t repo, item_vec *out, dp_err *err)
{
    int rc = load_split(st, repo, out, err);
    if (rc != DP_NOTFOUND) return rc;
    load_half h = {.st = st, .repo = repo, .half = 0};
    load_rows(&h);
    take_half(out, &h);
    if (h.rc != DP_OK) *err = h.err;
    return h.rc;
}

int store_item_mark_deleted(store *st, int64_t repo, const char *key, dp_err *err)
{
    sqlite3_stmt *s = NULL;
    st->seq_repo = 0;   /* the sequence number in hand goes stale */
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE items SET deleted = 1, "
                           "  changed_seq = CASE WHEN deleted THEN changed_seq ELSE " NEXT_SEQ " END "
                           "WHERE repo_id = ?1 AND key = ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "marking item %s deleted", key);
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, key);
    int rc = store_step_done(st, s, err, "marking item %s deleted", key);
    if (rc == DP_OK && sqlite3_changes(st->db) == 0) rc = DP_NOTFOUND;
    sqlite3_finalize(s);
    return rc;
}

int store_change_seq(store *st, int64_t repo, int64_t *seq, dp_err *err)
{
    *seq = 0;
    if (store_value_int(st, "SELECT COALESCE(MAX(changed_seq), 0) FROM items WHERE repo_id = ?1", repo, seq) != 1)
        return store_fail(st, err, "reading the change sequence");
    return DP_OK;
}

int store_items_changed(store *st, int64_t repo, int64_t after, int64_t upto, strvec *keys,
                        dp_err *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT key FROM items WHERE repo_id = ?1 AND changed_seq > ?2 "
                           "AND changed_seq <= ?3 ORDER BY changed_seq",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "listing changed items");
    sqlite3_bind_int64(s, 1, repo);
    sqlite3_bind_int64(s, 2, after);
    sqlite3_bind_int64(s, 3, upto);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) sv_push_owned(keys, store_col_str_empty(s, 0));
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "listing changed items");
    sqlite3_finalize(s);
    return ret;
}

int store_item_count(store *st, int64_t repo, size_t *issues, size_t *prs, size_t *open, dp_err *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT COALESCE(SUM(kind = 0), 0), COALESCE(SUM(kind = 1), 0), "
                           "  COALESCE(SUM(state = 'open'), 0) "
                           "FROM items WHERE repo_id = ?1 AND deleted = 0",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "counting items");
    sqlite3_bind_int64(s, 1, repo);
    int ret;
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (issues) *issues = (size_t)sqlite3_column_int64(s, 0);
        if (prs) *prs = (size_t)sqlite3_column_int64(s, 1);
        if (open) *open = (size_t)sqlite3_column_int64(s, 2);
        ret = DP_OK;
    } else {
        ret = store_fail(st, err, "counting items");
    }
    sqlite3_finalize(s);
    return ret;
}

/* ---- comments -------------------------------------------------------- */

/* Finds the row of an existing copy of c: by tracker id when it has one,
 * else by (item, created_at, author). *row = 0 when there is none. */
static int comment_find(store *st, int64_t repo, const comment *c, int64_t *row, dp_err *err)
{
    sqlite3_stmt *s;
    *row = 0;
    if (c->id) {
        s = store_stmt(st, SQ_COMMENT_BY_TRACKER,
                       "SELECT id FROM comments WHERE repo_id = ?1 AND tracker_id = ?2", err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, 1, repo);
        sqlite3_bind_int64(s, 2, c->id);
    } else {
        /* The unary + on tracker_id keeps SQLite from choosing the
         * comments_by_tracker index (repo_id, tracker_id): with it, every
         * lookup scanned all id-less comments of the repo, which made Jira
         * imports quadratic in the number of comments. */
        s = store_stmt(st, SQ_COMMENT_FIND,
                       "SELECT id FROM comments WHERE repo_id = ?1 AND item_key = ?2 AND created_at = ?3 "
                       "AND author IS ?4 AND +tracker_id IS NULL",
                       err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, c->item_key);
        sqlite3_bind_int64(s, 3, c->created_at);
        store_bind_text(s, 4, c->author);
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *row = sqlite3_column_int64(s, 0);
    int ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? DP_OK
                                                      : store_fail(st, err, "looking up a comment on %s", c->item_key);
    store_done(s);
    return ret;
}

/* A comment with a tracker id, inserted unless that id is stored already
 * (*inserted = 1 when it was). OR IGNORE, as for items (see item_insert_sql):
 * the one write a first import of comments needs, without the lookup
 * before it, and no statement journal; a row it leaves alone has the
 * same (repo, tracker id), as every other column is bound to a value. */
static int comment_insert_new(store *st, int64_t repo, const comment *c, int *inserted, dp_err *err)
{
    *inserted = 0;
    sqlite3_stmt *s = store_stmt(st, SQ_COMMENT_ADD_NEW,
                                 "INSERT OR IGNORE INTO comments(repo_id, item_key, author, body, created_at, "
                                 "updated_at, tracker_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, c->item_key);
    store_bind_text(s, 3, c->author);
    store_bind_text(s, 4, c->body ? c->body : "");
    sqlite3_bind_int64(s, 5, c->created_at);
    sqlite3_bind_int64(s, 6, c->updated_at);
    sqlite3_bind_int64(s, 7, c->id);
    if (store_step_done(st, s, err, "inserting comment on item %s", c->item_key) != DP_OK) return DP_ERR;
    *inserted = sqlite3_changes(st->db) == 1;
    return DP_OK;
}

static int comment_write(store *st, int64_t repo, const comment *c, dp_err *err)
{
    int64_t row;
    if (c->id) {
        int inserted;
        if (comment_insert_new(st, repo, c, &inserted, err) != DP_OK) return DP_ERR;
        if (inserted) return DP_OK;
    }
    if (comment_find(st, repo, c, &row, err) != DP_OK) return DP_ERR;
    sqlite3_stmt *s;
    if (row) {
        s = store_stmt(st, SQ_COMMENT_UPDATE,
                       "UPDATE comments SET item_key = ?2, author = ?3, body = ?4, created_at = ?5, "
                       "updated_at = ?6 WHERE id = ?1",
                       err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, 1, row);
    } else {
        s = store_stmt(st, SQ_COMMENT_ADD,
                       "INSERT INTO comments(repo_id, item_key, author, body, created_at, updated_at, "
                       "tracker_id) VALUES(?7, ?2, ?3, ?4, ?5, ?6, ?8)",
                       err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, 7, repo);
        if (c->id) sqlite3_bind_int64(s, 8, c->id);
        else sqlite3_bind_null(s, 8);
    }
    store_bind_text(s, 2, c->item_key);
    store_bind_text(s, 3, c->author);
    store_bind_text(s, 4, c->body ? c->body : "");
    sqlite3_bind_int64(s, 5, c->created_at);
    sqlite3_bind_int64(s, 6, c->updated_at);
    return store_step_done(st, s, err, "%s comment on item %s", row ? "updating" : "inserting", c->item_key);
}

int store_comment_upsert(store *st, int64_t repo, const comment *c, dp_err *err)
{
    if (!c->item_key || !*c->item_key) return dp_fail(err, "store: inserting comment: no item key");
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    return store_sp_end(st, comment_write(st, repo, c, err), err);
}

static int comments_query(store *st, const char *sql, int64_t repo, const char *key, comment_vec *out,
                          dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);   /* the page asks for every pair it shows */
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    if (key) store_bind_text(s, 2, key);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        comment *c = comment_vec_push(out);
        c->id = sqlite3_column_int64(s, 0);
        c->item_key = store_col_str_empty(s, 1);
        c->author = store_col_str(s, 2);
        c->body = store_col_str_empty(s, 3);
        c->created_at = sqlite3_column_int64(s, 4);
        c->updated_at = sqlite3_column_int64(s, 5);
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "loading comments");
    store_done(s);
    return ret;
}

/* The comments of one item, in the order they are shown: what
 * store_comments_load returns and store_comments_digest hashes must be the
 * same rows, or a cache validated by the digest could serve stale text. */
#define ITEM_COMMENTS "FROM comments WHERE repo_id = ?1 AND item_key = ?2 ORDER BY created_at, id"

int store_comments_load(store *st, int64_t repo, const char *item_key, comment_vec *out, dp_err *err)
{
    return comments_query(st,
                          "SELECT COALESCE(tracker_id, 0), item_key, author, body, created_at, updated_at "
                          ITEM_COMMENTS,
                          repo, item_key, out, err);
}

int store_comments_digest(store *st, int64_t repo, const char *item_key, uint64_t out[2], dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "SELECT COALESCE(tracker_id, 0), author, body, created_at, updated_at "
                                     ITEM_COMMENTS,
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, item_key);
    dp_hash128 *h = dp_hash128_new();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int i = 0; i < 5; i++) {
            /* Each value with its type and length: no two rows sets hash alike
             * by shifting bytes between columns. */
            int64_t tl[2] = {sqlite3_column_type(s, i), 0};
            const void *v = NULL;
            if (tl[0] == SQLITE_INTEGER) {
                int64_t x = sqlite3_column_int64(s, i);
                dp_hash128_add(h, tl, sizeof tl);
                dp_hash128_add(h, &x, sizeof x);
                continue;
            }
            if (tl[0] != SQLITE_NULL) v = sqlite3_column_text(s, i);
            tl[1] = sqlite3_column_bytes(s, i);
            dp_hash128_add(h, tl, sizeof tl);
            if (v) dp_hash128_add(h, v, (size_t)tl[1]);
        }
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading comments");
    store_done(s);
    dp_hash128_final(h, out);
    return ret;
}

int store_comments_load_all(store *st, int64_t repo, comment_vec *out, dp_err *err)
{
    return comments_query(st,
                          "SELECT COALESCE(tracker_id, 0), item_key, author, body, created_at, updated_at "
                          "FROM comments WHERE repo_id = ?1 ORDER BY item_key, created_at, id",
                          repo, NULL, out, err);
}

/* ---- links ----------------------------------------------------------- */

int store_link_add(store *st, int64_t repo, const item_link *l, dp_err *err)
{
    if (!l->src_key || !l->dst_key) return dp_fail(err, "store: adding link: missing item key");
    sqlite3_stmt *s = store_stmt(st, SQ_LINK_ADD,
                                 "INSERT INTO links(repo_id, src_key, dst_key, type, source) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5) "
                                 "ON CONFLICT(repo_id, src_key, dst_key, type) DO NOTHING",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, l->src_key);
    store_bind_text(s, 3, l->dst_key);
    sqlite3_bind_int(s, 4, (int)l->type);
    store_bind_text(s, 5, l->source);
    return store_step_done(st, s, err, "adding link %s -> %s", l->src_key, l->dst_key);
}

static int links_query(store *st, const char *sql, int64_t repo, const char *key, link_vec *out,
                       dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    if (key) store_bind_text(s, 2, key);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        item_link *l = link_vec_push(out);
        l->src_key = store_col_str_empty(s, 0);
        l->dst_key = store_col_str_empty(s, 1);
        l->type = (link_type)sqlite3_column_int(s, 2);
        l->source = store_col_str(s, 3);
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "loading links");
    store_done(s);
    return ret;
}

int store_links_load(store *st, int64_t repo, link_vec *out, dp_err *err)
{
    return links_query(st, "SELECT src_key, dst_key, type, source FROM links WHERE repo_id = ?1 ORDER BY id",
                       repo, NULL, out, err);
}

int store_links_for(store *st, int64_t repo, const char *key, link_vec *out, dp_err *err)
{
    /* Two indexed probes (src via the unique index, dst via links_by_dst),
     * in id order as store_links_load gives them. */
    return links_query(st,
                       "SELECT src_key, dst_key, type, source FROM ("
                       "SELECT id, src_key, dst_key, type, source FROM links WHERE repo_id = ?1 AND src_key = ?2 "
                       "UNION ALL "
                       "SELECT id, src_key, dst_key, type, source FROM links WHERE repo_id = ?1 AND dst_key = ?2 "
                       "AND src_key <> ?2) ORDER BY id",
                       repo, key, out, err);
}

/* Pushes a copy of the link in row s onto v. */
static void link_push_row(sqlite3_stmt *s, link_vec *v)
{
    item_link *l = link_vec_push(v);
    l->src_key = store_col_str_empty(s, 1);
    l->dst_key = store_col_str_empty(s, 2);
    l->type = (link_type)sqlite3_column_int(s, 3);
    l->source = store_col_str(s, 4);
}

/* The links of one chunk of distinct keys (n <= STORE_LINKS_CHUNK): one
 * statement in id order; a row goes to its source's key and to its
 * target's (one copy when both are the same key, as store_links_for). */
static int links_chunk(store *st, int64_t repo, const char *const *keys, size_t n, link_vec *out, dp_err *err)
{
    char list[STORE_LINKS_CHUNK * 6], sql[2 * sizeof list + 512];
    in_list(list, sizeof list, STORE_LINKS_CHUNK);
    snprintf(sql, sizeof sql,
             "SELECT id, src_key, dst_key, type, source FROM links WHERE repo_id = ?1 AND src_key IN (%s) "
             "UNION "
             "SELECT id, src_key, dst_key, type, source FROM links WHERE repo_id = ?1 AND dst_key IN (%s) "
             "ORDER BY id",
             list, list);
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    for (size_t i = 0; i < STORE_LINKS_CHUNK; i++) {
        if (i < n) store_bind_text(s, (int)i + 2, keys[i]);
        else sqlite3_bind_null(s, (int)i + 2);
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *src = (const char *)sqlite3_column_text(s, 1), *dst = (const char *)sqlite3_column_text(s, 2);
        for (size_t i = 0; i < n; i++)   /* once per key: a self link too */
            if ((src && !strcmp(keys[i], src)) || (dst && !strcmp(keys[i], dst))) link_push_row(s, &out[i]);
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "loading links");
    store_done(s);
    return ret;
}

int store_links_for_many(store *st, int64_t repo, const char *const *keys, size_t n, link_vec *out, dp_err *err)
{
    for (size_t lo = 0; lo < n; lo += STORE_LINKS_CHUNK) {
        size_t m = n - lo < STORE_LINKS_CHUNK ? n - lo : STORE_LINKS_CHUNK;
        if (links_chunk(st, repo, keys + lo, m, out + lo, err) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

int store_links_any_typed(store *st, int64_t repo, int *any, dp_err *err)
{
    /* one seek of the partial index links_typed (its WHERE, word for word) */
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "SELECT EXISTS(SELECT 1 FROM links WHERE repo_id = ?1 "
                                     "AND substr(source, 1, 5) = 'jira:')",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc = sqlite3_step(s);
    *any = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
    int ret = rc == SQLITE_ROW ? DP_OK : store_fail(st, err, "reading links");
    store_done(s);
    return ret;
}

int store_links_count(store *st, int64_t repo, size_t *n, dp_err *err)
{
    int64_t count;
    if (store_value_int(st, "SELECT COUNT(*) FROM links WHERE repo_id = ?1", repo, &count) != 1)
        return store_fail(st, err, "counting links");
    *n = (size_t)count;
    return DP_OK;
}

/* ---- label colours --------------------------------------------------- */

int store_label_color_set(store *st, int64_t repo, const char *name, const char *color, dp_err *err)
{
    if (!name) return dp_fail(err, "store: setting label colour: no label name");
    if (color && *color == '#') color++;
    /* From the statement cache: an import sets a colour per label it meets */
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "INSERT INTO labels(repo_id, name, color) VALUES(?1, ?2, ?3) "
                                     "ON CONFLICT(repo_id, name) DO UPDATE SET color = excluded.color",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, name);
    store_bind_text(s, 3, color);
    return store_step_done(st, s, err, "setting colour of label %s", name);
}

int store_label_colors_load(store *st, int64_t repo, strvec *names, strvec *colors, dp_err *err)
{
    sqlite3_stmt *s =
        store_stmt_sql(st, "SELECT name, COALESCE(color, '') FROM labels WHERE repo_id = ?1 ORDER BY name", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sv_push_owned(names, store_col_str_empty(s, 0));
        sv_push_owned(colors, store_col_str_empty(s, 1));
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "loading label colours");
    store_done(s);
    return ret;
}
