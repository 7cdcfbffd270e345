// Threaded, tiled matmul against a serial scalar one, and the thread pool's
// range splitting.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernel_fill.h"
#include "kernels/matmul.h"
#include "quant/block_formats.h"
#include "quant/quantize.h"
#include "support/random_matrix.h"

namespace minnow::kernels {
namespace {

TEST(ThreadPool, EveryIndexRunsExactlyOnce) {
  for (unsigned threads : {1u, 2u, 3u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t n : {0, 1, 2, 5, 17, 1000}) {
      for (size_t grain : {1, 4, 16}) {
        std::vector<std::atomic<int>> hits(n);
        pool.parallel_for(n, [&](size_t b, size_t e) {
          EXPECT_LE(b, e);
          for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
        }, grain);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << grain;
      }
    }
  }
}

// The round trip between two of the pool's threads: none for a pool of
// one; for two and three never a hang and always an answer (on a machine
// busy with other work it is the scheduler's slice, up to milliseconds,
// not the caches' 50-500 ns, so only its sign and sanity are checked).
TEST(ThreadPool, RoundTripBetweenTwoThreads) {
  ThreadPool one(1);
  EXPECT_EQ(one.round_trip_ns(), 0.0);
  for (unsigned threads : {2u, 3u}) {
    ThreadPool pool(threads);
    int answered = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const double ns = pool.round_trip_ns(2000);
      EXPECT_GE(ns, 0.0);
      EXPECT_LT(ns, 1e9) << threads << " threads";
      answered += ns > 0;
    }
    EXPECT_GT(answered, 0) << threads << " threads never answered";
    // The pool still runs ordinary jobs afterwards.
    std::atomic<size_t> sum{0};
    pool.parallel_for(100, [&](size_t b, size_t e) { sum.fetch_add(e - b); });
    EXPECT_EQ(sum.load(), 100u);
  }
}

TEST(ThreadPool, ScopedPoolIsInstalledAndRestored) {
  ThreadPool pool(2);
  EXPECT_EQ(current_thread_pool(), nullptr);
  {
    ScopedThreadPool scope(&pool);
    EXPECT_EQ(current_thread_pool(), &pool);
  }
  EXPECT_EQ(current_thread_pool(), nullptr);
}

TEST(Matmul, ThreadedTiledMatchesSerialScalar) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  ThreadPool pool(3);
  // Q8_K weights (loadable, but an activation format first) are the one
  // convertible type without a kernel: they keep the dequantized path covered.
  ASSERT_EQ(kernel_table().for_type(GgmlType::Q8_K).dot, nullptr);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0,
                        GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q4_1, GgmlType::Q5_1, GgmlType::IQ4_NL,
                        GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::IQ4_XS, GgmlType::Q8_K}) {
  // 37 rows: four 8-row panels and a ragged rest; 928 columns: 29 blocks,
  // not a multiple of the 8 blocks the dot kernels take at a time.
  for (uint64_t cols : {uint64_t(96), uint64_t(928)}) {
    if (ggml_type_info(type)->block_elems >= 256) cols = cols == 96 ? 512 : 1280;
    const uint64_t rows = 37;
    const test::RandomMatrix m = test::random_matrix(type, cols, rows, rng, 1);  // rows at odd addresses
    const WeightMatrix& w = m.w;
    for (uint32_t n_tokens : {1u, 2u, 3u, 4u, 5u, 9u, 70u}) {  // 2-4: small batches in row pairs
      std::vector<float> x(cols * n_tokens), want(rows * n_tokens), got(rows * n_tokens);
      for (auto& v : x) v = dist(rng);
      matmul(*kernel_table_for(Isa::kScalar), w, x.data(), n_tokens, want.data(), nullptr);
      // Every path this CPU runs, whichever MINNOW_ISA chose; threaded
      // (small chunks: lone panels) and serial (one range: panel pairs).
      for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
        const KernelTable* table = kernel_table_for(isa);
        if (!table) continue;
        for (ThreadPool* p : {&pool, static_cast<ThreadPool*>(nullptr)}) {
          matmul(*table, w, x.data(), n_tokens, got.data(), p);
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 1e-3f * (1 + std::fabs(want[i])))
                << isa_name(isa) << " " << ggml_type_name(type) << " cols=" << cols << " tokens=" << n_tokens
                << (p ? " threaded " : " serial ") << i;
        }
      }
    }
  }
  }
}

}  // namespace
}  // namespace minnow::kernels

