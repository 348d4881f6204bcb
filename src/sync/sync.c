/* sync.c -- `doppel sync`: GitHub listings -> ingest converters -> store,
 * one transaction per page with its cursor. See sync.h for the contract. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/hashmap.h"
#include "../ingest/ingest.h"
#include "github.h"
#include "sync.h"

/* ---- int64 -> int64 (item numbers, comment ids, URL hashes: all > 0) -- */

typedef dp_u64map i64map;

/* Stores k -> v unless k is present; returns 1 and the old value in *old if it was. */
static int i64map_put_new(i64map *m, int64_t k, int64_t v, int64_t *old)
{
    if (k <= 0) return 0;
    uint64_t prev;
    if (dp_u64map_get(m, (uint64_t)k, &prev)) {
        if (old) *old = (int64_t)prev;
        return 1;
    }
    *dp_u64map_at(m, (uint64_t)k) = (uint64_t)v;
    return 0;
}

static int i64map_get(const i64map *m, int64_t k, int64_t *v)
{
    uint64_t u;
    if (k <= 0 || !dp_u64map_get(m, (uint64_t)k, &u)) return 0;
    if (v) *v = (int64_t)u;
    return 1;
}

static void i64map_free(i64map *m) { dp_u64map_free(m); }

/* ---- context ---------------------------------------------------------- */

typedef struct sync_ctx {
    store *st;
    const sync_opts *o;
    sync_stats *stats;
    gh_client *gh;
    int64_t repo;
    char *repo_base;        /* API_URL/repos/OWNER/NAME */
    i64map kinds;           /* item number -> kind + 1, known to exist in the store */
    int64_t cursor_cap;     /* no stored cursor goes above: start - SYNC_SINCE_MARGIN_S */
    sync_progress prog;
} sync_ctx;

/* A converted page, ready to be written. */
typedef struct page {
    item_vec items;
    comment_vec comments;
    link_vec links;
    strvec label_names, label_colors;
    int64_t max_updated;
} page;

static void page_free(page *p)
{
    item_vec_free(&p->items);
    comment_vec_free(&p->comments);
    link_vec_free(&p->links);
    sv_free(&p->label_names);
    sv_free(&p->label_colors);
    memset(p, 0, sizeof *p);
}

static void sync_stats_pull(sync_ctx *c)
{
    const gh_stats *g = gh_client_stats(c->gh);
    c->stats->requests = g->requests;
    c->stats->not_modified = g->not_modified;
    c->stats->retries = g->retries;
    c->stats->rate_waits = g->rate_waits;
    c->stats->waited_s = g->waited_s;
    c->stats->bytes = g->bytes;
    c->stats->rate_remaining = g->rate_remaining;
    c->stats->rate_limit = g->rate_limit;
    c->stats->rate_reset = g->rate_reset;
}

static void report(sync_ctx *c)
{
    sync_stats_pull(c);
    if (!c->o->progress) return;
    c->prog.items = c->stats->items;
    c->prog.comments = c->stats->comments;
    c->prog.requests = c->stats->requests;
    c->prog.not_modified = c->stats->not_modified;
    c->prog.rate_remaining = c->stats->rate_remaining;
    c->prog.rate_limit = c->stats->rate_limit;
    c->o->progress(c->o->progress_ctx, &c->prog);
}

static void on_wait(void *ctx, double left, const char *why)
{
    sync_ctx *c = ctx;
    c->prog.wait_left = left;
    c->prog.wait_reason = left > 0 ? why : NULL;
    report(c);
}

static void start_phase(sync_ctx *c, const char *phase)
{
    c->prog.phase = phase;
    c->prog.pages = c->prog.pages_total = 0;
    c->prog.wait_left = 0;
    c->prog.wait_reason = NULL;
    report(c);
}

/* ---- kv helpers --------------------------------------------------------- */

/* Owned value or NULL when unset or empty. */
static char *kv_get(sync_ctx *c, const char *listing, const char *field, dp_err *err, int *rc)
{
    char key[128], *v = NULL;
    snprintf(key, sizeof key, "sync.%s.%s", listing, field);
    int r = store_kv_get(c->st, c->repo, key, &v, err);
    if (r == DP_ERR) {
        *rc = DP_ERR;
        return NULL;
    }
    if (r == DP_NOTFOUND || !v || !*v) {
        free(v);
        return NULL;
    }
    return v;
}

static int kv_set(sync_ctx *c, const char *listing, const char *field, const char *v, dp_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "sync.%s.%s", listing, field);
    return store_kv_set(c->st, c->repo, key, v ? v : "", err);
}

/* A URL the server gave us (Link, Location), stored for the next run:
 * credentials and anything token-like are masked first, so a server that
 * echoes the token into its links cannot make us write it to disk. */
static int kv_set_url(sync_ctx *c, const char *listing, const char *field, const char *url, dp_err *err)
{
    if (!url) return kv_set(c, listing, field, NULL, err);
    char *red = gh_redact_url(url);
    char *safe = gh_redact_text(red, c->o->token);
    int rc = kv_set(c, listing, field, safe, err);
    free(safe);
    free(red);
    return rc;
}

