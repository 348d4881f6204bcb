/* store_pairs.c -- candidate pairs (written by analyze, read by the web
 * page and `doppel pairs`) and the maintainer's verdicts on them.
 *
 * The pair filter is compiled into one WHERE clause from fixed fragments;
 * every user-supplied value is a bound parameter. Each sort has an index
 * (repo, key DESC, id), so a page walks it and stops after `limit` rows;
 * the counts scan the pairs table once. Conditions on items (states,
 * labels, titles) become set lookups rather than joins (see fq_text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

void pair_free(pair *p)
{
    if (!p) return;
    free(p->query_key);
    free(p->cand_key);
    free(p->relation);
    free(p->confidence);
    free(p->reasoning);
    free(p->value_detail);
    free(p->suggested_comment);
    free(p->verdict);
    memset(p, 0, sizeof *p);
}

pair *pair_vec_push(pair_vec *vec)
{
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 16;
        vec->v = xrealloc(vec->v, vec->cap * sizeof *vec->v);
    }
    memset(&vec->v[vec->n], 0, sizeof *vec->v);
    return &vec->v[vec->n++];
}

void pair_vec_free(pair_vec *vec)
{
    for (size_t i = 0; i < vec->n; i++) pair_free(&vec->v[i]);
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}

void pair_filter_init(pair_filter *f)
{
    memset(f, 0, sizeof *f);
    f->reviewed = -1;
    f->include_known = 1;
}

/* ---- reading rows ---------------------------------------------------- */

/* Column list of every pair read (p = pairs, v = verdicts LEFT JOIN). */
#define PAIR_COLS                                                                                  \
    "p.id, p.repo_id, p.query_key, p.cand_key, p.rank, p.score, p.prob, p.relation, p.confidence, " \
    "p.value, p.reasoning, p.value_detail, p.suggested_comment, p.known, v.verdict, v.created_at"
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
    p->relation = store_col_str_empty(s, 7);
    p->confidence = store_col_str_empty(s, 8);
    p->value = sqlite3_column_double(s, 9);
    p->reasoning = store_col_str(s, 10);
    p->value_detail = store_col_str(s, 11);
    p->suggested_comment = store_col_str(s, 12);
    p->known = sqlite3_column_int(s, 13);
    p->verdict = store_col_str(s, 14);
    p->verdict_at = sqlite3_column_int64(s, 15);
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

/* ---- replacing ------------------------------------------------------- */

static int pairs_delete(store *st, int64_t repo, const char *const *queries, size_t nqueries, dp_err *err)
{
    if (!queries && nqueries == 0) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db, "DELETE FROM pairs WHERE repo_id = ?1", -1, &s, NULL) != SQLITE_OK)
            return store_fail(st, err, "deleting old pairs");
        sqlite3_bind_int64(s, 1, repo);
        int rc = store_step_done(st, s, err, "deleting old pairs");
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_DEL_QUERY, "DELETE FROM pairs WHERE repo_id = ?1 AND query_key = ?2",
                                 err);
    if (!s) return DP_ERR;
    for (size_t i = 0; i < nqueries; i++) {
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, queries[i]);
        if (store_step_done(st, s, err, "deleting old pairs of %s", queries[i]) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

static int pairs_insert(store *st, int64_t repo, const pair *pairs, size_t npairs, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_PAIR_ADD,
                                 "INSERT INTO pairs(repo_id, query_key, cand_key, rank, score, prob, relation, "
                                 "confidence, value, reasoning, value_detail, suggested_comment, known, "
                                 "updated_at) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                                 "COALESCE((SELECT MAX(updated_at) FROM items "
                                 "          WHERE repo_id = ?1 AND key IN (?2, ?3)), 0))",
                                 err);
    if (!s) return DP_ERR;
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, p->query_key);
        store_bind_text(s, 3, p->cand_key);
        sqlite3_bind_int(s, 4, p->rank);
        sqlite3_bind_double(s, 5, p->score);
        sqlite3_bind_double(s, 6, p->prob);
        store_bind_text(s, 7, p->relation);
        store_bind_text(s, 8, p->confidence);
        sqlite3_bind_double(s, 9, p->value);
        store_bind_text(s, 10, p->reasoning);
        store_bind_text(s, 11, p->value_detail);
        store_bind_text(s, 12, p->suggested_comment);
        sqlite3_bind_int(s, 13, p->known ? 1 : 0);
        if (store_step_done(st, s, err, "inserting pair %s -> %s", p->query_key ? p->query_key : "(null)",
                            p->cand_key ? p->cand_key : "(null)") != DP_OK)
            return DP_ERR;
    }
    return DP_OK;
}

