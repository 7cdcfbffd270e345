// `minnow serve`: the OpenAI-compatible HTTP server.
#pragma once

#include <memory>

#include "base/status.h"
#include "server/server_options.h"

namespace minnow {

struct ServerState;

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();

  // Binds the socket (port 0 picks a free one). Models load on first use.
  Status bind();
  int port() const { return port_; }
  // Serves until shutdown(); returns after in-flight work drained.
  void serve();
  // Stop accepting, let running requests finish within the grace period,
  // then stop. Safe from any thread.
  void shutdown();

 private:
  std::unique_ptr<ServerState> state_;
  std::unique_ptr<class ServerImpl> impl_;
  int port_ = 0;
};

}  // namespace minnow
