// AVX-512 (F, BW, VL, VNNI) kernels. Only this file is compiled with AVX-512
// enabled (per-file options in CMake) and its code runs only after CPUID said
// yes. It must not define inline functions with external linkage (the linker
// could keep this AVX-512 copy for everyone), hence the helpers' anonymous
// namespaces. The 32-element block types process two blocks per 512-bit register and
// use VNNI's vpdpbusd (unsigned x signed bytes, summed into int32 lanes).
// K-quants keep the AVX2 kernels for now (see kernel_fill.h).
#include <immintrin.h>

#include "kernels/dot_avx2.h"
#include "kernels/kernel_fill.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx512 {
namespace {

using simd::half_at;
using quant::kQK;
constexpr size_t kQ8 = sizeof(quant::BlockQ8_0);

float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

// Two consecutive 16-byte nibble fields (at a and a + stride) as 64 bytes
// 0..15 in element order: [lo0, hi0, lo1, hi1] 16-byte lanes. Each field is
// copied to two lanes and the second copy shifted right by 4.
inline __m512i nibbles_64(const uint8_t* a, size_t stride) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q0),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + stride)), 1);
  const __m512i z = _mm512_castsi256_si512(v);
  const __m512i dup = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0));  // [q0, q0, q1, q1]
  const __m512i shift = _mm512_setr_epi32(0, 0, 0, 0, 0x40004, 0x40004, 0x40004, 0x40004, 0, 0, 0, 0, 0x40004,
                                          0x40004, 0x40004, 0x40004);
  return _mm512_and_si512(_mm512_srlv_epi16(dup, shift), _mm512_set1_epi8(0x0f));
}

inline __m512i act_64(const uint8_t* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(simd::load256(b + 2)), simd::load256(b + kQ8 + 2), 1);
}

// d_w * d_x of block pair (a, b) and (a + stride, b + kQ8), one per 256-bit half.
inline __m512 pair_scale(const uint8_t* a, const uint8_t* b, size_t stride) {
  const __m256 d0 = _mm256_set1_ps(half_at(a) * half_at(b));
  const __m256 d1 = _mm256_set1_ps(half_at(a + stride) * half_at(b + kQ8));
  return _mm512_insertf32x8(_mm512_castps256_ps512(d0), d1, 1);
}

// Pairs of blocks through `pair` (int32 lane sums of the signed products),
// an odd last block through the AVX2 kernel.
template <size_t kWeightBytes, class PairSums>
float dot_pairs(const uint8_t* w, const uint8_t* x, size_t n, PairSums pair, DotFn tail) {
  const size_t nb = n / kQK;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  // Sixteen blocks at a time: their 2 x 16 fp16 scales are converted with
  // two instructions (gathers are slower on Zen 5 than these 32 small
  // copies), and each pair takes its two products with one permute.
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; i + 16 <= nb; i += 16) {
    const uint8_t* a = w + i * kWeightBytes;
    const uint8_t* b = x + i * kQ8;
    // Weights stream from DRAM once per token: ask for them ~2 KB ahead.
    for (size_t line = 0; line < 16 * kWeightBytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(a + 2048 + line), _MM_HINT_T0);
    alignas(32) uint16_t hw[16], hx[16];
    for (int j = 0; j < 16; ++j) {
      std::memcpy(&hw[j], a + j * kWeightBytes, 2);
      std::memcpy(&hx[j], b + j * kQ8, 2);
    }
    const __m512 d = _mm512_mul_ps(_mm512_cvtph_ps(simd::load256(reinterpret_cast<const uint8_t*>(hw))),
                                   _mm512_cvtph_ps(simd::load256(reinterpret_cast<const uint8_t*>(hx))));
    for (int k = 0; k < 8; k += 2) {
      const __m512i pick0 = _mm512_srli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(16 * k)), 3);
      const __m512i pick1 = _mm512_srli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(16 * k + 16)), 3);
      const __m512i s0 = pair(a + 2 * k * kWeightBytes, b + 2 * k * kQ8);
      const __m512i s1 = pair(a + (2 * k + 2) * kWeightBytes, b + (2 * k + 2) * kQ8);
      acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick0, d), _mm512_cvtepi32_ps(s0), acc0);
      acc1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick1, d), _mm512_cvtepi32_ps(s1), acc1);
    }
  }
  for (; i + 2 <= nb; i += 2) {
    const uint8_t* a = w + i * kWeightBytes;
    const uint8_t* b = x + i * kQ8;
    acc0 = _mm512_fmadd_ps(pair_scale(a, b, kWeightBytes), _mm512_cvtepi32_ps(pair(a, b)), acc0);
  }
  float sum = hsum512(_mm512_add_ps(acc0, acc1));
  if (i < nb) sum += tail(w + i * kWeightBytes, x + i * kQ8, kQK);
  return sum;
}

float dot_q8_0(const uint8_t* w, const uint8_t* x, size_t n) {
  return dot_pairs<kQ8>(w, x, n, [](const uint8_t* a, const uint8_t* b) {
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(simd::load256(a + 2)), simd::load256(a + kQ8 + 2), 1);
    // vpdpbusd wants unsigned weights: use |q| and move q's sign onto y.
    const __m512i y = act_64(b);
    const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(q), _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(q), sy);
  }, avx2::dot_q8_0);
}

float dot_q4_0(const uint8_t* w, const uint8_t* x, size_t n) {
  constexpr size_t kBytes = sizeof(quant::BlockQ4_0);
  return dot_pairs<kBytes>(w, x, n, [](const uint8_t* a, const uint8_t* b) {
    // sum (q - 8) y = sum q y - 8 sum y, both as unsigned x signed products.
    const __m512i y = act_64(b);
    const __m512i qy = _mm512_dpbusd_epi32(_mm512_setzero_si512(), nibbles_64(a + 2, kBytes), y);
    const __m512i ey = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(8), y);
    return _mm512_sub_epi32(qy, ey);
  }, avx2::dot_q4_0);
}

float dot_q5_0(const uint8_t* w, const uint8_t* x, size_t n) {
  constexpr size_t kBytes = sizeof(quant::BlockQ5_0);
  return dot_pairs<kBytes>(w, x, n, [](const uint8_t* a, const uint8_t* b) {
    uint32_t qh0, qh1;
    std::memcpy(&qh0, a + 2, 4);
    std::memcpy(&qh1, a + kBytes + 2, 4);
    const __mmask64 fifth = _cvtu64_mask64(uint64_t(qh0) | (uint64_t(qh1) << 32));
    __m512i q = nibbles_64(a + 6, kBytes);
    q = _mm512_mask_add_epi8(q, fifth, q, _mm512_set1_epi8(16));
    const __m512i y = act_64(b);
    const __m512i qy = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, y);
    const __m512i ey = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(16), y);
    return _mm512_sub_epi32(qy, ey);
  }, avx2::dot_q5_0);
}

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
  auto set = [&](GgmlType type, ActFormat act, DotFn fn) { t.dot[uint32_t(type)] = {act, fn}; };
  set(GgmlType::F32, ActFormat::kF32, avx512::dot_f32);
  set(GgmlType::F16, ActFormat::kF32, avx512::dot_f16);
  set(GgmlType::Q8_0, ActFormat::kQ8_0, avx512::dot_q8_0);
  set(GgmlType::Q4_0, ActFormat::kQ8_0, avx512::dot_q4_0);
  set(GgmlType::Q5_0, ActFormat::kQ8_0, avx512::dot_q5_0);
}

}  // namespace minnow::kernels
