/* store_pcount.c -- counts and orders of the pair filters that test the
 * items (their state, their labels, a text in their titles), from a table
 * in memory.
 *
 * SQL counts such a filter by testing every pair of the class against a
 * set of items built for the statement: at 725k pairs a second or two, and
 * again for every new combination of filters a reviewer clicks. Here one
 * pass over the pairs' narrow index and the items' rows builds the class of
 * every pair (relation, confidence, known) and the positions of its two
 * items, and each item's state; a count is then one loop over small arrays
 * (milliseconds), a label costing one index range more (the items that
 * carry it). Memory: 53 bytes a pair (with its id and three sort keys)
 * and 17 an item, with its key and title.
 *
 * An order (store_pcount_order) is the same pass keeping the pairs that
 * pass, sorted by a sort key: the pages and neighbours of a text or a rare
 * label are cut from it (store_pairs.c, Q_SET). A text's candidates come
 * from the trigram index, as ids, and are tested on the table's copy of
 * their keys and titles (the index's own test reads each candidate's
 * content row: 30-60 ms for a word in a tenth of 250k titles); they and a
 * pair's other conditions are tested here instead of in SQL over the sets
 * of pairs the key indexes gave, which took 0.35-1 s at 725k pairs for a
 * first request of a text in a tenth to a fifth of the titles (now 40-90
 * ms).
 *
 * The table is rebuilt when the data stamp moves, so a count is never older
 * than the cached counts of store_pairs.c. A handle alone builds its own
 * table, stamped with its own stamp (PRAGMA data_version is per
 * connection). Handles that share a store_pcount_shared (the web server's
 * threads) share one table instead, built on the shared object's own
 * read-only handle in one snapshot and stamped with that handle's
 * data_version, which every commit by anyone moves: the first asker after a
 * commit builds (0.5 s at 725k pairs) while the others wait for its table
 * instead of each building one, and serve builds the first before any
 * request asks (store_pcount_warm). A handle reading in a snapshot older
 * than the shared table's builds one of its own (handle_table).
 *
 * A text filter is not counted here: its count is the size of its order.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hashmap.h"
#include "store_int.h"

/* An item's state: PC_OPEN, PC_CLOSED or 0 (another word, or none); a
 * filter asking for another word gets PC_OTHER, which no item has (SQL
 * would compare the words: only "open" and "closed" are stored). */
enum { PC_OPEN = 1, PC_CLOSED = 2, PC_OTHER = 3 };
#define PC_NONE UINT32_MAX               /* a pair's item that is not stored */

/* A built table: read-only once built, so handles on other threads may
 * count with it at once; freed by its last reference (table_unref). */
typedef struct pc_table {
    atomic_int refs;
    int64_t stamp;       /* data stamp the table was built at */
    uint64_t pinned;     /* a shared table: pin_clock after its snapshot began */
    size_t n;            /* pairs */
    int64_t *repo;       /* per pair */
    uint32_t *qi, *ci;   /* per pair: position of its query / candidate item */
    uint8_t *cls;        /* per pair: relation | confidence << 2 | known << 4 */
    int64_t *pid;        /* per pair: its id, and ... */
    double *key[PC_SORTS];   /* ... its sort keys (store_pcount_order) */
    size_t nitems;
    int64_t *item_id;    /* ascending (read in rowid order) */
    uint8_t *state;      /* per item: PC_OPEN, PC_CLOSED or 0 */
    size_t *koff, *toff; /* per item: its key at keys.s + koff, its title at titles.s + toff */
    sbuf keys, titles;   /* apart: the keys, probed for every pair, stay dense in the cache */
} pc_table;

/* A handle's view: the table it counts with and the last label's marks. */
struct store_pcount {
    pc_table *t;         /* one reference */
    char *label;         /* the last label asked for, and ... */
    uint8_t *mark;       /* ... its items in t (label_marks): a page turn asks again */
};

struct store_pcount_shared {
    pthread_mutex_t mu;  /* guards all below; held through a build */
    store *st;           /* a read-only handle of its own: stamps and builds */
    pc_table *table;     /* the latest table (one reference), or NULL */
    size_t builds;       /* tables built (store_pcount_shared_builds) */
};

/* Ticks once per shared build, after the build's snapshot is pinned. A
 * handle notes it when it begins a read snapshot (store_read_begin): a
 * snapshot begun at or after a table's tick has every commit the table has,
 * and none more while the shared stamp has not moved. */
