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
 * ms). Where no current table is at hand -- a one-shot process, a server
 * whose shared table is being built -- a text's order is made from a small
 * table around the text instead (around_build), rather than build or wait
 * for the whole one.
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
    size_t icap, pcap;   /* room in the per-item and per-pair arrays */
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

/* The columns item_add reads, in its order. */
#define PC_ITEM_COLS "id, repo_id, key, state, title"

/* Adds the item of s's row (PC_ITEM_COLS) at position pc->nitems. */
static void item_add(pc_table *pc, keys *k, sqlite3_stmt *s)
{
    if (pc->nitems == pc->icap) {
        pc->icap = pc->icap ? pc->icap * 2 : 1024;
        pc->item_id = xrealloc(pc->item_id, pc->icap * sizeof *pc->item_id);
        pc->state = xrealloc(pc->state, pc->icap);
        pc->koff = xrealloc(pc->koff, pc->icap * sizeof *pc->koff);
        pc->toff = xrealloc(pc->toff, pc->icap * sizeof *pc->toff);
        k->e = xrealloc(k->e, pc->icap * sizeof *k->e);
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

static int read_items(store *st, pc_table *pc, keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT " PC_ITEM_COLS " FROM items ORDER BY id", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading the items' states");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) item_add(pc, k, s);
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

/* The columns pair_add reads, in its order: every one is in pairs_filter,
 * pairs_by_query and pairs_by_cand, so SQLite reads those narrow indexes,
 * not the rows. */
#define PC_PAIR_COLS "repo_id, relation, confidence, known, query_key, cand_key, id, value, prob, updated_at"

/* Grows the per-pair arrays for one more pair. */
static void pairs_grow(pc_table *pc)
{
    if (pc->n < pc->pcap) return;
    pc->pcap = pc->pcap ? pc->pcap * 2 : 1024;
    pc->repo = xrealloc(pc->repo, pc->pcap * sizeof *pc->repo);
    pc->qi = xrealloc(pc->qi, pc->pcap * sizeof *pc->qi);
    pc->ci = xrealloc(pc->ci, pc->pcap * sizeof *pc->ci);
    pc->cls = xrealloc(pc->cls, pc->pcap);
    pc->pid = xrealloc(pc->pid, pc->pcap * sizeof *pc->pid);
    for (int j = 0; j < PC_SORTS; j++) pc->key[j] = xrealloc(pc->key[j], pc->pcap * sizeof *pc->key[j]);
}

/* Adds the pair of s's row (PC_PAIR_COLS) with its items at positions qi, ci. */
static void pair_add(pc_table *pc, sqlite3_stmt *s, uint32_t qi, uint32_t ci)
{
    pairs_grow(pc);
    size_t i = pc->n++;
    pc->repo[i] = sqlite3_column_int64(s, 0);
    pc->cls[i] = (uint8_t)class_of((const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2),
                                   sqlite3_column_int(s, 3));
    pc->qi[i] = qi;
    pc->ci[i] = ci;
    pc->pid[i] = sqlite3_column_int64(s, 6);
    for (int j = 0; j < PC_SORTS; j++) pc->key[j][i] = sqlite3_column_double(s, 7 + j);
}

static int read_pairs(store *st, pc_table *pc, const keys *k, dp_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT " PC_PAIR_COLS " FROM pairs", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading the pairs' classes");
    last_key last = {0};
    sb_init(&last.key);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t repo = sqlite3_column_int64(s, 0);
        uint32_t qi = find_query(k, &last, repo, (const char *)sqlite3_column_text(s, 4),
                                 (size_t)sqlite3_column_bytes(s, 4));
        uint32_t ci = keys_find(k, repo, (const char *)sqlite3_column_text(s, 5), (size_t)sqlite3_column_bytes(s, 5));
        pair_add(pc, s, qi, ci);
    }
    sb_free(&last.key);
    int ret = rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the pairs' classes");
    sqlite3_finalize(s);
    return ret;
}

static pc_table *table_new(int64_t stamp)
{
    pc_table *t = xcalloc(1, sizeof *t);
    atomic_init(&t->refs, 1);
    t->stamp = stamp;
    sb_init(&t->keys);
    sb_init(&t->titles);
    return t;
}

