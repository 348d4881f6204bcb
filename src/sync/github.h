/* github.h -- a small GitHub REST client on libcurl, used by sync.c (reads)
 * and by src/act (writes: apply, triage).
 *
 * Contract:
 *  - One gh_client owns one curl easy handle, reused for every request so the
 *    connection stays alive (HTTP/2 over TLS where the server offers it,
 *    gzip/deflate/br bodies decoded by curl). Not thread-safe: one client per
 *    thread.
 *  - Every exchange goes through one internal request function that takes the
 *    method: gh_get for reads, gh_write for writes (and the issue calls at the
 *    end of this header, built on both). gh_get() sends the GitHub headers (Accept, X-GitHub-Api-Version,
 *    User-Agent, Authorization when a token is set, If-None-Match when an ETag
 *    is given) and does all waiting and retrying itself: it waits out primary
 *    rate limits (X-RateLimit-Remaining 0 until X-RateLimit-Reset), honours
 *    Retry-After and secondary rate limits, and retries 5xx answers and
 *    network errors with bounded exponential backoff and jitter. It returns
 *    DP_OK for the answers a caller must handle (2xx, 304, 301/302/307/308,
 *    404, 410) and DP_ERR for everything else after the retries.
 *  - Every exchange is bounded: a stall timeout (no byte for stall_timeout_s),
 *    a deadline for the whole exchange (deadline_s, however slowly the bytes
 *    trickle), a cap on the decoded body (max_body: a gzip bomb is cut off
 *    while it is received) and on the response headers (1 MiB). Hitting the
 *    deadline or a size cap fails at once, without retries. Setting *cancel
 *    (from a signal handler) stops a transfer in flight within about a
 *    second (libcurl's progress callback), as well as any wait.
 *  - The token is only ever put in the Authorization header. Error messages
 *    carry URLs passed through gh_redact_url(), and the server's own words
 *    pass through gh_redact_text(): a server echoing the Authorization header
 *    back cannot make us print the token.
 *  - The API URL must be http(s) without user:password@, query or fragment
 *    (gh_check_api_url). URLs must be absolute and on the same origin as the
 *    API URL: a Link or Location pointing elsewhere is refused, so the token
 *    is never sent to another host.
 *  - Writes (gh_write) are never redirected and never retried blindly: see
 *    gh_write for what is retried (GitHub refused it: rate limits, no
 *    connection) and what is handed back as "unsure" (it may have happened).
 */
#ifndef DP_SYNC_GITHUB_H
#define DP_SYNC_GITHUB_H

#include <signal.h>
#include <stdint.h>
#include "../common/item.h"
#include "../common/util.h"

/* Called about 4 times a second while the client sleeps (rate limit, backoff):
 * `left` seconds remain, `why` says what it waits for. */
typedef void (*gh_wait_fn)(void *ctx, double left, const char *why);

typedef struct gh_config {
    const char *api_url;        /* "https://api.github.com" or "https://HOST/api/v3" */
    const char *token;          /* NULL or "" = anonymous; copied by the client */
    const char *user_agent;     /* NULL = "doppel/0.1" */
    int max_tries;              /* attempts per request for 5xx/network errors; 0 = 6 */
    long backoff_base_ms;       /* first retry delay; 0 = 1000 */
    long backoff_cap_ms;        /* longest retry delay; 0 = 60000 */
    long stall_timeout_s;       /* abort a transfer idle this long; 0 = 60 */
    long deadline_s;            /* abort an exchange still running after this; 0 = 300 */
    size_t max_body;            /* decoded body bytes per answer; 0 = GH_DEFAULT_MAX_BODY */
    int max_rate_waits;         /* rate-limit waits per request; 0 = 10 */
    gh_wait_fn on_wait;
    void *wait_ctx;
    volatile sig_atomic_t *cancel;   /* set non-zero (SIGINT) to stop transfers and waits */
    long write_gap_ms;          /* least time between the starts of two writes; 0 = 1000
                                   (GitHub asks for about one write a second), < 0 = none */
    long max_wait_s;            /* most seconds one request may sleep in all (rate limits,
                                   backoff, write pacing); 0 = 3660 */
} gh_config;

/* GitHub's pages are a few MB at most (100 items); 32 MiB is ample. */
#define GH_DEFAULT_MAX_BODY ((size_t)32 << 20)

typedef struct gh_response {
    long status;
    sbuf body;
    char *etag;                 /* ETag header, owned, NULL if none */
    char *next_url;             /* Link rel="next", owned, NULL if none */
    char *last_url;             /* Link rel="last" */
    char *location;             /* Location header (redirects) */
    long rate_limit;            /* X-RateLimit-Limit, -1 unknown */
    long rate_remaining;        /* X-RateLimit-Remaining, -1 unknown */
    int64_t rate_reset;         /* X-RateLimit-Reset (epoch s), 0 unknown */
    long retry_after;           /* Retry-After seconds, -1 none */
    int64_t date;               /* Date header: the server's clock (epoch s), 0 unknown */
    int unsure;                 /* gh_write only: it failed after the request may have
                                   reached the server (timeout, cut connection, 5xx),
                                   so it may or may not have been applied */
} gh_response;

