/* pick.c -- the picking parser: one record read by a JSON scanner of its
 * own, keeping only the members a converter reads (see ij_pick in
 * ingest_int.h).
 *
 * jansson builds a tree of every value of a record -- a GitHub issue has
 * about a hundred, most of them URLs and ids doppel never reads -- and that
 * was the largest part of an import's CPU time. Here the scanner steps over
 * the members not kept (checking them) and only the kept members become
 * jansson values, so the converters run unchanged on a small object. (It
 * replaced yajl's event parser, whose call per value and copy of every
 * string were a sixth of an import's parse time; see "the scanner".)
 *
 * Exactness: a record picked here must convert exactly as jansson's full
 * parse of it would, and a record jansson refuses must not be picked (its
 * error message comes from jansson). pick_suspect() first refuses,
 * conservatively, what needs a closer look at the bytes:
 *   - invalid UTF-8 (jansson refuses overlong forms, surrogates and code
 *     points past U+10FFFF),
 *   - vertical tab and form feed bytes,
 *   - raw NUL bytes, "\u0000" (jansson refuses NUL in strings),
 *   - an escaped surrogate that is not a high one followed by a low one.
 * The scanner then leaves to jansson all else it is not sure of (see its
 * rules) and nesting deeper than PICK_MAX_DEPTH.
 * Duplicate members: the last one wins, as in jansson.
 */
#include "ingest_int.h"
#include "../common/scan.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* GitHub records nest 3 or 4 levels; jansson's own limit is 2048. */
#define PICK_MAX_DEPTH 64

/* ---- the pre-scan ------------------------------------------------------- */

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* The first index in s[i..len) of a byte pick_suspect must look at (NUL,
 * vertical tab, form feed, backslash, non-ASCII), or len. Sixteen bytes a
 * step with SSE2 (every x86-64 has it): the byte-by-byte scan was a sixth
 * of the parsers' CPU time. */
static size_t next_look(const unsigned char *s, size_t i, size_t len)
{
    /* 1: a byte that needs a look (GNU range designators: gcc and clang) */
    static const unsigned char look[256] = {
        [0] = 1, ['\v'] = 1, ['\f'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1};
    return dp_scan_any(s, i, len, 0, '\v', '\f', '\\', 1, look);
}

/* 1 when the bytes hold something only jansson judges right (see above). */
static int pick_suspect(const char *data, size_t len)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0;
    while (i < len) {
        i = next_look(s, i, len);
        if (i == len) break;
        unsigned c = s[i];
        if (c >= 0x80) {
            /* the whole run of non-ASCII bytes, by the store's own rules */
            size_t j = i;
            while (j < len && s[j] >= 0x80) j++;
            if (!dp_utf8_valid(data + i, j - i, NULL)) return 1;
            i = j;
            continue;
        }
        if (c != '\\') return 1;                    /* NUL, \v, \f */
        if (i + 1 >= len) return 1;
        if (s[i + 1] != 'u') {                      /* \n, \", \\ ...: one escape */
            i += 2;
            continue;
        }
        unsigned u, lo;
        if (i + 6 > len || !hex4(s + i + 2, &u)) return 1;   /* yajl and jansson refuse it */
        if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF)) return 1;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 12 > len || s[i + 6] != '\\' || s[i + 7] != 'u' || !hex4(s + i + 8, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return 1;
            i += 12;
            continue;
        }
        i += 6;
    }
    return 0;
}

/* ---- the event handlers --------------------------------------------------- */

typedef enum {
    PF_OBJ,    /* an object kept: members named by spec are kept */
    PF_ARR,    /* an array kept with its elements */
    PF_SKIP    /* a value not kept, or the inside of a kept empty stand-in */
} pick_kind;

typedef struct pick_frame {
    pick_kind kind;
    json_t *v;                 /* PF_OBJ, PF_ARR: the value being built */
    const ij_keep *spec;       /* PF_OBJ: members kept; PF_ARR: of element objects */
} pick_frame;

