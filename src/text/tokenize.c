/* tokenize.c -- code-aware tokenizer: Unicode folding, identifier
 * splitting, number normalisation, stop words and Snowball stemming.
 *
 * Text is first NFKC-normalised (utf8proc) so "ＦＵＬＬ" reads as "FULL"
 * while case is still known: camelCase splitting needs it. It is then cut
 * into chunks of word characters (Unicode letters, digits, marks) joined by
 * connectors (. _ - / \ $ # @ and "::"). A chunk with connectors
 * ("org.apache.Foo", "src/a/b.c", "ORA-00942", "max_block_size") is
 * emitted whole, folded and unstemmed, then (code_split) each part is
 * emitted as an extra token. A camelCase word is emitted whole (stemmed)
 * plus its parts. Numbers: "2.7.1"-like versions are kept whole, 2-4 digit
 * numbers kept (HTTP 404, ports, years), longer numbers, hex addresses and
 * hashes dropped: they are unique per report and only add noise.
 */
#include "text.h"
#include "text_int.h"
#include "../common/hashmap.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define TOK_MAX 96        /* longer tokens are base64 blobs, not words */

/* Stems of recent words, per tokenizer: Snowball took a fifth of the
 * index build's CPU time, and words repeat (a few thousand make most of
 * any text). A stem is a function of the word alone, so a cached one is
 * the stem Snowball gives. Direct-mapped: a word's slot is its hash's low
 * bits; a collision replaces. Words or stems longer than STEM_WMAX are
 * not cached. */
#define STEM_SLOTS 16384
#define STEM_WMAX 31   /* a slot is then 64 bytes: one cache line (see stem_cache_new) */
#define STEM_LAZY 512   /* stems before the cache is made: a query's tokenizer
                           (one per call) never makes its 1 MB */
typedef struct stem_slot {
    unsigned char wlen, slen;   /* wlen 0: empty */
    char w[STEM_WMAX], s[STEM_WMAX];
} stem_slot;
_Static_assert(sizeof(stem_slot) == 64, "a stem slot fills one cache line");

/* The tokens of recent words, per tokenizer. A plain word (a run of word
 * characters without connectors, as emit_word() gets it) always gives the
 * same tokens (its folded, stemmed whole, then its camelCase parts), and
 * words repeat: in 50k real issue texts 90% of the 4.2M plain words were
 * found here, and the checks, folding, stop word and stem cache lookups a
 * found word skips were most of text_tokenize_cb()'s time. A slot keeps a
 * word and its tokens, each marked whole or part: the whole's `extra` is
 * the caller's, a part's is 1. Direct-mapped, like the stem cache; a word
 * longer than WORD_WMAX or whose tokens do not fit (2.6% of them, mostly
 * long camelCase names) is not cached: 128-byte slots that take them
 * measured no faster. */
#define WORD_SLOTS 16384
#define WORD_WMAX 24    /* a slot is then 64 bytes: one cache line */
#define WORD_OMAX 38    /* its tokens: (length | part << 7, bytes, NUL) each */
/* Words before the cache is made, so that a query's tokenizer (one item)
 * does not: a fresh 1 MB table costs this VM's page faults, up to 3 ms.
 * At 512 (as STEM_LAZY) texts of 4-16 kB took 4 times as long through a
 * new tokenizer, at 32768 a 228 kB one 2.6 times; at 65536 three of
 * the datasets' 94k texts make one (0.9 to 3 MB, 98k to 376k words). */
#define WORD_LAZY 65536
typedef struct word_slot {
    uint64_t key[WORD_WMAX / 8];   /* the word, packed by word_key() */
    unsigned char wlen, olen;      /* wlen 0: empty */
    char out[WORD_OMAX];
} word_slot;
_Static_assert(sizeof(word_slot) == 64, "a word slot fills one cache line");

