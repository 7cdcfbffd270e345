// Micro-benchmarks of every dot kernel on every ISA this CPU runs, and of the
// threaded matmul. Reported bytes/s are weight bytes, so the in-cache rows
// (DotRow, 1 row) show the kernels' compute ceiling and the matvec rows
// (a 4864x896 matrix, ~2-5 MB) how close a decode step can get to memory speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "base/half.h"
#include "base/huge_pages.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/membw.h"
#include "quant/quantize.h"

namespace {

using namespace minnow;
using namespace minnow::kernels;

constexpr GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0,
                               GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                               GgmlType::IQ4_XS};

struct Matrix {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

Matrix random_matrix(GgmlType type, uint64_t cols, uint64_t rows) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> v(cols * rows);
  for (auto& f : v) f = dist(rng);
  Matrix m;
  const size_t row_bytes = *quantized_size(type, cols);
  m.bytes.resize(row_bytes * rows);
  if (type == GgmlType::F32)
    std::memcpy(m.bytes.data(), v.data(), m.bytes.size());
  else
    (void)quantize(type, v, m.bytes);
  m.w = {m.bytes.data(), type, cols, rows, row_bytes};
  return m;
}

void BM_DotRow(benchmark::State& state, Isa isa, GgmlType type) {
  const KernelTable* table = kernel_table_for(isa);
  if (!table) return state.SkipWithError("ISA not supported here");
  const Matrix m = random_matrix(type, 4864, 1);
  const DotKernel k = table->for_type(type);
  std::vector<float> x(4864, 0.5f);
  std::vector<uint8_t> act(act_row_bytes(k.act, 4864));
  quantize_act(k.act, x.data(), act.data(), 4864);
  for (auto _ : state) benchmark::DoNotOptimize(k.dot(m.w.data, act.data(), 4864));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.w.row_bytes));
}

void BM_Matvec(benchmark::State& state, Isa isa, GgmlType type) {
  const KernelTable* table = kernel_table_for(isa);
  if (!table) return state.SkipWithError("ISA not supported here");
  const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 4864 : 896, rows = cols == 896 ? 4864 : 896;
  const Matrix m = random_matrix(type, cols, rows);
  ThreadPool pool(unsigned(state.range(0)));
  std::vector<float> x(cols, 0.5f), y(rows);
  for (auto _ : state) matmul(*table, m.w, x.data(), 1, y.data(), &pool);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.bytes.size()));
}

// The same matvec on weights repacked into panels (what the model does at
// load on paths that set PanelKernel::prepack), and 8 tokens (batched
// decode) on either layout.
void BM_MatvecPanels(benchmark::State& state, Isa isa, GgmlType type) {
  const KernelTable* table = kernel_table_for(isa);
  if (!table) return state.SkipWithError("ISA not supported here");
  if (state.range(1) && !table->for_type(type).panel.unpack_row)
    return state.SkipWithError("no prepackable panel for this type");
  const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 4864 : 896, rows = cols == 896 ? 4864 : 896;
  const Matrix m = random_matrix(type, cols, rows);
  std::vector<uint8_t> packed(m.bytes.size());
  const WeightMatrix w = state.range(1) ? prepack(*table, m.w, packed.data()) : m.w;
  ThreadPool pool(unsigned(state.range(0)));
  const uint32_t n_tokens = uint32_t(state.range(2));
  std::vector<float> x(cols * n_tokens, 0.5f), y(rows * n_tokens);
  for (auto _ : state) matmul(*table, w, x.data(), n_tokens, y.data(), &pool);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.bytes.size()));
}

// Repacking a matrix into the path's panels, as the model does at load, on
// range(0) threads: bytes of rows per second.
void BM_Prepack(benchmark::State& state, Isa isa, GgmlType type) {
  const KernelTable* table = kernel_table_for(isa);
  if (!table) return state.SkipWithError("ISA not supported here");
  const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 4864 : 896, rows = cols == 896 ? 4864 : 896;
  if (!wants_prepack(*table, type, cols, rows)) return state.SkipWithError("not repacked on this path");
  const Matrix m = random_matrix(type, cols, rows);
  std::vector<uint8_t> packed(m.bytes.size());
  ThreadPool pool(unsigned(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(prepack(*table, m.w, packed.data(), &pool).data);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.bytes.size()));
}

