// One sequence's inference state over a shared Model: its KV cache and
// position. Decoders append tokens; encoders (BERT) embed whole inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace minnow {

struct ContextParams {
  ContextParams() = default;
  // The common case, spelled {n_ctx, kv_type} (a constructor, so that the
  // later members need not be listed).
  ContextParams(uint32_t n_ctx_, KvType kv_type_ = KvType::kF16) : n_ctx(n_ctx_), kv_type(kv_type_) {}

  uint32_t n_ctx = 0;  // 0: min(training context, 4096)
  KvType kv_type = KvType::kF16;
  uint32_t n_threads = 0;  // matmul threads incl. the caller; 0: one per core
  // Contexts that take turns (a scheduler's slots) share one pool: idle
  // pools' spinning workers would otherwise steal the cores.
  std::shared_ptr<ThreadPool> pool;
};

class InferenceContext;

// One sequence's share of a batched forward pass.
struct DecodeItem {
  InferenceContext* ctx;
  std::span<const int32_t> tokens;
  bool all_logits = false;           // every row, or only the last
  std::vector<float>* logits = nullptr;  // out: [rows][n_vocab]
};

// Runs the tokens of several sequences of one model in a single forward pass:
// every weight row is read once for all of them, which is what makes serving
// many streams cheap. Each item appends to its own context's cache. Fails
// before touching any state if any item is invalid.
Status decode_batch(std::span<DecodeItem> items);

class InferenceContext {
 public:
  static Expected<std::unique_ptr<InferenceContext>> create(std::shared_ptr<const Model> model,
                                                            ContextParams params = {});

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& shared_model() const { return model_; }
  uint32_t n_ctx() const { return kv_.n_ctx(); }
  uint32_t n_past() const { return kv_.n_past(); }
  uint64_t kv_bytes() const { return kv_.bytes(); }
  void reset() { kv_.set_n_past(0); }
  // Forget everything after the first n tokens (n <= n_past).
  void truncate(uint32_t n) { if (n < kv_.n_past()) kv_.set_n_past(n); }

  // Runs `tokens` at positions n_past.. in one batch and appends them to the
  // cache. Returns logits [n_tokens][n_vocab] (all_logits) or the last row.
  // Fails (state unchanged) on ids outside the vocabulary or a full context.
  Expected<std::vector<float>> decode(std::span<const int32_t> tokens, bool all_logits = false);
  // The same into `logits`, whose storage is reused: a token-by-token loop
  // then does not allocate and clear a vocabulary of floats (600 KB for
  // 152k) per token.
  Status decode_into(std::span<const int32_t> tokens, std::vector<float>& logits, bool all_logits = false);

  // Encoder models: last hidden states [n_tokens][n_embd] (pooling off).
  Expected<std::vector<float>> encode(std::span<const int32_t> tokens);
  // Encoder models: pooled per the model's pooling type, L2-normalized.
  Expected<std::vector<float>> embed(std::span<const int32_t> tokens);

 private:
  friend Status decode_batch(std::span<DecodeItem> items);
  InferenceContext(std::shared_ptr<const Model> model, KvCache kv, std::shared_ptr<ThreadPool> pool)
      : model_(std::move(model)), kv_(std::move(kv)), pool_(std::move(pool)) {}
  Status check_tokens(std::span<const int32_t> tokens) const;
  std::shared_ptr<const Model> model_;
  KvCache kv_;
  std::shared_ptr<ThreadPool> pool_;  // installed as the current pool during decode/encode
};

}  // namespace minnow
