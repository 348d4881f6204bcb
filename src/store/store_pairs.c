/* store_pairs.c -- candidate pairs (written by analyze, read by the web
 * page and `doppel pairs`) and the maintainer's verdicts on them.
 *
 * The pair filter is compiled into one WHERE clause from fixed fragments;
 * every user-supplied value is a bound parameter, and the handful of SQL
 * shapes a filter yields are prepared once per handle (store_stmt_sql).
 * Each sort has two indexes, (repo, key DESC, id) and (key DESC, id), so a
 * page walks one and stops after `limit` rows, and a neighbour is two index
 * seeks. A text's pages and neighbours, and a small label's or class's,
 * are instead cut from the order of their pairs (Q_SET), made in memory from
 * a table of every pair's class, items and sort keys (store_pcount.c; for
 * a text without that table at hand, a table of the pairs around the
 * text), or for a class read from the covering index pairs_filter: a walk
 * would read
 * the wide row of every pair it passes. Counts of
 * relation, confidence and known sum the counters of pair_counts; a text's
 * count is the size of its order; counts of states and labels come from
 * the same table. All are cached until the database changes. In SQL, conditions on items
 * (states, labels, titles) become set lookups rather than joins (see
 * fq_text).
 * store_pairs_explain (store_int.h) shows the plan of every path, and the
 * unit tests hold those plans to index walks.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

void pair_filter_init(pair_filter *f)
{
    memset(f, 0, sizeof *f);
    f->relation = -1;
    f->confidence = -1;
    f->reviewed = -1;
    f->include_known = 1;
}

/* ---- reading rows ---------------------------------------------------- */

/* Column list of every pair read (p = pairs, v = verdicts LEFT JOIN); the
 * long texts are read by id from pair_texts afterwards (pair_texts_read). */
#define PAIR_COLS                                                                                  \
    "p.id, p.repo_id, p.query_key, p.cand_key, p.rank, p.score, p.prob, p.relation, p.confidence, " \
    "p.value, p.known, v.verdict, v.created_at, p.comment_on, p.canonical, p.updated_at"
#define VERDICT_JOIN                                                                         \
    " LEFT JOIN verdicts v ON v.repo_id = p.repo_id AND v.query_key = p.query_key AND " \
    "v.cand_key = p.cand_key"

static void pair_from_row(sqlite3_stmt *s, pair *p)
{
    p->id = sqlite3_column_int64(s, 0);
    p->repo_id = sqlite3_column_int64(s, 1);
    p->query_key = store_col_str_empty(s, 2);
    p->cand_key = store_col_str_empty(s, 3);
    p->rank = sqlite3_column_int(s, 4);
    p->score = sqlite3_column_double(s, 5);
    p->prob = sqlite3_column_double(s, 6);
    /* A name this version does not know (a damaged row) reads as the
     * weakest judgment rather than failing the whole list. */
    if (relation_parse((const char *)sqlite3_column_text(s, 7), &p->relation)) p->relation = RELATION_NONE;
    if (confidence_parse((const char *)sqlite3_column_text(s, 8), &p->confidence)) p->confidence = CONFIDENCE_LOW;
    p->value = sqlite3_column_double(s, 9);
    p->known = sqlite3_column_int(s, 10);
    if (verdict_parse((const char *)sqlite3_column_text(s, 11), &p->verdict)) p->verdict = VERDICT_NONE;
    p->verdict_at = sqlite3_column_int64(s, 12);
    p->comment_on = store_col_str(s, 13);
    p->canonical = store_col_str(s, 14);
    p->updated_at = sqlite3_column_int64(s, 15);
}

/* Reads the long texts of pairs v[0..n) (NULL for a pair without any). A
 * separate look-up by id rather than a join: the statements that pick a
 * page keep their plans, and only the page's rows are read. */
static int pair_texts_read(store *st, pair *v, size_t n, dp_err *err)
{
    if (!n) return DP_OK;
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_TEXT_GET,
                                 "SELECT reasoning, value_detail, suggested_comment FROM pair_texts WHERE id = ?1", err);
    if (!s) return DP_ERR;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 1, v[i].id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            v[i].reasoning = store_col_str(s, 0);
            v[i].value_detail = store_col_str(s, 1);
            v[i].suggested_comment = store_col_str(s, 2);
        } else if (rc != SQLITE_DONE) {
            store_fail(st, err, "reading the texts of pair %lld", (long long)v[i].id);
            store_done(s);
            return DP_ERR;
        }
        sqlite3_reset(s);
    }
    store_done(s);
    return DP_OK;
}

/* Steps a single-row pair lookup into *out. */
static int pair_one(store *st, sqlite3_stmt *s, pair *out, const char *what, dp_err *err)
{
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        pair_from_row(s, out);
        ret = DP_OK;
    } else if (rc == SQLITE_DONE) {
        ret = DP_NOTFOUND;
    } else {
        ret = store_fail(st, err, "%s", what);
    }
    store_done(s);
    if (ret == DP_OK && pair_texts_read(st, out, 1, err) != DP_OK) {
        pair_free(out);
        return DP_ERR;
    }
    return ret;
}

int store_pair_get(store *st, int64_t pair_id, pair *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_GET, "SELECT " PAIR_COLS " FROM pairs p" VERDICT_JOIN " WHERE p.id = ?1",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, pair_id);
    return pair_one(st, s, out, "reading pair", err);
}

int store_pair_find(store *st, int64_t repo, const char *q, const char *c, pair *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_FIND,
                                 "SELECT " PAIR_COLS " FROM pairs p" VERDICT_JOIN
                                 " WHERE p.repo_id = ?1 AND p.query_key = ?2 AND p.cand_key = ?3",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, q);
    store_bind_text(s, 3, c);
    return pair_one(st, s, out, "reading pair", err);
}

/* ---- light references ------------------------------------------------ */

void pair_ref_vec_free(pair_ref_vec *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].query_key);
        free(v->v[i].cand_key);
    }
    free(v->v);
    memset(v, 0, sizeof *v);
}

/* Appends the rows of s (id, query_key, cand_key) to out. */
static int refs_read(store *st, sqlite3_stmt *s, pair_ref_vec *out, dp_err *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->v = xrealloc(out->v, out->cap * sizeof *out->v);
        }
        pair_ref *r = &out->v[out->n++];
        r->id = sqlite3_column_int64(s, 0);
        r->query_key = store_col_str_empty(s, 1);
        r->cand_key = store_col_str_empty(s, 2);
    }
    return rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "loading pair references");
}

int store_pair_refs_load(store *st, int64_t repo, pair_ref_vec *out, dp_err *err)
{
    /* Keys and id only, in no particular order: a walk of the narrow
     * (repo_id, query_key, cand_key) unique index, never the wide rows.
     * Reading rank too, or sorting by id, fetched every row from the table:
     * 0.28 s instead of 0.05 s for 94k pairs. */
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_REFS,
                                 "SELECT id, query_key, cand_key FROM pairs WHERE repo_id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc = refs_read(st, s, out, err);
    store_done(s);
    return rc;
}

int store_pair_refs_for(store *st, int64_t repo, const char *const *keys, size_t n, int cand_too,
                        pair_ref_vec *out, dp_err *err)
{
    static const char *const sql[2] = {
        "SELECT id, query_key, cand_key FROM pairs WHERE repo_id = ?1 AND query_key = ?2",
        "SELECT id, query_key, cand_key FROM pairs WHERE repo_id = ?1 AND cand_key = ?2"};
    int rc = DP_OK;
    for (int w = 0; w < 1 + !!cand_too && rc == DP_OK; w++) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db, sql[w], -1, &s, NULL) != SQLITE_OK)
            return store_fail(st, err, "loading pair references");
        sqlite3_bind_int64(s, 1, repo);
        for (size_t i = 0; i < n && rc == DP_OK; i++) {
            sqlite3_reset(s);
            store_bind_text(s, 2, keys[i]);
            rc = refs_read(st, s, out, err);
        }
        sqlite3_finalize(s);
    }
    return rc;
}

/* ---- replacing ------------------------------------------------------- */

/* Runs a one-off statement with ?1 = repo (and ?2 = key when not NULL). */
static int exec_repo(store *st, const char *sql, int64_t repo, const char *key, const char *what, dp_err *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_fail(st, err, "%s", what);
    }
    sqlite3_bind_int64(s, 1, repo);
    if (key) store_bind_text(s, 2, key);
    int rc = store_step_done(st, s, err, "%s", what);
    sqlite3_finalize(s);
    return rc;
}

/* Whether a repository other than repo has pairs: two seeks of the unique
 * (repo_id, query_key, cand_key) index, which a bulk replace keeps. */
static int pairs_others(store *st, int64_t repo, int *any, dp_err *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT EXISTS(SELECT 1 FROM pairs WHERE repo_id < ?1) "
                           "OR EXISTS(SELECT 1 FROM pairs WHERE repo_id > ?1)",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_fail(st, err, "looking for the pairs of other repositories");
    }
    sqlite3_bind_int64(s, 1, repo);
    int rc = sqlite3_step(s);
    *any = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
    int ret = rc == SQLITE_ROW ? DP_OK : store_fail(st, err, "looking for the pairs of other repositories");
    sqlite3_finalize(s);
    return ret;
}

/* The texts of the pairs a delete removes (those of one query, or of the
 * whole repository), when the trigger that removes them
 * (pair_texts_delete) is dropped by an open bulk replace; pairs_clear
 * empties the table when no other repository has pairs. */
static int texts_delete(store *st, int64_t repo, const char *query, dp_err *err)
{
    const char *what = "deleting the texts of old pairs";
    if (query)
        return exec_repo(st, "DELETE FROM pair_texts WHERE id IN "
                             "(SELECT id FROM pairs WHERE repo_id = ?1 AND query_key = ?2)",
                         repo, query, what, err);
    return exec_repo(st, "DELETE FROM pair_texts WHERE id IN (SELECT id FROM pairs WHERE repo_id = ?1)", repo,
                     NULL, what, err);
}

/* One text column of a one-row query (*out NULL: no row). */
static int query_text(store *st, const char *sql, char **out, const char *what, dp_err *err)
{
    *out = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_fail(st, err, "%s", what);
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0)) *out = xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "%s", what);
}

/* Empties pairs and pair_texts when the replaced repository is the only
 * one with pairs, in a bulk replace (its secondary indexes and triggers
 * are dropped, and made again at its end): pairs is dropped and made again
 * from its own schema text, its pages freed at once, where a DELETE reads
 * and unlinks every row and UNIQUE entry (~2 s of the one writer at 250k
 * items). The AUTOINCREMENT counter, which the drop forgets, is put back:
 * the new pairs get the ids they would have got after a DELETE. */
static int pairs_clear(store *st, dp_err *err)
{
    char *sql = NULL, *seq = NULL;
    int rc = query_text(st, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'pairs'", &sql,
                        "reading the pairs table's schema", err);
    /* as a number whatever the column holds: it goes back into SQL text */
    if (rc == DP_OK)
        rc = query_text(st, "SELECT CAST(CAST(seq AS INTEGER) AS TEXT) FROM sqlite_sequence WHERE name = 'pairs'",
                        &seq, "reading the pair id counter", err);
    if (rc == DP_OK && !sql) rc = dp_fail(err, "store: the pairs table has no schema text");
    if (rc == DP_OK) rc = store_exec(st, "DELETE FROM pair_texts", "deleting the texts of old pairs", err);
    if (rc == DP_OK) rc = store_exec(st, "DROP TABLE pairs", "dropping the old pairs", err);
    if (rc == DP_OK) rc = store_exec(st, sql, "making the pairs table again", err);
    if (rc == DP_OK && seq) {
        char *put = sqlite3_mprintf("INSERT INTO sqlite_sequence(name, seq) VALUES('pairs', %s)", seq);
        rc = store_exec(st, put, "putting back the pair id counter", err);
        sqlite3_free(put);
    }
    free(sql);
    free(seq);
    return rc;
}

