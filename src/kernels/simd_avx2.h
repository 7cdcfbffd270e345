// Internal: AVX2 building blocks shared by the AVX2 and AVX-512 kernel files.
// Only included by per-ISA files, which are compiled for at least AVX2+FMA+F16C
// (the x86-64-v3 baseline).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace minnow::kernels::simd {
// Internal linkage on purpose: the AVX-512 file includes this too, and its
// copies must never replace the AVX2 file's at link time.
namespace {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Products of signed bytes summed in groups of four into 8 int32. maddubs
// wants an unsigned left operand, so the sign of x moves onto y.
inline __m256i dot_s8(__m256i x, __m256i y) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// The 16 bytes of a 32-element nibble block as 32 bytes 0..15 in element
// order: low nibbles are elements 0..15, high nibbles 16..31.
inline __m256i nibbles_32(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Byte k = 0xff when bit k of `bits` is set, else 0.
inline __m256i bits_to_bytes(uint32_t bits) {
  // Byte k looks at byte k/8 of `bits` (shuffle stays inside 128-bit lanes, and
  // set1_epi32 repeats all four bytes in both lanes), then tests bit k%8.
  const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                        3, 3, 3, 3, 3, 3);
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)), pick);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

inline __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

}  // namespace
}  // namespace minnow::kernels::simd
