/* similar.c -- GET /api/similar: a kept corpus per repository, a rate limit
 * per client, and the request itself. See similar.h. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../analyze/analyze.h"
#include "gate.h"
#include "similar.h"
#include "web_int.h"

/* ---- the kept corpora ---------------------------------------------------- */

/* What the corpus was loaded from: when any of it changes, it is reloaded. */
typedef struct corpus_sig {
    int64_t seq;                   /* store_change_seq of the repository */
    int64_t model_at[2];           /* trained_at of its model and the global one (0: none) */
    size_t model_n[2];
} corpus_sig;

typedef struct kept {
    analyze_corpus co;
    corpus_sig sig;
    size_t refs;                   /* requests using it, + 1 while it is the slot's */
    store *own;                    /* a sparse corpus' own read-only handle, or NULL */
    pthread_mutex_t mu;            /* a sparse corpus: its requests and its filler take turns */
    atomic_int stop;               /* the filler ends before its next chunk */
    int filled;                    /* under mu: the filler read every item */
} kept;

typedef struct slot {
    int64_t repo;
    kept *cur;                     /* NULL until first loaded */
    int loading;                   /* a request is loading a new one */
    double checked;                /* when the store was last asked (dp_now) */
} slot;

/* ---- the rate limit -------------------------------------------------------- */

typedef struct bucket {
    unsigned char key[8];
    unsigned char keylen;          /* 0: free */
    double tokens;
    double at;                     /* when tokens was last brought up to date (s) */
} bucket;

struct web_similar {
    pthread_mutex_t mu;            /* guards everything below */
    pthread_cond_t loaded;         /* a slot's loading ended */
    slot *slots;
    size_t nslots;
    size_t loads;
    size_t fillers;                /* filler threads running */
    pthread_cond_t fill_done;      /* a filler ended */
    bucket *buckets;               /* WEB_SIMILAR_CLIENTS of them */
    double per_s;                  /* refill rate */
    int threads;
};

web_similar *web_similar_new(unsigned per_min, int threads)
{
    web_similar *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->loaded, NULL);
    pthread_cond_init(&s->fill_done, NULL);
    s->buckets = xcalloc(WEB_SIMILAR_CLIENTS, sizeof *s->buckets);
    s->per_s = (per_min ? per_min : WEB_SIMILAR_PER_MIN) / 60.0;
    s->threads = threads;
    return s;
}

static void kept_free(kept *k)
{
    analyze_corpus_free(&k->co);
    store_close(k->own);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* Loads repo's corpus into k. With a persisted index whose stamp vouches
 * for it, sparse (analyze_corpus_open): opening maps the file and reads no
 * item, so the first request costs the items of its pool (50 or so), not
 * the repository's (250k items: seconds). A sparse corpus reads items as
 * requests need them, through a handle of its own (st is the request
 * thread's) under k->mu. An in-memory store, or a file that does not
 * vouch, loads every item (the latter through analyze_corpus_open too). */
static int kept_load(kept *k, store *st, int64_t repo, int threads, dp_err *err)
{
    pthread_mutex_init(&k->mu, NULL);
    char *ipath = analyze_index_path(st, repo);
    int rc;
    if (!ipath) {
        rc = analyze_corpus_load(st, repo, threads, &k->co, err);
    } else {
        rc = store_open_readonly(store_path(st), &k->own, err);
        if (rc == DP_OK) rc = analyze_corpus_open(k->own, repo, threads, &k->co, err);
    }
    free(ipath);
    if (rc != DP_OK) {
        store_close(k->own);
        k->own = NULL;
        pthread_mutex_destroy(&k->mu);
    }
    return rc;
}

int web_similar_sparse(web_similar *s, int64_t repo)
{
    pthread_mutex_lock(&s->mu);
    int sparse = 0;
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].repo == repo && s->slots[i].cur) sparse = s->slots[i].cur->co.sparse;
    pthread_mutex_unlock(&s->mu);
    return sparse;
}

/* Drops one reference (under s->mu); the last one frees the corpus. */
static void kept_release(kept *k)
{
    if (k && --k->refs == 0) kept_free(k);
}

void web_similar_free(web_similar *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].cur) atomic_store(&s->slots[i].cur->stop, 1);
    while (s->fillers) pthread_cond_wait(&s->fill_done, &s->mu);   /* each ends within a chunk */
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->nslots; i++) kept_release(s->slots[i].cur);
    free(s->slots);
    free(s->buckets);
    pthread_cond_destroy(&s->fill_done);
    pthread_cond_destroy(&s->loaded);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