void BM_MatmulPrefill(benchmark::State& state, Isa isa, GgmlType type) {
  const KernelTable* table = kernel_table_for(isa);
  if (!table) return state.SkipWithError("ISA not supported here");
  const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 4864 : 896, rows = cols == 896 ? 4864 : 896;
  const Matrix m = random_matrix(type, cols, rows);
  const uint32_t n_tokens = 64;
  ThreadPool pool(unsigned(state.range(0)));
  std::vector<float> x(cols * n_tokens, 0.5f), y(rows * n_tokens);
  for (auto _ : state) matmul(*table, m.w, x.data(), n_tokens, y.data(), &pool);
  state.counters["tokens/s"] = benchmark::Counter(double(state.iterations()) * n_tokens, benchmark::Counter::kIsRate);
}

// The tied output projection of qwen2.5-0.5b (151936 x 896 Q8_0, 136 MB):
// streamed from DRAM each step, once per token (1) or shared by a batch (8).
// Random blocks with a fixed small scale: speed does not depend on values.
// On huge pages, as the model's weights are.
void BM_OutputProjection(benchmark::State& state) {
  const KernelTable* table = kernel_table_for(best_supported_isa());
  const uint64_t cols = 896, rows = 151936;
  const size_t row_bytes = *quantized_size(GgmlType::Q8_0, cols), size = row_bytes * rows;
  HugePageBuffer bytes = allocate_huge_pages(size), packed;
  if (!bytes) return state.SkipWithError("no memory for the matrix");
  std::mt19937 rng(1);
  for (size_t i = 0; i < size; i += 34) {
    const uint16_t scale = 0x2000;  // fp16 ~0.0078
    std::memcpy(&bytes[i], &scale, 2);
    for (int k = 2; k < 34; ++k) bytes[i + k] = uint8_t(rng());
  }
  WeightMatrix w{bytes.get(), GgmlType::Q8_0, cols, rows, row_bytes};
  if (state.range(1)) {
    if (!table->for_type(GgmlType::Q8_0).panel.pack)
      return state.SkipWithError("no Q8_0 panels on this path");
    packed = allocate_huge_pages(size);
    if (!packed) return state.SkipWithError("no memory for the panels");
    w = prepack(*table, w, packed.get());
  }
  ThreadPool pool(2);
  const uint32_t n_tokens = uint32_t(state.range(0));
  std::vector<float> x(cols * n_tokens, 0.5f), y(rows * n_tokens);
  for (auto _ : state) matmul(*table, w, x.data(), n_tokens, y.data(), &pool);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(size));
}

// A decode step's matrices come from DRAM, not from cache as in the rows
// above: a stack of 4864 x 896 matrices (ffn_down's 896 x 4864 for K-quants;
// range(1) rows and range(2) columns when not 0),
// on huge pages as the model's weights are, each met once per iteration in
// turn, by range(0) tokens on 2 threads. The stack is 100 MB unless
// MINNOW_BENCH_STACK_MB says more: it must outgrow the last-level cache (a
// 480 MB L3 on Machine C). Kernel path as MINNOW_ISA picks. Set against
// MatvecPanels/<isa>/<type>/2/*/<tokens> (one matrix, in cache) and against
// `minnow bench --membw` it shows how much DRAM time stays outside the
// arithmetic.
void BM_MatvecStreamed(benchmark::State& state, GgmlType type) {
  const KernelTable* table = &kernel_table();
  const uint64_t default_cols = ggml_type_info(type)->block_elems >= 256 ? 4864 : 896;
  const uint64_t cols = state.range(2) ? uint64_t(state.range(2)) : default_cols;
  const uint64_t rows = state.range(1) ? uint64_t(state.range(1)) : cols == 896 ? 4864 : 896;
  const Matrix m = random_matrix(type, cols, rows);
  const char* stack_mb = std::getenv("MINNOW_BENCH_STACK_MB");
  const size_t mb = stack_mb ? size_t(std::max(1, std::atoi(stack_mb))) : 100;
  const size_t copies = std::max<size_t>(2, (mb << 20) / m.bytes.size());
  const size_t stride = (m.bytes.size() + 4095) / 4096 * 4096;
  HugePageBuffer arena = allocate_huge_pages(stride * copies);
  if (!arena) return state.SkipWithError("no memory for the stack");
  std::vector<WeightMatrix> ws;
  for (size_t c = 0; c < copies; ++c) {
    uint8_t* bytes = arena.get() + c * stride;
    std::memcpy(bytes, m.bytes.data(), m.bytes.size());
    WeightMatrix w = m.w;
    w.data = bytes;
    ws.push_back(wants_prepack(*table, w.type, w.n_cols, w.n_rows) ? prepack(*table, m.w, bytes) : w);
  }
  ThreadPool pool(2);
  const uint32_t n_tokens = uint32_t(state.range(0));
  std::vector<float> x(cols * n_tokens, 0.5f), y(rows * n_tokens);
  for (auto _ : state)
    for (const WeightMatrix& w : ws) matmul(*table, w, x.data(), n_tokens, y.data(), &pool);
  state.SetBytesProcessed(int64_t(state.iterations() * copies * m.bytes.size()));
  state.counters["matrices/s"] = benchmark::Counter(double(state.iterations() * copies), benchmark::Counter::kIsRate);
}