/* A new table (one reference) read through st, or NULL (err set). */
static pc_table *build(store *st, int64_t stamp, dp_err *err)
{
    pc_table *t = table_new(stamp);
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

/* Whether the handle's own table is current for stamp. */
static int own_current(const store_pcount *pc, int64_t stamp)
{
    return pc && pc->t && !pc->t->pinned && pc->t->stamp == stamp;
}

/* Whether shared table t serves st's reads: st has no snapshot open, or
 * began it after t's (see the top of the file). */
static int serves_snapshot(const store *st, const pc_table *t)
{
    return sqlite3_get_autocommit(st->db) || st->read_clock >= t->pinned;
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
        if (!serves_snapshot(st, t)) {
            table_unref(t);
            t = NULL;
        }
    }
    if (!t && own_current(pc, stamp)) return pc;
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

/* A byte per item of pc: 1 when it carries the label (case-insensitive,
 * as the column's collation). Owned by the caller; NULL on a read error
 * (err set). */
static uint8_t *label_read(store *st, const pc_table *pc, const char *label, dp_err *err)
{
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
    return mark;
}

/* label_read's marks for the handle's table, borrowed from pc: the last
 * label's are kept, as every page and neighbour of a label filter asks for
 * them (page_how). */
static const uint8_t *label_marks(store *st, store_pcount *pc, const char *label, dp_err *err)
{
    if (pc->label && !sqlite3_stricmp(pc->label, label)) return pc->mark;
    marks_drop(pc);
    pc->mark = label_read(st, pc->t, label, err);
    if (pc->mark) pc->label = xstrdup(label);
    return pc->mark;
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

/* ---- a table around a text ------------------------------------------ */

/* A text's order asked where no current table is at hand -- the one-shot
 * `doppel pairs --text`, or a server's request while the shared table is
 * being built (at start, or after a commit made it stale) -- would pay for
 * a whole table (1.5 s at 725k pairs) or wait for one. Every pair of a
 * text's order has an item that holds the text, or is keyed "#N"; so a
 * table of the candidate items, the pairs of those that hold it and those
 * pairs' other items gives the same order: the candidates read by id, each
 * holder's pairs by one seek of pairs_by_query and one of pairs_by_cand
 * (covering indexes: no pair row is read), and an other item by its key
 * when a state or label filter needs it. It
 * serves that one order and is dropped (store_pairs.c caches the order);
 * counts of states and labels still build the whole table. A text whose
 * candidates are more than 40 % of the items (store_pcount_around_pct)
 * reads the whole table instead, as a seek costs several rows of a scan:
 * at 250k items and 725k pairs, `doppel pairs --text` took 0.18 s around
 * "timeout" (1,928 candidates) against 1.1 s with the whole table, 0.6 s
 * around "the" (177k pairs), 1.0 s against 1.25 s around "ion" (30 % of
 * the titles). */
unsigned store_pcount_around_pct = 40;
atomic_size_t store_pcount_arounds;

/* The position in t of the item (repo, key); when t has it not yet, the
 * item is read and added with read set, else (or when no such item is
 * stored) PC_NONE. */
static int around_item(store *st, pc_table *t, keys *k, int64_t repo, const char *key, size_t len, int read,
                       uint32_t *pos, dp_err *err)
{
    *pos = keys_find(k, repo, key, len);
    if (*pos != PC_NONE || !key || !read) return DP_OK;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT " PC_ITEM_COLS " FROM items WHERE repo_id = ?1 AND key = ?2", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    sqlite3_bind_text(s, 2, key, (int)len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *pos = (uint32_t)t->nitems;
        item_add(t, k, s);
    }
    store_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the items of a text's pairs");
}

/* Adds the pairs of s's rows (PC_PAIR_COLS; bound), and their items when
 * read is set, but a pair whose query item (skip & 1) or candidate item
 * (skip & 2) is one of the first nmark items with mark set: an earlier pass
 * added it. Done with s. */
static int around_pairs(store *st, pc_table *t, keys *k, sqlite3_stmt *s, const uint8_t *mark, size_t nmark,
                        int skip, int read, dp_err *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t repo = sqlite3_column_int64(s, 0);
        uint32_t qi, ci;
        if (around_item(st, t, k, repo, (const char *)sqlite3_column_text(s, 4), (size_t)sqlite3_column_bytes(s, 4),
                        read, &qi, err) != DP_OK)
            break;
        if ((skip & 1) && qi < nmark && mark[qi]) continue;
        if (around_item(st, t, k, repo, (const char *)sqlite3_column_text(s, 5), (size_t)sqlite3_column_bytes(s, 5),
                        read, &ci, err) != DP_OK)
            break;
        if ((skip & 2) && ci < nmark && mark[ci]) continue;
        pair_add(t, s, qi, ci);
    }
    store_done(s);
    if (rc == SQLITE_ROW) return DP_ERR;   /* err set by around_item */
    return rc == SQLITE_DONE ? DP_OK : store_fail(st, err, "reading the pairs of a text");
}

