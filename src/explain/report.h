/* report.h -- presenting pairs and items to people and programs: terminal
 * lines (titles cut to a width without splitting UTF-8), JSON objects
 * (jansson) and GitHub markdown. Used by the analyze/similar/pairs/search
 * commands so every command prints a pair the same way.
 *
 * Returned json_t are new references owned by the caller; strings appended
 * to a caller's sbuf. Pure functions, thread-safe.
 */
#ifndef DP_REPORT_H
#define DP_REPORT_H

#include <jansson.h>
#include "../common/item.h"
#include "../common/pair.h"

/* Appends s cut to at most cols code points (newlines become spaces), with
 * "..." when cut. */
void explain_trunc(sbuf *out, const char *s, size_t cols);

/* "open issue", "closed pull request, completed" */
void explain_state_words(sbuf *out, const item *it);

/* One terminal line for a pair:
 * "#5693 ↔ #4606  duplicate · high · 2.289  p=0.873  <title of c>".
 * q and c may be NULL (keys only). */
void explain_pair_line(sbuf *out, const pair *p, const item *q, const item *c, size_t width);

/* {"key","number","kind","title","state","state_reason","url","created_at",...} */
json_t *explain_item_json(const item *it);
/* The pair with its reasoning as an array of sentences; q and c (may be
 * NULL) are embedded as "query_item"/"candidate_item". */
json_t *explain_pair_json(const pair *p, const item *q, const item *c);

/* A markdown list entry for a bot comment:
 * "- **#4606** title (closed issue) -- duplicate, high confidence (p 0.873)". */
void explain_pair_markdown(sbuf *out, const pair *p, const item *c);

#endif