static int kv_set_time(sync_ctx *c, const char *listing, const char *field, int64_t t, dp_err *err)
{
    char buf[32] = "";
    if (t > 0) dp_format_time(t, buf, sizeof buf);
    return kv_set(c, listing, field, buf, err);
}

static int64_t parse_time_or_0(const char *s)
{
    int64_t t = 0;
    if (!s || dp_parse_time(s, &t) != DP_OK) return 0;
    return t;
}

/* ---- converting pages ------------------------------------------------- */

static int64_t key_number(const char *key)
{
    if (!key) return 0;
    char *end;
    long long n = strtoll(key, &end, 10);
    return (*end || n <= 0) ? 0 : (int64_t)n;
}

/* Parses a JSON array page; DP_ERR names the URL. */
static int parse_page(const char *url, const gh_response *r, json_t **out, dp_err *err)
{
    json_error_t je;
    *out = NULL;
    /* jansson spends up to ~230 bytes per value: 32 MiB of "{}," would take
     * 2.5 GB. Count first; a real page holds ~15,000 values. */
    if (sync_json_values(r->body.s ? r->body.s : "", r->body.len, SYNC_MAX_JSON_VALUES) > SYNC_MAX_JSON_VALUES) {
        char *red = gh_redact_url(url);
        dp_fail(err, "%s: the page holds more than %d JSON values (the size limit per page); nothing of it was "
                     "stored", red, SYNC_MAX_JSON_VALUES);
        free(red);
        return DP_ERR;
    }
    json_t *j = json_loadb(r->body.s ? r->body.s : "", r->body.len, 0, &je);
    char *red = NULL;
    if (!j) {
        red = gh_redact_url(url);
        dp_fail(err, "%s: malformed JSON page (line %d, column %d: %s); nothing of it was stored", red,
                je.line, je.column, je.text);
        free(red);
        return DP_ERR;
    }
    if (!json_is_array(j) && !json_is_object(j)) {
        json_decref(j);
        red = gh_redact_url(url);
        dp_fail(err, "%s: expected a JSON array or object", red);
        free(red);
        return DP_ERR;
    }
    *out = j;
    return DP_OK;
}

static int fail_at(const char *url, size_t i, dp_err *err)
{
    char *red = gh_redact_url(url);
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    dp_fail(err, "%s: element %zu: %s; nothing of this page was stored", red, i, msg);
    free(red);
    return DP_ERR;
}

/* Takes a converted item into the page: its links, the page's high-water. */
static int add_item(sync_ctx *c, item *it, page *p, dp_err *err)
{
    if (!it->key || !key_number(it->key)) return dp_fail(err, "issue without a number");
    if (it->updated_at > p->max_updated) p->max_updated = it->updated_at;
    if (it->body && *it->body)
        ingest_links_from_text(it->key, it->kind, it->body, c->o->repo, "body", &p->links);
    return DP_OK;
}

/* Converts one issue object; appends the item and the links of its body. */
static int convert_item(sync_ctx *c, json_t *obj, page *p, dp_err *err)
{
    item *it = item_vec_push(&p->items);
    char *rn = NULL;
    item_init(it);
    if (ingest_github_item(obj, it, &rn, err) != DP_OK) {
        free(rn);
        return DP_ERR;
    }
    free(rn);
    return add_item(c, it, p, err);
}

/* A listing page must be a JSON array; the error names the URL without
 * credentials. */
static int expect_array(const char *url, json_t *arr, const char *what, dp_err *err)
{
    if (json_is_array(arr)) return DP_OK;
    char *red = gh_redact_url(url);
    dp_fail(err, "%s: expected a JSON array of %s", red, what);
    free(red);
    return DP_ERR;
}

static int convert_items(sync_ctx *c, const char *url, json_t *arr, page *p, dp_err *err)
{
    if (expect_array(url, arr, "issues", err) != DP_OK) return DP_ERR;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (convert_item(c, v, p, err) != DP_OK) return fail_at(url, i, err);
    return DP_OK;
}

/* Fetches one item the store lacks (a comment arrived before its issue was
 * listed) into p. 404/410: the comment's item is gone; DP_NOTFOUND. */
static int fetch_single_item(sync_ctx *c, int64_t number, page *p, dp_err *err)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)number);
    item *it = item_vec_push(&p->items);
    int rc = gh_issue_read(c->gh, c->o->repo, key, it, NULL, err);
    if (rc != DP_OK) {
        p->items.n--;   /* gh_issue_read left it empty */
        return rc;
    }
    return add_item(c, it, p, err);
}

/* Kind of item `number` if it is in the store or in this page, else -1. */
static int known_kind(sync_ctx *c, const page *p, int64_t number, dp_err *err, int *rc)
{
    int64_t v;
    if (i64map_get(&c->kinds, number, &v)) return (int)(v - 1);
    for (size_t i = 0; i < p->items.n; i++)
        if (key_number(p->items.v[i].key) == number) return (int)p->items.v[i].kind;
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)number);
    item it;
    item_init(&it);
    int r = store_item_get(c->st, c->repo, key, &it, err);
    int kind = -1;
    if (r == DP_OK) {
        kind = (int)it.kind;
        i64map_put_new(&c->kinds, number, kind + 1, NULL);
    } else if (r == DP_ERR) {
        *rc = DP_ERR;
    }
    item_free(&it);
    return kind;
}

