/* store_fts.c -- the title index (items_fts) of a bulk import into a store
 * without items, built beside the writer (see store_int.h).
 *
 * Tokenising the titles into trigrams is half of the writer's CPU time in
 * a first import (5.1 of 9.0 s at 250k items), and the writer is the
 * thread that bounds an import. Into an empty index the work needs nothing
 * of the store: a thread of our own feeds the items' ids, keys and titles
 * to an identical FTS5 table in a private temporary database while the
 * writer goes on, and at commit the index's tables (items_fts_data, _idx,
 * _content) are copied into the store as they are -- rows, not tokens.
 * The index answers every query as one built in the store would; only
 * its segment layout may differ.
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
    int replace;                    /* the row may be in the index already */
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

/* Writes one chunk into the private index; SQLITE_OK or the error. */
static int side_write(sqlite3_stmt *del, sqlite3_stmt *ins, const side_chunk *c)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < c->n && rc == SQLITE_OK; i++) {
        const side_row *r = &c->v[i];
        if (r->replace) {
            sqlite3_bind_int64(del, 1, r->id);
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
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc = sqlite3_exec(sd->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(sd->db, "DELETE FROM items_fts WHERE rowid = ?1", -1, &del, NULL);
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
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(st->db,
                                "SELECT (SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items_fts') "
                                "WHERE NOT EXISTS(SELECT 1 FROM items) AND NOT EXISTS(SELECT 1 FROM items_fts_content) "
                                "AND NOT EXISTS(SELECT 1 FROM items_fts_todo)",
                                -1, &s, NULL) == SQLITE_OK &&
             sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0);
    if (ok) *create_sql = xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return ok;
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

/* Opens the private database with the store's table definition (same
 * tokenizer and options, so the copied rows mean the same) and starts the
 * thread. NULL when anything fails: the import then indexes as before. */
static struct store_fts_side *side_open(const char *create_sql)
{
    struct store_fts_side *sd = xcalloc(1, sizeof *sd);
    /* "": a temporary database on disk, deleted at close; its page cache
     * spills to the file, so a large index does not stay in memory. */
    int ok = sqlite3_open_v2("", &sd->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL) == SQLITE_OK &&
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
    pthread_mutex_init(&sd->mu, NULL);
    pthread_cond_init(&sd->cv, NULL);
    pthread_cond_init(&sd->room, NULL);
    if (ok && pthread_create(&sd->th, NULL, side_main, sd) == 0) return sd;
    side_free(sd, 1);
    return NULL;
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
    return st->fts_side_state == 1;
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

void store_fts_side_add(store *st, int64_t id, const char *key, const char *title, int replace)
{
    struct store_fts_side *sd = st->fts_side;
    if (!sd->cur) {
        sd->cur = xcalloc(1, sizeof *sd->cur);
        sd->cur->v = xcalloc(SIDE_CHUNK, sizeof *sd->cur->v);
    }
    sbuf *t = &sd->cur->text;
    side_row *r = &sd->cur->v[sd->cur->n++];
    *r = (side_row){.id = id, .key = t->len, .replace = replace};
    sb_add(t, key, strlen(key) + 1);
    r->title = t->len;
    sb_add(t, title, strlen(title) + 1);
    if (sd->cur->n == SIDE_CHUNK) {
        side_push(sd, sd->cur);
        sd->cur = NULL;
    }
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
    if (e) {
        /* The private index failed (no room for its temporary file, say):
         * every item it had is noted in items_fts_todo too, so the store
         * indexes them itself, as it would have without the side build. */
        free(e);
        sqlite3_close(from);
        return store_fts_flush(st, err);
    }
    /* The store's index is empty (side_applies): its tables hold only the
     * empty structure and averages records, which the copy replaces. */
    int rc = store_exec(st, "DELETE FROM items_fts_data; DELETE FROM items_fts_idx", "copying the title index", err);
    if (rc == DP_OK) rc = copy_table(st, from, "items_fts_data", 2, err);
    if (rc == DP_OK) rc = copy_table(st, from, "items_fts_idx", 3, err);
    if (rc == DP_OK) rc = copy_table(st, from, "items_fts_content", 3, err);
    /* Every item noted there went to the private index. */
    if (rc == DP_OK) rc = store_exec(st, "DELETE FROM items_fts_todo", "copying the title index", err);
    sqlite3_close(from);
    return rc;
}
