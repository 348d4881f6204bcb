/* ingest.c -- ingest_file(): one export file into the store, record by
 * record (see ingest.h). The splitter cuts records, the picking parser
 * (pick.c; GitHub shapes) or jansson parses them, a
 * converter turns each into items/comments/links, the store writes them:
 * the first on a reader thread, the next two on parser threads, the writes
 * on the caller's (see "the pipeline" below). Every error is prefixed with
 * "file:line (byte N): ".
 */
#include "ingest.h"
#include "ingest_int.h"

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
    sbuf probe;         /* the key being looked up, reused */
} label_seen;

static uint64_t seen_hash(const void *ctx, uint32_t entry)
{
    return dp_hash_str(((const label_seen *)ctx)->keys.v[entry]);
}

/* Returns 1 when the key of (repo, name, color) was new, and remembers it.
 * The key is built in a buffer kept across calls and copied only when new:
 * nearly every label of an import was seen before, and a formatted,
 * allocated and freed key per label was a twentieth of the writer's time. */
static int seen_add(label_seen *ls, int64_t repo, const char *name, const char *color)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)repo);
    sb_reset(&ls->probe);
    sb_adds(&ls->probe, num);
    sb_addc(&ls->probe, '\x1f');
    sb_adds(&ls->probe, name ? name : "(null)");
    sb_addc(&ls->probe, '\x1f');
    sb_adds(&ls->probe, color ? color : "(null)");
    const char *key = sb_str(&ls->probe);
    dp_idxmap_reserve(&ls->map, ls->map.n + 1, seen_hash, ls);
    size_t s;
    for (s = dp_idxmap_first(&ls->map, dp_hash_str(key)); ls->map.slot[s]; s = dp_idxmap_step(&ls->map, s))
        if (!strcmp(ls->keys.v[ls->map.slot[s] - 1], key)) return 0;
    dp_idxmap_put(&ls->map, s, (uint32_t)ls->keys.n);
    sv_push(&ls->keys, key);
    return 1;
}