int store_pairs_replace(store *st, int64_t repo, const char *const *queries, size_t nqueries,
                        const pair *pairs, size_t npairs, dp_err *err)
{
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int rc = pairs_delete(st, repo, queries, nqueries, err);
    if (rc == DP_OK) rc = pairs_insert(st, repo, pairs, npairs, err);
    return store_sp_end(st, rc, err);
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
    sbuf where;        /* " AND ..." conditions, repo and reviewed excluded */
    int reviewed;      /* -1, 0, 1 as in pair_filter */
    const char *key;   /* sort key expression, sorted descending */
    fbind b[16];       /* values of `where`, in order */
    int nb;
    strvec owned;      /* LIKE patterns built here */
} fquery;

/* How a statement reads the pairs:
 *  Q_PAGE    walks the sort index (repo, value DESC, id) and stops at the
 *            page's end; verdicts are LEFT JOINed (their columns are loaded).
 *  Q_COUNT   scans the whole pairs table sequentially: "+p.repo_id" keeps
 *            SQLite from reading it in index order, which costs a random
 *            row fetch per pair.
 *  Q_REVIEWED walks the verdicts table (far smaller than pairs) and probes
 *            the pairs by key: the pairs with a verdict. */
enum { Q_PAGE, Q_COUNT, Q_REVIEWED };

static void fq_str(fquery *q, const char *v) { q->b[q->nb++] = (fbind){0, 0, v}; }

