/* api.c -- the JSON API of the review page, over one store handle.
 *
 * Transport-free on purpose: server.c hands us method, path, decoded query
 * parameters and body, we hand back a status and a JSON object. That keeps
 * the HTTP policy (headers, tokens, sizes) in one file and the data shaping
 * in this one, and lets the unit tests call the API without a socket.
 *
 * All text that reaches the page goes through JSON (jansson escapes it) and
 * the page inserts it as text, except body_html, which is cmark-gfm safe
 * output (markdown.c). Strings that are not valid UTF-8 are repaired here,
 * because jansson refuses them and one bad byte must not hide an item. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>
#include <xxhash.h>

#include "../common/hashmap.h"
#include "web.h"
#include "web_int.h"

void web_reply_free(web_reply *r)
{
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- small helpers ------------------------------------------------------ */

void web_reply_json(web_reply *out, int status, json_t *obj)
{
    out->status = status;
    out->body = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (!out->body) out->body = xstrdup("{\"error\":\"encoding failed\"}");
    out->len = strlen(out->body);
    json_decref(obj);
}

void web_reply_error(web_reply *out, int status, const char *msg)
{
    web_reply_json(out, status, json_pack("{s:s}", "error", msg));
}

/* A JSON text a reply is made of: owned, or borrowed from the render cache
 * (the large ones are copied once, into the reply). */
typedef struct api_text {
    const char *s;
    size_t len;
    char *owned;
    web_rcache_entry *ref;
} api_text;

static void api_text_free(api_text *t)
{
    free(t->owned);
    web_rcache_release(web_api_rcache(), t->ref);
    memset(t, 0, sizeof *t);
}

/* Replies with the members of obj followed by n more whose values are JSON
 * texts already (texts[i], freed here): obj is encoded and its closing brace
 * gives way to them. obj must not be empty. */
static void api_set_with(web_reply *out, int status, json_t *obj, const char *const *names, api_text *texts,
                         size_t n)
{
    char *head = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(obj);
    if (!head) {
        for (size_t i = 0; i < n; i++) api_text_free(&texts[i]);
        web_reply_error(out, 500, "encoding failed");
        return;
    }
    size_t hlen = strlen(head) - 1, total = hlen + 2;   /* without its '}'; then '}' and NUL */
    for (size_t i = 0; i < n; i++) total += strlen(names[i]) + 4 + texts[i].len;
    char *body = xmalloc(total), *w = body;   /* sized once: the texts can be large */
    memcpy(w, head, hlen);
    w += hlen;
    for (size_t i = 0; i < n; i++) {
        w += sprintf(w, ",\"%s\":", names[i]);
        memcpy(w, texts[i].s, texts[i].len);
        w += texts[i].len;
        api_text_free(&texts[i]);
    }
    *w++ = '}';
    *w = 0;
    free(head);
    out->status = status;
    out->len = (size_t)(w - body);
    out->body = body;
}

const char *web_param_get(const web_param *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].name, name)) return p[i].value && *p[i].value ? p[i].value : NULL;
    return NULL;
}

/* Strict positive decimal id; 0 when s is not one. */
int64_t web_parse_id(const char *s)
{
    if (!s || !isdigit((unsigned char)*s) || *s == '0') return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return 0;
    return v;
}

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set)) return 1;
    return 0;
}

static int is_http_url(const char *u)
{
    return u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7));
}

static int is_hex_color(const char *c)
{
    if (!c || strlen(c) != 6) return 0;
    for (int i = 0; i < 6; i++)
        if (!isxdigit((unsigned char)c[i])) return 0;
    return 1;
}

/* ---- filters ------------------------------------------------------------ */

static const char *const STATES[] = {"open", "closed", NULL};
static const char *const SORTS[] = {"value", "prob", "updated", NULL};
static const char *const BOOL01[] = {"0", "1", NULL};

/* Reads the FILTER parameters into f (strings point into params). Returns
 * NULL or the name of the first bad parameter. */
