/* test_pairs.c -- the store's pairs and verdicts: replace, every filter of
 * store_pairs_query with paging and counts, neighbours, verdict set/undo. */
#include "store_fixture.h"
#include "../../../src/store/store_int.h"

/* Six items and six pairs. By value the order is A C B E D F (B and E tie
 * at 3.0 and B was inserted first).
 *   1 "Crash when opening file"  open    bug
 *   2 "crash on open"            closed  bug
 *   3 "Docs typo"                open    docs
 *   4 "Typo in README"           closed
 *   5 "Feature: dark mode"       open    Enhancement
 *   6 "Dark theme request"       open                                      */
static void seed(fx *f)
{
    dp_err err;
    fx_put(f, "1", "Crash when opening file", "open", "bug");
    fx_put(f, "2", "crash on open", "closed", "bug");
    fx_put(f, "3", "Docs typo", "open", "docs");
    fx_put(f, "4", "Typo in README", "closed", NULL);
    fx_put(f, "5", "Feature: dark mode", "open", "Enhancement");
    fx_put(f, "6", "Dark theme request", "open", NULL);
    pair p[] = {
        fx_pair("1", "2", "duplicate", "high", 5.0, 0),   /* A */
        fx_pair("3", "4", "related", "medium", 3.0, 0),   /* B */
        fx_pair("5", "6", "duplicate", "low", 4.0, 1),    /* C */
        fx_pair("2", "1", "duplicate", "high", 1.0, 0),   /* D */
        fx_pair("6", "5", "related", "low", 3.0, 0),      /* E */
        fx_pair("4", "3", "related", "low", 0.5, 0),      /* F */
    };
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, p, 6, &err), DP_OK);
}

static int fx_setup_seeded(void **state)
{
    if (fx_setup_open(state)) return -1;
    seed(*state);
    return 0;
}

/* The pairs matching flt as "q>c q>c ...", plus the counts. */
static char *run(fx *f, const pair_filter *flt, size_t *total, size_t *reviewed)
{
    dp_err err;
    pair_vec v = {0};
    int rc = store_pairs_query(f->st, flt, &v, total, reviewed, &err);
    if (rc != DP_OK) fail_msg("%s", err.msg);
    sbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < v.n; i++) sb_printf(&sb, "%s%s>%s", i ? " " : "", v.v[i].query_key, v.v[i].cand_key);
    pair_vec_free(&v);
    return sb.s ? sb_take(&sb) : xstrdup("");
}

#define EXPECT(f, flt, want)                      \
    do {                                          \
        char *got_ = run((f), (flt), NULL, NULL); \
        assert_string_equal(got_, (want));        \
        free(got_);                               \
    } while (0)

static int64_t pair_id(fx *f, const char *q, const char *c)
{
    pair p = fx_find(f, q, c);
    int64_t id = p.id;
    pair_free(&p);
    return id;
}

static void test_round_trip(void **state)
{
    fx *f = *state;
    dp_err err;
    pair in = fx_pair("10", "20", "related", "medium", 2.289, 1);
    in.rank = 3;
    in.score = -1.5;
    in.prob = 0.625;
    in.reasoning = "Both mention \"NullPointerException\".\nSame labels: bug.";
    in.value_detail = "open twin closed: 1.5\nrecency: 0.789";
    in.suggested_comment = "This looks like a duplicate of #20.";
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, &in, 1, &err), DP_OK);
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, "10", "20", &p, &err), DP_OK);
    assert_true(p.id > 0);
    assert_int_equal(p.repo_id, f->repo);
    assert_int_equal(p.rank, 3);
    assert_true(p.score == -1.5);
    assert_true(p.prob == 0.625);
    assert_true(p.value == 2.289);
    assert_int_equal(p.relation, RELATION_RELATED);
    assert_int_equal(p.confidence, CONFIDENCE_MEDIUM);
    assert_string_equal(p.reasoning, in.reasoning);
    assert_string_equal(p.value_detail, in.value_detail);
    assert_string_equal(p.suggested_comment, in.suggested_comment);
    assert_int_equal(p.known, 1);
    assert_int_equal(p.verdict, VERDICT_NONE);
    assert_int_equal(p.verdict_at, 0);
    int64_t id = p.id;
    pair_free(&p);
    assert_int_equal(store_pair_get(f->st, id, &p, &err), DP_OK);
    assert_string_equal(p.query_key, "10");
    assert_string_equal(p.cand_key, "20");
    pair_free(&p);
    assert_int_equal(store_pair_get(f->st, id + 1000, &p, &err), DP_NOTFOUND);
    assert_int_equal(store_pair_find(f->st, f->repo, "20", "10", &p, &err), DP_NOTFOUND);
}

/* Texts whose lengths the pair carries are stored at those lengths (what
 * analyze passes from the explainer); 0 is "not known": measured. */
static void test_text_lengths(void **state)
{
    fx *f = *state;
    dp_err err;
    pair in[2] = {fx_pair("10", "20", "related", "medium", 1.0, 0), fx_pair("11", "20", "related", "low", 0.5, 0)};
    in[0].reasoning = "Both mention tokenizer.";
    in[0].reasoning_len = strlen(in[0].reasoning);
    in[0].value_detail = "value: 1.000 and more";
    in[0].value_detail_len = strlen("value: 1.000");   /* the bytes as given */
    in[0].suggested_comment = "";
    in[1].reasoning = "Measured.";   /* no lengths */
    in[1].suggested_comment = "Duplicate of #20";
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, in, 2, &err), DP_OK);
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, "10", "20", &p, &err), DP_OK);
    assert_string_equal(p.reasoning, "Both mention tokenizer.");
    assert_string_equal(p.value_detail, "value: 1.000");
    assert_string_equal(p.suggested_comment, "");
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "11", "20", &p, &err), DP_OK);
    assert_string_equal(p.reasoning, "Measured.");
    assert_null(p.value_detail);
    assert_string_equal(p.suggested_comment, "Duplicate of #20");
    pair_free(&p);
}

static void test_replace_keeps_verdicts(void **state)
{
    fx *f = *state;
    dp_err err;
    pair p;
    int64_t old_a = pair_id(f, "1", "2");
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "3", "4", VERDICT_NOT_RELATED, &err), DP_OK);
    /* re-analysis of query 1 only: its pairs change, the others stay */
    const char *q[] = {"1"};
    pair np[] = {fx_pair("1", "2", "duplicate", "high", 6.0, 0), fx_pair("1", "3", "related", "low", 0.1, 0)};
    assert_int_equal(store_pairs_replace(f->st, f->repo, q, 1, np, 2, &err), DP_OK);
    assert_int_equal(store_pair_find(f->st, f->repo, "1", "2", &p, &err), DP_OK);
    assert_true(p.value == 6.0);
    assert_int_equal(p.verdict, VERDICT_DUPLICATE);
    assert_true(p.verdict_at > 0);
    assert_true(p.id > old_a);              /* ids are never reused */
    pair_free(&p);
    pair_filter flt;
    pair_filter_init(&flt);
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3 1>3");
    /* a full replace without 3>4: its verdict survives for when it returns */
    pair only = fx_pair("2", "1", "duplicate", "high", 1.0, 0);
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, &only, 1, &err), DP_OK);
    EXPECT(f, &flt, "2>1");
    assert_int_equal(store_pair_find(f->st, f->repo, "3", "4", &p, &err), DP_NOTFOUND);
    pair back = fx_pair("3", "4", "related", "medium", 3.0, 0);
    const char *q3[] = {"3"};
    assert_int_equal(store_pairs_replace(f->st, f->repo, q3, 1, &back, 1, &err), DP_OK);
    assert_int_equal(store_pair_find(f->st, f->repo, "3", "4", &p, &err), DP_OK);
    assert_int_equal(p.verdict, VERDICT_NOT_RELATED);
    pair_free(&p);
    /* replacing with nothing clears the repo's pairs */
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, NULL, 0, &err), DP_OK);
    EXPECT(f, &flt, "");
}

/* Every stored pair but its id, with its texts, in one string (owned). */
static char *pair_rows(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(r, char(10)) FROM (SELECT quote(p.query_key) || quote(p.cand_key) "
                                        "|| quote(p.rank) || quote(p.score) || quote(p.prob) || quote(p.relation) "
                                        "|| quote(p.confidence) || quote(p.value) || quote(p.known) "
                                        "|| quote(p.comment_on) || quote(p.canonical) || quote(p.updated_at) "
                                        "|| quote(t.id IS NOT NULL) || quote(t.reasoning) || quote(t.value_detail) "
                                        "|| quote(t.suggested_comment) AS r FROM pairs p "
                                        "LEFT JOIN pair_texts t ON t.id = p.id ORDER BY p.query_key, p.cand_key)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char *v = xstrdup(sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "");
    sqlite3_finalize(s);
    return v;
}

/* An incremental replace by merging: a pair equal to the stored one in
 * every column and text keeps its row untouched; one that differs -- in a
 * column, a text, the updated_at the insert computes, its relation (the
 * counts follow) -- is rewritten in place, id kept; one the run did not
 * store again goes; the other queries' stay. The rows are then those a
 * delete-and-add (store_pairs_replace) of the same queries leaves, ids
 * aside. */
static void test_merge_writes_only_changes(void **state)
{
    fx *f = *state;
    dp_err err;
    pair other = fx_pair("7", "1", "related", "low", 2.0, 0);   /* a query the run leaves alone */
    assert_int_equal(store_pairs_add(f->st, f->repo, &other, 1, &err), DP_OK);
    int64_t a = pair_id(f, "1", "2"), b = pair_id(f, "3", "4"), d = pair_id(f, "2", "1"), e = pair_id(f, "6", "5"),
            fid = pair_id(f, "4", "3"), oid = pair_id(f, "7", "1");
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE pairs SET updated_at = 1 WHERE query_key = '6'", NULL, NULL, NULL),
                     SQLITE_OK);   /* behind its items: the insert would give it another */
    pair np[] = {
        fx_pair("1", "2", "duplicate", "high", 5.0, 0),   /* A as stored */
        fx_pair("1", "3", "related", "low", 0.1, 0),      /* new */
        fx_pair("3", "4", "related", "medium", 3.5, 0),   /* B, another value */
        fx_pair("2", "1", "duplicate", "high", 1.0, 0),   /* D, another text */
        fx_pair("6", "5", "related", "low", 3.0, 0),      /* E as stored, but for updated_at */
        fx_pair("4", "3", "duplicate", "medium", 0.5, 0), /* F, another class and no texts */
    };
    np[3].reasoning = (char *)"other terms";
    np[5].reasoning = NULL;
    const char *q[] = {"1", "3", "2", "6", "5", "4"};   /* 5>6 (C) is not stored again */
    int64_t max_id;
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_merge_begin(f->st, &max_id, &err), DP_OK);
    assert_int_equal(store_pairs_merge(f->st, f->repo, np, 3, &err), DP_OK);
    assert_int_equal(store_pairs_merge(f->st, f->repo, np + 3, 3, &err), DP_OK);
    assert_int_equal(store_pairs_merge_end(f->st, f->repo, q, 6, max_id, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(pair_id(f, "1", "2"), a);   /* kept */
    assert_int_equal(pair_id(f, "7", "1"), oid);   /* another query's */
    assert_true(pair_id(f, "1", "3") > max_id);
    assert_int_equal(pair_id(f, "3", "4"), b);   /* rewritten in place */
    assert_int_equal(pair_id(f, "2", "1"), d);
    assert_int_equal(pair_id(f, "6", "5"), e);
    assert_int_equal(pair_id(f, "4", "3"), fid);
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, "3", "4", &p, &err), DP_OK);
    assert_true(p.value == 3.5);
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "2", "1", &p, &err), DP_OK);
    assert_string_equal(p.reasoning, "other terms");
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "6", "5", &p, &err), DP_OK);
    assert_true(p.updated_at > 1);
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "4", "3", &p, &err), DP_OK);
    assert_int_equal(p.relation, RELATION_DUPLICATE);
    assert_null(p.reasoning);
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "5", "6", &p, &err), DP_NOTFOUND);
    pair_filter flt;
    pair_filter_init(&flt);
    size_t total = 0;
    char *got = run(f, &flt, &total, NULL);
    free(got);
    assert_int_equal(total, 7);
    fx_expect_pairs_consistent(f->st->db);
    /* the same rows as a delete-and-add of those queries */
    char *merged = pair_rows(f->st->db);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_replace(f->st, f->repo, q, 6, np, 6, &err), DP_OK);
    char *replaced = pair_rows(f->st->db);
    store_rollback(f->st);
    assert_string_equal(merged, replaced);
    free(merged);
    free(replaced);
}

