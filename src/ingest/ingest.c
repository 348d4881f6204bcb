/* ingest.c -- ingest_file(): one export file into the store, record by
 * record (see ingest.h). The splitter cuts records, jansson parses one at a
 * time, a converter turns it into items/comments/links, the store writes
 * them: the first three on a reader thread, the writes on the caller's (see
 * "the pipeline" below). Every error is prefixed with "file:line (byte N): ".
 */
#include "ingest.h"

#include "../common/hashmap.h"

#include <pthread.h>
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
    strvec keys;        /* "repo\x1fname\x1fcolor", in first-seen order */
    dp_idxmap map;      /* over keys */
} label_seen;

static uint64_t seen_hash(const void *ctx, uint32_t entry)
{
    return dp_hash_str(((const label_seen *)ctx)->keys.v[entry]);
}

/* Returns 1 when key was new (and remembers it); takes key. */
static int seen_add(label_seen *ls, char *key)
{
    dp_idxmap_reserve(&ls->map, ls->map.n + 1, seen_hash, ls);
    size_t s;
    for (s = dp_idxmap_first(&ls->map, dp_hash_str(key)); ls->map.slot[s]; s = dp_idxmap_step(&ls->map, s))
        if (!strcmp(ls->keys.v[ls->map.slot[s] - 1], key)) {
            free(key);
            return 0;
        }
    dp_idxmap_put(&ls->map, s, (uint32_t)ls->keys.n);
    sv_push_owned(&ls->keys, key);
    return 1;
}

static void seen_free(label_seen *ls)
{
    sv_free(&ls->keys);
    dp_idxmap_free(&ls->map);
}

/* ---- one file ----------------------------------------------------------- */