static const char *api_filter(const web_param *p, size_t n, pair_filter *f)
{
    pair_filter_init(f);
    const char *v;
    relation_kind rel;
    confidence_level conf;
    if ((v = web_param_get(p, n, "relation")) && relation_parse(v, &rel)) return "relation";
    if (v) f->relation = (int)rel;
    if ((v = web_param_get(p, n, "confidence")) && confidence_parse(v, &conf)) return "confidence";
    if (v) f->confidence = (int)conf;
    if ((v = web_param_get(p, n, "qstate")) && !one_of(v, STATES)) return "qstate";
    f->query_state = v;
    if ((v = web_param_get(p, n, "cstate")) && !one_of(v, STATES)) return "cstate";
    f->cand_state = v;
    f->label = web_param_get(p, n, "label");
    f->text = web_param_get(p, n, "text");
    if ((v = web_param_get(p, n, "reviewed"))) {
        if (!one_of(v, BOOL01)) return "reviewed";
        f->reviewed = *v - '0';
    }
    if ((v = web_param_get(p, n, "known"))) {
        if (!one_of(v, BOOL01)) return "known";
        f->include_known = *v - '0';
    }
    if ((v = web_param_get(p, n, "sort")) && !one_of(v, SORTS)) return "sort";
    f->sort = v;
    if ((v = web_param_get(p, n, "repo")) && !(f->repo_id = web_parse_id(v))) return "repo";
    f->limit = 100;
    if ((v = web_param_get(p, n, "limit"))) {
        int64_t l = web_parse_id(v);
        if (l <= 0 || l > WEB_MAX_LIMIT) return "limit";
        f->limit = (size_t)l;
    }
    if ((v = web_param_get(p, n, "offset"))) {
        int64_t o = strcmp(v, "0") ? web_parse_id(v) : 0;
        if (o < 0 || (o == 0 && strcmp(v, "0"))) return "offset";
        f->offset = (size_t)o;
    }
    /* A keyset cursor ("next" of the previous page); offset then only
     * numbers the rows for display. */
    if ((v = web_param_get(p, n, "after")) && !store_pair_cursor_ok(f->sort, v)) return "after";
    f->after = v;
    /* The page before a cursor ("prev" of the page after it). */
    if ((v = web_param_get(p, n, "before")) && (!store_pair_cursor_ok(f->sort, v) || f->after)) return "before";
    f->before = v;
    return NULL;
}

/* ---- repositories and items --------------------------------------------- */

/* What one request needs to know about the repositories. */
typedef struct api_ctx {
    store *st;
    repo_info *repos;
    size_t nrepos;
    int64_t colors_repo;          /* repo whose label colours are loaded; 0 none */
    strvec lnames, lcolors;
    json_t *items;                /* "repo:key" -> summary, reused within a page */
} api_ctx;

static void ctx_free(api_ctx *c)
{
    for (size_t i = 0; i < c->nrepos; i++) repo_info_free(&c->repos[i]);
    free(c->repos);
    sv_free(&c->lnames);
    sv_free(&c->lcolors);
    json_decref(c->items);
}

static const repo_info *ctx_repo(const api_ctx *c, int64_t id)
{
    for (size_t i = 0; i < c->nrepos; i++)
        if (c->repos[i].id == id) return &c->repos[i];
    return NULL;
}

static int repo_is_jira(const repo_info *r)
{
    return r && r->kind && !strcmp(r->kind, "jira");
}

static json_t *repo_json(const repo_info *r)
{
    return json_pack("{s:I,s:o,s:o,s:o}", "id", (json_int_t)r->id, "name", explain_jstr(r->name), "kind",
                     explain_jstr(r->kind), "url", is_http_url(r->url) ? explain_jstr(r->url) : json_null());
}

/* "#4606" on GitHub, "HIVE-123" on Jira (or any key that is not a number). */
static char *display_key(const repo_info *r, const char *key)
{
    int digits = *key != 0;
    for (const char *k = key; *k; k++)
        if (!isdigit((unsigned char)*k)) digits = 0;
    return digits && !repo_is_jira(r) ? xasprintf("#%s", key) : xstrdup(key);
}

/* The item's page on its tracker, or NULL when we cannot know it. */
static char *tracker_url(const repo_info *r, const item *it, const char *key)
{
    if (it && is_http_url(it->url)) return xstrdup(it->url);
    if (!r || !is_http_url(r->url)) return NULL;
    const char *sep = r->url[strlen(r->url) - 1] == '/' ? "" : "/";
    if (repo_is_jira(r)) return xasprintf("%s%sbrowse/%s", r->url, sep, key);
    return xasprintf("%s%s%s/%s", r->url, sep, it && it->kind == ITEM_PR ? "pull" : "issues", key);
}

/* Where "#N" in a body of repo r points. */
static char *ref_base(const repo_info *r, int64_t repo_id)
{
    if (r && !repo_is_jira(r) && is_http_url(r->url)) {
        const char *sep = r->url[strlen(r->url) - 1] == '/' ? "" : "/";
        return xasprintf("%s%sissues/", r->url, sep);
    }
    return xasprintf("/item/%lld/", (long long)repo_id);
}