static void test_replace_is_atomic(void **state)
{
    fx *f = *state;
    dp_err err;
    char *before = fx_fingerprint(f->path);
    /* the second pair repeats the first: the whole replace fails */
    pair bad[] = {fx_pair("1", "9", "related", "low", 1, 0), fx_pair("1", "9", "related", "low", 2, 0)};
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, bad, 2, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "store: inserting pair 1 -> 9: "));
    assert_non_null(strstr(err.msg, "UNIQUE"));
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    free(after);
    /* inside a caller's transaction only the replace is undone */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fx_put(f, "7", "seven", "open", NULL);
    pair nul = fx_pair("7", "1", "related", "low", 1, 0);
    nul.relation = RELATION_COUNT;                     /* no such relation */
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, &nul, 1, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "unknown relation"));
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    item it;
    assert_int_equal(store_item_get(f->st, f->repo, "7", &it, &err), DP_OK);
    item_free(&it);
    pair_filter flt;
    pair_filter_init(&flt);
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");
    /* a pair replacement (analyze's transaction) is all or nothing: the
     * calls take no savepoint of their own, the caller rolls back; a
     * merge that wrote some pairs before failing leaves nothing after it */
    char *mid = fx_fingerprint(f->path);
    int64_t max_id;
    pair two[] = {fx_pair("1", "2", "duplicate", "high", 6.0, 0), fx_pair("1", "4", "related", "low", 1, 0), nul};
    assert_int_equal(store_begin_pairs(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_merge_begin(f->st, &max_id, &err), DP_OK);
    assert_int_equal(store_pairs_merge(f->st, f->repo, two, 3, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "unknown relation"));
    store_rollback(f->st);
    after = fx_fingerprint(f->path);
    assert_string_equal(mid, after);
    free(after);
    free(mid);
    /* and a store_begin after it takes savepoints again */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, &nul, 1, &err), DP_ERR);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");
    free(before);
}

static void test_filters(void **state)
{
    fx *f = *state;
    pair_filter flt;
    size_t total = 0, reviewed = 9;
    pair_filter_init(&flt);
    char *all = run(f, &flt, &total, &reviewed);
    assert_string_equal(all, "1>2 5>6 3>4 6>5 2>1 4>3");
    free(all);
    assert_int_equal(total, 6);
    assert_int_equal(reviewed, 0);
    flt.repo_id = f->repo;
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");

    pair_filter_init(&flt);
    flt.relation = RELATION_DUPLICATE;
    EXPECT(f, &flt, "1>2 5>6 2>1");
    flt.relation = RELATION_COUNT;   /* out of range: an error, not an empty list */
    {
        dp_err err;
        pair_vec none = {0};
        assert_int_equal(store_pairs_query(f->st, &flt, &none, NULL, NULL, &err), DP_ERR);
        pair_vec_free(&none);
    }

    pair_filter_init(&flt);
    flt.confidence = CONFIDENCE_LOW;
    EXPECT(f, &flt, "5>6 6>5 4>3");

    pair_filter_init(&flt);
    flt.query_state = "open";
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5");
    flt.query_state = NULL;
    flt.cand_state = "closed";
    EXPECT(f, &flt, "1>2 3>4");
    flt.query_state = "closed";
    EXPECT(f, &flt, "");

    pair_filter_init(&flt);
    flt.label = "bug";
    EXPECT(f, &flt, "1>2 2>1");
    flt.label = "ENHANCEMENT";        /* labels compare case-insensitively */
    EXPECT(f, &flt, "5>6 6>5");
    flt.label = "docs";               /* on the query side of 3>4, the candidate side of 4>3 */
    EXPECT(f, &flt, "3>4 4>3");
    flt.label = "wontfix";
    EXPECT(f, &flt, "");

    pair_filter_init(&flt);
    flt.include_known = 0;
    EXPECT(f, &flt, "1>2 3>4 6>5 2>1 4>3");

    /* combined */
    pair_filter_init(&flt);
    flt.relation = RELATION_DUPLICATE;
    flt.query_state = "open";
    flt.label = "bug";
    EXPECT(f, &flt, "1>2");
}

static void test_text_filter(void **state)
{
    fx *f = *state;
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "CRASH";               /* either title, any case */
    EXPECT(f, &flt, "1>2 2>1");
    flt.text = "readme";              /* candidate title of 3>4, query title of 4>3 */
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "#5";                  /* GitHub-style number */
    EXPECT(f, &flt, "5>6 6>5");
    flt.text = "6";                   /* key substring */
    EXPECT(f, &flt, "5>6 6>5");
    flt.text = "%";                   /* LIKE wildcards are literal */
    EXPECT(f, &flt, "");
    flt.text = "_";
    EXPECT(f, &flt, "");
    flt.text = "dark mode";
    EXPECT(f, &flt, "5>6 6>5");
    flt.text = "'; DROP TABLE pairs; --";
    EXPECT(f, &flt, "");
    flt.text = "";                    /* empty means no filter */
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");
}

static void test_reviewed_and_paging(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "6", "5", VERDICT_RELATED, &err), DP_OK);
    pair_filter flt;
    size_t total, reviewed;
    pair_filter_init(&flt);
    char *s = run(f, &flt, &total, &reviewed);
    free(s);
    assert_int_equal(total, 6);
    assert_int_equal(reviewed, 2);
    flt.reviewed = 1;
    EXPECT(f, &flt, "1>2 6>5");
    flt.reviewed = 0;
    s = run(f, &flt, &total, &reviewed);
    assert_string_equal(s, "5>6 3>4 2>1 4>3");
    free(s);
    assert_int_equal(total, 4);
    assert_int_equal(reviewed, 0);
    pair_filter_init(&flt);
    flt.relation = RELATION_DUPLICATE;
    s = run(f, &flt, &total, &reviewed);
    free(s);
    assert_int_equal(total, 3);
    assert_int_equal(reviewed, 1);
    /* paging: counts are before paging */
    pair_filter_init(&flt);
    flt.offset = 1;
    flt.limit = 2;
    s = run(f, &flt, &total, &reviewed);
    assert_string_equal(s, "5>6 3>4");
    free(s);
    assert_int_equal(total, 6);
    assert_int_equal(reviewed, 2);
    flt.offset = 5;
    EXPECT(f, &flt, "4>3");
    flt.offset = 6;
    EXPECT(f, &flt, "");
    flt.offset = 0;
    flt.limit = 1;
    EXPECT(f, &flt, "1>2");
    /* rows carry their verdict */
    pair_vec v = {0};
    pair_filter_init(&flt);
    assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_OK);
    assert_int_equal(v.n, 6);
    assert_int_equal(v.v[0].verdict, VERDICT_DUPLICATE);
    assert_int_equal(v.v[1].verdict, VERDICT_NONE);
    assert_int_equal(v.v[3].verdict, VERDICT_RELATED);
    pair_vec_free(&v);
    /* counts only */
    assert_int_equal(store_pairs_query(f->st, &flt, NULL, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 6);
}

/* updated_at of the pair 1>2 of repository 1, read straight from the table. */
static int64_t pair_stamp(fx *f)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT updated_at FROM pairs WHERE query_key = '1' "
                                                   "AND cand_key = '2'", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void put_at(fx *f, int64_t repo, const char *key, int64_t updated)
{
    item it;
    dp_err err;
    fx_item(&it, key, "title", "open", updated);
    int rc = store_item_upsert(f->st, repo, &it, NULL, &err);
    item_free(&it);
    if (rc != DP_OK) fail_msg("%s", err.msg);
}

/* A bulk import looks up once per transaction whether a repository has
 * pairs, and skips touching them when it has none. Pairs of the repository
 * are still raised by a newer copy of their item, also when they were
 * added after that look-up within the same transaction, and another
 * repository without pairs does not hide them. */
static void test_bulk_touch(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/empty", 1, "github", NULL, &other, &err), DP_OK);
    assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    put_at(f, f->repo, "1", 100);    /* no pairs yet: looked up, none */
    put_at(f, f->repo, "2", 100);
    pair p = fx_pair("1", "2", "duplicate", "high", 9, 0);
    assert_int_equal(store_pairs_add(f->st, f->repo, &p, 1, &err), DP_OK);
    assert_int_equal(pair_stamp(f), 100);
    put_at(f, f->repo, "1", 300);    /* the pair added since must be touched */
    assert_int_equal(pair_stamp(f), 300);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    /* a new transaction: the other repository (no pairs) first, then an
     * item of the repository with pairs */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    put_at(f, other, "1", 900);
    put_at(f, f->repo, "2", 500);
    assert_int_equal(pair_stamp(f), 500);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
}