/* x's items and candidates, ascending and distinct; *n of them, owned. */
static int64_t *around_ids(const pcount_extra *x, size_t *n)
{
    size_t m = x->nitems + x->ncands;
    int64_t *v = xmalloc((m ? m : 1) * sizeof *v);
    if (x->nitems) memcpy(v, x->items, x->nitems * sizeof *v);
    if (x->ncands) memcpy(v + x->nitems, x->cands, x->ncands * sizeof *v);
    if (m) qsort(v, m, sizeof *v, id_cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    *n = u;
    return v;
}

/* An item's id and its position; sorted by id_cmp, which reads the id
 * (the first member: a pointer to the struct points to it). */
typedef struct id_at {
    int64_t id;
    uint32_t at;
} id_at;

/* Permutes the n elements of size sz at *v to v'[i] = v[to[i]]. */
static void permute(void **v, size_t sz, const id_at *to, size_t n)
{
    char *old = *v, *nv = xmalloc((n ? n : 1) * sz);
    for (size_t i = 0; i < n; i++) memcpy(nv + i * sz, old + (size_t)to[i].at * sz, sz);
    free(old);
    *v = nv;
}

/* Puts t's items in id order (item_pos bisects): every per-item array and
 * mark (one byte per item) moves along, and the pairs' item positions. */
static void around_sort(pc_table *t, uint8_t **mark)
{
    size_t n = t->nitems;
    id_at *to = xmalloc((n ? n : 1) * sizeof *to);
    for (size_t i = 0; i < n; i++) to[i] = (id_at){t->item_id[i], (uint32_t)i};
    qsort(to, n, sizeof *to, id_cmp);
    uint32_t *pos = xmalloc((n ? n : 1) * sizeof *pos);   /* old position -> new */
    for (size_t i = 0; i < n; i++) pos[to[i].at] = (uint32_t)i;
    permute((void **)&t->item_id, sizeof *t->item_id, to, n);
    permute((void **)&t->state, sizeof *t->state, to, n);
    permute((void **)&t->koff, sizeof *t->koff, to, n);
    permute((void **)&t->toff, sizeof *t->toff, to, n);
    permute((void **)mark, 1, to, n);
    for (size_t i = 0; i < t->n; i++) {
        if (t->qi[i] != PC_NONE) t->qi[i] = pos[t->qi[i]];
        if (t->ci[i] != PC_NONE) t->ci[i] = pos[t->ci[i]];
    }
    free(to);
    free(pos);
}

/* The candidates' marks (text_marks) grown to every item of t, the new ones
 * 0. */
static void marks_grow(uint8_t **mark, size_t from, size_t to)
{
    *mark = xrealloc(*mark, to ? to : 1);
    if (to > from) memset(*mark + from, 0, to - from);
}

/* The table around x's text (see above), one reference, and in *tmark the
 * items that hold the text (owned); NULL on an error (err set). The pairs'
 * other items are read only for a filter on items (others set: states, a
 * label): a pair without an item in the table passes every other test. */
static pc_table *around_build(store *st, int64_t stamp, const pcount_extra *x, int others, uint8_t **tmark,
                              dp_err *err)
{
    pc_table *t = table_new(stamp);
    keys k = {.str = &t->keys};
    size_t nids;
    int64_t *ids = around_ids(x, &nids);
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT " PC_ITEM_COLS " FROM items WHERE id = ?1", err);
    int rc = s ? DP_OK : DP_ERR;
    for (size_t i = 0; i < nids && rc == DP_OK; i++) {
        sqlite3_bind_int64(s, 1, ids[i]);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW) item_add(t, &k, s);
        else if (r != SQLITE_DONE) rc = store_fail(st, err, "reading the items holding a text");
        sqlite3_reset(s);
    }
    if (s) store_done(s);
    free(ids);
    uint8_t *m = NULL;
    if (rc == DP_OK && !(m = text_marks(st, t, x, err))) rc = DP_ERR;
    size_t nm = t->nitems;
    /* the holders' pairs: by query, then by candidate but those whose query
     * holds the text too, then the keyed ones that no holder has */
    static const char *const by[2] = {
        "SELECT " PC_PAIR_COLS " FROM pairs INDEXED BY pairs_by_query WHERE repo_id = ?1 AND query_key = ?2",
        "SELECT " PC_PAIR_COLS " FROM pairs INDEXED BY pairs_by_cand WHERE repo_id = ?1 AND cand_key = ?2"};
    for (int w = 0; w < 2 && rc == DP_OK; w++) {
        for (size_t i = 0; i < nm && rc == DP_OK; i++) {
            if (!m[i]) continue;
            if (!(s = store_stmt_sql(st, by[w], err))) {
                rc = DP_ERR;
                break;
            }
            sqlite3_bind_int64(s, 1, k.e[i].repo);
            /* a copy: the arena of keys grows as the pairs' items come in */
            sqlite3_bind_text(s, 2, t->keys.s + t->koff[i], -1, SQLITE_TRANSIENT);
            rc = around_pairs(st, t, &k, s, m, nm, w, others, err);
        }
    }
    for (size_t i = 0; i < x->nkeyed && rc == DP_OK; i++) {
        if (!(s = store_stmt_sql(st, "SELECT " PC_PAIR_COLS " FROM pairs WHERE id = ?1", err))) {
            rc = DP_ERR;
            break;
        }
        sqlite3_bind_int64(s, 1, x->keyed[i]);
        rc = around_pairs(st, t, &k, s, m, nm, 3, others, err);
    }
    keys_free(&k);
    if (rc != DP_OK) {
        free(m);
        table_unref(t);
        return NULL;
    }
    marks_grow(&m, nm, t->nitems);
    around_sort(t, &m);
    atomic_fetch_add(&store_pcount_arounds, 1);
    *tmark = m;
    return t;
}

