#include "cli/model_options.h"

#include <CLI/CLI.hpp>

namespace minnow::cli {

void add_model_options(CLI::App& sub, ModelOptions& o) {
  sub.add_option("-m,--model", o.model, "GGUF model file")->required();
  sub.add_option("--ctx", o.n_ctx, "context size in tokens (default: min(training context, 4096))");
  sub.add_option("--kv-type", o.kv_type, "KV cache element type: f16 or f32")->capture_default_str();
  sub.add_option("-t,--threads", o.n_threads, "compute threads (default: one per core)");
}

Expected<ContextParams> context_params(const ModelOptions& o) {
  if (o.n_ctx < 0 || o.n_ctx > (1 << 20)) return out_of_range("must be in 0..1048576").with_field("--ctx");
  if (o.kv_type != "f16" && o.kv_type != "f32")
    return invalid_argument("must be f16 or f32, not '" + o.kv_type + "'").with_field("--kv-type");
  if (o.n_threads < 0 || o.n_threads > 1024) return out_of_range("must be in 0..1024").with_field("--threads");
  ContextParams cp;
  cp.n_ctx = uint32_t(o.n_ctx);
  cp.n_threads = uint32_t(o.n_threads);
  cp.kv_type = o.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
  return cp;
}

Expected<LoadedModel> load_model(const ModelOptions& o) {
  MINNOW_ASSIGN_OR_RETURN(ContextParams cp, context_params(o));
  LoadedModel lm;
  MINNOW_ASSIGN_OR_RETURN(lm.model, Model::load(o.model));
  MINNOW_ASSIGN_OR_RETURN(lm.ctx, InferenceContext::create(lm.model, cp));
  return lm;
}

}  // namespace minnow::cli
