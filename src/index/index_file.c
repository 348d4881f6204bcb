/* index_file.c -- the persisted index: a built index written to one file and
 * mapped back read-only (see index.h, "persisted index", for the contract).
 *
 * Format (native byte order; every section starts 8-byte aligned):
 *   ixf_header (below): magic "DPIXFILE", version, a byte-order mark, the
 *     three fingerprints (text pipeline, build parameters, content), the
 *     counts, avglen[], each section's offset and length, the payload's
 *     checksum (the XXH3-64 of the XXH3-64s of its IXF_CHUNK-byte chunks,
 *     so a reader checks it on all cores) and, last, the XXH3-64 of the
 *     header.
 *   sections, in enum order: the arrays of struct dindex as they are in
 *     memory (term strings and offsets, term hashes, df, idf, max impacts,
 *     the dictionary's hash slots, postings offsets / docs / impacts, block
 *     maxima, forward offsets / terms / counts, field lengths and norms,
 *     content hashes, template line hashes), then the signals: a prefix
 *     count of strings per (doc, list) [n * 5 + 1], each string's offset
 *     [nsig], the NUL-terminated strings; then the docs' names: the
 *     NUL-terminated keys, each doc's key offset [n] (UINT64_MAX: no key),
 *     the keyed docs sorted by key [nksort], each doc's store row id [n],
 *     each doc's creation time [n].
 * The arrays are the index's own, so opening is: check, map, point. Only
 * the signals need a pointer array; keys are found by binary search in the
 * sorted docs, so a reader needs neither the items nor a hash table.
 * Version 2 added the stamp (index.h, "Stamps") and the docs' names;
 * version 3 each doc's creation time [n] (index_doc_created), so a reader
 * with a horizon needs no date from the store.
 *
 * Why check the whole payload's checksum at open: a flipped byte in a
 * posting would send a reader out of bounds, and the arrays are used as
 * they are, without a bounds check per read. XXH3 reads ~10 GB/s from the
 * page cache; the cheap structural checks below (offsets ascending and in
 * range) guard the O(terms + docs) arrays once more.
 */
#include "index_int.h"
#include "../common/hashmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define IXF_MAGIC "DPIXFILE"
#define IXF_VERSION 3u
#define IXF_BOM 0x0102030405060708ull
#define SIG_LISTS 5
#define IXF_CHUNK ((uint64_t)1 << 23)   /* bytes per checksummed chunk of the payload */

enum {
    S_TSTR, S_TOFF, S_THASH, S_DF, S_IDF, S_MAXIMP, S_HT,
    S_POFF, S_PDOC, S_PIMP, S_BLK,
    S_FOFF, S_FTERM, S_FTF, S_LEN, S_NORM, S_CHASH, S_TPL,
    S_SIGCNT, S_SIGOFF, S_SIGSTR,
    S_KSTR, S_KOFF, S_KSORT, S_ROWID, S_CREATED,
    S_COUNT
};

/* All members 8 bytes wide: no padding, the same layout for every compiler. */
typedef struct ixf_header {
    char magic[8];
    uint64_t version, bom;
    uint64_t pipeline_fp, params_fp, content_fp;
    uint64_t stamp_seq, stamp_id;   /* the writer's stamp; 0, 0: none */
    uint64_t nksort, kstr_len;
    uint64_t ndocs, nterms, npost, nblk, tstr_len, ht_cap, ht_n, tpl_ndocs, ntpl, nsig, sigstr_len;
    double avglen[FIELD_COUNT];
    uint64_t off[S_COUNT], len[S_COUNT];
    uint64_t payload_hash;
    uint64_t header_hash;   /* of every byte of the header before it */
} ixf_header;

/* ---- fingerprints ---------------------------------------------------------- */

/* The parameters that shape stored numbers (impacts, norms, terms). */
static uint64_t params_fp(const index_params *p)
{
    double d[1 + 2 * FIELD_COUNT];
    d[0] = p->k1;
    for (int f = 0; f < FIELD_COUNT; f++) {
        d[1 + f] = p->b[f];
        d[1 + FIELD_COUNT + f] = p->weight[f];
    }
    uint64_t v[2] = {XXH3_64bits(d, sizeof d), (uint64_t)p->bigrams << 1 | (uint64_t)!!p->strip_templates};
    return XXH3_64bits(v, sizeof v);
}

/* Of every doc's key and content hash, in doc order; keys from ix, or
 * items when ix is NULL. */
static uint64_t content_fp_of(const dindex *ix, const item *items, const uint64_t *chash, size_t n)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    uint64_t nn = n;
    XXH3_64bits_update(h, &nn, sizeof nn);
    for (size_t d = 0; d < n; d++) {
        const char *k = ix ? index_doc_key(ix, (uint32_t)d) : items[d].key;
        if (!k) k = "";
        XXH3_64bits_update(h, k, strlen(k) + 1);
        XXH3_64bits_update(h, &chash[d], sizeof chash[d]);
    }
    uint64_t v = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return v;
}

static uint64_t content_fp(const dindex *ix, const uint64_t *chash, size_t n)
{
    return content_fp_of(ix, NULL, chash, n);
}

