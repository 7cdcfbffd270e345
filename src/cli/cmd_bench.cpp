// `minnow bench (-m FILE | --synthetic NAME --quant T) [-p N] [-n N] [-d N] [-t N] [-r N] [--passes] [--json]`
// and `minnow bench --membw`. Prompt processing (pp) times one batch of p
// tokens; text generation (tg) times n single-token steps, like llama-bench:
// from an empty context, or after -d tokens already in the cache (a long
// chat or a RAG prompt; rows read "tg128 @ d4096"). tg rows also report
// efficiency: bytes read per token (weights, plus the KV cache at depth) x
// tokens/s / the read bandwidth measured around each repetition. Every row says
// which share of its threads' wall time the process actually got the CPU
// (cpu share), because a busy shared machine lowers every figure.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/resource.h>

#include "base/huge_pages.h"
#include "base/thread_pool.h"
#include "cli/bench_passes.h"
#include "cli/bench_serve.h"
#include "cli/commands.h"
#include "cli/synthetic_model.h"
#include "kernels/kernel_table.h"
#include "kernels/membw.h"
#include "kernels/prefetch.h"
#include "model/context.h"

namespace minnow::cli {
namespace {

struct BenchOptions {
  std::string model, synthetic, quant = "Q4_0";
  int64_t n_prompt = 512, n_gen = 128, n_depth = 0, n_threads = 0, reps = 5, batch = 1;
  bool json = false, membw = false, passes = false;
};

struct Row {
  std::string test;
  uint32_t n_prompt = 0, n_gen = 0, n_depth = 0;
  double avg = 0, sd = 0;
  double efficiency = -1;  // < 0: not a tg row
  double cpu_share = 0;    // CPU time used / (wall time x threads): < 1 when the machine is shared
  uint32_t batch = 1;      // sequences decoded together (--batch)
};

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void mean_sd(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  sd = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0;
}

// Bytes a decode step streams from the weights: every matrix once, including
// the output projection (the token embedding itself when tied); an untied
// token embedding is only looked up, one row per token.
uint64_t weight_bytes_per_token(const Model& m) {
  uint64_t bytes = m.weight_bytes();
  const TensorRef& embd = m.global(Role::kTokEmbd);
  if (m.output().data != embd.data) bytes -= embd.row_bytes * embd.ne1;
  return bytes;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1ull << 30));
  else
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(1ull << 20));
  return buf;
}

// The round trips between two of the probe pool's threads over a run.
struct RoundTrips {
  double min = 0, max = 0;
  void add(double ns) {
    if (ns <= 0) return;  // the thread did not answer in time
    min = seen() ? std::min(min, ns) : ns;
    max = std::max(max, ns);
  }
  bool seen() const { return max > 0; }
  // "thread round trip 52 ns", or "52-340 ns" when it changed during the run.
  std::string describe() const {
    char buf[64];
    if (max > 1.5 * min)
      std::snprintf(buf, sizeof buf, "thread round trip %.0f-%.0f ns", min, max);
    else
      std::snprintf(buf, sizeof buf, "thread round trip %.0f ns", max);
    return buf;
  }
};