// Read bandwidth (`minnow bench --membw`'s probe) over a 1 GiB buffer on
// huge pages read in passes of range(0) KiB on 2 threads, one parallel_for
// each: decode's passes are 0.5-6 MB, and each costs a hand-off and a cold
// start of both threads' streams on top of its bytes.
void BM_ReadInPasses(benchmark::State& state) {
  ThreadPool pool(2);
  ReadBandwidthProbe probe(pool, size_t(1) << 30);
  double bw = 0;
  for (auto _ : state) bw = probe.measure_in_passes(1, size_t(state.range(0)) << 10);
  if (bw == 0) return state.SkipWithError("no memory for the buffer");
  state.counters["GB/s"] = bw / 1e9;
}

// One parallel_for of range(0) empty grains on 2 threads: the pool's
// hand-off (publish, the worker's wake from its spin, the claims, the
// finish count) that every decode pass pays on top of its work.
void BM_PoolHandOff(benchmark::State& state) {
  ThreadPool pool(2);
  std::atomic<size_t> sink{0};
  const size_t n = size_t(state.range(0));
  for (auto _ : state) pool.parallel_for(n, [&](size_t b, size_t e) { sink.fetch_add(e - b, std::memory_order_relaxed); });
  benchmark::DoNotOptimize(sink.load());
}

// Fused attention of one decode token over a qwen2.5-0.5b layer's F16 cache
// (14 query heads sharing 2 KV heads of 64) holding range(0) positions.
void BM_AttentionDecode(benchmark::State& state) {
  const uint32_t n_past = uint32_t(state.range(0)), n_head = 14, n_head_kv = 2, hd = 64;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<uint16_t> k(n_head_kv * key_elements(n_past + 1, hd)), v(k.size());
  for (auto& h : k) h = float_to_fp16(dist(rng));
  for (auto& h : v) h = float_to_fp16(dist(rng));
  std::vector<float> q(size_t(n_head) * hd), out(q.size());
  for (auto& f : q) f = dist(rng);
  AttentionArgs a;
  a.n_head = n_head, a.n_head_kv = n_head_kv, a.head_dim = hd, a.scale = 0.125f;
  a.q = q.data(), a.n_tokens = 1, a.pos0 = n_past, a.k = k.data(), a.v = v.data();
  a.head_stride = key_elements(n_past + 1, hd);
  a.out = out.data();
  for (auto _ : state) benchmark::DoNotOptimize(attention(a, nullptr));
}

// Fused attention of a 64-token prompt piece after range(0) cached
// positions, qwen2.5-0.5b's heads, one thread: the prompt kernels (tiles of
// query tokens against every key before them).
void BM_AttentionPrompt(benchmark::State& state) {
  const uint32_t n_past = uint32_t(state.range(0)), n_tokens = 64, n_head = 14, n_head_kv = 2, hd = 64;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const size_t stride = key_elements(n_past + n_tokens, hd);
  std::vector<uint16_t> k(n_head_kv * stride), v(k.size());
  for (auto& h : k) h = float_to_fp16(dist(rng));
  for (auto& h : v) h = float_to_fp16(dist(rng));
  std::vector<float> q(size_t(n_tokens) * n_head * hd), out(q.size());
  for (auto& f : q) f = dist(rng);
  AttentionArgs a;
  a.n_head = n_head, a.n_head_kv = n_head_kv, a.head_dim = hd, a.scale = 0.125f;
  a.q = q.data(), a.n_tokens = n_tokens, a.pos0 = n_past, a.k = k.data(), a.v = v.data(), a.head_stride = stride;
  a.out = out.data();
  for (auto _ : state) benchmark::DoNotOptimize(attention(a, nullptr));
  state.SetItemsProcessed(int64_t(state.iterations()) * n_tokens);
}

