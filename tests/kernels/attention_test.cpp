// The fused attention kernel against a plain two-pass softmax over the same
// cache rows: GQA groups, F16 and F32 caches, causal and not, windows,
// softcaps, and several key blocks with ragged ends. The kernel reads keys
// in transposed tiles of 16 positions; the reference reads plain rows.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "base/half.h"
#include "kernels/attention.h"

namespace minnow::kernels {
namespace {

// Rows [n][n_kv_heads * head_dim] laid out as the kernel reads them: by
// head, keys in transposed tiles. Slots of the last tile past n hold
// garbage, as a reused cache's would: the kernel must mask them, not trust
// them to be zero. Returns the head stride too.
template <typename T>
std::pair<std::vector<T>, std::vector<T>> by_head(const std::vector<T>& k_rows, const std::vector<T>& v_rows,
                                                  uint32_t n_kv_heads, uint32_t head_dim, T garbage, size_t* stride) {
  const size_t kv_dim = size_t(n_kv_heads) * head_dim, n = k_rows.size() / kv_dim;
  *stride = key_elements(n, head_dim) + 16;  // not just whole tiles: the kernel must use the stride it is given
  std::vector<T> k(n_kv_heads * *stride, garbage), v(k.size(), garbage);
  for (size_t p = 0; p < n; ++p)
    for (uint32_t h = 0; h < n_kv_heads; ++h)
      for (uint32_t d = 0; d < head_dim; ++d) {
        k[h * *stride + key_element(p, d, head_dim)] = k_rows[p * kv_dim + h * head_dim + d];
        v[h * *stride + p * head_dim + d] = v_rows[p * kv_dim + h * head_dim + d];
      }
  return {std::move(k), std::move(v)};
}

TEST(KeyTiles, PlaceEachPositionsRowAcrossSixteenSlots) {
  EXPECT_EQ(key_element(0, 0, 64), 0u);
  EXPECT_EQ(key_element(5, 0, 64), 5u);
  EXPECT_EQ(key_element(5, 3, 64), 3u * 16 + 5);
  EXPECT_EQ(key_element(21, 3, 64), (64u + 3) * 16 + 5);
  EXPECT_EQ(key_elements(1, 64), 16u * 64);
  EXPECT_EQ(key_elements(16, 64), 16u * 64);
  EXPECT_EQ(key_elements(17, 64), 32u * 64);
}

struct Setup {
  uint32_t n_head, n_head_kv, head_dim, n_tokens, pos0;
  bool f16, causal;
  uint32_t window;
  float softcap;
};

void check(const Setup& s, ThreadPool* pool) {
  std::mt19937 rng(s.n_head * 31 + s.pos0);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const uint32_t n_total = s.pos0 + s.n_tokens, kv_dim = s.n_head_kv * s.head_dim, q_dim = s.n_head * s.head_dim;
  std::vector<float> q(size_t(s.n_tokens) * q_dim), k(size_t(n_total) * kv_dim), v(k.size());
  for (auto* vec : {&q, &k, &v})
    for (auto& x : *vec) x = dist(rng);
  std::vector<uint16_t> k16(k.size()), v16(v.size());
  for (size_t i = 0; i < k.size(); ++i) {
    k16[i] = float_to_fp16(k[i]);
    v16[i] = float_to_fp16(v[i]);
    if (s.f16) k[i] = fp16_to_float(k16[i]), v[i] = fp16_to_float(v16[i]);  // the reference sees what the kernel sees
  }
  AttentionArgs a;
  a.n_head = s.n_head, a.n_head_kv = s.n_head_kv, a.head_dim = s.head_dim;
  a.scale = 1.0f / std::sqrt(float(s.head_dim)), a.softcap = s.softcap, a.causal = s.causal, a.window = s.window;
  a.q = q.data(), a.n_tokens = s.n_tokens, a.pos0 = s.pos0;
  size_t stride = 0;
  const auto [k16_heads, v16_heads] = by_head<uint16_t>(k16, v16, s.n_head_kv, s.head_dim, 0x7e00, &stride);  // NaN
  const auto [k_heads, v_heads] =
      by_head<float>(k, v, s.n_head_kv, s.head_dim, std::numeric_limits<float>::quiet_NaN(), &stride);
  a.k = s.f16 ? static_cast<const void*>(k16_heads.data()) : k_heads.data();
  a.v = s.f16 ? static_cast<const void*>(v16_heads.data()) : v_heads.data();
  a.kv_f16 = s.f16, a.head_stride = stride;
  std::vector<float> got(q.size(), -1.0f);
  a.out = got.data();
  ASSERT_TRUE(attention(a, pool));

  const uint32_t group = s.n_head / s.n_head_kv;
  for (uint32_t t = 0; t < s.n_tokens; ++t) {
    const uint32_t pos = s.pos0 + t;
    const uint32_t first = (s.window && pos + 1 > s.window) ? pos + 1 - s.window : 0;
    const uint32_t last = s.causal ? pos + 1 : n_total;
    for (uint32_t h = 0; h < s.n_head; ++h) {
      const float* qh = &q[size_t(t) * q_dim + size_t(h) * s.head_dim];
      const uint32_t off = (h / group) * s.head_dim;
      std::vector<double> p(last - first);
      double mx = -1e300, sum = 0;
      for (uint32_t j = first; j < last; ++j) {
        double dot = 0;
        for (uint32_t d = 0; d < s.head_dim; ++d) dot += double(qh[d]) * k[size_t(j) * kv_dim + off + d];
        dot *= a.scale;
        if (s.softcap > 0) dot = s.softcap * std::tanh(dot / s.softcap);
        p[j - first] = dot;
        mx = std::max(mx, dot);
      }
      for (auto& x : p) sum += (x = std::exp(x - mx));
      for (uint32_t d = 0; d < s.head_dim; ++d) {
        double want = 0;
        for (uint32_t j = first; j < last; ++j) want += p[j - first] / sum * v[size_t(j) * kv_dim + off + d];
        ASSERT_NEAR(got[size_t(t) * q_dim + size_t(h) * s.head_dim + d], want, 2e-5 + 2e-5 * std::fabs(want))
            << "t=" << t << " h=" << h << " d=" << d;
      }
    }
  }
}

TEST(FusedAttention, MatchesTwoPassSoftmax) {
  ThreadPool pool(2);
  // qwen2.5-0.5b's 14/2 heads of 64; MHA; one token over a long cache; windows; softcap.
  check({14, 2, 64, 5, 0, true, true, 0, 0.0f}, &pool);
  check({14, 2, 64, 1, 77, true, true, 0, 0.0f}, &pool);
  check({4, 4, 16, 3, 40, false, true, 0, 0.0f}, nullptr);
  check({8, 4, 32, 37, 0, true, true, 10, 0.0f}, &pool);
  check({8, 2, 8, 6, 3, false, false, 0, 50.0f}, &pool);
  check({2, 1, 256, 2, 65, true, true, 0, 30.0f}, nullptr);
  check({6, 2, 96, 4, 33, true, true, 0, 0.0f}, &pool);  // 64 dimensions in registers, then 8 at a time
  // Query tiles of 8: ragged last tile, causal blocks in some tokens' future, a prompt after a cache.
  check({14, 2, 64, 37, 0, true, true, 0, 0.0f}, &pool);
  check({14, 2, 64, 19, 45, true, true, 0, 0.0f}, nullptr);
  check({4, 2, 32, 21, 10, false, true, 0, 20.0f}, &pool);
  // The AVX-512 prompt kernel's shapes (F16, heads of 64 and 128, up to 8
  // query heads a KV head; 9 goes to the general kernel): not causal, one
  // query head a KV head with a softcap, a tile straddling key tiles.
  check({16, 2, 128, 11, 20, true, false, 0, 0.0f}, &pool);
  check({3, 3, 64, 9, 30, true, true, 0, 25.0f}, &pool);
  check({18, 2, 64, 8, 5, true, true, 0, 0.0f}, &pool);
  check({8, 1, 128, 13, 250, true, true, 0, 0.0f}, nullptr);
  // Phi-3's heads of 96 (value rows two at a time, three 32-wide slices)
  // and Gemma 2's of 256 (one row at a time), with its softcap.
  check({32, 32, 96, 11, 20, true, true, 0, 0.0f}, &pool);
  check({12, 4, 96, 9, 7, true, false, 0, 0.0f}, nullptr);
  check({8, 4, 256, 10, 30, true, true, 0, 50.0f}, &pool);
  check({8, 1, 256, 3, 0, true, true, 0, 0.0f}, nullptr);
}

// One query token (decode; each token of a windowed prompt) takes the
// AVX-512 kernel where the CPU has it: every group size it is built for
// (1-8 query heads per KV head, and 9, which it leaves to the general
// kernel), heads of 64, 96, 128 and 256, key counts around its 16-key blocks,
// windows, a softcap, and an F32 cache (general kernel).
TEST(FusedAttention, OneTokenMatchesTwoPassSoftmaxForEveryGroup) {
  ThreadPool pool(2);
  for (uint32_t group = 1; group <= 9; ++group)
    for (uint32_t dim : {64u, 96u, 128u, 256u})
      for (uint32_t pos0 : {0u, 15u, 16u, 33u, 300u}) check({2 * group, 2, dim, 1, pos0, true, true, 0, 0.0f}, &pool);
  check({7, 1, 64, 1, 100, true, true, 24, 0.0f}, nullptr);   // window: keys 77..100
  check({8, 4, 128, 1, 70, true, true, 0, 30.0f}, &pool);     // softcap
  check({8, 4, 64, 23, 9, true, true, 16, 0.0f}, &pool);      // a windowed prompt: tiles of one token
  check({6, 2, 64, 1, 40, false, true, 0, 0.0f}, &pool);      // F32 cache
}

// A decode token with more than 256 keys splits them into chunks that
// the threads take apart and whose partial softmaxes are combined: chunk
// counts with ragged ends, the 256/257 boundary, every group size of the
// AVX-512 kernel's range and one past it (the general kernel), heads of
// 128, a window, a softcap and an F32 cache.
TEST(FusedAttention, LongDecodeSplitIntoKeyChunksMatchesTwoPassSoftmax) {
  ThreadPool pool(2);
  check({14, 2, 64, 1, 1000, true, true, 0, 0.0f}, &pool);
  check({14, 2, 64, 1, 255, true, true, 0, 0.0f}, &pool);  // 256 keys: one piece
  check({14, 2, 64, 1, 256, true, true, 0, 0.0f}, &pool);  // 257 keys: 144 + 113
  for (uint32_t group : {1u, 4u, 8u, 9u}) check({2 * group, 2, 128, 1, 600, true, true, 0, 0.0f}, &pool);
  check({7, 1, 64, 1, 1500, true, true, 700, 0.0f}, &pool);  // keys 801..1500
  check({8, 4, 128, 1, 400, true, true, 0, 30.0f}, nullptr);
  check({6, 2, 64, 1, 600, false, true, 0, 0.0f}, &pool);
  check({8, 8, 96, 1, 700, true, true, 0, 0.0f}, &pool);  // MHA as phi3's: 8 heads, 3 chunks each, head by head
  check({8, 8, 96, 1, 700, true, true, 0, 0.0f}, nullptr);
}

// A batch's sequences in one pass give what each gives alone (the item
// index is mapped back to its sequence, token and KV head), and a batch
// whose head shapes differ is refused whole.
TEST(FusedAttention, ManySequencesInOnePassEqualSeparateCalls) {
  constexpr uint32_t kHeads = 14, kKvHeads = 2, kDim = 64;
  struct Seq { uint32_t n_tokens, pos0; };
  const Seq seqs[] = {{1, 40}, {5, 0}, {1, 600}, {1, 3}, {3, 17}, {1, 300}, {1, 0}};  // 600, 300: key chunks
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::vector<float>> qs, ks, vs, alone, together;
  std::vector<AttentionArgs> jobs;
  for (const Seq& s : seqs) {
    qs.emplace_back(size_t(s.n_tokens) * kHeads * kDim);
    ks.emplace_back(kKvHeads * key_elements(s.pos0 + s.n_tokens, kDim));  // whole tiles
    vs.emplace_back(ks.back().size());
    for (auto* vec : {&qs.back(), &ks.back(), &vs.back()})
      for (auto& x : *vec) x = dist(rng);
    alone.emplace_back(qs.back().size(), -1.0f);
    together.emplace_back(qs.back().size(), -2.0f);
  }
  for (size_t i = 0; i < std::size(seqs); ++i) {
    AttentionArgs a;
    a.n_head = kHeads, a.n_head_kv = kKvHeads, a.head_dim = kDim, a.scale = 0.125f;
    a.q = qs[i].data(), a.n_tokens = seqs[i].n_tokens, a.pos0 = seqs[i].pos0;
    a.k = ks[i].data(), a.v = vs[i].data(), a.kv_f16 = false;  // any contents: compared with itself
    a.head_stride = key_elements(seqs[i].pos0 + seqs[i].n_tokens, kDim);
    a.out = alone[i].data();
    ASSERT_TRUE(attention(a, nullptr));
    a.out = together[i].data();
    jobs.push_back(a);
  }
  ThreadPool pool(2);
  ASSERT_TRUE(attention_many(jobs, &pool));
  for (size_t i = 0; i < std::size(seqs); ++i) EXPECT_EQ(alone[i], together[i]) << "sequence " << i;

  jobs[3].n_head_kv = 7;
  std::vector<float> before = together[0];
  EXPECT_FALSE(attention_many(jobs, &pool));
  EXPECT_EQ(together[0], before);
}

TEST(FusedAttention, RefusesHeadSizesItCannotVectorise) {
  AttentionArgs a;
  a.n_head = 2, a.n_head_kv = 1, a.head_dim = 12;
  EXPECT_FALSE(attention(a, nullptr));
}

}  // namespace
}  // namespace minnow::kernels
