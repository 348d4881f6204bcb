/* github.c -- converters for GitHub shapes: REST issue/pull request objects,
 * `gh issue/pr list --json` objects and REST issue comments (see ingest.h).
 *
 * Each converter initialises its out struct first, so the caller can always
 * free it, also after an error.
 */
#include "ingest.h"
#include "ingest_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members each converter below reads (see ij_keep in ingest_int.h):
 * a converter that reads a new member must name it here too. */
static const ij_keep keep_login[] = {{"login", NULL}, {NULL, NULL}};
static const ij_keep keep_label[] = {{"name", NULL}, {"color", NULL}, {NULL, NULL}};
static const ij_keep keep_pr[] = {{"merged_at", NULL}, {NULL, NULL}};
static const ij_keep keep_reactions[] = {{"total_count", NULL}, {NULL, NULL}};

const ij_keep ij_keep_github_item[] = {
    {"number", NULL}, {"title", NULL}, {"body", NULL}, {"state_reason", NULL}, {"state", NULL},
    {"user", keep_login}, {"created_at", NULL}, {"updated_at", NULL}, {"closed_at", NULL},
    {"labels", keep_label}, {"html_url", NULL}, {"pull_request", keep_pr},
    {"reactions", keep_reactions}, {"comments", NULL}, {"repository_url", NULL}, {NULL, NULL}};

static const ij_keep keep_gh_users[] = {{"totalCount", NULL}, {NULL, NULL}};
static const ij_keep keep_gh_reaction[] = {{"users", keep_gh_users}, {NULL, NULL}};
static const ij_keep keep_gh_comment[] = {
    {"author", keep_login}, {"body", NULL}, {"createdAt", NULL}, {"url", NULL}, {NULL, NULL}};

const ij_keep ij_keep_gh_item[] = {
    {"number", NULL}, {"title", NULL}, {"body", NULL}, {"state", NULL}, {"stateReason", NULL},
    {"author", keep_login}, {"createdAt", NULL}, {"updatedAt", NULL}, {"closedAt", NULL},
    {"labels", keep_label}, {"url", NULL}, {"reactionGroups", keep_gh_reaction},
    {"comments", keep_gh_comment}, {"mergedAt", NULL}, {NULL, NULL}};

const ij_keep ij_keep_github_comment[] = {
    {"id", NULL}, {"issue_url", NULL}, {"html_url", NULL}, {"user", keep_login}, {"body", NULL},
    {"created_at", NULL}, {"updated_at", NULL}, {NULL, NULL}};

static void lower(char *s)
{
    for (; s && *s; s++) *s = (char)tolower((unsigned char)*s);
}

static int check_object(json_t *obj, dp_err *err)
{
    if (!json_is_object(obj)) return dp_fail(err, "expected a JSON object");
    return DP_OK;
}

static int item_number(json_t *obj, item *out, dp_err *err)
{
    if (ij_int(obj, "number", "number", J_REQUIRED, &out->number, err) != DP_OK) return DP_ERR;
    if (out->number <= 0) return dp_fail(err, "number: expected a positive integer");
    out->key = xasprintf("%lld", (long long)out->number);
    return DP_OK;
}

/* title and body are text; absent or null means empty, another type is an
 * error (a title that is a number is a sign of a broken export). */
static int item_text(json_t *obj, item *out, dp_err *err)
{
    if (ij_str(obj, "title", "title", J_OPTIONAL, &out->title, err) != DP_OK) return DP_ERR;
    if (ij_str(obj, "body", "body", J_OPTIONAL, &out->body, err) != DP_OK) return DP_ERR;
    if (!out->title) out->title = xstrdup("");
    if (!out->body) out->body = xstrdup("");
    return DP_OK;
}

/* state: "open"/"closed" (REST) or OPEN/CLOSED/MERGED (gh). */
static int item_state(json_t *obj, item *out, dp_err *err)
{
    char *s;
    if (ij_str(obj, "state", "state", J_OPTIONAL, &s, err) != DP_OK) return DP_ERR;
    lower(s);
    if (!s) {
        out->state = xstrdup("open");
    } else if (!strcmp(s, "open") || !strcmp(s, "closed")) {
        out->state = s;
        s = NULL;
    } else if (!strcmp(s, "merged")) {
        out->state = xstrdup("closed");
        free(out->state_reason);
        out->state_reason = xstrdup("merged");
    } else {
        dp_fail(err, "state: expected open, closed or merged, got \"%.40s\"", s);
        free(s);
        return DP_ERR;
    }
    free(s);
    return DP_OK;
}

/* labels: objects with a name (REST, gh); plain strings are accepted too. */
static int item_labels(json_t *obj, item *out, dp_err *err)
{
    json_t *arr, *el;
    size_t i;
    if (ij_arr(obj, "labels", "labels", &arr, err) != DP_OK) return DP_ERR;
    if (!arr) return DP_OK;
    json_array_foreach(arr, i, el) {
        char path[64], *s;
        snprintf(path, sizeof path, "labels[%zu].name", i);
        if (json_is_string(el)) {
            sv_push(&out->labels, json_string_value(el));
            continue;
        }
        if (!json_is_object(el)) return dp_fail(err, "labels[%zu]: expected object", i);
        if (ij_str(el, "name", path, J_REQUIRED, &s, err) != DP_OK) return DP_ERR;
        sv_push_owned(&out->labels, s);
    }
    return DP_OK;
}

