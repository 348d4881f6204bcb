/* match_judge.c -- the second stage: what a ranked pair IS. The ranker
 * (match_rank) orders candidates by how likely each is the query's twin;
 * the judge then says, for each pair a maintainer is shown, how likely it
 * is a duplicate, related, or not related at all.
 *
 * Its features are the ranker's own evidence (score, margin, text and
 * signal overlap) plus what tells a duplicate from the pairs that only look
 * like one: the query naming the candidate as its origin ("Disabled in X",
 * "follow-up to X", "backport of X"), titles that differ only in an
 * opposite verb (enable/disable) or only in a branch or version, the same
 * template filled with another name (two datasets, two drivers), both
 * naming the same third item (siblings under one parent), a double post
 * (same author within minutes), and a candidate fixed before the query was
 * filed (a possible regression). Everything reads the query as filed and
 * the candidate as it was when the query was filed, so training on the
 * past and judging the present see the same things.
 */
#include "match_int.h"
#include "../common/hashmap.h"

#include <stdatomic.h>

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>


static const char *const jf_names[JF_COUNT] = {
    [JF_SCORE] = "score",
    [JF_MARGIN] = "margin",
    [JF_MARGIN_POS] = "margin_pos",
    [JF_SCORE_SQ] = "score_sq",
    [JF_SCORE_MARGIN] = "score_margin",
    [JF_RANK] = "inv_rank",
    [JF_TITLE_COSINE] = "title_cosine",
    [JF_TITLE_COSINE_SQ] = "title_cosine_sq",
    [JF_COSINE] = "cosine",
    [JF_COSINE_SQ] = "cosine_sq",
    [JF_BIGRAM] = "bigram_overlap",
    [JF_BIGRAM_SQ] = "bigram_overlap_sq",
    [JF_SHARED_IDF] = "shared_idf",
    [JF_TITLE_OVERLAP] = "title_overlap",
    [JF_SIGNALS] = "signals",
    [JF_LABELS] = "labels",
    [JF_VERSION] = "version",
    [JF_LEN_RATIO] = "len_ratio",
    [JF_TIME_GAP] = "time_gap",
    [JF_KIND_SAME] = "kind_same",
    [JF_POPULARITY] = "popularity",
    [JF_SAME_AUTHOR] = "same_author",
    [JF_AUTHOR_10MIN] = "author_10min",
    [JF_AUTHOR_2H] = "author_2h",
    [JF_AUTHOR_1DAY] = "author_1day",
    [JF_COPY_OTHER_AUTHOR] = "copy_other_author",
    [JF_COPY_SAME_AUTHOR] = "copy_same_author",
    [JF_TITLE_SAME] = "title_same",
    [JF_TITLE_SAME_OTHER_AUTHOR] = "title_same_other_author",
    [JF_MENTION_DUP] = "mention_dup",
    [JF_MENTION_FOLLOW] = "mention_follow",
    [JF_MENTION_PLAIN] = "mention_plain",
    [JF_MENTION_TITLE] = "mention_title",
    [JF_QREF_TITLE] = "qref_title",
    [JF_CREF_TITLE] = "cref_title",
    [JF_SHARED_REF] = "shared_ref",
    [JF_TITLE_REFS_DIFFER] = "title_refs_differ",
    [JF_OPPOSITE] = "opposite",
    [JF_VERSION_ONLY] = "version_only",
    [JF_BACKPORT] = "backport",
    [JF_SLOT_DIFF] = "slot_diff",
    [JF_CAND_OPEN_AT_FILING] = "cand_open_at_filing",
    [JF_CAND_FIXED_BEFORE] = "cand_fixed_before",
    [JF_FIX_AGE] = "fix_age",
    [JF_CAND_CLOSED_BEFORE] = "cand_closed_before",
    [JF_LATER_VERSION] = "later_version",
    [JF_VERSIONS_DIFFER] = "versions_differ",
    [JF_VERSIONS_DIFFER_COS] = "versions_differ_cos",
    [JF_FIXED_SCORE] = "fixed_score",
    [JF_OPEN_SCORE] = "open_score",
    [JF_AUTHOR_DAY_NEW_TITLE] = "author_day_new_title",
    [JF_SHARED_TITLE_IDF] = "shared_title_idf",
    [JF_TITLE_NAME_SWAP] = "title_name_swap",
    [JF_RARE_FRAMES] = "rare_frames",
    [JF_RARE_ERRORS] = "rare_errors",
};

const char *match_jfeature_name(match_jfeature f)
{
    return (unsigned)f < JF_COUNT ? jf_names[f] : "?";
}

int match_jfeature_find(const char *name)
{
    for (int i = 0; i < JF_COUNT; i++)
        if (!strcmp(jf_names[i], name)) return i;
    return -1;
}

/* ---- title words -------------------------------------------------------- */

typedef match_words words;

static int wchar(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* Lower-cased words of a title, references ("HIVE-123", "#12") left out:
 * two titles that differ only in the item they name differ in nothing a
 * reader compares. Words longer than 31 bytes are cut. */
void match_title_words(const char *t, words *out)
{
    out->n = 0;
    const unsigned char *p = (const unsigned char *)(t ? t : "");
    while (*p && out->n < MATCH_TITLE_WORDS) {
        if (*p == '#' && isdigit(p[1])) {   /* #12 */
            p++;
            while (isdigit(*p)) p++;
            continue;
        }
        if (!wchar(*p)) {
            p++;
            continue;
        }
        const unsigned char *s = p;
        int upper = 1;
        while (wchar(*p)) {
            if (islower(*p)) upper = 0;
            p++;
        }
        if (upper && isalpha(*s) && *p == '-' && isdigit(p[1])) {   /* HIVE-123 */
            p++;
            while (isdigit(*p)) p++;
            continue;
        }
        size_t n = (size_t)(p - s) < 31 ? (size_t)(p - s) : 31;
        for (size_t i = 0; i < n; i++) out->w[out->n][i] = (char)tolower(s[i]);
        out->w[out->n][n] = '\0';
        out->n++;
    }
}

static int words_has(const words *w, const char *s)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->w[i], s)) return 1;
    return 0;
}

/* Is r (n bytes) one of the inflections inflects() takes: "", "s", "e",
 * "es", "ed", "d", "ing", "ings", "er", "ers", "ion", "ions", "ment",
 * "ments", "al"? By length: a word's props ask it for every stem of the
 * word's first letter. */
static int inflection(const char *r, size_t n)
{
    switch (n) {
    case 0: return 1;
    case 1: return r[0] == 's' || r[0] == 'e' || r[0] == 'd';
    case 2: return !memcmp(r, "es", 2) || !memcmp(r, "ed", 2) || !memcmp(r, "er", 2) || !memcmp(r, "al", 2);
    case 3: return !memcmp(r, "ing", 3) || !memcmp(r, "ers", 3) || !memcmp(r, "ion", 3);
    case 4: return !memcmp(r, "ings", 4) || !memcmp(r, "ions", 4) || !memcmp(r, "ment", 4);
    case 5: return !memcmp(r, "ments", 5);
    default: return 0;
    }
}

/* inflects() of word w (wn bytes) and stem (sn bytes). */
static int inflects_n(const char *w, size_t wn, const char *stem, size_t sn)
{
    return wn >= sn && !memcmp(w, stem, sn) && inflection(w + sn, wn - sn);
}

/* Does w read as stem + one of a few inflections ("disabled" for "disabl")? */
static int inflects(const char *w, const char *stem)
{
    /* the first letter settles almost every call: this runs for each word
     * of two titles against ~60 pairs of stems, for each judged hit */
    if (w[0] != stem[0]) return 0;
    return inflects_n(w, strlen(w), stem, strlen(stem));
}

/* Opposite actions: a title with one and a title with the other describe
 * two different changes (turn a test off, then on again). */
static const char *const opposites[][2] = {
    {"enabl", "disabl"}, {"add", "remov"}, {"add", "delet"}, {"add", "drop"},
    {"allow", "disallow"}, {"allow", "forbid"}, {"allow", "prevent"}, {"allow", "deny"},
    {"show", "hid"}, {"show", "hide"}, {"start", "stop"}, {"lock", "unlock"},
    {"open", "clos"}, {"open", "close"}, {"increas", "decreas"}, {"increas", "reduc"},
    {"includ", "exclud"}, {"upgrad", "downgrad"}, {"install", "uninstall"},
    {"mount", "unmount"}, {"connect", "disconnect"}, {"creat", "delet"}, {"creat", "drop"},
    {"insert", "delet"}, {"encod", "decod"}, {"encrypt", "decrypt"}, {"compress", "decompress"},
    {"serializ", "deserializ"}, {"import", "export"}, {"read", "writ"}, {"read", "write"},
    {"min", "max"}, {"minimum", "maximum"}, {"upper", "lower"}, {"push", "pull"},
    {"load", "unload"}, {"attach", "detach"}, {"subscrib", "unsubscrib"},
    {"expand", "collaps"}, {"first", "last"}, {"sync", "async"}, {"input", "output"},
    {"send", "receiv"}, {"register", "unregister"}, {"register", "deregister"},
    {"wrap", "unwrap"}, {"pin", "unpin"}, {"block", "unblock"}, {"freez", "unfreez"},
    {"freeze", "unfreeze"}, {"ignor", "unignor"}, {"skip", "unskip"}, {"mute", "unmute"},
    {"revert", "reappl"}, {"set", "unset"}, {"deprecat", "undeprecat"},
};

