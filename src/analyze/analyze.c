/* analyze.c -- see analyze.h: corpus loading, parallel ranking, pair
 * selection and orientation, parallel explaining, atomic replacement. */
#include <errno.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "analyze.h"
#include "analyze_cands.h"
#include "analyze_pack.h"

#define KV_SEQ "analyze.change_seq"      /* store change sequence analysed */
#define KV_OLD_WATERMARK "analyze.max_updated"   /* its predecessor, dropped on save */
#define KV_SIGNATURE "analyze.signature"
#define KV_LAST_RUN "analyze.last_run"
#define KV_NITEMS "analyze.nitems"
#define KV_INDEX_ID "index_file.id"      /* the store's id in persisted index stamps (index.h) */
#define KV_AVGLEN "index.avglen_record"  /* statistics of record (index.h): average field lengths */
/* Snapshot saving: after a build that analysed at least this share of the
 * docs (or this many). Between saves each run re-analyses the docs changed
 * since the last save -- cheap while they are few. */
#define SNAP_RESAVE_SHARE 100
#define SNAP_RESAVE_MIN 256

/* ---- corpus ------------------------------------------------------------ */

/* Keeps only live items, in place, so docs are the tracker's real items. */
static void drop_deleted(item_vec *v)
{
    size_t o = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->v[i].deleted) {
            item_free(&v->v[i]);
            continue;
        }
        if (o != i) v->v[o] = v->v[i];
        o++;
    }
    v->n = o;
}

static int load_repo_info(store *st, analyze_corpus *co, dp_err *err)
{
    repo_info *r = NULL;
    size_t n = 0;
    if (store_repo_list(st, &r, &n, err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < n; i++) {
        if (r[i].id == co->repo_id) {
            co->repo_name = xstrdup(r[i].name);
            co->repo_url = xstrdup(r[i].url);
        }
        repo_info_free(&r[i]);
    }
    free(r);
    return DP_OK;
}

int analyze_model_load(store *st, int64_t repo, match_model *out, int *trained, char **desc, dp_err *err)
{
    int64_t repos[2] = {repo, 0};
    *trained = 0;
    *desc = NULL;
    for (int i = 0; i < 2; i++) {
        char *text = NULL;
        int64_t at = 0;
        size_t ntrain = 0;
        int rc = store_model_load(st, repos[i], &text, &at, &ntrain, err);
        if (rc == DP_NOTFOUND) continue;
        if (rc != DP_OK) return DP_ERR;
        dp_err perr;
        rc = match_model_from_text(text, out, &perr);
        free(text);
        if (rc != DP_OK)
            return dp_fail(err, "the %s trained model in the store is unreadable (%s); run doppel train again",
                           i ? "global" : "repository's", perr.msg);
        char date[16] = "?";
        if (at) dp_format_date(at, date, sizeof date);
        *trained = 1;
        *desc = xasprintf("trained %s on %zu pairs (%s)%s", date, ntrain, out->trained_on ? out->trained_on : "?",
                          i ? ", global" : "");
        return DP_OK;
    }
    *desc = xstrdup("built-in default");
    return DP_OK;
}

static int load_model(store *st, analyze_corpus *co, dp_err *err)
{
    if (analyze_model_load(st, co->repo_id, &co->model, &co->model_trained, &co->model_desc, err) != DP_OK)
        return DP_ERR;
    co->m = co->model_trained ? &co->model : match_model_default();
    return DP_OK;
}

/* Items, links, model: everything but the index. */
static int corpus_read(store *st, int64_t repo, analyze_corpus *co, dp_err *err)
{
    memset(co, 0, sizeof *co);
    co->repo_id = repo;
    double t0 = dp_now();
    int64_t after = 0;
    if (store_change_seq(st, repo, &co->seq, err) != DP_OK || load_repo_info(st, co, err) != DP_OK ||
        store_items_load(st, repo, &co->items, err) != DP_OK || store_change_seq(st, repo, &after, err) != DP_OK ||
        store_links_load(st, repo, &co->links, err) != DP_OK || load_model(st, co, err) != DP_OK) {
        analyze_corpus_free(co);
        return DP_ERR;
    }
    /* a change committed while loading: the items are newer than seq says,
     * so no stamp can vouch for them (the file is not mapped; see corpus_map) */
    if (after != co->seq) co->seq = -1;
    drop_deleted(&co->items);
    co->t_load = dp_now() - t0;
    if (co->items.n >= UINT32_MAX) {
        analyze_corpus_free(co);
        return dp_fail(err, "too many items (%zu)", co->items.n);
    }
    return DP_OK;
}

char *analyze_index_path(store *st, int64_t repo)
{
    if (!store_is_file(st)) return NULL;
    return xasprintf("%s-index-%lld", store_path(st), (long long)repo);
}

/* The id this store gives repo's persisted index files (their stamp's id,
 * index.h "Stamps"); 0: none yet. */
static int index_id_get(store *st, int64_t repo, uint64_t *id, dp_err *err)
{
    char *v = NULL;
    *id = 0;
    int rc = store_kv_get(st, repo, KV_INDEX_ID, &v, err);
    if (rc == DP_OK) *id = strtoull(v, NULL, 16);
    free(v);
    return rc == DP_ERR ? DP_ERR : DP_OK;
}

/* A fresh id, random: a file written for another store (one deleted and
 * imported again at the same path reaches the same change sequence) is
 * refused. Copies of one store share it. Never 0. */
static uint64_t index_id_new(void)
{
    uint64_t id = 0;
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {   /* no entropy yet: time and pid */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t v[3] = {(int64_t)ts.tv_sec, (int64_t)ts.tv_nsec, (int64_t)getpid()};
        id = XXH3_64bits(v, sizeof v);
    }
    return id ? id : 1;
}

/* The stamp of co's items, {seq, the store's id}; the id is made on the
 * first use (a read-only store without one -- `serve` -- has none). 0 when
 * there is none to give. */
static int corpus_stamp(store *st, const analyze_corpus *co, index_stamp *stamp)
{
    if (co->seq < 0) return 0;   /* items of no one sequence number */
    stamp->seq = (uint64_t)co->seq;
    dp_err e;
    if (index_id_get(st, co->repo_id, &stamp->id, &e) != DP_OK) return 0;
    if (stamp->id) return 1;
    char buf[32];
    stamp->id = index_id_new();
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)stamp->id);
    return store_kv_set(st, co->repo_id, KV_INDEX_ID, buf, &e) == DP_OK;
}

/* The statistics of record the store keeps for repo (index.h); 1 when it
 * has them, else out is all 0 (a build then records its own). */
static int record_get(store *st, int64_t repo, double out[FIELD_COUNT])
{
    char *v = NULL;
    dp_err e;
    int ok = store_kv_get(st, repo, KV_AVGLEN, &v, &e) == DP_OK;
    const char *at = v;
    for (int f = 0; f < FIELD_COUNT && ok; f++) {
        char *end;
        out[f] = strtod(at, &end);
        ok = end != at && out[f] > 0;
        at = end;
    }
    free(v);
    if (!ok) memset(out, 0, FIELD_COUNT * sizeof *out);
    return ok;
}

/* Records ix's averages when they are not the record already: after a
 * full build, or one the docs moved beyond the record's bound. Best
 * effort: a store that cannot write keeps its record, and the next build
 * decides the same way again. */
static void record_put(store *st, int64_t repo, const dindex *ix)
{
    double now[FIELD_COUNT], rec[FIELD_COUNT];
    index_avglen(ix, now);
    if (record_get(st, repo, rec) && !memcmp(now, rec, sizeof now)) return;
    sbuf b;
    sb_init(&b);
    for (int f = 0; f < FIELD_COUNT; f++) sb_printf(&b, "%s%.17g", f ? " " : "", now[f]);   /* exact */
    dp_err e;
    store_kv_set(st, repo, KV_AVGLEN, b.s, &e);
    sb_free(&b);
}

/* Writes the persisted index with co's stamp; 1 when written. */
static int corpus_persist(store *st, const analyze_corpus *co, const char *path)
{
    index_stamp stamp;
    dp_err e;
    return corpus_stamp(st, co, &stamp) && index_file_save(co->ix, path, &stamp, &e) == DP_OK;
}

/* Writing the file (~600 MB at 250k items, seconds of one core) on a
 * thread of its own while ranking starts: the built index is only read
 * from then on (ranking reads it; nothing of it that the writer reads is
 * changed: index_fields_release drops the fields, which the file does not
 * hold), and the items it names live until analyze_corpus_free. The stamp
 * is taken here, on the store's thread. Once the file's change time has
 * settled, the same thread checks and seals it (index.h, "Seals"): the
 * next `analyze`, `similar` or `serve` then opens it without reading its
 * 600 MB for the checksum (70 ms at 250k items). A run that ends sooner
 * (corpus_persist_wait) leaves that to the next open, as before. */
struct corpus_saver {
    pthread_t th;
    const dindex *ix;
    char *path;
    index_stamp stamp;
    int ok;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;                  /* corpus_persist_wait is waiting: no seal */
};

static void *saver_main(void *arg)
{
    struct corpus_saver *sv = arg;
    dp_err e;
    sv->ok = index_file_save(sv->ix, sv->path, &sv->stamp, &e) == DP_OK;
    if (!sv->ok) return NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double settle = INDEX_SEAL_SETTLE + 0.1;
    until.tv_sec += (time_t)settle;
    until.tv_nsec += (long)((settle - (double)(time_t)settle) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sv->mu);
    int rc = 0;
    while (!sv->done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&sv->cv, &sv->mu, &until);
    int seal = !sv->done;
    pthread_mutex_unlock(&sv->mu);
    if (seal) index_file_seal(sv->path, 1);   /* one core: ranking has the other */
    return NULL;
}

static void saver_free(struct corpus_saver *sv)
{
    pthread_mutex_destroy(&sv->mu);
    pthread_cond_destroy(&sv->cv);
    free(sv->path);
    free(sv);
}

/* Starts writing co's file; when no thread can be had, writes it here. */
static void corpus_persist_start(store *st, analyze_corpus *co, const char *path)
{
    index_stamp stamp;
    if (!corpus_stamp(st, co, &stamp)) return;
    struct corpus_saver *sv = xcalloc(1, sizeof *sv);
    sv->ix = co->ix;
    sv->path = xstrdup(path);
    sv->stamp = stamp;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);
    if (pthread_create(&sv->th, NULL, saver_main, sv) == 0) {
        co->saver = sv;
        return;
    }
    sv->done = 1;   /* nothing to wait for the seal here */
    saver_main(sv);
    co->index_saved = sv->ok;
    saver_free(sv);
}

/* Waits for the file started by corpus_persist_start; co->index_saved then
 * says whether it was written. */
static void corpus_persist_wait(analyze_corpus *co)
{
    struct corpus_saver *sv = co->saver;
    if (!sv) return;
    pthread_mutex_lock(&sv->mu);
    sv->done = 1;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    pthread_join(sv->th, NULL);
    co->index_saved = sv->ok;
    saver_free(sv);
    co->saver = NULL;
}

/* Opens the persisted index when its stamp says it was built from the
 * store's items as they are now (index.h, "Stamps": the change sequence
 * read before the items, and the id the store keeps) -- no item is read
 * for that. A full corpus must then have as many items as the file has
 * docs. A sparse one gets its item slots here. 0 when not usable
 * (co->index_file_why says why). */
static int corpus_map(store *st, const index_params *p, analyze_corpus *co, const char *path)
{
    if (!path) {
        co->index_file_why = "the store is in memory";
        return 0;
    }
    uint64_t id = 0;
    dp_err e;
    if (index_id_get(st, co->repo_id, &id, &e) != DP_OK) {
        co->index_file_why = "the store cannot say which file is its own";
        return 0;
    }
    const char *why = "the items changed while they were read";
    int rc = DP_ERR;
    if (co->seq >= 0) {
        index_stamp stamp = {(uint64_t)co->seq, id};
        rc = index_file_open_stamped(&stamp, p, path, &co->ix, &why);
    }
    if (rc == DP_OK && !co->sparse && index_ndocs(co->ix) != co->items.n) {
        index_free(co->ix);
        co->ix = NULL;
        rc = DP_ERR;
        why = "the items changed since it was written";
    }
    /* A full corpus has its items: a file whose stamp is behind (a state or
     * a date changed, not the indexed text: sync closing issues) is still
     * theirs when their content fingerprint matches. It is stamped anew, so
     * the next sparse reader maps it too. */
    if (rc == DP_ERR && !co->sparse) {
        rc = index_file_open(co->items.v, co->items.n, p, path, &co->ix, &why);
        index_stamp now;
        if (rc == DP_OK && corpus_stamp(st, co, &now)) index_file_restamp(co->ix, path, &now, &e);
    }
    if (rc != DP_OK) {
        co->index_file_why = rc == DP_NOTFOUND ? "there is none yet" : why;
        return 0;
    }
    size_t n = index_ndocs(co->ix);
    if (co->sparse) {
        co->slots = xcalloc(n ? n : 1, sizeof *co->slots);
        co->have = xcalloc(n ? n : 1, 1);
    }
    index_items_attach(co->ix, co->sparse ? co->slots : co->items.v);
    co->index_mapped = 1;
    co->snap.reused = n;
    return 1;
}

/* What ranking and explaining need beside the index: the match context
 * (sparse: nothing precomputed per doc) and the link set. */
static void corpus_ready(analyze_corpus *co)
{
    co->ls = explain_linkset_new(co->links.v, co->links.n);
    if (co->sparse) {   /* links are read with the docs, and grow both (corpus_relink) */
        match_ctx_init_sparse(&co->mctx, co->ix, co->m, co->links.v, co->links.n, co->links_typed);
        co->nlinked = co->links.n;
        return;
    }
    match_ctx_init(&co->mctx, co->ix, co->m, co->links.v, co->links.n);
}

/* Builds the index, from the stored snapshot when there is one: only items
 * whose text changed since it was saved go through the text pipeline
 * (--full builds from scratch, relearning the template). Before that, the
 * persisted index is mapped when it is valid (use_cache); after a build,
 * persist writes it: PERSIST_NOW before returning, PERSIST_BACKGROUND on a
 * thread (corpus_persist_start; co->index_saved is known once
 * corpus_persist_wait joined it). On error the caller frees co. */
