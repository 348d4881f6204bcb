/* analyze_pack.c -- see analyze_pack.h: kept hits packed exactly. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "analyze_pack.h"

/* Every field is packed: a field added to either struct must be added
 * here (and these sizes) too, or it would come back zero. */
_Static_assert(sizeof(match_hit) == 8 + 8 * (4 + FEAT_COUNT), "match_hit: a field the pack does not hold");
_Static_assert(sizeof(match_judgment) == ((8 + 8 * (RELATION_COUNT + 3) + 7 * sizeof(int) + 7) & ~(size_t)7),
               "match_judgment: a field the pack does not hold");

/* TAG_MORE: a byte follows, the index of an earlier double of the record
 * with the same bits (judge features repeat the hit's: score, margin,
 * cosines...), or MORE_FLOAT: a float holds it exactly, its 4 bytes follow. */
enum { TAG_ZERO = 0, TAG_ONE = 1, TAG_MORE = 2, TAG_RAW = 3 };
#define MORE_FLOAT 0xff
_Static_assert(ANALYZE_PACK_DOUBLES < MORE_FLOAT, "a double's index must fit below MORE_FLOAT");

/* The record's distinct doubles seen so far, by bits: index + 1, 0 empty. */
#define SEEN_SLOTS 256
typedef struct seen {
    unsigned char at[SEEN_SLOTS];
} seen;

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* The index of an earlier double in x with x[i]'s bits, or -1 (then x[i]
 * is remembered). Linear probing; the table never fills (SEEN_SLOTS >
 * ANALYZE_PACK_DOUBLES). */
static int seen_find(seen *s, const double *x, size_t i)
{
    uint64_t b = bits_of(x[i]);
    for (size_t h = (size_t)((b * 0x9E3779B97F4A7C15ull) >> 56);; h = (h + 1) % SEEN_SLOTS) {
        if (!s->at[h]) {
            s->at[h] = (unsigned char)(i + 1);
            return -1;
        }
        if (bits_of(x[s->at[h] - 1]) == b) return s->at[h] - 1;
    }
}

static int same_bits(double a, double b) { return !memcmp(&a, &b, sizeof a); }

/* Whether a float holds x exactly (in range first: converting a double a
 * float cannot hold is undefined; NaN fails it, its payload kept raw). */
static int float_exact(double x) { return fabs(x) <= FLT_MAX && same_bits((double)(float)x, x); }

