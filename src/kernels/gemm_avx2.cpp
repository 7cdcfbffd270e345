// AVX2 panel GEMM for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL weights against
// Q8_0 activations.
//
// A panel is kPanelRows = 8 weight rows interleaved so that one 256-bit
// register holds the same four elements ("chunk" c = elements 4c..4c+3 of a
// 32-element block) of all eight rows. One maddubs of a chunk with those four
// activation bytes broadcast gives two int16 partial sums per row; chunks add
// up in int16 as far as the values allow, and one madd + convert + FMA per
// block and token then finishes all eight rows (a dot kernel spends those per
// row). Panels are exactly as large as the rows they hold, so weights can be
// repacked once at load (decode then reads them from DRAM in this layout) or
// packed per call into a small buffer.
//
// Panel block (one 32-element block of 8 rows):
//   Q4_0: 8 fp16 scales, then 4 x 32 bytes: byte i of vector j holds chunk j
//         in its low nibble and chunk j + 4 in its high nibble     (144 B)
//   Q5_0: as Q4_0, then 32 bytes whose bit c of byte i is the fifth bit of
//         byte i of chunk c                                        (176 B)
//   Q4_1, Q5_1: as Q4_0, Q5_0 with the 8 fp16 mins after the scales
//                                                            (160, 192 B)
//   Q8_0: 8 fp16 scales, then the 8 chunks as signed bytes          (272 B)
//   IQ4_NL: Q8_0's, the codebook applied
// The scalar twin is the scalar dot of each row: tests compare every element.
#include "kernels/gemm_avx2.h"

#include "base/half.h"
#include "kernels/blocks_avx2.h"

#include <vector>

namespace minnow::kernels::avx2 {
namespace {

using quant::kQK;
constexpr int kChunks = 8;  // 4-element chunks per 32-element block

// The panel layouts. chunk(p, c) is chunk c of a panel block as the unsigned
// maddubs operand (|w| for Q8_0); sign_source(p, c) the bytes whose signs
// move onto the activations (Q8_0 only). A block starts with the 8 rows'
// fp16 scales, then (Q4_1, Q5_1) their fp16 mins: kHeader bytes.
template <class B>
struct NibblePanel {  // Q4_0, Q4_1
  using Block = B;
  static constexpr bool kNibbles = true;
  static constexpr size_t kHeader = B::kMinAt ? 32 : 16;
  static constexpr size_t kBlockBytes = kHeader + 4 * 32;
  static __m256i nibbles(const uint8_t* p, int c) {
    const __m256i v = load256(p + kHeader + 32 * (c & 3));
    return _mm256_and_si256(c < 4 ? v : _mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
  }
  static __m256i chunk(const uint8_t* p, int c) { return nibbles(p, c); }
  static void store(const __m256i chunks[8], uint8_t* p) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_or_si256(_mm256_and_si256(chunks[j], low4),
                                        _mm256_slli_epi16(_mm256_and_si256(chunks[j + 4], low4), 4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + kHeader + 32 * j), v);
    }
  }
};

template <class B>
struct Nibble5Panel {  // Q5_0, Q5_1: the nibble panel, then the fifth bits
  using Block = B;
  using Low = NibblePanel<B>;
  static constexpr bool kNibbles = true;
  static constexpr size_t kHeader = Low::kHeader;
  static constexpr size_t kBlockBytes = Low::kBlockBytes + 32;
  static __m256i chunk(const uint8_t* p, int c) {
    return _mm256_or_si256(Low::nibbles(p, c), move_bit(load256(p + Low::kBlockBytes), c, 4));
  }
  static void store(const __m256i chunks[8], uint8_t* p) {
    Low::store(chunks, p);
    __m256i high = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) high = _mm256_or_si256(high, move_bit(chunks[c], 4, c));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + Low::kBlockBytes), high);
  }
};

using Q4_0Panel = NibblePanel<Q4_0Block>;
using Q4_1Panel = NibblePanel<Q4_1Block>;
using Q5_0Panel = Nibble5Panel<Q5_0Block>;
using Q5_1Panel = Nibble5Panel<Q5_1Block>;

struct Q8_0Panel {
  using Block = Q8_0Block;
  static constexpr bool kNibbles = false;
  static constexpr size_t kHeader = 16;
  static constexpr size_t kBlockBytes = 16 + 8 * 32;
  static __m256i chunk(const uint8_t* p, int c) { return _mm256_abs_epi8(sign_source(p, c)); }
  static __m256i sign_source(const uint8_t* p, int c) { return load256(p + 16 + 32 * c); }
  static void store(const __m256i chunks[8], uint8_t* p) {
    for (int c = 0; c < 8; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 16 + 32 * c), chunks[c]);
  }
};