enum { PERSIST_NO, PERSIST_NOW, PERSIST_BACKGROUND };
static int corpus_index(store *st, int threads, int use_cache, int persist, analyze_corpus *co, dp_err *err)
{
    double t0 = dp_now();
    index_params p;
    index_params_default(&p);
    p.threads = dp_threads(threads);
    p.drop_fields = co->drop_fields;
    char *path = analyze_index_path(st, co->repo_id);
    if (use_cache) record_get(st, co->repo_id, p.avglen_record);   /* --full: the docs' own */
    if (!use_cache || !corpus_map(st, &p, co, path)) {
        void *snap = NULL;
        size_t snaplen = 0;
        int rc = use_cache ? store_cache_get(st, co->repo_id, ANALYZE_INDEX_CACHE, &snap, &snaplen, err)
                           : DP_NOTFOUND;
        if (rc == DP_ERR) {
            free(path);
            return DP_ERR;
        }
        rc = index_build_snap(co->items.v, co->items.n, &p, snap, snaplen, &co->ix, &co->snap, err);
        free(snap);
        if (rc != DP_OK) {
            free(path);
            return DP_ERR;
        }
        record_put(st, co->repo_id, co->ix);
        /* a cache: failing to write it costs the next reader a build, no more */
        if (persist == PERSIST_BACKGROUND && path) corpus_persist_start(st, co, path);
        else if (persist && path) co->index_saved = corpus_persist(st, co, path);
    }
    free(path);
    co->t_index = dp_now() - t0;
    corpus_ready(co);
    return DP_OK;
}

int analyze_corpus_load(store *st, int64_t repo, int threads, analyze_corpus *co, dp_err *err)
{
    if (corpus_read(st, repo, co, err) != DP_OK) return DP_ERR;
    if (corpus_index(st, threads, 1, PERSIST_NOW, co, err) == DP_OK) return DP_OK;
    analyze_corpus_free(co);
    return DP_ERR;
}

/* The start of a sparse corpus (analyze_corpus_open, corpus_grow): the
 * repository's name, whether any link is typed, the model -- no item -- and
 * the index parameters. On error co is freed. */
static int sparse_start(store *st, int64_t repo, int threads, analyze_corpus *co, index_params *p, dp_err *err)
{
    memset(co, 0, sizeof *co);
    co->repo_id = repo;
    co->sparse = 1;
    co->st = st;
    double t0 = dp_now();
    if (load_repo_info(st, co, err) != DP_OK || store_links_any_typed(st, repo, &co->links_typed, err) != DP_OK ||
        load_model(st, co, err) != DP_OK) {
        analyze_corpus_free(co);
        return DP_ERR;
    }
    co->t_load = dp_now() - t0;
    index_params_default(p);
    p->threads = dp_threads(threads);
    return DP_OK;
}

static int corpus_grow(store *st, int64_t repo, int64_t seq, int threads, analyze_corpus *co, const char **why,
                       dp_err *err);

int analyze_corpus_open(store *st, int64_t repo, int threads, analyze_corpus *co, dp_err *err)
{
    int64_t seq;
    index_params p;
    memset(co, 0, sizeof *co);
    if (store_change_seq(st, repo, &seq, err) != DP_OK || sparse_start(st, repo, threads, co, &p, err) != DP_OK)
        return DP_ERR;
    co->seq = seq;
    double t0 = dp_now();
    char *path = analyze_index_path(st, repo);
    int mapped = corpus_map(st, &p, co, path);
    free(path);
    if (!mapped) {
        /* a file behind the store (items came since it was written: the
         * usual state after an incremental analyze) is grown by them, as
         * analyze grows it; else load everything and build, as
         * analyze_corpus_load */
        const char *why = NULL;
        analyze_corpus_free(co);
        int rc = corpus_grow(st, repo, seq, threads, co, &why, err);
        if (rc != DP_NOTFOUND) return rc;
        return analyze_corpus_load(st, repo, threads, co, err);
    }
    co->t_index = dp_now() - t0;
    corpus_ready(co);
    return DP_OK;
}

/* Appends to co->links the links v of doc d (just read; v is emptied) that
 * are not there yet: those whose other end is not a doc read before it (a
 * link between two read docs came with the first of them). Each doc's come
 * in id order, so those of one pair keep the order a full corpus has them
 * in. */
static void links_take(analyze_corpus *co, uint32_t d, link_vec *v)
{
    const char *key = index_doc_key(co->ix, d);
    for (size_t i = 0; i < v->n; i++) {
        item_link *l = &v->v[i];
        int64_t o = index_find(co->ix, strcmp(l->src_key, key) ? l->src_key : l->dst_key);
        if (o >= 0 && (uint32_t)o != d && co->have[o]) {
            item_link_free(l);
            continue;
        }
        *link_vec_push(&co->links) = *l;
    }
    free(v->v);
    memset(v, 0, sizeof *v);
}

/* links_take of doc d's links, read from the store. */
static int need_links(analyze_corpus *co, uint32_t d, dp_err *err)
{
    link_vec v = {0};
    if (store_links_for(co->st, co->repo_id, index_doc_key(co->ix, d), &v, err) != DP_OK) {
        link_vec_free(&v);
        return DP_ERR;
    }
    links_take(co, d, &v);
    return DP_OK;
}

/* The match ctx's link adjacency and the linkset, grown when docs read
 * since brought links: the new links alone are resolved and sorted, but
 * the adjacency is rebuilt in O(ndocs + links), so a run reading thousands
 * of docs one pool at a time relinks once per batch (corpus_need_many),
 * not once per pool. */
static void corpus_relink(analyze_corpus *co)
{
    if (co->links.n == co->nlinked) return;
    match_ctx_relink(&co->mctx, co->links.v, co->links.n);
    /* explain finds a pair's links in the linkset; scanning them instead
     * costs every link per pair once many items were read (a filled
     * serve corpus: 45 ms a lookup at 250k items) */
    explain_linkset_grow(co->ls, co->links.v, co->links.n);
    co->nlinked = co->links.n;
}

/* Reads the n distinct unread docs want[] (n <= STORE_ROWS_CHUNK) and
 * their links, a statement per chunk rather than per doc (a run reads
 * thousands of docs, most of them with no link), then takes the links in
 * want's order, as reading them one by one did. */
static int need_chunk(analyze_corpus *co, const uint32_t *want, size_t n, dp_err *err)
{
    int64_t rows[STORE_ROWS_CHUNK];
    const char *keys[STORE_ROWS_CHUNK];
    item got[STORE_ROWS_CHUNK];
    link_vec links[STORE_ROWS_CHUNK];
    memset(links, 0, sizeof links);
    for (size_t k = 0; k < n; k++) {
        rows[k] = index_doc_rowid(co->ix, want[k]);
        keys[k] = index_doc_key(co->ix, want[k]);
    }
    size_t miss = 0;
    int rc = store_items_get_rows(co->st, co->repo_id, rows, n, got, &miss, err);
    if (rc == DP_NOTFOUND)
        return dp_fail(err, "item %s left the store while it was read; run the command again", keys[miss]);
    if (rc == DP_OK) rc = store_links_for_many(co->st, co->repo_id, keys, n, links, err);
    for (size_t k = 0; k < n; k++) {
        if (rc == DP_OK) {
            co->slots[want[k]] = got[k];
            links_take(co, want[k], &links[k]);
            co->have[want[k]] = 1;
        } else {
            item_free(&got[k]);   /* store_items_get_rows left them empty on its errors */
            link_vec_free(&links[k]);
        }
    }
    return rc;
}

/* analyze_corpus_need without the relink: the caller relinks
 * (corpus_relink) before anything reads the links' features. */
static int corpus_need_many(analyze_corpus *co, const uint32_t *docs, size_t n, dp_err *err)
{
    if (!co->sparse) return DP_OK;
    uint32_t want[STORE_ROWS_CHUNK];
    size_t nw = 0;
    int rc = DP_OK;
    for (size_t i = 0; i <= n && rc == DP_OK; i++) {
        if (i < n) {
            uint32_t d = docs[i];
            if (d >= index_ndocs(co->ix) || co->have[d]) continue;
            size_t k = 0;
            while (k < nw && want[k] != d) k++;
            if (k < nw) continue;   /* twice in docs */
            want[nw++] = d;
            if (nw < STORE_ROWS_CHUNK) continue;
        }
        if (nw) rc = need_chunk(co, want, nw, err);
        nw = 0;
    }
    return rc;
}

int analyze_corpus_need(const analyze_corpus *cco, const uint32_t *docs, size_t n, dp_err *err)
{
    if (!cco->sparse) return DP_OK;
    analyze_corpus *co = (analyze_corpus *)cco;   /* a sparse corpus fills in (see analyze.h) */
    int rc = corpus_need_many(co, docs, n, err);
    corpus_relink(co);   /* what was read stays read, error or not */
    return rc;
}

int analyze_corpus_fill(const analyze_corpus *co, size_t from, size_t n, size_t *next, dp_err *err)
{
    size_t nd = analyze_corpus_ndocs(co);
    if (from > nd) from = nd;
    size_t to = nd - from < n ? nd : from + n;
    *next = to;
    if (!co->sparse || to == from) return DP_OK;
    uint32_t *docs = xmalloc((to - from) * sizeof *docs);
    for (size_t d = from; d < to; d++) docs[d - from] = (uint32_t)d;
    int rc = analyze_corpus_need(co, docs, to - from, err);
    free(docs);
    return rc;
}

/* ---- growing the persisted index (incremental analysis) ----------------- */

/* Creation order, as store_items_load sorts: created_at, number, key. */
static int item_order(const item *a, const item *b)
{
    if (a->created_at != b->created_at) return a->created_at < b->created_at ? -1 : 1;
    if (a->number != b->number) return a->number < b->number ? -1 : 1;
    return strcmp(a->key ? a->key : "", b->key ? b->key : "");
}

static int item_order_cmp(const void *a, const void *b) { return item_order(a, b); }

/* The items that came since the file was written (keys changed after
 * fseq), read: the new ones into *added in creation order. NULL when the
 * file can still be grown by them, else why not: an indexed item was
 * deleted or its text changed (its doc would change), or a new one sorts
 * among the indexed docs (every later doc would move). */
static const char *grow_collect(analyze_corpus *co, uint64_t fseq, item_vec *added, dp_err *err, int *rc)
{
    strvec keys = {0};
    const dindex *ix = co->ix;
    size_t n0 = index_ndocs(ix);
    const char *why = NULL;
    *rc = store_items_changed(co->st, co->repo_id, (int64_t)fseq, co->seq, &keys, err);
    if (*rc == DP_OK && keys.n > 1000 && keys.n > n0 / 10) why = "too many items changed since it was written";
    for (size_t i = 0; i < keys.n && *rc == DP_OK && !why; i++) {
        item it;
        *rc = store_item_get(co->st, co->repo_id, keys.v[i], &it, err);
        if (*rc == DP_NOTFOUND) {
            *rc = DP_OK;
            why = "an item left the store";
            break;
        }
        if (*rc != DP_OK) break;
        int64_t d = index_find(ix, keys.v[i]);
        if (d >= 0 && it.deleted) why = "an indexed item was deleted";
        else if (d >= 0 && index_item_hash(&it) != index_doc_hash(ix, (uint32_t)d)) why = "an indexed item's text changed";
        else if (d >= 0 && it.created_at != index_doc_created(ix, (uint32_t)d))
            why = "an indexed item's creation time changed";   /* its place in doc order, and the file's date */
        if (d < 0 && !it.deleted) {
            *item_vec_push(added) = it;   /* new */
            continue;
        }
        item_free(&it);   /* unchanged for the index (a state, a date), or deleted before it was indexed */
    }
    sv_free(&keys);
    if (*rc != DP_OK || why || !added->n || !n0) return why;
    qsort(added->v, added->n, sizeof *added->v, item_order_cmp);
    item last;
    *rc = store_item_get_row(co->st, co->repo_id, index_doc_rowid(ix, (uint32_t)(n0 - 1)), &last, err);
    if (*rc == DP_NOTFOUND) {
        *rc = DP_OK;
        return "an item left the store";
    }
    if (*rc != DP_OK) return NULL;
    if (item_order(&added->v[0], &last) <= 0) why = "a new item sorts among the indexed ones";
    item_free(&last);
    return why;
}

/* An incremental analysis' corpus without reading every item: the
 * persisted index as written (before the items that came since: its stamp's
 * id is the store's, its seq at most co->seq), grown by the new items
 * (index_append; with the statistics of record, the index a build of every
 * item makes), sparse: only the items ranking and explaining read are read
 * (analyze_corpus_need). DP_OK with co ready; DP_NOTFOUND when the file
 * cannot be grown (*why says why; co is freed); DP_ERR on a store error. */