static unsigned char *put_varint(unsigned char *p, int v)
{
    uint32_t z = ((uint32_t)v << 1) ^ (uint32_t)-(int32_t)(v < 0);   /* zigzag: small |v|, few bytes */
    while (z >= 0x80) {
        *p++ = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    *p++ = (unsigned char)z;
    return p;
}

static const unsigned char *get_varint(const unsigned char *p, int *v)
{
    uint32_t z = 0;
    for (int shift = 0;; shift += 7) {
        unsigned char b = *p++;
        z |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    *v = (int)(z >> 1) ^ -(int)(z & 1);
    return p;
}

/* The record's doubles, in the order analyze_pack.h gives; n of them. */
static size_t gather(const match_hit *h, const match_judgment *jd, const double *jf, double *x)
{
    size_t n = 0;
    x[n++] = h->bm25;
    x[n++] = h->score;
    x[n++] = h->margin;
    x[n++] = h->prob;
    for (int f = 0; f < FEAT_COUNT; f++) x[n++] = h->feat[f];
    for (int r = 0; r < RELATION_COUNT; r++) x[n++] = jd->p[r];
    x[n++] = jd->p_any;
    x[n++] = jd->p_shown;
    x[n++] = jd->strength;
    if (jf)
        for (int f = 0; f < JF_COUNT; f++) x[n++] = jf[f];
    return n;
}

size_t analyze_pack(unsigned char *out, const match_hit *h, const match_judgment *jd, const double *jf, int rank)
{
    unsigned char *p = out + 6;   /* doc and length first */
    memcpy(out, &h->doc, 4);
    int ints[ANALYZE_PACK_INTS] = {h->bm25_rank, rank, (int)jd->relation, (int)jd->confidence, jd->regression,
                                   jd->pr_pair, jd->template_twins, jd->series, jd->double_post,
                                   jd->same_failure, jd->failure_lifted};
    for (int i = 0; i < ANALYZE_PACK_INTS; i++) p = put_varint(p, ints[i]);
    *p++ = jf != NULL;
    double x[ANALYZE_PACK_DOUBLES];
    size_t n = gather(h, jd, jf, x);
    unsigned char *tags = p;
    p += (n + 3) / 4;
    memset(tags, 0, (n + 3) / 4);
    seen s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < n; i++) {
        int t = TAG_MORE;
        if (same_bits(x[i], 0.0)) {   /* -0.0 is not +0.0: it takes another tag */
            t = TAG_ZERO;
        } else if (same_bits(x[i], 1.0)) {
            t = TAG_ONE;
        } else {
            int at = seen_find(&s, x, i);
            if (at >= 0) {
                *p++ = (unsigned char)at;
            } else if (float_exact(x[i])) {
                float f = (float)x[i];
                *p++ = MORE_FLOAT;
                memcpy(p, &f, sizeof f);
                p += sizeof f;
            } else {
                t = TAG_RAW;
                memcpy(p, &x[i], sizeof x[i]);
                p += sizeof x[i];
            }
        }
        tags[i / 4] |= (unsigned char)(t << (2 * (i % 4)));
    }
    uint16_t len = (uint16_t)(p - out);   /* at most ANALYZE_PACK_MAX, well below 65536 */
    memcpy(out + 4, &len, 2);
    return len;
}

int analyze_unpack(const unsigned char *in, match_hit *h, match_judgment *jd, double *jf, int *rank)
{
    memset(h, 0, sizeof *h);
    memset(jd, 0, sizeof *jd);
    memcpy(&h->doc, in, 4);
    const unsigned char *p = in + 6;
    int v[ANALYZE_PACK_INTS];
    for (int i = 0; i < ANALYZE_PACK_INTS; i++) p = get_varint(p, &v[i]);
    h->bm25_rank = v[0];
    *rank = v[1];
    jd->relation = (relation_kind)v[2];
    jd->confidence = (confidence_level)v[3];
    jd->regression = v[4];
    jd->pr_pair = v[5];
    jd->template_twins = v[6];
    jd->series = v[7];
    jd->double_post = v[8];
    jd->same_failure = v[9];
    jd->failure_lifted = v[10];
    int has_jf = *p++;
    size_t n = 4 + FEAT_COUNT + RELATION_COUNT + 3 + (has_jf ? JF_COUNT : 0);
    const unsigned char *tags = p;
    p += (n + 3) / 4;
    double x[ANALYZE_PACK_DOUBLES];
    for (size_t i = 0; i < n; i++) {
        int t = (tags[i / 4] >> (2 * (i % 4))) & 3;
        if (t == TAG_ZERO) {
            x[i] = 0.0;
        } else if (t == TAG_ONE) {
            x[i] = 1.0;
        } else if (t == TAG_MORE && *p != MORE_FLOAT) {
            x[i] = x[*p++];
        } else if (t == TAG_MORE) {
            float f;
            memcpy(&f, ++p, sizeof f);
            p += sizeof f;
            x[i] = (double)f;
        } else {
            memcpy(&x[i], p, sizeof x[i]);
            p += sizeof x[i];
        }
    }
    size_t k = 0;
    h->bm25 = x[k++];
    h->score = x[k++];
    h->margin = x[k++];
    h->prob = x[k++];
    for (int f = 0; f < FEAT_COUNT; f++) h->feat[f] = x[k++];
    for (int r = 0; r < RELATION_COUNT; r++) jd->p[r] = x[k++];
    jd->p_any = x[k++];
    jd->p_shown = x[k++];
    jd->strength = x[k++];
    if (has_jf && jf) memcpy(jf, &x[k], JF_COUNT * sizeof *jf);
    return has_jf;
}

uint32_t analyze_pack_doc(const unsigned char *in)
{
    uint32_t d;
    memcpy(&d, in, 4);
    return d;
}

size_t analyze_pack_len(const unsigned char *in)
{
    uint16_t len;
    memcpy(&len, in + 4, 2);
    return len;
}
