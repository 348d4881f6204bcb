/* ingest.c -- ingest_file(): one export file into the store, record by
 * record (see ingest.h). The splitter cuts records, jansson parses one at a
 * time, a converter turns it into items/comments/links, the store writes
 * them. Every error is prefixed with "file:line (byte N): ".
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PROGRESS_EVERY 256   /* records between progress callbacks */

int ingest_format_parse(const char *name, ingest_format *out)
{
    static const struct { const char *name; ingest_format f; } names[] = {
        {"auto", INGEST_AUTO}, {"github", INGEST_GITHUB}, {"gh", INGEST_GH_CLI},
        {"comments", INGEST_COMMENTS}, {"jira", INGEST_JIRA}, {NULL, INGEST_AUTO}};
    for (int i = 0; names[i].name; i++)
        if (!strcmp(name, names[i].name)) {
            *out = names[i].f;
            return DP_OK;
        }
    return DP_ERR;
}

const char *ingest_format_name(ingest_format f)
{
    switch (f) {
    case INGEST_GITHUB: return "github";
    case INGEST_GH_CLI: return "gh";
    case INGEST_COMMENTS: return "comments";
    case INGEST_JIRA: return "jira";
    default: return "auto";
    }
}

ingest_format ingest_format_detect(json_t *obj)
{
    if (!json_is_object(obj)) return INGEST_AUTO;
    if (json_object_get(obj, "key") && json_object_get(obj, "fields")) return INGEST_JIRA;
    if (json_object_get(obj, "issue_url")) return INGEST_COMMENTS;
    if (json_object_get(obj, "createdAt")) return INGEST_GH_CLI;
    if (json_object_get(obj, "number") &&
        (json_object_get(obj, "node_id") || json_object_get(obj, "html_url")))
        return INGEST_GITHUB;
    return INGEST_AUTO;
}

/* ---- label colours: set once per (repo, name, colour) per import -------- */

typedef struct label_seen {
    char **slot;        /* open addressing; "repo\x1fname\x1fcolor" */
    size_t cap, n;
} label_seen;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Returns 1 when key was new (and remembers it). */
static int seen_add(label_seen *ls, char *key)
{
    if (2 * (ls->n + 1) > ls->cap) {
        label_seen big = {xcalloc(ls->cap ? ls->cap * 2 : 64, sizeof(char *)),
                          ls->cap ? ls->cap * 2 : 64, 0};
        for (size_t i = 0; i < ls->cap; i++)
            if (ls->slot[i]) seen_add(&big, ls->slot[i]);
        free(ls->slot);
        *ls = big;
    }
    size_t i = fnv1a(key) & (ls->cap - 1);
    for (; ls->slot[i]; i = (i + 1) & (ls->cap - 1))
        if (!strcmp(ls->slot[i], key)) {
            free(key);
            return 0;
        }
    ls->slot[i] = key;
    ls->n++;
    return 1;
}

static void seen_free(label_seen *ls)
{
    for (size_t i = 0; i < ls->cap; i++) free(ls->slot[i]);
    free(ls->slot);
}

/* ---- one file ----------------------------------------------------------- */

typedef struct ictx {
    store *st;
    const ingest_opts *opts;
    ingest_stats *stats;
    ingest_format fmt;
    const char *path;         /* of the file, and the record being written, */
    size_t line;              /* for warnings */
    uint64_t off;
    int64_t now;
    char *repo_name;          /* repository of repo_id, cached */
    int64_t repo_id;
    label_seen labels;
} ictx;

static int repo_for(ictx *c, const char *from_data, const char *kind, int64_t *id, dp_err *err)
{
    const char *name = c->opts->repo ? c->opts->repo : from_data;
    if (!name || !*name)
        return dp_fail(err, "cannot tell which repository this is; use --repo OWNER/NAME");
    if (c->repo_name && !strcmp(c->repo_name, name)) {
        *id = c->repo_id;
        return DP_OK;
    }
    char *url = !strcmp(kind, "github") ? xasprintf("https://github.com/%s", name) : NULL;
    int rc = store_repo_get(c->st, name, 1, kind, url, id, err);
    free(url);
    if (rc != DP_OK) return DP_ERR;
    free(c->repo_name);
    c->repo_name = xstrdup(name);
    c->repo_id = *id;
    return DP_OK;
}

/* Reports a record dated more than STORE_FUTURE_SLACK past the import's
 * clock (see ingest_stats.future_dated); counted once per item or comment,
 * naming its first such date. */