static int corpus_grow(store *st, int64_t repo, int64_t seq, int threads, analyze_corpus *co, const char **why,
                       dp_err *err)
{
    index_params p;
    if (sparse_start(st, repo, threads, co, &p, err) != DP_OK) return DP_ERR;
    co->seq = seq;
    double t0 = dp_now();
    int recorded = record_get(st, repo, p.avglen_record);
    char *path = analyze_index_path(st, repo);
    uint64_t id = 0, fseq = 0;
    dp_err e;
    int rc = DP_ERR;
    *why = NULL;
    if (!path) *why = "the store is in memory";
    else if (index_id_get(st, repo, &id, &e) != DP_OK) *why = "the store cannot say which file is its own";
    index_stamp stamp = {(uint64_t)seq, id};
    if (!*why) rc = index_file_open_behind(&stamp, &p, path, &co->ix, &fseq, why);
    if (rc == DP_OK && !recorded) {
        /* a file from before statistics of record: its averages, those of
         * the full build that wrote it, become the record */
        index_avglen(co->ix, p.avglen_record);
        index_free(co->ix);
        co->ix = NULL;
        rc = index_file_open_behind(&stamp, &p, path, &co->ix, &fseq, why);
        if (rc == DP_OK) record_put(st, repo, co->ix);
    }
    free(path);
    if (rc == DP_NOTFOUND) *why = "there is none yet";
    else if (rc != DP_OK) rc = DP_NOTFOUND;   /* refused (*why says why): a cache, built anew, not an error */
    item_vec added = {0};
    if (rc == DP_OK) {
        *why = grow_collect(co, fseq, &added, err, &rc);
        if (rc == DP_OK && *why) rc = DP_NOTFOUND;
    }
    size_t n0 = co->ix ? index_ndocs(co->ix) : 0, n = n0 + added.n;
    if (rc == DP_OK) {
        co->slots = xcalloc(n ? n : 1, sizeof *co->slots);
        co->have = xcalloc(n ? n : 1, 1);
        if (!added.n) {   /* only states or dates changed: the file is the index */
            index_items_attach(co->ix, co->slots);
        } else {
            memcpy(co->slots + n0, added.v, added.n * sizeof *added.v);
            if (index_append(co->ix, co->slots, n, why) != DP_OK) {
                memset(co->slots + n0, 0, added.n * sizeof *added.v);   /* still added's */
                rc = DP_NOTFOUND;
            } else {
                added.n = 0;   /* the slots own them now */
            }
        }
    }
    item_vec_free(&added);
    if (rc != DP_OK) {
        analyze_corpus_free(co);
        return rc == DP_ERR ? DP_ERR : DP_NOTFOUND;
    }
    corpus_ready(co);
    for (size_t d = n0; d < n && rc == DP_OK; d++) {   /* read: their links */
        co->have[d] = 1;
        rc = need_links(co, (uint32_t)d, err);
    }
    corpus_relink(co);
    if (rc != DP_OK) {
        analyze_corpus_free(co);
        return DP_ERR;
    }
    co->index_mapped = 1;
    co->grown = n - n0;
    co->snap.reused = n0;
    co->snap.analysed = n - n0;
    co->t_index = dp_now() - t0;
    return DP_OK;
}

void analyze_corpus_free(analyze_corpus *co)
{
    if (!co) return;
    corpus_persist_wait(co);   /* the writer reads the index and the items */
    for (size_t d = 0; co->have && d < index_ndocs(co->ix); d++)
        if (co->have[d]) item_free(&co->slots[d]);
    free(co->slots);
    free(co->have);
    if (co->ix) {
        match_ctx_free(&co->mctx);
        index_free(co->ix);
    }
    explain_linkset_free(co->ls);
    if (co->model_trained) match_model_free(&co->model);
    item_vec_free(&co->items);
    link_vec_free(&co->links);
    free(co->created);
    free(co->repo_name);
    free(co->repo_url);
    free(co->model_desc);
    memset(co, 0, sizeof *co);
}

/* ---- one pair ---------------------------------------------------------- */

/* Judges hit h (rank-th of qdoc's candidates) from the later item's side,
 * as the judge was trained: when the candidate is the newer one, the pair
 * is read with it as the query (mention, state-at-filing and author
 * features are directional; the ranker's score is kept). */
static void judge_hit(const analyze_corpus *co, const match_query *mq, const match_judge_query *jq,
                      const match_hit *h, int rank, match_judgment *jd, double jf[JF_COUNT])
{
    double p[RELATION_COUNT];
    if (h->doc < mq->qdoc || mq->qdoc == UINT32_MAX) {
        match_judge_features(&co->mctx, mq, jq, h, rank, jf);
    } else {
        match_query later;
        match_judge_query ljq;
        match_query_judge_view(&co->mctx, h->doc, &later);
        match_judge_prepare(&co->mctx, &later, &ljq);
        match_hit swapped = *h;
        swapped.doc = mq->qdoc;
        /* the candidate is now the query's doc: its title records are jq's */
        match_judge_features_cand(&co->mctx, &later, &ljq, &swapped, rank, jq, jf);
        match_judge_query_free(&ljq);
        match_query_free(&later);
    }
    match_judge_probs(co->m, jf, p);
    match_judge_decide(co->m, jf, p, jd);
}

/* Explains in's pair and fills a store pair whose query is qkey. */
static void explain_into(const analyze_corpus *co, const explain_input *in, const char *qkey, int rank, pair *p)
{
    explain_out eo;
    explain_pair(in, &eo);
    memset(p, 0, sizeof *p);
    p->repo_id = co->repo_id;
    p->query_key = xstrdup(qkey);
    p->cand_key = xstrdup(index_item(co->ix, in->cdoc)->key);
    p->rank = rank;
    p->score = in->hit->score;
    p->prob = in->jd->p_shown;
    p->relation = in->jd->relation;
    p->confidence = in->jd->confidence;
    p->value = eo.value;
    p->known = eo.known;
    p->reasoning = eo.reasoning;
    p->value_detail = eo.value_detail;
    p->suggested_comment = eo.comment;
    p->reasoning_len = eo.reasoning_len;
    p->value_detail_len = eo.value_detail_len;
    p->comment_len = eo.comment_len;
    p->comment_on = eo.comment_on;
    p->canonical = eo.canonical;
}

/* Explains (qdoc, cdoc) and fills a store pair; rank is the candidate's rank
 * in the list of the query that found it; canonical the doc of the pair's
 * duplicate cluster's canonical item (UINT32_MAX: none). */
static void make_pair(const analyze_corpus *co, uint32_t qdoc, uint32_t cdoc, int rank,
                      const match_hit *h, const match_judgment *jd, const double *jf,
                      uint32_t canonical, int64_t now, pair *p)
{
    explain_input in = {.ix = co->ix, .model = co->m, .qdoc = qdoc, .cdoc = cdoc, .hit = h,
                        .jd = jd, .jf = jf, .canonical = canonical, .links = co->links.v,
                        .nlinks = co->links.n, .now = now, .repo_url = co->repo_url,
                        .linkset = co->ls, .mctx = &co->mctx};
    explain_into(co, &in, index_item(co->ix, qdoc)->key, rank, p);
}

/* Reads the items of the pool's docs (a sparse corpus); relink 0: the
 * caller relinks (corpus_relink). */
static int need_pool_as(const analyze_corpus *cco, const index_hit *pool, size_t n, int relink, dp_err *err)
{
    uint32_t docs[MATCH_POOL];
    for (size_t i = 0; i < n; i++) docs[i] = pool[i].doc;
    if (relink) return analyze_corpus_need(cco, docs, n, err);
    return corpus_need_many((analyze_corpus *)cco, docs, n, err);   /* sparse: fills in (analyze.h) */
}

static int need_pool(const analyze_corpus *co, const index_hit *pool, size_t n, dp_err *err)
{
    return need_pool_as(co, pool, n, 1, err);
}

int analyze_similar(const analyze_corpus *co, uint32_t qdoc, size_t k, int64_t now, pair_vec *out,
                    dp_err *err)
{
    if (!k) return DP_OK;
    if (analyze_corpus_need(co, &qdoc, 1, err) != DP_OK) return DP_ERR;
    match_query mq;
    match_query_from_doc(&co->mctx, qdoc, &mq);
    index_hit pool[MATCH_POOL];
    size_t np = match_pool(&co->mctx, &mq, 0, (uint32_t)index_ndocs(co->ix), pool);
    if (need_pool(co, pool, np, err) != DP_OK) {
        match_query_free(&mq);
        return DP_ERR;
    }
    match_hit *hits = xcalloc(k, sizeof *hits);
    match_judge_query jq;
    match_judge_prepare(&co->mctx, &mq, &jq);
    size_t n = match_rank_pool(&co->mctx, &mq, pool, np, k, hits);
    for (size_t i = 0; i < n; i++) {
        match_judgment jd;
        double jf[JF_COUNT];
        judge_hit(co, &mq, &jq, &hits[i], (int)i + 1, &jd, jf);
        /* oriented query = qdoc, as `similar` shows it; the canonical item
         * of the two says where a duplicate's comment goes */
        uint32_t two[2] = {qdoc, hits[i].doc};
        const item *its[2] = {index_item(co->ix, qdoc), index_item(co->ix, hits[i].doc)};
        uint32_t canon = jd.relation == RELATION_DUPLICATE ? two[explain_canonical(its, 2)] : UINT32_MAX;
        make_pair(co, qdoc, hits[i].doc, (int)i + 1, &hits[i], &jd, jf, canon, now, pair_vec_push(out));
    }
    match_judge_query_free(&jq);
    match_query_free(&mq);
    free(hits);
    return DP_OK;
}

/* ---- reading a corpus ------------------------------------------------------- */

size_t analyze_corpus_ndocs(const analyze_corpus *co) { return index_ndocs(co->ix); }

const item *analyze_corpus_doc(const analyze_corpus *co, uint32_t doc) { return index_item(co->ix, doc); }

int64_t analyze_corpus_find(const analyze_corpus *co, const char *key) { return index_find(co->ix, key); }

const item *analyze_corpus_item(const analyze_corpus *co, const char *key)
{
    int64_t doc = index_find(co->ix, key);
    return doc < 0 ? NULL : index_item(co->ix, (uint32_t)doc);
}

size_t analyze_search(const analyze_corpus *co, const char *text, size_t k, analyze_search_hit *out)
{
    if (!k) return 0;
    item qi;
    item_init(&qi);
    qi.key = xstrdup("(query)");
    qi.title = xstrdup(text ? text : "");
    qi.body = xstrdup("");
    index_params ip;               /* the index's own tokenizer options */
    index_params_default(&ip);
    text_tokenizer *tk = text_tokenizer_new(&ip.text);
    index_query q;
    index_query_from_item(co->ix, tk, &qi, &q);
    index_hit *hits = xcalloc(k, sizeof *hits);
    size_t n = index_topk(co->ix, &q, 0, (uint32_t)index_ndocs(co->ix), UINT32_MAX, k, hits);
    for (size_t i = 0; i < n; i++) out[i] = (analyze_search_hit){index_item(co->ix, hits[i].doc), hits[i].score};
    free(hits);
    index_query_free(&q);
    text_tokenizer_free(tk);
    item_free(&qi);
    return n;
}

/* ---- a new issue ------------------------------------------------------------ */

void analyze_new_item(const char *title, const char *body, const strvec *labels, int64_t now, item *out)
{
    item_init(out);
    out->key = xstrdup(ANALYZE_NEW_KEY);
    out->title = xstrdup(title ? title : "");
    out->body = xstrdup(body ? body : "");
    out->state = xstrdup("open");
    out->created_at = out->updated_at = now;
    for (size_t i = 0; labels && i < labels->n; i++) sv_push(&out->labels, labels->v[i]);
}

int analyze_similar_item(const analyze_corpus *co, const item *it, size_t k, int64_t now, pair_vec *out,
                         dp_err *err)
{
    if (!k) return DP_OK;
    /* The index's own tokenizer options; a tokenizer per call, because a
     * stemmer is not thread-safe and creating one is cheap. */
    index_params ip;
    index_params_default(&ip);
    text_tokenizer *tk = text_tokenizer_new(&ip.text);
    match_query mq;
    match_query_from_item(&co->mctx, tk, it, &mq);
    index_hit pool[MATCH_POOL];
    size_t np = match_pool(&co->mctx, &mq, 0, (uint32_t)index_ndocs(co->ix), pool);
    int rc = need_pool(co, pool, np, err);
    match_judge_query jq;
    match_judge_prepare(&co->mctx, &mq, &jq);
    match_hit *hits = xcalloc(k, sizeof *hits);
    size_t n = rc == DP_OK ? match_rank_pool(&co->mctx, &mq, pool, np, k, hits) : 0;
    for (size_t i = 0; i < n; i++) {
        match_judgment jd;
        double jf[JF_COUNT];
        judge_hit(co, &mq, &jq, &hits[i], (int)i + 1, &jd, jf);
        /* the new issue cannot be a cluster's canonical item: it is not filed */
        explain_input in = {.ix = co->ix, .model = co->m, .qdoc = UINT32_MAX, .cdoc = hits[i].doc,
                            .hit = &hits[i], .jd = &jd, .jf = jf, .canonical = UINT32_MAX,
                            .links = co->links.v, .nlinks = co->links.n, .now = now,
                            .repo_url = co->repo_url, .linkset = co->ls, .mctx = &co->mctx,
                            .mq = &mq, .jq = &jq};
        explain_into(co, &in, it->key, (int)i + 1, pair_vec_push(out));
    }
    free(hits);
    match_judge_query_free(&jq);
    match_query_free(&mq);
    text_tokenizer_free(tk);
    return rc;
}

json_t *analyze_similar_json(const analyze_corpus *co, const item *query, const pair_vec *pv)
{
    json_t *o = json_object();
    json_object_set_new(o, "query", explain_item_json(query));
    json_t *a = json_array();
    for (size_t i = 0; i < pv->n; i++) {
        int64_t doc = index_find(co->ix, pv->v[i].cand_key);
        json_array_append_new(a, explain_pair_json(&pv->v[i], NULL, doc >= 0 ? index_item(co->ix, (uint32_t)doc) : NULL, 1));
    }
    json_object_set_new(o, "candidates", a);
    json_object_set_new(o, "model", json_string(co->model_desc ? co->model_desc : ""));
    return o;
}

/* ---- parallel ranking ---------------------------------------------------- */

/* A query's kept hits, best first, each with its judgment, judge features
 * (when kept) and 1-based rank among the query's candidates: n records
 * (analyze_pack.h) back to back in pack[0..len). */
typedef struct qres {
    unsigned char *pack;
    size_t n, len;
} qres;

/* The BM25F pools of an incremental run's queries (match_pool), made once
 * to know which items to read and kept for ranking them (match_rank_pool):
 * the top-k search was half of such a run's ranking. */
typedef struct qpools {
    index_hit (*hit)[MATCH_POOL];   /* per query */
    size_t *n;
} qpools;

/* Pools kept for at most this many queries (8 bytes a hit: 52 MB); a
 * larger run searches again while ranking. */
#define QPOOLS_MAX 65536

static void qpools_free(qpools *p)
{
    if (!p) return;
    free(p->hit);
    free(p->n);
    free(p);
}

typedef struct job {
    const analyze_corpus *co;
    const analyze_opts *o;
    const uint32_t *queries;
    size_t nq;
    const qpools *pools;   /* queries' pools made while picking them, or NULL */
    qres *res;
    int keep_jf;       /* 0: judge features are not kept but recomputed when explained */
    int drop_fields;   /* 1: the index's fields are freed between explain batches */
    cand *cands;       /* explain phase: explains cands[xlo, xlo + xn) into out */
    size_t xlo, xn;
    pair *out;
    atomic_size_t next;
    size_t done;
    pthread_mutex_t mu;
    analyze_progress_fn progress;
    void *ud;
    const char *phase;
    size_t total;
} job;