struct text_tokenizer {
    text_opts o;
    struct sb_stemmer *stem;
    stem_slot *cache;   /* [STEM_SLOTS], after STEM_LAZY stems */
    size_t nstem;       /* stems asked before the cache was made */
    word_slot *words;   /* [WORD_SLOTS], after WORD_LAZY words */
    size_t nword;       /* words seen before that cache was made */
    char buf[TOK_MAX * 4 + 8];
};

void text_opts_default(text_opts *o)
{
    o->stem = 1;
    o->stopwords = 1;
    o->code_split = 1;
}

text_tokenizer *text_tokenizer_new(const text_opts *o)
{
    text_tokenizer *tk = xcalloc(1, sizeof *tk);
    if (o) tk->o = *o;
    else text_opts_default(&tk->o);
    if (tk->o.stem) {
        tk->stem = sb_stemmer_new("english", NULL);
        if (!tk->stem) tk->o.stem = 0;   /* libstemmer without english: no stemming */
    }
    return tk;
}

void text_tokenizer_free(text_tokenizer *tk)
{
    if (!tk) return;
    if (tk->stem) sb_stemmer_delete(tk->stem);
    free(tk->cache);
    free(tk->words);
    free(tk);
}

/* Snowball's English stop list, plus the stems of contractions that the
 * apostrophe split leaves behind ("don't" -> "don"). Sorted for bsearch. */
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
    "are", "aren", "as", "at", "be", "because", "been", "before", "being", "below",
    "between", "both", "but", "by", "can", "cannot", "could", "couldn", "did", "didn",
    "do", "does", "doesn", "doing", "don", "down", "during", "each", "few", "for", "from",
    "further", "had", "hadn", "has", "hasn", "have", "haven", "having", "he", "her", "here",
    "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "isn",
    "it", "its", "itself", "just", "ll", "me", "more", "most", "mustn", "my", "myself", "no",
    "nor", "not", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours",
    "ourselves", "out", "over", "own", "re", "same", "shan", "she", "should", "shouldn", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "ve", "very", "was", "wasn", "we", "were", "weren", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "won", "would", "wouldn", "you", "your",
    "yours", "yourself", "yourselves",
};

#define NSTOP (sizeof stopwords / sizeof *stopwords)
#define STOP_MAXLEN 10   /* "themselves", "yourselves" */

/* Stop words by first letter: stop_first[c] .. stop_first[c + 1] in the
 * sorted list, so a lookup compares a handful of words of the right
 * length instead of a binary search with strcmp (every token asks). */
static unsigned char stop_first[257];
static unsigned char stop_len[NSTOP];
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static void stop_init(void)
{
    for (size_t j = 0; j < NSTOP; j++) stop_len[j] = (unsigned char)strlen(stopwords[j]);
    size_t i = 0;
    for (int c = 0; c < 256; c++) {
        stop_first[c] = (unsigned char)i;
        while (i < NSTOP && (unsigned char)stopwords[i][0] == c) i++;
    }
    stop_first[256] = (unsigned char)i;
}

static int is_stopword_n(const char *w, size_t n)
{
    if (n == 0 || n > STOP_MAXLEN) return 0;
    pthread_once(&stop_once, stop_init);
    unsigned char c = (unsigned char)w[0];
    for (size_t i = stop_first[c]; i < stop_first[c + 1]; i++)
        if (stop_len[i] == n && memcmp(stopwords[i], w, n) == 0) return 1;
    return 0;
}

int text_is_stopword(const char *w)
{
    return is_stopword_n(w, strlen(w));
}

/* ---- character classes --------------------------------------------------- */

/* The byte classes of text_int.h. */
const unsigned char text_byte_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['_'] = TEXT_IDENT, ['$'] = TEXT_IDENT, ['.'] = TEXT_DOT,
};

