// Prometheus text-format metrics: counters, gauges and histograms with
// labels. Thread-safe; rendered on GET /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace minnow {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void count(const std::string& name, const Labels& labels = {}, double by = 1.0);
  void set_gauge(const std::string& name, double value, const Labels& labels = {});
  void observe(const std::string& name, double value, const Labels& labels = {});
  // Declares help text and, for histograms, bucket bounds (seconds or counts).
  void describe(const std::string& name, const std::string& type, const std::string& help,
                std::vector<double> buckets = {});

  std::string render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket, not cumulative
    uint64_t total = 0;
    double sum = 0;
  };
  struct Family {
    std::string type = "counter";
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double> values;      // rendered labels -> value
    std::map<std::string, Histogram> histograms;
  };
  static std::string render_labels(const Labels& labels);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Declares every minnow_* metric the server exports.
void describe_server_metrics(Metrics& m);

}  // namespace minnow