// One token's activations converted for the dot kernels (done on the calling
// thread before each decode matmul): range(0) columns, Q8_0 blocks (with
// their sums and scales) or Q8_K super-blocks.
void BM_QuantizeAct(benchmark::State& state, ActFormat format) {
  const size_t cols = size_t(state.range(0));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> x(cols);
  for (auto& f : x) f = dist(rng);
  std::vector<uint8_t> out(act_row_bytes(format, cols));
  for (auto _ : state) {
    quantize_act(format, x.data(), out.data(), cols);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(cols * sizeof(float)));
}

const bool kRegistered = [] {
  benchmark::RegisterBenchmark("ReadInPasses", BM_ReadInPasses)
      ->Arg(512)->Arg(3 << 10)->Arg(64 << 10)->Arg(1 << 20)->Iterations(3)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("PoolHandOff", BM_PoolHandOff)->Arg(2)->Arg(64)->UseRealTime();
  benchmark::RegisterBenchmark("AttentionDecode/f16", BM_AttentionDecode)->Arg(128)->Arg(512)->Arg(4096)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("AttentionPrompt/f16", BM_AttentionPrompt)->Arg(0)->Arg(4096)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("QuantizeAct/Q8_0", BM_QuantizeAct, ActFormat::kQ8_0)->Arg(896)->Arg(4864);
  benchmark::RegisterBenchmark("QuantizeAct/Q8_K", BM_QuantizeAct, ActFormat::kQ8_K)->Arg(4864);
  // Args: tokens, packed (0/1).
  benchmark::RegisterBenchmark("OutputProjection/Q8_0", BM_OutputProjection)
      ->ArgsProduct({{1, 8}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                        GgmlType::Q6_K, GgmlType::IQ4_XS})
    benchmark::RegisterBenchmark(("MatvecStreamed/" + std::string(ggml_type_name(type))).c_str(), BM_MatvecStreamed,
                                 type)->Args({1, 0, 0})->Args({2, 0, 0})->Args({3, 0, 0})->Args({4, 0, 0})->Args({8, 0, 0})->UseRealTime()->Unit(benchmark::kMillisecond);
  // Decode's small passes (attention projections, 0.5-0.8 MB) lose more of
  // the bandwidth than its large ones: 896 x 896 Q5_0 and Q8_0 (qwen2.5-0.5b's attn_output).
  for (GgmlType type : {GgmlType::Q5_0, GgmlType::Q8_0})
    benchmark::RegisterBenchmark(("MatvecStreamed/" + std::string(ggml_type_name(type))).c_str(), BM_MatvecStreamed,
                                 type)->Args({1, 896, 0})->UseRealTime()->Unit(benchmark::kMillisecond);
  // ffn_down's long rows (896 x 4864) for the legacy types.
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0})
    benchmark::RegisterBenchmark(("MatvecStreamed/" + std::string(ggml_type_name(type))).c_str(), BM_MatvecStreamed,
                                 type)->Args({1, 896, 4864})->UseRealTime()->Unit(benchmark::kMillisecond);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    for (GgmlType type : kTypes) {
      const std::string suffix = std::string(isa_name(isa)) + "/" + std::string(ggml_type_name(type));
      benchmark::RegisterBenchmark(("DotRow/" + suffix).c_str(), BM_DotRow, isa, type);
      benchmark::RegisterBenchmark(("Matvec/" + suffix).c_str(), BM_Matvec, isa, type)->Arg(1)->Arg(2)->UseRealTime();
      // Args: threads, packed (0/1), tokens.
      benchmark::RegisterBenchmark(("MatvecPanels/" + suffix).c_str(), BM_MatvecPanels, isa, type)
          ->ArgsProduct({{1, 2}, {0, 1}, {1, 2, 4, 8}})->UseRealTime();
      benchmark::RegisterBenchmark(("Prepack/" + suffix).c_str(), BM_Prepack, isa, type)->Arg(1)->Arg(2)->UseRealTime();
      benchmark::RegisterBenchmark(("MatmulPrefill64/" + suffix).c_str(), BM_MatmulPrefill, isa, type)
          ->Arg(1)->Arg(2)->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
