// `minnow quantize` end to end: a fixture model from gguf/tiny_model.h into
// every TYPE, read back by the GGUF reader and by `minnow inspect`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "gguf/gguf_file.h"
#include "gguf/tiny_model.h"
#include "quant/dequantize.h"
#include "quant/quant_recipe.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

namespace fs = std::filesystem;

// Rows of 256 so the K-quants apply; 4 query heads share 1 KV head (n_gqa 4).
TinyModelSpec k_quant_friendly_spec() {
  TinyModelSpec s;
  s.n_embd = 256;
  s.n_ff = 256;
  s.n_head = 4;
  s.n_head_kv = 1;
  return s;
}

std::vector<float> tensor_values(const GgufFile& f, const GgufTensorInfo& t) {
  std::vector<float> v(size_t(t.n_elements));
  EXPECT_TRUE(dequantize(t.type, f.tensor_data(t), v).ok()) << t.name;
  return v;
}

double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    ref += double(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(make_tiny_model(k_quant_friendly_spec()).write(input_).ok()); }
  test::TempDir dir_;
  std::string input_ = dir_.file("f32.gguf");
};

TEST_F(QuantizeCli, EveryTypeProducesAFileThatInspectValidates) {
  auto in = GgufFile::open(input_);
  ASSERT_TRUE(in.ok());
  for (const auto& recipe : quant_recipes()) {
    const std::string name(recipe.name);
    SCOPED_TRACE(name);
    const std::string out = dir_.file(name + ".gguf");
    auto r = test::run_minnow({"quantize", input_, out, name, "--threads", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("bits per weight"), std::string::npos) << r.out;

    auto q = GgufFile::open(out);
    ASSERT_TRUE(q.ok()) << q.error().to_string();
    EXPECT_EQ(q->get_int("general.file_type"), std::optional<int64_t>(recipe.file_type));
    EXPECT_EQ(q->get_string("general.name"), in->get_string("general.name"));
    EXPECT_EQ(q->metadata().size(), in->metadata().size() + 1);  // + general.quantization_version
    ASSERT_EQ(q->tensors().size(), in->tensors().size());
    for (size_t i = 0; i < q->tensors().size(); ++i) {
      const auto& qt = q->tensors()[i];
      const auto& it = in->tensors()[i];
      EXPECT_EQ(qt.name, it.name);
      EXPECT_EQ(qt.ne, it.ne);
      if (qt.ne.size() == 1) {
        EXPECT_EQ(qt.type, GgmlType::F32) << qt.name;
        continue;
      }
      EXPECT_NE(qt.type, GgmlType::F32) << qt.name;
      // Q2_K is the coarsest type; everything else is well inside this.
      EXPECT_LT(relative_rmse(tensor_values(*in, it), tensor_values(*q, qt)), 0.4) << qt.name;
    }
    auto inspect = test::run_minnow({"inspect", out});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_NE(inspect.out.find("bits per weight"), std::string::npos);
    EXPECT_FALSE(fs::exists(out + ".tmp"));
  }
}

TEST_F(QuantizeCli, Q4KMFileMixesTypesAsTheRecipeSays) {
  const std::string out = dir_.file("q4km.gguf");
  auto r = test::run_minnow({"quantize", input_, out, "Q4_K_M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto q = GgufFile::open(out);
  ASSERT_TRUE(q.ok());
  auto type = [&](const char* name) { return q->find_tensor(name)->type; };
  EXPECT_EQ(type("token_embd.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type("output.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type("blk.0.attn_q.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type("blk.0.attn_v.weight"), GgmlType::Q4_K);  // 2 layers: only the last gets more bits
  EXPECT_EQ(type("blk.1.attn_v.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type("blk.1.ffn_down.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type("output_norm.weight"), GgmlType::F32);
}

TEST_F(QuantizeCli, ResultDoesNotDependOnThreadCount) {
  const std::string one = dir_.file("one.gguf"), many = dir_.file("many.gguf");
  ASSERT_EQ(test::run_minnow({"quantize", input_, one, "Q3_K_M", "-t", "1"}).exit_code, 0);
  ASSERT_EQ(test::run_minnow({"quantize", input_, many, "Q3_K_M", "-t", "5"}).exit_code, 0);
  EXPECT_EQ(*read_file(one), *read_file(many));
}

TEST_F(QuantizeCli, RowsThatAreNotWholeSuperBlocksFallBackWithANote) {
  const std::string small = dir_.file("small.gguf"), out = dir_.file("small-q4km.gguf");
  ASSERT_TRUE(make_tiny_model(TinyModelSpec{}).write(small).ok());  // n_embd 64
  auto r = test::run_minnow({"quantize", small, out, "Q4_K_M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("blk.0.attn_q.weight: row length 64 is not a multiple of 256, using Q5_0"), std::string::npos)
      << r.err;
  auto q = GgufFile::open(out);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->find_tensor("blk.0.attn_q.weight")->type, GgmlType::Q5_0);
  EXPECT_EQ(q->find_tensor("output.weight")->type, GgmlType::Q8_0);
}

TEST_F(QuantizeCli, QuantizedInputIsRequantizedWithAWarning) {
  const std::string q8 = dir_.file("q8.gguf"), q4 = dir_.file("q4.gguf");
  ASSERT_EQ(test::run_minnow({"quantize", input_, q8, "Q8_0"}).exit_code, 0);
  auto r = test::run_minnow({"quantize", q8, q4, "Q4_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos);
  EXPECT_NE(r.err.find("already quantized (Q8_0)"), std::string::npos) << r.err;
  auto f = GgufFile::open(q4);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->type, GgmlType::Q4_0);
}

TEST_F(QuantizeCli, UnknownTypeFailsWithTheListAndWritesNothing) {
  const std::string out = dir_.file("x.gguf");
  auto r = test::run_minnow({"quantize", input_, out, "Q4_K"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown quantization type 'Q4_K'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(QuantizeCli, NonFiniteWeightsFailCleanlyWithoutPartialOutput) {
  std::vector<float> bad(256 * 256, 0.5f);
  bad[3 * 256 + 7] = std::numeric_limits<float>::infinity();
  GgufWriter broken;
  broken.set("general.architecture", GgufValue::string("llama"));
  ASSERT_TRUE(broken.add_f32_tensor("blk.0.attn_q.weight", {256, 256}, bad).ok());
  const std::string in = dir_.file("inf.gguf"), out = dir_.file("inf-q4.gguf");
  ASSERT_TRUE(broken.write(in).ok());
  auto r = test::run_minnow({"quantize", in, out, "Q4_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("blk.0.attn_q.weight: row 3: quantize: value 7 is infinite"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(QuantizeCli, InspectDequantWorksForQuantizedTensors) {
  const std::string out = dir_.file("iq4xs.gguf"), dump = dir_.file("v.f32");
  ASSERT_EQ(test::run_minnow({"quantize", input_, out, "IQ4_XS"}).exit_code, 0);
  auto r = test::run_minnow({"inspect", out, "--tensor", "blk.0.ffn_up.weight", "--dequant", dump});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::file_size(dump), 256u * 256u * 4u);
}

TEST(QuantizeCliConformance, InspectDequantMatchesLlamaCppForEveryConformanceType) {
  MINNOW_REQUIRE_CONFORMANCE();
  const fs::path dir = test::conformance_dir() / "quant";
  test::TempDir tmp;
  for (const char* type : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                           "Q6_K", "IQ4_NL", "IQ4_XS"}) {
    const std::string out = tmp.file(std::string(type) + ".f32");
    auto r = test::run_minnow({"inspect", (dir / (std::string(type) + ".gguf")).string(), "--tensor", "tensor",
                               "--dequant", out});
    ASSERT_EQ(r.exit_code, 0) << type << ": " << r.err;
    EXPECT_EQ(*read_file(out), *read_file((dir / (std::string(type) + ".dequant.f32")).string())) << type;
  }
}

// Ctrl-C in the middle of a tensor: the run stops, and neither OUT nor its
// temp file is left behind.
TEST(QuantizeCliInterrupt, CtrlCLeavesNoOutputBehind) {
  test::TempDir dir;
  const std::string in = dir.file("big.gguf"), out = dir.file("big-iq4.gguf");
  std::vector<float> values(2048 * 2048);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(float(i) * 0.37f);
  GgufWriter w;
  ASSERT_TRUE(w.add_f32_tensor("blk.0.attn_q.weight", {2048, 2048}, values).ok());
  ASSERT_TRUE(w.write(in).ok());

  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(MINNOW_BINARY, MINNOW_BINARY, "quantize", in.c_str(), out.c_str(), "IQ4_XS", "-t", "1", (char*)nullptr);
    _exit(127);
  }
  // The temp file appears after the interrupt handler is installed.
  for (int i = 0; i < 2000 && !fs::exists(out + ".tmp"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) GTEST_SKIP() << "finished before the interrupt arrived";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << "status " << status;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

}  // namespace
}  // namespace minnow
