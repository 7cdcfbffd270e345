#include "engine/generate.h"

#include <algorithm>
#include <chrono>

#include "engine/text_model.h"
#include "sampling/sampler.h"

namespace minnow {

Expected<GenerateStats> generate(InferenceContext& ctx, std::vector<int32_t>& cached,
                                 const std::vector<int32_t>& prompt, const Tokenizer& tokenizer,
                                 const GenerateOptions& options,
                                 const std::function<void(const std::string&)>& on_text) {
  using Clock = std::chrono::steady_clock;
  MINNOW_TRY(validate(options.sampling, ctx.model().hparams().n_vocab));
  if (prompt.empty()) return invalid_argument("the prompt is empty");
  if (prompt.size() >= ctx.n_ctx())
    return out_of_range("the prompt has " + std::to_string(prompt.size()) + " tokens; the context holds " +
                        std::to_string(ctx.n_ctx()) + " (raise --ctx)");
  GenerateStats stats;
  stats.n_prompt = uint32_t(prompt.size());
  size_t reuse = 0;
  while (reuse < cached.size() && reuse + 1 < prompt.size() && cached[reuse] == prompt[reuse]) ++reuse;
  ctx.truncate(uint32_t(reuse));
  cached.resize(reuse);
  stats.n_cached = uint32_t(reuse);

  const auto t0 = Clock::now();
  std::vector<float> logits;
  constexpr size_t kChunk = 512;  // bounds activation memory for long prompts
  for (size_t at = reuse; at < prompt.size(); at += kChunk) {
    const size_t n = std::min(kChunk, prompt.size() - at);
    MINNOW_TRY(ctx.decode_into(std::span<const int32_t>(prompt.data() + at, n), logits));
    cached.insert(cached.end(), prompt.begin() + long(at), prompt.begin() + long(at + n));
    if (options.interrupt && options.interrupt->load()) {
      stats.reason = FinishReason::kCancelled;
      return stats;
    }
  }
  const auto t1 = Clock::now();
  stats.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  Sampler sampler(options.sampling,
                  options.grammar ? std::make_unique<GrammarMatcher>(options.grammar) : nullptr);
  Utf8StreamBuffer utf8;
  stats.reason = FinishReason::kLength;
  while (stats.n_generated < options.max_tokens) {
    if (options.interrupt && options.interrupt->load()) {
      stats.reason = FinishReason::kCancelled;
      break;
    }
    const int32_t token = sampler.sample(logits);
    if (token == Sampler::kNoToken) return invalid_argument("grammar: no token of the vocabulary can continue the output");
    MINNOW_TRY(sampler.accept(token));
    ++stats.n_generated;
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end()) {
      stats.reason = FinishReason::kStop;
      break;
    }
    on_text(utf8.push(tokenizer.token_to_piece(token)));
    if (sampler.grammar_complete()) {
      stats.reason = FinishReason::kStop;
      break;
    }
    if (stats.n_generated >= options.max_tokens) break;
    if (ctx.n_past() + 1 >= ctx.n_ctx()) break;  // context full: stop with "length"
    MINNOW_TRY(ctx.decode_into(std::span<const int32_t>(&token, 1), logits));
    cached.push_back(token);
  }
  on_text(utf8.flush());
  stats.generate_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return stats;
}

}  // namespace minnow