static void test_sorts(void **state)
{
    fx *f = *state;
    dp_err err;
    pair_filter flt;
    pair_filter_init(&flt);
    flt.sort = "prob";
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");
    /* item 4 updated last, then item 6: pairs touching them come first */
    item it;
    fx_item(&it, "4", "Typo in README", "closed", 9000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    fx_item(&it, "6", "Dark theme request", "open", 8000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    flt.sort = "updated";
    EXPECT(f, &flt, "3>4 4>3 5>6 6>5 1>2 2>1");
    flt.sort = "bogus";
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(v.n, 0);
    int64_t prev, next;
    assert_int_equal(store_pair_neighbors(f->st, &flt, 1, &prev, &next, &err), DP_ERR);
}

static void test_other_repo_separate(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    pair p = fx_pair("1", "2", "duplicate", "high", 9.0, 0);
    assert_int_equal(store_pairs_replace(f->st, r2, NULL, 0, &p, 1, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, r2, "1", "2", VERDICT_NOT_RELATED, &err), DP_OK);
    pair_filter flt;
    pair_filter_init(&flt);
    size_t total, reviewed;
    char *s = run(f, &flt, &total, &reviewed);      /* all repos */
    assert_string_equal(s, "1>2 1>2 5>6 3>4 6>5 2>1 4>3");
    free(s);
    assert_int_equal(reviewed, 1);
    flt.repo_id = f->repo;
    s = run(f, &flt, &total, &reviewed);
    free(s);
    assert_int_equal(total, 6);
    assert_int_equal(reviewed, 0);      /* the other repo's verdict does not leak */
    /* the label filter looks at this repo's items only (r2 has none) */
    flt.repo_id = r2;
    flt.label = "bug";
    EXPECT(f, &flt, "");
    /* replacing all of r2 leaves f->repo alone */
    assert_int_equal(store_pairs_replace(f->st, r2, NULL, 0, NULL, 0, &err), DP_OK);
    pair_filter_init(&flt);
    EXPECT(f, &flt, "1>2 5>6 3>4 6>5 2>1 4>3");
}

/* ---- neighbours ------------------------------------------------------ */

static void expect_neighbors(fx *f, const pair_filter *flt, const char *q, const char *c, int64_t want_prev,
                             int64_t want_next)
{
    dp_err err;
    int64_t prev = -1, next = -1;
    assert_int_equal(store_pair_neighbors(f->st, flt, pair_id(f, q, c), &prev, &next, &err), DP_OK);
    assert_int_equal(prev, want_prev);
    assert_int_equal(next, want_next);
}

static void test_neighbors(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t A = pair_id(f, "1", "2"), B = pair_id(f, "3", "4"), C = pair_id(f, "5", "6"),
            D = pair_id(f, "2", "1"), E = pair_id(f, "6", "5"), F = pair_id(f, "4", "3");
    pair_filter flt;
    pair_filter_init(&flt);
    /* A C B E D F */
    expect_neighbors(f, &flt, "1", "2", 0, C);
    expect_neighbors(f, &flt, "3", "4", C, E);     /* tie at 3.0 broken by id */
    expect_neighbors(f, &flt, "6", "5", B, D);
    expect_neighbors(f, &flt, "4", "3", D, 0);
    /* a pair outside the filter: neighbours around its position */
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "6", "5", VERDICT_RELATED, &err), DP_OK);
    flt.reviewed = 0;                               /* C B D F */
    expect_neighbors(f, &flt, "6", "5", B, D);
    expect_neighbors(f, &flt, "1", "2", 0, C);
    expect_neighbors(f, &flt, "5", "6", 0, B);
    flt.reviewed = -1;
    flt.relation = RELATION_RELATED;                       /* B E F */
    expect_neighbors(f, &flt, "3", "4", 0, E);
    expect_neighbors(f, &flt, "2", "1", E, F);
    flt.relation = -1;
    flt.text = "typo";                                      /* B F, from the text's set */
    expect_neighbors(f, &flt, "6", "5", B, F);
    expect_neighbors(f, &flt, "1", "2", 0, B);
    expect_neighbors(f, &flt, "4", "3", B, 0);
    (void)A;
    int64_t prev = -1, next = -1;
    assert_int_equal(store_pair_neighbors(f->st, &flt, F + 1000, &prev, &next, &err), DP_NOTFOUND);
    assert_int_equal(prev, 0);
    assert_int_equal(next, 0);
}

/* For every sort and a few filters, walking next from the first row and
 * prev from the last reproduces the query's order exactly. */
static void test_neighbors_follow_query_order(void **state)
{
    fx *f = *state;
    dp_err err;
    item it;
    fx_item(&it, "3", "Docs typo", "open", 7000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    const char *sorts[] = {"value", "prob", "updated"};
    for (int si = 0; si < 3; si++) {
        for (int fi = 0; fi < 5; fi++) {
            pair_filter flt;
            pair_filter_init(&flt);
            flt.sort = sorts[si];
            if (fi == 1) flt.query_state = "open";
            if (fi == 2) flt.text = "a";
            if (fi == 3) flt.text = " re";
            if (fi == 4) flt.confidence = CONFIDENCE_LOW;
            pair_vec v = {0};
            assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_OK);
            assert_true(v.n >= 2);
            for (size_t i = 0; i < v.n; i++) {
                int64_t prev, next;
                assert_int_equal(store_pair_neighbors(f->st, &flt, v.v[i].id, &prev, &next, &err), DP_OK);
                assert_int_equal(prev, i ? v.v[i - 1].id : 0);
                assert_int_equal(next, i + 1 < v.n ? v.v[i + 1].id : 0);
            }
            pair_vec_free(&v);
        }
    }
}

/* Counts are cached per handle; a write through this handle or through
 * another connection must show in the next count. */