typedef struct pick {
    pick_frame fr[PICK_MAX_DEPTH];
    int depth;                 /* frames in use */
    const ij_keep *top;
    const ij_keep *pending;    /* PF_OBJ: the member whose value comes next; NULL = skip it */
    json_t *root;
} pick;

/* Where the next value goes: 1 when it is kept (*spec is what to keep of
 * it when it is an object, or of its elements when an array). */
static int pick_kept(pick *pk, const ij_keep **spec, int *in_array)
{
    *spec = NULL;
    *in_array = 0;
    if (pk->depth == 0) return 0;
    pick_frame *f = &pk->fr[pk->depth - 1];
    if (f->kind == PF_SKIP) return 0;
    if (f->kind == PF_ARR) {
        *spec = f->spec;
        *in_array = 1;
        return 1;
    }
    if (!pk->pending) return 0;
    *spec = pk->pending->sub;
    return 1;
}

/* Adds a kept value to its container (takes v). */
static int pick_add(pick *pk, json_t *v)
{
    if (!v) return 0;
    pick_frame *f = &pk->fr[pk->depth - 1];
    int rc = f->kind == PF_ARR ? json_array_append_new(f->v, v)
                               : json_object_set_new_nocheck(f->v, pk->pending->key, v);
    pk->pending = NULL;
    return rc == 0;
}

/* A container opens: kept (an object filtered by its spec, an array with
 * its elements), a stand-in (an array inside an array: only its type is
 * ever looked at, so it stays empty), or skipped. */
static int pick_open(pick *pk, int is_array)
{
    if (pk->depth == PICK_MAX_DEPTH) return 0;   /* jansson judges it */
    pick_frame *nf = &pk->fr[pk->depth];
    if (pk->depth == 0) {
        if (is_array) return 0;                  /* a record is an object */
        pk->root = json_object();
        *nf = (pick_frame){PF_OBJ, pk->root, pk->top};
        pk->depth++;
        return 1;
    }
    const ij_keep *spec;
    int in_array;
    if (!pick_kept(pk, &spec, &in_array)) {
        pk->pending = NULL;
        *nf = (pick_frame){PF_SKIP, NULL, NULL};
        pk->depth++;
        return 1;
    }
    json_t *v = is_array ? json_array() : json_object();
    if (!pick_add(pk, json_incref(v))) {
        json_decref(v);
        return 0;
    }
    json_decref(v);   /* the container holds it */
    if (is_array && in_array) *nf = (pick_frame){PF_SKIP, NULL, NULL};
    else *nf = (pick_frame){is_array ? PF_ARR : PF_OBJ, v, spec};
    pk->depth++;
    return 1;
}

static int on_end(void *ctx)
{
    pick *pk = ctx;
    pk->depth--;
    pk->pending = NULL;
    return 1;
}

static int on_key(void *ctx, const unsigned char *key, size_t n)
{
    pick *pk = ctx;
    pick_frame *f = &pk->fr[pk->depth - 1];
    pk->pending = NULL;
    if (f->kind != PF_OBJ || !f->spec || n == 0) return 1;
    /* A GitHub issue has about a hundred members and a keep list a dozen
     * names: the first byte rules out nearly every pair (a strlen and a
     * memcmp each were a sixth of the parsers' time). The key holds no
     * NUL (pick_suspect), so strncmp stops at the end of the name. */
    for (const ij_keep *k = f->spec; k->key; k++)
        if (k->key[0] == (char)key[0] && !strncmp(k->key, (const char *)key, n) && k->key[n] == '\0') {
            pk->pending = k;
            break;
        }
    return 1;
}