static int any_inflects(const words *w, const char *stem)
{
    for (size_t i = 0; i < w->n; i++)
        if (inflects(w->w[i], stem)) return 1;
    return 0;
}

/* Words of a that b lacks. */
void match_words_minus(const words *a, const words *b, words *out)
{
    out->n = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!words_has(b, a->w[i]) && !words_has(out, a->w[i])) memcpy(out->w[out->n++], a->w[i], 32);
}

int match_opposite_titles(const words *qo, const words *co)
{
    for (size_t i = 0; i < sizeof opposites / sizeof opposites[0]; i++) {
        const char *a = opposites[i][0], *b = opposites[i][1];
        if ((any_inflects(qo, a) && any_inflects(co, b)) || (any_inflects(qo, b) && any_inflects(co, a)))
            return 1;
    }
    return 0;
}

/* A word that names a branch, a release or a copy rather than a problem. */
static int versionish(const char *w)
{
    static const char *const names[] = {"branch", "trunk", "master", "main", "release", "backport",
                                        "port", "clone", "copy", "cherry", "pick", "x", "v",
                                        "lts", "stable", "hotfix", NULL};
    for (const char *p = w; *p; p++)
        if (isdigit((unsigned char)*p)) return 1;
    for (int i = 0; names[i]; i++)
        if (w[0] == names[i][0] && !strcmp(w, names[i])) return 1;
    return 0;
}

/* A title's words as the title features compare them, found once per
 * title: each distinct word (as match_title_words cuts it) as an id --
 * equal ids <=> equal words, interned in the ctx (struct match_jcache) --
 * with what the features ask of it: the opposite-action stems it
 * inflects, whether it is versionish, whether it names a backport. An
 * indexed doc's record is made on first use and kept in the ctx
 * (match_doc_title): a doc is judged as the query of ~20 candidates, as
 * the candidate of ~20 queries, and as the later side of the pairs it is
 * newer in, and a judged pair then only compares ids and ORs bits.
 * Features read from records are the ones the word lists above give
 * (test_judge_title and test_judge_cache compare them on every pair of a
 * set of titles). */
#define JW_VERSION 1       /* versionish() */
#define JW_BACKPORT 2      /* backport_word() */
#define JW_NOSTEM 0xFF     /* six[]: the word inflects no stem */
#define JT_LOCAL 0x80000000u   /* an own record's id of a word the table lacks:
                                  equal to no table id (and none of another word
                                  of the same record) */

struct jt_rec {
    uint8_t n;        /* words of the title, repeats included (match_words.n) */
    uint8_t nd;       /* distinct words, in order of first use */
    uint8_t nstem;    /* of them, those inflecting a stem */
    uint8_t has_ord;  /* ord[] is set: the ctx lists the doc's title terms */
    uint8_t nord;     /* its title terms (match_doc_title_terms) when has_ord */
    uint8_t nlocal;   /* an own record's words the ctx's table lacks (jt_own):
                         their ids are JT_LOCAL | their index */
    uint8_t pad_[2];
    uint32_t id[];    /* [nd]; then uint8_t props[nd] (JW_*); ord[nord]: the title
                         terms' positions by idf, highest first; and only when
                         nstem (most titles inflect no stem: the bytes are not
                         spent), six[nd] (the word's stems are stems[six];
                         JW_NOSTEM: none) and stems[nstem] (two uint64_t each, bit
                         s: inflects stem_tab[s]; unaligned, read by memcpy) */
};
typedef struct jt_rec jt_rec;

static size_t jt_stems_at(size_t nd, size_t nstem, size_t nord)
{
    return sizeof(jt_rec) + nd * 5 + nord + (nstem ? nd : 0);
}
static size_t jt_size(size_t nd, size_t nstem, size_t nord)
{
    return jt_stems_at(nd, nstem, nord) + nstem * 2 * sizeof(uint64_t);
}
static inline const uint8_t *jt_props(const jt_rec *r) { return (const uint8_t *)(r->id + r->nd); }
static inline const uint8_t *jt_ord(const jt_rec *r) { return jt_props(r) + r->nd; }
static inline const uint8_t *jt_six(const jt_rec *r) { return jt_ord(r) + r->nord; }   /* when nstem */
static inline const unsigned char *jt_stems(const jt_rec *r)
{
    return (const unsigned char *)r + jt_stems_at(r->nd, r->nstem, r->nord);
}

/* The distinct stems of opposites[] and each pair as two indices. */
#define NOPP (sizeof opposites / sizeof opposites[0])
static const char *stem_tab[128];
static unsigned char stem_len[128];   /* strlen(stem_tab[s]) */
static size_t nstems;
static unsigned char opp_idx[NOPP][2];
/* The stems by first letter: those starting with byte c are
 * by_first[first_at[c] .. first_at[c + 1]) (inflects() needs the first
 * letters equal). */
static unsigned char by_first[128];
static unsigned char first_at[257];
static pthread_once_t stems_once = PTHREAD_ONCE_INIT;

static void stems_init(void)
{
    for (size_t i = 0; i < NOPP; i++)
        for (int k = 0; k < 2; k++) {
            size_t s = 0;
            while (s < nstems && strcmp(stem_tab[s], opposites[i][k])) s++;
            if (s == nstems) {   /* < 128: 2 * NOPP */
                stem_tab[nstems] = opposites[i][k];
                stem_len[nstems++] = (unsigned char)strlen(opposites[i][k]);
            }
            opp_idx[i][k] = (unsigned char)s;
        }
    size_t n = 0;
    for (int c = 0; c < 256; c++) {
        first_at[c] = (unsigned char)n;
        for (size_t s = 0; s < nstems; s++)
            if ((unsigned char)stem_tab[s][0] == c) by_first[n++] = (unsigned char)s;
    }
    first_at[256] = (unsigned char)n;
}

static inline int stem_bit(const uint64_t m[2], unsigned s) { return (int)((m[s >> 6] >> (s & 63)) & 1); }

static int backport_word(const char *w)
{
    static const char *const names[] = {"backport", "backporting", "backports", "clone", "cherry",
                                        "port", NULL};
    if (w[0] != 'b' && w[0] != 'c' && w[0] != 'p') return 0;   /* the names' first letters */
    for (int i = 0; names[i]; i++)
        if (!strcmp(w, names[i])) return 1;
    return !strncmp(w, "branch", 6);
}

/* What the features ask of word w (wn bytes): its JW_* props, and its
 * stems into stems. */
static uint8_t word_props(const char *w, size_t wn, uint64_t stems[2])
{
    stems[0] = stems[1] = 0;
    unsigned char c = (unsigned char)w[0];
    for (size_t i = first_at[c]; i < first_at[c + 1]; i++) {
        unsigned s = by_first[i];   /* the first letters are equal */
        if (inflects_n(w, wn, stem_tab[s], stem_len[s])) stems[s >> 6] |= 1ULL << (s & 63);
    }
    return (uint8_t)((versionish(w) ? JW_VERSION : 0) | (backport_word(w) ? JW_BACKPORT : 0));
}

/* A title's record before its words have ids: its distinct words
 * (w.w[at[i]], len[i] bytes, hash h[i]) and their props; the order of
 * its title terms by idf when has_ord. */
typedef struct jt_draft {
    match_words w;
    size_t nd, nstem;
    uint8_t at[MATCH_TITLE_WORDS], len[MATCH_TITLE_WORDS], props[MATCH_TITLE_WORDS];
    uint64_t h[MATCH_TITLE_WORDS], stems[MATCH_TITLE_WORDS][2];
    int has_ord;
    size_t nord;
    uint8_t ord[255];
} jt_draft;

/* d->ord: the positions of terms t[0..n) by idf, highest first (an
 * insertion sort: titles have a few terms). None past 255 terms: slot_diff
 * then merges as without a list. */
static void jt_draft_order(const match_ctx *ctx, const uint32_t *t, size_t n, jt_draft *d)
{
    d->has_ord = t && n <= sizeof d->ord;
    d->nord = d->has_ord ? n : 0;
    double idf[sizeof d->ord];
    for (size_t i = 0; i < d->nord; i++) {
        double x = index_idf(ctx->ix, t[i]);
        size_t k = i;
        for (; k > 0 && idf[k - 1] < x; k--) {
            idf[k] = idf[k - 1];
            d->ord[k] = d->ord[k - 1];
        }
        idf[k] = x;
        d->ord[k] = (uint8_t)i;
    }
}

