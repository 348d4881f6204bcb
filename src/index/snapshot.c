/* snapshot.c -- saving what the text pipeline derived from each doc, and
 * reading it back for index_build_snap() (see index.h for the contract).
 *
 * Format. Integers are little-endian; "var" is an unsigned LEB128 varint.
 *   "DPIXSNAP", u32 version, u64 fingerprint
 *   u64 tpl_ndocs, var ntpl, ntpl x u64 template line hashes (ascending)
 *   var nterms, var terms_len, terms_len bytes of NUL-terminated terms
 *   var ndocs, then per doc: var keylen, key, u64 content hash,
 *                            var reclen, record
 *   u64 XXH3-64 of every byte before it
 * A record: 5 x (var count, count x (var len, bytes)) signals; 4 x var field
 * lengths; var nterms, then per term: var id delta from the previous id, u8
 * mask of fields present, a var count per field in the mask. Counts are
 * small, so a (doc, term) entry costs ~3 bytes instead of the index's 12.
 * The fields' text is not kept: the index splits a decoded doc again when
 * its text is asked for (explain needs it for a few docs only), and the
 * text was half of the snapshot.
 *
 * Why a fingerprint: a snapshot stores the output of the text pipeline, so
 * it is only valid for the code that produced it. The version below is
 * bumped by hand when the format changes; the fingerprint also hashes the
 * text options and the pipeline's output on a fixed probe item covering
 * every field, signal and token rule, so a change to the tokenizer, the
 * splitter or the signal extractor invalidates old snapshots by itself.
 *
 * On save, term ids are renumbered densely over the terms some doc still
 * uses (order kept, so per-doc lists stay ascending): terms of edited or
 * deleted docs do not accumulate from one snapshot to the next.
 */
#include "index_int.h"
#include "../common/hashmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SNAP_MAGIC "DPIXSNAP"
/* 3: template line hashes are dp_hash (XXH3), were FNV-1a */
#define SNAP_VERSION 3u
#define SIG_COUNT 5

/* ---- writing ------------------------------------------------------------ */

static void put_u64(sbuf *b, uint64_t v)
{
    char c[8];
    for (int i = 0; i < 8; i++) c[i] = (char)(v >> (8 * i));
    sb_add(b, c, 8);
}

static void put_var(sbuf *b, uint64_t v)
{
    char c[10];
    size_t n = 0;
    do {
        unsigned char x = v & 0x7f;
        v >>= 7;
        c[n++] = (char)(v ? x | 0x80 : x);
    } while (v);
    sb_add(b, c, n);
}

static void put_str(sbuf *b, const char *s, size_t n)
{
    put_var(b, n);
    sb_add(b, s, n);
}

/* ---- reading: every read is bounds-checked; r->bad sticks --------------- */

typedef struct rd {
    const unsigned char *p, *end;
    int bad;
} rd;