static void seen_free(label_seen *ls)
{
    sv_free(&ls->keys);
    dp_idxmap_free(&ls->map);
    sb_free(&ls->probe);
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
    size_t batches;           /* written, for store_writeback */
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
 * A reader thread inflates the file and cuts it into batches of records (up
 * to a MiB of JSON each); parser threads parse and convert whole
 * batches into `prep`s -- everything that needs no store, jansson most of
 * it -- and the caller's thread writes the batches to the store in file
 * order. The store thus sees exactly the calls a one-thread import made, in
 * the same order, and the first bad record in file order is the one
 * reported; a reader error travels as the tail of its batch. Records
 * travel in batches so that the threads meet (a lock, a wake-up: system
 * calls, dear on this kind of VM) once per batch, not once per record.
 * At most PIPE_BATCHES batches and PIPE_BYTES of their JSON are in flight,
 * so memory stays tens of MB, also with 16 MiB records. The parsers, not
 * the writer, free the batches written: the writer is the one thread that
 * bounds the time of an import, and the reader and parsers run as its
 * feeders (dp_thread_feeder), which never preempt it. */

enum { P_ITEM, P_COMMENT, P_ERR, P_END };

typedef struct prep {
    int kind;
    size_t line;              /* of the record (P_ERR: of the bad byte) */
    uint64_t off, raw;        /* byte offset; file position */
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

/* A batch of 1,024 records or 1 MiB of JSON: a 250k-item import (487 MB)
 * took 5.15 s with batches of 256 records or 256 KiB, 4.59 s with these
 * (medians of 5, alternated): the threads met four times as often, and
 * each wake-up could preempt the writer; 2,048 gained 0.1 s more for
 * +40 MB resident. (The unit tests' file-order cases assume 1,024.) */
#define BATCH_RECORDS 1024
#define BATCH_BYTES (1024u << 10)
#define PIPE_BATCHES 8
#define PIPE_BYTES (32u << 20)
/* The store file's written pages are sent to disk every this many batches
 * (~8 MB of JSON), so the commit's fsync has little left to wait for
 * (store_writeback): 250k items 4.99 -> 4.61 s (medians of 5, alternated). */
#define WRITEBACK_BATCHES 8
/* Parser threads. Two keep a parser from being the bottleneck on two
 * cores while the writer waits on SQLite's I/O; more would only add
 * batches in flight. */
#define PIPE_PARSERS 2

typedef struct rec_pos {
    size_t at, len;           /* in the batch's json */
    size_t line;
    uint64_t off, raw;        /* byte offset; file position after it */
} rec_pos;

typedef struct batch {
    sbuf json;                /* the records' bytes, back to back */
    rec_pos *pos;
    size_t n, cap;
    prep *out;                /* parsed: nout preps for the first records */
    size_t nout;              /* (parsing stops at a bad record) */
    int last;                 /* tail (P_END or P_ERR) follows the records */
    prep tail;
    int parsed;
    struct batch *next;       /* on the list of batches written */
} batch;

static void batch_free(batch *b)
{
    while (b) {
        batch *next = b->next;
        for (size_t i = 0; i < b->nout; i++) prep_free(&b->out[i]);
        prep_free(&b->tail);
        free(b->out);
        free(b->pos);
        sb_free(&b->json);
        free(b);
        b = next;
    }
}

typedef struct ipipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* any change below; waiters re-check */
    batch *ring[PIPE_BATCHES];   /* batches nwrite..nread-1, by number */
    uint64_t nread, nparse, nwrite;   /* batches published, taken by a parser, written */
    uint64_t bytes;           /* JSON bytes of the batches in flight */
    int read_done;            /* the reader published its last batch, or stopped */
    int stop;                 /* the writer gave up */
    batch *written;           /* for a parser to free */
    double cpu_read, cpu_parse;   /* thread CPU seconds, added at thread end */
    /* set before the reader starts, or (fmt) before it publishes a batch: */
    ingest_split *sp;
    const ingest_opts *opts;
    ingest_format fmt;
} ipipe;

static double thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
static int convert(const ipipe *pp, json_t *obj, prep *p, dp_err *err)
{
    item_init(&p->it);
    p->kind = P_ITEM;
    p->repo_kind = "github";
    switch (pp->fmt) {
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
    text_links(p, pp->opts);
    return DP_OK;
}

/* The members the format's converter reads, for the picking parser; NULL
 * for Jira, whose converter reads much of a record (and the format of a
 * file not yet detected). */
static const ij_keep *keep_of(ingest_format fmt)
{
    switch (fmt) {
    case INGEST_GITHUB: return ij_keep_github_item;
    case INGEST_GH_CLI: return ij_keep_gh_item;
    case INGEST_COMMENTS: return ij_keep_github_comment;
    default: return NULL;
    }
}

/* The fast way: only the members the converter reads (ij_pick). 0 when
 * the record needs jansson's full parse -- also when the converter
 * refused it, so that every message comes from the one full path. */
static int prepare_picked(const ipipe *pp, const char *data, size_t len, prep *p)
{
    const ij_keep *keep = keep_of(pp->fmt);
    if (!keep) return 0;
    /* The picked values live only until convert has copied what it
     * needs out of them (see ij_arena_begin). */
    ij_arena_begin();
    json_t *obj = ij_pick(data, len, keep);
    dp_err e;
    int rc = obj ? convert(pp, obj, p, &e) : DP_ERR;
    json_decref(obj);
    ij_arena_end();
    if (!obj) return 0;
    if (rc == DP_OK) return 1;
    prep keep_pos = {.line = p->line, .off = p->off, .raw = p->raw};
    prep_free(p);
    *p = keep_pos;
    return 0;
}

/* Parses and converts one record; a bad one becomes a P_ERR. */
static void prepare(const ipipe *pp, const char *data, const rec_pos *r, prep *p)
{
    json_error_t je;
    dp_err e;
    memset(p, 0, sizeof *p);
    p->line = r->line;
    p->off = r->off;
    p->raw = r->raw;
    if (prepare_picked(pp, data, r->len, p)) return;
    json_t *obj = json_loadb(data, r->len, 0, &je);
    if (!obj) {
        /* Point at the bad byte itself, not just at the record. */
        if (je.line > 0) p->line = r->line + (size_t)je.line - 1;
        if (je.position > 0) p->off = r->off + (uint64_t)je.position;
        dp_fail(&e, "invalid JSON: %s", json_error_text(&je));
    } else {
        int rc = convert(pp, obj, p, &e);
        json_decref(obj);
        if (rc == DP_OK) return;
    }
    size_t line = p->line;
    uint64_t off = p->off;
    prep_free(p);
    *p = (prep){.kind = P_ERR, .line = line, .off = off, .err = xstrdup(e.msg)};
}

static void parse_batch(const ipipe *pp, batch *b)
{
    b->out = xcalloc(b->n ? b->n : 1, sizeof *b->out);
    for (size_t i = 0; i < b->n; i++) {
        prepare(pp, b->json.s + b->pos[i].at, &b->pos[i], &b->out[i]);
        b->nout = i + 1;
        if (b->out[i].kind == P_ERR) break;   /* the writer stops here */
    }
}

/* The format of a file without --format is that of its first record: the
 * reader looks at it before any parser needs it. A first record that is
 * not JSON, or of no known shape, leaves it undetected, and that record
 * then fails with the reason. */
static void detect_format(ipipe *pp, const ingest_record *r)
{
    json_t *obj = json_loadb(r->data, r->len, 0, NULL);
    if (obj) pp->fmt = ingest_format_detect(obj);
    json_decref(obj);
}

/* Fills b with the next records. Returns 1 when the input ended (or
 * failed) with it: b->tail says how. */
static int read_batch(ipipe *pp, batch *b, int first)
{
    ingest_record r;
    dp_err e;
    while (b->n < BATCH_RECORDS && b->json.len < BATCH_BYTES) {
        int rc = ingest_split_next(pp->sp, &r, &e);
        if (rc != DP_OK) {
            b->last = 1;
            b->tail.kind = rc == DP_NOTFOUND ? P_END : P_ERR;
            if (rc != DP_NOTFOUND) {
                ingest_split_where(pp->sp, &b->tail.line, &b->tail.off);
                b->tail.err = xstrdup(e.msg);
            }
            return 1;
        }
        if (first && b->n == 0 && pp->fmt == INGEST_AUTO) detect_format(pp, &r);
        if (b->n == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 32;
            b->pos = xrealloc(b->pos, b->cap * sizeof *b->pos);
        }
        b->pos[b->n++] = (rec_pos){.at = b->json.len, .len = r.len, .line = r.line,
                                   .off = r.offset, .raw = ingest_split_raw_offset(pp->sp)};
        sb_add(&b->json, r.data, r.len);
    }
    return 0;
}

/* Hands b to the parsers; waits while too much is in flight. 0 when the
 * writer has stopped (b is the caller's to free). */
static int publish(ipipe *pp, batch *b)
{
    pthread_mutex_lock(&pp->mu);
    while (!pp->stop && (pp->nread - pp->nwrite == PIPE_BATCHES ||
                         (pp->nread > pp->nwrite && pp->bytes + b->json.len > PIPE_BYTES)))
        pthread_cond_wait(&pp->cv, &pp->mu);
    int ok = !pp->stop;
    if (ok) {
        pp->ring[pp->nread % PIPE_BATCHES] = b;
        pp->nread++;
        pp->bytes += b->json.len;
        pthread_cond_broadcast(&pp->cv);
    }
    pthread_mutex_unlock(&pp->mu);
    return ok;
}

static void *reader_main(void *arg)
{
    ipipe *pp = arg;
    dp_thread_feeder("dp-read");
    for (int first = 1;; first = 0) {
        batch *b = xcalloc(1, sizeof *b);
        sb_init(&b->json);
        int last = read_batch(pp, b, first);
        if (!publish(pp, b)) {
            batch_free(b);
            break;
        }
        if (last) break;
    }
    double cpu = thread_cpu();
    pthread_mutex_lock(&pp->mu);
    pp->read_done = 1;
    pp->cpu_read += cpu;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

static void *parser_main(void *arg)
{
    ipipe *pp = arg;
    dp_thread_feeder("dp-parse");
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        batch *done = pp->written, *b = NULL;
        pp->written = NULL;
        if (!pp->stop && pp->nparse < pp->nread) b = pp->ring[pp->nparse++ % PIPE_BATCHES];
        if (!b && !done) {
            if (pp->stop || pp->read_done) break;
            pthread_cond_wait(&pp->cv, &pp->mu);
            continue;
        }
        pthread_mutex_unlock(&pp->mu);
        batch_free(done);
        if (b) parse_batch(pp, b);
        pthread_mutex_lock(&pp->mu);
        if (b) {
            b->parsed = 1;
            pthread_cond_broadcast(&pp->cv);
        }
    }
    pp->cpu_parse += thread_cpu();
    pthread_mutex_unlock(&pp->mu);
    ij_arena_release();
    return NULL;
}

/* The next batch in file order, once parsed. The reader always publishes
 * a last batch unless the writer stopped it, so this returns. */
static batch *next_parsed(ipipe *pp)
{
    pthread_mutex_lock(&pp->mu);
    while (pp->nwrite == pp->nread || !pp->ring[pp->nwrite % PIPE_BATCHES]->parsed)
        pthread_cond_wait(&pp->cv, &pp->mu);
    batch *b = pp->ring[pp->nwrite % PIPE_BATCHES];
    pthread_mutex_unlock(&pp->mu);
    return b;
}

/* b is written: it leaves the pipeline, for a parser to free. */
static void written(ipipe *pp, batch *b)
{
    pthread_mutex_lock(&pp->mu);
    pp->nwrite++;
    pp->bytes -= b->json.len;
    b->next = pp->written;
    pp->written = b;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

/* Starts the reader and the parsers (*nthreads of them started). */
static int pipe_start(ipipe *pp, pthread_t *th, int *nthreads)
{
    *nthreads = 0;
    if (pthread_create(&th[0], NULL, reader_main, pp) != 0) return DP_ERR;
    *nthreads = 1;
    for (int i = 0; i < PIPE_PARSERS; i++) {
        if (pthread_create(&th[1 + i], NULL, parser_main, pp) != 0) return DP_ERR;
        ++*nthreads;
    }
    return DP_OK;
}

/* Stops and joins the threads, frees what is still in flight. */
static void pipe_finish(ipipe *pp, pthread_t *th, int nthreads)
{
    pthread_mutex_lock(&pp->mu);
    pp->stop = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    for (uint64_t k = pp->nwrite; k < pp->nread; k++) batch_free(pp->ring[k % PIPE_BATCHES]);
    batch_free(pp->written);
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
        if (seen_add(&c->labels, repo, p->lnames.v[i], p->lcolors.v[i]))
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

/* Writes the batches in file order until the end of the input or the first
 * error, which gets the file and position prefix. */
static int write_all(ictx *c, ipipe *pp, uint64_t total, size_t *nrec, dp_err *err)
{
    const ingest_opts *opts = c->opts;
    dp_err e;
    for (;;) {
        batch *b = next_parsed(pp);
        int last = b->last, rc = DP_OK;
        for (size_t i = 0; i < b->nout && rc == DP_OK; i++) {
            rc = write_prep(c, &b->out[i], &e);
            if (rc == DP_OK && ++*nrec % PROGRESS_EVERY == 0 && opts->progress)
                opts->progress(opts->progress_ctx, c->path, b->out[i].raw, total);
        }
        if (rc == DP_OK && last && b->tail.kind == P_ERR) rc = write_prep(c, &b->tail, &e);
        written(pp, b);
        if (rc == DP_OK && ++c->batches % WRITEBACK_BATCHES == 0) store_writeback(c->st);
        if (rc != DP_OK)
            return dp_fail(err, "%s:%zu (byte %llu): %s", c->path, c->line, (unsigned long long)c->off, e.msg);
        if (last) return DP_OK;
    }
}

int ingest_file(store *st, const char *path, const ingest_opts *opts, ingest_stats *stats,
                dp_err *err)
{
    ictx c = {.st = st, .opts = opts, .stats = stats, .path = path,
              .now = opts->now ? opts->now : (int64_t)time(NULL)};
    ipipe pp = {.opts = opts, .fmt = opts->format};
    pthread_t th[1 + PIPE_PARSERS];
    int nthreads, rc;
    uint64_t total = file_size(path);
    size_t nrec = 0;
    double cpu0 = thread_cpu();
    if (ingest_split_open(path, &pp.sp, err) != DP_OK) return DP_ERR;
    ij_arena_setup();
    pthread_mutex_init(&pp.mu, NULL);
    pthread_cond_init(&pp.cv, NULL);
    if (pipe_start(&pp, th, &nthreads) != DP_OK)
        rc = dp_fail(err, "%s: cannot start the reader threads", path);
    else
        rc = write_all(&c, &pp, total, &nrec, err);
    pipe_finish(&pp, th, nthreads);
    if (rc == DP_OK) {
        if (nrec == 0 && opts->warn) {   /* valid, but most likely an export that failed */
            char *msg = xasprintf("%s: no records (an empty file or an empty list)", path);
            opts->warn(opts->warn_ctx, msg);
            free(msg);
        }
        if (opts->progress) opts->progress(opts->progress_ctx, path, total, total);
    }
    stats->bytes += ingest_split_bytes(pp.sp);
    stats->cpu_read += pp.cpu_read;
    stats->cpu_parse += pp.cpu_parse;
    stats->cpu_write += thread_cpu() - cpu0;
    ingest_split_close(pp.sp);
    pthread_cond_destroy(&pp.cv);
    pthread_mutex_destroy(&pp.mu);
    free(c.repo_name);
    seen_free(&c.labels);
    return rc;
}
