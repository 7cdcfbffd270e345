// AVX2 panel GEMM for Q4_K, Q5_K, Q6_K, Q3_K and IQ4_XS weights against Q8_K activations, packed
// per call (prefill, batched decode). Same idea as gemm_avx2.cpp: chunk c of
// a 32-element group holds elements 4c..4c+3 of 8 rows, so maddubs with the
// activations broadcast yields int16 partial sums per row. Sub-block scales
// differ per row, so they are int16 lanes (2r, 2r+1 = row r) that one madd
// applies while widening; a super-block's integer sums then need one convert
// and FMA per token for all 8 rows.
//
// Q4_K panel super-block (8 rows, 1600 B):
//   d[8] float, dmin[8] float,
//   scale16[g]: 16 int16 (both lanes of row r = 6-bit scale of group g), g < 8
//   min16[g]:   the same for the mins
//   group g: 4 x 32 B, vector j holds chunk j (low nibbles) and j+4 (high)
// Q5_K panel super-block (8 rows, 1856 B): as Q4_K's, each group followed by
//   32 B whose bit c of byte i is the fifth bit of byte i of chunk c
// Q6_K panel super-block (8 rows, 2880 B), also holding Q3_K and Q2_K:
//   d[8] float, f[8] float (the offset term's factor: see Q6_KRows),
//   scale16[j]: 16 int16 (both lanes of row r = scale of 16-element sub-block j), j < 16
//   pair16[p]:  lanes 2r, 2r+1 = offsets o_2p, o_2p+1 of row r (for the offset term), p < 8
//   group g: 8 chunks x 32 B of values 0..63
// The scalar twins are the scalar dots of each row (tests compare).
#include "kernels/gemm_avx2.h"

#include "base/half.h"
#include "kernels/blocks_avx2.h"
#include "kernels/kquant_panel_layout.h"
#include "quant/block_formats.h"
#include "quant/iq_quants.h"

namespace minnow::kernels::avx2 {
namespace {

using namespace simd;
using quant::kQK_K;

// The per-super-block bodies must inline into their token loop, or their
// accumulators leave registers.
#define MINNOW_INLINE __attribute__((always_inline)) inline

// Lane pair (2r, 2r+1) = (a[r], b[r]) as int16 (a, b: int16 lane r = row r).
inline void store_pairs(uint8_t* p, __m128i a, __m128i b) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm256_set_m128i(_mm_unpackhi_epi16(a, b), _mm_unpacklo_epi16(a, b)));
}

inline void store_floats(uint8_t* p, const float v[8]) { std::memcpy(p, v, 32); }

// One group of 8 rows (32 values each) stored as its 8 chunks of 32 B.
inline void store_chunks(uint8_t* out, __m256i rows[8]) {
  transpose8x8_epi32(rows);
  for (int c = 0; c < 8; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * c), rows[c]);
}

// This super-block's spot in the next panel's rows, which the next call
// packs (as in gemm_avx2.cpp); a super-block spans several cache lines.
inline void prefetch_next_panel(const uint8_t* a, size_t row_bytes, size_t bytes) {
  prefetch_lines(a + kPanelRows * row_bytes, bytes);
}

// Q4_K and Q5_K: 32-element groups with a 6-bit scale and min each. Q5_K's
// fifth bits are kept as Q5_0's panels keep theirs: one more 32-byte plane
// per group whose bit c of byte i belongs to byte i of chunk c.
template <bool kFifthBit>
struct Q45_KPanel : kquant_layout::Q45K<kFifthBit> {
  using Layout = kquant_layout::Q45K<kFifthBit>;
  using Layout::kGroupBytes, Layout::kScalesAt, Layout::kMinsAt, Layout::kQsAt, Layout::kBlockBytes;
  static constexpr size_t kWeightBytes = kFifthBit ? sizeof(quant::BlockQ5_K) : sizeof(quant::BlockQ4_K);
  static constexpr size_t kRowQsAt = kFifthBit ? 48 : 16;  // Q5_K's qh[32] sit at 16
  // maddubs results an int16 lane may add: 8 * 15 * 127 * 2 and 4 * 31 * 127 * 2 < 2^15.
  static constexpr int kSumChunks = kFifthBit ? 4 : 8;

