/* index_bench.c -- speed, memory and accuracy benchmark of the text
 * pipeline and the BM25F index on the apache-jira data.
 *
 *   index_bench speed  DATA_DIR THREADS PROJECT...   build the index over the
 *       given projects (one repository), run index_topk (k=20, all earlier
 *       and later docs, self excluded) for every doc on THREADS threads,
 *       compare with exhaustive scoring on a sample (must be identical),
 *       print build time, queries/s, the thread CPU inside index_topk
 *       (query building excluded), the sample's postings a query and the
 *       share of common terms' (df > 2 % / 5 % of docs), peak RSS.
 *   index_bench recall DATA_DIR PROJECT...   per project: index it alone,
 *       query every known duplicate (duplicates.csv) restricted to earlier
 *       docs, print recall@1/10/100 and the mean over projects.
 *
 * Environment overrides for parameter sweeps (default = index_params_default):
 *   IX_K1, IX_W="t,p,c,l", IX_B="t,p,c,l", IX_BIGRAMS, IX_TPL, IX_QK1, IX_QMAX;
 *   IX_NOSAMPLE=1 skips the exhaustive comparison (profiling); IX_TOPK=N
 *   asks N hits a query instead of 20 (analyze's pool is MATCH_POOL);
 *   IX_QSTEP=S queries every S-th doc only; IX_SPAN=S limits a query's
 *   candidates to the S docs before and after it (analyze's horizon clips
 *   every list to such a range); IX_AB=R times the sampled
 *   queries (built beforehand) R rounds with the scalar loops and R with
 *   the AVX-512 kernels, interleaved, on one thread: median CPU a query
 *   of each, and whether both gave the same hits. A "project" whose records have
 *   no "fields" is read in GitHub's shape: bench/gen_scale.py's issues.jsonl.gz
 *   (DATA_DIR the generated dir, PROJECT "issues") is the 250k case.
 * The driver parses the gzip JSONL itself (jansson) so it depends on the
 * text and index modules only.
 */
#include "../src/index/index.h"
#include "../src/index/index_int.h"   /* ix_topk_simd_set (IX_AB) */

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static char *jname(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_object(v) ? jstr(v, "name") : NULL;
}

/* One issue of GitHub's REST shape (as bench/gen_scale.py writes them). */
static void load_github(json_t *o, item *it)
{
    json_t *n = json_object_get(o, "number");
    it->key = json_is_integer(n) ? xasprintf("%lld", (long long)json_integer_value(n)) : jstr(o, "node_id");
    if (!it->key) it->key = xstrdup("");
    it->title = jstr(o, "title");
    if (!it->title) it->title = xstrdup("");
    it->body = jstr(o, "body");
    if (!it->body) it->body = xstrdup("");
    char *c = jstr(o, "created_at");
    if (c) dp_parse_time(c, &it->created_at);
    free(c);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "labels"), i, v) {
        json_t *nm = json_object_get(v, "name");
        if (json_is_string(nm)) sv_push(&it->labels, json_string_value(nm));
    }
}

static void load_project(const char *dir, const char *proj, item_vec *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.jsonl.gz", dir, proj);
    char *buf;
    size_t len;
    dp_err err;
    if (dp_read_file(path, &buf, &len, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    char *p = buf;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        json_error_t je;
        json_t *o = json_loads(p, 0, &je);
        if (o) {
            json_t *f = json_object_get(o, "fields");
            item *it = item_vec_push(out);
            if (!f) {   /* GitHub's shape (bench/gen_scale.py) */
                load_github(o, it);
                json_decref(o);
                p = nl ? nl + 1 : NULL;
                continue;
            }
            it->key = jstr(o, "key");
            it->title = jstr(f, "summary");
            if (!it->title) it->title = xstrdup("");
            it->body = jstr(f, "description");
            if (!it->body) it->body = xstrdup("");
            it->type = jname(f, "issuetype");
            char *c = jstr(f, "created");
            if (c) dp_parse_time(c, &it->created_at);
            free(c);
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(f, "labels"), i, v)
                if (json_is_string(v)) sv_push(&it->labels, json_string_value(v));
            json_array_foreach(json_object_get(f, "components"), i, v) {
                json_t *nm = json_object_get(v, "name");
                if (json_is_string(nm)) sv_push(&it->components, json_string_value(nm));
            }
            json_decref(o);
        }
        p = nl ? nl + 1 : NULL;
    }
    free(buf);
}