/* Content hashes of items, on all cores (XXH3 of 250k bodies: ~0.1 s). */
typedef struct hash_job {
    const item *items;
    uint64_t *out;
} hash_job;

static void hash_run(void *arg, size_t lo, size_t hi)
{
    hash_job *j = arg;
    for (size_t d = lo; d < hi; d++) j->out[d] = ix_item_hash(&j->items[d]);
}

static uint64_t *item_hashes(const item *items, size_t n, int threads)
{
    hash_job j = {.items = items, .out = xmalloc((n ? n : 1) * sizeof *j.out)};
    dp_parallel_for(n < 4096 ? 1 : dp_threads(threads), n, 1024, hash_run, &j);
    return j.out;
}

static atomic_uint_fast64_t checksums_done;   /* payload checksums computed */

uint64_t index_file_checksums(void) { return atomic_load(&checksums_done); }

/* The payload's checksum (see the format above), its chunks hashed on all
 * cores: at 250k items the file is ~600 MB, read once per open. */
typedef struct sum_job {
    int fd;
    uint64_t at, len;   /* the payload: bytes [at, at + len) of the file */
    uint64_t *out;
    size_t n;
    atomic_size_t next;
    atomic_int bad;
} sum_job;

/* Reads (pread, through a buffer the cache holds) rather than touching the
 * mapping: mapping 600 MB page by page costs more than copying it, and a
 * query then maps only the few pages it reads. */
#define SUM_BUF ((size_t)1 << 20)
static void *sum_run(void *arg)
{
    sum_job *j = arg;
    unsigned char *buf = xmalloc(SUM_BUF);
    XXH3_state_t *h = XXH3_createState();
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;) {
        uint64_t lo = (uint64_t)i * IXF_CHUNK, hi = lo + IXF_CHUNK < j->len ? lo + IXF_CHUNK : j->len;
        XXH3_64bits_reset(h);
        while (lo < hi) {
            size_t want = hi - lo < SUM_BUF ? (size_t)(hi - lo) : SUM_BUF;
            ssize_t got = pread(j->fd, buf, want, (off_t)(j->at + lo));
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                atomic_store(&j->bad, 1);
                break;
            }
            XXH3_64bits_update(h, buf, (size_t)got);
            lo += (uint64_t)got;
        }
        j->out[i] = XXH3_64bits_digest(h);
    }
    XXH3_freeState(h);
    free(buf);
    return NULL;
}

/* The checksum of the payload, bytes [at, at + len) of fd; 0 with *bad set
 * when reading fails. */
static uint64_t payload_hash(int fd, uint64_t at, uint64_t len, int threads, int *bad)
{
    atomic_fetch_add(&checksums_done, 1);
    sum_job j = {.fd = fd, .at = at, .len = len, .n = (size_t)((len + IXF_CHUNK - 1) / IXF_CHUNK)};
    j.out = xmalloc((j.n ? j.n : 1) * sizeof *j.out);
    atomic_init(&j.next, 0);
    atomic_init(&j.bad, 0);
    dp_run_threads(j.n < 4 ? 1 : dp_threads(threads), sum_run, &j);
    uint64_t h = XXH3_64bits(j.out, j.n * sizeof *j.out);
    free(j.out);
    *bad = atomic_load(&j.bad);
    return h;
}

/* Where path's seal is (index.h, "Seals"; written and checked under
 * "seals" below, dropped by a save). */
static char *seal_path(const char *path) { return xasprintf("%s.seal", path); }

/* ---- save ------------------------------------------------------------------ */

typedef struct wr {
    FILE *f;
    XXH3_state_t *h;   /* of the current chunk */
    uint64_t at;       /* bytes written so far */
    uint64_t *chunk;   /* the checksums of the chunks written */
    size_t nchunk, cap;
    int bad;
} wr;

static void w_chunk_end(wr *w)
{
    if (w->nchunk == w->cap) w->chunk = xrealloc(w->chunk, (w->cap = w->cap * 2 + 64) * sizeof *w->chunk);
    w->chunk[w->nchunk++] = XXH3_64bits_digest(w->h);
    XXH3_64bits_reset(w->h);
}

static void w_bytes(wr *w, const void *p, size_t n)
{
    if (w->bad || !n) return;
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
    const char *c = p;
    while (n) {   /* split at chunk boundaries */
        uint64_t room = IXF_CHUNK - w->at % IXF_CHUNK;
        size_t take = n < room ? n : (size_t)room;
        XXH3_64bits_update(w->h, c, take);
        w->at += take;
        c += take;
        n -= take;
        if (w->at % IXF_CHUNK == 0) w_chunk_end(w);
    }
}

static void w_u64(wr *w, uint64_t v) { w_bytes(w, &v, sizeof v); }

static void w_align(wr *w)
{
    static const char zero[8];
    if (w->at % 8) w_bytes(w, zero, 8 - w->at % 8);
}

/* Starts section s at the next aligned offset. */
static void w_begin(wr *w, ixf_header *hd, int s)
{
    w_align(w);
    hd->off[s] = w->at;
}

static void w_end(wr *w, ixf_header *hd, int s) { hd->len[s] = w->at - hd->off[s]; }