/* Length of the word character at s (0 if it is not one). */
static size_t word_char(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return text_byte_class[s[0]] & TEXT_ALNUM;
    utf8proc_int32_t cp;
    utf8proc_ssize_t l = utf8proc_iterate(s, (utf8proc_ssize_t)n, &cp);
    if (l <= 0) return 0;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return (size_t)l;
    default:
        return 0;
    }
}

/* Length of a byte-length of a non-word char at s (>=1). */
static size_t any_char(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return 1;
    utf8proc_int32_t cp;
    utf8proc_ssize_t l = utf8proc_iterate(s, (utf8proc_ssize_t)n, &cp);
    return l > 0 ? (size_t)l : 1;
}

static int is_conn(int c)
{
    return c == '.' || c == '_' || c == '-' || c == '/' || c == '\\' || c == '$' || c == '#' ||
           c == '@';
}

/* ---- emitting ------------------------------------------------------------ */

typedef struct emit_ctx {
    text_tokenizer *tk;
    text_token_cb cb;
    void *ctx;
    word_slot *rec;   /* the slot taking the current word's tokens, or NULL */
} emit_ctx;

/* Hands a token of the current word to the callback (a part's extra is
 * 1, a whole's the word's) and adds it to e->rec, the word's slot being
 * filled, if it fits; if not, e->rec becomes NULL: the word is not cached. */
static void emit_tok(emit_ctx *e, const char *t, size_t n, int extra, int part)
{
    word_slot *r = e->rec;
    if (r && r->olen + n + 2 <= WORD_OMAX) {
        r->out[r->olen] = (char)(n | (size_t)part << 7);
        memcpy(r->out + r->olen + 1, t, n);
        r->out[r->olen + 1 + n] = '\0';
        r->olen = (unsigned char)(r->olen + n + 2);
    } else {
        e->rec = NULL;
    }
    e->cb(e->ctx, t, n, extra | part);
}

/* Folds w[0..n) into tk->buf (ASCII fast path, else utf8proc casefold).
 * Returns the length, or 0 if the result does not fit. */
static size_t fold(text_tokenizer *tk, const char *w, size_t n)
{
    /* ASCII: lower-cased as it is checked, in one pass */
    size_t i = 0;
    if (n <= TOK_MAX) {
        for (; i < n; i++) {   /* tolower() of ASCII, in every locale */
            unsigned char c = (unsigned char)w[i];
            if (c >= 0x80) break;
            tk->buf[i] = (char)text_c_tolower(c);
        }
        if (i == n) {
            tk->buf[n] = '\0';
            return n;
        }
    } else {
        while (i < n && (unsigned char)w[i] < 0x80) i++;
        if (i == n) return 0;   /* too long for a word */
    }
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &out,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    size_t len = 0;
    if (r > 0 && (size_t)r <= TOK_MAX * 2) {
        memcpy(tk->buf, out, (size_t)r);
        tk->buf[r] = '\0';
        len = (size_t)r;
    }
    free(out);
    return len;
}

static int all_digits(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!text_c_digit((unsigned char)w[i])) return 0;
    return n > 0;
}

/* Hex addresses, hashes and uuid pieces: unique per report, pure noise. */
static int is_hex_junk(const char *w, size_t n)
{
    if (n >= 3 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) return 1;
    if (n < 8) return 0;
    int dig = 0, let = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)w[i];
        if (text_c_digit((unsigned char)c)) dig = 1;
        else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) let = 1;
        else return 0;
    }
    return dig && let;
}

/* Snowball's stem of tk->buf[0..n), in place; returns its length. */
static size_t stem_snowball(text_tokenizer *tk, size_t n)
{
    const sb_symbol *s = sb_stemmer_stem(tk->stem, (const sb_symbol *)tk->buf, (int)n);
    int sl = sb_stemmer_length(tk->stem);
    if (s && sl > 0 && (size_t)sl <= sizeof tk->buf - 1) {
        memmove(tk->buf, s, (size_t)sl);
        tk->buf[sl] = '\0';
        n = (size_t)sl;
    }
    return n;
}

