#include "model/context.h"

#include <algorithm>
#include <cmath>

#include "model/attention.h"
#include "model/blocks.h"
#include "model/ops.h"

namespace minnow {

Expected<std::unique_ptr<InferenceContext>> InferenceContext::create(std::shared_ptr<const Model> model,
                                                                     ContextParams params) {
  const ModelHparams& h = model->hparams();
  uint32_t n_ctx = params.n_ctx ? params.n_ctx : std::min<uint32_t>(h.n_ctx_train, 4096);
  if (model->traits().encoder) n_ctx = std::min(n_ctx, h.n_ctx_train);  // learned positions end there
  if (n_ctx == 0 || n_ctx > (1u << 20)) return out_of_range("context size must be in 1..1048576").with_field("n_ctx");
  KvCache kv(h.n_layer, n_ctx, h.kv_dim(), params.kv_type);
  return std::unique_ptr<InferenceContext>(new InferenceContext(std::move(model), std::move(kv), params.n_threads));
}

Status InferenceContext::check_tokens(std::span<const int32_t> tokens) const {
  const uint32_t n_vocab = model_->hparams().n_vocab;
  if (tokens.empty()) return invalid_argument("no tokens to process");
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || uint32_t(tokens[i]) >= n_vocab)
      return out_of_range("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                          " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
  if (uint64_t(kv_.n_past()) + tokens.size() > kv_.n_ctx())
    return out_of_range("context full: " + std::to_string(kv_.n_past()) + " + " + std::to_string(tokens.size()) +
                        " tokens exceed the context size " + std::to_string(kv_.n_ctx()) + " (raise --ctx)");
  return Status::success();
}

Expected<std::vector<float>> InferenceContext::decode(std::span<const int32_t> tokens, bool all_logits) {
  const Model& m = *model_;
  const ModelHparams& h = m.hparams();
  const ArchTraits& arch = m.traits();
  if (arch.encoder) return invalid_argument("this is an encoder model: use embed, not decode");
  MINNOW_TRY(check_tokens(tokens));
  ScopedThreadPool use_pool(pool_.get());
  const uint32_t n = uint32_t(tokens.size()), pos0 = kv_.n_past(), E = h.n_embd;

  // [n][n_embd] residual stream
  std::vector<float> x(size_t(n) * E);
  for (uint32_t t = 0; t < n; ++t) dequantize_row(m.global(Role::kTokEmbd), uint64_t(tokens[t]), &x[size_t(t) * E]);
  if (arch.scale_embd)
    for (auto& v : x) v *= std::sqrt(float(E));

  const float* freq_factors = nullptr;
  if (const auto& f = m.global(Role::kRopeFreqs)) freq_factors = f.f32();
  if (const auto& f = m.global(Role::kRopeFactorsShort)) freq_factors = f.f32();  // short: ctx within training
  const ops::RopeStyle rope_style = arch.rope == RopeKind::kNorm ? ops::RopeStyle::kNorm : ops::RopeStyle::kNeox;

  AttentionParams ap;
  ap.n_head = h.n_head;
  ap.n_head_kv = h.n_head_kv;
  ap.head_dim = h.head_dim;
  ap.scale = 1.0f / std::sqrt(float(h.head_dim));
  ap.softcap = h.attn_softcap;
  ap.causal = true;

  std::vector<float> cur(x.size()), q, k, v, qkv, attn(size_t(n) * h.q_dim()), o;
  for (uint32_t il = 0; il < h.n_layer; ++il) {
    auto L = [&](Role r) -> const TensorRef& { return m.layer(il, r); };
    cur = x;
    blocks::norm(arch.norm, cur.data(), n, E, L(Role::kAttnNorm), L(Role::kAttnNormB), h.norm_eps);
    if (L(Role::kQkv)) {  // fused rows [Q; K; V]
      blocks::linear(L(Role::kQkv), L(Role::kQkvB), cur.data(), n, qkv);
      const size_t qd = h.q_dim(), kd = h.kv_dim(), w = qd + 2 * kd;
      q.resize(n * qd);
      k.resize(n * kd);
      v.resize(n * kd);
      for (uint32_t t = 0; t < n; ++t) {
        std::copy_n(&qkv[t * w], qd, &q[t * qd]);
        std::copy_n(&qkv[t * w + qd], kd, &k[t * kd]);
        std::copy_n(&qkv[t * w + qd + kd], kd, &v[t * kd]);
      }
    } else {
      blocks::linear(L(Role::kQ), L(Role::kQB), cur.data(), n, q);
      blocks::linear(L(Role::kK), L(Role::kKB), cur.data(), n, k);
      blocks::linear(L(Role::kV), L(Role::kVB), cur.data(), n, v);
    }
    for (uint32_t t = 0; t < n; ++t) {
      if (arch.rope != RopeKind::kNone) {
        ops::rope(&q[size_t(t) * h.q_dim()], h.n_head, h.head_dim, h.rope_dim, pos0 + t, h.rope_freq_base,
                  h.rope_freq_scale, freq_factors, rope_style);
        ops::rope(&k[size_t(t) * h.kv_dim()], h.n_head_kv, h.head_dim, h.rope_dim, pos0 + t, h.rope_freq_base,
                  h.rope_freq_scale, freq_factors, rope_style);
      }
      kv_.store(il, pos0 + t, &k[size_t(t) * h.kv_dim()], &v[size_t(t) * h.kv_dim()]);
    }
    const bool swa = h.sliding_window > 0 &&
                     (arch.swa == SwaLayers::kAll || (arch.swa == SwaLayers::kEven && il % 2 == 0));
    ap.window = swa ? h.sliding_window : 0;
    attention(ap, q.data(), n, pos0, kv_, il, attn.data());
    blocks::linear(L(Role::kO), L(Role::kOB), attn.data(), n, o);
    if (arch.post_norms) blocks::norm(arch.norm, o.data(), n, E, L(Role::kPostAttnNorm), {}, h.norm_eps);
    ops::add(x.data(), o.data(), x.size());

    cur = x;
    blocks::norm(arch.norm, cur.data(), n, E, L(Role::kFfnNorm), L(Role::kFfnNormB), h.norm_eps);
    std::vector<float> f = blocks::ffn(arch.ffn, L(Role::kGate), L(Role::kUp), L(Role::kUpB), L(Role::kDown),
                                       L(Role::kDownB), cur.data(), n, h.n_ff);
    if (arch.post_norms) blocks::norm(arch.norm, f.data(), n, E, L(Role::kPostFfnNorm), {}, h.norm_eps);
    ops::add(x.data(), f.data(), x.size());
  }
  kv_.set_n_past(pos0 + n);

  // Only the rows asked for go through the (large) output projection.
  const uint32_t first = all_logits ? 0 : n - 1, rows = n - first;
  std::vector<float> last(x.begin() + size_t(first) * E, x.end()), logits;
  blocks::norm(arch.norm, last.data(), rows, E, m.global(Role::kOutputNorm), m.global(Role::kOutputNormB), h.norm_eps);
  blocks::linear(m.output(), {}, last.data(), rows, logits);
  if (h.final_softcap > 0.0f) ops::softcap(logits.data(), logits.size(), h.final_softcap);
  return logits;
}

Expected<std::vector<float>> InferenceContext::encode(std::span<const int32_t> tokens) {
  const Model& m = *model_;
  const ModelHparams& h = m.hparams();
  const ArchTraits& arch = m.traits();
  if (!arch.encoder) return invalid_argument("this is a decoder model: embeddings need an encoder (BERT-style) model");
  reset();  // an encoder sees each input on its own
  ScopedThreadPool use_pool(pool_.get());
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

Expected<std::vector<float>> InferenceContext::embed(std::span<const int32_t> tokens) {
  MINNOW_ASSIGN_OR_RETURN(std::vector<float> hidden, encode(tokens));
  const ModelHparams& h = model_->hparams();
  const uint32_t n = uint32_t(tokens.size()), E = h.n_embd;
  std::vector<float> pooled(E, 0.0f);
  switch (h.pooling_type) {
    case 2: std::copy_n(hidden.begin(), E, pooled.begin()); break;                     // CLS: first token
    case 3: std::copy_n(hidden.end() - E, E, pooled.begin()); break;                   // last token
    default:                                                                            // mean (and none)
      for (uint32_t t = 0; t < n; ++t) ops::add(pooled.data(), &hidden[size_t(t) * E], E);
      for (auto& p : pooled) p /= float(n);
  }
  double norm = 0.0;
  for (float p : pooled) norm += double(p) * p;
  if (norm > 0.0)
    for (auto& p : pooled) p = float(p / std::sqrt(norm));
  return pooled;
}

}  // namespace minnow