static int pairs_delete(store *st, int64_t repo, const char *const *queries, size_t nqueries, dp_err *err)
{
    int texts = st->pbulk.open;   /* the trigger is dropped: the texts are ours to delete */
    if (!queries && nqueries == 0) {
        int others = 1;
        if (texts && pairs_others(st, repo, &others, err) != DP_OK) return DP_ERR;
        if (!others) return pairs_clear(st, err);
        if (texts && texts_delete(st, repo, NULL, err) != DP_OK) return DP_ERR;
        return exec_repo(st, "DELETE FROM pairs WHERE repo_id = ?1", repo, NULL, "deleting old pairs", err);
    }
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_DEL_QUERY, "DELETE FROM pairs WHERE repo_id = ?1 AND query_key = ?2",
                                 err);
    if (!s) return DP_ERR;
    for (size_t i = 0; i < nqueries; i++) {
        if (texts && texts_delete(st, repo, queries[i], err) != DP_OK) return DP_ERR;
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, queries[i]);
        if (store_step_done(st, s, err, "deleting old pairs of %s", queries[i]) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

/* ---- updated_at of a bulk replace ------------------------------------- */

/* An item of the bulk's map (store_pbulk.item): one line of cache a
 * lookup reads, the key's bytes apart in kbuf. */
struct pb_item {
    uint64_t hash;      /* dp_hash_str of the key */
    int64_t updated;
    size_t off;         /* of the key in kbuf */
};

static uint64_t pb_key_hash(const void *ctx, uint32_t e)
{
    return ((const store_pbulk *)ctx)->item[e].hash;
}

static void pb_map_free(store_pbulk *b)
{
    free(b->item);
    b->item = NULL;
    b->nitem = 0;
    sb_free(&b->kbuf);
    dp_idxmap_free(&b->map);
    b->last = SIZE_MAX;
    b->loaded = 0;
}

typedef struct id_time {
    int64_t id, updated;
} id_time;

static int id_time_cmp(const void *x, const void *y)
{
    int64_t a = ((const id_time *)x)->id, b = ((const id_time *)y)->id;
    return (a > b) - (a < b);
}

/* (id, updated_at) of the repository's items, by id, from the covering
 * index items_by_updated; *n of them in *out (the caller frees). */
static int pb_read_times(store *st, int64_t repo, id_time **out, size_t *n, dp_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT id, updated_at FROM items INDEXED BY items_by_updated WHERE repo_id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_fail(st, err, "reading the items' update times");
    }
    sqlite3_bind_int64(s, 1, repo);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) *out = xrealloc(*out, (cap = cap ? cap * 2 : 1024) * sizeof **out);
        (*out)[(*n)++] = (id_time){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return store_fail(st, err, "reading the items' update times");
    qsort(*out, *n, sizeof **out, id_time_cmp);
    return DP_OK;
}

/* Reads updated_at of every item of the repository into the bulk's map,
 * unless it was read and nothing but pair inserts wrote since: the
 * transaction holds the write lock, so only this handle could have
 * changed an item. Two index seeks and two row reads per pair would be
 * page misses at 250k items, most of them; the map is read from two
 * covering indexes instead (items_by_updated for the times, sorted by id;
 * items_keys_by_id for the keys, by id): a walk of the table reads most of
 * its pages, bodies and all (sqlite3 shell at 250k items: 0.19-0.28 s
 * against 0.03-0.05 s for the two indexes; in a full run the load went
 * 0.43 -> 0.24 s of the one writer). */
static int pb_map_load(store *st, dp_err *err)
{
    store_pbulk *b = &st->pbulk;
    if (b->loaded && b->changes == sqlite3_total_changes64(st->db)) return DP_OK;
    pb_map_free(b);
    id_time *times;
    size_t nt;
    if (pb_read_times(st, b->repo, &times, &nt, err) != DP_OK) return DP_ERR;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT id, key FROM items INDEXED BY items_keys_by_id WHERE repo_id = ?1", -1, &s,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        free(times);
        return store_fail(st, err, "reading the items' keys");
    }
    sqlite3_bind_int64(s, 1, b->repo);
    b->item = xmalloc((nt ? nt : 1) * sizeof *b->item);
    size_t t = 0;
    int rc;
    /* both by id, over one snapshot: the same items */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        while (t < nt && times[t].id < id) t++;
        if (t == nt || times[t].id != id) continue;
        const char *key = (const char *)sqlite3_column_text(s, 1);
        b->item[b->nitem++] = (struct pb_item){dp_hash_str(key), times[t].updated, b->kbuf.len};
        sb_add(&b->kbuf, key ? key : "", (key ? strlen(key) : 0) + 1);
    }
    sqlite3_finalize(s);
    free(times);
    if (rc != SQLITE_DONE) {
        pb_map_free(b);
        return store_fail(st, err, "reading the items' keys");
    }
    /* keys are unique per repository (UNIQUE(repo_id, key)) */
    dp_idxmap_reserve(&b->map, b->nitem ? b->nitem : 1, pb_key_hash, b);
    for (size_t i = 0; i < b->nitem; i++) {
        size_t slot = dp_idxmap_first(&b->map, b->item[i].hash);
        while (b->map.slot[slot]) slot = dp_idxmap_step(&b->map, slot);
        dp_idxmap_put(&b->map, slot, (uint32_t)i);
    }
    b->loaded = 1;
    b->changes = sqlite3_total_changes64(st->db);
    return DP_OK;
}

/* The entry of item key in the map, SIZE_MAX when absent. */
static size_t pb_find(const store_pbulk *b, const char *key)
{
    if (!key || !b->map.cap) return SIZE_MAX;
    uint64_t h = dp_hash_str(key);
    for (size_t s = dp_idxmap_first(&b->map, h); b->map.slot[s]; s = dp_idxmap_step(&b->map, s)) {
        uint32_t e = b->map.slot[s] - 1;
        if (b->item[e].hash == h && !strcmp(b->kbuf.s + b->item[e].off, key)) return e;
    }
    return SIZE_MAX;
}

/* What the insert's subquery computes: the later updated_at of the pair's
 * two items, 0 when neither is stored. A query's pairs arrive together,
 * so its entry is looked up once for them (b->last). */
static int64_t pb_pair_updated(store_pbulk *b, const pair *p)
{
    if (b->last == SIZE_MAX || !p->query_key || strcmp(b->kbuf.s + b->item[b->last].off, p->query_key))
        b->last = pb_find(b, p->query_key);
    size_t q = b->last, c = pb_find(b, p->cand_key);
    if (q == SIZE_MAX) return c == SIZE_MAX ? 0 : b->item[c].updated;
    if (c == SIZE_MAX) return b->item[q].updated;
    return b->item[q].updated > b->item[c].updated ? b->item[q].updated : b->item[c].updated;
}

/* ---- inserting --------------------------------------------------------- */

/* A relation and confidence the store has names for. */
static int pair_check(const pair *p, dp_err *err)
{
    if ((unsigned)p->relation < RELATION_COUNT && (unsigned)p->confidence < CONFIDENCE_COUNT) return DP_OK;
    return dp_fail(err, "store: inserting pair %s -> %s: unknown relation %d or confidence %d",
                   p->query_key ? p->query_key : "(null)", p->cand_key ? p->cand_key : "(null)", (int)p->relation,
                   (int)p->confidence);
}

/* Binds text v to parameter i: len bytes of it when len is known (not 0). */
static void bind_text_len(sqlite3_stmt *s, int i, const char *v, size_t len)
{
    if (v && len && len <= INT_MAX) sqlite3_bind_text(s, i, v, (int)len, SQLITE_STATIC);
    else store_bind_text(s, i, v);
}

/* Binds p's reasoning, value detail and suggested comment to parameters
 * first, first + 1 and first + 2, with their lengths when p has them. */
static void bind_texts(sqlite3_stmt *s, int first, const pair *p)
{
    bind_text_len(s, first, p->reasoning, p->reasoning_len);
    bind_text_len(s, first + 1, p->value_detail, p->value_detail_len);
    bind_text_len(s, first + 2, p->suggested_comment, p->comment_len);
}

static int pairs_insert(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err)
{
    st->pairs_repo = 0;   /* what the item writes knew of the pairs is stale */
    store_pbulk *b = &st->pbulk;
    int mapped = b->open && b->repo == repo;
    if (mapped && pb_map_load(st, err) != DP_OK) return DP_ERR;
#define PAIR_INSERT                                                                                         \
    "INSERT INTO pairs(repo_id, query_key, cand_key, rank, score, prob, relation, confidence, value, known, " \
    "comment_on, canonical, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    sqlite3_stmt *s = mapped ? store_stmt(st, SQ_PAIR_ADD_BULK, PAIR_INSERT "?13)", err)
                             : store_stmt(st, SQ_PAIR_ADD,
                                          PAIR_INSERT "COALESCE((SELECT MAX(updated_at) FROM items "
                                                      "WHERE repo_id = ?1 AND key IN (?2, ?3)), 0))",
                                          err);
#undef PAIR_INSERT
    if (!s) return DP_ERR;
    sqlite3_stmt *t = store_stmt(st, SQ_PAIR_TEXT_ADD,
                                 "INSERT INTO pair_texts(id, reasoning, value_detail, suggested_comment) "
                                 "VALUES(?1, ?2, ?3, ?4)",
                                 err);
    if (!t) return DP_ERR;
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        const char *q = p->query_key ? p->query_key : "(null)", *c = p->cand_key ? p->cand_key : "(null)";
        if (pair_check(p, err) != DP_OK) return DP_ERR;
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, p->query_key);
        store_bind_text(s, 3, p->cand_key);
        sqlite3_bind_int(s, 4, p->rank);
        sqlite3_bind_double(s, 5, p->score);
        sqlite3_bind_double(s, 6, p->prob);
        store_bind_text(s, 7, relation_name(p->relation));
        store_bind_text(s, 8, confidence_name(p->confidence));
        sqlite3_bind_double(s, 9, p->value);
        sqlite3_bind_int(s, 10, p->known ? 1 : 0);
        store_bind_text(s, 11, p->comment_on);
        store_bind_text(s, 12, p->canonical);
        if (mapped) sqlite3_bind_int64(s, 13, pb_pair_updated(b, p));
        if (store_step_done(st, s, err, "inserting pair %s -> %s", q, c) != DP_OK) return DP_ERR;
        if (!p->reasoning && !p->value_detail && !p->suggested_comment) continue;
        sqlite3_bind_int64(t, 1, sqlite3_last_insert_rowid(st->db));
        bind_texts(t, 2, p);
        if (store_step_done(st, t, err, "inserting the texts of pair %s -> %s", q, c) != DP_OK) return DP_ERR;
    }
    /* the map stays good: these writes changed no item */
    if (mapped) b->changes = sqlite3_total_changes64(st->db);
    return DP_OK;
}

/* ---- merging (incremental replace) ------------------------------------ */

int store_pairs_merge_begin(store *st, int64_t *max_id, dp_err *err)
{
    if (store_exec(st,
                   "CREATE TEMP TABLE IF NOT EXISTS pairs_kept(id INTEGER PRIMARY KEY); "
                   "DELETE FROM temp.pairs_kept",
                   "noting kept pairs", err) != DP_OK)
        return DP_ERR;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT COALESCE(MAX(id), 0) FROM pairs", err);
    if (!s) return DP_ERR;
    int rc = sqlite3_step(s);
    *max_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    int ret = rc == SQLITE_ROW ? DP_OK : store_fail(st, err, "reading the largest pair id");
    store_done(s);
    return ret;
}

static int text_eq(sqlite3_stmt *s, int col, const char *v)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return (!t && !v) || (t && v && !strcmp(t, v));
}

/* The columns of a stored pair that a merge compares, a bit each, in the
 * order merge_find selects them (column i + 1) and pair_update binds them
 * (parameter ?i + 2). */
static const char *const merge_cols[] = {"rank", "score", "prob", "relation", "confidence", "value",
                                         "known", "comment_on", "canonical", "updated_at"};
enum { MERGE_NCOLS = 10, MERGE_TEXTS = 1 << MERGE_NCOLS };

/* The stored pair of p's (query, cand): *id (0: none), and *diff, the
 * columns (bit i: merge_cols[i]) and texts (MERGE_TEXTS) where it is not
 * p -- updated_at compared with what pairs_insert would compute, which
 * goes to *updated. */
