/* github_issues.c -- the issue calls of the GitHub client (see github.h,
 * "issue calls"): writes built as data, and the reads apply and triage need
 * to check GitHub's state before and after writing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../ingest/ingest.h"
#include "github.h"
#include "sync.h"

#define GH_COMMENT_PAGES 50   /* 5,000 comments: far past any real issue */

/* ---- building writes ----------------------------------------------------- */

void gh_call_free(gh_call *c)
{
    if (!c) return;
    free(c->path);
    free(c->body);
    memset(c, 0, sizeof *c);
}

void gh_call_copy(gh_call *dst, const gh_call *src)
{
    memcpy(dst->method, src->method, sizeof dst->method);
    dst->path = xstrdup(src->path);
    dst->body = xstrdup(src->body);
}

/* Percent-encodes s for a path segment (RFC 3986 unreserved characters
 * pass; keep_slash lets "owner/name" through as two segments). Issue text
 * never reaches a path, but label names and keys do. */
static void add_encoded(sbuf *sb, const char *s, int keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            sb_addc(sb, (char)*p);
        else
            sb_printf(sb, "%%%02X", *p);
    }
}

/* Starts sb with "/repos/OWNER/NAME". */
static void repo_path(sbuf *sb, const char *repo)
{
    sb_init(sb);
    sb_adds(sb, "/repos/");
    add_encoded(sb, repo, 1);
}

static char *issue_path(const char *repo, const char *number, const char *suffix)
{
    sbuf sb;
    repo_path(&sb, repo);
    sb_adds(&sb, "/issues/");
    add_encoded(&sb, number, 0);
    sb_adds(&sb, suffix);
    return sb_take(&sb);
}

static char *comment_path(const char *repo, int64_t id)
{
    sbuf sb;
    repo_path(&sb, repo);
    sb_printf(&sb, "/issues/comments/%lld", (long long)id);
    return sb_take(&sb);
}

/* Compact JSON of obj (consumed). */
static char *json_text(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s) abort();   /* only fails when out of memory; x* allocators abort too */
    char *out = xstrdup(s);
    free(s);
    return out;
}

static void set_call(gh_call *out, const char *method, char *path, char *body)
{
    memset(out, 0, sizeof *out);
    snprintf(out->method, sizeof out->method, "%s", method);
    out->path = path;
    out->body = body;
}

void gh_call_comment_create(gh_call *out, const char *repo, const char *number, const char *text)
{
    set_call(out, "POST", issue_path(repo, number, "/comments"),
             json_text(json_pack("{s:s}", "body", text ? text : "")));
}

void gh_call_comment_edit(gh_call *out, const char *repo, int64_t comment_id, const char *text)
{
    set_call(out, "PATCH", comment_path(repo, comment_id), json_text(json_pack("{s:s}", "body", text ? text : "")));
}

void gh_call_comment_delete(gh_call *out, const char *repo, int64_t comment_id)
{
    set_call(out, "DELETE", comment_path(repo, comment_id), NULL);
}

void gh_call_issue_state(gh_call *out, const char *repo, const char *number, const char *state,
                         const char *reason)
{
    json_t *o = json_pack("{s:s}", "state", state);
    if (reason) json_object_set_new(o, "state_reason", json_string(reason));
    set_call(out, "PATCH", issue_path(repo, number, ""), json_text(o));
}

void gh_call_label_add(gh_call *out, const char *repo, const char *number, const char *label)
{
    set_call(out, "POST", issue_path(repo, number, "/labels"), json_text(json_pack("{s:[s]}", "labels", label)));
}

void gh_call_label_remove(gh_call *out, const char *repo, const char *number, const char *label)
{
    sbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "/labels/");
    add_encoded(&sb, label, 0);
    set_call(out, "DELETE", issue_path(repo, number, sb_str(&sb)), NULL);
    sb_free(&sb);
}

int gh_call_send(gh_client *c, const gh_call *call, gh_response *resp, dp_err *err)
{
    char *url = xasprintf("%s%s", gh_client_base(c), call->path);
    int rc = gh_write(c, call->method, url, call->body, resp, err);
    free(url);
    return rc;
}

/* ---- reading answers ----------------------------------------------------- */

/* Parses an answer under sync's bounds (the body size was capped while it
 * was received; the value count caps what the parse may allocate). */
