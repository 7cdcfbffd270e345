// AVX2 dot kernels for Q4_1, Q5_1, IQ4_NL (32-element blocks against Q8_0
// activations) and BF16 (against floats). The block loop follows
// dot_avx2.cpp's dot_rows: eight blocks share one fp16 scale conversion, two
// accumulators hide the FMA latency for one token, and the four-token form
// (prefill) decodes each weight block once for all four.
#include "base/half.h"
#include "kernels/kernel_fill.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx2 {
namespace {

using namespace simd;
using quant::kQK;
constexpr size_t kQ8 = sizeof(quant::BlockQ8_0);

// Per-type decoding of one block into 32 bytes, and their products with 32
// int8 activations as 8 int32 lanes. kHasMin: value = d * u + m, with the fp16
// m right after d; the m term then needs only the activations' d * sum(q).
struct Q4_1Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ4_1);
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* a) { return nibbles_32(a + 4); }
  // u <= 15 fits maddubs' unsigned operand: 2 * 15 * 127 cannot saturate.
  static __m256i sums(__m256i u, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
  }
};
struct Q5_1Block {
  static constexpr size_t kBytes = sizeof(quant::BlockQ5_1);
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* a) {
    uint32_t qh;
    std::memcpy(&qh, a + 4, 4);
    return _mm256_or_si256(nibbles_32(a + 8), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(16)));
  }
  // u <= 31: 2 * 31 * 127 still fits int16.
  static __m256i sums(__m256i u, __m256i y) { return Q4_1Block::sums(u, y); }
};
struct IQ4_NLBlock {
  static constexpr size_t kBytes = sizeof(quant::BlockIQ4_NL);
  static constexpr bool kHasMin = false;
  // The codebook as 16 bytes in both lanes: one pshufb maps 32 nibbles to
  // their int8 values (quant::kIq4Values, the reference decoding's table).
  static __m256i codebook() {
    __m128i t;
    std::memcpy(&t, quant::kIq4Values, 16);
    return _mm256_broadcastsi128_si256(t);
  }
  static __m256i unpack(const uint8_t* a) { return _mm256_shuffle_epi8(codebook(), nibbles_32(a + 2)); }
  // Codes are >= -127, so dot_s8's |q| never overflows a byte.
  static __m256i sums(__m256i q, __m256i y) { return dot_s8(q, y); }
};

// Decode streams each weight row from DRAM once; 2 KB ahead is the distance
// dot_avx2.cpp measured best for its block kernels.
inline void prefetch_ahead(const uint8_t* p, size_t bytes) { prefetch_lines(p + 2048, bytes); }

// fp16 values at p, p + stride, ... (8 of them) as floats: the d (or m) of
// eight consecutive blocks. Packed in general-purpose registers rather than
// stored and reloaded: a vector load of eight narrow stores stalls store
// forwarding (dot_avx2.cpp's scales8 does the same for that reason).
inline __m256 halves8(const uint8_t* p, size_t stride) {
  auto h = [&](int j) {
    uint16_t v;
    std::memcpy(&v, p + j * stride, 2);
    return uint64_t(v);
  };
  const uint64_t lo = h(0) | h(1) << 16 | h(2) << 32 | h(3) << 48;
  const uint64_t hi = h(4) | h(5) << 16 | h(6) << 32 | h(7) << 48;
  return _mm256_cvtph_ps(_mm_set_epi64x(int64_t(hi), int64_t(lo)));
}

inline __m256 floats8(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }

