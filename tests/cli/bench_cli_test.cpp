// `minnow bench` on the tiny synthetic preset: the JSON shape other tools
// read (llama-bench field names plus efficiency and isa) and the markdown
// table. Speed is not checked here.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "gguf/tiny_model.h"
#include "support/run_command.h"
#include "server/server_fixture.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

TEST(BenchCli, JsonRowsCarryLlamaBenchFieldsAndEfficiency) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q4_K_M", "-p", "8", "-n", "4", "-r", "2",
                             "-t", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.out;
  ASSERT_EQ(j.size(), 2u);
  for (const auto& row : j) {
    for (const char* key : {"model_type", "model_size", "model_n_params", "n_threads", "n_prompt", "n_gen", "avg_ts",
                            "stddev_ts", "efficiency", "isa", "cpu_share"})
      EXPECT_TRUE(row.contains(key)) << key;
    EXPECT_EQ(row["model_type"], "tiny Q4_K_M");
    EXPECT_GT(row["model_size"].get<uint64_t>(), 100000u);
    EXPECT_GT(row["model_n_params"].get<uint64_t>(), 1000000u);
    EXPECT_EQ(row["n_threads"], 2);
    EXPECT_GT(row["avg_ts"].get<double>(), 0.0);
    EXPECT_GE(row["stddev_ts"].get<double>(), 0.0);
    const std::string isa = row["isa"];
    EXPECT_TRUE(isa == "scalar" || isa == "avx2" || isa == "avx512") << isa;
  }
  EXPECT_EQ(j[0]["n_prompt"], 8);
  EXPECT_EQ(j[0]["n_gen"], 0);
  EXPECT_TRUE(j[0]["efficiency"].is_null());  // only generation reads the weights once per token
  EXPECT_EQ(j[1]["n_prompt"], 0);
  EXPECT_EQ(j[1]["n_gen"], 4);
  EXPECT_GT(j[1]["efficiency"].get<double>(), 0.0);
}

TEST(BenchCli, MarkdownTableHasLlamaBenchColumns) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "4", "-n", "2", "-r", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| model | size | params | backend | threads | test | t/s | efficiency | cpu share |"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| pp4 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg2 |"), std::string::npos) << r.out;
}

// The decode prefetch distance in force is reported beside the figures, and
// MINNOW_PREFETCH sets it (the child inherits this process's environment).
TEST(BenchCli, ReportsTheDecodePrefetchAndItsOverride) {
  ::setenv("MINNOW_PREFETCH", "off", 1);
  auto off = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "1", "--json"});
  auto text = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "1"});
  ::setenv("MINNOW_PREFETCH", "1024", 1);
  auto far = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "1", "--json"});
  ::unsetenv("MINNOW_PREFETCH");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  ASSERT_EQ(far.exit_code, 0) << far.err;
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(nlohmann::json::parse(off.out)[0]["decode_prefetch_bytes"], 0);
  EXPECT_EQ(nlohmann::json::parse(far.out)[0]["decode_prefetch_bytes"], 1024);
  EXPECT_NE(text.out.find("decode prefetch off (MINNOW_PREFETCH)"), std::string::npos) << text.out;
}

// With every bandwidth probe the tg rows also time the round trip between
// two of the probe's threads (which die each vCPU is on moves the figures
// on some hosts); one thread has none to time.
TEST(BenchCli, ReportsTheThreadsRoundTrip) {
  auto two = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "2", "-t", "2", "--json"});
  auto text = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "2", "-t", "2"});
  auto one = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--json"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  ASSERT_EQ(text.exit_code, 0) << text.err;
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto row = nlohmann::json::parse(two.out)[0];
  ASSERT_TRUE(row.contains("thread_round_trip_ns")) << two.out;
  const double lo = row["thread_round_trip_ns"]["min"], hi = row["thread_round_trip_ns"]["max"];
  EXPECT_GT(lo, 0.0);
  EXPECT_LE(lo, hi);
  EXPECT_LT(hi, 1e9);
  EXPECT_NE(text.out.find("thread round trip "), std::string::npos) << text.out;
  EXPECT_FALSE(nlohmann::json::parse(one.out)[0].contains("thread_round_trip_ns")) << one.out;
}

