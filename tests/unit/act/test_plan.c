/* test_plan.c -- plans built from a store (no GitHub): what apply would
 * send for each verdict, in full; which units it skips and why (activity
 * since the verdict, an earlier failure, a closure that would tangle the
 * duplicate graph); undo plans; the queue and --pair filters. */
#include <time.h>

#include "../store/store_fixture.h"
#include "../../../src/act/act.h"

static void put(fx *f, const char *key, const char *state, const char *reason, int64_t created, int comments,
                int64_t updated, const char *label)
{
    item it;
    dp_err err;
    fx_item(&it, key, "title", state, updated);
    it.created_at = created;
    it.ncomments = comments;
    if (reason) it.state_reason = xstrdup(reason);
    if (label) sv_push(&it.labels, label);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
}

/* A verdict given at time `at` (store_verdict_set stamps now). */
static void verdict(fx *f, const char *q, const char *c, const char *v, int64_t at)
{
    dp_err err;
    verdict_kind vk;
    assert_int_equal(verdict_parse(v, &vk), 0);
    assert_int_equal(store_verdict_set(f->st, f->repo, q, c, vk, &err), DP_OK);
    char *sql = sqlite3_mprintf("UPDATE verdicts SET created_at = %lld WHERE query_key = %Q AND cand_key = %Q",
                                (long long)at, q, c);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    sqlite3_free(sql);
}

static const act_unit *unit(const act_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].key, key)) return &p->v[i];
    fail_msg("no unit %s", key);
    return NULL;
}

static char *plan_text(const act_plan *p)
{
    sbuf sb;
    sb_init(&sb);
    act_plan_print(p, 1, &sb);
    return sb_take(&sb);
}

static int64_t T0;

static int setup(void **state)
{
    if (fx_setup_open(state)) return -1;
    fx *f = *state;
    T0 = (int64_t)time(NULL) - 1000;
    put(f, "1", "open", NULL, 100, 0, T0 - 500, NULL);
    put(f, "2", "open", NULL, 200, 0, T0 - 500, NULL);
    put(f, "3", "closed", "completed", 300, 0, T0 - 500, NULL);
    put(f, "4", "open", NULL, 50, 9, T0 - 500, "duplicate");   /* older and busier, but 3 is fixed */
    put(f, "5", "open", NULL, 100, 0, T0 - 500, NULL);
    put(f, "6", "open", NULL, 600, 0, T0 - 500, NULL);
    return 0;
}

