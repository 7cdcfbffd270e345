// Internal: one token against Q4_K, Q5_K and Q6_K rows (decode's K-quant
// dots), one row or two in lockstep (Dot2Fn). Shared by dot_avx2.cpp and
// dot_kquant_avx512.cpp, which differ only in how a sub-block's int16
// products meet their scale (the Acc policy): madd then add on AVX2, one
// vpdpwssd with AVX-512 VNNI. Included only by files compiled for at least
// x86-64-v3; everything here has internal linkage (see simd_avx2.h).
#pragma once

#include <cstring>

#include "kernels/blocks_avx2.h"
#include "kernels/kernel_table.h"

namespace minnow::kernels::avx2 {
namespace {

// An Acc policy gives add(): sum + (pairs of p times pairs of scale) in
// int32 lanes; and the scale vectors: Scales holds a super-block's 16-bit
// scales (from 8 or 16 int8 or uint8 bytes), one(s, g) is scale g in every
// lane, two(s, g) scale g in the low 128-bit lane and g + 1 in the high one.
// Built from general registers (a broadcast each, a lane insert for two())
// they were ~40 shuffle-port uops a Q6_K super-block, on the port the nibble
// work shares; here each is one vpshufb from a register that holds eight
// of the scales in both lanes.
struct MaddAdd {
  static __m256i add(__m256i sum, __m256i p, __m256i scale) {
    return _mm256_add_epi32(sum, _mm256_madd_epi16(p, scale));
  }
  struct Scales {
    __m256i low, high;  // scales 0-7 and 8-15 as int16, in both 128-bit lanes
  };
  static Scales scales(const int8_t* bytes, int n) { return widened(_mm256_cvtepi8_epi16(load_scale_bytes(bytes, n))); }
  static Scales scales(const uint8_t* bytes, int n) { return widened(_mm256_cvtepu8_epi16(load_scale_bytes(bytes, n))); }
  static __m256i one(const Scales& s, int g) { return pick(s, g, g); }
  static __m256i two(const Scales& s, int g) { return pick(s, g, g + 1); }

 private:
  template <class Byte>
  static __m128i load_scale_bytes(const Byte* bytes, int n) {
    return n == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes))
                   : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes));
  }
  static Scales widened(__m256i s16) {
    return {_mm256_permute4x64_epi64(s16, 0x44), _mm256_permute4x64_epi64(s16, 0xee)};
  }
  // Scale a (of the eight in that register) in the low lane, b in the high one.
  static __m256i pick(const Scales& s, int a, int b) {
    const int ea = 2 * (a % 8), eb = 2 * (b % 8);
    const __m256i mask = _mm256_setr_epi8(ea, ea + 1, ea, ea + 1, ea, ea + 1, ea, ea + 1, ea, ea + 1, ea, ea + 1, ea,
                                          ea + 1, ea, ea + 1, eb, eb + 1, eb, eb + 1, eb, eb + 1, eb, eb + 1, eb, eb + 1,
                                          eb, eb + 1, eb, eb + 1, eb, eb + 1);
    return _mm256_shuffle_epi8(a < 8 ? s.low : s.high, mask);
  }
};

// Chunk j (0-3) of a Q4_K/Q5_K super-block `a` as 64 values: lo holds
// sub-block 2j, hi sub-block 2j + 1 (hbits: Q5_K's fifth bits, a + 16).
template <bool kFifthBit>
__attribute__((always_inline)) inline void q45_k_chunk(const uint8_t* a, __m256i hbits, int j, __m256i& lo,
                                                       __m256i& hi) {
  constexpr size_t kQsAt = kFifthBit ? 48 : 16;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i q = load256(a + kQsAt + 32 * j);
  lo = _mm256_and_si256(q, low4);
  hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
  if constexpr (kFifthBit) {
    const __m256i one = _mm256_set1_epi8(1);
    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4));
    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4));
  }
}

