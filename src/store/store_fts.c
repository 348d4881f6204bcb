/* store_fts.c -- the title index (items_fts) of a bulk import into a store
 * without items, built beside the writer (see store_int.h).
 *
 * Tokenising the titles into trigrams is half of the writer's CPU time in
 * a first import (5.1 of 9.0 s at 250k items), and the writer is the
 * thread that bounds an import. Into an empty index the work needs nothing
 * of the store: a thread of our own feeds the items' ids, keys and titles
 * to the same FTS5 table, but without content (content=''), in a private
 * temporary database while the writer goes on, and at commit the index's
 * tables (items_fts_data, _idx) are copied into the store as they are --
 * rows, not tokens. The writer puts the content rows (items_fts_content)
 * in place itself as it writes the items. The index answers every query
 * as one built in the store would; only its segment layout may differ.
 * While it is built, the items' title triggers are off: nothing is noted
 * in items_fts_todo unless the build is dropped (store_fts_todo_restore).
 *
 * The store's own FTS5 object is never used in such a transaction (the
 * per-batch flush is skipped and items_fts_todo is emptied, not flushed,
 * at commit), so it cannot hold a view of the index that the copy made
 * stale. Only an import (store_bulk_mode) builds this way, and it closes
 * the store after its commit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

int store_fts_side_fault;

/* Rows handed to the thread at a time: one lock and wake-up per chunk. */
#define SIDE_CHUNK 1024
/* Chunks queued at most (~64k titles): when the thread falls behind, the
 * writer waits for it rather than holding a copy of every title. */
size_t store_fts_side_max_queued = 64;

typedef struct side_row {
    int64_t id;
    size_t key, title;              /* offsets of NUL-terminated strings in text */
    int replace;                    /* the row is in the index already, ... */
    size_t old_title;               /* ... with this title (and the same key) */
} side_row;

/* The keys and titles of a chunk share one buffer: two allocations per
 * chunk, not two per row made by the writer and freed by the thread. */
typedef struct side_chunk {
    side_row *v;
    size_t n;
    sbuf text;
    struct side_chunk *next;
} side_chunk;

struct store_fts_side {
    sqlite3 *db;                    /* private temporary database */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* a chunk was queued, or the end came */
    pthread_cond_t room;            /* a chunk was taken */
    side_chunk *head, *tail;        /* queued for the thread ... */
    size_t queued;                  /* ... this many (<= store_fts_side_max_queued) */
    side_chunk *cur;                /* being filled by the writer */
    int done;                       /* no more chunks will come */
    int stop;                       /* drop what is queued (rollback) */
    char *err;                      /* the thread's first error, owned */
};

static void chunk_free(side_chunk *c)
{
    if (!c) return;
    sb_free(&c->text);
    free(c->v);
    free(c);
}

static side_chunk *side_pop(struct store_fts_side *sd)
{
    pthread_mutex_lock(&sd->mu);
    while (!sd->head && !sd->done && !sd->stop) pthread_cond_wait(&sd->cv, &sd->mu);
    side_chunk *c = sd->stop ? NULL : sd->head;
    if (c) {
        sd->head = c->next;
        if (!sd->head) sd->tail = NULL;
        sd->queued--;
        pthread_cond_signal(&sd->room);
    }
    pthread_mutex_unlock(&sd->mu);
    return c;
}

static int side_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Writes one chunk into the private index; SQLITE_OK or the error. The
 * index keeps no content (content=''), so a row replaced is taken out with
 * FTS5's 'delete' command and the values it was indexed with. */
static int side_write(sqlite3_stmt *del, sqlite3_stmt *ins, const side_chunk *c)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < c->n && rc == SQLITE_OK; i++) {
        const side_row *r = &c->v[i];
        if (r->replace) {
            sqlite3_bind_int64(del, 1, r->id);
            sqlite3_bind_text(del, 2, c->text.s + r->key, -1, SQLITE_STATIC);
            sqlite3_bind_text(del, 3, c->text.s + r->old_title, -1, SQLITE_STATIC);
            rc = side_step(del);
            if (rc != SQLITE_OK) break;
        }
        sqlite3_bind_int64(ins, 1, r->id);
        sqlite3_bind_text(ins, 2, c->text.s + r->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, c->text.s + r->title, -1, SQLITE_STATIC);
        rc = side_step(ins);
    }
    return rc;
}