static void test_count_cache_sees_writes(void **state)
{
    fx *f = *state;
    dp_err err;
    pair_filter flt;
    pair_filter_init(&flt);
    size_t total = 0, reviewed = 0;
    assert_int_equal(store_pairs_query(f->st, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(total, 6);
    assert_int_equal(reviewed, 0);
    /* the same handle writes */
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    assert_int_equal(store_pairs_query(f->st, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(reviewed, 1);
    /* another connection writes; a read-only handle caches too */
    store *other, *ro;
    assert_int_equal(store_open(f->path, &other, &err), DP_OK);
    assert_int_equal(store_open_readonly(f->path, &ro, &err), DP_OK);
    assert_int_equal(store_pairs_query(ro, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(reviewed, 1);
    assert_int_equal(store_verdict_set(other, f->repo, "3", "4", VERDICT_RELATED, &err), DP_OK);
    pair p = fx_pair("9", "8", "related", "low", 0.1, 0);
    const char *q9 = "9";
    assert_int_equal(store_pairs_replace(other, f->repo, &q9, 1, &p, 1, &err), DP_OK);
    for (int i = 0; i < 2; i++) {
        store *h = i ? ro : f->st;
        assert_int_equal(store_pairs_query(h, &flt, NULL, &total, &reviewed, &err), DP_OK);
        assert_int_equal(total, 7);
        assert_int_equal(reviewed, 2);
    }
    /* a read snapshot sees the database as of its first read */
    assert_int_equal(store_read_begin(ro, &err), DP_OK);
    assert_int_equal(store_pairs_query(ro, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(store_verdict_set(other, f->repo, "5", "6", VERDICT_RELATED, &err), DP_OK);
    assert_int_equal(store_pairs_query(ro, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(reviewed, 2);
    assert_int_equal(store_read_begin(ro, &err), DP_ERR);   /* not nestable */
    store_read_end(ro);
    assert_int_equal(store_pairs_query(ro, &flt, NULL, &total, &reviewed, &err), DP_OK);
    assert_int_equal(reviewed, 3);
    store_close(other);
    store_close(ro);
}

/* ---- query plans ------------------------------------------------------ */

/* The plan lines of one path ("page", "next-same", ...), '\n'-separated. */
static char *plan_of(const char *plans, const char *path)
{
    sbuf sb;
    sb_init(&sb);
    size_t n = strlen(path);
    for (const char *l = plans; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len > n + 2 && !strncmp(l, path, n) && l[n] == ':') sb_printf(&sb, "%.*s\n", (int)(len - n - 2), l + n + 2);
        l += len + (e != NULL);
    }
    return sb.s ? sb_take(&sb) : xstrdup("");
}

static void expect_in(const char *plan, const char *what, const char *ctx)
{
    if (!strstr(plan, what)) fail_msg("%s: expected \"%s\" in plan:\n%s", ctx, what, plan);
}

static void expect_not_in(const char *plan, const char *what, const char *ctx)
{
    if (strstr(plan, what)) fail_msg("%s: unexpected \"%s\" in plan:\n%s", ctx, what, plan);
}

/* The statements an order reads besides the table of store_pcount: a
 * text's items from the trigram index (items_fts), never a scan of the
 * items; "#N"'s pairs by key, one seek per repository; the reviewed pairs
 * from the verdicts, probing the pairs by key. */
static void expect_order_reads(const char *sb, int text, int keyed, int unreviewed, const char *ctx)
{
    char *t = plan_of(sb, "text"), *k = plan_of(sb, "keyed"), *v = plan_of(sb, "verdicts");
    if (text) {
        expect_in(t, "items_fts", ctx);
        expect_not_in(t, "SCAN items\n", ctx);
        expect_not_in(t, "SCAN items USING", ctx);
    } else if (*t) {
        fail_msg("%s: a text's items read without a text:\n%s", ctx, t);
    }
    if (keyed) {
        expect_in(k, "SEARCH x USING COVERING INDEX pairs_by_query (repo_id=? AND query_key=?)", ctx);
        expect_in(k, "SEARCH x USING COVERING INDEX pairs_by_cand (repo_id=? AND cand_key=?)", ctx);
    } else if (*k) {
        fail_msg("%s: keyed pairs read without \"#N\":\n%s", ctx, k);
    }
    if (unreviewed) {
        if (strncmp(v, "SCAN v", 6)) fail_msg("%s: the reviewed pairs do not start from the verdicts:\n%s", ctx, v);
        expect_not_in(v, "SCAN p", ctx);
    } else if (*v) {
        fail_msg("%s: the reviewed pairs read for a filter of every pair:\n%s", ctx, v);
    }
    free(t);
    free(k);
    free(v);
}

/* One integer read through the store's own connection (it sees the open
 * transaction). */
static int64_t store_read_int(fx *f, const char *sql) { return fx_db_int(f->st->db, sql); }

/* The sort indexes of every repository's page, as sqlite_master has them. */
static int all_indexes(fx *f)
{
    return (int)store_read_int(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                  " AND name LIKE 'pairs\\_all\\_by\\_%' ESCAPE '\\'");
}

/* Every path of every sort, for one repository and for all, with each kind
 * of filter: pages walk a sort index (no sort of all pairs), neighbours are
 * index range seeks from the position, counts read the covering index;
 * a text's pages and neighbours, and those of a small class, come from
 * the order of the set of their pairs, read from the covering indexes.
 * While one repository alone has pairs, a filter of all reads as one of
 * that repository (its indexes: those of every repository do not exist);
 * once a second has pairs, it walks the indexes of every repository,
 * made then, and dropped again when the second's pairs go. */
static void test_query_plans(void **state)
{
    fx *f = *state;
    dp_err err;
    const char *sorts[] = {"value", "prob", "updated"}, *cols[] = {"value", "prob", "updated_at"};
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/second", 1, "github", NULL, &other, &err), DP_OK);
    /* mode 0: one repository's filter; 1: all, one repository with pairs;
     * 2: all, two with pairs */
    for (int mode = 0; mode < 3; mode++) {
        if (mode == 2) {
            assert_int_equal(all_indexes(f), 0);
            pair p = fx_pair("1", "2", "related", "low", 0.25, 0);
            assert_int_equal(store_pairs_add(f->st, other, &p, 1, &err), DP_OK);
            assert_int_equal(all_indexes(f), 3);
        }
        int all = mode == 2;   /* the plans of every repository's indexes */
        for (int si = 0; si < 3; si++) {
            for (int fi = 0; fi < 8; fi++) {
                pair_filter flt;
                pair_filter_init(&flt);
                flt.repo_id = mode ? 0 : f->repo;
                flt.sort = sorts[si];
                if (fi == 6) { flt.text = "#12"; flt.relation = RELATION_DUPLICATE; }
                if (fi == 1) { flt.relation = RELATION_DUPLICATE; flt.confidence = CONFIDENCE_HIGH; flt.reviewed = 0; }
                if (fi == 2) { flt.query_state = "open"; flt.cand_state = "closed"; flt.include_known = 0; }
                if (fi == 3 || fi == 7) flt.label = "bug";
                /* 3: a rare label, read from its set, its pairs' states
                 * probed one by one; 7: a common one, walked */
                if (fi == 3) flt.query_state = "open";
                size_t saved = store_pairs_kset_max;
                if (fi == 7) store_pairs_kset_max = 0;
                if (fi == 4) { flt.text = "#12"; flt.reviewed = 0; }
                sbuf sb;
                sb_init(&sb);
                assert_int_equal(store_pairs_explain(f->st, &flt, &sb, &err), DP_OK);
                store_pairs_kset_max = saved;
                char ctx[96], idx[64], want[96];
                snprintf(ctx, sizeof ctx, "repo %s, sort %s, filter %d", mode == 2 ? "all of two" : mode ? "all of one" : "one",
                         sorts[si], fi);
                snprintf(idx, sizeof idx, "INDEX pairs_%sby_%s", all ? "all_" : "", sorts[si]);
                const char *paths[] = {"page", "next-same", "next-beyond", "prev-same", "prev-beyond"};
                for (int pi = 0; pi < 5; pi++) {
                    char *plan = plan_of(sb_str(&sb), paths[pi]);
                    char pctx[160];
                    snprintf(pctx, sizeof pctx, "%s, %s", ctx, paths[pi]);
                    if (fi == 1) {
                        /* a class's order, read from pairs_filter */
                        expect_in(plan, "SEARCH x USING COVERING INDEX pairs_filter (repo_id=? AND relation=? AND "
                                        "confidence=?", pctx);
                        expect_not_in(plan, "SEARCH p USING INTEGER PRIMARY KEY", pctx);
                        expect_not_in(plan, "SCAN x", pctx);
                        expect_not_in(plan, "SCAN pairs", pctx);
                        free(plan);
                        continue;
                    }
                    if (fi == 3 || fi == 4 || fi == 6) {
                        /* cut from the filter's order, made in memory */
                        assert_string_equal(plan, "IN MEMORY (store_pcount)\n");
                        free(plan);
                        continue;
                    }
                    if (fi != 5) {
                        expect_in(plan, idx, pctx);
                        expect_not_in(plan, "TEMP B-TREE", pctx);
                        /* states are probed per pair, not collected (a title
                         * search has to read every title, though) */
                        if (fi != 4 && fi != 6) expect_not_in(plan, "SCAN items", pctx);
                        /* a label is probed per pair: no set of every
                         * item carrying it, for each page */
                        if (fi == 7) expect_not_in(plan, "LIST SUBQUERY", pctx);
                    }
                    const char *pre = all ? "(" : "(repo_id=? AND ";
                    if (pi == 1) snprintf(want, sizeof want, "%s%s=? AND id>?)", pre, cols[si]);
                    if (pi == 2) snprintf(want, sizeof want, "%s%s<?)", pre, cols[si]);
                    if (pi == 3) snprintf(want, sizeof want, "%s%s=? AND id<?)", pre, cols[si]);
                    if (pi == 4) snprintf(want, sizeof want, "%s%s>?)", pre, cols[si]);
                    if (pi && fi != 5) expect_in(plan, want, pctx);
                    free(plan);
                }
                /* the walk to an offset's position passes every pair
                 * before it: a scan of the sort index, with no bound to
                 * test at each pair where one repository has them all
                 * (its own filter or one of all) */
                if (fi == 0) {
                    for (int back = 0; back < 2; back++) {   /* from the start, and from the end */
                        char *off = plan_of(sb_str(&sb), back ? "offset-back" : "offset");
                        expect_in(off, idx, ctx);
                        expect_not_in(off, "TEMP B-TREE", ctx);
                        expect_in(off, "SCAN p USING", ctx);
                        expect_not_in(off, "repo_id=?", ctx);
                        free(off);
                    }
                }
                /* counts: relation and confidence sum the counters; a
                 * text's is the size of its order, and states and labels
                 * are counted in memory */
                char *count = plan_of(sb_str(&sb), "count");
                if (fi == 0 || fi == 1 || fi == 5) {
                    /* the WITHOUT ROWID counters: "PRIMARY KEY", not the
                     * pairs' "INTEGER PRIMARY KEY" or an index */
                    expect_in(count, all ? "SCAN p" : "SEARCH p USING PRIMARY KEY (repo_id=?", ctx);
                    expect_not_in(count, "INDEX", ctx);
                    expect_not_in(count, "INTEGER", ctx);
                } else {
                    assert_string_equal(count, "IN MEMORY (store_pcount)\n");
                }
                if (!all && fi != 2 && fi != 3 && fi != 4 && fi != 6 && fi != 7) expect_in(count, "(repo_id=?", ctx);
                free(count);
                expect_order_reads(sb_str(&sb), fi == 4 || fi == 6, fi == 4 || fi == 6, fi == 4, ctx);
                char *rev = plan_of(sb_str(&sb), "reviewed");
                if (strncmp(rev, "SCAN v", 6) && strncmp(rev, "SEARCH v", 8))   /* from the verdicts side */
                    fail_msg("%s: reviewed count does not start from the verdicts:\n%s", ctx, rev);
                free(rev);
                sb_free(&sb);
            }
        }
    }
    /* with two repositories, one's walk to an offset is bounded to it */
    pair_filter one;
    pair_filter_init(&one);
    one.repo_id = f->repo;
    sbuf sb;
    sb_init(&sb);
    assert_int_equal(store_pairs_explain(f->st, &one, &sb, &err), DP_OK);
    for (int back = 0; back < 2; back++) {
        char *off = plan_of(sb_str(&sb), back ? "offset-back" : "offset");
        expect_in(off, "INDEX pairs_by_value (repo_id=?)", "two repositories, one's offset");
        expect_not_in(off, "TEMP B-TREE", "two repositories, one's offset");
        free(off);
    }
    sb_free(&sb);
    assert_int_equal(store_pairs_delete(f->st, other, NULL, 0, &err), DP_OK);
    assert_int_equal(all_indexes(f), 0);
}

/* A text too short for the trigram index is tested on every title in
 * memory: its pages, neighbours and count read no statement but the
 * order's, and nothing of the index. */
static void test_short_text_plan(void **state)
{
    fx *f = *state;
    dp_err err;
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "ab";
    sbuf sb;
    sb_init(&sb);
    assert_int_equal(store_pairs_explain(f->st, &flt, &sb, &err), DP_OK);
    const char *paths[] = {"page", "count", "next-same", "next-beyond", "prev-same", "prev-beyond"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *plan = plan_of(sb_str(&sb), paths[i]);
        assert_string_equal(plan, "IN MEMORY (store_pcount)\n");
        free(plan);
    }
    char *t = plan_of(sb_str(&sb), "text");
    assert_string_equal(t, "");
    free(t);
    sb_free(&sb);
}

/* ---- verdicts -------------------------------------------------------- */

static void test_verdicts(void **state)
{
    fx *f = *state;
    dp_err err;
    pair p;
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_RELATED, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);  /* change */
    assert_int_equal(store_pair_find(f->st, f->repo, "1", "2", &p, &err), DP_OK);
    assert_int_equal(p.verdict, VERDICT_DUPLICATE);
    int64_t id = p.id;
    pair_free(&p);
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_NONE, &err), DP_OK);          /* undo */
    assert_int_equal(store_pair_get(f->st, id, &p, &err), DP_OK);
    assert_int_equal(p.verdict, VERDICT_NONE);
    pair_free(&p);
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_NONE, &err), DP_OK);          /* idempotent */
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", (verdict_kind)VERDICT_COUNT, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "unknown verdict"));
    assert_int_equal(store_verdict_set(f->st, 424242, "1", "2", VERDICT_RELATED, &err), DP_ERR);     /* no such repo */
    assert_non_null(strstr(err.msg, "saving verdict on 1 -> 2"));
    pair_filter flt;
    pair_filter_init(&flt);
    flt.reviewed = 1;
    EXPECT(f, &flt, "");
}

/* Opens a store made at `version` with sql run in it, migrated to the
 * latest version. */
static void migrate_from(fx *f, int version, const char *sql)
{
    dp_err err;
    assert_true(store_nmigrations > version);
    fx_make_version(f, store_migrations, version, sql);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_schema_version(f->st), store_nmigrations);
}

/* 5 -> 6: pairs gain the judgment's advice (comment_on, canonical);
 * pairs stored before keep everything and read them as NULL; new ones
 * store and read them back. */
static void test_migrate_advice(void **state)
{
    fx *f = *state;
    dp_err err;
    migrate_from(f, 5,
                 "INSERT INTO repositories(id, name) VALUES(1, 'o/r');"
                 "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, value)"
                 " VALUES(1, '9', '4', 'duplicate', 'high', 1.5);");
    pair p;
    assert_int_equal(store_pair_find(f->st, 1, "9", "4", &p, &err), DP_OK);
    assert_int_equal(p.relation, RELATION_DUPLICATE);
    assert_null(p.comment_on);
    assert_null(p.canonical);
    pair_free(&p);
    pair np = {.repo_id = 1, .query_key = "9", .cand_key = "4", .rank = 1, .relation = RELATION_DUPLICATE,
               .confidence = CONFIDENCE_HIGH, .suggested_comment = "Duplicate of #3", .comment_on = "9",
               .canonical = "3"};
    const char *q = "9";
    assert_int_equal(store_pairs_replace(f->st, 1, &q, 1, &np, 1, &err), DP_OK);
    assert_int_equal(store_pair_find(f->st, 1, "9", "4", &p, &err), DP_OK);
    assert_string_equal(p.comment_on, "9");
    assert_string_equal(p.canonical, "3");
    pair_free(&p);
}


/* The filters the keyset tests page through: sort si (0..3, 3 = the
 * default) with filter kind fi (0..PAGING_KINDS-1: none, a text,
 * unreviewed, a state, a relation -- B E F, B and E tied --, a text of
 * item 4 and 6 unreviewed -- B C E F less the reviewed, B and E tied). */
#define PAGING_KINDS 6
static pair_filter paging_filter(int si, int fi)
{
    static const char *const sorts[] = {"value", "prob", "updated", NULL};
    pair_filter flt;
    pair_filter_init(&flt);
    flt.sort = sorts[si];
    if (fi == 1) flt.text = "crash";
    if (fi == 2) flt.reviewed = 0;
    if (fi == 3) flt.query_state = "open";
    if (fi == 4) flt.relation = RELATION_RELATED;
    if (fi == 5) {
        flt.text = " re";   /* "Typo in README", "Dark theme request" */
        flt.reviewed = 0;
    }
    return flt;
}

/* Every pair of paging_filter(si, fi) by one unpaged query (at least two:
 * the paging tests page through them); returns the filter. */
static pair_filter paging_all(fx *f, int si, int fi, pair_vec *all)
{
    dp_err err;
    pair_filter flt = paging_filter(si, fi);
    assert_int_equal(store_pairs_query(f->st, &flt, all, NULL, NULL, &err), DP_OK);
    assert_true(all->n >= 2);
    return flt;
}

/* Keyset paging: walking every order page by page from the cursors gives
 * the rows of one unpaged query, in order, ties (B and E at 3.0) included,
 * with every filter kind and page size. */
static void test_keyset_paging(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "5", "6", VERDICT_DUPLICATE, &err), DP_OK);
    for (int si = 0; si < 4; si++) {
        for (int fi = 0; fi < PAGING_KINDS; fi++) {
            for (size_t lim = 1; lim <= 4; lim++) {
                pair_filter flt = paging_filter(si, fi);
                char *want = run(f, &flt, NULL, NULL);
                sbuf got;
                sb_init(&got);
                char cur[STORE_CURSOR_MAX] = "";
                flt.limit = lim;
                for (int page = 0; page < 10; page++) {
                    flt.after = page ? cur : NULL;
                    pair_vec v = {0};
                    assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_OK);
                    for (size_t i = 0; i < v.n; i++)
                        sb_printf(&got, "%s%s>%s", got.len ? " " : "", v.v[i].query_key, v.v[i].cand_key);
                    int last = v.n < lim;
                    if (v.n) store_pair_cursor(flt.sort, &v.v[v.n - 1], cur);
                    assert_true(store_pair_cursor_ok(flt.sort, cur) || !v.n);
                    pair_vec_free(&v);
                    if (last) break;
                }
                assert_string_equal(got.s ? got.s : "", want);
                sb_free(&got);
                free(want);
            }
        }
    }
}

