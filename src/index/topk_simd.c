/* topk_simd.c -- the AVX-512 kernel of exact top-k retrieval (topk.c) and
 * the choice, once per process, between it and topk.c's scalar loop.
 *
 * The kernel finds a window's candidates: the offsets of the accumulator's
 * non-zero entries, 16 a step (a test into a mask, a compress of the
 * offsets). It reads integers only, so its result is the scalar loop's by
 * construction. Summing the postings with AVX-512 (convert, multiply, add,
 * vcvttpd2qq, gather/add/scatter into the accumulator, or scalar adds of
 * vector-made contributions) was measured and gave nothing: that loop
 * waits on memory (postings streamed in, the accumulator's lines), not on
 * arithmetic, and a gather behind a scatter to the same lines serializes.
 *
 * Valgrind hides AVX-512 from CPUID, so under it the scalar loop runs.
 */
#include "index_int.h"

#include <stdatomic.h>

#if IX_HAVE_AVX512
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

#else
static int cpu_avx512(void) { return 0; }
#endif

/* -1 until the first query asks; then 1 when the kernel runs. */
static atomic_int simd_mode = -1;

int ix_topk_simd(void)
{
    int m = atomic_load_explicit(&simd_mode, memory_order_relaxed);
    if (m < 0) {
        m = cpu_avx512();
        atomic_store_explicit(&simd_mode, m, memory_order_relaxed);
    }
    return m;
}

int ix_topk_simd_set(int on)
{
    int m = on && cpu_avx512();
    atomic_store_explicit(&simd_mode, m, memory_order_relaxed);
    return m;
}
