/* web.h -- `doppel serve`: the review page's HTTP server and JSON API.
 *
 * Three layers, each usable alone (and tested alone):
 *  - web_markdown_*: renders an item body to HTML the way GitHub does, with
 *    cmark-gfm in safe mode (raw HTML never comes through), an allowlist of
 *    link schemes (http, https, mailto) applied to every link and image,
 *    `#N` references turned into links and remote images turned into links
 *    (loading them would tell a third party who reads the issue).
 *  - web_api_handle(): the JSON API over a store handle, independent of the
 *    transport: method + path + query parameters + body in, status + JSON out.
 *  - web_start()/web_stop(): the libmicrohttpd server (one epoll thread per
 *    worker) behind doppel's own connection gate (gate.h), serving the
 *    embedded page (assets.h; gzip, ETag) and the API (gzip when large), with
 *    the security policy: strict CSP and friends on every response, whoever
 *    writes it, bounded request sizes and times, per-client connection caps,
 *    Host checking on loopback (DNS rebinding), a token for API calls when one
 *    is configured (required when binding a non-loopback address), and
 *    cross-site protection for POSTs.
 *
 * Ownership: every char * returned is the caller's to free(); web_reply's
 * body is freed with web_reply_free(). web_server is owned by the caller of
 * web_start and released by web_stop.
 *
 * Threads: the markdown and API functions are reentrant; each server worker
 * thread opens its own read-only store handle (SQLite WAL: readers beside a
 * writer) on first use for GETs; POSTs and DELETEs share one read-write
 * handle, one at a time. An apply from the page runs on a thread of its own
 * with its own read-write handle (apply.h); /api/similar's corpora are
 * shared by the workers (similar.h). web_stop stops a run in flight and
 * closes everything after the workers have finished.
 */
#ifndef DP_WEB_H
#define DP_WEB_H

#include <stddef.h>
#include <stdint.h>
#include "../common/util.h"
#include "../store/store.h"

struct gh_config;

/* ---- markdown ----------------------------------------------------------- */

/* Renders markdown `md` to HTML (safe mode, GFM extensions table, autolink,
 * strikethrough, tasklist, tagfilter; newlines are hard breaks as in GitHub
 * issues). `#N` in text becomes a link to `ref_base` followed by N
 * (ref_base NULL: no such links). Never fails; returns an owned string. */
char *web_markdown_render(const char *md, const char *ref_base);

/* 1 when url may be a link target in rendered text: it starts with http://,
 * https:// or mailto: (any case) and holds no control character. Everything
 * else -- other schemes, //host, relative paths, \\host -- is refused. */
int web_url_allowed(const char *url);

/* Jira wiki markup to CommonMark (jira_render.c): headings, bold, italic,
 * monospace, {code}, {noformat}, {quote}, links, lists, tables; all other
 * text is escaped so it shows literally. Never fails; owned string. */
char *web_jira_to_markdown(const char *wiki);
/* Renders Jira wiki markup: web_jira_to_markdown, then as
 * web_markdown_render but with no `#N` links; instead keys of `project`
 * ("HIVE-123") link to item_base + key and other projects' keys to
 * other_base + key (either base NULL: no such links). Owned string. */
char *web_jira_render(const char *wiki, const char *project, const char *item_base, const char *other_base);

/* ---- JSON API ----------------------------------------------------------- */

/* Largest request body the API accepts (a verdict is ~30 bytes). */
#define WEB_MAX_BODY 4096
/* Largest page of pairs one request may ask for. */
#define WEB_MAX_LIMIT 500

typedef struct web_param {
    const char *name;
    const char *value;
} web_param;

typedef struct web_reply {
    int status;            /* HTTP status */
    char *body;            /* owned JSON text, always an object */
    size_t len;
    const char *allow;     /* for 405: the Allow header value; static */
} web_reply;

void web_reply_free(web_reply *r);

