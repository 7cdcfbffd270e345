// Throughput of the scalar reference codecs, per type: the baseline the
// SIMD kernels are measured against. Bytes processed = f32 values * 4.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace {

using minnow::GgmlType;

constexpr size_t kValues = 4096 * 16;  // 16 rows of a 4096-wide matrix

std::vector<float> normal_values() {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> v(kValues);
  for (auto& x : v) x = dist(rng);
  return v;
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const auto values = normal_values();
  std::vector<uint8_t> bytes(*minnow::quantized_size(type, kValues));
  (void)minnow::quantize(type, values, bytes);
  std::vector<float> out(kValues);
  for (auto _ : state) {
    benchmark::DoNotOptimize(minnow::dequantize(type, bytes, out).ok());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kValues * 4));
}

void BM_Quantize(benchmark::State& state, GgmlType type) {
  const auto values = normal_values();
  std::vector<uint8_t> bytes(*minnow::quantized_size(type, kValues));
  for (auto _ : state) {
    benchmark::DoNotOptimize(minnow::quantize(type, values, bytes).ok());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kValues * 4));
}

#define MINNOW_QUANT_BENCH(T)                                   \
  BENCHMARK_CAPTURE(BM_Dequantize, T, GgmlType::T);             \
  BENCHMARK_CAPTURE(BM_Quantize, T, GgmlType::T)->Unit(benchmark::kMicrosecond)

MINNOW_QUANT_BENCH(F16);
MINNOW_QUANT_BENCH(BF16);
MINNOW_QUANT_BENCH(Q8_0);
MINNOW_QUANT_BENCH(Q4_0);
MINNOW_QUANT_BENCH(Q4_1);
MINNOW_QUANT_BENCH(Q5_0);
MINNOW_QUANT_BENCH(Q5_1);
MINNOW_QUANT_BENCH(Q2_K);
MINNOW_QUANT_BENCH(Q3_K);
MINNOW_QUANT_BENCH(Q4_K);
MINNOW_QUANT_BENCH(Q5_K);
MINNOW_QUANT_BENCH(Q6_K);
MINNOW_QUANT_BENCH(Q8_K);
MINNOW_QUANT_BENCH(IQ4_NL);
MINNOW_QUANT_BENCH(IQ4_XS);

}  // namespace
