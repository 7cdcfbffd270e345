// Decode's K-quant dots (Q4_K, Q5_K, Q6_K; one row or two in lockstep) with
// AVX-512 VNNI in 256-bit registers: kquant_rows_avx2.h's super-block
// bodies, a sub-block's int16 products meeting their scale in one vpdpwssd
// where AVX2 spends a madd and an add. These dots are bound by their
// arithmetic more than the legacy types' panels (Machine C, one thread in
// cache: Q4_K/Q5_K 18-20 GB/s, Q6_K 24-26, against ~18 needed to keep up
// with DRAM on 2 threads).
//
// Only the AVX-512 files get AVX-512 flags; nothing here has external
// linkage but fill_kquant_vnni_dots.
#include <immintrin.h>

#include "kernels/kernel_fill.h"
#include "kernels/kquant_rows_avx2.h"

namespace minnow::kernels::avx2 {
namespace {

// MaddAdd's scale vectors; the int16 products meet them in one vpdpwssd.
struct Dpwssd : MaddAdd {
  static __m256i add(__m256i sum, __m256i p, __m256i scale) { return _mm256_dpwssd_epi32(sum, p, scale); }
};

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_kquant_vnni_dots(KernelTable& t) {
  using namespace avx2;
  auto set = [&](GgmlType type, DotFn dot, Dot2Fn dot2, Dot2TokensFn dot2_tokens) {
    t.dot[uint32_t(type)].dot = dot;
    t.dot[uint32_t(type)].dot2 = dot2;
    t.dot[uint32_t(type)].dot2_tokens = dot2_tokens;
  };
  set(GgmlType::Q4_K, dot_q45_k<false, Dpwssd>, dot2_q45_k<false, Dpwssd>, dot2_tokens_q45_k<false, Dpwssd>);
  set(GgmlType::Q5_K, dot_q45_k<true, Dpwssd>, dot2_q45_k<true, Dpwssd>, dot2_tokens_q45_k<true, Dpwssd>);
  set(GgmlType::Q6_K, dot_q6_k_rows<Dpwssd>, dot2_q6_k_rows<Dpwssd>, dot2_tokens_q6_k<Dpwssd>);
}

}  // namespace minnow::kernels
