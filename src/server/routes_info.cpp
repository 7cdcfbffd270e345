// GET /v1/models, /health, /metrics and POST /v1/embeddings.
#include <chrono>

#include "server/request_parse.h"
#include "server/server_state.h"

namespace minnow {
namespace {

std::string base64(const std::vector<float>& v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size() * sizeof(float);
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b = uint32_t(p[i]) << 16 | (i + 1 < n ? uint32_t(p[i + 1]) << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += kAlphabet[(b >> 18) & 63];
    out += kAlphabet[(b >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[b & 63] : '=';
  }
  return out;
}

void update_gauges(ServerState& st) {
  uint64_t busy = 0, queued = 0, used = 0, capacity = 0, prompt = 0, cached = 0;
  for (const auto& lm : st.registry.resident()) {
    if (!lm->scheduler) continue;
    const SchedulerStats s = lm->scheduler->stats();
    busy += s.busy_slots;
    queued += s.queue_depth;
    used += s.kv_tokens_used;
    capacity += s.kv_tokens_capacity;
    prompt += s.prompt_tokens;
    cached += s.cached_prompt_tokens;
  }
  st.metrics.set_gauge("minnow_busy_slots", double(busy));
  st.metrics.set_gauge("minnow_queue_depth", double(queued));
  st.metrics.set_gauge("minnow_kv_cache_usage_ratio", capacity ? double(used) / double(capacity) : 0.0);
  st.metrics.set_gauge("minnow_prefix_cache_hit_ratio", prompt ? double(cached) / double(prompt) : 0.0);
}

}  // namespace

void register_info_routes(httplib::Server& svr, ServerState& st) {
  svr.Get("/v1/models", [&st](const httplib::Request&, httplib::Response& res) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& alias : st.registry.aliases())
      data.push_back({{"id", alias}, {"object", "model"}, {"created", 0}, {"owned_by", "minnow"}});
    res.set_content(dump_json(nlohmann::json{{"object", "list"}, {"data", data}}), "application/json");
  });
  svr.Get("/health", [&st](const httplib::Request&, httplib::Response& res) {
    // Liveness of the engine, not only of the socket: every loaded
    // scheduler must have its worker running.
    nlohmann::json models = nlohmann::json::array();
    bool ok = !st.shutting_down;
    for (const auto& lm : st.registry.resident()) {
      const bool alive = !lm->scheduler || lm->scheduler->healthy();
      ok &= alive;
      nlohmann::json m = {{"model", lm->alias}, {"status", alive ? "ok" : "stopped"}};
      if (lm->scheduler) {
        const SchedulerStats s = lm->scheduler->stats();
        m["busy_slots"] = s.busy_slots;
        m["queue_depth"] = s.queue_depth;
      }
      models.push_back(m);
    }
    res.status = ok ? 200 : 503;
    res.set_content(dump_json(nlohmann::json{{"status", ok ? "ok" : "unavailable"}, {"loaded", models}}),
                    "application/json");
  });
  svr.Get("/metrics", [&st](const httplib::Request&, httplib::Response& res) {
    update_gauges(st);
    res.set_content(st.metrics.render(), "text/plain; version=0.0.4");
  });
  svr.Post("/v1/embeddings", [&st](const httplib::Request& req, httplib::Response& res) {
    auto spec = parse_embedding_request(req.body);
    if (!spec.ok()) return send_error(res, spec.error());
    auto lm = st.registry.get(spec->model);
    if (!lm.ok()) return send_error(res, lm.error());
    const TextModel& tm = *(*lm)->text;
    if (!tm.model().traits().encoder)
      return send_error(res, 400, "the model '" + (*lm)->alias + "' does not make embeddings", "invalid_request_error",
                        "model", "model_not_supported");
    std::vector<std::vector<int32_t>> inputs = spec->token_inputs;
    for (const auto& text : spec->texts) {
      auto ids = tm.tokenize(text);
      if (!ids.ok()) return send_error(res, ids.error());
      inputs.push_back(std::move(*ids));
    }
    auto ctx = InferenceContext::create(tm.model_ptr(), {});
    if (!ctx.ok()) return send_error(res, ctx.error());
    nlohmann::json data = nlohmann::json::array();
    uint64_t tokens = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto v = (*ctx)->embed(inputs[i]);
      if (!v.ok()) return send_error(res, 400, v.error().message(), "invalid_request_error", "input");
      tokens += inputs[i].size();
      data.push_back({{"object", "embedding"},
                      {"index", i},
                      {"embedding", spec->base64 ? nlohmann::json(base64(*v)) : nlohmann::json(*v)}});
    }
    res.set_content(dump_json(nlohmann::json{{"object", "list"},
                                             {"data", data},
                                             {"model", (*lm)->alias},
                                             {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}),
                    "application/json");
  });
}

}  // namespace minnow