static void test_apply_plan(void **state)
{
    fx *f = *state;
    dp_err err;
    verdict(f, "2", "1", "duplicate", T0);
    verdict(f, "4", "3", "duplicate", T0);
    verdict(f, "6", "5", "related", T0);
    verdict(f, "6", "4", "not_related", T0);
    act_opts o = {.dup_label = "duplicate"};
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_string_equal(p.repo, "o/r");
    assert_int_equal(p.n, 4);

    const act_unit *u = unit(&p, "1:2");
    assert_int_equal(u->state, UNIT_TODO);
    assert_string_equal(u->canonical, "1");   /* equal activity: the older */
    assert_string_equal(u->dup, "2");
    assert_string_equal(u->gate, "2");
    assert_int_equal(u->nsteps, 3);
    assert_int_equal(u->steps[0].kind, ACT_COMMENT);
    assert_string_equal(u->steps[0].call.method, "POST");
    assert_string_equal(u->steps[0].call.path, "/repos/o/r/issues/2/comments");
    assert_string_equal(u->steps[0].call.body, "{\"body\":\"Duplicate of #1\\n\\n<!-- doppel:pair=1:2 v1 -->\"}");
    assert_int_equal(u->steps[1].kind, ACT_CLOSE);
    assert_string_equal(u->steps[1].call.method, "PATCH");
    assert_string_equal(u->steps[1].call.path, "/repos/o/r/issues/2");
    assert_string_equal(u->steps[1].call.body, "{\"state\":\"closed\",\"state_reason\":\"duplicate\"}");
    assert_int_equal(u->steps[2].kind, ACT_LABEL);
    assert_string_equal(u->steps[2].call.path, "/repos/o/r/issues/2/labels");
    assert_string_equal(u->steps[2].call.body, "{\"labels\":[\"duplicate\"]}");
    for (size_t i = 0; i < 3; i++) assert_int_equal(u->steps[i].state, STEP_NEW);

    u = unit(&p, "3:4");   /* 3 was closed as fixed: 4 is closed into it; 4 has the label already */
    assert_string_equal(u->canonical, "3");
    assert_int_equal(u->nsteps, 2);
    assert_int_equal(u->steps[1].kind, ACT_CLOSE);

    u = unit(&p, "5:6");
    assert_int_equal(u->nsteps, 1);
    assert_string_equal(u->steps[0].target, "6");
    assert_string_equal(u->steps[0].call.body, "{\"body\":\"Related: #5\\n\\n<!-- doppel:pair=5:6 v1 -->\"}");
    assert_null(u->gate);   /* nothing is closed: no activity check */

    u = unit(&p, "4:6");
    assert_int_equal(u->nsteps, 1);
    assert_int_equal(u->steps[0].kind, ACT_DECIDED);
    assert_int_equal(u->steps[0].call.method[0], 0);

    act_counts c;
    act_plan_count(&p, &c);
    assert_int_equal(c.todo, 4);
    assert_int_equal(c.writes[ACT_COMMENT], 3);
    assert_int_equal(c.writes[ACT_CLOSE], 2);
    assert_int_equal(c.writes[ACT_LABEL], 1);
    char *text = plan_text(&p);
    assert_non_null(strstr(text, "PATCH /repos/o/r/issues/2 {\"state\":\"closed\",\"state_reason\":\"duplicate\"}"));
    assert_non_null(strstr(text, "      | Duplicate of #1\n      |\n      | <!-- doppel:pair=1:2 v1 -->\n"));
    assert_non_null(strstr(text, "keep #1, act on #2"));
    free(text);
    act_plan_free(&p);

    /* no label; only one pair */
    strvec only = {0};
    sv_push(&only, "1:2");
    act_opts o2 = {.only = &only};
    assert_int_equal(act_plan_apply(f->st, f->repo, &o2, &p, &err), DP_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.v[0].nsteps, 2);
    act_plan_free(&p);
    sv_free(&only);
    /* the queue */
    act_opts o3 = {.queued_only = 1};
    assert_int_equal(act_plan_apply(f->st, f->repo, &o3, &p, &err), DP_OK);
    assert_int_equal(p.n, 0);
    act_plan_free(&p);
    assert_int_equal(store_queue_add(f->st, f->repo, "6", "5", &err), DP_OK);
    assert_int_equal(act_plan_apply(f->st, f->repo, &o3, &p, &err), DP_OK);
    assert_int_equal(p.n, 1);
    assert_true(p.v[0].queued);
    act_plan_free(&p);
}

/* What was done is not done again; what is pending is reconciled. */
static void test_progress(void **state)
{
    fx *f = *state;
    dp_err err;
    verdict(f, "2", "1", "duplicate", T0);
    act_opts o = {.dup_label = "duplicate"};
    store_action a = {.source = "apply", .unit = "1:2", .verdict = "duplicate", .kind = "comment", .target = "2",
                      .method = "POST", .path = "/x"};
    assert_int_equal(store_action_add(f->st, f->repo, &a, &err), DP_OK);
    assert_int_equal(store_action_finish(f->st, a.id, "done", 201, 77, T0 + 5, NULL, &err), DP_OK);
    store_action b = {.source = "apply", .unit = "1:2", .verdict = "duplicate", .kind = "close", .target = "2",
                      .arg = "1", .method = "PATCH", .path = "/y"};
    assert_int_equal(store_action_add(f->st, f->repo, &b, &err), DP_OK);
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    const act_unit *u = unit(&p, "1:2");
    assert_int_equal(u->state, UNIT_TODO);
    assert_int_equal(u->steps[0].state, STEP_DONE);
    assert_int_equal(u->steps[0].gh_id, 77);
    assert_int_equal(u->steps[1].state, STEP_PENDING);
    assert_int_equal(u->steps[1].row, b.id);
    assert_int_equal(u->steps[2].state, STEP_NEW);
    char *text = plan_text(&p);
    assert_non_null(strstr(text, "GitHub is checked first"));
    free(text);
    act_plan_free(&p);
    assert_int_equal(store_action_finish(f->st, b.id, "done", 200, 0, T0 + 6, NULL, &err), DP_OK);
    store_action c = {.source = "apply", .unit = "1:2", .verdict = "duplicate", .kind = "label", .target = "2",
                      .arg = "duplicate", .method = "POST", .path = "/z", .state = "done"};
    assert_int_equal(store_action_add(f->st, f->repo, &c, &err), DP_OK);
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(unit(&p, "1:2")->state, UNIT_DONE);
    act_plan_free(&p);
}

