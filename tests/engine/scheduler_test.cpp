#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "gguf/tiny_model.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

struct StreamRun {
  std::vector<int32_t> tokens;
  GenerationOutcome outcome;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_tiny_model({}).write(dir_.file("m.gguf")).ok());
    auto m = Model::load(dir_.file("m.gguf"));
    ASSERT_TRUE(m.ok());
    model_ = *m;
  }

  // Plain greedy decoding with one context: the reference for the scheduler.
  std::vector<int32_t> greedy_alone(const std::vector<int32_t>& prompt, uint32_t n) {
    auto ctx = std::move(*InferenceContext::create(model_, {128, KvType::kF16}));
    auto logits = *ctx->decode(prompt);
    std::vector<int32_t> out;
    for (uint32_t i = 0; i < n; ++i) {
      out.push_back(int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin()));
      if (i + 1 < n) logits = *ctx->decode(std::vector<int32_t>{out.back()});
    }
    return out;
  }

  // Submits and returns a future of the generated tokens and outcome.
  std::future<StreamRun> submit(Scheduler& s, std::vector<int32_t> prompt, uint32_t max_tokens,
                          std::function<bool(size_t)> keep_going = {}, uint64_t* id = nullptr) {
    auto run = std::make_shared<StreamRun>();
    auto done = std::make_shared<std::promise<StreamRun>>();
    GenerationRequest r;
    r.prompt = std::move(prompt);
    r.sampling = SamplingParams::greedy();
    r.max_tokens = max_tokens;
    r.on_token = [run, keep_going](int32_t t, std::span<const float>) {
      run->tokens.push_back(t);
      return keep_going ? keep_going(run->tokens.size()) : true;
    };
    r.on_done = [run, done](const GenerationOutcome& o) {
      run->outcome = o;
      done->set_value(*run);
    };
    auto submitted = s.submit(std::move(r));
    EXPECT_TRUE(submitted.ok()) << submitted.error().to_string();
    if (id && submitted.ok()) *id = *submitted;
    return done->get_future();
  }

  test::TempDir dir_;
  std::shared_ptr<const Model> model_;
};

TEST_F(SchedulerTest, ConcurrentGreedyStreamsMatchRunningAlone) {
  SchedulerOptions opt;
  opt.n_slots = 4;
  opt.n_ctx = 128;
  auto s = std::move(*Scheduler::create(model_, opt));
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 8; ++i) prompts.push_back({1, 10 + i, 20 + 2 * i, 30, 40 + i});
  std::vector<std::future<StreamRun>> runs;
  for (auto& p : prompts) runs.push_back(submit(*s, p, 12));
  for (size_t i = 0; i < prompts.size(); ++i) {
    StreamRun r = runs[i].get();
    EXPECT_EQ(r.tokens, greedy_alone(prompts[i], 12)) << "stream " << i;
    EXPECT_EQ(r.outcome.reason, FinishReason::kLength);
    EXPECT_EQ(r.outcome.n_generated, 12u);
    EXPECT_EQ(r.outcome.n_prompt, 5u);
  }
  s->shutdown(std::chrono::milliseconds(1000));
  EXPECT_EQ(s->stats().busy_slots, 0u);
}

TEST_F(SchedulerTest, ChunkedPrefillGivesTheSameTokens) {
  SchedulerOptions opt;
  opt.n_slots = 2;
  opt.n_ctx = 128;
  opt.step_tokens = 3;  // a 40-token prompt takes many steps
  auto s = std::move(*Scheduler::create(model_, opt));
  std::vector<int32_t> prompt;
  for (int i = 0; i < 40; ++i) prompt.push_back((i * 37) % 256);
  auto a = submit(*s, prompt, 6);
  auto b = submit(*s, {1, 2, 3}, 6);
  EXPECT_EQ(a.get().tokens, greedy_alone(prompt, 6));
  EXPECT_EQ(b.get().tokens, greedy_alone({1, 2, 3}, 6));
}

TEST_F(SchedulerTest, SharedPrefixIsServedFromCache) {
  SchedulerOptions opt;
  opt.n_slots = 1;
  opt.n_ctx = 128;
  auto s = std::move(*Scheduler::create(model_, opt));
  std::vector<int32_t> system = {1, 50, 51, 52, 53, 54, 55, 56};
  auto first = system, second = system;
  first.push_back(100);
  second.push_back(101);
  StreamRun r1 = submit(*s, first, 4).get();
  StreamRun r2 = submit(*s, second, 4).get();
  EXPECT_EQ(r1.outcome.n_cached, 0u);
  EXPECT_EQ(r2.outcome.n_cached, system.size());
  EXPECT_EQ(r2.tokens, greedy_alone(second, 4));
  EXPECT_EQ(s->stats().cached_prompt_tokens, system.size());
}

