// One query token against an F16 KV cache with AVX-512 (decode, and each
// token of a windowed prompt): the group of query heads sharing a KV head
// walks the keys one tile of 16 at a time. Scores: the tile holds the keys
// transposed (kernels/attention.h), so each dimension's 16 keys are
// converted once and multiplied into every head of the group, a key per
// lane, with no reductions; the online softmax works on those vectors.
// Values: each row converted once and added into every head of the group,
// the group's accumulators in registers a slice of dimensions at a time.
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
#include "kernels/prefetch.h"

namespace minnow::kernels {
namespace {

using avx512::exp16;

static_assert(kKeyTile == 16, "a key tile is one register of floats");

inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Asks for one KV head's part of a key tile (kDim * 16 halves from `k` on)
// and for n value rows (kDim halves each, one after another from `v` on):
// the first tile, before the loop that asks for each next one as it goes.
// Inline on purpose: GCC 12's mod/ref analysis took an out-of-line
// function that only prefetched for one without effects and deleted its
// calls.
template <uint32_t kDim>
inline void prefetch_tile(const uint16_t* k, const uint16_t* v, uint32_t n) {
  for (uint32_t off = 0; off < kDim * kKeyTile * 2; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(k) + off, _MM_HINT_T0);
  for (uint32_t off = 0; off < n * kDim * 2; off += 64) _mm_prefetch(reinterpret_cast<const char*>(v) + off, _MM_HINT_T0);
}

// One row's step of the online softmax over a tile: s holds q.k of the
// tile's keys (lanes outside `live` are ignored: they may hold anything).
// Scales and soft-caps them, raises the running maximum (rescaling the
// row's sum lanes and its kDim accumulators only then, which after the
// first few tiles is rare), adds e^(s - max) into the sum lanes and
// returns it (0 outside `live`).
template <uint32_t kDim>
inline __m512 softmax_step(const AttentionArgs& a, __m512 s, __mmask16 live, float& running_max, __m512& sum_lanes,
                           float* acc) {
  s = _mm512_mul_ps(s, _mm512_set1_ps(a.scale));
  if (a.softcap > 0.0f) {
    alignas(64) float lanes[kKeyTile];
    _mm512_store_ps(lanes, s);
    for (float& x : lanes) x = a.softcap * std::tanh(x / a.softcap);
    s = _mm512_load_ps(lanes);
  }
  s = _mm512_mask_mov_ps(_mm512_set1_ps(-std::numeric_limits<float>::infinity()), live, s);
  if (_mm512_cmp_ps_mask(s, _mm512_set1_ps(running_max), _CMP_GT_OQ)) {
    const float new_max = _mm512_reduce_max_ps(s);
    const __m512 c = _mm512_set1_ps(std::exp(running_max - new_max));  // 0 on the first tile, where the sums are 0
    running_max = new_max;
    sum_lanes = _mm512_mul_ps(sum_lanes, c);
    for (uint32_t i = 0; i < kDim; i += 16) _mm512_store_ps(acc + i, _mm512_mul_ps(_mm512_load_ps(acc + i), c));
  }
  const __m512 e = _mm512_maskz_mov_ps(live, exp16(_mm512_sub_ps(s, _mm512_set1_ps(running_max))));
  sum_lanes = _mm512_add_ps(sum_lanes, e);
  return e;
}

// The lanes [lo, hi) of a tile.
inline __mmask16 lanes(uint32_t lo, uint32_t hi) { return __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1)); }

// Where the tile after the one at key j0 starts (its keys at k, its value
// rows at v), for asking for its lines while this one computes; this tile
// again where keys end there (a prefetch of lines at hand costs next to
// nothing, and keys past `end` are none of ours).
struct NextTile {
  const char *k, *v;
};
template <uint32_t kDim>
inline NextTile next_tile(const uint16_t* tile, const uint16_t* v_rows, uint32_t j0, uint32_t end) {
  const bool more = j0 + kKeyTile < end;
  return {reinterpret_cast<const char*>(more ? tile + size_t(kDim) * kKeyTile : tile),
          reinterpret_cast<const char*>(v_rows + size_t(more ? j0 + kKeyTile : j0) * kDim)};
}

