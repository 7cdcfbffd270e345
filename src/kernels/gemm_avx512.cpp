// AVX-512 VNNI panel GEMM for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL weights
// against Q8_0 activations, over the AVX2 panel layouts (gemm_avx2.cpp): the
// bytes are the same, so packing, repacking at load and row unpacking stay
// the AVX2 functions and only the multiply changes.
//
// vpdpbusd multiplies a chunk's unsigned weight bytes (4 elements of each of
// the 8 rows) by the token's four activation bytes, broadcast from memory
// by the instruction itself, and adds the four products into each row's
// int32 lane. Where AVX2 needs maddubs, int16 adds and a madd per few
// chunks, one instruction per chunk and token remains; int32 lanes cannot
// overflow within a block (32 * 255 * 128 < 2^31). Every type is read as
// unsigned bytes u with value = u - c (Q4_0 c = 8, Q5_0 c = 16, Q8_0 and
// IQ4_NL bytes xor 0x80 with c = 128; Q4_1/Q5_1 c = 0 plus their mins), so
// sum (u - c) y = vpdpbusd(u, y) - c sum y, and c * d_x * sum y comes with
// the activations (kernel_table.h).
//
// Two panels (16 rows) fill a 512-bit register: one vpdpbusd does 64
// products, and the float step that scales each block's int32 sums, which
// bounds a 256-bit version (4 float operations per 8 vpdpbusd), finishes
// twice the rows. One token (decode) takes token_panel and token_panel_pair
// instead: 256-bit registers (fill_vnni_panels says why).
//
// Like dot_avx512.cpp, only this file gets AVX-512 flags, and nothing here
// has external linkage but fill_vnni_panels.
#include <immintrin.h>

#include <cstring>

#include "kernels/kernel_fill.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx512 {
namespace {

using simd::load256;
using simd::prefetch_lines;
constexpr size_t kQ8 = sizeof(quant::BlockQ8_0);
constexpr int kChunks = 8;  // 4-element chunks per 32-element block

// A panel layout as VNNI reads it: decode() gives chunk c of a block of two
// panels (p0: rows 0-7, p1: rows 8-15) as 64 unsigned bytes, one 4-element
// chunk of each of the 16 rows; kOffset is c above; kMinAt the offset of
// the rows' fp16 mins in a block (0: none). Layouts as in gemm_avx2.cpp.
inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
inline __m512i load_pair(const uint8_t* p0, const uint8_t* p1, size_t at) {
  return join(load256(p0 + at), load256(p1 + at));
}

template <size_t kHeaderBytes, bool kFifthBit>
struct NibbleVnni {  // Q4_0, Q4_1 (kHeaderBytes 32: scales then mins), Q5_0, Q5_1
  static constexpr size_t kHeader = kHeaderBytes;
  static constexpr size_t kMinAt = kHeaderBytes == 32 ? 16 : 0;
  static constexpr int kOffset = kMinAt ? 0 : (kFifthBit ? 16 : 8);
  static constexpr size_t kBlockBytes = kHeader + 4 * 32 + (kFifthBit ? 32 : 0);
  static void decode(const uint8_t* p0, const uint8_t* p1, __m512i w[kChunks]) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m512i v = load_pair(p0, p1, kHeader + 32 * j);  // chunk j low, chunk j + 4 high nibbles
      w[j] = _mm512_and_si512(v, low4);
      w[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
    if constexpr (kFifthBit) {
      // Bit c of byte i: the fifth bit of byte i of chunk c.
      const __m512i high = load_pair(p0, p1, kHeader + 128);
      for (int c = 0; c < kChunks; ++c) {
        const __mmask64 set = _mm512_test_epi8_mask(high, _mm512_set1_epi8(int8_t(1 << c)));
        w[c] = _mm512_mask_add_epi8(w[c], set, w[c], _mm512_set1_epi8(16));
      }
    }
  }
  // decode() for one panel in 256-bit registers.
  static void decode1(const uint8_t* p, __m256i w[kChunks]) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m256i v = load256(p + kHeader + 32 * j);
      w[j] = _mm256_and_si256(v, low4);
      w[j + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    }
    if constexpr (kFifthBit) {
      const __m256i high = load256(p + kHeader + 128);
      for (int c = 0; c < kChunks; ++c) {
        const __mmask32 set = _mm256_test_epi8_mask(high, _mm256_set1_epi8(int8_t(1 << c)));
        w[c] = _mm256_mask_add_epi8(w[c], set, w[c], _mm256_set1_epi8(16));
      }
    }
  }
};