static void jt_draft_make(const char *title, jt_draft *d)
{
    pthread_once(&stems_once, stems_init);
    match_title_words(title, &d->w);
    d->nd = d->nstem = d->nord = 0;
    d->has_ord = 0;
    for (size_t i = 0; i < d->w.n; i++) {
        size_t len = strlen(d->w.w[i]);
        uint64_t h = dp_hash(d->w.w[i], len);
        size_t j = 0;
        while (j < d->nd && (d->h[j] != h || strcmp(d->w.w[d->at[j]], d->w.w[i]))) j++;
        if (j < d->nd) continue;
        d->at[j] = (uint8_t)i;
        d->len[j] = (uint8_t)len;
        d->h[j] = h;
        d->props[j] = word_props(d->w.w[i], len, d->stems[j]);
        d->nstem += (d->stems[j][0] | d->stems[j][1]) != 0;
        d->nd++;
    }
}

/* ---- the ctx's records and words ---- */

/* An arena block: > jt_size(64, 64). Mapped apart from the heap: blocks
 * allocated among a rank worker's short-lived allocations kept ~10 MB of
 * the heap around them from being given back at 48k. */
#define JT_BLOCK ((size_t)1 << 20)

struct match_jcache {
    pthread_mutex_t mu;          /* guards all below but the slots' reads */
    size_t ndocs;
    _Atomic(jt_rec *) *slot;     /* [ndocs]: doc's record, NULL until made */
    dp_idxmap map;               /* word -> id */
    uint32_t *woff;              /* [nw]: word id is text + woff[id] (NUL-ended) */
    size_t nw, capw;
    char *text;
    size_t ntext, captext;
    char **blk;                  /* the records' arena: blocks never move, so a */
    size_t nblk, capblk, used;   /*   published record stays put; used: of the last */
};

match_jcache *match_jcache_new(size_t ndocs)
{
    match_jcache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->ndocs = ndocs;
    c->slot = xcalloc(ndocs ? ndocs : 1, sizeof *c->slot);
    return c;
}

void match_jcache_free(match_jcache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nblk; i++) munmap(c->blk[i], JT_BLOCK);
    free(c->blk);
    free(c->slot);
    free(c->woff);
    free(c->text);
    dp_idxmap_free(&c->map);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static uint64_t jc_word_hash(const void *ctx, uint32_t id)
{
    const match_jcache *c = ctx;
    const char *w = c->text + c->woff[id];
    return dp_hash(w, strlen(w));
}

/* The id of word w (len bytes, hash h), -1 when the table lacks it.
 * Under c->mu. */
static int64_t jc_find(const match_jcache *c, const char *w, size_t len, uint64_t h)
{
    if (!c->map.cap) return -1;
    for (size_t s = dp_idxmap_first(&c->map, h); c->map.slot[s]; s = dp_idxmap_step(&c->map, s)) {
        uint32_t id = c->map.slot[s] - 1;
        const char *x = c->text + c->woff[id];
        if (!strncmp(x, w, len) && !x[len]) return id;
    }
    return -1;
}

/* The id of word w (len bytes, hash h), added when new. Under c->mu. */
static uint32_t jc_intern(match_jcache *c, const char *w, size_t len, uint64_t h)
{
    dp_idxmap_reserve(&c->map, c->nw + 1, jc_word_hash, c);
    size_t s;
    for (s = dp_idxmap_first(&c->map, h); c->map.slot[s]; s = dp_idxmap_step(&c->map, s)) {
        uint32_t id = c->map.slot[s] - 1;
        const char *x = c->text + c->woff[id];
        if (!strncmp(x, w, len) && !x[len]) return id;
    }
    if (c->nw == c->capw) {
        c->capw = c->capw ? c->capw * 2 : 1024;
        c->woff = xrealloc(c->woff, c->capw * sizeof *c->woff);
    }
    if (c->ntext + len + 1 > c->captext) {
        c->captext = c->captext ? c->captext * 2 : 16384;
        while (c->ntext + len + 1 > c->captext) c->captext *= 2;
        c->text = xrealloc(c->text, c->captext);
    }
    memcpy(c->text + c->ntext, w, len + 1);
    c->woff[c->nw] = (uint32_t)c->ntext;
    c->ntext += len + 1;
    dp_idxmap_put(&c->map, s, (uint32_t)c->nw);
    return (uint32_t)c->nw++;
}

/* n bytes (4-aligned: a record's ids are its widest aligned reads) of
 * the arena. Under c->mu. */
static void *jc_alloc(match_jcache *c, size_t n)
{
    n = (n + 3) & ~(size_t)3;
    if (!c->nblk || c->used + n > JT_BLOCK) {
        if (c->nblk == c->capblk) {
            c->capblk = c->capblk ? c->capblk * 2 : 64;
            c->blk = xrealloc(c->blk, c->capblk * sizeof *c->blk);
        }
        void *b = mmap(NULL, JT_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED) dp_oom(JT_BLOCK);
        c->blk[c->nblk++] = b;
        c->used = 0;
    }
    void *p = c->blk[c->nblk - 1] + c->used;
    c->used += n;
    return p;
}

/* Fills record r (room for jt_size(d->nd, d->nstem, d->nord)) from
 * draft d, its words interned in c -- or, unless intern, only looked up
 * there (a word the table lacks: JT_LOCAL | i, counted in r->nlocal).
 * Under c->mu. */
static void jt_fill(match_jcache *c, const jt_draft *d, jt_rec *r, int intern)
{
    memset(r, 0, sizeof *r);
    r->n = (uint8_t)d->w.n;
    r->nd = (uint8_t)d->nd;
    r->nstem = (uint8_t)d->nstem;
    r->has_ord = (uint8_t)d->has_ord;
    r->nord = (uint8_t)d->nord;
    uint8_t *props = (uint8_t *)(r->id + d->nd), *ord = props + d->nd, *six = ord + d->nord;
    memcpy(ord, d->ord, d->nord);
    unsigned char *stems = (unsigned char *)r + jt_stems_at(d->nd, d->nstem, d->nord);
    size_t k = 0;
    for (size_t i = 0; i < d->nd; i++) {
        const char *w = d->w.w[d->at[i]];
        int64_t id = intern ? jc_intern(c, w, d->len[i], d->h[i]) : jc_find(c, w, d->len[i], d->h[i]);
        if (id < 0) {
            id = (int64_t)(JT_LOCAL | i);
            r->nlocal++;
        }
        r->id[i] = (uint32_t)id;
        props[i] = d->props[i];
        if (!d->nstem) continue;
        six[i] = JW_NOSTEM;
        if (d->stems[i][0] | d->stems[i][1]) {
            memcpy(stems + 16 * k, d->stems[i], 16);
            six[i] = (uint8_t)k++;
        }
    }
}