// out[0..kDim) = acc / sum (0 where nothing was summed).
template <uint32_t kDim>
inline void store_normalised(float* out, const float* acc, float sum) {
  const __m512 inv = _mm512_set1_ps(sum > 0 ? 1.0f / sum : 0.0f);
  for (uint32_t c = 0; c < kDim; c += 16) _mm512_storeu_ps(out + c, _mm512_mul_ps(_mm512_load_ps(acc + c), inv));
}

// Registers of a value row (of `row` in all) one pass over a tile takes
// for a group of query heads: the most that divide the row and leave the
// group's accumulators and the row's slice 24 of the 32 (the rest hold the
// broadcast weight and addresses), in pairs so that a slice is whole
// 64-byte lines of the F16 row (the prefetch asks for lines). Gemma 2's
// pairs of 256 then take two passes of 128 (they took eight of 32, and ran
// at 20 GB/s at depth 4096).
constexpr uint32_t value_slice_registers(uint32_t group, uint32_t row) {
  uint32_t best = 2;  // heads are multiples of 32 dimensions: a pair always divides the row
  for (uint32_t r = 2; r <= row; r += 2)
    if (row % r == 0 && (group + 1) * r <= 24) best = r;
  return best;
}
static_assert(value_slice_registers(1, 4) == 4 && value_slice_registers(1, 8) == 8, "MHA rows of 64, 128: whole");
static_assert(value_slice_registers(2, 16) == 8 && value_slice_registers(4, 4) == 4, "Gemma 2: 128; groups of 4 at 64: whole");
static_assert(value_slice_registers(7, 4) == 2 && value_slice_registers(8, 4) == 2, "Qwen 2.5 groups: slices of 32");

