// `minnow bench serve`: a load test of a running OpenAI-compatible server.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace minnow::cli {

struct BenchServeOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string model;
  std::string api_key;
  int concurrency = 8;
  int requests = 64;
  int prompt_tokens = 64;
  int max_tokens = 64;
  int warmup = 1;  // untimed requests first (a model loads on first use)
  bool json = false;
};

// Adds the `serve` subcommand under `bench`.
void add_bench_serve(CLI::App& bench, std::function<int()>& run);
int run_bench_serve(const BenchServeOptions& o);

}  // namespace minnow::cli