static int ctx_colors(api_ctx *c, int64_t repo, dp_err *err)
{
    if (c->colors_repo == repo) return DP_OK;
    sv_free(&c->lnames);
    sv_free(&c->lcolors);
    c->colors_repo = repo;
    return store_label_colors_load(c->st, repo, &c->lnames, &c->lcolors, err);
}

static const char *ctx_color(const api_ctx *c, const char *label)
{
    for (size_t i = 0; i < c->lnames.n && i < c->lcolors.n; i++)
        if (c->lnames.v[i] && !strcmp(c->lnames.v[i], label))
            return is_hex_color(c->lcolors.v[i]) ? c->lcolors.v[i] : NULL;
    return NULL;
}

/* The item in the shape every JSON output shares (explain_item_json), plus
 * what the page needs: "repo", "display" ("#4606", "HIVE-99") and a "url"
 * made from the repository's when the item has none. `it` NULL: only
 * those, the key and "missing": true. */
json_t *web_item_summary(const repo_info *r, int64_t repo_id, const char *key, const item *it)
{
    char *disp = display_key(r, key), *url = tracker_url(r, it, key);
    json_t *j = it ? explain_item_json(it) : json_pack("{s:o,s:b}", "key", explain_jstr(key), "missing", 1);
    json_object_set_new(j, "repo", json_integer((json_int_t)repo_id));
    json_object_set_new(j, "display", explain_jstr(disp));
    json_object_set_new(j, "url", explain_jstr(url));
    free(disp);
    free(url);
    return j;
}

/* Comments shown on the pair page; the rest are counted, not rendered. */
#define API_MAX_COMMENTS 200

/* Renders a body or comment of repo r the way its tracker does. */
static char *render_text(const repo_info *r, int64_t repo_id, const char *text)
{
    char *base = ref_base(r, repo_id), *html;
    if (repo_is_jira(r)) {
        /* Keys of this project open the item here; other projects' keys
         * open on the tracker (Apache's Jira holds them all). */
        const char *sep = r->url && is_http_url(r->url) && r->url[strlen(r->url) - 1] != '/' ? "/" : "";
        char *other = is_http_url(r->url) ? xasprintf("%s%sbrowse/", r->url, sep) : NULL;
        html = web_jira_render(text, r->name, base, other);
        free(other);
    } else {
        html = web_markdown_render(text, base);
    }
    free(base);
    return html;
}

static web_rcache *api_rcache;
static void api_rcache_make(void) { api_rcache = web_rcache_new(WEB_RCACHE_BYTES); }

web_rcache *web_api_rcache(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, api_rcache_make);
    return api_rcache;
}

/* The render-cache key of `text`, a body or comment of item `key`: the item,
 * its updated_at, the text, and everything render_text takes from r. The
 * small context seeds the hash of the (possibly large) text. */
static web_rcache_key render_key(const repo_info *r, int64_t repo_id, const char *key, int64_t updated_at,
                                 const char *text)
{
    sbuf ctx;
    sb_init(&ctx);
    sb_printf(&ctx, "%lld %lld", (long long)repo_id, (long long)updated_at);
    const char *parts[] = {r ? r->kind : NULL, r ? r->name : NULL, r ? r->url : NULL, key};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)   /* each NUL-terminated: unambiguous */
        sb_add(&ctx, parts[i] ? parts[i] : "", parts[i] ? strlen(parts[i]) + 1 : 1);
    XXH64_hash_t seed = XXH3_64bits(ctx.s, ctx.len);
    sb_free(&ctx);
    XXH128_hash_t v = XXH3_128bits_withSeed(text ? text : "", text ? strlen(text) : 0, seed);
    return (web_rcache_key){v.low64, v.high64};
}

/* body_html for `text`, whose render-cache key is k: from the cache when
 * it was rendered before, else rendered and kept. */
static json_t *render_json(const repo_info *r, int64_t repo_id, const web_rcache_key *k, const char *text)
{
    web_rcache *rc = web_api_rcache();
    const char *cached;
    size_t len;
    web_rcache_entry *e = web_rcache_borrow(rc, k, &cached, &len);
    json_t *j;
    if (e) {
        j = json_stringn_nocheck(cached, len);
        web_rcache_release(rc, e);
    } else {
        char *raw = render_text(r, repo_id, text ? text : "");
        char *html = dp_utf8_repaired(raw, strlen(raw), &len);
        if (html) free(raw);
        else html = raw, len = strlen(raw);
        web_rcache_put(rc, k, html, len);
        j = json_stringn_nocheck(html, len);
        free(html);
    }
    return j ? j : json_string("");
}

