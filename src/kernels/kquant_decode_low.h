// Internal: the super-block types whose scales cover 16 elements (Q3_K,
// Q2_K, Q6_K) as their decode panels hold them (kquant_decode_panel.h), for
// the kernels of every ISA: where d, the scales and the offset terms sit,
// each group's values decoded plainly, and the conversion of a panel to
// the Q6K GEMM panel that prompts multiply. The weight of value v in
// sub-block j is d * scale_j * v - f * offset_j (Q3_K: v = u, f = 4 d,
// offset = scale; Q2_K: f = dmin, offset = min; Q6_K: f = 32 d, offset =
// scale); a group's two sub-blocks' scales and offsets come as int16 lane
// pairs (lane 2r: sub-block 2g of row r, 2r + 1: sub-block 2g + 1).
//
// Internal linkage, as kquant_decode_loops.h.
#pragma once

#include "kernels/kquant_decode_loops.h"
#include "kernels/kquant_decode_panel.h"
#include "kernels/kquant_panel_layout.h"

namespace minnow::kernels::decode_panels {
namespace {

// Q3_K: values 0..7 (weight d * scale * (u - 4)); the six-bit scales
// unpacked once a super-block; the offset is 4 d times the scales.
struct Q3KLayout {
  static constexpr size_t kBlockBytes = q3k_panel::kBlockBytes, kQsAt = q3k_panel::kQsAt,
                          kGroupBytes = q3k_panel::kGroupBytes, kDAt = q3k_panel::kDAt;
  static constexpr uint8_t kGemmBias = 28;  // the Q6K GEMM panel holds u - 4 as u + 28 (gemm_kquant_avx2.cpp)
  struct Scales {
    alignas(32) uint8_t bytes[128];  // signed, the panel's order
    explicit Scales(const uint8_t* p) {
      unpack_six_bit(p + q3k_panel::kScalesAt, bytes);
      unpack_six_bit(p + q3k_panel::kScalesAt + 48, bytes + 64);
      for (int i = 0; i < 128; i += 32)
        _mm256_store_si256(reinterpret_cast<__m256i*>(bytes + i),
                           _mm256_sub_epi8(simd::load256(bytes + i), _mm256_set1_epi8(32)));
    }
    __m256i pairs(int g) const { return int8_pairs(bytes + 16 * g); }
    __m256i offsets(int g) const { return pairs(g); }
  };
  static __m256 offset_factor(const uint8_t* p) {
    return _mm256_mul_ps(halves8(p + q3k_panel::kDAt), _mm256_set1_ps(4.0f));
  }
  // The GEMM panel's values are u + 28: its offset is 32 d times the scales.
  static __m256 gemm_factor(const uint8_t* p) {
    return _mm256_mul_ps(halves8(p + q3k_panel::kDAt), _mm256_set1_ps(32.0f));
  }
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    const __m256i v0 = simd::load256(q), v1 = simd::load256(q + 32), v2 = simd::load256(q + 64);
    const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4), m7 = _mm256_set1_epi8(7);
    a[0] = _mm256_and_si256(v0, m7);
    a[1] = _mm256_and_si256(v1, m7);
    a[2] = _mm256_and_si256(v2, m7);
    a[3] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v0, 6), m3), _mm256_and_si256(_mm256_srli_epi16(v2, 4), m4));
    b[0] = _mm256_and_si256(_mm256_srli_epi16(v0, 3), m7);
    b[1] = _mm256_and_si256(_mm256_srli_epi16(v1, 3), m7);
    b[2] = _mm256_and_si256(_mm256_srli_epi16(v2, 3), m7);
    b[3] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v1, 6), m3), _mm256_and_si256(_mm256_srli_epi16(v2, 5), m4));
  }
};

// Q2_K: values 0..3 (weight d * scale * q - dmin * min), the rows' scale
// bytes as they are: scales in the low nibbles, mins in the high ones.
struct Q2KLayout {
  static constexpr size_t kBlockBytes = q2k_panel::kBlockBytes, kQsAt = q2k_panel::kQsAt,
                          kGroupBytes = q2k_panel::kGroupBytes, kDAt = q2k_panel::kDAt;
  static constexpr uint8_t kGemmBias = 0;
  struct Scales {
    const uint8_t* p;
    explicit Scales(const uint8_t* panel) : p(panel + q2k_panel::kScalesAt) {}
    __m256i bytes(int g) const {
      return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)));
    }
    __m256i pairs(int g) const { return _mm256_and_si256(bytes(g), _mm256_set1_epi16(0x0f)); }
    __m256i offsets(int g) const { return _mm256_srli_epi16(bytes(g), 4); }
  };
  static __m256 offset_factor(const uint8_t* p) { return halves8(p + q2k_panel::kDminAt); }
  static __m256 gemm_factor(const uint8_t* p) { return offset_factor(p); }
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    const __m256i w0 = simd::load256(q), w1 = simd::load256(q + 32), m3 = _mm256_set1_epi8(3);
    for (int c = 0; c < 4; ++c) {
      a[c] = _mm256_and_si256(_mm256_srli_epi16(w0, 2 * c), m3);
      b[c] = _mm256_and_si256(_mm256_srli_epi16(w1, 2 * c), m3);
    }
  }
};