static uint64_t get_u64(rd *r)
{
    if (r->bad || r->end - r->p < 8) { r->bad = 1; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}

static uint64_t get_var(rd *r)
{
    uint64_t v = 0;
    for (int sh = 0; !r->bad && r->p < r->end && sh < 64; sh += 7) {
        unsigned c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

static const unsigned char *get_bytes(rd *r, uint64_t n)
{
    if (r->bad || (uint64_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
    const unsigned char *p = r->p;
    r->p += n;
    return p;
}

/* ---- hashing -------------------------------------------------------------- */

static void hash_str(XXH3_state_t *h, const char *s)
{
    if (s) XXH3_64bits_update(h, s, strlen(s));
    XXH3_64bits_update(h, "", 1);   /* separator: ("ab","c") != ("a","bc") */
}

static void hash_vec(XXH3_state_t *h, const strvec *v)
{
    uint64_t n = v->n;
    XXH3_64bits_update(h, &n, sizeof n);
    for (size_t i = 0; i < v->n; i++) hash_str(h, v->v[i]);
}

uint64_t ix_item_hash(const item *it)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    hash_str(h, it->title);
    hash_str(h, it->body);
    hash_vec(h, &it->labels);
    hash_vec(h, &it->components);
    hash_str(h, it->type);
    uint64_t v = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return v;
}

/* The signal lists in a fixed order, for saving and loading. */
static strvec *sig_vec_mut(text_signals *s, int i)
{
    strvec *v[SIG_COUNT] = {&s->exceptions, &s->frames, &s->paths, &s->errors, &s->versions};
    return v[i];
}

static const strvec *sig_vec(const text_signals *s, int i)
{
    return sig_vec_mut((text_signals *)s, i);
}

/* The probe: one item exercising markdown and Jira markup, code, a Java and
 * a Python trace, paths, versions, numbers, hex, compounds and Unicode. */
static const char PROBE_BODY[] =
    "### Describe the bug\n"
    "Loading `hdfs-site.xml` with the NameNode's getConfig() fails after upgrading to 2.7.1; "
    "the ReplicationMonitor thread dies, see src/main/java/org/apache/Foo.java, src/main.rs:10:5 and "
    "https://example.com/a/b?c=1. Happens 3 times out of 10 at 0x7ffe3a2b.\n"
    "- [x] I searched existing issues\n"
    "```\n"
    "java.lang.NullPointerException: conf is null\n"
    "\tat org.apache.hadoop.hdfs.server.namenode.FSNamesystem.loadFSImage(FSNamesystem.java:123)\n"
    "\tat org.apache.hadoop.fs.FileSystem.get(FileSystem.java:45)\n"
    "Caused by: java.io.IOException: No such file or directory\n"
    "```\n"
    "{code:java}\nint max_retries = client.getMaxRetries(); // snake_case and camelCase\n{code}\n"
    "h2. Traceback\n"
    "{noformat}\nTraceback (most recent call last):\n"
    "  File \"datasets/load.py\", line 42, in load_dataset\n"
    "KeyError: 'train'\n{noformat}\n"
    "ERROR 2024-01-02 12:00:01 [main] Failed to connect to 10.0.0.1:8020 (ENOENT)\n"
    "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size\n"
    "Ünïcödé Straße ﬁle naïve café — Ｆｕｌｌｗｉｄｔｈ, don't won't it's.\n";

uint64_t ix_pipeline_fingerprint(const index_params *p)
{
    item it;
    item_init(&it);
    it.key = (char *)"PROBE-1";
    it.title = (char *)"NullPointerException in FSNamesystem.loadFSImage() on restart (v2.7.1)";
    it.body = (char *)PROBE_BODY;
    char *labels[] = {(char *)"bug", (char *)"area/hdfs"}, *comps[] = {(char *)"namenode"};
    it.labels = (strvec){labels, 2, 2};
    it.components = (strvec){comps, 1, 1};
    it.type = (char *)"Bug";

    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    uint32_t opts[6] = {SNAP_VERSION, (uint32_t)p->text.stem, (uint32_t)p->text.stopwords,
                        (uint32_t)p->text.code_split, (uint32_t)p->bigrams,
                        (uint32_t)p->strip_templates};
    XXH3_64bits_update(h, opts, sizeof opts);
    text_fields tf;
    text_signals sig = {0};
    text_split(&it, NULL, &tf);
    text_signals_extract(&tf, &sig);
    for (int f = 0; f < FIELD_COUNT; f++) hash_str(h, tf.f[f]);
    for (int i = 0; i < SIG_COUNT; i++) hash_vec(h, sig_vec(&sig, i));
    text_tokenizer *tk = text_tokenizer_new(&p->text);
    ix_bag b = {0};
    ix_bag_reset(&b);
    ix_bag_fill(&b, tk, &tf, p->bigrams);
    for (size_t i = 0; i < b.n; i++) {
        hash_str(h, b.str.s + b.off[i]);
        XXH3_64bits_update(h, b.tf[i], sizeof b.tf[i]);
    }
    XXH3_64bits_update(h, b.len, sizeof b.len);
    ix_bag_free(&b);
    text_tokenizer_free(tk);
    text_signals_free(&sig);
    text_fields_free(&tf);
    uint64_t v = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return v;
}

/* ---- save ------------------------------------------------------------------ */

static void save_record(const dindex *ix, uint32_t d, const uint32_t *map, sbuf *r)
{
    for (int i = 0; i < SIG_COUNT; i++) {
        const strvec *v = sig_vec(index_doc_signals(ix, d), i);
        put_var(r, v->n);
        for (size_t j = 0; j < v->n; j++) put_str(r, v->v[j], strlen(v->v[j]));
    }
    for (int f = 0; f < FIELD_COUNT; f++) put_var(r, ix->len[d][f]);
    uint64_t a = ix->fwd_off[d], z = ix->fwd_off[d + 1];
    put_var(r, z - a);
    uint32_t prev = 0;
    for (uint64_t e = a; e < z; e++) {
        uint32_t t = map[ix->fwd_term[e]];
        put_var(r, t - prev);
        prev = t;
        unsigned char mask = 0;
        for (int f = 0; f < FIELD_COUNT; f++)
            if (ix->fwd_tf[e][f]) mask |= (unsigned char)(1u << f);
        sb_addc(r, (char)mask);
        for (int f = 0; f < FIELD_COUNT; f++)
            if (ix->fwd_tf[e][f]) put_var(r, ix->fwd_tf[e][f]);
    }
}

void index_snapshot_save(const dindex *ix, sbuf *out)
{
    size_t start = out->len;
    sb_add(out, SNAP_MAGIC, 8);
    char ver[4] = {SNAP_VERSION & 0xff, (SNAP_VERSION >> 8) & 0xff, 0, 0};
    sb_add(out, ver, 4);
    put_u64(out, ix_pipeline_fingerprint(&ix->p));
    put_u64(out, ix->tpl_ndocs);
    size_t ntpl;
    const uint64_t *tpl = text_template_hashes(ix->tpl, &ntpl);
    put_var(out, ntpl);
    for (size_t i = 0; i < ntpl; i++) put_u64(out, tpl[i]);

    /* dense renumbering of the live terms */
    uint32_t *map = xmalloc((ix->nterms ? ix->nterms : 1) * sizeof *map);
    uint32_t live = 0;
    size_t tlen = 0;
    for (size_t t = 0; t < ix->nterms; t++) {
        map[t] = ix->df[t] ? live++ : UINT32_MAX;
        if (ix->df[t]) tlen += strlen(ix->tstr + ix->toff[t]) + 1;
    }
    put_var(out, live);
    put_var(out, tlen);
    for (size_t t = 0; t < ix->nterms; t++)
        if (ix->df[t]) sb_add(out, ix->tstr + ix->toff[t], strlen(ix->tstr + ix->toff[t]) + 1);

    put_var(out, ix->n);
    sbuf rec;
    sb_init(&rec);
    for (uint32_t d = 0; d < ix->n; d++) {
        const char *key = ix->items[d].key ? ix->items[d].key : "";
        put_str(out, key, strlen(key));
        put_u64(out, ix->chash[d]);
        sb_reset(&rec);
        save_record(ix, d, map, &rec);
        put_str(out, rec.s, rec.len);
    }
    sb_free(&rec);
    free(map);
    put_u64(out, XXH3_64bits(out->s + start, out->len - start));
}

/* ---- open -------------------------------------------------------------------- */

static int open_fail(ix_snap *s, const char **why, const char *msg)
{
    ix_snap_close(s);
    *why = msg;
    return DP_ERR;
}

static int read_header(ix_snap *s, rd *r, const index_params *p, const char **why)
{
    const unsigned char *m = get_bytes(r, 12);
    if (!m || memcmp(m, SNAP_MAGIC, 8) != 0) return open_fail(s, why, "it is not an index snapshot");
    if ((m[8] | m[9] << 8 | m[10] << 16 | (uint32_t)m[11] << 24) != SNAP_VERSION)
        return open_fail(s, why, "it has another format version");
    if (get_u64(r) != ix_pipeline_fingerprint(p))
        return open_fail(s, why, "it was made by another text pipeline or other text options");
    s->tpl_ndocs = get_u64(r);
    uint64_t ntpl = get_var(r);
    if (r->bad || ntpl > (uint64_t)(r->end - r->p) / 8) return open_fail(s, why, "it is damaged");
    s->ntpl = (size_t)ntpl;
    s->tpl = xmalloc((s->ntpl ? s->ntpl : 1) * sizeof *s->tpl);
    for (size_t i = 0; i < s->ntpl; i++) s->tpl[i] = get_u64(r);
    s->nterms = (size_t)get_var(r);
    s->terms_len = (size_t)get_var(r);
    s->terms = (const char *)get_bytes(r, s->terms_len);
    if (r->bad || s->nterms >= UINT32_MAX || (s->terms_len && s->terms[s->terms_len - 1] != '\0'))
        return open_fail(s, why, "it is damaged");
    size_t nul = 0;
    for (size_t i = 0; i < s->terms_len; i++) nul += s->terms[i] == '\0';
    if (nul != s->nterms) return open_fail(s, why, "it is damaged");
    return DP_OK;
}

static int read_docs(ix_snap *s, rd *r, const char **why)
{
    uint64_t nd = get_var(r);
    if (r->bad || nd > (uint64_t)(r->end - r->p) / 11) return open_fail(s, why, "it is damaged");
    s->ndocs = (size_t)nd;
    s->docs = xcalloc(s->ndocs ? s->ndocs : 1, sizeof *s->docs);
    dp_idxmap_reserve(&s->ht, s->ndocs + 1, NULL, NULL);   /* empty: never rehashes */
    for (size_t i = 0; i < s->ndocs; i++) {
        ix_snap_doc *d = &s->docs[i];
        d->keylen = (size_t)get_var(r);
        d->key = (const char *)get_bytes(r, d->keylen);
        d->chash = get_u64(r);
        d->reclen = (size_t)get_var(r);
        d->rec = get_bytes(r, d->reclen);
        if (r->bad) return open_fail(s, why, "it is damaged");
        size_t at = dp_idxmap_first(&s->ht, dp_hash(d->key, d->keylen));
        while (s->ht.slot[at]) at = dp_idxmap_step(&s->ht, at);
        dp_idxmap_put(&s->ht, at, (uint32_t)i);
    }
    return DP_OK;
}

int ix_snap_open(ix_snap *s, const void *buf, size_t len, const index_params *p, const char **why)
{
    memset(s, 0, sizeof *s);
    if (len < 8 + 4 + 8 + 8) return open_fail(s, why, "it is truncated");
    const unsigned char *b = buf;
    rd tail = {b + len - 8, b + len, 0};
    if (get_u64(&tail) != XXH3_64bits(b, len - 8)) return open_fail(s, why, "its checksum does not match");
    rd r = {b, b + len - 8, 0};
    if (read_header(s, &r, p, why) != DP_OK || read_docs(s, &r, why) != DP_OK) return DP_ERR;
    if (r.p != r.end) return open_fail(s, why, "it is damaged");
    return DP_OK;
}

void ix_snap_close(ix_snap *s)
{
    free(s->tpl);
    free(s->docs);
    dp_idxmap_free(&s->ht);
    memset(s, 0, sizeof *s);
}

const ix_snap_doc *ix_snap_find(const ix_snap *s, const char *key, uint64_t chash)
{
    if (!key || !s->ht.cap) return NULL;
    size_t n = strlen(key);
    for (size_t at = dp_idxmap_first(&s->ht, dp_hash(key, n)); s->ht.slot[at]; at = dp_idxmap_step(&s->ht, at)) {
        const ix_snap_doc *d = &s->docs[s->ht.slot[at] - 1];
        if (d->keylen == n && memcmp(d->key, key, n) == 0) return d->chash == chash ? d : NULL;
    }
    return NULL;
}

/* ---- decode ------------------------------------------------------------------ */

static char *get_str(rd *r)
{
    uint64_t n = get_var(r);
    const unsigned char *p = get_bytes(r, n);
    if (!p || memchr(p, '\0', (size_t)n)) { r->bad = 1; return NULL; }
    return xstrndup((const char *)p, (size_t)n);
}

static void decode_terms(const ix_snap *s, rd *r, ix_bag *b)
{
    uint64_t n = get_var(r);
    if (r->bad || n > (uint64_t)(r->end - r->p) / 2) { r->bad = 1; return; }
    ix_bag_reserve(b, (size_t)n);
    if (n > b->idcap) {
        b->idcap = (size_t)n;
        b->ids = xrealloc(b->ids, b->idcap * sizeof *b->ids);
    }
    uint64_t id = 0;
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        uint64_t delta = get_var(r);
        id += delta;
        if ((i && !delta) || id >= s->nterms) { r->bad = 1; break; }   /* ascending, known */
        const unsigned char *mask = get_bytes(r, 1);
        if (!mask || !*mask || *mask >> FIELD_COUNT) { r->bad = 1; break; }
        b->ids[i] = (uint32_t)id;
        for (int f = 0; f < FIELD_COUNT; f++) {
            uint64_t c = *mask >> f & 1 ? get_var(r) : 0;
            if (c > UINT16_MAX || (*mask >> f & 1 && !c)) r->bad = 1;
            b->tf[i][f] = (uint16_t)c;
        }
    }
    b->n = r->bad ? 0 : (size_t)n;
}

int ix_snap_decode(const ix_snap *s, const ix_snap_doc *d, text_signals *sig, ix_bag *b)
{
    rd r = {d->rec, d->rec + d->reclen, 0};
    ix_bag_reset(b);
    memset(sig, 0, sizeof *sig);
    for (int i = 0; i < SIG_COUNT && !r.bad; i++) {
        strvec *v = sig_vec_mut(sig, i);
        uint64_t n = get_var(&r);
        for (uint64_t j = 0; j < n && !r.bad; j++) {
            char *x = get_str(&r);
            if (x) sv_push_owned(v, x);
        }
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        uint64_t l = get_var(&r);
        if (l > UINT32_MAX) r.bad = 1;
        b->len[i] = (uint32_t)l;
    }
    if (!r.bad) decode_terms(s, &r, b);
    if (r.bad || r.p != r.end) {
        text_signals_free(sig);
        ix_bag_reset(b);
        return DP_ERR;
    }
    b->reused = 1;
    return DP_OK;
}