static int cmp_created(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->created_at != y->created_at) return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void parse4(const char *s, double v[4])
{
    sscanf(s, "%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]);
}

static void params_from_env(index_params *p)
{
    index_params_default(p);
    const char *s;
    if ((s = getenv("IX_K1"))) p->k1 = atof(s);
    if ((s = getenv("IX_W"))) parse4(s, p->weight);
    if ((s = getenv("IX_B"))) parse4(s, p->b);
    if ((s = getenv("IX_BIGRAMS"))) p->bigrams = atoi(s);
    if ((s = getenv("IX_TPL"))) p->strip_templates = atoi(s);
    if ((s = getenv("IX_SPLIT"))) p->text.code_split = atoi(s);
    if ((s = getenv("IX_STEM"))) p->text.stem = atoi(s);
    if ((s = getenv("IX_QK1"))) p->query_k1 = atof(s);
    if ((s = getenv("IX_BGW"))) p->bigram_weight = atof(s);
    if ((s = getenv("IX_QMAX"))) p->query_max_terms = atoi(s);
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* CPU time of the whole process: on a loaded machine it tells the cost of
 * the queries better than wall time. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- speed ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One round of the queries qs[0..nq) of docs d = i * step; returns the
 * thread CPU seconds and folds the hits into *fp. */
static double ab_round(const dindex *ix, const index_query *qs, uint32_t nq, uint32_t step, size_t k,
                       index_hit *hits, uint64_t *fp);

/* IX_AB: scalar against SIMD top-k, rounds interleaved so that the load of
 * a shared machine weighs on both alike. */
static void ab_compare(const dindex *ix, uint32_t n, size_t k, uint32_t step, int rounds)
{
    uint32_t nq = (n + step - 1) / step;
    index_query *qs = xmalloc(nq * sizeof *qs);
    for (uint32_t i = 0; i < nq; i++) index_query_from_doc(ix, i * step, &qs[i]);
    index_hit *hits = xmalloc(k * sizeof *hits);
    double t[2][64];
    uint64_t fp[2] = {0, 0};
    int has = ix_topk_simd_set(IX_SIMD_BEST);
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++)
        for (int m = 0; m < 2; m++) {
            ix_topk_simd_set(m ? has : IX_SIMD_NONE);
            uint64_t f = 1469598103934665603ULL;
            t[m][r] = ab_round(ix, qs, nq, step, k, hits, &f);
            fp[m] = f;
        }
    ix_topk_simd_set(IX_SIMD_BEST);
    qsort(t[0], (size_t)rounds, sizeof(double), cmp_double);
    qsort(t[1], (size_t)rounds, sizeof(double), cmp_double);
    const char *name = has == IX_SIMD_AVX512 ? "avx512" : has == IX_SIMD_AVX2 ? "avx2" : "scalar (no kernel)";
    printf("A/B %u queries x %d rounds: scalar %.4f ms, %s %.4f ms a query (median CPU), hits %s\n", nq, rounds,
           1000 * t[0][rounds / 2] / nq, name, 1000 * t[1][rounds / 2] / nq,
           fp[0] == fp[1] ? "equal" : "DIFFER");
    for (uint32_t i = 0; i < nq; i++) index_query_free(&qs[i]);
    free(qs);
    free(hits);
}

typedef struct qjob {
    const dindex *ix;
    uint32_t from, to;
    int exhaustive;
    index_hit *res;     /* [n * K] */
    size_t *nres;
    uint32_t step;      /* query every step-th doc (IX_QSTEP) */
    double topk_cpu;    /* thread CPU seconds inside the top-k calls */
} qjob;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* hits per query: IX_TOPK (default 20; analyze keeps a pool of MATCH_POOL) */
static size_t K = 20;
/* query every IX_QSTEP-th doc (default 1: all): a sample of a big index */
static uint32_t QSTEP = 1;
/* IX_SPAN=S: a query's candidates are the S docs before and the S after it
 * (analyze's horizon, whose range clips every list), not the whole index */
static uint32_t SPAN = 0;

static void qrange(uint32_t d, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    *lo = 0;
    *hi = n;
    if (!SPAN) return;
    *lo = d > SPAN ? d - SPAN : 0;
    *hi = n - d > SPAN ? d + SPAN : n;
}

static void *qrun(void *arg)
{
    qjob *j = arg;
    for (uint32_t d = j->from; d < j->to; d++) {
        if (d % j->step) {
            j->nres[d] = 0;
            continue;
        }
        index_query q;
        index_query_from_doc(j->ix, d, &q);
        uint32_t lo, hi;
        qrange(d, (uint32_t)index_ndocs(j->ix), &lo, &hi);
        double c0 = thread_cpu();
        if (j->exhaustive)
            j->nres[d] = index_topk_exhaustive(j->ix, &q, lo, hi, d, K, j->res + (size_t)d * K);
        else
            j->nres[d] = index_topk(j->ix, &q, lo, hi, d, K, j->res + (size_t)d * K);
        j->topk_cpu += thread_cpu() - c0;
        index_query_free(&q);
    }
    return NULL;
}

static double run_queries(const dindex *ix, uint32_t n, int threads, int exhaustive, index_hit *res, size_t *nres,
                          double *topk_cpu)
{
    pthread_t th[64];
    qjob jobs[64];
    double t0 = dp_now();
    /* interleaved chunks keep the threads balanced */
    for (int i = 0; i < threads; i++) {
        jobs[i] = (qjob){ix, (uint32_t)((uint64_t)n * i / threads), (uint32_t)((uint64_t)n * (i + 1) / threads),
                         exhaustive, res, nres, QSTEP, 0};
        pthread_create(&th[i], NULL, qrun, &jobs[i]);
    }
    *topk_cpu = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        *topk_cpu += jobs[i].topk_cpu;
    }
    return dp_now() - t0;
}