// -d: the tests start from that many tokens in the KV cache, named as
// llama-bench names them, and the tg row's efficiency counts the cache's
// bytes too (a token at depth 64 reads more than one at depth 0).
TEST(BenchCli, DepthRowsStartFromAFilledCache) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "4", "-n", "3", "-d", "64",
                             "-r", "1", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2u) << r.out;
  for (const auto& row : j) EXPECT_EQ(row["n_depth"], 64);
  EXPECT_GT(j[1]["efficiency"].get<double>(), 0.0);

  auto table = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "4", "-n", "2", "-d", "16",
                                 "-r", "1"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("| pp4 @ d16 |"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("| tg2 @ d16 |"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("of KV cache at depth 16"), std::string::npos) << table.out;

  auto bad = test::run_minnow({"bench", "--synthetic", "tiny", "-d", "-1"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("-d"), std::string::npos) << bad.err;
}

// --passes: the tg row's matmul passes per token, as a table after the main
// one and as a "passes" array in JSON, ending with the time outside them.
TEST(BenchCli, PassesBreakDownTheTgRow) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "0", "-n", "3", "-r", "2",
                             "-t", "2", "--passes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1u) << r.out;
  const auto& passes = j[0]["passes"];
  ASSERT_TRUE(passes.is_array() && passes.size() >= 2u) << r.out;
  double mb = 0;
  int attention_rows = 0;
  for (size_t i = 0; i + 1 < passes.size(); ++i) {
    EXPECT_GT(passes[i]["passes_per_token"].get<double>(), 0.0);
    EXPECT_GT(passes[i]["gbs"].get<double>(), 0.0);
    if (passes[i]["reads"] == "weights") {
      mb += passes[i]["mb_per_token"].get<double>();
      continue;
    }
    // The fused attention, once a layer, over the cache rows before the token.
    ++attention_rows;
    EXPECT_EQ(passes[i]["reads"], "kv cache");
    EXPECT_EQ(passes[i]["matrices"], "attention, F16 cache");
    EXPECT_EQ(passes[i]["passes_per_token"].get<double>(), 2.0) << "the tiny preset has two layers";
    EXPECT_GT(passes[i]["mb_per_token"].get<double>(), 0.0);
  }
  EXPECT_EQ(attention_rows, 1) << r.out;
  EXPECT_EQ(passes.back()["matrices"], "outside the passes");
  // The caller's time before each set of passes is part of the time
  // outside them: the gaps between the steps' passes, never the probes
  // between repetitions (each ~0.1 s, far more than these steps take).
  double before = 0;
  for (size_t i = 0; i + 1 < passes.size(); ++i) {
    EXPECT_GE(passes[i]["ms_before_per_token"].get<double>(), 0.0);
    before += passes[i]["ms_before_per_token"].get<double>();
  }
  const double outside = passes.back()["ms_per_token"].get<double>();
  EXPECT_GT(before, 0.0) << r.out;
  EXPECT_LE(before, outside * 1.001 + 1e-6) << r.out;
  // Every matrix is read once per token: the weights' passes add up to the
  // weights a token reads (the tied embedding is the output projection).
  EXPECT_NEAR(mb * 1e6, j[0]["model_size"].get<double>(), 0.02 * j[0]["model_size"].get<double>());

  auto table = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "0", "-n", "2", "-r", "1",
                                 "--passes"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("tg2, one-token passes per token, matmuls and attention"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("| matrices | passes | ms | MB | GB/s | of bandwidth | ms before |"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("| outside the passes |"), std::string::npos) << table.out;
}

// --passes with --batch: the batched row gets its own passes, per step (a
// token of each sequence), each matrix still read once a step.
TEST(BenchCli, PassesBreakDownTheBatchedRowPerStep) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "0", "-n", "3", "-r", "2",
                             "-t", "2", "--batch", "3", "--passes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2u) << r.out;
  EXPECT_EQ(j[1]["n_batch_seqs"], 3);
  const auto& passes = j[1]["passes"];
  ASSERT_TRUE(passes.is_array() && passes.size() >= 2u) << r.out;
  double mb = 0;
  for (size_t i = 0; i + 1 < passes.size(); ++i) {
    EXPECT_GT(passes[i]["passes_per_step"].get<double>(), 0.0);
    if (passes[i]["reads"] == "weights") mb += passes[i]["mb_per_step"].get<double>();
  }
  EXPECT_GT(passes.back()["ms_per_step"].get<double>(), 0.0);
  EXPECT_NEAR(mb * 1e6, j[1]["model_size"].get<double>(), 0.02 * j[1]["model_size"].get<double>());
  EXPECT_TRUE(j[0]["passes"].is_array());  // the one-token row keeps its own

  auto table = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q8_0", "-p", "0", "-n", "2", "-r", "1",
                                 "--batch", "2", "--passes"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("tg2 x2, passes per step of 2 tokens, matmuls and attention"), std::string::npos) << table.out;
}