// One Q4_K/Q5_K super-block `a` against Q8_K block `b`: adds its scaled sum
// to acc and its mins term to mins_acc (the dot is hsum(acc - mins_acc)).
// Callers ask for the lines ahead (prefetch_ahead) in their loops: GCC 12
// at -O3 dropped _mm_prefetch from this always_inline body. Two integer
// sums keep the vpdpwssd chain short (latency 5); on Machine C one chain
// measured the same.
template <bool kFifthBit, class Acc>
__attribute__((always_inline)) inline void q45_k_block(const uint8_t* a, const uint8_t* b, __m256& acc,
                                                       __m256& mins_acc) {
  float bd;
  std::memcpy(&bd, b, 4);
  uint32_t d_dmin;  // the super-block's fp16 d and dmin, converted together
  std::memcpy(&d_dmin, a, 4);
  const __m128 scale_min = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(int(d_dmin))), _mm_set1_ps(bd));
  uint64_t scales, mins_packed;
  unpack_k_scales(a + 4, scales, mins_packed);
  uint8_t sc[8];
  std::memcpy(sc, &scales, 8);
  const typename Acc::Scales sv = Acc::scales(sc, 8);
  mins_acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(scale_min)),
                             _mm256_cvtepi32_ps(k_min_products(mins_packed, b + kQ8KBsums)), mins_acc);

  const __m256i hbits = kFifthBit ? load256(a + 16) : _mm256_setzero_si256();
  __m256i sum0 = _mm256_setzero_si256(), sum1 = sum0;
  for (int j = 0; j < 4; ++j) {
    __m256i lo, hi;
    q45_k_chunk<kFifthBit>(a, hbits, j, lo, hi);
    const __m256i p0 = _mm256_maddubs_epi16(lo, load256(b + kQ8KQs + 64 * j));
    const __m256i p1 = _mm256_maddubs_epi16(hi, load256(b + kQ8KQs + 64 * j + 32));
    sum0 = Acc::add(sum0, p0, Acc::one(sv, 2 * j));
    sum1 = Acc::add(sum1, p1, Acc::one(sv, 2 * j + 1));
  }
  acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(scale_min), _mm256_cvtepi32_ps(_mm256_add_epi32(sum0, sum1)), acc);
}

template <bool kFifthBit>
constexpr size_t q45_k_bytes() {
  return kFifthBit ? sizeof(quant::BlockQ5_K) : sizeof(quant::BlockQ4_K);
}

template <bool kFifthBit, class Acc>
float dot_q45_k(const uint8_t* w, const uint8_t* x, size_t n) {
  constexpr size_t kBytes = q45_k_bytes<kFifthBit>();
  __m256 acc = _mm256_setzero_ps(), mins_acc = _mm256_setzero_ps();
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    prefetch_ahead(w + i * kBytes, kBytes);
    q45_k_block<kFifthBit, Acc>(w + i * kBytes, x + i * kQ8KBytes, acc, mins_acc);
  }
  return hsum(_mm256_sub_ps(acc, mins_acc));
}

// Two rows anywhere, super-block by super-block in lockstep (Dot2Fn).
template <bool kFifthBit, class Acc>
void dot2_q45_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
  constexpr size_t kBytes = q45_k_bytes<kFifthBit>();
  __m256 acc0 = _mm256_setzero_ps(), mins0 = acc0, acc1 = acc0, mins1 = acc0;
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    const uint8_t* b = x + i * kQ8KBytes;
    prefetch_ahead(w0 + i * kBytes, kBytes);
    prefetch_ahead(w1 + i * kBytes, kBytes);
    q45_k_block<kFifthBit, Acc>(w0 + i * kBytes, b, acc0, mins0);
    q45_k_block<kFifthBit, Acc>(w1 + i * kBytes, b, acc1, mins1);
  }
  out[0] = hsum(_mm256_sub_ps(acc0, mins0));
  out[1] = hsum(_mm256_sub_ps(acc1, mins1));
}