// One weight row against kTokens Q8_0 activation rows x_stride bytes apart
// (ActFormat::kQ8_0: the blocks, then nb floats d * sum(q), then nb floats
// d). Each weight block is decoded once for all tokens.
template <class B, int kTokens>
void dot_rows(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  const size_t nb = n / kQK;
  auto sums_of = [&](int t) { return x + t * x_stride + nb * kQ8; };
  auto scales_of = [&](int t) { return x + t * x_stride + nb * (kQ8 + sizeof(float)); };
  // One token needs two FMA chains to hide latency; four tokens are four
  // chains already, and a second set would spill AVX2's 16 registers.
  constexpr int kAcc = kTokens >= 4 ? 1 : 2;
  __m256 acc[kTokens][kAcc];
  for (int t = 0; t < kTokens; ++t)
    for (int j = 0; j < kAcc; ++j) acc[t][j] = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    const uint8_t* a = w + i * B::kBytes;
    if constexpr (kTokens == 1) prefetch_ahead(a, 8 * B::kBytes);
    const __m256 dw = halves8(a, B::kBytes);
    __m256 d[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      d[t] = _mm256_mul_ps(dw, floats8(scales_of(t) + 4 * i));
      // The m term is lane-wise too, so it shares an accumulator.
      if constexpr (B::kHasMin)
        acc[t][kAcc - 1] = _mm256_fmadd_ps(halves8(a + 2, B::kBytes), floats8(sums_of(t) + 4 * i), acc[t][kAcc - 1]);
    }
    // Unrolled so that acc[t][k % kAcc] are registers, not stack slots.
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i u = B::unpack(a + k * B::kBytes);
      const __m256i pick = _mm256_set1_epi32(k);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const __m256i s = B::sums(u, load256(x + t * x_stride + (i + k) * kQ8 + 2));
        acc[t][k % kAcc] =
            _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d[t], pick), _mm256_cvtepi32_ps(s), acc[t][k % kAcc]);
      }
    }
  }
  float tail[kTokens] = {};
  for (; i < nb; ++i) {
    const uint8_t* a = w + i * B::kBytes;
    const __m256i u = B::unpack(a);
    const float dw = half_at(a);
    for (int t = 0; t < kTokens; ++t) {
      const __m256i s = B::sums(u, load256(x + t * x_stride + i * kQ8 + 2));
      acc[t][0] = _mm256_fmadd_ps(_mm256_set1_ps(dw * float_at(scales_of(t) + 4 * i)), _mm256_cvtepi32_ps(s),
                                  acc[t][0]);
      if constexpr (B::kHasMin) tail[t] += half_at(a + 2) * float_at(sums_of(t) + 4 * i);
    }
  }
  for (int t = 0; t < kTokens; ++t)
    out[t] = hsum(kAcc == 1 ? acc[t][0] : _mm256_add_ps(acc[t][0], acc[t][kAcc - 1])) + tail[t];
}

template <class B>
float dot1(const uint8_t* w, const uint8_t* x, size_t n) {
  float out;
  dot_rows<B, 1>(w, x, 0, n, &out);
  return out;
}

template <class B>
void dot4(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  dot_rows<B, 4>(w, x, x_stride, n, out);
}

// bf16 is the top half of an f32: widen to 32 bits and shift into place.
inline __m256 bf16x8(const uint8_t* p) {
  const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}

float dot_bf16(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* b = reinterpret_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(bf16x8(w + 2 * i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(bf16x8(w + 2 * i + 16), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    sum += bf16_to_float(h) * float_at(x + 4 * i);  // rows may be misaligned
  }
  return sum;
}

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_blocks32_avx2(KernelTable& t) {
  using namespace avx2;
  t.dot[uint32_t(GgmlType::Q4_1)] = dot_kernel(ActFormat::kQ8_0, dot1<Q4_1Block>, dot4<Q4_1Block>);
  t.dot[uint32_t(GgmlType::Q5_1)] = dot_kernel(ActFormat::kQ8_0, dot1<Q5_1Block>, dot4<Q5_1Block>);
  t.dot[uint32_t(GgmlType::IQ4_NL)] = dot_kernel(ActFormat::kQ8_0, dot1<IQ4_NLBlock>, dot4<IQ4_NLBlock>);
  t.dot[uint32_t(GgmlType::BF16)] = dot_kernel(ActFormat::kF32, dot_bf16);
}

}  // namespace minnow::kernels
