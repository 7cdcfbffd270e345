#include "server/metrics.h"

#include <cstdio>

namespace minnow {
namespace {

std::string fmt_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string Metrics::render_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i)
    out += (i ? "," : "") + labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
  return out + "}";
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help,
                       std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = type;
  f.help = help;
  f.buckets = std::move(buckets);
}

void Metrics::count(const std::string& name, const Labels& labels, double by) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].values[render_labels(labels)] += by;
}

void Metrics::set_gauge(const std::string& name, double value, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = "gauge";
  f.values[render_labels(labels)] = value;
}

void Metrics::observe(const std::string& name, double value, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  Histogram& h = f.histograms[render_labels(labels)];
  if (h.counts.empty()) h.counts.assign(f.buckets.size(), 0);
  for (size_t i = 0; i < f.buckets.size(); ++i)
    if (value <= f.buckets[i]) {
      ++h.counts[i];
      break;
    }
  ++h.total;
  h.sum += value;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.values) out += name + labels + " " + fmt_number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      // Bucket lines carry the family's labels plus le.
      const std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2) + ",";
      uint64_t cum = 0;
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        cum += h.counts[i];
        out += name + "_bucket{" + inner + "le=\"" + fmt_number(f.buckets[i]) + "\"} " + std::to_string(cum) + "\n";
      }
      out += name + "_bucket{" + inner + "le=\"+Inf\"} " + std::to_string(h.total) + "\n";
      out += name + "_sum" + labels + " " + fmt_number(h.sum) + "\n";
      out += name + "_count" + labels + " " + std::to_string(h.total) + "\n";
    }
  }
  return out;
}

void describe_server_metrics(Metrics& m) {
  const std::vector<double> latency = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  m.describe("minnow_requests_total", "counter", "HTTP requests by route and status code.");
  m.describe("minnow_prompt_tokens_total", "counter", "Prompt tokens processed.");
  m.describe("minnow_generated_tokens_total", "counter", "Tokens generated.");
  m.describe("minnow_time_to_first_token_seconds", "histogram", "From request arrival to the first token.", latency);
  m.describe("minnow_time_per_output_token_seconds", "histogram", "Mean gap between output tokens of a request.",
             {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
  m.describe("minnow_request_duration_seconds", "histogram", "End-to-end latency of generation requests.", latency);
  m.describe("minnow_queue_time_seconds", "histogram", "Time a request waited for a slot.", latency);
  m.describe("minnow_queue_depth", "gauge", "Requests waiting for a slot.");
  m.describe("minnow_busy_slots", "gauge", "Slots generating or prefilling.");
  m.describe("minnow_kv_cache_usage_ratio", "gauge", "Fraction of KV cache positions held by busy slots.");
  m.describe("minnow_prefix_cache_hit_ratio", "gauge", "Prompt tokens served from the prefix cache / all prompt tokens.");
}

}  // namespace minnow
