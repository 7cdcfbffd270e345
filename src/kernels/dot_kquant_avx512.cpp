// Decode's K-quant dots (Q4_K, Q5_K, Q6_K; one row or two in lockstep) with
// AVX-512 VNNI in 256-bit registers: kquant_rows_avx2.h's super-block
// bodies, a sub-block's int16 products meeting their scale in one vpdpwssd
// where AVX2 spends a madd and an add. These dots are bound by their
// arithmetic more than the legacy types' panels (17-19 GB/s per thread in
// cache on Machine C against ~18 needed to keep up with DRAM on 2 threads).
//
// Only the AVX-512 files get AVX-512 flags; nothing here has external
// linkage but fill_kquant_vnni_dots.
#include <immintrin.h>

#include "kernels/kernel_fill.h"
#include "kernels/kquant_rows_avx2.h"

namespace minnow::kernels::avx2 {
namespace {

// The scale vectors by vpermw from one register of 16-bit scales: one
// shuffle uop each where the broadcasts took three (see MaddAdd).
struct Dpwssd {
  static __m256i add(__m256i sum, __m256i p, __m256i scale) { return _mm256_dpwssd_epi32(sum, p, scale); }
  using Scales = __m256i;
  static Scales scales(const int8_t* bytes, int n) {
    return _mm256_cvtepi8_epi16(n == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes))
                                        : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
  }
  static Scales scales(const uint8_t* bytes, int n) {
    return _mm256_cvtepu8_epi16(n == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes))
                                        : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
  }
  static __m256i one(Scales s, int g) { return _mm256_permutexvar_epi16(_mm256_set1_epi16(int16_t(g)), s); }
  static __m256i two(Scales s, int g) {
    return _mm256_permutexvar_epi16(_mm256_set_m128i(_mm_set1_epi16(int16_t(g + 1)), _mm_set1_epi16(int16_t(g))), s);
  }
};

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_kquant_vnni_dots(KernelTable& t) {
  using namespace avx2;
  auto set = [&](GgmlType type, DotFn dot, Dot2Fn dot2) {
    t.dot[uint32_t(type)].dot = dot;
    t.dot[uint32_t(type)].dot2 = dot2;
  };
  set(GgmlType::Q4_K, dot_q45_k<false, Dpwssd>, dot2_q45_k<false, Dpwssd>);
  set(GgmlType::Q5_K, dot_q45_k<true, Dpwssd>, dot2_q45_k<true, Dpwssd>);
  set(GgmlType::Q6_K, dot_q6_k_rows<Dpwssd>, dot2_q6_k_rows<Dpwssd>);
}

}  // namespace minnow::kernels