static void test_activity_and_confirm(void **state)
{
    fx *f = *state;
    dp_err err;
    put(f, "2", "open", NULL, 200, 0, T0 + 10, NULL);   /* edited after the verdict */
    verdict(f, "2", "1", "duplicate", T0);
    act_opts o = {0};
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_SKIPPED);
    assert_non_null(strstr(p.v[0].why, "activity on #2 since the verdict"));
    assert_non_null(strstr(p.v[0].why, "doppel apply --confirm 1:2"));
    act_plan_free(&p);
    /* doppel's own write explains the update: not activity */
    store_action a = {.source = "apply", .unit = "2:9", .kind = "comment", .target = "2", .method = "POST",
                      .path = "/x"};
    assert_int_equal(store_action_add(f->st, f->repo, &a, &err), DP_OK);
    assert_int_equal(store_action_finish(f->st, a.id, "done", 201, 5, T0 + 10, NULL, &err), DP_OK);
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_TODO);
    act_plan_free(&p);
    assert_int_equal(store_action_set_state(f->st, a.id, "failed", &err), DP_OK);
    /* re-confirming takes the verdict to now */
    assert_int_equal(act_confirm(f->st, f->repo, "1:2", &err), DP_OK);
    assert_int_equal(act_confirm(f->st, f->repo, "1:99", &err), DP_NOTFOUND);
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_TODO);
    act_plan_free(&p);
}

static void test_held_back(void **state)
{
    fx *f = *state;
    dp_err err;
    verdict(f, "6", "5", "related", T0);
    store_action a = {.source = "apply", .unit = "5:6", .verdict = "related", .kind = "comment", .target = "6",
                      .method = "POST", .path = "/x", .created_at = T0 + 1};
    assert_int_equal(store_action_add(f->st, f->repo, &a, &err), DP_OK);
    assert_int_equal(store_action_finish(f->st, a.id, "failed", 422, 0, 0, "HTTP 422: Validation Failed", &err),
                     DP_OK);
    act_opts o = {0};
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_SKIPPED);
    assert_non_null(strstr(p.v[0].why, "Validation Failed"));
    act_plan_free(&p);
    assert_int_equal(act_confirm(f->st, f->repo, "6:5", &err), DP_OK);
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_TODO);
    assert_int_equal(p.v[0].steps[0].state, STEP_NEW);   /* the failed action does not count as done */
    act_plan_free(&p);
    /* a verdict changed after doppel acted on it */
    store_action b = {.source = "apply", .unit = "5:6", .verdict = "related", .kind = "comment", .target = "6",
                      .method = "POST", .path = "/x", .state = "done"};
    assert_int_equal(store_action_add(f->st, f->repo, &b, &err), DP_OK);
    verdict(f, "6", "5", "duplicate", (int64_t)time(NULL));
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    assert_int_equal(p.v[0].state, UNIT_SKIPPED);
    assert_non_null(strstr(p.v[0].why, "verdict changed"));
    act_plan_free(&p);
}