typedef struct gh_stats {
    size_t requests;            /* HTTP exchanges, retries included */
    size_t not_modified;        /* 304 answers (free of rate limit) */
    size_t retries;             /* attempts repeated after an error */
    size_t rate_waits;          /* times we slept for a rate limit */
    double waited_s;            /* total seconds slept */
    size_t bytes;               /* decoded body bytes received */
    size_t writes;              /* write exchanges (POST, PATCH, PUT, DELETE) */
    long rate_limit, rate_remaining;   /* last seen, -1 unknown */
    int64_t rate_reset;
} gh_stats;

typedef struct gh_client gh_client;

/* DP_ERR, with the reason, unless url is an acceptable API URL: http:// or
 * https://, a host, no "user:password@" (credentials would be stored and
 * shown; the token belongs in $GITHUB_TOKEN), no query or fragment. */
int gh_check_api_url(const char *url, dp_err *err);

int gh_client_new(const gh_config *cfg, gh_client **out, dp_err *err);
void gh_client_free(gh_client *c);                 /* NULL ok */
const gh_stats *gh_client_stats(const gh_client *c);
/* The normalised API base ("https://api.github.com", no trailing slash). */
const char *gh_client_base(const gh_client *c);

/* GET url (absolute) with an optional ETag for a conditional request. resp is
 * initialised by the call; release it with gh_response_free() whatever the
 * result. */
int gh_get(gh_client *c, const char *url, const char *etag, gh_response *resp, dp_err *err);
void gh_response_free(gh_response *r);

/* A write: method "POST", "PATCH", "PUT" or "DELETE" to url (absolute, under
 * the API URL) with an optional JSON body (sent as application/json).
 *  - Never redirected: curl follows no Location, and a 3xx answer comes back
 *    as DP_OK with its status for the caller to refuse.
 *  - Paced: it starts at least write_gap_ms after the previous write.
 *  - Sent on a fresh connection: libcurl silently resends a request whose
 *    reused connection died before an answer, which for a POST could post
 *    twice.
 *  - Retried only when GitHub certainly did not act on it: a rate limit
 *    (primary, secondary, 429; Retry-After honoured, else at least a minute,
 *    doubled on each repeat) or a connection that could not be made. Every
 *    wait counts against max_wait_s.
 *  - Anything that leaves the outcome open -- the deadline or stall timeout,
 *    a connection cut after sending, a 5xx answer, an interruption in flight
 *    -- is DP_ERR with resp->unsure = 1: the caller re-reads the state
 *    before it sends the write again.
 *  - DP_OK for 2xx, 3xx, 404 and 410 (resp->status tells); DP_ERR for other
 *    answers (401, 403, 422, ...) with resp->status set and the server's
 *    message, redacted, in err. */
int gh_write(gh_client *c, const char *method, const char *url, const char *json_body, gh_response *resp,
             dp_err *err);

/* ---- issue calls (github_issues.c) -------------------------------------
 * What apply and triage read and write. A write is first built as data (a
 * gh_call: method, path, JSON body) so the caller can print it in a plan and
 * record it in its audit before sending it with gh_call_send. repo is
 * "owner/name"; number an issue number ("12"); paths are relative to the
 * API URL. Every answer is parsed under the same bounds as sync's pages
 * (size cap, JSON value count). */

typedef struct gh_call {
    char method[8];             /* "POST", "PATCH", "DELETE" */
    char *path;                 /* owned: "/repos/o/r/issues/12/comments" */
    char *body;                 /* owned JSON text, NULL for none */
} gh_call;
void gh_call_free(gh_call *c);                    /* NULL ok; leaves it zeroed */
void gh_call_copy(gh_call *dst, const gh_call *src);

/* POST /repos/R/issues/N/comments {"body": text} -> 201, the comment */
void gh_call_comment_create(gh_call *out, const char *repo, const char *number, const char *text);
/* PATCH /repos/R/issues/comments/ID {"body": text} -> 200 */
void gh_call_comment_edit(gh_call *out, const char *repo, int64_t comment_id, const char *text);
/* DELETE /repos/R/issues/comments/ID -> 204 */
void gh_call_comment_delete(gh_call *out, const char *repo, int64_t comment_id);
/* PATCH /repos/R/issues/N {"state": state[, "state_reason": reason]} -> 200:
 * ("closed", "duplicate") closes as a duplicate, ("open", "reopened") reopens. */
void gh_call_issue_state(gh_call *out, const char *repo, const char *number, const char *state,
                         const char *reason);
/* POST /repos/R/issues/N/labels {"labels": [label]} -> 200 (adding a label
 * the issue has is a no-op) */