static int convert_comments(sync_ctx *c, const char *url, json_t *arr, page *p, dp_err *err)
{
    if (expect_array(url, arr, "comments", err) != DP_OK) return DP_ERR;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        comment *cm = comment_vec_push(&p->comments);
        char *rn = NULL;
        if (ingest_github_comment(v, cm, &rn, err) != DP_OK) {
            free(rn);
            return fail_at(url, i, err);
        }
        free(rn);
        int64_t num = key_number(cm->item_key);
        if (!num) {
            dp_fail(err, "comment without an issue number");
            return fail_at(url, i, err);
        }
        if (cm->updated_at > p->max_updated) p->max_updated = cm->updated_at;
        int rc = DP_OK;
        int kind = known_kind(c, p, num, err, &rc);
        if (rc != DP_OK) return DP_ERR;
        if (kind < 0) {
            int r = fetch_single_item(c, num, p, err);
            if (r == DP_ERR) return DP_ERR;
            if (r == DP_NOTFOUND) {   /* its issue is gone: drop the comment */
                comment_free(cm);
                p->comments.n--;
                continue;
            }
            kind = (int)p->items.v[p->items.n - 1].kind;
        }
        if (cm->body && *cm->body)
            ingest_links_from_text(cm->item_key, (item_kind)kind, cm->body, c->o->repo, "comment",
                                   &p->links);
    }
    return DP_OK;
}

static int convert_labels(const char *url, json_t *arr, page *p, dp_err *err)
{
    size_t i;
    json_t *v;
    if (expect_array(url, arr, "labels", err) != DP_OK) return DP_ERR;
    json_array_foreach(arr, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *color = json_string_value(json_object_get(v, "color"));
        if (!name || !color) {
            dp_fail(err, "label without \"name\" or \"color\"");
            return fail_at(url, i, err);
        }
        if (!dp_utf8_valid(name, strlen(name), NULL) || !dp_utf8_valid(color, strlen(color), NULL)) {
            dp_fail(err, "label with invalid UTF-8");
            return fail_at(url, i, err);
        }
        sv_push(&p->label_names, name);
        sv_push(&p->label_colors, color);
    }
    return DP_OK;
}

