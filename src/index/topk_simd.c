/* topk_simd.c -- the vector kernels of exact top-k retrieval (topk.c) and
 * the choice, once per process, between them and topk.c's scalar loop.
 *
 * A kernel finds a window's candidates: the offsets of the accumulator's
 * non-zero entries (AVX-512: 16 a step, a test into a mask and a compress
 * of the offsets; AVX2, for the many x86-64 CPUs without AVX-512: 4 a
 * step, a compare into a 4-bit mask that picks the offsets from a
 * 16-entry table). Both read integers only, so their result is the scalar
 * loop's by construction. Summing the postings with AVX-512 (convert,
 * multiply, add, vcvttpd2qq, gather/add/scatter into the accumulator, or
 * scalar adds of vector-made contributions) was measured and gave
 * nothing: that loop waits on memory (postings streamed in, the
 * accumulator's lines), not on arithmetic, and a gather behind a scatter
 * to the same lines serializes.
 *
 * Valgrind hides AVX-512 from CPUID, so under it the AVX2 kernel runs.
 */
#include "index_int.h"

#include <stdatomic.h>

#if IX_HAVE_SIMD
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

static int cpu_avx512(void) { return __builtin_cpu_supports("avx512f"); }

AVX512 size_t ix_candidates_avx512(const int64_t *acc, uint32_t nw, uint32_t *cand)
{
    const __m512i step = _mm512_set1_epi32(16);
    __m512i off = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t nc = 0;
    uint32_t o = 0;
    for (; o + 16 <= nw; o += 16) {
        __m512i a = _mm512_loadu_si512(acc + o), b = _mm512_loadu_si512(acc + o + 8);
        __mmask16 m = (__mmask16)(_mm512_test_epi64_mask(a, a) | (unsigned)_mm512_test_epi64_mask(b, b) << 8);
        /* a full store: cand[nc + 15] is at most cand[o + 15], below nw */
        _mm512_storeu_si512(cand + nc, _mm512_maskz_compress_epi32(m, off));
        nc += (size_t)__builtin_popcount(m);
        off = _mm512_add_epi32(off, step);
    }
    if (o < nw) {
        __mmask16 in = (__mmask16)((1u << (nw - o)) - 1);
        __m512i a = _mm512_maskz_loadu_epi64((__mmask8)in, acc + o);
        __m512i b = _mm512_maskz_loadu_epi64((__mmask8)(in >> 8), acc + o + 8);
        __mmask16 m = (__mmask16)(_mm512_test_epi64_mask(a, a) | (unsigned)_mm512_test_epi64_mask(b, b) << 8);
        _mm512_mask_compressstoreu_epi32(cand + nc, m, off);
        nc += (size_t)__builtin_popcount(m);
    }
    return nc;
}

/* The offsets of the set bits of a 4-bit mask, packed low (the lanes
 * after them are never read: nc advances by the mask's popcount). */
static const uint32_t pack4[16][4] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0},
    {2, 0, 0, 0}, {0, 2, 0, 0}, {1, 2, 0, 0}, {0, 1, 2, 0},
    {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
    {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3}};

#define AVX2 __attribute__((target("avx2,popcnt")))

static int cpu_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"); }

/* The non-zero lanes of the 4 entries at acc + o: their offsets stored
 * at cand + nc (a full 4-lane store) and their count returned. */
AVX2 static inline size_t pack_block(const int64_t *acc, uint32_t o, uint32_t *cand, size_t nc)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(acc + o));
    __m256i z = _mm256_cmpeq_epi64(a, _mm256_setzero_si256());
    unsigned m = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(z)) ^ 15u;
    __m128i off = _mm_add_epi32(_mm_loadu_si128((const __m128i *)pack4[m]), _mm_set1_epi32((int)o));
    _mm_storeu_si128((__m128i *)(cand + nc), off);
    return (size_t)__builtin_popcount(m);
}

AVX2 size_t ix_candidates_avx2(const int64_t *acc, uint32_t nw, uint32_t *cand)
{
    size_t nc = 0;
    uint32_t o = 0;
    /* a full store: cand[nc + 3] is at most cand[o + 3], below nw */
    for (; o + 8 <= nw; o += 8) {
        nc += pack_block(acc, o, cand, nc);
        nc += pack_block(acc, o + 4, cand, nc);
    }
    for (; o < nw; o++) {
        cand[nc] = o;
        nc += acc[o] != 0;
    }
    return nc;
}

#else
static int cpu_avx512(void) { return 0; }
static int cpu_avx2(void) { return 0; }
#endif

/* The best kernel this CPU runs. */
static int cpu_best(void)
{
    return cpu_avx512() ? IX_SIMD_AVX512 : cpu_avx2() ? IX_SIMD_AVX2 : IX_SIMD_NONE;
}

/* -1 until the first query asks; then the kernel index_topk runs. */
static atomic_int simd_mode = -1;

int ix_topk_simd(void)
{
    int m = atomic_load_explicit(&simd_mode, memory_order_relaxed);
    if (m < 0) {
        m = cpu_best();
        atomic_store_explicit(&simd_mode, m, memory_order_relaxed);
    }
    return m;
}

int ix_topk_simd_set(int want)
{
    int m = want == IX_SIMD_BEST     ? cpu_best()
            : want == IX_SIMD_AVX512 ? (cpu_avx512() ? IX_SIMD_AVX512 : IX_SIMD_NONE)
            : want == IX_SIMD_AVX2   ? (cpu_avx2() ? IX_SIMD_AVX2 : IX_SIMD_NONE)
                                     : IX_SIMD_NONE;
    atomic_store_explicit(&simd_mode, m, memory_order_relaxed);
    return m;
}
