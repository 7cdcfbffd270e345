// The models a server offers: loaded on first use, unloaded after sitting
// idle for the keep-alive time, at most models_max resident, and checked
// against free memory before loading.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/scheduler.h"
#include "engine/text_model.h"
#include "server/server_options.h"

namespace minnow {

// A resident model. Requests hold a shared_ptr, so it cannot unload under them.
struct LoadedModel {
  std::string alias;
  std::shared_ptr<const TextModel> text;
  std::unique_ptr<Scheduler> scheduler;  // null for embedding models
};

class ModelRegistry {
 public:
  explicit ModelRegistry(const ServerOptions& options);
  ~ModelRegistry();

  // The model called `alias` (empty: the first one), loading it if needed.
  // kInvalidArgument with field "model" when unknown (-> 404).
  Expected<std::shared_ptr<LoadedModel>> get(const std::string& alias);
  std::vector<std::string> aliases() const;
  std::vector<std::shared_ptr<LoadedModel>> resident() const;
  // Unloads models idle longer than the keep-alive time.
  void unload_idle();
  // Drains every scheduler (see Scheduler::shutdown).
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Entry {
    ServedModel spec;
    std::shared_ptr<LoadedModel> loaded;
    std::chrono::steady_clock::time_point last_used;
  };
  Expected<std::shared_ptr<LoadedModel>> load(Entry& e);
  bool idle(const Entry& e) const;
  const ServerOptions& opt_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

// Bytes the kernel says a new allocation could get (MemAvailable).
uint64_t available_memory_bytes();

}  // namespace minnow