static void job_tick(job *j, size_t n)
{
    pthread_mutex_lock(&j->mu);
    j->done += n;
    if (j->progress) j->progress(j->ud, j->phase, j->done, j->total);
    pthread_mutex_unlock(&j->mu);
}

/* Keeps the best `keep` candidates and any further one the judge calls a
 * duplicate or related with high confidence, so the review list is not
 * padded with weak guesses. */
/* A rank worker's room for one query's k hits while they are judged. */
typedef struct rscratch {
    match_hit *hits;
    unsigned char *pack;   /* room for k records */
} rscratch;

/* A copy of the first n elements of p (NULL when n is 0). */
static void *copy_n(const void *p, size_t n, size_t size)
{
    if (!n) return NULL;
    void *c = xmalloc(n * size);
    memcpy(c, p, n * size);
    return c;
}

/* How many of v[0..n) (ascending) are below t. */
static size_t dates_before(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The docs query doc q ranks: with a horizon, those created within
 * o->horizon days of it, before or after -- a range, as docs are in
 * creation order; the whole repository without one, or when q's date is
 * unknown. The window is symmetric (c is in q's iff q is in c's), so a
 * changed item probes exactly the queries whose range holds it. Should the
 * docs not be in creation order (corpus_dates), the range cannot be cut:
 * everything is ranked. */
static void query_range(const analyze_corpus *co, const analyze_opts *o, uint32_t q, uint32_t *lo,
                        uint32_t *hi)
{
    size_t n = index_ndocs(co->ix);
    *lo = 0;
    *hi = (uint32_t)n;
    if (!o->horizon || !co->created || !co->created_sorted || co->created[q] <= 0) return;
    int64_t t = co->created[q], h = (int64_t)o->horizon * 86400;
    *lo = (uint32_t)dates_before(co->created, n, t - h);
    *hi = (uint32_t)dates_before(co->created, n, t + h + 1);
}

/* Fills co->created for a horizon: from the items when they are loaded,
 * else (a sparse corpus) from the index: the persisted file dates its docs
 * (index_doc_created) as they were when it was written, and no indexed
 * item's date changed since (corpus_map: the same stamp; grow_collect
 * refuses a changed one), and the new docs' are their items'. */
static int corpus_dates(analyze_corpus *co)
{
    size_t n = index_ndocs(co->ix);
    co->created = xcalloc(n ? n : 1, sizeof *co->created);
    if (co->items.n == n) {
        for (size_t d = 0; d < n; d++) co->created[d] = co->items.v[d].created_at;
    } else {
        for (size_t d = 0; d < n; d++) co->created[d] = index_doc_created(co->ix, (uint32_t)d);
    }
    co->created_sorted = 1;
    for (size_t d = 1; d < n && co->created_sorted; d++)
        if (co->created[d] < co->created[d - 1]) co->created_sorted = 0;
    return DP_OK;
}

static void rank_one(job *j, size_t i, rscratch *sc)
{
    const analyze_corpus *co = j->co;
    uint32_t qdoc = j->queries[i];
    match_query mq;
    match_judge_query jq;
    match_query_from_doc(&co->mctx, qdoc, &mq);
    match_judge_prepare(&co->mctx, &mq, &jq);
    size_t n;
    if (j->pools) {
        n = match_rank_pool(&co->mctx, &mq, j->pools->hit[i], j->pools->n[i], j->o->k, sc->hits);
    } else {
        uint32_t lo, hi;
        query_range(co, j->o, qdoc, &lo, &hi);
        n = match_rank_query(&co->mctx, &mq, lo, hi, j->o->k, sc->hits);
    }
    size_t kept = 0, len = 0;
    for (size_t h = 0; h < n; h++) {
        match_judgment jd;
        double jf[JF_COUNT];
        judge_hit(co, &mq, &jq, &sc->hits[h], (int)h + 1, &jd, jf);
        int strong = jd.relation != RELATION_NONE && jd.confidence == CONFIDENCE_HIGH;
        if (h >= j->o->keep && !strong) continue;
        len += analyze_pack(sc->pack + len, &sc->hits[h], &jd, j->keep_jf ? jf : NULL, (int)h + 1);
        kept++;
    }
    /* what stays until the pairs are stored: the kept hits only, packed
     * and sized to them (a query keeps ~3 of its k = 20; room for 20 was
     * 15 KB a query, and the kept ones as structs most of a full run's
     * memory) */
    qres *r = &j->res[i];
    r->pack = copy_n(sc->pack, len, 1);
    r->n = kept;
    r->len = len;
    match_judge_query_free(&jq);
    match_query_free(&mq);
}

static void *rank_worker(void *arg)
{
    job *j = arg;
    size_t k = j->o->k ? j->o->k : 1;
    rscratch sc = {xcalloc(k, sizeof *sc.hits), xmalloc(k * ANALYZE_PACK_MAX)};
    size_t pending = 0;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nq) break;
        rank_one(j, i, &sc);
        if (++pending == 32) {
            job_tick(j, pending);
            pending = 0;
        }
    }
    if (pending) job_tick(j, pending);
    free(sc.hits);
    free(sc.pack);
    return NULL;
}

/* The judge query of one later doc, kept while a worker explains the run
 * of candidates that share it (they are sorted by later doc). */
typedef struct xjudge {
    uint32_t doc;   /* UINT32_MAX: none yet */
    match_query mq;
    match_judge_query jq;
} xjudge;

static void xjudge_free(xjudge *x)
{
    if (x->doc == UINT32_MAX) return;
    match_judge_query_free(&x->jq);
    match_query_free(&x->mq);
    x->doc = UINT32_MAX;
}

/* The judge features of fresh candidate c, computed again as rank_one did
 * when they were not kept to save memory: whichever doc found the pair,
 * judge_hit judges it from its later doc (the earlier one's query is
 * swapped for the later one's), so the later doc's judge query (xj, kept
 * across its run) and the hit pointed at the earlier doc give the same
 * numbers. Returns jf. */
static const double *rejudge(const analyze_corpus *co, const cand *c, const match_hit *hit, xjudge *xj,
                             double jf[JF_COUNT])
{
    if (xj->doc != c->later) {
        xjudge_free(xj);
        match_query_judge_view(&co->mctx, c->later, &xj->mq);   /* judging reads no BM25F query */
        match_judge_prepare(&co->mctx, &xj->mq, &xj->jq);
        xj->doc = c->later;
    }
    match_hit h = *hit;
    h.doc = c->earlier;
    match_judgment jd;
    judge_hit(co, &xj->mq, &xj->jq, &h, c->rank, &jd, jf);
    return jf;
}

/* Candidates a worker claims at a time: runs of one later doc stay with
 * one worker (its judge query is prepared once), and the claims are few. */
#define XCHUNK 32

static void *explain_worker(void *arg)
{
    job *j = arg;
    xjudge xj = {.doc = UINT32_MAX};
    for (;;) {
        size_t lo = atomic_fetch_add(&j->next, XCHUNK);
        if (lo >= j->xn) break;
        size_t hi = lo + XCHUNK < j->xn ? lo + XCHUNK : j->xn;
        for (size_t i = lo; i < hi; i++) {
            const cand *c = &j->cands[j->xlo + i];
            match_hit hit;
            match_judgment jd;
            double jf[JF_COUNT], rjf[JF_COUNT];
            int rank;
            int has_jf = analyze_unpack(c->rec, &hit, &jd, jf, &rank);
            const double *cjf = has_jf ? jf : rejudge(j->co, c, &hit, &xj, rjf);
            /* the pair stored from this slot two batches ago goes here, on
             * the explaining cores, rather than on the one writer's
             * (store_fresh) */
            pair_free(&j->out[i]);
            make_pair(j->co, c->later, c->earlier, c->rank, &hit, &jd, cjf, c->canonical, j->o->now,
                      &j->out[i]);
        }
        job_tick(j, hi - lo);
    }
    xjudge_free(&xj);
    return NULL;
}

/* Runs fn on `threads` workers over the job (fn pulls work from j->next). */
static void run_parallel(job *j, int threads, void *(*fn)(void *))
{
    atomic_store(&j->next, 0);
    j->done = 0;
    dp_run_threads(threads, fn, j);
}

/* ---- pair selection ------------------------------------------------------ */

/* The hits of queries [lo, hi) of j, oriented (query = later doc), whose
 * later doc is before bound, in query order. */
static cand_run collect_range(const job *j, size_t lo, size_t hi, uint32_t bound)
{
    cand_run run = {NULL, 0};
    size_t cap = 0;
    for (size_t i = lo; i < hi; i++) {
        uint32_t q = j->queries[i];
        const qres *r = &j->res[i];
        for (const unsigned char *p = r->pack, *end = p ? p + r->len : NULL; p < end; p += analyze_pack_len(p)) {
            uint32_t d = analyze_pack_doc(p);
            if ((q > d ? q : d) >= bound) continue;
            match_hit hit;
            match_judgment jd;
            int rank;
            analyze_unpack(p, &hit, &jd, NULL, &rank);
            if (run.n == cap) run.v = xrealloc(run.v, (cap = cap ? cap * 2 : 256) * sizeof *run.v);
            run.v[run.n++] = (cand){.later = q > d ? q : d, .earlier = q > d ? d : q, .rank = rank,
                                    .canonical = UINT32_MAX, .rec = p, .p_any = jd.p_any, .is_new = 1,
                                    .relation = (unsigned char)jd.relation};
        }
    }
    return run;
}

/* Queries are collected on all cores a chunk at a time, each chunk into
 * its own run: the runs in chunk order are the serial collection. */
#define COLLECT_CHUNK 2048
typedef struct collect_job {
    const job *j;
    uint32_t bound;
    cand_run *runs;   /* runs[k]: chunk k's */
} collect_job;

static void collect_run(void *arg, size_t lo, size_t hi)
{
    collect_job *c = arg;
    c->runs[lo / COLLECT_CHUNK] = collect_range(c->j, lo, hi, c->bound);
}

/* Orients every kept hit (query = later doc) whose later doc is before
 * bound (UINT32_MAX: every one) and drops repeats (analyze_cands_sort_unique),
 * on `threads` cores. */
static cand *collect_cands(const job *j, uint32_t bound, int threads, size_t *ncand)
{
    size_t nchunks = (j->nq + COLLECT_CHUNK - 1) / COLLECT_CHUNK;
    collect_job c = {.j = j, .bound = bound, .runs = xcalloc(nchunks ? nchunks : 1, sizeof *c.runs)};
    dp_parallel_for(nchunks > 1 ? threads : 1, j->nq, COLLECT_CHUNK, collect_run, &c);
    cand *v = analyze_cands_sort_unique(c.runs, nchunks, threads, ncand);
    free(c.runs);
    return v;
}

static int is_query(const item *it, int all)
{
    return all || (it->kind == ITEM_ISSUE && item_is_open(it));
}

/* ---- incremental bookkeeping ------------------------------------------ */

/* The live items: loaded, or the docs of a grown index (corpus_grow). */
static size_t corpus_n(const analyze_corpus *co)
{
    return co->sparse && co->ix ? index_ndocs(co->ix) : co->items.n;
}

/* What a stored set of pairs was made with: the options and the model's
 * content (a model retrained with other options on the same day differs
 * in its weights, not its description). */
static char *signature(const analyze_opts *o, const analyze_corpus *co)
{
    char *text = match_model_to_text(co->m);
    unsigned long long h = (unsigned long long)XXH3_64bits(text, strlen(text));
    free(text);
    return xasprintf("all=%d k=%zu keep=%zu horizon=%d model=%016llx", o->all, o->k, o->keep, o->horizon, h);
}

/* Small open-addressing-free set of docs: a byte per doc. */
typedef struct docset {
    unsigned char *in;
    uint32_t *list;
    size_t n;
} docset;

static void ds_init(docset *s, size_t ndocs)
{
    s->in = xcalloc(ndocs ? ndocs : 1, 1);
    s->list = xcalloc(ndocs ? ndocs : 1, sizeof *s->list);
    s->n = 0;
}
static void ds_add(docset *s, uint32_t d)
{
    if (!s->in[d]) {
        s->in[d] = 1;
        s->list[s->n++] = d;
    }
}
static void ds_free(docset *s)
{
    free(s->in);
    free(s->list);
}

typedef struct incr {
    int active;
    int64_t seq;              /* store change sequence this run covers */
    size_t nprev;             /* items at the previous run */
    strvec keys;              /* items changed since the previous run */
    docset changed, rerun;
    pair_ref_vec old;         /* the stored pairs, keys only */
    int64_t *old_q, *old_c;   /* doc of each old pair's keys, -1 if gone */
    /* A grown corpus reads only the stored pairs it needs: those naming a
     * changed item (plan_map), then those under the queries whose pairs
     * are replaced (merge_old); seen holds their ids. */
    int partial;
    dp_u64map seen;
} incr;

static void incr_free(incr *in)
{
    sv_free(&in->keys);
    if (!in->active) return;
    ds_free(&in->changed);
    ds_free(&in->rerun);
    pair_ref_vec_free(&in->old);
    free(in->old_q);
    free(in->old_c);
    dp_u64map_free(&in->seen);
}

static int kv_get_num(store *st, int64_t repo, const char *key, int64_t *out, dp_err *err)
{
    char *v = NULL;
    int rc = store_kv_get(st, repo, key, &v, err);
    if (rc == DP_OK) *out = strtoll(v, NULL, 10);
    free(v);
    return rc;
}

/* Before indexing: decides whether this run can be incremental and, if so,
 * collects the keys of the items changed since the previous run: those
 * with a change sequence number after the one it saved, up to seq (read
 * before the corpus was loaded). Returns DP_OK with in->active = 0 for a
 * full run. */
