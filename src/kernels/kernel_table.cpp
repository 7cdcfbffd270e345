#include "kernels/kernel_table.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "base/half.h"

#include "kernels/kernel_fill.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"
#include "quant/k_quants.h"
#include "quant/legacy_blocks.h"

namespace minnow::kernels {

size_t act_row_bytes(ActFormat format, size_t n) {
  switch (format) {
    case ActFormat::kF32: return n * sizeof(float);
    case ActFormat::kQ8_0: return n / quant::kQK * (sizeof(quant::BlockQ8_0) + 2 * sizeof(float));
    case ActFormat::kQ8_K: return n / quant::kQK_K * sizeof(quant::BlockQ8_K);
  }
  return 0;
}

namespace {

using simd::hsum;

// 32 floats -> 32 int8 (saturating packs, in element order) from four
// int32 vectors of eight.
__m256i pack_q8(const __m256i q32[4]) {
  const __m256i q16a = _mm256_packs_epi32(q32[0], q32[1]), q16b = _mm256_packs_epi32(q32[2], q32[3]);
  // The packs interleave the 128-bit lanes; the permute undoes it.
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The four int32 sums of each 16-byte half of four 32-byte vectors of int8,
// reduced to one sum per half: [h0 h2 h4 h6 | h1 h3 h5 h7] for vectors
// 0..3 holding halves 0..7.
__m256i half_sums(const __m256i q8[4]) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i quads[4];
  for (int k = 0; k < 4; ++k) quads[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q8[k]), ones16);
  return _mm256_hadd_epi32(_mm256_hadd_epi32(quads[0], quads[1]), _mm256_hadd_epi32(quads[2], quads[3]));
}

// quant::quantize_q8_0 with AVX2 (the x86-64-v3 baseline): the same formula
// and float operations; round-half-away-from-zero as roundf does, via
// trunc(v + copysign(0.5, v)) (exact here: |v| <= 127.5, so adding 0.5 is
// exact except for v one ulp below 0.5, which no test input hits). Eight
// blocks at a time share the scalar steps (scale, its fp16 rounding, the
// reciprocal) as vector ones: one block after another they were a chain
// of dependent scalar operations per 32 values.
void quantize_q8_0_rows(const float* x, uint8_t* dst, size_t n_blocks) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
  uint8_t* block_sums = dst + n_blocks * sizeof(quant::BlockQ8_0);
  uint8_t* block_scales = block_sums + n_blocks * sizeof(float);
  for (size_t i0 = 0; i0 < n_blocks; i0 += 8) {
    const size_t nb = std::min<size_t>(8, n_blocks - i0);
    alignas(32) float amax[8] = {};
    for (size_t i = 0; i < nb; ++i) {
      const float* xb = x + (i0 + i) * quant::kQK;
      __m256 m = _mm256_setzero_ps();
      for (int k = 0; k < 4; ++k) m = _mm256_max_ps(m, _mm256_andnot_ps(sign_bit, _mm256_loadu_ps(xb + 8 * k)));
      __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
      h = _mm_max_ps(h, _mm_movehl_ps(h, h));
      amax[i] = _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
    }
    const __m256 d = _mm256_div_ps(_mm256_load_ps(amax), _mm256_set1_ps(127.0f));
    const __m256 nonzero = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_UQ);
    const __m256 id = _mm256_and_ps(_mm256_div_ps(_mm256_set1_ps(1.0f), d), nonzero);
    alignas(32) uint16_t dh[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(dh), _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
    // F16C rounds to nearest even like float_to_fp16 but keeps NaN payloads.
    if (!_mm256_testz_ps(_mm256_cmp_ps(d, d, _CMP_UNORD_Q), _mm256_cmp_ps(d, d, _CMP_UNORD_Q))) {
      alignas(32) float ds[8];
      _mm256_store_ps(ds, d);
      for (int i = 0; i < 8; ++i) dh[i] = float_to_fp16(ds[i]);
    }
    const __m256 d_stored = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dh)));
    alignas(32) float ids[8];
    _mm256_store_ps(ids, id);
    __m256i q8[8];
    for (size_t i = 0; i < nb; ++i) {
      const float* xb = x + (i0 + i) * quant::kQK;
      uint8_t* out = dst + (i0 + i) * sizeof(quant::BlockQ8_0);
      const __m256 scale = _mm256_set1_ps(ids[i]);
      __m256i q32[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 s = _mm256_mul_ps(_mm256_loadu_ps(xb + 8 * k), scale);
        q32[k] = _mm256_cvttps_epi32(_mm256_add_ps(s, _mm256_or_ps(_mm256_and_ps(s, sign_bit), half)));
      }
      q8[i] = pack_q8(q32);
      std::memcpy(out, &dh[i], 2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2), q8[i]);
    }
    for (size_t i = nb; i < 8; ++i) q8[i] = _mm256_setzero_si256();
    // Each block's sum(q): its two halves' sums, added.
    const __m256i h0 = half_sums(q8), h1 = half_sums(q8 + 4);  // [b0a b1a b2a b3a | b0b b1b b2b b3b]
    const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
    // d * sum(q) with d as stored (fp16), as the kernels see it.
    alignas(32) float prod[8], scales[8];
    _mm256_store_ps(prod, _mm256_mul_ps(d_stored, _mm256_cvtepi32_ps(sums)));
    _mm256_store_ps(scales, d_stored);
    std::memcpy(block_sums + 4 * i0, prod, 4 * nb);
    std::memcpy(block_scales + 4 * i0, scales, 4 * nb);
  }
}

