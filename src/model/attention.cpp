#include "model/attention.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/kernel_table.h"
#include "kernels/pass_profile.h"
#include "model/ops.h"

namespace minnow {

namespace {

// The scalar twin of the fused kernel.
void reference_attention(const AttentionParams& p, const float* q, uint32_t n_tokens, uint32_t pos0,
                         const KvCache& kv, uint32_t layer, float* out) {
  const uint32_t n_total = pos0 + n_tokens;
  const uint32_t group = p.n_head / p.n_head_kv;  // query heads sharing one KV head
  const uint32_t q_dim = p.n_head * p.head_dim;
  std::vector<float> scores(n_total), k(p.head_dim), v(p.head_dim);
  for (uint32_t t = 0; t < n_tokens; ++t) {
    const uint32_t pos = pos0 + t;
    const uint32_t first = kernels::first_visible_key(p.window, pos);
    const uint32_t last = p.causal ? pos + 1 : n_total;  // exclusive
    for (uint32_t h = 0; h < p.n_head; ++h) {
      const float* qh = q + size_t(t) * q_dim + size_t(h) * p.head_dim;
      const uint32_t kv_off = (h / group) * p.head_dim;
      const uint32_t n = last - first;
      for (uint32_t j = 0; j < n; ++j) {
        kv.load_k(layer, first + j, kv_off, p.head_dim, k.data());
        float s = 0.0f;
        for (uint32_t d = 0; d < p.head_dim; ++d) s += qh[d] * k[d];
        s *= p.scale;
        if (p.softcap > 0.0f) s = p.softcap * std::tanh(s / p.softcap);
        scores[j] = s;
      }
      ops::softmax(scores.data(), n);
      float* oh = out + size_t(t) * q_dim + size_t(h) * p.head_dim;
      for (uint32_t d = 0; d < p.head_dim; ++d) oh[d] = 0.0f;
      for (uint32_t j = 0; j < n; ++j) {
        kv.load_v(layer, first + j, kv_off, p.head_dim, v.data());
        for (uint32_t d = 0; d < p.head_dim; ++d) oh[d] += scores[j] * v[d];
      }
    }
  }
}

// --passes: the cache rows a call covers (K and V, every KV head), from
// the first token's first visible key to the last token.
double cache_bytes(const AttentionParams& p, std::span<const AttentionQuery> queries) {
  double bytes = 0;
  for (const AttentionQuery& in : queries) {
    const uint32_t keys = in.pos0 + in.n_tokens - kernels::first_visible_key(p.window, in.pos0);
    bytes += double(keys) * p.n_head_kv * p.head_dim * 2 * in.kv->element_bytes();
  }
  return bytes;
}

void run_attention_many(const AttentionParams& p, std::span<const AttentionQuery> queries, uint32_t layer) {
  // The fused kernel unless the scalar path was asked for.
  if (kernels::kernel_table().isa != kernels::Isa::kScalar) {
    std::vector<kernels::AttentionArgs> jobs(queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      const AttentionQuery& in = queries[i];
      kernels::AttentionArgs& a = jobs[i];
      a.n_head = p.n_head, a.n_head_kv = p.n_head_kv, a.head_dim = p.head_dim;
      a.scale = p.scale, a.softcap = p.softcap, a.causal = p.causal, a.window = p.window;
      a.q = in.q, a.n_tokens = in.n_tokens, a.pos0 = in.pos0;
      a.k = in.kv->k_data(layer), a.v = in.kv->v_data(layer), a.kv_f16 = in.kv->type() == KvType::kF16;
      a.head_stride = in.kv->head_stride();
      a.out = in.out;
    }
    if (kernels::attention_many(jobs, current_thread_pool())) return;
  }
  for (const AttentionQuery& in : queries) reference_attention(p, in.q, in.n_tokens, in.pos0, *in.kv, layer, in.out);
}

}  // namespace

void attention_many(const AttentionParams& p, std::span<const AttentionQuery> queries, uint32_t layer) {
  if (queries.empty()) return;
  if (!kernels::pass_profiling()) return run_attention_many(p, queries, layer);
  const auto t0 = std::chrono::steady_clock::now();
  run_attention_many(p, queries, layer);
  kernels::record_pass(queries[0].kv->type() == KvType::kF16 ? "attention, F16 cache" : "attention, F32 cache",
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                       cache_bytes(p, queries), kernels::PassReads::kKvCache);
}

void attention(const AttentionParams& p, const float* q, uint32_t n_tokens, uint32_t pos0, const KvCache& kv,
               uint32_t layer, float* out) {
  const AttentionQuery one{q, n_tokens, pos0, &kv, out};
  attention_many(p, {&one, 1}, layer);
}

}  // namespace minnow
