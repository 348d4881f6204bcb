/* store_actions.c -- the audit of what doppel writes to GitHub (actions),
 * the apply queue, and the list of verdicts that apply carries out.
 *
 * These tables are small next to items and pairs (one row per write) and
 * are read a unit at a time, so their statements go through the LRU cache
 * of run-time SQL (store_stmt_sql) rather than fixed slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* ---- verdicts ---------------------------------------------------------- */

void store_verdict_vec_free(store_verdict_vec *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].query_key);
        free(v->v[i].cand_key);
    }
    free(v->v);
    memset(v, 0, sizeof *v);
}

int store_verdicts_load(store *st, int64_t repo, store_verdict_vec *out, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "SELECT query_key, cand_key, verdict, created_at FROM verdicts "
                                     "WHERE repo_id = ?1 ORDER BY created_at, query_key, cand_key",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->v = xrealloc(out->v, out->cap * sizeof *out->v);
        }
        store_verdict *v = &out->v[out->n++];
        v->query_key = store_col_str_empty(s, 0);
        v->cand_key = store_col_str_empty(s, 1);
        if (verdict_parse((const char *)sqlite3_column_text(s, 2), &v->verdict)) v->verdict = VERDICT_NOT_RELATED;
        v->created_at = sqlite3_column_int64(s, 3);
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "loading verdicts");
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}

/* ---- actions ------------------------------------------------------------- */

void store_action_free(store_action *a)
{
    if (!a) return;
    char **strs[] = {&a->source, &a->unit, &a->query_key, &a->cand_key, &a->verdict, &a->kind, &a->target,
                     &a->arg, &a->method, &a->path, &a->body, &a->state, &a->error};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    memset(a, 0, sizeof *a);
}

store_action *store_action_vec_push(store_action_vec *v)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = xrealloc(v->v, v->cap * sizeof *v->v);
    }
    memset(&v->v[v->n], 0, sizeof *v->v);
    return &v->v[v->n++];
}

void store_action_vec_free(store_action_vec *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) store_action_free(&v->v[i]);
    free(v->v);
    memset(v, 0, sizeof *v);
}

#define ACTION_COLS                                                                                     \
    "id, repo_id, source, unit, query_key, cand_key, verdict, verdict_at, kind, target, arg, method, " \
    "path, body, state, status, gh_id, gh_time, error, undo_of, created_at, done_at"

static void action_from_row(sqlite3_stmt *s, store_action *a)
{
    a->id = sqlite3_column_int64(s, 0);
    a->repo_id = sqlite3_column_int64(s, 1);
    a->source = store_col_str_empty(s, 2);
    a->unit = store_col_str_empty(s, 3);
    a->query_key = store_col_str(s, 4);
    a->cand_key = store_col_str(s, 5);
    a->verdict = store_col_str(s, 6);
    a->verdict_at = sqlite3_column_int64(s, 7);
    a->kind = store_col_str_empty(s, 8);
    a->target = store_col_str_empty(s, 9);
    a->arg = store_col_str(s, 10);
    a->method = store_col_str(s, 11);
    a->path = store_col_str(s, 12);
    a->body = store_col_str(s, 13);
    a->state = store_col_str_empty(s, 14);
    a->status = (long)sqlite3_column_int64(s, 15);
    a->gh_id = sqlite3_column_int64(s, 16);
    a->gh_time = sqlite3_column_int64(s, 17);
    a->error = store_col_str(s, 18);
    a->undo_of = sqlite3_column_int64(s, 19);
    a->created_at = sqlite3_column_int64(s, 20);
    a->done_at = sqlite3_column_int64(s, 21);
}

int store_action_add(store *st, int64_t repo, store_action *a, dp_err *err)
{
    if (!a->source || !a->unit || !a->kind) return dp_fail(err, "store: action without source, unit or kind");
    sqlite3_stmt *s = store_stmt_sql(
        st,
        "INSERT INTO actions(repo_id, source, unit, query_key, cand_key, verdict, verdict_at, kind, target, "
        "arg, method, path, body, state, status, gh_id, gh_time, error, undo_of, created_at, done_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        err);
    if (!s) return DP_ERR;
    if (!a->created_at) a->created_at = (int64_t)time(NULL);
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, a->source);
    store_bind_text(s, 3, a->unit);
    store_bind_text(s, 4, a->query_key);
    store_bind_text(s, 5, a->cand_key);
    store_bind_text(s, 6, a->verdict);
    sqlite3_bind_int64(s, 7, a->verdict_at);
    store_bind_text(s, 8, a->kind);
    store_bind_text(s, 9, a->target ? a->target : "");
    store_bind_text(s, 10, a->arg);
    store_bind_text(s, 11, a->method);
    store_bind_text(s, 12, a->path);
    store_bind_text(s, 13, a->body);
    store_bind_text(s, 14, a->state ? a->state : "pending");
    sqlite3_bind_int64(s, 15, a->status);
    sqlite3_bind_int64(s, 16, a->gh_id);
    sqlite3_bind_int64(s, 17, a->gh_time);
    store_bind_text(s, 18, a->error);
    if (a->undo_of) sqlite3_bind_int64(s, 19, a->undo_of);
    else sqlite3_bind_null(s, 19);
    sqlite3_bind_int64(s, 20, a->created_at);
    sqlite3_bind_int64(s, 21, a->done_at);
    if (store_step_done(st, s, err, "recording %s action on %s for %s", a->kind, a->target ? a->target : "",
                        a->unit) != DP_OK)
        return DP_ERR;
    a->id = sqlite3_last_insert_rowid(st->db);
    a->repo_id = repo;
    return DP_OK;
}

