/* store_pcount.c -- counts of the pair filters that test the items (their
 * state, their labels), from a table in memory.
 *
 * SQL counts such a filter by testing every pair of the class against a
 * set of items built for the statement: at 725k pairs a second or two, and
 * again for every new combination of filters a reviewer clicks. Here one
 * pass over the pairs' narrow index and the items' rows builds, per store
 * handle, the class of every pair (relation, confidence, known) and the
 * positions of its two items, and each item's state; a count is then one
 * loop over small arrays (milliseconds), a label costing one index range
 * more (the items that carry it). The table is rebuilt when the data stamp
 * moves (store_pairs.c: any commit, by anyone), so a count is never older
 * than the cached counts of store_pairs.c. Memory: 13 bytes a pair and 9
 * an item, while the handle lives or until store_pcount_free.
 *
 * A text filter is not counted here: its count is the size of its set.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/hashmap.h"
#include "store_int.h"

/* An item's state: PC_OPEN, PC_CLOSED or 0 (another word, or none); a
 * filter asking for another word gets PC_OTHER, which no item has (SQL
 * would compare the words: only "open" and "closed" are stored). */
enum { PC_OPEN = 1, PC_CLOSED = 2, PC_OTHER = 3 };
#define PC_NONE UINT32_MAX               /* a pair's item that is not stored */

struct store_pcount {
    int64_t stamp;       /* data stamp the table was built at */
    size_t n;            /* pairs */
    int64_t *repo;       /* per pair */
    uint32_t *qi, *ci;   /* per pair: position of its query / candidate item */
    uint8_t *cls;        /* per pair: relation | confidence << 2 | known << 4 */
    size_t nitems;
    int64_t *item_id;    /* ascending (read in rowid order) */
    uint8_t *state;      /* per item: PC_OPEN, PC_CLOSED or 0 */
    char *label;         /* the last label asked for, and ... */
    uint8_t *mark;       /* ... its items (label_marks): a page turn asks again */
};

void store_pcount_free(store *st)
{
    store_pcount *pc = st->pcount;
    if (!pc) return;
    free(pc->repo);
    free(pc->qi);
    free(pc->ci);
    free(pc->cls);
    free(pc->item_id);
    free(pc->state);
    free(pc->label);
    free(pc->mark);
    free(pc);
    st->pcount = NULL;
}

/* ---- building -------------------------------------------------------- */

/* The items' (repo, key) while the table is built, to find a pair's items:
 * each key's hash is kept beside it, so a probe compares 8 bytes at hand
 * instead of chasing the string of every entry it passes (that chase was
 * half of a build at 725k pairs), and the keys share one arena. */
typedef struct keys {
    int64_t *repo;
    uint64_t *hash;
    size_t *off;         /* entry e's key is str.s + off[e] */
    sbuf str;
    dp_idxmap map;
} keys;

static uint64_t key_hash(int64_t repo, const char *key, size_t len)
{
    return dp_hash(key, len) ^ ((uint64_t)repo * 0x9E3779B97F4A7C15ULL);
}

static uint64_t keys_hash_of(const void *ctx, uint32_t e) { return ((const keys *)ctx)->hash[e]; }

static uint32_t keys_find(const keys *k, int64_t repo, const char *key, size_t len)
{
    if (!key || !k->map.cap) return PC_NONE;
    uint64_t h = key_hash(repo, key, len);
    for (size_t s = dp_idxmap_first(&k->map, h); k->map.slot[s]; s = dp_idxmap_step(&k->map, s)) {
        uint32_t e = k->map.slot[s] - 1;
        if (k->hash[e] == h && k->repo[e] == repo && !strcmp(k->str.s + k->off[e], key)) return e;
    }
    return PC_NONE;
}

static void keys_free(keys *k)
{
    free(k->repo);
    free(k->hash);
    free(k->off);
    sb_free(&k->str);
    dp_idxmap_free(&k->map);
}

