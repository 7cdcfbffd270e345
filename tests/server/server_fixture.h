// An in-process server on a free loopback port, serving the tiny fixture model.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "gguf/tiny_model.h"
#include "server/http_server.h"
#include "support/test_paths.h"

namespace minnow::test {

class ServerFixture {
 public:
  explicit ServerFixture(ServerOptions options = {}, bool add_model = true) {
    if (add_model) {
      const std::string path = dir_.file("tiny.gguf");
      (void)make_tiny_model({}).write(path);
      options.models.push_back({path, "tiny"});
    }
    options.port = 0;
    options.shutdown_grace_s = 2;
    server_ = std::make_unique<HttpServer>(options);
    ok_ = server_->bind().ok();
    if (ok_) thread_ = std::thread([this] { server_->serve(); });
  }
  ~ServerFixture() {
    server_->shutdown();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return ok_; }
  int port() const { return server_->port(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(60, 0);
    return c;
  }
  HttpServer& server() { return *server_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  bool ok_ = false;
};

}  // namespace minnow::test