struct ByteVnni {  // Q8_0, IQ4_NL: 8 fp16 scales, then the chunks as int8
  static constexpr size_t kHeader = 16;
  static constexpr size_t kMinAt = 0;
  static constexpr int kOffset = 128;
  static constexpr size_t kBlockBytes = kHeader + kChunks * 32;
  static void decode(const uint8_t* p0, const uint8_t* p1, __m512i w[kChunks]) {
    for (int c = 0; c < kChunks; ++c)
      w[c] = _mm512_xor_si512(load_pair(p0, p1, kHeader + 32 * c), _mm512_set1_epi8(-128));
  }
  static void decode1(const uint8_t* p, __m256i w[kChunks]) {
    for (int c = 0; c < kChunks; ++c) w[c] = _mm256_xor_si256(load256(p + kHeader + 32 * c), _mm256_set1_epi8(-128));
  }
};

using Q4_0Vnni = NibbleVnni<16, false>;
using Q4_1Vnni = NibbleVnni<32, false>;
using Q5_0Vnni = NibbleVnni<16, true>;
using Q5_1Vnni = NibbleVnni<32, true>;

inline __m512i broadcast4(const uint8_t* p) {
  int32_t four;
  std::memcpy(&four, p, 4);
  return _mm512_set1_epi32(four);  // folded into vpdpbusd's {1to16} operand
}

// One token's activation scales of block b (kernel_table.h's kQ8_0 layout:
// after the nb blocks, d * sum(q) per block, then d per block).
struct BlockScales {
  float dsum, d;
};
inline BlockScales x_block_scales(const uint8_t* x, size_t b, size_t nb) {
  const uint8_t* x_sums = x + nb * kQ8;
  BlockScales s;
  std::memcpy(&s.dsum, x_sums + 4 * b, 4);
  std::memcpy(&s.d, x_sums + 4 * (nb + b), 4);
  return s;
}

