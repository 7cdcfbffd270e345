// `minnow logits -m MODEL --tokens "1 2 3" -o OUT.f32 [--greedy N]`
// Writes every position's logits (f32, [n_tokens][n_vocab]) and prints the
// greedy continuation ids, decoded one token at a time after the prompt.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "base/mapped_file.h"
#include "cli/commands.h"
#include "cli/model_options.h"

namespace minnow::cli {
namespace {

struct LogitsOptions {
  ModelOptions model;
  std::string tokens;
  std::string out;
  int64_t greedy = 0;
};

Expected<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (...) {
      used = 0;
    }
    if (used != word.size() || v < INT32_MIN || v > INT32_MAX)
      return invalid_argument("'" + word + "' is not a token id").with_field("--tokens");
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) return invalid_argument("no token ids given").with_field("--tokens");
  return ids;
}

int run_logits(const LogitsOptions& o) {
  if (o.greedy < 0 || o.greedy > 1 << 20) return report_error(out_of_range("must be in 0..1048576").with_field("--greedy"));
  auto ids = parse_ids(o.tokens);
  if (!ids.ok()) return report_error(ids.error());
  auto lm = load_model(o.model);
  if (!lm.ok()) return report_error(lm.error());
  auto logits = lm->ctx->decode(*ids, /*all_logits=*/true);
  if (!logits.ok()) return report_error(logits.error());
  const size_t n_vocab = lm->model->hparams().n_vocab;
  std::vector<int32_t> continuation;
  std::vector<float> row(logits->end() - long(n_vocab), logits->end());
  for (int64_t g = 0; g < o.greedy; ++g) {
    continuation.push_back(int32_t(std::max_element(row.begin(), row.end()) - row.begin()));
    if (g + 1 == o.greedy) break;
    auto next = lm->ctx->decode(std::vector<int32_t>{continuation.back()});
    if (!next.ok()) return report_error(next.error());
    row = std::move(*next);
  }
  if (!o.out.empty()) {
    const auto* p = reinterpret_cast<const uint8_t*>(logits->data());
    Status s = write_file_atomic(o.out, {p, logits->size() * sizeof(float)});
    if (!s.ok()) return report_error(s.error());
  }
  std::string line;
  for (size_t i = 0; i < continuation.size(); ++i) line += (i ? " " : "") + std::to_string(continuation[i]);
  if (!continuation.empty()) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<LogitsOptions>();
  auto* sub = app.add_subcommand("logits", "raw logits of a token sequence, and its greedy continuation");
  add_model_options(*sub, o->model);
  sub->add_option("--tokens", o->tokens, "prompt token ids, space separated")->required();
  sub->add_option("-o,--out", o->out, "write logits [n_tokens x n_vocab] as raw f32 here");
  sub->add_option("--greedy", o->greedy, "print this many greedy continuation ids");
  sub->callback([&run, o] { run = [o] { return run_logits(*o); }; });
}

}  // namespace minnow::cli