/* Writes a converted page (inside the caller's transaction). */
static int write_page(sync_ctx *c, const page *p, dp_err *err)
{
    for (size_t i = 0; i < p->items.n; i++) {
        int changed = 0;
        const item *it = &p->items.v[i];
        if (store_item_upsert(c->st, c->repo, it, &changed, err) != DP_OK) return DP_ERR;
        c->stats->items_written += changed ? 1 : 0;
        i64map_put_new(&c->kinds, key_number(it->key), (int64_t)it->kind + 1, NULL);
    }
    for (size_t i = 0; i < p->comments.n; i++)
        if (store_comment_upsert(c->st, c->repo, &p->comments.v[i], err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < p->links.n; i++)
        if (store_link_add(c->st, c->repo, &p->links.v[i], err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < p->label_names.n; i++)
        if (store_label_color_set(c->st, c->repo, p->label_names.v[i], p->label_colors.v[i], err) != DP_OK)
            return DP_ERR;
    return DP_OK;
}

static void count_page(sync_ctx *c, const page *p)
{
    c->stats->items += p->items.n;
    c->stats->comments += p->comments.n;
    c->stats->links += p->links.n;
    c->stats->labels += p->label_names.n;
    c->stats->pages++;
    c->prog.pages++;
}

/* ---- listings ------------------------------------------------------------ */

typedef enum { L_ISSUES, L_COMMENTS, L_LABELS } listing_kind;

typedef struct listing {
    listing_kind kind;
    const char *name;       /* kv namespace and progress phase */
    const char *path;       /* under repo_base, with the fixed query */
    int cursored;           /* sorted by updated asc, with since= */
} listing;

static const listing LISTINGS[] = {
    {L_ISSUES, "issues", "/issues?state=all&sort=updated&direction=asc&per_page=100", 1},
    {L_COMMENTS, "comments", "/issues/comments?sort=updated&direction=asc&per_page=100", 1},
    {L_LABELS, "labels", "/labels?per_page=100", 0},
};

static size_t page_number(const char *url)
{
    const char *p = url ? strstr(url, "page=") : NULL;
    while (p && p > url && p[-1] != '?' && p[-1] != '&') p = strstr(p + 5, "page=");
    return p ? (size_t)strtoul(p + 5, NULL, 10) : 0;
}

/* ---- following rel="next": cycles and the page cap ---------------------- */

size_t sync_page_cap(size_t reported_last, size_t known_items, size_t per_page)
{
    size_t basis = per_page ? known_items / per_page + (known_items % per_page != 0) : 0;
    if (reported_last > basis) basis = reported_last;
    if (!basis) return SYNC_PAGES_UNKNOWN;
    if (basis > (SYNC_PAGES_MAX - 100) / 2) return SYNC_PAGES_MAX;
    return basis * 2 + 100;   /* items added or updated while we list shift pages */
}

struct sync_pager {
    char *base;             /* the API URL: next links must stay under it */
    i64map seen;            /* hash of every URL fetched -> 1 */
    size_t pages, cap;
    size_t known, last;     /* items known beforehand; first rel="last" page number */
};

sync_pager *sync_pager_new(const char *base, size_t known_items)
{
    sync_pager *pg = xcalloc(1, sizeof *pg);
    pg->base = xstrdup(base);
    pg->known = known_items;
    pg->cap = sync_page_cap(0, known_items, SYNC_PER_PAGE);
    return pg;
}

void sync_pager_free(sync_pager *pg)
{
    if (!pg) return;
    i64map_free(&pg->seen);
    free(pg->base);
    free(pg);
}

/* A positive map key for a URL (64-bit hash: a false "cycle" among a few
 * thousand pages has odds of about 1e-12). */
static int64_t url_key(const char *url)
{
    return (int64_t)(dp_hash_str(url) >> 1) | 1;
}

int sync_pager_next(sync_pager *pg, const char *url, const char *next, const char *last, dp_err *err)
{
    pg->pages++;
    i64map_put_new(&pg->seen, url_key(url), 1, NULL);
    size_t n = last ? page_number(last) : 0;
    if (!pg->last && n) {
        /* The first report counts: a server raising it page after page
         * must not push the cap along. */
        pg->last = n;
        pg->cap = sync_page_cap(n, pg->known, SYNC_PER_PAGE);
    }
    if (!next) return DP_OK;
    int rc = DP_OK;
    char *ru = gh_redact_url(url), *rn = gh_redact_url(next);
    if (!gh_same_origin(pg->base, next))
        rc = dp_fail(err, "%s: its rel=\"next\" link %.300s is not under the API URL; stopping", ru, rn);
    else if (i64map_get(&pg->seen, url_key(next), NULL))
        rc = dp_fail(err, "%s: pagination cycle: its rel=\"next\" link %.300s points to a page already fetched "
                          "in this listing; stopping", ru, rn);
    else if (pg->pages >= pg->cap)
        rc = dp_fail(err, "%s: more pages than %zu in one listing (the server reported %zu, the store knew %zu "
                          "items); stopping before %.300s", ru, pg->cap, pg->last, pg->known, rn);
    free(ru);
    free(rn);
    return rc;
}

size_t sync_json_values(const char *s, size_t n, size_t limit)
{
    size_t count = 0;
    for (size_t i = 0; i < n && count <= limit; i++) {
        char ch = s[i];
        if (ch == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            size_t j = i + 1;
            while (j < n && isspace((unsigned char)s[j])) j++;
            if (j >= n || s[j] != ':') count++;   /* a key is not a value */
        } else if (ch == '{' || ch == '[') {
            count++;
        } else if (isalnum((unsigned char)ch) || ch == '-') {
            count++;   /* number, true, false, null: one value per run */
            while (i + 1 < n && (isalnum((unsigned char)s[i + 1]) || s[i + 1] == '-' || s[i + 1] == '+' ||
                                 s[i + 1] == '.'))
                i++;
        }
    }
    return count;
}

static char *listing_url(sync_ctx *c, const listing *L, int64_t since)
{
    if (!since) return xasprintf("%s%s", c->repo_base, L->path);
    /* One second of overlap: whether GitHub's since is inclusive or not, an
     * item sharing the boundary second is fetched again, never skipped. */
    char t[32];
    dp_format_time(since - 1, t, sizeof t);
    return xasprintf("%s%s&since=%s", c->repo_base, L->path, t);
}

static int http_unexpected(const char *url, const gh_response *r, dp_err *err)
{
    char *red = gh_redact_url(url);
    if (r->status == 404) {
        dp_fail(err, "GET %s: HTTP 404 (repository not found, or private and the token cannot see it)", red);
    } else if (r->status == 301 || r->status == 302 || r->status == 307 || r->status == 308) {
        /* Not followed: a redirect to another host would carry the token. */
        char *loc = gh_redact_url(r->location ? r->location : "?");
        dp_fail(err, "GET %s: HTTP %ld, moved to %.300s (not followed; renamed repository? sync the new name)",
                red, r->status, loc);
        free(loc);
    } else {
        dp_fail(err, "GET %s: unexpected HTTP %ld", red, r->status);
    }
    free(red);
    return DP_ERR;
}

/* Converts a fetched page for listing L. */
static int convert_for(sync_ctx *c, const listing *L, const char *url, json_t *j, page *p, dp_err *err)
{
    switch (L->kind) {
    case L_ISSUES: return convert_items(c, url, j, p, err);
    case L_COMMENTS: return convert_comments(c, url, j, p, err);
    case L_LABELS: return convert_labels(url, j, p, err);
    }
    return dp_fail(err, "unknown listing");
}

/* State of one pass over a listing. */
typedef struct pass {
    int64_t hw;             /* high-water updated_at committed so far */
    int64_t rewind;         /* earliest first-seen updated_at of an item seen twice */
    i64map seen;            /* id -> first-seen updated_at */
} pass;

static void note_seen(const listing *L, const page *p, pass *ps)
{
    if (L->kind == L_LABELS) return;
    size_t n = L->kind == L_ISSUES ? p->items.n : p->comments.n;
    for (size_t i = 0; i < n; i++) {
        int64_t id, upd, old;
        if (L->kind == L_ISSUES) {
            id = key_number(p->items.v[i].key);
            upd = p->items.v[i].updated_at;
        } else {
            id = p->comments.v[i].id;
            upd = p->comments.v[i].updated_at;
        }
        if (i64map_put_new(&ps->seen, id, upd, &old) && old < ps->rewind) ps->rewind = old;
    }
}

/* ETags are kept for the first ETAG_PAGES pages of a pass: enough for an
 * unchanged repository (incremental passes are short) without piling up one
 * kv row per page of a first full listing. */
#define ETAG_PAGES 10

static void etag_field(char *buf, size_t n, const char *what, int pageno)
{
    snprintf(buf, n, "%s.%d", what, pageno);
}

/* Commits page p of listing L with its cursor, in one transaction. */
static int commit_page(sync_ctx *c, const listing *L, const page *p, pass *ps, const char *url,
                       const gh_response *r, int pageno, dp_err *err)
{
    if (store_begin(c->st, err) != DP_OK) return DP_ERR;
    int64_t hw = p->max_updated > ps->hw ? p->max_updated : ps->hw;
    /* What is stored is capped (sync.h, SYNC_SINCE_MARGIN_S): one item
     * dated in the future must not move the next run's since= past the
     * edits still to come. The pass itself goes on with the real hw. */
    int64_t keep = hw < c->cursor_cap ? hw : c->cursor_cap;
    int done = r->next_url == NULL;
    int rc = write_page(c, p, err);
    if (rc == DP_OK && L->cursored) {
        rc = kv_set_time(c, L->name, "hw", done ? 0 : keep, err);
        if (rc == DP_OK) rc = kv_set_url(c, L->name, "next", r->next_url, err);
        if (rc == DP_OK && done) {
            int64_t since = ps->rewind < keep ? ps->rewind : keep;
            rc = kv_set_time(c, L->name, "since", since, err);
        }
    }
    if (rc == DP_OK && pageno < ETAG_PAGES) {
        char f[32];
        etag_field(f, sizeof f, "etag_url", pageno);
        rc = kv_set_url(c, L->name, f, url, err);
        etag_field(f, sizeof f, "etag", pageno);
        if (rc == DP_OK) rc = kv_set(c, L->name, f, r->etag, err);
        etag_field(f, sizeof f, "etag_next", pageno);
        if (rc == DP_OK) rc = kv_set_url(c, L->name, f, r->next_url, err);
    }
    if (rc == DP_OK) rc = store_commit(c->st, err);
    if (rc != DP_OK) {
        store_rollback(c->st);
        return DP_ERR;
    }
    ps->hw = hw;
    return DP_OK;
}

/* The stored ETag for page `pageno` if it was recorded for this very URL. */
static char *etag_for(sync_ctx *c, const listing *L, int pageno, const char *url, dp_err *err, int *rc)
{
    if (pageno >= ETAG_PAGES) return NULL;
    char f[32];
    etag_field(f, sizeof f, "etag_url", pageno);
    char *eu = kv_get(c, L->name, f, err, rc);
    char *etag = NULL;
    if (eu && !strcmp(eu, url)) {
        etag_field(f, sizeof f, "etag", pageno);
        etag = kv_get(c, L->name, f, err, rc);
    }
    free(eu);
    return etag;
}

/* Items (and open items) the store holds for the repository: what a listing
 * is expected to return, for its page cap. */
static int known_items(sync_ctx *c, size_t *all, size_t *open, dp_err *err)
{
    size_t issues = 0, prs = 0, op = 0;
    if (store_item_count(c->st, c->repo, &issues, &prs, &op, err) != DP_OK) return DP_ERR;
    if (all) *all = issues + prs;
    if (open) *open = op;
    return DP_OK;
}

/* One pass: from `since` (0 = everything) to the last page. With use_etag,
 * pages are requested conditionally while they keep answering 304. */
static int run_pass(sync_ctx *c, const listing *L, int64_t since, int use_etag, pass *ps, dp_err *err)
{
    char *url = listing_url(c, L, since);
    int rc = DP_OK, pageno = 0;
    ps->hw = since;
    size_t known = 0;
    if (L->kind == L_ISSUES) rc = known_items(c, &known, NULL, err);
    sync_pager *pg = sync_pager_new(gh_client_base(c->gh), known);
    while (rc == DP_OK && url) {
        if (c->o->cancel && *c->o->cancel) {
            rc = dp_fail(err, "interrupted");
            break;
        }
        char *etag = use_etag ? etag_for(c, L, pageno, url, err, &rc) : NULL;
        gh_response r;
        if (rc == DP_OK) rc = gh_get(c->gh, url, etag, &r, err);
        else memset(&r, 0, sizeof r);
        free(etag);
        if (rc == DP_OK && r.status == 304) {
            /* Unchanged page: its successor is the one it had last time. */
            char f[32];
            etag_field(f, sizeof f, "etag_next", pageno);
            char *next = kv_get(c, L->name, f, err, &rc);
            if (rc == DP_OK) rc = sync_pager_next(pg, url, next, NULL, err);
            free(url);
            url = next;
            pageno++;
            gh_response_free(&r);
            report(c);
            continue;
        }
        use_etag = 0;   /* after a changed page, later pages differ anyway */
        if (rc == DP_OK && r.status != 200) rc = http_unexpected(url, &r, err);
        /* Before this page is committed: a cycle or a runaway chain stops
         * here, so its cursor never points into the loop. */
        if (rc == DP_OK) rc = sync_pager_next(pg, url, r.next_url, r.last_url, err);
        json_t *j = NULL;
        page p = {0};
        if (rc == DP_OK) rc = parse_page(url, &r, &j, err);
        if (rc == DP_OK) rc = convert_for(c, L, url, j, &p, err);
        json_decref(j);
        if (rc == DP_OK) {
            note_seen(L, &p, ps);
            rc = commit_page(c, L, &p, ps, url, &r, pageno, err);
        }
        if (rc == DP_OK) {
            count_page(c, &p);
            if (pageno == 0 && r.last_url) c->prog.pages_total = page_number(r.last_url);
            report(c);
            free(url);
            url = r.next_url;
            r.next_url = NULL;
        }
        page_free(&p);
        gh_response_free(&r);
        pageno++;
    }
    sync_pager_free(pg);
    free(url);
    return rc;
}

static int run_listing(sync_ctx *c, const listing *L, dp_err *err)
{
    int rc = DP_OK;
    int64_t since = 0, resume = 0;
    if (!c->o->full && L->cursored) {
        char *s = kv_get(c, L->name, "since", err, &rc);
        char *h = kv_get(c, L->name, "hw", err, &rc);
        since = parse_time_or_0(s);
        resume = parse_time_or_0(h);
        free(s);
        free(h);
        if (rc != DP_OK) return rc;
    }
    if (L->kind == L_ISSUES) c->stats->since_before = since;
    start_phase(c, L->name);
    /* Resume an interrupted listing by time: everything before hw is committed. */
    int64_t from = resume ? resume : since;
    int use_etag = !c->o->full && !resume;
    for (int passes = 0;; passes++) {
        pass ps = {.rewind = INT64_MAX};
        rc = run_pass(c, L, from, use_etag, &ps, err);
        int again = rc == DP_OK && ps.rewind < ps.hw && passes < 3;
        from = ps.rewind;
        i64map_free(&ps.seen);
        if (!again) break;
        use_etag = 0;
    }
    return rc;
}

/* ---- --verify: deleted and transferred items ------------------------- */

static int verify_one(sync_ctx *c, const item *it, dp_err *err)
{
    page p = {0};
    item *fresh = item_vec_push(&p.items);
    int rc = gh_issue_read(c->gh, c->o->repo, it->key, fresh, NULL, err);
    if (rc == DP_NOTFOUND) {
        /* 404/410 deleted; 301: transferred to another repository, not ours anymore. */
        p.items.n--;
        rc = store_item_mark_deleted(c->st, c->repo, it->key, err);
        if (rc == DP_OK) c->stats->deleted++;
    } else if (rc == DP_OK) {
        rc = add_item(c, fresh, &p, err);
        if (rc == DP_OK && (rc = store_begin(c->st, err)) == DP_OK) {
            rc = write_page(c, &p, err);
            if (rc == DP_OK) rc = store_commit(c->st, err);
            if (rc != DP_OK) store_rollback(c->st);
        }
        if (rc == DP_OK) c->stats->items += p.items.n;
    } else {
        p.items.n--;
    }
    page_free(&p);
    return rc;
}

static int run_verify(sync_ctx *c, dp_err *err)
{
    start_phase(c, "verify");
    i64map open_now = {0};
    char *url = xasprintf("%s/issues?state=open&per_page=100", c->repo_base);
    size_t open = 0;
    int rc = known_items(c, NULL, &open, err);
    sync_pager *pg = sync_pager_new(gh_client_base(c->gh), open);
    while (rc == DP_OK && url) {
        gh_response r;
        json_t *j = NULL;
        page p = {0};
        rc = gh_get(c->gh, url, NULL, &r, err);
        if (rc == DP_OK && r.status != 200) rc = http_unexpected(url, &r, err);
        if (rc == DP_OK) rc = sync_pager_next(pg, url, r.next_url, r.last_url, err);
        if (rc == DP_OK) rc = parse_page(url, &r, &j, err);
        if (rc == DP_OK) rc = convert_items(c, url, j, &p, err);
        json_decref(j);
        if (rc == DP_OK && (rc = store_begin(c->st, err)) == DP_OK) {
            rc = write_page(c, &p, err);
            if (rc == DP_OK) rc = store_commit(c->st, err);
            if (rc != DP_OK) store_rollback(c->st);
        }
        if (rc == DP_OK) {
            for (size_t i = 0; i < p.items.n; i++)
                i64map_put_new(&open_now, key_number(p.items.v[i].key), 1, NULL);
            count_page(c, &p);
            report(c);
            free(url);
            url = r.next_url;
            r.next_url = NULL;
        }
        page_free(&p);
        gh_response_free(&r);
    }
    sync_pager_free(pg);
    free(url);
    item_vec all = {0};
    if (rc == DP_OK) rc = store_items_load(c->st, c->repo, &all, err);
    for (size_t i = 0; rc == DP_OK && i < all.n; i++) {
        const item *it = &all.v[i];
        if (it->deleted || !item_is_open(it) || i64map_get(&open_now, key_number(it->key), NULL)) continue;
        if (c->o->cancel && *c->o->cancel) rc = dp_fail(err, "interrupted");
        else rc = verify_one(c, it, err);
        report(c);
    }
    item_vec_free(&all);
    i64map_free(&open_now);
    return rc;
}

/* ---- --timeline: marked_as_duplicate events --------------------------- */

/* The issue number an event names in `field`, 0 when absent or not a
 * number an item can have (> 0): a broken or hostile answer must not store
 * links to items that cannot exist. */
static int64_t event_number(json_t *ev, const char *field)
{
    json_t *o = json_object_get(ev, field);
    json_t *n = json_object_get(o, "number");
    if (!n) n = json_object_get(json_object_get(o, "issue"), "number");
    json_int_t v = json_is_integer(n) ? json_integer_value(n) : 0;
    return v > 0 ? (int64_t)v : 0;
}

/* Links from one timeline page. The duplicate defaults to the item itself. */
static void timeline_links(const item *it, json_t *arr, link_vec *out)
{
    size_t i;
    json_t *ev;
    json_array_foreach(arr, i, ev) {
        const char *e = json_string_value(json_object_get(ev, "event"));
        if (!e || strcmp(e, "marked_as_duplicate")) continue;
        int64_t dup = event_number(ev, "duplicate");
        int64_t canon = event_number(ev, "canonical");
        if (!canon) continue;
        item_link *l = link_vec_push(out);
        l->src_key = dup ? xasprintf("%lld", (long long)dup) : xstrdup(it->key);
        l->dst_key = xasprintf("%lld", (long long)canon);
        l->type = LINK_DUPLICATE;
        l->source = xstrdup("timeline");
    }
}

static int timeline_one(sync_ctx *c, const item *it, const char *mark, dp_err *err)
{
    char *url = xasprintf("%s/issues/%s/timeline?per_page=100", c->repo_base, it->key);
    link_vec links = {0};
    int rc = DP_OK;
    sync_pager *pg = sync_pager_new(gh_client_base(c->gh), 0);
    while (rc == DP_OK && url) {
        gh_response r;
        json_t *j = NULL;
        char *next = NULL;
        rc = gh_get(c->gh, url, NULL, &r, err);
        if (rc == DP_OK && r.status == 200) {
            rc = sync_pager_next(pg, url, r.next_url, r.last_url, err);
            if (rc == DP_OK) rc = parse_page(url, &r, &j, err);
            if (rc == DP_OK && json_is_array(j)) timeline_links(it, j, &links);
            next = r.next_url;
            r.next_url = NULL;
        } else if (rc == DP_OK && r.status != 404 && r.status != 410) {
            rc = http_unexpected(url, &r, err);   /* 404/410: the item went away */
        }
        json_decref(j);
        gh_response_free(&r);
        free(url);
        url = next;
    }
    sync_pager_free(pg);
    free(url);
    if (rc == DP_OK && (rc = store_begin(c->st, err)) == DP_OK) {
        for (size_t i = 0; rc == DP_OK && i < links.n; i++) rc = store_link_add(c->st, c->repo, &links.v[i], err);
        char key[96];
        snprintf(key, sizeof key, "sync.timeline.%s", it->key);
        if (rc == DP_OK) rc = store_kv_set(c->st, c->repo, key, mark, err);
        if (rc == DP_OK) rc = store_commit(c->st, err);
        if (rc != DP_OK) store_rollback(c->st);
    }
    if (rc == DP_OK) c->stats->links += links.n;
    link_vec_free(&links);
    return rc;
}

static int run_timeline(sync_ctx *c, dp_err *err)
{
    start_phase(c, "timeline");
    item_vec all = {0};
    int rc = store_items_load(c->st, c->repo, &all, err);
    for (size_t i = 0; rc == DP_OK && i < all.n; i++) {
        const item *it = &all.v[i];
        if (it->deleted || item_is_open(it) || !it->state_reason || strcmp(it->state_reason, "duplicate"))
            continue;
        /* Read each item's timeline once per version of the item. */
        char key[96], mark[32], *have = NULL;
        snprintf(key, sizeof key, "sync.timeline.%s", it->key);
        dp_format_time(it->updated_at, mark, sizeof mark);
        int g = store_kv_get(c->st, c->repo, key, &have, err);
        int fresh = g == DP_OK && have && !strcmp(have, mark);
        free(have);
        if (g == DP_ERR) rc = DP_ERR;
        else if (!fresh) rc = timeline_one(c, it, mark, err);
        c->prog.pages++;
        report(c);
    }
    item_vec_free(&all);
    return rc;
}

/* ---- entry points --------------------------------------------------------- */

int sync_parse_repo(const char *spec, dp_err *err)
{
    const char *slash = spec ? strchr(spec, '/') : NULL;
    if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/'))
        return dp_fail(err, "expected OWNER/REPO, got '%s'", spec ? spec : "");
    for (const char *p = spec; *p; p++) {
        if (p == slash) continue;
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return dp_fail(err, "invalid character in repository name '%s'", spec);
    }
    if (!strcmp(slash + 1, ".") || !strcmp(slash + 1, "..") || slash - spec > 39 || strlen(slash + 1) > 100)
        return dp_fail(err, "invalid repository name '%s'", spec);
    return DP_OK;
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char *copy = xstrdup(path), *save = NULL;
    int found = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *f = xasprintf("%s/%s", *d ? d : ".", prog);
        found = access(f, X_OK) == 0;
        free(f);
    }
    free(copy);
    return found;
}

char *sync_find_token(const char **source)
{
    static const char *vars[] = {"GITHUB_TOKEN", "GH_TOKEN", NULL};
    if (source) *source = NULL;
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            if (source) *source = vars[i];
            return xstrdup(v);
        }
    }
    if (!on_path("gh")) return NULL;
    FILE *f = popen("gh auth token 2>/dev/null", "r");
    if (!f) return NULL;
    char buf[512];
    char *tok = NULL;
    if (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = 0;
        if (*buf) tok = xstrdup(buf);
    }
    memset(buf, 0, sizeof buf);
    if (pclose(f) != 0 && tok) {   /* gh failed: ignore whatever it printed */
        free(tok);
        tok = NULL;
    }
    if (tok && source) *source = "gh auth token";
    return tok;
}