static void w_section(wr *w, ixf_header *hd, int s, const void *p, size_t n)
{
    w_begin(w, hd, s);
    w_bytes(w, p, n);
    w_end(w, hd, s);
}

static const strvec *sig_list(const text_signals *s, int i)
{
    const strvec *v[SIG_LISTS] = {&s->exceptions, &s->frames, &s->paths, &s->errors, &s->versions};
    return v[i];
}

static void write_signals(wr *w, ixf_header *hd, const dindex *ix)
{
    uint64_t cnt = 0, off = 0;
    w_begin(w, hd, S_SIGCNT);
    for (size_t d = 0; d < ix->n; d++)
        for (int i = 0; i < SIG_LISTS; i++) {
            w_u64(w, cnt);
            cnt += sig_list(index_doc_signals(ix, (uint32_t)d), i)->n;
        }
    w_u64(w, cnt);
    w_end(w, hd, S_SIGCNT);
    hd->nsig = cnt;
    w_begin(w, hd, S_SIGOFF);
    for (size_t d = 0; d < ix->n; d++)
        for (int i = 0; i < SIG_LISTS; i++) {
            const strvec *v = sig_list(index_doc_signals(ix, (uint32_t)d), i);
            for (size_t k = 0; k < v->n; k++) {
                w_u64(w, off);
                off += strlen(v->v[k]) + 1;
            }
        }
    w_end(w, hd, S_SIGOFF);
    w_begin(w, hd, S_SIGSTR);
    for (size_t d = 0; d < ix->n; d++)
        for (int i = 0; i < SIG_LISTS; i++) {
            const strvec *v = sig_list(index_doc_signals(ix, (uint32_t)d), i);
            for (size_t k = 0; k < v->n; k++) w_bytes(w, v->v[k], strlen(v->v[k]) + 1);
        }
    w_end(w, hd, S_SIGSTR);
    hd->sigstr_len = off;
}

/* The keyed docs in key order, ties by doc: what index_find searches. */
static int ksort_cmp(const void *a, const void *b, void *arg)
{
    const dindex *ix = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(index_doc_key(ix, x), index_doc_key(ix, y));
    return c ? c : (x > y) - (x < y);
}

static void write_names(wr *w, ixf_header *hd, const dindex *ix)
{
    size_t n = ix->n, nk = 0;
    uint64_t off = 0;
    uint32_t *ks = xmalloc((n ? n : 1) * sizeof *ks);
    w_begin(w, hd, S_KSTR);
    for (size_t d = 0; d < n; d++) {
        const char *k = index_doc_key(ix, (uint32_t)d);
        if (!k) continue;
        w_bytes(w, k, strlen(k) + 1);
        ks[nk++] = (uint32_t)d;
    }
    w_end(w, hd, S_KSTR);
    hd->kstr_len = hd->len[S_KSTR];
    w_begin(w, hd, S_KOFF);
    for (size_t d = 0; d < n; d++) {
        const char *k = index_doc_key(ix, (uint32_t)d);
        w_u64(w, k ? off : UINT64_MAX);
        if (k) off += strlen(k) + 1;
    }
    w_end(w, hd, S_KOFF);
    if (nk) qsort_r(ks, nk, sizeof *ks, ksort_cmp, (void *)ix);
    w_section(w, hd, S_KSORT, ks, nk * sizeof *ks);
    hd->nksort = nk;
    free(ks);
    w_begin(w, hd, S_ROWID);
    for (size_t d = 0; d < n; d++) w_u64(w, (uint64_t)index_doc_rowid(ix, (uint32_t)d));
    w_end(w, hd, S_ROWID);
    w_begin(w, hd, S_CREATED);
    for (size_t d = 0; d < n; d++) w_u64(w, (uint64_t)index_doc_created(ix, (uint32_t)d));
    w_end(w, hd, S_CREATED);
}