  static void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
      float d[8], dmin[8];
      uint64_t scales[8], mins[8];  // [row]: byte g = group g
      __m256i groups[8][8];         // [group][row]: 32 values 0..15 (0..31)
      for (int r = 0; r < 8; ++r) {
        const uint8_t* a = w + r * row_bytes + sb * kWeightBytes;
        prefetch_next_panel(a, row_bytes, kWeightBytes);
        d[r] = half_at(a);
        dmin[r] = half_at(a + 2);
        unpack_k_scales(a + 4, scales[r], mins[r]);
        for (int j = 0; j < 4; ++j) {
          const __m256i q = load256(a + kRowQsAt + 32 * j);
          groups[2 * j][r] = _mm256_and_si256(q, low4);
          groups[2 * j + 1][r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        }
        if constexpr (kFifthBit) {
          const __m256i qh = load256(a + 16);  // bit g of byte l: element l of group g
          for (int g = 0; g < 8; ++g) groups[g][r] = _mm256_or_si256(groups[g][r], move_bit(qh, g, 4));
        }
      }
      store_floats(panel, d);
      store_floats(panel + Layout::kDminAt, dmin);
      __m128i sc[8], mn[8];  // [group]: row r in lane r
      transpose_bytes_to_i16<false>(scales, sc);
      transpose_bytes_to_i16<false>(mins, mn);
      for (int g = 0; g < 8; ++g) {
        store_pairs(panel + kScalesAt + 32 * g, sc[g], sc[g]);
        store_pairs(panel + kMinsAt + 32 * g, mn[g], mn[g]);
        transpose8x8_epi32(groups[g]);  // 8 rows' groups -> chunks
        uint8_t* out = panel + kQsAt + kGroupBytes * g;
        for (int j = 0; j < 4; ++j) {
          const __m256i v = _mm256_or_si256(_mm256_and_si256(groups[g][j], low4),
                                            _mm256_slli_epi16(_mm256_and_si256(groups[g][j + 4], low4), 4));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * j), v);
        }
        if constexpr (kFifthBit) {
          __m256i high = _mm256_setzero_si256();
          for (int c = 0; c < 8; ++c) high = _mm256_or_si256(high, move_bit(groups[g][c], 4, c));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 128), high);
        }
      }
    }
  }

  // Adds super-block p's products to acc; xb(t) is token t's Q8_K block.
  template <int kTokens, class XBlock>
  MINNOW_INLINE static void super_block(const uint8_t* p, XBlock xb, __m256 acc[kTokens]) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    {
      __m256i s32[kTokens];
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const uint8_t* q = p + kQsAt + kGroupBytes * g;
        const __m256i scale = load256(p + kScalesAt + 32 * g);
        __m256i s16[kTokens];
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
          const __m256i v = load256(q + 32 * (c & 3));
          __m256i wc = _mm256_and_si256(c < 4 ? v : _mm256_srli_epi16(v, 4), low4);
          if constexpr (kFifthBit) wc = _mm256_or_si256(wc, move_bit(load256(q + 128), c, 4));
#pragma GCC unroll 4
          for (int t = 0; t < kTokens; ++t) {
            const __m256i prod = _mm256_maddubs_epi16(wc, broadcast4(xb(t) + kQ8KQs + 32 * g + 4 * c));
            s16[t] = c % kSumChunks == 0 ? prod : _mm256_add_epi16(s16[t], prod);
          }
          if ((c + 1) % kSumChunks != 0) continue;
#pragma GCC unroll 4
          for (int t = 0; t < kTokens; ++t) {
            const __m256i part = _mm256_madd_epi16(s16[t], scale);
            s32[t] = g == 0 && c + 1 == kSumChunks ? part : _mm256_add_epi32(s32[t], part);
          }
        }
      }
      const __m256 d = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
      const __m256 dmin = _mm256_loadu_ps(reinterpret_cast<const float*>(p + Layout::kDminAt));
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        // sum_g min[g] * (bsums[2g] + bsums[2g+1]): one madd per group.
        __m256i m32 = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g)
          m32 = _mm256_add_epi32(m32, _mm256_madd_epi16(load256(p + kMinsAt + 32 * g), broadcast4(xb(t) + kQ8KBsums + 4 * g)));
        const __m256 v = _mm256_fmsub_ps(_mm256_cvtepi32_ps(s32[t]), d, _mm256_mul_ps(_mm256_cvtepi32_ps(m32), dmin));
        acc[t] = _mm256_fmadd_ps(v, _mm256_broadcast_ss(reinterpret_cast<const float*>(xb(t))), acc[t]);
      }
    }
  }
};
using Q4_KPanel = Q45_KPanel<false>;
using Q5_KPanel = Q45_KPanel<true>;