static int merge_find(store *st, int64_t repo, const pair *p, int64_t *id, unsigned *diff, int64_t *updated,
                      dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(
        st,
        "SELECT x.id, x.rank, x.score, x.prob, x.relation, x.confidence, x.value, x.known, x.comment_on, "
        "x.canonical, x.updated_at, COALESCE((SELECT MAX(updated_at) FROM items "
        "WHERE repo_id = ?1 AND key IN (?2, ?3)), 0), t.reasoning, t.value_detail, t.suggested_comment "
        "FROM pairs x LEFT JOIN pair_texts t ON t.id = x.id "
        "WHERE x.repo_id = ?1 AND x.query_key = ?2 AND x.cand_key = ?3",
        err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, p->query_key);
    store_bind_text(s, 3, p->cand_key);
    int rc = sqlite3_step(s), ret = DP_OK;
    *id = 0;
    *diff = 0;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *updated = sqlite3_column_int64(s, 11);
        int eq[MERGE_NCOLS] = {
            sqlite3_column_int(s, 1) == p->rank,
            sqlite3_column_double(s, 2) == p->score,
            sqlite3_column_double(s, 3) == p->prob,
            text_eq(s, 4, relation_name(p->relation)),
            text_eq(s, 5, confidence_name(p->confidence)),
            sqlite3_column_double(s, 6) == p->value,
            sqlite3_column_int(s, 7) == (p->known ? 1 : 0),
            text_eq(s, 8, p->comment_on),
            text_eq(s, 9, p->canonical),
            sqlite3_column_int64(s, 10) == *updated,
        };
        for (int i = 0; i < MERGE_NCOLS; i++)
            if (!eq[i]) *diff |= 1u << i;
        if (!text_eq(s, 12, p->reasoning) || !text_eq(s, 13, p->value_detail) ||
            !text_eq(s, 14, p->suggested_comment))
            *diff |= MERGE_TEXTS;
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, err, "reading the stored pair %s -> %s", p->query_key, p->cand_key);
    }
    store_done(s);
    return ret;
}

/* Rewrites the columns of stored pair id that differ (diff, from
 * merge_find) in place. An UPDATE that names only them touches only the
 * indexes holding them: a pair whose value and probability moved (most of
 * those a 20-item run re-ranks: the new items shift the terms' weights,
 * and the value counts days since the items' last activity) rewrites four
 * index entries, where a delete and an insert rewrote ten indexes and its
 * texts (store phase 0.26-0.33 -> 0.14-0.18 s of such a run at 250k). */
static int pair_update(store *st, int64_t id, const pair *p, unsigned diff, int64_t updated, dp_err *err)
{
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof sql, "UPDATE pairs SET ");
    for (int i = 0, first = 1; i < MERGE_NCOLS; i++)
        if (diff & (1u << i)) {
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s = ?%d", first ? "" : ", ", merge_cols[i], i + 2);
            first = 0;
        }
    snprintf(sql + n, sizeof sql - n, " WHERE id = ?1");
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    /* bound only where named: a parameter past the statement's last is an error */
#define BIND(i, call) \
    if (diff & (1u << (i))) call
    BIND(0, sqlite3_bind_int(s, 2, p->rank));
    BIND(1, sqlite3_bind_double(s, 3, p->score));
    BIND(2, sqlite3_bind_double(s, 4, p->prob));
    BIND(3, store_bind_text(s, 5, relation_name(p->relation)));
    BIND(4, store_bind_text(s, 6, confidence_name(p->confidence)));
    BIND(5, sqlite3_bind_double(s, 7, p->value));
    BIND(6, sqlite3_bind_int(s, 8, p->known ? 1 : 0));
    BIND(7, store_bind_text(s, 9, p->comment_on));
    BIND(8, store_bind_text(s, 10, p->canonical));
    BIND(9, sqlite3_bind_int64(s, 11, updated));
#undef BIND
    return store_step_done(st, s, err, "updating pair %s -> %s", p->query_key, p->cand_key);
}

/* The texts of stored pair id become p's: a pair without texts has no row,
 * as pairs_insert leaves it. */
static int pair_texts_set(store *st, int64_t id, const pair *p, dp_err *err)
{
    int any = p->reasoning || p->value_detail || p->suggested_comment;
    sqlite3_stmt *s = any ? store_stmt_sql(st,
                                           "INSERT OR REPLACE INTO pair_texts(id, reasoning, value_detail, "
                                           "suggested_comment) VALUES(?1, ?2, ?3, ?4)",
                                           err)
                          : store_stmt_sql(st, "DELETE FROM pair_texts WHERE id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    if (any) {
        bind_texts(s, 2, p);
    }
    return store_step_done(st, s, err, "updating the texts of pair %s -> %s", p->query_key, p->cand_key);
}

static int merge_one(store *st, int64_t repo, const pair *p, dp_err *err)
{
    int64_t id, updated = 0;
    unsigned diff;
    if (pair_check(p, err) != DP_OK || merge_find(st, repo, p, &id, &diff, &updated, err) != DP_OK) return DP_ERR;
    if (!id) return pairs_insert(st, repo, p, 1, err);
    if ((diff & (MERGE_TEXTS - 1)) && pair_update(st, id, p, diff, updated, err) != DP_OK) return DP_ERR;
    if ((diff & MERGE_TEXTS) && pair_texts_set(st, id, p, err) != DP_OK) return DP_ERR;
    /* kept, changed or not: store_pairs_merge_end leaves it */
    sqlite3_stmt *s = store_stmt_sql(st, "INSERT OR IGNORE INTO temp.pairs_kept(id) VALUES(?1)", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    return store_step_done(st, s, err, "merging pair %s -> %s", p->query_key, p->cand_key);
}

/* ---- the sort indexes over every repository ------------------------- */

/* pairs_all_by_* order the pairs of every repository at once, for a page
 * of all of them. While one repository alone has pairs -- most stores --
 * that order is its pairs_by_*'s: a filter of any repository reads that
 * one's (fq_sole_repo), and the three indexes would only be written: at
 * 250k items a third of the pages a 20-new-items analysis wrote (1,992 of
 * 5,462), and three of the nine index builds of a full one. So they exist
 * only while more than one repository has pairs, made or dropped when a
 * write of pairs ends: by the write itself, or, in a transaction of pairs
 * or a bulk replace, by store_commit / store_pairs_bulk_end. */
static const char *const all_index[][2] = {   /* made, dropped */
    {"CREATE INDEX IF NOT EXISTS pairs_all_by_value ON pairs(value DESC, id)",
     "DROP INDEX IF EXISTS pairs_all_by_value"},
    {"CREATE INDEX IF NOT EXISTS pairs_all_by_prob ON pairs(prob DESC, id)", "DROP INDEX IF EXISTS pairs_all_by_prob"},
    {"CREATE INDEX IF NOT EXISTS pairs_all_by_updated ON pairs(updated_at DESC, id)",
     "DROP INDEX IF EXISTS pairs_all_by_updated"},
};
#define ALL_INDEXES (sizeof all_index / sizeof all_index[0])

/* Which repositories have pairs, from the counters: *n 0 (none), 1 (one:
 * *sole) or 2 (more). */
static int pairs_repos(store *st, int *n, int64_t *sole, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT MIN(repo_id), MAX(repo_id) FROM pair_counts", err);
    if (!s) return DP_ERR;
    int rc = sqlite3_step(s);
    *n = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *sole = sqlite3_column_int64(s, 0);
        *n = *sole == sqlite3_column_int64(s, 1) ? 1 : 2;
    }
    int ret = rc == SQLITE_ROW ? DP_OK : store_fail(st, err, "reading which repositories have pairs");
    store_done(s);
    return ret;
}

int store_pairs_all_sync(store *st, dp_err *err)
{
    int repos;
    int64_t sole, have = 0;
    if (pairs_repos(st, &repos, &sole, err) != DP_OK) return DP_ERR;
    if (store_value_int(st, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name GLOB 'pairs_all_by_*'",
                        0, &have) != 1)
        return store_fail(st, err, "reading which pair indexes a page of every repository has");
    int want = repos > 1;
    if (have == (want ? (int64_t)ALL_INDEXES : 0)) return DP_OK;
    for (size_t i = 0; i < ALL_INDEXES; i++)
        if (store_exec(st, all_index[i][want ? 0 : 1], "making or dropping a pair index of every repository",
                       err) != DP_OK)
            return DP_ERR;
    return DP_OK;
}

/* The end of a write of pairs on its own (not in a transaction of pairs
 * or a bulk replace, whose end syncs): the indexes above follow, in its
 * savepoint. */
static int pairs_write_end(store *st, int rc, dp_err *err)
{
    if (rc == DP_OK && !st->pairs_txn && !st->pbulk.open) rc = store_pairs_all_sync(st, err);
    return store_sp_end(st, rc, err);
}

int store_pairs_merge(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int rc = DP_OK;
    for (size_t i = 0; i < npairs && rc == DP_OK; i++) rc = merge_one(st, repo, &pairs[i], err);
    return pairs_write_end(st, rc, err);
}

int store_pairs_merge_end(store *st, int64_t repo, const char *const *queries, size_t nqueries, int64_t max_id,
                          dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "DELETE FROM pairs WHERE repo_id = ?1 AND query_key = ?2 AND id <= ?3 "
                                     "AND id NOT IN (SELECT id FROM temp.pairs_kept)",
                                     err);
    int rc = s ? DP_OK : DP_ERR;
    for (size_t i = 0; i < nqueries && rc == DP_OK; i++) {
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, queries[i]);
        sqlite3_bind_int64(s, 3, max_id);
        rc = store_step_done(st, s, err, "deleting old pairs of %s", queries[i]);
    }
    if (rc == DP_OK) rc = store_exec(st, "DELETE FROM temp.pairs_kept", "noting kept pairs", err);
    st->pairs_repo = 0;
    return pairs_write_end(st, rc, err);
}

int store_pairs_replace(store *st, int64_t repo, const char *const *queries, size_t nqueries,
                        const pair *pairs, size_t npairs, dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int rc = pairs_delete(st, repo, queries, nqueries, err);
    if (rc == DP_OK) rc = pairs_insert(st, repo, pairs, npairs, err);
    return pairs_write_end(st, rc, err);
}

int store_pairs_delete(store *st, int64_t repo, const char *const *queries, size_t nqueries, dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    return pairs_write_end(st, pairs_delete(st, repo, queries, nqueries, err), err);
}

int store_pairs_add(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    return pairs_write_end(st, pairs_insert(st, repo, pairs, npairs, err), err);
}

/* ---- bulk replace ---------------------------------------------------- */

/* Pairs the other repositories hold, from the counters pair_counts keeps. */
static int pairs_elsewhere(store *st, int64_t repo, size_t *n, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_ELSEWHERE,
                                 "SELECT COALESCE(SUM(n), 0) FROM pair_counts WHERE repo_id <> ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        store_fail(st, err, "counting the pairs of other repositories");
        store_done(s);
        return DP_ERR;
    }
    *n = (size_t)sqlite3_column_int64(s, 0);
    store_done(s);
    return DP_OK;
}

/* The old pairs go page by page (their texts are most of the file), and
 * Debian builds SQLite with secure_delete on: every page freed would be
 * read and written back as zeros, twice the I/O of the new pairs (at 725k
 * pairs, 1.5 GB of texts read and zeroed through the WAL). FAST zeroes
 * what sits in pages written anyway and leaves free pages as they are;
 * the pairs are derived data, rebuilt from the items. Returns the mode it
 * replaced, -1 when it could not tell. */
static int secure_delete_fast(store *st)
{
    int64_t was = -1;
    if (store_value_int(st, "PRAGMA secure_delete", 0, &was) != 1) return -1;
    if (was >= 0 && sqlite3_exec(st->db, "PRAGMA secure_delete = FAST", NULL, NULL, NULL) != SQLITE_OK) was = -1;
    return (int)was;
}

/* mode as PRAGMA secure_delete reads it: 0, 1, or 2 for FAST (the pragma
 * takes a number as a boolean, so "= 2" would turn it on, not FAST) */
static void secure_delete_set(store *st, int mode)
{
    char sql[48];
    if (mode == 2) snprintf(sql, sizeof sql, "PRAGMA secure_delete = FAST");
    else snprintf(sql, sizeof sql, "PRAGMA secure_delete = %d", mode);
    sqlite3_exec(st->db, sql, NULL, NULL, NULL);   /* a pragma on an open handle: cannot fail */
}