static void check_future(ictx *c, const char *what, const char *key, const char *const *names,
                         const int64_t *dates, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (dates[i] <= c->now + STORE_FUTURE_SLACK) continue;
        c->stats->future_dated++;
        if (!c->opts->warn) return;
        char date[32];
        dp_format_time(dates[i], date, sizeof date);
        char *msg = xasprintf("%s:%zu (byte %llu): %s %s: %s %s is more than a day in the future "
                              "(a wrong clock?); stored as given",
                              c->path, c->line, (unsigned long long)c->off, what, key, names[i], date);
        c->opts->warn(c->opts->warn_ctx, msg);
        free(msg);
        return;
    }
}

static void check_comment_dates(ictx *c, const comment *cm)
{
    static const char *const names[] = {"created", "updated"};
    const int64_t dates[] = {cm->created_at, cm->updated_at};
    check_future(c, "comment on", cm->item_key, names, dates, 2);
}

static void check_item_dates(ictx *c, const item *it, const comment_vec *cv)
{
    static const char *const names[] = {"created", "updated", "closed"};
    const int64_t dates[] = {it->created_at, it->updated_at, it->closed_at};
    check_future(c, "item", it->key, names, dates, 3);
    for (size_t i = 0; i < cv->n; i++) check_comment_dates(c, &cv->v[i]);
}

static int add_links(ictx *c, int64_t repo, link_vec *links, dp_err *err)
{
    for (size_t i = 0; i < links->n; i++)
        if (store_link_add(c->st, repo, &links->v[i], err) != DP_OK) return DP_ERR;
    c->stats->links += links->n;
    return DP_OK;
}

static int add_comments(ictx *c, int64_t repo, comment_vec *cv, dp_err *err)
{
    for (size_t i = 0; i < cv->n; i++)
        if (store_comment_upsert(c->st, repo, &cv->v[i], err) != DP_OK) return DP_ERR;
    c->stats->comments += cv->n;
    return DP_OK;
}

static int set_label_colors(ictx *c, int64_t repo, json_t *obj, dp_err *err)
{
    strvec names = {0}, colors = {0};
    int rc = DP_OK;
    ingest_github_label_colors(obj, &names, &colors);
    for (size_t i = 0; i < names.n && rc == DP_OK; i++)
        if (seen_add(&c->labels, xasprintf("%lld\x1f%s\x1f%s", (long long)repo, names.v[i],
                                           colors.v[i])))
            rc = store_label_color_set(c->st, repo, names.v[i], colors.v[i], err);
    sv_free(&names);
    sv_free(&colors);
    return rc;
}

/* Writes one item; comments, links and label colours follow only when the
 * store took the item, so a re-import of unchanged data writes nothing. */
static int write_item(ictx *c, json_t *obj, item *it, const char *repo_name, const char *kind,
                      comment_vec *cv, link_vec *links, dp_err *err)
{
    int64_t repo;
    int changed = 0;
    if (repo_for(c, repo_name, kind, &repo, err) != DP_OK) return DP_ERR;
    c->stats->items++;
    check_item_dates(c, it, cv);
    if (store_item_upsert(c->st, repo, it, &changed, err) != DP_OK) return DP_ERR;
    if (!changed) return DP_OK;
    c->stats->items_written++;
    /* References written in the text (Jira keys of the same project on
     * Jira). URLs in the text name the repository the data came from,
     * which --repo may have renamed. */
    const char *rn = repo_name ? repo_name : c->repo_name;
    ingest_links_from_text(it->key, it->kind, it->body, rn, "body", links);
    for (size_t i = 0; i < cv->n; i++)
        ingest_links_from_text(it->key, it->kind, cv->v[i].body, rn, "comment", links);
    if (!strcmp(kind, "github") && set_label_colors(c, repo, obj, err) != DP_OK) return DP_ERR;
    if (add_comments(c, repo, cv, err) != DP_OK) return DP_ERR;
    return add_links(c, repo, links, err);
}

/* A stand-alone comment (REST comments file): always written; the store
 * upserts by tracker id. Its item's kind is unknown here and does not
 * matter: comment text never yields LINK_FIXES. */
static int write_comment(ictx *c, json_t *obj, dp_err *err)
{
    comment cm;
    link_vec links = {0};
    char *repo_name = NULL;
    int64_t repo;
    int rc = DP_ERR;
    if (ingest_github_comment(obj, &cm, &repo_name, err) != DP_OK ||
        repo_for(c, repo_name, "github", &repo, err) != DP_OK ||
        store_comment_upsert(c->st, repo, &cm, err) != DP_OK)
        goto done;
    c->stats->comments++;
    check_comment_dates(c, &cm);
    ingest_links_from_text(cm.item_key, ITEM_ISSUE, cm.body, repo_name ? repo_name : c->repo_name,
                           "comment", &links);
    rc = add_links(c, repo, &links, err);
done:
    comment_free(&cm);
    link_vec_free(&links);
    free(repo_name);
    return rc;
}

