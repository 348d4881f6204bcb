/* explain.h -- what a maintainer reads about a pair: reasoning sentences,
 * the value (triage priority) with its breakdown, and a suggested comment,
 * together with the item the comment is meant for.
 *
 * Everything here is derived from the two items, the index (for shared
 * rare terms and signals), the ranker's hit (features), the judge's
 * judgment (relation, confidence, probabilities, judge features), the
 * canonical item of the pair's duplicate cluster and the known links. Pure
 * functions; strings returned are owned by the caller. Thread-safe:
 * nothing is written but the out-structs, so analyze explains pairs on many
 * threads at once (a linkset is read-only once built).
 *
 * Value (see explain_value): how much a maintainer gains by acting on the
 * pair now,
 *     value = strength * confidence * stake * engagement * known
 *   strength   how often pairs with this ranking evidence are duplicates
 *              among all pairs shown (match_judgment.strength): strong
 *              evidence first, whatever the tracker's linking habits
 *   confidence the probability of the relation shown (for "not related":
 *              that they are related at all)
 *   stake      duplicate: 2.0 both open (a discussion split in two: merge
 *                  them); 1.5 one open, the other closed as fixed (point
 *                  at the fix -- though a recent fix reported again is as
 *                  often a recurrence as a duplicate); 1.2 one open, the
 *                  other closed otherwise
 *              possible regression: 1.0 while the new report is open (ask
 *                  for the version and the steps, maybe reopen the fix)
 *              related: 0.6 when one is open (link them)
 *              not related: 0.1 when one is open
 *              both closed, or the item to act on already closed (a
 *                  duplicate whose copy was closed already): the open
 *                  stake of the relation times 0.3 * exp(-age / 180 days),
 *                  age = days since the later of their last updates --
 *                  nothing is left to do on items closed years ago
 *   engagement 1 + 0.15 * ln(1 + comments + reactions of both)
 *   known      0.05 when the data already links them as duplicates, 0.25
 *              when it links them otherwise (not news), else 1
 */
#ifndef DP_EXPLAIN_H
#define DP_EXPLAIN_H

#include "../common/util.h"
#include "../match/match.h"

/* Known links indexed by unordered key pair, for fast lookups when many
 * pairs are explained. Borrows the links array (which must outlive it). */
typedef struct explain_linkset explain_linkset;
explain_linkset *explain_linkset_new(const item_link *links, size_t nlinks);
/* Adds links[n0, nlinks) where links[0, n0) are the links the set holds
 * (the array grew at its end): sorts the new ones and merges, so a set that
 * grows by batches costs O(total) a batch, not a sort of everything. */
void explain_linkset_grow(explain_linkset *ls, const item_link *links, size_t nlinks);
void explain_linkset_free(explain_linkset *ls);   /* NULL ok */
/* Indices (into the links array) of the links between a and b, either
 * direction; writes up to max and returns the total count. */
size_t explain_linkset_find(const explain_linkset *ls, const char *a, const char *b, size_t *out,
                            size_t max);

typedef struct explain_input {
    const dindex *ix;
    const match_model *model;
    uint32_t qdoc, cdoc;
    const match_hit *hit;              /* the ranker's hit (features, score) */
    const match_judgment *jd;          /* the judge's decision */
    const double *jf;                  /* its judge features (JF_COUNT); NULL: none */
    uint32_t canonical;                /* doc of the pair's duplicate cluster's canonical
                                          item (may be neither); UINT32_MAX: none */
    const item_link *links;            /* known links of the repo (may be NULL) */
    size_t nlinks;
    int64_t now;                       /* "today", for staleness; seconds */
    const char *repo_url;              /* "https://github.com/o/r" or NULL */
    const explain_linkset *linkset;    /* optional index of links (NULL: scan links) */
    const match_ctx *mctx;             /* for the judge's reasons (match_judge_why); NULL ok */
    /* A query that is not an indexed doc (a new issue; qdoc is then
     * UINT32_MAX): its item, terms and signals, and the items it names
     * (match_judge_prepare). NULL for an indexed query. */
    const match_query *mq;
    const match_judge_query *jq;
} explain_input;

typedef struct explain_out {
    char *reasoning;           /* '\n'-separated plain sentences */
    double value;
    char *value_detail;        /* '\n'-separated "factor: x.xxx" lines */
    char *comment;             /* GitHub markdown; "" when nothing is worth posting */
    char *comment_on;          /* key of the item the comment is meant for; NULL with "" */
    char *canonical;           /* key of the canonical item; NULL unless a duplicate */
    int known;                 /* already linked as duplicate */
    size_t reasoning_len, value_detail_len, comment_len;   /* strlen of the three texts */
} explain_out;

