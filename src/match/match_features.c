/* match_features.c -- pair features: what the ranker knows about (query,
 * candidate). Each feature is generic (no tracker- or project-specific
 * words) and is computed from the index's forward view of both documents,
 * their text signals, item metadata and the known links.
 *
 * match_ctx_init precomputes per-document norms, a CSR adjacency of the
 * links (and a byte per doc saying whether it has any) and, per document,
 * each string set a feature intersects (signals, labels, components,
 * versions) as a sorted array of distinct interned string ids, so a
 * feature row costs one pass over the candidate's terms (which also sums
 * the BM25F field scores) plus a few merges of short id arrays -- no string
 * compares. A query that is not an indexed doc (match_query_from_item)
 * takes the plain string path; both give the same values.
 */
#include "match_int.h"
#include "../common/hashmap.h"
#include "../common/tls.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <strings.h>

typedef struct doc_stats {
    float norm_all, norm_title, idf_mass;
    uint32_t nbigrams, ntitle_uni;
} doc_stats;

/* The string sets a feature intersects, per doc. */
enum { SS_EXCEPTIONS, SS_FRAMES, SS_PATHS, SS_ERRORS,   /* exact */
       SS_LABELS, SS_COMPONENTS, SS_VERSIONS, SS_SIG_VERSIONS,   /* case-folded */
       SS_COUNT };

typedef struct sset_ent {
    uint64_t h;                  /* hash of the (folded) string */
    const char *s;               /* one string with that hash (borrowed) */
} sset_ent;

/* Per-doc metadata the item features compare, kept compact so a candidate
 * costs no visit to its item. Author, type and priority are interned: equal
 * ids <=> equal under strcasecmp; 0 for NULL or "". */
typedef struct doc_meta {
    int64_t created_at;
    size_t nlabels;                    /* labels + components */
    size_t set0;                       /* the doc's string sets start at sets[set0] ... */
    uint8_t setn[SS_COUNT];            /* ... set k has setn[k] ids (<= SET_CAP), after set k-1 */
    uint32_t author, type, priority;
    item_kind kind;
} doc_meta;

/* A link both of whose ends are docs, resolved once (link_ends_add): a
 * sparse corpus relinks after every batch of items it reads, and finding
 * each link's keys again (index_find: a binary search of the mapped keys)
 * cost every link of the tracker per batch. */
typedef struct link_end {
    uint32_t a, b;
    uint8_t dup;   /* LINK_DUPLICATE */
} link_end;

typedef struct ctx_priv {
    size_t ndocs, nterms;
    doc_stats *ds;               /* per doc; NULL in a sparse ctx (cand_stats) */
    int typed_only;              /* only typed links count (link_ends_add) */
    link_end *ends;              /* the links resolved to docs so far ... */
    size_t nends, capends;
    size_t nresolved;            /* ... from links[0, nresolved) */
    /* CSR adjacency, undirected, neighbours ascending */
    size_t *dup_off, *rel_off;
    uint32_t *dup_nb, *rel_nb;
    unsigned char *linked;       /* per doc: LINK_DUP | LINK_REL when it has such
                                    neighbours (a byte a candidate, not two offsets) */
    /* doc d's string sets, one after the other from sets[meta[d].set0]:
     * the interned ids of its strings, each set ascending and distinct; equal ids
     * <=> equal strings (strcmp for the exact sets, strcasecmp for the
     * folded ones), so a shared string is an equal id and never a string
     * compare */
    uint32_t *sets;
    doc_meta *meta;              /* NULL with sets in a sparse ctx: the string path */
    /* doc d's title terms that are not bigrams, ascending, are
     * tt[tt_off[d] .. tt_off[d + 1]) (match_doc_title_terms); NULL in a
     * sparse ctx */
    size_t *tt_off;
    uint32_t *tt;
    float *tt_idf;               /* index_idf of each of tt (match_doc_title_idf) */
    _Atomic(match_refs *) *refs;       /* per doc, filled on first use (match_doc_refs) */
    _Atomic(match_sigs *) *sigs;       /* per doc, filled on first use (match_doc_sigs) */
    match_jcache *jc;                  /* per doc title records (match_doc_title) */
} ctx_priv;

static double tf_weight_calc(unsigned tf)
{
    return tf ? 1.0 + log((double)tf) : 0.0;
}

/* tf_weight of the small counts nearly every term has, computed once: a
 * log a shared term was most of a feature row's arithmetic. */
#define TFW_N 256
static double tfw_table[TFW_N];
/* log1p of the small counts (shared strings, links): five a row */
static double log1p_table[TFW_N];
static pthread_once_t tfw_once = PTHREAD_ONCE_INIT;

static void tfw_init(void)
{
    for (unsigned i = 0; i < TFW_N; i++) {
        tfw_table[i] = tf_weight_calc(i);
        log1p_table[i] = log1p((double)i);
    }
}

/* 1 + log(tf), 0 for none: the sublinear weight of a count. */
static inline double tf_weight(unsigned tf)
{
    return tf < TFW_N ? tfw_table[tf] : tf_weight_calc(tf);
}

/* Body fields a cosine compares: labels are a separate feature. */
static unsigned tf_text(const uint16_t tf[FIELD_COUNT])
{
    return (unsigned)tf[FIELD_TITLE] + tf[FIELD_PROSE] + tf[FIELD_CODE];
}

static void stats_of(const dindex *ix, const uint32_t *terms,
                     const uint16_t (*tf)[FIELD_COUNT], size_t n, doc_stats *out)
{
    double na = 0, nt = 0, mass = 0;
    uint32_t nb = 0, ntu = 0;
    for (size_t i = 0; i < n; i++) {
        double idf = index_idf(ix, terms[i]);
        if (idf < 0) idf = 0;
        int big = index_term_bigram(ix, terms[i]);
        if (big) nb++;
        if (tf[i][FIELD_TITLE]) {
            double w = tf_weight(tf[i][FIELD_TITLE]) * idf;
            nt += w * w;
            if (!big) ntu++;
        }
        if (!big) {
            double w = tf_weight(tf_text(tf[i])) * idf;
            na += w * w;
            if (tf_text(tf[i])) mass += idf;
        }
    }
    out->norm_all = (float)sqrt(na);
    out->norm_title = (float)sqrt(nt);
    out->idf_mass = (float)mass;
    out->nbigrams = nb;
    out->ntitle_uni = ntu;
}

/* The title terms of a doc that are not bigrams, ascending, into out (and
 * their idf into idf): the ntitle_uni that stats_of counted. */
static void title_terms_fill(const dindex *ix, const index_doc_terms *dt, uint32_t *out, float *idf)
{
    size_t k = 0;
    for (size_t i = 0; i < dt->n; i++)
        if (dt->tf[i][FIELD_TITLE] && !index_term_bigram(ix, dt->terms[i])) {
            idf[k] = (float)index_idf(ix, dt->terms[i]);   /* a float widened: exact */
            out[k++] = dt->terms[i];
        }
}

/* Resolves links[from, nlinks) into p->ends: those whose two ends are
 * distinct docs and, on a tracker that types its links (typed_only), only
 * typed ones (item_link_typed): the model learned them so, and a comment's
 * "dup of X" is not a maintainer's decision. */