/* ---- the scanner ------------------------------------------------------------
 * A JSON reader of its own drives the handlers above: it takes only text
 * jansson takes, gives kept values exactly as jansson would, and answers
 * "not picked" (jansson decides) for anything it is not sure of. A value
 * not kept is checked and stepped over without a handler call and without
 * decoding its strings: yajl's event per value (a GitHub issue holds about
 * a hundred, the kept ones a dozen) and its copy of each string were most
 * of the picking time. Its rules, jansson's:
 *   - whitespace is space, tab, newline, carriage return;
 *   - a string holds no byte below 0x20 and only the escapes \" \\ \/ \b
 *     \f \n \r \t \uXXXX (pick_suspect has refused \u0000, lone surrogates
 *     and invalid UTF-8 before);
 *   - numbers follow JSON's grammar (no leading zero, digits after '.' and
 *     after an exponent); an integer of more than 18 digits (maybe past
 *     int64, which jansson refuses) and a real with a long mantissa or
 *     an exponent of 3 digits (maybe out of a double's range) go to
 *     jansson; a kept real is strtod's, as in jansson (C locale);
 *   - true, false, null; a member's key with an escape goes to jansson;
 *   - the record is one object, then only whitespace. */

typedef struct scan {
    const unsigned char *s;
    size_t i, n;
    pick *pk;
} scan;

static void sc_ws(scan *sc)
{
    while (sc->i < sc->n) {
        unsigned c = sc->s[sc->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
        sc->i++;
    }
}

/* The first index in s[i..n) holding '"', '\\' or a byte below 0x20, or n. */
static size_t str_stop(const unsigned char *s, size_t i, size_t n)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), lo = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                   _mm_cmpeq_epi8(_mm_min_epu8(v, lo), v));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return i + (size_t)__builtin_ctz(m);
    }
#endif
    for (; i < n; i++)
        if (s[i] == '"' || s[i] == '\\' || s[i] < 0x20) return i;
    return n;
}

/* The string opening at s[i] ('"'): its content is s[*a..*b), *esc when
 * it holds an escape; i moves past the closing quote. 0: not JSON. */
