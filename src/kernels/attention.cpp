// AVX2+FMA+F16C (the x86-64-v3 baseline): the general kernel, and the work
// split and chunk combining for every path; AVX-512 kernels for the shapes
// they take are in attention_avx512.cpp. The scalar twin is the model's
// reference attention (src/model/attention.cpp), which tests compare against.
#include "kernels/attention.h"
#include "kernels/attention_avx512.h"
#include "kernels/exp_poly.h"
#include "kernels/kernel_table.h"
#include "kernels/simd_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <vector>

namespace minnow::kernels {
namespace {

// Keys whose scores are computed, maxed and exponentiated together: two tiles.
constexpr uint32_t kKeyBlock = 32;
static_assert(kKeyBlock % kKeyTile == 0);

using simd::hsum;

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// e^x for x <= 0 (softmax arguments), relative error ~2e-7: x = n ln2 + r
// with |r| <= ln2/2, e^r by a degree-6 Taylor/Horner polynomial, 2^n through
// the exponent bits. Inputs below -87 flush to 0.
__m256 exp_nonpositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  using namespace exp_poly;
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x));
  __m256 p = _mm256_set1_ps(kHorner[0]);
  for (size_t k = 1; k < std::size(kHorner); ++k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kHorner[k]));
  const __m256i pow2n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(pow2n));
  return _mm256_and_ps(result, _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GT_OQ));
}

// The cache comes from DRAM in decode (the weights have streamed through
// the caches since the layer last ran): while a block is converted, the
// next block's lines are asked for one at a time, one per 64 bytes read,
// `ahead` bytes on (0 where there is none). A burst per block stalled on
// full fill buffers (MINNOW_ISA=avx2, tg64 at depth 4096, qwen2.5-0.5b).
inline void prefetch_next(const void* p, size_t ahead) {
  _mm_prefetch(static_cast<const char*>(p) + ahead, _MM_HINT_T0);
}

// One row of head_dim values as floats.
const float* value_row_f32(const AttentionArgs& a, size_t pos, uint32_t kv_head, float* buf, size_t ahead) {
  const size_t at = kv_head * a.head_stride + pos * a.head_dim;
  if (!a.kv_f16) {
    const float* row = static_cast<const float*>(a.v) + at;
    for (uint32_t d = 0; d < a.head_dim; d += 16) prefetch_next(row + d, ahead);
    return row;
  }
  const uint16_t* h = static_cast<const uint16_t*>(a.v) + at;
  const uint32_t hd = a.head_dim;  // a local: the stores to buf could alias `a` and reload it every step
  for (uint32_t d = 0; d < hd; d += 32) prefetch_next(h + d, ahead);
  for (uint32_t d = 0; d < hd; d += 8)
    _mm256_storeu_ps(buf + d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + d))));
  return buf;
}

