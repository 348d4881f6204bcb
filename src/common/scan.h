/* scan.h -- the first byte of a small set in a buffer, sixteen bytes a step.
 *
 * The JSON splitter and the record picker look for a few bytes among long
 * runs of ordinary text (string bodies); a byte-by-byte loop was a large
 * share of their CPU time. dp_scan_any() compares 16 bytes a step with
 * SSE2 (every x86-64 has it) and finishes, or runs everywhere else, with
 * the caller's table. It is static inline so that each caller's constant
 * set folds into its own loop.
 *
 * Contract: returns the first index in [i, n) whose byte is one of a, b,
 * c, d (repeat one to look for fewer) or, when high is set, any byte >=
 * 0x80; n when there is none. tab[x] must be non-zero exactly for those
 * bytes: it answers for the bytes the vector loop does not reach. Reads
 * s[i..n) only.
 */
#ifndef DP_SCAN_H
#define DP_SCAN_H

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef __SSE2__
/* 0xff in each byte of v that is c, 0 in the others: the compare the
 * scanners of several bytes in a row (text/signals.c, text/text_split.c)
 * build their masks from. */
static inline __m128i dp_eq8(__m128i v, unsigned char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8((char)c)); }
#endif

static inline size_t dp_scan_any(const unsigned char *s, size_t i, size_t n, unsigned char a, unsigned char b,
                                 unsigned char c, unsigned char d, int high, const unsigned char tab[256])
{
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b), vc = _mm_set1_epi8((char)c),
                  vd = _mm_set1_epi8((char)d);
    const __m128i top = high ? _mm_set1_epi8((char)0x80) : _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
        /* movemask takes each byte's top bit: with high, the non-ASCII bytes too */
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(hit, _mm_and_si128(v, top)));
        if (m) return i + (size_t)__builtin_ctz(m);
    }
#else
    (void)a, (void)b, (void)c, (void)d, (void)high;
#endif
    while (i < n && !tab[s[i]]) i++;
    return i;
}

#endif
