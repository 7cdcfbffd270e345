// The decode prefetch policy: which CPUs get which distance, MINNOW_PREFETCH's
// parsing, and that the distance never changes a product.
#include "kernels/prefetch.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/half.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "quant/quantize.h"
#include "support/random_matrix.h"

namespace minnow::kernels {
namespace {

using Vendor = CpuModel::Vendor;

TEST(DecodePrefetch, Zen4AloneGoesWithoutIt) {
  // Zen 4 parts: Genoa (the machine it was measured on), Raphael, Phoenix, Bergamo.
  for (unsigned model : {0x11u, 0x10u, 0x61u, 0x74u, 0xA0u}) {
    const CpuModel zen4{Vendor::kAmd, 0x19, model};
    EXPECT_TRUE(is_zen4(zen4)) << model;
    EXPECT_EQ(default_decode_prefetch(zen4), 0u) << model;
  }
  // Zen 3 (Milan, Vermeer, Cezanne), Zen 5, Intel Sapphire Rapids and an
  // unknown vendor keep 2 KB: measured to help (Zen 3, Intel) or not measured.
  for (const CpuModel cpu : {CpuModel{Vendor::kAmd, 0x19, 0x01}, CpuModel{Vendor::kAmd, 0x19, 0x21},
                             CpuModel{Vendor::kAmd, 0x19, 0x50}, CpuModel{Vendor::kAmd, 0x1A, 0x02},
                             CpuModel{Vendor::kIntel, 6, 0x8F}, CpuModel{Vendor::kIntel, 0x19, 0x11},
                             CpuModel{Vendor::kOther, 0, 0}}) {
    EXPECT_FALSE(is_zen4(cpu)) << cpu.family << " " << cpu.model;
    EXPECT_EQ(default_decode_prefetch(cpu), 2048u) << cpu.family << " " << cpu.model;
  }
}

// One token's AVX-512 panel pairs: 512-bit registers on AMD, 256-bit
// elsewhere; MINNOW_DECODE_WIDTH=256|512 overrides, anything else is ignored.
TEST(DecodePairs, WideOnAmdUnlessTold) {
  const CpuModel zen4{Vendor::kAmd, 0x19, 0x11}, zen5{Vendor::kAmd, 0x1A, 0x02}, spr{Vendor::kIntel, 6, 0x8F},
      other{Vendor::kOther, 0, 0};
  EXPECT_TRUE(decode_pairs_in_512_bits(zen4, nullptr));
  EXPECT_TRUE(decode_pairs_in_512_bits(zen5, nullptr));
  EXPECT_FALSE(decode_pairs_in_512_bits(spr, nullptr));
  EXPECT_FALSE(decode_pairs_in_512_bits(other, nullptr));
  EXPECT_FALSE(decode_pairs_in_512_bits(zen4, "256"));
  EXPECT_TRUE(decode_pairs_in_512_bits(spr, "512"));
  for (const char* ignored : {"", "384", "512 ", "wide"}) {
    EXPECT_TRUE(decode_pairs_in_512_bits(zen4, ignored)) << ignored;
    EXPECT_FALSE(decode_pairs_in_512_bits(spr, ignored)) << ignored;
  }
}

TEST(DecodePrefetch, ThisCpuReadsAsAnX86Family) {
#if defined(__x86_64__)
  const CpuModel cpu = cpu_model();
  EXPECT_GE(cpu.family, 6u);  // every x86-64 CPU reports family 6 (Intel) or 0Fh and up (AMD)
#endif
}

TEST(DecodePrefetch, EnvironmentValues) {
  EXPECT_EQ(decode_prefetch_from_env(nullptr, 2048), 2048u);
  EXPECT_EQ(decode_prefetch_from_env("off", 2048), 0u);
  EXPECT_EQ(decode_prefetch_from_env("0", 2048), 0u);
  EXPECT_EQ(decode_prefetch_from_env("1024", 0), 1024u);
  EXPECT_EQ(decode_prefetch_from_env("65536", 0), 65536u);
  // Not a line multiple, too far, negative, trailing junk, empty: ignored.
  for (const char* bad : {"100", "65600", "-64", "2048x", "", "on", "99999999999999999999999"})
    EXPECT_EQ(decode_prefetch_from_env(bad, 2048), 2048u) << bad;
}

TEST(DecodePrefetch, DistanceNeverChangesAProduct) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t saved = decode_prefetch_bytes();
  int compared = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K,
                          GgmlType::Q3_K}) {
      const uint64_t cols = ggml_type_info(type)->block_elems >= 256 ? 1280 : 928, rows = 37;
      const test::RandomMatrix m = test::random_matrix(type, cols, rows, rng);
      const WeightMatrix& w = m.w;
      for (uint32_t n_tokens : {1u, 2u, 4u}) {  // the decode kernels: one token and row pairs for 2-4
        std::vector<float> x(cols * n_tokens), want(rows * n_tokens), got(want.size());
        for (auto& v : x) v = dist(rng);
        set_decode_prefetch_bytes(0);
        matmul(*table, w, x.data(), n_tokens, want.data(), nullptr);
        for (size_t ahead : {size_t(64), size_t(2048), size_t(65536)}) {
          set_decode_prefetch_bytes(ahead);
          EXPECT_EQ(decode_prefetch_bytes(), ahead);
          matmul(*table, w, x.data(), n_tokens, got.data(), nullptr);
          ASSERT_EQ(got, want) << isa_name(isa) << " " << ggml_type_name(type) << " tokens=" << n_tokens
                               << " ahead=" << ahead;
          ++compared;
        }
      }
    }
  }
  set_decode_prefetch_bytes(saved);
#if defined(__x86_64__)
  EXPECT_GT(compared, 0);  // the AVX2 path, at least, runs on every x86-64-v3 machine
#endif
}

// The one-token attention asks for the next key tile only where the decode
// kernels prefetch at all; its results are the same either way.
TEST(DecodePrefetch, NeverChangesAttention) {
  const size_t saved = decode_prefetch_bytes();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  struct Shape { uint32_t n_head, n_head_kv, head_dim; };
  for (const Shape& s : {Shape{14, 2, 64}, Shape{8, 4, 256}, Shape{4, 4, 96}}) {
    const uint32_t n_past = 600;  // key chunks of a long decode token
    const size_t stride = key_elements(n_past + 1, s.head_dim);
    std::vector<uint16_t> k(s.n_head_kv * stride), v(k.size());
    for (auto& h : k) h = float_to_fp16(dist(rng));
    for (auto& h : v) h = float_to_fp16(dist(rng));
    std::vector<float> q(size_t(s.n_head) * s.head_dim), want(q.size()), got(q.size());
    for (auto& f : q) f = dist(rng);
    AttentionArgs a;
    a.n_head = s.n_head, a.n_head_kv = s.n_head_kv, a.head_dim = s.head_dim, a.scale = 0.125f;
    a.q = q.data(), a.n_tokens = 1, a.pos0 = n_past, a.k = k.data(), a.v = v.data(), a.head_stride = stride;
    ThreadPool pool(2);
    set_decode_prefetch_bytes(0);
    a.out = want.data();
    ASSERT_TRUE(attention(a, &pool));
    set_decode_prefetch_bytes(2048);
    a.out = got.data();
    ASSERT_TRUE(attention(a, &pool));
    EXPECT_EQ(got, want) << s.n_head << "/" << s.n_head_kv << " heads of " << s.head_dim;
  }
  set_decode_prefetch_bytes(saved);
}

}  // namespace
}  // namespace minnow::kernels