void store_secure_delete_end(store *st)
{
    if (st->secure_pending && st->db) secure_delete_set(st, st->secure_mode);
    st->secure_pending = 0;
}

void store_pairs_bulk_forget(store *st)
{
    if (st->pbulk.open && st->pbulk.secure_delete >= 0) secure_delete_set(st, st->pbulk.secure_delete);
    sv_free(&st->pbulk.sql);
    pb_map_free(&st->pbulk);
    st->pbulk.open = 0;
    st->pbulk.repo = 0;
}

int store_pairs_bulk_begin(store *st, int64_t repo, size_t expected, int *dropped, dp_err *err)
{
    *dropped = 0;
    if (sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: a bulk pair replace must run inside a transaction");
    if (st->pbulk.open) return dp_fail(err, "store: a bulk pair replace is already open");
    size_t others = 0;
    if (pairs_elsewhere(st, repo, &others, err) != DP_OK) return DP_ERR;
    if (others > expected) return DP_OK;
    /* the schema is the one list of what to rebuild; the UNIQUE constraint's
     * own index (sql IS NULL) stays: the inserts need it. The triggers go
     * too: pair_counts is counted once at the end, and the texts are
     * deleted by pairs_delete, the whole table at once when it can. */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                           "AND tbl_name = 'pairs' AND sql IS NOT NULL ORDER BY type, name",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading the pair indexes and triggers");
    strvec drops = {0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("DROP %s \"%w\"", (const char *)sqlite3_column_text(s, 0),
                                    (const char *)sqlite3_column_text(s, 1));
        sv_push(&drops, sql);
        sqlite3_free(sql);
        sv_push(&st->pbulk.sql, (const char *)sqlite3_column_text(s, 2));
    }
    int ok = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the pair indexes and triggers");
    sqlite3_finalize(s);
    for (size_t i = 0; ok == DP_OK && i < drops.n; i++)
        ok = store_exec(st, drops.v[i], "dropping a pair index or trigger for a bulk replace", err);
    sv_free(&drops);
    if (ok != DP_OK) {
        sv_free(&st->pbulk.sql);
        return DP_ERR;
    }
    st->pbulk.open = 1;
    st->pbulk.repo = repo;
    st->pbulk.secure_delete = secure_delete_fast(st);
    *dropped = 1;
    return DP_OK;
}

int store_pairs_bulk_end(store *st, dp_err *err)
{
    if (!st->pbulk.open) return DP_OK;
    /* The one writer builds the indexes alone at the end of an analysis,
     * by sorted runs (store_exec_sorted). Indexes first (ORDER BY type):
     * the count below reads pairs_filter. */
    int rc = store_exec_sorted(st, st->pbulk.sql.v, st->pbulk.sql.n,
                               "rebuilding a pair index or trigger after a bulk replace", err);
    /* what the dropped triggers would have counted, row by row */
    if (rc == DP_OK)
        rc = store_exec(st,
                        "DELETE FROM pair_counts;"
                        "INSERT INTO pair_counts(repo_id, relation, confidence, known, n)"
                        "  SELECT repo_id, relation, confidence, known, COUNT(*) FROM pairs"
                        "  GROUP BY repo_id, relation, confidence, known",
                        "counting the pairs after a bulk replace", err);
    /* FAST stays until the transaction ends: what is written after the
     * pairs is derived data too (the index snapshot, some 150 MB at 250k
     * items, replaces the old one: its pages were zeroed, written through
     * the WAL and checkpointed) */
    if (st->pbulk.secure_delete >= 0) {
        st->secure_pending = 1;
        st->secure_mode = st->pbulk.secure_delete;
        st->pbulk.secure_delete = -1;
    }
    store_pairs_bulk_forget(st);
    if (rc == DP_OK && !st->pairs_txn) rc = store_pairs_all_sync(st, err);
    return rc;
}

/* ---- the filter ------------------------------------------------------ */

/* A compiled filter: SQL fragments plus the values to bind, in order.
 * The reviewed condition is kept apart because the counts get it from the
 * verdicts side instead (see pairs_count). */
typedef struct fbind {
    int is_int;
    int64_t i;
    const char *s;     /* borrowed from the filter, or owned in fq.owned */
} fbind;

typedef struct fquery {
    int64_t repo_id;   /* 0 = any; always bound first */
    int sole;          /* repo_id is the one repository with pairs, for a
                          filter of any or of that one (fq_sole_repo) */
    sbuf where;        /* " AND ..." conditions, repo and reviewed excluded */
    sbuf pwhere;       /* the same for statements that stop early (see fq_add) */
    int count_how;     /* how the count of all matches reads: Q_TOTALS, Q_MEMORY, or Q_SET
                          (a text: the size of its order) */
    int classes;       /* a filter of relation, confidence and known only (Q_TOTALS) */
    sbuf kset;         /* ... its pairs, as SET_COLS rows from pairs_filter (see kset_build) */
    const pair_filter *f;   /* borrowed: the filter compiled */
    int reviewed;      /* -1, 0, 1 as in pair_filter */
    const char *key;   /* sort key expression, sorted descending */
    fbind b[20];       /* values of `where`, in order (16 at most: a text of 3 characters or
                          more starting with '#', both states, a relation, a confidence, a label) */
    int nb;
    strvec owned;      /* LIKE patterns and texts copied here */
} fquery;

/* How a statement reads the pairs:
 *  Q_PAGE    walks a sort index -- (repo, key DESC, id) for one repository,
 *            (key DESC, id) for all -- and stops at the page's end;
 *            verdicts are LEFT JOINed (their columns are loaded).
 *  Q_REVIEWED walks the verdicts table (far smaller than pairs) and probes
 *            the pairs by key: the pairs with a verdict. A Q_PAGE of
 *            reviewed pairs reads them this way too.
 * Every statement is cached per handle by its SQL text (store_stmt_sql). */
/*  Q_TOTALS  sums the per-repository counters of pair_counts (kept by
 *            triggers; see store_schema.c): a filter of relation,
 *            confidence and known only, the page's usual question.
 *  Q_SET     a page or a neighbour cut from the filter's order: every
 *            pair that passes, sorted, made in memory from the table of
 *            store_pcount.c (order_get) -- a text's (its items read from
 *            the trigram index, or from every title for a text of one or
 *            two characters) or a rare label's -- or read in one
 *            statement from pairs_filter, a rare class's (kset_build; see
 *            page_how); only the page's own rows are read. A walk of a
 *            sort index reads the wide row of every pair it passes to test
 *            it: thousands for a text, nearly all for a class whose pairs
 *            sort last. A text's count is the size of its order (the
 *            first request of a text in a tenth of 725k pairs' titles took
 *            0.4-0.6 s as a set of pairs read from the key indexes, sorted
 *            in SQL, and ~1 s for a fifth; a text of one or two
 *            characters, counted in pairs_filter and walked, ~1 s).
 * Q_PAGE, Q_TOTALS and Q_REVIEWED read `where` (pwhere for Q_PAGE). */
/*  Q_MEMORY  counts states and labels without a text in memory
 *            (store_pcount.c): one pass over small arrays, where SQL
 *            would test every pair of the class against the items. */
enum { Q_PAGE, Q_REVIEWED, Q_TOTALS, Q_SET, Q_MEMORY };

/* Up to this many pairs of a label or class filter are sorted in memory
 * rather than found by walking a sort index (see page_how): a walk finds
 * a page of a large class after a few rows, where its order sorts them
 * all. */
size_t store_pairs_kset_max = 100000;

/* The columns of a class's rows read for its order: those a filter tests
 * and the sort keys, all in pairs_filter (schema version 10). */
#define SET_COLS "x.id, x.repo_id, x.query_key, x.cand_key, x.relation, x.confidence, x.known, " \
                 "x.value, x.prob, x.updated_at"

static void fq_str(fquery *q, const char *v) { q->b[q->nb++] = (fbind){0, 0, v}; }

static void fq_free(fquery *q)
{
    sb_free(&q->where);
    sb_free(&q->pwhere);
    sb_free(&q->kset);
    sv_free(&q->owned);
}

/* "%text%" with LIKE's wildcards escaped by '\'. */
static char *like_pattern(const char *text)
{
    sbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '%');
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') sb_addc(&sb, '\\');
        sb_addc(&sb, *p);
    }
    sb_addc(&sb, '%');
    return sb_take(&sb);
}

/* Conditions on the items' own columns are written as "(repo, key) IN
 * (a subquery over items)": SQLite runs the subquery once per statement
 * into a temporary index, so each pair costs a probe of that index instead
 * of a lookup in items and a string comparison. */
/* The unary + keeps SQLite from driving the scan through a pairs index on
 * these columns (a random row fetch per pair); the set is probed instead. */
#define QITEM "(+p.repo_id, +p.query_key) IN "
#define CITEM "(+p.repo_id, +p.cand_key) IN "
#define TITLE_LIKE "(SELECT repo_id, key FROM items WHERE title LIKE ? ESCAPE '\\')"
/* The items' keys by id from items_keys_by_id, not from their wide rows. */
#define WITH_LABEL "(SELECT i.repo_id, i.key FROM item_labels l CROSS JOIN items i INDEXED BY items_keys_by_id" \
                   " ON i.id = l.item_id WHERE l.name = ?)"

/* Appends one condition. `early` is its form for pages and neighbours,
 * which stop after a few matches: there a per-pair probe of the items key
 * beats building a set of every item in that state (half the items, for
 * each statement). Counts read every pair, so they build the set once. */
static void fq_add(fquery *q, const char *all, const char *early)
{
    sb_adds(&q->where, all);
    sb_adds(&q->pwhere, early ? early : all);
}

#define QPROBE " AND EXISTS (SELECT 1 FROM items i WHERE i.repo_id = p.repo_id AND i.key = p.query_key AND i.state = ?)"
#define CPROBE " AND EXISTS (SELECT 1 FROM items i WHERE i.repo_id = p.repo_id AND i.key = p.cand_key AND i.state = ?)"
/* A label probed per pair: the item's id by key, then (id, label). */
#define LPROBE(side) "EXISTS (SELECT 1 FROM items i CROSS JOIN item_labels l ON l.item_id = i.id" \
                     " WHERE i.repo_id = p.repo_id AND i.key = p." side " AND l.name = ?)"
/* A label on either side: as a set of its items (counts), probed per pair
 * (pages, which stop early). */
#define LABEL_ALL " AND (" QITEM WITH_LABEL " OR " CITEM WITH_LABEL ")"
#define LABEL_EARLY " AND (" LPROBE("query_key") " OR " LPROBE("cand_key") ")"

/* Characters (not bytes) of a UTF-8 string. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The items whose key or title holds the text: from the index, except the
 * items written since it was last brought up to date, which are read. The
 * index has no positions (detail=none): it gives the items holding every
 * trigram of the text, and dp_fts_has keeps those holding them in a row,
 * as a phrase query did (see store_fts_functions). Binds: the text twice,
 * then its LIKE pattern twice. TITLE_FTS gives their (repo, key) (the
 * reviewed pairs' count and page, which test each pair). A text's order
 * (order_get) reads the index's candidates alone (TEXT_CANDS, bound the
 * text) and tests them on the titles the order's table holds: the test
 * here reads each candidate's row of the index's content, 30-60 ms for a
 * word in a tenth of 250k titles where the candidates take 2-6 ms; and
 * the items written since (TEXT_TODO, bound the pattern twice). */
#define TEXT_CANDS "SELECT rowid FROM items_fts WHERE items_fts MATCH dp_fts_query(?)" \
                   " AND rowid NOT IN (SELECT id FROM items_fts_todo)"
#define FTS_IDS TEXT_CANDS " AND dp_fts_has(key, title, ?)"
#define TODO_LIKE "FROM items WHERE id IN (SELECT id FROM items_fts_todo) " \
                  "   AND (title LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\')"
#define TEXT_TODO "SELECT id " TODO_LIKE
/* INDEXED BY: the planner would read the items rows by rowid (see
 * items_keys_by_id in store_schema.c). */
#define TITLE_FTS "(SELECT i.repo_id, i.key FROM items i INDEXED BY items_keys_by_id WHERE i.id IN (" FTS_IDS ") " \
                  "UNION ALL SELECT repo_id, key " TODO_LIKE ")"
