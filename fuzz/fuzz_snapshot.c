/* fuzz_snapshot.c -- the index snapshot decoder (src/index/snapshot.c) and
 * the build that reuses it (index_build_snap).
 *
 * A snapshot starts with a magic, a version and a fingerprint of the text
 * pipeline, and ends with a checksum: random bytes would never get past
 * them. So the input is the part in between (template, dictionary, doc
 * records), and the target wraps it in the real header and checksum before
 * building an index of a fixed set of items over it -- the same items whose
 * snapshots are the seeds.
 *
 * Seeds: `DOPPEL_FUZZ_SEED_DIR=DIR fuzz_snapshot` writes them (snapshots of
 * all the items, of some of them, and of items that changed since) and
 * exits; make fuzz does this.
 *
 * Checks: the build always succeeds (a bad snapshot is a cache miss) and
 * every doc is reused or analysed; decoded term lists are ascending and
 * known; fields and signals are there; index_topk() equals exhaustive
 * scoring on every doc's query; and the snapshot of the result is reused
 * whole by the next build. */
#include "fuzz.h"

#include <errno.h>
#include <math.h>
#include <xxhash.h>

#include "../src/index/index.h"

#define PREFIX 20   /* "DPIXSNAP", u32 version, u64 fingerprint */
#define NITEMS 10

static item items[NITEMS];
static index_params params;
static unsigned char prefix[PREFIX];

static const char *TITLES[] = {
    "NullPointerException in Driver.run on empty partition",
    "Query fails with NPE when the partition is empty",
    "Crash when opening settings with an empty profile",
    "Settings page throws AttributeError on strip()",
    "Slow startup with many plugins",
    "Dark mode toggle resets on restart",
    "Theme preference is not saved",
    "Build fails on gcc 13 with -Werror",
    "Memory leak in the socket pool",
    "Timeout while reading from replica",
};

static const char *BODIES[] = {
    "```\njava.lang.NullPointerException\n\tat org.apache.hadoop.hive.ql.Driver.run(Driver.java:1234)\n```",
    "{code}\nCaused by: java.lang.NullPointerException\n  at org.apache.Planner.plan(Planner.java:77)\n{code}\nSeen on 2.3.1.",
    "Traceback (most recent call last):\n  File \"app/settings.py\", line 12, in load\nAttributeError: 'NoneType' object has no attribute 'strip'",
    "Same `AttributeError` on strip() in src/settings/profile.py",
    "Startup takes 20 s with 50 plugins, see plugins/loader.c",
    "The toggle does not persist; config.json is rewritten.",
    "Preference lost after restart (v1.4).",
    "error: unused variable 'x' [-Werror=unused-variable] in src/core/io.c:42",
    "ENOMEM after a few hours; valgrind shows the leak in pool_get.",
    "ERROR 2013 (HY000): Lost connection to MySQL server during query",
};

static void make_items(int edited)
{
    for (size_t i = 0; i < NITEMS; i++) {
        item *it = &items[i];
        item_free(it);
        item_init(it);
        it->key = xasprintf("P-%zu", i + 1);
        it->number = (int64_t)i + 1;
        it->title = xstrdup(TITLES[i]);
        /* a shared template line makes the template non-empty */
        it->body = xasprintf("### Steps to reproduce the problem\n%s%s", BODIES[i],
                             edited && i % 3 == 0 ? "\nEdited: also on 3.1.0." : "");
        it->state = xstrdup(i % 2 ? "closed" : "open");
        sv_push(&it->labels, i % 2 ? "bug" : "enhancement");
        if (i % 4 == 0) sv_push(&it->components, "Query Processor");
        it->created_at = 1600000000 + (int64_t)i * 3600;
    }
}

static void save(size_t n, sbuf *out)
{
    dindex *ix;
    dp_err err;
    if (index_build(items, n, &params, &ix, &err) != DP_OK) fuzz_fail("index_build: %s", err.msg);
    sb_init(out);
    index_snapshot_save(ix, out);
    index_free(ix);
    if (out->len < PREFIX + 8) fuzz_fail("snapshot too short");
}