static void link_ends_add(ctx_priv *p, const dindex *ix, const item_link *links, size_t from, size_t nlinks)
{
    for (size_t i = from; i < nlinks; i++) {
        if (p->typed_only && !item_link_typed(&links[i])) continue;
        int64_t a = index_find(ix, links[i].src_key), b = index_find(ix, links[i].dst_key);
        if (a < 0 || b < 0 || a == b) continue;
        if (p->nends == p->capends) {
            p->capends = p->capends ? 2 * p->capends : 64;
            p->ends = xrealloc(p->ends, p->capends * sizeof *p->ends);
        }
        p->ends[p->nends++] = (link_end){(uint32_t)a, (uint32_t)b, links[i].type == LINK_DUPLICATE};
    }
    p->nresolved = nlinks;
}

/* Builds an undirected CSR adjacency from the resolved links of one kind
 * (duplicate or not): O(ndocs + links), no string compared. */
static void build_adj(const link_end *ends, size_t nends, int want_dup, size_t ndocs, size_t **off_out,
                      uint32_t **nb_out)
{
    size_t *off = xcalloc(ndocs + 1, sizeof *off);
    for (size_t e = 0; e < nends; e++) {
        if (ends[e].dup != want_dup) continue;
        off[ends[e].a + 1]++;
        off[ends[e].b + 1]++;
    }
    for (size_t d = 0; d < ndocs; d++) off[d + 1] += off[d];
    uint32_t *nb = xmalloc((off[ndocs] ? off[ndocs] : 1) * sizeof *nb);
    size_t *fill = xmalloc((ndocs ? ndocs : 1) * sizeof *fill);
    memcpy(fill, off, ndocs * sizeof *fill);
    for (size_t e = 0; e < nends; e++) {
        if (ends[e].dup != want_dup) continue;
        nb[fill[ends[e].a]++] = ends[e].b;
        nb[fill[ends[e].b]++] = ends[e].a;
    }
    free(fill);
    for (size_t d = 0; d < ndocs; d++) {   /* sort each list; they are short */
        for (size_t i = off[d] + 1; i < off[d + 1]; i++) {
            uint32_t v = nb[i];
            size_t j = i;
            while (j > off[d] && nb[j - 1] > v) {
                nb[j] = nb[j - 1];
                j--;
            }
            nb[j] = v;
        }
    }
    *off_out = off;
    *nb_out = nb;
}

#define SET_CAP 64   /* signal lists are capped: hostile input can be huge */
_Static_assert(SET_CAP <= UINT8_MAX, "doc_meta.setn holds a set's size");

/* dp_hash of s, ASCII-folded when fold (the folding strcasecmp does in the
 * C locale, so strings equal under strcasecmp hash alike). Never 0. */
static uint64_t str_hash(const char *s, int fold)
{
    size_t n = strlen(s);
    uint64_t h;
    if (!fold) {
        h = dp_hash(s, n);
    } else if (n <= 256) {   /* signal strings are short: no allocation */
        char buf[256];
        for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
        h = dp_hash(buf, n);
    } else {
        char *buf = xmalloc(n);
        for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
        h = dp_hash(buf, n);
        free(buf);
    }
    return h ? h : 1;
}

static int str_eq(const char *a, const char *b, int fold)
{
    return fold ? !strcasecmp(a, b) : !strcmp(a, b);
}

static const strvec *doc_set_src(const item *it, const text_signals *sg, int k)
{
    static const strvec empty = {0};
    switch (k) {
    case SS_EXCEPTIONS: return sg ? &sg->exceptions : &empty;
    case SS_FRAMES: return sg ? &sg->frames : &empty;
    case SS_PATHS: return sg ? &sg->paths : &empty;
    case SS_ERRORS: return sg ? &sg->errors : &empty;
    case SS_LABELS: return it ? &it->labels : &empty;
    case SS_COMPONENTS: return it ? &it->components : &empty;
    case SS_VERSIONS: return it ? &it->versions : &empty;
    default: return sg ? &sg->versions : &empty;
    }
}

/* Interning of strings: ids from 1, equal ids <=> equal strings (under
 * strcasecmp when fold, else strcmp). Strings are compared on a hash match,
 * so distinct strings that collide still get distinct ids. */
typedef struct intern {
    sset_ent *e;                 /* e[id - 1]: the string and its (folded) hash */
    size_t n, cap;
    int fold;
    dp_idxmap m;
} intern;

static uint64_t intern_hash_of(const void *ctx, uint32_t i) { return ((const intern *)ctx)->e[i].h; }

static uint32_t intern_str(intern *t, const char *s)
{
    dp_idxmap_reserve(&t->m, t->n + 1, intern_hash_of, t);
    uint64_t h = str_hash(s, t->fold);
    size_t j;
    for (j = dp_idxmap_first(&t->m, h); t->m.slot[j]; j = dp_idxmap_step(&t->m, j)) {
        const sset_ent *e = &t->e[t->m.slot[j] - 1];
        if (e->h == h && str_eq(e->s, s, t->fold)) return t->m.slot[j];
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->e = xrealloc(t->e, t->cap * sizeof *t->e);
    }
    t->e[t->n] = (sset_ent){h, s};
    dp_idxmap_put(&t->m, j, (uint32_t)t->n);
    return (uint32_t)++t->n;
}

/* The id of a name (author, type, priority): 0 for NULL or "". */
static uint32_t intern_id(intern *t, const char *s)
{
    return s && *s ? intern_str(t, s) : 0;
}