static void test_graph_refusals(void **state)
{
    fx *f = *state;
    dp_err err;
    /* 8 is already closed as a duplicate of 7: nothing to write */
    put(f, "7", "open", NULL, 700, 0, T0 - 500, NULL);
    put(f, "8", "closed", "duplicate", 800, 0, T0 - 500, NULL);
    item_link l = {.src_key = "8", .dst_key = "7", .type = LINK_DUPLICATE, .source = "timeline"};
    assert_int_equal(store_link_add(f->st, f->repo, &l, &err), DP_OK);
    verdict(f, "8", "7", "duplicate", T0);
    /* 12 was closed into 13 by doppel, 14 is marked a duplicate of 12:
     * closing 13 into 14 would close a loop */
    put(f, "12", "open", NULL, 1200, 0, T0 - 500, NULL);
    put(f, "13", "open", NULL, 1300, 0, T0 - 500, NULL);
    put(f, "14", "open", NULL, 1400, 5, T0 - 500, NULL);
    store_action a = {.source = "apply", .unit = "12:13", .verdict = "duplicate", .kind = "close", .target = "12",
                      .arg = "13", .method = "PATCH", .path = "/x", .state = "done"};
    assert_int_equal(store_action_add(f->st, f->repo, &a, &err), DP_OK);
    item_link l2 = {.src_key = "14", .dst_key = "12", .type = LINK_DUPLICATE, .source = "body"};
    assert_int_equal(store_link_add(f->st, f->repo, &l2, &err), DP_OK);
    verdict(f, "14", "13", "duplicate", T0);
    verdict(f, "99", "1", "duplicate", T0);   /* 99 is not in the store */
    act_opts o = {0};
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, f->repo, &o, &p, &err), DP_OK);
    const act_unit *u = unit(&p, "7:8");
    assert_int_equal(u->state, UNIT_TODO);
    assert_int_equal(u->nsteps, 1);
    assert_int_equal(u->steps[0].kind, ACT_DECIDED);
    assert_non_null(strstr(u->why, "already closed as a duplicate"));
    u = unit(&p, "13:14");
    assert_int_equal(u->state, UNIT_SKIPPED);
    assert_non_null(strstr(u->why, "refused"));
    assert_non_null(strstr(u->why, "both"));
    u = unit(&p, "1:99");
    assert_int_equal(u->state, UNIT_SKIPPED);
    assert_non_null(strstr(u->why, "not in the store"));
    act_plan_free(&p);
}

static void test_undo_plan(void **state)
{
    fx *f = *state;
    dp_err err;
    store_action acts[] = {
        {.source = "apply", .unit = "1:2", .kind = "comment", .target = "2", .method = "POST", .state = "done",
         .gh_id = 55},
        {.source = "apply", .unit = "1:2", .kind = "close", .target = "2", .method = "PATCH", .state = "done"},
        {.source = "triage", .unit = "triage:2", .kind = "label", .target = "2", .arg = "possible duplicate",
         .method = "POST", .state = "done"},
        {.source = "triage", .unit = "triage:2", .kind = "edit", .target = "2", .method = "PATCH", .state = "done"},
        {.source = "apply", .unit = "2:3", .kind = "decided", .target = "", .state = "done"},
        {.source = "apply", .unit = "2:4", .kind = "comment", .target = "2", .method = "POST", .state = "pending"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        assert_int_equal(store_action_add(f->st, f->repo, &acts[i], &err), DP_OK);
    act_plan p;
    assert_int_equal(act_plan_undo(f->st, acts[0].id, &p, &err), DP_OK);
    assert_int_equal(p.v[0].steps[0].kind, ACT_UNCOMMENT);
    assert_string_equal(p.v[0].steps[0].call.method, "DELETE");
    assert_string_equal(p.v[0].steps[0].call.path, "/repos/o/r/issues/comments/55");
    assert_int_equal(p.v[0].steps[0].undo_of, acts[0].id);
    act_plan_free(&p);
    assert_int_equal(act_plan_undo(f->st, acts[1].id, &p, &err), DP_OK);
    assert_int_equal(p.v[0].steps[0].kind, ACT_REOPEN);
    assert_string_equal(p.v[0].steps[0].call.body, "{\"state\":\"open\",\"state_reason\":\"reopened\"}");
    act_plan_free(&p);
    assert_int_equal(act_plan_undo(f->st, acts[2].id, &p, &err), DP_OK);
    assert_string_equal(p.v[0].steps[0].call.path, "/repos/o/r/issues/2/labels/possible%20duplicate");
    act_plan_free(&p);
    assert_int_equal(act_plan_undo(f->st, acts[3].id, &p, &err), DP_ERR);
    assert_int_equal(act_plan_undo(f->st, acts[4].id, &p, &err), DP_ERR);
    assert_int_equal(act_plan_undo(f->st, acts[5].id, &p, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "pending"));
    assert_int_equal(act_plan_undo(f->st, 4242, &p, &err), DP_NOTFOUND);
}

static void test_not_github(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t jira;
    assert_int_equal(store_repo_get(f->st, "HIVE", 1, "jira", NULL, &jira, &err), DP_OK);
    act_opts o = {0};
    act_plan p;
    assert_int_equal(act_plan_apply(f->st, jira, &o, &p, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "not a GitHub repository"));
}

int main(void)
{
    (void)fx_pair;
    (void)fx_put;
    (void)fx_fingerprint;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_plan, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_progress, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_activity_and_confirm, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_held_back, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_graph_refusals, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undo_plan, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_not_github, setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
