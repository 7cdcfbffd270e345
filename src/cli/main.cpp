#include <CLI/CLI.hpp>
#include <cstdio>
#include <malloc.h>

#include "cli/commands.h"

namespace minnow::cli {

int report_error(const Error& e) {
  std::fprintf(stderr, "minnow: error: %s\n", e.to_string().c_str());
  return 1;
}

}  // namespace minnow::cli

int main(int argc, char** argv) {
  using namespace minnow::cli;
  // The forward pass allocates its activation buffers per call; above glibc's
  // mmap threshold each would be fresh pages, faulted in and zeroed by the
  // kernel every layer (a third of pp512's time). Keep freed memory instead.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"minnow: run, serve and measure small language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "minnow 0.1.0");
  RunFn run;
  // One line per subcommand, in the order `minnow --help` lists them.
  add_inspect_command(app, run);
  add_demo_command(app, run);
  add_run_command(app, run);
  add_serve_command(app, run);
  add_logits_command(app, run);
  add_embed_command(app, run);
  add_perplexity_command(app, run);
  add_quantize_command(app, run);
  add_tokenize_command(app, run);
  add_bench_command(app, run);
  add_template_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      std::fprintf(stderr, "minnow: error: %s\n", e.what());
      std::fprintf(stderr, "run 'minnow --help' for usage\n");
      return 1;
    }
    return app.exit(e);
  }
  return run ? run() : 1;
}