/* One text of an item whose "body_html" in obj waits to be rendered. */
typedef struct render_job {
    json_t *obj;              /* borrowed: an object inside the item's JSON */
    const char *text;         /* borrowed from the loaded item or comments */
    web_rcache_key key;
} render_job;

/* An item as the pair page shows it, being built. */
typedef struct full_item {
    item it;
    comment_vec cv;
    json_t *j;
    render_job *jobs;
    size_t njobs;
} full_item;

static void full_item_free(full_item *f)
{
    item_free(&f->it);
    comment_vec_free(&f->cv);
    json_decref(f->j);
    free(f->jobs);
}

/* Queues the rendering of obj's "body_html" (a null placeholder until then,
 * which keeps the member in its place). */
static void defer_render(full_item *f, const repo_info *r, int64_t repo_id, const char *key, int64_t updated_at,
                         json_t *obj, const char *text)
{
    render_job *jb = &f->jobs[f->njobs++];
    jb->obj = obj;
    jb->text = text;
    jb->key = render_key(r, repo_id, key, updated_at, text);
    json_object_set_new(obj, "body_html", json_null());
}

/* Builds f->j: every field the pair page shows, with "comment_list" (the
 * first API_MAX_COMMENTS comments, oldest first) and "comment_total" (how
 * many the store holds); the bodies are deferred (defer_render). */
/* Adds "label_colors" to f->j: the colour of each of the item's labels. */
static int full_item_colors(api_ctx *c, int64_t repo_id, full_item *f, dp_err *err)
{
    const item *it = &f->it;
    if (ctx_colors(c, repo_id, err) != DP_OK) return DP_ERR;
    json_t *colors = json_object();
    for (size_t i = 0; i < it->labels.n; i++) {
        const char *col = ctx_color(c, it->labels.v[i]);
        size_t n;
        char *fixed = dp_utf8_repaired(it->labels.v[i], strlen(it->labels.v[i]), &n);   /* keys too */
        json_object_set_new(colors, fixed ? fixed : it->labels.v[i], col ? json_string(col) : json_null());
        free(fixed);
    }
    json_object_set_new(f->j, "label_colors", colors);
    return DP_OK;
}

static int hash_chunk128(const char *buf, size_t n, void *data)
{
    dp_hash128_add(data, buf, n);
    return 0;
}

/* The render-cache key of an item's whole page text, computed without
 * building it: the summary JSON (every item field, the labels' colours),
 * the body, the repository's rendering context and a digest of the
 * comments as the store holds them. Any change to what the text shows
 * changes the key, and the expensive part -- loading the comments, one
 * JSON object and one render key each -- is skipped on a hit. */
static int full_item_key(api_ctx *c, const repo_info *r, int64_t repo_id, const char *key, full_item *f,
                         web_rcache_key *k, dp_err *err)
{
    uint64_t cd[2], out[2];
    if (store_comments_digest(c->st, repo_id, key, cd, err) != DP_OK) return DP_ERR;
    dp_hash128 *h = dp_hash128_new();
    static const char tag[] = "item page text 1";
    dp_hash128_add(h, tag, sizeof tag);
    int64_t nums[2] = {repo_id, API_MAX_COMMENTS};
    dp_hash128_add(h, nums, sizeof nums);
    dp_hash128_add(h, cd, sizeof cd);
    const char *parts[] = {r ? r->kind : NULL, r ? r->name : NULL, r ? r->url : NULL, key, f->it.body};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)   /* each NUL-terminated: unambiguous */
        dp_hash128_add(h, parts[i] ? parts[i] : "", parts[i] ? strlen(parts[i]) + 1 : 1);
    int ok = json_dump_callback(f->j, hash_chunk128, h, JSON_COMPACT | JSON_REAL_PRECISION(12)) == 0;
    dp_hash128_final(h, out);
    *k = (web_rcache_key){out[0], out[1]};
    return ok ? DP_OK : dp_fail(err, "JSON encoding failed");
}

