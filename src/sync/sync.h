/* sync.h -- `doppel sync`: fetch a GitHub repository's issues, pull requests,
 * issue comments and label colours into the store, incrementally.
 *
 * What is fetched (GitHub REST, via github.h):
 *   /repos/O/R/issues?state=all&sort=updated&direction=asc&per_page=100[&since=T]
 *   /repos/O/R/issues/comments?sort=updated&direction=asc&per_page=100[&since=T]
 *   /repos/O/R/labels?per_page=100
 *   with --timeline: /repos/O/R/issues/N/timeline for items closed as duplicate
 *   with --verify:   /repos/O/R/issues?state=open, then /repos/O/R/issues/N for
 *                    each stored open item missing from that list
 * Objects go through the ingest converters (ingest_github_item,
 * ingest_github_comment, ingest_links_from_text); there is no second parser.
 *
 * Incremental and crash-safe:
 *  - Each page is converted completely before anything is written; then its
 *    items/comments/links AND the listing cursor are written in one store
 *    transaction. A malformed or truncated page fails the sync with nothing
 *    of that page committed; a kill -9 loses at most the page in flight.
 *  - Cursors live in store_kv (per repo): "sync.<listing>.since" (updated_at
 *    high-water of the last complete listing: the next run asks since=it),
 *    "sync.<listing>.hw" (high-water of a listing in progress: an interrupted
 *    run resumes with since=hw; we restart by time rather than by the saved
 *    page URL because page offsets shift whenever an item is updated),
 *    "sync.<listing>.next" (the next page URL at the last commit, for
 *    diagnostics) and "sync.<listing>.etag*.<k>" (URL, ETag and successor of
 *    the first 10 pages of the last pass: an unchanged repository answers
 *    304 to each, which costs no rate limit).
 *  - A stored cursor (since, hw) never exceeds the time the sync started
 *    minus SYNC_SINCE_MARGIN_S, whatever updated_at the server sent: the
 *    high-water mark is max(updated_at), so one item dated in the future
 *    (a broken clock, an import, a hostile server) would otherwise make
 *    every later run ask since=<that date> and miss every edit before it
 *    (issue 11 F, in sync). The margin covers a server clock behind ours;
 *    the cost is that items updated in the last SYNC_SINCE_MARGIN_S before
 *    a run are listed again by the next one.
 *  - An item updated while a listing runs moves to the end of the order and
 *    shifts later pages by one, which could skip an item. When a listing sees
 *    the same item twice, it relists from the first copy's updated_at.
 *  - Deleted (404/410) and transferred (301) items are marked with
 *    store_item_mark_deleted. They vanish from listings silently, so this
 *    is checked by --verify only (it costs one request per open item that is
 *    missing from the open list).
 *
 * Hostile servers (issue 11): every listing follows rel="next" through a
 * sync_pager, which stops on a page already fetched (a cycle) and after a
 * cap derived from rel="last" and the items the store knows; a page larger
 * than max_page_bytes (decoded) or holding more than SYNC_MAX_JSON_VALUES
 * JSON values is refused before it is parsed; each exchange has a deadline
 * (github.h). Each stops with an error before the offending page is
 * committed, so the store keeps the pages before it.
 *
 * The token is used only in the Authorization header: never stored, printed
 * or put in an error; URLs from the server are stored without credentials. Library code prints nothing; progress goes through
 * the callback. Not thread-safe (one sync per store handle).
 */
#ifndef DP_SYNC_H
#define DP_SYNC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "../store/store.h"

typedef struct sync_progress {
    const char *phase;          /* "issues", "comments", "labels", "timeline", "verify" */
    size_t pages;               /* pages fetched in this phase */
    size_t pages_total;         /* estimate from Link rel="last"; 0 unknown */
    size_t items, comments;     /* totals so far (all phases) */
    size_t requests, not_modified;
    long rate_remaining, rate_limit;   /* -1 unknown */
    double wait_left;           /* > 0 while sleeping */
    const char *wait_reason;    /* "rate limit reset", "server error", ... */
} sync_progress;