// IQ4_NL packs into Q8_0's layout: its fp16 scale and 32 codebook values
// (int8, >= -127) per block are a Q8_0 block once decoded. The panel is
// larger than the rows (272 vs 144 B), so it is packed per call only.
struct IQ4_NLPanel : Q8_0Panel {
  using Block = IQ4_NLBlock;
};

// A panel of Q4_0 or Q5_0 decoded to one byte per value (16 + 256 B per
// block): when many tokens meet a panel, decoding it once beats decoding
// the nibbles again for every four tokens (Q4_K_M, mostly Q5_0: pp512
// 185 -> 207, pp64 193 -> 264 tokens/s on Machine A).
template <class Packed>
struct BytePanel {
  using Block = typename Packed::Block;
  static constexpr bool kNibbles = false;
  static constexpr size_t kHeader = Packed::kHeader;
  static constexpr size_t kBlockBytes = kHeader + 8 * 32;
  static __m256i chunk(const uint8_t* p, int c) { return load256(p + kHeader + 32 * c); }
};

template <class L>
void pack_panel(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  using B = typename L::Block;
  for (size_t b = 0; b < n / kQK; ++b, panel += L::kBlockBytes) {
    __m256i rows[kPanelRows];
    for (size_t j = 0; j < kPanelRows; ++j) {
      const uint8_t* a = w + j * row_bytes + b * B::kBytes;
      // Eight rows stream from DRAM at once, and the hardware prefetcher
      // does not follow that many: ask for this spot of the next panel's
      // rows, which the next call packs (rows of 896 are under 1 KB, so a
      // fixed distance would mostly land in rows being read already).
      prefetch_lines(a + kPanelRows * row_bytes, B::kBytes);
      std::memcpy(panel + 2 * j, a, 2);  // the fp16 scale
      if constexpr (B::kMinAt != 0) std::memcpy(panel + 16 + 2 * j, a + B::kMinAt, 2);  // and min
      rows[j] = B::unpack(a);
    }
    transpose8x8_epi32(rows);
    L::store(rows, panel);
  }
}

// Panel block b (at p) against kTokens activation rows: adds each token's
// 8 row products to acc[t]. `decoded` (nibble panels only, or nullptr):
// where to leave the block decoded as BytePanel<L>.
template <class L, int kTokens>
__attribute__((always_inline)) inline void block_products(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                          size_t b, size_t nb, __m256 acc[kTokens],
                                                          uint8_t* decoded) {
  using B = typename L::Block;
  const __m256i ones = _mm256_set1_epi16(1);
  auto row = [&](int t) { return x + t * x_stride; };
  auto x_float = [&](int t, size_t array) {  // d * sum(q) (array 0) or d (array 1) of block b
    return _mm256_broadcast_ss(reinterpret_cast<const float*>(row(t) + nb * (kQ8 + 4 * array) + 4 * b));
  };
  if constexpr (L::kNibbles)
    if (decoded) std::memcpy(decoded, p, L::kHeader);
  __m256i s32[kTokens];
#pragma GCC unroll 8
  for (int g = 0; g < kChunks; g += B::kSumChunks) {
    __m256i s16[kTokens];
#pragma GCC unroll 8
    for (int c = g; c < g + B::kSumChunks; ++c) {
      const __m256i wc = L::chunk(p, c);
      if constexpr (L::kNibbles)
        if (decoded) _mm256_storeu_si256(reinterpret_cast<__m256i*>(decoded + L::kHeader + 32 * c), wc);
      __m256i sign;
      if constexpr (B::kSigned) sign = L::sign_source(p, c);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        __m256i xc = broadcast4(row(t) + b * kQ8 + 2 + 4 * c);
        if constexpr (B::kSigned) xc = _mm256_sign_epi8(xc, sign);
        const __m256i prod = _mm256_maddubs_epi16(wc, xc);
        s16[t] = c == g ? prod : _mm256_add_epi16(s16[t], prod);
      }
    }
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
      const __m256i part = _mm256_madd_epi16(s16[t], ones);
      s32[t] = g == 0 ? part : _mm256_add_epi32(s32[t], part);
    }
  }
  const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  __m256 mw = _mm256_setzero_ps();
  if constexpr (B::kMinAt != 0) mw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
