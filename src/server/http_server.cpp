#include "server/http_server.h"

#include <sys/socket.h>

#include <thread>

#include "server/server_state.h"

namespace minnow {

std::string dump_json(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param, const std::string& code) {
  nlohmann::json err = {{"message", message},
                        {"type", type},
                        {"param", param.empty() ? nlohmann::json() : nlohmann::json(param)},
                        {"code", code.empty() ? nlohmann::json() : nlohmann::json(code)}};
  res.status = status;
  res.set_content(dump_json(nlohmann::json{{"error", err}}), "application/json");
}

void send_error(httplib::Response& res, const Error& e) {
  switch (e.code()) {
    case ErrorCode::kResourceLimit:
      res.set_header("Retry-After", "1");
      send_error(res, 503, e.message(), "server_error", e.field(), "overloaded");
      return;
    case ErrorCode::kUnsupported:
      send_error(res, 400, e.message(), "invalid_request_error", e.field(), "unsupported_parameter");
      return;
    case ErrorCode::kIo: case ErrorCode::kCorrupt: case ErrorCode::kInternal:
      send_error(res, 500, e.to_string(), "server_error");
      return;
    default:
      if (e.field() == "model" && e.message().find("does not exist") != std::string::npos) {
        send_error(res, 404, e.message(), "invalid_request_error", "model", "model_not_found");
        return;
      }
      send_error(res, 400, e.message(), "invalid_request_error", e.field(), "invalid_value");
  }
}

class ServerImpl {
 public:
  httplib::Server svr;
  std::thread reaper;
};

namespace {

// Route label for metrics: known paths only, so clients cannot blow up the label set.
std::string route_label(const std::string& path) {
  for (const char* known : {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/health",
                            "/metrics"})
    if (path == known) return known;
  return "other";
}

}  // namespace

HttpServer::HttpServer(ServerOptions options)
    : state_(std::make_unique<ServerState>(std::move(options))), impl_(std::make_unique<ServerImpl>()) {}

HttpServer::~HttpServer() {
  shutdown();
  if (impl_->reaper.joinable()) impl_->reaper.join();
}

Status HttpServer::bind() {
  ServerState& st = *state_;
  const ServerOptions& o = st.options;
  httplib::Server& svr = impl_->svr;
  describe_server_metrics(st.metrics);
  const uint32_t threads = o.http_threads ? o.http_threads : o.parallel * std::max(1u, o.max_n) + o.max_queue + 8;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(o.max_body_bytes);
  svr.set_read_timeout(o.read_timeout_s, 0);
  svr.set_write_timeout(o.write_timeout_s, 0);
  svr.set_keep_alive_timeout(o.idle_timeout_s);
  svr.set_keep_alive_max_count(1000);

  svr.set_pre_routing_handler([&st](const httplib::Request& req, httplib::Response& res) {
    if (!st.options.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", st.options.cors_origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      if (req.method == "OPTIONS") {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (st.keys.enabled() && !st.keys.allows(req.get_header_value("Authorization"))) {
      send_error(res, 401, "Incorrect or missing API key (send 'Authorization: Bearer KEY').",
                 "invalid_request_error", "", "invalid_api_key");
      return httplib::Server::HandlerResponse::Handled;
    }
    double retry = 0;
    if (!st.limiter.admit(req.get_header_value("Authorization"), retry)) {
      res.set_header("Retry-After", std::to_string(int(retry) + 1));
      send_error(res, 429, "Rate limit reached for this API key.", "rate_limit_error", "", "rate_limit_exceeded");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (st.shutting_down && req.method == "POST") {
      res.set_header("Retry-After", "5");
      send_error(res, 503, "The server is shutting down.", "server_error", "", "shutting_down");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib raises itself (unknown route, body too large) get OpenAI bodies too.
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "No route " + req.method + " " + req.path + ".", "invalid_request_error", "", "not_found");
    else if (res.status == 413) send_error(res, 413, "The request body is too large.", "invalid_request_error", "", "payload_too_large");
    else send_error(res, res.status, "Bad request.", "invalid_request_error");
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      std::rethrow_exception(ep);
    } catch (const nlohmann::json::exception& e) {
      send_error(res, 400, std::string("invalid request: ") + e.what(), "invalid_request_error");
      return;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, 500, what, "server_error");
  });
  svr.set_logger([&st](const httplib::Request& req, const httplib::Response& res) {
    st.metrics.count("minnow_requests_total", {{"route", route_label(req.path)}, {"status", std::to_string(res.status)}});
  });
  register_generation_routes(svr, st);
  register_info_routes(svr, st);

  // Debian's cpp-httplib listens with a backlog of 5: a burst of clients
  // would see dropped connections. Remember the socket and widen it below.
  int listen_fd = -1;
  svr.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    if (listen_fd < 0) listen_fd = sock;
  });
  if (o.port == 0) {
    port_ = svr.bind_to_any_port(o.host);
    if (port_ <= 0) return io_error("cannot bind " + o.host);
  } else {
    if (!svr.bind_to_port(o.host, o.port)) return io_error("cannot bind " + o.host + ":" + std::to_string(o.port));
    port_ = o.port;
  }
  if (listen_fd >= 0) ::listen(listen_fd, 1024);  // re-listening only resizes the queue
  impl_->reaper = std::thread([this] {
    while (!state_->shutting_down) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      state_->registry.unload_idle();
    }
  });
  return Status::success();
}

void HttpServer::serve() { impl_->svr.listen_after_bind(); }

void HttpServer::shutdown() {
  if (state_->shutting_down.exchange(true)) return;
  const auto grace = std::chrono::milliseconds(int64_t(state_->options.shutdown_grace_s * 1000));
  state_->registry.shutdown(grace);  // finishes or cancels every generation
  impl_->svr.stop();
}

}  // namespace minnow