/* "https://github.com/o/r" for api.github.com, "https://HOST/o/r" for an
 * Enterprise "https://HOST/api/v3". */
static char *web_url(const char *base, const char *repo)
{
    const char *host = strstr(base, "://");
    size_t hl = host ? strcspn(host + 3, "/") : 0;
    if (host && hl == 14 && !strncasecmp(host + 3, "api.github.com", 14))
        return xasprintf("https://github.com/%s", repo);
    if (!host) return xasprintf("%s/%s", base, repo);
    return xasprintf("%.*s/%s", (int)(host + 3 + hl - base), base, repo);
}

static int sync_body(sync_ctx *c, dp_err *err)
{
    for (size_t i = 0; i < sizeof LISTINGS / sizeof LISTINGS[0]; i++)
        if (run_listing(c, &LISTINGS[i], err) != DP_OK) return DP_ERR;
    if (c->o->timeline && run_timeline(c, err) != DP_OK) return DP_ERR;
    if (c->o->verify && run_verify(c, err) != DP_OK) return DP_ERR;
    return DP_OK;
}

int sync_run(store *st, const sync_opts *o, sync_stats *stats, dp_err *err)
{
    memset(stats, 0, sizeof *stats);
    stats->rate_remaining = stats->rate_limit = -1;
    if (sync_parse_repo(o->repo, err) != DP_OK) return DP_ERR;
    sync_ctx c = {.st = st, .o = o, .stats = stats, .cursor_cap = (int64_t)time(NULL) - SYNC_SINCE_MARGIN_S};
    gh_config cfg = {
        .api_url = o->api_url,
        .token = o->token,
        .max_tries = o->max_tries,
        .backoff_base_ms = o->backoff_base_ms,
        .backoff_cap_ms = o->backoff_cap_ms,
        .stall_timeout_s = o->stall_timeout_s,
        .deadline_s = o->deadline_s,
        .max_body = o->max_page_bytes,
        .on_wait = on_wait,
        .wait_ctx = &c,
        .cancel = o->cancel,
    };
    if (gh_client_new(&cfg, &c.gh, err) != DP_OK) return DP_ERR;
    c.repo_base = xasprintf("%s/repos/%s", gh_client_base(c.gh), o->repo);
    char *wurl = web_url(gh_client_base(c.gh), o->repo);
    int rc = store_repo_get(st, o->repo, 1, "github", wurl, &c.repo, err);
    free(wurl);
    stats->repo_id = c.repo;
    if (rc == DP_OK) rc = sync_body(&c, err);
    sync_stats_pull(&c);
    i64map_free(&c.kinds);
    free(c.repo_base);
    gh_client_free(c.gh);
    return rc;
}