static int plan_check(store *st, const analyze_corpus *co, const analyze_opts *o,
                      const char *sig, int64_t seq, incr *in, dp_err *err)
{
    memset(in, 0, sizeof *in);
    in->seq = seq;
    if (o->mode == ANALYZE_FULL) return DP_OK;
    char *old_sig = NULL;
    int rc = store_kv_get(st, co->repo_id, KV_SIGNATURE, &old_sig, err);
    if (rc == DP_ERR) return DP_ERR;
    int same = rc == DP_OK && !strcmp(old_sig, sig);
    free(old_sig);
    if (!same) return DP_OK;   /* never analysed, or with other options/model */
    int64_t since = 0, nprev = 0;
    rc = kv_get_num(st, co->repo_id, KV_SEQ, &since, err);   /* absent: analysed before store v4 */
    if (rc == DP_OK) rc = kv_get_num(st, co->repo_id, KV_NITEMS, &nprev, err);
    if (rc != DP_OK) return rc == DP_ERR ? DP_ERR : DP_OK;
    if (store_items_changed(st, co->repo_id, since, seq, &in->keys, err) != DP_OK) return DP_ERR;
    size_t n = corpus_n(co);
    /* So much changed that a full run is as fast; or more new items than
     * changed ones, which the change sequence rules out (every insert is
     * numbered) but costs nothing to check. */
    if ((in->keys.n > 1000 && in->keys.n > n / 10) || n > (size_t)nprev + in->keys.n) {
        sv_free(&in->keys);
        return DP_OK;
    }
    in->active = 1;
    in->nprev = (size_t)nprev;
    return DP_OK;
}

/* Whether nothing changed since the last run, decided before loading the
 * items (at 250k items loading them is most of an up-to-date run): the
 * same options and model (signature) and no item written since the
 * analysed change sequence -- every insert, edit and deletion takes a new
 * number, so plan_check would find no changed key and the count it saved.
 * (Counting the live items instead reads every row: 0.5 s at 250k.)
 * *up = 1 then, with stats->items and the model's description filled. */
static int quick_up_to_date(store *st, int64_t repo, const analyze_opts *o, int64_t seq,
                            analyze_stats *stats, int *up, dp_err *err)
{
    *up = 0;
    if (o->mode == ANALYZE_FULL) return DP_OK;
    analyze_corpus co;   /* only its model */
    memset(&co, 0, sizeof co);
    co.repo_id = repo;
    if (load_model(st, &co, err) != DP_OK) return DP_ERR;
    /* the horizon is resolved at the item count the last run saved: when
     * nothing changed, that is today's count */
    int64_t since = -1, nprev = -1;
    int rc = kv_get_num(st, repo, KV_NITEMS, &nprev, err);
    if (rc != DP_OK || nprev < 0) {
        analyze_corpus_free(&co);
        return rc == DP_ERR ? DP_ERR : DP_OK;
    }
    analyze_opts ro = *o;
    ro.horizon = analyze_horizon(o, (size_t)nprev);
    char *sig = signature(&ro, &co), *old_sig = NULL;
    rc = store_kv_get(st, repo, KV_SIGNATURE, &old_sig, err);
    int same = rc == DP_OK && !strcmp(old_sig, sig);
    if (rc != DP_ERR && same) rc = kv_get_num(st, repo, KV_SEQ, &since, err);
    if (rc == DP_OK && same && since == seq) {
        *up = 1;
        stats->items = (size_t)nprev;
        snprintf(stats->model_desc, sizeof stats->model_desc, "%s", co.model_desc);
    }
    free(old_sig);
    free(sig);
    analyze_corpus_free(&co);
    return rc == DP_ERR ? DP_ERR : DP_OK;
}

/* Maps the old pairs in->old[from..) to docs, dropping those read before
 * (a partial in->old is read in two steps, and a pair may come twice). */
static void old_add(const analyze_corpus *co, incr *in, size_t from)
{
    size_t o = in->partial ? from : in->old.n;
    for (size_t i = from; in->partial && i < in->old.n; i++) {
        uint64_t *at = dp_u64map_at(&in->seen, (uint64_t)in->old.v[i].id);
        if (*at) {
            free(in->old.v[i].query_key);
            free(in->old.v[i].cand_key);
            continue;
        }
        *at = 1;
        in->old.v[o++] = in->old.v[i];
    }
    in->old.n = o;
    in->old_q = xrealloc(in->old_q, (o ? o : 1) * sizeof *in->old_q);
    in->old_c = xrealloc(in->old_c, (o ? o : 1) * sizeof *in->old_c);
    for (size_t i = from; i < o; i++) {
        in->old_q[i] = index_find(co->ix, in->old.v[i].query_key);
        in->old_c[i] = index_find(co->ix, in->old.v[i].cand_key);
    }
}

/* After indexing: the changed docs and the stored pairs' docs -- of a
 * grown corpus only the pairs naming a changed item (an item gone since
 * the last run is a changed one: its deletion took a change number). */
static int plan_map(store *st, const analyze_corpus *co, incr *in, dp_err *err)
{
    size_t n = index_ndocs(co->ix);
    ds_init(&in->changed, n);
    ds_init(&in->rerun, n);
    for (size_t i = 0; i < in->keys.n; i++) {
        int64_t d = index_find(co->ix, in->keys.v[i]);
        if (d >= 0) ds_add(&in->changed, (uint32_t)d);
    }
    in->partial = co->sparse;
    int rc = in->partial ? store_pair_refs_for(st, co->repo_id, (const char *const *)in->keys.v, in->keys.n, 1,
                                               &in->old, err)
                         : store_pair_refs_load(st, co->repo_id, &in->old, err);
    if (rc != DP_OK) return DP_ERR;
    old_add(co, in, 0);
    return DP_OK;
}

/* The queries to re-run: changed queries, queries a changed item now ranks
 * near (probed by ranking from the changed item), queries with an old pair
 * touching a changed item. */
static void incremental_queries(const analyze_corpus *co, const analyze_opts *o, incr *in)
{
    /* A query's stored list is its top `keep` plus the rare high-probability
     * hit, so probing twice that deep finds the queries a changed item can
     * enter without re-ranking all k-neighbourhoods (420 -> ~150 queries for
     * 20 changed Hive items). */
    size_t depth = o->keep * 2 > 5 ? o->keep * 2 : 5;
    if (depth > o->k) depth = o->k;
    match_hit *buf = xcalloc(depth, sizeof *buf);
    for (size_t i = 0; i < in->changed.n; i++) {
        uint32_t c = in->changed.list[i];
        if (is_query(index_item(co->ix, c), o->all)) ds_add(&in->rerun, c);
        index_query q;
        index_query_from_doc(co->ix, c, &q);
        uint32_t lo, hi;
        query_range(co, o, c, &lo, &hi);
        size_t n = match_rank(&co->mctx, &q, c, lo, hi, depth, buf);
        index_query_free(&q);
        for (size_t h = 0; h < n; h++)
            if (is_query(index_item(co->ix, buf[h].doc), o->all)) ds_add(&in->rerun, buf[h].doc);
    }
    free(buf);
    for (size_t i = 0; i < in->old.n; i++) {
        int64_t q = in->old_q[i], c = in->old_c[i];
        if (q < 0 || c < 0) continue;
        if (in->changed.in[q] && is_query(index_item(co->ix, (uint32_t)c), o->all))
            ds_add(&in->rerun, (uint32_t)c);
        if (in->changed.in[c] && is_query(index_item(co->ix, (uint32_t)q), o->all))
            ds_add(&in->rerun, (uint32_t)q);
    }
}

/* ---- the run -------------------------------------------------------------- */

void analyze_opts_default(analyze_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 20;
    o->keep = 3;
    o->horizon = ANALYZE_HORIZON_AUTO;
    o->max_memory = ANALYZE_MAX_MEMORY;
}

int analyze_horizon(const analyze_opts *o, size_t n)
{
    if (o->horizon != ANALYZE_HORIZON_AUTO) return o->horizon > 0 ? o->horizon : 0;
    return n >= ANALYZE_HORIZON_FROM ? ANALYZE_HORIZON : 0;
}

/* When analysis last ran (what `doppel stats` shows); the whole record
 * when nothing changed since the previous run. */
static int save_last_run(store *st, int64_t repo, int64_t now, dp_err *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)now);
    return store_kv_set(st, repo, KV_LAST_RUN, buf, err);
}

static int save_state(store *st, const analyze_corpus *co, const char *sig, int64_t seq,
                      int64_t now, dp_err *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)seq);
    if (store_kv_set(st, co->repo_id, KV_SEQ, buf, err) != DP_OK) return DP_ERR;
    if (store_kv_set(st, co->repo_id, KV_OLD_WATERMARK, NULL, err) != DP_OK) return DP_ERR;
    if (store_kv_set(st, co->repo_id, KV_SIGNATURE, sig, err) != DP_OK) return DP_ERR;
    snprintf(buf, sizeof buf, "%zu", corpus_n(co));
    if (store_kv_set(st, co->repo_id, KV_NITEMS, buf, err) != DP_OK) return DP_ERR;
    return save_last_run(st, co->repo_id, now, err);
}

/* Adds the old pairs under the replaced keys that nothing re-derived. */
static size_t carry_old(const incr *in, const unsigned char *keyed, cand **v, size_t n)
{
    size_t cap = n;
    for (size_t i = 0; i < in->old.n; i++) {
        int64_t q = in->old_q[i], c = in->old_c[i];
        if (q < 0 || c < 0 || !keyed[q]) continue;
        if (in->changed.in[q] || in->changed.in[c]) continue;        /* re-derived */
        if (in->rerun.in[q] && in->rerun.in[c]) continue;            /* both re-ran */
        if (n == cap) *v = xrealloc(*v, (cap = cap * 2 + 16) * sizeof **v);
        (*v)[n++] = (cand){.later = (uint32_t)q, .earlier = (uint32_t)c, .canonical = UINT32_MAX, .old = i};   /* read back */
    }
    return n;
}

/* Whether to (re)save the index snapshot after this build: when there was
 * none usable, or once the docs analysed since the last save are many
 * enough that decoding them next time pays for the write. */
static int snapshot_due(const analyze_corpus *co)
{
    const index_snap_info *si = &co->snap;
    size_t n = co->items.n;
    if (co->sparse) return 0;   /* a snapshot reads every item */
    size_t min = n / SNAP_RESAVE_SHARE > SNAP_RESAVE_MIN ? n / SNAP_RESAVE_SHARE : SNAP_RESAVE_MIN;
    return si->reused == 0 || si->template_learned || si->analysed >= min;
}

/* Docs to read, in the order they are needed (repeats allowed). */
typedef struct docvec {
    uint32_t *v;
    size_t n, cap;
} docvec;

static void dv_push(docvec *dv, uint32_t d)
{
    if (dv->n == dv->cap) {
        dv->cap = dv->cap ? 2 * dv->cap : 1024;
        dv->v = xrealloc(dv->v, dv->cap * sizeof *dv->v);
    }
    dv->v[dv->n++] = d;
}

/* Appends the pool of query q (doc qdoc) to dv: the index alone finds it,
 * so the pools of many queries are read at once afterwards. */
static void sparse_pool_docs(const analyze_corpus *co, const analyze_opts *o, const index_query *q, uint32_t qdoc,
                             docvec *dv)
{
    index_hit pool[MATCH_POOL];
    uint32_t lo, hi;
    query_range(co, o, qdoc, &lo, &hi);
    size_t np = lo < hi ? index_topk(co->ix, q, lo, hi, qdoc, MATCH_POOL, pool) : 0;
    for (size_t i = 0; i < np; i++) dv_push(dv, pool[i].doc);
}

/* Reads dv's docs in its order -- the order reading them pool by pool had,
 * so the links come in the same order -- a chunk of them per statement. */
static int dv_read(analyze_corpus *co, docvec *dv, dp_err *err)
{
    int rc = corpus_need_many(co, dv->v, dv->n, err);
    free(dv->v);
    memset(dv, 0, sizeof *dv);
    return rc;
}

/* The changed docs and the pools incremental_queries probes; the links'
 * adjacency is rebuilt once, at the end (incremental_queries ranks). */
static int sparse_need_probes(analyze_corpus *co, const analyze_opts *o, const incr *in, dp_err *err)
{
    docvec dv = {0};
    int rc = corpus_need_many(co, in->changed.list, in->changed.n, err);
    for (size_t i = 0; i < in->changed.n && rc == DP_OK; i++) {
        index_query q;
        index_query_from_doc(co->ix, in->changed.list[i], &q);
        sparse_pool_docs(co, o, &q, in->changed.list[i], &dv);
        index_query_free(&q);
    }
    for (size_t i = 0; i < in->old.n && rc == DP_OK; i++) {   /* the other end of their old pairs */
        int64_t q = in->old_q[i], c = in->old_c[i];
        if (q < 0 || c < 0 || (!in->changed.in[q] && !in->changed.in[c])) continue;
        dv_push(&dv, (uint32_t)q);
        dv_push(&dv, (uint32_t)c);
    }
    if (rc == DP_OK) rc = dv_read(co, &dv, err);
    free(dv.v);
    corpus_relink(co);
    return rc;
}

typedef struct pool_job {
    const analyze_corpus *co;
    const analyze_opts *o;
    const uint32_t *queries;
    qpools *p;
} pool_job;

static void pools_run(void *arg, size_t lo, size_t hi)
{
    pool_job *pj = arg;
    for (size_t i = lo; i < hi; i++) {
        match_query mq;
        match_query_from_doc(&pj->co->mctx, pj->queries[i], &mq);
        uint32_t a, b;
        query_range(pj->co, pj->o, pj->queries[i], &a, &b);
        pj->p->n[i] = match_pool(&pj->co->mctx, &mq, a, b, pj->p->hit[i]);
        match_query_free(&mq);
    }
}

/* The queries and their pools (made on all cores, kept in *pools when they
 * are few enough, else NULL); the links' adjacency is rebuilt once, at the
 * end. A read item brings all its links, so the features of the items read
 * count them all; the far ends of duplicate links are read later, for the
 * pairs whose canonical item they may be (assign_canonical). */
static int sparse_need_queries(analyze_corpus *co, const analyze_opts *o, const uint32_t *queries, size_t nq,
                               int threads, qpools **pools, dp_err *err)
{
    docvec dv = {0};
    *pools = NULL;
    int rc = corpus_need_many(co, queries, nq, err);
    qpools *p = xcalloc(1, sizeof *p);
    p->hit = xmalloc((nq ? nq : 1) * sizeof *p->hit);
    p->n = xmalloc((nq ? nq : 1) * sizeof *p->n);
    if (rc == DP_OK) {
        pool_job pj = {co, o, queries, p};
        dp_parallel_for(threads, nq, 8, pools_run, &pj);
        for (size_t i = 0; i < nq; i++)
            for (size_t h = 0; h < p->n[i]; h++) dv_push(&dv, p->hit[i][h].doc);
    }
    if (rc == DP_OK && nq <= QPOOLS_MAX) *pools = p;
    else qpools_free(p);
    if (rc == DP_OK) rc = dv_read(co, &dv, err);
    free(dv.v);
    corpus_relink(co);
    return rc;
}