static int parse_answer(const char *what, const gh_response *r, json_t **out, dp_err *err)
{
    const char *s = r->body.s ? r->body.s : "";
    *out = NULL;
    if (sync_json_values(s, r->body.len, SYNC_MAX_JSON_VALUES) > SYNC_MAX_JSON_VALUES)
        return dp_fail(err, "%s: the answer holds more than %d JSON values", what, SYNC_MAX_JSON_VALUES);
    json_error_t je;
    json_t *j = json_loadb(s, r->body.len, 0, &je);
    if (!j) return dp_fail(err, "%s: malformed JSON answer (line %d: %s)", what, je.line, je.text);
    *out = j;
    return DP_OK;
}

int64_t gh_answer_id(const gh_response *r)
{
    json_t *j = NULL;
    dp_err e;
    if (parse_answer("answer", r, &j, &e) != DP_OK) return 0;
    json_t *id = json_object_get(j, "id");
    int64_t v = json_is_integer(id) && json_integer_value(id) > 0 ? (int64_t)json_integer_value(id) : 0;
    json_decref(j);
    return v;
}

char *gh_answer_login(const gh_response *r)
{
    json_t *j = NULL;
    dp_err e;
    if (parse_answer("answer", r, &j, &e) != DP_OK) return NULL;
    const char *l = json_string_value(json_object_get(json_object_get(j, "user"), "login"));
    char *out = l && *l && dp_utf8_valid(l, strlen(l), NULL) ? xstrdup(l) : NULL;
    json_decref(j);
    return out;
}

/* GET base + path: DP_OK with a 200 answer parsed into *j, DP_NOTFOUND for
 * 404/410/301 (*status tells which), DP_ERR otherwise. */
static int get_json(gh_client *c, const char *path, json_t **j, long *status, dp_err *err)
{
    char *url = xasprintf("%s%s", gh_client_base(c), path);
    gh_response r;
    *j = NULL;
    int rc = gh_get(c, url, NULL, &r, err);
    if (status) *status = r.status;
    if (rc == DP_OK) {
        if (r.status == 404 || r.status == 410 || r.status == 301) {
            rc = DP_NOTFOUND;
        } else if (r.status != 200) {
            char *red = gh_redact_url(url);
            rc = dp_fail(err, "GET %s: unexpected HTTP %ld", red, r.status);
            free(red);
        } else {
            rc = parse_answer(path, &r, j, err);
        }
    }
    gh_response_free(&r);
    free(url);
    return rc;
}

int gh_issue_read(gh_client *c, const char *repo, const char *number, item *out, long *status, dp_err *err)
{
    item_init(out);
    char *path = issue_path(repo, number, "");
    json_t *j = NULL;
    int rc = get_json(c, path, &j, status, err);
    if (rc == DP_OK) {
        char *rn = NULL;
        if (ingest_github_item(j, out, &rn, err) != DP_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            rc = dp_fail(err, "GET %s: %s", path, msg);
        } else if (!out->key || strcmp(out->key, number)) {
            rc = dp_fail(err, "GET %s: the answer is issue %s", path, out->key ? out->key : "(none)");
        }
        free(rn);
    }
    if (rc != DP_OK) item_free(out);
    json_decref(j);
    free(path);
    return rc;
}

void gh_comment_free(gh_comment *c)
{
    if (!c) return;
    free(c->author);
    free(c->association);
    free(c->body);
    memset(c, 0, sizeof *c);
}

void gh_comment_vec_free(gh_comment_vec *v)
{
    for (size_t i = 0; i < v->n; i++) gh_comment_free(&v->v[i]);
    free(v->v);
    memset(v, 0, sizeof *v);
}

static gh_comment *comment_push(gh_comment_vec *v)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = xrealloc(v->v, v->cap * sizeof *v->v);
    }
    memset(&v->v[v->n], 0, sizeof *v->v);
    return &v->v[v->n++];
}

/* One comment object through the ingest converter, plus its author's
 * association with the repository (which ingest has no use for). */
static int parse_comment(json_t *o, gh_comment *out, dp_err *err)
{
    comment cm;
    char *rn = NULL;
    int rc = ingest_github_comment(o, &cm, &rn, err);
    free(rn);
    if (rc != DP_OK) {
        comment_free(&cm);
        return DP_ERR;
    }
    out->id = cm.id;
    out->author = cm.author;
    out->body = cm.body;
    out->created_at = cm.created_at;
    out->updated_at = cm.updated_at;
    cm.author = cm.body = NULL;
    comment_free(&cm);
    const char *a = json_string_value(json_object_get(o, "author_association"));
    out->association = xstrdup(a && dp_utf8_valid(a, strlen(a), NULL) ? a : "NONE");
    return DP_OK;
}