static void write_payload(wr *w, ixf_header *hd, const dindex *ix_in)
{
    /* a grown index's lists are written merged, as a build lays them out */
    dindex merged;
    const dindex *ix = ix_in;
    if (ix_in->dl.nterm || ix_in->post_nterms != ix_in->nterms) {
        merged = *ix_in;
        ix_postings_merge(ix_in, &merged);
        ix = &merged;
    }
    size_t n = ix->n, nt = ix->nterms, np = ix->fwd_off[n];
    size_t nblk = np / IX_BLOCK + nt + 1;
    w_section(w, hd, S_TSTR, ix->tstr, ix->tstr_len);
    w_section(w, hd, S_TOFF, ix->toff, nt * sizeof *ix->toff);
    w_section(w, hd, S_THASH, ix->thash, nt * sizeof *ix->thash);
    w_section(w, hd, S_DF, ix->df, nt * sizeof *ix->df);
    w_section(w, hd, S_IDF, ix->idf, nt * sizeof *ix->idf);
    w_section(w, hd, S_MAXIMP, ix->maximp, nt * sizeof *ix->maximp);
    w_section(w, hd, S_HT, ix->ht.slot, ix->ht.cap * sizeof *ix->ht.slot);
    w_section(w, hd, S_POFF, ix->post_off, (nt + 1) * sizeof *ix->post_off);
    w_section(w, hd, S_PDOC, ix->post_doc, np * sizeof *ix->post_doc);
    w_section(w, hd, S_PIMP, ix->post_imp, np * sizeof *ix->post_imp);
    w_section(w, hd, S_BLK, ix->blk_max, nblk * sizeof *ix->blk_max);
    w_section(w, hd, S_FOFF, ix->fwd_off, (n + 1) * sizeof *ix->fwd_off);
    w_section(w, hd, S_FTERM, ix->fwd_term, np * sizeof *ix->fwd_term);
    w_section(w, hd, S_FTF, ix->fwd_tf, np * sizeof *ix->fwd_tf);
    w_section(w, hd, S_LEN, ix->len, n * sizeof *ix->len);
    w_section(w, hd, S_NORM, ix->norm, n * sizeof *ix->norm);
    w_section(w, hd, S_CHASH, ix->chash, n * sizeof *ix->chash);
    size_t ntpl = 0;
    const uint64_t *tpl = ix->tpl ? text_template_hashes(ix->tpl, &ntpl) : NULL;
    w_section(w, hd, S_TPL, tpl, ntpl * sizeof *tpl);
    write_signals(w, hd, ix);
    write_names(w, hd, ix);
    w_align(w);
    hd->ndocs = n;
    hd->nterms = nt;
    hd->npost = np;
    hd->nblk = nblk;
    hd->tstr_len = ix->tstr_len;
    hd->ht_cap = ix->ht.cap;
    hd->ht_n = ix->ht.n;
    hd->tpl_ndocs = ix->tpl_ndocs;
    hd->ntpl = ix->tpl ? ntpl : UINT64_MAX;   /* UINT64_MAX: no template */
    memcpy(hd->avglen, ix->avglen, sizeof hd->avglen);
    if (ix != ix_in) {
        free(merged.post_off);
        free(merged.post_doc);
        free(merged.post_imp);
        free(merged.blk_max);
    }
}

int index_file_save(const dindex *ix, const char *path, const index_stamp *stamp, dp_err *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    ixf_header hd;
    memset(&hd, 0, sizeof hd);
    wr w = {fopen(tmp, "wb"), XXH3_createState(), 0, NULL, 0, 0, 0};
    if (!w.f) {
        int e = errno;
        XXH3_freeState(w.h);
        free(tmp);
        return dp_fail(err, "index file: cannot create %s.tmp: %s", path, strerror(e));
    }
    /* the header goes first, written again once the payload is known */
    w.bad = fwrite(&hd, sizeof hd, 1, w.f) != 1;
    w.at = 0;   /* offsets count from the end of the header */
    XXH3_64bits_reset(w.h);
    write_payload(&w, &hd, ix);
    memcpy(hd.magic, IXF_MAGIC, 8);
    hd.version = IXF_VERSION;
    hd.bom = IXF_BOM;
    hd.pipeline_fp = ix_pipeline_fingerprint(&ix->p);
    hd.params_fp = params_fp(&ix->p);
    hd.content_fp = content_fp(ix, ix->chash, ix->n);
    if (stamp) {
        hd.stamp_seq = stamp->seq;
        hd.stamp_id = stamp->id;
    }
    if (w.at % IXF_CHUNK) w_chunk_end(&w);
    hd.payload_hash = XXH3_64bits(w.chunk, w.nchunk * sizeof *w.chunk);
    free(w.chunk);
    hd.header_hash = XXH3_64bits(&hd, offsetof(ixf_header, header_hash));
    int bad = w.bad || fseek(w.f, 0, SEEK_SET) != 0 || fwrite(&hd, sizeof hd, 1, w.f) != 1;
    int e = errno;
    bad |= fclose(w.f) != 0;
    XXH3_freeState(w.h);
    if (!bad && rename(tmp, path) != 0) bad = 1;
    if (bad) {
        e = errno ? errno : e;
        unlink(tmp);
        free(tmp);
        return dp_fail(err, "index file: cannot write %s: %s", path, strerror(e));
    }
    free(tmp);
    /* the old file's seal names another inode: it would never hold again */
    char *sp = seal_path(path);
    unlink(sp);
    free(sp);
    return DP_OK;
}

/* ---- seals (index.h, "Seals") --------------------------------------------- */

#define IXF_SEAL_MAGIC "DPIXSEAL"

/* All members 8 bytes wide, as the header's. */
typedef struct ixf_seal {
    char magic[8];
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
    uint64_t header_hash, payload_hash;
    uint64_t seal_hash;   /* of every byte before it */
} ixf_seal;

static _Atomic double seal_settle = INDEX_SEAL_SETTLE;

double index_file_seal_settle(double seconds) { return atomic_exchange(&seal_settle, seconds); }

/* The seal fd's file would get now: its identity and hd's checksums. */
static void seal_of(const struct stat *sb, const ixf_header *hd, ixf_seal *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->magic, IXF_SEAL_MAGIC, 8);
    s->dev = (uint64_t)sb->st_dev;
    s->ino = (uint64_t)sb->st_ino;
    s->size = (uint64_t)sb->st_size;
    s->mtime_s = (int64_t)sb->st_mtim.tv_sec;
    s->mtime_ns = (int64_t)sb->st_mtim.tv_nsec;
    s->ctime_s = (int64_t)sb->st_ctim.tv_sec;
    s->ctime_ns = (int64_t)sb->st_ctim.tv_nsec;
    s->header_hash = hd->header_hash;
    s->payload_hash = hd->payload_hash;
    s->seal_hash = XXH3_64bits(s, offsetof(ixf_seal, seal_hash));
}