static int full_item_build(api_ctx *c, const repo_info *r, int64_t repo_id, const char *key, full_item *f,
                           dp_err *err)
{
    const item *it = &f->it;
    if (store_comments_load(c->st, repo_id, key, &f->cv, err) != DP_OK) return DP_ERR;
    size_t ncomments = f->cv.n < API_MAX_COMMENTS ? f->cv.n : API_MAX_COMMENTS;
    f->jobs = xcalloc(ncomments + 1, sizeof *f->jobs);
    json_t *j = f->j;
    defer_render(f, r, repo_id, key, it->updated_at, j, it->body);
    json_t *list = json_array();
    for (size_t i = 0; i < ncomments; i++) {
        const comment *cm = &f->cv.v[i];
        json_t *cj = json_pack("{s:o,s:o}", "author", explain_jstr(cm->author), "created_at", explain_jtime(cm->created_at));
        json_array_append_new(list, cj);
        defer_render(f, r, repo_id, key, cm->updated_at, cj, cm->body);
    }
    json_object_set_new(j, "comment_list", list);
    json_object_set_new(j, "comment_total", json_integer((json_int_t)f->cv.n));
    return DP_OK;
}

/* The JSON text of everything the pair page shows about an item, bodies
 * rendered, in *out; *found 0 when the store has no such item (the text then
 * says "missing"). The whole text is kept in the render cache under
 * full_item_key, so a repeated request reads the item and a digest of its
 * comments and skips building, rendering and encoding the large part. */
static int item_full_text(api_ctx *c, int64_t repo_id, const char *key, api_text *out, int *found, dp_err *err)
{
    full_item f = {0};
    item_init(&f.it);
    int rc = store_item_get(c->st, repo_id, key, &f.it, err);
    if (rc == DP_ERR) return DP_ERR;
    const repo_info *r = ctx_repo(c, repo_id);
    f.j = web_item_summary(r, repo_id, key, rc == DP_OK ? &f.it : NULL);
    if (found) *found = rc == DP_OK;
    int keyed = rc == DP_OK;                     /* a missing item has nothing worth keeping */
    web_rcache_key k;
    if (keyed && (full_item_colors(c, repo_id, &f, err) != DP_OK ||
                  full_item_key(c, r, repo_id, key, &f, &k, err) != DP_OK)) {
        full_item_free(&f);
        return DP_ERR;
    }
    web_rcache *rc_cache = web_api_rcache();
    memset(out, 0, sizeof *out);
    if (keyed) out->ref = web_rcache_borrow(rc_cache, &k, &out->s, &out->len);
    if (!out->ref) {
        if (keyed && full_item_build(c, r, repo_id, key, &f, err) != DP_OK) {
            full_item_free(&f);
            return DP_ERR;
        }
        for (size_t i = 0; i < f.njobs; i++)
            json_object_set_new(f.jobs[i].obj, "body_html", render_json(r, repo_id, &f.jobs[i].key, f.jobs[i].text));
        out->owned = json_dumps(f.j, JSON_COMPACT | JSON_REAL_PRECISION(12));
        if (out->owned) {
            out->s = out->owned;
            out->len = strlen(out->owned);
            if (keyed) web_rcache_put(rc_cache, &k, out->s, out->len);
        }
    }
    full_item_free(&f);
    if (!out->s) return dp_fail(err, "JSON encoding failed");
    return DP_OK;
}

/* Summary of an item for the index, memoised per request. */
static int item_brief(api_ctx *c, int64_t repo_id, const char *key, json_t **out, dp_err *err)
{
    char *mk = xasprintf("%lld:%s", (long long)repo_id, key);
    json_t *j = json_object_get(c->items, mk);
    if (!j) {
        item it;
        item_init(&it);
        int rc = store_item_get(c->st, repo_id, key, &it, err);
        if (rc == DP_ERR) {
            free(mk);
            return DP_ERR;
        }
        j = web_item_summary(ctx_repo(c, repo_id), repo_id, key, rc == DP_OK ? &it : NULL);
        item_free(&it);
        json_object_set_new(c->items, mk, j);
    }
    free(mk);
    *out = json_incref(j);
    return DP_OK;
}

/* ---- pairs -------------------------------------------------------------- */


