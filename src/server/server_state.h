// What every route handler shares, and the OpenAI-shaped error replies.
#pragma once

#include <atomic>
#include <httplib.h>
#include <string>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/server_options.h"

namespace minnow {

struct ServerState {
  explicit ServerState(ServerOptions o)
      : options(std::move(o)), registry(options), keys(options.api_keys), limiter(options.rate_limit_rps) {}
  ServerOptions options;
  ModelRegistry registry;
  Metrics metrics;
  ApiKeyCheck keys;
  RateLimiter limiter;
  std::atomic<bool> shutting_down{false};
};

// {"error":{"message","type","param","code"}} with the given HTTP status.
void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param = "", const std::string& code = "");
// Maps a minnow Error to its HTTP status and OpenAI error type.
void send_error(httplib::Response& res, const Error& e);
// JSON that stays valid whatever bytes the model produced.
std::string dump_json(const nlohmann::json& j);
std::string dump_json(const nlohmann::ordered_json& j);

void register_generation_routes(httplib::Server& svr, ServerState& state);
void register_info_routes(httplib::Server& svr, ServerState& state);

}  // namespace minnow