static void fq_free(fquery *q)
{
    sb_free(&q->where);
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
#define WITH_LABEL "(SELECT i.repo_id, i.key FROM item_labels l JOIN items i ON i.id = l.item_id WHERE l.name = ?)"

static void fq_text(fquery *q, const char *text)
{
    /* LIKE is case-insensitive for ASCII letters. "#123" also finds key
     * 123, as users write GitHub numbers that way. */
    char *pat = like_pattern(text);
    sv_push_owned(&q->owned, pat);
    sb_adds(&q->where, " AND (" QITEM TITLE_LIKE " OR " CITEM TITLE_LIKE
                       " OR p.query_key LIKE ? ESCAPE '\\' OR p.cand_key LIKE ? ESCAPE '\\'");
    for (int i = 0; i < 4; i++) fq_str(q, pat);
    if (text[0] == '#' && text[1]) {
        sb_adds(&q->where, " OR p.query_key = ? OR p.cand_key = ?");
        fq_str(q, text + 1);
        fq_str(q, text + 1);
    }
    sb_adds(&q->where, ")");
}

static int fq_build(const pair_filter *f, fquery *q, dp_err *err)
{
    memset(q, 0, sizeof *q);
    sb_init(&q->where);
    q->reviewed = f->reviewed;
    q->repo_id = f->repo_id;
    const char *sort = f->sort && *f->sort ? f->sort : "value";
    if (strcmp(sort, "value") == 0) q->key = "p.value";
    else if (strcmp(sort, "prob") == 0) q->key = "p.prob";
    else if (strcmp(sort, "updated") == 0) q->key = "p.updated_at";
    else return dp_fail(err, "store: unknown pair sort '%s' (use value, prob or updated)", sort);
    if (f->relation) {
        sb_adds(&q->where, " AND p.relation = ?");
        fq_str(q, f->relation);
    }
    if (f->confidence) {
        sb_adds(&q->where, " AND p.confidence = ?");
        fq_str(q, f->confidence);
    }
    if (f->query_state) {
        sb_adds(&q->where, " AND " QITEM "(SELECT repo_id, key FROM items WHERE state = ?)");
        fq_str(q, f->query_state);
    }
    if (f->cand_state) {
        sb_adds(&q->where, " AND " CITEM "(SELECT repo_id, key FROM items WHERE state = ?)");
        fq_str(q, f->cand_state);
    }
    if (f->label && *f->label) {
        sb_adds(&q->where, " AND (" QITEM WITH_LABEL " OR " CITEM WITH_LABEL ")");
        fq_str(q, f->label);
        fq_str(q, f->label);
    }
    if (!f->include_known) sb_adds(&q->where, " AND p.known = 0");
    if (f->text && *f->text) fq_text(q, f->text);
    return DP_OK;
}

/* Prepares "<head> FROM ... WHERE <filter> <tail>" read the way `how`
 * says (Q_PAGE adds the reviewed condition) and binds the filter's values;
 * *next gets the index of the first parameter left for the caller. */
static int fq_prepare(store *st, const fquery *q, const char *head, int how, const char *tail,
                      sqlite3_stmt **out, int *next, dp_err *err)
{
    sbuf sql;
    sb_init(&sql);
    sb_adds(&sql, head);
    if (how == Q_REVIEWED)
        /* CROSS JOIN pins the order: scan verdicts, probe the pairs index. */
        sb_adds(&sql, " FROM verdicts v CROSS JOIN pairs p ON p.repo_id = v.repo_id"
                      " AND p.query_key = v.query_key AND p.cand_key = v.cand_key");
    else if (how == Q_PAGE)
        sb_adds(&sql, " FROM pairs p" VERDICT_JOIN);
    else
        sb_adds(&sql, " FROM pairs p");
    if (!q->repo_id) sb_adds(&sql, " WHERE ?1 = 0");   /* any repo; keeps ?1 numbered */
    else sb_adds(&sql, how == Q_COUNT ? " WHERE +p.repo_id = ?1" : " WHERE p.repo_id = ?1");
    sb_adds(&sql, sb_str(&q->where));
    if (how == Q_PAGE && q->reviewed == 0) sb_adds(&sql, " AND v.verdict IS NULL");
    if (how == Q_PAGE && q->reviewed == 1) sb_adds(&sql, " AND v.verdict IS NOT NULL");
    sb_addc(&sql, ' ');
    sb_adds(&sql, tail);
    int rc = sqlite3_prepare_v2(st->db, sb_str(&sql), -1, out, NULL);
    sb_free(&sql);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return store_fail(st, err, "querying pairs");
    }
    sqlite3_bind_int64(*out, 1, q->repo_id);
    for (int i = 0; i < q->nb; i++) {
        if (q->b[i].is_int) sqlite3_bind_int64(*out, i + 2, q->b[i].i);
        else store_bind_text(*out, i + 2, q->b[i].s);
    }
    if (next) *next = q->nb + 2;
    return DP_OK;
}

/* COUNT(*) of the filter, reviewed condition ignored; how is Q_COUNT or
 * Q_REVIEWED. */
static int count_from(store *st, const fquery *q, int how, size_t *n, dp_err *err)
{
    sqlite3_stmt *s;
    if (fq_prepare(st, q, "SELECT COUNT(*)", how, "", &s, NULL, err) != DP_OK) return DP_ERR;
    int ret = DP_OK;
    if (sqlite3_step(s) == SQLITE_ROW) *n = (size_t)sqlite3_column_int64(s, 0);
    else ret = store_fail(st, err, "counting pairs");
    sqlite3_finalize(s);
    return ret;
}

/* Counting through a LEFT JOIN on verdicts would probe the verdicts key for
 * every pair; instead count all matches from the pairs side and the
 * reviewed ones from the verdicts side, and derive the rest. */
static int pairs_count(store *st, const fquery *q, size_t *total, size_t *reviewed, dp_err *err)
{
    size_t all = 0, rev = 0;
    if (q->reviewed != 1 && count_from(st, q, Q_COUNT, &all, err) != DP_OK) return DP_ERR;
    if (count_from(st, q, Q_REVIEWED, &rev, err) != DP_OK) return DP_ERR;
    if (q->reviewed == 1) all = rev;
    if (q->reviewed == 0) {
        all -= rev;
        rev = 0;
    }
    if (total) *total = all;
    if (reviewed) *reviewed = rev;
    return DP_OK;
}

