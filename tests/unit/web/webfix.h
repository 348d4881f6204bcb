/* webfix.h -- a tiny store for the web unit tests, made through the store
 * API: repo "o/r" (GitHub) with items 1..3 and two pairs, one item whose
 * title is not valid UTF-8. */
#ifndef WEBFIX_H
#define WEBFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../../src/store/store.h"

static void webfix_item(store *st, int64_t repo, const char *key, const char *title, const char *body,
                        const char *state)
{
    item it;
    item_init(&it);
    it.key = xstrdup(key);
    it.number = atoll(key);
    it.title = xstrdup(title);
    it.body = xstrdup(body);
    it.state = xstrdup(state);
    it.author = xstrdup("ann");
    it.created_at = 1700000000;
    it.updated_at = 1700000100;
    sv_push(&it.labels, "bug");
    dp_err err;
    assert_int_equal(store_item_upsert(st, repo, &it, NULL, &err), DP_OK);
    item_free(&it);
}

static void webfix_pair(pair *p, const char *q, const char *c, double value, const char *rel)
{
    memset(p, 0, sizeof *p);
    p->query_key = xstrdup(q);
    p->cand_key = xstrdup(c);
    p->rank = 1;
    p->prob = value / 4;
    relation_parse(rel, &p->relation);
    p->confidence = CONFIDENCE_HIGH;
    p->value = value;
    p->reasoning = xstrdup("line one\nline two");
    p->value_detail = xstrdup("base: 1.0");
    p->suggested_comment = xstrdup("Duplicate of #2?");
}

/* Writes the store to a fresh temporary path; returns it (caller frees,
 * and unlinks with webfix_remove). */
static char *webfix_make(void)
{
    char *path = xasprintf("/tmp/doppel-webtest-%d-%d.db", (int)getpid(), rand());
    store *st;
    dp_err err;
    assert_int_equal(store_open(path, &st, &err), DP_OK);
    int64_t repo;
    assert_int_equal(store_repo_get(st, "o/r", 1, "github", "https://github.com/o/r", &repo, &err), DP_OK);
    webfix_item(st, repo, "1", "First <b>issue</b>", "Body with #2 and <script>x</script>", "open");
    webfix_item(st, repo, "2", "Second issue", "| a |\n|---|\n| 1 |", "closed");
    webfix_item(st, repo, "3", "Bad \xff title", "", "open");
    assert_int_equal(store_label_color_set(st, repo, "bug", "d73a4a", &err), DP_OK);
    pair ps[2];
    webfix_pair(&ps[0], "1", "2", 2.5, "duplicate");
    webfix_pair(&ps[1], "3", "1", 1.5, "related");
    assert_int_equal(store_pairs_replace(st, repo, NULL, 0, ps, 2, &err), DP_OK);
    pair_free(&ps[0]);
    pair_free(&ps[1]);
    store_close(st);
    return path;
}

static void webfix_remove(char *path)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = xasprintf("%s%s", path, suffix[i]);
        unlink(p);
        free(p);
    }
    free(path);
}

#endif
