/* rcache.c -- the render cache: HTML of item bodies and comments, bounded,
 * shared by the server's worker threads (contract in web.h).
 *
 * Why: a pair whose items carry many comments spent nearly all of its
 * request time in cmark-gfm and the Jira converter, rendering the same text
 * again for every request. The HTML depends only on the text and on the
 * repository it belongs to, so the caller hashes those (with the item and
 * its updated_at) into a 128-bit key: an edit is a different key, a stale
 * entry is never served, and old entries simply age out.
 *
 * Shape: a chained hash table (buckets double as entries grow) threaded on
 * one LRU list; a single mutex, held only to look up, link and unlink --
 * never while rendering or copying. A borrowed entry is counted; evicting it
 * only unlinks it, and the last release frees it, so a reader copies a
 * large text once, straight into its reply, without holding the lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

typedef struct web_rcache_entry {
    web_rcache_key key;
    struct web_rcache_entry *chain;       /* next in the bucket */
    struct web_rcache_entry *newer, *older;   /* LRU list */
    unsigned refs;                        /* borrowers; guarded by the mutex */
    int evicted;                          /* unlinked: the last release frees it */
    size_t len;
    char html[];                          /* len bytes + NUL */
} rc_entry;

struct web_rcache {
    pthread_mutex_t mu;
    rc_entry **buckets;
    size_t nbuckets;                      /* power of two */
    size_t nentries, bytes, max_bytes;
    rc_entry *newest, *oldest;
    uint64_t hits, misses;
};

/* What an entry costs: its text plus its bookkeeping and a bucket slot. */
static size_t rc_cost(size_t len)
{
    return sizeof(rc_entry) + len + 1 + sizeof(rc_entry *);
}

web_rcache *web_rcache_new(size_t max_bytes)
{
    web_rcache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->nbuckets = 256;
    c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
    c->max_bytes = max_bytes;
    return c;
}

void web_rcache_free(web_rcache *c)
{
    if (!c) return;
    for (rc_entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static rc_entry **rc_slot(web_rcache *c, const web_rcache_key *k)
{
    rc_entry **p = &c->buckets[k->lo & (c->nbuckets - 1)];
    while (*p && ((*p)->key.lo != k->lo || (*p)->key.hi != k->hi)) p = &(*p)->chain;
    return p;
}

static void lru_unlink(web_rcache *c, rc_entry *e)
{
    if (e->newer) e->newer->older = e->older;
    else c->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(web_rcache *c, rc_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest) c->newest->newer = e;
    c->newest = e;
    if (!c->oldest) c->oldest = e;
}

static void rc_remove(web_rcache *c, rc_entry *e)
{
    rc_entry **p = rc_slot(c, &e->key);
    *p = e->chain;
    lru_unlink(c, e);
    c->nentries--;
    c->bytes -= rc_cost(e->len);
    if (e->refs) e->evicted = 1;   /* still borrowed */
    else free(e);
}

static void rc_grow(web_rcache *c)
{
    size_t n = c->nbuckets * 2;
    rc_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (rc_entry *e = c->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = b[e->key.lo & (n - 1)];
            b[e->key.lo & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

web_rcache_entry *web_rcache_borrow(web_rcache *c, const web_rcache_key *k, const char **html, size_t *len)
{
    pthread_mutex_lock(&c->mu);
    rc_entry *e = *rc_slot(c, k);
    if (e) {
        lru_unlink(c, e);
        lru_push(c, e);
        e->refs++;
        *html = e->html;
        *len = e->len;
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

void web_rcache_release(web_rcache *c, web_rcache_entry *e)
{
    if (!e) return;
    pthread_mutex_lock(&c->mu);
    int gone = --e->refs == 0 && e->evicted;
    pthread_mutex_unlock(&c->mu);
    if (gone) free(e);
}

void web_rcache_put(web_rcache *c, const web_rcache_key *k, const char *html, size_t len)
{
    if (rc_cost(len) > c->max_bytes / 8) return;   /* one text must not flush the rest */
    rc_entry *e = xmalloc(sizeof *e + len + 1);
    e->key = *k;
    e->refs = 0;
    e->evicted = 0;
    e->len = len;
    memcpy(e->html, html, len);
    e->html[len] = 0;
    pthread_mutex_lock(&c->mu);
    rc_entry **p = rc_slot(c, k);
    if (*p) {                       /* another thread rendered it first */
        pthread_mutex_unlock(&c->mu);
        free(e);
        return;
    }
    e->chain = NULL;
    *p = e;
    lru_push(c, e);
    c->nentries++;
    c->bytes += rc_cost(len);
    while (c->bytes > c->max_bytes && c->oldest) rc_remove(c, c->oldest);
    if (c->nentries > c->nbuckets) rc_grow(c);
    pthread_mutex_unlock(&c->mu);
}

void web_rcache_stats(web_rcache *c, web_rcache_info *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = c->nentries;
    out->bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}
