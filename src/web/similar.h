/* similar.h -- GET /api/similar, the pre-filing lookup (internal to
 * src/web; server.c is its only user, the unit tests call it directly).
 *
 * An issue form or an editor sends the title and body of an issue not filed
 * yet and gets the likely duplicates back as JSON (the shape of `doppel
 * similar --json`). Three parts:
 *  - A corpus per repository (analyze_corpus: items, model, index), loaded
 *    on the first request and kept: ranking a new issue against it takes
 *    milliseconds. With a persisted index that vouches for the store's items
 *    (or is behind only by new ones) it is sparse (analyze_corpus_open): the
 *    first request maps the file and reads only the items its pool needs
 *    (250k items: under a second, not the seconds of loading them all);
 *    such a corpus reads through a store handle of its own, and its
 *    requests take turns with a background thread that reads the other
 *    items, a chunk at a time, until lookups read nothing. It is loaded
 *    again when the store changed -- the repository's change sequence
 *    (every item insert, edit, deletion) or its trained model -- which is
 *    asked at most every WEB_SIMILAR_RECHECK_MS. While one request loads,
 *    the others keep ranking against the previous corpus; each request
 *    holds a reference, so a replaced corpus is freed by its last user.
 *  - A rate limit per client address (token buckets: WEB_SIMILAR_BURST at
 *    once, refilled at per_min a minute; an IPv6 client is its /64, and
 *    loopback clients are one client). The table is bounded: a new client
 *    takes a free place, else the fullest bucket's (a client with a full
 *    bucket loses nothing by being forgotten; one being limited is
 *    forgotten last).
 *  - The request check: title required (at most WEB_SIMILAR_MAX_TITLE
 *    bytes), body optional (WEB_SIMILAR_MAX_BODY), both UTF-8; k (1 to
 *    WEB_SIMILAR_MAX_K, default 5); repo (id or "owner/name"; default the
 *    only repository).
 * Nothing is written: the store handle passed in may be read-only.
 * Threads: every function may be called from any thread at once. */
#ifndef DP_WEB_SIMILAR_H
#define DP_WEB_SIMILAR_H

#include <stdint.h>
#include <sys/socket.h>

#include "web.h"

typedef struct web_similar web_similar;

/* per_min: requests a minute per client, sustained (0 = WEB_SIMILAR_PER_MIN);
 * threads: for building an index (0 = CPUs). */
web_similar *web_similar_new(unsigned per_min, int threads);
void web_similar_free(web_similar *s);   /* NULL ok; no request may be running */

/* Takes one request from client sa's bucket at now_ms (a monotonic clock):
 * 1 when it may go on, else 0 with *retry_after_s, the whole seconds until
 * the bucket holds a request again (at least 1). */
int web_similar_admit(web_similar *s, const struct sockaddr *sa, int64_t now_ms, unsigned *retry_after_s);

/* Answers GET /api/similar with params; DP_ERR only when the store failed
 * (a 500 reply, err filled). */
int web_similar_handle(web_similar *s, store *st, const web_param *params, size_t nparams, web_reply *out,
                       dp_err *err);

/* How many corpora were loaded so far (for tests: reuse, reload). */
size_t web_similar_loads(web_similar *s);
/* 1 when repo's kept corpus reads items as requests need them (for tests). */
int web_similar_sparse(web_similar *s, int64_t repo);
/* 1 when repo's kept corpus is sparse and its filler has read every item
 * (for tests; see similar.c). */
int web_similar_filled(web_similar *s, int64_t repo);

#endif