namespace minnow::kernels {
namespace {

// Every panel layout on every ISA path: packed matrices (as the model
// repacks them at load) give the scalar twin's products for 1..9 tokens and
// the same rows back as dequantization.
TEST(Matmul, PanelPackedMatricesMatchScalarAndUnpackRows) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  int packed_paths = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_1,
                          GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::IQ4_XS, GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::Q6_K}) {
      const PanelKernel& panel = table->for_type(type).panel;
      const bool k_quant = ggml_type_info(type)->block_elems >= 256;
      if (!panel.pack || (k_quant && !panel.prepack)) continue;  // K-quant GEMM panels outgrow the rows
      for (uint64_t cols : k_quant ? std::vector<uint64_t>{256, 768, 1280} : std::vector<uint64_t>{32, 288, 928}) {
        const uint64_t rows = 24;
        const test::RandomMatrix m = test::random_matrix(type, cols, rows, rng);
        const WeightMatrix& w = m.w;
        ASSERT_EQ(panel.panel_bytes(cols), kPanelRows * w.row_bytes) << ggml_type_name(type);
        std::vector<uint8_t> packed(w.row_bytes * rows);
        // prepack works for every table with a panel; the flag only says
        // whether the model does it at load.
        const WeightMatrix p = prepack(*table, w, packed.data());
        ASSERT_TRUE(p.packed);
        ++packed_paths;
        for (uint32_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
          std::vector<float> x(cols * n_tokens), want(rows * n_tokens), got(rows * n_tokens);
          for (auto& v : x) v = dist(rng);
          matmul(*kernel_table_for(Isa::kScalar), w, x.data(), n_tokens, want.data(), nullptr);
          matmul(*table, p, x.data(), n_tokens, got.data(), nullptr);
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 1e-3f * (1 + std::fabs(want[i])))
                << isa_name(isa) << " " << ggml_type_name(type) << " cols=" << cols << " tokens=" << n_tokens
                << " at " << i;
        }
        std::vector<float> want_row(cols), got_row(cols);
        for (uint64_t r : {uint64_t(0), uint64_t(5), uint64_t(8), uint64_t(23)}) {
          matrix_row(*table, w, r, want_row.data());
          matrix_row(*table, p, r, got_row.data());
          EXPECT_EQ(got_row, want_row) << isa_name(isa) << " " << ggml_type_name(type) << " row " << r;
        }
      }
    }
  }
  if (isa_supported(Isa::kAvx2)) {
    EXPECT_GT(packed_paths, 0);
  }
}

