#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <map>
#include <set>

#include "sampling/stop_matcher.h"

namespace minnow {
namespace {

std::vector<float> logits_of(std::initializer_list<float> v) { return std::vector<float>(v); }

TEST(Sampler, GreedyTakesArgmax) {
  Sampler s(SamplingParams::greedy());
  auto l = logits_of({0.1f, 3.0f, 2.9f, -1.0f});
  EXPECT_EQ(s.sample(l), 1);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDiffers) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  auto draw = [&](uint64_t seed) {
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> l(16);
      for (int j = 0; j < 16; ++j) l[size_t(j)] = float(j % 5);
      out.push_back(s.sample(l));
    }
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 3;
  Sampler s(p);
  std::map<int32_t, int> hits;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = logits_of({0.0f, std::log(2.0f), std::log(7.0f)});  // p = 0.1, 0.2, 0.7
    ++hits[s.sample(l)];
  }
  EXPECT_NEAR(hits[0] / double(n), 0.1, 0.015);
  EXPECT_NEAR(hits[1] / double(n), 0.2, 0.015);
  EXPECT_NEAR(hits[2] / double(n), 0.7, 0.015);
}

TEST(Sampler, TopKTopPAndMinPCutTheTail) {
  auto only = [](SamplingParams p) {
    p.temperature = 1.0f;
    std::set<int32_t> seen;
    Sampler s(p);
    for (int i = 0; i < 500; ++i) {
      auto l = logits_of({5.0f, 4.0f, 1.0f, 0.0f});
      seen.insert(s.sample(l));
    }
    return seen;
  };
  SamplingParams k;
  k.top_k = 2, k.top_p = 1.0f, k.min_p = 0.0f;
  EXPECT_EQ(only(k), (std::set<int32_t>{0, 1}));
  SamplingParams tp;
  tp.top_k = 0, tp.top_p = 0.5f, tp.min_p = 0.0f;  // token 0 alone holds ~70%
  EXPECT_EQ(only(tp), (std::set<int32_t>{0}));
  SamplingParams mp;
  mp.top_k = 0, mp.top_p = 1.0f, mp.min_p = 0.2f;  // p1/p0 = e^-1 > 0.2, p2/p0 = e^-4 < 0.2
  EXPECT_EQ(only(mp), (std::set<int32_t>{0, 1}));
}

TEST(Sampler, TemperatureSharpensTheWholeVocabulary) {
  SamplingParams p;
  p.temperature = 0.5f, p.top_k = 0, p.top_p = 1.0f, p.min_p = 0.0f, p.seed = 5;
  Sampler s(p);
  std::map<int32_t, int> hits;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = logits_of({0.0f, std::log(2.0f), std::log(7.0f)});  // at T = 0.5: 1 : 4 : 49
    ++hits[s.sample(l)];
  }
  EXPECT_NEAR(hits[0] / double(n), 1.0 / 54, 0.006);
  EXPECT_NEAR(hits[1] / double(n), 4.0 / 54, 0.01);
  EXPECT_NEAR(hits[2] / double(n), 49.0 / 54, 0.01);
}

// A vocabulary of 5000 in shuffled order (so neither the order nor one
// bucket does the work): top-p must keep exactly the smallest prefix of the
// sorted logits whose mass reaches p, and draw from it in proportion.
TEST(Sampler, TopPOnALargeVocabularyKeepsTheExactPrefix) {
  const size_t n = 5000;  // more than the 4096 buckets
  std::vector<int32_t> perm(n);
  for (size_t i = 0; i < n; ++i) perm[i] = int32_t(i);
  std::mt19937 rng(9);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<float> base(n);
  for (size_t rank = 0; rank < n; ++rank) base[size_t(perm[rank])] = -0.01f * float(rank);
  // The reference cut, by sorting: cumulative mass of ranks 0..k-1.
  double z = 0;
  for (size_t r = 0; r < n; ++r) z += std::exp(double(-0.01f * float(r)));
  size_t keep = 0;
  for (double cum = 0; keep < n && cum < 0.5 * z; ++keep) cum += std::exp(double(-0.01f * float(keep)));
  ASSERT_GT(keep, 50u);
  ASSERT_LT(keep, 100u);
  SamplingParams p;
  p.temperature = 1.0f, p.top_k = 0, p.top_p = 0.5f, p.min_p = 0.0f, p.seed = 11;
  Sampler s(p);
  std::vector<int> by_rank(n, 0);
  std::vector<int32_t> rank_of(n);
  for (size_t r = 0; r < n; ++r) rank_of[size_t(perm[r])] = int32_t(r);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    std::vector<float> l = base;
    ++by_rank[size_t(rank_of[size_t(s.sample(l))])];
  }
  for (size_t r = keep; r < n; ++r) ASSERT_EQ(by_rank[r], 0) << "rank " << r << " is past the top-p cut " << keep;
  EXPECT_GT(by_rank[keep - 1], 0);  // the last token of the prefix is in
  double kept_mass = 0;
  for (size_t r = 0; r < keep; ++r) kept_mass += std::exp(-0.01 * double(r));
  EXPECT_NEAR(by_rank[0] / double(draws), 1.0 / kept_mass, 0.008);
}