int gh_comments_list(gh_client *c, const char *repo, const char *number, size_t max_pages,
                     gh_comment_vec *out, dp_err *err)
{
    char *path = issue_path(repo, number, "/comments?per_page=100");
    char *url = xasprintf("%s%s", gh_client_base(c), path);
    free(path);
    sync_pager *pg = sync_pager_new(gh_client_base(c), 0);
    size_t pages = 0, cap = max_pages ? max_pages : GH_COMMENT_PAGES;
    int rc = DP_OK;
    while (rc == DP_OK && url) {
        if (++pages > cap) {
            rc = dp_fail(err, "issue %s has more than %zu pages of comments; stopping", number, cap);
            break;
        }
        gh_response r;
        rc = gh_get(c, url, NULL, &r, err);
        json_t *j = NULL;
        if (rc == DP_OK && (r.status == 404 || r.status == 410 || r.status == 301)) rc = DP_NOTFOUND;
        else if (rc == DP_OK && r.status != 200) rc = dp_fail(err, "comments of issue %s: unexpected HTTP %ld",
                                                                number, r.status);
        if (rc == DP_OK) rc = sync_pager_next(pg, url, r.next_url, r.last_url, err);
        if (rc == DP_OK) rc = parse_answer("comments", &r, &j, err);
        if (rc == DP_OK && !json_is_array(j)) rc = dp_fail(err, "comments of issue %s: expected an array", number);
        size_t i;
        json_t *o;
        if (rc == DP_OK) {
            json_array_foreach(j, i, o) {
                if (parse_comment(o, comment_push(out), err) != DP_OK) {
                    out->n--;
                    rc = DP_ERR;
                    break;
                }
            }
        }
        json_decref(j);
        free(url);
        url = rc == DP_OK ? r.next_url : NULL;
        if (rc == DP_OK) r.next_url = NULL;
        gh_response_free(&r);
    }
    free(url);
    sync_pager_free(pg);
    return rc;
}

int gh_comment_read(gh_client *c, const char *repo, int64_t id, gh_comment *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    char *path = comment_path(repo, id);
    json_t *j = NULL;
    int rc = get_json(c, path, &j, NULL, err);
    if (rc == DP_OK && parse_comment(j, out, err) != DP_OK) {
        gh_comment_free(out);
        rc = DP_ERR;
    }
    json_decref(j);
    free(path);
    return rc;
}

int gh_reactions_users(gh_client *c, const char *repo, int64_t comment_id, const char *content, strvec *users,
                       dp_err *err)
{
    char *base = comment_path(repo, comment_id);
    sbuf path;
    sb_init(&path);
    sb_printf(&path, "%s/reactions?per_page=100&content=", base);
    add_encoded(&path, content, 0);
    free(base);
    json_t *j = NULL;
    int rc = get_json(c, sb_str(&path), &j, NULL, err);
    if (rc == DP_OK && !json_is_array(j)) rc = dp_fail(err, "reactions of comment %lld: expected an array",
                                                        (long long)comment_id);
    size_t i;
    json_t *o;
    if (rc == DP_OK) {
        json_array_foreach(j, i, o) {
            const char *what = json_string_value(json_object_get(o, "content"));
            const char *login = json_string_value(json_object_get(json_object_get(o, "user"), "login"));
            if (what && login && !strcmp(what, content) && dp_utf8_valid(login, strlen(login), NULL))
                sv_push(users, login);
        }
    }
    json_decref(j);
    sb_free(&path);
    return rc;
}

int gh_permission(gh_client *c, const char *repo, const char *user, char **perm, dp_err *err)
{
    *perm = NULL;
    sbuf path;
    repo_path(&path, repo);
    sb_adds(&path, "/collaborators/");
    add_encoded(&path, user, 0);
    sb_adds(&path, "/permission");
    json_t *j = NULL;
    int rc = get_json(c, sb_str(&path), &j, NULL, err);
    if (rc == DP_OK) {
        const char *p = json_string_value(json_object_get(j, "permission"));
        *perm = xstrdup(p && dp_utf8_valid(p, strlen(p), NULL) ? p : "none");
    }
    json_decref(j);
    sb_free(&path);
    return rc;
}