TEST_F(SchedulerTest, CancelAndStopFreeTheSlotWithoutDisturbingOthers) {
  SchedulerOptions opt;
  opt.n_slots = 3;
  opt.n_ctx = 128;
  auto s = std::move(*Scheduler::create(model_, opt));
  uint64_t victim_id = 0;
  std::promise<void> started, cancelled;
  std::shared_future<void> cancel_issued = cancelled.get_future().share();
  bool signalled = false;
  // The victim's second token waits (on the scheduler thread) until cancel()
  // has been called: otherwise a fast machine finishes all 100 tokens first.
  auto victim = submit(*s, {1, 7, 7}, 100, [&, cancel_issued](size_t n) {
    if (n == 2 && !signalled) {
      signalled = true;
      started.set_value();
      cancel_issued.wait();
    }
    return true;
  }, &victim_id);
  auto stopper = submit(*s, {1, 8, 8}, 100, [](size_t n) { return n < 3; });  // a stop string after 3 tokens
  auto survivor = submit(*s, {1, 9, 9}, 10);
  started.get_future().wait();
  s->cancel(victim_id);
  cancelled.set_value();
  StreamRun v = victim.get();
  EXPECT_EQ(v.outcome.reason, FinishReason::kCancelled);
  EXPECT_LT(v.tokens.size(), 100u);
  StreamRun st = stopper.get();
  EXPECT_EQ(st.outcome.reason, FinishReason::kStop);
  EXPECT_EQ(st.tokens.size(), 3u);
  EXPECT_EQ(survivor.get().tokens, greedy_alone({1, 9, 9}, 10));
  s->shutdown(std::chrono::milliseconds(1000));
  EXPECT_EQ(s->stats().busy_slots, 0u);
  EXPECT_EQ(s->stats().kv_tokens_used, 0u);
}

// A request is busy from the moment it leaves the queue. It used to count
// only from the end of its first step, so a shutdown issued meanwhile saw
// an idle scheduler and cancelled the request instead of letting it finish.
TEST_F(SchedulerTest, ShutdownDuringTheFirstStepLetsTheRequestFinish) {
  SchedulerOptions opt;
  opt.n_slots = 2;
  opt.n_ctx = 128;
  auto s = std::move(*Scheduler::create(model_, opt));
  uint32_t busy_at_first_token = 0;
  std::future<void> stopping;
  auto run = submit(*s, {1, 5, 6, 7}, 12, [&](size_t n) {
    if (n == 1) {  // on the scheduler thread, inside the first step
      busy_at_first_token = s->stats().busy_slots;
      stopping = std::async(std::launch::async, [&] { s->shutdown(std::chrono::milliseconds(5000)); });
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // time for shutdown to look at the stats
    }
    return true;
  });
  const StreamRun r = run.get();
  stopping.wait();
  EXPECT_EQ(busy_at_first_token, 1u);
  EXPECT_EQ(r.outcome.reason, FinishReason::kLength);
  EXPECT_EQ(r.tokens, greedy_alone({1, 5, 6, 7}, 12));
}

TEST_F(SchedulerTest, StopTokensEndGeneration) {
  auto s = std::move(*Scheduler::create(model_, {1, 128}));
  const auto expected = greedy_alone({1, 2, 3}, 5);
  GenerationRequest r;
  r.prompt = {1, 2, 3};
  r.sampling = SamplingParams::greedy();
  r.max_tokens = 50;
  r.stop_tokens = {expected[2]};
  r.want_logits = true;
  std::vector<int32_t> got;
  std::promise<GenerationOutcome> done;
  r.on_token = [&](int32_t t, std::span<const float> logits) {
    EXPECT_EQ(logits.size(), 288u);
    got.push_back(t);
    return true;
  };
  r.on_done = [&](const GenerationOutcome& o) { done.set_value(o); };
  ASSERT_TRUE(s->submit(std::move(r)).ok());
  auto o = done.get_future().get();
  EXPECT_EQ(o.reason, FinishReason::kStop);
  EXPECT_EQ(got, std::vector<int32_t>(expected.begin(), expected.begin() + 2));
}

TEST_F(SchedulerTest, RejectsWhatCannotRun) {
  SchedulerOptions opt;
  opt.n_slots = 1;
  opt.n_ctx = 16;
  opt.max_queue = 1;
  auto s = std::move(*Scheduler::create(model_, opt));
  GenerationRequest r;
  r.prompt = std::vector<int32_t>(16, 5);
  EXPECT_EQ(s->submit(r).error().code(), ErrorCode::kOutOfRange);
  r.prompt = {300000};
  EXPECT_EQ(s->submit(r).error().field(), "prompt");
  r.prompt = {};
  EXPECT_FALSE(s->submit(r).ok());
  r.prompt = {1};
  r.sampling.temperature = 9;
  EXPECT_EQ(s->submit(r).error().field(), "temperature");
  EXPECT_FALSE(Scheduler::create(model_, {0, 16}).ok());
}

TEST_F(SchedulerTest, FullQueueIsReportedNotBlocked) {
  SchedulerOptions opt;
  opt.n_slots = 1;
  opt.n_ctx = 64;
  opt.max_queue = 2;
  auto s = std::move(*Scheduler::create(model_, opt));
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::vector<std::future<StreamRun>> runs;
  runs.push_back(submit(*s, {1, 2}, 40, [gate](size_t) {
    gate.wait();
    return true;
  }));
  int rejected = 0;
  for (int i = 0; i < 6; ++i) {
    GenerationRequest r;
    r.prompt = {1, 3};
    r.max_tokens = 1;
    r.on_done = [](const GenerationOutcome&) {};
    auto id = s->submit(std::move(r));
    if (!id.ok()) {
      EXPECT_EQ(id.error().code(), ErrorCode::kResourceLimit);
      ++rejected;
    }
  }
  EXPECT_GE(rejected, 3);
  release.set_value();
  runs[0].get();
}

}  // namespace
}  // namespace minnow