/* Handles one API request. `path` starts with "/api/"; params are the
 * decoded query parameters (nparams of them); body/len the request body
 * (POST only). Always fills *out (errors become 4xx/5xx JSON objects
 * {"error": "..."}); returns DP_ERR only when the store failed (status 500,
 * err filled) so the server can log it. Routes:
 *   GET  /api/meta                    repositories and label colours
 *   GET  /api/pairs?FILTER            a page of pairs + total/reviewed counts
 *   GET  /api/pairs/ID?FILTER         one pair, both items, prev/next in FILTER
 *   POST /api/pairs/ID/verdict        {"verdict": "duplicate"|"related"|
 *                                      "not_related"|null}; null also takes
 *                                      the pair out of the apply queue
 *   POST   /api/pairs/ID/queue        queue the pair's verdict for GitHub
 *   DELETE /api/pairs/ID/queue        (409: no verdict yet, or not GitHub)
 *   GET  /api/items/REPO/KEY          one item
 * The pair page's pair carries "queued"; /api/meta's repositories their
 * queue length ("queued").
 * FILTER: relation, confidence, qstate, cstate, label, reviewed (0|1),
 * known (0 hides pairs already linked), text, sort (value|prob|updated),
 * repo (id), offset, limit; after / before: keyset cursors (a page's
 * "next" / "prev"), the page after or before that position, offset then
 * only numbering the rows.
 *
 * The server adds the routes that need its own state (apply.h, similar.h):
 *   GET  /api/apply[?repo=ID]   the plan of the apply queue (act's: every
 *                               request, each comment in full), its text
 *                               and hash, whether writing is on, the run
 *   POST /api/apply             {"repo": ID, "confirm": HASH}: runs the plan
 *                               when HASH is the current plan's (202; 409
 *                               stale plan, nothing to do, or a run in
 *                               flight; 403 writing off)
 *   GET  /api/apply/run         the run's progress and result
 *   GET  /api/similar?title=T[&body=B][&repo=ID|O/R][&k=N]   likely
 *                               duplicates of an issue not filed yet, as
 *                               `doppel similar --json`; rate-limited per
 *                               client (429 + Retry-After); never writes;
 *                               CORS only for web_config.cors_origin
 *   OPTIONS /api/similar        the CORS preflight (with cors_origin) */
int web_api_handle(store *st, const char *method, const char *path, const web_param *params,
                   size_t nparams, const char *body, size_t len, web_reply *out, dp_err *err);

/* ---- render cache (rcache.c) -------------------------------------------- */

/* Rendered HTML of item bodies and comments, so a pair with many comments
 * is not rendered again on every request. The key is a 128-bit hash the
 * caller makes of everything the HTML depends on (the API: repository and
 * how it renders, item key, updated_at, the text itself), so an edited text
 * is a different key and stale HTML is never served. Bounded: when the
 * entries' cost (text plus bookkeeping) passes max_bytes, the least recently
 * used go; a text costing more than max_bytes / 8 is not kept. Thread-safe:
 * one mutex, never held while rendering. */
typedef struct web_rcache_key {
    uint64_t lo, hi;
} web_rcache_key;
typedef struct web_rcache web_rcache;
typedef struct web_rcache_entry web_rcache_entry;
typedef struct web_rcache_info {
    uint64_t hits, misses;
    size_t entries, bytes;
} web_rcache_info;

web_rcache *web_rcache_new(size_t max_bytes);
void web_rcache_free(web_rcache *c);      /* NULL ok; nothing may be borrowed */
/* The text stored under k, borrowed: *html (NUL-terminated) and *len stay
 * valid, even if the entry is evicted meanwhile, until the returned entry is
 * given back with web_rcache_release. NULL (nothing set) when k is absent. */
web_rcache_entry *web_rcache_borrow(web_rcache *c, const web_rcache_key *k, const char **html, size_t *len);
void web_rcache_release(web_rcache *c, web_rcache_entry *e);   /* NULL ok */
/* Stores a copy of html[0..len) under k (a key already present is kept). */
void web_rcache_put(web_rcache *c, const web_rcache_key *k, const char *html, size_t len);
void web_rcache_stats(web_rcache *c, web_rcache_info *out);