static int sc_string(scan *sc, size_t *a, size_t *b, int *esc)
{
    const unsigned char *s = sc->s;
    size_t i = sc->i + 1, n = sc->n;
    *a = i;
    *esc = 0;
    for (;;) {
        i = str_stop(s, i, n);
        if (i >= n || s[i] < 0x20) return 0;
        if (s[i] == '"') break;
        /* a backslash: one escape */
        if (i + 1 >= n) return 0;
        *esc = 1;
        switch (s[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            break;
        case 'u': {
            unsigned u;
            if (i + 6 > n || !hex4(s + i + 2, &u)) return 0;
            i += 6;
            break;
        }
        default:
            return 0;
        }
    }
    *b = i;
    sc->i = i + 1;
    return 1;
}

static void put_utf8(unsigned char **o, unsigned cp)
{
    unsigned char *p = *o;
    if (cp < 0x80) *p++ = (unsigned char)cp;
    else if (cp < 0x800) {
        *p++ = (unsigned char)(0xC0 | cp >> 6);
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p++ = (unsigned char)(0xE0 | cp >> 12);
        *p++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (unsigned char)(0xF0 | cp >> 18);
        *p++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = p;
}

/* The kept string s[a..b) (escapes checked by sc_string; surrogates
 * paired and no \u0000 by pick_suspect) as a jansson string. */
static json_t *str_value(const unsigned char *s, size_t a, size_t b, int esc)
{
    if (!esc) return json_stringn_nocheck((const char *)s + a, b - a);
    /* decoded, a string is never longer than its escaped form */
    unsigned char *buf = malloc(b - a + 1), *o = buf;
    if (!buf) return NULL;
    for (size_t i = a; i < b;) {
        if (s[i] != '\\') {
            *o++ = s[i++];
            continue;
        }
        unsigned char e = s[i + 1];
        if (e != 'u') {
            static const unsigned char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            *o++ = to[strchr((const char *)from, e) - (const char *)from];
            i += 2;
            continue;
        }
        unsigned u = 0, lo = 0;
        hex4(s + i + 2, &u);
        i += 6;
        if (u >= 0xD800 && u <= 0xDBFF) {   /* a low surrogate follows (pick_suspect) */
            hex4(s + i + 2, &lo);
            i += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        put_utf8(&o, u);
    }
    json_t *v = json_stringn_nocheck((const char *)buf, (size_t)(o - buf));
    free(buf);
    return v;
}

/* A number at s[i]; *real when it has a fraction or an exponent, *big when
 * jansson could refuse it (see above). 0: not JSON. */
static int sc_number(scan *sc, int *real, int *big)
{
    const unsigned char *s = sc->s;
    size_t i = sc->i, n = sc->n, d0;
    *real = *big = 0;
    if (i < n && s[i] == '-') i++;
    d0 = i;
    if (i < n && s[i] == '0') i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else
        return 0;
    if (i < n && s[i] >= '0' && s[i] <= '9') return 0;   /* a leading zero */
    size_t ndig = i - d0;
    if (i < n && s[i] == '.') {
        *real = 1;
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == f) return 0;
        ndig += i - f;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *real = 1;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == e) return 0;
        if (i - e > 2) *big = 1;   /* past 1e99: maybe past a double */
    }
    if (ndig > 18) *big = 1;
    sc->i = i;
    return 1;
}

static int sc_value(scan *sc);

/* Steps over the value at s[i] (not kept): checked, nothing made. depth:
 * containers open around it. */
static int sc_skip(scan *sc, int depth)
{
    const unsigned char *s = sc->s;
    if (sc->i >= sc->n) return 0;
    unsigned c = s[sc->i];
    if (c == '"') {
        size_t a, b;
        int esc;
        return sc_string(sc, &a, &b, &esc);
    }
    if (c == '{' || c == '[') {
        if (depth >= PICK_MAX_DEPTH) return 0;   /* jansson judges it */
        unsigned close = c == '{' ? '}' : ']';
        sc->i++;
        sc_ws(sc);
        if (sc->i < sc->n && s[sc->i] == close) {
            sc->i++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                size_t a, b;
                int esc;
                if (sc->i >= sc->n || s[sc->i] != '"' || !sc_string(sc, &a, &b, &esc)) return 0;
                sc_ws(sc);
                if (sc->i >= sc->n || s[sc->i] != ':') return 0;
                sc->i++;
                sc_ws(sc);
            }
            if (!sc_skip(sc, depth + 1)) return 0;
            sc_ws(sc);
            if (sc->i >= sc->n) return 0;
            if (s[sc->i] == close) {
                sc->i++;
                return 1;
            }
            if (s[sc->i] != ',') return 0;
            sc->i++;
            sc_ws(sc);
        }
    }
    if (c == 't' || c == 'f' || c == 'n') {
        const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
        size_t l = strlen(lit);
        if (sc->n - sc->i < l || memcmp(s + sc->i, lit, l)) return 0;
        sc->i += l;
        return 1;
    }
    int real, big;
    return sc_number(sc, &real, &big) && !big;
}

/* A kept scalar at s[i], through pick_scalar as the handlers made it. */
static int sc_scalar(scan *sc)
{
    const unsigned char *s = sc->s;
    unsigned c = s[sc->i];
    if (c == '"') {
        size_t a, b;
        int esc;
        if (!sc_string(sc, &a, &b, &esc)) return 0;
        return pick_add(sc->pk, str_value(s, a, b, esc));
    }
    if (c == 't' || c == 'f' || c == 'n') {
        size_t at = sc->i;
        if (!sc_skip(sc, 0)) return 0;
        return pick_add(sc->pk, c == 'n' ? json_null() : json_boolean(s[at] == 't'));
    }
    size_t at = sc->i;
    int real, big;
    if (!sc_number(sc, &real, &big) || big) return 0;
    if (real) {
        /* strtod as jansson's (and yajl's) in the C locale doppel runs in */
        char buf[64];
        size_t len = sc->i - at;
        if (len >= sizeof buf) return 0;
        memcpy(buf, s + at, len);
        buf[len] = '\0';
        return pick_add(sc->pk, json_real(strtod(buf, NULL)));
    }
    long long v = 0;
    size_t i = at + (s[at] == '-');
    for (; i < sc->i; i++) v = v * 10 + (s[i] - '0');
    return pick_add(sc->pk, json_integer(s[at] == '-' ? -v : v));
}