void explain_pair(const explain_input *in, explain_out *out);
void explain_out_free(explain_out *o);

/* How the folded, stemmed term t is written in text s (its first 64 KB):
 * the shortest word of s, or part of a dotted/path-like word ("b" of
 * "a.b/c"), that folds to t plus a suffix of up to 5 bytes (a final "i"
 * of t may be a "y"); the first of those. Writes it to out (outn bytes
 * with the NUL); 1 when found and it fits. */
int explain_find_spelling(const char *s, const char *t, char *out, size_t outn);

/* v in decimal with thousands commas ("11,862"), cut to n bytes with
 * the NUL (no comma is written that leaves no room for a digit after). */
void explain_fmt_count(size_t v, char *buf, size_t n);

/* Appends s as inline code: `s`, backticks turned into ', newlines, returns
 * and tabs into spaces; cut at max bytes (then no partial UTF-8 sequence
 * is left and "..." follows). */
void explain_add_code(sbuf *sb, const char *s, size_t max);

/* Appends a title for markdown (NULL: ""): its first 200 bytes on one
 * line (newlines and returns become spaces), each of \`*_[]<>|~
 * escaped by a backslash. */
void explain_add_md_title(sbuf *sb, const char *s);

/* The first place in h[0, hn) whose wn bytes, folded as tolower folds
 * them in the C locale (A-Z to a-z), are w[0, wn); h when wn is 0, NULL
 * when there is none: memmem's answer in a folded copy of h, without the
 * copy, sixteen places a step where SSE2 is (explain_find_spelling asks
 * it for every place a term's stem stands in a field). */
const char *explain_memmem_ci(const char *h, size_t hn, const char *w, size_t wn);

/* Appends v as printf's "%.*f" with digits (0..6) would write it, byte for
 * byte, without printf for the usual values (about a dozen a pair, a sixth
 * of explaining's time went to printf): by integer digits when |v| < 1e6
 * and v * 10^digits, as computed, is farther from a half than its rounding
 * error -- the exact product then rounds the same way -- else (ties, NaN,
 * huge values) through printf. */
void explain_add_fixed(sbuf *sb, double v, int digits);

/* Whether needle occurs in hay ignoring ASCII case: strcasestr's answer in
 * the C locale, without its set-up per call (most haystacks are short, the
 * long ones are scanned by memchr for the needle's first byte). */
int explain_has_ci(const char *hay, const char *needle);

/* t's UTC date as dp_format_date writes it ("%Y-%m-%d", gmtime's
 * calendar), byte for byte, by arithmetic: a pair's explanation writes
 * two to four dates, and gmtime_r and strftime (time zone set-up, locale)
 * cost more than the rest of its sentence. Years outside 1000..9999 (not
 * four digits) go through dp_format_date. Returns buf. */
#define EXPLAIN_DATE_MAX 16
const char *explain_date(int64_t t, char buf[EXPLAIN_DATE_MAX]);

/* How an item is referred to in text: "#4606" for a numeric (GitHub) key,
 * the key itself otherwise ("HIVE-123"). Returns buf. */
const char *explain_ref(const char *key, char *buf, size_t n);

/* The value formula above for the relation shown. act_on: the item the
 * suggested comment asks to act on (q or c; NULL: the later, q). link: 0
 * none, 1 linked otherwise, 2 linked as duplicates. detail (may be NULL)
 * gets the "factor: x.xxx" breakdown appended. */
double explain_value(const item *q, const item *c, const match_judgment *jd, const item *act_on,
                     int link, int64_t now, sbuf *detail);

/* Which item of a duplicate cluster survives, the one place this is
 * decided (analyze, similar and apply): the one closed as fixed (a pull
 * request: merged), the older of several; else the oldest open one, unless
 * a newer open one clearly carries the discussion (twice the comments and
 * reactions, and three more); else one closed otherwise; one closed as a
 * duplicate last. Returns the index into items[0..n). */
size_t explain_canonical(const item *const *items, size_t n);
/* Why canon survives over other, in words ("#12 was closed as fixed";
 * when the newer one is kept: "the discussion is there (...)", which the
 * caller introduces); returns buf. */
const char *explain_canonical_why(const item *canon, const item *other, char *buf, size_t n);

#endif