typedef struct ictx {
    store *st;
    const ingest_opts *opts;
    ingest_stats *stats;
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

/* ---- the pipeline ---------------------------------------------------------
 * Two threads: a reader inflates, splits, parses and converts records into
 * `prep`s -- everything that needs no store, which is most of the CPU time
 * (jansson alone was a third) -- and the caller's thread writes them to the
 * store in file order, so the store sees exactly the calls a one-thread
 * import made, in the same order, and the first bad record in file order
 * is the one reported. A reader error travels down the queue as a record
 * of its own. The queue is bounded in records and in the bytes of JSON they
 * came from, so memory stays a few records, also with 16 MiB ones. */

enum { P_ITEM, P_COMMENT, P_ERR, P_END };

typedef struct prep {
    int kind;
    size_t line;              /* of the record (P_ERR: of the bad byte) */
    uint64_t off, raw, bytes; /* byte offset; file position; JSON bytes */
    item it;                  /* P_ITEM */
    comment cm;               /* P_COMMENT */
    comment_vec cv;
    link_vec links;           /* converter's links, then those in the text */
    char *repo_name;          /* from the data, may be NULL */
    const char *repo_kind;    /* "github" or "jira" */
    strvec lnames, lcolors;   /* label colours (github items) */
    char *err;                /* P_ERR */
} prep;

static void prep_free(prep *p)
{
    item_free(&p->it);
    comment_free(&p->cm);
    comment_vec_free(&p->cv);
    link_vec_free(&p->links);
    free(p->repo_name);
    sv_free(&p->lnames);
    sv_free(&p->lcolors);
    free(p->err);
    memset(p, 0, sizeof *p);
}

#define QUEUE_RECORDS 64
#define QUEUE_BYTES (32u << 20)

typedef struct pipe_q {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    prep slot[QUEUE_RECORDS];
    size_t head, n;           /* ring */
    uint64_t bytes;           /* JSON bytes of the records queued */
    int stop;                 /* the writer gave up: the reader stops */
} pipe_q;

typedef struct reader {
    pipe_q q;
    ingest_split *sp;
    const ingest_opts *opts;
    ingest_format fmt;
} reader;

/* Queues p (moved); waits while the queue is full. 0 when the writer has
 * stopped (p is freed). */
static int q_put(pipe_q *q, prep *p)
{
    pthread_mutex_lock(&q->mu);
    while (!q->stop && (q->n == QUEUE_RECORDS || (q->n && q->bytes + p->bytes > QUEUE_BYTES)))
        pthread_cond_wait(&q->cv, &q->mu);
    int ok = !q->stop;
    if (ok) {
        q->slot[(q->head + q->n) % QUEUE_RECORDS] = *p;
        q->n++;
        q->bytes += p->bytes;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok) prep_free(p);
    return ok;
}

static void q_get(pipe_q *q, prep *out)
{
    pthread_mutex_lock(&q->mu);
    while (!q->n) pthread_cond_wait(&q->cv, &q->mu);
    *out = q->slot[q->head];
    q->head = (q->head + 1) % QUEUE_RECORDS;
    q->n--;
    q->bytes -= out->bytes;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void q_stop(pipe_q *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* jansson's own wording for a "\u0000" escape names a parser flag. */
static const char *json_error_text(const json_error_t *je)
{
    if (strstr(je->text, "JSON_ALLOW_NUL")) return "string contains \\u0000 (a NUL character)";
    return je->text;
}

/* References written in the text (Jira keys of the same project on Jira).
 * URLs in the text name the repository the data came from, which --repo
 * may have renamed; without one in the data, --repo is the name. */
static void text_links(prep *p, const ingest_opts *opts)
{
    const char *rn = p->repo_name ? p->repo_name : opts->repo;
    if (p->kind == P_COMMENT) {
        ingest_links_from_text(p->cm.item_key, ITEM_ISSUE, p->cm.body, rn, "comment", &p->links);
        return;
    }
    ingest_links_from_text(p->it.key, p->it.kind, p->it.body, rn, "body", &p->links);
    for (size_t i = 0; i < p->cv.n; i++)
        ingest_links_from_text(p->it.key, p->it.kind, p->cv.v[i].body, rn, "comment", &p->links);
}

/* One parsed record into p (p->kind P_ITEM or P_COMMENT); DP_ERR with err
 * filled otherwise. */
static int convert(reader *rd, json_t *obj, prep *p, dp_err *err)
{
    item_init(&p->it);
    p->kind = P_ITEM;
    p->repo_kind = "github";
    switch (rd->fmt) {
    case INGEST_COMMENTS:
        p->kind = P_COMMENT;
        /* Its item's kind is unknown here and does not matter: comment
         * text never yields LINK_FIXES. */
        if (ingest_github_comment(obj, &p->cm, &p->repo_name, err) != DP_OK) return DP_ERR;
        break;
    case INGEST_GITHUB:
        if (ingest_github_item(obj, &p->it, &p->repo_name, err) != DP_OK) return DP_ERR;
        ingest_github_label_colors(obj, &p->lnames, &p->lcolors);
        break;
    case INGEST_GH_CLI:
        if (ingest_gh_item(obj, &p->it, &p->cv, &p->repo_name, err) != DP_OK) return DP_ERR;
        ingest_github_label_colors(obj, &p->lnames, &p->lcolors);
        break;
    case INGEST_JIRA:
        if (ingest_jira_item(obj, &p->it, &p->cv, &p->links, err) != DP_OK) return DP_ERR;
        p->repo_name = ingest_jira_project(p->it.key);
        p->repo_kind = "jira";
        break;
    default:
        return dp_fail(err, "cannot detect the format (use --format github|gh|comments|jira)");
    }
    text_links(p, rd->opts);
    return DP_OK;
}

/* Parses and converts one record; a bad one becomes a P_ERR. */
static void prepare(reader *rd, const ingest_record *r, prep *p)
{
    json_error_t je;
    dp_err e;
    memset(p, 0, sizeof *p);
    p->line = r->line;
    p->off = r->offset;
    p->raw = ingest_split_raw_offset(rd->sp);
    p->bytes = r->len;
    json_t *obj = json_loadb(r->data, r->len, 0, &je);
    if (!obj) {
        /* Point at the bad byte itself, not just at the record. */
        if (je.line > 0) p->line = r->line + (size_t)je.line - 1;
        if (je.position > 0) p->off = r->offset + (uint64_t)je.position;
        dp_fail(&e, "invalid JSON: %s", json_error_text(&je));
    } else {
        if (rd->fmt == INGEST_AUTO) rd->fmt = ingest_format_detect(obj);
        if (convert(rd, obj, p, &e) == DP_OK) {
            json_decref(obj);
            return;
        }
        json_decref(obj);
    }
    size_t line = p->line;
    uint64_t off = p->off;
    prep_free(p);
    *p = (prep){.kind = P_ERR, .line = line, .off = off, .err = xstrdup(e.msg)};
}

static void *reader_main(void *arg)
{
    reader *rd = arg;
    ingest_record r;
    dp_err e;
    for (;;) {
        prep p;
        int rc = ingest_split_next(rd->sp, &r, &e);
        if (rc == DP_OK) {
            prepare(rd, &r, &p);
        } else {
            memset(&p, 0, sizeof p);
            p.kind = rc == DP_NOTFOUND ? P_END : P_ERR;
            if (rc != DP_NOTFOUND) {
                ingest_split_where(rd->sp, &p.line, &p.off);
                p.err = xstrdup(e.msg);
            }
        }
        int last = p.kind == P_END || p.kind == P_ERR;
        if (!q_put(&rd->q, &p) || last) return NULL;
    }
}

/* ---- the writer: the store calls, in file order ----------------------- */

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

static int set_label_colors(ictx *c, int64_t repo, const prep *p, dp_err *err)
{
    int rc = DP_OK;
    for (size_t i = 0; i < p->lnames.n && rc == DP_OK; i++)
        if (seen_add(&c->labels, xasprintf("%lld\x1f%s\x1f%s", (long long)repo, p->lnames.v[i],
                                           p->lcolors.v[i])))
            rc = store_label_color_set(c->st, repo, p->lnames.v[i], p->lcolors.v[i], err);
    return rc;
}

/* Writes one item; comments, links and label colours follow only when the
 * store took the item, so a re-import of unchanged data writes nothing. */
static int write_item(ictx *c, prep *p, dp_err *err)
{
    int64_t repo;
    int changed = 0;
    if (repo_for(c, p->repo_name, p->repo_kind, &repo, err) != DP_OK) return DP_ERR;
    c->stats->items++;
    check_item_dates(c, &p->it, &p->cv);
    if (store_item_upsert(c->st, repo, &p->it, &changed, err) != DP_OK) return DP_ERR;
    if (!changed) return DP_OK;
    c->stats->items_written++;
    if (set_label_colors(c, repo, p, err) != DP_OK) return DP_ERR;
    if (add_comments(c, repo, &p->cv, err) != DP_OK) return DP_ERR;
    return add_links(c, repo, &p->links, err);
}

/* A stand-alone comment (REST comments file): always written; the store
 * upserts by tracker id. */
static int write_comment(ictx *c, prep *p, dp_err *err)
{
    int64_t repo;
    if (repo_for(c, p->repo_name, "github", &repo, err) != DP_OK ||
        store_comment_upsert(c->st, repo, &p->cm, err) != DP_OK)
        return DP_ERR;
    c->stats->comments++;
    check_comment_dates(c, &p->cm);
    return add_links(c, repo, &p->links, err);
}

static int write_prep(ictx *c, prep *p, dp_err *err)
{
    c->line = p->line;
    c->off = p->off;
    if (p->kind == P_ERR) return dp_fail(err, "%s", p->err);
    return p->kind == P_COMMENT ? write_comment(c, p, err) : write_item(c, p, err);
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return strcmp(path, "-") && stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

int ingest_file(store *st, const char *path, const ingest_opts *opts, ingest_stats *stats,
                dp_err *err)
{
    ictx c = {.st = st, .opts = opts, .stats = stats, .path = path,
              .now = opts->now ? opts->now : (int64_t)time(NULL)};
    reader rd = {.opts = opts, .fmt = opts->format};
    uint64_t total = file_size(path);
    size_t nrec = 0;
    int rc = DP_OK;
    dp_err e;
    pthread_t th;
    if (ingest_split_open(path, &rd.sp, err) != DP_OK) return DP_ERR;
    pthread_mutex_init(&rd.q.mu, NULL);
    pthread_cond_init(&rd.q.cv, NULL);
    if (pthread_create(&th, NULL, reader_main, &rd) != 0) {
        rc = dp_fail(err, "%s: cannot start the reader thread", path);
        goto out;
    }
    for (;;) {
        prep p;
        q_get(&rd.q, &p);
        if (p.kind == P_END) break;
        uint64_t raw = p.raw;
        rc = write_prep(&c, &p, &e);
        prep_free(&p);
        if (rc != DP_OK) {
            dp_fail(err, "%s:%zu (byte %llu): %s", path, c.line, (unsigned long long)c.off, e.msg);
            break;
        }
        if (++nrec % PROGRESS_EVERY == 0 && opts->progress)
            opts->progress(opts->progress_ctx, path, raw, total);
    }
    q_stop(&rd.q);
    pthread_join(th, NULL);
    while (rd.q.n) {   /* what the reader queued after the writer stopped */
        prep p;
        q_get(&rd.q, &p);
        prep_free(&p);
    }
    if (rc == DP_OK) {
        if (nrec == 0 && opts->warn) {   /* valid, but most likely an export that failed */
            char *msg = xasprintf("%s: no records (an empty file or an empty list)", path);
            opts->warn(opts->warn_ctx, msg);
            free(msg);
        }
        if (opts->progress) opts->progress(opts->progress_ctx, path, total, total);
    }
out:
    stats->bytes += ingest_split_bytes(rd.sp);
    ingest_split_close(rd.sp);
    pthread_cond_destroy(&rd.q.cv);
    pthread_mutex_destroy(&rd.q.mu);
    free(c.repo_name);
    seen_free(&c.labels);
    return rc;
}