// KV head hk's keys j0 .. j0 + n (j0 a tile's first, n <= kKeyBlock) as
// floats in columns: kbuf[d * kKeyBlock + j] is dimension d of key j0 + j.
// Columns of tiles past the last key keep what they held.
void block_keys_f32(const AttentionArgs& a, uint32_t j0, uint32_t n, uint32_t hk, float* kbuf, size_t ahead) {
  const uint32_t hd = a.head_dim;  // locals: the stores to kbuf could alias `a`
  const bool f16 = a.kv_f16;
  for (uint32_t c = 0; c * kKeyTile < n; ++c) {
    const size_t at = hk * a.head_stride + key_element(j0 + c * kKeyTile, 0, hd);
    for (uint32_t d = 0; d < hd; ++d) {
      float* col = kbuf + size_t(d) * kKeyBlock + c * kKeyTile;
      if (!f16) {
        const float* tile_row = static_cast<const float*>(a.k) + at + size_t(d) * kKeyTile;
        prefetch_next(tile_row, ahead);
        std::copy_n(tile_row, kKeyTile, col);
        continue;
      }
      const uint16_t* h = static_cast<const uint16_t*>(a.k) + at + size_t(d) * kKeyTile;
      if (d % 2 == 0) prefetch_next(h, ahead);
      for (uint32_t i = 0; i < kKeyTile; i += 8)
        _mm256_storeu_ps(col + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    }
  }
}

// s[h][j] = scale * q[h] . key j for j < 8 * kVecs, for kHeads query heads
// at once (each dimension's key vectors loaded once for all), the sums
// over dimensions split kParts ways so that eight FMA chains are in
// flight. kbuf as block_keys_f32 leaves it; head_dim % 8 == 0.
template <uint32_t kHeads, uint32_t kVecs>
void block_dots(const float* const* q, const float* kbuf, uint32_t head_dim, float scale, float* const* s) {
  constexpr uint32_t kParts = 8 / (kHeads * kVecs);
  static_assert(kParts >= 1 && kVecs * 8 <= kKeyBlock);
  __m256 acc[kHeads][kParts][kVecs];
  for (auto& head : acc)
    for (auto& part : head)
      for (__m256& x : part) x = _mm256_setzero_ps();
  for (uint32_t d = 0; d < head_dim; d += kParts)
    for (uint32_t p = 0; p < kParts; ++p) {
      __m256 keys[kVecs];
      for (uint32_t v = 0; v < kVecs; ++v) keys[v] = _mm256_loadu_ps(kbuf + size_t(d + p) * kKeyBlock + 8 * v);
      for (uint32_t h = 0; h < kHeads; ++h) {
        const __m256 qd = _mm256_set1_ps(q[h][d + p]);
        for (uint32_t v = 0; v < kVecs; ++v) acc[h][p][v] = _mm256_fmadd_ps(qd, keys[v], acc[h][p][v]);
      }
    }
  for (uint32_t h = 0; h < kHeads; ++h)
    for (uint32_t v = 0; v < kVecs; ++v) {
      __m256 sum = acc[h][0][v];
      for (uint32_t p = 1; p < kParts; ++p) sum = _mm256_add_ps(sum, acc[h][p][v]);
      _mm256_storeu_ps(s[h] + 8 * v, _mm256_mul_ps(sum, _mm256_set1_ps(scale)));
    }
}

// out[h][0..kDims) += sum_j p[h][j] * rows[j][d0..d0+kDims) for kHeads
// heads at once, each slice of a value row loaded once for all of them, the
// sums in registers (8 of them: two heads take 32 dimensions at a time,
// one head 64).
template <uint32_t kHeads, uint32_t kDims>
inline void accumulate_values(const float* const* rows, const float* const* p, uint32_t n, uint32_t d0,
                              float* const* out) {
  __m256 acc[kHeads][kDims / 8];
  for (uint32_t h = 0; h < kHeads; ++h)
    for (uint32_t i = 0; i < kDims / 8; ++i) acc[h][i] = _mm256_loadu_ps(out[h] + d0 + 8 * i);
  for (uint32_t j = 0; j < n; ++j) {
    const float* r = rows[j] + d0;
    __m256 v[kDims / 8];
    for (uint32_t i = 0; i < kDims / 8; ++i) v[i] = _mm256_loadu_ps(r + 8 * i);
    for (uint32_t h = 0; h < kHeads; ++h) {
      const __m256 pj = _mm256_set1_ps(p[h][j]);
      for (uint32_t i = 0; i < kDims / 8; ++i) acc[h][i] = _mm256_fmadd_ps(pj, v[i], acc[h][i]);
    }
  }
  for (uint32_t h = 0; h < kHeads; ++h)
    for (uint32_t i = 0; i < kDims / 8; ++i) _mm256_storeu_ps(out[h] + d0 + 8 * i, acc[h][i]);
}

// Query tokens per work item of a prompt: each key and value row is
// converted from F16 once for all of them (qwen2.5-0.5b pp512 spent 12% of
// its time in attention, converting every row again for every query).
constexpr uint32_t kQueryTile = 8;

// The first key query token t of `a` sees (a sliding window's start, else 0).
uint32_t first_key(const AttentionArgs& a, uint32_t t) {
  return first_visible_key(a.window, a.pos0 + t);
}

// Part of one decode token's keys, whose result is left unnormalised in
// `partial` (attention_avx512.h's partial_floats layout).
struct KeyChunk {
  uint32_t first, last;
  float* partial;
};

// Query tokens [t0, t0 + nt), KV head hk: the `group` query heads
// hk*group.. of each token at once. A sliding window gives each token its
// own first key, so windowed attention takes one token at a time. With a
// chunk (nt == 1), only its keys.
void attend(const AttentionArgs& a, uint32_t t0, uint32_t nt, uint32_t hk, const KeyChunk* chunk) {
  const uint32_t group = a.n_head / a.n_head_kv, hd = a.head_dim;
  const uint32_t q_dim = a.n_head * hd;
  const uint32_t n_total = a.pos0 + a.n_tokens;
  auto end_key = [&](uint32_t t) { return chunk ? chunk->last : a.causal ? a.pos0 + t + 1 : n_total; };  // exclusive
  const uint32_t keys_begin = chunk ? chunk->first : first_key(a, t0);
  static const bool avx512 = kernel_table().isa == Isa::kAvx512;
  if (nt == 1 && avx512 &&
      attend_one_token_avx512(a, t0, hk, keys_begin, end_key(t0), chunk ? chunk->partial : nullptr))
    return;
  if (nt > 1 && avx512 && !a.window && attend_tile_avx512(a, t0, nt, hk, keys_begin)) return;

  thread_local std::vector<float> scratch;
  // [nt][group][hd] accumulators, [group][kKeyBlock] scores, key and value rows.
  const size_t acc_size = size_t(nt) * group * hd;
  scratch.resize(acc_size + size_t(group) * kKeyBlock + 2 * size_t(hd) * kKeyBlock);
  float* acc_all = scratch.data();
  float* scores = acc_all + acc_size;
  float* kbuf = scores + size_t(group) * kKeyBlock;
  float* vbuf = kbuf + size_t(hd) * kKeyBlock;
  std::fill(acc_all, acc_all + acc_size, 0.0f);
  float running_max[kQueryTile * 64], running_sum[kQueryTile * 64];  // nt * group (checked by the caller)
  std::fill(running_max, running_max + nt * group, -std::numeric_limits<float>::infinity());
  std::fill(running_sum, running_sum + nt * group, 0.0f);

  const uint32_t keys_end = end_key(t0 + nt - 1);  // the tile's last token sees the most keys
  // Blocks start on a tile; keys before keys_begin (a window's or a
  // chunk's start) are masked out of the first.
  const float minus_inf = -std::numeric_limits<float>::infinity();
  const size_t element = a.kv_f16 ? 2 : 4;
  for (uint32_t j0 = keys_begin / kKeyTile * kKeyTile; j0 < keys_end; j0 += kKeyBlock) {
    const uint32_t n_block = std::min(kKeyBlock, keys_end - j0);
    const uint32_t lo = std::max(keys_begin, j0) - j0;
    // A head's keys and its values are each one run: the next block's
    // start the same distance on from this one's.
    const bool more = j0 + kKeyBlock < keys_end;
    block_keys_f32(a, j0, n_block, hk, kbuf, more ? key_elements(kKeyBlock, hd) * element : 0);
    const float* vrows[kKeyBlock];
    for (uint32_t j = lo; j < n_block; ++j)
      vrows[j] = value_row_f32(a, j0 + j, hk, vbuf + size_t(j) * hd, more ? kKeyBlock * hd * element : 0);
    for (uint32_t ti = 0; ti < nt; ++ti) {
      const uint32_t t = t0 + ti, last = end_key(t);
      if (j0 + lo >= last) continue;  // causal: this block is in the token's future
      const uint32_t nj = std::min(n_block, last - j0);  // the token's keys are [lo, nj)
      const float* q = a.q + size_t(t) * q_dim + size_t(hk) * group * hd;
      float* acc = acc_all + size_t(ti) * group * hd;
      float* tmax = running_max + size_t(ti) * group;
      float* tsum = running_sum + size_t(ti) * group;
      // Scores of the key slots [0, n_scores): heads two at a time.
      const uint32_t n_scores = nj > kKeyTile ? kKeyBlock : kKeyTile;
      for (uint32_t g = 0; g < group; g += 2) {
        const float* qs[2] = {q + size_t(g) * hd, q + size_t(g + 1) * hd};
        float* ss[2] = {scores + size_t(g) * kKeyBlock, scores + size_t(g + 1) * kKeyBlock};
        const bool pair = g + 1 < group;
        if (n_scores == kKeyBlock)
          pair ? block_dots<2, 4>(qs, kbuf, hd, a.scale, ss) : block_dots<1, 4>(qs, kbuf, hd, a.scale, ss);
        else
          pair ? block_dots<2, 2>(qs, kbuf, hd, a.scale, ss) : block_dots<1, 2>(qs, kbuf, hd, a.scale, ss);
      }
      for (uint32_t g = 0; g < group; ++g) {
        float* sg = scores + size_t(g) * kKeyBlock;
        if (a.softcap > 0.0f)
          for (uint32_t j = lo; j < nj; ++j) sg[j] = a.softcap * std::tanh(sg[j] / a.softcap);
        // Slots outside [lo, nj) may hold anything: out of the softmax.
        std::fill(sg, sg + lo, minus_inf);
        std::fill(sg + nj, sg + n_scores, minus_inf);
      }
      for (uint32_t g = 0; g < group; ++g) {
        float* sg = scores + size_t(g) * kKeyBlock;
        __m256 max8 = _mm256_loadu_ps(sg);  // the masked slots are -inf
        for (uint32_t j = 8; j < n_scores; j += 8) max8 = _mm256_max_ps(max8, _mm256_loadu_ps(sg + j));
        const float block_max = hmax(max8);
        // Rescaled only when the block raises the maximum: after the first
        // few blocks most skip the scalar exp and the multiplies.
        float correction = 1.0f;
        if (block_max > tmax[g]) {
          correction = std::exp(tmax[g] - block_max);  // 0 on the first block
          tmax[g] = block_max;
        }
        const __m256 m = _mm256_set1_ps(tmax[g]);
        __m256 sum = _mm256_setzero_ps();
        for (uint32_t j = 0; j < n_scores; j += 8) {  // e^-inf: the masked slots give 0
          const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(sg + j), m));
          _mm256_storeu_ps(sg + j, e);
          sum = _mm256_add_ps(sum, e);
        }
        tsum[g] = tsum[g] * correction + hsum(sum);
        float* ag = acc + size_t(g) * hd;
        if (correction != 1.0f)
          for (uint32_t d = 0; d < hd; d += 8)
            _mm256_storeu_ps(ag + d, _mm256_mul_ps(_mm256_loadu_ps(ag + d), _mm256_set1_ps(correction)));
      }
      // Each value row (converted once per tile) is added into every head
      // of the group, two heads at a time, a slice of dimensions at a time
      // so that their accumulators stay in registers over the whole block.
      for (uint32_t g = 0; g < group; g += 2) {
        const float* ps[2] = {scores + size_t(g) * kKeyBlock + lo, scores + size_t(g + 1) * kKeyBlock + lo};
        float* outs[2] = {acc + size_t(g) * hd, acc + size_t(g + 1) * hd};
        const float* const* rows = vrows + lo;
        const uint32_t n = nj - lo;
        uint32_t d0 = 0;
        if (g + 1 < group) {
          for (; d0 + 32 <= hd; d0 += 32) accumulate_values<2, 32>(rows, ps, n, d0, outs);
          for (; d0 < hd; d0 += 8) accumulate_values<2, 8>(rows, ps, n, d0, outs);
        } else {
          for (; d0 + 64 <= hd; d0 += 64) accumulate_values<1, 64>(rows, ps, n, d0, outs);
          for (; d0 < hd; d0 += 8) accumulate_values<1, 8>(rows, ps, n, d0, outs);
        }
      }
    }
  }
  if (chunk) return store_partial(chunk->partial, group, hd, acc_all, running_max, running_sum);
  for (uint32_t ti = 0; ti < nt; ++ti) {
    float* out = a.out + size_t(t0 + ti) * q_dim + size_t(hk) * group * hd;
    const float* acc = acc_all + size_t(ti) * group * hd;
    for (uint32_t g = 0; g < group; ++g) {
      const float sum = running_sum[ti * group + g];
      const float inv = sum > 0 ? 1.0f / sum : 0.0f;
      for (uint32_t d = 0; d < hd; ++d) out[size_t(g) * hd + d] = acc[size_t(g) * hd + d] * inv;
    }
  }
}

}  // namespace

