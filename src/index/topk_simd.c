/* topk_simd.c -- the AVX-512 kernels of exact top-k retrieval (topk.c)
 * and the choice, once per process, between them and topk.c's scalar
 * loops.
 *
 * One kernel finds a window's candidates: the offsets of the accumulator's
 * non-zero entries, 16 a step (a test into a mask, a compress of the
 * offsets). It reads integers only, so its result is the scalar loop's by
 * construction.
 *
 * The other sums a list's postings into the accumulator, 16 a step: the
 * impacts widened to doubles (exact), multiplied by wf and 0.5 added, each
 * rounded to nearest as the scalar mulsd and addsd round (explicit
 * rounding intrinsics, which no compiler fuses into an FMA: that rounds
 * once, not as the scalar code does), then
 * truncated to int64 (vcvttpd2qq, the scalar cast's truncation): the very
 * ix_fix_pos of each posting. The docs of one list are distinct, so the
 * gather of their 16 accumulator entries, the add and the scatter lose no
 * update. Both gathers of a step go before both scatters: a gather behind
 * a scatter to the same lines waits for it (the scatter-gather pairs one
 * after another gave no gain over the scalar loop; this order, 7-8 % less
 * CPU in index_topk at 48k). The last < 16 postings take the same path
 * under a mask, so no scalar floating point runs in the kernel (compiled
 * for AVX-512, a compiler could fuse the scalar expression).
 *
 * The third prunes candidates, 16 a step: their sums gathered, converted
 * (exact: far below 2^53), scaled by 2^-32 (exact) and the bound added
 * with round-to-nearest -- ix_unfix(sum) + bound as the scalar code
 * computes it -- compared with theta, the kept ones compressed in place
 * (3-4 % less CPU in index_topk at 48k).
 *
 * Valgrind hides AVX-512 from CPUID, so under it the scalar loop runs.
 */
#include "index_int.h"

#include <stdatomic.h>

#if IX_HAVE_AVX512
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq")))

static int cpu_avx512(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"); }

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

/* ix_fix_pos(wf, imp[i]) of 8 postings: widened, multiplied, 0.5 added,
 * each rounded to nearest; truncated. */
static inline AVX512 __m512i fix8(__m256 imp, __m512d wf)
{
    const __m512d half = _mm512_set1_pd(0.5);
    __m512d x = _mm512_mul_round_pd(_mm512_cvtps_pd(imp), wf, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm512_add_round_pd(x, half, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_cvttpd_epi64(x);
}

/* Postings prefetched ahead, as topk.c's scalar loop does (acc_add). */
#define PF_DIST 256

AVX512 void ix_acc_add_avx512(int64_t *acc, const uint32_t *doc, const float *imp, size_t n, double wf,
                              uint32_t w0)
{
    const __m512d vwf = _mm512_set1_pd(wf);
    const __m256i vw0 = _mm256_set1_epi32((int)w0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __builtin_prefetch(doc + i + PF_DIST);
        __builtin_prefetch(imp + i + PF_DIST);
        __m256i d0 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(doc + i)), vw0);
        __m256i d1 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(doc + i + 8)), vw0);
        __m512i v0 = fix8(_mm256_loadu_ps(imp + i), vwf);
        __m512i v1 = fix8(_mm256_loadu_ps(imp + i + 8), vwf);
        __m512i a0 = _mm512_i32gather_epi64(d0, acc, 8);
        __m512i a1 = _mm512_i32gather_epi64(d1, acc, 8);
        _mm512_i32scatter_epi64(acc, d0, _mm512_add_epi64(a0, v0), 8);
        _mm512_i32scatter_epi64(acc, d1, _mm512_add_epi64(a1, v1), 8);
    }
    for (; i < n; i += 8) {
        __mmask8 m = (__mmask8)(n - i >= 8 ? 0xff : (1u << (n - i)) - 1);
        __m512i di = _mm512_maskz_loadu_epi32((__mmask16)m, doc + i);
        __m256i d = _mm256_sub_epi32(_mm512_castsi512_si256(di), vw0);
        __m512 f = _mm512_maskz_loadu_ps((__mmask16)m, imp + i);
        __m512i v = fix8(_mm512_castps512_ps256(f), vwf);
        __m512i a = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), m, d, acc, 8);
        _mm512_mask_i32scatter_epi64(acc, m, d, _mm512_add_epi64(a, v), 8);
    }
}

AVX512 size_t ix_prune_avx512(const int64_t *acc, uint32_t *cand, size_t n, double bound, double th)
{
    const __m512d vb = _mm512_set1_pd(bound), vth = _mm512_set1_pd(th), unit = _mm512_set1_pd(1.0 / IX_FIX_ONE);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 in = (__mmask16)(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
        __m512i c = _mm512_maskz_loadu_epi32(in, cand + i);
        __mmask16 keep = 0;
        for (int h = 0; h < 2; h++) {
            __mmask8 m = (__mmask8)(in >> (8 * h));
            __m256i ch = h ? _mm512_extracti64x4_epi64(c, 1) : _mm512_castsi512_si256(c);
            __m512i a = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), m, ch, acc, 8);
            /* ix_unfix(a) + bound, each step rounded as the scalar code's */
            __m512d x = _mm512_mul_round_pd(_mm512_cvtepi64_pd(a), unit, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            x = _mm512_add_round_pd(x, vb, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            keep |= (__mmask16)((unsigned)_mm512_mask_cmp_pd_mask(m, x, vth, _CMP_GE_OQ) << (8 * h));
        }
        /* in place: cand[k..] is at or before cand[i..], loaded already */
        _mm512_mask_compressstoreu_epi32(cand + k, keep, c);
        k += (size_t)__builtin_popcount(keep);
    }
    return k;
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
