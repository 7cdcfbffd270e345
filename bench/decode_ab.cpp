// minnow_decode_ab: two decode set-ups timed in alternation inside one
// process, so that both meet the same host.
//
// On shared VMs the two vCPUs move between one Zen CCD and two within
// seconds (docs/PERFORMANCE.md: the probe reads ~35 or ~60-69 GB/s), and
// runs of one binary spread 84-132 tokens/s in an hour; two processes
// alternated cannot resolve a 2% change. Here set-up A and set-up B decode
// `--tokens` tokens each in turn, in alternating order, round after round,
// on one thread pool; each round's thread round trip says which placement
// it had, and the summary gives B's speed over A's per placement. B is a
// second load of the model (twice the memory). --b-env reaches only what
// is read while a model loads (MINNOW_PREPACK); the kernel path and huge
// pages are chosen once per process. To compare code, give it a switch the
// two set-ups differ in, as --b-prefetch is for the prefetch distance.
//
//   minnow_decode_ab -m q4.gguf --b-prefetch 2048          # decode prefetch distance
//   minnow_decode_ab -m q4.gguf --b-env MINNOW_PREPACK=0   # anything read at load
//   minnow_decode_ab -m q4_0.gguf --b-model q8_0.gguf      # two files
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/prefetch.h"
#include "model/context.h"
#include "model/model.h"