/* Adds item i's key (keys are unique: no probe for an equal one). */
static void keys_add(keys *k, size_t i, int64_t repo, const char *key, size_t len)
{
    k->repo[i] = repo;
    k->hash[i] = key_hash(repo, key, len);
    k->off[i] = k->str.len;
    sb_add(&k->str, key, len);
    sb_addc(&k->str, '\0');
    dp_idxmap_reserve(&k->map, i + 1, keys_hash_of, k);
    size_t slot = dp_idxmap_first(&k->map, k->hash[i]);
    while (k->map.slot[slot]) slot = dp_idxmap_step(&k->map, slot);
    dp_idxmap_put(&k->map, slot, (uint32_t)i);
}

static int read_items(store *st, store_pcount *pc, keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT id, repo_id, key, state FROM items ORDER BY id", -1, &s, NULL) !=
        SQLITE_OK)
        return store_fail(st, err, "reading the items' states");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (pc->nitems == cap) {
            cap = cap ? cap * 2 : 1024;
            pc->item_id = xrealloc(pc->item_id, cap * sizeof *pc->item_id);
            pc->state = xrealloc(pc->state, cap);
            k->repo = xrealloc(k->repo, cap * sizeof *k->repo);
            k->hash = xrealloc(k->hash, cap * sizeof *k->hash);
            k->off = xrealloc(k->off, cap * sizeof *k->off);
        }
        size_t i = pc->nitems++;
        const char *state = (const char *)sqlite3_column_text(s, 3);
        pc->item_id[i] = sqlite3_column_int64(s, 0);
        pc->state[i] = !state ? 0 : !strcmp(state, "open") ? PC_OPEN : !strcmp(state, "closed") ? PC_CLOSED : 0;
        const char *key = (const char *)sqlite3_column_text(s, 2);
        keys_add(k, i, sqlite3_column_int64(s, 1), key ? key : "", (size_t)sqlite3_column_bytes(s, 2));
    }
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the items' states");
    sqlite3_finalize(s);
    return ret;
}

/* A name that does not parse gets 3, which no filter asks for: as in SQL,
 * where it equals no relation's or confidence's name. */
static int class_of(const char *rel, const char *conf, int known)
{
    relation_kind r;
    confidence_level c;
    int rv = rel && relation_parse(rel, &r) == 0 ? (int)r : 3;
    int cv = conf && confidence_parse(conf, &c) == 0 ? (int)c : 3;
    return rv | cv << 2 | (known != 0) << 4;
}

/* The last query key looked up: the pairs come in the order of
 * pairs_filter, where a query's pairs of one class are neighbours, so about
 * half the query-side lookups are a repeat of the one before. */
typedef struct last_key {
    sbuf key;
    int64_t repo;
    uint32_t pos;
    int set;
} last_key;

static uint32_t find_query(const keys *k, last_key *last, int64_t repo, const char *key, size_t len)
{
    if (!key) return PC_NONE;
    if (last->set && last->repo == repo && last->key.len == len && (!len || !memcmp(last->key.s, key, len)))
        return last->pos;
    sb_reset(&last->key);
    sb_add(&last->key, key, len);
    *last = (last_key){last->key, repo, keys_find(k, repo, key, len), 1};
    return last->pos;
}