const jt_rec *match_doc_title(const match_ctx *ctx, uint32_t doc)
{
    match_jcache *c = match_ctx_jcache(ctx);
    jt_rec *r = atomic_load_explicit(&c->slot[doc], memory_order_acquire);
    if (r) return r;
    jt_draft d;   /* the words read outside the lock */
    jt_draft_make(index_item(ctx->ix, doc)->title, &d);
    size_t ntt;
    const uint32_t *tt = match_doc_title_terms(ctx, doc, &ntt);
    jt_draft_order(ctx, tt, ntt, &d);
    pthread_mutex_lock(&c->mu);
    r = atomic_load_explicit(&c->slot[doc], memory_order_relaxed);
    if (!r) {   /* no other thread made it meanwhile */
        r = jc_alloc(c, jt_size(d.nd, d.nstem, d.nord));
        jt_fill(c, &d, r, 1);
        atomic_store_explicit(&c->slot[doc], r, memory_order_release);
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

void match_doc_title_prefetch(const match_ctx *ctx, uint32_t doc, int step)
{
    match_jcache *c = match_ctx_jcache(ctx);
    if (doc >= c->ndocs) return;
    if (!step) {
        __builtin_prefetch(&c->slot[doc]);
        return;
    }
    const jt_rec *r = atomic_load_explicit(&c->slot[doc], memory_order_relaxed);
    if (r) __builtin_prefetch(r);
}

/* What an own record needs to look its local words up again: the draft
 * it was filled from and the table's size when they were last looked up. */
typedef struct jt_local {
    size_t gen;
    jt_draft d;
} jt_local;

/* The record of a title that is no indexed doc's (owned: free()). Its
 * words are looked up in the ctx's table but never added: a long-lived
 * ctx (serve's) would otherwise grow by every title typed into `similar`.
 * A word the table lacks gets a local id, and *local (owned: free(); NULL
 * when every word was found) keeps what jt_localize needs. */
static jt_rec *jt_own(const match_ctx *ctx, const char *title, jt_local **local)
{
    match_jcache *c = match_ctx_jcache(ctx);
    jt_local *l = xmalloc(sizeof *l);
    jt_draft_make(title, &l->d);
    jt_rec *r = xmalloc(jt_size(l->d.nd, l->d.nstem, l->d.nord));
    pthread_mutex_lock(&c->mu);
    jt_fill(c, &l->d, r, 0);
    l->gen = c->nw;
    pthread_mutex_unlock(&c->mu);
    if (!r->nlocal) {
        free(l);
        l = NULL;
    }
    *local = l;
    return r;
}

/* Before own record r (of query jq) is compared with other: a word the
 * table lacked when r's words were looked up can equal one of other's only
 * if other's record was made since (its ids then reach past l->gen); the
 * local words are then looked up again, in place -- an own record belongs
 * to one query, judged on one thread. */
static void jt_localize(const match_ctx *ctx, const match_judge_query *jq, const jt_rec *other)
{
    jt_rec *r = jq->own_trec;
    jt_local *l = jq->own_local;
    if (!r || !l || !r->nlocal || !other) return;
    size_t i = 0;
    while (i < other->nd && other->id[i] < l->gen) i++;
    if (i == other->nd) return;
    match_jcache *c = match_ctx_jcache(ctx);
    pthread_mutex_lock(&c->mu);
    for (size_t k = 0; k < r->nd; k++) {
        if (!(r->id[k] & JT_LOCAL)) continue;
        int64_t id = jc_find(c, l->d.w.w[l->d.at[k]], l->d.len[k], l->d.h[k]);
        if (id < 0) continue;
        r->id[k] = (uint32_t)id;
        r->nlocal--;
    }
    l->gen = c->nw;
    pthread_mutex_unlock(&c->mu);
}

size_t match_jcache_words(const match_ctx *ctx)
{
    match_jcache *c = match_ctx_jcache(ctx);
    pthread_mutex_lock(&c->mu);
    size_t n = c->nw;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int ids_has(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

/* What match_words_minus(a, b) leaves, summed: its size, the stems, whether all
 * are versionish and whether one names a backport. */
typedef struct tminus {
    size_t n;
    uint64_t stems[2];
    int all_version, backport;
} tminus;

static void title_minus(const jt_rec *a, const jt_rec *b, tminus *out)
{
    memset(out, 0, sizeof *out);
    out->all_version = 1;
    const uint8_t *props = jt_props(a), *six = a->nstem ? jt_six(a) : NULL;
    const unsigned char *stems = jt_stems(a);
    for (size_t i = 0; i < a->nd; i++) {
        if (ids_has(b->id, b->nd, a->id[i])) continue;
        out->n++;
        if (six && six[i] != JW_NOSTEM) {
            uint64_t m[2];
            memcpy(m, stems + 16 * six[i], 16);
            out->stems[0] |= m[0];
            out->stems[1] |= m[1];
        }
        if (!(props[i] & JW_VERSION)) out->all_version = 0;
        if (props[i] & JW_BACKPORT) out->backport = 1;
    }
}

int match_only_versions(const words *qo, const words *co)
{
    if (!qo->n && !co->n) return 0;
    for (size_t i = 0; i < qo->n; i++)
        if (!versionish(qo->w[i])) return 0;
    for (size_t i = 0; i < co->n; i++)
        if (!versionish(co->w[i])) return 0;
    return 1;
}

int match_backport_words(const words *w)
{
    static const char *const names[] = {"backport", "backporting", "backports", "clone", "cherry",
                                        "port", NULL};
    for (int i = 0; names[i]; i++)
        if (words_has(w, names[i])) return 1;
    for (size_t i = 0; i < w->n; i++)
        if (!strncmp(w->w[i], "branch", 6)) return 1;
    return 0;
}

/* ---- versions -------------------------------------------------------------- */

/* Compares dotted version strings numerically ("2.10" > "2.9"); leading
 * non-digits ("v", "release-") are skipped; a string without digits is
 * smaller than any version. */
static int version_cmp(const char *a, const char *b)
{
    while (*a && !isdigit((unsigned char)*a)) a++;
    while (*b && !isdigit((unsigned char)*b)) b++;
    if (!*a || !*b) return (*a != 0) - (*b != 0);
    for (;;) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y) return x < y ? -1 : 1;
        int ma = *a == '.' && isdigit((unsigned char)a[1]), mb = *b == '.' && isdigit((unsigned char)b[1]);
        if (!ma || !mb) return ma - mb;
        a++;
        b++;
    }
}

static const char *max_version(const strvec *v)
{
    const char *best = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const char *s = v->v[i];
        if (!strpbrk(s, "0123456789")) continue;
        if (!best || version_cmp(s, best) > 0) best = s;
    }
    return best;
}

/* The latest version an item names: its affected versions, else the
 * versions its text mentions. */
static const char *item_version(const item *it, const text_signals *sig)
{
    const char *v = max_version(&it->versions);
    return v ? v : sig ? max_version(&sig->versions) : NULL;
}

/* ---- references ------------------------------------------------------------- */

static void refs_of(const match_ctx *ctx, const item *it, text_refs *title, text_refs *all)
{
    text_refs_opts o = {.numeric = 1, .bare = 1, .jira = 1, .repo = ctx->repo_name};
    text_refs_scan(it->title, &o, title);
    text_refs_scan(it->title, &o, all);
    text_refs_scan(it->body, &o, all);
}

const match_refs *match_doc_refs(const match_ctx *ctx, uint32_t doc)
{
    _Atomic(match_refs *) *slot = &match_ctx_refs(ctx)[doc];
    match_refs *r = atomic_load_explicit(slot, memory_order_acquire);
    if (r) return r;
    match_refs *mine = xcalloc(1, sizeof *mine);
    refs_of(ctx, index_item(ctx->ix, doc), &mine->title, &mine->all);
    match_refs *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    text_refs_free(&mine->title);   /* another thread was first: use its scan */
    text_refs_free(&mine->all);
    free(mine);
    return expected;
}

/* Third items both name (not each other). */
static size_t shared_refs(const text_refs *a, const text_refs *b, const char *ka, const char *kb)
{
    size_t n = 0;
    if (!b->n) return 0;   /* most candidates name no item: skip the compares */
    for (size_t i = 0; i < a->n; i++) {
        const char *k = a->v[i].key;
        if (!strcmp(k, ka) || !strcmp(k, kb)) continue;
        if (text_refs_find(b, k)) n++;
    }
    return n;
}

/* ---- the features ------------------------------------------------------------- */

/* The title terms (not bigrams) of mq into jq->tterms: the ctx's list
 * when mq reads an indexed doc's forward terms, else found in mq's terms. */
static void title_terms(const match_ctx *ctx, const match_query *mq, match_judge_query *jq)
{
    jq->own_tterms = NULL;
    jq->tidf = NULL;
    if (mq->qdoc < index_ndocs(ctx->ix)) {
        index_doc_terms dt;
        index_doc_terms_get(ctx->ix, mq->qdoc, &dt);
        if (dt.terms == mq->terms && (jq->tterms = match_doc_title_terms(ctx, mq->qdoc, &jq->ntterms))) {
            jq->tidf = match_doc_title_idf(ctx, mq->qdoc);
            return;
        }
    }
    uint32_t *v = xmalloc((mq->nterms ? mq->nterms : 1) * sizeof *v);
    jq->ntterms = 0;
    for (size_t i = 0; i < mq->nterms; i++)
        if (mq->tf[i][FIELD_TITLE] && !match_term_bigram(ctx, mq->terms[i])) v[jq->ntterms++] = mq->terms[i];
    jq->tterms = jq->own_tterms = v;
}

/* Where t is in v[0..n) (ascending, distinct), n when it is not: a
 * binary search inline (bsearch's call per probe was a tenth of it). */
static size_t terms_find(const uint32_t *v, size_t n, uint32_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && v[lo] == t ? lo : n;
}

/* slot_diff's maxima (idf of the rarest title word only the query has,
 * only the candidate has, both have) by the candidate's title terms
 * listed in the ctx (ct[0..nct)): a merge with the query's title terms
 * and a search of the two whole term lists only for the words one title
 * lacks. Maxima, so the order of the visits does not change them. */
static void slot_max_listed(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                            const index_doc_terms *cd, const uint32_t *ct, size_t nct, double mx[3])
{
    size_t k = 0;
    for (size_t i = 0; i < jq->ntterms; i++) {
        uint32_t t = jq->tterms[i];
        while (k < nct && ct[k] < t) k++;
        double idf = index_idf(ctx->ix, t);
        if (k < nct && ct[k] == t) {
            if (idf > mx[2]) mx[2] = idf;
        } else if (idf > mx[0] && terms_find(cd->terms, cd->n, t) == cd->n) {
            mx[0] = idf;
        }
    }
    for (size_t j = 0; j < nct; j++) {
        uint32_t t = ct[j];
        double idf = index_idf(ctx->ix, t);
        if (idf > mx[1] && terms_find(mq->terms, mq->nterms, t) == mq->nterms) mx[1] = idf;
    }
}

/* slot_max_listed with both title term lists visited by idf, highest
 * first (qord, cord: the records' orders of jq->tterms and ct): each
 * maximum is the first term that qualifies, so the search of a whole term
 * list is made for a term or two, not for every term one title lacks.
 * idf > 0 always (index_idf); the breaks keep the max-of-positives the
 * listed way takes all the same. */
static void slot_max_ordered(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                             const index_doc_terms *cd, const uint32_t *ct, const float *cidf, size_t nct,
                             const uint8_t *cord, double mx[3])
{
    int only_q = 0, shared = 0;
    for (size_t k = 0; k < jq->ntterms && !(only_q && shared); k++) {
        uint32_t t = jq->tterms[jq->tord[k]];
        double idf = jq->tidf ? (double)jq->tidf[jq->tord[k]] : index_idf(ctx->ix, t);
        if (!(idf > 0)) break;
        if (terms_find(ct, nct, t) < nct) {
            if (!shared) mx[2] = idf;
            shared = 1;
        } else if (!only_q && terms_find(cd->terms, cd->n, t) == cd->n) {
            mx[0] = idf;
            only_q = 1;
        }
    }
    for (size_t k = 0; k < nct; k++) {
        uint32_t t = ct[cord[k]];
        double idf = cidf ? (double)cidf[cord[k]] : index_idf(ctx->ix, t);
        if (!(idf > 0)) break;
        if (terms_find(mq->terms, mq->nterms, t) == mq->nterms) {
            mx[1] = idf;
            break;
        }
    }
}

/* slot_max_listed by a pass over the candidate's whole term list (a
 * sparse ctx lists no title terms). */
static void slot_max_scan(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                          const index_doc_terms *cd, double mx[3])
{
    for (size_t i = 0; i < jq->ntterms; i++) {
        uint32_t t = jq->tterms[i];
        size_t j = terms_find(cd->terms, cd->n, t);
        double idf = index_idf(ctx->ix, t);
        if (j < cd->n) {
            if (cd->tf[j][FIELD_TITLE] && idf > mx[2]) mx[2] = idf;
        } else if (idf > mx[0]) {
            mx[0] = idf;
        }
    }
    for (size_t j = 0; j < cd->n; j++) {
        uint32_t t = cd->terms[j];
        if (!cd->tf[j][FIELD_TITLE] || match_term_bigram(ctx, t) ||
            terms_find(mq->terms, mq->nterms, t) < mq->nterms)
            continue;
        double idf = index_idf(ctx->ix, t);
        if (idf > mx[1]) mx[1] = idf;
    }
}

/* Rare title words on each side that the other lacks, as idf over log N:
 * high on both sides when one template was filled with two different
 * names ("Add the X dataset" / "Add the Y dataset"); *shared_max the
 * rarest title word both share. The query's title terms are listed once
 * (qt->terms) and looked up among the candidate's terms, the candidate's
 * title terms among the query's, instead of merging both whole term lists
 * (a few hundred terms each) for every pair. */
static double slot_diff(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq, uint32_t cdoc,
                        double *shared_max)
{
    index_doc_terms cd;
    index_doc_terms_get(ctx->ix, cdoc, &cd);
    double mx[3] = {0, 0, 0};   /* query only, candidate only, shared */
    size_t nct;
    const uint32_t *ct = match_doc_title_terms(ctx, cdoc, &nct);
    const jt_rec *cr = ct && jq->tord ? match_doc_title(ctx, cdoc) : NULL;
    if (cr && cr->has_ord) slot_max_ordered(ctx, mq, jq, &cd, ct, match_doc_title_idf(ctx, cdoc), nct, jt_ord(cr), mx);
    else if (ct) slot_max_listed(ctx, mq, jq, &cd, ct, nct, mx);
    else slot_max_scan(ctx, mq, jq, &cd, mx);
    double qmax = mx[0], cmax = mx[1], smax = mx[2];
    double norm = log(1.0 + (double)index_ndocs(ctx->ix));
    double m = qmax < cmax ? qmax : cmax;
    *shared_max = norm > 0 ? smax / norm : 0;
    return norm > 0 ? m / norm : 0;
}

/* A doc's frames or error lines (the first MATCH_FAILURE_SCAN), as the
 * same-failure features read them: hashed and sorted once, each string's
 * rarity looked up once (tokenizing a frame costs more than comparing it).
 * An indexed doc's are kept in the ctx (match_doc_sigs): a doc is read as
 * the query of its ~20 candidates, as the candidate of ~20 queries, and as
 * the later side (the query) of the pairs it is newer in. */
#define MATCH_FAILURE_SCAN 64
typedef struct sig_memo {
    const strvec *sv;            /* the strings (NULL: none) */
    size_t n;                    /* how many are read: at most MATCH_FAILURE_SCAN */
    uint64_t *h;                 /* [n] hashes, ascending ... */
    uint8_t *at;                 /* [n] ... and the string each is */
    _Atomic uint32_t *df1;       /* [n] rarity + 1 by string; 0 = not looked up yet (any
                                    thread may fill it in: the same value whoever does) */
} sig_memo;
struct match_sigs {
    sig_memo frames, errors;
};
struct judge_signals {
    match_sigs own;              /* a query that is not an indexed doc: its own memos */
    const match_sigs *use;       /* the ctx's or &own; NULL: not read yet */
    text_tokenizer *tk;          /* for index_text_min_df: made on first use */
};
static void sig_memo_free(sig_memo *m);

void match_judge_prepare(const match_ctx *ctx, const match_query *mq, match_judge_query *jq)
{
    memset(jq, 0, sizeof *jq);
    /* most queries show no frame or error line: no memo for them */
    if (mq->sig && (mq->sig->frames.n || mq->sig->errors.n)) jq->sig = xcalloc(1, sizeof *jq->sig);
    jq->title_refs = &jq->own_title;
    jq->refs = &jq->own_refs;
    if (!mq->it) return;
    title_terms(ctx, mq, jq);
    if (mq->qdoc < index_ndocs(ctx->ix) && index_item(ctx->ix, mq->qdoc) == mq->it) {
        /* an indexed doc as the index sees it: the ctx's records, no copy */
        jq->title = match_doc_title(ctx, mq->qdoc);
        /* its terms' order by idf, when tterms is the list it orders */
        if (!jq->own_tterms && jq->title->has_ord && jq->title->nord == jq->ntterms) jq->tord = jt_ord(jq->title);
        const match_refs *r = match_doc_refs(ctx, mq->qdoc);
        jq->title_refs = &r->title;
        jq->refs = &r->all;
        return;
    }
    jq->title = jq->own_trec = jt_own(ctx, mq->it->title, &jq->own_local);
    refs_of(ctx, mq->it, &jq->own_title, &jq->own_refs);
}

void match_judge_query_free(match_judge_query *jq)
{
    text_refs_free(&jq->own_title);
    text_refs_free(&jq->own_refs);
    if (jq->sig && jq->sig->tk) text_tokenizer_free(jq->sig->tk);
    if (jq->sig) {
        sig_memo_free(&jq->sig->own.frames);
        sig_memo_free(&jq->sig->own.errors);
    }
    free(jq->sig);
    jq->sig = NULL;
    free(jq->own_tterms);
    free(jq->own_trec);
    free(jq->own_local);
    jq->own_tterms = NULL;
    jq->own_trec = NULL;
    jq->own_local = NULL;
    jq->tord = NULL;
    jq->title = NULL;
}

static void mention_features(const match_ctx *ctx, const match_judge_query *jq, const item *q,
                             const item *c, uint32_t cdoc, double jf[JF_COUNT])
{
    const text_ref *r = text_refs_find(jq->refs, c->key);
    if (r) {
        if (r->kind == TEXT_REF_DUP || r->kind == TEXT_REF_DUP_BY) jf[JF_MENTION_DUP] = 1;
        else if (r->kind == TEXT_REF_FOLLOW || r->kind == TEXT_REF_FIXES) jf[JF_MENTION_FOLLOW] = 1;
        else jf[JF_MENTION_PLAIN] = 1;
    }
    /* the title's references are among the title + body's (refs_of) */
    jf[JF_MENTION_TITLE] = r && text_refs_find(jq->title_refs, c->key) != NULL;
    jf[JF_QREF_TITLE] = jq->title_refs->n > 0;
    const match_refs *cr = match_doc_refs(ctx, cdoc);
    const text_refs *ct = &cr->title, *ca = &cr->all;
    jf[JF_CREF_TITLE] = ct->n > 0;
    if (jq->title_refs->n && ct->n) {
        int same = 0;
        for (size_t i = 0; i < ct->n && !same; i++) same = text_refs_find(jq->title_refs, ct->v[i].key) != NULL;
        jf[JF_TITLE_REFS_DIFFER] = !same;
    }
    size_t shared = shared_refs(jq->refs, ca, q->key, c->key);
    jf[JF_SHARED_REF] = shared ? log1p((double)shared) : 0;   /* log1p(0) is 0: most share none */
}

/* The title features, from the titles' word records (the values the word
 * lists of match_title_words and match_words_minus give: test_judge_title
 * checks it on every pair of a set of titles). ctp: the candidate's records
 * when the caller has them (NULL: the ctx's, match_doc_title). A pair only
 * compares word ids and ORs the words' bits. */
static void title_features(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                           uint32_t cdoc, const jt_rec *ctp, double jf[JF_COUNT])
{
    const jt_rec *qt = jq->title;
    if (!ctp) ctp = match_doc_title(ctx, cdoc);
    jt_localize(ctx, jq, ctp);
    tminus qo, co;
    title_minus(qt, ctp, &qo);
    title_minus(ctp, qt, &co);
    int opp = 0;
    /* an opposite needs a stem on each side: most pairs have none */
    int both = (qo.stems[0] | qo.stems[1]) && (co.stems[0] | co.stems[1]);
    for (size_t i = 0; both && i < NOPP && !opp; i++) {
        unsigned a = opp_idx[i][0], b = opp_idx[i][1];
        opp = (stem_bit(qo.stems, a) && stem_bit(co.stems, b)) || (stem_bit(qo.stems, b) && stem_bit(co.stems, a));
    }
    jf[JF_OPPOSITE] = opp;
    jf[JF_VERSION_ONLY] = (qo.n || co.n) && qo.all_version && co.all_version;
    jf[JF_BACKPORT] = qo.backport || co.backport;
    jf[JF_TITLE_SAME] = qt->n > 0 && !qo.n && !co.n;
    jf[JF_TITLE_NAME_SWAP] = qo.n >= 1 && qo.n <= 2 && co.n >= 1 && co.n <= 2 && qt->n - qo.n >= 2;
    jf[JF_SLOT_DIFF] = slot_diff(ctx, mq, jq, cdoc, &jf[JF_SHARED_TITLE_IDF]);
}

/* The candidate as it stood when the query was filed. */
static int same_author(const item *a, const item *b)
{
    return a->author && b->author && *a->author && !strcasecmp(a->author, b->author);
}

/* Both name affected versions and share none. */
static int versions_differ(const item *q, const item *c)
{
    if (!q->versions.n || !c->versions.n) return 0;
    for (size_t i = 0; i < q->versions.n; i++)
        if (sv_contains(&c->versions, q->versions.v[i])) return 0;
    return 1;
}

static void state_features(const match_ctx *ctx, const match_query *mq, const item *q,
                           const item *c, uint32_t cdoc, double jf[JF_COUNT])
{
    jf[JF_VERSIONS_DIFFER] = versions_differ(q, c);
    if (item_is_open(c) || !c->closed_at || !q->created_at || c->closed_at >= q->created_at) {
        jf[JF_CAND_OPEN_AT_FILING] = 1;
        return;
    }
    /* the same person closing one and filing the other within a day is a
     * re-post (a typo fixed, a better title), not a fix and a new report */
    int repost = (same_author(q, c) && q->created_at - c->closed_at < 86400) ||
                 (c->closed_at - c->created_at < 3600 && q->created_at - c->closed_at < 3600);
    if (item_closed_fixed(c) && !repost) {
        jf[JF_CAND_FIXED_BEFORE] = 1;
        jf[JF_FIX_AGE] = log1p((double)(q->created_at - c->closed_at) / 86400.0);
        const char *qv = item_version(q, mq->sig);
        const char *cv = item_version(c, index_doc_signals(ctx->ix, cdoc));
        jf[JF_LATER_VERSION] = qv && cv && version_cmp(qv, cv) > 0;
    } else {
        jf[JF_CAND_CLOSED_BEFORE] = 1;
    }
}

/* Same author: how close in time, as three nested windows. */
static void author_features(const item *q, const item *c, double same, double jf[JF_COUNT])
{
    jf[JF_SAME_AUTHOR] = same;
    if (!same || !q->created_at || !c->created_at) return;
    double gap = fabs((double)(q->created_at - c->created_at));
    jf[JF_AUTHOR_10MIN] = gap <= 600;
    jf[JF_AUTHOR_2H] = gap <= 7200;
    jf[JF_AUTHOR_1DAY] = gap <= 86400;
}

/* The bends of the ranker's evidence (see match.h). */
static void derived_features(double jf[JF_COUNT])
{
    double s = jf[JF_SCORE], m = jf[JF_MARGIN], same = jf[JF_SAME_AUTHOR];
    jf[JF_MARGIN_POS] = m > 0 ? m : 0;
    jf[JF_SCORE_SQ] = s * s / 100.0;
    jf[JF_SCORE_MARGIN] = s * m / 10.0;
    jf[JF_TITLE_COSINE_SQ] = jf[JF_TITLE_COSINE] * jf[JF_TITLE_COSINE];
    jf[JF_COSINE_SQ] = jf[JF_COSINE] * jf[JF_COSINE];
    jf[JF_BIGRAM_SQ] = jf[JF_BIGRAM] * jf[JF_BIGRAM];
    int copy = jf[JF_COSINE] > 0.9;
    /* a copy by another account within the hour is a re-post, not a clone */
    jf[JF_COPY_OTHER_AUTHOR] = copy && !same && jf[JF_TIME_GAP] >= log1p(1.0 / 24);
    jf[JF_COPY_SAME_AUTHOR] = copy && same;
    jf[JF_TITLE_SAME_OTHER_AUTHOR] = jf[JF_TITLE_SAME] > 0 && !same;
    jf[JF_VERSIONS_DIFFER_COS] = jf[JF_VERSIONS_DIFFER] * jf[JF_COSINE];
    jf[JF_FIXED_SCORE] = jf[JF_CAND_FIXED_BEFORE] * s / 10.0;
    jf[JF_OPEN_SCORE] = jf[JF_CAND_OPEN_AT_FILING] * s / 10.0;
    jf[JF_AUTHOR_DAY_NEW_TITLE] = jf[JF_AUTHOR_1DAY] * (1.0 - jf[JF_TITLE_COSINE]);
}

/* ---- the same failure ----------------------------------------------------------- */

/* Fills m from sv (NULL: empty): one allocation, freed by sig_memo_free. */
static void sig_memo_fill(sig_memo *m, const strvec *sv)
{
    memset(m, 0, sizeof *m);
    if (!sv || !sv->n) return;
    m->sv = sv;
    m->n = sv->n < MATCH_FAILURE_SCAN ? sv->n : MATCH_FAILURE_SCAN;
    char *blk = xcalloc(m->n, sizeof *m->h + sizeof *m->df1 + sizeof *m->at);
    m->h = (uint64_t *)blk;
    m->df1 = (_Atomic uint32_t *)(blk + m->n * sizeof *m->h);
    m->at = (uint8_t *)(blk + m->n * (sizeof *m->h + sizeof *m->df1));
    for (size_t i = 0; i < m->n; i++) {   /* insertion sort: at most 64 */
        uint64_t h = dp_hash(sv->v[i], strlen(sv->v[i]));
        size_t k = i;
        for (; k > 0 && m->h[k - 1] > h; k--) {
            m->h[k] = m->h[k - 1];
            m->at[k] = m->at[k - 1];
        }
        m->h[k] = h;
        m->at[k] = (uint8_t)i;
    }
}

static void sig_memo_free(sig_memo *m)
{
    free(m->h);   /* the block's start */
    memset(m, 0, sizeof *m);
}

static void sigs_fill(match_sigs *s, const text_signals *sg)
{
    sig_memo_fill(&s->frames, sg ? &sg->frames : NULL);
    sig_memo_fill(&s->errors, sg ? &sg->errors : NULL);
}

void match_sigs_free(match_sigs *s)
{
    if (!s) return;
    sig_memo_free(&s->frames);
    sig_memo_free(&s->errors);
    free(s);
}

const match_sigs *match_doc_sigs(const match_ctx *ctx, uint32_t doc)
{
    _Atomic(match_sigs *) *slot = &match_ctx_sigs(ctx)[doc];
    match_sigs *s = atomic_load_explicit(slot, memory_order_acquire);
    if (s) return s;
    match_sigs *mine = xcalloc(1, sizeof *mine);
    sigs_fill(mine, index_doc_signals(ctx->ix, doc));
    match_sigs *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    match_sigs_free(mine);   /* another thread was first: use its memos */
    return expected;
}

/* The query's string (memo m) equal to the candidate's k-th by hash (memo
 * c), or -1; *lo: where the search of m's hashes starts, left at the first
 * >= c's k-th, so a visit of c's hashes ascending merges the two lists
 * instead of a binary search each. The candidate's string is read only on
 * a hash match: its pointer was a cache miss a string (no frame matches
 * for most pairs). */
static int sig_memo_find(const sig_memo *m, const sig_memo *c, size_t k, size_t *lo)
{
    uint64_t h = c->h[k];
    while (*lo < m->n && m->h[*lo] < h) ++*lo;
    for (size_t i = *lo; i < m->n && m->h[i] == h; i++)
        if (strcmp(m->sv->v[m->at[i]], c->sv->v[c->at[k]]) == 0) return m->at[i];
    return -1;
}

/* How many of the candidate's strings (the first MATCH_FAILURE_SCAN, memo
 * c) the query (memo m) holds too and are rare in the corpus: their rarest
 * term in at most max_df items. Signal lists hold distinct strings, so
 * each counts once; the count does not depend on the order they are
 * visited in. */
static size_t rare_shared(const dindex *ix, struct judge_signals *js, const sig_memo *m, const sig_memo *c,
                          uint32_t max_df)
{
    size_t n = 0, lo = 0;
    for (size_t k = 0; k < c->n; k++) {   /* c->h ascending (sig_memo_fill) */
        int i = sig_memo_find(m, c, k, &lo);
        if (i < 0) continue;
        uint32_t df1 = atomic_load_explicit(&m->df1[i], memory_order_relaxed);
        if (!df1) {
            if (!js->tk) js->tk = index_tokenizer_new(ix);
            df1 = index_text_min_df(ix, js->tk, m->sv->v[i], strlen(m->sv->v[i])) + 1;
            atomic_store_explicit(&m->df1[i], df1, memory_order_relaxed);
        }
        uint32_t df = df1 - 1;
        if (df && df <= max_df) n++;
    }
    return n;
}

/* The query's memos: the ctx's when it is an indexed doc as the index
 * sees it, else its own (made on first use). */
static const match_sigs *query_sigs(const match_ctx *ctx, const match_query *mq, struct judge_signals *js)
{
    if (js->use) return js->use;
    if (mq->qdoc < index_ndocs(ctx->ix) && mq->sig == index_doc_signals(ctx->ix, mq->qdoc)) {
        js->use = match_doc_sigs(ctx, mq->qdoc);
    } else {
        sigs_fill(&js->own, mq->sig);
        js->use = &js->own;
    }
    return js->use;
}

/* The most items a frame or error line may be in and still be rare here. */
static uint32_t rare_signal_df(const dindex *ix)
{
    double share = (double)index_ndocs(ix) * MATCH_RARE_SIGNAL_SHARE;
    return share > MATCH_RARE_SIGNAL_MIN_DF ? (uint32_t)share : MATCH_RARE_SIGNAL_MIN_DF;
}

static void failure_features(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                             uint32_t cdoc, double jf[JF_COUNT])
{
    const text_signals *qs = mq->sig, *cs = index_doc_signals(ctx->ix, cdoc);
    if (!qs || !cs || !jq->sig) return;
    struct judge_signals *js = jq->sig;
    uint32_t max_df = rare_signal_df(ctx->ix);
    int fr = qs->frames.n && cs->frames.n, er = qs->errors.n && cs->errors.n;
    if (!fr && !er) return;
    const match_sigs *qm = query_sigs(ctx, mq, js), *cm = match_doc_sigs(ctx, cdoc);
    if (fr) jf[JF_RARE_FRAMES] = (double)rare_shared(ctx->ix, js, &qm->frames, &cm->frames, max_df);
    if (er) jf[JF_RARE_ERRORS] = (double)rare_shared(ctx->ix, js, &qm->errors, &cm->errors, max_df);
}

/* match_judge_features with the candidate's title records ct (NULL: made
 * from its item). */
static void judge_features(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                           const match_hit *h, int rank, const jt_rec *ct, double jf[JF_COUNT])
{
    memset(jf, 0, JF_COUNT * sizeof *jf);
    const double *f = h->feat;
    jf[JF_SCORE] = h->score;
    jf[JF_MARGIN] = h->margin;
    jf[JF_RANK] = 1.0 / (double)(rank > 0 ? rank : 1);
    jf[JF_TITLE_COSINE] = f[FEAT_TITLE_COSINE];
    jf[JF_COSINE] = f[FEAT_COSINE];
    jf[JF_BIGRAM] = f[FEAT_BIGRAM_OVERLAP];
    jf[JF_SHARED_IDF] = f[FEAT_SHARED_IDF];
    jf[JF_TITLE_OVERLAP] = f[FEAT_TITLE_OVERLAP];
    jf[JF_SIGNALS] = f[FEAT_EXCEPTION] + f[FEAT_FRAMES] + f[FEAT_ERRORS] + f[FEAT_PATHS];
    jf[JF_LABELS] = f[FEAT_LABELS];
    jf[JF_VERSION] = f[FEAT_VERSION];
    jf[JF_LEN_RATIO] = f[FEAT_LEN_RATIO];
    jf[JF_TIME_GAP] = f[FEAT_TIME_GAP];
    jf[JF_KIND_SAME] = f[FEAT_KIND_SAME];
    jf[JF_POPULARITY] = f[FEAT_POPULARITY];
    const item *q = mq->it, *c = index_item(ctx->ix, h->doc);
    if (q && c) {
        author_features(q, c, f[FEAT_SAME_AUTHOR], jf);
        mention_features(ctx, jq, q, c, h->doc, jf);
        title_features(ctx, mq, jq, h->doc, ct, jf);   /* q: jq->title is set */
        state_features(ctx, mq, q, c, h->doc, jf);
    }
    failure_features(ctx, mq, jq, h->doc, jf);
    derived_features(jf);
}

void match_judge_features(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                          const match_hit *h, int rank, double jf[JF_COUNT])
{
    judge_features(ctx, mq, jq, h, rank, NULL, jf);
}

void match_judge_features_cand(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                               const match_hit *h, int rank, const match_judge_query *cq,
                               double jf[JF_COUNT])
{
    if (cq) jt_localize(ctx, cq, jq->title);   /* its record is read as the candidate's */
    judge_features(ctx, mq, jq, h, rank, cq ? cq->title : NULL, jf);
}

/* ---- probabilities and the decision --------------------------------------- */

double match_judge_link_rate(const match_judge_model *j)
{
    double r = j->link_rate;
    if (!(r > 0)) return 1;
    return r < MATCH_LINK_RATE_MIN ? MATCH_LINK_RATE_MIN : r > 1 ? 1 : r;
}

/* The fitted softmax over not related / related / duplicate. */
static void softmax(const match_judge_model *j, const double jf[JF_COUNT], double p[RELATION_COUNT])
{
    double z[RELATION_COUNT], mx = -1e300;
    for (int r = 0; r < RELATION_COUNT; r++) {
        z[r] = j->b[r];
        for (int f = 0; f < JF_COUNT; f++)
            if (j->w[r][f] != 0) z[r] += j->w[r][f] * (jf[f] - j->mean[f]) / j->scale[f];
        if (z[r] > mx) mx = z[r];
    }
    double sum = 0;
    for (int r = 0; r < RELATION_COUNT; r++) sum += (p[r] = exp(z[r] - mx));
    for (int r = 0; r < RELATION_COUNT; r++) p[r] /= sum;
}

void match_judge_probs(const match_model *m, const double jf[JF_COUNT], double p[RELATION_COUNT])
{
    const match_judge_model *j = &m->judge;
    if (!j->trained) {   /* a model from before the judge: the ranker's view */
        double pd = match_prob_margin(m, jf[JF_SCORE], jf[JF_MARGIN]);
        p[RELATION_DUPLICATE] = pd;
        p[RELATION_RELATED] = 0;
        p[RELATION_NONE] = 1 - pd;
        return;
    }
    double s[RELATION_COUNT];
    softmax(j, jf, s);
    double linked = s[RELATION_DUPLICATE] + s[RELATION_RELATED];
    double any = linked / match_judge_link_rate(j);
    if (any > 1) any = 1;
    double dup = linked > 0 ? s[RELATION_DUPLICATE] / linked : 0;
    p[RELATION_DUPLICATE] = any * dup;
    p[RELATION_RELATED] = any * (1 - dup);
    p[RELATION_NONE] = 1 - any;
}

/* One template filled with two names: each title has a rare word the
 * other lacks, the words they share are all common, and they share enough
 * of them to read alike. */
static int template_case(const double jf[JF_COUNT])
{
    if (jf[JF_SLOT_DIFF] < MATCH_TEMPLATE_NAME) return 0;
    /* "Add the X dataset" / "Add the Y dataset": only common words around
     * the names; "X has missing field names" / "Y has missing field names":
     * most of the title shared around the names */
    return (jf[JF_SHARED_TITLE_IDF] <= MATCH_TEMPLATE_SHARED && jf[JF_TITLE_OVERLAP] >= 0.2) ||
           jf[JF_TITLE_NAME_SWAP] > 0;
}

/* Fixed long ago, or fixed before the later version the report names. */
static int regression_case(const double jf[JF_COUNT])
{
    return jf[JF_CAND_FIXED_BEFORE] > 0 &&
           (jf[JF_LATER_VERSION] > 0 || jf[JF_FIX_AGE] >= log1p(MATCH_REGRESSION_DAYS));
}

confidence_level match_judge_level(const match_model *m, relation_kind rel, double p)
{
    const match_judge_model *j = &m->judge;
    double hi = j->trained ? j->thr_high[rel] : m->thr_high;
    double med = j->trained ? j->thr_medium[rel] : m->thr_medium;
    return p >= hi ? CONFIDENCE_HIGH : p >= med ? CONFIDENCE_MEDIUM : CONFIDENCE_LOW;
}

void match_judge_decide(const match_model *m, const double jf[JF_COUNT], const double p[RELATION_COUNT],
                        match_judgment *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->p, p, sizeof out->p);
    out->pr_pair = jf[JF_KIND_SAME] == 0;
    out->regression = regression_case(jf);
    /* a double post -- one person, minutes apart, the same text -- stays a
     * duplicate whatever its new title says */
    out->double_post = !out->pr_pair && jf[JF_AUTHOR_10MIN] > 0 && jf[JF_COSINE] >= MATCH_DOUBLE_POST_TEXT;
    out->template_twins = template_case(jf) && !out->double_post;
    out->series = jf[JF_AUTHOR_1DAY] > 0 && jf[JF_TITLE_COSINE] < MATCH_SERIES_TITLE && !out->double_post;
    out->same_failure = jf[JF_RARE_FRAMES] >= MATCH_SAME_FAILURE_FRAMES || jf[JF_RARE_ERRORS] >= 1;
    double any = p[RELATION_DUPLICATE] + p[RELATION_RELATED];
    double dup = any > 0 ? p[RELATION_DUPLICATE] / any : 0;   /* duplicate, given related at all */
    /* the floor: the same failure is related at least this likely; which
     * relation it is stays the model's call (dup), and the probability
     * shown is the joint one, not a certainty the floor does not have */
    out->failure_lifted = out->same_failure && any < 0.5 && !out->double_post;
    if (out->failure_lifted) any = MATCH_SAME_FAILURE_ANY;
    out->p_any = any;
    if (out->double_post) {
        /* certain whatever the model says: the same words from the same hand */
        out->relation = RELATION_DUPLICATE;
        out->p_shown = 1;
    } else if (any < 0.5) {
        out->relation = RELATION_NONE;
        out->p_shown = 1 - any;
    } else if (out->pr_pair || out->regression) {
        /* "duplicate" is not on offer: whatever joins them makes them related */
        out->relation = RELATION_RELATED;
        out->p_shown = 1;
    } else if (out->template_twins || out->series) {
        /* two instances of a request; how sure "related" is: as for any pair */
        out->relation = RELATION_RELATED;
        out->p_shown = 1 - dup > 0.5 ? 1 - dup : 0.5;
    } else {
        out->relation = dup >= 0.5 ? RELATION_DUPLICATE : RELATION_RELATED;
        out->p_shown = dup >= 0.5 ? dup : 1 - dup;
    }
    if (out->failure_lifted) out->p_shown *= MATCH_SAME_FAILURE_ANY;
    out->confidence = match_judge_level(m, out->relation, out->p_shown);
    double pop = match_prob_margin(m, jf[JF_SCORE], jf[JF_MARGIN]) / match_judge_link_rate(&m->judge);
    out->strength = pop > 1 ? 1 : pop;
}