/* A class filter's pages read from pairs_filter (a small class), a label's
 * from its set (a rare label), and by a walk of the sort index (a large
 * class or a common label) are the same pages, forwards and backwards, for
 * every sort and class, with and without a label. */
static void test_class_set_matches_walk(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "3", "4", VERDICT_RELATED, &err), DP_OK);
    size_t saved = store_pairs_kset_max;
    for (int si = 0; si < 4 * 3; si++) {   /* sorts, each without a label and with two */
        for (int ci = 0; ci < 8; ci++) {
            pair_filter flt = paging_filter(si % 4, 0);
            flt.label = si / 4 == 1 ? "bug" : si / 4 == 2 ? "DOCS" : NULL;
            flt.relation = ci & 1 ? RELATION_RELATED : -1;
            flt.confidence = ci & 2 ? CONFIDENCE_LOW : -1;
            flt.include_known = !(ci & 4);
            if (!ci) flt.relation = RELATION_DUPLICATE;
            for (int rev = -1; rev <= 0; rev++) {
                flt.reviewed = rev;
                char *way[2];
                for (int w = 0; w < 2; w++) {
                    store_pairs_kset_max = w ? 0 : saved;
                    sbuf sb;
                    sb_init(&sb);
                    pair_filter pg = flt;
                    pg.limit = 2;
                    char cur[STORE_CURSOR_MAX] = "";
                    for (int page = 0; page < 4; page++) {
                        pair_vec v = {0};
                        assert_int_equal(store_pairs_query(f->st, &pg, &v, NULL, NULL, &err), DP_OK);
                        for (size_t i = 0; i < v.n; i++)
                            sb_printf(&sb, "%s>%s ", v.v[i].query_key, v.v[i].cand_key);
                        sb_adds(&sb, "| ");
                        if (v.n) store_pair_cursor(pg.sort, &v.v[v.n - 1], cur);
                        pair_vec_free(&v);
                        if (!cur[0]) break;   /* the filter matches nothing */
                        pg.after = cur;
                    }
                    if (cur[0]) {
                        pg.after = NULL;
                        pg.before = cur;
                        char *back = run(f, &pg, NULL, NULL);
                        sb_adds(&sb, back);
                        free(back);
                    }
                    way[w] = sb_take(&sb);
                }
                assert_string_equal(way[0], way[1]);
                free(way[0]);
                free(way[1]);
            }
        }
    }
    store_pairs_kset_max = saved;
}

/* Backwards by cursor: the page before the position of the row at index k
 * holds the same rows as offset k - limit (fewer at the start), for every
 * position, sort, kind of filter and page size. */
static void test_keyset_paging_backwards(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "5", "6", VERDICT_DUPLICATE, &err), DP_OK);
    for (int si = 0; si < 4; si++) {
        for (int fi = 0; fi < PAGING_KINDS; fi++) {
            pair_vec all = {0};
            pair_filter flt = paging_all(f, si, fi, &all);
            for (size_t lim = 1; lim <= 4; lim++) {
                for (size_t k = 0; k < all.n; k++) {
                    pair_filter by = flt;
                    by.offset = k > lim ? k - lim : 0;
                    by.limit = k - by.offset;
                    char *want = k ? run(f, &by, NULL, NULL) : xstrdup("");
                    char cur[STORE_CURSOR_MAX];
                    store_pair_cursor(flt.sort, &all.v[k], cur);
                    by.limit = lim;
                    by.offset = 0;
                    by.before = cur;
                    char *got = run(f, &by, NULL, NULL);
                    assert_string_equal(got, want);
                    free(got);
                    free(want);
                }
            }
            pair_vec_free(&all);
        }
    }
    /* after and before together are refused */
    pair_filter flt;
    pair_filter_init(&flt);
    flt.after = flt.before = "v1_1";
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "either after or before"));
    pair_vec_free(&v);
}

/* A page by offset (found by a narrow walk to the pair before it, then a
 * keyset seek; with the count asked for, the last page read from the
 * end) holds rows k .. k+limit-1 of one unpaged query, in order, ties (B
 * and E) included, for every offset up to past the end, sort, filter kind
 * and page size, with and without the count; an unlimited page runs to
 * the end. */
static void test_offset_pages(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "5", "6", VERDICT_DUPLICATE, &err), DP_OK);
    for (int si = 0; si < 4; si++) {
        for (int fi = 0; fi < PAGING_KINDS; fi++) {
            pair_vec all = {0};
            pair_filter flt = paging_all(f, si, fi, &all);
            for (size_t lim = 0; lim <= 3; lim++) {
                for (size_t k = 0; k <= all.n + 1; k++) {
                    sbuf want;
                    sb_init(&want);
                    for (size_t i = k; i < all.n && (!lim || i < k + lim); i++)
                        sb_printf(&want, "%s%s>%s", want.len ? " " : "", all.v[i].query_key, all.v[i].cand_key);
                    pair_filter by = flt;
                    by.offset = k;
                    by.limit = lim;
                    for (int counted = 0; counted < 2; counted++) {
                        size_t total = 0;
                        char *got = run(f, &by, counted ? &total : NULL, NULL);
                        if (strcmp(got, want.s ? want.s : ""))
                            fail_msg("sort %d kind %d limit %zu offset %zu count %d: got '%s', want '%s'", si, fi,
                                     lim, k, counted, got, want.s ? want.s : "");
                        if (counted) assert_int_equal(total, all.n);
                        free(got);
                    }
                    sb_free(&want);
                }
            }
            pair_vec_free(&all);
        }
    }
}

/* A cursor is checked: another order's, damaged or hostile ones are
 * refused (the API answers 400), and the store refuses them too. */
static void test_cursor_checked(void **state)
{
    fx *f = *state;
    dp_err err;
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, "3", "4", &p, &err), DP_OK);
    char cur[STORE_CURSOR_MAX];
    store_pair_cursor("value", &p, cur);
    assert_true(store_pair_cursor_ok("value", cur));
    assert_true(store_pair_cursor_ok(NULL, cur));
    assert_false(store_pair_cursor_ok("prob", cur));
    store_pair_cursor("updated", &p, cur);
    assert_true(store_pair_cursor_ok("updated", cur));
    pair_free(&p);
    const char *bad[] = {"", "v", "v_", "v1_", "v_5", "v1_0", "v1_-3", "vnan_4", "v1x_4", "v1_4x", "x1_4",
                         "v1_ 4", "v1_+4", "v1_99999999999999999999", "v1e999999_4x",
                         "v11111111111111111111111111111111111111111111111_4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (store_pair_cursor_ok("value", bad[i])) fail_msg("cursor '%s' accepted", bad[i]);
        pair_filter flt;
        pair_filter_init(&flt);
        flt.after = bad[i];
        pair_vec v = {0};
        assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_ERR);
        pair_vec_free(&v);
    }
}

/* The text filter reads the trigram index, which is kept in step
 * with every write of a title: a renamed item is found by its new title and
 * no longer by the old one; a deleted one is gone. Quotes and FTS5 syntax in
 * the text are literal. */
static void test_text_index_follows_writes(void **state)
{
    fx *f = *state;
    dp_err err;
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "Timeout";
    EXPECT(f, &flt, "");
    item it;
    fx_item(&it, "3", "Socket timeout in \"docs\" build", "open", 9000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "Docs typo";
    EXPECT(f, &flt, "");
    flt.text = "in \"docs\" b";
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "timeout OR crash";
    EXPECT(f, &flt, "");
    flt.text = "NEAR(a b)";
    EXPECT(f, &flt, "");
    flt.text = "tim*";
    EXPECT(f, &flt, "");
    /* inside a transaction the written titles wait in items_fts_todo, and
     * are found there; the commit moves them into the index */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fx_item(&it, "5", "Dark mode timeout", "open", 9100);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts_todo"), 1);
    flt.text = "timeout";
    EXPECT(f, &flt, "5>6 3>4 6>5 4>3");
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items_fts_todo"), 0);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items_fts WHERE title LIKE '%timeout%'"), 2);
    EXPECT(f, &flt, "5>6 3>4 6>5 4>3");
    sqlite3_exec(f->st->db, "DELETE FROM items WHERE key = '3'", NULL, NULL, NULL);
    EXPECT(f, &flt, "5>6 6>5");
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items_fts WHERE title LIKE '%crash%'"), 2);
}

/* Whether the item (repo, key) holds text in its title or key, compared
 * the way the filter does (ASCII case folded), or text is "#key". */
static int item_holds(fx *f, int64_t repo, const char *key, const char *text)
{
    dp_err err;
    item it;
    if (text[0] == '#' && !strcmp(text + 1, key)) return 1;
    if (store_item_get(f->st, repo, key, &it, &err) != DP_OK) return 0;
    int found = strcasestr(it.title, text) || strcasestr(key, text);
    item_free(&it);
    return found;
}

/* The text filter's counts equal the pairs it lists and a count made by
 * hand from every pair and its items' titles: over two repositories with
 * the same keys, with items in the trigram index and items written since
 * (noted in items_fts_todo), with and without more conditions, reviewed or
 * not, for texts of every kind (short ones scan, "#N" is a key, also from
 * 3 characters on: "#12" is read through the trigram index and the
 * pairs' key indexes). */
