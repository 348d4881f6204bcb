/* fixture.c -- builds the store the browser and API tests (and the latency
 * benchmark) serve, through the store API, so the tests do not depend on
 * import/analyze.
 *
 *   fixture OUT.db [--pairs N] [--apply] [--fixtures DIR]
 *
 * Writes a GitHub repository "acme/widgets" with a handful of hand-made
 * items and pairs (rich markdown, an XSS-laden body, labels with colours,
 * one pair already reviewed, comments: two on #5693 of the three the tracker
 * counts, none of #4606's four, 205 on #5003, whose body is long and starts
 * with a wide code block) and a Jira project "HIVE" with one pair (wiki
 * markup body, components and versions, one comment). With
 * --pairs N it adds N synthetic pairs (value below every hand-made pair) over
 * N/5 synthetic items, for paging and latency tests. With --apply it adds
 * two open issues, #6001 and #6002, and their duplicate pair (value 0.950,
 * below every hand-made pair): applying a duplicate verdict on it closes
 * #6002 (the newer) into #6001 -- the Apply view's tests run it against the
 * fake GitHub API. OUT.db must not exist. Markdown bodies come from DIR
 * (default tests/fixtures/web). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/store/store.h"

static const char *fixdir = "tests/fixtures/web";

static void die(const char *what, const dp_err *err)
{
    fprintf(stderr, "fixture: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static char *body_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    char *s;
    size_t n;
    dp_err err;
    if (dp_read_file(path, &s, &n, &err) != DP_OK) die(path, &err);
    return s;
}

typedef struct fx_item {
    const char *key;
    item_kind kind;
    const char *title;
    const char *body;        /* literal, or "@file.md" */
    const char *state, *reason, *author;
    const char *labels;      /* comma-separated */
    int64_t created, updated;
    int ncomments;           /* the tracker's count (the store may hold fewer) */
    const char *components, *versions;   /* comma-separated; Jira */
} fx_item;

static void split_into(strvec *sv, const char *csv)
{
    if (!csv) return;
    char *ls = xstrdup(csv), *save = NULL;
    for (char *t = strtok_r(ls, ",", &save); t; t = strtok_r(NULL, ",", &save)) sv_push(sv, t);
    free(ls);
}

/* A body that scrolls: a code block wider than any pane, then many lines. */
static char *long_body(void)
{
    sbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "Startup takes 20 s with 50 plugins. The loader log:\n\n```\nplugin-loader:");
    for (int i = 0; i < 40; i++) sb_printf(&sb, " step%02d=ok", i);
    sb_adds(&sb, " END-OF-WIDE-LINE\n```\n\n");
    for (int i = 1; i <= 120; i++) sb_printf(&sb, "Startup phase %d took %d ms.\n\n", i, 100 + i);
    return sb_take(&sb);
}

static void put_item(store *st, int64_t repo, const fx_item *f)
{
    item it;
    item_init(&it);
    it.key = xstrdup(f->key);
    const char *dash = strrchr(f->key, '-');
    it.number = atoll(dash ? dash + 1 : f->key);
    it.kind = f->kind;
    it.title = xstrdup(f->title);
    it.body = !strcmp(f->body, "@long") ? long_body() : f->body[0] == '@' ? body_file(f->body + 1) : xstrdup(f->body);
    it.state = xstrdup(f->state);
    it.state_reason = xstrdup(f->reason);
    it.author = xstrdup(f->author);
    it.created_at = f->created;
    it.updated_at = f->updated;
    if (!strcmp(f->state, "closed")) it.closed_at = f->updated;
    it.ncomments = f->ncomments;
    split_into(&it.labels, f->labels);
    split_into(&it.components, f->components);
    split_into(&it.versions, f->versions);
    dp_err err;
    if (store_item_upsert(st, repo, &it, NULL, &err) != DP_OK) die("item", &err);
    item_free(&it);
}

static void put_comment(store *st, int64_t repo, const char *key, const char *author, const char *body,
                        int64_t at)
{
    comment c = {0};
    c.item_key = (char *)key;
    c.author = (char *)author;
    c.body = (char *)body;
    c.created_at = c.updated_at = at;
    dp_err err;
    if (store_comment_upsert(st, repo, &c, &err) != DP_OK) die("comment", &err);
}

static void set_pair(pair *p, const char *q, const char *c, int rank, const char *rel,
                     const char *conf, double value, double prob, const char *reasoning,
                     const char *detail, const char *comment)
{
    memset(p, 0, sizeof *p);
    p->query_key = xstrdup(q);
    p->cand_key = xstrdup(c);
    p->rank = rank;
    p->score = prob * 10;
    p->prob = prob;
    relation_parse(rel, &p->relation);
    confidence_parse(conf, &p->confidence);
    p->value = value;
    p->reasoning = xstrdup(reasoning);
    p->value_detail = xstrdup(detail);
    p->suggested_comment = xstrdup(comment);
}

#define T0 1672531200   /* 2023-01-01 */
#define DAY 86400