static int convert_and_write(ictx *c, json_t *obj, dp_err *err)
{
    item it;
    comment_vec cv = {0};
    link_vec links = {0};
    char *repo_name = NULL;
    int rc = DP_ERR;
    item_init(&it);
    switch (c->fmt) {
    case INGEST_COMMENTS:
        return write_comment(c, obj, err);
    case INGEST_GITHUB:
        if (ingest_github_item(obj, &it, &repo_name, err) == DP_OK)
            rc = write_item(c, obj, &it, repo_name, "github", &cv, &links, err);
        break;
    case INGEST_GH_CLI:
        if (ingest_gh_item(obj, &it, &cv, &repo_name, err) == DP_OK)
            rc = write_item(c, obj, &it, repo_name, "github", &cv, &links, err);
        break;
    case INGEST_JIRA:
        if (ingest_jira_item(obj, &it, &cv, &links, err) == DP_OK) {
            repo_name = ingest_jira_project(it.key);
            rc = write_item(c, obj, &it, repo_name, "jira", &cv, &links, err);
        }
        break;
    default:
        rc = dp_fail(err, "cannot detect the format (use --format github|gh|comments|jira)");
    }
    item_free(&it);
    comment_vec_free(&cv);
    link_vec_free(&links);
    free(repo_name);
    return rc;
}

/* jansson's own wording for a "\u0000" escape names a parser flag. */
static const char *json_error_text(const json_error_t *je)
{
    if (strstr(je->text, "JSON_ALLOW_NUL")) return "string contains \\u0000 (a NUL character)";
    return je->text;
}

static int process_record(ictx *c, const ingest_record *r, size_t *line, uint64_t *off,
                          dp_err *err)
{
    json_error_t je;
    json_t *obj = json_loadb(r->data, r->len, 0, &je);
    *line = c->line = r->line;
    *off = c->off = r->offset;
    if (!obj) {
        /* Point at the bad byte itself, not just at the record. */
        if (je.line > 0) *line = r->line + (size_t)je.line - 1;
        if (je.position > 0) *off = r->offset + (uint64_t)je.position;
        return dp_fail(err, "invalid JSON: %s", json_error_text(&je));
    }
    if (c->fmt == INGEST_AUTO) c->fmt = ingest_format_detect(obj);
    int rc = convert_and_write(c, obj, err);
    json_decref(obj);
    return rc;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return strcmp(path, "-") && stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

int ingest_file(store *st, const char *path, const ingest_opts *opts, ingest_stats *stats,
                dp_err *err)
{
    ingest_split *sp;
    ingest_record r;
    ictx c = {.st = st, .opts = opts, .stats = stats, .fmt = opts->format, .path = path,
              .now = opts->now ? opts->now : (int64_t)time(NULL)};
    uint64_t total = file_size(path), off = 0;
    size_t line = 0, nrec = 0;
    int rc;
    dp_err e;
    if (ingest_split_open(path, &sp, err) != DP_OK) return DP_ERR;
    while ((rc = ingest_split_next(sp, &r, &e)) == DP_OK) {
        if (process_record(&c, &r, &line, &off, &e) != DP_OK) {
            rc = DP_ERR;
            goto fail;
        }
        if (++nrec % PROGRESS_EVERY == 0 && opts->progress)
            opts->progress(opts->progress_ctx, path, ingest_split_raw_offset(sp), total);
    }
    if (rc == DP_ERR) {
        ingest_split_where(sp, &line, &off);
        goto fail;
    }
    rc = DP_OK;
    if (nrec == 0 && opts->warn) {   /* valid, but most likely an export that failed */
        char *msg = xasprintf("%s: no records (an empty file or an empty list)", path);
        opts->warn(opts->warn_ctx, msg);
        free(msg);
    }
    if (opts->progress) opts->progress(opts->progress_ctx, path, total, total);
    goto done;
fail:
    dp_fail(err, "%s:%zu (byte %llu): %s", path, line, (unsigned long long)off, e.msg);
done:
    stats->bytes += ingest_split_bytes(sp);
    ingest_split_close(sp);
    free(c.repo_name);
    seen_free(&c.labels);
    return rc;
}