size_t web_similar_loads(web_similar *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->loads;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int web_similar_admit(web_similar *s, const struct sockaddr *sa, int64_t now_ms, unsigned *retry_after_s)
{
    unsigned char key[8];
    unsigned char kl = (unsigned char)gate_addr_key(sa, key);
    if (gate_addr_loopback(sa)) {   /* 127.0.0.1, 127.0.0.2 and ::1 are one client */
        memset(key, 0, sizeof key);
        kl = 1;
    }
    if (!kl) return 1;   /* no address to count by (not an IP socket) */
    double now = (double)now_ms / 1000.0, burst = WEB_SIMILAR_BURST;
    pthread_mutex_lock(&s->mu);
    bucket *b = NULL, *victim = NULL;
    double victim_tokens = 0;
    for (size_t i = 0; i < WEB_SIMILAR_CLIENTS; i++) {
        bucket *c = &s->buckets[i];
        if (c->keylen == kl && !memcmp(c->key, key, kl)) {
            b = c;
            break;
        }
        /* The place a new client takes: a free one, else the fullest bucket
         * (a client with a full bucket loses nothing by being forgotten;
         * one being limited would get a fresh bucket), the least recently
         * seen of equals. */
        double t = c->keylen ? c->tokens + (now > c->at ? now - c->at : 0) * s->per_s : burst + 1;
        if (t > burst && c->keylen) t = burst;
        if (!victim || t > victim_tokens || (t == victim_tokens && c->at < victim->at)) {
            victim = c;
            victim_tokens = t;
        }
    }
    if (!b) {
        b = victim;
        memcpy(b->key, key, kl);
        b->keylen = kl;
        b->tokens = burst;
        b->at = now;
    }
    if (now > b->at) b->tokens += (now - b->at) * s->per_s;
    if (b->tokens > burst) b->tokens = burst;
    b->at = now > b->at ? now : b->at;
    int ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        double wait = (1.0 - b->tokens) / s->per_s;
        *retry_after_s = (unsigned)wait + ((double)(unsigned)wait < wait);
        if (!*retry_after_s) *retry_after_s = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static int read_sig(store *st, int64_t repo, corpus_sig *sig, dp_err *err)
{
    memset(sig, 0, sizeof *sig);
    if (store_change_seq(st, repo, &sig->seq, err) != DP_OK) return DP_ERR;
    int64_t repos[2] = {repo, 0};
    for (int i = 0; i < 2; i++) {
        char *text = NULL;
        int rc = store_model_load(st, repos[i], &text, &sig->model_at[i], &sig->model_n[i], err);
        free(text);
        if (rc == DP_ERR) return DP_ERR;
    }
    return DP_OK;
}

static int sig_eq(const corpus_sig *a, const corpus_sig *b)
{
    return a->seq == b->seq && a->model_at[0] == b->model_at[0] && a->model_at[1] == b->model_at[1] &&
           a->model_n[0] == b->model_n[0] && a->model_n[1] == b->model_n[1];
}

static slot *find_slot(web_similar *s, int64_t repo)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].repo == repo) return &s->slots[i];
    s->slots = xrealloc(s->slots, (s->nslots + 1) * sizeof *s->slots);
    slot *sl = &s->slots[s->nslots++];
    memset(sl, 0, sizeof *sl);
    sl->repo = repo;
    return sl;
}

/* ---- filling a sparse corpus ------------------------------------------- */

/* A sparse corpus answers its first request in about a second at 250k
 * items, but each lookup then reads the items of its pool that no lookup
 * read before (tens of ms). A filler thread reads the rest meanwhile,
 * WEB_SIMILAR_FILL items at a time under the corpus' mutex -- a request
 * waits for one chunk at most -- so that soon every lookup costs what it
 * costs on a corpus loaded whole. It holds a reference to the corpus and
 * stops when the corpus is replaced or the server ends. */
#define WEB_SIMILAR_FILL 2048

static void release(web_similar *s, kept *k);

typedef struct filler {
    web_similar *s;
    kept *k;
} filler;