// A small decode batch: one Q4_K/Q5_K super-block `a` against kTokens
// Q8_K blocks b[t], decoded once for all of them (with one token per call,
// the dots above were bound by decoding each block again for every token).
// acc[t] gets the scaled sum minus the mins term.
template <bool kFifthBit, class Acc, int kTokens>
__attribute__((always_inline)) inline void q45_k_block_tokens(const uint8_t* a, const uint8_t* const* b,
                                                              __m256* acc) {
  uint32_t d_dmin;
  std::memcpy(&d_dmin, a, 4);
  const __m128 d_and_dmin = _mm_cvtph_ps(_mm_cvtsi32_si128(int(d_dmin)));
  uint64_t scales, mins_packed;
  unpack_k_scales(a + 4, scales, mins_packed);
  uint8_t sc[8];
  std::memcpy(sc, &scales, 8);
  const typename Acc::Scales sv = Acc::scales(sc, 8);
  const __m256i min_pairs = k_min_pairs(mins_packed);  // met by each token's bsums below
  __m128 scale_min[kTokens];
  __m256i sum0[kTokens], sum1[kTokens];  // two chains a token, as q45_k_block
  for (int t = 0; t < kTokens; ++t) {
    scale_min[t] = _mm_mul_ps(d_and_dmin, _mm_set1_ps(float_at(b[t])));
    const __m256i mins = _mm256_madd_epi16(min_pairs, load256(b[t] + kQ8KBsums));
    acc[t] = _mm256_fnmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(scale_min[t])), _mm256_cvtepi32_ps(mins), acc[t]);
    sum0[t] = sum1[t] = _mm256_setzero_si256();
  }
  const __m256i hbits = kFifthBit ? load256(a + 16) : _mm256_setzero_si256();
  for (int j = 0; j < 4; ++j) {
    __m256i lo, hi;
    q45_k_chunk<kFifthBit>(a, hbits, j, lo, hi);
    const __m256i s_lo = Acc::one(sv, 2 * j), s_hi = Acc::one(sv, 2 * j + 1);
    for (int t = 0; t < kTokens; ++t) {
      sum0[t] = Acc::add(sum0[t], _mm256_maddubs_epi16(lo, load256(b[t] + kQ8KQs + 64 * j)), s_lo);
      sum1[t] = Acc::add(sum1[t], _mm256_maddubs_epi16(hi, load256(b[t] + kQ8KQs + 64 * j + 32)), s_hi);
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    const __m256 sum = _mm256_cvtepi32_ps(_mm256_add_epi32(sum0[t], sum1[t]));
    acc[t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(scale_min[t]), sum, acc[t]);
  }
}

// Two rows anywhere against kTokens activation rows (Dot2TokensFn): each
// row's super-block decoded once per step for every token. Block is a
// *_block_tokens body. Not always_inline: inlined into the callers'
// lambdas, GCC 12 dropped its prefetches (a third of the time then went to
// waiting on weight loads).
template <size_t kBytes, int kTokens, class Block>
void dot2_tokens(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t x_stride, size_t n, float* y0,
                 float* y1, size_t y_stride, Block block) {
  __m256 acc0[kTokens], acc1[kTokens];
  for (int t = 0; t < kTokens; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    const uint8_t* b[kTokens];
    for (int t = 0; t < kTokens; ++t) b[t] = x + t * x_stride + i * kQ8KBytes;
    prefetch_ahead(w0 + i * kBytes, kBytes);
    prefetch_ahead(w1 + i * kBytes, kBytes);
    block(w0 + i * kBytes, b, acc0);
    block(w1 + i * kBytes, b, acc1);
  }
  for (int t = 0; t < kTokens; ++t) {
    y0[t * y_stride] = hsum(acc0[t]);
    y1[t * y_stride] = hsum(acc1[t]);
  }
}

// Dot2TokensFn for a type of kBytes super-blocks whose body is
// Body<kTokens>::run (a *_block_tokens function): 2 .. kPairTokensMax tokens.
template <size_t kBytes, template <int> class Body>
void dot2_tokens_n(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t x_stride, size_t n,
                   size_t n_tokens, float* y0, float* y1, size_t y_stride) {
  with_token_count<kPairTokensMax>(n_tokens, [&](auto tokens) {
    constexpr int kTokens = decltype(tokens)::value;
    dot2_tokens<kBytes, kTokens>(w0, w1, x, x_stride, n, y0, y1, y_stride, Body<kTokens>::run);
  });
}

template <bool kFifthBit, class Acc>
struct Q45KBody {
  template <int kTokens>
  struct At {
    static void run(const uint8_t* a, const uint8_t* const* b, __m256* acc) {
      q45_k_block_tokens<kFifthBit, Acc, kTokens>(a, b, acc);
    }
  };
};
template <bool kFifthBit, class Acc>
constexpr Dot2TokensFn dot2_tokens_q45_k =
    dot2_tokens_n<q45_k_bytes<kFifthBit>(), Q45KBody<kFifthBit, Acc>::template At>;

// One Q6_K super-block `a` against Q8_K block `b`: adds its scaled sum to acc
// and its offset term to offset_acc (the dot is hsum(acc - offset_acc)).
// Q6_K values are 0..63 with an offset of 32: the int8 products use the
// unsigned values and the offset comes back as 32 * sum(scale * group sum).
// Callers ask for the lines ahead, as for q45_k_block.
template <class Acc>
__attribute__((always_inline)) inline void q6_k_block(const uint8_t* a, const uint8_t* b, __m256& acc,
                                                      __m256& offset_acc) {
  float bd;
  std::memcpy(&bd, b, 4);
  int8_t sc[16];
  std::memcpy(sc, a + 192, 16);
  const typename Acc::Scales sv = Acc::scales(sc, 16);
  const float d = bd * half_at(a + 208);
  // sum_g scale[g] * bsums[g], 8 int32 lanes; times 32 below.
  const __m256i bias = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc))),
                                         load256(b + kQ8KBsums));
  offset_acc = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * d), _mm256_cvtepi32_ps(bias), offset_acc);

  __m256i sum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int half = 0; half < 2; ++half) {
    __m256i q[4];
    q6_k_half(a, half, q);
    for (int k = 0; k < 4; ++k) {
      const __m256i p = _mm256_maddubs_epi16(q[k], load256(b + kQ8KQs + 128 * half + 32 * k));
      // 16 products per 128-bit lane: each lane is one 16-group with its own scale.
      sum[k & 1] = Acc::add(sum[k & 1], p, Acc::two(sv, 8 * half + 2 * k));
    }
  }
  acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sum[0], sum[1])), acc);
}

