// One token drawn from a 151936-entry vocabulary (Qwen's) with the
// sampling settings clients send most: OpenAI's defaults (T = 1, nothing
// cut), top-k 40, top-p 0.9 and min-p 0.05. Logits are Gaussian, a flat
// distribution: the worst case for top-p.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "sampling/sampler.h"

namespace {

using namespace minnow;

void BM_SampleToken(benchmark::State& state) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> base(151936), logits;
  for (float& x : base) x = d(rng);
  SamplingParams p;
  p.temperature = 1.0f, p.top_k = 0, p.top_p = 1.0f, p.min_p = 0.0f;
  switch (state.range(0)) {
    case 1: p.top_k = 40; break;
    case 2: p.top_p = 0.9f; break;
    case 3: p.min_p = 0.05f; break;
    default: break;
  }
  Sampler s(p);
  for (auto _ : state) {
    logits = base;  // sampling rewrites them
    benchmark::DoNotOptimize(s.sample(logits));
  }
}

// 0: OpenAI defaults, 1: top-k 40, 2: top-p 0.9, 3: min-p 0.05.
BENCHMARK(BM_SampleToken)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace
