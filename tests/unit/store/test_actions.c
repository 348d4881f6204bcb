/* test_actions.c -- the store's audit of GitHub writes (actions), the
 * apply queue, the verdict list, and the 4 -> 5 migration that adds them. */
#include "store_fixture.h"
#include "../../../src/store/store_int.h"

/* A version-4 database with one repository, an item and a verdict. */
static void make_v4(fx *f, const char *extra_sql)
{
    assert_true(store_nmigrations >= 5);
    char *sql = xasprintf("INSERT INTO repositories(id, name) VALUES(1, 'o/r');"
                          "INSERT INTO items(id, repo_id, key, updated_at, changed_seq) VALUES(1, 1, '7', 10, 1);"
                          "INSERT INTO verdicts VALUES(1, '7', '3', 'duplicate', 99);%s",
                          extra_sql ? extra_sql : "");
    fx_make_version(f, store_migrations, 4, sql);
    free(sql);
}

static void test_migrate_from_v4(void **state)
{
    fx *f = *state;
    dp_err err;
    make_v4(f, NULL);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_schema_version(f->st), store_nmigrations);   /* and on to the latest */
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                         "('actions', 'apply_queue', 'actions_once', 'actions_undo_once')"),
                     4);
    store_verdict_vec v = {0};
    assert_int_equal(store_verdicts_load(f->st, 1, &v, &err), DP_OK);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0].query_key, "7");
    assert_int_equal(v.v[0].verdict, VERDICT_DUPLICATE);
    assert_int_equal(v.v[0].created_at, 99);
    store_verdict_vec_free(&v);
    store_close(f->st);
    f->st = NULL;

    /* a table already named apply_queue makes the step fail after actions
     * was created: the whole step is undone */
    make_v4(f, "CREATE TABLE apply_queue(x)");
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "migrating schema to version 5"));
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    assert_int_equal(fx_pragma_int(f->path, "PRAGMA user_version"), 4);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'actions'"), 0);
    free(before);
    free(after);
}

static store_action intent(const char *unit, const char *kind, const char *target)
{
    store_action a;
    memset(&a, 0, sizeof a);
    a.source = (char *)"apply";
    a.unit = (char *)unit;
    a.query_key = (char *)"34";
    a.cand_key = (char *)"12";
    a.verdict = (char *)"duplicate";
    a.verdict_at = 500;
    a.kind = (char *)kind;
    a.target = (char *)target;
    a.method = (char *)"POST";
    a.path = (char *)"/repos/o/r/issues/34/comments";
    a.body = (char *)"{\"body\":\"Duplicate of #12\"}";
    return a;
}