static void write_seed(const char *dir, const char *name, const sbuf *snap)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(snap->s + PREFIX, 1, snap->len - PREFIX - 8, f) != snap->len - PREFIX - 8 || fclose(f))
        fuzz_fail("%s: %s", path, strerror(errno));
    free(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    index_params_default(&params);
    params.threads = 1;
    make_items(0);
    sbuf snap;
    save(NITEMS, &snap);
    memcpy(prefix, snap.s, PREFIX);
    const char *dir = getenv("DOPPEL_FUZZ_SEED_DIR");
    if (dir) {
        write_seed(dir, "all", &snap);
        sb_free(&snap);
        save(NITEMS / 2, &snap);
        write_seed(dir, "half", &snap);
        sb_free(&snap);
        make_items(1);
        save(NITEMS, &snap);
        write_seed(dir, "edited", &snap);
        sb_free(&snap);
        exit(0);
    }
    sb_free(&snap);
    return 0;
}

static void check_index(const dindex *ix)
{
    uint32_t n = (uint32_t)index_ndocs(ix);
    index_hit a[8], b[8];
    for (uint32_t d = 0; d < n; d++) {
        index_doc_terms t;
        index_doc_terms_get(ix, d, &t);
        for (size_t i = 0; i < t.n; i++) {
            fuzz_check(t.terms[i] < index_nterms(ix), "doc %u: unknown term %u", d, t.terms[i]);
            fuzz_check(!i || t.terms[i] > t.terms[i - 1], "doc %u: terms not ascending", d);
        }
        const text_fields *tf = index_doc_fields(ix, d);
        for (int f = 0; f < FIELD_COUNT; f++) fuzz_check(tf->f[f] != NULL, "doc %u: NULL field", d);
        fuzz_check(index_doc_signals(ix, d) != NULL, "doc %u: no signals", d);

        index_query q;
        index_query_from_doc(ix, d, &q);
        size_t na = index_topk(ix, &q, 0, n, d, 8, a);
        size_t nb = index_topk_exhaustive(ix, &q, 0, n, d, 8, b);
        fuzz_check(na == nb, "doc %u: topk %zu hits, exhaustive %zu", d, na, nb);
        for (size_t i = 0; i < na; i++)
            fuzz_check(a[i].doc == b[i].doc && (a[i].score == b[i].score || (isnan(a[i].score) && isnan(b[i].score))),
                       "doc %u: hit %zu differs: %u %.9g vs %u %.9g", d, i, a[i].doc, (double)a[i].score,
                       b[i].doc, (double)b[i].score);
        index_query_free(&q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = PREFIX + size + 8;
    unsigned char *buf = xmalloc(len);
    memcpy(buf, prefix, PREFIX);
    if (size) memcpy(buf + PREFIX, data, size);
    uint64_t h = XXH3_64bits(buf, len - 8);
    for (int i = 0; i < 8; i++) buf[len - 8 + (size_t)i] = (unsigned char)(h >> (8 * i));

    /* Items never change here, so seeds edited/half also meet docs that are
     * missing from the snapshot or whose content hash differs. */
    dindex *ix;
    index_snap_info info;
    dp_err err;
    fuzz_check(index_build_snap(items, NITEMS, &params, buf, len, &ix, &info, &err) == DP_OK,
               "index_build_snap failed: %s", err.msg);
    fuzz_check(info.reused + info.analysed == NITEMS, "reused %zu + analysed %zu", info.reused,
               info.analysed);
    check_index(ix);

    sbuf again;
    sb_init(&again);
    index_snapshot_save(ix, &again);
    index_free(ix);
    fuzz_check(index_build_snap(items, NITEMS, &params, again.s, again.len, &ix, &info, &err) == DP_OK,
               "rebuild failed: %s", err.msg);
    fuzz_check(info.reused == NITEMS, "a saved snapshot was not reused whole (%zu of %d): %s",
               info.reused, NITEMS, info.unused_why ? info.unused_why : "");
    index_free(ix);
    sb_free(&again);
    free(buf);
    return 0;
}