/* Whether handle_table would answer without building or waiting: the
 * shared table when no build holds it, it is current and serves the
 * handle's snapshot, else the handle's own table when current. */
static int table_at_hand(store *st, int64_t stamp)
{
    store_pcount_shared *sh = st->pcount_sh;
    if (sh) {
        if (pthread_mutex_trylock(&sh->mu)) return 0;   /* a build under way */
        int64_t now;
        dp_err e;
        int current = sh->table && shared_stamp(sh, &now, &e) == DP_OK && sh->table->stamp == now;
        int serves = current && serves_snapshot(st, sh->table);
        pthread_mutex_unlock(&sh->mu);
        if (!current) return 0;   /* handle_table would build it */
        if (serves) return 1;
    }
    return own_current(st->pcount, stamp);
}

/* Whether x's text's order is made from a table around it (see
 * around_build): an indexed text whose candidates are at most
 * store_pcount_around_pct of the items, with no current table at hand. */
static int around_wanted(store *st, int64_t stamp, const pcount_extra *x)
{
    if (!x->text || x->scan || !store_pcount_around_pct || table_at_hand(st, stamp)) return 0;
    sqlite3_stmt *s = store_stmt_sql(st, "SELECT COALESCE(MAX(id), 0) FROM items", NULL);
    if (!s) return 0;
    int64_t items = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return (int64_t)(x->nitems + x->ncands) * 100 <= (int64_t)store_pcount_around_pct * items;
}

int store_pcount_order(store *st, const pair_filter *f, int64_t stamp, const pcount_extra *x, int sort, size_t *n,
                       double **k, int64_t **id, dp_err *err)
{
    *n = 0;
    *k = NULL;
    *id = NULL;
    if (sort < 0 || sort >= PC_SORTS) return dp_fail(err, "store: unknown pair order %d", sort);
    const pc_table *pc;
    pc_table *own = NULL;        /* a table around the text, or NULL */
    const uint8_t *mark = NULL;  /* the label's items */
    uint8_t *lmark = NULL, *tmark = NULL;   /* owned */
    int label = f->label && *f->label;
    if (around_wanted(st, stamp, x)) {
        int others = label || f->query_state || f->cand_state;
        if (!(own = around_build(st, stamp, x, others, &tmark, err))) return DP_ERR;
        pc = own;
        if (label && !(mark = lmark = label_read(st, pc, f->label, err))) {
            free(tmark);
            table_unref(own);
            return DP_ERR;
        }
    } else {
        store_pcount *h = handle_table(st, stamp, err);
        if (!h) return DP_ERR;
        if (label && !(mark = label_marks(st, h, f->label, err))) return DP_ERR;
        pc = h->t;
        if (x->text && !(tmark = text_marks(st, pc, x, err))) return DP_ERR;
    }
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
    free(lmark);
    table_unref(own);
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
