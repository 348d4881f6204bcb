/* eval_load.c -- what eval and train read from the store and from files:
 * a repository's items and links, and trained models. */
#include "eval.h"

#include <stdlib.h>
#include <string.h>

int eval_repo_load(store *st, const char *repo, eval_repo_data *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    if (store_repo_resolve(st, repo, &out->repo_id, err) != DP_OK) return DP_ERR;
    if (!repo) {   /* the only repository: find its name for reports */
        repo_info *ri = NULL;
        size_t n = 0;
        if (store_repo_list(st, &ri, &n, err) != DP_OK) return DP_ERR;
        for (size_t i = 0; i < n; i++)
            if (ri[i].id == out->repo_id) out->name = xstrdup(ri[i].name);
        for (size_t i = 0; i < n; i++) repo_info_free(&ri[i]);
        free(ri);
    } else {
        out->name = xstrdup(repo);
    }
    if (!out->name) out->name = xstrdup("?");
    if (store_items_load(st, out->repo_id, &out->items, err) != DP_OK ||
        store_links_load(st, out->repo_id, &out->links, err) != DP_OK) {
        eval_repo_data_free(out);
        return DP_ERR;
    }
    out->d.name = out->name;
    out->d.items = out->items.v;
    out->d.nitems = out->items.n;
    out->d.links = out->links.v;
    out->d.nlinks = out->links.n;
    return DP_OK;
}

void eval_repo_data_free(eval_repo_data *r)
{
    free(r->name);
    item_vec_free(&r->items);
    link_vec_free(&r->links);
    memset(r, 0, sizeof *r);
}

int eval_model_load_file(const char *path, match_model *out, dp_err *err)
{
    char *text;
    size_t len;
    if (dp_read_file(path, &text, &len, err) != DP_OK) return DP_ERR;
    int rc = match_model_from_text(text, out, err);
    free(text);
    if (rc != DP_OK) {
        dp_err e2;
        dp_fail(&e2, "%s: %s", path, err ? err->msg : "bad model");
        if (err) *err = e2;
    }
    return rc;
}

int eval_model_load_store(store *st, const char *repo, match_model *out, dp_err *err)
{
    int64_t id = 0;
    if (strcmp(repo, "global") && store_repo_resolve(st, repo, &id, err) != DP_OK) return DP_ERR;
    char *text = NULL;
    int rc = store_model_load(st, id, &text, NULL, NULL, err);
    if (rc == DP_NOTFOUND)
        return dp_fail(err, "no trained model for %s (run doppel train%s%s)", repo,
                       strcmp(repo, "global") ? " --repo " : " with several --repo",
                       strcmp(repo, "global") ? repo : "");
    if (rc != DP_OK) return DP_ERR;
    rc = match_model_from_text(text, out, err);
    free(text);
    return rc;
}
