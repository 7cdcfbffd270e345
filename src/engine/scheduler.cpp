#include "engine/scheduler.h"

#include <algorithm>
#include <atomic>

namespace minnow {

using Clock = std::chrono::steady_clock;

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kDeadline: return "deadline";
    case FinishReason::kError: return "error";
  }
  return "error";
}

struct Scheduler::Pending {
  uint64_t id = 0;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  GenerationRequest req;
  Clock::time_point submitted, started, first_token;
  uint32_t n_cached = 0;
};

struct Scheduler::Slot {
  std::unique_ptr<InferenceContext> ctx;
  std::vector<int32_t> cached;  // tokens whose keys/values ctx holds
  std::unique_ptr<Pending> req; // null: free (cache kept for prefix reuse)
  size_t prompt_pos = 0;        // next prompt token to evaluate
  std::unique_ptr<Sampler> sampler;
  int32_t next_token = -1;      // sampled, not yet in the cache
  uint32_t generated = 0;
  std::vector<float> logits;
  std::vector<int32_t> batch_tokens;  // this step's input
};

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

Scheduler::Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options)
    : model_(std::move(model)), opt_(options) {}

Expected<std::unique_ptr<Scheduler>> Scheduler::create(std::shared_ptr<const Model> model, SchedulerOptions options) {
  if (options.n_slots == 0 || options.n_slots > 256) return out_of_range("must be in 1..256").with_field("parallel");
  if (options.step_tokens == 0) return out_of_range("must be positive").with_field("step_tokens");
  if (model->traits().encoder) return invalid_argument("encoder models cannot generate text");
  std::unique_ptr<Scheduler> s(new Scheduler(model, options));
  ContextParams cp;
  cp.n_ctx = options.n_ctx;
  cp.kv_type = options.kv_type;
  cp.n_threads = options.n_threads;
  cp.pool = std::make_shared<ThreadPool>(options.n_threads);  // slots take turns: one pool
  for (uint32_t i = 0; i < options.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    MINNOW_ASSIGN_OR_RETURN(slot->ctx, InferenceContext::create(model, cp));
    s->slots_.push_back(std::move(slot));
  }
  s->n_ctx_ = s->slots_[0]->ctx->n_ctx();
  s->stats_.n_slots = options.n_slots;
  s->stats_.kv_tokens_capacity = uint64_t(s->n_ctx_) * options.n_slots;
  s->worker_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

Scheduler::~Scheduler() { shutdown(std::chrono::milliseconds(0)); }

Expected<uint64_t> Scheduler::submit(GenerationRequest request) {
  if (request.prompt.empty()) return invalid_argument("the prompt is empty");
  const uint32_t n_vocab = model_->hparams().n_vocab;
  for (int32_t t : request.prompt)
    if (t < 0 || uint32_t(t) >= n_vocab)
      return out_of_range("token id " + std::to_string(t) + " is outside the vocabulary").with_field("prompt");
  if (request.prompt.size() >= n_ctx_)
    return out_of_range("the prompt has " + std::to_string(request.prompt.size()) +
                        " tokens; the context holds " + std::to_string(n_ctx_))
        .with_field("prompt");
  MINNOW_TRY(validate(request.sampling, n_vocab));
  auto p = std::make_unique<Pending>();
  p->req = std::move(request);
  p->submitted = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || draining_) return resource_limit("the server is shutting down");
  if (queue_.size() >= opt_.max_queue) return resource_limit("too many requests are waiting; retry shortly");
  p->id = next_id_++;
  const uint64_t id = p->id;
  cancel_flags_[id] = p->cancelled;
  queue_.push_back(std::move(p));
  stats_.queue_depth = uint32_t(queue_.size());
  cv_.notify_all();
  return id;
}

void Scheduler::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cancel_flags_.find(id);
  if (it == cancel_flags_.end()) return;  // already finished
  it->second->store(true);
  cv_.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool Scheduler::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return worker_.joinable() && !stopping_;
}