static void test_text_counts(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t r1 = f->repo, r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    f->repo = r2;
    fx_put(f, "1", "Timeout on upload", "open", NULL);
    fx_put(f, "2", "Crash in dark mode", "open", NULL);
    fx_put(f, "3", "typo", "closed", NULL);
    fx_put(f, "12", "Keyed item", "open", NULL);   /* "#12": found by its key alone */
    pair p2[] = {fx_pair("1", "2", "duplicate", "high", 2.0, 0), fx_pair("3", "1", "related", "low", 6.0, 0),
                 fx_pair("2", "3", "related", "medium", 0.7, 1), fx_pair("12", "3", "related", "low", 1.5, 0)};
    assert_int_equal(store_pairs_replace(f->st, r2, NULL, 0, p2, 4, &err), DP_OK);
    f->repo = r1;
    assert_int_equal(store_verdict_set(f->st, r1, "3", "4", VERDICT_RELATED, &err), DP_OK);
    static const char *const texts[] = {"crash", "CRASH on", "dark", "typo", "Timeout", "ra", "CR", "#3", "#9", "#12", "#99", "e", "zzz"};
    unsigned pct = store_pcount_around_pct;
    /* way 0: every order from the whole table; way 1: an indexed text's from
     * a table around it (store_pcount.c), in a transaction too (round 1) */
    for (int way = 0; way < 2; way++)
    for (int round = 0; round < 2; round++) {
        store_pcount_around_pct = way ? 100 : 0;
        store_pairs_cache_free(f->st);   /* no table, order or count kept from the way before */
        size_t arounds = atomic_load(&store_pcount_arounds);
        if (round == 1) {
            /* items written inside a transaction wait in items_fts_todo */
            assert_int_equal(store_begin(f->st, &err), DP_OK);
            item it;
            fx_item(&it, "4", "Typo in README after a crash", "closed", 9000);
            assert_int_equal(store_item_upsert(f->st, r1, &it, NULL, &err), DP_OK);
            item_free(&it);
            assert_true(store_read_int(f, "SELECT count(*) FROM items_fts_todo") > 0);
        }
        for (size_t ti = 0; ti < sizeof texts / sizeof texts[0]; ti++)
            for (int fi = 0; fi < 8; fi++) {
                pair_filter all, flt;
                pair_filter_init(&flt);
                flt.include_known = !(fi & 4);
                flt.repo_id = fi & 1 ? r1 : 0;
                if (fi & 2) flt.relation = RELATION_DUPLICATE;
                flt.reviewed = fi == 6 ? 0 : fi == 7 ? 1 : -1;
                all = flt;
                flt.text = texts[ti];
                pair_vec v = {0}, every = {0};
                size_t total = 0, reviewed = 0, want = 0, want_rev = 0;
                assert_int_equal(store_pairs_query(f->st, &flt, &v, &total, &reviewed, &err), DP_OK);
                assert_int_equal(store_pairs_query(f->st, &all, &every, NULL, NULL, &err), DP_OK);
                for (size_t i = 0; i < every.n; i++) {
                    const pair *p = &every.v[i];
                    if (item_holds(f, p->repo_id, p->query_key, texts[ti]) ||
                        item_holds(f, p->repo_id, p->cand_key, texts[ti])) {
                        want++;
                        want_rev += p->verdict != VERDICT_NONE;
                    }
                }
                char ctx[96];
                snprintf(ctx, sizeof ctx, "round %d text '%s' filter %d", round, texts[ti], fi);
                if (total != want || v.n != want || reviewed != want_rev)
                    fail_msg("%s: total %zu, listed %zu, reviewed %zu; by hand %zu, reviewed %zu", ctx, total, v.n,
                             reviewed, want, want_rev);
                pair_vec_free(&v);
                pair_vec_free(&every);
            }
        size_t made = atomic_load(&store_pcount_arounds) - arounds;
        if (way ? made < 8 : made != 0) fail_msg("way %d round %d: %zu tables around a text", way, round, made);
        if (round == 1) store_rollback(f->st);
    }
    store_pcount_around_pct = pct;
}

/* The listing of flt with its counts, as "q>c ... [total/reviewed]". */
static char *run_counted(fx *f, const pair_filter *flt)
{
    size_t total = 0, reviewed = 0;
    char *got = run(f, flt, &total, &reviewed);
    char *out = xasprintf("%s [%zu/%zu]", got, total, reviewed);
    free(got);
    return out;
}

/* A text's order made from a table around it lists and counts what the
 * whole table gives, with every state, label, class, reviewed and sort
 * condition beside it: pairs with both items holding the text (listed
 * once), a pair whose item is not stored, keyed pairs ("#N"), a title
 * tested by the SQL function (not ASCII), a second repository. */
static void test_text_around_matches_table(void **state)
{
    fx *f = *state;
    dp_err err;
    fx_put(f, "8", "Größe crash im Dialog", "closed", "DOCS");
    pair more[] = {fx_pair("8", "1", "related", "medium", 2.5, 0), fx_pair("2", "99", "related", "low", 0.7, 0),
                   fx_pair("1", "5", "related", "low", 0.2, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, more, 3, &err), DP_OK);
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    int64_t r1 = f->repo;
    f->repo = r2;
    fx_put(f, "1", "Crash at start", "open", "bug");
    fx_put(f, "3", "slow start", "closed", NULL);
    pair other = fx_pair("3", "1", "duplicate", "high", 3.5, 0);
    assert_int_equal(store_pairs_replace(f->st, r2, NULL, 0, &other, 1, &err), DP_OK);
    f->repo = r1;
    assert_int_equal(store_verdict_set(f->st, r1, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    static const char *const texts[] = {"crash", "open", "typo", "größe", "#3", "#1", "#99", "start", "zzz"};
    static const char *const sorts[] = {"value", "prob", "updated"};
    unsigned pct = store_pcount_around_pct;
    size_t arounds = atomic_load(&store_pcount_arounds);
    for (size_t ti = 0; ti < sizeof texts / sizeof texts[0]; ti++)
        for (int fi = 0; fi < 16; fi++)
            for (int si = 0; si < 3; si++) {
                pair_filter flt;
                pair_filter_init(&flt);
                flt.text = texts[ti];
                flt.sort = sorts[si];
                flt.query_state = fi & 1 ? "open" : NULL;
                flt.cand_state = fi & 2 ? "closed" : NULL;
                flt.label = fi & 4 ? (fi & 8 ? "DOCS" : "bug") : NULL;
                if ((fi & 12) == 8) flt.relation = RELATION_RELATED;
                flt.reviewed = fi == 9 ? 0 : fi == 13 ? 1 : -1;
                flt.repo_id = fi == 3 ? r1 : 0;
                char *way[2];
                for (int w = 0; w < 2; w++) {
                    store_pcount_around_pct = w ? 100 : 0;
                    store_pairs_cache_free(f->st);   /* no order or count kept from the other way */
                    way[w] = run_counted(f, &flt);
                }
                if (strcmp(way[0], way[1]))
                    fail_msg("text '%s' filter %d sort %s: table %s, around %s", texts[ti], fi, sorts[si], way[0],
                             way[1]);
                free(way[0]);
                free(way[1]);
            }
    assert_true(atomic_load(&store_pcount_arounds) - arounds >= 7 * 14 * 3);   /* 7 texts of 3+ characters */
    store_pcount_around_pct = pct;
}

/* A handle sharing a table takes the shared one when it is current, and
 * otherwise (a commit made it stale; a build under way) makes a text's
 * order from a table around the text rather than wait for a build. */
static void test_text_around_shared(void **state)
{
    fx *f = *state;
    dp_err err;
    store *a;
    store_pcount_shared *sh;
    assert_int_equal(store_pcount_shared_new(f->path, &sh, &err), DP_OK);
    assert_int_equal(store_open_readonly(f->path, &a, &err), DP_OK);
    store_pcount_share(a, sh);
    unsigned pct = store_pcount_around_pct;
    store_pcount_around_pct = 100;
    assert_int_equal(store_pcount_warm(sh, &err), DP_OK);
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "crash";
    size_t arounds = atomic_load(&store_pcount_arounds), total, rev;
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(a, &flt, &v, &total, &rev, &err), DP_OK);
    assert_int_equal(total, 2);   /* A and D */
    pair_vec_free(&v);
    assert_int_equal(atomic_load(&store_pcount_arounds), arounds);   /* the warm table served */
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE items SET title = 'a crash' WHERE key = '3'", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_pairs_query(a, &flt, &v, &total, &rev, &err), DP_OK);
    assert_int_equal(total, 4);   /* A, B, D, F */
    pair_vec_free(&v);
    assert_int_equal(atomic_load(&store_pcount_arounds), arounds + 1);
    assert_int_equal(store_pcount_shared_builds(sh), 1);   /* no build for it */
    store_pcount_around_pct = pct;
    store_close(a);
    store_pcount_shared_free(sh);
}

/* Two items, their title index, and a pair each way, as an older
 * version stored them (the migration tests of the text filter). */
#define TEXT_SEED                                                                                   \
    "INSERT INTO repositories(id, name) VALUES(1, 'o/r');"                                          \
    "INSERT INTO items(id, repo_id, key, title) VALUES(7, 1, '9', 'Upload timeout'),"               \
    "  (8, 1, '4', 'Dark mode');"                                                                   \
    "INSERT INTO items_fts(rowid, key, title) SELECT id, key, title FROM items;"                    \
    "DELETE FROM items_fts_todo;"                                                                   \
    "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, value)"                  \
    " VALUES(1, '9', '4', 'duplicate', 'high', 1.5), (1, '4', '9', 'related', 'low', 0.5);"

/* The text filter finds both pairs of TEXT_SEED, in value order. */
static void expect_text_seed_found(fx *f)
{
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "TIMEOUT";
    size_t total = 0;
    char *got = run(f, &flt, &total, NULL);
    assert_string_equal(got, "9>4 4>9");
    assert_int_equal(total, 2);
    free(got);
}

/* 8 -> 9: items_keys_by_id is built for the items already stored, and the
 * text filter (which reads through it) finds their pairs. */
static void test_migrate_keys_by_id(void **state)
{
    fx *f = *state;
    migrate_from(f, 8, TEXT_SEED);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items INDEXED BY items_keys_by_id WHERE id > 0"), 2);
    expect_text_seed_found(f);
}

/* 9 -> 10: the pair indexes gain the columns a filter tests and the sort
 * keys, built for the pairs already stored; a text's pairs are then
 * counted and paged in value order through them. */
static void test_migrate_covering(void **state)
{
    fx *f = *state;
    migrate_from(f, 9, TEXT_SEED);
    const char *idx[] = {"pairs_by_query", "pairs_by_cand", "pairs_filter"};
    for (int i = 0; i < 3; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_index_info('%s') WHERE name IN "
                 "('relation', 'confidence', 'known', 'value', 'prob', 'updated_at')", idx[i]);
        assert_int_equal(store_read_int(f, sql), 6);
    }
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pairs INDEXED BY pairs_by_query"
                                       " WHERE repo_id = 1 AND query_key = '9' AND value = 1.5"), 1);
    expect_text_seed_found(f);
}