typedef void (*sync_progress_fn)(void *ctx, const sync_progress *p);

typedef struct sync_opts {
    const char *repo;           /* "owner/name" (required) */
    const char *api_url;        /* NULL = https://api.github.com */
    const char *token;          /* NULL = anonymous */
    int timeline;               /* read marked_as_duplicate events */
    int verify;                 /* detect deleted / transferred items */
    int full;                   /* ignore cursors and ETags: list everything */
    int max_tries;              /* 0 = 6 */
    long backoff_base_ms;       /* 0 = 1000 */
    long backoff_cap_ms;        /* 0 = 60000 */
    long stall_timeout_s;       /* 0 = 60 */
    long deadline_s;            /* per exchange, however slow the bytes; 0 = 300 */
    size_t max_page_bytes;      /* decoded body per page; 0 = GH_DEFAULT_MAX_BODY (32 MiB) */
    sync_progress_fn progress;
    void *progress_ctx;
    volatile sig_atomic_t *cancel;   /* non-zero stops the sync within about a second,
                                        also inside a transfer; the pages before stay */
} sync_opts;

typedef struct sync_stats {
    int64_t repo_id;
    size_t items, items_written, comments, links, labels;
    size_t deleted;             /* marked deleted/transferred by --verify */
    size_t pages, requests, not_modified, retries, rate_waits;
    double waited_s;
    size_t bytes;
    long rate_remaining, rate_limit;   /* last seen; -1 unknown */
    int64_t rate_reset;
    int64_t since_before;       /* the issues cursor at start (0 = first sync) */
} sync_stats;

/* Runs one sync into st. On error the pages already committed stay (they are
 * complete and the cursor matches them); the next run resumes. */
int sync_run(store *st, const sync_opts *opts, sync_stats *stats, dp_err *err);

/* The token to use: $GITHUB_TOKEN, else $GH_TOKEN, else `gh auth token` when
 * gh is on PATH. Returns an owned string or NULL; *source (may be NULL) gets
 * "GITHUB_TOKEN", "GH_TOKEN", "gh auth token" or NULL. */
char *sync_find_token(const char **source);

/* Checks "owner/name" (GitHub's allowed characters); DP_ERR with a message. */
int sync_parse_repo(const char *spec, dp_err *err);

/* ---- pure helpers (exposed for the unit tests) ------------------------ */

#define SYNC_PER_PAGE 100            /* per_page of every listing */
#define SYNC_PAGES_UNKNOWN 10000     /* cap when neither rel="last" nor the store tells */
#define SYNC_PAGES_MAX 200000        /* cap whatever the server claims (20M items) */
#define SYNC_MAX_JSON_VALUES 500000  /* per page; GitHub's fullest pages hold ~15,000 */
#define SYNC_SINCE_MARGIN_S 600      /* stored cursors stay this far behind the start */

/* Most pages one rel="next" chain may take: twice the larger of the
 * reported last page and the pages the known items fill, plus 100 (items
 * created or updated while we list shift pages); SYNC_PAGES_UNKNOWN when
 * both are 0; never above SYNC_PAGES_MAX. */
size_t sync_page_cap(size_t reported_last, size_t known_items, size_t per_page);

/* Guards one rel="next" chain. After fetching `url`, whose answer linked to
 * `next` (NULL: the end) and rel="last" `last` (may be NULL; the first one
 * reported fixes the cap), sync_pager_next() returns DP_ERR with a message
 * when next is not under the API URL `base`, was already fetched in this
 * chain (a cycle, including next == url) or when the chain reached its cap. */
typedef struct sync_pager sync_pager;
sync_pager *sync_pager_new(const char *base, size_t known_items);
int sync_pager_next(sync_pager *pg, const char *url, const char *next, const char *last, dp_err *err);
void sync_pager_free(sync_pager *pg);   /* NULL ok */

/* JSON values (objects, arrays, strings, numbers, literals; not object
 * keys) in s[0..n), counting stops just above `limit`. No validation: this
 * bounds what a parse could allocate. */
size_t sync_json_values(const char *s, size_t n, size_t limit);

#endif