void match_judge_hit(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                     const match_hit *h, int rank, match_judgment *out)
{
    double jf[JF_COUNT], p[RELATION_COUNT];
    match_judge_features(ctx, mq, jq, h, rank, jf);
    match_judge_probs(ctx->model, jf, p);
    match_judge_decide(ctx->model, jf, p, out);
}

/* ---- explaining a judgment --------------------------------------------------- */

static void join_words(const words *w, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->n && o + 1 < n; i++) {
        int k = snprintf(out + o, n - o, "%s%s", i ? " " : "", w->w[i]);
        if (k < 0 || (size_t)k >= n - o) {
            out[o] = '\0';
            break;
        }
        o += (size_t)k;
    }
}

/* The opposite pair split between the two titles, query's word first. */
static int find_opposite(const words *qo, const words *co, char a[32], char b[32])
{
    for (size_t i = 0; i < sizeof opposites / sizeof opposites[0]; i++)
        for (int d = 0; d < 2; d++) {
            const char *x = opposites[i][d], *y = opposites[i][1 - d];
            for (size_t p = 0; p < qo->n; p++)
                for (size_t q = 0; q < co->n; q++)
                    if (inflects(qo->w[p], x) && inflects(co->w[q], y)) {
                        memcpy(a, qo->w[p], 32);
                        memcpy(b, co->w[q], 32);
                        return 1;
                    }
        }
    return 0;
}