void Scheduler::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!worker_.joinable()) return;
    draining_ = true;
  }
  const auto until = Clock::now() + grace;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if ((stats_.busy_slots == 0 && queue_.empty()) || Clock::now() >= until) {
        stopping_ = true;
        cv_.notify_all();
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  worker_.join();
}

void Scheduler::finish(Slot& slot, FinishReason reason, const std::string& error) {
  std::unique_ptr<Pending> p = std::move(slot.req);
  slot.sampler.reset();
  slot.next_token = -1;
  {
    // Stats first: whoever on_done wakes may look at them right away.
    std::lock_guard<std::mutex> lock(mu_);
    cancel_flags_.erase(p->id);
    refresh_stats_locked();
  }
  GenerationOutcome out;
  out.reason = reason;
  out.error = error;
  out.n_prompt = uint32_t(p->req.prompt.size());
  out.n_cached = p->n_cached;
  out.n_generated = slot.generated;
  const auto now = Clock::now();
  out.queue_seconds = seconds(p->started - p->submitted);
  out.first_token_seconds = slot.generated ? seconds(p->first_token - p->submitted) : 0.0;
  out.total_seconds = seconds(now - p->submitted);
  if (p->req.on_done) p->req.on_done(out);
}

void Scheduler::refresh_stats_locked() {
  stats_.busy_slots = 0;
  stats_.kv_tokens_used = 0;
  for (auto& s : slots_) {
    if (!s->req) continue;
    ++stats_.busy_slots;
    stats_.kv_tokens_used += s->ctx->n_past();
  }
  stats_.queue_depth = uint32_t(queue_.size());
}

// Moves waiting requests into free slots, each to the slot whose cache shares
// the longest prefix with its prompt. Called with mu_ held.
void Scheduler::admit() {
  while (!queue_.empty()) {
    Slot* best = nullptr;
    size_t best_lcp = 0;
    const auto& prompt = queue_.front()->req.prompt;
    for (auto& s : slots_) {
      if (s->req) continue;
      const size_t lcp = common_prefix(s->cached, prompt);
      if (!best || lcp > best_lcp) {
        best = s.get();
        best_lcp = lcp;
      }
    }
    if (!best) return;
    // Keep at least one prompt token to evaluate: its logits start generation.
    const size_t reuse = std::min(best_lcp, prompt.size() - 1);
    best->req = std::move(queue_.front());
    queue_.pop_front();
    best->req->started = Clock::now();
    best->req->n_cached = uint32_t(reuse);
    best->ctx->truncate(uint32_t(reuse));
    best->cached.resize(reuse);
    best->prompt_pos = reuse;
    best->generated = 0;
    best->next_token = -1;
    const auto& grammar = best->req->req.grammar;
    best->sampler = std::make_unique<Sampler>(best->req->req.sampling,
                                              grammar ? std::make_unique<GrammarMatcher>(grammar) : nullptr);
    stats_.prompt_tokens += prompt.size();
    stats_.cached_prompt_tokens += reuse;
  }
}