TEST(BenchCli, ModelFileIsBenchmarked) {
  test::TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  ASSERT_TRUE(make_tiny_model(TinyModelSpec{}).write(path).ok());
  auto r = test::run_minnow({"bench", "-m", path, "-p", "6", "-n", "3", "-r", "1", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2) << r.out;
  EXPECT_EQ(j[0]["n_prompt"], 6);
  EXPECT_EQ(j[1]["n_gen"], 3);
  EXPECT_EQ(j[1]["n_threads"], 1);
  EXPECT_NE(j[0]["model_type"].get<std::string>().find("llama"), std::string::npos);
  EXPECT_GE(j[1]["huge_pages_mib"].get<double>(), 0.0);
}

TEST(BenchCli, BadPresetQuantAndSizesAreErrors) {
  auto r = test::run_minnow({"bench", "--synthetic", "gpt-17", "--quant", "Q4_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown preset 'gpt-17'"), std::string::npos) << r.err;
  r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q9_9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--quant"), std::string::npos) << r.err;
  r = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "-3"});
  EXPECT_EQ(r.exit_code, 1);
  r = test::run_minnow({"bench"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exactly one of"), std::string::npos) << r.err;
}

TEST(BenchCli, BatchedDecodeRowCountsEverySequence) {
  auto r = test::run_minnow({"bench", "--synthetic", "tiny", "--quant", "Q4_0", "-p", "0", "-n", "4", "-r", "1", "-t",
                             "1", "--batch", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2u) << r.out;
  EXPECT_EQ(j[0]["n_batch_seqs"], 1);
  EXPECT_EQ(j[1]["n_batch_seqs"], 3);
  EXPECT_EQ(j[1]["n_gen"], 4);
  EXPECT_GT(j[1]["avg_ts"].get<double>(), 0.0);
  EXPECT_TRUE(j[1]["efficiency"].is_null());
  auto md = test::run_minnow({"bench", "--synthetic", "tiny", "-p", "0", "-n", "2", "-r", "1", "--batch", "2"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| tg2 x2 |"), std::string::npos) << md.out;
  auto bad = test::run_minnow({"bench", "--synthetic", "tiny", "--batch", "0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--batch"), std::string::npos) << bad.err;
}

// `minnow bench serve` against a live server: the measured requests all
// succeed and are reported, and the warm-up requests reach the server but
// stay out of the figures.
TEST(BenchServeCli, WarmupRequestsRunButAreNotCounted) {
  test::ServerFixture fixture;
  ASSERT_TRUE(fixture.ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(fixture.port());
  auto r = test::run_minnow({"bench", "serve", "--url", url, "-c", "2", "-n", "3", "--prompt-tokens", "4",
                             "--max-tokens", "3", "--warmup", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["requests"], 3);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["ttft_ms"]["p50"].get<double>(), 0.0);
  EXPECT_GT(j["generated_tokens_per_s"].get<double>(), 0.0);
  // 2 warm-up + 3 measured requests. The server counts a request once its
  // response is written, which may be just after the client has read it:
  // poll briefly rather than read once.
  const std::string five = "minnow_requests_total{route=\"/v1/completions\",status=\"200\"} 5";
  std::string body;
  for (int i = 0; i < 100 && body.find(five) == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto metrics = fixture.client().Get("/metrics");
    ASSERT_TRUE(metrics);
    body = metrics->body;
  }
  EXPECT_NE(body.find(five), std::string::npos) << body;

  auto bad = test::run_minnow({"bench", "serve", "--url", url, "--warmup", "-1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--warmup"), std::string::npos) << bad.err;
  // Nothing listens on port 1: the warm-up says so instead of the run
  // reporting every request as an error.
  auto refused = test::run_minnow({"bench", "serve", "--url", "http://127.0.0.1:1", "-n", "2"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("warm-up"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace minnow
