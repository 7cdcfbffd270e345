// The vectorised row ops against their scalar twins, on qwen2.5-0.5b's
// shapes: one 896-wide row (norms), 14 + 2 heads of 64 (RoPE of q and k),
// 4864 FFN values (SiLU/GELU x up), 151936 logits (soft-capping).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/activations.h"
#include "kernels/norms.h"
#include "kernels/rope.h"
#include "model/ops.h"

namespace {

using namespace minnow;

std::vector<float> random_values(size_t n) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

void BM_RmsNorm(benchmark::State& state) {
  std::vector<float> x = random_values(896), w = random_values(896);
  for (auto _ : state) {
    if (state.range(0))
      kernels::rms_norm(x.data(), w.data(), x.size(), 1e-6f);
    else
      ops::rms_norm(x.data(), w.data(), x.size(), 1e-6f);
    benchmark::DoNotOptimize(x.data());
  }
}

void BM_LayerNorm(benchmark::State& state) {
  std::vector<float> x = random_values(896), w = random_values(896), b = random_values(896);
  for (auto _ : state) {
    if (state.range(0))
      kernels::layer_norm(x.data(), w.data(), b.data(), x.size(), 1e-5f);
    else
      ops::layer_norm(x.data(), w.data(), b.data(), x.size(), 1e-5f);
    benchmark::DoNotOptimize(x.data());
  }
}

// Per token: 0 = the scalar rope of q and k (angles recomputed per call, as
// every layer did before), 1 = angles once, then the vector rotation.
void BM_Rope(benchmark::State& state) {
  std::vector<float> q = random_values(14 * 64), k = random_values(2 * 64), c(32), s(32);
  int64_t pos = 100;
  for (auto _ : state) {
    if (state.range(0)) {
      ops::rope_angles(pos, 64, 1e6f, 1.0f, nullptr, 1.0f, c.data(), s.data());
      kernels::rope_rotate(q.data(), 14, 64, 64, c.data(), s.data(), true);
      kernels::rope_rotate(k.data(), 2, 64, 64, c.data(), s.data(), true);
    } else {
      ops::rope(q.data(), 14, 64, 64, pos, 1e6f, 1.0f, nullptr, ops::RopeStyle::kNeox);
      ops::rope(k.data(), 2, 64, 64, pos, 1e6f, 1.0f, nullptr, ops::RopeStyle::kNeox);
    }
    benchmark::DoNotOptimize(q.data());
  }
}

// act = f(g) * up over one token's FFN values: the vector kernel or the
// scalar twin's f applied element by element.
template <void (*kVector)(const float*, const float*, float*, size_t), float (*kScalar)(float)>
void BM_GatedActivation(benchmark::State& state) {
  std::vector<float> g = random_values(4864), up = random_values(4864), out(4864);
  for (auto _ : state) {
    if (state.range(0))
      kVector(g.data(), up.data(), out.data(), g.size());
    else
      for (size_t i = 0; i < g.size(); ++i) out[i] = kScalar(g[i]) * up[i];
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Softcap(benchmark::State& state) {
  std::vector<float> x = random_values(151936);
  for (auto _ : state) {
    if (state.range(0))
      kernels::softcap(x.data(), x.size(), 30.0f);
    else
      ops::softcap(x.data(), x.size(), 30.0f);
    benchmark::DoNotOptimize(x.data());
  }
}

// Arg 0: scalar twin, 1: AVX2.
BENCHMARK(BM_RmsNorm)->Arg(0)->Arg(1);
BENCHMARK(BM_LayerNorm)->Arg(0)->Arg(1);
BENCHMARK(BM_Rope)->Arg(0)->Arg(1);
BENCHMARK(BM_GatedActivation<kernels::gelu_mul, ops::gelu_tanh>)->Name("BM_GeluMul")->Arg(0)->Arg(1);
BENCHMARK(BM_GatedActivation<kernels::silu_mul, ops::silu>)->Name("BM_SiluMul")->Arg(0)->Arg(1);
BENCHMARK(BM_Softcap)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