/* The pairs with key ?1 on either side, in any repository (a text "#N"):
 * keys are indexed per repository, one seek in each. */
#define KEYED_PAIRS "SELECT x.id FROM repositories r CROSS JOIN pairs x INDEXED BY pairs_by_query" \
                    " ON x.repo_id = r.id AND x.query_key = ?1" \
                    " UNION SELECT x.id FROM repositories r CROSS JOIN pairs x INDEXED BY pairs_by_cand" \
                    " ON x.repo_id = r.id AND x.cand_key = ?1 ORDER BY 1"
/* The ids of the pairs with a verdict, ascending. */
#define REVIEWED_PAIRS "SELECT p.id FROM verdicts v CROSS JOIN pairs p ON p.repo_id = v.repo_id" \
                       " AND p.query_key = v.query_key AND p.cand_key = v.cand_key ORDER BY 1"

/* A text of 3 characters or more is read through the trigram index. */
static int text_indexed(const char *text) { return utf8_chars(text) >= 3; }

static void fq_text(fquery *q, const char *text)
{
    /* A substring of either title or key, case-insensitive. "#123" also
     * finds key 123, as users write GitHub numbers that way. From 3
     * characters on the trigram index answers; below, LIKE reads every
     * title (it is case-insensitive for ASCII letters). */
    if (text_indexed(text)) {
        /* the text as given, for dp_fts_query and dp_fts_has */
        char *tx = xstrdup(text), *pat = like_pattern(text);
        sv_push_owned(&q->owned, tx);
        sv_push_owned(&q->owned, pat);
        fq_add(q, " AND (" QITEM TITLE_FTS " OR " CITEM TITLE_FTS, NULL);
        for (int i = 0; i < 2; i++) {
            fq_str(q, tx);
            fq_str(q, tx);
            fq_str(q, pat);
            fq_str(q, pat);
        }
    } else {
        char *pat = like_pattern(text);
        sv_push_owned(&q->owned, pat);
        fq_add(q, " AND (" QITEM TITLE_LIKE " OR " CITEM TITLE_LIKE
                  " OR p.query_key LIKE ? ESCAPE '\\' OR p.cand_key LIKE ? ESCAPE '\\'", NULL);
        for (int i = 0; i < 4; i++) fq_str(q, pat);
    }
    if (text[0] == '#' && text[1]) {
        fq_add(q, " OR p.query_key = ? OR p.cand_key = ?", NULL);
        fq_str(q, text + 1);
        fq_str(q, text + 1);
    }
    fq_add(q, ")", NULL);
}

/* A class's order needs no items: its pairs are read from pairs_filter in
 * one statement, one seek per (repository, relation, confidence, known) --
 * a column the filter leaves open takes the values the counters hold --
 * instead of building the table of store_pcount (1.5 s at 725k pairs for a
 * process that has none, e.g. `doppel pairs`). The values are names of this
 * program's enums, written into the SQL: a bound value here would come
 * before ?1's neighbours in the statement (see class_order_sql). */
static void kset_build(fquery *q, const pair_filter *f)
{
    sb_adds(&q->kset, "SELECT " SET_COLS " FROM pairs x INDEXED BY pairs_filter"
                      " WHERE x.repo_id IN (SELECT id FROM repositories WHERE ?1 IN (0, id))");
    if (f->relation >= 0) sb_printf(&q->kset, " AND x.relation = '%s'", relation_name((relation_kind)f->relation));
    else sb_adds(&q->kset, " AND x.relation IN (SELECT relation FROM pair_counts)");
    if (f->confidence >= 0)
        sb_printf(&q->kset, " AND x.confidence = '%s'", confidence_name((confidence_level)f->confidence));
    else sb_adds(&q->kset, " AND x.confidence IN (SELECT confidence FROM pair_counts)");
    sb_adds(&q->kset, f->include_known ? " AND x.known IN (SELECT known FROM pair_counts)" : " AND x.known = 0");
}

static int fq_build(const pair_filter *f, fquery *q, dp_err *err)
{
    memset(q, 0, sizeof *q);
    sb_init(&q->where);
    sb_init(&q->pwhere);
    sb_init(&q->kset);
    q->reviewed = f->reviewed;
    int text = f->text && *f->text, label = f->label && *f->label;
    q->f = f;
    q->count_how = text                                      ? Q_SET
                   : label || f->query_state || f->cand_state ? Q_MEMORY
                                                             : Q_TOTALS;
    q->classes = q->count_how == Q_TOTALS && (f->relation >= 0 || f->confidence >= 0 || !f->include_known);
    q->repo_id = f->repo_id;
    const char *sort = f->sort && *f->sort ? f->sort : "value";
    if (text) fq_text(q, f->text);
    if (strcmp(sort, "value") == 0) q->key = "p.value";
    else if (strcmp(sort, "prob") == 0) q->key = "p.prob";
    else if (strcmp(sort, "updated") == 0) q->key = "p.updated_at";
    else return dp_fail(err, "store: unknown pair sort '%s' (use value, prob or updated)", sort);
    if (f->relation >= 0) {
        if (f->relation >= RELATION_COUNT) return dp_fail(err, "store: unknown relation %d in pair filter", f->relation);
        fq_add(q, " AND p.relation = ?", NULL);
        fq_str(q, relation_name((relation_kind)f->relation));
    }
    if (f->confidence >= 0) {
        if (f->confidence >= CONFIDENCE_COUNT)
            return dp_fail(err, "store: unknown confidence %d in pair filter", f->confidence);
        fq_add(q, " AND p.confidence = ?", NULL);
        fq_str(q, confidence_name((confidence_level)f->confidence));
    }
    if (f->query_state) {
        fq_add(q, " AND " QITEM "(SELECT repo_id, key FROM items WHERE state = ?)", QPROBE);
        fq_str(q, f->query_state);
    }
    if (f->cand_state) {
        fq_add(q, " AND " CITEM "(SELECT repo_id, key FROM items WHERE state = ?)", CPROBE);
        fq_str(q, f->cand_state);
    }
    if (label) {
        /* probed per pair by a walk (pwhere), which finds a page of a
         * common label after a few pairs; a rare label's pages are cut
         * from its order (page_how) */
        fq_add(q, LABEL_ALL, LABEL_EARLY);
        fq_str(q, f->label);
        fq_str(q, f->label);
    }
    if (!f->include_known) fq_add(q, " AND p.known = 0", NULL);
    if (q->classes) kset_build(q, f);
    return DP_OK;
}

/* A filter of any repository reads, while one repository alone has
 * pairs, as a filter of that one: the same pairs, walked in its sort
 * indexes (those of every repository exist only for more than one:
 * store_pairs_all_sync). Such a filter, or one naming that repository,
 * is marked sole: the walk to an offset then needs no repository bound
 * (offset_scan_tail). */
static int fq_sole_repo(store *st, fquery *q, dp_err *err)
{
    int repos;
    int64_t sole;
    if (pairs_repos(st, &repos, &sole, err) != DP_OK) return DP_ERR;
    if (repos == 1 && (!q->repo_id || q->repo_id == sole)) {
        q->repo_id = sole;
        q->sole = 1;
    }
    return DP_OK;
}

/* What follows a statement's conditions: more conditions (" AND ..."),
 * the order (without ORDER BY; "" none) and the LIMIT clause. */
typedef struct ftail {
    char cond[128];
    char order[96];
    const char *lim;
    int scan;   /* a long walk of a sole repository's pairs (offset_scan_tail) */
} ftail;

/* Writes "<head> FROM ... WHERE <filter> <tail>" read the way `how` says
 * (Q_PAGE adds the reviewed condition); never Q_SET or Q_MEMORY, which
 * are read in memory. */
static void fq_sql(const fquery *q, const char *head, int how, const ftail *t, sbuf *sql)
{
    sb_adds(sql, head);
    /* Reviewed pairs only: start from the verdicts, which are few, and sort
     * those, rather than walk every pair in order looking for them. */
    if (how == Q_REVIEWED || (how == Q_PAGE && q->reviewed == 1))
        /* CROSS JOIN pins the order: scan verdicts, probe the pairs index. */
        sb_adds(sql, " FROM verdicts v CROSS JOIN pairs p ON p.repo_id = v.repo_id"
                     " AND p.query_key = v.query_key AND p.cand_key = v.cand_key");
    else if (how == Q_PAGE)
        sb_adds(sql, " FROM pairs p" VERDICT_JOIN);
    else   /* Q_TOTALS */
        sb_adds(sql, " FROM pair_counts p");
    /* Any repo: a constant condition that keeps ?1 numbered; the planner
     * then takes the sort indexes without the repo prefix. */
    if (t && t->scan && q->sole) sb_adds(sql, " WHERE ?1 <> 0");   /* every pair is the repository's */
    else sb_adds(sql, q->repo_id ? " WHERE p.repo_id = ?1" : " WHERE ?1 = 0");
    sb_adds(sql, sb_str(how == Q_PAGE ? &q->pwhere : &q->where));
    if (how == Q_PAGE && q->reviewed == 0) sb_adds(sql, " AND v.verdict IS NULL");
    if (how == Q_PAGE && q->reviewed == 1) sb_adds(sql, " AND v.verdict IS NOT NULL");
    if (!t) return;
    sb_printf(sql, " %s", t->cond);
    if (t->order[0]) sb_printf(sql, " ORDER BY %s", t->order);
    if (t->lim) sb_printf(sql, " %s", t->lim);
}

/* Binds the filter's values; returns the index of the first parameter
 * left for the caller. */
static int fq_bind(const fquery *q, sqlite3_stmt *s)
{
    sqlite3_bind_int64(s, 1, q->repo_id);
    for (int i = 0; i < q->nb; i++) {
        if (q->b[i].is_int) sqlite3_bind_int64(s, i + 2, q->b[i].i);
        else store_bind_text(s, i + 2, q->b[i].s);
    }
    return q->nb + 2;
}

/* The cached statement for fq_sql(...), filter values bound; *next gets the
 * index of the first parameter left for the caller. store_done() it. */
static sqlite3_stmt *fq_prepare(store *st, const fquery *q, const char *head, int how, const ftail *t,
                                int *next, dp_err *err)
{
    sbuf sql;
    sb_init(&sql);
    fq_sql(q, head, how, t, &sql);
    sqlite3_stmt *s = store_stmt_sql(st, sb_str(&sql), err);
    sb_free(&sql);
    if (!s) return NULL;
    int np = fq_bind(q, s);
    if (next) *next = np;
    return s;
}

/* ---- counting -------------------------------------------------------- */

/* The head of a count statement read the way `how` says. */
static const char *count_head(int how)
{
    return how == Q_TOTALS ? "SELECT COALESCE(SUM(p.n), 0)" : "SELECT COUNT(*)";
}

/* The count of the filter, reviewed condition ignored; how is
 * Q_REVIEWED or one of the ways of counting all (q->count_how). */
static int count_from(store *st, const fquery *q, int how, size_t *n, dp_err *err)
{
    sqlite3_stmt *s = fq_prepare(st, q, count_head(how), how, NULL, NULL, err);
    if (!s) return DP_ERR;
    int ret = DP_OK;
    if (sqlite3_step(s) == SQLITE_ROW) *n = (size_t)sqlite3_column_int64(s, 0);
    else ret = store_fail(st, err, "counting pairs");
    store_done(s);
    return ret;
}

/* A stamp that changes whenever the database may have changed: PRAGMA
 * data_version moves on commits by other connections (and processes),
 * total_changes on this connection's own writes. Read it *before* counting:
 * a commit racing the count then only makes the cached entry stale early. */
static int data_stamp(store *st, int64_t *stamp, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_DATA_VERSION, "PRAGMA data_version", err);
    if (!s) return DP_ERR;
    int rc = sqlite3_step(s);
    int64_t dv = sqlite3_column_int64(s, 0);
    store_done(s);
    if (rc != SQLITE_ROW) return store_fail(st, err, "reading data version");
    *stamp = (int64_t)((uint64_t)dv << 40 ^ (uint64_t)sqlite3_total_changes64(st->db));
    return DP_OK;
}