void ingest_github_label_colors(json_t *obj, strvec *names, strvec *colors)
{
    json_t *arr = json_object_get(obj, "labels"), *el;
    size_t i;
    if (!json_is_array(arr)) return;
    json_array_foreach(arr, i, el) {
        const char *n = json_string_value(json_object_get(el, "name"));
        const char *c = json_string_value(json_object_get(el, "color"));
        if (!n || !c || !*c) continue;
        if (*c == '#') c++;
        sv_push(names, n);
        sv_push(colors, c);
    }
}

static int user_login(json_t *obj, const char *key, char **out, dp_err *err)
{
    return ij_sub_str(obj, key, "login", key, out, err);
}

int ingest_github_item(json_t *obj, item *out, char **repo_name, dp_err *err)
{
    json_t *pr, *reactions;
    char *api = NULL;
    item_init(out);
    *repo_name = NULL;
    if (check_object(obj, err) != DP_OK || item_number(obj, out, err) != DP_OK ||
        item_text(obj, out, err) != DP_OK)
        return DP_ERR;
    if (ij_str(obj, "state_reason", "state_reason", J_OPTIONAL, &out->state_reason, err) != DP_OK ||
        item_state(obj, out, err) != DP_OK || user_login(obj, "user", &out->author, err) != DP_OK ||
        ij_time(obj, "created_at", "created_at", &out->created_at, err) != DP_OK ||
        ij_time(obj, "updated_at", "updated_at", &out->updated_at, err) != DP_OK ||
        ij_time(obj, "closed_at", "closed_at", &out->closed_at, err) != DP_OK ||
        item_labels(obj, out, err) != DP_OK ||
        ij_str(obj, "html_url", "html_url", J_OPTIONAL, &out->url, err) != DP_OK ||
        ij_obj(obj, "pull_request", "pull_request", &pr, err) != DP_OK ||
        ij_obj(obj, "reactions", "reactions", &reactions, err) != DP_OK)
        return DP_ERR;
    lower(out->state_reason);
    if (ij_count(obj, "comments", "comments", &out->ncomments, err) != DP_OK ||
        (reactions && ij_count(reactions, "total_count", "reactions.total_count", &out->reactions,
                               err) != DP_OK))
        return DP_ERR;
    if (pr) {
        out->kind = ITEM_PR;
        json_t *merged = json_object_get(pr, "merged_at");
        if (merged && !json_is_null(merged) && !out->state_reason)
            out->state_reason = xstrdup("merged");
    }
    if (ij_str(obj, "repository_url", "repository_url", J_OPTIONAL, &api, err) != DP_OK)
        return DP_ERR;
    *repo_name = api ? ij_repo_from_api_url(api) : NULL;
    if (!*repo_name) *repo_name = ij_repo_from_web_url(out->url);
    free(api);
    return DP_OK;
}

/* gh's enum values are upper-case (NOT_PLANNED); "" means none. */
static int gh_state_reason(json_t *obj, item *out, dp_err *err)
{
    char *s;
    if (ij_str(obj, "stateReason", "stateReason", J_OPTIONAL, &s, err) != DP_OK) return DP_ERR;
    if (s && *s && !out->state_reason) {
        lower(s);
        out->state_reason = s;
        return DP_OK;
    }
    free(s);
    return DP_OK;
}

/* reactionGroups: [{"content": "THUMBS_UP", "users": {"totalCount": 3}}].
 * Each count and their sum must be a valid count. */
static int gh_reactions(json_t *obj, item *out, dp_err *err)
{
    json_t *arr, *el;
    size_t i;
    int64_t sum = 0;
    if (ij_arr(obj, "reactionGroups", "reactionGroups", &arr, err) != DP_OK) return DP_ERR;
    if (!arr) return DP_OK;
    json_array_foreach(arr, i, el) {
        json_t *users = json_object_get(el, "users");
        char path[64];
        int n;
        if (!json_is_object(users)) continue;
        snprintf(path, sizeof path, "reactionGroups[%zu].users.totalCount", i);
        if (ij_count(users, "totalCount", path, &n, err) != DP_OK) return DP_ERR;
        sum += n;
    }
    return ij_count_value(sum, "reactionGroups (total)", &out->reactions, err);
}

/* gh comment ids are GraphQL node ids; the REST id is the number in the
 * url's "#issuecomment-123" anchor, which keeps both imports in step. */