static void intern_free(intern *t)
{
    free(t->e);
    dp_idxmap_free(&t->m);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends the distinct ids of sv's first SET_CAP strings to *v, ascending:
 * what shared_strings() counts, as ids. */
static void set_build(const strvec *sv, intern *t, uint32_t **v, size_t *n, size_t *cap)
{
    size_t m = sv->n < SET_CAP ? sv->n : SET_CAP, at = *n;
    if (m == 0) return;
    if (*n + m > *cap) {
        while (*n + m > *cap) *cap = *cap ? *cap * 2 : 1024;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    uint32_t *e = *v + at;
    for (size_t i = 0; i < m; i++) e[i] = intern_str(t, sv->v[i]);
    qsort(e, m, sizeof *e, cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!k || e[k - 1] != e[i]) e[k++] = e[i];
    *n = at + k;
}

static void build_sets(ctx_priv *p, const dindex *ix)
{
    size_t nd = p->ndocs, n = 0, cap = 0;
    uint32_t *v = NULL;
    p->meta = xcalloc(nd ? nd : 1, sizeof *p->meta);
    /* one folded table: an author named like a type is still equal, and a
     * set's ids are only compared with the same set's of another doc */
    intern names = {.fold = 1}, exact = {.fold = 0};
    for (size_t d = 0; d < nd; d++) {
        const item *it = index_item(ix, (uint32_t)d);
        const text_signals *sg = index_doc_signals(ix, (uint32_t)d);
        doc_meta *m = &p->meta[d];
        m->set0 = n;
        for (int k = 0; k < SS_COUNT; k++) {
            size_t at = n;
            set_build(doc_set_src(it, sg, k), k >= SS_LABELS ? &names : &exact, &v, &n, &cap);
            m->setn[k] = (uint8_t)(n - at);   /* at most SET_CAP */
        }
        m->created_at = it->created_at;
        m->kind = it->kind;
        m->nlabels = it->labels.n + it->components.n;
        m->author = intern_id(&names, it->author);
        m->type = intern_id(&names, it->type);
        m->priority = intern_id(&names, it->priority);
    }
    intern_free(&names);
    intern_free(&exact);
    p->sets = v ? xrealloc(v, (n ? n : 1) * sizeof *v) : xmalloc(sizeof *v);
    dp_huge_pages(p->sets, n * sizeof *p->sets);
}

/* The per-term and per-doc tables are filled on all cores: serially they
 * took 0.15 s of a 1.4 s incremental analysis of 48k items. Workers take
 * chunks of the range; chunks are disjoint, so they share nothing but
 * read-only index data. */
#define PAR_CHUNK 1024
typedef struct par_job {
    ctx_priv *p;
    const dindex *ix;
    int what;              /* 1: stats of docs, 2: title terms of docs */
} par_job;

static void par_run(void *arg, size_t lo, size_t hi)
{
    par_job *j = arg;
    for (size_t i = lo; i < hi; i++) {
        index_doc_terms dt;
        index_doc_terms_get(j->ix, (uint32_t)i, &dt);
        if (j->what == 1) stats_of(j->ix, dt.terms, dt.tf, dt.n, &j->p->ds[i]);
        else title_terms_fill(j->ix, &dt, j->p->tt + j->p->tt_off[i], j->p->tt_idf + j->p->tt_off[i]);
    }
}

static void par_for(ctx_priv *p, const dindex *ix, int what, size_t n)
{
    par_job j = {.p = p, .ix = ix, .what = what};
    dp_parallel_for(n < 4 * PAR_CHUNK ? 1 : dp_threads(0), n, PAR_CHUNK, par_run, &j);
}

enum { LINK_DUP = 1, LINK_REL = 2 };

static void adj_free(ctx_priv *p)
{
    free(p->linked);
    free(p->dup_off);
    free(p->dup_nb);
    free(p->rel_off);
    free(p->rel_nb);
}

/* The adjacency of links[0, nlinks), whose first p->nresolved are the
 * links resolved before (match_ctx_relink's contract). */
static void adj_build(ctx_priv *p, const dindex *ix, const item_link *links, size_t nlinks)
{
    link_ends_add(p, ix, links, p->nresolved, nlinks);
    build_adj(p->ends, p->nends, 1, p->ndocs, &p->dup_off, &p->dup_nb);
    build_adj(p->ends, p->nends, 0, p->ndocs, &p->rel_off, &p->rel_nb);
    p->linked = xcalloc(p->ndocs ? p->ndocs : 1, 1);
    for (size_t d = 0; d < p->ndocs; d++)
        p->linked[d] = (unsigned char)((p->dup_off[d + 1] > p->dup_off[d] ? LINK_DUP : 0) |
                                       (p->rel_off[d + 1] > p->rel_off[d] ? LINK_REL : 0));
}

typedef struct sets_job {
    ctx_priv *p;
    const dindex *ix;
} sets_job;

static void *sets_main(void *arg)
{
    sets_job *j = arg;
    build_sets(j->p, j->ix);
    return NULL;
}

/* The links' adjacency and the docs' string sets, built at once: each is
 * serial (key lookups of every link's two ends; one interning table), at
 * 250k items ~1-2 s apiece on one core while the other idled, and they
 * write disjoint members of p. */
static void adj_and_sets_build(ctx_priv *p, const dindex *ix, const item_link *links, size_t nlinks)
{
    sets_job j = {p, ix};
    pthread_t th;
    int threaded = pthread_create(&th, NULL, sets_main, &j) == 0;
    adj_build(p, ix, links, nlinks);
    if (threaded) pthread_join(th, NULL);
    else build_sets(p, ix);
}

static void ctx_init(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                     size_t nlinks, int typed_only, int sparse)
{
    pthread_once(&tfw_once, tfw_init);   /* before any feature reads it */
    memset(ctx, 0, sizeof *ctx);
    ctx->ix = ix;
    ctx->model = m ? m : match_model_default();
    ctx->links = links;
    ctx->nlinks = nlinks;
    ctx_priv *p = xcalloc(1, sizeof *p);
    p->ndocs = index_ndocs(ix);
    p->nterms = index_nterms(ix);
    if (!sparse) {
        p->ds = xcalloc(p->ndocs ? p->ndocs : 1, sizeof *p->ds);
        par_for(p, ix, 1, p->ndocs);
        /* the judge compares the title terms of each pair it judges (slot_diff):
         * listed once here, not found in the whole forward lists per pair */
        p->tt_off = xmalloc((p->ndocs + 1) * sizeof *p->tt_off);
        p->tt_off[0] = 0;
        for (size_t d = 0; d < p->ndocs; d++) p->tt_off[d + 1] = p->tt_off[d] + p->ds[d].ntitle_uni;
        p->tt = xmalloc((p->tt_off[p->ndocs] ? p->tt_off[p->ndocs] : 1) * sizeof *p->tt);
        p->tt_idf = xmalloc((p->tt_off[p->ndocs] ? p->tt_off[p->ndocs] : 1) * sizeof *p->tt_idf);
        par_for(p, ix, 2, p->ndocs);
    }
    p->typed_only = typed_only;
    if (sparse) {
        adj_build(p, ix, links, nlinks);
    } else {
        adj_and_sets_build(p, ix, links, nlinks);
        /* read at random, a record a candidate: huge pages spare the TLB misses */
        dp_huge_pages(p->ds, p->ndocs * sizeof *p->ds);
        dp_huge_pages(p->meta, p->ndocs * sizeof *p->meta);
    }
    p->refs = xcalloc(p->ndocs ? p->ndocs : 1, sizeof *p->refs);
    p->sigs = xcalloc(p->ndocs ? p->ndocs : 1, sizeof *p->sigs);
    p->jc = match_jcache_new(p->ndocs);
    ctx->priv = p;
}

void match_ctx_init(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                    size_t nlinks)
{
    ctx_init(ctx, ix, m, links, nlinks, item_links_any_typed(links, nlinks), 0);
}

void match_ctx_init_sparse(match_ctx *ctx, const dindex *ix, const match_model *m, const item_link *links,
                           size_t nlinks, int any_typed)
{
    ctx_init(ctx, ix, m, links, nlinks, any_typed, 1);
}

void match_ctx_relink(match_ctx *ctx, const item_link *links, size_t nlinks)
{
    ctx_priv *p = ctx->priv;
    ctx->links = links;
    ctx->nlinks = nlinks;
    adj_free(p);
    adj_build(p, ctx->ix, links, nlinks);
}

_Atomic(match_refs *) *match_ctx_refs(const match_ctx *ctx) { return ((ctx_priv *)ctx->priv)->refs; }
_Atomic(match_sigs *) *match_ctx_sigs(const match_ctx *ctx) { return ((ctx_priv *)ctx->priv)->sigs; }
match_jcache *match_ctx_jcache(const match_ctx *ctx) { return ((ctx_priv *)ctx->priv)->jc; }

const uint32_t *match_doc_title_terms(const match_ctx *ctx, uint32_t doc, size_t *n)
{
    const ctx_priv *p = ctx->priv;
    if (!p->tt || doc >= p->ndocs) {
        *n = 0;
        return NULL;
    }
    *n = p->tt_off[doc + 1] - p->tt_off[doc];
    return p->tt + p->tt_off[doc];
}

const float *match_doc_title_idf(const match_ctx *ctx, uint32_t doc)
{
    const ctx_priv *p = ctx->priv;
    return p->tt_idf && doc < p->ndocs ? p->tt_idf + p->tt_off[doc] : NULL;
}

int match_term_bigram(const match_ctx *ctx, uint32_t t)
{
    return index_term_bigram(ctx->ix, t);
}

void match_ctx_free(match_ctx *ctx)
{
    ctx_priv *p = ctx->priv;
    if (p) {
        free(p->ds);
        free(p->tt_off);
        free(p->tt);
        free(p->tt_idf);
        adj_free(p);
        free(p->ends);
        free(p->sets);
        free(p->meta);
        for (size_t d = 0; d < p->ndocs; d++) {
            match_refs *r = atomic_load(&p->refs[d]);
            if (!r) continue;
            text_refs_free(&r->title);
            text_refs_free(&r->all);
            free(r);
        }
        free(p->refs);
        for (size_t d = 0; d < p->ndocs; d++) match_sigs_free(atomic_load(&p->sigs[d]));
        free(p->sigs);
        match_jcache_free(p->jc);
        free(p);
    }
    ctx->priv = NULL;
}

/* ---- queries ------------------------------------------------------------ */

/* The query's norms and counts: an indexed doc's are those the ctx made
 * of its terms (the same terms, so the same values), read instead of
 * summed again (a random read of the idf per term). */
static void query_stats(const match_ctx *ctx, match_query *mq)
{
    const ctx_priv *p = ctx->priv;
    doc_stats s;
    if (p->ds && mq->qdoc < p->ndocs) s = p->ds[mq->qdoc];
    else stats_of(ctx->ix, mq->terms, mq->tf, mq->nterms, &s);
    mq->norm_all = s.norm_all;
    mq->norm_title = s.norm_title;
    mq->idf_mass = s.idf_mass;
    mq->nbigrams = s.nbigrams;
    mq->ntitle_uni = s.ntitle_uni;
}

void match_query_judge_view(const match_ctx *ctx, uint32_t qdoc, match_query *out)
{
    memset(out, 0, sizeof *out);
    out->qdoc = qdoc;
    out->it = index_item(ctx->ix, qdoc);
    index_doc_terms dt;
    index_doc_terms_get(ctx->ix, qdoc, &dt);
    out->terms = dt.terms;
    out->tf = dt.tf;
    out->nterms = dt.n;
    for (int f = 0; f < FIELD_COUNT; f++) out->len[f] = dt.len ? dt.len[f] : 0;
    out->sig = index_doc_signals(ctx->ix, qdoc);
}

void match_query_from_doc(const match_ctx *ctx, uint32_t qdoc, match_query *out)
{
    match_query_judge_view(ctx, qdoc, out);
    index_query_from_doc(ctx->ix, qdoc, &out->own_q);
    out->has_own_q = 1;
    out->q = &out->own_q;
    query_stats(ctx, out);
}

static int u32_in(const uint32_t *v, size_t n, uint32_t x)
{
    return bsearch(&x, v, n, sizeof *v, cmp_u32) != NULL;
}

/* A query that is not indexed: its terms come from the index's own query
 * builder (so they share term ids); the title's terms are found by building
 * a title-only query. Per-field counts are approximations (1 per term). */
void match_query_from_item(const match_ctx *ctx, text_tokenizer *tk, const item *it,
                           match_query *out)
{
    memset(out, 0, sizeof *out);
    index_query_from_item(ctx->ix, tk, it, &out->own_q);
    out->has_own_q = 1;
    out->q = &out->own_q;
    out->qdoc = UINT32_MAX;
    out->it = it;
    item title_only;
    item_init(&title_only);
    title_only.title = it->title;
    title_only.body = (char *)"";
    index_query tq;
    index_query_from_item(ctx->ix, tk, &title_only, &tq);
    uint32_t *tt = xmalloc((tq.n ? tq.n : 1) * sizeof *tt);
    memcpy(tt, tq.terms, tq.n * sizeof *tt);
    qsort(tt, tq.n, sizeof *tt, cmp_u32);
    size_t n = out->own_q.n;
    out->own_terms = xmalloc((n ? n : 1) * sizeof *out->own_terms);
    out->own_tf = xcalloc(n ? n : 1, sizeof *out->own_tf);
    memcpy(out->own_terms, out->own_q.terms, n * sizeof *out->own_terms);
    qsort(out->own_terms, n, sizeof *out->own_terms, cmp_u32);
    for (size_t i = 0; i < n; i++) {
        int in_title = u32_in(tt, tq.n, out->own_terms[i]);
        out->own_tf[i][in_title ? FIELD_TITLE : FIELD_PROSE] = 1;
        out->len[in_title ? FIELD_TITLE : FIELD_PROSE]++;
    }
    free(tt);
    index_query_free(&tq);
    out->terms = out->own_terms;
    out->tf = (const uint16_t(*)[FIELD_COUNT])out->own_tf;
    out->nterms = n;
    text_fields tf;
    text_split(it, index_template(ctx->ix), &tf);
    text_signals_extract(&tf, &out->own_sig);
    text_fields_free(&tf);
    out->has_own_sig = 1;
    out->sig = &out->own_sig;
    query_stats(ctx, out);
}

void match_query_free(match_query *mq)
{
    if (mq->has_own_q) index_query_free(&mq->own_q);
    if (mq->has_own_sig) text_signals_free(&mq->own_sig);
    free(mq->own_terms);
    free(mq->own_tf);
    memset(mq, 0, sizeof *mq);
}

/* ---- features: the string path ------------------------------------------ */

static size_t shared_strings(const strvec *a, const strvec *b, int fold)
{
    size_t na = a->n < SET_CAP ? a->n : SET_CAP, nb = b->n < SET_CAP ? b->n : SET_CAP, k = 0;
    for (size_t i = 0; i < na; i++) {
        int dup = 0;   /* count each distinct string once */
        for (size_t j = 0; j < i && !dup; j++) dup = str_eq(a->v[i], a->v[j], fold);
        if (dup) continue;
        for (size_t j = 0; j < nb; j++)
            if (str_eq(a->v[i], b->v[j], fold)) {
                k++;
                break;
            }
    }
    return k;
}

static double jaccard(size_t na, size_t nb, size_t k)
{
    if (!na || !nb) return 0;
    double u = (double)(na + nb) - (double)k;
    return u > 0 ? (double)k / u : 0;
}

static int same_str(const char *a, const char *b)
{
    return a && b && *a && !strcasecmp(a, b);
}

/* log1p(n), from the table for the usual small n: the same double. */
static double log1p_count(size_t n)
{
    return n < TFW_N ? log1p_table[n] : log1p((double)n);
}

static void item_features_str(const match_query *mq, const item *c, const text_signals *cs,
                              double feat[FEAT_COUNT])
{
    const item *q = mq->it;
    size_t k = shared_strings(&q->labels, &c->labels, 1) +
               shared_strings(&q->components, &c->components, 1);
    feat[FEAT_LABELS] = jaccard(q->labels.n + q->components.n, c->labels.n + c->components.n, k);
    int ver = shared_strings(&q->versions, &c->versions, 1) > 0;
    if (!ver && mq->sig && mq->sig->versions.n)
        ver = cs && shared_strings(&mq->sig->versions, &cs->versions, 1) > 0;
    feat[FEAT_VERSION] = ver;
    double days = fabs((double)(q->created_at - c->created_at)) / 86400.0;
    feat[FEAT_TIME_GAP] = (q->created_at && c->created_at) ? log1p(days) : log1p(365.0);
    feat[FEAT_SAME_AUTHOR] = same_str(q->author, c->author);
    feat[FEAT_KIND_SAME] = q->kind == c->kind;
    feat[FEAT_TYPE_SAME] = same_str(q->type, c->type);
    feat[FEAT_PRIORITY_SAME] = same_str(q->priority, c->priority);
}

static void signal_features_str(const text_signals *a, const text_signals *b, double feat[FEAT_COUNT])
{
    if (!a || !b) return;
    feat[FEAT_EXCEPTION] = log1p_count(shared_strings(&a->exceptions, &b->exceptions, 0));
    feat[FEAT_FRAMES] = log1p_count(shared_strings(&a->frames, &b->frames, 0));
    feat[FEAT_PATHS] = log1p_count(shared_strings(&a->paths, &b->paths, 0));
    feat[FEAT_ERRORS] = log1p_count(shared_strings(&a->errors, &b->errors, 0));
}

/* ---- features: the hash path ----------------------------------------------- */

/* Strings doc a's set k shares with doc b's: a merge of two id arrays. */
static size_t shared_sets(const ctx_priv *p, uint32_t a, uint32_t b, int k)
{
    const doc_meta *ma = &p->meta[a], *mb = &p->meta[b];
    if (!ma->setn[k] || !mb->setn[k]) return 0;
    size_t oa = ma->set0, ob = mb->set0;
    for (int i = 0; i < k; i++) {
        oa += ma->setn[i];
        ob += mb->setn[i];
    }
    const uint32_t *x = p->sets + oa, *xe = x + ma->setn[k];
    const uint32_t *y = p->sets + ob, *ye = y + mb->setn[k];
    size_t n = 0;
    while (x < xe && y < ye) {
        if (*x < *y) x++;
        else if (*y < *x) y++;
        else {
            n++;
            x++;
            y++;
        }
    }
    return n;
}

/* Item and signal features of (qdoc, cdoc), both indexed docs. */
static void set_features(const match_ctx *ctx, const match_query *mq, uint32_t cdoc,
                         double feat[FEAT_COUNT])
{
    const ctx_priv *p = ctx->priv;
    uint32_t qd = mq->qdoc;
    const item *q = mq->it;
    const doc_meta *qm = &p->meta[qd], *cm = &p->meta[cdoc];
    size_t k = shared_sets(p, qd, cdoc, SS_LABELS) + shared_sets(p, qd, cdoc, SS_COMPONENTS);
    feat[FEAT_LABELS] = jaccard(q->labels.n + q->components.n, cm->nlabels, k);
    int ver = shared_sets(p, qd, cdoc, SS_VERSIONS) > 0;
    if (!ver && mq->sig->versions.n) ver = shared_sets(p, qd, cdoc, SS_SIG_VERSIONS) > 0;
    feat[FEAT_VERSION] = ver;
    double days = fabs((double)(q->created_at - cm->created_at)) / 86400.0;
    feat[FEAT_TIME_GAP] = (q->created_at && cm->created_at) ? log1p(days) : log1p(365.0);
    feat[FEAT_SAME_AUTHOR] = qm->author && qm->author == cm->author;   /* same_str() */
    feat[FEAT_TYPE_SAME] = qm->type && qm->type == cm->type;
    feat[FEAT_PRIORITY_SAME] = qm->priority && qm->priority == cm->priority;
    feat[FEAT_KIND_SAME] = q->kind == cm->kind;
    feat[FEAT_EXCEPTION] = log1p_count(shared_sets(p, qd, cdoc, SS_EXCEPTIONS));
    feat[FEAT_FRAMES] = log1p_count(shared_sets(p, qd, cdoc, SS_FRAMES));
    feat[FEAT_PATHS] = log1p_count(shared_sets(p, qd, cdoc, SS_PATHS));
    feat[FEAT_ERRORS] = log1p_count(shared_sets(p, qd, cdoc, SS_ERRORS));
}

/* 1 when mq is an indexed doc seen as the index sees it, so its hash sets
 * in the ctx describe it. */
static int query_is_doc(const match_ctx *ctx, const match_query *mq)
{
    const ctx_priv *p = ctx->priv;
    return p->meta && mq->qdoc < p->ndocs && mq->it == index_item(ctx->ix, mq->qdoc) &&
           mq->sig == index_doc_signals(ctx->ix, mq->qdoc);
}

static void item_signal_features(const match_ctx *ctx, const match_query *mq, int qfast,
                                 uint32_t cdoc, double feat[FEAT_COUNT])
{
    if (qfast) {
        set_features(ctx, mq, cdoc, feat);
        return;
    }
    const item *c = index_item(ctx->ix, cdoc);
    const text_signals *cs = index_doc_signals(ctx->ix, cdoc);
    if (mq->it && c) item_features_str(mq, c, cs, feat);
    signal_features_str(mq->sig, cs, feat);
}

/* ---- features: links ---------------------------------------------------------- */

/* Neighbours of c visible to the query: in as-of mode only those older than
 * the query (which also hides the query itself). */
static size_t visible_links(const size_t *off, const uint32_t *nb, uint32_t c, uint32_t qdoc, int asof)
{
    size_t k = 0;
    for (size_t i = off[c]; i < off[c + 1]; i++) {
        if (nb[i] == qdoc) continue;
        if (asof && qdoc != UINT32_MAX && nb[i] >= qdoc) break;   /* ascending */
        k++;
    }
    return k;
}

static int linked(const size_t *off, const uint32_t *nb, uint32_t c, uint32_t qdoc)
{
    for (size_t i = off[c]; i < off[c + 1]; i++)
        if (nb[i] == qdoc) return 1;
    return 0;
}

/* ---- features: terms -------------------------------------------------------------- */

/* Sums over the terms the query and the candidate share, visited in
 * ascending term order (so the same doubles whichever way they are found). */
typedef struct term_acc {
    double dot_all, dot_title, shared_idf;
    size_t shared_big, shared_title_uni;
} term_acc;

static inline void term_shared(const match_ctx *ctx, uint32_t t, const uint16_t *qt,
                               const uint16_t *ct, term_acc *a)
{
    double idf = index_idf(ctx->ix, t);
    if (idf < 0) idf = 0;
    int big = index_term_bigram(ctx->ix, t);
    if (big) {
        a->shared_big++;
    } else if (tf_text(qt) && tf_text(ct)) {
        a->shared_idf += idf;
        a->dot_all += tf_weight(tf_text(qt)) * tf_weight(tf_text(ct)) * idf * idf;
    }
    if (qt[FIELD_TITLE] && ct[FIELD_TITLE]) {
        a->dot_title += tf_weight(qt[FIELD_TITLE]) * tf_weight(ct[FIELD_TITLE]) * idf * idf;
        if (!big) a->shared_title_uni++;
    }
}

/* The shared terms by merging the two sorted term lists. */
static void terms_merge(const match_ctx *ctx, const match_query *mq, const index_doc_terms *cd,
                        term_acc *a)
{
    size_t i = 0, j = 0;
    while (i < mq->nterms && j < cd->n) {
        uint32_t x = mq->terms[i], y = cd->terms[j];
        if (x < y) i++;
        else if (y < x) j++;
        else term_shared(ctx, x, mq->tf[i++], cd->tf[j++], a);
    }
}

/* What a pool's rows share, prepared once per query: a bitmap of the
 * query's terms, where each query term is (slot) and, when the BM25F
 * query's terms are all among them (qpos != NULL), where each is in it:
 * qpos[i] = index in mq->q of mq->terms[i], or -1. The field scores are
 * then summed in the same pass over the candidate's terms as the
 * similarity features. */
typedef struct qterm qterm;
typedef struct pool_prep {
    const uint64_t *bits;   /* bit t & mask set for each query term t */
    /* slot[t & mask] for a bit set: 1 + the index in mq->terms of the one
     * query term there, or POOL_SLOT_MANY when several share it (or the
     * index does not fit): a shared term's place without a search */
    const uint16_t *slot;
    uint32_t mask;
    const int32_t *qpos;
    const qterm *qt;     /* [mq->nterms] what term_shared asks of each query term */
} pool_prep;
#define POOL_SLOT_MANY UINT16_MAX

/* What term_shared() asks of query term t with counts tf, found once per
 * query instead of once per row sharing it: a row's shared terms cost a
 * random read of the idf and bigram tables each (cache misses, and a call
 * into the index). */
struct qterm {
    double idf;          /* clamped at 0, as term_shared does */
    double wtext;        /* tf_weight(tf_text(tf)) */
    double wtitle;       /* tf_weight(tf[FIELD_TITLE]) */
    unsigned char big, text, title;
};

static void qterm_make(const match_ctx *ctx, uint32_t t, const uint16_t *tf, qterm *q)
{
    double idf = index_idf(ctx->ix, t);
    q->idf = idf < 0 ? 0 : idf;
    q->big = (unsigned char)index_term_bigram(ctx->ix, t);
    q->text = tf_text(tf) != 0;
    q->title = tf[FIELD_TITLE] != 0;
    q->wtext = tf_weight(tf_text(tf));
    q->wtitle = tf_weight(tf[FIELD_TITLE]);
}

/* term_shared() with the query term's side from q: the same operations in
 * the same order, so the same doubles. */
static inline void term_shared_q(const qterm *q, const uint16_t *ct, term_acc *a)
{
    double idf = q->idf;
    if (q->big) {
        a->shared_big++;
    } else if (q->text && tf_text(ct)) {
        a->shared_idf += idf;
        a->dot_all += q->wtext * tf_weight(tf_text(ct)) * idf * idf;
    }
    if (q->title && ct[FIELD_TITLE]) {
        a->dot_title += q->wtitle * tf_weight(ct[FIELD_TITLE]) * idf * idf;
        if (!q->big) a->shared_title_uni++;
    }
}

/* Where query term t is in mq->terms, or SIZE_MAX when the query lacks
 * it, for a t whose bit is set: the slot names the one query term of its
 * bit (a term of another bit is dropped by the compare); a slot shared by
 * several is searched. */
static inline size_t pool_find(const match_query *mq, const pool_prep *pp, uint32_t t)
{
    uint16_t s = pp->slot[t & pp->mask];
    if (s != POOL_SLOT_MANY) return mq->terms[s - 1] == t ? (size_t)s - 1 : SIZE_MAX;
    size_t lo = 0, hi = mq->nterms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mq->terms[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo < mq->nterms && mq->terms[lo] == t ? lo : SIZE_MAX;
}

/* Candidate terms tested a chunk at a time (hits in a buffer on the stack). */
#define POOL_CHUNK 64

/* The shared terms by testing each candidate term against a bitmap of the
 * query's terms (set once per query), without a branch per term (which
 * mispredicted at each hit), then finding the few hits' query terms by
 * their slots. The bitmap is a filter (bit t & mask, see
 * match_pool_filter_bits): a term it lets through that the query lacks is
 * dropped by pool_find. Hits are taken in ascending term order, as
 * terms_merge() meets them: the same sums. With pp->qpos, also adds each
 * BM25F query term's field scores to fs -- in ascending term order, as
 * index_score_fields() does, so the same doubles. */
static void terms_bits(const match_ctx *ctx, const match_query *mq, const pool_prep *pp, uint32_t cdoc,
                       const index_doc_terms *cd, term_acc *a, double fs[FIELD_COUNT])
{
    const uint64_t *bits = pp->bits;
    uint32_t mask = pp->mask, hit[POOL_CHUNK];
    for (size_t j0 = 0; j0 < cd->n; j0 += POOL_CHUNK) {
        size_t je = cd->n - j0 < POOL_CHUNK ? cd->n : j0 + POOL_CHUNK, k = 0;
        for (size_t j = j0; j < je; j++) {
            uint32_t h = cd->terms[j] & mask;
            hit[k] = (uint32_t)j;
            k += (bits[h >> 6] >> (h & 63)) & 1;
        }
        for (size_t x = 0; x < k; x++) {
            size_t j = hit[x], i = pool_find(mq, pp, cd->terms[j]);
            if (i == SIZE_MAX) continue;   /* another term's bit */
            term_shared_q(&pp->qt[i], cd->tf[j], a);
            if (pp->qpos && pp->qpos[i] >= 0)
                index_fields_add(ctx->ix, mq->q, (size_t)pp->qpos[i], cdoc, cd->tf[j], fs);
        }
    }
}

static void term_features(const match_ctx *ctx, const match_query *mq, const pool_prep *pp,
                          uint32_t cdoc, double feat[FEAT_COUNT], double fs[FIELD_COUNT])
{
    const ctx_priv *p = ctx->priv;
    index_doc_terms cd;
    index_doc_terms_get(ctx->ix, cdoc, &cd);
    doc_stats mine;
    const doc_stats *cs = p->ds ? &p->ds[cdoc] : &mine;
    if (!p->ds) stats_of(ctx->ix, cd.terms, cd.tf, cd.n, &mine);
    term_acc a = {0, 0, 0, 0, 0};
    if (pp) terms_bits(ctx, mq, pp, cdoc, &cd, &a, fs);
    else terms_merge(ctx, mq, &cd, &a);
    double u = (double)(mq->ntitle_uni + cs->ntitle_uni) - (double)a.shared_title_uni;
    feat[FEAT_TITLE_OVERLAP] = u > 0 ? (double)a.shared_title_uni / u : 0;
    size_t minbig = mq->nbigrams < cs->nbigrams ? mq->nbigrams : cs->nbigrams;
    feat[FEAT_BIGRAM_OVERLAP] = minbig ? (double)a.shared_big / (double)minbig : 0;
    feat[FEAT_SHARED_IDF] = mq->idf_mass > 0 ? a.shared_idf / mq->idf_mass : 0;
    double na = mq->norm_all * cs->norm_all, nt = mq->norm_title * cs->norm_title;
    feat[FEAT_COSINE] = na > 0 ? a.dot_all / na : 0;
    feat[FEAT_TITLE_COSINE] = nt > 0 ? a.dot_title / nt : 0;
    double lq = (double)mq->len[FIELD_TITLE] + mq->len[FIELD_PROSE] + mq->len[FIELD_CODE];
    double lc = cd.len ? (double)cd.len[FIELD_TITLE] + cd.len[FIELD_PROSE] + cd.len[FIELD_CODE] : 0;
    double mx = lq > lc ? lq : lc;
    feat[FEAT_LEN_RATIO] = mx > 0 ? (lq < lc ? lq : lc) / mx : 0;
}

/* ---- one feature row ----------------------------------------------------------- */

/* log1p(x > 0 ? x : 0) without the call for a field that scores nothing
 * (log1p(0) is 0: the same double). */
static inline double log1p_pos(double x)
{
    return x > 0 ? log1p(x) : 0;
}

/* The row of (mq, cdoc) given its per-field BM25F scores fs (summed here
 * when pp->qpos is set: fs must then be zero); pp is the pool's
 * preparation or NULL, qfast whether the id path applies. */
static void features_row(const match_ctx *ctx, const match_query *mq, const pool_prep *pp,
                         int qfast, uint32_t cdoc, int bm25_rank, double bm25, double bm25_top,
                         double fs[FIELD_COUNT], double feat[FEAT_COUNT])
{
    const ctx_priv *p = ctx->priv;
    memset(feat, 0, FEAT_COUNT * sizeof *feat);
    term_features(ctx, mq, pp, cdoc, feat, fs);
    feat[FEAT_BM25F] = log1p_pos(bm25);
    feat[FEAT_BM25_REL] = bm25_top > 0 ? bm25 / bm25_top : 0;
    feat[FEAT_RANK_BM25] = 1.0 / (1.0 + bm25_rank);
    feat[FEAT_BM25_TITLE] = log1p_pos(fs[FIELD_TITLE]);
    feat[FEAT_BM25_PROSE] = log1p_pos(fs[FIELD_PROSE]);
    feat[FEAT_BM25_CODE] = log1p_pos(fs[FIELD_CODE]);
    feat[FEAT_BM25_LABELS] = log1p_pos(fs[FIELD_LABELS]);
    item_signal_features(ctx, mq, qfast, cdoc, feat);
    unsigned char lk = p->linked[cdoc];
    feat[FEAT_POPULARITY] =
        log1p_count(lk & LINK_DUP ? visible_links(p->dup_off, p->dup_nb, cdoc, mq->qdoc, ctx->asof) : 0);
    /* A cross-reference always involves the query, so in as-of mode (the
     * query as filed) it cannot exist yet. */
    feat[FEAT_CROSSREF] = !ctx->asof && mq->qdoc != UINT32_MAX && (lk & LINK_REL) &&
                          linked(p->rel_off, p->rel_nb, cdoc, mq->qdoc);
}

void match_features(const match_ctx *ctx, const match_query *mq, uint32_t cdoc, int bm25_rank,
                    double bm25, double bm25_top, double feat[FEAT_COUNT])
{
    double fs[FIELD_COUNT] = {0};
    index_score_fields(ctx->ix, mq->q, cdoc, fs);
    features_row(ctx, mq, NULL, query_is_doc(ctx, mq), cdoc, bm25_rank, bm25, bm25_top, fs, feat);
}

/* ---- a whole pool ------------------------------------------------------------------ */

/* Per-thread filter bitmap and its slots (pool_prep), all zero between
 * uses; freed at exit. */
typedef struct qbits {
    uint64_t *w;
    uint16_t *slot;   /* [64 n] */
    size_t n;         /* words of w */
} qbits;

static void qbits_free(void *v)
{
    qbits *b = v;
    if (b) {
        free(b->w);
        free(b->slot);
    }
    free(b);
}

static dp_tls qbits_tls = DP_TLS_INIT(sizeof(qbits), qbits_free);

static qbits *qbits_get(size_t nterms)
{
    qbits *b = dp_tls_get(&qbits_tls);
    size_t words = (nterms + 63) / 64;
    if (words > b->n) {
        free(b->w);
        free(b->slot);
        b->w = xcalloc(words, sizeof *b->w);
        b->slot = xcalloc(words * 64, sizeof *b->slot);
        b->n = words;
    }
    return b;
}

/* Sets the bit and slot of the query's terms below nterms. */
static void qbits_set(qbits *b, const match_query *mq, size_t nterms, uint32_t mask)
{
    for (size_t i = 0; i < mq->nterms; i++) {
        if (mq->terms[i] >= nterms) continue;
        uint32_t h = mq->terms[i] & mask;
        uint64_t bit = 1ULL << (h & 63);
        int first = !(b->w[h >> 6] & bit);
        b->w[h >> 6] |= bit;
        b->slot[h] = first && i + 1 < POOL_SLOT_MANY ? (uint16_t)(i + 1) : POOL_SLOT_MANY;
    }
}

/* Zeroes what qbits_set set. */
static void qbits_clear(qbits *b, const match_query *mq, size_t nterms, uint32_t mask)
{
    for (size_t i = 0; i < mq->nterms; i++) {
        if (mq->terms[i] >= nterms) continue;
        uint32_t h = mq->terms[i] & mask;
        b->w[h >> 6] = 0;
        b->slot[h] = 0;
    }
}

static void qbits_put(qbits *b) { dp_tls_put(&qbits_tls, b); }

size_t match_pool_filter_bits(size_t nterms, size_t nq)
{
    size_t bits = POOL_FILTER_MIN;
    while (bits < nterms && bits < POOL_FILTER_LOAD * nq) bits *= 2;
    return bits;
}

/* A pool's docs are known ahead, and each row's first reads of its
 * candidate are cache misses: rows PF_FAR ahead get the per-doc records
 * asked for (stage 0), rows PF_NEAR ahead what those records point at
 * (stage 1: they are in cache by then). Hints only: no value changes. */
#define PF_FAR 6
#define PF_NEAR 3
#define PF_BYTES 1024   /* of a doc's terms asked for (twice that of its counts) */
static void row_prefetch(const match_ctx *ctx, uint32_t d, int stage)
{
    const ctx_priv *p = ctx->priv;
    if (d >= p->ndocs) return;
    if (stage == 0) {
        index_doc_prefetch(ctx->ix, d);
        if (p->ds) {   /* a record can straddle two lines */
            __builtin_prefetch(&p->ds[d]);
            __builtin_prefetch((const char *)&p->ds[d] + sizeof *p->ds - 1);
        }
        if (p->meta) {
            __builtin_prefetch(&p->meta[d]);
            __builtin_prefetch((const char *)&p->meta[d] + sizeof *p->meta - 1);
        }
        __builtin_prefetch(&p->linked[d]);
        return;
    }
    index_doc_terms dt;
    index_doc_terms_get(ctx->ix, d, &dt);
    index_doc_terms_prefetch(&dt);
    /* the rest of the lists too, up to a cap: the terms are read in a
     * stream, but the counts only at the shared terms, a line here and
     * there that the hardware does not see coming */
    size_t nt = dt.n * sizeof *dt.terms, nf = dt.n * sizeof *dt.tf;
    nt = nt < PF_BYTES ? nt : PF_BYTES;
    nf = nf < 2 * PF_BYTES ? nf : 2 * PF_BYTES;
    for (size_t b = 128; b < nt; b += 64) __builtin_prefetch((const char *)dt.terms + b);
    for (size_t b = 128; b < nf; b += 64) __builtin_prefetch((const char *)dt.tf + b);
    if (p->meta) __builtin_prefetch(&p->sets[p->meta[d].set0]);
    /* a linked doc's offsets (features_row counts its neighbours): the
     * byte was asked for at stage 0 */
    unsigned char lk = p->linked[d];
    if (lk & LINK_DUP) __builtin_prefetch(&p->dup_off[d]);
    if (lk & LINK_REL) __builtin_prefetch(&p->rel_off[d]);
}

void match_prefetch_judged(const match_ctx *ctx, const match_hit *hits, size_t n)
{
    const ctx_priv *p = ctx->priv;
    const item *it[MATCH_POOL];
    n = n < MATCH_POOL ? n : MATCH_POOL;
    for (size_t i = 0; i < n; i++) {   /* the per-doc records ... */
        uint32_t d = hits[i].doc;
        it[i] = d < p->ndocs ? index_item(ctx->ix, d) : NULL;
        if (!it[i]) continue;
        for (size_t b = 0; b < sizeof *it[i]; b += 64) __builtin_prefetch((const char *)it[i] + b);
        __builtin_prefetch(&p->refs[d]);
        match_doc_title_prefetch(ctx, d, 0);
        if (p->tt_off) __builtin_prefetch(&p->tt_off[d]);
    }
    for (size_t i = 0; i < n; i++) {   /* ... then what they point at: their loads overlap */
        if (!it[i]) continue;
        match_doc_title_prefetch(ctx, hits[i].doc, 1);   /* the judge reads its words there */
        __builtin_prefetch(it[i]->key);
        __builtin_prefetch(it[i]->state);   /* item_is_open, state_features */
        /* whether it shows frames or error lines (match_judge_prepare of a
         * newer candidate, failure_features): made by its feature row */
        const text_signals *sg = index_doc_signals(ctx->ix, hits[i].doc);
        if (sg) {
            __builtin_prefetch(&sg->frames.n);
            __builtin_prefetch(&sg->errors.n);
        }
        const match_refs *r = atomic_load_explicit(&p->refs[hits[i].doc], memory_order_acquire);
        if (r) __builtin_prefetch(r);
        if (p->tt_off) {
            __builtin_prefetch(&p->tt[p->tt_off[hits[i].doc]]);
            __builtin_prefetch(&p->tt_idf[p->tt_off[hits[i].doc]]);
        }
    }
}

/* Where each of mq->q's terms is in mq->terms (see pool_prep), or NULL
 * when one is not there (a caller-made query: match_rank) or the BM25F
 * query is not ascending: then the field scores are summed apart. */
static int32_t *pool_qpos(const match_ctx *ctx, const match_query *mq)
{
    const ctx_priv *p = ctx->priv;
    const index_query *q = mq->q;
    size_t nt = index_nterms(ctx->ix);
    int32_t *qpos = xmalloc((mq->nterms ? mq->nterms : 1) * sizeof *qpos);
    for (size_t i = 0; i < mq->nterms; i++) qpos[i] = -1;
    size_t i = 0;
    for (size_t k = 0; k < q->n; k++) {
        uint32_t t = q->terms[k];
        if (k && t <= q->terms[k - 1]) goto apart;
        if (t >= nt) continue;   /* no doc holds it: adds nothing */
        while (i < mq->nterms && mq->terms[i] < t) i++;
        if (i == mq->nterms || mq->terms[i] != t || t >= p->nterms || k > INT32_MAX) goto apart;
        qpos[i] = (int32_t)k;
    }
    return qpos;
apart:
    free(qpos);
    return NULL;
}

void match_features_pool(const match_ctx *ctx, const match_query *mq, const index_hit *pool,
                         size_t n, match_hit *out)
{
    const ctx_priv *p = ctx->priv;
    if (!n) return;
    double (*fs)[FIELD_COUNT] = xcalloc(n, sizeof *fs);
    int32_t *qpos = pool_qpos(ctx, mq);
    if (!qpos) {
        uint32_t *docs = xmalloc(n * sizeof *docs);
        for (size_t i = 0; i < n; i++) docs[i] = pool[i].doc;
        index_score_fields_many(ctx->ix, mq->q, docs, n, fs);
        free(docs);
    }
    size_t nbits = match_pool_filter_bits(p->nterms, mq->nterms);
    uint32_t mask = (uint32_t)(nbits - 1);
    qbits *b = qbits_get(nbits);
    qbits_set(b, mq, p->nterms, mask);
    qterm *qt = xmalloc((mq->nterms ? mq->nterms : 1) * sizeof *qt);
    for (size_t i = 0; i < mq->nterms; i++) qterm_make(ctx, mq->terms[i], mq->tf[i], &qt[i]);
    pool_prep pp = {b->w, b->slot, mask, qpos, qt};
    int qfast = query_is_doc(ctx, mq);
    double top = pool[0].score;
    for (size_t i = 0; i < n && i < PF_FAR; i++) row_prefetch(ctx, pool[i].doc, 0);
    for (size_t i = 0; i < n && i < PF_NEAR; i++) row_prefetch(ctx, pool[i].doc, 1);
    for (size_t i = 0; i < n; i++) {
        if (i + PF_FAR < n) row_prefetch(ctx, pool[i + PF_FAR].doc, 0);
        if (i + PF_NEAR < n) row_prefetch(ctx, pool[i + PF_NEAR].doc, 1);
        match_hit *h = &out[i];
        h->doc = pool[i].doc;
        h->bm25_rank = (int)i;
        h->bm25 = pool[i].score;
        features_row(ctx, mq, &pp, qfast, h->doc, (int)i, h->bm25, top, fs[i], h->feat);
    }
    qbits_clear(b, mq, p->nterms, mask);
    qbits_put(b);
    free(qt);
    free(qpos);
    free(fs);
}