/* The cache key of a count: the filter's SQL and every bound value. */
static char *count_key(const fquery *q)
{
    sbuf k;
    sb_init(&k);
    sb_printf(&k, "%lld|%d|%s", (long long)q->repo_id, q->reviewed, sb_str(&q->where));
    for (int i = 0; i < q->nb; i++) {
        if (q->b[i].is_int) sb_printf(&k, "\x1f%lld", (long long)q->b[i].i);
        else sb_printf(&k, "\x1f%zu:%s", strlen(q->b[i].s), q->b[i].s);
    }
    return sb_take(&k);
}

static void order_free(store_order *o)
{
    free(o->s.key);
    free(o->k);
    free(o->id);
    memset(o, 0, sizeof *o);
}

void store_pairs_cache_free(store *st)
{
    for (int i = 0; i < STORE_COUNT_SLOTS; i++) free(st->counts[i].s.key);
    memset(st->counts, 0, sizeof st->counts);
    for (int i = 0; i < STORE_ORDER_SLOTS; i++) order_free(&st->orders[i]);
    store_pcount_free(st);
}

static int order_get(store *st, const fquery *q, const store_order **out, dp_err *err);

/* The entry of a cache (n entries, `size` bytes apart, each starting with
 * a store_slot) that holds key, else a free or the least recently used
 * one; *fresh 1 when it holds key as of stamp. */
static void *slot_pick(void *entries, int n, size_t size, const char *key, int64_t stamp, int *fresh)
{
    store_slot *slot = entries;
    for (int i = 0; i < n; i++) {
        store_slot *e = (store_slot *)((char *)entries + (size_t)i * size);
        if (e->key && !strcmp(e->key, key)) {
            slot = e;
            break;
        }
        if (!e->key || (slot->key && e->used < slot->used)) slot = e;
    }
    *fresh = slot->key && !strcmp(slot->key, key) && slot->version == stamp;
    return slot;
}

/* Counting through a LEFT JOIN on verdicts would probe the verdicts key for
 * every pair; instead count all matches from the pairs side and the
 * reviewed ones from the verdicts side, and derive the rest. */
static int count_fresh(store *st, const fquery *q, int64_t stamp, size_t *total, size_t *reviewed,
                       dp_err *err)
{
    size_t all = 0, rev = 0;
    if (count_from(st, q, Q_REVIEWED, &rev, err) != DP_OK) return DP_ERR;
    if (q->reviewed != 1 && q->count_how == Q_SET) {
        /* A text's order is made once for its count and its pages. */
        const store_order *o;
        if (order_get(st, q, &o, err) != DP_OK) return DP_ERR;
        all = o->n + (q->reviewed == 0 ? rev : 0);
    } else if (q->reviewed != 1 && q->count_how == Q_MEMORY) {
        if (store_pcount_count(st, q->f, stamp, &all, err) != DP_OK) return DP_ERR;
    } else if (q->reviewed != 1 && count_from(st, q, q->count_how, &all, err) != DP_OK) {
        return DP_ERR;
    }
    if (q->reviewed == 1) all = rev;
    if (q->reviewed == 0) {
        all -= rev;
        rev = 0;
    }
    *total = all;
    *reviewed = rev;
    return DP_OK;
}

/* Counts read every matching pair, while a page reads `limit` of them; the
 * review page asks the same counts on every page turn and the data rarely
 * changes between two, so the last few counts are kept per handle. */
static int pairs_count(store *st, const fquery *q, size_t *total, size_t *reviewed, dp_err *err)
{
    int64_t stamp = 0;
    if (data_stamp(st, &stamp, err) != DP_OK) return DP_ERR;
    char *key = count_key(q);
    int fresh, ret = DP_OK;
    store_count *slot = slot_pick(st->counts, STORE_COUNT_SLOTS, sizeof *slot, key, stamp, &fresh);
    if (!fresh) {
        size_t all, rev;
        ret = count_fresh(st, q, stamp, &all, &rev, err);
        free(slot->s.key);
        slot->s.key = NULL;
        if (ret == DP_OK) {
            *slot = (store_count){{key, stamp, 0}, all, rev};
            key = NULL;
        }
    }
    free(key);
    if (ret != DP_OK) return ret;
    slot->s.used = ++st->clock;
    if (total) *total = slot->total;
    if (reviewed) *reviewed = slot->reviewed;
    return DP_OK;
}

/* The order is key DESC, id ASC. The pair after (dir > 0) a position
 * (key, id) is the first with the same key and a larger id, else the first
 * with a smaller key; before (dir < 0) is the mirror image, read backwards.
 * Written as two seeks -- "key = ? AND id > ?" and "key < ?" -- each is an
 * index range from the position on; one "key < ? OR (key = ? AND id > ?)"
 * would defeat the range and scan, then sort, every pair of the filter.
 * Parameters: the key, then (same key only) the id, then the limit.
 * Keyset pages (pairs_page) are the same seeks with a larger limit. */
static void step_tail(const fquery *q, int dir, int same, ftail *t)
{
    if (same) {
        snprintf(t->cond, sizeof t->cond, "AND %s = ? AND p.id %s ?", q->key, dir > 0 ? ">" : "<");
        snprintf(t->order, sizeof t->order, "p.id %s", dir > 0 ? "ASC" : "DESC");
    } else {
        snprintf(t->cond, sizeof t->cond, "AND %s %s ?", q->key, dir > 0 ? "<" : ">");
        snprintf(t->order, sizeof t->order, "%s %s, p.id %s", q->key, dir > 0 ? "DESC" : "ASC",
                 dir > 0 ? "ASC" : "DESC");
    }
    t->lim = "LIMIT ?";
    t->scan = 0;
}

/* The tail of a page by offset. */
static void offset_tail(const fquery *q, ftail *t)
{
    t->cond[0] = 0;
    snprintf(t->order, sizeof t->order, "%s DESC, p.id", q->key);
    t->lim = "LIMIT ? OFFSET ?";
    t->scan = 0;
}

/* offset_tail for the walk to a page's position (pair_at), which passes
 * every pair before it -- or, back, every pair after it: the order
 * reversed (key ASC, id DESC), the sort index read from its end. A sole
 * repository's (fq_sole_repo) is ordered by the repository first -- the
 * same order, every pair having it -- so that its sort index is scanned
 * with no bound tested at each pair passed, as the index of every
 * repository was (580,290 pairs: 24 -> 16 ms). */
static void offset_scan_tail(const fquery *q, int back, ftail *t)
{
    offset_tail(q, t);
    if (back) snprintf(t->order, sizeof t->order, "%s ASC, p.id DESC", q->key);
    if (!q->sole) return;
    snprintf(t->order, sizeof t->order, back ? "p.repo_id DESC, %s ASC, p.id DESC" : "p.repo_id, %s DESC, p.id",
             q->key);
    t->scan = 1;
}

/* How a page or a neighbour reads the pairs: Q_SET from a text's pairs,
 * or from a label's or a class's when it holds at most store_pairs_kset_max
 * (store_pcount or the counters say how many); else Q_PAGE, a walk of the sort index, which finds the page of a
 * large class after a few rows. Reviewed pairs are read from the
 * verdicts (Q_PAGE). */
static int page_how(store *st, const fquery *q, int *how, dp_err *err)
{
    *how = Q_PAGE;
    if (q->reviewed == 1) return DP_OK;
    if (q->count_how == Q_SET) {
        *how = Q_SET;
    } else if (q->f->label && *q->f->label) {
        /* a label's set: its size is the count of the label alone */
        pair_filter lf;
        pair_filter_init(&lf);
        lf.repo_id = q->repo_id;
        lf.label = q->f->label;
        int64_t stamp;
        size_t n = 0;
        if (data_stamp(st, &stamp, err) != DP_OK || store_pcount_count(st, &lf, stamp, &n, err) != DP_OK)
            return DP_ERR;
        if (n <= store_pairs_kset_max) *how = Q_SET;
    } else if (q->classes) {
        size_t n = 0;
        if (count_from(st, q, Q_TOTALS, &n, err) != DP_OK) return DP_ERR;
        if (n <= store_pairs_kset_max) *how = Q_SET;
    }
    return DP_OK;
}

/* ---- cursors --------------------------------------------------------- */

/* A cursor is "<sort letter><key>_<id>": the key printed so that it reads
 * back to the same double (%.17g; updated_at is an integer and prints as
 * one), e.g. "v2.2890000000000001_19740". The letter keeps a cursor of one
 * order from being used in another. */
static char sort_letter(const char *sort)
{
    return !sort || !*sort || !strcmp(sort, "value") ? 'v' : !strcmp(sort, "prob") ? 'p'
           : !strcmp(sort, "updated")                ? 'u' : 0;
}

void store_pair_cursor(const char *sort, const pair *p, char buf[STORE_CURSOR_MAX])
{
    char c = sort_letter(sort);
    if (c == 'u') snprintf(buf, STORE_CURSOR_MAX, "u%lld_%lld", (long long)p->updated_at, (long long)p->id);
    else snprintf(buf, STORE_CURSOR_MAX, "%c%.17g_%lld", c ? c : 'v', c == 'p' ? p->prob : p->value, (long long)p->id);
}

/* Parses a cursor of sort order `sort`; 0 when it is not one. */
static int cursor_parse(const char *sort, const char *after, double *key, int64_t *id)
{
    char c = sort_letter(sort);
    if (!c || !after || after[0] != c || strlen(after) >= STORE_CURSOR_MAX) return 0;
    const char *sep = strchr(after + 1, '_');
    if (!sep || sep == after + 1 || !sep[1]) return 0;
    char num[STORE_CURSOR_MAX], *end;
    memcpy(num, after + 1, (size_t)(sep - after - 1));
    num[sep - after - 1] = 0;
    errno = 0;
    if (c == 'u') *key = (double)strtoll(num, &end, 10);
    else *key = strtod(num, &end);
    if (*end || errno || !isfinite(*key) || (!isdigit((unsigned char)num[0]) && num[0] != '-')) return 0;
    long long v = strtoll(sep + 1, &end, 10);
    if (*end || errno || v <= 0 || !isdigit((unsigned char)sep[1])) return 0;
    *id = v;
    return 1;
}

int store_pair_cursor_ok(const char *sort, const char *after)
{
    double k;
    int64_t id;
    return cursor_parse(sort, after, &k, &id);
}

/* ---- set orders ------------------------------------------------------ */

/* A growing list of ids. */
typedef struct idvec {
    int64_t *v;
    size_t n, cap;
} idvec;

/* Appends column 0 of every row of s (bound, cached) to out; store_done()s
 * s. */
static int ids_read(store *st, sqlite3_stmt *s, idvec *out, const char *what, dp_err *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 256;
            out->v = xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = sqlite3_column_int64(s, 0);
    }
    store_done(s);
    return rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "%s", what);
}

/* What an order asks beyond the table's columns (store_pcount_order): a
 * text's items written since the trigram index was brought up to date
 * (TEXT_TODO, tested here) and the index's candidates (TEXT_CANDS, tested
 * by store_pcount_order), and for "#N" the pairs keyed N; an unreviewed
 * filter's pairs with a verdict, to leave out. x borrows the four lists,
 * which the caller frees. */
static int order_extra(store *st, const fquery *q, pcount_extra *x, idvec *lists, dp_err *err)
{
    memset(x, 0, sizeof *x);
    int rc = DP_OK;
    if (q->count_how == Q_SET && !text_indexed(q->f->text)) {
        x->text = q->f->text;   /* too short for the trigram index: every title is tested */
        x->scan = 1;
    } else if (q->count_how == Q_SET) {
        const char *text = q->f->text;
        char *pat = like_pattern(text);
        sqlite3_stmt *s = store_stmt_sql(st, TEXT_TODO, err);
        if (s) {
            store_bind_text(s, 1, pat);
            store_bind_text(s, 2, pat);
        }
        rc = s ? ids_read(st, s, &lists[0], "reading the items holding a text", err) : DP_ERR;
        free(pat);   /* bound SQLITE_STATIC: kept until the statement is done */
        if (rc == DP_OK) {
            s = store_stmt_sql(st, TEXT_CANDS, err);
            if (s) store_bind_text(s, 1, text);
            rc = s ? ids_read(st, s, &lists[3], "reading the title index", err) : DP_ERR;
        }
        x->text = text;
    }
    if (rc == DP_OK && x->text && x->text[0] == '#' && x->text[1]) {
        sqlite3_stmt *s = store_stmt_sql(st, KEYED_PAIRS, err);
        if (s) store_bind_text(s, 1, x->text + 1);
        rc = s ? ids_read(st, s, &lists[1], "reading the pairs of a key", err) : DP_ERR;
    }
    if (rc == DP_OK && q->reviewed == 0) {
        sqlite3_stmt *s = store_stmt_sql(st, REVIEWED_PAIRS, err);
        rc = s ? ids_read(st, s, &lists[2], "reading the reviewed pairs", err) : DP_ERR;
    }
    x->items = lists[0].v;
    x->nitems = lists[0].n;
    x->keyed = lists[1].v;
    x->nkeyed = lists[1].n;
    x->skip = lists[2].v;
    x->nskip = lists[2].n;
    x->cands = lists[3].v;
    x->ncands = lists[3].n;
    return rc;
}