int run_membw(const BenchOptions& o) {
  ThreadPool pool(unsigned(o.n_threads));
  kernels::ReadBandwidthProbe probe(pool, size_t(1) << 30);
  const auto each = probe.measure_each_shape(5, probe.bytes());
  RoundTrips round_trip;  // once the pool's threads have run, as in a model's passes
  round_trip.add(pool.round_trip_ns());
  const double bw = *std::max_element(each.begin(), each.end());
  if (o.json) {
    nlohmann::json shapes = nlohmann::json::object();
    for (size_t i = 0; i < each.size(); ++i) shapes[kernels::kProbeShapeNames[i]] = each[i] / 1e9;
    nlohmann::json j = {{"n_threads", pool.size()}, {"read_bandwidth_gbs", bw / 1e9}, {"loop_shapes_gbs", shapes}};
    if (round_trip.seen()) j["thread_round_trip_ns"] = {{"min", round_trip.min}, {"max", round_trip.max}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("read bandwidth, %u thread%s: %.1f GB/s (the best of:", pool.size(), pool.size() == 1 ? "" : "s",
                bw / 1e9);
    for (size_t i = 0; i < each.size(); ++i)
      std::printf("%s %s %.1f", i ? ";" : "", kernels::kProbeShapeNames[i], each[i] / 1e9);
    std::printf(")");
    if (round_trip.seen()) std::printf("; %s", round_trip.describe().c_str());
    std::printf("\n");
  }
  return 0;
}

// llama-bench's test names: "pp512", "tg128", "tg128 @ d4096".
std::string test_name(const char* kind, int64_t n, int64_t depth) {
  std::string name = kind + std::to_string(n);
  if (depth > 0) name += " @ d" + std::to_string(depth);
  return name;
}

// `--batch B`: B sequences decode n_gen tokens in lockstep, one token each
// per forward pass (decode_batch), as a server's busy slots do. t/s counts
// all B sequences' tokens, so the row divided by the tg row is the gain from
// batching.
// With --passes, `passes` gets its timed steps' matmul passes.
Status run_batched(InferenceContext& first, const BenchOptions& o, unsigned threads, std::vector<Row>& rows,
                   PassReport& passes) {
  ContextParams cp;
  cp.n_ctx = first.n_ctx();
  cp.n_threads = threads;
  cp.pool = std::make_shared<ThreadPool>(threads);
  std::vector<std::unique_ptr<InferenceContext>> ctxs;
  for (int64_t b = 0; b < o.batch; ++b) {
    MINNOW_ASSIGN_OR_RETURN(auto c, InferenceContext::create(first.shared_model(), cp));
    ctxs.push_back(std::move(c));
  }
  const uint32_t n_vocab = first.model().hparams().n_vocab;
  std::mt19937 rng(99);
  std::vector<int32_t> ids(ctxs.size());
  std::vector<std::vector<float>> logits(ctxs.size());
  auto step = [&]() -> Status {
    std::vector<DecodeItem> items;
    for (size_t b = 0; b < ctxs.size(); ++b) {
      ids[b] = int32_t(rng() % n_vocab);
      items.push_back({ctxs[b].get(), std::span<const int32_t>(&ids[b], 1), false, &logits[b]});
    }
    return decode_batch(items);
  };
  MINNOW_TRY(step());  // warm-up
  std::vector<double> ts;
  double wall = 0;
  const double cpu0 = process_cpu_seconds();
  if (o.passes) kernels::set_pass_profiling(true);  // the resets run no matmul: only the steps count
  for (int64_t r = 0; r < o.reps; ++r) {
    for (auto& c : ctxs) c->reset();
    kernels::break_pass_gaps();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < o.n_gen; ++i) MINNOW_TRY(step());
    const double s = seconds_since(t0);
    wall += s;
    ts.push_back(double(o.n_gen * o.batch) / s);
  }
  Row row{test_name("tg", o.n_gen, 0) + " x" + std::to_string(o.batch), 0, uint32_t(o.n_gen)};
  if (o.passes) {
    kernels::set_pass_profiling(false);
    passes.totals = kernels::pass_totals();
    passes.test = row.test;
    passes.steps = double(o.reps * o.n_gen);
    passes.seconds = wall;
    passes.batch = uint32_t(o.batch);
  }
  mean_sd(ts, row.avg, row.sd);
  row.cpu_share = (process_cpu_seconds() - cpu0) / (wall * threads);
  row.batch = uint32_t(o.batch);
  rows.push_back(row);
  return Status::success();
}

// Read bandwidth now, in bytes/s (0: not measured).
using BandwidthProbe = std::function<double()>;