bool attention(const AttentionArgs& a, ThreadPool* pool) { return attention_many({&a, 1}, pool); }

namespace {

// A decode token with more keys than this splits them into chunks, each
// (KV head, chunk) a work item, and the chunks' results are combined after
// the pass. Split by KV head alone, each of qwen2.5-0.5b's two threads
// read every other 128 bytes of the cache's rows; chunk after chunk, each
// reads whole rows in order (tg64 at depth 4096, Machine C: the time
// outside the matmuls 4.78 -> 4.38 ms a token). The items go head by head
// (a head's chunks in a row): with the cache head-major, a thread's
// consecutive items continue one stream of keys and one of values instead
// of starting two fresh ones in another head's region each time (phi3-mini,
// 32 KV heads, at depth 2048 on Machine D: attention 25.7 -> 22.6 ms a token).
constexpr uint32_t kChunkKeys = 256;
static_assert(kChunkKeys % kKeyTile == 0, "chunks are whole key tiles");

// The keys of a one-token job (decode): [first, last).
struct TokenKeys {
  uint32_t first, last;
};
TokenKeys one_token_keys(const AttentionArgs& a) { return {first_key(a, 0), a.pos0 + 1}; }

// Chunks of a one-token job's keys: 0 (not split) or >= 2 of chunk_keys()
// keys each (whole key tiles from the first key on), the last ragged.
uint32_t key_chunks(const AttentionArgs& a) {
  if (a.n_tokens != 1) return 0;
  const TokenKeys k = one_token_keys(a);
  const uint32_t n = k.last - k.first;
  return n > kChunkKeys ? (n + kChunkKeys - 1) / kChunkKeys : 0;
}
uint32_t chunk_keys(const AttentionArgs& a, uint32_t n_chunks) {
  const TokenKeys k = one_token_keys(a);
  const uint32_t even = (k.last - k.first + n_chunks - 1) / n_chunks;
  return (even + kKeyTile - 1) / kKeyTile * kKeyTile;
}

// out = sum over chunks of e^(max_c - M) acc_c / sum over chunks of
// e^(max_c - M) sum_c, per query head, M the largest max_c.
void combine_chunks(const AttentionArgs& a, const float* partials, uint32_t n_chunks) {
  const uint32_t group = a.n_head / a.n_head_kv, hd = a.head_dim;
  const size_t item = partial_floats(group, hd);
  for (uint32_t hk = 0; hk < a.n_head_kv; ++hk) {
    for (uint32_t g = 0; g < group; ++g) {
      auto part = [&](uint32_t c) { return partials + (size_t(c) * a.n_head_kv + hk) * item; };
      float m = -std::numeric_limits<float>::infinity();
      for (uint32_t c = 0; c < n_chunks; ++c) m = std::max(m, part(c)[size_t(group) * hd + g]);
      float* out = a.out + size_t(hk * group + g) * hd;
      float total = 0;
      for (uint32_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_setzero_ps());
      for (uint32_t c = 0; c < n_chunks; ++c) {
        const float w = std::exp(part(c)[size_t(group) * hd + g] - m);
        total += w * part(c)[size_t(group) * hd + group + g];
        const float* acc = part(c) + size_t(g) * hd;
        for (uint32_t d = 0; d < hd; d += 8)
          _mm256_storeu_ps(out + d, _mm256_fmadd_ps(_mm256_set1_ps(w), _mm256_loadu_ps(acc + d), _mm256_loadu_ps(out + d)));
      }
      const __m256 inv = _mm256_set1_ps(total > 0 ? 1.0f / total : 0.0f);
      for (uint32_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), inv));
    }
  }
}

}  // namespace

