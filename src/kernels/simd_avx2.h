// Internal: AVX2 building blocks shared by the AVX2 and AVX-512 kernel files.
// Only included by per-ISA files, which are compiled for at least AVX2+FMA+F16C
// (the x86-64-v3 baseline).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/prefetch.h"

namespace minnow::kernels::simd {
// Internal linkage on purpose: the AVX-512 file includes this too, and its
// copies must never replace the AVX2 file's at link time.
namespace {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float float_at(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
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
  // A broadcast load (no shuffle uop), then the upper lane shifted by 4.
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f));
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

// The eight 6-bit scales and mins of a Q4_K/Q5_K super-block (12 bytes at s),
// one per byte: scales 0-3 and mins 0-3 are the low 6 bits of bytes 0-7;
// 4-7 take their low 4 bits from bytes 8-11 and their top 2 from the spare
// top bits of bytes 0-7. Word-wide so it costs a dozen instructions.
inline void unpack_k_scales(const uint8_t* s, uint64_t& scales, uint64_t& mins) {
  uint32_t u0, u1, u2;
  std::memcpy(&u0, s, 4);
  std::memcpy(&u1, s + 4, 4);
  std::memcpy(&u2, s + 8, 4);
  const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
  const uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
  scales = uint64_t(u0 & 0x3f3f3f3fu) | (uint64_t(sc_hi) << 32);
  mins = uint64_t(u1 & 0x3f3f3f3fu) | (uint64_t(m_hi) << 32);
}

// The eight 6-bit mins as int16 pairs m0 m0 m1 m1 ..., one per 16-group
// of bsums.
inline __m256i k_min_pairs(uint64_t mins) {
  const __m128i m8 = _mm_cvtsi64_si128(int64_t(mins));
  return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
}

// sum_g mins[g] * (bsums[2g] + bsums[2g+1]) as 8 int32 lanes (one per g).
inline __m256i k_min_products(uint64_t mins, const uint8_t* bsums) {
  return _mm256_madd_epi16(k_min_pairs(mins), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)));
}

// Rows r[0..7] of 8 int32 each, transposed in place: r[c] becomes element c
// of every row (row order kept).
inline void transpose8x8_epi32(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7
    __m256i* tt = t + 4 * h;
    u[4 * h + 0] = _mm256_unpacklo_epi64(tt[0], tt[2]);
    u[4 * h + 1] = _mm256_unpackhi_epi64(tt[0], tt[2]);
    u[4 * h + 2] = _mm256_unpacklo_epi64(tt[1], tt[3]);
    u[4 * h + 3] = _mm256_unpackhi_epi64(tt[1], tt[3]);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
    r[c + 4] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
  }
}

// rows[r] holds 8 bytes of row r; cols[k] gets byte k of every row as int16
// lane r, sign- or zero-extended (per-row scales into madd lanes).
template <bool kSigned>
inline void transpose_bytes_to_i16(const uint64_t rows[8], __m128i cols[8]) {
  __m128i t[4];
  for (int i = 0; i < 4; ++i)
    t[i] = _mm_unpacklo_epi8(_mm_cvtsi64_si128(int64_t(rows[2 * i])), _mm_cvtsi64_si128(int64_t(rows[2 * i + 1])));
  const __m128i lo01 = _mm_unpacklo_epi16(t[0], t[1]), hi01 = _mm_unpackhi_epi16(t[0], t[1]);
  const __m128i lo23 = _mm_unpacklo_epi16(t[2], t[3]), hi23 = _mm_unpackhi_epi16(t[2], t[3]);
  // Each holds two columns of 8 bytes: (0, 1), (2, 3), (4, 5), (6, 7).
  const __m128i two[4] = {_mm_unpacklo_epi32(lo01, lo23), _mm_unpackhi_epi32(lo01, lo23),
                          _mm_unpacklo_epi32(hi01, hi23), _mm_unpackhi_epi32(hi01, hi23)};
  for (int i = 0; i < 4; ++i) {
    const __m128i high = _mm_srli_si128(two[i], 8);
    cols[2 * i] = kSigned ? _mm_cvtepi8_epi16(two[i]) : _mm_cvtepu8_epi16(two[i]);
    cols[2 * i + 1] = kSigned ? _mm_cvtepi8_epi16(high) : _mm_cvtepu8_epi16(high);
  }
}

