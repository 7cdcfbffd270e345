#include "server/generation_stream.h"

#include "kernels/activations.h"
#include "tokenizer/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace minnow {

GenerationStream::GenerationStream(std::shared_ptr<const TextModel> model, uint32_t n_choices,
                                   std::vector<std::string> stop, uint32_t top_logprobs, bool want_logprobs)
    : model_(std::move(model)), stop_(std::move(stop)), top_logprobs_(top_logprobs), want_logprobs_(want_logprobs),
      results_(n_choices), ids_(n_choices, 0), utf8_(n_choices) {
  for (uint32_t i = 0; i < n_choices; ++i) stops_.emplace_back(stop_);
}

GenerationRequest GenerationStream::make_request(uint32_t index, std::vector<int32_t> prompt,
                                                 const SamplingParams& sampling, uint32_t max_tokens,
                                                 std::chrono::steady_clock::time_point deadline, bool ignore_eos) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling = sampling;
  r.sampling.seed += index;  // n choices must differ from one another
  r.max_tokens = max_tokens;
  if (!ignore_eos) r.stop_tokens = model_->stop_tokens();
  r.deadline = deadline;
  r.want_logits = want_logprobs_;
  auto self = shared_from_this();
  r.on_token = [self, index](int32_t token, std::span<const float> logits) {
    return self->on_token(index, token, logits);
  };
  r.on_done = [self, index](const GenerationOutcome& o) { self->on_done(index, o); };
  return r;
}

void GenerationStream::set_request_id(uint32_t index, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_[index] = id;
}

std::vector<uint64_t> GenerationStream::request_ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ids_;
}

std::string token_label(const std::string& piece) {
  if (utf8::is_valid(piece)) return piece;
  std::string out = "bytes:";
  char hex[8];
  for (unsigned char c : piece) {
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += hex;
  }
  return out;
}

nlohmann::json GenerationStream::token_logprob(int32_t token, std::span<const float> logits) const {
  const float mx = *std::max_element(logits.begin(), logits.end());
  // log sum e^l with the vector exp: 150k scalar exps were ~2 ms per token.
  thread_local std::vector<float> shifted;
  shifted.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) shifted[i] = logits[i] - mx;
  kernels::exp_vec(shifted.data(), shifted.data(), shifted.size());
  double sum = 0;
  for (float e : shifted) sum += e;
  const double log_z = std::log(sum) + mx;
  auto entry = [&](int32_t id) {
    const std::string piece = model_->tokenizer().token_to_piece(id, true);
    std::vector<int> bytes;
    for (unsigned char c : piece) bytes.push_back(c);
    return nlohmann::json{{"token", token_label(piece)}, {"logprob", double(logits[size_t(id)]) - log_z}, {"bytes", bytes}};
  };
  nlohmann::json j = entry(token);
  nlohmann::json top = nlohmann::json::array();
  if (top_logprobs_ > 0) {
    std::vector<int32_t> ids(logits.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i);
    const size_t k = std::min<size_t>(top_logprobs_, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + long(k), ids.end(),
                      [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
    for (size_t i = 0; i < k; ++i) top.push_back(entry(ids[i]));
  }
  j["top_logprobs"] = std::move(top);
  return j;
}

bool GenerationStream::on_token(uint32_t index, int32_t token, std::span<const float> logits) {
  if (abandoned_) return false;
  const std::string text = utf8_[index].push(model_->tokenizer().token_to_piece(token, render_special_));
  StopMatcher::Result r = stops_[index].feed(text);
  Delta d;
  d.choice = index;
  d.text = std::move(r.emit);
  if (want_logprobs_) d.logprob = token_logprob(token, logits);
  {
    std::lock_guard<std::mutex> lock(mu_);
    results_[index].text += d.text;
    if (want_logprobs_) results_[index].logprobs.push_back(d.logprob);
    if (!d.text.empty() || want_logprobs_) queue_.push_back(std::move(d));
  }
  cv_.notify_all();
  return !r.stopped;
}

void GenerationStream::on_done(uint32_t index, const GenerationOutcome& outcome) {
  // Release text held back for a stop string or an unfinished character.
  std::string tail;
  StopMatcher::Result r = stops_[index].feed(utf8_[index].flush());
  tail = r.emit + stops_[index].flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ChoiceResult& res = results_[index];
    if (!tail.empty()) {
      res.text += tail;
      queue_.push_back({index, tail, nullptr});
    }
    res.outcome = outcome;
    res.finish_reason = outcome.reason == FinishReason::kLength || outcome.reason == FinishReason::kDeadline
                            ? "length"
                            : "stop";
    res.done = true;
  }
  cv_.notify_all();
}

bool GenerationStream::wait(std::chrono::milliseconds timeout, std::vector<Delta>& out) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_done = [&] {
    for (const auto& r : results_)
      if (!r.done) return false;
    return true;
  };
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || all_done(); });
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return all_done();
}

}  // namespace minnow