template <class Acc>
float dot_q6_k_rows(const uint8_t* w, const uint8_t* x, size_t n) {
  __m256 acc = _mm256_setzero_ps(), offset_acc = _mm256_setzero_ps();
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    prefetch_ahead(w + i * sizeof(quant::BlockQ6_K), sizeof(quant::BlockQ6_K));
    q6_k_block<Acc>(w + i * sizeof(quant::BlockQ6_K), x + i * kQ8KBytes, acc, offset_acc);
  }
  return hsum(_mm256_sub_ps(acc, offset_acc));
}

template <class Acc>
void dot2_q6_k_rows(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
  __m256 acc0 = _mm256_setzero_ps(), off0 = acc0, acc1 = acc0, off1 = acc0;
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    const uint8_t* b = x + i * kQ8KBytes;
    prefetch_ahead(w0 + i * sizeof(quant::BlockQ6_K), sizeof(quant::BlockQ6_K));
    prefetch_ahead(w1 + i * sizeof(quant::BlockQ6_K), sizeof(quant::BlockQ6_K));
    q6_k_block<Acc>(w0 + i * sizeof(quant::BlockQ6_K), b, acc0, off0);
    q6_k_block<Acc>(w1 + i * sizeof(quant::BlockQ6_K), b, acc1, off1);
  }
  out[0] = hsum(_mm256_sub_ps(acc0, off0));
  out[1] = hsum(_mm256_sub_ps(acc1, off1));
}

// A small decode batch: one Q6_K super-block against kTokens Q8_K blocks
// b[t], decoded once (as q45_k_block_tokens); acc[t] gets the scaled sum
// minus the offset term.
template <class Acc, int kTokens>
__attribute__((always_inline)) inline void q6_k_block_tokens(const uint8_t* a, const uint8_t* const* b,
                                                             __m256* acc) {
  int8_t sc[16];
  std::memcpy(sc, a + 192, 16);
  const typename Acc::Scales sv = Acc::scales(sc, 16);
  const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
  const float da = half_at(a + 208);
  float d[kTokens];
  __m256i sum[kTokens][2];  // two chains a token, as q6_k_block
  for (int t = 0; t < kTokens; ++t) {
    d[t] = da * float_at(b[t]);
    const __m256i bias = _mm256_madd_epi16(sc16, load256(b[t] + kQ8KBsums));
    acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(32.0f * d[t]), _mm256_cvtepi32_ps(bias), acc[t]);
    sum[t][0] = sum[t][1] = _mm256_setzero_si256();
  }
  for (int half = 0; half < 2; ++half) {
    __m256i q[4];
    q6_k_half(a, half, q);
    for (int k = 0; k < 4; ++k) {
      const __m256i scale = Acc::two(sv, 8 * half + 2 * k);
      for (int t = 0; t < kTokens; ++t)
        sum[t][k & 1] =
            Acc::add(sum[t][k & 1], _mm256_maddubs_epi16(q[k], load256(b[t] + kQ8KQs + 128 * half + 32 * k)), scale);
    }
  }
  for (int t = 0; t < kTokens; ++t)
    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d[t]), _mm256_cvtepi32_ps(_mm256_add_epi32(sum[t][0], sum[t][1])),
                             acc[t]);
}

template <class Acc>
struct Q6KBody {
  template <int kTokens>
  struct At {
    static void run(const uint8_t* a, const uint8_t* const* b, __m256* acc) {
      q6_k_block_tokens<Acc, kTokens>(a, b, acc);
    }
  };
};
template <class Acc>
constexpr Dot2TokensFn dot2_tokens_q6_k = dot2_tokens_n<sizeof(quant::BlockQ6_K), Q6KBody<Acc>::template At>;

}  // namespace
}  // namespace minnow::kernels::avx2
