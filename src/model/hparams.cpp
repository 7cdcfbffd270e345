#include "model/hparams.h"

#include <cmath>

namespace minnow {
namespace {

// Sanity bounds: far above any small model, low enough that products of
// them cannot overflow 64-bit sizes.
constexpr int64_t kMaxDim = 1 << 20;

class KeyReader {
 public:
  KeyReader(const GgufFile& f, std::string prefix) : f_(f), prefix_(std::move(prefix)) {}

  Status u32(const char* key, uint32_t& out, bool required, int64_t max = kMaxDim) {
    const std::string full = prefix_ + key;
    const GgufValue* v = f_.find(full);
    if (v == nullptr) {
      if (required) return corrupt("missing required key").with_field(full);
      return Status::success();
    }
    if (v->type() == GgufValueType::ARRAY) return unsupported("per-layer arrays are not supported").with_field(full);
    auto i = v->as_int();
    if (!i || *i < 0 || *i > max)
      return corrupt("expected an integer in 0.." + std::to_string(max)).with_field(full);
    out = uint32_t(*i);
    return Status::success();
  }

  Status f32(const char* key, float& out) {
    const std::string full = prefix_ + key;
    const GgufValue* v = f_.find(full);
    if (v == nullptr) return Status::success();
    auto d = v->as_double();
    if (!d || !std::isfinite(*d)) return corrupt("expected a finite number").with_field(full);
    out = float(*d);
    return Status::success();
  }

  void boolean(const char* key, bool& out) {
    if (auto b = f_.get_bool(prefix_ + key)) out = *b;
  }

 private:
  const GgufFile& f_;
  std::string prefix_;
};

}  // namespace

Expected<ModelHparams> read_hparams(const GgufFile& f) {
  ModelHparams h;
  h.arch = f.architecture();
  if (h.arch.empty()) return corrupt("missing general.architecture").with_file(f.name());
  KeyReader r(f, h.arch + ".");
  auto fail = [&](Status s) { return std::move(s).error().with_file(f.name()); };
  Status s;
  if (!(s = r.u32("embedding_length", h.n_embd, true)).ok()) return fail(std::move(s));
  if (!(s = r.u32("feed_forward_length", h.n_ff, true)).ok()) return fail(std::move(s));
  if (!(s = r.u32("block_count", h.n_layer, true, 4096)).ok()) return fail(std::move(s));
  if (!(s = r.u32("attention.head_count", h.n_head, true, 4096)).ok()) return fail(std::move(s));
  h.n_head_kv = h.n_head;
  if (!(s = r.u32("attention.head_count_kv", h.n_head_kv, false, 4096)).ok()) return fail(std::move(s));
  if (!(s = r.u32("context_length", h.n_ctx_train, false, 1 << 24)).ok()) return fail(std::move(s));
  if (!(s = r.u32("attention.key_length", h.head_dim, false)).ok()) return fail(std::move(s));
  if (!(s = r.u32("rope.dimension_count", h.rope_dim, false)).ok()) return fail(std::move(s));
  if (!(s = r.u32("attention.sliding_window", h.sliding_window, false, 1 << 24)).ok()) return fail(std::move(s));
  if (!(s = r.u32("pooling_type", h.pooling_type, false, 4)).ok()) return fail(std::move(s));
  if (!(s = r.f32("rope.freq_base", h.rope_freq_base)).ok()) return fail(std::move(s));
  if (!(s = r.f32("attn_logit_softcapping", h.attn_softcap)).ok()) return fail(std::move(s));
  if (!(s = r.f32("final_logit_softcapping", h.final_softcap)).ok()) return fail(std::move(s));
  if (!(s = r.f32("rope.scaling.attn_factor", h.rope_attn_factor)).ok()) return fail(std::move(s));
  if (!(s = r.u32("rope.scaling.original_context_length", h.rope_original_ctx, false, 1 << 24)).ok())
    return fail(std::move(s));
  float scaling_factor = 0.0f;
  if (!(s = r.f32("rope.scaling.factor", scaling_factor)).ok()) return fail(std::move(s));
  if (f.get_string(h.arch + ".rope.scaling.type").value_or("") == "linear" && scaling_factor > 0.0f)
    h.rope_freq_scale = 1.0f / scaling_factor;
  h.norm_eps = 0.0f;
  if (!(s = r.f32("attention.layer_norm_rms_epsilon", h.norm_eps)).ok()) return fail(std::move(s));
  if (h.norm_eps == 0.0f && !(s = r.f32("attention.layer_norm_epsilon", h.norm_eps)).ok()) return fail(std::move(s));
  if (h.norm_eps <= 0.0f) h.norm_eps = 1e-5f;
  r.boolean("attention.causal", h.causal);

  if (h.n_embd == 0 || h.n_layer == 0 || h.n_head == 0 || h.n_ff == 0)
    return corrupt("embedding_length, feed_forward_length, block_count and head_count must be positive")
        .with_file(f.name());
  if (h.n_head_kv == 0 || h.n_head % h.n_head_kv != 0)
    return corrupt("head_count " + std::to_string(h.n_head) + " is not a multiple of head_count_kv " +
                   std::to_string(h.n_head_kv))
        .with_file(f.name());
  if (h.head_dim == 0) {
    if (h.n_embd % h.n_head != 0) return corrupt("embedding_length is not a multiple of head_count").with_file(f.name());
    h.head_dim = h.n_embd / h.n_head;
  }
  // q_dim() and kv_dim() are 32-bit products: head counts and sizes of up
  // to 2^20 each could wrap them back onto the tensors' real shapes and
  // send every kernel past its buffers. Real models stay far below these.
  if (h.head_dim > 4096 || uint64_t(h.n_head) * h.head_dim > (1u << 20))
    return corrupt("attention heads of " + std::to_string(h.head_dim) + " x " + std::to_string(h.n_head) +
                   " values are implausibly large (attention.key_length, head_count)")
        .with_file(f.name());
  if (h.rope_dim == 0) h.rope_dim = h.head_dim;
  if (h.rope_dim > h.head_dim || h.rope_dim % 2 != 0)
    return corrupt("rope.dimension_count must be even and at most the head size").with_file(f.name());
  if (h.n_ctx_train == 0) h.n_ctx_train = 2048;
  return h;
}

}  // namespace minnow
