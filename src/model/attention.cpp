#include "model/attention.h"

#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/kernel_table.h"
#include "model/ops.h"

namespace minnow {

void attention(const AttentionParams& p, const float* q, uint32_t n_tokens, uint32_t pos0, const KvCache& kv,
               uint32_t layer, float* out) {
  // The fused kernel unless the scalar path was asked for: this loop is its twin.
  if (kernels::kernel_table().isa != kernels::Isa::kScalar) {
    kernels::AttentionArgs a;
    a.n_head = p.n_head, a.n_head_kv = p.n_head_kv, a.head_dim = p.head_dim;
    a.scale = p.scale, a.softcap = p.softcap, a.causal = p.causal, a.window = p.window;
    a.q = q, a.n_tokens = n_tokens, a.pos0 = pos0;
    a.k = kv.k_data(layer), a.v = kv.v_data(layer), a.kv_f16 = kv.type() == KvType::kF16, a.kv_stride = kv.kv_dim();
    a.out = out;
    if (kernels::attention(a, current_thread_pool())) return;
  }
  const uint32_t n_total = pos0 + n_tokens;
  const uint32_t group = p.n_head / p.n_head_kv;  // query heads sharing one KV head
  const uint32_t q_dim = p.n_head * p.head_dim;
  std::vector<float> scores(n_total), k(p.head_dim), v(p.head_dim);
  for (uint32_t t = 0; t < n_tokens; ++t) {
    const uint32_t pos = pos0 + t;
    const uint32_t first = (p.window && pos + 1 > p.window) ? pos + 1 - p.window : 0;
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

}  // namespace minnow
