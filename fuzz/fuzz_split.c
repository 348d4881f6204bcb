/* fuzz_split.c -- the record splitter and every import converter
 * (src/ingest): ingest_split_mem() over the input, then each record through
 * jansson and ALL converters (GitHub REST, gh CLI, comments, Jira, label
 * colours, links), whatever its format, as a wrong --format would.
 *
 * Checks: a record is exactly the bytes of the input at its offset, starts
 * with '{' and ends with a closing bracket, and its line is the line of that offset; a
 * clean end has consumed the whole input; an error points inside the input;
 * a converter that succeeds fills the fields its contract promises.
 * (Import through the store and gzip input: fuzz_import.c.) */
#include "fuzz.h"

#include <jansson.h>

#include "../src/ingest/ingest.h"

static size_t line_at(const uint8_t *d, uint64_t off)
{
    size_t line = 1;
    for (uint64_t i = 0; i < off; i++) line += d[i] == '\n';
    return line;
}

static void check_item(const item *it, const char *what)
{
    fuzz_check(it->key && *it->key, "%s: no key", what);
    fuzz_check(it->title && it->body, "%s: NULL title/body", what);
    fuzz_check(it->state && (!strcmp(it->state, "open") || !strcmp(it->state, "closed")),
               "%s: state \"%s\"", what, it->state ? it->state : "(null)");
    fuzz_check(it->number > 0, "%s: number %lld", what, (long long)it->number);
}

static void links_of(const item *it, const char *repo, const comment_vec *cv)
{
    link_vec lv = {0};
    ingest_links_from_text(it->key, it->kind, it->body, repo, "body", &lv);
    for (size_t i = 0; i < cv->n; i++)
        ingest_links_from_text(it->key, it->kind, cv->v[i].body, repo, "comment", &lv);
    link_vec_free(&lv);
}

static void convert_all(json_t *obj)
{
    dp_err err;
    item it;
    char *repo = NULL;
    comment_vec cv = {0};
    link_vec lv = {0};
    comment cm;

    (void)ingest_format_detect(obj);

    if (ingest_github_item(obj, &it, &repo, &err) == DP_OK) {
        check_item(&it, "github");
        links_of(&it, repo, &cv);
    }
    item_free(&it);
    free(repo);

    if (ingest_gh_item(obj, &it, &cv, &repo, &err) == DP_OK) {
        check_item(&it, "gh");
        for (size_t i = 0; i < cv.n; i++)
            fuzz_check(cv.v[i].item_key && !strcmp(cv.v[i].item_key, it.key), "gh comment key");
        links_of(&it, repo, &cv);
    }
    item_free(&it);
    comment_vec_free(&cv);
    free(repo);

    if (ingest_github_comment(obj, &cm, &repo, &err) == DP_OK) {
        fuzz_check(cm.item_key && cm.body, "comment without key/body");
        link_vec one = {0};
        ingest_links_from_text(cm.item_key, ITEM_ISSUE, cm.body, repo, "comment", &one);
        link_vec_free(&one);
    }
    comment_free(&cm);
    free(repo);

    if (ingest_jira_item(obj, &it, &cv, &lv, &err) == DP_OK) {
        check_item(&it, "jira");
        char *proj = ingest_jira_project(it.key);
        fuzz_check(proj && *proj, "jira project of \"%s\"", it.key);
        free(proj);
        for (size_t i = 0; i < lv.n; i++)
            fuzz_check(lv.v[i].src_key && lv.v[i].dst_key && lv.v[i].source, "jira link fields");
    }
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&lv);

    strvec names = {0}, colors = {0};
    ingest_github_label_colors(obj, &names, &colors);
    fuzz_check(names.n == colors.n, "label names/colours differ in count");
    sv_free(&names);
    sv_free(&colors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ingest_split *sp = ingest_split_mem((const char *)data, size);
    ingest_record r;
    dp_err err;
    int rc;
    while ((rc = ingest_split_next(sp, &r, &err)) == DP_OK) {
        /* brackets are only counted, not matched: jansson rejects "{]" */
        fuzz_check(r.len >= 2 && r.data[0] == '{' && strchr("}]", r.data[r.len - 1]), "record shape");
        fuzz_check(r.offset + r.len <= size, "record past the input");
        fuzz_check(!memcmp(data + r.offset, r.data, r.len), "record is not the input's bytes");
        fuzz_check(r.line == line_at(data, r.offset), "line %zu for offset %llu", r.line,
                   (unsigned long long)r.offset);
        json_error_t je;
        json_t *obj = json_loadb(r.data, r.len, 0, &je);
        if (obj) convert_all(obj);
        json_decref(obj);
    }
    if (rc == DP_NOTFOUND) {
        fuzz_check(ingest_split_bytes(sp) == size, "clean end before the end of input");
    } else {
        fuzz_check(rc == DP_ERR, "ingest_split_next returned %d", rc);
        size_t line;
        uint64_t off;
        ingest_split_where(sp, &line, &off);
        fuzz_check(off <= size, "error offset %llu past the input (%zu)", (unsigned long long)off, size);
        fuzz_check(line >= 1 && line <= line_at(data, size), "error line %zu", line);
        fuzz_check(err.msg[0], "error without a message");
    }
    ingest_split_close(sp);
    return 0;
}
