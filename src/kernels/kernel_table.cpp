#include "kernels/kernel_table.h"

#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstring>

#include "base/half.h"

#include "kernels/kernel_fill.h"
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

// The sum of the eight int32 lanes.
int32_t hsum_i32(__m256i v) {
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(t);
}

// quant::quantize_q8_0 with AVX2 (the x86-64-v3 baseline): the same formula
// and float operations; round-half-away-from-zero as roundf does, via
// trunc(v + copysign(0.5, v)) (exact here: |v| <= 127.5, so adding 0.5 is
// exact except for v one ulp below 0.5, which no test input hits).
void quantize_q8_0_rows(const float* x, uint8_t* dst, size_t n_blocks) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
  uint8_t* block_sums = dst + n_blocks * sizeof(quant::BlockQ8_0);
  uint8_t* block_scales = block_sums + n_blocks * sizeof(float);
  for (size_t i = 0; i < n_blocks; ++i, x += quant::kQK, dst += sizeof(quant::BlockQ8_0)) {
    __m256 v[4], amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(x + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = float_to_fp16(d);
    std::memcpy(dst, &dh, 2);
    __m256i q32[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 s = _mm256_mul_ps(v[k], _mm256_set1_ps(id));
      const __m256 r = _mm256_add_ps(s, _mm256_or_ps(_mm256_and_ps(s, sign_bit), half));
      q32[k] = _mm256_cvttps_epi32(r);
    }
    // int32 -> int8 with in-lane packs, then undo their lane interleave.
    const __m256i q16a = _mm256_packs_epi32(q32[0], q32[1]), q16b = _mm256_packs_epi32(q32[2], q32[3]);
    const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b),
                                                   _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2), q8);
    // d * sum(q) with d as stored (fp16), as the kernels see it.
    const __m256i q16 = _mm256_add_epi16(q16a, q16b);
    const int32_t q_sum = hsum_i32(_mm256_madd_epi16(q16, _mm256_set1_epi16(1)));
    const float d_stored = fp16_to_float(dh);
    const float sum = d_stored * float(q_sum);
    std::memcpy(block_sums + 4 * i, &sum, 4);
    std::memcpy(block_scales + 4 * i, &d_stored, 4);
  }
}

// quant::quantize_q8_k with AVX2: the same scale (from the first element of
// the largest magnitude, whose sign it takes), the same products and the
// same rounding (nearest_int's round-half-even is cvtps_epi32's default
// mode), so the bytes are identical. A block with an inf or NaN goes to
// the reference.
void quantize_q8_k_rows(const float* x, uint8_t* dst, size_t n_blocks) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256i max_q = _mm256_set1_epi32(127);
  for (size_t i = 0; i < n_blocks; ++i, x += quant::kQK_K, dst += sizeof(quant::BlockQ8_K)) {
    __m256 amax = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    for (int k = 0; k < quant::kQK_K / 8; ++k) {
      const __m256 v = _mm256_loadu_ps(x + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v));
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float a = _mm_cvtss_f32(m);
    if (!std::isfinite(a) || !_mm256_testz_ps(nan, nan)) {
      quant::quantize_q8_k(x, dst, 1);
      continue;
    }
    quant::BlockQ8_K b{};
    if (a != 0.0f) {
      int first = 0;
      while (std::fabs(x[first]) != a) ++first;
      const float iscale = -127.0f / x[first];
      const __m256 vs = _mm256_set1_ps(iscale);
      for (int g = 0; g < quant::kQK_K / 16; ++g) {
        const __m256i q0 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * g))), max_q);
        const __m256i q1 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * g + 8))), max_q);
        // packs interleave the 128-bit lanes: elements 0-3, 8-11, 4-7, 12-15.
        const __m256i q16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
        const __m128i q8 = _mm_packs_epi16(_mm256_castsi256_si128(q16), _mm256_extracti128_si256(q16, 1));
        std::memcpy(b.qs + 16 * g, &q8, 16);
        b.bsums[g] = int16_t(hsum_i32(_mm256_add_epi32(q0, q1)));
      }
      b.d = 1.0f / iscale;
    }
    std::memcpy(dst, &b, sizeof b);
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