/* The statement of a class's order (kset): its pairs as p, the verdicts
 * joined when the filter asks about them; ?1 comes first in the WITH, so
 * that it keeps its number before the class's conditions' "?"s. */
static void class_order_sql(const fquery *q, sbuf *sql)
{
    sb_printf(sql, "WITH w(want) AS (SELECT ?1) SELECT p.id, %s FROM (%s) p", q->key, sb_str(&q->kset));
    if (q->reviewed == 0) sb_adds(sql, VERDICT_JOIN);
    sb_adds(sql, " CROSS JOIN w WHERE w.want IN (0, p.repo_id)");
    sb_adds(sql, sb_str(&q->where));
    if (q->reviewed == 0) sb_adds(sql, " AND v.verdict IS NULL");
    sb_printf(sql, " ORDER BY %s DESC, p.id", q->key);
}

/* Reads a class's order (see kset_build) into o. */
static int class_order(store *st, const fquery *q, store_order *o, dp_err *err)
{
    sbuf sql;
    sb_init(&sql);
    class_order_sql(q, &sql);
    sqlite3_stmt *s = store_stmt_sql(st, sb_str(&sql), err);
    sb_free(&sql);
    if (!s) return DP_ERR;
    fq_bind(q, s);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (o->n == cap) {
            cap = cap ? cap * 2 : 256;
            o->id = xrealloc(o->id, cap * sizeof *o->id);
            o->k = xrealloc(o->k, cap * sizeof *o->k);
        }
        o->id[o->n] = sqlite3_column_int64(s, 0);
        o->k[o->n++] = sqlite3_column_double(s, 1);
    }
    store_done(s);
    return rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the order of pairs");
}

/* The order of a Q_SET filter, made when missing or stale; borrowed until
 * the next call. The least recently used slot is reused. */
static int order_get(store *st, const fquery *q, const store_order **out, dp_err *err)
{
    int64_t stamp = 0;
    if (data_stamp(st, &stamp, err) != DP_OK) return DP_ERR;
    char *ck = count_key(q), *key = xasprintf("%s|%s", q->key, ck);
    free(ck);
    int fresh;
    store_order *slot = slot_pick(st->orders, STORE_ORDER_SLOTS, sizeof *slot, key, stamp, &fresh);
    if (!fresh) {
        order_free(slot);
        int sort = !strcmp(q->key, "p.prob") ? PC_SORT_PROB : !strcmp(q->key, "p.updated_at") ? PC_SORT_UPDATED
                                                                                              : PC_SORT_VALUE;
        pcount_extra x;
        idvec lists[4] = {{0}};
        int rc = q->classes ? class_order(st, q, slot, err) : order_extra(st, q, &x, lists, err);
        if (rc == DP_OK && !q->classes)
            rc = store_pcount_order(st, q->f, stamp, &x, sort, &slot->n, &slot->k, &slot->id, err);
        for (int i = 0; i < 4; i++) free(lists[i].v);
        if (rc != DP_OK) {
            order_free(slot);
            free(key);
            return DP_ERR;
        }
        slot->s.key = key;
        key = NULL;
        slot->s.version = stamp;
    }
    free(key);
    slot->s.used = ++st->clock;
    *out = slot;
    return DP_OK;
}

/* The index of the first pair of o after the position (key, id) -- or at
 * it too, with `at` -- in the order key DESC, id ASC. */
static size_t order_pos(const store_order *o, double key, int64_t id, int at)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int before = o->k[mid] > key || (o->k[mid] == key && (at ? o->id[mid] < id : o->id[mid] <= id));
        if (before) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Appends the pairs o->id[from, to) to out, rows read by id. A pair gone
 * since the order was read (a writer on another connection) is left out. */
static int order_rows(store *st, const store_order *o, size_t from, size_t to, pair_vec *out, dp_err *err)
{
    for (size_t i = from; i < to; i++) {
        pair p;
        int rc = store_pair_get(st, o->id[i], &p, err);
        if (rc == DP_ERR) return DP_ERR;
        if (rc == DP_OK) *pair_vec_push(out) = p;
    }
    return DP_OK;
}

/* A page of a Q_SET filter: by offset, or after or before a cursor. */
static int order_page(store *st, const fquery *q, const pair_filter *f, pair_vec *out, dp_err *err)
{
    const store_order *o;
    if (order_get(st, q, &o, err) != DP_OK) return DP_ERR;
    size_t from = f->offset < o->n ? f->offset : o->n, lim = f->limit ? f->limit : o->n;
    const char *cursor = f->after ? f->after : f->before;
    if (cursor) {
        double key;
        int64_t id;
        if (!cursor_parse(f->sort, cursor, &key, &id)) return dp_fail(err, "store: bad page cursor '%.40s'", cursor);
        from = order_pos(o, key, id, f->before != NULL);
        if (f->before) {
            size_t end = from;
            from = end > lim ? end - lim : 0;
            lim = end - from;
        }
    }
    return order_rows(st, o, from, o->n - from < lim ? o->n : from + lim, out, err);
}

/* ---- pages ----------------------------------------------------------- */

/* Runs one page statement, appending its rows to out. */
static int page_rows(store *st, sqlite3_stmt *s, pair_vec *out, dp_err *err)
{
    size_t first = out->n;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) pair_from_row(s, pair_vec_push(out));
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "querying pairs");
    store_done(s);
    /* out->v is NULL while nothing was read: no pointer arithmetic on it */
    if (ret == DP_OK && out->n > first) ret = pair_texts_read(st, out->v + first, out->n - first, err);
    return ret;
}

/* Puts v->v[first..] in the opposite order: rows read backwards from a
 * position, in page order. */
static void pairs_reverse(pair_vec *v, size_t first)
{
    for (size_t i = first, j = v->n; i + 1 < j; i++, j--) {
        pair t = v->v[i];
        v->v[i] = v->v[j - 1];
        v->v[j - 1] = t;
    }
}

/* The page after (dir > 0) or before (dir < 0) the position (key, id): the
 * rest of its key, then the other keys -- the two index seeks of step_tail.
 * Before is read backwards from the position, then put in page order. */
static int pairs_page_from(store *st, const fquery *q, size_t limit, double key, int64_t id, int dir,
                           pair_vec *out, dp_err *err)
{
    size_t first = out->n;
    int64_t want = limit ? (int64_t)limit : -1;
    for (int same = 1; same >= 0 && (want < 0 || (int64_t)(out->n - first) < want); same--) {
        ftail tail;
        int np;
        step_tail(q, dir, same, &tail);
        sqlite3_stmt *s = fq_prepare(st, q, "SELECT " PAIR_COLS, Q_PAGE, &tail, &np, err);
        if (!s) return DP_ERR;
        sqlite3_bind_double(s, np, key);
        if (same) sqlite3_bind_int64(s, np + 1, id);
        sqlite3_bind_int64(s, np + 1 + same, want < 0 ? -1 : want - (int64_t)(out->n - first));
        if (page_rows(st, s, out, err) != DP_OK) return DP_ERR;
    }
    if (dir < 0) pairs_reverse(out, first);
    return DP_OK;
}

/* The page after (dir > 0) or before (dir < 0) a cursor's position. */
static int pairs_page_seek(store *st, const fquery *q, const pair_filter *f, const char *cursor, int dir,
                           pair_vec *out, dp_err *err)
{
    double key;
    int64_t id;
    if (!cursor_parse(f->sort, cursor, &key, &id)) return dp_fail(err, "store: bad page cursor '%.40s'", cursor);
    return pairs_page_from(st, q, f->limit, key, id, dir, out, err);
}

/* pair_at's select list, which store_pairs_explain shows as it runs. */
static void pair_at_head(const fquery *q, char *head, size_t n) { snprintf(head, n, "SELECT %s, p.id", q->key); }

/* The position (sort key, id) of the pair at index at of the filter's
 * order (back: of the order reversed), by a statement of the sort key and
 * id alone: the sort index covers them and SQLite leaves the unused
 * verdict join out (~60 ns a pair, where OFFSET in a page's statement
 * reads each pair it skips as a page row, its verdict included). *found
 * is 0 past the end. */
static int pair_at(store *st, const fquery *q, size_t at, int back, double *key, int64_t *id, int *found,
                   dp_err *err)
{
    ftail tail;
    int np;
    offset_scan_tail(q, back, &tail);
    char head[64];
    pair_at_head(q, head, sizeof head);
    sqlite3_stmt *s = fq_prepare(st, q, head, Q_PAGE, &tail, &np, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, np, 1);
    sqlite3_bind_int64(s, np + 1, (int64_t)at);
    int rc = sqlite3_step(s), ret = DP_OK;
    *found = rc == SQLITE_ROW;
    *key = *found ? sqlite3_column_double(s, 0) : 0;
    *id = *found ? sqlite3_column_int64(s, 1) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) ret = store_fail(st, err, "finding the position of a page");
    store_done(s);
    return ret;
}

/* The last n pairs of the filter's order, in page order: the sort index
 * read backwards from its end. */
static int pairs_page_last(store *st, const fquery *q, size_t n, pair_vec *out, dp_err *err)
{
    ftail tail;
    int np;
    offset_tail(q, &tail);
    snprintf(tail.order, sizeof tail.order, "%s ASC, p.id DESC", q->key);
    sqlite3_stmt *s = fq_prepare(st, q, "SELECT " PAIR_COLS, Q_PAGE, &tail, &np, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, np, (int64_t)n);
    sqlite3_bind_int64(s, np + 1, 0);
    size_t first = out->n;
    if (page_rows(st, s, out, err) != DP_OK) return DP_ERR;
    pairs_reverse(out, first);
    return DP_OK;
}

/* The pairs of the filter's repository (of every repository when it
 * names none), from the counters: the entries of its sort index. */
static int repo_pairs(store *st, const fquery *q, size_t *n, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st,
                                     q->repo_id ? "SELECT COALESCE(SUM(n), 0) FROM pair_counts WHERE repo_id = ?1"
                                                : "SELECT COALESCE(SUM(n), 0) FROM pair_counts WHERE ?1 = 0",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, q->repo_id);
    int ret = sqlite3_step(s) == SQLITE_ROW ? DP_OK : store_fail(st, err, "counting the pairs of a repository");
    *n = ret == DP_OK ? (size_t)sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return ret;
}

/* Whether the walk to the pair before a page at offset (of total pairs)
 * is the shorter from the end of the order. From the start it passes
 * every entry of the sort index up to that pair: at least offset. From
 * the end it passes every entry after it: at most the repository's pairs
 * less offset, however the filter's pairs lie in the order (a filter's may
 * be sparse at its end: open issues among the lowest values). So past
 * half of the repository's pairs the end is never the longer walk, and
 * at 80 % of 725k pairs it is a quarter of the other (on `serve`: 26-28
 * -> 9-12 ms). The walk is over the verdicts for reviewed pairs, sorted
 * either way. */
static int offset_from_end(store *st, const fquery *q, size_t offset, const size_t *total, int *back, dp_err *err)
{
    *back = 0;
    size_t n = 0;
    if (!total || q->reviewed == 1 || offset == 0 || offset >= *total) return DP_OK;
    if (repo_pairs(st, q, &n, err) != DP_OK) return DP_ERR;
    *back = n >= offset && n - offset < offset;
    return DP_OK;
}

/* A page by offset: pair_at finds the pair just before the page and the
 * page is the keyset seek after it (the same pairs in the same order: key
 * DESC and id ASC both ways; 1.1 s -> 25 ms at offset 400,000 of 725k),
 * walking from the end of the order when that is the shorter walk
 * (offset_from_end). With the filter's count at hand (total; NULL when
 * unknown) the last page is read from the end of the sort index at once.
 * Past the last pair the page is empty, as OFFSET's would be. */