static const fx_item gh_items[] = {
    {"5693", ITEM_ISSUE, "Crash when opening settings with an empty profile", "@query.md", "open",
     NULL, "alice", "bug,crash,needs-triage", T0 + 100 * DAY, T0 + 120 * DAY, 3, NULL, NULL},
    {"4606", ITEM_PR, "Fix null profile name crash in settings", "@cand.md", "closed", "completed",
     "bob", "bug,evil", T0 + 10 * DAY, T0 + 12 * DAY, 4, NULL, NULL},
    {"4700", ITEM_ISSUE, "Settings page throws AttributeError", "Same `AttributeError` on strip().",
     "closed", "not_planned", "carol", "bug", T0 + 20 * DAY, T0 + 40 * DAY, 0, NULL, NULL},
    {"5000", ITEM_ISSUE, "<script>alert('title')</script> payload issue", "@xss.md", "open", NULL,
     "mallory", "ui", T0 + 50 * DAY, T0 + 51 * DAY, 0, NULL, NULL},
    {"5001", ITEM_ISSUE, "Dark mode toggle resets on restart", "The toggle does not persist.",
     "open", NULL, "dave", "ui,enhancement", T0 + 60 * DAY, T0 + 61 * DAY, 0, NULL, NULL},
    {"5002", ITEM_ISSUE, "Theme preference is not saved", "Preference lost after restart.",
     "closed", "duplicate", "erin", "ui", T0 + 30 * DAY, T0 + 33 * DAY, 0, NULL, NULL},
    {"5003", ITEM_ISSUE, "Slow startup with many plugins", "@long", "open", NULL, "frank", "performance",
     T0 + 70 * DAY, T0 + 71 * DAY, 205, NULL, NULL},
    {"5004", ITEM_PR, "Lazy-load plugins at startup", "Loads plugins on first use.", "open", NULL,
     "grace", "performance", T0 + 72 * DAY, T0 + 73 * DAY, 0, NULL, NULL},
};

static const char *const label_colors[][2] = {
    {"bug", "d73a4a"}, {"crash", "b60205"}, {"needs-triage", "ededed"}, {"ui", "1d76db"},
    {"enhancement", "a2eeef"}, {"performance", "fbca04"},
    {"evil", "red;}body{display:none"},   /* hostile: the API must drop it */
};

static const fx_item apply_items[] = {
    {"6001", ITEM_ISSUE, "CSV export fails on names with accents", "Exporting `café.txt` gives a UnicodeError.",
     "open", NULL, "henry", "bug", T0 + 80 * DAY, T0 + 81 * DAY, 0, NULL, NULL},
    {"6002", ITEM_ISSUE, "Exporting to CSV breaks with non-ASCII file names", "UnicodeError on `naïve.csv`.",
     "open", NULL, "ivy", "bug", T0 + 90 * DAY, T0 + 91 * DAY, 0, NULL, NULL},
};