// One token on prepacked panels runs each thread's range as two streams,
// two panels in lockstep (token_pair) and a lone one when the count is odd;
// so do small decode batches (tokens_pair, up to pair_tokens_max tokens):
// every split of 1..9 panels, 1..5 tokens, serial and on a pool, gives the
// scalar twin's products.
TEST(Matmul, PanelPairsMatchScalarOnEveryRange) {
  std::mt19937 rng(17);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  ThreadPool pool(2);
  int pair_paths = 0;
  // The AVX-512 table's one-token pairs come in two widths, one per CPU
  // (prefetch.h: decode_pairs_in_512_bits): both are checked here.
  std::vector<std::pair<Isa, KernelTable>> tables;
  if (const KernelTable* avx2 = kernel_table_for(Isa::kAvx2)) tables.push_back({Isa::kAvx2, *avx2});
  if (const KernelTable* avx512 = kernel_table_for(Isa::kAvx512)) {
    for (bool wide : {false, true}) {
      tables.push_back({Isa::kAvx512, *avx512});
      fill_vnni_panels(tables.back().second, wide);
    }
  }
  for (const auto& [isa, each] : tables) {
    const KernelTable* table = &each;
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_1,
                          GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::IQ4_XS, GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::Q6_K}) {
      const PanelKernel& panel = table->for_type(type).panel;
      if (!panel.token_pair) continue;
      ++pair_paths;
      EXPECT_NE(panel.tokens_pair, nullptr) << isa_name(isa) << " " << ggml_type_name(type);
      EXPECT_GE(panel.pair_tokens_max, 2u);
      EXPECT_LE(panel.pair_tokens_max, kPairTokensMax);
      const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 512 : 96;
      for (uint64_t n_panels = 1; n_panels <= 9; ++n_panels)
        for (uint32_t n_tokens = 1; n_tokens <= 5; ++n_tokens) {
          const uint64_t rows = n_panels * kPanelRows;
          const test::RandomMatrix m = test::random_matrix(type, cols, rows, rng);
          const WeightMatrix& w = m.w;
          std::vector<float> x(cols * n_tokens);
          for (auto& v : x) v = dist(rng);
          std::vector<uint8_t> packed(w.row_bytes * rows);
          const WeightMatrix p = prepack(*table, w, packed.data());
          std::vector<float> want(rows * n_tokens), got(rows * n_tokens);
          matmul(*kernel_table_for(Isa::kScalar), w, x.data(), n_tokens, want.data(), nullptr);
          for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
            std::fill(got.begin(), got.end(), -1e30f);
            matmul(*table, p, x.data(), n_tokens, got.data(), tp);
            for (size_t i = 0; i < got.size(); ++i)
              ASSERT_NEAR(got[i], want[i], 1e-3f * (1 + std::fabs(want[i])))
                  << isa_name(isa) << " " << ggml_type_name(type) << " panels=" << n_panels
                  << " tokens=" << n_tokens << " at " << i;
          }
        }
    }
  }
  if (isa_supported(Isa::kAvx512)) {
    EXPECT_GT(pair_paths, 0);
  }
}

// The decode panels' integer sums at their bounds: every value and scale at
// its largest (all bits set) against activations of +-1 (Q8_K +-127), for
// one token and a batch, packed as the model packs them. The Q2_K/Q3_K
// kernels keep sub-block sums in int16 halves, Q6_K's reach 16 * 63 * 127:
// an overflow anywhere shows against the scalar twin.
TEST(Matmul, DecodePanelsHoldTheirLargestBlocks) {
  struct Scale {
    GgmlType type;
    size_t d_at, dmin_at;  // dmin_at 0: none
  };
  const Scale types[] = {{GgmlType::Q2_K, offsetof(quant::BlockQ2_K, d), offsetof(quant::BlockQ2_K, dmin)},
                         {GgmlType::Q3_K, offsetof(quant::BlockQ3_K, d), 0},
                         {GgmlType::Q4_K, offsetof(quant::BlockQ4_K, d), offsetof(quant::BlockQ4_K, dmin)},
                         {GgmlType::Q5_K, offsetof(quant::BlockQ5_K, d), offsetof(quant::BlockQ5_K, dmin)},
                         {GgmlType::Q6_K, offsetof(quant::BlockQ6_K, d), 0},
                         {GgmlType::IQ4_XS, offsetof(quant::BlockIQ4_XS, d), 0}};
  const uint64_t cols = 512, rows = 16;
  const uint16_t kOne = 0x3c00;  // fp16 1.0
  int checked = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (const Scale& t : types) {
      if (!wants_prepack(*table, t.type, cols, rows)) continue;
      const size_t row_bytes = *quantized_size(t.type, cols), block = ggml_type_info(t.type)->block_bytes;
      for (uint8_t fill : {uint8_t(0xff), uint8_t(0x00)}) {
        std::vector<uint8_t> bytes(rows * row_bytes, fill);
        for (size_t b = 0; b < bytes.size(); b += block) {
          std::memcpy(&bytes[b + t.d_at], &kOne, 2);
          if (t.dmin_at) std::memcpy(&bytes[b + t.dmin_at], &kOne, 2);
        }
        WeightMatrix w;
        w.data = bytes.data(), w.type = t.type, w.n_cols = cols, w.n_rows = rows, w.row_bytes = row_bytes;
        std::vector<uint8_t> packed(bytes.size());
        const WeightMatrix p = prepack(*table, w, packed.data());
        for (float sign : {1.0f, -1.0f})
          for (uint32_t n_tokens : {1u, 3u}) {
            std::vector<float> x(cols * n_tokens, sign), want(rows * n_tokens), got(rows * n_tokens);
            matmul(*kernel_table_for(Isa::kScalar), w, x.data(), n_tokens, want.data(), nullptr);
            matmul(*table, p, x.data(), n_tokens, got.data(), nullptr);
            for (size_t i = 0; i < want.size(); ++i)
              ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i])))
                  << isa_name(isa) << " " << ggml_type_name(t.type) << " fill " << int(fill) << " sign " << sign
                  << " tokens " << n_tokens << " at " << i;
            ++checked;
          }
      }
    }
  }
  if (isa_supported(Isa::kAvx512)) {
    EXPECT_GE(checked, 6 * 2 * 2 * 2);
  }
}