static int gh_comment(json_t *el, size_t i, const char *key, comment *c, dp_err *err)
{
    char path[64], *url = NULL;
    if (!json_is_object(el)) return dp_fail(err, "comments[%zu]: expected object", i);
    c->item_key = xstrdup(key);
    snprintf(path, sizeof path, "comments[%zu].author", i);
    if (ij_sub_str(el, "author", "login", path, &c->author, err) != DP_OK) return DP_ERR;
    snprintf(path, sizeof path, "comments[%zu].body", i);
    if (ij_str(el, "body", path, J_OPTIONAL, &c->body, err) != DP_OK) return DP_ERR;
    if (!c->body) c->body = xstrdup("");
    snprintf(path, sizeof path, "comments[%zu].createdAt", i);
    if (ij_time(el, "createdAt", path, &c->created_at, err) != DP_OK) return DP_ERR;
    c->updated_at = c->created_at;
    snprintf(path, sizeof path, "comments[%zu].url", i);
    if (ij_str(el, "url", path, J_OPTIONAL, &url, err) != DP_OK) return DP_ERR;
    const char *a = url ? strstr(url, "#issuecomment-") : NULL;
    if (a && !(c->id = ij_parse_id(a + 14))) {
        dp_fail(err, "%s: bad comment id in \"%.80s\"", path, url);
        free(url);
        return DP_ERR;
    }
    free(url);
    return DP_OK;
}

static int gh_comments(json_t *obj, item *out, comment_vec *comments, dp_err *err)
{
    json_t *v = json_object_get(obj, "comments"), *el;
    size_t i;
    if (!v || json_is_null(v)) return DP_OK;
    if (json_is_integer(v)) return ij_count_value(json_integer_value(v), "comments", &out->ncomments, err);
    if (!json_is_array(v)) return dp_fail(err, "comments: expected array");
    out->ncomments = (int)json_array_size(v);
    if (!comments) return DP_OK;
    json_array_foreach(v, i, el) {
        if (gh_comment(el, i, out->key, comment_vec_push(comments), err) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

int ingest_gh_item(json_t *obj, item *out, comment_vec *comments, char **repo_name, dp_err *err)
{
    item_init(out);
    *repo_name = NULL;
    if (check_object(obj, err) != DP_OK || item_number(obj, out, err) != DP_OK ||
        item_text(obj, out, err) != DP_OK || item_state(obj, out, err) != DP_OK ||
        gh_state_reason(obj, out, err) != DP_OK ||
        user_login(obj, "author", &out->author, err) != DP_OK ||
        ij_time(obj, "createdAt", "createdAt", &out->created_at, err) != DP_OK ||
        ij_time(obj, "updatedAt", "updatedAt", &out->updated_at, err) != DP_OK ||
        ij_time(obj, "closedAt", "closedAt", &out->closed_at, err) != DP_OK ||
        item_labels(obj, out, err) != DP_OK ||
        ij_str(obj, "url", "url", J_OPTIONAL, &out->url, err) != DP_OK ||
        gh_reactions(obj, out, err) != DP_OK || gh_comments(obj, out, comments, err) != DP_OK)
        return DP_ERR;
    if (out->url && strstr(out->url, "/pull/")) out->kind = ITEM_PR;
    /* A merged PR's closedAt is its merge time when gh omits closedAt. */
    if (!out->closed_at && out->state_reason && !strcmp(out->state_reason, "merged") &&
        ij_time(obj, "mergedAt", "mergedAt", &out->closed_at, err) != DP_OK)
        return DP_ERR;
    *repo_name = ij_repo_from_web_url(out->url);
    return DP_OK;
}

int ingest_github_comment(json_t *obj, comment *out, char **repo_name, dp_err *err)
{
    char *issue_url = NULL, *html_url = NULL;
    int rc = DP_ERR;
    memset(out, 0, sizeof *out);
    *repo_name = NULL;
    if (check_object(obj, err) != DP_OK) return DP_ERR;
    if (ij_int(obj, "id", "id", J_OPTIONAL, &out->id, err) != DP_OK ||
        ij_str(obj, "issue_url", "issue_url", J_OPTIONAL, &issue_url, err) != DP_OK ||
        ij_str(obj, "html_url", "html_url", J_OPTIONAL, &html_url, err) != DP_OK ||
        user_login(obj, "user", &out->author, err) != DP_OK ||
        ij_str(obj, "body", "body", J_OPTIONAL, &out->body, err) != DP_OK ||
        ij_time(obj, "created_at", "created_at", &out->created_at, err) != DP_OK ||
        ij_time(obj, "updated_at", "updated_at", &out->updated_at, err) != DP_OK)
        goto done;
    if (out->id < 0) {   /* 0 = none: the store then keys it by item, time and author */
        dp_fail(err, "id: expected a positive id, got %lld", (long long)out->id);
        goto done;
    }
    if (!out->body) out->body = xstrdup("");
    int64_t n = ij_trailing_number(issue_url);
    *repo_name = ij_repo_from_api_url(issue_url);
    if (n == 0 && html_url) {
        /* ".../issues/12#issuecomment-34": cut the anchor first. */
        n = ij_trailing_number(html_url);
        free(*repo_name);
        *repo_name = ij_repo_from_web_url(html_url);
    }
    if (n <= 0) {
        dp_fail(err, "issue_url: missing or without an issue number");
        goto done;
    }
    out->item_key = xasprintf("%lld", (long long)n);
    rc = DP_OK;
done:
    free(issue_url);
    free(html_url);
    return rc;
}