static int api_pairs(api_ctx *c, const web_param *pr, size_t np, web_reply *out, dp_err *err)
{
    pair_filter f;
    const char *bad = api_filter(pr, np, &f);
    if (bad) {
        char msg[64];
        snprintf(msg, sizeof msg, "bad value for parameter '%s'", bad);
        web_reply_error(out, 400, msg);
        return DP_OK;
    }
    pair_vec pv = {0};
    size_t total = 0, reviewed = 0;
    if (store_pairs_query(c->st, &f, &pv, &total, &reviewed, err) != DP_OK) return DP_ERR;
    json_t *arr = json_array();
    int rc = DP_OK;
    for (size_t i = 0; i < pv.n && rc == DP_OK; i++) {
        json_t *pj = explain_pair_json(&pv.v[i], NULL, NULL, 0), *q = NULL, *cand = NULL;
        rc = item_brief(c, pv.v[i].repo_id, pv.v[i].query_key, &q, err);
        if (rc == DP_OK) rc = item_brief(c, pv.v[i].repo_id, pv.v[i].cand_key, &cand, err);
        if (q) json_object_set_new(pj, "query_item", q);
        if (cand) json_object_set_new(pj, "candidate_item", cand);
        json_array_append_new(arr, pj);
    }
    /* The cursors of the page that follows, when this one is full, and of
     * the page before, when this one is not the first. A page read before
     * a cursor is full unless it reached the first pair. */
    char next[STORE_CURSOR_MAX] = "", prev[STORE_CURSOR_MAX] = "";
    if (pv.n && (pv.n == f.limit || f.before)) store_pair_cursor(f.sort, &pv.v[pv.n - 1], next);
    if (pv.n && (f.before ? pv.n == f.limit : f.after || f.offset))
        store_pair_cursor(f.sort, &pv.v[0], prev);
    pair_vec_free(&pv);
    if (rc != DP_OK) {
        json_decref(arr);
        return DP_ERR;
    }
    web_reply_json(out, 200, json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "total", (json_int_t)total, "reviewed",
                                (json_int_t)reviewed, "offset", (json_int_t)f.offset, "limit",
                                (json_int_t)f.limit, "next", *next ? json_string(next) : json_null(), "prev",
                                *prev ? json_string(prev) : json_null(), "pairs", arr));
    return DP_OK;
}

/* Loads pair `id`; replies 404 and returns DP_NOTFOUND when there is none. */
static int load_pair(api_ctx *c, int64_t id, pair *p, web_reply *out, dp_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = id ? store_pair_get(c->st, id, p, err) : DP_NOTFOUND;
    if (rc == DP_NOTFOUND) web_reply_error(out, 404, "no such pair");
    return rc;
}

/* Whether pair p waits in the apply queue. */
static int pair_queued(api_ctx *c, const pair *p, int *queued, dp_err *err)
{
    strvec q = {0}, k = {0};
    *queued = 0;
    int rc = store_queue_list(c->st, p->repo_id, &q, &k, err);
    for (size_t i = 0; rc == DP_OK && i < q.n && !*queued; i++)
        *queued = !strcmp(q.v[i], p->query_key) && !strcmp(k.v[i], p->cand_key);
    sv_free(&q);
    sv_free(&k);
    return rc;
}

static int api_pair(api_ctx *c, int64_t id, const web_param *pr, size_t np, web_reply *out,
                    dp_err *err)
{
    pair_filter f;
    const char *bad = api_filter(pr, np, &f);
    if (bad) {
        web_reply_error(out, 400, "bad filter parameter");
        return DP_OK;
    }
    f.offset = f.limit = 0;
    pair p;
    int rc = load_pair(c, id, &p, out, err);
    if (rc != DP_OK) return rc == DP_NOTFOUND ? DP_OK : DP_ERR;
    int64_t prev = 0, next = 0;
    api_text texts[2] = {{0}};
    rc = store_pair_neighbors(c->st, &f, id, &prev, &next, err);
    if (rc == DP_OK) rc = item_full_text(c, p.repo_id, p.query_key, &texts[0], NULL, err);
    if (rc == DP_OK) rc = item_full_text(c, p.repo_id, p.cand_key, &texts[1], NULL, err);
    if (rc != DP_OK) {
        api_text_free(&texts[0]);
        pair_free(&p);
        return DP_ERR;
    }
    int queued = 0;
    if (pair_queued(c, &p, &queued, err) != DP_OK) {
        api_text_free(&texts[0]);
        api_text_free(&texts[1]);
        pair_free(&p);
        return DP_ERR;
    }
    json_t *pj = explain_pair_json(&p, NULL, NULL, 1);
    json_object_set_new(pj, "queued", json_boolean(queued));
    const repo_info *r = ctx_repo(c, p.repo_id);
    json_t *res = json_pack("{s:o,s:o,s:o}", "pair", pj, "prev", prev ? json_integer(prev) : json_null(), "next",
                            next ? json_integer(next) : json_null());
    json_object_set_new(res, "repo", r ? repo_json(r) : json_null());
    pair_free(&p);
    static const char *const names[2] = {"query_item", "candidate_item"};
    api_set_with(out, 200, res, names, texts, 2);
    return DP_OK;
}