static atomic_uint_fast64_t pin_clock;

uint64_t store_pcount_clock(void) { return atomic_load(&pin_clock); }

static void table_unref(pc_table *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    free(t->repo);
    free(t->qi);
    free(t->ci);
    free(t->cls);
    free(t->pid);
    for (int k = 0; k < PC_SORTS; k++) free(t->key[k]);
    free(t->item_id);
    free(t->state);
    free(t->koff);
    free(t->toff);
    sb_free(&t->keys);
    sb_free(&t->titles);
    free(t);
}

static pc_table *table_ref(pc_table *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

static void marks_drop(store_pcount *pc)
{
    free(pc->label);
    free(pc->mark);
    pc->label = NULL;
    pc->mark = NULL;
}

void store_pcount_free(store *st)
{
    store_pcount *pc = st->pcount;
    if (!pc) return;
    table_unref(pc->t);
    marks_drop(pc);
    free(pc);
    st->pcount = NULL;
}

/* ---- building -------------------------------------------------------- */

/* The items' (repo, key) while the table is built, to find a pair's items:
 * each key's hash is kept beside it, so a probe compares 8 bytes at hand
 * instead of chasing the string of every entry it passes (that chase was
 * half of a build at 725k pairs), and the keys share one arena. An entry's
 * hash, repository and key offset share one record: a probe is a cache
 * miss on the slot, one on the record and one on the string, where three
 * arrays cost one each (1.45M probes at 725k pairs). */
typedef struct kent {
    uint64_t hash;
    int64_t repo;
    size_t off;          /* the key is str->s + off */
} kent;

typedef struct keys {
    kent *e;
    sbuf *str;           /* the table's keys */
    dp_idxmap map;
} keys;

static uint64_t key_hash(int64_t repo, const char *key, size_t len)
{
    return dp_hash(key, len) ^ ((uint64_t)repo * 0x9E3779B97F4A7C15ULL);
}

static uint64_t keys_hash_of(const void *ctx, uint32_t e) { return ((const keys *)ctx)->e[e].hash; }

static uint32_t keys_find(const keys *k, int64_t repo, const char *key, size_t len)
{
    if (!key || !k->map.cap) return PC_NONE;
    uint64_t h = key_hash(repo, key, len);
    for (size_t s = dp_idxmap_first(&k->map, h); k->map.slot[s]; s = dp_idxmap_step(&k->map, s)) {
        uint32_t e = k->map.slot[s] - 1;
        const kent *x = &k->e[e];
        if (x->hash == h && x->repo == repo && !strcmp(k->str->s + x->off, key)) return e;
    }
    return PC_NONE;
}

static void keys_free(keys *k)
{
    free(k->e);
    dp_idxmap_free(&k->map);
}

/* Adds item i's key (keys are unique: no probe for an equal one). */
static void keys_add(keys *k, size_t i, int64_t repo, const char *key, size_t len)
{
    k->e[i] = (kent){key_hash(repo, key, len), repo, k->str->len};
    sb_add(k->str, key, len);
    sb_addc(k->str, '\0');
    dp_idxmap_reserve(&k->map, i + 1, keys_hash_of, k);
    size_t slot = dp_idxmap_first(&k->map, k->e[i].hash);
    while (k->map.slot[slot]) slot = dp_idxmap_step(&k->map, slot);
    dp_idxmap_put(&k->map, slot, (uint32_t)i);
}

static int read_items(store *st, pc_table *pc, keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT id, repo_id, key, state, title FROM items ORDER BY id", -1, &s, NULL) !=
        SQLITE_OK)
        return store_fail(st, err, "reading the items' states");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (pc->nitems == cap) {
            cap = cap ? cap * 2 : 1024;
            pc->item_id = xrealloc(pc->item_id, cap * sizeof *pc->item_id);
            pc->state = xrealloc(pc->state, cap);
            pc->koff = xrealloc(pc->koff, cap * sizeof *pc->koff);
            pc->toff = xrealloc(pc->toff, cap * sizeof *pc->toff);
            k->e = xrealloc(k->e, cap * sizeof *k->e);
        }
        size_t i = pc->nitems++;
        const char *state = (const char *)sqlite3_column_text(s, 3);
        pc->item_id[i] = sqlite3_column_int64(s, 0);
        pc->state[i] = !state ? 0 : !strcmp(state, "open") ? PC_OPEN : !strcmp(state, "closed") ? PC_CLOSED : 0;
        const char *key = (const char *)sqlite3_column_text(s, 2);
        keys_add(k, i, sqlite3_column_int64(s, 1), key ? key : "", (size_t)sqlite3_column_bytes(s, 2));
        pc->koff[i] = k->e[i].off;
        const char *title = (const char *)sqlite3_column_text(s, 4);
        pc->toff[i] = pc->titles.len;
        sb_adds(&pc->titles, title ? title : "");
        sb_addc(&pc->titles, '\0');
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

static int read_pairs(store *st, pc_table *pc, const keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    /* every column is in pairs_filter: SQLite reads that narrow index, not the rows */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT repo_id, relation, confidence, known, query_key, cand_key, id, value, prob, "
                           "updated_at FROM pairs",
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
            pc->pid = xrealloc(pc->pid, cap * sizeof *pc->pid);
            for (int k = 0; k < PC_SORTS; k++) pc->key[k] = xrealloc(pc->key[k], cap * sizeof *pc->key[k]);
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
        pc->pid[i] = sqlite3_column_int64(s, 6);
        for (int j = 0; j < PC_SORTS; j++) pc->key[j][i] = sqlite3_column_double(s, 7 + j);
    }
    sb_free(&last.key);
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the pairs' classes");
    sqlite3_finalize(s);
    return ret;
}