// The 8 fp16 values at p0 + at and at p1 + at as 16 floats.
inline __m512 halves16(const uint8_t* p0, const uint8_t* p1, size_t at) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p0 + at));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1 + at));
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// kTokens activation rows against two panels at once: 16 rows fill a
// 512-bit register, so each vpdpbusd does 64 products and each float step
// finishes 16 rows. `ahead` (or nullptr): bytes to ask for while this group
// runs, ahead_per_block of them per block of each panel (at ahead and at
// ahead + ahead_panel_bytes).
template <class L, int kTokens>
void panel_tokens(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, float* y,
                  size_t y_stride, const uint8_t* ahead, size_t ahead_per_block, size_t ahead_panel_bytes) {
  const size_t nb = n / quant::kQK;
  auto row = [&](int t) { return x + t * x_stride; };
  auto x_float = [&](int t, size_t array, size_t b) {  // d * sum(q) (array 0) or d (array 1) of block b
    float v;
    std::memcpy(&v, row(t) + nb * (kQ8 + 4 * array) + 4 * b, 4);
    return _mm512_set1_ps(v);
  };
  __m512 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    if (ahead) {
      prefetch_lines(ahead + b * ahead_per_block, ahead_per_block);
      prefetch_lines(ahead + ahead_panel_bytes + b * ahead_per_block, ahead_per_block);
    }
    __m512i w[kChunks];
    L::decode(p0, p1, w);
    // One token's chunks form a chain of dependent vpdpbusd; a lone token
    // (the last of a batch) splits it in two so that the chain is not the limit.
    constexpr int kChains = kTokens == 1 ? 2 : 1;
    __m512i s[kTokens * kChains];
    for (int i = 0; i < kTokens * kChains; ++i) s[i] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int c = 0; c < kChunks; ++c) {
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t) {
        __m512i& sum = s[t * kChains + c % kChains];
        sum = _mm512_dpbusd_epi32(sum, w[c], broadcast4(row(t) + b * kQ8 + 2 + 4 * c));
      }
    }
    const __m512 dw = halves16(p0, p1, 0);
    __m512 mw = _mm512_setzero_ps();
    if constexpr (L::kMinAt != 0) mw = halves16(p0, p1, L::kMinAt);
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
      __m512i si = s[t * kChains];
      if constexpr (kChains == 2) si = _mm512_add_epi32(si, s[t * kChains + 1]);
      __m512 v = _mm512_cvtepi32_ps(si);
      if constexpr (L::kOffset != 0)
        v = _mm512_fmsub_ps(v, x_float(t, 1, b), _mm512_mul_ps(_mm512_set1_ps(float(L::kOffset)), x_float(t, 0, b)));
      else
        v = _mm512_mul_ps(v, x_float(t, 1, b));
      acc[t] = _mm512_fmadd_ps(dw, v, acc[t]);
      // value = d * u + m: the m term is m * d_x * sum(q).
      if constexpr (L::kMinAt != 0) acc[t] = _mm512_fmadd_ps(mw, x_float(t, 0, b), acc[t]);
    }
  }
  for (int t = 0; t < kTokens; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Block b of a panel (its chunks decoded in w) against one token: sum over
// the block's chunks of weights times activations, as 8 floats (one per
// row) before the weights' fp16 scales (d) and mins (m: d_x * sum(q) times
// each row's min).
template <class L>
inline __m256 token_sums(const __m256i w[kChunks], const uint8_t* p, const uint8_t* x, size_t b, size_t nb,
                         __m256* min_term) {
  // Two chains of dependent vpdpbusd, so that latency is not the limit.
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
#pragma GCC unroll 8
  for (int c = 0; c < kChunks; c += 2) {
    s0 = _mm256_dpbusd_epi32(s0, w[c], simd::broadcast4(x + b * kQ8 + 2 + 4 * c));
    s1 = _mm256_dpbusd_epi32(s1, w[c + 1], simd::broadcast4(x + b * kQ8 + 6 + 4 * c));
  }
  const auto [dsum, d] = x_block_scales(x, b, nb);
  __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1));
  if constexpr (L::kOffset != 0)
    v = _mm256_fmsub_ps(v, _mm256_set1_ps(d), _mm256_set1_ps(float(L::kOffset) * dsum));
  else
    v = _mm256_mul_ps(v, _mm256_set1_ps(d));
  if constexpr (L::kMinAt != 0)
    *min_term = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + L::kMinAt))),
                              _mm256_set1_ps(dsum));
  return v;
}

template <class L>
inline __m256 token_block(const uint8_t* p, const uint8_t* x, size_t b, size_t nb, __m256* min_term) {
  __m256i w[kChunks];
  L::decode1(p, w);
  return token_sums<L>(w, p, x, b, nb, min_term);
}

template <class L>
inline void add_block(const uint8_t* p, const uint8_t* x, size_t b, size_t nb, __m256& acc) {
  simd::prefetch_ahead(p, L::kBlockBytes);
  __m256 min_term;
  const __m256 v = token_block<L>(p, x, b, nb, &min_term);
  acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), v, acc);
  if constexpr (L::kMinAt != 0) acc = _mm256_add_ps(acc, min_term);
}

// One token against one panel in 256-bit registers: decode's multiply,
// bound by memory. Per chunk the VNNI form needs one vpdpbusd where AVX2
// spends abs, sign, maddubs, madd and an add (Q8_0) or nibble, fifth-bit
// and int16 work (Q5_0), which leaves the core more time to keep its
// loads in flight.
template <class L>
void token_panel(const uint8_t* p, const uint8_t* x, size_t n, float* y) {
  const size_t nb = n / quant::kQK;
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b, p += L::kBlockBytes) add_block<L>(p, x, b, nb, acc);
  _mm256_storeu_ps(y, acc);
}