// kGroup query heads of kDim dimensions against keys [first, last).
template <uint32_t kGroup, uint32_t kDim>
void attend_one(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last, float* partial) {
  // Each head's dot products are split over kParts interleaved sets of
  // dimensions, so that at least eight FMA chains are in flight.
  constexpr uint32_t kParts = kGroup >= 8 ? 1 : kGroup >= 4 ? 2 : kGroup >= 2 ? 4 : 8;
  // Value dimensions per pass over a tile: the group's accumulators for
  // them and the slice of a value row stay in registers. Where a whole
  // row fits (MHA heads up to 128, groups of 2-4 at 64), one pass reads
  // each value row once, front to back: slices of a row re-walked the tile
  // at a 2 * kDim stride, which a core's prefetchers follow worse.
  static_assert(kGroup <= 8 && kDim % 32 == 0 && kDim % kParts == 0);
  constexpr uint32_t kSliceRegs = value_slice_registers(kGroup, kDim / 16), kSlice = kSliceRegs * 16;
  const float* q = a.q + size_t(t) * a.n_head * kDim + size_t(hk) * kGroup * kDim;
  constexpr size_t kTileHalves = size_t(kDim) * kKeyTile;
  const uint16_t* k_tiles = static_cast<const uint16_t*>(a.k) + hk * a.head_stride;
  const uint16_t* v_rows = static_cast<const uint16_t*>(a.v) + hk * a.head_stride;  // kDim apart
  alignas(64) float probs[kGroup][kKeyTile];
  alignas(64) float acc[kGroup][kDim] = {};
  // Each head's running sum stays a vector (one lane per key slot) until
  // the end; its running maximum is a scalar that a tile rarely raises.
  float running_max[kGroup];
  std::fill_n(running_max, kGroup, -std::numeric_limits<float>::infinity());
  __m512 sum_lanes[kGroup];
  std::fill_n(sum_lanes, kGroup, _mm512_setzero_ps());

  // The cache comes from DRAM (the weights have streamed through the caches
  // since this layer last ran): the next tile's lines are asked for one at
  // a time while this one computes, one per 64 bytes of it consumed. A
  // burst per tile stalled on full fill buffers; tg64 at depth 4096 (qwen2.5-0.5b,
  // Machine C): outside the matmuls 3.40/3.37 -> 2.87/3.14 ms a token;
  // no prefetch 4.2; two and four tiles ahead no better. Where the decode
  // kernels go without (prefetch.h: Zen 4, or MINNOW_PREFETCH=off) so does
  // this: on Zen 4 the hardware keeps up and the requests cost (Machine D,
  // attention at depth 2048: gemma2-2b 9.7-10.4 -> 7.0-7.9 ms a token,
  // phi3-mini 18.5-19.8 -> 16.0-16.3 at the 68 GB/s level; qwen2.5-0.5b and
  // llama3.2-1b the same).
  const bool prefetch = decode_prefetch_bytes() != 0;
  const uint32_t j_begin = first / kKeyTile * kKeyTile;
  if (prefetch)
    prefetch_tile<kDim>(k_tiles + size_t(j_begin / kKeyTile) * kTileHalves, v_rows + size_t(first) * kDim,
                        std::min(last, j_begin + kKeyTile) - first);
  for (uint32_t j0 = j_begin; j0 < last; j0 += kKeyTile) {
    const uint32_t lo = std::max(first, j0) - j0, hi = std::min(last, j0 + kKeyTile) - j0;  // the tile's keys
    const uint16_t* kt = k_tiles + size_t(j0 / kKeyTile) * kTileHalves;
    const NextTile next = next_tile<kDim>(kt, v_rows, j0, last);
    const __mmask16 live = lanes(lo, hi);
    __m512 dots[kGroup][kParts];
    for (uint32_t g = 0; g < kGroup; ++g)
      for (uint32_t p = 0; p < kParts; ++p) dots[g][p] = _mm512_setzero_ps();
    for (uint32_t d = 0; d < kDim; d += kParts)
      for (uint32_t p = 0; p < kParts; ++p) {
        const __m512 keys = load_f16(kt + size_t(d + p) * kKeyTile);
        if (prefetch && (d + p) % 2 == 0) _mm_prefetch(next.k + (d + p) * kKeyTile * 2, _MM_HINT_T0);
        for (uint32_t g = 0; g < kGroup; ++g)
          dots[g][p] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * kDim + d + p]), keys, dots[g][p]);
      }
    for (uint32_t g = 0; g < kGroup; ++g) {
      __m512 s = dots[g][0];
      for (uint32_t p = 1; p < kParts; ++p) s = _mm512_add_ps(s, dots[g][p]);
      const __m512 e = softmax_step<kDim>(a, s, live, running_max[g], sum_lanes[g], acc[g]);
      _mm512_store_ps(probs[g], e);
    }
    for (uint32_t d0 = 0; d0 < kDim; d0 += kSlice) {
      __m512 sums[kGroup][kSliceRegs];
      for (uint32_t g = 0; g < kGroup; ++g)
        for (uint32_t i = 0; i < kSliceRegs; ++i) sums[g][i] = _mm512_load_ps(&acc[g][d0 + 16 * i]);
      for (uint32_t j = lo; j < hi; ++j) {
        __m512 v[kSliceRegs];
        for (uint32_t i = 0; i < kSliceRegs; ++i) v[i] = load_f16(v_rows + size_t(j0 + j) * kDim + d0 + 16 * i);
        if (prefetch)
          for (uint32_t line = 0; line < kSlice * 2; line += 64)
            _mm_prefetch(next.v + (size_t(j) * kDim + d0) * 2 + line, _MM_HINT_T0);
        for (uint32_t g = 0; g < kGroup; ++g) {
          const __m512 pj = _mm512_set1_ps(probs[g][j]);
          for (uint32_t i = 0; i < kSliceRegs; ++i) sums[g][i] = _mm512_fmadd_ps(pj, v[i], sums[g][i]);
        }
      }
      for (uint32_t g = 0; g < kGroup; ++g)
        for (uint32_t i = 0; i < kSliceRegs; ++i) _mm512_store_ps(&acc[g][d0 + 16 * i], sums[g][i]);
    }
  }
  float running_sum[kGroup];
  for (uint32_t g = 0; g < kGroup; ++g) running_sum[g] = _mm512_reduce_add_ps(sum_lanes[g]);
  if (partial) return store_partial(partial, kGroup, kDim, &acc[0][0], running_max, running_sum);
  float* out = a.out + size_t(t) * a.n_head * kDim + size_t(hk) * kGroup * kDim;
  for (uint32_t g = 0; g < kGroup; ++g) store_normalised<kDim>(out + g * kDim, acc[g], running_sum[g]);
}

