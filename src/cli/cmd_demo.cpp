// `minnow demo [--out FILE] [--synthetic NAME --quant TYPE]`: writes a
// random-weight model that every command (run, serve, bench) can load: the
// tiny built-in demo, or a full-size shape for serving benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/synthetic_model.h"
#include "gguf/gguf_file.h"
#include "gguf/tiny_model.h"

namespace minnow::cli {
namespace {

struct DemoOptions {
  std::string out = "minnow-demo.gguf";
  std::string synthetic;
  std::string quant = "Q4_K_M";
};

// The synthetic model's weights plus tokenizer metadata, so it can be served.
Status write_synthetic(const DemoOptions& o) {
  MINNOW_ASSIGN_OR_RETURN(SyntheticModel sm,
                          make_synthetic_model(o.synthetic, o.quant, std::max(1u, std::thread::hardware_concurrency())));
  const GgufFile& src = sm.model->file();
  GgufWriter w;
  for (const auto& [k, v] : src.metadata())
    if (k.rfind("tokenizer.", 0) != 0) w.set(k, v);
  add_byte_vocab(w, sm.model->hparams().n_vocab);
  for (const auto& t : src.tensors()) {
    auto data = src.tensor_data(t);
    MINNOW_TRY(w.add_tensor(t.name, t.type, t.ne, {data.begin(), data.end()}));
  }
  return w.write(o.out);
}

}  // namespace

void add_demo_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<DemoOptions>();
  auto* sub = app.add_subcommand("demo", "write a random-weight model (the built-in demo, or --synthetic shapes)");
  sub->add_option("-o,--out", o->out, "output path")->capture_default_str();
  sub->add_option("--synthetic", o->synthetic, "a `minnow bench --synthetic` shape, e.g. qwen2.5-0.5b");
  sub->add_option("--quant", o->quant, "quantization of a synthetic model")->capture_default_str();
  sub->callback([&run, o] {
    run = [o] {
      Status s = o->synthetic.empty() ? make_tiny_model(TinyModelSpec{}).write(o->out) : write_synthetic(*o);
      if (!s.ok()) return report_error(s.error());
      std::printf("wrote %s (random weights: for trying minnow, not for answers)\n", o->out.c_str());
      return 0;
    };
  });
}

}  // namespace minnow::cli