/* The line of text around the first mention of key, trimmed to a readable
 * span: the reporter's own words, quoted as written. */
static int mention_span(const char *text, const char *key, char *out, size_t n)
{
    if (!text || !key || !*key) return 0;
    int numeric = isdigit((unsigned char)key[0]);
    char pat[64];
    snprintf(pat, sizeof pat, "%s%s", numeric ? "#" : "", key);
    const char *hit = NULL;
    for (const char *p = strstr(text, pat); p; p = strstr(p + 1, pat)) {
        const char *e = p + strlen(pat);
        if (isalnum((unsigned char)*e) || (p > text && isalnum((unsigned char)p[-1]) && !numeric)) continue;
        hit = p;
        break;
    }
    if (!hit) return 0;
    const char *ls = hit, *le = hit;
    while (ls > text && ls[-1] != '\n' && hit - ls < 70) ls--;
    while (*le && *le != '\n' && le - hit < 70) le++;
    while (ls < hit && (*ls == ' ' || *ls == '\t' || *ls == '*' || *ls == '>' || *ls == '-')) ls++;
    while (le > hit && (le[-1] == ' ' || le[-1] == '\r' || le[-1] == '\t')) le--;
    size_t len = (size_t)(le - ls);
    if (len + 1 > n) len = n - 1;
    /* never cut inside a UTF-8 sequence */
    while (len > 0 && ((unsigned char)ls[len] & 0xC0) == 0x80) len--;
    memcpy(out, ls, len);
    out[len] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '\t' || *p == '\r') *p = ' ';
    return len > 0;
}