#pragma GCC unroll 4
  for (int t = 0; t < kTokens; ++t) {
    __m256 v = _mm256_cvtepi32_ps(s32[t]);
    if constexpr (B::kOffset != 0.0f)
      v = _mm256_fmsub_ps(v, x_float(t, 1), _mm256_mul_ps(_mm256_set1_ps(B::kOffset), x_float(t, 0)));
    else
      v = _mm256_mul_ps(v, x_float(t, 1));
    acc[t] = _mm256_fmadd_ps(dw, v, acc[t]);
    // value = d * u + m: the m term is m * d_x * sum(q).
    if constexpr (B::kMinAt != 0) acc[t] = _mm256_fmadd_ps(mw, x_float(t, 0), acc[t]);
  }
}

// kTokens activation rows against one panel. `ahead` (or nullptr): bytes to
// ask for, ahead_per_block of them per block. `bytes` (nibble panels only,
// or nullptr): where to leave the panel decoded as BytePanel<L>, for the
// later token groups.
template <class L, int kTokens>
void panel_tokens(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, float* y, size_t y_stride,
                  const uint8_t* ahead, size_t ahead_per_block, uint8_t* bytes = nullptr) {
  const size_t nb = n / kQK;
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * L::kBlockBytes;
    // Decode reads pre-packed panels straight from DRAM.
    if constexpr (kTokens == 1)
      prefetch_ahead(p, L::kBlockBytes);
    else if (ahead)
      prefetch_lines(ahead + b * ahead_per_block, ahead_per_block);
    uint8_t* decoded = nullptr;
    if constexpr (L::kNibbles)
      if (bytes) decoded = bytes + b * BytePanel<L>::kBlockBytes;
    block_products<L, kTokens>(p, x, x_stride, b, nb, acc, decoded);
  }
  for (int t = 0; t < kTokens; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

// One token against two panels in lockstep, a block of each in turn
// (TokenPanelPairFn: decode's two streams per thread).
template <class L>
void token_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t n, float* y0, float* y1) {
  const size_t nb = n / kQK;
  __m256 acc0[1] = {_mm256_setzero_ps()}, acc1[1] = {_mm256_setzero_ps()};
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    prefetch_ahead(p0, L::kBlockBytes);
    prefetch_ahead(p1, L::kBlockBytes);
    block_products<L, 1>(p0, x, 0, b, nb, acc0, nullptr);
    block_products<L, 1>(p1, x, 0, b, nb, acc1, nullptr);
  }
  _mm256_storeu_ps(y0, acc0[0]);
  _mm256_storeu_ps(y1, acc1[0]);
}

// 2 .. kPairTokensMax tokens (a small decode batch) against two panels in
// lockstep (TokensPanelPairFn): one token's two streams, each block read
// once for all the tokens.
template <class L, int kTokens>
void tokens_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, float* y0,
                       float* y1, size_t y_stride) {
  const size_t nb = n / kQK;
  __m256 acc0[kTokens], acc1[kTokens];
  for (int t = 0; t < kTokens; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b, p0 += L::kBlockBytes, p1 += L::kBlockBytes) {
    prefetch_ahead(p0, L::kBlockBytes);
    prefetch_ahead(p1, L::kBlockBytes);
    block_products<L, kTokens>(p0, x, x_stride, b, nb, acc0, nullptr);
    block_products<L, kTokens>(p1, x, x_stride, b, nb, acc1, nullptr);
  }
  for (int t = 0; t < kTokens; ++t) {
    _mm256_storeu_ps(y0 + t * y_stride, acc0[t]);
    _mm256_storeu_ps(y1 + t * y_stride, acc1[t]);
  }
}

template <class L>
void tokens_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens,
                 float* y0, float* y1, size_t y_stride) {
  simd::with_token_count<kPairTokensMax>(n_tokens, [&](auto k) {
    tokens_panel_pair<L, decltype(k)::value>(p0, p1, x, x_stride, n, y0, y1, y_stride);
  });
}

// From this many tokens on, the first four decode a nibble panel to bytes
// for the others.
constexpr size_t kExpandMinTokens = 8;