// Super-block decoders for the Q6_K panel layout: d, sixteen int8
// sub-block scales s_j, eight groups of 32 values 0..63 (u), and an offset
// term: the weight is d * s_j * u - f * o_j, with o_j = s_j and f = 32 d
// for Q6_K and Q3_K (value u - 32), o_j = min_j and f = dmin for Q2_K.
struct Q6_KRows {
  static constexpr size_t kBytes = sizeof(quant::BlockQ6_K);
  static constexpr bool kOwnOffsets = false;  // o_j = s_j
  static float d(const uint8_t* a) { return half_at(a + 208); }
  static float f(const uint8_t* a) { return 32.0f * d(a); }
  static void scales(const uint8_t* a, uint8_t out[16]) { std::memcpy(out, a + 192, 16); }
  static void offsets(const uint8_t*, uint8_t*) {}
  static void values(const uint8_t* a, __m256i q[8]) {
    q6_k_half(a, 0, q);
    q6_k_half(a, 1, q + 4);
  }
};

// Q3_K fits the same panels: its 3-bit value u - 4 (u = 0..7, the hmask bit
// adding 4) is stored as u + 28, so that value - 32 is the same weight, and
// its 6-bit scales are int8 once unbiased.
struct Q3_KRows {
  static constexpr size_t kBytes = sizeof(quant::BlockQ3_K);
  static constexpr bool kOwnOffsets = false;
  static float d(const uint8_t* a) { return half_at(a + 108); }
  static float f(const uint8_t* a) { return 32.0f * d(a); }
  static void scales(const uint8_t* a, uint8_t out[16]) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), q3_k_scales(a + 96));
  }
  static void offsets(const uint8_t*, uint8_t*) {}
  static void values(const uint8_t* a, __m256i q[8]) {
    const __m256i hm = load256(a), bias = _mm256_set1_epi8(28);
    for (int half = 0; half < 2; ++half) {
      const __m256i qs = load256(a + 32 + 32 * half);
      for (int p = 0; p < 4; ++p)
        q[4 * half + p] = _mm256_add_epi8(_mm256_or_si256(plane2(qs, p), hbit_as_4(hm, 4 * half + p)), bias);
    }
  }
};

// Q2_K: values 0..3 with 4-bit scales and mins per 16 elements.
struct Q2_KRows {
  static constexpr size_t kBytes = sizeof(quant::BlockQ2_K);
  static constexpr bool kOwnOffsets = true;
  static float d(const uint8_t* a) { return half_at(a + 80); }
  static float f(const uint8_t* a) { return half_at(a + 82); }
  static void scales(const uint8_t* a, uint8_t out[16]) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_and_si128(packed, _mm_set1_epi8(0x0f)));
  }
  static void offsets(const uint8_t* a, uint8_t out[16]) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0f)));
  }
  static void values(const uint8_t* a, __m256i q[8]) {
    for (int half = 0; half < 2; ++half) {
      const __m256i qs = load256(a + 16 + 32 * half);
      for (int p = 0; p < 4; ++p) q[4 * half + p] = plane2(qs, p);
    }
  }
};

struct Q6_KPanel : kquant_layout::Q6K {