// With --passes, `passes` gets the tg test's matmul passes and
// `batch_passes` the batched tg test's. A decode step
// at position q also reads the cache's first q + 1 positions, kv_per_position
// bytes each.
Expected<std::vector<Row>> run_tests(InferenceContext& ctx, const BenchOptions& o, double bytes_per_token,
                                     double kv_per_position,
                                     const BandwidthProbe& probe, double& bandwidth, unsigned threads,
                                     PassReport& passes, PassReport& batch_passes) {
  std::vector<Row> rows;
  const uint32_t n_vocab = ctx.model().hparams().n_vocab;
  std::mt19937 rng(1234);
  auto random_tokens = [&](size_t n) {
    std::vector<int32_t> t(n);
    for (auto& id : t) id = int32_t(rng() % n_vocab);
    return t;
  };
  // Encoders (BERT) have no generation: their pp row times encode().
  const bool encoder = ctx.model().traits().encoder;
  // The -d tokens go into the cache once, untimed; each test starts from
  // them (truncate keeps the first n_depth positions; 0 empties the cache).
  const uint32_t depth = encoder ? 0 : uint32_t(o.n_depth);
  ctx.reset();
  for (uint32_t done = 0; done < depth;) {
    const uint32_t n = std::min<uint32_t>(512, depth - done);  // prompt-sized batches bound the activations
    auto out = ctx.decode(random_tokens(n));
    if (!out) return std::move(out).error();
    done += n;
  }
  auto process = [&](const std::vector<int32_t>& tokens) -> Status {
    ctx.truncate(depth);
    auto out = encoder ? ctx.encode(tokens) : ctx.decode(tokens);
    if (!out) return std::move(out).error();
    return Status::success();
  };
  if (o.n_prompt > 0) {
    const auto prompt = random_tokens(size_t(o.n_prompt));
    MINNOW_TRY(process(prompt));  // warm-up: page in the weights, size the buffers
    std::vector<double> ts;
    double wall = 0;
    const double cpu0 = process_cpu_seconds();
    for (int64_t r = 0; r < o.reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      MINNOW_TRY(process(prompt));
      const double s = seconds_since(t0);
      wall += s;
      ts.push_back(double(o.n_prompt) / s);
    }
    Row row{test_name("pp", o.n_prompt, depth), uint32_t(o.n_prompt), 0, depth};
    mean_sd(ts, row.avg, row.sd);
    row.cpu_share = (process_cpu_seconds() - cpu0) / (wall * threads);
    rows.push_back(row);
  }
  if (o.n_gen > 0 && !encoder) {
    MINNOW_TRY(process(random_tokens(1)));  // warm-up
    std::vector<double> ts, effs, bws;
    double wall = 0, cpu = 0;
    // Bandwidth is probed before and after every repetition and each one is
    // divided by the mean of its two probes: on a shared machine another
    // tenant's traffic comes and goes within seconds, and one probe before
    // the whole row would be compared with the wrong minutes.
    double bw_before = probe();
    passes.test = test_name("tg", o.n_gen, depth);
    // Positions depth .. depth + n_gen - 1 read depth + 1 .. depth + n_gen cache rows.
    const double kv_per_token = kv_per_position * (double(depth) + double(o.n_gen + 1) / 2);
    if (o.passes) kernels::set_pass_profiling(true);
    std::vector<float> logits;  // reused, as a generation loop does
    for (int64_t r = 0; r < o.reps; ++r) {
      ctx.truncate(depth);
      const auto tokens = random_tokens(size_t(o.n_gen));
      const double cpu0 = process_cpu_seconds();
      kernels::break_pass_gaps();
      const auto t0 = std::chrono::steady_clock::now();
      for (int32_t id : tokens) MINNOW_TRY(ctx.decode_into(std::span<const int32_t>(&id, 1), logits));
      const double s = seconds_since(t0);
      cpu += process_cpu_seconds() - cpu0;
      wall += s;
      ts.push_back(double(o.n_gen) / s);
      const double bw_after = probe(), bw = (bw_before + bw_after) / 2;
      bws.push_back(bw);
      if (bw > 0) effs.push_back((bytes_per_token + kv_per_token) * ts.back() / bw);
      bw_before = bw_after;
    }
    if (o.passes) {
      kernels::set_pass_profiling(false);
      passes.totals = kernels::pass_totals();
      passes.steps = double(o.reps * o.n_gen);
      passes.seconds = wall;
    }
    Row row{test_name("tg", o.n_gen, depth), 0, uint32_t(o.n_gen), depth};
    mean_sd(ts, row.avg, row.sd);
    row.cpu_share = cpu / (wall * threads);
    double sd = 0;
    row.efficiency = 0.0;
    if (!effs.empty()) mean_sd(effs, row.efficiency, sd);
    mean_sd(bws, bandwidth, sd);
    rows.push_back(row);
  }
  if (o.n_gen > 0 && o.batch > 1 && !encoder) MINNOW_TRY(run_batched(ctx, o, threads, rows, batch_passes));
  return rows;
}

