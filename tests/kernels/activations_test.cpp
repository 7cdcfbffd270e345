// Vector exp and silu*up against libm, over the whole useful range, the
// overflow/underflow edges and ragged tails.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/activations.h"
#include "kernels/isa.h"

namespace minnow::kernels {
namespace {

TEST(Activations, ExpMatchesLibm) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  x.push_back(88.7f);
  x.push_back(-87.0f);
  std::vector<float> got(x.size());
  exp_vec(x.data(), got.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i]));
    if (x[i] < -87.0f) {
      EXPECT_LE(got[i], 1.7e-38f) << x[i];
      continue;
    }
    ASSERT_NEAR(got[i] / want, 1.0, 1e-6) << x[i];
  }
  const float big[9] = {89, 100, 1000, 89, 89, 89, 89, 89, 89};
  float out[9];
  exp_vec(big, out, 9);
  for (float v : out) EXPECT_TRUE(v > 1e38f || std::isinf(v));
}

// Both bodies whatever MINNOW_ISA chose: the AVX2 one and, where the CPU
// has it, the AVX-512 one (16 lanes, a masked tail).
using SiluFn = void (*)(const float*, const float*, float*, size_t);
std::vector<std::pair<const char*, SiluFn>> silu_bodies() {
  std::vector<std::pair<const char*, SiluFn>> fns = {{"dispatched", silu_mul}};
  if (isa_supported(Isa::kAvx512)) fns.emplace_back("avx512", silu_mul_avx512);
  return fns;
}

TEST(Activations, SiluMulMatchesFormulaIncludingTails) {
  for (const auto& [name, silu_mul] : silu_bodies())
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 33, 4864}) {
    std::vector<float> g(n), u(n), out(n);
    for (size_t i = 0; i < n; ++i) {
      g[i] = -60.0f + 120.0f * float(i) / float(n ? n : 1);
      u[i] = 0.5f + 0.001f * float(i);
    }
    silu_mul(g.data(), u.data(), out.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
      ASSERT_NEAR(out[i], want, 1e-6 * std::fabs(want) + 1e-30) << name << " n=" << n << " g=" << g[i];
    }
  }
}

}  // namespace
}  // namespace minnow::kernels