// quant::quantize_q8_k with AVX2: the same scale (from the first element of
// the largest magnitude, whose sign it takes), the same products and the
// same rounding (nearest_int's round-half-even is cvtps_epi32's default
// mode), so the bytes are identical. A block with an inf or NaN goes to
// the reference (found through the block's float sum, which overflow also
// sends there). Group sums come from the stored int8 values.
void quantize_q8_k_rows(const float* x, uint8_t* dst, size_t n_blocks) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (size_t i = 0; i < n_blocks; ++i, x += quant::kQK_K, dst += sizeof(quant::BlockQ8_K)) {
    // Four chains each: one max or add after another waited on its latency.
    __m256 maxes[4], sums[4];
    for (int c = 0; c < 4; ++c) maxes[c] = sums[c] = _mm256_setzero_ps();
    for (int k = 0; k < quant::kQK_K / 8; ++k) {
      const __m256 v = _mm256_loadu_ps(x + 8 * k);
      maxes[k % 4] = _mm256_max_ps(maxes[k % 4], _mm256_andnot_ps(sign_bit, v));
      sums[k % 4] = _mm256_add_ps(sums[k % 4], v);
    }
    const __m256 amax = _mm256_max_ps(_mm256_max_ps(maxes[0], maxes[1]), _mm256_max_ps(maxes[2], maxes[3]));
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(sums[0], sums[1]), _mm256_add_ps(sums[2], sums[3]));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float a = _mm_cvtss_f32(m);
    if (!std::isfinite(a) || !std::isfinite(hsum(sum))) {
      quant::quantize_q8_k(x, dst, 1);
      continue;
    }
    if (a == 0.0f) {
      std::memset(dst, 0, sizeof(quant::BlockQ8_K));
      continue;
    }
    const __m256 va = _mm256_set1_ps(a);
    int first = 0;
    for (int k = 0;; ++k) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + 8 * k)), va, _CMP_EQ_OQ));
      if (hit) {
        first = 8 * k + __builtin_ctz(unsigned(hit));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    __m256i q8[8];
    for (int c = 0; c < 8; ++c) {
      __m256i q32[4];
      for (int k = 0; k < 4; ++k) q32[k] = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 32 * c + 8 * k)));
      // |iscale * x| <= 127 (plus rounding), so the saturating packs are
      // the reference's min(127, .) and the stored bytes are the values.
      q8[c] = pack_q8(q32);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + offsetof(quant::BlockQ8_K, qs) + 32 * c), q8[c]);
    }
    // Sums of the 16 groups of 16: [g0 g2 g4 g6 | g1 g3 g5 g7], then 8..15.
    const __m256i lo = half_sums(q8), hi = half_sums(q8 + 4);
    const __m256i packed = _mm256_packs_epi32(lo, hi);  // [g0 g2 .. g14 | g1 g3 .. g15] as int16
    const __m128i even = _mm256_castsi256_si128(packed), odd = _mm256_extracti128_si256(packed, 1);
    uint8_t* bsums = dst + offsetof(quant::BlockQ8_K, bsums);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums), _mm_unpacklo_epi16(even, odd));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums + 16), _mm_unpackhi_epi16(even, odd));
    const float d = 1.0f / iscale;
    std::memcpy(dst, &d, 4);
  }
}

}  // namespace

void quantize_act(ActFormat format, const float* x, uint8_t* out, size_t n) {
  switch (format) {
    case ActFormat::kF32: __builtin_memcpy(out, x, n * sizeof(float)); return;
    case ActFormat::kQ8_0: quantize_q8_0_rows(x, out, n / quant::kQK); return;
    case ActFormat::kQ8_K: quantize_q8_k_rows(x, out, n / quant::kQK_K); return;
  }
}

namespace {

struct Tables {
  std::array<KernelTable, kIsaCount> table;
  std::array<bool, kIsaCount> usable{};
  Isa chosen = Isa::kScalar;

  Tables() {
    fill_scalar_kernels(table[0]);
    usable[0] = true;
    if (isa_supported(Isa::kAvx2)) {
      table[1] = table[0];
      fill_avx2_kernels(table[1]);
      usable[1] = true;
    }
    if (isa_supported(Isa::kAvx512)) {
      table[2] = table[1];
      fill_avx512_kernels(table[2]);
      usable[2] = true;
    }
    for (int i = 0; i < kIsaCount; ++i) table[i].isa = Isa(i);
    chosen = choose_isa();
  }
};

const Tables& tables() {
  static const Tables t;  // filled once; thread-safe initialisation
  return t;
}

}  // namespace

const KernelTable& kernel_table() { return tables().table[int(tables().chosen)]; }

const KernelTable* kernel_table_for(Isa isa) {
  const Tables& t = tables();
  return t.usable[int(isa)] ? &t.table[int(isa)] : nullptr;
}

}  // namespace minnow::kernels
