// `minnow embed -m MODEL --text T`: the pooled, L2-normalized embedding as JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/text_model.h"

namespace minnow::cli {
namespace {

struct EmbedOptions {
  ModelOptions model;
  std::string text;
};

int run_embed(const EmbedOptions& o) {
  auto tm = TextModel::load(o.model.model);
  if (!tm.ok()) return report_error(tm.error());
  if (!(*tm)->model().traits().encoder)
    return report_error(invalid_argument("'" + o.model.model + "' is a " + (*tm)->model().hparams().arch +
                                         " text generator; embeddings need an embedding model (bert)"));
  auto ids = (*tm)->tokenize(o.text);
  if (!ids.ok()) return report_error(ids.error());
  auto ctx = InferenceContext::create((*tm)->model_ptr(), {});
  if (!ctx.ok()) return report_error(ctx.error());
  auto v = (*ctx)->embed(*ids);
  if (!v.ok()) return report_error(v.error());
  nlohmann::json j;
  j["model"] = o.model.model;
  j["n_tokens"] = ids->size();
  j["embedding"] = *v;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

void add_embed_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<EmbedOptions>();
  auto* sub = app.add_subcommand("embed", "embedding vector of a text (BERT-style models)");
  add_model_options(*sub, o->model);
  sub->add_option("--text", o->text, "text to embed")->required();
  sub->callback([&run, o] { run = [o] { return run_embed(*o); }; });
}

}  // namespace minnow::cli