namespace {

using namespace minnow;

struct Options {
  std::string model, b_model;
  std::vector<std::string> b_env;
  std::string b_prefetch;
  int rounds = 20, tokens = 32, threads = 0;
  double near_ns = 150;
  bool json = false, each_round = false;
};

struct Round {
  double round_trip_ns = 0, a_tps = 0, b_tps = 0;
};

// Sets NAME=VALUE pairs for as long as it lives, then restores what was there.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::vector<std::string>& pairs) {
    for (const std::string& kv : pairs) {
      const size_t eq = kv.find('=');
      const std::string name = kv.substr(0, eq);
      const char* old = std::getenv(name.c_str());
      saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
      setenv(name.c_str(), eq == std::string::npos ? "" : kv.c_str() + eq + 1, 1);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// `tokens` single-token steps from an empty cache (one untimed step first), tokens/s.
Expected<double> time_block(InferenceContext& ctx, int tokens, std::vector<float>& logits) {
  ctx.reset();
  const int32_t id = 1;
  const std::span<const int32_t> one(&id, 1);
  MINNOW_TRY(ctx.decode_into(one, logits));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < tokens; ++i) MINNOW_TRY(ctx.decode_into(one, logits));
  return double(tokens) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const Options& o) {
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "minnow_decode_ab: %s\n", what.c_str());
    return 1;
  };
  if (o.rounds < 1 || o.rounds > 10000) return fail("--rounds must be in 1..10000");
  if (o.tokens < 1 || o.tokens > 4096) return fail("--tokens must be in 1..4096");
  if (o.threads < 0 || o.threads > 1024) return fail("-t must be in 0..1024");
  for (const std::string& kv : o.b_env)
    if (kv.find('=') == std::string::npos || kv.front() == '=') return fail("--b-env wants NAME=VALUE, got " + kv);
  const size_t a_prefetch = kernels::decode_prefetch_bytes();
  size_t b_prefetch = a_prefetch;
  if (!o.b_prefetch.empty()) {
    b_prefetch = kernels::decode_prefetch_from_env(o.b_prefetch.c_str(), SIZE_MAX);
    if (b_prefetch == SIZE_MAX) return fail("--b-prefetch wants off or a multiple of 64 up to 65536");
  }

  auto a = Model::load(o.model);
  if (!a) return fail(a.error().to_string());
  Expected<std::shared_ptr<const Model>> b = [&] {
    ScopedEnv env(o.b_env);
    return Model::load(o.b_model.empty() ? o.model : o.b_model);
  }();
  if (!b) return fail(b.error().to_string());

  // One pool for both: the same threads, pinned the same way, meet both set-ups.
  auto pool = std::make_shared<ThreadPool>(unsigned(o.threads));
  ContextParams cp(uint32_t(o.tokens + 2), KvType::kF16);
  cp.pool = pool;
  auto ca = InferenceContext::create(*a, cp);
  if (!ca) return fail(ca.error().to_string());
  auto cb = InferenceContext::create(*b, cp);
  if (!cb) return fail(cb.error().to_string());
  InferenceContext* ctx[2] = {ca->get(), cb->get()};
  const size_t prefetch[2] = {a_prefetch, b_prefetch};

  std::vector<Round> rounds;
  std::vector<float> logits;
  for (int r = 0; r < o.rounds; ++r) {
    Round round;
    round.round_trip_ns = pool->round_trip_ns(2000);
    for (int k = 0; k < 2; ++k) {
      const int which = (r + k) % 2;  // A first in even rounds, B first in odd ones
      kernels::set_decode_prefetch_bytes(prefetch[which]);
      auto tps = time_block(*ctx[which], o.tokens, logits);
      if (!tps) return fail(tps.error().to_string());
      (which ? round.b_tps : round.a_tps) = *tps;
    }
    kernels::set_decode_prefetch_bytes(a_prefetch);
    rounds.push_back(round);
    if (o.each_round && !o.json)
      std::printf("round %3d  round trip %5.0f ns  A %8.2f t/s  B %8.2f t/s  B/A %.3f\n", r, round.round_trip_ns,
                  round.a_tps, round.b_tps, round.b_tps / round.a_tps);
  }

  // Rounds by placement: the threads' round trip at most near_ns (one die) or above it.
  struct Group {
    const char* key;    // JSON
    const char* label;  // table
    std::vector<double> a = {}, b = {}, ratio = {}, rt = {};
  };
  Group groups[] = {{"near", "near (one die)"}, {"far", "far (two dies)"}, {"all", "all"}};
  for (const Round& r : rounds) {
    // A pool of one, or a round trip that got no answer (an oversubscribed
    // machine: 0), says nothing about placement: such rounds count in "all" only.
    std::vector<Group*> into = {&groups[2]};
    if (r.round_trip_ns > 0) into.push_back(&groups[r.round_trip_ns > o.near_ns ? 1 : 0]);
    for (Group* g : into) {
      g->a.push_back(r.a_tps);
      g->b.push_back(r.b_tps);
      g->ratio.push_back(r.b_tps / r.a_tps);
      g->rt.push_back(r.round_trip_ns);
    }
  }
  auto wins = [](const Group& g) {
    return std::count_if(g.ratio.begin(), g.ratio.end(), [](double x) { return x > 1; });
  };
  if (o.json) {
    nlohmann::json out = {{"model_a", o.model},
                          {"model_b", o.b_model.empty() ? o.model : o.b_model},
                          {"b_env", o.b_env},
                          {"prefetch_a", a_prefetch},
                          {"prefetch_b", b_prefetch},
                          {"threads", pool->size()},
                          {"tokens_per_block", o.tokens},
                          {"near_ns", o.near_ns}};
    for (const Group& g : groups) {
      if (g.ratio.empty()) continue;
      out["placements"][g.key] = {{"rounds", g.ratio.size()},
                                  {"round_trip_ns",
                                   {{"min", *std::min_element(g.rt.begin(), g.rt.end())},
                                    {"max", *std::max_element(g.rt.begin(), g.rt.end())}}},
                                  {"a_tps_median", median(g.a)},
                                  {"b_tps_median", median(g.b)},
                                  {"b_over_a_median", median(g.ratio)},
                                  {"b_faster_rounds", wins(g)}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("A: %s; B: %s", o.model.c_str(), o.b_model.empty() ? o.model.c_str() : o.b_model.c_str());
  for (const std::string& kv : o.b_env) std::printf(" %s", kv.c_str());
  if (b_prefetch != a_prefetch) std::printf(", decode prefetch %zu -> %zu bytes", a_prefetch, b_prefetch);
  std::printf("\n%u threads, %d rounds of %d tokens each way\n\n", pool->size(), o.rounds, o.tokens);
  std::printf("| placement | rounds | round trip | A t/s | B t/s | B/A | B faster |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Group& g : groups) {
    if (g.ratio.empty()) continue;
    const double rt_min = *std::min_element(g.rt.begin(), g.rt.end()),
                 rt_max = *std::max_element(g.rt.begin(), g.rt.end());
    char rt[48] = "-";
    if (rt_max > 0) std::snprintf(rt, sizeof rt, "%.0f-%.0f ns", rt_min, rt_max);
    std::printf("| %s | %zu | %s | %.2f | %.2f | %.3f | %ld/%zu |\n", g.label, g.ratio.size(), rt, median(g.a),
                median(g.b), median(g.ratio), long(wins(g)), g.ratio.size());
  }
  std::printf("\nmedians; B/A is the median of the rounds' ratios (each round times both back to back)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"time two decode set-ups in alternation in one process (B's speed over A's, per placement)"};
  Options o;
  app.add_option("-m,--model", o.model, "GGUF model: set-up A (and B, unless --b-model)")->required();
  app.add_option("--b-model", o.b_model, "GGUF model for set-up B");
  app.add_option("--b-env", o.b_env, "NAME=VALUE set while B's model loads (e.g. MINNOW_PREPACK=0); repeatable");
  app.add_option("--b-prefetch", o.b_prefetch, "B's decode prefetch distance: bytes or off");
  app.add_option("-t,--threads", o.threads, "threads (default: one per core)");
  app.add_option("--rounds", o.rounds, "rounds (each times A and B once)")->capture_default_str();
  app.add_option("--tokens", o.tokens, "decode steps per set-up per round")->capture_default_str();
  app.add_option("--near-ns", o.near_ns, "round trips up to this count as one die")->capture_default_str();
  app.add_flag("--json", o.json, "JSON summary");
  app.add_flag("--each-round", o.each_round, "print every round");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