/* A new table (one reference) read through st, or NULL (err set). */
static pc_table *build(store *st, int64_t stamp, dp_err *err)
{
    pc_table *t = xcalloc(1, sizeof *t);
    atomic_init(&t->refs, 1);
    t->stamp = stamp;
    sb_init(&t->keys);
    sb_init(&t->titles);
    keys k = {.str = &t->keys};
    int rc = read_items(st, t, &k, err);
    if (rc == DP_OK) rc = read_pairs(st, t, &k, err);
    keys_free(&k);
    if (rc == DP_OK) return t;
    table_unref(t);
    return NULL;
}

/* ---- sharing ---------------------------------------------------------- */

int store_pcount_shared_new(const char *path, store_pcount_shared **out, dp_err *err)
{
    *out = NULL;
    store_pcount_shared *sh = xcalloc(1, sizeof *sh);
    if (store_open_readonly(path, &sh->st, err) != DP_OK) {
        free(sh);
        return DP_ERR;
    }
    pthread_mutex_init(&sh->mu, NULL);
    *out = sh;
    return DP_OK;
}

void store_pcount_shared_free(store_pcount_shared *sh)
{
    if (!sh) return;
    table_unref(sh->table);
    store_close(sh->st);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

size_t store_pcount_shared_builds(store_pcount_shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    size_t n = sh->builds;
    pthread_mutex_unlock(&sh->mu);
    return n;
}

void store_pcount_share(store *st, store_pcount_shared *sh)
{
    store_pcount_free(st);
    st->pcount_sh = sh;
}

/* PRAGMA data_version of the shared handle: it never writes, so any commit
 * by anyone moves it. Inside a read snapshot it stands for that snapshot
 * (the pager notes a change when the snapshot begins). */
static int shared_stamp(store_pcount_shared *sh, int64_t *stamp, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(sh->st, SQ_DATA_VERSION, "PRAGMA data_version", err);
    if (!s) return DP_ERR;
    int rc = sqlite3_step(s);
    *stamp = sqlite3_column_int64(s, 0);
    store_done(s);
    return rc == SQLITE_ROW ? DP_OK : store_fail(sh->st, err, "reading the data version");
}

/* A new table read in one snapshot of the shared handle and stamped with
 * that snapshot's version, so it never holds less than its stamp says
 * (a reader's handle may be in an older snapshot of its own). */
static pc_table *shared_build(store_pcount_shared *sh, dp_err *err)
{
    if (store_read_begin(sh->st, err) != DP_OK) return NULL;
    int64_t stamp;
    pc_table *t = NULL;
    /* the first read pins the snapshot; the version is read after it */
    if (sqlite3_exec(sh->st->db, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL) != SQLITE_OK)
        store_fail(sh->st, err, "beginning the counts' snapshot");
    else if (shared_stamp(sh, &stamp, err) == DP_OK && (t = build(sh->st, stamp, err)))
        t->pinned = atomic_fetch_add(&pin_clock, 1) + 1;
    store_read_end(sh->st);
    sh->builds++;
    return t;
}

/* A reference to the shared table, built again when a commit moved the
 * stamp since. The others asking meanwhile wait for it instead of each
 * building one. */
static pc_table *shared_table(store_pcount_shared *sh, dp_err *err)
{
    pthread_mutex_lock(&sh->mu);
    int64_t stamp;
    pc_table *t = NULL;
    if (shared_stamp(sh, &stamp, err) == DP_OK) {
        pc_table *nt = sh->table && sh->table->stamp == stamp ? NULL : shared_build(sh, err);
        if (nt) {   /* stamped at its own snapshot: a commit since is fine */
            table_unref(sh->table);
            sh->table = nt;
        }
        if (nt || (sh->table && sh->table->stamp == stamp)) t = table_ref(sh->table);
    }
    pthread_mutex_unlock(&sh->mu);
    return t;
}

int store_pcount_warm(store_pcount_shared *sh, dp_err *err)
{
    pc_table *t = shared_table(sh, err);
    table_unref(t);
    return t ? DP_OK : DP_ERR;
}

/* The handle's table, current for what the handle reads (see the top of
 * the file); NULL (err set) on a read error. stamp: the handle's own data
 * stamp. A shared table serves a handle whose read snapshot began after the
 * table's (or that has none open): the shared stamp not having moved, both
 * saw the same commits. A handle in an older snapshot -- a GET that began
 * before a commit the table has -- builds its own in that snapshot, so a
 * reply's counts and pages agree. */
static store_pcount *handle_table(store *st, int64_t stamp, dp_err *err)
{
    if (!st->pcount) st->pcount = xcalloc(1, sizeof *st->pcount);
    store_pcount *pc = st->pcount;
    pc_table *t = NULL;
    if (st->pcount_sh) {
        if (!(t = shared_table(st->pcount_sh, err))) return NULL;
        if (!sqlite3_get_autocommit(st->db) && st->read_clock < t->pinned) {
            table_unref(t);
            t = NULL;
        }
    }
    if (!t && pc->t && !pc->t->pinned && pc->t->stamp == stamp) return pc;
    if (!t && !(t = build(st, stamp, err))) return NULL;
    if (t != pc->t) marks_drop(pc);   /* marks are positions in a table */
    table_unref(pc->t);
    pc->t = t;
    return pc;
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

static size_t item_pos(const pc_table *pc, int64_t id)
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
    marks_drop(pc);
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT item_id FROM item_labels WHERE name = ?", err);
    if (!s) return NULL;
    store_bind_text(s, 1, label);
    uint8_t *mark = xcalloc(pc->t->nitems ? pc->t->nitems : 1, 1);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t i = item_pos(pc->t, sqlite3_column_int64(s, 0));
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

/* Whether pair i passes f's conditions (qs, cs: its states' codes; mark:
 * its label's items, or NULL). */
static inline int passes(const pc_table *pc, size_t i, const pair_filter *f, int qs, int cs, const uint8_t *mark)
{
    int cls = pc->cls[i];
    uint32_t q = pc->qi[i], c = pc->ci[i];
    if (f->repo_id && pc->repo[i] != f->repo_id) return 0;
    if (f->relation >= 0 && (cls & 3) != f->relation) return 0;
    if (f->confidence >= 0 && (cls >> 2 & 3) != f->confidence) return 0;
    if (!f->include_known && cls >> 4) return 0;
    if (qs && (q == PC_NONE || pc->state[q] != qs)) return 0;
    if (cs && (c == PC_NONE || pc->state[c] != cs)) return 0;
    if (mark && !((q != PC_NONE && mark[q]) || (c != PC_NONE && mark[c]))) return 0;
    return 1;
}

int store_pcount_count(store *st, const pair_filter *f, int64_t stamp, size_t *n, dp_err *err)
{
    store_pcount *h = handle_table(st, stamp, err);
    if (!h) return DP_ERR;
    const uint8_t *mark = NULL;
    if (f->label && *f->label && !(mark = label_marks(st, h, f->label, err))) return DP_ERR;
    const pc_table *pc = h->t;
    int qs = state_code(f->query_state), cs = state_code(f->cand_state);
    size_t count = 0;
    for (size_t i = 0; i < pc->n; i++) count += passes(pc, i, f, qs, cs, mark);
    *n = count;
    return DP_OK;
}

/* ---- orders ---------------------------------------------------------- */

static int in_sorted(const int64_t *v, size_t n, int64_t x)
{
    return n && bsearch(&x, v, n, sizeof x, id_cmp) != NULL;
}

typedef struct ord_ent {
    double k;
    int64_t id;
} ord_ent;

/* Key descending, then id ascending: ORDER BY key DESC, id. */
static int ord_cmp(const void *a, const void *b)
{
    const ord_ent *x = a, *y = b;
    if (x->k != y->k) return x->k < y->k ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Whether item i's key or title holds text, as dp_fts_has tells: in C when
 * all three are ASCII (nearly every title), else by the function on st's
 * connection, given the table's copies. -1 on an error (err set). */
static int item_holds(store *st, const pc_table *pc, size_t i, const char *text, dp_err *err)
{
    const char *key = pc->keys.s + pc->koff[i], *title = pc->titles.s + pc->toff[i];
    int has = store_fts_ascii_has(key, title, text);
    if (has >= 0) return has;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT dp_fts_has(?1, ?2, ?3)", err);
    if (!s) return -1;
    store_bind_text(s, 1, key);
    store_bind_text(s, 2, title);
    store_bind_text(s, 3, text);
    has = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    store_done(s);
    if (has < 0) store_fail(st, err, "testing a title for a text");
    return has;
}

/* A byte per item of pc: 1 for the items x names as holding its text (see
 * pcount_extra). Owned by the caller; NULL on an error (err set). */
static uint8_t *text_marks(store *st, const pc_table *pc, const pcount_extra *x, dp_err *err)
{
    uint8_t *m = xcalloc(pc->nitems ? pc->nitems : 1, 1);
    for (size_t i = 0; x->scan && i < pc->nitems; i++)
        m[i] = (uint8_t)(store_ascii_holds(pc->keys.s + pc->koff[i], x->text) ||
                         store_ascii_holds(pc->titles.s + pc->toff[i], x->text));
    for (size_t j = 0; j < x->nitems; j++) {
        size_t i = item_pos(pc, x->items[j]);
        if (i != PC_NONE) m[i] = 1;
    }
    for (size_t j = 0; j < x->ncands; j++) {
        size_t i = item_pos(pc, x->cands[j]);
        if (i == PC_NONE || m[i]) continue;
        int has = item_holds(st, pc, i, x->text, err);
        if (has < 0) {
            free(m);
            return NULL;
        }
        m[i] = (uint8_t)has;
    }
    return m;
}

int store_pcount_order(store *st, const pair_filter *f, int64_t stamp, const pcount_extra *x, int sort, size_t *n,
                       double **k, int64_t **id, dp_err *err)
{
    *n = 0;
    *k = NULL;
    *id = NULL;
    if (sort < 0 || sort >= PC_SORTS) return dp_fail(err, "store: unknown pair order %d", sort);
    store_pcount *h = handle_table(st, stamp, err);
    if (!h) return DP_ERR;
    const uint8_t *mark = NULL;
    if (f->label && *f->label && !(mark = label_marks(st, h, f->label, err))) return DP_ERR;
    const pc_table *pc = h->t;
    uint8_t *tmark = NULL;
    if (x->text && !(tmark = text_marks(st, pc, x, err))) return DP_ERR;
    int qs = state_code(f->query_state), cs = state_code(f->cand_state);
    ord_ent *v = NULL;
    size_t nv = 0, cap = 0;
    const double *key = pc->key[sort];
    for (size_t i = 0; i < pc->n; i++) {
        if (!passes(pc, i, f, qs, cs, mark)) continue;
        uint32_t q = pc->qi[i], c = pc->ci[i];
        if (tmark && !((q != PC_NONE && tmark[q]) || (c != PC_NONE && tmark[c])) &&
            !in_sorted(x->keyed, x->nkeyed, pc->pid[i]))
            continue;
        if (in_sorted(x->skip, x->nskip, pc->pid[i])) continue;
        if (nv == cap) {
            cap = cap ? 2 * cap : 256;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[nv++] = (ord_ent){key[i], pc->pid[i]};
    }
    free(tmark);
    if (nv) qsort(v, nv, sizeof *v, ord_cmp);
    if (nv) {
        *k = xmalloc(nv * sizeof **k);
        *id = xmalloc(nv * sizeof **id);
    }
    for (size_t i = 0; i < nv; i++) {
        (*k)[i] = v[i].k;
        (*id)[i] = v[i].id;
    }
    free(v);
    *n = nv;
    return DP_OK;
}