/* A sparse corpus reads thousands of items and their links one statement
 * each: inside one read snapshot they share a lock (outside, every
 * statement takes and drops one: four fcntl and a stat each). 1 when one
 * was begun (store_read_end it); 0 when a transaction is open already. */
static int sparse_read_begin(const analyze_corpus *co)
{
    dp_err e;
    return co->sparse && store_read_begin(co->st, &e) == DP_OK;
}

/* The queries of this run: every query item, or (incremental) the affected
 * ones; a sparse corpus reads what they need. */
static int pick_queries(analyze_corpus *co, const analyze_opts *o, incr *in, int threads, uint32_t **out,
                        size_t *nq, qpools **pools, dp_err *err)
{
    *pools = NULL;
    size_t n = corpus_n(co);
    uint32_t *queries = xcalloc(n ? n : 1, sizeof *queries);
    *nq = 0;
    *out = queries;
    if (in->active) {
        int snap = sparse_read_begin(co);
        int rc = co->sparse ? sparse_need_probes(co, o, in, err) : DP_OK;
        if (rc == DP_OK) {
            incremental_queries(co, o, in);
            memcpy(queries, in->rerun.list, in->rerun.n * sizeof *queries);
            *nq = in->rerun.n;
            if (co->sparse) rc = sparse_need_queries(co, o, queries, *nq, threads, pools, err);
        }
        if (snap) store_read_end(co->st);
        return rc;
    } else {
        for (uint32_t d = 0; d < n; d++)
            if (is_query(&co->items.v[d], o->all)) queries[(*nq)++] = d;
    }
    return DP_OK;
}

/* Incremental: marks the queries whose stored pairs are replaced and adds
 * the old pairs under them that nothing re-derived (a partial in->old
 * first reads theirs). *ncand becomes the new count. */
static int merge_old(store *st, const analyze_corpus *co, incr *in, const uint32_t *queries, size_t nq,
                     int threads, unsigned char **keyed_out, cand **cands, size_t *ncand, dp_err *err)
{
    size_t n = corpus_n(co);
    unsigned char *keyed = xcalloc(n ? n : 1, 1);
    *keyed_out = keyed;
    for (size_t i = 0; i < nq; i++) keyed[queries[i]] = 1;
    for (size_t i = 0; i < *ncand; i++) keyed[(*cands)[i].later] = 1;
    for (size_t i = 0; i < in->old.n; i++)   /* stale pairs of changed items go too */
        if (in->old_q[i] >= 0 && in->old_c[i] >= 0 &&
            (in->changed.in[in->old_q[i]] || in->changed.in[in->old_c[i]]))
            keyed[in->old_q[i]] = 1;
    if (in->partial) {   /* the pairs under the keyed queries */
        strvec keys = {0};
        for (size_t d = 0; d < n; d++)
            if (keyed[d]) sv_push(&keys, index_doc_key(co->ix, (uint32_t)d));
        size_t from = in->old.n;
        int rc = store_pair_refs_for(st, co->repo_id, (const char *const *)keys.v, keys.n, 0, &in->old, err);
        sv_free(&keys);
        if (rc != DP_OK) return DP_ERR;
        old_add(co, in, from);
    }
    size_t n_all = carry_old(in, keyed, cands, *ncand);   /* moves *cands */
    cand_run all = {*cands, n_all};
    *cands = analyze_cands_sort_unique(&all, 1, threads, ncand);
    return DP_OK;
}

/* ---- the canonical item ------------------------------------------------- */

/* The canonical item of every fresh duplicate pair: the best of its two
 * items and of the items the data already marks either of them a
 * duplicate of ("two copies of a third item" cite the third). Only those
 * direct links count: chaining judged pairs or long link paths joins
 * unrelated items into one cluster. */
/* Whether a candidate gets a canonical item: a fresh pair judged a
 * duplicate with a recommendation. */
static int wants_canonical(const cand *c)
{
    return c->is_new && c->rec && c->relation == RELATION_DUPLICATE;
}

static int assign_canonical(const analyze_corpus *co, cand *cands, size_t ncand, dp_err *err)
{
    size_t n = index_ndocs(co->ix);
    /* CSR of "src is a duplicate of dst", by src */
    size_t *off = xcalloc(n + 1, sizeof *off);
    int64_t (*e)[2] = xmalloc((co->links.n ? co->links.n : 1) * sizeof *e);
    size_t ne = 0;
    for (size_t i = 0; i < co->links.n; i++) {
        const item_link *l = &co->links.v[i];
        if (l->type != LINK_DUPLICATE) continue;
        int64_t a = index_find(co->ix, l->src_key), b = index_find(co->ix, l->dst_key);
        if (a < 0 || b < 0 || a == b) continue;
        e[ne][0] = a;
        e[ne][1] = b;
        off[a + 1]++;
        ne++;
    }
    for (size_t d = 0; d < n; d++) off[d + 1] += off[d];
    uint32_t *dst = xmalloc((ne ? ne : 1) * sizeof *dst);
    size_t *fill = xmalloc((n ? n : 1) * sizeof *fill);
    memcpy(fill, off, n * sizeof *fill);
    for (size_t i = 0; i < ne; i++) dst[fill[e[i][0]]++] = (uint32_t)e[i][1];
    free(fill);
    free(e);
    /* a sparse corpus reads the items the clusters name: the far ends of
     * the two items' duplicate links (their own links came with them) --
     * a few, where reading the far ends of every item read cost as much as
     * reading the pools (20 new items at 250k: 3,388 items, 0.1 s) */
    int rc = DP_OK;
    if (co->sparse) {
        docvec need = {0};
        for (size_t i = 0; i < ncand; i++) {
            const cand *c = &cands[i];
            if (!wants_canonical(c)) continue;
            for (size_t j = off[c->later]; j < off[c->later + 1]; j++) dv_push(&need, dst[j]);
            for (size_t j = off[c->earlier]; j < off[c->earlier + 1]; j++) dv_push(&need, dst[j]);
        }
        rc = analyze_corpus_need(co, need.v, need.n, err);
        free(need.v);
    }
    uint32_t *tmp = NULL;
    const item **its = NULL;
    size_t tcap = 0;
    for (size_t i = 0; i < ncand && rc == DP_OK; i++) {
        cand *c = &cands[i];
        if (!wants_canonical(c)) continue;
        size_t want = 2 + (off[c->later + 1] - off[c->later]) + (off[c->earlier + 1] - off[c->earlier]);
        if (want > tcap) {
            tcap = want;
            tmp = xrealloc(tmp, tcap * sizeof *tmp);
            its = xrealloc(its, tcap * sizeof *its);
        }
        size_t k = 0;
        tmp[k++] = c->later;
        tmp[k++] = c->earlier;
        for (size_t j = off[c->later]; j < off[c->later + 1]; j++) tmp[k++] = dst[j];
        for (size_t j = off[c->earlier]; j < off[c->earlier + 1]; j++) tmp[k++] = dst[j];
        for (size_t j = 0; j < k; j++) its[j] = index_item(co->ix, tmp[j]);
        c->canonical = tmp[explain_canonical(its, k)];
    }
    free(its);
    free(tmp);
    free(dst);
    free(off);
    return rc;
}

/* ---- memory ------------------------------------------------------------------ */

/* What an explained pair holds until it is stored: keys, reasoning, value
 * detail and comment (about 1.5 KB on the shared data), with room. */
#define PAIR_BYTES 4096
/* The smallest batch --max-memory goes down to: below it the store's
 * per-call overhead shows and the memory saved is noise. */
#define ANALYZE_BATCH_MIN 256

/* The most ranking passes a ceiling asks for (see plan_memory). */
#define ANALYZE_PASSES_MAX 16

typedef struct mem_plan {
    size_t batch;      /* pairs explained and stored per batch */
    unsigned passes;   /* ranking passes of a full run (1: all queries, then store) */
    int keep_jf;       /* keep judge features from ranking to explaining */
    int drop_fields;   /* the index's fields were freed: free the ones
                          explaining splits again after each batch */
} mem_plan;

/* Hands memory freed in the heap's middle back to the system (glibc keeps
 * it otherwise: the index build frees far more than it keeps). */
static void heap_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Resident set size of this process (Linux /proc), 0 when unknown. */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size = 0, res = 0;
    int ok = fscanf(f, "%llu %llu", &size, &res) == 2;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return ok && page > 0 ? (size_t)res * (size_t)page : 0;
}

/* A kept hit packed (analyze_pack.h) with its judgment, and its judge
 * features: on the shared data ~190 (48k items) and ~194 bytes (250k),
 * and ~85 (both) -- the structs were 332 and 400 -- here with room. */
#define HIT_PACKED_BYTES 208
#define JF_PACKED_BYTES 96
/* A query's block of packed hits beside its qres: malloc's header and
 * rounding. */
#define QRES_BLOCK_BYTES 24

size_t analyze_hold_bytes(size_t nq, size_t keep, int jf)
{
    size_t kept = nq * (keep + 1);   /* `keep` per query and the rare strong one */
    return kept * (HIT_PACKED_BYTES + (jf ? JF_PACKED_BYTES : 0)) + nq * (sizeof(qres) + QRES_BLOCK_BYTES);
}

/* With a ceiling, before indexing: whether the build keeps each doc's
 * fields (its split text, about the size of the items' text). Items and
 * index (fields kept) come to about 3x what is resident once the items
 * are read, and 80 MB (1471 MB from 468 MB at 250k items, 358 MB from
 * 95 MB at 48k); when that and what ranking keeps (every item a query, at
 * most) pass the ceiling, plan_memory would free the fields after the
 * build anyway, and not keeping them also keeps them out of the build's
 * peak. A guess either way costs no result: a lean build wrongly guessed
 * splits some docs again, a full one is trimmed after. */
static int plan_build(const analyze_corpus *co, const analyze_opts *o)
{
    if (!o->max_memory) return 0;
    heap_trim();
    size_t built = 3 * rss_bytes() + ((size_t)80 << 20);
    return built + analyze_hold_bytes(co->items.n, o->keep, 0) > o->max_memory;   /* as plan_memory, roughly */
}

/* What explaining adds to ranking's peak: the candidates and the pairs in
 * flight, less the postings a full run frees in between. */
static size_t past_ranking(size_t cands, size_t pairs, size_t freed)
{
    return cands + pairs > freed ? cands + pairs - freed : 0;
}

/* With a ceiling (--max-memory), after indexing: what is resident now
 * (items, index, model) is fixed; what ranking keeps per query and the
 * explained pairs in flight are sized to what is left, trading in this
 * order (each only when the ceiling needs it): the judge features are
 * recomputed when a pair is explained instead of kept (one more judgment
 * per stored pair) -- and when that is not enough, the fields the index
 * kept from its build are freed (split again for the docs explained) --,
 * and fewer pairs are in flight per batch. Room left after the plan's
 * ANALYZE_BATCH lets the batch grow up to ANALYZE_BATCH_MAX (traded for
 * nothing). None of them changes a result. stats->traded says what was
 * done. */
static void plan_memory(analyze_corpus *co, const analyze_opts *o, size_t nq, int full, mem_plan *mp,
                        analyze_stats *st)
{
    mp->passes = 1;
    mp->batch = o->batch ? o->batch : ANALYZE_BATCH;
    mp->keep_jf = 1;
    mp->drop_fields = 0;
    st->batch = mp->batch;
    st->max_memory = o->max_memory;
    heap_trim();   /* what the index build freed, whatever the ceiling */
    if (!o->max_memory) {
        if (!o->batch) st->batch = mp->batch = ANALYZE_BATCH_MAX;
        return;
    }
    size_t hold = analyze_hold_bytes(nq, o->keep, 0);
    size_t jf = analyze_hold_bytes(nq, o->keep, 1) - hold;
    size_t cands = nq * (o->keep + 1) * sizeof(cand);
    size_t freed = full ? index_postings_bytes(co->ix) : 0;   /* rank_and_store, once ranked */
    size_t base = rss_bytes();
    sbuf why;
    sb_init(&why);
    /* the judge features go first (packed, ~85 bytes a hit; recomputing
     * them costs a judgment per stored pair), the fields (about the items'
     * text) only when that is not enough: splitting them again after each
     * batch costs more */
    if (co->drop_fields || base + hold + past_ranking(cands, 2 * mp->batch * PAIR_BYTES, freed) > o->max_memory) {
        if (!co->drop_fields) {   /* the build kept them (plan_build guessed room) */
            index_fields_release(co->ix);
            heap_trim();
            base = rss_bytes();
        }
        mp->drop_fields = 1;
        sb_printf(&why, "index fields not kept (split again when explained)");
    }
    st->mem_base = base;
    size_t left = o->max_memory > base + hold ? o->max_memory - base - hold : 0;
    if (jf + past_ranking(cands, 2 * mp->batch * PAIR_BYTES, freed) > left) {
        mp->keep_jf = 0;
        sb_printf(&why, "%sjudge features recomputed when explained", why.len ? "; " : "");
    } else {
        left -= jf;
    }
    size_t b = (left + freed > cands ? left + freed - cands : 0) / (2 * PAIR_BYTES);
    if (b < mp->batch) {
        mp->batch = b > ANALYZE_BATCH_MIN ? b : ANALYZE_BATCH_MIN;
        sb_printf(&why, "%s%zu pairs in flight per batch instead of %zu", why.len ? "; " : "", mp->batch,
                st->batch);
    } else if (!o->batch) {   /* room to spare: larger batches, nothing traded for them */
        mp->batch = b < ANALYZE_BATCH_MAX ? b : ANALYZE_BATCH_MAX;
    }
    size_t pairs = 2 * mp->batch * PAIR_BYTES;
    size_t need = hold + (mp->keep_jf ? jf : 0) + past_ranking(cands, pairs, freed);
    size_t room = o->max_memory > base ? o->max_memory - base : 0;
    /* A full run may rank in passes (rank_store_passes; the postings stay):
     * a pass holds its own queries' hits and those pointing past it,
     * guessed as many again. */
    if (full && need > room && nq > 1) {
        need = hold + (mp->keep_jf ? jf : 0) + cands;
        room = room > pairs ? room - pairs : 0;
        size_t p = room ? (2 * need + room - 1) / room : ANALYZE_PASSES_MAX;
        if (p > ANALYZE_PASSES_MAX) p = ANALYZE_PASSES_MAX;
        if (p > nq) p = nq;
        mp->passes = p < 2 ? 2 : (unsigned)p;
        need = 2 * need / mp->passes;
        hold = 2 * hold / mp->passes;
        sb_printf(&why, "%s%u ranking passes, each storing the pairs it settles (writers to the store wait "
                  "meanwhile)", why.len ? "; " : "", mp->passes);
    }
    if (need > room)
        sb_printf(&why, "%sstill over: %zu MB resident after indexing (items, index) and %zu MB for the hits ranking keeps",
                  why.len ? "; " : "", base >> 20, hold >> 20);
    st->batch = mp->batch;
    snprintf(st->traded, sizeof st->traded, "%s", why.len ? why.s : "nothing");
    sb_free(&why);
}