  template <class Rows>
  static void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
    for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
      float d[8], f[8];
      uint64_t scales[2][8], offsets[2][8];  // [sub-blocks 0-7, 8-15][row]
      __m256i groups[8][8];                  // [group][row]: 32 values 0..63
      for (int r = 0; r < 8; ++r) {
        const uint8_t* a = w + r * row_bytes + sb * Rows::kBytes;
        prefetch_next_panel(a, row_bytes, Rows::kBytes);
        d[r] = Rows::d(a);
        f[r] = Rows::f(a);
        uint8_t sc[16], off[16];
        Rows::scales(a, sc);
        std::memcpy(&scales[0][r], sc, 8);
        std::memcpy(&scales[1][r], sc + 8, 8);
        if constexpr (Rows::kOwnOffsets) {
          Rows::offsets(a, off);
          std::memcpy(&offsets[0][r], off, 8);
          std::memcpy(&offsets[1][r], off + 8, 8);
        }
        __m256i q[8];
        Rows::values(a, q);
        for (int g = 0; g < 8; ++g) groups[g][r] = q[g];
      }
      store_floats(panel, d);
      store_floats(panel + kFAt, f);
      __m128i sc[16], off[16];  // [sub-block]: row r in lane r
      transpose_bytes_to_i16<true>(scales[0], sc);
      transpose_bytes_to_i16<true>(scales[1], sc + 8);
      const __m128i* o = sc;
      if constexpr (Rows::kOwnOffsets) {
        transpose_bytes_to_i16<true>(offsets[0], off);
        transpose_bytes_to_i16<true>(offsets[1], off + 8);
        o = off;
      }
      for (int j = 0; j < 16; ++j) store_pairs(panel + kScalesAt + 32 * j, sc[j], sc[j]);
      for (int p2 = 0; p2 < 8; ++p2) store_pairs(panel + kPairsAt + 32 * p2, o[2 * p2], o[2 * p2 + 1]);
      for (int g = 0; g < 8; ++g) store_chunks(panel + kQsAt + 256 * g, groups[g]);
    }
  }

  template <int kTokens, class XBlock>
  MINNOW_INLINE static void super_block(const uint8_t* p, XBlock xb, __m256 acc[kTokens]) {
    {
      __m256i s32[kTokens];
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        // Chunks 0-3 are sub-block 2g, 4-7 sub-block 2g+1; int16 lanes hold
        // two chunks' products (4 * 63 * 127 < 2^15), not four.
#pragma GCC unroll 4
        for (int c0 = 0; c0 < 8; c0 += 2) {
          const __m256i w0 = load256(p + kQsAt + 256 * g + 32 * c0), w1 = load256(p + kQsAt + 256 * g + 32 * (c0 + 1));
          const __m256i scale = load256(p + kScalesAt + 32 * (2 * g + c0 / 4));
#pragma GCC unroll 4
          for (int t = 0; t < kTokens; ++t) {
            const uint8_t* xq = xb(t) + kQ8KQs + 32 * g + 4 * c0;
            const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(w0, broadcast4(xq)),
                                                 _mm256_maddubs_epi16(w1, broadcast4(xq + 4)));
            const __m256i part = _mm256_madd_epi16(s16, scale);
            s32[t] = g == 0 && c0 == 0 ? part : _mm256_add_epi32(s32[t], part);
          }
        }
      }
      const __m256 d = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
      const __m256 f = _mm256_loadu_ps(reinterpret_cast<const float*>(p + kFAt));
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        // The offset term f * sum_j o_j * bsums[j], two sub-blocks per madd.
        __m256i off = _mm256_setzero_si256();
        for (int p2 = 0; p2 < 8; ++p2)
          off = _mm256_add_epi32(off, _mm256_madd_epi16(load256(p + kPairsAt + 32 * p2), broadcast4(xb(t) + kQ8KBsums + 4 * p2)));
        const __m256 v = _mm256_fmsub_ps(_mm256_cvtepi32_ps(s32[t]), d, _mm256_mul_ps(_mm256_cvtepi32_ps(off), f));
        acc[t] = _mm256_fmadd_ps(v, _mm256_broadcast_ss(reinterpret_cast<const float*>(xb(t))), acc[t]);
      }
    }
  }
};

// IQ4_XS: 32-element groups of codebook values (int8, >= -127) with a
// 6-bit scale each. The values are signed, so, as in Q8_0's panels, |w|
// meets the activations carrying w's sign; every chunk's int16 pairs are
// widened by a madd with the group's scale lanes.
//   d[8] float, scale16[g] (lanes 2r, 2r+1 = scale of group g, row r),
//   group g: 8 chunks x 32 B of values                        (2336 B)
struct IQ4_XSPanel : kquant_layout::IQ4XS {
  static constexpr size_t kWeightBytes = sizeof(quant::BlockIQ4_XS);

