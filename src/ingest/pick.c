/* pick.c -- the picking parser: one record through yajl's event parser,
 * keeping only the members a converter reads (see ij_pick in ingest_int.h).
 *
 * jansson builds a tree of every value of a record -- a GitHub issue has
 * about a hundred, most of them URLs and ids doppel never reads -- and that
 * was the largest part of an import's CPU time. Here yajl streams the record
 * and only the kept members become jansson values, so the converters run
 * unchanged on a small object.
 *
 * Exactness: a record picked here must convert exactly as jansson's full
 * parse of it would, and a record jansson refuses must not be picked (its
 * error message comes from jansson). yajl accepts a few texts jansson
 * refuses; pick_suspect() finds them before yajl runs, conservatively:
 *   - invalid UTF-8 (yajl checks only the shape of a sequence; jansson
 *     refuses overlong forms, surrogates and code points past U+10FFFF),
 *   - vertical tab and form feed bytes (yajl takes them as whitespace),
 *   - raw NUL bytes, "\u0000" (jansson refuses NUL in strings),
 *   - an escaped surrogate that is not a high one followed by a low one
 *     (yajl writes a lone one as '?' or as CESU bytes; jansson refuses it).
 * Anything else yajl refuses (it also refuses a few texts jansson takes,
 * such as -2^63) and nesting deeper than PICK_MAX_DEPTH go to jansson too.
 * Duplicate members: the last one wins, as in jansson.
 */
#include "ingest_int.h"
#include "../common/scan.h"

#include <string.h>
#include <yajl/yajl_parse.h>

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
    yajl_handle h;
    size_t end;                /* bytes up to the root's closing bracket */
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

static int pick_scalar(pick *pk, json_t *(*make)(pick *, const void *), const void *arg)
{
    const ij_keep *spec;
    int in_array;
    if (pk->depth == 0) return 0;   /* the record is not an object */
    if (!pick_kept(pk, &spec, &in_array)) {
        pk->pending = NULL;
        return 1;
    }
    return pick_add(pk, make(pk, arg));
}

static json_t *mk_null(pick *pk, const void *a) { (void)pk, (void)a; return json_null(); }
static json_t *mk_bool(pick *pk, const void *a) { (void)pk; return json_boolean(*(const int *)a); }
static json_t *mk_int(pick *pk, const void *a) { (void)pk; return json_integer(*(const long long *)a); }
static json_t *mk_real(pick *pk, const void *a) { (void)pk; return json_real(*(const double *)a); }

typedef struct span { const unsigned char *s; size_t n; } span;
/* Valid UTF-8 without NUL: pick_suspect looked at every byte and escape. */
static json_t *mk_str(pick *pk, const void *a)
{
    (void)pk;
    const span *sp = a;
    return json_stringn_nocheck((const char *)sp->s, sp->n);
}

static int on_null(void *ctx) { return pick_scalar(ctx, mk_null, NULL); }
static int on_bool(void *ctx, int b) { return pick_scalar(ctx, mk_bool, &b); }
static int on_int(void *ctx, long long v) { return pick_scalar(ctx, mk_int, &v); }
static int on_real(void *ctx, double v) { return pick_scalar(ctx, mk_real, &v); }
static int on_str(void *ctx, const unsigned char *s, size_t n)
{
    span sp = {s, n};
    return pick_scalar(ctx, mk_str, &sp);
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

static int on_start_map(void *ctx) { return pick_open(ctx, 0); }
static int on_start_array(void *ctx) { return pick_open(ctx, 1); }

static int on_end(void *ctx)
{
    pick *pk = ctx;
    pk->depth--;
    pk->pending = NULL;
    if (pk->depth == 0) pk->end = yajl_get_bytes_consumed(pk->h);
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

static const yajl_callbacks pick_callbacks = {
    on_null, on_bool, on_int, on_real, NULL, on_str,
    on_start_map, on_key, on_end, on_start_array, on_end,
};

/* yajl lets a value be followed by a token it has not finished -- an
 * unterminated string ('{...}"}') counts as no garbage at the end of the
 * input -- where jansson refuses anything but whitespace after it. */
static int only_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return 0;
    return 1;
}

json_t *ij_pick(const char *data, size_t len, const ij_keep *spec)
{
    if (pick_suspect(data, len)) return NULL;
    pick pk = {.top = spec};
    yajl_handle h = yajl_alloc(&pick_callbacks, NULL, &pk);
    if (!h) return NULL;
    pk.h = h;
    int ok = yajl_parse(h, (const unsigned char *)data, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok && pk.depth == 0 && pk.root &&
             only_space(data + pk.end, len - pk.end);
    yajl_free(h);
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
