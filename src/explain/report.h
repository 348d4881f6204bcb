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

/* ---- JSON: the one shape of an item and of a pair, for the CLI's --json
 * (pairs, similar, search) and the web API alike (README, "JSON"). ---- */

/* A JSON string of s (NULL: null), invalid UTF-8 bytes as U+FFFD. */
json_t *explain_jstr(const char *s);
/* "2023-04-01T12:00:00Z", or null for 0. */
json_t *explain_jtime(int64_t t);
/* An item kind as a JSON token: "issue", "pull_request". */
const char *explain_kind_token(item_kind k);
/* {"key","number","kind","title","state","state_reason","author","url",
 *  "created_at","updated_at","closed_at","labels":[names],"comments",
 *  "reactions","type","priority","components","versions"} (+"deleted": true). */
json_t *explain_item_json(const item *it);
/* {"id","repo","query","candidate","rank","relation","confidence","value"
 *  (3 decimals, as shown),"probability","score","known","verdict",
 *  "verdict_at"} and, with_text, "reasoning" and "value_detail" (arrays of
 * lines),"suggested_comment","comment_on","canonical". q and c (may be
 * NULL) are embedded as "query_item"/"candidate_item". */
json_t *explain_pair_json(const pair *p, const item *q, const item *c, int with_text);

/* A markdown list entry for a bot comment:
 * "- **#4606** title (closed issue) -- duplicate, high confidence (p 0.873)". */
void explain_pair_markdown(sbuf *out, const pair *p, const item *c);

#endif