/* 1 when path's seal is exactly want (the file is as it was checked). */
static int seal_holds(const char *path, const ixf_seal *want)
{
    char *sp = seal_path(path);
    int fd = open(sp, O_RDONLY | O_CLOEXEC);
    free(sp);
    if (fd < 0) return 0;
    ixf_seal got;
    ssize_t n = pread(fd, &got, sizeof got, 0);
    close(fd);
    return n == (ssize_t)sizeof got && memcmp(&got, want, sizeof got) == 0;
}

/* Writes s as path's seal (a temporary file renamed over it) when the
 * file's change time is settled: a write in the same clock tick would leave
 * it unchanged. Best effort: a seal not written costs the next open a full
 * check, nothing more. */
static int seal_write(const char *path, const ixf_seal *s)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return 0;
    double age = (double)(now.tv_sec - s->ctime_s) + (double)(now.tv_nsec - s->ctime_ns) / 1e9;
    if (!(age >= atomic_load(&seal_settle))) return 0;
    char *sp = seal_path(path), *tmp = xasprintf("%s.tmp.%ld", sp, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write(fd, s, sizeof *s) == (ssize_t)sizeof *s;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, sp) != 0) {
        unlink(tmp);
        ok = 0;
    }
    free(tmp);
    free(sp);
    return ok;
}

/* ---- open ------------------------------------------------------------------- */

/* Section s as a pointer into the payload when its length is exactly want
 * bytes, else NULL. */
static void *sec(const ixf_header *hd, const unsigned char *pl, int s, uint64_t want)
{
    return hd->len[s] == want ? (void *)(pl + hd->off[s]) : NULL;
}

/* Sections inside the payload, aligned, in order, not overlapping. */
static int layout_ok(const ixf_header *hd, uint64_t plen)
{
    uint64_t at = 0;
    for (int s = 0; s < S_COUNT; s++) {
        if (hd->off[s] % 8 || hd->off[s] < at || hd->off[s] > plen || hd->len[s] > plen - hd->off[s])
            return 0;
        at = hd->off[s] + hd->len[s];
    }
    return 1;
}

static int ascending_to(const uint64_t *v, size_t n, uint64_t last)
{
    if (v[0] != 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i + 1] < v[i]) return 0;
    return v[n] == last;
}

/* Points ix's arrays into the payload; 0 when a section has the wrong size
 * or fails a structural check. */
static int point(dindex *ix, const ixf_header *hd, const unsigned char *pl)
{
    uint64_t n = hd->ndocs, nt = hd->nterms, np = hd->npost;
    if (nt >= UINT32_MAX || hd->nblk != np / IX_BLOCK + nt + 1) return 0;
    if (hd->ht_cap & (hd->ht_cap - 1) || hd->ht_n != nt || (nt && hd->ht_n >= hd->ht_cap)) return 0;
    ix->tstr = sec(hd, pl, S_TSTR, hd->tstr_len);
    ix->toff = sec(hd, pl, S_TOFF, nt * 8);
    ix->thash = sec(hd, pl, S_THASH, nt * 8);
    ix->df = sec(hd, pl, S_DF, nt * 4);
    ix->idf = sec(hd, pl, S_IDF, nt * 4);
    ix->maximp = sec(hd, pl, S_MAXIMP, nt * 4);
    ix->ht.slot = sec(hd, pl, S_HT, hd->ht_cap * 4);
    ix->post_off = sec(hd, pl, S_POFF, (nt + 1) * 8);
    ix->post_doc = sec(hd, pl, S_PDOC, np * 4);
    ix->post_imp = sec(hd, pl, S_PIMP, np * 4);
    ix->blk_max = sec(hd, pl, S_BLK, hd->nblk * 4);
    ix->fwd_off = sec(hd, pl, S_FOFF, (n + 1) * 8);
    ix->fwd_term = sec(hd, pl, S_FTERM, np * 4);
    ix->fwd_tf = sec(hd, pl, S_FTF, np * sizeof *ix->fwd_tf);
    ix->len = sec(hd, pl, S_LEN, n * sizeof *ix->len);
    ix->norm = sec(hd, pl, S_NORM, n * sizeof *ix->norm);
    ix->chash = sec(hd, pl, S_CHASH, n * 8);
    if (!ix->toff || !ix->thash || !ix->df || !ix->idf || !ix->maximp || !ix->ht.slot || !ix->post_off ||
        !ix->post_doc || !ix->post_imp || !ix->blk_max || !ix->fwd_off || !ix->fwd_term || !ix->fwd_tf ||
        !ix->len || !ix->norm || !ix->chash || (hd->tstr_len && !ix->tstr))
        return 0;
    if (!ascending_to(ix->post_off, nt, np) || !ascending_to(ix->fwd_off, n, np)) return 0;
    if (hd->tstr_len && ix->tstr[hd->tstr_len - 1] != '\0') return 0;
    for (uint64_t t = 0; t < nt; t++)
        if (ix->toff[t] >= hd->tstr_len || ix->df[t] != ix->post_off[t + 1] - ix->post_off[t]) return 0;
    ix->ht.cap = hd->ht_cap;
    ix->ht.n = hd->ht_n;
    ix->nterms = ix->tcap = ix->post_nterms = nt;
    ix->tstr_len = ix->tstr_cap = hd->tstr_len;
    memcpy(ix->avglen, hd->avglen, sizeof ix->avglen);
    ix->tpl_ndocs = hd->tpl_ndocs;
    return 1;
}

