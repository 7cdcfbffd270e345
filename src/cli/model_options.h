// Options every model-running command shares (-m, --ctx, --kv-type) and the
// one place that turns them into a loaded model and context.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/context.h"

namespace CLI {
class App;
}

namespace minnow::cli {

struct ModelOptions {
  std::string model;
  int64_t n_ctx = 0;
  std::string kv_type = "f16";
  int64_t n_threads = 0;
};

void add_model_options(CLI::App& sub, ModelOptions& o);

struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::unique_ptr<InferenceContext> ctx;
};

// The checked options as context parameters (commands that load the model
// their own way, e.g. with its tokenizer, still take the context from here).
Expected<ContextParams> context_params(const ModelOptions& o);
Expected<LoadedModel> load_model(const ModelOptions& o);

}  // namespace minnow::cli
