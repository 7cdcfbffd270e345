// AVX-512 float dot kernels (F32, F16 rows against float activations). Only
// the AVX-512 files are compiled with AVX-512 enabled (per-file options in
// CMake) and their code runs only after CPUID said yes. They must not define
// inline functions with external linkage (the linker could keep this
// AVX-512 copy for everyone), hence the helpers' anonymous namespaces.
//
// The quantized types' single-token dots are 256-bit on this path: 512-bit
// dots (Q4_0/Q5_0/Q8_0 two blocks per register with vpdpbusd, Q4_K four
// sub-blocks) streamed slower than the AVX2 ones on the one AVX-512 Intel
// machine measured (docs/PERFORMANCE.md). Q4_K/Q5_K/Q6_K use vpdpwssd
// (dot_kquant_avx512.cpp).
// Batches of every integer type run the VNNI panel pairs of gemm_avx512.cpp
// and gemm_kquant_avx512.cpp.
#include <immintrin.h>

#include <cstdlib>

#include "kernels/kernel_fill.h"
#include "kernels/prefetch.h"
#include "kernels/simd_avx2.h"

namespace minnow::kernels::avx512 {
namespace {

float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

float dot_f32(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* a = reinterpret_cast<const float*>(w);
  const float* b = reinterpret_cast<const float*>(x);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return hsum512(_mm512_add_ps(acc0, acc1));
}

float dot_f16(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* b = reinterpret_cast<const float*>(x);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = _mm512_cvtph_ps(simd::load256(w + 2 * i));
    const __m512 w1 = _mm512_cvtph_ps(simd::load256(w + 2 * i + 32));
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + 2 * i));
    acc0 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return hsum512(_mm512_add_ps(acc0, acc1));
}

}  // namespace
}  // namespace minnow::kernels::avx512

namespace minnow::kernels {

void fill_avx512_kernels(KernelTable& t) {
  // Every type keeps the entry copied from the AVX2 table (F32/F16 their
  // float panels); the integer types' panel pairs become VNNI below.
  auto set_dots = [&](GgmlType type, ActFormat act, DotFn fn, Dot4Fn fn4) {
    DotKernel& k = t.dot[uint32_t(type)];
    k = dot_kernel(act, fn, fn4, k.panel);
  };
  // Types the AVX2 path repacks into decode panels start here from their
  // GEMM panels again: the VNNI multiplies below are set on those.
  for (DotKernel& k : t.dot)
    if (k.panel.per_call) k.panel = *k.panel.per_call;
  set_dots(GgmlType::F32, ActFormat::kF32, avx512::dot_f32, nullptr);
  set_dots(GgmlType::F16, ActFormat::kF32, avx512::dot_f16, nullptr);
  fill_vnni_panels(t, decode_pairs_in_512_bits(cpu_model(), std::getenv("MINNOW_DECODE_WIDTH")));
  fill_kquant_vnni_panels(t);
  fill_kquant_vnni_dots(t);
  fill_kquant_decode_panels(t);
}

}  // namespace minnow::kernels