/* ---- explaining and storing, pipelined ------------------------------------ */

/* Fresh pairs are explained and stored in batches: worker threads explain
 * batch b+1 while the calling thread -- SQLite has one writer -- inserts
 * batch b, so both phases keep the cores busy and only two batches of
 * explained pairs (their reasoning and comments, ~2 KB each) are ever in
 * memory. The whole replacement stays one transaction. */
typedef struct xdriver {
    job *j;
    int threads;
    double busy;       /* seconds spent explaining */
} xdriver;

static void *xdriver_main(void *arg)
{
    xdriver *d = arg;
    double t0 = dp_now();
    atomic_store(&d->j->next, 0);
    dp_run_threads(d->threads, explain_worker, d->j);
    d->busy += dp_now() - t0;
    return NULL;
}

/* Starts explaining cands[lo, lo+n) into out, on a thread of its own when
 * one can be had (else here, at once). Returns 1 when a thread runs. */
static int xbatch_start(xdriver *d, pthread_t *th, size_t lo, size_t n, pair *out)
{
    d->j->xlo = lo;
    d->j->xn = n;
    d->j->out = out;
    if (pthread_create(th, NULL, xdriver_main, d) == 0) return 1;
    xdriver_main(d);
    return 0;
}

static void pairs_free_n(pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) pair_free(&p[i]);
}

/* The old pairs a replacement deletes: every pair of the repository (all),
 * or those of the given queries. */
typedef struct xdelete {
    int all;
    const char *const *keys;
    size_t nkeys;
    /* an incremental run merges instead (store_pairs_merge): most of the
     * pairs it stores again are the stored ones, whose rows and nine
     * indexes need no write; max_id is store_pairs_merge_begin's */
    int merge;
    int64_t max_id;
} xdelete;

static int old_delete(store *st, int64_t repo, const xdelete *del, dp_err *err)
{
    if (del->merge) return DP_OK;   /* store_pairs_merge_end deletes what is left */
    /* no keys would mean "every pair of the repo" to the store */
    if (del->all) return store_pairs_delete(st, repo, NULL, 0, err);
    return del->nkeys ? store_pairs_delete(st, repo, del->keys, del->nkeys, err) : DP_OK;
}

static int pairs_put(store *st, int64_t repo, const xdelete *del, const pair *p, size_t n, dp_err *err)
{
    if (del && del->merge) return store_pairs_merge(st, repo, p, n, err);
    return store_pairs_add(st, repo, p, n, err);
}

/* Explains and inserts the nfresh fresh candidates (j->cands[0..nfresh)),
 * batch by batch, in their order; del (NULL: none) is deleted first, while
 * the first batch is explained (at 250k items the old pairs take seconds). */
static int store_fresh(store *st, const analyze_corpus *co, job *j, int threads, int bulk, size_t nfresh,
                       size_t batch, const xdelete *del, analyze_stats *stats, dp_err *err)
{
    /* room for a batch, or for all when fewer: an incremental run's
     * thousand pairs would otherwise walk 2 x 16k slots never written
     * (pairs_free_n below), faulting in their pages */
    size_t slots = nfresh < batch ? (nfresh ? nfresh : 1) : batch;
    pair *buf[2] = {xcalloc(slots, sizeof(pair)), xcalloc(slots, sizeof(pair))};
    /* the calling thread inserts all along. While the store keeps the pair
     * indexes up to date, inserting is the longer half: it gets a core of
     * its own (2 explainers on 2 cores starved it). When they are built
     * once at the end (bulk, store_pairs_bulk_begin) it is the short half,
     * and every core explains. */
    xdriver d = {j, bulk || threads < 2 ? (threads > 0 ? threads : 1) : threads - 1, 0};
    j->phase = "explain";
    j->total = nfresh;
    j->done = 0;
    int rc = DP_OK;
    size_t prev = 0;   /* pairs of the batch explained before this one, in buf[b ^ 1] */
    for (size_t lo = 0, b = 0;; lo += batch, b ^= 1) {
        size_t n = rc == DP_OK && lo < nfresh ? (nfresh - lo < batch ? nfresh - lo : batch) : 0;
        /* no explainer runs here: the fields the last batch split again go
         * (they would otherwise all come back, batch by batch) */
        if (j->drop_fields) index_fields_release(co->ix);
        pthread_t th;
        int running = n ? xbatch_start(&d, &th, lo, n, buf[b]) : 0;
        if (lo == 0 && del && rc == DP_OK) rc = old_delete(st, co->repo_id, del, err);
        if (prev) {   /* its pairs are freed as the batch after next overwrites them */
            if (rc == DP_OK) rc = pairs_put(st, co->repo_id, del, buf[b ^ 1], prev, err);
            for (size_t i = 0; i < prev; i++) stats->known += buf[b ^ 1][i].known != 0;
        }
        if (running) pthread_join(th, NULL);
        if (!n) break;
        prev = n;
    }
    stats->t_explain = d.busy;
    pairs_free_n(buf[0], slots);   /* what no later batch overwrote (zeroed slots free nothing) */
    pairs_free_n(buf[1], slots);
    free(buf[0]);
    free(buf[1]);
    return rc;
}

/* The keys whose stored pairs an incremental run replaces: the keyed
 * queries and those of pairs naming an item that is gone. */
static void replaced_keys(const analyze_corpus *co, const incr *in, const unsigned char *keyed,
                          strvec *keys)
{
    for (size_t d = 0; d < corpus_n(co); d++)
        if (keyed[d]) sv_push(keys, index_doc_key(co->ix, (uint32_t)d));
    /* pairs naming an item that is gone (deleted upstream) go too */
    for (size_t i = 0; i < in->old.n; i++)
        if ((in->old_q[i] < 0 || in->old_c[i] < 0) && !sv_contains(keys, in->old.v[i].query_key))
            sv_push(keys, in->old.v[i].query_key);
}

/* What ranking kept (stats->hits_kept, hits_bytes): the packed hits and
 * the queries' qres, as analyze_hold_bytes counts. */
static void held_count(const job *j, analyze_stats *stats)
{
    size_t n = 0, bytes = j->nq * sizeof(qres);
    for (size_t i = 0; i < j->nq; i++) {
        n += j->res[i].n;
        bytes += j->res[i].len;
    }
    stats->hits_kept = n;
    stats->hits_bytes = bytes;
}

/* Frees what ranking kept per query (the fresh candidates point into it). */
static void job_res_free(job *j)
{
    for (size_t i = 0; j->res && i < j->nq; i++) free(j->res[i].pack);
    free(j->res);
    j->res = NULL;
    j->cands = NULL;
}

/* What the end of a full run reads no more once its pairs are explained
 * and the snapshot serialised -- most of the heap, 15 or so blocks an item
 * (at 250k items ~3 s of one core, at the very end of the run before);
 * what stays is what the end reads: the repository and the item count. A
 * sparse corpus's slots are counted by its index: it is left alone. */
void analyze_corpus_release(analyze_corpus *co)
{
    if (co->sparse) return;
    corpus_persist_wait(co);   /* the writer reads the index and the items */
    for (size_t i = 0; i < co->items.n; i++) item_free(&co->items.v[i]);
    if (co->ix) {   /* analyze_corpus_free frees the context only with the index */
        match_ctx_free(&co->mctx);
        index_free(co->ix);
        co->ix = NULL;
    }
    explain_linkset_free(co->ls);
    co->ls = NULL;
    link_vec_free(&co->links);
    free(co->created);
    co->created = NULL;
}

/* The index snapshot, serialised on a thread of its own while the one
 * writer rebuilds the pair indexes (the other core sat idle then). The
 * thread first sends the pairs written so far to disk (store_writeback),
 * then frees what ranking kept (j, unless NULL) and the index's
 * fields: the same order as before -- the snapshot's buffer never meets
 * them -- but beside the writer rather than before it (at 250k items
 * about half a second of the calling thread); after the snapshot, the
 * corpus itself (release, unless NULL: analyze_corpus_release) -- the writer
 * touches none of it until the thread is joined. */
typedef struct xsnap {
    store *st;   /* its file's pages are sent to disk from this thread */
    dindex *ix;
    job *j;      /* NULL: freed already */
    int snap;    /* 0: nothing to serialise */
    sbuf snap_buf;
    analyze_corpus *release;   /* NULL: freed later, by analyze_corpus_free */
} xsnap;

static void *xsnap_main(void *arg)
{
    xsnap *x = arg;
    store_writeback(x->st);
    if (x->j) {
        job_res_free(x->j);
        index_fields_release(x->ix);   /* explained: the snapshot holds no text */
        heap_trim();
    }
    /* reads ix alone: nothing else touches it by now */
    if (x->snap) index_snapshot_save(x->ix, &x->snap_buf);
    if (x->release) analyze_corpus_release(x->release);
    return NULL;
}

/* The end of a replacement, in its transaction, once the pairs are in
 * (rc: how that went): the pair indexes a bulk replace dropped and,
 * meanwhile, what ranking kept freed (j, NULL: freed already), the
 * snapshot when one is due, and the corpus when the run reads it no more
 * (release: analyze_corpus_release); the incremental state; then commit, or roll
 * back. */
static int store_finish(store *st, analyze_corpus *co, job *j, int rc, int save_snap, int dropped, int release,
                        const char *sig, int64_t seq, int64_t now, dp_err *err)
{
    xsnap x = {st, co->ix, j, rc == DP_OK && save_snap, {0}, release && !co->sparse ? co : NULL};
    sb_init(&x.snap_buf);
    pthread_t th;
    int threaded = 0;
    if ((x.snap || x.j || x.release) && !(threaded = pthread_create(&th, NULL, xsnap_main, &x) == 0)) xsnap_main(&x);
    if (rc == DP_OK && dropped) rc = store_pairs_bulk_end(st, err);
    if (threaded) pthread_join(th, NULL);
    if (rc == DP_OK && x.snap)
        rc = store_cache_put(st, co->repo_id, ANALYZE_INDEX_CACHE, x.snap_buf.s, x.snap_buf.len, err);
    sb_free(&x.snap_buf);
    if (rc == DP_OK) rc = save_state(st, co, sig, seq, now, err);
    if (rc == DP_OK) rc = store_commit(st, err);
    if (rc != DP_OK) store_rollback(st);
    return rc;
}

/* Replaces the pairs (all, or those under the keyed queries) with the
 * fresh candidates, explained on the way, and the carried ones (read back
 * beforehand), and saves the incremental state and the snapshot: one
 * transaction. Fresh pairs go in first, in candidate order, then carried
 * ones, as ids are given in that order. Once the fresh pairs are stored,
 * what ranking kept is freed (j->res), and the index's fields, before the
 * snapshot is serialised and the pair indexes rebuilt, so those peaks
 * never meet them. */
static int explain_and_store(store *st, analyze_corpus *co, job *j, const incr *in,
                             const unsigned char *keyed, int threads, size_t batch, size_t nfresh,
                             size_t ncand, const char *sig, int64_t now, int save_snap,
                             analyze_stats *stats, dp_err *err)
{
    const cand *cands = j->cands;
    size_t ncarried = ncand - nfresh;
    pair *carried = xcalloc(ncarried ? ncarried : 1, sizeof *carried);
    int rc = DP_OK;
    for (size_t i = 0; i < ncarried && rc == DP_OK; i++) {
        rc = store_pair_get(st, in->old.v[cands[nfresh + i].old].id, &carried[i], err);
        if (rc == DP_NOTFOUND) rc = dp_fail(err, "analyze: a stored pair vanished during the run");
    }
    for (size_t i = 0; i < ncarried; i++) stats->known += carried[i].known != 0;
    strvec keys = {0};
    if (in->active) replaced_keys(co, in, keyed, &keys);
    if (rc == DP_OK) rc = store_begin_pairs(st, err);
    if (rc == DP_OK) {
        /* a full run replaces every pair of the repo: its indexes are
         * built once at the end instead of kept up to date pair by pair */
        int dropped = 0;
        if (!in->active) rc = store_pairs_bulk_begin(st, co->repo_id, ncand, &dropped, err);
        xdelete del = {!in->active, (const char *const *)keys.v, keys.n, in->active, 0};
        if (rc == DP_OK && del.merge) rc = store_pairs_merge_begin(st, &del.max_id, err);
        if (rc == DP_OK) rc = store_fresh(st, co, j, threads, dropped, nfresh, batch, &del, stats, err);
        /* with nothing left to write but the indexes, the frees go beside
         * them (store_finish) */
        int defer = !ncarried && !del.merge;
        if (!defer) {
            job_res_free(j);
            index_fields_release(co->ix);   /* explained: the snapshot holds no text */
            heap_trim();
        }
        if (rc == DP_OK && ncarried) rc = pairs_put(st, co->repo_id, &del, carried, ncarried, err);
        if (rc == DP_OK && del.merge) rc = store_pairs_merge_end(st, co->repo_id, del.keys, del.nkeys, del.max_id, err);
        rc = store_finish(st, co, defer ? j : NULL, rc, save_snap, dropped, defer, sig, in->seq, now, err);
        stats->corpus_released = !co->ix;   /* analyze_corpus_release ran */
    }
    sv_free(&keys);
    pairs_free_n(carried, ncarried);
    free(carried);
    return rc;
}