// The token groups of one panel. Groups that find the panel in cache (all
// of them once it is decoded to bytes, the later ones otherwise) share the
// asking for `next` (next_block_bytes per block) among themselves; a lone
// group of 2-4 streams the panel and asks at once. One token ignores `next`:
// its prefetch_ahead runs on into the next panel by itself.
template <class L>
void token_groups(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                  size_t y_stride, const uint8_t* next, size_t next_block_bytes, bool panel_cached) {
  const size_t groups = (n_tokens + 3) / 4, first = panel_cached || groups == 1 ? 0 : 1;
  const size_t share = (next_block_bytes + groups - first - 1) / (groups - first);
  for_token_groups(n_tokens, [&](auto k, size_t t) {
    const size_t g = t / 4;
    const uint8_t* ahead = next && g >= first ? next + (g - first) * share * (n / kQK) : nullptr;
    panel_tokens<L, decltype(k)::value>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride, ahead,
                                        share);
  });
}

template <class L>
void panel_gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                size_t y_stride, const uint8_t* next) {
  if constexpr (L::kNibbles) {
    if (n_tokens >= kExpandMinTokens) {
      // The first four tokens decode the nibbles anyway: they leave the
      // bytes behind for the rest (a separate decoding pass was 7% of an
      // 8-sequence decode step on Machine A).
      thread_local std::vector<uint8_t> bytes;
      bytes.resize(n / kQK * BytePanel<L>::kBlockBytes);
      panel_tokens<L, 4>(panel, x, x_stride, n, y, y_stride, nullptr, 0, bytes.data());
      return token_groups<BytePanel<L>>(bytes.data(), x + 4 * x_stride, x_stride, n, n_tokens - 4, y + 4 * y_stride,
                                        y_stride, next, L::kBlockBytes, true);
    }
  }
  token_groups<L>(panel, x, x_stride, n, n_tokens, y, y_stride, next, L::kBlockBytes, false);
}

// Row `r` of a packed matrix as floats (embedding look-up from a repacked
// token_embd). Scalar: it runs once per token.
template <class L>
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t nb = n / kQK, i = r % kPanelRows;
  const uint8_t* p = panels + (r / kPanelRows) * nb * L::kBlockBytes;
  for (size_t b = 0; b < nb; ++b, p += L::kBlockBytes, out += kQK) {
    const float d = half_at(p + 2 * i);
    [[maybe_unused]] const float m = L::Block::kMinAt != 0 ? half_at(p + 16 + 2 * i) : 0.0f;
    alignas(32) int8_t chunk[32];
    for (int c = 0; c < kChunks; ++c) {
      __m256i v;
      if constexpr (L::Block::kSigned)
        v = L::sign_source(p, c);
      else
        v = _mm256_sub_epi8(L::chunk(p, c), _mm256_set1_epi8(int8_t(L::Block::kOffset)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(chunk), v);
      for (int k = 0; k < 4; ++k) {
        out[4 * c + k] = d * float(chunk[4 * i + k]);
        if constexpr (L::Block::kMinAt != 0) out[4 * c + k] += m;  // the reference's d * q + m
      }
    }
  }
}

template <class L>
constexpr PanelKernel panel_kernel(uint32_t pair_tokens_max = kPairTokensMax) {
  PanelKernel k{pack_panel<L>, panel_gemm<L>, unpack_row<L>, L::kBlockBytes};
  k.token_pair = token_panel_pair<L>;
  k.tokens_pair = tokens_pair<L>;
  k.pair_tokens_max = pair_tokens_max;
  return k;
}

}  // namespace

// Two 4-bit panels' accumulators for 4 tokens outgrow AVX2's 16 registers:
// streamed from DRAM (Machine C, MINNOW_ISA=avx2) Q4_0 with 4 tokens read
// 16.2 GB/s that way against 18.1-18.7 in one stream; 3 tokens 22.4 against
// 20.1-20.6, and Q5_0 gained with 4 (18.0 against 13.6-14.5).
PanelKernel panel_kernel_q4_0() { return panel_kernel<Q4_0Panel>(3); }
PanelKernel panel_kernel_q5_0() { return panel_kernel<Q5_0Panel>(); }
PanelKernel panel_kernel_q4_1() { return panel_kernel<Q4_1Panel>(3); }
PanelKernel panel_kernel_q5_1() { return panel_kernel<Q5_1Panel>(); }
PanelKernel panel_kernel_q8_0() { return panel_kernel<Q8_0Panel>(); }
PanelKernel panel_kernel_iq4_nl() { return panel_kernel<IQ4_NLPanel>(); }

}  // namespace minnow::kernels::avx2