static void *filler_main(void *arg)
{
    filler *fl = arg;
    web_similar *s = fl->s;
    kept *k = fl->k;
    free(fl);
    size_t next = 0, n = analyze_corpus_ndocs(&k->co);
    while (!atomic_load(&k->stop)) {
        pthread_mutex_lock(&k->mu);
        dp_err err;
        int snap = store_read_begin(k->own, &err) == DP_OK;
        int rc = analyze_corpus_fill(&k->co, next, WEB_SIMILAR_FILL, &next, &err);
        if (snap) store_read_end(k->own);
        int done = rc != DP_OK || next >= n;   /* an error: the requests read as before */
        if (rc == DP_OK && next >= n) k->filled = 1;
        pthread_mutex_unlock(&k->mu);
        if (done) break;
    }
    pthread_mutex_lock(&s->mu);
    kept_release(k);
    s->fillers--;
    pthread_cond_broadcast(&s->fill_done);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Starts k's filler when k is sparse (under s->mu). Without a thread the
 * requests read as they go, as before. */
static void filler_start(web_similar *s, kept *k)
{
    if (!k->co.sparse) return;
    filler *fl = xmalloc(sizeof *fl);
    *fl = (filler){s, k};
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    if (pthread_create(&th, &at, filler_main, fl) == 0) {
        k->refs++;
        s->fillers++;
    } else {
        free(fl);
    }
    pthread_attr_destroy(&at);
}

int web_similar_filled(web_similar *s, int64_t repo)
{
    kept *k = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].repo == repo && s->slots[i].cur) k = s->slots[i].cur;
    if (k) k->refs++;
    pthread_mutex_unlock(&s->mu);
    if (!k) return 0;
    pthread_mutex_lock(&k->mu);
    int filled = k->filled;
    pthread_mutex_unlock(&k->mu);
    release(s, k);
    return filled;
}

/* The repository's corpus, current as of the last check, with a reference
 * the caller gives back with release(). */
static int acquire(web_similar *s, store *st, int64_t repo, kept **out, dp_err *err)
{
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        slot *sl = find_slot(s, repo);
        double now = dp_now();
        if (sl->cur && (sl->loading || now - sl->checked < WEB_SIMILAR_RECHECK_MS / 1000.0)) {
            sl->cur->refs++;   /* fresh enough, or being replaced: the one there is served meanwhile */
            *out = sl->cur;
            pthread_mutex_unlock(&s->mu);
            return DP_OK;
        }
        if (sl->loading) {   /* nothing to serve yet: wait for the load under way */
            pthread_cond_wait(&s->loaded, &s->mu);
            continue;
        }
        sl->loading = 1;
        pthread_mutex_unlock(&s->mu);
        corpus_sig sig;
        int rc = read_sig(st, repo, &sig, err);
        kept *k = NULL;
        pthread_mutex_lock(&s->mu);
        sl = find_slot(s, repo);   /* the array may have moved */
        int same = rc == DP_OK && sl->cur && sig_eq(&sl->cur->sig, &sig);
        pthread_mutex_unlock(&s->mu);
        if (rc == DP_OK && !same) {
            k = xcalloc(1, sizeof *k);
            k->sig = sig;
            rc = kept_load(k, st, repo, s->threads, err);
            if (rc != DP_OK) {
                free(k);
                k = NULL;
            }
        }
        pthread_mutex_lock(&s->mu);
        sl = find_slot(s, repo);
        sl->loading = 0;
        if (rc == DP_OK) {
            sl->checked = dp_now();
            if (k) {
                if (sl->cur) atomic_store(&sl->cur->stop, 1);   /* its filler, if any, ends */
                kept_release(sl->cur);
                k->refs = 1;
                sl->cur = k;
                s->loads++;
                filler_start(s, k);
            }
            sl->cur->refs++;
            *out = sl->cur;
        }
        pthread_cond_broadcast(&s->loaded);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
}