/* Puts the fresh candidates first (the workers explain cands[0..nfresh));
 * returns nfresh. */
static size_t fresh_first(cand *cands, size_t ncand)
{
    size_t nfresh = 0;
    for (size_t i = 0; i < ncand; i++) {
        if (cands[i].is_new) {
            cand t = cands[nfresh];
            cands[nfresh++] = cands[i];
            cands[i] = t;
        }
    }
    return nfresh;
}

/* Keeps of r (query q's kept hits) those whose pair is not settled yet:
 * its later doc at or past bound. */
static void qres_keep_from(qres *r, uint32_t q, uint32_t bound)
{
    size_t o = 0, len = 0;
    for (size_t at = 0; at < r->len;) {
        size_t l = analyze_pack_len(r->pack + at);
        uint32_t d = analyze_pack_doc(r->pack + at);
        if ((q > d ? q : d) >= bound) {
            memmove(r->pack + len, r->pack + at, l);
            len += l;
            o++;
        }
        at += l;
    }
    if (o == r->n) return;
    unsigned char *c = copy_n(r->pack, len, 1);
    free(r->pack);
    *r = (qres){c, o, len};
}

/* A full run in passes (a tight ceiling, plan_memory): the queries, in doc
 * order, are ranked a share at a time. A pair is found by its earlier
 * doc's query or its later doc's, so once the queries before doc `bound`
 * are ranked, every pair whose later doc is before bound is settled: it is
 * deduplicated, explained and stored then, and its hits freed; only the
 * hits pointing past bound wait. Pairs come out in the same order (later,
 * then earlier doc) as from one pass: the same rows, the same ids. The
 * replacement is one transaction, so it is open -- writers wait -- from
 * the first pass's store to the end. */
static int rank_store_passes(store *st, analyze_corpus *co, job *j, const mem_plan *mp, const char *sig,
                             int64_t seq, int threads, analyze_stats *stats, dp_err *err)
{
    const uint32_t *queries = j->queries;
    size_t nq = j->nq;
    qres *res = j->res;
    int dropped = 0;
    int rc = store_begin_pairs(st, err);
    if (rc != DP_OK) {
        job_res_free(j);
        return DP_ERR;
    }
    rc = store_pairs_bulk_begin(st, co->repo_id, nq * j->o->keep, &dropped, err);
    const xdelete del = {1, NULL, 0, 0, 0};
    size_t lo = 0;
    for (unsigned p = 0; p < mp->passes && rc == DP_OK; p++) {
        size_t hi = nq * (p + 1) / mp->passes;
        uint32_t bound = hi < nq ? queries[hi] : (uint32_t)index_ndocs(co->ix);
        double t0 = dp_now();
        j->queries = queries + lo;
        j->nq = hi - lo;
        j->res = res + lo;
        j->phase = "rank";
        j->total = nq;
        j->done = lo;
        atomic_store(&j->next, 0);
        dp_run_threads(threads, rank_worker, j);
        stats->t_rank += dp_now() - t0;
        t0 = dp_now();
        j->queries = queries;   /* every query ranked so far: queries[0, hi) */
        j->nq = hi;
        j->res = res;
        size_t n = 0;
        cand *v = collect_cands(j, bound, threads, &n);
        rc = assign_canonical(co, v, n, err);
        j->cands = v;
        if (rc == DP_OK) rc = store_fresh(st, co, j, threads, dropped, n, mp->batch, p == 0 ? &del : NULL, stats, err);
        stats->pairs += n;
        free(v);
        for (size_t i = 0; i < hi; i++) qres_keep_from(&res[i], queries[i], bound);
        heap_trim();
        stats->t_store += dp_now() - t0;
        lo = hi;
    }
    j->queries = queries;
    j->nq = nq;
    j->res = res;
    job_res_free(j);
    index_fields_release(co->ix);   /* explained: the snapshot holds no text */
    heap_trim();
    double t0 = dp_now();
    int save_snap = snapshot_due(co);
    rc = store_finish(st, co, NULL, rc, save_snap, dropped, 0, sig, seq, j->o->now, err);
    stats->snapshot_saved = save_snap && rc == DP_OK;
    stats->t_store += dp_now() - t0;
    return rc;
}

/* Ranks the queries, merges with the pairs that stay (incremental),
 * explains and stores: the run once the corpus is indexed. */
static int rank_and_store(store *st, analyze_corpus *co, const analyze_opts *o, incr *in,
                          const char *sig, int threads, analyze_progress_fn progress,
                          void *ud, analyze_stats *stats, dp_err *err)
{
    double t0 = dp_now();
    size_t nq = 0;
    uint32_t *queries = NULL;
    qpools *pools = NULL;
    if (pick_queries(co, o, in, threads, &queries, &nq, &pools, err) != DP_OK) {
        qpools_free(pools);
        free(queries);
        return DP_ERR;
    }
    stats->incremental = in->active;
    stats->changed = in->active ? in->changed.n : 0;
    stats->queries = nq;
    mem_plan mp;
    plan_memory(co, o, nq, !in->active, &mp, stats);
    job j = {.co = co, .o = o, .queries = queries, .nq = nq, .keep_jf = mp.keep_jf,
             .drop_fields = mp.drop_fields, .progress = progress, .ud = ud, .phase = "rank", .total = nq};
    pthread_mutex_init(&j.mu, NULL);
    j.res = xcalloc(nq ? nq : 1, sizeof *j.res);
    if (mp.passes > 1) {
        qpools_free(pools);   /* a pass ranks a part of the queries: each searches again */
        int rc = rank_store_passes(st, co, &j, &mp, sig, in->seq, threads, stats, err);
        pthread_mutex_destroy(&j.mu);
        free(queries);
        return rc;
    }
    j.pools = pools;
    run_parallel(&j, threads, rank_worker);
    j.pools = NULL;
    qpools_free(pools);
    stats->t_rank = dp_now() - t0;
    held_count(&j, stats);
    if (!in->active) {
        /* a full run ranks no more: the postings (only queries read them)
         * go before the candidates and the explained pairs come. The file
         * written beside ranking reads them: it is done by now. */
        corpus_persist_wait(co);
        stats->index_saved = co->index_saved;
        size_t held = index_postings_bytes(co->ix);
        index_postings_release(co->ix);
        stats->postings_freed = held - index_postings_bytes(co->ix);
        heap_trim();
    }

    /* Orient, deduplicate, (incremental) merge with what stays, explain and
     * store (with the snapshot when one is due). */
    size_t ncand = 0;
    cand *cands = collect_cands(&j, UINT32_MAX, threads, &ncand);
    unsigned char *keyed = NULL;
    int rc = in->active ? merge_old(st, co, in, queries, nq, threads, &keyed, &cands, &ncand, err) : DP_OK;
    if (rc == DP_OK) rc = assign_canonical(co, cands, ncand, err);
    t0 = dp_now();
    size_t nfresh = fresh_first(cands, ncand);
    j.cands = cands;
    int save_snap = snapshot_due(co);
    if (rc == DP_OK)
        rc = explain_and_store(st, co, &j, in, keyed, threads, mp.batch, nfresh, ncand, sig, o->now, save_snap,
                               stats, err);
    stats->pairs = ncand;
    stats->snapshot_saved = save_snap && rc == DP_OK;
    stats->t_store = dp_now() - t0;

    free(cands);
    free(keyed);
    job_res_free(&j);
    pthread_mutex_destroy(&j.mu);
    free(queries);
    return rc;
}

/* A grown index is the persisted file and every item changed since it was
 * written, all of which each incremental run reads and appends again: at
 * 250k items ~0.26 ms a new item, every run (grown by 1,060: the index
 * phase 0.29 s against 0.04 s). Run after run of 20 new items that grew
 * until grow_collect gave up (a tenth of the items changed, ~6 s a run by
 * then, and a full build). Past analyze_regrow_items new items the run
 * writes the file anew once its pairs are committed -- 3.3-4.5 s at 250k
 * items (the grown lists merged, 620 MB written), once per that many
 * items -- so a run carries at most ~0.13 s of items from runs before it.
 * The file is a cache: failing to write it is not the run's error. */
size_t analyze_regrow_items = 500;

/* Writing a grown index merges its lists in memory (at 250k items ~300
 * MB): under a ceiling without that room the file stays behind, for a
 * run with more room to write. */
static void regrow_persist(store *st, analyze_corpus *co, size_t max_memory, analyze_stats *stats)
{
    if (!co->ix || co->grown < analyze_regrow_items) return;
    if (max_memory && rss_bytes() + index_save_bytes(co->ix) > max_memory) return;
    char *path = analyze_index_path(st, co->repo_id);
    if (path) stats->index_saved = co->index_saved = corpus_persist(st, co, path);
    free(path);
}

int analyze_run(store *st, int64_t repo, const analyze_opts *o_in, analyze_progress_fn progress,
                void *ud, analyze_stats *stats, dp_err *err)
{
    analyze_opts o = *o_in;
    if (!o.k) o.k = 20;
    if (o.keep > o.k) o.keep = o.k;
    if (!o.now) o.now = (int64_t)time(NULL);
    int threads = dp_threads(o.threads);
    memset(stats, 0, sizeof *stats);

    analyze_corpus co;
    int64_t seq;   /* read first: a change committed while loading is left for the next run */
    if (progress) progress(ud, "index", 0, 1);   /* loading + indexing: one step */
    if (store_change_seq(st, repo, &seq, err) != DP_OK) return DP_ERR;
    int up = 0;
    double t0 = dp_now();
    if (quick_up_to_date(st, repo, &o, seq, stats, &up, err) != DP_OK) return DP_ERR;
    if (up) {   /* no items loaded, no index, no ranking */
        stats->incremental = stats->up_to_date = 1;
        stats->t_plan = dp_now() - t0;
        if (progress) progress(ud, "index", 1, 1);
        return save_last_run(st, repo, o.now, err);
    }
    /* Incremental: the persisted index grown by the new items, reading only
     * the items the run needs; else every item, and the index built. */
    int grown = 0, rc = DP_OK;
    dp_err map_err;   /* the map's size is a hint: its errors are dropped */
    incr in;
    memset(&in, 0, sizeof in);
    char *sig = NULL;
    if (o.mode != ANALYZE_FULL) {
        /* A grown corpus reads the items its queries need, thousands
         * scattered over the file: mapped whole, each page costs a fault the
         * first time instead of a pread and a copy into SQLite's cache (20
         * new items at 250k: 1.15 -> 1.08 s, medians of 6; peak RSS 506 ->
         * 660 MB). Only what is read becomes resident. */
        (void)store_mmap_limit(st, STORE_MAP_ALL, &map_err);
        rc = corpus_grow(st, repo, seq, threads, &co, &stats->grow_why, err);
        if (rc == DP_ERR) return DP_ERR;
        grown = rc == DP_OK;
        rc = DP_OK;
    }
    if (grown) {
        o.horizon = analyze_horizon(&o, corpus_n(&co));
        sig = signature(&o, &co);
        double tp = dp_now();
        rc = plan_check(st, &co, &o, sig, seq, &in, err);
        stats->t_plan = dp_now() - tp;
        if (rc == DP_OK && !in.active) {   /* a full run after all: it reads every item */
            incr_free(&in);
            free(sig);
            sig = NULL;
            analyze_corpus_free(&co);
            grown = 0;
            stats->grow_why = "the run is not incremental";
        }
        if (rc != DP_OK) goto done;
    }
    if (!grown) {
        (void)store_mmap_limit(st, STORE_MAP_OPEN, &map_err);   /* every item is read: as opened */
        if (corpus_read(st, repo, &co, err) != DP_OK) {
            free(sig);
            return DP_ERR;
        }
        /* The items are read: the file's mapped pages (up to 256 MB, resident
         * as long as they stay mapped) would sit beside the index and the
         * pairs for the rest of the run. */
        if (store_mmap_limit(st, 0, err) != DP_OK) {
            analyze_corpus_free(&co);
            free(sig);
            return DP_ERR;
        }
        o.horizon = analyze_horizon(o_in, corpus_n(&co));
        sig = signature(&o, &co);
        double tp = dp_now();
        rc = plan_check(st, &co, &o, sig, seq, &in, err);
        stats->t_plan = dp_now() - tp;
    }
    stats->items = corpus_n(&co);
    stats->t_load = co.t_load;
    snprintf(stats->model_desc, sizeof stats->model_desc, "%s", co.model_desc);
    stats->horizon = o.horizon;
    if (rc == DP_OK && in.active && !in.keys.n && corpus_n(&co) == in.nprev) {
        /* up to date: no index, no ranking */
        stats->incremental = stats->up_to_date = 1;
        rc = save_last_run(st, repo, o.now, err);
        if (progress) progress(ud, "index", 1, 1);
        goto done;
    }
    /* An incremental run that could not grow the persisted index writes it
     * anew (at 250k items ~1 GB through write(), a second or more, on a run
     * that built the index: ~10 s), so that the next one grows it. */
    if (!grown) co.drop_fields = plan_build(&co, &o);
    if (rc == DP_OK && !grown)
        rc = corpus_index(st, threads, o.mode != ANALYZE_FULL,
                          !in.active || stats->grow_why ? PERSIST_BACKGROUND : PERSIST_NO, &co, err);
    if (rc == DP_OK && o.horizon) rc = corpus_dates(&co);
    if (rc != DP_OK) goto done;
    if (progress) progress(ud, "index", 1, 1);
    stats->grown = co.grown;
    stats->t_index = co.t_index;
    stats->reanalysed = co.snap.analysed;
    stats->index_mapped = co.index_mapped;
    stats->index_saved = co.index_saved;
    double tp = dp_now();
    if (in.active) rc = plan_map(st, &co, &in, err);
    stats->t_plan += dp_now() - tp;
    if (rc == DP_OK) rc = rank_and_store(st, &co, &o, &in, sig, threads, progress, ud, stats, err);
    if (rc == DP_OK && grown) regrow_persist(st, &co, o.max_memory, stats);
done:
    if (co.saver) {   /* the file written beside ranking */
        corpus_persist_wait(&co);
        stats->index_saved = co.index_saved;
    }
    incr_free(&in);
    free(sig);
    analyze_corpus_free(&co);
    return rc == DP_OK ? DP_OK : DP_ERR;
}
