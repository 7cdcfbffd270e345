// Parse speed of the GGUF reader (metadata-heavy: a 150k-token vocabulary).
#include <benchmark/benchmark.h>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/dequantize.h"

namespace {

void BM_ParseLargeVocab(benchmark::State& state) {
  minnow::GgufWriter w;
  std::vector<std::string> tokens;
  for (int i = 0; i < 151936; ++i) tokens.push_back("tok" + std::to_string(i));
  w.set("tokenizer.ggml.tokens", minnow::GgufValue::string_array(tokens));
  const auto bytes = w.serialize();
  for (auto _ : state) {
    auto f = minnow::GgufFile::parse(bytes);
    benchmark::DoNotOptimize(f.ok());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
}
BENCHMARK(BM_ParseLargeVocab)->Unit(benchmark::kMillisecond);

void BM_DequantF16(benchmark::State& state) {
  std::vector<uint8_t> src(2 * 4096 * 64, 0x3c);
  std::vector<float> dst(4096 * 64);
  for (auto _ : state) benchmark::DoNotOptimize(minnow::dequantize(minnow::GgmlType::F16, src, dst).ok());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(src.size()));
}
BENCHMARK(BM_DequantF16);

}  // namespace