// Batches (prefill, batched decode) of these types run a panel GEMM on the
// AVX2 path rather than dot kernels token by token; the products themselves
// are checked against the scalar twin above.
TEST(Matmul, Avx2HasPanelsForBatchedTypes) {
  const KernelTable* avx2 = kernel_table_for(Isa::kAvx2);
  if (!avx2) GTEST_SKIP() << "no AVX2 here";
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_1,
                        GgmlType::IQ4_NL, GgmlType::Q2_K,
                        GgmlType::Q3_K, GgmlType::IQ4_XS, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::F32, GgmlType::F16,
                        GgmlType::BF16}) {
    EXPECT_NE(avx2->for_type(type).panel.pack, nullptr) << ggml_type_name(type);
    EXPECT_NE(avx2->for_type(type).panel.gemm, nullptr) << ggml_type_name(type);
  }
}

// On the AVX-512 path the integer types' batches run the VNNI panels, two
// panels (16 rows) at a time, and single panels of a batch keep the AVX2
// multiply; the legacy types are repacked at load, and one token (decode)
// runs 256-bit VNNI multiplies of its own on them, one panel or two.
// The AVX2 GEMM panel's multiply (behind the decode panels where the AVX2 path has them).
PanelGemmFn avx2_gemm(GgmlType type) {
  const PanelKernel& p = kernel_table_for(Isa::kAvx2)->for_type(type).panel;
  return p.per_call ? p.per_call->gemm : p.gemm;
}