/* The members of an object or the elements of an array whose frame
 * pick_open has pushed, up to its closing bracket; then on_end. */
static int sc_container(scan *sc, int is_array)
{
    const unsigned char *s = sc->s;
    unsigned close = is_array ? ']' : '}';
    sc->i++;
    sc_ws(sc);
    if (sc->i < sc->n && s[sc->i] == close) {
        sc->i++;
        return on_end(sc->pk);
    }
    for (;;) {
        if (!is_array) {
            size_t a, b;
            int esc;
            if (sc->i >= sc->n || s[sc->i] != '"' || !sc_string(sc, &a, &b, &esc) || esc) return 0;
            on_key(sc->pk, s + a, b - a);
            sc_ws(sc);
            if (sc->i >= sc->n || s[sc->i] != ':') return 0;
            sc->i++;
            sc_ws(sc);
        }
        if (!sc_value(sc)) return 0;
        sc_ws(sc);
        if (sc->i >= sc->n) return 0;
        if (s[sc->i] == close) {
            sc->i++;
            return on_end(sc->pk);
        }
        if (s[sc->i] != ',') return 0;
        sc->i++;
        sc_ws(sc);
    }
}

/* The value at s[i] inside the record: kept (made, containers recursed
 * into) or stepped over. */
static int sc_value(scan *sc)
{
    pick *pk = sc->pk;
    if (sc->i >= sc->n) return 0;
    const ij_keep *spec;
    int in_array;
    if (!pick_kept(pk, &spec, &in_array)) {
        pk->pending = NULL;
        return sc_skip(sc, pk->depth);
    }
    unsigned c = sc->s[sc->i];
    if (c == '{' || c == '[') return pick_open(pk, c == '[') && sc_container(sc, c == '[');
    return sc_scalar(sc);
}

json_t *ij_pick(const char *data, size_t len, const ij_keep *spec)
{
    if (pick_suspect(data, len)) return NULL;
    pick pk = {.top = spec};
    scan sc = {(const unsigned char *)data, 0, len, &pk};
    sc_ws(&sc);
    int ok = sc.i < len && data[sc.i] == '{' && pick_open(&pk, 0) && sc_container(&sc, 0);
    if (ok) {
        sc_ws(&sc);
        ok = sc.i == len && pk.depth == 0;
    }
    if (ok) return pk.root;
    json_decref(pk.root);
    return NULL;
}

/* ---- the same selection from a parsed tree ------------------------------- */

static json_t *project_value(json_t *v, const ij_keep *spec, int in_array);

static json_t *project_object(json_t *obj, const ij_keep *spec)
{
    json_t *out = json_object();
    for (const ij_keep *k = spec; k && k->key; k++) {
        json_t *v = json_object_get(obj, k->key);
        if (v) json_object_set_new_nocheck(out, k->key, project_value(v, k->sub, 0));
    }
    return out;
}

static json_t *project_value(json_t *v, const ij_keep *spec, int in_array)
{
    if (json_is_object(v)) return project_object(v, spec);
    if (!json_is_array(v)) return json_incref(v);
    json_t *out = json_array();
    if (in_array) return out;   /* a stand-in, as ij_pick makes it */
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) json_array_append_new(out, project_value(el, spec, 1));
    return out;
}

json_t *ij_project(json_t *obj, const ij_keep *spec)
{
    return json_is_object(obj) ? project_object(obj, spec) : NULL;
}