// Q6_K: values 0..63 (weight d * scale * (v - 32)): chunks 0-5 in the low
// six bits of six vectors, chunks 6 and 7 in their top two bits.
struct Q6KLayout {
  static constexpr size_t kBlockBytes = q6k_panel::kBlockBytes, kQsAt = q6k_panel::kQsAt,
                          kGroupBytes = q6k_panel::kGroupBytes, kDAt = q6k_panel::kDAt;
  static constexpr uint8_t kGemmBias = 0;
  struct Scales {
    const uint8_t* p;
    explicit Scales(const uint8_t* panel) : p(panel + q6k_panel::kScalesAt) {}
    __m256i pairs(int g) const { return int8_pairs(p + 16 * g); }
    __m256i offsets(int g) const { return pairs(g); }
  };
  static __m256 offset_factor(const uint8_t* p) {
    return _mm256_mul_ps(halves8(p + q6k_panel::kDAt), _mm256_set1_ps(32.0f));
  }
  static __m256 gemm_factor(const uint8_t* p) { return offset_factor(p); }
  // Bits 6-7 of x, y and z as one value's bits 0-1, 2-3 and 4-5.
  __attribute__((always_inline)) static __m256i top_bits(__m256i x, __m256i y, __m256i z) {
    const __m256i m3 = _mm256_set1_epi8(3);
    return _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x, 6), m3),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(y, 6), m3), 2)),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(z, 6), m3), 4));
  }
  // Top::top_bits gathers chunks 6 and 7 (an ISA may do it in fewer steps).
  template <class Top = Q6KLayout>
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    __m256i v[6];
    for (int i = 0; i < 6; ++i) v[i] = simd::load256(q + 32 * i);
    const __m256i m63 = _mm256_set1_epi8(63);
    for (int c = 0; c < 4; ++c) a[c] = _mm256_and_si256(v[c], m63);
    b[0] = _mm256_and_si256(v[4], m63);
    b[1] = _mm256_and_si256(v[5], m63);
    b[2] = Top::top_bits(v[0], v[1], v[4]);
    b[3] = Top::top_bits(v[2], v[3], v[5]);
  }
};

// A decode panel as the Q6K GEMM panel: d and the GEMM's offset factor f
// (Layout::gemm_factor) as floats, the scales in both lanes of each row,
// the offsets as pairs, the values plus Layout::kGemmBias.
template <class Layout>
void low_to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) {
  using Gemm = kquant_layout::Q6K;
  for (size_t sb = 0; sb < n / quant::kQK_K; ++sb, panel += Layout::kBlockBytes, out += Gemm::kBlockBytes) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), halves8(panel + Layout::kDAt));
    _mm256_storeu_ps(reinterpret_cast<float*>(out + Gemm::kFAt), Layout::gemm_factor(panel));
    typename Layout::Scales scales(panel);
    for (int g = 0; g < 8; ++g) {
      const __m256i pairs = scales.pairs(g);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + Gemm::kPairsAt + 32 * g), scales.offsets(g));
      store_pair_halves(pairs, out + Gemm::kScalesAt + 32 * (2 * g), out + Gemm::kScalesAt + 32 * (2 * g + 1));
      __m256i a[4], b[4];
      Layout::values(panel + Layout::kQsAt + Layout::kGroupBytes * g, a, b);
      uint8_t* group = out + Gemm::kQsAt + Gemm::kGroupBytes * g;
      const __m256i add = _mm256_set1_epi8(char(Layout::kGemmBias));
      for (int c = 0; c < 4; ++c) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * c), _mm256_add_epi8(a[c], add));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * (c + 4)), _mm256_add_epi8(b[c], add));
      }
    }
  }
}

}  // namespace
}  // namespace minnow::kernels::decode_panels