/* match_judge_why of query item q, whose title and body name qa. */
static void why_of(const match_ctx *ctx, const item *q, const text_refs *qa, uint32_t cdoc,
                   match_judge_reasons *out)
{
    memset(out, 0, sizeof *out);
    const item *c = index_item(ctx->ix, cdoc);
    if (!q || !c) return;
    words qw, cw, qo, co;
    match_title_words(q->title, &qw);
    match_title_words(c->title, &cw);
    match_words_minus(&qw, &cw, &qo);
    match_words_minus(&cw, &qw, &co);
    find_opposite(&qo, &co, out->opposite[0], out->opposite[1]);
    join_words(&qo, out->diff[0], sizeof out->diff[0]);
    join_words(&co, out->diff[1], sizeof out->diff[1]);
    if (!mention_span(q->title, c->key, out->mention, sizeof out->mention))
        mention_span(q->body, c->key, out->mention, sizeof out->mention);
    const text_refs *ca = &match_doc_refs(ctx, cdoc)->all;
    for (size_t i = 0; i < qa->n && !out->shared_ref[0]; i++) {
        const char *k = qa->v[i].key;
        if (strcmp(k, q->key) && strcmp(k, c->key) && text_refs_find(ca, k))
            snprintf(out->shared_ref, sizeof out->shared_ref, "%s", k);
    }
}

void match_judge_why(const match_ctx *ctx, uint32_t qdoc, uint32_t cdoc, match_judge_reasons *out)
{
    const item *q = index_item(ctx->ix, qdoc);
    if (!q) {
        memset(out, 0, sizeof *out);
        return;
    }
    why_of(ctx, q, &match_doc_refs(ctx, qdoc)->all, cdoc, out);
}

void match_judge_why_query(const match_ctx *ctx, const match_query *mq, const match_judge_query *jq,
                           uint32_t cdoc, match_judge_reasons *out)
{
    why_of(ctx, mq->it, jq->refs, cdoc, out);
}