/* A cache, zeroed, on 64-byte boundaries: a lookup (a likely miss in a
 * 1 MB table) then loads one cache line, not two. */
static void *cache_new(size_t bytes)
{
    void *c = aligned_alloc(64, bytes);
    if (!c) dp_oom(bytes);
    memset(c, 0, bytes);
    return c;
}

/* stem_snowball through the tokenizer's cache. */
static size_t stem_word(text_tokenizer *tk, size_t n)
{
    if (!tk->cache && ++tk->nstem > STEM_LAZY) tk->cache = cache_new(STEM_SLOTS * sizeof(stem_slot));
    if (n > STEM_WMAX || !tk->cache) return stem_snowball(tk, n);
    stem_slot *e = &tk->cache[dp_hash(tk->buf, n) & (STEM_SLOTS - 1)];
    if (e->wlen == n && memcmp(e->w, tk->buf, n) == 0) {
        memcpy(tk->buf, e->s, e->slen);
        tk->buf[e->slen] = '\0';
        return e->slen;
    }
    char w[STEM_WMAX];
    memcpy(w, tk->buf, n);
    size_t sl = stem_snowball(tk, n);
    if (sl <= STEM_WMAX) {
        e->wlen = (unsigned char)n;
        e->slen = (unsigned char)sl;
        memcpy(e->w, w, n);
        memcpy(e->s, tk->buf, sl);
    }
    return sl;
}

/* Emits the folded word in tk->buf[0..n): stop words dropped, stemmed. */
static void emit_folded(emit_ctx *e, size_t n, int extra, int part)
{
    text_tokenizer *tk = e->tk;
    if (n < 2 && (unsigned char)tk->buf[0] < 0x80) return;
    if (tk->o.stopwords && is_stopword_n(tk->buf, n)) return;
    if (tk->o.stem) {
        int alpha = 1;
        for (size_t i = 0; i < n; i++)
            if (text_c_digit((unsigned char)tk->buf[i])) { alpha = 0; break; }
        if (alpha) n = stem_word(tk, n);
    }
    emit_tok(e, tk->buf, n, extra, part);
}

/* Number of ASCII camelCase parts boundaries in w; fills starts[]. */
static size_t camel_parts(const char *w, size_t n, size_t *starts, size_t max)
{
    size_t k = 0;
    starts[k++] = 0;
    for (size_t i = 1; i < n && k < max; i++) {
        unsigned char p = (unsigned char)w[i - 1], c = (unsigned char)w[i];
        if (p >= 0x80 || c >= 0x80) return 1;
        int bound = ((text_c_lower(p) || text_c_digit(p)) && text_c_upper(c)) ||
                    (text_c_upper(p) && text_c_upper(c) && i + 1 < n && text_c_lower((unsigned char)w[i + 1]));
        if (bound) starts[k++] = i;
    }
    return k;
}

/* The tokens of a run of word characters without connectors. */
static void word_tokens(emit_ctx *e, const char *w, size_t n, int extra)
{
    if (is_hex_junk(w, n)) return;
    if (all_digits(w, n)) {
        if (n < 2 || n > 4) return;
        memcpy(e->tk->buf, w, n);
        e->tk->buf[n] = '\0';
        emit_tok(e, e->tk->buf, n, extra, 0);
        return;
    }
    size_t starts[16];
    size_t k = e->tk->o.code_split ? camel_parts(w, n, starts, 16) : 1;
    size_t fl = fold(e->tk, w, n);
    if (fl) emit_folded(e, fl, extra, 0);
    if (k < 2) return;
    for (size_t i = 0; i < k; i++) {
        size_t st = starts[i], en = i + 1 < k ? starts[i + 1] : n;
        size_t pl = fold(e->tk, w + st, en - st);
        if (pl) emit_folded(e, pl, extra, 1);
    }
}