  static void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
    const __m256i codebook = iq4_codebook();
    for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
      float d[8];
      uint64_t scales[8];      // [row]: byte g = int8 scale of group g
      __m256i groups[8][8];    // [group][row]: 32 values
      for (int r = 0; r < 8; ++r) {
        const uint8_t* a = w + r * row_bytes + sb * kWeightBytes;
        prefetch_next_panel(a, row_bytes, kWeightBytes);
        d[r] = half_at(a);
        int ls[8];
        quant::iq4_xs_group_scales(a, ls);
        uint8_t sc[8];
        for (int g = 0; g < 8; ++g) sc[g] = uint8_t(int8_t(ls[g]));
        std::memcpy(&scales[r], sc, 8);
        for (int g = 0; g < 8; ++g) groups[g][r] = _mm256_shuffle_epi8(codebook, nibbles_32(a + 8 + 16 * g));
      }
      store_floats(panel, d);
      __m128i sc[8];
      transpose_bytes_to_i16<true>(scales, sc);
      for (int g = 0; g < 8; ++g) {
        store_pairs(panel + kScalesAt + 32 * g, sc[g], sc[g]);
        store_chunks(panel + kQsAt + 256 * g, groups[g]);
      }
    }
  }

  template <int kTokens, class XBlock>
  MINNOW_INLINE static void super_block(const uint8_t* p, XBlock xb, __m256 acc[kTokens]) {
    __m256i s32[kTokens];
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m256i scale = load256(p + kScalesAt + 32 * g);
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c) {
        const __m256i w = load256(p + kQsAt + 256 * g + 32 * c), aw = _mm256_abs_epi8(w);
#pragma GCC unroll 4
        for (int t = 0; t < kTokens; ++t) {
          const __m256i xc = _mm256_sign_epi8(broadcast4(xb(t) + kQ8KQs + 32 * g + 4 * c), w);
          const __m256i part = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, xc), scale);
          s32[t] = g == 0 && c == 0 ? part : _mm256_add_epi32(s32[t], part);
        }
      }
    }
    const __m256 d = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s32[t]), d),
                               _mm256_broadcast_ss(reinterpret_cast<const float*>(xb(t))), acc[t]);
  }
};

// kTokens activation rows against one panel, a super-block at a time.
template <class L, int kTokens>
void panel_tokens(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, float* y, size_t y_stride) {
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t sb = 0; sb < n / kQK_K; ++sb)
    L::template super_block<kTokens>(panel + sb * L::kBlockBytes,
                                     [&](int t) { return x + t * x_stride + sb * kQ8KBytes; }, acc);
  for (int t = 0; t < kTokens; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

template <class L>
void gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
          size_t y_stride, const uint8_t* /*next: packed per call*/) {
  for_token_groups(n_tokens, [&](auto k, size_t t) {
    panel_tokens<L, decltype(k)::value>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride);
  });
}

}  // namespace

// Per call only (no unpack_row, never prepacked): the panels are larger than
// the rows, and decode keeps the dot kernels.
PanelKernel panel_kernel_q4_k() { return {Q4_KPanel::pack, gemm<Q4_KPanel>, nullptr, Q4_KPanel::kBlockBytes / 8}; }
PanelKernel panel_kernel_q5_k() { return {Q5_KPanel::pack, gemm<Q5_KPanel>, nullptr, Q5_KPanel::kBlockBytes / 8}; }
PanelKernel panel_kernel_q6_k() {
  return {Q6_KPanel::pack<Q6_KRows>, gemm<Q6_KPanel>, nullptr, Q6_KPanel::kBlockBytes / 8};
}
PanelKernel panel_kernel_iq4_xs() {
  return {IQ4_XSPanel::pack, gemm<IQ4_XSPanel>, nullptr, IQ4_XSPanel::kBlockBytes / 8};
}
PanelKernel panel_kernel_q2_k() {
  return {Q6_KPanel::pack<Q2_KRows>, gemm<Q6_KPanel>, nullptr, Q6_KPanel::kBlockBytes / 8};
}
PanelKernel panel_kernel_q3_k() {
  return {Q6_KPanel::pack<Q3_KRows>, gemm<Q6_KPanel>, nullptr, Q6_KPanel::kBlockBytes / 8};
}

}  // namespace minnow::kernels::avx2
