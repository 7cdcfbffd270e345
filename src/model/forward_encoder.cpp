// The encoder (BERT) forward pass: post-norm, bidirectional attention,
// learned absolute positions.
#include <cmath>

#include "base/float_mode.h"
#include "model/attention.h"
#include "model/blocks.h"
#include "model/context.h"
#include "model/ops.h"

namespace minnow {

Expected<std::vector<float>> InferenceContext::encode(std::span<const int32_t> tokens) {
  const Model& m = *model_;
  const ModelHparams& h = m.hparams();
  const ArchTraits& arch = m.traits();
  if (!arch.encoder) return invalid_argument("this is a decoder model: embeddings need an encoder (BERT-style) model");
  reset();  // an encoder sees each input on its own
  ScopedThreadPool use_pool(pool_.get());
  ScopedFlushDenormals flush;  // as decode_batch
  MINNOW_TRY(check_tokens(tokens));
  const uint32_t n = uint32_t(tokens.size()), E = h.n_embd;

  // [n][n_embd]: token + type 0 + absolute position embeddings
  std::vector<float> x(size_t(n) * E), row(E);
  for (uint32_t t = 0; t < n; ++t) {
    float* xt = &x[size_t(t) * E];
    dequantize_row(m.global(Role::kTokEmbd), uint64_t(tokens[t]), xt);
    dequantize_row(m.global(Role::kTokTypes), 0, row.data());
    ops::add(xt, row.data(), E);
    dequantize_row(m.global(Role::kPosEmbd), t, row.data());
    ops::add(xt, row.data(), E);
  }
  blocks::norm(NormKind::kLayer, x.data(), n, E, m.global(Role::kTokEmbdNorm), m.global(Role::kTokEmbdNormB),
               h.norm_eps);

  AttentionParams ap;
  ap.n_head = h.n_head;
  ap.n_head_kv = h.n_head_kv;
  ap.head_dim = h.head_dim;
  ap.scale = 1.0f / std::sqrt(float(h.head_dim));
  ap.causal = false;  // BERT attends both ways
  std::vector<float> q, k, v, attn(size_t(n) * h.q_dim()), o;
  for (uint32_t il = 0; il < h.n_layer; ++il) {
    auto L = [&](Role r) -> const TensorRef& { return m.layer(il, r); };
    blocks::linear(L(Role::kQ), L(Role::kQB), x.data(), n, q);
    blocks::linear(L(Role::kK), L(Role::kKB), x.data(), n, k);
    blocks::linear(L(Role::kV), L(Role::kVB), x.data(), n, v);
    for (uint32_t t = 0; t < n; ++t) kv_.store(il, t, &k[size_t(t) * h.kv_dim()], &v[size_t(t) * h.kv_dim()]);
    attention(ap, q.data(), n, 0, kv_, il, attn.data());
    blocks::linear(L(Role::kO), L(Role::kOB), attn.data(), n, o);
    ops::add(x.data(), o.data(), x.size());
    blocks::norm(NormKind::kLayer, x.data(), n, E, L(Role::kAttnOutNorm), L(Role::kAttnOutNormB), h.norm_eps);
    std::vector<float> f = blocks::ffn(arch.ffn, {}, L(Role::kUp), L(Role::kUpB), L(Role::kDown), L(Role::kDownB),
                                       x.data(), n, h.n_ff);
    ops::add(x.data(), f.data(), x.size());
    blocks::norm(NormKind::kLayer, x.data(), n, E, L(Role::kLayerOutNorm), L(Role::kLayerOutNormB), h.norm_eps);
  }
  return x;
}

}  // namespace minnow