void Scheduler::run() {
  for (;;) {
    std::vector<std::unique_ptr<Pending>> dropped;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        if (stopping_ || !queue_.empty()) return true;
        for (auto& s : slots_)
          if (s->req) return true;
        return false;
      });
      if (stopping_) {
        for (auto& p : queue_) dropped.push_back(std::move(p));
        queue_.clear();
      } else {
        // Cancelled requests still waiting never reach a slot.
        for (auto it = queue_.begin(); it != queue_.end();) {
          if ((*it)->cancelled->load()) {
            cancel_flags_.erase((*it)->id);
            dropped.push_back(std::move(*it));
            it = queue_.erase(it);
          } else {
            ++it;
          }
        }
        admit();
        // A request that left the queue counts as busy from now on, not from
        // the end of its first step: shutdown's drain (and /metrics) would
        // otherwise see neither it nor a queue, and stop it mid-prefill.
        refresh_stats_locked();
      }
    }
    for (auto& p : dropped) {
      GenerationOutcome out;
      out.reason = FinishReason::kCancelled;
      out.n_prompt = uint32_t(p->req.prompt.size());
      if (p->req.on_done) p->req.on_done(out);
    }
    bool stop_now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_now = stopping_;
    }
    const auto now = Clock::now();
    for (auto& s : slots_) {
      if (!s->req) continue;
      if (stop_now || s->req->cancelled->load())
        finish(*s, FinishReason::kCancelled);
      else if (now > s->req->req.deadline)
        finish(*s, FinishReason::kDeadline);
    }
    if (stop_now) break;
    step();
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.steps;
    refresh_stats_locked();
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.busy_slots = 0;
  stats_.kv_tokens_used = 0;
  stats_.queue_depth = 0;
}

// One forward pass: every generating slot feeds its last token; prompts fill
// the rest of the token budget in chunks.
bool Scheduler::step() {
  std::vector<Slot*> batch;
  uint32_t budget = opt_.step_tokens;
  for (auto& s : slots_) {
    if (!s->req || s->next_token < 0) continue;
    if (s->ctx->n_past() + 1 > n_ctx_) {
      finish(*s, FinishReason::kLength);
      continue;
    }
    s->batch_tokens = {s->next_token};
    batch.push_back(s.get());
    budget = budget > 0 ? budget - 1 : 0;
  }
  for (auto& s : slots_) {
    if (!s->req || s->next_token >= 0 || budget == 0) continue;
    const auto& prompt = s->req->req.prompt;
    const size_t chunk = std::min<size_t>(prompt.size() - s->prompt_pos, budget);
    s->batch_tokens.assign(prompt.begin() + long(s->prompt_pos), prompt.begin() + long(s->prompt_pos + chunk));
    budget -= uint32_t(chunk);
    batch.push_back(s.get());
  }
  if (batch.empty()) return false;

  std::vector<DecodeItem> items;
  for (Slot* s : batch) items.push_back({s->ctx.get(), s->batch_tokens, false, &s->logits});
  Status st = decode_batch(items);
  if (!st.ok()) {
    for (Slot* s : batch) finish(*s, FinishReason::kError, st.error().to_string());
    return true;
  }
  for (Slot* s : batch) {
    s->cached.insert(s->cached.end(), s->batch_tokens.begin(), s->batch_tokens.end());
    Pending& p = *s->req;
    if (s->next_token < 0) {
      s->prompt_pos += s->batch_tokens.size();
      if (s->prompt_pos < p.req.prompt.size()) continue;  // more prompt to go
    }
    // The model's own distribution, for logprobs (sampling rewrites s->logits).
    std::vector<float> raw;
    if (p.req.want_logits) raw = s->logits;
    const int32_t token = s->sampler->sample(s->logits);
    if (token == Sampler::kNoToken) {
      finish(*s, FinishReason::kError, "grammar: no token of the vocabulary can continue the output");
      continue;
    }
    if (Status accepted = s->sampler->accept(token); !accepted.ok()) {
      finish(*s, FinishReason::kError, accepted.error().to_string());
      continue;
    }
    if (s->generated++ == 0) p.first_token = Clock::now();
    const auto& stops = p.req.stop_tokens;
    if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
      finish(*s, FinishReason::kStop);
      continue;
    }
    if (p.req.on_token && !p.req.on_token(token, raw)) {
      finish(*s, FinishReason::kStop);
      continue;
    }
    if (s->sampler->grammar_complete()) {  // the constrained output is whole
      finish(*s, FinishReason::kStop);
      continue;
    }
    if (s->generated >= p.req.max_tokens) {
      finish(*s, FinishReason::kLength);
      continue;
    }
    s->next_token = token;
  }
  return true;
}

}  // namespace minnow