static int point_template(dindex *ix, const ixf_header *hd, const unsigned char *pl)
{
    if (hd->ntpl == UINT64_MAX) return hd->len[S_TPL] == 0;   /* built without one */
    if (hd->ntpl > hd->len[S_TPL] / 8) return 0;
    const uint64_t *h = sec(hd, pl, S_TPL, hd->ntpl * 8);
    if (!h && hd->ntpl) return 0;
    ix->tpl = text_template_from_hashes(h, hd->ntpl);
    return ix->tpl != NULL;
}

/* The signals' sections; each doc's are made on first use
 * (ix_file_signals). */
static int point_signals(dindex *ix, const ixf_header *hd, const unsigned char *pl)
{
    uint64_t n = ix->n, ns = hd->nsig, sl = hd->sigstr_len;
    const uint64_t *cnt = sec(hd, pl, S_SIGCNT, (n * SIG_LISTS + 1) * 8);
    const uint64_t *off = sec(hd, pl, S_SIGOFF, ns * 8);
    const char *str = sec(hd, pl, S_SIGSTR, sl);
    if (!cnt || (ns && (!off || !str)) || !ascending_to(cnt, n * SIG_LISTS, ns)) return 0;
    if (sl && str[sl - 1] != '\0') return 0;
    ix->sigcnt = cnt;
    ix->sigoff = off;
    ix->sigstr = str;
    ix->sigstr_len = sl;
    ix->msig = xcalloc(n ? n : 1, sizeof *ix->msig);
    return 1;
}

const text_signals *ix_file_signals(const dindex *ix, uint32_t doc)
{
    text_signals *s = atomic_load_explicit(&ix->msig[doc], memory_order_acquire);
    if (s) return s;
    const uint64_t *cnt = ix->sigcnt + (size_t)doc * SIG_LISTS;
    size_t total = (size_t)(cnt[SIG_LISTS] - cnt[0]);
    /* one block: the struct, then the string pointers of its five lists */
    s = xcalloc(1, sizeof *s + total * sizeof(char *));
    char **ptr = (char **)(s + 1);
    for (size_t i = 0; i < total; i++) {
        uint64_t o = ix->sigoff[cnt[0] + i];
        ptr[i] = (char *)(o < ix->sigstr_len ? ix->sigstr + o : "");   /* the checksum vouches; no overrun */
    }
    strvec *v[SIG_LISTS] = {&s->exceptions, &s->frames, &s->paths, &s->errors, &s->versions};
    for (int i = 0; i < SIG_LISTS; i++) {
        v[i]->n = v[i]->cap = (size_t)(cnt[i + 1] - cnt[i]);
        v[i]->v = v[i]->n ? ptr + (cnt[i] - cnt[0]) : NULL;
    }
    text_signals *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&ix->msig[doc], &expected, s, memory_order_acq_rel,
                                                memory_order_acquire))
        return s;
    free(s);   /* another thread was first */
    return expected;
}

void ix_file_unmap(dindex *ix)
{
    for (size_t d = 0; ix->msig && d < ix->nmapped; d++) free(atomic_load(&ix->msig[d]));
    free(ix->msig);
    ix->msig = NULL;
    if (ix->map) {
        munmap(ix->map, ix->maplen);
        close(ix->mapfd);
    }
    ix->map = NULL;
}

static size_t page_size(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    return pg > 0 ? (size_t)pg : 4096;
}

/* The section of the file that starts at arr, or -1. */
static int section_at(const dindex *ix, const void *arr)
{
    const ixf_header *hd = ix->map;
    const unsigned char *pl = (const unsigned char *)ix->map + sizeof *hd;
    for (int s = 0; s < S_COUNT; s++)
        if (hd->len[s] && (const void *)(pl + hd->off[s]) == arr) return s;
    return -1;
}

void *ix_file_grow(dindex *nx, const dindex *ix, const void *arr, size_t cap)
{
    int s = ix->map ? section_at(ix, arr) : -1;
    if (s < 0 || nx->ncow == IX_COW_MAX) return NULL;
    const ixf_header *hd = ix->map;
    size_t pg = page_size();
    uint64_t at = sizeof *hd + hd->off[s], lo = at / pg * pg, lead = at - lo;
    size_t total = (size_t)((lead + cap + pg - 1) / pg * pg);
    size_t flen = (size_t)((lead + hd->len[s] + pg - 1) / pg * pg);   /* the file's pages of it */
    if (flen > total) flen = total;
    if (lo + flen > ix->maplen) return NULL;   /* past the file's end: no page to map */
    void *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    if (flen && mmap(base, flen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, ix->mapfd, (off_t)lo) == MAP_FAILED) {
        munmap(base, total);
        return NULL;
    }
    nx->cow[nx->ncow].base = base;
    nx->cow[nx->ncow++].len = total;
    /* the mapping's whole pages inside the section: resident twice else */
    uintptr_t a = ((uintptr_t)arr + pg - 1) / pg * pg, b = ((uintptr_t)arr + (uintptr_t)hd->len[s]) / pg * pg;
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);   /* advice: a failure costs memory, no more */
    return (char *)base + lead;
}