TEST(Matmul, Avx512HasVnniPanelPairsForBatches) {
  const KernelTable* avx512 = kernel_table_for(Isa::kAvx512);
  if (!avx512) GTEST_SKIP() << "no AVX-512 (with VNNI) here";
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_1,
                        GgmlType::IQ4_NL, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                        GgmlType::Q6_K, GgmlType::IQ4_XS}) {
    const PanelKernel& panel = avx512->for_type(type).panel;
    EXPECT_NE(panel.gemm_pair, nullptr) << ggml_type_name(type);
    // The K-quant decode panels convert to the AVX2 GEMM panels first (below).
    if (type != GgmlType::Q4_K && type != GgmlType::Q5_K && type != GgmlType::IQ4_XS && type != GgmlType::Q3_K &&
        type != GgmlType::Q2_K && type != GgmlType::Q6_K) {
      EXPECT_EQ(panel.gemm, avx2_gemm(type)) << ggml_type_name(type);
    }
    EXPECT_EQ(panel.step_at(0, 4, 1), 1u) << "one token takes single panels";
    EXPECT_EQ(panel.step_at(0, 4, 2), 2u) << "a batch takes pairs";
    EXPECT_EQ(panel.step_at(3, 4, 2), 1u) << "no pair past the end";
  }
  // Q4_K, Q5_K and IQ4_XS too: their decode panels (kquant_decode_panel.h)
  // are as large as their rows; prompts convert them to the GEMM panels.
  // Rows left unpacked pack straight into those GEMM panels (per_call).
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::IQ4_XS, GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::Q6_K}) {
    EXPECT_NE(avx512->for_type(type).panel.gemm, avx2_gemm(type)) << ggml_type_name(type);
    const PanelKernel* per_call = avx512->for_type(type).panel.per_call;
    ASSERT_NE(per_call, nullptr) << ggml_type_name(type);
    EXPECT_EQ(per_call->gemm, avx2_gemm(type)) << ggml_type_name(type);
    EXPECT_NE(per_call->gemm_pair, nullptr) << ggml_type_name(type);
    EXPECT_FALSE(per_call->prepack) << ggml_type_name(type);
    // The AVX2 path repacks Q3_K and Q2_K too, with maddubs kernels of its own.
    const bool avx2_decode = type == GgmlType::Q3_K || type == GgmlType::Q2_K;
    EXPECT_EQ(kernel_table_for(Isa::kAvx2)->for_type(type).panel.prepack, avx2_decode) << ggml_type_name(type);
  }
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_1,
                        GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::IQ4_XS, GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::Q6_K}) {
    EXPECT_TRUE(avx512->for_type(type).panel.prepack) << ggml_type_name(type);
    EXPECT_NE(avx512->for_type(type).panel.token, nullptr) << ggml_type_name(type);
    EXPECT_NE(avx512->for_type(type).panel.token_pair, nullptr) << ggml_type_name(type);
    EXPECT_NE(avx512->for_type(type).panel.token_pair, kernel_table_for(Isa::kAvx2)->for_type(type).panel.token_pair)
        << ggml_type_name(type);
    EXPECT_NE(avx512->for_type(type).panel.tokens_pair, kernel_table_for(Isa::kAvx2)->for_type(type).panel.tokens_pair)
        << ggml_type_name(type);
    EXPECT_EQ(avx512->for_type(type).panel.pair_tokens_max, kPairTokensMax) << ggml_type_name(type);
  }
  // K-quant rows: decode's dots, one row or two in lockstep, with vpdpwssd.
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    EXPECT_NE(avx512->for_type(type).dot, kernel_table_for(Isa::kAvx2)->for_type(type).dot) << ggml_type_name(type);
    EXPECT_NE(avx512->for_type(type).dot2, nullptr) << ggml_type_name(type);
    EXPECT_NE(kernel_table_for(Isa::kAvx2)->for_type(type).dot2, nullptr) << ggml_type_name(type);
  }
}

// Float rows whose length is not a whole number of 32-element panel blocks
// (possible for F32/F16, never for quantized types) take the dot kernels.
TEST(Matmul, FloatRowsOfAnyLengthMatchScalar) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
    const uint64_t cols = 40, rows = 16;
    const test::RandomMatrix m = test::random_matrix(type, cols, rows, rng);
    const WeightMatrix& w = m.w;
    std::vector<float> x(cols * 6), want(rows * 6), got(rows * 6);
    for (auto& v : x) v = dist(rng);
    matmul(*kernel_table_for(Isa::kScalar), w, x.data(), 6, want.data(), nullptr);
    matmul(kernel_table(), w, x.data(), 6, got.data(), nullptr);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i])));
  }
}

