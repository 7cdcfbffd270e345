// Internal: how the AVX2 kernels decode one 32-element block of each legacy
// weight type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL). Shared by the dot kernels and the panel
// GEMM; included only by files compiled for at least x86-64-v3.
#pragma once

#include <cstddef>

#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx2 {
namespace {  // internal linkage, as in simd_avx2.h

using namespace simd;
constexpr size_t kQ8 = sizeof(quant::BlockQ8_0);
// Where a Q8_K activation block keeps its values and its 16-element sums.
constexpr size_t kQ8KQs = offsetof(quant::BlockQ8_K, qs), kQ8KBsums = offsetof(quant::BlockQ8_K, bsums);
constexpr size_t kQ8KBytes = sizeof(quant::BlockQ8_K);

// The IQ4 codebook (quant::kIq4Values, the reference decoding's table) in
// both lanes: one pshufb maps 32 nibbles to their int8 values.
inline __m256i iq4_codebook() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIq4Values)));
}

// Per-type block decoding. Q4_0/Q5_0 decode to unsigned bytes u with an
// offset (value = u - c): maddubs(u, y) sums u * y, and c * d_w * d_x * sum(y)
// comes off once per eight blocks from the activations' precomputed sums.
// Q8_0 bytes are signed already, so their sign moves onto y instead.
// kSumChunks: how many maddubs results of 4-element chunks (two products per
// int16 lane, |y| <= 127) int16 lanes can add before they could overflow.
// kMinAt: where a type with value = d * u + m keeps its fp16 m (0: none);
// the m term then needs only the activations' d * sum(q) as well. kSigned
// and kSumChunks are read by the panel GEMM.
struct Q4_0Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ4_0);
  static constexpr size_t kMinAt = 0;
  static constexpr float kOffset = 8.0f;
  static constexpr bool kSigned = false;
  static constexpr int kSumChunks = 8;  // 16 * 15 * 127 < 2^15
  static __m256i unpack(const uint8_t* a) { return nibbles_32(a + 2); }
  static __m256i sums(__m256i u, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
  }
};
struct Q5_0Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ5_0);
  static constexpr size_t kMinAt = 0;
  static constexpr float kOffset = 16.0f;
  static constexpr bool kSigned = false;
  static constexpr int kSumChunks = 4;  // 8 * 31 * 127 < 2^15
  static __m256i unpack(const uint8_t* a) {
    uint32_t qh;
    std::memcpy(&qh, a + 2, 4);
    return _mm256_or_si256(nibbles_32(a + 6), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(16)));
  }
  static __m256i sums(__m256i u, __m256i y) { return Q4_0Block::sums(u, y); }
};
struct Q8_0Block {
  static constexpr size_t kBytes = kQ8;
  static constexpr size_t kMinAt = 0;
  static constexpr float kOffset = 0.0f;
  static constexpr bool kSigned = true;
  static constexpr int kSumChunks = 1;  // 2 * 127 * 127 < 2^15, no more
  static __m256i unpack(const uint8_t* a) { return load256(a + 2); }
  static __m256i sums(__m256i q, __m256i y) { return dot_s8(q, y); }
};
struct Q4_1Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ4_1);
  static constexpr size_t kMinAt = 2;
  static constexpr float kOffset = 0.0f;
  static constexpr bool kSigned = false;
  static constexpr int kSumChunks = Q4_0Block::kSumChunks;
  static __m256i unpack(const uint8_t* a) { return nibbles_32(a + 4); }
  static __m256i sums(__m256i u, __m256i y) { return Q4_0Block::sums(u, y); }
};
struct Q5_1Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ5_1);
  static constexpr size_t kMinAt = 2;
  static constexpr float kOffset = 0.0f;
  static constexpr bool kSigned = false;
  static constexpr int kSumChunks = Q5_0Block::kSumChunks;
  static __m256i unpack(const uint8_t* a) { return Q5_0Block::unpack(a + 2); }  // Q5_0's layout after m
  static __m256i sums(__m256i u, __m256i y) { return Q4_0Block::sums(u, y); }
};
struct IQ4_NLBlock {
  static constexpr size_t kBytes = sizeof(quant::BlockIQ4_NL);
  static constexpr size_t kMinAt = 0;
  static constexpr float kOffset = 0.0f;
  static constexpr bool kSigned = true;  // decoded, a block is a Q8_0 block
  static constexpr int kSumChunks = 1;
  static __m256i unpack(const uint8_t* a) { return _mm256_shuffle_epi8(iq4_codebook(), nibbles_32(a + 2)); }
  // Codes are >= -127, so dot_s8's |q| never overflows a byte.
  static __m256i sums(__m256i q, __m256i y) { return dot_s8(q, y); }
};

}  // namespace
}  // namespace minnow::kernels::avx2