static int pairs_page(store *st, const fquery *q, const pair_filter *f, pair_vec *out, dp_err *err)
{
    char tail[160];
    snprintf(tail, sizeof tail, "ORDER BY %s DESC, p.id LIMIT ? OFFSET ?", q->key);
    sqlite3_stmt *s;
    int np;
    if (fq_prepare(st, q, "SELECT " PAIR_COLS, Q_PAGE, tail, &s, &np, err) != DP_OK) return DP_ERR;
    sqlite3_bind_int64(s, np, f->limit ? (int64_t)f->limit : -1);
    sqlite3_bind_int64(s, np + 1, (int64_t)f->offset);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) pair_from_row(s, pair_vec_push(out));
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "querying pairs");
    sqlite3_finalize(s);
    return ret;
}

int store_pairs_query(store *st, const pair_filter *f, pair_vec *out, size_t *total, size_t *reviewed,
                      dp_err *err)
{
    fquery q;
    if (fq_build(f, &q, err) != DP_OK) {
        fq_free(&q);
        return DP_ERR;
    }
    int rc = DP_OK;
    if (total || reviewed) rc = pairs_count(st, &q, total, reviewed, err);
    if (rc == DP_OK && out) rc = pairs_page(st, &q, f, out, err);
    fq_free(&q);
    return rc;
}

/* Reads the sort key of one pair (a copy the caller frees with
 * sqlite3_value_free); DP_NOTFOUND when the pair does not exist. */
static int pair_sort_key(store *st, const fquery *q, int64_t pair_id, sqlite3_value **key, dp_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM pairs p WHERE p.id = ?1", q->key);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return store_fail(st, err, "reading pair");
    sqlite3_bind_int64(s, 1, pair_id);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        *key = sqlite3_value_dup(sqlite3_column_value(s, 0));
        ret = DP_OK;
    } else {
        ret = rc == SQLITE_DONE ? DP_NOTFOUND : store_fail(st, err, "reading pair");
    }
    sqlite3_finalize(s);
    return ret;
}

/* The first pair strictly before (dir < 0) or after (dir > 0) the position
 * (key, id) in the filter's order; 0 when there is none. */
static int pair_step(store *st, const fquery *q, const sqlite3_value *key, int64_t id, int dir, int64_t *out,
                     dp_err *err)
{
    /* Order is key DESC, id ASC: "after" means a smaller key or the same
     * key and a larger id; "before" is the mirror image, read backwards. */
    char tail[400];
    snprintf(tail, sizeof tail, "AND (%s %s ? OR (%s = ? AND p.id %s ?)) ORDER BY %s %s, p.id %s LIMIT 1", q->key,
             dir > 0 ? "<" : ">", q->key, dir > 0 ? ">" : "<", q->key, dir > 0 ? "DESC" : "ASC",
             dir > 0 ? "ASC" : "DESC");
    sqlite3_stmt *s;
    int np;
    *out = 0;
    if (fq_prepare(st, q, "SELECT p.id", Q_PAGE, tail, &s, &np, err) != DP_OK) return DP_ERR;
    sqlite3_bind_value(s, np, key);
    sqlite3_bind_value(s, np + 1, key);
    sqlite3_bind_int64(s, np + 2, id);
    int rc = sqlite3_step(s), ret = DP_OK;
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE) ret = store_fail(st, err, "finding neighbouring pair");
    sqlite3_finalize(s);
    return ret;
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
    int rc = pair_sort_key(st, &q, pair_id, &key, err);
    if (rc == DP_OK) rc = pair_step(st, &q, key, pair_id, -1, prev, err);
    if (rc == DP_OK) rc = pair_step(st, &q, key, pair_id, +1, next, err);
    sqlite3_value_free(key);
    fq_free(&q);
    return rc;
}

/* ---- verdicts -------------------------------------------------------- */

int store_verdict_set(store *st, int64_t repo, const char *q, const char *c, const char *verdict, dp_err *err)
{
    if (!q || !c) return dp_fail(err, "store: setting verdict: missing item key");
    sqlite3_stmt *s;
    if (verdict) {
        if (strcmp(verdict, "duplicate") && strcmp(verdict, "related") && strcmp(verdict, "not_related"))
            return dp_fail(err, "store: unknown verdict '%s' (use duplicate, related or not_related)", verdict);
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
    if (verdict) {
        store_bind_text(s, 4, verdict);
        sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
    }
    return store_step_done(st, s, err, "%s verdict on %s -> %s", verdict ? "saving" : "removing", q, c);
}