/* pair_counts holds, per repository x relation x confidence x known, how
 * many pairs there are, through every kind of write. */
static void expect_counts_match(fx *f) { fx_expect_pairs_consistent(f->st->db); }

/* The total of a filter equals the rows of its page without a limit. */
static void expect_total_is_rows(fx *f, const pair_filter *flt)
{
    size_t total = 99, reviewed = 99;
    dp_err err;
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(f->st, flt, &v, &total, &reviewed, &err), DP_OK);
    assert_int_equal(total, v.n);
    size_t rev = 0;
    for (size_t i = 0; i < v.n; i++) rev += v.v[i].verdict != VERDICT_NONE;
    assert_int_equal(reviewed, rev);
    pair_vec_free(&v);
}

static void test_counts_follow_writes(void **state)
{
    fx *f = *state;
    dp_err err;
    expect_counts_match(f);
    assert_true(store_read_int(f, "SELECT count(*) FROM pair_counts") > 0);
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    /* a repository of its own: counted apart, and gone with it */
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "p/q", 1, "github", NULL, &other, &err), DP_OK);
    pair op[] = {fx_pair("1", "2", "duplicate", "high", 2.0, 0), fx_pair("2", "1", "related", "low", 1.0, 1)};
    assert_int_equal(store_pairs_replace(f->st, other, NULL, 0, op, 2, &err), DP_OK);
    expect_counts_match(f);
    for (int step = 0; step < 5; step++) {
        if (step == 1) {   /* analysis replaces the pairs of one query */
            pair p[] = {fx_pair("1", "3", "related", "high", 2.5, 0), fx_pair("1", "4", "duplicate", "low", 0.7, 1)};
            const char *qs[] = {"1"};
            assert_int_equal(store_pairs_replace(f->st, f->repo, qs, 1, p, 2, &err), DP_OK);
        }
        if (step == 2)   /* any writer: a relation, a known flag changed in place */
            assert_int_equal(sqlite3_exec(f->st->db, "UPDATE pairs SET relation = 'duplicate', known = 1"
                                                     " WHERE query_key = '3'", NULL, NULL, NULL), SQLITE_OK);
        if (step == 1 || step == 2)   /* an item's state and labels change (counted in memory) */
            assert_int_equal(sqlite3_exec(f->st->db, step == 1
                                 ? "UPDATE items SET state = 'open' WHERE key = '4' AND repo_id = 1"
                                 : "INSERT INTO item_labels(item_id, name) SELECT id, 'Docs' FROM items WHERE key = '6';"
                                   "DELETE FROM item_labels WHERE name = 'bug' AND item_id IN"
                                   " (SELECT id FROM items WHERE key = '2')",
                                 NULL, NULL, NULL), SQLITE_OK);
        if (step == 3) {   /* the whole repository analysed again */
            pair p[] = {fx_pair("5", "6", "duplicate", "high", 4.0, 0)};
            assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, p, 1, &err), DP_OK);
        }
        if (step == 4) {
            char sql[80];
            snprintf(sql, sizeof sql, "DELETE FROM repositories WHERE id = %lld", (long long)other);
            assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
            assert_int_equal(store_read_int(f, "SELECT count(*) FROM pairs WHERE repo_id <> 1"), 0);
        }
        expect_counts_match(f);
        for (int all = 0; all < 2; all++) {
            for (int fi = 0; fi < 14; fi++) {
                pair_filter flt;
                pair_filter_init(&flt);
                flt.repo_id = all ? 0 : f->repo;
                if (fi == 8) flt.query_state = "open";
                if (fi == 9) { flt.cand_state = "closed"; flt.relation = RELATION_RELATED; }
                if (fi == 10) flt.label = "BUG";
                if (fi == 11) { flt.label = "docs"; flt.include_known = 0; flt.reviewed = 0; }
                if (fi == 12) { flt.label = "bug"; flt.query_state = "closed"; flt.confidence = CONFIDENCE_HIGH; }
                if (fi == 13) { flt.query_state = "open"; flt.cand_state = "open"; flt.reviewed = 1; }
                if (fi == 1) flt.relation = RELATION_DUPLICATE;
                if (fi == 2) { flt.relation = RELATION_RELATED; flt.confidence = CONFIDENCE_LOW; }
                if (fi == 3) { flt.include_known = 0; flt.reviewed = 0; }
                if (fi == 4) flt.reviewed = 1;
                if (fi == 5) flt.text = "crash";
                if (fi == 6) { flt.text = "#12"; flt.relation = RELATION_DUPLICATE; }
                if (fi == 7) { flt.text = "dark"; flt.query_state = "open"; }
                expect_total_is_rows(f, &flt);
            }
        }
    }
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pair_counts WHERE n <= 0"), 0);
}

/* The total of a label and a state filter on handle st. */
static size_t shared_total(store *st, const char *label, const char *qstate)
{
    pair_filter flt;
    pair_filter_init(&flt);
    flt.label = label;
    flt.query_state = qstate;
    size_t total = 99, reviewed;
    dp_err err;
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(st, &flt, &v, &total, &reviewed, &err), DP_OK);
    assert_int_equal(total, v.n);
    pair_vec_free(&v);
    return total;
}

/* Handles that share a count table (serve's threads) build it once per
 * commit between them, warm or on first use, and every one of them sees a
 * commit by any other connection. */
static void test_counts_shared(void **state)
{
    fx *f = *state;
    dp_err err;
    store *a, *b;
    store_pcount_shared *sh;
    assert_int_equal(store_pcount_shared_new(f->path, &sh, &err), DP_OK);
    assert_int_equal(store_open_readonly(f->path, &a, &err), DP_OK);
    assert_int_equal(store_open_readonly(f->path, &b, &err), DP_OK);
    store_pcount_share(a, sh);
    store_pcount_share(b, sh);
    assert_int_equal(store_pcount_warm(sh, &err), DP_OK);
    assert_int_equal(store_pcount_shared_builds(sh), 1);
    assert_int_equal(shared_total(a, "bug", NULL), 2);        /* A and D */
    assert_int_equal(shared_total(b, "bug", "open"), 1);      /* A */
    assert_int_equal(shared_total(b, NULL, "closed"), 2);     /* D and F */
    assert_int_equal(store_pcount_shared_builds(sh), 1);
    /* another connection commits: item 2 opens, item 4 loses nothing */
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE items SET state = 'open' WHERE key = '2'", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(shared_total(b, "bug", "open"), 2);      /* A and D */
    assert_int_equal(shared_total(a, NULL, "closed"), 1);     /* F */
    assert_int_equal(shared_total(a, "bug", NULL), 2);
    assert_int_equal(store_pcount_shared_builds(sh), 2);
    /* a handle of its own counts alone, with the same answers */
    assert_int_equal(shared_total(f->st, NULL, "closed"), 1);
    assert_int_equal(store_pcount_shared_builds(sh), 2);
    /* a commit seen first by a handle held in an older snapshot (a GET
     * reads in one): the table it has built is still the newest data's,
     * so the next handle is not served the older state under the new stamp */
    assert_int_equal(store_read_begin(a, &err), DP_OK);
    assert_int_equal(shared_total(a, NULL, "closed"), 1);
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE items SET state = 'closed' WHERE key = '3'", NULL, NULL, NULL),
                     SQLITE_OK);
    /* a count a's handle has not cached: the shared table is built again,
     * and a counts in its own snapshot (where 3 is open) all the same */
    assert_int_equal(shared_total(a, "docs", "closed"), 1);   /* F */
    store_read_end(a);
    assert_int_equal(store_pcount_shared_builds(sh), 3);
    assert_int_equal(shared_total(b, NULL, "closed"), 2);     /* F and B */
    assert_int_equal(shared_total(a, "docs", "closed"), 2);
    assert_int_equal(store_pcount_shared_builds(sh), 3);
    store_close(a);
    store_close(b);
    store_pcount_shared_free(sh);
}

/* 14 -> 15: the sort indexes of a page of every repository stay where
 * two repositories have pairs (the migration drops them and makes them
 * again), and such a page holds both; when one repository's pairs go, so
 * do the indexes, and the page holds the other's. */
static void test_migrate_all_indexes(void **state)
{
    fx *f = *state;
    dp_err err;
    migrate_from(f, 14,
                 "INSERT INTO repositories(id, name) VALUES(1, 'o/a'), (2, 'o/b');"
                 "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, value)"
                 " VALUES(1, '2', '1', 'duplicate', 'high', 1.5), (2, '2', '1', 'related', 'low', 0.5);");
    assert_int_equal(all_indexes(f), 3);
    pair_filter flt;
    pair_filter_init(&flt);
    pair_vec v = {0};
    size_t total = 0;
    assert_int_equal(store_pairs_query(f->st, &flt, &v, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 2);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.v[0].repo_id, 1);   /* value 1.5 first */
    pair_vec_free(&v);
    assert_int_equal(store_pairs_delete(f->st, 1, NULL, 0, &err), DP_OK);
    assert_int_equal(all_indexes(f), 0);
    pair_vec w = {0};
    assert_int_equal(store_pairs_query(f->st, &flt, &w, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 1);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.v[0].repo_id, 2);
    pair_vec_free(&w);
}

/* 10 -> 11: pairs are rebuilt without their long texts, which move to
 * pair_texts. Every pair keeps its id and every column (read as before,
 * and through the view pairs_full); a deleted pair's id is still never
 * given again; the indexes, triggers and counts work on the new table. */