int store_action_finish(store *st, int64_t id, const char *state, long status, int64_t gh_id, int64_t gh_time,
                        const char *error, dp_err *err)
{
    if (!state) return dp_fail(err, "store: finishing action %lld: no state", (long long)id);
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "UPDATE actions SET state = ?2, status = ?3, "
                                     "gh_id = CASE WHEN ?4 = 0 THEN gh_id ELSE ?4 END, "
                                     "gh_time = CASE WHEN ?5 = 0 THEN gh_time ELSE ?5 END, "
                                     "error = ?6, done_at = ?7 WHERE id = ?1",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    store_bind_text(s, 2, state);
    sqlite3_bind_int64(s, 3, status);
    sqlite3_bind_int64(s, 4, gh_id);
    sqlite3_bind_int64(s, 5, gh_time);
    store_bind_text(s, 6, error);
    sqlite3_bind_int64(s, 7, (int64_t)time(NULL));
    if (store_step_done(st, s, err, "recording the answer of action %lld", (long long)id) != DP_OK)
        return DP_ERR;
    return sqlite3_changes(st->db) ? DP_OK : DP_NOTFOUND;
}

int store_action_set_state(store *st, int64_t id, const char *state, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st, "UPDATE actions SET state = ?2 WHERE id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    store_bind_text(s, 2, state);
    if (store_step_done(st, s, err, "setting the state of action %lld", (long long)id) != DP_OK) return DP_ERR;
    return sqlite3_changes(st->db) ? DP_OK : DP_NOTFOUND;
}

int store_action_last_write(store *st, int64_t repo, const char *target, int64_t *t, dp_err *err)
{
    *t = 0;
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "SELECT max(gh_time) FROM actions WHERE repo_id = ?1 AND target = ?2 "
                                     "AND method IS NOT NULL AND state IN ('done', 'undone')",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, target);
    int rc = sqlite3_step(s), ret = DP_OK;
    if (rc == SQLITE_ROW) *t = sqlite3_column_int64(s, 0);
    else ret = store_fail(st, err, "reading the last write to %s", target);
    store_done(s);
    return ret;
}

int store_actions_load(store *st, int64_t repo, const char *unit, store_action_vec *out, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st,
                                     unit ? "SELECT " ACTION_COLS " FROM actions WHERE repo_id = ?1 AND unit = ?2 "
                                            "ORDER BY id"
                                          : "SELECT " ACTION_COLS " FROM actions WHERE repo_id = ?1 ORDER BY id",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    if (unit) store_bind_text(s, 2, unit);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) action_from_row(s, store_action_vec_push(out));
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "loading actions");
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}

int store_action_get(store *st, int64_t id, store_action *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT " ACTION_COLS " FROM actions WHERE id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s), ret = DP_OK;
    if (rc == SQLITE_ROW) action_from_row(s, out);
    else if (rc == SQLITE_DONE) ret = DP_NOTFOUND;
    else ret = store_fail(st, err, "reading action %lld", (long long)id);
    store_done(s);
    return ret;
}

/* ---- the apply queue ------------------------------------------------------ */

int store_queue_add(store *st, int64_t repo, const char *q, const char *c, dp_err *err)
{
    if (!q || !c) return dp_fail(err, "store: queueing: missing item key");
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "INSERT INTO apply_queue(repo_id, query_key, cand_key, queued_at) "
                                     "VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, q);
    store_bind_text(s, 3, c);
    sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
    return store_step_done(st, s, err, "queueing %s -> %s", q, c);
}

int store_queue_del(store *st, int64_t repo, const char *q, const char *c, dp_err *err)
{
    if (!q || !c) return dp_fail(err, "store: unqueueing: missing item key");
    sqlite3_stmt *s = store_stmt_sql(
        st, "DELETE FROM apply_queue WHERE repo_id = ?1 AND query_key = ?2 AND cand_key = ?3", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, q);
    store_bind_text(s, 3, c);
    return store_step_done(st, s, err, "unqueueing %s -> %s", q, c);
}

int store_queue_list(store *st, int64_t repo, strvec *query_keys, strvec *cand_keys, dp_err *err)
{
    sqlite3_stmt *s = store_stmt_sql(st,
                                     "SELECT query_key, cand_key FROM apply_queue WHERE repo_id = ?1 "
                                     "ORDER BY queued_at, query_key, cand_key",
                                     err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sv_push_owned(query_keys, store_col_str_empty(s, 0));
        sv_push_owned(cand_keys, store_col_str_empty(s, 1));
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "listing the apply queue");
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}