static void test_actions(void **state)
{
    fx *f = *state;
    dp_err err;
    store_action a = intent("12:34", "comment", "34");
    assert_int_equal(store_action_add(f->st, f->repo, &a, &err), DP_OK);
    assert_true(a.id > 0);
    assert_true(a.created_at > 0);
    /* the same intent twice is refused: one write is never recorded twice */
    store_action dup = intent("12:34", "comment", "34");
    assert_int_equal(store_action_add(f->st, f->repo, &dup, &err), DP_ERR);
    /* ...but another kind, target or unit is fine, and edits repeat */
    store_action cl = intent("12:34", "close", "34"), other = intent("12:56", "comment", "56");
    store_action e1 = intent("triage:9", "edit", "9"), e2 = intent("triage:9", "edit", "9");
    assert_int_equal(store_action_add(f->st, f->repo, &cl, &err), DP_OK);
    assert_int_equal(store_action_add(f->st, f->repo, &other, &err), DP_OK);
    assert_int_equal(store_action_add(f->st, f->repo, &e1, &err), DP_OK);
    assert_int_equal(store_action_add(f->st, f->repo, &e2, &err), DP_OK);

    assert_int_equal(store_action_finish(f->st, a.id, "done", 201, 9001, 777, NULL, &err), DP_OK);
    assert_int_equal(store_action_finish(f->st, 99999, "done", 201, 1, 1, NULL, &err), DP_NOTFOUND);
    store_action got;
    assert_int_equal(store_action_get(f->st, a.id, &got, &err), DP_OK);
    assert_string_equal(got.state, "done");
    assert_int_equal(got.status, 201);
    assert_int_equal(got.gh_id, 9001);
    assert_int_equal(got.gh_time, 777);
    assert_string_equal(got.body, "{\"body\":\"Duplicate of #12\"}");
    assert_true(got.done_at > 0);
    store_action_free(&got);
    /* 0 keeps the stored id and time */
    assert_int_equal(store_action_finish(f->st, a.id, "done", 200, 0, 0, "reconciled", &err), DP_OK);
    assert_int_equal(store_action_get(f->st, a.id, &got, &err), DP_OK);
    assert_int_equal(got.gh_id, 9001);
    assert_string_equal(got.error, "reconciled");
    store_action_free(&got);
    assert_int_equal(store_action_get(f->st, 99999, &got, &err), DP_NOTFOUND);

    int64_t t = -1;
    assert_int_equal(store_action_last_write(f->st, f->repo, "34", &t, &err), DP_OK);
    assert_int_equal(t, 777);
    assert_int_equal(store_action_last_write(f->st, f->repo, "56", &t, &err), DP_OK);
    assert_int_equal(t, 0);   /* pending: no answer yet */

    /* failed and undone actions no longer block a new intent */
    assert_int_equal(store_action_finish(f->st, cl.id, "failed", 422, 0, 0, "Validation Failed", &err), DP_OK);
    store_action cl2 = intent("12:34", "close", "34");
    assert_int_equal(store_action_add(f->st, f->repo, &cl2, &err), DP_OK);
    assert_int_equal(store_action_set_state(f->st, a.id, "undone", &err), DP_OK);
    store_action again = intent("12:34", "comment", "34");
    assert_int_equal(store_action_add(f->st, f->repo, &again, &err), DP_OK);
    /* one live undo per action */
    store_action u1 = intent("12:34", "uncomment", "34"), u2 = intent("12:34", "uncomment", "34");
    u1.undo_of = u2.undo_of = a.id;
    assert_int_equal(store_action_add(f->st, f->repo, &u1, &err), DP_OK);
    assert_int_equal(store_action_add(f->st, f->repo, &u2, &err), DP_ERR);

    store_action_vec all = {0}, unit = {0};
    assert_int_equal(store_actions_load(f->st, f->repo, NULL, &all, &err), DP_OK);
    assert_int_equal(all.n, 8);
    for (size_t i = 1; i < all.n; i++) assert_true(all.v[i].id > all.v[i - 1].id);
    assert_int_equal(store_actions_load(f->st, f->repo, "12:34", &unit, &err), DP_OK);
    assert_int_equal(unit.n, 5);
    assert_int_equal(unit.v[4].undo_of, a.id);
    store_action_vec_free(&all);
    store_action_vec_free(&unit);
    /* the CHECK on state holds */
    assert_int_equal(store_action_finish(f->st, a.id, "bogus", 0, 0, 0, NULL, &err), DP_ERR);
}

static void test_queue_and_verdicts(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "9", "4", VERDICT_RELATED, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "8", "2", VERDICT_NOT_RELATED, &err), DP_OK);
    store_verdict_vec v = {0};
    assert_int_equal(store_verdicts_load(f->st, f->repo, &v, &err), DP_OK);
    assert_int_equal(v.n, 2);
    store_verdict_vec_free(&v);

    assert_int_equal(store_queue_add(f->st, f->repo, "9", "4", &err), DP_OK);
    assert_int_equal(store_queue_add(f->st, f->repo, "9", "4", &err), DP_OK);   /* idempotent */
    assert_int_equal(store_queue_add(f->st, f->repo, "8", "2", &err), DP_OK);
    strvec q = {0}, c = {0};
    assert_int_equal(store_queue_list(f->st, f->repo, &q, &c, &err), DP_OK);
    assert_int_equal(q.n, 2);
    assert_true(sv_contains(&q, "9") && sv_contains(&c, "4"));
    sv_free(&q);
    sv_free(&c);
    assert_int_equal(store_queue_del(f->st, f->repo, "9", "4", &err), DP_OK);
    assert_int_equal(store_queue_del(f->st, f->repo, "9", "4", &err), DP_OK);
    assert_int_equal(store_queue_list(f->st, f->repo, &q, &c, &err), DP_OK);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.v[0], "8");
    sv_free(&q);
    sv_free(&c);
}

int main(void)
{
    (void)fx_pair;   /* fixture helpers these tests do not need */
    (void)fx_put;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_from_v4, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_actions, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_queue_and_verdicts, fx_setup_open, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
