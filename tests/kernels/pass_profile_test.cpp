// The decode pass profile behind `minnow bench --passes`: matmul passes
// (one token's, or a batch's) are counted per set of matrices with the
// bytes they read; passes while profiling is off are not.
#include <gtest/gtest.h>

#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/pass_profile.h"
#include "quant/quantize.h"

namespace minnow::kernels {
namespace {

TEST(PassProfile, CountsPassesPerSetOfMatricesWithTheirBytes) {
  const uint64_t cols = 64;
  const size_t row_bytes = *quantized_size(GgmlType::Q8_0, cols);
  std::vector<float> wf(cols * 24, 0.25f);
  std::vector<uint8_t> wq(row_bytes * 24);
  ASSERT_TRUE(quantize(GgmlType::Q8_0, wf, wq).ok());
  const WeightMatrix a{wq.data(), GgmlType::Q8_0, cols, 16, row_bytes};
  const WeightMatrix b{wq.data() + 16 * row_bytes, GgmlType::Q8_0, cols, 8, row_bytes};
  const WeightMatrix both[] = {a, b};
  std::vector<float> x(cols * 3, 1.0f), ya(16 * 3), yb(8 * 3);
  float* ys[] = {ya.data(), yb.data()};
  ThreadPool pool(2);
  const KernelTable& table = kernel_table();

  matmul(table, a, x.data(), 1, ya.data(), &pool);  // before profiling: not counted
  set_pass_profiling(true);
  EXPECT_TRUE(pass_profiling());
  for (int i = 0; i < 3; ++i) matmul_many(table, both, x.data(), 1, ys, &pool);
  matmul(table, a, x.data(), 1, ya.data(), &pool);
  matmul(table, a, x.data(), 3, ya.data(), &pool);  // a batch's step: the same matrix once more
  set_pass_profiling(false);
  matmul(table, a, x.data(), 1, ya.data(), &pool);  // after: not counted

  const auto totals = pass_totals();
  ASSERT_EQ(totals.size(), 2u);
  const PassTotal* fused = nullptr;
  const PassTotal* alone = nullptr;
  for (const auto& t : totals) (t.matrices == "16x64 Q8_0 + 8x64 Q8_0" ? fused : alone) = &t;
  ASSERT_NE(fused, nullptr);
  ASSERT_NE(alone, nullptr);
  EXPECT_EQ(alone->matrices, "16x64 Q8_0");
  EXPECT_EQ(fused->passes, 3u);
  EXPECT_EQ(alone->passes, 2u);
  EXPECT_DOUBLE_EQ(fused->bytes, 3.0 * 24 * double(row_bytes));
  EXPECT_DOUBLE_EQ(alone->bytes, 2 * 16.0 * double(row_bytes));
  EXPECT_GT(fused->seconds, 0.0);
  EXPECT_GE(totals[0].seconds, totals[1].seconds);  // longest first

  set_pass_profiling(true);  // starts over
  EXPECT_TRUE(pass_totals().empty());
  set_pass_profiling(false);
}

}  // namespace
}  // namespace minnow::kernels