static void test_migrate_texts(void **state)
{
    fx *f = *state;
    dp_err err;
    migrate_from(f, 10,
                 "INSERT INTO repositories(id, name) VALUES(1, 'o/r');"
                 "INSERT INTO items(id, repo_id, key, title, updated_at) VALUES(1, 1, '7', 'Crash on open', 50),"
                 "  (2, 1, '8', 'crash when opening', 60);"
                 "INSERT INTO pairs(id, repo_id, query_key, cand_key, rank, score, prob, relation, confidence,"
                 "  value, reasoning, value_detail, suggested_comment, known, updated_at, comment_on, canonical)"
                 " VALUES(3, 1, '8', '7', 2, 4.5, 0.75, 'duplicate', 'high', 1.5, 'same crash', 'base: 1.5',"
                 "  'Duplicate of #7', 1, 60, '8', '7'),"
                 " (5, 1, '7', '8', 1, 1.0, 0.25, 'related', 'low', 0.5, NULL, NULL, NULL, 0, 60, NULL, NULL),"
                 " (9, 1, '9', '7', 1, 1.0, 0.5, 'related', 'low', 0.5, 'gone', NULL, NULL, 0, 0, NULL, NULL);"
                 "DELETE FROM pairs WHERE id = 9;"
                 "INSERT INTO verdicts VALUES(1, '8', '7', 'duplicate', 77);");
    pair p;
    assert_int_equal(store_pair_get(f->st, 3, &p, &err), DP_OK);
    assert_string_equal(p.query_key, "8");
    assert_string_equal(p.cand_key, "7");
    assert_int_equal(p.rank, 2);
    assert_true(p.score == 4.5 && p.prob == 0.75 && p.value == 1.5);
    assert_int_equal(p.relation, RELATION_DUPLICATE);
    assert_int_equal(p.confidence, CONFIDENCE_HIGH);
    assert_string_equal(p.reasoning, "same crash");
    assert_string_equal(p.value_detail, "base: 1.5");
    assert_string_equal(p.suggested_comment, "Duplicate of #7");
    assert_int_equal(p.known, 1);
    assert_int_equal(p.updated_at, 60);
    assert_string_equal(p.comment_on, "8");
    assert_string_equal(p.canonical, "7");
    assert_int_equal(p.verdict, VERDICT_DUPLICATE);
    pair_free(&p);
    assert_int_equal(store_pair_get(f->st, 5, &p, &err), DP_OK);
    assert_null(p.reasoning);
    assert_null(p.comment_on);
    pair_free(&p);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pair_texts"), 1);   /* none for pair 5 */
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pairs_full WHERE id = 3 AND reasoning = 'same crash'"
                                       " AND suggested_comment = 'Duplicate of #7' AND known = 1"),
                     1);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pragma_table_info('pairs')"
                                       " WHERE name IN ('reasoning', 'value_detail', 'suggested_comment')"),
                     0);
    /* the same indexes and triggers as before, on the new table, but
     * those of every repository's page: one repository has pairs (the
     * migration to STORE_V_PAIRS_ALL dropped them) */
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'pairs'"
                                       " AND type = 'index' AND sql IS NOT NULL"),
                     6);
    assert_int_equal(all_indexes(f), 0);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'pairs' AND type = 'trigger'"),
                     4);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%v11%'"), 0);
    expect_counts_match(f);
    assert_int_equal(store_read_int(f, "SELECT n FROM pair_counts WHERE relation = 'duplicate'"), 1);
    pair_filter flt;
    pair_filter_init(&flt);
    flt.repo_id = 1;
    flt.text = "crash";
    EXPECT(f, &flt, "8>7 7>8");
    /* ids continue after the highest ever given (9, deleted), not the highest left */
    pair np = fx_pair("8", "1", "related", "low", 0.1, 0);
    assert_int_equal(store_pairs_add(f->st, 1, &np, 1, &err), DP_OK);
    assert_int_equal(store_read_int(f, "SELECT id FROM pairs WHERE cand_key = '1'"), 10);
    const char *q = "8";
    assert_int_equal(store_pairs_delete(f->st, 1, &q, 1, &err), DP_OK);
    expect_counts_match(f);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pair_texts"), 0);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    fx_expect_integrity(f->st->db);
}

/* A version-7 store gains the pair counters, counted from its pairs. */
static void test_migrate_counts(void **state)
{
    fx *f = *state;
    dp_err err;
    migrate_from(f, 7,
                 "INSERT INTO repositories(id, name) VALUES(1, 'o/r'), (2, 'p/q');"
                 "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, known, value) VALUES"
                 " (1, '1', '2', 'related', 'high', 0, 1.5), (1, '2', '1', 'related', 'high', 0, 1.0),"
                 " (1, '3', '1', 'duplicate', 'low', 1, 0.5), (2, '1', '2', 'related', 'high', 0, 1.0);");
    assert_int_equal(store_read_int(f, "SELECT n FROM pair_counts WHERE repo_id = 1 AND relation = 'related'"), 2);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM pair_counts"), 3);
    expect_counts_match(f);
    pair_filter flt;
    pair_filter_init(&flt);
    size_t total = 0;
    assert_int_equal(store_pairs_query(f->st, &flt, NULL, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 4);
    flt.repo_id = 1;
    flt.include_known = 0;
    assert_int_equal(store_pairs_query(f->st, &flt, NULL, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 2);
}

/* A version-6 store gains the title index, filled from the items it holds. */
static void test_migrate_text_index(void **state)
{
    fx *f = *state;
    migrate_from(f, 6,
                 "INSERT INTO repositories(id, name) VALUES(1, 'o/r');"
                 "INSERT INTO items(id, repo_id, key, title) VALUES(1, 1, '7', 'Connection TIMEOUT on retry'),"
                 "  (2, 1, '8', 'Other');"
                 "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, value)"
                 " VALUES(1, '8', '7', 'related', 'high', 1.5);");
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "timeout";
    EXPECT(f, &flt, "8>7");
}

/* The title index keeps no positions (detail=none, version 12): it finds
 * the items holding every trigram of a text, and only those holding them
 * one after the other count -- in the case folding of the index's own
 * tokenizer, which folds beyond ASCII, as the phrase query did. */
static void test_text_filter_trigrams_in_a_row(void **state)
{
    fx *f = *state;
    dp_err err;
    item it;
    fx_item(&it, "3", "Timeo eout, \xc3\x89" "CRAN noir", "open", 9000);   /* "ÉCRAN" */
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts_todo"), 0);
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "timeout";             /* tim ime meo eou out, not in a row */
    EXPECT(f, &flt, "");
    /* the same in an ASCII title (tested without the tokenizer) */
    fx_item(&it, "4", "Timeo and meout", "open", 9050);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    EXPECT(f, &flt, "");
    flt.text = "MEOUT";
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "timeo";
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "\xc3\xa9" "cran";       /* "écran": folded by the tokenizer, not by LIKE */
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "eout, \xc3\xa9" "c";
    EXPECT(f, &flt, "3>4 4>3");
    flt.text = "noir\"";
    EXPECT(f, &flt, "");
    /* folding that changes a length: the Kelvin sign is 'k' to the index */
    fx_item(&it, "5", "Kelvin scale, \xc2\xa3" "93", "open", 9100);   /* "£93" */
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    flt.text = "\xe2\x84\xaa" "elvin";
    EXPECT(f, &flt, "5>6 6>5");
    /* bytes that are not UTF-8: a lone continuation byte reads as U+00A3,
     * a lead byte without its continuation as U+FFFD, as the phrase did */
    flt.text = "\xa3" "93";
    EXPECT(f, &flt, "5>6 6>5");
    flt.text = "#56\xe4" "93";
    EXPECT(f, &flt, "");
    flt.text = "\xe4" "93";
    EXPECT(f, &flt, "");
    /* a title a script stored with a 5-byte form (not UTF-8): its trigram
     * "ab?" does not come back from the query parser as itself, so the
     * query leaves it out and the text is still found */
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE items SET title = CAST(X'78797A6162F888808080' AS TEXT)"
                                             " WHERE key = '5'", NULL, NULL, NULL), SQLITE_OK);
    fx_item(&it, "9", "flush the title index", "open", 9200);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts_todo"), 0);
    flt.text = "zab\xf8\x88\x80\x80\x80";
    EXPECT(f, &flt, "5>6 6>5");
}

/* dp_trigram, the title index's tokenizer (version 14): one term per
 * distinct trigram of the key and title, case folded as FTS5's trigram
 * tokenizer folds, followed by one byte of 0x80 or more hashed from it --
 * bytes that differ from trigram to trigram, which is what spreads FTS5's
 * hash of the tokens. */
static void test_title_tokenizer(void **state)
{
    fx *f = *state;
    dp_err err;
    item it;
    fx_item(&it, "3", "AbcdefghijklmnopqrstuvwxyZ", "open", 9000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts_todo"), 0);
    assert_int_equal(sqlite3_exec(f->st->db, "CREATE VIRTUAL TABLE temp.tv USING fts5vocab(main, items_fts, row)",
                                  NULL, NULL, NULL), SQLITE_OK);
    /* the seeded items' titles hold other trigrams: count this title's */
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM temp.tv WHERE instr('abcdefghijklmnopqrstuvwxyz',"
                                       " CAST(substr(CAST(term AS BLOB), 1, 3) AS TEXT)) > 0"), 24);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM temp.tv WHERE length(CAST(term AS BLOB)) = 4"
                                       " AND hex(substr(CAST(term AS BLOB), 4, 1)) >= '80'"),
                     store_read_int(f, "SELECT count(*) FROM temp.tv WHERE length(CAST(term AS BLOB)) = 4"));
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM temp.tv WHERE substr(CAST(term AS BLOB), 1, 3) = X'78797A'"),
                     1);   /* "xyz", folded from "xyZ" */
    assert_true(store_read_int(f, "SELECT count(DISTINCT substr(CAST(term AS BLOB), 4, 1)) FROM temp.tv"
                                  " WHERE instr('abcdefghijklmnopqrstuvwxyz',"
                                  " CAST(substr(CAST(term AS BLOB), 1, 3) AS TEXT)) > 0") >= 16);
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "HIJKL";
    EXPECT(f, &flt, "3>4 4>3");
}

/* A store made at version `from` with the text seed, one more item and
 * its pair, migrated: the title index is the latest (no positions,
 * dp_trigram), made again from the items -- also one only noted in
 * items_fts_todo -- nothing stays noted, and the filter finds what it
 * found. */
static void expect_title_index_migrated(fx *f, int from)
{
    migrate_from(f, from,
                 TEXT_SEED
                 "INSERT INTO items(id, repo_id, key, title) VALUES(9, 1, '5', 'Slow TIMEOUT');"
                 "INSERT INTO pairs(repo_id, query_key, cand_key, relation, confidence, value)"
                 " VALUES(1, '5', '4', 'related', 'low', 0.2);");
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM sqlite_master WHERE name = 'items_fts'"
                                       " AND sql LIKE '%tokenize=''dp_trigram''%detail=none%'"), 1);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts_todo"), 0);
    assert_int_equal(store_read_int(f, "SELECT count(*) FROM items_fts"), 3);
    pair_filter flt;
    pair_filter_init(&flt);
    flt.text = "timeout";
    EXPECT(f, &flt, "9>4 4>9 5>4");
    flt.text = "dark";
    EXPECT(f, &flt, "9>4 4>9 5>4");
    flt.text = "slow";
    EXPECT(f, &flt, "5>4");
}

/* 11 -> 12: the title index without positions (and then 14's tokenizer). */
static void test_migrate_title_index_detail(void **state) { expect_title_index_migrated(*state, 11); }

/* 13 -> 14: the title index by dp_trigram. */
static void test_migrate_title_index_tokenizer(void **state) { expect_title_index_migrated(*state, 13); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_touch, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_lengths, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_advice, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_replace_keeps_verdicts, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merge_writes_only_changes, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_replace_is_atomic, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_filters, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_filter, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_filter_trigrams_in_a_row, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_title_index_detail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_title_tokenizer, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_title_index_tokenizer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_counts, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_short_text_plan, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_keys_by_id, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_covering, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reviewed_and_paging, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sorts, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_other_repo_separate, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_neighbors, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_neighbors_follow_query_order, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_count_cache_sees_writes, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_query_plans, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_verdicts, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keyset_paging, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cursor_checked, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_index_follows_writes, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_text_index, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keyset_paging_backwards, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_offset_pages, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_class_set_matches_walk, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_counts_follow_writes, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_counts_shared, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_around_matches_table, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_around_shared, fx_setup_seeded, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_counts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_texts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_all_indexes, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
