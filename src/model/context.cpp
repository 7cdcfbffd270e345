#include "model/context.h"

#include <algorithm>
#include <cmath>

#include "model/ops.h"

namespace minnow {

Expected<std::unique_ptr<InferenceContext>> InferenceContext::create(std::shared_ptr<const Model> model,
                                                                     ContextParams params) {
  const ModelHparams& h = model->hparams();
  uint32_t n_ctx = params.n_ctx ? params.n_ctx : std::min<uint32_t>(h.n_ctx_train, 4096);
  if (model->traits().encoder) n_ctx = std::min(n_ctx, h.n_ctx_train);  // learned positions end there
  if (n_ctx == 0 || n_ctx > (1u << 20)) return out_of_range("context size must be in 1..1048576").with_field("n_ctx");
  KvCache kv(h.n_layer, n_ctx, h.n_head_kv, h.head_dim, params.kv_type);
  if (!kv.ok())
    return resource_limit("no memory for a KV cache of " + std::to_string(kv.bytes() >> 20) + " MiB (" +
                              std::to_string(n_ctx) + " positions): lower --ctx");
  auto pool = params.pool ? params.pool : std::make_shared<ThreadPool>(params.n_threads);
  return std::unique_ptr<InferenceContext>(new InferenceContext(std::move(model), std::move(kv), std::move(pool)));
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
  std::vector<float> logits;
  MINNOW_TRY(decode_into(tokens, logits, all_logits));
  return logits;
}

Status InferenceContext::decode_into(std::span<const int32_t> tokens, std::vector<float>& logits, bool all_logits) {
  DecodeItem item{this, tokens, all_logits, &logits};
  return decode_batch(std::span<DecodeItem>(&item, 1));
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