void gh_call_label_add(gh_call *out, const char *repo, const char *number, const char *label);
/* DELETE /repos/R/issues/N/labels/LABEL (percent-encoded) -> 200; 404 when
 * the issue does not carry it */
void gh_call_label_remove(gh_call *out, const char *repo, const char *number, const char *label);

/* gh_write of the call to the client's API URL + path. */
int gh_call_send(gh_client *c, const gh_call *call, gh_response *resp, dp_err *err);
/* The "id" of a JSON object answer (a created comment), 0 if none. */
int64_t gh_answer_id(const gh_response *r);
/* The "user"."login" of a JSON object answer, owned; NULL if none. */
char *gh_answer_login(const gh_response *r);

/* GET /repos/R/issues/N into out (through ingest_github_item). DP_NOTFOUND
 * when it is gone: 404, 410 (deleted) or 301 (transferred); *status (may be
 * NULL) gets the HTTP status. */
int gh_issue_read(gh_client *c, const char *repo, const char *number, item *out, long *status, dp_err *err);

typedef struct gh_comment {
    int64_t id;
    char *author;               /* login, NULL if unknown */
    char *association;          /* author_association: "OWNER", "MEMBER", "NONE"... */
    char *body;                 /* never NULL */
    int64_t created_at, updated_at;
} gh_comment;
typedef struct gh_comment_vec { gh_comment *v; size_t n, cap; } gh_comment_vec;
void gh_comment_free(gh_comment *c);
void gh_comment_vec_free(gh_comment_vec *v);
/* Every comment of issue N, oldest first, following rel="next" through a
 * sync_pager (at most max_pages pages of 100; 0 = 50). DP_NOTFOUND when
 * the issue is gone. */
int gh_comments_list(gh_client *c, const char *repo, const char *number, size_t max_pages,
                     gh_comment_vec *out, dp_err *err);
/* GET /repos/R/issues/comments/ID; DP_NOTFOUND on 404/410. */
int gh_comment_read(gh_client *c, const char *repo, int64_t id, gh_comment *out, dp_err *err);
/* Logins of the users who reacted with `content` ("-1", "+1", ...) to
 * comment ID (first page of 100 only: GitHub filters by content). Appended
 * to users; DP_NOTFOUND when the comment is gone. */
int gh_reactions_users(gh_client *c, const char *repo, int64_t comment_id, const char *content, strvec *users,
                       dp_err *err);
/* The user's permission on the repository ("admin", "maintain", "write",
 * "triage", "read", "none"), owned. DP_NOTFOUND on 404 (not a collaborator,
 * or the token may not ask). */
int gh_permission(gh_client *c, const char *repo, const char *user, char **perm, dp_err *err);

/* ---- pure helpers (exposed for the unit tests) ------------------------ */

/* URL of the given rel in an RFC 8288 Link header, owned; NULL if absent. */
char *gh_link_find(const char *link_header, const char *rel);
/* Copy of url without "user:pass@" and with token-like query and fragment
 * values (access_token, token, client_secret, in any case or %-escaped)
 * replaced by "REDACTED". Parsed as URL parsers do: the scheme only at the
 * start, the userinfo up to the last '@' of the authority. Owned. */
char *gh_redact_url(const char *url);
/* Copy of text with secrets replaced by "[REDACTED]": every occurrence of
 * `secret` (NULL or "" = none), the credential after "Bearer", "Basic" and
 * "token" (after "token" only when it looks like one: 8+ characters with a
 * digit), and GitHub tokens by their prefixes (ghp_, gho_, ghu_, ghs_, ghr_,
 * github_pat_). Owned. */
char *gh_redact_text(const char *text, const char *secret);
/* 1 when url has the same scheme://host[:port] as base and sits under its path. */
int gh_same_origin(const char *base, const char *url);
/* Retry delay for attempt (0-based): full jitter in [d/2, d] where
 * d = min(cap, base * 2^attempt). seed is advanced (rand_r). */
long gh_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned *seed);

typedef enum {
    GH_DONE = 0,        /* hand the answer to the caller */
    GH_RETRY,           /* 5xx: back off and retry */
    GH_RATE_PRIMARY,    /* X-RateLimit-Remaining 0: wait until reset */
    GH_RATE_SECONDARY,  /* Retry-After or "secondary rate limit" */
    GH_FAIL             /* 401, plain 403, 422...: give up with the message */
} gh_verdict;
/* What to do with an answer. body may be NULL. */
gh_verdict gh_classify(long status, const gh_response *r, const char *body);
/* Seconds to wait for a rate-limited answer at wall time `now` (epoch s):
 * Retry-After if given, else until reset (+1 s for clock skew) when the
 * budget is spent (X-RateLimit-Remaining 0), else
 * `fallback_s`; never below 1 nor above one hour and a minute. */
double gh_rate_wait_s(const gh_response *r, int64_t now, double fallback_s);

#endif