/* Packs w[0..n) (1 <= n <= WORD_WMAX) into key[] and returns its slot in
 * the word cache. 8 bytes a word; the last 1-7 bytes by loads that may
 * overlap (the word's length, compared too, tells them apart), the rest
 * zero: a lookup then compares three words, not bytes, and hashes as it
 * packs (memcmp and dp_hash calls cost as much as the rest of a hit). */
static size_t word_key(const char *w, size_t n, uint64_t key[WORD_WMAX / 8])
{
    uint64_t h = n, x;
    uint32_t a, b;
    size_t i = 0, k = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, w + i, 8);
        key[k++] = x;
        h = (h ^ x) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    size_t t = n - i;   /* 0..7 bytes left */
    const unsigned char *p = (const unsigned char *)w + i;
    if (t >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + t - 4, 4);
        x = a | (uint64_t)b << 32;
    } else if (t) {
        x = p[0] | (uint32_t)p[t / 2] << 8 | (uint32_t)p[t - 1] << 16;
    } else {
        x = 0;
    }
    if (k < WORD_WMAX / 8) key[k++] = x;
    while (k < WORD_WMAX / 8) key[k++] = 0;
    h = (h ^ x) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (WORD_SLOTS - 1);
}

/* Calls back the tokens kept in a slot, as word_tokens() gave them. */
static void word_replay(emit_ctx *e, const word_slot *sl, int extra)
{
    for (size_t p = 0; p < sl->olen;) {
        unsigned char h = (unsigned char)sl->out[p];
        size_t n = h & 127;
        e->cb(e->ctx, sl->out + p + 1, n, extra | h >> 7);
        p += n + 2;
    }
}

/* A run of word characters without connectors: its tokens through the
 * tokenizer's word cache. */
static void emit_word(emit_ctx *e, const char *w, size_t n, int extra)
{
    text_tokenizer *tk = e->tk;
    if (n == 0 || n > TOK_MAX) return;
    if (!tk->words && ++tk->nword > WORD_LAZY) tk->words = cache_new(WORD_SLOTS * sizeof(word_slot));
    if (n > WORD_WMAX || !tk->words) {
        word_tokens(e, w, n, extra);
        return;
    }
    uint64_t key[WORD_WMAX / 8];
    word_slot *sl = &tk->words[word_key(w, n, key)];
    if (sl->wlen == n && memcmp(sl->key, key, sizeof key) == 0) {
        word_replay(e, sl, extra);
        return;
    }
    word_slot rec = {.wlen = (unsigned char)n};
    memcpy(rec.key, key, sizeof key);
    e->rec = &rec;
    word_tokens(e, w, n, extra);
    if (e->rec) *sl = rec;   /* all its tokens fit */
    e->rec = NULL;
}

/* "2.7.1", "v1.4", "0.23.0": digits joined by dots. */
static int is_version(const char *c, size_t n)
{
    if (n && (c[0] == 'v' || c[0] == 'V')) { c++; n--; }
    if (n < 3 || !text_c_digit((unsigned char)c[0])) return 0;
    size_t dots = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        if (text_c_digit((unsigned char)c[i])) {
            if (++run > 4) return 0;
        } else if (c[i] == '.' && run > 0) {
            dots++;
            run = 0;
        } else return 0;
    }
    return run > 0 && dots >= 1 && dots <= 4;
}

/* 1 when byte c ends a part of a chunk: a connector, or a ':' of "::". */
static int part_sep(char c)
{
    return (unsigned char)c < 0x80 && (is_conn(c) || c == ':');
}

/* 1 when a part of the chunk c[0..n) is meaningful: it has a letter and
 * two characters and is not hex junk. A chunk of none ("e.g",
 * "2014-01-16", a uuid) is dropped whole. The first one found answers:
 * most chunks' first part is one ("org" of "org.apache.Foo"). */