int ix_file_holds(const dindex *ix, const void *p)
{
    uintptr_t x = (uintptr_t)p;
    if (ix->map && x >= (uintptr_t)ix->map && x < (uintptr_t)ix->map + ix->maplen) return 1;
    for (size_t i = 0; i < ix->ncow; i++)
        if (x >= (uintptr_t)ix->cow[i].base && x < (uintptr_t)ix->cow[i].base + ix->cow[i].len) return 1;
    return 0;
}

int index_is_mapped(const dindex *ix) { return ix && ix->map != NULL; }

/* Maps path; DP_NOTFOUND when absent, DP_ERR with *why. */
static int map_file(const char *path, int *fdp, void **map, size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return DP_NOTFOUND;
        *why = "it cannot be opened";
        return DP_ERR;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        *why = "it is not a regular file";
        return DP_ERR;
    }
    if ((uint64_t)sb.st_size < sizeof(ixf_header)) {
        close(fd);
        *why = "it is truncated";
        return DP_ERR;
    }
    *len = (size_t)sb.st_size;
    *map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (*map == MAP_FAILED) {
        close(fd);
        *map = NULL;
        *why = "it cannot be mapped";
        return DP_ERR;
    }
    *fdp = fd;   /* the checksum reads through it */
    return DP_OK;
}

/* The docs' names (keys, row ids, key order) and dates; 0 when damaged. */
static int point_names(dindex *ix, const ixf_header *hd, const unsigned char *pl)
{
    uint64_t n = ix->n, nk = hd->nksort, kl = hd->kstr_len;
    ix->kstr = sec(hd, pl, S_KSTR, kl);
    ix->koff = sec(hd, pl, S_KOFF, n * 8);
    ix->ksort = sec(hd, pl, S_KSORT, nk * 4);
    ix->rowid = sec(hd, pl, S_ROWID, n * 8);
    ix->created = sec(hd, pl, S_CREATED, n * 8);
    if ((kl && !ix->kstr) || !ix->koff || (nk && !ix->ksort) || !ix->rowid || (n && !ix->created) || nk > n)
        return 0;
    if (kl && ix->kstr[kl - 1] != '\0') return 0;
    for (uint64_t d = 0; d < n; d++)
        if (ix->koff[d] != UINT64_MAX && ix->koff[d] >= kl) return 0;
    for (uint64_t i = 0; i < nk; i++)
        if (ix->ksort[i] >= n || ix->koff[ix->ksort[i]] == UINT64_MAX) return 0;
    ix->nksort = (size_t)nk;
    return 1;
}

/* The header's verdict, cheapest checks first: what it is, whether it is
 * whole, whether it was made with these parameters. */
static const char *check_header(const ixf_header *hd, size_t filelen, const index_params *p)
{
    if (memcmp(hd->magic, IXF_MAGIC, 8) != 0) return "it is not a doppel index file";
    /* the version first: another version's header has another size */
    if (hd->version != IXF_VERSION || hd->bom != IXF_BOM) return "it has another format version";
    if (hd->header_hash != XXH3_64bits(hd, offsetof(ixf_header, header_hash)))
        return "its header checksum does not match";
    /* the header checksum matched: its offsets are the ones written */
    uint64_t plen = filelen - sizeof *hd, end = hd->off[S_COUNT - 1] + hd->len[S_COUNT - 1];
    if (end > plen) return "it is truncated";
    if ((end + 7) / 8 * 8 != plen || !layout_ok(hd, plen)) return "it is damaged";
    if (hd->pipeline_fp != ix_pipeline_fingerprint(p))
        return "it was made by another text pipeline or other text options";
    if (hd->params_fp != params_fp(p)) return "it was made with other index parameters";
    if (hd->ndocs >= UINT32_MAX - 1) return "it is damaged";
    return NULL;
}

/* Whether the file was made from these items (items mode) or with this
 * stamp (stamp mode; behind: with this id, at this seq or before): NULL,
 * or why not. */
static const char *check_content(const ixf_header *hd, const item *items, size_t n, const index_stamp *stamp,
                                 int behind, int threads)
{
    if (stamp) {
        if (behind ? hd->stamp_seq > stamp->seq : hd->stamp_seq != stamp->seq)
            return "the items changed since it was written";
        if (!stamp->id || hd->stamp_id != stamp->id) return "it was not written for this store";
        return NULL;
    }
    if (hd->ndocs != n) return "the items changed since it was written";
    uint64_t *ch = item_hashes(items, n, threads);
    int same = hd->content_fp == content_fp_of(NULL, items, ch, n);
    free(ch);
    return same ? NULL : "the items changed since it was written";
}

/* NULL when the payload is the one the header's checksum names: the seal
 * says so (the file is unchanged since a check), or a full check does --
 * and then seals the file. The identity is taken before the check, so a
 * write during it leaves a seal that no longer holds. */