// One fused pass over matrices that take every path (panels packed per
// call or at load, dot rows, dequantized rows, F32 activations, Q8_0 and
// Q8_K activations) gives exactly what separate calls give.
TEST(Matmul, ManyMatricesInOnePassEqualSeparateCalls) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  ThreadPool pool(2);
  const KernelTable& table = kernel_table();
  const uint64_t cols = 512;
  std::vector<test::RandomMatrix> storage;
  std::vector<WeightMatrix> ws;
  const GgmlType types[] = {GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q6_K, GgmlType::F16, GgmlType::Q4_1, GgmlType::Q4_0};
  const uint64_t rows_of[] = {24, 13, 16, 9, 5, 32};
  for (size_t i = 0; i < std::size(types); ++i) {
    storage.push_back(test::random_matrix(types[i], cols, rows_of[i], rng));
    ws.push_back(storage.back().w);
  }
  // The last one repacked, as the model does at load where the table asks.
  std::vector<uint8_t> packed(storage.back().storage.size());
  if (wants_prepack(table, ws.back().type, cols, ws.back().n_rows)) ws.back() = prepack(table, ws.back(), packed.data());
  for (uint32_t n_tokens : {1u, 6u}) {
    std::vector<float> x(cols * n_tokens);
    for (auto& v : x) v = dist(rng);
    std::vector<std::vector<float>> want(ws.size()), got(ws.size());
    std::vector<float*> ys;
    for (size_t i = 0; i < ws.size(); ++i) {
      want[i].resize(ws[i].n_rows * n_tokens);
      got[i].resize(ws[i].n_rows * n_tokens);
      matmul(table, ws[i], x.data(), n_tokens, want[i].data(), &pool);
      ys.push_back(got[i].data());
    }
    matmul_many(table, ws, x.data(), n_tokens, ys, &pool);
    for (size_t i = 0; i < ws.size(); ++i)
      EXPECT_EQ(got[i], want[i]) << ggml_type_name(ws[i].type) << " tokens=" << n_tokens;
  }
}

// Decode's gated FFN input in one pass: gate and up in lockstep, the
// activation applied by the thread that computed them. Against the two
// separate products and the activation over the whole row: the same
// values, on every table with pair kernels, serial and on a pool, for
// prepacked panels (1..9 of them) and K-quant rows (a ragged last unit).
TEST(Matmul, GatedTokenPassEqualsTwoProductsAndTheActivation) {
  std::mt19937 rng(23);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  ThreadPool pool(2);
  int fused = 0;
  auto act = [](const float* g, const float* u, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  };
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::IQ4_NL,
                          GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_XS, GgmlType::Q3_K, GgmlType::Q2_K}) {
      const bool k_quant = ggml_type_info(type)->block_elems >= 256;
      const uint64_t cols = k_quant ? 512 : 96;
      for (uint64_t rows : {uint64_t(8), uint64_t(40), uint64_t(72), uint64_t(37)}) {
        // Packed where a panel is exactly the rows' bytes (as prepack needs), whether or not the model would.
        const PanelKernel& panel = table->for_type(type).panel;
        const bool packable = panel.pack && rows % kPanelRows == 0 &&
                              panel.panel_bytes(cols) == kPanelRows * *quantized_size(type, cols);
        const test::RandomMatrix made[2] = {test::random_matrix(type, cols, rows, rng),
                                            test::random_matrix(type, cols, rows, rng)};
        std::vector<uint8_t> packed[2];
        WeightMatrix m[2];
        for (int i = 0; i < 2; ++i) {
          m[i] = made[i].w;
          if (packable) {
            packed[i].resize(made[i].storage.size());
            m[i] = prepack(*table, m[i], packed[i].data());
          }
        }
        std::vector<float> x(cols), g(rows), u(rows), want(rows), got(rows);
        for (auto& v : x) v = dist(rng);
        matmul(*table, m[0], x.data(), 1, g.data(), nullptr);
        matmul(*table, m[1], x.data(), 1, u.data(), nullptr);
        act(g.data(), u.data(), want.data(), rows);
        for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::fill(got.begin(), got.end(), -1e30f);
          const bool ran = matmul_gated_token(*table, m[0], m[1], x.data(), act, got.data(), tp);
          const bool expected = m[0].packed ? bool(table->for_type(type).panel.token_pair)
                                            : bool(table->for_type(type).dot2);
          ASSERT_EQ(ran, expected) << isa_name(isa) << " " << ggml_type_name(type) << " rows=" << rows;
          if (!ran) continue;
          ++fused;
          for (size_t r = 0; r < rows; ++r)
            ASSERT_EQ(got[r], want[r]) << isa_name(isa) << " " << ggml_type_name(type) << " rows=" << rows << " row " << r;
        }
      }
    }
  }
  if (isa_supported(Isa::kAvx2)) {
    EXPECT_GT(fused, 0);
  }
  // Not fused: float weights, mismatched types or shapes.
  const KernelTable& table = kernel_table();
  std::vector<float> w(64 * 8, 0.5f), x(64, 1.0f), out(8);
  const WeightMatrix f32{reinterpret_cast<const uint8_t*>(w.data()), GgmlType::F32, 64, 8, 64 * 4};
  EXPECT_FALSE(matmul_gated_token(table, f32, f32, x.data(), act, out.data(), nullptr));
  std::vector<uint8_t> q(*quantized_size(GgmlType::Q8_0, 64) * 8);
  ASSERT_TRUE(quantize(GgmlType::Q8_0, w, q).ok());
  const WeightMatrix q8{q.data(), GgmlType::Q8_0, 64, 8, *quantized_size(GgmlType::Q8_0, 64)};
  WeightMatrix q8_short = q8;
  q8_short.n_rows = 7;
  EXPECT_FALSE(matmul_gated_token(table, q8, f32, x.data(), act, out.data(), nullptr));
  EXPECT_FALSE(matmul_gated_token(table, q8, q8_short, x.data(), act, out.data(), nullptr));
}

