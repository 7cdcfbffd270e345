// Each subcommand adds itself to the app and, when chosen, sets `run`.
#pragma once

#include <functional>

#include "base/status.h"

namespace CLI {
class App;
}

namespace minnow::cli {

using RunFn = std::function<int()>;

// Prints "minnow: error: <context>" on stderr and returns exit code 1.
int report_error(const Error& e);

void add_inspect_command(CLI::App& app, RunFn& run);
void add_demo_command(CLI::App& app, RunFn& run);
void add_logits_command(CLI::App& app, RunFn& run);
void add_run_command(CLI::App& app, RunFn& run);
void add_serve_command(CLI::App& app, RunFn& run);
void add_embed_command(CLI::App& app, RunFn& run);
void add_perplexity_command(CLI::App& app, RunFn& run);
void add_quantize_command(CLI::App& app, RunFn& run);
void add_tokenize_command(CLI::App& app, RunFn& run);
void add_bench_command(CLI::App& app, RunFn& run);
void add_template_command(CLI::App& app, RunFn& run);

}  // namespace minnow::cli
