// `minnow demo [--out FILE]`: writes the built-in random-weight demo model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "gguf/tiny_model.h"

namespace minnow::cli {

void add_demo_command(CLI::App& app, RunFn& run) {
  auto out = std::make_shared<std::string>("minnow-demo.gguf");
  auto* sub = app.add_subcommand("demo", "write the built-in demo model (random weights) to a GGUF file");
  sub->add_option("-o,--out", *out, "output path")->capture_default_str();
  sub->callback([&run, out] {
    run = [out] {
      Status s = make_tiny_model(TinyModelSpec{}).write(*out);
      if (!s.ok()) return report_error(s.error());
      std::printf("wrote %s (random weights: for trying minnow, not for answers)\n", out->c_str());
      return 0;
    };
  });
}

}  // namespace minnow::cli