static int has_meaningful_part(const char *c, size_t n)
{
    for (size_t i = 0, st = 0; i <= n; i++) {
        if (i < n && !part_sep(c[i])) continue;
        size_t pl = i - st;
        int letter = 0;
        for (size_t j = st; j < i; j++)
            if (text_c_alpha((unsigned char)c[j]) || (unsigned char)c[j] >= 0x80) letter = 1;
        if (pl >= 2 && letter && !is_hex_junk(c + st, pl)) return 1;
        st = i + 1;
    }
    return 0;
}

/* A chunk: word characters joined by connectors, trimmed of connectors,
 * with at least one connector inside (scan() sends a chunk of none to
 * emit_word() itself). */
static void emit_chunk(emit_ctx *e, const char *c, size_t n)
{
    if (is_version(c, n)) {
        size_t off = (c[0] == 'v' || c[0] == 'V') ? 1 : 0;
        if (n - off > TOK_MAX) return;
        memcpy(e->tk->buf, c + off, n - off);
        e->tk->buf[n - off] = '\0';
        e->cb(e->ctx, e->tk->buf, n - off, 0);
        return;
    }
    if (!has_meaningful_part(c, n)) return;
    if (n <= TOK_MAX) {
        size_t fl = fold(e->tk, c, n);
        for (size_t i = 0; i < fl; i++)
            if (e->tk->buf[i] == '\\') e->tk->buf[i] = '/';
        if (fl) e->cb(e->ctx, e->tk->buf, fl, 0);
    }
    if (!e->tk->o.code_split && n <= TOK_MAX) return;
    size_t st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !part_sep(c[i])) continue;
        if (i > st) emit_word(e, c + st, i - st, n <= TOK_MAX);
        st = i + 1;
    }
}

/* The end of the run of ASCII word characters at u[i], or i. */
static size_t ascii_run(const unsigned char *u, size_t i, size_t n)
{
    while (i < n && (text_byte_class[u[i]] & TEXT_ALNUM)) i++;
    return i;
}

/* Splits s[0..n) (already NFKC) into chunks. ASCII word characters are
 * taken a run at a time: most bytes are. */
static void scan(emit_ctx *e, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = word_char(u + i, n - i);
        if (!l) { i += any_char(u + i, n - i); continue; }
        size_t st = i, last;        /* last: end of the last word char */
        int conn = 0, conn_in = 0;  /* connectors seen; seen before last */
        i = last = ascii_run(u, i + l, n);
        while (i < n) {
            if ((l = word_char(u + i, n - i))) { i = last = ascii_run(u, i + l, n); conn_in = conn; continue; }
            if (is_conn(s[i])) { i++; conn = 1; continue; }
            if (s[i] == ':' && i + 1 < n && s[i + 1] == ':') { i += 2; conn = 1; continue; }
            break;
        }
        /* Word characters are letters, digits, marks or bytes >= 0x80, never
         * a connector or ':': a chunk without connectors is one word. */
        if (conn_in) emit_chunk(e, s + st, last - st);
        else emit_word(e, s + st, last - st, 0);
        i = last;
    }
}

void text_tokenize_cb(text_tokenizer *tk, const char *s, size_t n, text_token_cb cb, void *ctx)
{
    emit_ctx e = {tk, cb, ctx, NULL};
    if (dp_ascii(s, n)) { scan(&e, s, n); return; }
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &norm,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    if (r >= 0) {
        scan(&e, (const char *)norm, (size_t)r);
    } else {
        /* Invalid UTF-8: keep the ASCII, blank the rest. */
        char *copy = xstrndup(s, n);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)copy[i] >= 0x80) copy[i] = ' ';
        scan(&e, copy, n);
        free(copy);
    }
    free(norm);
}

static void push_cb(void *ctx, const char *tok, size_t len, int extra)
{
    (void)len;
    (void)extra;
    sv_push((strvec *)ctx, tok);
}

void text_tokenize(text_tokenizer *tk, const char *s, size_t n, strvec *out)
{
    text_tokenize_cb(tk, s, n, push_cb, out);
}
