// One query token against an F16 KV cache with AVX-512 (decode, and each
// token of a windowed prompt): the group of query heads sharing a KV head
// walks the keys 16 at a time. Scores: each key row converted once for the
// whole group, sixteen partial dot products reduced together into one
// register (a key per lane), so the online softmax works on vectors. Values:
// each row converted once and added into every head of the group, the
// group's accumulators in registers a slice of dimensions at a time.
// attention.cpp's AVX2 attend() is the general kernel (and the model's
// reference attention the scalar twin); this one takes the shapes below.
//
// Only the AVX-512 files get AVX-512 flags; nothing here has external
// linkage but attend_one_token_avx512.
#include "kernels/attention_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/exp_avx512.h"

namespace minnow::kernels {
namespace {

using avx512::exp16;

constexpr uint32_t kKeys = 16;  // keys per block: one per lane

inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// r[j] = op over v[j]'s sixteen lanes (op: _mm512_add_ps, _mm512_max_ps).
template <__m512 (*op)(__m512, __m512)>
inline __m512 reduce_each(const __m512 v[16]) {
  __m512 pairs[8], quads[4];
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3]
    pairs[i] = op(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i) {  // per 128-bit lane: that lane's part of v[4i..4i+3]'s sums
    const __m512d a = _mm512_castps_pd(pairs[2 * i]), b = _mm512_castps_pd(pairs[2 * i + 1]);
    quads[i] = op(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  // Add the four 128-bit lanes: lanes (0, 2) and (1, 3) of two vectors at a time, twice.
  auto fold = [](__m512 a, __m512 b) {
    return op(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  return fold(fold(quads[0], quads[1]), fold(quads[2], quads[3]));
}
inline __m512 add16(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
inline __m512 max16(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }

// Asks for the key and value rows (kDim halves each) of n positions from
// `k` and `v` on, `stride` halves apart. Inline on purpose: GCC 12's
// mod/ref analysis took an out-of-line function that only prefetched for
// one without effects and deleted its calls.
template <uint32_t kDim>
inline void prefetch_rows(const uint16_t* k, const uint16_t* v, size_t stride, uint32_t n) {
  for (uint32_t j = 0; j < n; ++j)
    for (uint32_t off = 0; off < kDim * 2; off += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(k + j * stride) + off, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(v + j * stride) + off, _MM_HINT_T0);
    }
}

// kGroup query heads of kDim dimensions against keys [first, last).
template <uint32_t kGroup, uint32_t kDim>
void attend_one(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last, float* partial) {
  constexpr uint32_t kRegs = kDim / 16;  // registers per head row
  // Value dimensions per pass over a block: the group's accumulators for
  // them (up to 8 x 2 registers) stay in registers.
  static_assert(kGroup <= 8 && kDim % 32 == 0);
  constexpr uint32_t kSlice = 32, kSliceRegs = kSlice / 16;
  const float* q = a.q + size_t(t) * a.n_head * kDim + size_t(hk) * kGroup * kDim;
  const uint16_t* k_rows = static_cast<const uint16_t*>(a.k) + size_t(hk) * kDim;
  const uint16_t* v_rows = static_cast<const uint16_t*>(a.v) + size_t(hk) * kDim;
  alignas(64) float keys[kKeys][kDim];
  alignas(64) float probs[kGroup][kKeys];
  alignas(64) float acc[kGroup][kDim] = {};
  // The heads' running maxima are the lanes of one vector; each head's
  // running sum stays a vector (one lane per key slot) until the end: the
  // softmax bookkeeping of a block is vector work on all heads at once, not
  // a chain of horizontal reductions and a scalar exp per head.
  const __m512 minus_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  constexpr __mmask16 kHeads = __mmask16((1u << kGroup) - 1);
  __m512 max_lanes = minus_inf, sum_lanes[kGroup];
  std::fill_n(sum_lanes, kGroup, _mm512_setzero_ps());
  const __m512 scale = _mm512_set1_ps(a.scale);

  // The cache comes from DRAM (the weights have streamed through the caches
  // since this layer last ran): the next block's rows are asked for while
  // this one computes. In the model (tg512, qwen2.5-0.5b) 0.44 -> 0.36 ms
  // a token; two blocks ahead was no better, four worse.
  prefetch_rows<kDim>(k_rows + first * a.kv_stride, v_rows + first * a.kv_stride, a.kv_stride,
                      std::min(last - first, kKeys));
  for (uint32_t j0 = first; j0 < last; j0 += kKeys) {
    const uint32_t nj = std::min(kKeys, last - j0);
    if (j0 + kKeys < last)
      prefetch_rows<kDim>(k_rows + (j0 + kKeys) * a.kv_stride, v_rows + (j0 + kKeys) * a.kv_stride, a.kv_stride,
                          std::min(last - j0 - kKeys, kKeys));
    const __mmask16 live = __mmask16((1u << nj) - 1);
    for (uint32_t j = 0; j < kKeys; ++j)
      for (uint32_t c = 0; c < kRegs; ++c)
        _mm512_store_ps(&keys[j][16 * c], j < nj ? load_f16(k_rows + (j0 + j) * a.kv_stride + 16 * c) : _mm512_setzero_ps());
    __m512 scores[16];  // [g]: head g's scores of the block's keys (masked: -inf); -inf past the group
    for (uint32_t g = 0; g < kGroup; ++g) {
      __m512 qg[kRegs], part[kKeys];
      for (uint32_t c = 0; c < kRegs; ++c) qg[c] = _mm512_loadu_ps(q + g * kDim + 16 * c);
      for (uint32_t j = 0; j < kKeys; ++j) {
        part[j] = _mm512_mul_ps(qg[0], _mm512_load_ps(&keys[j][0]));
        for (uint32_t c = 1; c < kRegs; ++c) part[j] = _mm512_fmadd_ps(qg[c], _mm512_load_ps(&keys[j][16 * c]), part[j]);
      }
      __m512 s = _mm512_mul_ps(reduce_each<add16>(part), scale);
      if (a.softcap > 0.0f) {
        alignas(64) float lanes[kKeys];
        _mm512_store_ps(lanes, s);
        for (float& x : lanes) x = a.softcap * std::tanh(x / a.softcap);
        s = _mm512_load_ps(lanes);
      }
      scores[g] = _mm512_mask_mov_ps(minus_inf, live, s);
    }
    for (uint32_t g = kGroup; g < 16; ++g) scores[g] = minus_inf;
    // The sums so far are rescaled only for heads whose maximum this block
    // raised, which after the first few blocks is rare.
    const __m512 new_max = _mm512_max_ps(max_lanes, reduce_each<max16>(scores));
    if (const __mmask16 raised = _mm512_mask_cmp_ps_mask(kHeads, new_max, max_lanes, _CMP_GT_OQ)) {
      alignas(64) float correction[16];  // e^(old max - new max); ~0 on the first block, where the sums are 0
      _mm512_store_ps(correction, exp16(_mm512_maskz_sub_ps(raised, max_lanes, new_max)));
      for (uint32_t g = 0; g < kGroup; ++g) {
        if (!(raised >> g & 1)) continue;
        const __m512 c_g = _mm512_set1_ps(correction[g]);
        sum_lanes[g] = _mm512_mul_ps(sum_lanes[g], c_g);
        for (uint32_t c = 0; c < kRegs; ++c)
          _mm512_store_ps(&acc[g][16 * c], _mm512_mul_ps(_mm512_load_ps(&acc[g][16 * c]), c_g));
      }
      max_lanes = new_max;
    }
    for (uint32_t g = 0; g < kGroup; ++g) {
      const __m512 m = _mm512_permutexvar_ps(_mm512_set1_epi32(int(g)), max_lanes);
      const __m512 e = _mm512_maskz_mov_ps(live, exp16(_mm512_sub_ps(scores[g], m)));
      sum_lanes[g] = _mm512_add_ps(sum_lanes[g], e);
      _mm512_store_ps(probs[g], e);
    }
    for (uint32_t d0 = 0; d0 < kDim; d0 += kSlice) {
      __m512 sums[kGroup][kSliceRegs];
      for (uint32_t g = 0; g < kGroup; ++g)
        for (uint32_t i = 0; i < kSliceRegs; ++i) sums[g][i] = _mm512_load_ps(&acc[g][d0 + 16 * i]);
      for (uint32_t j = 0; j < nj; ++j) {
        __m512 v[kSliceRegs];
        for (uint32_t i = 0; i < kSliceRegs; ++i) v[i] = load_f16(v_rows + (j0 + j) * a.kv_stride + d0 + 16 * i);
        for (uint32_t g = 0; g < kGroup; ++g) {
          const __m512 pj = _mm512_set1_ps(probs[g][j]);
          for (uint32_t i = 0; i < kSliceRegs; ++i) sums[g][i] = _mm512_fmadd_ps(pj, v[i], sums[g][i]);
        }
      }
      for (uint32_t g = 0; g < kGroup; ++g)
        for (uint32_t i = 0; i < kSliceRegs; ++i) _mm512_store_ps(&acc[g][d0 + 16 * i], sums[g][i]);
    }
  }
  alignas(64) float running_max[16];
  float running_sum[kGroup];
  _mm512_store_ps(running_max, max_lanes);
  for (uint32_t g = 0; g < kGroup; ++g) running_sum[g] = _mm512_reduce_add_ps(sum_lanes[g]);
  if (partial) return store_partial(partial, kGroup, kDim, &acc[0][0], running_max, running_sum);
  float* out = a.out + size_t(t) * a.n_head * kDim + size_t(hk) * kGroup * kDim;
  for (uint32_t g = 0; g < kGroup; ++g) {
    const __m512 inv = _mm512_set1_ps(running_sum[g] > 0 ? 1.0f / running_sum[g] : 0.0f);
    for (uint32_t c = 0; c < kRegs; ++c)
      _mm512_storeu_ps(out + g * kDim + 16 * c, _mm512_mul_ps(_mm512_load_ps(&acc[g][16 * c]), inv));
  }
}

template <uint32_t kDim>
bool attend_dim(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last, float* partial) {
  switch (a.n_head / a.n_head_kv) {
    case 1: attend_one<1, kDim>(a, t, hk, first, last, partial); return true;
    case 2: attend_one<2, kDim>(a, t, hk, first, last, partial); return true;
    case 3: attend_one<3, kDim>(a, t, hk, first, last, partial); return true;
    case 4: attend_one<4, kDim>(a, t, hk, first, last, partial); return true;
    case 5: attend_one<5, kDim>(a, t, hk, first, last, partial); return true;
    case 6: attend_one<6, kDim>(a, t, hk, first, last, partial); return true;
    case 7: attend_one<7, kDim>(a, t, hk, first, last, partial); return true;
    case 8: attend_one<8, kDim>(a, t, hk, first, last, partial); return true;
    default: return false;
  }
}

}  // namespace

bool attend_one_token_avx512(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last,
                             float* partial) {
  if (!a.kv_f16 || first >= last) return false;
  switch (a.head_dim) {
    case 64: return attend_dim<64>(a, t, hk, first, last, partial);
    case 128: return attend_dim<128>(a, t, hk, first, last, partial);
    default: return false;
  }
}

}  // namespace minnow::kernels