static double ab_round(const dindex *ix, const index_query *qs, uint32_t nq, uint32_t step, size_t k,
                       index_hit *hits, uint64_t *fp)
{
    double c0 = thread_cpu();
    for (uint32_t i = 0; i < nq; i++) {
        uint32_t lo, hi;
        qrange(i * step, (uint32_t)index_ndocs(ix), &lo, &hi);
        size_t nh = index_topk(ix, &qs[i], lo, hi, i * step, k, hits);
        for (size_t j = 0; j < nh; j++) {
            uint32_t sc;
            memcpy(&sc, &hits[j].score, sizeof sc);
            *fp = (*fp ^ hits[j].doc) * 1099511628211ULL;
            *fp = (*fp ^ sc) * 1099511628211ULL;
        }
    }
    return thread_cpu() - c0;
}

static int cmd_speed(const char *dir, int threads, char **projs, int np)
{
    item_vec items = {0};
    double t0 = dp_now();
    for (int i = 0; i < np; i++) load_project(dir, projs[i], &items);
    qsort(items.v, items.n, sizeof *items.v, cmp_created);
    double tload = dp_now() - t0;
    index_params p;
    params_from_env(&p);
    p.threads = threads;
    dindex *ix;
    dp_err err;
    t0 = dp_now();
    if (index_build(items.v, items.n, &p, &ix, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double tbuild = dp_now() - t0;
    long rss_build = peak_rss_mb();
    uint32_t n = (uint32_t)items.n;
    size_t postings = 0;
    for (uint32_t t = 0; t < index_nterms(ix); t++) postings += index_df(ix, t);
    printf("docs %u  terms %zu  postings %zu  template lines %zu\n", n, index_nterms(ix), postings,
           text_template_size(index_template(ix)));
    printf("load %.2fs  build %.2fs (%d threads)  peak RSS after build %ld MB\n", tload, tbuild, threads, rss_build);

    const char *ab = getenv("IX_AB");
    if (ab && atoi(ab) > 0) ab_compare(ix, (uint32_t)items.n, K, QSTEP, atoi(ab));
    index_hit *res = xmalloc((size_t)n * K * sizeof *res);
    size_t *nres = xmalloc(n * sizeof *nres);
    double c0 = cpu_seconds();
    double ctk;
    double tq = run_queries(ix, n, threads, 0, res, nres, &ctk);
    double cq = cpu_seconds() - c0;
    uint32_t nq = (n + QSTEP - 1) / QSTEP;
    printf("topk k=%zu for %u of %u docs: %.2fs  %.0f queries/s  (%d threads, %.2f s cpu, %.3f ms cpu a query, "
           "%.3f ms of it in index_topk)\n", K, nq, n, tq, nq / tq, threads, cq, 1000 * cq / nq, 1000 * ctk / nq);
    /* fingerprint of every result list: equal across versions of the code
     * means the same docs with the same float scores */
    uint64_t fp = 1469598103934665603ULL;
    for (uint32_t d = 0; d < n; d++)
        for (size_t i = 0; i < nres[d]; i++) {
            const index_hit *h = &res[(size_t)d * K + i];
            uint32_t sc;
            memcpy(&sc, &h->score, sizeof sc);
            fp = (fp ^ h->doc) * 1099511628211ULL;
            fp = (fp ^ sc) * 1099511628211ULL;
        }
    printf("results fingerprint %016llx\n", (unsigned long long)fp);

    /* exhaustive reference on a sample of docs (every 40th) */
    uint32_t step = n > 2000 ? 40 : 1;
    const char *nos = getenv("IX_NOSAMPLE");
    if (nos && *nos && strcmp(nos, "0") != 0) step = n;   /* profiling the top-k loop alone */
    size_t ns = 0, mism = 0;
    /* postings of the sample's query lists (what retrieval visits: at a
     * pool of 100 MaxScore prunes ~nothing), and those of terms in more
     * than 2 % / 5 % of the docs (what a common-terms cutoff would skip) */
    uint64_t post_all = 0, post_2 = 0, post_5 = 0;
    double tex = 0, tmx = 0;
    index_hit *ex = xmalloc(K * sizeof *ex), *mx = xmalloc(K * sizeof *mx);
    for (uint32_t d = 0; d < n; d += step) {
        index_query q;
        index_query_from_doc(ix, d, &q);
        uint32_t lo, hi;
        qrange(d, n, &lo, &hi);
        double a = dp_now();
        size_t ne = index_topk_exhaustive(ix, &q, lo, hi, d, K, ex);
        double b = dp_now();
        size_t nm = index_topk(ix, &q, lo, hi, d, K, mx);
        double c = dp_now();
        tex += b - a;
        tmx += c - b;
        if (ne != nm || memcmp(ex, mx, ne * sizeof *ex) != 0) mism++;
        for (size_t i = 0; i < q.n; i++) {
            uint32_t df = index_df(ix, q.terms[i]);
            post_all += df;
            post_2 += df * 50 > n ? df : 0;
            post_5 += df * 20 > n ? df : 0;
        }
        ns++;
        index_query_free(&q);
    }
    printf("sample %zu queries: exhaustive %.2f ms/q, maxscore %.3f ms/q, speed-up x%.1f, mismatches %zu\n",
           ns, 1000 * tex / ns, 1000 * tmx / ns, tex / tmx, mism);
    /* whole lists (df), also under IX_SPAN: the share of common terms is
     * what it is over the index */
    printf("postings a query %.0f%s, of terms in > 2 %% of docs %.1f %%, in > 5 %% %.1f %%\n", (double)post_all / ns,
           SPAN ? " (whole lists, not clipped to IX_SPAN)" : "",
           100.0 * (double)post_2 / (double)(post_all ? post_all : 1),
           100.0 * (double)post_5 / (double)(post_all ? post_all : 1));
    printf("total (build + all queries) %.2fs  peak RSS %ld MB\n", tbuild + tq, peak_rss_mb());
    free(ex);
    free(mx);
    free(res);
    free(nres);
    index_free(ix);
    item_vec_free(&items);
    return mism ? 1 : 0;
}

/* ---- recall ------------------------------------------------------------------ */

static int cmd_recall(const char *dir, char **projs, int np)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/duplicates.csv", dir);
    char *csv;
    size_t clen;
    dp_err err;
    if (dp_read_file(path, &csv, &clen, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    index_params p;
    params_from_env(&p);
    double sum10 = 0, sum100 = 0;
    size_t tot_q = 0, tot_h10 = 0;
    for (int pi = 0; pi < np; pi++) {
        item_vec items = {0};
        load_project(dir, projs[pi], &items);
        qsort(items.v, items.n, sizeof *items.v, cmp_created);
        dindex *ix;
        if (index_build(items.v, items.n, &p, &ix, &err) != DP_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        size_t nq = 0, h1 = 0, h10 = 0, h100 = 0;
        double mrr = 0;
        char *line = csv;
        while (line && *line) {
            char *nl = strchr(line, '\n');
            size_t ll = nl ? (size_t)(nl - line) : strlen(line);
            char buf[512];
            if (ll < sizeof buf) {
                memcpy(buf, line, ll);
                buf[ll] = '\0';
                char *f[5] = {0};
                char *s = buf;
                for (int i = 0; i < 5 && s; i++) {
                    f[i] = s;
                    s = strchr(s, ',');
                    if (s) *s++ = '\0';
                }
                if (f[2] && strcmp(f[0], projs[pi]) == 0) {
                    int64_t qd = index_find(ix, f[1]), dd = index_find(ix, f[2]);
                    if (qd >= 0 && dd >= 0 && dd < qd) {
                        index_query q;
                        index_query_from_doc(ix, (uint32_t)qd, &q);
                        index_hit hits[100];
                        size_t nh = index_topk(ix, &q, 0, (uint32_t)qd, (uint32_t)qd, 100, hits);
                        for (size_t r = 0; r < nh; r++)
                            if (hits[r].doc == (uint32_t)dd) {
                                if (r < 1) h1++;
                                if (r < 10) h10++;
                                h100++;
                                mrr += 1.0 / (double)(r + 1);
                                break;
                            }
                        nq++;
                        index_query_free(&q);
                    }
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        double r10 = nq ? (double)h10 / (double)nq : 0;
        printf("%-10s docs %6zu  queries %4zu  R@1 %.3f  R@10 %.3f  R@100 %.3f  MRR %.3f\n", projs[pi],
               items.n, nq, nq ? (double)h1 / nq : 0, r10, nq ? (double)h100 / nq : 0, nq ? mrr / nq : 0);
        sum10 += r10;
        sum100 += nq ? (double)h100 / (double)nq : 0;
        tot_q += nq;
        tot_h10 += h10;
        index_free(ix);
        item_vec_free(&items);
    }
    printf("mean R@10 over projects %.4f  pooled R@10 %.4f (%zu queries)  mean R@100 %.4f\n",
           sum10 / np, tot_q ? (double)tot_h10 / (double)tot_q : 0, tot_q, sum100 / np);
    free(csv);
    return 0;
}

int main(int argc, char **argv)
{
    const char *k = getenv("IX_TOPK");
    if (k && atoi(k) > 0) K = (size_t)atoi(k);
    const char *qs = getenv("IX_QSTEP");
    if (qs && atoi(qs) > 0) QSTEP = (uint32_t)atoi(qs);
    const char *sp = getenv("IX_SPAN");
    if (sp && atoi(sp) > 0) SPAN = (uint32_t)atoi(sp);
    if (argc >= 5 && strcmp(argv[1], "speed") == 0)
        return cmd_speed(argv[2], atoi(argv[3]), argv + 4, argc - 4);
    if (argc >= 4 && strcmp(argv[1], "recall") == 0)
        return cmd_recall(argv[2], argv + 3, argc - 3);
    fprintf(stderr, "usage: index_bench speed DATA_DIR THREADS PROJECT...\n"
                    "       index_bench recall DATA_DIR PROJECT...\n");
    return 2;
}