static void github_repo(store *st, size_t nsynth, int apply)
{
    dp_err err;
    int64_t repo;
    if (store_repo_get(st, "acme/widgets", 1, "github", "https://github.com/acme/widgets", &repo, &err))
        die("repo", &err);
    for (size_t i = 0; i < sizeof gh_items / sizeof gh_items[0]; i++) put_item(st, repo, &gh_items[i]);
    for (size_t i = 0; i < sizeof label_colors / sizeof label_colors[0]; i++)
        if (store_label_color_set(st, repo, label_colors[i][0], label_colors[i][1], &err)) die("label", &err);
    put_comment(st, repo, "5693", "bob", "Probably fixed by #4606; try `1.2.1`.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                T0 + 101 * DAY);
    put_comment(st, repo, "5693", "mallory",
                "<script>window.__xss = 31; alert(31)</script> <img src=x onerror=\"window.__xss=32\"> "
                "[x](javascript:alert(33))",
                T0 + 102 * DAY);
    /* more comments than the API sends (200) */
    for (int i = 0; i < 205; i++) {
        char body[64];
        snprintf(body, sizeof body, "Comment number %d on plugins.", i + 1);
        put_comment(st, repo, "5003", "frank", body, T0 + 71 * DAY + i * 60);
    }

    size_t nitems = nsynth ? nsynth / 5 + 5 : 0;
    for (size_t i = 0; i < nitems; i++) {
        char key[32], title[128];
        snprintf(key, sizeof key, "%zu", 10000 + i);
        snprintf(title, sizeof title, "Synthetic issue %zu about widget %zu", 10000 + i, i % 97);
        fx_item f = {key, i % 4 ? ITEM_ISSUE : ITEM_PR, title,
                     "Generated body with `code` and a reference to #5693.", i % 3 ? "open" : "closed",
                     i % 3 ? NULL : "completed", "bot", i % 2 ? "bug" : "ui",
                     T0 + (int64_t)i * 60, T0 + (int64_t)i * 60 + DAY, 0, NULL, NULL};
        put_item(st, repo, &f);
    }

    if (apply)
        for (size_t i = 0; i < sizeof apply_items / sizeof apply_items[0]; i++) put_item(st, repo, &apply_items[i]);
    size_t nhand = 6, n = nhand + nsynth + (apply ? 1 : 0);
    pair *ps = xcalloc(n, sizeof *ps);
    set_pair(&ps[0], "5693", "4606", 1, "related", "high", 2.289, 0.62,
             "Both mention the same error: AttributeError: 'NoneType' object has no attribute 'strip'.\n"
             "They share rare terms: profile, settings, strip.\n"
             "#5693 mentions #4606.\n"
             "#4606 was closed as completed 88 days before #5693 was opened.",
             "base: 1.000\nopen query: 0.800\nfixed twin: 0.489",
             "This looks related to #4606 (\"Fix null profile name crash in settings\"), which was merged.\n"
             "Could you check whether `1.2.1` still crashes? <thanks> & \"quotes\" ✓");
    set_pair(&ps[1], "5000", "4700", 1, "duplicate", "high", 1.904, 0.91,
             "Same labels: bug.\nTitles share: settings.", "base: 1.000\nopen query: 0.904",
             "Possible duplicate of #4700.");
    set_pair(&ps[2], "5001", "5002", 1, "duplicate", "medium", 1.512, 0.71,
             "They share rare terms: toggle, restart, preference.", "base: 1.000\nopen query: 0.512",
             "Duplicate of #5002?");
    set_pair(&ps[3], "5003", "5004", 1, "related", "medium", 1.210, 0.40,
             "#5004 addresses startup time of plugins.", "base: 1.000\nopen pair: 0.210",
             "#5004 may fix this.");
    set_pair(&ps[4], "5693", "4700", 2, "duplicate", "low", 1.100, 0.33,
             "Same error message: AttributeError.", "base: 1.000\nopen query: 0.100",
             "Duplicate of #4700?");
    set_pair(&ps[5], "5001", "5003", 2, "related", "low", 1.005, 0.12, "Weak overlap: startup.",
             "base: 1.005", "Maybe related to #5003.");
    for (size_t i = 0; i < nsynth; i++) {
        char q[32], c[32];
        snprintf(q, sizeof q, "%zu", 10000 + i / 5);
        snprintf(c, sizeof c, "%zu", 10000 + (i / 5 + 1 + i % 5) % nitems);
        double v = 0.999 * (double)(nsynth - i) / (double)nsynth;
        set_pair(&ps[nhand + i], q, c, (int)(i % 5) + 1, i % 3 ? "related" : "duplicate",
                 i % 2 ? "low" : "medium", v, v / 2, "Synthetic reasoning.", "base: 0.500",
                 "Synthetic comment.");
    }
    if (apply)
        set_pair(&ps[n - 1], "6002", "6001", 1, "duplicate", "high", 0.950, 0.93,
                 "Same error: UnicodeError.\nThey share rare terms: csv, export.", "base: 0.950",
                 "Duplicate of #6001?");
    if (store_pairs_replace(st, repo, NULL, 0, ps, n, &err)) die("pairs", &err);
    for (size_t i = 0; i < n; i++) pair_free(&ps[i]);
    free(ps);
    if (store_verdict_set(st, repo, "5001", "5003", VERDICT_NOT_RELATED, &err)) die("verdict", &err);
}

static void jira_repo(store *st)
{
    dp_err err;
    int64_t repo;
    if (store_repo_get(st, "HIVE", 1, "jira", "https://issues.apache.org/jira", &repo, &err))
        die("jira repo", &err);
    fx_item a = {"HIVE-123", ITEM_ISSUE, "Query fails on empty partition", "@jira.wiki", "open",
                 NULL, "hiveuser", "query", T0, T0 + DAY, 1, "Query Processor,Metastore", "3.1.0,4.0.0"};
    fx_item b = {"HIVE-99", ITEM_ISSUE, "NPE when partition is empty", "NPE in planner.", "closed",
                 "Fixed", "hivedev", "query", T0 - 90 * DAY, T0 - 80 * DAY, 0, NULL, NULL};
    put_item(st, repo, &a);
    put_item(st, repo, &b);
    put_comment(st, repo, "HIVE-123", "hivedev", "Same as HIVE-99, see {{Driver.run}}:\n* step one\n* step two",
                T0 + 3600);
    pair p;
    set_pair(&p, "HIVE-123", "HIVE-99", 1, "duplicate", "medium", 1.050, 0.66,
             "Same error: NullPointerException.", "base: 1.050", "Duplicate of HIVE-99?");
    if (store_pairs_replace(st, repo, NULL, 0, &p, 1, &err)) die("jira pairs", &err);
    pair_free(&p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fixture OUT.db [--pairs N] [--apply] [--fixtures DIR]\n");
        return 2;
    }
    size_t nsynth = 0;
    int apply = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--apply")) apply = 1;
        else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) nsynth = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--fixtures") && i + 1 < argc) fixdir = argv[++i];
    }
    if (!access(argv[1], F_OK)) {
        fprintf(stderr, "fixture: %s exists\n", argv[1]);
        return 1;
    }
    store *st;
    dp_err err;
    if (store_open(argv[1], &st, &err)) die(argv[1], &err);
    if (store_begin(st, &err)) die("begin", &err);
    github_repo(st, nsynth, apply);
    jira_repo(st);
    if (store_commit(st, &err)) die("commit", &err);
    store_close(st);
    return 0;
}
