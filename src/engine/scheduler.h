// Continuous batching over one model: up to n_slots sequences decode together,
// new requests join between steps, long prompts are prefilled in chunks so
// running streams keep flowing, and a slot keeps its KV cache after a request
// so the next one that shares the prefix (a system prompt) skips recomputing it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/context.h"
#include "sampling/grammar_matcher.h"
#include "sampling/sampler.h"

namespace minnow {

enum class FinishReason { kStop, kLength, kCancelled, kDeadline, kError };
const char* finish_reason_name(FinishReason r);

struct GenerationOutcome {
  FinishReason reason = FinishReason::kStop;
  uint32_t n_prompt = 0;
  uint32_t n_cached = 0;  // prompt tokens served from the prefix cache
  uint32_t n_generated = 0;
  double queue_seconds = 0;
  double first_token_seconds = 0;  // from submit
  double total_seconds = 0;
  std::string error;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  uint32_t max_tokens = 256;
  std::vector<int32_t> stop_tokens;  // end of generation (EOS, EOT, <|im_end|>...)
  std::shared_ptr<GrammarAutomaton> grammar;  // constrained decoding when set
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // On the scheduler thread, per generated token with its raw logits (an
  // empty span unless want_logits: copying 150k floats per token and
  // sequence is not free). Return false to end the request (stop string
  // seen, client gone).
  bool want_logits = false;
  std::function<bool(int32_t token, std::span<const float> logits)> on_token;
  // Exactly once, last.
  std::function<void(const GenerationOutcome&)> on_done;
};

struct SchedulerOptions {
  uint32_t n_slots = 4;
  uint32_t n_ctx = 0;         // per slot; 0: min(training context, 4096)
  uint32_t step_tokens = 256; // token budget of one forward pass (decode + prompt chunks)
  uint32_t max_queue = 64;    // waiting requests beyond the busy slots
  KvType kv_type = KvType::kF16;
  uint32_t n_threads = 0;     // 0: one per core
};

struct SchedulerStats {
  uint32_t n_slots = 0;
  uint32_t busy_slots = 0;
  uint32_t queue_depth = 0;
  uint64_t kv_tokens_used = 0;  // tokens held in caches of busy slots
  uint64_t kv_tokens_capacity = 0;
  uint64_t prompt_tokens = 0;   // lifetime
  uint64_t cached_prompt_tokens = 0;
  uint64_t steps = 0;
};

class Scheduler {
 public:
  static Expected<std::unique_ptr<Scheduler>> create(std::shared_ptr<const Model> model, SchedulerOptions options);
  ~Scheduler();

  const Model& model() const { return *model_; }
  uint32_t n_ctx() const { return n_ctx_; }

  // Queues a request; fails (kResourceLimit) when the queue is full and
  // (kInvalidArgument/kOutOfRange) when the prompt cannot fit a slot.
  Expected<uint64_t> submit(GenerationRequest request);
  // Ends a request at the next step; its on_done reports kCancelled.
  void cancel(uint64_t id);
  SchedulerStats stats() const;
  // Stops taking work; waits up to `grace` for running requests, then cancels the rest.
  void shutdown(std::chrono::milliseconds grace);
  // True while the worker thread is alive and stepping when there is work.
  bool healthy() const;

 private:
  struct Slot;
  struct Pending;
  Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options);
  void run();
  bool step();
  void admit();
  void finish(Slot& slot, FinishReason reason, const std::string& error = {});
  void refresh_stats_locked();  // with mu_ held

  std::shared_ptr<const Model> model_;
  SchedulerOptions opt_;
  uint32_t n_ctx_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  std::unordered_map<uint64_t, std::shared_ptr<std::atomic<bool>>> cancel_flags_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool draining_ = false;
  SchedulerStats stats_;
  std::thread worker_;
};

}  // namespace minnow
