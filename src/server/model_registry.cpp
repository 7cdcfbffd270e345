#include "server/model_registry.h"

#include <filesystem>
#include <fstream>

namespace minnow {

uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return UINT64_MAX;  // unknown: do not refuse
}

ModelRegistry::ModelRegistry(const ServerOptions& options) : opt_(options) {
  for (const auto& m : options.models) entries_.push_back({m, nullptr, {}});
}

ModelRegistry::~ModelRegistry() { shutdown(std::chrono::milliseconds(0)); }

std::vector<std::string> ModelRegistry::aliases() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.spec.alias);
  return out;
}

std::vector<std::shared_ptr<LoadedModel>> ModelRegistry::resident() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<LoadedModel>> out;
  for (const auto& e : entries_)
    if (e.loaded) out.push_back(e.loaded);
  return out;
}

bool ModelRegistry::idle(const Entry& e) const {
  if (!e.loaded || e.loaded.use_count() > 1) return false;  // a request holds it
  if (!e.loaded->scheduler) return true;
  const SchedulerStats s = e.loaded->scheduler->stats();
  return s.busy_slots == 0 && s.queue_depth == 0;
}

Expected<std::shared_ptr<LoadedModel>> ModelRegistry::load(Entry& e) {
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(e.spec.path, ec);
  if (ec) return io_error("cannot read the model file").with_file(e.spec.path);
  // Make room: unload idle models beyond the limit, least recently used first.
  for (;;) {
    size_t resident = 0;
    Entry* oldest = nullptr;
    for (auto& other : entries_) {
      if (!other.loaded) continue;
      ++resident;
      if (idle(other) && (!oldest || other.last_used < oldest->last_used)) oldest = &other;
    }
    if (resident < opt_.models_max) break;
    if (!oldest) return resource_limit("all " + std::to_string(opt_.models_max) + " model slots are busy; retry shortly");
    oldest->loaded.reset();
  }
  // The weights are mapped, so the page cache can hold them; still refuse
  // when they plainly cannot fit next to everything else.
  if (file_bytes > available_memory_bytes())
    return resource_limit("not enough free memory to load " + e.spec.alias);
  auto lm = std::make_shared<LoadedModel>();
  lm->alias = e.spec.alias;
  MINNOW_ASSIGN_OR_RETURN(lm->text, TextModel::load(e.spec.path));
  if (!lm->text->model().traits().encoder) {
    SchedulerOptions so;
    so.n_slots = opt_.parallel;
    so.n_ctx = opt_.n_ctx;
    so.max_queue = opt_.max_queue;
    MINNOW_ASSIGN_OR_RETURN(lm->scheduler, Scheduler::create(lm->text->model_ptr(), so));
  }
  e.loaded = lm;
  return lm;
}

Expected<std::shared_ptr<LoadedModel>> ModelRegistry::get(const std::string& alias) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = nullptr;
  for (auto& entry : entries_)
    if (alias.empty() || entry.spec.alias == alias) {
      e = &entry;
      break;
    }
  if (!e) return invalid_argument("the model '" + alias + "' does not exist").with_field("model");
  e->last_used = std::chrono::steady_clock::now();
  if (e->loaded) return e->loaded;
  return load(*e);
}

void ModelRegistry::unload_idle() {
  if (opt_.keep_alive_s < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  for (auto& e : entries_)
    if (e.loaded && idle(e) && now - e.last_used > std::chrono::seconds(opt_.keep_alive_s)) e.loaded.reset();
}

void ModelRegistry::shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<LoadedModel>> models = resident();
  for (auto& m : models)
    if (m->scheduler) m->scheduler->shutdown(grace);
}

}  // namespace minnow
