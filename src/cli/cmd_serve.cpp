// `minnow serve [-m FILE[=ALIAS] ...] [--port N] [--config minnow.yaml]`
// Without -m it serves the built-in demo model (random weights).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "gguf/tiny_model.h"
#include "server/http_server.h"

namespace minnow::cli {
namespace {

struct ServeOptions {
  ServerOptions server;
  std::vector<std::string> models;
  std::string api_key_file;
  std::string config;
};

Status apply_config(const std::string& path, ServeOptions& o) {
  try {
    YAML::Node c = YAML::LoadFile(path);
    if (c["host"]) o.server.host = c["host"].as<std::string>();
    if (c["port"]) o.server.port = c["port"].as<int>();
    if (c["parallel"]) o.server.parallel = c["parallel"].as<uint32_t>();
    if (c["ctx"]) o.server.n_ctx = c["ctx"].as<uint32_t>();
    if (c["max_queue"]) o.server.max_queue = c["max_queue"].as<uint32_t>();
    if (c["cors"]) o.server.cors_origin = c["cors"].as<std::string>();
    if (c["keep_alive"]) o.server.keep_alive_s = c["keep_alive"].as<int>();
    if (c["models_max"]) o.server.models_max = c["models_max"].as<uint32_t>();
    if (c["api_keys"])
      for (const auto& k : c["api_keys"]) o.server.api_keys.push_back(k.as<std::string>());
    if (c["models"])
      for (const auto& m : c["models"]) {
        if (m.IsScalar()) o.models.push_back(m.as<std::string>());
        else o.models.push_back(m["path"].as<std::string>() + (m["alias"] ? "=" + m["alias"].as<std::string>() : ""));
      }
  } catch (const YAML::Exception& e) {
    return invalid_argument(e.what()).with_file(path);
  }
  return Status::success();
}

Expected<std::string> demo_model_path() {
  const char* home = std::getenv("MINNOW_HOME");
  const char* user_home = std::getenv("HOME");
  std::filesystem::path dir = home ? home : std::filesystem::path(user_home ? user_home : "/tmp") / ".cache" / "minnow";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (dir / "minnow-demo.gguf").string();
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "minnow: generating the demo model (random weights) at %s\n", path.c_str());
    MINNOW_TRY(make_tiny_model(TinyModelSpec{}).write(path));
  }
  return path;
}

int run_serve(ServeOptions o) {
  if (!o.config.empty())
    if (Status s = apply_config(o.config, o); !s.ok()) return report_error(s.error());
  if (Status s = load_api_keys(o.api_key_file, o.server.api_keys); !s.ok()) return report_error(s.error());
  if (o.server.port < 0 || o.server.port > 65535) return report_error(out_of_range("must be in 0..65535").with_field("--port"));
  if (o.server.parallel == 0 || o.server.parallel > 256) return report_error(out_of_range("must be in 1..256").with_field("--parallel"));
  if (o.models.empty()) {
    auto demo = demo_model_path();
    if (!demo.ok()) return report_error(demo.error());
    o.models.push_back(*demo + "=minnow-demo");
  }
  for (const auto& m : o.models) {
    const size_t eq = m.rfind('=');
    ServedModel sm;
    sm.path = eq == std::string::npos ? m : m.substr(0, eq);
    sm.alias = eq == std::string::npos ? std::filesystem::path(sm.path).stem().string() : m.substr(eq + 1);
    if (!std::filesystem::is_regular_file(sm.path))
      return report_error(io_error("no such model file").with_file(sm.path));
    o.server.models.push_back(sm);
  }
  // Signals go to one waiting thread, which starts the graceful shutdown.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  HttpServer server(o.server);
  if (Status s = server.bind(); !s.ok()) return report_error(s.error());
  std::string names;
  for (const auto& m : o.server.models) names += (names.empty() ? "" : ", ") + m.alias;
  std::printf("minnow serve: listening on http://%s:%d  models: %s%s\n", o.server.host.c_str(), server.port(),
              names.c_str(), o.server.api_keys.empty() ? "" : "  (API key required)");
  std::fflush(stdout);
  std::thread watcher([&server, set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "minnow serve: %s received, finishing requests\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.shutdown();
  });
  server.serve();
  // serve() also returns if the socket fails; wake the watcher so it exits.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::fprintf(stderr, "minnow serve: stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<ServeOptions>();
  auto* sub = app.add_subcommand("serve", "OpenAI-compatible HTTP server");
  sub->add_option("-m,--model", o->models, "GGUF model, optionally FILE=ALIAS (repeatable)");
  sub->add_option("--host", o->server.host, "address to bind")->capture_default_str();
  sub->add_option("--port", o->server.port, "port (0: any free port)")->capture_default_str();
  sub->add_option("--parallel", o->server.parallel, "sequences decoded together per model")->capture_default_str();
  sub->add_option("--ctx", o->server.n_ctx, "context per sequence (0: min(training, 4096))");
  sub->add_option("--max-queue", o->server.max_queue, "waiting requests before 503")->capture_default_str();
  sub->add_option("--max-n", o->server.max_n, "most choices (n) per request")->capture_default_str();
  sub->add_option("--api-key", o->server.api_keys, "require this key (repeatable)");
  sub->add_option("--api-key-file", o->api_key_file, "file with one key per line");
  sub->add_option("--cors", o->server.cors_origin, "allow browser requests from this origin");
  sub->add_option("--max-body", o->server.max_body_bytes, "largest request body in bytes")->capture_default_str();
  sub->add_option("--timeout", o->server.request_timeout_s, "per-request deadline in seconds")->capture_default_str();
  sub->add_option("--rate-limit", o->server.rate_limit_rps, "requests per second per API key (0: off)");
  sub->add_option("--keep-alive", o->server.keep_alive_s, "unload models idle this many seconds (-1: never)")
      ->capture_default_str();
  sub->add_option("--models-max", o->server.models_max, "models resident at once")->capture_default_str();
  sub->add_option("--http-threads", o->server.http_threads, "HTTP worker threads (0: automatic)");
  sub->add_option("--config", o->config, "YAML file with the same settings");
  sub->callback([&run, o] { run = [o] { return run_serve(*o); }; });
}

}  // namespace minnow::cli
