// `minnow perplexity -m MODEL -f TEXT [--ctx N]`: llama.cpp-style chunked
// perplexity. Each chunk of n_ctx tokens starts with BOS; only its second
// half is scored, so every scored token has at least n_ctx/2 of context.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include "base/mapped_file.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/text_model.h"

namespace minnow::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  std::string file;
};

int run_perplexity(const PerplexityOptions& o) {
  auto cp = context_params(o.model);
  if (!cp.ok()) return report_error(cp.error());
  auto text = read_file(o.file);
  if (!text.ok()) return report_error(text.error());
  auto tm = TextModel::load(o.model.model);
  if (!tm.ok()) return report_error(tm.error());
  if (cp->n_ctx == 0) cp->n_ctx = 512;
  const uint32_t n_ctx = cp->n_ctx;
  auto ctx = InferenceContext::create((*tm)->model_ptr(), *cp);
  if (!ctx.ok()) return report_error(ctx.error());
  EncodeOptions enc;
  enc.add_special = false;
  auto ids = (*tm)->tokenizer().encode(*text, enc);
  if (!ids.ok()) return report_error(std::move(ids).error().with_file(o.file));
  const size_t n_chunks = ids->size() / n_ctx;
  if (n_chunks == 0 || n_ctx < 4)
    return report_error(invalid_argument("the text has " + std::to_string(ids->size()) + " tokens; at least one chunk of " +
                                         std::to_string(n_ctx) + " is needed (lower --ctx)")
                            .with_file(o.file));
  const int32_t bos = (*tm)->tokenizer().bos();
  const size_t V = (*tm)->model().hparams().n_vocab, first = n_ctx / 2;
  const bool progress = isatty(2);
  double nll_sum = 0, nll_sq = 0;
  size_t count = 0;
  for (size_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(ids->begin() + long(c * n_ctx), ids->begin() + long((c + 1) * n_ctx));
    if (bos != kNoToken) chunk[0] = bos;
    (*ctx)->reset();
    auto logits = (*ctx)->decode(chunk, true);
    if (!logits.ok()) return report_error(logits.error());
    for (size_t i = first; i + 1 < n_ctx; ++i) {
      const float* row = &(*logits)[i * V];
      const float mx = *std::max_element(row, row + V);
      double sum = 0;
      for (size_t k = 0; k < V; ++k) sum += std::exp(double(row[k]) - mx);
      const double nll = std::log(sum) + mx - row[(*ids)[c * n_ctx + i + 1]];
      nll_sum += nll;
      nll_sq += nll * nll;
      ++count;
    }
    if (progress) std::fprintf(stderr, "\rchunk %zu/%zu: ppl %.4g", c + 1, n_chunks, std::exp(nll_sum / double(count)));
  }
  if (progress) std::fprintf(stderr, "\n");
  const double mean = nll_sum / double(count);
  const double var = std::max(0.0, nll_sq / double(count) - mean * mean);
  const double ppl = std::exp(mean), err = ppl * std::sqrt(var / double(count - 1 > 0 ? count - 1 : 1));
  std::printf("PPL = %.4g +/- %.4g (%zu chunks of %u tokens, %zu scored)\n", ppl, err, n_chunks, n_ctx, count);
  return 0;
}

}  // namespace

void add_perplexity_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<PerplexityOptions>();
  auto* sub = app.add_subcommand("perplexity", "perplexity of a model on a text file");
  add_model_options(*sub, o->model);
  sub->add_option("-f,--file", o->file, "text file")->required();
  sub->callback([&run, o] { run = [o] { return run_perplexity(*o); }; });
}

}  // namespace minnow::cli