/* The cache web_api_handle renders through: one per process (the server's
 * worker threads share it), WEB_RCACHE_BYTES large, made on first use. */
#define WEB_RCACHE_BYTES ((size_t)32 << 20)
web_rcache *web_api_rcache(void);

/* ---- the Apply view and the pre-filing lookup (apply.c, similar.c) ------ */

#define WEB_APPLY_MAX_S 600           /* a run from the page stops after this */
#define WEB_APPLY_MAX_EVENTS 2000     /* progress events kept per run */
#define WEB_SIMILAR_MAX_TITLE 512     /* bytes, decoded */
#define WEB_SIMILAR_MAX_BODY 3072     /* bytes, decoded (the URL is at most WEB_MAX_URI) */
#define WEB_SIMILAR_MAX_K 20
#define WEB_SIMILAR_PER_MIN 60        /* requests a minute per client, sustained */
#define WEB_SIMILAR_BURST 10          /* at once */
#define WEB_SIMILAR_CLIENTS 4096      /* client addresses the rate limit remembers */
#define WEB_SIMILAR_RECHECK_MS 1000   /* how often the store is asked whether it changed */

/* ---- server ------------------------------------------------------------- */

/* Connection limits (web_config overrides some; see gate.h for the how):
 * every request must arrive whole -- head and body -- within
 * WEB_HEAD_TIMEOUT_MS of the connection's accept, however slowly its bytes
 * trickle in, and every exchange must end within WEB_LIFE_TIMEOUT_MS. Each
 * connection carries one request ("Connection: close"). */
#define WEB_MAX_CONNS 512            /* open at once, all clients */
#define WEB_MAX_PER_IP 32            /* from one remote address (IPv6: /64) */
#define WEB_HEAD_TIMEOUT_MS 10000
#define WEB_LIFE_TIMEOUT_MS 60000
#define WEB_MAX_HEAD 8192            /* request line and header fields */
#define WEB_MAX_URI 4096             /* request line */

typedef struct web_config {
    const char *db_path;   /* store file; must exist */
    const char *bind;      /* address literal or host name; NULL = "127.0.0.1" */
    unsigned port;         /* 0 = any free port (see web_port) */
    const char *token;     /* NULL/"" = none; required for non-loopback binds */
    unsigned threads;      /* worker threads; 0 = one per CPU, 2 to 16 */
    unsigned max_conns;    /* 0 = WEB_MAX_CONNS */
    unsigned max_per_ip;   /* remote clients; 0 = WEB_MAX_PER_IP. Loopback
                            * clients all share max_conns (one address) */
    unsigned head_timeout_ms; /* 0 = WEB_HEAD_TIMEOUT_MS */
    /* GitHub writes from the Apply view: off unless write is 1 and gh (the
     * API URL and token; copied -- the token is never logged or sent to a
     * browser) is given. Without it the plan is shown read-only. */
    int write;
    const struct gh_config *gh;
    const char *dup_label;    /* added to a duplicate; NULL or "" = none */
    unsigned apply_max_s;     /* 0 = WEB_APPLY_MAX_S */
    /* GET /api/similar: the one origin (scheme://host[:port]) whose pages
     * may read it cross-origin; NULL = CORS off. */
    const char *cors_origin;
    unsigned similar_per_min; /* 0 = WEB_SIMILAR_PER_MIN */
    /* Called (from worker threads, serialized) with one line for each
     * request that failed with a 5xx; NULL = silent. */
    void (*log)(void *ud, const char *line);
    void *log_ud;
} web_config;

typedef struct web_server web_server;

/* Checks the configuration, opens the store once to fail early on a bad
 * path, binds and starts serving in background threads. */
int web_start(const web_config *cfg, web_server **out, dp_err *err);
unsigned web_port(const web_server *srv);
/* Stops accepting connections, lets requests in flight finish (up to a few
 * seconds), joins the workers and closes their store handles. NULL ok. */
void web_stop(web_server *srv);

/* 1 when every address `host` names is a loopback address. */
int web_is_loopback(const char *host);

#endif