static int pairs_page_offset(store *st, const fquery *q, const pair_filter *f, const size_t *total,
                             pair_vec *out, dp_err *err)
{
    if (total && f->offset >= *total) return DP_OK;
    if (total && f->offset && (!f->limit || f->limit >= *total - f->offset))
        return pairs_page_last(st, q, *total - f->offset, out, err);
    if (f->offset == 0) {
        ftail tail;
        int np;
        offset_tail(q, &tail);
        sqlite3_stmt *s = fq_prepare(st, q, "SELECT " PAIR_COLS, Q_PAGE, &tail, &np, err);
        if (!s) return DP_ERR;
        sqlite3_bind_int64(s, np, f->limit ? (int64_t)f->limit : -1);
        sqlite3_bind_int64(s, np + 1, 0);
        return page_rows(st, s, out, err);
    }
    double key;
    int64_t id;
    int found, back;
    if (offset_from_end(st, q, f->offset, total, &back, err) != DP_OK) return DP_ERR;
    /* the pair at offset - 1 is at total - offset of the order reversed */
    if (pair_at(st, q, back ? *total - f->offset : f->offset - 1, back, &key, &id, &found, err) != DP_OK)
        return DP_ERR;
    return found ? pairs_page_from(st, q, f->limit, key, id, +1, out, err) : DP_OK;
}

/* A page of the filter; total is its count when the caller has it (NULL:
 * unknown). */
static int pairs_page(store *st, const fquery *q, const pair_filter *f, const size_t *total, pair_vec *out,
                      dp_err *err)
{
    if (f->after && f->before) return dp_fail(err, "store: a page is either after or before a cursor, not both");
    int how;
    if (page_how(st, q, &how, err) != DP_OK) return DP_ERR;
    if (how == Q_SET) return order_page(st, q, f, out, err);
    if (f->after) return pairs_page_seek(st, q, f, f->after, +1, out, err);
    if (f->before) return pairs_page_seek(st, q, f, f->before, -1, out, err);
    return pairs_page_offset(st, q, f, total, out, err);
}

int store_pairs_query(store *st, const pair_filter *f, pair_vec *out, size_t *total, size_t *reviewed,
                      dp_err *err)
{
    fquery q;
    if (fq_build(f, &q, err) != DP_OK) {
        fq_free(&q);
        return DP_ERR;
    }
    /* One snapshot for the count and the page, when the caller has none:
     * they agree, and the statements between (a text's order runs
     * thousands) share one lock instead of taking and releasing it each */
    int own = sqlite3_get_autocommit(st->db);
    int rc = own ? store_read_begin(st, err) : DP_OK;
    if (rc == DP_OK) rc = fq_sole_repo(st, &q, err);
    if (rc == DP_OK && (total || reviewed)) rc = pairs_count(st, &q, total, reviewed, err);
    if (rc == DP_OK && out) rc = pairs_page(st, &q, f, total, out, err);
    if (own) store_read_end(st);
    fq_free(&q);
    return rc;
}

/* ---- neighbours ------------------------------------------------------ */

/* SQL of the sort key of one pair. */
static void sort_key_sql(const fquery *q, char *buf, size_t size)
{
    snprintf(buf, size, "SELECT %s FROM pairs p WHERE p.id = ?1", q->key);
}

/* Reads the sort key of one pair (a copy the caller frees with
 * sqlite3_value_free); DP_NOTFOUND when the pair does not exist. */
static int pair_sort_key(store *st, const fquery *q, int64_t pair_id, sqlite3_value **key, dp_err *err)
{
    char sql[128];
    sort_key_sql(q, sql, sizeof sql);
    sqlite3_stmt *s = store_stmt_sql(st, sql, err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, pair_id);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        *key = sqlite3_value_dup(sqlite3_column_value(s, 0));
        ret = DP_OK;
    } else {
        ret = rc == SQLITE_DONE ? DP_NOTFOUND : store_fail(st, err, "reading pair");
    }
    store_done(s);
    return ret;
}

/* One seek of step_tail; *out 0 when it finds nothing. */
static int pair_seek(store *st, const fquery *q, const sqlite3_value *key, int64_t id, int dir, int same,
                     int64_t *out, dp_err *err)
{
    ftail tail;
    step_tail(q, dir, same, &tail);
    int np;
    sqlite3_stmt *s = fq_prepare(st, q, "SELECT p.id", Q_PAGE, &tail, &np, err);
    if (!s) return DP_ERR;
    sqlite3_bind_value(s, np, key);
    if (same) sqlite3_bind_int64(s, np + 1, id);
    sqlite3_bind_int64(s, np + 1 + same, 1);
    int rc = sqlite3_step(s), ret = DP_OK;
    *out = 0;
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE) ret = store_fail(st, err, "finding neighbouring pair");
    store_done(s);
    return ret;
}

/* The first pair strictly before (dir < 0) or after (dir > 0) the position
 * (key, id) in the filter's order; 0 when there is none. */
static int pair_step(store *st, const fquery *q, const sqlite3_value *key, int64_t id, int dir, int64_t *out,
                     dp_err *err)
{
    if (pair_seek(st, q, key, id, dir, 1, out, err) != DP_OK) return DP_ERR;
    if (*out) return DP_OK;
    return pair_seek(st, q, key, id, dir, 0, out, err);
}

/* The neighbours of the position (key, id) in a Q_SET filter's order. */
static int order_step(store *st, const fquery *q, double key, int64_t id, int64_t *prev, int64_t *next,
                      dp_err *err)
{
    const store_order *o;
    if (order_get(st, q, &o, err) != DP_OK) return DP_ERR;
    size_t at = order_pos(o, key, id, 1), after = order_pos(o, key, id, 0);
    *prev = at ? o->id[at - 1] : 0;
    *next = after < o->n ? o->id[after] : 0;
    return DP_OK;
}

int store_pair_neighbors(store *st, const pair_filter *f, int64_t pair_id, int64_t *prev, int64_t *next,
                         dp_err *err)
{
    *prev = *next = 0;
    fquery q;
    if (fq_build(f, &q, err) != DP_OK) {
        fq_free(&q);
        return DP_ERR;
    }
    sqlite3_value *key = NULL;
    int how = Q_PAGE;
    int rc = fq_sole_repo(st, &q, err);
    if (rc == DP_OK) rc = pair_sort_key(st, &q, pair_id, &key, err);
    if (rc == DP_OK) rc = page_how(st, &q, &how, err);
    if (rc == DP_OK && how == Q_SET) {
        rc = order_step(st, &q, sqlite3_value_double(key), pair_id, prev, next, err);
    } else {
        if (rc == DP_OK) rc = pair_step(st, &q, key, pair_id, -1, prev, err);
        if (rc == DP_OK) rc = pair_step(st, &q, key, pair_id, +1, next, err);
    }
    sqlite3_value_free(key);
    fq_free(&q);
    return rc;
}

/* ---- query plans ----------------------------------------------------- */

/* Appends "<path>: <plan line>\n" for each line of EXPLAIN QUERY PLAN of sql
 * with the filter's values bound. */
static int explain_one(store *st, const fquery *q, const char *path, const char *sql, int bind, sbuf *out,
                       dp_err *err)
{
    char *text = xasprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, text, -1, &s, NULL);
    free(text);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_fail(st, err, "explaining %s", path);
    }
    if (bind) fq_bind(q, s);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        sb_printf(out, "%s: %s\n", path, (const char *)sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "explaining %s", path);
}

int store_pairs_explain(store *st, const pair_filter *f, sbuf *out, dp_err *err)
{
    fquery q;
    if (fq_build(f, &q, err) != DP_OK) {
        fq_free(&q);
        return DP_ERR;
    }
    /* -1: the count's way, -2: the page's (page_how) */
    static const struct { const char *path; int how, dir, same; } paths[] = {
        {"page", -2, 0, 0},          {"count", -1, 0, 0},         {"reviewed", Q_REVIEWED, 0, 0},
        {"next-same", -2, 1, 1},     {"next-beyond", -2, 1, 0},   {"prev-same", -2, -1, 1},
        {"prev-beyond", -2, -1, 0},  {"offset", -3, 0, 0},       {"offset-back", -4, 0, 0},
    };
    char buf[200];
    sort_key_sql(&q, buf, sizeof buf);
    int page = Q_PAGE;
    int rc = fq_sole_repo(st, &q, err);
    if (rc == DP_OK) rc = explain_one(st, &q, "key", buf, 0, out, err);
    /* the statements an order reads besides the table (order_extra) */
    int indexed = q.count_how == Q_SET && text_indexed(f->text);
    if (rc == DP_OK && indexed) rc = explain_one(st, &q, "text", TEXT_CANDS, 0, out, err);
    if (rc == DP_OK && indexed) rc = explain_one(st, &q, "text", TEXT_TODO, 0, out, err);
    if (rc == DP_OK && q.count_how == Q_SET && f->text[0] == '#' && f->text[1])
        rc = explain_one(st, &q, "keyed", KEYED_PAIRS, 0, out, err);
    if (rc == DP_OK && q.reviewed == 0 && !q.classes)
        rc = explain_one(st, &q, "verdicts", REVIEWED_PAIRS, 0, out, err);
    if (rc == DP_OK) rc = page_how(st, &q, &page, err);
    char at_head[64];
    pair_at_head(&q, at_head, sizeof at_head);
    for (size_t i = 0; rc == DP_OK && i < sizeof paths / sizeof paths[0]; i++) {
        /* -3: the walk to an offset's position (pair_at), read as a page is
         * and by pair_at's own statement; -4: the same walk from the end */
        int how = paths[i].how == -1 ? q.count_how : paths[i].how <= -2 ? page : paths[i].how;
        const char *head = paths[i].dir           ? "SELECT p.id"
                           : paths[i].how == -2 ? "SELECT " PAIR_COLS
                           : paths[i].how <= -3 ? at_head
                                                 : count_head(how);
        ftail tail = {{0}, {0}, NULL, 0};
        if (paths[i].dir) {
            step_tail(&q, paths[i].dir, paths[i].same, &tail);
        } else if (paths[i].how == -2) {
            offset_tail(&q, &tail);
        } else if (paths[i].how <= -3) {
            offset_scan_tail(&q, paths[i].how == -4, &tail);
        }
        if (how == Q_MEMORY || (how == Q_SET && !q.classes)) {   /* Q_SET: cut from the filter's order */
            sb_printf(out, "%s: IN MEMORY (store_pcount)\n", paths[i].path);
            continue;
        }
        sbuf sql;
        sb_init(&sql);
        if (how == Q_SET) class_order_sql(&q, &sql);   /* a class's order */
        else fq_sql(&q, head, how, &tail, &sql);
        rc = explain_one(st, &q, paths[i].path, sb_str(&sql), 1, out, err);
        sb_free(&sql);
    }
    fq_free(&q);
    return rc;
}

/* ---- verdicts -------------------------------------------------------- */

int store_verdict_set(store *st, int64_t repo, const char *q, const char *c, verdict_kind verdict, dp_err *err)
{
    if (!q || !c) return dp_fail(err, "store: setting verdict: missing item key");
    if ((unsigned)verdict >= VERDICT_COUNT) return dp_fail(err, "store: unknown verdict %d", (int)verdict);
    sqlite3_stmt *s;
    if (verdict != VERDICT_NONE) {
        s = store_stmt(st, SQ_VERDICT_SET,
                       "INSERT INTO verdicts(repo_id, query_key, cand_key, verdict, created_at) "
                       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(repo_id, query_key, cand_key) "
                       "DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at",
                       err);
    } else {
        s = store_stmt(st, SQ_VERDICT_DEL,
                       "DELETE FROM verdicts WHERE repo_id = ?1 AND query_key = ?2 AND cand_key = ?3", err);
    }
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, q);
    store_bind_text(s, 3, c);
    if (verdict != VERDICT_NONE) {
        store_bind_text(s, 4, verdict_name(verdict));
        sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
    }
    return store_step_done(st, s, err, "%s verdict on %s -> %s", verdict != VERDICT_NONE ? "saving" : "removing", q,
                           c);
}