static void *side_main(void *arg)
{
    struct store_fts_side *sd = arg;
    dp_thread_feeder("dp-fts");
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc = sqlite3_exec(sd->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(sd->db, "INSERT INTO items_fts(items_fts, rowid, key, title) VALUES('delete', ?1, ?2, ?3)",
                                -1, &del, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(sd->db, "INSERT INTO items_fts(rowid, key, title) VALUES(?1, ?2, ?3)", -1, &ins,
                                NULL);
    side_chunk *c;
    while ((c = side_pop(sd))) {
        if (rc == SQLITE_OK) rc = side_write(del, ins, c);
        if (rc == SQLITE_OK && store_fts_side_fault) rc = SQLITE_FULL;
        chunk_free(c);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (rc == SQLITE_OK) rc = sqlite3_exec(sd->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        pthread_mutex_lock(&sd->mu);
        sd->err = xstrdup(sqlite3_errmsg(sd->db));
        pthread_mutex_unlock(&sd->mu);
    }
    return NULL;
}

/* Whether this transaction can build the index beside: no items, nothing
 * indexed, nothing noted. Read before the transaction's first item write. */
static int side_applies(store *st, char **create_sql)
{
    *create_sql = store_value_text(st, "SELECT (SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items_fts') "
                                       "WHERE NOT EXISTS(SELECT 1 FROM items) AND NOT EXISTS(SELECT 1 FROM items_fts_content) "
                                       "AND NOT EXISTS(SELECT 1 FROM items_fts_todo)");
    return *create_sql != NULL;
}

/* Frees sd (its thread ended or never started), closing its database
 * when close_db. */
static void side_free(struct store_fts_side *sd, int close_db)
{
    if (close_db) sqlite3_close(sd->db);
    pthread_cond_destroy(&sd->room);
    pthread_cond_destroy(&sd->cv);
    pthread_mutex_destroy(&sd->mu);
    free(sd);
}

/* The store's table definition with content='': the private index keeps
 * no copy of the keys and titles (the writer puts them into the store's
 * items_fts_content itself, store_fts_side_add); its data and idx rows are
 * those of the same index with content, byte for byte (the tokens, the
 * flushes and the merges are the same). NULL when the definition does not
 * end as expected. */
static char *contentless_sql(const char *create_sql)
{
    const char *close = strrchr(create_sql, ')');
    if (!close || close[1] || strstr(create_sql, "content")) return NULL;
    return xasprintf("%.*s, content='')", (int)(close - create_sql), create_sql);
}

/* Opens the private database with the store's table definition (same
 * tokenizer and options, so the copied rows mean the same) and starts the
 * thread. NULL when anything fails: the import then indexes as before. */
static struct store_fts_side *side_open(const char *store_sql)
{
    char *create_sql = contentless_sql(store_sql);
    if (!create_sql) return NULL;
    struct store_fts_side *sd = xcalloc(1, sizeof *sd);
    /* "": a temporary database on disk, deleted at close; its page cache
     * spills to the file, so a large index does not stay in memory. */
    int ok = sqlite3_open_v2("", &sd->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL) == SQLITE_OK &&
             store_fts_tokenizer(sd->db) == SQLITE_OK &&
             sqlite3_exec(sd->db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384",
                          NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_exec(sd->db, create_sql, NULL, NULL, NULL) == SQLITE_OK &&
             /* No merges on the way: FTS5 still merges a level of 16
              * segments (crisismerge), so the index ends in some 17 segments
              * rather than 9, for 30% less CPU (2.9 against 4.2 s at 250k
              * titles). The setting stays in the private database: only
              * the index's data, idx and content tables are copied, and the
              * store's own items_fts_config keeps the default. */
             sqlite3_exec(sd->db, "INSERT INTO items_fts(items_fts, rank) VALUES('automerge', 0)", NULL, NULL,
                          NULL) == SQLITE_OK;
    free(create_sql);
    pthread_mutex_init(&sd->mu, NULL);
    pthread_cond_init(&sd->cv, NULL);
    pthread_cond_init(&sd->room, NULL);
    if (ok && pthread_create(&sd->th, NULL, side_main, sd) == 0) return sd;
    side_free(sd, 1);
    return NULL;
}

/* Turns the connection's triggers off (on: 0) or back on. SQLite expires
 * every prepared statement when the setting changes, so a cached one
 * re-prepares with or without the trigger programs. */
static void side_triggers(store *st, int on)
{
    int now = -1;
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, &now);
    st->fts_todo_skipped = !now;
}

/* Whether turning the triggers off skips only the items' title triggers:
 * the store has no pairs (the pairs' own fire on pair writes only, and an
 * import touches pairs only when it has some) and no trigger but those
 * two kinds -- one added to the schema later, or by hand, keeps them on. */
static int triggers_skippable(store *st)
{
    int64_t ok = 0;
    return store_value_int(st, "SELECT NOT EXISTS(SELECT 1 FROM pairs) AND NOT EXISTS(SELECT 1 FROM sqlite_master "
                               "WHERE type = 'trigger' AND tbl_name <> 'pairs' AND name NOT IN "
                               "('items_fts_insert', 'items_fts_delete', 'items_fts_update'))",
                           0, &ok) == 1 && ok;
}

int store_fts_side_begin(store *st)
{
    if (st->fts_side_state) return st->fts_side_state == 1;
    if (!st->bulk || sqlite3_get_autocommit(st->db)) return 0;   /* decided in a transaction */
    st->fts_side_state = 2;
    char *sql = NULL;
    if (side_applies(st, &sql)) st->fts_side = side_open(sql);
    free(sql);
    if (st->fts_side) st->fts_side_state = 1;
    /* Every item the transaction writes goes to the side build, so the
     * title triggers' notes in items_fts_todo are needed only should that
     * build fail -- and then they are every row of items, which was empty
     * (side_applies): store_fts_todo_restore writes them in one statement.
     * Without the triggers an item insert runs no trigger program (a
     * frame allocated, a row inserted, per item) and the commit deletes
     * no notes. */
    if (st->fts_side && triggers_skippable(st)) side_triggers(st, 0);
    return st->fts_side_state == 1;
}

int store_fts_todo_restore(store *st, dp_err *err)
{
    if (!st->fts_todo_skipped) return DP_OK;
    side_triggers(st, 1);
    if (sqlite3_get_autocommit(st->db)) return DP_OK;   /* rolled back: nothing was written */
    return store_exec(st, "INSERT OR IGNORE INTO items_fts_todo(id) SELECT id FROM items",
                      "noting the items for the title index", err);
}

/* Queues c, waiting while the queue is full (the thread takes chunks
 * until the end, even after an error of its own, so the wait ends). */
static void side_push(struct store_fts_side *sd, side_chunk *c)
{
    pthread_mutex_lock(&sd->mu);
    while (sd->queued >= store_fts_side_max_queued) pthread_cond_wait(&sd->room, &sd->mu);
    sd->queued++;
    if (sd->tail) sd->tail->next = c;
    else sd->head = c;
    sd->tail = c;
    pthread_cond_signal(&sd->cv);
    pthread_mutex_unlock(&sd->mu);
}

int store_fts_side_add(store *st, int64_t id, const char *key, const char *title, const char *old_title,
                       dp_err *err)
{
    struct store_fts_side *sd = st->fts_side;
    /* the content row, as the index would write it (the store's index was
     * empty: no other row of its content can be there) */
    sqlite3_stmt *s = store_stmt_sql(st, "INSERT OR REPLACE INTO items_fts_content(id, c0, c1) VALUES(?1, ?2, ?3)", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    store_bind_text(s, 2, key);
    store_bind_text(s, 3, title);
    if (store_step_done(st, s, err, "adding item %s to the title index", key) != DP_OK) return DP_ERR;
    st->fts_content_direct = 1;
    if (!sd->cur) {
        sd->cur = xcalloc(1, sizeof *sd->cur);
        sd->cur->v = xcalloc(SIDE_CHUNK, sizeof *sd->cur->v);
    }
    sbuf *t = &sd->cur->text;
    side_row *r = &sd->cur->v[sd->cur->n++];
    *r = (side_row){.id = id, .key = t->len, .replace = old_title != NULL};
    sb_add(t, key, strlen(key) + 1);
    r->title = t->len;
    sb_add(t, title, strlen(title) + 1);
    if (old_title) {
        r->old_title = t->len;
        sb_add(t, old_title, strlen(old_title) + 1);
    }
    if (sd->cur->n == SIDE_CHUNK) {
        side_push(sd, sd->cur);
        sd->cur = NULL;
    }
    return DP_OK;
}

int store_fts_content_drop(store *st, dp_err *err)
{
    if (!st->fts_content_direct) return DP_OK;
    st->fts_content_direct = 0;
    if (sqlite3_get_autocommit(st->db)) return DP_OK;   /* rolled back */
    return store_exec(st, "DELETE FROM items_fts_content", "dropping the title index's rows", err);
}

/* Ends the thread (dropping what is queued when stop) and frees
 * everything but the error, which is returned, and the private database,
 * which goes to *keep when keep is not NULL (else it is closed). */
static char *side_close(store *st, int stop, sqlite3 **keep)
{
    struct store_fts_side *sd = st->fts_side;
    st->fts_side = NULL;
    st->fts_side_state = 0;
    if (!sd) return NULL;
    if (sd->cur && !stop) side_push(sd, sd->cur);
    else chunk_free(sd->cur);
    sd->cur = NULL;
    pthread_mutex_lock(&sd->mu);
    sd->done = 1;
    sd->stop = stop;
    pthread_cond_signal(&sd->cv);
    pthread_mutex_unlock(&sd->mu);
    pthread_join(sd->th, NULL);
    while (sd->head) {
        side_chunk *next = sd->head->next;
        chunk_free(sd->head);
        sd->head = next;
    }
    char *err = sd->err;
    if (keep) *keep = sd->db;
    side_free(sd, !keep);
    return err;
}

void store_fts_side_abort(store *st)
{
    free(side_close(st, 1, NULL));
    st->fts_side_state = 0;
}

/* Copies every row of one table of the private database into the store's
 * table of the same name (ncol columns, in their declared order). */
static int copy_table(store *st, sqlite3 *from, const char *table, int ncol, dp_err *err)
{
    char sql[160];
    sqlite3_stmt *r = NULL, *w = NULL;
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    if (sqlite3_prepare_v2(from, sql, -1, &r, NULL) != SQLITE_OK) {
        dp_fail(err, "store: copying the title index: %s", sqlite3_errmsg(from));
        sqlite3_finalize(r);
        return DP_ERR;
    }
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES(?1%s)", table, ncol == 3 ? ", ?2, ?3" : ", ?2");
    int ret = DP_OK, rc;
    if (sqlite3_prepare_v2(st->db, sql, -1, &w, NULL) != SQLITE_OK)
        ret = store_fail(st, err, "copying the title index");
    while (ret == DP_OK && (rc = sqlite3_step(r)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++) sqlite3_bind_value(w, i + 1, sqlite3_column_value(r, i));
        if (sqlite3_step(w) != SQLITE_DONE) ret = store_fail(st, err, "copying the title index");
        sqlite3_reset(w);
    }
    if (ret == DP_OK && rc != SQLITE_DONE) ret = dp_fail(err, "store: copying the title index: %s", sqlite3_errmsg(from));
    sqlite3_finalize(r);
    sqlite3_finalize(w);
    return ret;
}

int store_fts_side_finish(store *st, dp_err *err)
{
    if (!st->fts_side) {
        st->fts_side_state = 0;
        return DP_OK;
    }
    sqlite3 *from = NULL;
    char *e = side_close(st, 0, &from);
    if (!e) side_triggers(st, 1);   /* the notes are not needed: the index is built */
    if (e) {
        /* The private index failed (no room for its temporary file, say):
         * every item it had is noted in items_fts_todo too, so the store
         * indexes them itself, as it would have without the side build. */
        free(e);
        sqlite3_close(from);
        return store_fts_flush(st, err);   /* drops the content rows written */
    }
    /* The store's index is empty (side_applies): its tables hold only the
     * empty structure and averages records, which the copy replaces. */
    int rc = store_exec(st, "DELETE FROM items_fts_data; DELETE FROM items_fts_idx", "copying the title index", err);
    if (rc == DP_OK) rc = copy_table(st, from, "items_fts_data", 2, err);
    if (rc == DP_OK) rc = copy_table(st, from, "items_fts_idx", 3, err);
    st->fts_content_direct = 0;   /* the writer's content rows stay */
    /* Every item noted there went to the private index. */
    if (rc == DP_OK) rc = store_exec(st, "DELETE FROM items_fts_todo", "copying the title index", err);
    sqlite3_close(from);
    return rc;
}

/* ---- the text filter's functions (see store_int.h) --------------------- */

/* The trigram tokenizer of a connection, as items_fts makes it
 * (tokenize='trigram', no arguments: case folded, as FTS5 folds). */
typedef struct fts_tok {
    fts5_tokenizer m;
    Fts5Tokenizer *t;
} fts_tok;

/* The tokens of one text. */
typedef struct tok_list {
    sbuf text;                      /* the tokens, each NUL-terminated */
    size_t *at;                     /* token i starts at text.s + at[i] */
    size_t n, cap;
} tok_list;

static int tok_add(void *ctx, int flags, const char *tok, int ntok, int from, int to)
{
    (void)flags;
    (void)from;   /* offsets in the folded output, not the input (see fn_query) */
    (void)to;
    tok_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->at = xrealloc(l->at, l->cap * sizeof *l->at);
    }
    l->at[l->n] = l->text.len;
    l->n++;
    sb_add(&l->text, tok, (size_t)ntok);
    sb_addc(&l->text, '\0');
    return SQLITE_OK;
}

static void tok_free(tok_list *l)
{
    sb_free(&l->text);
    free(l->at);
}

/* Tokenises the text of v into l as the index does; SQLITE_OK or an error. */
static int tokenize(const fts_tok *ft, sqlite3_value *v, tok_list *l)
{
    memset(l, 0, sizeof *l);
    sb_init(&l->text);
    const char *s = (const char *)sqlite3_value_text(v);
    if (!s) return SQLITE_OK;
    return ft->m.xTokenize(ft->t, l, FTS5_TOKENIZE_DOCUMENT, s, sqlite3_value_bytes(v), tok_add);
}

static const char *tok_at(const tok_list *l, size_t i) { return l->text.s + l->at[i]; }

/* 1 when the tokens of `in` hold those of `want` one after the other --
 * what a phrase query of want matches in a column (detail=full). */
static int tok_holds(const tok_list *in, const tok_list *want)
{
    if (!want->n) return 0;
    for (size_t i = 0; i + want->n <= in->n; i++) {
        size_t k = 0;
        while (k < want->n && !strcmp(tok_at(in, i + k), tok_at(want, k))) k++;
        if (k == want->n) return 1;
    }
    return 0;
}

/* Whether s is text of ASCII bytes only (up to its first NUL, where the
 * tokenizer stops too); NULL counts as ASCII (no tokens). */
static int all_ascii(const char *s)
{
    return !s || dp_ascii(s, strlen(s));
}

static int ascii_fold(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

int store_ascii_holds(const char *s, const char *text)
{
    size_t n = strlen(text);
    for (; *s; s++) {
        size_t k = 0;
        while (k < n && s[k] && ascii_fold((unsigned char)s[k]) == ascii_fold((unsigned char)text[k])) k++;
        if (k == n) return 1;
    }
    return n == 0;
}

/* For ASCII texts the tokenizer's tokens are the case-folded (A-Z only)
 * three-byte windows, so a run of want's tokens in `in` is a folded
 * substring; want needs 3 bytes to have a token at all. Without the
 * tokenizer's copies: nearly every title is ASCII, and this test runs
 * for every item the index offers. */
static int ascii_holds(const char *in, const char *want)
{
    return in && strlen(want) >= 3 && store_ascii_holds(in, want);
}

int store_fts_ascii_has(const char *key, const char *title, const char *text)
{
    if (!all_ascii(key) || !all_ascii(title) || !all_ascii(text))
        return -1;
    return text && (ascii_holds(key, text) || ascii_holds(title, text));
}

/* dp_fts_has(key, title, text): 1 when key or title holds text as a
 * phrase query of it would find it, else 0. */
static void fn_has(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *c[3];
    for (int i = 0; i < 3; i++) c[i] = sqlite3_value_text(argv[i]);
    int has = store_fts_ascii_has((const char *)c[0], (const char *)c[1], (const char *)c[2]);
    if (has >= 0) {
        sqlite3_result_int(cx, has);
        return;
    }
    const fts_tok *ft = sqlite3_user_data(cx);
    tok_list want, in;
    int rc = tokenize(ft, argv[2], &want), found = 0;
    for (int col = 0; col < 2 && rc == SQLITE_OK && !found; col++) {
        rc = tokenize(ft, argv[col], &in);
        found = rc == SQLITE_OK && tok_holds(&in, &want);
        tok_free(&in);
    }
    tok_free(&want);
    if (rc != SQLITE_OK) sqlite3_result_error_code(cx, rc);
    else sqlite3_result_int(cx, found);
}

/* Whether the query parser, tokenising the quoted token t, gets t back:
 * true of every token of a valid UTF-8 text (the tokenizer writes what it
 * read, case folded, and folding twice is folding once), and so of every
 * token of a stored key or title. */
static int tok_round_trips(const fts_tok *ft, const char *t)
{
    tok_list l = {0};
    sb_init(&l.text);
    int ok = ft->m.xTokenize(ft->t, &l, FTS5_TOKENIZE_QUERY, t, (int)strlen(t), tok_add) == SQLITE_OK &&
             l.n == 1 && !strcmp(tok_at(&l, 0), t);
    tok_free(&l);
    return ok;
}

/* dp_fts_query(text): an FTS5 query every row holding text matches: the
 * text's tokens (the tokenizer's case-folded trigrams), each quoted, joined
 * by AND. Not the bytes each came from: the tokenizer reports offsets in
 * its folded output, which differ where folding changes a length (the
 * Kelvin sign folds to 'k') or bytes are not UTF-8. A token that would not
 * come back from the query parser as itself (only from bytes that are not
 * UTF-8) is left out -- fewer tokens, more rows, which dp_fts_has sorts
 * out; no stored key or title holds such a token, so a text of nothing
 * else gets a query that matches nothing, as its phrase did. */
static void fn_query(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const fts_tok *ft = sqlite3_user_data(cx);
    tok_list l;
    int rc = tokenize(ft, argv[0], &l);
    if (rc != SQLITE_OK) {
        tok_free(&l);
        sqlite3_result_error_code(cx, rc);
        return;
    }
    sbuf q;
    sb_init(&q);
    for (size_t i = 0; i < l.n; i++) {
        if (!tok_round_trips(ft, tok_at(&l, i))) continue;
        if (q.len) sb_adds(&q, " AND ");
        sb_addc(&q, '"');
        for (const char *c = tok_at(&l, i); *c; c++) {
            if (*c == '"') sb_addc(&q, '"');
            sb_addc(&q, *c);
        }
        sb_addc(&q, '"');
    }
    if (!q.len) sb_adds(&q, "\"\"");   /* no token: a phrase of none, which matches nothing */
    tok_free(&l);
    sqlite3_result_text(cx, sb_take(&q), -1, free);
}

static void fts_tok_free(void *p)
{
    fts_tok *ft = p;
    if (ft->t) ft->m.xDelete(ft->t);
    free(ft);
}

/* The connection's fts5_api, through the documented pointer binding. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return api;
}

/* ---- the title index's tokenizer (dp_trigram) --------------------------- */

/* FTS5 gathers the tokens of the rows it is given in a hash table in
 * memory before it writes them out as a segment. Its hash of a key is
 * h = (h << 3) ^ h ^ byte over the key's bytes: linear, and for a
 * trigram's three bytes it spans some 16 bits, so the trigrams of many
 * titles share few values and the table's chains grow long; every token
 * walks its chain, a cache miss a link. That walk was a third of the
 * title index's build at 250k titles (the import's dp-fts thread, 21 %
 * of its CPU). dp_trigram is FTS5's own trigram tokenizer with one byte,
 * hashed from the token, after each token: the byte enters the key's hash
 * at bits 0-7 and 12-19, and the chains shorten (cachegrind: the build's
 * D1 misses halved). Each trigram still has exactly one token (its bytes
 * come first), a query is tokenised the same way (FTS5 runs the table's
 * tokenizer on every quoted string of dp_fts_query's), and the byte is
 * never 0 (FTS5 keeps a key NUL-terminated). */
typedef struct tri_base {
    fts5_tokenizer m;               /* FTS5's trigram tokenizer */
    void *ud;                       /* ... and its user data */
} tri_base;

typedef struct tri_inst {
    fts5_tokenizer m;               /* the base's methods */
    Fts5Tokenizer *t;               /* the base's instance */
} tri_inst;

typedef struct tri_call {
    void *ctx;
    int (*cb)(void *, int, const char *, int, int, int);
} tri_call;

/* The byte after token t: 0x80 + 7 bits of an FNV-1a hash of t. */
static char tri_byte(const char *t, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)t[i]) * 16777619u;
    return (char)(0x80 | ((h ^ h >> 7 ^ h >> 14 ^ h >> 21) & 0x7f));
}

static int tri_token(void *p, int flags, const char *tok, int n, int from, int to)
{
    const tri_call *c = p;
    char buf[64];
    /* a trigram is 3 characters, 12 bytes at most; anything longer (none
     * comes) passes as it is, the same at build and query time */
    if (n < 0 || (size_t)n >= sizeof buf) return c->cb(c->ctx, flags, tok, n, from, to);
    memcpy(buf, tok, (size_t)n);
    buf[n] = tri_byte(tok, n);
    return c->cb(c->ctx, flags, buf, n + 1, from, to);
}

static int tri_create(void *ud, const char **argv, int argc, Fts5Tokenizer **out)
{
    const tri_base *b = ud;
    tri_inst *in = sqlite3_malloc(sizeof *in);
    if (!in) return SQLITE_NOMEM;
    in->m = b->m;
    int rc = b->m.xCreate(b->ud, argv, argc, &in->t);
    if (rc != SQLITE_OK) {
        sqlite3_free(in);
        return rc;
    }
    *out = (Fts5Tokenizer *)in;
    return SQLITE_OK;
}

static void tri_delete(Fts5Tokenizer *t)
{
    tri_inst *in = (tri_inst *)t;
    in->m.xDelete(in->t);
    sqlite3_free(in);
}

static int tri_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int n,
                        int (*cb)(void *, int, const char *, int, int, int))
{
    tri_inst *in = (tri_inst *)t;
    tri_call c = {ctx, cb};
    return in->m.xTokenize(in->t, &c, flags, text, n, tri_token);
}

/* Registers dp_trigram with api (NULL: fails). */
static int tri_register(fts5_api *api)
{
    tri_base *b = xcalloc(1, sizeof *b);
    if (!api || api->xFindTokenizer(api, "trigram", &b->ud, &b->m) != SQLITE_OK) {
        free(b);
        return SQLITE_ERROR;
    }
    fts5_tokenizer m = {tri_create, tri_delete, tri_tokenize};
    /* once registered, b is FTS5's, freed when the connection closes */
    int rc = api->xCreateTokenizer(api, "dp_trigram", b, &m, free);
    if (rc != SQLITE_OK) free(b);
    return rc;
}

int store_fts_tokenizer(sqlite3 *db) { return tri_register(fts5_api_of(db)); }

int store_fts_functions(sqlite3 *db)
{
    fts5_api *api = fts5_api_of(db);
    if (tri_register(api) != SQLITE_OK) return SQLITE_ERROR;
    void *ud = NULL;
    fts_tok *ft = xcalloc(1, sizeof *ft);
    if (!api || api->xFindTokenizer(api, "trigram", &ud, &ft->m) != SQLITE_OK ||
        ft->m.xCreate(ud, NULL, 0, &ft->t) != SQLITE_OK) {
        fts_tok_free(ft);
        return SQLITE_ERROR;
    }
    /* Both functions share ft; the second registration frees it. */
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(db, "dp_fts_query", 1, flags, ft, fn_query, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return sqlite3_create_function_v2(db, "dp_fts_has", 3, flags, ft, fn_has, NULL, NULL, fts_tok_free);
    fts_tok_free(ft);
    return rc;
}