static int api_verdict(api_ctx *c, int64_t id, const char *body, size_t len, web_reply *out,
                       dp_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = doc && json_is_object(doc) ? json_object_get(doc, "verdict") : NULL;
    verdict_kind verdict = VERDICT_NONE;
    if (!v || !(json_is_null(v) || (json_is_string(v) && !verdict_parse(json_string_value(v), &verdict)))) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected {\"verdict\": \"%s\"|\"%s\"|\"%s\"|null}",
                 verdict_name(VERDICT_DUPLICATE), verdict_name(VERDICT_RELATED), verdict_name(VERDICT_NOT_RELATED));
        web_reply_error(out, 400, !doc ? "malformed JSON" : msg);
        json_decref(doc);
        return DP_OK;
    }
    pair p;
    int rc = load_pair(c, id, &p, out, err);
    if (rc == DP_OK) rc = store_verdict_set(c->st, p.repo_id, p.query_key, p.cand_key, verdict, err);
    /* Without a verdict there is nothing to carry out: it leaves the queue. */
    if (rc == DP_OK && verdict == VERDICT_NONE) rc = store_queue_del(c->st, p.repo_id, p.query_key, p.cand_key, err);
    if (rc == DP_OK)
        web_reply_json(out, 200, json_pack("{s:I,s:o}", "id", (json_int_t)id, "verdict", explain_jstr(verdict_name(verdict))));
    pair_free(&p);
    json_decref(doc);
    return rc == DP_ERR ? DP_ERR : DP_OK;
}

/* POST (add) or DELETE (remove) /api/pairs/ID/queue: the pair's verdict
 * waits for the Apply view. Only a pair with a verdict, of a GitHub
 * repository, can be queued. A body, when there is one, is a JSON object
 * (its members are ignored). */
static int api_queue(api_ctx *c, int64_t id, int add, const char *body, size_t len, web_reply *out, dp_err *err)
{
    if (len) {
        json_error_t jerr;
        json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        int ok = json_is_object(doc);
        json_decref(doc);
        if (!ok) {
            web_reply_error(out, 400, "expected a JSON object (or no body)");
            return DP_OK;
        }
    }
    pair p;
    int rc = load_pair(c, id, &p, out, err);
    if (rc != DP_OK) return rc == DP_NOTFOUND ? DP_OK : DP_ERR;
    const repo_info *r = ctx_repo(c, p.repo_id);
    if (add && !p.verdict) {
        web_reply_error(out, 409, "this pair has no verdict yet (d, e or x): the queue carries verdicts out");
    } else if (add && !(r && r->kind && !strcmp(r->kind, "github"))) {
        web_reply_error(out, 409, "only pairs of a GitHub repository can be applied");
    } else {
        rc = add ? store_queue_add(c->st, p.repo_id, p.query_key, p.cand_key, err)
                 : store_queue_del(c->st, p.repo_id, p.query_key, p.cand_key, err);
        if (rc == DP_OK)
            web_reply_json(out, 200, json_pack("{s:I,s:b,s:o}", "id", (json_int_t)id, "queued", add, "verdict",
                                               explain_jstr(verdict_name(p.verdict))));
    }
    pair_free(&p);
    return rc == DP_ERR ? DP_ERR : DP_OK;
}

static int api_item(api_ctx *c, const char *repo, const char *key, web_reply *out, dp_err *err)
{
    int64_t rid = web_parse_id(repo);
    if (!rid || !ctx_repo(c, rid) || !*key) {
        web_reply_error(out, 404, "no such item");
        return DP_OK;
    }
    api_text text;
    int found;
    if (item_full_text(c, rid, key, &text, &found, err) != DP_OK) return DP_ERR;
    if (!found) {
        api_text_free(&text);
        web_reply_error(out, 404, "no such item");
        return DP_OK;
    }
    static const char *const names[1] = {"item"};
    api_set_with(out, 200, json_pack("{s:o}", "repo", repo_json(ctx_repo(c, rid))), names, &text, 1);
    return DP_OK;
}

