// One case per validation rule of the GGUF reader, then thousands of random
// mutations of a valid file: each must fail cleanly (never crash, never read
// outside the buffer: ASan builds run this too).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/tiny_model.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

// Builds GGUF bytes field by field so that any field can be wrong.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u32(uint32_t v) { return put(v); }
  Raw& u64(uint64_t v) { return put(v); }
  Raw& u8(uint8_t v) { return put(v); }
  Raw& str(const std::string& s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(kGgufMagic).u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(const std::string& k, uint32_t v) { return str(k).u32(uint32_t(GgufValueType::UINT32)).u32(v); }
  Raw& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(uint32_t(ne.size()));
    for (auto d : ne) u64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t alignment = 32) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  template <class T>
  Raw& put(T v) {
    uint8_t buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    b.insert(b.end(), buf, buf + sizeof(T));
    return *this;
  }
};

struct BadCase {
  const char* rule;
  std::vector<uint8_t> bytes;
  const char* message_fragment;
};

std::vector<BadCase> bad_cases() {
  const uint32_t f32 = 0, q4_0 = 2;
  std::vector<BadCase> c;
  c.push_back({"empty file", {}, "truncated while reading magic"});
  c.push_back({"bad magic", Raw().u32(0x46554748).u32(3).u64(0).u64(0).b, "bad magic"});
  c.push_back({"version 1", Raw().header(0, 0, 1).b, "version 1"});
  c.push_back({"unknown version", Raw().header(0, 0, 7).b, "unknown GGUF version 7"});
  c.push_back({"big-endian", Raw().header(0, 0, 0x03000000).b, "big-endian"});
  c.push_back({"truncated header", Raw().u32(kGgufMagic).u32(3).u64(0).b, "truncated while reading metadata count"});
  c.push_back({"metadata count beyond file", Raw().header(0, 1ull << 40).b, "metadata count"});
  c.push_back({"tensor count beyond file", Raw().header(1ull << 60, 0).b, "tensor count"});
  c.push_back({"key length beyond file", Raw().header(0, 1).u64(1ull << 62).zeros(8).b, "metadata key length"});
  c.push_back({"empty key", Raw().header(0, 1).str("").u32(4).u32(1).b, "empty metadata key"});
  c.push_back({"duplicate key", Raw().header(0, 2).kv_u32("a", 1).kv_u32("a", 2).b, "duplicate metadata key"});
  c.push_back({"unknown value type", Raw().header(0, 1).str("k").u32(13).u32(0).b, "unknown value type 13"});
  c.push_back({"bool not 0/1", Raw().header(0, 1).str("k").u32(7).u8(2).zeros(12).b, "neither 0 nor 1"});
  c.push_back({"truncated value", Raw().header(0, 1).str("k").u32(10).u32(0).b, "truncated"});
  c.push_back({"array length beyond file", Raw().header(0, 1).str("k").u32(9).u32(4).u64(1ull << 40).b,
               "array length"});
  c.push_back({"array of unknown type", Raw().header(0, 1).str("k").u32(9).u32(77).u64(0).b,
               "unknown array element type"});
  {
    Raw r;
    r.header(0, 1).str("deep").u32(9);
    for (int i = 0; i < 12; ++i) r.u32(9).u64(1);
    r.u32(4).u64(1).u32(5);
    c.push_back({"arrays nested too deep", r.zeros(64).b, "nested deeper"});
  }
  c.push_back({"string length beyond file", Raw().header(0, 1).str("k").u32(8).u64(1000).zeros(20).b,
               "length 1000 exceeds"});
  c.push_back({"alignment not power of two", Raw().header(0, 1).kv_u32("general.alignment", 24).b,
               "power-of-two"});
  c.push_back({"alignment zero", Raw().header(0, 1).kv_u32("general.alignment", 0).b, "power-of-two"});
  c.push_back({"alignment wrong type",
               Raw().header(0, 1).str("general.alignment").u32(uint32_t(GgufValueType::UINT64)).u64(32).b,
               "power-of-two"});
  c.push_back({"empty tensor name", Raw().header(1, 0).tensor("", {4}, f32, 0).pad().zeros(32).b, "empty tensor name"});
  c.push_back({"tensor name too long", Raw().header(1, 0).tensor(std::string(64, 'x'), {4}, f32, 0).pad().zeros(32).b,
               "longer than 63"});
  c.push_back({"duplicate tensor", Raw().header(2, 0).tensor("t", {4}, f32, 0).tensor("t", {4}, f32, 32).pad().zeros(64).b,
               "duplicate tensor name"});
  c.push_back({"zero dims", Raw().header(1, 0).tensor("t", {}, f32, 0).pad().zeros(32).b, "n_dims 0"});
  c.push_back({"five dims", Raw().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, f32, 0).pad().zeros(32).b, "n_dims 5"});
  c.push_back({"zero dimension", Raw().header(1, 0).tensor("t", {4, 0}, f32, 0).pad().zeros(32).b, "is zero"});
  c.push_back({"element count overflow",
               Raw().header(1, 0).tensor("t", {1ull << 32, 1ull << 32}, f32, 0).pad().zeros(32).b, "overflows"});
  c.push_back({"byte count overflow", Raw().header(1, 0).tensor("t", {1ull << 62}, f32, 0).pad().zeros(32).b,
               "byte size overflows"});
  c.push_back({"unknown ggml type", Raw().header(1, 0).tensor("t", {4}, 31, 0).pad().zeros(32).b,
               "unknown ggml type id 31"});
  c.push_back({"row not multiple of block", Raw().header(1, 0).tensor("t", {48}, q4_0, 0).pad().zeros(64).b,
               "not a multiple"});
  c.push_back({"unaligned offset", Raw().header(1, 0).tensor("t", {4}, f32, 4).pad().zeros(64).b, "not aligned"});
  c.push_back({"tensor past end of file", Raw().header(1, 0).tensor("t", {64}, f32, 0).pad().zeros(100).b,
               "runs past the end"});
  c.push_back({"offset overflow", Raw().header(1, 0).tensor("t", {8}, f32, ~uint64_t(31)).pad().zeros(32).b,
               "runs past the end"});
  c.push_back({"overlapping tensors",
               Raw().header(2, 0).tensor("a", {16}, f32, 0).tensor("b", {16}, f32, 32).pad().zeros(128).b,
               "overlaps tensor 'a'"});
  c.push_back({"no data section", Raw().header(1, 0).tensor("t", {4}, f32, 0).b, "ends before the tensor data"});
  return c;
}