// Repacking on a pool writes the same panels as on one thread, all of
// them: matrices of ~3.5 MB give every thread of a small pool 1 MB pieces,
// and the output starts as a sentinel that the serial panels do not keep.
TEST(Matmul, PrepackOnThreadsWritesTheSamePanels) {
  const KernelTable& table = kernel_table();
  std::mt19937 rng(7);
  int checked = 0;
  for (uint32_t id = 0; id < kMaxGgmlType; ++id) {
    const GgmlType type = GgmlType(id);
    const uint64_t cols = 4096;
    const auto row_bytes = quantized_size(type, cols);
    if (!row_bytes || !wants_prepack(table, type, cols, 8)) continue;
    const uint64_t rows = ((size_t(7) << 19) / *row_bytes + 7) / 8 * 8;
    std::vector<uint8_t> bytes(rows * *row_bytes);
    for (auto& b : bytes) b = uint8_t(rng());
    WeightMatrix w;
    w.data = bytes.data(), w.type = type, w.n_cols = cols, w.n_rows = rows, w.row_bytes = *row_bytes;
    std::vector<uint8_t> serial(bytes.size(), 0xab);
    prepack(table, w, serial.data());
    for (unsigned threads : {2u, 3u, 4u}) {
      ThreadPool pool(threads);
      std::vector<uint8_t> shared(bytes.size(), 0xab);
      const WeightMatrix p = prepack(table, w, shared.data(), &pool);
      EXPECT_TRUE(p.packed);
      EXPECT_EQ(p.data, shared.data());
      EXPECT_TRUE(shared == serial) << ggml_type_name(type) << " on " << threads << " threads";
    }
    ++checked;
  }
  if (table.isa != Isa::kScalar) {
    EXPECT_GE(checked, 5);
  }
}

TEST(Matmul, PrepackOnlyForWholePanels) {
  const KernelTable* avx2 = kernel_table_for(Isa::kAvx2);
  if (!avx2) GTEST_SKIP() << "no AVX2";
  EXPECT_TRUE(wants_prepack(*avx2, GgmlType::Q4_0, 896, 4864));
  EXPECT_FALSE(wants_prepack(*avx2, GgmlType::Q4_0, 896, 4863));  // a ragged last panel
  EXPECT_FALSE(wants_prepack(*avx2, GgmlType::Q4_K, 4864, 896));  // no panel layout
  EXPECT_FALSE(wants_prepack(*kernel_table_for(Isa::kScalar), GgmlType::Q4_0, 896, 4864));
}

}  // namespace
}  // namespace minnow::kernels
