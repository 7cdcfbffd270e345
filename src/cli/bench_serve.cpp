#include "cli/bench_serve.h"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/commands.h"

namespace minnow::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  bool ok = false;
  double ttft = 0, tpot = 0, e2e = 0;
  int tokens = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(rank);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - double(lo));
}

// One streaming completion; times the first token and counts the rest.
Sample one_request(const BenchServeOptions& o, const std::string& host, int port, const std::string& body) {
  Sample s;
  httplib::Client c(host, port);
  c.set_read_timeout(600, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body;
  req.set_header("Content-Type", "application/json");
  if (!o.api_key.empty()) req.set_header("Authorization", "Bearer " + o.api_key);
  const auto start = Clock::now();
  Clock::time_point first{};
  std::string buffer;
  int chunks = 0, usage_tokens = -1;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buffer.append(data, len);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      const std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
      auto j = nlohmann::json::parse(event.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) usage_tokens = j["usage"].value("completion_tokens", 0);
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const auto& ch = j["choices"][0];
      if (ch.contains("text") && !ch["text"].get<std::string>().empty()) {
        if (chunks++ == 0) first = Clock::now();
      }
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err;
  const bool sent = c.send(req, res, err);
  const auto end = Clock::now();
  if (!sent || res.status != 200 || chunks == 0) return s;
  s.ok = true;
  s.tokens = usage_tokens >= 0 ? usage_tokens : chunks;
  s.e2e = std::chrono::duration<double>(end - start).count();
  s.ttft = std::chrono::duration<double>(first - start).count();
  s.tpot = s.tokens > 1 ? (s.e2e - s.ttft) / double(s.tokens - 1) : 0.0;
  return s;
}

}  // namespace

int run_bench_serve(const BenchServeOptions& o) {
  if (o.concurrency < 1 || o.concurrency > 1024) return report_error(out_of_range("must be in 1..1024").with_field("--concurrency"));
  if (o.requests < 1 || o.requests > 1000000) return report_error(out_of_range("must be in 1..1000000").with_field("--requests"));
  if (o.prompt_tokens < 1 || o.max_tokens < 1) return report_error(out_of_range("must be positive").with_field("--prompt-tokens/--max-tokens"));
  if (o.warmup < 0 || o.warmup > 1000) return report_error(out_of_range("must be in 0..1000").with_field("--warmup"));
  // http://host:port only: the load test stays on the addresses it is given.
  std::string rest = o.url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else return report_error(invalid_argument("only http:// URLs are supported").with_field("--url"));
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const int port = colon == std::string::npos ? 80 : std::atoi(rest.c_str() + colon + 1);

  // Prompts are token ids, so their length is exact whatever the tokenizer.
  std::mt19937 rng(7);
  auto body = [&](int max_tokens) {
    std::vector<int> ids;
    for (int k = 0; k < o.prompt_tokens; ++k) ids.push_back(10 + int(rng() % 200));
    nlohmann::json j = {{"prompt", ids},       {"max_tokens", max_tokens}, {"temperature", 0},
                        {"stream", true},      {"ignore_eos", true},
                        {"stream_options", {{"include_usage", true}}}};
    if (!o.model.empty()) j["model"] = o.model;
    return j.dump();
  };
  // Warm-up requests, untimed, one at a time: the first request to a server
  // may load the model (and repack its weights), which is not serving speed.
  // Their prompts are drawn after the measured ones', so the prefix cache
  // gives the measured requests nothing they would not have had anyway.
  std::vector<std::string> bodies;
  for (int i = 0; i < o.requests; ++i) bodies.push_back(body(o.max_tokens));
  for (int i = 0; i < o.warmup; ++i) {
    if (!one_request(o, host, port, body(2)).ok)
      return report_error(io_error("the warm-up request failed").with_field(o.url));
  }
  std::vector<Sample> samples(size_t(o.requests));
  std::atomic<int> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < o.concurrency; ++w)
    workers.emplace_back([&] {
      for (int i; (i = next++) < o.requests;) samples[size_t(i)] = one_request(o, host, port, bodies[size_t(i)]);
    });
  for (auto& t : workers) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> ttft, tpot, e2e;
  int errors = 0;
  long tokens = 0;
  for (const auto& s : samples) {
    if (!s.ok) {
      ++errors;
      continue;
    }
    ttft.push_back(s.ttft * 1000);
    tpot.push_back(s.tpot * 1000);
    e2e.push_back(s.e2e * 1000);
    tokens += s.tokens;
  }
  const double qps = double(o.requests - errors) / wall, tps = double(tokens) / wall;
  if (o.json) {
    auto stats = [](const std::vector<double>& v) {
      return nlohmann::json{{"p50", percentile(v, 50)}, {"p95", percentile(v, 95)}, {"p99", percentile(v, 99)}};
    };
    nlohmann::json j = {{"url", o.url},           {"concurrency", o.concurrency}, {"requests", o.requests},
                        {"prompt_tokens", o.prompt_tokens}, {"max_tokens", o.max_tokens}, {"errors", errors},
                        {"wall_s", wall},         {"qps", qps},                 {"generated_tokens_per_s", tps},
                        {"ttft_ms", stats(ttft)}, {"tpot_ms", stats(tpot)},     {"e2e_ms", stats(e2e)}};
    std::printf("%s\n", j.dump(2).c_str());
    return errors == 0 ? 0 : 1;
  }
  std::printf("%d requests, concurrency %d, %d prompt tokens, %d generated each: %.1f s\n\n", o.requests,
              o.concurrency, o.prompt_tokens, o.max_tokens, wall);
  std::printf("| metric   |      p50 |      p95 |      p99 |\n|----------|---------:|---------:|---------:|\n");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("| %-8s | %8.1f | %8.1f | %8.1f |\n", name, percentile(v, 50), percentile(v, 95), percentile(v, 99));
  };
  row("TTFT ms", ttft);
  row("TPOT ms", tpot);
  row("E2E ms", e2e);
  std::printf("\nthroughput: %.2f requests/s, %.1f generated tokens/s, errors: %d\n", qps, tps, errors);
  return errors == 0 ? 0 : 1;
}

void add_bench_serve(CLI::App& bench, std::function<int()>& run) {
  auto o = std::make_shared<BenchServeOptions>();
  auto* sub = bench.add_subcommand("serve", "load-test a running server: TTFT/TPOT/latency percentiles, throughput");
  sub->add_option("--url", o->url, "server base URL")->capture_default_str();
  sub->add_option("--model", o->model, "model name (default: the server's first)");
  sub->add_option("--api-key", o->api_key, "API key");
  sub->add_option("-c,--concurrency", o->concurrency, "requests in flight")->capture_default_str();
  sub->add_option("-n,--requests", o->requests, "requests in total")->capture_default_str();
  sub->add_option("--prompt-tokens", o->prompt_tokens, "prompt length in tokens")->capture_default_str();
  sub->add_option("--max-tokens", o->max_tokens, "tokens generated per request")->capture_default_str();
  sub->add_option("--warmup", o->warmup, "untimed requests sent first, one at a time")->capture_default_str();
  sub->add_flag("--json", o->json, "machine-readable output");
  sub->callback([&run, o] { run = [o] { return run_bench_serve(*o); }; });
}

}  // namespace minnow::cli