// Calls f(std::integral_constant<int, K>{}, t) for token groups [t, t + K)
// covering n_tokens: groups of kGroup, then one group of the 1..kGroup-1
// left. Panel kernels are templates on K so that each group's accumulators
// stay in registers.
template <int kGroup = 4, class F>
inline void for_token_groups(size_t n_tokens, F&& f) {
  size_t t = 0;
  for (; t + kGroup <= n_tokens; t += kGroup) f(std::integral_constant<int, kGroup>{}, t);
  const size_t rest = n_tokens - t;
  [&]<int... k>(std::integer_sequence<int, k...>) {
    ((rest == size_t(k + 1) ? (f(std::integral_constant<int, k + 1>{}, t), 0) : 0), ...);
  }(std::make_integer_sequence<int, kGroup - 1>{});
}

// Calls f(std::integral_constant<int, n_tokens>{}) where 2 <= n_tokens <=
// kMax (a small batch's kernel, a template on its token count); nothing
// otherwise.
template <int kMax, class F>
inline void with_token_count(size_t n_tokens, F&& f) {
  [&]<int... k>(std::integer_sequence<int, k...>) {
    ((n_tokens == size_t(k + 2) ? (f(std::integral_constant<int, k + 2>{}), 0) : 0), ...);
  }(std::make_integer_sequence<int, kMax - 1>{});
}

inline __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Asks for every 64-byte line of [p, p + bytes) (weights streaming from
// DRAM; callers choose how far ahead p is).
inline void prefetch_lines(const uint8_t* p, size_t bytes) {
  for (size_t line = 0; line < bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(p + line), _MM_HINT_T0);
}

// Decode streams each weight row from DRAM once: asking ahead lets the
// loads of later blocks overlap this one's arithmetic where the CPU's own
// prefetchers do not (prefetch.h: how far, per CPU). `bytes`: what the
// caller is about to read at p.
inline void prefetch_ahead(const uint8_t* p, size_t bytes) {
  if (const size_t ahead = decode_prefetch_bytes()) prefetch_lines(p + ahead, bytes);
}

// The 4 bytes at p in every 32-bit lane (one chunk of activations for the
// panel kernels).
inline __m256i broadcast4(const uint8_t* p) {
  int32_t four;
  std::memcpy(&four, p, 4);
  return _mm256_set1_epi32(four);
}

// Half `half` (elements 128 * half ...) of a Q6_K super-block `a` as four
// vectors of 32 values 0..63: q[k] holds elements 128 * half + 32k ...
inline void q6_k_half(const uint8_t* a, int half, __m256i q[4]) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(3);
  const uint8_t* ql = a + 64 * half;
  const __m256i h = load256(a + 128 + 32 * half);
  const __m256i l0 = load256(ql), l1 = load256(ql + 32);
  q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(h, two), 4));
  q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two), 4));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two), 4));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two), 4));
}

// 2-bit plane `plane` (0..3) of 32 bytes of qs: elements 32 * plane ... of
// their 128-element half, as bytes 0..3.
inline __m256i plane2(__m256i q, int plane) {
  return _mm256_and_si256(_mm256_srli_epi16(q, 2 * plane), _mm256_set1_epi8(3));
}

// Bit `from` of every byte of v moved to bit `to`, the other bits cleared.
// 16-bit shifts suffice: the bit kept never comes from the neighbouring byte.
inline __m256i move_bit(__m256i v, int from, int to) {
  const __m256i s = from <= to ? _mm256_slli_epi16(v, to - from) : _mm256_srli_epi16(v, from - to);
  return _mm256_and_si256(s, _mm256_set1_epi8(int8_t(1 << to)));
}

// Bit `bit` of every hmask byte as 4 or 0 (Q3_K's third bit).
inline __m256i hbit_as_4(__m256i hm, int bit) { return move_bit(hm, bit, 2); }

// The sixteen Q3_K scales, unbiased to -32..31, one int8 each. Word-wide:
// scales 4k..4k+3 take nibble k / 2 of bytes 4 * (k % 2) ... and bits
// 2k, 2k + 1 of bytes 8..11.
inline __m128i q3_k_scales(const uint8_t* s) {
  uint32_t u0, u1, u2;
  std::memcpy(&u0, s, 4);
  std::memcpy(&u1, s + 4, 4);
  std::memcpy(&u2, s + 8, 4);
  constexpr uint32_t kLow = 0x0f0f0f0fu, kHigh = 0x03030303u;
  const uint32_t s0 = (u0 & kLow) | ((u2 & kHigh) << 4);
  const uint32_t s1 = (u1 & kLow) | (((u2 >> 2) & kHigh) << 4);
  const uint32_t s2 = ((u0 >> 4) & kLow) | (((u2 >> 4) & kHigh) << 4);
  const uint32_t s3 = ((u1 >> 4) & kLow) | (((u2 >> 6) & kHigh) << 4);
  return _mm_sub_epi8(_mm_setr_epi32(int(s0), int(s1), int(s2), int(s3)), _mm_set1_epi8(32));
}

}  // namespace
}  // namespace minnow::kernels::simd
