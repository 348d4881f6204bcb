/* fuzz_pick.c -- the picking parser (src/ingest/pick.c) against jansson.
 *
 * The input is one record. For each GitHub shape (REST issue, gh CLI
 * object, REST comment) it is picked with that shape's keep list and parsed
 * in full by jansson.
 *
 * Checks (ingest_int.h): a record ij_pick takes is one jansson takes, and
 * the picked object equals the same selection from jansson's tree
 * (ij_project); the converter gives the same result -- the same error
 * message, or the same item, comments and label colours -- on the picked
 * object as on the full one, so no converter reads a member its keep list
 * does not name. */
#include "fuzz.h"

#include "../src/ingest/ingest.h"
#include "../src/ingest/ingest_int.h"

/* Everything a converter fills, as one text. */
static void describe_item(sbuf *sb, const item *it)
{
    sb_printf(sb, "%s|%lld|%d|%s|%s|%s|%s|%s|%lld|%lld|%lld|%d|%d|%s|", it->key ? it->key : "-",
              (long long)it->number, (int)it->kind, it->title ? it->title : "-",
              it->body ? it->body : "-", it->state ? it->state : "-",
              it->state_reason ? it->state_reason : "-", it->author ? it->author : "-",
              (long long)it->created_at, (long long)it->updated_at, (long long)it->closed_at,
              it->ncomments, it->reactions, it->url ? it->url : "-");
    for (size_t i = 0; i < it->labels.n; i++) sb_printf(sb, "L%s|", it->labels.v[i] ? it->labels.v[i] : "-");
}

static void describe_comment(sbuf *sb, const comment *c)
{
    sb_printf(sb, "C%lld|%s|%s|%s|%lld|%lld|", (long long)c->id, c->item_key ? c->item_key : "-",
              c->author ? c->author : "-", c->body ? c->body : "-", (long long)c->created_at,
              (long long)c->updated_at);
}

/* The converter of shape f on obj, as one text (result or error). */
static char *convert(int f, json_t *obj)
{
    sbuf sb;
    sb_init(&sb);
    dp_err err;
    char *repo = NULL;
    int rc;
    if (f == 2) {
        comment c;
        rc = ingest_github_comment(obj, &c, &repo, &err);
        if (rc == DP_OK) describe_comment(&sb, &c);
        comment_free(&c);
    } else {
        item it;
        comment_vec cv = {0};
        rc = f == 0 ? ingest_github_item(obj, &it, &repo, &err)
                    : ingest_gh_item(obj, &it, &cv, &repo, &err);
        if (rc == DP_OK) {
            describe_item(&sb, &it);
            for (size_t i = 0; i < cv.n; i++) describe_comment(&sb, &cv.v[i]);
            strvec names = {0}, colors = {0};
            ingest_github_label_colors(obj, &names, &colors);
            for (size_t i = 0; i < names.n; i++) sb_printf(&sb, "K%s=%s|", names.v[i], colors.v[i]);
            sv_free(&names);
            sv_free(&colors);
        }
        item_free(&it);
        comment_vec_free(&cv);
    }
    if (rc == DP_OK) sb_printf(&sb, "R%s", repo ? repo : "-");
    else sb_printf(&sb, "E%s", err.msg);
    free(repo);
    return sb_take(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ij_keep *const keeps[3] = {ij_keep_github_item, ij_keep_gh_item, ij_keep_github_comment};
    if (size > (1u << 20)) return 0;
    json_t *full = json_loadb((const char *)data, size, 0, NULL);
    for (int f = 0; f < 3; f++) {
        json_t *picked = ij_pick((const char *)data, size, keeps[f]);
        if (!picked) continue;
        fuzz_check(full != NULL, "ij_pick took a record jansson refuses (shape %d)", f);
        json_t *want = ij_project(full, keeps[f]);
        fuzz_check(json_equal(picked, want), "picked object differs from jansson's (shape %d)", f);
        char *a = convert(f, picked), *b = convert(f, full);
        fuzz_check(!strcmp(a, b), "converter differs (shape %d):\npicked: %.300s\nfull:   %.300s", f, a, b);
        free(a);
        free(b);
        json_decref(want);
        json_decref(picked);
    }
    json_decref(full);
    return 0;
}