static int api_meta(api_ctx *c, web_reply *out, dp_err *err)
{
    json_t *repos = json_array(), *labels = json_array();
    for (size_t i = 0; i < c->nrepos; i++) {
        json_t *rj = repo_json(&c->repos[i]);
        json_array_append_new(repos, rj);
        strvec q = {0}, k = {0};
        int qrc = store_queue_list(c->st, c->repos[i].id, &q, &k, err);
        json_object_set_new(rj, "queued", json_integer((json_int_t)q.n));
        sv_free(&q);
        sv_free(&k);
        if (qrc != DP_OK || ctx_colors(c, c->repos[i].id, err) != DP_OK) {
            json_decref(repos);
            json_decref(labels);
            return DP_ERR;
        }
        for (size_t k = 0; k < c->lnames.n; k++) {
            const char *col = k < c->lcolors.n && is_hex_color(c->lcolors.v[k]) ? c->lcolors.v[k] : NULL;
            json_array_append_new(labels, json_pack("{s:I,s:o,s:o}", "repo", (json_int_t)c->repos[i].id,
                                                    "name", explain_jstr(c->lnames.v[k]), "color",
                                                    col ? json_string(col) : json_null()));
        }
    }
    web_reply_json(out, 200, json_pack("{s:o,s:o}", "repos", repos, "labels", labels));
    return DP_OK;
}

/* ---- routing ------------------------------------------------------------ */

static void method_not_allowed(web_reply *out, const char *allow)
{
    web_reply_error(out, 405, "method not allowed");
    out->allow = allow;
}

int web_api_handle(store *st, const char *method, const char *path, const web_param *params,
                   size_t nparams, const char *body, size_t len, web_reply *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    api_ctx c = {.st = st, .items = json_object()};
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
    int rc = DP_OK;
    if (strncmp(path, "/api/", 5)) {
        web_reply_error(out, 404, "no such endpoint");
        goto done;
    }
    /* A GET reads in one snapshot: its counts, page and items agree with
     * each other even while analyze writes, and its reads share one lock. */
    if (get && store_read_begin(st, err) != DP_OK) {
        rc = DP_ERR;
        goto done;
    }
    if (store_repo_list(st, &c.repos, &c.nrepos, err) != DP_OK) {
        rc = DP_ERR;
        goto done;
    }
    const char *p = path + 5;
    char id_buf[32];
    const char *slash;
    if (!strcmp(p, "meta")) {
        if (!get) method_not_allowed(out, "GET, HEAD");
        else rc = api_meta(&c, out, err);
    } else if (!strcmp(p, "pairs")) {
        if (!get) method_not_allowed(out, "GET, HEAD");
        else rc = api_pairs(&c, params, nparams, out, err);
    } else if (!strncmp(p, "pairs/", 6)) {
        p += 6;
        slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof id_buf) n = 0;   /* too long to be an id: parse_id fails */
        memcpy(id_buf, p, n);
        id_buf[n] = 0;
        int64_t id = web_parse_id(id_buf);
        if (!slash) {
            if (!get) method_not_allowed(out, "GET, HEAD");
            else if (!id) web_reply_error(out, 404, "no such pair");
            else rc = api_pair(&c, id, params, nparams, out, err);
        } else if (!strcmp(slash, "/verdict")) {
            if (!post) method_not_allowed(out, "POST");
            else if (!id) web_reply_error(out, 404, "no such pair");
            else rc = api_verdict(&c, id, body, len, out, err);
        } else if (!strcmp(slash, "/queue")) {
            if (!post && !del) method_not_allowed(out, "POST, DELETE");
            else if (!id) web_reply_error(out, 404, "no such pair");
            else rc = api_queue(&c, id, post, body, len, out, err);
        } else {
            web_reply_error(out, 404, "no such endpoint");
        }
    } else if (!strncmp(p, "items/", 6) && (slash = strchr(p + 6, '/'))) {
        size_t n = (size_t)(slash - (p + 6));
        if (!get) {
            method_not_allowed(out, "GET, HEAD");
        } else if (n >= sizeof id_buf) {
            web_reply_error(out, 404, "no such item");
        } else {
            memcpy(id_buf, p + 6, n);
            id_buf[n] = 0;
            rc = api_item(&c, id_buf, slash + 1, out, err);
        }
    } else {
        web_reply_error(out, 404, "no such endpoint");
    }
done:
    if (get) store_read_end(st);
    if (rc == DP_ERR) {
        web_reply_free(out);
        web_reply_error(out, 500, "store error");
    }
    ctx_free(&c);
    return rc;
}