TEST(GgufMalformed, EveryRuleHasAClearError) {
  for (const auto& c : bad_cases()) {
    auto f = GgufFile::parse(c.bytes, "bad.gguf");
    ASSERT_FALSE(f.ok()) << "accepted: " << c.rule;
    const std::string msg = f.error().to_string();
    EXPECT_NE(msg.find(c.message_fragment), std::string::npos) << c.rule << " -> " << msg;
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
  }
}

TEST(GgufMalformed, ValidMinimalFilesAreAccepted) {
  // A file of only a header, and a Q4_0 tensor with trailing bytes after it.
  EXPECT_TRUE(GgufFile::parse(Raw().header(0, 0).b).ok());
  const auto bytes = Raw().header(1, 0).tensor("t", {64}, 2, 0).pad().zeros(36 + 5).b;
  auto f = GgufFile::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->tensors()[0].n_bytes, 36u);
  const auto v2 = Raw().header(0, 0, 2).b;
  EXPECT_EQ(GgufFile::parse(v2)->version(), 2u);
}

std::vector<uint8_t> valid_fixture() {
  TinyModelSpec spec;
  spec.n_vocab = 40;  // small enough that mutations hit every region often
  spec.n_embd = 32;
  spec.n_ff = 32;
  spec.n_layer = 1;
  return make_tiny_model(spec).serialize();
}

std::vector<uint8_t> mutate(const std::vector<uint8_t>& src, std::mt19937_64& rng) {
  std::vector<uint8_t> m = src;
  switch (rng() % 4) {
    case 0: m.resize(rng() % m.size()); break;  // truncate
    case 1: {                                   // flip bits
      for (int i = 0, n = 1 + int(rng() % 4); i < n; ++i) m[rng() % m.size()] ^= uint8_t(1u << (rng() % 8));
      break;
    }
    case 2: {  // overwrite a little-endian field with a hostile number
      static const uint64_t kHostile[] = {0, 1, 0xffffffffull, 0xffffffffffffffffull, 1ull << 62, 0x7fffffffull};
      const uint64_t v = kHostile[rng() % 6];
      const size_t at = rng() % (m.size() - 8);
      std::memcpy(m.data() + at, &v, (rng() % 2) ? 8 : 4);
      break;
    }
    default: {  // splice a random chunk elsewhere
      const size_t a = rng() % m.size(), b = rng() % m.size(), n = 1 + rng() % 64;
      for (size_t i = 0; i < n && a + i < m.size() && b + i < m.size(); ++i) m[b + i] = m[a + i];
      break;
    }
  }
  return m;
}

TEST(GgufMalformed, ThousandsOfMutationsNeverCrash) {
  const auto valid = valid_fixture();
  ASSERT_TRUE(GgufFile::parse(valid).ok());
  std::mt19937_64 rng(1234);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto m = mutate(valid, rng);
    auto f = GgufFile::parse(m, "mutant.gguf");
    if (!f.ok()) {
      ++rejected;
      EXPECT_FALSE(f.error().to_string().empty());
      continue;
    }
    // Accepted mutants must still be internally consistent.
    for (const auto& t : f->tensors()) {
      auto span = f->tensor_data(t);
      ASSERT_GE(span.data(), m.data());
      ASSERT_LE(span.data() + span.size(), m.data() + m.size());
    }
  }
  EXPECT_GT(rejected, 500);  // most flips land in tensor data, which is opaque
}

TEST(GgufMalformed, CliRejectsMutantFilesWithOneLine) {
  test::TempDir dir;
  const auto valid = valid_fixture();
  std::mt19937_64 rng(99);
  int checked = 0;
  auto write = [&](const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  };
  for (const auto& c : bad_cases()) {
    const std::string path = dir.file("rule.gguf");
    write(path, c.bytes);
    auto r = test::run_minnow({"inspect", path});
    EXPECT_EQ(r.exit_code, 1) << c.rule;
    EXPECT_EQ(r.err.rfind("minnow: error: " + path + ": ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  for (int i = 0; i < 300; ++i) {
    const auto m = mutate(valid, rng);
    if (GgufFile::parse(m).ok()) continue;
    const std::string path = dir.file("m.gguf");
    write(path, m);
    auto r = test::run_minnow({"inspect", path, "--json"});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

}  // namespace
}  // namespace minnow