// Two panels in lockstep, one block of each in turn (TokenPanelPairFn).
template <class L>
void token_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t n, float* y0, float* y1) {
  const size_t nb = n / quant::kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    add_block<L>(p0, x, b, nb, acc0);
    add_block<L>(p1, x, b, nb, acc1);
  }
  _mm256_storeu_ps(y0, acc0);
  _mm256_storeu_ps(y1, acc1);
}

// token_panel_pair in 512-bit registers: the two panels' blocks side by
// side in one register (panel p0 in the low half, p1 in the high), so one
// vpdpbusd and one float step serve both.
template <class L>
void token_panel_pair_zmm(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t n, float* y0, float* y1) {
  const size_t nb = n / quant::kQK;
  __m512 acc = _mm512_setzero_ps();
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    simd::prefetch_ahead(p0, L::kBlockBytes);
    simd::prefetch_ahead(p1, L::kBlockBytes);
    __m512i w[kChunks];
    L::decode(p0, p1, w);
    __m512i s0 = _mm512_setzero_si512(), s1 = s0;
#pragma GCC unroll 8
    for (int c = 0; c < kChunks; c += 2) {
      s0 = _mm512_dpbusd_epi32(s0, w[c], broadcast4(x + b * kQ8 + 2 + 4 * c));
      s1 = _mm512_dpbusd_epi32(s1, w[c + 1], broadcast4(x + b * kQ8 + 6 + 4 * c));
    }
    const auto [dsum, d] = x_block_scales(x, b, nb);
    __m512 v = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
    if constexpr (L::kOffset != 0)
      v = _mm512_fmsub_ps(v, _mm512_set1_ps(d), _mm512_set1_ps(float(L::kOffset) * dsum));
    else
      v = _mm512_mul_ps(v, _mm512_set1_ps(d));
    acc = _mm512_fmadd_ps(halves16(p0, p1, 0), v, acc);
    // The min term as token_panel adds it (a product, then a sum): the
    // pair and the lone panel then round alike in every build.
    if constexpr (L::kMinAt != 0)
      acc = _mm512_add_ps(acc, _mm512_mul_ps(halves16(p0, p1, L::kMinAt), _mm512_set1_ps(dsum)));
  }
  _mm256_storeu_ps(y0, _mm512_castps512_ps256(acc));
  _mm256_storeu_ps(y1, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
}

// kTokens tokens (a small decode batch) against two panels anywhere in
// memory, block by block in lockstep: one token's two streams
// (token_panel_pair), each block decoded once for all the tokens. Token t's
// products go to y0 + t * y_stride and y1 + t * y_stride.
template <class L, int kTokens>
void tokens_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, float* y0,
                       float* y1, size_t y_stride) {
  const size_t nb = n / quant::kQK;
  __m256 acc[2][kTokens];
  for (auto& panel : acc)
    for (__m256& a : panel) a = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    for (int i = 0; i < 2; ++i) {
      const uint8_t* p = i == 0 ? p0 : p1;
      simd::prefetch_ahead(p, L::kBlockBytes);
      __m256i w[kChunks];
      L::decode1(p, w);
      const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        __m256 min_term;
        const __m256 v = token_sums<L>(w, p, x + t * x_stride, b, nb, &min_term);
        acc[i][t] = _mm256_fmadd_ps(dw, v, acc[i][t]);
        if constexpr (L::kMinAt != 0) acc[i][t] = _mm256_add_ps(acc[i][t], min_term);
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    _mm256_storeu_ps(y0 + t * y_stride, acc[0][t]);
    _mm256_storeu_ps(y1 + t * y_stride, acc[1][t]);
  }
}

template <class L>
void tokens_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens,
                 float* y0, float* y1, size_t y_stride) {
  simd::with_token_count<kPairTokensMax>(n_tokens, [&](auto k) {
    tokens_panel_pair<L, decltype(k)::value>(p0, p1, x, x_stride, n, y0, y1, y_stride);
  });
}