int run_bench(const BenchOptions& o) {
  if (o.membw) return run_membw(o);
  if (o.model.empty() == o.synthetic.empty())
    return report_error(invalid_argument("give exactly one of -m FILE and --synthetic NAME"));
  if (o.n_prompt < 0 || o.n_gen < 0 || o.n_prompt + o.n_gen > 8192)
    return report_error(out_of_range("-p and -n must be >= 0 and together at most 8192").with_field("-p/-n"));
  if (o.n_depth < 0 || o.n_depth > 32768) return report_error(out_of_range("must be in 0..32768").with_field("-d"));
  if (o.reps < 1 || o.reps > 1000) return report_error(out_of_range("must be in 1..1000").with_field("-r"));
  if (o.batch < 1 || o.batch > 64) return report_error(out_of_range("must be in 1..64").with_field("--batch"));
  if (o.n_threads < 0 || o.n_threads > 1024) return report_error(out_of_range("must be in 0..1024").with_field("-t"));

  SyntheticModel synthetic;
  std::shared_ptr<const Model> model;
  std::string model_type;
  if (!o.synthetic.empty()) {
    auto made = make_synthetic_model(o.synthetic, o.quant, unsigned(o.n_threads));
    if (!made) return report_error(made.error());
    synthetic = std::move(*made);
    model = synthetic.model;
    model_type = o.synthetic + " " + o.quant;
  } else {
    auto loaded = Model::load(o.model);
    if (!loaded) return report_error(loaded.error());
    model = *loaded;
    model_type = model->hparams().arch + " " + o.model.substr(o.model.find_last_of('/') + 1);
  }
  ContextParams cp;
  cp.n_ctx = uint32_t(o.n_depth + std::max<int64_t>(o.n_prompt, o.n_gen + 1));
  cp.n_threads = uint32_t(o.n_threads);
  auto ctx = InferenceContext::create(model, cp);
  if (!ctx) return report_error(ctx.error());

  uint64_t n_params = 0;
  for (const auto& t : model->file().tensors()) n_params += t.n_elements;
  const double bytes_per_token = double(weight_bytes_per_token(*model));
  double bandwidth = 0;
  // Eight times the weights (at least 64 MiB, past any L3), at most 512 MiB.
  const size_t buffer = std::clamp<size_t>(size_t(8 * bytes_per_token), size_t(64) << 20, size_t(512) << 20);
  std::unique_ptr<ThreadPool> probe_pool;  // made on first use: only tg rows probe
  std::unique_ptr<kernels::ReadBandwidthProbe> membw;
  // With every bandwidth probe, the threads' round trip: on hosts that move
  // vCPUs between dies it tells which placement a run had (docs/PERFORMANCE.md).
  RoundTrips round_trips;
  const BandwidthProbe probe = [&] {
    if (!membw) {
      probe_pool = std::make_unique<ThreadPool>(unsigned(o.n_threads));
      membw = std::make_unique<kernels::ReadBandwidthProbe>(*probe_pool, buffer);
    }
    round_trips.add(probe_pool->round_trip_ns());
    return membw->measure(3);
  };
  const unsigned threads = o.n_threads ? unsigned(o.n_threads) : ThreadPool::default_thread_count();
  // Measured before the probe's own buffer exists: what the weights got.
  const double huge_mib = double(resident_huge_page_bytes()) / double(1 << 20);
  if (huge_pages_enabled() && transparent_huge_page_mode() == "never")
    std::fprintf(stderr,
                 "note: transparent huge pages are off on this system "
                 "(/sys/kernel/mm/transparent_hugepage/enabled): weights stream over 4 KB pages, and decode "
                 "runs about 15-20%% slower than with them (docs/PERFORMANCE.md)\n");
  PassReport passes, batch_passes;
  const double kv_per_position = double((*ctx)->kv_bytes()) / double((*ctx)->n_ctx());
  auto rows = run_tests(**ctx, o, bytes_per_token, kv_per_position, probe, bandwidth, threads, passes, batch_passes);
  if (!rows) return report_error(rows.error());

  const std::string isa(kernels::isa_name(kernels::kernel_table().isa));
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : *rows) {
      out.push_back({{"model_type", model_type},
                     {"model_size", model->weight_bytes()},
                     {"model_n_params", n_params},
                     {"backend", "CPU"},
                     {"n_threads", threads},
                     {"n_prompt", r.n_prompt},
                     {"n_gen", r.n_gen},
                     {"n_depth", r.n_depth},
                     {"n_batch_seqs", r.batch},
                     {"avg_ts", r.avg},
                     {"stddev_ts", r.sd},
                     {"efficiency", r.efficiency >= 0 ? nlohmann::json(r.efficiency) : nlohmann::json(nullptr)},
                     {"read_bandwidth_gbs", bandwidth / 1e9},
                     {"huge_pages_mib", huge_mib},
                     {"cpu_share", r.cpu_share},
                     {"isa", isa},
                     {"decode_prefetch_bytes", kernels::decode_prefetch_bytes()}});
      if (round_trips.seen())
        out.back()["thread_round_trip_ns"] = {{"min", round_trips.min}, {"max", round_trips.max}};
      if (o.passes && r.efficiency >= 0 && r.batch == 1) out.back()["passes"] = pass_report_json(passes, bandwidth);
      if (o.passes && r.batch > 1) out.back()["passes"] = pass_report_json(batch_passes, bandwidth);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("| model | size | params | backend | threads | test | t/s | efficiency | cpu share |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Row& r : *rows) {
    char eff[32] = "";
    if (r.efficiency >= 0) std::snprintf(eff, sizeof eff, "%.0f%%", 100.0 * r.efficiency);
    std::printf("| %s | %s | %.2f M | CPU (%s) | %u | %s | %.2f ± %.2f | %s | %.0f%% |\n", model_type.c_str(),
                human_bytes(model->weight_bytes()).c_str(), double(n_params) / 1e6, isa.c_str(), threads,
                r.test.c_str(), r.avg, r.sd, eff, 100.0 * r.cpu_share);
  }
  if (o.n_gen > 0) {
    std::printf("\nread bandwidth %.1f GB/s; %.1f MiB of weights read per token", bandwidth / 1e9,
                bytes_per_token / double(1 << 20));
    if (o.n_depth > 0)
      std::printf(" (+ %.1f MiB of KV cache at depth %lld)", kv_per_position * double(o.n_depth) / double(1 << 20),
                  (long long)o.n_depth);
    std::printf("; %.0f MiB of this process on 2 MB pages; decode prefetch %s", huge_mib,
                kernels::decode_prefetch_description().c_str());
    if (round_trips.seen()) std::printf("; %s", round_trips.describe().c_str());
    std::printf("\n");
  }
  if (o.passes) {
    print_pass_report(passes, bandwidth);
    print_pass_report(batch_passes, bandwidth);
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<BenchOptions>();
  auto* sub = app.add_subcommand("bench", "measure prompt and generation speed (llama-bench style)");
  sub->add_option("-m,--model", o->model, "GGUF model file");
  sub->add_option("--synthetic", o->synthetic, "built-in random-weight shape: tiny, qwen2.5-0.5b, qwen2.5-1.5b, "
                                              "llama3.2-1b, llama3.2-3b, phi3-mini, gemma2-2b, mistral-7b");
  sub->add_option("--quant", o->quant, "quantization of a synthetic model (Q4_0, Q8_0, Q4_K_M, F16, F32, ...)")
      ->capture_default_str();
  sub->add_option("-p,--n-prompt", o->n_prompt, "prompt tokens (pp test; 0 skips)")->capture_default_str();
  sub->add_option("-n,--n-gen", o->n_gen, "generated tokens (tg test; 0 skips)")->capture_default_str();
  sub->add_option("-d,--n-depth", o->n_depth, "tokens already in the KV cache before each test (untimed)")
      ->capture_default_str();
  sub->add_option("-t,--threads", o->n_threads, "threads (default: one per core)");
  sub->add_option("-r,--repetitions", o->reps, "repetitions of each test")->capture_default_str();
  sub->add_option("--batch", o->batch,
                  "also decode this many sequences in lockstep (a tg row \"xB\": t/s of all sequences together)")
      ->capture_default_str();
  sub->add_flag("--json", o->json, "JSON array with llama-bench field names");
  sub->add_flag("--membw", o->membw, "only measure memory read bandwidth");
  sub->add_flag("--passes", o->passes, "time the tg test's matmul passes: ms, MB and GB/s per token for each");
  add_bench_serve(*sub, run);
  sub->callback([&run, o, sub] {
    if (sub->got_subcommand("serve")) return;  // `bench serve` set run already
    run = [o] { return run_bench(*o); };
  });
}

}  // namespace minnow::cli