// A prompt's query tokens [t0, t0 + nt) (nt <= kMaxTileTokens), KV head
// hk: every (token, query head) pair of the tile is a row, all rows walk
// the keys from `first` to the last token's end together, one tile of 16
// at a time. Each tile is converted to floats once for all rows; scores
// take 8 rows at a time (8 FMA chains, a key dimension loaded once for
// all), values 2-4 rows at a time (a value row loaded once for them).
constexpr uint32_t kMaxTileTokens = 8, kMaxRows = kMaxTileTokens * 8;
template <uint32_t kDim>
void attend_tile(const AttentionArgs& a, uint32_t t0, uint32_t nt, uint32_t hk, uint32_t first) {
  constexpr uint32_t kScoreRows = 8, kValueRows = 256 / kDim;  // value accumulators: 16 registers
  constexpr size_t kTileHalves = size_t(kDim) * kKeyTile;
  const uint32_t group = a.n_head / a.n_head_kv, n_rows = nt * group;
  const size_t q_dim = size_t(a.n_head) * kDim;
  // Row r is token t0 + r / group, query head hk * group + r % group; rows
  // of later tokens see at least as many keys.
  auto end_of = [&](uint32_t r) { return a.causal ? a.pos0 + t0 + r / group + 1 : a.pos0 + a.n_tokens; };
  // Row r's query and output sit this far into a.q and a.out.
  auto row_at = [&](uint32_t r) { return size_t(t0 + r / group) * q_dim + (size_t(hk) * group + r % group) * kDim; };
  const uint32_t keys_end = end_of(n_rows - 1);
  const uint16_t* k_tiles = static_cast<const uint16_t*>(a.k) + hk * a.head_stride;
  const uint16_t* v_rows = static_cast<const uint16_t*>(a.v) + hk * a.head_stride;  // kDim apart

  alignas(64) float keys[kDim][kKeyTile];    // the tile's keys, a dimension per row
  alignas(64) float values[kKeyTile][kDim];  // its values; 0 past keys_end (those may hold anything)
  // Rows past n_rows (up to whole groups of kValueRows) keep probabilities
  // of 0, so the value loop needs no ragged end.
  alignas(64) float probs[kMaxRows][kKeyTile] = {};
  alignas(64) float acc[kMaxRows][kDim];
  __m512 sum_lanes[kMaxRows];
  float running_max[kMaxRows];
  static_assert(kMaxRows % kValueRows == 0);
  const uint32_t n_value_rows = (n_rows + kValueRows - 1) / kValueRows * kValueRows;
  for (uint32_t r = 0; r < n_value_rows; ++r) std::fill_n(acc[r], kDim, 0.0f);
  for (uint32_t r = 0; r < n_rows; ++r) {
    sum_lanes[r] = _mm512_setzero_ps();
    running_max[r] = -std::numeric_limits<float>::infinity();
  }

  const uint32_t j_begin = first / kKeyTile * kKeyTile;
  for (uint32_t j0 = j_begin; j0 < keys_end; j0 += kKeyTile) {
    const uint32_t lo = std::max(first, j0) - j0, n_valid = std::min(keys_end - j0, kKeyTile);
    const uint16_t* kt = k_tiles + size_t(j0 / kKeyTile) * kTileHalves;
    const NextTile next = next_tile<kDim>(kt, v_rows, j0, keys_end);  // as attend_one: a line at a time
    for (uint32_t d = 0; d < kDim; ++d) {
      if (d % 2 == 0) _mm_prefetch(next.k + d * kKeyTile * 2, _MM_HINT_T0);
      _mm512_store_ps(keys[d], load_f16(kt + size_t(d) * kKeyTile));
    }
    for (uint32_t j = 0; j < kKeyTile; ++j)
      for (uint32_t c = 0; c < kDim; c += 16) {
        if (c % 32 == 0) _mm_prefetch(next.v + (size_t(j) * kDim + c) * 2, _MM_HINT_T0);
        _mm512_store_ps(&values[j][c], j < n_valid ? load_f16(v_rows + size_t(j0 + j) * kDim + c) : _mm512_setzero_ps());
      }
    // Rows that see none of this tile's keys (causal) come first.
    uint32_t r_begin = 0;
    while (end_of(r_begin) <= j0 + lo) ++r_begin;
    for (uint32_t r0 = r_begin; r0 < n_rows; r0 += kScoreRows) {
      const uint32_t nr = std::min(kScoreRows, n_rows - r0);
      const float* q[kScoreRows];
      for (uint32_t i = 0; i < kScoreRows; ++i) q[i] = a.q + row_at(r0 + std::min(i, nr - 1));  // spares repeat the last
      __m512 dots[kScoreRows];
      for (__m512& x : dots) x = _mm512_setzero_ps();
      for (uint32_t d = 0; d < kDim; ++d) {
        const __m512 k = _mm512_load_ps(keys[d]);
        for (uint32_t i = 0; i < kScoreRows; ++i) dots[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i][d]), k, dots[i]);
      }
      for (uint32_t i = 0; i < nr; ++i) {
        const uint32_t r = r0 + i, hi = std::min(end_of(r) - j0, kKeyTile);
        _mm512_store_ps(probs[r], softmax_step<kDim>(a, dots[i], lanes(lo, hi), running_max[r], sum_lanes[r], acc[r]));
      }
    }
    // Values in whole groups of rows: those of the first group that see
    // no key here add nothing.
    const uint32_t r_values = r_begin / kValueRows * kValueRows;
    for (uint32_t r = r_values; r < r_begin; ++r) std::fill_n(probs[r], kKeyTile, 0.0f);
    for (uint32_t r0 = r_values; r0 < n_rows; r0 += kValueRows) {
      __m512 sums[kValueRows][kDim / 16];
      for (uint32_t i = 0; i < kValueRows; ++i)
        for (uint32_t c = 0; c < kDim / 16; ++c) sums[i][c] = _mm512_load_ps(&acc[r0 + i][16 * c]);
      for (uint32_t j = lo; j < n_valid; ++j) {
        __m512 v[kDim / 16];
        for (uint32_t c = 0; c < kDim / 16; ++c) v[c] = _mm512_load_ps(&values[j][16 * c]);
        for (uint32_t i = 0; i < kValueRows; ++i) {
          const __m512 p = _mm512_set1_ps(probs[r0 + i][j]);
          for (uint32_t c = 0; c < kDim / 16; ++c) sums[i][c] = _mm512_fmadd_ps(p, v[c], sums[i][c]);
        }
      }
      for (uint32_t i = 0; i < kValueRows; ++i)
        for (uint32_t c = 0; c < kDim / 16; ++c) _mm512_store_ps(&acc[r0 + i][16 * c], sums[i][c]);
    }
  }
  for (uint32_t r = 0; r < n_rows; ++r)
    store_normalised<kDim>(a.out + row_at(r), acc[r], _mm512_reduce_add_ps(sum_lanes[r]));
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
    case 96: return attend_dim<96>(a, t, hk, first, last, partial);  // Phi-3
    case 128: return attend_dim<128>(a, t, hk, first, last, partial);
    case 256: return attend_dim<256>(a, t, hk, first, last, partial);  // Gemma 2
    default: return false;
  }
}

bool attend_tile_avx512(const AttentionArgs& a, uint32_t t0, uint32_t nt, uint32_t hk, uint32_t first) {
  if (!a.kv_f16 || nt > kMaxTileTokens || a.n_head / a.n_head_kv > kMaxRows / kMaxTileTokens) return false;
  switch (a.head_dim) {
    case 64: attend_tile<64>(a, t0, nt, hk, first); return true;
    case 96: attend_tile<96>(a, t0, nt, hk, first); return true;
    case 128: attend_tile<128>(a, t0, nt, hk, first); return true;
    case 256: attend_tile<256>(a, t0, nt, hk, first); return true;
    default: return false;
  }
}

}  // namespace minnow::kernels