// Tokens per group: 8 chunk registers plus 8 int32 sums and 8 float
// accumulators fill 24 of the 32 vector registers.
constexpr size_t kGroup = 8;

// Two consecutive panels against every token (2+ of them). The first group
// reads them from DRAM (or from the per-call packing buffer); the later ones
// find them cached and share the asking for `next`, the prepacked panels
// this thread meets next. A lone group asks for them while it streams its
// own.
template <class L>
void pair_gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
               size_t y_stride, const uint8_t* next) {
  const size_t nb = n / quant::kQK, panel_bytes = nb * L::kBlockBytes;
  const size_t groups = (n_tokens + kGroup - 1) / kGroup, first = groups == 1 ? 0 : 1;
  const size_t share = (L::kBlockBytes + groups - first - 1) / (groups - first);
  simd::for_token_groups<kGroup>(n_tokens, [&](auto k, size_t t) {
    const size_t g = t / kGroup;
    const uint8_t* ahead = next && g >= first ? next + (g - first) * share * nb : nullptr;
    panel_tokens<L, decltype(k)::value>(panel, panel + panel_bytes, x + t * x_stride, x_stride, n, y + t * y_stride,
                                        y_stride, ahead, share, panel_bytes);
  });
}

}  // namespace
}  // namespace minnow::kernels::avx512

namespace minnow::kernels {

// Each type keeps the AVX2 panel the table copied (layout, packing, row
// unpacking, whether it is repacked at load, the single-panel multiply of
// batches); the pair multiply is VNNI, and so is one token's (`token`,
// `token_pair`), in 256-bit registers: on Machine C (Intel, AVX-512)
// 512-bit decode kernels cost clock, and the AVX2 multiply left the core
// too little time between loads (a Q8_0 panel in L2: 55 -> 85 GB/s on one
// thread, Q5_0 34 -> 43; docs/PERFORMANCE.md). With wide_token_pairs the
// pair of panels shares 512-bit registers instead (token_panel_pair_zmm),
// for CPUs that run them at full clock (prefetch.h: decode_pairs_in_512_bits).
namespace {
template <class L>
void set_token_panels(KernelTable& t, GgmlType type, bool wide_token_pairs) {
  PanelKernel& panel = t.dot[uint32_t(type)].panel;
  panel.token = avx512::token_panel<L>;
  panel.token_pair = wide_token_pairs ? avx512::token_panel_pair_zmm<L> : avx512::token_panel_pair<L>;
  panel.tokens_pair = avx512::tokens_pair<L>;
  panel.pair_tokens_max = kPairTokensMax;  // 32 registers hold them all
}
}  // namespace

void fill_vnni_panels(KernelTable& t, bool wide_token_pairs) {
  using namespace avx512;
  set_pair_gemm(t, GgmlType::Q4_0, pair_gemm<Q4_0Vnni>);
  set_pair_gemm(t, GgmlType::Q5_0, pair_gemm<Q5_0Vnni>);
  set_pair_gemm(t, GgmlType::Q4_1, pair_gemm<Q4_1Vnni>);
  set_pair_gemm(t, GgmlType::Q5_1, pair_gemm<Q5_1Vnni>);
  set_pair_gemm(t, GgmlType::Q8_0, pair_gemm<ByteVnni>);
  set_pair_gemm(t, GgmlType::IQ4_NL, pair_gemm<ByteVnni>);  // Q8_0's layout, packed per call
  set_token_panels<Q4_0Vnni>(t, GgmlType::Q4_0, wide_token_pairs);
  set_token_panels<Q5_0Vnni>(t, GgmlType::Q5_0, wide_token_pairs);
  set_token_panels<Q4_1Vnni>(t, GgmlType::Q4_1, wide_token_pairs);
  set_token_panels<Q5_1Vnni>(t, GgmlType::Q5_1, wide_token_pairs);
  set_token_panels<ByteVnni>(t, GgmlType::Q8_0, wide_token_pairs);
  set_token_panels<ByteVnni>(t, GgmlType::IQ4_NL, wide_token_pairs);
}

}  // namespace minnow::kernels