TEST(Sampler, NanLogitsAreNeverDrawnAndInfinityWins) {
  SamplingParams p;
  p.temperature = 1.0f, p.top_k = 0, p.top_p = 1.0f, p.min_p = 0.0f;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (float top_p : {1.0f, 0.9f}) {
    p.top_p = top_p;
    Sampler s(p);
    for (int i = 0; i < 200; ++i) {
      auto l = logits_of({nan, 1.0f, nan, 0.5f});
      const int32_t t = s.sample(l);
      EXPECT_TRUE(t == 1 || t == 3) << t;
    }
    auto l = logits_of({1.0f, inf, 3.0f});
    EXPECT_EQ(s.sample(l), 1);
    // Logits whose spread overflows a float still cut and draw.
    auto wide = logits_of({3e38f, -3e38f, 2.9e38f});
    EXPECT_EQ(s.sample(wide), 0);
  }
}

TEST(Sampler, PenaltiesAndBiasSteerGreedy) {
  SamplingParams p = SamplingParams::greedy();
  p.presence_penalty = 1.5f;
  Sampler s(p);
  ASSERT_TRUE(s.accept(0).ok());
  auto l = logits_of({2.0f, 1.0f});
  EXPECT_EQ(s.sample(l), 1);  // 2 - 1.5 < 1

  SamplingParams b = SamplingParams::greedy();
  b.logit_bias = {{0, -100.0f}};
  Sampler sb(b);
  auto l2 = logits_of({9.0f, 1.0f});
  EXPECT_EQ(sb.sample(l2), 1);

  SamplingParams r = SamplingParams::greedy();
  r.repeat_penalty = 3.0f;
  r.penalty_last_n = 1;
  Sampler sr(r);
  ASSERT_TRUE(sr.accept(0).ok());
  ASSERT_TRUE(sr.accept(1).ok());  // window of 1: only token 1 is penalized now
  auto l3 = logits_of({2.0f, 2.5f});
  EXPECT_EQ(sr.sample(l3), 0);
}

TEST(SamplingParams, BoundsAreEnforcedWithFieldNames) {
  SamplingParams p;
  EXPECT_TRUE(validate(p, 100).ok());
  p.temperature = -1;
  EXPECT_EQ(validate(p, 100).error().field(), "temperature");
  p = {};
  p.top_p = 1.5f;
  EXPECT_EQ(validate(p, 100).error().field(), "top_p");
  p = {};
  p.top_k = -3;
  EXPECT_FALSE(validate(p, 100).ok());
  p = {};
  p.logit_bias = {{100, 1.0f}};
  EXPECT_EQ(validate(p, 100).error().field(), "logit_bias");
  p = {};
  p.frequency_penalty = NAN;
  EXPECT_FALSE(validate(p, 100).ok());
}

TEST(StopMatcher, FindsStopsAcrossPiecesAndHoldsBackPrefixes) {
  StopMatcher m({"</s>", "\n\nUser:"});
  auto r = m.feed("Hello <");
  EXPECT_EQ(r.emit, "Hello ");
  EXPECT_FALSE(r.stopped);
  r = m.feed("/");
  EXPECT_EQ(r.emit, "");
  r = m.feed("x> and\n");
  EXPECT_EQ(r.emit, "</x> and");
  r = m.feed("\nUs");
  EXPECT_EQ(r.emit, "");
  r = m.feed("er: hi");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit, "");
  EXPECT_TRUE(m.feed("more").stopped);
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, FlushReleasesHeldText) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.feed("abcST").emit, "abc");
  EXPECT_EQ(m.flush(), "ST");
  StopMatcher none({});
  EXPECT_EQ(none.feed("x").emit, "x");
}

}  // namespace
}  // namespace minnow