bool attention_many(std::span<const AttentionArgs> jobs, ThreadPool* pool) {
  if (jobs.empty()) return true;
  const AttentionArgs& a = jobs[0];
  if (a.head_dim == 0 || a.head_dim % 8 != 0 || a.n_head_kv == 0 || a.n_head % a.n_head_kv != 0 ||
      a.n_head / a.n_head_kv > 64)
    return false;
  // Work items are (job, query tile, KV head), or (job, key chunk, KV head)
  // for a split decode token; first_item[j] is job j's first.
  auto tile_of = [](const AttentionArgs& job) { return job.window ? 1u : kQueryTile; };
  std::vector<size_t> first_item(jobs.size() + 1, 0), first_partial(jobs.size() + 1, 0);
  std::vector<uint32_t> chunks(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (jobs[j].n_head != a.n_head || jobs[j].n_head_kv != a.n_head_kv || jobs[j].head_dim != a.head_dim)
      return false;
    const uint32_t tile = tile_of(jobs[j]);
    chunks[j] = key_chunks(jobs[j]);
    const size_t rows = chunks[j] ? chunks[j] : (jobs[j].n_tokens + tile - 1) / tile;
    first_item[j + 1] = first_item[j] + rows * a.n_head_kv;
    first_partial[j + 1] = first_partial[j] + size_t(chunks[j]) * a.n_head_kv;
  }
  const size_t item_floats = partial_floats(a.n_head / a.n_head_kv, a.head_dim);
  thread_local std::vector<float> partials;
  partials.resize(first_partial.back() * item_floats);
  float* const partial_base = partials.data();  // the lambda runs on workers too: not their thread_local
  auto run = [&](size_t b, size_t e) {
    size_t j = size_t(std::upper_bound(first_item.begin(), first_item.end(), b) - first_item.begin()) - 1;
    for (size_t i = b; i < e; ++i) {
      while (i >= first_item[j + 1]) ++j;
      const size_t local = i - first_item[j];
      if (chunks[j]) {
        // Head by head, chunk after chunk: a thread's items in a row read
        // one head's keys (and values) front to back, one stream each.
        const uint32_t hk = uint32_t(local / chunks[j]), c = uint32_t(local % chunks[j]);
        const TokenKeys keys = one_token_keys(jobs[j]);
        const uint32_t step = chunk_keys(jobs[j], chunks[j]), first = keys.first + c * step;
        const KeyChunk chunk{first, std::min(keys.last, first + step),
                             partial_base + (first_partial[j] + size_t(c) * a.n_head_kv + hk) * item_floats};
        attend(jobs[j], 0, 1, hk, &chunk);
        continue;
      }
      const uint32_t row = uint32_t(local / a.n_head_kv), hk = uint32_t(local % a.n_head_kv);
      const uint32_t tile = tile_of(jobs[j]), t0 = row * tile;
      attend(jobs[j], t0, std::min(tile, jobs[j].n_tokens - t0), hk, nullptr);
    }
  };
  if (pool)
    pool->parallel_for(first_item.back(), run);
  else
    run(0, first_item.back());
  for (size_t j = 0; j < jobs.size(); ++j)
    if (chunks[j]) combine_chunks(jobs[j], partial_base + first_partial[j] * item_floats, chunks[j]);
  return true;
}

}  // namespace minnow::kernels