static void release(web_similar *s, kept *k)
{
    pthread_mutex_lock(&s->mu);
    kept_release(k);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the request --------------------------------------------------------- */

/* A 4xx reply with a formatted message. */
static void reply_error(web_reply *out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(web_reply *out, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    web_reply_error(out, status, msg);
}

/* A text parameter within max bytes of UTF-8; else a 400 (or 413) reply. */
static int text_param(const char *v, const char *name, size_t max, web_reply *out)
{
    size_t n = strlen(v), bad;
    if (n > max) {
        reply_error(out, 413, "%s too long: at most %zu bytes", name, max);
        return 0;
    }
    if (!dp_utf8_valid(v, n, &bad)) {
        reply_error(out, 400, "%s is not valid UTF-8", name);
        return 0;
    }
    return 1;
}

/* The repository asked for: an id, a name, or (none given) the only one.
 * Messages name repositories, never the store's path. */
static int pick_repo(store *st, const char *want, int64_t *repo, web_reply *out, dp_err *err)
{
    repo_info *rs = NULL;
    size_t n = 0;
    if (store_repo_list(st, &rs, &n, err) != DP_OK) return DP_ERR;
    *repo = 0;
    for (size_t i = 0; want && i < n && !*repo; i++) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)rs[i].id);
        if (!strcmp(want, id) || (rs[i].name && !strcmp(want, rs[i].name))) *repo = rs[i].id;
    }
    if (!want && n == 1) *repo = rs[0].id;
    if (!*repo) {
        sbuf names;
        sb_init(&names);
        for (size_t i = 0; i < n && i < 10; i++) sb_printf(&names, "%s%s", i ? ", " : "", rs[i].name ? rs[i].name : "?");
        if (want) reply_error(out, 404, "no repository '%.100s' in the store", want);
        else if (!n) reply_error(out, 404, "no repository in the store yet");
        else reply_error(out, 400, "%zu repositories: give repo (%.150s)", n, sb_str(&names));
        sb_free(&names);
    }
    for (size_t i = 0; i < n; i++) repo_info_free(&rs[i]);
    free(rs);
    return DP_OK;
}

int web_similar_handle(web_similar *s, store *st, const web_param *params, size_t nparams, web_reply *out,
                       dp_err *err)
{
    memset(out, 0, sizeof *out);
    const char *title = web_param_get(params, nparams, "title"), *body = web_param_get(params, nparams, "body");
    const char *kv = web_param_get(params, nparams, "k"), *rv = web_param_get(params, nparams, "repo");
    size_t k = 5;
    if (kv) {
        char *end;
        errno = 0;
        long v = strtol(kv, &end, 10);
        if (errno || *end || !isdigit((unsigned char)*kv) || v < 1 || v > WEB_SIMILAR_MAX_K) {
            reply_error(out, 400, "k wants a number from 1 to %d", WEB_SIMILAR_MAX_K);
            return DP_OK;
        }
        k = (size_t)v;
    }
    int blank = 1;
    for (const char *t = title; t && *t && blank; t++) blank = isspace((unsigned char)*t);
    if (!title || blank) {
        reply_error(out, 400, "give the new issue's title: /api/similar?title=...&body=...");
        return DP_OK;
    }
    if (!text_param(title, "title", WEB_SIMILAR_MAX_TITLE, out) ||
        (body && !text_param(body, "body", WEB_SIMILAR_MAX_BODY, out)))
        return DP_OK;
    int64_t repo;
    if (pick_repo(st, rv, &repo, out, err) != DP_OK) return DP_ERR;
    if (!repo) return DP_OK;
    kept *kp;
    if (acquire(s, st, repo, &kp, err) != DP_OK) return DP_ERR;
    item it;
    analyze_new_item(title, body, NULL, (int64_t)time(NULL), &it);
    pair_vec pv = {0};
    /* a sparse corpus fills in as it ranks: one request at a time, its
     * reads in one snapshot of the store */
    int sparse = kp->co.sparse, snap = 0;
    if (sparse) {
        pthread_mutex_lock(&kp->mu);
        dp_err e;
        snap = store_read_begin(kp->own, &e) == DP_OK;
    }
    int rc = analyze_similar_item(&kp->co, &it, k, it.created_at, &pv, err);
    json_t *j = rc == DP_OK ? analyze_similar_json(&kp->co, &it, &pv) : NULL;
    if (snap) store_read_end(kp->own);
    if (sparse) pthread_mutex_unlock(&kp->mu);
    if (rc != DP_OK) {
        pair_vec_free(&pv);
        item_free(&it);
        release(s, kp);
        return DP_ERR;
    }
    json_object_set_new(j, "repo", json_pack("{s:I,s:s?}", "id", (json_int_t)repo, "name", kp->co.repo_name));
    web_reply_json(out, 200, j);
    pair_vec_free(&pv);
    item_free(&it);
    release(s, kp);
    return DP_OK;
}