static const char *check_payload(const char *path, int fd, const ixf_header *hd, size_t len, int threads,
                                 int *sealed)
{
    struct stat sb;
    ixf_seal s;
    int known = fstat(fd, &sb) == 0;
    *sealed = 0;
    if (known) {
        seal_of(&sb, hd, &s);
        if ((*sealed = seal_holds(path, &s))) return NULL;
    }
    int bad = 0;
    if (hd->payload_hash != payload_hash(fd, sizeof *hd, len - sizeof *hd, threads, &bad) || bad)
        return bad ? "it cannot be read" : "its checksum does not match";
    if (known) *sealed = seal_write(path, &s);
    return NULL;
}

int index_file_seal(const char *path, int threads)
{
    void *map = NULL;
    size_t len = 0;
    int fd = -1;
    const char *why = NULL;
    if (map_file(path, &fd, &map, &len, &why) != DP_OK) return 0;
    int sealed = 0;
    why = check_payload(path, fd, map, len, threads, &sealed);
    close(fd);
    munmap(map, len);
    return !why && sealed;
}

static int file_open(const item *items, size_t n, const index_stamp *stamp, int behind, const index_params *p_in,
                     const char *path, dindex **out, uint64_t *seq_out, const char **why)
{
    *out = NULL;
    index_params p;
    if (p_in) p = *p_in;
    else index_params_default(&p);
    void *map = NULL;
    size_t len = 0;
    int fd = -1;
    int rc = map_file(path, &fd, &map, &len, why);
    if (rc != DP_OK) return rc;
    const ixf_header *hd = map;
    const unsigned char *pl = (const unsigned char *)map + sizeof *hd;
    *why = check_header(hd, len, &p);
    if (!*why) *why = check_content(hd, items, n, stamp, behind, p.threads);
    int sealed;
    if (!*why) *why = check_payload(path, fd, hd, len, p.threads, &sealed);
    if (*why) {
        close(fd);
        munmap(map, len);
        return DP_ERR;
    }
    n = (size_t)hd->ndocs;
    dindex *ix = xcalloc(1, sizeof *ix);
    ix->items = items;
    ix->n = n;
    ix->p = p;
    ix->map = map;
    ix->maplen = len;
    ix->mapfd = fd;   /* index_append maps sections of it again */
    if (!point(ix, hd, pl) || !point_template(ix, hd, pl) || !point_signals(ix, hd, pl) ||
        !point_names(ix, hd, pl)) {
        ix->n = 0;   /* nothing per doc to free yet but the arrays */
        index_free(ix);
        *why = "it is damaged";
        return DP_ERR;
    }
    ix->fields = xcalloc(n ? n : 1, sizeof *ix->fields);
    ix->reused = ix->nmapped = n;
    if (seq_out) *seq_out = hd->stamp_seq;
    *out = ix;
    return DP_OK;
}

int index_file_open(const item *items, size_t n, const index_params *p, const char *path, dindex **out,
                    const char **why)
{
    return file_open(items, n, NULL, 0, p, path, out, NULL, why);
}

int index_file_open_stamped(const index_stamp *stamp, const index_params *p, const char *path,
                            dindex **out, const char **why)
{
    return file_open(NULL, 0, stamp, 0, p, path, out, NULL, why);
}

int index_file_open_behind(const index_stamp *stamp, const index_params *p, const char *path, dindex **out,
                           uint64_t *seq_out, const char **why)
{
    return file_open(NULL, 0, stamp, 1, p, path, out, seq_out, why);
}

/* Rewrites the header in place: a torn write (a crash, a reader at the
 * same moment) fails the header checksum, so it is refused, never
 * misread. The file at path must still be the one ix maps (a writer may
 * have renamed another over it): the same payload checksum and content. */
int index_file_restamp(const dindex *ix, const char *path, const index_stamp *stamp, dp_err *err)
{
    if (!ix->map || ix->owned) return dp_fail(err, "index file: the index is not the one of a file");
    const ixf_header *mine = ix->map;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return dp_fail(err, "index file: cannot open %s: %s", path, strerror(errno));
    ixf_header hd;
    int rc = DP_OK;
    if (pread(fd, &hd, sizeof hd, 0) != (ssize_t)sizeof hd ||
        hd.header_hash != XXH3_64bits(&hd, offsetof(ixf_header, header_hash)) ||
        hd.payload_hash != mine->payload_hash || hd.content_fp != mine->content_fp || hd.ndocs != mine->ndocs) {
        rc = dp_fail(err, "index file: %s changed since it was opened", path);
    } else {
        hd.stamp_seq = stamp->seq;
        hd.stamp_id = stamp->id;
        hd.header_hash = XXH3_64bits(&hd, offsetof(ixf_header, header_hash));
        if (pwrite(fd, &hd, sizeof hd, 0) != (ssize_t)sizeof hd)
            rc = dp_fail(err, "index file: cannot write %s: %s", path, strerror(errno));
    }
    if (close(fd) != 0 && rc == DP_OK) rc = dp_fail(err, "index file: cannot write %s: %s", path, strerror(errno));
    return rc;
}
