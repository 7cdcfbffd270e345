// Bridges the scheduler thread (which produces tokens) and an HTTP thread
// (which writes them out): per choice, token -> bytes -> valid UTF-8 -> stop
// strings -> text deltas, queued under one lock the HTTP thread waits on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "engine/text_model.h"
#include "sampling/stop_matcher.h"

namespace minnow {

struct Delta {
  uint32_t choice = 0;
  std::string text;
  nlohmann::json logprob;  // null unless logprobs were asked for
};

struct ChoiceResult {
  std::string text;                        // everything emitted
  nlohmann::json logprobs = nlohmann::json::array();
  bool done = false;
  GenerationOutcome outcome;
  std::string finish_reason;               // "stop" | "length"
};

// A token's text for logprobs' "token" fields: the piece when it is valid
// UTF-8, else OpenAI's "bytes:\xNN..." spelling (a piece that is half a
// character must not turn into U+FFFD, where different tokens would print
// alike and collide as keys of the legacy top_logprobs objects).
std::string token_label(const std::string& piece);

// Owned by shared_ptr: the scheduler's callbacks keep it alive until the
// last choice reports, even after the HTTP side has gone.
class GenerationStream : public std::enable_shared_from_this<GenerationStream> {
 public:
  GenerationStream(std::shared_ptr<const TextModel> model, uint32_t n_choices, std::vector<std::string> stop,
                   uint32_t top_logprobs, bool want_logprobs);

  // Builds the scheduler request for choice `index` (callbacks bound to this).
  GenerationRequest make_request(uint32_t index, std::vector<int32_t> prompt, const SamplingParams& sampling,
                                 uint32_t max_tokens, std::chrono::steady_clock::time_point deadline,
                                 bool ignore_eos = false);
  void set_request_id(uint32_t index, uint64_t id);

  // Waits up to `timeout` for news; moves queued deltas out. Returns true
  // when every choice has finished (and nothing is left queued).
  bool wait(std::chrono::milliseconds timeout, std::vector<Delta>& out);
  const ChoiceResult& result(uint32_t index) const { return results_[index]; }
  std::vector<uint64_t> request_ids() const;
  // Control tokens appear in the text (tool-call markers such as
  // [TOOL_CALLS] are control tokens). Set before submitting.
  void render_special_tokens(bool on) { render_special_ = on; }
  // The client went away: the scheduler stops these at its next step.
  void mark_abandoned() { abandoned_ = true; }

 private:
  bool on_token(uint32_t index, int32_t token, std::span<const float> logits);
  void on_done(uint32_t index, const GenerationOutcome& outcome);
  nlohmann::json token_logprob(int32_t token, std::span<const float> logits) const;

  std::shared_ptr<const TextModel> model_;
  std::vector<std::string> stop_;
  uint32_t top_logprobs_;
  bool want_logprobs_;
  bool render_special_ = false;
  std::atomic<bool> abandoned_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delta> queue_;
  std::vector<ChoiceResult> results_;
  std::vector<uint64_t> ids_;
  // Scheduler-thread state per choice.
  std::vector<Utf8StreamBuffer> utf8_;
  std::vector<StopMatcher> stops_;
};

}  // namespace minnow
