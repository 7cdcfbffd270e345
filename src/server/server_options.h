// Everything `minnow serve` can be told, with defaults an operator expects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace minnow {

struct ServedModel {
  std::string path;
  std::string alias;  // the `model` field clients send; defaults to the file's stem
};

struct ServerOptions {
  std::vector<ServedModel> models;
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;
  std::vector<std::string> api_keys;
  std::string cors_origin;          // empty: CORS off
  uint32_t parallel = 4;            // slots per model
  uint32_t n_ctx = 0;               // per slot; 0: min(training, 4096)
  uint32_t max_queue = 64;
  uint32_t max_n = 4;               // most choices per request
  uint32_t http_threads = 0;        // 0: parallel + max_queue + 8
  uint64_t max_body_bytes = 8u << 20;
  int read_timeout_s = 30;          // a slow client cannot hold a thread longer
  int write_timeout_s = 60;
  int idle_timeout_s = 5;
  double request_timeout_s = 600;   // per-request deadline
  double rate_limit_rps = 0;        // per API key; 0: off
  int keep_alive_s = 300;           // unload a model idle this long; <0: never
  uint32_t models_max = 2;          // resident models at once
  double shutdown_grace_s = 10;
};

// Adds keys from --api-key-file (one per line, # comments) and MINNOW_API_KEYS
// (comma separated) to `keys`.
Status load_api_keys(const std::string& file, std::vector<std::string>& keys);

}  // namespace minnow