static int read_pairs(store *st, store_pcount *pc, const keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    /* every column is in pairs_filter: SQLite reads that narrow index, not the rows */
    if (sqlite3_prepare_v2(st->db, "SELECT repo_id, relation, confidence, known, query_key, cand_key FROM pairs",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading the pairs' classes");
    size_t cap = 0;
    last_key last = {0};
    sb_init(&last.key);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (pc->n == cap) {
            cap = cap ? cap * 2 : 1024;
            pc->repo = xrealloc(pc->repo, cap * sizeof *pc->repo);
            pc->qi = xrealloc(pc->qi, cap * sizeof *pc->qi);
            pc->ci = xrealloc(pc->ci, cap * sizeof *pc->ci);
            pc->cls = xrealloc(pc->cls, cap);
        }
        size_t i = pc->n++;
        int64_t repo = sqlite3_column_int64(s, 0);
        pc->repo[i] = repo;
        pc->cls[i] = (uint8_t)class_of((const char *)sqlite3_column_text(s, 1),
                                       (const char *)sqlite3_column_text(s, 2), sqlite3_column_int(s, 3));
        const char *q = (const char *)sqlite3_column_text(s, 4);
        pc->qi[i] = find_query(k, &last, repo, q, (size_t)sqlite3_column_bytes(s, 4));
        const char *c = (const char *)sqlite3_column_text(s, 5);
        pc->ci[i] = keys_find(k, repo, c, (size_t)sqlite3_column_bytes(s, 5));
    }
    sb_free(&last.key);
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the pairs' classes");
    sqlite3_finalize(s);
    return ret;
}

static int build(store *st, int64_t stamp, dp_err *err)
{
    store_pcount_free(st);
    store_pcount *pc = xcalloc(1, sizeof *pc);
    keys k = {0};
    sb_init(&k.str);
    int rc = read_items(st, pc, &k, err);
    if (rc == DP_OK) rc = read_pairs(st, pc, &k, err);
    keys_free(&k);
    pc->stamp = stamp;
    st->pcount = pc;
    if (rc != DP_OK) store_pcount_free(st);
    return rc;
}

/* ---- counting -------------------------------------------------------- */

static int state_code(const char *s)
{
    return !s ? 0 : !strcmp(s, "open") ? PC_OPEN : !strcmp(s, "closed") ? PC_CLOSED : PC_OTHER;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t item_pos(const store_pcount *pc, int64_t id)
{
    const int64_t *at = pc->nitems ? bsearch(&id, pc->item_id, pc->nitems, sizeof id, id_cmp) : NULL;
    return at ? (size_t)(at - pc->item_id) : PC_NONE;
}

/* A byte per item: 1 when it carries the label (case-insensitive, as the
 * column's collation), borrowed from pc: the last label's are kept, as
 * every page and neighbour of a label filter asks for them (page_how).
 * Returns NULL (err set) on a read error. */
static const uint8_t *label_marks(store *st, store_pcount *pc, const char *label, dp_err *err)
{
    if (pc->label && !sqlite3_stricmp(pc->label, label)) return pc->mark;
    free(pc->label);
    free(pc->mark);
    pc->label = NULL;
    pc->mark = NULL;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT item_id FROM item_labels WHERE name = ?", err);
    if (!s) return NULL;
    store_bind_text(s, 1, label);
    uint8_t *mark = xcalloc(pc->nitems ? pc->nitems : 1, 1);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t i = item_pos(pc, sqlite3_column_int64(s, 0));
        if (i != PC_NONE) mark[i] = 1;
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "reading the items labelled '%s'", label);
        free(mark);
        mark = NULL;
    }
    store_done(s);
    if (mark) pc->label = xstrdup(label);
    pc->mark = mark;
    return mark;
}

int store_pcount_count(store *st, const pair_filter *f, int64_t stamp, size_t *n, dp_err *err)
{
    if (!st->pcount || st->pcount->stamp != stamp)
        if (build(st, stamp, err) != DP_OK) return DP_ERR;
    store_pcount *pc = st->pcount;
    const uint8_t *mark = NULL;
    if (f->label && *f->label && !(mark = label_marks(st, pc, f->label, err))) return DP_ERR;
    int qs = state_code(f->query_state), cs = state_code(f->cand_state);
    size_t count = 0;
    for (size_t i = 0; i < pc->n; i++) {
        int cls = pc->cls[i];
        uint32_t q = pc->qi[i], c = pc->ci[i];
        if (f->repo_id && pc->repo[i] != f->repo_id) continue;
        if (f->relation >= 0 && (cls & 3) != f->relation) continue;
        if (f->confidence >= 0 && (cls >> 2 & 3) != f->confidence) continue;
        if (!f->include_known && cls >> 4) continue;
        if (qs && (q == PC_NONE || pc->state[q] != qs)) continue;
        if (cs && (c == PC_NONE || pc->state[c] != cs)) continue;
        if (mark && !((q != PC_NONE && mark[q]) || (c != PC_NONE && mark[c]))) continue;
        count++;
    }
    *n = count;
    return DP_OK;
}
